//! The generic `encap()` and `decap()` actions over the packet type: an
//! Ethernet frame loses its header (`decap()`, the flow becoming the
//! Ethertype's layer-3 packet type) and a layer-3 packet gains one with
//! zero addresses (`encap(ethernet)`).  Only the flow changes here; the
//! datapath's `pop_eth`/`push_eth` come from the next commit (see
//! [`super::commit`]), as upstream delays them.  The other encapsulations
//! (NSH, MPLS) and decapsulations of other packet types are refused with
//! the texts upstream gives for a packet type it cannot handle.

use super::engine::Ctx;
use super::report::NodeKind;
use super::XlateError;
use flow::actions::Encap;
use packet::extract::PT_ETH;

/// The packet type namespace of Ethertypes.
const OFPHTN_ETHERTYPE: u32 = 1;
/// Transparent Ethernet bridging: an Ethernet frame in an Ethertype's clothes.
const ETH_TYPE_TEB: u16 = 0x6558;
/// The VLAN CFI bit of a TCI: a tag is present.
const VLAN_CFI: u16 = 0x1000;

/// `(ns,type)` as upstream prints a packet type in messages.
fn packet_type_text(pt: u32) -> String {
    format!("({},{:#x})", pt >> 16, pt & 0xffff)
}

fn unsupported(ctx: &mut Ctx, text: String) {
    ctx.report(NodeKind::Action, || text);
    ctx.error = Some(XlateError::UnsupportedPacketType);
}

/// `decap()`: an Ethernet frame without VLAN tags becomes the layer-3
/// packet its Ethertype names.
pub(crate) fn decap(ctx: &mut Ctx) {
    let pt = ctx.flow.packet_type;
    if pt != PT_ETH {
        unsupported(
            ctx,
            format!(
                "Dropping packet as the decap() does not support packet type {}",
                packet_type_text(pt)
            ),
        );
        return;
    }
    if ctx.flow.vlans[0].tci & VLAN_CFI != 0 {
        unsupported(
            ctx,
            "Dropping packet, cannot decap Ethernet if VLAN is present.".into(),
        );
        return;
    }
    ctx.flow.packet_type = (OFPHTN_ETHERTYPE << 16) | u32::from(ctx.flow.dl_type);
    ctx.flow.dl_src = [0; 6];
    ctx.flow.dl_dst = [0; 6];
}

/// `encap(...)`: only `encap(ethernet)` of a layer-3 packet (not of a
/// TEB one) is translated; what the packet looked like before is committed
/// first, so that changes to the inner packet land inside the new header.
pub(crate) fn encap(ctx: &mut Ctx, e: &Encap) {
    if e.new_pkt_type != PT_ETH {
        unsupported(
            ctx,
            format!(
                "Dropping packet as encap({}) is not supported for packet type {}.",
                packet_type_text(e.new_pkt_type),
                packet_type_text(ctx.flow.packet_type)
            ),
        );
        return;
    }
    ctx.wc.packet_type = u32::MAX;
    let pt = ctx.flow.packet_type;
    if pt >> 16 != OFPHTN_ETHERTYPE || ctx.flow.dl_type == ETH_TYPE_TEB {
        unsupported(
            ctx,
            "Dropping packet as encap(ethernet) is not supported for packet type ethernet.".into(),
        );
        return;
    }
    ctx.commit();
    ctx.flow.packet_type = PT_ETH;
    ctx.flow.dl_src = [0; 6];
    ctx.flow.dl_dst = [0; 6];
    ctx.flow.dl_type = pt as u16;
}
