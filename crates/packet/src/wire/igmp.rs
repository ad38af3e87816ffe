//! IGMP messages (the 8-byte form of versions 1 and 2, and the fixed part
//! of version 3 queries and reports).

use std::fmt;
use std::net::Ipv4Addr;

use super::{rd16, rd32, view, wr16, wr32, Error, Result};
use crate::checksum;

/// Length of an IGMPv1/v2 message.
pub const HEADER_LEN: usize = 8;

pub const MEMBERSHIP_QUERY: u8 = 0x11;
pub const V1_MEMBERSHIP_REPORT: u8 = 0x12;
pub const V2_MEMBERSHIP_REPORT: u8 = 0x16;
pub const LEAVE_GROUP: u8 = 0x17;
pub const V3_MEMBERSHIP_REPORT: u8 = 0x22;

view!(
    /// An IGMP message: type, max response time, checksum, group.
    IgmpPacket
);

impl<T: AsRef<[u8]>> IgmpPacket<T> {
    pub fn check_len(&self) -> Result<()> {
        if self.b().len() < HEADER_LEN {
            return Err(Error::Truncated);
        }
        Ok(())
    }
    pub fn msg_type(&self) -> u8 {
        self.b()[0]
    }
    pub fn max_resp(&self) -> u8 {
        self.b()[1]
    }
    pub fn checksum(&self) -> u16 {
        rd16(self.b(), 2)
    }
    /// Group address (for a v3 report: reserved word and record count).
    pub fn group(&self) -> u32 {
        rd32(self.b(), 4)
    }
    /// Bytes behind the first 8 (v3 query fields, v3 group records).
    pub fn rest(&self) -> &[u8] {
        &self.b()[HEADER_LEN..]
    }
    pub fn verify_checksum(&self) -> bool {
        checksum::checksum(self.b()) == 0
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> IgmpPacket<T> {
    pub fn set_msg_type(&mut self, v: u8) {
        self.bm()[0] = v
    }
    pub fn set_max_resp(&mut self, v: u8) {
        self.bm()[1] = v
    }
    pub fn set_checksum(&mut self, v: u16) {
        wr16(self.bm(), 2, v)
    }
    pub fn set_group(&mut self, v: u32) {
        wr32(self.bm(), 4, v)
    }
    pub fn fill_checksum(&mut self) {
        self.set_checksum(0);
        let c = checksum::checksum(self.b());
        self.set_checksum(c);
    }
}

impl<T: AsRef<[u8]>> fmt::Display for IgmpPacket<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match IgmpRepr::parse(self) {
            Ok(r) => write!(f, "{r}"),
            Err(e) => write!(f, "IGMP ({e})"),
        }
    }
}

/// An IGMP message in its 8-byte form.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct IgmpRepr {
    pub msg_type: u8,
    pub max_resp: u8,
    pub group: u32,
}

impl IgmpRepr {
    pub fn parse<T: AsRef<[u8]>>(p: &IgmpPacket<T>) -> Result<Self> {
        p.check_len()?;
        Ok(IgmpRepr {
            msg_type: p.msg_type(),
            max_resp: p.max_resp(),
            group: p.group(),
        })
    }
    pub fn buffer_len(&self) -> usize {
        HEADER_LEN
    }
    /// Writes the message with its checksum into the first 8 bytes of `p`.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, p: &mut IgmpPacket<T>) {
        p.set_msg_type(self.msg_type);
        p.set_max_resp(self.max_resp);
        p.set_group(self.group);
        p.set_checksum(0);
        let c = checksum::checksum(&p.b()[..HEADER_LEN]);
        p.set_checksum(c);
    }
}

impl fmt::Display for IgmpRepr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let g = Ipv4Addr::from(self.group);
        match self.msg_type {
            MEMBERSHIP_QUERY if self.group == 0 => write!(f, "igmp query"),
            MEMBERSHIP_QUERY => write!(f, "igmp query [gaddr {g}]"),
            V1_MEMBERSHIP_REPORT => write!(f, "igmp v1 report {g}"),
            V2_MEMBERSHIP_REPORT => write!(f, "igmp v2 report {g}"),
            LEAVE_GROUP => write!(f, "igmp leave {g}"),
            V3_MEMBERSHIP_REPORT => {
                write!(f, "igmp v3 report, {} group record(s)", self.group & 0xffff)
            }
            t => write!(f, "igmp-{t}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_round_trip() {
        let r = IgmpRepr {
            msg_type: V2_MEMBERSHIP_REPORT,
            max_resp: 0,
            group: 0xe000_0016,
        };
        let mut b = [0u8; 8];
        r.emit(&mut IgmpPacket::new_unchecked(&mut b[..]));
        assert_eq!(b, [0x16, 0, 0x09, 0xe9, 0xe0, 0, 0, 0x16]);
        let p = IgmpPacket::new_checked(&b[..]).unwrap();
        assert!(p.verify_checksum());
        assert_eq!(IgmpRepr::parse(&p).unwrap(), r);
        assert_eq!(r.to_string(), "igmp v2 report 224.0.0.22");
        assert!(IgmpPacket::new_checked(&b[..7]).is_err());
    }
}
