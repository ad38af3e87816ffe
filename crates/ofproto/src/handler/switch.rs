//! Switch-level requests: features, switch config (fragment handling,
//! miss_send_len), description, barrier, echo, roles with generation ids,
//! asynchronous-message configuration, and the Nicira session settings
//! (flow format, flow_mod table id, packet-in format, controller id).

use crate::handler::dispatch::xid_of;
use crate::handler::multipart::reply;
use crate::handler::{ConnState, FlowFormat, Role};
use crate::Ofproto;
use openflow::msgs::control::{self, AsyncConfig, RoleRequest, RoleStatus};
use openflow::msgs::port::PhyPort;
use openflow::msgs::stats::DescStats;
use openflow::msgs::switch::{SwitchConfig, SwitchFeatures};
use openflow::raw::OfpRaw;
use openflow::wire::Reader;
use openflow::OfpErr;

const BAD: OfpErr = OfpErr::OFPBRC_BAD_LEN;

/// Capabilities in the `openflow` crate's internal numbering: flow, table,
/// port, group and queue stats, ARP match IP, bundles.
const CAPABILITIES: u32 = 1 | 2 | 4 | (1 << 4) | (1 << 6) | (1 << 7) | (1 << 9);
/// OpenFlow 1.0 actions supported (output .. enqueue).
const OF10_ACTIONS: u32 = 0xfff;

fn body(raw: OfpRaw, msg: &[u8]) -> &[u8] {
    &msg[raw.header_len(msg[0]).min(msg.len())..]
}

/// `OFPT_ECHO_REPLY` to an echo request, with its payload.
pub fn echo_reply(msg: &[u8]) -> Vec<u8> {
    let mut m = msg.to_vec();
    m[1] = 3;
    m
}

/// The barrier reply to a barrier request.
pub fn barrier_reply(raw: OfpRaw, msg: &[u8]) -> Vec<u8> {
    let r = if raw == OfpRaw::OFPT10_BARRIER_REQUEST {
        OfpRaw::OFPT10_BARRIER_REPLY
    } else {
        OfpRaw::OFPT11_BARRIER_REPLY
    };
    reply(r, msg[0], xid_of(msg), &[])
}

/// The port descriptions of the switch in port-number order with LOCAL last.
pub fn phy_ports(ofproto: &Ofproto) -> Vec<PhyPort> {
    let mut ports: Vec<&crate::OfPort> = ofproto.ports().collect();
    ports.sort_by_key(|p| (p.ofp_port >= 0xff00, p.ofp_port));
    ports
        .iter()
        .map(|p| crate::handler::ports::phy_port(p))
        .collect()
}

/// `OFPT_FEATURES_REPLY`.
pub fn features_reply(ofproto: &Ofproto, msg: &[u8]) -> Vec<u8> {
    let version = msg[0];
    let f = SwitchFeatures {
        datapath_id: ofproto.config.datapath_id,
        n_buffers: 0,
        n_tables: crate::table::TABLE_INTERNAL,
        auxiliary_id: 0,
        capabilities: CAPABILITIES,
        actions: OF10_ACTIONS,
        ports: if version <= 3 {
            phy_ports(ofproto)
        } else {
            Vec::new()
        },
    };
    f.encode(version, xid_of(msg))
}

/// `OFPT_GET_CONFIG_REPLY`.
pub fn get_config_reply(ofproto: &Ofproto, conn: &ConnState, msg: &[u8]) -> Vec<u8> {
    let c = SwitchConfig {
        flags: ofproto.config.frag_handling,
        miss_send_len: conn.miss_send_len,
    };
    c.encode(OfpRaw::OFPT_GET_CONFIG_REPLY, msg[0], xid_of(msg))
}

/// `OFPT_SET_CONFIG`: fragment handling (switch-wide, not from a
/// secondary) and the connection's miss_send_len.
pub fn set_config(ofproto: &mut Ofproto, conn: &mut ConnState, msg: &[u8]) -> Result<(), OfpErr> {
    let c = SwitchConfig::decode(body(OfpRaw::OFPT_SET_CONFIG, msg))?;
    if ofproto.effective_role(conn) != Role::Slave {
        let frag = c.flags & 3;
        // Upstream's datapath supports "normal" and "drop" only.
        if frag == 0 || frag == 1 {
            ofproto.config.frag_handling = frag;
        } else {
            vlog::warn!(
                "ofproto",
                "{}: unsupported fragment handling mode {}",
                ofproto.name,
                match frag {
                    2 => "reassemble",
                    _ => "nx-match",
                }
            );
        }
    }
    conn.miss_send_len = c.miss_send_len;
    Ok(())
}

/// `OFPST_DESC` reply.
pub fn desc_reply(ofproto: &Ofproto, msg: &[u8]) -> Vec<u8> {
    let d = DescStats {
        mfr_desc: ofproto.config.mfr_desc.clone(),
        hw_desc: ofproto.config.hw_desc.clone(),
        sw_desc: ofproto.config.sw_desc.clone(),
        serial_num: ofproto.config.serial_desc.clone(),
        dp_desc: ofproto.config.dp_desc.clone(),
    };
    let mut b = Vec::new();
    d.encode_body(&mut b);
    reply(OfpRaw::OFPST_DESC_REPLY, msg[0], xid_of(msg), &b)
}

fn role_wire(r: Role) -> u32 {
    match r {
        Role::Equal => control::role::EQUAL,
        Role::Master => control::role::PRIMARY,
        Role::Slave => control::role::SECONDARY,
    }
}

/// `OFPT_ROLE_REQUEST` / `NXT_ROLE_REQUEST`.
pub fn role_request(
    ofproto: &mut Ofproto,
    conn: &mut ConnState,
    raw: OfpRaw,
    msg: &[u8],
) -> Result<Vec<Vec<u8>>, OfpErr> {
    let b = body(raw, msg);
    let req = if raw == OfpRaw::NXT_ROLE_REQUEST {
        RoleRequest::decode_nx(b)?
    } else {
        RoleRequest::decode_of12(b)?
    };
    if req.role != control::role::NOCHANGE {
        if req.role != control::role::EQUAL {
            if let Some(g) = req.generation_id {
                if !ofproto.set_generation_id(g) {
                    return Err(OfpErr::OFPRRFC_STALE);
                }
            }
        }
        let role = match req.role {
            control::role::PRIMARY => Role::Master,
            control::role::SECONDARY => Role::Slave,
            _ => Role::Equal,
        };
        ofproto.set_role(conn, role);
    }
    let role = ofproto.effective_role(conn);
    let rep = RoleRequest {
        role: role_wire(role),
        generation_id: ofproto.generation_id,
    };
    let mut out = Vec::new();
    let reply_raw = if raw == OfpRaw::NXT_ROLE_REQUEST {
        rep.encode_nx(&mut out);
        OfpRaw::NXT_ROLE_REPLY
    } else {
        rep.encode_of12(&mut out);
        OfpRaw::OFPT12_ROLE_REPLY
    };
    Ok(vec![reply(reply_raw, msg[0], xid_of(msg), &out)])
}

/// The role-status message telling a demoted primary it is now secondary.
pub fn role_status_body(generation_id: u64) -> Vec<u8> {
    let mut b = Vec::new();
    RoleStatus {
        role: control::role::SECONDARY,
        reason: 0,
        generation_id,
    }
    .encode_body(&mut b);
    b
}

/// The default asynchronous configuration of a connection (upstream's
/// `ofputil_async_cfg_default`): packet-ins for no_match and action (and
/// OpenFlow 1.4's finer action reasons but invalid_ttl), flow removed for
/// every reason the version knows, port status for all, to primaries and
/// equals; secondaries get only port status.
pub fn default_async_config(version: u8) -> AsyncConfig {
    let mut ac = AsyncConfig::default();
    // [kind][0 = primary/equal, 1 = secondary]
    ac.masks[0] = [if version >= 5 { 0x3b } else { 0x3 }, 0];
    ac.masks[1] = [0x7, 0x7];
    ac.masks[2] = [if version >= 5 { 0x3f } else { 0xf }, 0];
    ac
}

/// The connection's async config (its own or the default).
pub fn async_config(conn: &ConnState) -> AsyncConfig {
    conn.async_config
        .clone()
        .unwrap_or_else(|| default_async_config(conn.version))
}

/// `OFPT_GET_ASYNC_REPLY`.
pub fn get_async_reply(conn: &ConnState, raw: OfpRaw, msg: &[u8]) -> Vec<u8> {
    let ac = async_config(conn);
    let mut b = Vec::new();
    let r = if raw == OfpRaw::OFPT13_GET_ASYNC_REQUEST {
        ac.encode_legacy(&mut b);
        OfpRaw::OFPT13_GET_ASYNC_REPLY
    } else {
        ac.encode_props(&mut b);
        OfpRaw::OFPT14_GET_ASYNC_REPLY
    };
    reply(r, msg[0], xid_of(msg), &b)
}

/// `OFPT_SET_ASYNC` and the Nicira equivalents: properties not given keep
/// their current value.
pub fn set_async(conn: &mut ConnState, raw: OfpRaw, msg: &[u8]) -> Result<(), OfpErr> {
    let b = body(raw, msg);
    let version = msg[0];
    let ac = match raw {
        OfpRaw::OFPT13_SET_ASYNC | OfpRaw::NXT_SET_ASYNC_CONFIG => {
            let mut cur = async_config(conn);
            let legacy = AsyncConfig::decode_legacy(version.max(4), b)?;
            for k in 0..3 {
                cur.masks[k] = legacy.masks[k];
            }
            cur
        }
        _ => {
            let mut cur = async_config(conn);
            let mut r = Reader::new(b);
            let mut given = [[false; 2]; 6];
            while !r.is_empty() {
                let (ptype, _) = openflow::msgs::props::pull_property(&mut r)?;
                if let Some(g) = given.get_mut(usize::from(ptype / 2)) {
                    g[if ptype % 2 == 0 { 1 } else { 0 }] = true;
                }
            }
            let new = AsyncConfig::decode_props(version, b, false)?;
            for (k, roles) in given.iter().enumerate() {
                for (role, &set) in roles.iter().enumerate() {
                    if set {
                        cur.masks[k][role] = new.masks[k][role];
                    }
                }
            }
            cur
        }
    };
    conn.async_config = Some(ac);
    Ok(())
}

/// `NXT_SET_FLOW_FORMAT`.
pub fn set_flow_format(conn: &mut ConnState, msg: &[u8]) -> Result<(), OfpErr> {
    let f = control::decode_u32(body(OfpRaw::NXT_SET_FLOW_FORMAT, msg))?;
    conn.flow_format = match f {
        0 => FlowFormat::OpenFlow10,
        2 => FlowFormat::Nxm,
        _ => return Err(OfpErr::OFPBRC_EPERM),
    };
    Ok(())
}

/// `NXT_FLOW_MOD_TABLE_ID`.
pub fn flow_mod_table_id(conn: &mut ConnState, msg: &[u8]) -> Result<(), OfpErr> {
    let b = body(OfpRaw::NXT_FLOW_MOD_TABLE_ID, msg);
    conn.flow_mod_table_id = *b.first().ok_or(BAD)? != 0;
    Ok(())
}

/// `NXT_SET_PACKET_IN_FORMAT`.
pub fn set_packet_in_format(conn: &mut ConnState, msg: &[u8]) -> Result<(), OfpErr> {
    let f = control::decode_u32(body(OfpRaw::NXT_SET_PACKET_IN_FORMAT, msg))?;
    control::packet_in_format_name(f)?;
    conn.packet_in_format = f;
    Ok(())
}

/// `NXT_SET_CONTROLLER_ID`.
pub fn set_controller_id(conn: &mut ConnState, msg: &[u8]) -> Result<(), OfpErr> {
    let b = body(OfpRaw::NXT_SET_CONTROLLER_ID, msg);
    let mut r = Reader::new(b);
    r.skip(6).ok_or(BAD)?;
    conn.controller_id = r.u16().ok_or(BAD)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{AsyncMsg, ConnState, Ofproto};
    use openflow::raw::{finish, start};
    use openflow::wire::Put;

    fn role_request(role: u32, gen: u64, xid: u32) -> Vec<u8> {
        let mut m = start(OfpRaw::OFPT12_ROLE_REQUEST, 4, xid);
        m.put_u32(role);
        m.put_zeros(4);
        m.put_u64(gen);
        finish(m)
    }

    fn error_code(msg: &[u8]) -> Option<OfpErr> {
        openflow::errors::decode_error_body(openflow::OfpVersion::Of13, &msg[8..]).map(|e| e.error)
    }

    #[test]
    fn primary_election_with_generation_ids() {
        let mut o = Ofproto::new("br0", 1);
        let mut a = ConnState::new(1, 4);
        let mut b = ConnState::new(2, 4);
        let r = o.handle_openflow(&mut a, &role_request(control::role::PRIMARY, 5, 1));
        let rep = RoleRequest::decode_of12(&r[0][8..]).unwrap();
        assert_eq!(
            (rep.role, rep.generation_id),
            (control::role::PRIMARY, Some(5))
        );
        let r = o.handle_openflow(&mut b, &role_request(control::role::PRIMARY, 4, 2));
        assert_eq!(error_code(&r[0]), Some(OfpErr::OFPRRFC_STALE));
        let r = o.handle_openflow(&mut b, &role_request(control::role::PRIMARY, 6, 3));
        assert_eq!(
            RoleRequest::decode_of12(&r[0][8..]).unwrap().role,
            control::role::PRIMARY
        );
        assert!(matches!(
            &o.take_async()[..],
            [AsyncMsg::RoleStatus {
                conn_id: 1,
                generation_id: 6
            }]
        ));
        assert_eq!(o.effective_role(&a), Role::Slave);
        // A secondary may not change the switch.
        let mut fm = start(OfpRaw::OFPT11_FLOW_MOD, 4, 9);
        fm.put_zeros(40);
        fm[25] = 0; // command add
        let fm = finish(fm);
        let r = o.handle_openflow(&mut a, &fm);
        assert_eq!(error_code(&r[0]), Some(OfpErr::OFPBRC_IS_SECONDARY));
        // Nor may a bundle be opened by it.
        let r = o.handle_openflow(&mut a, &role_request(control::role::NOCHANGE, 0, 4));
        assert_eq!(
            RoleRequest::decode_of12(&r[0][8..]).unwrap().role,
            control::role::SECONDARY
        );
    }

    #[test]
    fn default_async_config_is_upstreams() {
        // What the reference answers to OpenFlow 1.3 and 1.4 get-async
        // requests on a fresh connection.
        let mut b = Vec::new();
        default_async_config(4).encode_legacy(&mut b);
        assert_eq!(
            b,
            [0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 7, 0, 0, 0, 0xf, 0, 0, 0, 0]
        );
        let mut p = Vec::new();
        default_async_config(5).encode_props(&mut p);
        let want = "0000000800000000000100080000003b000200080000000700030008000000070004000800000000000500080000003f0006000800000000000700080000000000080008000000000009000800000000000a000800000000000b000800000000";
        let got: String = p.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn async_config_defaults_and_updates() {
        let mut o = Ofproto::new("br0", 1);
        let mut c = ConnState::new(1, 4);
        let get = finish(start(OfpRaw::OFPT13_GET_ASYNC_REQUEST, 4, 1));
        let r = o.handle_openflow(&mut c, &get);
        let ac = AsyncConfig::decode_legacy(4, &r[0][8..]).unwrap();
        assert_eq!(ac.masks[..3], default_async_config(4).masks[..3]);
        let mut set = start(OfpRaw::OFPT13_SET_ASYNC, 4, 2);
        for v in [1u32, 0, 7, 7, 1, 0] {
            set.put_u32(v);
        }
        assert!(o.handle_openflow(&mut c, &finish(set)).is_empty());
        let r = o.handle_openflow(&mut c, &get);
        let ac = AsyncConfig::decode_legacy(4, &r[0][8..]).unwrap();
        assert_eq!(ac.masks[0], [1, 0]);
        assert_eq!(ac.masks[2], [1, 0]);
    }

    #[test]
    fn random_bodies_of_every_message_get_errors_not_panics() {
        let mut o = Ofproto::new("br0", 1);
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move || {
            seed = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = seed;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        };
        for info in openflow::raw::RAWS {
            for version in 1..=6u8 {
                if !info.raw.supports(version) {
                    continue;
                }
                let mut c = ConnState::new(1, version);
                for _ in 0..30 {
                    let mut m = openflow::raw::start(info.raw, version, 7);
                    let n = (next() % 200) as usize;
                    for _ in 0..n {
                        m.push(next() as u8);
                    }
                    let m = finish(m);
                    let _ = o.handle_openflow(&mut c, &m);
                }
            }
        }
    }

    #[test]
    fn malformed_messages_get_errors_not_panics() {
        let mut o = Ofproto::new("br0", 1);
        let mut c = ConnState::new(1, 4);
        for len in 0..64usize {
            for t in 0..40u8 {
                let mut m = vec![4, t, 0, 0, 0, 0, 0, 1];
                m.resize(len.max(8), 0xff);
                let l = m.len() as u16;
                m[2..4].copy_from_slice(&l.to_be_bytes());
                let _ = o.handle_openflow(&mut c, &m);
            }
        }
    }
}
