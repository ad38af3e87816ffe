//! Network Service Header (RFC 8300): base header, service path header and
//! MD type 1 contexts or MD type 2 TLVs.

use std::fmt;

use super::{rd16, rd32, view, wr16, wr32, Error, Result};

/// Length of the base and service path headers.
pub const BASE_LEN: usize = 8;
/// Length of an MD type 1 header.
pub const MD1_LEN: usize = 24;

pub const MD_TYPE1: u8 = 1;
pub const MD_TYPE2: u8 = 2;

/// Next protocol values.
pub const NP_IPV4: u8 = 1;
pub const NP_IPV6: u8 = 2;
pub const NP_ETHERNET: u8 = 3;
pub const NP_NSH: u8 = 4;
pub const NP_MPLS: u8 = 5;

view!(
    /// An NSH header: version, O bit, TTL, length, MD type, next protocol,
    /// service path id and index, metadata.
    NshHeader
);

impl<T: AsRef<[u8]>> NshHeader<T> {
    /// The base header must be there and the declared length fit.
    pub fn check_len(&self) -> Result<()> {
        let b = self.b();
        if b.len() < BASE_LEN {
            return Err(Error::Truncated);
        }
        if self.header_len() < BASE_LEN {
            return Err(Error::Malformed);
        }
        if b.len() < self.header_len() {
            return Err(Error::Truncated);
        }
        Ok(())
    }
    pub fn version(&self) -> u8 {
        (rd16(self.b(), 0) >> 14) as u8
    }
    /// The O (OAM) bit and the unassigned bit after it, as OVS's
    /// `nsh_flags` holds them.
    pub fn flags(&self) -> u8 {
        ((rd16(self.b(), 0) >> 12) & 3) as u8
    }
    pub fn ttl(&self) -> u8 {
        ((rd16(self.b(), 0) >> 6) & 0x3f) as u8
    }
    /// Header length in bytes.
    pub fn header_len(&self) -> usize {
        (rd16(self.b(), 0) & 0x3f) as usize * 4
    }
    pub fn md_type(&self) -> u8 {
        self.b()[2] & 0x0f
    }
    pub fn next_proto(&self) -> u8 {
        self.b()[3]
    }
    pub fn spi(&self) -> u32 {
        rd32(self.b(), 4) >> 8
    }
    pub fn si(&self) -> u8 {
        self.b()[7]
    }
    /// Metadata bytes (MD1 contexts or MD2 TLVs).
    pub fn metadata(&self) -> &[u8] {
        &self.b()[BASE_LEN..self.header_len()]
    }
    pub fn payload(&self) -> &[u8] {
        &self.b()[self.header_len()..]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> NshHeader<T> {
    pub fn set_base(&mut self, flags: u8, ttl: u8, header_len: usize, md_type: u8, next_proto: u8) {
        let w = ((flags as u16 & 3) << 12)
            | ((ttl as u16 & 0x3f) << 6)
            | ((header_len / 4) as u16 & 0x3f);
        let b = self.bm();
        wr16(b, 0, w);
        b[2] = md_type & 0x0f;
        b[3] = next_proto;
    }
    pub fn set_path(&mut self, spi: u32, si: u8) {
        wr32(self.bm(), 4, (spi << 8) | si as u32)
    }
}

impl<T: AsRef<[u8]>> fmt::Display for NshHeader<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match NshRepr::parse(self) {
            Ok(r) => write!(f, "{r}"),
            Err(e) => write!(f, "NSH ({e})"),
        }
    }
}

/// The metadata of an NSH header.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NshMetadata<'a> {
    /// Four fixed 32-bit contexts.
    Md1([u32; 4]),
    /// Variable TLVs (their bytes; length a multiple of 4).
    Md2(&'a [u8]),
}

/// An NSH header of MD type 1 or 2, version 0.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct NshRepr<'a> {
    pub flags: u8,
    pub ttl: u8,
    pub next_proto: u8,
    /// Service path identifier, 24 bits.
    pub spi: u32,
    /// Service index.
    pub si: u8,
    pub metadata: NshMetadata<'a>,
}

impl<'a> NshRepr<'a> {
    pub fn parse<T: AsRef<[u8]>>(h: &'a NshHeader<T>) -> Result<Self> {
        h.check_len()?;
        if h.version() != 0 {
            return Err(Error::Malformed);
        }
        let b: &'a [u8] = h.buffer.as_ref();
        let metadata = match h.md_type() {
            MD_TYPE1 => {
                if h.header_len() != MD1_LEN {
                    return Err(Error::Malformed);
                }
                NshMetadata::Md1([rd32(b, 8), rd32(b, 12), rd32(b, 16), rd32(b, 20)])
            }
            MD_TYPE2 => NshMetadata::Md2(&b[BASE_LEN..h.header_len()]),
            _ => return Err(Error::Malformed),
        };
        Ok(NshRepr {
            flags: h.flags(),
            ttl: h.ttl(),
            next_proto: h.next_proto(),
            spi: h.spi(),
            si: h.si(),
            metadata,
        })
    }
    pub fn buffer_len(&self) -> usize {
        match self.metadata {
            NshMetadata::Md1(_) => MD1_LEN,
            NshMetadata::Md2(t) => BASE_LEN + t.len(),
        }
    }
    pub fn emit(&self, out: &mut [u8]) -> Result<()> {
        let len = self.buffer_len();
        if len % 4 != 0 || len > 0x3f * 4 {
            return Err(Error::Malformed);
        }
        if out.len() < len {
            return Err(Error::Truncated);
        }
        let mut h = NshHeader::new_unchecked(&mut out[..len]);
        let md_type = match self.metadata {
            NshMetadata::Md1(_) => MD_TYPE1,
            NshMetadata::Md2(_) => MD_TYPE2,
        };
        h.set_base(self.flags, self.ttl, len, md_type, self.next_proto);
        h.set_path(self.spi, self.si);
        let b = h.bm();
        match self.metadata {
            NshMetadata::Md1(c) => {
                for (i, v) in c.iter().enumerate() {
                    wr32(b, BASE_LEN + 4 * i, *v);
                }
            }
            NshMetadata::Md2(t) => b[BASE_LEN..].copy_from_slice(t),
        }
        Ok(())
    }
}

impl fmt::Display for NshRepr<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "NSH, flags [{}], ttl {}, next-protocol 0x{:x}, service-path-id 0x{:06x}, service-index 0x{:x}",
            if self.flags & 2 != 0 { "O" } else { "" },
            self.ttl,
            self.next_proto,
            self.spi,
            self.si
        )?;
        match self.metadata {
            NshMetadata::Md1(c) => write!(
                f,
                ", md-type 1, context 0x{:08x} 0x{:08x} 0x{:08x} 0x{:08x}",
                c[0], c[1], c[2], c[3]
            ),
            NshMetadata::Md2(t) => write!(f, ", md-type 2, {} bytes of TLVs", t.len()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn md1_round_trip() {
        let r = NshRepr {
            flags: 0,
            ttl: 63,
            next_proto: NP_ETHERNET,
            spi: 0x123456,
            si: 255,
            metadata: NshMetadata::Md1([1, 2, 3, 4]),
        };
        let mut b = [0u8; 24];
        r.emit(&mut b).unwrap();
        assert_eq!(b[..8], [0x0f, 0xc6, 0x01, 0x03, 0x12, 0x34, 0x56, 0xff]);
        let h = NshHeader::new_checked(&b[..]).unwrap();
        assert_eq!(NshRepr::parse(&h).unwrap(), r);
        assert_eq!(
            r.to_string(),
            "NSH, flags [], ttl 63, next-protocol 0x3, service-path-id 0x123456, service-index 0xff, md-type 1, context 0x00000001 0x00000002 0x00000003 0x00000004"
        );
    }

    #[test]
    fn md2_and_errors() {
        let tlv = [0u8, 1, 2, 1, 9, 9, 9, 9];
        let r = NshRepr {
            flags: 2,
            ttl: 1,
            next_proto: NP_IPV4,
            spi: 1,
            si: 2,
            metadata: NshMetadata::Md2(&tlv),
        };
        let mut b = [0u8; 16];
        r.emit(&mut b).unwrap();
        let h = NshHeader::new_checked(&b[..]).unwrap();
        assert_eq!(NshRepr::parse(&h).unwrap(), r);
        assert_eq!(
            NshHeader::new_checked(&b[..15]).unwrap_err(),
            Error::Truncated
        );
        let mut v1 = b;
        v1[0] |= 0x40;
        let h = NshHeader::new_checked(&v1[..]).unwrap();
        assert_eq!(NshRepr::parse(&h), Err(Error::Malformed));
    }
}
