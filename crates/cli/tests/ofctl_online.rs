//! Online `ovs-ofctl` both ways: every script of `tests/data/ofctl_online/`
//! runs with upstream's ovs-ofctl against the reference daemons (the
//! expected transcript), then
//!
//! - with our ovs-ofctl against the reference daemons (`NAME`), and
//! - with upstream's ovs-ofctl against our ovsdb-server and ovs-vswitchd
//!   (`NAME_on_our_daemons`),
//!
//! each in its own sandbox, and every `ofctl` line must print the same
//! stdout and stderr and exit alike. Known differences of our daemons are
//! listed in [`KNOWN_DAEMON_DIFFERENCES`], a ratchet: a difference not on
//! the list fails; an entry that no longer differs is reported (on
//! stderr) so that it gets removed.

mod ofctl_online_script;

use ofctl_online_script::{compare, run_script, scripts};
use testkit::{Program, Stack};

fn ours() -> Program {
    Program::ferrovs(env!("CARGO_BIN_EXE_ferrovs"), "ovs-ofctl")
}

/// Our ovsdb-server and ovs-vswitchd (with upstream's tools).
fn our_daemons() -> Stack {
    Stack::ferrovs_daemons(env!("CARGO_BIN_EXE_ferrovs"))
}

/// Script lines (`script:line`) where upstream's ovs-ofctl prints
/// something else against our daemons than against the reference daemons,
/// each with the reason. Keep it short; fix and remove.
const KNOWN_DAEMON_DIFFERENCES: &[(&str, &str)] = &[];

fn script_text(name: &str) -> String {
    match scripts().into_iter().find(|(n, _)| n == name) {
        Some((_, text)) => text,
        None => panic!("no script {name}"),
    }
}

fn check_script(name: &str) {
    if testkit::skip_without_upstream(name) {
        return;
    }
    let text = script_text(name);
    let reference = Program::path("/usr/bin/ovs-ofctl");
    let expected = run_script(&format!("{name}-ref"), &text, Stack::upstream(), &reference);
    let actual = run_script(&format!("{name}-our"), &text, Stack::upstream(), &ours());
    let diffs = compare(name, &expected, &actual);
    assert!(
        diffs.is_empty(),
        "{} of {} commands differ:\n{}",
        diffs.len(),
        expected.len(),
        diffs.join("\n")
    );
}

/// Upstream's ovs-ofctl against our daemons, compared with it against the
/// reference daemons.
fn check_script_on_our_daemons(name: &str) {
    if testkit::skip_without_upstream(name) {
        return;
    }
    let text = script_text(name);
    let reference = Program::path("/usr/bin/ovs-ofctl");
    let expected = run_script(&format!("{name}-ref"), &text, Stack::upstream(), &reference);
    let actual = run_script(&format!("{name}-od"), &text, our_daemons(), &reference);
    let diffs = compare(name, &expected, &actual);
    let known: Vec<&str> = KNOWN_DAEMON_DIFFERENCES
        .iter()
        .map(|(at, _)| *at)
        .filter(|at| at.split(':').next() == Some(name))
        .collect();
    let at_of = |d: &str| d.split(": ").next().unwrap_or("").to_string();
    let unknown: Vec<&String> = diffs
        .iter()
        .filter(|d| !known.contains(&at_of(d).as_str()))
        .collect();
    let fixed: Vec<&&str> = known
        .iter()
        .filter(|k| !diffs.iter().any(|d| at_of(d) == **k))
        .collect();
    if !fixed.is_empty() {
        eprintln!("{name}: no longer differing, remove from KNOWN_DAEMON_DIFFERENCES: {fixed:?}");
    }
    assert!(
        unknown.is_empty(),
        "{} of {} commands differ against our daemons:\n{}",
        unknown.len(),
        expected.len(),
        unknown
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
fn every_script_has_a_test() {
    let known = [
        "switch",
        "ports",
        "flows",
        "errors",
        "groups",
        "meters",
        "replace",
        "monitor",
        "packet_out",
        "seeds",
        "seeds_tunnels",
    ];
    for (name, _) in scripts() {
        assert!(known.contains(&name.as_str()), "script {name} has no test");
    }
}

#[test]
fn switch() {
    check_script("switch");
}

#[test]
fn ports() {
    check_script("ports");
}

#[test]
fn flows() {
    check_script("flows");
}

#[test]
fn errors() {
    check_script("errors");
}

#[test]
fn groups() {
    check_script("groups");
}

#[test]
fn meters() {
    check_script("meters");
}

#[test]
fn replace() {
    check_script("replace");
}

#[test]
fn monitor() {
    check_script("monitor");
}

#[test]
fn packet_out() {
    check_script("packet_out");
}

#[test]
fn seeds() {
    check_script("seeds");
}

#[test]
fn seeds_tunnels() {
    check_script("seeds_tunnels");
}

#[test]
fn switch_on_our_daemons() {
    check_script_on_our_daemons("switch");
}

#[test]
fn ports_on_our_daemons() {
    check_script_on_our_daemons("ports");
}

#[test]
fn flows_on_our_daemons() {
    check_script_on_our_daemons("flows");
}

#[test]
fn errors_on_our_daemons() {
    check_script_on_our_daemons("errors");
}

#[test]
fn groups_on_our_daemons() {
    check_script_on_our_daemons("groups");
}

#[test]
fn meters_on_our_daemons() {
    check_script_on_our_daemons("meters");
}

#[test]
fn replace_on_our_daemons() {
    check_script_on_our_daemons("replace");
}

#[test]
fn monitor_on_our_daemons() {
    check_script_on_our_daemons("monitor");
}

#[test]
fn packet_out_on_our_daemons() {
    check_script_on_our_daemons("packet_out");
}

#[test]
fn seeds_on_our_daemons() {
    check_script_on_our_daemons("seeds");
}

#[test]
fn seeds_tunnels_on_our_daemons() {
    check_script_on_our_daemons("seeds_tunnels");
}
