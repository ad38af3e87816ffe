//! The reconnection state machine: when to connect, how long to back off,
//! when to probe an idle connection and when to give up on it.
//!
//! It owns no socket and reads no clock: every call takes `now` in
//! milliseconds, so its behaviour is deterministic and testable with a fake
//! clock. The owner performs what [`Reconnect::run`] asks for and reports
//! back with [`Reconnect::connecting`], [`Reconnect::connected`],
//! [`Reconnect::connect_failed`], [`Reconnect::disconnected`] and
//! [`Reconnect::activity`].
//!
//! Behaviour follows OVS's lib/reconnect: backoff starts at `min_backoff`
//! (1 s), doubles up to `max_backoff` (8 s), and resets when a connection
//! stayed up at least as long as the backoff; an ACTIVE connection idle for
//! `probe_interval` (5 s) goes IDLE and a probe is sent; IDLE for another
//! interval means the peer is gone. Log lines are upstream's (module
//! `reconnect`).

/// What the owner should do now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Start a connection attempt (or start listening, when passive).
    Connect,
    /// Drop the connection (or the attempt).
    Disconnect,
    /// Send an inactivity probe (a JSON-RPC "echo", an OpenFlow echo).
    Probe,
}

/// The states of lib/reconnect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Disabled, or out of tries.
    Void,
    /// Waiting before the next attempt.
    Backoff,
    /// An attempt is in progress.
    Connecting,
    /// Connected, traffic seen recently.
    Active,
    /// Connected, probe sent, waiting for any traffic.
    Idle,
    /// Asked to reconnect: the connection is dropped at once.
    Reconnect,
    /// Passive: listening for a peer.
    Listening,
}

impl State {
    /// Upstream's state names (as in `reconnect_get_stats`).
    pub fn name(self) -> &'static str {
        match self {
            State::Void => "VOID",
            State::Backoff => "BACKOFF",
            State::Connecting => "CONNECTING",
            State::Active => "ACTIVE",
            State::Idle => "IDLE",
            State::Reconnect => "RECONNECT",
            State::Listening => "LISTENING",
        }
    }
}

/// Default minimum backoff, in ms.
pub const DEFAULT_MIN_BACKOFF: u64 = 1000;
/// Default maximum backoff, in ms.
pub const DEFAULT_MAX_BACKOFF: u64 = 8000;
/// Default inactivity probe interval, in ms.
pub const DEFAULT_PROBE_INTERVAL: u64 = 5000;

/// Why a connection ended, for the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cause {
    /// Closed cleanly by the peer.
    Eof,
    /// An error, with its text.
    Error(String),
    /// Our own decision (probe timeout, reconfiguration).
    Local,
}

/// The state machine of one connection.
#[derive(Debug, Clone)]
pub struct Reconnect {
    name: String,
    min_backoff: u64,
    max_backoff: u64,
    probe_interval: u64,
    passive: bool,
    state: State,
    state_entered: u64,
    backoff: u64,
    last_activity: u64,
    last_connected: Option<u64>,
    last_disconnected: Option<u64>,
    max_tries: Option<u32>,
    backoff_free_tries: u32,
    n_attempted_connections: u32,
    n_successful_connections: u32,
    total_connected_duration: u64,
    seqno: u32,
    quiet: bool,
}

fn fmt_secs(ms: u64) -> String {
    // Like C's "%.3g" for the values that occur here.
    let secs = ms as f64 / 1000.0;
    if secs >= 1000.0 || ms % 1000 == 0 {
        format!("{}", (secs.round()) as u64)
    } else {
        let digits = if secs >= 100.0 {
            0
        } else if secs >= 10.0 {
            1
        } else if secs >= 1.0 {
            2
        } else {
            3
        };
        let s = format!("{secs:.digits$}");
        let s = s.trim_end_matches('0');
        s.trim_end_matches('.').to_string()
    }
}

impl Reconnect {
    /// A disabled machine with the defaults (1 s / 8 s backoff, 5 s probes).
    pub fn new(name: impl Into<String>, now: u64) -> Reconnect {
        Reconnect {
            name: name.into(),
            min_backoff: DEFAULT_MIN_BACKOFF,
            max_backoff: DEFAULT_MAX_BACKOFF,
            probe_interval: DEFAULT_PROBE_INTERVAL,
            passive: false,
            state: State::Void,
            state_entered: now,
            backoff: 0,
            last_activity: now,
            last_connected: None,
            last_disconnected: None,
            max_tries: None,
            backoff_free_tries: 0,
            n_attempted_connections: 0,
            n_successful_connections: 0,
            total_connected_duration: 0,
            seqno: 0,
            quiet: false,
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn set_name(&mut self, name: impl Into<String>) {
        self.name = name.into();
    }

    /// Logs connection events at DBG instead of INFO (upstream's "quiet").
    pub fn set_quiet(&mut self, quiet: bool) {
        self.quiet = quiet;
    }

    fn info(&self, args: std::fmt::Arguments<'_>) {
        if self.quiet {
            vlog::log_at("reconnect", vlog::Level::Dbg, args);
        } else {
            vlog::log_at("reconnect", vlog::Level::Info, args);
        }
    }

    /// Sets the backoff range in ms (min at least 1000 as upstream, max at
    /// least min).
    pub fn set_backoff(&mut self, min_backoff: u64, max_backoff: u64) {
        self.min_backoff = min_backoff.max(1000);
        self.max_backoff = max_backoff.max(self.min_backoff);
        if self.state == State::Backoff && self.backoff > self.max_backoff {
            self.backoff = self.max_backoff;
        }
    }

    pub fn min_backoff(&self) -> u64 {
        self.min_backoff
    }

    pub fn max_backoff(&self) -> u64 {
        self.max_backoff
    }

    /// Sets the inactivity probe interval in ms; 0 disables probing, other
    /// values below 1000 become 1000 (as upstream).
    pub fn set_probe_interval(&mut self, ms: u64) {
        self.probe_interval = if ms == 0 { 0 } else { ms.max(1000) };
    }

    pub fn probe_interval(&self) -> u64 {
        self.probe_interval
    }

    /// Limits the number of connection attempts (`None`: unlimited).
    pub fn set_max_tries(&mut self, tries: Option<u32>) {
        self.max_tries = tries;
    }

    /// The next `tries` attempts happen without backoff.
    pub fn set_backoff_free_tries(&mut self, tries: u32) {
        self.backoff_free_tries = tries;
    }

    /// Passive mode: `Connect` means "start listening".
    pub fn set_passive(&mut self, passive: bool, now: u64) {
        if self.passive != passive {
            self.passive = passive;
            if (passive && matches!(self.state, State::Connecting | State::Reconnect))
                || (!passive && self.state == State::Listening && self.may_retry())
            {
                self.transition(now, State::Backoff);
                self.backoff = 0;
            }
        }
    }

    pub fn is_passive(&self) -> bool {
        self.passive
    }

    pub fn state(&self) -> State {
        self.state
    }

    /// Current backoff in ms.
    pub fn backoff(&self) -> u64 {
        self.backoff
    }

    /// Changes whenever the connection comes up or goes down.
    pub fn seqno(&self) -> u32 {
        self.seqno
    }

    pub fn is_enabled(&self) -> bool {
        self.state != State::Void || self.max_tries != Some(0)
    }

    /// Connected (ACTIVE or IDLE).
    pub fn is_connected(&self) -> bool {
        matches!(self.state, State::Active | State::Idle)
    }

    /// Milliseconds the current connection has been up.
    pub fn connection_duration(&self, now: u64) -> Option<u64> {
        match (self.is_connected(), self.last_connected) {
            (true, Some(t)) => Some(now.saturating_sub(t)),
            _ => None,
        }
    }

    pub fn n_attempted_connections(&self) -> u32 {
        self.n_attempted_connections
    }

    pub fn n_successful_connections(&self) -> u32 {
        self.n_successful_connections
    }

    /// When the last connection came up (even if it is down now).
    pub fn last_connected(&self) -> Option<u64> {
        self.last_connected
    }

    /// Milliseconds since the last disconnection.
    pub fn last_disconnected(&self) -> Option<u64> {
        self.last_disconnected
    }

    /// Milliseconds connected in total, current connection included.
    pub fn total_connected_duration(&self, now: u64) -> u64 {
        self.total_connected_duration + self.connection_duration(now).unwrap_or(0)
    }

    fn may_retry(&mut self) -> bool {
        match &mut self.max_tries {
            None => true,
            Some(0) => false,
            Some(n) => {
                *n -= 1;
                true
            }
        }
    }

    fn transition(&mut self, now: u64, state: State) {
        if self.state == State::Connecting {
            self.n_attempted_connections += 1;
            if state == State::Active {
                self.n_successful_connections += 1;
            }
        }
        let was_connected = self.is_connected();
        let now_connected = matches!(state, State::Active | State::Idle);
        if was_connected != now_connected {
            if was_connected {
                if let Some(t) = self.last_connected {
                    self.total_connected_duration += now.saturating_sub(t);
                }
            }
            self.seqno = self.seqno.wrapping_add(1);
        }
        self.state = state;
        self.state_entered = now;
    }

    /// Turns the machine on: the first attempt is due at once.
    pub fn enable(&mut self, now: u64) {
        if self.state == State::Void && self.may_retry() {
            self.transition(now, State::Backoff);
            self.backoff = 0;
        }
    }

    /// Turns the machine off.
    pub fn disable(&mut self, now: u64) {
        if self.state != State::Void {
            self.transition(now, State::Void);
        }
    }

    /// Drops a live connection at the next `run` and connects again.
    pub fn force_reconnect(&mut self, now: u64) {
        if matches!(self.state, State::Connecting | State::Active | State::Idle) {
            self.transition(now, State::Reconnect);
        }
    }

    /// Reports that the connection (or attempt) ended.
    pub fn disconnected(&mut self, now: u64, cause: Cause) {
        if matches!(self.state, State::Backoff | State::Void) {
            return;
        }
        if self.is_connected() {
            match &cause {
                Cause::Error(e) => {
                    vlog::warn!("reconnect", "{}: connection dropped ({e})", self.name)
                }
                Cause::Eof => self.info(format_args!("{}: connection closed by peer", self.name)),
                Cause::Local => self.info(format_args!("{}: connection dropped", self.name)),
            }
        } else if self.state == State::Listening {
            match &cause {
                Cause::Error(e) => {
                    vlog::warn!(
                        "reconnect",
                        "{}: error listening for connections ({e})",
                        self.name
                    )
                }
                _ => self.info(format_args!(
                    "{}: error listening for connections",
                    self.name
                )),
            }
        } else if self.backoff < self.max_backoff {
            let kind = if self.passive { "listen" } else { "connection" };
            match &cause {
                Cause::Error(e) => {
                    self.info(format_args!("{}: {kind} attempt failed ({e})", self.name))
                }
                _ => self.info(format_args!("{}: {kind} attempt timed out", self.name)),
            }
        } else {
            let kind = if self.passive { "listen" } else { "connection" };
            match &cause {
                Cause::Error(e) => {
                    vlog::dbg!("reconnect", "{}: {kind} attempt failed ({e})", self.name)
                }
                _ => vlog::dbg!("reconnect", "{}: {kind} attempt timed out", self.name),
            }
        }

        if self.is_connected() {
            self.last_disconnected = Some(now);
        }

        if !self.may_retry() {
            self.transition(now, State::Void);
            return;
        }

        if self.backoff_free_tries > 1 {
            self.backoff_free_tries -= 1;
            self.backoff = 0;
        } else if self.is_connected()
            && (self.passive
                || self
                    .last_activity
                    .saturating_sub(self.last_connected.unwrap_or(now))
                    >= self.backoff)
        {
            self.backoff = if self.passive { 0 } else { self.min_backoff };
        } else {
            let verb = if self.passive {
                "trying to listen again"
            } else {
                "reconnect"
            };
            if self.backoff < self.min_backoff {
                self.backoff = self.min_backoff;
            } else if self.backoff < self.max_backoff / 2 {
                self.backoff *= 2;
                self.info(format_args!(
                    "{}: waiting {} seconds before {verb}",
                    self.name,
                    fmt_secs(self.backoff)
                ));
            } else {
                if self.backoff < self.max_backoff {
                    let what = if self.passive {
                        "try to listen"
                    } else {
                        "reconnect"
                    };
                    self.info(format_args!(
                        "{}: continuing to {what} in the background but suppressing further logging",
                        self.name
                    ));
                }
                self.backoff = self.max_backoff;
            }
        }
        self.transition(now, State::Backoff);
    }

    /// Reports that a connection attempt started.
    pub fn connecting(&mut self, now: u64) {
        if self.state != State::Connecting {
            if self.passive {
                self.info(format_args!("{}: listening...", self.name));
            } else if self.backoff < self.max_backoff {
                self.info(format_args!("{}: connecting...", self.name));
            }
            self.transition(now, State::Connecting);
        }
    }

    /// Reports that a passive machine is now listening.
    pub fn listening(&mut self, now: u64) {
        if self.state != State::Listening {
            self.info(format_args!("{}: listening...", self.name));
            self.transition(now, State::Listening);
        }
    }

    /// Reports that listening failed.
    pub fn listen_error(&mut self, now: u64, error: String) {
        if self.state == State::Listening {
            self.disconnected(now, Cause::Error(error));
        }
    }

    /// Reports that the connection is up.
    pub fn connected(&mut self, now: u64) {
        if !self.is_connected() {
            self.connecting(now);
            self.info(format_args!("{}: connected", self.name));
            self.transition(now, State::Active);
            self.last_connected = Some(now);
            self.last_activity = now;
        }
    }

    /// Reports that an attempt failed.
    pub fn connect_failed(&mut self, now: u64, error: String) {
        self.connecting(now);
        self.disconnected(now, Cause::Error(error));
    }

    /// Reports traffic from the peer: the connection is alive.
    pub fn activity(&mut self, now: u64) {
        if self.state != State::Active {
            self.transition(now, State::Active);
        }
        self.last_activity = now;
    }

    /// When the current state times out, in absolute ms (`None`: never).
    pub fn deadline(&self) -> Option<u64> {
        match self.state {
            State::Void | State::Listening => None,
            State::Backoff => Some(self.state_entered + self.backoff),
            State::Connecting => Some(self.state_entered + self.backoff.max(1000)),
            State::Active => (self.probe_interval > 0)
                .then(|| self.last_activity.max(self.state_entered) + self.probe_interval),
            State::Idle => {
                (self.probe_interval > 0).then(|| self.state_entered + self.probe_interval)
            }
            State::Reconnect => Some(self.state_entered),
        }
    }

    /// Milliseconds until `run` has something to do (`None`: nothing pending).
    pub fn timeout(&self, now: u64) -> Option<u64> {
        self.deadline().map(|d| d.saturating_sub(now))
    }

    /// What to do now, if anything.
    pub fn run(&mut self, now: u64) -> Option<Action> {
        let deadline = self.deadline()?;
        if now < deadline {
            return None;
        }
        match self.state {
            State::Void | State::Listening => None,
            State::Backoff => Some(Action::Connect),
            State::Connecting => Some(Action::Disconnect),
            State::Active => {
                vlog::dbg!(
                    "reconnect",
                    "{}: idle {} ms, sending inactivity probe",
                    self.name,
                    now.saturating_sub(self.last_activity.max(self.state_entered))
                );
                self.transition(now, State::Idle);
                Some(Action::Probe)
            }
            State::Idle => {
                vlog::err!(
                    "reconnect",
                    "{}: no response to inactivity probe after {} seconds, disconnecting",
                    self.name,
                    fmt_secs(now.saturating_sub(self.state_entered))
                );
                Some(Action::Disconnect)
            }
            State::Reconnect => Some(Action::Disconnect),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fail(r: &mut Reconnect, now: u64) {
        r.connect_failed(now, "Connection refused".into());
    }

    #[test]
    fn connects_at_once_when_enabled() {
        let mut r = Reconnect::new("tcp:x", 0);
        assert_eq!(r.run(0), None);
        r.enable(0);
        assert_eq!(r.state(), State::Backoff);
        assert_eq!(r.run(0), Some(Action::Connect));
    }

    #[test]
    fn backoff_doubles_to_max_then_stays() {
        let mut r = Reconnect::new("tcp:x", 0);
        r.enable(0);
        let mut now = 0;
        let mut waits = Vec::new();
        for _ in 0..7 {
            assert_eq!(r.run(now), Some(Action::Connect));
            r.connecting(now);
            fail(&mut r, now);
            let t = r.timeout(now).unwrap();
            waits.push(t);
            // Nothing to do before the deadline.
            assert_eq!(r.run(now + t - 1), None);
            now += t;
        }
        assert_eq!(waits, vec![1000, 2000, 4000, 8000, 8000, 8000, 8000]);
    }

    #[test]
    fn custom_max_backoff() {
        let mut r = Reconnect::new("tcp:x", 0);
        r.set_backoff(1000, 3000);
        r.enable(0);
        let mut now = 0;
        let mut waits = Vec::new();
        for _ in 0..4 {
            assert_eq!(r.run(now), Some(Action::Connect));
            fail(&mut r, now);
            let t = r.timeout(now).unwrap();
            waits.push(t);
            now += t;
        }
        assert_eq!(waits, vec![1000, 2000, 3000, 3000]);
    }

    #[test]
    fn probe_then_disconnect_when_idle() {
        let mut r = Reconnect::new("tcp:x", 0);
        r.enable(0);
        r.connecting(0);
        r.connected(10);
        assert!(r.is_connected());
        assert_eq!(r.run(5009), None);
        assert_eq!(r.run(5010), Some(Action::Probe));
        assert_eq!(r.state(), State::Idle);
        assert_eq!(r.run(10009), None);
        assert_eq!(r.run(10010), Some(Action::Disconnect));
        r.disconnected(10010, Cause::Local);
        assert_eq!(r.state(), State::Backoff);
        // It stayed up longer than the backoff: back to the minimum.
        assert_eq!(r.backoff(), 1000);
    }

    #[test]
    fn activity_keeps_the_connection_active() {
        let mut r = Reconnect::new("tcp:x", 0);
        r.enable(0);
        r.connected(0);
        for t in (1000..30_000).step_by(4000) {
            r.activity(t);
            assert_eq!(r.run(t), None);
        }
        assert_eq!(r.state(), State::Active);
        // After a probe, any traffic makes it active again.
        assert_eq!(r.run(29_000 + 5000), Some(Action::Probe));
        r.activity(34_500);
        assert_eq!(r.state(), State::Active);
        assert_eq!(r.run(35_000), None);
    }

    #[test]
    fn probes_can_be_disabled() {
        let mut r = Reconnect::new("tcp:x", 0);
        r.set_probe_interval(0);
        r.enable(0);
        r.connected(0);
        assert_eq!(r.deadline(), None);
        assert_eq!(r.run(1_000_000), None);
    }

    #[test]
    fn connecting_times_out() {
        let mut r = Reconnect::new("tcp:x", 0);
        r.enable(0);
        assert_eq!(r.run(0), Some(Action::Connect));
        r.connecting(0);
        assert_eq!(r.run(999), None);
        assert_eq!(r.run(1000), Some(Action::Disconnect));
        r.disconnected(1000, Cause::Local);
        assert_eq!(r.state(), State::Backoff);
    }

    #[test]
    fn short_lived_connections_keep_backing_off() {
        let mut r = Reconnect::new("tcp:x", 0);
        r.enable(0);
        fail(&mut r, 0); // backoff 1000
        assert_eq!(r.backoff(), 1000);
        r.disconnected(0, Cause::Eof); // no-op in BACKOFF
        assert_eq!(r.backoff(), 1000);
        r.connected(1000);
        r.disconnected(1100, Cause::Eof); // up for 100 ms < backoff
        assert_eq!(r.backoff(), 2000);
    }

    #[test]
    fn force_reconnect_and_seqno() {
        let mut r = Reconnect::new("tcp:x", 0);
        r.enable(0);
        let s0 = r.seqno();
        r.connected(0);
        assert_ne!(r.seqno(), s0);
        r.force_reconnect(100);
        assert_eq!(r.run(100), Some(Action::Disconnect));
        r.disconnected(100, Cause::Local);
        assert_eq!(r.state(), State::Backoff);
    }

    #[test]
    fn max_tries_ends_in_void() {
        let mut r = Reconnect::new("tcp:x", 0);
        r.set_max_tries(Some(1));
        r.enable(0);
        fail(&mut r, 0);
        assert_eq!(r.state(), State::Void);
        assert_eq!(r.run(100_000), None);
    }

    #[test]
    fn passive_listening_has_no_deadline() {
        let mut r = Reconnect::new("ptcp:6640", 0);
        r.set_passive(true, 0);
        r.enable(0);
        assert_eq!(r.run(0), Some(Action::Connect));
        r.listening(0);
        assert_eq!(r.run(1_000_000), None);
        r.connected(5);
        r.disconnected(10, Cause::Eof);
        assert_eq!(r.backoff(), 0);
    }

    #[test]
    fn seconds_format_like_c_g() {
        assert_eq!(fmt_secs(2000), "2");
        assert_eq!(fmt_secs(5000), "5");
        assert_eq!(fmt_secs(500), "0.5");
        assert_eq!(fmt_secs(1500), "1.5");
        assert_eq!(fmt_secs(5001), "5");
        assert_eq!(fmt_secs(12345), "12.3");
    }
}
