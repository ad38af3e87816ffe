//! The request dispatcher: identifies the message, enforces the
//! connection's role, and hands it to the handler of its family. Every
//! failure becomes an `OFPT_ERROR` reply carrying the start of the request,
//! as upstream sends it.

use crate::handler::{
    bundle, flows, groups, meters, monitor, packet_out, ports, switch, tables, tlv,
};
use crate::handler::{ConnState, Role};
use crate::Ofproto;
use openflow::raw::{decode_raw, OfpRaw};
use openflow::OfpErr;

/// The `OFPT_ERROR` reply to `request`: upstream carries the whole request
/// (as much as fits in one message).
pub fn error_reply(e: OfpErr, request: &[u8]) -> Vec<u8> {
    let version = openflow::OfpVersion::from_wire(request[0]).unwrap_or(openflow::OfpVersion::Of10);
    let len = usize::from(u16::from_be_bytes([request[2], request[3]])).min(request.len());
    // As much of the request as fits in one message after the error's
    // own header (whose size depends on the error's vendor).
    let max = usize::from(u16::MAX);
    let header = openflow::encode_error_msg(e, version, 0, &[]).len();
    let data = &request[..len.min(max.saturating_sub(header))];
    openflow::encode_error_msg(e, version, xid_of(request), data)
}

/// The transaction id of a message (its header is known to be complete).
pub fn xid_of(msg: &[u8]) -> u32 {
    u32::from_be_bytes([msg[4], msg[5], msg[6], msg[7]])
}

/// Messages a secondary (slave) controller may not send.
fn modifies_state(raw: OfpRaw) -> bool {
    use OfpRaw::*;
    matches!(
        raw,
        OFPT_SET_CONFIG
            | OFPT10_PACKET_OUT
            | OFPT11_PACKET_OUT
            | OFPT15_PACKET_OUT
            | OFPT10_PORT_MOD
            | OFPT11_PORT_MOD
            | OFPT14_PORT_MOD
            | OFPT10_FLOW_MOD
            | OFPT11_FLOW_MOD
            | NXT_FLOW_MOD
            | NXT_GROUP_MOD
            | OFPT11_GROUP_MOD
            | OFPT15_GROUP_MOD
            | OFPT11_TABLE_MOD
            | OFPT14_TABLE_MOD
            | OFPT13_METER_MOD
            | NXT_TLV_TABLE_MOD
            | NXT_CT_FLUSH_ZONE
            | NXT_CT_FLUSH
            | NXT_RESUME
            | OFPT14_BUNDLE_CONTROL
            | ONFT13_BUNDLE_CONTROL
            | OFPT14_BUNDLE_ADD_MESSAGE
            | ONFT13_BUNDLE_ADD_MESSAGE
    )
}

/// Handles one message; see [`Ofproto::handle_openflow`].
pub fn handle(ofproto: &mut Ofproto, conn: &mut ConnState, msg: &[u8]) -> Vec<Vec<u8>> {
    if msg.len() < 8 {
        // Not a message: the connection layer frames messages.
        return Vec::new();
    }
    match handle__(ofproto, conn, msg) {
        Ok(replies) => replies,
        Err(e) => vec![error_reply(e, msg)],
    }
}

fn handle__(
    ofproto: &mut Ofproto,
    conn: &mut ConnState,
    msg: &[u8],
) -> Result<Vec<Vec<u8>>, OfpErr> {
    let raw = decode_raw(msg)?;
    if modifies_state(raw) && ofproto.effective_role(conn) == Role::Slave {
        // Upstream lets a secondary change only its own set-config.
        if raw != OfpRaw::OFPT_SET_CONFIG {
            return Err(OfpErr::OFPBRC_IS_SECONDARY);
        }
    }
    dispatch(ofproto, conn, raw, msg)
}

/// Routes a decoded message (also used for the messages of a bundle).
pub fn dispatch(
    ofproto: &mut Ofproto,
    conn: &mut ConnState,
    raw: OfpRaw,
    msg: &[u8],
) -> Result<Vec<Vec<u8>>, OfpErr> {
    use OfpRaw::*;
    let none = Ok(Vec::new());
    match raw {
        OFPT_HELLO | OFPT_ECHO_REPLY | OFPT_ERROR => none,
        OFPT_ECHO_REQUEST => Ok(vec![switch::echo_reply(msg)]),
        OFPT_FEATURES_REQUEST => Ok(vec![switch::features_reply(ofproto, msg)]),
        OFPT_GET_CONFIG_REQUEST => Ok(vec![switch::get_config_reply(ofproto, conn, msg)]),
        OFPT_SET_CONFIG => switch::set_config(ofproto, conn, msg).map(|_| Vec::new()),
        OFPT10_BARRIER_REQUEST | OFPT11_BARRIER_REQUEST => {
            Ok(vec![switch::barrier_reply(raw, msg)])
        }
        OFPST_DESC_REQUEST => Ok(vec![switch::desc_reply(ofproto, msg)]),
        OFPT12_ROLE_REQUEST | NXT_ROLE_REQUEST => switch::role_request(ofproto, conn, raw, msg),
        OFPT13_GET_ASYNC_REQUEST | OFPT14_GET_ASYNC_REQUEST => {
            Ok(vec![switch::get_async_reply(conn, raw, msg)])
        }
        OFPT13_SET_ASYNC | NXT_SET_ASYNC_CONFIG | NXT_SET_ASYNC_CONFIG2 | OFPT14_SET_ASYNC => {
            switch::set_async(conn, raw, msg).map(|_| Vec::new())
        }
        NXT_SET_FLOW_FORMAT => switch::set_flow_format(conn, msg).map(|_| Vec::new()),
        NXT_FLOW_MOD_TABLE_ID => switch::flow_mod_table_id(conn, msg).map(|_| Vec::new()),
        NXT_SET_PACKET_IN_FORMAT => switch::set_packet_in_format(conn, msg).map(|_| Vec::new()),
        NXT_SET_CONTROLLER_ID => switch::set_controller_id(conn, msg).map(|_| Vec::new()),
        NXT_FLOW_AGE => none,

        OFPT10_FLOW_MOD | OFPT11_FLOW_MOD | NXT_FLOW_MOD => {
            flows::handle_flow_mod(ofproto, conn, raw, msg).map(|_| Vec::new())
        }
        OFPST10_FLOW_REQUEST | OFPST11_FLOW_REQUEST | NXST_FLOW_REQUEST => {
            flows::handle_flow_stats(ofproto, raw, msg)
        }
        OFPST10_AGGREGATE_REQUEST
        | OFPST11_AGGREGATE_REQUEST
        | OFPST15_AGGREGATE_REQUEST
        | NXST_AGGREGATE_REQUEST => flows::handle_aggregate(ofproto, raw, msg),

        OFPST_TABLE_REQUEST => tables::table_stats(ofproto, msg),
        OFPST13_TABLE_FEATURES_REQUEST => tables::table_features(ofproto, msg),
        OFPST14_TABLE_DESC_REQUEST => tables::table_desc(ofproto, msg),
        OFPT11_TABLE_MOD | OFPT14_TABLE_MOD => tables::table_mod(ofproto, msg).map(|_| Vec::new()),

        OFPST10_PORT_REQUEST | OFPST11_PORT_REQUEST => ports::port_stats(ofproto, msg),
        OFPST10_PORT_DESC_REQUEST | OFPST15_PORT_DESC_REQUEST => {
            ports::port_desc(ofproto, raw, msg)
        }
        OFPT10_PORT_MOD | OFPT11_PORT_MOD | OFPT14_PORT_MOD => {
            ports::port_mod(ofproto, msg).map(|_| Vec::new())
        }
        OFPST10_QUEUE_REQUEST | OFPST11_QUEUE_REQUEST => ports::queue_stats(ofproto, msg),
        OFPT10_QUEUE_GET_CONFIG_REQUEST | OFPT11_QUEUE_GET_CONFIG_REQUEST => {
            ports::queue_get_config(ofproto, msg)
        }
        OFPST14_QUEUE_DESC_REQUEST => ports::queue_desc(ofproto, msg),

        NXT_GROUP_MOD | OFPT11_GROUP_MOD | OFPT15_GROUP_MOD => {
            groups::handle_group_mod(ofproto, raw, msg).map(|_| Vec::new())
        }
        NXST_GROUP_REQUEST | OFPST11_GROUP_REQUEST => groups::group_stats(ofproto, raw, msg),
        NXST_GROUP_DESC_REQUEST | OFPST11_GROUP_DESC_REQUEST | OFPST15_GROUP_DESC_REQUEST => {
            groups::group_desc(ofproto, raw, msg)
        }
        NXST_GROUP_FEATURES_REQUEST | OFPST12_GROUP_FEATURES_REQUEST => {
            groups::group_features(raw, msg)
        }

        OFPT13_METER_MOD => meters::handle_meter_mod(ofproto, msg).map(|_| Vec::new()),
        OFPST13_METER_REQUEST => meters::meter_stats(ofproto, msg),
        OFPST13_METER_CONFIG_REQUEST => meters::meter_config(ofproto, msg),
        OFPST13_METER_FEATURES_REQUEST => Ok(vec![meters::meter_features(msg)]),

        NXT_TLV_TABLE_MOD => tlv::tlv_table_mod(ofproto, msg).map(|_| Vec::new()),
        NXT_TLV_TABLE_REQUEST => Ok(vec![tlv::tlv_table_reply(ofproto, msg)]),

        OFPT14_BUNDLE_CONTROL | ONFT13_BUNDLE_CONTROL => {
            bundle::bundle_control(ofproto, conn, raw, msg)
        }
        OFPT14_BUNDLE_ADD_MESSAGE | ONFT13_BUNDLE_ADD_MESSAGE => {
            bundle::bundle_add(ofproto, conn, raw, msg).map(|_| Vec::new())
        }

        NXST_FLOW_MONITOR_REQUEST | ONFST13_FLOW_MONITOR_REQUEST | OFPST14_FLOW_MONITOR_REQUEST => {
            monitor::monitor_request(ofproto, conn, raw, msg)
        }
        NXT_FLOW_MONITOR_CANCEL | ONFT13_FLOW_MONITOR_CANCEL => {
            monitor::monitor_cancel(ofproto, conn, msg).map(|_| Vec::new())
        }

        OFPT10_PACKET_OUT | OFPT11_PACKET_OUT | OFPT15_PACKET_OUT => {
            packet_out::packet_out(ofproto, conn, msg).map(|_| Vec::new())
        }

        NXST_IPFIX_BRIDGE_REQUEST | NXST_IPFIX_FLOW_REQUEST => Err(OfpErr::NXST_NOT_CONFIGURED),
        NXT_CT_FLUSH_ZONE | NXT_CT_FLUSH => ct_flush(conn, raw, msg).map(|_| Vec::new()),
        NXT_RESUME => {
            let body = &msg[raw.header_len(msg[0])..];
            let pin = openflow::msgs::packet_in::PacketIn2::decode(msg[0], body)?;
            if pin.continuation.is_none() {
                return Err(OfpErr::OFPBRC_BAD_LEN);
            }
            conn.resumes.push(pin);
            Ok(Vec::new())
        }

        // Replies and switch-to-controller messages are not requests.
        _ => Err(OfpErr::OFPBRC_BAD_TYPE),
    }
}

/// `NXT_CT_FLUSH_ZONE` / `NXT_CT_FLUSH`: queued for the caller.
fn ct_flush(conn: &mut ConnState, raw: OfpRaw, msg: &[u8]) -> Result<(), OfpErr> {
    use openflow::msgs::ct_flush::{CtFlush, CtTuple};
    let body = &msg[raw.header_len(msg[0])..];
    let f = if raw == OfpRaw::NXT_CT_FLUSH_ZONE {
        let zone = body
            .get(..2)
            .map(|b| u16::from_be_bytes([b[0], b[1]]))
            .ok_or(OfpErr::OFPBRC_BAD_LEN)?;
        CtFlush {
            zone,
            ip_proto: 0,
            l3_type: 0,
            orig: CtTuple::default(),
            reply: CtTuple::default(),
        }
    } else {
        CtFlush::decode(body)?
    };
    conn.ct_flushes.push(f);
    Ok(())
}
