//! `NXT_CT_FLUSH`: flushing conntrack entries of a zone that match an
//! original and/or reply tuple (properties nested in properties).

use crate::errors::OfpErr;
use crate::wire::{Put, Reader};
use flow::value_str::{format_ipv4, format_ipv6};

const BAD: OfpErr = OfpErr::OFPBRC_BAD_LEN;
const AF_INET: u8 = 2;
const AF_INET6: u8 = 10;

/// One direction's tuple. Addresses are IPv6 (IPv4 as v4-mapped).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CtTuple {
    pub src: [u8; 16],
    pub dst: [u8; 16],
    pub src_port: u16,
    pub dst_port: u16,
    pub icmp_id: u16,
    pub icmp_type: u8,
    pub icmp_code: u8,
}

/// A decoded `NXT_CT_FLUSH`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CtFlush {
    pub zone: u16,
    pub ip_proto: u8,
    /// `AF_INET` or `AF_INET6` (inferred from the addresses when 0).
    pub l3_type: u8,
    pub orig: CtTuple,
    pub reply: CtTuple,
}

fn v4_mapped(a: &[u8; 16]) -> bool {
    a[..10].iter().all(|&b| b == 0) && a[10] == 0xff && a[11] == 0xff
}

fn pull_tuple(body: &[u8]) -> Result<CtTuple, OfpErr> {
    let mut r = Reader::new(body);
    // Nested properties start 8-aligned: skip the padding after the header.
    r.skip(4).ok_or(OfpErr::OFPBPC_BAD_LEN)?;
    let mut t = CtTuple::default();
    while !r.is_empty() {
        let (ptype, p) = super::props::pull_property(&mut r)?;
        let mut v = Reader::new(p);
        let blen = OfpErr::OFPBPC_BAD_LEN;
        match (ptype, p.len()) {
            (0, 16) => t.src = v.array().ok_or(blen)?,
            (1, 16) => t.dst = v.array().ok_or(blen)?,
            // Upstream keeps the ICMP id in the source port and the ICMP
            // code and type in the destination port's two bytes, so the
            // two views always agree.
            (2 | 4, 2 | 4) => {
                t.src_port = v.u16().ok_or(blen)?;
                t.icmp_id = t.src_port;
            }
            (3, 2 | 4) => {
                t.dst_port = v.u16().ok_or(blen)?;
                t.icmp_code = (t.dst_port >> 8) as u8;
                t.icmp_type = t.dst_port as u8;
            }
            (5, 1) => {
                t.icmp_type = v.u8().ok_or(blen)?;
                t.dst_port = (t.dst_port & 0xff00) | u16::from(t.icmp_type);
            }
            (6, 1) => {
                t.icmp_code = v.u8().ok_or(blen)?;
                t.dst_port = (u16::from(t.icmp_code) << 8) | (t.dst_port & 0xff);
            }
            (0..=6, _) => return Err(blen),
            _ => return Err(OfpErr::OFPBPC_BAD_TYPE),
        }
    }
    Ok(t)
}

/// Puts a tuple with only the fields that are set; ICMP identifiers
/// only for ICMP, ports only for other protocols (upstream keeps both in
/// one place, so the other kind would overwrite them).
fn put_tuple(out: &mut Vec<u8>, ptype: u16, t: &CtTuple, icmp: bool) {
    if *t == CtTuple::default() {
        return;
    }
    let mut nested = vec![0u8; 4];
    if t.src != [0; 16] {
        super::props::put_property(&mut nested, 0, &t.src);
    }
    if t.dst != [0; 16] {
        super::props::put_property(&mut nested, 1, &t.dst);
    }
    let be16 = |v: u16| [(v >> 8) as u8, v as u8, 0, 0];
    if icmp {
        if t.icmp_id != 0 {
            super::props::put_property(&mut nested, 4, &be16(t.icmp_id));
        }
        if t.icmp_type != 0 {
            super::props::put_property(&mut nested, 5, &[t.icmp_type]);
        }
        if t.icmp_code != 0 {
            super::props::put_property(&mut nested, 6, &[t.icmp_code]);
        }
    } else {
        if t.src_port != 0 {
            super::props::put_property(&mut nested, 2, &be16(t.src_port));
        }
        if t.dst_port != 0 {
            super::props::put_property(&mut nested, 3, &be16(t.dst_port));
        }
    }
    super::props::put_property(out, ptype, &nested);
}

impl CtFlush {
    pub fn decode(body: &[u8]) -> Result<CtFlush, OfpErr> {
        let mut r = Reader::new(body);
        let ip_proto = r.u8().ok_or(BAD)?;
        // Upstream's 3.1 layout has seven reserved bytes after the
        // protocol; the address family comes from the addresses.
        let family = r.u8().ok_or(BAD)?;
        let zero = r.bytes(6).ok_or(BAD)?;
        if family != 0 || zero.iter().any(|&b| b != 0) {
            return Err(OfpErr::NXBRC_MUST_BE_ZERO);
        }
        let mut f = CtFlush {
            zone: 0,
            ip_proto,
            l3_type: family,
            orig: CtTuple::default(),
            reply: CtTuple::default(),
        };
        while !r.is_empty() {
            let (ptype, p) = super::props::pull_property(&mut r)?;
            match ptype {
                0 => f.orig = pull_tuple(p)?,
                1 => f.reply = pull_tuple(p)?,
                2 => f.zone = Reader::new(p).u16().ok_or(OfpErr::OFPBPC_BAD_LEN)?,
                _ => return Err(OfpErr::OFPBPC_BAD_TYPE),
            }
        }
        let addrs = [&f.orig.src, &f.orig.dst, &f.reply.src, &f.reply.dst];
        let set: Vec<&&[u8; 16]> = addrs.iter().filter(|a| ***a != [0; 16]).collect();
        let mapped = set.iter().filter(|a| v4_mapped(a)).count();
        if mapped != 0 && mapped != set.len() {
            return Err(OfpErr::OFPBPC_BAD_VALUE);
        }
        if f.l3_type == 0 {
            f.l3_type = if mapped > 0 { AF_INET } else { AF_INET6 };
        } else if f.l3_type != AF_INET && f.l3_type != AF_INET6 {
            return Err(OfpErr::OFPBPC_BAD_VALUE);
        }
        Ok(f)
    }

    /// Upstream's layout: the family byte stays 0 (the addresses say it),
    /// the tuples come first and the zone last, only when nonzero.
    pub fn encode_body(&self, out: &mut Vec<u8>) {
        out.put_u8(self.ip_proto);
        out.put_zeros(7);
        let icmp = self.ip_proto == 1 || self.ip_proto == 58;
        put_tuple(out, 0, &self.orig, icmp);
        put_tuple(out, 1, &self.reply, icmp);
        if self.zone != 0 {
            super::props::put_property(out, 2, &[(self.zone >> 8) as u8, self.zone as u8, 0, 0]);
        }
    }

    fn addr(&self, a: &[u8; 16]) -> String {
        if self.l3_type == AF_INET && v4_mapped(a) {
            format_ipv4(u32::from_be_bytes([a[12], a[13], a[14], a[15]]))
        } else {
            format_ipv6(a)
        }
    }

    fn tuple(&self, out: &mut String, t: &CtTuple) {
        let v4 = self.l3_type == AF_INET;
        out.push_str(if v4 { "ct_nw_src=" } else { "ct_ipv6_src=" });
        out.push_str(&self.addr(&t.src));
        out.push_str(if v4 { ",ct_nw_dst=" } else { ",ct_ipv6_dst=" });
        out.push_str(&self.addr(&t.dst));
        if self.ip_proto == 1 || self.ip_proto == 58 {
            out.push_str(&format!(
                ",icmp_id={},icmp_type={},icmp_code={}",
                t.icmp_id, t.icmp_type, t.icmp_code
            ));
        } else {
            out.push_str(&format!(
                ",ct_tp_src={},ct_tp_dst={}",
                t.src_port, t.dst_port
            ));
        }
    }

    pub fn format(&self, out: &mut String) {
        out.push_str(&format!(" zone={} '", self.zone));
        self.tuple(out, &self.orig);
        out.push_str(&format!(",ct_nw_proto={}' '", self.ip_proto));
        self.tuple(out, &self.reply);
        out.push('\'');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let mut src = [0u8; 16];
        src[10] = 0xff;
        src[11] = 0xff;
        src[12] = 10;
        let f = CtFlush {
            zone: 13,
            ip_proto: 6,
            l3_type: AF_INET,
            orig: CtTuple {
                src,
                src_port: 80,
                // The ICMP id shares the source port's place.
                icmp_id: 80,
                ..CtTuple::default()
            },
            reply: CtTuple::default(),
        };
        let mut b = Vec::new();
        f.encode_body(&mut b);
        assert_eq!(CtFlush::decode(&b), Ok(f));
    }
}
