//! Asynchronous messages as one connection receives them: whether the
//! connection wants a message (service connections only with a nonzero
//! miss_send_len; then the async config masks of its role, as upstream's
//! `ofconn_receives_async_msg`), and its encoding in the connection's
//! version and formats. The connection manager calls [`encode_for`] for
//! every connection and every message [`crate::Ofproto::take_async`]
//! returns.

use crate::handler::monitor;
use crate::handler::multipart::reply;
use crate::handler::switch::{async_config, role_status_body};
use crate::handler::{AsyncMsg, ConnState, FlowFormat, Role};
use crate::Ofproto;
use openflow::msgs::flow::FlowRemovedForm;
use openflow::msgs::packet_in::{PacketIn, PacketInForm};
use openflow::raw::OfpRaw;

/// Async message kinds as indexes of the async config masks.
const PACKET_IN: usize = 0;
const PORT_STATUS: usize = 1;
const FLOW_REMOVED: usize = 2;

/// Upstream's internal packet-in reason of a table-miss flow's
/// `controller` action (`OFPR_EXPLICIT_MISS`).
pub const OFPR_EXPLICIT_MISS: u8 = 6;
/// Upstream's internal reason of a miss without table-miss flow
/// (`OFPR_IMPLICIT_MISS`).
pub const OFPR_IMPLICIT_MISS: u8 = 7;

/// The reason a connection of `version` is told (upstream's wire_reason):
/// misses are `no_match` (0), except that a table-miss flow's packet-in is
/// `action` (1) before OpenFlow 1.3; `action_set` (3), `group` (4) and
/// `packet_out` (5) exist from OpenFlow 1.4 on and are `action` before.
pub fn wire_reason(version: u8, reason: u8) -> u8 {
    match reason {
        OFPR_EXPLICIT_MISS if version < 4 => 1,
        3..=5 if version < 5 => 1,
        OFPR_EXPLICIT_MISS | OFPR_IMPLICIT_MISS => 0,
        r => r,
    }
}

/// Whether `conn` receives an async message of `kind` for `reason`.
pub fn receives(ofproto: &Ofproto, conn: &ConnState, kind: usize, reason: u8) -> bool {
    if conn.service && conn.miss_send_len == 0 {
        return false;
    }
    if reason >= 32 {
        return false;
    }
    let ac = async_config(conn);
    let role = if ofproto.effective_role(conn) == Role::Slave {
        1
    } else {
        0
    };
    ac.masks[kind][role] & (1 << reason) != 0
}

/// Whether `conn` gets a packet-in of the hidden miss rule: from
/// OpenFlow 1.3 on, a miss in a table with the default miss config drops
/// (upstream's `ofconn_wants_packet_in_on_miss`).
pub fn wants_packet_in_on_miss(ofproto: &Ofproto, conn: &ConnState, pin: &PacketIn) -> bool {
    if pin.reason != OFPR_IMPLICIT_MISS || conn.version < 4 {
        return true;
    }
    !matches!(
        ofproto.table_config(pin.table_id).map(|c| c.miss),
        Some(crate::table::TableMiss::Default) | None
    )
}

/// A flow-removed message in `conn`'s version and flow format.
pub fn encode_flow_removed(conn: &ConnState, fr: &openflow::msgs::flow::FlowRemoved) -> Vec<u8> {
    let version = conn.version;
    let (raw, form) = match version {
        1 if conn.flow_format == FlowFormat::Nxm => (OfpRaw::NXT_FLOW_REMOVED, FlowRemovedForm::Nx),
        1 => (OfpRaw::OFPT10_FLOW_REMOVED, FlowRemovedForm::Of10),
        2..=5 => (OfpRaw::OFPT11_FLOW_REMOVED, FlowRemovedForm::Of11),
        _ => (OfpRaw::OFPT15_FLOW_REMOVED, FlowRemovedForm::Of15),
    };
    let mut b = Vec::new();
    fr.encode_body(form, version, &mut b);
    reply(raw, version, 0, &b)
}

/// A port-status message in `conn`'s version.
pub fn encode_port_status(
    conn: &ConnState,
    reason: u8,
    port: &openflow::msgs::port::PhyPort,
) -> Vec<u8> {
    let version = conn.version;
    let raw = match version {
        1 => OfpRaw::OFPT10_PORT_STATUS,
        2..=4 => OfpRaw::OFPT11_PORT_STATUS,
        _ => OfpRaw::OFPT14_PORT_STATUS,
    };
    let mut b = vec![reason, 0, 0, 0, 0, 0, 0, 0];
    port.encode(version, &mut b);
    reply(raw, version, 0, &b)
}

/// A packet-in in `conn`'s version and packet-in format, its packet cut
/// to `max_len` bytes (the controller action's, or miss_send_len for
/// table misses, as the translation chose).
pub fn encode_packet_in(conn: &ConnState, pin: &PacketIn) -> Vec<u8> {
    let version = conn.version;
    if conn.packet_in_format == 2 {
        let mut b = Vec::new();
        openflow::msgs::packet_in::PacketIn2 {
            pin: pin.clone(),
            userdata: Vec::new(),
            continuation: None,
        }
        .encode_body(version, &mut b);
        return reply(OfpRaw::NXT_PACKET_IN2, version, 0, &b);
    }
    let (raw, form) = if conn.packet_in_format == 1 {
        (OfpRaw::NXT_PACKET_IN, PacketInForm::Nx)
    } else {
        match version {
            1 => (OfpRaw::OFPT10_PACKET_IN, PacketInForm::Of10),
            2 => (OfpRaw::OFPT11_PACKET_IN, PacketInForm::Of11),
            3 => (OfpRaw::OFPT12_PACKET_IN, PacketInForm::Of12),
            _ => (OfpRaw::OFPT13_PACKET_IN, PacketInForm::Of13),
        }
    };
    let mut b = Vec::new();
    pin.encode_body(form, version, &mut b);
    reply(raw, version, 0, &b)
}

/// The messages `conn` gets for `msgs` (in order), already filtered by
/// its role and async configuration.
pub fn encode_for(ofproto: &Ofproto, conn: &ConnState, msgs: &[AsyncMsg]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut updates = Vec::new();
    for m in msgs {
        match m {
            AsyncMsg::FlowRemoved(fr) => {
                if receives(ofproto, conn, FLOW_REMOVED, fr.reason) {
                    out.push(encode_flow_removed(conn, fr));
                }
            }
            AsyncMsg::PortStatus { reason, port } => {
                if receives(ofproto, conn, PORT_STATUS, *reason) {
                    out.push(encode_port_status(conn, *reason, port));
                }
            }
            AsyncMsg::PacketIn(pin) => {
                if !wants_packet_in_on_miss(ofproto, conn, pin) {
                    continue;
                }
                let wire = wire_reason(conn.version, pin.reason);
                if receives(ofproto, conn, PACKET_IN, wire) {
                    if wire == pin.reason {
                        out.push(encode_packet_in(conn, pin));
                    } else {
                        let mut p = pin.clone();
                        p.reason = wire;
                        out.push(encode_packet_in(conn, &p));
                    }
                }
            }
            AsyncMsg::FlowUpdate(u) => updates.push(u.clone()),
            AsyncMsg::RoleStatus {
                conn_id,
                generation_id,
            } => {
                // Sent to the demoted primary whatever its async config.
                if *conn_id == conn.id && conn.version >= 4 {
                    let raw = if conn.version == 4 {
                        OfpRaw::ONFT13_ROLE_STATUS
                    } else {
                        OfpRaw::OFPT14_ROLE_STATUS
                    };
                    out.push(reply(
                        raw,
                        conn.version,
                        0,
                        &role_status_body(*generation_id),
                    ));
                }
            }
        }
    }
    out.extend(monitor::encode_updates(conn, &updates));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{OfPort, PortKind};

    /// A packet-out's packet-in (reason `packet_out`, like `action_set`
    /// and `group`) reaches connections older than OpenFlow 1.4 as
    /// `action`, as the reference's `ovs-ofctl monitor` shows.
    #[test]
    fn newer_reasons_are_action_before_openflow_1_4() {
        for reason in 3..=5 {
            assert_eq!(wire_reason(1, reason), 1);
            assert_eq!(wire_reason(4, reason), 1);
            assert_eq!(wire_reason(5, reason), reason);
            assert_eq!(wire_reason(6, reason), reason);
        }
        assert_eq!(wire_reason(1, 0), 0);
        assert_eq!(wire_reason(4, 2), 2);
    }

    #[test]
    fn service_connections_need_a_miss_send_len() {
        let mut o = Ofproto::new("br0", 1);
        o.add_port(OfPort::new(1, "p1", 1, PortKind::Dummy, [0, 1, 2, 3, 4, 5]));
        let msgs = o.take_async();
        let mut svc = ConnState::new(1, 4);
        svc.service = true;
        assert!(encode_for(&o, &svc, &msgs).is_empty());
        svc.miss_send_len = 128;
        let ctl = ConnState::new(2, 1);
        for c in [&svc, &ctl] {
            let out = encode_for(&o, c, &msgs);
            assert_eq!(out.len(), 1);
            let raw = openflow::decode_raw(&out[0]).unwrap();
            assert!(matches!(
                raw,
                OfpRaw::OFPT11_PORT_STATUS | OfpRaw::OFPT10_PORT_STATUS
            ));
        }
    }

    #[test]
    fn flow_removed_follows_the_flow_format() {
        let fr = openflow::msgs::flow::FlowRemoved {
            flow_match: flow::Match::catchall(),
            priority: 1,
            cookie: 2,
            reason: 0,
            table_id: 0,
            duration_sec: 1,
            duration_nsec: 0,
            idle_timeout: 5,
            hard_timeout: 0,
            packet_count: 0,
            byte_count: 0,
        };
        let mut c = ConnState::new(1, 1);
        let m = encode_flow_removed(&c, &fr);
        assert_eq!(openflow::decode_raw(&m), Ok(OfpRaw::OFPT10_FLOW_REMOVED));
        c.flow_format = FlowFormat::Nxm;
        let m = encode_flow_removed(&c, &fr);
        assert_eq!(openflow::decode_raw(&m), Ok(OfpRaw::NXT_FLOW_REMOVED));
        for v in 2..=6 {
            let m = encode_flow_removed(&ConnState::new(1, v), &fr);
            assert!(openflow::decode_raw(&m).is_ok(), "version {v}");
        }
    }
}
