//! Port requests: port descriptions, port statistics, `port_mod`, queue
//! statistics and queue configuration.

use crate::handler::dispatch::xid_of;
use crate::handler::multipart::{reply, Multipart};
use crate::port::{OfPort, PortCounters};
use crate::{AsyncMsg, Ofproto};
use openflow::bits::port_from_ofp11;
use openflow::msgs::port::{PhyPort, PortMod};
use openflow::msgs::queue::{self, QueueDesc};
use openflow::msgs::stats::{PortStats, QueueRequest, QueueStats};
use openflow::raw::OfpRaw;
use openflow::wire::Reader;
use openflow::OfpErr;

const BAD: OfpErr = OfpErr::OFPBRC_BAD_LEN;
/// `OFPP_ANY` (16-bit).
const ANY: u16 = 0xffff;
/// `OFPQ_ALL`.
const QUEUE_ALL: u32 = 0xffff_ffff;

fn body(msg: &[u8]) -> Result<(OfpRaw, &[u8]), OfpErr> {
    let raw = openflow::decode_raw(msg)?;
    Ok((raw, &msg[raw.header_len(msg[0])..]))
}

/// The OpenFlow 16-bit number of a port.
pub fn port_no16(p: u32) -> u16 {
    if p >= 0xffff_ff00 {
        (p - 0xffff_0000) as u16
    } else {
        p as u16
    }
}

/// A port's description as messages carry it.
pub fn phy_port(p: &OfPort) -> PhyPort {
    PhyPort {
        port_no: port_no16(p.ofp_port),
        hw_addr: p.hw_addr,
        name: p.name.clone(),
        config: p.config,
        state: p.state,
        curr: p.curr,
        advertised: p.advertised,
        supported: p.supported,
        peer: p.peer,
        curr_speed: p.curr_speed,
        max_speed: p.max_speed,
    }
}

fn ports_in_order(ofproto: &Ofproto) -> Vec<&OfPort> {
    ofproto.ports_in_hmap_order()
}

fn ofport_by_no16(ofproto: &Ofproto, no: u16) -> Option<&OfPort> {
    ofproto.ports().find(|p| port_no16(p.ofp_port) == no)
}

/// `OFPST_PORT_DESC` request.
pub fn port_desc(ofproto: &Ofproto, raw: OfpRaw, msg: &[u8]) -> Result<Vec<Vec<u8>>, OfpErr> {
    let version = msg[0];
    let (_, b) = body(msg)?;
    let filter = if raw == OfpRaw::OFPST15_PORT_DESC_REQUEST {
        let p = Reader::new(b).u32().ok_or(BAD)?;
        port_from_ofp11(p).ok_or(OfpErr::OFPBRC_BAD_PORT)?
    } else {
        ANY
    };
    let reply_raw = match version {
        1 => OfpRaw::OFPST10_PORT_DESC_REPLY,
        2..=4 => OfpRaw::OFPST11_PORT_DESC_REPLY,
        _ => OfpRaw::OFPST14_PORT_DESC_REPLY,
    };
    let mut mp = Multipart::new(reply_raw, version, xid_of(msg));
    for p in ports_in_order(ofproto) {
        if filter != ANY && port_no16(p.ofp_port) != filter {
            continue;
        }
        let mut e = Vec::new();
        phy_port(p).encode(version, &mut e);
        mp.push(&e);
    }
    Ok(mp.finish())
}

fn port_stats_of(ofproto: &Ofproto, p: &OfPort, now: u64) -> PortStats {
    let c = ofproto
        .port_counters(p.ofp_port)
        .unwrap_or_else(PortCounters::unknown);
    let (sec, nsec) = match ofproto.port_created(p.ofp_port) {
        Some(t) => crate::stats::duration(t, now),
        None => (u32::MAX, u32::MAX),
    };
    PortStats {
        port_no: port_no16(p.ofp_port),
        rx_packets: c.rx_packets,
        tx_packets: c.tx_packets,
        rx_bytes: c.rx_bytes,
        tx_bytes: c.tx_bytes,
        rx_dropped: c.rx_dropped,
        tx_dropped: c.tx_dropped,
        rx_errors: c.rx_errors,
        tx_errors: c.tx_errors,
        rx_frame_errors: c.rx_frame_err,
        rx_over_errors: c.rx_over_err,
        rx_crc_errors: c.rx_crc_err,
        collisions: c.collisions,
        duration_sec: sec,
        duration_nsec: nsec,
        custom: c.custom,
    }
}

/// `OFPST_PORT` request.
pub fn port_stats(ofproto: &Ofproto, msg: &[u8]) -> Result<Vec<Vec<u8>>, OfpErr> {
    let version = msg[0];
    let (_, b) = body(msg)?;
    let port = openflow::msgs::stats::decode_port_request(version, b)?;
    let reply_raw = match version {
        1 => OfpRaw::OFPST10_PORT_REPLY,
        2 | 3 => OfpRaw::OFPST11_PORT_REPLY,
        4 => OfpRaw::OFPST13_PORT_REPLY,
        _ => OfpRaw::OFPST14_PORT_REPLY,
    };
    let now = ofproto.now();
    let mut mp = Multipart::new(reply_raw, version, xid_of(msg));
    let all = port == ANY || (version == 1 && port == 0xffff);
    for p in ports_in_order(ofproto) {
        if !all && port_no16(p.ofp_port) != port {
            continue;
        }
        let mut e = Vec::new();
        port_stats_of(ofproto, p, now).encode(version, &mut e);
        mp.push(&e);
    }
    Ok(mp.finish())
}

/// `OFPT_PORT_MOD`: changes the port's config bits (and queues a
/// port-status "modify" when they change).
pub fn port_mod(ofproto: &mut Ofproto, msg: &[u8]) -> Result<(), OfpErr> {
    let version = msg[0];
    let (_, b) = body(msg)?;
    let pm = PortMod::decode(version, b)?;
    let Some(port) = ofport_by_no16(ofproto, pm.port_no) else {
        return Err(OfpErr::OFPPMFC_BAD_PORT);
    };
    if port.hw_addr != pm.hw_addr {
        return Err(OfpErr::OFPPMFC_BAD_HW_ADDR);
    }
    let ofp_port = port.ofp_port;
    let new_config = (port.config & !pm.mask) | (pm.config & pm.mask);
    let mut changed = false;
    let mut old_state = 0;
    if let Some(p) = ofproto.ports.get_mut(&ofp_port) {
        old_state = p.state;
        if new_config != p.config {
            p.config = new_config;
            // A port that is administratively down is also link down.
            if new_config & 1 != 0 {
                p.state |= 1;
                p.state &= !4;
            } else if p.state & 1 != 0
                && ofproto.port_link_up.get(&ofp_port).copied().unwrap_or(true)
            {
                p.state &= !1;
                p.state |= 4;
            }
            changed = true;
        }
        if pm.advertise != 0 {
            p.advertised = pm.advertise;
        }
    }
    // As upstream: the configuration change is reported first (with the
    // state as it was), then the link state that follows from it, as its
    // own port status.
    if changed {
        if let Some(p) = ofproto.ports.get(&ofp_port) {
            let mut first = phy_port(p);
            let state_changed = p.state != old_state;
            let second = state_changed.then(|| phy_port(p));
            if state_changed {
                first.state = old_state;
                // An administratively down port is not live, even before
                // its link state follows (upstream's first port status).
                if new_config & 1 != 0 {
                    first.state &= !4;
                }
            }
            ofproto.async_msgs.push(AsyncMsg::PortStatus {
                reason: 2,
                port: first,
            });
            if let Some(port) = second {
                ofproto
                    .async_msgs
                    .push(AsyncMsg::PortStatus { reason: 2, port });
            }
        }
    }
    Ok(())
}

fn queue_reply_raw(version: u8) -> OfpRaw {
    match version {
        1 => OfpRaw::OFPST10_QUEUE_REPLY,
        2 | 3 => OfpRaw::OFPST11_QUEUE_REPLY,
        4 => OfpRaw::OFPST13_QUEUE_REPLY,
        _ => OfpRaw::OFPST14_QUEUE_REPLY,
    }
}

/// `OFPST_QUEUE` request. Every port has the default queue 0; its
/// statistics are unknown unless the datapath reports them.
pub fn queue_stats(ofproto: &Ofproto, msg: &[u8]) -> Result<Vec<Vec<u8>>, OfpErr> {
    let version = msg[0];
    let (_, b) = body(msg)?;
    let req = QueueRequest::decode(version, b)?;
    let ports: Vec<&OfPort> = if req.port_no == ANY {
        ports_in_order(ofproto)
    } else {
        vec![ofport_by_no16(ofproto, req.port_no).ok_or(OfpErr::OFPQOFC_BAD_PORT)?]
    };
    let mut mp = Multipart::new(queue_reply_raw(version), version, xid_of(msg));
    for p in ports {
        if req.queue_id != QUEUE_ALL && req.queue_id != 0 {
            return Err(OfpErr::OFPQOFC_BAD_QUEUE);
        }
        let q = QueueStats {
            port_no: port_no16(p.ofp_port),
            queue_id: 0,
            tx_bytes: u64::MAX,
            tx_packets: u64::MAX,
            tx_errors: u64::MAX,
            duration_sec: u32::MAX,
            duration_nsec: u32::MAX,
        };
        let mut e = Vec::new();
        q.encode(version, &mut e);
        mp.push(&e);
    }
    Ok(mp.finish())
}

/// `OFPT_QUEUE_GET_CONFIG_REQUEST` (OpenFlow 1.0-1.3).
pub fn queue_get_config(ofproto: &Ofproto, msg: &[u8]) -> Result<Vec<Vec<u8>>, OfpErr> {
    let version = msg[0];
    let (_, b) = body(msg)?;
    let (port, _) = queue::decode_request(version, b)?;
    let reply_raw = if version == 1 {
        OfpRaw::OFPT10_QUEUE_GET_CONFIG_REPLY
    } else {
        OfpRaw::OFPT11_QUEUE_GET_CONFIG_REPLY
    };
    let ports: Vec<&OfPort> = if port == ANY {
        ports_in_order(ofproto)
    } else {
        vec![ofport_by_no16(ofproto, port).ok_or(OfpErr::OFPQOFC_BAD_PORT)?]
    };
    let queues: Vec<QueueDesc> = ports
        .iter()
        .map(|p| QueueDesc {
            port_no: port_no16(p.ofp_port),
            queue_id: 0,
            min_rate: u16::MAX,
            max_rate: u16::MAX,
        })
        .collect();
    let mut b = Vec::new();
    queue::encode_reply(version, port, &queues, &mut b);
    Ok(vec![reply(reply_raw, version, xid_of(msg), &b)])
}

/// `OFPST_QUEUE_DESC` request (OpenFlow 1.4+).
pub fn queue_desc(ofproto: &Ofproto, msg: &[u8]) -> Result<Vec<Vec<u8>>, OfpErr> {
    let version = msg[0];
    let (_, b) = body(msg)?;
    let mut r = Reader::new(b);
    let port = port_from_ofp11(r.u32().ok_or(BAD)?).ok_or(OfpErr::OFPBRC_BAD_PORT)?;
    let queue_id = r.u32().ok_or(BAD)?;
    let ports: Vec<&OfPort> = if port == ANY {
        ports_in_order(ofproto)
    } else {
        vec![ofport_by_no16(ofproto, port).ok_or(OfpErr::OFPQOFC_BAD_PORT)?]
    };
    if queue_id != QUEUE_ALL && queue_id != 0 {
        return Err(OfpErr::OFPQOFC_BAD_QUEUE);
    }
    let queues: Vec<QueueDesc> = ports
        .iter()
        .map(|p| QueueDesc {
            port_no: port_no16(p.ofp_port),
            queue_id: 0,
            min_rate: u16::MAX,
            max_rate: u16::MAX,
        })
        .collect();
    let mut mp = Multipart::new(OfpRaw::OFPST14_QUEUE_DESC_REPLY, version, xid_of(msg));
    for q in &queues {
        let mut e = Vec::new();
        queue::encode_reply(version, q.port_no, std::slice::from_ref(q), &mut e);
        mp.push(&e);
    }
    Ok(mp.finish())
}
