//! `other_config:pmd-maxsleep` through the daemons: the same settings
//! given to the reference ovs-vswitchd and to ours must log the same
//! `dpif_netdev` lines (value read as upstream reads it, capped at 10,000
//! µs, logged only when it changes). The one deliberate difference: with
//! no setting, ours starts with its own 20 µs pause where upstream starts
//! with none.

use std::time::Duration;
use testkit::{Program, Sandbox, Stack};

fn ours() -> Stack {
    let f = env!("CARGO_BIN_EXE_ferrovs");
    let mut s = Stack::upstream();
    s.ovsdb_tool = Program::ferrovs(f, "ovsdb-tool");
    s.ovsdb_server = Program::ferrovs(f, "ovsdb-server");
    s.vswitchd = Program::ferrovs(f, "ovs-vswitchd");
    s
}

/// The `PMD ...sleep...` lines of the daemon's log, without timestamps
/// and sequence numbers.
fn sleep_lines(sb: &Sandbox) -> Vec<String> {
    let log = std::fs::read_to_string(sb.path("ovs-vswitchd.log")).unwrap_or_default();
    log.lines()
        .filter(|l| l.contains("|dpif_netdev|") && l.contains("sleep"))
        .filter_map(|l| l.splitn(3, '|').nth(2).map(str::to_string))
        .collect()
}

/// Runs the settings through one stack; returns the log lines each
/// setting added.
fn run(stack: Stack, tag: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let sb = Sandbox::start_stack(tag, stack, true);
    sb.vsctl(&[
        "add-br",
        "br0",
        "--",
        "set",
        "bridge",
        "br0",
        "datapath_type=dummy",
    ])
    .unwrap();
    assert!(
        sb.wait_until(Duration::from_secs(10), || sleep_lines(&sb).len() >= 2),
        "{tag}: no initial PMD sleep lines"
    );
    let initial = sleep_lines(&sb);
    let mut steps = Vec::new();
    // Each setting is followed by a change to a marker value, so that
    // every setting's own effect (or lack of one) shows.
    for v in ["50", "50", "20000", "-5", "abc", "+70", "0", " 60", "60x"] {
        let before = sleep_lines(&sb).len();
        sb.vsctl(&[
            "set",
            "Open_vSwitch",
            ".",
            &format!("other_config:pmd-maxsleep=\"{v}\""),
        ])
        .unwrap();
        // `ovs-vsctl` waits for the switch to reconfigure.
        let mut got = sleep_lines(&sb);
        got.drain(..before);
        steps.push(got);
    }
    (initial, steps)
}

#[test]
fn pmd_maxsleep_logged_as_upstream() {
    if testkit::skip_without_upstream("pmd_maxsleep_logged_as_upstream") {
        return;
    }
    let (ref_initial, reference) = run(Stack::upstream(), "pmdsleep-ref");
    let (our_initial, ours) = run(ours(), "pmdsleep-ours");
    assert_eq!(
        ref_initial,
        [
            "dpif_netdev|INFO|PMD max sleep request is 0 usecs.",
            "dpif_netdev|INFO|PMD load based sleeps are disabled."
        ]
    );
    assert_eq!(
        our_initial,
        [
            "dpif_netdev|INFO|PMD max sleep request is 20 usecs.",
            "dpif_netdev|INFO|PMD load based sleeps are enabled."
        ]
    );
    assert_eq!(ours, reference);
    // The settings did something: a cap, a no-change, a reset to 0.
    assert_eq!(
        reference[2],
        [
            "dpif_netdev|INFO|PMD max sleep request is 10000 usecs.",
            "dpif_netdev|INFO|PMD load based sleeps are enabled."
        ]
    );
    assert!(reference[1].is_empty() && reference[3].is_empty());
}
