//! Table misses and the version of the connections, against the
//! reference: with no flow matching, a switch sends the packet to
//! connections of OpenFlow 1.0–1.2 (reason `no_match`) and drops it for
//! 1.3 and later. Upstream translates a miss into its hidden miss rule
//! (`controller(reason=)`, datapath `userspace(...controller(reason=7...))`)
//! while some connection wants misses — one below 1.3, or one whose
//! protocol is not settled yet (a monitor that sent nothing but its
//! configuration) — and filters the packet-ins per connection. The same
//! steps run on the reference daemons and on ours: `ofproto/trace`
//! results, datapath flows and what each monitor printed must be equal.

use std::time::Duration;
use testkit::{Sandbox, Stack};

fn our_daemons() -> Stack {
    Stack::ferrovs_daemons(env!("CARGO_BIN_EXE_ferrovs"))
}

/// A frame of type 0x1234 (no flow matches it) and one of type 0x5678
/// (a flow sends it to the controller: its packet-in marks the end).
const MISS_FRAME: &str =
    "000000000002000000000001123400000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000";
const MARK_FRAME: &str =
    "000000000002000000000001567800000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000";

/// A detached `ovs-ofctl monitor`, killed on drop.
struct Monitor<'a> {
    sb: &'a Sandbox,
    log: String,
}

impl<'a> Monitor<'a> {
    fn start(sb: &'a Sandbox, version: &str, log: &str) -> Monitor<'a> {
        let file = std::fs::File::create(sb.dir.join(log)).expect("create monitor log");
        let ofctl = &sb.stack.ofctl;
        let status = std::process::Command::new(&ofctl.exe)
            .args(&ofctl.lead)
            .args(["-O", version, "monitor", &sb.mgmt("br0"), "65534"])
            .args(["--detach", "--no-chdir", "--pidfile"])
            .env("OVS_RUNDIR", &sb.dir)
            .env("OVS_LOGDIR", &sb.dir)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(file)
            .status()
            .expect("run ovs-ofctl monitor");
        assert!(status.success(), "ovs-ofctl monitor failed");
        let m = Monitor {
            sb,
            log: log.to_string(),
        };
        // The monitor is up once it answers its control socket.
        m.ctl(&["ofctl/barrier"]);
        m
    }

    fn ctl(&self, args: &[&str]) -> String {
        let ctl = self.sb.control("ovs-ofctl");
        let mut all = vec!["-t", ctl.as_str()];
        all.extend_from_slice(args);
        let appctl = self.sb.stack.appctl.clone();
        self.sb
            .run(&appctl, &all)
            .ok("ovs-appctl -t ovs-ofctl")
            .unwrap()
    }

    fn text(&self) -> String {
        std::fs::read_to_string(self.sb.dir.join(&self.log)).unwrap_or_default()
    }

    /// Waits until the monitor printed the packet-in of the marker frame.
    fn wait_mark(&self) -> bool {
        self.sb.wait_until(Duration::from_secs(10), || {
            self.text().contains("dl_type=0x5678") || self.text().contains("0x5678")
        })
    }
}

impl Drop for Monitor<'_> {
    fn drop(&mut self) {
        if let Some(pid) = self.sb.pid("ovs-ofctl") {
            let _ = std::process::Command::new("kill").arg(&pid).status();
            let proc = format!("/proc/{pid}");
            self.sb.wait_until(Duration::from_secs(5), || {
                !std::path::Path::new(&proc).exists()
            });
            let _ = std::fs::remove_file(self.sb.dir.join("ovs-ofctl.pid"));
        }
    }
}

/// `ofproto/trace` text with recirculation ids normalized.
fn trace(sb: &Sandbox) -> String {
    let t = sb
        .appctl(&["ofproto/trace", "br0", "in_port=1,dl_type=0x1234"])
        .unwrap();
    testkit::normalize_recirc(&t)
}

/// Monitor output without timestamps or log lines.
fn monitor_text(m: &Monitor) -> String {
    m.text()
        .lines()
        .filter(|l| !l.contains("|vlog|") && !l.starts_with("20"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Runs the scenario on `stack`, returning its transcript.
fn scenario(tag: &str, stack: Stack) -> Vec<(String, String)> {
    let sb = Sandbox::start_stack(tag, stack, true);
    sb.add_dummy_bridge(
        "br0",
        &[
            "fail-mode=secure",
            "other-config:datapath-id=0000000000000001",
            "other-config:hwaddr=02:00:00:00:00:01",
        ],
        &["p1"],
    )
    .unwrap();
    sb.ofctl("br0", &["add-flow", "dl_type=0x5678,actions=controller"])
        .unwrap();
    let mut t = Vec::new();
    t.push(("no connection".to_string(), trace(&sb)));
    for (version, settle) in [
        ("OpenFlow10", None),
        ("OpenFlow12", Some("0305000800000077")),
        ("OpenFlow13", None),
        ("OpenFlow13", Some("0405000800000077")),
        ("OpenFlow15", Some("0605000800000077")),
    ] {
        let what = format!("{version} settled={}", settle.is_some());
        let m = Monitor::start(&sb, version, &format!("mon-{version}-{}.log", t.len()));
        if let Some(features) = settle {
            m.ctl(&["ofctl/send", features]);
        }
        t.push((format!("{what}: trace"), trace(&sb)));
        sb.appctl(&["netdev-dummy/receive", "p1", MISS_FRAME])
            .unwrap();
        sb.appctl(&["netdev-dummy/receive", "p1", MARK_FRAME])
            .unwrap();
        assert!(
            m.wait_mark(),
            "{tag} {what}: no packet-in for the marker frame"
        );
        m.ctl(&["ofctl/barrier"]);
        t.push((format!("{what}: monitor"), monitor_text(&m)));
        drop(m);
        sb.appctl(&["revalidator/purge"]).unwrap();
    }
    t.push(("closed again".to_string(), trace(&sb)));
    t
}

#[test]
fn table_misses_follow_the_connections_versions() {
    if testkit::skip_without_upstream("table_misses_follow_the_connections_versions") {
        return;
    }
    let expected = scenario("miss-ref", Stack::upstream());
    let actual = scenario("miss-our", our_daemons());
    let mut diffs = Vec::new();
    for ((what, e), (_, a)) in expected.iter().zip(&actual) {
        if e != a {
            diffs.push(format!("{what}:\n--- reference\n{e}\n--- ours\n{a}"));
        }
    }
    assert!(diffs.is_empty(), "{}", diffs.join("\n"));
    // The scenario shows both behaviours.
    assert!(
        expected[1].1.contains("controller(reason=7"),
        "{}",
        expected[1].1
    );
    assert!(expected[0].1.ends_with("drop\n"), "{}", expected[0].1);
}
