//! The ovs-advanced tutorial pipeline (seed 002, lines 5153-5918): the
//! same four-table VLAN and MAC-learning switch built with `learn`, traced
//! with the tutorial's commands (`-generate` ones learn into table 10) in
//! the reference and in our switch; every trace must be identical.

mod xlate_common;

use xlate_common::{first_diff, port, Pair};

const FLOWS: &[&str] = &[
    "table=0, dl_src=01:00:00:00:00:00/01:00:00:00:00:00, actions=drop",
    "table=0, dl_dst=01:80:c2:00:00:00/ff:ff:ff:ff:ff:f0, actions=drop",
    "table=0, priority=0, actions=resubmit(,1)",
    "table=1, priority=0, actions=drop",
    "table=1, priority=99, in_port=1, actions=resubmit(,2)",
    "table=1, priority=99, in_port=2, vlan_tci=0, actions=mod_vlan_vid:20, resubmit(,2)",
    "table=1, priority=99, in_port=3, vlan_tci=0, actions=mod_vlan_vid:30, resubmit(,2)",
    "table=1, priority=99, in_port=4, vlan_tci=0, actions=mod_vlan_vid:30, resubmit(,2)",
    "table=2 actions=learn(table=10, NXM_OF_VLAN_TCI[0..11], NXM_OF_ETH_DST[]=NXM_OF_ETH_SRC[], load:NXM_OF_IN_PORT[]->NXM_NX_REG0[0..15]), resubmit(,3)",
    "table=3 priority=50 actions=resubmit(,10), resubmit(,4)",
    "table=3 priority=99 dl_dst=01:00:00:00:00:00/01:00:00:00:00:00 actions=resubmit(,4)",
    "table=4 reg0=1 actions=1",
    "table=4 reg0=2 actions=strip_vlan,2",
    "table=4 reg0=3 actions=strip_vlan,3",
    "table=4 reg0=4 actions=strip_vlan,4",
    "table=4 reg0=0 priority=99 dl_vlan=20 actions=1,strip_vlan,2",
    "table=4 reg0=0 priority=99 dl_vlan=30 actions=1,strip_vlan,3,4",
    "table=4 reg0=0 priority=50 actions=1",
];

/// (flow, -generate) in the tutorial's order.
const TRACES: &[(&str, bool)] = &[
    ("in_port=1,dl_dst=01:80:c2:00:00:05", false),
    ("in_port=1,dl_dst=01:80:c2:00:00:10", false),
    ("in_port=1,vlan_tci=5", false),
    ("in_port=2", false),
    ("in_port=2,vlan_tci=5", false),
    ("in_port=1,vlan_tci=20,dl_src=50:00:00:00:00:01", true),
    (
        "in_port=1,dl_vlan=20,dl_src=f0:00:00:00:00:01,dl_dst=90:00:00:00:00:01",
        true,
    ),
    (
        "in_port=2,dl_src=90:00:00:00:00:01,dl_dst=f0:00:00:00:00:01",
        true,
    ),
    ("in_port=1,dl_dst=ff:ff:ff:ff:ff:ff,dl_vlan=30", false),
    ("in_port=3,dl_dst=ff:ff:ff:ff:ff:ff", false),
    ("in_port=1,dl_dst=ff:ff:ff:ff:ff:ff", false),
    ("in_port=1,dl_dst=ff:ff:ff:ff:ff:ff,dl_vlan=55", false),
    ("in_port=1,dl_dst=ff:ff:ff:ff:ff:ff,dl_vlan=20", false),
    ("in_port=2,dl_dst=ff:ff:ff:ff:ff:ff", false),
    ("in_port=4,dl_dst=ff:ff:ff:ff:ff:ff", false),
    ("in_port=4,dl_dst=01:00:00:00:00:00", false),
    ("in_port=1,dl_dst=90:12:34:56:78:90,dl_vlan=20", false),
    ("in_port=1,dl_dst=90:12:34:56:78:90,dl_vlan=30", false),
    (
        "in_port=1,dl_vlan=30,dl_src=10:00:00:00:00:01,dl_dst=20:00:00:00:00:01",
        true,
    ),
    (
        "in_port=4,dl_src=20:00:00:00:00:01,dl_dst=10:00:00:00:00:01",
        true,
    ),
    (
        "in_port=1,dl_vlan=30,dl_src=10:00:00:00:00:01,dl_dst=20:00:00:00:00:01",
        true,
    ),
    ("in_port=p1", false),
];

#[test]
fn ovs_advanced_tutorial_traces_like_upstream() {
    let ports = [port("p1", 1), port("p2", 2), port("p3", 3), port("p4", 4)];
    let Some(p) = Pair::start("trace-tutorial", &ports) else {
        return;
    };
    p.load(&[], FLOWS).expect("tutorial flows");
    let mut failures = Vec::new();
    for (flow, generate) in TRACES {
        let r = p.trace_reference(flow, *generate);
        let o = p.trace_ours(flow, *generate);
        if r != o {
            failures.push(format!(
                "{flow} (generate {generate}): {}\n--- reference\n{r}\n--- ours\n{o}",
                first_diff(&r, &o)
            ));
        }
    }
    // The learned flows are the same too.
    let dump = |s: Result<String, String>| {
        let s = s.unwrap_or_default();
        let mut l: Vec<String> = s
            .lines()
            .skip(1)
            .map(|l| {
                testkit::normalize_durations(l)
                    .split(", n_packets")
                    .next()
                    .unwrap_or("")
                    .to_string()
                    + l.split("idle_age").nth(1).map(|_| "").unwrap_or("")
            })
            .collect();
        l.sort();
        l
    };
    let r = dump(
        p.reference
            .ofctl("br0", &["dump-flows", "br0", "table=10"])
            .or_else(|_| p.reference.ofctl("br0", &["dump-flows", "table=10"])),
    );
    let o = dump(p.ofctl_ours(&["dump-flows", "table=10"]));
    if r != o {
        failures.push(format!("learned flows differ:\n{r:?}\n{o:?}"));
    }
    for f in &failures {
        eprintln!("{f}\n");
    }
    assert!(
        failures.is_empty(),
        "{} tutorial checks differ",
        failures.len()
    );
}

#[test]
fn trace_command_arguments_and_errors_like_upstream() {
    let ports = [port("p1", 1), port("p2", 2)];
    let Some(p) = Pair::start("trace-args", &ports) else {
        return;
    };
    p.load(
        &[],
        &["in_port=1,actions=output:2", "in_port=2,actions=output:1"],
    )
    .expect("flows");
    let cases: &[&[&str]] = &[
        &["br0", "in_port=1"],
        &["br0", "in_port=p1,tcp"],
        &["br9", "in_port=1"],
        &["br0", "in_port=1,foo=1"],
        &["br0"],
        &["in_port=1"],
        &["br0", "in_port=1", "0000000000010000000000020800"],
        &["br0", "in_port=1", "zz"],
        &["br0", "in_port=1,tcp", "-generate"],
        &["br0", "in_port=2", "ffffffffffff00000000000108060001080006040001000000000001c0a80001000000000000c0a80002"],
        &["in_port(1),eth(src=00:00:00:00:00:01,dst=00:00:00:00:00:02),eth_type(0x0800),ipv4(src=1.1.1.1,dst=2.2.2.2,proto=6,tos=0,ttl=64,frag=no),tcp(src=1,dst=2)"],
        &["ovs-dummy", "in_port(2),eth(src=00:00:00:00:00:01,dst=00:00:00:00:00:02),eth_type(0x0806),arp(sip=1.1.1.1,tip=2.2.2.2,op=1,sha=00:00:00:00:00:01,tha=00:00:00:00:00:00)"],
    ];
    let packet_outs: &[&[&str]] = &[
        &[
            "br0",
            "in_port=1,tcp",
            "mod_dl_src:00:00:00:00:00:01,output:2,resubmit(,1)",
        ],
        &["br0", "in_port=1", "foo"],
        &["-consistent", "br0", "in_port=1", "mod_nw_src:1.1.1.1"],
        &["br0", "in_port=1", "controller"],
        &["br0", "in_port=2,ip", "dec_ttl,output:1"],
        &[
            "br0",
            "in_port=1",
            "0000000000010000000000020800",
            "output:2,IN_PORT",
        ],
    ];
    let mut failures = Vec::new();
    let norm = |x: Result<String, String>| match x {
        Ok(s) => format!("OK\n{}", xlate_common::normalize_recirc(&s)),
        Err(e) => format!(
            "ERR {}",
            e.lines()
                .find(|l| !l.contains("server returned an error"))
                .map(|l| l.rsplit(": exit 2: ").next().unwrap_or(l).to_string())
                .unwrap_or_default()
        ),
    };
    for args in packet_outs {
        let r = norm(p.trace_packet_out_reference(args));
        let o = norm(p.trace_packet_out_ours(args));
        if r != o {
            failures.push(format!(
                "packet-out {args:?}: {}\n--- reference\n{r}\n--- ours\n{o}",
                first_diff(&r, &o)
            ));
        }
    }
    for args in cases {
        let r = p.trace_reference_args(args);
        let o = p.trace_ours_args(args);
        let (r, o) = (norm(r), norm(o));
        if r != o {
            failures.push(format!(
                "{args:?}: {}\n--- reference\n{r}\n--- ours\n{o}",
                first_diff(&r, &o)
            ));
        }
    }
    for f in &failures {
        eprintln!("{f}\n");
    }
    assert!(
        failures.is_empty(),
        "{} argument forms differ",
        failures.len()
    );
}
