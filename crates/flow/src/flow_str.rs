//! The ovs-ofctl(8) "Flow Syntax" parser: a flow (match, priority, table,
//! cookie, timeouts, flags, `actions=...`) in text to a [`ParsedFlowMod`]
//! (the counterpart of Open vSwitch's parse_ofp_str), with upstream's error
//! messages.  The actions text is kept as text here: the actions parser of
//! [`crate`] turns it into actions and may narrow the usable protocols.

use crate::field::FieldId;
use crate::key_value::next_pair;
use crate::matches::{
    Match, ETH_TYPE_ARP, ETH_TYPE_IP, ETH_TYPE_IPV6, ETH_TYPE_MPLS, ETH_TYPE_MPLS_MCAST,
    ETH_TYPE_RARP, IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP,
    OFPHTN_ETHERTYPE, PT_ETH,
};
use crate::port::{parse_port_logged, PortMap, Warning};
use crate::protocols::Protocols;
use crate::subfield::Subfield;
use crate::value::MfValue;

/// Default flow priority.
pub const OFP_DEFAULT_PRIORITY: u16 = 0x8000;
/// `OFPP_ANY` in the OF1.0 port space.
pub const OFPP_ANY: u32 = 0xffff;
/// `OFPG_ANY`.
pub const OFPG_ANY: u32 = 0xffff_ffff;

/// Flow table modification command.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FlowModCommand {
    Add,
    Modify,
    ModifyStrict,
    Delete,
    DeleteStrict,
}

impl FlowModCommand {
    /// OpenFlow wire value (OFPFC_*).
    pub fn wire(self) -> u8 {
        match self {
            FlowModCommand::Add => 0,
            FlowModCommand::Modify => 1,
            FlowModCommand::ModifyStrict => 2,
            FlowModCommand::Delete => 3,
            FlowModCommand::DeleteStrict => 4,
        }
    }

    /// Text used by ofp-print (`ADD`, `MOD`, `MOD_STRICT`, `DEL`, `DEL_STRICT`).
    pub fn print_name(self) -> &'static str {
        match self {
            FlowModCommand::Add => "ADD",
            FlowModCommand::Modify => "MOD",
            FlowModCommand::ModifyStrict => "MOD_STRICT",
            FlowModCommand::Delete => "DEL",
            FlowModCommand::DeleteStrict => "DEL_STRICT",
        }
    }
}

/// What the text describes, which decides the keywords allowed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlowStrKind {
    /// A flow_mod with this command.
    FlowMod(FlowModCommand),
    /// A flow_mod whose text may start with `add`, `modify`, `delete`,
    /// `modify_strict` or `delete_strict` (default `add`), as in
    /// `ovs-ofctl --bundle add-flows` files.
    FlowModAnyCommand,
    /// A flow statistics request (match, table, cookie, out_port, out_group).
    FlowStats,
}

/// Flow_mod flags.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct FlowModFlags {
    pub send_flow_rem: bool,
    pub check_overlap: bool,
    pub reset_counts: bool,
    pub no_packet_counts: bool,
    pub no_byte_counts: bool,
}

/// A parsed flow description.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParsedFlowMod {
    /// `None` for a flow statistics request.
    pub command: Option<FlowModCommand>,
    /// 0xff when not given (all tables / default table).
    pub table_id: u8,
    pub priority: u16,
    /// Cookie to match (with `cookie_mask`), for modify/delete.
    pub cookie: u64,
    pub cookie_mask: u64,
    /// Cookie to set; `u64::MAX` means "leave unchanged".
    pub new_cookie: u64,
    /// True if `cookie=` gave a new cookie.
    pub modify_cookie: bool,
    pub idle_timeout: u16,
    pub hard_timeout: u16,
    pub importance: u16,
    /// OF1.0 port number; [`OFPP_ANY`] when not given.
    pub out_port: u32,
    pub out_group: u32,
    pub buffer_id: u32,
    pub flags: FlowModFlags,
    pub match_: Match,
    /// The text after `actions=` (None when actions are not part of the
    /// syntax, e.g. for delete).
    pub actions: Option<String>,
    /// The parsed actions and instructions (empty without `actions=`).
    pub ofpacts: Vec<crate::actions::OfpAction>,
    /// Protocol variants able to express the match, the flow_mod options
    /// and the actions.
    pub usable_protocols: Protocols,
    /// Warnings upstream logs while parsing (for example about reserved
    /// port numbers), in order.
    pub warnings: Vec<Warning>,
}

/// A protocol shorthand: Ethertype and optional IP protocol.
pub fn parse_protocol_name(name: &str) -> Option<(u16, u8)> {
    Some(match name {
        "ip" | "ipv4" | "ip4" => (ETH_TYPE_IP, 0),
        "arp" => (ETH_TYPE_ARP, 0),
        "icmp" => (ETH_TYPE_IP, IPPROTO_ICMP),
        "tcp" => (ETH_TYPE_IP, IPPROTO_TCP),
        "udp" => (ETH_TYPE_IP, IPPROTO_UDP),
        "sctp" => (ETH_TYPE_IP, IPPROTO_SCTP),
        "ipv6" | "ip6" => (ETH_TYPE_IPV6, 0),
        "icmp6" => (ETH_TYPE_IPV6, IPPROTO_ICMPV6),
        "tcp6" => (ETH_TYPE_IPV6, IPPROTO_TCP),
        "udp6" => (ETH_TYPE_IPV6, IPPROTO_UDP),
        "sctp6" => (ETH_TYPE_IPV6, IPPROTO_SCTP),
        "rarp" => (ETH_TYPE_RARP, 0),
        "mpls" => (ETH_TYPE_MPLS, 0),
        "mplsm" => (ETH_TYPE_MPLS_MCAST, 0),
        _ => return None,
    })
}

/// C's `strtoll(s, &end, 0)` over the whole string, as upstream's
/// `str_to_*` helpers use it: leading white space, a sign, then hex (`0x`),
/// octal (leading `0`) or decimal digits and nothing after them.
pub fn c_number(s: &str) -> Option<i128> {
    let t = s.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let (neg, u) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let (radix, digits) = if (u.starts_with("0x") || u.starts_with("0X")) && u.len() > 2 {
        (16, &u[2..])
    } else if u.starts_with('0') && u.len() > 1 {
        (8, &u[1..])
    } else {
        (10, u)
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let v = i128::from_str_radix(digits, radix).ok()?;
    Some(if neg { -v } else { v })
}

/// C `strtoll(s, &end, 0)` over the whole string (no trailing garbage).
fn str_to_llong0(s: &str) -> Option<i64> {
    c_number(s).and_then(|v| i64::try_from(v).ok())
}

/// `str_to_u16`: a 16-bit number in C base-0 syntax.
fn str_to_u16(value: &str, name: &str) -> Result<u16, String> {
    match str_to_llong0(value) {
        Some(v) if (0..=i32::MAX as i64).contains(&v) && v <= 65535 => Ok(v as u16),
        _ => Err(format!("invalid {name} \"{value}\"")),
    }
}

/// `str_to_u64`: C `strtoull(s, _, 0)` over the whole string.
pub fn str_to_u64(value: &str) -> Result<u64, String> {
    let err = || format!("invalid numeric format {value}");
    let t = value.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let (neg, u) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let (radix, digits) = if (u.starts_with("0x") || u.starts_with("0X")) && u.len() > 2 {
        (16, &u[2..])
    } else if u.starts_with('0') && u.len() > 1 {
        (8, &u[1..])
    } else {
        (10, u)
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return Err(err());
    }
    let v = u64::from_str_radix(digits, radix).map_err(|_| err())?;
    Ok(if neg { v.wrapping_neg() } else { v })
}

/// Parses a table number (0..=255) or a name from `tables` as
/// ofputil_table_from_string; pushes the warning upstream would log.
pub fn parse_table(
    value: &str,
    tables: Option<&PortMap>,
    warnings: &mut Vec<Warning>,
) -> Option<u8> {
    let table_warning = |text: String| Warning {
        module: "ofp_table",
        site: "table",
        once: false,
        text,
    };
    if value.starts_with('-') {
        warnings.push(table_warning(format!(
            "Negative value {value} is not a valid table number."
        )));
        return None;
    }
    let Some(n) = crate::port::str_to_llong(value) else {
        let name = match value.strip_prefix('"') {
            Some(q) => crate::port::json_unescape(q.strip_suffix('"')?)?,
            None => value.to_string(),
        };
        return tables?.number(&name).and_then(|t| u8::try_from(t).ok());
    };
    if !(0..=u32::MAX as i64).contains(&n) {
        return None;
    }
    if n > 255 {
        warnings.push(table_warning(format!(
            "table {n} is outside the supported range 0 through 255"
        )));
        return None;
    }
    Some(n as u8)
}

/// Parses `value` for `field` into `m` (ofp_parse_field): an empty value
/// matches only the field's presence (`0/0`).
pub fn parse_field_into(
    m: &mut Match,
    field: FieldId,
    value: &str,
    ports: Option<&PortMap>,
    warnings: &mut Vec<Warning>,
) -> Result<Protocols, String> {
    let s = if value.is_empty() { "0/0" } else { value };
    if matches!(
        field.def().string,
        crate::field::MfString::OfpPort | crate::field::MfString::OfpPortOxm
    ) {
        warnings.extend(parse_port_logged(s, ports).1);
    }
    let (v, mask) = MfValue::parse_with_ports(field, s, ports)?;
    let p = m.set_field_masked(field, &v, &mask)?;
    m.add_ethernet_prereq(field);
    Ok(p)
}

/// Parses `name=value` where `name` is a subfield (`reg0[0..3]=5`) into `m`.
pub fn parse_subfield_into(m: &mut Match, name: &str, value: &str) -> Result<Protocols, String> {
    let sf = Subfield::parse(name)?;
    let d = sf.field.def();
    let mut val = MfValue::zero(d.n_bytes);
    let ok = {
        // Same integer syntax as field values: 0x hex of any width or C base 0.
        let r = MfValue::parse_integer(value, d.n_bytes);
        match r {
            Some(v) => {
                val = v;
                true
            }
            None => false,
        }
    };
    if !ok {
        return Err(format!("{name}: cannot parse integer value: {value}"));
    }
    for b in sf.n_bits..d.n_bytes * 8 {
        if val.bit(b) {
            return Err(format!(
                "{name}: value {} does not fit into {} bits",
                MfValue::format(sf.field, &val, None),
                sf.n_bits
            ));
        }
    }
    let (mut value_now, mut mask_now) = m.get_field(sf.field);
    sf.deposit(&mut value_now, &val);
    mask_now = mask_now.or(&sf.mask());
    let p = m.set_field_masked(sf.field, &value_now, &mask_now)?;
    m.add_ethernet_prereq(sf.field);
    Ok(p)
}

/// Parses a flow in ovs-ofctl(8) "Flow Syntax" (parse_ofp_str).  Errors
/// are the messages ovs-ofctl prints after `ovs-ofctl: `.  Warnings are in
/// the result's `warnings` (see [`parse_ofp_str_with_warnings`] to get them
/// on errors too).
pub fn parse_ofp_str(
    text: &str,
    kind: FlowStrKind,
    ports: Option<&PortMap>,
) -> Result<ParsedFlowMod, String> {
    let mut warnings = Vec::new();
    parse_ofp_str_with_warnings(text, kind, ports, &mut warnings)
}

/// Like [`parse_ofp_str`], appending every warning upstream would log to
/// `warnings` as it goes, so that they are available when parsing fails.
pub fn parse_ofp_str_with_warnings(
    text: &str,
    kind: FlowStrKind,
    ports: Option<&PortMap>,
    warnings: &mut Vec<Warning>,
) -> Result<ParsedFlowMod, String> {
    parse_ofp_str_with_maps(text, kind, ports, None, warnings)
}

/// Like [`parse_ofp_str_with_warnings`], also resolving `table=NAME` with
/// the switch's table names in `tables` (a [`PortMap`] of table names).
pub fn parse_ofp_str_with_maps(
    text: &str,
    kind: FlowStrKind,
    ports: Option<&PortMap>,
    tables: Option<&PortMap>,
    warnings: &mut Vec<Warning>,
) -> Result<ParsedFlowMod, String> {
    let first_warning = warnings.len();
    let mut fm = parse_ofp_str_inner(text, kind, ports, tables, warnings)?;
    fm.warnings = warnings[first_warning..].to_vec();
    Ok(fm)
}

fn parse_ofp_str_inner(
    text: &str,
    kind: FlowStrKind,
    ports: Option<&PortMap>,
    tables: Option<&PortMap>,
    warnings: &mut Vec<Warning>,
) -> Result<ParsedFlowMod, String> {
    let mut string = text;
    let command = match kind {
        FlowStrKind::FlowMod(c) => Some(c),
        FlowStrKind::FlowStats => None,
        FlowStrKind::FlowModAnyCommand => {
            string = string.trim_start_matches([' ', '\t', '\r', '\n']);
            let len = string
                .find([',', ' ', '\t', '\r', '\n'])
                .unwrap_or(string.len());
            let word = &string[..len];
            let prefix_of = |full: &str| full.starts_with(word);
            let (c, used) = if prefix_of("add") {
                (FlowModCommand::Add, len)
            } else if prefix_of("delete") {
                (FlowModCommand::Delete, len)
            } else if prefix_of("delete_strict") {
                (FlowModCommand::DeleteStrict, len)
            } else if prefix_of("modify") {
                (FlowModCommand::Modify, len)
            } else if prefix_of("modify_strict") {
                (FlowModCommand::ModifyStrict, len)
            } else {
                (FlowModCommand::Add, 0)
            };
            string = &string[used..];
            Some(c)
        }
    };
    let (f_out_port, f_actions, f_importance, f_timeout, f_priority, f_flags) = match command {
        None => (true, false, false, false, false, false),
        Some(FlowModCommand::Add) => (false, true, true, true, true, true),
        Some(FlowModCommand::Delete) => (true, false, false, false, false, false),
        Some(FlowModCommand::DeleteStrict) => (true, false, false, false, true, false),
        Some(FlowModCommand::Modify) | Some(FlowModCommand::ModifyStrict) => {
            (false, true, false, true, true, true)
        }
    };
    let mut fm = ParsedFlowMod {
        command,
        table_id: 0xff,
        priority: OFP_DEFAULT_PRIORITY,
        cookie: 0,
        cookie_mask: 0,
        new_cookie: if matches!(
            command,
            Some(FlowModCommand::Modify) | Some(FlowModCommand::ModifyStrict)
        ) {
            u64::MAX
        } else {
            0
        },
        modify_cookie: false,
        idle_timeout: 0,
        hard_timeout: 0,
        importance: 0,
        out_port: OFPP_ANY,
        out_group: OFPG_ANY,
        buffer_id: u32::MAX,
        flags: FlowModFlags::default(),
        match_: Match::catchall(),
        actions: None,
        ofpacts: Vec::new(),
        usable_protocols: Protocols::ANY,
        warnings: Vec::new(),
    };
    let mut usable = Protocols::ANY;
    let mut rest: &str = string;
    if f_actions {
        // Everything from the first "action" on is the actions part.
        match rest.find("action") {
            Some(at) => {
                let after = &rest[at + 1..];
                match after.find('=') {
                    Some(eq) => fm.actions = Some(after[eq + 1..].to_string()),
                    None => return Err("must specify an action".to_string()),
                }
                rest = &rest[..at];
            }
            None => return Err("must specify an action".to_string()),
        }
    }
    let mut cursor = rest;
    while let Some((name, value)) = next_pair(&mut cursor) {
        if let Some((dl_type, proto)) = parse_protocol_name(name) {
            fm.match_.set_dl_type(dl_type);
            if proto != 0 {
                fm.match_.set_nw_proto(proto);
            }
            fm.match_.set_default_packet_type();
        } else if name == "eth" {
            fm.match_.set_packet_type(PT_ETH);
        } else if f_flags && name == "send_flow_rem" {
            fm.flags.send_flow_rem = true;
        } else if f_flags && name == "check_overlap" {
            fm.flags.check_overlap = true;
        } else if f_flags && name == "reset_counts" {
            fm.flags.reset_counts = true;
            usable &= Protocols::OF12_UP;
        } else if f_flags && name == "no_packet_counts" {
            fm.flags.no_packet_counts = true;
            usable &= Protocols::OF13_UP;
        } else if f_flags && name == "no_byte_counts" {
            fm.flags.no_byte_counts = true;
            usable &= Protocols::OF13_UP;
        } else if name == "no_readonly_table" || name == "allow_hidden_fields" {
            // Accepted and ignored.
        } else if let Some(field) = FieldId::from_field_name(name) {
            usable &= parse_field_into(&mut fm.match_, field, value, ports, warnings)?;
        } else if name.contains('[') {
            usable &= parse_subfield_into(&mut fm.match_, name, value)?;
        } else {
            if value.is_empty() {
                return Err(format!("field {name} missing value"));
            }
            match name {
                "table" => {
                    fm.table_id = parse_table(value, tables, warnings)
                        .ok_or_else(|| format!("unknown table \"{value}\""))?;
                    if fm.table_id != 0xff {
                        usable &= Protocols::TID;
                    }
                }
                "out_port" if f_out_port => {
                    let (port, warning) = parse_port_logged(value, ports);
                    warnings.extend(warning);
                    fm.out_port =
                        port.ok_or_else(|| format!("{value} is not a valid OpenFlow port"))?;
                }
                "out_group" if f_out_port => {
                    usable &= Protocols::OF11_UP;
                    fm.out_group = parse_group(value)
                        .ok_or_else(|| format!("{value} is not a valid OpenFlow group"))?;
                }
                "priority" if f_priority => fm.priority = str_to_u16(value, name)?,
                "idle_timeout" if f_timeout => fm.idle_timeout = str_to_u16(value, name)?,
                "hard_timeout" if f_timeout => fm.hard_timeout = str_to_u16(value, name)?,
                "importance" if f_importance => fm.importance = str_to_u16(value, name)?,
                "cookie" => {
                    if let Some((v, m)) = value.split_once('/') {
                        if command == Some(FlowModCommand::Add) {
                            return Err("flow additions cannot use a cookie mask".to_string());
                        }
                        fm.cookie = str_to_u64(v)?;
                        fm.cookie_mask = str_to_u64(m)?;
                        if fm.cookie_mask != 0 {
                            usable &= Protocols::NXM_OF11_UP;
                        }
                    } else {
                        if !matches!(
                            command,
                            Some(FlowModCommand::Add)
                                | Some(FlowModCommand::Modify)
                                | Some(FlowModCommand::ModifyStrict)
                        ) {
                            return Err("cannot set cookie".to_string());
                        }
                        fm.new_cookie = str_to_u64(value)?;
                        fm.modify_cookie = true;
                    }
                }
                "duration" | "n_packets" | "n_bytes" | "idle_age" | "hard_age" => {
                    // Output of dump-flows may be fed back: ignored.
                }
                _ => return Err(format!("unknown keyword {name}")),
            }
        }
    }
    // A packet type in the Ethertype namespace implies the Ethertype.
    let m = &mut fm.match_;
    if m.wc.packet_type == u32::MAX && m.flow.packet_type >> 16 == OFPHTN_ETHERTYPE {
        m.flow.dl_type = m.flow.packet_type as u16;
    }
    if m.flow.dl_type == ETH_TYPE_IPV6
        && (m.wc.nw_proto != 0 || m.wc.nw_tos != 0 || m.wc.tp_src != 0 || m.wc.tp_dst != 0)
    {
        usable &= Protocols::NXM_OXM_ANY;
    }
    if fm.cookie_mask == 0
        && fm.new_cookie == u64::MAX
        && matches!(
            command,
            Some(FlowModCommand::Modify) | Some(FlowModCommand::ModifyStrict)
        )
    {
        fm.new_cookie = 0;
    }
    if let Some(text) = fm.actions.as_deref() {
        // Parsed, then checked against the match and table (ofpacts_check),
        // narrowing the usable protocols.
        fm.ofpacts = crate::actions::parse::parse_flow_actions(
            text,
            &fm.match_,
            fm.table_id,
            ports,
            warnings,
            &mut usable,
        )?;
    }
    fm.usable_protocols = usable;
    Ok(fm)
}

/// Parses a group number or `all`/`any` (ofputil_group_from_string).
pub fn parse_group(s: &str) -> Option<u32> {
    if s.eq_ignore_ascii_case("all") {
        return Some(0xffff_fffc);
    }
    if s.eq_ignore_ascii_case("any") {
        return Some(OFPG_ANY);
    }
    let n = crate::port::str_to_llong(s)?;
    if !(0..=0xffff_ff00).contains(&n) {
        return None;
    }
    Some(n as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn add(s: &str) -> Result<ParsedFlowMod, String> {
        parse_ofp_str(s, FlowStrKind::FlowMod(FlowModCommand::Add), None)
    }

    fn show(s: &str) -> String {
        match add(s) {
            Ok(fm) => format!(
                "{} | {}",
                fm.usable_protocols,
                fm.match_.format(fm.priority as i32)
            ),
            Err(e) => format!("error: {e}"),
        }
    }

    #[test]
    fn matches_and_protocols() {
        assert_eq!(show("tcp,tp_src=123,actions=flood"), "any | tcp,tp_src=123");
        assert_eq!(
            show("in_port=LOCAL dl_vlan=9 dl_src=00:0A:E4:25:6B:B0 actions=drop"),
            "any | in_port=LOCAL,dl_vlan=9,dl_src=00:0a:e4:25:6b:b0"
        );
        assert_eq!(
            show("udp dl_vlan_pcp=7 idle_timeout=5 actions=strip_vlan output:0"),
            "any | udp,dl_vlan_pcp=7"
        );
        assert_eq!(
            show("priority=60000 actions=controller"),
            "any | priority=60000"
        );
        assert_eq!(
            show("ipv6,nw_proto=1,actions=drop"),
            "NXM,OXM | ipv6,nw_proto=1"
        );
        assert_eq!(
            show("ip,nw_ecn=1,actions=drop"),
            "NXM,OXM,OpenFlow11 | ip,nw_ecn=1"
        );
        assert_eq!(
            show("tcp6,tcp_src=80,actions=drop"),
            "NXM,OXM | tcp6,tp_src=80"
        );
        assert_eq!(
            show("udp6,udp_dst[12]=1,actions=drop"),
            "NXM,OXM | udp6,tp_dst=0x1000/0x1000"
        );
        assert_eq!(show("reg3[]=3,actions=drop"), "NXM,OXM | reg3=0x3");
        assert_eq!(
            show("xxreg3[126..127]=3,actions=drop"),
            "NXM,OXM | reg12=0xc0000000/0xc0000000"
        );
        assert_eq!(
            show("tun_tos=0,actions=drop"),
            "error: actions are invalid with specified match (OFPBAC_MATCH_INCONSISTENT)"
        );
        assert_eq!(
            show("table=1,priority=0,actions=drop")
                .split(" | ")
                .next()
                .unwrap(),
            "OXM,OpenFlow10+table_id,NXM+table_id,OpenFlow11"
        );
        assert_eq!(
            show("packet_type=(1,0x800),nw_src=1.2.3.4,actions=drop"),
            "NXM,OXM | packet_type=(1,0x800),nw_src=1.2.3.4"
        );
    }

    #[test]
    fn errors() {
        assert_eq!(show("ip"), "error: must specify an action");
        assert_eq!(show("foo=1,actions=drop"), "error: unknown keyword foo");
        assert_eq!(show("nsh,actions=drop"), "error: field nsh missing value");
        assert_eq!(
            show("priority=70000,actions=drop"),
            "error: invalid priority \"70000\""
        );
        assert_eq!(show("table=x,actions=drop"), "error: unknown table \"x\"");
        assert_eq!(
            show("cookie=x,actions=drop"),
            "error: invalid numeric format x"
        );
        assert_eq!(
            show("cookie=1/1,actions=drop"),
            "error: flow additions cannot use a cookie mask"
        );
        assert_eq!(
            show("out_port=1,actions=drop"),
            "error: unknown keyword out_port"
        );
        assert_eq!(
            show("reg0[3]=2,actions=drop"),
            "error: reg0[3]: value 0x2 does not fit into 1 bits"
        );
        assert_eq!(
            show("reg0[3]=x,actions=drop"),
            "error: reg0[3]: cannot parse integer value: x"
        );
    }

    #[test]
    fn flow_mod_fields() {
        let fm = add("cookie=0x123456789abcdef hard_timeout=10 priority=010 send_flow_rem actions=controller").unwrap();
        assert_eq!(fm.new_cookie, 0x123456789abcdef);
        assert_eq!((fm.hard_timeout, fm.priority), (10, 8));
        assert!(fm.flags.send_flow_rem);
        assert_eq!(fm.actions.as_deref(), Some("controller"));
        let fm = parse_ofp_str(
            "delete_strict priority=5,in_port=1",
            FlowStrKind::FlowModAnyCommand,
            None,
        )
        .unwrap();
        assert_eq!(
            (fm.command, fm.priority),
            (Some(FlowModCommand::DeleteStrict), 5)
        );
        assert_eq!(fm.actions, None);
        let fm = parse_ofp_str("out_port=2,cookie=1/-1", FlowStrKind::FlowStats, None).unwrap();
        assert_eq!((fm.out_port, fm.cookie, fm.cookie_mask), (2, 1, u64::MAX));
        let fm = add("in_port=65280,actions=drop").unwrap();
        assert_eq!(fm.warnings.len(), 1);
        assert_eq!(fm.warnings[0].module, "ofp_port");
        let mut w = Vec::new();
        let e = parse_ofp_str_with_warnings(
            "in_port=70000,actions=drop",
            FlowStrKind::FlowMod(FlowModCommand::Add),
            None,
            &mut w,
        );
        assert_eq!(e.unwrap_err(), "70000: invalid or unknown port for in_port");
        assert_eq!(w.len(), 1);
        let e = parse_ofp_str_with_warnings(
            "table=-1,actions=drop",
            FlowStrKind::FlowMod(FlowModCommand::Add),
            None,
            &mut w,
        );
        assert_eq!(e.unwrap_err(), "unknown table \"-1\"");
        assert_eq!(
            (w[1].module, w[1].text.as_str()),
            (
                "ofp_table",
                "Negative value -1 is not a valid table number."
            )
        );
    }
}

/// Parses `FIELD=VALUE[,FIELD=VALUE]...` into an exact flow and the mask
/// of the fields given (parse_ofp_exact_flow, used by ofproto/trace and
/// packet-out): fields must come in an order that satisfies prerequisites,
/// and each may be given once.  Missing `in_port` becomes `OFPP_NONE`.
pub fn parse_ofp_exact_flow(
    s: &str,
    ports: Option<&PortMap>,
) -> Result<(packet::Flow, packet::Flow), String> {
    let mut flow = packet::Flow::default();
    let mut mask = packet::Flow::default();
    let mut cursor = s;
    while let Some((key, value)) = next_pair(&mut cursor) {
        if let Some((dl_type, proto)) = parse_protocol_name(key) {
            if flow.dl_type != 0 {
                return Err(format!("{s}: Ethernet type set multiple times"));
            }
            flow.dl_type = dl_type;
            mask.dl_type = 0xffff;
            if proto != 0 {
                if flow.nw_proto != 0 {
                    return Err(format!("{s}: network protocol set multiple times"));
                }
                flow.nw_proto = proto;
                mask.nw_proto = 0xff;
            }
            continue;
        }
        let field =
            FieldId::from_field_name(key).ok_or_else(|| format!("{s}: unknown field {key}"))?;
        if !field.prereqs_ok(&flow, None) {
            return Err(format!("{s}: prerequisites not met for setting {key}"));
        }
        let is_set = match field.tun_metadata_index() {
            Some(i) => flow.tunnel.metadata.present & (1 << i) != 0,
            None => !field.get(&flow).is_zero(),
        };
        if is_set {
            return Err(format!("{s}: field {key} set multiple times"));
        }
        let v = MfValue::parse_value(field, value, ports)
            .map_err(|e| format!("{s}: bad value for {key} ({e})"))?;
        field.set(&mut flow, &v);
        // A packet type in the Ethertype namespace carries its Ethertype
        // (so that `packet_type=(1,0x800),nw_src=...` meets IPv4's
        // prerequisites), as upstream's flow setter does.
        if field == FieldId::PacketType && flow.packet_type >> 16 == OFPHTN_ETHERTYPE {
            flow.dl_type = flow.packet_type as u16;
        }
        let mut m = Match {
            flow: packet::Flow::default(),
            wc: mask,
        };
        m.set_field(field, &MfValue::ones(field.def().n_bytes));
        mask = m.wc;
    }
    if flow.in_port == 0 {
        flow.in_port = crate::port::OFPP_NONE;
    }
    Ok((flow, mask))
}

#[cfg(test)]
mod exact_tests {
    use super::*;

    #[test]
    fn exact_flow() {
        let (f, m) = parse_ofp_exact_flow("in_port=1,tcp,nw_src=1.2.3.4,tcp_dst=80", None).unwrap();
        assert_eq!(
            (f.in_port, f.dl_type, f.nw_proto, f.nw_src, f.tp_dst),
            (1, 0x800, 6, 0x01020304, 80)
        );
        assert_eq!((m.nw_src, m.tp_dst), (u32::MAX, 0xffff));
        let (f, _) = parse_ofp_exact_flow("dl_src=00:00:00:00:00:01", None).unwrap();
        assert_eq!(f.in_port, 0xffff);
        assert_eq!(
            parse_ofp_exact_flow("tcp_dst=80", None).unwrap_err(),
            "tcp_dst=80: prerequisites not met for setting tcp_dst"
        );
        assert_eq!(
            parse_ofp_exact_flow("ip,udp", None).unwrap_err(),
            "ip,udp: Ethernet type set multiple times"
        );
        assert_eq!(
            parse_ofp_exact_flow("foo=1", None).unwrap_err(),
            "foo=1: unknown field foo"
        );
        assert_eq!(
            parse_ofp_exact_flow("reg0=1,reg0=2", None).unwrap_err(),
            "reg0=1,reg0=2: field reg0 set multiple times"
        );
        assert_eq!(
            parse_ofp_exact_flow("reg0=1/1", None).unwrap_err(),
            "reg0=1/1: bad value for reg0 (1/1: wildcards not allowed here)"
        );
    }
}

/// The lines of a flow file as ovs-ofctl reads them
/// (ds_get_preprocessed_line): `#` starts a comment, lines that are blank
/// after that are skipped.  Yields (1-based line number, text).
pub fn preprocessed_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.split('\n').enumerate().filter_map(|(i, line)| {
        let line = line.strip_suffix('\r').unwrap_or(line);
        let line = match line.find('#') {
            Some(c) => &line[..c],
            None => line,
        };
        if line.trim_matches([' ', '\t', '\n']).is_empty() {
            None
        } else {
            Some((i + 1, line))
        }
    })
}

/// Parses every flow of a flow file (parse_ofp_flow_mod_file): errors are
/// prefixed with `file_name:line: `; the usable protocols are those every
/// flow allows.  A trailing empty line after the last newline is ignored.
pub fn parse_ofp_flow_mod_file(
    text: &str,
    file_name: &str,
    kind: FlowStrKind,
    ports: Option<&PortMap>,
) -> Result<(Vec<ParsedFlowMod>, Protocols), String> {
    let mut out = Vec::new();
    let mut usable = Protocols::ANY;
    for (line_no, line) in preprocessed_lines(text) {
        let fm =
            parse_ofp_str(line, kind, ports).map_err(|e| format!("{file_name}:{line_no}: {e}"))?;
        usable &= fm.usable_protocols;
        out.push(fm);
    }
    Ok((out, usable))
}

#[cfg(test)]
mod file_tests {
    use super::*;

    #[test]
    fn flow_files() {
        let text =
            "\n# comment\ntcp,tp_src=123,actions=flood\n  \nreg0=1 actions=drop # trailing\n";
        let lines: Vec<_> = preprocessed_lines(text).collect();
        assert_eq!(
            lines,
            vec![
                (3, "tcp,tp_src=123,actions=flood"),
                (5, "reg0=1 actions=drop ")
            ]
        );
        let (fms, usable) = parse_ofp_flow_mod_file(
            text,
            "f.txt",
            FlowStrKind::FlowMod(FlowModCommand::Add),
            None,
        )
        .unwrap();
        assert_eq!(fms.len(), 2);
        assert_eq!(usable.to_string(), "NXM,OXM");
        let err = parse_ofp_flow_mod_file(
            "ip,actions=drop\nfoo=1,actions=drop\n",
            "f.txt",
            FlowStrKind::FlowModAnyCommand,
            None,
        )
        .unwrap_err();
        assert_eq!(err, "f.txt:2: unknown keyword foo");
    }
}
