//! The revalidator (upstream's revalidator threads of ofproto-dpif-upcall):
//! keeps the datapaths' megaflows true to the OpenFlow tables and brings
//! their statistics back to the rules.
//!
//! One thread serves every userspace datapath of the daemon. A pass runs
//! every `other_config:max-revalidator` ms (500), and at once when a
//! bridge changes: the thread polls a fingerprint of every bridge (the
//! classifier version, bumped by every flow-table change including learned
//! flows; the groups; the mirrors; the ports and their configuration; the size of the
//! MAC table; the datapath port map) and a change starts a new
//! *generation*. A pass dumps each datapath's megaflows and, for each one:
//!
//! - deletes it when idle longer than `max-idle` (`other_config:max-idle`,
//!   10000 ms; 100 ms while the datapath holds more flows than the flow
//!   limit), or every flow when it holds more than twice the limit or a
//!   purge was asked for;
//! - re-translates it (xlate over every bridge, as an upcall is) when the
//!   generation changed since it was last checked, or when it carried
//!   packets since the last pass (which also refreshes MAC learning and
//!   applies `learn` and `fin_timeout` actions, as upstream's xlate cache
//!   does). A flow whose
//!   translation now needs more fields than its mask covers, goes to the
//!   slow path or fails, is deleted; one whose actions changed is
//!   modified in place;
//! - credits the packets and bytes it carried since the last pass to the
//!   OpenFlow rules its translation went through (and `used`, so rules'
//!   idle timeouts see datapath traffic). Deleted flows' last counters are
//!   credited too.
//!
//! The flow limit adapts as upstream's does: it starts at
//! min(`other_config:flow-limit`, 10000), shrinks when a dump takes more
//! than 1.3 s, grows by 1000 when dumps are fast and the datapath is near
//! it, never below 1000 nor above `flow-limit`; upcalls do not install
//! flows beyond it (the datapath checks).
//!
//! Commands: `upcall/show`, `upcall/set-flow-limit`,
//! `upcall/{enable,disable}-megaflows`, `upcall/{enable,disable}-ufid`,
//! `revalidator/wait`, `revalidator/purge`.

use crate::dpbackend::Datapaths;
use crate::upcall::{apply_side_effects, LockedBridges, Registry, SharedRegistry};
use datapath::{Dpif, DpifFlow, DpifNetdev, FlowStats};
use flow::odp::actions::OdpAction;
use flow::odp::Ufid;
use ofproto::xlate::{xlate, SideEffect, XlateIn};
use ofproto::Rule;
use packet::Flow;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::{Arc, Condvar, Mutex, Weak};
use std::time::{Duration, Instant};

/// `other_config:flow-limit` when absent.
pub const FLOW_LIMIT_DEFAULT: usize = 200_000;
/// `other_config:max-idle` when absent (ms).
pub const MAX_IDLE_DEFAULT: u64 = 10_000;
/// `other_config:max-revalidator` when absent (ms).
pub const MAX_REVALIDATOR_DEFAULT: u64 = 500;
/// The dynamic flow limit never goes below this.
const FLOW_LIMIT_FLOOR: usize = 1000;
/// Nor starts above this.
const FLOW_LIMIT_START: usize = 10_000;
/// How often the thread looks for bridge changes between passes.
const CHANGE_POLL: Duration = Duration::from_millis(20);
/// Flows re-translated per lock of the bridges (bounds how long OpenFlow
/// requests and upcalls wait on a pass).
const XLATE_BATCH: usize = 64;
/// The number `upcall/show` gives the revalidator thread (upstream prints
/// its thread id; on a machine like this one it is 4).
const THREAD_ID: u32 = 4;

/// `upcall/disable-megaflows` clears this: upcalls then install flows
/// matching every field of the packet.
pub static MEGAFLOWS_ENABLED: AtomicBool = AtomicBool::new(true);
/// `upcall/disable-ufid` clears this (shown by `upcall/show`).
pub static UFID_ENABLED: AtomicBool = AtomicBool::new(true);

/// The mask a megaflow is installed with, from translation's wildcards
/// `wc` for a packet with datapath key `key` (the datapath makes
/// `in_port` and `recirc_id` exact and keeps only the bits of attributes
/// the key has).
pub fn install_mask(wc: &Flow, key: &Flow) -> Flow {
    let mut m = if MEGAFLOWS_ENABLED.load(Relaxed) {
        *wc
    } else {
        flow::match_format::packet_wildcards(key)
    };
    m.in_port = u32::MAX;
    m.recirc_id = u32::MAX;
    flow::odp::normalize_mask(&m, key)
}

/// Counters the revalidator has already credited for one megaflow.
struct Ukey {
    stats: FlowStats,
    /// Datapath ms when the revalidator first saw the flow.
    created: u64,
    /// Rules of the last translation.
    rules: Vec<Arc<Rule>>,
    /// Generation of the last translation (0: never translated).
    generation: u64,
}

/// The revalidator's view of one datapath (upstream's udpif).
struct Udpif {
    ukeys: HashMap<Ufid, Ukey>,
    avg_n_flows: u64,
    max_n_flows: u64,
    dump_duration: u64,
    flow_limit: usize,
}

/// Limits from the database and `upcall/set-flow-limit`.
struct Settings {
    flow_limit: usize,
    max_idle: u64,
    max_revalidator: u64,
    /// The `other_config` values last applied (a value is applied when
    /// it changes, so `upcall/set-flow-limit` holds until then).
    applied: (Option<String>, Option<String>, Option<String>),
}

struct State {
    udpifs: BTreeMap<String, Udpif>,
    settings: Settings,
    generation: u64,
    fingerprint: u64,
}

#[derive(Default)]
struct Control {
    kick: bool,
    purge: bool,
    stop: bool,
    /// Passes started and finished.
    started: u64,
    finished: u64,
}

struct Shared {
    state: Mutex<State>,
    control: Mutex<Control>,
    cond: Condvar,
    registry: SharedRegistry,
    datapaths: Weak<Datapaths>,
}

/// The revalidator thread of a daemon. Dropping it stops the thread.
pub struct Revalidator {
    shared: Arc<Shared>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Revalidator {
    /// Starts revalidating the datapaths of `datapaths` against the
    /// bridges of `registry`.
    pub fn start(
        datapaths: Weak<Datapaths>,
        registry: SharedRegistry,
    ) -> std::io::Result<Revalidator> {
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                udpifs: BTreeMap::new(),
                settings: Settings {
                    flow_limit: FLOW_LIMIT_DEFAULT,
                    max_idle: MAX_IDLE_DEFAULT,
                    max_revalidator: MAX_REVALIDATOR_DEFAULT,
                    applied: (None, None, None),
                },
                generation: 1,
                fingerprint: 0,
            }),
            control: Mutex::new(Control::default()),
            cond: Condvar::new(),
            registry,
            datapaths,
        });
        let s = shared.clone();
        std::thread::Builder::new()
            .name("revalidator".into())
            .spawn(move || revalidator_main(s))?;
        Ok(Revalidator { shared })
    }

    /// Asks for a pass now.
    pub fn kick(&self) {
        lock(&self.shared.control).kick = true;
        self.shared.cond.notify_all();
    }

    /// Waits until a pass that started after this call has finished
    /// (false on timeout or when the thread is gone).
    pub fn wait(&self, purge: bool, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut c = lock(&self.shared.control);
        // A pass already running may have dumped before the request.
        let target = c.started + 1;
        c.kick = true;
        c.purge |= purge;
        self.shared.cond.notify_all();
        while c.finished < target && !c.stop {
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            c = match self.shared.cond.wait_timeout(c, deadline - now) {
                Ok((g, _)) => g,
                Err(e) => e.into_inner().0,
            };
        }
        c.finished >= target
    }

    /// `upcall/show` text.
    pub fn show(&self) -> String {
        let dps = match self.shared.datapaths.upgrade() {
            Some(d) => d.all(),
            None => Vec::new(),
        };
        let st = lock(&self.shared.state);
        let mut out = String::new();
        for dp in dps {
            let n_flows = dp.stats().n_flows;
            let (avg, max, dur, limit, keys) = match st.udpifs.get(Dpif::name(dp.as_ref())) {
                Some(u) => (
                    u.avg_n_flows,
                    u.max_n_flows,
                    u.dump_duration,
                    u.flow_limit,
                    u.ukeys.len(),
                ),
                None => (0, 0, 0, st.settings.flow_limit.min(FLOW_LIMIT_START), 0),
            };
            out.push_str(&format!("{}:\n", dp.full_name()));
            out.push_str(&format!(
                "  flows         : (current {n_flows}) (avg {avg}) (max {max}) (limit {limit})\n"
            ));
            out.push_str(&format!("  dump duration : {dur}ms\n"));
            out.push_str(&format!(
                "  ufid enabled : {}\n",
                UFID_ENABLED.load(Relaxed)
            ));
            out.push('\n');
            out.push_str(&format!("  {THREAD_ID}: (keys {keys})\n"));
        }
        out
    }

    /// `upcall/set-flow-limit`: the upper bound of the dynamic limit.
    pub fn set_flow_limit(&self, limit: usize) {
        lock(&self.shared.state).settings.flow_limit = limit;
        self.kick();
    }
}

impl Drop for Revalidator {
    fn drop(&mut self) {
        lock(&self.shared.control).stop = true;
        self.shared.cond.notify_all();
    }
}

fn revalidator_main(shared: Arc<Shared>) {
    let mut last_start: Option<Instant> = None;
    loop {
        // Wait for the period, a kick, or a change of the bridges.
        let purge = loop {
            let period = Duration::from_millis(lock(&shared.state).settings.max_revalidator);
            let due = last_start.is_none_or(|t| t.elapsed() >= period);
            {
                let mut c = lock(&shared.control);
                if c.stop {
                    return;
                }
                if c.kick || due {
                    c.kick = false;
                    c.started += 1;
                    break std::mem::take(&mut c.purge);
                }
                let wait = last_start
                    .map(|t| period.saturating_sub(t.elapsed()))
                    .unwrap_or_default()
                    .min(CHANGE_POLL);
                drop(
                    shared
                        .cond
                        .wait_timeout(c, wait)
                        .unwrap_or_else(|e| e.into_inner()),
                );
            }
            let reg = read_registry(&shared.registry);
            if fingerprint(&reg) != lock(&shared.state).fingerprint {
                let mut c = lock(&shared.control);
                c.started += 1;
                break std::mem::take(&mut c.purge);
            }
        };
        last_start = Some(Instant::now());
        let Some(dps) = shared.datapaths.upgrade() else {
            return;
        };
        let reg = read_registry(&shared.registry);
        pass(&shared, &dps.all(), &reg, purge);
        drop(dps);
        lock(&shared.control).finished += 1;
        shared.cond.notify_all();
    }
}

fn read_registry(r: &SharedRegistry) -> Registry {
    r.read().unwrap_or_else(|e| e.into_inner()).clone()
}

/// A hash of everything a translation depends on besides the flow.
fn fingerprint(reg: &Registry) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    reg.odp.hash(&mut h);
    for (name, e) in &reg.bridges {
        name.hash(&mut h);
        e.shared.with_ofproto_quiet(|o| {
            o.version().hash(&mut h);
            o.config.packet_in_on_miss.hash(&mut h);
            o.mirrors.fingerprint().hash(&mut h);
            o.flood_vlans.hash(&mut h);
            for g in o.groups_in_order() {
                g.group_id.hash(&mut h);
                (Arc::as_ptr(&g) as usize).hash(&mut h);
            }
            for p in o.ports() {
                format!("{p:?}").hash(&mut h);
            }
        });
        e.shared.mac_learning.len().hash(&mut h);
    }
    h.finish()
}

/// Applies `other_config` limits that changed since the last pass.
fn apply_settings(s: &mut Settings, other_config: &BTreeMap<String, String>) {
    let get = |k: &str| other_config.get(k).cloned();
    let (fl, mi, mr) = (get("flow-limit"), get("max-idle"), get("max-revalidator"));
    if fl != s.applied.0 {
        s.flow_limit = fl
            .as_deref()
            .and_then(|v| v.parse().ok())
            .unwrap_or(FLOW_LIMIT_DEFAULT);
    }
    if mi != s.applied.1 {
        s.max_idle = mi
            .as_deref()
            .and_then(|v| v.parse().ok())
            .filter(|v| *v >= 100)
            .unwrap_or(MAX_IDLE_DEFAULT);
    }
    if mr != s.applied.2 {
        s.max_revalidator = mr
            .as_deref()
            .and_then(|v| v.parse().ok())
            .filter(|v| *v >= 100)
            .unwrap_or(MAX_REVALIDATOR_DEFAULT);
    }
    s.applied = (fl, mi, mr);
}

/// What revalidation decided for one flow.
enum Verdict {
    Keep,
    Modify(Vec<OdpAction>),
    Delete,
}

fn stats_delta(now: &FlowStats, before: &FlowStats) -> (u64, u64) {
    (
        now.n_packets.saturating_sub(before.n_packets),
        now.n_bytes.saturating_sub(before.n_bytes),
    )
}

fn credit(rules: &[Arc<Rule>], delta: (u64, u64), used: u64) {
    if delta.0 == 0 {
        return;
    }
    for r in rules {
        r.credit(delta.0, delta.1, used);
    }
}

/// One pass over every datapath.
fn pass(shared: &Shared, dps: &[Arc<DpifNetdev>], reg: &Registry, purge: bool) {
    let mut st = lock(&shared.state);
    apply_settings(&mut st.settings, &reg.other_config);
    let fp = fingerprint(reg);
    if fp != st.fingerprint {
        st.fingerprint = fp;
        st.generation += 1;
    }
    // The switch clock, for rules' `used`.
    let of_now = reg
        .bridges
        .values()
        .next()
        .map(|e| e.shared.with_ofproto_quiet(|o| o.now()))
        .unwrap_or(0);
    let names: HashSet<&str> = dps.iter().map(|d| Dpif::name(d.as_ref())).collect();
    st.udpifs.retain(|n, _| names.contains(n.as_str()));
    let generation = st.generation;
    let ofproto_flow_limit = st.settings.flow_limit;
    let max_idle_setting = st.settings.max_idle;
    for dp in dps {
        let name = Dpif::name(dp.as_ref()).to_string();
        let udpif = st.udpifs.entry(name.clone()).or_insert_with(|| Udpif {
            ukeys: HashMap::new(),
            avg_n_flows: 0,
            max_n_flows: 0,
            dump_duration: 0,
            flow_limit: ofproto_flow_limit.min(FLOW_LIMIT_START),
        });
        let start = Instant::now();
        let flows = dp.flow_dump();
        let n = flows.len();
        udpif.max_n_flows = udpif.max_n_flows.max(n as u64);
        udpif.avg_n_flows = (udpif.avg_n_flows + n as u64) / 2;
        let max_idle = if n > udpif.flow_limit {
            100
        } else {
            max_idle_setting
        };
        let kill_all = purge || n > udpif.flow_limit.saturating_mul(2);
        let ctx = DpCtx {
            dp,
            name: &name,
            reg,
            of_now,
            dp_now: dp.now_ms(),
        };
        revalidate_dp(&ctx, udpif, flows, generation, max_idle, kill_all);
        let duration = (start.elapsed().as_millis() as u64).max(1);
        udpif.dump_duration = duration;
        udpif.flow_limit = adjust_flow_limit(udpif.flow_limit, n, duration, ofproto_flow_limit);
        dp.set_flow_tuning(udpif.flow_limit, None);
    }
}

/// Upstream's dynamic flow limit.
fn adjust_flow_limit(limit: usize, n_flows: usize, duration_ms: u64, ceiling: usize) -> usize {
    let d = duration_ms.max(1) as usize;
    let mut l = limit;
    if d > 2000 {
        l /= d / 1000;
    } else if d > 1300 {
        l = l * 3 / 4;
    } else if d < 1000 && n_flows > 2000 && l < n_flows * 1000 / d {
        l += 1000;
    }
    l.max(FLOW_LIMIT_FLOOR).min(ceiling)
}

struct DpCtx<'a> {
    dp: &'a DpifNetdev,
    name: &'a str,
    reg: &'a Registry,
    of_now: u64,
    dp_now: u64,
}

impl DpCtx<'_> {
    /// The switch time at which the datapath last saw the flow.
    fn used_of(&self, st: &FlowStats) -> u64 {
        if st.used == 0 {
            return self.of_now;
        }
        self.of_now
            .saturating_sub(self.dp_now.saturating_sub(st.used))
    }

    /// Deletes the flow, crediting its last packets to `rules`.
    fn delete(&self, ufid: &Ufid, before: &FlowStats, rules: &[Arc<Rule>]) {
        if let Ok(last) = self.dp.flow_del(None, Some(*ufid)) {
            credit(
                rules,
                stats_delta(&last.stats, before),
                self.used_of(&last.stats),
            );
        }
    }
}

fn revalidate_dp(
    ctx: &DpCtx,
    udpif: &mut Udpif,
    flows: Vec<DpifFlow>,
    generation: u64,
    max_idle: u64,
    kill_all: bool,
) {
    let now = ctx.dp_now;
    let seen: HashSet<Ufid> = flows.iter().map(|f| f.ufid).collect();
    udpif.ukeys.retain(|u, _| seen.contains(u));
    let mut check = Vec::new();
    for f in flows {
        let uk = udpif.ukeys.entry(f.ufid).or_insert_with(|| Ukey {
            stats: FlowStats::default(),
            created: now,
            rules: Vec::new(),
            generation: 0,
        });
        let last_used = if f.stats.used != 0 {
            f.stats.used
        } else {
            uk.created
        };
        if kill_all || last_used.saturating_add(max_idle) < now {
            if uk.generation == 0 {
                // Never translated: find the rules its packets went to.
                check.push(f);
                continue;
            }
            ctx.delete(&f.ufid, &uk.stats, &uk.rules);
            udpif.ukeys.remove(&f.ufid);
            continue;
        }
        let delta = stats_delta(&f.stats, &uk.stats);
        if uk.generation != generation || delta.0 > 0 {
            check.push(f);
        }
    }
    for batch in check.chunks(XLATE_BATCH) {
        let mut effects = Vec::new();
        let mut decided = Vec::new();
        let mut learned = false;
        {
            let mut locked = LockedBridges::lock(ctx.reg);
            for f in batch {
                let Some(uk) = udpif.ukeys.get(&f.ufid) else {
                    continue;
                };
                let delta = stats_delta(&f.stats, &uk.stats);
                // Learning (MAC table, learn actions) only for flows that
                // carried packets since the last pass, as upstream.
                let (verdict, rules, side, tnl) = retranslate(ctx, &locked, f, delta.0 > 0);
                if delta.0 > 0 {
                    effects.extend(side);
                }
                decided.push((f, verdict, rules, delta, tnl));
            }
            if !effects.is_empty() {
                // Neighbour requests of native tunnels go out from the
                // route-table thread, away from the locks held here.
                crate::native_tnl::queue(apply_side_effects(
                    &mut locked,
                    std::mem::take(&mut effects),
                ));
                learned = true;
            }
        }
        if learned {
            // Publishes what the side effects queued (flow updates).
            for e in ctx.reg.bridges.values() {
                e.shared.with_ofproto(|_| ());
            }
        }
        for (f, verdict, rules, delta, tnl) in decided {
            let Some(uk) = udpif.ukeys.get_mut(&f.ufid) else {
                continue;
            };
            let last_used = if f.stats.used != 0 {
                f.stats.used
            } else {
                uk.created
            };
            let expired = kill_all || last_used.saturating_add(max_idle) < now;
            credit(&rules, delta, ctx.used_of(&f.stats));
            tnl.credit(delta.0, delta.1);
            uk.stats = f.stats;
            uk.rules = rules;
            uk.generation = generation;
            let delete = match verdict {
                _ if expired => true,
                Verdict::Delete => true,
                Verdict::Keep => false,
                Verdict::Modify(actions) => ctx.dp.flow_set_actions(&f.ufid, actions).is_err(),
            };
            if delete {
                ctx.delete(&f.ufid, &uk.stats, &uk.rules);
                udpif.ukeys.remove(&f.ufid);
            }
        }
    }
}

/// Translates a dumped flow again: the verdict, the rules it went
/// through, and translation's side effects.
fn retranslate(
    ctx: &DpCtx,
    locked: &LockedBridges<'_>,
    f: &DpifFlow,
    learn: bool,
) -> (
    Verdict,
    Vec<Arc<Rule>>,
    Vec<SideEffect>,
    ofproto::xlate::Credits,
) {
    // (A tunnel vport's flows belong to the tunnel port their tunnel
    // metadata selects.)
    let Some((br, ofp)) = crate::upcall::ingress_port(ctx.reg, ctx.name, &f.key) else {
        return (Verdict::Delete, Vec::new(), Vec::new(), Default::default());
    };
    let Some(o) = locked.get(&br) else {
        return (Verdict::Delete, Vec::new(), Vec::new(), Default::default());
    };
    let mut flow = f.key;
    flow.in_port = ofp;
    // TCP flags the flow's packets carried (for `fin_timeout`): bits the
    // flow does not match on cannot change what it matched, and a
    // translation that now looks at them fails the mask check below.
    flow.tcp_flags |= f.stats.tcp_flags & !f.mask.tcp_flags;
    let out = xlate(
        o,
        locked,
        XlateIn {
            flow,
            packet: None,
            trace: false,
            allow_side_effects: learn,
            revalidation: true,
            ofpacts: None,
            in_packet_out: false,
        },
    );
    let credits = out.credits();
    let verdict = if out.slow != 0 || out.error.is_some() {
        Verdict::Delete
    } else {
        let wc = ofproto::xlate::tunnel_options::raw_options_mask(o, &f.key, &out.wc);
        let mask = install_mask(&wc, &f.key);
        if mask.or(&f.mask) != f.mask {
            // Translation now looks at bits the flow does not match on.
            Verdict::Delete
        } else if out.actions[..] != f.actions[..] {
            Verdict::Modify(out.actions)
        } else {
            Verdict::Keep
        }
    };
    (verdict, out.rules, out.side_effects, credits)
}

/// Registers `upcall/*` and `revalidator/*` on `c`; they act on the
/// revalidator of `datapaths` (none: empty answers).
pub fn register(c: &rpc::unixctl::Commands, datapaths: &Arc<Datapaths>) {
    let d = datapaths.clone();
    c.register("upcall/show", "", 0, 0, move |_| {
        Ok(d.revalidator().map(|r| r.show()).unwrap_or_default())
    });
    let d = datapaths.clone();
    c.register(
        "upcall/set-flow-limit",
        "flow-limit-number",
        1,
        1,
        move |a| {
            // As upstream: atoi, so garbage is 0.
            let n = leading_number(a.first().map(String::as_str).unwrap_or(""));
            if let Some(r) = d.revalidator() {
                r.set_flow_limit(n);
            }
            Ok(format!("set flow_limit to {n}\n"))
        },
    );
    c.register("upcall/disable-megaflows", "", 0, 0, |_| {
        MEGAFLOWS_ENABLED.store(false, Relaxed);
        Ok("megaflows disabled\n".into())
    });
    c.register("upcall/enable-megaflows", "", 0, 0, |_| {
        MEGAFLOWS_ENABLED.store(true, Relaxed);
        Ok("megaflows enabled\n".into())
    });
    c.register("upcall/disable-ufid", "", 0, 0, |_| {
        UFID_ENABLED.store(false, Relaxed);
        Ok("Datapath dumping tersely using UFID disabled\n".into())
    });
    c.register("upcall/enable-ufid", "", 0, 0, |_| {
        UFID_ENABLED.store(true, Relaxed);
        Ok("Datapath dumping tersely using UFID enabled for supported datapaths\n".into())
    });
    for (name, purge) in [("revalidator/wait", false), ("revalidator/purge", true)] {
        let d = datapaths.clone();
        c.register_async(name, "", 0, 0, move |_| {
            let d = d.clone();
            async move {
                let r = d.revalidator();
                let _ = tokio::task::spawn_blocking(move || {
                    if let Some(r) = r {
                        r.wait(purge, Duration::from_secs(30));
                    }
                })
                .await;
                Ok(String::new())
            }
        });
    }
}

/// C's atoi: the leading decimal digits (with sign), else 0; negative
/// values wrap as a size_t would, then clamp.
fn leading_number(s: &str) -> usize {
    let t = s.trim_start();
    let (neg, t) = match t.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let digits: String = t.chars().take_while(|c| c.is_ascii_digit()).collect();
    let v: u64 = digits.parse().unwrap_or(0);
    if neg && v != 0 {
        usize::MAX
    } else {
        usize::try_from(v).unwrap_or(usize::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flow_limit_adapts_as_upstream() {
        assert_eq!(adjust_flow_limit(10_000, 5, 1, 200_000), 10_000);
        assert_eq!(adjust_flow_limit(10_000, 9_000, 1, 200_000), 11_000);
        assert_eq!(adjust_flow_limit(10_000, 9_000, 1500, 200_000), 7_500);
        assert_eq!(adjust_flow_limit(10_000, 9_000, 5000, 200_000), 2_000);
        assert_eq!(adjust_flow_limit(1_000, 9_000, 5000, 200_000), 1_000);
        assert_eq!(adjust_flow_limit(10_000, 9_000, 1, 5_000), 5_000);
    }

    #[test]
    fn settings_apply_when_changed() {
        let mut s = Settings {
            flow_limit: FLOW_LIMIT_DEFAULT,
            max_idle: MAX_IDLE_DEFAULT,
            max_revalidator: MAX_REVALIDATOR_DEFAULT,
            applied: (None, None, None),
        };
        let mut oc = BTreeMap::new();
        oc.insert("max-idle".to_string(), "500".to_string());
        oc.insert("flow-limit".to_string(), "77".to_string());
        apply_settings(&mut s, &oc);
        assert_eq!((s.flow_limit, s.max_idle), (77, 500));
        // upcall/set-flow-limit holds until the database value changes.
        s.flow_limit = 5;
        apply_settings(&mut s, &oc);
        assert_eq!(s.flow_limit, 5);
        oc.remove("flow-limit");
        oc.insert("max-idle".to_string(), "junk".to_string());
        apply_settings(&mut s, &oc);
        assert_eq!(
            (s.flow_limit, s.max_idle),
            (FLOW_LIMIT_DEFAULT, MAX_IDLE_DEFAULT)
        );
    }

    #[test]
    fn atoi_like_upstream() {
        assert_eq!(leading_number("5000"), 5000);
        assert_eq!(leading_number("abc"), 0);
        assert_eq!(leading_number("12abc"), 12);
    }
}
