//! Field writes with megaflow bookkeeping: set-field/load (only when the
//! packet has the field), move, stack push/pop, delete_field, and the
//! helpers that mark fields examined in the megaflow mask.

use flow::actions::SetField;
use flow::{FieldId, MfValue, Prereq, Subfield};
use packet::Flow;

use super::engine::Ctx;
use super::report::NodeKind;

/// ORs `mask` into `field`'s bits of the megaflow mask `wc`
/// (upstream's `mf_mask_field_masked`).
pub fn mask_field(wc: &mut Flow, field: FieldId, mask: &MfValue) {
    let mut m = *mask;
    if field == FieldId::DlVlan {
        let mut t = MfValue::zero(m.len());
        let b = m.as_bytes();
        let v = (u16::from_be_bytes([
            b.first().copied().unwrap_or(0),
            b.get(1).copied().unwrap_or(0),
        ])) & 0x0fff;
        let n = t.len().min(2);
        t.as_bytes_mut()[..n].copy_from_slice(&v.to_be_bytes()[..n]);
        m = t;
    }
    let cur = field.get(wc);
    field.set(wc, &cur.or(&m));
    // The flow keeps only the label's 20 bits (a full mask of the 32-bit
    // field becomes 0xfffff, as upstream's megaflows show).
    if field == FieldId::Ipv6Label {
        wc.ipv6_label &= 0x000f_ffff;
    }
}

/// Marks all bits of `sf` examined.
pub fn unwildcard_subfield(wc: &mut Flow, sf: &Subfield) {
    mask_field(wc, sf.field, &sf.mask());
}

/// Whether the packet has `field`, marking the fields that decided it
/// (upstream's `mf_are_prereqs_ok` with a mask).
pub fn prereqs_ok(field: FieldId, flow: &Flow, wc: &mut Flow) -> bool {
    let p = field.def().prereqs;
    let is_ip = flow.dl_type == 0x0800 || flow.dl_type == 0x86dd;
    // Upstream unwildcards nw_proto whenever it checks an L4 protocol of an
    // IP packet.
    if matches!(
        p,
        Prereq::Tcp
            | Prereq::Udp
            | Prereq::Sctp
            | Prereq::Icmpv4
            | Prereq::Icmpv6
            | Prereq::Nd
            | Prereq::NdSolicit
            | Prereq::NdAdvert
    ) && is_ip
    {
        wc.nw_proto = 0xff;
    }
    if matches!(p, Prereq::Nd | Prereq::NdSolicit | Prereq::NdAdvert)
        && flow.dl_type == 0x86dd
        && flow.nw_proto == 58
    {
        wc.tp_src |= 0xff;
        wc.tp_dst |= 0xff;
    }
    if p == Prereq::VlanVid {
        wc.vlans[0].tci |= super::commit::VLAN_CFI;
    }
    p.is_ok(flow, None)
}

/// Whether writing `field` touches L3 or higher headers.
pub fn is_l3_or_higher(field: FieldId) -> bool {
    !matches!(
        field.def().prereqs,
        Prereq::None | Prereq::Ethernet | Prereq::VlanVid | Prereq::Mpls
    )
}

/// Whether setting `field` in `flow` makes the megaflow depend on the IP
/// protocol (ARP opcode) byte, as upstream's set-field does: the IPv4 and
/// IPv6 addresses, flow label, DSCP (not its shifted OpenFlow 1.2+ form
/// `ip_dscp`), ECN and TTL of an IP packet, and the fields of an ARP (not
/// RARP) packet.
fn sets_l3_prereq(field: FieldId, flow: &Flow) -> bool {
    use FieldId::*;
    let ip = flow.dl_type == 0x0800 || flow.dl_type == 0x86dd;
    (ip && matches!(
        field,
        Ipv4Src | Ipv4Dst | Ipv6Src | Ipv6Dst | Ipv6Label | IpDscp | IpEcn | IpTtl
    )) || (flow.dl_type == 0x0806 && matches!(field, ArpOp | ArpSha | ArpTha | ArpSpa | ArpTpa))
}

/// Lays the flow's and the megaflow mask's tunnel metadata out as the
/// bridge's TLV map does before a write to a `tun_metadataN` field:
/// upstream keeps a flow's options where the bridge's tunnel table puts
/// them, so a write reaches every byte of the mapped option, not only
/// those of the value that first set it, and later lookups compare with
/// the rules' matches.  Unmapped fields are left as they are.
pub fn locate_tun_metadata(ctx: &mut Ctx, field: FieldId) {
    let Some(i) = field.tun_metadata_index() else {
        return;
    };
    let layout = ctx.br.tun_layout();
    if layout.slot(i).is_none() {
        return;
    }
    layout.apply(&mut ctx.flow.tunnel.metadata);
    layout.apply(&mut ctx.wc.tunnel.metadata);
}

/// `set_field` / `load`.
pub fn set_field(ctx: &mut Ctx, sf: &SetField) {
    let field = sf.field;
    locate_tun_metadata(ctx, field);
    if !prereqs_ok(field, &ctx.flow, &mut ctx.wc) {
        let name = field.name();
        ctx.report(NodeKind::Warn, || {
            format!("unmet prerequisites for {name}, set_field ignored")
        });
        return;
    }
    if sets_l3_prereq(field, &ctx.flow) {
        ctx.wc.nw_proto = 0xff;
    }
    let value = MfValue::from_bytes(&sf.value);
    let mask = MfValue::from_bytes(&sf.mask);
    mask_field(&mut ctx.wc, field, &mask);
    let cur = field.get(&ctx.flow);
    let new = cur.and(&mask.not()).or(&value.and(&mask));
    field.set(&mut ctx.flow, &new);
}

/// `move:src->dst`.
pub fn reg_move(ctx: &mut Ctx, src: &Subfield, dst: &Subfield) {
    let bits = src.read(&ctx.flow);
    locate_tun_metadata(ctx, dst.field);
    unwildcard_subfield(&mut ctx.wc, src);
    unwildcard_subfield(&mut ctx.wc, dst);
    dst.write(&mut ctx.flow, &bits);
}

/// `push:src`.
pub fn stack_push(ctx: &mut Ctx, sf: &Subfield) {
    unwildcard_subfield(&mut ctx.wc, sf);
    let v = sf.read(&ctx.flow);
    ctx.stack.push(v);
}

/// `pop:dst`.
pub fn stack_pop(ctx: &mut Ctx, sf: &Subfield) -> bool {
    match ctx.stack.pop() {
        Some(v) => {
            locate_tun_metadata(ctx, sf.field);
            unwildcard_subfield(&mut ctx.wc, sf);
            sf.write(&mut ctx.flow, &v);
            true
        }
        None => {
            ctx.report_error(|| "stack underflow".into());
            false
        }
    }
}

/// `delete_field:field` (tunnel metadata only).
pub fn delete_field(ctx: &mut Ctx, field: FieldId) {
    if let Some(i) = field.tun_metadata_index() {
        ctx.flow.tunnel.metadata.present &= !(1u64 << i);
        ctx.wc.tunnel.metadata.present |= 1u64 << i;
        let name = field.name();
        ctx.report(NodeKind::Detail, || format!("delete {name}"));
    }
}

#[cfg(test)]
mod tests {
    use crate::tlv::TlvMapping;
    use crate::xlate::{xlate, NoBridges, XlateIn};
    use crate::Ofproto;
    use flow::FieldId;

    /// The OVN egress: the logical output port set into a 4-byte option,
    /// then the logical input port moved above it (bits 16..30).
    fn egress(mapped: bool) -> u64 {
        let mut o = Ofproto::new("br0", 1);
        if mapped {
            o.tlv_map.push(TlvMapping {
                option_class: 0x102,
                option_type: 0x80,
                option_len: 4,
                index: 0,
            });
            o.tun_layout = crate::tlv::layout_for(&o.tun_layout, &o.tlv_map).unwrap();
        }
        let mut warnings = Vec::new();
        let acts = flow::actions::parse_actions(
            "set_field:0x8000->tun_metadata0,move:NXM_NX_REG14[0..14]->NXM_NX_TUN_METADATA0[16..30]",
            None,
            &mut warnings,
        )
        .unwrap();
        let mut input = XlateIn {
            ofpacts: Some(&acts.actions),
            ..Default::default()
        };
        input.flow.regs[14] = 2;
        let out = xlate(&o, &NoBridges, input);
        assert_eq!(
            out.final_flow.tunnel.metadata.len[0],
            if mapped { 4 } else { 2 }
        );
        FieldId::TunMetadata0.get(&out.final_flow).to_u64()
    }

    #[test]
    fn writes_reach_the_whole_mapped_option() {
        assert_eq!(egress(true), 0x28000);
        // Without a mapping the option has the bytes its first value needed.
        assert_eq!(egress(false), 0x8000);
    }
}
