//! Text helpers shared by the datapath-action printers and parsers: the
//! number forms upstream prints (`%#x` prints `0` for zero) and a small
//! cursor with scanf-like number scanning (`%i`: `0x` hex, leading-`0`
//! octal, decimal).

use std::fmt::Write;

/// `%#x`: `0` for zero, `0x…` otherwise.
pub fn hex0(v: u128) -> String {
    if v == 0 {
        "0".to_string()
    } else {
        format!("{v:#x}")
    }
}

/// `xx:xx:xx:xx:xx:xx`.
pub fn eth(mac: &[u8; 6]) -> String {
    crate::value_str::format_eth(mac)
}

/// Dotted quad of a host-order IPv4 address.
pub fn ip4(a: u32) -> String {
    let b = a.to_be_bytes();
    format!("{}.{}.{}.{}", b[0], b[1], b[2], b[3])
}

/// IPv6 address as inet_ntop prints it.
pub fn ip6(a: &[u8; 16]) -> String {
    crate::value_str::format_ipv6(a)
}

/// Lower-case hex of every byte.
pub fn hex_bytes(b: &[u8]) -> String {
    let mut s = String::with_capacity(b.len() * 2);
    for x in b {
        let _ = write!(s, "{x:02x}");
    }
    s
}

/// Removes one trailing `c` if present (upstream's `ds_chomp`).
pub fn chomp(s: &mut String, c: char) {
    if s.ends_with(c) {
        s.pop();
    }
}

/// Parse failure: upstream reports every datapath-action syntax error as
/// EINVAL ("Invalid argument") without more detail.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OdpParseError(pub String);

impl std::fmt::Display for OdpParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for OdpParseError {}

/// Result of the parsers.
pub type PResult<T> = Result<T, OdpParseError>;

/// A position in the text being parsed.
#[derive(Clone, Copy, Debug)]
pub struct Cursor<'a> {
    pub s: &'a str,
    /// Port names an `output` may use instead of a number (upstream's
    /// `port_names` of `odp_actions_from_string`).
    pub ports: Option<&'a PortNames>,
}

/// Port name → datapath port number.
pub type PortNames = std::collections::BTreeMap<String, u32>;

impl<'a> Cursor<'a> {
    pub fn new(s: &'a str) -> Self {
        Cursor { s, ports: None }
    }

    pub fn err<T>(&self, what: &str) -> PResult<T> {
        Err(OdpParseError(format!("{what} at `{}`", truncate(self.s))))
    }

    pub fn is_empty(&self) -> bool {
        self.s.is_empty()
    }

    pub fn peek(&self) -> Option<char> {
        self.s.chars().next()
    }

    pub fn skip_ws(&mut self) {
        self.s = self.s.trim_start();
    }

    /// Consumes `lit` if the text starts with it.
    pub fn eat(&mut self, lit: &str) -> bool {
        if let Some(rest) = self.s.strip_prefix(lit) {
            self.s = rest;
            true
        } else {
            false
        }
    }

    /// Consumes `lit` or fails.
    pub fn expect(&mut self, lit: &str) -> PResult<()> {
        if self.eat(lit) {
            Ok(())
        } else {
            self.err(&format!("expected `{lit}`"))
        }
    }

    /// True if the text starts with `lit` (nothing consumed).
    pub fn at(&self, lit: &str) -> bool {
        self.s.starts_with(lit)
    }

    /// Takes characters while `f` holds.
    pub fn take_while(&mut self, f: impl Fn(char) -> bool) -> &'a str {
        let n = self.s.find(|c: char| !f(c)).unwrap_or(self.s.len());
        let (a, b) = self.s.split_at(n);
        self.s = b;
        a
    }

    /// `%i`-style unsigned number (hex with 0x, octal with leading 0).
    pub fn num_auto(&mut self) -> PResult<u128> {
        let neg = self.eat("-");
        let v = if self.at("0x") || self.at("0X") {
            self.s = &self.s[2..];
            let d = self.take_while(|c| c.is_ascii_hexdigit());
            parse_radix(d, 16)
        } else if self.at("0") {
            let d = self.take_while(|c| c.is_ascii_digit());
            if d.len() > 1 {
                parse_radix(&d[1..], 8)
            } else {
                Some(0)
            }
        } else {
            let d = self.take_while(|c| c.is_ascii_digit());
            parse_radix(d, 10)
        };
        match v {
            Some(v) if !neg => Ok(v),
            Some(v) => Ok(v.wrapping_neg()),
            None => self.err("expected a number"),
        }
    }

    /// `%u`-style decimal number.
    pub fn num_dec(&mut self) -> PResult<u128> {
        let d = self.take_while(|c| c.is_ascii_digit());
        parse_radix(d, 10).map_or_else(|| self.err("expected a decimal number"), Ok)
    }

    /// `%x`-style hex number (optional 0x prefix).
    pub fn num_hex(&mut self) -> PResult<u128> {
        if !self.eat("0x") {
            self.eat("0X");
        }
        let d = self.take_while(|c| c.is_ascii_hexdigit());
        parse_radix(d, 16).map_or_else(|| self.err("expected a hex number"), Ok)
    }

    /// Number fitting in `bits` bits (`%i` form).
    pub fn uint(&mut self, bits: u32) -> PResult<u128> {
        let save = *self;
        let v = self.num_auto()?;
        if bits < 128 && v >> bits != 0 {
            return save.err("number out of range");
        }
        Ok(v)
    }

    pub fn u8(&mut self) -> PResult<u8> {
        Ok(self.uint(8)? as u8)
    }
    pub fn u16(&mut self) -> PResult<u16> {
        Ok(self.uint(16)? as u16)
    }
    pub fn u32(&mut self) -> PResult<u32> {
        Ok(self.uint(32)? as u32)
    }
    pub fn u64(&mut self) -> PResult<u64> {
        Ok(self.uint(64)? as u64)
    }

    /// `xx:xx:xx:xx:xx:xx`.
    pub fn eth(&mut self) -> PResult<[u8; 6]> {
        let mut m = [0u8; 6];
        for (i, b) in m.iter_mut().enumerate() {
            if i > 0 {
                self.expect(":")?;
            }
            let d = self.take_while(|c| c.is_ascii_hexdigit());
            if d.is_empty() || d.len() > 2 {
                return self.err("bad Ethernet address");
            }
            *b = u8::from_str_radix(d, 16)
                .map_err(|_| OdpParseError("bad Ethernet address".into()))?;
        }
        Ok(m)
    }

    /// Dotted-quad IPv4 address (host order).
    pub fn ip4(&mut self) -> PResult<u32> {
        let t = self.take_while(|c| c.is_ascii_digit() || c == '.');
        match t.parse::<std::net::Ipv4Addr>() {
            Ok(a) => Ok(u32::from(a)),
            Err(_) => self.err("bad IPv4 address"),
        }
    }

    /// IPv6 address (stops at `,`, `)`, `/`, `]`).
    pub fn ip6(&mut self) -> PResult<[u8; 16]> {
        let t = self.take_while(|c| c.is_ascii_hexdigit() || c == ':' || c == '.');
        match t.parse::<std::net::Ipv6Addr>() {
            Ok(a) => Ok(a.octets()),
            Err(_) => self.err("bad IPv6 address"),
        }
    }

    /// Text up to (not including) the first of `stops` at nesting depth 0
    /// of parentheses.
    pub fn balanced_until(&mut self, stops: &[char]) -> &'a str {
        let mut depth = 0i32;
        let mut end = self.s.len();
        for (i, c) in self.s.char_indices() {
            match c {
                '(' => depth += 1,
                ')' if depth == 0 && stops.contains(&c) => {
                    end = i;
                    break;
                }
                ')' if depth == 0 => {}
                ')' => depth -= 1,
                _ if depth == 0 && stops.contains(&c) => {
                    end = i;
                    break;
                }
                _ => {}
            }
        }
        let (a, b) = self.s.split_at(end);
        self.s = b;
        a
    }
}

fn parse_radix(d: &str, radix: u32) -> Option<u128> {
    if d.is_empty() {
        return None;
    }
    u128::from_str_radix(d, radix).ok()
}

fn truncate(s: &str) -> &str {
    match s.char_indices().nth(40) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_scan_like_percent_i() {
        assert_eq!(Cursor::new("0x1f,").num_auto().unwrap(), 31);
        assert_eq!(Cursor::new("017").num_auto().unwrap(), 15);
        assert_eq!(Cursor::new("0").num_auto().unwrap(), 0);
        assert_eq!(Cursor::new("42)").num_auto().unwrap(), 42);
        assert!(Cursor::new("x").num_auto().is_err());
        assert!(Cursor::new("256").u8().is_err());
    }

    #[test]
    fn hex0_prints_zero_bare() {
        assert_eq!(hex0(0), "0");
        assert_eq!(hex0(255), "0xff");
    }

    #[test]
    fn balanced_stops_at_depth_zero() {
        let mut c = Cursor::new("a(b,c),d)");
        assert_eq!(c.balanced_until(&[',', ')']), "a(b,c)");
        assert_eq!(c.s, ",d)");
    }
}
