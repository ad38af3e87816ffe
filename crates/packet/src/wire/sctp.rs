//! SCTP common headers (the chunks behind them are kept as bytes).

use std::fmt;

use super::{rd16, rd32, view, wr16, wr32, Error, Result};
use crate::checksum;

/// Length of the SCTP common header.
pub const HEADER_LEN: usize = 12;

view!(
    /// An SCTP packet: common header, then chunks.
    SctpPacket
);

impl<T: AsRef<[u8]>> SctpPacket<T> {
    pub fn check_len(&self) -> Result<()> {
        if self.b().len() < HEADER_LEN {
            return Err(Error::Truncated);
        }
        Ok(())
    }
    pub fn src_port(&self) -> u16 {
        rd16(self.b(), 0)
    }
    pub fn dst_port(&self) -> u16 {
        rd16(self.b(), 2)
    }
    pub fn verification_tag(&self) -> u32 {
        rd32(self.b(), 4)
    }
    /// The checksum bytes as they are on the wire.
    pub fn checksum(&self) -> [u8; 4] {
        [self.b()[8], self.b()[9], self.b()[10], self.b()[11]]
    }
    pub fn chunks(&self) -> &[u8] {
        &self.b()[HEADER_LEN..]
    }
    /// Whether the CRC32c over the whole buffer is right.
    pub fn verify_checksum(&self) -> bool {
        let mut copy = self.b().to_vec();
        copy[8..12].fill(0);
        checksum::sctp_checksum(&copy) == self.checksum()
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> SctpPacket<T> {
    pub fn set_src_port(&mut self, v: u16) {
        wr16(self.bm(), 0, v)
    }
    pub fn set_dst_port(&mut self, v: u16) {
        wr16(self.bm(), 2, v)
    }
    pub fn set_verification_tag(&mut self, v: u32) {
        wr32(self.bm(), 4, v)
    }
    /// Computes the CRC32c over the whole buffer and stores it.
    pub fn fill_checksum(&mut self) {
        self.bm()[8..12].fill(0);
        let c = checksum::sctp_checksum(self.b());
        self.bm()[8..12].copy_from_slice(&c);
    }
}

impl<T: AsRef<[u8]>> fmt::Display for SctpPacket<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match SctpRepr::parse(self) {
            Ok(r) => write!(f, "{r}"),
            Err(e) => write!(f, "SCTP ({e})"),
        }
    }
}

/// An SCTP packet.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct SctpRepr<'a> {
    pub src_port: u16,
    pub dst_port: u16,
    pub verification_tag: u32,
    pub chunks: &'a [u8],
}

impl<'a> SctpRepr<'a> {
    pub fn parse<T: AsRef<[u8]>>(p: &'a SctpPacket<T>) -> Result<Self> {
        p.check_len()?;
        let b: &'a [u8] = p.buffer.as_ref();
        Ok(SctpRepr {
            src_port: p.src_port(),
            dst_port: p.dst_port(),
            verification_tag: p.verification_tag(),
            chunks: &b[HEADER_LEN..],
        })
    }
    pub fn buffer_len(&self) -> usize {
        HEADER_LEN + self.chunks.len()
    }
    /// Writes the packet with its CRC32c.
    pub fn emit(&self, out: &mut [u8]) -> Result<()> {
        let len = self.buffer_len();
        if out.len() < len {
            return Err(Error::Truncated);
        }
        let mut p = SctpPacket::new_unchecked(&mut out[..len]);
        p.set_src_port(self.src_port);
        p.set_dst_port(self.dst_port);
        p.set_verification_tag(self.verification_tag);
        p.bm()[HEADER_LEN..].copy_from_slice(self.chunks);
        p.fill_checksum();
        Ok(())
    }
}

impl fmt::Display for SctpRepr<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "sctp {} > {}: vtag 0x{:08x}, length {}",
            self.src_port,
            self.dst_port,
            self.verification_tag,
            self.chunks.len()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_with_crc() {
        let r = SctpRepr {
            src_port: 2905,
            dst_port: 2906,
            verification_tag: 0xdead_beef,
            chunks: &[1, 0, 0, 4],
        };
        let mut b = [0u8; 16];
        r.emit(&mut b).unwrap();
        let p = SctpPacket::new_checked(&b[..]).unwrap();
        assert!(p.verify_checksum());
        assert_eq!(SctpRepr::parse(&p).unwrap(), r);
        b[13] ^= 1;
        assert!(!SctpPacket::new_checked(&b[..]).unwrap().verify_checksum());
        assert_eq!(r.to_string(), "sctp 2905 > 2906: vtag 0xdeadbeef, length 4");
        assert!(SctpPacket::new_checked(&b[..11]).is_err());
    }
}
