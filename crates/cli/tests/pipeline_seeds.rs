//! The pipelines of the seed documents, through our daemons and through the
//! reference daemons (ovsdb-server + ovs-vswitchd on the dummy datapath,
//! started as ovs-sandbox starts them), driven by ovs-vsctl, ovs-ofctl and
//! ovs-appctl with the seeds' own commands.  Every command's output must
//! be identical in both stacks, and where the seed prints the output
//! (`ofproto/trace` transcripts, `dump-flows` after learning), both must
//! show it modulo what legitimately differs between the documented OVS
//! versions and 3.1 (see `pipeline_common::seed_normalize`).
//!
//! Scripts: `tests/data/pipeline_seeds/*.script` (format in
//! `pipeline_common`).

mod pipeline_common;

use pipeline_common::{run_script, Twin};

/// Runs `script` in both stacks; at most `known` commands may differ (a
/// ratchet for pipelines whose ports our daemon cannot make yet: see
/// SWITCH-CONTRACTS.md).
fn check(tag: &str, script: &str, known: usize) {
    let Some(twin) = Twin::start(tag) else {
        return;
    };
    let (failures, n) = run_script(&twin, tag, script);
    for f in &failures {
        eprintln!("{f}\n");
    }
    eprintln!(
        "{tag}: {} of {n} commands identical and as documented",
        n - failures.len()
    );
    assert!(
        failures.len() <= known,
        "{tag}: {} of {n} commands differ (ratchet {known})",
        failures.len()
    );
}

/// Seed 002, the ovs-advanced tutorial (L5153-5918).
#[test]
fn ovs_advanced_tutorial() {
    check(
        "pl-advanced",
        include_str!("data/pipeline_seeds/ovs_advanced.script"),
        0,
    );
}

/// Seed 002, the Faucet tutorial (L3602-4767).
#[test]
fn faucet_tutorial() {
    check(
        "pl-faucet",
        include_str!("data/pipeline_seeds/faucet.script"),
        0,
    );
}

/// Seed 000, the OpenStack br-int/br-tun learn pipeline (L1254-1300).
#[test]
fn openstack_br_tun() {
    check(
        "pl-brtun",
        include_str!("data/pipeline_seeds/openstack_br_tun.script"),
        0,
    );
}

/// Seed 004, the OVN br-int pipeline with its Geneve TLV map.
#[test]
fn ovn_br_int() {
    check(
        "pl-ovn",
        include_str!("data/pipeline_seeds/ovn_br_int.script"),
        0,
    );
}
