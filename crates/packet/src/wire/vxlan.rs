//! VXLAN headers (RFC 7348), with the group-based policy extension.

use std::fmt;

use super::{rd16, rd32, view, wr16, wr32, Error, Result};

/// Length of the VXLAN header.
pub const HEADER_LEN: usize = 8;
/// UDP port assigned to VXLAN.
pub const UDP_PORT: u16 = 4789;

/// Flag bits of the first byte.
pub const FLAG_VNI: u8 = 0x08;
pub const FLAG_GBP: u8 = 0x80;
/// GBP flag bits (second byte): don't learn, policy applied.
pub const GBP_DONT_LEARN: u8 = 0x40;
pub const GBP_POLICY_APPLIED: u8 = 0x08;

view!(
    /// A VXLAN header; the payload is an Ethernet frame.
    VxlanHeader
);

impl<T: AsRef<[u8]>> VxlanHeader<T> {
    pub fn check_len(&self) -> Result<()> {
        if self.b().len() < HEADER_LEN {
            return Err(Error::Truncated);
        }
        Ok(())
    }
    pub fn flags(&self) -> u8 {
        self.b()[0]
    }
    pub fn gbp_flags(&self) -> u8 {
        self.b()[1]
    }
    pub fn gbp_id(&self) -> u16 {
        rd16(self.b(), 2)
    }
    pub fn vni(&self) -> u32 {
        rd32(self.b(), 4) >> 8
    }
    pub fn payload(&self) -> &[u8] {
        &self.b()[HEADER_LEN..]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> VxlanHeader<T> {
    pub fn set_flags(&mut self, flags: u8, gbp_flags: u8, gbp_id: u16) {
        let b = self.bm();
        b[0] = flags;
        b[1] = gbp_flags;
        wr16(b, 2, gbp_id);
    }
    pub fn set_vni(&mut self, vni: u32) {
        wr32(self.bm(), 4, vni << 8)
    }
}

impl<T: AsRef<[u8]>> fmt::Display for VxlanHeader<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match VxlanRepr::parse(self) {
            Ok(r) => write!(f, "{r}"),
            Err(e) => write!(f, "VXLAN ({e})"),
        }
    }
}

/// Group-based policy of a VXLAN-GBP header.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct VxlanGbp {
    pub flags: u8,
    pub id: u16,
}

/// A VXLAN header.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct VxlanRepr {
    /// 24 bits.
    pub vni: u32,
    pub gbp: Option<VxlanGbp>,
}

impl VxlanRepr {
    /// Parses a header with the I flag set.
    pub fn parse<T: AsRef<[u8]>>(h: &VxlanHeader<T>) -> Result<Self> {
        h.check_len()?;
        if h.flags() & FLAG_VNI == 0 {
            return Err(Error::Malformed);
        }
        let gbp = (h.flags() & FLAG_GBP != 0).then(|| VxlanGbp {
            flags: h.gbp_flags(),
            id: h.gbp_id(),
        });
        Ok(VxlanRepr { vni: h.vni(), gbp })
    }
    pub fn buffer_len(&self) -> usize {
        HEADER_LEN
    }
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, h: &mut VxlanHeader<T>) {
        match self.gbp {
            Some(g) => h.set_flags(FLAG_VNI | FLAG_GBP, g.flags, g.id),
            None => h.set_flags(FLAG_VNI, 0, 0),
        }
        h.set_vni(self.vni & 0xff_ffff);
    }
}

impl fmt::Display for VxlanRepr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.gbp {
            Some(g) => write!(
                f,
                "VXLAN-GBP, flags [I] (0x88), vni {}, gbp flags 0x{:02x}, group id {}",
                self.vni, g.flags, g.id
            ),
            None => write!(f, "VXLAN, flags [I] (0x08), vni {}", self.vni),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let r = VxlanRepr {
            vni: 0x123456,
            gbp: None,
        };
        let mut b = [0u8; 8];
        r.emit(&mut VxlanHeader::new_unchecked(&mut b[..]));
        assert_eq!(b, [0x08, 0, 0, 0, 0x12, 0x34, 0x56, 0]);
        assert_eq!(
            VxlanRepr::parse(&VxlanHeader::new_checked(&b[..]).unwrap()).unwrap(),
            r
        );
        assert_eq!(r.to_string(), "VXLAN, flags [I] (0x08), vni 1193046");
        let g = VxlanRepr {
            vni: 5,
            gbp: Some(VxlanGbp {
                flags: GBP_DONT_LEARN,
                id: 100,
            }),
        };
        g.emit(&mut VxlanHeader::new_unchecked(&mut b[..]));
        assert_eq!(
            VxlanRepr::parse(&VxlanHeader::new_checked(&b[..]).unwrap()).unwrap(),
            g
        );
        b[0] = 0;
        assert_eq!(
            VxlanRepr::parse(&VxlanHeader::new_checked(&b[..]).unwrap()),
            Err(Error::Malformed)
        );
        assert!(VxlanHeader::new_checked(&b[..7]).is_err());
    }
}
