//! One OpenFlow connection of a bridge: [`Session`], a state machine over
//! bytes without I/O — framing, the hello exchange and version
//! negotiation (with upstream's failure texts and `OFPHFC_INCOMPATIBLE`
//! error), echo, upstream's answers to out-of-order and wrong-version
//! messages, every other request handed to `Ofproto::handle_openflow`,
//! the bridge's asynchronous messages filtered and encoded for this
//! connection — and [`serve`], which runs a session on a socket with
//! inactivity probes and a transmit queue ([`super::txq`]) that never
//! waits for a slow peer.

use super::async_msgs::{ConnKind, DEFAULT_MISS_SEND_LEN};
use super::pinsched::{PinSched, SharedPinStats};
use super::txq::{self, Kind, TxQueue};
use super::BridgeShared;
use ofproto::{AsyncMsg, ConnState};
use openflow::{Hello, OfpErr, OfpVersion};
use rpc::stream::BoxStream;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::{broadcast, watch};

const OFPT_HELLO: u8 = 0;
const OFPT_ERROR: u8 = 1;
const OFPT_ECHO_REQUEST: u8 = 2;
const OFPT_ECHO_REPLY: u8 = 3;

/// Formats a version bitmap as upstream's negotiation messages do.
pub fn version_bitmap_text(bitmap: u32) -> String {
    let vs: Vec<u32> = (0..32).filter(|v| bitmap & (1 << v) != 0).collect();
    match vs.as_slice() {
        [] => "no versions".to_string(),
        [one] => format!("version 0x{one:02x}"),
        [.., top] if bitmap == ((1u32 << (top + 1)) - 2) => {
            format!("version 0x{top:02x} and earlier")
        }
        _ => format!(
            "versions {}",
            vs.iter()
                .map(|v| format!("0x{v:02x}"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// The bitmap of a `protocols` column (`OpenFlow10` ... `OpenFlow15`);
/// empty means every version this switch speaks (1.0 to 1.5).
pub fn allowed_versions(protocols: &[String]) -> u32 {
    let mut bits = 0u32;
    for p in protocols {
        if let Some(v) = OfpVersion::from_name(p) {
            bits |= 1 << v.wire();
        }
    }
    if bits == 0 {
        0x7e
    } else {
        bits
    }
}

/// What a connection is, as its manager configured it.
#[derive(Clone, Debug)]
pub struct ConnConfig {
    /// Upstream's connection name (`unix#3`, `tcp:127.0.0.1:6653`).
    pub name: String,
    pub kind: ConnKind,
    /// Versions this end allows (bit n = wire version n).
    pub allowed: u32,
    /// Inactivity probe interval (none: never probe).
    pub probe: Option<Duration>,
    /// `enable_async_messages` (false: no asynchronous messages at all).
    pub async_enabled: bool,
    /// How long the hello exchange may take (upstream's rconn gives it
    /// the current backoff, at least 1 s).
    pub hello_timeout: Duration,
}

/// Why a connection ended.
#[derive(Debug)]
pub enum ConnEnd {
    /// The peer closed the connection between messages.
    Eof,
    /// An error, as upstream's text (`Protocol error`, `Broken pipe`...).
    Error(String),
    /// The peer stopped answering probes.
    ProbeTimeout(u64),
    /// No hello exchange within the allowed time.
    HelloTimeout,
}

impl ConnEnd {
    fn errno(code: i32) -> ConnEnd {
        ConnEnd::Error(rpc::errno::strerror(code))
    }
}

fn io_end(e: &std::io::Error) -> ConnEnd {
    if e.kind() == std::io::ErrorKind::UnexpectedEof {
        ConnEnd::Eof
    } else {
        ConnEnd::Error(rpc::errno::io_error_text(e))
    }
}

const OFPT_FEATURES_REQUEST: u8 = 5;
const OFPT_SET_CONFIG: u8 = 9;
/// The largest OpenFlow message.
const MAX_MSG: usize = 65535;
/// `ofp_error_msg` header: what an error reply adds to the data it quotes.
const ERROR_HEADER: usize = 12;

/// Where a session is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Our hello is sent; the peer's is awaited.
    AwaitHello,
    /// Version negotiated.
    Active,
    /// Ended (nothing more is accepted).
    Closed,
}

/// What one batch of received bytes did.
#[derive(Debug, Default)]
pub struct Step {
    /// Messages to send, in order.
    pub out: Vec<Vec<u8>>,
    /// The version negotiated, when the hello exchange completed now.
    pub up: Option<u8>,
    /// The peer sent a message that shows it is a controller in charge
    /// (upstream's admission: anything but the hello/echo/error/features/
    /// config exchange).
    pub admitted: bool,
    /// Why the connection must close (after sending `out`).
    pub end: Option<ConnEnd>,
}

/// One OpenFlow connection as a state machine over bytes, without I/O
/// (the socket loop is [`serve`]; the fuzz target drives it directly):
/// framing, the hello exchange and version negotiation, echo, checks of
/// the version of every later message, and everything else handed to
/// [`BridgeShared::handle`] (upstream's vconn + ofconn message path).
pub struct Session {
    cfg: ConnConfig,
    phase: Phase,
    /// Bytes of the message being received (never more than one message).
    buf: Vec<u8>,
    /// The connection's OpenFlow state once the version is negotiated.
    state: Option<ConnState>,
    /// Upstream decides a connection's protocol lazily, the first time a
    /// handler or an asynchronous message needs it; until then the
    /// connection counts as wanting table misses whatever its version.
    settled: bool,
}

/// Whether a request settles the connection's protocol (upstream's
/// handlers that ask for it: features, flow-mods, packet-outs, the
/// Nicira flow format and flow-mod, bundled messages).
fn settles_protocol(msg: &[u8]) -> bool {
    const OFPT_VENDOR: u8 = 4;
    const OFPT_PACKET_OUT: u8 = 13;
    const OFPT_FLOW_MOD: u8 = 14;
    const OFPT14_BUNDLE_ADD_MESSAGE: u8 = 34;
    const NXT_SET_FLOW_FORMAT: u32 = 12;
    const NXT_FLOW_MOD: u32 = 13;
    match msg[1] {
        OFPT_FEATURES_REQUEST | OFPT_PACKET_OUT | OFPT_FLOW_MOD => true,
        OFPT14_BUNDLE_ADD_MESSAGE => msg[0] >= 5,
        OFPT_VENDOR if msg.len() >= 16 => {
            let subtype = u32::from_be_bytes([msg[12], msg[13], msg[14], msg[15]]);
            subtype == NXT_SET_FLOW_FORMAT || subtype == NXT_FLOW_MOD
        }
        _ => false,
    }
}

impl Session {
    /// A new session; returns it with our hello, to send first.
    pub fn new(cfg: ConnConfig, xid: u32) -> (Session, Vec<u8>) {
        let hello = Hello::encode(cfg.allowed, xid);
        (
            Session {
                cfg,
                phase: Phase::AwaitHello,
                buf: Vec::new(),
                state: None,
                settled: false,
            },
            hello,
        )
    }

    /// The negotiated version, once there is one.
    pub fn version(&self) -> Option<u8> {
        self.state.as_ref().map(|s| s.version)
    }

    /// The connection's OpenFlow state, once negotiated.
    pub fn state(&self) -> Option<&ConnState> {
        self.state.as_ref()
    }

    /// True once the session ended.
    pub fn is_closed(&self) -> bool {
        self.phase == Phase::Closed
    }

    /// Feeds bytes received from the peer.
    pub fn receive(&mut self, mut data: &[u8], shared: &BridgeShared) -> Step {
        let mut step = Step::default();
        while !data.is_empty() && self.phase != Phase::Closed {
            // Complete the header, then the message, never buffering more
            // than one message.
            let want = if self.buf.len() < 8 {
                8
            } else {
                usize::from(u16::from_be_bytes([self.buf[2], self.buf[3]]))
            };
            let take = want.saturating_sub(self.buf.len()).min(data.len());
            self.buf.extend_from_slice(&data[..take]);
            data = &data[take..];
            if self.buf.len() == 8 {
                let len = usize::from(u16::from_be_bytes([self.buf[2], self.buf[3]]));
                if len < 8 {
                    vlog::err!(
                        "vconn_stream",
                        "received too-short ofp_header ({len} bytes)"
                    );
                    self.close(&mut step, ConnEnd::errno(libc::EPROTO));
                    break;
                }
            }
            let len = if self.buf.len() >= 8 {
                usize::from(u16::from_be_bytes([self.buf[2], self.buf[3]]))
            } else {
                usize::MAX
            };
            if self.buf.len() == len {
                let msg = std::mem::take(&mut self.buf);
                self.message(&msg, shared, &mut step);
            }
        }
        step
    }

    /// The peer closed its end: upstream's verdict on what was pending.
    pub fn eof(&mut self) -> ConnEnd {
        let end = if self.buf.is_empty() {
            ConnEnd::Eof
        } else {
            vlog::err!("vconn_stream", "connection dropped mid-packet");
            ConnEnd::errno(libc::EPROTO)
        };
        self.phase = Phase::Closed;
        self.buf = Vec::new();
        end
    }

    fn close(&mut self, step: &mut Step, end: ConnEnd) {
        self.phase = Phase::Closed;
        self.buf = Vec::new();
        step.end = Some(end);
    }

    fn message(&mut self, msg: &[u8], shared: &BridgeShared, step: &mut Step) {
        match self.phase {
            Phase::AwaitHello => self.hello(msg, shared, step),
            Phase::Active => self.request(msg, shared, step),
            Phase::Closed => {}
        }
    }

    fn hello(&mut self, msg: &[u8], shared: &BridgeShared, step: &mut Step) {
        let name = &self.cfg.name;
        if msg[1] != OFPT_HELLO {
            let what = openflow::print::ofp_to_string(msg, 1);
            vlog::warn!(
                "vconn",
                "{name}: received message while expecting hello: {}\n{}",
                what.trim_end(),
                vlog::hex_dump(msg, 0, true).trim_end()
            );
            self.close(step, ConnEnd::errno(libc::EPROTO));
            return;
        }
        let peer = Hello::decode(msg);
        let common = peer.version_bitmap & self.cfg.allowed;
        if common == 0 {
            let ours = version_bitmap_text(self.cfg.allowed);
            let theirs = version_bitmap_text(peer.version_bitmap);
            vlog::warn!(
                "vconn",
                "{name}: version negotiation failed (we support {ours}, peer supports {theirs})"
            );
            let top = (31 - peer.version_bitmap.leading_zeros().min(31)) as u8;
            let text = format!("We support {ours}, you support {theirs}, no common versions.");
            step.out.push(error_in_version(
                OfpErr::OFPHFC_INCOMPATIBLE,
                top,
                0,
                text.as_bytes(),
            ));
            self.close(step, ConnEnd::errno(libc::EPROTO));
            return;
        }
        let version = (31 - common.leading_zeros()) as u8;
        let mut state = ConnState::new(shared.next_conn_id(), version);
        state.service = self.cfg.kind == ConnKind::Service;
        if self.cfg.kind == ConnKind::Primary {
            state.miss_send_len = DEFAULT_MISS_SEND_LEN;
        }
        self.state = Some(state);
        self.phase = Phase::Active;
        step.up = Some(version);
        self.update_miss_wish(shared);
    }

    /// Tells the bridge whether this connection wants table misses as
    /// packet-ins (upstream's `connmgr_wants_packet_in_on_miss`).  Unlike
    /// upstream, a service connection that asked for no packet-ins
    /// (miss_send_len 0: `ovs-ofctl add-flows`, `dump-flows`...) does not
    /// count: it would get none, and its close races with the commands
    /// that follow it (upstream's single main loop reaps it first).
    fn update_miss_wish(&self, shared: &BridgeShared) {
        if let Some(st) = &self.state {
            let silent = st.service && st.miss_send_len == 0;
            let wants = st.controller_id == 0 && !silent && (!self.settled || st.version < 4);
            shared.set_miss_wish(st.id, Some(wants));
        }
    }

    /// Settles the connection's protocol (an asynchronous message needed
    /// it).
    pub fn settle(&mut self, shared: &BridgeShared) {
        if !self.settled {
            self.settled = true;
            self.update_miss_wish(shared);
        }
    }

    fn request(&mut self, msg: &[u8], shared: &BridgeShared, step: &mut Step) {
        let Some(state) = self.state.as_mut() else {
            return;
        };
        let name = &self.cfg.name;
        let (version, type_) = (msg[0], msg[1]);
        let xid = u32::from_be_bytes([msg[4], msg[5], msg[6], msg[7]]);
        match type_ {
            OFPT_ECHO_REQUEST => {
                step.out.push(echo_reply(msg));
                return;
            }
            OFPT_ECHO_REPLY => return,
            OFPT_HELLO | OFPT_ERROR => {
                // Upstream answers a hello after the negotiation, and any
                // error from the peer, as requests it does not handle.
                let what = if type_ == OFPT_HELLO {
                    "OFPT_HELLO"
                } else {
                    "OFPT_ERROR"
                };
                vlog::info!(
                    "connmgr",
                    "{}<->{name}: sending OFPBRC_BAD_TYPE error reply to {what} message",
                    shared.name
                );
                step.out
                    .push(error_in_version(OfpErr::OFPBRC_BAD_TYPE, version, xid, msg));
                return;
            }
            _ => {}
        }
        if version != state.version {
            vlog::err!(
                "vconn",
                "{name}: received OpenFlow version 0x{version:02x} != expected {:02x}",
                state.version
            );
            step.out.push(error_in_version(
                OfpErr::OFPBRC_BAD_VERSION,
                version,
                xid,
                msg,
            ));
            return;
        }
        if !(OFPT_FEATURES_REQUEST..=OFPT_SET_CONFIG).contains(&type_) {
            step.admitted = true;
        }
        step.out.extend(shared.handle(state, msg));
        if settles_protocol(msg) {
            self.settled = true;
        }
        self.update_miss_wish(shared);
    }

    /// The bridge's asynchronous messages this connection gets, encoded.
    pub fn async_msgs(&self, msgs: &[AsyncMsg], shared: &BridgeShared) -> Vec<Vec<u8>> {
        match &self.state {
            Some(st) if self.cfg.async_enabled && self.phase == Phase::Active => {
                shared.with_ofproto_quiet(|o| ofproto::handler::asyncmsg::encode_for(o, st, msgs))
            }
            _ => Vec::new(),
        }
    }

    /// One asynchronous message of the bridge as this connection gets it
    /// (nothing, or its encoding); a message the connection gets, or a
    /// table miss it had to be asked about, settles its protocol.
    pub fn deliver(&mut self, msg: &AsyncMsg, shared: &BridgeShared) -> Vec<Vec<u8>> {
        let out = self.async_msgs(std::slice::from_ref(msg), shared);
        let miss = matches!(msg, AsyncMsg::PacketIn(p)
            if p.reason == ofproto::handler::asyncmsg::OFPR_IMPLICIT_MISS);
        if !out.is_empty() || miss {
            self.settle(shared);
        }
        out
    }

    /// An inactivity probe (echo request), once negotiated.
    pub fn probe(&self) -> Option<Vec<u8>> {
        self.version().map(echo_request)
    }

    /// The connection's role as the Controller table shows it.
    pub fn role_text(&self, shared: &BridgeShared) -> Option<&'static str> {
        let st = self.state.as_ref()?;
        Some(match shared.with_ofproto_quiet(|o| o.effective_role(st)) {
            ofproto::handler::Role::Equal => "other",
            ofproto::handler::Role::Master => "master",
            ofproto::handler::Role::Slave => "slave",
        })
    }

    /// Ends the session: the switch forgets the connection (its primary
    /// role, monitors, bundles).
    pub fn finish(&mut self, shared: &BridgeShared) {
        self.phase = Phase::Closed;
        if let Some(st) = self.state.take() {
            shared.set_miss_wish(st.id, None);
            shared.with_ofproto(|o| o.conn_closed(&st));
        }
    }
}

/// An `OFPT_ERROR` in `version`, quoting as much of `data` as fits in one
/// message; versions this switch does not know get OpenFlow 1.0's
/// encoding, as upstream's do.
pub fn error_in_version(err: OfpErr, version: u8, xid: u32, data: &[u8]) -> Vec<u8> {
    let ver = match OfpVersion::from_wire(version) {
        Some(v) => v,
        None => {
            vlog::err!(
                "ofp_errors",
                "cannot encode error for unknown OpenFlow version 0x{version:02x}"
            );
            OfpVersion::Of10
        }
    };
    let quoted = &data[..data.len().min(MAX_MSG - ERROR_HEADER)];
    openflow::encode_error_msg(err, ver, xid, quoted)
}

fn echo_reply(req: &[u8]) -> Vec<u8> {
    let mut m = req.to_vec();
    m[1] = OFPT_ECHO_REPLY;
    m
}

fn echo_request(version: u8) -> Vec<u8> {
    let mut m = vec![version, OFPT_ECHO_REQUEST, 0, 8];
    m.extend_from_slice(&0u32.to_be_bytes());
    m
}

/// How often a connection looks at the daemon clock for its timers.
const TIMER_POLL: Duration = Duration::from_millis(50);

/// What a connection's timers ask for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum TimerAction {
    None,
    /// Send an echo request (the connection goes idle).
    Probe,
    /// No answer to the probe within the interval (its seconds).
    ProbeTimeout(u64),
    /// No hello exchange in time.
    HelloTimeout,
}

/// A connection's timers on the daemon clock (upstream's rconn): the
/// hello exchange must finish in time; a negotiated connection that
/// received nothing for a probe interval is sent an echo request and goes
/// idle, and one idle for another interval is dropped.
#[derive(Clone, Debug)]
struct ConnTimers {
    probe_ms: Option<u64>,
    hello_deadline: u64,
    last_activity: u64,
    idle_since: Option<u64>,
}

impl ConnTimers {
    fn new(now: u64, probe: Option<Duration>, hello_timeout: Duration) -> ConnTimers {
        ConnTimers {
            probe_ms: probe.map(|p| p.as_millis() as u64),
            hello_deadline: now.saturating_add(hello_timeout.as_millis() as u64),
            last_activity: now,
            idle_since: None,
        }
    }

    /// Something was received; true when that ends idleness.
    fn activity(&mut self, now: u64) -> bool {
        self.last_activity = now;
        self.idle_since.take().is_some()
    }

    fn check(&mut self, now: u64, negotiated: bool) -> TimerAction {
        if !negotiated {
            return if now >= self.hello_deadline {
                TimerAction::HelloTimeout
            } else {
                TimerAction::None
            };
        }
        let Some(interval) = self.probe_ms else {
            return TimerAction::None;
        };
        match self.idle_since {
            Some(t) if now >= t.saturating_add(interval) => {
                TimerAction::ProbeTimeout(interval / 1000)
            }
            Some(_) => TimerAction::None,
            None if now >= self.last_activity.saturating_add(interval) => {
                self.idle_since = Some(now);
                TimerAction::Probe
            }
            None => TimerAction::None,
        }
    }
}

/// Something that happened on a connection, for its manager.
#[derive(Debug)]
pub enum ConnEvent {
    /// The hello exchange negotiated this version.
    Up(u8),
    /// The peer was admitted (see [`Step::admitted`]).
    Admitted,
    /// The connection's role (as the Controller table shows it) changed.
    Role(&'static str),
    /// An inactivity probe went out (true) or the peer answered (false).
    Idle(bool),
}

/// A connection's packet-in rate limits (`controller_rate_limit`,
/// `controller_burst_limit`) and where its schedulers' counters go (the
/// Controller table's status).
#[derive(Clone, Debug)]
pub struct PinLimits {
    pub rate: i64,
    pub burst: Option<i64>,
    /// Misses' and other packet-ins' counters, reset when a connection
    /// starts.
    pub stats: SharedPinStats,
}

/// What a running connection takes from its Controller row without
/// reconnecting (upstream's ofconn_reconfigure): a change of these
/// reaches the connection through a `watch` channel.
#[derive(Clone, Debug)]
pub struct LiveSettings {
    /// Inactivity probe interval (none: never probe).
    pub probe: Option<Duration>,
    /// `enable_async_messages`.
    pub async_enabled: bool,
    /// Packet-in rate limits, if any.
    pub limits: Option<PinLimits>,
    /// The longest wait between connection attempts (active targets).
    pub max_backoff: Duration,
    /// Packet-ins that may wait to be sent (`controller_queue_size`);
    /// more are dropped.
    pub queue_size: usize,
}

impl LiveSettings {
    /// Settings that never change (the management socket's).
    pub fn fixed(probe: Option<Duration>) -> watch::Receiver<LiveSettings> {
        watch::channel(LiveSettings {
            probe,
            async_enabled: true,
            limits: None,
            max_backoff: Duration::from_secs(8),
            queue_size: txq::DEFAULT_QUEUE_SIZE,
        })
        .1
    }

    /// True when `other` would change a running connection.
    pub fn differs(&self, other: &LiveSettings) -> bool {
        let lim = |l: &Option<PinLimits>| l.as_ref().map(|l| (l.rate, l.burst));
        self.probe != other.probe
            || self.queue_size != other.queue_size
            || self.max_backoff != other.max_backoff
            || self.async_enabled != other.async_enabled
            || lim(&self.limits) != lim(&other.limits)
    }
}

/// The connection's packet-in schedulers (misses, others).
struct Schedulers {
    scheds: [PinSched; 2],
    stats: SharedPinStats,
}

impl Schedulers {
    /// Schedulers for `l`; a service connection counts apart from its
    /// listener's other connections.
    fn new(l: &PinLimits, own_stats: bool) -> Schedulers {
        let s = Schedulers {
            scheds: [
                PinSched::new(l.rate, l.burst),
                PinSched::new(l.rate, l.burst),
            ],
            stats: if own_stats {
                SharedPinStats::default()
            } else {
                l.stats.clone()
            },
        };
        s.publish();
        s
    }

    /// New limits for the running schedulers (upstream's
    /// `pinsched_set_limits`).
    fn set_limits(&mut self, l: &PinLimits) {
        for s in &mut self.scheds {
            s.set_limits(l.rate, l.burst);
        }
        self.publish();
    }

    fn publish(&self) {
        self.stats
            .set([self.scheds[0].stats(), self.scheds[1].stats()]);
    }

    fn backlog(&self) -> u64 {
        self.scheds[0].backlog() + self.scheds[1].backlog()
    }

    /// Releases what the tokens allow.
    fn run(&mut self, now: u64) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        if self.backlog() > 0 {
            for s in &mut self.scheds {
                s.run(now, &mut out);
            }
            self.publish();
        }
        out
    }
}

/// One asynchronous message for the connection, through its packet-in
/// schedulers when it has them; also what the messages are.
fn deliver(
    session: &mut Session,
    msg: &AsyncMsg,
    shared: &BridgeShared,
    scheds: &mut Option<Schedulers>,
) -> (Vec<Vec<u8>>, Kind) {
    let out = session.deliver(msg, shared);
    let AsyncMsg::PacketIn(pin) = msg else {
        return (out, Kind::Other);
    };
    let Some(sc) = scheds.as_mut() else {
        return (out, Kind::PacketIn);
    };
    if out.is_empty() {
        return (out, Kind::PacketIn);
    }
    let version = session.version().unwrap_or(1);
    let wire = ofproto::handler::asyncmsg::wire_reason(version, pin.reason);
    let which = usize::from(wire != 0);
    let port = pin.metadata.flow.in_port;
    let now = crate::clock::global().now_ms();
    let sent: Vec<Vec<u8>> = out
        .into_iter()
        .filter_map(|m| sc.scheds[which].send(port, m, now))
        .collect();
    sc.publish();
    (sent, Kind::PacketIn)
}

/// Upstream logs at most 5 packet-in drops a minute.
static QUEUE_OVERFLOW_RL: vlog::RateLimit = vlog::RateLimit::new(5, 5);

/// A connection's transmit side on its socket: the queue, its packet-in
/// cap and the name drops are logged under.
struct Transmit {
    q: TxQueue,
    queue_size: usize,
    name: String,
}

impl Transmit {
    /// Queues `msgs` of kind `kind` (packet-ins only within the cap).
    fn queue(&mut self, msgs: Vec<Vec<u8>>, kind: Kind, wr: &mut WriteHalf) -> std::io::Result<()> {
        for m in msgs {
            if kind == Kind::PacketIn {
                // What the socket takes now no longer waits.
                self.flush(wr)?;
                if !self.q.push_packet_in(m, self.queue_size) {
                    vlog::info_rl!(
                        &QUEUE_OVERFLOW_RL,
                        "connmgr",
                        "{}: dropping packet-in due to queue overflow",
                        self.name
                    );
                }
            } else {
                self.q.push(m, kind);
            }
        }
        self.flush(wr)
    }

    /// Writes what the socket takes without waiting. (A write that
    /// cannot proceed registers nothing that matters: the connection's
    /// loop polls a write whenever something is unsent.)
    fn flush(&mut self, wr: &mut WriteHalf) -> std::io::Result<()> {
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        while self.q.has_unsent() {
            let unsent = self.q.unsent();
            match std::pin::Pin::new(&mut *wr).poll_write(&mut cx, unsent) {
                std::task::Poll::Ready(Ok(0)) => return Err(std::io::ErrorKind::WriteZero.into()),
                std::task::Poll::Ready(Ok(n)) => self.q.wrote(n),
                std::task::Poll::Ready(Err(e)) => return Err(e),
                std::task::Poll::Pending => break,
            }
        }
        Ok(())
    }

    /// Sends what waits before a connection closes (an error reply), as
    /// long as the peer takes it within a second.
    async fn finish(&mut self, wr: &mut WriteHalf) {
        let _ = tokio::time::timeout(Duration::from_secs(1), async {
            while self.q.has_unsent() {
                match wr.write(self.q.unsent()).await {
                    Ok(n) if n > 0 => self.q.wrote(n),
                    _ => break,
                }
            }
        })
        .await;
    }
}

type WriteHalf = tokio::io::WriteHalf<BoxStream>;

/// Runs one connection until it ends, reporting what happens to
/// `on_event`; packet-ins go through schedulers when `limits` are given.
///
/// Nothing here waits for the peer to read: messages queue in a
/// [`TxQueue`] written as the socket takes them. Packet-ins beyond the
/// connection's queue size are dropped, and requests are not read while
/// [`txq::REPLY_MAX`] replies wait, as upstream's connections do.
pub async fn serve(
    stream: BoxStream,
    cfg: ConnConfig,
    mut live: watch::Receiver<LiveSettings>,
    shared: Arc<BridgeShared>,
    mut on_event: impl FnMut(ConnEvent) + Send,
) -> ConnEnd {
    let settings = live.borrow_and_update().clone();
    let own_stats = cfg.kind == ConnKind::Service;
    let mut scheds = settings
        .limits
        .as_ref()
        .map(|l| Schedulers::new(l, own_stats));
    let (mut rd, mut wr) = tokio::io::split(stream);
    let mut tx = Transmit {
        q: TxQueue::new(),
        queue_size: settings.queue_size,
        name: format!("{}<->{}", shared.name, cfg.name),
    };
    // Settings that never change have no sender: stop looking.
    let mut live_open = true;
    let probe = settings.probe;
    let hello_timeout = cfg.hello_timeout;
    let mut cfg = cfg;
    cfg.probe = probe;
    cfg.async_enabled = settings.async_enabled;
    let (mut session, hello) = Session::new(cfg, shared.next_xid());
    let end = 'conn: {
        if let Err(e) = tx.queue(vec![hello], Kind::Other, &mut wr) {
            break 'conn io_end(&e);
        }
        let mut bus = shared.subscribe();
        let clock = crate::clock::global();
        let mut timers = ConnTimers::new(clock.now_ms(), probe, hello_timeout);
        let connected_at = clock.now_ms();
        let mut admitted = false;
        let mut role = None;
        let mut buf = vec![0u8; 16384];
        loop {
            let may_read = tx.q.replies() < txq::REPLY_MAX;
            // Requests already received go first: like upstream's main
            // loop, asynchronous messages they cause (a packet-out's
            // packet-in) follow the replies to what came with them.
            let (out, kind): (Vec<Vec<u8>>, Kind) = tokio::select! {
                biased;
                r = rd.read(&mut buf), if may_read => {
                    let n = match r {
                        Ok(0) => break 'conn session.eof(),
                        Ok(n) => n,
                        Err(e) => break 'conn io_end(&e),
                    };
                    if timers.activity(clock.now_ms()) {
                        on_event(ConnEvent::Idle(false));
                    }
                    let step = session.receive(&buf[..n], &shared);
                    if let Some(v) = step.up {
                        on_event(ConnEvent::Up(v));
                    }
                    // Upstream also admits a peer that stayed 30 s.
                    let admits = step.admitted
                        || (session.version().is_some()
                            && clock.now_ms().saturating_sub(connected_at) >= 30_000);
                    if admits && !admitted {
                        admitted = true;
                        on_event(ConnEvent::Admitted);
                    }
                    let r = session.role_text(&shared);
                    if r.is_some() && r != role {
                        role = r;
                        on_event(ConnEvent::Role(r.unwrap_or("other")));
                    }
                    if let Some(end) = step.end {
                        if tx.queue(step.out, Kind::Reply, &mut wr).is_ok() {
                            tx.finish(&mut wr).await;
                        }
                        break 'conn end;
                    }
                    (step.out, Kind::Reply)
                }
                a = bus.recv() => match a {
                    Ok(msg) => {
                        let out = deliver(&mut session, &msg, &shared, &mut scheds);
                        let r = session.role_text(&shared);
                        if r.is_some() && r != role {
                            role = r;
                            on_event(ConnEvent::Role(r.unwrap_or("other")));
                        }
                        out
                    }
                    Err(broadcast::error::RecvError::Lagged(n)) => {
                        vlog::warn!("connmgr", "{}: dropped {n} asynchronous messages", session.cfg.name);
                        (Vec::new(), Kind::Other)
                    }
                    Err(broadcast::error::RecvError::Closed) => break 'conn ConnEnd::Eof,
                },
                // The Controller row changed in place.
                r = live.changed(), if live_open => {
                    match r {
                        Ok(()) => {
                            let now = live.borrow_and_update().clone();
                            timers.probe_ms = now.probe.map(|p| p.as_millis() as u64);
                            session.cfg.probe = now.probe;
                            session.cfg.async_enabled = now.async_enabled;
                            tx.queue_size = now.queue_size;
                            match (&mut scheds, &now.limits) {
                                (Some(s), Some(l)) => s.set_limits(l),
                                (None, Some(l)) => scheds = Some(Schedulers::new(l, own_stats)),
                                (_, None) => scheds = None,
                            }
                        }
                        Err(_) => live_open = false,
                    }
                    (Vec::new(), Kind::Other)
                }
                // The socket takes more of what waits.
                r = wr.write(tx.q.unsent()), if tx.q.has_unsent() => {
                    match r {
                        Ok(0) => break 'conn io_end(&std::io::ErrorKind::WriteZero.into()),
                        Ok(n) => tx.q.wrote(n),
                        Err(e) => break 'conn io_end(&e),
                    }
                    (Vec::new(), Kind::Other)
                }
                // Queued packet-ins leave as the daemon clock gives tokens
                // back (it may be stopped and warped: poll it).
                _ = tokio::time::sleep(Duration::from_millis(10)),
                    if scheds.as_ref().is_some_and(|s| s.backlog() > 0) => {
                    let now = crate::clock::global().now_ms();
                    (scheds.as_mut().map(|s| s.run(now)).unwrap_or_default(), Kind::PacketIn)
                }
                // Hello timeout and inactivity probes, on the daemon clock
                // (polled: `time/warp` moves it without waking anyone).
                _ = tokio::time::sleep(TIMER_POLL) => {
                    match timers.check(clock.now_ms(), session.version().is_some()) {
                        TimerAction::None => (Vec::new(), Kind::Other),
                        TimerAction::HelloTimeout => break 'conn ConnEnd::HelloTimeout,
                        TimerAction::ProbeTimeout(secs) => break 'conn ConnEnd::ProbeTimeout(secs),
                        TimerAction::Probe => {
                            on_event(ConnEvent::Idle(true));
                            (session.probe().into_iter().collect(), Kind::Other)
                        }
                    }
                }
            };
            if let Err(e) = tx.queue(out, kind, &mut wr) {
                break 'conn io_end(&e);
            }
            // Asynchronous messages already published (a packet-out's
            // packet-ins, executed while its request was handled) go out
            // before the next request is read, as upstream's are.
            loop {
                let (out, kind) = match bus.try_recv() {
                    Ok(msg) => deliver(&mut session, &msg, &shared, &mut scheds),
                    Err(broadcast::error::TryRecvError::Lagged(n)) => {
                        vlog::warn!(
                            "connmgr",
                            "{}: dropped {n} asynchronous messages",
                            session.cfg.name
                        );
                        continue;
                    }
                    Err(_) => break,
                };
                if let Err(e) = tx.queue(out, kind, &mut wr) {
                    break 'conn io_end(&e);
                }
            }
        }
    };
    session.finish(&shared);
    let _ = wr.shutdown().await;
    end
}

/// Type of the bus carrying a bridge's asynchronous messages.
pub type AsyncBus = broadcast::Sender<Arc<AsyncMsg>>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bitmap_texts_match_upstream() {
        assert_eq!(version_bitmap_text(0x10), "version 0x04");
        assert_eq!(version_bitmap_text(0x06), "version 0x02 and earlier");
        assert_eq!(version_bitmap_text(0x02), "version 0x01");
        assert_eq!(version_bitmap_text(0x12), "versions 0x01, 0x04");
    }

    #[test]
    fn probes_follow_the_daemon_clock() {
        let mut t = ConnTimers::new(1000, Some(Duration::from_secs(5)), Duration::from_secs(1));
        assert_eq!(t.check(1999, false), TimerAction::None);
        assert_eq!(t.check(2000, false), TimerAction::HelloTimeout);
        assert_eq!(t.check(5999, true), TimerAction::None);
        assert_eq!(t.check(6000, true), TimerAction::Probe);
        assert_eq!(t.check(10_999, true), TimerAction::None);
        // An answer ends idleness; the next probe is an interval later.
        assert!(t.activity(7000));
        assert!(!t.activity(7000));
        assert_eq!(t.check(11_999, true), TimerAction::None);
        assert_eq!(t.check(12_000, true), TimerAction::Probe);
        assert_eq!(t.check(17_000, true), TimerAction::ProbeTimeout(5));
        let mut never = ConnTimers::new(0, None, Duration::from_secs(1));
        assert_eq!(never.check(u64::MAX, true), TimerAction::None);
    }

    #[test]
    fn protocols_column() {
        assert_eq!(allowed_versions(&[]), 0x7e);
        assert_eq!(allowed_versions(&["OpenFlow13".to_string()]), 0x10);
        assert_eq!(
            allowed_versions(&["OpenFlow10".to_string(), "OpenFlow14".to_string()]),
            0x22
        );
    }
}
