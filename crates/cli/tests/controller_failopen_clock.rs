//! Fail-open on the daemon clock, against the reference: a standalone
//! bridge whose only controller is unreachable fails open after three
//! inactivity-probe intervals (15 s) of the daemon's clock — with the
//! clock stopped (`time/stop`), only `time/warp` gets it there, and the
//! hidden `priority=15790320 actions=NORMAL` rule then shows in
//! `bridge/dump-flows`. The same steps on the reference daemons and on
//! ours.

mod controller_common;

use controller_common::*;
use std::time::Duration;
use testkit::Sandbox;

const FAIL_OPEN_RULE: &str = "priority=15790320,actions=NORMAL";

fn failing_open(sb: &Sandbox) -> bool {
    sb.appctl(&["bridge/dump-flows", "br0"])
        .unwrap_or_default()
        .contains(FAIL_OPEN_RULE)
}

fn run(name: &str, stack: testkit::Stack, port: u16) -> Vec<(String, bool)> {
    let sb = Sandbox::start_stack(&format!("failopen-clock-{name}"), stack, true);
    sb.appctl(&["time/stop"]).unwrap();
    let target = format!("tcp:127.0.0.1:{port}");
    dummy_bridge(
        &sb,
        2,
        &[
            "--",
            "set-fail-mode",
            "br0",
            "standalone",
            "--",
            "set-controller",
            "br0",
            &target,
        ],
    );
    let mut t = Vec::new();
    t.push(("at once".to_string(), failing_open(&sb)));
    sb.appctl(&["time/warp", "10000", "1000"]).unwrap();
    t.push(("after 10 s".to_string(), failing_open(&sb)));
    sb.appctl(&["time/warp", "6000", "1000"]).unwrap();
    let open = sb.wait_until(Duration::from_secs(10), || failing_open(&sb));
    t.push(("after 16 s".to_string(), open));
    t
}

#[test]
fn fail_open_follows_the_daemon_clock_as_upstream() {
    if testkit::skip_without_upstream("fail_open_follows_the_daemon_clock_as_upstream") {
        return;
    }
    // A port nobody listens on: the controller stays unreachable.
    let port = testkit::free_tcp_port();
    let expected = run("ref", testkit::Stack::upstream(), port);
    let actual = run("our", ours(), port);
    assert_eq!(
        expected,
        [
            ("at once".to_string(), false),
            ("after 10 s".to_string(), false),
            ("after 16 s".to_string(), true)
        ],
        "reference"
    );
    assert_eq!(actual, expected);
}
