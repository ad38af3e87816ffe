//! Network namespaces, veth pairs and other links for the root tests, made
//! with `ip` and removed by a guard when the test ends, also when it fails.
//!
//! Names start with a prefix of this process and a tag the test picks, so
//! that tests running at once (nextest runs each in its own process) never
//! share a namespace or a link.

use std::os::fd::{AsRawFd, OwnedFd};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// Runs `args[0]` with the rest as arguments (panics only when it cannot be
/// started at all).
pub fn cmd(args: &[&str]) -> Output {
    Command::new(args[0])
        .args(&args[1..])
        .output()
        .unwrap_or_else(|e| panic!("{args:?}: {e}"))
}

/// Like [`cmd`], failing the test unless the command succeeds; its stdout.
pub fn must(args: &[&str]) -> String {
    let o = cmd(args);
    assert!(
        o.status.success(),
        "{args:?} failed: {}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Why tests that build namespaces cannot run here (not root, `ip` or one
/// of `tools` missing, namespaces refused), or `None` when they can.
pub fn netns_missing(tools: &[&str]) -> Option<String> {
    if !crate::is_root() {
        return Some("not root".into());
    }
    for tool in std::iter::once(&"ip").chain(tools) {
        let found = Command::new("sh")
            .args(["-c", &format!("command -v {tool}")])
            .output()
            .is_ok_and(|o| o.status.success());
        if !found {
            return Some(format!("{tool} not installed"));
        }
    }
    // Tests of one process may probe at once: each its own name.
    static PROBES: AtomicU32 = AtomicU32::new(0);
    let probe = Net::new("probe").name(&PROBES.fetch_add(1, Ordering::Relaxed).to_string());
    let made = cmd(&["ip", "netns", "add", &probe]).status.success();
    let _ = cmd(&["ip", "netns", "del", &probe]);
    if !made {
        return Some("cannot create network namespaces".into());
    }
    None
}

/// The namespaces and links of one test, deleted on drop (namespaces
/// first, which takes the links inside them along).
pub struct Net {
    prefix: String,
    namespaces: Vec<String>,
    links: Vec<String>,
}

impl Net {
    /// Names will start with `fv`, 4 hex digits of the process id and
    /// `tag`: keep `tag` short, link names have 15 characters at most.
    pub fn new(tag: &str) -> Net {
        Net {
            prefix: format!("fv{:04x}{tag}", std::process::id() & 0xffff),
            namespaces: Vec::new(),
            links: Vec::new(),
        }
    }

    /// The name `suffix` gets (for a namespace, link or bridge).
    pub fn name(&self, suffix: &str) -> String {
        format!("{}{suffix}", self.prefix)
    }

    /// A new namespace with its loopback up (a stale one of the same name
    /// is deleted first); returns its name.
    pub fn add_ns(&mut self, suffix: &str) -> String {
        let ns = self.name(suffix);
        let _ = cmd(&["ip", "netns", "del", &ns]);
        must(&["ip", "netns", "add", &ns]);
        self.namespaces.push(ns.clone());
        must(&["ip", "netns", "exec", &ns, "ip", "link", "set", "lo", "up"]);
        ns
    }

    /// Deletes link `name` of this namespace on drop (a device the test
    /// has something else make, such as a bridge's TAP).
    pub fn remove_on_drop(&mut self, name: &str) {
        self.links.push(name.to_string());
    }

    /// A veth pair: `root` stays in this namespace, up; its peer
    /// (`root` + `p`) goes into `ns` with `addrs` and is brought up there.
    /// Returns the peer's name.
    pub fn veth(&mut self, ns: &str, root: &str, addrs: &[&str]) -> String {
        let peer = format!("{root}p");
        self.veth_pair(root, None, &peer, Some(ns));
        must(&["ip", "link", "set", root, "up"]);
        address(ns, &peer, addrs);
        peer
    }

    /// A veth pair `a`–`b`, each end moved into its namespace (`None`:
    /// it stays in this one) and left down. The pair goes on drop, with
    /// the namespaces or by deleting an end left in this one.
    pub fn veth_pair(&mut self, a: &str, a_ns: Option<&str>, b: &str, b_ns: Option<&str>) {
        for end in [a, b] {
            let _ = cmd(&["ip", "link", "del", end]);
        }
        must(&["ip", "link", "add", a, "type", "veth", "peer", "name", b]);
        for (end, ns) in [(a, a_ns), (b, b_ns)] {
            match ns {
                Some(ns) => {
                    must(&["ip", "link", "set", end, "netns", ns]);
                }
                None => self.links.push(end.to_string()),
            }
        }
    }
}

impl Drop for Net {
    fn drop(&mut self) {
        for ns in &self.namespaces {
            let _ = cmd(&["ip", "netns", "del", ns]);
        }
        for l in &self.links {
            let _ = cmd(&["ip", "link", "del", "dev", l]);
        }
    }
}

/// Gives `dev` in namespace `ns` the addresses `addrs` (IPv6 ones without
/// duplicate address detection) and brings it up.
pub fn address(ns: &str, dev: &str, addrs: &[&str]) {
    for a in addrs {
        let mut args = vec![
            "ip", "netns", "exec", ns, "ip", "addr", "add", a, "dev", dev,
        ];
        if a.contains(':') {
            args.push("nodad");
        }
        must(&args);
    }
    must(&["ip", "netns", "exec", ns, "ip", "link", "set", dev, "up"]);
}

/// Brings `dev` in namespace `ns` up.
pub fn up(ns: &str, dev: &str) {
    address(ns, dev, &[]);
}

/// Replies to `count` pings from namespace `ns` to `dst`, sent at 0.1 s
/// intervals, each waited for up to 1 s; `extra` are more ping options.
pub fn pings(ns: &str, dst: &str, count: u32, extra: &[&str]) -> u32 {
    let c = count.to_string();
    let mut args = vec![
        "ip", "netns", "exec", ns, "ping", "-q", "-c", &c, "-i", "0.1", "-W", "1",
    ];
    args.extend_from_slice(extra);
    args.push(dst);
    let out = String::from_utf8_lossy(&cmd(&args).stdout).into_owned();
    out.split(',')
        .find_map(|p| p.trim().strip_suffix(" received"))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0)
}

/// Pings from `ns` to `dst` until one is answered (true) or `within` has
/// passed (false; the bound only ends a failing test).
pub fn reachable(ns: &str, dst: &str, within: Duration) -> bool {
    let end = Instant::now() + within;
    while Instant::now() < end {
        if pings(ns, dst, 1, &[]) == 1 {
            return true;
        }
    }
    false
}

/// Runs iperf3 for 2 s from namespace `client_ns` to a server started
/// in `server_ns` at `server_ip`: TCP, or UDP at `udp_rate` (`"20M"`).
/// Returns the bytes the receiver got (0, with iperf3's output printed,
/// when it got nothing or never connected).
pub fn iperf3(server_ns: &str, client_ns: &str, server_ip: &str, udp_rate: Option<&str>) -> u64 {
    // The namespaces are the test's own: the port is free in them.
    let mut server = Command::new("ip")
        .args([
            "netns", "exec", server_ns, "iperf3", "-s", "-1", "-p", "5201",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn iperf3 server");
    let mut args = vec![
        "ip", "netns", "exec", client_ns, "iperf3", "-c", server_ip, "-p", "5201", "-t", "2", "-J",
    ];
    if let Some(rate) = udp_rate {
        args.extend_from_slice(&["-u", "-b", rate]);
    }
    let mut received = None;
    let mut report = String::new();
    for _ in 0..20 {
        std::thread::sleep(Duration::from_millis(200));
        let o = cmd(&args);
        let json = String::from_utf8_lossy(&o.stdout);
        report = format!("{json}{}", String::from_utf8_lossy(&o.stderr));
        // None: no connection (the server is not listening yet).
        received = iperf3_received(&json);
        if received.is_some() {
            break;
        }
    }
    let _ = server.kill();
    let _ = server.wait();
    if received.unwrap_or(0) == 0 {
        eprintln!("iperf3 {args:?}: {report}");
    }
    received.unwrap_or(0)
}

/// `end.sum_received.bytes` of iperf3's JSON report (TCP and UDP alike),
/// or `None` when the run ended without one (no connection).
fn iperf3_received(json: &str) -> Option<u64> {
    let v: serde_json::Value = serde_json::from_str(json).ok()?;
    v.pointer("/end/sum_received/bytes")?.as_u64()
}

/// The calling thread inside a namespace until dropped, when it returns to
/// the namespace it was in.
pub struct Inside {
    home: OwnedFd,
}

/// Moves the calling thread (only it) into namespace `ns`.
pub fn enter(ns: &str) -> Inside {
    let home: OwnedFd = std::fs::File::open("/proc/thread-self/ns/net")
        .expect("own network namespace")
        .into();
    let target = std::fs::File::open(format!("/run/netns/{ns}")).expect("open the namespace");
    // SAFETY: setns on a namespace descriptor affects only this thread.
    let r = unsafe { libc::setns(target.as_raw_fd(), libc::CLONE_NEWNET) };
    assert_eq!(r, 0, "setns {ns}: {}", std::io::Error::last_os_error());
    Inside { home }
}

impl Drop for Inside {
    fn drop(&mut self) {
        // SAFETY: returning this thread to the namespace it started in.
        unsafe { libc::setns(self.home.as_raw_fd(), libc::CLONE_NEWNET) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_share_the_process_prefix() {
        let net = Net::new("x");
        let n = net.name("v1");
        assert!(n.starts_with("fv") && n.ends_with("xv1"), "{n}");
        assert_eq!(n.len(), "fv".len() + 4 + "xv1".len());
    }

    #[test]
    fn namespace_and_link_are_gone_after_drop() {
        if let Some(why) = netns_missing(&[]) {
            eprintln!("SKIP namespace_and_link_are_gone_after_drop: {why}");
            return;
        }
        let (ns, root) = {
            let mut net = Net::new("kt");
            let ns = net.add_ns("n");
            let root = net.name("v");
            let peer = net.veth(&ns, &root, &["10.77.0.1/24", "fd00:77::1/64"]);
            let shown = must(&["ip", "netns", "exec", &ns, "ip", "addr", "show", &peer]);
            assert!(shown.contains("10.77.0.1/24") && shown.contains("fd00:77::1/64"));
            assert!(cmd(&["ip", "link", "show", &root]).status.success());
            (ns, root)
        };
        assert!(!cmd(&["ip", "link", "show", &root]).status.success());
        assert!(!std::path::Path::new(&format!("/run/netns/{ns}")).exists());
    }

    #[test]
    fn iperf3_reports_the_bytes_received() {
        let report = r#"{"start": {}, "end": {"streams": [],
            "sum_sent": {"bytes": 900}, "sum_received": {"bytes": 655360}}}"#;
        assert_eq!(iperf3_received(report), Some(655360));
        let refused = r#"{"start": {}, "intervals": [], "end": {},
            "error": "error - unable to connect to server: Connection refused"}"#;
        assert_eq!(iperf3_received(refused), None);
        assert_eq!(iperf3_received(""), None);
    }
}
