//! Committing header changes to the datapath: compare the flow translation
//! has built (`flow`) with what the datapath packet looks like so far
//! (`base`) and emit the `set`/`push`/`pop` actions that make them agree, in
//! upstream's order (Ethernet, MPLS pop when leaving MPLS, IPv4/IPv6/ARP/ND,
//! L4 ports, ICMP, MPLS, VLANs, skb_priority, skb_mark).
//!
//! The userspace datapath takes masked sets: the mask of each set is the
//! megaflow mask of the fields (what translation read or wrote), and only a
//! difference in masked bits emits anything.  A mask covering the whole key
//! gives a plain `set`.  ARP, ND and ICMP rewrites report the slow path, as
//! upstream.

use flow::odp::actions::set::SetKey;
use flow::odp::actions::{OdpAction, ETH_TYPE_VLAN};
use packet::extract::PT_ETH;
use packet::flow::{
    FLOW_MAX_MPLS_LABELS, FLOW_MAX_VLAN_HEADERS, FLOW_NW_FRAG_ANY, FLOW_NW_FRAG_LATER,
};
use packet::Flow;

use super::SLOW_ACTION;

pub const ETH_TYPE_IP: u16 = 0x0800;
pub const ETH_TYPE_IPV6: u16 = 0x86dd;
pub const ETH_TYPE_ARP: u16 = 0x0806;
pub const ETH_TYPE_RARP: u16 = 0x8035;
pub const ETH_TYPE_MPLS: u16 = 0x8847;
pub const ETH_TYPE_MPLS_MCAST: u16 = 0x8848;
pub const VLAN_CFI: u16 = 0x1000;
pub const MPLS_BOS: u32 = 0x100;
const IP_ECN_MASK: u8 = 0x03;

pub fn eth_type_mpls(t: u16) -> bool {
    t == ETH_TYPE_MPLS || t == ETH_TYPE_MPLS_MCAST
}

pub fn is_ip_any(f: &Flow) -> bool {
    f.dl_type == ETH_TYPE_IP || f.dl_type == ETH_TYPE_IPV6
}

fn frag_type(nw_frag: u8) -> u8 {
    if nw_frag & FLOW_NW_FRAG_ANY == 0 {
        0
    } else if nw_frag & FLOW_NW_FRAG_LATER != 0 {
        2
    } else {
        1
    }
}

/// Number of MPLS labels in `flow` (unwildcarding the BOS bits examined).
pub fn count_mpls_labels(flow: &Flow, wc: Option<&mut Flow>) -> usize {
    if !eth_type_mpls(flow.dl_type) {
        return 0;
    }
    let mut wc = wc;
    let mut cnt = 0;
    for i in 0..FLOW_MAX_MPLS_LABELS {
        if let Some(w) = wc.as_deref_mut() {
            w.mpls_lse[i] |= MPLS_BOS;
        }
        if flow.mpls_lse[i] & MPLS_BOS != 0 {
            return i + 1;
        }
        if flow.mpls_lse[i] != 0 {
            cnt += 1;
        }
    }
    cnt
}

fn count_common_mpls(a: &Flow, an: usize, b: &Flow, bn: usize) -> usize {
    let min_n = an.min(bn);
    let mut common = 0;
    for i in 0..min_n {
        if a.mpls_lse[an - 1 - i] != b.mpls_lse[bn - 1 - i] {
            break;
        }
        common += 1;
    }
    common
}

/// Clears the L3 and L4 fields (what pushing the first MPLS label hides).
pub fn clear_l3(flow: &mut Flow) {
    flow.nw_src = 0;
    flow.nw_dst = 0;
    flow.ct_nw_src = 0;
    flow.ct_nw_dst = 0;
    flow.ipv6_src = [0; 16];
    flow.ipv6_dst = [0; 16];
    flow.ct_ipv6_src = [0; 16];
    flow.ct_ipv6_dst = [0; 16];
    flow.ipv6_label = 0;
    flow.nw_frag = 0;
    flow.nw_tos = 0;
    flow.nw_ttl = 0;
    flow.nw_proto = 0;
    flow.nd_target = [0; 16];
    flow.arp_sha = [0; 6];
    flow.arp_tha = [0; 6];
    flow.tcp_flags = 0;
    flow.nd_reserved = 0;
    flow.nd_options_type = 0;
    flow.nsh = Default::default();
    flow.tp_src = 0;
    flow.tp_dst = 0;
    flow.ct_tp_src = 0;
    flow.ct_tp_dst = 0;
    flow.dp_hash = 0;
}

/// Pushes an MPLS label onto `flow` that has `n` labels already.
pub fn push_mpls(flow: &mut Flow, n: usize, ethertype: u16, wc: Option<&mut Flow>, clear: bool) {
    if n >= FLOW_MAX_MPLS_LABELS {
        return;
    }
    if n > 0 {
        if let Some(w) = wc {
            for i in 0..n {
                w.mpls_lse[i] = u32::MAX;
            }
        }
        for i in (1..=n).rev() {
            flow.mpls_lse[i] = flow.mpls_lse[i - 1];
        }
        flow.mpls_lse[0] = flow.mpls_lse[1] & !MPLS_BOS;
    } else {
        let label: u32 = if flow.dl_type == ETH_TYPE_IPV6 { 2 } else { 0 };
        let mut tc = 0u32;
        let mut ttl = 64u32;
        if is_ip_any(flow) {
            tc = u32::from((flow.nw_tos & 0xfc) >> 2);
            if let Some(w) = wc {
                w.nw_tos |= 0xfc;
                w.nw_ttl = 0xff;
            }
            if flow.nw_ttl != 0 {
                ttl = u32::from(flow.nw_ttl);
            }
        }
        flow.mpls_lse[0] = (label << 12) | ((tc & 7) << 9) | MPLS_BOS | (ttl & 0xff);
        if clear {
            clear_l3(flow);
        }
    }
    flow.dl_type = ethertype;
}

/// Pops the top MPLS label of `flow` that has `n`; false if impossible.
pub fn pop_mpls(flow: &mut Flow, n: usize, ethertype: u16, wc: Option<&mut Flow>) -> bool {
    if n == 0 {
        return false;
    }
    let mut wc = wc;
    if n == FLOW_MAX_MPLS_LABELS {
        if let Some(w) = wc.as_deref_mut() {
            w.mpls_lse[n - 1] |= MPLS_BOS;
        }
        if flow.mpls_lse[n - 1] & MPLS_BOS == 0 {
            return false;
        }
    }
    if let Some(w) = wc {
        for i in 1..n {
            w.mpls_lse[i] = u32::MAX;
        }
    }
    for i in 1..n {
        flow.mpls_lse[i - 1] = flow.mpls_lse[i];
    }
    flow.mpls_lse[n - 1] = 0;
    flow.dl_type = ethertype;
    true
}

/// Number of VLAN headers (CFI set) in `flow`.
pub fn count_vlans(flow: &Flow) -> usize {
    flow.vlans
        .iter()
        .take_while(|v| v.tci & VLAN_CFI != 0)
        .count()
}

/// Emits the actions that turn `base` into `flow`; returns slow-path
/// reasons.  `base` is updated to what the datapath packet will look like.
pub fn commit_odp_actions(
    flow: &Flow,
    base: &mut Flow,
    wc: &mut Flow,
    out: &mut Vec<OdpAction>,
) -> u32 {
    commit_packet_type(flow, base, out);
    commit_ether(flow, base, wc, out);
    let mut mpls_done = false;
    if eth_type_mpls(base.dl_type) && !eth_type_mpls(flow.dl_type) {
        commit_mpls(flow, base, out);
        mpls_done = true;
    }
    let slow1 = commit_nw(flow, base, wc, out);
    commit_ports(flow, base, wc, out);
    let slow2 = commit_icmp(flow, base, wc, out);
    if !mpls_done {
        commit_mpls(flow, base, out);
    }
    commit_vlans(flow, base, wc, out);
    commit_u32(
        flow.skb_priority,
        &mut base.skb_priority,
        &mut wc.skb_priority,
        SetKey::Priority,
        out,
    );
    commit_u32(
        flow.pkt_mark,
        &mut base.pkt_mark,
        &mut wc.pkt_mark,
        SetKey::SkbMark,
        out,
    );
    if slow1 != 0 {
        slow1
    } else {
        slow2
    }
}

/// Emits a set for one key: `key`/`base`/`mask` are the same variant; only
/// masked differences count.  Returns true if something was emitted.
fn commit_key(
    key: &SetKey,
    base: &SetKey,
    mask: &SetKey,
    plain: bool,
    out: &mut Vec<OdpAction>,
) -> bool {
    let k = key_bits(key);
    let b = key_bits(base);
    // Fields that did not change are left out of the mask (upstream's
    // keycmp_mask); any changed field, even outside the mask, commits.
    let m: Vec<u128> = key_bits(mask)
        .iter()
        .zip(k.iter().zip(&b))
        .map(|(m, (k, b))| if k == b { 0 } else { *m })
        .collect();
    if k == b {
        return false;
    }
    let full = key.full_mask();
    let fully_masked = key_bits(&full).iter().zip(&m).all(|(f, m)| f & m == *f);
    if plain || fully_masked {
        out.push(OdpAction::Set(key.clone()));
    } else {
        let masked: Vec<u128> = k.iter().zip(&m).map(|(k, m)| k & m).collect();
        out.push(OdpAction::SetMasked {
            key: from_bits(key, &masked),
            mask: from_bits(mask, &m),
        });
    }
    true
}

/// The fields of a settable key as integers, in order.
fn key_bits(k: &SetKey) -> Vec<u128> {
    let b6 = |a: &[u8; 6]| {
        let mut x = [0u8; 16];
        x[10..].copy_from_slice(a);
        u128::from_be_bytes(x)
    };
    match k {
        SetKey::Priority(v) | SetKey::SkbMark(v) => vec![u128::from(*v)],
        SetKey::Ethernet { src, dst } => vec![b6(src), b6(dst)],
        SetKey::Ipv4 {
            src,
            dst,
            proto,
            tos,
            ttl,
            frag,
        } => vec![
            u128::from(*src),
            u128::from(*dst),
            u128::from(*proto),
            u128::from(*tos),
            u128::from(*ttl),
            u128::from(*frag),
        ],
        SetKey::Ipv6 {
            src,
            dst,
            label,
            proto,
            tclass,
            hlimit,
            frag,
        } => vec![
            u128::from_be_bytes(*src),
            u128::from_be_bytes(*dst),
            u128::from(*label),
            u128::from(*proto),
            u128::from(*tclass),
            u128::from(*hlimit),
            u128::from(*frag),
        ],
        SetKey::Tcp { src, dst } | SetKey::Udp { src, dst } | SetKey::Sctp { src, dst } => {
            vec![u128::from(*src), u128::from(*dst)]
        }
        SetKey::Icmp { ty, code } | SetKey::Icmpv6 { ty, code } => {
            vec![u128::from(*ty), u128::from(*code)]
        }
        SetKey::Arp {
            sip,
            tip,
            op,
            sha,
            tha,
        } => vec![
            u128::from(*sip),
            u128::from(*tip),
            u128::from(*op),
            b6(sha),
            b6(tha),
        ],
        SetKey::Nd { target, sll, tll } => vec![u128::from_be_bytes(*target), b6(sll), b6(tll)],
        SetKey::NdExt {
            reserved,
            options_type,
        } => vec![u128::from(*reserved), u128::from(*options_type)],
        SetKey::Mpls(v) => v.iter().map(|x| u128::from(*x)).collect(),
        SetKey::Nsh(_) | SetKey::Tunnel(_) => Vec::new(),
    }
}

fn from_bits(tmpl: &SetKey, v: &[u128]) -> SetKey {
    let g = |i: usize| v.get(i).copied().unwrap_or(0);
    let to6 = |x: u128| {
        let b = x.to_be_bytes();
        let mut r = [0u8; 6];
        r.copy_from_slice(&b[10..]);
        r
    };
    match tmpl {
        SetKey::Priority(_) => SetKey::Priority(g(0) as u32),
        SetKey::SkbMark(_) => SetKey::SkbMark(g(0) as u32),
        SetKey::Ethernet { .. } => SetKey::Ethernet {
            src: to6(g(0)),
            dst: to6(g(1)),
        },
        SetKey::Ipv4 { .. } => SetKey::Ipv4 {
            src: g(0) as u32,
            dst: g(1) as u32,
            proto: g(2) as u8,
            tos: g(3) as u8,
            ttl: g(4) as u8,
            frag: g(5) as u8,
        },
        SetKey::Ipv6 { .. } => SetKey::Ipv6 {
            src: g(0).to_be_bytes(),
            dst: g(1).to_be_bytes(),
            label: g(2) as u32,
            proto: g(3) as u8,
            tclass: g(4) as u8,
            hlimit: g(5) as u8,
            frag: g(6) as u8,
        },
        SetKey::Tcp { .. } => SetKey::Tcp {
            src: g(0) as u16,
            dst: g(1) as u16,
        },
        SetKey::Udp { .. } => SetKey::Udp {
            src: g(0) as u16,
            dst: g(1) as u16,
        },
        SetKey::Sctp { .. } => SetKey::Sctp {
            src: g(0) as u16,
            dst: g(1) as u16,
        },
        SetKey::Icmp { .. } => SetKey::Icmp {
            ty: g(0) as u8,
            code: g(1) as u8,
        },
        SetKey::Icmpv6 { .. } => SetKey::Icmpv6 {
            ty: g(0) as u8,
            code: g(1) as u8,
        },
        SetKey::Arp { .. } => SetKey::Arp {
            sip: g(0) as u32,
            tip: g(1) as u32,
            op: g(2) as u16,
            sha: to6(g(3)),
            tha: to6(g(4)),
        },
        SetKey::Nd { .. } => SetKey::Nd {
            target: g(0).to_be_bytes(),
            sll: to6(g(1)),
            tll: to6(g(2)),
        },
        SetKey::NdExt { .. } => SetKey::NdExt {
            reserved: g(0) as u32,
            options_type: g(1) as u8,
        },
        SetKey::Mpls(_) => SetKey::Mpls(v.iter().map(|x| *x as u32).collect()),
        other => other.clone(),
    }
}

/// Makes the datapath packet's type the flow's, as upstream's commit does:
/// an Ethernet frame that left for a layer-3 form (after output to a
/// layer-3 tunnel, which popped its header) gets an Ethernet header again,
/// with the flow's addresses, before anything else is committed; a frame
/// the flow wants without one loses its header.  Two different layer-3
/// forms have no datapath action between them and stay as they are.
fn commit_packet_type(flow: &Flow, base: &mut Flow, out: &mut Vec<OdpAction>) {
    if flow.packet_type == base.packet_type {
        return;
    }
    if flow.packet_type == PT_ETH {
        out.push(OdpAction::PushEth {
            src: flow.dl_src,
            dst: flow.dl_dst,
        });
        base.packet_type = PT_ETH;
        base.dl_src = flow.dl_src;
        base.dl_dst = flow.dl_dst;
    } else if base.packet_type == PT_ETH {
        out.push(OdpAction::PopEth);
        base.packet_type = flow.packet_type;
        if flow.packet_type >> 16 == 1 {
            base.dl_type = flow.packet_type as u16;
        }
    }
}

fn commit_ether(flow: &Flow, base: &mut Flow, wc: &mut Flow, out: &mut Vec<OdpAction>) {
    if flow.packet_type != 0 {
        return;
    }
    let key = SetKey::Ethernet {
        src: flow.dl_src,
        dst: flow.dl_dst,
    };
    let b = SetKey::Ethernet {
        src: base.dl_src,
        dst: base.dl_dst,
    };
    let m = SetKey::Ethernet {
        src: wc.dl_src,
        dst: wc.dl_dst,
    };
    if commit_key(&key, &b, &m, false, out) {
        base.dl_src = flow.dl_src;
        base.dl_dst = flow.dl_dst;
    }
}

fn tunnel_dst_set(f: &Flow) -> bool {
    f.tunnel.ip_dst != 0 || f.tunnel.ipv6_dst != [0; 16]
}

fn commit_nw(flow: &Flow, base: &mut Flow, wc: &mut Flow, out: &mut Vec<OdpAction>) -> u32 {
    // Without an L4 protocol the datapath cannot rewrite the L3 header.
    if flow.nw_proto == 0 {
        return 0;
    }
    match base.dl_type {
        ETH_TYPE_IP => {
            let key = SetKey::Ipv4 {
                src: flow.nw_src,
                dst: flow.nw_dst,
                proto: flow.nw_proto,
                tos: flow.nw_tos,
                ttl: flow.nw_ttl,
                frag: frag_type(flow.nw_frag),
            };
            let b = SetKey::Ipv4 {
                src: base.nw_src,
                dst: base.nw_dst,
                proto: base.nw_proto,
                tos: base.nw_tos,
                ttl: base.nw_ttl,
                frag: frag_type(base.nw_frag),
            };
            let mut tos_mask = wc.nw_tos;
            if tunnel_dst_set(base) && (base.nw_tos ^ flow.nw_tos) & IP_ECN_MASK == 0 {
                tos_mask &= !IP_ECN_MASK;
            }
            let m = SetKey::Ipv4 {
                src: wc.nw_src,
                dst: wc.nw_dst,
                proto: 0,
                tos: tos_mask,
                ttl: wc.nw_ttl,
                frag: 0,
            };
            if commit_key(&key, &b, &m, false, out) {
                wc.nw_proto = 0xff;
                base.nw_src = flow.nw_src;
                base.nw_dst = flow.nw_dst;
                base.nw_proto = flow.nw_proto;
                base.nw_tos = flow.nw_tos;
                base.nw_ttl = flow.nw_ttl;
                base.nw_frag = flow.nw_frag;
            }
            0
        }
        ETH_TYPE_IPV6 => {
            let key = SetKey::Ipv6 {
                src: flow.ipv6_src,
                dst: flow.ipv6_dst,
                label: flow.ipv6_label,
                proto: flow.nw_proto,
                tclass: flow.nw_tos,
                hlimit: flow.nw_ttl,
                frag: frag_type(flow.nw_frag),
            };
            let b = SetKey::Ipv6 {
                src: base.ipv6_src,
                dst: base.ipv6_dst,
                label: base.ipv6_label,
                proto: base.nw_proto,
                tclass: base.nw_tos,
                hlimit: base.nw_ttl,
                frag: frag_type(base.nw_frag),
            };
            let mut tc_mask = wc.nw_tos;
            if tunnel_dst_set(base) && (base.nw_tos ^ flow.nw_tos) & IP_ECN_MASK == 0 {
                tc_mask &= !IP_ECN_MASK;
            }
            let m = SetKey::Ipv6 {
                src: wc.ipv6_src,
                dst: wc.ipv6_dst,
                label: wc.ipv6_label & 0xfffff,
                proto: 0,
                tclass: tc_mask,
                hlimit: wc.nw_ttl,
                frag: 0,
            };
            if commit_key(&key, &b, &m, false, out) {
                // Upstream widens the mask to the whole key (protocol
                // included) only when it has to set the whole header; a
                // masked set leaves the protocol wildcarded.
                if matches!(out.last(), Some(OdpAction::Set(_))) {
                    wc.nw_proto = 0xff;
                }
                base.ipv6_src = flow.ipv6_src;
                base.ipv6_dst = flow.ipv6_dst;
                base.ipv6_label = flow.ipv6_label;
                base.nw_proto = flow.nw_proto;
                base.nw_tos = flow.nw_tos;
                base.nw_ttl = flow.nw_ttl;
                base.nw_frag = flow.nw_frag;
            }
            if base.nw_proto == 58 {
                let mut slow = 0;
                let is_nd = base.tp_dst == 0 && (base.tp_src == 135 || base.tp_src == 136);
                let key = SetKey::NdExt {
                    reserved: flow.nd_reserved,
                    options_type: flow.nd_options_type,
                };
                let b = SetKey::NdExt {
                    reserved: base.nd_reserved,
                    options_type: base.nd_options_type,
                };
                let m = SetKey::NdExt {
                    reserved: wc.nd_reserved,
                    options_type: wc.nd_options_type,
                };
                if is_nd && commit_key(&key, &b, &m, false, out) {
                    base.nd_reserved = flow.nd_reserved;
                    base.nd_options_type = flow.nd_options_type;
                    slow |= SLOW_ACTION;
                }
                let key = SetKey::Nd {
                    target: flow.nd_target,
                    sll: flow.arp_sha,
                    tll: flow.arp_tha,
                };
                let b = SetKey::Nd {
                    target: base.nd_target,
                    sll: base.arp_sha,
                    tll: base.arp_tha,
                };
                let m = SetKey::Nd {
                    target: wc.nd_target,
                    sll: wc.arp_sha,
                    tll: wc.arp_tha,
                };
                if is_nd && commit_key(&key, &b, &m, false, out) {
                    base.nd_target = flow.nd_target;
                    base.arp_sha = flow.arp_sha;
                    base.arp_tha = flow.arp_tha;
                    slow |= SLOW_ACTION;
                }
                return slow;
            }
            0
        }
        ETH_TYPE_ARP => {
            let key = SetKey::Arp {
                sip: flow.nw_src,
                tip: flow.nw_dst,
                op: u16::from(flow.nw_proto),
                sha: flow.arp_sha,
                tha: flow.arp_tha,
            };
            let b = SetKey::Arp {
                sip: base.nw_src,
                tip: base.nw_dst,
                op: u16::from(base.nw_proto),
                sha: base.arp_sha,
                tha: base.arp_tha,
            };
            let m = SetKey::Arp {
                sip: wc.nw_src,
                tip: wc.nw_dst,
                // A rewritten opcode shows as a whole 16-bit field.
                op: if wc.nw_proto == 0xff {
                    0xffff
                } else {
                    u16::from(wc.nw_proto)
                },
                sha: wc.arp_sha,
                tha: wc.arp_tha,
            };
            if commit_key(&key, &b, &m, false, out) {
                wc.nw_proto = 0xff;
                base.nw_src = flow.nw_src;
                base.nw_dst = flow.nw_dst;
                base.nw_proto = flow.nw_proto;
                base.arp_sha = flow.arp_sha;
                base.arp_tha = flow.arp_tha;
                return SLOW_ACTION;
            }
            0
        }
        _ => 0,
    }
}

fn commit_ports(flow: &Flow, base: &mut Flow, wc: &mut Flow, out: &mut Vec<OdpAction>) {
    if flow.nw_proto == 0 || !is_ip_any(base) {
        return;
    }
    let mk = |f: &Flow| (f.tp_src, f.tp_dst);
    let (ks, kd) = mk(flow);
    let (bs, bd) = mk(base);
    let (ms, md) = (wc.tp_src, wc.tp_dst);
    let build = |s: u16, d: u16| -> Option<SetKey> {
        match flow.nw_proto {
            6 => Some(SetKey::Tcp { src: s, dst: d }),
            17 => Some(SetKey::Udp { src: s, dst: d }),
            132 => Some(SetKey::Sctp { src: s, dst: d }),
            _ => None,
        }
    };
    if let (Some(k), Some(b), Some(m)) = (build(ks, kd), build(bs, bd), build(ms, md)) {
        if commit_key(&k, &b, &m, false, out) {
            base.tp_src = flow.tp_src;
            base.tp_dst = flow.tp_dst;
        }
    }
}

fn commit_icmp(flow: &Flow, base: &mut Flow, wc: &mut Flow, out: &mut Vec<OdpAction>) -> u32 {
    let v4 = flow.dl_type == ETH_TYPE_IP && flow.nw_proto == 1;
    let v6 = flow.dl_type == ETH_TYPE_IPV6 && flow.nw_proto == 58;
    if !v4 && !v6 {
        return 0;
    }
    let mk = |f: &Flow| {
        let (ty, code) = (f.tp_src as u8, f.tp_dst as u8);
        if v4 {
            SetKey::Icmp { ty, code }
        } else {
            SetKey::Icmpv6 { ty, code }
        }
    };
    if commit_key(&mk(flow), &mk(base), &mk(wc), true, out) {
        base.tp_src = flow.tp_src & 0xff;
        base.tp_dst = flow.tp_dst & 0xff;
        wc.tp_src |= 0xff;
        wc.tp_dst |= 0xff;
        return SLOW_ACTION;
    }
    0
}

fn commit_mpls(flow: &Flow, base: &mut Flow, out: &mut Vec<OdpAction>) {
    let mut base_n = count_mpls_labels(base, None);
    let flow_n = count_mpls_labels(flow, None);
    let mut common = count_common_mpls(flow, flow_n, base, base_n);
    while base_n > common {
        if base_n - 1 == common && flow_n > common {
            let lse = flow.mpls_lse[flow_n - base_n];
            out.push(OdpAction::Set(SetKey::Mpls(vec![lse])));
            base.mpls_lse[0] = lse;
            common += 1;
        } else {
            let dl_type = if !eth_type_mpls(flow.dl_type) && base_n > 1 {
                ETH_TYPE_MPLS
            } else {
                flow.dl_type
            };
            out.push(OdpAction::PopMpls { ethertype: dl_type });
            pop_mpls(base, base_n, flow.dl_type, None);
            base_n -= 1;
        }
    }
    while base_n < flow_n {
        let lse = flow.mpls_lse[flow_n - base_n - 1];
        out.push(OdpAction::PushMpls {
            lse,
            ethertype: flow.dl_type,
        });
        push_mpls(base, base_n, flow.dl_type, None, false);
        base.mpls_lse[0] = lse;
        base_n += 1;
    }
}

fn commit_vlans(flow: &Flow, base: &mut Flow, wc: &mut Flow, out: &mut Vec<OdpAction>) {
    let mut bn = count_vlans(base) as isize - 1;
    let mut fn_ = count_vlans(flow) as isize - 1;
    while bn >= 0 && fn_ >= 0 {
        let (b, f) = (base.vlans[bn as usize], flow.vlans[fn_ as usize]);
        if b != f {
            break;
        }
        bn -= 1;
        fn_ -= 1;
    }
    while bn >= 0 {
        out.push(OdpAction::PopVlan);
        let i = bn as usize;
        if i < FLOW_MAX_VLAN_HEADERS {
            wc.vlans[i].tpid = u16::MAX;
            wc.vlans[i].tci = u16::MAX;
        }
        bn -= 1;
    }
    while fn_ >= 0 {
        let v = flow.vlans[fn_ as usize];
        out.push(OdpAction::PushVlan {
            tpid: if v.tpid == 0 { ETH_TYPE_VLAN } else { v.tpid },
            tci: v.tci,
        });
        fn_ -= 1;
    }
    base.vlans = flow.vlans;
}

fn commit_u32(
    flow_v: u32,
    base_v: &mut u32,
    mask: &mut u32,
    make: fn(u32) -> SetKey,
    out: &mut Vec<OdpAction>,
) {
    if flow_v == *base_v {
        return;
    }
    if *mask == u32::MAX {
        out.push(OdpAction::Set(make(flow_v)));
    } else {
        out.push(OdpAction::SetMasked {
            key: make(flow_v & *mask),
            mask: make(*mask),
        });
    }
    *base_v = flow_v;
}

#[cfg(test)]
mod tests {
    use super::*;
    use flow::odp::actions::format_odp_actions;

    #[test]
    fn masked_ipv4_set_uses_megaflow_mask() {
        let mut flow = Flow::default();
        flow.dl_type = ETH_TYPE_IP;
        flow.nw_proto = 6;
        flow.nw_ttl = 64;
        let mut base = flow;
        let mut wc = Flow::default();
        flow.nw_src = 0x0102_0304;
        flow.nw_ttl = 63;
        wc.nw_src = u32::MAX;
        wc.nw_ttl = 0xff;
        flow.tp_dst = 80;
        wc.tp_dst = 0xffff;
        let mut out = Vec::new();
        commit_odp_actions(&flow, &mut base, &mut wc, &mut out);
        assert_eq!(
            format_odp_actions(&out),
            "set(ipv4(src=1.2.3.4,ttl=63)),set(tcp(dst=80))"
        );
        let mut again = Vec::new();
        commit_odp_actions(&flow, &mut base, &mut wc, &mut again);
        assert!(again.is_empty());
    }

    #[test]
    fn packet_type_changes_push_and_pop_ethernet() {
        let mut flow = Flow::default();
        flow.dl_src = [0, 1, 2, 3, 4, 5];
        flow.dl_dst = [6, 7, 8, 9, 10, 11];
        flow.dl_type = ETH_TYPE_IP;
        let mut base = flow;
        base.packet_type = (1 << 16) | u32::from(ETH_TYPE_IP);
        let mut wc = Flow::default();
        let mut out = Vec::new();
        commit_odp_actions(&flow, &mut base, &mut wc, &mut out);
        assert_eq!(
            out,
            vec![OdpAction::PushEth {
                src: flow.dl_src,
                dst: flow.dl_dst
            }]
        );
        assert_eq!(base.packet_type, 0);
        let mut l3 = flow;
        l3.packet_type = (1 << 16) | u32::from(ETH_TYPE_IP);
        out.clear();
        commit_odp_actions(&l3, &mut base, &mut wc, &mut out);
        assert_eq!(out, vec![OdpAction::PopEth]);
        out.clear();
        commit_odp_actions(&l3, &mut base, &mut wc, &mut out);
        assert!(out.is_empty(), "nothing left to commit: {out:?}");
    }

    #[test]
    fn vlan_push_and_pop() {
        let mut flow = Flow::default();
        let mut base = flow;
        let mut wc = Flow::default();
        flow.vlans[0].tpid = 0x8100;
        flow.vlans[0].tci = 10 | VLAN_CFI;
        let mut out = Vec::new();
        commit_odp_actions(&flow, &mut base, &mut wc, &mut out);
        assert_eq!(format_odp_actions(&out), "push_vlan(vid=10,pcp=0)");
        flow.vlans[0] = Default::default();
        out.clear();
        commit_odp_actions(&flow, &mut base, &mut wc, &mut out);
        assert_eq!(format_odp_actions(&out), "pop_vlan");
    }

    #[test]
    fn mpls_push_after_l3() {
        let mut flow = Flow::default();
        flow.dl_type = ETH_TYPE_IP;
        flow.nw_ttl = 64;
        let mut base = flow;
        let mut wc = Flow::default();
        push_mpls(&mut flow, 0, ETH_TYPE_MPLS, Some(&mut wc), true);
        flow.mpls_lse[0] = (flow.mpls_lse[0] & 0xfff) | (5 << 12);
        let mut out = Vec::new();
        commit_odp_actions(&flow, &mut base, &mut wc, &mut out);
        assert_eq!(
            format_odp_actions(&out),
            "push_mpls(label=5,tc=0,ttl=64,bos=1,eth_type=0x8847)"
        );
    }
}
