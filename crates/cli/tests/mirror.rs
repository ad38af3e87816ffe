//! Port mirroring (the Mirror table) against the reference: the same
//! bridges, VLAN ports, generated mirrors (SPAN and RSPAN, selection by
//! port and VLAN, snap lengths, several per bridge, broken ones) and flow
//! tables (NORMAL, explicit outputs over several tables, groups) in the
//! reference daemons and in ours, driven by the reference's tools; traced
//! packets must give the same `Megaflow:` line, the same datapath outputs
//! (compared as a multiset of port, headers and truncation, since upstream
//! floods in the order of pointer hashes) and the same errors; injected
//! packets must give the same Mirror `statistics`; a mirror added while
//! traffic flows must show in the datapath's existing flows.

use std::time::Duration;
use testkit::{Rng, Sandbox};

const FERROVS: &str = env!("CARGO_BIN_EXE_ferrovs");

/// Runs `f` on both sandboxes at once: (reference, ours).
fn both<T: Send>(r: &Sandbox, o: &Sandbox, f: impl Fn(&Sandbox) -> T + Sync) -> (T, T) {
    std::thread::scope(|s| {
        let a = s.spawn(|| f(r));
        let b = s.spawn(|| f(o));
        (a.join().expect("reference"), b.join().expect("ours"))
    })
}

/// `ovs-vsctl`/`ovs-ofctl`/`ovs-appctl` output (stdout, or the error).
fn out(res: Result<String, String>) -> String {
    res.unwrap_or_else(|e| format!("error: {e}"))
}

/// br0: p1 trunk, p2 access 10, p3 trunk of 10 and 20, p4 trunk, p5
/// access 20, p6 trunk, p7 trunk of 20 and 30; br1: q1.
fn setup(sb: &Sandbox) {
    let ports = ["p1", "p2", "p3", "p4", "p5", "p6", "p7"];
    let mut args = testkit::dummy_bridge(
        "br0",
        &[
            "fail-mode=secure",
            "other-config:datapath-id=0000aa55aa550001",
        ],
        &ports,
    );
    for (p, col) in [
        ("p2", "tag=10"),
        ("p3", "trunks=10,20"),
        ("p5", "tag=20"),
        ("p7", "trunks=20,30"),
    ] {
        args.extend(["--", "set", "port", p, col].map(String::from));
    }
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    sb.vsctl(&a).expect("add br0");
    let b = testkit::dummy_bridge("br1", &["fail-mode=secure"], &["q1"]);
    let b: Vec<&str> = b.iter().map(String::as_str).collect();
    sb.vsctl(&b).expect("add br1");
    sb.wait_ofport("p7");
    sb.wait_ofport("q1");
}

/// One generated Mirror row.
#[derive(Clone, Debug)]
struct MirrorSpec {
    select_all: bool,
    src: Vec<&'static str>,
    dst: Vec<&'static str>,
    vlans: Vec<u16>,
    out_port: Option<&'static str>,
    out_vlan: Option<u16>,
    snaplen: Option<u32>,
}

const SELECTABLE: &[&str] = &["p1", "p2", "p3", "p4", "p5", "p6", "p7", "br0"];

fn gen_mirror(r: &mut Rng) -> MirrorSpec {
    let select_all = r.chance(30);
    let pick = |r: &mut Rng| -> Vec<&'static str> {
        let mut v: Vec<&'static str> = SELECTABLE
            .iter()
            .copied()
            .filter(|_| r.chance(30))
            .collect();
        if r.chance(10) {
            v.push("q1");
        }
        v
    };
    let (src, dst) = if select_all {
        (Vec::new(), Vec::new())
    } else {
        (pick(r), pick(r))
    };
    let vlans = if r.chance(30) {
        let v: Vec<u16> = [0u16, 10, 20, 30]
            .into_iter()
            .filter(|_| r.chance(50))
            .collect();
        if v.is_empty() {
            vec![10]
        } else {
            v
        }
    } else {
        Vec::new()
    };
    let (out_port, out_vlan) = match r.below(20) {
        0..=10 => (Some(r.pick(&["p6", "p7", "p4"])), None),
        11..=16 => (None, Some(r.pick(&[20u16, 30, 40]))),
        17 => (Some("p6"), Some(30)),
        18 => (Some("q1"), None),
        _ => (None, None),
    };
    let snaplen = r.chance(25).then(|| r.pick(&[64u32, 100, 1000]));
    MirrorSpec {
        select_all,
        src,
        dst,
        vlans,
        out_port,
        out_vlan,
        snaplen,
    }
}

/// The `ovs-vsctl` transactions replacing br0's mirrors with `ms`: one
/// per mirror, so that each takes the next index (mirrors created in one
/// transaction take theirs in the order of their row UUIDs, which differ
/// between the two sandboxes; the index decides the order mirrors are
/// applied in).
fn mirror_txns(ms: &[MirrorSpec]) -> Vec<Vec<String>> {
    let mut txns = vec![["--", "clear", "bridge", "br0", "mirrors"]
        .map(String::from)
        .to_vec()];
    for (i, m) in ms.iter().enumerate() {
        let a = if i == 0 {
            &mut txns[0]
        } else {
            txns.push(Vec::new());
            txns.last_mut().expect("pushed")
        };
        let mut ports: Vec<&str> = Vec::new();
        for p in m.src.iter().chain(&m.dst).chain(m.out_port.iter()) {
            if !ports.contains(p) {
                ports.push(p);
            }
        }
        for p in &ports {
            a.extend(["--", &format!("--id=@{p}"), "get", "port", p].map(String::from));
        }
        a.extend(["--", "--id=@m", "create", "mirror"].map(String::from));
        a.push(format!("name=m{i}"));
        if m.select_all {
            a.push("select_all=true".into());
        }
        let refs = |v: &[&str]| {
            v.iter()
                .map(|p| format!("@{p}"))
                .collect::<Vec<_>>()
                .join(",")
        };
        if !m.src.is_empty() {
            a.push(format!("select_src_port={}", refs(&m.src)));
        }
        if !m.dst.is_empty() {
            a.push(format!("select_dst_port={}", refs(&m.dst)));
        }
        if !m.vlans.is_empty() {
            let v: Vec<String> = m.vlans.iter().map(u16::to_string).collect();
            a.push(format!("select_vlan={}", v.join(",")));
        }
        if let Some(p) = m.out_port {
            a.push(format!("output_port=@{p}"));
        }
        if let Some(v) = m.out_vlan {
            a.push(format!("output_vlan={v}"));
        }
        if let Some(s) = m.snaplen {
            a.push(format!("snaplen={s}"));
        }
        a.extend(["--", "add", "bridge", "br0", "mirrors", "@m"].map(String::from));
    }
    txns
}

/// Runs the transactions of [`mirror_txns`]; their answers.
fn set_mirrors(sb: &Sandbox, ms: &[MirrorSpec]) -> String {
    let mut res = String::new();
    for t in mirror_txns(ms) {
        let a: Vec<&str> = t.iter().map(String::as_str).collect();
        res.push_str(&out(sb.vsctl(&a)));
    }
    res
}

/// Flow tables (OpenFlow 1.3 flows; the groups they use).
const PROGRAMS: &[(&[&str], &[&str])] = &[
    (&["actions=NORMAL"], &[]),
    (
        &[
            "priority=10,in_port=1,actions=output:2,output:4",
            "priority=10,in_port=2,vlan_tci=0,actions=mod_vlan_vid:30,output:3,strip_vlan,output:4",
            "priority=10,in_port=3,dl_vlan=20,actions=output:5,output:in_port",
            "priority=0,actions=NORMAL",
        ],
        &[],
    ),
    (
        &[
            "table=0,priority=5,actions=resubmit(,1),output:5",
            "table=1,priority=5,dl_vlan=10,actions=output:4,resubmit(,2)",
            "table=1,priority=0,actions=NORMAL",
            "table=2,actions=push_vlan:0x8100,set_field:4116->vlan_vid,output:1",
        ],
        &[],
    ),
    (
        &[
            "priority=5,in_port=1,actions=group:1",
            "priority=5,in_port=4,actions=output:in_port,output:1,group:2",
            "priority=0,actions=group:2",
        ],
        &[
            "group_id=1,type=all,bucket=output:2,bucket=output:3,bucket=actions=strip_vlan,output:4",
            "group_id=2,type=indirect,bucket=actions=NORMAL",
        ],
    ),
    (&["actions=output:6,output:7,NORMAL"], &[]),
];

const MACS: &[&str] = &[
    "50:54:00:00:00:01",
    "50:54:00:00:00:02",
    "50:54:00:00:00:03",
    "50:54:00:00:00:04",
];

const DESTS: &[&str] = &["50:54:00:00:01:01", "50:54:00:00:01:02"];

/// A flow to trace, and the same packet for `netdev-dummy/receive`.
fn gen_packet(r: &mut Rng) -> (String, String, String) {
    let port = if r.chance(8) { 6 } else { 1 + r.below(5) };
    let src = r.pick(MACS);
    // Destinations are never sources: NORMAL floods whatever it learned,
    // so installed flows do not depend on when each side learns.
    let dst = match r.below(10) {
        0 => "ff:ff:ff:ff:ff:ff",
        1 => "01:80:c2:00:00:00",
        _ => r.pick(DESTS),
    };
    let vlan = match r.below(10) {
        0..=5 => None,
        6 | 7 => Some(10),
        8 => Some(20),
        _ => Some(30),
    };
    let mut f = format!("in_port={port}");
    let mut odp = format!("in_port({port}),eth(src={src},dst={dst})");
    if let Some(v) = vlan {
        f.push_str(&format!(",dl_vlan={v}"));
        odp.push_str(&format!(",eth_type(0x8100),vlan(vid={v},pcp=0),encap("));
    }
    f.push_str(&format!(
        ",dl_src={src},dl_dst={dst},udp,nw_src=10.0.0.1,nw_dst=10.0.0.2,udp_src=7,udp_dst=9"
    ));
    if vlan.is_none() {
        odp.push(',');
    }
    odp.push_str(
        "eth_type(0x0800),ipv4(src=10.0.0.1,dst=10.0.0.2,proto=17,tos=0,ttl=64,frag=no),udp(src=7,dst=9)",
    );
    if vlan.is_some() {
        odp.push(')');
    }
    (format!("p{port}"), f, odp)
}

/// Datapath actions as a sorted multiset of outputs, each with the VLAN
/// headers, other changes and truncation (unless not `keep_trunc`) in
/// force (`initial_vid`: the packet's own tag).
fn canonical_actions_with(acts: &str, initial_vid: Option<&str>, keep_trunc: bool) -> String {
    let mut vlans: Vec<String> = initial_vid
        .map(|v| vec![format!("push_vlan(vid={v},pcp=0)")])
        .unwrap_or_default();
    let (mut sets, mut outs, mut trunc) = (Vec::<String>::new(), Vec::<String>::new(), None);
    for a in testkit::text::split_top(acts) {
        if a.starts_with("push_vlan(") {
            vlans.push(a.to_string());
        } else if a == "pop_vlan" {
            if vlans.pop().is_none() {
                vlans.push("popped".into());
            }
        } else if let Some(n) = a.strip_prefix("trunc(") {
            trunc = Some(n.trim_end_matches(')').to_string());
        } else if a.parse::<u32>().is_ok() {
            let t = trunc.take().filter(|_| keep_trunc).unwrap_or_default();
            outs.push(format!("{a}[{}|{}|{t}]", vlans.join(";"), sets.join(";")));
        } else {
            sets.push(a.to_string());
        }
    }
    outs.sort();
    outs.join(" ")
}

/// What a trace is compared by: `Megaflow:`, canonical datapath outputs,
/// and the errors reported (as a set).
fn trace_summary(t: &str) -> String {
    trace_summary_with(t, true)
}

/// [`trace_summary`] without the truncations (`keep_trunc` false): which
/// copies a mirror's `snaplen` reaches depends on the flood order when a
/// copy is itself mirrored (the nested mirroring ends the outer one's
/// truncation, in the reference as here), and the reference floods in the
/// order of pointer hashes.
fn trace_summary_with(t: &str, keep_trunc: bool) -> String {
    let vid = t
        .lines()
        .find_map(|l| l.strip_prefix("Flow: "))
        .and_then(|f| f.split(',').find_map(|kv| kv.strip_prefix("dl_vlan=")));
    let mut errors: Vec<&str> = t
        .lines()
        .filter(|l| l.contains(">>>>"))
        .map(str::trim)
        .collect();
    errors.sort();
    errors.dedup();
    let mut s = String::new();
    for l in t.lines() {
        if l.starts_with("Megaflow:") {
            s.push_str(l);
            s.push('\n');
        } else if let Some(a) = l.strip_prefix("Datapath actions: ") {
            s.push_str(&format!(
                "Outputs: {}\n",
                canonical_actions_with(a, vid, keep_trunc)
            ));
        }
    }
    for e in errors {
        s.push_str(e);
        s.push('\n');
    }
    if s.is_empty() {
        t.to_string()
    } else {
        s
    }
}

/// `dpctl/dump-flows` with `used:`, counters and flood order set aside,
/// flows sorted.
fn canonical_dump(dump: &str) -> String {
    canonical_dump_with(dump, true)
}

/// [`canonical_dump`], truncations left out unless `keep_trunc`.
fn canonical_dump_with(dump: &str, keep_trunc: bool) -> String {
    let mut v: Vec<String> = dump
        .lines()
        .map(|l| match l.split_once(", actions:") {
            Some((head, acts)) => {
                let key = head.split(", packets:").next().unwrap_or(head);
                let vid = key
                    .split("vlan(vid=")
                    .nth(1)
                    .and_then(|r| r.split([',', ')']).next());
                format!("{key} -> {}", canonical_actions_with(acts, vid, keep_trunc))
            }
            None => l.to_string(),
        })
        .collect();
    v.sort();
    v.join("\n")
}

/// The flows of two canonical dumps whose keys both hold (the
/// reference, driven through `netdev-dummy/receive`, sometimes holds
/// fewer flows for the same packets); the number left out.
fn common_flows(r: &str, o: &str) -> (String, String, usize) {
    let key = |l: &str| l.split(" -> ").next().unwrap_or(l).to_string();
    let keys = |d: &str| -> std::collections::BTreeSet<String> { d.lines().map(key).collect() };
    let (rk, ok) = (keys(r), keys(o));
    let keep = |d: &str, other: &std::collections::BTreeSet<String>| {
        d.lines()
            .filter(|l| other.contains(&key(l)))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let left_out = rk.symmetric_difference(&ok).count();
    (keep(r, &ok), keep(o, &rk), left_out)
}

/// Packets the datapath has looked up so far (`lookups:` of
/// `dpctl/show`: hits, misses and losses).
fn looked_up(sb: &Sandbox) -> u64 {
    let show = out(sb.appctl(&["dpctl/show"]));
    show.lines()
        .filter_map(|l| l.trim().strip_prefix("lookups: "))
        .flat_map(|l| l.split_whitespace())
        .filter_map(|kv| kv.split_once(':').and_then(|(_, n)| n.parse::<u64>().ok()))
        .sum()
}

/// Waits until the datapath has handled `total` injected packets in all
/// (the reference queues what `netdev-dummy/receive` gives it), then
/// for the revalidator.
fn settle(sb: &Sandbox, total: u64) {
    sb.wait_until(Duration::from_secs(20), || looked_up(sb) >= total);
    let _ = sb.appctl(&["revalidator/wait"]);
    let _ = sb.appctl(&["revalidator/wait"]);
}

/// The relevant log lines of a vswitchd log: mirror configuration
/// messages, counted per text.
fn mirror_log(sb: &Sandbox) -> Vec<String> {
    let log = std::fs::read_to_string(sb.path("ovs-vswitchd.log")).unwrap_or_default();
    let mut v: Vec<String> = log
        .lines()
        .filter(|l| l.contains(" mirror ") || l.contains("port mirrors"))
        .filter_map(|l| l.splitn(3, '|').nth(2).map(str::to_string))
        .collect();
    v.sort();
    v.dedup();
    v
}

#[test]
fn generated_mirrors_like_the_reference() {
    let Some((reference, ours)) = testkit::reference_and_ours(FERROVS, "mirror-gen") else {
        return;
    };
    both(&reference, &ours, setup);
    let mut rng = Rng(0x3177_0001);
    const CONFIGS: usize = 32;
    let (mut traces, mut same, mut dumps, mut same_dumps) = (0, 0, 0, 0);
    // Differences only in which copies are truncated (see
    // `trace_summary_with`).
    let mut trunc_order = 0;
    let mut injected = 0u64;
    let mut one_sided = 0;
    let mut failures: Vec<String> = Vec::new();
    for case in 0..CONFIGS {
        let n = 1 + rng.below(3) as usize;
        let ms: Vec<MirrorSpec> = (0..n).map(|_| gen_mirror(&mut rng)).collect();
        let (flows, groups) = PROGRAMS[case % PROGRAMS.len()];
        let pkts: Vec<(String, String, String)> = (0..8).map(|_| gen_packet(&mut rng)).collect();
        let inject = case % 2 == 0;
        if inject {
            injected += pkts.len() as u64;
        }
        let (r, o) = both(&reference, &ours, |sb| {
            let mut res = Vec::new();
            let o13 = ["-O", "OpenFlow13"];
            let _ = sb.ofctl("br0", &[o13[0], o13[1], "del-flows"]);
            let _ = sb.ofctl("br0", &[o13[0], o13[1], "del-groups"]);
            for g in groups {
                sb.ofctl("br0", &[o13[0], o13[1], "add-group", g])
                    .expect("add-group");
            }
            for f in flows {
                sb.ofctl("br0", &[o13[0], o13[1], "add-flow", f])
                    .expect("add-flow");
            }
            res.push(set_mirrors(sb, &ms));
            let _ = sb.appctl(&["fdb/flush", "br0"]);
            let _ = sb.appctl(&["dpctl/del-flows"]);
            if inject {
                // Learning first, then the traces see learned ports.
                for (port, _, odp) in &pkts {
                    let _ = sb.appctl(&["netdev-dummy/receive", port, odp]);
                }
                settle(sb, injected);
            }
            for (_, f, _) in &pkts {
                res.push(out(sb.appctl(&["ofproto/trace", "br0", f])));
            }
            if inject {
                res.push(out(sb.appctl(&["dpctl/dump-flows"])));
            }
            res
        });
        for (i, (_, f, _)) in pkts.iter().enumerate() {
            traces += 1;
            let (rs, os) = (trace_summary(&r[1 + i]), trace_summary(&o[1 + i]));
            if rs == os {
                same += 1;
            } else if trace_summary_with(&r[1 + i], false) == trace_summary_with(&o[1 + i], false) {
                trunc_order += 1;
            } else {
                failures.push(format!(
                    "case {case} trace {f}\nmirrors: {ms:?}\nflows: {flows:?}\n--- reference\n{}\n--- ours\n{}",
                    r[1 + i], o[1 + i]
                ));
            }
        }
        if inject {
            dumps += 1;
            let k = 1 + pkts.len();
            let (rs, os, n) = common_flows(&canonical_dump(&r[k]), &canonical_dump(&o[k]));
            one_sided += n;
            let (rl, ol, _) = common_flows(
                &canonical_dump_with(&r[k], false),
                &canonical_dump_with(&o[k], false),
            );
            if rs == os {
                same_dumps += 1;
            } else if rl == ol {
                trunc_order += 1;
            } else {
                failures.push(format!(
                    "case {case}: dpctl/dump-flows\nmirrors: {ms:?}\nflows: {flows:?}\npackets: {:?}\n--- reference\n{rs}\n--- ours\n{os}",
                    pkts.iter().map(|p| &p.2).collect::<Vec<_>>()
                ));
            }
        }
    }
    let (rl, ol) = (mirror_log(&reference), mirror_log(&ours));
    eprintln!(
        "mirrors: {same}/{traces} traces and {same_dumps}/{dumps} datapath flow dumps like the reference over {CONFIGS} configurations; \
         {trunc_order} more alike but for which copies a nested mirroring left truncated (flood order); \
         {one_sided} datapath flows in one dump only"
    );
    for f in failures.iter().take(60) {
        eprintln!("{f}\n");
    }
    assert!(traces >= 250, "too few traces ({traces})");
    assert_eq!(rl, ol, "mirror log lines differ");
    assert!(
        failures.is_empty(),
        "{} differences (shown above)",
        failures.len()
    );
}

/// Mirror `statistics` after traffic, and a mirror added while flows are
/// installed: the flows carry the new copies after revalidation.
#[test]
fn mirror_statistics_and_revalidation_like_the_reference() {
    let Some((reference, ours)) = testkit::reference_and_ours(FERROVS, "mirror-stats") else {
        return;
    };
    both(&reference, &ours, setup);
    let ms = vec![
        MirrorSpec {
            select_all: true,
            src: vec![],
            dst: vec![],
            vlans: vec![],
            out_port: Some("p6"),
            out_vlan: None,
            snaplen: None,
        },
        MirrorSpec {
            select_all: false,
            src: vec!["p1", "p3"],
            dst: vec!["p2"],
            vlans: vec![10],
            out_port: None,
            out_vlan: Some(30),
            snaplen: Some(64),
        },
        MirrorSpec {
            select_all: true,
            src: vec![],
            dst: vec![],
            vlans: vec![],
            out_port: None,
            out_vlan: None,
            snaplen: None,
        },
    ];
    let mut rng = Rng(0x3177_0002);
    let pkts: Vec<(String, String, String)> = (0..24).map(|_| gen_packet(&mut rng)).collect();
    let added = [
        ms[0].clone(),
        ms[1].clone(),
        MirrorSpec {
            select_all: false,
            src: vec!["p4", "p5"],
            dst: vec![],
            vlans: vec![],
            out_port: Some("p7"),
            out_vlan: None,
            snaplen: None,
        },
    ];
    let stats = |sb: &Sandbox| {
        out(sb.vsctl(&[
            "--columns=name,statistics",
            "find",
            "mirror",
            "name=m0",
            "--",
            "--columns=name,statistics",
            "find",
            "mirror",
            "name=m1",
            "--",
            "--columns=name,statistics",
            "find",
            "mirror",
            "name=m2",
        ]))
    };
    let (r, o) = both(&reference, &ours, |sb| {
        sb.ofctl("br0", &["add-flow", "actions=NORMAL"])
            .expect("add-flow");
        set_mirrors(sb, &ms);
        for (port, _, odp) in &pkts {
            let _ = sb.appctl(&["netdev-dummy/receive", port, odp]);
        }
        settle(sb, pkts.len() as u64);
        // Statistics are written every stats-update-interval (5 s): wait
        // until m0 (every port) counts every packet not received on its
        // output port (those are dropped unmirrored).
        let want = format!("tx_packets={}", pkts.iter().filter(|p| p.0 != "p6").count());
        let mut last = String::new();
        sb.wait_until(Duration::from_secs(30), || {
            last = stats(sb);
            last.lines().nth(1).is_some_and(|l| l.contains(&want))
        });
        // The same packets again (the flows may have gone idle meanwhile).
        for (port, _, odp) in &pkts {
            let _ = sb.appctl(&["netdev-dummy/receive", port, odp]);
        }
        settle(sb, 2 * pkts.len() as u64);
        let before = canonical_dump(&out(sb.appctl(&["dpctl/dump-flows"])));
        set_mirrors(sb, &added);
        // Ours must re-translate the installed flows. The reference's
        // flows are purged instead (it re-translates them lazily, at its
        // own pace), so that the same packets sent again install flows of
        // the new configuration there, to compare with ours' revalidated
        // ones.
        if sb.stack.vswitchd.exe.starts_with("/usr") {
            let _ = sb.appctl(&["revalidator/purge"]);
        } else {
            settle(sb, 2 * pkts.len() as u64);
        }
        for (port, _, odp) in &pkts {
            let _ = sb.appctl(&["netdev-dummy/receive", port, odp]);
        }
        settle(sb, 3 * pkts.len() as u64);
        let after = canonical_dump(&out(sb.appctl(&["dpctl/dump-flows"])));
        (last, before, after)
    });
    eprintln!("reference statistics:\n{}\nours:\n{}", r.0, o.0);
    assert!(r.0.contains("tx_packets"), "no statistics: {}", r.0);
    assert_eq!(r.0, o.0, "Mirror statistics differ");
    let (rb, ob, _) = common_flows(&r.1, &o.1);
    let (ra, oa, _) = common_flows(&r.2, &o.2);
    assert!(ob.lines().count() > 5, "too few datapath flows: {ob}");
    assert_eq!(rb, ob, "datapath flows before the change differ");
    assert_ne!(ob, oa, "a new mirror did not change the installed flows");
    assert_eq!(ra, oa, "datapath flows after the change differ");
}

/// Mirrors on both bridges of a patch port pair (each bridge applies its
/// own to what crosses it), the 33rd mirror of a bridge refused with
/// upstream's message and left without statistics, and the Bridge's
/// `flood_vlans`.
#[test]
fn patch_ports_limit_and_flood_vlans_like_the_reference() {
    let Some((reference, ours)) = testkit::reference_and_ours(FERROVS, "mirror-patch") else {
        return;
    };
    both(&reference, &ours, setup);
    let traces = [
        (
            "br0",
            "in_port=1,dl_src=50:54:00:00:00:01,dl_dst=50:54:00:00:01:01",
        ),
        (
            "br0",
            "in_port=2,dl_src=50:54:00:00:00:02,dl_dst=ff:ff:ff:ff:ff:ff",
        ),
        (
            "br1",
            "in_port=1,dl_src=50:54:00:00:00:03,dl_dst=50:54:00:00:01:02",
        ),
        (
            "br1",
            "in_port=1,dl_src=50:54:00:00:00:03,dl_dst=50:54:00:00:01:02,dl_vlan=10",
        ),
    ];
    let (r, o) = both(&reference, &ours, |sb| {
        let v = |args: &[&str]| sb.vsctl(args).unwrap_or_else(|e| panic!("{e}"));
        v(&[
            "add-port",
            "br1",
            "q2",
            "--",
            "set",
            "interface",
            "q2",
            "type=dummy",
            "ofport_request=2",
            "--",
            "add-port",
            "br0",
            "pa",
            "--",
            "set",
            "interface",
            "pa",
            "type=patch",
            "options:peer=pb",
            "ofport_request=10",
            "--",
            "add-port",
            "br1",
            "pb",
            "--",
            "set",
            "interface",
            "pb",
            "type=patch",
            "options:peer=pa",
            "ofport_request=10",
        ]);
        for br in ["br0", "br1"] {
            sb.ofctl(br, &["add-flow", "actions=NORMAL"])
                .expect("add-flow");
        }
        v(&[
            "--",
            "--id=@p",
            "get",
            "port",
            "p6",
            "--",
            "--id=@m",
            "create",
            "mirror",
            "name=a",
            "select_all=true",
            "output_port=@p",
            "--",
            "add",
            "bridge",
            "br0",
            "mirrors",
            "@m",
        ]);
        v(&[
            "--",
            "--id=@p",
            "get",
            "port",
            "q2",
            "--",
            "--id=@m",
            "create",
            "mirror",
            "name=b",
            "select_all=true",
            "snaplen=200",
            "output_port=@p",
            "--",
            "add",
            "bridge",
            "br1",
            "mirrors",
            "@m",
        ]);
        let mut res: Vec<String> = traces
            .iter()
            .map(|(br, f)| trace_summary(&out(sb.appctl(&["ofproto/trace", br, f]))))
            .collect();
        for i in 2..=33 {
            let name = format!("name=x{i}");
            v(&[
                "--",
                "--id=@p",
                "get",
                "port",
                "p7",
                "--",
                "--id=@m",
                "create",
                "mirror",
                &name,
                "select_all=true",
                "output_port=@p",
                "--",
                "add",
                "bridge",
                "br0",
                "mirrors",
                "@m",
            ]);
        }
        let x33 = || out(sb.vsctl(&["get", "mirror", "x33", "statistics"]));
        let x32 = || out(sb.vsctl(&["get", "mirror", "x32", "statistics"]));
        // Statistics are written every 5 s: x32 gets them, x33 (refused) not.
        sb.wait_until(Duration::from_secs(20), || x32().contains("tx_packets"));
        res.push(x32());
        res.push(x33());
        res.extend(mirror_log(sb));
        // RSPAN's companion: the Bridge's flood_vlans (no learning there;
        // a change forgets what was learned).
        v(&["set", "bridge", "br0", "flood_vlans=10"]);
        let fdb = || {
            let t = out(sb.appctl(&["fdb/show", "br0"]));
            // Without the age column.
            t.lines()
                .map(|l| {
                    l.rsplit_once(' ')
                        .map_or(l, |(a, _)| a)
                        .trim_end()
                        .to_string()
                })
                .collect::<Vec<_>>()
                .join("\n")
        };
        let mut sent = looked_up(sb);
        for s in 1..=2 {
            for port in ["p2", "p5"] {
                let odp = format!(
                    "in_port({}),eth(src=50:54:00:00:00:0{s},dst=ff:ff:ff:ff:ff:ff),eth_type(0x0800),ipv4(src=10.0.0.1,dst=10.0.0.2,proto=17,tos=0,ttl=64,frag=no),udp(src=7,dst=9)",
                    &port[1..]
                );
                let _ = sb.appctl(&["netdev-dummy/receive", port, &odp]);
                sent += 1;
            }
        }
        settle(sb, sent);
        res.push(fdb());
        for vlan in [10, 20] {
            let f = format!(
                "in_port=1,dl_vlan={vlan},dl_src=50:54:00:00:00:09,dl_dst=50:54:00:00:00:01"
            );
            res.push(trace_summary(&out(sb.appctl(&[
                "ofproto/trace",
                "br0",
                &f,
            ]))));
        }
        v(&["set", "bridge", "br0", "flood_vlans=20"]);
        res.push(fdb());
        res
    });
    assert_eq!(r, o);
}
