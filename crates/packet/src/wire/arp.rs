//! ARP and RARP for Ethernet and IPv4.

use std::fmt;
use std::net::Ipv4Addr;

use super::{arr, rd16, rd32, view, wr16, wr32, Error, Mac, Result};

/// Length of an Ethernet/IPv4 ARP packet.
pub const ETH_IPV4_LEN: usize = 28;

view!(
    /// An ARP packet.  The address accessors assume Ethernet and IPv4
    /// address sizes (check [`ArpPacket::is_ethernet_ipv4`]).
    ArpPacket
);

impl<T: AsRef<[u8]>> ArpPacket<T> {
    /// The fixed part must be there, and for Ethernet/IPv4 all 28 bytes.
    pub fn check_len(&self) -> Result<()> {
        let b = self.b();
        if b.len() < 8 {
            return Err(Error::Truncated);
        }
        let need = 8 + 2 * (b[4] as usize + b[5] as usize);
        if b.len() < need.max(ETH_IPV4_LEN) {
            return Err(Error::Truncated);
        }
        Ok(())
    }
    pub fn hardware_type(&self) -> u16 {
        rd16(self.b(), 0)
    }
    pub fn protocol_type(&self) -> u16 {
        rd16(self.b(), 2)
    }
    pub fn hardware_len(&self) -> u8 {
        self.b()[4]
    }
    pub fn protocol_len(&self) -> u8 {
        self.b()[5]
    }
    pub fn operation(&self) -> u16 {
        rd16(self.b(), 6)
    }
    pub fn is_ethernet_ipv4(&self) -> bool {
        self.hardware_type() == 1
            && self.protocol_type() == 0x0800
            && self.hardware_len() == 6
            && self.protocol_len() == 4
    }
    pub fn sha(&self) -> [u8; 6] {
        arr(self.b(), 8)
    }
    pub fn spa(&self) -> u32 {
        rd32(self.b(), 14)
    }
    pub fn tha(&self) -> [u8; 6] {
        arr(self.b(), 18)
    }
    pub fn tpa(&self) -> u32 {
        rd32(self.b(), 24)
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> ArpPacket<T> {
    pub fn set_header(&mut self, hardware_type: u16, protocol_type: u16, hlen: u8, plen: u8) {
        let b = self.bm();
        wr16(b, 0, hardware_type);
        wr16(b, 2, protocol_type);
        b[4] = hlen;
        b[5] = plen;
    }
    pub fn set_operation(&mut self, op: u16) {
        wr16(self.bm(), 6, op)
    }
    pub fn set_sha(&mut self, a: [u8; 6]) {
        self.bm()[8..14].copy_from_slice(&a)
    }
    pub fn set_spa(&mut self, a: u32) {
        wr32(self.bm(), 14, a)
    }
    pub fn set_tha(&mut self, a: [u8; 6]) {
        self.bm()[18..24].copy_from_slice(&a)
    }
    pub fn set_tpa(&mut self, a: u32) {
        wr32(self.bm(), 24, a)
    }
}

impl<T: AsRef<[u8]>> fmt::Display for ArpPacket<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match ArpRepr::parse(self) {
            Ok(r) => write!(f, "{r}"),
            Err(e) => write!(f, "ARP ({e})"),
        }
    }
}

/// ARP opcodes.
pub const ARP_REQUEST: u16 = 1;
pub const ARP_REPLY: u16 = 2;
pub const RARP_REQUEST: u16 = 3;
pub const RARP_REPLY: u16 = 4;

/// An Ethernet/IPv4 ARP or RARP packet.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct ArpRepr {
    pub operation: u16,
    pub sha: [u8; 6],
    pub spa: u32,
    pub tha: [u8; 6],
    pub tpa: u32,
}

impl ArpRepr {
    pub fn parse<T: AsRef<[u8]>>(p: &ArpPacket<T>) -> Result<Self> {
        p.check_len()?;
        if !p.is_ethernet_ipv4() {
            return Err(Error::Malformed);
        }
        Ok(ArpRepr {
            operation: p.operation(),
            sha: p.sha(),
            spa: p.spa(),
            tha: p.tha(),
            tpa: p.tpa(),
        })
    }
    pub fn buffer_len(&self) -> usize {
        ETH_IPV4_LEN
    }
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, p: &mut ArpPacket<T>) {
        p.set_header(1, 0x0800, 6, 4);
        p.set_operation(self.operation);
        p.set_sha(self.sha);
        p.set_spa(self.spa);
        p.set_tha(self.tha);
        p.set_tpa(self.tpa);
    }
}

impl fmt::Display for ArpRepr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (spa, tpa) = (Ipv4Addr::from(self.spa), Ipv4Addr::from(self.tpa));
        match self.operation {
            ARP_REQUEST => write!(f, "ARP, Request who-has {tpa} tell {spa}"),
            ARP_REPLY => write!(f, "ARP, Reply {spa} is-at {}", Mac(self.sha)),
            RARP_REQUEST => write!(
                f,
                "RARP, Request who-is {} tell {}",
                Mac(self.tha),
                Mac(self.sha)
            ),
            RARP_REPLY => write!(f, "RARP, Reply {} at {tpa}", Mac(self.tha)),
            op => write!(f, "ARP, Unknown ({op}), {spa} > {tpa}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const REQ: [u8; 28] = [
        0, 1, 8, 0, 6, 4, 0, 1, 0x50, 0x54, 0, 0, 0, 5, 10, 0, 0, 1, 0, 0, 0, 0, 0, 0, 10, 0, 0, 2,
    ];

    #[test]
    fn request_round_trip() {
        let p = ArpPacket::new_checked(&REQ[..]).unwrap();
        let r = ArpRepr::parse(&p).unwrap();
        assert_eq!(r.to_string(), "ARP, Request who-has 10.0.0.2 tell 10.0.0.1");
        let mut out = [0u8; 28];
        r.emit(&mut ArpPacket::new_unchecked(&mut out[..]));
        assert_eq!(out, REQ);
        let reply = ArpRepr {
            operation: ARP_REPLY,
            ..r
        };
        assert_eq!(
            reply.to_string(),
            "ARP, Reply 10.0.0.1 is-at 50:54:00:00:00:05"
        );
    }

    #[test]
    fn truncated_or_foreign() {
        assert_eq!(
            ArpPacket::new_checked(&REQ[..27]).unwrap_err(),
            Error::Truncated
        );
        let mut ipx = REQ;
        ipx[2] = 0x81;
        let p = ArpPacket::new_checked(&ipx[..]).unwrap();
        assert_eq!(ArpRepr::parse(&p), Err(Error::Malformed));
    }
}
