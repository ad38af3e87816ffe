//! Sending the packet somewhere: output to a port (with the checks
//! upstream makes, patch ports continuing in the peer bridge), IN_PORT,
//! TABLE, NORMAL, FLOOD/ALL, CONTROLLER, truncation, enqueue, bundles,
//! meters, clone, check_pkt_larger, and the action set.

use flow::actions::{Bundle, BundleAlgorithm, OfpAction, OfpPort, Sample};
use flow::odp::actions::{OdpAction, UserCookie, Userdata, Userspace};
use flow::Subfield;

use super::engine::{
    self, Ctx, OFPPC_NO_FLOOD, OFPPC_NO_FWD, OFPPC_PORT_DOWN, OFPPS_LINK_DOWN, OFPP_ALL,
    OFPP_CONTROLLER, OFPP_FLOOD, OFPP_IN_PORT, OFPP_LOCAL, OFPP_NONE, OFPP_NORMAL, OFPP_TABLE,
    OFPP_UNSET, OFPR_ACTION, OFPR_ACTION_SET, OFPR_EXPLICIT_MISS, OFPR_GROUP, OFPR_PACKET_OUT,
};
use super::recirc::{FrozenMetadata, FrozenState};
use super::report::NodeKind;
use crate::port::PortKind;

/// `output:port` (and the reserved ports).
pub(crate) fn output_action(
    ctx: &mut Ctx,
    port: u32,
    max_len: u16,
    may_packet_in: bool,
    last: bool,
    truncate: bool,
    _group_bucket: bool,
) {
    match port {
        OFPP_IN_PORT => {
            let p = ctx.flow.in_port;
            compose_output(ctx, p, last, truncate);
        }
        OFPP_TABLE => {
            let p = ctx.flow.in_port;
            engine::table_action(ctx, p, 0, may_packet_in, true, false, false);
        }
        OFPP_NORMAL => crate::normal::xlate_normal(ctx),
        OFPP_FLOOD => flood(ctx, false, last),
        OFPP_ALL => flood(ctx, true, last),
        OFPP_CONTROLLER => {
            let reason = if ctx.in_packet_out {
                OFPR_PACKET_OUT
            } else if ctx.in_group {
                OFPR_GROUP
            } else if ctx.in_action_set {
                OFPR_ACTION_SET
            } else {
                OFPR_ACTION
            };
            controller_action(ctx, max_len, reason, 0, &[]);
        }
        OFPP_NONE => {}
        _ => {
            if port != ctx.flow.in_port {
                compose_output(ctx, port, last, truncate);
            } else {
                ctx.report(NodeKind::Warn, || "skipping output to input port".into());
            }
        }
    }
}

/// `output(port=P,max_len=N)`.
pub(crate) fn output_trunc_action(
    ctx: &mut Ctx,
    port: u32,
    max_len: u32,
    last: bool,
    group_bucket: bool,
) {
    match port {
        OFPP_TABLE | OFPP_NORMAL | OFPP_FLOOD | OFPP_ALL | OFPP_CONTROLLER | OFPP_NONE => {
            let name = OfpPort(port as u16).to_string();
            ctx.report(NodeKind::Warn, || {
                format!("output_trunc does not support port: {name}")
            });
        }
        _ => {
            if port != ctx.flow.in_port {
                let ok = match ctx.br.port(port) {
                    Some(p) => !matches!(p.kind, PortKind::Patch { .. }),
                    None => false,
                };
                if !ok {
                    let name = OfpPort(port as u16).to_string();
                    ctx.report_error(|| format!("output_trunc does not support patch port {name}"));
                    return;
                }
                ctx.odp.push(OdpAction::Trunc(max_len));
                output_action(ctx, port, 0, false, last, true, group_bucket);
            } else {
                ctx.report(NodeKind::Warn, || "skipping output to input port".into());
            }
        }
    }
}

/// `enqueue(port,queue)`: output with the queue's skb_priority.
pub(crate) fn enqueue_action(
    ctx: &mut Ctx,
    port: u32,
    queue: u32,
    last: bool,
    _group_bucket: bool,
) {
    let out = if port == OFPP_IN_PORT {
        ctx.flow.in_port
    } else if port == ctx.flow.in_port {
        return;
    } else {
        port
    };
    let saved = ctx.flow.skb_priority;
    ctx.flow.skb_priority = queue;
    compose_output(ctx, out, last, false);
    ctx.flow.skb_priority = saved;
}

/// `set_queue`: the userspace datapath maps a queue to the same priority.
pub(crate) fn set_queue(ctx: &mut Ctx, queue: u32) {
    ctx.flow.skb_priority = queue;
}

/// Checks whether output to `port` may happen (upstream's
/// `check_output_prerequisites`).
fn output_allowed(ctx: &mut Ctx, port: u32) -> bool {
    match ctx.br.port(port) {
        None => {
            ctx.report(NodeKind::Warn, || "Nonexistent output port".into());
            false
        }
        Some(p) if p.config & OFPPC_NO_FWD != 0 => {
            ctx.report(NodeKind::Detail, || {
                "OFPPC_NO_FWD set, skipping output".into()
            });
            false
        }
        Some(_) => true,
    }
}

/// Output to one port: patch ports continue in the peer; other ports get
/// the committed changes, then `output`.
pub(crate) fn compose_output(ctx: &mut Ctx, port: u32, last: bool, truncate: bool) {
    if !output_allowed(ctx, port) {
        return;
    }
    let Some(p) = ctx.br.port(port) else {
        return;
    };
    // Only layer-3 tunnels take packets without an Ethernet header.
    let layer3 = || match &p.kind {
        PortKind::Tunnel { .. } => crate::tnl::global()
            .ports()
            .port(&ctx.br.name, &p.name)
            .is_some_and(|c| c.layer3),
        _ => false,
    };
    if ctx.flow.packet_type != 0 && !layer3() {
        ctx.report(NodeKind::Warn, || {
            "Trying to send non-Ethernet packet through legacy L2 port. Dropping packet.".into()
        });
        return;
    }
    if let PortKind::Patch { peer } = &p.kind {
        let (name, peer) = (p.name.clone(), peer.clone());
        patch_output(ctx, &name, &peer, last);
        return;
    }
    if let PortKind::Tunnel { .. } = &p.kind {
        let name = p.name.clone();
        // The inner packet as the pipeline left it goes into the tunnel.
        super::tunnel::native_tunnel_output(ctx, &name, last);
        super::mirror::egress(ctx, port);
        return;
    }
    let odp_port = p.odp_port;
    let saved = (
        ctx.flow.vlans,
        ctx.flow.nw_tos,
        ctx.flow.dl_dst,
        ctx.flow.dl_src,
        ctx.flow.packet_type,
        ctx.flow.dl_type,
    );
    let _ = truncate;
    ctx.commit();
    if ctx.mirror_snaplen != 0 {
        ctx.odp.push(OdpAction::Trunc(ctx.mirror_snaplen));
    }
    match port {
        OFPP_LOCAL => match super::tunnel::terminate(ctx) {
            Some(vport) => ctx.odp.push(OdpAction::TnlPop(vport)),
            None => ctx.odp.push(OdpAction::Output(odp_port)),
        },
        _ => ctx.odp.push(OdpAction::Output(odp_port)),
    }
    super::mirror::egress(ctx, port);
    ctx.flow.vlans = saved.0;
    ctx.flow.nw_tos = saved.1;
    ctx.flow.dl_dst = saved.2;
    ctx.flow.dl_src = saved.3;
    ctx.flow.packet_type = saved.4;
    ctx.flow.dl_type = saved.5;
}

/// Continues translation in the bridge of the patch peer `peer` of patch
/// port `name`. The flow's packets count as sent by `name` and received
/// by `peer` (as upstream credits its patch devices).
fn patch_output(ctx: &mut Ctx, name: &str, peer: &str, last: bool) {
    let Some((peer_br, peer_port)) = ctx.bridges.port_by_name(peer) else {
        ctx.report(NodeKind::Warn, || "Nonexistent output port".into());
        return;
    };
    let tnl = crate::tnl::global();
    ctx.tunnel_stats.push((tnl.stats(&ctx.br.name, name), true));
    ctx.tunnel_stats
        .push((tnl.stats(&peer_br.name, peer), false));
    let old_flow = ctx.flow;
    let old_tnl_wc = ctx.wc.tunnel;
    let old_conntracked = ctx.conntracked;
    let old_was_mpls = ctx.was_mpls;
    let old_stack = std::mem::take(&mut ctx.stack);
    let old_action_set = std::mem::take(&mut ctx.action_set);
    let old_has_group = ctx.action_set_has_group;
    let old_br = ctx.br;
    let old_table = ctx.table_id;
    // The peer bridge's mirrors are its own (numbered apart from ours).
    let old_mirrors = std::mem::take(&mut ctx.mirrors);
    let back = ctx.trace_cursor();

    ctx.flow.in_port = peer_port;
    ctx.flow.metadata = 0;
    ctx.flow.tunnel = Default::default();
    ctx.wc.tunnel = Default::default();
    ctx.flow.regs = [0; packet::flow::FLOW_N_REGS];
    ctx.flow.actset_output = OFPP_UNSET;
    super::freeze::clear_conntrack(&mut ctx.flow);
    ctx.conntracked = false;
    let name = peer_br.name.clone();
    ctx.descend(NodeKind::Bridge, || format!("bridge(\"{name}\")"));
    ctx.br = peer_br;

    let may_recv = match ctx.br.port(peer_port) {
        Some(p) => p.config & engine::OFPPC_NO_RECV == 0,
        None => true,
    };
    if may_recv {
        engine::table_action(ctx, peer_port, 0, true, true, false, last);
        if !ctx.freezing {
            xlate_action_set(ctx);
        }
        if ctx.freezing {
            super::freeze::finish_freezing(ctx);
        }
    }

    ctx.restore(back);
    ctx.mirrors = old_mirrors;
    ctx.flow = old_flow;
    ctx.br = old_br;
    ctx.table_id = old_table;
    ctx.action_set = old_action_set;
    ctx.action_set_has_group = old_has_group;
    ctx.stack = old_stack;
    ctx.wc.tunnel = old_tnl_wc;
    ctx.was_mpls = old_was_mpls;
    ctx.conntracked = old_conntracked;
    ctx.exit = false;
    ctx.error = None;
}

/// The ports of the bridge in the order upstream floods them.
pub(crate) fn flood_order(ctx: &Ctx) -> Vec<u32> {
    super::hash::hmap_order(ctx.br.ports().map(|p| p.ofp_port).collect())
}

/// FLOOD / ALL.
pub(crate) fn flood(ctx: &mut Ctx, all: bool, last: bool) {
    for port in flood_order(ctx) {
        if port == ctx.flow.in_port {
            continue;
        }
        let cfg = ctx.br.port(port).map(|p| p.config).unwrap_or(0);
        if all || cfg & OFPPC_NO_FLOOD == 0 {
            compose_output(ctx, port, last, false);
        }
    }
}

/// A port that can carry traffic (for bundle and fast-failover liveness).
pub(crate) fn port_is_live(ctx: &Ctx, port: u32) -> bool {
    match ctx.br.port(port) {
        Some(p) => p.config & OFPPC_PORT_DOWN == 0 && p.state & OFPPS_LINK_DOWN == 0,
        None => false,
    }
}

/// `controller(...)`: a userspace action carrying a packet-in cookie.
pub(crate) fn controller_action(
    ctx: &mut Ctx,
    max_len: u16,
    reason: u16,
    controller_id: u16,
    userdata: &[u8],
) {
    ctx.commit();
    let mut reason = reason;
    if reason == OFPR_ACTION {
        if let Some(r) = &ctx.rule {
            if r.priority == 0 && r.match_.is_catchall() {
                reason = OFPR_EXPLICIT_MISS;
            }
        }
    }
    let mut md = FrozenMetadata::from_flow(&ctx.flow);
    md.in_port = ctx.flow.in_port;
    let state = FrozenState {
        bridge: ctx.br.name.clone(),
        table_id: ctx.table_id,
        metadata: md,
        stack: ctx.stack.clone(),
        conntracked: ctx.conntracked,
        was_mpls: ctx.was_mpls,
        mirrors: ctx.mirrors,
        actions: Vec::new(),
        action_set: Vec::new(),
        userdata: userdata.to_vec(),
    };
    let recirc_id = super::recirc::alloc(state);
    if recirc_id == 0 {
        ctx.report_error(|| "Failed to allocate recirculation id".into());
        ctx.error = Some(super::XlateError::NoRecirculationContext);
        return;
    }
    put_controller_userspace(
        ctx,
        ctx.dont_send,
        false,
        recirc_id,
        max_len,
        reason,
        controller_id,
    );
}

/// Appends the `userspace(pid=0,controller(...))` action.
pub(crate) fn put_controller_userspace(
    ctx: &mut Ctx,
    dont_send: bool,
    continuation: bool,
    recirc_id: u32,
    max_len: u16,
    reason: u16,
    controller_id: u16,
) {
    ctx.odp.push(OdpAction::Userspace(Userspace {
        pid: 0,
        userdata: Some(Userdata::Cookie {
            ofp_in_port: OFPP_NONE,
            ofproto_uuid: bridge_uuid(&ctx.br.name),
            cookie: UserCookie::Controller {
                reason,
                dont_send,
                continuation,
                recirc_id,
                rule_cookie: ctx.rule_cookie,
                controller_id,
                max_len,
            },
        }),
        actions: false,
        tunnel_out_port: None,
    }));
}

/// A stable 16-byte identity for a bridge in upcall cookies.
pub fn bridge_uuid(name: &str) -> [u8; 16] {
    let mut u = [0u8; 16];
    for (i, b) in name.bytes().enumerate() {
        u[i % 16] ^= b.rotate_left((i / 16) as u32);
    }
    u
}

/// `meter:N`.
pub(crate) fn meter_action(ctx: &mut Ctx, id: u32) {
    if ctx.br.meter(id).is_some() {
        let pid = provider_meter_id(ctx.br, id);
        ctx.odp.push(OdpAction::Meter(pid));
    }
}

/// The datapath meter of OpenFlow meter `id`: datapath meters are numbered
/// from 0 in the order the OpenFlow meters were created.
fn provider_meter_id(br: &crate::ofproto::Ofproto, id: u32) -> u32 {
    let Some(m) = br.meter(id) else {
        return 0;
    };
    let mut n = 0;
    let mut mid = 1u32;
    // Meters are few; count those created before this one.
    while mid <= 0xffff_0000 {
        if let Some(o) = br.meter(mid) {
            if (o.created, o.meter_id) < (m.created, m.meter_id) {
                n += 1;
            }
        }
        mid += 1;
        if mid > 0x10000 {
            break;
        }
    }
    n
}

/// `sample(...)`: sampling needs an IPFIX exporter on the bridge, which
/// this switch does not configure, so (as upstream without one) nothing
/// is emitted.
pub(crate) fn sample_action(_ctx: &mut Ctx, _s: &Sample) {}

/// Whether an action list can be undone by restoring the flow (so `clone`
/// needs no datapath clone).
fn reversible(acts: &[OfpAction]) -> bool {
    acts.iter().all(|a| {
        !matches!(
            a,
            OfpAction::Ct(_)
                | OfpAction::Meter(_)
                | OfpAction::Nat(_)
                | OfpAction::OutputTrunc { .. }
                | OfpAction::Encap(_)
                | OfpAction::Decap { .. }
                | OfpAction::DecNshTtl
        )
    })
}

/// `clone(...)`.
pub(crate) fn clone_action(ctx: &mut Ctx, acts: &[OfpAction], last: bool) {
    let old_stack = ctx.stack.clone();
    let old_action_set = ctx.action_set.clone();
    let old_flow = ctx.flow;
    if reversible(acts) || last {
        engine::do_actions(ctx, acts, last, false);
        if !ctx.freezing {
            xlate_action_set(ctx);
        }
        if ctx.freezing {
            super::freeze::finish_freezing(ctx);
        }
    } else {
        ctx.commit();
        let old_base = ctx.base;
        let old_was_mpls = ctx.was_mpls;
        let old_conntracked = ctx.conntracked;
        let outer = std::mem::take(&mut ctx.odp);
        engine::do_actions(ctx, acts, true, false);
        if !ctx.freezing {
            xlate_action_set(ctx);
        }
        if ctx.freezing {
            super::freeze::finish_freezing(ctx);
        }
        let inner = std::mem::replace(&mut ctx.odp, outer);
        if !inner.is_empty() {
            ctx.odp.push(OdpAction::Clone(inner));
        }
        ctx.conntracked = old_conntracked;
        ctx.was_mpls = old_was_mpls;
        ctx.base = old_base;
    }
    ctx.action_set = old_action_set;
    ctx.stack = old_stack;
    ctx.flow = old_flow;
}

/// `check_pkt_larger(len)->dst` followed by `rest`: both outcomes are
/// translated under a datapath `check_pkt_len`.
pub(crate) fn check_pkt_larger(
    ctx: &mut Ctx,
    pkt_len: u16,
    dst: &Subfield,
    rest: &[OfpAction],
    _last: bool,
) {
    let old_stack = ctx.stack.clone();
    let old_action_set = ctx.action_set.clone();
    let old_flow = ctx.flow;
    ctx.commit();
    let old_base = ctx.base;
    let old_was_mpls = ctx.was_mpls;
    let old_conntracked = ctx.conntracked;
    let outer = std::mem::take(&mut ctx.odp);

    let one = flow::MfValue::from_u64(dst.field.def().n_bytes, 1);
    dst.write(&mut ctx.flow, &one);
    engine::do_actions(ctx, rest, true, false);
    if !ctx.freezing {
        xlate_action_set(ctx);
    }
    if ctx.freezing {
        super::freeze::finish_freezing(ctx);
    }
    let gt = std::mem::take(&mut ctx.odp);
    ctx.base = old_base;
    ctx.was_mpls = old_was_mpls;
    ctx.conntracked = old_conntracked;
    ctx.flow = old_flow;
    ctx.exit = false;
    ctx.action_set = old_action_set.clone();
    ctx.stack = old_stack.clone();

    let zero = flow::MfValue::zero(dst.field.def().n_bytes);
    dst.write(&mut ctx.flow, &zero);
    engine::do_actions(ctx, rest, true, false);
    if !ctx.freezing {
        xlate_action_set(ctx);
    }
    if ctx.freezing {
        super::freeze::finish_freezing(ctx);
    }
    let le = std::mem::replace(&mut ctx.odp, outer);
    ctx.odp.push(OdpAction::CheckPktLen {
        size: pkt_len,
        gt,
        le,
    });

    ctx.action_set = old_action_set;
    ctx.stack = old_stack;
    ctx.base = old_base;
    ctx.was_mpls = old_was_mpls;
    ctx.conntracked = old_conntracked;
    ctx.flow = old_flow;
    ctx.exit = true;
}

/// `bundle(...)`/`bundle_load(...)`: picks a live member.
pub(crate) fn bundle_action(ctx: &mut Ctx, b: &Bundle, last: bool, group_bucket: bool) {
    let port = match b.algorithm {
        BundleAlgorithm::ActiveBackup => b
            .members
            .iter()
            .map(|m| u32::from(m.0))
            .find(|p| member_enabled(ctx, *p))
            .unwrap_or(OFPP_NONE),
        BundleAlgorithm::Hrw => {
            if b.members.len() > 1 {
                super::hash::mask_hash_fields(&ctx.flow.clone(), &mut ctx.wc, b.fields);
            }
            let hash = super::hash::flow_hash_fields(&ctx.flow, b.fields, b.basis);
            let mut best: Option<(u32, u32)> = None;
            for (i, m) in b.members.iter().enumerate() {
                let p = u32::from(m.0);
                if member_enabled(ctx, p) {
                    let h = super::hash::hash_2words(i as u32, hash);
                    if best.is_none_or(|(bh, _)| h > bh) {
                        best = Some((h, p));
                    }
                }
            }
            best.map(|(_, p)| p).unwrap_or(OFPP_NONE)
        }
    };
    match &b.dst {
        Some(dst) => {
            let v = flow::MfValue::from_u64(dst.field.def().n_bytes, u64::from(port));
            super::fields::unwildcard_subfield(&mut ctx.wc, dst);
            dst.write(&mut ctx.flow, &v);
            engine::report_subfield(ctx, dst);
        }
        None => {
            if port != OFPP_NONE {
                output_action(ctx, port, 0, false, last, false, group_bucket);
            } else {
                ctx.report(NodeKind::Detail, || "no live bundle members".into());
            }
        }
    }
}

/// Whether a bundle may use `port`.
fn member_enabled(ctx: &Ctx, port: u32) -> bool {
    match port {
        OFPP_IN_PORT | OFPP_TABLE | OFPP_NORMAL | OFPP_FLOOD | OFPP_ALL | OFPP_NONE => true,
        OFPP_CONTROLLER => false,
        p => port_is_live(ctx, p),
    }
}

/// Adds actions to the action set (`write_actions`).
pub(crate) fn write_actions(ctx: &mut Ctx, acts: &[OfpAction]) {
    if !ctx.action_set_has_group {
        for a in acts {
            match a {
                OfpAction::Output(o) => ctx.flow.actset_output = u32::from(o.port.0),
                OfpAction::Group(_) => {
                    ctx.flow.actset_output = OFPP_UNSET;
                    ctx.action_set_has_group = true;
                    break;
                }
                _ => {}
            }
        }
    }
    ctx.action_set.extend_from_slice(acts);
}

fn kind_of(a: &OfpAction) -> u8 {
    match a {
        OfpAction::StripVlan { .. } => 1,
        OfpAction::PopMpls { .. } => 2,
        OfpAction::Decap { .. } => 3,
        OfpAction::Encap(_) => 4,
        OfpAction::PushMpls { .. } => 5,
        OfpAction::PushVlan { .. } => 6,
        OfpAction::DecTtl { .. } => 7,
        OfpAction::DecMplsTtl => 8,
        OfpAction::DecNshTtl => 9,
        OfpAction::SetQueue(_) => 11,
        OfpAction::Group(_) => 12,
        OfpAction::Output(_) => 13,
        OfpAction::Resubmit(_) => 14,
        OfpAction::Ct(_) => 15,
        _ => 0,
    }
}

fn is_set_or_move(a: &OfpAction) -> bool {
    matches!(
        a,
        OfpAction::SetField(_)
            | OfpAction::RegMove(_)
            | OfpAction::SetEthDst(_)
            | OfpAction::SetEthSrc(_)
            | OfpAction::SetIpDscp(_)
            | OfpAction::SetIpEcn(_)
            | OfpAction::SetIpTtl(_)
            | OfpAction::SetIpv4Dst(_)
            | OfpAction::SetIpv4Src(_)
            | OfpAction::SetL4DstPort { .. }
            | OfpAction::SetL4SrcPort { .. }
            | OfpAction::SetMplsLabel(_)
            | OfpAction::SetMplsTc(_)
            | OfpAction::SetMplsTtl(_)
            | OfpAction::SetTunnel { .. }
            | OfpAction::SetVlanPcp { .. }
            | OfpAction::SetVlanVid { .. }
    )
}

/// The action set as an action list, in OpenFlow's order.
pub(crate) fn action_set_order(set: &[OfpAction]) -> Vec<OfpAction> {
    let mut out = Vec::new();
    let last_of = |k: u8, out: &mut Vec<OfpAction>| -> bool {
        if let Some(a) = set.iter().rev().find(|a| kind_of(a) == k) {
            out.push(a.clone());
            true
        } else {
            false
        }
    };
    for k in [1, 2, 3, 4, 5, 6, 7, 8, 9] {
        last_of(k, &mut out);
    }
    out.extend(set.iter().filter(|a| is_set_or_move(a)).cloned());
    last_of(11, &mut out);
    if !last_of(12, &mut out)
        && !last_of(13, &mut out)
        && !last_of(14, &mut out)
        && !last_of(15, &mut out)
    {
        out.clear();
    }
    out
}

/// Runs the action set at the end of the pipeline.
pub(crate) fn xlate_action_set(ctx: &mut Ctx) {
    let list = action_set_order(&ctx.action_set);
    ctx.action_set.clear();
    if !list.is_empty() {
        ctx.in_action_set = true;
        let back = ctx.descend(NodeKind::Table, || "--. Executing action set:".into());
        engine::do_actions(ctx, &list, true, false);
        ctx.restore(back);
        ctx.in_action_set = false;
    }
}
