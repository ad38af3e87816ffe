//! Tests of the whole classifier: behaviour examples and a randomized
//! comparison with a brute-force linear classifier.

use crate::rule::{ClsRule, Conjunction, MiniMatch, Version, VERSION_MIN};
use crate::Classifier;
use flow::FieldId;
use packet::Flow;
use std::sync::Arc;

const IP: u16 = 0x0800;
const IPV6: u16 = 0x86dd;

fn ip4(a: u8, b: u8, c: u8, d: u8) -> u32 {
    u32::from_be_bytes([a, b, c, d])
}

fn prefix(n: u32) -> u32 {
    if n == 0 {
        0
    } else {
        !0u32 << (32 - n)
    }
}

/// A flow/mask pair under construction.
#[derive(Clone, Copy, Default)]
struct M {
    f: Flow,
    m: Flow,
}

impl M {
    fn new() -> M {
        M::default()
    }
    fn in_port(mut self, p: u32) -> M {
        self.f.in_port = p;
        self.m.in_port = !0;
        self
    }
    fn dl_type(mut self, t: u16) -> M {
        self.f.dl_type = t;
        self.m.dl_type = !0;
        self
    }
    fn nw_src(mut self, a: u32, plen: u32) -> M {
        self = self.dl_type(IP);
        self.f.nw_src = a & prefix(plen);
        self.m.nw_src = prefix(plen);
        self
    }
    fn nw_dst(mut self, a: u32, plen: u32) -> M {
        self = self.dl_type(IP);
        self.f.nw_dst = a & prefix(plen);
        self.m.nw_dst = prefix(plen);
        self
    }
    fn tcp(mut self) -> M {
        self = self.dl_type(IP);
        self.f.nw_proto = 6;
        self.m.nw_proto = !0;
        self
    }
    fn tp_dst(mut self, p: u16) -> M {
        self.f.tp_dst = p;
        self.m.tp_dst = !0;
        self
    }
    fn conj_id(mut self, id: u32) -> M {
        self.f.conj_id = id;
        self.m.conj_id = !0;
        self
    }
    fn rule(&self, pri: i32, name: &'static str) -> Arc<ClsRule<&'static str>> {
        ClsRule::new(&self.f, &self.m, pri, &[], name)
    }
    fn conj_rule(
        &self,
        pri: i32,
        conj: &[Conjunction],
        name: &'static str,
    ) -> Arc<ClsRule<&'static str>> {
        ClsRule::new(&self.f, &self.m, pri, conj, name)
    }
}

/// A packet flow.
fn pkt(f: impl FnOnce(&mut Flow)) -> Flow {
    let mut flow = Flow::default();
    f(&mut flow);
    flow
}

/// Wildcards as xlate starts them: the Ethernet type always matters.
fn wc0() -> Flow {
    let mut wc = Flow::default();
    wc.dl_type = !0;
    wc
}

fn lookup(cls: &Classifier<&'static str>, v: Version, flow: &Flow) -> (Option<&'static str>, Flow) {
    let mut wc = wc0();
    let r = cls
        .state()
        .lookup(v, flow, Some(&mut wc))
        .map(|r| *r.data());
    assert_eq!(r, cls.state().lookup(v, flow, None).map(|r| *r.data()));
    (r, wc)
}

#[test]
fn highest_priority_wins_and_replace_remove() {
    let mut cls = Classifier::new();
    let a = M::new().in_port(1).rule(10, "a");
    let b = M::new().in_port(1).tcp().rule(20, "b");
    let c = M::new().rule(0, "c");
    assert!(cls.insert(a.clone(), VERSION_MIN).is_none());
    assert!(cls.insert(b.clone(), VERSION_MIN).is_none());
    assert!(cls.insert(c.clone(), VERSION_MIN).is_none());
    assert_eq!(cls.state().count(), 3);
    assert_eq!(cls.state().n_subtables(), 3);
    let tcp1 = pkt(|f| {
        f.in_port = 1;
        f.dl_type = IP;
        f.nw_proto = 6;
    });
    assert_eq!(lookup(&cls, 0, &tcp1).0, Some("b"));
    let udp1 = pkt(|f| {
        f.in_port = 1;
        f.dl_type = IP;
        f.nw_proto = 17;
    });
    assert_eq!(lookup(&cls, 0, &udp1).0, Some("a"));
    assert_eq!(lookup(&cls, 0, &pkt(|f| f.in_port = 2)).0, Some("c"));

    // Same match and priority: replaced.
    let a2 = M::new().in_port(1).rule(10, "a2");
    let old = cls.replace(a2.clone(), VERSION_MIN).unwrap();
    assert!(Arc::ptr_eq(&old, &a));
    assert!(!a.is_in_classifier());
    assert_eq!(cls.state().count(), 3);
    assert_eq!(lookup(&cls, 0, &udp1).0, Some("a2"));
    // Inserting a rule already in the classifier does nothing.
    assert!(cls.insert(a2.clone(), VERSION_MIN).is_none());
    assert_eq!(cls.state().count(), 3);

    // Same match, other priority: both kept, higher first.
    let a3 = M::new().in_port(1).rule(30, "a3");
    assert!(cls.insert(a3.clone(), VERSION_MIN).is_none());
    assert_eq!(lookup(&cls, 0, &tcp1).0, Some("a3"));
    assert!(cls.remove(&a3));
    assert!(!cls.remove(&a3));
    assert_eq!(lookup(&cls, 0, &tcp1).0, Some("b"));
    assert!(cls.remove(&b));
    assert!(cls.remove(&a2));
    assert!(cls.remove(&c));
    assert!(cls.state().is_empty());
    assert_eq!(cls.state().n_subtables(), 0);
    assert_eq!(lookup(&cls, 0, &tcp1).0, None);
}

#[test]
fn early_stage_miss_unwildcards_only_that_stage() {
    let mut cls = Classifier::new();
    cls.insert(M::new().in_port(1).tcp().tp_dst(80).rule(10, "web"), 0);
    let (r, wc) = lookup(
        &cls,
        0,
        &pkt(|f| {
            f.in_port = 2;
            f.dl_type = IP;
            f.nw_proto = 6;
            f.tp_dst = 80;
        }),
    );
    assert_eq!(r, None);
    assert_eq!(wc.in_port, !0);
    assert_eq!(wc.nw_proto, 0);
    assert_eq!(wc.tp_dst, 0);

    // Miss at L3: metadata, L2 and L3 matter, L4 does not.
    let (r, wc) = lookup(
        &cls,
        0,
        &pkt(|f| {
            f.in_port = 1;
            f.dl_type = IP;
            f.nw_proto = 17;
            f.tp_dst = 80;
        }),
    );
    assert_eq!(r, None);
    assert_eq!((wc.in_port, wc.nw_proto, wc.tp_dst), (!0, !0, 0));
}

#[test]
fn ports_trie_limits_port_unwildcarding() {
    let mut cls = Classifier::new();
    cls.insert(M::new().tcp().tp_dst(80).rule(10, "web"), 0);
    cls.insert(M::new().rule(0, "default"), 0);
    let (r, wc) = lookup(
        &cls,
        0,
        &pkt(|f| {
            f.dl_type = IP;
            f.nw_proto = 6;
            f.tp_dst = 443;
        }),
    );
    assert_eq!(r, Some("default"));
    // 80 = 0x0050 and 443 = 0x01bb first differ in bit 7 of tp_dst.
    assert_eq!(wc.tp_dst, 0xff00);
    assert_eq!(wc.tp_src, 0);
    let (r, wc) = lookup(
        &cls,
        0,
        &pkt(|f| {
            f.dl_type = IP;
            f.nw_proto = 6;
            f.tp_dst = 80;
        }),
    );
    assert_eq!(r, Some("web"));
    assert_eq!(wc.tp_dst, 0xffff);
}

#[test]
fn prefix_tries_limit_address_unwildcarding() {
    let mut cls = Classifier::new();
    cls.insert(M::new().nw_dst(ip4(10, 1, 2, 3), 32).rule(100, "host"), 0);
    cls.insert(M::new().nw_dst(ip4(10, 1, 0, 0), 16).rule(50, "net"), 0);
    let flow = pkt(|f| {
        f.dl_type = IP;
        f.nw_dst = ip4(10, 1, 5, 5);
    });
    let (r, wc) = lookup(&cls, 0, &flow);
    assert_eq!(r, Some("net"));
    // 10.1.5.5 and 10.1.2.3 first differ at bit 21.
    assert_eq!(wc.nw_dst, prefix(22));
    assert_eq!(wc.nw_src, 0);

    // Without tries the whole address is un-wildcarded.
    let mut plain = Classifier::with_prefix_fields(&[]);
    plain.insert(M::new().nw_dst(ip4(10, 1, 2, 3), 32).rule(100, "host"), 0);
    plain.insert(M::new().nw_dst(ip4(10, 1, 0, 0), 16).rule(50, "net"), 0);
    let (r, wc) = lookup(&plain, 0, &flow);
    assert_eq!(r, Some("net"));
    assert_eq!(wc.nw_dst, !0);

    // Tries can be turned on later, on existing rules.
    assert!(plain.set_prefix_fields(&[FieldId::Ipv4Dst, FieldId::TcpSrc, FieldId::Ipv4Dst]));
    assert_eq!(plain.prefix_fields(), vec![FieldId::Ipv4Dst]);
    assert!(!plain.set_prefix_fields(&[FieldId::Ipv4Dst]));
    let (_, wc) = lookup(&plain, 0, &flow);
    assert_eq!(wc.nw_dst, prefix(22));
}

#[test]
fn ipv6_prefix_trie() {
    let mut cls = Classifier::with_prefix_fields(&[FieldId::Ipv6Dst]);
    let mut host = M::new().dl_type(IPV6);
    host.f.ipv6_dst = [0x20, 0x01, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
    host.m.ipv6_dst = [0xff; 16];
    let mut net = M::new().dl_type(IPV6);
    net.f.ipv6_dst = [0x20, 0x01, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    net.m.ipv6_dst = [0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    cls.insert(host.rule(100, "host"), 0);
    cls.insert(net.rule(50, "net"), 0);
    let flow = pkt(|f| {
        f.dl_type = IPV6;
        f.ipv6_dst = [0x20, 0x01, 0xd, 0xb8, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
    });
    let (r, wc) = lookup(&cls, 0, &flow);
    assert_eq!(r, Some("net"));
    assert_eq!(
        wc.ipv6_dst,
        [0xff, 0xff, 0xff, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
    );
}

#[test]
fn versions_make_changes_visible_atomically() {
    let mut cls = Classifier::new();
    let old = M::new().in_port(1).rule(10, "old");
    cls.insert(old.clone(), 1);
    let flow = pkt(|f| f.in_port = 1);
    assert_eq!(lookup(&cls, 0, &flow).0, None);
    assert_eq!(lookup(&cls, 1, &flow).0, Some("old"));

    // A bundle in version 2: replace "old" by "new" with the same match.
    let new = M::new().in_port(1).rule(10, "new");
    old.make_invisible_in_version(2);
    assert!(cls.replace(new.clone(), 2).is_none());
    assert_eq!(cls.state().count(), 2);
    assert_eq!(lookup(&cls, 1, &flow).0, Some("old"));
    assert_eq!(lookup(&cls, 2, &flow).0, Some("new"));
    assert!(cls
        .state()
        .find_rule_exactly(old.minimatch(), 10, 1)
        .is_some());
    assert_eq!(
        cls.state()
            .find_rule_exactly(new.minimatch(), 10, 2)
            .map(|r| *r.data()),
        Some("new")
    );
    // Readers of version 2 done: remove the old rule.
    assert!(cls.remove(&old));
    assert_eq!(lookup(&cls, 1, &flow).0, None);
    assert_eq!(lookup(&cls, 2, &flow).0, Some("new"));

    // A bundle that is rolled back.
    new.make_invisible_in_version(3);
    assert_eq!(lookup(&cls, 3, &flow).0, None);
    new.restore_visibility();
    assert_eq!(lookup(&cls, 3, &flow).0, Some("new"));
}

#[test]
fn readers_see_published_snapshots_only() {
    let mut cls = Classifier::new();
    let reader = cls.reader();
    let flow = pkt(|f| f.in_port = 7);
    cls.insert(M::new().in_port(7).rule(1, "a"), 0);
    let snap = reader.load_full();
    assert_eq!(snap.lookup(0, &flow, None).map(|r| *r.data()), Some("a"));

    cls.defer();
    let b = M::new().in_port(7).rule(5, "b");
    cls.insert(b.clone(), 0);
    assert_eq!(
        reader.load().lookup(0, &flow, None).map(|r| *r.data()),
        Some("a")
    );
    assert_eq!(
        cls.state().lookup(0, &flow, None).map(|r| *r.data()),
        Some("b")
    );
    cls.publish();
    assert_eq!(
        reader.load().lookup(0, &flow, None).map(|r| *r.data()),
        Some("b")
    );
    cls.remove(&b);
    assert_eq!(
        reader.load().lookup(0, &flow, None).map(|r| *r.data()),
        Some("a")
    );
    // The old snapshot is untouched by all of this.
    assert_eq!(snap.lookup(0, &flow, None).map(|r| *r.data()), Some("a"));
    assert_eq!(snap.count(), 1);

    // Readers on another thread.
    let t = std::thread::spawn(move || {
        reader
            .load()
            .lookup(0, &pkt(|f| f.in_port = 7), None)
            .map(|r| *r.data())
    });
    assert_eq!(t.join().unwrap(), Some("a"));
}

#[test]
fn a_reader_made_late_sees_every_earlier_change() {
    // Nothing is published while no reader exists; the first reader must
    // still see the current state, and so must one made after every
    // reader was dropped and more changes were made.
    let mut cls = Classifier::new();
    let flow = pkt(|f| f.in_port = 7);
    let a = M::new().in_port(7).rule(1, "a");
    cls.insert(a.clone(), 0);
    cls.insert(M::new().in_port(8).rule(1, "x"), 0);
    let reader = cls.reader();
    assert_eq!(
        reader.load().lookup(0, &flow, None).map(|r| *r.data()),
        Some("a")
    );
    assert_eq!(reader.load().count(), 2);
    drop(reader);
    cls.insert(M::new().in_port(7).rule(9, "b"), 0);
    cls.remove(&a);
    let reader = cls.reader();
    assert_eq!(
        reader.load().lookup(0, &flow, None).map(|r| *r.data()),
        Some("b")
    );
    assert_eq!(reader.load().count(), 2);
    // A live reader sees each change as it is made.
    cls.insert(M::new().in_port(7).rule(20, "c"), 0);
    assert_eq!(
        reader.load().lookup(0, &flow, None).map(|r| *r.data()),
        Some("c")
    );
}

#[test]
fn concurrent_readers_see_whole_versions() {
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
    // The writer adds rule j (in_port=j+1) in version j+1, publishes, then
    // makes version j+1 current; readers must see exactly the rules of the
    // version they read, whatever snapshot they hold.
    let mut cls: Classifier<u32> = Classifier::new();
    let reader = cls.reader();
    let current = Arc::new(AtomicU64::new(0));
    let done = Arc::new(AtomicBool::new(false));
    const N: u32 = 300;
    let readers: Vec<_> = (0..2)
        .map(|t| {
            let reader = reader.clone();
            let current = current.clone();
            let done = done.clone();
            std::thread::spawn(move || {
                let mut checks = 0u64;
                let mut j = t;
                while !done.load(Ordering::Acquire) || checks == 0 {
                    let v = current.load(Ordering::Acquire);
                    let snap = reader.load();
                    j = (j + 7) % N;
                    let flow = pkt(|f| f.in_port = j + 1);
                    let got = snap.lookup(v, &flow, None).map(|r| *r.data());
                    let want = (u64::from(j) < v).then_some(j);
                    assert_eq!(got, want, "version {v} rule {j}");
                    checks += 1;
                }
                checks
            })
        })
        .collect();
    for j in 0..N {
        let mut f = Flow::default();
        let mut m = Flow::default();
        f.in_port = j + 1;
        m.in_port = !0;
        cls.insert(ClsRule::new(&f, &m, 1, &[], j), u64::from(j) + 1);
        current.store(u64::from(j) + 1, Ordering::Release);
    }
    done.store(true, Ordering::Release);
    for r in readers {
        assert!(r.join().unwrap() > 0);
    }
}

#[test]
fn conjunctive_match() {
    // The example of ovs-fields(7): (ip_src in {A, B}) and (tp_dst in
    // {80, 443}) -> conj_id=1.
    let a = ip4(10, 0, 0, 1);
    let b = ip4(10, 0, 0, 2);
    let c1 = |k| {
        [Conjunction {
            id: 1,
            clause: k,
            n_clauses: 2,
        }]
    };
    let mut cls = Classifier::new();
    cls.insert(M::new().nw_src(a, 32).conj_rule(100, &c1(0), "src a"), 0);
    cls.insert(M::new().nw_src(b, 32).conj_rule(100, &c1(0), "src b"), 0);
    cls.insert(
        M::new().tcp().tp_dst(80).conj_rule(100, &c1(1), "port 80"),
        0,
    );
    cls.insert(
        M::new()
            .tcp()
            .tp_dst(443)
            .conj_rule(100, &c1(1), "port 443"),
        0,
    );
    cls.insert(M::new().conj_id(1).rule(100, "conj 1"), 0);
    cls.insert(M::new().rule(0, "miss"), 0);
    let flow = |src, port| {
        pkt(|f| {
            f.dl_type = IP;
            f.nw_src = src;
            f.nw_proto = 6;
            f.tp_dst = port;
        })
    };
    assert_eq!(lookup(&cls, 0, &flow(a, 80)).0, Some("conj 1"));
    assert_eq!(lookup(&cls, 0, &flow(b, 443)).0, Some("conj 1"));
    assert_eq!(lookup(&cls, 0, &flow(a, 22)).0, Some("miss"));
    assert_eq!(lookup(&cls, 0, &flow(ip4(10, 0, 0, 3), 80)).0, Some("miss"));
    let (_, wc) = lookup(&cls, 0, &flow(a, 80));
    assert_eq!((wc.nw_src, wc.tp_dst, wc.conj_id), (!0, !0, !0));

    let mut cf = Vec::new();
    let st = cls.state();
    let r = st.lookup_words(
        0,
        &crate::FlowWords::from_flow(&flow(b, 80)),
        None,
        Some(&mut cf),
    );
    assert_eq!(r.map(|r| *r.data()), Some("conj 1"));
    let mut names: Vec<_> = cf.iter().map(|r| *r.data()).collect();
    names.sort();
    assert_eq!(names, vec!["port 80", "src b"]);

    // A lower-priority rule with the same match as a clause takes over
    // when the conjunction does not complete.
    cls.insert(M::new().nw_src(a, 32).rule(50, "src a low"), 0);
    assert_eq!(lookup(&cls, 0, &flow(a, 22)).0, Some("src a low"));
    assert_eq!(lookup(&cls, 0, &flow(a, 80)).0, Some("conj 1"));
    // A higher-priority ordinary rule beats the conjunction.
    cls.insert(M::new().tcp().tp_dst(80).rule(200, "hard 80"), 0);
    assert_eq!(lookup(&cls, 0, &flow(a, 80)).0, Some("hard 80"));
}

#[test]
fn iteration_overlap_and_exact_find() {
    let mut cls = Classifier::new();
    let r1 = M::new().in_port(1).tcp().tp_dst(80).rule(10, "r1");
    let r2 = M::new().in_port(1).tcp().tp_dst(22).rule(10, "r2");
    let r3 = M::new().in_port(2).tcp().rule(20, "r3");
    let r4 = M::new().rule(0, "r4");
    for r in [&r1, &r2, &r3, &r4] {
        cls.insert((*r).clone(), 0);
    }
    fn names(cls: &Classifier<&'static str>, t: Option<&MiniMatch>) -> Vec<&'static str> {
        cls.state().rules(t, 0).map(|r| *r.data()).collect()
    }
    assert_eq!(names(&cls, None), vec!["r3", "r1", "r2", "r4"]);
    let t = M::new().in_port(1);
    let tm = MiniMatch::new(&t.f, &t.m);
    assert_eq!(names(&cls, Some(&tm)), vec!["r1", "r2"]);
    let t = M::new().tcp();
    let tm = MiniMatch::new(&t.f, &t.m);
    assert_eq!(names(&cls, Some(&tm)), vec!["r3", "r1", "r2"]);
    assert_eq!(names(&cls, Some(&MiniMatch::catchall())).len(), 4);

    // Replacement keeps the position.
    let r1b = M::new().in_port(1).tcp().tp_dst(80).rule(10, "r1b");
    cls.replace(r1b, 0);
    assert_eq!(names(&cls, None), vec!["r3", "r1b", "r2", "r4"]);

    let exact = M::new().in_port(1).tcp().tp_dst(22);
    let em = MiniMatch::new(&exact.f, &exact.m);
    assert_eq!(
        cls.state().find_rule_exactly(&em, 10, 0).map(|r| *r.data()),
        Some("r2")
    );
    assert!(cls.state().find_rule_exactly(&em, 11, 0).is_none());
    assert!(cls
        .state()
        .find_match_exactly(
            &flow::Match {
                flow: exact.f,
                wc: exact.m
            },
            10,
            0
        )
        .is_some());

    // in_port=1,tcp at priority 20 overlaps r3? No (in_port differs).
    let o = M::new().in_port(1).tcp();
    assert!(!cls
        .state()
        .rule_overlaps(&MiniMatch::new(&o.f, &o.m), 20, 0));
    let o = M::new().tcp();
    assert!(cls
        .state()
        .rule_overlaps(&MiniMatch::new(&o.f, &o.m), 20, 0));
    assert!(cls
        .state()
        .rule_overlaps(&MiniMatch::new(&o.f, &o.m), 10, 0));
    assert!(!cls
        .state()
        .rule_overlaps(&MiniMatch::new(&o.f, &o.m), 11, 0));
}

#[test]
fn equal_priority_subtables_keep_their_order() {
    let mut cls = Classifier::new();
    let flow = pkt(|f| {
        f.in_port = 1;
        f.dl_type = IP;
        f.nw_proto = 6;
        f.tp_dst = 80;
    });
    // Subtable A (in_port) at 100, subtable B (tcp,tp_dst) at 200.
    cls.insert(M::new().in_port(1).rule(100, "a"), 0);
    let b1 = M::new().tcp().tp_dst(80).rule(200, "b1");
    cls.insert(b1.clone(), 0);
    cls.insert(M::new().tcp().tp_dst(22).rule(100, "b2"), 0);
    assert_eq!(lookup(&cls, 0, &flow).0, Some("b1"));
    // B drops to 100 and stays ahead of A.
    cls.remove(&b1);
    let names: Vec<&str> = cls.state().rules(None, 0).map(|r| *r.data()).collect();
    assert_eq!(names, vec!["b2", "a"]);
    let (r, wc) = lookup(&cls, 0, &flow);
    assert_eq!(r, Some("a"));
    // B was searched first: 22 and 80 differ in bit 9 of tp_dst.
    assert_eq!(wc.tp_dst, 0xffc0);

    // A new subtable of equal priority goes after the existing ones.
    cls.insert(M::new().nw_src(ip4(1, 2, 3, 4), 32).rule(100, "c"), 0);
    let names: Vec<&str> = cls.state().rules(None, 0).map(|r| *r.data()).collect();
    assert_eq!(names, vec!["b2", "a", "c"]);
    // Removing the first moves the last into its place.
    let b2 = cls.state().rules(None, 0).next().unwrap().clone();
    cls.remove(&b2);
    let names: Vec<&str> = cls.state().rules(None, 0).map(|r| *r.data()).collect();
    assert_eq!(names, vec!["c", "a"]);
}

mod random {
    //! Randomized comparison with a brute-force classifier.

    use super::*;
    use crate::words::FlowWords;
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    /// Fields the random rules and packets use, from small value sets so
    /// that rules overlap.
    fn random_flow(rng: &mut StdRng) -> Flow {
        let mut f = Flow::default();
        f.in_port = rng.gen_range(1..4);
        f.regs[0] = [0, 1, 0xff00, 0x1234_5678][rng.gen_range(0..4)];
        f.dl_type = [IP, IP, IP, IPV6, 0x0806][rng.gen_range(0..5)];
        let addrs = [
            ip4(10, 0, 0, 1),
            ip4(10, 0, 0, 2),
            ip4(10, 0, 1, 1),
            ip4(10, 128, 0, 1),
            ip4(192, 168, 1, 1),
        ];
        f.nw_src = addrs[rng.gen_range(0..addrs.len())];
        f.nw_dst = addrs[rng.gen_range(0..addrs.len())];
        f.ipv6_src[0] = 0x20;
        f.ipv6_src[15] = rng.gen_range(0..4);
        f.ipv6_src[3] = [0, 0x80][rng.gen_range(0..2)];
        f.nw_proto = [6, 17, 1][rng.gen_range(0..3)];
        f.tp_src = [1024, 1025, 80][rng.gen_range(0..3)];
        f.tp_dst = [22, 80, 443, 8080, 0x0051][rng.gen_range(0..5)];
        f.metadata = rng.gen_range(0..3);
        f
    }

    fn random_mask(rng: &mut StdRng) -> Flow {
        let mut m = Flow::default();
        let on = |p: f64, rng: &mut StdRng| rng.gen_bool(p);
        if on(0.4, rng) {
            m.in_port = !0;
        }
        if on(0.2, rng) {
            m.regs[0] = [0xff00u32, 0x00ff, !0][rng.gen_range(0..3)];
        }
        if on(0.2, rng) {
            m.metadata = !0;
        }
        if on(0.8, rng) {
            m.dl_type = !0;
            if on(0.6, rng) {
                m.nw_src = prefix(rng.gen_range(0..=32));
            }
            if on(0.6, rng) {
                m.nw_dst = prefix(rng.gen_range(0..=32));
            }
            if on(0.3, rng) {
                m.ipv6_src = (!0u128 << rng.gen_range(0..128)).to_be_bytes();
            }
            if on(0.5, rng) {
                m.nw_proto = !0;
                if on(0.5, rng) {
                    m.tp_dst = [0xffffu16, 0xff00, 0xfff0][rng.gen_range(0..3)];
                }
                if on(0.3, rng) {
                    m.tp_src = !0;
                }
            }
        }
        m
    }

    /// The classifier's semantics over a plain list: for each identical
    /// match (group) its visible rules by decreasing priority; conjunctions
    /// as ovs-fields(7) and the fallback to lower-priority rules of the same
    /// match.
    fn brute(
        rules: &[Arc<ClsRule<u32>>],
        version: Version,
        flow: &Flow,
        allow_conj: bool,
    ) -> Option<u32> {
        let w = FlowWords::from_flow(flow);
        let mut groups: Vec<Vec<&Arc<ClsRule<u32>>>> = Vec::new();
        for r in rules.iter().filter(|r| r.is_visible_in_version(version)) {
            if !r.minimatch().matches_words(&w.0) {
                continue;
            }
            match groups
                .iter_mut()
                .find(|g| g[0].minimatch() == r.minimatch())
            {
                Some(g) => g.push(r),
                None => groups.push(vec![r]),
            }
        }
        for g in groups.iter_mut() {
            g.sort_by_key(|r| std::cmp::Reverse(r.priority()));
        }
        let mut heads: Vec<Option<usize>> = vec![Some(0); groups.len()];
        let mut hard: Option<(i32, u32)> = None;
        for (gi, g) in groups.iter().enumerate() {
            if g[0].conjunctions().is_empty() && hard.is_none_or(|(p, _)| g[0].priority() > p) {
                hard = Some((g[0].priority(), *g[0].data()));
            }
            if !g[0].conjunctions().is_empty() && !allow_conj {
                heads[gi] = None;
            }
        }
        if !allow_conj {
            return hard.map(|h| h.1);
        }
        loop {
            let hard_pri = hard.map_or(i64::MIN, |h| h.0 as i64);
            let soft: Vec<usize> = (0..groups.len())
                .filter(|&gi| {
                    heads[gi].is_some_and(|i| {
                        let r = groups[gi][i];
                        !r.conjunctions().is_empty() && r.priority() as i64 > hard_pri
                    })
                })
                .collect();
            if soft.is_empty() {
                return hard.map(|h| h.1);
            }
            let top = soft
                .iter()
                .map(|&gi| groups[gi][heads[gi].unwrap()].priority())
                .max()
                .unwrap();
            let at_top: Vec<usize> = soft
                .iter()
                .copied()
                .filter(|&gi| groups[gi][heads[gi].unwrap()].priority() == top)
                .collect();
            let mut clauses: std::collections::BTreeMap<u32, (u8, u64)> = Default::default();
            for &gi in &at_top {
                for c in groups[gi][heads[gi].unwrap()].conjunctions() {
                    if c.n_clauses as usize <= at_top.len() {
                        let e = clauses.entry(c.id).or_insert((c.n_clauses, 0));
                        e.1 |= 1 << c.clause;
                    }
                }
            }
            for (id, (n, bits)) in clauses {
                if bits.count_ones() == n as u32 {
                    let mut f2 = *flow;
                    f2.conj_id = id;
                    if let Some(x) = brute(rules, version, &f2, false) {
                        return Some(x);
                    }
                }
            }
            for &gi in &at_top {
                let next = heads[gi].unwrap() + 1;
                if next < groups[gi].len() {
                    let r = groups[gi][next];
                    if r.conjunctions().is_empty() {
                        if r.priority() as i64 > hard_pri {
                            hard = Some((r.priority(), *r.data()));
                        }
                        heads[gi] = None;
                    } else {
                        heads[gi] = Some(next);
                    }
                } else {
                    heads[gi] = None;
                }
            }
        }
    }

    fn check(
        cls: &Classifier<u32>,
        rules: &[Arc<ClsRule<u32>>],
        rng: &mut StdRng,
        version: Version,
        n_flows: usize,
    ) {
        for _ in 0..n_flows {
            let flow = random_flow(rng);
            let mut wc = wc0();
            let got = cls
                .state()
                .lookup(version, &flow, Some(&mut wc))
                .map(|r| *r.data());
            let want = brute(rules, version, &flow, true);
            assert_eq!(got, want, "flow {flow:?}");
            assert_eq!(
                cls.state().lookup(version, &flow, None).map(|r| *r.data()),
                want
            );
            if let Some(id) = got {
                let r = rules.iter().find(|r| *r.data() == id).unwrap();
                let m = r.mask();
                assert_eq!(m.and(&wc), m, "wildcards must cover the rule's mask");
            }
            // Every packet that agrees with `flow` on the wildcards gets
            // the same answer: the megaflow is correct.
            for _ in 0..8 {
                let other = random_flow(rng);
                let mut inv = Flow::default();
                let wcw = FlowWords::from_flow(&wc);
                let mut notw = FlowWords::default();
                for (i, x) in wcw.0.iter().enumerate() {
                    notw.0[i] = !x;
                }
                notw.or_into_flow(&mut inv);
                let mixed = flow.and(&wc).or(&other.and(&inv));
                assert_eq!(
                    brute(rules, version, &mixed, true),
                    want,
                    "flow {flow:?}\nwc {wc:?}\nmixed {mixed:?}"
                );
            }
        }
    }

    fn run(seed: u64, prefix_fields: &[FieldId], with_conj: bool) {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut cls: Classifier<u32> = Classifier::with_prefix_fields(prefix_fields);
        let mut rules: Vec<Arc<ClsRule<u32>>> = Vec::new();
        let mut next_id = 0u32;
        let mut priorities: Vec<i32> = (0..2000).collect();
        for round in 0..40 {
            let version = round as Version;
            for _ in 0..rng.gen_range(5..25) {
                if !rules.is_empty() && rng.gen_bool(0.25) {
                    let i = rng.gen_range(0..rules.len());
                    let r = rules.swap_remove(i);
                    assert!(cls.remove(&r));
                    continue;
                }
                let m = random_mask(&mut rng);
                let f = random_flow(&mut rng);
                let pi = rng.gen_range(0..priorities.len());
                let conj = with_conj && rng.gen_bool(0.3);
                let (pri, conjs) = if conj {
                    // Conjunction clauses share a priority per id.
                    let id = rng.gen_range(1..4u32);
                    let n = (id % 2 + 2) as u8;
                    let k = rng.gen_range(0..n);
                    (
                        3000 + id as i32 * 10,
                        vec![Conjunction {
                            id,
                            clause: k,
                            n_clauses: n,
                        }],
                    )
                } else {
                    (priorities.swap_remove(pi), vec![])
                };
                let mut f = f;
                let mut m = m;
                if with_conj && !conj && rng.gen_bool(0.3) {
                    f.conj_id = rng.gen_range(1..4);
                    m.conj_id = !0;
                }
                let r = ClsRule::new(&f, &m, pri, &conjs, next_id);
                next_id += 1;
                if conj {
                    // Avoid two clause rules with an identical match and
                    // priority (they would replace each other).
                    if rules.iter().any(|x| x.equal(&r)) {
                        continue;
                    }
                }
                if rng.gen_bool(0.2) {
                    // Added in a later version.
                    assert!(cls.insert(r.clone(), version + 1).is_none());
                } else {
                    assert!(cls.insert(r.clone(), version).is_none());
                }
                rules.push(r);
            }
            // Some rules disappear in the next version.
            for r in rules.iter() {
                if rng.gen_bool(0.05) {
                    r.make_invisible_in_version(version + 1);
                }
            }
            check(&cls, &rules, &mut rng, version, 30);
            check(&cls, &rules, &mut rng, version + 1, 30);
        }
        assert_eq!(cls.state().count(), rules.len());
        let mut all: Vec<u32> = cls
            .state()
            .rules(None, VERSION_MIN)
            .map(|r| *r.data())
            .collect();
        let mut want: Vec<u32> = rules
            .iter()
            .filter(|r| r.is_visible_in_version(VERSION_MIN))
            .map(|r| *r.data())
            .collect();
        all.sort();
        want.sort();
        assert_eq!(all, want);
    }

    #[test]
    fn matches_brute_force_without_tries() {
        run(1, &[], false);
    }

    #[test]
    fn matches_brute_force_with_tries() {
        run(
            2,
            &[FieldId::Ipv4Dst, FieldId::Ipv4Src, FieldId::Ipv6Src],
            false,
        );
    }

    #[test]
    fn matches_brute_force_with_conjunctions() {
        run(3, &[FieldId::Ipv4Dst, FieldId::Ipv4Src], true);
    }
}
