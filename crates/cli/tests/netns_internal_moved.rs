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

use std::process::{Command, Output};
use std::time::Duration;
use testkit::{Sandbox, Stack};

const FERROVS: &str = env!("CARGO_BIN_EXE_ferrovs");

fn run(args: &[&str]) -> Output {
    Command::new(args[0])
        .args(&args[1..])
        .output()
        .unwrap_or_else(|e| panic!("{args:?}: {e}"))
}

fn must(args: &[&str]) -> String {
    let o = run(args);
    assert!(
        o.status.success(),
        "{args:?} failed: {}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn missing_prerequisite() -> Option<String> {
    if !testkit::is_root() {
        return Some("not root".into());
    }
    for tool in ["ip", "ping"] {
        let ok = Command::new("sh")
            .args(["-c", &format!("command -v {tool}")])
            .output()
            .is_ok_and(|o| o.status.success());
        if !ok {
            return Some(format!("{tool} not installed"));
        }
    }
    if !std::path::Path::new("/dev/net/tun").exists() {
        return Some("no /dev/net/tun".into());
    }
    let probe = format!("fv{:04x}probeim", std::process::id() & 0xffff);
    let made = run(&["ip", "netns", "add", &probe]).status.success();
    let _ = run(&["ip", "netns", "del", &probe]);
    (!made).then(|| "cannot create network namespaces".into())
}

/// Namespaces and root-namespace links of the test, removed on drop.
struct Net {
    namespaces: Vec<String>,
    links: Vec<String>,
}

impl Drop for Net {
    fn drop(&mut self) {
        for ns in &self.namespaces {
            let _ = run(&["ip", "netns", "del", ns]);
        }
        for l in &self.links {
            let _ = run(&["ip", "link", "del", l]);
        }
    }
}

fn reachable(ns: &str, dst: &str) -> bool {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while std::time::Instant::now() < deadline {
        let o = run(&[
            "ip", "netns", "exec", ns, "ping", "-q", "-c", "1", "-W", "1", dst,
        ]);
        if o.status.success() {
            return true;
        }
    }
    false
}

fn wait_ofport(sb: &Sandbox, iface: &str) -> i64 {
    let mut port = -1;
    sb.wait_until(Duration::from_secs(10), || {
        port = sb
            .vsctl(&["get", "interface", iface, "ofport"])
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(-1);
        port > 0
    });
    port
}

#[test]
fn internal_port_moved_to_namespace_survives_restart() {
    if let Some(why) = missing_prerequisite() {
        eprintln!("SKIP internal_port_moved_to_namespace_survives_restart: {why}");
        return;
    }
    let prefix = format!("fv{:04x}m", std::process::id() & 0xffff);
    let (ns_a, ns_b) = (format!("{prefix}A"), format!("{prefix}B"));
    let br = format!("{prefix}br");
    let (veth, peer) = (format!("{prefix}v"), format!("{prefix}vp"));

    let mut sb = Sandbox::start_stack("nsmoved", Stack::ferrovs(FERROVS), true);
    let _net = Net {
        namespaces: vec![ns_a.clone(), ns_b.clone()],
        links: vec![veth.clone(), br.clone()],
    };
    for ns in [&ns_a, &ns_b] {
        let _ = run(&["ip", "netns", "del", ns]);
        must(&["ip", "netns", "add", ns]);
        must(&["ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up"]);
    }
    let _ = run(&["ip", "link", "del", &veth]);
    must(&[
        "ip", "link", "add", &veth, "type", "veth", "peer", "name", &peer,
    ]);
    must(&["ip", "link", "set", &peer, "netns", &ns_b]);
    must(&["ip", "link", "set", &veth, "up"]);
    must(&[
        "ip",
        "netns",
        "exec",
        &ns_b,
        "ip",
        "addr",
        "add",
        "10.13.0.2/24",
        "dev",
        &peer,
    ]);
    must(&[
        "ip", "netns", "exec", &ns_b, "ip", "link", "set", &peer, "up",
    ]);

    sb.vsctl(&[
        "add-br",
        &br,
        "--",
        "set",
        "bridge",
        &br,
        "datapath_type=netdev",
        "--",
        "add-port",
        &br,
        &veth,
    ])
    .unwrap();
    assert!(wait_ofport(&sb, &veth) > 0, "{veth} got no OpenFlow port");
    assert!(wait_ofport(&sb, &br) > 0, "{br} got no OpenFlow port");

    // The user moves the bridge's own port into namespace A.
    must(&["ip", "link", "set", &br, "netns", &ns_a]);
    must(&[
        "ip",
        "netns",
        "exec",
        &ns_a,
        "ip",
        "addr",
        "add",
        "10.13.0.1/24",
        "dev",
        &br,
    ]);
    must(&["ip", "netns", "exec", &ns_a, "ip", "link", "set", &br, "up"]);
    assert!(
        reachable(&ns_a, "10.13.0.2"),
        "the moved internal port does not forward"
    );

    let pid = sb.pid("ovs-vswitchd").expect("vswitchd pid");
    must(&["kill", "-9", &pid]);
    let proc_dir = format!("/proc/{pid}");
    sb.wait_until(Duration::from_secs(5), || {
        !std::path::Path::new(&proc_dir).exists()
    });
    sb.start_vswitchd();
    assert!(
        wait_ofport(&sb, &br) > 0,
        "{br} got no OpenFlow port after the restart"
    );
    assert!(
        reachable(&ns_a, "10.13.0.2"),
        "the moved internal port was not found again after the restart"
    );
    assert!(
        !run(&["ip", "link", "show", &br]).status.success(),
        "the restarted switch made a new {br} in its own namespace"
    );
    let error = sb.vsctl(&["get", "interface", &br, "error"]).unwrap();
    assert_eq!(error.trim(), "[]");
    sb.stop("ovs-vswitchd");
}
