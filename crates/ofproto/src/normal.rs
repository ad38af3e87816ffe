//! The NORMAL action: a learning L2 switch with VLANs, as a standalone
//! Open vSwitch bridge behaves.  Each port is its own bundle; the input
//! VLAN is checked and translated ([`crate::vlan`]), the source MAC is
//! learned (only when side effects are allowed), and the frame goes to the
//! learned port or is flooded to every port carrying its VLAN (but not to
//! ports reserved for mirror output, whose own packets NORMAL drops).
//! Mirror copies go out through [`output_normal`] too.

use crate::port::OfPort;
use crate::vlan::{PortVlan, Xvlan};
use crate::xlate::engine_api::{compose_output, Ctx, NodeKind};

/// Reserved multicast destinations NORMAL never forwards (without
/// `forward-bpdu`).
pub(crate) fn is_reserved(mac: &[u8; 6]) -> bool {
    (mac[..5] == [0x01, 0x80, 0xc2, 0x00, 0x00] && mac[5] & 0xf0 == 0)
        || *mac == [0x01, 0x00, 0x0c, 0xcc, 0xcc, 0xcc]
        || *mac == [0x01, 0x00, 0x0c, 0xcc, 0xcc, 0xcd]
        || *mac == [0x01, 0x00, 0x0c, 0xcd, 0xcd, 0xcd]
        || *mac == [0x01, 0x00, 0x0c, 0x00, 0x00, 0x00]
}

fn port_name(p: &OfPort) -> String {
    p.name.clone()
}

/// Sends the frame out of `port` with the VLAN headers that port wants.
pub(crate) fn output_normal(ctx: &mut Ctx, port: &OfPort, x: &Xvlan) {
    let pv = PortVlan::of(port);
    let old = ctx.flow.vlans;
    let out = pv.output_translate(x);
    out.put(&mut ctx.flow);
    compose_output(ctx, port.ofp_port, false, false);
    ctx.flow.vlans = old;
}

/// Marks the fields examined to tell whether the frame is a gratuitous
/// ARP (a broadcast reply, or a broadcast request for its own sender
/// address), as upstream's check does.
fn mask_gratuitous_arp(ctx: &mut Ctx) {
    if ctx.flow.dl_type != 0x0806 {
        return;
    }
    ctx.wc.dl_dst = [0xff; 6];
    if ctx.flow.dl_dst != [0xff; 6] {
        return;
    }
    ctx.wc.nw_proto = 0xff;
    if ctx.flow.nw_proto == 1 {
        ctx.wc.nw_src = u32::MAX;
        ctx.wc.nw_dst = u32::MAX;
    }
}

/// `output:NORMAL`.
pub(crate) fn xlate_normal(ctx: &mut Ctx) {
    ctx.wc.dl_src = [0xff; 6];
    ctx.wc.dl_dst = [0xff; 6];
    ctx.wc.vlans[0].tci |= 0x0fff | 0x1000;

    let in_port = ctx.flow.in_port;
    let Some(inp) = ctx.br.port(in_port).cloned() else {
        ctx.report(NodeKind::Warn, || "no input bundle, dropping".into());
        return;
    };
    let dl_type = ctx.flow.dl_type;
    if (dl_type == 0x8100 || dl_type == 0x88a8 || dl_type == 0x9100)
        && ctx.flow.vlans[0].tci & 0x1000 == 0
    {
        if ctx.packet.is_some() {
            let n = port_name(&inp);
            ctx.report_error(|| {
                format!("dropping packet with partial VLAN tag received on port {n}")
            });
        }
        ctx.report(NodeKind::Warn, || "partial VLAN tag, dropping".into());
        return;
    }
    if crate::xlate::engine_api::is_mirror_out(ctx, &inp) {
        if ctx.packet.is_some() {
            let n = port_name(&inp);
            ctx.report_error(|| {
                format!("dropping packet received on port {n}, which is reserved exclusively for mirroring")
            });
        }
        ctx.report(NodeKind::Warn, || {
            "input port is mirror output port, dropping".into()
        });
        return;
    }
    let in_vlan = PortVlan::of(&inp);
    let in_x = Xvlan::extract(&ctx.flow);
    if let Err(msg) = in_vlan.input_vid_check(in_x.v[0].vid, &port_name(&inp)) {
        ctx.report_error(|| msg);
        ctx.report(NodeKind::Warn, || {
            "disallowed VLAN VID for this input port, dropping".into()
        });
        return;
    }
    let x = in_vlan.input_translate(&in_x);
    let vlan = x.v[0].vid;

    if is_reserved(&ctx.flow.dl_dst) {
        ctx.report(NodeKind::Detail, || {
            "packet has reserved destination MAC, dropping".into()
        });
        return;
    }

    // Whether this is a gratuitous ARP (which upstream's MAC learning
    // treats specially on bonds): the megaflow matches what decided it.
    mask_gratuitous_arp(ctx);

    let now = ctx.br.now() / 1000;
    let name = ctx.br.name.clone();
    // No learning on the bridge's flood VLANs: their frames are flooded.
    let ml = ctx
        .bridges
        .mac_learning(&name)
        .filter(|_| !ctx.br.flood_vlans.contains(&vlan));
    if ctx.allow_side_effects && ctx.flow.packet_type == 0 {
        if let Some(ml) = ml {
            let src = ctx.flow.dl_src;
            if ml.learn(src, vlan, in_port, now) {
                let n = port_name(&inp);
                ctx.report(NodeKind::Detail, || {
                    format!(
                        "learned that {} is on port {n} in VLAN {vlan}",
                        flow::value_str::format_eth(&src)
                    )
                });
            }
        }
    }

    let dst = ctx.flow.dl_dst;
    let learned = ml.and_then(|m| m.lookup(&dst, vlan, now));
    match learned {
        Some(p) => match ctx.br.port(p).cloned() {
            Some(out) if out.ofp_port != in_port => {
                ctx.report(NodeKind::Detail, || "forwarding to learned port".into());
                output_normal(ctx, &out, &x);
            }
            Some(_) => ctx.report(NodeKind::Detail, || {
                "learned port is input port, dropping".into()
            }),
            None => ctx.report(NodeKind::Warn, || {
                "learned port is unknown, dropping".into()
            }),
        },
        None => {
            ctx.report(NodeKind::Detail, || {
                "no learned MAC for destination, flooding".into()
            });
            let ports: Vec<OfPort> = ctx.br.ports().cloned().collect();
            for p in ports {
                if p.ofp_port == in_port {
                    continue;
                }
                let pv = PortVlan::of(&p);
                if pv.includes(&x)
                    && p.config & crate::xlate::engine_api::OFPPC_NO_FLOOD == 0
                    && !crate::xlate::engine_api::is_mirror_out(ctx, &p)
                {
                    output_normal(ctx, &p, &x);
                }
            }
        }
    }
}
