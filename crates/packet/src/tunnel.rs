//! Tunnel encapsulation and decapsulation in userspace: VXLAN, Geneve,
//! GRE, ERSPAN (versions 1 and 2, over GRE) and GTP-U over IPv4 or IPv6 (OVS's `netdev_tnl_*` / `netdev_*_build_header`,
//! `*_push_header`, `*_pop_header`).
//!
//! * [`build_header`] turns tunnel metadata (the `tun_*` fields a flow sets
//!   before output to a tunnel port) and the next hop's addresses into an
//!   [`EncapHeader`]: the outer Ethernet, IP, UDP and tunnel headers as a
//!   template, which is what the datapath's `tnl_push` action carries.
//! * [`encap`] / [`finish_encap`] put a template in front of a frame and
//!   fill what depends on the frame: IP and UDP lengths, the IPv4 header
//!   checksum, the UDP source port (from the frame's hash, in the range
//!   [`TNL_UDP_PORT_MIN`]..[`TNL_UDP_PORT_MAX`]), the UDP checksum when the
//!   template asks for one, GRE's checksum.
//! * [`decap`] reads the outer headers of a received tunnel packet back into
//!   tunnel metadata and says where the inner packet starts.  Packets that
//!   upstream drops (bad checksums, IP options, fragments, unknown flags)
//!   are refused with [`Error::Malformed`].
//!
//! Geneve options travel as raw bytes here; mapping them to
//! `tun_metadata<N>` through the TLV table is the job of the layers above.

use std::ops::Range;

use crate::checksum;
use crate::flow::FlowTnl;
use crate::wire::{self, Error};

/// Tunnel flag: Geneve OAM packet.
pub const FLOW_TNL_F_OAM: u16 = 1 << 0;
/// Tunnel flag: outer IPv4 header has (or gets) DF.
pub const FLOW_TNL_F_DONT_FRAGMENT: u16 = 1 << 1;
/// Tunnel flag: outer UDP (or GRE) checksum present.
pub const FLOW_TNL_F_CSUM: u16 = 1 << 2;
/// Tunnel flag: a key (VNI, GRE key) is present.
pub const FLOW_TNL_F_KEY: u16 = 1 << 3;
/// Tunnel flag: the Geneve options are raw, as received
/// ([`crate::TunMetadata::geneve_raw`]), not yet `tun_metadataN` fields.
pub const FLOW_TNL_F_UDPIF: u16 = 1 << 4;

/// Range of UDP source ports chosen by hash for encapsulated packets.
pub const TNL_UDP_PORT_MIN: u16 = 32768;
pub const TNL_UDP_PORT_MAX: u16 = 61000;

/// EtherType that says "the payload is an Ethernet frame" (transparent
/// Ethernet bridging).
pub const ETH_TYPE_TEB: u16 = 0x6558;

const ETH_LEN: usize = 14;
const IPV4_LEN: usize = 20;
const IPV6_LEN: usize = 40;
const UDP_LEN: usize = 8;

/// The tunnel protocols.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TunnelKind {
    Vxlan,
    Geneve,
    Gre,
    /// ERSPAN type II (version 1) or III (version 2) over GRE.
    Erspan,
    /// GTP-U (an IP packet without Ethernet inside).
    Gtpu,
}

impl TunnelKind {
    /// The IANA UDP destination port (none for GRE).
    pub fn default_udp_port(self) -> Option<u16> {
        match self {
            TunnelKind::Vxlan => Some(wire::vxlan::UDP_PORT),
            TunnelKind::Geneve => Some(wire::geneve::UDP_PORT),
            TunnelKind::Gtpu => Some(GTPU_UDP_PORT),
            TunnelKind::Gre | TunnelKind::Erspan => None,
        }
    }

    /// True for the kinds carried in GRE.
    pub fn is_gre(self) -> bool {
        matches!(self, TunnelKind::Gre | TunnelKind::Erspan)
    }
}

/// The IANA port of GTP-U.
pub const GTPU_UDP_PORT: u16 = 2152;
/// GTP-U flags of the header this datapath builds (version 1, GTP).
pub const GTPU_FLAGS_DEFAULT: u8 = 0x30;
/// GTP-U flag: a sequence number (and the 4 optional bytes) follows.
const GTPU_S_MASK: u8 = 0x02;
/// GTP-U message type of a user-plane packet (G-PDU).
pub const GTPU_MSGTYPE_GPDU: u8 = 255;
const GTPU_LEN: usize = 8;
/// GRE protocol of ERSPAN type II (version 1) and type III (version 2).
pub const ETH_TYPE_ERSPAN1: u16 = 0x88be;
pub const ETH_TYPE_ERSPAN2: u16 = 0x22eb;
/// GRE flag: sequence number present (ERSPAN's only GRE flag).
const GRE_SEQ: u16 = 0x1000;
const ERSPAN_SID_MASK: u64 = 0x3ff;
const ERSPAN_IDX_MASK: u32 = 0xfffff;

/// An encapsulation header template.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EncapHeader {
    pub kind: TunnelKind,
    /// Outer Ethernet, IP, UDP (VXLAN, Geneve) and tunnel header.
    pub bytes: Vec<u8>,
    /// Whether the outer IP header is IPv6.
    pub ipv6: bool,
}

impl EncapHeader {
    fn l4(&self) -> usize {
        ETH_LEN + if self.ipv6 { IPV6_LEN } else { IPV4_LEN }
    }
}

/// What [`build_header`] needs besides the tunnel metadata.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EncapParams<'a> {
    /// Outer Ethernet source (the bridge's) and destination (next hop's).
    pub eth_src: [u8; 6],
    pub eth_dst: [u8; 6],
    /// UDP destination port for VXLAN and Geneve; 0 means the IANA port.
    pub udp_dst: u16,
    /// Geneve options (whole options, at most 252 bytes).
    pub geneve_options: &'a [u8],
    /// Protocol of the inner packet for GRE: [`ETH_TYPE_TEB`] for an
    /// Ethernet frame, else its EtherType.
    pub gre_protocol: u16,
    /// GRE sequence number to put in, if any.
    pub gre_seq: Option<u32>,
}

fn put16(b: &mut [u8], at: usize, v: u16) {
    b[at..at + 2].copy_from_slice(&v.to_be_bytes());
}

fn put32(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_be_bytes());
}

fn get16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

/// Builds the encapsulation template for `tnl` (outer addresses, TOS, TTL,
/// flags, key) with the addresses and options of `p`.  The outer family is
/// IPv6 when `tnl.ipv6_dst` is set, IPv4 otherwise.
pub fn build_header(
    kind: TunnelKind,
    tnl: &FlowTnl,
    p: &EncapParams<'_>,
) -> Result<EncapHeader, Error> {
    let ipv6 = tnl.ipv6_dst != [0; 16];
    let mut b = Vec::with_capacity(128);
    b.extend_from_slice(&p.eth_dst);
    b.extend_from_slice(&p.eth_src);
    b.extend_from_slice(&(if ipv6 { 0x86ddu16 } else { 0x0800 }).to_be_bytes());
    let proto = if kind.is_gre() { 47 } else { 17 };
    if ipv6 {
        let mut ip = [0u8; IPV6_LEN];
        put32(&mut ip, 0, (6 << 28) | ((tnl.ip_tos as u32) << 20));
        ip[6] = proto;
        ip[7] = tnl.ip_ttl;
        ip[8..24].copy_from_slice(&tnl.ipv6_src);
        ip[24..40].copy_from_slice(&tnl.ipv6_dst);
        b.extend_from_slice(&ip);
    } else {
        let mut ip = [0u8; IPV4_LEN];
        ip[0] = 0x45;
        ip[1] = tnl.ip_tos;
        if tnl.flags & FLOW_TNL_F_DONT_FRAGMENT != 0 {
            put16(&mut ip, 6, wire::ipv4::DONT_FRAG);
        }
        ip[8] = tnl.ip_ttl;
        ip[9] = proto;
        put32(&mut ip, 12, tnl.ip_src);
        put32(&mut ip, 16, tnl.ip_dst);
        // Checksum over a zero total length; encap adds the length in.
        let c = checksum::checksum(&ip);
        put16(&mut ip, 10, c);
        b.extend_from_slice(&ip);
    }
    let csum = tnl.flags & FLOW_TNL_F_CSUM != 0;
    if !kind.is_gre() {
        let mut udp = [0u8; UDP_LEN];
        let dst = if p.udp_dst != 0 {
            p.udp_dst
        } else {
            kind.default_udp_port().unwrap_or(0)
        };
        put16(&mut udp, 2, dst);
        if csum {
            // Marks "checksum wanted"; encap computes it.
            put16(&mut udp, 6, 0xffff);
        }
        b.extend_from_slice(&udp);
    }
    let at = b.len();
    match kind {
        TunnelKind::Vxlan => {
            let r = wire::vxlan::VxlanRepr {
                vni: (tnl.tun_id & 0xff_ffff) as u32,
                gbp: (tnl.gbp_id != 0 || tnl.gbp_flags != 0).then_some(wire::vxlan::VxlanGbp {
                    flags: tnl.gbp_flags,
                    id: tnl.gbp_id,
                }),
            };
            b.resize(at + wire::vxlan::HEADER_LEN, 0);
            r.emit(&mut wire::vxlan::VxlanHeader::new_unchecked(&mut b[at..]));
        }
        TunnelKind::Geneve => {
            let critical = wire::geneve::options(p.geneve_options).any(|o| o.kind & 0x80 != 0);
            let r = wire::geneve::GeneveRepr {
                oam: tnl.flags & FLOW_TNL_F_OAM != 0,
                critical,
                protocol: ETH_TYPE_TEB,
                vni: (tnl.tun_id & 0xff_ffff) as u32,
                options: p.geneve_options,
            };
            b.resize(at + r.buffer_len(), 0);
            r.emit(&mut b[at..])?;
        }
        TunnelKind::Gre => {
            let r = wire::gre::GreRepr {
                protocol: if p.gre_protocol != 0 {
                    p.gre_protocol
                } else {
                    ETH_TYPE_TEB
                },
                checksum: csum,
                key: (tnl.flags & FLOW_TNL_F_KEY != 0).then_some(tnl.tun_id as u32),
                seq: p.gre_seq,
            };
            b.resize(at + r.buffer_len(), 0);
            r.emit(&mut b[at..])?;
        }
        TunnelKind::Erspan => erspan_header(tnl, &mut b)?,
        TunnelKind::Gtpu => {
            b.extend_from_slice(&[GTPU_FLAGS_DEFAULT, GTPU_MSGTYPE_GPDU, 0, 0]);
            b.extend_from_slice(&(tnl.tun_id as u32).to_be_bytes());
        }
    }
    Ok(EncapHeader {
        kind,
        bytes: b,
        ipv6,
    })
}

/// GRE with a sequence number (filled per packet by [`set_erspan_seq`]),
/// then the ERSPAN header of `tnl.erspan_ver` (1 or 2; any other version
/// cannot be built): the session id from the key, then the index (version
/// 1) or the direction and hardware id (version 2; its timestamp is also
/// per packet).
fn erspan_header(tnl: &FlowTnl, b: &mut Vec<u8>) -> Result<(), Error> {
    let proto = match tnl.erspan_ver {
        1 => ETH_TYPE_ERSPAN1,
        2 => ETH_TYPE_ERSPAN2,
        _ => return Err(Error::Malformed),
    };
    b.extend_from_slice(&GRE_SEQ.to_be_bytes());
    b.extend_from_slice(&proto.to_be_bytes());
    b.extend_from_slice(&[0; 4]);
    let sid = (tnl.tun_id & ERSPAN_SID_MASK) as u32;
    b.extend_from_slice(&((u32::from(tnl.erspan_ver) << 28) | sid).to_be_bytes());
    if tnl.erspan_ver == 1 {
        b.extend_from_slice(&(tnl.erspan_idx & ERSPAN_IDX_MASK).to_be_bytes());
    } else {
        let hwid = tnl.erspan_hwid & 0x3f;
        b.extend_from_slice(&[0; 6]);
        b.push(hwid >> 4);
        b.push(((hwid & 0xf) << 4) | ((tnl.erspan_dir & 1) << 3));
    }
    Ok(())
}

/// Writes an encapsulated ERSPAN packet's GRE sequence number and, for
/// version 2, its timestamp (in units of 100 µs).
pub fn set_erspan_seq(packet: &mut [u8], h: &EncapHeader, seq: u32, timestamp: u32) {
    if h.kind != TunnelKind::Erspan || packet.len() < h.bytes.len() {
        return;
    }
    let gre = h.l4();
    if packet.len() < gre + 16 {
        return;
    }
    put32(packet, gre + 4, seq);
    if packet[gre + 8] >> 4 == 2 {
        put32(packet, gre + 12, timestamp);
    }
}

/// The UDP source port range (`tnl/egress_port_range`), min in the high
/// half, max in the low half.
static EGRESS_PORT_RANGE: std::sync::atomic::AtomicU32 =
    std::sync::atomic::AtomicU32::new(((TNL_UDP_PORT_MIN as u32) << 16) | TNL_UDP_PORT_MAX as u32);

/// The UDP source port range of encapsulated packets: (min, max).
pub fn egress_port_range() -> (u16, u16) {
    let r = EGRESS_PORT_RANGE.load(std::sync::atomic::Ordering::Relaxed);
    ((r >> 16) as u16, r as u16)
}

/// Sets the UDP source port range (the bounds in either order).
pub fn set_egress_port_range(a: u16, b: u16) {
    let (min, max) = (a.min(b), a.max(b));
    EGRESS_PORT_RANGE.store(
        (u32::from(min) << 16) | u32::from(max),
        std::sync::atomic::Ordering::Relaxed,
    );
}

/// The UDP source port for a frame whose hash is `hash`: spread over the
/// egress port range (by default [`TNL_UDP_PORT_MIN`]..[`TNL_UDP_PORT_MAX`]).
pub fn udp_src_port(hash: u32) -> u16 {
    let (min, max) = egress_port_range();
    udp_src_port_in(hash, min, max)
}

/// The UDP source port for hash `hash` in the range `min..max` (`max`
/// itself only when the range is empty).
pub fn udp_src_port_in(hash: u32, min: u16, max: u16) -> u16 {
    let range = u64::from(max.saturating_sub(min));
    ((u64::from(hash) * range) >> 32) as u16 + min
}

/// A frame with `h` in front of it (allocating; see [`finish_encap`] to
/// work in a buffer with headroom).
pub fn encap(frame: &[u8], h: &EncapHeader, hash: u32) -> Vec<u8> {
    let mut out = Vec::with_capacity(h.bytes.len() + frame.len());
    out.extend_from_slice(&h.bytes);
    out.extend_from_slice(frame);
    finish_encap(&mut out, h, hash);
    out
}

/// Completes an encapsulated packet in place: `packet` starts with a copy
/// of `h.bytes` followed by the inner frame.
pub fn finish_encap(packet: &mut [u8], h: &EncapHeader, hash: u32) {
    if packet.len() < h.bytes.len() || packet.len() > u16::MAX as usize + ETH_LEN {
        return;
    }
    let l3 = ETH_LEN;
    let l4 = h.l4();
    let l4_len = packet.len() - l4;
    if h.ipv6 {
        put16(packet, l3 + 4, l4_len as u16);
    } else {
        let tot = (packet.len() - l3) as u16;
        put16(packet, l3 + 2, tot);
        let c = checksum::update16(get16(packet, l3 + 10), 0, tot);
        put16(packet, l3 + 10, c);
    }
    match h.kind {
        TunnelKind::Vxlan | TunnelKind::Geneve => {
            put16(packet, l4, udp_src_port(hash));
            put16(packet, l4 + 4, l4_len as u16);
            if get16(packet, l4 + 6) != 0 {
                put16(packet, l4 + 6, 0);
                let pseudo = if h.ipv6 {
                    checksum::pseudo_header_of_ipv6(&packet[l3..])
                } else {
                    checksum::pseudo_header_of_ipv4(&packet[l3..])
                }
                .unwrap_or(0);
                let c =
                    checksum::udp_nonzero(checksum::finish(checksum::add(pseudo, &packet[l4..])));
                put16(packet, l4 + 6, c);
            }
        }
        TunnelKind::Gtpu => {
            // As upstream's datapath does: the UDP checksum is computed
            // before the GTP-U length is written, and always.
            put16(packet, l4, udp_src_port(hash));
            put16(packet, l4 + 4, l4_len as u16);
            put16(packet, l4 + 6, 0);
            let pseudo = if h.ipv6 {
                checksum::pseudo_header_of_ipv6(&packet[l3..])
            } else {
                checksum::pseudo_header_of_ipv4(&packet[l3..])
            }
            .unwrap_or(0);
            let c = checksum::udp_nonzero(checksum::finish(checksum::add(pseudo, &packet[l4..])));
            put16(packet, l4 + 6, c);
            let gtpu_len = l4_len.saturating_sub(UDP_LEN + GTPU_LEN) as u16;
            put16(packet, l4 + UDP_LEN + 2, gtpu_len);
        }
        TunnelKind::Gre => {
            wire::gre::GreHeader::new_unchecked(&mut packet[l4..]).fill_checksum();
        }
        TunnelKind::Erspan => {}
    }
}

/// Reads a GRE header with ERSPAN behind it into `tnl`; the length of
/// both.
fn erspan_decap(b: &[u8], tnl: &mut FlowTnl) -> Result<usize, Error> {
    let gre = wire::gre::GreHeader::new_checked(b)?;
    let r = wire::gre::GreRepr::parse(&gre)?;
    let e = gre.header_len();
    let word = |o: usize| -> Result<u32, Error> {
        b.get(e + o..e + o + 4)
            .map(|x| u32::from_be_bytes([x[0], x[1], x[2], x[3]]))
            .ok_or(Error::Truncated)
    };
    let w0 = word(0)?;
    let ver = (w0 >> 28) as u8;
    tnl.tun_id = u64::from(w0) & ERSPAN_SID_MASK;
    tnl.flags |= FLOW_TNL_F_KEY;
    tnl.erspan_ver = ver;
    match (r.protocol, ver) {
        (ETH_TYPE_ERSPAN1, 1) => {
            tnl.erspan_idx = word(4)? & ERSPAN_IDX_MASK;
            Ok(e + 8)
        }
        (ETH_TYPE_ERSPAN2, 2) => {
            let w2 = word(8)?;
            tnl.erspan_hwid = (((w2 >> 8) & 0x3) << 4) as u8 | ((w2 >> 4) & 0xf) as u8;
            tnl.erspan_dir = ((w2 >> 3) & 1) as u8;
            Ok(e + 12)
        }
        _ => Err(Error::Malformed),
    }
}

/// A decapsulated packet: the tunnel metadata of its outer headers and
/// where the inner packet is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decap {
    pub kind: TunnelKind,
    pub tunnel: FlowTnl,
    /// The inner packet within the frame.
    pub inner: Range<usize>,
    /// `packet_type` of the inner packet: Ethernet (0) or, for GRE carrying
    /// a network protocol, `(1 << 16) | ethertype`.
    pub packet_type: u32,
    /// Geneve options within the frame (empty for other kinds).
    pub geneve_options: Range<usize>,
}

/// Reads the outer Ethernet, IP (IPv4 without options, or IPv6), UDP and
/// tunnel headers of `frame`, received on a tunnel port of `kind`.
pub fn decap(frame: &[u8], kind: TunnelKind) -> Result<Decap, Error> {
    let eth = wire::ethernet::EthernetFrame::new_checked(frame)?;
    let mut tnl = FlowTnl::default();
    let l3 = ETH_LEN;
    let (proto, l4, end) = match eth.ethertype() {
        0x0800 => {
            let ip = wire::ipv4::Ipv4Packet::new_checked(&frame[l3..])?;
            if ip.version() != 4
                || ip.header_len() != IPV4_LEN
                || !ip.verify_checksum()
                || ip.more_frags()
                || ip.frag_offset() != 0
            {
                return Err(Error::Malformed);
            }
            tnl.ip_src = ip.src();
            tnl.ip_dst = ip.dst();
            tnl.ip_tos = ip.tos();
            tnl.ip_ttl = ip.ttl();
            // The DF bit is not kept (upstream's userspace decapsulation
            // leaves the flag clear).
            (ip.protocol(), l3 + IPV4_LEN, l3 + ip.total_len() as usize)
        }
        0x86dd => {
            let ip = wire::ipv6::Ipv6Packet::new_checked(&frame[l3..])?;
            if ip.version() != 6 {
                return Err(Error::Malformed);
            }
            tnl.ipv6_src = ip.src();
            tnl.ipv6_dst = ip.dst();
            tnl.ip_tos = ip.traffic_class();
            tnl.ip_ttl = ip.hop_limit();
            (
                ip.next_header(),
                l3 + IPV6_LEN,
                l3 + IPV6_LEN + ip.payload_len() as usize,
            )
        }
        _ => return Err(Error::Malformed),
    };
    let pkt = &frame[..end];
    let pseudo = |len: usize| {
        if tnl.ipv6_dst != [0; 16] || tnl.ipv6_src != [0; 16] {
            checksum::pseudo_header_v6(&tnl.ipv6_src, &tnl.ipv6_dst, proto, len as u32)
        } else {
            checksum::pseudo_header_v4(tnl.ip_src, tnl.ip_dst, proto, len as u16)
        }
    };
    let mut packet_type = 0;
    let mut geneve_options = 0..0;
    let inner_start = if kind == TunnelKind::Erspan {
        if proto != 47 {
            return Err(Error::Malformed);
        }
        erspan_decap(&pkt[l4..], &mut tnl)? + l4
    } else if kind == TunnelKind::Gre {
        if proto != 47 {
            return Err(Error::Malformed);
        }
        let gre = wire::gre::GreHeader::new_checked(&pkt[l4..])?;
        let r = wire::gre::GreRepr::parse(&gre)?;
        if !gre.verify_checksum() {
            return Err(Error::Malformed);
        }
        if r.checksum {
            tnl.flags |= FLOW_TNL_F_CSUM;
        }
        if let Some(k) = r.key {
            tnl.tun_id = k as u64;
            tnl.flags |= FLOW_TNL_F_KEY;
        }
        if r.protocol != ETH_TYPE_TEB {
            packet_type = (1 << 16) | r.protocol as u32;
        }
        l4 + gre.header_len()
    } else {
        if proto != 17 {
            return Err(Error::Malformed);
        }
        let udp = wire::udp::UdpPacket::new_checked(&pkt[l4..])?;
        if udp.checksum() != 0 {
            if !udp.verify_checksum(pseudo(pkt.len() - l4)) {
                return Err(Error::Malformed);
            }
            tnl.flags |= FLOW_TNL_F_CSUM;
        }
        tnl.tp_src = udp.src_port();
        tnl.tp_dst = udp.dst_port();
        let th = l4 + UDP_LEN;
        if kind == TunnelKind::Vxlan {
            let v = wire::vxlan::VxlanHeader::new_checked(&pkt[th..])?;
            let r = wire::vxlan::VxlanRepr::parse(&v)?;
            tnl.tun_id = r.vni as u64;
            tnl.flags |= FLOW_TNL_F_KEY;
            if let Some(g) = r.gbp {
                tnl.gbp_id = g.id;
                tnl.gbp_flags = g.flags;
            }
            th + wire::vxlan::HEADER_LEN
        } else if kind == TunnelKind::Gtpu {
            let g = pkt.get(th..th + GTPU_LEN).ok_or(Error::Truncated)?;
            let (flags, msgtype) = (g[0], g[1]);
            tnl.gtpu_flags = flags;
            tnl.gtpu_msgtype = msgtype;
            tnl.tun_id = u64::from(u32::from_be_bytes([g[4], g[5], g[6], g[7]]));
            tnl.flags |= FLOW_TNL_F_KEY;
            if msgtype != GTPU_MSGTYPE_GPDU {
                // Other messages (echo, end marker) go up whole, for a
                // controller to handle.
                0
            } else {
                let hlen = GTPU_LEN + if flags & GTPU_S_MASK != 0 { 4 } else { 0 };
                let ip = th + hlen;
                packet_type = match pkt.get(ip).map(|v| v >> 4) {
                    Some(4) => (1 << 16) | 0x0800,
                    Some(6) => (1 << 16) | 0x86dd,
                    _ => return Err(Error::Malformed),
                };
                ip
            }
        } else {
            let g = wire::geneve::GeneveHeader::new_checked(&pkt[th..])?;
            let r = wire::geneve::GeneveRepr::parse(&g)?;
            if r.protocol != ETH_TYPE_TEB {
                return Err(Error::Malformed);
            }
            tnl.tun_id = r.vni as u64;
            tnl.flags |= FLOW_TNL_F_KEY;
            if r.oam {
                tnl.flags |= FLOW_TNL_F_OAM;
            }
            geneve_options = th + wire::geneve::HEADER_LEN..th + g.header_len();
            th + g.header_len()
        }
    };
    Ok(Decap {
        kind,
        tunnel: tnl,
        inner: inner_start..end,
        packet_type,
        geneve_options,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compose::compose;
    use crate::extract::{extract, Metadata};
    use crate::flow::Flow;

    fn inner() -> Vec<u8> {
        let f = Flow {
            dl_type: 0x0800,
            nw_src: 0x0a00_0001,
            nw_dst: 0x0a00_0002,
            nw_proto: 17,
            nw_ttl: 64,
            tp_src: 1,
            tp_dst: 2,
            ..Flow::default()
        };
        compose(&f, b"inner payload")
    }

    fn tnl4(flags: u16) -> FlowTnl {
        FlowTnl {
            ip_src: 0xc0a8_0001,
            ip_dst: 0xc0a8_0002,
            ip_tos: 0x10,
            ip_ttl: 64,
            tun_id: 0x123456,
            flags,
            ..FlowTnl::default()
        }
    }

    fn params() -> EncapParams<'static> {
        EncapParams {
            eth_src: [2; 6],
            eth_dst: [4; 6],
            ..EncapParams::default()
        }
    }

    #[test]
    fn vxlan_v4_round_trip() {
        let t = tnl4(FLOW_TNL_F_DONT_FRAGMENT | FLOW_TNL_F_CSUM | FLOW_TNL_F_KEY);
        let h = build_header(TunnelKind::Vxlan, &t, &params()).unwrap();
        assert_eq!(h.bytes.len(), 14 + 20 + 8 + 8);
        let inner = inner();
        let pkt = encap(&inner, &h, 0x8000_0000);
        // The outer packet is a valid UDP/IPv4 packet to port 4789.
        let outer = extract(&pkt, &Metadata::default());
        assert_eq!(
            (outer.nw_proto, outer.tp_dst, outer.tp_src),
            (17, 4789, udp_src_port(0x8000_0000))
        );
        assert_eq!(checksum::checksum(&pkt[14..34]), 0);
        let d = decap(&pkt, TunnelKind::Vxlan).unwrap();
        assert_eq!(&pkt[d.inner.clone()], &inner[..]);
        assert_eq!(d.tunnel.tun_id, 0x123456);
        // DF goes out with the packet but is not read back.
        assert_eq!(d.tunnel.flags, t.flags & !FLOW_TNL_F_DONT_FRAGMENT);
        assert_eq!(
            (
                d.tunnel.ip_src,
                d.tunnel.ip_dst,
                d.tunnel.ip_tos,
                d.tunnel.ip_ttl
            ),
            (t.ip_src, t.ip_dst, 0x10, 64)
        );
        assert_eq!(d.tunnel.tp_dst, 4789);
        // A flipped payload bit breaks the UDP checksum: refused.
        let mut bad = pkt.clone();
        let n = bad.len() - 1;
        bad[n] ^= 1;
        assert_eq!(decap(&bad, TunnelKind::Vxlan), Err(Error::Malformed));
        // Truncated anywhere: refused, no panic.
        for n in 0..pkt.len() - inner.len() {
            assert!(decap(&pkt[..n], TunnelKind::Vxlan).is_err());
        }
    }

    #[test]
    fn erspan_versions_round_trip() {
        let inner = inner();
        for (ver, len) in [(1u8, 50usize), (2, 54)] {
            let mut t = tnl4(FLOW_TNL_F_KEY | FLOW_TNL_F_DONT_FRAGMENT);
            t.tun_id = 0x47b;
            t.erspan_ver = ver;
            t.erspan_idx = 0x12345;
            t.erspan_dir = 1;
            t.erspan_hwid = 0x2a;
            let h = build_header(TunnelKind::Erspan, &t, &params()).unwrap();
            assert_eq!(h.bytes.len(), len);
            let mut pkt = encap(&inner, &h, 0);
            set_erspan_seq(&mut pkt, &h, 7, 0xdead_beef);
            assert_eq!(&pkt[38..42], &[0, 0, 0, 7]);
            let d = decap(&pkt, TunnelKind::Erspan).unwrap();
            assert_eq!(&pkt[d.inner.clone()], &inner[..]);
            // The session id is the key's low 10 bits.
            assert_eq!(d.tunnel.tun_id, 0x7b);
            assert_eq!(d.tunnel.erspan_ver, ver);
            if ver == 1 {
                assert_eq!(d.tunnel.erspan_idx, 0x12345);
            } else {
                assert_eq!(&pkt[46..50], &0xdead_beefu32.to_be_bytes());
                assert_eq!((d.tunnel.erspan_dir, d.tunnel.erspan_hwid), (1, 0x2a));
            }
            for n in 0..pkt.len() - inner.len() {
                assert!(decap(&pkt[..n], TunnelKind::Erspan).is_err());
            }
        }
        let mut t = tnl4(0);
        t.erspan_ver = 3;
        assert_eq!(
            build_header(TunnelKind::Erspan, &t, &params()),
            Err(Error::Malformed)
        );
    }

    #[test]
    fn gtpu_carries_ip_packets() {
        let inner = inner();
        let t = tnl4(FLOW_TNL_F_KEY);
        let h = build_header(TunnelKind::Gtpu, &t, &params()).unwrap();
        assert_eq!(&h.bytes[34 + 2..34 + 4], &GTPU_UDP_PORT.to_be_bytes());
        let mut pkt = encap(&inner[14..], &h, 0);
        // The GTP-U length is the payload's.
        assert_eq!(get16(&pkt, 44) as usize, inner.len() - 14);
        // Upstream's checksum covers a zero GTP-U length: valid once it
        // is taken out again.
        put16(&mut pkt, 44, 0);
        let pseudo = checksum::pseudo_header_of_ipv4(&pkt[14..]).unwrap();
        assert_eq!(checksum::finish(checksum::add(pseudo, &pkt[34..])), 0);
        put16(&mut pkt, 44, (inner.len() - 14) as u16);
        put16(&mut pkt, 40, 0);
        let d = decap(&pkt, TunnelKind::Gtpu).unwrap();
        assert_eq!(&pkt[d.inner.clone()], &inner[14..]);
        assert_eq!(d.packet_type, 0x0001_0800);
        assert_eq!(
            (d.tunnel.tun_id, d.tunnel.gtpu_flags, d.tunnel.gtpu_msgtype),
            (0x123456, 0x30, 255)
        );
        // Another message type goes up whole.
        pkt[43] = 1;
        let d = decap(&pkt, TunnelKind::Gtpu).unwrap();
        assert_eq!((d.inner.start, d.packet_type), (0, 0));
    }

    #[test]
    fn egress_port_range_bounds_the_source_port() {
        assert_eq!(udp_src_port_in(0, 100, 200), 100);
        assert_eq!(udp_src_port_in(u32::MAX, 100, 200), 199);
        assert_eq!(udp_src_port_in(u32::MAX, 7, 7), 7);
    }

    #[test]
    fn udp_src_port_range() {
        assert_eq!(udp_src_port(0), TNL_UDP_PORT_MIN);
        assert!(udp_src_port(u32::MAX) < TNL_UDP_PORT_MAX);
    }

    #[test]
    fn geneve_v6_with_options() {
        let mut t = tnl4(FLOW_TNL_F_KEY | FLOW_TNL_F_OAM);
        t.ipv6_src[15] = 1;
        t.ipv6_dst[15] = 2;
        let opts = [0xff, 0xff, 0x80, 0x01, 1, 2, 3, 4];
        let p = EncapParams {
            geneve_options: &opts,
            ..params()
        };
        let h = build_header(TunnelKind::Geneve, &t, &p).unwrap();
        assert!(h.ipv6);
        let inner = inner();
        let pkt = encap(&inner, &h, 7);
        let d = decap(&pkt, TunnelKind::Geneve).unwrap();
        assert_eq!(&pkt[d.inner.clone()], &inner[..]);
        assert_eq!(&pkt[d.geneve_options.clone()], &opts[..]);
        assert_eq!(d.tunnel.flags, FLOW_TNL_F_KEY | FLOW_TNL_F_OAM);
        assert_eq!((d.tunnel.ipv6_dst, d.tunnel.tun_id), (t.ipv6_dst, 0x123456));
        // The critical bit follows the options.
        let g = wire::geneve::GeneveHeader::new_checked(&pkt[62..]).unwrap();
        assert!(g.critical() && g.oam());
        assert_eq!(decap(&pkt, TunnelKind::Vxlan), Err(Error::Malformed));
    }

    #[test]
    fn gre_key_csum_and_l3() {
        let t = tnl4(FLOW_TNL_F_KEY | FLOW_TNL_F_CSUM);
        let h = build_header(TunnelKind::Gre, &t, &params()).unwrap();
        let inner = inner();
        let pkt = encap(&inner, &h, 0);
        let d = decap(&pkt, TunnelKind::Gre).unwrap();
        assert_eq!(&pkt[d.inner.clone()], &inner[..]);
        assert_eq!(d.tunnel.tun_id, 0x123456);
        assert_eq!(d.tunnel.flags, FLOW_TNL_F_KEY | FLOW_TNL_F_CSUM);
        assert_eq!(d.packet_type, 0);
        let mut bad = pkt.clone();
        let n = bad.len() - 1;
        bad[n] ^= 1;
        assert_eq!(decap(&bad, TunnelKind::Gre), Err(Error::Malformed));

        // L3 GRE: an IPv4 packet without Ethernet.
        let p = EncapParams {
            gre_protocol: 0x0800,
            ..params()
        };
        let h = build_header(TunnelKind::Gre, &tnl4(0), &p).unwrap();
        let pkt = encap(&inner[14..], &h, 0);
        let d = decap(&pkt, TunnelKind::Gre).unwrap();
        assert_eq!(d.packet_type, 0x0001_0800);
        assert_eq!(d.tunnel.flags, 0);
        assert_eq!(&pkt[d.inner.clone()], &inner[14..]);
    }

    #[test]
    fn ipv4_options_and_fragments_refused() {
        let h = build_header(TunnelKind::Vxlan, &tnl4(FLOW_TNL_F_KEY), &params()).unwrap();
        let pkt = encap(&inner(), &h, 0);
        let mut frag = pkt.clone();
        frag[20] |= 0x20;
        let c = checksum::update16(get16(&frag, 24), get16(&pkt, 20), get16(&frag, 20));
        put16(&mut frag, 24, c);
        assert_eq!(decap(&frag, TunnelKind::Vxlan), Err(Error::Malformed));
        let mut badsum = pkt.clone();
        badsum[24] ^= 1;
        assert_eq!(decap(&badsum, TunnelKind::Vxlan), Err(Error::Malformed));
    }

    #[test]
    fn decap_of_mangled_packets_never_panics() {
        let inner = inner();
        let mut frames = Vec::new();
        for (kind, flags) in [
            (TunnelKind::Vxlan, FLOW_TNL_F_CSUM | FLOW_TNL_F_KEY),
            (TunnelKind::Geneve, FLOW_TNL_F_KEY),
            (TunnelKind::Gre, FLOW_TNL_F_CSUM | FLOW_TNL_F_KEY),
        ] {
            let h = build_header(kind, &tnl4(flags), &params()).unwrap();
            frames.push(encap(&inner, &h, 1));
        }
        let mut x = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let mut f = frames[(x % 3) as usize].clone();
            let i = ((x >> 8) as usize) % f.len();
            f[i] ^= (x >> 32) as u8 | 1;
            f.truncate(((x >> 40) as usize) % (f.len() + 1));
            for kind in [TunnelKind::Vxlan, TunnelKind::Geneve, TunnelKind::Gre] {
                if let Ok(d) = decap(&f, kind) {
                    assert!(d.inner.start <= d.inner.end && d.inner.end <= f.len());
                    assert!(d.geneve_options.end <= f.len());
                }
            }
        }
    }
}
