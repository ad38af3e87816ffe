//! Differential test of the wildcards a lookup reports against the
//! reference Open vSwitch.
//!
//! Random single-table flow tables (IPv4 address prefixes, TCP ports, exact
//! and masked, random priorities, a catch-all) go into the reference
//! `ovs-vswitchd` on the dummy datapath and into our [`Classifier`]; for
//! random TCP packets, `ofproto/trace` tells which rule matched and the
//! Megaflow.  The rule must be the same, and so must the masks of the
//! fields only the classifier decides (`nw_src`, `nw_dst`, `tp_src`,
//! `tp_dst`): staged lookup, the `ip_dst,ip_src` prefix tries and the ports
//! trie all show there; IPv6 tables run on a bridge whose `Flow_Table` has
//! `prefixes=ipv6_dst,ipv6_src`.  Skipped, with a message, when the reference
//! daemons are not installed.

#![allow(clippy::field_reassign_with_default)]

use classifier::{Classifier, ClsRule};
use packet::Flow;
use std::fmt::Write as _;
use std::net::Ipv4Addr;

/// The reference daemons in a private directory, stopped on drop.
/// The reference daemons (the shared `testkit` sandbox) with bridge `br0`
/// on the dummy datapath and its port `p1`.
struct Sandbox(testkit::Sandbox);

impl Sandbox {
    fn run(&self, prog: &str, args: &[&str]) -> Result<String, String> {
        self.0.run(&testkit::Program::path(prog), args).ok(prog)
    }

    fn path(&self, name: &str) -> String {
        self.0.path(name)
    }

    fn start() -> Sandbox {
        let sb = Sandbox(testkit::Sandbox::start("cls"));
        sb.0.add_dummy_bridge("br0", &[], &["p1"]).unwrap();
        sb
    }

    fn control(&self) -> String {
        self.0.control("ovs-vswitchd")
    }
}

use testkit::Rng;

fn prefix(n: u32) -> u32 {
    if n == 0 {
        0
    } else {
        !0u32 << (32 - n)
    }
}

const ADDRS: [u32; 6] = [
    0x0a00_0001, // 10.0.0.1
    0x0a00_0002, // 10.0.0.2
    0x0a00_0101, // 10.0.1.1
    0x0a01_0203, // 10.1.2.3
    0x0a80_0001, // 10.128.0.1
    0xc0a8_0101, // 192.168.1.1
];
const PORTS: [u16; 5] = [22, 80, 443, 8080, 0x51];

/// One random rule: its match in ovs-ofctl syntax (with the priority) and
/// its flow and mask.
fn random_rule(r: &mut Rng, priority: u16) -> (String, Flow, Flow) {
    let mut f = Flow::default();
    let mut m = Flow::default();
    let mut s = format!("priority={priority}");
    f.dl_type = 0x0800;
    m.dl_type = !0;
    let tcp = r.chance(60);
    if tcp {
        s.push_str(",tcp");
        f.nw_proto = 6;
        m.nw_proto = !0;
    } else {
        s.push_str(",ip");
    }
    if r.chance(25) {
        f.in_port = 1 + r.below(2) as u32;
        m.in_port = !0;
        write!(s, ",in_port={}", f.in_port).unwrap();
    }
    for dst in [false, true] {
        if r.chance(60) {
            let plen = r.pick(&[8u32, 16, 24, 30, 32]);
            let a = r.pick(&ADDRS) & prefix(plen);
            let name = if dst { "nw_dst" } else { "nw_src" };
            write!(s, ",{name}={}/{plen}", Ipv4Addr::from(a)).unwrap();
            if dst {
                f.nw_dst = a;
                m.nw_dst = prefix(plen);
            } else {
                f.nw_src = a;
                m.nw_src = prefix(plen);
            }
        }
    }
    if tcp {
        if r.chance(50) {
            let mask = r.pick(&[0xffffu16, 0xfff0, 0xff00]);
            let p = r.pick(&PORTS) & mask;
            f.tp_dst = p;
            m.tp_dst = mask;
            write!(s, ",tp_dst={p:#x}/{mask:#x}").unwrap();
        }
        if r.chance(20) {
            let p = r.pick(&[1024u16, 80]);
            f.tp_src = p;
            m.tp_src = !0;
            write!(s, ",tp_src={p}").unwrap();
        }
    }
    (s, f, m)
}

fn random_packet(r: &mut Rng) -> Flow {
    let mut f = Flow::default();
    f.in_port = 1 + r.below(2) as u32;
    f.dl_type = 0x0800;
    f.nw_proto = 6;
    let addr = |r: &mut Rng| {
        if r.chance(70) {
            r.pick(&ADDRS) ^ (r.below(4) as u32) << r.pick(&[0u32, 8, 20])
        } else {
            r.next() as u32
        }
    };
    f.nw_src = addr(r);
    f.nw_dst = addr(r);
    f.tp_src = r.pick(&[1024u16, 80, 5000]);
    f.tp_dst = if r.chance(70) {
        r.pick(&PORTS)
    } else {
        r.next() as u16
    };
    f
}

fn packet_text(f: &Flow) -> String {
    format!(
        "in_port={},tcp,nw_src={},nw_dst={},tp_src={},tp_dst={}",
        f.in_port,
        Ipv4Addr::from(f.nw_src),
        Ipv4Addr::from(f.nw_dst),
        f.tp_src,
        f.tp_dst
    )
}

/// The mask of an IPv4 field in a Megaflow line (`a.b.c.d`,
/// `a.b.c.d/len` or `a.b.c.d/m.m.m.m`; absent: 0).
fn ip_mask(megaflow: &str, name: &str) -> u32 {
    let Some(v) = field(megaflow, name) else {
        return 0;
    };
    match v.split_once('/') {
        None => !0,
        Some((_, m)) => match m.parse::<u32>() {
            Ok(len) => prefix(len),
            Err(_) => u32::from(m.parse::<Ipv4Addr>().expect("ipv4 mask")),
        },
    }
}

/// The mask of a 16-bit field (`80`, `0x50/0xfff0`; absent: 0).
fn port_mask(megaflow: &str, name: &str) -> u16 {
    let Some(v) = field(megaflow, name) else {
        return 0;
    };
    match v.split_once('/') {
        None => !0,
        Some((_, m)) => u16::from_str_radix(m.trim_start_matches("0x"), 16).expect("hex port mask"),
    }
}

fn field<'a>(megaflow: &'a str, name: &str) -> Option<&'a str> {
    megaflow
        .split(',')
        .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))
}

/// Cookie of the rule that matched in table 0, from a trace.
fn matched_cookie(trace: &str) -> Option<u64> {
    let line = trace.lines().find(|l| l.starts_with(" 0. "))?;
    let c = line.split(", cookie ").nth(1)?;
    u64::from_str_radix(c.trim().trim_start_matches("0x"), 16).ok()
}

/// Runs one table; `few_priorities` draws priorities from a set of three,
/// so that subtables of equal priority (and their order) matter.
fn run_case(
    sb: &Sandbox,
    seed: u64,
    n_rules: usize,
    n_packets: usize,
    few_priorities: bool,
) -> Result<usize, String> {
    let mut r = Rng(seed);
    let mut cls: Classifier<u64> = Classifier::new();
    let mut text = String::new();
    let mut priorities: Vec<u16> = (1..2000).collect();
    let mut added = Vec::new();
    for i in 0..n_rules {
        let pri = if few_priorities {
            r.pick(&[100u16, 200, 300])
        } else {
            let pi = r.below(priorities.len() as u64) as usize;
            priorities.swap_remove(pi)
        };
        let cookie = i as u64 + 1;
        let (s, f, m) = random_rule(&mut r, pri);
        writeln!(text, "{s},cookie={cookie:#x},actions=drop").unwrap();
        let rule = ClsRule::new(&f, &m, pri as i32, &[], cookie);
        // Adding a flow with the match and priority of an existing one
        // replaces it, in the switch as here.
        cls.replace(rule.clone(), 0);
        added.push((s, rule));
    }
    text.push_str("priority=0,cookie=0xffff,actions=drop\n");
    cls.insert(
        ClsRule::new(&Flow::default(), &Flow::default(), 0, &[], 0xffff),
        0,
    );
    let file = sb.path("flows.txt");
    std::fs::write(&file, &text).map_err(|e| e.to_string())?;
    sb.run("/usr/bin/ovs-ofctl", &["del-flows", "br0"])?;
    sb.run("/usr/bin/ovs-ofctl", &["add-flows", "br0", &file])?;
    // Delete some flows again (emptied subtables change the order of the
    // others).
    let mut deleted = false;
    for (s, rule) in added.iter() {
        if r.chance(20) && rule.is_in_classifier() {
            deleted = true;
            sb.run("/usr/bin/ovs-ofctl", &["--strict", "del-flows", "br0", s])?;
            cls.remove(rule);
            writeln!(text, "(deleted) {s}").unwrap();
        }
    }
    // Deleted rules leave the reference's classifier only after an RCU
    // grace period; until then they still shape its wildcards.
    if deleted {
        std::thread::sleep(std::time::Duration::from_millis(400));
    }
    let ctl = sb.control();
    let mut failures = 0;
    for _ in 0..n_packets {
        let p = random_packet(&mut r);
        let mut wc = Flow::default();
        wc.dl_type = !0;
        wc.in_port = !0;
        let got = cls.state().lookup(0, &p, Some(&mut wc)).map(|r| *r.data());
        let ours = (got, wc.nw_src, wc.nw_dst, wc.tp_src, wc.tp_dst);
        // A late removal in the reference can still show: retry then.
        let mut attempts = if deleted { 4 } else { 1 };
        loop {
            let trace = sb.run(
                "/usr/bin/ovs-appctl",
                &["-t", &ctl, "ofproto/trace", "br0", &packet_text(&p)],
            )?;
            let megaflow = trace
                .lines()
                .find_map(|l| l.strip_prefix("Megaflow: "))
                .ok_or_else(|| format!("no Megaflow in {trace}"))?;
            let theirs = (
                matched_cookie(&trace),
                ip_mask(megaflow, "nw_src"),
                ip_mask(megaflow, "nw_dst"),
                port_mask(megaflow, "tp_src"),
                port_mask(megaflow, "tp_dst"),
            );
            if ours == theirs {
                break;
            }
            attempts -= 1;
            if attempts == 0 {
                failures += 1;
                eprintln!(
                    "seed {seed}: packet {}\n  ours   {ours:x?}\n  theirs {theirs:x?}\n  {megaflow}\nflows:\n{text}",
                    packet_text(&p)
                );
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(1000));
        }
    }
    Ok(failures)
}

/// A table with conjunctive matches: for each conjunction id, clause rules
/// (`conjunction(id,k/2)`) on address prefixes and ports, the `conj_id`
/// rule, and ordinary rules around them.
fn run_conj_case(sb: &Sandbox, seed: u64, n_packets: usize) -> Result<usize, String> {
    let mut r = Rng(seed);
    let mut cls: Classifier<u64> = Classifier::new();
    let mut text = String::new();
    let mut cookie = 0u64;
    let mut conj_cookies = Vec::new();
    for id in 1..=2u32 {
        let pri = [100u16, 200][id as usize - 1];
        for clause in 0..2u8 {
            for _ in 0..3 {
                let mut f = Flow::default();
                let mut m = Flow::default();
                f.dl_type = 0x0800;
                m.dl_type = !0;
                f.nw_proto = 6;
                m.nw_proto = !0;
                let mut s = format!("priority={pri},tcp");
                let plen = r.pick(&[8u32, 16, 24, 32]);
                let a = r.pick(&ADDRS) & prefix(plen);
                if clause == 0 {
                    f.nw_src = a;
                    m.nw_src = prefix(plen);
                    write!(s, ",nw_src={}/{plen}", Ipv4Addr::from(a)).unwrap();
                } else if r.chance(50) {
                    f.nw_dst = a;
                    m.nw_dst = prefix(plen);
                    write!(s, ",nw_dst={}/{plen}", Ipv4Addr::from(a)).unwrap();
                } else {
                    f.tp_dst = r.pick(&PORTS);
                    m.tp_dst = !0;
                    write!(s, ",tp_dst={}", f.tp_dst).unwrap();
                }
                cookie += 1;
                let conj = classifier::Conjunction {
                    id,
                    clause,
                    n_clauses: 2,
                };
                let rule = ClsRule::new(&f, &m, pri as i32, &[conj], cookie);
                if cls
                    .state()
                    .find_rule_exactly(rule.minimatch(), pri as i32, 0)
                    .is_some()
                {
                    continue;
                }
                writeln!(
                    text,
                    "{s},cookie={cookie:#x},actions=conjunction({id},{}/2)",
                    clause + 1
                )
                .unwrap();
                cls.insert(rule, 0);
            }
        }
        cookie += 1;
        let mut f = Flow::default();
        let mut m = Flow::default();
        f.conj_id = id;
        m.conj_id = !0;
        writeln!(
            text,
            "priority={pri},conj_id={id},cookie={cookie:#x},actions=drop"
        )
        .unwrap();
        conj_cookies.push(cookie);
        cls.insert(ClsRule::new(&f, &m, pri as i32, &[], cookie), 0);
    }
    for _ in 0..8 {
        let pri = r.pick(&[50u16, 150]);
        let (s, f, m) = random_rule(&mut r, pri);
        cookie += 1;
        let rule = ClsRule::new(&f, &m, pri as i32, &[], cookie);
        if cls
            .state()
            .find_rule_exactly(rule.minimatch(), pri as i32, 0)
            .is_some()
        {
            continue;
        }
        writeln!(text, "{s},cookie={cookie:#x},actions=drop").unwrap();
        cls.insert(rule, 0);
    }
    text.push_str("priority=0,cookie=0xffff,actions=drop\n");
    cls.insert(
        ClsRule::new(&Flow::default(), &Flow::default(), 0, &[], 0xffff),
        0,
    );
    let file = sb.path("flows.txt");
    std::fs::write(&file, &text).map_err(|e| e.to_string())?;
    sb.run("/usr/bin/ovs-ofctl", &["del-flows", "br0"])?;
    // Let the deleted flows of the previous case leave the classifier.
    std::thread::sleep(std::time::Duration::from_millis(400));
    sb.run("/usr/bin/ovs-ofctl", &["add-flows", "br0", &file])?;
    let ctl = sb.control();
    let mut failures = 0;
    for _ in 0..n_packets {
        let p = random_packet(&mut r);
        let mut wc = Flow::default();
        wc.dl_type = !0;
        wc.in_port = !0;
        let got = cls.state().lookup(0, &p, Some(&mut wc)).map(|r| *r.data());
        let ours = (got, wc.nw_src, wc.nw_dst, wc.tp_src, wc.tp_dst, wc.conj_id);
        if got.is_some_and(|c| conj_cookies.contains(&c)) {
            CONJ_MATCHES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        let trace = sb.run(
            "/usr/bin/ovs-appctl",
            &["-t", &ctl, "ofproto/trace", "br0", &packet_text(&p)],
        )?;
        let megaflow = trace
            .lines()
            .find_map(|l| l.strip_prefix("Megaflow: "))
            .ok_or_else(|| format!("no Megaflow in {trace}"))?;
        let theirs = (
            matched_cookie(&trace),
            ip_mask(megaflow, "nw_src"),
            ip_mask(megaflow, "nw_dst"),
            port_mask(megaflow, "tp_src"),
            port_mask(megaflow, "tp_dst"),
            // The datapath has no conj_id: it never shows in a Megaflow.
            wc.conj_id,
        );
        if ours != theirs {
            failures += 1;
            eprintln!(
                "conj seed {seed}: packet {}\n  ours   {ours:x?}\n  theirs {theirs:x?}\n  {megaflow}\n{trace}\nflows:\n{text}",
                packet_text(&p)
            );
        }
    }
    Ok(failures)
}

fn prefix128(n: u32) -> u128 {
    if n == 0 {
        0
    } else {
        !0u128 << (128 - n)
    }
}

/// IPv6 addresses sharing prefixes of various lengths.
const ADDRS6: [u128; 5] = [
    0x2001_0db8_0000_0000_0000_0000_0000_0001,
    0x2001_0db8_0000_0000_0000_0000_0000_0002,
    0x2001_0db8_0001_0000_0000_0000_0000_0001,
    0x2001_0db8_8000_0000_0000_0000_0000_0001,
    0xfe80_0000_0000_0000_0000_0000_0000_0001,
];

/// The mask of an IPv6 field in a Megaflow line.
fn ipv6_mask(megaflow: &str, name: &str) -> u128 {
    let Some(v) = field(megaflow, name) else {
        return 0;
    };
    match v.split_once('/') {
        None => !0,
        Some((_, m)) => match m.parse::<u32>() {
            Ok(len) => prefix128(len),
            Err(_) => u128::from(m.parse::<std::net::Ipv6Addr>().expect("ipv6 mask")),
        },
    }
}

/// IPv6 tables on bridge `br1`, whose flow table 0 keeps prefix tries on
/// `ipv6_dst` and `ipv6_src` (`Flow_Table` `prefixes`).
fn run_ipv6_case(
    sb: &Sandbox,
    seed: u64,
    n_rules: usize,
    n_packets: usize,
) -> Result<usize, String> {
    use std::net::Ipv6Addr;
    let mut r = Rng(seed);
    let mut cls: Classifier<u64> =
        Classifier::with_prefix_fields(&[flow::FieldId::Ipv6Dst, flow::FieldId::Ipv6Src]);
    let mut text = String::new();
    let mut priorities: Vec<u16> = (1..2000).collect();
    for i in 0..n_rules {
        let pi = r.below(priorities.len() as u64) as usize;
        let pri = priorities.swap_remove(pi);
        let cookie = i as u64 + 1;
        let mut f = Flow::default();
        let mut m = Flow::default();
        f.dl_type = 0x86dd;
        m.dl_type = !0;
        let mut s = format!("priority={pri},cookie={cookie:#x}");
        let tcp = r.chance(50);
        if tcp {
            s.push_str(",tcp6");
            f.nw_proto = 6;
            m.nw_proto = !0;
        } else {
            s.push_str(",ipv6");
        }
        for dst in [false, true] {
            if r.chance(70) {
                let plen = r.pick(&[16u32, 32, 33, 48, 64, 127, 128]);
                let a = r.pick(&ADDRS6) & prefix128(plen);
                let name = if dst { "ipv6_dst" } else { "ipv6_src" };
                write!(s, ",{name}={}/{plen}", Ipv6Addr::from(a)).unwrap();
                let (fv, mv) = if dst {
                    (&mut f.ipv6_dst, &mut m.ipv6_dst)
                } else {
                    (&mut f.ipv6_src, &mut m.ipv6_src)
                };
                *fv = a.to_be_bytes();
                *mv = prefix128(plen).to_be_bytes();
            }
        }
        if tcp && r.chance(40) {
            f.tp_dst = r.pick(&PORTS);
            m.tp_dst = !0;
            write!(s, ",tp_dst={}", f.tp_dst).unwrap();
        }
        s.push_str(",actions=drop");
        writeln!(text, "{s}").unwrap();
        cls.replace(ClsRule::new(&f, &m, pri as i32, &[], cookie), 0);
    }
    text.push_str("priority=0,cookie=0xffff,actions=drop\n");
    cls.insert(
        ClsRule::new(&Flow::default(), &Flow::default(), 0, &[], 0xffff),
        0,
    );
    let file = sb.path("flows6.txt");
    std::fs::write(&file, &text).map_err(|e| e.to_string())?;
    sb.run("/usr/bin/ovs-ofctl", &["del-flows", "br1"])?;
    std::thread::sleep(std::time::Duration::from_millis(400));
    sb.run("/usr/bin/ovs-ofctl", &["add-flows", "br1", &file])?;
    let ctl = sb.control();
    let mut failures = 0;
    for _ in 0..n_packets {
        let mut p = Flow::default();
        p.in_port = 1;
        p.dl_type = 0x86dd;
        p.nw_proto = 6;
        let addr = |r: &mut Rng| {
            if r.chance(70) {
                r.pick(&ADDRS6) ^ (r.below(4) as u128) << r.pick(&[0u32, 64, 80, 95])
            } else {
                (r.next() as u128) << 64 | r.next() as u128
            }
        };
        p.ipv6_src = addr(&mut r).to_be_bytes();
        p.ipv6_dst = addr(&mut r).to_be_bytes();
        p.tp_dst = r.pick(&PORTS);
        let text_p = format!(
            "in_port=1,tcp6,ipv6_src={},ipv6_dst={},tp_dst={}",
            Ipv6Addr::from(p.ipv6_src),
            Ipv6Addr::from(p.ipv6_dst),
            p.tp_dst
        );
        let mut wc = Flow::default();
        wc.dl_type = !0;
        wc.in_port = !0;
        let got = cls.state().lookup(0, &p, Some(&mut wc)).map(|r| *r.data());
        let ours = (
            got,
            u128::from_be_bytes(wc.ipv6_src),
            u128::from_be_bytes(wc.ipv6_dst),
            wc.tp_dst,
        );
        let trace = sb.run(
            "/usr/bin/ovs-appctl",
            &["-t", &ctl, "ofproto/trace", "br1", &text_p],
        )?;
        let megaflow = trace
            .lines()
            .find_map(|l| l.strip_prefix("Megaflow: "))
            .ok_or_else(|| format!("no Megaflow in {trace}"))?;
        let theirs = (
            matched_cookie(&trace),
            ipv6_mask(megaflow, "ipv6_src"),
            ipv6_mask(megaflow, "ipv6_dst"),
            port_mask(megaflow, "tp_dst"),
        );
        if ours != theirs {
            failures += 1;
            eprintln!(
                "ipv6 seed {seed}: packet {text_p}\n  ours   {ours:x?}\n  theirs {theirs:x?}\n  {megaflow}\nflows:\n{text}"
            );
        }
    }
    Ok(failures)
}

/// Lookups of the conjunctive tables that ended in a conjunctive match.
static CONJ_MATCHES: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

#[test]
fn megaflow_masks_match_reference() {
    if testkit::skip_without_upstream("megaflow_masks_match_reference") {
        return;
    }
    let sb = Sandbox::start();
    let mut failures = 0;
    let mut cases = 0;
    for seed in 1..=24u64 {
        let n_rules = [4usize, 10, 30][(seed % 3) as usize];
        failures += run_case(&sb, seed, n_rules, 25, seed > 16).expect("reference run");
        cases += 25;
    }
    sb.run(
        "/usr/bin/ovs-vsctl",
        &[
            &format!("--db=unix:{}", sb.path("db.sock")),
            "add-br",
            "br1",
            "--",
            "set",
            "bridge",
            "br1",
            "datapath-type=dummy",
            "--",
            "--id=@ft",
            "create",
            "Flow_Table",
            "prefixes=ipv6_dst,ipv6_src",
            "--",
            "set",
            "bridge",
            "br1",
            "flow_tables:0=@ft",
        ],
    )
    .expect("bridge br1");
    for seed in 200..=207u64 {
        let n_rules = [5usize, 12, 30][(seed % 3) as usize];
        failures += run_ipv6_case(&sb, seed, n_rules, 25).expect("reference run");
        cases += 25;
    }
    for seed in 100..=105u64 {
        failures += run_conj_case(&sb, seed, 25).expect("reference run");
        cases += 25;
    }
    let conj = CONJ_MATCHES.load(std::sync::atomic::Ordering::Relaxed);
    eprintln!("{conj} lookups took a conjunctive match");
    assert!(conj > 0, "the conjunctive tables never matched");
    eprintln!(
        "{} of {cases} lookups agree with the reference",
        cases - failures
    );
    assert_eq!(failures, 0, "lookups disagreeing with the reference");
}
