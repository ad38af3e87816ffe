//! OpenFlow port numbers in text: `LOCAL`, `CONTROLLER`, numbers, and names
//! from a switch's port list (the counterpart of ofputil_port_from_string and
//! ofputil_format_port).  Numbers here are in the OpenFlow 1.0 16-bit space
//! (reserved ports are 0xfff8..=0xffff); see [`crate::field::access`] for
//! the mapping to OpenFlow 1.1+.

/// Reserved OF1.0 port numbers and their names, as printed.
pub const NAMED_PORTS: [(&str, u32); 8] = [
    ("IN_PORT", 0xfff8),
    ("TABLE", 0xfff9),
    ("NORMAL", 0xfffa),
    ("FLOOD", 0xfffb),
    ("ALL", 0xfffc),
    ("CONTROLLER", 0xfffd),
    ("LOCAL", 0xfffe),
    ("ANY", 0xffff),
];

/// `OFPP_NONE` (same number as `ANY`).
pub const OFPP_NONE: u32 = 0xffff;
/// First reserved OF1.0 port.
pub const OFPP_FIRST_RESV: u32 = 0xfff8;

/// Port names of a switch, for `in_port=eth0` and for printing names.
#[derive(Clone, Debug, Default)]
pub struct PortMap {
    ports: Vec<(String, u32)>,
}

impl PortMap {
    pub fn new() -> PortMap {
        PortMap::default()
    }

    /// Adds a port name and number.
    pub fn insert(&mut self, name: &str, number: u32) {
        self.ports.push((name.to_string(), number));
    }

    /// Number of the port called `name`, unless that name is ambiguous
    /// (given to several port numbers).
    pub fn number(&self, name: &str) -> Option<u32> {
        let mut it = self
            .ports
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, p)| *p);
        let first = it.next()?;
        if it.any(|p| p != first) {
            return None;
        }
        Some(first)
    }

    /// Name of port `number`, if it has exactly one name and that name
    /// belongs to no other port.
    pub fn name(&self, number: u32) -> Option<&str> {
        let mut it = self.ports.iter().filter(|(_, p)| *p == number);
        let first = it.next()?;
        if it.any(|(n, _)| *n != first.0) || self.number(&first.0).is_none() {
            return None;
        }
        Some(&first.0)
    }
}

/// A warning upstream logs while parsing text (through its log module
/// `module` at level WARN).  Warnings with `once` set are logged by upstream
/// only the first time their `site` is reached in a process.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Warning {
    pub module: &'static str,
    pub site: &'static str,
    pub once: bool,
    pub text: String,
}

impl Warning {
    fn port(site: &'static str, once: bool, text: String) -> Warning {
        Warning {
            module: "ofp_port",
            site,
            once,
            text,
        }
    }
}

/// Result of parsing a port: the number and any warning upstream would log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParsedPort {
    pub port: u32,
    pub warning: Option<Warning>,
}

/// Parses a decimal like C's `strtoll(s, _, 10)` requiring the whole
/// string to be consumed; returns `None` on syntax error or overflow.
pub(crate) fn str_to_llong(s: &str) -> Option<i64> {
    let t = s.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let (neg, digits) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let v: i64 = digits.parse().ok()?;
    Some(if neg { -v } else { v })
}

/// Parses a port as ovs-ofctl does: a decimal number (OF1.1+ reserved
/// numbers 0xffffff00.. are mapped to OF1.0's), a reserved name
/// (case-insensitive), or a name from `map`.  `None` means invalid.
pub fn parse_port(s: &str, map: Option<&PortMap>) -> Option<ParsedPort> {
    let (port, warning) = parse_port_logged(s, map);
    port.map(|port| ParsedPort { port, warning })
}

/// Like [`parse_port`], also returning the warning upstream logs when the
/// port is invalid (negative or out of range).
pub fn parse_port_logged(s: &str, map: Option<&PortMap>) -> (Option<u32>, Option<Warning>) {
    if s.starts_with('-') {
        let w = Warning::port(
            "negative",
            false,
            format!("Negative value {s} is not a valid port number."),
        );
        return (None, Some(w));
    }
    if let Some(n) = str_to_llong(s) {
        if !(0..=u32::MAX as i64).contains(&n) {
            return (None, None);
        }
        let mut port = n as u32;
        let mut warning = None;
        if port < 0xff00 {
        } else if port < OFPP_FIRST_RESV {
            warning = Some(Warning::port(
                "reserved_of10",
                false,
                format!(
                    "port {} is a reserved OF1.0 port number that will be translated to {} when talking to an OF1.1 or later controller",
                    port,
                    port.wrapping_add(0xffff_0000)
                ),
            ));
        } else if port <= 0xffff {
            warning = Some(Warning::port(
                "deprecated_number",
                true,
                format!(
                    "referring to port {} as {} is deprecated for compatibility with OpenFlow 1.1 and later",
                    format_port(port, None),
                    port
                ),
            ));
        } else if port < 0xffff_ff00 {
            let w = Warning::port(
                "out_of_range",
                false,
                format!("port {port} is outside the supported range 0 through ffff or 0xffffff00 through 0xffffffff"),
            );
            return (None, Some(w));
        } else {
            port -= 0xffff_0000;
        }
        return (Some(port), warning);
    }
    if s.eq_ignore_ascii_case("NONE") {
        return (Some(OFPP_NONE), None);
    }
    if let Some((_, p)) = NAMED_PORTS.iter().find(|(n, _)| n.eq_ignore_ascii_case(s)) {
        return (Some(*p), None);
    }
    let Some(map) = map else { return (None, None) };
    let name = if s.starts_with('"') {
        match s
            .len()
            .checked_sub(1)
            .filter(|n| *n >= 1 && s.ends_with('"'))
            .and_then(|_| json_unescape(&s[1..s.len() - 1]))
        {
            Some(n) => n,
            None => return (None, None),
        }
    } else {
        s.to_string()
    };
    (map.number(&name), None)
}

/// Unescapes the inside of a JSON string; `None` if malformed.
pub fn json_unescape(s: &str) -> Option<String> {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            if c == '"' || (c as u32) < 0x20 {
                return None;
            }
            out.push(c);
            continue;
        }
        match chars.next()? {
            '"' => out.push('"'),
            '\\' => out.push('\\'),
            '/' => out.push('/'),
            'b' => out.push('\u{8}'),
            'f' => out.push('\u{c}'),
            'n' => out.push('\n'),
            'r' => out.push('\r'),
            't' => out.push('\t'),
            'u' => {
                let hex: String = chars.by_ref().take(4).collect();
                let v = u32::from_str_radix(&hex, 16)
                    .ok()
                    .filter(|_| hex.len() == 4)?;
                out.push(char::from_u32(v)?);
            }
            _ => return None,
        }
    }
    Some(out)
}

/// A port or table name as printed: bare if it starts with a letter and is
/// all letters and digits, otherwise as a JSON string (namemap_put_name).
pub fn put_name(name: &str) -> String {
    let mut b = name.bytes();
    let bare =
        b.next().is_some_and(|c| c.is_ascii_alphabetic()) && b.all(|c| c.is_ascii_alphanumeric());
    if bare {
        return name.to_string();
    }
    let mut out = String::from('"');
    for c in name.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Formats an OF1.0 port number: reserved names, a mapped name, or decimal.
pub fn format_port(port: u32, map: Option<&PortMap>) -> String {
    if let Some((n, _)) = NAMED_PORTS.iter().find(|(_, p)| *p == port) {
        return n.to_string();
    }
    if let Some(name) = map.and_then(|m| m.name(port)) {
        return put_name(name);
    }
    port.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_names_and_numbers() {
        assert_eq!(parse_port("LOCAL", None).unwrap().port, 0xfffe);
        assert_eq!(parse_port("local", None).unwrap().port, 0xfffe);
        assert_eq!(parse_port("in_port", None).unwrap().port, 0xfff8);
        assert_eq!(parse_port("5", None).unwrap().port, 5);
        assert_eq!(parse_port("4294967294", None).unwrap().port, 0xfffe);
        assert!(parse_port("65280", None).unwrap().warning.is_some());
        assert!(parse_port("0x10", None).is_none());
        assert!(parse_port("-1", None).is_none());
        let (p, w) = parse_port_logged("70000", None);
        assert_eq!(p, None);
        assert_eq!(
            w.unwrap().text,
            "port 70000 is outside the supported range 0 through ffff or 0xffffff00 through 0xffffffff"
        );
        let (_, w) = parse_port_logged("65533", None);
        let w = w.unwrap();
        assert!(w.once);
        assert_eq!(w.text, "referring to port CONTROLLER as 65533 is deprecated for compatibility with OpenFlow 1.1 and later");
        assert!(parse_port("70000", None).is_none());
        let mut m = PortMap::new();
        m.insert("eth0", 3);
        assert_eq!(parse_port("eth0", Some(&m)).unwrap().port, 3);
        assert_eq!(parse_port("\"eth0\"", Some(&m)).unwrap().port, 3);
        assert!(parse_port("eth1", Some(&m)).is_none());
    }

    #[test]
    fn format_ports() {
        assert_eq!(format_port(0xfffd, None), "CONTROLLER");
        assert_eq!(format_port(0xffff, None), "ANY");
        assert_eq!(format_port(65280, None), "65280");
        let mut m = PortMap::new();
        m.insert("p1", 1);
        assert_eq!(format_port(1, Some(&m)), "p1");
        m.insert("br-0", 2);
        m.insert("a\"b", 3);
        assert_eq!(format_port(2, Some(&m)), "\"br-0\"");
        assert_eq!(format_port(3, Some(&m)), "\"a\\\"b\"");
        assert_eq!(parse_port("\"a\\\"b\"", Some(&m)).unwrap().port, 3);
        m.insert("dup", 4);
        m.insert("dup", 5);
        assert_eq!(format_port(4, Some(&m)), "4");
        assert!(parse_port("dup", Some(&m)).is_none());
    }
}
