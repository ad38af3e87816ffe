//! Generated differential translation tests: random multi-table
//! pipelines (fixed seed) built from a menu of actions — output, resubmit,
//! set-field/load/move on many fields, VLAN and MPLS push/pop, dec_ttl,
//! stack, conntrack, clone, multipath, exit, controller, groups — go into
//! the reference ovs-vswitchd and our switch, random flows are traced in
//! both, and the whole trace text must match.  A ratchet keeps the number
//! of matching traces from going down while the rest is being fixed.

mod xlate_common;

use testkit::Rng;
use xlate_common::{first_diff, normalize_recirc, port, sort_flood, Pair};

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
    fn match_str(self) -> &'static str {
        match self {
            Class::Eth => "",
            Class::Ip => "ip,",
            Class::Tcp => "tcp,",
            Class::Udp => "udp,",
            Class::Ipv6 => "ipv6,",
            Class::Arp => "arp,",
        }
    }
    fn is_ip(self) -> bool {
        matches!(self, Class::Ip | Class::Tcp | Class::Udp | Class::Ipv6)
    }
    fn is_l4(self) -> bool {
        matches!(self, Class::Tcp | Class::Udp)
    }
}

fn mac(r: &mut Rng) -> String {
    let b: [u8; 6] = r.bytes();
    format!(
        "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
        b[0] & 0xfe,
        b[1],
        b[2],
        b[3],
        b[4],
        b[5]
    )
}

fn ip(r: &mut Rng) -> String {
    format!("10.{}.{}.{}", r.below(3), r.below(3), 1 + r.below(5))
}

/// One random action for a rule in table `t` of a pipeline of `n_tables`.
fn action(r: &mut Rng, c: Class, t: u32, n_tables: u32, groups: bool) -> String {
    loop {
        let k = r.below(58);
        let a = match k {
            0..=5 => format!("output:{}", 1 + r.below(4)),
            6 => "IN_PORT".to_string(),
            7 => format!("mod_vlan_vid:{}", 1 + r.below(20)),
            8 => format!("mod_vlan_pcp:{}", r.below(8)),
            9 => "strip_vlan".to_string(),
            10 => "push_vlan:0x8100".to_string(),
            11 => format!("mod_dl_src:{}", mac(r)),
            12 => format!("mod_dl_dst:{}", mac(r)),
            13 if c == Class::Ip || c.is_l4() => format!("mod_nw_src:{}", ip(r)),
            14 if c == Class::Ip || c.is_l4() => format!("mod_nw_dst:{}", ip(r)),
            15 if c.is_ip() => format!("mod_nw_tos:{}", r.below(64) * 4),
            16 if c.is_ip() => "dec_ttl".to_string(),
            17 if c.is_l4() => format!("mod_tp_src:{}", r.below(65536)),
            18 if c.is_l4() => format!("mod_tp_dst:{}", r.below(65536)),
            19 => format!("load:{:#x}->NXM_NX_REG{}[]", r.below(1000), r.below(4)),
            20 => format!(
                "move:NXM_NX_REG{}[0..7]->NXM_NX_REG{}[8..15]",
                r.below(4),
                r.below(4)
            ),
            21 => "move:NXM_OF_ETH_SRC[]->NXM_OF_ETH_DST[]".to_string(),
            22 if t + 1 < n_tables => format!(
                "resubmit(,{})",
                t + 1 + r.below((n_tables - t - 1) as u64) as u32
            ),
            23 if t + 1 < n_tables => format!("resubmit({},{})", 1 + r.below(4), t + 1),
            24 => "push:NXM_NX_REG0[]".to_string(),
            25 => "pop:NXM_NX_REG1[]".to_string(),
            26 => format!("set_field:{:#x}->pkt_mark", r.below(256)),
            27 => "note:aa".to_string(),
            28 => "controller".to_string(),
            29 if c == Class::Ip || c.is_l4() => "ct(commit)".to_string(),
            30 if (c == Class::Ip || c.is_l4()) && t + 1 < n_tables => {
                format!("ct(table={})", t + 1)
            }
            31 => "ct_clear".to_string(),
            32 => format!("clone(mod_dl_src:{},output:{})", mac(r), 1 + r.below(4)),
            33 => format!(
                "multipath({},{},{},{},0,NXM_NX_REG2[0..3])",
                r.pick(&[
                    "eth_src",
                    "symmetric_l4",
                    "symmetric_l3l4",
                    "nw_src",
                    "nw_dst",
                    "symmetric_l3"
                ]),
                r.below(100),
                r.pick(&["modulo_n", "hash_threshold", "hrw", "iter_hash"]),
                1 + r.below(4)
            ),
            34 if groups => format!("group:{}", 1 + r.below(3)),
            35 => "push_mpls:0x8847".to_string(),
            36 => format!("set_queue:{}", r.below(5)),
            37 if c == Class::Arp => format!("set_field:{}->arp_spa", ip(r)),
            38 if c == Class::Ipv6 => format!("set_field:{}->ipv6_label", r.below(0xfffff)),
            39 => "exit".to_string(),
            40 => "output:NXM_NX_REG0[0..2]".to_string(),
            41 => format!("enqueue:{}:{}", 1 + r.below(4), r.below(3)),
            42 => format!("bundle(eth_src,{},hrw,ofport,members:1,2,3)", r.below(10)),
            43 => "bundle_load(symmetric_l4,0,active_backup,ofport,NXM_NX_REG1[0..15],members:2,3)"
                .to_string(),
            44 if t + 1 < n_tables => format!(
                "check_pkt_larger({})->NXM_NX_REG3[0],resubmit(,{})",
                64 + r.below(100),
                t + 1
            ),
            45 if c.is_ip() => format!("mod_nw_ecn:{}", r.below(4)),
            46 if c.is_ip() => format!("mod_nw_ttl:{}", r.below(256)),
            47 => format!(
                "output(port={},max_len={})",
                1 + r.below(4),
                64 + r.below(200)
            ),
            48 if c.is_l4() => "fin_timeout(idle_timeout=5)".to_string(),
            49 => format!("set_tunnel:{}", r.below(100)),
            50 => "push_mpls:0x8847,set_mpls_label:7,dec_mpls_ttl".to_string(),
            51 if c == Class::Ip || c.is_l4() => "push_mpls:0x8847,pop_mpls:0x0800".to_string(),
            52 if t + 1 < n_tables => format!(
                "learn(table={},NXM_OF_ETH_DST[]=NXM_OF_ETH_SRC[],output:NXM_OF_IN_PORT[])",
                t + 1
            ),
            53 if (c == Class::Ip || c.is_l4()) && t + 1 < n_tables => format!(
                "ct(commit,zone={},table={},exec(set_field:{}->ct_mark))",
                r.below(10),
                t + 1,
                r.below(100)
            ),
            54 if c == Class::Ip || c.is_l4() => "ct(commit,nat(src=10.9.9.9))".to_string(),
            55 if c.is_ip() => format!("set_field:{}->ip_dscp", r.below(64)),
            56 => format!("set_field:{}->vlan_vid", 4096 + r.below(100)),
            57 if c == Class::Ipv6 => "dec_ttl,set_field:::5->ipv6_dst".to_string(),
            _ => continue,
        };
        return a;
    }
}

fn pipeline(r: &mut Rng, c: Class, groups: bool) -> Vec<String> {
    let n_tables = 1 + r.below(3) as u32;
    let mut flows = Vec::new();
    for t in 0..n_tables {
        let n_rules = 1 + r.below(3);
        for _ in 0..n_rules {
            let mut m = format!("table={t},priority={},", r.below(100));
            m.push_str(c.match_str());
            if r.chance(50) {
                m.push_str(&format!("in_port={},", 1 + r.below(4)));
            }
            if c == Class::Tcp && r.chance(30) {
                m.push_str(&format!("tp_dst={},", r.pick(&[22, 80, 443])));
            }
            if (c == Class::Ip || c.is_l4()) && r.chance(30) {
                m.push_str(&format!("nw_dst=10.0.{}.0/24,", r.below(3)));
            }
            if r.chance(20) {
                m.push_str(&format!("reg0={},", r.below(3)));
            }
            let n_acts = r.below(5);
            let acts: Vec<String> = (0..n_acts)
                .map(|_| action(r, c, t, n_tables, groups))
                .collect();
            m.push_str("actions=");
            if acts.is_empty() {
                m.push_str("drop");
            } else {
                m.push_str(&acts.join(","));
            }
            flows.push(m);
        }
    }
    flows
}

fn trace_flow(r: &mut Rng, c: Class) -> String {
    let mut f = format!("in_port={}", 1 + r.below(4));
    if r.chance(30) {
        f.push_str(&format!(",dl_vlan={}", 1 + r.below(20)));
    }
    f.push_str(&format!(",dl_src={},dl_dst={}", mac(r), mac(r)));
    match c {
        Class::Eth => {}
        Class::Ip | Class::Tcp | Class::Udp => {
            f.push_str(match c {
                Class::Tcp => ",tcp",
                Class::Udp => ",udp",
                _ => ",ip",
            });
            f.push_str(&format!(
                ",nw_src={},nw_dst={},nw_ttl={}",
                ip(r),
                ip(r),
                r.pick(&[1, 2, 64])
            ));
            if c.is_l4() {
                let p = if c == Class::Tcp { "tcp" } else { "udp" };
                f.push_str(&format!(
                    ",{p}_src={},{p}_dst={}",
                    r.below(65536),
                    r.pick(&[22, 80, 443, 8080])
                ));
            }
        }
        Class::Ipv6 => f.push_str(&format!(
            ",ipv6,ipv6_src=2001::{},nw_ttl=64",
            1 + r.below(9)
        )),
        Class::Arp => f.push_str(&format!(
            ",arp,arp_spa={},arp_tpa={},arp_op=1",
            ip(r),
            ip(r)
        )),
    }
    f
}

/// Traces that must keep matching (all of them, as of this writing; the
/// ratchet only exists so a generator change can be staged).
const RATCHET: usize = 324;

#[test]
fn generated_pipelines_trace_like_upstream() {
    let ports = [port("p1", 1), port("p2", 2), port("p3", 3), port("p4", 4)];
    let Some(p) = Pair::start("xlate-gen", &ports) else {
        return;
    };
    let mut r = Rng(0x5eed_0001);
    let classes = [
        Class::Eth,
        Class::Ip,
        Class::Tcp,
        Class::Udp,
        Class::Ipv6,
        Class::Arp,
    ];
    let groups = [
        "group_id=1,type=all,bucket=output:1,bucket=output:2",
        "group_id=2,type=select,bucket=output:3,bucket=output:4",
        "group_id=3,type=fast_failover,bucket=watch_port:9,output:9,bucket=watch_port:2,output:2",
    ];
    let (mut total, mut same, mut skipped) = (0, 0, 0);
    let mut failures = Vec::new();
    for case in 0..150 {
        let c = r.pick(&classes);
        let use_groups = r.chance(20);
        let flows = pipeline(&mut r, c, use_groups);
        let fl: Vec<&str> = flows.iter().map(|s| s.as_str()).collect();
        let g: &[&str] = if use_groups { &groups } else { &[] };
        if p.load(g, &fl).is_err() {
            skipped += 1;
            continue;
        }
        for _ in 0..3 {
            let t = trace_flow(&mut r, c);
            total += 1;
            let ref_raw = p.trace_reference(&t, false);
            if ref_raw.starts_with("ERROR") {
                panic!("the generator made a flow the reference refuses: {ref_raw}");
            }
            let ref_t = sort_flood(&normalize_recirc(&ref_raw));
            let our_t = sort_flood(&normalize_recirc(&p.trace_ours(&t, false)));
            if ref_t == our_t {
                same += 1;
            } else {
                failures.push(format!(
                    "case {case} flows {flows:?}\ntrace {t}: {}\n--- reference\n{ref_t}\n--- ours\n{our_t}",
                    first_diff(&ref_t, &our_t)
                ));
            }
        }
    }
    eprintln!(
        "generated traces: {same}/{total} identical ({skipped} pipelines the reference refused)"
    );
    for f in failures.iter().take(40) {
        let short: Vec<&str> = f.lines().skip(1).take(3).collect();
        eprintln!("{}\n", short.join("\n"));
    }
    assert!(
        same >= RATCHET,
        "only {same} of {total} traces identical (ratchet {RATCHET})"
    );
    assert_eq!(
        same, total,
        "every generated trace must match the reference"
    );
    assert!(total >= 200, "too few traces ({total})");
}
