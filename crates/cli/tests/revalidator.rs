//! The revalidator of our ovs-vswitchd, on the dummy datapath (no root
//! needed): cached megaflows follow flow-table changes, datapath
//! statistics reach the OpenFlow rules, idle flows expire after
//! `other_config:max-idle`, `revalidator/purge` empties the datapath, and
//! the `upcall/*` commands answer as the reference's do.

use std::time::Duration;
use testkit::{Sandbox, Stack};

const FERROVS: &str = env!("CARGO_BIN_EXE_ferrovs");

/// One ICMP packet from `src` (a MAC suffix) into port p1.
fn packet(n: u8) -> String {
    format!(
        "in_port(1),eth(src=50:54:00:00:00:{n:02x},dst=50:54:00:00:00:07),eth_type(0x0800),\
         ipv4(src=10.0.0.{n},dst=10.0.0.2,proto=1,tos=0,ttl=64,frag=no),icmp(type=8,code=0)"
    )
}

fn setup(sb: &Sandbox) {
    sb.add_dummy_bridge("br0", &[], &["p1", "p2"]).unwrap();
}

fn receive(sb: &Sandbox, n: u8) {
    sb.appctl(&["netdev-dummy/receive", "p1", &packet(n)])
        .unwrap();
}

fn appctl(sb: &Sandbox, args: &[&str]) -> String {
    sb.appctl(args).unwrap_or_else(|e| panic!("{e}"))
}

/// n_packets of the one rule with `needle` in its line.
fn n_packets(sb: &Sandbox, needle: &str) -> u64 {
    let dump = sb.ofctl("br0", &["dump-flows"]).unwrap();
    dump.lines()
        .find(|l| l.contains(needle))
        .and_then(|l| {
            l.split(", ")
                .find_map(|w| w.trim().strip_prefix("n_packets="))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or_else(|| panic!("no rule {needle}: {dump}"))
}

fn datapath_flows(sb: &Sandbox) -> Vec<String> {
    appctl(sb, &["dpctl/dump-flows"])
        .lines()
        .filter(|l| l.starts_with("recirc_id"))
        .map(String::from)
        .collect()
}

#[test]
fn megaflows_follow_the_tables_and_credit_rules() {
    let sb = Sandbox::start_stack("revalidator", Stack::ferrovs(FERROVS), true);
    setup(&sb);
    for n in 1..=3 {
        receive(&sb, n);
    }
    appctl(&sb, &["revalidator/wait"]);
    let flows = datapath_flows(&sb);
    assert_eq!(flows.len(), 3, "{flows:?}");
    assert!(
        flows.iter().all(|f| f.ends_with("actions:2,100")),
        "{flows:?}"
    );
    // The missed packets count for the rule; then the datapath's hits do.
    assert_eq!(n_packets(&sb, "actions=NORMAL"), 3);
    for n in 1..=3 {
        receive(&sb, n);
        receive(&sb, n);
    }
    appctl(&sb, &["revalidator/wait"]);
    assert_eq!(n_packets(&sb, "actions=NORMAL"), 9);

    // A higher-priority drop rule changes the cached flows' actions.
    sb.ofctl("br0", &["add-flow", "priority=100,ip,actions=drop"])
        .unwrap();
    appctl(&sb, &["revalidator/wait"]);
    let flows = datapath_flows(&sb);
    assert_eq!(flows.len(), 3, "{flows:?}");
    assert!(
        flows.iter().all(|f| f.ends_with("actions:drop")),
        "{flows:?}"
    );
    receive(&sb, 1);
    appctl(&sb, &["revalidator/wait"]);
    assert_eq!(n_packets(&sb, "actions=drop"), 1);
    assert_eq!(n_packets(&sb, "actions=NORMAL"), 9);

    // A rule that looks at more fields than the cached flows match on
    // removes them (the next packet installs a new one).
    sb.ofctl(
        "br0",
        &[
            "add-flow",
            "priority=200,ip,nw_src=10.0.0.1,actions=output:2",
        ],
    )
    .unwrap();
    appctl(&sb, &["revalidator/wait"]);
    assert!(datapath_flows(&sb).is_empty(), "{:?}", datapath_flows(&sb));
    receive(&sb, 1);
    appctl(&sb, &["revalidator/wait"]);
    let flows = datapath_flows(&sb);
    assert_eq!(flows.len(), 1, "{flows:?}");
    assert!(flows[0].contains("ipv4(src=10.0.0.1"), "{flows:?}");
    assert!(flows[0].ends_with("actions:2"), "{flows:?}");

    // Purge empties the datapath; upcall/show then counts no flow.
    appctl(&sb, &["revalidator/purge"]);
    assert!(datapath_flows(&sb).is_empty());
    let show = appctl(&sb, &["upcall/show"]);
    assert!(show.contains("(current 0)"), "{show}");
    assert!(show.ends_with("  4: (keys 0)\n"), "{show}");
}

#[test]
fn idle_flows_expire_after_max_idle() {
    let sb = Sandbox::start_stack("revalidator-idle", Stack::ferrovs(FERROVS), true);
    setup(&sb);
    sb.vsctl(&["set", "Open_vSwitch", ".", "other_config:max-idle=200"])
        .unwrap();
    receive(&sb, 1);
    appctl(&sb, &["revalidator/wait"]);
    let gone = sb.wait_until(Duration::from_secs(10), || datapath_flows(&sb).is_empty());
    assert!(gone, "flow not expired: {:?}", datapath_flows(&sb));
}

#[test]
fn learned_macs_turn_flooding_flows_into_unicast() {
    let sb = Sandbox::start_stack("revalidator-mac", Stack::ferrovs(FERROVS), true);
    setup(&sb);
    receive(&sb, 1);
    appctl(&sb, &["revalidator/wait"]);
    // 50:54:00:00:00:07 is unknown: flooded to p2 and the bridge port.
    let flows = datapath_flows(&sb);
    assert_eq!(flows.len(), 1, "{flows:?}");
    assert!(flows[0].ends_with("actions:2,100"), "{flows:?}");
    // It speaks from p2; the cached flow now goes to p2 only.
    sb.appctl(&[
        "netdev-dummy/receive",
        "p2",
        "in_port(2),eth(src=50:54:00:00:00:07,dst=50:54:00:00:00:01),eth_type(0x0800),\
         ipv4(src=10.0.0.2,dst=10.0.0.1,proto=1,tos=0,ttl=64,frag=no),icmp(type=0,code=0)",
    ])
    .unwrap();
    appctl(&sb, &["revalidator/wait"]);
    let flows = datapath_flows(&sb);
    let from1: Vec<&String> = flows
        .iter()
        .filter(|f| f.contains("src=50:54:00:00:00:01"))
        .collect();
    assert_eq!(from1.len(), 1, "{flows:?}");
    assert!(from1[0].ends_with("actions:2"), "{flows:?}");
}

#[test]
fn flow_limit_caps_installed_flows() {
    let sb = Sandbox::start_stack("revalidator-limit", Stack::ferrovs(FERROVS), true);
    setup(&sb);
    sb.vsctl(&["set", "Open_vSwitch", ".", "other_config:flow-limit=2"])
        .unwrap();
    appctl(&sb, &["revalidator/wait"]);
    let show = appctl(&sb, &["upcall/show"]);
    assert!(show.contains("(limit 2)"), "{show}");
    for n in 1..=5 {
        receive(&sb, n);
    }
    let flows = datapath_flows(&sb);
    assert!(flows.len() <= 2, "{flows:?}");
    // Every packet still went through the pipeline.
    assert_eq!(n_packets(&sb, "actions=NORMAL"), 5);
}

#[test]
fn fin_seen_by_the_datapath_lowers_rule_timeouts() {
    let sb = Sandbox::start_stack("revalidator-fin", Stack::ferrovs(FERROVS), true);
    setup(&sb);
    sb.ofctl(
        "br0",
        &[
            "add-flow",
            "priority=10,tcp,idle_timeout=60,actions=fin_timeout(idle_timeout=5),NORMAL",
        ],
    )
    .unwrap();
    let tcp = |flags: &str| {
        format!(
            "in_port(1),eth(src=50:54:00:00:00:01,dst=50:54:00:00:00:07),eth_type(0x0800),\
             ipv4(src=10.0.0.1,dst=10.0.0.2,proto=6,tos=0,ttl=64,frag=no),\
             tcp(src=1000,dst=80),tcp_flags({flags})"
        )
    };
    // The first packet installs the megaflow; the FIN hits it in the
    // datapath, and the revalidator applies fin_timeout.
    sb.appctl(&["netdev-dummy/receive", "p1", &tcp("syn")])
        .unwrap();
    appctl(&sb, &["revalidator/wait"]);
    let dump = sb.ofctl("br0", &["dump-flows"]).unwrap();
    assert!(dump.contains("idle_timeout=60"), "{dump}");
    sb.appctl(&["netdev-dummy/receive", "p1", &tcp("fin")])
        .unwrap();
    appctl(&sb, &["revalidator/wait"]);
    assert_eq!(datapath_flows(&sb).len(), 1, "{:?}", datapath_flows(&sb));
    let dump = sb.ofctl("br0", &["dump-flows"]).unwrap();
    assert!(dump.contains("idle_timeout=5,"), "{dump}");
}

/// Digits replaced, so that two runs compare by shape.
fn shape(text: &str) -> String {
    let mut out = String::new();
    let mut in_digits = false;
    for c in text.chars() {
        if c.is_ascii_digit() {
            if !in_digits {
                out.push('N');
            }
            in_digits = true;
        } else {
            in_digits = false;
            out.push(c);
        }
    }
    out
}

#[test]
fn upcall_commands_answer_as_the_reference() {
    if testkit::skip_without_upstream("upcall_commands_answer_as_the_reference") {
        return;
    }
    let theirs = Sandbox::start_stack("upcall-ref", Stack::upstream(), true);
    let ours = Sandbox::start_stack("upcall-ours", Stack::ferrovs(FERROVS), true);
    for sb in [&theirs, &ours] {
        setup(sb);
        receive(sb, 1);
        receive(sb, 2);
        sb.appctl(&["revalidator/wait"]).unwrap();
    }
    let cmds: [&[&str]; 8] = [
        &["upcall/set-flow-limit", "5000"],
        &["upcall/set-flow-limit", "junk"],
        &["upcall/set-flow-limit"],
        &["upcall/disable-megaflows"],
        &["upcall/enable-megaflows"],
        &["upcall/disable-ufid"],
        &["upcall/enable-ufid"],
        &["revalidator/purge"],
    ];
    for cmd in cmds {
        let a = theirs.appctl_outcome(cmd);
        let b = ours.appctl_outcome(cmd);
        let norm = |s: &str| {
            s.lines()
                .filter(|l| !l.starts_with("ovs-appctl:"))
                .collect::<Vec<_>>()
                .join("\n")
        };
        assert_eq!(a.status, b.status, "{cmd:?}: {a:?} {b:?}");
        assert_eq!(a.stdout, b.stdout, "{cmd:?}");
        assert_eq!(norm(&a.stderr), norm(&b.stderr), "{cmd:?}");
    }
    for sb in [&theirs, &ours] {
        sb.appctl(&["upcall/set-flow-limit", "200000"]).unwrap();
        sb.appctl(&["revalidator/wait"]).unwrap();
    }
    // Counts and durations depend on timing: compare the shape.
    let a = theirs.appctl(&["upcall/show"]).unwrap();
    let b = ours.appctl(&["upcall/show"]).unwrap();
    assert_eq!(shape(&a), shape(&b), "{a}\n{b}");
    assert_eq!(a.lines().next(), b.lines().next());
    assert!(b.contains("(current 0)"), "{b}");
}

/// A megaflow sending to the controller keeps `dont_send=0` when the
/// revalidator translates it again after a table change, as upstream's
/// (revalidation is not a side-effect-free trace).
#[test]
fn revalidated_controller_actions_stay_sendable() {
    let sb = Sandbox::start_stack("reval-ctl", Stack::ferrovs(FERROVS), true);
    setup(&sb);
    sb.ofctl("br0", &["add-flow", "priority=5,actions=controller"])
        .unwrap();
    receive(&sb, 1);
    appctl(&sb, &["revalidator/wait"]);
    let flows = datapath_flows(&sb);
    assert_eq!(flows.len(), 1, "{flows:?}");
    assert!(flows[0].contains("dont_send=0"), "{flows:?}");
    // An unrelated rule makes the revalidator translate the flow again.
    sb.ofctl("br0", &["add-flow", "table=3,priority=1,actions=drop"])
        .unwrap();
    appctl(&sb, &["revalidator/wait"]);
    appctl(&sb, &["revalidator/wait"]);
    let flows = datapath_flows(&sb);
    assert_eq!(flows.len(), 1, "{flows:?}");
    assert!(flows[0].contains("dont_send=0"), "{flows:?}");
}
