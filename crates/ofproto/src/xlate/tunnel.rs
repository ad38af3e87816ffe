//! Native tunnelling in translation (upstream's native tunnel output and
//! termination in ofproto-dpif-xlate):
//!
//! - Egress ([`native_tunnel_output`]): output to a tunnel port sets the
//!   outgoing tunnel metadata from the port's options (or the flow for
//!   `flow` options), routes the remote address ([`crate::tnl::route`]) to
//!   a bridge, finds the next hop's MAC in the neighbour cache (on a miss
//!   an ARP request or neighbour solicitation goes out of that bridge
//!   instead, and the packet is dropped), and emits `tnl_push(...)`
//!   followed by what the underlay bridge's pipeline does with the
//!   encapsulated packet arriving on its LOCAL port.
//! - Ingress ([`terminate`]): output to a LOCAL port of a packet addressed
//!   to one of the switch's IP devices on a tunnel's port becomes
//!   `tnl_pop(vport)`; ARP replies and neighbour advertisements for the
//!   bridge's own addresses that reach it fill the neighbour cache.

use std::net::{IpAddr, Ipv6Addr};

use flow::odp::actions::{OdpAction, TnlPush};
use packet::flow::FlowTnl;
use packet::tunnel::{
    build_header, EncapParams, TunnelKind, FLOW_TNL_F_CSUM, FLOW_TNL_F_DONT_FRAGMENT,
    FLOW_TNL_F_KEY,
};
use packet::Flow;

use super::commit::{is_ip_any, ETH_TYPE_ARP, ETH_TYPE_IP, ETH_TYPE_IPV6};
use super::engine::{self, Ctx, OFPP_LOCAL, OFPP_UNSET};
use super::report::NodeKind;
use super::SideEffect;
use crate::tnl::ports::{tnl_dst, TnlAddr, TnlKey, TnlPort};
use crate::tnl::route::{format_ip, to_v6};

/// The rate of native tunnelling's error messages (upstream's: 60 a
/// minute, bursts of 60).
static NATIVE_TNL_RL: vlog::RateLimit = vlog::RateLimit::new(60, 60);

const IP_DSCP_MASK: u8 = 0xfc;
const IP_ECN_MASK: u8 = 0x03;

/// The datapath header type of a tunnel type (`type=` in `tnl_push`);
/// `None` for the types whose header the userspace datapath cannot build
/// (`stt`, `lisp`, `bareudp`).
fn header_type(type_: &str, ipv6: bool) -> Option<(TunnelKind, u32)> {
    use flow::odp::actions::tnl_push::*;
    Some(match type_ {
        "vxlan" => (TunnelKind::Vxlan, VPORT_TYPE_VXLAN),
        "geneve" => (TunnelKind::Geneve, VPORT_TYPE_GENEVE),
        "gre" if ipv6 => (TunnelKind::Gre, VPORT_TYPE_IP6GRE),
        "gre" => (TunnelKind::Gre, VPORT_TYPE_GRE),
        "ip6gre" => (TunnelKind::Gre, VPORT_TYPE_IP6GRE),
        "erspan" => (TunnelKind::Erspan, VPORT_TYPE_ERSPAN),
        "ip6erspan" => (TunnelKind::Erspan, VPORT_TYPE_IP6ERSPAN),
        "gtpu" => (TunnelKind::Gtpu, VPORT_TYPE_GTPU),
        _ => return None,
    })
}

fn set_tnl_addr(t: &mut FlowTnl, ip: IpAddr, dst: bool) {
    match (ip, dst) {
        (IpAddr::V4(a), true) => t.ip_dst = u32::from(a),
        (IpAddr::V4(a), false) => t.ip_src = u32::from(a),
        (IpAddr::V6(a), true) => t.ipv6_dst = a.octets(),
        (IpAddr::V6(a), false) => t.ipv6_src = a.octets(),
    }
}

/// The outgoing tunnel metadata of `cfg` for the packet in `ctx`
/// (upstream's tnl_port_send), unwildcarding what it reads.
fn outgoing_tunnel(ctx: &mut Ctx, cfg: &TnlPort) -> FlowTnl {
    let flow = ctx.flow;
    let mut t = FlowTnl {
        metadata: flow.tunnel.metadata,
        ..Default::default()
    };
    match cfg.remote {
        TnlAddr::Ip(a) => set_tnl_addr(&mut t, a, true),
        _ => {
            t.ip_dst = flow.tunnel.ip_dst;
            t.ipv6_dst = flow.tunnel.ipv6_dst;
            ctx.wc.tunnel.ip_dst = u32::MAX;
            ctx.wc.tunnel.ipv6_dst = [0xff; 16];
        }
    }
    match cfg.local {
        TnlAddr::Ip(a) => set_tnl_addr(&mut t, a, false),
        TnlAddr::Flow => {
            t.ip_src = flow.tunnel.ip_src;
            t.ipv6_src = flow.tunnel.ipv6_src;
            ctx.wc.tunnel.ip_src = u32::MAX;
            ctx.wc.tunnel.ipv6_src = [0xff; 16];
        }
        TnlAddr::Absent => {}
    }
    match cfg.out_key {
        TnlKey::Fixed(k) => {
            t.tun_id = k;
            t.flags |= FLOW_TNL_F_KEY;
        }
        TnlKey::Flow => {
            t.tun_id = flow.tunnel.tun_id;
            t.flags |= FLOW_TNL_F_KEY;
            ctx.wc.tunnel.tun_id = u64::MAX;
        }
        TnlKey::Absent => {}
    }
    let ip = is_ip_any(&flow);
    t.ip_ttl = match cfg.ttl {
        Some(ttl) => ttl,
        None if ip => {
            ctx.wc.nw_ttl = u8::MAX;
            flow.nw_ttl
        }
        None => 64,
    };
    t.ip_tos = match cfg.tos {
        Some(tos) => tos,
        None if ip => {
            ctx.wc.nw_tos |= IP_DSCP_MASK;
            flow.nw_tos & IP_DSCP_MASK
        }
        None => 0,
    };
    if ip {
        ctx.wc.nw_tos |= IP_ECN_MASK;
        if flow.nw_tos & IP_ECN_MASK == IP_ECN_MASK {
            t.ip_tos |= IP_ECN_MASK;
        } else {
            t.ip_tos |= flow.nw_tos & IP_ECN_MASK;
        }
    }
    if cfg.df_default {
        t.flags |= FLOW_TNL_F_DONT_FRAGMENT;
    }
    let ipv6 = t.ipv6_dst != [0; 16] && t.ip_dst == 0;
    if cfg.csum || ipv6 {
        t.flags |= FLOW_TNL_F_CSUM;
    }
    if cfg.gbp {
        t.gbp_id = flow.tunnel.gbp_id;
        t.gbp_flags = flow.tunnel.gbp_flags;
    }
    // ERSPAN: each field from the port's options, or from the flow
    // (not a megaflow field: the datapath never matches on it here).
    let e = &cfg.erspan;
    t.erspan_ver = e.ver.unwrap_or(flow.tunnel.erspan_ver);
    t.erspan_idx = e.idx.unwrap_or(flow.tunnel.erspan_idx);
    t.erspan_dir = e.dir.unwrap_or(flow.tunnel.erspan_dir);
    t.erspan_hwid = e.hwid.unwrap_or(flow.tunnel.erspan_hwid);
    t
}

/// Output to tunnel port `ofp_port` (named `name`) by native tunnelling.
pub(crate) fn native_tunnel_output(ctx: &mut Ctx, name: &str, last: bool) {
    let cfg = crate::tnl::global()
        .ports()
        .port(&ctx.br.name, name)
        .cloned();
    if is_ip_any(&ctx.flow) {
        ctx.wc.nw_tos |= IP_ECN_MASK;
    }
    ctx.report(NodeKind::Detail, || "output to native tunnel".into());
    let Some(cfg) = cfg else {
        ctx.report(NodeKind::Warn, || "native tunnel routing failed".into());
        return;
    };
    let saved_flow = ctx.flow;
    let mut t = outgoing_tunnel(ctx, &cfg);
    if let Some(m) = cfg.egress_pkt_mark {
        ctx.flow.pkt_mark = m;
        ctx.wc.pkt_mark = u32::MAX;
    }
    // The inner packet as the pipeline left it (without its Ethernet
    // header for a layer-3 tunnel) is committed before routing.
    if cfg.layer3 && ctx.flow.packet_type == 0 {
        ctx.flow.packet_type = (1 << 16) | u32::from(ctx.flow.dl_type);
        if ctx.base.packet_type == 0 {
            ctx.odp.push(OdpAction::PopEth);
            ctx.base.packet_type = ctx.flow.packet_type;
        }
    }
    ctx.commit();
    if emit(ctx, &cfg, &mut t, last).is_err() {
        ctx.flow = saved_flow;
        return;
    }
    ctx.flow = saved_flow;
}

/// Routes, resolves and pushes; `Err` when the packet is dropped.
fn emit(ctx: &mut Ctx, cfg: &TnlPort, t: &mut FlowTnl, last: bool) -> Result<(), ()> {
    let tnl = crate::tnl::global();
    let dst = tnl_dst(t);
    let route = if dst.is_unspecified() {
        None
    } else {
        tnl.routes().lookup(ctx.flow.pkt_mark, &dst).cloned()
    };
    let out_br = route.as_ref().and_then(|r| {
        if r.dev == ctx.br.name {
            Some(ctx.br)
        } else {
            ctx.bridges.bridge(&r.dev)
        }
    });
    let (Some(route), Some(out_br)) = (route, out_br) else {
        ctx.report(NodeKind::Warn, || "native tunnel routing failed".into());
        return Err(());
    };
    let next_hop = if route.gw.is_unspecified() {
        dst
    } else {
        route.gw
    };
    ctx.report(NodeKind::Detail, || {
        format!("tunneling to {} via {}", format_ip(&next_hop), route.dev)
    });
    // The source: the port's local address, else the route's.
    let src = if t.ip_src != 0 || t.ipv6_src != [0; 16] {
        if t.ip_dst != 0 {
            std::net::Ipv4Addr::from(t.ip_src).to_ipv6_mapped()
        } else {
            Ipv6Addr::from(t.ipv6_src)
        }
    } else {
        route.src
    };
    if dst.to_ipv4_mapped().is_some() {
        t.ip_src = src.to_ipv4_mapped().map(u32::from).unwrap_or(0);
    } else {
        t.ipv6_src = src.octets();
    }
    let Some(local) = out_br.port(OFPP_LOCAL) else {
        ctx.report(NodeKind::Warn, || "native tunnel routing failed".into());
        return Err(());
    };
    let smac = local.hw_addr;
    let out_odp = local.odp_port;
    let now = ctx.br.now();
    let dmac = tnl.neigh().lookup(&out_br.name, &next_hop, now);
    let Some(dmac) = dmac else {
        let v4 = next_hop.to_ipv4_mapped().is_some();
        let br_name = out_br.name.clone();
        ctx.report(NodeKind::Detail, || {
            format!(
                "neighbor cache miss for {} on bridge {}, sending {} request",
                format_ip(&next_hop),
                br_name,
                if v4 { "ARP" } else { "ND" }
            )
        });
        // Sent whatever the translation is for (upstream sends them from
        // traces and revalidation too).
        let packet = if v4 {
            arp_request(smac, &src, &next_hop)
        } else {
            nd_solicit(smac, &src, &next_hop)
        };
        ctx.side.push(SideEffect::SendPacket {
            bridge: br_name,
            packet,
        });
        return Err(());
    };
    ctx.report(NodeKind::Detail, || {
        format!(
            "tunneling from {} {} to {} {}",
            crate::tnl::neigh::format_mac(&smac),
            format_ip(&src),
            crate::tnl::neigh::format_mac(&dmac),
            format_ip(&dst)
        )
    });
    let ipv6 = dst.to_ipv4_mapped().is_none();
    let Some((kind, tnl_type)) = header_type(&cfg.type_, ipv6) else {
        ctx.report(NodeKind::Warn, || {
            "native tunnel header build failed".into()
        });
        return Err(());
    };
    let gre_protocol = if cfg.layer3 { ctx.flow.dl_type } else { 0 };
    let geneve_options = if kind == TunnelKind::Geneve {
        geneve_options_of(ctx)
    } else {
        Vec::new()
    };
    let header = match build_header(
        kind,
        t,
        &EncapParams {
            eth_src: smac,
            eth_dst: dmac,
            udp_dst: cfg.dst_port.unwrap_or(0),
            geneve_options: &geneve_options,
            gre_protocol,
            gre_seq: cfg.seq.then_some(0),
        },
    ) {
        Ok(h) => h,
        Err(_) => {
            if kind == TunnelKind::Erspan {
                let ver = t.erspan_ver;
                vlog::warn_rl!(&NATIVE_TNL_RL, "native_tnl", "ERSPAN version error {}", ver);
            }
            ctx.report(NodeKind::Warn, || {
                "native tunnel header build failed".into()
            });
            return Err(());
        }
    };

    // The push (the inner packet was committed before routing).
    let outer = if last {
        None
    } else {
        Some(std::mem::take(&mut ctx.odp))
    };
    let udp_dst = if kind.is_gre() {
        0
    } else {
        let l4 = 14 + if ipv6 { 40 } else { 20 };
        match header.bytes.get(l4 + 2..l4 + 4) {
            Some(b) => u16::from_be_bytes([b[0], b[1]]),
            None => 0,
        }
    };
    ctx.odp.push(OdpAction::TnlPush(TnlPush {
        tnl_port: cfg.odp_port,
        out_port: out_odp,
        tnl_type,
        header: header.bytes,
    }));
    let underlay = Flow {
        in_port: OFPP_LOCAL,
        dl_dst: dmac,
        dl_src: smac,
        dl_type: if ipv6 { ETH_TYPE_IPV6 } else { ETH_TYPE_IP },
        nw_src: t.ip_src,
        nw_dst: t.ip_dst,
        ipv6_src: if ipv6 { t.ipv6_src } else { [0; 16] },
        ipv6_dst: if ipv6 { t.ipv6_dst } else { [0; 16] },
        nw_proto: if kind.is_gre() { 47 } else { 17 },
        nw_ttl: t.ip_ttl,
        nw_tos: t.ip_tos,
        tp_dst: udp_dst,
        pkt_mark: ctx.flow.pkt_mark,
        skb_priority: ctx.flow.skb_priority,
        ..Default::default()
    };
    let stats = crate::tnl::global().stats(&cfg.bridge, &cfg.name);
    ctx.tunnel_stats.push((stats, true));
    underlay_output(ctx, out_br, underlay);
    if let Some(outer) = outer {
        let inner = std::mem::replace(&mut ctx.odp, outer);
        if !inner.is_empty() {
            ctx.odp.push(OdpAction::Clone(inner));
        }
    }
    Ok(())
}

/// The Geneve options of the flow's `tun_metadataN` fields, in index
/// order, each as the bridge's TLV map says (class, type, length); fields
/// the map does not know are left out.
fn geneve_options_of(ctx: &Ctx) -> Vec<u8> {
    let md = &ctx.flow.tunnel.metadata;
    let map = ctx.br.tlv_map();
    let mut out = Vec::new();
    for i in 0..packet::flow::TUN_METADATA_NUM_OPTS {
        if md.present & (1u64 << i) == 0 {
            continue;
        }
        let Some(m) = map.iter().find(|m| m.index as usize == i) else {
            continue;
        };
        let Some(data) = md.slot(i) else {
            continue;
        };
        let len = usize::from(m.option_len);
        if out.len() + 4 + len > 252 {
            break;
        }
        out.extend_from_slice(&m.option_class.to_be_bytes());
        out.push(m.option_type);
        out.push((len / 4) as u8);
        // The slot may be shorter than the option (a flow parsed from
        // text): its bytes are the option's last ones.
        let pad = len.saturating_sub(data.len());
        out.extend(std::iter::repeat_n(0u8, pad));
        out.extend_from_slice(&data[data.len().saturating_sub(len)..]);
    }
    out
}

/// Runs the encapsulated packet through `br`'s pipeline as if it arrived
/// on its LOCAL port; the megaflow and the overlay's state are left as
/// they were.
fn underlay_output<'a>(ctx: &mut Ctx<'a>, br: &'a crate::ofproto::Ofproto, flow: Flow) {
    if ctx.depth >= engine::MAX_DEPTH {
        ctx.report_error(|| "over max translation depth".into());
        return;
    }
    let old_flow = ctx.flow;
    let old_base = ctx.base;
    let old_wc = ctx.wc;
    let old_conntracked = ctx.conntracked;
    let old_was_mpls = ctx.was_mpls;
    let old_stack = std::mem::take(&mut ctx.stack);
    let old_action_set = std::mem::take(&mut ctx.action_set);
    let old_has_group = ctx.action_set_has_group;
    let old_br = ctx.br;
    let old_table = ctx.table_id;
    let old_rule = ctx.rule.clone();
    let back = ctx.trace_cursor();
    ctx.flow = flow;
    ctx.flow.actset_output = OFPP_UNSET;
    ctx.base = flow;
    ctx.conntracked = false;
    ctx.depth += 1;
    let name = br.name.clone();
    ctx.descend(NodeKind::Bridge, || format!("bridge(\"{name}\")"));
    ctx.br = br;
    engine::table_action(ctx, OFPP_LOCAL, 0, true, true, false, true);
    if !ctx.freezing {
        super::output::xlate_action_set(ctx);
    }
    if ctx.freezing {
        super::freeze::finish_freezing(ctx);
    }
    ctx.depth -= 1;
    ctx.restore(back);
    ctx.flow = old_flow;
    ctx.base = old_base;
    ctx.wc = old_wc;
    ctx.br = old_br;
    ctx.table_id = old_table;
    ctx.rule = old_rule;
    ctx.action_set = old_action_set;
    ctx.action_set_has_group = old_has_group;
    ctx.stack = old_stack;
    ctx.was_mpls = old_was_mpls;
    ctx.conntracked = old_conntracked;
    ctx.exit = false;
    ctx.error = None;
}

/// Notes a packet received on a tunnel port (for its statistics).
pub(crate) fn note_ingress(ctx: &mut Ctx) {
    let Some(p) = ctx.br.port(ctx.flow.in_port) else {
        return;
    };
    if matches!(p.kind, crate::port::PortKind::Tunnel { .. }) {
        let stats = crate::tnl::global().stats(&ctx.br.name, &p.name);
        ctx.tunnel_stats.push((stats, false));
    }
}

/// At an output to a LOCAL port: the vport that decapsulates the packet,
/// if it is addressed to a tunnel; otherwise snoops neighbour replies.
pub(crate) fn terminate(ctx: &mut Ctx) -> Option<u32> {
    let tnl = crate::tnl::global();
    let ports = tnl.ports();
    if !ports.any() {
        return None;
    }
    if let Some(odp) = ports.map_lookup(&ctx.flow, &mut ctx.wc) {
        return Some(odp);
    }
    drop(ports);
    let f = ctx.flow;
    let is_arp = f.dl_type == ETH_TYPE_ARP;
    let is_na = f.dl_type == ETH_TYPE_IPV6 && f.nw_proto == 58;
    if !(is_arp || is_na) || !reply_for_us(ctx) {
        return None;
    }
    if is_arp {
        ctx.wc.nw_proto = u8::MAX;
        ctx.wc.arp_sha = [0xff; 6];
        let garp = f.dl_dst == [0xff; 6] && f.nw_src == f.nw_dst;
        if garp {
            ctx.wc.dl_dst = [0xff; 6];
            ctx.wc.nw_dst = u32::MAX;
        }
        if (f.nw_proto != 2 && !garp) || f.arp_sha == [0; 6] {
            return None;
        }
        ctx.wc.nw_src = u32::MAX;
        if ctx.allow_side_effects {
            let ip = std::net::Ipv4Addr::from(f.nw_src).to_ipv6_mapped();
            let now = ctx.br.now();
            tnl.neigh().set(&ctx.br.name, ip, f.arp_sha, now);
        }
    } else {
        ctx.wc.tp_src = u16::MAX;
        ctx.wc.tp_dst = u16::MAX;
        if f.tp_src != 136 || f.tp_dst != 0 {
            return None;
        }
        ctx.wc.nd_target = [0xff; 16];
        ctx.wc.arp_tha = [0xff; 6];
        if f.arp_tha == [0; 6] {
            return None;
        }
        if ctx.allow_side_effects {
            let now = ctx.br.now();
            tnl.neigh()
                .set(&ctx.br.name, Ipv6Addr::from(f.nd_target), f.arp_tha, now);
        }
    }
    None
}

/// True if the ARP reply or advertisement is addressed to one of the
/// bridge's own addresses.
fn reply_for_us(ctx: &Ctx) -> bool {
    let mine = crate::tnl::global().dev_addrs(&ctx.br.name);
    let want = if ctx.flow.dl_type == ETH_TYPE_ARP {
        to_v6(IpAddr::V4(std::net::Ipv4Addr::from(ctx.flow.nw_dst)))
    } else {
        Ipv6Addr::from(ctx.flow.ipv6_dst)
    };
    mine.iter().any(|(a, _)| to_v6(*a) == want)
}

/// An ARP request from `smac`/`sip` for `tip`, broadcast.
pub fn arp_request(smac: [u8; 6], sip: &Ipv6Addr, tip: &Ipv6Addr) -> Vec<u8> {
    let mut p = Vec::with_capacity(42);
    p.extend_from_slice(&[0xff; 6]);
    p.extend_from_slice(&smac);
    p.extend_from_slice(&ETH_TYPE_ARP.to_be_bytes());
    p.extend_from_slice(&[0, 1, 0x08, 0, 6, 4, 0, 1]);
    p.extend_from_slice(&smac);
    p.extend_from_slice(&sip.to_ipv4_mapped().map(|a| a.octets()).unwrap_or([0; 4]));
    p.extend_from_slice(&[0; 6]);
    p.extend_from_slice(&tip.to_ipv4_mapped().map(|a| a.octets()).unwrap_or([0; 4]));
    p
}

fn sum16(data: &[u8], mut acc: u32) -> u32 {
    for c in data.chunks(2) {
        let w = if c.len() == 2 {
            u16::from_be_bytes([c[0], c[1]])
        } else {
            u16::from_be_bytes([c[0], 0])
        };
        acc += u32::from(w);
    }
    acc
}

/// A neighbour solicitation from `smac`/`sip` for `tip`, to its
/// solicited-node multicast address.
pub fn nd_solicit(smac: [u8; 6], sip: &Ipv6Addr, tip: &Ipv6Addr) -> Vec<u8> {
    let t = tip.octets();
    let mut dst = [0u8; 16];
    dst[0] = 0xff;
    dst[1] = 0x02;
    dst[11] = 1;
    dst[12] = 0xff;
    dst[13..].copy_from_slice(&t[13..]);
    let mut icmp = vec![135, 0, 0, 0, 0, 0, 0, 0];
    icmp.extend_from_slice(&t);
    icmp.extend_from_slice(&[1, 1]);
    icmp.extend_from_slice(&smac);
    let len = icmp.len() as u32;
    let mut acc = sum16(&sip.octets(), 0);
    acc = sum16(&dst, acc);
    acc += len + 58;
    acc = sum16(&icmp, acc);
    while acc >> 16 != 0 {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    let c = !(acc as u16);
    icmp[2..4].copy_from_slice(&c.to_be_bytes());
    let mut p = Vec::with_capacity(14 + 40 + icmp.len());
    p.extend_from_slice(&[0x33, 0x33, dst[12], dst[13], dst[14], dst[15]]);
    p.extend_from_slice(&smac);
    p.extend_from_slice(&ETH_TYPE_IPV6.to_be_bytes());
    p.extend_from_slice(&[0x60, 0, 0, 0]);
    p.extend_from_slice(&(len as u16).to_be_bytes());
    p.extend_from_slice(&[58, 255]);
    p.extend_from_slice(&sip.octets());
    p.extend_from_slice(&dst);
    p.extend_from_slice(&icmp);
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arp_request_is_upstreams_frame() {
        let smac = [0xaa, 0x55, 0xaa, 0x55, 0, 0];
        let sip = "1.1.2.88"
            .parse::<std::net::Ipv4Addr>()
            .unwrap()
            .to_ipv6_mapped();
        let tip = "1.1.2.92"
            .parse::<std::net::Ipv4Addr>()
            .unwrap()
            .to_ipv6_mapped();
        let hex: String = arp_request(smac, &sip, &tip)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(
            hex,
            "ffffffffffffaa55aa55000008060001080006040001aa55aa550000010102580000000000000101025c"
        );
    }

    #[test]
    fn neighbour_solicitation_checksums_to_zero() {
        let sip: Ipv6Addr = "2001:cafe::88".parse().unwrap();
        let tip: Ipv6Addr = "2001:cafe::92".parse().unwrap();
        let p = nd_solicit([2, 0, 0, 0, 0, 1], &sip, &tip);
        assert_eq!(&p[0..6], &[0x33, 0x33, 0xff, 0, 0, 0x92]);
        let icmp = &p[54..];
        let mut acc = sum16(&p[22..38], 0);
        acc = sum16(&p[38..54], acc);
        acc += icmp.len() as u32 + 58;
        acc = sum16(icmp, acc);
        while acc >> 16 != 0 {
            acc = (acc & 0xffff) + (acc >> 16);
        }
        assert_eq!(acc, 0xffff);
    }
}
