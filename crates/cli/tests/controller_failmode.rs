//! Fail mode when the controller goes away, against the reference: a
//! bridge under a (minimal, test-made) controller drops packets by the
//! controller's flow; the controller disappears; with
//! `fail_mode=standalone` the bridge fails open after three probe
//! intervals (packets are flooded by NORMAL, above every OpenFlow flow)
//! and returns to the controller's flows once it is back and admitted;
//! with `secure` the controller's flows stay in force throughout. Frames
//! sent per port and the flow counters must match the reference's.

mod controller_common;

use controller_common::*;
use std::net::TcpListener;
use std::time::Duration;
use testkit::Sandbox;

const N_PORTS: u16 = 3;

/// An OpenFlow 1.3 controller whose barrier right after the hello admits
/// it, answering echo requests until stopped.
fn controller(listener: TcpListener) -> Controller {
    Controller::start(
        listener,
        Behaviour {
            version: 4,
            answer_echo: true,
            barrier_at_hello: true,
        },
    )
}

fn log_has(sb: &Sandbox, text: &str) -> bool {
    std::fs::read_to_string(sb.path("ovs-vswitchd.log")).is_ok_and(|l| l.contains(text))
}

/// n_packets of the controller's drop flow.
fn drop_hits(sb: &Sandbox) -> u64 {
    let flows = sb.ofctl("br0", &["dump-flows"]).unwrap_or_default();
    flows
        .lines()
        .find(|l| l.contains("priority=100"))
        .and_then(|l| l.split("n_packets=").nth(1))
        .and_then(|r| r.split(',').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// A listener on a port below the kernel's ephemeral range, so that the
/// port stays free for the controller's return: a port from `bind(0)` may
/// meanwhile become the local end of another test's outgoing connection.
fn listen_below_ephemeral_range() -> TcpListener {
    let seed = std::process::id() as u64
        ^ u64::from(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.subsec_nanos()),
        );
    let mut rng = testkit::Rng(seed);
    loop {
        let port = 20000 + rng.below(12000) as u16;
        if let Ok(l) = TcpListener::bind(("127.0.0.1", port)) {
            return l;
        }
    }
}

fn run(name: &str, stack: testkit::Stack, mode: &str) -> (Vec<Vec<String>>, u64, String) {
    let sb = Sandbox::start_stack(&format!("ctl-fail-{name}-{mode}"), stack, true);
    let listener = listen_below_ephemeral_range();
    let port = listener.local_addr().unwrap().port();
    let target = format!("tcp:127.0.0.1:{port}");
    let ctl = controller(listener);
    dummy_bridge(
        &sb,
        N_PORTS,
        &[
            "--",
            "set-controller",
            "br0",
            &target,
            "--",
            "set-fail-mode",
            "br0",
            mode,
        ],
    );
    let ten = Duration::from_secs(10);
    assert!(
        sb.wait_until(ten, || sb
            .vsctl(&["list", "controller"])
            .unwrap()
            .contains("is_connected        : true")),
        "{name}/{mode}: the switch did not connect"
    );
    sb.ofctl("br0", &["add-flow", "priority=100,actions=drop"])
        .unwrap();
    let pkt = |n: u8| frame(&mac(2), &mac(1), n);
    // Under the controller: its flow drops.
    receive(&sb, "p1", &pkt(1));
    assert!(
        sb.wait_until(ten, || drop_hits(&sb) == 1),
        "{name}/{mode}: not dropped by the flow"
    );
    // The controller goes away.
    assert!(
        ctl.stop(),
        "{name}/{mode}: the controller saw no connection"
    );
    if mode == "standalone" {
        assert!(
            sb.wait_until(Duration::from_secs(40), || log_has(&sb, "failing open")),
            "{name}/{mode}: did not fail open"
        );
        receive(&sb, "p1", &pkt(2));
        assert!(
            wait_sent(&sb, N_PORTS, 2),
            "{name}/{mode}: not flooded while failing open"
        );
    } else {
        // As long as the standalone bridge needs to fail open.
        std::thread::sleep(Duration::from_secs(17));
        receive(&sb, "p1", &pkt(2));
        assert!(
            sb.wait_until(ten, || drop_hits(&sb) == 2),
            "{name}/{mode}: secure bridge did not keep the flow"
        );
    }
    // The controller comes back.
    let before = drop_hits(&sb);
    let ctl = controller(TcpListener::bind(("127.0.0.1", port)).unwrap());
    if mode == "standalone" {
        assert!(
            sb.wait_until(Duration::from_secs(30), || log_has(
                &sb,
                "No longer in fail-open mode"
            )),
            "{name}/{mode}: did not leave fail-open"
        );
    } else {
        assert!(
            sb.wait_until(Duration::from_secs(30), || log_has(&sb, "connected")),
            "{name}/{mode}: did not reconnect"
        );
    }
    if mode == "secure" {
        receive(&sb, "p1", &pkt(3));
        assert!(
            sb.wait_until(ten, || drop_hits(&sb) == before + 1),
            "{name}/{mode}: the controller's flow is not in force"
        );
    }
    // Standalone: the controller back in charge finds empty tables.
    let flows = sb.ofctl("br0", &["--no-stats", "dump-flows"]).unwrap();
    drop(ctl);
    (sent(&sb, N_PORTS), drop_hits(&sb), flows)
}

#[test]
fn fail_modes_when_the_controller_goes_away() {
    if testkit::skip_without_upstream("fail_modes_when_the_controller_goes_away") {
        return;
    }
    let mut threads = Vec::new();
    for mode in ["standalone", "secure"] {
        for (name, stack) in stacks() {
            threads.push((
                name,
                mode,
                std::thread::spawn(move || run(name, stack, mode)),
            ));
        }
    }
    let results: Vec<_> = threads
        .into_iter()
        .map(|(n, m, t)| (n, m, t.join().expect("run panicked")))
        .collect();
    for pair in results.chunks(2) {
        let (rn, mode, want) = &pair[0];
        let (on, _, got) = &pair[1];
        assert!(
            want == got,
            "{mode}: {rn} and {on} differ\n--- {rn} (drop hits {}) ---\n{}{}--- {on} (drop hits {}) ---\n{}{}",
            want.1,
            show(&want.0),
            want.2,
            got.1,
            show(&got.0),
            got.2
        );
    }
}
