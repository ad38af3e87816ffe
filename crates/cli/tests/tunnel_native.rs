//! Native tunnelling on the dummy datapath, against the reference: the
//! same commands to the reference ovs-vswitchd and to ours (both driven by
//! the reference tools) — `ovs/route/*` and `tnl/neigh/*` with their
//! errors, `tnl/ports/show`, `ofproto/trace` of VXLAN, GRE and Geneve
//! (IPv4 and IPv6) pushes and of pops; then packets: an ARP request going
//! out of the underlay when the neighbour is unknown, ARP replies snooped
//! into the neighbour cache (only those for the bridge's own address),
//! encapsulated frames received on the underlay delivered to the overlay
//! port, and the overlay's packets leaving encapsulated.
//!
//! Needs the reference (skips with a message without it).

use std::time::Duration;

use testkit::Sandbox;

const FERROVS: &str = env!("CARGO_BIN_EXE_ferrovs");

/// A step's words made at run time (steps hold `'static` texts).
fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

/// One step: a tool and its words.
enum Step {
    Vsctl(&'static str),
    Ofctl(&'static str, &'static str),
    Appctl(&'static str),
    /// An appctl command whose output lines are compared sorted (the
    /// reference lists them in hash order).
    AppctlSorted(&'static str),
}

fn words(s: &str) -> Vec<&str> {
    s.split(' ').filter(|w| !w.is_empty()).collect()
}

fn run_step(sb: &Sandbox, step: &Step) -> String {
    let (what, o) = match step {
        Step::Vsctl(a) => (format!("ovs-vsctl {a}"), sb.vsctl_outcome(&words(a))),
        Step::Ofctl(br, a) => {
            let mut w = words(a);
            // Flow texts may hold spaces; they are given after '|'.
            if let Some(pos) = a.find('|') {
                w = words(&a[..pos]);
                w.push(&a[pos + 1..]);
            }
            (format!("ovs-ofctl {a}"), sb.ofctl_outcome(br, &w))
        }
        Step::Appctl(a) | Step::AppctlSorted(a) => {
            let mut w = words(a);
            if let Some(pos) = a.find('|') {
                w = words(&a[..pos]);
                w.push(&a[pos + 1..]);
            }
            (format!("ovs-appctl {a}"), sb.appctl_outcome(&w))
        }
    };
    let mut out = o.stdout;
    if matches!(step, Step::AppctlSorted(_)) {
        let mut lines: Vec<&str> = out.lines().collect();
        lines.sort();
        out = lines.join("\n");
    }
    // The error line names the sandbox's control socket.
    let dir = sb.dir.display().to_string();
    let err: String = o
        .stderr
        .lines()
        .map(|l| match l.find(": server returned an error") {
            Some(_) if l.contains(&dir) => {
                "ovs-appctl: CONTROL: server returned an error\n".to_string()
            }
            _ => format!("{l}\n"),
        })
        .collect();
    format!("$ {what}\nexit {}\n{out}{err}", o.status).replace(&dir, "SANDBOX")
}

/// Runs `steps` on both; returns the differing steps.
fn compare(reference: &Sandbox, ours: &Sandbox, steps: &[Step]) -> Vec<String> {
    testkit::differing_steps(reference, ours, steps, run_step)
}

const UNDERLAY: &[Step] = &[
    Step::Vsctl("add-br br0 -- set bridge br0 datapath_type=dummy other-config:hwaddr=aa:55:aa:55:00:00 -- add-port br0 p0 -- set interface p0 type=dummy ofport_request=1 other-config:hwaddr=aa:55:aa:55:00:00"),
    Step::Vsctl("add-br int-br -- set bridge int-br datapath_type=dummy -- add-port int-br t2 -- set interface t2 type=vxlan options:remote_ip=1.1.2.92 options:key=123 ofport_request=2 -- add-port int-br t1 -- set Interface t1 type=gre options:remote_ip=1.1.2.92 options:key=456 ofport_request=3 -- add-port int-br t4 -- set Interface t4 type=geneve options:remote_ip=flow options:key=123 ofport_request=5 -- add-port int-br t3 -- set Interface t3 type=vxlan options:remote_ip=1.1.2.93 options:out_key=flow options:csum=true ofport_request=4 -- add-port int-br vm1 -- set interface vm1 type=dummy ofport_request=10"),
    Step::Appctl("netdev-dummy/ip4addr br0 1.1.2.88/24"),
    Step::Appctl("netdev-dummy/ip6addr br0 2001:cafe::88/24"),
    Step::Appctl("netdev-dummy/ip4addr nosuch 1.1.2.88/24"),
    Step::Appctl("netdev-dummy/ip4addr br0 1.1.2.88/33"),
    Step::Appctl("netdev-dummy/ip6addr br0 zz/64"),
    Step::Appctl("ovs/route/add 1.1.2.92/24 br0"),
    Step::Appctl("ovs/route/add 2001:cafe::92/24 br0"),
    Step::Appctl("ovs/route/add 1.1.2.92/24 br0 pkt_mark=1234"),
];

#[test]
fn route_and_neighbour_commands_match_upstream() {
    let Some((reference, ours)) = testkit::reference_and_ours(FERROVS, "tnl-cmds") else {
        return;
    };
    let mut steps: Vec<Step> = Vec::new();
    for s in [
        "ovs/route/add 10.0.0.0/8 br0 1.1.2.1",
        "ovs/route/add 10.1.0.0/16 br0 1.1.2.2 pkt_mark=7",
        "ovs/route/add 10.2.0.0/16 br0",
        "ovs/route/add 0.0.0.0/0 br0 1.1.2.254",
        "ovs/route/add 10.2.0.5/33 br0",
        "ovs/route/add 10.2.0.5/32 nosuch",
        "ovs/route/add 10.2.0.5/32 br0 zzz",
        "ovs/route/add 10.3.0.0/16 br0 1.1.2.2 pkt_mark=x",
        "ovs/route/add 10.3.0.0/16 br0 9.9.9.9",
        "ovs/route/add 2001:db8::/64 br0 2001:cafe::1",
        "ovs/route/show",
        "ovs/route/lookup 10.1.2.3",
        "ovs/route/lookup 10.1.2.3 pkt_mark=7",
        "ovs/route/lookup 8.8.8.8 pkt_mark=7",
        "ovs/route/lookup 2001:db8::5",
        "ovs/route/lookup zzz",
        "ovs/route/del 10.1.0.0/16",
        "ovs/route/del 10.1.0.0/16 pkt_mark=7",
        "ovs/route/del 10.1.0.0/16 pkt_mark=7",
        "ovs/route/del zz",
        "ovs/route/show",
        "tnl/neigh/show",
        "tnl/arp/set br0 1.1.2.92 f8:bc:12:44:34:b6",
        "tnl/neigh/set br0 2001:cafe::92 f8:bc:12:44:34:c8",
        "tnl/neigh/set br0 1.1.2.93 zz",
        "tnl/neigh/set br0 1.1.2 f8:bc:12:44:34:b6",
        "tnl/neigh/aging",
        "tnl/neigh/aging 100",
        "tnl/neigh/aging 0",
        "tnl/neigh/aging 4000",
        "tnl/arp/aging",
        "tnl/neigh/flush br0",
    ] {
        steps.push(Step::Appctl(s));
    }
    steps.push(Step::AppctlSorted("tnl/ports/show"));
    steps.push(Step::AppctlSorted("tnl/neigh/show"));
    steps.push(Step::AppctlSorted("tnl/arp/show"));
    steps.push(Step::AppctlSorted("tnl/ports/show -v"));
    steps.push(Step::Appctl("ovs/route/add 1.1.2.92/24 br0"));
    steps.push(Step::AppctlSorted("tnl/ports/show -v"));
    steps.push(Step::Appctl("tnl/arp/flush"));
    steps.push(Step::Appctl("tnl/neigh/show"));
    let mut all: Vec<&Step> = UNDERLAY.iter().collect();
    all.extend(steps.iter());
    let mut diffs = Vec::new();
    for s in all {
        diffs.extend(compare(&reference, &ours, std::slice::from_ref(s)));
    }
    assert!(
        diffs.is_empty(),
        "{} differences:\n{}",
        diffs.len(),
        diffs.join("\n")
    );
}

const TRACE_IN: &str = "in_port=LOCAL,dl_src=50:54:00:00:00:05,dl_dst=50:54:00:00:00:07,ip,nw_src=192.168.0.1,nw_dst=192.168.0.2,nw_ttl=64,nw_tos=0x11";

/// For each flow: int-br's table replaced by that one flow, then a trace
/// of [`TRACE_IN`]; returns the differing steps.
fn trace_each(reference: &Sandbox, ours: &Sandbox, flows: &[&str]) -> Vec<String> {
    let mut diffs = Vec::new();
    for flow in flows {
        let steps = [
            Step::Ofctl("int-br", "del-flows"),
            Step::Ofctl("int-br", leak(format!("add-flow |{flow}"))),
            Step::Appctl(leak(format!("ofproto/trace int-br {TRACE_IN}"))),
        ];
        diffs.extend(compare(reference, ours, &steps));
    }
    diffs
}

#[test]
fn push_and_pop_traces_match_upstream() {
    let Some((reference, ours)) = testkit::reference_and_ours(FERROVS, "tnl-trace") else {
        return;
    };
    let mut diffs = compare(&reference, &ours, UNDERLAY);
    let setup = [
        Step::Appctl("tnl/arp/set br0 1.1.2.92 f8:bc:12:44:34:b6"),
        Step::Appctl("tnl/neigh/set br0 1.1.2.93 f8:bc:12:44:34:b7"),
        Step::Appctl("tnl/neigh/set br0 2001:cafe::92 f8:bc:12:44:34:c8"),
    ];
    diffs.extend(compare(&reference, &ours, &setup));
    diffs.extend(trace_each(
        &reference,
        &ours,
        &[
            "actions=2",
            "actions=3",
            "actions=set_tunnel:124,4",
            "actions=set_field:1.1.2.92->tun_dst,5",
            "actions=set_field:2001:cafe::92->tun_ipv6_dst,5",
            "actions=set_field:9.9.9.9->tun_dst,5",
            "actions=set_field:1.1.2.99->tun_dst,5",
            "actions=2,10",
            "actions=mod_dl_src:00:00:00:00:00:01,3,2",
        ],
    ));
    let pops = [
        Step::Ofctl("int-br", "del-flows"),
        Step::Ofctl("int-br", "add-flow |in_port=2,actions=10"),
        Step::Ofctl("int-br", "add-flow |in_port=3,actions=10"),
        Step::Ofctl("int-br", "add-flow |in_port=4,actions=10"),
        Step::Ofctl("int-br", "add-flow |priority=0,actions=drop"),
        Step::Appctl("ofproto/trace ovs-dummy in_port(1),eth(src=f8:bc:12:44:34:b6,dst=aa:55:aa:55:00:00),eth_type(0x0800),ipv4(src=1.1.2.92,dst=1.1.2.88,proto=17,tos=0,ttl=64,frag=no),udp(src=51283,dst=4789)"),
        Step::Appctl("ofproto/trace ovs-dummy in_port(1),eth(src=f8:bc:12:44:34:b6,dst=aa:55:aa:55:00:00),eth_type(0x0800),ipv4(src=1.1.2.92,dst=1.1.2.88,proto=47,tos=0,ttl=64,frag=no)"),
        Step::Appctl("ofproto/trace ovs-dummy in_port(1),eth(src=f8:bc:12:44:34:b6,dst=aa:55:aa:55:00:00),eth_type(0x0800),ipv4(src=1.1.2.92,dst=1.1.2.88,proto=17,tos=0,ttl=64,frag=no),udp(src=51283,dst=6081)"),
        Step::Appctl("ofproto/trace ovs-dummy in_port(1),eth(src=f8:bc:12:44:34:b6,dst=aa:55:aa:55:00:00),eth_type(0x86dd),ipv6(src=2001:cafe::92,dst=2001:cafe::88,proto=17,tclass=0,hlimit=64,frag=no),udp(src=51283,dst=4789)"),
        Step::Appctl("ofproto/trace ovs-dummy in_port(1),eth(src=f8:bc:12:44:34:b6,dst=aa:55:aa:55:00:00),eth_type(0x0800),ipv4(src=1.1.2.92,dst=1.1.2.89,proto=17,tos=0,ttl=64,frag=no),udp(src=51283,dst=4789)"),
        Step::Appctl("ofproto/trace ovs-dummy tunnel(tun_id=0x7b,src=1.1.2.92,dst=1.1.2.88,ttl=64,flags(-df-csum+key)),in_port(4789),eth(src=f8:bc:12:44:34:b6,dst=aa:55:aa:55:00:00),eth_type(0x0800),ipv4(src=1.1.3.92,dst=1.1.3.88,proto=1,tos=0,ttl=64,frag=no),icmp(type=0,code=0)"),
        Step::Appctl("ofproto/trace ovs-dummy tunnel(tun_id=0x7c,src=1.1.2.92,dst=1.1.2.88,ttl=64,flags(-df-csum+key)),in_port(4789),eth(src=f8:bc:12:44:34:b6,dst=aa:55:aa:55:00:00),eth_type(0x0800),ipv4(src=1.1.3.92,dst=1.1.3.88,proto=1,tos=0,ttl=64,frag=no),icmp(type=0,code=0)"),
        Step::Appctl("ofproto/trace ovs-dummy tunnel(tun_id=0x0,src=1.1.2.93,dst=1.1.2.88,ttl=64,flags(-df-csum+key)),in_port(4789),eth(src=f8:bc:12:44:34:b6,dst=aa:55:aa:55:00:00),eth_type(0x0800),ipv4(src=1.1.3.92,dst=1.1.3.88,proto=1,tos=0,ttl=64,frag=no),icmp(type=0,code=0)"),
        Step::Appctl("ofproto/trace ovs-dummy tunnel(tun_id=0x1c8,src=1.1.2.92,dst=1.1.2.88,ttl=64,flags(-df-csum+key)),in_port(3),eth(src=f8:bc:12:44:34:b6,dst=aa:55:aa:55:00:00),eth_type(0x0800),ipv4(src=1.1.3.92,dst=1.1.3.88,proto=1,tos=0,ttl=64,frag=no),icmp(type=0,code=0)"),
    ];
    diffs.extend(compare(&reference, &ours, &pops));
    assert!(
        diffs.is_empty(),
        "{} differences:\n{}",
        diffs.len(),
        diffs.join("\n")
    );
}

fn ip_checksum(h: &[u8]) -> u16 {
    let mut acc: u32 = 0;
    for c in h.chunks(2) {
        acc += u32::from(u16::from_be_bytes([c[0], c.get(1).copied().unwrap_or(0)]));
    }
    while acc >> 16 != 0 {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    !(acc as u16)
}

/// An Ethernet/IPv4/ICMP echo from 192.168.0.1 to 192.168.0.2.
fn inner_frame() -> Vec<u8> {
    let mut f = vec![0x50, 0x54, 0, 0, 0, 7, 0x50, 0x54, 0, 0, 0, 5, 0x08, 0x00];
    let mut ip = vec![
        0x45, 0, 0, 28, 0, 1, 0, 0, 64, 1, 0, 0, 192, 168, 0, 1, 192, 168, 0, 2,
    ];
    let c = ip_checksum(&ip);
    ip[10..12].copy_from_slice(&c.to_be_bytes());
    f.extend_from_slice(&ip);
    let mut icmp = vec![8, 0, 0, 0, 0, 1, 0, 1];
    let c = ip_checksum(&icmp);
    icmp[2..4].copy_from_slice(&c.to_be_bytes());
    f.extend_from_slice(&icmp);
    f
}

/// `inner` in an outer Ethernet/IPv4 header from 1.1.2.92 to 1.1.2.88
/// carrying `proto` with `l4` in front of the inner frame.
fn outer_frame(proto: u8, l4: &[u8], inner: &[u8]) -> Vec<u8> {
    let mut f = vec![
        0xaa, 0x55, 0xaa, 0x55, 0, 0, 0xf8, 0xbc, 0x12, 0x44, 0x34, 0xb6, 0x08, 0x00,
    ];
    let total = (20 + l4.len() + inner.len()) as u16;
    let mut ip = vec![
        0x45, 0, 0, 0, 0, 7, 0x40, 0, 64, proto, 0, 0, 1, 1, 2, 92, 1, 1, 2, 88,
    ];
    ip[2..4].copy_from_slice(&total.to_be_bytes());
    let c = ip_checksum(&ip);
    ip[10..12].copy_from_slice(&c.to_be_bytes());
    f.extend_from_slice(&ip);
    f.extend_from_slice(l4);
    f.extend_from_slice(inner);
    f
}

fn gre_frame(key: u32, inner: &[u8]) -> Vec<u8> {
    let mut gre = vec![0x20, 0x00, 0x65, 0x58];
    gre.extend_from_slice(&key.to_be_bytes());
    outer_frame(47, &gre, inner)
}

fn vxlan_frame(vni: u32, inner: &[u8]) -> Vec<u8> {
    let len = (8 + 8 + inner.len()) as u16;
    let mut l4 = vec![0xc8, 0x53, 0x12, 0xb5];
    l4.extend_from_slice(&len.to_be_bytes());
    l4.extend_from_slice(&[0, 0, 0x08, 0, 0, 0]);
    l4.extend_from_slice(&(vni << 8).to_be_bytes());
    outer_frame(17, &l4, inner)
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// vm1's transmitted packets per `dump-ports`.
fn tx_packets(sb: &Sandbox, port: &str) -> u64 {
    let out = sb
        .ofctl("int-br", &["dump-ports", port])
        .unwrap_or_default();
    out.split("tx pkts=")
        .nth(1)
        .and_then(|s| s.split(',').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

#[test]
fn packets_cross_the_tunnels_like_upstream() {
    let Some((reference, ours)) = testkit::reference_and_ours(FERROVS, "tnl-pkts") else {
        return;
    };
    let mut diffs = compare(&reference, &ours, UNDERLAY);
    let setup = [
        Step::Ofctl("br0", "add-flow |actions=normal"),
        Step::Ofctl("int-br", "add-flow |in_port=LOCAL,actions=2"),
        Step::Ofctl("int-br", "add-flow |in_port=2,actions=10"),
        Step::Ofctl("int-br", "add-flow |in_port=3,actions=10"),
    ];
    diffs.extend(compare(&reference, &ours, &setup));
    assert!(diffs.is_empty(), "{}", diffs.join("\n"));
    let both = [&reference, &ours];
    for sb in both {
        let pcap = format!("options:pcap={}", sb.path("p0.pcap"));
        sb.vsctl(&["set", "Interface", "p0", &pcap]).unwrap();
    }

    // No neighbour yet: the overlay's packet becomes an ARP request out
    // of the underlay.
    let inner = hex(&inner_frame());
    for sb in both {
        sb.appctl(&["netdev-dummy/receive", "int-br", &inner])
            .unwrap();
    }
    let arp =
        "ffffffffffffaa55aa55000008060001080006040001aa55aa550000010102580000000000000101025c";
    for (sb, who) in both.iter().zip(["reference", "ours"]) {
        let seen = sb.wait_until(Duration::from_secs(10), || {
            sb.pcap("p0.pcap").iter().any(|f| hex(f) == arp)
        });
        let frames: Vec<String> = sb.pcap("p0.pcap").iter().map(|f| hex(f)).collect();
        assert!(seen, "{who}: no ARP request on p0: {frames:?}");
    }

    // ARP replies: one for our address is learned, one for another is not.
    for sb in both {
        sb.appctl(&["netdev-dummy/receive", "p0", "recirc_id(0),in_port(1),eth(src=f8:bc:12:44:34:b8,dst=ff:ff:ff:ff:ff:ff),eth_type(0x0806),arp(sip=1.1.2.93,tip=1.1.2.90,op=2,sha=f8:bc:12:44:34:b8,tha=00:00:00:00:00:00)"]).unwrap();
        sb.appctl(&["netdev-dummy/receive", "p0", "recirc_id(0),in_port(1),eth(src=f8:bc:12:44:34:b6,dst=ff:ff:ff:ff:ff:ff),eth_type(0x0806),arp(sip=1.1.2.92,tip=1.1.2.88,op=2,sha=f8:bc:12:44:34:b6,tha=00:00:00:00:00:00)"]).unwrap();
    }
    for (sb, who) in both.iter().zip(["reference", "ours"]) {
        let learned = sb.wait_until(Duration::from_secs(10), || {
            let _ = sb.appctl(&["time/warp", "100"]);
            sb.appctl(&["tnl/neigh/show"])
                .unwrap_or_default()
                .contains("1.1.2.92                                      f8:bc:12:44:34:b6   br0")
        });
        assert!(learned, "{who}: ARP reply not snooped");
        let show = sb.appctl(&["tnl/neigh/show"]).unwrap_or_default();
        assert!(
            !show.contains("1.1.2.93"),
            "{who}: learned a reply for another host: {show}"
        );
    }

    // Now the overlay's packets leave VXLAN-encapsulated.
    for sb in both {
        sb.appctl(&["netdev-dummy/receive", "int-br", &inner])
            .unwrap();
    }
    let mut encapped = Vec::new();
    for (sb, who) in both.iter().zip(["reference", "ours"]) {
        let mut found = None;
        sb.wait_until(Duration::from_secs(10), || {
            found = sb
                .pcap("p0.pcap")
                .into_iter()
                .find(|f| f.len() == 50 + inner_frame().len());
            found.is_some()
        });
        let mut f = found.unwrap_or_else(|| panic!("{who}: no VXLAN frame on p0"));
        // The UDP source port comes from a hash of the inner flow.
        f[34] = 0;
        f[35] = 0;
        encapped.push(hex(&f));
    }
    assert_eq!(
        encapped[0], encapped[1],
        "encapsulated frames differ (reference, ours)"
    );

    // Encapsulated frames received on the underlay reach vm1.
    for sb in both {
        sb.appctl(&[
            "netdev-dummy/receive",
            "p0",
            &hex(&gre_frame(456, &inner_frame())),
        ])
        .unwrap();
        sb.appctl(&[
            "netdev-dummy/receive",
            "p0",
            &hex(&vxlan_frame(123, &inner_frame())),
        ])
        .unwrap();
    }
    for (sb, who) in both.iter().zip(["reference", "ours"]) {
        let got = sb.wait_until(Duration::from_secs(10), || {
            let _ = sb.appctl(&["time/warp", "100"]);
            tx_packets(sb, "10") >= 2
        });
        assert!(
            got,
            "{who}: decapsulated packets did not reach vm1 ({})",
            tx_packets(sb, "10")
        );
    }
    // The tunnel ports counted what they received (the revalidator
    // credits the flows' packets as it passes).
    let mut stats = Vec::new();
    for sb in both {
        let mut out = String::new();
        sb.wait_until(Duration::from_secs(10), || {
            let _ = sb.appctl(&["time/warp", "500"]);
            out = ["2", "3"]
                .iter()
                .map(|p| sb.ofctl("int-br", &["dump-ports", p]).unwrap_or_default())
                .collect();
            out.contains("port  2: rx pkts=1") && out.contains("port  3: rx pkts=1")
        });
        // (Received counts only: the reference also counts as sent the
        // packets its tunnels dropped for want of a neighbour.)
        let rx: Vec<&str> = out.lines().filter(|l| l.contains("rx pkts")).collect();
        stats.push(rx.join("\n"));
    }
    assert_eq!(
        stats[0], stats[1],
        "tunnel port statistics (reference, ours)"
    );
}

/// The log lines of `sb`'s ovs-vswitchd that contain `what`, without
/// their timestamps and sequence numbers.
fn log_lines(sb: &Sandbox, what: &str) -> Vec<String> {
    std::fs::read_to_string(sb.path("ovs-vswitchd.log"))
        .unwrap_or_default()
        .lines()
        .filter(|l| l.contains(what))
        .map(|l| l.splitn(3, '|').nth(2).unwrap_or(l).to_string())
        .collect()
}

#[test]
fn identical_tunnels_are_refused_like_upstream() {
    let Some((reference, ours)) = testkit::reference_and_ours(FERROVS, "tnl-dup") else {
        return;
    };
    let steps = [
        Step::Vsctl("add-br int-br -- set bridge int-br datapath_type=dummy -- add-port int-br t2 -- set interface t2 type=vxlan options:remote_ip=1.1.2.92 options:key=123 ofport_request=2"),
        Step::Vsctl("add-port int-br t9 -- set interface t9 type=vxlan options:remote_ip=1.1.2.92 options:key=123"),
        Step::Vsctl("add-port int-br t8 -- set interface t8 type=vxlan options:remote_ip=1.1.2.92 options:key=124 ofport_request=8"),
        Step::Vsctl("--columns=name,ofport,error list interface t9 t8"),
        Step::Vsctl("add-port int-br g1 -- set interface g1 type=gre options:remote_ip=flow options:in_key=flow ofport_request=11"),
        Step::Vsctl("add-port int-br g2 -- set interface g2 type=gre options:remote_ip=flow options:key=flow"),
        Step::Vsctl("--columns=name,ofport,error list interface g2"),
    ];
    let diffs = compare(&reference, &ours, &steps);
    assert!(diffs.is_empty(), "{}", diffs.join("\n"));
    for what in ["attempting to add tunnel port", "could not add port"] {
        let r = log_lines(&reference, what);
        let o = log_lines(&ours, what);
        assert!(!r.is_empty(), "the reference logged no '{what}'");
        // The reference retries failed interfaces at every reconfiguration;
        // each attempt logs the same lines.
        let mut r1 = r.clone();
        r1.dedup();
        let mut o1 = o.clone();
        o1.dedup();
        let (mut rs, mut os) = (r1.clone(), o1.clone());
        rs.sort();
        rs.dedup();
        os.sort();
        os.dedup();
        // The reference logs "could not add port" through one rate limiter
        // for all of ofproto.c (a burst of 5, then 1 a minute): once it has
        // logged 5, it may drop a later port's line that ours, which does
        // not limit it, still prints.
        let limited = what == "could not add port" && r.len() >= 5;
        if limited {
            let missing: Vec<_> = rs.iter().filter(|l| !os.contains(l)).collect();
            assert!(
                missing.is_empty(),
                "log lines '{what}' missing from ours: {missing:?}"
            );
        } else {
            assert_eq!(rs, os, "log lines '{what}' differ");
        }
    }
}

/// The underlay of `UNDERLAY` with tunnels of the other types: ERSPAN
/// versions 1 and 2 (IPv4 and IPv6), GTP-U, Geneve with a TLV map, and the
/// types upstream's userspace datapath cannot build a header for (STT,
/// LISP, bare UDP).
const MORE_TYPES: &[Step] = &[
    Step::Vsctl("add-br br0 -- set bridge br0 datapath_type=dummy other-config:hwaddr=aa:55:aa:55:00:00 -- add-port br0 p0 -- set interface p0 type=dummy ofport_request=1 other-config:hwaddr=aa:55:aa:55:00:00"),
    Step::Appctl("netdev-dummy/ip4addr br0 1.1.2.88/24"),
    Step::Appctl("netdev-dummy/ip6addr br0 2001:cafe::88/24"),
    Step::Appctl("ovs/route/add 1.1.2.92/24 br0"),
    Step::Appctl("ovs/route/add 2001:cafe::92/24 br0"),
    Step::Vsctl("add-br int-br -- set bridge int-br datapath_type=dummy -- add-port int-br e1 -- set interface e1 type=erspan options:remote_ip=1.1.2.92 options:key=123 options:erspan_ver=1 options:erspan_idx=3 ofport_request=2 -- add-port int-br e2 -- set interface e2 type=erspan options:remote_ip=1.1.2.93 options:key=124 options:erspan_ver=2 options:erspan_dir=1 options:erspan_hwid=4 ofport_request=3 -- add-port int-br g1 -- set interface g1 type=gtpu options:remote_ip=1.1.2.92 options:key=99 ofport_request=4 -- add-port int-br b1 -- set interface b1 type=bareudp options:remote_ip=1.1.2.92 options:payload_type=mpls ofport_request=5 -- add-port int-br s1 -- set interface s1 type=stt options:remote_ip=1.1.2.92 ofport_request=6 -- add-port int-br l1 -- set interface l1 type=lisp options:remote_ip=1.1.2.92 ofport_request=7 -- add-port int-br e6 -- set interface e6 type=ip6erspan options:remote_ip=2001:cafe::92 options:key=77 options:erspan_ver=2 ofport_request=8 -- add-port int-br gn -- set interface gn type=geneve options:remote_ip=1.1.2.92 options:key=123 ofport_request=20 -- add-port int-br ef -- set interface ef type=erspan options:remote_ip=1.1.2.94 options:key=flow options:erspan_ver=flow ofport_request=30 -- add-port int-br vm1 -- set interface vm1 type=dummy ofport_request=10"),
    Step::Appctl("tnl/arp/set br0 1.1.2.92 f8:bc:12:44:34:b6"),
    Step::Appctl("tnl/neigh/set br0 1.1.2.93 f8:bc:12:44:34:b7"),
    Step::Appctl("tnl/neigh/set br0 1.1.2.94 f8:bc:12:44:34:b9"),
    Step::Appctl("tnl/neigh/set br0 2001:cafe::92 f8:bc:12:44:34:c8"),
    Step::Ofctl("int-br", "add-tlv-map |{class=0xffff,type=0,len=4}->tun_metadata0,{class=0x0102,type=0x80,len=8}->tun_metadata1,{class=0x5,type=0x3,len=12}->tun_metadata2"),
];

#[test]
fn other_tunnel_types_trace_like_upstream() {
    let Some((reference, ours)) = testkit::reference_and_ours(FERROVS, "tnl-types") else {
        return;
    };
    let mut diffs = compare(&reference, &ours, MORE_TYPES);
    // Routed remotes name their egress device in the Interface status;
    // an unrouted one and a `flow` one do not.
    let extra = [Step::Vsctl("add-port int-br t7 -- set interface t7 type=gre options:remote_ip=9.9.9.9 -- add-port int-br t6 -- set interface t6 type=vxlan options:remote_ip=flow options:key=5")];
    diffs.extend(compare(&reference, &ours, &extra));
    for (sb, who) in [(&reference, "reference"), (&ours, "ours")] {
        let seen = sb.wait_until(Duration::from_secs(10), || {
            sb.vsctl(&["get", "interface", "e6", "status"])
                .unwrap_or_default()
                .contains("tunnel_egress_iface")
        });
        assert!(seen, "{who}: no tunnel_egress_iface in e6's status");
    }
    diffs.extend(compare(
        &reference,
        &ours,
        &[Step::Vsctl(
            "--columns=name,status list interface e1 e2 e6 g1 s1 l1 b1 gn ef t7 t6",
        )],
    ));
    diffs.extend(trace_each(
        &reference,
        &ours,
        &[
            "actions=2",
            "actions=3",
            "actions=4",
            "actions=5",
            "actions=6",
            "actions=7",
            "actions=8",
            "actions=set_field:0x1234->tun_metadata0,20",
            "actions=set_field:0x1234->tun_metadata1,set_field:0xab->tun_metadata0,20",
            "actions=set_field:0x0->tun_metadata2,20",
            "actions=set_field:0x1/0xff->tun_metadata1,20",
            "actions=30",
            "actions=set_field:1->tun_erspan_ver,set_field:5->tun_erspan_idx,set_field:0x3ff->tun_id,30",
            "actions=set_field:2->tun_erspan_ver,set_field:1->tun_erspan_dir,set_field:0x1f->tun_erspan_hwid,30",
            "actions=mod_dl_src:00:00:00:00:00:01,4",
        ],
    ));
    let mut more = vec![
        Step::AppctlSorted("tnl/ports/show"),
        Step::AppctlSorted("tnl/ports/show -v"),
    ];
    for a in [
        "",
        "100",
        "100 200",
        "",
        "200 150",
        "",
        "0 65535",
        "1 2 3",
        "x 5",
        "5 x",
        "70000 80000",
        "1 65536",
        "-1 5",
        "0x10 20",
        " 10 20x",
        "",
        "1 1",
        "",
        "32768 61000",
        "",
    ] {
        more.push(Step::Appctl(leak(format!("tnl/egress_port_range {a}"))));
    }
    diffs.extend(compare(&reference, &ours, &more));
    // An ERSPAN version from the flow that is not 1 or 2 cannot be built,
    // and says so in the log.
    for sb in [&reference, &ours] {
        let _ = sb.ofctl("int-br", &["del-flows"]);
        let _ = sb.ofctl("int-br", &["add-flow", "actions=30"]);
        let _ = sb.appctl(&["ofproto/trace", "int-br", TRACE_IN]);
    }
    let r = log_lines(&reference, "ERSPAN version error");
    let o = log_lines(&ours, "ERSPAN version error");
    assert!(
        !r.is_empty(),
        "the reference logged no ERSPAN version error"
    );
    assert_eq!(
        r.first(),
        o.first(),
        "ERSPAN version error log lines differ"
    );
    assert!(
        diffs.is_empty(),
        "{} differences:\n{}",
        diffs.len(),
        diffs.join("\n")
    );
}

/// An Ethernet/IPv4/ICMP echo from 192.168.0.1 to 192.168.0.`last`.
fn inner_frame_to(last: u8) -> Vec<u8> {
    let mut f = inner_frame();
    f[14 + 19] = last;
    f[24] = 0;
    f[25] = 0;
    let c = ip_checksum(&f[14..34]);
    f[24..26].copy_from_slice(&c.to_be_bytes());
    f
}

/// The frames `sb` sent out of p0 to the tunnel endpoints' MACs.
fn tunnel_frames(sb: &Sandbox) -> Vec<Vec<u8>> {
    sb.pcap("p0.pcap")
        .into_iter()
        .filter(|f| f.len() > 14 && f[0..4] == [0xf8, 0xbc, 0x12, 0x44])
        .collect()
}

/// A frame with its Ethernet and IP addresses swapped: what the far end
/// would send back (checksums stay valid).
fn mirrored(f: &[u8]) -> Vec<u8> {
    let mut m = f.to_vec();
    m[0..6].copy_from_slice(&f[6..12]);
    m[6..12].copy_from_slice(&f[0..6]);
    if f[12..14] == [0x08, 0x00] {
        m[26..30].copy_from_slice(&f[30..34]);
        m[30..34].copy_from_slice(&f[26..30]);
    } else {
        m[22..38].copy_from_slice(&f[38..54]);
        m[38..54].copy_from_slice(&f[22..38]);
    }
    m
}

#[test]
fn other_tunnel_types_encapsulate_like_upstream() {
    let Some((reference, ours)) = testkit::reference_and_ours(FERROVS, "tnl-types-pkts") else {
        return;
    };
    let mut diffs = compare(&reference, &ours, MORE_TYPES);
    let mut setup = vec![Step::Ofctl("br0", "add-flow |actions=normal")];
    // 192.168.0.N goes into a tunnel chosen by N.
    for (n, out) in [
        (2, "2"),
        (3, "3"),
        (4, "4"),
        (5, "8"),
        (
            6,
            "set_field:0x1234->tun_metadata1,set_field:0xab->tun_metadata0,20",
        ),
        (
            7,
            "set_field:1->tun_erspan_ver,set_field:5->tun_erspan_idx,set_field:0x3ff->tun_id,30",
        ),
    ] {
        setup.push(Step::Ofctl(
            "int-br",
            leak(format!(
                "add-flow |in_port=10,ip,nw_dst=192.168.0.{n},actions={out}"
            )),
        ));
    }
    for p in [2, 3, 8] {
        setup.push(Step::Ofctl(
            "int-br",
            leak(format!("add-flow |in_port={p},actions=10")),
        ));
    }
    diffs.extend(compare(&reference, &ours, &setup));
    assert!(diffs.is_empty(), "{}", diffs.join("\n"));
    let both = [&reference, &ours];
    for sb in both {
        let pcap = format!("options:pcap={}", sb.path("p0.pcap"));
        sb.vsctl(&["set", "Interface", "p0", &pcap]).unwrap();
    }
    // One packet per tunnel, each waited for, so both sides number their
    // ERSPAN sequences alike.
    let dsts = [2u8, 3, 4, 5, 6, 7, 2];
    let mut got: Vec<Vec<Vec<u8>>> = Vec::new();
    for (sb, who) in both.iter().zip(["reference", "ours"]) {
        for (i, d) in dsts.iter().enumerate() {
            sb.appctl(&["netdev-dummy/receive", "vm1", &hex(&inner_frame_to(*d))])
                .unwrap();
            let seen = sb.wait_until(Duration::from_secs(10), || tunnel_frames(sb).len() > i);
            assert!(seen, "{who}: nothing sent for 192.168.0.{d}");
        }
        got.push(tunnel_frames(sb));
    }
    let masked = |f: &[u8]| -> String {
        let mut f = f.to_vec();
        let v4 = f[12..14] == [0x08, 0x00];
        let l4 = if v4 { 34 } else { 54 };
        let proto = if v4 { f[23] } else { f[20] };
        if proto == 17 {
            // The hashed source port, and the checksum that covers it.
            f[l4..l4 + 2].fill(0);
            f[l4 + 6..l4 + 8].fill(0);
        } else if proto == 47 && f.get(l4 + 8).map(|b| b >> 4) == Some(2) {
            // ERSPAN version 2's timestamp.
            f[l4 + 12..l4 + 16].fill(0);
        }
        hex(&f)
    };
    let r: Vec<String> = got[0].iter().map(|f| masked(f)).collect();
    let o: Vec<String> = got[1].iter().map(|f| masked(f)).collect();
    assert_eq!(r, o, "encapsulated frames differ (reference, ours)");

    // The frames sent back from the far ends reach vm1 (ERSPAN), and the
    // tunnel ports count them.
    let back: Vec<Vec<u8>> = got[0][..3]
        .iter()
        .chain(got[0][3..4].iter())
        .map(|f| mirrored(f))
        .collect();
    for sb in both {
        for f in &back {
            sb.appctl(&["netdev-dummy/receive", "p0", &hex(f)]).unwrap();
        }
    }
    // (Both deliver ERSPAN versions 1 and 2; the reference's ip6erspan
    // vport shares the GRE entry of the first ERSPAN vport, so the IPv6
    // one finds no port, in both.)
    for (sb, who) in both.iter().zip(["reference", "ours"]) {
        let got = sb.wait_until(Duration::from_secs(10), || {
            let _ = sb.appctl(&["time/warp", "100"]);
            tx_packets(sb, "10") >= 2
        });
        assert!(got, "{who}: decapsulated packets did not reach vm1");
    }
    let mut stats = Vec::new();
    for sb in both {
        let mut out = String::new();
        sb.wait_until(Duration::from_secs(10), || {
            let _ = sb.appctl(&["time/warp", "500"]);
            out = ["2", "3", "8", "10"]
                .iter()
                .map(|p| sb.ofctl("int-br", &["dump-ports", p]).unwrap_or_default())
                .collect();
            out.contains("port  2: rx pkts=1") && out.contains("port  3: rx pkts=1")
        });
        let lines: Vec<&str> = out
            .lines()
            .filter(|l| l.contains("rx pkts") || l.contains("port 10"))
            .collect();
        stats.push(lines.join("\n"));
    }
    assert_eq!(
        stats[0], stats[1],
        "tunnel and vm1 port statistics (reference, ours)"
    );
}
