//! The text of ODP flow keys and masks, byte for byte as upstream's
//! `odp_flow_format` prints them in `dpctl/dump-flows`: terse (fields and
//! attributes that are fully wildcarded are left out) or verbose (`-m`:
//! everything, with port names).

use std::fmt::Write;

use super::key::{CtTuple4, CtTuple6, KeyAttr, TunAttr};
use crate::value_str::{
    ct_state_name, format_eth, format_flags, format_flags_masked, format_ipv4, format_ipv6,
    put_hex, tcp_flag_name, tun_flag_name,
};

/// Maps a datapath port number to its name (for `-m` dumps).
pub type PortNames<'a> = &'a dyn Fn(u32) -> Option<String>;

/// Formats `key` with its `mask` (if any) as `dpctl/dump-flows` does.
/// With `ports`, an exact `in_port` prints as the port's name (`--names`,
/// implied by `-m`).
pub fn format_key(
    key: &[KeyAttr],
    mask: Option<&[KeyAttr]>,
    ports: Option<PortNames<'_>>,
    verbose: bool,
) -> String {
    let mut s = String::new();
    format_attrs(&mut s, key, mask, ports, verbose);
    s
}

fn format_attrs(
    s: &mut String,
    key: &[KeyAttr],
    mask: Option<&[KeyAttr]>,
    ports: Option<PortNames<'_>>,
    verbose: bool,
) {
    let mut first = true;
    let mut has_packet_type_key = false;
    for a in key {
        let t = a.attr_type();
        let ma = mask
            .filter(|m| !m.is_empty())
            .and_then(|m| m.iter().find(|x| x.attr_type() == t));
        // A masked key's attribute without a mask attribute is wildcarded
        // (a nested `encap` never is).
        let masked = mask.is_some_and(|m| !m.is_empty());
        let is_wildcard = match ma {
            Some(m) => is_all_zero(m),
            None => masked && t != 1,
        };
        if verbose || !is_wildcard {
            if !first {
                s.push(',');
            }
            // A missing mask attribute of a masked key means "wildcarded".
            let zero;
            let ma = if mask.is_some_and(|m| !m.is_empty()) && ma.is_none() {
                zero = zero_of(a);
                Some(&zero)
            } else {
                ma
            };
            format_attr(s, a, ma, ports, verbose);
            first = false;
            if t == 29 {
                has_packet_type_key = true;
            }
        } else if t == 4 && !has_packet_type_key {
            // The presence of an Ethernet header matters even when all of
            // its fields are wildcarded.
            if !first {
                s.push(',');
            }
            s.push_str("eth()");
            first = false;
        }
    }
    if key.is_empty() {
        s.push_str("<empty>");
    }
}

/// An attribute of `a`'s type with every bit zero.
fn zero_of(a: &KeyAttr) -> KeyAttr {
    use super::key::*;
    match a {
        KeyAttr::Encap(_) => KeyAttr::Encap(Vec::new()),
        KeyAttr::Priority(_) => KeyAttr::Priority(0),
        KeyAttr::InPort(_) => KeyAttr::InPort(0),
        KeyAttr::Ethernet { .. } => KeyAttr::Ethernet {
            src: [0; 6],
            dst: [0; 6],
        },
        KeyAttr::Vlan(_) => KeyAttr::Vlan(0),
        KeyAttr::Ethertype(_) => KeyAttr::Ethertype(0),
        KeyAttr::Ipv4(_) => KeyAttr::Ipv4(Ipv4Key::default()),
        KeyAttr::Ipv6(_) => KeyAttr::Ipv6(Ipv6Key::default()),
        KeyAttr::Tcp { .. } => KeyAttr::Tcp { src: 0, dst: 0 },
        KeyAttr::Udp { .. } => KeyAttr::Udp { src: 0, dst: 0 },
        KeyAttr::Sctp { .. } => KeyAttr::Sctp { src: 0, dst: 0 },
        KeyAttr::Icmp { .. } => KeyAttr::Icmp {
            icmp_type: 0,
            code: 0,
        },
        KeyAttr::Icmpv6 { .. } => KeyAttr::Icmpv6 {
            icmp_type: 0,
            code: 0,
        },
        KeyAttr::Arp(_) => KeyAttr::Arp(ArpKey::default()),
        KeyAttr::Nd(_) => KeyAttr::Nd(NdKey::default()),
        KeyAttr::SkbMark(_) => KeyAttr::SkbMark(0),
        KeyAttr::Tunnel(_) => KeyAttr::Tunnel(Vec::new()),
        KeyAttr::TcpFlags(_) => KeyAttr::TcpFlags(0),
        KeyAttr::DpHash(_) => KeyAttr::DpHash(0),
        KeyAttr::RecircId(_) => KeyAttr::RecircId(0),
        KeyAttr::Mpls(v) => KeyAttr::Mpls(vec![0; v.len()]),
        KeyAttr::CtState(_) => KeyAttr::CtState(0),
        KeyAttr::CtZone(_) => KeyAttr::CtZone(0),
        KeyAttr::CtMark(_) => KeyAttr::CtMark(0),
        KeyAttr::CtLabels(_) => KeyAttr::CtLabels(0),
        KeyAttr::CtTuple4(_) => KeyAttr::CtTuple4(CtTuple4::default()),
        KeyAttr::CtTuple6(_) => KeyAttr::CtTuple6(CtTuple6::default()),
        KeyAttr::PacketType(_) => KeyAttr::PacketType(0),
        KeyAttr::NdExtensions { .. } => KeyAttr::NdExtensions {
            reserved: 0,
            options_type: 0,
        },
    }
}

/// Whether a mask attribute wildcards everything (`odp_mask_is_constant`
/// with 0). A nested `encap` never counts as a wildcard.
fn is_all_zero(m: &KeyAttr) -> bool {
    is_constant(m, false)
}

/// Whether a mask attribute is exact (`odp_mask_is_constant` with -1).
fn is_all_ones(m: &KeyAttr) -> bool {
    is_constant(m, true)
}

fn is_constant(m: &KeyAttr, ones: bool) -> bool {
    let b8 = |v: u8| v == if ones { u8::MAX } else { 0 };
    let b16 = |v: u16| v == if ones { u16::MAX } else { 0 };
    let b32 = |v: u32| v == if ones { u32::MAX } else { 0 };
    let bytes = |v: &[u8]| v.iter().all(|x| b8(*x));
    match m {
        KeyAttr::Encap(_) => false,
        KeyAttr::Priority(v)
        | KeyAttr::InPort(v)
        | KeyAttr::SkbMark(v)
        | KeyAttr::DpHash(v)
        | KeyAttr::RecircId(v)
        | KeyAttr::CtState(v)
        | KeyAttr::CtMark(v)
        | KeyAttr::PacketType(v) => b32(*v),
        KeyAttr::Ethernet { src, dst } => bytes(src) && bytes(dst),
        KeyAttr::Vlan(v) | KeyAttr::Ethertype(v) | KeyAttr::CtZone(v) => b16(*v),
        KeyAttr::Ipv4(k) => {
            b32(k.src) && b32(k.dst) && b8(k.proto) && b8(k.tos) && b8(k.ttl) && b8(k.frag)
        }
        KeyAttr::Ipv6(k) => {
            (k.label & 0x000f_ffff) == if ones { 0x000f_ffff } else { 0 }
                && bytes(&k.src)
                && bytes(&k.dst)
                && b8(k.proto)
                && b8(k.tclass)
                && b8(k.hlimit)
                && b8(k.frag)
        }
        KeyAttr::Tcp { src, dst } | KeyAttr::Udp { src, dst } | KeyAttr::Sctp { src, dst } => {
            b16(*src) && b16(*dst)
        }
        KeyAttr::Icmp { icmp_type, code } | KeyAttr::Icmpv6 { icmp_type, code } => {
            b8(*icmp_type) && b8(*code)
        }
        KeyAttr::Arp(k) => b32(k.sip) && b32(k.tip) && b16(k.op) && bytes(&k.sha) && bytes(&k.tha),
        KeyAttr::Nd(k) => bytes(&k.target) && bytes(&k.sll) && bytes(&k.tll),
        KeyAttr::Tunnel(t) => {
            if ones {
                t.iter().all(|a| match a {
                    TunAttr::Id(v) => *v == u64::MAX,
                    TunAttr::Ipv4Src(v) | TunAttr::Ipv4Dst(v) | TunAttr::VxlanGbp(v) => {
                        *v == u32::MAX
                    }
                    TunAttr::Tos(v) | TunAttr::Ttl(v) => *v == u8::MAX,
                    TunAttr::DontFragment | TunAttr::Csum | TunAttr::Oam => true,
                    TunAttr::GeneveOpts(b) => b.iter().all(|x| *x == 0xff),
                    TunAttr::TpSrc(v) | TunAttr::TpDst(v) => *v == u16::MAX,
                    TunAttr::Ipv6Src(a) | TunAttr::Ipv6Dst(a) => *a == [0xff; 16],
                })
            } else {
                t.iter().all(|a| a.is_zero())
            }
        }
        KeyAttr::TcpFlags(v) => (v & 0x0fff) == if ones { 0x0fff } else { 0 },
        KeyAttr::Mpls(v) => v.iter().all(|x| b32(*x)),
        KeyAttr::CtLabels(v) => *v == if ones { u128::MAX } else { 0 },
        KeyAttr::CtTuple4(t) => {
            b32(t.src) && b32(t.dst) && b16(t.src_port) && b16(t.dst_port) && b8(t.proto)
        }
        KeyAttr::CtTuple6(t) => {
            bytes(&t.src) && bytes(&t.dst) && b16(t.src_port) && b16(t.dst_port) && b8(t.proto)
        }
        KeyAttr::NdExtensions {
            reserved,
            options_type,
        } => b32(*reserved) && b8(*options_type),
    }
}

/// C's `%#x`: `0` for zero, else `0x` and the hex digits.
fn hx<T: Into<u128>>(v: T) -> String {
    let v: u128 = v.into();
    if v == 0 {
        "0".to_string()
    } else {
        format!("{v:#x}")
    }
}

fn chomp(s: &mut String) {
    if s.ends_with(',') {
        s.pop();
    }
}

/// `name=value[/mask],` of an IPv4 address (`format_ipv4`).
fn f_ipv4(s: &mut String, name: &str, key: u32, mask: Option<u32>, verbose: bool) {
    if verbose || mask != Some(0) {
        let _ = write!(s, "{name}={}", format_ipv4(key));
        if let Some(m) = mask.filter(|m| *m != u32::MAX) {
            let _ = write!(s, "/{}", format_ipv4(m));
        }
        s.push(',');
    }
}

fn f_in6(s: &mut String, name: &str, key: &[u8; 16], mask: Option<&[u8; 16]>, verbose: bool) {
    if verbose || mask.is_none_or(|m| *m != [0; 16]) {
        let _ = write!(s, "{name}={}", format_ipv6(key));
        if let Some(m) = mask.filter(|m| **m != [0xff; 16]) {
            let _ = write!(s, "/{}", format_ipv6(m));
        }
        s.push(',');
    }
}

fn f_eth(s: &mut String, name: &str, key: &[u8; 6], mask: Option<&[u8; 6]>, verbose: bool) {
    if verbose || mask.is_none_or(|m| *m != [0; 6]) {
        let _ = write!(s, "{name}={}", format_eth(key));
        if let Some(m) = mask.filter(|m| **m != [0xff; 6]) {
            let _ = write!(s, "/{}", format_eth(m));
        }
        s.push(',');
    }
}

/// Decimal value, hex mask (`format_be16`).
fn f_be16(s: &mut String, name: &str, key: u16, mask: Option<u16>, verbose: bool) {
    if verbose || mask != Some(0) {
        let _ = write!(s, "{name}={key}");
        if let Some(m) = mask.filter(|m| *m != u16::MAX) {
            let _ = write!(s, "/{}", hx(m));
        }
        s.push(',');
    }
}

/// Hex value, hex mask (`format_be16x`).
fn f_be16x(s: &mut String, name: &str, key: u16, mask: Option<u16>, verbose: bool) {
    if verbose || mask != Some(0) {
        let _ = write!(s, "{name}={}", hx(key));
        if let Some(m) = mask.filter(|m| *m != u16::MAX) {
            let _ = write!(s, "/{}", hx(m));
        }
        s.push(',');
    }
}

fn f_be32x(s: &mut String, name: &str, key: u32, mask: Option<u32>, verbose: bool) {
    if verbose || mask != Some(0) {
        let _ = write!(s, "{name}={}", hx(key));
        if let Some(m) = mask.filter(|m| *m != u32::MAX) {
            let _ = write!(s, "/{}", hx(m));
        }
        s.push(',');
    }
}

fn f_be64(s: &mut String, name: &str, key: u64, mask: Option<u64>, verbose: bool) {
    if verbose || mask != Some(0) {
        let _ = write!(s, "{name}={}", hx(key));
        if let Some(m) = mask.filter(|m| *m != u64::MAX) {
            let _ = write!(s, "/{}", hx(m));
        }
        s.push(',');
    }
}

/// Decimal value, hex mask (`format_u8u`).
fn f_u8u(s: &mut String, name: &str, key: u8, mask: Option<u8>, verbose: bool) {
    if verbose || mask != Some(0) {
        let _ = write!(s, "{name}={key}");
        if let Some(m) = mask.filter(|m| *m != u8::MAX) {
            let _ = write!(s, "/{}", hx(m));
        }
        s.push(',');
    }
}

/// Hex value, hex mask (`format_u8x`).
fn f_u8x(s: &mut String, name: &str, key: u8, mask: Option<u8>, verbose: bool) {
    if verbose || mask != Some(0) {
        let _ = write!(s, "{name}={}", hx(key));
        if let Some(m) = mask.filter(|m| *m != u8::MAX) {
            let _ = write!(s, "/{}", hx(m));
        }
        s.push(',');
    }
}

/// Upstream prints a wildcarded fragment type even in verbose dumps never.
fn f_frag(s: &mut String, name: &str, key: u8, mask: Option<u8>, _verbose: bool) {
    if mask != Some(0) {
        let t = match key {
            0 => "no",
            1 => "first",
            2 => "later",
            _ => "<error>",
        };
        let _ = write!(s, "{name}={t}");
        if let Some(m) = mask.filter(|m| *m != u8::MAX) {
            let _ = write!(s, "/{}", hx(m));
        }
        s.push(',');
    }
}

fn f_ipv6_label(s: &mut String, name: &str, key: u32, mask: Option<u32>, verbose: bool) {
    if verbose || mask != Some(0) {
        let _ = write!(s, "{name}={}", hx(key));
        if let Some(m) = mask.filter(|m| m & 0x000f_ffff != 0x000f_ffff) {
            let _ = write!(s, "/{}", hx(m));
        }
        s.push(',');
    }
}

fn format_vlan_tci(s: &mut String, tci: u16, mask: u16, verbose: bool) {
    let vid = tci & 0x0fff;
    let vid_m = mask & 0x0fff;
    let pcp = tci >> 13;
    let pcp_m = mask >> 13;
    if verbose || vid != 0 || vid_m != 0 {
        let _ = write!(s, "vid={vid}");
        if vid_m != 0x0fff {
            let _ = write!(s, "/0x{vid_m:x}");
        }
        s.push(',');
    }
    if verbose || pcp != 0 || pcp_m != 0 {
        let _ = write!(s, "pcp={pcp}");
        if pcp_m != 7 {
            let _ = write!(s, "/0x{pcp_m:x}");
        }
        s.push(',');
    }
    if tci & 0x1000 == 0 {
        s.push_str("cfi=0,");
    }
    chomp(s);
}

fn format_mpls(s: &mut String, key: &[u32], mask: Option<&[u32]>) {
    for (i, k) in key.iter().enumerate() {
        let label = |v: u32| v >> 12;
        let tc = |v: u32| (v >> 9) & 7;
        let ttl = |v: u32| v & 0xff;
        let bos = |v: u32| (v >> 8) & 1;
        match mask.and_then(|m| m.get(i)) {
            None => {
                let _ = write!(
                    s,
                    "label={},tc={},ttl={},bos={}",
                    label(*k),
                    tc(*k),
                    ttl(*k),
                    bos(*k)
                );
            }
            Some(m) => {
                let _ = write!(
                    s,
                    "label={}/0x{:x},tc={}/{:x},ttl={}/0x{:x},bos={}/{:x}",
                    label(*k),
                    label(*m),
                    tc(*k),
                    tc(*m),
                    ttl(*k),
                    ttl(*m),
                    bos(*k),
                    bos(*m)
                );
            }
        }
        s.push(',');
    }
    chomp(s);
}

fn format_tunnel(s: &mut String, key: &[TunAttr], mask: Option<&[TunAttr]>, verbose: bool) {
    let mut flags: u32 = 0;
    let mut mask_flags: u32 = 0;
    // Geneve options come after the ports and the VXLAN group policy, as
    // the datapath lays the attributes out.
    let mut key: Vec<&TunAttr> = key.iter().collect();
    key.sort_by_key(|a| match a {
        TunAttr::GeneveOpts(_) => 2 * 11 + 1,
        a => 2 * a.attr_type(),
    });
    for a in key {
        let ma = mask.map(|m| {
            m.iter()
                .find(|x| x.attr_type() == a.attr_type())
                .cloned()
                .unwrap_or_else(|| tun_zero(a))
        });
        match a {
            TunAttr::Id(v) => {
                let m = match ma {
                    Some(TunAttr::Id(m)) => Some(m),
                    _ => None,
                };
                f_be64(s, "tun_id", *v, m, verbose);
                flags |= 8;
                if mask.is_some() {
                    mask_flags |= 8;
                }
            }
            TunAttr::Ipv4Src(v) => {
                let m = match ma {
                    Some(TunAttr::Ipv4Src(m)) => Some(m),
                    _ => None,
                };
                f_ipv4(s, "src", *v, m, verbose);
            }
            TunAttr::Ipv4Dst(v) => {
                let m = match ma {
                    Some(TunAttr::Ipv4Dst(m)) => Some(m),
                    _ => None,
                };
                f_ipv4(s, "dst", *v, m, verbose);
            }
            TunAttr::Ipv6Src(v) => {
                let m = match ma {
                    Some(TunAttr::Ipv6Src(m)) => Some(m),
                    _ => None,
                };
                f_in6(s, "ipv6_src", v, m.as_ref(), verbose);
            }
            TunAttr::Ipv6Dst(v) => {
                let m = match ma {
                    Some(TunAttr::Ipv6Dst(m)) => Some(m),
                    _ => None,
                };
                f_in6(s, "ipv6_dst", v, m.as_ref(), verbose);
            }
            TunAttr::Tos(v) => {
                let m = match ma {
                    Some(TunAttr::Tos(m)) => Some(m),
                    _ => None,
                };
                f_u8x(s, "tos", *v, m, verbose);
            }
            TunAttr::Ttl(v) => {
                let m = match ma {
                    Some(TunAttr::Ttl(m)) => Some(m),
                    _ => None,
                };
                f_u8u(s, "ttl", *v, m, verbose);
            }
            TunAttr::DontFragment => flags |= 2,
            TunAttr::Csum => flags |= 4,
            TunAttr::Oam => flags |= 1,
            TunAttr::TpSrc(v) => {
                let m = match ma {
                    Some(TunAttr::TpSrc(m)) => Some(m),
                    _ => None,
                };
                f_be16(s, "tp_src", *v, m, verbose);
            }
            TunAttr::TpDst(v) => {
                let m = match ma {
                    Some(TunAttr::TpDst(m)) => Some(m),
                    _ => None,
                };
                f_be16(s, "tp_dst", *v, m, verbose);
            }
            TunAttr::VxlanGbp(v) => {
                let m = match ma {
                    Some(TunAttr::VxlanGbp(m)) => Some(m),
                    _ => None,
                };
                s.push_str("vxlan(gbp(");
                let id = *v as u16;
                let fl = (*v >> 16) as u8;
                f_be16(s, "id", id, m.map(|m| m as u16), verbose);
                f_u8x(s, "flags", fl, m.map(|m| (m >> 16) as u8), verbose);
                chomp(s);
                s.push_str(")),");
            }
            TunAttr::GeneveOpts(b) => {
                let m = match ma {
                    Some(TunAttr::GeneveOpts(m)) => Some(m),
                    _ => None,
                };
                s.push_str("geneve(");
                format_geneve(s, b, m.as_deref(), verbose);
                s.push_str("),");
            }
        }
    }
    if let Some(m) = mask {
        for a in m {
            match a {
                TunAttr::DontFragment => mask_flags |= 2,
                TunAttr::Csum => mask_flags |= 4,
                TunAttr::Oam => mask_flags |= 1,
                _ => {}
            }
        }
    }
    let fmask = mask.map(|_| mask_flags);
    if verbose || fmask != Some(0) {
        s.push_str("flags(");
        match fmask {
            Some(m) => s.push_str(&format_flags_masked(tun_flag_name, flags, m & 0xf, 0xf)),
            None => s.push_str(&format_flags(tun_flag_name, flags, '|')),
        }
        s.push_str("),");
    }
    chomp(s);
}

fn tun_zero(a: &TunAttr) -> TunAttr {
    match a {
        TunAttr::Id(_) => TunAttr::Id(0),
        TunAttr::Ipv4Src(_) => TunAttr::Ipv4Src(0),
        TunAttr::Ipv4Dst(_) => TunAttr::Ipv4Dst(0),
        TunAttr::Tos(_) => TunAttr::Tos(0),
        TunAttr::Ttl(_) => TunAttr::Ttl(0),
        TunAttr::DontFragment => TunAttr::DontFragment,
        TunAttr::Csum => TunAttr::Csum,
        TunAttr::Oam => TunAttr::Oam,
        TunAttr::GeneveOpts(b) => TunAttr::GeneveOpts(vec![0; b.len()]),
        TunAttr::TpSrc(_) => TunAttr::TpSrc(0),
        TunAttr::TpDst(_) => TunAttr::TpDst(0),
        TunAttr::VxlanGbp(_) => TunAttr::VxlanGbp(0),
        TunAttr::Ipv6Src(_) => TunAttr::Ipv6Src([0; 16]),
        TunAttr::Ipv6Dst(_) => TunAttr::Ipv6Dst([0; 16]),
    }
}

/// Geneve option TLVs: `{class=0x…,type=0x…,len=N,0x…}` each.
fn format_geneve(s: &mut String, opts: &[u8], mask: Option<&[u8]>, verbose: bool) {
    let mut pos = 0;
    while pos + 4 <= opts.len() {
        let class = u16::from_be_bytes([opts[pos], opts[pos + 1]]);
        let typ = opts[pos + 2];
        let len = (opts[pos + 3] & 0x1f) as usize * 4;
        let m = mask.and_then(|m| m.get(pos..pos + 4));
        s.push('{');
        let mclass = m.map(|m| u16::from_be_bytes([m[0], m[1]]));
        f_be16x(s, "class", class, mclass, verbose);
        f_u8x(s, "type", typ, m.map(|m| m[2]), verbose);
        // A length mask of all five bits is exact.
        let mlen = m.map(|m| match m[3] & 0x1f {
            0x1f => u8::MAX,
            l => l,
        });
        f_u8u(s, "len", len as u8, mlen, verbose);
        let data = opts.get(pos + 4..pos + 4 + len).unwrap_or(&[]);
        let md = mask.and_then(|m| m.get(pos + 4..pos + 4 + len));
        let wild = md.is_some_and(|md| md.iter().all(|x| *x == 0));
        if !data.is_empty() && (verbose || !wild) {
            s.push_str(&put_hex(data));
            if let Some(md) = md {
                if md.iter().any(|x| *x != 0xff) {
                    s.push('/');
                    s.push_str(&put_hex(md));
                }
            }
        }
        chomp(s);
        s.push('}');
        pos += 4 + len;
    }
}

fn format_ct_tuple4(s: &mut String, k: &CtTuple4, m: Option<&CtTuple4>, verbose: bool) {
    f_ipv4(s, "src", k.src, m.map(|m| m.src), verbose);
    f_ipv4(s, "dst", k.dst, m.map(|m| m.dst), verbose);
    f_u8u(s, "proto", k.proto, m.map(|m| m.proto), verbose);
    f_be16(s, "tp_src", k.src_port, m.map(|m| m.src_port), verbose);
    f_be16(s, "tp_dst", k.dst_port, m.map(|m| m.dst_port), verbose);
    chomp(s);
}

fn format_ct_tuple6(s: &mut String, k: &CtTuple6, m: Option<&CtTuple6>, verbose: bool) {
    f_in6(s, "src", &k.src, m.map(|m| &m.src), verbose);
    f_in6(s, "dst", &k.dst, m.map(|m| &m.dst), verbose);
    f_u8u(s, "proto", k.proto, m.map(|m| m.proto), verbose);
    f_be16(s, "tp_src", k.src_port, m.map(|m| m.src_port), verbose);
    f_be16(s, "tp_dst", k.dst_port, m.map(|m| m.dst_port), verbose);
    chomp(s);
}

fn format_attr(
    s: &mut String,
    a: &KeyAttr,
    ma: Option<&KeyAttr>,
    ports: Option<PortNames<'_>>,
    verbose: bool,
) {
    let is_exact = ma.is_none_or(is_all_ones);
    let mask_empty = ma.is_some_and(is_all_zero);
    s.push_str(a.name());
    s.push('(');
    macro_rules! m {
        ($pat:path) => {
            match ma {
                Some($pat(x)) => Some(x),
                _ => None,
            }
        };
    }
    match a {
        KeyAttr::Encap(inner) => {
            let inner_mask = match ma {
                Some(KeyAttr::Encap(m)) if !m.is_empty() => Some(m.as_slice()),
                _ => None,
            };
            if !inner.is_empty() {
                let mut sub = String::new();
                format_attrs(&mut sub, inner, inner_mask, None, verbose);
                s.push_str(&sub);
            }
        }
        KeyAttr::Priority(v) | KeyAttr::SkbMark(v) | KeyAttr::DpHash(v) | KeyAttr::RecircId(v) => {
            let _ = write!(s, "{}", hx(*v));
            if !is_exact {
                let _ = write!(s, "/{}", hx(mask_u32(ma)));
            }
        }
        KeyAttr::CtMark(v) => {
            if verbose || !mask_empty {
                let _ = write!(s, "{}", hx(*v));
                if !is_exact {
                    let _ = write!(s, "/{}", hx(mask_u32(ma)));
                }
            }
        }
        KeyAttr::CtState(v) => {
            if verbose {
                let _ = write!(s, "{}", hx(*v));
                if !is_exact {
                    let _ = write!(s, "/{}", hx(mask_u32(ma)));
                }
            } else if !is_exact {
                s.push_str(&format_flags_masked(
                    ct_state_name,
                    *v,
                    mask_u32(ma),
                    u32::MAX,
                ));
            } else {
                s.push_str(&format_flags(ct_state_name, *v, '|'));
            }
        }
        KeyAttr::CtZone(v) => {
            if verbose || !mask_empty {
                let _ = write!(s, "{}", hx(*v));
                if !is_exact {
                    let m = match ma {
                        Some(KeyAttr::CtZone(m)) => *m,
                        _ => 0,
                    };
                    let _ = write!(s, "/{}", hx(m));
                }
            }
        }
        KeyAttr::CtLabels(v) => {
            let m = m!(KeyAttr::CtLabels);
            if verbose || m.is_some_and(|m| *m != 0) {
                s.push_str(&put_hex(&v.to_be_bytes()));
                if let Some(m) = m.filter(|m| **m != u128::MAX) {
                    s.push('/');
                    s.push_str(&put_hex(&m.to_be_bytes()));
                }
            }
        }
        KeyAttr::CtTuple4(k) => format_ct_tuple4(s, k, m!(KeyAttr::CtTuple4), verbose),
        KeyAttr::CtTuple6(k) => format_ct_tuple6(s, k, m!(KeyAttr::CtTuple6), verbose),
        KeyAttr::Tunnel(t) => {
            let m = m!(KeyAttr::Tunnel).map(|v| v.as_slice());
            format_tunnel(s, t, m, verbose);
        }
        KeyAttr::InPort(v) => {
            let name = if is_exact {
                ports.and_then(|p| p(*v))
            } else {
                None
            };
            match name {
                Some(n) => s.push_str(&n),
                None => {
                    let _ = write!(s, "{v}");
                    if !is_exact {
                        let _ = write!(s, "/{}", hx(mask_u32(ma)));
                    }
                }
            }
        }
        KeyAttr::PacketType(v) => {
            let m = m!(KeyAttr::PacketType).copied();
            f_be16(
                s,
                "ns",
                (v >> 16) as u16,
                Some(m.map_or(u16::MAX, |m| (m >> 16) as u16)),
                verbose,
            );
            f_be16x(
                s,
                "id",
                *v as u16,
                Some(m.map_or(u16::MAX, |m| m as u16)),
                verbose,
            );
            chomp(s);
        }
        KeyAttr::Ethernet { src, dst } => {
            let (ms, md) = match ma {
                Some(KeyAttr::Ethernet { src, dst }) => (Some(src), Some(dst)),
                _ => (None, None),
            };
            f_eth(s, "src", src, ms, verbose);
            f_eth(s, "dst", dst, md, verbose);
            chomp(s);
        }
        KeyAttr::Vlan(tci) => {
            let m = m!(KeyAttr::Vlan).copied().unwrap_or(u16::MAX);
            format_vlan_tci(s, *tci, m, verbose);
        }
        KeyAttr::Mpls(v) => {
            let m = if is_exact {
                None
            } else {
                m!(KeyAttr::Mpls).map(|m| m.as_slice())
            };
            if let Some(m) = m {
                if m.len() != v.len() {
                    let _ = write!(
                        s,
                        "(key length {} != mask length {})",
                        v.len() * 4,
                        m.len() * 4
                    );
                    s.push(')');
                    return;
                }
            }
            format_mpls(s, v, m);
        }
        KeyAttr::Ethertype(v) => {
            let _ = write!(s, "0x{v:04x}");
            if !is_exact {
                let m = match ma {
                    Some(KeyAttr::Ethertype(m)) => *m,
                    _ => 0,
                };
                let _ = write!(s, "/0x{m:04x}");
            }
        }
        KeyAttr::Ipv4(k) => {
            let m = m!(KeyAttr::Ipv4);
            f_ipv4(s, "src", k.src, m.map(|m| m.src), verbose);
            f_ipv4(s, "dst", k.dst, m.map(|m| m.dst), verbose);
            f_u8u(s, "proto", k.proto, m.map(|m| m.proto), verbose);
            f_u8x(s, "tos", k.tos, m.map(|m| m.tos), verbose);
            f_u8u(s, "ttl", k.ttl, m.map(|m| m.ttl), verbose);
            f_frag(s, "frag", k.frag, m.map(|m| m.frag), verbose);
            chomp(s);
        }
        KeyAttr::Ipv6(k) => {
            let m = m!(KeyAttr::Ipv6);
            f_in6(s, "src", &k.src, m.map(|m| &m.src), verbose);
            f_in6(s, "dst", &k.dst, m.map(|m| &m.dst), verbose);
            f_ipv6_label(s, "label", k.label, m.map(|m| m.label), verbose);
            f_u8u(s, "proto", k.proto, m.map(|m| m.proto), verbose);
            f_u8x(s, "tclass", k.tclass, m.map(|m| m.tclass), verbose);
            f_u8u(s, "hlimit", k.hlimit, m.map(|m| m.hlimit), verbose);
            f_frag(s, "frag", k.frag, m.map(|m| m.frag), verbose);
            chomp(s);
        }
        KeyAttr::Tcp { src, dst } | KeyAttr::Udp { src, dst } | KeyAttr::Sctp { src, dst } => {
            let m = match ma {
                Some(KeyAttr::Tcp { src, dst })
                | Some(KeyAttr::Udp { src, dst })
                | Some(KeyAttr::Sctp { src, dst }) => Some((*src, *dst)),
                _ => None,
            };
            f_be16(s, "src", *src, m.map(|m| m.0), verbose);
            f_be16(s, "dst", *dst, m.map(|m| m.1), verbose);
            chomp(s);
        }
        KeyAttr::TcpFlags(v) => {
            if !is_exact {
                let m = match ma {
                    Some(KeyAttr::TcpFlags(m)) => *m,
                    _ => 0,
                };
                s.push_str(&format_flags_masked(
                    tcp_flag_name,
                    *v as u32,
                    (m & 0x0fff) as u32,
                    0x0fff,
                ));
            } else {
                s.push_str(&format_flags(tcp_flag_name, *v as u32, '|'));
            }
        }
        KeyAttr::Icmp { icmp_type, code } | KeyAttr::Icmpv6 { icmp_type, code } => {
            let m = match ma {
                Some(KeyAttr::Icmp { icmp_type, code })
                | Some(KeyAttr::Icmpv6 { icmp_type, code }) => Some((*icmp_type, *code)),
                _ => None,
            };
            f_u8u(s, "type", *icmp_type, m.map(|m| m.0), verbose);
            f_u8u(s, "code", *code, m.map(|m| m.1), verbose);
            chomp(s);
        }
        KeyAttr::Arp(k) => {
            let m = m!(KeyAttr::Arp);
            f_ipv4(s, "sip", k.sip, m.map(|m| m.sip), verbose);
            f_ipv4(s, "tip", k.tip, m.map(|m| m.tip), verbose);
            f_be16(s, "op", k.op, m.map(|m| m.op), verbose);
            f_eth(s, "sha", &k.sha, m.map(|m| &m.sha), verbose);
            f_eth(s, "tha", &k.tha, m.map(|m| &m.tha), verbose);
            chomp(s);
        }
        KeyAttr::Nd(k) => {
            let m = m!(KeyAttr::Nd);
            f_in6(s, "target", &k.target, m.map(|m| &m.target), verbose);
            f_eth(s, "sll", &k.sll, m.map(|m| &m.sll), verbose);
            f_eth(s, "tll", &k.tll, m.map(|m| &m.tll), verbose);
            chomp(s);
        }
        KeyAttr::NdExtensions {
            reserved,
            options_type,
        } => {
            let m = match ma {
                Some(KeyAttr::NdExtensions {
                    reserved,
                    options_type,
                }) => Some((*reserved, *options_type)),
                _ => None,
            };
            f_be32x(s, "nd_reserved", *reserved, m.map(|m| m.0), verbose);
            f_u8u(s, "nd_options_type", *options_type, m.map(|m| m.1), verbose);
            chomp(s);
        }
    }
    s.push(')');
}

fn mask_u32(ma: Option<&KeyAttr>) -> u32 {
    match ma {
        Some(KeyAttr::Priority(v))
        | Some(KeyAttr::InPort(v))
        | Some(KeyAttr::SkbMark(v))
        | Some(KeyAttr::DpHash(v))
        | Some(KeyAttr::RecircId(v))
        | Some(KeyAttr::CtState(v))
        | Some(KeyAttr::CtMark(v))
        | Some(KeyAttr::PacketType(v)) => *v,
        _ => u32::MAX,
    }
}

#[cfg(test)]
mod tests {
    use super::super::key::*;
    use super::*;
    use packet::flow::Flow;

    fn traffic_flow() -> (Flow, Flow) {
        let mut f = Flow::default();
        f.in_port = 1;
        f.dl_src = [0x50, 0x54, 0, 0, 0, 5];
        f.dl_dst = [0x50, 0x54, 0, 0, 0, 7];
        f.dl_type = 0x0800;
        f.nw_src = 0x0a00_0002;
        f.nw_dst = 0x0a00_0001;
        f.nw_proto = 1;
        f.nw_ttl = 64;
        f.tp_src = 8;
        let mut m = Flow::default();
        m.in_port = u32::MAX;
        m.recirc_id = u32::MAX;
        m.packet_type = u32::MAX;
        m.dl_src = [0xff; 6];
        m.dl_dst = [0xff; 6];
        m.dl_type = 0xffff;
        m.nw_frag = 3;
        (f, m)
    }

    #[test]
    fn terse_dump_as_upstream() {
        let (f, m) = traffic_flow();
        let s = Support::default();
        let key = key_from_flow(&f, Some(&m), &s);
        let mask = mask_from_flow(&m, &f, &s);
        assert_eq!(
            format_key(&key, Some(&mask), None, false),
            "recirc_id(0),in_port(1),packet_type(ns=0,id=0),eth(src=50:54:00:00:00:05,dst=50:54:00:00:00:07),eth_type(0x0800),ipv4(frag=no)"
        );
    }

    #[test]
    fn verbose_dump_as_upstream() {
        let (f, m) = traffic_flow();
        let s = Support::default();
        let key = key_from_flow(&f, Some(&m), &s);
        let mask = mask_from_flow(&m, &f, &s);
        let names = |p: u32| (p == 1).then(|| "p1".to_string());
        assert_eq!(
            format_key(&key, Some(&mask), Some(&names), true),
            "skb_priority(0/0),skb_mark(0/0),ct_state(0/0),ct_zone(0/0),ct_mark(0/0),ct_label(0/0),recirc_id(0),dp_hash(0/0),in_port(p1),packet_type(ns=0,id=0),eth(src=50:54:00:00:00:05,dst=50:54:00:00:00:07),eth_type(0x0800),ipv4(src=10.0.0.2/0.0.0.0,dst=10.0.0.1/0.0.0.0,proto=1/0,tos=0/0,ttl=64/0,frag=no),icmp(type=8/0,code=0/0)"
        );
    }

    #[test]
    fn wildcarded_eth_prints_eth_parens() {
        let (f, mut m) = traffic_flow();
        m.dl_src = [0; 6];
        m.dl_dst = [0; 6];
        m.packet_type = 0;
        m.nw_proto = 0xff;
        m.tp_src = 0xff;
        m.tp_dst = 0xff;
        let s = Support::default();
        let key = key_from_flow(&f, Some(&m), &s);
        let mask = mask_from_flow(&m, &f, &s);
        assert_eq!(
            format_key(&key, Some(&mask), None, false),
            "recirc_id(0),in_port(1),eth(),eth_type(0x0800),ipv4(proto=1,frag=no),icmp(type=8,code=0)"
        );
    }

    #[test]
    fn flags_and_ct() {
        let mut f = Flow::default();
        f.in_port = 3;
        f.dl_type = 0x0800;
        f.ct_state = 1;
        f.ct_zone = 5;
        f.ct_mark = 3;
        f.ct_label = 5;
        let mut m = Flow::default();
        m.in_port = u32::MAX;
        m.recirc_id = u32::MAX;
        m.dl_type = 0xffff;
        m.nw_frag = 3;
        m.ct_state = 3;
        m.ct_zone = 0xffff;
        m.ct_mark = 0xf;
        m.ct_label = u128::MAX;
        let s = Support::default();
        let key = key_from_flow(&f, Some(&m), &s);
        let mask = mask_from_flow(&m, &f, &s);
        assert_eq!(
            format_key(&key, Some(&mask), None, false),
            "ct_state(+new-est),ct_zone(0x5),ct_mark(0x3/0xf),ct_label(0x5),recirc_id(0),in_port(3),eth(),eth_type(0x0800),ipv4(frag=no)"
        );
    }
}
