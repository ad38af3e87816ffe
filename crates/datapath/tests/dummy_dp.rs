//! Drives the userspace datapath over dummy ports with a trivial upcall
//! handler (cross-connect p1 <-> p2) and checks frames, statistics,
//! megaflow installation and the dump text.

#![allow(clippy::field_reassign_with_default)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use datapath::{Dpif, DpifNetdev, PmdConfig, PutMode, Upcall, UpcallHandler, UpcallReply};
use flow::odp::actions::OdpAction;
use netdev::dummy::Dummy;
use netdev::Netdev;
use packet::flow::Flow;

/// Sends everything from port `a` to `b` and back; the megaflow matches
/// in_port, Ethernet addresses and type and the fragment bits.
struct CrossConnect {
    a: u32,
    b: u32,
    calls: AtomicUsize,
}

impl UpcallHandler for CrossConnect {
    fn upcall(&self, up: &Upcall) -> UpcallReply {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let out = if up.in_port == self.a { self.b } else { self.a };
        let mut mask = Flow::default();
        mask.packet_type = u32::MAX;
        mask.dl_src = [0xff; 6];
        mask.dl_dst = [0xff; 6];
        mask.dl_type = 0xffff;
        mask.nw_frag = 3;
        UpcallReply {
            actions: vec![OdpAction::Output(out)],
            mask,
            install: true,
        }
    }
}

fn wait_for(cond: impl FnMut() -> bool) -> bool {
    testkit::wait_until(Duration::from_secs(10), cond)
}

const ICMP: &str = "in_port(1),eth(src=50:54:00:00:00:05,dst=50:54:00:00:00:07),eth_type(0x0800),ipv4(src=10.0.0.2,dst=10.0.0.1,proto=1,tos=0,ttl=64,frag=no),icmp(type=8,code=0)";

/// The frame of [`ICMP`].
fn icmp_frame() -> Vec<u8> {
    datapath::packet_text::frame_from_text(ICMP, None).unwrap()
}

/// A datapath with dummy ports `a` and `b` as ports 1 and 2.
fn two_port_dp(a: &str, b: &str, pmd: PmdConfig) -> (DpifNetdev, Arc<Dummy>, Arc<Dummy>) {
    let dp = DpifNetdev::create("dummy", "ovs-dummy", None, pmd).unwrap();
    let (p1, p2) = (
        Dummy::open(a, "dummy").unwrap(),
        Dummy::open(b, "dummy").unwrap(),
    );
    dp.port_add(p1.clone(), Some(1)).unwrap();
    dp.port_add(p2.clone(), Some(2)).unwrap();
    (dp, p1, p2)
}

/// A cross-connect of ports 1 and 2 that has not been called yet.
fn cross_connect() -> Arc<CrossConnect> {
    Arc::new(CrossConnect {
        a: 1,
        b: 2,
        calls: AtomicUsize::new(0),
    })
}

/// Installs a megaflow given in `dpctl/add-flow` syntax.
fn put_flow(dp: &DpifNetdev, text: &str, actions: Vec<OdpAction>) -> flow::odp::Ufid {
    let (k, m) = flow::odp::parse_key(text, None).unwrap();
    let (key, _) = flow::odp::key_to_flow(&k);
    let (mask, _) = flow::odp::mask_to_flow(&m, &key);
    dp.flow_put(&key, &mask, actions, None, PutMode::Create)
        .unwrap()
}

#[test]
fn cross_connect_installs_megaflow_and_counts() {
    let dp = DpifNetdev::create("dummy", "ovs-dummy", None, PmdConfig::default()).unwrap();
    let p1 = Dummy::open("p1", "dummy").unwrap();
    let p2 = Dummy::open("p2", "dummy").unwrap();
    p2.capture(true);
    assert_eq!(dp.port_add(p1.clone(), Some(1)).unwrap(), 1);
    assert_eq!(dp.port_add(p2.clone(), None).unwrap(), 2);
    let h = cross_connect();
    dp.set_upcall_handler(h.clone());

    let frame = icmp_frame();
    assert!(p1.receive(&frame));
    assert!(wait_for(|| p2.stats().map(|s| s.tx_packets).ok() == Some(1)));
    assert_eq!(p2.take_sent(), vec![frame.clone()]);
    assert!(wait_for(|| dp.flow_dump().len() == 1));

    // The second packet hits the megaflow without an upcall.
    assert!(p1.receive(&frame));
    assert!(wait_for(|| p2.stats().map(|s| s.tx_packets).ok() == Some(2)));
    assert_eq!(h.calls.load(Ordering::SeqCst), 1);
    assert!(wait_for(|| dp.flow_dump()[0].stats.n_packets == 1));

    let st = dp.stats();
    assert_eq!((st.n_hit, st.n_missed, st.n_lost, st.n_flows), (1, 1, 0, 1));

    let dump = datapath::show::dump_flows(&dp, false);
    let line = dump.lines().nth(1).unwrap();
    assert_eq!(dump.lines().next(), Some("flow-dump from the main thread:"));
    assert!(
        line.starts_with("recirc_id(0),in_port(1),packet_type(ns=0,id=0),eth(src=50:54:00:00:00:05,dst=50:54:00:00:00:07),eth_type(0x0800),ipv4(frag=no), packets:1, bytes:106, used:"),
        "{line}"
    );
    assert!(line.ends_with("s, actions:2"), "{line}");
    let v = datapath::show::dump_flows(&dp, true);
    assert!(v.contains(",in_port(p1),"), "{v}");
    assert!(
        v.contains("dp:ovs, actions:p2, dp-extra-info:miniflow_bits(5,1)"),
        "{v}"
    );

    let pmd = datapath::show::pmd_stats_show(&dp.pmd_stats());
    assert!(pmd.contains("  packets received: 2\n"), "{pmd}");
    assert!(pmd.contains("  miss with success upcall: 1\n"), "{pmd}");
    assert!(
        pmd.contains("  megaflow hits: 1\n") || pmd.contains("  emc hits: 1\n"),
        "{pmd}"
    );

    let show = datapath::show::dpctl_show(&dp, &dp.stats(), false, &|_| None);
    assert_eq!(
        show,
        "dummy@ovs-dummy:\n  lookups: hit:1 missed:1 lost:0\n  flows: 1\n  port 0: ovs-dummy (dummy-internal)\n  port 1: p1 (dummy)\n  port 2: p2 (dummy)\n"
    );

    // Reverse direction gets its own flow.
    let back = datapath::packet_text::frame_from_text(
        "in_port(2),eth(src=50:54:00:00:00:07,dst=50:54:00:00:00:05),eth_type(0x0800),ipv4(src=10.0.0.1,dst=10.0.0.2,proto=1,tos=0,ttl=64,frag=no),icmp(type=0,code=0)",
        None,
    )
    .unwrap();
    p1.capture(true);
    assert!(p2.receive(&back));
    assert!(wait_for(|| p1.stats().map(|s| s.tx_packets).ok() == Some(1)));
    assert_eq!(p1.take_sent(), vec![back]);
    assert!(wait_for(|| dp.flow_dump().len() == 2));

    dp.flow_flush();
    assert!(dp.flow_dump().is_empty());
    assert_eq!(datapath::show::dump_flows(&dp, false), "");
    dp.port_del(2).unwrap();
    assert_eq!(dp.ports().len(), 2);
}

#[test]
fn add_flow_del_flow_and_execute() {
    let (dp, p1, p2) = two_port_dp("q1", "q2", PmdConfig::default());
    p2.capture(true);
    // dpctl/add-flow "in_port(1),eth(),eth_type(0x0800),ipv4(frag=no)" 2
    let text = "in_port(1),eth(),eth_type(0x0800),ipv4(frag=no)";
    let u = put_flow(&dp, text, vec![OdpAction::Output(2)]);
    let (k, m) = flow::odp::parse_key(text, None).unwrap();
    let (key, _) = flow::odp::key_to_flow(&k);
    let (mask, _) = flow::odp::mask_to_flow(&m, &key);
    assert_eq!(
        dp.flow_put(
            &key,
            &mask,
            vec![OdpAction::Output(2)],
            None,
            PutMode::Create
        ),
        Err(datapath::DpifError::Exists)
    );
    let dump = datapath::show::dump_flows(&dp, false);
    assert_eq!(
        dump,
        "flow-dump from the main thread:\nrecirc_id(0),in_port(1),eth(),eth_type(0x0800),ipv4(frag=no), packets:0, bytes:0, used:never, actions:2\n"
    );
    // Traffic hits it without any handler.
    let frame = icmp_frame();
    p1.receive(&frame);
    assert!(wait_for(|| p2.take_sent().len() == 1));
    // Packet-out.
    let mut f = Flow::default();
    f.in_port = 0;
    dp.execute(&frame, &f, &[OdpAction::Output(2), OdpAction::Output(2)])
        .unwrap();
    assert_eq!(p2.take_sent().len(), 2);
    // Modify, then delete by ufid.
    dp.flow_put(&key, &mask, vec![], Some(u), PutMode::Modify)
        .unwrap();
    assert!(datapath::show::dump_flows(&dp, false).ends_with("actions:drop\n"));
    let gone = dp.flow_del(None, Some(u)).unwrap();
    assert_eq!(gone.stats.n_packets, 1);
    assert!(dp.flow_dump().is_empty());
}

#[test]
fn misses_without_handler_are_lost_not_blocking() {
    let dp = DpifNetdev::create(
        "dummy",
        "ovs-dummy",
        None,
        PmdConfig {
            n_pmd: 2,
            ..Default::default()
        },
    )
    .unwrap();
    let p1 = Dummy::open("r1", "dummy").unwrap();
    dp.port_add(p1.clone(), Some(1)).unwrap();
    let frame = icmp_frame();
    for _ in 0..10 {
        p1.receive(&frame);
    }
    assert!(wait_for(|| dp.stats().n_lost == 10));
    assert_eq!(dp.flow_dump().len(), 0);
}

#[test]
fn idle_megaflows_expire() {
    let (dp, p1, _p2) = two_port_dp(
        "s1",
        "s2",
        PmdConfig {
            max_idle_ms: Some(300),
            ..Default::default()
        },
    );
    dp.set_upcall_handler(cross_connect());
    let frame = icmp_frame();
    p1.receive(&frame);
    assert!(wait_for(|| dp.flow_dump().len() == 1));
    assert!(
        wait_for(|| dp.flow_dump().is_empty()),
        "expired after max-idle"
    );
}

#[test]
fn meter_action_drops_beyond_the_band() {
    let (dp, p1, p2) = two_port_dp("m1", "m2", PmdConfig::default());
    p2.capture(true);
    dp.meter_set(
        7,
        datapath::MeterConfig {
            kbps: false,
            bands: vec![datapath::MeterBand {
                rate: 1,
                burst_size: 2,
            }],
        },
    )
    .unwrap();
    put_flow(
        &dp,
        "in_port(1),eth(),eth_type(0x0800),ipv4(frag=no)",
        vec![OdpAction::Meter(7), OdpAction::Output(2)],
    );
    let frame = icmp_frame();
    for _ in 0..10 {
        p1.receive(&frame);
    }
    // Every packet passes or is dropped by the band.
    assert!(wait_for(|| {
        let st = dp.meter_get(7).unwrap();
        st.packets_in == 10 && p2.stats().unwrap().tx_packets + st.bands[0].0 == 10
    }));
    let sent = p2.take_sent().len() as u64;
    assert!((2..10).contains(&sent), "burst of 2 at 1 packet/s: {sent}");
    assert_eq!(dp.meter_del(7).unwrap().packets_in, 10);
}

#[test]
fn vxlan_push_then_pop_round_trip() {
    use packet::tunnel::{build_header, EncapParams, TunnelKind};
    let (dp, p1, p2) = two_port_dp("t1", "t2", PmdConfig::default());
    p1.capture(true);
    p2.capture(true);
    let vx = Arc::new(datapath::vport::TunnelVport::new("vxlan_sys_4789", "vxlan").unwrap());
    dp.port_add(vx, Some(3)).unwrap();

    // p1 -> tnl_push -> p2.
    let mut tnl = packet::flow::FlowTnl::default();
    tnl.ip_src = 0x0101_0101;
    tnl.ip_dst = 0x0202_0202;
    tnl.ip_ttl = 64;
    tnl.tun_id = 123;
    tnl.flags = packet::tunnel::FLOW_TNL_F_KEY;
    let h = build_header(
        TunnelKind::Vxlan,
        &tnl,
        &EncapParams {
            eth_src: [2, 0, 0, 0, 0, 1],
            eth_dst: [2, 0, 0, 0, 0, 2],
            ..Default::default()
        },
    )
    .unwrap();
    let push = OdpAction::TnlPush(flow::odp::actions::TnlPush {
        tnl_port: 3,
        out_port: 2,
        tnl_type: flow::odp::actions::tnl_push::VPORT_TYPE_VXLAN,
        header: h.bytes.clone(),
    });
    let put = |text: &str, acts: Vec<OdpAction>| {
        put_flow(&dp, text, acts);
    };
    put(
        "in_port(1),eth(),eth_type(0x0800),ipv4(frag=no)",
        vec![push, OdpAction::Output(2)],
    );
    // p2 -> tnl_pop -> (vport 3) -> p1.
    put(
        "in_port(2),eth(),eth_type(0x0800),ipv4(proto=17,frag=no),udp(dst=4789)",
        vec![OdpAction::TnlPop(3)],
    );
    put(
        "in_port(3),eth(),eth_type(0x0800),ipv4(frag=no)",
        vec![OdpAction::Output(1)],
    );

    let frame = icmp_frame();
    p1.receive(&frame);
    assert!(wait_for(|| p2.stats().unwrap().tx_packets == 1));
    let encapped = p2.take_sent().pop().unwrap();
    assert_eq!(encapped.len(), frame.len() + h.bytes.len());
    let d = packet::tunnel::decap(&encapped, TunnelKind::Vxlan).expect("valid VXLAN");
    assert_eq!(d.tunnel.tun_id, 123);
    assert_eq!(&encapped[d.inner.clone()], &frame[..]);

    p2.receive(&encapped);
    assert!(wait_for(|| p1.stats().unwrap().tx_packets == 1));
    assert_eq!(p1.take_sent(), vec![frame]);
    assert_eq!(dp.pmd_stats().recirculations, 1);
}

/// Recirculates once (recirc_id 0 -> 5), then outputs to port 2.
struct Recirculator;

impl UpcallHandler for Recirculator {
    fn upcall(&self, up: &Upcall) -> UpcallReply {
        let mut mask = Flow::default();
        mask.dl_type = 0xffff;
        let actions = if up.flow.recirc_id == 0 {
            vec![OdpAction::Recirc(5)]
        } else {
            vec![OdpAction::Output(2)]
        };
        UpcallReply {
            actions,
            mask,
            install: true,
        }
    }
}

#[test]
fn recirculation_through_the_handler() {
    let (dp, p1, p2) = two_port_dp("u1", "u2", PmdConfig::default());
    dp.set_upcall_handler(Arc::new(Recirculator));
    let frame = icmp_frame();
    p1.receive(&frame);
    assert!(wait_for(|| p2.stats().unwrap().tx_packets == 1));
    assert!(wait_for(|| dp.flow_dump().len() == 2));
    // Both flows installed: the next packet goes through without upcalls.
    p1.receive(&frame);
    assert!(wait_for(|| p2.stats().unwrap().tx_packets == 2));
    let dump = datapath::show::dump_flows(&dp, false);
    assert!(dump.contains("recirc_id(0x5),in_port(1)"), "{dump}");
    assert!(dump.contains("actions:recirc(0x5)"), "{dump}");
}

/// A tagged packet's megaflow matches its VID (and the tag's presence)
/// even when translation left the TCI wildcarded, as upstream's userspace
/// datapath installs it.
#[test]
fn tagged_megaflow_matches_the_vid() {
    let (dp, p1, p2) = two_port_dp("v1", "v2", PmdConfig::default());
    p2.capture(true);
    dp.set_upcall_handler(cross_connect());
    let frame = datapath::packet_text::frame_from_text(
        "in_port(1),eth(src=50:54:00:00:00:05,dst=50:54:00:00:00:07),eth_type(0x8100),vlan(vid=10,pcp=3),encap(eth_type(0x0800),ipv4(src=10.0.0.2,dst=10.0.0.1,proto=1,tos=0,ttl=64,frag=no),icmp(type=8,code=0))",
        None,
    )
    .unwrap();
    assert!(p1.receive(&frame));
    assert!(wait_for(|| dp.flow_dump().len() == 1));
    let dump = datapath::show::dump_flows(&dp, false);
    assert!(
        dump.contains(",eth_type(0x8100),vlan(vid=10,pcp=3/0x0),encap(eth_type(0x0800),ipv4(frag=no)), packets:0"),
        "{dump}"
    );
}
