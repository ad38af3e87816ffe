//! Statistics (multipart) bodies that carry no match or actions: switch
//! description, table statistics, port and queue statistics (with their
//! requests), and the Nicira IPFIX statistics.

use crate::bits::ofpp;
use crate::bits::{duration, port_from_ofp11, port_to_ofp11, port_to_string, queue_to_string};
use crate::errors::OfpErr;
use crate::wire::{fixed_str, pad8, Put, Reader};

const BAD: OfpErr = OfpErr::OFPBRC_BAD_LEN;

/// `OFPST_DESC` reply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DescStats {
    pub mfr_desc: String,
    pub hw_desc: String,
    pub sw_desc: String,
    pub serial_num: String,
    pub dp_desc: String,
}

impl DescStats {
    pub fn decode(body: &[u8]) -> Result<DescStats, OfpErr> {
        let mut r = Reader::new(body);
        let mut s = |n| r.bytes(n).map(fixed_str).ok_or(BAD);
        Ok(DescStats {
            mfr_desc: s(256)?,
            hw_desc: s(256)?,
            sw_desc: s(256)?,
            serial_num: s(32)?,
            dp_desc: s(256)?,
        })
    }

    pub fn encode_body(&self, out: &mut Vec<u8>) {
        out.put_str_fixed(&self.mfr_desc, 256);
        out.put_str_fixed(&self.hw_desc, 256);
        out.put_str_fixed(&self.sw_desc, 256);
        out.put_str_fixed(&self.serial_num, 32);
        out.put_str_fixed(&self.dp_desc, 256);
    }

    pub fn format(&self, out: &mut String) {
        out.push_str(&format!(
            "\nManufacturer: {}\nHardware: {}\nSoftware: {}\nSerial Num: {}\nDP Description: {}\n",
            self.mfr_desc, self.hw_desc, self.sw_desc, self.serial_num, self.dp_desc
        ));
    }
}

fn stat(out: &mut String, leader: &str, v: u64, more: bool) {
    out.push_str(leader);
    out.push('=');
    if v == u64::MAX {
        out.push('?');
    } else {
        out.push_str(&v.to_string());
    }
    out.push_str(if more { ", " } else { "\n" });
}

/// Port statistics for one port (unknown counters are `u64::MAX`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PortStats {
    pub port_no: u16,
    pub rx_packets: u64,
    pub tx_packets: u64,
    pub rx_bytes: u64,
    pub tx_bytes: u64,
    pub rx_dropped: u64,
    pub tx_dropped: u64,
    pub rx_errors: u64,
    pub tx_errors: u64,
    pub rx_frame_errors: u64,
    pub rx_over_errors: u64,
    pub rx_crc_errors: u64,
    pub collisions: u64,
    /// `u32::MAX` when unknown.
    pub duration_sec: u32,
    pub duration_nsec: u32,
    /// The device's own counters by name (OpenFlow 1.4+, in an Intel
    /// experimenter property, as upstream reports them).
    pub custom: Vec<(String, u64)>,
}

/// Intel's experimenter id, under which upstream reports RFC 2819 and
/// custom port statistics (OpenFlow 1.4+ port-stats properties).
const INTEL_VENDOR_ID: u32 = 0x0000_aa01;
const INTEL_PORT_STATS_RFC2819: u32 = 1;
const INTEL_PORT_STATS_CUSTOM: u32 = 2;

/// Reads the entries of a custom-statistics property body (after its
/// experimenter type): a count, then each name (length-prefixed) and value.
fn pull_custom_stats(r: &mut Reader<'_>) -> Option<Vec<(String, u64)>> {
    r.skip(2)?;
    let n = r.u16()?;
    let mut v = Vec::new();
    for _ in 0..n {
        let len = usize::from(r.u8()?);
        let name = String::from_utf8_lossy(r.bytes(len)?).into_owned();
        v.push((name, r.u64()?));
    }
    Some(v)
}

impl PortStats {
    /// Pulls one entry of `version`'s port-stats reply.
    pub fn decode(version: u8, r: &mut Reader<'_>) -> Result<PortStats, OfpErr> {
        let mut ps = PortStats {
            port_no: 0,
            rx_packets: 0,
            tx_packets: 0,
            rx_bytes: 0,
            tx_bytes: 0,
            rx_dropped: 0,
            tx_dropped: 0,
            rx_errors: 0,
            tx_errors: 0,
            rx_frame_errors: u64::MAX,
            rx_over_errors: u64::MAX,
            rx_crc_errors: u64::MAX,
            collisions: u64::MAX,
            duration_sec: u32::MAX,
            duration_nsec: u32::MAX,
            custom: Vec::new(),
        };
        let mut body;
        if version >= 5 {
            let mut head = *r;
            let len = usize::from(head.u16().ok_or(BAD)?);
            if len < 80 || len > r.remaining() {
                return Err(BAD);
            }
            body = Reader::new(r.bytes(len).ok_or(BAD)?);
            body.skip(4).ok_or(BAD)?;
            ps.port_no = port_from_ofp11(body.u32().ok_or(BAD)?).ok_or(OfpErr::OFPBRC_BAD_PORT)?;
            ps.duration_sec = body.u32().ok_or(BAD)?;
            ps.duration_nsec = body.u32().ok_or(BAD)?;
        } else {
            let n = if version == 4 { 112 } else { 104 };
            body = Reader::new(r.bytes(n).ok_or(BAD)?);
            if version == 1 {
                ps.port_no = body.u16().ok_or(BAD)?;
                body.skip(6).ok_or(BAD)?;
            } else {
                ps.port_no =
                    port_from_ofp11(body.u32().ok_or(BAD)?).ok_or(OfpErr::OFPBRC_BAD_PORT)?;
                body.skip(4).ok_or(BAD)?;
            }
        }
        let mut c = || body.u64().ok_or(BAD);
        ps.rx_packets = c()?;
        ps.tx_packets = c()?;
        ps.rx_bytes = c()?;
        ps.tx_bytes = c()?;
        ps.rx_dropped = c()?;
        ps.tx_dropped = c()?;
        ps.rx_errors = c()?;
        ps.tx_errors = c()?;
        if version <= 4 {
            ps.rx_frame_errors = c()?;
            ps.rx_over_errors = c()?;
            ps.rx_crc_errors = c()?;
            ps.collisions = c()?;
            if version == 4 {
                ps.duration_sec = body.u32().ok_or(BAD)?;
                ps.duration_nsec = body.u32().ok_or(BAD)?;
            }
        } else {
            while !body.is_empty() {
                let (ptype, pbody) = super::props::pull_property(&mut body)?;
                if ptype == 0 {
                    let mut e = Reader::new(pbody);
                    e.skip(4).ok_or(OfpErr::OFPBPC_BAD_LEN)?;
                    let mut c = || e.u64().ok_or(OfpErr::OFPBPC_BAD_LEN);
                    ps.rx_frame_errors = c()?;
                    ps.rx_over_errors = c()?;
                    ps.rx_crc_errors = c()?;
                    ps.collisions = c()?;
                } else if ptype == 0xffff {
                    let mut e = Reader::new(pbody);
                    let exp = e.u32().ok_or(OfpErr::OFPBPC_BAD_LEN)?;
                    let exp_type = e.u32().ok_or(OfpErr::OFPBPC_BAD_LEN)?;
                    if exp == INTEL_VENDOR_ID && exp_type == INTEL_PORT_STATS_CUSTOM {
                        ps.custom = pull_custom_stats(&mut e).ok_or(OfpErr::OFPBPC_BAD_LEN)?;
                    }
                }
            }
        }
        Ok(ps)
    }

    pub fn encode(&self, version: u8, out: &mut Vec<u8>) {
        let counters = [
            self.rx_packets,
            self.tx_packets,
            self.rx_bytes,
            self.tx_bytes,
            self.rx_dropped,
            self.tx_dropped,
            self.rx_errors,
            self.tx_errors,
        ];
        let errs = [
            self.rx_frame_errors,
            self.rx_over_errors,
            self.rx_crc_errors,
            self.collisions,
        ];
        if version >= 5 {
            // Upstream's properties: Ethernet errors, the RFC 2819 counters
            // (unknown here) and the device's custom counters.
            let start = out.len();
            out.put_u16(0);
            out.put_zeros(2);
            out.put_u32(port_to_ofp11(self.port_no));
            out.put_u32(self.duration_sec);
            out.put_u32(self.duration_nsec);
            counters.iter().for_each(|c| out.put_u64(*c));
            out.put_u16(0);
            out.put_u16(40);
            out.put_zeros(4);
            errs.iter().for_each(|c| out.put_u64(*c));
            out.put_u16(0xffff);
            out.put_u16(16 + 21 * 8);
            out.put_u32(INTEL_VENDOR_ID);
            out.put_u32(INTEL_PORT_STATS_RFC2819);
            out.put_zeros(4);
            (0..21).for_each(|_| out.put_u64(u64::MAX));
            if !self.custom.is_empty() {
                let prop = out.len();
                out.put_u16(0xffff);
                out.put_u16(0);
                out.put_u32(INTEL_VENDOR_ID);
                out.put_u32(INTEL_PORT_STATS_CUSTOM);
                out.put_zeros(2);
                out.put_u16(self.custom.len() as u16);
                for (name, value) in &self.custom {
                    let n = name.len().min(255);
                    out.put_u8(n as u8);
                    out.extend_from_slice(&name.as_bytes()[..n]);
                    out.put_u64(*value);
                }
                let len = out.len() - prop;
                out[prop + 2..prop + 4].copy_from_slice(&(len as u16).to_be_bytes());
                out.put_zeros(pad8(len) - len);
            }
            let len = (out.len() - start) as u16;
            out[start..start + 2].copy_from_slice(&len.to_be_bytes());
            return;
        }
        if version == 1 {
            out.put_u16(self.port_no);
            out.put_zeros(6);
        } else {
            out.put_u32(port_to_ofp11(self.port_no));
            out.put_zeros(4);
        }
        counters.iter().for_each(|c| out.put_u64(*c));
        errs.iter().for_each(|c| out.put_u64(*c));
        if version == 4 {
            out.put_u32(self.duration_sec);
            out.put_u32(self.duration_nsec);
        }
    }

    pub fn format(&self, out: &mut String) {
        out.push_str("  port ");
        if self.port_no < 10 {
            out.push(' ');
        }
        out.push_str(&port_to_string(self.port_no));
        out.push_str(": ");
        stat(out, "rx pkts", self.rx_packets, true);
        stat(out, "bytes", self.rx_bytes, true);
        stat(out, "drop", self.rx_dropped, true);
        stat(out, "errs", self.rx_errors, true);
        stat(out, "frame", self.rx_frame_errors, true);
        stat(out, "over", self.rx_over_errors, true);
        stat(out, "crc", self.rx_crc_errors, false);
        out.push_str("           ");
        stat(out, "tx pkts", self.tx_packets, true);
        stat(out, "bytes", self.tx_bytes, true);
        stat(out, "drop", self.tx_dropped, true);
        stat(out, "errs", self.tx_errors, true);
        stat(out, "coll", self.collisions, false);
        if self.duration_sec != u32::MAX {
            out.push_str(&format!(
                "           duration={}.{:03}s\n",
                self.duration_sec,
                self.duration_nsec / 1_000_000
            ));
        }
        if !self.custom.is_empty() {
            out.push_str("           CUSTOM Statistics");
            for (i, (name, value)) in self.custom.iter().enumerate() {
                if name.is_empty() {
                    continue;
                }
                out.push_str(if i % 3 == 0 {
                    "\n                      "
                } else {
                    " "
                });
                out.push_str(&format!("{name}={value},"));
            }
            out.push('\n');
        }
    }
}

/// Decodes every entry of a port-stats reply body.
pub fn decode_port_stats(version: u8, body: &[u8]) -> Result<Vec<PortStats>, OfpErr> {
    let mut r = Reader::new(body);
    let mut v = Vec::new();
    while !r.is_empty() {
        v.push(PortStats::decode(version, &mut r)?);
    }
    Ok(v)
}

/// A port-stats or port-desc request's port (OpenFlow 1.0 `port_no` +
/// padding, or 1.1+ 32-bit port + padding).
pub fn decode_port_request(version: u8, body: &[u8]) -> Result<u16, OfpErr> {
    let mut r = Reader::new(body);
    if version == 1 {
        r.u16().ok_or(BAD)
    } else {
        port_from_ofp11(r.u32().ok_or(BAD)?).ok_or(OfpErr::OFPBRC_BAD_PORT)
    }
}

pub fn encode_port_request(version: u8, port: u16, out: &mut Vec<u8>) {
    if version == 1 {
        out.put_u16(port);
        out.put_zeros(6);
    } else {
        out.put_u32(port_to_ofp11(port));
        out.put_zeros(4);
    }
}

/// Queue statistics for one queue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueueStats {
    pub port_no: u16,
    pub queue_id: u32,
    pub tx_bytes: u64,
    pub tx_packets: u64,
    pub tx_errors: u64,
    pub duration_sec: u32,
    pub duration_nsec: u32,
}

impl QueueStats {
    pub fn decode(version: u8, r: &mut Reader<'_>) -> Result<QueueStats, OfpErr> {
        let mut body = if version >= 5 {
            let mut head = *r;
            let len = usize::from(head.u16().ok_or(BAD)?);
            if len < 48 || len > r.remaining() {
                return Err(BAD);
            }
            let mut b = Reader::new(r.bytes(len).ok_or(BAD)?);
            b.skip(8).ok_or(BAD)?;
            b
        } else {
            let n = if version == 4 { 40 } else { 32 };
            Reader::new(r.bytes(n).ok_or(BAD)?)
        };
        let port_no = if version == 1 {
            let p = body.u16().ok_or(BAD)?;
            body.skip(2).ok_or(BAD)?;
            p
        } else {
            port_from_ofp11(body.u32().ok_or(BAD)?).ok_or(OfpErr::OFPBRC_BAD_PORT)?
        };
        let queue_id = body.u32().ok_or(BAD)?;
        let tx_bytes = body.u64().ok_or(BAD)?;
        let tx_packets = body.u64().ok_or(BAD)?;
        let tx_errors = body.u64().ok_or(BAD)?;
        let (duration_sec, duration_nsec) = if version >= 4 {
            (body.u32().ok_or(BAD)?, body.u32().ok_or(BAD)?)
        } else {
            (u32::MAX, u32::MAX)
        };
        Ok(QueueStats {
            port_no,
            queue_id,
            tx_bytes,
            tx_packets,
            tx_errors,
            duration_sec,
            duration_nsec,
        })
    }

    pub fn encode(&self, version: u8, out: &mut Vec<u8>) {
        if version >= 5 {
            out.put_u16(48);
            out.put_zeros(6);
        }
        if version == 1 {
            out.put_u16(self.port_no);
            out.put_zeros(2);
        } else {
            out.put_u32(port_to_ofp11(self.port_no));
        }
        out.put_u32(self.queue_id);
        out.put_u64(self.tx_bytes);
        out.put_u64(self.tx_packets);
        out.put_u64(self.tx_errors);
        if version >= 4 {
            out.put_u32(self.duration_sec);
            out.put_u32(self.duration_nsec);
        }
    }

    pub fn format(&self, out: &mut String) {
        out.push_str(&format!(
            "  port {} queue {}: ",
            port_to_string(self.port_no),
            queue_to_string(self.queue_id)
        ));
        stat(out, "bytes", self.tx_bytes, true);
        stat(out, "pkts", self.tx_packets, true);
        stat(out, "errors", self.tx_errors, true);
        out.push_str("duration=");
        if self.duration_sec != u32::MAX {
            duration(out, self.duration_sec, self.duration_nsec);
        } else {
            out.push('?');
        }
        out.push('\n');
    }
}

pub fn decode_queue_stats(version: u8, body: &[u8]) -> Result<Vec<QueueStats>, OfpErr> {
    let mut r = Reader::new(body);
    let mut v = Vec::new();
    while !r.is_empty() {
        v.push(QueueStats::decode(version, &mut r)?);
    }
    Ok(v)
}

/// A queue-stats request: port and queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QueueRequest {
    pub port_no: u16,
    pub queue_id: u32,
}

impl QueueRequest {
    pub fn decode(version: u8, body: &[u8]) -> Result<QueueRequest, OfpErr> {
        let mut r = Reader::new(body);
        let port_no = if version == 1 {
            let p = r.u16().ok_or(BAD)?;
            r.skip(2).ok_or(BAD)?;
            if p == ofpp::ALL {
                ofpp::NONE
            } else {
                p
            }
        } else {
            port_from_ofp11(r.u32().ok_or(BAD)?).ok_or(OfpErr::OFPBRC_BAD_PORT)?
        };
        let queue_id = r.u32().ok_or(BAD)?;
        Ok(QueueRequest { port_no, queue_id })
    }

    pub fn encode_body(&self, version: u8, out: &mut Vec<u8>) {
        if version == 1 {
            out.put_u16(if self.port_no == ofpp::NONE {
                ofpp::ALL
            } else {
                self.port_no
            });
            out.put_zeros(2);
        } else {
            out.put_u32(port_to_ofp11(self.port_no));
        }
        out.put_u32(self.queue_id);
    }

    pub fn format(&self, out: &mut String) {
        out.push_str(&format!(
            " port={} queue={}",
            port_to_string(self.port_no),
            queue_to_string(self.queue_id)
        ));
    }
}

/// One table's statistics (OpenFlow 1.3+ layout; earlier versions carry
/// more, which upstream prints as table features).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableStats {
    pub table_id: u8,
    pub name: String,
    pub max_entries: u32,
    pub active_count: u32,
    pub lookup_count: u64,
    pub matched_count: u64,
    /// OpenFlow 1.0 wildcards: the fields the table can match.
    pub wildcards: u32,
}

impl TableStats {
    pub fn decode(version: u8, r: &mut Reader<'_>) -> Result<TableStats, OfpErr> {
        match version {
            1 => {
                let mut b = Reader::new(r.bytes(64).ok_or(BAD)?);
                let table_id = b.u8().ok_or(BAD)?;
                b.skip(3).ok_or(BAD)?;
                let name = fixed_str(b.bytes(32).ok_or(BAD)?);
                let wildcards = b.u32().ok_or(BAD)?;
                let max_entries = b.u32().ok_or(BAD)?;
                let active_count = b.u32().ok_or(BAD)?;
                let lookup_count = b.u64().ok_or(BAD)?;
                let matched_count = b.u64().ok_or(BAD)?;
                Ok(TableStats {
                    table_id,
                    name,
                    max_entries,
                    active_count,
                    lookup_count,
                    matched_count,
                    wildcards,
                })
            }
            4..=6 => {
                let mut b = Reader::new(r.bytes(24).ok_or(BAD)?);
                let table_id = b.u8().ok_or(BAD)?;
                b.skip(3).ok_or(BAD)?;
                let active_count = b.u32().ok_or(BAD)?;
                let lookup_count = b.u64().ok_or(BAD)?;
                let matched_count = b.u64().ok_or(BAD)?;
                Ok(TableStats {
                    table_id,
                    name: String::new(),
                    max_entries: 0,
                    active_count,
                    lookup_count,
                    matched_count,
                    wildcards: 0,
                })
            }
            // OpenFlow 1.1 and 1.2 table statistics describe matching in
            // their own wildcard and OXM bitmaps.
            _ => Err(OfpErr::OFPBRC_BAD_TYPE),
        }
    }

    pub fn encode(&self, version: u8, out: &mut Vec<u8>) {
        if version == 1 {
            out.put_u8(self.table_id);
            out.put_zeros(3);
            out.put_str_fixed(&self.name, 32);
            out.put_u32(self.wildcards);
            out.put_u32(self.max_entries);
            out.put_u32(self.active_count);
            out.put_u64(self.lookup_count);
            out.put_u64(self.matched_count);
        } else {
            out.put_u8(self.table_id);
            out.put_zeros(3);
            out.put_u32(self.active_count);
            out.put_u64(self.lookup_count);
            out.put_u64(self.matched_count);
        }
    }
}

/// The OpenFlow 1.0 wildcard bits and the fields they stand for, in the
/// order and grouping upstream prints them.
const OF10_FIELDS: &[(u32, &str)] = &[
    (1 << 0, "in_port"),
    (1 << 2, "eth_src"),
    (1 << 3, "eth_dst"),
    (1 << 4, "eth_type"),
    (1 << 1, "vlan_vid"),
    (1 << 20, "vlan_pcp"),
    (0x3f << 8, "ip_src"),
    (0x3f << 14, "ip_dst"),
    (1 << 5, "nw_proto"),
    (1 << 21, "nw_tos"),
    (1 << 6, "tcp_src"),
    (1 << 7, "tcp_dst"),
];

/// Upstream prints field lists compressing runs with a shared prefix:
/// `eth_{src,dst,type}`.
pub fn format_field_list(out: &mut String, names: &[&str]) {
    let mut i = 0;
    let mut first = true;
    while i < names.len() {
        if !first {
            out.push(' ');
        }
        first = false;
        let prefix = names[i].split_once('_').map(|(p, _)| p);
        let mut j = i + 1;
        if let Some(p) = prefix {
            while j < names.len() && names[j].split_once('_').map(|(q, _)| q) == Some(p) {
                j += 1;
            }
        }
        if j - i > 1 {
            let p = prefix.unwrap_or("");
            let suffixes: Vec<&str> = names[i..j].iter().map(|n| &n[p.len() + 1..]).collect();
            out.push_str(&format!("{p}_{{{}}}", suffixes.join(",")));
        } else {
            out.push_str(names[i]);
        }
        i = j;
    }
}

/// Upstream's table-stats reply printing (`ofp_print_table_features` with
/// statistics): a "ditto" for a table identical to the previous one.
pub fn format_table_stats(out: &mut String, version: u8, tables: &[TableStats]) {
    let mut pieces = Vec::with_capacity(tables.len());
    let mut prev: Option<&TableStats> = None;
    for t in tables {
        let mut piece = String::new();
        format_one_table_stats(&mut piece, version, t, prev);
        pieces.push((t.table_id, !t.name.is_empty(), piece));
        prev = Some(t);
    }
    out.push_str(&crate::msgs::table_features::fold_dittos(pieces));
}

fn format_one_table_stats(
    out: &mut String,
    version: u8,
    t: &TableStats,
    prev: Option<&TableStats>,
) {
    {
        out.push('\n');
        out.push_str(&format!("  table {}", t.table_id));
        if !t.name.is_empty() {
            out.push_str(&format!(" (\"{}\")", t.name));
        }
        out.push(':');
        let same_features = prev.is_some_and(|p| {
            p.name == t.name && p.max_entries == t.max_entries && p.wildcards == t.wildcards
        });
        let same_stats = prev.is_some_and(|p| {
            p.active_count == t.active_count
                && p.lookup_count == t.lookup_count
                && p.matched_count == t.matched_count
        });
        if same_stats && same_features {
            out.push_str(" ditto");
            return;
        }
        out.push('\n');
        out.push_str(&format!(
            "    active={}, lookup={}, matched={}\n",
            t.active_count, t.lookup_count, t.matched_count
        ));
        let empty = t.max_entries == 0 && (version != 1);
        if same_features {
            if !empty {
                out.push_str("    (same features)\n");
            }
            return;
        }
        if version == 1 {
            if t.max_entries != 0 {
                out.push_str(&format!("    max_entries={}\n", t.max_entries));
            }
            let names: Vec<&str> = OF10_FIELDS
                .iter()
                .filter(|(bits, _)| t.wildcards & bits != 0)
                .map(|(_, n)| *n)
                .collect();
            if !names.is_empty() {
                out.push_str("    matching:\n      exact match or wildcard: ");
                format_field_list(out, &names);
                out.push('\n');
            }
        }
    }
}

/// Nicira IPFIX statistics for a bridge or one flow-based exporter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IpfixStats {
    pub collector_set_id: u32,
    pub total_flows: u64,
    pub current_flows: u64,
    pub pkts: u64,
    pub ipv4_pkts: u64,
    pub ipv6_pkts: u64,
    pub error_pkts: u64,
    pub ipv4_error_pkts: u64,
    pub ipv6_error_pkts: u64,
    pub tx_pkts: u64,
    pub tx_errors: u64,
}

impl IpfixStats {
    pub fn decode(r: &mut Reader<'_>) -> Result<IpfixStats, OfpErr> {
        let mut b = Reader::new(r.bytes(88).ok_or(BAD)?);
        let mut c = || b.u64().ok_or(BAD);
        let s = IpfixStats {
            total_flows: c()?,
            current_flows: c()?,
            pkts: c()?,
            ipv4_pkts: c()?,
            ipv6_pkts: c()?,
            error_pkts: c()?,
            ipv4_error_pkts: c()?,
            ipv6_error_pkts: c()?,
            tx_pkts: c()?,
            tx_errors: c()?,
            collector_set_id: 0,
        };
        Ok(IpfixStats {
            collector_set_id: b.u32().ok_or(BAD)?,
            ..s
        })
    }

    pub fn encode(&self, out: &mut Vec<u8>) {
        for c in [
            self.total_flows,
            self.current_flows,
            self.pkts,
            self.ipv4_pkts,
            self.ipv6_pkts,
            self.error_pkts,
            self.ipv4_error_pkts,
            self.ipv6_error_pkts,
            self.tx_pkts,
            self.tx_errors,
        ] {
            out.put_u64(c);
        }
        out.put_u32(self.collector_set_id);
        out.put_zeros(4);
    }

    /// The two statistic lines; `indent` precedes the second.
    pub fn format(&self, out: &mut String, indent: &str) {
        stat(out, "flows", self.total_flows, true);
        stat(out, "current flows", self.current_flows, true);
        stat(out, "sampled pkts", self.pkts, true);
        stat(out, "ipv4 ok", self.ipv4_pkts, true);
        stat(out, "ipv6 ok", self.ipv6_pkts, true);
        stat(out, "tx pkts", self.tx_pkts, false);
        out.push_str(indent);
        stat(out, "pkts errs", self.error_pkts, true);
        stat(out, "ipv4 errs", self.ipv4_error_pkts, true);
        stat(out, "ipv6 errs", self.ipv6_error_pkts, true);
        stat(out, "tx errs", self.tx_errors, false);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn field_lists_group_prefixes() {
        let mut s = String::new();
        format_field_list(
            &mut s,
            &["in_port", "eth_src", "eth_dst", "eth_type", "nw_proto"],
        );
        assert_eq!(s, "in_port eth_{src,dst,type} nw_proto");
    }

    proptest! {
        #[test]
        fn port_stats_round_trip(version in 1u8..=6, port in 0u16..0xff00, c in any::<[u64; 12]>(), d in any::<[u32; 2]>()) {
            let mut ps = PortStats {
                port_no: port,
                rx_packets: c[0], tx_packets: c[1], rx_bytes: c[2], tx_bytes: c[3],
                rx_dropped: c[4], tx_dropped: c[5], rx_errors: c[6], tx_errors: c[7],
                rx_frame_errors: c[8], rx_over_errors: c[9], rx_crc_errors: c[10], collisions: c[11],
                duration_sec: d[0], duration_nsec: d[1], custom: Vec::new(),
            };
            if version >= 5 && port % 2 == 0 {
                ps.custom = vec![("rx_q0_bytes".to_string(), c[0]), ("x".to_string(), c[1])];
            }
            if version < 4 {
                ps.duration_sec = u32::MAX;
                ps.duration_nsec = u32::MAX;
            }
            let mut b = Vec::new();
            ps.encode(version, &mut b);
            prop_assert_eq!(decode_port_stats(version, &b), Ok(vec![ps]));
        }

        #[test]
        fn queue_stats_round_trip(version in 1u8..=6, port in 0u16..0xff00, q in any::<u32>(), c in any::<[u64; 3]>(), d in any::<[u32; 2]>()) {
            let mut qs = QueueStats {
                port_no: port, queue_id: q, tx_bytes: c[0], tx_packets: c[1], tx_errors: c[2],
                duration_sec: d[0], duration_nsec: d[1],
            };
            if version < 4 {
                qs.duration_sec = u32::MAX;
                qs.duration_nsec = u32::MAX;
            }
            let mut b = Vec::new();
            qs.encode(version, &mut b);
            prop_assert_eq!(decode_queue_stats(version, &b), Ok(vec![qs]));
        }

        #[test]
        fn ipfix_round_trip(c in any::<[u64; 10]>(), id in any::<u32>()) {
            let s = IpfixStats {
                collector_set_id: id, total_flows: c[0], current_flows: c[1], pkts: c[2],
                ipv4_pkts: c[3], ipv6_pkts: c[4], error_pkts: c[5], ipv4_error_pkts: c[6],
                ipv6_error_pkts: c[7], tx_pkts: c[8], tx_errors: c[9],
            };
            let mut b = Vec::new();
            s.encode(&mut b);
            prop_assert_eq!(IpfixStats::decode(&mut Reader::new(&b)), Ok(s));
        }
    }
}
