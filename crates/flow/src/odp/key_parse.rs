//! Parsing ODP flow keys with masks from text, as `dpctl/add-flow` and
//! friends take them (`odp_flow_from_string`): `in_port(1),eth(src=…/…),
//! eth_type(0x0800),ipv4(src=10.0.0.0/255.0.0.0,frag=no),…`.
//!
//! Within an attribute, a field given without `/mask` is exact and a field
//! not given is wildcarded; an attribute not given at all has no mask
//! attribute (see [`super::key::mask_to_flow`] for what that means).

use std::fmt;
use std::net::Ipv6Addr;

use super::key::{ArpKey, CtTuple4, CtTuple6, Ipv4Key, Ipv6Key, KeyAttr, NdKey, TunAttr};
use crate::value_str::{ct_state_name, parse_flags, scan_eth, scan_ipv4, tcp_flag_name};

/// Why a key did not parse; `Display` is upstream's text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyParseError(pub String);

impl fmt::Display for KeyParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for KeyParseError {}

/// Resolves a port name in `in_port(NAME)`.
pub type PortLookup<'a> = &'a dyn Fn(&str) -> Option<u32>;

/// Parses a key and its mask.
pub fn parse_key(
    s: &str,
    ports: Option<PortLookup<'_>>,
) -> Result<(Vec<KeyAttr>, Vec<KeyAttr>), KeyParseError> {
    let mut key = Vec::new();
    let mut mask = Vec::new();
    let rest = parse_list(s, ports, &mut key, &mut mask, 0)?;
    if !rest.is_empty() {
        return Err(KeyParseError(format!("syntax error at {rest}")));
    }
    Ok((key, mask))
}

const DELIMS: &[char] = &[',', ' ', '\t', '\r', '\n'];

/// Parses attributes until the end or a `)`; returns the rest (at `)`).
fn parse_list<'a>(
    mut s: &'a str,
    ports: Option<PortLookup<'_>>,
    key: &mut Vec<KeyAttr>,
    mask: &mut Vec<KeyAttr>,
    depth: usize,
) -> Result<&'a str, KeyParseError> {
    loop {
        s = s.trim_start_matches(DELIMS);
        if s.is_empty() || s.starts_with(')') {
            return Ok(s);
        }
        match parse_attr(s, ports, key, mask, depth) {
            Some(n) => s = &s[n..],
            None => return Err(KeyParseError(format!("syntax error at {s}"))),
        }
    }
}

/// The text between `(` at the start of `s` and its matching `)` (no
/// nesting inside except for known nested forms handled by callers).
fn body(s: &str) -> Option<(&str, usize)> {
    let mut level = 0usize;
    for (i, c) in s.char_indices() {
        match c {
            '(' => level += 1,
            ')' => {
                level = level.checked_sub(1)?;
                if level == 0 {
                    return Some((&s[1..i], i + 1));
                }
            }
            _ => {}
        }
    }
    None
}

/// C `strtoul(…, 0)`-like scan of an unsigned integer (decimal, `0x` hex,
/// leading-0 octal); returns the value and the bytes used.
fn scan_uint(s: &str) -> Option<(u128, usize)> {
    let b = s.as_bytes();
    let (radix, start) = if b.len() > 2 && b[0] == b'0' && (b[1] == b'x' || b[1] == b'X') {
        (16, 2)
    } else if b.len() > 1 && b[0] == b'0' && b[1].is_ascii_digit() {
        (8, 1)
    } else {
        (10, 0)
    };
    let n = s[start..].chars().take_while(|c| c.is_digit(radix)).count();
    if n == 0 {
        return if radix == 16 { Some((0, 1)) } else { None };
    }
    let mut v: u128 = 0;
    for c in s[start..start + n].chars() {
        v = v
            .wrapping_mul(radix as u128)
            .wrapping_add(c.to_digit(radix).unwrap_or(0) as u128);
    }
    Some((v, start + n))
}

/// `value[/mask]` of an integer field `bits` wide; a missing mask is exact.
fn scan_masked_int(s: &str, bits: u32) -> Option<(u128, u128, usize)> {
    let all = if bits == 128 {
        u128::MAX
    } else {
        (1u128 << bits) - 1
    };
    let (v, n) = scan_uint(s)?;
    if let Some(m) = s[n..].strip_prefix('/') {
        let (mv, k) = scan_uint(m)?;
        return Some((v & all, mv & all, n + 1 + k));
    }
    Some((v & all, all, n))
}

fn scan_masked_ipv4(s: &str) -> Option<(u32, u32, usize)> {
    let (v, rest) = scan_ipv4(s)?;
    let used = s.len() - rest.len();
    if let Some(m) = rest.strip_prefix('/') {
        let (mv, r2) = scan_ipv4(m)?;
        return Some((v, mv, s.len() - r2.len()));
    }
    Some((v, u32::MAX, used))
}

fn scan_masked_ipv6(s: &str) -> Option<([u8; 16], [u8; 16], usize)> {
    let end = s.find([',', ')', '/']).unwrap_or(s.len());
    let a: Ipv6Addr = s[..end].parse().ok()?;
    if let Some(m) = s[end..].strip_prefix('/') {
        let mend = m.find([',', ')']).unwrap_or(m.len());
        let ma: Ipv6Addr = m[..mend].parse().ok()?;
        return Some((a.octets(), ma.octets(), end + 1 + mend));
    }
    Some((a.octets(), [0xff; 16], end))
}

fn scan_masked_eth(s: &str) -> Option<([u8; 6], [u8; 6], usize)> {
    let (v, rest) = scan_eth(s)?;
    if let Some(m) = rest.strip_prefix('/') {
        let (mv, r2) = scan_eth(m)?;
        return Some((v, mv, s.len() - r2.len()));
    }
    Some((v, [0xff; 6], s.len() - rest.len()))
}

fn scan_frag(s: &str) -> Option<(u8, u8, usize)> {
    let (v, n) = if s.starts_with("no") {
        (0, 2)
    } else if s.starts_with("first") {
        (1, 5)
    } else if s.starts_with("later") {
        (2, 5)
    } else {
        return None;
    };
    if let Some(m) = s[n..].strip_prefix('/') {
        let (mv, k) = scan_uint(m)?;
        return Some((v, mv as u8, n + 1 + k));
    }
    Some((v, 0xff, n))
}

/// Parses the `field=value,field=value` body `$b`: each arm's block gets
/// the text after its name and yields how many bytes it used (`?` inside
/// rejects the whole attribute). Evaluates to `Some(())` at the end of the
/// body and `None` on an unknown field.
macro_rules! scan_body {
    ($b:expr, { $($name:literal => |$v:ident| $body:block),* $(,)? }) => {{
        let mut s: &str = $b;
        loop {
            s = s.trim_start_matches(',');
            if s.is_empty() {
                break Some(());
            }
            $(
                if let Some($v) = s.strip_prefix($name) {
                    let n: usize = $body?;
                    s = &$v[n..];
                    continue;
                }
            )*
            break None;
        }
    }};
}

fn parse_attr(
    s: &str,
    ports: Option<PortLookup<'_>>,
    key: &mut Vec<KeyAttr>,
    mask: &mut Vec<KeyAttr>,
    depth: usize,
) -> Option<usize> {
    let open = s.find('(')?;
    let name = &s[..open];
    let rest = &s[open..];
    if name == "encap" {
        if depth > 3 {
            return None;
        }
        let mut k = Vec::new();
        let mut m = Vec::new();
        let after = parse_list(&rest[1..], ports, &mut k, &mut m, depth + 1).ok()?;
        let after = after.strip_prefix(')')?;
        key.push(KeyAttr::Encap(k));
        mask.push(KeyAttr::Encap(m));
        return Some(s.len() - after.len());
    }
    let (b, blen) = body(rest)?;
    let used = open + blen;
    // Single-value attributes.
    let single = |bits: u32| -> Option<(u128, u128)> {
        let (v, m, n) = scan_masked_int(b, bits)?;
        (n == b.len()).then_some((v, m))
    };
    let (k, m) = match name {
        "skb_priority" => {
            let (v, m) = single(32)?;
            (KeyAttr::Priority(v as u32), KeyAttr::Priority(m as u32))
        }
        "skb_mark" => {
            let (v, m) = single(32)?;
            (KeyAttr::SkbMark(v as u32), KeyAttr::SkbMark(m as u32))
        }
        "dp_hash" => {
            let (v, m) = single(32)?;
            (KeyAttr::DpHash(v as u32), KeyAttr::DpHash(m as u32))
        }
        "recirc_id" => {
            let (v, m) = single(32)?;
            (KeyAttr::RecircId(v as u32), KeyAttr::RecircId(m as u32))
        }
        "ct_mark" => {
            let (v, m) = single(32)?;
            (KeyAttr::CtMark(v as u32), KeyAttr::CtMark(m as u32))
        }
        "ct_zone" => {
            let (v, m) = single(16)?;
            (KeyAttr::CtZone(v as u16), KeyAttr::CtZone(m as u16))
        }
        "ct_label" => {
            let (v, m) = single(128)?;
            (KeyAttr::CtLabels(v), KeyAttr::CtLabels(m))
        }
        "eth_type" => {
            let (v, m) = single(16)?;
            (KeyAttr::Ethertype(v as u16), KeyAttr::Ethertype(m as u16))
        }
        "in_port" => match single(32) {
            Some((v, m)) => (KeyAttr::InPort(v as u32), KeyAttr::InPort(m as u32)),
            None => {
                let p = ports.and_then(|f| f(b))?;
                (KeyAttr::InPort(p), KeyAttr::InPort(u32::MAX))
            }
        },
        "ct_state" => {
            let (v, m) = parse_flags(b, ct_state_name, "ct_state", 0xff).ok()?;
            let m = if m == u32::MAX { 0xff } else { m };
            (KeyAttr::CtState(v), KeyAttr::CtState(m))
        }
        "tcp_flags" => {
            let (v, m) = parse_flags(b, tcp_flag_name, "TCP", 0x0fff).ok()?;
            let m = if m == u32::MAX { 0x0fff } else { m };
            (KeyAttr::TcpFlags(v as u16), KeyAttr::TcpFlags(m as u16))
        }
        "packet_type" => {
            let (mut ns, mut nsm, mut id, mut idm) = (0u32, 0u32, 0u32, 0u32);
            scan_body!(
                b,
                {
                    "ns=" => |v| {
                            let (x, m, n) = scan_masked_int(v, 16)?;
                            ns = x as u32;
                            nsm = m as u32;
                            Some(n)
                        },
                    "id=" => |v| {
                            let (x, m, n) = scan_masked_int(v, 16)?;
                            id = x as u32;
                            idm = m as u32;
                            Some(n)
                        },
                }
            )?;
            (
                KeyAttr::PacketType(ns << 16 | id),
                KeyAttr::PacketType(nsm << 16 | idm),
            )
        }
        "eth" => {
            let (mut src, mut srcm, mut dst, mut dstm) = ([0u8; 6], [0u8; 6], [0u8; 6], [0u8; 6]);
            scan_body!(
                b,
                {
                    "src=" => |v| {
                            let (x, m, n) = scan_masked_eth(v)?;
                            src = x;
                            srcm = m;
                            Some(n)
                        },
                    "dst=" => |v| {
                            let (x, m, n) = scan_masked_eth(v)?;
                            dst = x;
                            dstm = m;
                            Some(n)
                        },
                }
            )?;
            (
                KeyAttr::Ethernet { src, dst },
                KeyAttr::Ethernet {
                    src: srcm,
                    dst: dstm,
                },
            )
        }
        "vlan" => {
            let (mut tci, mut tm) = (0x1000u16, 0x1000u16);
            scan_body!(
                b,
                {
                    "vid=" => |v| {
                            let (x, m, n) = scan_masked_int(v, 12)?;
                            tci = (tci & !0x0fff) | x as u16;
                            tm = (tm & !0x0fff) | m as u16;
                            Some(n)
                        },
                    "pcp=" => |v| {
                            let (x, m, n) = scan_masked_int(v, 3)?;
                            tci = (tci & !0xe000) | (x as u16) << 13;
                            tm = (tm & !0xe000) | (m as u16) << 13;
                            Some(n)
                        },
                    "cfi=" => |v| {
                            let (x, m, n) = scan_masked_int(v, 1)?;
                            tci = (tci & !0x1000) | (x as u16) << 12;
                            tm = (tm & !0x1000) | (m as u16) << 12;
                            Some(n)
                        },
                }
            )?;
            (KeyAttr::Vlan(tci), KeyAttr::Vlan(tm))
        }
        "ipv4" => {
            let mut k = Ipv4Key::default();
            let mut m = Ipv4Key::default();
            {
                scan_body!(
                    b,
                    {
                        "src=" => |v| {
                            let (x, y, n) = scan_masked_ipv4(v)?;
                                                        k.src = x;
                            m.src = y;
                            Some(n)
                        },
                        "dst=" => |v| {
                            let (x, y, n) = scan_masked_ipv4(v)?;
                                                        k.dst = x;
                            m.dst = y;
                            Some(n)
                        },
                        "proto=" => |v| {
                            let (x, y, n) = scan_masked_int(v, 8)?;
                                                        k.proto = x as u8;
                            m.proto = y as u8;
                            Some(n)
                        },
                        "tos=" => |v| {
                            let (x, y, n) = scan_masked_int(v, 8)?;
                                                        k.tos = x as u8;
                            m.tos = y as u8;
                            Some(n)
                        },
                        "ttl=" => |v| {
                            let (x, y, n) = scan_masked_int(v, 8)?;
                                                        k.ttl = x as u8;
                            m.ttl = y as u8;
                            Some(n)
                        },
                        "frag=" => |v| {
                            let (x, y, n) = scan_frag(v)?;
                                                        k.frag = x;
                            m.frag = y;
                            Some(n)
                        },
                    }
                )?;
            }
            (KeyAttr::Ipv4(k), KeyAttr::Ipv4(m))
        }
        "ipv6" => {
            let mut k = Ipv6Key::default();
            let mut m = Ipv6Key::default();
            {
                scan_body!(
                    b,
                    {
                        "src=" => |v| {
                            let (x, y, n) = scan_masked_ipv6(v)?;
                                                        k.src = x;
                            m.src = y;
                            Some(n)
                        },
                        "dst=" => |v| {
                            let (x, y, n) = scan_masked_ipv6(v)?;
                                                        k.dst = x;
                            m.dst = y;
                            Some(n)
                        },
                        "label=" => |v| {
                            let (x, y, n) = scan_masked_int(v, 32)?;
                                                        k.label = x as u32;
                            m.label = y as u32;
                            Some(n)
                        },
                        "proto=" => |v| {
                            let (x, y, n) = scan_masked_int(v, 8)?;
                                                        k.proto = x as u8;
                            m.proto = y as u8;
                            Some(n)
                        },
                        "tclass=" => |v| {
                            let (x, y, n) = scan_masked_int(v, 8)?;
                                                        k.tclass = x as u8;
                            m.tclass = y as u8;
                            Some(n)
                        },
                        "hlimit=" => |v| {
                            let (x, y, n) = scan_masked_int(v, 8)?;
                                                        k.hlimit = x as u8;
                            m.hlimit = y as u8;
                            Some(n)
                        },
                        "frag=" => |v| {
                            let (x, y, n) = scan_frag(v)?;
                                                        k.frag = x;
                            m.frag = y;
                            Some(n)
                        },
                    }
                )?;
            }
            (KeyAttr::Ipv6(k), KeyAttr::Ipv6(m))
        }
        "tcp" | "udp" | "sctp" => {
            let (mut src, mut srcm, mut dst, mut dstm) = (0u16, 0u16, 0u16, 0u16);
            scan_body!(
                b,
                {
                    "src=" => |v| {
                            let (x, m, n) = scan_masked_int(v, 16)?;
                            src = x as u16;
                            srcm = m as u16;
                            Some(n)
                        },
                    "dst=" => |v| {
                            let (x, m, n) = scan_masked_int(v, 16)?;
                            dst = x as u16;
                            dstm = m as u16;
                            Some(n)
                        },
                }
            )?;
            match name {
                "tcp" => (
                    KeyAttr::Tcp { src, dst },
                    KeyAttr::Tcp {
                        src: srcm,
                        dst: dstm,
                    },
                ),
                "udp" => (
                    KeyAttr::Udp { src, dst },
                    KeyAttr::Udp {
                        src: srcm,
                        dst: dstm,
                    },
                ),
                _ => (
                    KeyAttr::Sctp { src, dst },
                    KeyAttr::Sctp {
                        src: srcm,
                        dst: dstm,
                    },
                ),
            }
        }
        "icmp" | "icmpv6" => {
            let (mut t, mut tm, mut c, mut cm) = (0u8, 0u8, 0u8, 0u8);
            scan_body!(
                b,
                {
                    "type=" => |v| {
                            let (x, m, n) = scan_masked_int(v, 8)?;
                            t = x as u8;
                            tm = m as u8;
                            Some(n)
                        },
                    "code=" => |v| {
                            let (x, m, n) = scan_masked_int(v, 8)?;
                            c = x as u8;
                            cm = m as u8;
                            Some(n)
                        },
                }
            )?;
            if name == "icmp" {
                (
                    KeyAttr::Icmp {
                        icmp_type: t,
                        code: c,
                    },
                    KeyAttr::Icmp {
                        icmp_type: tm,
                        code: cm,
                    },
                )
            } else {
                (
                    KeyAttr::Icmpv6 {
                        icmp_type: t,
                        code: c,
                    },
                    KeyAttr::Icmpv6 {
                        icmp_type: tm,
                        code: cm,
                    },
                )
            }
        }
        "arp" => {
            let mut k = ArpKey::default();
            let mut m = ArpKey::default();
            {
                scan_body!(
                    b,
                    {
                        "sip=" => |v| {
                            let (x, y, n) = scan_masked_ipv4(v)?;
                                                        k.sip = x;
                            m.sip = y;
                            Some(n)
                        },
                        "tip=" => |v| {
                            let (x, y, n) = scan_masked_ipv4(v)?;
                                                        k.tip = x;
                            m.tip = y;
                            Some(n)
                        },
                        "op=" => |v| {
                            let (x, y, n) = scan_masked_int(v, 16)?;
                                                        k.op = x as u16;
                            m.op = y as u16;
                            Some(n)
                        },
                        "sha=" => |v| {
                            let (x, y, n) = scan_masked_eth(v)?;
                                                        k.sha = x;
                            m.sha = y;
                            Some(n)
                        },
                        "tha=" => |v| {
                            let (x, y, n) = scan_masked_eth(v)?;
                                                        k.tha = x;
                            m.tha = y;
                            Some(n)
                        },
                    }
                )?;
            }
            (KeyAttr::Arp(k), KeyAttr::Arp(m))
        }
        "nd" => {
            let mut k = NdKey::default();
            let mut m = NdKey::default();
            {
                scan_body!(
                    b,
                    {
                        "target=" => |v| {
                            let (x, y, n) = scan_masked_ipv6(v)?;
                                                        k.target = x;
                            m.target = y;
                            Some(n)
                        },
                        "sll=" => |v| {
                            let (x, y, n) = scan_masked_eth(v)?;
                                                        k.sll = x;
                            m.sll = y;
                            Some(n)
                        },
                        "tll=" => |v| {
                            let (x, y, n) = scan_masked_eth(v)?;
                                                        k.tll = x;
                            m.tll = y;
                            Some(n)
                        },
                    }
                )?;
            }
            (KeyAttr::Nd(k), KeyAttr::Nd(m))
        }
        "nd_ext" => {
            let (mut r, mut rm, mut o, mut om) = (0u32, 0u32, 0u8, 0u8);
            scan_body!(
                b,
                {
                    "nd_reserved=" => |v| {
                            let (x, m, n) = scan_masked_int(v, 32)?;
                            r = x as u32;
                            rm = m as u32;
                            Some(n)
                        },
                    "nd_options_type=" => |v| {
                            let (x, m, n) = scan_masked_int(v, 8)?;
                            o = x as u8;
                            om = m as u8;
                            Some(n)
                        },
                }
            )?;
            (
                KeyAttr::NdExtensions {
                    reserved: r,
                    options_type: o,
                },
                KeyAttr::NdExtensions {
                    reserved: rm,
                    options_type: om,
                },
            )
        }
        "mpls" => {
            let (mut lse, mut lm) = (0u32, 0u32);
            scan_body!(
                b,
                {
                    "label=" => |v| {
                            let (x, m, n) = scan_masked_int(v, 20)?;
                            lse |= (x as u32) << 12;
                            lm |= (m as u32) << 12;
                            Some(n)
                        },
                    "tc=" => |v| {
                            let (x, m, n) = scan_masked_int(v, 3)?;
                            lse |= (x as u32) << 9;
                            lm |= (m as u32) << 9;
                            Some(n)
                        },
                    "ttl=" => |v| {
                            let (x, m, n) = scan_masked_int(v, 8)?;
                            lse |= x as u32;
                            lm |= m as u32;
                            Some(n)
                        },
                    "bos=" => |v| {
                            let (x, m, n) = scan_masked_int(v, 1)?;
                            lse |= (x as u32) << 8;
                            lm |= (m as u32) << 8;
                            Some(n)
                        },
                }
            )?;
            (KeyAttr::Mpls(vec![lse]), KeyAttr::Mpls(vec![lm]))
        }
        "ct_tuple4" => {
            let mut k = CtTuple4::default();
            let mut m = CtTuple4::default();
            {
                scan_body!(
                    b,
                    {
                        "src=" => |v| {
                            let (x, y, n) = scan_masked_ipv4(v)?;
                                                        k.src = x;
                            m.src = y;
                            Some(n)
                        },
                        "dst=" => |v| {
                            let (x, y, n) = scan_masked_ipv4(v)?;
                                                        k.dst = x;
                            m.dst = y;
                            Some(n)
                        },
                        "proto=" => |v| {
                            let (x, y, n) = scan_masked_int(v, 8)?;
                                                        k.proto = x as u8;
                            m.proto = y as u8;
                            Some(n)
                        },
                        "tp_src=" => |v| {
                            let (x, y, n) = scan_masked_int(v, 16)?;
                                                        k.src_port = x as u16;
                            m.src_port = y as u16;
                            Some(n)
                        },
                        "tp_dst=" => |v| {
                            let (x, y, n) = scan_masked_int(v, 16)?;
                                                        k.dst_port = x as u16;
                            m.dst_port = y as u16;
                            Some(n)
                        },
                    }
                )?;
            }
            (KeyAttr::CtTuple4(k), KeyAttr::CtTuple4(m))
        }
        "ct_tuple6" => {
            let mut k = CtTuple6::default();
            let mut m = CtTuple6::default();
            {
                scan_body!(
                    b,
                    {
                        "src=" => |v| {
                            let (x, y, n) = scan_masked_ipv6(v)?;
                                                        k.src = x;
                            m.src = y;
                            Some(n)
                        },
                        "dst=" => |v| {
                            let (x, y, n) = scan_masked_ipv6(v)?;
                                                        k.dst = x;
                            m.dst = y;
                            Some(n)
                        },
                        "proto=" => |v| {
                            let (x, y, n) = scan_masked_int(v, 8)?;
                                                        k.proto = x as u8;
                            m.proto = y as u8;
                            Some(n)
                        },
                        "tp_src=" => |v| {
                            let (x, y, n) = scan_masked_int(v, 16)?;
                                                        k.src_port = x as u16;
                            m.src_port = y as u16;
                            Some(n)
                        },
                        "tp_dst=" => |v| {
                            let (x, y, n) = scan_masked_int(v, 16)?;
                                                        k.dst_port = x as u16;
                            m.dst_port = y as u16;
                            Some(n)
                        },
                    }
                )?;
            }
            (KeyAttr::CtTuple6(k), KeyAttr::CtTuple6(m))
        }
        "tunnel" => {
            let (k, m) = parse_tunnel(b)?;
            (KeyAttr::Tunnel(k), KeyAttr::Tunnel(m))
        }
        _ => return None,
    };
    key.push(k);
    mask.push(m);
    Some(used)
}

fn parse_tunnel(b: &str) -> Option<(Vec<TunAttr>, Vec<TunAttr>)> {
    let mut k = Vec::new();
    let mut m = Vec::new();
    scan_body!(b, {
        "tun_id=" => |v| {
            let (x, y, n) = scan_masked_int(v, 64)?;
            k.push(TunAttr::Id(x as u64));
            m.push(TunAttr::Id(y as u64));
            Some(n)
        },
        "src=" => |v| {
            let (x, y, n) = scan_masked_ipv4(v)?;
            k.push(TunAttr::Ipv4Src(x));
            m.push(TunAttr::Ipv4Src(y));
            Some(n)
        },
        "dst=" => |v| {
            let (x, y, n) = scan_masked_ipv4(v)?;
            k.push(TunAttr::Ipv4Dst(x));
            m.push(TunAttr::Ipv4Dst(y));
            Some(n)
        },
        "ipv6_src=" => |v| {
            let (x, y, n) = scan_masked_ipv6(v)?;
            k.push(TunAttr::Ipv6Src(x));
            m.push(TunAttr::Ipv6Src(y));
            Some(n)
        },
        "ipv6_dst=" => |v| {
            let (x, y, n) = scan_masked_ipv6(v)?;
            k.push(TunAttr::Ipv6Dst(x));
            m.push(TunAttr::Ipv6Dst(y));
            Some(n)
        },
        "tos=" => |v| {
            let (x, y, n) = scan_masked_int(v, 8)?;
            k.push(TunAttr::Tos(x as u8));
            m.push(TunAttr::Tos(y as u8));
            Some(n)
        },
        "ttl=" => |v| {
            let (x, y, n) = scan_masked_int(v, 8)?;
            k.push(TunAttr::Ttl(x as u8));
            m.push(TunAttr::Ttl(y as u8));
            Some(n)
        },
        "tp_src=" => |v| {
            let (x, y, n) = scan_masked_int(v, 16)?;
            k.push(TunAttr::TpSrc(x as u16));
            m.push(TunAttr::TpSrc(y as u16));
            Some(n)
        },
        "tp_dst=" => |v| {
            let (x, y, n) = scan_masked_int(v, 16)?;
            k.push(TunAttr::TpDst(x as u16));
            m.push(TunAttr::TpDst(y as u16));
            Some(n)
        },
        "geneve(" => |v| {
            let (opts, masks, n) = scan_geneve(v)?;
            k.push(TunAttr::GeneveOpts(opts));
            m.push(TunAttr::GeneveOpts(masks));
            Some(n)
        },
        "flags(" => |v| {
            let end = v.find(')')?;
            let (f, fm) =
                parse_flags(&v[..end], crate::value_str::tun_flag_name, "tunnel", 0xf).ok()?;
            let fm = if fm == u32::MAX { 0xf } else { fm };
            for (bit, a) in [(2u32, TunAttr::DontFragment), (4, TunAttr::Csum), (1, TunAttr::Oam)] {
                if f & bit != 0 {
                    k.push(a.clone());
                }
                if fm & bit != 0 {
                    m.push(a);
                }
            }
            Some(end + 1)
        },
    })?;
    k.sort_by_key(|a| a.attr_type());
    m.sort_by_key(|a| a.attr_type());
    Some((k, m))
}

/// Hex bytes `0x…` right-aligned into `len` bytes.
fn scan_hex_bytes(s: &str, len: usize) -> Option<(Vec<u8>, usize)> {
    let digits = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X"))?;
    let n = digits.chars().take_while(|c| c.is_ascii_hexdigit()).count();
    if n == 0 || n > 2 * len {
        return None;
    }
    let mut out = vec![0u8; len];
    for (i, c) in digits[..n].chars().rev().enumerate() {
        let d = c.to_digit(16)? as u8;
        out[len - 1 - i / 2] |= if i % 2 == 0 { d } else { d << 4 };
    }
    Some((out, 2 + n))
}

/// The options of `geneve(…)` (after its opening parenthesis, through the
/// closing one): `{class=…,type=…,len=…[,0x…]}` each, every part with an
/// optional `/mask` (exact when absent); raw TLVs and their masks.
fn scan_geneve(s: &str) -> Option<(Vec<u8>, Vec<u8>, usize)> {
    let (mut opts, mut masks) = (Vec::new(), Vec::new());
    let mut at = 0;
    while let Some(body) = s[at..].strip_prefix('{') {
        let end = body.find('}')?;
        let mut class = (0u128, 0u128);
        let mut kind = (0u128, 0u128);
        let mut len = (0u128, 0u128);
        let mut data: Option<&str> = None;
        for part in body[..end].split(',').filter(|p| !p.is_empty()) {
            let field = |v: &str, bits| {
                let (x, y, n) = scan_masked_int(v, bits)?;
                (n == v.len()).then_some((x, y))
            };
            if let Some(v) = part.strip_prefix("class=") {
                class = field(v, 16)?;
            } else if let Some(v) = part.strip_prefix("type=") {
                kind = field(v, 8)?;
            } else if let Some(v) = part.strip_prefix("len=") {
                len = field(v, 8)?;
            } else {
                data = Some(part);
            }
        }
        let n = usize::try_from(len.0).ok()?;
        if n % 4 != 0 || n > 124 {
            return None;
        }
        let (value, mask) = match data {
            Some(d) => {
                let (v, used) = scan_hex_bytes(d, n)?;
                match d[used..].strip_prefix('/') {
                    Some(m) => {
                        let (mk, k) = scan_hex_bytes(m, n)?;
                        (k == m.len()).then_some((v, mk))?
                    }
                    None if used == d.len() => (v, vec![0xff; n]),
                    None => return None,
                }
            }
            None => (vec![0; n], vec![0xff; n]),
        };
        opts.extend_from_slice(&(class.0 as u16).to_be_bytes());
        opts.push(kind.0 as u8);
        opts.push((n / 4) as u8);
        opts.extend_from_slice(&value);
        masks.extend_from_slice(&(class.1 as u16).to_be_bytes());
        masks.push(kind.1 as u8);
        masks.push(len.1 as u8);
        masks.extend_from_slice(&mask);
        at += 1 + end + 1;
    }
    let rest = s[at..].strip_prefix(')')?;
    let _ = rest;
    Some((opts, masks, at + 1))
}

#[cfg(test)]
mod tests {
    use super::super::key_format::format_key;
    use super::*;

    fn round_trip(s: &str) {
        let (k, m) = parse_key(s, None).unwrap_or_else(|e| panic!("{s}: {e}"));
        assert_eq!(format_key(&k, Some(&m), None, false), s);
    }

    #[test]
    fn parses_what_dumps_print() {
        round_trip("recirc_id(0),in_port(1),eth(src=50:54:00:00:00:05/ff:ff:ff:00:00:00,dst=50:54:00:00:00:07),eth_type(0x0800),ipv4(src=10.0.0.2/255.255.255.0,dst=10.0.0.1,proto=6,tos=0x10/0xfc,ttl=64/0x3,frag=no),tcp(src=80/0xfff0,dst=22)");
        round_trip("recirc_id(0),in_port(2),eth(src=50:54:00:00:00:05,dst=50:54:00:00:00:07),eth_type(0x86dd),ipv6(src=2001:db8::1/ffff::,dst=::1,label=0x5/0xff,proto=17,tclass=0x3,hlimit=7,frag=first),udp(src=1,dst=2)");
        round_trip("recirc_id(0),in_port(2),eth(),eth_type(0x8100),vlan(vid=10,pcp=3),encap(eth_type(0x0806),arp(sip=1.2.3.4,tip=5.6.7.8,op=1,sha=00:01:02:03:04:05,tha=00:00:00:00:00:00))");
        round_trip("skb_priority(0x5),skb_mark(0x7/0xff),recirc_id(0x3),dp_hash(0x5/0xf),in_port(1),eth(),eth_type(0x0800),ipv4(proto=1,frag=no),icmp(type=8,code=0)");
        round_trip("recirc_id(0),in_port(1),eth(),eth_type(0x0800),ipv4(proto=6,frag=no),tcp_flags(+syn-ack)");
        round_trip("recirc_id(0),in_port(1),eth(),eth_type(0x0800),ipv4(proto=6,frag=no),tcp_flags(syn|ack)");
        round_trip("ct_state(+new-est),ct_zone(0x5),ct_mark(0x3/0xf),ct_label(0x5),recirc_id(0),in_port(3),eth(),eth_type(0x0800),ipv4(frag=no)");
        round_trip(
            "recirc_id(0),in_port(1),eth(),eth_type(0x8847),mpls(label=100,tc=3,ttl=64,bos=1)",
        );
        round_trip(
            "recirc_id(0),in_port(1),packet_type(ns=1,id=0x800),eth_type(0x0800),ipv4(frag=no)",
        );
        round_trip("tunnel(tun_id=0x7b,src=1.1.2.92,dst=1.1.2.88,ttl=64,geneve({class=0xffff,type=0,len=4,0xa}{class=0x1,type=0x5,len=8,0x1234/0xff}),flags(-df-csum+key)),recirc_id(0),in_port(6081),eth(),eth_type(0x0800),ipv4(frag=no)");
    }

    #[test]
    fn errors_say_where() {
        let e = parse_key("in_port(1),foo(3)", None).unwrap_err();
        assert_eq!(e.to_string(), "syntax error at foo(3)");
        let e = parse_key(
            "in_port(p1) , eth( ),eth_type(0x0806)",
            Some(&|n: &str| (n == "p1").then_some(1)),
        )
        .unwrap_err();
        assert_eq!(e.to_string(), "syntax error at eth( ),eth_type(0x0806)");
    }

    #[test]
    fn ipv4_octets_wrap_like_scanf() {
        let (k, _) = parse_key("ipv4(src=1.2.3.400)", None).unwrap();
        assert_eq!(
            k[0],
            KeyAttr::Ipv4(Ipv4Key {
                src: 0x0102_0390,
                ..Default::default()
            })
        );
    }
}

#[cfg(test)]
mod fuzz {
    use super::super::key::{key_to_flow, mask_to_flow};
    use super::super::key_format::format_key;
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Whatever the text, parsing returns (no panic), and what parses
        /// converts to flows and prints again.
        #[test]
        fn arbitrary_text_never_panics(s in "[a-z_0-9(),=/.:x+|-]{0,80}") {
            if let Ok((k, m)) = parse_key(&s, None) {
                let (f, _) = key_to_flow(&k);
                let _ = mask_to_flow(&m, &f);
                let _ = format_key(&k, Some(&m), None, true);
            }
        }

        #[test]
        fn mutated_valid_keys_never_panic(cut in 0usize..200, junk in "[(),=/0-9a-z]{0,6}") {
            let base = "skb_priority(0x5),recirc_id(0),in_port(1),eth(src=50:54:00:00:00:05/ff:ff:ff:00:00:00,dst=50:54:00:00:00:07),eth_type(0x8100),vlan(vid=10,pcp=3),encap(eth_type(0x0800),ipv4(src=10.0.0.2/255.255.255.0,proto=6,frag=no),tcp(src=80/0xfff0),tcp_flags(+syn))";
            let cut = cut.min(base.len());
            let s = format!("{}{}{}", &base[..cut], junk, &base[cut..]);
            if let Ok((k, m)) = parse_key(&s, None) {
                let (f, _) = key_to_flow(&k);
                let _ = mask_to_flow(&m, &f);
                let _ = format_key(&k, Some(&m), None, false);
            }
        }
    }
}
