//! TCP segments.

use std::fmt;

use super::{rd16, rd32, view, wr16, wr32, Error, Result};
use crate::checksum;

/// Length of a TCP header without options.
pub const HEADER_LEN: usize = 20;

/// Flag bits (of the 12-bit flags field, as OVS's `tcp_flags` holds them).
pub const FIN: u16 = 0x001;
pub const SYN: u16 = 0x002;
pub const RST: u16 = 0x004;
pub const PSH: u16 = 0x008;
pub const ACK: u16 = 0x010;
pub const URG: u16 = 0x020;
pub const ECE: u16 = 0x040;
pub const CWR: u16 = 0x080;
pub const NS: u16 = 0x100;

view!(
    /// A TCP segment: header with options, then the payload.
    TcpPacket
);

impl<T: AsRef<[u8]>> TcpPacket<T> {
    pub fn check_len(&self) -> Result<()> {
        let b = self.b();
        if b.len() < HEADER_LEN {
            return Err(Error::Truncated);
        }
        let hl = self.header_len();
        if hl < HEADER_LEN {
            return Err(Error::Malformed);
        }
        if b.len() < hl {
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
    pub fn seq(&self) -> u32 {
        rd32(self.b(), 4)
    }
    pub fn ack(&self) -> u32 {
        rd32(self.b(), 8)
    }
    /// Header length in bytes (data offset × 4).
    pub fn header_len(&self) -> usize {
        (self.b()[12] >> 4) as usize * 4
    }
    /// The 12 bits below the data offset (NS, CWR, ..., FIN and the three
    /// reserved bits above NS).
    pub fn flags(&self) -> u16 {
        rd16(self.b(), 12) & 0x0fff
    }
    pub fn window(&self) -> u16 {
        rd16(self.b(), 14)
    }
    pub fn checksum(&self) -> u16 {
        rd16(self.b(), 16)
    }
    pub fn urgent(&self) -> u16 {
        rd16(self.b(), 18)
    }
    pub fn options(&self) -> &[u8] {
        &self.b()[HEADER_LEN..self.header_len()]
    }
    pub fn payload(&self) -> &[u8] {
        &self.b()[self.header_len()..]
    }
    /// Whether the checksum over the whole buffer and the pseudo-header
    /// sum `pseudo` is right.
    pub fn verify_checksum(&self, pseudo: u32) -> bool {
        checksum::finish(checksum::add(pseudo, self.b())) == 0
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> TcpPacket<T> {
    pub fn set_src_port(&mut self, v: u16) {
        wr16(self.bm(), 0, v)
    }
    pub fn set_dst_port(&mut self, v: u16) {
        wr16(self.bm(), 2, v)
    }
    pub fn set_seq(&mut self, v: u32) {
        wr32(self.bm(), 4, v)
    }
    pub fn set_ack(&mut self, v: u32) {
        wr32(self.bm(), 8, v)
    }
    pub fn set_header_len_and_flags(&mut self, header_len: usize, flags: u16) {
        wr16(
            self.bm(),
            12,
            (((header_len / 4) as u16) << 12) | (flags & 0x0fff),
        )
    }
    pub fn set_window(&mut self, v: u16) {
        wr16(self.bm(), 14, v)
    }
    pub fn set_checksum(&mut self, v: u16) {
        wr16(self.bm(), 16, v)
    }
    pub fn set_urgent(&mut self, v: u16) {
        wr16(self.bm(), 18, v)
    }
    /// Computes the checksum over the whole buffer and `pseudo`.
    pub fn fill_checksum(&mut self, pseudo: u32) {
        self.set_checksum(0);
        let c = checksum::finish(checksum::add(pseudo, self.b()));
        self.set_checksum(c);
    }
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let hl = self.header_len();
        &mut self.bm()[hl..]
    }
}

impl<T: AsRef<[u8]>> fmt::Display for TcpPacket<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match TcpRepr::parse(self) {
            Ok(r) => write!(f, "{r}"),
            Err(e) => write!(f, "TCP ({e})"),
        }
    }
}

/// tcpdump's rendering of TCP flags: `S`, `S.`, `P.`, `F.`, `R`, ... and
/// `none`.
pub struct FlagsFmt(pub u16);

impl fmt::Display for FlagsFmt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let v = self.0;
        let mut any = false;
        for (bit, c) in [
            (FIN, 'F'),
            (SYN, 'S'),
            (RST, 'R'),
            (PSH, 'P'),
            (URG, 'U'),
            (ECE, 'E'),
            (CWR, 'W'),
        ] {
            if v & bit != 0 {
                write!(f, "{c}")?;
                any = true;
            }
        }
        if v & ACK != 0 {
            f.write_str(".")?;
            any = true;
        }
        if !any {
            f.write_str("none")?;
        }
        Ok(())
    }
}

/// A TCP segment.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct TcpRepr<'a> {
    pub src_port: u16,
    pub dst_port: u16,
    pub seq: u32,
    pub ack: u32,
    /// 12 bits.
    pub flags: u16,
    pub window: u16,
    pub urgent: u16,
    /// Option bytes; a multiple of 4, at most 40.
    pub options: &'a [u8],
    pub payload: &'a [u8],
}

impl<'a> TcpRepr<'a> {
    pub fn parse<T: AsRef<[u8]>>(p: &'a TcpPacket<T>) -> Result<Self> {
        p.check_len()?;
        let b: &'a [u8] = p.buffer.as_ref();
        let hl = p.header_len();
        Ok(TcpRepr {
            src_port: p.src_port(),
            dst_port: p.dst_port(),
            seq: p.seq(),
            ack: p.ack(),
            flags: p.flags(),
            window: p.window(),
            urgent: p.urgent(),
            options: &b[HEADER_LEN..hl],
            payload: &b[hl..],
        })
    }
    pub fn header_len(&self) -> usize {
        HEADER_LEN + self.options.len()
    }
    pub fn buffer_len(&self) -> usize {
        self.header_len() + self.payload.len()
    }
    /// Writes header, options and payload; the checksum is computed over
    /// `pseudo` (see [`crate::checksum::pseudo_header_v4`]).
    pub fn emit(&self, out: &mut [u8], pseudo: u32) -> Result<()> {
        if self.options.len() % 4 != 0 || self.options.len() > 40 {
            return Err(Error::Malformed);
        }
        let len = self.buffer_len();
        if out.len() < len {
            return Err(Error::Truncated);
        }
        let mut p = TcpPacket::new_unchecked(&mut out[..len]);
        p.set_src_port(self.src_port);
        p.set_dst_port(self.dst_port);
        p.set_seq(self.seq);
        p.set_ack(self.ack);
        p.set_header_len_and_flags(self.header_len(), self.flags);
        p.set_window(self.window);
        p.set_urgent(self.urgent);
        let hl = self.header_len();
        let b = p.bm();
        b[HEADER_LEN..hl].copy_from_slice(self.options);
        b[hl..].copy_from_slice(self.payload);
        p.fill_checksum(pseudo);
        Ok(())
    }
}

impl fmt::Display for TcpRepr<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "TCP {} > {}: Flags [{}], seq {}",
            self.src_port,
            self.dst_port,
            FlagsFmt(self.flags),
            self.seq
        )?;
        if self.flags & ACK != 0 {
            write!(f, ", ack {}", self.ack)?;
        }
        write!(f, ", win {}", self.window)?;
        if self.flags & URG != 0 {
            write!(f, ", urg {}", self.urgent)?;
        }
        if !self.options.is_empty() {
            write!(f, ", options ({} bytes)", self.options.len())?;
        }
        write!(f, ", length {}", self.payload.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let r = TcpRepr {
            src_port: 10031,
            dst_port: 80,
            seq: 1,
            ack: 2,
            flags: SYN | ACK,
            window: 512,
            urgent: 0,
            options: &[2, 4, 5, 0xb4],
            payload: b"hi",
        };
        let pseudo = checksum::pseudo_header_v4(0x0a00_0001, 0x0a00_0002, 6, r.buffer_len() as u16);
        let mut b = [0u8; 26];
        r.emit(&mut b, pseudo).unwrap();
        let p = TcpPacket::new_checked(&b[..]).unwrap();
        assert!(p.verify_checksum(pseudo));
        assert_eq!(TcpRepr::parse(&p).unwrap(), r);
        assert_eq!(
            r.to_string(),
            "TCP 10031 > 80: Flags [S.], seq 1, ack 2, win 512, options (4 bytes), length 2"
        );
        assert_eq!(r.emit(&mut b[..25], pseudo), Err(Error::Truncated));
    }

    #[test]
    fn bad_offsets() {
        let mut b = [0u8; 24];
        b[12] = 0x40;
        assert_eq!(
            TcpPacket::new_checked(&b[..]).unwrap_err(),
            Error::Malformed
        );
        b[12] = 0x70;
        assert_eq!(
            TcpPacket::new_checked(&b[..]).unwrap_err(),
            Error::Truncated
        );
        assert_eq!(
            TcpPacket::new_checked(&b[..19]).unwrap_err(),
            Error::Truncated
        );
        assert_eq!(FlagsFmt(0).to_string(), "none");
        assert_eq!(FlagsFmt(FIN | PSH | ACK).to_string(), "FP.");
    }
}
