//! Flow messages: flow-mod decoding (every layout, with upstream's cookie
//! and table-id rules), flow and aggregate statistics requests and their
//! replies.

use crate::flow_mod::{FlowModCommand, FlowModReq, RuleCriteria, OFPG_ANY};
use crate::handler::multipart::{reply, Multipart};
use crate::handler::ConnState;
use crate::rule::{Rule, FF_RESET_COUNTS};
use crate::Ofproto;
use flow::actions::OfpPort;
use flow::Protocols;
use openflow::msgs::flow::{AggregateReply, FlowStatsRequest, OxsStats, StatsRequestForm};
use openflow::msgs::flow_mod::{FlowMod, FlowModForm};
use openflow::nx_match::{self, NxmCookie};
use openflow::raw::OfpRaw;
use openflow::wire::{pad8, Put, Reader};
use openflow::OfpErr;
use std::sync::atomic::Ordering;

const BAD: OfpErr = OfpErr::OFPBRC_BAD_LEN;

/// The protocol variant a connection speaks (for action consistency checks).
pub fn conn_protocol(conn: &ConnState) -> Protocols {
    match conn.version {
        1 => match (conn.flow_format, conn.flow_mod_table_id) {
            (crate::handler::FlowFormat::Nxm, false) => Protocols::OF10_NXM,
            (crate::handler::FlowFormat::Nxm, true) => Protocols::OF10_NXM_TID,
            (_, false) => Protocols::OF10_STD,
            (_, true) => Protocols::OF10_STD_TID,
        },
        v => openflow::protocol::protocols_from_version(v),
    }
}

fn act_err(e: flow::actions::OfpErr) -> OfpErr {
    OfpErr::from_name(e.name()).unwrap_or(OfpErr::OFPBAC_BAD_TYPE)
}

/// Raw wire flags of a flow-mod (for the checks the codec does not make).
fn raw_flags(raw: OfpRaw, body: &[u8]) -> Option<u16> {
    let ofs = match raw {
        OfpRaw::OFPT10_FLOW_MOD => 40 + 22,
        OfpRaw::NXT_FLOW_MOD => 22,
        _ => 8 + 8 + 1 + 1 + 6 + 4 + 4 + 4,
    };
    let b = body.get(ofs..ofs + 2)?;
    Some(u16::from_be_bytes([b[0], b[1]]))
}

/// Decodes the Nicira flow-mod, whose NXM may carry a cookie match.
fn decode_nx_flow_mod(body: &[u8]) -> Result<(FlowMod, NxmCookie), OfpErr> {
    let mut r = Reader::new(body);
    let cookie = r.u64().ok_or(BAD)?;
    let command = r.u16().ok_or(BAD)?;
    let idle_timeout = r.u16().ok_or(BAD)?;
    let hard_timeout = r.u16().ok_or(BAD)?;
    let priority = r.u16().ok_or(BAD)?;
    let buffer_id = r.u32().ok_or(BAD)?;
    let out_port = r.u16().ok_or(BAD)?;
    let flags = r.u16().ok_or(BAD)?;
    let match_len = usize::from(r.u16().ok_or(BAD)?);
    r.skip(6).ok_or(BAD)?;
    let padded = pad8(match_len);
    if padded > r.remaining() {
        return Err(OfpErr::OFPBMC_BAD_LEN);
    }
    let mbytes = r.bytes(padded).ok_or(OfpErr::OFPBMC_BAD_LEN)?;
    let mut nc = NxmCookie::default();
    let flow_match = nx_match::pull_entries_cookie(&mbytes[..match_len], true, &mut nc)?;
    let actions = openflow::actions::decode_instructions(r.rest(), 1)?;
    Ok((
        FlowMod {
            flow_match,
            priority,
            cookie,
            cookie_mask: 0,
            new_cookie: cookie,
            table_id: (command >> 8) as u8,
            command: command as u8,
            idle_timeout,
            hard_timeout,
            importance: 0,
            buffer_id,
            out_port,
            out_group: OFPG_ANY,
            flags: flags & 0x3,
            actions,
        },
        nc,
    ))
}

/// Decodes any flow-mod message into a [`FlowModReq`] and checks its
/// actions as upstream's `ofputil_decode_flow_mod` does.
pub fn decode_flow_mod(conn: &ConnState, raw: OfpRaw, msg: &[u8]) -> Result<FlowModReq, OfpErr> {
    let version = msg[0];
    let hlen = raw.header_len(version);
    let body = &msg[hlen..];
    let flags_raw = raw_flags(raw, body).unwrap_or(0);
    let (fm, cookie, cookie_mask, new_cookie, table_id, command) = match raw {
        OfpRaw::OFPT10_FLOW_MOD | OfpRaw::NXT_FLOW_MOD => {
            let (fm, nc, full_command) = if raw == OfpRaw::OFPT10_FLOW_MOD {
                let fm = FlowMod::decode(FlowModForm::Of10, 1, body)?;
                let cmd = u16::from_be_bytes([body[48], body[49]]);
                (fm, NxmCookie::default(), cmd)
            } else {
                let (fm, nc) = decode_nx_flow_mod(body)?;
                let cmd = u16::from_be_bytes([body[8], body[9]]);
                (fm, nc, cmd)
            };
            let wire_cookie = if fm.command == 0 {
                fm.new_cookie
            } else {
                fm.cookie
            };
            if full_command & 0xff == 0 && nc.mask != 0 {
                return Err(OfpErr::NXBRC_NXM_INVALID);
            }
            let tid = !(conn_protocol(conn) & Protocols::TID).is_empty();
            let (table_id, command) = if tid {
                ((full_command >> 8) as u8, full_command & 0xff)
            } else {
                if full_command > 0xff {
                    vlog::warn!(
                        "ofp_flow",
                        "flow_mod has explicit table_id but flow_mod_table_id extension is not enabled"
                    );
                }
                (0xff, full_command)
            };
            // OpenFlow 1.0 emergency flows are not supported.
            if flags_raw & 0x4 != 0 {
                return Err(if fm.idle_timeout != 0 || fm.hard_timeout != 0 {
                    OfpErr::OFPFMFC_BAD_EMERG_TIMEOUT
                } else {
                    OfpErr::OFPFMFC_TABLE_FULL
                });
            }
            (fm, nc.cookie, nc.mask, wire_cookie, table_id, command)
        }
        _ => {
            let fm = FlowMod::decode(FlowModForm::Of11, version, body)?;
            let wire_cookie = if fm.command == 0 {
                fm.new_cookie
            } else {
                fm.cookie
            };
            let (c, m, n) = if fm.command == 0
                || (version == 2 && matches!(fm.command, 1 | 2) && fm.cookie_mask == 0)
            {
                (0, 0, wire_cookie)
            } else {
                (fm.cookie, fm.cookie_mask, u64::MAX)
            };
            let allowed: u16 = match version {
                2 | 3 => 0x7,
                _ => 0x1f,
            };
            if flags_raw & !allowed != 0 {
                return Err(OfpErr::OFPFMFC_BAD_FLAGS);
            }
            let t = fm.table_id;
            let cmd = u16::from(fm.command);
            (fm, c, m, n, t, cmd)
        }
    };
    if command > 4 {
        return Err(OfpErr::OFPFMFC_BAD_COMMAND);
    }
    let command = FlowModCommand::from_wire(command as u8)?;
    let mut flags = fm.flags;
    if version <= 2 && command == FlowModCommand::Add {
        flags |= FF_RESET_COUNTS;
    }
    let mut actions = fm.actions;
    let check_table = if table_id == 0xff { 0 } else { table_id };
    flow::actions::check_consistency(
        &mut actions,
        &fm.flow_match,
        OfpPort::MAX,
        check_table,
        255,
        conn_protocol(conn),
    )
    .map_err(act_err)?;
    Ok(FlowModReq {
        command,
        table_id,
        match_: fm.flow_match,
        priority: fm.priority,
        cookie,
        cookie_mask,
        new_cookie,
        idle_timeout: fm.idle_timeout,
        hard_timeout: fm.hard_timeout,
        importance: fm.importance,
        flags,
        out_port: fm.out_port,
        out_group: fm.out_group,
        buffer_id: fm.buffer_id,
        actions,
    })
}

/// Handles a flow-mod message.
pub fn handle_flow_mod(
    ofproto: &mut Ofproto,
    conn: &ConnState,
    raw: OfpRaw,
    msg: &[u8],
) -> Result<(), OfpErr> {
    let fm = decode_flow_mod(conn, raw, msg)?;
    ofproto.check_tlv_fields(&fm.match_, &fm.actions)?;
    ofproto.handle_flow_mod(&fm)?;
    if fm.buffer_id != u32::MAX {
        return Err(OfpErr::OFPBRC_BUFFER_UNKNOWN);
    }
    Ok(())
}

/// A decoded flow or aggregate stats request.
fn decode_stats_request(raw: OfpRaw, msg: &[u8]) -> Result<FlowStatsRequest, OfpErr> {
    let version = msg[0];
    let body = &msg[raw.header_len(version)..];
    match raw {
        OfpRaw::OFPST10_FLOW_REQUEST | OfpRaw::OFPST10_AGGREGATE_REQUEST => {
            FlowStatsRequest::decode(StatsRequestForm::Of10, body)
        }
        OfpRaw::NXST_FLOW_REQUEST | OfpRaw::NXST_AGGREGATE_REQUEST => {
            let mut r = Reader::new(body);
            let out_port = r.u16().ok_or(BAD)?;
            let match_len = usize::from(r.u16().ok_or(BAD)?);
            let table_id = r.u8().ok_or(BAD)?;
            r.skip(3).ok_or(BAD)?;
            let padded = pad8(match_len);
            if padded > r.remaining() {
                return Err(OfpErr::OFPBMC_BAD_LEN);
            }
            let mbytes = r.bytes(padded).ok_or(OfpErr::OFPBMC_BAD_LEN)?;
            let mut nc = NxmCookie::default();
            let flow_match = nx_match::pull_entries_cookie(&mbytes[..match_len], false, &mut nc)?;
            Ok(FlowStatsRequest {
                flow_match,
                table_id,
                out_port,
                out_group: OFPG_ANY,
                cookie: nc.cookie,
                cookie_mask: nc.mask,
            })
        }
        _ => FlowStatsRequest::decode(StatsRequestForm::Of11, body),
    }
}

fn criteria(req: &FlowStatsRequest) -> RuleCriteria {
    RuleCriteria {
        table_id: req.table_id,
        match_: req.flow_match,
        priority: None,
        cookie: req.cookie,
        cookie_mask: req.cookie_mask,
        out_port: req.out_port,
        out_group: req.out_group,
    }
}

fn age_secs(ms: u64) -> u64 {
    (ms / 1000).min(u64::from(u16::MAX - 1))
}

/// Encodes one rule's flow stats entry in the reply layout `raw`.
pub fn encode_flow_stats(rule: &Rule, raw: OfpRaw, version: u8, now: u64) -> Vec<u8> {
    let (sec, nsec) = crate::stats::duration(rule.created, now);
    let (packets, bytes) = rule.counters();
    let used = rule.used.load(Ordering::Relaxed);
    let idle_age = age_secs(now.saturating_sub(used));
    let hard_age = age_secs(now.saturating_sub(rule.modified()));
    let mut e = Vec::with_capacity(128);
    e.put_u16(0);
    match raw {
        OfpRaw::OFPST10_FLOW_REPLY => {
            e.put_u8(rule.table_id);
            e.put_zeros(1);
            nx_match::encode_ofp10_match(&rule.match_, &mut e);
            e.put_u32(sec);
            e.put_u32(nsec);
            e.put_u16(rule.priority);
            e.put_u16(rule.idle_timeout());
            e.put_u16(rule.hard_timeout());
            e.put_zeros(6);
            e.put_u64(rule.cookie);
            e.put_u64(packets);
            e.put_u64(bytes);
            e.extend_from_slice(&openflow::actions::encode_actions(&rule.actions, 1));
        }
        OfpRaw::NXST_FLOW_REPLY => {
            let m = nx_match::put_nxm(&rule.match_);
            e.put_u8(rule.table_id);
            e.put_zeros(1);
            e.put_u32(sec);
            e.put_u32(nsec);
            e.put_u16(rule.priority);
            e.put_u16(rule.idle_timeout());
            e.put_u16(rule.hard_timeout());
            e.put_u16(m.len() as u16);
            e.put_u16((idle_age + 1) as u16);
            e.put_u16((hard_age + 1) as u16);
            e.put_u64(rule.cookie);
            e.put_u64(packets);
            e.put_u64(bytes);
            e.extend_from_slice(&m);
            e.put_zeros(pad8(m.len()) - m.len());
            e.extend_from_slice(&openflow::actions::encode_actions(&rule.actions, 1));
        }
        OfpRaw::OFPST15_FLOW_REPLY => {
            e.put_zeros(2);
            e.put_u8(rule.table_id);
            e.put_zeros(1);
            e.put_u16(rule.priority);
            e.put_u16(rule.idle_timeout());
            e.put_u16(rule.hard_timeout());
            e.put_u16(rule.flags);
            e.put_u16(rule.importance);
            e.put_u64(rule.cookie);
            e.extend_from_slice(&nx_match::put_oxm(&rule.match_, version));
            OxsStats {
                duration: Some((sec, nsec)),
                idle_age: Some((idle_age as u32, 0)),
                flow_count: None,
                packet_count: Some(packets),
                byte_count: Some(bytes),
            }
            .put(&mut e);
            e.extend_from_slice(&openflow::actions::encode_instructions(
                &rule.actions,
                version,
            ));
        }
        _ => {
            e.put_u8(rule.table_id);
            e.put_zeros(1);
            e.put_u32(sec);
            e.put_u32(nsec);
            e.put_u16(rule.priority);
            e.put_u16(rule.idle_timeout());
            e.put_u16(rule.hard_timeout());
            e.put_u16(if version >= 4 { rule.flags } else { 0 });
            e.put_u16(if version >= 5 { rule.importance } else { 0 });
            e.put_zeros(2);
            e.put_u64(rule.cookie);
            e.put_u64(packets);
            e.put_u64(bytes);
            e.extend_from_slice(&nx_match::put_oxm(&rule.match_, version));
            e.extend_from_slice(&openflow::actions::encode_instructions(
                &rule.actions,
                version,
            ));
        }
    }
    let len = e.len() as u16;
    e[0..2].copy_from_slice(&len.to_be_bytes());
    e
}

/// Handles a flow stats request.
pub fn handle_flow_stats(
    ofproto: &Ofproto,
    raw: OfpRaw,
    msg: &[u8],
) -> Result<Vec<Vec<u8>>, OfpErr> {
    let version = msg[0];
    let xid = u32::from_be_bytes([msg[4], msg[5], msg[6], msg[7]]);
    let req = decode_stats_request(raw, msg)?;
    let rules = ofproto.collect_rules(&criteria(&req), ofproto.version)?;
    let reply_raw = match (raw, version) {
        (OfpRaw::OFPST10_FLOW_REQUEST, _) => OfpRaw::OFPST10_FLOW_REPLY,
        (OfpRaw::NXST_FLOW_REQUEST, _) => OfpRaw::NXST_FLOW_REPLY,
        (_, 2 | 3) => OfpRaw::OFPST11_FLOW_REPLY,
        (_, 4 | 5) => OfpRaw::OFPST13_FLOW_REPLY,
        _ => OfpRaw::OFPST15_FLOW_REPLY,
    };
    let now = ofproto.now();
    let mut mp = Multipart::new(reply_raw, version, xid);
    for (_, r) in rules {
        mp.push(&encode_flow_stats(r.data(), reply_raw, version, now));
    }
    Ok(mp.finish())
}

/// Handles an aggregate stats request.
pub fn handle_aggregate(
    ofproto: &Ofproto,
    raw: OfpRaw,
    msg: &[u8],
) -> Result<Vec<Vec<u8>>, OfpErr> {
    let version = msg[0];
    let xid = u32::from_be_bytes([msg[4], msg[5], msg[6], msg[7]]);
    let req = decode_stats_request(raw, msg)?;
    let rules = ofproto.collect_rules(&criteria(&req), ofproto.version)?;
    let mut agg = AggregateReply {
        packet_count: 0,
        byte_count: 0,
        flow_count: 0,
    };
    for (_, r) in &rules {
        let (p, b) = r.data().counters();
        agg.packet_count = agg.packet_count.wrapping_add(p);
        agg.byte_count = agg.byte_count.wrapping_add(b);
        agg.flow_count += 1;
    }
    let (reply_raw, of15) = match raw {
        OfpRaw::NXST_AGGREGATE_REQUEST => (OfpRaw::NXST_AGGREGATE_REPLY, false),
        OfpRaw::OFPST15_AGGREGATE_REQUEST => (OfpRaw::OFPST15_AGGREGATE_REPLY, true),
        _ => (OfpRaw::OFPST_AGGREGATE_REPLY, false),
    };
    let mut body = Vec::new();
    agg.encode_body(of15, &mut body);
    Ok(vec![reply(reply_raw, version, xid, &body)])
}

#[cfg(test)]
mod tests {
    use super::*;
    use flow::flow_str::{parse_ofp_str, FlowStrKind};
    use openflow::protocol::encode_flow_mod;

    fn decode_in(text: &str, protocol: Protocols) -> FlowModReq {
        let p = parse_ofp_str(
            text,
            FlowStrKind::FlowMod(flow::flow_str::FlowModCommand::Add),
            None,
        )
        .unwrap();
        let fm = FlowMod::from(&p);
        let msg = encode_flow_mod(&fm, protocol, 1);
        let version = msg[0];
        let mut conn = ConnState::new(1, version);
        if protocol == Protocols::OF10_NXM {
            conn.flow_format = crate::handler::FlowFormat::Nxm;
        }
        let raw = openflow::decode_raw(&msg).unwrap();
        decode_flow_mod(&conn, raw, &msg).unwrap()
    }

    #[test]
    fn matches_decode_alike_in_every_form() {
        for text in [
            "priority=5,ip,actions=output:3",
            "tcp,tp_dst=80,actions=drop",
            "in_port=1,actions=drop",
        ] {
            let mut a = decode_in(text, Protocols::OF10_NXM).match_;
            crate::flow_mod::normalize_match(&mut a);
            for p in [
                Protocols::OF10_STD,
                Protocols::OF11_STD,
                Protocols::OF12_OXM,
                Protocols::OF13_OXM,
                Protocols::OF15_OXM,
            ] {
                let mut b = decode_in(text, p).match_;
                crate::flow_mod::normalize_match(&mut b);
                assert!(a == b, "{text} {p:?}");
            }
        }
    }
}
