//! Unit tests of flow extraction on hand-built frames.
#![allow(clippy::field_reassign_with_default)]

use super::*;
use crate::flow::FLOW_NW_FRAG_MASK;

const DST: [u8; 6] = [0x50, 0x54, 0x00, 0x00, 0x00, 0x06];
const SRC: [u8; 6] = [0x50, 0x54, 0x00, 0x00, 0x00, 0x05];

fn hex(s: &str) -> Vec<u8> {
    let s: String = s.chars().filter(|c| c.is_ascii_hexdigit()).collect();
    (0..s.len() / 2)
        .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap())
        .collect()
}

fn eth(ty: u16, payload: &[u8]) -> Vec<u8> {
    let mut f = DST.to_vec();
    f.extend_from_slice(&SRC);
    f.extend_from_slice(&ty.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

fn ipv4(proto: u8, frag_off: u16, l4: &[u8]) -> Vec<u8> {
    let mut h = hex("45 b8 0000 1234 0000 40 00 0000 c0a80001 c0a80002");
    h[9] = proto;
    h[6..8].copy_from_slice(&frag_off.to_be_bytes());
    h.extend_from_slice(l4);
    let len = h.len() as u16;
    h[2..4].copy_from_slice(&len.to_be_bytes());
    h
}

fn ipv6(next: u8, payload: &[u8]) -> Vec<u8> {
    let mut h = hex(
        "6 a1 12345 0000 00 40 fe800000000000000000000000000001 ff020000000000000000000000000002",
    );
    h[6] = next;
    let len = payload.len() as u16;
    h[4..6].copy_from_slice(&len.to_be_bytes());
    h.extend_from_slice(payload);
    h
}

fn md() -> Metadata {
    Metadata::default()
}

#[test]
fn upstream_packet_in_tcp_vector() {
    // The frame of ofp-print.at's OFPT_PACKET_IN test.
    let f = hex("505400000006505400000005080045000028bd12000040063c6ac0a80001c0a80002272f00007850cc5b57af421e5002020026e80000000000000000");
    let (flow, l) = extract_with(&f, &md(), &ExtractOptions::default());
    assert_eq!(flow.dl_dst, DST);
    assert_eq!(flow.dl_src, SRC);
    assert_eq!(flow.dl_type, ETH_TYPE_IP);
    assert_eq!(flow.nw_src, 0xc0a8_0001);
    assert_eq!(flow.nw_dst, 0xc0a8_0002);
    assert_eq!((flow.nw_tos, flow.nw_ttl, flow.nw_proto), (0, 64, 6));
    assert_eq!(flow.nw_frag, 0);
    assert_eq!((flow.tp_src, flow.tp_dst), (10031, 0));
    assert_eq!(flow.tcp_flags, 0x002);
    assert_eq!(l.l3, Some(14));
    assert_eq!(l.l4, Some(34));
    assert_eq!(l.l2_pad, 6);
}

#[test]
fn short_frames_keep_only_metadata() {
    let m = Metadata {
        in_port: 7,
        pkt_mark: 3,
        ..md()
    };
    for len in 0..14 {
        let f = vec![0xffu8; len];
        let flow = extract(&f, &m);
        let mut want = Flow::default();
        want.in_port = 7;
        want.pkt_mark = 3;
        assert_eq!(flow, want, "len {len}");
    }
}

#[test]
fn metadata_copied_as_upstream() {
    let mut m = md();
    m.ct_zone = 5;
    m.ct_mark = 6;
    let flow = extract(&eth(0x1234, &[]), &m);
    // No recirculation and no ct_state: the conntrack fields are not taken.
    assert_eq!((flow.ct_zone, flow.ct_mark), (0, 0));
    m.ct_state = 0x21;
    m.tunnel.ip_src = 1;
    let flow = extract(&eth(0x1234, &[]), &m);
    assert_eq!((flow.ct_state, flow.ct_zone, flow.ct_mark), (0x21, 5, 6));
    // Tunnel without destination is no tunnel.
    assert_eq!(flow.tunnel.ip_src, 0);
    m.tunnel.ip_dst = 2;
    assert_eq!(extract(&eth(0x1234, &[]), &m).tunnel.ip_src, 1);
    assert_eq!(extract(&eth(0x1234, &[]), &m).dl_type, 0x1234);
}

#[test]
fn vlan_stacks() {
    let inner = [0x81, 0x00, 0x20, 0x0a, 0x08, 0x06];
    let mut p = vec![0x00, 0x64];
    p.extend_from_slice(&inner);
    let f = eth(0x88a8, &p);
    let flow = extract(&f, &md());
    assert_eq!(
        flow.vlans[0],
        Vlan {
            tpid: 0x88a8,
            tci: 0x0064 | VLAN_CFI
        }
    );
    assert_eq!(
        flow.vlans[1],
        Vlan {
            tpid: 0x8100,
            tci: 0x200a | VLAN_CFI
        }
    );
    assert_eq!(flow.dl_type, ETH_TYPE_ARP);

    // With a limit of 1, the second tag's TPID becomes the EtherType.
    let (flow, l) = extract_with(&f, &md(), &ExtractOptions { vlan_limit: 1 });
    assert_eq!(flow.vlans[1], Vlan::default());
    assert_eq!(flow.dl_type, 0x8100);
    assert_eq!(l.l3, Some(18));

    // A limit of 0 means no limit but the flow key's.
    let (flow, _) = extract_with(&f, &md(), &ExtractOptions { vlan_limit: 0 });
    assert_eq!(flow.dl_type, ETH_TYPE_ARP);

    // Three tags: the third is the EtherType.
    let mut p3 = vec![
        0x00, 0x01, 0x81, 0x00, 0x00, 0x02, 0x81, 0x00, 0x00, 0x03, 0x08, 0x00,
    ];
    p3.extend_from_slice(&[0; 4]);
    let flow = extract(&eth(0x8100, &p3), &md());
    assert_eq!(flow.dl_type, 0x8100);
    assert_eq!(flow.vlans[1].tci, 0x1002);

    // A tag that does not leave room for a type is not parsed.
    let flow = extract(&eth(0x8100, &[0x00, 0x05]), &md());
    assert_eq!(flow.vlans[0], Vlan::default());
    assert_eq!(flow.dl_type, 0x8100);
}

#[test]
fn llc_snap_and_802_3() {
    // 802.3 with SNAP carrying IPv4 (truncated IP: only dl_type).
    let f = eth(0x0030, &hex("aaaa03 000000 0800 4500"));
    let flow = extract(&f, &md());
    assert_eq!(flow.dl_type, ETH_TYPE_IP);
    assert_eq!(flow.nw_proto, 0);
    // SNAP with a non-Ethernet OUI.
    assert_eq!(
        extract(&eth(0x0030, &hex("aaaa03 00000c 2000")), &md()).dl_type,
        DL_TYPE_NONE
    );
    // Plain 802.2 (STP).
    assert_eq!(
        extract(&eth(0x0026, &hex("424203 0000 0000")), &md()).dl_type,
        DL_TYPE_NONE
    );
    // Too short for LLC+SNAP.
    assert_eq!(
        extract(&eth(0x0003, &hex("aaaa03")), &md()).dl_type,
        DL_TYPE_NONE
    );
    // SNAP type below 0x600.
    assert_eq!(
        extract(&eth(0x0030, &hex("aaaa03 000000 0100")), &md()).dl_type,
        DL_TYPE_NONE
    );
}

#[test]
fn mpls_stacks() {
    let l1 = (100u32 << 12) | (3 << 9) | 64;
    let l2 = (200u32 << 12) | 32;
    let l3 = (300u32 << 12) | 16;
    let l4 = (400u32 << 12) | MPLS_BOS_MASK | 8;
    let mut p = Vec::new();
    for l in [l1, l2, l3, l4] {
        p.extend_from_slice(&l.to_be_bytes());
    }
    p.extend_from_slice(&ipv4(6, 0, &[0; 20]));
    let (flow, layers) = extract_with(&eth(ETH_TYPE_MPLS, &p), &md(), &ExtractOptions::default());
    assert_eq!(flow.mpls_lse, [l1, l2, l3]);
    assert_eq!(flow.dl_type, ETH_TYPE_MPLS);
    // MPLS payload is not parsed.
    assert_eq!(flow.nw_src, 0);
    assert_eq!(layers.l2_5, Some(14));
    assert_eq!(layers.l3, Some(14 + 16));

    let bos = (5u32 << 12) | MPLS_BOS_MASK | 1;
    let flow = extract(&eth(ETH_TYPE_MPLS_MCAST, &bos.to_be_bytes()), &md());
    assert_eq!(flow.mpls_lse, [bos, 0, 0]);
    // Truncated label: nothing.
    let flow = extract(&eth(ETH_TYPE_MPLS, &[1, 2, 3]), &md());
    assert_eq!(flow.mpls_lse, [0, 0, 0]);
}

fn arp(op: u16) -> Vec<u8> {
    let mut a = hex("0001 0800 06 04 0000 505400000005 0a000001 000000000000 0a000002");
    a[6..8].copy_from_slice(&op.to_be_bytes());
    a
}

#[test]
fn arp_and_rarp() {
    let flow = extract(&eth(ETH_TYPE_ARP, &arp(1)), &md());
    assert_eq!(flow.nw_proto, 1);
    assert_eq!(flow.nw_src, 0x0a00_0001);
    assert_eq!(flow.nw_dst, 0x0a00_0002);
    assert_eq!(flow.arp_sha, SRC);
    assert_eq!(flow.arp_tha, [0; 6]);
    let flow = extract(&eth(ETH_TYPE_RARP, &arp(4)), &md());
    assert_eq!(flow.nw_proto, 4);
    // Opcode beyond 8 bits: addresses but no opcode.
    let flow = extract(&eth(ETH_TYPE_ARP, &arp(0x0102)), &md());
    assert_eq!(flow.nw_proto, 0);
    assert_eq!(flow.nw_src, 0x0a00_0001);
    // Not Ethernet/IPv4 ARP, or truncated: nothing.
    let mut bad = arp(1);
    bad[5] = 16;
    assert_eq!(extract(&eth(ETH_TYPE_ARP, &bad), &md()).nw_src, 0);
    assert_eq!(extract(&eth(ETH_TYPE_ARP, &arp(1)[..27]), &md()).nw_src, 0);
}

#[test]
fn ipv4_fields_and_padding() {
    let tcp = hex("0050 1f90 00000001 00000000 5012 ffff 0000 0000");
    let mut frame = eth(ETH_TYPE_IP, &ipv4(IPPROTO_TCP, 0x4000, &tcp));
    frame.extend_from_slice(&[0xee; 10]);
    let (flow, l) = extract_with(&frame, &md(), &ExtractOptions::default());
    assert_eq!(flow.nw_tos, 0xb8);
    assert_eq!(flow.nw_ttl, 64);
    assert_eq!(flow.nw_frag, 0, "DF is not a fragment");
    assert_eq!((flow.tp_src, flow.tp_dst), (80, 8080));
    assert_eq!(flow.tcp_flags, 0x012);
    assert_eq!(l.l2_pad, 10);
}

#[test]
fn ipv4_fragments() {
    let udp = hex("0035 0035 0008 0000");
    let first = extract(&eth(ETH_TYPE_IP, &ipv4(IPPROTO_UDP, 0x2000, &udp)), &md());
    assert_eq!(first.nw_frag, FLOW_NW_FRAG_ANY);
    assert_eq!(first.tp_src, 53);
    let later = extract(&eth(ETH_TYPE_IP, &ipv4(IPPROTO_UDP, 0x0010, &udp)), &md());
    assert_eq!(later.nw_frag, FLOW_NW_FRAG_ANY | FLOW_NW_FRAG_LATER);
    assert_eq!(later.nw_frag & !FLOW_NW_FRAG_MASK, 0);
    assert_eq!(later.nw_proto, IPPROTO_UDP);
    assert_eq!((later.tp_src, later.tp_dst), (0, 0));
}

#[test]
fn ipv4_options_are_skipped() {
    let mut ip = ipv4(IPPROTO_UDP, 0, &[]);
    ip[0] = 0x46;
    ip.extend_from_slice(&[1, 1, 1, 0]);
    ip.extend_from_slice(&hex("1234 5678 0008 0000"));
    let len = ip.len() as u16;
    ip[2..4].copy_from_slice(&len.to_be_bytes());
    let flow = extract(&eth(ETH_TYPE_IP, &ip), &md());
    assert_eq!((flow.tp_src, flow.tp_dst), (0x1234, 0x5678));
}

#[test]
fn malformed_ipv4_stops_at_l3() {
    let good = ipv4(IPPROTO_UDP, 0, &hex("1234 5678 0008 0000"));
    let check = |ip: &[u8]| {
        let flow = extract(&eth(ETH_TYPE_IP, ip), &md());
        assert_eq!(flow.dl_type, ETH_TYPE_IP);
        assert_eq!(
            (flow.nw_src, flow.nw_proto, flow.nw_ttl, flow.tp_src),
            (0, 0, 0, 0)
        );
    };
    check(&good[..19]);
    let mut ihl = good.clone();
    ihl[0] = 0x44;
    check(&ihl);
    let mut big = good.clone();
    big[0] = 0x4f;
    check(&big);
    let mut tot = good.clone();
    tot[2..4].copy_from_slice(&100u16.to_be_bytes());
    check(&tot);
    let mut small = good.clone();
    small[2..4].copy_from_slice(&19u16.to_be_bytes());
    check(&small);
    // Total length that leaves the UDP header outside: L3 parsed, no L4.
    let mut short = good.clone();
    short[2..4].copy_from_slice(&24u16.to_be_bytes());
    let flow = extract(&eth(ETH_TYPE_IP, &short), &md());
    assert_eq!(flow.nw_proto, IPPROTO_UDP);
    assert_eq!(flow.tp_src, 0);
}

#[test]
fn tcp_truncated_or_bad_offset() {
    let tcp = hex("0050 1f90 00000001 00000000 5002 ffff 0000 0000");
    let flow = extract(&eth(ETH_TYPE_IP, &ipv4(IPPROTO_TCP, 0, &tcp[..19])), &md());
    assert_eq!((flow.nw_proto, flow.tp_src, flow.tcp_flags), (6, 0, 0));
    let mut off4 = tcp.clone();
    off4[12] = 0x40;
    let flow = extract(&eth(ETH_TYPE_IP, &ipv4(IPPROTO_TCP, 0, &off4)), &md());
    assert_eq!(flow.tp_src, 0);
    let mut off6 = tcp.clone();
    off6[12] = 0x60;
    let flow = extract(&eth(ETH_TYPE_IP, &ipv4(IPPROTO_TCP, 0, &off6)), &md());
    assert_eq!(flow.tp_src, 0, "options beyond the segment");
    off6.extend_from_slice(&[1, 1, 1, 1]);
    let flow = extract(&eth(ETH_TYPE_IP, &ipv4(IPPROTO_TCP, 0, &off6)), &md());
    assert_eq!(flow.tp_src, 80);
    // All 12 flag bits (incl. NS and the reserved ones) are kept.
    let mut all = tcp.clone();
    all[12] = 0x5f;
    all[13] = 0xff;
    let flow = extract(&eth(ETH_TYPE_IP, &ipv4(IPPROTO_TCP, 0, &all)), &md());
    assert_eq!(flow.tcp_flags, 0x0fff);
}

#[test]
fn udp_sctp_icmp_igmp() {
    let flow = extract(
        &eth(
            ETH_TYPE_IP,
            &ipv4(IPPROTO_UDP, 0, &hex("0044 0043 0008 0000")),
        ),
        &md(),
    );
    assert_eq!((flow.tp_src, flow.tp_dst), (68, 67));
    let flow = extract(
        &eth(ETH_TYPE_IP, &ipv4(IPPROTO_UDP, 0, &hex("0044 0043 0008"))),
        &md(),
    );
    assert_eq!(flow.tp_src, 0);

    let sctp = hex("0b59 0b5a 00000000 00000000");
    let flow = extract(&eth(ETH_TYPE_IP, &ipv4(IPPROTO_SCTP, 0, &sctp)), &md());
    assert_eq!((flow.tp_src, flow.tp_dst), (2905, 2906));
    let flow = extract(
        &eth(ETH_TYPE_IP, &ipv4(IPPROTO_SCTP, 0, &sctp[..11])),
        &md(),
    );
    assert_eq!(flow.tp_src, 0);

    let icmp = hex("0301 0000 00000000");
    let flow = extract(&eth(ETH_TYPE_IP, &ipv4(IPPROTO_ICMP, 0, &icmp)), &md());
    assert_eq!((flow.tp_src, flow.tp_dst), (3, 1));
    let flow = extract(&eth(ETH_TYPE_IP, &ipv4(IPPROTO_ICMP, 0, &icmp[..7])), &md());
    assert_eq!(flow.tp_src, 0);

    let igmp = hex("16 00 0000 e0000016");
    let flow = extract(&eth(ETH_TYPE_IP, &ipv4(IPPROTO_IGMP, 0, &igmp)), &md());
    assert_eq!((flow.tp_src, flow.tp_dst), (0x16, 0));
    assert_eq!(flow.nd_reserved, 0xe000_0016);
    let flow = extract(&eth(ETH_TYPE_IP, &ipv4(IPPROTO_IGMP, 0, &igmp[..7])), &md());
    assert_eq!((flow.tp_src, flow.nd_reserved), (0, 0));
}

#[test]
fn ipv6_basic() {
    let udp = hex("1234 5678 0008 0000");
    let mut frame = eth(ETH_TYPE_IPV6, &ipv6(IPPROTO_UDP, &udp));
    frame.extend_from_slice(&[0; 4]);
    let (flow, l) = extract_with(&frame, &md(), &ExtractOptions::default());
    assert_eq!(flow.ipv6_src[0], 0xfe);
    assert_eq!(flow.ipv6_src[15], 1);
    assert_eq!(flow.ipv6_dst[0], 0xff);
    assert_eq!(flow.ipv6_label, 0x12345);
    assert_eq!(flow.nw_tos, 0xa1);
    assert_eq!(flow.nw_ttl, 0x40);
    assert_eq!(flow.nw_proto, IPPROTO_UDP);
    assert_eq!((flow.tp_src, flow.tp_dst), (0x1234, 0x5678));
    assert_eq!(l.l4, Some(54));
    assert_eq!(l.l2_pad, 4);
    // Truncated header, payload length beyond the frame.
    let f = extract(&eth(ETH_TYPE_IPV6, &ipv6(IPPROTO_UDP, &udp)[..39]), &md());
    assert_eq!((f.dl_type, f.ipv6_src), (ETH_TYPE_IPV6, [0; 16]));
    let mut long = ipv6(IPPROTO_UDP, &udp);
    long[5] = 9;
    let f = extract(&eth(ETH_TYPE_IPV6, &long), &md());
    assert_eq!(f.ipv6_src, [0; 16]);
}

#[test]
fn ipv6_extension_headers() {
    let tcp = hex("0016 d431 00000000 00000000 5018 0000 0000 0000");
    // Hop-by-hop (8) -> routing (16) -> dest opts (8) -> AH (12) -> TCP.
    let mut p = vec![IPPROTO_ROUTING, 0, 1, 4, 0, 0, 0, 0];
    p.extend_from_slice(&[IPPROTO_DSTOPTS, 1, 0, 0, 0, 0, 0, 0]);
    p.extend_from_slice(&[0; 8]);
    p.extend_from_slice(&[IPPROTO_AH, 0, 1, 4, 0, 0, 0, 0]);
    p.extend_from_slice(&[IPPROTO_TCP, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    p.extend_from_slice(&tcp);
    let flow = extract(&eth(ETH_TYPE_IPV6, &ipv6(IPPROTO_HOPOPTS, &p)), &md());
    assert_eq!(flow.nw_proto, IPPROTO_TCP);
    assert_eq!((flow.tp_src, flow.tp_dst), (22, 54321));
    assert_eq!(flow.tcp_flags, 0x018);

    // An extension header that does not fit: no label, tos, ttl or proto.
    let flow = extract(&eth(ETH_TYPE_IPV6, &ipv6(IPPROTO_HOPOPTS, &p[..7])), &md());
    assert_eq!(flow.ipv6_src[0], 0xfe);
    assert_eq!((flow.ipv6_label, flow.nw_ttl, flow.nw_proto), (0, 0, 0));
    let flow = extract(&eth(ETH_TYPE_IPV6, &ipv6(IPPROTO_HOPOPTS, &p[..12])), &md());
    assert_eq!(flow.nw_proto, 0);

    // Unknown next header ends the chain.
    let flow = extract(&eth(ETH_TYPE_IPV6, &ipv6(IPPROTO_NONE, &[])), &md());
    assert_eq!(flow.nw_proto, IPPROTO_NONE);
    assert_eq!(flow.nw_ttl, 0x40);
}

#[test]
fn ipv6_fragments() {
    let udp = hex("1234 5678 0008 0000");
    let frag = |offlg: u16| {
        let mut p = vec![IPPROTO_UDP, 0];
        p.extend_from_slice(&offlg.to_be_bytes());
        p.extend_from_slice(&[0, 0, 0, 1]);
        p.extend_from_slice(&udp);
        extract(&eth(ETH_TYPE_IPV6, &ipv6(IPPROTO_FRAGMENT, &p)), &md())
    };
    let atomic = frag(0);
    assert_eq!(
        (atomic.nw_frag, atomic.nw_proto, atomic.tp_src),
        (0, IPPROTO_UDP, 0x1234)
    );
    let first = frag(1);
    assert_eq!(
        (first.nw_frag, first.nw_proto, first.tp_src),
        (FLOW_NW_FRAG_ANY, IPPROTO_UDP, 0x1234)
    );
    let later = frag(0x0008);
    assert_eq!(later.nw_frag, FLOW_NW_FRAG_ANY | FLOW_NW_FRAG_LATER);
    assert_eq!((later.nw_proto, later.tp_src), (IPPROTO_FRAGMENT, 0));
    assert_eq!(later.ipv6_label, 0x12345);
}

fn nd(ty: u8, opts: &[u8]) -> Vec<u8> {
    let mut p = vec![ty, 0, 0, 0, 0x60, 0, 0, 0];
    p.extend_from_slice(&hex("fe800000000000000000000000000099"));
    p.extend_from_slice(opts);
    p
}

#[test]
fn icmpv6_and_nd() {
    let flow = extract(
        &eth(
            ETH_TYPE_IPV6,
            &ipv6(IPPROTO_ICMPV6, &hex("8000 0000 0001 0002")),
        ),
        &md(),
    );
    assert_eq!((flow.tp_src, flow.tp_dst), (128, 0));
    assert_eq!(flow.nd_reserved, 0);

    let sll = hex("0101 505400000005");
    let tll = hex("0201 505400000006");
    let mut opts = sll.clone();
    opts.extend_from_slice(&hex("0301 0000 0000 0000")); // other option, skipped
    opts.extend_from_slice(&tll);
    let flow = extract(
        &eth(ETH_TYPE_IPV6, &ipv6(IPPROTO_ICMPV6, &nd(136, &opts))),
        &md(),
    );
    assert_eq!((flow.tp_src, flow.tp_dst), (136, 0));
    assert_eq!(flow.nd_target[15], 0x99);
    assert_eq!(flow.arp_sha, SRC);
    assert_eq!(flow.arp_tha, DST);
    assert_eq!(flow.nd_options_type, 1);
    assert_eq!(flow.nd_reserved, 0x6000_0000);

    let flow = extract(
        &eth(ETH_TYPE_IPV6, &ipv6(IPPROTO_ICMPV6, &nd(135, &tll))),
        &md(),
    );
    assert_eq!(flow.nd_options_type, 2);
    assert_eq!(flow.arp_sha, [0; 6]);

    // No target: still ND, with the reserved word.
    let flow = extract(
        &eth(ETH_TYPE_IPV6, &ipv6(IPPROTO_ICMPV6, &nd(135, &[])[..12])),
        &md(),
    );
    assert_eq!(
        (flow.tp_src, flow.nd_target, flow.nd_reserved),
        (135, [0; 16], 0x6000_0000)
    );

    // Duplicate source link-layer option: treated as plain ICMPv6.
    let mut dup = sll.clone();
    dup.extend_from_slice(&sll);
    let flow = extract(
        &eth(ETH_TYPE_IPV6, &ipv6(IPPROTO_ICMPV6, &nd(135, &dup))),
        &md(),
    );
    assert_eq!(
        (flow.tp_src, flow.nd_target, flow.arp_sha),
        (135, [0; 16], [0; 6])
    );
    assert_eq!((flow.nd_reserved, flow.nd_options_type), (0, 0));

    // Zero-length option and option past the end end the options.
    let mut zero = sll.clone();
    zero.extend_from_slice(&hex("0200 0000 0000 0000"));
    zero.extend_from_slice(&tll);
    let flow = extract(
        &eth(ETH_TYPE_IPV6, &ipv6(IPPROTO_ICMPV6, &nd(135, &zero))),
        &md(),
    );
    assert_eq!(
        (flow.nd_target[15], flow.arp_sha, flow.arp_tha),
        (0x99, SRC, [0; 6])
    );
    let flow = extract(
        &eth(
            ETH_TYPE_IPV6,
            &ipv6(IPPROTO_ICMPV6, &nd(135, &hex("0102 0000 0000 0000"))),
        ),
        &md(),
    );
    assert_eq!((flow.nd_target[15], flow.nd_options_type), (0x99, 0));
    // Fewer than 8 trailing bytes are ignored.
    let flow = extract(
        &eth(ETH_TYPE_IPV6, &ipv6(IPPROTO_ICMPV6, &nd(135, &[1, 1, 0]))),
        &md(),
    );
    assert_eq!(flow.nd_target[15], 0x99);
    // Nonzero code: not ND.
    let mut c1 = nd(135, &sll);
    c1[1] = 1;
    let flow = extract(&eth(ETH_TYPE_IPV6, &ipv6(IPPROTO_ICMPV6, &c1)), &md());
    assert_eq!((flow.tp_dst, flow.nd_target), (1, [0; 16]));
    // Truncated ICMPv6 header.
    let flow = extract(
        &eth(ETH_TYPE_IPV6, &ipv6(IPPROTO_ICMPV6, &[135, 0, 0])),
        &md(),
    );
    assert_eq!(flow.tp_src, 0);
}

#[test]
fn nsh() {
    // Ver 0, O=1, TTL 63, len 6 words, MD1, NP=1 (IPv4), SPI 0x123456, SI 255.
    let h = hex("1fc6 01 01 123456ff 11111111 22222222 33333333 44444444");
    let flow = extract(&eth(ETH_TYPE_NSH, &h), &md());
    assert_eq!(flow.nsh.flags, 1);
    assert_eq!(flow.nsh.ttl, 63);
    assert_eq!(flow.nsh.mdtype, 1);
    assert_eq!(flow.nsh.np, 1);
    assert_eq!(flow.nsh.path_hdr, 0x1234_56ff);
    assert_eq!(
        flow.nsh.context,
        [0x1111_1111, 0x2222_2222, 0x3333_3333, 0x4444_4444]
    );
    // MD2 without contexts.
    let flow = extract(
        &eth(ETH_TYPE_NSH, &hex("0fc3 02 03 00000101 00000000")),
        &md(),
    );
    assert_eq!(
        (flow.nsh.mdtype, flow.nsh.np, flow.nsh.context),
        (2, 3, [0; 4])
    );
    // MD1 with a wrong length, wrong version, truncated: nothing.
    assert_eq!(
        extract(
            &eth(
                ETH_TYPE_NSH,
                &hex("0fc5 01 01 123456ff 11111111 22222222 33333333 44444444")
            ),
            &md()
        )
        .nsh,
        FlowNsh::default()
    );
    assert_eq!(
        extract(
            &eth(
                ETH_TYPE_NSH,
                &hex("4fc6 01 01 123456ff 11111111 22222222 33333333 44444444")
            ),
            &md()
        )
        .nsh,
        FlowNsh::default()
    );
    assert_eq!(
        extract(&eth(ETH_TYPE_NSH, &h[..23]), &md()).nsh,
        FlowNsh::default()
    );
}

#[test]
fn packet_types() {
    // IPv4 without Ethernet (packet_type=(1,0x800)).
    let m = Metadata {
        packet_type: (1 << 16) | 0x0800,
        ..md()
    };
    let flow = extract(&ipv4(IPPROTO_UDP, 0, &hex("0001 0002 0008 0000")), &m);
    assert_eq!(flow.packet_type, 0x0001_0800);
    assert_eq!(flow.dl_type, ETH_TYPE_IP);
    assert_eq!(flow.dl_src, [0; 6]);
    assert_eq!((flow.nw_src, flow.tp_dst), (0xc0a8_0001, 2));
    // Another namespace: nothing parsed.
    let m = Metadata {
        packet_type: (2 << 16) | 0x0800,
        ..md()
    };
    let flow = extract(&ipv4(IPPROTO_UDP, 0, &[]), &m);
    assert_eq!((flow.dl_type, flow.nw_src), (0, 0));
}

#[test]
fn conntrack_original_tuple() {
    let mut m = md();
    m.ct_state = 0x21;
    m.ct_orig_tuple = Some(CtOrigTuple::V4 {
        src: 1,
        dst: 2,
        src_port: 3,
        dst_port: 4,
        proto: 17,
    });
    let frame = eth(
        ETH_TYPE_IP,
        &ipv4(IPPROTO_UDP, 0, &hex("1234 5678 0008 0000")),
    );
    let flow = extract(&frame, &m);
    assert_eq!(
        (flow.ct_nw_proto, flow.ct_nw_src, flow.ct_nw_dst),
        (17, 1, 2)
    );
    assert_eq!((flow.ct_tp_src, flow.ct_tp_dst), (3, 4));
    // A v6 tuple does not apply to an IPv4 packet.
    m.ct_orig_tuple = Some(CtOrigTuple::V6 {
        src: [1; 16],
        dst: [2; 16],
        src_port: 3,
        dst_port: 4,
        proto: 6,
    });
    let flow = extract(&frame, &m);
    assert_eq!((flow.ct_nw_proto, flow.ct_tp_src), (0, 0));
    let frame6 = eth(
        ETH_TYPE_IPV6,
        &ipv6(IPPROTO_UDP, &hex("1234 5678 0008 0000")),
    );
    let flow = extract(&frame6, &m);
    assert_eq!(
        (flow.ct_nw_proto, flow.ct_ipv6_src, flow.ct_tp_dst),
        (6, [1; 16], 4)
    );
}

#[test]
fn every_truncation_of_every_frame_is_safe() {
    let frames = [
        eth(
            ETH_TYPE_IP,
            &ipv4(
                IPPROTO_TCP,
                0,
                &hex("0050 1f90 00000001 00000000 6002 ffff 0000 0000 01010101"),
            ),
        ),
        eth(
            ETH_TYPE_IPV6,
            &ipv6(IPPROTO_ICMPV6, &nd(135, &hex("0101 505400000005"))),
        ),
        eth(
            ETH_TYPE_NSH,
            &hex("1fc6 01 01 123456ff 11111111 22222222 33333333 44444444"),
        ),
        eth(0x8100, &hex("0001 88a8 0002 8847 00001100 00002140")),
        eth(ETH_TYPE_ARP, &arp(2)),
    ];
    for f in &frames {
        let full = extract(f, &md());
        for n in 0..f.len() {
            let part = extract(&f[..n], &md());
            assert!(n >= 14 || part.dl_type == 0);
            // Truncation never invents a value the full frame lacks.
            assert!(part.dl_src == full.dl_src || part.dl_src == [0; 6]);
        }
    }
}

/// Random frames built from plausible headers with random bytes in them:
/// extraction must never panic, whatever it finds.
#[test]
fn random_frames_never_panic() {
    let mut state = 0x1234_5678_9abc_def0u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let types = [
        0x0800u16, 0x86dd, 0x0806, 0x8035, 0x8100, 0x88a8, 0x8847, 0x8848, 0x894f, 0x0030,
    ];
    let protos = [0u8, 1, 2, 6, 17, 43, 44, 51, 58, 60, 132];
    for i in 0..20_000 {
        let len = (next() % 160) as usize;
        let mut f: Vec<u8> = (0..len).map(|_| next() as u8).collect();
        if len >= 14 {
            let t = types[(next() % types.len() as u64) as usize];
            f[12..14].copy_from_slice(&t.to_be_bytes());
        }
        if len >= 34 && next() % 2 == 0 {
            f[14] = if next() % 2 == 0 { 0x45 } else { 0x60 };
            f[20] = protos[(next() % protos.len() as u64) as usize];
            f[23] = protos[(next() % protos.len() as u64) as usize];
        }
        let m = Metadata {
            packet_type: if i % 7 == 0 {
                (1 << 16) | 0x86dd
            } else {
                PT_ETH
            },
            ..md()
        };
        let (flow, l) = extract_with(&f, &m, &ExtractOptions::default());
        for off in [l.l2_5, l.l3, l.l4].into_iter().flatten() {
            assert!(off <= f.len());
        }
        assert!(l.l2_pad <= f.len());
        let _ = flow;
    }
}

#[test]
fn extract_into_overwrites_what_the_key_held() {
    // A key left over from an IPv6 TCP packet with metadata, reused for an
    // IPv4 UDP frame: nothing of the old key may survive.
    let old_frame = eth(
        0x86dd,
        &ipv6(6, &hex("0050 1f90 00000001 00000000 5012 0000 0000 0000")),
    );
    let old_md = Metadata {
        in_port: 9,
        recirc_id: 4,
        ct_state: 0x21,
        pkt_mark: 5,
        ..md()
    };
    let (mut flow, mut layers) = extract_with(&old_frame, &old_md, &ExtractOptions::default());
    flow.regs[3] = 0xdead;
    let frame = eth(0x0800, &ipv4(17, 0, &hex("03e8 0009 0008 0000")));
    let m = Metadata { in_port: 2, ..md() };
    extract_into(
        &frame,
        &m,
        &ExtractOptions::default(),
        &mut flow,
        &mut layers,
    );
    let (want, want_layers) = extract_with(&frame, &m, &ExtractOptions::default());
    assert!(flow == want, "{flow:?}\n!=\n{want:?}");
    assert_eq!(layers, want_layers);
    assert_eq!((flow.tp_src, flow.tp_dst, flow.recirc_id), (1000, 9, 0));
}
