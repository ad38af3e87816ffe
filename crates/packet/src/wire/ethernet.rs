//! Ethernet II frames, 802.1Q/802.1ad VLAN tags and 802.2 LLC/SNAP headers.

use std::fmt;

use super::{arr, rd16, view, wr16, Error, Mac, Result};

/// Length of the Ethernet header (addresses and type).
pub const HEADER_LEN: usize = 14;

/// The name tcpdump gives an EtherType.
pub fn ethertype_name(t: u16) -> &'static str {
    match t {
        0x0800 => "IPv4",
        0x0806 => "ARP",
        0x8035 => "Reverse ARP",
        0x8100 => "802.1Q",
        0x88a8 => "802.1Q-QinQ",
        0x86dd => "IPv6",
        0x8847 => "MPLS unicast",
        0x8848 => "MPLS multicast",
        0x894f => "NSH",
        0x88cc => "LLDP",
        0x6558 => "Transparent Ethernet bridging",
        _ => "Unknown",
    }
}

view!(
    /// An Ethernet frame: destination, source, EtherType (or 802.3
    /// length), payload.
    EthernetFrame
);

impl<T: AsRef<[u8]>> EthernetFrame<T> {
    pub fn check_len(&self) -> Result<()> {
        if self.b().len() < HEADER_LEN {
            return Err(Error::Truncated);
        }
        Ok(())
    }
    pub fn dst(&self) -> [u8; 6] {
        arr(self.b(), 0)
    }
    pub fn src(&self) -> [u8; 6] {
        arr(self.b(), 6)
    }
    /// The EtherType, or below 0x600 the 802.3 length.
    pub fn ethertype(&self) -> u16 {
        rd16(self.b(), 12)
    }
    pub fn payload(&self) -> &[u8] {
        &self.b()[HEADER_LEN..]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> EthernetFrame<T> {
    pub fn set_dst(&mut self, a: [u8; 6]) {
        self.bm()[0..6].copy_from_slice(&a);
    }
    pub fn set_src(&mut self, a: [u8; 6]) {
        self.bm()[6..12].copy_from_slice(&a);
    }
    pub fn set_ethertype(&mut self, t: u16) {
        wr16(self.bm(), 12, t)
    }
    pub fn payload_mut(&mut self) -> &mut [u8] {
        &mut self.bm()[HEADER_LEN..]
    }
}

impl<T: AsRef<[u8]>> fmt::Display for EthernetFrame<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match EthernetRepr::parse(self) {
            Ok(r) => write!(f, "{r}"),
            Err(e) => write!(f, "Ethernet ({e})"),
        }
    }
}

/// An Ethernet header.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct EthernetRepr {
    pub dst: [u8; 6],
    pub src: [u8; 6],
    /// EtherType, or 802.3 length below 0x600.
    pub ethertype: u16,
}

impl EthernetRepr {
    pub fn parse<T: AsRef<[u8]>>(frame: &EthernetFrame<T>) -> Result<Self> {
        frame.check_len()?;
        Ok(EthernetRepr {
            dst: frame.dst(),
            src: frame.src(),
            ethertype: frame.ethertype(),
        })
    }
    pub fn buffer_len(&self) -> usize {
        HEADER_LEN
    }
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, frame: &mut EthernetFrame<T>) {
        frame.set_dst(self.dst);
        frame.set_src(self.src);
        frame.set_ethertype(self.ethertype);
    }
}

impl fmt::Display for EthernetRepr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} > {}, ", Mac(self.src), Mac(self.dst))?;
        if self.ethertype < 0x0600 {
            write!(f, "802.3, length {}", self.ethertype)
        } else {
            write!(
                f,
                "ethertype {} (0x{:04x})",
                ethertype_name(self.ethertype),
                self.ethertype
            )
        }
    }
}

/// Length of a VLAN tag's body behind its TPID (TCI and inner type).
pub const VLAN_HEADER_LEN: usize = 4;

view!(
    /// The body of an 802.1Q/802.1ad tag, i.e. the four bytes that follow
    /// the TPID: the tag control information and the inner EtherType.
    VlanHeader
);

impl<T: AsRef<[u8]>> VlanHeader<T> {
    pub fn check_len(&self) -> Result<()> {
        if self.b().len() < VLAN_HEADER_LEN {
            return Err(Error::Truncated);
        }
        Ok(())
    }
    pub fn tci(&self) -> u16 {
        rd16(self.b(), 0)
    }
    pub fn pcp(&self) -> u8 {
        (self.tci() >> 13) as u8
    }
    pub fn dei(&self) -> bool {
        self.tci() & 0x1000 != 0
    }
    pub fn vid(&self) -> u16 {
        self.tci() & 0x0fff
    }
    pub fn ethertype(&self) -> u16 {
        rd16(self.b(), 2)
    }
    pub fn payload(&self) -> &[u8] {
        &self.b()[VLAN_HEADER_LEN..]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> VlanHeader<T> {
    pub fn set_tci(&mut self, tci: u16) {
        wr16(self.bm(), 0, tci)
    }
    pub fn set_ethertype(&mut self, t: u16) {
        wr16(self.bm(), 2, t)
    }
}

/// A VLAN tag body.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct VlanRepr {
    /// Priority code point, 0..=7.
    pub pcp: u8,
    pub dei: bool,
    /// VLAN id, 0..=4095.
    pub vid: u16,
    pub ethertype: u16,
}

impl VlanRepr {
    pub fn parse<T: AsRef<[u8]>>(h: &VlanHeader<T>) -> Result<Self> {
        h.check_len()?;
        Ok(VlanRepr {
            pcp: h.pcp(),
            dei: h.dei(),
            vid: h.vid(),
            ethertype: h.ethertype(),
        })
    }
    pub fn buffer_len(&self) -> usize {
        VLAN_HEADER_LEN
    }
    pub fn tci(&self) -> u16 {
        ((self.pcp as u16 & 7) << 13) | ((self.dei as u16) << 12) | (self.vid & 0x0fff)
    }
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, h: &mut VlanHeader<T>) {
        h.set_tci(self.tci());
        h.set_ethertype(self.ethertype);
    }
}

impl fmt::Display for VlanRepr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "vlan {}, p {}", self.vid, self.pcp)?;
        if self.dei {
            f.write_str(", DEI")?;
        }
        write!(
            f,
            ", ethertype {} (0x{:04x})",
            ethertype_name(self.ethertype),
            self.ethertype
        )
    }
}

/// Length of an 802.2 LLC header followed by a SNAP header.
pub const LLC_SNAP_LEN: usize = 8;

view!(
    /// An 802.2 LLC header with SNAP extension (DSAP 0xaa, SSAP 0xaa,
    /// control 3, OUI, protocol id).
    LlcSnapHeader
);

impl<T: AsRef<[u8]>> LlcSnapHeader<T> {
    pub fn check_len(&self) -> Result<()> {
        if self.b().len() < LLC_SNAP_LEN {
            return Err(Error::Truncated);
        }
        Ok(())
    }
    pub fn dsap(&self) -> u8 {
        self.b()[0]
    }
    pub fn ssap(&self) -> u8 {
        self.b()[1]
    }
    pub fn control(&self) -> u8 {
        self.b()[2]
    }
    pub fn oui(&self) -> [u8; 3] {
        arr(self.b(), 3)
    }
    pub fn snap_type(&self) -> u16 {
        rd16(self.b(), 6)
    }
    pub fn payload(&self) -> &[u8] {
        &self.b()[LLC_SNAP_LEN..]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> LlcSnapHeader<T> {
    pub fn set_snap(&mut self, oui: [u8; 3], snap_type: u16) {
        let b = self.bm();
        b[0..3].copy_from_slice(&[0xaa, 0xaa, 0x03]);
        b[3..6].copy_from_slice(&oui);
        wr16(b, 6, snap_type);
    }
}

/// An LLC/SNAP header (only the SNAP form is representable).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct LlcSnapRepr {
    pub oui: [u8; 3],
    pub snap_type: u16,
}

impl LlcSnapRepr {
    pub fn parse<T: AsRef<[u8]>>(h: &LlcSnapHeader<T>) -> Result<Self> {
        h.check_len()?;
        if h.dsap() != 0xaa || h.ssap() != 0xaa || h.control() != 0x03 {
            return Err(Error::Malformed);
        }
        Ok(LlcSnapRepr {
            oui: h.oui(),
            snap_type: h.snap_type(),
        })
    }
    pub fn buffer_len(&self) -> usize {
        LLC_SNAP_LEN
    }
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, h: &mut LlcSnapHeader<T>) {
        h.set_snap(self.oui, self.snap_type);
    }
}

impl fmt::Display for LlcSnapRepr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "LLC, dsap SNAP (0xaa) Individual, ssap SNAP (0xaa) Command, ctrl 0x03: oui 0x{:02x}{:02x}{:02x}, pid 0x{:04x}",
            self.oui[0], self.oui[1], self.oui[2], self.snap_type
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FRAME: [u8; 18] = [
        0x50, 0x54, 0, 0, 0, 6, 0x50, 0x54, 0, 0, 0, 5, 0x81, 0x00, 0xa0, 0x64, 0x08, 0x00,
    ];

    #[test]
    fn ethernet_view_and_repr() {
        let f = EthernetFrame::new_checked(&FRAME[..]).unwrap();
        assert_eq!(f.ethertype(), 0x8100);
        let r = EthernetRepr::parse(&f).unwrap();
        assert_eq!(
            r.to_string(),
            "50:54:00:00:00:05 > 50:54:00:00:00:06, ethertype 802.1Q (0x8100)"
        );
        let mut buf = [0u8; 14];
        r.emit(&mut EthernetFrame::new_unchecked(&mut buf[..]));
        assert_eq!(buf[..], FRAME[..14]);
        assert_eq!(
            EthernetFrame::new_checked(&FRAME[..13]).unwrap_err(),
            Error::Truncated
        );
        let dot3 = EthernetRepr {
            ethertype: 0x26,
            ..r
        };
        assert!(dot3.to_string().ends_with("802.3, length 38"));
    }

    #[test]
    fn vlan_tag() {
        let v = VlanHeader::new_checked(&FRAME[14..]).unwrap();
        let r = VlanRepr::parse(&v).unwrap();
        assert_eq!((r.pcp, r.dei, r.vid), (5, false, 100));
        assert_eq!(r.to_string(), "vlan 100, p 5, ethertype IPv4 (0x0800)");
        let mut buf = [0u8; 4];
        r.emit(&mut VlanHeader::new_unchecked(&mut buf[..]));
        assert_eq!(buf[..], FRAME[14..]);
        assert!(VlanHeader::new_checked(&FRAME[15..]).is_err());
    }

    #[test]
    fn llc_snap() {
        let b = [0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x00, 0x45];
        let r = LlcSnapRepr::parse(&LlcSnapHeader::new_checked(&b[..]).unwrap()).unwrap();
        assert_eq!(r.snap_type, 0x0800);
        let mut out = [0u8; 8];
        r.emit(&mut LlcSnapHeader::new_unchecked(&mut out[..]));
        assert_eq!(out[..], b[..8]);
        let stp = [0x42, 0x42, 0x03, 0, 0, 0, 0, 0];
        assert_eq!(
            LlcSnapRepr::parse(&LlcSnapHeader::new_unchecked(&stp[..])),
            Err(Error::Malformed)
        );
    }
}
