//! `MfValue`: the value (or mask) of one field as big-endian bytes of the
//! field's width (at most 128 bytes), with conversions to and from integers.
//!
//! Parsing and formatting of values in the text syntax of ovs-fields(7) are
//! in [`crate::value_str`].

use std::fmt;

/// Largest field width in bytes (tunnel metadata is 124).
pub const MF_VALUE_MAX: usize = 128;

/// A field value or mask: `len` big-endian bytes.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct MfValue {
    len: u8,
    buf: [u8; MF_VALUE_MAX],
}

impl MfValue {
    /// All-zero value of `n_bytes` (clamped to 128).
    pub fn zero(n_bytes: usize) -> MfValue {
        MfValue {
            len: n_bytes.min(MF_VALUE_MAX) as u8,
            buf: [0; MF_VALUE_MAX],
        }
    }

    /// All-ones value of `n_bytes` (clamped to 128).
    pub fn ones(n_bytes: usize) -> MfValue {
        let mut v = MfValue::zero(n_bytes);
        v.as_bytes_mut().fill(0xff);
        v
    }

    /// Value with exactly these bytes (at most 128 are kept).
    pub fn from_bytes(bytes: &[u8]) -> MfValue {
        let mut v = MfValue::zero(bytes.len());
        let n = v.len();
        v.buf[..n].copy_from_slice(&bytes[..n]);
        v
    }

    /// `n_bytes`-wide value holding the low bytes of `x`.
    pub fn from_u64(n_bytes: usize, x: u64) -> MfValue {
        MfValue::from_u128(n_bytes, x as u128)
    }

    /// `n_bytes`-wide value holding the low bytes of `x`.
    pub fn from_u128(n_bytes: usize, x: u128) -> MfValue {
        let mut v = MfValue::zero(n_bytes);
        let be = x.to_be_bytes();
        let n = v.len();
        if n >= 16 {
            v.buf[n - 16..n].copy_from_slice(&be);
        } else {
            v.buf[..n].copy_from_slice(&be[16 - n..]);
        }
        v
    }

    /// Width in bytes.
    pub fn len(&self) -> usize {
        self.len as usize
    }

    /// True if the width is zero.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len as usize]
    }

    pub fn as_bytes_mut(&mut self) -> &mut [u8] {
        &mut self.buf[..self.len as usize]
    }

    /// The low 64 bits.
    pub fn to_u64(&self) -> u64 {
        self.to_u128() as u64
    }

    /// The low 128 bits.
    pub fn to_u128(&self) -> u128 {
        self.as_bytes()
            .iter()
            .fold(0u128, |acc, b| acc << 8 | *b as u128)
    }

    pub fn is_zero(&self) -> bool {
        self.as_bytes().iter().all(|b| *b == 0)
    }

    pub fn is_all_ones(&self) -> bool {
        self.as_bytes().iter().all(|b| *b == 0xff)
    }

    /// Bitwise AND with `other` (same width assumed; extra bytes are kept).
    pub fn and(&self, other: &MfValue) -> MfValue {
        let mut r = *self;
        for (a, b) in r.as_bytes_mut().iter_mut().zip(other.as_bytes()) {
            *a &= *b;
        }
        r
    }

    /// Bitwise OR with `other`.
    pub fn or(&self, other: &MfValue) -> MfValue {
        let mut r = *self;
        for (a, b) in r.as_bytes_mut().iter_mut().zip(other.as_bytes()) {
            *a |= *b;
        }
        r
    }

    /// Bitwise NOT.
    pub fn not(&self) -> MfValue {
        let mut r = *self;
        for a in r.as_bytes_mut() {
            *a = !*a;
        }
        r
    }

    /// Value of bit `ofs` counted from the least significant bit.
    pub fn bit(&self, ofs: usize) -> bool {
        let n = self.len();
        ofs < n * 8 && self.buf[n - 1 - ofs / 8] & (1 << (ofs % 8)) != 0
    }

    /// Sets bit `ofs` (from the least significant bit) to `on`.
    pub fn set_bit(&mut self, ofs: usize, on: bool) {
        let n = self.len();
        if ofs < n * 8 {
            let b = &mut self.buf[n - 1 - ofs / 8];
            if on {
                *b |= 1 << (ofs % 8);
            } else {
                *b &= !(1 << (ofs % 8));
            }
        }
    }

    /// Number of bytes from the first nonzero byte to the end (0 if zero).
    pub fn significant_bytes(&self) -> usize {
        let b = self.as_bytes();
        b.len() - b.iter().take_while(|x| **x == 0).count()
    }
}

impl fmt::Debug for MfValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MfValue(")?;
        for b in self.as_bytes() {
            write!(f, "{b:02x}")?;
        }
        write!(f, ")")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers() {
        let v = MfValue::from_u64(2, 0x12345);
        assert_eq!(v.as_bytes(), &[0x23, 0x45]);
        assert_eq!(v.to_u64(), 0x2345);
        let v = MfValue::from_u128(16, 1 << 100);
        assert_eq!(v.to_u128(), 1 << 100);
        let v = MfValue::from_u64(124, 0x1ff);
        assert_eq!(v.significant_bytes(), 2);
        assert!(v.bit(8) && v.bit(0) && !v.bit(9));
    }

    #[test]
    fn bits() {
        let mut v = MfValue::zero(4);
        v.set_bit(31, true);
        v.set_bit(0, true);
        assert_eq!(v.to_u64(), 0x8000_0001);
        assert!(!v.is_zero());
        assert!(MfValue::ones(3).is_all_ones());
        assert_eq!(v.not().to_u64(), 0x7fff_fffe);
    }
}
