//! Wire formats of the headers the switch parses and builds.
//!
//! Every header exists twice, as in smoltcp:
//!
//! * a **view** (`EthernetFrame<T>`, `Ipv4Packet<T>`, `TcpPacket<T>`, ...)
//!   over any buffer `T: AsRef<[u8]>`, with an accessor per field, setters
//!   when `T: AsMut<[u8]>`, and the payload behind the header.  Construct it
//!   with `new_checked`, which makes sure the buffer holds the whole header
//!   (then no accessor can panic); `new_unchecked` skips that for buffers
//!   already known to be long enough.
//! * a **Repr** (`EthernetRepr`, `Ipv4Repr`, ...), a plain value that can
//!   only hold a valid header, with `parse` (view → repr, rejecting what is
//!   malformed), `buffer_len` and `emit` (repr → bytes).
//!
//! Both print themselves the way tcpdump describes a packet, and
//! [`describe::describe`] prints a whole frame layer by layer.
//!
//! The headers: [`ethernet`] (with 802.1Q/802.1ad tags and 802.2 LLC/SNAP),
//! [`mpls`], [`arp`], [`ipv4`], [`ipv6`] (with its extension headers),
//! [`tcp`], [`udp`], [`sctp`], [`icmpv4`], [`icmpv6`] (with neighbour
//! discovery), [`igmp`], [`nsh`], and the tunnel headers [`vxlan`],
//! [`geneve`] and [`gre`].  Checksums are computed with [`crate::checksum`].
//!
//! Flow extraction ([`crate::extract`]) does not go through these types: it
//! follows OVS's parser exactly, which tolerates things a Repr rejects.

// `%` rather than `is_multiple_of`, which is newer than the workspace's
// minimum Rust version.
#![allow(clippy::manual_is_multiple_of)]

use std::fmt;

pub mod arp;
pub mod describe;
pub mod ethernet;
pub mod geneve;
pub mod gre;
pub mod icmpv4;
pub mod icmpv6;
pub mod igmp;
pub mod ipv4;
pub mod ipv6;
pub mod mpls;
pub mod nsh;
pub mod sctp;
pub mod tcp;
pub mod udp;
pub mod vxlan;

/// Why a header could not be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    /// The buffer ends before the header (or the length it declares) does.
    Truncated,
    /// A field holds a value the format does not allow.
    Malformed,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Error::Truncated => "truncated header",
            Error::Malformed => "malformed header",
        })
    }
}

impl std::error::Error for Error {}

pub type Result<T> = std::result::Result<T, Error>;

/// A MAC address printed as `xx:xx:xx:xx:xx:xx`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Mac(pub [u8; 6]);

impl fmt::Display for Mac {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let a = self.0;
        write!(
            f,
            "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
            a[0], a[1], a[2], a[3], a[4], a[5]
        )
    }
}

pub(crate) fn rd16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

pub(crate) fn rd32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

pub(crate) fn wr16(b: &mut [u8], at: usize, v: u16) {
    b[at..at + 2].copy_from_slice(&v.to_be_bytes());
}

pub(crate) fn wr32(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_be_bytes());
}

pub(crate) fn arr<const N: usize>(b: &[u8], at: usize) -> [u8; N] {
    let mut a = [0u8; N];
    a.copy_from_slice(&b[at..at + N]);
    a
}

/// The constructors every view shares.  The type must have a `check_len`
/// method that says whether the buffer holds the whole header.
macro_rules! view {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub struct $name<T: AsRef<[u8]>> {
            buffer: T,
        }

        impl<T: AsRef<[u8]>> $name<T> {
            /// A view without length check: accessors may panic if the
            /// buffer is too short.
            pub const fn new_unchecked(buffer: T) -> Self {
                $name { buffer }
            }

            /// A view over a buffer that holds the whole header.
            pub fn new_checked(buffer: T) -> $crate::wire::Result<Self> {
                let v = Self::new_unchecked(buffer);
                v.check_len()?;
                Ok(v)
            }

            /// The underlying buffer.
            pub fn into_inner(self) -> T {
                self.buffer
            }

            fn b(&self) -> &[u8] {
                self.buffer.as_ref()
            }
        }

        impl<T: AsRef<[u8]> + AsMut<[u8]>> $name<T> {
            #[allow(dead_code)]
            fn bm(&mut self) -> &mut [u8] {
                self.buffer.as_mut()
            }
        }
    };
}
pub(crate) use view;

/// The name tcpdump gives an IP protocol number.
pub fn ip_proto_name(p: u8) -> &'static str {
    match p {
        0 => "HBH",
        1 => "ICMP",
        2 => "IGMP",
        4 => "IPIP",
        6 => "TCP",
        17 => "UDP",
        41 => "IPv6",
        43 => "Routing",
        44 => "Fragment",
        47 => "GRE",
        50 => "ESP",
        51 => "AH",
        58 => "ICMPv6",
        59 => "NoNext",
        60 => "DstOpts",
        132 => "SCTP",
        _ => "unknown",
    }
}
