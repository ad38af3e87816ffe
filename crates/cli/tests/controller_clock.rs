//! Timers on the daemon's clock, against the reference: with the clock
//! stopped (`time/stop`), only `time/warp` moves the datapath flows'
//! `used:` ages, the revalidator's `max-idle` (10 s) and a controller
//! connection's inactivity probe (5 s: an echo request, then, unanswered
//! for another 5 s, the connection is dropped). A test-made OpenFlow 1.0
//! controller that never answers echo requests; the same steps on the
//! reference daemons and on ours.

mod controller_common;

use controller_common::*;
use std::time::Duration;
use testkit::Sandbox;

/// The statistics of each datapath flow (`packets:…, bytes:…, used:…`).
fn flow_stats(sb: &Sandbox) -> String {
    let text = sb.appctl(&["dpctl/dump-flows"]).unwrap_or_default();
    text.lines()
        .filter_map(|l| l.find("packets:").map(|i| l[i..].to_string()))
        .filter_map(|l| l.split(", actions:").next().map(str::to_string))
        .collect::<Vec<_>>()
        .join("\n")
}

fn run(name: &str, stack: testkit::Stack) -> Vec<(String, String)> {
    let sb = Sandbox::start_stack(&format!("clock-{name}"), stack, true);
    // A controller that never answers the switch's echo requests.
    let (ctl, target) = Controller::listen(Behaviour {
        answer_echo: false,
        ..Behaviour::OF10
    });
    secure_bridge_under(&sb, 2, &target, &[]);
    sb.ofctl("br0", &["add-flow", "in_port=1,actions=output:2"])
        .unwrap();
    assert!(
        sb.wait_until(Duration::from_secs(20), || ctl.seen().connected),
        "{name}: the controller never connected"
    );
    ctl.sync(&sb);
    sb.appctl(&["time/stop"]).unwrap();
    let mut t = Vec::new();
    let frame = format!("0000000000020000000000011234{}", "00".repeat(46));
    sb.appctl(&["netdev-dummy/receive", "p1", &frame]).unwrap();
    // The packet that made the flow is not counted in it: a second one.
    assert!(
        sb.wait_until(Duration::from_secs(10), || !flow_stats(&sb).is_empty()),
        "{name}: no datapath flow"
    );
    t.push(("new flow".to_string(), flow_stats(&sb)));
    sb.appctl(&["netdev-dummy/receive", "p1", &frame]).unwrap();
    assert!(
        sb.wait_until(Duration::from_secs(10), || flow_stats(&sb)
            .contains("packets:1")),
        "{name}: no datapath flow"
    );
    t.push(("flow at once".to_string(), flow_stats(&sb)));
    sb.appctl(&["time/warp", "3000"]).unwrap();
    t.push(("flow after 3 s".to_string(), flow_stats(&sb)));
    let echoes = || ctl.seen().echo_requests;
    t.push(("echo requests after 3 s".to_string(), echoes().to_string()));
    sb.appctl(&["time/warp", "3000"]).unwrap();
    assert!(
        sb.wait_until(Duration::from_secs(10), || echoes() >= 1),
        "{name}: no inactivity probe after 6 s"
    );
    let closed = || ctl.seen().closed;
    t.push(("closed after 6 s".to_string(), closed().to_string()));
    sb.appctl(&["time/warp", "5000"]).unwrap();
    sb.appctl(&["revalidator/wait"]).unwrap();
    sb.appctl(&["revalidator/wait"]).unwrap();
    t.push(("flows after 11 s".to_string(), flow_stats(&sb)));
    assert!(
        sb.wait_until(Duration::from_secs(10), closed),
        "{name}: the unanswered probe did not end the connection"
    );
    t.push(("echo requests".to_string(), echoes().to_string()));
    t
}

#[test]
fn timers_follow_time_stop_and_warp_as_upstream() {
    if testkit::skip_without_upstream("timers_follow_time_stop_and_warp_as_upstream") {
        return;
    }
    let expected = run("ref", testkit::Stack::upstream());
    let actual = run("our", ours());
    assert_eq!(
        expected[1].1, "packets:1, bytes:60, used:0.000s",
        "reference: {expected:?}"
    );
    assert_eq!(actual, expected);
}
