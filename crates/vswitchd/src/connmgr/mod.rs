//! The connection manager of a bridge (upstream's connmgr/rconn): the
//! management socket `punix:<rundir>/<bridge>.mgmt` that `ovs-ofctl`
//! uses, the Controller targets — active `tcp:`/`unix:` ones reconnected
//! with backoff (primary controllers), passive `ptcp:`/`punix:` ones
//! listening for peers (service controllers) — and the fail-mode rule:
//! a standalone bridge without primary controllers has a table-0
//! `priority=0 actions=NORMAL` flow, installed whenever the set of primary
//! controllers becomes empty or the fail mode changes.
//!
//! [`BridgeShared`] is what every connection of a bridge shares: the
//! [`Ofproto`], the bus of asynchronous messages, connection ids.

pub mod async_msgs;
pub mod fail_open;
pub mod in_band;
pub mod ofconn;
pub mod pinsched;
pub mod txq;

use crate::config::{ControllerConfig, FailMode};
use async_msgs::ConnKind;
use ofconn::{
    allowed_versions, serve, AsyncBus, ConnConfig, ConnEnd, ConnEvent, LiveSettings, PinLimits,
};
use ofproto::flow_mod::{FlowModCommand, FlowModReq, TABLE_ALL};
use ofproto::{ConnState, Ofproto, PacketOutRequest};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{broadcast, watch, Notify};
use tokio::task::JoinHandle;

/// Executes packet-outs (the datapath, once attached).
pub type PacketOutSink = Arc<dyn Fn(&str, PacketOutRequest) + Send + Sync>;

/// What every connection of one bridge shares.
pub struct BridgeShared {
    pub name: String,
    pub ofproto: Arc<Mutex<Ofproto>>,
    bus: AsyncBus,
    conn_seq: AtomicU64,
    xid: AtomicU32,
    /// Asks the database client to refresh status (controller state).
    pub wake: Mutex<Option<Arc<Notify>>>,
    packet_out: Mutex<Option<PacketOutSink>>,
    /// The MAC learning table NORMAL uses.
    pub mac_learning: ofproto::mac_learning::MacLearning,
    /// Per live connection: whether it wants table misses as packet-ins.
    miss_wishes: Mutex<BTreeMap<u64, bool>>,
}

impl BridgeShared {
    pub fn new(name: &str, ofproto: Ofproto) -> Arc<BridgeShared> {
        let (bus, _) = broadcast::channel(4096);
        Arc::new(BridgeShared {
            name: name.to_string(),
            ofproto: Arc::new(Mutex::new(ofproto)),
            bus,
            conn_seq: AtomicU64::new(1),
            xid: AtomicU32::new(1),
            wake: Mutex::new(None),
            packet_out: Mutex::new(None),
            mac_learning: ofproto::mac_learning::MacLearning::default(),
            miss_wishes: Mutex::new(BTreeMap::new()),
        })
    }

    /// Runs `f` on the switch, then publishes the asynchronous messages it
    /// queued.
    pub fn with_ofproto<R>(&self, f: impl FnOnce(&mut Ofproto) -> R) -> R {
        let (r, msgs) = {
            let mut o = self.ofproto.lock().unwrap_or_else(|e| e.into_inner());
            let r = f(&mut o);
            (r, o.take_async())
        };
        for m in msgs {
            // No receiver (no connection) is fine.
            let _ = self.bus.send(Arc::new(m));
        }
        r
    }

    /// The bridge's periodic timed work at the switch clock's time:
    /// expires rules (idle and hard timeouts) and aged MAC entries.
    pub fn run_timeouts(&self) {
        let now = self.with_ofproto(|o| {
            let now = o.now();
            o.run(now);
            now
        });
        self.mac_learning.run(now / 1000);
    }

    /// Records whether connection `conn_id` wants table misses as
    /// packet-ins (`None`: it closed), and tells the switch whether any
    /// connection does.
    pub fn set_miss_wish(&self, conn_id: u64, wish: Option<bool>) {
        let any = {
            let mut w = self.miss_wishes.lock().unwrap_or_else(|e| e.into_inner());
            match wish {
                Some(v) => w.insert(conn_id, v),
                None => w.remove(&conn_id),
            };
            w.values().any(|v| *v)
        };
        let mut o = self.ofproto.lock().unwrap_or_else(|e| e.into_inner());
        o.config.packet_in_on_miss = any;
    }

    /// Sends one asynchronous message to the bridge's connections.
    pub fn publish(&self, msg: ofproto::AsyncMsg) {
        let _ = self.bus.send(Arc::new(msg));
    }

    /// Runs `f` on the switch without publishing (for readers).
    pub fn with_ofproto_quiet<R>(&self, f: impl FnOnce(&Ofproto) -> R) -> R {
        let o = self.ofproto.lock().unwrap_or_else(|e| e.into_inner());
        f(&o)
    }

    /// Handles one request of a connection.
    pub fn handle(&self, state: &mut ConnState, msg: &[u8]) -> Vec<Vec<u8>> {
        let replies = self.with_ofproto(|o| o.handle_openflow(state, msg));
        let mut outs = state.take_packet_outs();
        for r in state.take_resumes() {
            // The paused pipeline's remaining actions (then its action
            // set) run on the packet with the metadata it had, as a
            // packet-out from its ingress port would.
            let Some(c) = r.continuation else { continue };
            let mut actions: Vec<flow::actions::OfpAction> =
                c.actions.into_iter().flat_map(|a| a.actions).collect();
            actions.extend(c.action_set);
            outs.push(PacketOutRequest {
                in_port: r.pin.metadata.flow.in_port,
                packet: r.pin.data,
                metadata: r.pin.metadata,
                actions,
            });
        }
        for f in state.take_ct_flushes() {
            vlog::dbg!(
                "connmgr",
                "{}: conntrack flush of zone {} (no userspace conntrack table to flush)",
                self.name,
                f.zone
            );
        }
        if !outs.is_empty() {
            let sink = self
                .packet_out
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone();
            for po in outs {
                match &sink {
                    Some(s) => s(&self.name, po),
                    None => vlog::dbg!(
                        "connmgr",
                        "{}: no datapath to execute a packet-out",
                        self.name
                    ),
                }
            }
        }
        replies
    }

    /// Sets who executes packet-outs.
    pub fn set_packet_out_sink(&self, sink: Option<PacketOutSink>) {
        *self.packet_out.lock().unwrap_or_else(|e| e.into_inner()) = sink;
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<ofproto::AsyncMsg>> {
        self.bus.subscribe()
    }

    pub fn next_conn_id(&self) -> u64 {
        self.conn_seq.fetch_add(1, Ordering::Relaxed)
    }

    pub fn next_xid(&self) -> u32 {
        self.xid.fetch_add(1, Ordering::Relaxed)
    }

    fn wake(&self) {
        if let Some(w) = self.wake.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
            w.notify_one();
        }
    }

    /// Deletes every flow; a standalone bridge without primary
    /// controllers then gets its `NORMAL` flow back (upstream's
    /// ofproto_flush_flows + connmgr_flushed).
    pub fn flush_flows(&self, add_normal: bool) {
        self.with_ofproto(|o| {
            let mut del = FlowModReq {
                table_id: TABLE_ALL,
                new_cookie: u64::MAX,
                ..FlowModReq::new(
                    FlowModCommand::Delete,
                    flow::Match::catchall(),
                    0,
                    Vec::new(),
                )
            };
            if let Err(e) = o.handle_flow_mod(&del) {
                vlog::warn!("connmgr", "{}: flushing flows failed: {e:?}", o.name);
            }
            if add_normal {
                del.command = FlowModCommand::Add;
                del.table_id = 0;
                del.new_cookie = 0;
                del.actions = vec![flow::actions::OfpAction::Output(flow::actions::Output {
                    port: flow::actions::OfpPort::NORMAL,
                    max_len: 0,
                })];
                if let Err(e) = o.handle_flow_mod(&del) {
                    vlog::warn!(
                        "connmgr",
                        "{}: adding the NORMAL flow failed: {e:?}",
                        o.name
                    );
                }
            }
        });
    }
}

/// The state of one controller connection, for the Controller table and
/// for fail-open.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ControllerStatus {
    pub is_connected: bool,
    /// `master`, `slave` or `other` while connected.
    pub role: Option<&'static str>,
    /// `ACTIVE`, `BACKOFF`, `CONNECTING`, `LISTENING`, ...
    pub state: &'static str,
    pub last_error: Option<String>,
    /// The peer showed it is in charge (upstream's rconn admission).
    pub admitted: bool,
    /// When (daemon clock, ms) the controller was last admitted (its
    /// creation before that): fail-open counts the time without an
    /// admitted controller from here.
    pub last_admitted: u64,
    /// When (daemon clock, ms) the current connection came up / the last
    /// one went down.
    pub connected_at: Option<u64>,
    pub disconnected_at: Option<u64>,
    /// Packet-in rate limiting counters (misses, others), when the
    /// controller has a rate limit.
    pub packet_in: Option<pinsched::SharedPinStats>,
}

impl ControllerStatus {
    /// The Controller row's `status` column (upstream's
    /// `last_error`, `state`, `sec_since_connect`, `sec_since_disconnect`);
    /// empty for passive (listening) targets.
    /// `now` is the daemon clock (ms), which `time/warp` moves.
    pub fn pairs(&self, now: u64) -> Vec<(String, String)> {
        let mut p = Vec::new();
        if self.state.is_empty() || self.state == "LISTENING" {
            return p;
        }
        if let Some(e) = &self.last_error {
            p.push(("last_error".to_string(), e.clone()));
        }
        if let Some(t) = self.connected_at {
            let secs = now.saturating_sub(t) / 1000;
            p.push(("sec_since_connect".to_string(), secs.to_string()));
        }
        if let Some(t) = self.disconnected_at {
            let secs = now.saturating_sub(t) / 1000;
            p.push(("sec_since_disconnect".to_string(), secs.to_string()));
        }
        p.push(("state".to_string(), self.state.to_string()));
        if let Some(st) = &self.packet_in {
            for (kind, s) in ["miss", "action"].iter().zip(st.get()) {
                for (what, v) in [
                    ("backlog", s.backlog),
                    ("bypassed", s.bypassed),
                    ("dropped", s.dropped),
                    ("queued", s.queued),
                ] {
                    p.push((format!("packet-in-{kind}-{what}"), v.to_string()));
                }
            }
        }
        p.sort();
        p
    }
}

impl Default for ControllerStatus {
    fn default() -> ControllerStatus {
        ControllerStatus {
            is_connected: false,
            role: None,
            state: "",
            last_error: None,
            admitted: false,
            last_admitted: crate::clock::global().now_ms(),
            connected_at: None,
            disconnected_at: None,
            packet_in: None,
        }
    }
}

struct Controller {
    cfg: ControllerConfig,
    allowed: u32,
    task: JoinHandle<()>,
    status: Arc<Mutex<ControllerStatus>>,
    primary: bool,
    /// What its running connections apply in place.
    live: watch::Sender<LiveSettings>,
}

/// The connections of one bridge.
pub struct ConnMgr {
    pub shared: Arc<BridgeShared>,
    rt: tokio::runtime::Handle,
    mgmt: Option<JoinHandle<()>>,
    service_allowed: Arc<AtomicU32>,
    controllers: BTreeMap<String, Controller>,
    fail_mode: Option<FailMode>,
    has_primaries: bool,
    ticker: JoinHandle<()>,
    fail_open: Arc<Mutex<fail_open::FailOpen>>,
    /// In-band control, while the bridge has in-band remotes (or rules
    /// left to remove).
    in_band: Arc<Mutex<Option<in_band::InBand>>>,
    /// Packet-ins that may wait for a controller without its own
    /// `controller_queue_size` (the bridge's
    /// `other_config:controller-queue-size`, 100 by default).
    queue_default: usize,
}

fn is_passive(target: &str) -> bool {
    target.starts_with("ptcp:") || target.starts_with("punix:") || target.starts_with("pssl:")
}

fn lock_status(s: &Mutex<ControllerStatus>) -> std::sync::MutexGuard<'_, ControllerStatus> {
    s.lock().unwrap_or_else(|e| e.into_inner())
}

impl ConnMgr {
    /// A manager for the bridge of `shared`, running its tasks on `rt`.
    pub fn new(shared: Arc<BridgeShared>, rt: tokio::runtime::Handle) -> ConnMgr {
        let s = shared.clone();
        let fail_open = Arc::new(Mutex::new(fail_open::FailOpen::default()));
        let fo = fail_open.clone();
        let in_band: Arc<Mutex<Option<in_band::InBand>>> = Arc::new(Mutex::new(None));
        let ib = in_band.clone();
        // Timeouts and evictions (upstream's ofproto_run), fail-open,
        // in-band control.
        let ticker = rt.spawn(async move {
            let mut t = tokio::time::interval(Duration::from_millis(100));
            loop {
                t.tick().await;
                s.run_timeouts();
                let now = crate::clock::global().now_ms();
                fo.lock().unwrap_or_else(|e| e.into_inner()).run(&s, now);
                run_in_band(&ib, &s, now);
            }
        });
        ConnMgr {
            shared,
            rt,
            mgmt: None,
            service_allowed: Arc::new(AtomicU32::new(0x7e)),
            controllers: BTreeMap::new(),
            fail_mode: None,
            has_primaries: false,
            ticker,
            queue_default: txq::DEFAULT_QUEUE_SIZE,
            fail_open,
            in_band,
        }
    }

    /// Listens on the management socket at `path`.
    pub fn set_mgmt(&mut self, path: &std::path::Path) {
        if self.mgmt.is_some() {
            return;
        }
        let target = format!("punix:{}", path.display());
        let addr = rpc::PassiveAddr::Unix(path.to_path_buf());
        let shared = self.shared.clone();
        let allowed = self.service_allowed.clone();
        let name = self.shared.name.clone();
        vlog::info!("connmgr", "{name}: added service controller \"{target}\"");
        let Some(listener) = self.bind(&addr, &target, None) else {
            return;
        };
        self.mgmt = Some(self.rt.spawn(async move {
            listen(listener, shared, allowed, LiveSettings::fixed(None)).await;
        }));
    }

    /// Takes the bridge's `other_config:controller-queue-size` (1 to 512,
    /// else the default of 100): the packet-in queue of controllers
    /// without a `controller_queue_size`, applied by the next
    /// [`ConnMgr::configure`].
    pub fn set_controller_queue_size(&mut self, other_config: &BTreeMap<String, String>) {
        self.queue_default = other_config
            .get("controller-queue-size")
            .and_then(|v| v.trim().parse::<usize>().ok())
            .filter(|q| (1..=512).contains(q))
            .unwrap_or(txq::DEFAULT_QUEUE_SIZE);
    }

    /// Applies the bridge's `protocols`, controllers and fail mode.
    pub fn configure(
        &mut self,
        protocols: &[String],
        controllers: &[ControllerConfig],
        fail_mode: FailMode,
    ) {
        let allowed = allowed_versions(protocols);
        self.service_allowed.store(allowed, Ordering::Relaxed);
        let name = self.shared.name.clone();
        let wanted: BTreeMap<&str, &ControllerConfig> =
            controllers.iter().map(|c| (c.target.as_str(), c)).collect();
        // Removed controllers, and those whose allowed versions changed
        // (upstream starts them again); other changes apply in place.
        let stale: Vec<String> = self
            .controllers
            .iter()
            .filter(|(t, c)| wanted.get(t.as_str()).is_none() || c.allowed != allowed)
            .map(|(t, _)| t.clone())
            .collect();
        for t in stale {
            if let Some(c) = self.controllers.remove(&t) {
                c.task.abort();
                if !wanted.contains_key(t.as_str()) {
                    let kind = if c.primary { "primary" } else { "service" };
                    vlog::info!("connmgr", "{name}: removed {kind} controller \"{t}\"");
                }
            }
        }
        for (t, c) in &wanted {
            if let Some(have) = self.controllers.get_mut(*t) {
                let queue = queue_size_of(c, self.queue_default);
                if have.cfg != **c || have.live.borrow().queue_size != queue {
                    reconfigure_in_place(have, c, self.queue_default);
                }
                continue;
            }
            if let Some(ctl) = self.start_controller(c, allowed) {
                self.controllers.insert(t.to_string(), ctl);
            }
        }
        let has_primaries = self.controllers.values().any(|c| c.primary);
        let mode_changed = self.fail_mode != Some(fail_mode);
        let first = self.fail_mode.is_none();
        vlog::dbg!(
            "connmgr",
            "{name}: fail mode {:?} -> {fail_mode:?}, primaries {} -> {has_primaries}",
            self.fail_mode,
            self.has_primaries
        );
        // Upstream flushes the tables when the bridge is created, when the
        // fail mode changes while no primary controller is configured, and
        // when primary controllers appear or all go away.
        if first || (mode_changed && !has_primaries) || has_primaries != self.has_primaries {
            self.shared
                .flush_flows(!has_primaries && fail_mode == FailMode::Standalone);
        }
        self.fail_mode = Some(fail_mode);
        self.has_primaries = has_primaries;
        self.shared
            .with_ofproto(|o| o.config.fail_secure = fail_mode == FailMode::Secure);
        self.update_fail_open();
    }

    /// Gives fail-open the current primary controllers and trigger time.
    fn update_fail_open(&self) {
        let mut fo = self.fail_open.lock().unwrap_or_else(|e| e.into_inner());
        let primaries: Vec<&Controller> = self.controllers.values().filter(|c| c.primary).collect();
        fo.enabled = self.fail_mode == Some(FailMode::Standalone) && !primaries.is_empty();
        fo.trigger = primaries
            .iter()
            .map(|c| probe_of(&c.cfg).unwrap_or(Duration::ZERO))
            .max()
            .unwrap_or(Duration::ZERO)
            .as_millis() as u64
            * 3;
        fo.controllers = primaries.iter().map(|c| c.status.clone()).collect();
    }

    /// True while the bridge fails open.
    pub fn is_failing_open(&self) -> bool {
        self.fail_open
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_active()
    }

    /// Binds `addr` now, before the configuration that names it is
    /// reported applied, so that a client never finds the socket file
    /// without a listener behind it. Failures are logged (and kept in
    /// `status`), as upstream does.
    fn bind(
        &self,
        addr: &rpc::PassiveAddr,
        target: &str,
        status: Option<&Arc<Mutex<ControllerStatus>>>,
    ) -> Option<rpc::stream::Listener> {
        let _rt = self.rt.enter();
        match rpc::stream::Listener::bind_now(addr) {
            Ok(l) => Some(l),
            Err(e) => {
                let text = rpc::errno::io_error_text(&e);
                let name = &self.shared.name;
                vlog::err!("connmgr", "{name}: failed to listen on {target}: {text}");
                if let Some(s) = status {
                    lock_status(s).last_error = Some(text);
                }
                None
            }
        }
    }

    /// Starts controller `c` (a listener for passive targets, a
    /// connection kept up for active ones).
    fn start_controller(&self, c: &ControllerConfig, allowed: u32) -> Option<Controller> {
        let primary = !is_passive(&c.target);
        let status = Arc::new(Mutex::new(ControllerStatus::default()));
        let settings = live_settings(c, None, self.queue_default);
        lock_status(&status).packet_in = settings
            .limits
            .as_ref()
            .filter(|_| primary)
            .map(|l| l.stats.clone());
        let (live, live_rx) = watch::channel(settings);
        let task = if primary {
            self.spawn_primary(c, allowed, status.clone(), live_rx)
        } else {
            self.spawn_service(c, allowed, status.clone(), live_rx)
        }?;
        Some(Controller {
            cfg: c.clone(),
            allowed,
            task,
            status,
            primary,
            live,
        })
    }

    fn spawn_service(
        &self,
        c: &ControllerConfig,
        allowed: u32,
        status: Arc<Mutex<ControllerStatus>>,
        live: watch::Receiver<LiveSettings>,
    ) -> Option<JoinHandle<()>> {
        let name = &self.shared.name;
        let addr = match rpc::PassiveAddr::parse(&c.target, Some(rpc::OPENFLOW_PORT)) {
            Ok(a) => a,
            Err(e) => {
                vlog::err!("connmgr", "{name}: {e}");
                return None;
            }
        };
        vlog::info!(
            "connmgr",
            "{name}: added service controller \"{}\"",
            c.target
        );
        let shared = self.shared.clone();
        let allowed = Arc::new(AtomicU32::new(allowed));
        let listener = self.bind(&addr, &c.target, Some(&status))?;
        lock_status(&status).state = "LISTENING";
        Some(self.rt.spawn(async move {
            listen(listener, shared, allowed, live).await;
        }))
    }

    fn spawn_primary(
        &self,
        c: &ControllerConfig,
        allowed: u32,
        status: Arc<Mutex<ControllerStatus>>,
        live: watch::Receiver<LiveSettings>,
    ) -> Option<JoinHandle<()>> {
        let name = self.shared.name.clone();
        let addr = match rpc::ActiveAddr::parse(&c.target, Some(rpc::OPENFLOW_PORT)) {
            Ok(a) => a,
            Err(e) => {
                vlog::err!("connmgr", "{name}: {e}");
                return None;
            }
        };
        vlog::info!(
            "connmgr",
            "{name}: added primary controller \"{}\"",
            c.target
        );
        let shared = self.shared.clone();
        let target = c.target.clone();
        Some(self.rt.spawn(async move {
            let rname = format!("{name}<->{target}");
            let clock = crate::clock::global();
            let mut backoff = Duration::from_secs(1);
            loop {
                vlog::info!("rconn", "{rname}: connecting...");
                lock_status(&status).state = "CONNECTING";
                // Upstream gives a connection attempt the current backoff
                // (at least a second) on the daemon clock.
                let connect_deadline = clock.now_ms() + backoff.as_millis() as u64;
                let connected = tokio::select! {
                    r = rpc::stream::connect(&addr) => Some(r),
                    _ = sleep_until_clock(connect_deadline) => None,
                };
                match connected {
                    Some(Ok(stream)) => {
                        let cfg = ConnConfig {
                            name: target.clone(),
                            kind: ConnKind::Primary,
                            allowed,
                            probe: None,
                            async_enabled: true,
                            hello_timeout: backoff,
                        };
                        let st = status.clone();
                        let sh = shared.clone();
                        let rn = rname.clone();
                        let end = serve(stream, cfg, live.clone(), shared.clone(), move |ev| {
                            let mut s = lock_status(&st);
                            match ev {
                                ConnEvent::Up(_) => {
                                    vlog::info!("rconn", "{rn}: connected");
                                    s.is_connected = true;
                                    s.role = Some("other");
                                    s.state = "ACTIVE";
                                    s.last_error = None;
                                    s.connected_at = Some(clock.now_ms());
                                }
                                ConnEvent::Admitted => s.admitted = true,
                                ConnEvent::Role(r) => s.role = Some(r),
                                ConnEvent::Idle(idle) => {
                                    s.state = if idle { "IDLE" } else { "ACTIVE" };
                                }
                            }
                            drop(s);
                            sh.wake();
                        })
                        .await;
                        let was_up = lock_status(&status).is_connected;
                        {
                            let mut s = lock_status(&status);
                            s.is_connected = false;
                            s.role = None;
                            if s.admitted {
                                s.last_admitted = clock.now_ms();
                            }
                            s.admitted = false;
                            s.disconnected_at = Some(clock.now_ms());
                        }
                        match &end {
                            ConnEnd::Eof => {
                                vlog::info!("rconn", "{rname}: connection closed by peer");
                                lock_status(&status).last_error = Some("End of file".to_string());
                            }
                            ConnEnd::Error(e) => {
                                vlog::warn!("rconn", "{rname}: connection dropped ({e})");
                                lock_status(&status).last_error = Some(e.clone());
                            }
                            ConnEnd::ProbeTimeout(s) => vlog::err!(
                                "rconn",
                                "{rname}: no response to inactivity probe after {s} seconds, disconnecting"
                            ),
                            ConnEnd::HelloTimeout => vlog::info!("rconn", "{rname}: connection timed out"),
                        }
                        if was_up {
                            backoff = Duration::from_secs(1);
                        }
                        shared.wake();
                    }
                    Some(Err(e)) => {
                        let text = rpc::errno::io_error_text(&e);
                        vlog::warn!("rconn", "{rname}: connection failed ({text})");
                        lock_status(&status).last_error = Some(text);
                    }
                    None => {
                        vlog::warn!("rconn", "{rname}: connection timed out");
                    }
                }
                lock_status(&status).state = "BACKOFF";
                vlog::info!(
                    "rconn",
                    "{rname}: waiting {} seconds before reconnect",
                    backoff.as_secs()
                );
                sleep_until_clock(clock.now_ms() + backoff.as_millis() as u64).await;
                let max_backoff = live.borrow().max_backoff;
                backoff = (backoff * 2).min(max_backoff);
            }
        }))
    }

    /// Brings in-band control in line with the controllers and managers:
    /// `remotes` are the Controller rows and manager targets (in-band
    /// ones unless `other_config:disable-in-band`), `queue` is
    /// `other_config:in-band-queue`.
    pub fn configure_in_band(
        &mut self,
        other_config: &BTreeMap<String, String>,
        controllers: &[ControllerConfig],
        managers: &[String],
        lookup: in_band::NextHopLookup,
    ) {
        let disabled = other_config
            .get("disable-in-band")
            .is_some_and(|v| v == "true");
        let queue = other_config
            .get("in-band-queue")
            .and_then(|q| q.parse::<i64>().ok())
            .and_then(|q| u32::try_from(q).ok());
        let mut remotes = Vec::new();
        if !disabled {
            for c in controllers {
                let band = c.connection_mode.as_deref().unwrap_or("in-band");
                if band != "in-band" {
                    continue;
                }
                if let Some(a) = in_band::remote_addr(&c.target, in_band::OFP_PORT) {
                    remotes.push(a);
                }
            }
            for m in managers {
                if let Some(a) = in_band::remote_addr(m, in_band::OVSDB_PORT) {
                    remotes.push(a);
                }
            }
        }
        let mut ib = self.in_band.lock().unwrap_or_else(|e| e.into_inner());
        if !remotes.is_empty() && ib.is_none() {
            *ib = Some(in_band::InBand::new(lookup));
        }
        if let Some(ib) = ib.as_mut() {
            ib.configure(&remotes, queue);
        }
        drop(ib);
        run_in_band(&self.in_band, &self.shared, crate::clock::global().now_ms());
    }

    /// Drops every controller connection and reconnects (bridge/reconnect).
    pub fn reconnect(&mut self) {
        let cfgs: Vec<ControllerConfig> =
            self.controllers.values().map(|c| c.cfg.clone()).collect();
        for (_, c) in std::mem::take(&mut self.controllers) {
            c.task.abort();
        }
        let allowed = self.service_allowed.load(Ordering::Relaxed);
        for c in cfgs {
            if let Some(ctl) = self.start_controller(&c, allowed) {
                self.controllers.insert(c.target.clone(), ctl);
            }
        }
        self.update_fail_open();
    }

    /// The status of each controller, by Controller row.
    pub fn controller_status(&self) -> Vec<(ovsdb::Uuid, ControllerStatus)> {
        self.controllers
            .values()
            .map(|c| (c.cfg.uuid, lock_status(&c.status).clone()))
            .collect()
    }
}

/// One pass of in-band control; the state goes once it has neither
/// remotes nor rules. Keeps the switch's "in-band" flag (translation
/// sends DHCP replies to the local port while it is on).
fn run_in_band(ib: &Mutex<Option<in_band::InBand>>, shared: &BridgeShared, now: u64) {
    let mut g = ib.lock().unwrap_or_else(|e| e.into_inner());
    let on = match g.as_mut() {
        Some(state) => state.run(shared, now),
        None => false,
    };
    if !on {
        *g = None;
    }
    let mut o = shared.ofproto.lock().unwrap_or_else(|e| e.into_inner());
    o.config.in_band = on;
}

/// Sleeps until the daemon clock reads `deadline` (ms); the clock may be
/// stopped and warped, so it is looked at every 50 ms.
async fn sleep_until_clock(deadline: u64) {
    let clock = crate::clock::global();
    while clock.now_ms() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Applies a changed Controller row to a running controller, as upstream
/// does without reconnecting: probe interval, backoff, asynchronous
/// messages, rate limits (their counters kept).
fn reconfigure_in_place(have: &mut Controller, c: &ControllerConfig, queue_default: usize) {
    let old_stats = have.live.borrow().limits.as_ref().map(|l| l.stats.clone());
    let settings = live_settings(c, old_stats, queue_default);
    if have.primary {
        lock_status(&have.status).packet_in = settings.limits.as_ref().map(|l| l.stats.clone());
    }
    let changed = have.live.borrow().differs(&settings);
    if changed {
        have.live.send_replace(settings);
    }
    have.cfg = c.clone();
}

/// What a running connection of controller `c` applies in place
/// (`stats`: the rate limiter's counters to keep; `queue_default`: the
/// bridge's packet-in queue size).
fn live_settings(
    c: &ControllerConfig,
    stats: Option<pinsched::SharedPinStats>,
    queue_default: usize,
) -> LiveSettings {
    let mut limits = pin_limits(c);
    if let (Some(l), Some(s)) = (limits.as_mut(), stats) {
        l.stats = s;
    }
    LiveSettings {
        probe: probe_of(c),
        async_enabled: c.enable_async_messages.unwrap_or(true),
        limits,
        max_backoff: max_backoff_of(c),
        queue_size: queue_size_of(c, queue_default),
    }
}

/// How many packet-ins may wait for controller `c`: its
/// `controller_queue_size` (1 to 512), else `queue_default`.
fn queue_size_of(c: &ControllerConfig, queue_default: usize) -> usize {
    c.controller_queue_size
        .and_then(|q| usize::try_from(q).ok())
        .filter(|q| (1..=512).contains(q))
        .unwrap_or(queue_default)
}

/// The longest wait between connection attempts: `max_backoff` in whole
/// seconds, at least 1 (8 by default).
fn max_backoff_of(c: &ControllerConfig) -> Duration {
    match c.max_backoff {
        Some(ms) => Duration::from_secs((ms.max(0) as u64 / 1000).max(1)),
        None => Duration::from_secs(8),
    }
}

impl Drop for ConnMgr {
    fn drop(&mut self) {
        self.ticker.abort();
        if let Some(m) = self.mgmt.take() {
            m.abort();
        }
        for c in self.controllers.values() {
            c.task.abort();
        }
    }
}

/// The inactivity probe interval of a controller: `inactivity_probe` in
/// whole seconds, at least 5 (upstream's rconn), none when 0.
fn probe_of(c: &ControllerConfig) -> Option<Duration> {
    match c.inactivity_probe {
        Some(0) => None,
        Some(ms) if ms > 0 => Some(Duration::from_secs((ms as u64 / 1000).max(5))),
        _ => Some(Duration::from_secs(5)),
    }
}

/// The packet-in rate limits of a controller, if it has any.
fn pin_limits(c: &ControllerConfig) -> Option<PinLimits> {
    let rate = c.controller_rate_limit.filter(|r| *r > 0)?;
    Some(PinLimits {
        rate,
        burst: c.controller_burst_limit,
        stats: Default::default(),
    })
}

/// Accepts connections on `listener` forever, serving each as a service
/// connection.
async fn listen(
    listener: rpc::stream::Listener,
    shared: Arc<BridgeShared>,
    allowed: Arc<AtomicU32>,
    live: watch::Receiver<LiveSettings>,
) {
    let bridge = shared.name.clone();
    loop {
        let (stream, name) = match listener.accept().await {
            Ok(x) => x,
            Err(e) => {
                vlog::warn!(
                    "connmgr",
                    "{bridge}: accept failed: {}",
                    rpc::errno::io_error_text(&e)
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let cfg = ConnConfig {
            name: name.clone(),
            kind: ConnKind::Service,
            allowed: allowed.load(Ordering::Relaxed),
            probe: None,
            async_enabled: true,
            hello_timeout: Duration::from_secs(1),
        };
        let sh = shared.clone();
        let bridge = bridge.clone();
        // Each connection has its own schedulers and counters.
        let live = live.clone();
        tokio::spawn(async move {
            let end = serve(stream, cfg, live, sh, |_| {}).await;
            match end {
                ConnEnd::Eof => {}
                ConnEnd::Error(e) => {
                    vlog::warn!("rconn", "{bridge}<->{name}: connection dropped ({e})")
                }
                ConnEnd::ProbeTimeout(s) => vlog::err!(
                    "rconn",
                    "{bridge}<->{name}: no response to inactivity probe after {s} seconds, disconnecting"
                ),
                ConnEnd::HelloTimeout => {
                    vlog::info!("rconn", "{bridge}<->{name}: connection timed out")
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n_rules(s: &BridgeShared) -> usize {
        s.with_ofproto(|o| o.rules(0).len())
    }

    #[test]
    fn flushing_restores_the_normal_flow_when_asked() {
        let s = BridgeShared::new("br0", Ofproto::new("br0", 1));
        s.flush_flows(true);
        assert_eq!(n_rules(&s), 1);
        s.flush_flows(false);
        assert_eq!(n_rules(&s), 0);
        s.flush_flows(true);
        assert_eq!(n_rules(&s), 1);
    }
}
