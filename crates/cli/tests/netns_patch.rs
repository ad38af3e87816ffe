//! Two ferrovs bridges on the userspace datapath (`datapath_type=netdev`)
//! joined by a pair of patch ports, each bridge with a veth into a network
//! namespace of its own: pings cross both bridges (NORMAL on each side),
//! the patch ports show in `ovs-ofctl show` and `dpif/show` (no datapath
//! port), breaking the pair (a wrong `options:peer`) stops the traffic and
//! sets the Interface error upstream writes, and mending it restores both.
//!
//! Needs root (namespaces, veths) and `ip`, `ping`: without them the test
//! says why and passes. Names start with a per-process prefix; a guard
//! removes the namespaces and links, and the sandbox stops the daemons,
//! even when an assertion fails.

use std::time::Duration;
use testkit::netns::{pings, reachable};
use testkit::{Net, Sandbox, Stack};

const FERROVS: &str = env!("CARGO_BIN_EXE_ferrovs");

/// How long a ping may take to get through (the bound only ends a failing
/// test).
const TEN: Duration = Duration::from_secs(10);

fn vsctl(sb: &Sandbox, args: &[&str]) -> String {
    sb.vsctl(args).unwrap_or_else(|e| panic!("{e}"))
}

/// The Interface's `error` column once `pred` holds for it (or the last
/// value seen after 10 s).
fn wait_error(sb: &Sandbox, iface: &str, pred: impl Fn(&str) -> bool) -> String {
    let mut error = String::new();
    sb.wait_until(Duration::from_secs(10), || {
        error = sb
            .vsctl(&["get", "interface", iface, "error"])
            .unwrap_or_default()
            .trim()
            .to_string();
        pred(&error)
    });
    error
}

#[test]
fn ping_across_a_patch_port_pair() {
    if let Some(why) = testkit::netns_missing(&["ping"]) {
        eprintln!("SKIP ping_across_a_patch_port_pair: {why}");
        return;
    }
    // Declared first, dropped last: once the switch is gone, the bridges'
    // own TAP devices (persistent, as upstream's) go with the other links.
    let mut net = Net::new("p");
    let sb = Sandbox::start_stack("netns-patch", Stack::ferrovs(FERROVS), true);
    let (br_a, br_b) = (net.name("ba"), net.name("bb"));
    net.remove_on_drop(&br_a);
    net.remove_on_drop(&br_b);
    let (ns_a, ns_b) = (net.add_ns("na"), net.add_ns("nb"));
    let (v_a, v_b) = (net.name("va"), net.name("vb"));
    let (p_a, p_b) = (net.name("pa"), net.name("pb"));
    net.veth(&ns_a, &v_a, &["10.12.0.1/24"]);
    net.veth(&ns_b, &v_b, &["10.12.0.2/24"]);
    for (br, veth, patch, peer) in [(&br_a, &v_a, &p_a, &p_b), (&br_b, &v_b, &p_b, &p_a)] {
        let peer = format!("options:peer={peer}");
        sb.add_netdev_bridge(
            br,
            &[veth, patch],
            &["--", "set", "interface", patch, "type=patch", &peer],
        )
        .unwrap_or_else(|e| panic!("{e}"));
    }
    for iface in [&v_a, &v_b, &p_b] {
        sb.wait_ofport(iface);
    }
    let ofp_a = sb.wait_ofport(&p_a);
    assert_eq!(wait_error(&sb, &p_a, |e| e == "[]"), "[]");

    // The patch ports are OpenFlow ports without a datapath port.
    let show = sb.ofctl(&br_a, &["show"]).unwrap_or_else(|e| panic!("{e}"));
    assert!(show.contains(&format!("({p_a}): addr:")), "{show}");
    let dpif = sb.appctl(&["dpif/show"]).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        dpif.contains(&format!("{p_a} {ofp_a}/none: (patch: peer={p_b})")),
        "{dpif}"
    );

    // ARP and ping cross both bridges.
    assert!(
        reachable(&ns_a, "10.12.0.2", TEN),
        "no ping across the patch"
    );
    assert_eq!(pings(&ns_a, "10.12.0.2", 10, &[]), 10);
    assert!(reachable(&ns_b, "10.12.0.1", TEN), "no ping back");

    // A wrong peer breaks the pair: the port stays, traffic stops.
    vsctl(&sb, &["set", "interface", &p_b, "options:peer=nowhere"]);
    let error = wait_error(&sb, &p_a, |e| e.contains("No usable peer"));
    assert_eq!(
        error,
        format!("\"No usable peer '{p_b}' exists in 'netdev' datapath.\"")
    );
    assert_eq!(
        wait_error(&sb, &p_b, |e| e.contains("No usable peer")),
        "\"No usable peer 'nowhere' exists in 'netdev' datapath.\""
    );
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(
        pings(&ns_a, "10.12.0.2", 5, &[]),
        0,
        "traffic crossed a broken pair"
    );

    // Mending it restores the traffic.
    vsctl(
        &sb,
        &["set", "interface", &p_b, &format!("options:peer={p_a}")],
    );
    assert_eq!(wait_error(&sb, &p_a, |e| e == "[]"), "[]");
    assert!(reachable(&ns_a, "10.12.0.2", TEN), "no ping once mended");

    // Removing one end leaves the other without a peer.
    vsctl(&sb, &["del-port", &br_b, &p_b]);
    assert!(wait_error(&sb, &p_a, |e| e.contains("No usable peer")).contains(&p_b));
    drop(net);
    drop(sb);
}
