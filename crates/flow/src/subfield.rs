//! Subfields: a run of bits of one field, written `field[]`,
//! `field[bit]` or `field[start..end]`, where `field` is an ovs-fields(7)
//! name or an NXM/OXM name (`NXM_NX_REG0[5..10]`, `reg0[5]`,
//! `tun_metadata3[1..8]`).  Parsing and printing follow Open vSwitch's
//! mf_parse_subfield and mf_format_subfield, including error messages.

use crate::field::FieldId;
use crate::value::MfValue;
use std::fmt;

/// `n_bits` bits of `field` starting at bit `ofs` (0 = least significant).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Subfield {
    pub field: FieldId,
    pub ofs: usize,
    pub n_bits: usize,
}

/// Scans C `%d` after a literal prefix; returns the number and the rest.
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

/// Field named `name`: an NXM/OXM name (optionally with the `_W` suffix)
/// or an ovs-fields(7) name or alias.
fn field_by_subfield_name(name: &str) -> Option<FieldId> {
    if let Some(id) = FieldId::from_nxm_name_exact(name) {
        return Some(id);
    }
    if let Some(base) = name.strip_suffix("_W") {
        if let Some(id) = FieldId::from_nxm_name_exact(base) {
            return Some(id);
        }
    }
    FieldId::from_field_name(name)
}

impl FieldId {
    /// Field with exactly this NXM/OXM name (case-sensitive).
    pub fn from_nxm_name_exact(name: &str) -> Option<FieldId> {
        FieldId::ALL.into_iter().find(|id| {
            let d = id.def();
            d.nxm.iter().chain(d.oxm.iter()).any(|h| h.name == name)
        })
    }

    /// The name used when printing subfields: the NXM name, else the
    /// oldest OXM name, else the field name.
    pub fn subfield_name(self) -> &'static str {
        let d = self.def();
        d.nxm
            .map(|h| h.name)
            .or_else(|| d.oxm.first().map(|h| h.name))
            .unwrap_or(d.name)
    }
}

impl Subfield {
    /// The whole of `field`.
    pub fn whole(field: FieldId) -> Subfield {
        Subfield {
            field,
            ofs: 0,
            n_bits: field.def().n_bits,
        }
    }

    /// Parses a subfield at the start of `s`; returns it and the rest of
    /// `s` (mf_parse_subfield__).  The field name ends at `[` or `-`.
    pub fn parse_prefix(s: &str) -> Result<(Subfield, &str), String> {
        let name_len = s.find(['[', '-']).unwrap_or(s.len());
        let name = &s[..name_len];
        let field =
            field_by_subfield_name(name).ok_or_else(|| format!("{s}: unknown field `{name}'"))?;
        let n_bits = field.def().n_bits as i64;
        let mut rest = &s[name_len..];
        let (mut start, mut end) = (0i64, n_bits - 1);
        if rest.starts_with('[') {
            let syntax =
                || format!("{s}: syntax error expecting [] or [<bit>] or [<start>..<end>]");
            if rest.starts_with("[]") {
                rest = &rest[2..];
            } else {
                let (a, r) = scan_int(&rest[1..]).ok_or_else(syntax)?;
                if let Some(r) = r.strip_prefix("..") {
                    let (b, r) = scan_int(r).ok_or_else(syntax)?;
                    let r = r.strip_prefix(']').ok_or_else(syntax)?;
                    start = a;
                    end = b;
                    rest = r;
                } else if let Some(r) = r.strip_prefix(']') {
                    start = a;
                    end = a;
                    rest = r;
                } else {
                    return Err(syntax());
                }
            }
        }
        if start > end {
            return Err(format!(
                "{s}: starting bit {start} is after ending bit {end}"
            ));
        }
        if start >= n_bits {
            return Err(format!(
                "{s}: starting bit {start} is not valid because field is only {n_bits} bits wide"
            ));
        }
        if end >= n_bits {
            return Err(format!(
                "{s}: ending bit {end} is not valid because field is only {n_bits} bits wide"
            ));
        }
        if start < 0 {
            return Err(format!(
                "{s}: syntax error expecting [] or [<bit>] or [<start>..<end>]"
            ));
        }
        Ok((
            Subfield {
                field,
                ofs: start as usize,
                n_bits: (end - start + 1) as usize,
            },
            rest,
        ))
    }

    /// Parses exactly one subfield (mf_parse_subfield).
    pub fn parse(s: &str) -> Result<Subfield, String> {
        let (sf, rest) = Subfield::parse_prefix(s)?;
        if !rest.is_empty() {
            return Err("unexpected input following field syntax".to_string());
        }
        Ok(sf)
    }

    /// True if this covers the whole field.
    pub fn is_whole(&self) -> bool {
        self.ofs == 0 && self.n_bits == self.field.def().n_bits
    }

    /// Mask of the subfield's bits within the field's width.
    pub fn mask(&self) -> MfValue {
        let mut m = MfValue::zero(self.field.def().n_bytes);
        for b in self.ofs..self.ofs + self.n_bits {
            m.set_bit(b, true);
        }
        m
    }

    /// Reads the subfield's bits from a field value, right-aligned into a
    /// value of the field's width.
    pub fn extract(&self, value: &MfValue) -> MfValue {
        let mut out = MfValue::zero(value.len());
        for b in 0..self.n_bits {
            out.set_bit(b, value.bit(self.ofs + b));
        }
        out
    }

    /// Writes the low `n_bits` of `bits` into the subfield's bits of `value`.
    pub fn deposit(&self, value: &mut MfValue, bits: &MfValue) {
        for b in 0..self.n_bits {
            value.set_bit(self.ofs + b, bits.bit(b));
        }
    }
}

impl Subfield {
    /// The subfield's bits in `flow`, right-aligned in a value of the
    /// field's width (mf_get_subfield).
    pub fn read(&self, flow: &packet::Flow) -> MfValue {
        self.extract(&self.field.get(flow))
    }

    /// Writes the low `n_bits` of `bits` into the subfield of `flow`
    /// (mf_set_subfield_value / the effect of `load`).
    pub fn write(&self, flow: &mut packet::Flow, bits: &MfValue) {
        let mut v = self.field.get(flow);
        self.deposit(&mut v, bits);
        self.field.set(flow, &v);
    }

    /// Makes `m` match the low `n_bits` of `bits` in this subfield exactly,
    /// keeping the rest of the field's match (mf_write_subfield).
    pub fn write_match(&self, m: &mut crate::Match, bits: &MfValue) -> crate::Protocols {
        let (mut value, mut mask) = m.get_field(self.field);
        self.deposit(&mut value, bits);
        mask = mask.or(&self.mask());
        m.set_field_masked(self.field, &value, &mask)
            .unwrap_or(crate::Protocols::NONE)
    }
}

impl fmt::Display for Subfield {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.field.subfield_name())?;
        if self.is_whole() {
            f.write_str("[]")
        } else if self.n_bits == 1 {
            write!(f, "[{}]", self.ofs)
        } else {
            write!(f, "[{}..{}]", self.ofs, self.ofs + self.n_bits - 1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_forms() {
        let sf = Subfield::parse("NXM_OF_IN_PORT[]").unwrap();
        assert_eq!((sf.field, sf.ofs, sf.n_bits), (FieldId::InPort, 0, 16));
        let sf = Subfield::parse("reg0[0..15]").unwrap();
        assert_eq!((sf.field, sf.ofs, sf.n_bits), (FieldId::Reg0, 0, 16));
        let sf = Subfield::parse("NXM_NX_REG1[5]").unwrap();
        assert_eq!((sf.field, sf.ofs, sf.n_bits), (FieldId::Reg1, 5, 1));
        let sf = Subfield::parse("tun_metadata3[1..8]").unwrap();
        assert_eq!((sf.field, sf.ofs, sf.n_bits), (FieldId::TunMetadata3, 1, 8));
        let sf = Subfield::parse("NXM_OF_ETH_DST_W[]").unwrap();
        assert_eq!(sf.to_string(), "NXM_OF_ETH_DST[]");
        let sf = Subfield::parse("reg3").unwrap();
        assert!(sf.is_whole());
        let (sf, rest) = Subfield::parse_prefix("reg0[]->reg1[]").unwrap();
        assert_eq!((sf.field, rest), (FieldId::Reg0, "->reg1[]"));
    }

    #[test]
    fn errors() {
        assert_eq!(
            Subfield::parse("reg0[40]").unwrap_err(),
            "reg0[40]: starting bit 40 is not valid because field is only 32 bits wide"
        );
        assert_eq!(
            Subfield::parse("reg0[5..3]").unwrap_err(),
            "reg0[5..3]: starting bit 5 is after ending bit 3"
        );
        assert_eq!(
            Subfield::parse("reg0[0..40]").unwrap_err(),
            "reg0[0..40]: ending bit 40 is not valid because field is only 32 bits wide"
        );
        assert_eq!(
            Subfield::parse("reg0[zz]").unwrap_err(),
            "reg0[zz]: syntax error expecting [] or [<bit>] or [<start>..<end>]"
        );
        assert_eq!(
            Subfield::parse("foo[]").unwrap_err(),
            "foo[]: unknown field `foo'"
        );
        assert_eq!(
            Subfield::parse("reg0[0..3]x").unwrap_err(),
            "unexpected input following field syntax"
        );
    }

    #[test]
    fn format_names() {
        assert_eq!(
            Subfield::parse("reg0[]").unwrap().to_string(),
            "NXM_NX_REG0[]"
        );
        assert_eq!(
            Subfield::parse("xreg0[]").unwrap().to_string(),
            "OXM_OF_PKT_REG0[]"
        );
        assert_eq!(
            Subfield::parse("in_port_oxm[]").unwrap().to_string(),
            "OXM_OF_IN_PORT[]"
        );
        assert_eq!(
            Subfield::parse("reg0[5]").unwrap().to_string(),
            "NXM_NX_REG0[5]"
        );
        assert_eq!(
            Subfield::parse("eth_src[0..7]").unwrap().to_string(),
            "NXM_OF_ETH_SRC[0..7]"
        );
    }

    #[test]
    fn read_write_flow_and_match() {
        let sf = Subfield::parse("reg1[8..15]").unwrap();
        let mut f = packet::Flow::default();
        sf.write(&mut f, &MfValue::from_u64(4, 0xab));
        assert_eq!(f.regs[1], 0xab00);
        assert_eq!(sf.read(&f).to_u64(), 0xab);
        let mut m = crate::Match::catchall();
        sf.write_match(&mut m, &MfValue::from_u64(4, 0x12));
        assert_eq!(m.to_string(), "reg1=0x1200/0xff00");
    }

    #[test]
    fn bits() {
        let sf = Subfield::parse("reg0[4..7]").unwrap();
        assert_eq!(sf.mask().to_u64(), 0xf0);
        let v = MfValue::from_u64(4, 0xab);
        assert_eq!(sf.extract(&v).to_u64(), 0xa);
        let mut w = MfValue::zero(4);
        sf.deposit(&mut w, &MfValue::from_u64(4, 0x5));
        assert_eq!(w.to_u64(), 0x50);
    }
}
