//! The text of matches and flows as ovs-ofctl prints them:
//! [`format_match`] (`match_format`: field order, shorthands such as `tcp6`,
//! `dl_vlan` versus `vlan_tci`, CIDR versus masks, flag sets) and
//! [`format_flow`] (`flow_format`: a packet's key in packet-ins and traces),
//! with [`packet_wildcards`], the fields a packet actually has.

use crate::field::access::{VLAN_CFI, VLAN_PCP_MASK, VLAN_VID_MASK};
use crate::field::Prereq;
use crate::matches::*;
use crate::port::{format_port, PortMap};
use crate::value_str::{
    ct_state_name, format_eth_masked, format_flags, format_flags_masked, format_ipv4_masked,
    format_ipv6_masked, format_packet_type_masked, put_hex, tcp_flag_name, tun_flag_name,
    TUN_FLAGS_ALL,
};
use packet::flow::{FLOW_NW_FRAG_ANY, FLOW_NW_FRAG_LATER, FLOW_NW_FRAG_MASK};
use packet::Flow;

/// The wildcard mask that covers every field a packet with key `flow`
/// actually has (flow_wildcards_init_for_packet): metadata always, the
/// layers its Ethertype and IP protocol imply, nothing beyond.  Registers,
/// `metadata`, `conj_id` and `actset_output` stay wildcarded.
pub fn packet_wildcards(flow: &Flow) -> Flow {
    let mut w = Flow::default();
    let t = &flow.tunnel;
    if t.ip_dst != 0 || t.ipv6_dst != [0; 16] {
        if t.flags & 0x8 != 0 {
            w.tunnel.tun_id = u64::MAX;
        }
        w.tunnel.ip_src = u32::MAX;
        w.tunnel.ip_dst = u32::MAX;
        w.tunnel.ipv6_src = [0xff; 16];
        w.tunnel.ipv6_dst = [0xff; 16];
        w.tunnel.flags = u16::MAX;
        w.tunnel.ip_tos = u8::MAX;
        w.tunnel.ip_ttl = u8::MAX;
        w.tunnel.tp_src = u16::MAX;
        w.tunnel.tp_dst = u16::MAX;
        w.tunnel.gbp_id = u16::MAX;
        w.tunnel.gbp_flags = u8::MAX;
        w.tunnel.erspan_ver = u8::MAX;
        w.tunnel.erspan_idx = u32::MAX;
        w.tunnel.erspan_dir = u8::MAX;
        w.tunnel.erspan_hwid = u8::MAX;
        w.tunnel.gtpu_flags = u8::MAX;
        w.tunnel.gtpu_msgtype = u8::MAX;
        if t.metadata.present != 0 {
            w.tunnel.metadata.present = t.metadata.present;
            w.tunnel.metadata.opts = [0xff; packet::flow::TUN_METADATA_TOT_OPT_SIZE];
        }
        w.tunnel.metadata.ofs = t.metadata.ofs;
        w.tunnel.metadata.len = t.metadata.len;
    } else if t.tun_id != 0 {
        w.tunnel.tun_id = u64::MAX;
    }
    w.skb_priority = u32::MAX;
    w.pkt_mark = u32::MAX;
    w.ct_state = u8::MAX;
    w.ct_zone = u16::MAX;
    w.ct_mark = u32::MAX;
    w.ct_label = u128::MAX;
    w.recirc_id = u32::MAX;
    w.dp_hash = u32::MAX;
    w.in_port = u32::MAX;
    w.packet_type = u32::MAX;
    let dl_type = if flow.packet_type == PT_ETH {
        w.dl_dst = [0xff; 6];
        w.dl_src = [0xff; 6];
        w.dl_type = u16::MAX;
        // The first tag always shows (all-zero when there is none), each
        // further one when the previous tag has any TCI bit (also without
        // CFI: `vlan_tci=5` shows `vlan_tci1=0x0000` upstream).
        for i in 0..packet::flow::FLOW_MAX_VLAN_HEADERS {
            w.vlans[i].tpid = u16::MAX;
            w.vlans[i].tci = u16::MAX;
            if flow.vlans[i].tci == 0 {
                break;
            }
        }
        flow.dl_type
    } else {
        flow.packet_type as u16
    };
    match dl_type {
        ETH_TYPE_IP => {
            w.nw_src = u32::MAX;
            w.nw_dst = u32::MAX;
            w.ct_nw_src = u32::MAX;
            w.ct_nw_dst = u32::MAX;
        }
        ETH_TYPE_IPV6 => {
            w.ipv6_src = [0xff; 16];
            w.ipv6_dst = [0xff; 16];
            w.ipv6_label = u32::MAX;
            if Prereq::Nd.is_ok(flow, None) {
                w.arp_sha = [0xff; 6];
                w.arp_tha = [0xff; 6];
                w.nd_target = [0xff; 16];
            } else {
                w.ct_ipv6_src = [0xff; 16];
                w.ct_ipv6_dst = [0xff; 16];
            }
        }
        ETH_TYPE_ARP | ETH_TYPE_RARP => {
            w.nw_src = u32::MAX;
            w.nw_dst = u32::MAX;
            w.nw_proto = u8::MAX;
            w.arp_sha = [0xff; 6];
            w.arp_tha = [0xff; 6];
            return w;
        }
        ETH_TYPE_MPLS | ETH_TYPE_MPLS_MCAST => {
            for i in 0..packet::flow::FLOW_MAX_MPLS_LABELS {
                w.mpls_lse[i] = u32::MAX;
                if flow.mpls_lse[i] & 0x100 != 0 {
                    break;
                }
            }
            return w;
        }
        ETH_TYPE_NSH => {
            w.nsh.flags = u8::MAX;
            w.nsh.ttl = u8::MAX;
            w.nsh.mdtype = u8::MAX;
            w.nsh.np = u8::MAX;
            w.nsh.path_hdr = u32::MAX;
            w.nsh.context = [u32::MAX; 4];
            return w;
        }
        _ => return w,
    }
    w.nw_frag = FLOW_NW_FRAG_MASK;
    w.nw_tos = u8::MAX;
    w.nw_ttl = u8::MAX;
    w.nw_proto = u8::MAX;
    w.ct_nw_proto = u8::MAX;
    w.ct_tp_src = u16::MAX;
    w.ct_tp_dst = u16::MAX;
    if flow.nw_frag & FLOW_NW_FRAG_LATER == 0
        && matches!(
            flow.nw_proto,
            IPPROTO_ICMP | IPPROTO_ICMPV6 | IPPROTO_TCP | IPPROTO_UDP | IPPROTO_SCTP | 2
        )
    {
        w.tp_src = u16::MAX;
        w.tp_dst = u16::MAX;
        if flow.nw_proto == IPPROTO_TCP {
            w.tcp_flags = u16::MAX;
        }
    }
    w
}

/// A packet's flow key as ovs-ofctl prints it in packet-ins and traces
/// (flow_format): every field the packet has, except metadata and
/// connection-tracking fields that are zero.
pub fn format_flow(flow: &Flow, ports: Option<&PortMap>) -> String {
    let mut w = packet_wildcards(flow);
    w.regs = [u32::MAX; 16];
    w.metadata = u64::MAX;
    if flow.in_port == 0 {
        w.in_port = 0;
    }
    if flow.skb_priority == 0 {
        w.skb_priority = 0;
    }
    if flow.pkt_mark == 0 {
        w.pkt_mark = 0;
    }
    if flow.recirc_id == 0 {
        w.recirc_id = 0;
    }
    if flow.dp_hash == 0 {
        w.dp_hash = 0;
    }
    if flow.ct_state == 0 {
        w.ct_state = 0;
    }
    if flow.ct_zone == 0 {
        w.ct_zone = 0;
    }
    if flow.ct_mark == 0 {
        w.ct_mark = 0;
    }
    if flow.ct_label == 0 {
        w.ct_label = 0;
    }
    if !Prereq::CtValid.is_ok(flow, Some(&w)) || flow.ct_nw_proto == 0 {
        w.ct_nw_proto = 0;
        w.ct_tp_src = 0;
        w.ct_tp_dst = 0;
        if flow.dl_type == ETH_TYPE_IP {
            w.ct_nw_src = 0;
            w.ct_nw_dst = 0;
        } else if flow.dl_type == ETH_TYPE_IPV6 {
            w.ct_ipv6_src = [0; 16];
            w.ct_ipv6_dst = [0; 16];
        }
    }
    for i in 0..16 {
        if flow.regs[i] == 0 {
            w.regs[i] = 0;
        }
    }
    if flow.metadata == 0 {
        w.metadata = 0;
    }
    let m = Match {
        flow: flow.and(&w),
        wc: w,
    };
    m.format_with_ports(OFP_DEFAULT_PRIORITY, ports)
}

/// C's `%#x`: `0` for zero, else `0x...`.
fn alt_hex(v: u64) -> String {
    if v == 0 {
        "0".to_string()
    } else {
        format!("{v:#x}")
    }
}

struct Out(String);

impl Out {
    fn put(&mut self, s: &str) {
        self.0.push_str(s);
    }
    fn kv(&mut self, name: &str, v: &str) {
        self.0.push_str(name);
        self.0.push('=');
        self.0.push_str(v);
        self.0.push(',');
    }
    fn u32_masked(&mut self, name: &str, v: u32, m: u32) {
        if m != 0 {
            let mut s = alt_hex(v as u64);
            if m != u32::MAX {
                s.push('/');
                s.push_str(&alt_hex(m as u64));
            }
            self.kv(name, &s);
        }
    }
    fn u64_masked(&mut self, name: &str, v: u64, m: u64) {
        if m != 0 {
            let mut s = alt_hex(v);
            if m != u64::MAX {
                s.push('/');
                s.push_str(&alt_hex(m));
            }
            self.kv(name, &s);
        }
    }
    fn u16_masked(&mut self, name: &str, v: u16, m: u16) {
        if m != 0 {
            if m == u16::MAX {
                self.kv(name, &v.to_string());
            } else {
                self.kv(name, &format!("0x{v:x}/0x{m:x}"));
            }
        }
    }
    fn u8_masked(&mut self, name: &str, v: u8, m: u8) {
        if m != 0 {
            if m == u8::MAX {
                self.kv(name, &v.to_string());
            } else {
                self.kv(name, &format!("0x{v:02x}/0x{m:02x}"));
            }
        }
    }
    fn u32_masked_hex(&mut self, name: &str, v: u32, m: u32) {
        if m != 0 {
            if m == u32::MAX {
                self.kv(name, &format!("0x{v:x}"));
            } else {
                self.kv(name, &format!("0x{v:x}/0x{m:x}"));
            }
        }
    }
    fn ip(&mut self, name: &str, v: u32, m: u32) {
        if m != 0 {
            self.kv(name, &format_ipv4_masked(v, m));
        }
    }
    fn ipv6(&mut self, name: &str, v: &[u8; 16], m: &[u8; 16]) {
        if m.iter().any(|b| *b != 0) {
            self.kv(name, &format_ipv6_masked(v, m));
        }
    }
    fn eth(&mut self, name: &str, v: &[u8; 6], m: &[u8; 6]) {
        if m.iter().any(|b| *b != 0) {
            self.kv(name, &format_eth_masked(v, m));
        }
    }
}

fn format_tunnel(o: &mut Out, f: &Flow, w: &Flow) {
    let (t, m) = (&f.tunnel, &w.tunnel);
    o.u64_masked("tun_id", t.tun_id, m.tun_id);
    o.ip("tun_src", t.ip_src, m.ip_src);
    o.ip("tun_dst", t.ip_dst, m.ip_dst);
    o.ipv6("tun_ipv6_src", &t.ipv6_src, &m.ipv6_src);
    o.ipv6("tun_ipv6_dst", &t.ipv6_dst, &m.ipv6_dst);
    o.u16_masked("tun_gbp_id", t.gbp_id, m.gbp_id);
    if m.gbp_flags != 0 {
        o.kv("tun_gbp_flags", &alt_hex(t.gbp_flags as u64));
    }
    if m.ip_tos != 0 {
        o.kv("tun_tos", &format!("{:x}", t.ip_tos));
    }
    if m.ip_ttl != 0 {
        o.kv("tun_ttl", &t.ip_ttl.to_string());
    }
    if m.erspan_ver != 0 {
        o.kv("tun_erspan_ver", &t.erspan_ver.to_string());
    }
    if m.erspan_idx != 0 && t.erspan_ver == 1 {
        o.kv("tun_erspan_idx", &alt_hex(t.erspan_idx as u64));
    }
    if m.erspan_dir != 0 && t.erspan_ver == 2 {
        o.kv("tun_erspan_dir", &t.erspan_dir.to_string());
    }
    if m.erspan_hwid != 0 && t.erspan_ver == 2 {
        o.kv("tun_erspan_hwid", &alt_hex(t.erspan_hwid as u64));
    }
    if m.gtpu_flags != 0 {
        o.kv("gtpu_flags", &alt_hex(t.gtpu_flags as u64));
    }
    if m.gtpu_msgtype != 0 {
        o.kv("gtpu_msgtype", &t.gtpu_msgtype.to_string());
    }
    if m.flags as u32 & TUN_FLAGS_ALL != 0 {
        let s = format_flags_masked(
            tun_flag_name,
            t.flags as u32 & TUN_FLAGS_ALL,
            m.flags as u32 & TUN_FLAGS_ALL,
            TUN_FLAGS_ALL,
        );
        o.kv("tun_flags", &s);
    }
    for i in 0..64 {
        if m.metadata.present & (1 << i) == 0 {
            continue;
        }
        o.put(&format!("tun_metadata{i}"));
        if t.metadata.present & (1 << i) == 0 {
            // Matched as absent ("not present").
            o.put("=NP,");
            continue;
        }
        let v = t.metadata.slot(i).unwrap_or(&[]);
        let mk = m.metadata.slot(i).unwrap_or(&[]);
        if mk.iter().any(|b| *b != 0) {
            o.put("=");
            o.put(&put_hex(v));
            if !mk.iter().all(|b| *b == 0xff) {
                o.put("/");
                o.put(&put_hex(mk));
            }
        }
        o.put(",");
    }
}

/// `match_format`: `m` as ovs-ofctl prints it, `priority=N,` first unless
/// `priority` is 32768.
pub fn format_match(m: &Match, priority: i32, ports: Option<&PortMap>) -> String {
    let (f, w) = (&m.flow, &m.wc);
    let mut o = Out(String::new());
    if priority != OFP_DEFAULT_PRIORITY {
        o.kv("priority", &priority.to_string());
    }
    o.u32_masked("pkt_mark", f.pkt_mark, w.pkt_mark);
    let mut is_megaflow = false;
    if w.recirc_id != 0 {
        o.u32_masked("recirc_id", f.recirc_id, w.recirc_id);
        is_megaflow = true;
    }
    o.u32_masked("dp_hash", f.dp_hash, w.dp_hash);
    if w.conj_id != 0 {
        o.kv("conj_id", &f.conj_id.to_string());
    }
    if w.skb_priority != 0 {
        o.kv("skb_priority", &alt_hex(f.skb_priority as u64));
    }
    if w.actset_output != 0 {
        o.kv("actset_output", &format_port(f.actset_output, ports));
    }
    if w.ct_state != 0 {
        let s = if w.ct_state == u8::MAX {
            format_flags(ct_state_name, f.ct_state as u32, '|')
        } else {
            format_flags_masked(ct_state_name, f.ct_state as u32, w.ct_state as u32, 0xff)
        };
        o.kv("ct_state", &s);
    }
    o.u16_masked("ct_zone", f.ct_zone, w.ct_zone);
    o.u32_masked("ct_mark", f.ct_mark, w.ct_mark);
    if w.ct_label != 0 {
        let mut s = put_hex(&f.ct_label.to_be_bytes());
        if w.ct_label != u128::MAX {
            s.push('/');
            s.push_str(&put_hex(&w.ct_label.to_be_bytes()));
        }
        o.kv("ct_label", &s);
    }
    o.ip("ct_nw_src", f.ct_nw_src, w.ct_nw_src);
    o.ipv6("ct_ipv6_src", &f.ct_ipv6_src, &w.ct_ipv6_src);
    o.ip("ct_nw_dst", f.ct_nw_dst, w.ct_nw_dst);
    o.ipv6("ct_ipv6_dst", &f.ct_ipv6_dst, &w.ct_ipv6_dst);
    if w.ct_nw_proto != 0 {
        o.kv("ct_nw_proto", &f.ct_nw_proto.to_string());
        o.u16_masked("ct_tp_src", f.ct_tp_src, w.ct_tp_src);
        o.u16_masked("ct_tp_dst", f.ct_tp_dst, w.ct_tp_dst);
    }
    let mut dl_type = f.dl_type;
    if w.packet_type != 0 && (!m.has_default_packet_type() || is_megaflow) {
        let s = format_packet_type_masked(f.packet_type, w.packet_type);
        o.put(&s);
        o.put(",");
        if f.packet_type >> 16 == OFPHTN_ETHERTYPE {
            dl_type = f.packet_type as u16;
        }
    }
    let mut skip_type = false;
    let mut skip_proto = false;
    if w.dl_type != 0 {
        skip_type = true;
        let proto_name = |v4: bool| -> Option<&'static str> {
            Some(match (v4, f.nw_proto) {
                (true, IPPROTO_ICMP) => "icmp",
                (true, IPPROTO_TCP) => "tcp",
                (true, IPPROTO_UDP) => "udp",
                (true, IPPROTO_SCTP) => "sctp",
                (false, IPPROTO_ICMPV6) => "icmp6",
                (false, IPPROTO_TCP) => "tcp6",
                (false, IPPROTO_UDP) => "udp6",
                (false, IPPROTO_SCTP) => "sctp6",
                _ => return None,
            })
        };
        match dl_type {
            ETH_TYPE_IP | ETH_TYPE_IPV6 => {
                let v4 = dl_type == ETH_TYPE_IP;
                let base = if v4 { "ip" } else { "ipv6" };
                if w.nw_proto != 0 {
                    match proto_name(v4) {
                        Some(n) => {
                            skip_proto = true;
                            o.put(n);
                        }
                        None => o.put(base),
                    }
                } else {
                    o.put(base);
                }
                o.put(",");
            }
            ETH_TYPE_ARP => o.put("arp,"),
            ETH_TYPE_RARP => o.put("rarp,"),
            ETH_TYPE_MPLS => o.put("mpls,"),
            ETH_TYPE_MPLS_MCAST => o.put("mplsm,"),
            _ => skip_type = false,
        }
    }
    for i in 0..16 {
        o.u32_masked(&format!("reg{i}"), f.regs[i], w.regs[i]);
    }
    format_tunnel(&mut o, f, w);
    o.u64_masked("metadata", f.metadata, w.metadata);
    if w.in_port != 0 {
        o.kv("in_port", &format_port(f.in_port, ports));
    }
    for i in 0..2 {
        let mt = w.vlans[i].tci;
        if mt == 0 {
            break;
        }
        let sfx = if i == 0 { String::new() } else { i.to_string() };
        let tci = f.vlans[i].tci;
        let vid_mask = mt & VLAN_VID_MASK;
        let pcp_mask = mt & VLAN_PCP_MASK;
        let cfi = mt & VLAN_CFI;
        if cfi != 0
            && tci & VLAN_CFI != 0
            && (vid_mask == 0 || vid_mask == VLAN_VID_MASK)
            && (pcp_mask == 0 || pcp_mask == VLAN_PCP_MASK)
            && (vid_mask != 0 || pcp_mask != 0)
        {
            if vid_mask != 0 {
                o.kv(&format!("dl_vlan{sfx}"), &(tci & VLAN_VID_MASK).to_string());
            }
            if pcp_mask != 0 {
                o.kv(&format!("dl_vlan_pcp{sfx}"), &(tci >> 13).to_string());
            }
        } else if mt == 0xffff {
            o.kv(&format!("vlan_tci{sfx}"), &format!("0x{tci:04x}"));
        } else {
            o.kv(
                &format!("vlan_tci{sfx}"),
                &format!("0x{tci:04x}/0x{mt:04x}"),
            );
        }
    }
    o.eth("dl_src", &f.dl_src, &w.dl_src);
    o.eth("dl_dst", &f.dl_dst, &w.dl_dst);
    if !skip_type && w.dl_type != 0 {
        o.kv("dl_type", &format!("0x{dl_type:04x}"));
    }
    let arp = dl_type == ETH_TYPE_ARP || dl_type == ETH_TYPE_RARP;
    if dl_type == ETH_TYPE_IPV6 {
        o.ipv6("ipv6_src", &f.ipv6_src, &w.ipv6_src);
        o.ipv6("ipv6_dst", &f.ipv6_dst, &w.ipv6_dst);
        if w.ipv6_label != 0 {
            if w.ipv6_label == u32::MAX {
                o.kv("ipv6_label", &format!("0x{:05x}", f.ipv6_label));
            } else {
                o.kv(
                    "ipv6_label",
                    &format!("0x{:05x}/0x{:05x}", f.ipv6_label, w.ipv6_label),
                );
            }
        }
    } else if arp {
        o.ip("arp_spa", f.nw_src, w.nw_src);
        o.ip("arp_tpa", f.nw_dst, w.nw_dst);
    } else if dl_type == ETH_TYPE_NSH {
        let mut spi_mask = w.nsh.path_hdr >> 8;
        if spi_mask == 0x00ff_ffff {
            spi_mask = u32::MAX;
        }
        o.u8_masked("nsh_flags", f.nsh.flags, w.nsh.flags);
        o.u8_masked("nsh_ttl", f.nsh.ttl, w.nsh.ttl);
        o.u8_masked("nsh_mdtype", f.nsh.mdtype, w.nsh.mdtype);
        o.u8_masked("nsh_np", f.nsh.np, w.nsh.np);
        o.u32_masked_hex("nsh_spi", f.nsh.path_hdr >> 8, spi_mask);
        o.u8_masked("nsh_si", f.nsh.path_hdr as u8, w.nsh.path_hdr as u8);
        if w.nsh.mdtype == u8::MAX && f.nsh.mdtype == 1 {
            for k in 0..4 {
                o.u32_masked_hex(
                    &format!("nsh_c{}", k + 1),
                    f.nsh.context[k],
                    w.nsh.context[k],
                );
            }
        }
    } else {
        o.ip("nw_src", f.nw_src, w.nw_src);
        o.ip("nw_dst", f.nw_dst, w.nw_dst);
    }
    if !skip_proto && w.nw_proto != 0 {
        o.kv(
            if arp { "arp_op" } else { "nw_proto" },
            &f.nw_proto.to_string(),
        );
    }
    if arp {
        o.eth("arp_sha", &f.arp_sha, &w.arp_sha);
        o.eth("arp_tha", &f.arp_tha, &w.arp_tha);
    }
    if w.nw_tos & 0xfc != 0 {
        o.kv("nw_tos", &(f.nw_tos & 0xfc).to_string());
    }
    if w.nw_tos & 0x03 != 0 {
        o.kv("nw_ecn", &(f.nw_tos & 0x03).to_string());
    }
    if w.nw_ttl != 0 {
        o.kv("nw_ttl", &f.nw_ttl.to_string());
    }
    let (lse, lm) = (f.mpls_lse[0], w.mpls_lse[0]);
    if lm & 0xffff_f000 != 0 {
        o.kv("mpls_label", &(lse >> 12).to_string());
    }
    if lm & 0x0e00 != 0 {
        o.kv("mpls_tc", &((lse >> 9) & 7).to_string());
    }
    if lm & 0x00ff != 0 {
        o.kv("mpls_ttl", &(lse & 0xff).to_string());
    }
    if lm & 0x0100 != 0 {
        o.kv("mpls_bos", &((lse >> 8) & 1).to_string());
    }
    for (k, name) in [(1, "mpls_lse1"), (2, "mpls_lse2")] {
        let (v, mk) = (f.mpls_lse[k], w.mpls_lse[k]);
        if mk != 0 {
            if mk == u32::MAX {
                o.kv(name, &v.to_string());
            } else {
                o.kv(name, &format!("0x{v:08x}/0x{mk:08x}"));
            }
        }
    }
    let frag = f.nw_frag;
    match w.nw_frag {
        x if x == FLOW_NW_FRAG_ANY | FLOW_NW_FRAG_LATER => {
            let s = if frag & FLOW_NW_FRAG_ANY != 0 {
                if frag & FLOW_NW_FRAG_LATER != 0 {
                    "later"
                } else {
                    "first"
                }
            } else if frag & FLOW_NW_FRAG_LATER != 0 {
                "<error>"
            } else {
                "no"
            };
            o.kv("nw_frag", s);
        }
        FLOW_NW_FRAG_ANY => o.kv(
            "nw_frag",
            if frag & FLOW_NW_FRAG_ANY != 0 {
                "yes"
            } else {
                "no"
            },
        ),
        FLOW_NW_FRAG_LATER => o.kv(
            "nw_frag",
            if frag & FLOW_NW_FRAG_LATER != 0 {
                "later"
            } else {
                "not_later"
            },
        ),
        _ => {}
    }
    if dl_type == ETH_TYPE_IP && f.nw_proto == IPPROTO_ICMP {
        o.u16_masked("icmp_type", f.tp_src, w.tp_src);
        o.u16_masked("icmp_code", f.tp_dst, w.tp_dst);
    } else if dl_type == ETH_TYPE_IPV6 && f.nw_proto == IPPROTO_ICMPV6 {
        o.u16_masked("icmp_type", f.tp_src, w.tp_src);
        o.u16_masked("icmp_code", f.tp_dst, w.tp_dst);
        o.ipv6("nd_target", &f.nd_target, &w.nd_target);
        o.eth("nd_sll", &f.arp_sha, &w.arp_sha);
        o.eth("nd_tll", &f.arp_tha, &w.arp_tha);
        if w.nd_reserved != 0 {
            o.kv("nd_reserved", &f.nd_reserved.to_string());
        }
        if w.nd_options_type != 0 {
            o.kv("nd_options_type", &f.nd_options_type.to_string());
        }
    } else {
        o.u16_masked("tp_src", f.tp_src, w.tp_src);
        o.u16_masked("tp_dst", f.tp_dst, w.tp_dst);
    }
    // The Ethertype as printed (a layer-3 packet type's own), as for the
    // other layer-4 fields.
    let ip_any = dl_type == ETH_TYPE_IP || dl_type == ETH_TYPE_IPV6;
    if ip_any && f.nw_proto == IPPROTO_TCP && w.tcp_flags != 0 {
        let s = format_flags_masked(
            tcp_flag_name,
            f.tcp_flags as u32,
            w.tcp_flags as u32 & 0x0fff,
            0x0fff,
        );
        o.kv("tcp_flags", &s);
    }
    let mut s = o.0;
    if s.ends_with(',') {
        s.pop();
    }
    s
}
