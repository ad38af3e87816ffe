//! UDP datagrams.

use std::fmt;

use super::{rd16, view, wr16, Error, Result};
use crate::checksum;

/// Length of the UDP header.
pub const HEADER_LEN: usize = 8;

view!(
    /// A UDP datagram: ports, length, checksum, payload.
    UdpPacket
);

impl<T: AsRef<[u8]>> UdpPacket<T> {
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
    pub fn length(&self) -> u16 {
        rd16(self.b(), 4)
    }
    pub fn checksum(&self) -> u16 {
        rd16(self.b(), 6)
    }
    /// The payload: up to the UDP length if it fits, else the rest of the
    /// buffer.
    pub fn payload(&self) -> &[u8] {
        let b = self.b();
        let end = (self.length() as usize).clamp(HEADER_LEN, b.len());
        &b[HEADER_LEN..end]
    }
    /// Whether the checksum is right (a zero checksum, "none", is right
    /// over IPv4).
    pub fn verify_checksum(&self, pseudo: u32) -> bool {
        self.checksum() == 0 || checksum::finish(checksum::add(pseudo, self.b())) == 0
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> UdpPacket<T> {
    pub fn set_src_port(&mut self, v: u16) {
        wr16(self.bm(), 0, v)
    }
    pub fn set_dst_port(&mut self, v: u16) {
        wr16(self.bm(), 2, v)
    }
    pub fn set_len(&mut self, v: u16) {
        wr16(self.bm(), 4, v)
    }
    pub fn set_checksum(&mut self, v: u16) {
        wr16(self.bm(), 6, v)
    }
    /// Computes the checksum over the whole buffer and `pseudo` (0 is
    /// sent as 0xffff).
    pub fn fill_checksum(&mut self, pseudo: u32) {
        self.set_checksum(0);
        let c = checksum::udp_nonzero(checksum::finish(checksum::add(pseudo, self.b())));
        self.set_checksum(c);
    }
    pub fn payload_mut(&mut self) -> &mut [u8] {
        &mut self.bm()[HEADER_LEN..]
    }
}

impl<T: AsRef<[u8]>> fmt::Display for UdpPacket<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match UdpRepr::parse(self) {
            Ok(r) => write!(f, "{r}"),
            Err(e) => write!(f, "UDP ({e})"),
        }
    }
}

/// A UDP datagram.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct UdpRepr<'a> {
    pub src_port: u16,
    pub dst_port: u16,
    pub payload: &'a [u8],
}

impl<'a> UdpRepr<'a> {
    /// Parses a datagram whose length field is consistent with the buffer.
    pub fn parse<T: AsRef<[u8]>>(p: &'a UdpPacket<T>) -> Result<Self> {
        p.check_len()?;
        let b: &'a [u8] = p.buffer.as_ref();
        let len = p.length() as usize;
        if len < HEADER_LEN {
            return Err(Error::Malformed);
        }
        if len > b.len() {
            return Err(Error::Truncated);
        }
        Ok(UdpRepr {
            src_port: p.src_port(),
            dst_port: p.dst_port(),
            payload: &b[HEADER_LEN..len],
        })
    }
    pub fn buffer_len(&self) -> usize {
        HEADER_LEN + self.payload.len()
    }
    /// Writes the datagram with its checksum over `pseudo`.
    pub fn emit(&self, out: &mut [u8], pseudo: u32) -> Result<()> {
        let len = self.buffer_len();
        if out.len() < len {
            return Err(Error::Truncated);
        }
        if len > u16::MAX as usize {
            return Err(Error::Malformed);
        }
        let mut p = UdpPacket::new_unchecked(&mut out[..len]);
        p.set_src_port(self.src_port);
        p.set_dst_port(self.dst_port);
        p.set_len(len as u16);
        p.payload_mut().copy_from_slice(self.payload);
        p.fill_checksum(pseudo);
        Ok(())
    }
}

impl fmt::Display for UdpRepr<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "UDP {} > {}: length {}",
            self.src_port,
            self.dst_port,
            self.payload.len()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let r = UdpRepr {
            src_port: 68,
            dst_port: 67,
            payload: b"abc",
        };
        let pseudo = checksum::pseudo_header_v4(1, 2, 17, 11);
        let mut b = [0u8; 12];
        r.emit(&mut b, pseudo).unwrap();
        let p = UdpPacket::new_checked(&b[..]).unwrap();
        assert_eq!(p.length(), 11);
        assert!(p.verify_checksum(pseudo));
        assert!(!p.verify_checksum(pseudo + 1));
        assert_eq!(UdpRepr::parse(&p).unwrap(), r);
        assert_eq!(r.to_string(), "UDP 68 > 67: length 3");
    }

    #[test]
    fn bad_lengths() {
        let mut b = [0u8; 8];
        b[5] = 4;
        assert_eq!(
            UdpRepr::parse(&UdpPacket::new_checked(&b[..]).unwrap()),
            Err(Error::Malformed)
        );
        b[5] = 9;
        assert_eq!(
            UdpRepr::parse(&UdpPacket::new_checked(&b[..]).unwrap()),
            Err(Error::Truncated)
        );
        assert!(UdpPacket::new_checked(&b[..7]).is_err());
    }
}
