//! Differential test of the `dpctl/*` commands: the same command sequence
//! goes to the reference `ovs-vswitchd` (dummy datapath, through
//! `ovs-appctl`) and to our datapath with the same ports (through
//! [`datapath::dpctl::run`]); outputs and error texts must be equal (flow
//! order and ufids aside, which are hash-based on both sides). Skipped,
//! with a message, when the reference is not installed.

use std::sync::Arc;

use datapath::{Dpif, DpifNetdev, PmdConfig};
use netdev::dummy::Dummy;

fn setup_reference(sb: &testkit::Sandbox) {
    sb.add_dummy_bridge("br0", &[], &["p1", "p2", "p3"])
        .unwrap();
    // Upstream's revalidators delete flows they did not install (those of
    // dpctl/add-flow) within a second: keep them still.
    sb.appctl(&["revalidator/pause"]).unwrap();
    // No traffic-made flows: only what the commands add.
    sb.appctl(&["dpctl/del-flows"]).unwrap();
}

fn ours() -> DpifNetdev {
    let dp = DpifNetdev::create("dummy", "ovs-dummy", None, PmdConfig::default()).unwrap();
    for (n, name) in [(1, "p1"), (2, "p2"), (3, "p3")] {
        dp.port_add(Dummy::open(name, "dummy").unwrap(), Some(n))
            .unwrap();
    }
    dp.port_add(Dummy::open("br0", "dummy-internal").unwrap(), Some(100))
        .unwrap();
    dp
}

const KEY: &str = "in_port(1),eth(),eth_type(0x0800),ipv4(frag=no)";

fn commands() -> Vec<Vec<&'static str>> {
    let mut v: Vec<Vec<&'static str>> = vec![
        vec!["dpctl/show"],
        vec!["dpctl/show", "-s"],
        vec!["dpctl/show", "dummy@ovs-dummy"],
        vec!["dpctl/show", "foo"],
        vec!["dpctl/dump-flows"],
        vec!["dpctl/add-flow", KEY, "2"],
        vec!["dpctl/add-flow", KEY, "2"],
        vec!["dpctl/add-flow", "in_port(1),foo(3)", "2"],
        vec!["dpctl/add-flow", "in_port(2),eth(),eth_type(0x0800),ipv4(frag=no)", "bogus"],
        vec!["dpctl/add-flow", "-s", "in_port(2),eth(),eth_type(0x0800),ipv4(frag=no)", "1"],
        vec!["dpctl/mod-flow", "in_port(3),eth(),eth_type(0x0800),ipv4(frag=no)", "1"],
        vec!["dpctl/mod-flow", "--may-create", "in_port(3),eth(),eth_type(0x0800),ipv4(frag=no)", "1"],
        vec!["dpctl/mod-flow", "-s", "in_port(3),eth(),eth_type(0x0800),ipv4(frag=no)", "2"],
        vec!["dpctl/mod-flow", "--clear", "in_port(3),eth(),eth_type(0x0800),ipv4(frag=no)", "2"],
        vec!["dpctl/add-flow", "ufid:1d40e250-d76c-4162-8669-d4bb689de299,in_port(p3),eth(),eth_type(0x0806)", "1,2"],
        vec!["dpctl/get-flow", "ufid:1d40e250-d76c-4162-8669-d4bb689de299"],
        vec!["dpctl/get-flow", "ufid:00000000-d76c-4162-8669-d4bb689de299"],
        vec!["dpctl/del-flow", "ufid:00000000-d76c-4162-8669-d4bb689de299"],
        vec!["dpctl/dump-flows", "type=offloaded"],
        vec!["dpctl/dump-flows", "foo"],
        vec!["dpctl/show"],
        // Keys the datapath refuses (fitness) or accepts.
        vec!["dpctl/add-flow", "in_port(1)", "2"],
        vec!["dpctl/add-flow", "in_port(1),eth()", "2"],
        vec!["dpctl/add-flow", "in_port(1),eth(),eth_type(0x0800),ipv4(proto=6/0xf0,frag=no)", "2"],
        vec!["dpctl/add-flow", "in_port(2),eth(),eth_type(0x0800),ipv4(proto=132,frag=later),sctp(src=80/0xfff0,dst=22)", "2"],
        vec!["dpctl/add-flow", "in_port(2),eth(),eth_type(0x8100),vlan(vid=10,pcp=3),encap(eth_type(0x8100),vlan(vid=5),encap(eth_type(0x86dd)))", "2"],
        vec!["dpctl/add-flow", "in_port(2),eth(),eth_type(0x8100),vlan(vid=10,pcp=3),encap()", "2"],
        vec!["dpctl/add-flow", "in_port(3),eth(),eth_type(0x86dd),ipv6(proto=58,frag=no),icmpv6(type=136,code=0)", "2"],
        vec!["dpctl/add-flow", "in_port(3),eth(),eth_type(0x1234)", "2"],
        vec!["dpctl/add-flow", "in_port(2),eth(),eth_type(0x86dd),ipv6(proto=6,frag=no),tcp(dst=443),tcp_flags(fin)", "1"],
        vec!["dpctl/add-flow", "in_port(2),eth(),eth_type(0x0800),ipv4(proto=17,frag=later)", "1"],
    ];
    for f in [
        "in_port(1),eth(src=50:54:00:00:00:05/ff:ff:ff:00:00:00,dst=50:54:00:00:00:07),eth_type(0x0800),ipv4(src=10.0.0.2/255.255.255.0,dst=10.0.0.1,proto=6,tos=0x10/0xfc,ttl=64/0x3,frag=no),tcp(src=80/0xfff0,dst=22)",
        "in_port(2),eth(),eth_type(0x8100),vlan(vid=10,pcp=3),encap(eth_type(0x0806),arp(sip=1.2.3.4,tip=5.6.7.8,op=1,sha=00:01:02:03:04:05,tha=00:00:00:00:00:00))",
        "skb_priority(0x5),skb_mark(0x7/0xff),recirc_id(0x3),dp_hash(0x5/0xf),in_port(1),eth(),eth_type(0x0800),ipv4(proto=1,frag=no),icmp(type=8,code=0)",
        "ct_state(+new-est),ct_zone(5),ct_mark(0x3/0xf),ct_label(0x5),in_port(3),eth(),eth_type(0x0800),ipv4(frag=no)",
    ] {
        v.push(vec!["dpctl/add-flow", f, "set(ipv4(ttl=9)),2"]);
    }
    v.push(vec!["dpctl/dump-flows"]);
    v.push(vec!["dpctl/dump-flows", "--names"]);
    v.push(vec!["dpctl/dump-flows", "-m"]);
    v.push(vec!["dpctl/dump-flows", "filter=in_port=1"]);
    v.push(vec!["dpctl/dump-flows", "filter=tcp"]);
    v.push(vec!["dpctl/dump-flows", "filter=arp"]);
    v.push(vec!["dpctl/dump-flows", "filter=in_port=9"]);
    v.push(vec!["dpctl/dump-flows", "filter=foo=1"]);
    v.push(vec!["dpctl/dump-flows", "filter=udp,tp_dst=53"]);
    v.push(vec!["dpctl/del-flows"]);
    v.push(vec!["dpctl/dump-flows"]);
    v
}

/// Dump lines in a fixed order, ufids (each side's own hashes) blanked.
fn canonical(text: &str) -> String {
    let mut lines: Vec<String> = text
        .lines()
        .map(|l| match l.strip_prefix("ufid:") {
            Some(rest) if rest.len() >= 36 => format!("ufid:<u>{}", &rest[36..]),
            _ => l.to_string(),
        })
        .collect();
    lines.sort();
    lines.join("\n")
}

#[test]
fn dpctl_commands_answer_as_upstream() {
    if testkit::skip_without_upstream("dpctl_commands_answer_as_upstream") {
        return;
    }
    let sb = testkit::Sandbox::start("dpctl");
    setup_reference(&sb);
    let dp = Arc::new(ours());
    let mut failures = Vec::new();
    for cmd in commands() {
        let r = sb.appctl_outcome(&cmd);
        let reference = if r.status == 0 {
            Ok(r.stdout)
        } else {
            // ovs-appctl prints the server's error text, then its own line.
            let mut lines: Vec<&str> = r.stderr.lines().collect();
            if lines
                .last()
                .is_some_and(|l| l.ends_with("server returned an error"))
            {
                lines.pop();
            }
            Err(lines.iter().map(|l| format!("{l}\n")).collect::<String>())
        };
        let name = cmd[0].trim_start_matches("dpctl/");
        let mine = datapath::dpctl::run(&[&dp], "ovs-vswitchd", name, &cmd[1..]);
        let (a, b) = match (&reference, &mine) {
            (Ok(a), Ok(b)) => (canonical(a), canonical(b)),
            (Err(a), Err(b)) => (a.clone(), b.clone()),
            _ => (format!("{reference:?}"), format!("{mine:?}")),
        };
        // Ufids differ (each side hashes with its own secret) except where
        // the command gave one; compare with them numbered.
        if a != b {
            failures.push(format!("\n{cmd:?}\n  reference: {a:?}\n  ours:      {b:?}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} differ:{}",
        failures.len(),
        failures.join("")
    );
}
