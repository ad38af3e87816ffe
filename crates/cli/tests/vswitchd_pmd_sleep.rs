//! `other_config:pmd-maxsleep` through the daemons: the same settings
//! given to the reference ovs-vswitchd and to ours must log the same
//! `dpif_netdev` lines (value read as upstream reads it, capped at 10,000
//! µs, logged only when it changes). The one deliberate difference: with
//! no setting, ours starts with its own 20 µs pause where upstream starts
//! with none.

use std::time::Duration;
use testkit::{Sandbox, Stack};

fn ours() -> Stack {
    Stack::ferrovs_daemons(env!("CARGO_BIN_EXE_ferrovs"))
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

/// What each setting of [`SETTINGS`] logs in turn (a setting equal to the
/// value in force logs nothing).
const EXPECTED: &[u32] = &[50, 10000, 0, 70, 0, 60, 0];

/// Values set one after the other: a repeat, one over the cap, a
/// negative number (wraps, then capped: no change), junk (0), a sign,
/// blanks before, junk after.
const SETTINGS: &[&str] = &["50", "50", "20000", "-5", "abc", "+70", "0", " 60", "60x"];

fn expected_lines() -> Vec<String> {
    EXPECTED
        .iter()
        .flat_map(|us| {
            [
                format!("dpif_netdev|INFO|PMD max sleep request is {us} usecs."),
                format!(
                    "dpif_netdev|INFO|PMD load based sleeps are {}.",
                    if *us > 0 { "enabled" } else { "disabled" }
                ),
            ]
        })
        .collect()
}

/// Runs the settings through one stack; returns the initial log lines and
/// those the settings added (the daemon may log a line just after
/// `ovs-vsctl` returns, so the lines are taken all at once at the end).
fn run(stack: Stack, tag: &str) -> (Vec<String>, Vec<String>) {
    let sb = Sandbox::start_stack(tag, stack, true);
    sb.add_dummy_bridge("br0", &[], &[]).unwrap();
    assert!(
        sb.wait_until(Duration::from_secs(10), || sleep_lines(&sb).len() >= 2),
        "{tag}: no initial PMD sleep lines"
    );
    let initial = sleep_lines(&sb);
    for v in SETTINGS {
        sb.vsctl(&[
            "set",
            "Open_vSwitch",
            ".",
            &format!("other_config:pmd-maxsleep=\"{v}\""),
        ])
        .unwrap();
    }
    let want = initial.len() + 2 * EXPECTED.len();
    sb.wait_until(Duration::from_secs(10), || sleep_lines(&sb).len() >= want);
    let mut lines = sleep_lines(&sb);
    lines.drain(..initial.len());
    (initial, lines)
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
    assert_eq!(reference, expected_lines(), "the reference changed");
    assert_eq!(ours, reference);
}
