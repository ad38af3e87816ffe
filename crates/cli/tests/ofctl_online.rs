//! Online `ovs-ofctl` against the reference ovs-vswitchd: every script of
//! `tests/data/ofctl_online/` runs once with upstream's ovs-ofctl and once
//! with ours (each in its own sandbox of reference daemons), and every
//! `ofctl` line must print the same stdout and stderr and exit alike.

mod ofctl_online_script;

use ofctl_online_script::{compare, run_script, scripts};
use testkit::{Program, Stack};

fn ours() -> Program {
    Program::ferrovs(env!("CARGO_BIN_EXE_ferrovs"), "ovs-ofctl")
}

fn check_script(name: &str) {
    if testkit::skip_without_upstream(name) {
        return;
    }
    let Some((_, text)) = scripts().into_iter().find(|(n, _)| n == name) else {
        panic!("no script {name}");
    };
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
