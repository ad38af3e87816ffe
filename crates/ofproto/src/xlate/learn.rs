//! `learn(...)` and `fin_timeout(...)`: learning builds a flow from the
//! packet (match fields, loads, output) and hands it to the caller as a
//! side effect; translation itself only marks the source fields examined.
//! Both act only when side effects are allowed (an upcall, a packet-out,
//! `ofproto/trace -generate`).

use flow::actions::{
    Learn, LearnDst, LearnSrc, OfpAction, OfpPort, Output, SetField, SetFieldRaw,
    NX_LEARN_F_WRITE_RESULT,
};
use flow::{Match, MfValue};

use super::engine::{Ctx, OFPP_ALL, OFPP_FLOOD, OFPP_IN_PORT, OFPP_LOCAL, OFPP_MAX};
use super::report::NodeKind;
use super::{LearnedFlow, SideEffect};

const TCP_FIN: u16 = 0x001;
const TCP_RST: u16 = 0x004;

/// Builds the flow `learn` adds for the current packet.
pub(super) fn learn_execute(l: &Learn, f: &packet::Flow) -> LearnedFlow {
    let mut m = Match::catchall();
    let mut actions = Vec::new();
    if l.fin_idle_timeout != 0 || l.fin_hard_timeout != 0 {
        actions.push(OfpAction::FinTimeout {
            idle: l.fin_idle_timeout,
            hard: l.fin_hard_timeout,
        });
    }
    for spec in &l.specs {
        let n_bits = spec.n_bits as usize;
        let value = match &spec.src {
            LearnSrc::Field(sf) => sf.read(f),
            LearnSrc::Immediate(bytes) => {
                let mut v = MfValue::zero(16);
                let k = bytes.len().min(16);
                v.as_bytes_mut()[16 - k..].copy_from_slice(&bytes[bytes.len() - k..]);
                v
            }
        };
        let bit = |i: usize| value.bit(i);
        match &spec.dst {
            LearnDst::Match(dst) => {
                let mut bits = MfValue::zero(dst.field.def().n_bytes);
                for i in 0..n_bits.min(dst.n_bits) {
                    bits.set_bit(i, bit(i));
                }
                dst.write_match(&mut m, &bits);
                m.add_ethernet_prereq(dst.field);
            }
            LearnDst::Load(dst) => {
                let nb = dst.field.def().n_bytes;
                let mut v = MfValue::zero(nb);
                let mut mk = MfValue::zero(nb);
                for i in 0..n_bits.min(dst.n_bits) {
                    v.set_bit(dst.ofs + i, bit(i));
                    mk.set_bit(dst.ofs + i, true);
                }
                actions.push(OfpAction::SetField(SetField {
                    field: dst.field,
                    value: v.as_bytes().to_vec(),
                    mask: mk.as_bytes().to_vec(),
                    raw: SetFieldRaw::Load,
                    flow_has_vlan: false,
                }));
            }
            LearnDst::Output => {
                let high_zero = (16..128).all(|i| !bit(i));
                if n_bits <= 16 || high_zero {
                    let mut port = 0u32;
                    for i in 0..16 {
                        if bit(i) {
                            port |= 1 << i;
                        }
                    }
                    if port < OFPP_MAX
                        || port == OFPP_IN_PORT
                        || port == OFPP_FLOOD
                        || port == OFPP_LOCAL
                        || port == OFPP_ALL
                    {
                        actions.push(OfpAction::Output(Output {
                            port: OfpPort(port as u16),
                            max_len: 0,
                        }));
                    }
                }
            }
        }
    }
    LearnedFlow {
        table_id: l.table_id,
        match_: m,
        priority: l.priority,
        idle_timeout: l.idle_timeout,
        hard_timeout: l.hard_timeout,
        cookie: l.cookie,
        flags: l.flags,
        fin_idle_timeout: l.fin_idle_timeout,
        fin_hard_timeout: l.fin_hard_timeout,
        limit: l.limit,
        actions,
    }
}

/// `learn(...)`.
pub(super) fn learn_action(ctx: &mut Ctx, l: &Learn) {
    for spec in &l.specs {
        if let LearnSrc::Field(sf) = &spec.src {
            let part = flow::Subfield {
                field: sf.field,
                ofs: sf.ofs,
                n_bits: (spec.n_bits as usize).min(sf.n_bits),
            };
            super::fields::unwildcard_subfield(&mut ctx.wc, &part);
        }
    }
    if !ctx.allow_side_effects {
        if ctx.revalidation {
            // Upstream's revalidator translates through its translation
            // cache: nothing is learned, but `result_dst` says whether
            // learning would succeed (with a limit, only if the flow is
            // still in place as learned).
            let lf = learn_execute(l, &ctx.flow);
            let learned = lf.limit == 0 || ctx.br.learned_flow_in_place(&lf);
            write_result(ctx, l, learned);
        } else {
            ctx.report(NodeKind::Warn, || {
                "suppressing side effects, so learn action ignored".into()
            });
        }
        return;
    }
    let lf = learn_execute(l, &ctx.flow);
    if ctx.trace.is_some() {
        let mut s = format!("table={} ", lf.table_id);
        s.push_str(&flow::match_format::format_match(
            &lf.match_,
            flow::matches::OFP_DEFAULT_PRIORITY,
            None,
        ));
        while s.ends_with(' ') {
            s.pop();
        }
        s.push_str(&format!(" priority={}", lf.priority));
        if lf.cookie != 0 {
            s.push_str(&format!(" cookie={:#x}", lf.cookie));
        }
        if lf.idle_timeout != 0 {
            s.push_str(&format!(" idle={}", lf.idle_timeout));
        }
        if lf.hard_timeout != 0 {
            s.push_str(&format!(" hard={}", lf.hard_timeout));
        }
        if lf.flags & flow::actions::NX_LEARN_F_SEND_FLOW_REM != 0 {
            s.push_str(" send_flow_rem");
        }
        s.push_str(" actions=");
        s.push_str(&flow::actions::format_actions(&lf.actions));
        ctx.report(NodeKind::Detail, || s);
    }
    let learned = learn_outcome(ctx, &lf);
    if learned {
        if !ctx.br.learned_flow_in_place(&lf) {
            let now = ctx.br.now();
            ctx.learned.push(std::sync::Arc::new(crate::rule::Rule {
                match_: lf.match_,
                priority: lf.priority,
                table_id: lf.table_id,
                cookie: lf.cookie,
                actions: lf.actions.clone().into(),
                flags: 0,
                idle_timeout: std::sync::atomic::AtomicU16::new(lf.idle_timeout),
                hard_timeout: std::sync::atomic::AtomicU16::new(lf.hard_timeout),
                importance: 0,
                n_packets: Default::default(),
                n_bytes: Default::default(),
                used: std::sync::atomic::AtomicU64::new(now),
                created: now,
                modified: std::sync::atomic::AtomicU64::new(now),
            }));
        }
        ctx.side.push(SideEffect::Learn {
            bridge: ctx.br.name.clone(),
            flow: Box::new(lf),
        });
    }
    write_result(ctx, l, learned);
    if !learned {
        ctx.report(NodeKind::Detail, || "Limit exceeded, learn failed".into());
    }
}

/// `result_dst` (if the learn action has one) gets 1 if the flow was
/// learned (or already there), 0 if the limit refused it.
fn write_result(ctx: &mut Ctx, l: &Learn, learned: bool) {
    if l.flags & NX_LEARN_F_WRITE_RESULT != 0 {
        if let Some(dst) = &l.result_dst {
            let v = MfValue::from_u64(dst.field.def().n_bytes, u64::from(learned));
            super::fields::unwildcard_subfield(&mut ctx.wc, dst);
            dst.write(&mut ctx.flow, &v);
            super::engine::report_subfield(ctx, dst);
        }
    }
}

/// Whether learning `lf` succeeds: it does unless the learn action has a
/// `limit` and the flow is not already in place as learned while its
/// table already holds `limit` flows with its cookie (whoever added them;
/// flows this translation learned count too, as upstream adds them at
/// once). A refused flow is logged as upstream does.
fn learn_outcome(ctx: &Ctx, lf: &LearnedFlow) -> bool {
    if lf.limit == 0 || ctx.br.learned_flow_in_place(lf) {
        return true;
    }
    let same = |r: &crate::rule::Rule| {
        r.table_id == lf.table_id
            && r.priority == lf.priority
            && r.match_ == lf.match_
            && *r.actions == *lf.actions
            && r.cookie == lf.cookie
    };
    if ctx.learned.iter().any(|r| same(r)) {
        return true;
    }
    let n = ctx.br.rules_with_cookie(lf.table_id, lf.cookie)
        + ctx
            .learned
            .iter()
            .filter(|r| r.table_id == lf.table_id && r.cookie == lf.cookie)
            .count();
    if n < lf.limit as usize {
        return true;
    }
    // Upstream prints the cookie in network byte order as a number.
    static RL: vlog::RateLimit = vlog::RateLimit::new(1, 5);
    vlog::info_rl!(
        &RL,
        "ofproto",
        "Learn limit for flow {} reached.",
        lf.cookie.swap_bytes()
    );
    false
}

/// `fin_timeout(...)`.
pub(super) fn fin_timeout(ctx: &mut Ctx, idle: u16, hard: u16) {
    if !ctx.allow_side_effects {
        return;
    }
    if let Some(r) = ctx.rule.clone() {
        if ctx.orig_flow.tcp_flags & (TCP_FIN | TCP_RST) != 0 {
            ctx.side.push(SideEffect::FinTimeout {
                rule: r,
                idle,
                hard,
            });
        }
    }
}
