//! In-band control on system devices, against the reference: a bridge on
//! the userspace datapath in a namespace of its own ("the switch host"),
//! fail mode `secure` and no flows, reaches its in-band controller over a
//! veth into another namespace, through a route via a gateway there. Only
//! the hidden in-band rules let the connection up (ARP for the gateway
//! from the bridge's local port, TCP to the controller), and once the
//! switch host has resolved the gateway, the next-hop rules carry the
//! gateway's MAC. A wider route through another gateway (a permanent
//! neighbour entry) sits before the controller's in the routing table:
//! which next hop the switch picks shows how it reads the routes. The
//! same steps on the reference daemons and on ours; `bridge/dump-flows`
//! compared without counters and ages.
//!
//! Needs root (namespaces, veths) and the reference: without them the
//! test says why and passes. A guard removes the namespaces (and the
//! links and the bridge's TAP in them) and the sandbox stops the daemons,
//! even when an assertion fails.

mod controller_common;

use controller_common::*;
use std::net::TcpListener;
use std::time::Duration;
use testkit::netns::{address, enter, must, up};
use testkit::{Net, Sandbox, Stack};

/// The bridge's local MAC, the gateway towards the controller (the
/// controller host's veth) and the other, wider route's gateway.
const LOCAL_MAC: &str = "02:00:5e:00:53:01";
const GATEWAY_MAC: &str = "02:00:5e:00:53:02";
const OTHER_GATEWAY_MAC: &str = "02:00:5e:00:53:03";

/// `bridge/dump-flows br0` without the hidden table 254, counters and
/// ages, lines sorted (rules of one priority come in hash order).
fn hidden_flows(sb: &Sandbox) -> String {
    let text = sb.appctl(&["bridge/dump-flows", "br0"]).unwrap_or_default();
    let mut lines: Vec<String> = text
        .lines()
        .filter(|l| !l.starts_with("table_id="))
        .map(|l| {
            l.split(", ")
                .filter(|f| {
                    !["duration=", "n_packets=", "n_bytes=", "idle_age="]
                        .iter()
                        .any(|p| f.starts_with(p))
                })
                .collect::<Vec<_>>()
                .join(", ")
        })
        .collect();
    lines.sort();
    lines.join("\n")
}

/// What one stack did: whether the controller connected, and the hidden
/// rules once a next hop's MAC showed in them (or after 30 s).
fn run(tag: &str, stack: Stack) -> (bool, String) {
    // Declared first, dropped last: the namespaces go once the daemons
    // are stopped.
    let mut net = Net::new(tag);
    let host = net.add_ns("h");
    let ctl_ns = net.add_ns("c");
    let sb = {
        let _inside = enter(&host);
        Sandbox::start_stack(&format!("inband-netns-{tag}"), stack, true)
    };
    let (wire, peer) = (net.name("w"), net.name("wp"));
    net.veth_pair(&wire, Some(&host), &peer, Some(&ctl_ns));
    must(&[
        "ip",
        "-n",
        &ctl_ns,
        "link",
        "set",
        &peer,
        "address",
        GATEWAY_MAC,
    ]);
    address(&ctl_ns, &peer, &["10.77.0.2/24"]);
    must(&[
        "ip",
        "-n",
        &ctl_ns,
        "addr",
        "add",
        "10.77.9.9/32",
        "dev",
        "lo",
    ]);
    up(&host, &wire);
    let listener = {
        let _inside = enter(&ctl_ns);
        TcpListener::bind("10.77.9.9:6653").expect("listen in the controller's namespace")
    };
    let ctl = Controller::start(listener, Behaviour::OF10);
    sb.add_netdev_bridge(
        "br0",
        &[&wire],
        &[
            "--",
            "set",
            "bridge",
            "br0",
            "fail-mode=secure",
            "other-config:datapath-id=0000000000000001",
            &format!("other-config:hwaddr={LOCAL_MAC}"),
            "--",
            "set-controller",
            "br0",
            "tcp:10.77.9.9:6653",
        ],
    )
    .unwrap();
    // The switch host's side: an address on the bridge's local port, the
    // route to the controller via 10.77.0.2 and, before it in the table,
    // a wider one via 10.77.0.3.
    let local = "br0";
    address(&host, local, &["10.77.0.1/24"]);
    must(&[
        "ip",
        "-n",
        &host,
        "neigh",
        "replace",
        "10.77.0.3",
        "lladdr",
        OTHER_GATEWAY_MAC,
        "dev",
        local,
        "nud",
        "permanent",
    ]);
    must(&[
        "ip",
        "-n",
        &host,
        "route",
        "add",
        "10.77.0.0/16",
        "via",
        "10.77.0.3",
    ]);
    must(&[
        "ip",
        "-n",
        &host,
        "route",
        "add",
        "10.77.9.0/24",
        "via",
        "10.77.0.2",
    ]);
    let connected = sb.wait_until(Duration::from_secs(30), || ctl.seen().connected);
    sb.wait_until(Duration::from_secs(30), || {
        let f = hidden_flows(&sb);
        f.contains(GATEWAY_MAC) || f.contains(OTHER_GATEWAY_MAC)
    });
    (connected, hidden_flows(&sb))
}

#[test]
fn in_band_controller_over_a_veth_and_a_gateway_as_upstream() {
    const NAME: &str = "in_band_controller_over_a_veth_and_a_gateway_as_upstream";
    if let Some(why) = testkit::netns_missing(&[]) {
        eprintln!("SKIP {NAME}: {why}");
        return;
    }
    if testkit::skip_without_upstream(NAME) {
        return;
    }
    let expected = run("ir", Stack::upstream());
    eprintln!("reference: {expected:?}");
    assert!(expected.0, "the reference's controller never connected");
    let actual = run("io", ours());
    assert_eq!(
        actual.0, expected.0,
        "connected (ours, reference); rules:\n{}",
        actual.1
    );
    assert!(
        actual.1 == expected.1,
        "hidden rules differ\n--- reference ---\n{}\n--- ferrovs ---\n{}",
        expected.1,
        actual.1
    );
}
