//! ICMP for IPv4.

use std::fmt;

use super::{rd16, rd32, view, wr16, wr32, Error, Result};
use crate::checksum;

/// Length of the ICMP header (type, code, checksum, rest of header).
pub const HEADER_LEN: usize = 8;

pub const ECHO_REPLY: u8 = 0;
pub const DEST_UNREACHABLE: u8 = 3;
pub const REDIRECT: u8 = 5;
pub const ECHO_REQUEST: u8 = 8;
pub const TIME_EXCEEDED: u8 = 11;
pub const PARAM_PROBLEM: u8 = 12;

view!(
    /// An ICMP message.
    Icmpv4Packet
);

impl<T: AsRef<[u8]>> Icmpv4Packet<T> {
    pub fn check_len(&self) -> Result<()> {
        if self.b().len() < HEADER_LEN {
            return Err(Error::Truncated);
        }
        Ok(())
    }
    pub fn msg_type(&self) -> u8 {
        self.b()[0]
    }
    pub fn code(&self) -> u8 {
        self.b()[1]
    }
    pub fn checksum(&self) -> u16 {
        rd16(self.b(), 2)
    }
    /// The four bytes after the checksum.
    pub fn rest_of_header(&self) -> u32 {
        rd32(self.b(), 4)
    }
    /// Echo identifier (for echo request and reply).
    pub fn echo_ident(&self) -> u16 {
        rd16(self.b(), 4)
    }
    /// Echo sequence number.
    pub fn echo_seq(&self) -> u16 {
        rd16(self.b(), 6)
    }
    pub fn data(&self) -> &[u8] {
        &self.b()[HEADER_LEN..]
    }
    pub fn verify_checksum(&self) -> bool {
        checksum::checksum(self.b()) == 0
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Icmpv4Packet<T> {
    pub fn set_msg_type(&mut self, v: u8) {
        self.bm()[0] = v
    }
    pub fn set_code(&mut self, v: u8) {
        self.bm()[1] = v
    }
    pub fn set_checksum(&mut self, v: u16) {
        wr16(self.bm(), 2, v)
    }
    pub fn set_rest_of_header(&mut self, v: u32) {
        wr32(self.bm(), 4, v)
    }
    pub fn fill_checksum(&mut self) {
        self.set_checksum(0);
        let c = checksum::checksum(self.b());
        self.set_checksum(c);
    }
}

impl<T: AsRef<[u8]>> fmt::Display for Icmpv4Packet<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match Icmpv4Repr::parse(self) {
            Ok(r) => write!(f, "{r}"),
            Err(e) => write!(f, "ICMP ({e})"),
        }
    }
}

/// An ICMP message: type, code, the rest-of-header word and the data.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Icmpv4Repr<'a> {
    pub msg_type: u8,
    pub code: u8,
    pub rest_of_header: u32,
    pub data: &'a [u8],
}

impl<'a> Icmpv4Repr<'a> {
    pub fn parse<T: AsRef<[u8]>>(p: &'a Icmpv4Packet<T>) -> Result<Self> {
        p.check_len()?;
        let b: &'a [u8] = p.buffer.as_ref();
        Ok(Icmpv4Repr {
            msg_type: p.msg_type(),
            code: p.code(),
            rest_of_header: p.rest_of_header(),
            data: &b[HEADER_LEN..],
        })
    }
    pub fn buffer_len(&self) -> usize {
        HEADER_LEN + self.data.len()
    }
    /// Writes the message with its checksum.
    pub fn emit(&self, out: &mut [u8]) -> Result<()> {
        let len = self.buffer_len();
        if out.len() < len {
            return Err(Error::Truncated);
        }
        let mut p = Icmpv4Packet::new_unchecked(&mut out[..len]);
        p.set_msg_type(self.msg_type);
        p.set_code(self.code);
        p.set_rest_of_header(self.rest_of_header);
        p.bm()[HEADER_LEN..].copy_from_slice(self.data);
        p.fill_checksum();
        Ok(())
    }
}

impl fmt::Display for Icmpv4Repr<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (id, seq) = (
            (self.rest_of_header >> 16) as u16,
            self.rest_of_header as u16,
        );
        match self.msg_type {
            ECHO_REQUEST => write!(f, "ICMP echo request, id {id}, seq {seq}")?,
            ECHO_REPLY => write!(f, "ICMP echo reply, id {id}, seq {seq}")?,
            DEST_UNREACHABLE => write!(f, "ICMP unreachable, code {}", self.code)?,
            TIME_EXCEEDED => write!(f, "ICMP time exceeded in-transit, code {}", self.code)?,
            REDIRECT => write!(f, "ICMP redirect, code {}", self.code)?,
            PARAM_PROBLEM => write!(f, "ICMP parameter problem, code {}", self.code)?,
            t => write!(f, "ICMP type-#{t}, code {}", self.code)?,
        }
        write!(f, ", length {}", self.buffer_len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn echo_round_trip() {
        let r = Icmpv4Repr {
            msg_type: ECHO_REQUEST,
            code: 0,
            rest_of_header: 0x0001_0002,
            data: b"ping",
        };
        let mut b = [0u8; 12];
        r.emit(&mut b).unwrap();
        let p = Icmpv4Packet::new_checked(&b[..]).unwrap();
        assert!(p.verify_checksum());
        assert_eq!((p.echo_ident(), p.echo_seq()), (1, 2));
        assert_eq!(Icmpv4Repr::parse(&p).unwrap(), r);
        assert_eq!(r.to_string(), "ICMP echo request, id 1, seq 2, length 12");
        assert!(Icmpv4Packet::new_checked(&b[..7]).is_err());
    }
}
