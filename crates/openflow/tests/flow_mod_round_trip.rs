//! Encode→decode→encode is the identity for flow_mods in every protocol
//! variant (OpenFlow 1.0 with and without table ids, NXM, OpenFlow 1.1 and
//! OXM 1.2–1.5): every flow of upstream's parse-flow vectors that parses is
//! encoded in each variant it can use, decoded, and re-encoded, and the bytes
//! must be equal.

use flow::flow_str::{parse_ofp_str, FlowModCommand, FlowStrKind};
use flow::Protocols;
use openflow::msgs::flow_mod::{FlowMod, FlowModForm};
use openflow::protocol::{encode_flow_mod, protocol_version};
use std::path::Path;

fn corpus() -> Vec<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/ovs-vectors/debian-3.1.0/flow-parse.jsonl");
    let text = std::fs::read_to_string(path).expect("vectors");
    text.lines()
        .filter_map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).ok()?;
            let input = v["input"].as_str()?;
            (v["kind"] == "parse-flow" || v["kind"] == "parse-flows-pair")
                .then(|| input.to_string())
        })
        .collect()
}

fn form_of(p: Protocols) -> FlowModForm {
    if p == Protocols::OF10_STD || p == Protocols::OF10_STD_TID {
        FlowModForm::Of10
    } else if p == Protocols::OF10_NXM || p == Protocols::OF10_NXM_TID {
        FlowModForm::Nx
    } else {
        FlowModForm::Of11
    }
}

#[test]
fn flow_mods_survive_the_wire_in_every_variant() {
    vlog::set_level(None, Some(vlog::Destination::Console), vlog::Level::Off);
    let mut checked = 0;
    for text in corpus() {
        let Ok(parsed) = parse_ofp_str(&text, FlowStrKind::FlowMod(FlowModCommand::Add), None)
        else {
            continue;
        };
        let fm = FlowMod::from(&parsed);
        for p in parsed.usable_protocols.iter() {
            let wire = encode_flow_mod(&fm, p, 1);
            let version = protocol_version(p);
            let header_len = if form_of(p) == FlowModForm::Nx { 16 } else { 8 };
            let decoded = FlowMod::decode(form_of(p), version, &wire[header_len..])
                .unwrap_or_else(|e| panic!("{text} in {p}: decode failed: {}", e.name()));
            let again = encode_flow_mod(&decoded, p, 1);
            assert_eq!(wire, again, "{text} in {p}: re-encoding differs");
            checked += 1;
        }
    }
    assert!(checked > 500, "only {checked} encodings checked");
    eprintln!("{checked} flow_mod encodings round-tripped");
}
