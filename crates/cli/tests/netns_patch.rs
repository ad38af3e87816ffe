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

use std::process::{Command, Output};
use std::time::{Duration, Instant};
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

/// Why the test cannot run here, if it cannot.
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
    let probe = format!("fv{:04x}pprobe", std::process::id() & 0xffff);
    let made = run(&["ip", "netns", "add", &probe]).status.success();
    let _ = run(&["ip", "netns", "del", &probe]);
    if !made {
        return Some("cannot create network namespaces".into());
    }
    None
}

/// Namespaces and links of the test, removed on drop.
struct Net {
    prefix: String,
    namespaces: Vec<String>,
    links: Vec<String>,
}

impl Net {
    fn new() -> Net {
        Net {
            prefix: format!("fv{:04x}p", std::process::id() & 0xffff),
            namespaces: Vec::new(),
            links: Vec::new(),
        }
    }

    fn name(&self, suffix: &str) -> String {
        format!("{}{suffix}", self.prefix)
    }

    fn add_ns(&mut self, suffix: &str) -> String {
        let ns = self.name(suffix);
        let _ = run(&["ip", "netns", "del", &ns]);
        must(&["ip", "netns", "add", &ns]);
        self.namespaces.push(ns.clone());
        must(&["ip", "netns", "exec", &ns, "ip", "link", "set", "lo", "up"]);
        ns
    }

    /// A veth pair: `root` stays here for a bridge, its peer goes into
    /// `ns` with address `v4`.
    fn veth_host(&mut self, ns: &str, root: &str, v4: &str) {
        let peer = format!("{root}p");
        let _ = run(&["ip", "link", "del", root]);
        must(&[
            "ip", "link", "add", root, "type", "veth", "peer", "name", &peer,
        ]);
        self.links.push(root.to_string());
        must(&["ip", "link", "set", &peer, "netns", ns]);
        must(&["ip", "link", "set", root, "up"]);
        must(&[
            "ip", "netns", "exec", ns, "ip", "addr", "add", v4, "dev", &peer,
        ]);
        must(&["ip", "netns", "exec", ns, "ip", "link", "set", &peer, "up"]);
    }
}

impl Drop for Net {
    fn drop(&mut self) {
        for ns in &self.namespaces {
            let _ = run(&["ip", "netns", "del", ns]);
        }
        for l in &self.links {
            let _ = run(&["ip", "link", "del", "dev", l]);
        }
    }
}

fn vsctl(sb: &Sandbox, args: &[&str]) -> String {
    sb.vsctl(args).unwrap_or_else(|e| panic!("{e}"))
}

/// The OpenFlow port of interface `iface` once the switch assigned one.
fn wait_ofport(sb: &Sandbox, iface: &str) -> i64 {
    let mut port = -1;
    let ok = sb.wait_until(Duration::from_secs(10), || {
        port = sb
            .vsctl(&["get", "interface", iface, "ofport"])
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(-1);
        port > 0
    });
    assert!(ok, "{iface} got no OpenFlow port");
    port
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

/// Replies of `count` pings at 0.1 s intervals.
fn pings(ns: &str, dst: &str, count: u32) -> u32 {
    let c = count.to_string();
    let args = [
        "ip", "netns", "exec", ns, "ping", "-q", "-c", &c, "-i", "0.1", "-W", "1", dst,
    ];
    let out = String::from_utf8_lossy(&run(&args).stdout).into_owned();
    out.split(',')
        .find_map(|p| p.trim().strip_suffix(" received"))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0)
}

/// Waits (up to 10 s) until one ping from `ns` to `dst` is answered.
fn reachable(ns: &str, dst: &str) -> bool {
    let end = Instant::now() + Duration::from_secs(10);
    while Instant::now() < end {
        if pings(ns, dst, 1) == 1 {
            return true;
        }
    }
    false
}

#[test]
fn ping_across_a_patch_port_pair() {
    if let Some(why) = missing_prerequisite() {
        eprintln!("SKIP ping_across_a_patch_port_pair: {why}");
        return;
    }
    // Declared first, dropped last: once the switch is gone, the bridges'
    // own TAP devices (persistent, as upstream's) go with the other links.
    let mut net = Net::new();
    let sb = Sandbox::start_stack("netns-patch", Stack::ferrovs(FERROVS), true);
    let (br_a, br_b) = (net.name("ba"), net.name("bb"));
    net.links.extend([br_a.clone(), br_b.clone()]);
    let (ns_a, ns_b) = (net.add_ns("na"), net.add_ns("nb"));
    let (v_a, v_b) = (net.name("va"), net.name("vb"));
    let (p_a, p_b) = (net.name("pa"), net.name("pb"));
    net.veth_host(&ns_a, &v_a, "10.12.0.1/24");
    net.veth_host(&ns_b, &v_b, "10.12.0.2/24");
    for (br, veth, patch, peer) in [(&br_a, &v_a, &p_a, &p_b), (&br_b, &v_b, &p_b, &p_a)] {
        vsctl(
            &sb,
            &[
                "add-br",
                br,
                "--",
                "set",
                "bridge",
                br,
                "datapath_type=netdev",
                "--",
                "add-port",
                br,
                veth,
                "--",
                "add-port",
                br,
                patch,
                "--",
                "set",
                "interface",
                patch,
                "type=patch",
                &format!("options:peer={peer}"),
            ],
        );
    }
    for iface in [&v_a, &v_b, &p_b] {
        wait_ofport(&sb, iface);
    }
    let ofp_a = wait_ofport(&sb, &p_a);
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
    assert!(reachable(&ns_a, "10.12.0.2"), "no ping across the patch");
    assert_eq!(pings(&ns_a, "10.12.0.2", 10), 10);
    assert!(reachable(&ns_b, "10.12.0.1"), "no ping back");

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
        pings(&ns_a, "10.12.0.2", 5),
        0,
        "traffic crossed a broken pair"
    );

    // Mending it restores the traffic.
    vsctl(
        &sb,
        &["set", "interface", &p_b, &format!("options:peer={p_a}")],
    );
    assert_eq!(wait_error(&sb, &p_a, |e| e == "[]"), "[]");
    assert!(reachable(&ns_a, "10.12.0.2"), "no ping once mended");

    // Removing one end leaves the other without a peer.
    vsctl(&sb, &["del-port", &br_b, &p_b]);
    assert!(wait_error(&sb, &p_a, |e| e.contains("No usable peer")).contains(&p_b));
    drop(net);
    drop(sb);
}
