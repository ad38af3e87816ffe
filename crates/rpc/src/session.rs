//! A JSON-RPC session: a connection that survives its connections.
//!
//! A reliable session ([`Session::open`]) connects to an active name,
//! reconnects with backoff when the connection drops and probes an idle
//! peer with `echo`; an unreliable one ([`Session::accepted`]) wraps a
//! connection a server accepted, probes it, and ends with it. Both answer
//! the peer's `echo` requests and swallow replies to their own probes, so
//! the owner sees only its protocol's messages. OVS counterpart:
//! `jsonrpc_session`.
//!
//! The owner drives it with [`Session::next_event`] (cancel-safe between
//! events) and [`Session::send`].

use crate::address::{ActiveAddr, AddressError};
use crate::connection::{Connection, ConnectionError};
use crate::errno;
use crate::message::{Message, ECHO_ID};
use crate::reconnect::{Action, Cause, Reconnect};
use crate::stream;
use serde_json::Value;
use std::time::Duration;
use tokio::time::Instant;

/// What happened on a session.
#[derive(Debug, Clone, PartialEq)]
pub enum SessionEvent {
    /// A connection came up: send initial requests (monitors, locks) now.
    Connected,
    /// A message from the peer (never an echo request or probe reply).
    Message(Message),
    /// The connection went down; a reliable session will reconnect.
    Disconnected,
    /// An unreliable session's connection is gone for good.
    Closed,
}

/// What a session last reported about itself (for status columns such as
/// the Manager table's `is_connected` and `status`).
#[derive(Debug, Clone, PartialEq)]
pub struct SessionStatus {
    /// Upstream's name of the reconnect state (`ACTIVE`, `BACKOFF`, ...).
    pub state: &'static str,
    pub connected: bool,
    /// When the last connection came up, if ever.
    pub last_connected: Option<Instant>,
    /// When the last connection went down, if ever.
    pub last_disconnected: Option<Instant>,
}

/// A reconnecting (or accepted) JSON-RPC session.
pub struct Session {
    name: String,
    remote: Option<ActiveAddr>,
    fsm: Reconnect,
    conn: Option<Connection>,
    epoch: Instant,
    last_received: u64,
    closed: bool,
    status: Option<std::sync::Arc<std::sync::Mutex<SessionStatus>>>,
    /// DSCP marking of the TCP connections this session makes.
    dscp: Option<u8>,
}

fn ms_since(epoch: Instant) -> u64 {
    Instant::now().saturating_duration_since(epoch).as_millis() as u64
}

impl Session {
    /// A reliable session to `name` (`tcp:`, `unix:`, `ssl:`), connecting at
    /// the first `next_event`.
    pub fn open(name: &str, default_port: Option<u16>) -> Result<Session, AddressError> {
        let addr = ActiveAddr::parse(name, default_port)?;
        let epoch = Instant::now();
        let mut fsm = Reconnect::new(name, 0);
        fsm.enable(0);
        Ok(Session {
            name: name.to_string(),
            remote: Some(addr),
            fsm,
            conn: None,
            epoch,
            last_received: 0,
            closed: false,
            status: None,
            dscp: None,
        })
    }

    /// An unreliable session over a connection a listener accepted; it
    /// probes the peer and ends when the connection ends.
    pub fn accepted(conn: Connection) -> Session {
        let epoch = Instant::now();
        let mut fsm = Reconnect::new(conn.name().to_string(), 0);
        fsm.set_quiet(true);
        fsm.set_max_tries(Some(0));
        fsm.connected(0);
        Session {
            name: conn.name().to_string(),
            remote: None,
            fsm,
            conn: Some(conn),
            epoch,
            last_received: 0,
            closed: false,
            status: None,
            dscp: None,
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// From now on, keeps `sink` up to date with the session's state.
    pub fn set_status_sink(&mut self, sink: std::sync::Arc<std::sync::Mutex<SessionStatus>>) {
        self.status = Some(sink);
        self.publish();
    }

    fn publish(&self) {
        let Some(sink) = &self.status else { return };
        let at = |ms: Option<u64>| ms.map(|ms| self.epoch + Duration::from_millis(ms));
        let status = SessionStatus {
            state: self.fsm.state().name(),
            connected: self.is_connected(),
            last_connected: at(self.fsm.last_connected()),
            last_disconnected: at(self.fsm.last_disconnected()),
        };
        *sink.lock().unwrap_or_else(|e| e.into_inner()) = status;
    }

    /// Sets the inactivity probe interval (0 disables probes).
    pub fn set_probe_interval(&mut self, ms: u64) {
        self.fsm.set_probe_interval(ms);
    }

    /// Marks the TCP traffic of the connections made from now on with
    /// `dscp` (an accepted session's marking comes from its listener).
    pub fn set_dscp(&mut self, dscp: u8) {
        self.dscp = Some(dscp);
    }

    /// Sets the maximum backoff between connection attempts.
    pub fn set_max_backoff(&mut self, ms: u64) {
        let min = self.fsm.min_backoff();
        self.fsm.set_backoff(min, ms);
    }

    /// Sets both backoff bounds.
    pub fn set_backoff(&mut self, min_ms: u64, max_ms: u64) {
        self.fsm.set_backoff(min_ms, max_ms);
    }

    pub fn is_connected(&self) -> bool {
        self.conn.is_some() && self.fsm.is_connected()
    }

    /// False once an unreliable session has lost its connection.
    pub fn is_alive(&self) -> bool {
        !self.closed
    }

    /// Changes each time the session connects or disconnects.
    pub fn seqno(&self) -> u32 {
        self.fsm.seqno()
    }

    /// The reconnection state machine (for status reporting).
    pub fn reconnect(&self) -> &Reconnect {
        &self.fsm
    }

    /// Bytes queued on the current connection.
    pub fn backlog(&self) -> usize {
        self.conn.as_ref().map_or(0, Connection::backlog)
    }

    /// Queues `msg` if connected; returns false (and drops it) otherwise,
    /// as upstream does.
    pub fn send(&mut self, msg: &Message) -> bool {
        match &mut self.conn {
            Some(c) => {
                c.queue(msg);
                true
            }
            None => false,
        }
    }

    /// Writes queued messages now.
    pub async fn flush(&mut self) {
        if let Some(c) = &mut self.conn {
            if let Err(e) = c.flush().await {
                self.drop_connection(Self::cause(&e));
            }
        }
    }

    /// Drops the connection and reconnects (reliable sessions).
    pub fn force_reconnect(&mut self) {
        let now = ms_since(self.epoch);
        self.fsm.force_reconnect(now);
    }

    fn cause(e: &ConnectionError) -> Cause {
        match e {
            ConnectionError::Eof => Cause::Eof,
            ConnectionError::Protocol(_) => Cause::Error(errno::strerror(libc::EPROTO)),
            ConnectionError::Io(e) => Cause::Error(errno::io_error_text(e)),
        }
    }

    fn drop_connection(&mut self, cause: Cause) -> SessionEvent {
        let now = ms_since(self.epoch);
        self.conn = None;
        self.fsm.disconnected(now, cause);
        if self.remote.is_none() {
            self.closed = true;
            SessionEvent::Closed
        } else {
            SessionEvent::Disconnected
        }
    }

    /// Waits for the next event, connecting, probing and reconnecting as
    /// needed. An unreliable session returns `Closed` once and then forever.
    pub async fn next_event(&mut self) -> SessionEvent {
        let event = self.next_event_inner().await;
        self.publish();
        event
    }

    async fn next_event_inner(&mut self) -> SessionEvent {
        loop {
            self.publish();
            if self.closed {
                return SessionEvent::Closed;
            }
            let now = ms_since(self.epoch);
            match self.fsm.run(now) {
                Some(Action::Connect) => {
                    if let Some(addr) = self.remote.clone() {
                        self.fsm.connecting(now);
                        let limit = Duration::from_millis(self.fsm.timeout(now).unwrap_or(1000));
                        match tokio::time::timeout(
                            limit,
                            stream::connect_with_dscp(&addr, self.dscp),
                        )
                        .await
                        {
                            Ok(Ok(s)) => {
                                let now = ms_since(self.epoch);
                                self.conn = Some(Connection::new(s, self.name.clone()));
                                self.last_received = 0;
                                self.fsm.connected(now);
                                return SessionEvent::Connected;
                            }
                            Ok(Err(e)) => {
                                let now = ms_since(self.epoch);
                                self.fsm.connect_failed(now, errno::io_error_text(&e));
                            }
                            Err(_) => {
                                let now = ms_since(self.epoch);
                                self.fsm.disconnected(now, Cause::Local);
                            }
                        }
                    }
                    continue;
                }
                Some(Action::Disconnect) => {
                    if self.conn.is_some() || self.remote.is_none() {
                        return self.drop_connection(Cause::Local);
                    }
                    self.fsm.disconnected(now, Cause::Local);
                    continue;
                }
                Some(Action::Probe) => {
                    if let Some(c) = &mut self.conn {
                        c.queue(&Message::echo_probe());
                    }
                }
                None => {}
            }
            let wait = self
                .fsm
                .timeout(ms_since(self.epoch))
                .map(Duration::from_millis)
                .unwrap_or(Duration::from_secs(3600));
            let Some(conn) = &mut self.conn else {
                tokio::time::sleep(wait).await;
                continue;
            };
            let result = tokio::select! {
                r = conn.recv() => Some(r),
                _ = tokio::time::sleep(wait) => None,
            };
            let Some(result) = result else { continue };
            match result {
                Ok(msg) => {
                    let now = ms_since(self.epoch);
                    self.fsm.activity(now);
                    match msg {
                        Message::Request { method, params, id } if method == "echo" => {
                            if let Some(c) = &mut self.conn {
                                c.queue(&Message::reply(Value::Array(params), id));
                            }
                        }
                        Message::Reply { id, .. } if id == Value::from(ECHO_ID) => {}
                        other => return SessionEvent::Message(other),
                    }
                }
                Err(e) => {
                    let cause = Self::cause(&e);
                    return self.drop_connection(cause);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::address::PassiveAddr;
    use crate::stream::Listener;
    use serde_json::json;

    #[tokio::test]
    async fn reconnects_and_answers_echo() {
        let l = Listener::bind(&PassiveAddr::Tcp("127.0.0.1:0".parse().unwrap()))
            .await
            .unwrap();
        let port = l.local_tcp_addr().unwrap().port();
        let mut s = Session::open(&format!("tcp:127.0.0.1:{port}"), None).unwrap();
        s.set_probe_interval(0);
        let server = tokio::spawn(async move {
            // First connection: ask for an echo, then hang up.
            let (st, name) = l.accept().await.unwrap();
            let mut c = Connection::new(st, name);
            c.send(&Message::Request {
                method: "echo".into(),
                params: vec![json!(1)],
                id: json!("e"),
            })
            .await
            .unwrap();
            let r = c.recv().await.unwrap();
            assert_eq!(r, Message::reply(json!([1]), json!("e")));
            drop(c);
            // Second connection: send a notification.
            let (st, name) = l.accept().await.unwrap();
            let mut c = Connection::new(st, name);
            c.send(&Message::notify("hello", vec![])).await.unwrap();
            let _ = c.recv().await;
        });
        assert_eq!(s.next_event().await, SessionEvent::Connected);
        assert_eq!(s.next_event().await, SessionEvent::Disconnected);
        assert!(!s.is_connected());
        assert!(!s.send(&Message::notify("x", vec![])));
        assert_eq!(s.next_event().await, SessionEvent::Connected);
        assert_eq!(
            s.next_event().await,
            SessionEvent::Message(Message::notify("hello", vec![]))
        );
        drop(s);
        server.await.unwrap();
    }

    #[tokio::test]
    async fn accepted_session_closes_for_good() {
        let (a, b) = tokio::io::duplex(1024);
        let mut s = Session::accepted(Connection::new(Box::new(a), "unix#0"));
        assert!(s.is_connected());
        drop(b);
        assert_eq!(s.next_event().await, SessionEvent::Closed);
        assert!(!s.is_alive());
        assert_eq!(s.next_event().await, SessionEvent::Closed);
    }

    // With tokio's paused clock, time advances only when every task waits:
    // these run the real probe timers deterministically.
    #[tokio::test(start_paused = true)]
    async fn silent_peer_is_probed_then_dropped() {
        let (a, mut b) = tokio::io::duplex(4096);
        let mut s = Session::accepted(Connection::new(Box::new(a), "unix#1"));
        assert_eq!(s.next_event().await, SessionEvent::Closed);
        let mut seen = Vec::new();
        tokio::io::AsyncReadExt::read_to_end(&mut b, &mut seen)
            .await
            .unwrap();
        assert_eq!(
            String::from_utf8(seen).unwrap(),
            r#"{"id":"echo","method":"echo","params":[]}"#
        );
    }

    #[tokio::test(start_paused = true)]
    async fn answering_probes_keeps_the_session() {
        let (a, b) = tokio::io::duplex(4096);
        let mut s = Session::accepted(Connection::new(Box::new(a), "unix#2"));
        let peer = tokio::spawn(async move {
            let mut c = Connection::new(Box::new(b), "peer");
            let mut answered = 0;
            while let Ok(m) = c.recv().await {
                if let Message::Request { method, params, id } = m {
                    assert_eq!(method, "echo");
                    if c.send(&Message::reply(Value::Array(params), id))
                        .await
                        .is_err()
                    {
                        break; // the session was dropped
                    }
                    answered += 1;
                }
            }
            answered
        });
        // A minute of virtual time: probes every 5 s, all answered.
        let r = tokio::time::timeout(Duration::from_secs(60), s.next_event()).await;
        assert!(r.is_err(), "session ended: {r:?}");
        assert!(s.is_connected());
        drop(s);
        assert!(peer.await.unwrap() >= 5);
    }
}
