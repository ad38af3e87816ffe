//! Composing a frame from a flow: the reverse of [`crate::extract`], as
//! `ofproto/trace -generate` and `netdev-dummy/receive` build a packet from a
//! flow string (OVS's `flow_compose` and `packet_expand`).
//!
//! The frame is Ethernet, then the VLAN tags of the flow (outermost first),
//! then by `dl_type`: IPv4 (a 20-byte header, fragment bits from `nw_frag`),
//! IPv6 (no extension headers), ARP/RARP, NSH, or the MPLS label stack up
//! to its bottom of stack; an 802.3 frame ([`DL_TYPE_NONE`]) is only the
//! Ethernet header with its length.  Behind IP, unless the flow is a later
//! fragment, comes the transport header of `nw_proto` (TCP, UDP, SCTP, ICMP,
//! IGMP, ICMPv6 with ND target and link-layer address options), then the
//! payload for the kinds that carry one (TCP without SYN/FIN/RST, UDP, ICMP
//! and ICMPv6 echo).  Lengths and the IPv4, TCP, UDP, ICMP, IGMP and ICMPv6
//! checksums are filled in; SCTP's CRC is left zero, as upstream leaves it.
//!
//! Fields that have no place in such a frame (metadata, tunnel, conntrack)
//! are ignored.

use crate::checksum;
use crate::extract::{
    eth_type_mpls, DL_TYPE_NONE, ETH_TYPE_ARP, ETH_TYPE_IP, ETH_TYPE_IPV6, ETH_TYPE_NSH,
    ETH_TYPE_RARP, IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_IGMP, IPPROTO_SCTP, IPPROTO_TCP,
    IPPROTO_UDP, MPLS_BOS_MASK, ND_NEIGHBOR_ADVERT, ND_NEIGHBOR_SOLICIT, ND_OPT_SOURCE_LINKADDR,
    ND_OPT_TARGET_LINKADDR, NSH_BASE_HDR_LEN, NSH_M_TYPE1, NSH_M_TYPE1_LEN, VLAN_CFI,
};
use crate::flow::{Flow, FLOW_MAX_MPLS_LABELS, FLOW_NW_FRAG_ANY, FLOW_NW_FRAG_LATER};

/// Payload bytes that `ofproto/trace -generate` and `netdev-dummy/receive`
/// (without a packet size) put behind the transport header.
pub const GENERATED_L7_LEN: usize = 64;

/// TCP flags that mean "no payload" in a composed segment.
const TCP_SYN_FIN_RST: u16 = 0x002 | 0x001 | 0x004;

/// A composed frame and where its layers start.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Composed {
    pub frame: Vec<u8>,
    /// Offset of the network header (behind Ethernet and VLAN tags).
    pub l3: usize,
    /// Offset of the transport header, for IPv4 and IPv6.
    pub l4: Option<usize>,
}

/// Smallest frame `netdev-dummy/receive` accepts with a packet size.
pub const ETH_TOTAL_MIN: usize = 60;

/// Why [`compose_sized`] refused a size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SizeError {
    /// Below [`ETH_TOTAL_MIN`]: upstream says "too small packet len".
    BelowEthernetMinimum,
    /// Below the frame the flow needs; upstream fails with an empty
    /// message, which `Display` reproduces.
    BelowFlowMinimum { minimum: usize },
}

impl std::fmt::Display for SizeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SizeError::BelowEthernetMinimum => f.write_str("too small packet len"),
            SizeError::BelowFlowMinimum { .. } => Ok(()),
        }
    }
}

impl std::error::Error for SizeError {}

/// Composes a frame for `flow` with `payload` as its application data.
pub fn compose(flow: &Flow, payload: &[u8]) -> Vec<u8> {
    compose_frame(flow, Payload::Bytes(payload)).frame
}

/// Composes a frame for `flow` whose `l7_len` payload bytes count up from 0
/// (0x00, 0x01, ...), as `-generate` does with [`GENERATED_L7_LEN`].
pub fn compose_generated(flow: &Flow, l7_len: usize) -> Vec<u8> {
    compose_frame(flow, Payload::Counting(l7_len)).frame
}

/// Composes a frame for `flow` without payload and pads it with zeros to
/// exactly `size` bytes, fixing lengths and checksums (the padding becomes
/// payload of IP and of its transport), as `netdev-dummy/receive` with
/// `--len` does.
pub fn compose_sized(flow: &Flow, size: usize) -> Result<Vec<u8>, SizeError> {
    if size < ETH_TOTAL_MIN {
        return Err(SizeError::BelowEthernetMinimum);
    }
    let mut c = compose_frame(flow, Payload::Bytes(&[]));
    if size < c.frame.len() {
        return Err(SizeError::BelowFlowMinimum {
            minimum: c.frame.len(),
        });
    }
    if size > c.frame.len() {
        expand(&mut c, flow, size);
    }
    Ok(c.frame)
}

/// Application data for a composed frame.
#[derive(Clone, Copy, Debug)]
pub enum Payload<'a> {
    Bytes(&'a [u8]),
    /// This many bytes counting up from 0 (wrapping at 256).
    Counting(usize),
}

impl Payload<'_> {
    fn put(self, out: &mut Vec<u8>) {
        match self {
            Payload::Bytes(b) => out.extend_from_slice(b),
            Payload::Counting(n) => out.extend((0..n).map(|i| i as u8)),
        }
    }
}

fn put_be16(out: &mut [u8], at: usize, v: u16) {
    out[at..at + 2].copy_from_slice(&v.to_be_bytes());
}

fn put_be32(out: &mut [u8], at: usize, v: u32) {
    out[at..at + 4].copy_from_slice(&v.to_be_bytes());
}

/// Composes a frame for `flow` and reports its layer offsets.
pub fn compose_frame(flow: &Flow, payload: Payload<'_>) -> Composed {
    let mut f = Vec::with_capacity(128);
    f.extend_from_slice(&flow.dl_dst);
    f.extend_from_slice(&flow.dl_src);
    if flow.dl_type == DL_TYPE_NONE {
        f.extend_from_slice(&14u16.to_be_bytes());
        return Composed {
            frame: f,
            l3: 14,
            l4: None,
        };
    }
    for v in flow.vlans.iter() {
        if v.tci & VLAN_CFI != 0 {
            f.extend_from_slice(&v.tpid.to_be_bytes());
            f.extend_from_slice(&(v.tci & !VLAN_CFI).to_be_bytes());
        }
    }
    f.extend_from_slice(&flow.dl_type.to_be_bytes());
    let l3 = f.len();
    let mut l4 = None;

    match flow.dl_type {
        ETH_TYPE_IP => {
            f.resize(l3 + 20, 0);
            f[l3] = 0x45;
            f[l3 + 1] = flow.nw_tos;
            f[l3 + 8] = flow.nw_ttl;
            f[l3 + 9] = flow.nw_proto;
            put_be32(&mut f, l3 + 12, flow.nw_src);
            put_be32(&mut f, l3 + 16, flow.nw_dst);
            if flow.nw_frag & FLOW_NW_FRAG_ANY != 0 {
                let mut off = 0x2000u16;
                if flow.nw_frag & FLOW_NW_FRAG_LATER != 0 {
                    off |= 100;
                }
                put_be16(&mut f, l3 + 6, off);
            }
            l4 = Some(f.len());
            compose_l4(&mut f, flow, payload);
            finish_ipv4(&mut f, flow, l3, l3 + 20);
        }
        ETH_TYPE_IPV6 => {
            f.resize(l3 + 40, 0);
            let vtc = (6u32 << 28) | ((flow.nw_tos as u32) << 20) | (flow.ipv6_label & 0xfffff);
            put_be32(&mut f, l3, vtc);
            f[l3 + 6] = flow.nw_proto;
            f[l3 + 7] = flow.nw_ttl;
            f[l3 + 8..l3 + 24].copy_from_slice(&flow.ipv6_src);
            f[l3 + 24..l3 + 40].copy_from_slice(&flow.ipv6_dst);
            l4 = Some(f.len());
            compose_l4(&mut f, flow, payload);
            finish_ipv6(&mut f, flow, l3, l3 + 40);
        }
        ETH_TYPE_ARP | ETH_TYPE_RARP => {
            f.resize(l3 + 28, 0);
            put_be16(&mut f, l3, 1);
            put_be16(&mut f, l3 + 2, ETH_TYPE_IP);
            f[l3 + 4] = 6;
            f[l3 + 5] = 4;
            put_be16(&mut f, l3 + 6, flow.nw_proto as u16);
            if flow.nw_proto == 1 || flow.nw_proto == 2 {
                f[l3 + 8..l3 + 14].copy_from_slice(&flow.arp_sha);
                put_be32(&mut f, l3 + 14, flow.nw_src);
                f[l3 + 18..l3 + 24].copy_from_slice(&flow.arp_tha);
                put_be32(&mut f, l3 + 24, flow.nw_dst);
            }
        }
        ETH_TYPE_NSH => {
            f.resize(l3 + NSH_M_TYPE1_LEN, 0);
            let len = if flow.nsh.mdtype == NSH_M_TYPE1 {
                NSH_M_TYPE1_LEN
            } else {
                NSH_BASE_HDR_LEN
            };
            let w = ((flow.nsh.flags as u16 & 0x3) << 12)
                | ((flow.nsh.ttl as u16 & 0x3f) << 6)
                | (len / 4) as u16;
            put_be16(&mut f, l3, w);
            f[l3 + 2] = flow.nsh.mdtype;
            f[l3 + 3] = flow.nsh.np;
            put_be32(&mut f, l3 + 4, flow.nsh.path_hdr);
            if flow.nsh.mdtype == NSH_M_TYPE1 {
                for (i, c) in flow.nsh.context.iter().enumerate() {
                    put_be32(&mut f, l3 + 8 + 4 * i, *c);
                }
            }
        }
        _ => {}
    }

    if eth_type_mpls(flow.dl_type) {
        let mut n = 1;
        while n < FLOW_MAX_MPLS_LABELS && flow.mpls_lse[n - 1] & MPLS_BOS_MASK == 0 {
            n += 1;
        }
        let labels: Vec<u8> = flow.mpls_lse[..n]
            .iter()
            .flat_map(|l| l.to_be_bytes())
            .collect();
        f.splice(l3..l3, labels);
    }

    Composed { frame: f, l3, l4 }
}

fn is_later_fragment(flow: &Flow) -> bool {
    flow.nw_frag & FLOW_NW_FRAG_ANY != 0 && flow.nw_frag & FLOW_NW_FRAG_LATER != 0
}

/// Appends the transport header (and payload where it belongs).
fn compose_l4(f: &mut Vec<u8>, flow: &Flow, payload: Payload<'_>) {
    if is_later_fragment(flow) {
        return;
    }
    let at = f.len();
    match flow.nw_proto {
        IPPROTO_TCP => {
            f.resize(at + 20, 0);
            put_be16(f, at, flow.tp_src);
            put_be16(f, at + 2, flow.tp_dst);
            put_be16(f, at + 12, (5 << 12) | (flow.tcp_flags & 0x0fff));
            if flow.tcp_flags & TCP_SYN_FIN_RST == 0 {
                payload.put(f);
            }
        }
        IPPROTO_UDP => {
            f.resize(at + 8, 0);
            put_be16(f, at, flow.tp_src);
            put_be16(f, at + 2, flow.tp_dst);
            payload.put(f);
            let len = (f.len() - at) as u16;
            put_be16(f, at + 4, len);
        }
        IPPROTO_SCTP => {
            f.resize(at + 12, 0);
            put_be16(f, at, flow.tp_src);
            put_be16(f, at + 2, flow.tp_dst);
        }
        IPPROTO_ICMP => {
            f.resize(at + 8, 0);
            let (ty, code) = (flow.tp_src as u8, flow.tp_dst as u8);
            f[at] = ty;
            f[at + 1] = code;
            if (ty == 0 || ty == 8) && code == 0 {
                payload.put(f);
            }
        }
        IPPROTO_IGMP => {
            f.resize(at + 8, 0);
            f[at] = flow.tp_src as u8;
            f[at + 1] = flow.tp_dst as u8;
            put_be32(f, at + 4, flow.nd_reserved);
        }
        IPPROTO_ICMPV6 => {
            f.resize(at + 8, 0);
            let (ty, code) = (flow.tp_src as u8, flow.tp_dst as u8);
            f[at] = ty;
            f[at + 1] = code;
            put_be32(f, at + 4, flow.nd_reserved);
            if code == 0 && (ty == ND_NEIGHBOR_SOLICIT || ty == ND_NEIGHBOR_ADVERT) {
                f.extend_from_slice(&flow.nd_target);
                for (kind, addr) in [
                    (ND_OPT_SOURCE_LINKADDR, flow.arp_sha),
                    (ND_OPT_TARGET_LINKADDR, flow.arp_tha),
                ] {
                    if addr != [0; 6] {
                        f.extend_from_slice(&[kind, 1]);
                        f.extend_from_slice(&addr);
                    }
                }
            } else if code == 0 && (ty == 128 || ty == 129) {
                payload.put(f);
            }
        }
        _ => {}
    }
}

/// Sets the IPv4 total length and header checksum, then the transport
/// checksum.
fn finish_ipv4(f: &mut [u8], flow: &Flow, l3: usize, l4: usize) {
    let tot = (f.len() - l3) as u16;
    put_be16(f, l3 + 2, tot);
    put_be16(f, l3 + 10, 0);
    let c = checksum::checksum(&f[l3..l3 + 20]);
    put_be16(f, l3 + 10, c);
    let pseudo = checksum::pseudo_header_of_ipv4(&f[l3..]).unwrap_or(0);
    l4_checksum(f, flow, l4, pseudo);
}

/// Sets the IPv6 payload length, then the transport checksum.
fn finish_ipv6(f: &mut [u8], flow: &Flow, l3: usize, l4: usize) {
    let plen = (f.len() - l4) as u16;
    put_be16(f, l3 + 4, plen);
    let pseudo = checksum::pseudo_header_of_ipv6(&f[l3..]).unwrap_or(0);
    l4_checksum(f, flow, l4, pseudo);
}

fn l4_checksum(f: &mut [u8], flow: &Flow, l4: usize, pseudo: u32) {
    if is_later_fragment(flow) {
        return;
    }
    let csum_at = match flow.nw_proto {
        IPPROTO_TCP => 16,
        IPPROTO_UDP => 6,
        IPPROTO_ICMP | IPPROTO_IGMP | IPPROTO_ICMPV6 => 2,
        _ => return,
    };
    if f.len() < l4 + csum_at + 2 {
        return;
    }
    put_be16(f, l4 + csum_at, 0);
    let c = match flow.nw_proto {
        IPPROTO_TCP | IPPROTO_ICMPV6 => checksum::finish(checksum::add(pseudo, &f[l4..])),
        IPPROTO_UDP => checksum::udp_nonzero(checksum::finish(checksum::add(pseudo, &f[l4..]))),
        _ => checksum::checksum(&f[l4..]),
    };
    put_be16(f, l4 + csum_at, c);
}

/// Pads a composed frame with zeros to `size` bytes and fixes the lengths
/// and checksums that cover the padding.  The UDP length comes out as
/// upstream's does: the new transport length plus the padding once more.
fn expand(c: &mut Composed, flow: &Flow, size: usize) {
    let extra = size - c.frame.len();
    c.frame.resize(size, 0);
    if flow.dl_type == DL_TYPE_NONE {
        put_be16(&mut c.frame, 12, size as u16);
        return;
    }
    let Some(l4) = c.l4 else { return };
    let l4_len = (size - l4) as u16;
    if flow.nw_proto == IPPROTO_UDP && !is_later_fragment(flow) && c.frame.len() >= l4 + 8 {
        put_be16(&mut c.frame, l4 + 4, l4_len.wrapping_add(extra as u16));
    }
    match flow.dl_type {
        ETH_TYPE_IP => finish_ipv4(&mut c.frame, flow, c.l3, l4),
        ETH_TYPE_IPV6 => finish_ipv6(&mut c.frame, flow, c.l3, l4),
        _ => {}
    }
}

#[cfg(test)]
mod tests;
