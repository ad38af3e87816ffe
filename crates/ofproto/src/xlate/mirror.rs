//! Mirroring during translation: a packet becomes eligible for a bridge's
//! mirrors ([`crate::mirror`]) when it arrives (the input port's source
//! mirrors, just before the pipeline runs) and each time it is output (the
//! output port's destination mirrors, just after the output), and is
//! copied then, as the flow is at that point, to each selected mirror's
//! destination: its output port, or every port carrying its output VLAN
//! (not the mirrors' output ports, not for reserved destinations, not when
//! the packet is already in that VLAN). A destination gets one copy per
//! packet (`Ctx::mirrors` remembers the mirrors used, also across
//! recirculation; a patch port's peer bridge starts afresh with its own
//! mirrors, without mirroring the packet's arrival through the patch); copies go out as NORMAL sends them (the
//! destination port's VLAN rules) and are truncated to the mirror's
//! `snaplen`. The mirror that sends a copy counts the packet.

use crate::mirror::MirrorMask;
use crate::port::OfPort;
use crate::vlan::PortVlan;
use crate::vlan::Xvlan;

use super::engine::Ctx;

/// The name of the input port when it is reserved for mirror output
/// (such packets are dropped before the pipeline).
pub(crate) fn input_reserved(ctx: &Ctx) -> Option<String> {
    if ctx.br.mirrors.is_empty() {
        return None;
    }
    let p = ctx.br.port(ctx.flow.in_port)?;
    (ctx.br.mirrors.mirror_out(&p.name) != 0).then(|| p.name.clone())
}

/// Whether `port` is reserved for mirror output.
pub(crate) fn is_mirror_out(ctx: &Ctx, port: &OfPort) -> bool {
    !ctx.br.mirrors.is_empty() && ctx.br.mirrors.mirror_out(&port.name) != 0
}

/// Mirrors the arriving packet (the input port's source mirrors).
pub(crate) fn ingress(ctx: &mut Ctx) {
    if ctx.br.mirrors.is_empty() {
        return;
    }
    let Some(p) = ctx.br.port(ctx.flow.in_port).cloned() else {
        let n = ctx.flow.in_port;
        ctx.report_error(|| format!("received packet on unknown port {n}"));
        return;
    };
    let mask = ctx.br.mirrors.src_mirrors(&p.name);
    mirror_packet(ctx, &p, mask);
}

/// Mirrors the packet just output to `port` (its destination mirrors).
pub(crate) fn egress(ctx: &mut Ctx, port: u32) {
    if ctx.br.mirrors.is_empty() {
        return;
    }
    let Some(p) = ctx.br.port(port).cloned() else {
        return;
    };
    let mask = ctx.br.mirrors.dst_mirrors(&p.name);
    mirror_packet(ctx, &p, mask);
}

/// Sends copies of the packet, seen on `port`, to the destinations of
/// `mirrors` not used yet.
fn mirror_packet(ctx: &mut Ctx, port: &OfPort, mirrors: MirrorMask) {
    let pv = PortVlan::of(port);
    let in_x = Xvlan::extract(&ctx.flow);
    if let Err(msg) = pv.input_vid_check(in_x.v[0].vid, &port.name) {
        ctx.report_error(|| msg);
        return;
    }
    let mut x = pv.input_translate(&in_x);
    let mut mirrors = mirrors & !ctx.mirrors;
    if mirrors == 0 {
        return;
    }
    let br = ctx.br;
    while mirrors != 0 {
        let idx = mirrors.trailing_zeros() as usize;
        let Some(m) = br.mirrors.get(idx) else {
            mirrors &= mirrors - 1;
            continue;
        };
        if m.settings.vlans.is_some() {
            ctx.wc.vlans[0].tci |= 0x1fff;
        }
        if !m.selects_vlan(x.v[0].vid) {
            mirrors &= mirrors - 1;
            continue;
        }
        // The mirror that sends counts the packet (not the others with
        // the same destination, nor those whose VLANs did not match).
        ctx.mirror_stats.push(m.counters.clone());
        ctx.mirrors |= m.dup_mirrors;
        ctx.mirror_snaplen = m.settings.snaplen;
        if let Some(out) = &m.settings.out {
            if let Some(op) = br.ports().find(|p| p.name == *out) {
                crate::normal::output_normal(ctx, op, &x);
            }
        } else if let Some(out_vlan) = m.settings.out_vlan {
            if x.v[0].vid != out_vlan && !crate::normal::is_reserved(&ctx.flow.dl_dst) {
                let old = x.v[0].vid;
                x.v[0].vid = out_vlan;
                for p in br.ports() {
                    if PortVlan::of(p).includes(&x) && !is_mirror_out(ctx, p) {
                        crate::normal::output_normal(ctx, p, &x);
                    }
                }
                x.v[0].vid = old;
            }
        }
        mirrors &= !ctx.mirrors;
        ctx.mirror_snaplen = 0;
    }
}
