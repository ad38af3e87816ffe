//! Freezing translation for recirculation, and the conntrack action that
//! most often needs it: `ct(...)` emits the datapath `ct(...)` (with the
//! mark/label its nested actions set, helper and NAT), and with `table=N`
//! forks the pipeline to resume in table N after `recirc(id)`.

use flow::actions::{Ct, Nat, NatAddrRange, NX_CT_F_COMMIT, NX_CT_F_FORCE};
use flow::actions::{
    NX_NAT_F_DST, NX_NAT_F_PERSISTENT, NX_NAT_F_PROTO_HASH, NX_NAT_F_PROTO_RANDOM, NX_NAT_F_SRC,
};
use flow::odp::actions::{CtAction, CtNat, NatKind, OdpAction};
use packet::Flow;

use super::engine::{self, Ctx};
use super::recirc::{FrozenMetadata, FrozenState};
use super::report::NodeKind;
use super::{CtRecirc, XlateError};

/// Clears the connection-tracking fields of a flow.
pub fn clear_conntrack(f: &mut Flow) {
    f.ct_state = 0;
    f.ct_zone = 0;
    f.ct_mark = 0;
    f.ct_label = 0;
    f.ct_nw_proto = 0;
    f.ct_nw_src = 0;
    f.ct_nw_dst = 0;
    f.ct_ipv6_src = [0; 16];
    f.ct_ipv6_dst = [0; 16];
    f.ct_tp_src = 0;
    f.ct_tp_dst = 0;
}

/// Freezes what remains under a new recirculation id resuming at `table`
/// and emits `recirc(id)`; returns the id (0 on failure).
pub(super) fn finish_freezing_at(ctx: &mut Ctx, table: u8) -> u32 {
    let state = FrozenState {
        bridge: ctx.br.name.clone(),
        table_id: table,
        metadata: FrozenMetadata::from_flow(&ctx.flow),
        stack: ctx.stack.clone(),
        conntracked: ctx.conntracked,
        was_mpls: ctx.was_mpls,
        mirrors: ctx.mirrors,
        actions: ctx.frozen_actions.clone(),
        action_set: ctx.action_set.clone(),
        userdata: ctx
            .pause
            .as_ref()
            .map(|c| c.userdata.clone())
            .unwrap_or_default(),
    };
    let id = super::recirc::alloc(state);
    if id == 0 {
        ctx.report_error(|| "Failed to allocate recirculation id".into());
        ctx.error = Some(XlateError::NoRecirculationContext);
        return 0;
    }
    if let Some(c) = ctx.pause.clone() {
        // As upstream's: the continuation goes to the controller whenever
        // there is a packet to continue (even in a trace of one), and a
        // translation of a flow without a packet (a trace of a flow
        // string) emits nothing for it; the revalidator keeps it.
        if ctx.packet.is_none() && !ctx.revalidation {
            ctx.cancel_freeze();
            return id;
        }
        super::output::put_controller_userspace(
            ctx,
            false,
            true,
            id,
            c.max_len,
            c.reason as u16,
            c.controller_id,
        );
    } else {
        ctx.odp.push(OdpAction::Recirc(id));
    }
    ctx.cancel_freeze();
    id
}

/// Ends a freeze triggered during translation (after committing).
pub(super) fn finish_freezing(ctx: &mut Ctx) {
    ctx.commit();
    finish_freezing_at(ctx, 0);
}

fn nat_to_odp(n: &Nat) -> CtNat {
    let kind = if n.flags & NX_NAT_F_SRC != 0 {
        Some(NatKind::Src)
    } else if n.flags & NX_NAT_F_DST != 0 {
        Some(NatKind::Dst)
    } else {
        None
    };
    let addrs = match &n.addr {
        NatAddrRange::None => None,
        NatAddrRange::V4 { min, max } => Some((
            (*min).into(),
            (!max.is_unspecified()).then(|| (*max).into()),
        )),
        NatAddrRange::V6 { min, max } => Some((
            (*min).into(),
            (!max.is_unspecified()).then(|| (*max).into()),
        )),
    };
    let ports = if n.proto_min != 0 {
        Some((
            n.proto_min,
            if n.proto_max != 0 {
                Some(n.proto_max)
            } else {
                None
            },
        ))
    } else {
        None
    };
    CtNat {
        kind,
        addrs,
        ports,
        persistent: n.flags & NX_NAT_F_PERSISTENT != 0,
        hash: n.flags & NX_NAT_F_PROTO_HASH != 0,
        random: n.flags & NX_NAT_F_PROTO_RANDOM != 0,
    }
}

/// `ct(...)`.
pub(super) fn conntrack_action(ctx: &mut Ctx, ct: &Ct, last: bool) {
    let zone = match &ct.zone_src {
        Some(sf) => {
            let v = sf.read(&ctx.flow).to_u64() as u16;
            let frozen_md = ctx.thawed
                && (sf.field.reg_index().is_some()
                    || sf.field == flow::FieldId::Metadata
                    || sf.field == flow::FieldId::InPort);
            if !frozen_md {
                super::fields::unwildcard_subfield(&mut ctx.wc, sf);
            }
            v
        }
        None => ct.zone_imm,
    };
    let old_mark_mask = ctx.wc.ct_mark;
    let old_label_mask = ctx.wc.ct_label;
    ctx.commit();
    ctx.ct_nat = None;
    ctx.wc.ct_mark = 0;
    ctx.wc.ct_label = 0;
    engine::do_actions(ctx, &ct.actions, last, false);

    let mut a = CtAction {
        commit: ct.flags & NX_CT_F_COMMIT != 0 && ct.flags & NX_CT_F_FORCE == 0,
        force_commit: ct.flags & NX_CT_F_COMMIT != 0 && ct.flags & NX_CT_F_FORCE != 0,
        zone: if zone != 0 { Some(zone) } else { None },
        ..Default::default()
    };
    if ctx.wc.ct_mark != 0 {
        a.mark = Some((ctx.flow.ct_mark & ctx.wc.ct_mark, ctx.wc.ct_mark));
    }
    if ctx.wc.ct_label != 0 {
        a.label = Some((ctx.flow.ct_label & ctx.wc.ct_label, ctx.wc.ct_label));
    }
    a.helper = match ct.alg {
        21 => Some("ftp".into()),
        69 => Some("tftp".into()),
        _ => None,
    };
    a.nat = ctx.ct_nat.as_ref().map(nat_to_odp);
    ctx.odp.push(OdpAction::Ct(a));
    ctx.wc.ct_mark = old_mark_mask;
    ctx.wc.ct_label = old_label_mask;

    if ct.recirc_table != 255 {
        ctx.conntracked = true;
        let table = ct.recirc_table;
        ctx.freezing = true;
        let flow_at_ct = ctx.flow;
        let nat = ctx.ct_nat.clone();
        let id = finish_freezing_at(ctx, table);
        if id != 0 && ctx.trace.is_some() {
            ctx.ct_recircs.push(CtRecirc {
                flow: flow_at_ct,
                recirc_id: id,
                zone,
                nat,
            });
            ctx.report(NodeKind::Detail, || {
                format!(
                    "A clone of the packet is forked to recirculate. The forked pipeline will be resumed at table {table}."
                )
            });
        }
    }
    ctx.ct_nat = None;
    clear_conntrack(&mut ctx.flow);
    ctx.report(NodeKind::Detail, || {
        "Sets the packet to an untracked state, and clears all the conntrack fields.".into()
    });
    ctx.conntracked = false;
}
