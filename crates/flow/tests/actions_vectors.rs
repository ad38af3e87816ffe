//! Upstream conformance vectors for actions, replayed through the library:
//! `ofp-actions.jsonl` (parse-actions/parse-instructions: decode, print,
//! re-encode) exactly, and the actions part of the `flow-parse.jsonl`
//! flows (parse, check against the match, encode and decode in the chosen
//! protocol's version, print) or their error message.

use std::path::PathBuf;

use flow::actions::cmd::run_parse_actions;
use flow::actions::{
    decode_instructions, encode_instructions, format_actions, parse_flow_actions, OfpVersion,
};
use flow::flow_str::{parse_ofp_str_with_warnings, FlowModCommand, FlowStrKind};

fn vectors(family: &str) -> Vec<serde_json::Value> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/ovs-vectors/debian-3.1.0")
        .join(format!("{family}.jsonl"));
    std::fs::read_to_string(path)
        .expect("vector file")
        .lines()
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect()
}

#[test]
fn ofp_actions_vectors() {
    let mut failures = Vec::new();
    for v in vectors("ofp-actions") {
        let hex = v["hex"].as_str().unwrap_or("");
        let mut input = std::io::Cursor::new(format!("{hex}\n"));
        let mut out = Vec::new();
        let instructions = v["kind"] == "instructions";
        let r = run_parse_actions(v["of_version"].as_str(), instructions, &mut input, &mut out);
        let got = String::from_utf8_lossy(&out);
        if r.is_err() || got != v["expect_stdout"].as_str().unwrap_or("") {
            failures.push(format!("{}: {got:?}", v["id"]));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn version_of(chosen: &str) -> Option<OfpVersion> {
    let c = chosen.trim_start_matches("OXM-");
    if c.starts_with("OpenFlow10") || c.starts_with("NXM") {
        Some(OfpVersion::Of10)
    } else {
        OfpVersion::ALL
            .into_iter()
            .find(|v| c.starts_with(v.name()))
    }
}

/// Our actions text for `flow` after a round trip in `version`, or the error.
fn ours(flow: &str, version: OfpVersion) -> Result<String, String> {
    let mut warnings = Vec::new();
    let fm = parse_ofp_str_with_warnings(
        flow,
        FlowStrKind::FlowMod(FlowModCommand::Add),
        None,
        &mut warnings,
    )?;
    let mut usable = fm.usable_protocols;
    let text = fm.actions.clone().unwrap_or_default();
    let acts = parse_flow_actions(
        &text,
        &fm.match_,
        fm.table_id,
        None,
        &mut warnings,
        &mut usable,
    )?;
    let bytes = encode_instructions(&acts, version);
    let back = decode_instructions(&bytes, version).map_err(|e| e.name().to_string())?;
    Ok(format_actions(&back))
}

fn actions_part(line: &str) -> Option<&str> {
    line.find(" actions=").map(|i| &line[i + 9..])
}

#[test]
fn flow_parse_vectors_actions() {
    let mut pass = 0;
    let mut failures = Vec::new();
    for v in vectors("flow-parse") {
        let id = v["id"].as_str().unwrap_or("").to_string();
        let opts = v["opts"].as_array().map(|a| a.len()).unwrap_or(0);
        if opts != 0 && v["kind"] == "parse-flow" {
            continue;
        }
        let input = v["input"].as_str().unwrap_or("");
        let (want, version) = match v["kind"].as_str() {
            Some("parse-flow") => {
                let stdout = v["expect_stdout"].as_str().unwrap_or("");
                let stderr = v["expect_stderr"].as_str().unwrap_or("");
                if v["expect_status"] == 1 {
                    let msg = stderr
                        .lines()
                        .find_map(|l| l.strip_prefix("ovs-ofctl: "))
                        .unwrap_or("");
                    if msg.is_empty() || msg.contains("no usable protocol") {
                        continue;
                    }
                    (Err(msg.to_string()), OfpVersion::Of10)
                } else {
                    let chosen = stdout
                        .lines()
                        .find_map(|l| l.strip_prefix("chosen protocol: "))
                        .and_then(version_of);
                    let line = stdout.lines().find(|l| l.contains(" actions="));
                    match (chosen, line.and_then(actions_part)) {
                        (Some(ver), Some(a)) if !a.contains("***") => (Ok(a.to_string()), ver),
                        _ => continue,
                    }
                }
            }
            Some("parse-flows-pair") => {
                let Some(ver) = v["chosen_protocol"].as_str().and_then(version_of) else {
                    continue;
                };
                let line = v["expect_line"].as_str().unwrap_or("");
                match actions_part(line) {
                    Some(a) => (Ok(a.to_string()), ver),
                    None => continue,
                }
            }
            _ => continue,
        };
        let got = ours(input, version);
        let ok = match (&want, &got) {
            (Ok(a), Ok(b)) => a == b,
            (Err(a), Err(b)) => a == b,
            _ => false,
        };
        if ok {
            pass += 1;
        } else {
            failures.push(format!("{id} {input}\n  want {want:?}\n  got  {got:?}"));
        }
    }
    eprintln!(
        "flow-parse actions: {pass} agree, {} differ",
        failures.len()
    );
    for f in &failures {
        eprintln!("{f}");
    }
    // A ratchet: raise it as coverage grows.
    assert!(
        failures.len() <= MAX_DIFFERENCES,
        "{} differences",
        failures.len()
    );
}

const MAX_DIFFERENCES: usize = 0;
