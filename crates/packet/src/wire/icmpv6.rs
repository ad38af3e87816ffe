//! ICMPv6 messages, with neighbour discovery (solicitations,
//! advertisements and their link-layer address options).

use std::fmt;
use std::net::Ipv6Addr;

use super::{arr, rd16, rd32, view, wr16, wr32, Error, Mac, Result};
use crate::checksum;

/// Length of the ICMPv6 header (type, code, checksum, rest of header).
pub const HEADER_LEN: usize = 8;

pub const DST_UNREACH: u8 = 1;
pub const PACKET_TOO_BIG: u8 = 2;
pub const TIME_EXCEEDED: u8 = 3;
pub const ECHO_REQUEST: u8 = 128;
pub const ECHO_REPLY: u8 = 129;
pub const ROUTER_SOLICIT: u8 = 133;
pub const ROUTER_ADVERT: u8 = 134;
pub const NEIGHBOR_SOLICIT: u8 = 135;
pub const NEIGHBOR_ADVERT: u8 = 136;

/// ND option types.
pub const OPT_SOURCE_LLADDR: u8 = 1;
pub const OPT_TARGET_LLADDR: u8 = 2;

/// Neighbour advertisement flags (in the rest-of-header word).
pub const NA_ROUTER: u32 = 0x8000_0000;
pub const NA_SOLICITED: u32 = 0x4000_0000;
pub const NA_OVERRIDE: u32 = 0x2000_0000;

view!(
    /// An ICMPv6 message.
    Icmpv6Packet
);

impl<T: AsRef<[u8]>> Icmpv6Packet<T> {
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
    /// The word after the checksum (ND: flags and reserved bits).
    pub fn rest_of_header(&self) -> u32 {
        rd32(self.b(), 4)
    }
    pub fn data(&self) -> &[u8] {
        &self.b()[HEADER_LEN..]
    }
    /// Whether the checksum over the whole buffer and the pseudo-header
    /// sum `pseudo` is right.
    pub fn verify_checksum(&self, pseudo: u32) -> bool {
        checksum::finish(checksum::add(pseudo, self.b())) == 0
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Icmpv6Packet<T> {
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
    pub fn fill_checksum(&mut self, pseudo: u32) {
        self.set_checksum(0);
        let c = checksum::finish(checksum::add(pseudo, self.b()));
        self.set_checksum(c);
    }
}

impl<T: AsRef<[u8]>> fmt::Display for Icmpv6Packet<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match Icmpv6Repr::parse(self) {
            Ok(r) => write!(f, "{r}"),
            Err(e) => write!(f, "ICMP6 ({e})"),
        }
    }
}

view!(
    /// One neighbour discovery option: type, length in units of 8 bytes,
    /// data.
    NdOption
);

impl<T: AsRef<[u8]>> NdOption<T> {
    /// The option must have a nonzero length that fits in the buffer.
    pub fn check_len(&self) -> Result<()> {
        let b = self.b();
        if b.len() < 2 {
            return Err(Error::Truncated);
        }
        if b[1] == 0 {
            return Err(Error::Malformed);
        }
        if b.len() < self.byte_len() {
            return Err(Error::Truncated);
        }
        Ok(())
    }
    pub fn kind(&self) -> u8 {
        self.b()[0]
    }
    /// Length in bytes.
    pub fn byte_len(&self) -> usize {
        self.b()[1] as usize * 8
    }
    /// The bytes after type and length.
    pub fn data(&self) -> &[u8] {
        &self.b()[2..self.byte_len()]
    }
}

/// A neighbour discovery option.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NdOptionRepr<'a> {
    SourceLinkLayerAddr([u8; 6]),
    TargetLinkLayerAddr([u8; 6]),
    /// Any other option: its type and the bytes after type and length
    /// (length + 2 a multiple of 8).
    Other {
        kind: u8,
        data: &'a [u8],
    },
}

impl<'a> NdOptionRepr<'a> {
    pub fn parse<T: AsRef<[u8]>>(o: &'a NdOption<T>) -> Result<Self> {
        o.check_len()?;
        let b: &'a [u8] = o.buffer.as_ref();
        let len = o.byte_len();
        Ok(match (o.kind(), len) {
            (OPT_SOURCE_LLADDR, 8) => NdOptionRepr::SourceLinkLayerAddr(arr(b, 2)),
            (OPT_TARGET_LLADDR, 8) => NdOptionRepr::TargetLinkLayerAddr(arr(b, 2)),
            (kind, _) => NdOptionRepr::Other {
                kind,
                data: &b[2..len],
            },
        })
    }
    pub fn buffer_len(&self) -> usize {
        match self {
            NdOptionRepr::Other { data, .. } => 2 + data.len(),
            _ => 8,
        }
    }
    pub fn emit(&self, out: &mut [u8]) -> Result<()> {
        let len = self.buffer_len();
        if len % 8 != 0 || len / 8 > 255 {
            return Err(Error::Malformed);
        }
        if out.len() < len {
            return Err(Error::Truncated);
        }
        out[1] = (len / 8) as u8;
        match self {
            NdOptionRepr::SourceLinkLayerAddr(a) | NdOptionRepr::TargetLinkLayerAddr(a) => {
                out[0] = if matches!(self, NdOptionRepr::SourceLinkLayerAddr(_)) {
                    OPT_SOURCE_LLADDR
                } else {
                    OPT_TARGET_LLADDR
                };
                out[2..8].copy_from_slice(a);
            }
            NdOptionRepr::Other { kind, data } => {
                out[0] = *kind;
                out[2..len].copy_from_slice(data);
            }
        }
        Ok(())
    }
}

/// An ICMPv6 message; neighbour solicitations and advertisements are
/// parsed into their fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Icmpv6Repr<'a> {
    NeighborSolicit {
        target: [u8; 16],
        source_lladdr: Option<[u8; 6]>,
    },
    NeighborAdvert {
        /// Router, solicited and override flags ([`NA_ROUTER`], ...).
        flags: u32,
        target: [u8; 16],
        target_lladdr: Option<[u8; 6]>,
    },
    Other {
        msg_type: u8,
        code: u8,
        rest_of_header: u32,
        data: &'a [u8],
    },
}

impl<'a> Icmpv6Repr<'a> {
    /// Parses a message.  A solicitation or advertisement must hold its
    /// target and well-formed options; link-layer address options other
    /// than the first of each kind, and unknown options, are skipped.
    pub fn parse<T: AsRef<[u8]>>(p: &'a Icmpv6Packet<T>) -> Result<Self> {
        p.check_len()?;
        let b: &'a [u8] = p.buffer.as_ref();
        let (ty, code) = (p.msg_type(), p.code());
        if code != 0 || (ty != NEIGHBOR_SOLICIT && ty != NEIGHBOR_ADVERT) {
            return Ok(Icmpv6Repr::Other {
                msg_type: ty,
                code,
                rest_of_header: p.rest_of_header(),
                data: &b[HEADER_LEN..],
            });
        }
        if b.len() < HEADER_LEN + 16 {
            return Err(Error::Truncated);
        }
        let target = arr(b, HEADER_LEN);
        let (mut sll, mut tll) = (None, None);
        let mut rest = &b[HEADER_LEN + 16..];
        while !rest.is_empty() {
            let o = NdOption::new_checked(rest)?;
            let len = o.byte_len();
            match NdOptionRepr::parse(&o)? {
                NdOptionRepr::SourceLinkLayerAddr(a) => {
                    sll.get_or_insert(a);
                }
                NdOptionRepr::TargetLinkLayerAddr(a) => {
                    tll.get_or_insert(a);
                }
                NdOptionRepr::Other { .. } => {}
            }
            rest = &rest[len..];
        }
        Ok(if ty == NEIGHBOR_SOLICIT {
            Icmpv6Repr::NeighborSolicit {
                target,
                source_lladdr: sll,
            }
        } else {
            Icmpv6Repr::NeighborAdvert {
                flags: p.rest_of_header() & (NA_ROUTER | NA_SOLICITED | NA_OVERRIDE),
                target,
                target_lladdr: tll,
            }
        })
    }

    pub fn buffer_len(&self) -> usize {
        match self {
            Icmpv6Repr::NeighborSolicit {
                source_lladdr: a, ..
            }
            | Icmpv6Repr::NeighborAdvert {
                target_lladdr: a, ..
            } => HEADER_LEN + 16 + if a.is_some() { 8 } else { 0 },
            Icmpv6Repr::Other { data, .. } => HEADER_LEN + data.len(),
        }
    }

    /// Writes the message with its checksum over `pseudo` (see
    /// [`crate::checksum::pseudo_header_v6`]).
    pub fn emit(&self, out: &mut [u8], pseudo: u32) -> Result<()> {
        let len = self.buffer_len();
        if out.len() < len {
            return Err(Error::Truncated);
        }
        let out = &mut out[..len];
        let (ty, code, word) = match self {
            Icmpv6Repr::NeighborSolicit { .. } => (NEIGHBOR_SOLICIT, 0, 0),
            Icmpv6Repr::NeighborAdvert { flags, .. } => (NEIGHBOR_ADVERT, 0, *flags),
            Icmpv6Repr::Other {
                msg_type,
                code,
                rest_of_header,
                ..
            } => (*msg_type, *code, *rest_of_header),
        };
        out[0] = ty;
        out[1] = code;
        wr32(out, 4, word);
        match self {
            Icmpv6Repr::NeighborSolicit {
                target,
                source_lladdr: lla,
            }
            | Icmpv6Repr::NeighborAdvert {
                target,
                target_lladdr: lla,
                ..
            } => {
                out[HEADER_LEN..HEADER_LEN + 16].copy_from_slice(target);
                if let Some(a) = lla {
                    let opt = if ty == NEIGHBOR_SOLICIT {
                        NdOptionRepr::SourceLinkLayerAddr(*a)
                    } else {
                        NdOptionRepr::TargetLinkLayerAddr(*a)
                    };
                    opt.emit(&mut out[HEADER_LEN + 16..])?;
                }
            }
            Icmpv6Repr::Other { data, .. } => out[HEADER_LEN..].copy_from_slice(data),
        }
        Icmpv6Packet::new_unchecked(out).fill_checksum(pseudo);
        Ok(())
    }
}

impl fmt::Display for Icmpv6Repr<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Icmpv6Repr::NeighborSolicit {
                target,
                source_lladdr,
            } => {
                write!(
                    f,
                    "ICMP6, neighbor solicitation, who has {}",
                    Ipv6Addr::from(*target)
                )?;
                if let Some(a) = source_lladdr {
                    write!(f, ", source link-address {}", Mac(*a))?;
                }
            }
            Icmpv6Repr::NeighborAdvert {
                flags,
                target,
                target_lladdr,
            } => {
                write!(
                    f,
                    "ICMP6, neighbor advertisement, tgt is {}",
                    Ipv6Addr::from(*target)
                )?;
                let names: Vec<&str> = [
                    (NA_ROUTER, "router"),
                    (NA_SOLICITED, "solicited"),
                    (NA_OVERRIDE, "override"),
                ]
                .iter()
                .filter(|(b, _)| flags & b != 0)
                .map(|(_, n)| *n)
                .collect();
                if !names.is_empty() {
                    write!(f, ", Flags [{}]", names.join(", "))?;
                }
                if let Some(a) = target_lladdr {
                    write!(f, ", target link-address {}", Mac(*a))?;
                }
            }
            Icmpv6Repr::Other {
                msg_type,
                code,
                rest_of_header,
                ..
            } => {
                let (id, seq) = ((rest_of_header >> 16) as u16, *rest_of_header as u16);
                match *msg_type {
                    ECHO_REQUEST => write!(f, "ICMP6, echo request, id {id}, seq {seq}")?,
                    ECHO_REPLY => write!(f, "ICMP6, echo reply, id {id}, seq {seq}")?,
                    DST_UNREACH => write!(f, "ICMP6, destination unreachable, code {code}")?,
                    PACKET_TOO_BIG => write!(f, "ICMP6, packet too big, mtu {rest_of_header}")?,
                    TIME_EXCEEDED => write!(f, "ICMP6, time exceeded in-transit, code {code}")?,
                    ROUTER_SOLICIT => write!(f, "ICMP6, router solicitation")?,
                    ROUTER_ADVERT => write!(f, "ICMP6, router advertisement")?,
                    t => write!(f, "ICMP6, type {t}, code {code}")?,
                }
            }
        }
        write!(f, ", length {}", self.buffer_len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TARGET: [u8; 16] = [0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x99];

    #[test]
    fn solicitation_round_trip() {
        let r = Icmpv6Repr::NeighborSolicit {
            target: TARGET,
            source_lladdr: Some([0x50, 0x54, 0, 0, 0, 5]),
        };
        let pseudo = checksum::pseudo_header_v6(&[0; 16], &[0xff; 16], 58, 32);
        let mut b = [0u8; 32];
        r.emit(&mut b, pseudo).unwrap();
        let p = Icmpv6Packet::new_checked(&b[..]).unwrap();
        assert!(p.verify_checksum(pseudo));
        assert_eq!(Icmpv6Repr::parse(&p).unwrap(), r);
        assert_eq!(
            r.to_string(),
            "ICMP6, neighbor solicitation, who has fe80::99, source link-address 50:54:00:00:00:05, length 32"
        );
    }

    #[test]
    fn advertisement_flags_and_options() {
        let mut b = vec![NEIGHBOR_ADVERT, 0, 0, 0, 0x60, 0, 0, 0];
        b.extend_from_slice(&TARGET);
        b.extend_from_slice(&[3, 1, 0, 0, 0, 0, 0, 0]);
        b.extend_from_slice(&[2, 1, 1, 2, 3, 4, 5, 6]);
        let p = Icmpv6Packet::new_checked(&b[..]).unwrap();
        let r = Icmpv6Repr::parse(&p).unwrap();
        assert_eq!(
            r,
            Icmpv6Repr::NeighborAdvert {
                flags: NA_SOLICITED | NA_OVERRIDE,
                target: TARGET,
                target_lladdr: Some([1, 2, 3, 4, 5, 6])
            }
        );
        assert!(r.to_string().contains("Flags [solicited, override]"));
        // A zero-length option is malformed, a short target truncated.
        b[32 + 1] = 0;
        assert_eq!(
            Icmpv6Repr::parse(&Icmpv6Packet::new_checked(&b[..]).unwrap()),
            Err(Error::Malformed)
        );
        assert_eq!(
            Icmpv6Repr::parse(&Icmpv6Packet::new_checked(&b[..20]).unwrap()),
            Err(Error::Truncated)
        );
    }

    #[test]
    fn echo_is_other() {
        let b = [ECHO_REQUEST, 0, 0, 0, 0, 1, 0, 2, 9];
        let p = Icmpv6Packet::new_checked(&b[..]).unwrap();
        let r = Icmpv6Repr::parse(&p).unwrap();
        assert_eq!(r.to_string(), "ICMP6, echo request, id 1, seq 2, length 9");
        let mut out = [0u8; 9];
        r.emit(&mut out, 0).unwrap();
        assert_eq!(out[4..], b[4..]);
        assert!(Icmpv6Packet::new_checked(&b[..7]).is_err());
    }
}
