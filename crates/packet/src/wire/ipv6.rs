//! IPv6 headers and extension headers (hop-by-hop, routing, destination
//! options, fragment, authentication).

use std::fmt;
use std::net::Ipv6Addr;

use super::{arr, ip_proto_name, rd16, rd32, view, wr16, wr32, Error, Result};
use crate::checksum;

/// Length of the fixed IPv6 header.
pub const HEADER_LEN: usize = 40;

view!(
    /// An IPv6 packet: fixed header, then the payload (extension headers
    /// included) up to the payload length.
    Ipv6Packet
);

impl<T: AsRef<[u8]>> Ipv6Packet<T> {
    pub fn check_len(&self) -> Result<()> {
        let b = self.b();
        if b.len() < HEADER_LEN || b.len() < HEADER_LEN + self.payload_len() as usize {
            return Err(Error::Truncated);
        }
        Ok(())
    }
    pub fn version(&self) -> u8 {
        self.b()[0] >> 4
    }
    pub fn traffic_class(&self) -> u8 {
        (rd32(self.b(), 0) >> 20) as u8
    }
    pub fn flow_label(&self) -> u32 {
        rd32(self.b(), 0) & 0x000f_ffff
    }
    pub fn payload_len(&self) -> u16 {
        rd16(self.b(), 4)
    }
    pub fn next_header(&self) -> u8 {
        self.b()[6]
    }
    pub fn hop_limit(&self) -> u8 {
        self.b()[7]
    }
    pub fn src(&self) -> [u8; 16] {
        arr(self.b(), 8)
    }
    pub fn dst(&self) -> [u8; 16] {
        arr(self.b(), 24)
    }
    pub fn payload(&self) -> &[u8] {
        &self.b()[HEADER_LEN..HEADER_LEN + self.payload_len() as usize]
    }
    /// Running sum of the pseudo-header for an upper-layer packet of
    /// `l4_len` bytes with protocol `proto` (behind any extension headers).
    pub fn pseudo_header(&self, proto: u8, l4_len: u32) -> u32 {
        checksum::pseudo_header_v6(&self.src(), &self.dst(), proto, l4_len)
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Ipv6Packet<T> {
    pub fn set_version_class_label(&mut self, traffic_class: u8, flow_label: u32) {
        let w = (6 << 28) | ((traffic_class as u32) << 20) | (flow_label & 0xfffff);
        wr32(self.bm(), 0, w)
    }
    pub fn set_payload_len(&mut self, v: u16) {
        wr16(self.bm(), 4, v)
    }
    pub fn set_next_header(&mut self, v: u8) {
        self.bm()[6] = v
    }
    pub fn set_hop_limit(&mut self, v: u8) {
        self.bm()[7] = v
    }
    pub fn set_src(&mut self, a: [u8; 16]) {
        self.bm()[8..24].copy_from_slice(&a)
    }
    pub fn set_dst(&mut self, a: [u8; 16]) {
        self.bm()[24..40].copy_from_slice(&a)
    }
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let n = self.payload_len() as usize;
        &mut self.bm()[HEADER_LEN..HEADER_LEN + n]
    }
}

impl<T: AsRef<[u8]>> fmt::Display for Ipv6Packet<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match Ipv6Repr::parse(self) {
            Ok(r) => write!(f, "{r}"),
            Err(e) => write!(f, "IPv6 ({e})"),
        }
    }
}

/// The fixed IPv6 header.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Ipv6Repr {
    pub src: [u8; 16],
    pub dst: [u8; 16],
    pub next_header: u8,
    pub traffic_class: u8,
    /// 0..=0xfffff.
    pub flow_label: u32,
    pub hop_limit: u8,
    pub payload_len: usize,
}

impl Ipv6Repr {
    pub fn parse<T: AsRef<[u8]>>(p: &Ipv6Packet<T>) -> Result<Self> {
        p.check_len()?;
        if p.version() != 6 {
            return Err(Error::Malformed);
        }
        Ok(Ipv6Repr {
            src: p.src(),
            dst: p.dst(),
            next_header: p.next_header(),
            traffic_class: p.traffic_class(),
            flow_label: p.flow_label(),
            hop_limit: p.hop_limit(),
            payload_len: p.payload_len() as usize,
        })
    }
    pub fn buffer_len(&self) -> usize {
        HEADER_LEN
    }
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, p: &mut Ipv6Packet<T>) {
        p.set_version_class_label(self.traffic_class, self.flow_label);
        p.set_payload_len(self.payload_len as u16);
        p.set_next_header(self.next_header);
        p.set_hop_limit(self.hop_limit);
        p.set_src(self.src);
        p.set_dst(self.dst);
    }
}

impl fmt::Display for Ipv6Repr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "IP6 {} > {}: ",
            Ipv6Addr::from(self.src),
            Ipv6Addr::from(self.dst)
        )?;
        if self.flow_label != 0 {
            write!(f, "flowlabel 0x{:05x}, ", self.flow_label)?;
        }
        write!(
            f,
            "class 0x{:x}, hlim {}, next-header {} ({}) payload length: {}",
            self.traffic_class,
            self.hop_limit,
            ip_proto_name(self.next_header),
            self.next_header,
            self.payload_len
        )
    }
}

/// Protocol numbers of the extension headers.
pub const HOPOPTS: u8 = 0;
pub const ROUTING: u8 = 43;
pub const FRAGMENT: u8 = 44;
pub const AH: u8 = 51;
pub const DSTOPTS: u8 = 60;

/// True for the extension headers this module understands.
pub fn is_extension_header(proto: u8) -> bool {
    matches!(proto, HOPOPTS | ROUTING | FRAGMENT | AH | DSTOPTS)
}

view!(
    /// A hop-by-hop, routing, destination options or authentication
    /// header: next header, length, data.  The length unit differs for AH
    /// (4 bytes, minus 2) from the others (8 bytes, minus 1); the view
    /// needs to know which one it is.
    Ipv6ExtHeader
);

impl<T: AsRef<[u8]>> Ipv6ExtHeader<T> {
    pub fn check_len(&self) -> Result<()> {
        if self.b().len() < 8 {
            return Err(Error::Truncated);
        }
        Ok(())
    }
    /// Checks that the whole header of kind `proto` is in the buffer.
    pub fn check_len_for(&self, proto: u8) -> Result<()> {
        self.check_len()?;
        if self.b().len() < self.header_len(proto) {
            return Err(Error::Truncated);
        }
        Ok(())
    }
    pub fn next_header(&self) -> u8 {
        self.b()[0]
    }
    pub fn raw_len(&self) -> u8 {
        self.b()[1]
    }
    /// Total length in bytes of this header when it is of kind `proto`.
    pub fn header_len(&self, proto: u8) -> usize {
        if proto == AH {
            (self.raw_len() as usize + 2) * 4
        } else {
            (self.raw_len() as usize + 1) * 8
        }
    }
    /// The bytes after next-header and length.
    pub fn data(&self, proto: u8) -> &[u8] {
        &self.b()[2..self.header_len(proto)]
    }
    pub fn payload(&self, proto: u8) -> &[u8] {
        &self.b()[self.header_len(proto)..]
    }
}

/// A hop-by-hop, routing or destination options header (not AH, not
/// fragment).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Ipv6ExtRepr<'a> {
    /// Which header this is (HOPOPTS, ROUTING or DSTOPTS).
    pub kind: u8,
    pub next_header: u8,
    /// Bytes after the first two; its length plus 2 is a multiple of 8.
    pub data: &'a [u8],
}

impl<'a> Ipv6ExtRepr<'a> {
    pub fn parse<T: AsRef<[u8]>>(kind: u8, h: &'a Ipv6ExtHeader<T>) -> Result<Self> {
        if !matches!(kind, HOPOPTS | ROUTING | DSTOPTS) {
            return Err(Error::Malformed);
        }
        h.check_len_for(kind)?;
        let b: &'a [u8] = h.buffer.as_ref();
        let len = (b[1] as usize + 1) * 8;
        Ok(Ipv6ExtRepr {
            kind,
            next_header: b[0],
            data: &b[2..len],
        })
    }
    pub fn buffer_len(&self) -> usize {
        2 + self.data.len()
    }
    /// Writes the header; `data.len() + 2` must be a multiple of 8.
    pub fn emit(&self, out: &mut [u8]) -> Result<()> {
        let len = self.buffer_len();
        if len % 8 != 0 || len / 8 > 256 {
            return Err(Error::Malformed);
        }
        if out.len() < len {
            return Err(Error::Truncated);
        }
        out[0] = self.next_header;
        out[1] = (len / 8 - 1) as u8;
        out[2..len].copy_from_slice(self.data);
        Ok(())
    }
}

impl fmt::Display for Ipv6ExtRepr<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self.kind {
            HOPOPTS => "HBH",
            ROUTING => "srcrt",
            _ => "DSTOPT",
        };
        write!(
            f,
            "{name} (len {}) next-header {}",
            self.buffer_len(),
            self.next_header
        )
    }
}

/// Length of the fragment header.
pub const FRAGMENT_HEADER_LEN: usize = 8;

view!(
    /// The IPv6 fragment header.
    Ipv6FragmentHeader
);

impl<T: AsRef<[u8]>> Ipv6FragmentHeader<T> {
    pub fn check_len(&self) -> Result<()> {
        if self.b().len() < FRAGMENT_HEADER_LEN {
            return Err(Error::Truncated);
        }
        Ok(())
    }
    pub fn next_header(&self) -> u8 {
        self.b()[0]
    }
    /// Offset and flags word (offset in its upper 13 bits, M in bit 0).
    pub fn offlg(&self) -> u16 {
        rd16(self.b(), 2)
    }
    /// Fragment offset in bytes.
    pub fn frag_offset(&self) -> u16 {
        self.offlg() & 0xfff8
    }
    pub fn more_frags(&self) -> bool {
        self.offlg() & 1 != 0
    }
    pub fn ident(&self) -> u32 {
        rd32(self.b(), 4)
    }
    pub fn payload(&self) -> &[u8] {
        &self.b()[FRAGMENT_HEADER_LEN..]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Ipv6FragmentHeader<T> {
    pub fn set_next_header(&mut self, v: u8) {
        self.bm()[0] = v;
        self.bm()[1] = 0;
    }
    pub fn set_offlg(&mut self, v: u16) {
        wr16(self.bm(), 2, v)
    }
    pub fn set_ident(&mut self, v: u32) {
        wr32(self.bm(), 4, v)
    }
}

/// An IPv6 fragment header.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Ipv6FragmentRepr {
    pub next_header: u8,
    /// In bytes; a multiple of 8.
    pub frag_offset: u16,
    pub more_frags: bool,
    pub ident: u32,
}

impl Ipv6FragmentRepr {
    pub fn parse<T: AsRef<[u8]>>(h: &Ipv6FragmentHeader<T>) -> Result<Self> {
        h.check_len()?;
        Ok(Ipv6FragmentRepr {
            next_header: h.next_header(),
            frag_offset: h.frag_offset(),
            more_frags: h.more_frags(),
            ident: h.ident(),
        })
    }
    pub fn buffer_len(&self) -> usize {
        FRAGMENT_HEADER_LEN
    }
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, h: &mut Ipv6FragmentHeader<T>) {
        h.set_next_header(self.next_header);
        h.set_offlg((self.frag_offset & 0xfff8) | self.more_frags as u16);
        h.set_ident(self.ident);
    }
}

impl fmt::Display for Ipv6FragmentRepr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "frag (0x{:08x}:{}{})",
            self.ident,
            self.frag_offset,
            if self.more_frags { "|more" } else { "" }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packet(next: u8, payload: &[u8]) -> Vec<u8> {
        let r = Ipv6Repr {
            src: Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1).octets(),
            dst: Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 2).octets(),
            next_header: next,
            traffic_class: 0xa1,
            flow_label: 0x12345,
            hop_limit: 64,
            payload_len: payload.len(),
        };
        let mut b = vec![0u8; 40];
        r.emit(&mut Ipv6Packet::new_unchecked(&mut b[..]));
        b.extend_from_slice(payload);
        b
    }

    #[test]
    fn fixed_header() {
        let b = packet(17, &[0; 8]);
        let p = Ipv6Packet::new_checked(&b[..]).unwrap();
        assert_eq!(
            (p.traffic_class(), p.flow_label(), p.payload_len()),
            (0xa1, 0x12345, 8)
        );
        let r = Ipv6Repr::parse(&p).unwrap();
        assert_eq!(
            r.to_string(),
            "IP6 fe80::1 > ff02::2: flowlabel 0x12345, class 0xa1, hlim 64, next-header UDP (17) payload length: 8"
        );
        assert_eq!(
            Ipv6Packet::new_checked(&b[..47]).unwrap_err(),
            Error::Truncated
        );
        let mut v4 = b.clone();
        v4[0] = 0x4a;
        assert_eq!(
            Ipv6Repr::parse(&Ipv6Packet::new_unchecked(&v4[..])),
            Err(Error::Malformed)
        );
    }

    #[test]
    fn extension_headers() {
        let hbh = [6u8, 0, 1, 4, 0, 0, 0, 0];
        let h = Ipv6ExtHeader::new_checked(&hbh[..]).unwrap();
        let r = Ipv6ExtRepr::parse(HOPOPTS, &h).unwrap();
        assert_eq!((r.next_header, r.data.len()), (6, 6));
        let mut out = [0u8; 8];
        r.emit(&mut out).unwrap();
        assert_eq!(out, hbh);
        assert_eq!(r.to_string(), "HBH (len 8) next-header 6");
        let long = [6u8, 1, 0, 0, 0, 0, 0, 0];
        let h = Ipv6ExtHeader::new_checked(&long[..]).unwrap();
        assert_eq!(Ipv6ExtRepr::parse(ROUTING, &h), Err(Error::Truncated));
        assert_eq!(h.header_len(AH), 12);
        let bad = Ipv6ExtRepr {
            kind: DSTOPTS,
            next_header: 6,
            data: &[0; 5],
        };
        assert_eq!(bad.emit(&mut [0u8; 16]), Err(Error::Malformed));
    }

    #[test]
    fn fragment_header() {
        let r = Ipv6FragmentRepr {
            next_header: 17,
            frag_offset: 1448,
            more_frags: true,
            ident: 7,
        };
        let mut b = [0u8; 8];
        r.emit(&mut Ipv6FragmentHeader::new_unchecked(&mut b[..]));
        assert_eq!(b, [17, 0, 0x05, 0xa9, 0, 0, 0, 7]);
        let back =
            Ipv6FragmentRepr::parse(&Ipv6FragmentHeader::new_checked(&b[..]).unwrap()).unwrap();
        assert_eq!(back, r);
        assert_eq!(r.to_string(), "frag (0x00000007:1448|more)");
        assert!(Ipv6FragmentHeader::new_checked(&b[..7]).is_err());
    }
}
