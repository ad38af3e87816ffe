//! The field services actions use, over the field registry: subfields,
//! field values and their text, and bit operations on big-endian values.

pub use crate::field::{FieldId, MfHeader};
pub use crate::subfield::Subfield;
pub use crate::value::MfValue;

/// The 32-bit header NXAST actions use for `field` (its NXM header, else
/// its oldest standard OXM header); `None` for experimenter-only fields.
pub fn header32(field: FieldId) -> Option<MfHeader> {
    let def = field.def();
    def.nxm
        .as_ref()
        .or(def.oxm.first())
        .filter(|h| h.class != 0xffff)
        .map(|h| MfHeader::new(h, false, def.n_bytes))
}

/// Upstream's error for a field without a 32-bit header.
pub fn require_header32(whole: &str, sf_text: &str, field: FieldId) -> Result<(), String> {
    if header32(field).is_none() {
        return Err(format!(
            "{whole}: experimenter OXM field '{sf_text}' not supported"
        ));
    }
    Ok(())
}

/// Width of a field in bits.
pub fn field_bits(field: FieldId) -> usize {
    field.def().n_bits
}

/// Width of a field in bytes.
pub fn field_bytes(field: FieldId) -> usize {
    field.def().n_bytes
}

/// Prints a subfield as `NAME[]`, `NAME[bit]` or `NAME[start..end]`.
pub fn format_subfield(sf: &Subfield) -> String {
    sf.to_string()
}

/// Hex text of a big-endian byte string as upstream's `ds_put_hex`:
/// `0` for zero, else `0x` and the significant digits.
pub fn format_hex_value(bytes: &[u8]) -> String {
    crate::value_str::put_hex(bytes)
}

/// Parses an integer (C base-0 syntax, hex of any length) into `n`
/// big-endian bytes; `None` on syntax errors or overflow.
pub fn parse_int_bytes(s: &str, n: usize) -> Option<Vec<u8>> {
    MfValue::parse_integer(s, n).map(|v| v.as_bytes().to_vec())
}

/// Parses `value[/mask]` for `field` (upstream's `mf_parse`).
pub fn parse_value(field: FieldId, s: &str) -> Result<(Vec<u8>, Vec<u8>), String> {
    let (v, m) = MfValue::parse(field, s)?;
    Ok((v.as_bytes().to_vec(), m.as_bytes().to_vec()))
}

/// Prints `value[/mask]` for `field` (upstream's `mf_format`); an all-ones
/// mask is omitted.
pub fn format_value(field: FieldId, value: &[u8], mask: Option<&[u8]>) -> String {
    let v = MfValue::from_bytes(value);
    let m = mask.map(MfValue::from_bytes);
    MfValue::format(field, &v, m.as_ref())
}

/// Prints an Ethernet address.
pub fn format_mac(m: &[u8]) -> String {
    crate::value_str::format_eth(m)
}

/// True if `mask` has every bit of `field`'s bytes set: upstream's test of
/// an unmasked set-field, so that `load:1->ip_dscp` (6 of 8 bits) stays
/// masked.
pub fn is_all_ones_for(field: FieldId, mask: &[u8]) -> bool {
    mask.len() >= field.def().n_bytes && mask.iter().all(|b| *b == 0xff)
}

/// Bit `bit` (0 = least significant) of a big-endian byte string.
pub fn get_bit(bytes: &[u8], bit: usize) -> bool {
    let n = bytes.len();
    bit < n * 8 && bytes[n - 1 - bit / 8] & (1 << (bit % 8)) != 0
}

/// Sets or clears bit `bit` of a big-endian byte string.
pub fn set_bit(bytes: &mut [u8], bit: usize, on: bool) {
    let n = bytes.len();
    if bit < n * 8 {
        let b = &mut bytes[n - 1 - bit / 8];
        if on {
            *b |= 1 << (bit % 8);
        } else {
            *b &= !(1 << (bit % 8));
        }
    }
}

/// Copies `n_bits` bits from `src` at `src_ofs` into `dst` at `dst_ofs`
/// (big-endian byte strings, bit 0 least significant).
pub fn copy_bits(src: &[u8], src_ofs: usize, dst: &mut [u8], dst_ofs: usize, n_bits: usize) {
    for i in 0..n_bits {
        set_bit(dst, dst_ofs + i, get_bit(src, src_ofs + i));
    }
}

/// True if the field may only be written inside `ct` (ct_mark, ct_label).
pub fn field_requires_ct(field: FieldId) -> bool {
    matches!(field, FieldId::CtMark | FieldId::CtLabel)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits() {
        let mut v = vec![0u8; 2];
        set_bit(&mut v, 9, true);
        assert_eq!(v, [2, 0]);
        assert!(get_bit(&v, 9));
        let mut w = vec![0u8; 2];
        copy_bits(&v, 8, &mut w, 0, 4);
        assert_eq!(w, [0, 2]);
        assert!(is_all_ones_for(FieldId::VlanPcp, &[0xff]));
        assert!(!is_all_ones_for(FieldId::VlanPcp, &[7]));
    }
}
