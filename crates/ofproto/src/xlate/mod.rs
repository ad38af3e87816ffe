//! Translation (upstream's ofproto-dpif-xlate): run a flow through a
//! switch's OpenFlow pipeline and produce what the datapath needs to do the
//! same to every packet of the flow — the datapath actions, the megaflow
//! mask (every bit translation looked at), and the side effects (learned
//! flows, `fin_timeout`, MAC learning) for the caller to apply.
//!
//! Life of a translation: [`xlate`] starts in table 0 (or, for a
//! recirculated packet, where the frozen state says), reports every table
//! and action to the optional [`report::Trace`], changes a working copy of
//! the flow as the OpenFlow actions say, and at every output point commits
//! the differences between that flow and the packet as the datapath will
//! see it ([`commit`]).  Resubmits recurse; patch ports continue in the
//! peer bridge (found through [`Bridges`]); `ct(table=N)`, MPLS pops that
//! hide L3 and `controller` actions freeze the rest of the pipeline under a
//! recirculation id ([`recirc`]).
//!
//! Modules: [`report`] (trace tree), [`commit`] (flow → set/push/pop),
//! `engine` (the action interpreter), `output` (ports, patch, flood,
//! controller), `freeze`/[`recirc`] (recirculation), `group`, `learn`,
//! `fields` (set-field, move, stack with megaflow bookkeeping), `tunnel`
//! (native tunnelling: route, neighbour, `tnl_push`, `tnl_pop`, snooping).

pub mod commit;
mod encap;
pub(crate) mod engine;
mod fields;
mod freeze;
mod group;
mod hash;
mod learn;
mod mirror;
mod output;
pub mod recirc;
pub mod report;
mod tunnel;
pub mod tunnel_options;

use std::sync::Arc;

use flow::actions::OfpAction;
use flow::odp::actions::OdpAction;
use flow::Match;
use packet::Flow;

use crate::mac_learning::MacLearning;
use crate::ofproto::Ofproto;
use crate::rule::Rule;

pub use engine::fix_vlan_tpid;
pub use report::Trace;

/// Slow-path reasons (bits in `slow_path(...)` order).
pub const SLOW_CFM: u32 = 1 << 0;
pub const SLOW_BFD: u32 = 1 << 1;
pub const SLOW_LACP: u32 = 1 << 2;
pub const SLOW_STP: u32 = 1 << 3;
pub const SLOW_LLDP: u32 = 1 << 4;
pub const SLOW_ACTION: u32 = 1 << 5;
pub const SLOW_MATCH: u32 = 1 << 6;

/// The other bridges a translation may reach (patch peers, frozen states
/// of another bridge) and per-bridge NORMAL state.
pub trait Bridges {
    /// The bridge that has a port named `name`, and that port's number.
    fn port_by_name(&self, name: &str) -> Option<(&Ofproto, u32)>;
    /// The bridge named `name`.
    fn bridge(&self, name: &str) -> Option<&Ofproto>;
    /// The MAC learning table of bridge `name` (for NORMAL).
    fn mac_learning(&self, name: &str) -> Option<&MacLearning>;
}

/// No other bridges and no NORMAL state.
pub struct NoBridges;

impl Bridges for NoBridges {
    fn port_by_name(&self, _: &str) -> Option<(&Ofproto, u32)> {
        None
    }
    fn bridge(&self, _: &str) -> Option<&Ofproto> {
        None
    }
    fn mac_learning(&self, _: &str) -> Option<&MacLearning> {
        None
    }
}

/// What to translate.
#[derive(Clone, Debug, Default)]
pub struct XlateIn<'a> {
    /// The packet's flow (for a recirculated packet, with its `recirc_id`).
    pub flow: Flow,
    /// The packet itself, when there is one (packet-out, upcall, trace of a
    /// packet).
    pub packet: Option<&'a [u8]>,
    /// Build a trace tree.
    pub trace: bool,
    /// Side effects will be applied (upcalls, packet-outs); when false
    /// (traces, revalidation of idle flows) learning is skipped and, unless
    /// `revalidation`, controller actions are marked `dont_send`.
    pub allow_side_effects: bool,
    /// Translation by the revalidator of an installed megaflow: its
    /// controller actions stay sendable (`dont_send=0`) whether or not
    /// side effects are allowed, as upstream's (which translates through
    /// its translation cache there, not as a trace).
    pub revalidation: bool,
    /// Translate these actions instead of looking up table 0 (packet-out).
    pub ofpacts: Option<&'a [OfpAction]>,
    /// The actions come from a packet-out.
    pub in_packet_out: bool,
}

/// Why translation gave up (upstream's `xlate_strerror` texts).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum XlateError {
    BridgeNotFound,
    RecursionTooDeep,
    TooManyResubmits,
    StackTooDeep,
    NoRecirculationContext,
    RecirculationConflict,
    TooManyMplsLabels,
    InvalidTunnelMetadata,
    UnsupportedPacketType,
    CongestionDrop,
    ForwardingDisabled,
}

impl XlateError {
    /// The text upstream prints in `Translation failed (%s)`.
    pub fn text(self) -> &'static str {
        match self {
            XlateError::BridgeNotFound => "Bridge not found",
            XlateError::RecursionTooDeep => "Recursion too deep",
            XlateError::TooManyResubmits => "Too many resubmits",
            XlateError::StackTooDeep => "Stack too deep",
            XlateError::NoRecirculationContext => "No recirculation context",
            XlateError::RecirculationConflict => "Recirculation conflict",
            XlateError::TooManyMplsLabels => "Too many MPLS labels",
            XlateError::InvalidTunnelMetadata => "Invalid tunnel metadata",
            XlateError::UnsupportedPacketType => "Unsupported packet type",
            XlateError::CongestionDrop => "Congestion Drop",
            XlateError::ForwardingDisabled => "Forwarding is disabled",
        }
    }
}

/// A flow a `learn` action wants added.
#[derive(Clone, Debug, PartialEq)]
pub struct LearnedFlow {
    pub table_id: u8,
    pub match_: Match,
    pub priority: u16,
    pub idle_timeout: u16,
    pub hard_timeout: u16,
    pub cookie: u64,
    /// `NX_LEARN_F_*`
    pub flags: u16,
    pub fin_idle_timeout: u16,
    pub fin_hard_timeout: u16,
    pub limit: u32,
    pub actions: Vec<OfpAction>,
}

/// Something translation wants done beyond the datapath actions.
#[derive(Clone, Debug)]
pub enum SideEffect {
    /// Add (or refresh) a flow in bridge `bridge`.
    Learn {
        bridge: String,
        flow: Box<LearnedFlow>,
    },
    /// Lower `rule`'s timeouts if the packet has TCP FIN or RST.
    FinTimeout {
        rule: Arc<Rule>,
        idle: u16,
        hard: u16,
    },
    /// Send `packet` into bridge `bridge` as if it came from its LOCAL
    /// port (through its flow table): native tunnelling's ARP requests
    /// and neighbour solicitations.
    SendPacket { bridge: String, packet: Vec<u8> },
}

/// A conntrack recirculation that a trace follows up on.
#[derive(Clone, Debug)]
pub struct CtRecirc {
    /// The flow when the `ct` action ran (before its fields were cleared).
    pub flow: Flow,
    pub recirc_id: u32,
    pub zone: u16,
    /// NAT was requested (`nat` inside `ct`).
    pub nat: Option<flow::actions::Nat>,
}

/// What translation produced.
#[derive(Clone, Debug, Default)]
pub struct XlateOut {
    /// Datapath actions (empty = drop).
    pub actions: Vec<OdpAction>,
    /// The megaflow mask.
    pub wc: Flow,
    pub side_effects: Vec<SideEffect>,
    /// `SLOW_*` bits: the flow must be handled in userspace.
    pub slow: u32,
    pub error: Option<XlateError>,
    /// The flow as the pipeline left it (`Final flow:`).
    pub final_flow: Flow,
    /// The trace tree, if asked for.
    pub trace: Option<Trace>,
    /// Conntrack recirculations (for trace follow-ups).
    pub ct_recircs: Vec<CtRecirc>,
    /// The rules the packet matched, in order: the datapath's statistics
    /// for the flow are credited to them (upstream's xlate cache).
    pub rules: Vec<Arc<Rule>>,
    /// Tunnel ports the packet came in or went out of, and patch ports it
    /// crossed (sent by one side, received by its peer): the flow's
    /// statistics are credited to them too.
    pub tunnel_stats: Vec<crate::tnl::StatsCredit>,
    /// Groups the packet went through, with the bucket a select or
    /// fast-failover group took (`None`: all of them).
    pub group_stats: Vec<GroupCredit>,
    /// Mirrors the packet was eligible for.
    pub mirror_stats: Vec<Arc<crate::mirror::MirrorCounters>>,
}

/// A group a flow's packets count for, and the bucket they took (`None`:
/// every bucket, as for `all` and `indirect` groups).
pub type GroupCredit = (Arc<crate::Group>, Option<Arc<crate::Bucket>>);

/// What besides rules a flow's packets count for: the tunnel and patch
/// ports they cross, the groups they go through and the mirrors they are
/// eligible for (upstream's xlate
/// cache entries for netdevs and groups).
#[derive(Clone, Debug, Default)]
pub struct Credits {
    pub ports: Vec<crate::tnl::StatsCredit>,
    pub groups: Vec<GroupCredit>,
    pub mirrors: Vec<Arc<crate::mirror::MirrorCounters>>,
}

impl Credits {
    /// Adds `packets` packets of `bytes` bytes in all to everything.
    pub fn credit(&self, packets: u64, bytes: u64) {
        for (port, tx) in &self.ports {
            port.credit(*tx, packets, bytes);
        }
        for (g, b) in &self.groups {
            g.credit(packets, bytes);
            match b {
                Some(b) => b.credit(packets, bytes),
                None => g.buckets.iter().for_each(|b| b.credit(packets, bytes)),
            }
        }
        for m in &self.mirrors {
            m.credit(packets, bytes);
        }
    }
}

impl XlateOut {
    /// The ports and groups to credit with the flow's packets.
    pub fn credits(&self) -> Credits {
        Credits {
            ports: self.tunnel_stats.clone(),
            groups: self.group_stats.clone(),
            mirrors: self.mirror_stats.clone(),
        }
    }
}

/// Translates `input` in bridge `ofproto`; patch ports and frozen states in
/// other bridges go through `bridges`.
pub fn xlate(ofproto: &Ofproto, bridges: &dyn Bridges, input: XlateIn) -> XlateOut {
    engine::run(ofproto, bridges, input)
}

/// What NORMAL (a sibling module) needs from the translation engine.
pub(crate) mod engine_api {
    pub(crate) use super::engine::{Ctx, OFPPC_NO_FLOOD};
    pub(crate) use super::mirror::is_mirror_out;
    pub(crate) use super::output::compose_output;
    pub(crate) use super::report::NodeKind;
}
