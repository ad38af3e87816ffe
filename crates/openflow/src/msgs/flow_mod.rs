//! Flow table modifications (`OFPT_FLOW_MOD` 1.0/1.2+, `NXT_FLOW_MOD`)
//! and flow statistics replies: the messages that carry a match and
//! actions or instructions.

use crate::actions::{self, OfpAction};
use crate::bits::{duration, port_from_ofp11, port_to_ofp11, port_to_string};
use crate::errors::OfpErr;
use crate::msgs::flow::OxsStats;
use crate::nx_match;
use crate::wire::{pad8, Put, Reader};
use flow::Match;

const BAD: OfpErr = OfpErr::OFPBRC_BAD_LEN;

/// Flow flags in upstream's internal numbering.
pub mod ff {
    pub const SEND_FLOW_REM: u16 = 1 << 0;
    pub const CHECK_OVERLAP: u16 = 1 << 1;
    pub const RESET_COUNTS: u16 = 1 << 2;
    pub const NO_PKT_COUNTS: u16 = 1 << 3;
    pub const NO_BYT_COUNTS: u16 = 1 << 4;
}

/// Appends `name ` for each set flag (upstream's `ofp_print_flow_flags`).
pub fn format_flags(out: &mut String, flags: u16) {
    for (bit, name) in [
        (ff::SEND_FLOW_REM, "send_flow_rem "),
        (ff::CHECK_OVERLAP, "check_overlap "),
        (ff::RESET_COUNTS, "reset_counts "),
        (ff::NO_PKT_COUNTS, "no_packet_counts "),
        (ff::NO_BYT_COUNTS, "no_byte_counts "),
    ] {
        if flags & bit != 0 {
            out.push_str(name);
        }
    }
}

/// The flags a version defines on the wire.
fn flags_mask(version: u8) -> u16 {
    match version {
        1 => ff::SEND_FLOW_REM | ff::CHECK_OVERLAP,
        2 | 3 => ff::SEND_FLOW_REM | ff::CHECK_OVERLAP | ff::RESET_COUNTS,
        _ => 0x1f,
    }
}

/// Which layout a flow-mod uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlowModForm {
    Of10,
    Of11,
    Nx,
}

/// A flow-mod.
#[derive(Clone, Debug, PartialEq)]
pub struct FlowMod {
    pub flow_match: Match,
    pub priority: u16,
    /// Cookie to match (modify/delete), with its mask.
    pub cookie: u64,
    pub cookie_mask: u64,
    /// Cookie for new flows (`u64::MAX`: keep).
    pub new_cookie: u64,
    pub table_id: u8,
    pub command: u8,
    pub idle_timeout: u16,
    pub hard_timeout: u16,
    pub importance: u16,
    pub buffer_id: u32,
    pub out_port: u16,
    pub out_group: u32,
    pub flags: u16,
    pub actions: Vec<OfpAction>,
}

impl FlowMod {
    pub fn decode(form: FlowModForm, version: u8, body: &[u8]) -> Result<FlowMod, OfpErr> {
        let mut r = Reader::new(body);
        match form {
            FlowModForm::Of10 | FlowModForm::Nx => {
                let mut flow_match = Match::catchall();
                let mut exact = false;
                if form == FlowModForm::Of10 {
                    let m = r.bytes(40).ok_or(BAD)?;
                    // OpenFlow 1.0 gives exact-match flows the top priority.
                    exact = u32::from_be_bytes([m[0], m[1], m[2], m[3]]) & 0x3f_ffff == 0;
                    flow_match = nx_match::decode_ofp10_match(m)?;
                }
                let cookie = r.u64().ok_or(BAD)?;
                let command = r.u16().ok_or(BAD)?;
                let idle_timeout = r.u16().ok_or(BAD)?;
                let hard_timeout = r.u16().ok_or(BAD)?;
                let mut priority = r.u16().ok_or(BAD)?;
                if exact {
                    priority = u16::MAX;
                }
                let buffer_id = r.u32().ok_or(BAD)?;
                let out_port = r.u16().ok_or(BAD)?;
                let flags = r.u16().ok_or(BAD)?;
                if form == FlowModForm::Of10 {
                    if let Some((pre, post)) = flow_match.normalize() {
                        vlog::info!("ofp_match", "normalization changed ofp_match, details:");
                        vlog::info!("ofp_match", " pre: {}", pre);
                        vlog::info!("ofp_match", "post: {}", post);
                    }
                } else {
                    let match_len = usize::from(r.u16().ok_or(BAD)?);
                    r.skip(6).ok_or(BAD)?;
                    flow_match = nx_match::pull_nxm(&mut r, match_len, true)?;
                }
                // Instructions in the message's version (an action list
                // in OpenFlow 1.0), as upstream reads NXT_FLOW_MOD.
                let mut actions = actions::decode_instructions(r.rest(), version)?;
                let protocol = if form == FlowModForm::Of10 {
                    flow::Protocols::OF10_STD_TID
                } else {
                    flow::Protocols::OF10_NXM_TID
                };
                actions::check_consistency(
                    &mut actions,
                    &flow_match,
                    (command >> 8) as u8,
                    protocol,
                )?;
                let (cookie, cookie_mask, new_cookie) = match command & 0xff {
                    0 => (0, 0, cookie),
                    _ => (cookie, 0, u64::MAX),
                };
                Ok(FlowMod {
                    flow_match,
                    priority,
                    cookie,
                    cookie_mask,
                    new_cookie,
                    table_id: (command >> 8) as u8,
                    command: command as u8,
                    idle_timeout,
                    hard_timeout,
                    importance: 0,
                    buffer_id,
                    out_port,
                    out_group: 0xffff_ffff,
                    flags: flags & flags_mask(1),
                    actions,
                })
            }
            FlowModForm::Of11 => {
                let cookie = r.u64().ok_or(BAD)?;
                let cookie_mask = r.u64().ok_or(BAD)?;
                let table_id = r.u8().ok_or(BAD)?;
                let command = r.u8().ok_or(BAD)?;
                let idle_timeout = r.u16().ok_or(BAD)?;
                let hard_timeout = r.u16().ok_or(BAD)?;
                let priority = r.u16().ok_or(BAD)?;
                let buffer_id = r.u32().ok_or(BAD)?;
                let out_port =
                    port_from_ofp11(r.u32().ok_or(BAD)?).ok_or(OfpErr::OFPBRC_BAD_PORT)?;
                let out_group = r.u32().ok_or(BAD)?;
                let flags = r.u16().ok_or(BAD)?;
                if flags & !flags_mask(version) != 0 {
                    return Err(OfpErr::OFPFMFC_BAD_FLAGS);
                }
                let importance = r.u16().ok_or(BAD)?;
                let flow_match = nx_match::pull_ofp11_match(&mut r, true)?;
                let mut actions = actions::decode_instructions(r.rest(), version)?;
                let protocol = crate::protocol::protocols_from_version(version);
                actions::check_consistency(&mut actions, &flow_match, table_id, protocol)?;
                let (cookie, cookie_mask, new_cookie) = if command == 0 {
                    (0, 0, cookie)
                } else {
                    (cookie, cookie_mask, u64::MAX)
                };
                Ok(FlowMod {
                    flow_match,
                    priority,
                    cookie,
                    cookie_mask,
                    new_cookie,
                    table_id,
                    command,
                    idle_timeout,
                    hard_timeout,
                    importance: if version >= 5 { importance } else { 0 },
                    buffer_id,
                    out_port,
                    out_group,
                    flags: flags & flags_mask(version),
                    actions,
                })
            }
        }
    }

    pub fn encode_body(&self, form: FlowModForm, version: u8, out: &mut Vec<u8>) {
        let cookie = if self.command == 0 {
            self.new_cookie
        } else {
            self.cookie
        };
        match form {
            FlowModForm::Of10 | FlowModForm::Nx => {
                let m = nx_match::put_nxm(&self.flow_match);
                if form == FlowModForm::Of10 {
                    nx_match::encode_ofp10_match(&self.flow_match, out);
                }
                out.put_u64(cookie);
                out.put_u16(u16::from(self.table_id) << 8 | u16::from(self.command));
                out.put_u16(self.idle_timeout);
                out.put_u16(self.hard_timeout);
                out.put_u16(self.priority);
                out.put_u32(self.buffer_id);
                out.put_u16(self.out_port);
                out.put_u16(self.flags);
                if form == FlowModForm::Nx {
                    out.put_u16(m.len() as u16);
                    out.put_zeros(6);
                    out.extend_from_slice(&m);
                    out.put_zeros(pad8(m.len()) - m.len());
                }
                out.extend_from_slice(&actions::encode_instructions(&self.actions, version));
            }
            FlowModForm::Of11 => {
                out.put_u64(cookie);
                out.put_u64(if self.command == 0 {
                    0
                } else {
                    self.cookie_mask
                });
                out.put_u8(self.table_id);
                out.put_u8(self.command);
                out.put_u16(self.idle_timeout);
                out.put_u16(self.hard_timeout);
                out.put_u16(self.priority);
                out.put_u32(self.buffer_id);
                out.put_u32(port_to_ofp11(self.out_port));
                out.put_u32(self.out_group);
                out.put_u16(self.flags);
                out.put_u16(self.importance);
                out.extend_from_slice(&nx_match::put_oxm(&self.flow_match, version));
                out.extend_from_slice(&actions::encode_instructions(&self.actions, version));
            }
        }
    }

    /// Upstream's flow-mod printing. `raw_match` is the high-verbosity
    /// rendering of the wire match (OpenFlow 1.0 and Nicira), if any.
    pub fn format(&self, out: &mut String, version: u8, raw_match: Option<String>) {
        out.push(' ');
        out.push_str(match self.command {
            0 => "ADD",
            1 => "MOD",
            2 => "MOD_STRICT",
            3 => "DEL",
            4 => "DEL_STRICT",
            c => return out.push_str(&format!("cmd:{c}")),
        });
        if self.table_id != 0 {
            out.push_str(&format!(" table:{}", self.table_id));
        }
        out.push(' ');
        let need_priority = raw_match.is_some();
        match raw_match {
            Some(m) => out.push_str(&m),
            None => out.push_str(&self.flow_match.format(i32::from(self.priority))),
        }
        if !out.ends_with(' ') {
            out.push(' ');
        }
        if self.new_cookie != 0 && self.new_cookie != u64::MAX {
            out.push_str(&format!("cookie:{:#x} ", self.new_cookie));
        }
        if self.cookie_mask != 0 {
            out.push_str(&format!(
                "cookie:{:#x}/{:#x} ",
                self.cookie, self.cookie_mask
            ));
        }
        if self.idle_timeout != 0 {
            out.push_str(&format!("idle:{} ", self.idle_timeout));
        }
        if self.hard_timeout != 0 {
            out.push_str(&format!("hard:{} ", self.hard_timeout));
        }
        if self.importance != 0 {
            out.push_str(&format!("importance:{} ", self.importance));
        }
        if need_priority && self.priority != 0x8000 {
            out.push_str(&format!("pri:{} ", self.priority));
        }
        if self.buffer_id != u32::MAX {
            out.push_str(&format!("buf:{:#x} ", self.buffer_id));
        }
        if self.out_port != crate::bits::ofpp::NONE {
            out.push_str(&format!("out_port:{} ", port_to_string(self.out_port)));
        }
        let mut flags = self.flags;
        if version <= 2 {
            flags &= !ff::RESET_COUNTS;
        }
        format_flags(out, flags);
        out.push_str("actions=");
        out.push_str(&actions::format(&self.actions));
    }
}

/// Upstream's `ofp10_match_to_string` at verbosity `verbosity`.
pub fn ofp10_match_to_string(b: &[u8], verbosity: u32) -> Result<String, OfpErr> {
    let mut r = Reader::new(b);
    let w = r.u32().ok_or(BAD)?;
    let in_port = r.u16().ok_or(BAD)?;
    let dl_src: [u8; 6] = r.array().ok_or(BAD)?;
    let dl_dst: [u8; 6] = r.array().ok_or(BAD)?;
    let dl_vlan = r.u16().ok_or(BAD)?;
    let dl_vlan_pcp = r.u8().ok_or(BAD)?;
    r.skip(1).ok_or(BAD)?;
    let dl_type = r.u16().ok_or(BAD)?;
    let nw_tos = r.u8().ok_or(BAD)?;
    let nw_proto = r.u8().ok_or(BAD)?;
    r.skip(2).ok_or(BAD)?;
    let nw_src = r.u32().ok_or(BAD)?;
    let nw_dst = r.u32().ok_or(BAD)?;
    let tp_src = r.u16().ok_or(BAD)?;
    let tp_dst = r.u16().ok_or(BAD)?;
    let mut s = String::new();
    let wild = |s: &mut String, leader: &str, is_wild: bool, v: String| {
        if is_wild && verbosity < 2 {
            return;
        }
        s.push_str(leader);
        if is_wild {
            s.push('*');
        } else {
            s.push_str(&v);
        }
        s.push(',');
    };
    let netmask = |s: &mut String, leader: &str, ip: u32, bits: u32| {
        if bits >= 32 && verbosity < 2 {
            return;
        }
        s.push_str(leader);
        if bits < 32 {
            s.push_str(&flow::value_str::format_ipv4(ip));
            if bits != 0 {
                s.push_str(&format!("/{}", 32 - bits));
            }
        } else {
            s.push('*');
        }
        s.push(',');
    };
    let (mut skip_type, mut skip_proto) = (false, false);
    if w & (1 << 4) == 0 {
        skip_type = true;
        match dl_type {
            0x0800 => {
                if w & (1 << 5) == 0 {
                    skip_proto = true;
                    match nw_proto {
                        1 => s.push_str("icmp,"),
                        6 => s.push_str("tcp,"),
                        17 => s.push_str("udp,"),
                        132 => s.push_str("sctp,"),
                        _ => {
                            s.push_str("ip,");
                            skip_proto = false;
                        }
                    }
                } else {
                    s.push_str("ip,");
                }
            }
            0x0806 => s.push_str("arp,"),
            0x8035 => s.push_str("rarp,"),
            _ => skip_type = false,
        }
    }
    wild(&mut s, "in_port=", w & 1 != 0, port_to_string(in_port));
    wild(&mut s, "dl_vlan=", w & 2 != 0, dl_vlan.to_string());
    wild(
        &mut s,
        "dl_vlan_pcp=",
        w & (1 << 20) != 0,
        dl_vlan_pcp.to_string(),
    );
    wild(
        &mut s,
        "dl_src=",
        w & 4 != 0,
        crate::bits::eth_addr(&dl_src),
    );
    wild(
        &mut s,
        "dl_dst=",
        w & 8 != 0,
        crate::bits::eth_addr(&dl_dst),
    );
    if !skip_type {
        wild(&mut s, "dl_type=", w & 16 != 0, format!("0x{dl_type:04x}"));
    }
    netmask(&mut s, "nw_src=", nw_src, (w >> 8) & 0x3f);
    netmask(&mut s, "nw_dst=", nw_dst, (w >> 14) & 0x3f);
    if !skip_proto {
        let leader = if dl_type == 0x0806 || dl_type == 0x8035 {
            "arp_op="
        } else {
            "nw_proto="
        };
        wild(&mut s, leader, w & 32 != 0, nw_proto.to_string());
    }
    wild(&mut s, "nw_tos=", w & (1 << 21) != 0, nw_tos.to_string());
    if nw_proto == 1 {
        wild(&mut s, "icmp_type=", w & 64 != 0, tp_src.to_string());
        wild(&mut s, "icmp_code=", w & 128 != 0, tp_dst.to_string());
    } else {
        wild(&mut s, "tp_src=", w & 64 != 0, tp_src.to_string());
        wild(&mut s, "tp_dst=", w & 128 != 0, tp_dst.to_string());
    }
    if s.ends_with(',') {
        s.pop();
    }
    Ok(s)
}

/// One flow's statistics.
#[derive(Clone, Debug, PartialEq)]
pub struct FlowStats {
    pub flow_match: Match,
    pub priority: u16,
    pub table_id: u8,
    pub duration_sec: u32,
    pub duration_nsec: u32,
    pub idle_timeout: u16,
    pub hard_timeout: u16,
    pub flags: u16,
    pub importance: u16,
    /// -1 when unknown.
    pub idle_age: i64,
    pub hard_age: i64,
    pub cookie: u64,
    pub packet_count: u64,
    pub byte_count: u64,
    pub actions: Vec<OfpAction>,
}

/// Which layout a flow-stats reply uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlowStatsForm {
    Of10,
    Of11,
    Of15,
    Nx,
}

impl FlowStats {
    pub fn decode_all(
        form: FlowStatsForm,
        version: u8,
        body: &[u8],
    ) -> Result<Vec<FlowStats>, OfpErr> {
        let mut r = Reader::new(body);
        let mut v = Vec::new();
        while !r.is_empty() {
            let mut head = r;
            let len = usize::from(head.u16().ok_or(BAD)?);
            if len < 8 || len > r.remaining() {
                return Err(BAD);
            }
            let mut e = Reader::new(r.bytes(len).ok_or(BAD)?);
            e.skip(2).ok_or(BAD)?;
            let mut fs = FlowStats {
                flow_match: Match::catchall(),
                priority: 0,
                table_id: 0,
                duration_sec: 0,
                duration_nsec: 0,
                idle_timeout: 0,
                hard_timeout: 0,
                flags: 0,
                importance: 0,
                idle_age: -1,
                hard_age: -1,
                cookie: 0,
                packet_count: 0,
                byte_count: 0,
                actions: Vec::new(),
            };
            match form {
                FlowStatsForm::Of10 => {
                    fs.table_id = e.u8().ok_or(BAD)?;
                    e.skip(1).ok_or(BAD)?;
                    fs.flow_match = nx_match::decode_ofp10_match(e.bytes(40).ok_or(BAD)?)?;
                    fs.duration_sec = e.u32().ok_or(BAD)?;
                    fs.duration_nsec = e.u32().ok_or(BAD)?;
                    fs.priority = e.u16().ok_or(BAD)?;
                    fs.idle_timeout = e.u16().ok_or(BAD)?;
                    fs.hard_timeout = e.u16().ok_or(BAD)?;
                    e.skip(6).ok_or(BAD)?;
                    fs.cookie = e.u64().ok_or(BAD)?;
                    fs.packet_count = e.u64().ok_or(BAD)?;
                    fs.byte_count = e.u64().ok_or(BAD)?;
                    fs.actions = actions::decode_actions(e.rest(), 1)?;
                }
                FlowStatsForm::Nx => {
                    fs.table_id = e.u8().ok_or(BAD)?;
                    e.skip(1).ok_or(BAD)?;
                    fs.duration_sec = e.u32().ok_or(BAD)?;
                    fs.duration_nsec = e.u32().ok_or(BAD)?;
                    fs.priority = e.u16().ok_or(BAD)?;
                    fs.idle_timeout = e.u16().ok_or(BAD)?;
                    fs.hard_timeout = e.u16().ok_or(BAD)?;
                    let match_len = usize::from(e.u16().ok_or(BAD)?);
                    let idle_age = e.u16().ok_or(BAD)?;
                    let hard_age = e.u16().ok_or(BAD)?;
                    fs.idle_age = i64::from(idle_age) - 1;
                    fs.hard_age = i64::from(hard_age) - 1;
                    fs.cookie = e.u64().ok_or(BAD)?;
                    fs.packet_count = e.u64().ok_or(BAD)?;
                    fs.byte_count = e.u64().ok_or(BAD)?;
                    fs.flow_match = nx_match::pull_nxm(&mut e, match_len, false)?;
                    fs.actions = actions::decode_actions(e.rest(), 1)?;
                }
                FlowStatsForm::Of11 => {
                    fs.table_id = e.u8().ok_or(BAD)?;
                    e.skip(1).ok_or(BAD)?;
                    fs.duration_sec = e.u32().ok_or(BAD)?;
                    fs.duration_nsec = e.u32().ok_or(BAD)?;
                    fs.priority = e.u16().ok_or(BAD)?;
                    fs.idle_timeout = e.u16().ok_or(BAD)?;
                    fs.hard_timeout = e.u16().ok_or(BAD)?;
                    let flags = e.u16().ok_or(BAD)?;
                    let importance = e.u16().ok_or(BAD)?;
                    e.skip(2).ok_or(BAD)?;
                    fs.cookie = e.u64().ok_or(BAD)?;
                    fs.packet_count = e.u64().ok_or(BAD)?;
                    fs.byte_count = e.u64().ok_or(BAD)?;
                    if version >= 4 {
                        fs.flags = flags & flags_mask(version);
                    }
                    if version >= 5 {
                        fs.importance = importance;
                    }
                    fs.flow_match = nx_match::pull_ofp11_match(&mut e, false)?;
                    fs.actions = actions::decode_instructions(e.rest(), version)?;
                }
                FlowStatsForm::Of15 => {
                    e.skip(2).ok_or(BAD)?;
                    fs.table_id = e.u8().ok_or(BAD)?;
                    e.skip(1).ok_or(BAD)?;
                    fs.priority = e.u16().ok_or(BAD)?;
                    fs.idle_timeout = e.u16().ok_or(BAD)?;
                    fs.hard_timeout = e.u16().ok_or(BAD)?;
                    fs.flags = e.u16().ok_or(BAD)? & flags_mask(version);
                    fs.importance = e.u16().ok_or(BAD)?;
                    fs.cookie = e.u64().ok_or(BAD)?;
                    fs.flow_match = nx_match::pull_oxm(&mut e, false)?;
                    let oxs = OxsStats::pull(&mut e)?;
                    (fs.duration_sec, fs.duration_nsec) = oxs.duration.unwrap_or((0, 0));
                    if let Some((sec, _)) = oxs.idle_age {
                        fs.idle_age = i64::from(sec);
                    }
                    fs.packet_count = oxs.packet_count.unwrap_or(u64::MAX);
                    fs.byte_count = oxs.byte_count.unwrap_or(u64::MAX);
                    fs.actions = actions::decode_instructions(e.rest(), version)?;
                }
            }
            v.push(fs);
        }
        Ok(v)
    }

    /// Appends this flow's entry of a flow-stats reply in `form` (the
    /// inverse of [`FlowStats::decode_all`]; ages are carried by the
    /// Nicira form, and the idle age by OpenFlow 1.5's statistics).
    pub fn encode(&self, form: FlowStatsForm, version: u8, out: &mut Vec<u8>) {
        let start = out.len();
        out.put_u16(0);
        let age = |a: i64| u16::try_from(a + 1).unwrap_or(0);
        match form {
            FlowStatsForm::Of10 => {
                out.put_u8(self.table_id);
                out.put_zeros(1);
                nx_match::encode_ofp10_match(&self.flow_match, out);
                out.put_u32(self.duration_sec);
                out.put_u32(self.duration_nsec);
                out.put_u16(self.priority);
                out.put_u16(self.idle_timeout);
                out.put_u16(self.hard_timeout);
                out.put_zeros(6);
                out.put_u64(self.cookie);
                out.put_u64(self.packet_count);
                out.put_u64(self.byte_count);
                out.extend_from_slice(&actions::encode_actions(&self.actions, 1));
            }
            FlowStatsForm::Nx => {
                let m = nx_match::put_nxm(&self.flow_match);
                out.put_u8(self.table_id);
                out.put_zeros(1);
                out.put_u32(self.duration_sec);
                out.put_u32(self.duration_nsec);
                out.put_u16(self.priority);
                out.put_u16(self.idle_timeout);
                out.put_u16(self.hard_timeout);
                out.put_u16(m.len() as u16);
                out.put_u16(age(self.idle_age));
                out.put_u16(age(self.hard_age));
                out.put_u64(self.cookie);
                out.put_u64(self.packet_count);
                out.put_u64(self.byte_count);
                out.extend_from_slice(&m);
                out.put_zeros(pad8(m.len()) - m.len());
                out.extend_from_slice(&actions::encode_actions(&self.actions, 1));
            }
            FlowStatsForm::Of11 => {
                out.put_u8(self.table_id);
                out.put_zeros(1);
                out.put_u32(self.duration_sec);
                out.put_u32(self.duration_nsec);
                out.put_u16(self.priority);
                out.put_u16(self.idle_timeout);
                out.put_u16(self.hard_timeout);
                out.put_u16(if version >= 4 { self.flags } else { 0 });
                out.put_u16(if version >= 5 { self.importance } else { 0 });
                out.put_zeros(2);
                out.put_u64(self.cookie);
                out.put_u64(self.packet_count);
                out.put_u64(self.byte_count);
                out.extend_from_slice(&nx_match::put_oxm(&self.flow_match, version));
                out.extend_from_slice(&actions::encode_instructions(&self.actions, version));
            }
            FlowStatsForm::Of15 => {
                out.put_zeros(2);
                out.put_u8(self.table_id);
                out.put_zeros(1);
                out.put_u16(self.priority);
                out.put_u16(self.idle_timeout);
                out.put_u16(self.hard_timeout);
                out.put_u16(self.flags);
                out.put_u16(self.importance);
                out.put_u64(self.cookie);
                out.extend_from_slice(&nx_match::put_oxm(&self.flow_match, version));
                let oxs = crate::msgs::flow::OxsStats {
                    duration: Some((self.duration_sec, self.duration_nsec)),
                    idle_age: u32::try_from(self.idle_age).ok().map(|s| (s, 0)),
                    flow_count: None,
                    packet_count: Some(self.packet_count).filter(|&c| c != u64::MAX),
                    byte_count: Some(self.byte_count).filter(|&c| c != u64::MAX),
                };
                oxs.put(out);
                out.extend_from_slice(&actions::encode_instructions(&self.actions, version));
            }
        }
        let len = (out.len() - start) as u16;
        out[start..start + 2].copy_from_slice(&len.to_be_bytes());
    }

    /// Upstream's `ofputil_flow_stats_format`.
    pub fn format(&self, out: &mut String) {
        out.push_str(&format!("\n cookie={:#x}, duration=", self.cookie));
        duration(out, self.duration_sec, self.duration_nsec);
        out.push_str(", ");
        out.push_str(&format!("table={}, ", self.table_id));
        if self.packet_count != u64::MAX {
            out.push_str(&format!("n_packets={}, ", self.packet_count));
        }
        if self.byte_count != u64::MAX {
            out.push_str(&format!("n_bytes={}, ", self.byte_count));
        }
        if self.idle_timeout != 0 {
            out.push_str(&format!("idle_timeout={}, ", self.idle_timeout));
        }
        if self.hard_timeout != 0 {
            out.push_str(&format!("hard_timeout={}, ", self.hard_timeout));
        }
        format_flags(out, self.flags);
        if self.importance != 0 {
            out.push_str(&format!("importance={}, ", self.importance));
        }
        if self.idle_age >= 0 {
            out.push_str(&format!("idle_age={}, ", self.idle_age));
        }
        if self.hard_age >= 0 && self.hard_age != i64::from(self.duration_sec) {
            out.push_str(&format!("hard_age={}, ", self.hard_age));
        }
        out.push_str(&self.flow_match.format(i32::from(self.priority)));
        if !out.ends_with(' ') {
            out.push(' ');
        }
        out.push_str("actions=");
        out.push_str(&actions::format(&self.actions));
    }
}
