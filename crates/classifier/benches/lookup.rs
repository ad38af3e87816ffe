//! Classifier lookup benchmark: lookups per second for 1k, 10k and 100k
//! rules spread over 1, 10 and 100 subtables (distinct masks), with
//! wildcard tracking (as flow translation does) and without.
//!
//! Run: `cargo bench -p ferrovs-classifier --bench lookup` (or
//! `scripts/bench/classifier.sh`).  Optional arguments: a time budget per
//! measurement in milliseconds (default 300).  With the environment
//! variable `FERROVS_BENCH_NO_TRIES` set, the tables keep no prefix tries
//! (`Flow_Table` `prefixes=none`), which shows what the tries cost.

#![allow(clippy::field_reassign_with_default)]

use classifier::{Classifier, ClsRule, FlowWords};
use packet::Flow;
use std::time::{Duration, Instant};

/// A small deterministic generator (xorshift), so runs are comparable.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn prefix(n: u32) -> u32 {
    if n == 0 {
        0
    } else {
        !0u32 << (32 - n)
    }
}

/// 100 distinct masks, all IPv4: source and destination prefix lengths
/// and one extra field, most specific first (so that a few subtables do
/// not pile all rules into one identical match).
fn masks() -> Vec<Flow> {
    let mut out = Vec::new();
    for extra in 0..5 {
        for src in [32u32, 24, 16, 8, 0] {
            for dst in [32u32, 24, 16, 8] {
                let mut m = Flow::default();
                m.dl_type = !0;
                m.nw_src = prefix(src);
                m.nw_dst = prefix(dst);
                match extra {
                    1 => {
                        m.nw_proto = !0;
                        m.tp_dst = !0;
                    }
                    2 => m.in_port = !0,
                    3 => {
                        m.nw_proto = !0;
                        m.tp_src = !0;
                    }
                    4 => m.regs[0] = !0,
                    _ => {}
                }
                out.push(m);
            }
        }
    }
    out
}

fn random_flow(rng: &mut Rng) -> Flow {
    let mut f = Flow::default();
    f.dl_type = 0x0800;
    f.in_port = rng.below(64) as u32 + 1;
    f.regs[0] = rng.below(64) as u32;
    // Addresses from 10.0.0.0/8 so that short prefixes collide.
    f.nw_src = 0x0a00_0000 | rng.below(1 << 24) as u32;
    f.nw_dst = 0x0a00_0000 | rng.below(1 << 24) as u32;
    f.nw_proto = 6;
    f.tp_src = rng.below(1024) as u16;
    f.tp_dst = rng.below(1024) as u16;
    f
}

struct Result {
    inserts: f64,
    rules: usize,
    subtables: usize,
    with_wc: f64,
    without_wc: f64,
    hit_rate: f64,
}

fn measure(budget: Duration, mut f: impl FnMut() -> usize) -> f64 {
    // Warm up, then run batches until the budget is used.
    f();
    let start = Instant::now();
    let mut n = 0usize;
    while start.elapsed() < budget {
        n += f();
    }
    n as f64 / start.elapsed().as_secs_f64()
}

fn run(n_rules: usize, n_subtables: usize, budget: Duration) -> Result {
    let all_masks = masks();
    let step = all_masks.len() / n_subtables;
    let masks: Vec<Flow> = (0..n_subtables).map(|i| all_masks[i * step]).collect();
    let mut rng = Rng(0x1234_5678_9abc_def1 ^ (n_rules as u64) << 8 ^ n_subtables as u64);
    let mut cls: Classifier<u32> = if std::env::var_os("FERROVS_BENCH_NO_TRIES").is_some() {
        Classifier::with_prefix_fields(&[])
    } else {
        Classifier::new()
    };
    cls.defer();
    let mut rule_flows = Vec::with_capacity(n_rules);
    let build = Instant::now();
    for i in 0..n_rules {
        let m = masks[i % n_subtables];
        let f = random_flow(&mut rng);
        let pri = rng.below(60000) as i32 + 1;
        cls.insert(ClsRule::new(&f, &m, pri, &[], i as u32), 0);
        rule_flows.push(f);
    }
    cls.insert(
        ClsRule::new(&Flow::default(), &Flow::default(), 0, &[], u32::MAX),
        0,
    );
    cls.publish();
    let inserts = n_rules as f64 / build.elapsed().as_secs_f64();
    let state = cls.reader().load_full();
    assert_eq!(state.n_subtables(), n_subtables + 1);

    // Half the packets come from rules (likely hits), half are random.
    let packets: Vec<FlowWords> = (0..4096)
        .map(|i| {
            let f = if i % 2 == 0 {
                let mut f = rule_flows[rng.below(n_rules as u64) as usize];
                f.tp_src = rng.below(1024) as u16;
                f
            } else {
                random_flow(&mut rng)
            };
            FlowWords::from_flow(&f)
        })
        .collect();
    let hits = packets
        .iter()
        .filter(|p| {
            state
                .lookup_words(0, p, None, None)
                .is_some_and(|r| *r.data() != u32::MAX)
        })
        .count();

    let mut wc_template = FlowWords::default();
    wc_template.0.iter_mut().for_each(|w| *w = 0);
    let with_wc = measure(budget, || {
        let mut found = 0u32;
        for p in &packets {
            let mut wc = wc_template;
            if let Some(r) = state.lookup_words(0, p, Some(&mut wc), None) {
                found = found.wrapping_add(*r.data());
            }
            std::hint::black_box(&wc);
        }
        std::hint::black_box(found);
        packets.len()
    });
    let without_wc = measure(budget, || {
        let mut found = 0u32;
        for p in &packets {
            if let Some(r) = state.lookup_words(0, p, None, None) {
                found = found.wrapping_add(*r.data());
            }
        }
        std::hint::black_box(found);
        packets.len()
    });
    Result {
        inserts,
        rules: n_rules,
        subtables: n_subtables,
        with_wc,
        without_wc,
        hit_rate: hits as f64 / packets.len() as f64,
    }
}

fn main() {
    let budget_ms = std::env::args()
        .skip(1)
        .find_map(|a| a.parse::<u64>().ok())
        .unwrap_or(300);
    let budget = Duration::from_millis(budget_ms);
    let tries = if std::env::var_os("FERROVS_BENCH_NO_TRIES").is_some() {
        "no prefix tries"
    } else {
        "prefix tries on nw_dst, nw_src"
    };
    println!("classifier lookup benchmark (single thread, {budget_ms} ms per figure, {tries})");
    println!(
        "{:>8} {:>10} {:>18} {:>18} {:>8} {:>12}",
        "rules", "subtables", "lookups/s (wc)", "lookups/s (no wc)", "hits", "inserts/s"
    );
    for n_rules in [1_000usize, 10_000, 100_000] {
        for n_subtables in [1usize, 10, 100] {
            let r = run(n_rules, n_subtables, budget);
            println!(
                "{:>8} {:>10} {:>18.0} {:>18.0} {:>7.1}% {:>12.0}",
                r.rules,
                r.subtables,
                r.with_wc,
                r.without_wc,
                r.hit_rate * 100.0,
                r.inserts
            );
        }
    }
    // Inserting with a snapshot published to readers after every change
    // (no `defer`): the cost of copy-on-write.
    let masks = masks();
    let mut rng = Rng(0x5eed);
    let mut cls: Classifier<u32> = Classifier::new();
    let n = 10_000;
    let start = Instant::now();
    for i in 0..n {
        let f = random_flow(&mut rng);
        let pri = rng.below(60000) as i32 + 1;
        cls.insert(ClsRule::new(&f, &masks[i % 10 * 10], pri, &[], i as u32), 0);
    }
    println!(
        "{n} inserts over 10 subtables, published after each: {:.0} inserts/s",
        n as f64 / start.elapsed().as_secs_f64()
    );
}
