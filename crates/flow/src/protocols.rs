//! Sets of OpenFlow protocol variants ([`Protocols`]), as Open vSwitch's
//! `enum ofputil_protocol`: which combination of OpenFlow version, match
//! format (OF1.0 fixed match, NXM, OF1.1 fixed match, OXM) and the
//! flow_mod_table_id extension can express a flow.  Includes the text forms
//! ovs-ofctl prints ("usable protocols: NXM,OXM") and accepts (`-F`).

use std::fmt;
use std::ops::{BitAnd, BitAndAssign, BitOr, BitOrAssign, Not};

/// A set of protocol variants (bit set).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Protocols(pub u32);

impl Protocols {
    /// OpenFlow 1.0 fixed match, no table_id in flow_mods.
    pub const OF10_STD: Protocols = Protocols(1 << 0);
    /// OpenFlow 1.0 fixed match with the flow_mod_table_id extension.
    pub const OF10_STD_TID: Protocols = Protocols(1 << 1);
    /// OpenFlow 1.0 with NXM matches.
    pub const OF10_NXM: Protocols = Protocols(1 << 2);
    /// OpenFlow 1.0 with NXM matches and table_id.
    pub const OF10_NXM_TID: Protocols = Protocols(1 << 3);
    /// OpenFlow 1.1 fixed match.
    pub const OF11_STD: Protocols = Protocols(1 << 4);
    pub const OF12_OXM: Protocols = Protocols(1 << 5);
    pub const OF13_OXM: Protocols = Protocols(1 << 6);
    pub const OF14_OXM: Protocols = Protocols(1 << 7);
    pub const OF15_OXM: Protocols = Protocols(1 << 8);

    pub const NONE: Protocols = Protocols(0);
    pub const OF10_STD_ANY: Protocols = Protocols(0x3);
    pub const OF10_NXM_ANY: Protocols = Protocols(0xc);
    pub const OF10_ANY: Protocols = Protocols(0xf);
    pub const ANY_OXM: Protocols = Protocols(0x1e0);
    pub const NXM_OXM_ANY: Protocols = Protocols(0xc | 0x1e0);
    pub const OF11_UP: Protocols = Protocols(0x10 | 0x1e0);
    pub const OF12_UP: Protocols = Protocols(0x1e0);
    pub const OF13_UP: Protocols = Protocols(0x1c0);
    pub const OF14_UP: Protocols = Protocols(0x180);
    pub const OF15_UP: Protocols = Protocols(0x100);
    /// NXM or OpenFlow 1.1 and later.
    pub const NXM_OF11_UP: Protocols = Protocols(0xc | 0x10 | 0x1e0);
    /// Variants able to carry a table_id in flow_mods.
    pub const TID: Protocols = Protocols(0x2 | 0x8 | 0x10 | 0x1e0);
    pub const ANY: Protocols = Protocols(0x1ff);

    /// True if no variant is in the set.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// True if every variant of `other` is in `self`.
    pub fn contains(self, other: Protocols) -> bool {
        self.0 & other.0 == other.0
    }

    /// Name of a single variant, as ovs-ofctl prints it.
    pub fn single_name(self) -> Option<&'static str> {
        Some(match self.0 {
            0x001 => "OpenFlow10-table_id",
            0x002 => "OpenFlow10+table_id",
            0x004 => "NXM-table_id",
            0x008 => "NXM+table_id",
            0x010 => "OpenFlow11",
            0x020 => "OXM-OpenFlow12",
            0x040 => "OXM-OpenFlow13",
            0x080 => "OXM-OpenFlow14",
            0x100 => "OXM-OpenFlow15",
            _ => return None,
        })
    }

    /// The single variants in the set, lowest bit first.
    pub fn iter(self) -> impl Iterator<Item = Protocols> {
        (0..9)
            .map(|i| Protocols(1 << i))
            .filter(move |p| self.contains(*p))
    }

    /// Parses a comma-separated list of protocol names or abbreviations
    /// (`any`, `OpenFlow10`, `NXM`, `OXM`, `OXM-OpenFlow13`, ...), case
    /// insensitively.  Returns `None` on an unknown name.
    pub fn parse(s: &str) -> Option<Protocols> {
        let mut p = Protocols::NONE;
        for name in s.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            p |= Protocols::parse_one(name)?;
        }
        Some(p)
    }

    fn parse_one(name: &str) -> Option<Protocols> {
        let abbrevs = [
            ("any", Protocols::ANY),
            ("OpenFlow10", Protocols::OF10_STD_ANY),
            ("NXM", Protocols::OF10_NXM_ANY),
            ("OXM", Protocols::ANY_OXM),
        ];
        if let Some((_, p)) = abbrevs.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)) {
            return Some(*p);
        }
        Protocols::ANY.iter().find(|p| {
            p.single_name()
                .is_some_and(|n| n.eq_ignore_ascii_case(name))
        })
    }
}

impl fmt::Display for Protocols {
    /// Abbreviations first (`any`, `OpenFlow10`, `NXM`, `OXM`), then the
    /// remaining single variants, comma-separated; `none` for the empty
    /// set.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return f.write_str("none");
        }
        let abbrevs = [
            (Protocols::ANY, "any"),
            (Protocols::OF10_STD_ANY, "OpenFlow10"),
            (Protocols::OF10_NXM_ANY, "NXM"),
            (Protocols::ANY_OXM, "OXM"),
        ];
        let mut left = *self;
        let mut parts: Vec<&str> = Vec::new();
        while !left.is_empty() {
            if let Some((p, n)) = abbrevs.iter().find(|(p, _)| left.contains(*p)) {
                parts.push(n);
                left &= !*p;
                continue;
            }
            let bit = Protocols(left.0 & left.0.wrapping_neg());
            parts.push(bit.single_name().unwrap_or("unknown"));
            left &= !bit;
        }
        f.write_str(&parts.join(","))
    }
}

impl BitAnd for Protocols {
    type Output = Protocols;
    fn bitand(self, o: Protocols) -> Protocols {
        Protocols(self.0 & o.0)
    }
}

impl BitOr for Protocols {
    type Output = Protocols;
    fn bitor(self, o: Protocols) -> Protocols {
        Protocols(self.0 | o.0)
    }
}

impl BitAndAssign for Protocols {
    fn bitand_assign(&mut self, o: Protocols) {
        self.0 &= o.0;
    }
}

impl BitOrAssign for Protocols {
    fn bitor_assign(&mut self, o: Protocols) {
        self.0 |= o.0;
    }
}

impl Not for Protocols {
    type Output = Protocols;
    fn not(self) -> Protocols {
        Protocols(!self.0 & Protocols::ANY.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_forms() {
        assert_eq!(Protocols::ANY.to_string(), "any");
        assert_eq!(Protocols::NXM_OXM_ANY.to_string(), "NXM,OXM");
        assert_eq!(
            (Protocols::NXM_OXM_ANY | Protocols::OF11_STD).to_string(),
            "NXM,OXM,OpenFlow11"
        );
        let p = Protocols::ANY_OXM
            | Protocols::OF10_STD_TID
            | Protocols::OF10_NXM_TID
            | Protocols::OF11_STD;
        assert_eq!(
            p.to_string(),
            "OXM,OpenFlow10+table_id,NXM+table_id,OpenFlow11"
        );
        assert_eq!(Protocols::OF10_STD.to_string(), "OpenFlow10-table_id");
        assert_eq!(Protocols::NONE.to_string(), "none");
    }

    #[test]
    fn parse_names() {
        assert_eq!(Protocols::parse("nxm"), Some(Protocols::OF10_NXM_ANY));
        assert_eq!(
            Protocols::parse("OpenFlow10,NXM"),
            Some(Protocols::OF10_ANY)
        );
        assert_eq!(
            Protocols::parse("OXM-OpenFlow13"),
            Some(Protocols::OF13_OXM)
        );
        assert_eq!(Protocols::parse("bogus"), None);
    }
}
