//! The flows of the OF1.0 packet-ins among the ofp-print conformance
//! vectors: extracting the packet and printing its flow key with
//! `format_flow` gives the line ovs-ofctl printed.

use flow::matches::format_flow;
use packet::extract::{extract, Metadata};
use serde_json::Value;
use std::path::PathBuf;

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len() / 2)
        .filter_map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).ok())
        .collect()
}

#[test]
fn packet_in_flow_lines() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/ovs-vectors/debian-3.1.0/ofp-print.jsonl");
    let text = std::fs::read_to_string(path).expect("vectors");
    let mut n = 0;
    for line in text.lines() {
        let v: Value = serde_json::from_str(line).expect("json");
        let hex = v["hex"].as_str().unwrap_or("");
        let out = v["expect_stdout"].as_str().unwrap_or("");
        // OF1.0 OFPT_PACKET_IN: 18-byte fixed part, then the frame.
        if !hex.starts_with("010a") || !out.starts_with("OFPT_PACKET_IN") {
            continue;
        }
        let bytes = unhex(hex);
        let Some(frame) = bytes.get(18..) else {
            continue;
        };
        let Some(flow_line) = out.lines().nth(1) else {
            continue;
        };
        let expected = flow_line.split(' ').next().unwrap_or("");
        let flow = extract(frame, &Metadata::default());
        assert_eq!(format_flow(&flow, None), expected, "{}", v["id"]);
        n += 1;
    }
    assert!(n >= 2, "only {n} packet-ins found");
    eprintln!("{n} packet-in flows match");
}
