//! Printing helpers shared by the message printers: bit-name lists, port
//! numbers, group and meter ids, durations, and OpenFlow action bitmaps.

/// Upstream's `ofp_print_bit_names`: names of the set bits separated by
/// `sep`, unnamed leftovers as hex, `0` when nothing is set.
pub fn bit_names(
    out: &mut String,
    bits: u32,
    name: impl Fn(u32) -> Option<&'static str>,
    sep: char,
) {
    if bits == 0 {
        out.push('0');
        return;
    }
    let mut rest = bits;
    let mut n = 0;
    for i in 0..32 {
        let bit = 1u32 << i;
        if rest & bit != 0 {
            if let Some(s) = name(bit) {
                if n > 0 {
                    out.push(sep);
                }
                n += 1;
                out.push_str(s);
                rest &= !bit;
            }
        }
    }
    if rest != 0 {
        if n > 0 {
            out.push(sep);
        }
        out.push_str(&format!("{rest:#x}"));
    }
}

/// Reserved OpenFlow 1.0 port numbers (the 16-bit space every version is
/// mapped into).
pub mod ofpp {
    pub const MAX: u16 = 0xff00;
    pub const UNSET: u16 = 0xfff7;
    pub const IN_PORT: u16 = 0xfff8;
    pub const TABLE: u16 = 0xfff9;
    pub const NORMAL: u16 = 0xfffa;
    pub const FLOOD: u16 = 0xfffb;
    pub const ALL: u16 = 0xfffc;
    pub const CONTROLLER: u16 = 0xfffd;
    pub const LOCAL: u16 = 0xfffe;
    pub const NONE: u16 = 0xffff;
}

/// The name of a reserved port, if it is one.
pub fn port_name(port: u16) -> Option<&'static str> {
    Some(match port {
        ofpp::UNSET => "UNSET",
        ofpp::IN_PORT => "IN_PORT",
        ofpp::TABLE => "TABLE",
        ofpp::NORMAL => "NORMAL",
        ofpp::FLOOD => "FLOOD",
        ofpp::ALL => "ALL",
        ofpp::CONTROLLER => "CONTROLLER",
        ofpp::LOCAL => "LOCAL",
        ofpp::NONE => "ANY",
        _ => return None,
    })
}

/// Upstream's `ofputil_format_port`.
pub fn port_to_string(port: u16) -> String {
    port_name(port).map_or_else(|| port.to_string(), str::to_string)
}

/// Converts an OpenFlow 1.1+ 32-bit port number into the 16-bit space
/// (upstream's `ofputil_port_from_ofp11`); `None` for the unmappable range,
/// which upstream rejects with `OFPBRC_BAD_PORT`.
pub fn port_from_ofp11(p: u32) -> Option<u16> {
    if p < u32::from(ofpp::MAX) {
        Some(p as u16)
    } else if p >= 0xffff_ff00 {
        Some((p - 0xffff_0000) as u16)
    } else {
        None
    }
}

/// The inverse of [`port_from_ofp11`].
pub fn port_to_ofp11(p: u16) -> u32 {
    if p < ofpp::MAX {
        u32::from(p)
    } else {
        u32::from(p) + 0xffff_0000
    }
}

/// Group ids as upstream prints them.
pub fn group_id_to_string(id: u32) -> String {
    match id {
        0xffff_fffc => "ALL".into(),
        0xffff_ffff => "ANY".into(),
        _ => id.to_string(),
    }
}

/// Meter ids as upstream prints them.
pub fn meter_id_to_string(id: u32) -> String {
    match id {
        0xffff_fffd => "slowpath".into(),
        0xffff_fffe => "controller".into(),
        0xffff_ffff => "all".into(),
        _ => id.to_string(),
    }
}

/// Queue ids as upstream prints them.
pub fn queue_to_string(id: u32) -> String {
    if id == 0xffff_ffff {
        "ALL".into()
    } else {
        id.to_string()
    }
}

/// C's `%#x` of a 64-bit value: `0x` before nonzero values only.
pub fn c_alt_hex64(v: u64) -> String {
    if v == 0 {
        "0".to_string()
    } else {
        format!("{v:#x}")
    }
}

/// C's `%#x`: `0x` before nonzero values only.
pub fn c_alt_hex(v: u32) -> String {
    if v == 0 {
        "0".to_string()
    } else {
        format!("{v:#x}")
    }
}

/// Upstream's `ofp_print_duration`: seconds, then milliseconds when exact,
/// else nanoseconds.
pub fn duration(out: &mut String, sec: u32, nsec: u32) {
    let (mut sec, mut nsec) = (u64::from(sec), nsec);
    if nsec >= 1_000_000_000 {
        sec += u64::from(nsec / 1_000_000_000);
        nsec %= 1_000_000_000;
    }
    out.push_str(&sec.to_string());
    if nsec > 0 {
        // Nanoseconds without trailing zeros, but at least milliseconds.
        let frac = format!("{nsec:09}");
        let keep = frac.trim_end_matches('0').len().max(3);
        out.push('.');
        out.push_str(&frac[..keep]);
    }
    out.push('s');
}

/// The abstract actions that OpenFlow action bitmaps (features replies,
/// group features) can name, in upstream's print order.
const OFPACT_ORDER: &[&str] = &[
    "output",
    "group",
    "controller",
    "enqueue",
    "set_field",
    "set_vlan_vid",
    "set_vlan_pcp",
    "strip_vlan",
    "push_vlan",
    "mod_dl_src",
    "mod_dl_dst",
    "mod_nw_src",
    "mod_nw_dst",
    "mod_nw_tos",
    "mod_nw_ecn",
    "mod_nw_ttl",
    "mod_tp_src",
    "mod_tp_dst",
    "dec_ttl",
    "set_mpls_label",
    "set_mpls_tc",
    "set_mpls_ttl",
    "dec_mpls_ttl",
    "push_mpls",
    "pop_mpls",
    "set_queue",
];

/// The action named by bit `bit` of an action bitmap in `version`.
fn bitmap_action(version: u8, bit: u32) -> Option<&'static str> {
    Some(match version {
        1 => match bit {
            0 => "output",
            1 => "set_vlan_vid",
            2 => "set_vlan_pcp",
            3 => "strip_vlan",
            4 => "mod_dl_src",
            5 => "mod_dl_dst",
            6 => "mod_nw_src",
            7 => "mod_nw_dst",
            8 => "mod_nw_tos",
            9 => "mod_tp_src",
            10 => "mod_tp_dst",
            11 => "enqueue",
            _ => return None,
        },
        2 => match bit {
            0 => "output",
            1 => "set_vlan_vid",
            2 => "set_vlan_pcp",
            3 => "mod_dl_src",
            4 => "mod_dl_dst",
            5 => "mod_nw_src",
            6 => "mod_nw_dst",
            7 => "mod_nw_tos",
            8 => "mod_nw_ecn",
            9 => "mod_tp_src",
            10 => "mod_tp_dst",
            13 => "set_mpls_label",
            14 => "set_mpls_tc",
            15 => "set_mpls_ttl",
            16 => "dec_mpls_ttl",
            17 => "push_vlan",
            18 => "strip_vlan",
            19 => "push_mpls",
            20 => "pop_mpls",
            21 => "set_queue",
            22 => "group",
            23 => "mod_nw_ttl",
            24 => "dec_ttl",
            _ => return None,
        },
        _ => match bit {
            0 => "output",
            15 => "set_mpls_ttl",
            16 => "dec_mpls_ttl",
            17 => "push_vlan",
            18 => "strip_vlan",
            19 => "push_mpls",
            20 => "pop_mpls",
            21 => "set_queue",
            22 => "group",
            23 => "mod_nw_ttl",
            24 => "dec_ttl",
            25 => "set_field",
            _ => return None,
        },
    })
}

/// Upstream's `ofpact_bitmap_format` of a wire action bitmap of `version`.
pub fn action_bitmap(out: &mut String, version: u8, bitmap: u32) {
    let names: Vec<&str> = (0..32)
        .filter(|b| bitmap & (1 << b) != 0)
        .filter_map(|b| bitmap_action(version, b))
        .collect();
    if names.is_empty() {
        out.push_str("<none>");
        return;
    }
    let mut first = true;
    for n in OFPACT_ORDER.iter().filter(|n| names.contains(n)) {
        if !first {
            out.push(' ');
        }
        first = false;
        out.push_str(n);
    }
}

/// A 48-bit Ethernet address as `xx:xx:xx:xx:xx:xx`.
pub fn eth_addr(b: &[u8; 6]) -> String {
    format!(
        "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
        b[0], b[1], b[2], b[3], b[4], b[5]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bit_names_with_leftovers() {
        let mut s = String::new();
        bit_names(&mut s, 0x103, |b| (b == 1).then_some("one"), ' ');
        assert_eq!(s, "one 0x102");
    }

    #[test]
    fn durations() {
        let mut s = String::new();
        duration(&mut s, 394, 174_990_148);
        assert_eq!(s, "394.174990148s");
        s.clear();
        duration(&mut s, 18, 500_000_000);
        assert_eq!(s, "18.500s");
        s.clear();
        duration(&mut s, 3600, 500_000);
        assert_eq!(s, "3600.0005s");
    }

    #[test]
    fn ports() {
        assert_eq!(port_from_ofp11(0xffff_fffe), Some(ofpp::LOCAL));
        assert_eq!(port_from_ofp11(0xffff_0000), None);
        assert_eq!(port_to_ofp11(ofpp::LOCAL), 0xffff_fffe);
        assert_eq!(port_to_string(ofpp::NONE), "ANY");
    }
}
