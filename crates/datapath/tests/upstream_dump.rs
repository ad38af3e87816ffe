//! Differential test of the ODP flow key text against the reference.
//!
//! The reference `ovs-vswitchd` (dummy datapath) forwards packets injected
//! with `netdev-dummy/receive` through OpenFlow tables that make megaflows
//! of many shapes, and takes flows given with `dpctl/add-flow`. Every key
//! its `dpctl/dump-flows` (terse and `-m`) prints must survive our round
//! trip text → flow and mask → key and mask attributes → text unchanged,
//! which is exactly what our datapath does when it dumps the same megaflow;
//! and `-m`'s `miniflow_bits` must be what we compute from the mask.
//! Skipped, with a message, when the reference is not installed.

use flow::odp::{
    format_key, key_from_flow, key_to_flow, mask_from_flow, mask_to_flow, parse_key, Support,
};

fn vsctl_setup(sb: &testkit::Sandbox) {
    sb.add_dummy_bridge("br0", &[], &["p1", "p2", "p3"])
        .unwrap();
}

const OF_FLOWS: &[&str] = &[
    "priority=100,ip,in_port=1,nw_dst=10.1.0.0/16,actions=output:2",
    "priority=100,tcp,in_port=1,tp_dst=80,actions=output:3",
    "priority=90,udp,in_port=1,tp_src=0x1000/0xf000,actions=mod_nw_tos:32,output:2",
    "priority=100,ipv6,in_port=1,ipv6_dst=2001:db8::/32,actions=output:2",
    "priority=100,arp,in_port=1,arp_op=1,actions=output:2",
    "priority=100,in_port=2,dl_vlan=10,actions=strip_vlan,output:1",
    "priority=100,icmp,in_port=3,icmp_type=8,actions=output:1",
    "priority=100,tcp,in_port=3,tcp_flags=+syn-ack,actions=output:1",
    "priority=50,in_port=3,actions=NORMAL",
    "priority=0,actions=NORMAL",
];

const PACKETS: &[(&str, &str)] = &[
    ("p1", "in_port(1),eth(src=50:54:00:00:00:05,dst=50:54:00:00:00:07),eth_type(0x0800),ipv4(src=10.0.0.2,dst=10.1.2.3,proto=1,tos=0,ttl=64,frag=no),icmp(type=8,code=0)"),
    ("p1", "in_port(1),eth(src=50:54:00:00:00:05,dst=50:54:00:00:00:07),eth_type(0x0800),ipv4(src=10.0.0.2,dst=10.2.2.3,proto=6,tos=0,ttl=64,frag=no),tcp(src=1234,dst=80)"),
    ("p1", "in_port(1),eth(src=50:54:00:00:00:05,dst=50:54:00:00:00:07),eth_type(0x0800),ipv4(src=10.0.0.2,dst=10.2.2.3,proto=17,tos=0,ttl=64,frag=no),udp(src=4097,dst=53)"),
    ("p1", "in_port(1),eth(src=50:54:00:00:00:05,dst=50:54:00:00:00:07),eth_type(0x86dd),ipv6(src=2001:db8:1::1,dst=2001:db8::2,label=0,proto=17,tclass=0,hlimit=64,frag=no),udp(src=1,dst=2)"),
    ("p1", "in_port(1),eth(src=50:54:00:00:00:05,dst=ff:ff:ff:ff:ff:ff),eth_type(0x0806),arp(sip=10.0.0.2,tip=10.0.0.1,op=1,sha=50:54:00:00:00:05,tha=00:00:00:00:00:00)"),
    ("p2", "in_port(2),eth(src=50:54:00:00:00:07,dst=50:54:00:00:00:05),eth_type(0x8100),vlan(vid=10,pcp=0),encap(eth_type(0x0800),ipv4(src=10.0.0.1,dst=10.0.0.2,proto=1,tos=0,ttl=64,frag=no),icmp(type=0,code=0))"),
    ("p3", "in_port(3),eth(src=50:54:00:00:00:09,dst=50:54:00:00:00:05),eth_type(0x0800),ipv4(src=10.0.0.9,dst=10.0.0.2,proto=1,tos=0,ttl=64,frag=no),icmp(type=8,code=0)"),
    ("p3", "in_port(3),eth(src=50:54:00:00:00:09,dst=50:54:00:00:00:05),eth_type(0x0800),ipv4(src=10.0.0.9,dst=10.0.0.2,proto=6,tos=0,ttl=64,frag=no),tcp(src=5,dst=6),tcp_flags(syn)"),
    ("p3", "in_port(3),eth(src=50:54:00:00:00:09,dst=50:54:00:00:00:05),eth_type(0x86dd),ipv6(src=fe80::1,dst=ff02::1,label=0,proto=58,tclass=0,hlimit=255,frag=no),icmpv6(type=135,code=0),nd(target=fe80::2,sll=50:54:00:00:00:09,tll=00:00:00:00:00:00)"),
    ("p3", "in_port(3),eth(src=50:54:00:00:00:09,dst=50:54:00:00:00:05),eth_type(0x0800),ipv4(src=10.0.0.9,dst=10.0.0.2,proto=17,tos=0,ttl=64,frag=first),udp(src=7,dst=8)"),
];

const ADD_FLOWS: &[&str] = &[
    "in_port(1),eth(src=50:54:00:00:00:05/ff:ff:ff:00:00:00,dst=50:54:00:00:00:07),eth_type(0x0800),ipv4(src=10.0.0.2/255.255.255.0,dst=10.0.0.1,proto=6,tos=0x10/0xfc,ttl=64/0x3,frag=no),tcp(src=80/0xfff0,dst=22)",
    "in_port(2),eth(src=50:54:00:00:00:05,dst=50:54:00:00:00:07),eth_type(0x86dd),ipv6(src=2001:db8::1/ffff::,dst=::1,label=5/0xff,proto=17,tclass=3,hlimit=7,frag=first),udp(src=1,dst=2)",
    "in_port(2),eth(),eth_type(0x8100),vlan(vid=10,pcp=3),encap(eth_type(0x0806),arp(sip=1.2.3.4,tip=5.6.7.8,op=1,sha=00:01:02:03:04:05,tha=00:00:00:00:00:00))",
    "skb_priority(0x5),skb_mark(0x7/0xff),recirc_id(0x3),dp_hash(0x5/0xf),in_port(1),eth(),eth_type(0x0800),ipv4(proto=1,frag=no),icmp(type=8,code=0)",
    "in_port(1),eth(),eth_type(0x0800),ipv4(proto=6,frag=no),tcp(),tcp_flags(+syn-ack)",
    "ct_state(+new-est),ct_zone(5),ct_mark(0x3/0xf),ct_label(0x5),in_port(3),eth(),eth_type(0x0800),ipv4(frag=no)",
    "in_port(3),eth(),eth_type(0x86dd),ipv6(proto=58,frag=no),icmpv6(type=135,code=0),nd(target=::1,sll=00:01:02:03:04:05)",
    "in_port(1),eth(),eth_type(0x8847),mpls(label=100,tc=3,ttl=64,bos=1)",
    "in_port(2),packet_type(ns=1,id=0x800),eth_type(0x0800),ipv4(frag=no)",
    "in_port(3),eth(),eth_type(0x1234)",
    "in_port(2),eth(),eth_type(0x0806),arp(sip=1.2.3.4/255.0.0.0,op=2,sha=00:01:02:03:04:05/ff:ff:ff:00:00:00)",
];

/// Splits a dump line into (key text, miniflow bits if printed).
fn split_line(line: &str, verbose: bool) -> (String, Option<(u32, u32)>) {
    let mut rest = line;
    if verbose {
        if let Some(i) = rest.find(", ") {
            if rest.starts_with("ufid:") {
                rest = &rest[i + 2..];
            }
        }
    }
    let end = rest.find(", packets:").unwrap_or(rest.len());
    let bits = line.find("miniflow_bits(").and_then(|i| {
        let t = &line[i + 14..];
        let close = t.find(')')?;
        let (a, b) = t[..close].split_once(',')?;
        Some((a.parse().ok()?, b.parse().ok()?))
    });
    (rest[..end].to_string(), bits)
}

#[test]
fn dump_flows_keys_round_trip() {
    if testkit::skip_without_upstream("dump_flows_keys_round_trip") {
        return;
    }
    let sb = testkit::Sandbox::start("dpkey");
    vsctl_setup(&sb);
    sb.ofctl("br0", &["del-flows"]).unwrap();
    // Upstream's revalidators would delete dpctl-added flows at once.
    sb.appctl(&["revalidator/pause"]).unwrap();
    for f in OF_FLOWS {
        sb.ofctl("br0", &["add-flow", f]).unwrap();
    }
    for (port, pkt) in PACKETS {
        sb.appctl(&["netdev-dummy/receive", port, pkt]).unwrap();
    }
    for f in ADD_FLOWS {
        sb.appctl(&["dpctl/add-flow", f, "2"]).unwrap();
    }
    let names = |n: &str| -> Option<u32> {
        match n {
            "p1" => Some(1),
            "p2" => Some(2),
            "p3" => Some(3),
            "br0" => Some(100),
            "ovs-dummy" => Some(0),
            _ => None,
        }
    };
    let numbers = |p: u32| -> Option<String> {
        Some(
            match p {
                1 => "p1",
                2 => "p2",
                3 => "p3",
                100 => "br0",
                0 => "ovs-dummy",
                _ => return None,
            }
            .to_string(),
        )
    };
    let support = Support::default();
    let mut checked = 0;
    let mut failures = Vec::new();
    // The terse dump leaves wildcarded attributes out, so it cannot be
    // parsed back faithfully: every flow comes from the -m dump, and the
    // terse text we make of it must be one of the reference's lines.
    let terse_dump = sb.appctl(&["dpctl/dump-flows"]).unwrap();
    let mut terse_ref: Vec<String> = terse_dump
        .lines()
        .filter(|l| !l.starts_with("flow-dump"))
        .map(|l| split_line(l, false).0)
        .collect();
    let mut terse_ours = Vec::new();
    let dump = sb.appctl(&["dpctl/dump-flows", "-m"]).unwrap();
    for line in dump.lines().filter(|l| !l.starts_with("flow-dump")) {
        let (text, bits) = split_line(line, true);
        let (k, m) = match parse_key(&text, Some(&names)) {
            Ok(x) => x,
            Err(e) => {
                failures.push(format!("parse {text}: {e}"));
                continue;
            }
        };
        let (key, _) = key_to_flow(&k);
        let (mask, _) = mask_to_flow(&m, &key);
        let k2 = key_from_flow(&key, Some(&mask), &support);
        let m2 = mask_from_flow(&mask, &key, &support);
        let ours = format_key(&k2, Some(&m2), Some(&numbers), true);
        if ours != text {
            failures.push(format!("\n  reference: {text}\n  ours:      {ours}"));
        }
        terse_ours.push(format_key(&k2, Some(&m2), None, false));
        if let Some(b) = bits {
            let mine = datapath::show::miniflow_bits(&mask);
            if mine != b {
                failures.push(format!("\nminiflow_bits {b:?} vs ours {mine:?} for {text}"));
            }
        }
        checked += 1;
    }
    terse_ref.sort();
    terse_ours.sort();
    if terse_ref != terse_ours {
        failures.push(format!(
            "\nterse dumps differ:\n  reference: {terse_ref:#?}\n  ours: {terse_ours:#?}"
        ));
    }
    assert!(
        checked >= ADD_FLOWS.len() + 5,
        "only {checked} flows dumped"
    );
    assert!(
        failures.is_empty(),
        "{} of {checked} differ:{}",
        failures.len(),
        failures.join("")
    );
}
