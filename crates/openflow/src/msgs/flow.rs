//! Flow messages that carry a match but no actions: flow-removed (OpenFlow
//! 1.0, 1.1+, 1.5 with OXS statistics, Nicira), flow and aggregate stats
//! requests, and aggregate stats replies.

use crate::bits::{duration, port_from_ofp11, port_to_ofp11, port_to_string};
use crate::errors::OfpErr;
use crate::nx_match;
use crate::wire::{pad8, Put, Reader};
use flow::Match;

const BAD: OfpErr = OfpErr::OFPBRC_BAD_LEN;

/// Statistics carried as OXS fields (OpenFlow 1.5).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OxsStats {
    pub duration: Option<(u32, u32)>,
    pub idle_age: Option<(u32, u32)>,
    pub flow_count: Option<u32>,
    pub packet_count: Option<u64>,
    pub byte_count: Option<u64>,
}

impl OxsStats {
    /// Pulls an `ofp_oxs_stat` block (reserved, length, fields), padded.
    pub fn pull(r: &mut Reader<'_>) -> Result<OxsStats, OfpErr> {
        let mut head = *r;
        head.skip(2).ok_or(BAD)?;
        let len = usize::from(head.u16().ok_or(BAD)?);
        if len < 4 || pad8(len) > r.remaining() {
            return Err(BAD);
        }
        let block = r.bytes(pad8(len)).ok_or(BAD)?;
        let mut f = Reader::new(&block[4..len]);
        let mut s = OxsStats::default();
        while !f.is_empty() {
            let h = f.u32().ok_or(BAD)?;
            let (class, field, flen) = (h >> 16, (h >> 9) & 0x7f, (h & 0xff) as usize);
            let mut v = Reader::new(f.bytes(flen).ok_or(BAD)?);
            if class != 0x8002 {
                continue;
            }
            match (field, flen) {
                (0, 8) => s.duration = Some((v.u32().ok_or(BAD)?, v.u32().ok_or(BAD)?)),
                (1, 8) => s.idle_age = Some((v.u32().ok_or(BAD)?, v.u32().ok_or(BAD)?)),
                (3, 4) => s.flow_count = Some(v.u32().ok_or(BAD)?),
                (4, 8) => s.packet_count = Some(v.u64().ok_or(BAD)?),
                (5, 8) => s.byte_count = Some(v.u64().ok_or(BAD)?),
                (0 | 1 | 3 | 4 | 5, _) => return Err(BAD),
                _ => {}
            }
        }
        Ok(s)
    }

    pub fn put(&self, out: &mut Vec<u8>) {
        let mut f = Vec::new();
        let mut field = |n: u32, bytes: &[u8]| {
            f.put_u32(0x8002_0000 | (n << 9) | bytes.len() as u32);
            f.extend_from_slice(bytes);
        };
        let pair = |(a, b): (u32, u32)| {
            let mut v = a.to_be_bytes().to_vec();
            v.extend_from_slice(&b.to_be_bytes());
            v
        };
        if let Some(d) = self.duration {
            field(0, &pair(d));
        }
        if let Some(d) = self.idle_age {
            field(1, &pair(d));
        }
        if let Some(c) = self.flow_count {
            field(3, &c.to_be_bytes());
        }
        if let Some(c) = self.packet_count {
            field(4, &c.to_be_bytes());
        }
        if let Some(c) = self.byte_count {
            field(5, &c.to_be_bytes());
        }
        out.put_u16(0);
        out.put_u16((4 + f.len()) as u16);
        out.extend_from_slice(&f);
        out.put_zeros(pad8(4 + f.len()) - 4 - f.len());
    }
}

/// Which layout a flow-removed uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlowRemovedForm {
    Of10,
    Of11,
    Of15,
    Nx,
}

/// A flow-removed notification.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlowRemoved {
    pub flow_match: Match,
    pub priority: u16,
    pub cookie: u64,
    pub reason: u8,
    /// 255 when unknown.
    pub table_id: u8,
    pub duration_sec: u32,
    pub duration_nsec: u32,
    pub idle_timeout: u16,
    pub hard_timeout: u16,
    pub packet_count: u64,
    pub byte_count: u64,
}

impl FlowRemoved {
    pub fn decode(form: FlowRemovedForm, body: &[u8]) -> Result<FlowRemoved, OfpErr> {
        let mut r = Reader::new(body);
        match form {
            FlowRemovedForm::Of10 => {
                let flow_match = nx_match::decode_ofp10_match(r.bytes(40).ok_or(BAD)?)?;
                let cookie = r.u64().ok_or(BAD)?;
                let priority = r.u16().ok_or(BAD)?;
                let reason = r.u8().ok_or(BAD)?;
                r.skip(1).ok_or(BAD)?;
                let duration_sec = r.u32().ok_or(BAD)?;
                let duration_nsec = r.u32().ok_or(BAD)?;
                let idle_timeout = r.u16().ok_or(BAD)?;
                r.skip(2).ok_or(BAD)?;
                Ok(FlowRemoved {
                    flow_match,
                    priority,
                    cookie,
                    reason,
                    table_id: 255,
                    duration_sec,
                    duration_nsec,
                    idle_timeout,
                    hard_timeout: 0,
                    packet_count: r.u64().ok_or(BAD)?,
                    byte_count: r.u64().ok_or(BAD)?,
                })
            }
            FlowRemovedForm::Of11 => {
                let cookie = r.u64().ok_or(BAD)?;
                let priority = r.u16().ok_or(BAD)?;
                let reason = r.u8().ok_or(BAD)?;
                let table_id = r.u8().ok_or(BAD)?;
                let duration_sec = r.u32().ok_or(BAD)?;
                let duration_nsec = r.u32().ok_or(BAD)?;
                let idle_timeout = r.u16().ok_or(BAD)?;
                let hard_timeout = r.u16().ok_or(BAD)?;
                let packet_count = r.u64().ok_or(BAD)?;
                let byte_count = r.u64().ok_or(BAD)?;
                let flow_match = nx_match::pull_ofp11_match(&mut r, false)?;
                Ok(FlowRemoved {
                    flow_match,
                    priority,
                    cookie,
                    reason,
                    table_id,
                    duration_sec,
                    duration_nsec,
                    idle_timeout,
                    hard_timeout,
                    packet_count,
                    byte_count,
                })
            }
            FlowRemovedForm::Of15 => {
                let table_id = r.u8().ok_or(BAD)?;
                let reason = r.u8().ok_or(BAD)?;
                let priority = r.u16().ok_or(BAD)?;
                let idle_timeout = r.u16().ok_or(BAD)?;
                let hard_timeout = r.u16().ok_or(BAD)?;
                let cookie = r.u64().ok_or(BAD)?;
                let flow_match = nx_match::pull_oxm(&mut r, false)?;
                let oxs = OxsStats::pull(&mut r)?;
                let (duration_sec, duration_nsec) = oxs.duration.unwrap_or((0, 0));
                Ok(FlowRemoved {
                    flow_match,
                    priority,
                    cookie,
                    reason,
                    table_id,
                    duration_sec,
                    duration_nsec,
                    idle_timeout,
                    hard_timeout,
                    packet_count: oxs.packet_count.unwrap_or(0),
                    byte_count: oxs.byte_count.unwrap_or(0),
                })
            }
            FlowRemovedForm::Nx => {
                let cookie = r.u64().ok_or(BAD)?;
                let priority = r.u16().ok_or(BAD)?;
                let reason = r.u8().ok_or(BAD)?;
                let table_id = r.u8().ok_or(BAD)?.wrapping_sub(1);
                let duration_sec = r.u32().ok_or(BAD)?;
                let duration_nsec = r.u32().ok_or(BAD)?;
                let idle_timeout = r.u16().ok_or(BAD)?;
                let match_len = usize::from(r.u16().ok_or(BAD)?);
                let packet_count = r.u64().ok_or(BAD)?;
                let byte_count = r.u64().ok_or(BAD)?;
                let flow_match = nx_match::pull_nxm(&mut r, match_len, false)?;
                Ok(FlowRemoved {
                    flow_match,
                    priority,
                    cookie,
                    reason,
                    table_id,
                    duration_sec,
                    duration_nsec,
                    idle_timeout,
                    hard_timeout: 0,
                    packet_count,
                    byte_count,
                })
            }
        }
    }

    pub fn encode_body(&self, form: FlowRemovedForm, version: u8, out: &mut Vec<u8>) {
        match form {
            FlowRemovedForm::Of10 => {
                nx_match::encode_ofp10_match(&self.flow_match, out);
                out.put_u64(self.cookie);
                out.put_u16(self.priority);
                out.put_u8(self.reason);
                out.put_zeros(1);
                out.put_u32(self.duration_sec);
                out.put_u32(self.duration_nsec);
                out.put_u16(self.idle_timeout);
                out.put_zeros(2);
                out.put_u64(self.packet_count);
                out.put_u64(self.byte_count);
            }
            FlowRemovedForm::Of11 => {
                out.put_u64(self.cookie);
                out.put_u16(self.priority);
                out.put_u8(self.reason);
                out.put_u8(self.table_id);
                out.put_u32(self.duration_sec);
                out.put_u32(self.duration_nsec);
                out.put_u16(self.idle_timeout);
                out.put_u16(self.hard_timeout);
                out.put_u64(self.packet_count);
                out.put_u64(self.byte_count);
                out.extend_from_slice(&nx_match::put_oxm(&self.flow_match, version));
            }
            FlowRemovedForm::Of15 => {
                out.put_u8(self.table_id);
                out.put_u8(self.reason);
                out.put_u16(self.priority);
                out.put_u16(self.idle_timeout);
                out.put_u16(self.hard_timeout);
                out.put_u64(self.cookie);
                out.extend_from_slice(&nx_match::put_oxm(&self.flow_match, version));
                OxsStats {
                    duration: Some((self.duration_sec, self.duration_nsec)),
                    idle_age: None,
                    flow_count: None,
                    packet_count: Some(self.packet_count),
                    byte_count: Some(self.byte_count),
                }
                .put(out);
            }
            FlowRemovedForm::Nx => {
                let m = nx_match::put_nxm(&self.flow_match);
                out.put_u64(self.cookie);
                out.put_u16(self.priority);
                out.put_u8(self.reason);
                out.put_u8(self.table_id.wrapping_add(1));
                out.put_u32(self.duration_sec);
                out.put_u32(self.duration_nsec);
                out.put_u16(self.idle_timeout);
                out.put_u16(m.len() as u16);
                out.put_u64(self.packet_count);
                out.put_u64(self.byte_count);
                out.extend_from_slice(&m);
                out.put_zeros(pad8(m.len()) - m.len());
            }
        }
    }

    /// Upstream's `ofputil_flow_removed_format`.
    pub fn format(&self, out: &mut String) {
        out.push(' ');
        out.push_str(&self.flow_match.format(i32::from(self.priority)));
        out.push_str(" reason=");
        match self.reason {
            0 => out.push_str("idle"),
            1 => out.push_str("hard"),
            2 => out.push_str("delete"),
            3 => out.push_str("group_delete"),
            4 => out.push_str("meter_delete"),
            5 => out.push_str("eviction"),
            r => out.push_str(&r.to_string()),
        }
        if self.table_id != 255 {
            out.push_str(&format!(" table_id={}", self.table_id));
        }
        if self.cookie != 0 {
            out.push_str(&format!(" cookie:{:#x}", self.cookie));
        }
        out.push_str(" duration");
        duration(out, self.duration_sec, self.duration_nsec);
        out.push_str(&format!(" idle{}", self.idle_timeout));
        if self.hard_timeout != 0 {
            out.push_str(&format!(" hard{}", self.hard_timeout));
        }
        out.push_str(&format!(
            " pkts{} bytes{}\n",
            self.packet_count, self.byte_count
        ));
    }
}

/// Which layout a flow/aggregate stats request uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatsRequestForm {
    Of10,
    Of11,
    Nx,
}

/// A flow or aggregate statistics request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlowStatsRequest {
    pub flow_match: Match,
    pub table_id: u8,
    pub out_port: u16,
    pub out_group: u32,
    pub cookie: u64,
    pub cookie_mask: u64,
}

impl FlowStatsRequest {
    pub fn decode(form: StatsRequestForm, body: &[u8]) -> Result<FlowStatsRequest, OfpErr> {
        let mut r = Reader::new(body);
        match form {
            StatsRequestForm::Of10 => {
                let flow_match = nx_match::decode_ofp10_match(r.bytes(40).ok_or(BAD)?)?;
                let table_id = r.u8().ok_or(BAD)?;
                r.skip(1).ok_or(BAD)?;
                let out_port = r.u16().ok_or(BAD)?;
                Ok(FlowStatsRequest {
                    flow_match,
                    table_id,
                    out_port,
                    out_group: 0xffff_ffff,
                    cookie: 0,
                    cookie_mask: 0,
                })
            }
            StatsRequestForm::Of11 => {
                let table_id = r.u8().ok_or(BAD)?;
                r.skip(3).ok_or(BAD)?;
                let out_port =
                    port_from_ofp11(r.u32().ok_or(BAD)?).ok_or(OfpErr::OFPBRC_BAD_PORT)?;
                let out_group = r.u32().ok_or(BAD)?;
                r.skip(4).ok_or(BAD)?;
                let cookie = r.u64().ok_or(BAD)?;
                let cookie_mask = r.u64().ok_or(BAD)?;
                let flow_match = nx_match::pull_ofp11_match(&mut r, false)?;
                Ok(FlowStatsRequest {
                    flow_match,
                    table_id,
                    out_port,
                    out_group,
                    cookie,
                    cookie_mask,
                })
            }
            StatsRequestForm::Nx => {
                let out_port = r.u16().ok_or(BAD)?;
                let match_len = usize::from(r.u16().ok_or(BAD)?);
                let table_id = r.u8().ok_or(BAD)?;
                r.skip(3).ok_or(BAD)?;
                let flow_match = nx_match::pull_nxm(&mut r, match_len, false)?;
                Ok(FlowStatsRequest {
                    flow_match,
                    table_id,
                    out_port,
                    out_group: 0xffff_ffff,
                    cookie: 0,
                    cookie_mask: 0,
                })
            }
        }
    }

    pub fn encode_body(&self, form: StatsRequestForm, version: u8, out: &mut Vec<u8>) {
        match form {
            StatsRequestForm::Of10 => {
                nx_match::encode_ofp10_match(&self.flow_match, out);
                out.put_u8(self.table_id);
                out.put_zeros(1);
                out.put_u16(self.out_port);
            }
            StatsRequestForm::Of11 => {
                out.put_u8(self.table_id);
                out.put_zeros(3);
                out.put_u32(port_to_ofp11(self.out_port));
                out.put_u32(self.out_group);
                out.put_zeros(4);
                out.put_u64(self.cookie);
                out.put_u64(self.cookie_mask);
                out.extend_from_slice(&nx_match::put_oxm(&self.flow_match, version));
            }
            StatsRequestForm::Nx => {
                let m = nx_match::put_nxm(&self.flow_match);
                out.put_u16(self.out_port);
                out.put_u16(m.len() as u16);
                out.put_u8(self.table_id);
                out.put_zeros(3);
                out.extend_from_slice(&m);
                out.put_zeros(pad8(m.len()) - m.len());
            }
        }
    }

    pub fn format(&self, out: &mut String) {
        if self.table_id != 0xff {
            out.push_str(&format!(" table={}", self.table_id));
        }
        if self.out_port != crate::bits::ofpp::NONE {
            out.push_str(&format!(" out_port={}", port_to_string(self.out_port)));
        }
        let m = self.flow_match.format(0x8000);
        if !m.is_empty() {
            out.push(' ');
            out.push_str(&m);
        }
    }
}

/// An aggregate statistics reply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AggregateReply {
    pub packet_count: u64,
    pub byte_count: u64,
    pub flow_count: u32,
}

impl AggregateReply {
    pub fn decode(of15: bool, body: &[u8]) -> Result<AggregateReply, OfpErr> {
        let mut r = Reader::new(body);
        if of15 {
            let s = OxsStats::pull(&mut r)?;
            return Ok(AggregateReply {
                packet_count: s.packet_count.unwrap_or(0),
                byte_count: s.byte_count.unwrap_or(0),
                flow_count: s.flow_count.unwrap_or(0),
            });
        }
        Ok(AggregateReply {
            packet_count: r.u64().ok_or(BAD)?,
            byte_count: r.u64().ok_or(BAD)?,
            flow_count: r.u32().ok_or(BAD)?,
        })
    }

    pub fn encode_body(&self, of15: bool, out: &mut Vec<u8>) {
        if of15 {
            OxsStats {
                flow_count: Some(self.flow_count),
                packet_count: Some(self.packet_count),
                byte_count: Some(self.byte_count),
                ..OxsStats::default()
            }
            .put(out);
        } else {
            out.put_u64(self.packet_count);
            out.put_u64(self.byte_count);
            out.put_u32(self.flow_count);
            out.put_zeros(4);
        }
    }

    pub fn format(&self, out: &mut String) {
        out.push_str(&format!(
            " packet_count={} byte_count={} flow_count={}",
            self.packet_count, self.byte_count, self.flow_count
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample_match() -> Match {
        nx_match::pull_entries(&[0, 0, 0, 2, 0, 1], true).unwrap()
    }

    #[test]
    fn flow_removed_round_trips_in_every_form() {
        for (form, version) in [
            (FlowRemovedForm::Of10, 1),
            (FlowRemovedForm::Of11, 4),
            (FlowRemovedForm::Of15, 6),
            (FlowRemovedForm::Nx, 1),
        ] {
            let fr = FlowRemoved {
                flow_match: sample_match(),
                priority: 7,
                cookie: if form == FlowRemovedForm::Of10 || form == FlowRemovedForm::Nx {
                    9
                } else {
                    3
                },
                reason: 1,
                table_id: if form == FlowRemovedForm::Of10 {
                    255
                } else {
                    2
                },
                duration_sec: 5,
                duration_nsec: 6,
                idle_timeout: 7,
                hard_timeout: if matches!(form, FlowRemovedForm::Of10 | FlowRemovedForm::Nx) {
                    0
                } else {
                    8
                },
                packet_count: 9,
                byte_count: 10,
            };
            let mut b = Vec::new();
            fr.encode_body(form, version, &mut b);
            assert_eq!(FlowRemoved::decode(form, &b), Ok(fr), "{form:?}");
        }
    }

    #[test]
    fn stats_requests_and_aggregate_round_trip() {
        for (form, version) in [
            (StatsRequestForm::Of10, 1),
            (StatsRequestForm::Of11, 4),
            (StatsRequestForm::Nx, 1),
        ] {
            let rq = FlowStatsRequest {
                flow_match: sample_match(),
                table_id: 5,
                out_port: 4,
                out_group: 0xffff_ffff,
                cookie: 0,
                cookie_mask: 0,
            };
            let mut b = Vec::new();
            rq.encode_body(form, version, &mut b);
            assert_eq!(FlowStatsRequest::decode(form, &b), Ok(rq));
        }
        for of15 in [false, true] {
            let a = AggregateReply {
                packet_count: 1,
                byte_count: 2,
                flow_count: 3,
            };
            let mut b = Vec::new();
            a.encode_body(of15, &mut b);
            assert_eq!(AggregateReply::decode(of15, &b), Ok(a));
        }
    }
}
