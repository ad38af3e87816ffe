//! OpenFlow 1.4-style TLV properties (`ofp_prop_header`): 16-bit type and
//! length, padded to 8 bytes.

use crate::errors::OfpErr;
use crate::wire::{pad8, Put, Reader};

/// Pulls one property; returns its type and body (without header/padding).
pub fn pull_property<'a>(r: &mut Reader<'a>) -> Result<(u16, &'a [u8]), OfpErr> {
    let bad = OfpErr::OFPBPC_BAD_LEN;
    let mut head = *r;
    let ptype = head.u16().ok_or(bad)?;
    let len = usize::from(head.u16().ok_or(bad)?);
    if len < 4 || pad8(len) > r.remaining() {
        return Err(bad);
    }
    let whole = r.bytes(pad8(len)).ok_or(bad)?;
    Ok((ptype, &whole[4..len]))
}

/// Appends a property with `body`, padded to 8 bytes.
pub fn put_property(out: &mut Vec<u8>, ptype: u16, body: &[u8]) {
    out.put_u16(ptype);
    out.put_u16((4 + body.len()) as u16);
    out.extend_from_slice(body);
    out.put_zeros(pad8(4 + body.len()) - 4 - body.len());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_bad_lengths() {
        let mut b = Vec::new();
        put_property(&mut b, 3, &[1, 2, 3]);
        assert_eq!(b.len(), 8);
        let mut r = Reader::new(&b);
        assert_eq!(pull_property(&mut r), Ok((3, &[1u8, 2, 3][..])));
        assert!(r.is_empty());
        let mut r = Reader::new(&[0, 1, 0, 2, 0, 0, 0, 0]);
        assert_eq!(pull_property(&mut r), Err(OfpErr::OFPBPC_BAD_LEN));
    }
}
