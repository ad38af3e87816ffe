//! GRE headers (RFC 2784 with the key and sequence extensions of RFC 2890).

use std::fmt;

use super::{rd16, rd32, view, wr16, wr32, Error, Result};
use crate::checksum;

/// Length of the GRE header without optional fields.
pub const BASE_LEN: usize = 4;

pub const FLAG_CSUM: u16 = 0x8000;
pub const FLAG_ROUTING: u16 = 0x4000;
pub const FLAG_KEY: u16 = 0x2000;
pub const FLAG_SEQ: u16 = 0x1000;
pub const VERSION_MASK: u16 = 0x0007;

view!(
    /// A GRE header: flags and version, protocol, then checksum, key and
    /// sequence number when their flags say so.
    GreHeader
);

impl<T: AsRef<[u8]>> GreHeader<T> {
    pub fn check_len(&self) -> Result<()> {
        let b = self.b();
        if b.len() < BASE_LEN || b.len() < self.header_len() {
            return Err(Error::Truncated);
        }
        Ok(())
    }
    pub fn flags(&self) -> u16 {
        rd16(self.b(), 0)
    }
    pub fn version(&self) -> u8 {
        (self.flags() & VERSION_MASK) as u8
    }
    pub fn protocol(&self) -> u16 {
        rd16(self.b(), 2)
    }
    pub fn header_len(&self) -> usize {
        let f = self.flags();
        BASE_LEN
            + if f & FLAG_CSUM != 0 { 4 } else { 0 }
            + if f & FLAG_KEY != 0 { 4 } else { 0 }
            + if f & FLAG_SEQ != 0 { 4 } else { 0 }
    }
    pub fn checksum(&self) -> Option<u16> {
        (self.flags() & FLAG_CSUM != 0).then(|| rd16(self.b(), 4))
    }
    pub fn key(&self) -> Option<u32> {
        let at = BASE_LEN + if self.flags() & FLAG_CSUM != 0 { 4 } else { 0 };
        (self.flags() & FLAG_KEY != 0).then(|| rd32(self.b(), at))
    }
    pub fn seq(&self) -> Option<u32> {
        let f = self.flags();
        let at = BASE_LEN
            + if f & FLAG_CSUM != 0 { 4 } else { 0 }
            + if f & FLAG_KEY != 0 { 4 } else { 0 };
        (f & FLAG_SEQ != 0).then(|| rd32(self.b(), at))
    }
    pub fn payload(&self) -> &[u8] {
        &self.b()[self.header_len()..]
    }
    /// Whether the checksum (when present) over header and payload is
    /// right.
    pub fn verify_checksum(&self) -> bool {
        self.checksum().is_none() || checksum::checksum(self.b()) == 0
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> GreHeader<T> {
    /// Computes the checksum over the whole buffer (header and payload),
    /// when the checksum flag is set.
    pub fn fill_checksum(&mut self) {
        if self.flags() & FLAG_CSUM == 0 {
            return;
        }
        wr16(self.bm(), 4, 0);
        wr16(self.bm(), 6, 0);
        let c = checksum::checksum(self.b());
        wr16(self.bm(), 4, c);
    }
}

impl<T: AsRef<[u8]>> fmt::Display for GreHeader<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match GreRepr::parse(self) {
            Ok(r) => write!(f, "{r}"),
            Err(e) => write!(f, "GRE ({e})"),
        }
    }
}

/// A version 0 GRE header without routing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct GreRepr {
    pub protocol: u16,
    /// Whether a checksum field is present.
    pub checksum: bool,
    pub key: Option<u32>,
    pub seq: Option<u32>,
}

impl GreRepr {
    pub fn parse<T: AsRef<[u8]>>(h: &GreHeader<T>) -> Result<Self> {
        h.check_len()?;
        if h.version() != 0 || h.flags() & FLAG_ROUTING != 0 {
            return Err(Error::Malformed);
        }
        Ok(GreRepr {
            protocol: h.protocol(),
            checksum: h.checksum().is_some(),
            key: h.key(),
            seq: h.seq(),
        })
    }
    pub fn buffer_len(&self) -> usize {
        BASE_LEN
            + 4 * (self.checksum as usize
                + self.key.is_some() as usize
                + self.seq.is_some() as usize)
    }
    /// Writes the header; with a checksum, put the payload behind it and
    /// call [`GreHeader::fill_checksum`] on the whole packet.
    pub fn emit(&self, out: &mut [u8]) -> Result<()> {
        let len = self.buffer_len();
        if out.len() < len {
            return Err(Error::Truncated);
        }
        let mut flags = 0;
        let mut at = BASE_LEN;
        if self.checksum {
            flags |= FLAG_CSUM;
            wr32(out, at, 0);
            at += 4;
        }
        if let Some(k) = self.key {
            flags |= FLAG_KEY;
            wr32(out, at, k);
            at += 4;
        }
        if let Some(s) = self.seq {
            flags |= FLAG_SEQ;
            wr32(out, at, s);
        }
        wr16(out, 0, flags);
        wr16(out, 2, self.protocol);
        Ok(())
    }
}

impl fmt::Display for GreRepr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut flags = String::new();
        if self.checksum {
            flags.push('C');
        }
        if self.key.is_some() {
            flags.push('K');
        }
        if self.seq.is_some() {
            flags.push('S');
        }
        write!(f, "GREv0, Flags [{flags}]")?;
        if let Some(k) = self.key {
            write!(f, ", key=0x{k:x}")?;
        }
        if let Some(s) = self.seq {
            write!(f, ", seq {s}")?;
        }
        write!(
            f,
            ", proto {} (0x{:04x})",
            super::ethernet::ethertype_name(self.protocol),
            self.protocol
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_options_round_trip() {
        let r = GreRepr {
            protocol: 0x6558,
            checksum: true,
            key: Some(0x1234),
            seq: Some(7),
        };
        let mut b = [0u8; 20];
        r.emit(&mut b).unwrap();
        b[16..].copy_from_slice(&[1, 2, 3, 4]);
        let mut h = GreHeader::new_checked(&mut b[..]).unwrap();
        h.fill_checksum();
        assert!(h.verify_checksum());
        assert_eq!(GreRepr::parse(&h).unwrap(), r);
        assert_eq!(h.payload(), &[1, 2, 3, 4]);
        assert_eq!(
            r.to_string(),
            "GREv0, Flags [CKS], key=0x1234, seq 7, proto Transparent Ethernet bridging (0x6558)"
        );
        assert_eq!(
            GreHeader::new_checked(&b[..15]).unwrap_err(),
            Error::Truncated
        );
    }

    #[test]
    fn plain_and_malformed() {
        let b = [0x00, 0x00, 0x08, 0x00];
        let r = GreRepr::parse(&GreHeader::new_checked(&b[..]).unwrap()).unwrap();
        assert_eq!(
            r,
            GreRepr {
                protocol: 0x0800,
                ..Default::default()
            }
        );
        let v1 = [0x00, 0x01, 0x88, 0x0b];
        assert_eq!(
            GreRepr::parse(&GreHeader::new_checked(&v1[..]).unwrap()),
            Err(Error::Malformed)
        );
    }
}
