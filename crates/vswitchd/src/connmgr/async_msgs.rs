//! Asynchronous messages per connection: which connections receive which
//! of the switch's asynchronous messages (service connections only once
//! they set a miss-send length; otherwise by the connection's role and
//! asynchronous configuration, upstream's defaults when it set none), and
//! their encoding in the connection's version and formats.

use ofproto::handler::FlowFormat;
use ofproto::{AsyncMsg, ConnState};
use openflow::msgs::flow::FlowRemovedForm;
use openflow::msgs::packet_in::PacketInForm;
use openflow::raw::{finish, start, OfpRaw};

/// Who opened a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConnKind {
    /// A controller the switch connected to (or that connected to a
    /// controller listener of type primary).
    Primary,
    /// A client of a passive listener (`ovs-ofctl` on `<br>.mgmt`).
    Service,
}

const PACKET_IN: usize = 0;
const PORT_STATUS: usize = 1;
const FLOW_REMOVED: usize = 2;
const ROLE_STATUS: usize = 3;

/// `OFP_DEFAULT_MISS_SEND_LEN`: what a primary connection starts with.
pub const DEFAULT_MISS_SEND_LEN: u16 = 128;

/// Upstream's default asynchronous configuration for `version`:
/// `[kind][0]` for primary/equal, `[kind][1]` for secondary.
pub fn default_masks(version: u8) -> [[u32; 2]; 6] {
    let mut m = [[0u32; 2]; 6];
    // Every packet-in reason but invalid_ttl (the OpenFlow 1.4 reasons
    // refine "action" and are translated for older versions).
    m[PACKET_IN][0] = 0x3f & !(1 << 2);
    m[PORT_STATUS] = [0x7, 0x7];
    m[FLOW_REMOVED][0] = match version {
        5.. => 0x3f,
        4 => 0xf,
        _ => 0x7,
    };
    if version >= 5 {
        m[ROLE_STATUS] = [0x7, 0x7];
    }
    m
}

fn receives(conn: &ConnState, kind: ConnKind, enabled: bool, what: usize, reason: u8) -> bool {
    if !enabled || reason >= 32 {
        return false;
    }
    if kind == ConnKind::Service && conn.miss_send_len == 0 {
        return false;
    }
    let masks = match &conn.async_config {
        Some(c) => c.masks,
        None => default_masks(conn.version),
    };
    let slave = conn.role == ofproto::handler::Role::Slave;
    masks[what][usize::from(slave)] & (1u32 << reason) != 0
}

fn flow_removed_form(conn: &ConnState) -> (FlowRemovedForm, OfpRaw) {
    match conn.version {
        1 if conn.flow_format == FlowFormat::Nxm => (FlowRemovedForm::Nx, OfpRaw::NXT_FLOW_REMOVED),
        1 => (FlowRemovedForm::Of10, OfpRaw::OFPT10_FLOW_REMOVED),
        2..=4 => (FlowRemovedForm::Of11, OfpRaw::OFPT11_FLOW_REMOVED),
        _ => (FlowRemovedForm::Of15, OfpRaw::OFPT15_FLOW_REMOVED),
    }
}

fn packet_in_form(conn: &ConnState) -> (PacketInForm, OfpRaw) {
    if conn.packet_in_format != 0 {
        return (PacketInForm::Nx, OfpRaw::NXT_PACKET_IN);
    }
    match conn.version {
        1 => (PacketInForm::Of10, OfpRaw::OFPT10_PACKET_IN),
        2 => (PacketInForm::Of11, OfpRaw::OFPT11_PACKET_IN),
        3 => (PacketInForm::Of12, OfpRaw::OFPT12_PACKET_IN),
        _ => (PacketInForm::Of13, OfpRaw::OFPT13_PACKET_IN),
    }
}

/// The messages `msg` becomes on one connection (none when filtered out).
pub fn encode_for(conn: &ConnState, kind: ConnKind, enabled: bool, msg: &AsyncMsg) -> Vec<Vec<u8>> {
    let v = conn.version;
    match msg {
        AsyncMsg::PortStatus { reason, port } => {
            if !receives(conn, kind, enabled, PORT_STATUS, *reason) {
                return Vec::new();
            }
            let raw = match v {
                1 => OfpRaw::OFPT10_PORT_STATUS,
                2..=4 => OfpRaw::OFPT11_PORT_STATUS,
                _ => OfpRaw::OFPT14_PORT_STATUS,
            };
            let mut m = start(raw, v, 0);
            m.push(*reason);
            m.extend_from_slice(&[0; 7]);
            port.encode(v, &mut m);
            vec![finish(m)]
        }
        AsyncMsg::FlowRemoved(fr) => {
            if !receives(conn, kind, enabled, FLOW_REMOVED, fr.reason) {
                return Vec::new();
            }
            let (form, raw) = flow_removed_form(conn);
            let mut m = start(raw, v, 0);
            fr.encode_body(form, v, &mut m);
            vec![finish(m)]
        }
        AsyncMsg::PacketIn(pi) => {
            if !receives(conn, kind, enabled, PACKET_IN, pi.reason) {
                return Vec::new();
            }
            let mut pi = pi.clone();
            // A table miss carries at most the connection's miss-send length.
            if pi.reason == 0 && pi.data.len() > usize::from(conn.miss_send_len) {
                pi.data.truncate(usize::from(conn.miss_send_len));
            }
            let (form, raw) = packet_in_form(conn);
            let mut m = start(raw, v, 0);
            pi.encode_body(form, v, &mut m);
            vec![finish(m)]
        }
        AsyncMsg::FlowUpdate(u) => {
            if conn.monitors.is_empty() {
                return Vec::new();
            }
            ofproto::handler::monitor::encode_updates(conn, std::slice::from_ref(u))
        }
        AsyncMsg::RoleStatus {
            conn_id,
            generation_id,
        } => {
            if *conn_id != conn.id || v < 5 || !receives(conn, kind, enabled, ROLE_STATUS, 0) {
                return Vec::new();
            }
            let rs = openflow::msgs::control::RoleStatus {
                role: 3,
                reason: 0,
                generation_id: *generation_id,
            };
            let mut m = start(OfpRaw::OFPT14_ROLE_STATUS, v, 0);
            rs.encode_body(&mut m);
            vec![finish(m)]
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use openflow::msgs::port::PhyPort;

    fn port() -> PhyPort {
        PhyPort {
            port_no: 1,
            hw_addr: [0xaa, 0x55, 0xaa, 0x55, 0, 2],
            name: "p1".into(),
            config: 0,
            state: 0,
            curr: 0,
            advertised: 0,
            supported: 0,
            peer: 0,
            curr_speed: 0,
            max_speed: 0,
        }
    }

    #[test]
    fn service_connections_need_a_miss_send_len() {
        let msg = AsyncMsg::PortStatus {
            reason: 0,
            port: port(),
        };
        let mut conn = ConnState::new(1, 1);
        assert!(encode_for(&conn, ConnKind::Service, true, &msg).is_empty());
        conn.miss_send_len = 128;
        let out = encode_for(&conn, ConnKind::Service, true, &msg);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].len(), 64);
        assert_eq!(&out[0][..2], &[1, 12]);
        let text = openflow::print::ofp_to_string(&out[0], 1);
        assert!(
            text.starts_with("OFPT_PORT_STATUS (xid=0x0): ADD: 1(p1)"),
            "{text}"
        );
        assert!(encode_for(&conn, ConnKind::Service, false, &msg).is_empty());
    }

    #[test]
    fn secondaries_get_no_flow_removed_by_default() {
        let fr = AsyncMsg::FlowRemoved(openflow::msgs::flow::FlowRemoved {
            flow_match: flow::Match::catchall(),
            priority: 1,
            cookie: 0,
            reason: 0,
            table_id: 0,
            duration_sec: 1,
            duration_nsec: 0,
            idle_timeout: 1,
            hard_timeout: 0,
            packet_count: 0,
            byte_count: 0,
        });
        let mut conn = ConnState::new(1, 4);
        assert_eq!(encode_for(&conn, ConnKind::Primary, true, &fr).len(), 1);
        conn.role = ofproto::handler::Role::Slave;
        assert!(encode_for(&conn, ConnKind::Primary, true, &fr).is_empty());
    }
}
