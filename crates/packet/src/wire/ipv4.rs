//! IPv4 headers.

use std::fmt;
use std::net::Ipv4Addr;

use super::{ip_proto_name, rd16, rd32, view, wr16, wr32, Error, Result};
use crate::checksum;

/// Length of an IPv4 header without options.
pub const HEADER_LEN: usize = 20;

/// Flag bits of the fragment word.
pub const DONT_FRAG: u16 = 0x4000;
pub const MORE_FRAGS: u16 = 0x2000;
pub const FRAG_OFFSET_MASK: u16 = 0x1fff;

view!(
    /// An IPv4 packet: header with options, then the payload up to the
    /// total length.
    Ipv4Packet
);

impl<T: AsRef<[u8]>> Ipv4Packet<T> {
    /// The header (with options) must be in the buffer, and the total
    /// length must cover the header and fit in the buffer.
    pub fn check_len(&self) -> Result<()> {
        let b = self.b();
        if b.len() < HEADER_LEN {
            return Err(Error::Truncated);
        }
        let hl = self.header_len();
        let tot = self.total_len() as usize;
        if hl < HEADER_LEN || tot < hl {
            return Err(Error::Malformed);
        }
        if b.len() < hl || b.len() < tot {
            return Err(Error::Truncated);
        }
        Ok(())
    }
    pub fn version(&self) -> u8 {
        self.b()[0] >> 4
    }
    /// Header length in bytes (IHL × 4).
    pub fn header_len(&self) -> usize {
        (self.b()[0] & 0x0f) as usize * 4
    }
    /// The whole TOS byte (DSCP and ECN).
    pub fn tos(&self) -> u8 {
        self.b()[1]
    }
    pub fn dscp(&self) -> u8 {
        self.tos() >> 2
    }
    pub fn ecn(&self) -> u8 {
        self.tos() & 3
    }
    pub fn total_len(&self) -> u16 {
        rd16(self.b(), 2)
    }
    pub fn ident(&self) -> u16 {
        rd16(self.b(), 4)
    }
    pub fn frag_word(&self) -> u16 {
        rd16(self.b(), 6)
    }
    pub fn dont_frag(&self) -> bool {
        self.frag_word() & DONT_FRAG != 0
    }
    pub fn more_frags(&self) -> bool {
        self.frag_word() & MORE_FRAGS != 0
    }
    /// Fragment offset in bytes.
    pub fn frag_offset(&self) -> u16 {
        (self.frag_word() & FRAG_OFFSET_MASK) << 3
    }
    pub fn ttl(&self) -> u8 {
        self.b()[8]
    }
    pub fn protocol(&self) -> u8 {
        self.b()[9]
    }
    pub fn checksum(&self) -> u16 {
        rd16(self.b(), 10)
    }
    pub fn src(&self) -> u32 {
        rd32(self.b(), 12)
    }
    pub fn dst(&self) -> u32 {
        rd32(self.b(), 16)
    }
    pub fn options(&self) -> &[u8] {
        &self.b()[HEADER_LEN..self.header_len()]
    }
    /// The payload, up to the total length (Ethernet padding excluded).
    pub fn payload(&self) -> &[u8] {
        &self.b()[self.header_len()..self.total_len() as usize]
    }
    pub fn verify_checksum(&self) -> bool {
        checksum::checksum(&self.b()[..self.header_len()]) == 0
    }
    /// Running sum of the pseudo-header for the transport checksum.
    pub fn pseudo_header(&self) -> u32 {
        let l4_len = self.total_len().saturating_sub(self.header_len() as u16);
        checksum::pseudo_header_v4(self.src(), self.dst(), self.protocol(), l4_len)
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Ipv4Packet<T> {
    pub fn set_version_and_header_len(&mut self, version: u8, header_len: usize) {
        self.bm()[0] = (version << 4) | ((header_len / 4) as u8 & 0x0f);
    }
    pub fn set_tos(&mut self, v: u8) {
        self.bm()[1] = v
    }
    pub fn set_total_len(&mut self, v: u16) {
        wr16(self.bm(), 2, v)
    }
    pub fn set_ident(&mut self, v: u16) {
        wr16(self.bm(), 4, v)
    }
    pub fn set_frag_word(&mut self, v: u16) {
        wr16(self.bm(), 6, v)
    }
    pub fn set_ttl(&mut self, v: u8) {
        self.bm()[8] = v
    }
    pub fn set_protocol(&mut self, v: u8) {
        self.bm()[9] = v
    }
    pub fn set_checksum(&mut self, v: u16) {
        wr16(self.bm(), 10, v)
    }
    pub fn set_src(&mut self, v: u32) {
        wr32(self.bm(), 12, v)
    }
    pub fn set_dst(&mut self, v: u32) {
        wr32(self.bm(), 16, v)
    }
    /// Computes and stores the header checksum.
    pub fn fill_checksum(&mut self) {
        self.set_checksum(0);
        let hl = self.header_len();
        let c = checksum::checksum(&self.b()[..hl]);
        self.set_checksum(c);
    }
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let (hl, tot) = (self.header_len(), self.total_len() as usize);
        &mut self.bm()[hl..tot]
    }
}

impl<T: AsRef<[u8]>> fmt::Display for Ipv4Packet<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match Ipv4Repr::parse(self) {
            Ok(r) => {
                write!(f, "{r}")?;
                if !self.verify_checksum() {
                    write!(f, " (bad cksum {:04x})", self.checksum())?;
                }
                Ok(())
            }
            Err(e) => write!(f, "IPv4 ({e})"),
        }
    }
}

/// An IPv4 header without options.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Ipv4Repr {
    pub src: u32,
    pub dst: u32,
    pub protocol: u8,
    pub tos: u8,
    pub ttl: u8,
    pub ident: u16,
    pub dont_frag: bool,
    pub more_frags: bool,
    /// In bytes; a multiple of 8.
    pub frag_offset: u16,
    pub payload_len: usize,
}

impl Ipv4Repr {
    /// Parses a header (options are skipped, not kept).
    pub fn parse<T: AsRef<[u8]>>(p: &Ipv4Packet<T>) -> Result<Self> {
        p.check_len()?;
        if p.version() != 4 {
            return Err(Error::Malformed);
        }
        Ok(Ipv4Repr {
            src: p.src(),
            dst: p.dst(),
            protocol: p.protocol(),
            tos: p.tos(),
            ttl: p.ttl(),
            ident: p.ident(),
            dont_frag: p.dont_frag(),
            more_frags: p.more_frags(),
            frag_offset: p.frag_offset(),
            payload_len: p.total_len() as usize - p.header_len(),
        })
    }
    pub fn buffer_len(&self) -> usize {
        HEADER_LEN
    }
    /// Writes the header (with its checksum) into the front of `p`.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, p: &mut Ipv4Packet<T>) {
        p.set_version_and_header_len(4, HEADER_LEN);
        p.set_tos(self.tos);
        p.set_total_len((HEADER_LEN + self.payload_len) as u16);
        p.set_ident(self.ident);
        let mut w = (self.frag_offset >> 3) & FRAG_OFFSET_MASK;
        if self.dont_frag {
            w |= DONT_FRAG;
        }
        if self.more_frags {
            w |= MORE_FRAGS;
        }
        p.set_frag_word(w);
        p.set_ttl(self.ttl);
        p.set_protocol(self.protocol);
        p.set_src(self.src);
        p.set_dst(self.dst);
        p.fill_checksum();
    }
}

impl fmt::Display for Ipv4Repr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "IP {} > {}: tos 0x{:x}, ttl {}, id {}, offset {}, flags [{}], proto {} ({}), length {}",
            Ipv4Addr::from(self.src),
            Ipv4Addr::from(self.dst),
            self.tos,
            self.ttl,
            self.ident,
            self.frag_offset,
            match (self.dont_frag, self.more_frags) {
                (true, true) => "DF+",
                (true, false) => "DF",
                (false, true) => "+",
                (false, false) => "none",
            },
            ip_proto_name(self.protocol),
            self.protocol,
            HEADER_LEN + self.payload_len
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PKT: [u8; 24] = [
        0x45, 0x00, 0x00, 0x18, 0x12, 0x34, 0x40, 0x00, 0x40, 0x11, 0x00, 0x00, 192, 168, 0, 1,
        192, 168, 0, 2, 1, 2, 3, 4,
    ];

    #[test]
    fn round_trip_with_checksum() {
        let r = Ipv4Repr {
            src: 0xc0a8_0001,
            dst: 0xc0a8_0002,
            protocol: 17,
            tos: 0,
            ttl: 64,
            ident: 0x1234,
            dont_frag: true,
            more_frags: false,
            frag_offset: 0,
            payload_len: 4,
        };
        let mut buf = [0u8; 24];
        r.emit(&mut Ipv4Packet::new_unchecked(&mut buf[..]));
        buf[20..].copy_from_slice(&[1, 2, 3, 4]);
        let p = Ipv4Packet::new_checked(&buf[..]).unwrap();
        assert!(p.verify_checksum());
        assert_eq!(buf[..10], PKT[..10]);
        assert_eq!(Ipv4Repr::parse(&p).unwrap(), r);
        assert_eq!(p.payload(), &[1, 2, 3, 4]);
        assert_eq!(
            p.to_string(),
            "IP 192.168.0.1 > 192.168.0.2: tos 0x0, ttl 64, id 4660, offset 0, flags [DF], proto UDP (17), length 24"
        );
        assert!(Ipv4Packet::new_checked(&PKT[..])
            .unwrap()
            .to_string()
            .contains("bad cksum"));
    }

    #[test]
    fn malformed() {
        assert_eq!(
            Ipv4Packet::new_checked(&PKT[..19]).unwrap_err(),
            Error::Truncated
        );
        assert_eq!(
            Ipv4Packet::new_checked(&PKT[..23]).unwrap_err(),
            Error::Truncated
        );
        let mut ihl = PKT;
        ihl[0] = 0x44;
        assert_eq!(
            Ipv4Packet::new_checked(&ihl[..]).unwrap_err(),
            Error::Malformed
        );
        let mut v6 = PKT;
        v6[0] = 0x65;
        let p = Ipv4Packet::new_checked(&v6[..]).unwrap();
        assert_eq!(Ipv4Repr::parse(&p), Err(Error::Malformed));
        let mut frag = PKT;
        frag[6] = 0x20;
        frag[7] = 0x02;
        let p = Ipv4Packet::new_checked(&frag[..]).unwrap();
        assert!(p.more_frags());
        assert_eq!(p.frag_offset(), 16);
    }
}
