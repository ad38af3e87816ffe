//! The datapath interface: what the switch above (vswitchd, ofproto) may ask
//! of a datapath, and what a datapath promises in return. Upstream's
//! `dpif-provider.h`, as Rust traits.
//!
//! # Lifecycle
//!
//! 1. **Create.** A datapath has a type (`"netdev"`: the userspace datapath
//!    over real devices; `"dummy"`: the same engine, named the way upstream's
//!    test datapath is) and a name (`ovs-netdev`, `ovs-dummy`). Creating it
//!    makes port 0, the datapath's local port, named after the datapath.
//!    [`crate::DpifNetdev::create`] makes one.
//! 2. **Handler.** The owner installs an [`UpcallHandler`] with
//!    [`Dpif::set_upcall_handler`]. Until then every miss is dropped and
//!    counted as lost (the PMD never waits for a handler).
//! 3. **Ports.** [`Dpif::port_add`] takes an opened [`netdev::Netdev`] and
//!    returns its datapath port number (the requested one, else the lowest
//!    free number from 1). From then on, forwarding threads poll its receive
//!    queues. [`Dpif::port_del`] stops polling, drops the device's queues and
//!    then the device.
//! 4. **Flows.** Megaflows (a key, a mask, actions) enter either from the
//!    upcall handler's replies or from [`Dpif::flow_put`] (`dpctl/add-flow`);
//!    [`Dpif::flow_dump`] lists them with statistics, [`Dpif::flow_del`] and
//!    [`Dpif::flow_flush`] remove them. Keys and masks are
//!    [`packet::Flow`]s; their ODP text is in [`flow::odp`].
//!    Idle megaflows expire after `max_idle_ms` on the handler thread,
//!    unless the owner took expiry over (`DpifNetdev::set_flow_tuning`
//!    with `None`): the vswitchd's revalidator does, so that it can credit
//!    a flow's last packets to its rules before deleting it.
//! 5. **Destroy.** Dropping the datapath stops its threads, then drops every
//!    port.
//!
//! # The life of a packet
//!
//! A forwarding (PMD) thread owns some receive queues and polls them in
//! batches of up to 32 packets. For each packet it extracts the flow key
//! (`packet::extract`), looks it up first in its exact-match cache (EMC:
//! whole key → megaflow), then in the megaflow classifier (one hash lookup
//! per distinct mask). A hit executes the megaflow's actions at once
//! ([`crate::exec`]) and batches outputs per egress port. A miss becomes an
//! [`Upcall`] queued to a handler thread — a bounded queue: when it is full
//! the packet is dropped and counted as `lost`, the PMD never blocks. The
//! handler thread calls [`UpcallHandler::upcall`] (the vswitchd runs
//! translation there), installs the reply as a megaflow unless the reply
//! says not to or the datapath holds `flow-limit` flows already, and
//! executes the reply's actions on the packet. Actions that need the control
//! plane (`userspace(...)`) queue an upcall of kind [`UpcallKind::Action`]
//! the same way. `recirc(id)` re-enters the lookup with `recirc_id` set.
//!
//! # Threads and locking
//!
//! Control calls (everything on [`Dpif`]) may come from any thread. The
//! megaflow table is behind a reader-writer lock that PMDs take once per
//! batch for reading; writers (flow installation, deletion) hold it only to
//! insert or remove one entry. Statistics are per-thread counters summed
//! on demand.

use std::fmt;
use std::sync::Arc;

use flow::odp::actions::OdpAction;
use flow::odp::Ufid;
use packet::flow::Flow;

/// Errors of datapath operations, with upstream's errno meaning.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DpifError {
    /// The flow (same key under the same mask) is already installed.
    #[error("File exists")]
    Exists,
    /// No such flow or port.
    #[error("No such file or directory")]
    NotFound,
    /// The key or mask is unusable (fitness error, wildcarded `in_port`…).
    #[error("Invalid argument")]
    Invalid,
    /// The port number or name is taken.
    #[error("File exists")]
    PortExists,
    /// The flow table is at its limit.
    #[error("File too large")]
    TooBig,
    /// The device could not be used.
    #[error("{0}")]
    Netdev(String),
}

impl DpifError {
    /// The errno upstream's dpif functions would return.
    pub fn errno(&self) -> i32 {
        match self {
            DpifError::Exists | DpifError::PortExists => libc::EEXIST,
            DpifError::NotFound => libc::ENOENT,
            DpifError::Invalid => libc::EINVAL,
            DpifError::TooBig => libc::EFBIG,
            DpifError::Netdev(_) => libc::ENODEV,
        }
    }
}

/// Why a packet went to the control plane.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UpcallKind {
    /// No megaflow matched.
    Miss,
    /// A `userspace(...)` action ran; its userdata travels along.
    Action(Option<flow::odp::actions::userspace::Userdata>),
}

/// A packet handed to the control plane.
#[derive(Clone, Debug)]
pub struct Upcall {
    /// The packet's flow key (with `in_port` = datapath port, `recirc_id`,
    /// `dp_hash`, conntrack state as the datapath knows them).
    pub flow: Flow,
    /// The frame.
    pub packet: Vec<u8>,
    /// Datapath port the packet arrived on.
    pub in_port: u32,
    pub kind: UpcallKind,
}

/// The control plane's answer to a [`UpcallKind::Miss`] upcall.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UpcallReply {
    /// What to do with this packet (and, if installed, the flow's packets).
    pub actions: Vec<OdpAction>,
    /// The megaflow mask: set bits are the ones translation looked at.
    /// `in_port` and `recirc_id` are always made exact by the datapath.
    pub mask: Flow,
    /// Install a megaflow (false: execute for this packet only, e.g. a
    /// slow-pathed flow).
    pub install: bool,
}

/// The control plane as the datapath calls it: on a handler thread, never
/// on a forwarding thread. For [`UpcallKind::Action`] upcalls the reply is
/// ignored.
pub trait UpcallHandler: Send + Sync {
    fn upcall(&self, up: &Upcall) -> UpcallReply;
}

/// Counters of one megaflow.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FlowStats {
    pub n_packets: u64,
    pub n_bytes: u64,
    /// Monotonic milliseconds of the last hit (0: never).
    pub used: u64,
    /// TCP flags seen.
    pub tcp_flags: u16,
}

/// A megaflow as dumped or installed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DpifFlow {
    pub ufid: Ufid,
    /// Key as installed: bits outside `mask` keep the values of the packet
    /// whose upcall installed the flow (dumps print them, as upstream's).
    pub key: Flow,
    pub mask: Flow,
    pub actions: Arc<[OdpAction]>,
    pub stats: FlowStats,
}

/// How `flow_put` treats an existing flow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PutMode {
    /// Fail with [`DpifError::Exists`] if present (`dpctl/add-flow`).
    Create,
    /// Change the actions of an existing flow, fail if absent
    /// (`dpctl/mod-flow`).
    Modify,
    /// Either (`dpctl/mod-flow --may-create`).
    CreateOrModify,
}

/// Datapath-wide counters (`dpctl/show`'s `lookups:` line).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DpStats {
    pub n_hit: u64,
    pub n_missed: u64,
    pub n_lost: u64,
    pub n_flows: u64,
}

/// A port of the datapath.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DpPort {
    pub port_no: u32,
    pub name: String,
    /// `dummy`, `dummy-internal`, `system`, `internal`, `tap`…
    pub type_name: String,
    /// Configuration as `dpctl/show` lists it (`key=value`).
    pub config: Vec<(String, String)>,
}

/// Forwarding thread configuration (`other_config:pmd-cpu-mask`,
/// `n-handler-threads`, `flow-limit`, EMC insertion).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PmdConfig {
    /// Number of forwarding threads (at least 1).
    pub n_pmd: usize,
    /// CPUs to pin forwarding threads to, in order (empty: no pinning).
    pub cpus: Vec<usize>,
    /// Upcalls queued before further misses are dropped.
    pub upcall_queue: usize,
    /// Megaflows the handler installs at most.
    pub flow_limit: usize,
    /// Exact-match cache entries per thread (a power of two; 0 disables).
    pub emc_entries: usize,
    /// A megaflow hit enters the exact-match cache with probability
    /// 1/N (`other_config:emc-insert-inv-prob`; 0 never, 1 always).
    pub emc_insert_inv_prob: u32,
    /// Megaflows idle this long are removed (`other_config:max-idle`, ms;
    /// `None`: never).
    pub max_idle_ms: Option<u64>,
    /// Longest pause, in microseconds, a forwarding thread takes after a
    /// lightly loaded pass over its queues so that the next pass finds a
    /// fuller batch (upstream's `other_config:pmd-maxsleep`; 0: none, at
    /// most 10,000). An idle thread blocks on its queues' descriptors
    /// either way, so a packet after a quiet spell is not delayed; the
    /// pause works as a NIC's interrupt moderation does: fewer wake-ups of
    /// this thread and of the receivers, fuller batches to coalesce
    /// (default 20: small-packet rates and TCP without offloads gain,
    /// TCP with offloads is unchanged, in the namespace benchmark).
    pub max_sleep_us: u32,
    /// Microseconds a forwarding thread keeps polling its queues after
    /// they ran dry before it blocks on their descriptors (0: block at
    /// once).
    pub idle_spin_us: u32,
}

impl Default for PmdConfig {
    fn default() -> Self {
        PmdConfig {
            n_pmd: 1,
            cpus: Vec::new(),
            upcall_queue: 1024,
            flow_limit: 200_000,
            emc_entries: 8192,
            emc_insert_inv_prob: 100,
            max_idle_ms: Some(10_000),
            max_sleep_us: 20,
            idle_spin_us: 0,
        }
    }
}

impl PmdConfig {
    /// Parses `pmd-cpu-mask` (hex, with or without `0x`) into CPU numbers
    /// and sets one thread per CPU. `None` if the mask is not hex.
    pub fn with_cpu_mask(mut self, mask: &str) -> Option<PmdConfig> {
        let m = mask.trim();
        let m = m
            .strip_prefix("0x")
            .or_else(|| m.strip_prefix("0X"))
            .unwrap_or(m);
        let v = u128::from_str_radix(m, 16).ok()?;
        let cpus: Vec<usize> = (0..128).filter(|i| v & (1u128 << i) != 0).collect();
        if !cpus.is_empty() {
            self.n_pmd = cpus.len();
        }
        self.cpus = cpus;
        Some(self)
    }
}

/// One band of a datapath meter (only drop bands exist in datapaths).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MeterBand {
    /// Kilobits or packets per second (see [`MeterConfig::kbps`]).
    pub rate: u32,
    /// Bucket size in kilobits or packets; 0 means "the rate".
    pub burst_size: u32,
}

/// A datapath meter (`meter(N)` actions refer to it).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MeterConfig {
    /// Rates in kbit/s (else packets/s).
    pub kbps: bool,
    pub bands: Vec<MeterBand>,
}

/// Counters of a meter and of each of its bands (packets, bytes).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MeterStats {
    pub packets_in: u64,
    pub bytes_in: u64,
    pub bands: Vec<(u64, u64)>,
}

/// Why a packet was dropped, for counters (`coverage/show`-style names).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DropReason {
    /// A miss could not be queued to a handler (queue full, no handler).
    UpcallLost,
    /// The handler's reply was not installed because of `flow-limit`.
    FlowLimit,
    /// An `output` to a port the datapath does not have.
    InvalidPort,
    /// Recirculation deeper than the limit.
    RecircDepth,
    /// A meter said no.
    Meter,
    /// The actions ended without output (`drop`, empty list).
    Actions,
    /// The egress refused the frame.
    TxError,
    /// Out of packet buffers.
    NoBuffers,
    /// An action this datapath does not execute (conntrack, tunnels).
    Unsupported,
    /// A frame too short to carry its headers.
    Malformed,
}

impl DropReason {
    pub const ALL: [DropReason; 10] = [
        DropReason::UpcallLost,
        DropReason::FlowLimit,
        DropReason::InvalidPort,
        DropReason::RecircDepth,
        DropReason::Meter,
        DropReason::Actions,
        DropReason::TxError,
        DropReason::NoBuffers,
        DropReason::Unsupported,
        DropReason::Malformed,
    ];

    /// Counter name as upstream's `coverage/show` spells datapath drops.
    pub fn name(self) -> &'static str {
        match self {
            DropReason::UpcallLost => "datapath_drop_upcall_error",
            DropReason::FlowLimit => "upcall_flow_limit_hit",
            DropReason::InvalidPort => "datapath_drop_invalid_port",
            DropReason::RecircDepth => "datapath_drop_recirc_error",
            DropReason::Meter => "datapath_drop_meter",
            DropReason::Actions => "drop_action_of_pipeline",
            DropReason::TxError => "datapath_drop_tx_error",
            DropReason::NoBuffers => "datapath_drop_nomem",
            DropReason::Unsupported => "datapath_drop_invalid_tnl_port",
            DropReason::Malformed => "datapath_drop_rx_invalid_packet",
        }
    }

    pub fn index(self) -> usize {
        DropReason::ALL.iter().position(|r| *r == self).unwrap_or(0)
    }
}

impl fmt::Display for DropReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Per-thread forwarding statistics (`dpif-netdev/pmd-stats-show`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PmdStats {
    pub packets_received: u64,
    pub recirculations: u64,
    pub emc_hits: u64,
    pub megaflow_hits: u64,
    pub subtable_lookups: u64,
    pub upcall_ok: u64,
    pub upcall_failed: u64,
    pub output_batches: u64,
    pub output_packets: u64,
    pub drops: [u64; 10],
}

impl PmdStats {
    pub fn add(&mut self, o: &PmdStats) {
        self.packets_received += o.packets_received;
        self.recirculations += o.recirculations;
        self.emc_hits += o.emc_hits;
        self.megaflow_hits += o.megaflow_hits;
        self.subtable_lookups += o.subtable_lookups;
        self.upcall_ok += o.upcall_ok;
        self.upcall_failed += o.upcall_failed;
        self.output_batches += o.output_batches;
        self.output_packets += o.output_packets;
        for i in 0..self.drops.len() {
            self.drops[i] += o.drops[i];
        }
    }
}

/// A datapath. See the module documentation for the contract.
pub trait Dpif: Send + Sync {
    /// `netdev` or `dummy`.
    fn type_name(&self) -> &str;
    /// The datapath's name (`ovs-netdev`, `ovs-dummy`).
    fn name(&self) -> &str;
    /// Adds a device as a port; `requested` asks for a port number.
    fn port_add(
        &self,
        netdev: Arc<dyn netdev::Netdev>,
        requested: Option<u32>,
    ) -> Result<u32, DpifError>;
    /// Removes a port.
    fn port_del(&self, port_no: u32) -> Result<(), DpifError>;
    /// Every port, by number.
    fn ports(&self) -> Vec<DpPort>;
    /// Sets the configuration `dpctl/show` prints for a port.
    fn port_set_config(&self, port_no: u32, config: Vec<(String, String)>);
    /// The device behind a port.
    fn port_netdev(&self, port_no: u32) -> Option<Arc<dyn netdev::Netdev>>;
    /// Installs the control plane.
    fn set_upcall_handler(&self, handler: Arc<dyn UpcallHandler>);
    /// Installs (or modifies) a megaflow; returns its ufid.
    fn flow_put(
        &self,
        key: &Flow,
        mask: &Flow,
        actions: Vec<OdpAction>,
        ufid: Option<Ufid>,
        mode: PutMode,
    ) -> Result<Ufid, DpifError>;
    /// Removes the megaflow with exactly this key under this mask, or with
    /// this ufid.
    fn flow_del(
        &self,
        key: Option<(&Flow, &Flow)>,
        ufid: Option<Ufid>,
    ) -> Result<DpifFlow, DpifError>;
    /// Every megaflow, with statistics.
    fn flow_dump(&self) -> Vec<DpifFlow>;
    /// Removes every megaflow.
    fn flow_flush(&self);
    /// Executes `actions` on `frame` as if it arrived with `flow`'s
    /// metadata (`in_port`, `recirc_id`…): packet-out.
    fn execute(&self, frame: &[u8], flow: &Flow, actions: &[OdpAction]) -> Result<(), DpifError>;
    /// Datapath-wide counters.
    fn stats(&self) -> DpStats;
    /// Forwarding statistics, summed over threads (handler included).
    fn pmd_stats(&self) -> PmdStats;
    /// Zeroes the forwarding statistics (`dpif-netdev/pmd-stats-clear`).
    fn pmd_stats_clear(&self);
    /// Changes the forwarding threads (restarts them).
    fn set_pmd_config(&self, config: PmdConfig);
    /// Creates or replaces meter `id` (counters restart).
    fn meter_set(&self, id: u32, config: MeterConfig) -> Result<(), DpifError>;
    /// Removes meter `id`, returning its last counters.
    fn meter_del(&self, id: u32) -> Result<MeterStats, DpifError>;
    /// Counters of meter `id`.
    fn meter_get(&self, id: u32) -> Result<MeterStats, DpifError>;
}
