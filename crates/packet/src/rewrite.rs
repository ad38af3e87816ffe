//! Rewriting header fields of a frame in place, as the datapath's set and
//! set-field actions do (OVS's `packet_set_*`), keeping every checksum that
//! covers the field right by updating it incrementally (RFC 1624) instead of
//! summing the packet again.
//!
//! Each function takes the frame and the [`Layers`] that
//! [`crate::extract::extract_with`] reported for it, and does nothing when
//! the layer it needs is absent or too short.  Transport checksums are left
//! alone in later fragments (they have no transport header); a UDP checksum
//! of zero ("none") stays zero; SCTP's CRC32c is recomputed in a way that
//! keeps a wrong CRC wrong.

use crate::checksum::{self, update16, update32, update_bytes};
use crate::extract::{
    Layers, IPPROTO_AH, IPPROTO_DSTOPTS, IPPROTO_FRAGMENT, IPPROTO_HOPOPTS, IPPROTO_ICMPV6,
    IPPROTO_ROUTING, IPPROTO_TCP, IPPROTO_UDP, ND_NEIGHBOR_ADVERT, ND_NEIGHBOR_SOLICIT,
    ND_OPT_SOURCE_LINKADDR, ND_OPT_TARGET_LINKADDR,
};

fn rd16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

fn rd32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

fn wr16(b: &mut [u8], at: usize, v: u16) {
    b[at..at + 2].copy_from_slice(&v.to_be_bytes());
}

fn wr32(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_be_bytes());
}

/// The transport header and its length (without Ethernet padding).
fn l4_range(frame: &[u8], l: &Layers) -> Option<(usize, usize)> {
    let l4 = l.l4?;
    let end = frame.len().checked_sub(l.l2_pad)?;
    (l4 <= end).then(|| (l4, end - l4))
}

/// Sets the Ethernet source and destination.
pub fn set_eth_addrs(frame: &mut [u8], src: [u8; 6], dst: [u8; 6]) {
    if frame.len() >= 12 {
        frame[0..6].copy_from_slice(&dst);
        frame[6..12].copy_from_slice(&src);
    }
}

/// Offset of the transport checksum field for `proto`, and whether a zero
/// there means "no checksum" (UDP).
fn l4_csum_field(proto: u8) -> Option<(usize, usize, bool)> {
    // (offset of the checksum, minimum header length, zero means none)
    match proto {
        IPPROTO_TCP => Some((16, 20, false)),
        IPPROTO_UDP => Some((6, 8, true)),
        IPPROTO_ICMPV6 => Some((2, 4, false)),
        _ => None,
    }
}

/// Applies `update` to the transport checksum of a packet with protocol
/// `proto`, for a change in a field covered by the pseudo-header.
fn update_l4_csum(frame: &mut [u8], l: &Layers, proto: u8, update: impl Fn(u16) -> u16) {
    let Some((l4, len)) = l4_range(frame, l) else {
        return;
    };
    let Some((at, min, zero_is_none)) = l4_csum_field(proto) else {
        return;
    };
    if len < min {
        return;
    }
    let c = rd16(frame, l4 + at);
    if zero_is_none && c == 0 {
        return;
    }
    let mut n = update(c);
    if zero_is_none {
        n = checksum::udp_nonzero(n);
    }
    wr16(frame, l4 + at, n);
}

fn ipv4_later_fragment(frame: &[u8], l3: usize) -> bool {
    rd16(frame, l3 + 6) & 0x1fff != 0
}

/// Sets the IPv4 source, destination, TOS (DSCP and ECN) and TTL, updating
/// the header checksum and, for address changes, the TCP or UDP checksum.
pub fn set_ipv4(frame: &mut [u8], l: &Layers, src: u32, dst: u32, tos: u8, ttl: u8) {
    let Some(l3) = l.l3 else { return };
    if frame.len() < l3 + 20 {
        return;
    }
    let proto = frame[l3 + 9];
    let transport = l.l4.is_some() && !ipv4_later_fragment(frame, l3);
    for (at, new) in [(12, src), (16, dst)] {
        let old = rd32(frame, l3 + at);
        if old == new {
            continue;
        }
        if transport && proto != IPPROTO_ICMPV6 {
            update_l4_csum(frame, l, proto, |c| update32(c, old, new));
        }
        let c = update32(rd16(frame, l3 + 10), old, new);
        wr16(frame, l3 + 10, c);
        wr32(frame, l3 + at, new);
    }
    let old_tos_word = rd16(frame, l3);
    let new_tos_word = (old_tos_word & 0xff00) | tos as u16;
    let old_ttl_word = rd16(frame, l3 + 8);
    let new_ttl_word = ((ttl as u16) << 8) | (old_ttl_word & 0x00ff);
    let mut c = rd16(frame, l3 + 10);
    c = update16(c, old_tos_word, new_tos_word);
    c = update16(c, old_ttl_word, new_ttl_word);
    wr16(frame, l3 + 10, c);
    wr16(frame, l3, new_tos_word);
    wr16(frame, l3 + 8, new_ttl_word);
}

/// Walks the IPv6 extension headers behind the fixed header at `l3`: the
/// upper-layer protocol, and whether a routing header with segments left
/// is present (then the destination in the pseudo-header is the final one,
/// not the header's).
fn ipv6_upper_layer(frame: &[u8], l3: usize) -> (u8, bool) {
    let mut proto = frame[l3 + 6];
    let mut at = l3 + 40;
    let mut routing = false;
    loop {
        if !matches!(
            proto,
            IPPROTO_HOPOPTS | IPPROTO_ROUTING | IPPROTO_DSTOPTS | IPPROTO_AH | IPPROTO_FRAGMENT
        ) || frame.len() < at + 8
        {
            return (proto, routing);
        }
        let len = match proto {
            IPPROTO_AH => (frame[at + 1] as usize + 2) * 4,
            IPPROTO_FRAGMENT => 8,
            _ => (frame[at + 1] as usize + 1) * 8,
        };
        if proto == IPPROTO_ROUTING && frame[at + 3] != 0 {
            routing = true;
        }
        proto = frame[at];
        at += len;
    }
}

/// Sets the IPv6 source, destination, traffic class, flow label and hop
/// limit, updating the TCP, UDP or ICMPv6 checksum for address changes.
pub fn set_ipv6(
    frame: &mut [u8],
    l: &Layers,
    src: [u8; 16],
    dst: [u8; 16],
    traffic_class: u8,
    flow_label: u32,
    hop_limit: u8,
) {
    let Some(l3) = l.l3 else { return };
    if frame.len() < l3 + 40 {
        return;
    }
    let (proto, routing) = ipv6_upper_layer(frame, l3);
    for (at, new, in_pseudo) in [(8, src, true), (24, dst, !routing)] {
        let mut old = [0u8; 16];
        old.copy_from_slice(&frame[l3 + at..l3 + at + 16]);
        if old == new {
            continue;
        }
        if in_pseudo {
            update_l4_csum(frame, l, proto, |c| update_bytes(c, &old, &new));
        }
        frame[l3 + at..l3 + at + 16].copy_from_slice(&new);
    }
    let w = rd32(frame, l3) & 0xf000_0000;
    wr32(
        frame,
        l3,
        w | ((traffic_class as u32) << 20) | (flow_label & 0x000f_ffff),
    );
    frame[l3 + 7] = hop_limit;
}

/// Sets TCP or UDP ports (by the protocol at hand), updating the checksum.
fn set_ports(frame: &mut [u8], l: &Layers, proto: u8, src: u16, dst: u16) {
    let Some((l4, len)) = l4_range(frame, l) else {
        return;
    };
    let Some((at, min, zero_is_none)) = l4_csum_field(proto) else {
        return;
    };
    if len < min {
        return;
    }
    let mut c = rd16(frame, l4 + at);
    let old_src = rd16(frame, l4);
    let old_dst = rd16(frame, l4 + 2);
    if !(zero_is_none && c == 0) {
        c = update16(update16(c, old_src, src), old_dst, dst);
        if zero_is_none {
            c = checksum::udp_nonzero(c);
        }
        wr16(frame, l4 + at, c);
    }
    wr16(frame, l4, src);
    wr16(frame, l4 + 2, dst);
}

/// Sets the TCP ports.
pub fn set_tcp_ports(frame: &mut [u8], l: &Layers, src: u16, dst: u16) {
    set_ports(frame, l, IPPROTO_TCP, src, dst)
}

/// Sets the UDP ports.
pub fn set_udp_ports(frame: &mut [u8], l: &Layers, src: u16, dst: u16) {
    set_ports(frame, l, IPPROTO_UDP, src, dst)
}

/// Sets the SCTP ports.  The CRC32c is recomputed and combined with the
/// old one so that a packet whose CRC was wrong still has a wrong CRC.
pub fn set_sctp_ports(frame: &mut [u8], l: &Layers, src: u16, dst: u16) {
    let Some((l4, len)) = l4_range(frame, l) else {
        return;
    };
    if len < 12 {
        return;
    }
    let seg = l4..l4 + len;
    let old_field =
        u32::from_le_bytes([frame[l4 + 8], frame[l4 + 9], frame[l4 + 10], frame[l4 + 11]]);
    frame[l4 + 8..l4 + 12].fill(0);
    let old_right = checksum::crc32c(&frame[seg.clone()]);
    wr16(frame, l4, src);
    wr16(frame, l4 + 2, dst);
    let new_right = checksum::crc32c(&frame[seg]);
    let v = old_field ^ old_right ^ new_right;
    frame[l4 + 8..l4 + 12].copy_from_slice(&v.to_le_bytes());
}

/// Sets the ICMP (IPv4) or ICMPv6 type and code, updating the checksum.
pub fn set_icmp(frame: &mut [u8], l: &Layers, msg_type: u8, code: u8) {
    let Some((l4, len)) = l4_range(frame, l) else {
        return;
    };
    if len < 4 {
        return;
    }
    let old = rd16(frame, l4);
    let new = ((msg_type as u16) << 8) | code as u16;
    let c = update16(rd16(frame, l4 + 2), old, new);
    wr16(frame, l4, new);
    wr16(frame, l4 + 2, c);
}

/// Sets the target of a neighbour solicitation or advertisement and the
/// link-layer addresses of the options it already carries (an option is
/// never added), updating the ICMPv6 checksum.
pub fn set_nd(frame: &mut [u8], l: &Layers, target: [u8; 16], sll: [u8; 6], tll: [u8; 6]) {
    let Some((l4, len)) = l4_range(frame, l) else {
        return;
    };
    if len < 24 || frame[l4 + 1] != 0 {
        return;
    }
    if frame[l4] != ND_NEIGHBOR_SOLICIT && frame[l4] != ND_NEIGHBOR_ADVERT {
        return;
    }
    let mut c = rd16(frame, l4 + 2);
    let t = l4 + 8;
    c = update_bytes(c, &frame[t..t + 16], &target);
    frame[t..t + 16].copy_from_slice(&target);
    let end = l4 + len;
    let mut at = l4 + 24;
    while at + 8 <= end {
        let opt_len = frame[at + 1] as usize * 8;
        if opt_len == 0 || at + opt_len > end {
            break;
        }
        let new = match (frame[at], opt_len) {
            (ND_OPT_SOURCE_LINKADDR, 8) => Some(sll),
            (ND_OPT_TARGET_LINKADDR, 8) => Some(tll),
            _ => None,
        };
        if let Some(mac) = new {
            // The address starts 2 bytes into the option: 16-bit aligned.
            c = update_bytes(c, &frame[at + 2..at + 8], &mac);
            frame[at + 2..at + 8].copy_from_slice(&mac);
        }
        at += opt_len;
    }
    wr16(frame, l4 + 2, c);
}

/// Sets the fields of an Ethernet/IPv4 ARP packet at `l3` (no checksum).
pub fn set_arp(
    frame: &mut [u8],
    l: &Layers,
    op: u16,
    sha: [u8; 6],
    spa: u32,
    tha: [u8; 6],
    tpa: u32,
) {
    let Some(l3) = l.l3 else { return };
    if frame.len() < l3 + 28 {
        return;
    }
    wr16(frame, l3 + 6, op);
    frame[l3 + 8..l3 + 14].copy_from_slice(&sha);
    wr32(frame, l3 + 14, spa);
    frame[l3 + 18..l3 + 24].copy_from_slice(&tha);
    wr32(frame, l3 + 24, tpa);
}

/// Sets the first MPLS label stack entry (no checksum).
pub fn set_mpls_lse(frame: &mut [u8], l: &Layers, lse: u32) {
    let Some(at) = l.l2_5 else { return };
    if frame.len() >= at + 4 {
        wr32(frame, at, lse);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compose::compose;
    use crate::extract::{
        extract_with, ExtractOptions, Metadata, ETH_TYPE_IP, ETH_TYPE_IPV6, IPPROTO_ICMP,
        IPPROTO_SCTP,
    };
    use crate::flow::Flow;

    fn layers(frame: &[u8]) -> Layers {
        extract_with(frame, &Metadata::default(), &ExtractOptions::default()).1
    }

    fn v4(proto: u8) -> Flow {
        Flow {
            dl_type: ETH_TYPE_IP,
            nw_src: 0x0a00_0001,
            nw_dst: 0x0a00_0002,
            nw_proto: proto,
            nw_ttl: 64,
            tp_src: 1234,
            tp_dst: 80,
            tcp_flags: 0x018,
            ..Flow::default()
        }
    }

    /// Rewriting a composed frame gives the frame composed from the
    /// rewritten flow (whose checksums are computed from scratch).
    #[test]
    fn ipv4_and_ports_match_fresh_checksums() {
        for proto in [IPPROTO_TCP, IPPROTO_UDP] {
            let f = v4(proto);
            let mut frame = compose(&f, b"payload!");
            let l = layers(&frame);
            let g = Flow {
                nw_src: 0xc0a8_0101,
                nw_dst: 0xac10_0001,
                nw_tos: 0xb9,
                nw_ttl: 3,
                tp_src: 4321,
                tp_dst: 8080,
                ..f
            };
            set_ipv4(&mut frame, &l, g.nw_src, g.nw_dst, g.nw_tos, g.nw_ttl);
            if proto == IPPROTO_TCP {
                set_tcp_ports(&mut frame, &l, g.tp_src, g.tp_dst);
            } else {
                set_udp_ports(&mut frame, &l, g.tp_src, g.tp_dst);
            }
            assert_eq!(frame, compose(&g, b"payload!"), "proto {proto}");
        }
    }

    #[test]
    fn udp_without_checksum_stays_without() {
        let f = v4(IPPROTO_UDP);
        let mut frame = compose(&f, b"x");
        frame[40..42].fill(0);
        let l = layers(&frame);
        set_ipv4(&mut frame, &l, 1, 2, 0, 9);
        set_udp_ports(&mut frame, &l, 1, 2);
        assert_eq!(&frame[40..42], &[0, 0]);
        assert_eq!(checksum::checksum(&frame[14..34]), 0);
    }

    #[test]
    fn icmp_type_code() {
        let f = Flow {
            tp_src: 8,
            tp_dst: 0,
            ..v4(IPPROTO_ICMP)
        };
        let mut frame = compose(&f, b"ping");
        let l = layers(&frame);
        set_icmp(&mut frame, &l, 0, 0);
        assert_eq!(frame, compose(&Flow { tp_src: 0, ..f }, b"ping"));
    }

    fn v6(proto: u8) -> Flow {
        let mut f = Flow {
            dl_type: ETH_TYPE_IPV6,
            nw_proto: proto,
            nw_ttl: 64,
            tp_src: 1234,
            tp_dst: 80,
            ..Flow::default()
        };
        f.ipv6_src[15] = 1;
        f.ipv6_dst[15] = 2;
        f
    }

    #[test]
    fn ipv6_addresses_match_fresh_checksums() {
        for proto in [IPPROTO_TCP, IPPROTO_UDP] {
            let f = v6(proto);
            let mut frame = compose(&f, b"data");
            let l = layers(&frame);
            let mut g = Flow {
                nw_tos: 0x28,
                ipv6_label: 0xabcde,
                nw_ttl: 1,
                ..f
            };
            g.ipv6_src = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9];
            g.ipv6_dst[0] = 0xfe;
            set_ipv6(
                &mut frame,
                &l,
                g.ipv6_src,
                g.ipv6_dst,
                g.nw_tos,
                g.ipv6_label,
                g.nw_ttl,
            );
            assert_eq!(frame, compose(&g, b"data"), "proto {proto}");
        }
    }

    #[test]
    fn nd_target_and_options() {
        let mut f = v6(IPPROTO_ICMPV6);
        f.tp_src = ND_NEIGHBOR_SOLICIT as u16;
        f.tp_dst = 0;
        f.nd_target[15] = 7;
        f.arp_sha = [1; 6];
        f.arp_tha = [2; 6];
        let mut frame = compose(&f, &[]);
        let l = layers(&frame);
        let mut g = f;
        g.nd_target[0] = 0xfe;
        g.arp_sha = [3; 6];
        g.arp_tha = [4; 6];
        set_nd(&mut frame, &l, g.nd_target, g.arp_sha, g.arp_tha);
        assert_eq!(frame, compose(&g, &[]));
        // ICMPv6 checksum follows address changes too.
        let mut h = g;
        h.ipv6_src[3] = 0x55;
        set_ipv6(&mut frame, &l, h.ipv6_src, h.ipv6_dst, 0, 0, 64);
        assert_eq!(frame, compose(&h, &[]));
    }

    #[test]
    fn sctp_crc_right_stays_right_wrong_stays_wrong() {
        let f = v4(IPPROTO_SCTP);
        let mut frame = compose(&f, &[]);
        let l = layers(&frame);
        let crc = checksum::sctp_checksum(&frame[34..]);
        frame[42..46].copy_from_slice(&crc);
        set_sctp_ports(&mut frame, &l, 9, 10);
        let mut zeroed = frame[34..].to_vec();
        zeroed[8..12].fill(0);
        assert_eq!(frame[42..46], checksum::sctp_checksum(&zeroed));
        frame[42] ^= 0xff;
        set_sctp_ports(&mut frame, &l, 11, 12);
        let mut zeroed = frame[34..].to_vec();
        zeroed[8..12].fill(0);
        assert_ne!(frame[42..46], checksum::sctp_checksum(&zeroed));
    }

    #[test]
    fn later_fragment_transport_untouched_and_short_frames_safe() {
        let f = Flow {
            nw_frag: 3,
            ..v4(IPPROTO_UDP)
        };
        let mut frame = compose(&f, &[]);
        frame.extend_from_slice(&[0xaa; 8]);
        // A later fragment has no L4 layer in its Layers, but be explicit.
        let mut l = layers(&frame);
        l.l4 = Some(34);
        l.l2_pad = 0;
        set_ipv4(&mut frame, &l, 5, 6, 0, 64);
        assert_eq!(&frame[34..], &[0xaa; 8]);
        assert_eq!(checksum::checksum(&frame[14..34]), 0);
        let mut tiny = vec![0u8; 20];
        let l = Layers {
            l2_5: Some(18),
            l3: Some(14),
            l4: Some(19),
            l2_pad: 0,
        };
        set_ipv4(&mut tiny, &l, 1, 2, 3, 4);
        set_ipv6(&mut tiny, &l, [0; 16], [0; 16], 0, 0, 0);
        set_tcp_ports(&mut tiny, &l, 1, 2);
        set_sctp_ports(&mut tiny, &l, 1, 2);
        set_icmp(&mut tiny, &l, 1, 2);
        set_nd(&mut tiny, &l, [0; 16], [0; 6], [0; 6]);
        set_arp(&mut tiny, &l, 1, [0; 6], 0, [0; 6], 0);
        set_mpls_lse(&mut tiny, &l, 7);
        assert_eq!(tiny, vec![0u8; 20]);
    }
}
