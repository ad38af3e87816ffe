//! NXM/OXM headers as they appear on the wire.
//!
//! A header is 32 bits: class (16), field (7), has-mask (1), length (8).
//! `length` counts the payload bytes that follow the 32-bit header: the
//! value, the mask when has-mask is set (same size), and for experimenter
//! OXMs (class `0xffff`) the 4-byte experimenter ID that follows the header.

use super::MfHeaderDef;

/// The OXM class of experimenter fields.
pub const OFPXMC12_EXPERIMENTER: u16 = 0xffff;

/// One NXM/OXM header.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MfHeader {
    pub class: u16,
    /// Field number (0..=127).
    pub field: u8,
    pub has_mask: bool,
    /// Payload length in bytes (value, mask, experimenter ID).
    pub length: u8,
    /// Experimenter ID, meaningful only when `class == 0xffff`.
    pub experimenter: u32,
}

impl MfHeader {
    /// Header for a field identity with a value of `value_len` bytes.
    pub fn new(def: &MfHeaderDef, has_mask: bool, value_len: usize) -> MfHeader {
        let mut h = MfHeader {
            class: def.class,
            field: def.field,
            has_mask,
            length: 0,
            experimenter: def.experimenter,
        };
        h.set_value_len(value_len);
        h
    }

    /// True for experimenter (64-bit) headers.
    pub fn is_experimenter(&self) -> bool {
        self.class == OFPXMC12_EXPERIMENTER
    }

    /// Size of the header on the wire: 4, or 8 with an experimenter ID.
    pub fn header_len(&self) -> usize {
        if self.is_experimenter() {
            8
        } else {
            4
        }
    }

    /// Length of the value alone (without mask and experimenter ID).
    pub fn value_len(&self) -> usize {
        let mut n = self.length as usize;
        if self.is_experimenter() {
            n = n.saturating_sub(4);
        }
        if self.has_mask {
            n / 2
        } else {
            n
        }
    }

    /// Sets `length` for a value of `value_len` bytes (saturating at 255).
    pub fn set_value_len(&mut self, value_len: usize) {
        let mut n = value_len * if self.has_mask { 2 } else { 1 };
        if self.is_experimenter() {
            n += 4;
        }
        self.length = n.min(255) as u8;
    }

    /// The same header with has-mask set or cleared (length adjusted).
    pub fn with_mask(&self, has_mask: bool) -> MfHeader {
        let len = self.value_len();
        let mut h = *self;
        h.has_mask = has_mask;
        h.set_value_len(len);
        h
    }

    /// The first 32 bits.
    pub fn to_u32(&self) -> u32 {
        (self.class as u32) << 16
            | ((self.field as u32) & 0x7f) << 9
            | (self.has_mask as u32) << 8
            | self.length as u32
    }

    /// The 32-bit header followed by the experimenter ID (0 if none).
    pub fn to_u64(&self) -> u64 {
        (self.to_u32() as u64) << 32
            | if self.is_experimenter() {
                self.experimenter as u64
            } else {
                0
            }
    }

    /// Decodes a 32-bit header (experimenter ID 0).
    pub fn from_u32(h: u32) -> MfHeader {
        MfHeader {
            class: (h >> 16) as u16,
            field: ((h >> 9) & 0x7f) as u8,
            has_mask: h & 0x100 != 0,
            length: h as u8,
            experimenter: 0,
        }
    }

    /// Decodes a header in the `to_u64` form.
    pub fn from_u64(h: u64) -> MfHeader {
        let mut m = MfHeader::from_u32((h >> 32) as u32);
        m.experimenter = h as u32;
        m
    }

    /// Reads a header from the start of `bytes`; returns it and its size,
    /// or `None` if `bytes` is too short.
    pub fn pull(bytes: &[u8]) -> Option<(MfHeader, usize)> {
        let first: [u8; 4] = bytes.get(..4)?.try_into().ok()?;
        let mut h = MfHeader::from_u32(u32::from_be_bytes(first));
        if h.is_experimenter() {
            let exp: [u8; 4] = bytes.get(4..8)?.try_into().ok()?;
            h.experimenter = u32::from_be_bytes(exp);
            Some((h, 8))
        } else {
            Some((h, 4))
        }
    }

    /// Appends the header (4 or 8 bytes) to `out`.
    pub fn put(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_u32().to_be_bytes());
        if self.is_experimenter() {
            out.extend_from_slice(&self.experimenter.to_be_bytes());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_experimenter() {
        let h = MfHeader::from_u64(0xffff_1805_0000_2320);
        assert!(h.is_experimenter());
        assert_eq!(h.value_len(), 1);
        let mut v = Vec::new();
        h.put(&mut v);
        assert_eq!(v, [0xff, 0xff, 0x18, 0x05, 0, 0, 0x23, 0x20]);
        assert_eq!(MfHeader::pull(&v), Some((h, 8)));
        let m = h.with_mask(true);
        assert_eq!(m.length, 6);
        assert_eq!(m.value_len(), 1);
        assert_eq!(MfHeader::pull(&v[..6]), None);
    }

    #[test]
    fn plain_header() {
        let h = MfHeader::from_u32(0x0000_0c04);
        assert_eq!((h.class, h.field, h.has_mask, h.length), (0, 6, false, 4));
        assert_eq!(h.with_mask(true).to_u32(), 0x0000_0d08);
    }
}
