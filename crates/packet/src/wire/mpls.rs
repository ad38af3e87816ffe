//! MPLS label stack entries.

use std::fmt;

use super::{rd32, view, wr32, Error, Result};

/// Length of one label stack entry.
pub const LSE_LEN: usize = 4;

view!(
    /// One MPLS label stack entry: label (20 bits), traffic class (3),
    /// bottom of stack (1), TTL (8).
    MplsLse
);

impl<T: AsRef<[u8]>> MplsLse<T> {
    pub fn check_len(&self) -> Result<()> {
        if self.b().len() < LSE_LEN {
            return Err(Error::Truncated);
        }
        Ok(())
    }
    /// The whole entry as one word.
    pub fn lse(&self) -> u32 {
        rd32(self.b(), 0)
    }
    pub fn label(&self) -> u32 {
        self.lse() >> 12
    }
    pub fn tc(&self) -> u8 {
        ((self.lse() >> 9) & 7) as u8
    }
    pub fn bos(&self) -> bool {
        self.lse() & 0x100 != 0
    }
    pub fn ttl(&self) -> u8 {
        self.lse() as u8
    }
    /// What follows this entry (the next entry, or the payload after the
    /// bottom of stack).
    pub fn payload(&self) -> &[u8] {
        &self.b()[LSE_LEN..]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> MplsLse<T> {
    pub fn set_lse(&mut self, v: u32) {
        wr32(self.bm(), 0, v)
    }
}

/// A label stack entry.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct MplsRepr {
    /// 0..=0xfffff.
    pub label: u32,
    /// 0..=7.
    pub tc: u8,
    pub bos: bool,
    pub ttl: u8,
}

impl MplsRepr {
    pub fn parse<T: AsRef<[u8]>>(h: &MplsLse<T>) -> Result<Self> {
        h.check_len()?;
        Ok(Self::from_lse(h.lse()))
    }
    pub fn from_lse(v: u32) -> Self {
        MplsRepr {
            label: v >> 12,
            tc: ((v >> 9) & 7) as u8,
            bos: v & 0x100 != 0,
            ttl: v as u8,
        }
    }
    pub fn lse(&self) -> u32 {
        ((self.label & 0xfffff) << 12)
            | ((self.tc as u32 & 7) << 9)
            | ((self.bos as u32) << 8)
            | self.ttl as u32
    }
    pub fn buffer_len(&self) -> usize {
        LSE_LEN
    }
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, h: &mut MplsLse<T>) {
        h.set_lse(self.lse());
    }
}

impl fmt::Display for MplsRepr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "MPLS (label {}, tc {}{}, ttl {})",
            self.label,
            self.tc,
            if self.bos { ", [S]" } else { "" },
            self.ttl
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lse_fields() {
        let b = [0x00, 0x01, 0x41, 0x40];
        let r = MplsRepr::parse(&MplsLse::new_checked(&b[..]).unwrap()).unwrap();
        assert_eq!(
            r,
            MplsRepr {
                label: 20,
                tc: 0,
                bos: true,
                ttl: 64
            }
        );
        assert_eq!(r.to_string(), "MPLS (label 20, tc 0, [S], ttl 64)");
        let mut out = [0u8; 4];
        r.emit(&mut MplsLse::new_unchecked(&mut out[..]));
        assert_eq!(out, b);
        assert!(MplsLse::new_checked(&b[..3]).is_err());
    }
}
