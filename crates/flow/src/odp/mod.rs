//! Datapath (ODP) flows: what the datapath matches on and what it does.
//!
//! Upstream's datapath interface describes a megaflow as a flow *key* (a
//! list of netlink-style attributes: `recirc_id(0),in_port(1),eth(…),…`),
//! a *mask* of the same shape, and a list of datapath actions. This module
//! owns that vocabulary and its text, exactly as `ovs-appctl
//! dpctl/dump-flows` prints it and `dpctl/add-flow` parses it:
//!
//! - [`key`]: the key attributes ([`KeyAttr`]), conversion from a
//!   [`packet::Flow`] and its wildcard mask ([`key_from_flow`],
//!   [`mask_from_flow`]) and back ([`key_to_flow`], [`mask_to_flow`]).
//! - [`key_format`]: [`format_key`], the dump text (terse and `-m`).
//! - [`key_parse`]: [`parse_key`], the text `dpctl/add-flow` takes.
//! - [`Ufid`]: the unique flow identifier dumps print as `ufid:…`.
//! - [`actions`]: datapath actions (`OdpAction`), owned by the xlate room.

pub mod actions;
pub mod key;
pub mod key_format;
pub mod key_parse;

pub use key::{
    key_from_flow, key_to_flow, mask_from_flow, mask_to_flow, normalize_mask, ArpKey, CtTuple4,
    CtTuple6, Fitness, Ipv4Key, Ipv6Key, KeyAttr, NdKey, Support, TunAttr, ODPP_NONE,
};
pub use key_format::{format_key, PortNames};
pub use key_parse::{parse_key, KeyParseError};

use std::fmt;

/// A unique flow identifier (128 bits), printed as `ufid:` and a UUID.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Ufid(pub u128);

impl fmt::Display for Ufid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let v = self.0;
        write!(
            f,
            "ufid:{:08x}-{:04x}-{:04x}-{:04x}-{:04x}{:08x}",
            (v >> 96) as u32,
            (v >> 80) as u16,
            (v >> 64) as u16,
            (v >> 48) as u16,
            (v >> 32) as u16,
            v as u32
        )
    }
}

impl Ufid {
    /// Parses `ufid:XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX` at the start of
    /// `s`; returns the ufid and the rest of `s`. `None` when `s` does not
    /// start with `ufid:`; `Some(Err)` when what follows is not a UUID.
    pub fn scan(s: &str) -> Option<Result<(Ufid, &str), String>> {
        let rest = s.strip_prefix("ufid:")?;
        let groups = [8usize, 4, 4, 4, 12];
        let mut v: u128 = 0;
        let mut pos = 0;
        let b = rest.as_bytes();
        for (i, n) in groups.iter().enumerate() {
            if i > 0 {
                if b.get(pos) != Some(&b'-') {
                    return Some(Err(format!("ufid: invalid UUID {rest}")));
                }
                pos += 1;
            }
            for _ in 0..*n {
                let d = match b.get(pos).and_then(|c| (*c as char).to_digit(16)) {
                    Some(d) => d,
                    None => return Some(Err(format!("ufid: invalid UUID {rest}"))),
                };
                v = (v << 4) | d as u128;
                pos += 1;
            }
        }
        Some(Ok((Ufid(v), &rest[pos..])))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ufid_text_round_trip() {
        let u = Ufid(0x3d67dc33_1ea2_4ca9_a803_cba8f14a37ab);
        let s = u.to_string();
        assert_eq!(s, "ufid:3d67dc33-1ea2-4ca9-a803-cba8f14a37ab");
        let text = format!("{s}, x");
        let (p, rest) = Ufid::scan(&text).unwrap().unwrap();
        assert_eq!(p, u);
        assert_eq!(rest, ", x");
        assert!(Ufid::scan("in_port(1)").is_none());
        assert!(Ufid::scan("ufid:3d67").unwrap().is_err());
    }
}
