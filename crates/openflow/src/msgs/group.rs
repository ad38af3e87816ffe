//! Group statistics, group features and the group stats/desc requests
//! (group-mod and group-desc bodies carry actions and live elsewhere).

use crate::bits::{action_bitmap, duration, group_id_to_string};
use crate::errors::OfpErr;
use crate::wire::{Put, Reader};

const BAD: OfpErr = OfpErr::OFPBRC_BAD_LEN;

/// One group's statistics. `duration_sec` is `u32::MAX` when unknown
/// (OpenFlow 1.1-1.2).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupStats {
    pub group_id: u32,
    pub ref_count: u32,
    pub packet_count: u64,
    pub byte_count: u64,
    pub duration_sec: u32,
    pub duration_nsec: u32,
    /// (packets, bytes) per bucket.
    pub buckets: Vec<(u64, u64)>,
}

/// Whether `version`'s group stats carry a duration (Nicira's OpenFlow 1.0
/// extension uses the 1.3 layout).
fn has_duration(version: u8) -> bool {
    version == 1 || version >= 4
}

pub fn decode_stats(version: u8, body: &[u8]) -> Result<Vec<GroupStats>, OfpErr> {
    let base = if has_duration(version) { 40 } else { 32 };
    let mut r = Reader::new(body);
    let mut v = Vec::new();
    while !r.is_empty() {
        let len = usize::from(r.u16().ok_or(BAD)?);
        r.skip(2).ok_or(BAD)?;
        let group_id = r.u32().ok_or(BAD)?;
        let ref_count = r.u32().ok_or(BAD)?;
        r.skip(4).ok_or(BAD)?;
        let packet_count = r.u64().ok_or(BAD)?;
        let byte_count = r.u64().ok_or(BAD)?;
        let (duration_sec, duration_nsec) = if has_duration(version) {
            (r.u32().ok_or(BAD)?, r.u32().ok_or(BAD)?)
        } else {
            (u32::MAX, u32::MAX)
        };
        if len < base || (len - base) % 16 != 0 || len - base > r.remaining() {
            return Err(BAD);
        }
        let mut buckets = Vec::new();
        for _ in 0..(len - base) / 16 {
            buckets.push((r.u64().ok_or(BAD)?, r.u64().ok_or(BAD)?));
        }
        v.push(GroupStats {
            group_id,
            ref_count,
            packet_count,
            byte_count,
            duration_sec,
            duration_nsec,
            buckets,
        });
    }
    Ok(v)
}

pub fn encode_stats(version: u8, out: &mut Vec<u8>, stats: &[GroupStats]) {
    let base = if has_duration(version) { 40 } else { 32 };
    for g in stats {
        out.put_u16((base + 16 * g.buckets.len()) as u16);
        out.put_zeros(2);
        out.put_u32(g.group_id);
        out.put_u32(g.ref_count);
        out.put_zeros(4);
        out.put_u64(g.packet_count);
        out.put_u64(g.byte_count);
        if has_duration(version) {
            out.put_u32(g.duration_sec);
            out.put_u32(g.duration_nsec);
        }
        for (p, b) in &g.buckets {
            out.put_u64(*p);
            out.put_u64(*b);
        }
    }
}

impl GroupStats {
    pub fn format(&self, out: &mut String) {
        out.push_str(&format!("\n group_id={}", self.group_id));
        if self.duration_sec != u32::MAX {
            out.push_str(",duration=");
            duration(out, self.duration_sec, self.duration_nsec);
        }
        out.push_str(&format!(
            ",ref_count={},packet_count={},byte_count={}",
            self.ref_count, self.packet_count, self.byte_count
        ));
        for (i, (p, b)) in self.buckets.iter().enumerate() {
            if *p != u64::MAX {
                out.push_str(&format!(",bucket{i}:packet_count={p},byte_count={b}"));
            }
        }
    }
}

/// The group id a group-stats or (1.5) group-desc request names.
pub fn decode_request(body: &[u8]) -> Result<u32, OfpErr> {
    Reader::new(body).u32().ok_or(BAD)
}

pub fn encode_request(out: &mut Vec<u8>, group_id: u32) {
    out.put_u32(group_id);
    out.put_zeros(4);
}

pub fn format_request(out: &mut String, group_id: u32) {
    out.push_str(&format!(" group_id={}", group_id_to_string(group_id)));
}

/// `OFPST_GROUP_FEATURES` reply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupFeatures {
    pub types: u32,
    pub capabilities: u32,
    pub max_groups: [u32; 4],
    /// Wire action bitmaps (numbering of the message's version).
    pub actions: [u32; 4],
}

impl GroupFeatures {
    pub fn decode(body: &[u8]) -> Result<GroupFeatures, OfpErr> {
        let mut r = Reader::new(body);
        let types = r.u32().ok_or(BAD)?;
        let capabilities = r.u32().ok_or(BAD)?;
        let mut max_groups = [0; 4];
        for m in &mut max_groups {
            *m = r.u32().ok_or(BAD)?;
        }
        let mut actions = [0; 4];
        for a in &mut actions {
            *a = r.u32().ok_or(BAD)?;
        }
        Ok(GroupFeatures {
            types,
            capabilities,
            max_groups,
            actions,
        })
    }

    pub fn encode_body(&self, out: &mut Vec<u8>) {
        out.put_u32(self.types);
        out.put_u32(self.capabilities);
        self.max_groups.iter().for_each(|m| out.put_u32(*m));
        self.actions.iter().for_each(|a| out.put_u32(*a));
    }

    pub fn format(&self, version: u8, out: &mut String) {
        out.push_str(&format!(
            "\n Group table:\n    Types:  {:#x}\n    Capabilities:  {:#x}\n",
            self.types, self.capabilities
        ));
        for (i, name) in ["all", "select", "indirect", "fast failover"]
            .iter()
            .enumerate()
        {
            if self.types & (1 << i) != 0 {
                out.push_str(&format!(
                    "    {name} group:\n       max_groups={:#x}\n       actions: ",
                    self.max_groups[i]
                ));
                action_bitmap(out, version, self.actions[i]);
                out.push('\n');
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_round_trip() {
        for version in 1..=6u8 {
            let mut g = GroupStats {
                group_id: 5,
                ref_count: 2,
                packet_count: 1,
                byte_count: 2,
                duration_sec: 16,
                duration_nsec: 500_000_000,
                buckets: vec![(1, 2)],
            };
            if !has_duration(version) {
                g.duration_sec = u32::MAX;
                g.duration_nsec = u32::MAX;
            }
            let mut b = Vec::new();
            encode_stats(version, &mut b, std::slice::from_ref(&g));
            assert_eq!(decode_stats(version, &b), Ok(vec![g]));
        }
    }
}
