//! [`OfpMessage`]: any OpenFlow message as one value, a thin dispatch over
//! the per-family `Repr`s of this module's siblings. [`OfpMessage::decode`]
//! checks the header, finds the registry entry ([`OfpRaw`]) and decodes
//! the body with its family's decoder; [`OfpMessage::encode`] is the
//! inverse for a given raw message type, version and xid.
//!
//! The registry entry says which layout a family uses on the wire (for
//! example `OFPT10_FLOW_MOD`, `OFPT11_FLOW_MOD` or `NXT_FLOW_MOD`), so the
//! pair `(OfpRaw, OfpMessage)` is a complete description of a message.

use super::control::{self, AsyncConfig, BundleCtrl, RoleRequest, RoleStatus, TableMod};
use super::ct_flush::CtFlush;
use super::flow::{
    AggregateReply, FlowRemoved, FlowRemovedForm, FlowStatsRequest, StatsRequestForm,
};
use super::flow_mod::{FlowMod, FlowModForm, FlowStats, FlowStatsForm};
use super::group::{self, GroupFeatures, GroupStats};
use super::group_mod::{GroupDesc, GroupMod};
use super::meter::{self, MeterConfig, MeterFeatures, MeterMod, MeterStats};
use super::monitor::{FlowUpdate, MonitorForm, MonitorRequest};
use super::packet_in::{PacketIn, PacketIn2, PacketInForm};
use super::packet_out::PacketOut;
use super::port::{self, PhyPort, PortMod};
use super::queue::{self, QueueDesc};
use super::stats::{self, DescStats, IpfixStats, PortStats, QueueRequest, QueueStats, TableStats};
use super::switch::{Hello, SwitchConfig, SwitchFeatures};
use super::table_desc::{self, TableDesc};
use super::table_features::{self, TableCounters, TableFeatures};
use super::tlv_table::{TlvTableMod, TlvTableReply};
use crate::bits::port_from_ofp11;
use crate::errors::{decode_error_body, encode_error_msg, OfpErr};
use crate::raw::{decode_raw, finish, start, OfpRaw};
use crate::version::OfpVersion;
use crate::wire::{Put, Reader};

const BAD: OfpErr = OfpErr::OFPBRC_BAD_LEN;

/// The body of any OpenFlow message, decoded. Which message type and
/// layout it belongs to is the [`OfpRaw`] it is decoded from or encoded
/// as; variants shared by several types say so.
#[derive(Clone, Debug, PartialEq)]
pub enum OfpMessage {
    Hello(Hello),
    Error {
        error: OfpErr,
        payload: Vec<u8>,
    },
    /// Echo request or reply payload.
    Echo(Vec<u8>),
    /// A message with no body (features/config/barrier requests, barrier
    /// replies, bodiless multipart requests, monitor paused/resumed, ...).
    Empty,
    FeaturesReply(SwitchFeatures),
    /// Get-config reply or set-config.
    SwitchConfig(SwitchConfig),
    PacketIn(PacketIn),
    /// `NXT_PACKET_IN2` or `NXT_RESUME`.
    PacketIn2(PacketIn2),
    PacketOut(PacketOut),
    FlowMod(FlowMod),
    FlowRemoved(FlowRemoved),
    PortStatus {
        reason: u8,
        port: PhyPort,
    },
    PortMod(PortMod),
    TableMod(TableMod),
    /// Role request or reply.
    Role(RoleRequest),
    RoleStatus(RoleStatus),
    /// Get-async reply or set-async.
    Async(AsyncConfig),
    BundleControl(BundleCtrl),
    BundleAdd {
        bundle_id: u32,
        flags: u16,
        /// The whole inner message.
        inner: Vec<u8>,
    },
    /// The body: the whole forwarded request (and any bytes after it).
    RequestForward(Vec<u8>),
    GroupMod(GroupMod),
    MeterMod(MeterMod),
    TlvTableMod(TlvTableMod),
    TlvTableReply(TlvTableReply),
    /// Set-flow-format, set-packet-in-format, flow-monitor cancel.
    U32(u32),
    /// Controller id, conntrack zone flush.
    U16(u16),
    FlowModTableId(bool),
    CtFlush(CtFlush),
    TableStatus {
        reason: u8,
        desc: TableDesc,
    },
    DescReply(DescStats),
    /// Flow or aggregate statistics request.
    FlowStatsRequest(FlowStatsRequest),
    FlowStatsReply(Vec<FlowStats>),
    AggregateReply(AggregateReply),
    TableStatsReply(Vec<TableStats>),
    /// OpenFlow 1.1 and 1.2 table statistics, which describe features too.
    TableStatsFeatures(Vec<(TableFeatures, TableCounters)>),
    /// Port statistics request, OpenFlow 1.5 port-description request.
    PortRequest(u16),
    PortStatsReply(Vec<PortStats>),
    PortDescReply(Vec<PhyPort>),
    QueueStatsRequest(QueueRequest),
    QueueStatsReply(Vec<QueueStats>),
    /// Queue-get-config request, OpenFlow 1.4 queue-description request.
    QueueConfigRequest {
        port: u16,
        queue: u32,
    },
    /// Queue-get-config reply (with its port in OpenFlow 1.0-1.3), queue
    /// description reply.
    QueueConfigReply {
        port: u16,
        queues: Vec<QueueDesc>,
    },
    /// Group statistics or description request.
    GroupRequest(u32),
    GroupStatsReply(Vec<GroupStats>),
    GroupDescReply(Vec<GroupDesc>),
    GroupFeaturesReply(GroupFeatures),
    /// Meter statistics or configuration request.
    MeterRequest(u32),
    MeterStatsReply(Vec<MeterStats>),
    MeterConfigReply(Vec<MeterConfig>),
    MeterFeaturesReply(MeterFeatures),
    /// Table-features request (nonempty) or reply.
    TableFeatures(Vec<TableFeatures>),
    TableDescReply(Vec<TableDesc>),
    FlowMonitorRequest(Vec<MonitorRequest>),
    FlowMonitorReply(Vec<FlowUpdate>),
    IpfixBridgeReply(IpfixStats),
    IpfixFlowReply(Vec<IpfixStats>),
}

fn flow_mod_form(raw: OfpRaw) -> FlowModForm {
    match raw {
        OfpRaw::OFPT10_FLOW_MOD => FlowModForm::Of10,
        OfpRaw::NXT_FLOW_MOD => FlowModForm::Nx,
        _ => FlowModForm::Of11,
    }
}

fn flow_removed_form(raw: OfpRaw) -> FlowRemovedForm {
    match raw {
        OfpRaw::OFPT10_FLOW_REMOVED => FlowRemovedForm::Of10,
        OfpRaw::OFPT15_FLOW_REMOVED => FlowRemovedForm::Of15,
        OfpRaw::NXT_FLOW_REMOVED => FlowRemovedForm::Nx,
        _ => FlowRemovedForm::Of11,
    }
}

fn stats_request_form(raw: OfpRaw) -> StatsRequestForm {
    use OfpRaw::*;
    match raw {
        OFPST10_FLOW_REQUEST | OFPST10_AGGREGATE_REQUEST => StatsRequestForm::Of10,
        NXST_FLOW_REQUEST | NXST_AGGREGATE_REQUEST => StatsRequestForm::Nx,
        _ => StatsRequestForm::Of11,
    }
}

fn flow_stats_form(raw: OfpRaw) -> FlowStatsForm {
    match raw {
        OfpRaw::OFPST10_FLOW_REPLY => FlowStatsForm::Of10,
        OfpRaw::NXST_FLOW_REPLY => FlowStatsForm::Nx,
        OfpRaw::OFPST15_FLOW_REPLY => FlowStatsForm::Of15,
        _ => FlowStatsForm::Of11,
    }
}

fn packet_in_form(raw: OfpRaw) -> PacketInForm {
    match raw {
        OfpRaw::OFPT10_PACKET_IN => PacketInForm::Of10,
        OfpRaw::OFPT11_PACKET_IN => PacketInForm::Of11,
        OfpRaw::OFPT12_PACKET_IN => PacketInForm::Of12,
        OfpRaw::OFPT13_PACKET_IN => PacketInForm::Of13,
        _ => PacketInForm::Nx,
    }
}

fn monitor_form(raw: OfpRaw) -> MonitorForm {
    use OfpRaw::*;
    match raw {
        NXST_FLOW_MONITOR_REQUEST | NXST_FLOW_MONITOR_REPLY => MonitorForm::Nx,
        ONFST13_FLOW_MONITOR_REQUEST | ONFST13_FLOW_MONITOR_REPLY => MonitorForm::Onf,
        _ => MonitorForm::Of14,
    }
}

/// The port of a queue-get-config message's header (OpenFlow 1.0-1.3).
fn queue_config_port(version: u8, body: &[u8]) -> Result<u16, OfpErr> {
    let mut r = Reader::new(body);
    if version == 1 {
        r.u16().ok_or(BAD)
    } else {
        port_from_ofp11(r.u32().ok_or(BAD)?).ok_or(OfpErr::OFPBRC_BAD_PORT)
    }
}

impl OfpMessage {
    /// Decodes a whole message (header checks as upstream's, then the
    /// body), returning its registry entry too.
    pub fn decode(msg: &[u8]) -> Result<(OfpRaw, OfpMessage), OfpErr> {
        let raw = decode_raw(msg)?;
        let version = msg[0];
        let body = &msg[raw.header_len(version)..];
        Ok((raw, Self::decode_body(raw, msg, body)?))
    }

    fn decode_body(raw: OfpRaw, msg: &[u8], body: &[u8]) -> Result<OfpMessage, OfpErr> {
        use OfpMessage as M;
        use OfpRaw::*;
        let version = msg[0];
        Ok(match raw {
            OFPT_HELLO => M::Hello(Hello::decode(msg)),
            OFPT_ERROR => {
                let v = OfpVersion::from_wire(version).unwrap_or(OfpVersion::Of10);
                let em = decode_error_body(v, body).ok_or(BAD)?;
                M::Error {
                    error: em.error,
                    payload: em.payload.to_vec(),
                }
            }
            OFPT_ECHO_REQUEST | OFPT_ECHO_REPLY => M::Echo(body.to_vec()),
            OFPT_FEATURES_REQUEST
            | OFPT_GET_CONFIG_REQUEST
            | OFPT10_BARRIER_REQUEST
            | OFPT11_BARRIER_REQUEST
            | OFPT10_BARRIER_REPLY
            | OFPT11_BARRIER_REPLY
            | OFPT13_GET_ASYNC_REQUEST
            | OFPT14_GET_ASYNC_REQUEST
            | NXT_FLOW_AGE
            | NXT_FLOW_MONITOR_PAUSED
            | ONFT13_FLOW_MONITOR_PAUSED
            | NXT_FLOW_MONITOR_RESUMED
            | ONFT13_FLOW_MONITOR_RESUMED
            | NXT_TLV_TABLE_REQUEST
            | OFPST_DESC_REQUEST
            | OFPST_TABLE_REQUEST
            | OFPST12_GROUP_FEATURES_REQUEST
            | NXST_GROUP_FEATURES_REQUEST
            | OFPST13_METER_FEATURES_REQUEST
            | OFPST14_TABLE_DESC_REQUEST
            | NXST_IPFIX_BRIDGE_REQUEST
            | NXST_IPFIX_FLOW_REQUEST
            | OFPST10_PORT_DESC_REQUEST
            | OFPST11_GROUP_DESC_REQUEST => M::Empty,
            OFPT10_FEATURES_REPLY | OFPT11_FEATURES_REPLY | OFPT13_FEATURES_REPLY => {
                M::FeaturesReply(SwitchFeatures::decode(version, body)?)
            }
            OFPT_GET_CONFIG_REPLY | OFPT_SET_CONFIG => M::SwitchConfig(SwitchConfig::decode(body)?),
            OFPT10_PACKET_IN | OFPT11_PACKET_IN | OFPT12_PACKET_IN | OFPT13_PACKET_IN
            | NXT_PACKET_IN => M::PacketIn(PacketIn::decode(packet_in_form(raw), body)?),
            NXT_PACKET_IN2 | NXT_RESUME => M::PacketIn2(PacketIn2::decode(version, body)?),
            OFPT10_PACKET_OUT | OFPT11_PACKET_OUT | OFPT15_PACKET_OUT => {
                M::PacketOut(PacketOut::decode(version, body)?)
            }
            OFPT10_FLOW_MOD | OFPT11_FLOW_MOD | NXT_FLOW_MOD => {
                M::FlowMod(FlowMod::decode(flow_mod_form(raw), version, body)?)
            }
            OFPT10_FLOW_REMOVED | OFPT11_FLOW_REMOVED | OFPT15_FLOW_REMOVED | NXT_FLOW_REMOVED => {
                M::FlowRemoved(FlowRemoved::decode(flow_removed_form(raw), body)?)
            }
            OFPT10_PORT_STATUS | OFPT11_PORT_STATUS | OFPT14_PORT_STATUS => {
                let mut r = Reader::new(body);
                let reason = r.u8().ok_or(BAD)?;
                r.skip(7).ok_or(BAD)?;
                let port = PhyPort::decode(version, &mut r)?;
                if reason > 2 {
                    return Err(OfpErr::NXBRC_BAD_REASON);
                }
                M::PortStatus { reason, port }
            }
            OFPT10_PORT_MOD | OFPT11_PORT_MOD | OFPT14_PORT_MOD => {
                M::PortMod(PortMod::decode(version, body)?)
            }
            OFPT11_TABLE_MOD | OFPT14_TABLE_MOD => M::TableMod(TableMod::decode(version, body)?),
            OFPT12_ROLE_REQUEST | OFPT12_ROLE_REPLY => M::Role(RoleRequest::decode_of12(body)?),
            NXT_ROLE_REQUEST | NXT_ROLE_REPLY => M::Role(RoleRequest::decode_nx(body)?),
            ONFT13_ROLE_STATUS | OFPT14_ROLE_STATUS => M::RoleStatus(RoleStatus::decode(body)?),
            OFPT13_GET_ASYNC_REPLY | OFPT13_SET_ASYNC | NXT_SET_ASYNC_CONFIG => {
                M::Async(AsyncConfig::decode_legacy(version, body)?)
            }
            OFPT14_GET_ASYNC_REPLY => M::Async(AsyncConfig::decode_props(version, body, true)?),
            OFPT14_SET_ASYNC | NXT_SET_ASYNC_CONFIG2 => {
                M::Async(AsyncConfig::decode_props(version, body, false)?)
            }
            OFPT14_BUNDLE_CONTROL | ONFT13_BUNDLE_CONTROL => {
                M::BundleControl(BundleCtrl::decode(body)?)
            }
            OFPT14_BUNDLE_ADD_MESSAGE | ONFT13_BUNDLE_ADD_MESSAGE => {
                let mut r = Reader::new(body);
                let bundle_id = r.u32().ok_or(BAD)?;
                r.skip(2).ok_or(BAD)?;
                let flags = r.u16().ok_or(BAD)?;
                let inner = crate::print::decode_bundle_inner(msg, body, raw)?;
                M::BundleAdd {
                    bundle_id,
                    flags,
                    inner: inner.to_vec(),
                }
            }
            NXT_REQUESTFORWARD | ONFT13_REQUESTFORWARD | OFPT14_REQUESTFORWARD => {
                let ilen = body
                    .get(2..4)
                    .map(|b| usize::from(u16::from_be_bytes([b[0], b[1]])))
                    .ok_or(BAD)?;
                if ilen < 8 || ilen > body.len() || body[0] != version {
                    return Err(BAD);
                }
                M::RequestForward(body.to_vec())
            }
            OFPT11_GROUP_MOD | OFPT15_GROUP_MOD | NXT_GROUP_MOD => {
                M::GroupMod(GroupMod::decode(version, body)?)
            }
            OFPT13_METER_MOD => M::MeterMod(MeterMod::decode(body)?),
            NXT_TLV_TABLE_MOD => M::TlvTableMod(TlvTableMod::decode(body)?),
            NXT_TLV_TABLE_REPLY => M::TlvTableReply(TlvTableReply::decode(body)?),
            NXT_SET_FLOW_FORMAT
            | NXT_SET_PACKET_IN_FORMAT
            | NXT_FLOW_MONITOR_CANCEL
            | ONFT13_FLOW_MONITOR_CANCEL => M::U32(control::decode_u32(body)?),
            NXT_SET_CONTROLLER_ID | NXT_CT_FLUSH_ZONE => M::U16(control::decode_padded_u16(body)?),
            NXT_FLOW_MOD_TABLE_ID => M::FlowModTableId(body.first().copied().ok_or(BAD)? != 0),
            NXT_CT_FLUSH => M::CtFlush(CtFlush::decode(body)?),
            OFPT14_TABLE_STATUS => {
                let mut r = Reader::new(body);
                let reason = r.u8().ok_or(BAD)?;
                r.skip(7).ok_or(BAD)?;
                let desc = TableDesc::decode(&mut r)?;
                if !(3..=4).contains(&reason) {
                    return Err(OfpErr::OFPBPC_BAD_VALUE);
                }
                M::TableStatus { reason, desc }
            }
            OFPST_DESC_REPLY => M::DescReply(DescStats::decode(body)?),
            OFPST10_FLOW_REQUEST
            | OFPST11_FLOW_REQUEST
            | NXST_FLOW_REQUEST
            | OFPST10_AGGREGATE_REQUEST
            | OFPST11_AGGREGATE_REQUEST
            | OFPST15_AGGREGATE_REQUEST
            | NXST_AGGREGATE_REQUEST => {
                M::FlowStatsRequest(FlowStatsRequest::decode(stats_request_form(raw), body)?)
            }
            OFPST10_FLOW_REPLY | OFPST11_FLOW_REPLY | OFPST13_FLOW_REPLY | OFPST15_FLOW_REPLY
            | NXST_FLOW_REPLY => {
                M::FlowStatsReply(FlowStats::decode_all(flow_stats_form(raw), version, body)?)
            }
            OFPST_AGGREGATE_REPLY | NXST_AGGREGATE_REPLY | OFPST15_AGGREGATE_REPLY => {
                M::AggregateReply(AggregateReply::decode(
                    raw == OFPST15_AGGREGATE_REPLY,
                    body,
                )?)
            }
            OFPST10_TABLE_REPLY | OFPST13_TABLE_REPLY => {
                let mut r = Reader::new(body);
                let mut tables = Vec::new();
                while !r.is_empty() {
                    tables.push(TableStats::decode(version, &mut r)?);
                }
                M::TableStatsReply(tables)
            }
            OFPST11_TABLE_REPLY => {
                M::TableStatsFeatures(table_features::decode_of11_table_stats(body)?)
            }
            OFPST12_TABLE_REPLY => {
                M::TableStatsFeatures(table_features::decode_of12_table_stats(body)?)
            }
            OFPST10_PORT_REQUEST | OFPST11_PORT_REQUEST | OFPST15_PORT_DESC_REQUEST => {
                M::PortRequest(stats::decode_port_request(version, body)?)
            }
            OFPST10_PORT_REPLY | OFPST11_PORT_REPLY | OFPST13_PORT_REPLY | OFPST14_PORT_REPLY => {
                M::PortStatsReply(stats::decode_port_stats(version, body)?)
            }
            OFPST10_PORT_DESC_REPLY | OFPST11_PORT_DESC_REPLY | OFPST14_PORT_DESC_REPLY => {
                M::PortDescReply(port::decode_ports(version, body)?)
            }
            OFPST10_QUEUE_REQUEST | OFPST11_QUEUE_REQUEST => {
                M::QueueStatsRequest(QueueRequest::decode(version, body)?)
            }
            OFPST10_QUEUE_REPLY | OFPST11_QUEUE_REPLY | OFPST13_QUEUE_REPLY
            | OFPST14_QUEUE_REPLY => M::QueueStatsReply(stats::decode_queue_stats(version, body)?),
            OFPT10_QUEUE_GET_CONFIG_REQUEST
            | OFPT11_QUEUE_GET_CONFIG_REQUEST
            | OFPST14_QUEUE_DESC_REQUEST => {
                let (port, queue) = queue::decode_request(version, body)?;
                M::QueueConfigRequest { port, queue }
            }
            OFPT10_QUEUE_GET_CONFIG_REPLY
            | OFPT11_QUEUE_GET_CONFIG_REPLY
            | OFPST14_QUEUE_DESC_REPLY => {
                let queues = queue::decode_reply(version, body)?;
                let port = if version <= 4 {
                    queue_config_port(version, body)?
                } else {
                    0
                };
                M::QueueConfigReply { port, queues }
            }
            NXST_GROUP_REQUEST
            | OFPST11_GROUP_REQUEST
            | NXST_GROUP_DESC_REQUEST
            | OFPST15_GROUP_DESC_REQUEST => M::GroupRequest(group::decode_request(body)?),
            NXST_GROUP_REPLY | OFPST11_GROUP_REPLY | OFPST13_GROUP_REPLY => {
                M::GroupStatsReply(group::decode_stats(version, body)?)
            }
            OFPST11_GROUP_DESC_REPLY | NXST_GROUP_DESC_REPLY => {
                M::GroupDescReply(GroupDesc::decode_all(version, body)?)
            }
            NXST_GROUP_FEATURES_REPLY | OFPST12_GROUP_FEATURES_REPLY => {
                M::GroupFeaturesReply(GroupFeatures::decode(body)?)
            }
            OFPST13_METER_REQUEST | OFPST13_METER_CONFIG_REQUEST => {
                M::MeterRequest(meter::decode_request(body)?)
            }
            OFPST13_METER_REPLY => M::MeterStatsReply(meter::decode_stats(body)?),
            OFPST13_METER_CONFIG_REPLY => M::MeterConfigReply(meter::decode_configs(body)?),
            OFPST13_METER_FEATURES_REPLY => M::MeterFeaturesReply(MeterFeatures::decode(body)?),
            OFPST13_TABLE_FEATURES_REQUEST | OFPST13_TABLE_FEATURES_REPLY => {
                M::TableFeatures(TableFeatures::decode_all_version(version, body)?)
            }
            OFPST14_TABLE_DESC_REPLY => M::TableDescReply(table_desc::decode_all(body)?),
            NXST_FLOW_MONITOR_REQUEST
            | ONFST13_FLOW_MONITOR_REQUEST
            | OFPST14_FLOW_MONITOR_REQUEST => {
                M::FlowMonitorRequest(MonitorRequest::decode_all(monitor_form(raw), body)?)
            }
            NXST_FLOW_MONITOR_REPLY | ONFST13_FLOW_MONITOR_REPLY | OFPST14_FLOW_MONITOR_REPLY => {
                M::FlowMonitorReply(FlowUpdate::decode_all(monitor_form(raw), version, body)?)
            }
            NXST_IPFIX_BRIDGE_REPLY => {
                M::IpfixBridgeReply(IpfixStats::decode(&mut Reader::new(body))?)
            }
            NXST_IPFIX_FLOW_REPLY => {
                let mut r = Reader::new(body);
                let mut all = Vec::new();
                while !r.is_empty() {
                    all.push(IpfixStats::decode(&mut r)?);
                }
                M::IpfixFlowReply(all)
            }
            #[allow(unreachable_patterns)]
            _ => return Err(OfpErr::OFPBRC_BAD_TYPE),
        })
    }

    /// Encodes this body as message `raw` of wire `version` with `xid`.
    /// `raw` must be one of the types the variant stands for (as
    /// [`OfpMessage::decode`] pairs them); a hello's version is the newest
    /// of its bitmap, as upstream sends it.
    pub fn encode(&self, raw: OfpRaw, version: u8, xid: u32) -> Vec<u8> {
        use OfpMessage as M;
        let mut m = start(raw, version, xid);
        let out = &mut m;
        match self {
            M::Hello(h) => return Hello::encode(h.version_bitmap, xid),
            M::Error { error, payload } => {
                let v = OfpVersion::from_wire(version).unwrap_or(OfpVersion::Of10);
                return encode_error_msg(*error, v, xid, payload);
            }
            M::Echo(payload) => out.extend_from_slice(payload),
            M::Empty => {}
            M::FeaturesReply(f) => return f.encode(version, xid),
            M::SwitchConfig(c) => return c.encode(raw, version, xid),
            M::PacketIn(p) => p.encode_body(packet_in_form(raw), version, out),
            M::PacketIn2(p) => p.encode_body(version, out),
            M::PacketOut(p) => p.encode_body(version, out),
            M::FlowMod(f) => f.encode_body(flow_mod_form(raw), version, out),
            M::FlowRemoved(f) => f.encode_body(flow_removed_form(raw), version, out),
            M::PortStatus { reason, port } => {
                out.put_u8(*reason);
                out.put_zeros(7);
                port.encode(version, out);
            }
            M::PortMod(p) => p.encode_body(version, out),
            M::TableMod(t) => t.encode_body(out),
            M::Role(r) => {
                if matches!(raw, OfpRaw::NXT_ROLE_REQUEST | OfpRaw::NXT_ROLE_REPLY) {
                    r.encode_nx(out)
                } else {
                    r.encode_of12(out)
                }
            }
            M::RoleStatus(r) => r.encode_body(out),
            M::Async(a) => {
                if matches!(
                    raw,
                    OfpRaw::OFPT13_GET_ASYNC_REPLY
                        | OfpRaw::OFPT13_SET_ASYNC
                        | OfpRaw::NXT_SET_ASYNC_CONFIG
                ) {
                    a.encode_legacy(out)
                } else {
                    a.encode_props(out)
                }
            }
            M::BundleControl(b) => b.encode_body(out),
            M::BundleAdd {
                bundle_id,
                flags,
                inner,
            } => {
                out.put_u32(*bundle_id);
                out.put_zeros(2);
                out.put_u16(*flags);
                out.extend_from_slice(inner);
            }
            M::RequestForward(inner) => out.extend_from_slice(inner),
            M::GroupMod(g) => g.encode_body(version, out),
            M::MeterMod(mm) => mm.encode_body(out),
            M::TlvTableMod(t) => t.encode_body(out),
            M::TlvTableReply(t) => t.encode_body(out),
            M::U32(v) => out.put_u32(*v),
            M::U16(v) => control::encode_padded_u16(out, *v),
            M::FlowModTableId(on) => {
                out.put_u8(u8::from(*on));
                out.put_zeros(7);
            }
            M::CtFlush(c) => c.encode_body(out),
            M::TableStatus { reason, desc } => {
                out.put_u8(*reason);
                out.put_zeros(7);
                desc.encode(out);
            }
            M::DescReply(d) => d.encode_body(out),
            M::FlowStatsRequest(f) => f.encode_body(stats_request_form(raw), version, out),
            M::FlowStatsReply(all) => {
                for f in all {
                    f.encode(flow_stats_form(raw), version, out);
                }
            }
            M::AggregateReply(a) => a.encode_body(raw == OfpRaw::OFPST15_AGGREGATE_REPLY, out),
            M::TableStatsReply(all) => {
                for t in all {
                    t.encode(version, out);
                }
            }
            M::TableStatsFeatures(all) => {
                if raw == OfpRaw::OFPST11_TABLE_REPLY {
                    table_features::encode_of11_table_stats(all, out)
                } else {
                    table_features::encode_of12_table_stats(all, out)
                }
            }
            M::PortRequest(p) => stats::encode_port_request(version, *p, out),
            M::PortStatsReply(all) => {
                for p in all {
                    p.encode(version, out);
                }
            }
            M::PortDescReply(all) => {
                for p in all {
                    p.encode(version, out);
                }
            }
            M::QueueStatsRequest(q) => q.encode_body(version, out),
            M::QueueStatsReply(all) => {
                for q in all {
                    q.encode(version, out);
                }
            }
            M::QueueConfigRequest { port, queue } => {
                queue::encode_request(version, *port, *queue, out)
            }
            M::QueueConfigReply { port, queues } => {
                queue::encode_reply(version, *port, queues, out)
            }
            M::GroupRequest(id) => group::encode_request(out, *id),
            M::GroupStatsReply(all) => group::encode_stats(version, out, all),
            M::GroupDescReply(all) => {
                for g in all {
                    g.encode(version, out);
                }
            }
            M::GroupFeaturesReply(g) => g.encode_body(out),
            M::MeterRequest(id) => {
                out.put_u32(*id);
                out.put_zeros(4);
            }
            M::MeterStatsReply(all) => meter::encode_stats(out, all),
            M::MeterConfigReply(all) => meter::encode_configs(out, all),
            M::MeterFeaturesReply(f) => f.encode_body(out),
            M::TableFeatures(all) => {
                for t in all {
                    t.encode(version, out);
                }
            }
            M::TableDescReply(all) => {
                for t in all {
                    t.encode(out);
                }
            }
            M::FlowMonitorRequest(all) => {
                for rq in all {
                    rq.encode(monitor_form(raw), version, out);
                }
            }
            M::FlowMonitorReply(all) => {
                for u in all {
                    u.encode(monitor_form(raw), version, out);
                }
            }
            M::IpfixBridgeReply(s) => s.encode(out),
            M::IpfixFlowReply(all) => {
                for s in all {
                    s.encode(out);
                }
            }
        }
        finish(m)
    }
}
