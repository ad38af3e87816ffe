//! Generated differential pipelines through the daemons: random multi-table
//! flow tables (fixed seed) over many match fields and actions — output,
//! resubmit, goto_table, set-field/load/move, VLAN and MPLS push/pop,
//! dec_ttl, TTL/ECN/DSCP and L4 port rewrites, registers and the stack,
//! groups of every type, learn, NORMAL across access/trunk/native VLAN
//! ports, multipath, bundle, conntrack (zones, ct_state matches),
//! check_pkt_larger, sample, fin_timeout, queues, MPLS TTL, controller —
//! are loaded with ovs-ofctl into our ovs-vswitchd and into
//! the reference one (both on the dummy datapath, as ovs-sandbox runs
//! them), and random flows are traced with `ovs-appctl ofproto/trace`:
//! the `Megaflow:` and `Datapath actions:` lines must be identical.  Some
//! of the traced flows are also sent as packets (`netdev-dummy/receive`),
//! so that learn() and MAC learning happen in the upcall path, and then
//! `dump-flows`, `fdb/show` and the datapath flows must be identical too.

mod pipeline_common;

use pipeline_common::{normalize_run, run_step, split_shell, Step, Twin};
use testkit::{Rng, Sandbox};

/// Protocol classes a pipeline is built for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Class {
    Eth,
    Ip,
    Tcp,
    Udp,
    Ipv6,
    Arp,
}

impl Class {
    fn is_ip(self) -> bool {
        matches!(self, Class::Ip | Class::Tcp | Class::Udp | Class::Ipv6)
    }
    fn is_v4(self) -> bool {
        matches!(self, Class::Ip | Class::Tcp | Class::Udp)
    }
    fn is_l4(self) -> bool {
        matches!(self, Class::Tcp | Class::Udp)
    }
}

/// A few MACs, so that learned entries and generated matches meet.
fn mac(r: &mut Rng) -> String {
    format!("50:54:00:00:00:{:02x}", 1 + r.below(6))
}

fn ip(r: &mut Rng) -> String {
    format!("10.0.{}.{}", r.below(3), 1 + r.below(5))
}

/// The match part of a rule of class `c`.
fn matches(r: &mut Rng, c: Class) -> String {
    let mut m = String::from(match c {
        Class::Eth => "",
        Class::Ip => "ip,",
        Class::Tcp => "tcp,",
        Class::Udp => "udp,",
        Class::Ipv6 => "ipv6,",
        Class::Arp => "arp,",
    });
    let add = |m: &mut String, s: String| {
        m.push_str(&s);
        m.push(',');
    };
    if r.chance(40) {
        add(&mut m, format!("in_port={}", 1 + r.below(5)));
    }
    if r.chance(20) {
        add(&mut m, format!("dl_src={}", mac(r)));
    }
    if r.chance(15) {
        add(&mut m, "dl_dst=01:00:00:00:00:00/01:00:00:00:00:00".into());
    }
    if r.chance(15) {
        add(&mut m, format!("dl_dst={}", mac(r)));
    }
    if r.chance(20) {
        add(
            &mut m,
            r.pick(&[
                "dl_vlan=10",
                "dl_vlan=20",
                "vlan_tci=0",
                "vlan_tci=0x1000/0x1000",
                "dl_vlan_pcp=0",
            ])
            .to_string(),
        );
    }
    if r.chance(15) {
        add(&mut m, format!("reg{}={}", r.below(3), r.below(3)));
    }
    if r.chance(10) {
        add(&mut m, format!("metadata={:#x}", r.below(3)));
    }
    if r.chance(10) {
        add(&mut m, format!("pkt_mark={}", r.below(3)));
    }
    if r.chance(10) {
        add(&mut m, format!("tun_id={}", r.below(3)));
    }
    if c.is_v4() {
        if r.chance(30) {
            add(&mut m, format!("nw_dst=10.0.{}.0/24", r.below(3)));
        }
        if r.chance(20) {
            add(&mut m, format!("nw_src={}", ip(r)));
        }
        if r.chance(10) {
            add(&mut m, format!("nw_ttl={}", r.pick(&[1, 64])));
        }
        if r.chance(10) {
            add(&mut m, format!("ip_dscp={}", r.below(3)));
        }
    }
    if c == Class::Ipv6 && r.chance(30) {
        add(&mut m, format!("ipv6_src=2001::{}/127", r.below(9)));
    }
    if c == Class::Ipv6 && r.chance(15) {
        add(
            &mut m,
            r.pick(&[
                "ipv6_dst=2001::99",
                "ipv6_dst=2001::/64",
                "nw_ttl=64",
                "ipv6_label=0",
            ])
            .to_string(),
        );
    }
    if c.is_ip() && r.chance(10) {
        add(
            &mut m,
            r.pick(&["ip_ecn=0", "nw_tos=0", "nw_frag=no"]).to_string(),
        );
    }
    if c == Class::Ip && r.chance(20) {
        add(&mut m, format!("nw_proto=1,icmp_type={}", r.pick(&[0, 8])));
    }
    if c.is_v4() && r.chance(5) {
        add(
            &mut m,
            r.pick(&["ct_state=-trk", "ct_state=+trk+new", "ct_zone=5"])
                .to_string(),
        );
    }
    if c == Class::Arp && r.chance(20) {
        add(&mut m, format!("arp_spa={}", ip(r)));
    }
    if c == Class::Arp && r.chance(10) {
        add(&mut m, format!("arp_sha={}", mac(r)));
    }
    if c.is_l4() {
        let p = if c == Class::Tcp { "tcp" } else { "udp" };
        if r.chance(30) {
            add(&mut m, format!("{p}_dst={}", r.pick(&[22, 80, 443, 8080])));
        }
        if r.chance(10) {
            add(&mut m, format!("{p}_src=0x1000/0xf000"));
        }
    }
    if c == Class::Tcp && r.chance(10) {
        add(&mut m, "tcp_flags=+syn-ack".into());
    }
    if c == Class::Arp && r.chance(30) {
        add(&mut m, format!("arp_op={}", 1 + r.below(2)));
    }
    m
}

/// One random action for a rule in table `t` of a pipeline of `n_tables`.
fn action(r: &mut Rng, c: Class, t: u32, n_tables: u32, groups: bool) -> String {
    loop {
        let later = t + 1 < n_tables;
        let a = match r.below(60) {
            0..=4 => format!("output:{}", 1 + r.below(5)),
            5..=7 => "NORMAL".to_string(),
            8 => "IN_PORT".to_string(),
            9 => format!("mod_vlan_vid:{}", r.pick(&[10, 20, 30])),
            10 => format!("mod_vlan_pcp:{}", r.below(8)),
            11 => "strip_vlan".to_string(),
            12 => "push_vlan:0x8100".to_string(),
            13 => format!("mod_dl_src:{}", mac(r)),
            14 => format!("mod_dl_dst:{}", mac(r)),
            15 if c.is_v4() => format!("mod_nw_dst:{}", ip(r)),
            16 if c.is_ip() => "dec_ttl".to_string(),
            17 if c.is_l4() => format!("mod_tp_dst:{}", r.below(65536)),
            18 => format!("load:{:#x}->NXM_NX_REG{}[]", r.below(3), r.below(3)),
            19 => "move:NXM_OF_ETH_SRC[]->NXM_OF_ETH_DST[]".to_string(),
            20 if later => format!("resubmit(,{})", t + 1 + r.below(u64::from(n_tables - t - 1)) as u32),
            21 if later => format!("resubmit({},{})", 1 + r.below(5), t + 1),
            22 if later => format!("goto_table:{}", t + 1),
            23 => "push:NXM_NX_REG0[],pop:NXM_NX_REG1[]".to_string(),
            24 => format!("set_field:{:#x}->pkt_mark", r.below(4)),
            25 => format!("set_field:{}->vlan_vid", 4096 + r.pick(&[10, 20])),
            26 if later => format!(
                "learn(table={},hard_timeout=300,NXM_OF_VLAN_TCI[0..11],NXM_OF_ETH_DST[]=NXM_OF_ETH_SRC[],load:NXM_OF_IN_PORT[]->NXM_NX_REG0[0..15])",
                t + 1
            ),
            27 if later => format!(
                "learn(table={},priority=9,idle_timeout=60,NXM_OF_ETH_DST[]=NXM_OF_ETH_SRC[],output:NXM_OF_IN_PORT[])",
                t + 1
            ),
            28 if groups => format!("group:{}", 1 + r.below(4)),
            29 => "push_mpls:0x8847,set_mpls_label:7".to_string(),
            30 => format!("set_tunnel:{}", r.below(3)),
            31 => format!("set_field:{:#x}->metadata", r.below(3)),
            32 => "output:NXM_NX_REG0[0..2]".to_string(),
            33 => format!(
                "multipath({},{},hrw,3,0,NXM_NX_REG2[0..3])",
                r.pick(&["eth_src", "symmetric_l4", "nw_dst"]),
                r.below(10)
            ),
            34 => "bundle(eth_src,0,hrw,ofport,members:1,2,3)".to_string(),
            35 if c.is_v4() && later => format!("ct(table={})", t + 1),
            36 if c.is_v4() => "ct(commit)".to_string(),
            37 => "controller".to_string(),
            38 => format!("clone(mod_dl_src:{},output:{})", mac(r), 1 + r.below(5)),
            39 if c == Class::Arp => format!("set_field:{}->arp_tpa", ip(r)),
            40 if c == Class::Ipv6 => format!("set_field:{}->ipv6_label", r.below(0xfffff)),
            41 => "exit".to_string(),
            42 => format!("enqueue:{}:{}", 1 + r.below(5), r.below(2)),
            43 if c.is_ip() => format!("mod_nw_tos:{}", r.below(64) * 4),
            44 => "drop".to_string(),
            45 => format!("output(port={},max_len=100)", 1 + r.below(5)),
            46 if c.is_v4() => format!("mod_nw_src:{}", ip(r)),
            47 if c.is_l4() => format!("mod_tp_src:{}", r.below(65536)),
            48 if c.is_ip() => format!("mod_nw_ecn:{}", 1 + r.below(3)),
            49 if c.is_ip() => format!("mod_nw_ttl:{}", r.below(256)),
            50 if c.is_ip() => format!("set_field:{}->ip_dscp", r.below(64)),
            51 if groups => "push_vlan:0x88a8".to_string(),
            52 => format!("fin_timeout(idle_timeout={})", 1 + r.below(30)),
            53 => "note:ab.cd".to_string(),
            54 => "sample(probability=65535,collector_set_id=1)".to_string(),
            55 => r.pick(&["set_queue:1", "pop_queue"]).to_string(),
            56 => "push_mpls:0x8848,dec_mpls_ttl,set_mpls_ttl:9".to_string(),
            57 if c.is_ip() => "check_pkt_larger(100)->NXM_NX_REG0[0]".to_string(),
            58 if c == Class::Arp => r
                .pick(&["set_field:50:54:00:00:00:09->arp_sha", "set_field:2->arp_op"])
                .to_string(),
            59 if c.is_v4() && later => format!("ct(commit,zone=5,table={})", t + 1),
            _ => continue,
        };
        return a;
    }
}

fn pipeline(r: &mut Rng, c: Class, groups: bool) -> Vec<String> {
    let n_tables = 1 + r.below(3) as u32;
    let mut flows = Vec::new();
    for t in 0..n_tables {
        for _ in 0..1 + r.below(4) {
            let mut f = format!("table={t},priority={},", r.below(100));
            f.push_str(&matches(r, c));
            let n = r.below(4);
            let acts: Vec<String> = (0..n).map(|_| action(r, c, t, n_tables, groups)).collect();
            // `drop` only on its own.
            let acts: Vec<String> = if acts.iter().any(|a| a == "drop") {
                vec!["drop".into()]
            } else {
                acts
            };
            f.push_str("actions=");
            f.push_str(&if acts.is_empty() {
                "drop".to_string()
            } else {
                acts.join(",")
            });
            flows.push(f);
        }
    }
    flows
}

/// A flow to trace (ofproto/trace syntax) and the same packet in the
/// datapath flow syntax netdev-dummy/receive takes.
fn packet(r: &mut Rng, t: &mut Rng, c: Class) -> (String, String) {
    let port = 1 + r.below(5);
    let (src, dst) = (
        mac(r),
        if r.chance(20) {
            "ff:ff:ff:ff:ff:ff".to_string()
        } else {
            mac(r)
        },
    );
    let vlan = if r.chance(30) {
        Some(r.pick(&[10u16, 20, 30]))
    } else {
        None
    };
    let mut f = format!("in_port={port}");
    let mut odp = format!("in_port({port}),eth(src={src},dst={dst})");
    if let Some(v) = vlan {
        f.push_str(&format!(",dl_vlan={v}"));
        odp.push_str(&format!(",eth_type(0x8100),vlan(vid={v},pcp=0),encap("));
    }
    f.push_str(&format!(",dl_src={src},dl_dst={dst}"));
    let (s, d) = (ip(r), ip(r));
    let (sp, dp) = (r.below(65536), r.pick(&[22u64, 80, 443, 8080]));
    let ttl = r.pick(&[1u64, 64]);
    // DSCP and ECN bits (the trace syntax takes them apart), from their
    // own generator so that the pipelines stay those of the main one.
    let tos = t.pick(&[0u64, 0, 0xb8, 0x03]);
    let inner = match c {
        Class::Eth => {
            f.push_str(",dl_type=0x1234");
            "eth_type(0x1234)".to_string()
        }
        Class::Ip | Class::Tcp | Class::Udp => {
            let (kw, proto) = match c {
                Class::Tcp => ("tcp", 6),
                Class::Udp => ("udp", 17),
                _ => ("icmp", 1),
            };
            f.push_str(&format!(
                ",{kw},nw_src={s},nw_dst={d},nw_ttl={ttl},nw_tos={},nw_ecn={}",
                tos & 0xfc,
                tos & 3
            ));
            let l4 = match c {
                Class::Tcp => {
                    f.push_str(&format!(",tcp_src={sp},tcp_dst={dp}"));
                    format!(",tcp(src={sp},dst={dp})")
                }
                Class::Udp => {
                    f.push_str(&format!(",udp_src={sp},udp_dst={dp}"));
                    format!(",udp(src={sp},dst={dp})")
                }
                _ => {
                    f.push_str(",icmp_type=8,icmp_code=0");
                    ",icmp(type=8,code=0)".to_string()
                }
            };
            format!(
                "eth_type(0x0800),ipv4(src={s},dst={d},proto={proto},tos={tos:#x},ttl={ttl},frag=no){l4}"
            )
        }
        Class::Ipv6 => {
            let n = r.below(9);
            f.push_str(&format!(
                ",udp6,ipv6_src=2001::{n},ipv6_dst=2001::99,nw_ttl=64,nw_tos={},nw_ecn={},udp_src=1,udp_dst=2",
                tos & 0xfc,
                tos & 3
            ));
            format!("eth_type(0x86dd),ipv6(src=2001::{n},dst=2001::99,label=0,proto=17,tclass={tos:#x},hlimit=64,frag=no),udp(src=1,dst=2)")
        }
        Class::Arp => {
            let op = 1 + r.below(2);
            f.push_str(&format!(
                ",arp,arp_spa={s},arp_tpa={d},arp_op={op},arp_sha={src}"
            ));
            format!("eth_type(0x0806),arp(sip={s},tip={d},op={op},sha={src},tha=00:00:00:00:00:00)")
        }
    };
    if vlan.is_some() {
        odp.push_str(&format!("{inner})"));
    } else {
        odp.push_str(&format!(",{inner}"));
    }
    (f, odp)
}

fn step(cmd: &str) -> Step {
    Step {
        text: cmd.to_string(),
        argv: split_shell(cmd),
        ..Default::default()
    }
}

/// Runs one command in `sb`, normalized.
fn run(sb: &Sandbox, argv: &[String]) -> String {
    let s = Step {
        text: argv.join(" "),
        argv: argv.to_vec(),
        ..Default::default()
    };
    normalize_run(sb, &run_step(sb, &s))
}

/// The `Megaflow:` and `Datapath actions:` lines (or the whole answer when
/// there is no trace).
fn summary(t: &str) -> String {
    let s: Vec<&str> = t
        .lines()
        .filter(|l| l.starts_with("Megaflow:") || l.starts_with("Datapath actions:"))
        .collect();
    if s.is_empty() {
        t.to_string()
    } else {
        s.join("\n")
    }
}

/// Keys an empty flow table leaves in a `Megaflow:` line: what translation
/// itself always matches on.
const EMPTY_TABLE_KEYS: &[&str] = &[
    "recirc_id",
    "eth",
    "ip",
    "ipv6",
    "tcp",
    "udp",
    "icmp",
    "tcp6",
    "udp6",
    "icmp6",
    "arp",
    "in_port",
    "dl_type",
    "nw_frag",
    "vlan_tci",
    "dl_vlan",
    "dl_vlan_pcp",
];

/// After `del-flows`, upstream removes the deleted rules from its
/// classifier only once every thread has quiesced (an RCU grace period);
/// until then their subtables still widen the megaflows of lookups that
/// no longer see them.  Waits, tracing `flows` until no `Megaflow:` line
/// names a field outside [`EMPTY_TABLE_KEYS`], so that one case's rules
/// do not leak into the next one's traces (at most 5 s; a table that never
/// settles shows up as a trace difference).
fn settle_empty_table(sb: &Sandbox, flows: &[String]) {
    for _ in 0..500 {
        let stale = flows.iter().any(|f| {
            let argv = ["ovs-appctl", "ofproto/trace", "br0", f.as_str()].map(String::from);
            run(sb, &argv).lines().any(|l| {
                l.strip_prefix("Megaflow: ").is_some_and(|m| {
                    m.split(',')
                        .any(|kv| !EMPTY_TABLE_KEYS.contains(&kv.split('=').next().unwrap_or(kv)))
                })
            })
        });
        if !stale {
            return;
        }
        if std::env::var_os("PG_DEBUG").is_some() {
            eprintln!("{}: stale subtables", sb.path(""));
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

/// Pipelines generated (3 traced flows each; every third also sent as
/// packets).
const CASES: usize = 96;
const SAME_TRACES: usize = 201;
const SAME_STATES: usize = 63;

/// NORMAL floods in an order upstream does not keep stable (hashes of
/// pointers), grouping outputs that share VLAN headers: `Datapath
/// actions:` becomes the sorted set of outputs, each with the VLAN
/// headers and other changes in effect when it happens.
fn canonical_outputs(summary: &str, trace: &str) -> String {
    // The packet's own VLAN header, from the `Flow:` line.
    let mut initial: Vec<String> = Vec::new();
    if let Some(f) = trace.lines().find(|l| l.starts_with("Flow: ")) {
        let get = |k: &str| f.split(',').find_map(|kv| kv.strip_prefix(k));
        if let (Some(vid), Some(pcp)) = (get("dl_vlan="), get("dl_vlan_pcp=")) {
            initial.push(format!("push_vlan(vid={vid},pcp={pcp})"));
        }
    }
    summary
        .lines()
        .map(|l| match l.strip_prefix("Datapath actions: ") {
            Some(acts) => {
                let (mut vlans, mut sets, mut outs) =
                    (initial.clone(), Vec::<String>::new(), Vec::<String>::new());
                for a in testkit::text::split_top(acts) {
                    if a.starts_with("push_vlan(") {
                        vlans.push(a.to_string());
                    } else if a == "pop_vlan" {
                        if vlans.pop().is_none() {
                            vlans.push("popped".into());
                        }
                    } else if a.parse::<u32>().is_ok() {
                        outs.push(format!("{a}[{}|{}]", vlans.join(";"), sets.join(";")));
                    } else {
                        sets.push(a.to_string());
                    }
                }
                outs.sort();
                format!("Datapath outputs: {}", outs.join(" "))
            }
            None => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// A datapath flow dump with each flow's actions as [`canonical_outputs`]
/// makes them (the packet's VLAN from the flow's `vlan(vid=..)`): NORMAL
/// floods in the reference's bundle order, which follows pointer hashes.
fn canonical_dump(dump: &str) -> String {
    dump.lines()
        .map(|l| match l.split_once(", actions:") {
            Some((head, acts)) => {
                let vid = head
                    .split("vlan(vid=")
                    .nth(1)
                    .and_then(|r| r.split([',', ')']).next())
                    .unwrap_or("");
                let flow = if vid.is_empty() {
                    String::new()
                } else {
                    format!("Flow: eth,dl_vlan={vid},dl_vlan_pcp=0")
                };
                let canon = canonical_outputs(&format!("Datapath actions: {acts}"), &flow);
                format!("{head}, {canon}")
            }
            None => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

const GROUPS: &[&str] = &[
    "group_id=1,type=all,bucket=output:1,bucket=output:2",
    "group_id=2,type=select,bucket=output:3,bucket=output:4",
    "group_id=3,type=fast_failover,bucket=watch_port:9,output:9,bucket=watch_port:2,output:2",
    "group_id=4,type=indirect,bucket=mod_vlan_vid:30,output:5",
];

#[test]
fn generated_pipelines_through_the_daemons() {
    let Some(twin) = Twin::start("pl-gen") else {
        return;
    };
    // p1 trunk, p2 access VLAN 10, p3 trunk of 10 and 20, p4 native-untagged
    // VLAN 20 trunking 10, p5 access VLAN 20.
    let setup = [
        "ovs-vsctl add-br br0 -- set bridge br0 fail-mode=secure other-config:datapath-id=0000aa55aa550001",
        "ovs-vsctl add-port br0 p1 -- set interface p1 ofport_request=1",
        "ovs-vsctl add-port br0 p2 tag=10 -- set interface p2 ofport_request=2",
        "ovs-vsctl add-port br0 p3 trunks=10,20 -- set interface p3 ofport_request=3",
        "ovs-vsctl add-port br0 p4 tag=20 trunks=10 vlan_mode=native-untagged -- set interface p4 ofport_request=4",
        "ovs-vsctl add-port br0 p5 tag=20 -- set interface p5 ofport_request=5",
    ];
    for cmd in setup {
        let st = step(cmd);
        let (r, o) = twin.both(|sb| normalize_run(sb, &run_step(sb, &st)));
        assert_eq!(r, o, "setup `{cmd}` differs");
    }
    let mut rng = Rng(0x5eed_0004);
    let classes = [
        Class::Eth,
        Class::Ip,
        Class::Tcp,
        Class::Udp,
        Class::Ipv6,
        Class::Arp,
    ];
    let (mut traces, mut same, mut refused, mut injected, mut states, mut same_states) =
        (0, 0, 0, 0, 0, 0);
    let mut failures: Vec<String> = Vec::new();
    let mut answers_differ = 0;
    for case in 0..CASES {
        let c = rng.pick(&classes);
        let use_groups = rng.chance(25);
        let flows = pipeline(&mut rng, c, use_groups);
        let mut tos_rng = Rng(0x7005_0000 + case as u64);
        let pkts: Vec<(String, String)> =
            (0..3).map(|_| packet(&mut rng, &mut tos_rng, c)).collect();
        let inject = case % 3 == 0;
        let proto = if use_groups {
            "OpenFlow13"
        } else {
            "OpenFlow10"
        };
        let flow_text = flows.join("\n") + "\n";
        // Everything for one case runs in each stack at once.
        let (r, o) = twin.both(|sb| {
            let mut out: Vec<String> = Vec::new();
            let path = sb.path("gen-flows.txt");
            std::fs::write(&path, &flow_text).expect("write flows");
            let a = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
            run(
                sb,
                &a(&["ovs-ofctl", "-O", "OpenFlow13", "del-flows", "br0"]),
            );
            run(
                sb,
                &a(&["ovs-ofctl", "-O", "OpenFlow13", "del-groups", "br0"]),
            );
            run(sb, &a(&["ovs-appctl", "fdb/flush", "br0"]));
            run(sb, &a(&["ovs-appctl", "dpctl/del-flows"]));
            let traced: Vec<String> = pkts.iter().map(|(f, _)| f.clone()).collect();
            settle_empty_table(sb, &traced);
            for g in GROUPS.iter().filter(|_| use_groups) {
                run(
                    sb,
                    &a(&["ovs-ofctl", "-O", "OpenFlow13", "add-group", "br0", g]),
                );
            }
            out.push(run(
                sb,
                &a(&["ovs-ofctl", "-O", proto, "add-flows", "br0", &path]),
            ));
            for (f, _) in &pkts {
                out.push(run(sb, &a(&["ovs-appctl", "ofproto/trace", "br0", f])));
            }
            if inject {
                for (_, odp) in &pkts {
                    let port = format!("p{}", &odp[8..9]);
                    run(sb, &a(&["ovs-appctl", "netdev-dummy/receive", &port, odp]));
                }
                run(sb, &a(&["ovs-appctl", "revalidator/wait"]));
                out.push(run(
                    sb,
                    &a(&["ovs-ofctl", "-O", proto, "dump-flows", "br0"]),
                ));
                out.push(run(sb, &a(&["ovs-appctl", "fdb/show", "br0"])));
                out.push(run(sb, &a(&["ovs-appctl", "dpctl/dump-flows"])));
            }
            out
        });
        if r[0] != o[0] {
            answers_differ += 1;
            failures.push(format!(
                "case {case}: add-flows answers differ: {flows:?}\n--- reference\n{}\n--- ours\n{}",
                r[0], o[0]
            ));
            continue;
        }
        if !r[0].starts_with("[0]") {
            refused += 1;
            continue;
        }
        for (i, (f, _)) in pkts.iter().enumerate() {
            traces += 1;
            let (mut rs, mut os) = (summary(&r[1 + i]), summary(&o[1 + i]));
            if flow_text.contains("NORMAL") {
                rs = canonical_outputs(&rs, &r[1 + i]);
                os = canonical_outputs(&os, &o[1 + i]);
            }
            if rs == os {
                same += 1;
            } else {
                failures.push(format!(
                    "case {case} trace {f}\nflows: {flows:?}\n--- reference\n{}\n--- ours\n{}",
                    r[1 + i],
                    o[1 + i]
                ));
            }
        }
        if inject {
            injected += 1;
            for (k, what) in ["dump-flows", "fdb/show", "dpctl/dump-flows"]
                .iter()
                .enumerate()
            {
                states += 1;
                let (mut rs, mut os) = (r[4 + k].clone(), o[4 + k].clone());
                if *what == "dpctl/dump-flows" && flow_text.contains("NORMAL") {
                    rs = canonical_dump(&rs);
                    os = canonical_dump(&os);
                }
                if rs == os {
                    same_states += 1;
                } else {
                    failures.push(format!(
                        "case {case}: {what} after packets {:?}\nflows: {flows:?}\n--- reference\n{rs}\n--- ours\n{os}",
                        pkts.iter().map(|p| &p.1).collect::<Vec<_>>()
                    ));
                }
            }
        }
    }
    eprintln!(
        "generated: {same}/{traces} traces with identical Megaflow and Datapath actions; \
         {same_states}/{states} dump-flows/fdb/datapath states identical after {injected} injections; \
         {refused} pipelines refused by both"
    );
    for f in failures.iter().take(15) {
        eprintln!("{f}\n");
    }
    assert!(traces >= 200, "too few traces ({traces})");
    assert_eq!(answers_differ, 0, "add-flows answers differ");
    // Ratchets (they may only go up) while the last differences are fixed;
    // every difference is printed above.
    assert!(
        same >= SAME_TRACES,
        "{same} identical traces, fewer than {SAME_TRACES}"
    );
    assert!(
        same_states >= SAME_STATES,
        "{same_states} identical states, fewer than {SAME_STATES}"
    );
}

/// `other_config:vlan-limit` (default 1; 0: as many as flows hold): how
/// many VLAN headers flow extraction parses, for datapath flows and for
/// traces of packets and of datapath keys, as the reference does.
#[test]
fn vlan_limit_like_the_reference() {
    let Some(twin) = Twin::start("pl-vlan-limit") else {
        return;
    };
    let setup = [
        "ovs-vsctl add-br br0 -- set bridge br0 fail-mode=secure",
        "ovs-vsctl add-port br0 p1 -- set interface p1 ofport_request=1",
        "ovs-vsctl add-port br0 p3 -- set interface p3 ofport_request=3",
        "ovs-ofctl add-flow br0 priority=1,actions=output:3",
    ];
    for cmd in setup {
        let st = step(cmd);
        let (r, o) = twin.both(|sb| normalize_run(sb, &run_step(sb, &st)));
        assert_eq!(r, o, "setup `{cmd}` differs");
    }
    let mut failures = Vec::new();
    for (k, limit) in [None, Some("0"), Some("2"), Some("1")]
        .into_iter()
        .enumerate()
    {
        // A new source MAC each time: the reference does not install a
        // flow for a packet identical to one whose flow `dpctl/del-flows`
        // removed a moment ago (its revalidator still knows that flow).
        let odp = format!("in_port(1),eth(src=50:54:00:00:00:0{k},dst=50:54:00:00:00:05),eth_type(0x88a8),vlan(vid=10,pcp=0),encap(eth_type(0x8100),vlan(vid=20,pcp=1),encap(eth_type(0x0800),ipv4(src=10.0.0.1,dst=10.0.0.2,proto=17,tos=0,ttl=64,frag=no),udp(src=1,dst=2)))");
        let odp = odp.as_str();
        let hex = format!(
            "50540000000550540000000{k}{}{}1234{}",
            "88a8000a",
            "81002014",
            "00".repeat(46)
        );
        let mut cmds: Vec<Vec<String>> = Vec::new();
        let a = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        if let Some(l) = limit {
            cmds.push(a(&[
                "ovs-vsctl",
                "set",
                "Open_vSwitch",
                ".",
                &format!("other_config:vlan-limit={l}"),
            ]));
        }
        cmds.push(a(&["ovs-appctl", "dpctl/del-flows"]));
        cmds.push(a(&["ovs-appctl", "netdev-dummy/receive", "p1", odp]));
        cmds.push(a(&["ovs-appctl", "revalidator/wait"]));
        cmds.push(a(&["ovs-appctl", "dpctl/dump-flows"]));
        cmds.push(a(&["ovs-appctl", "ofproto/trace", "br0", odp]));
        cmds.push(a(&[
            "ovs-appctl",
            "ofproto/trace",
            "br0",
            "in_port=1",
            &hex,
        ]));
        let (r, o) = twin.both(|sb| cmds.iter().map(|c| run(sb, c)).collect::<Vec<_>>());
        for (i, c) in cmds.iter().enumerate() {
            if r[i] != o[i] {
                failures.push(format!(
                    "vlan-limit {limit:?}: `{}` differs\n--- reference\n{}\n--- ours\n{}",
                    c.join(" "),
                    r[i],
                    o[i]
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
