//! Packet-in rate limiting (`controller_rate_limit`,
//! `controller_burst_limit`) against the reference: a test-made OpenFlow
//! 1.0 controller; the switch's clock stopped (`time/stop`); a burst of 80
//! table-miss frames, each numbered, in one `netdev-dummy/receive`. With
//! rate 100/s and burst 25 the first 25 packet-ins leave at once, the last
//! 25 wait in the queue (the older ones are dropped) until `time/warp`
//! gives tokens back. Which frames the controller gets, and the
//! Controller `status` counters, must be the reference's.

mod controller_common;

use controller_common::*;
use std::time::Duration;
use testkit::Sandbox;

/// The number each packet-in's frame carries, in order (OpenFlow 1.0:
/// the frame starts at byte 18; its number follows the Ethernet header).
fn pins(ctl: &Controller) -> Vec<u8> {
    ctl.seen()
        .packet_ins
        .iter()
        .filter_map(|m| m.get(32).copied())
        .collect()
}

fn frame(n: u8) -> String {
    let mut f = String::from("0000000000020000000000011234");
    f.push_str(&format!("{n:02x}"));
    f.push_str(&"00".repeat(45));
    f
}

/// The Controller row's status without the time since connecting and
/// the connection's state (the warp also sends an inactivity probe, whose
/// answer races with the status update).
fn status(sb: &Sandbox) -> String {
    let s = sb
        .vsctl(&["get", "controller", "br0", "status"])
        .unwrap_or_default();
    s.trim()
        .trim_matches(|c| c == '{' || c == '}')
        .split(", ")
        .filter(|kv| {
            !kv.starts_with("sec_since_connect")
                && !kv.starts_with("last_error")
                && !kv.starts_with("state=")
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The burst on one stack: (packet-ins at once, after the warp, status).
fn run(name: &str, stack: testkit::Stack) -> (Vec<u8>, Vec<u8>, String) {
    let sb = Sandbox::start_stack(&format!("ratelimit-{name}"), stack, true);
    let (ctl, target) = Controller::listen(Behaviour::OF10);
    secure_bridge_under(
        &sb,
        1,
        &target,
        &["controller_rate_limit=100", "controller_burst_limit=25"],
    );
    assert!(
        sb.wait_until(Duration::from_secs(20), || {
            ctl.seen().connected
                && sb
                    .vsctl(&["get", "controller", "br0", "is_connected"])
                    .is_ok_and(|s| s.trim() == "true")
        }),
        "{name}: the controller never connected"
    );
    ctl.sync(&sb);
    sb.appctl(&["time/stop"]).unwrap();
    let frames: Vec<String> = (0..80).map(frame).collect();
    let mut args = vec!["netdev-dummy/receive", "p1"];
    args.extend(frames.iter().map(|s| s.as_str()));
    sb.appctl(&args).unwrap();
    assert!(
        sb.wait_until(Duration::from_secs(20), || pins(&ctl).len() >= 25),
        "{name}: fewer than 25 packet-ins: {:?}",
        pins(&ctl)
    );
    ctl.sync(&sb);
    let at_once = pins(&ctl);
    sb.appctl(&["time/warp", "6000", "1000"]).unwrap();
    assert!(
        sb.wait_until(Duration::from_secs(20), || pins(&ctl).len() >= 50),
        "{name}: the queue never drained: {:?}",
        pins(&ctl)
    );
    ctl.sync(&sb);
    let later = pins(&ctl)[at_once.len()..].to_vec();
    // The status is written back in its own time.
    sb.wait_until(Duration::from_secs(20), || {
        status(&sb).contains("packet-in-miss-queued=\"55\"")
            && status(&sb).contains("packet-in-miss-backlog=\"0\"")
    });
    (at_once, later, status(&sb))
}

#[test]
fn a_burst_of_packet_ins_is_limited_as_upstream() {
    if testkit::skip_without_upstream("a_burst_of_packet_ins_is_limited_as_upstream") {
        return;
    }
    let expected = run("ref", testkit::Stack::upstream());
    // Ours once sent [0, 30..53] at once under heavy load: the misses'
    // packet-ins went back through the upcall queue behind later packets'
    // (fixed: the handler thread sends them at once).
    let actual = run("our", ours());
    assert_eq!(
        expected.0,
        (0..25).collect::<Vec<u8>>(),
        "reference at once"
    );
    assert_eq!(
        expected.1,
        (55..80).collect::<Vec<u8>>(),
        "reference after warp"
    );
    assert_eq!(actual.0, expected.0, "packet-ins at once");
    assert_eq!(actual.1, expected.1, "packet-ins after the warp");
    assert_eq!(actual.2, expected.2, "Controller status");
}
