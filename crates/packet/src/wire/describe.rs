//! A whole frame in one line, layer by layer, the way tcpdump prints it:
//! each header's `Repr` display, separated by `: `.  A header that is cut
//! short or malformed ends the line with tcpdump's `[|proto]` marker.
//! VXLAN, Geneve and Ethernet-over-GRE payloads are described in turn.

use std::fmt;

use super::arp::{ArpPacket, ArpRepr};
use super::ethernet::{
    EthernetFrame, EthernetRepr, LlcSnapHeader, LlcSnapRepr, VlanHeader, VlanRepr,
};
use super::geneve::{GeneveHeader, GeneveRepr};
use super::gre::{GreHeader, GreRepr};
use super::icmpv4::{Icmpv4Packet, Icmpv4Repr};
use super::icmpv6::{Icmpv6Packet, Icmpv6Repr};
use super::igmp::{IgmpPacket, IgmpRepr};
use super::ipv4::{Ipv4Packet, Ipv4Repr};
use super::ipv6::{
    self, Ipv6ExtHeader, Ipv6ExtRepr, Ipv6FragmentHeader, Ipv6FragmentRepr, Ipv6Packet, Ipv6Repr,
};
use super::mpls::{MplsLse, MplsRepr};
use super::nsh::{NshHeader, NshRepr};
use super::sctp::{SctpPacket, SctpRepr};
use super::tcp::{TcpPacket, TcpRepr};
use super::udp::{UdpPacket, UdpRepr};
use super::vxlan::{VxlanHeader, VxlanRepr};

/// Deepest tunnel nesting that is described.
const MAX_DEPTH: usize = 4;

/// Displays an Ethernet frame layer by layer.
pub struct Frame<'a>(pub &'a [u8]);

impl fmt::Display for Frame<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        ethernet(self.0, &mut parts, 0);
        f.write_str(&parts.join(": "))
    }
}

/// One line describing `frame`.
pub fn describe(frame: &[u8]) -> String {
    Frame(frame).to_string()
}

fn cut(parts: &mut Vec<String>, proto: &str) {
    parts.push(format!("[|{proto}]"));
}

fn ethernet(b: &[u8], parts: &mut Vec<String>, depth: usize) {
    let Ok(eth) = EthernetFrame::new_checked(b) else {
        return cut(parts, "ether");
    };
    let Ok(r) = EthernetRepr::parse(&eth) else {
        return cut(parts, "ether");
    };
    parts.push(r.to_string());
    let mut ty = r.ethertype;
    let mut off = 14;
    while ty == 0x8100 || ty == 0x88a8 {
        match VlanHeader::new_checked(&b[off..]).and_then(|v| VlanRepr::parse(&v)) {
            Ok(v) => {
                parts.push(v.to_string());
                ty = v.ethertype;
                off += 4;
            }
            Err(_) => return cut(parts, "vlan"),
        }
    }
    if ty < 0x0600 {
        match LlcSnapHeader::new_checked(&b[off..]).and_then(|h| LlcSnapRepr::parse(&h)) {
            Ok(l) => {
                parts.push(l.to_string());
                if l.oui != [0, 0, 0] {
                    return;
                }
                ty = l.snap_type;
                off += 8;
            }
            Err(_) => return,
        }
    }
    network(ty, &b[off..], parts, depth);
}

fn network(ty: u16, b: &[u8], parts: &mut Vec<String>, depth: usize) {
    match ty {
        0x8847 | 0x8848 => {
            let mut off = 0;
            loop {
                match MplsLse::new_checked(&b[off..]).and_then(|h| MplsRepr::parse(&h)) {
                    Ok(m) => {
                        parts.push(m.to_string());
                        off += 4;
                        if m.bos {
                            return;
                        }
                    }
                    Err(_) => return cut(parts, "mpls"),
                }
            }
        }
        0x0806 | 0x8035 => match ArpPacket::new_checked(b).and_then(|p| ArpRepr::parse(&p)) {
            Ok(a) => parts.push(a.to_string()),
            Err(_) => cut(parts, "arp"),
        },
        0x894f => {
            let Ok(h) = NshHeader::new_checked(b) else {
                return cut(parts, "nsh");
            };
            match NshRepr::parse(&h) {
                Ok(n) => parts.push(n.to_string()),
                Err(_) => cut(parts, "nsh"),
            }
        }
        0x0800 => {
            let Ok(p) = Ipv4Packet::new_checked(b) else {
                return cut(parts, "ip");
            };
            let Ok(r) = Ipv4Repr::parse(&p) else {
                return cut(parts, "ip");
            };
            parts.push(p.to_string());
            if r.frag_offset == 0 {
                transport(r.protocol, p.payload(), parts, depth);
            }
        }
        0x86dd => {
            let Ok(p) = Ipv6Packet::new_checked(b) else {
                return cut(parts, "ip6");
            };
            let Ok(r) = Ipv6Repr::parse(&p) else {
                return cut(parts, "ip6");
            };
            parts.push(r.to_string());
            let mut proto = r.next_header;
            let mut rest = p.payload();
            while ipv6::is_extension_header(proto) {
                if proto == ipv6::FRAGMENT {
                    let Ok(h) = Ipv6FragmentHeader::new_checked(rest) else {
                        return cut(parts, "frag");
                    };
                    let Ok(fr) = Ipv6FragmentRepr::parse(&h) else {
                        return cut(parts, "frag");
                    };
                    parts.push(fr.to_string());
                    if fr.frag_offset != 0 {
                        return;
                    }
                    proto = fr.next_header;
                    rest = &rest[8..];
                    continue;
                }
                let Ok(h) = Ipv6ExtHeader::new_checked(rest) else {
                    return cut(parts, "ip6");
                };
                if h.check_len_for(proto).is_err() {
                    return cut(parts, "ip6");
                }
                let len = h.header_len(proto);
                if proto == ipv6::AH {
                    parts.push(format!("AH (len {len}) next-header {}", h.next_header()));
                } else if let Ok(e) = Ipv6ExtRepr::parse(proto, &h) {
                    parts.push(e.to_string());
                }
                proto = h.next_header();
                rest = &rest[len..];
            }
            transport(proto, rest, parts, depth);
        }
        _ => {}
    }
}

fn transport(proto: u8, b: &[u8], parts: &mut Vec<String>, depth: usize) {
    match proto {
        6 => {
            let Ok(p) = TcpPacket::new_checked(b) else {
                return cut(parts, "tcp");
            };
            match TcpRepr::parse(&p) {
                Ok(t) => parts.push(t.to_string()),
                Err(_) => cut(parts, "tcp"),
            }
        }
        17 => {
            let Ok(p) = UdpPacket::new_checked(b) else {
                return cut(parts, "udp");
            };
            let Ok(u) = UdpRepr::parse(&p) else {
                return cut(parts, "udp");
            };
            parts.push(u.to_string());
            if depth < MAX_DEPTH {
                udp_tunnel(u.dst_port, u.payload, parts, depth + 1);
            }
        }
        132 => {
            let Ok(p) = SctpPacket::new_checked(b) else {
                return cut(parts, "sctp");
            };
            match SctpRepr::parse(&p) {
                Ok(s) => parts.push(s.to_string()),
                Err(_) => cut(parts, "sctp"),
            }
        }
        1 => {
            let Ok(p) = Icmpv4Packet::new_checked(b) else {
                return cut(parts, "icmp");
            };
            match Icmpv4Repr::parse(&p) {
                Ok(i) => parts.push(i.to_string()),
                Err(_) => cut(parts, "icmp"),
            }
        }
        2 => match IgmpPacket::new_checked(b).and_then(|p| IgmpRepr::parse(&p)) {
            Ok(i) => parts.push(i.to_string()),
            Err(_) => cut(parts, "igmp"),
        },
        58 => {
            let Ok(p) = Icmpv6Packet::new_checked(b) else {
                return cut(parts, "icmp6");
            };
            match Icmpv6Repr::parse(&p) {
                Ok(i) => parts.push(i.to_string()),
                Err(_) => cut(parts, "icmp6"),
            }
        }
        47 => {
            let Ok(h) = GreHeader::new_checked(b) else {
                return cut(parts, "gre");
            };
            let Ok(g) = GreRepr::parse(&h) else {
                return cut(parts, "gre");
            };
            parts.push(g.to_string());
            if depth < MAX_DEPTH {
                if g.protocol == 0x6558 {
                    ethernet(h.payload(), parts, depth + 1);
                } else {
                    network(g.protocol, h.payload(), parts, depth + 1);
                }
            }
        }
        _ => {}
    }
}

fn udp_tunnel(port: u16, b: &[u8], parts: &mut Vec<String>, depth: usize) {
    match port {
        super::vxlan::UDP_PORT => {
            let Ok(h) = VxlanHeader::new_checked(b) else {
                return cut(parts, "vxlan");
            };
            match VxlanRepr::parse(&h) {
                Ok(v) => {
                    parts.push(v.to_string());
                    ethernet(h.payload(), parts, depth);
                }
                Err(_) => cut(parts, "vxlan"),
            }
        }
        super::geneve::UDP_PORT => {
            let Ok(h) = GeneveHeader::new_checked(b) else {
                return cut(parts, "geneve");
            };
            match GeneveRepr::parse(&h) {
                Ok(g) => {
                    parts.push(g.to_string());
                    if g.protocol == 0x6558 {
                        ethernet(h.payload(), parts, depth);
                    }
                }
                Err(_) => cut(parts, "geneve"),
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compose::compose;
    use crate::flow::{Flow, Vlan};
    use crate::tunnel::{build_header, encap, EncapParams, TunnelKind, FLOW_TNL_F_KEY};

    fn tcp_frame() -> Vec<u8> {
        let mut f = Flow {
            dl_src: [0x50, 0x54, 0, 0, 0, 5],
            dl_dst: [0x50, 0x54, 0, 0, 0, 6],
            dl_type: 0x0800,
            nw_src: 0xc0a8_0001,
            nw_dst: 0xc0a8_0002,
            nw_ttl: 64,
            nw_proto: 6,
            tp_src: 10031,
            tp_dst: 80,
            tcp_flags: 0x002,
            ..Flow::default()
        };
        f.vlans[0] = Vlan {
            tpid: 0x8100,
            tci: 0x1000 | 100,
        };
        compose(&f, &[])
    }

    #[test]
    fn vlan_ipv4_tcp() {
        assert_eq!(
            describe(&tcp_frame()),
            "50:54:00:00:00:05 > 50:54:00:00:00:06, ethertype 802.1Q (0x8100): \
             vlan 100, p 0, ethertype IPv4 (0x0800): \
             IP 192.168.0.1 > 192.168.0.2: tos 0x0, ttl 64, id 0, offset 0, flags [none], proto TCP (6), length 40: \
             TCP 10031 > 80: Flags [S], seq 0, win 0, length 0"
        );
    }

    #[test]
    fn truncation_marker() {
        let f = tcp_frame();
        let s = describe(&f[..f.len() - 1]);
        assert!(s.ends_with("[|ip]"), "{s}");
        assert_eq!(describe(&f[..5]), "[|ether]");
    }

    #[test]
    fn vxlan_inner_frame() {
        let tnl = crate::flow::FlowTnl {
            ip_src: 1,
            ip_dst: 2,
            ip_ttl: 64,
            tun_id: 5,
            flags: FLOW_TNL_F_KEY,
            ..Default::default()
        };
        let h = build_header(TunnelKind::Vxlan, &tnl, &EncapParams::default()).unwrap();
        let s = describe(&encap(&tcp_frame(), &h, 0));
        assert!(s.contains("UDP 32768 > 4789"), "{s}");
        assert!(
            s.contains("VXLAN, flags [I] (0x08), vni 5: 50:54:00:00:00:05 > 50:54:00:00:00:06"),
            "{s}"
        );
        assert!(s.ends_with("length 0"), "{s}");
    }

    #[test]
    fn random_bytes_never_panic() {
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..5000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let len = (x % 120) as usize;
            let mut b: Vec<u8> = (0..len).map(|i| (x >> (i % 56)) as u8).collect();
            if len > 14 {
                b[12..14].copy_from_slice(&[0x08, 0x00]);
                b[14] = 0x45;
            }
            let _ = describe(&b);
        }
    }
}
