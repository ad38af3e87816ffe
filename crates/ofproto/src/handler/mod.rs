//! OpenFlow message handling: the per-connection state ([`ConnState`]) and
//! the dispatch of every request a controller or `ovs-ofctl` sends, with
//! replies encoded in the connection's version and errors as upstream's
//! `OFPT_ERROR`. Asynchronous messages ([`AsyncMsg`]) and packet-out
//! execution requests ([`PacketOutRequest`]) are data handed to the caller.

use flow::actions::OfpAction;
use std::collections::BTreeMap;

/// A controller's role (`OFPCR12_ROLE_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Role {
    #[default]
    Equal,
    Master,
    Slave,
}

/// The flow format a pre-OF1.2 connection uses for flow messages
/// (`NXT_SET_FLOW_FORMAT`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum FlowFormat {
    /// OpenFlow 1.0 `ofp_match`.
    #[default]
    OpenFlow10,
    /// Nicira extended match.
    Nxm,
}

/// Per-connection state the switch needs to answer requests.
#[derive(Clone, Debug, Default)]
pub struct ConnState {
    /// Identifies the connection to the switch (distinct per connection;
    /// chosen by the connection manager).
    pub id: u64,
    /// A service connection (a `punix:`/`ptcp:` listener's, such as
    /// ovs-ofctl's on `<bridge>.mgmt`) rather than a controller: it gets
    /// asynchronous messages only after setting a nonzero miss_send_len.
    pub service: bool,
    /// Negotiated OpenFlow version (wire byte, 1 = OF1.0 ... 6 = OF1.5).
    pub version: u8,
    /// The connection's role.
    pub role: Role,
    /// NXT_SET_FLOW_FORMAT state (only meaningful for OF1.0).
    pub flow_format: FlowFormat,
    /// Whether NXT_FLOW_MOD_TABLE_ID was enabled.
    pub flow_mod_table_id: bool,
    /// NXT_SET_PACKET_IN_FORMAT (0 = standard, 1 = NXT_PACKET_IN, 2 = NXT_PACKET_IN2).
    pub packet_in_format: u32,
    /// NXT_SET_CONTROLLER_ID.
    pub controller_id: u16,
    /// Async config: for each of packet-in, port-status, flow-removed,
    /// role-status, table-status, requestforward the (master, slave) masks.
    pub async_config: Option<openflow::msgs::control::AsyncConfig>,
    /// Missed-send-len from set-config (per connection upstream; 0 for
    /// service connections such as ovs-ofctl's, 128 for controllers).
    pub miss_send_len: u16,
    /// Active flow monitors by id.
    pub monitors: BTreeMap<u32, crate::handler::monitor_state::MonitorSpec>,
    /// Open bundles by id.
    pub bundles: BTreeMap<u32, crate::bundle_txn::Bundle>,
    /// Packet-outs decoded and validated, waiting for the caller to execute.
    pub packet_outs: Vec<PacketOutRequest>,
    /// Resumed packet-ins (`NXT_RESUME`) waiting for the caller to
    /// continue their translation.
    pub resumes: Vec<openflow::msgs::packet_in::PacketIn2>,
    /// Conntrack flush requests (`NXT_CT_FLUSH_ZONE`, `NXT_CT_FLUSH`)
    /// waiting for the caller to apply to the datapath.
    pub ct_flushes: Vec<openflow::msgs::ct_flush::CtFlush>,
}

impl ConnState {
    /// Fresh state for connection `id` that negotiated `version`
    /// (miss_send_len 0, as upstream gives service connections; set 128
    /// for controllers).
    pub fn new(id: u64, version: u8) -> ConnState {
        ConnState {
            id,
            version,
            ..ConnState::default()
        }
    }

    /// Takes the `NXT_RESUME` requests received so far, in order.
    pub fn take_resumes(&mut self) -> Vec<openflow::msgs::packet_in::PacketIn2> {
        std::mem::take(&mut self.resumes)
    }

    /// Takes the conntrack flushes requested so far, in order.
    pub fn take_ct_flushes(&mut self) -> Vec<openflow::msgs::ct_flush::CtFlush> {
        std::mem::take(&mut self.ct_flushes)
    }

    /// Takes the packet-outs accepted so far, in order.
    pub fn take_packet_outs(&mut self) -> Vec<PacketOutRequest> {
        std::mem::take(&mut self.packet_outs)
    }
}

/// A validated packet-out for the caller (vswitchd) to translate and
/// execute on the datapath.
#[derive(Clone, Debug, PartialEq)]
pub struct PacketOutRequest {
    /// The packet (from the message; buffer ids are not supported, as upstream).
    pub packet: Vec<u8>,
    /// Ingress port (`OFPP_CONTROLLER` when none) plus metadata match
    /// (OF1.5 carries a full metadata match).
    pub in_port: u32,
    /// Packet metadata from an OF1.5 packet-out (tunnel, registers...).
    pub metadata: flow::Match,
    /// The actions to apply.
    pub actions: Vec<OfpAction>,
}

/// An asynchronous message the switch originates.
#[derive(Clone, Debug, PartialEq)]
pub enum AsyncMsg {
    /// A rule left its table and asked for it (`send_flow_rem`).
    FlowRemoved(openflow::msgs::flow::FlowRemoved),
    /// A port was added (reason 0), deleted (1) or modified (2).
    PortStatus {
        reason: u8,
        port: openflow::msgs::port::PhyPort,
    },
    /// A packet sent to the controller by translation.
    PacketIn(openflow::msgs::packet_in::PacketIn),
    /// A flow monitor update; connmgr matches it against each
    /// connection's monitors ([`monitor::encode_update`]).
    FlowUpdate(crate::handler::monitor_state::FlowUpdate),
    /// Connection `conn_id` lost its primary role to another connection.
    RoleStatus { conn_id: u64, generation_id: u64 },
}

pub mod asyncmsg;
pub mod bundle;
pub mod dispatch;
pub mod features;
pub mod flows;
pub mod groups;
pub mod meters;
pub mod monitor;
pub mod monitor_state;
pub mod multipart;
pub mod packet_out;
pub mod ports;
pub mod switch;
pub mod tables;
pub mod tlv;
