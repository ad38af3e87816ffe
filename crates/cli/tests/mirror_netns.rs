//! Mirroring with real traffic: two namespaces ping each other through a
//! ferrovs bridge on the userspace datapath while a third veth, in a
//! namespace of its own, is the output port of a mirror selecting
//! everything. The mirror port's receive counter must grow by the echo
//! requests and replies (a copy of each), including for flows installed
//! before the mirror was added (they are re-translated); it must not grow
//! once the mirror is gone; the Mirror row's `tx_packets` counts the
//! copies.
//!
//! Needs root (namespaces, veths) and `ip`, `ping`: without them the test
//! says why and passes. A guard removes the namespaces and links, and the
//! sandbox stops the daemons, even when an assertion fails.

use std::time::Duration;
use testkit::netns::{pings, reachable, up};
use testkit::{Net, Sandbox, Stack};

const FERROVS: &str = env!("CARGO_BIN_EXE_ferrovs");

/// How long a ping may take to get through (the bound only ends a failing
/// test).
const TEN: Duration = Duration::from_secs(10);

fn vsctl(sb: &Sandbox, args: &[&str]) -> String {
    sb.vsctl(args).unwrap_or_else(|e| panic!("{e}"))
}

/// The receive counter of `dev` in namespace `ns`.
fn rx_packets(ns: &str, dev: &str) -> u64 {
    let path = format!("/sys/class/net/{dev}/statistics/rx_packets");
    let out = testkit::netns::cmd(&["ip", "netns", "exec", ns, "cat", &path]);
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .unwrap_or(0)
}

#[test]
fn mirror_port_receives_the_pings() {
    if let Some(why) = testkit::netns_missing(&["ping"]) {
        eprintln!("SKIP mirror_port_receives_the_pings: {why}");
        return;
    }
    // Declared first, dropped last: once the switch is gone, the bridge's
    // own TAP device goes with the other links.
    let mut net = Net::new("mi");
    let sb = Sandbox::start_stack("mirror-netns", Stack::ferrovs(FERROVS), true);
    let br = net.name("br");
    net.remove_on_drop(&br);
    let (ns_a, ns_b, ns_m) = (net.add_ns("na"), net.add_ns("nb"), net.add_ns("nm"));
    let (v_a, v_b, v_m) = (net.name("va"), net.name("vb"), net.name("vm"));
    net.veth(&ns_a, &v_a, &["10.31.0.1/24"]);
    net.veth(&ns_b, &v_b, &["10.31.0.2/24"]);
    let monitor = net.veth(&ns_m, &v_m, &[]);
    up(&ns_m, &monitor);
    sb.add_netdev_bridge(&br, &[&v_a, &v_b, &v_m], &[])
        .unwrap_or_else(|e| panic!("{e}"));
    for iface in [&v_a, &v_b, &v_m] {
        sb.wait_ofport(iface);
    }

    // Flows installed before there is a mirror.
    assert!(
        reachable(&ns_a, "10.31.0.2", TEN),
        "no ping through the bridge"
    );
    assert_eq!(pings(&ns_a, "10.31.0.2", 3, &[]), 3);
    let before = rx_packets(&ns_m, &monitor);
    assert_eq!(pings(&ns_a, "10.31.0.2", 5, &[]), 5);
    let unmirrored = rx_packets(&ns_m, &monitor) - before;
    assert!(
        unmirrored < 10,
        "the monitor port got {unmirrored} packets of learned unicast traffic without a mirror"
    );

    // A mirror of everything to the monitor port: the installed flows are
    // re-translated.
    vsctl(
        &sb,
        &[
            "--",
            "--id=@p",
            "get",
            "port",
            &v_m,
            "--",
            "--id=@m",
            "create",
            "mirror",
            "name=mon",
            "select_all=true",
            "output_port=@p",
            "--",
            "set",
            "bridge",
            &br,
            "mirrors=@m",
        ],
    );
    let _ = sb.appctl(&["revalidator/wait"]);
    let _ = sb.appctl(&["revalidator/wait"]);
    let before = rx_packets(&ns_m, &monitor);
    assert_eq!(pings(&ns_a, "10.31.0.2", 5, &[]), 5);
    let mirrored = rx_packets(&ns_m, &monitor) - before;
    assert!(
        mirrored >= 10,
        "the monitor port got {mirrored} packets for 5 echo requests and 5 replies"
    );
    // The Mirror row counts the copies (written every 5 s).
    let mut stats = String::new();
    let counted = sb.wait_until(Duration::from_secs(20), || {
        stats = sb
            .vsctl(&["get", "mirror", "mon", "statistics:tx_packets"])
            .unwrap_or_default();
        stats.trim().parse::<u64>().is_ok_and(|n| n >= 10)
    });
    assert!(counted, "Mirror statistics: tx_packets={stats}");

    // Without the mirror, the copies stop.
    vsctl(&sb, &["clear", "bridge", &br, "mirrors"]);
    let _ = sb.appctl(&["revalidator/wait"]);
    let _ = sb.appctl(&["revalidator/wait"]);
    let before = rx_packets(&ns_m, &monitor);
    assert_eq!(pings(&ns_a, "10.31.0.2", 5, &[]), 5);
    let after = rx_packets(&ns_m, &monitor) - before;
    assert!(
        after < 10,
        "the monitor port still got {after} packets once the mirror was removed"
    );
}
