//! In-band control against the reference: a bridge on the dummy datapath
//! with an in-band controller (upstream's default connection mode) gets
//! hidden table-0 rules (priorities 180000…) for DHCP and ARP of its
//! local port and ARP/TCP of each remote — the controller, then a manager
//! (`manager_options`) — that `bridge/dump-flows` shows and
//! `ovs-ofctl dump-flows` does not; `in-band-queue` adds `set_queue`;
//! an out-of-band controller and `disable-in-band` take rules away.
//! `ofproto/trace` shows the rules steering packets, with the same
//! megaflows, the DHCP reply sent to the local port as well, and an
//! injected ARP request from the controller's address crossing a secure
//! bridge without flows. The same steps on the reference daemons and on
//! ours.

mod controller_common;

use controller_common::*;
use std::time::Duration;
use testkit::Sandbox;

/// `bridge/dump-flows` of table 0 (the hidden table 254 left out), with
/// durations blanked and lines sorted (rules of one priority come in hash
/// order upstream).
fn hidden_flows(sb: &Sandbox) -> String {
    let text = sb.appctl(&["bridge/dump-flows", "br0"]).unwrap_or_default();
    let mut lines: Vec<String> = text
        .lines()
        .filter(|l| !l.starts_with("table_id="))
        .map(|l| testkit::normalize_durations(l))
        .collect();
    lines.sort();
    lines.join("\n")
}

/// `ofproto/trace` of `flow`, the ports of a flood sorted: the order
/// NORMAL floods in follows upstream's port hash order, which changes
/// from run to run there; it is not the subject here.
fn trace(sb: &Sandbox, flow: &str) -> String {
    let text = sb
        .appctl(&["ofproto/trace", "br0", flow])
        .unwrap_or_else(|e| format!("error: {e}"));
    text.lines()
        .map(|l| match l.strip_prefix("Datapath actions: ") {
            Some(acts) => format!("Datapath actions: {}", testkit::sort_port_runs(acts)),
            _ => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The steps on `stack`, with a controller at `127.0.0.1:port`.
fn run(name: &str, stack: testkit::Stack, port: u16) -> Vec<(String, String)> {
    let sb = Sandbox::start_stack(&format!("inband-{name}"), stack, true);
    let target = format!("tcp:127.0.0.1:{port}");
    let mut t = Vec::new();
    let mut args = testkit::dummy_bridge(
        "br0",
        &[
            "fail_mode=secure",
            "other-config:datapath-id=0000000000000001",
            "other-config:hwaddr=00:00:5e:00:53:01",
        ],
        &[],
    );
    for n in 1..=2 {
        let p = format!("p{n}");
        let pcap = format!("options:tx_pcap={}", sb.path(&format!("{p}.pcap")));
        args.extend(testkit::dummy_port("br0", &p, n, &[&pcap]));
    }
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    sb.vsctl(&refs).unwrap();
    t.push(("no remotes".to_string(), hidden_flows(&sb)));

    sb.vsctl(&["set-controller", "br0", &target]).unwrap();
    let has = |what: &str| {
        let what = what.to_string();
        let sb = &sb;
        move || hidden_flows(sb).contains(&what)
    };
    assert!(
        sb.wait_until(Duration::from_secs(10), has("priority=180008")),
        "{name}: no in-band rules: {}",
        hidden_flows(&sb)
    );
    t.push(("controller".to_string(), hidden_flows(&sb)));
    t.push((
        "ofctl dump-flows".to_string(),
        sb.ofctl("br0", &["dump-flows", "--no-stats"])
            .unwrap_or_default(),
    ));

    sb.vsctl(&["set-manager", "tcp:127.0.0.3", "ptcp:6640:127.0.0.4"])
        .unwrap();
    assert!(
        sb.wait_until(Duration::from_secs(10), has("127.0.0.3")),
        "{name}: no manager rules"
    );
    t.push(("manager".to_string(), hidden_flows(&sb)));

    sb.vsctl(&["set", "bridge", "br0", "other-config:in-band-queue=5"])
        .unwrap();
    assert!(
        sb.wait_until(Duration::from_secs(10), has("set_queue:5")),
        "{name}: no queue"
    );
    t.push(("queue".to_string(), hidden_flows(&sb)));

    for flow in [
        "in_port=1,arp,arp_op=1,arp_spa=127.0.0.3,arp_tpa=1.2.3.4,dl_src=00:00:00:00:00:01,dl_dst=ff:ff:ff:ff:ff:ff",
        &format!("in_port=LOCAL,tcp,dl_src=00:00:5e:00:53:01,dl_dst=00:00:00:00:00:02,nw_src=127.0.0.9,nw_dst=127.0.0.1,tp_src=40000,tp_dst={port}"),
        "in_port=1,tcp,dl_src=00:00:00:00:00:01,dl_dst=00:00:5e:00:53:01,nw_src=1.1.1.1,nw_dst=2.2.2.2,tp_src=5,tp_dst=6",
        "udp,in_port=1,udp_src=67,udp_dst=68,dl_src=00:00:00:00:00:01,dl_dst=00:00:5e:00:53:01,nw_src=1.1.1.1,nw_dst=2.2.2.2",
        "udp,in_port=LOCAL,udp_src=68,udp_dst=67,dl_src=00:00:5e:00:53:01,dl_dst=ff:ff:ff:ff:ff:ff,nw_src=0.0.0.0,nw_dst=255.255.255.255",
    ] {
        t.push((format!("trace {flow}"), trace(&sb, flow)));
    }
    sb.ofctl(
        "br0",
        &["add-flow", "priority=6,udp,nw_src=1.1.1.1,actions=output:2"],
    )
    .unwrap();
    let flow = "udp,in_port=1,udp_src=67,udp_dst=68,dl_src=00:00:00:00:00:01,dl_dst=00:00:5e:00:53:01,nw_src=1.1.1.1,nw_dst=2.2.2.2";
    t.push((format!("trace with a flow {flow}"), trace(&sb, flow)));
    sb.ofctl("br0", &["del-flows"]).unwrap();

    // An ARP request from the controller's address crosses the bridge.
    let frame = concat!(
        "ffffffffffff",
        "000000000001",
        "0806",
        "0001",
        "0800",
        "06",
        "04",
        "0001",
        "000000000001",
        "7f000003",
        "000000000000",
        "01020304"
    );
    sb.appctl(&["netdev-dummy/receive", "p1", &frame]).unwrap();
    assert!(
        sb.wait_until(Duration::from_secs(10), || n_sent(&sb, 2) >= 1),
        "{name}: the ARP request did not cross"
    );
    t.push(("sent".to_string(), format!("{:?}", sent(&sb, 2))));

    sb.vsctl(&["set", "controller", "br0", "connection_mode=out-of-band"])
        .unwrap();
    assert!(
        sb.wait_until(Duration::from_secs(10), || !hidden_flows(&sb)
            .contains("127.0.0.1")),
        "{name}: out-of-band kept the controller's rules"
    );
    t.push(("out-of-band controller".to_string(), hidden_flows(&sb)));

    sb.vsctl(&["set", "bridge", "br0", "other-config:disable-in-band=true"])
        .unwrap();
    assert!(
        sb.wait_until(Duration::from_secs(10), || !hidden_flows(&sb)
            .contains("priority=18")),
        "{name}: disable-in-band kept rules"
    );
    t.push(("disabled".to_string(), hidden_flows(&sb)));
    let log = std::fs::read_to_string(sb.path("ovs-vswitchd.log")).unwrap_or_default();
    t.push((
        "route warning".to_string(),
        log.contains("in_band|WARN|br0: cannot find route for controller (127.0.0.1): Operation not supported")
            .to_string(),
    ));
    t
}

#[test]
fn in_band_rules_and_traces_match_upstream() {
    if testkit::skip_without_upstream("in_band_rules_and_traces_match_upstream") {
        return;
    }
    // A port nobody listens on: the controller stays unreachable.
    let port = testkit::free_tcp_port();
    let expected = run("ref", testkit::Stack::upstream(), port);
    let actual = run("our", ours(), port);
    assert!(
        expected[1]
            .1
            .contains("priority=180007,tcp,nw_dst=127.0.0.1"),
        "reference: {expected:#?}"
    );
    let differ: Vec<String> = expected
        .iter()
        .zip(&actual)
        .filter(|(e, a)| e != a)
        .map(|(e, a)| format!("step {}:\nreference:\n{}\nours:\n{}", e.0, e.1, a.1))
        .collect();
    assert!(differ.is_empty(), "{}", differ.join("\n\n"));
    assert_eq!(actual.len(), expected.len());
}
