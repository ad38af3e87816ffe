//! Session and switch-level messages: hello (with version bitmaps), echo,
//! features request/reply, get/set config.

use super::port::{decode_ports, format_ports, PhyPort};
use crate::bits::{action_bitmap, bit_names};
use crate::errors::OfpErr;
use crate::raw::{finish, start, OfpRaw};
use crate::wire::{hex_dump, pad8, Put, Reader};

/// The versions a header's version implies: every version up to it.
fn bitmap_from_version(v: u8) -> u32 {
    let top = if v < 32 { 1u32 << v } else { 0 };
    top.wrapping_sub(1) << 1
}

/// A decoded `OFPT_HELLO`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hello {
    /// Bit n set: the peer supports version n.
    pub version_bitmap: u32,
    /// False when the hello carried elements upstream could not understand.
    pub understood: bool,
}

impl Hello {
    /// Upstream's `ofputil_decode_hello` on a whole message.
    pub fn decode(msg: &[u8]) -> Hello {
        let version = msg.first().copied().unwrap_or(0);
        let mut bitmap = bitmap_from_version(version);
        let mut r = Reader::new(msg.get(8..).unwrap_or(&[]));
        let mut ok = true;
        while !r.is_empty() {
            let mut head = r;
            let (Some(etype), Some(len)) = (head.u16(), head.u16()) else {
                ok = false;
                break;
            };
            let len = usize::from(len);
            if len < 4 || pad8(len) > r.remaining() {
                ok = false;
                break;
            }
            let elem = r.bytes(pad8(len)).unwrap_or(&[]);
            if etype != 1 || !decode_bitmap(&elem[..len], &mut bitmap) {
                ok = false;
            }
        }
        Hello {
            version_bitmap: bitmap,
            understood: ok,
        }
    }

    /// Upstream's `ofputil_encode_hello`: the newest version in `bitmap`
    /// in the header, plus a bitmap element unless the bitmap is exactly
    /// "every version up to the newest".
    pub fn encode(bitmap: u32, xid: u32) -> Vec<u8> {
        let version = if bitmap == 0 {
            1
        } else {
            31 - bitmap.leading_zeros() as u8
        };
        let mut m = start(OfpRaw::OFPT_HELLO, version, xid);
        if bitmap != bitmap_from_version(version) {
            m.put_u16(1);
            m.put_u16(8);
            m.put_u32(bitmap);
        }
        finish(m)
    }

    pub fn format(&self, msg: &[u8], out: &mut String) {
        out.push_str("\n version bitmap: ");
        let mut first = true;
        for v in 0..32 {
            if self.version_bitmap & (1 << v) != 0 {
                if !first {
                    out.push_str(", ");
                }
                first = false;
                out.push_str(&format!("0x{v:02x}"));
            }
        }
        out.push('\n');
        if !self.understood {
            out.push_str(" unknown data in hello:\n");
            out.push_str(&hex_dump(msg, 0, true));
        }
    }
}

fn decode_bitmap(elem: &[u8], bitmap: &mut u32) -> bool {
    let Some(words) = elem.get(4..8) else {
        return false;
    };
    let mut allowed = u32::from_be_bytes([words[0], words[1], words[2], words[3]]);
    if allowed & 1 != 0 {
        vlog::warn!(
            "ofp_util",
            "peer claims to support invalid OpenFlow version 0x00"
        );
        allowed &= !1;
    }
    if allowed == 0 {
        vlog::warn!(
            "ofp_util",
            "peer does not support any OpenFlow version (between 0x01 and 0x1f)"
        );
        return false;
    }
    *bitmap = allowed;
    true
}

/// Echo request/reply printing: the payload size and, above verbosity 1, a
/// dump of it.
pub fn format_echo(body: &[u8], verbosity: u32, out: &mut String) {
    out.push_str(&format!(" {} bytes of payload\n", body.len()));
    if verbosity > 1 {
        out.push_str(&hex_dump(body, 0, true));
    }
}

/// Capability bits, in upstream's internal numbering.
mod cap {
    pub const FLOW_STATS: u32 = 1 << 0;
    pub const TABLE_STATS: u32 = 1 << 1;
    pub const PORT_STATS: u32 = 1 << 2;
    pub const STP: u32 = 1 << 3;
    pub const GROUP_STATS: u32 = 1 << 4;
    pub const IP_REASM: u32 = 1 << 5;
    pub const QUEUE_STATS: u32 = 1 << 6;
    pub const ARP_MATCH_IP: u32 = 1 << 7;
    pub const PORT_BLOCKED: u32 = 1 << 8;
    pub const BUNDLES: u32 = 1 << 9;
    pub const FLOW_MONITORING: u32 = 1 << 10;
}

fn cap_name(bit: u32) -> Option<&'static str> {
    Some(match bit {
        cap::FLOW_STATS => "FLOW_STATS",
        cap::TABLE_STATS => "TABLE_STATS",
        cap::PORT_STATS => "PORT_STATS",
        cap::STP => "STP",
        cap::GROUP_STATS => "GROUP_STATS",
        cap::IP_REASM => "IP_REASM",
        cap::QUEUE_STATS => "QUEUE_STATS",
        cap::ARP_MATCH_IP => "ARP_MATCH_IP",
        cap::PORT_BLOCKED => "PORT_BLOCKED",
        cap::BUNDLES => "BUNDLES",
        cap::FLOW_MONITORING => "FLOW_MONITORING",
        _ => return None,
    })
}

/// (wire bit, internal bit) pairs per version.
fn cap_map(version: u8) -> Vec<(u32, u32)> {
    let mut m = vec![
        (1 << 0, cap::FLOW_STATS),
        (1 << 1, cap::TABLE_STATS),
        (1 << 2, cap::PORT_STATS),
        (1 << 5, cap::IP_REASM),
        (1 << 6, cap::QUEUE_STATS),
    ];
    match version {
        1 => m.extend([(1 << 3, cap::STP), (1 << 7, cap::ARP_MATCH_IP)]),
        2 => m.extend([(1 << 3, cap::GROUP_STATS), (1 << 7, cap::ARP_MATCH_IP)]),
        3 | 4 => m.extend([(1 << 3, cap::GROUP_STATS), (1 << 8, cap::PORT_BLOCKED)]),
        _ => m.extend([
            (1 << 3, cap::GROUP_STATS),
            (1 << 8, cap::PORT_BLOCKED),
            (1 << 9, cap::BUNDLES),
            (1 << 10, cap::FLOW_MONITORING),
        ]),
    }
    m
}

/// `OFPT_FEATURES_REPLY`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SwitchFeatures {
    pub datapath_id: u64,
    pub n_buffers: u32,
    pub n_tables: u8,
    pub auxiliary_id: u8,
    /// Internal capability bits.
    pub capabilities: u32,
    /// OpenFlow 1.0 action bitmap (0 in later versions).
    pub actions: u32,
    /// Ports (OpenFlow 1.0-1.2 only).
    pub ports: Vec<PhyPort>,
}

impl SwitchFeatures {
    pub fn decode(version: u8, body: &[u8]) -> Result<SwitchFeatures, OfpErr> {
        let bad = OfpErr::OFPBRC_BAD_LEN;
        let mut r = Reader::new(body);
        let datapath_id = r.u64().ok_or(bad)?;
        let n_buffers = r.u32().ok_or(bad)?;
        let n_tables = r.u8().ok_or(bad)?;
        let auxiliary_id = r.u8().ok_or(bad)?;
        r.skip(2).ok_or(bad)?;
        let wire_caps = r.u32().ok_or(bad)?;
        let actions = r.u32().ok_or(bad)?;
        let capabilities = cap_map(version)
            .iter()
            .filter(|(w, _)| wire_caps & w != 0)
            .fold(0, |acc, (_, i)| acc | i);
        let ports = if version <= 3 {
            decode_ports(version, r.rest())?
        } else {
            Vec::new()
        };
        Ok(SwitchFeatures {
            datapath_id,
            n_buffers,
            n_tables,
            auxiliary_id: if version >= 4 { auxiliary_id } else { 0 },
            capabilities,
            actions: if version == 1 { actions } else { 0 },
            ports,
        })
    }

    pub fn encode(&self, version: u8, xid: u32) -> Vec<u8> {
        let raw = match version {
            1 => OfpRaw::OFPT10_FEATURES_REPLY,
            2 | 3 => OfpRaw::OFPT11_FEATURES_REPLY,
            _ => OfpRaw::OFPT13_FEATURES_REPLY,
        };
        let mut m = start(raw, version, xid);
        m.put_u64(self.datapath_id);
        m.put_u32(self.n_buffers);
        m.put_u8(self.n_tables);
        m.put_u8(if version >= 4 { self.auxiliary_id } else { 0 });
        m.put_zeros(2);
        let caps = cap_map(version)
            .iter()
            .filter(|(_, i)| self.capabilities & i != 0)
            .fold(0, |acc, (w, _)| acc | w);
        m.put_u32(caps);
        m.put_u32(if version == 1 { self.actions } else { 0 });
        if version <= 3 {
            for p in &self.ports {
                p.encode(version, &mut m);
            }
        }
        finish(m)
    }

    pub fn format(&self, version: u8, out: &mut String) {
        out.push_str(&format!(" dpid:{:016x}\n", self.datapath_id));
        out.push_str(&format!(
            "n_tables:{}, n_buffers:{}",
            self.n_tables, self.n_buffers
        ));
        if self.auxiliary_id != 0 {
            out.push_str(&format!(", auxiliary_id:{}", self.auxiliary_id));
        }
        out.push('\n');
        out.push_str("capabilities: ");
        bit_names(out, self.capabilities, cap_name, ' ');
        out.push('\n');
        if version == 1 {
            out.push_str("actions: ");
            action_bitmap(out, 1, self.actions);
            out.push('\n');
        }
        format_ports(out, &self.ports);
    }
}

/// `OFPT_GET_CONFIG_REPLY` / `OFPT_SET_CONFIG`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SwitchConfig {
    pub flags: u16,
    pub miss_send_len: u16,
}

impl SwitchConfig {
    pub fn decode(body: &[u8]) -> Result<SwitchConfig, OfpErr> {
        let mut r = Reader::new(body);
        let flags = r.u16().ok_or(OfpErr::OFPBRC_BAD_LEN)?;
        let miss_send_len = r.u16().ok_or(OfpErr::OFPBRC_BAD_LEN)?;
        Ok(SwitchConfig {
            flags,
            miss_send_len,
        })
    }

    pub fn encode(&self, raw: OfpRaw, version: u8, xid: u32) -> Vec<u8> {
        let mut m = start(raw, version, xid);
        m.put_u16(self.flags);
        m.put_u16(self.miss_send_len);
        finish(m)
    }

    pub fn format(&self, version: u8, out: &mut String) {
        let frag = match self.flags & 3 {
            0 => "normal",
            1 => "drop",
            2 => "reassemble",
            _ => "nx-match",
        };
        out.push_str(&format!(" frags={frag}"));
        if (2..=3).contains(&version) && self.flags & 4 != 0 {
            out.push_str(" invalid_ttl_to_controller");
        }
        out.push_str(&format!(" miss_send_len={}\n", self.miss_send_len));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hello_encodings() {
        assert_eq!(Hello::encode(0x2, 1), vec![1, 0, 0, 8, 0, 0, 0, 1]);
        let m = Hello::encode(0xc, 1);
        assert_eq!(m.len(), 16);
        assert_eq!(
            Hello::decode(&m),
            Hello {
                version_bitmap: 0xc,
                understood: true
            }
        );
    }

    #[test]
    fn hello_round_trips_every_bitmap_shape() {
        for bitmap in [0x2u32, 0x6, 0x7e, 0x40, 0x22, 0x3c] {
            let m = Hello::encode(bitmap, 9);
            assert_eq!(Hello::decode(&m).version_bitmap, bitmap);
        }
    }

    #[test]
    fn features_round_trip() {
        for version in 1..=6u8 {
            let f = SwitchFeatures {
                datapath_id: 0x5054_0000_0001,
                n_buffers: 256,
                n_tables: 2,
                auxiliary_id: if version >= 4 { 1 } else { 0 },
                capabilities: cap::FLOW_STATS | cap::IP_REASM,
                actions: if version == 1 { 0xfff } else { 0 },
                ports: Vec::new(),
            };
            let m = f.encode(version, 3);
            assert_eq!(SwitchFeatures::decode(version, &m[8..]), Ok(f));
        }
    }
}
