//! Field values in text: parsing (`mf_parse`) and formatting (`mf_format`)
//! in every format of ovs-fields(7), with Open vSwitch's error messages.
//!
//! Also the shared helpers used by the match printer: [`put_hex`] (minimal
//! hex), IPv4/IPv6/Ethernet masked formats, and the flag-set formats of
//! `tcp_flags`, `tun_flags` and `ct_state`.

use crate::field::{FieldId, MfString};
use crate::port::{format_port, parse_port, PortMap};
use crate::value::MfValue;
use std::net::Ipv6Addr;

/// `nw_frag` names, values and masks.
pub const FRAG_NAMES: [(&str, u8, u8); 5] = [
    ("no", 0, 1),
    ("yes", 1, 1),
    ("first", 1, 3),
    ("later", 3, 3),
    ("not_later", 0, 2),
];

/// Name of one TCP flag bit (packet_tcp_flag_to_string).
pub fn tcp_flag_name(bit: u32) -> Option<&'static str> {
    Some(match bit {
        0x001 => "fin",
        0x002 => "syn",
        0x004 => "rst",
        0x008 => "psh",
        0x010 => "ack",
        0x020 => "urg",
        0x040 => "ece",
        0x080 => "cwr",
        0x100 => "ns",
        0x200 => "[200]",
        0x400 => "[400]",
        0x800 => "[800]",
        _ => return None,
    })
}

/// Name of one tunnel flag bit.
pub fn tun_flag_name(bit: u32) -> Option<&'static str> {
    Some(match bit {
        0x1 => "oam",
        0x2 => "df",
        0x4 => "csum",
        0x8 => "key",
        _ => return None,
    })
}

/// Publicly matchable tunnel flags (only `oam`).
pub const TUN_FLAGS_PUBLIC: u32 = 0x1;
/// All tunnel flags of the flow key.
pub const TUN_FLAGS_ALL: u32 = 0xf;

/// Name of one connection tracking state bit.
pub fn ct_state_name(bit: u32) -> Option<&'static str> {
    Some(match bit {
        0x01 => "new",
        0x02 => "est",
        0x04 => "rel",
        0x08 => "rpl",
        0x10 => "inv",
        0x20 => "trk",
        0x40 => "snat",
        0x80 => "dnat",
        _ => return None,
    })
}

/// Minimal hex of big-endian bytes: `0` if zero, else `0x` and the digits
/// without leading zeros (OVS's ds_put_hex).
pub fn put_hex(bytes: &[u8]) -> String {
    let skip = bytes.iter().take_while(|b| **b == 0).count();
    if skip == bytes.len() {
        return "0".to_string();
    }
    let mut s = format!("0x{:x}", bytes[skip]);
    for b in &bytes[skip + 1..] {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

/// Error kind of [`parse_int_string`].
#[derive(Debug, PartialEq, Eq)]
enum IntErr {
    Range,
    Syntax,
}

/// C `strtoull(s, &tail, 0)`: returns value (wrapped as C does for a
/// leading '-') and bytes consumed; `Err(Range)` on overflow, `Err(Syntax)`
/// if nothing was consumed.
fn strtoull0(s: &str) -> (Result<u64, IntErr>, usize) {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() && matches!(b[i], b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c) {
        i += 1;
    }
    let mut neg = false;
    if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
        neg = b[i] == b'-';
        i += 1;
    }
    let mut base = 10u64;
    if i + 1 < b.len()
        && b[i] == b'0'
        && (b[i + 1] | 0x20) == b'x'
        && i + 2 < b.len()
        && b[i + 2].is_ascii_hexdigit()
    {
        base = 16;
        i += 2;
    } else if i < b.len() && b[i] == b'0' {
        base = 8;
    }
    let start = i;
    let mut v: u64 = 0;
    let mut overflow = false;
    while i < b.len() {
        let d = match (b[i] as char).to_digit(base as u32) {
            Some(d) => d as u64,
            None => break,
        };
        match v.checked_mul(base).and_then(|x| x.checked_add(d)) {
            Some(x) => v = x,
            None => overflow = true,
        }
        i += 1;
    }
    if i == start {
        return (Err(IntErr::Syntax), 0);
    }
    if overflow {
        return (Err(IntErr::Range), i);
    }
    (Ok(if neg { v.wrapping_neg() } else { v }), i)
}

/// Parses an integer of `width` bytes into `out` (big-endian): `0x` hex of
/// any length (whitespace between digits allowed), else C `strtoull` base 0.
/// Returns the unparsed tail.
fn parse_int_string<'a>(s: &'a str, out: &mut [u8]) -> Result<&'a str, IntErr> {
    let width = out.len();
    if s.starts_with("0x") || s.starts_with("0X") {
        let mut digits: Vec<u8> = Vec::new();
        let mut rest = &s[2..];
        loop {
            rest = rest.trim_start_matches([' ', '\t', '\r', '\n']);
            let c = match rest.chars().next() {
                Some(c) if c.is_ascii_hexdigit() => c,
                _ => break,
            };
            let d = c.to_digit(16).unwrap_or(0) as u8;
            if d != 0 || !digits.is_empty() {
                if (digits.len() + 2) / 2 > width {
                    return Err(IntErr::Range);
                }
                digits.push(d);
            }
            rest = &rest[1..];
        }
        out.fill(0);
        let mut idx = width;
        let mut i = digits.len();
        while i > 0 {
            idx -= 1;
            let lo = digits[i - 1];
            let hi = if i >= 2 { digits[i - 2] } else { 0 };
            out[idx] = hi << 4 | lo;
            i = i.saturating_sub(2);
        }
        return Ok(rest);
    }
    let (r, n) = strtoull0(s);
    let mut v = r?;
    for b in out.iter_mut().rev() {
        *b = v as u8;
        v = v.checked_shr(8).unwrap_or(0);
    }
    if v != 0 {
        return Err(IntErr::Range);
    }
    Ok(&s[n..])
}

fn from_integer_string(id: FieldId, s: &str) -> Result<(MfValue, MfValue), String> {
    let d = id.def();
    let mut value = MfValue::zero(d.n_bytes);
    let mut mask = MfValue::ones(d.n_bytes);
    let err = |e: IntErr, what: &str| match e {
        IntErr::Range => format!(
            "{}: {} too large for {}-byte field {}",
            s, what, d.n_bytes, d.name
        ),
        IntErr::Syntax => format!("{}: bad syntax for {} {}", s, d.name, what),
    };
    let tail = parse_int_string(s, value.as_bytes_mut()).map_err(|e| err(e, "value"))?;
    if let Some(m) = tail.strip_prefix('/') {
        let t = parse_int_string(m, mask.as_bytes_mut()).map_err(|e| err(e, "mask"))?;
        if !t.is_empty() {
            return Err(err(IntErr::Syntax, "mask"));
        }
    } else if !tail.is_empty() {
        return Err(err(IntErr::Syntax, "value"));
    }
    Ok((value, mask))
}

/// Scans `%hhx`-like hex octet: optional "0x", 1+ hex digits, wraps to u8.
fn scan_hex_octet(s: &str) -> Option<(u8, &str)> {
    let t = s.trim_start_matches([' ', '\t', '\n', '\r']);
    let t = if (t.starts_with("0x") || t.starts_with("0X"))
        && t.as_bytes().get(2).is_some_and(|c| c.is_ascii_hexdigit())
    {
        &t[2..]
    } else {
        t
    };
    let n = t.bytes().take_while(|c| c.is_ascii_hexdigit()).count();
    if n == 0 {
        return None;
    }
    let mut v: u8 = 0;
    for c in t[..n].chars() {
        v = v
            .wrapping_mul(16)
            .wrapping_add(c.to_digit(16).unwrap_or(0) as u8);
    }
    Some((v, &t[n..]))
}

/// Scans an Ethernet address `xx:xx:xx:xx:xx:xx`; returns it and the tail.
pub fn scan_eth(s: &str) -> Option<([u8; 6], &str)> {
    let mut mac = [0u8; 6];
    let mut rest = s;
    for (i, b) in mac.iter_mut().enumerate() {
        if i > 0 {
            rest = rest.strip_prefix(':')?;
        }
        let (v, r) = scan_hex_octet(rest)?;
        *b = v;
        rest = r;
    }
    Some((mac, rest))
}

fn from_ethernet_string(s: &str) -> Result<(MfValue, MfValue), String> {
    if let Some((mac, rest)) = scan_eth(s) {
        if rest.is_empty() {
            return Ok((MfValue::from_bytes(&mac), MfValue::ones(6)));
        }
        if let Some(m) = rest.strip_prefix('/') {
            if let Some((mask, "")) = scan_eth(m) {
                return Ok((MfValue::from_bytes(&mac), MfValue::from_bytes(&mask)));
            }
        }
    }
    Err(format!("{s}: invalid Ethernet address"))
}

/// Scans `%u8.%u8.%u8.%u8` at the start of `s`.
pub fn scan_ipv4(s: &str) -> Option<(u32, &str)> {
    let mut v: u32 = 0;
    let mut rest = s;
    for i in 0..4 {
        if i > 0 {
            rest = rest.strip_prefix('.')?;
        }
        let t = rest.trim_start_matches([' ', '\t', '\n', '\r']);
        let t = t.strip_prefix('+').unwrap_or(t);
        let n = t.bytes().take_while(|c| c.is_ascii_digit()).count();
        if n == 0 {
            return None;
        }
        let x: u64 = t[..n].parse().ok()?;
        v = v << 8 | (x as u8) as u32;
        rest = &t[n..];
    }
    Some((v, rest))
}

/// Scans C `%d` at the start of `s`.
fn scan_int(s: &str) -> Option<(i64, &str)> {
    let t = s.trim_start_matches([' ', '\t', '\n', '\r']);
    let (neg, u) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let n = u.bytes().take_while(|c| c.is_ascii_digit()).count();
    if n == 0 {
        return None;
    }
    let x: i64 = u[..n].parse().unwrap_or(i64::MAX);
    Some((if neg { -x } else { x }, &u[n..]))
}

/// Mask of the `prefix` leading bits of a 32-bit value.
pub fn ipv4_prefix_mask(prefix: u32) -> u32 {
    if prefix == 0 {
        0
    } else {
        u32::MAX << (32 - prefix.min(32))
    }
}

/// Parses `a.b.c.d`, `a.b.c.d/n` or `a.b.c.d/m.m.m.m` (ip_parse_masked).
pub fn parse_ipv4_masked(s: &str) -> Result<(u32, u32), String> {
    let invalid = || format!("{s}: invalid IP address");
    let (ip, rest) = scan_ipv4(s).ok_or_else(invalid)?;
    if let Some(m) = rest.strip_prefix('/') {
        if let Some((mask, tail)) = scan_ipv4(m) {
            if tail.is_empty() {
                return Ok((ip, mask));
            }
            return Err(invalid());
        }
        if let Some((prefix, tail)) = scan_int(m) {
            if !(0..=32).contains(&prefix) {
                return Err(format!(
                    "{s}: IPv4 network prefix bits not between 0 and 32, inclusive"
                ));
            }
            if !tail.is_empty() {
                return Err(invalid());
            }
            return Ok((ip, ipv4_prefix_mask(prefix as u32)));
        }
        return Err(invalid());
    }
    if !rest.is_empty() {
        return Err(invalid());
    }
    Ok((ip, u32::MAX))
}

/// Scans the characters of an IPv6 address (`[0-9a-fA-F:.]`, at most 46).
fn scan_ipv6_chars(s: &str) -> Option<(&str, &str)> {
    let t = s.trim_start_matches([' ', '\t', '\n', '\r']);
    let n = t
        .bytes()
        .take(46)
        .take_while(|c| c.is_ascii_hexdigit() || *c == b':' || *c == b'.')
        .count();
    (n > 0).then(|| (&t[..n], &t[n..]))
}

/// Mask of the `prefix` leading bits of an IPv6 address.
pub fn ipv6_prefix_mask(prefix: u32) -> [u8; 16] {
    let m: u128 = if prefix == 0 {
        0
    } else {
        u128::MAX << (128 - prefix.min(128))
    };
    m.to_be_bytes()
}

/// Parses an IPv6 address with optional `/prefix` or `/mask`
/// (ipv6_parse_masked).
pub fn parse_ipv6_masked(s: &str) -> Result<([u8; 16], [u8; 16]), String> {
    let invalid = || format!("{s}: invalid IPv6 address");
    let (a, rest) = scan_ipv6_chars(s).ok_or_else(invalid)?;
    let ip: Ipv6Addr = a.parse().map_err(|_| invalid())?;
    let mut mask = [0xffu8; 16];
    let mut rest = rest;
    if let Some(m) = rest.strip_prefix('/') {
        if let Some((prefix, tail)) = scan_int(m) {
            if !(0..=128).contains(&prefix) {
                return Err(format!(
                    "{s}: IPv6 network prefix bits not between 0 and 128, inclusive"
                ));
            }
            mask = ipv6_prefix_mask(prefix as u32);
            rest = tail;
        } else if let Some((ma, tail)) = scan_ipv6_chars(m) {
            let mip: Ipv6Addr = ma.parse().map_err(|_| format!("{s}: Invalid IPv6 mask"))?;
            mask = mip.octets();
            rest = tail;
        }
    }
    if !rest.is_empty() {
        return Err(invalid());
    }
    Ok((ip.octets(), mask))
}

/// Parses a flag set (parse_flags): `0x12/0x17`, `+syn-ack`, or `syn|ack`.
/// `what` names the flags in errors ("TCP", "tunnel", "ct_state").
pub fn parse_flags(
    s: &str,
    name_of: fn(u32) -> Option<&'static str>,
    what: &str,
    allowed: u32,
) -> Result<(u32, u32), String> {
    let unknown = |at: &str| format!("{at}: unknown {what} flag(s)");
    let lookup = |name: &str| -> u32 {
        (0..32)
            .map(|i| 1u32 << i)
            .find(|b| name_of(*b) == Some(name))
            .unwrap_or(0)
            & allowed
    };
    // Numeric value/mask.
    if let (Ok(v), n) = strtoull0_i(s) {
        if let Some(m) = s[n..].strip_prefix('/') {
            if let (Ok(mv), k) = strtoull0_i(m) {
                let _ = k;
                if v & !(allowed as u64) != 0 || mv & !(allowed as u64) != 0 {
                    return Err(unknown(s));
                }
                return Ok((v as u32, mv as u32));
            }
        }
    }
    if s.starts_with('+') || s.starts_with('-') {
        let (mut flags, mut mask) = (0u32, 0u32);
        let mut rest = s;
        while !rest.is_empty() {
            let set = rest.starts_with('+');
            if !set && !rest.starts_with('-') {
                return Err(format!(
                    "{rest}: {what} must be preceded by '+' (for SET) or '-' (NOT SET)"
                ));
            }
            rest = &rest[1..];
            let len = rest.find(['+', '-']).unwrap_or(rest.len());
            let bit = lookup(&rest[..len]);
            if bit == 0 {
                return Err(unknown(rest));
            }
            if mask & bit != 0 {
                return Err(format!(
                    "{rest}: Each {what} flag can be specified only once"
                ));
            }
            mask |= bit;
            if set {
                flags |= bit;
            }
            rest = &rest[len..];
        }
        return Ok((flags, mask));
    }
    let mut result = 0u32;
    let mut rest = s;
    while !rest.is_empty() {
        if let (Ok(v), n) = strtoull0_i(rest) {
            if v & !(allowed as u64) != 0 {
                return Err(unknown(s));
            }
            result |= v as u32;
            rest = &rest[n..];
            rest = rest.strip_prefix('|').unwrap_or(rest);
            continue;
        }
        let len = rest.find('|').unwrap_or(rest.len());
        let bit = lookup(&rest[..len]);
        if bit == 0 {
            return Err(unknown(s));
        }
        result |= bit;
        rest = &rest[len..];
        rest = rest.strip_prefix('|').unwrap_or(rest);
    }
    Ok((result, u32::MAX))
}

/// C `%i` scan: like strtoull base 0 but signed.
fn strtoull0_i(s: &str) -> (Result<u64, IntErr>, usize) {
    strtoull0(s)
}

/// Formats flags: all names joined by `|` when `mask` covers `max_mask`,
/// otherwise `+name-name` per masked bit (format_flags_masked).
pub fn format_flags_masked(
    name_of: fn(u32) -> Option<&'static str>,
    flags: u32,
    mask: u32,
    max_mask: u32,
) -> String {
    if mask == max_mask {
        return format_flags(name_of, flags, '|');
    }
    if mask == 0 {
        return "0/0".to_string();
    }
    let mut s = String::new();
    let mut m = mask;
    while m != 0 {
        let bit = m & m.wrapping_neg();
        s.push(if flags & bit != 0 { '+' } else { '-' });
        s.push_str(name_of(bit).unwrap_or("[Unknown]"));
        m &= !bit;
    }
    s
}

/// Formats a flag set as names joined by `del` (`0` if empty; unknown bits
/// as hex at the end).
pub fn format_flags(name_of: fn(u32) -> Option<&'static str>, flags: u32, del: char) -> String {
    if flags == 0 {
        return "0".to_string();
    }
    let mut parts: Vec<String> = Vec::new();
    let mut bad = 0u32;
    let mut f = flags;
    while f != 0 {
        let bit = f & f.wrapping_neg();
        match name_of(bit) {
            Some(n) => parts.push(n.to_string()),
            None => bad |= bit,
        }
        f &= !bit;
    }
    if bad != 0 {
        parts.push(format!("{bad:#x}"));
    }
    parts.join(&del.to_string())
}

/// `a.b.c.d`.
pub fn format_ipv4(ip: u32) -> String {
    std::net::Ipv4Addr::from(ip).to_string()
}

/// `a.b.c.d`, `a.b.c.d/n` for CIDR masks, else `a.b.c.d/m.m.m.m`.
pub fn format_ipv4_masked(ip: u32, mask: u32) -> String {
    let mut s = format_ipv4(ip);
    if mask != u32::MAX {
        if mask.leading_ones() + mask.trailing_zeros() == 32 {
            s.push_str(&format!("/{}", mask.leading_ones()));
        } else {
            s.push_str(&format!("/{}", format_ipv4(mask)));
        }
    }
    s
}

/// IPv6 address in RFC 5952 form (like inet_ntop).
pub fn format_ipv6(a: &[u8; 16]) -> String {
    let ip = Ipv6Addr::from(*a);
    // Like glibc's inet_ntop: the longest run of two or more zero groups
    // becomes "::" (Rust's Display does the same, and prints IPv4-mapped
    // addresses as ::ffff:a.b.c.d); glibc also prints IPv4-compatible
    // addresses (six zero groups, then a nonzero one) as ::a.b.c.d.
    let seg = ip.segments();
    if seg[..6] == [0, 0, 0, 0, 0, 0] && seg[6] != 0 {
        let o = ip.octets();
        return format!("::{}.{}.{}.{}", o[12], o[13], o[14], o[15]);
    }
    ip.to_string()
}

/// IPv6 address with `/n` for CIDR masks or `/mask` otherwise.
pub fn format_ipv6_masked(a: &[u8; 16], mask: &[u8; 16]) -> String {
    let mut s = format_ipv6(a);
    let m = u128::from_be_bytes(*mask);
    if m != u128::MAX {
        if m.leading_ones() + m.trailing_zeros() == 128 {
            s.push_str(&format!("/{}", m.leading_ones()));
        } else {
            s.push_str(&format!("/{}", format_ipv6(mask)));
        }
    }
    s
}

/// `xx:xx:xx:xx:xx:xx`.
pub fn format_eth(mac: &[u8]) -> String {
    mac.iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// Ethernet address with `/mask` unless the mask is exact.
pub fn format_eth_masked(mac: &[u8], mask: &[u8]) -> String {
    let mut s = format_eth(mac);
    if !mask.iter().all(|b| *b == 0xff) {
        s.push('/');
        s.push_str(&format_eth(mask));
    }
    s
}

fn put_u16_masked(v: u32, m: u32) -> String {
    if m == 0 {
        return "*".to_string();
    }
    let mut s = if v > 9 {
        format!("0x{v:x}")
    } else {
        v.to_string()
    };
    if m != 0xffff {
        s.push_str(&format!("/0x{m:x}"));
    }
    s
}

/// `(ns,type)` of a packet type (numbers above 9 in hex).
pub fn format_packet_type(pt: u32) -> String {
    format!(
        "({},{})",
        put_u16_masked(pt >> 16, 0xffff),
        put_u16_masked(pt & 0xffff, 0xffff)
    )
}

/// A masked packet type as a match prints it: `eth` for exactly
/// Ethernet, otherwise `packet_type=(ns,type)` with `*` for wildcarded
/// halves and `/0xmask` for partial masks.
pub fn format_packet_type_masked(pt: u32, mask: u32) -> String {
    if pt == 0 && mask == u32::MAX {
        return "eth".to_string();
    }
    format!(
        "packet_type=({},{})",
        put_u16_masked(pt >> 16, mask >> 16),
        put_u16_masked(pt & 0xffff, mask & 0xffff)
    )
}

fn from_packet_type_string(s: &str) -> Result<u32, String> {
    // Errors quote the text from the start of the part being parsed.
    let err = |at: &str, what: &str| format!("{at}: bad syntax for packet type {what}");
    let rest = s.strip_prefix('(').ok_or_else(|| err(s, "missing '('"))?;
    let (ns, n) = strtoull0(rest);
    let ns = ns.map_err(|_| err(rest, "ns"))?;
    let rest2 = rest[n..]
        .strip_prefix(',')
        .ok_or_else(|| err(rest, "missing ','"))?;
    let (t, n) = strtoull0(rest2);
    let t = t.map_err(|_| err(rest2, "ns_type"))?;
    if !rest2[n..].starts_with(')') {
        return Err(err(rest2, "missing ')'"));
    }
    Ok(((ns as u32) << 16) | (t as u32 & 0xffff))
}

impl MfValue {
    /// Parses an integer of `n_bytes` (hex `0x...` of any length, else C
    /// base-0 syntax), requiring the whole string; `None` on error.
    pub fn parse_integer(s: &str, n_bytes: usize) -> Option<MfValue> {
        let mut v = MfValue::zero(n_bytes);
        match parse_int_string(s, v.as_bytes_mut()) {
            Ok("") => Some(v),
            _ => None,
        }
    }

    /// Parses `s` as a value (and optional `/mask`) of `field` (mf_parse).
    /// `*` means fully wildcarded.  Errors are Open vSwitch's messages.
    pub fn parse(field: FieldId, s: &str) -> Result<(MfValue, MfValue), String> {
        MfValue::parse_with_ports(field, s, None)
    }

    /// Like [`MfValue::parse`], resolving port names with `ports`.
    pub fn parse_with_ports(
        field: FieldId,
        s: &str,
        ports: Option<&PortMap>,
    ) -> Result<(MfValue, MfValue), String> {
        let d = field.def();
        let n = d.n_bytes;
        if s == "*" {
            return Ok((MfValue::zero(n), MfValue::zero(n)));
        }
        let (value, mask) = match d.string {
            MfString::Decimal | MfString::Hexadecimal => from_integer_string(field, s)?,
            MfString::CtState => {
                let (v, m) = parse_flags(s, ct_state_name, "ct_state", 0xff)?;
                (MfValue::from_u64(n, v as u64), MfValue::from_u64(n, m as u64))
            }
            MfString::Ethernet => from_ethernet_string(s)?,
            MfString::Ipv4 => {
                let (v, m) = parse_ipv4_masked(s)?;
                (MfValue::from_u64(4, v as u64), MfValue::from_u64(4, m as u64))
            }
            MfString::Ipv6 => {
                let (v, m) = parse_ipv6_masked(s)?;
                (MfValue::from_bytes(&v), MfValue::from_bytes(&m))
            }
            MfString::OfpPort => match parse_port(s, ports) {
                Some(p) if p.port <= 0xffff => (MfValue::from_u64(2, p.port as u64), MfValue::ones(2)),
                _ => return Err(format!("{}: invalid or unknown port for {}", s, d.name)),
            },
            MfString::OfpPortOxm => match parse_port(s, ports) {
                Some(p) => (
                    MfValue::from_u64(4, crate::field::access::port_to_ofp11(p.port) as u64),
                    MfValue::ones(4),
                ),
                None => return Err(format!("{}: port value out of range for {}", s, d.name)),
            },
            MfString::Frag => match FRAG_NAMES.iter().find(|(name, _, _)| *name == s) {
                Some((_, v, m)) => (MfValue::from_u64(1, *v as u64), MfValue::from_u64(1, *m as u64)),
                None => {
                    return Err(format!(
                        "{s}: unknown fragment type (valid types are \"no\", \"yes\", \"first\", \"later\", \"not_later\""
                    ))
                }
            },
            MfString::TunFlags => {
                let (v, m) = parse_flags(s, tun_flag_name, "tunnel", TUN_FLAGS_PUBLIC)?;
                (MfValue::from_u64(2, v as u64), MfValue::from_u64(2, m as u64))
            }
            MfString::TcpFlags => {
                let (v, m) = parse_flags(s, tcp_flag_name, "TCP", 0x0fff)?;
                (MfValue::from_u64(2, v as u64), MfValue::from_u64(2, m as u64))
            }
            MfString::PacketType => (MfValue::from_u64(4, from_packet_type_string(s)? as u64), MfValue::ones(4)),
        };
        if !d.maskable && !mask.is_zero() && !mask.is_all_ones() {
            return Err(format!("{}: invalid mask for field {}", s, d.name));
        }
        Ok((value, mask))
    }

    /// Parses an exact value (mf_parse_value): masks are refused with
    /// upstream's "wildcards not allowed here".
    pub fn parse_value(
        field: FieldId,
        s: &str,
        ports: Option<&PortMap>,
    ) -> Result<MfValue, String> {
        let (v, m) = MfValue::parse_with_ports(field, s, ports)?;
        if !m.is_all_ones() {
            return Err(format!("{s}: wildcards not allowed here"));
        }
        Ok(v)
    }

    /// Formats a value of `field` with an optional mask (mf_format): `ANY`
    /// for an all-zero mask, no mask part for an exact one.
    pub fn format(field: FieldId, value: &MfValue, mask: Option<&MfValue>) -> String {
        MfValue::format_with_ports(field, value, mask, None)
    }

    /// Like [`MfValue::format`], printing port names from `ports`.
    pub fn format_with_ports(
        field: FieldId,
        value: &MfValue,
        mask: Option<&MfValue>,
        ports: Option<&PortMap>,
    ) -> String {
        let d = field.def();
        let mut mask = mask;
        if let Some(m) = mask {
            if m.is_zero() {
                return "ANY".to_string();
            }
            if m.is_all_ones() {
                mask = None;
            }
        }
        let x = value.to_u64();
        let mx = |full: u64| mask.map(|m| m.to_u64()).unwrap_or(full);
        match d.string {
            MfString::OfpPortOxm if mask.is_none() => {
                let p = crate::field::access::port_from_ofp11(x as u32).unwrap_or(0xffff);
                format_port(p, ports)
            }
            MfString::OfpPort if mask.is_none() => format_port(x as u32, ports),
            MfString::Decimal
            | MfString::Hexadecimal
            | MfString::OfpPort
            | MfString::OfpPortOxm => {
                // A masked port (only actions have them) prints in decimal.
                let decimal = d.string != MfString::Hexadecimal;
                let mut s = if decimal && d.n_bytes <= 8 {
                    format!("{}", x as i64)
                } else {
                    put_hex(value.as_bytes())
                };
                if let Some(m) = mask {
                    s.push('/');
                    s.push_str(&put_hex(m.as_bytes()));
                }
                s
            }
            MfString::CtState => {
                format_flags_masked(ct_state_name, x as u32, mx(0xffff_ffff) as u32 & 0xff, 0xff)
            }
            MfString::Ethernet => match mask {
                Some(m) => format_eth_masked(value.as_bytes(), m.as_bytes()),
                None => format_eth(value.as_bytes()),
            },
            MfString::Ipv4 => format_ipv4_masked(x as u32, mx(0xffff_ffff) as u32),
            MfString::Ipv6 => {
                let a: [u8; 16] = value.as_bytes().try_into().unwrap_or([0; 16]);
                let m: [u8; 16] = mask
                    .and_then(|m| m.as_bytes().try_into().ok())
                    .unwrap_or([0xff; 16]);
                format_ipv6_masked(&a, &m)
            }
            MfString::Frag => {
                let m = mx(0xff) as u8 & 3;
                let v = x as u8 & m;
                FRAG_NAMES
                    .iter()
                    .find(|(_, fv, fm)| *fv == v && *fm == m)
                    .map(|(n, _, _)| n.to_string())
                    .unwrap_or_else(|| "<error>".to_string())
            }
            MfString::TunFlags => format_flags_masked(
                tun_flag_name,
                x as u32,
                mx(0xffff) as u32 & TUN_FLAGS_PUBLIC,
                TUN_FLAGS_PUBLIC,
            ),
            MfString::TcpFlags => {
                format_flags_masked(tcp_flag_name, x as u32, mx(0xffff) as u32 & 0x0fff, 0x0fff)
            }
            MfString::PacketType => format_packet_type(x as u32),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(f: &str, s: &str) -> Result<(String, String), String> {
        let id = FieldId::from_name(f).unwrap();
        MfValue::parse(id, s).map(|(v, m)| (put_hex(v.as_bytes()), put_hex(m.as_bytes())))
    }

    #[test]
    fn integers() {
        assert_eq!(p("reg0", "010").unwrap().0, "0x8");
        assert_eq!(
            p("reg0", "0x10/0xf0").unwrap(),
            ("0x10".into(), "0xf0".into())
        );
        assert_eq!(
            p("reg0", "0x123456789").unwrap_err(),
            "0x123456789: value too large for 4-byte field reg0"
        );
        assert_eq!(
            p("reg0", "-1").unwrap_err(),
            "-1: value too large for 4-byte field reg0"
        );
        assert_eq!(p("metadata", "-1").unwrap().0, "0xffffffffffffffff");
        assert_eq!(
            p("reg0", "abc").unwrap_err(),
            "abc: bad syntax for reg0 value"
        );
        assert_eq!(
            p("reg0", "0x1/0x2x").unwrap_err(),
            "0x1/0x2x: bad syntax for reg0 mask"
        );
        assert_eq!(
            p("tcp_src", "65536").unwrap_err(),
            "65536: value too large for 2-byte field tcp_src"
        );
        assert_eq!(
            p("eth_type", "0x800/0xff00").unwrap_err(),
            "0x800/0xff00: invalid mask for field eth_type"
        );
        assert_eq!(
            p("ct_label", "0x1234567890ABCDEF12345678").unwrap().0,
            "0x1234567890abcdef12345678"
        );
        assert_eq!(p("tun_metadata0", "0x00ff00").unwrap().0, "0xff00");
        assert_eq!(p("reg0", "*").unwrap(), ("0".into(), "0".into()));
    }

    #[test]
    fn addresses() {
        assert_eq!(
            p("dl_src", "zz").unwrap_err(),
            "zz: invalid Ethernet address"
        );
        assert_eq!(p("dl_src", "1:2:3:4:5:6").unwrap().0, "0x10203040506");
        assert_eq!(
            p("nw_src", "1.2.3.4/33").unwrap_err(),
            "1.2.3.4/33: IPv4 network prefix bits not between 0 and 32, inclusive"
        );
        assert_eq!(
            p("nw_src", "1.2.3.4/zz").unwrap_err(),
            "1.2.3.4/zz: invalid IP address"
        );
        assert_eq!(p("nw_src", "192.168.0.0/24").unwrap().1, "0xffffff00");
        assert_eq!(
            p("ipv6_src", "::1/129").unwrap_err(),
            "::1/129: IPv6 network prefix bits not between 0 and 128, inclusive"
        );
        assert_eq!(
            p("ipv6_src", "::1/zz").unwrap_err(),
            "::1/zz: invalid IPv6 address"
        );
        assert_eq!(
            p("ipv6_src", "1::/1::").unwrap_err(),
            "1::/1::: invalid IPv6 address"
        );
        assert_eq!(
            format_ipv6_masked(
                &parse_ipv6_masked("1::/ffff::").unwrap().0,
                &ipv6_prefix_mask(16)
            ),
            "1::/16"
        );
    }

    #[test]
    fn ports() {
        assert_eq!(
            p("in_port", "zz").unwrap_err(),
            "zz: invalid or unknown port for in_port"
        );
        assert_eq!(
            p("in_port_oxm", "0xfffffff8").unwrap_err(),
            "0xfffffff8: port value out of range for in_port_oxm"
        );
        assert_eq!(p("in_port_oxm", "LOCAL").unwrap().0, "0xfffffffe");
        let v = MfValue::from_u64(4, 0xfffffffe);
        assert_eq!(MfValue::format(FieldId::InPortOxm, &v, None), "LOCAL");
    }

    #[test]
    fn flags() {
        assert_eq!(
            p("tcp_flags", "+syn+syn").unwrap_err(),
            "syn: Each TCP flag can be specified only once"
        );
        assert_eq!(
            p("tcp_flags", "syn+ack").unwrap_err(),
            "syn+ack: unknown TCP flag(s)"
        );
        assert_eq!(
            p("tcp_flags", "+syn/0x2").unwrap_err(),
            "syn/0x2: unknown TCP flag(s)"
        );
        assert_eq!(
            p("tcp_flags", "0x1000").unwrap_err(),
            "0x1000: unknown TCP flag(s)"
        );
        assert_eq!(
            p("tcp_flags", "0x2|ack").unwrap(),
            ("0x12".into(), "0xffff".into())
        );
        assert_eq!(
            p("ct_state", "+trk-new").unwrap(),
            ("0x20".into(), "0x21".into())
        );
        assert_eq!(
            p("ct_state", "+trk+zz").unwrap_err(),
            "zz: unknown ct_state flag(s)"
        );
        assert_eq!(
            p("tun_flags", "+df").unwrap_err(),
            "df: unknown tunnel flag(s)"
        );
        assert_eq!(
            p("tun_flags", "0x2/0x3").unwrap_err(),
            "0x2/0x3: unknown tunnel flag(s)"
        );
        assert_eq!(
            format_flags_masked(tcp_flag_name, 0x12, 0x17, 0xfff),
            "-fin+syn-rst+ack"
        );
        assert_eq!(
            format_flags_masked(tcp_flag_name, 0x12, 0xfff, 0xfff),
            "syn|ack"
        );
        assert_eq!(
            format_flags_masked(ct_state_name, 0x20, 0x21, 0xff),
            "-new+trk"
        );
    }

    #[test]
    fn others() {
        assert_eq!(p("ip_frag", "zz").unwrap_err(), "zz: unknown fragment type (valid types are \"no\", \"yes\", \"first\", \"later\", \"not_later\"");
        assert_eq!(
            p("packet_type", "zz").unwrap_err(),
            "zz: bad syntax for packet type missing '('"
        );
        assert_eq!(
            p("packet_type", "(1,zz)").unwrap_err(),
            "zz): bad syntax for packet type ns_type"
        );
        assert_eq!(p("packet_type", "(1,0x800)").unwrap().0, "0x10800");
        assert_eq!(format_packet_type(0x1894f), "(1,0x894f)");
        assert_eq!(put_hex(&[0, 0, 1, 2]), "0x102");
        assert_eq!(put_hex(&[0, 0]), "0");
        let v = MfValue::from_u64(4, 5);
        assert_eq!(
            MfValue::format(FieldId::Reg0, &v, Some(&MfValue::from_u64(4, 0xff))),
            "0x5/0xff"
        );
        assert_eq!(
            MfValue::format(FieldId::TcpSrc, &MfValue::from_u64(2, 80), None),
            "80"
        );
        assert_eq!(
            MfValue::format(
                FieldId::TcpSrc,
                &MfValue::from_u64(2, 80),
                Some(&MfValue::zero(2))
            ),
            "ANY"
        );
    }
}
