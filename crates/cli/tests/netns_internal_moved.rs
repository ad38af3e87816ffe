//! A bridge's internal port moved by the user into another network
//! namespace (`ip link set br0 netns X`) keeps working, and is found again
//! in that namespace when ovs-vswitchd restarts (after `kill -9`): the
//! namespace pings a host behind a system port before and after the
//! restart, and no new device of that name appears in the switch's own
//! namespace.
//!
//! Needs root (namespaces, veths, TAP devices), `ip` and `ping`; skips
//! with the reason otherwise. Names carry a per-process prefix; a guard
//! removes namespaces and links even when an assertion fails.

use std::time::Duration;
use testkit::netns::{address, cmd, must, reachable};
use testkit::{Net, Sandbox, Stack};

const FERROVS: &str = env!("CARGO_BIN_EXE_ferrovs");

fn missing_prerequisite() -> Option<String> {
    testkit::netns_missing(&["ping"]).or_else(|| {
        (!std::path::Path::new("/dev/net/tun").exists()).then(|| "no /dev/net/tun".into())
    })
}

#[test]
fn internal_port_moved_to_namespace_survives_restart() {
    if let Some(why) = missing_prerequisite() {
        eprintln!("SKIP internal_port_moved_to_namespace_survives_restart: {why}");
        return;
    }
    // Declared first, dropped last: once the switch is gone, the bridge's
    // own TAP device (persistent, as upstream's) goes with the other links.
    let mut net = Net::new("m");
    let mut sb = Sandbox::start_stack("nsmoved", Stack::ferrovs(FERROVS), true);
    let (ns_a, ns_b) = (net.add_ns("A"), net.add_ns("B"));
    let br = net.name("br");
    net.remove_on_drop(&br);
    let veth = net.name("v");
    net.veth(&ns_b, &veth, &["10.13.0.2/24"]);

    sb.add_netdev_bridge(&br, &[&veth], &[]).unwrap();
    sb.wait_ofport(&veth);
    sb.wait_ofport(&br);

    // The user moves the bridge's own port into namespace A.
    must(&["ip", "link", "set", &br, "netns", &ns_a]);
    address(&ns_a, &br, &["10.13.0.1/24"]);
    let ten = Duration::from_secs(10);
    assert!(
        reachable(&ns_a, "10.13.0.2", ten),
        "the moved internal port does not forward"
    );

    let pid = sb.pid("ovs-vswitchd").expect("vswitchd pid");
    must(&["kill", "-9", &pid]);
    let proc_dir = format!("/proc/{pid}");
    sb.wait_until(Duration::from_secs(5), || {
        !std::path::Path::new(&proc_dir).exists()
    });
    sb.start_vswitchd();
    sb.wait_ofport(&br);
    assert!(
        reachable(&ns_a, "10.13.0.2", ten),
        "the moved internal port was not found again after the restart"
    );
    assert!(
        !cmd(&["ip", "link", "show", &br]).status.success(),
        "the restarted switch made a new {br} in its own namespace"
    );
    let error = sb.vsctl(&["get", "interface", &br, "error"]).unwrap();
    assert_eq!(error.trim(), "[]");
    sb.stop("ovs-vswitchd");
}
