//! Flow monitoring: `NXST_FLOW_MONITOR` (Nicira, OpenFlow 1.0),
//! `ONFST_FLOW_MONITOR` (ONF, OpenFlow 1.3) and `OFPST_FLOW_MONITOR`
//! (OpenFlow 1.4+) requests and updates.

use crate::actions::{self, OfpAction};
use crate::bits::{group_id_to_string, port_from_ofp11, port_to_ofp11, port_to_string};
use crate::errors::OfpErr;
use crate::nx_match;
use crate::wire::{pad8, Put, Reader};
use flow::Match;

const BAD: OfpErr = OfpErr::OFPBRC_BAD_LEN;

/// Which family of flow-monitor messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MonitorForm {
    Nx,
    Onf,
    Of14,
}

/// Monitor flags in Nicira numbering.
pub mod nxfmf {
    pub const INITIAL: u16 = 1 << 0;
    pub const ADD: u16 = 1 << 1;
    pub const DELETE: u16 = 1 << 2;
    pub const MODIFY: u16 = 1 << 3;
    pub const ACTIONS: u16 = 1 << 4;
    pub const OWN: u16 = 1 << 5;
}

fn flags_from_of14(f: u16) -> u16 {
    (f & 0x1f) | if f & 0x40 != 0 { nxfmf::OWN } else { 0 }
}

fn flags_to_of14(f: u16) -> u16 {
    (f & 0x1f) | if f & nxfmf::OWN != 0 { 0x40 } else { 0 }
}

/// One monitor request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MonitorRequest {
    pub id: u32,
    pub flags: u16,
    pub out_port: u16,
    pub out_group: u32,
    pub table_id: u8,
    /// OpenFlow 1.4 command: 0 add, 1 modify, 2 delete.
    pub command: u8,
    pub flow_match: Match,
}

impl MonitorRequest {
    pub fn decode_all(form: MonitorForm, body: &[u8]) -> Result<Vec<MonitorRequest>, OfpErr> {
        let mut r = Reader::new(body);
        let mut v = Vec::new();
        while !r.is_empty() {
            v.push(match form {
                MonitorForm::Nx => {
                    let id = r.u32().ok_or(BAD)?;
                    let flags = r.u16().ok_or(BAD)?;
                    let out_port = r.u16().ok_or(BAD)?;
                    let match_len = usize::from(r.u16().ok_or(BAD)?);
                    let table_id = r.u8().ok_or(BAD)?;
                    r.skip(5).ok_or(BAD)?;
                    if flags & !0x3f != 0 {
                        return Err(OfpErr::OFPMOFC_BAD_FLAGS);
                    }
                    let flow_match = nx_match::pull_nxm(&mut r, match_len, false)?;
                    MonitorRequest {
                        id,
                        flags,
                        out_port,
                        out_group: 0xffff_ffff,
                        table_id,
                        command: 0,
                        flow_match,
                    }
                }
                MonitorForm::Onf => {
                    let id = r.u32().ok_or(BAD)?;
                    let flags = r.u16().ok_or(BAD)?;
                    // The 16 bits after the flags are not a reliable match
                    // length (upstream ignores them); the OXM header says.
                    r.skip(2).ok_or(BAD)?;
                    let out_port =
                        port_from_ofp11(r.u32().ok_or(BAD)?).ok_or(OfpErr::OFPBRC_BAD_PORT)?;
                    let table_id = r.u8().ok_or(BAD)?;
                    r.skip(3).ok_or(BAD)?;
                    if flags & !0x3f != 0 {
                        return Err(OfpErr::OFPMOFC_BAD_FLAGS);
                    }
                    let flow_match = nx_match::pull_oxm(&mut r, false)?;
                    MonitorRequest {
                        id,
                        flags,
                        out_port,
                        out_group: 0xffff_ffff,
                        table_id,
                        command: 0,
                        flow_match,
                    }
                }
                MonitorForm::Of14 => {
                    let id = r.u32().ok_or(BAD)?;
                    let out_port =
                        port_from_ofp11(r.u32().ok_or(BAD)?).ok_or(OfpErr::OFPBRC_BAD_PORT)?;
                    let out_group = r.u32().ok_or(BAD)?;
                    let flags = r.u16().ok_or(BAD)?;
                    let table_id = r.u8().ok_or(BAD)?;
                    let command = r.u8().ok_or(BAD)?;
                    if command > 2 {
                        return Err(OfpErr::OFPMOFC_BAD_COMMAND);
                    }
                    if flags & !0x7f != 0 {
                        return Err(OfpErr::OFPMOFC_BAD_FLAGS);
                    }
                    let flow_match = nx_match::pull_oxm(&mut r, false)?;
                    MonitorRequest {
                        id,
                        flags: flags_from_of14(flags),
                        out_port,
                        out_group,
                        table_id,
                        command,
                        flow_match,
                    }
                }
            });
        }
        Ok(v)
    }

    pub fn encode(&self, form: MonitorForm, version: u8, out: &mut Vec<u8>) {
        match form {
            MonitorForm::Nx => {
                let m = nx_match::put_nxm(&self.flow_match);
                out.put_u32(self.id);
                out.put_u16(self.flags);
                out.put_u16(self.out_port);
                out.put_u16(m.len() as u16);
                out.put_u8(self.table_id);
                out.put_zeros(5);
                out.extend_from_slice(&m);
                out.put_zeros(pad8(m.len()) - m.len());
            }
            MonitorForm::Onf => {
                let m = nx_match::put_oxm(&self.flow_match, version);
                let unpadded = usize::from(u16::from_be_bytes([m[2], m[3]]));
                out.put_u32(self.id);
                out.put_u16(self.flags);
                out.put_u16(unpadded as u16);
                out.put_u32(port_to_ofp11(self.out_port));
                out.put_u8(self.table_id);
                out.put_zeros(3);
                out.extend_from_slice(&m);
            }
            MonitorForm::Of14 => {
                out.put_u32(self.id);
                out.put_u32(port_to_ofp11(self.out_port));
                out.put_u32(self.out_group);
                out.put_u16(flags_to_of14(self.flags));
                out.put_u8(self.table_id);
                out.put_u8(self.command);
                out.extend_from_slice(&nx_match::put_oxm(&self.flow_match, version));
            }
        }
    }

    pub fn format(&self, out: &mut String) {
        out.push_str(&format!("\n id={}", self.id));
        if self.command == 2 {
            out.push_str(" command=delete");
            return;
        }
        out.push_str(" flags=");
        let names = [
            (nxfmf::INITIAL, "initial"),
            (nxfmf::ADD, "add"),
            (nxfmf::DELETE, "delete"),
            (nxfmf::MODIFY, "modify"),
            (nxfmf::ACTIONS, "actions"),
            (nxfmf::OWN, "own"),
        ];
        let set: Vec<&str> = names
            .iter()
            .filter(|(b, _)| self.flags & b != 0)
            .map(|(_, n)| *n)
            .collect();
        out.push_str(&set.join(","));
        if self.out_port != crate::bits::ofpp::NONE {
            out.push_str(&format!(" out_port={}", port_to_string(self.out_port)));
        }
        if self.out_group != 0xffff_ffff {
            out.push_str(&format!(
                " out_group={}",
                group_id_to_string(self.out_group)
            ));
        }
        if self.table_id != 0xff {
            out.push_str(&format!(" table={}", self.table_id));
        }
        let m = self.flow_match.format(0x8000);
        if !m.is_empty() {
            out.push(' ');
            out.push_str(&m);
        }
    }
}

/// What a flow update reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MonitorEvent {
    Added,
    Deleted(u8),
    Modified,
    Abbrev(u32),
    Paused,
    Resumed,
}

/// One flow update of a monitor reply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlowUpdate {
    pub event: MonitorEvent,
    pub table_id: u8,
    pub priority: u16,
    pub idle_timeout: u16,
    pub hard_timeout: u16,
    pub cookie: u64,
    pub flow_match: Match,
    /// The flow's actions (instructions in OpenFlow 1.4+), present when the
    /// monitor asked for them; empty otherwise.
    pub actions: Vec<OfpAction>,
}

impl FlowUpdate {
    fn simple(event: MonitorEvent) -> FlowUpdate {
        FlowUpdate {
            event,
            table_id: 0,
            priority: 0,
            idle_timeout: 0,
            hard_timeout: 0,
            cookie: 0,
            flow_match: Match::catchall(),
            actions: Vec::new(),
        }
    }

    pub fn decode_all(
        form: MonitorForm,
        version: u8,
        body: &[u8],
    ) -> Result<Vec<FlowUpdate>, OfpErr> {
        let mut r = Reader::new(body);
        let mut v = Vec::new();
        while !r.is_empty() {
            let mut head = r;
            let len = usize::from(head.u16().ok_or(BAD)?);
            let event = head.u16().ok_or(BAD)?;
            if len < 8 || len > r.remaining() || len % 8 != 0 {
                return Err(BAD);
            }
            let mut e = Reader::new(r.bytes(len).ok_or(BAD)?);
            e.skip(4).ok_or(BAD)?;
            let of14 = form == MonitorForm::Of14;
            let kind = if of14 {
                match event {
                    0 | 1 => 0,
                    2 => 1,
                    3 => 2,
                    4 => 3,
                    5 => 4,
                    6 => 5,
                    _ => return Err(OfpErr::NXBRC_FM_BAD_EVENT),
                }
            } else {
                event
            };
            let update = match kind {
                3 => FlowUpdate::simple(MonitorEvent::Abbrev(e.u32().ok_or(BAD)?)),
                4 if of14 => FlowUpdate::simple(MonitorEvent::Paused),
                5 if of14 => FlowUpdate::simple(MonitorEvent::Resumed),
                0..=2 => {
                    let (table_id, reason, idle, hard, priority, cookie, m);
                    if of14 {
                        table_id = e.u8().ok_or(BAD)?;
                        reason = e.u8().ok_or(BAD)?;
                        idle = e.u16().ok_or(BAD)?;
                        hard = e.u16().ok_or(BAD)?;
                        priority = e.u16().ok_or(BAD)?;
                        e.skip(4).ok_or(BAD)?;
                        cookie = e.u64().ok_or(BAD)?;
                        m = nx_match::pull_oxm(&mut e, false)?;
                    } else {
                        reason = e.u16().ok_or(BAD)? as u8;
                        priority = e.u16().ok_or(BAD)?;
                        idle = e.u16().ok_or(BAD)?;
                        hard = e.u16().ok_or(BAD)?;
                        let match_len = usize::from(e.u16().ok_or(BAD)?);
                        table_id = e.u8().ok_or(BAD)?;
                        e.skip(1).ok_or(BAD)?;
                        cookie = e.u64().ok_or(BAD)?;
                        m = if form == MonitorForm::Nx {
                            nx_match::pull_nxm(&mut e, match_len, false)?
                        } else {
                            let b = e.bytes(pad8(match_len)).ok_or(BAD)?;
                            nx_match::pull_oxm(&mut Reader::new(b), false)?
                        };
                    }
                    // What follows the match is the flow's actions (OpenFlow
                    // 1.4 sends instructions), in the message's version.
                    let acts = if of14 {
                        actions::decode_instructions(e.rest(), version)?
                    } else {
                        actions::decode_actions(e.rest(), version)?
                    };
                    FlowUpdate {
                        event: match kind {
                            0 => MonitorEvent::Added,
                            1 => MonitorEvent::Deleted(reason),
                            _ => MonitorEvent::Modified,
                        },
                        table_id,
                        priority,
                        idle_timeout: idle,
                        hard_timeout: hard,
                        cookie,
                        flow_match: m,
                        actions: acts,
                    }
                }
                _ => return Err(OfpErr::NXBRC_FM_BAD_EVENT),
            };
            v.push(update);
        }
        Ok(v)
    }

    pub fn format(&self, out: &mut String) {
        out.push_str("\n event=");
        match &self.event {
            MonitorEvent::Added => out.push_str("ADDED"),
            MonitorEvent::Deleted(r) => {
                out.push_str("DELETED reason=");
                out.push_str(match r {
                    0 => "idle",
                    1 => "hard",
                    2 => "delete",
                    3 => "group_delete",
                    4 => "meter_delete",
                    5 => "eviction",
                    _ => "?",
                });
            }
            MonitorEvent::Modified => out.push_str("MODIFIED"),
            MonitorEvent::Abbrev(xid) => {
                out.push_str(&format!("ABBREV xid={xid:#x}"));
                return;
            }
            MonitorEvent::Paused => {
                out.push_str("PAUSED");
                return;
            }
            MonitorEvent::Resumed => {
                out.push_str("RESUMED");
                return;
            }
        }
        out.push_str(&format!(" table={}", self.table_id));
        if self.idle_timeout != 0 {
            out.push_str(&format!(" idle_timeout={}", self.idle_timeout));
        }
        if self.hard_timeout != 0 {
            out.push_str(&format!(" hard_timeout={}", self.hard_timeout));
        }
        out.push_str(&format!(
            " cookie={}",
            crate::bits::c_alt_hex64(self.cookie)
        ));
        out.push(' ');
        out.push_str(&self.flow_match.format(i32::from(self.priority)));
        if !self.actions.is_empty() {
            if !out.ends_with(' ') {
                out.push(' ');
            }
            out.push_str("actions=");
            out.push_str(&actions::format(&self.actions));
        }
        if out.ends_with(' ') {
            out.pop();
        }
    }

    /// Appends this update to a monitor reply body in `form` (the inverse
    /// of [`FlowUpdate::decode_all`]).
    pub fn encode(&self, form: MonitorForm, version: u8, out: &mut Vec<u8>) {
        let of14 = form == MonitorForm::Of14;
        let start = out.len();
        out.put_u16(0);
        let (event, reason) = match self.event {
            MonitorEvent::Added => (0, 0),
            MonitorEvent::Deleted(r) => (1, r),
            MonitorEvent::Modified => (2, 0),
            MonitorEvent::Abbrev(_) => (3, 0),
            MonitorEvent::Paused => (4, 0),
            MonitorEvent::Resumed => (5, 0),
        };
        // OpenFlow 1.4 numbers events from "initial" (0) on; an added flow
        // is 1, and the rest follow.
        out.put_u16(if of14 { event + 1 } else { event });
        match self.event {
            MonitorEvent::Abbrev(xid) => {
                out.put_u32(xid);
            }
            MonitorEvent::Paused | MonitorEvent::Resumed => {
                out.put_zeros(4);
            }
            _ if of14 => {
                out.put_u8(self.table_id);
                out.put_u8(reason);
                out.put_u16(self.idle_timeout);
                out.put_u16(self.hard_timeout);
                out.put_u16(self.priority);
                out.put_zeros(4);
                out.put_u64(self.cookie);
                out.extend_from_slice(&nx_match::put_oxm(&self.flow_match, version));
                out.extend_from_slice(&actions::encode_instructions(&self.actions, version));
            }
            _ => {
                let (m, unpadded) = if form == MonitorForm::Nx {
                    let m = nx_match::put_nxm(&self.flow_match);
                    let n = m.len();
                    (m, n)
                } else {
                    let m = nx_match::put_oxm(&self.flow_match, version);
                    let n = usize::from(u16::from_be_bytes([m[2], m[3]]));
                    (m, n)
                };
                out.put_u16(u16::from(reason));
                out.put_u16(self.priority);
                out.put_u16(self.idle_timeout);
                out.put_u16(self.hard_timeout);
                out.put_u16(unpadded as u16);
                out.put_u8(self.table_id);
                out.put_zeros(1);
                out.put_u64(self.cookie);
                out.extend_from_slice(&m);
                out.put_zeros(pad8(m.len()) - m.len());
                out.extend_from_slice(&actions::encode_actions(&self.actions, version));
            }
        }
        let len = (out.len() - start) as u16;
        out[start..start + 2].copy_from_slice(&len.to_be_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_round_trip() {
        for (form, version) in [
            (MonitorForm::Nx, 1),
            (MonitorForm::Onf, 4),
            (MonitorForm::Of14, 5),
        ] {
            let rq = MonitorRequest {
                id: 7,
                flags: nxfmf::INITIAL | nxfmf::OWN,
                out_port: 3,
                out_group: 0xffff_ffff,
                table_id: 1,
                command: 0,
                flow_match: nx_match::pull_entries(&[0, 0, 0, 2, 0, 1], true).unwrap(),
            };
            let mut b = Vec::new();
            rq.encode(form, version, &mut b);
            assert_eq!(
                MonitorRequest::decode_all(form, &b),
                Ok(vec![rq]),
                "{form:?}"
            );
        }
    }
}
