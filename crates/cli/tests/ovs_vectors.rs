//! Replays the upstream OVS 3.1 conformance vectors (tests/ovs-vectors) through
//! our `ovs-ofctl` personality and fails when a vector listed in
//! `tests/ovs-vectors/passing.txt` no longer passes (a ratchet: the list only
//! grows). Set `FERROVS_UPDATE_VECTORS=1` to rewrite the list from this run.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn baseline_path() -> PathBuf {
    repo().join("tests/ovs-vectors/passing.txt")
}

fn all_ids(family: &str) -> Vec<String> {
    let path = repo().join(format!("tests/ovs-vectors/debian-3.1.0/{family}.jsonl"));
    std::fs::read_to_string(path)
        .expect("vector file")
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("vector json");
            v["id"].as_str().expect("id").to_string()
        })
        .collect()
}

fn replay(family: &str) {
    if Command::new("python3").arg("--version").output().is_err() {
        eprintln!("SKIP: python3 is not installed");
        return;
    }
    let tmp = std::env::temp_dir().join(format!("ferrovs-vectors-{family}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).unwrap();
    let exe = env!("CARGO_BIN_EXE_ferrovs");
    let st = Command::new(exe)
        .arg("install-links")
        .arg(tmp.join("bin"))
        .status()
        .unwrap();
    assert!(st.success());
    let failures = tmp.join("failures.jsonl");
    let out = Command::new("python3")
        .arg(repo().join("scripts/replay_ovs_vectors.py"))
        .arg("--ofctl")
        .arg(tmp.join("bin/ovs-ofctl"))
        .arg("--vectors")
        .arg(repo().join("tests/ovs-vectors/debian-3.1.0"))
        .arg("--families")
        .arg(family)
        .arg("--failures")
        .arg(&failures)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "replay failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let failed: BTreeSet<String> = std::fs::read_to_string(&failures)
        .unwrap_or_default()
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            v["id"].as_str().unwrap().to_string()
        })
        .collect();
    let ids = all_ids(family);
    let passing: BTreeSet<String> = ids
        .iter()
        .filter(|i| !failed.contains(*i))
        .cloned()
        .collect();
    eprintln!(
        "{family}: {}/{} pass ({:.1}%)",
        passing.len(),
        ids.len(),
        100.0 * passing.len() as f64 / ids.len() as f64
    );
    let base_text = std::fs::read_to_string(baseline_path()).unwrap_or_default();
    let prefix = format!("{family}-");
    let baseline: BTreeSet<String> = base_text
        .lines()
        .filter(|l| l.starts_with(&prefix))
        .map(str::to_string)
        .collect();
    if std::env::var_os("FERROVS_UPDATE_VECTORS").is_some() {
        let mut lines: BTreeSet<String> = base_text
            .lines()
            .filter(|l| !l.starts_with(&prefix) && !l.is_empty())
            .map(str::to_string)
            .collect();
        lines.extend(passing.iter().cloned());
        let mut text = lines.into_iter().collect::<Vec<_>>().join("\n");
        text.push('\n');
        std::fs::write(baseline_path(), text).unwrap();
    }
    let regressed: Vec<&String> = baseline.iter().filter(|i| !passing.contains(*i)).collect();
    let _ = std::fs::remove_dir_all(&tmp);
    assert!(
        regressed.is_empty(),
        "{} {family} vectors regressed: {:?}",
        regressed.len(),
        regressed
    );
}

#[test]
fn ofp_print() {
    replay("ofp-print");
}

#[test]
fn ofp_actions() {
    replay("ofp-actions");
}

#[test]
fn flow_parse() {
    replay("flow-parse");
}

#[test]
fn ofctl_offline() {
    replay("ofctl-offline");
}
