//! The Controller table's `status:sec_since_connect` counts on the
//! daemon's clock, against the reference: with the clock stopped
//! (`time/stop`) before the controller connects, only `time/warp` moves
//! it, whatever real time passes. A test-made OpenFlow 1.0 controller;
//! the same steps on the reference daemons and on ours.

mod controller_common;

use controller_common::*;
use std::time::Duration;
use testkit::Sandbox;

fn since_connect(sb: &Sandbox) -> String {
    sb.vsctl(&["get", "controller", "br0", "status:sec_since_connect"])
        .map(|s| s.trim().trim_matches('"').to_string())
        .unwrap_or_default()
}

/// `sec_since_connect` after each of two warps of 100 s (the status is
/// refreshed every 5 s of the daemon's clock upstream), once it shows
/// what the warps add up to (or the last value seen: far less real time
/// passes).
fn run(name: &str, stack: testkit::Stack) -> Vec<String> {
    let sb = Sandbox::start_stack(&format!("status-clock-{name}"), stack, true);
    sb.appctl(&["time/stop"]).unwrap();
    let (ctl, target) = Controller::listen(Behaviour::OF10);
    secure_bridge_under(&sb, 1, &target, &[]);
    assert!(
        sb.wait_until(Duration::from_secs(20), || ctl.seen().connected),
        "{name}: the controller never connected"
    );
    ctl.sync(&sb);
    let mut seen = Vec::new();
    for want in ["100", "200"] {
        sb.appctl(&["time/warp", "100000"]).unwrap();
        let mut last = String::new();
        sb.wait_until(Duration::from_secs(20), || {
            last = since_connect(&sb);
            last == want
        });
        seen.push(last);
    }
    seen
}

#[test]
fn sec_since_connect_follows_the_daemon_clock_as_upstream() {
    if testkit::skip_without_upstream("sec_since_connect_follows_the_daemon_clock_as_upstream") {
        return;
    }
    let expected = run("ref", testkit::Stack::upstream());
    assert_eq!(expected, ["100", "200"], "reference");
    let actual = run("our", ours());
    assert_eq!(actual, expected);
}
