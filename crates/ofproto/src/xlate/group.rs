//! Group actions: `all` and `indirect` run every bucket on a copy of the
//! packet, `fast_failover` the first live bucket, `select` one live bucket
//! chosen by `dp_hash` (after a `hash` + recirculation, upstream's default
//! when the buckets fit 64 hash values), by the symmetric L4 hash, or by
//! hashing the configured fields.  Buckets are action sets.

use std::sync::Arc;

use flow::odp::actions::{OdpAction, HASH_ALG_L4, HASH_ALG_SYM_L4};

use super::engine::{self, Ctx};
use super::report::NodeKind;
use crate::group::{Bucket, Group, GT_ALL, GT_FF, GT_INDIRECT, GT_SELECT};

const MAX_LIVENESS_RECURSION: u32 = 32;
const OFPG_ANY: u32 = 0xffff_ffff;

/// `group:id`; true if the group does not exist (the rest of the action
/// list is then skipped, as upstream).
pub(super) fn group_action(ctx: &mut Ctx, group_id: u32, last: bool) -> bool {
    if ctx.depth >= engine::MAX_DEPTH {
        ctx.report_error(|| format!("over max translation depth {}", engine::MAX_DEPTH));
        ctx.error = Some(super::XlateError::RecursionTooDeep);
        return false;
    }
    let Some(g) = ctx.br.group(group_id) else {
        ctx.report(NodeKind::Warn, || {
            format!("output to nonexistent group {group_id}")
        });
        return true;
    };
    let was_in_group = ctx.in_group;
    ctx.in_group = true;
    match g.type_ {
        GT_ALL | GT_INDIRECT => {
            let n = g.buckets.len();
            for (i, b) in g.buckets.iter().enumerate() {
                group_bucket(ctx, b, last && i + 1 == n);
            }
            ctx.group_stats.push((g.clone(), None));
        }
        GT_FF => match first_live_bucket(ctx, &g, 0) {
            Some(b) => {
                let id = b.bucket_id;
                ctx.report(NodeKind::Detail, || format!("using bucket {id}"));
                group_bucket(ctx, &b, last);
                ctx.group_stats.push((g.clone(), Some(b)));
            }
            None => ctx.report(NodeKind::Detail, || "no live bucket".into()),
        },
        GT_SELECT => match pick_select_bucket(ctx, &g) {
            Some(b) => {
                let id = b.bucket_id;
                ctx.report(NodeKind::Detail, || format!("using bucket {id}"));
                group_bucket(ctx, &b, last);
                ctx.group_stats.push((g.clone(), Some(b)));
            }
            None => ctx.report(NodeKind::Detail, || "no live bucket".into()),
        },
        _ => {}
    }
    ctx.in_group = was_in_group;
    false
}

fn watch_port(p: u32) -> Option<u32> {
    match p {
        0xffff | 0xffff_ffff => None,
        p if p >= 0xffff_ff00 => Some(p - 0xffff_0000),
        p => Some(p),
    }
}

fn bucket_is_alive(ctx: &mut Ctx, g: &Group, b: &Bucket, depth: u32) -> bool {
    if depth >= MAX_LIVENESS_RECURSION {
        ctx.report_error(|| format!("bucket chaining exceeded {MAX_LIVENESS_RECURSION} links"));
        return false;
    }
    let id = b.bucket_id;
    if g.type_ == GT_SELECT && b.weight == 0 {
        ctx.report(NodeKind::Detail, || {
            // (Upstream's text stops there, trailing space included.)
            format!("bucket {id}: not live due to ")
        });
        return false;
    }
    if let Some(p) = watch_port(b.watch_port) {
        if !super::output::port_is_live(ctx, p) {
            ctx.report(NodeKind::Detail, || {
                format!("bucket {id}: not live due to port {p}")
            });
            return false;
        }
    }
    if b.watch_group != OFPG_ANY {
        let wg = b.watch_group;
        let alive = match ctx.br.group(wg) {
            Some(g2) => first_live_bucket(ctx, &g2, depth + 1).is_some(),
            None => false,
        };
        if !alive {
            ctx.report(NodeKind::Detail, || {
                format!("bucket {id}: not live due to group {wg}")
            });
            return false;
        }
    }
    true
}

fn first_live_bucket(ctx: &mut Ctx, g: &Group, depth: u32) -> Option<Arc<Bucket>> {
    for b in &g.buckets {
        if bucket_is_alive(ctx, g, b, depth) {
            return Some(b.clone());
        }
    }
    None
}

/// The live bucket with the best `hash_int(bucket_id, basis)` score
/// (scaled by its weight; the last of equal scores), each score reported.
fn best_live_bucket(ctx: &mut Ctx, g: &Group, basis: u32) -> Option<Arc<Bucket>> {
    let mut best: Option<Arc<Bucket>> = None;
    let mut best_score = 0u32;
    for b in &g.buckets {
        if bucket_is_alive(ctx, g, b, 0) {
            let score = (super::hash::hash_int(b.bucket_id, basis) & 0xffff)
                .wrapping_mul(u32::from(b.weight));
            if score >= best_score {
                best = Some(b.clone());
                best_score = score;
            }
            let id = b.bucket_id;
            ctx.report(NodeKind::Detail, || format!("bucket {id}: score {score}"));
        }
    }
    best
}

/// How a select group picks, as upstream decides from its properties.
enum Method {
    Default,
    Hash,
    DpHash {
        alg: u32,
        basis: u32,
        map: Vec<usize>,
    },
}

/// The buckets `dp_hash` selection was set up from.
fn method_buckets(g: &Group) -> &[Arc<Bucket>] {
    g.method_buckets.as_deref().unwrap_or(&g.buckets)
}

/// The hash table of `dp_hash` selection (slot → index in
/// [`method_buckets`]), if the buckets' weights allow one.
fn dp_hash_table(g: &Group, max_hash: u64) -> Option<Vec<usize>> {
    let buckets = method_buckets(g);
    if buckets.is_empty() {
        return None;
    }
    let total: u64 = buckets.iter().map(|b| u64::from(b.weight)).sum();
    if total == 0 {
        return None;
    }
    let min_weight = buckets
        .iter()
        .map(|b| b.weight)
        .filter(|w| *w > 0)
        .min()
        .unwrap_or(u16::MAX);
    let min_slots = total.div_ceil(u64::from(min_weight));
    let n_hash = min_slots.next_power_of_two().max(16);
    if n_hash > 256 || (max_hash != 0 && n_hash > max_hash) {
        return None;
    }
    let mut value: Vec<f64> = buckets.iter().map(|b| f64::from(b.weight)).collect();
    let mut divisor: Vec<u32> = vec![1; buckets.len()];
    let mut map = Vec::with_capacity(n_hash as usize);
    for _ in 0..n_hash {
        let mut w = 0;
        for i in 1..value.len() {
            if value[i] > value[w] {
                w = i;
            }
        }
        divisor[w] += 2;
        value[w] = f64::from(buckets[w].weight) / f64::from(divisor[w]);
        map.push(w);
    }
    Some(map)
}

fn method(g: &Group) -> Method {
    match g.selection_method.as_str() {
        "" => match dp_hash_table(g, 64) {
            Some(map) => Method::DpHash {
                alg: HASH_ALG_SYM_L4,
                basis: 0,
                map,
            },
            None => Method::Default,
        },
        "dp_hash" => match dp_hash_table(g, 0) {
            Some(map) => {
                let mut alg = (g.selection_method_param >> 32) as u32;
                if alg > HASH_ALG_SYM_L4 {
                    alg = HASH_ALG_L4;
                }
                Method::DpHash {
                    alg,
                    basis: g.selection_method_param as u32,
                    map,
                }
            }
            None => Method::Default,
        },
        "hash" if !g.fields.is_empty() => Method::Hash,
        _ => Method::Default,
    }
}

fn pick_select_bucket(ctx: &mut Ctx, g: &Group) -> Option<Arc<Bucket>> {
    match method(g) {
        Method::Default => {
            let basis = super::hash::flow_hash_symmetric_l4(&ctx.flow, 0);
            super::hash::mask_hash_fields(
                &ctx.flow,
                &mut ctx.wc,
                flow::actions::HashFields::SymmetricL4,
            );
            best_live_bucket(ctx, g, basis)
        }
        Method::Hash => {
            let basis = super::hash::hash_group_fields(ctx, g);
            best_live_bucket(ctx, g, basis)
        }
        Method::DpHash { alg, basis, map } => {
            let dp_hash = ctx.flow.dp_hash;
            if dp_hash == 0 {
                ctx.commit();
                ctx.odp.push(OdpAction::Hash { alg, basis });
                ctx.trigger_freeze();
                return None;
            }
            let mask = map.len() as u32 - 1;
            ctx.wc.dp_hash |= mask;
            for i in 0..=mask {
                let b = method_buckets(g)[map[((dp_hash.wrapping_add(i)) & mask) as usize]].clone();
                if bucket_is_alive(ctx, g, &b, 0) {
                    return Some(b);
                }
            }
            None
        }
    }
}

/// Runs one bucket (an action set) on a copy of the packet.
fn group_bucket(ctx: &mut Ctx, b: &Bucket, last: bool) {
    let id = b.bucket_id;
    let back = ctx.descend(NodeKind::Bucket, || format!("bucket {id}"));
    let list = super::output::action_set_order(&b.actions);
    let old_flow = ctx.flow;
    let old_was_mpls = ctx.was_mpls;
    ctx.depth += 1;
    engine::do_actions(ctx, &list, last, true);
    ctx.depth -= 1;
    if ctx.freezing {
        super::freeze::finish_freezing(ctx);
    }
    ctx.flow = old_flow;
    ctx.was_mpls = old_was_mpls;
    ctx.exit = false;
    ctx.restore(back);
}
