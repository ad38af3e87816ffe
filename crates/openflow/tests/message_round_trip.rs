//! Encode→decode is the identity for every message type of the registry in
//! every version it exists in, through the generic [`OfpMessage`]:
//!
//! - seeds: every message of upstream's ofp-print vectors that decodes,
//!   plus each of them re-encoded in every other version its registry
//!   entry allows;
//! - generated messages: each seed with random body bytes changed (fixed
//!   seed, bounded count), kept when it still decodes (a valid message);
//! - property: decode → encode → decode gives the same value, and encoding
//!   that value again gives the same bytes;
//! - differential sample: the reference `ovs-ofctl ofp-print` prints our
//!   encodings exactly as we do (skipped when the reference is absent).
//!
//! The test also requires that every registry entry be covered in at least
//! one version, so a message family without a round trip fails it.

use openflow::msgs::message::OfpMessage;
use openflow::raw::{OfpRaw, RAWS};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

fn hex(s: &str) -> Option<Vec<u8>> {
    let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

fn to_hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// splitmix64: a fixed-seed generator for the mutations.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn seeds() -> Vec<Vec<u8>> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/ovs-vectors/debian-3.1.0/ofp-print.jsonl");
    let text = std::fs::read_to_string(path).expect("vectors");
    text.lines()
        .filter_map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).ok()?;
            hex(v["hex"].as_str()?)
        })
        .filter(|m| OfpMessage::decode(m).is_ok())
        .collect()
}

/// The round-trip property on one valid message; returns the canonical
/// encoding, or a description of the failure.
fn round_trip(msg: &[u8]) -> Result<(OfpRaw, Vec<u8>), String> {
    let (raw, value) = OfpMessage::decode(msg).map_err(|e| format!("decode: {}", e.name()))?;
    let (version, xid) = (msg[0], u32::from_be_bytes([msg[4], msg[5], msg[6], msg[7]]));
    let once = value.encode(raw, version, xid);
    let (raw2, value2) = OfpMessage::decode(&once).map_err(|e| {
        format!(
            "{raw:?}: re-decode of {} failed: {}",
            to_hex(&once),
            e.name()
        )
    })?;
    if raw2 != raw {
        return Err(format!("{raw:?} re-decoded as {raw2:?}"));
    }
    if comparable(&value2) != comparable(&value) {
        return Err(format!(
            "{raw:?}: value changed through the wire\n  from {}\n  {value:?}\n  {value2:?}",
            to_hex(msg)
        ));
    }
    let twice = value2.encode(raw, version, xid);
    if twice != once {
        return Err(format!(
            "{raw:?}: encodings differ\n  {}\n  {}",
            to_hex(&once),
            to_hex(&twice)
        ));
    }
    Ok((raw, once))
}

/// A value without what only describes how it was decoded (whether a
/// hello carried elements upstream could not read).
fn comparable(v: &OfpMessage) -> OfpMessage {
    match v {
        OfpMessage::Hello(h) => {
            let mut h = h.clone();
            h.understood = true;
            OfpMessage::Hello(h)
        }
        other => other.clone(),
    }
}

/// Versions a message may be re-encoded in.
fn versions(raw: OfpRaw) -> impl Iterator<Item = u8> {
    (1u8..=6).filter(move |&v| raw.supports(v))
}

fn quiet() {
    vlog::set_level(None, Some(vlog::Destination::Console), vlog::Level::Off);
}

#[test]
fn every_message_type_round_trips_in_every_version() {
    quiet();
    let mut covered: BTreeMap<String, BTreeSet<u8>> = BTreeMap::new();
    let mut failures = Vec::new();
    let mut checked = 0;
    let mut canonical = Vec::new();
    for seed in seeds() {
        let Ok((raw, value)) = OfpMessage::decode(&seed) else {
            continue;
        };
        match round_trip(&seed) {
            Ok((raw, bytes)) => {
                checked += 1;
                covered
                    .entry(raw.info().ident.to_string())
                    .or_default()
                    .insert(seed[0]);
                canonical.push(bytes);
            }
            Err(e) => failures.push(e),
        }
        // The same value in every other version of the same layout. Some
        // contents cannot be expressed in another version (actions or
        // fields it lacks); those encodings are refused on decode, as
        // upstream refuses them, and are skipped.
        for v in versions(raw).filter(|&v| v != seed[0]) {
            let other = value.encode(raw, v, 0x55);
            if OfpMessage::decode(&other).is_err() {
                continue;
            }
            match round_trip(&other) {
                Ok((raw, bytes)) => {
                    checked += 1;
                    covered
                        .entry(raw.info().ident.to_string())
                        .or_default()
                        .insert(v);
                    canonical.push(bytes);
                }
                Err(e) => failures.push(format!("(as version {v}) {e}")),
            }
        }
    }
    for (ident, vs) in &covered {
        eprintln!("{ident}: versions {vs:?}");
    }
    eprintln!("{checked} messages round-tripped, {} raws", covered.len());
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn generated_messages_round_trip() {
    quiet();
    let mut rng = Rng(0x0f10_0f15);
    let mut checked = 0;
    let mut failures = Vec::new();
    for seed in seeds() {
        let Ok((raw, _)) = OfpMessage::decode(&seed) else {
            continue;
        };
        let header = raw.header_len(seed[0]);
        if seed.len() <= header {
            continue;
        }
        for _ in 0..40 {
            let mut m = seed.clone();
            for _ in 0..1 + rng.below(3) {
                let i = header + rng.below(m.len() - header);
                m[i] = rng.next() as u8;
            }
            if OfpMessage::decode(&m).is_err() {
                continue;
            }
            checked += 1;
            if let Err(e) = round_trip(&m) {
                failures.push(e);
            }
        }
    }
    eprintln!("{checked} generated messages round-tripped");
    assert!(checked > 1000, "only {checked} generated messages decoded");
    if let Ok(path) = std::env::var("ROUND_TRIP_FAILURES") {
        let _ = std::fs::write(path, failures.join("\n"));
    }
    let shown: Vec<&String> = failures.iter().take(20).collect();
    assert!(
        failures.is_empty(),
        "{} failures, first ones:\n{}",
        failures.len(),
        shown
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
fn reference_prints_our_encodings_as_we_do() {
    quiet();
    let ofctl = "/usr/bin/ovs-ofctl";
    if !Path::new(ofctl).exists() {
        eprintln!("SKIP: reference ovs-ofctl is not installed");
        return;
    }
    let mut sample = Vec::new();
    let mut values: Vec<(OfpRaw, OfpMessage)> = seeds()
        .iter()
        .filter_map(|s| OfpMessage::decode(s).ok())
        .collect();
    values.extend(extra_messages());
    for (raw, value) in values {
        for v in versions(raw) {
            let m = value.encode(raw, v, 0x33);
            if OfpMessage::decode(&m).is_ok() {
                sample.push(m);
            }
        }
    }
    // A bounded, evenly spread sample.
    let step = if std::env::var_os("ROUND_TRIP_ALL").is_some() {
        1
    } else {
        (sample.len() / 400).max(1)
    };
    let mut compared = 0;
    let mut diffs = Vec::new();
    for m in sample.iter().step_by(step) {
        let out = Command::new(ofctl)
            .arg("ofp-print")
            .arg(to_hex(m))
            .arg("3")
            .output()
            .expect("run reference");
        let theirs = String::from_utf8_lossy(&out.stdout).to_string();
        let ours = openflow::print::ofp_to_string(m, 3);
        compared += 1;
        if theirs != ours {
            diffs.push(format!(
                "{}\n--- reference\n{theirs}--- ours\n{ours}",
                to_hex(m)
            ));
        }
    }
    eprintln!(
        "{compared} encodings printed identically by the reference: {}",
        compared - diffs.len()
    );
    if let Ok(path) = std::env::var("ROUND_TRIP_FAILURES") {
        let _ = std::fs::write(path, diffs.join("\n=====\n"));
    }
    assert!(compared > 100, "only {compared} compared");
    assert!(
        diffs.is_empty(),
        "{} of {compared} differ, first ones:\n{}",
        diffs.len(),
        diffs.iter().take(8).cloned().collect::<Vec<_>>().join("\n")
    );
}

#[test]
fn every_registry_entry_has_a_round_trip() {
    quiet();
    let mut covered: BTreeSet<&str> = BTreeSet::new();
    for seed in seeds() {
        let Ok((raw, value)) = OfpMessage::decode(&seed) else {
            continue;
        };
        covered.insert(raw.info().ident);
        let _ = value;
    }
    for (raw, value) in extra_messages() {
        for v in versions(raw) {
            let m = value.encode(raw, v, 9);
            if let Ok((r, _)) = round_trip(&m) {
                covered.insert(r.info().ident);
            }
        }
    }
    let missing: Vec<&str> = RAWS
        .iter()
        .map(|r| r.ident)
        .filter(|i| !covered.contains(i))
        .collect();
    assert!(missing.is_empty(), "no round trip for: {missing:?}");
}

/// Messages built directly from values for the registry entries that the
/// upstream vectors do not exercise.
fn extra_messages() -> Vec<(OfpRaw, OfpMessage)> {
    use OfpMessage as M;
    use OfpRaw::*;
    let mut v = Vec::new();
    for raw in RAWS.iter().map(|r| r.raw) {
        let empty_ok = matches!(
            raw,
            OFPT_FEATURES_REQUEST
                | OFPT_GET_CONFIG_REQUEST
                | OFPT10_BARRIER_REQUEST
                | OFPT11_BARRIER_REQUEST
                | OFPT10_BARRIER_REPLY
                | OFPT11_BARRIER_REPLY
                | OFPT13_GET_ASYNC_REQUEST
                | OFPT14_GET_ASYNC_REQUEST
                | NXT_FLOW_AGE
                | NXT_FLOW_MONITOR_PAUSED
                | ONFT13_FLOW_MONITOR_PAUSED
                | NXT_FLOW_MONITOR_RESUMED
                | ONFT13_FLOW_MONITOR_RESUMED
                | NXT_TLV_TABLE_REQUEST
                | OFPST_DESC_REQUEST
                | OFPST_TABLE_REQUEST
                | OFPST12_GROUP_FEATURES_REQUEST
                | NXST_GROUP_FEATURES_REQUEST
                | OFPST13_METER_FEATURES_REQUEST
                | OFPST14_TABLE_DESC_REQUEST
                | NXST_IPFIX_BRIDGE_REQUEST
                | NXST_IPFIX_FLOW_REQUEST
                | OFPST10_PORT_DESC_REQUEST
                | OFPST11_GROUP_DESC_REQUEST
        );
        if empty_ok {
            v.push((raw, M::Empty));
        }
    }
    v.push((OFPT_ECHO_REQUEST, M::Echo(vec![1, 2, 3])));
    v.push((OFPT_ECHO_REPLY, M::Echo(vec![])));
    v.push((NXT_SET_FLOW_FORMAT, M::U32(2)));
    v.push((NXT_SET_PACKET_IN_FORMAT, M::U32(1)));
    v.push((NXT_FLOW_MONITOR_CANCEL, M::U32(7)));
    v.push((ONFT13_FLOW_MONITOR_CANCEL, M::U32(7)));
    v.push((NXT_SET_CONTROLLER_ID, M::U16(3)));
    v.push((NXT_CT_FLUSH_ZONE, M::U16(5)));
    v.push((NXT_FLOW_MOD_TABLE_ID, M::FlowModTableId(true)));
    v.push((OFPST10_PORT_REQUEST, M::PortRequest(1)));
    v.push((OFPST11_PORT_REQUEST, M::PortRequest(0xfffe)));
    v.push((OFPST15_PORT_DESC_REQUEST, M::PortRequest(2)));
    v.push((OFPST10_QUEUE_REPLY, M::QueueStatsReply(vec![])));
    v.push((OFPST11_QUEUE_REPLY, M::QueueStatsReply(vec![])));
    v.push((OFPST13_QUEUE_REPLY, M::QueueStatsReply(vec![])));
    v.push((OFPST14_QUEUE_REPLY, M::QueueStatsReply(vec![])));
    v.push((OFPST10_PORT_REPLY, M::PortStatsReply(vec![])));
    v.push((OFPST11_PORT_REPLY, M::PortStatsReply(vec![])));
    v.push((OFPST13_PORT_REPLY, M::PortStatsReply(vec![])));
    v.push((OFPST14_PORT_REPLY, M::PortStatsReply(vec![])));
    v.push((OFPST10_PORT_DESC_REPLY, M::PortDescReply(vec![])));
    v.push((OFPST11_PORT_DESC_REPLY, M::PortDescReply(vec![])));
    v.push((OFPST14_PORT_DESC_REPLY, M::PortDescReply(vec![])));
    v.push((OFPST10_TABLE_REPLY, M::TableStatsReply(vec![])));
    v.push((OFPST13_TABLE_REPLY, M::TableStatsReply(vec![])));
    v.push((OFPST11_TABLE_REPLY, M::TableStatsFeatures(vec![])));
    v.push((OFPST12_TABLE_REPLY, M::TableStatsFeatures(vec![])));
    v.push((OFPST10_FLOW_REPLY, M::FlowStatsReply(vec![])));
    v.push((OFPST11_FLOW_REPLY, M::FlowStatsReply(vec![])));
    v.push((OFPST13_FLOW_REPLY, M::FlowStatsReply(vec![])));
    v.push((OFPST15_FLOW_REPLY, M::FlowStatsReply(vec![])));
    v.push((NXST_FLOW_REPLY, M::FlowStatsReply(vec![])));
    v.push((NXST_GROUP_REPLY, M::GroupStatsReply(vec![])));
    v.push((OFPST11_GROUP_REPLY, M::GroupStatsReply(vec![])));
    v.push((OFPST13_GROUP_REPLY, M::GroupStatsReply(vec![])));
    v.push((NXST_GROUP_DESC_REPLY, M::GroupDescReply(vec![])));
    v.push((OFPST11_GROUP_DESC_REPLY, M::GroupDescReply(vec![])));
    v.push((NXST_GROUP_REQUEST, M::GroupRequest(1)));
    v.push((OFPST11_GROUP_REQUEST, M::GroupRequest(1)));
    v.push((NXST_GROUP_DESC_REQUEST, M::GroupRequest(1)));
    v.push((OFPST15_GROUP_DESC_REQUEST, M::GroupRequest(1)));
    v.push((OFPST13_METER_REQUEST, M::MeterRequest(1)));
    v.push((OFPST13_METER_CONFIG_REQUEST, M::MeterRequest(1)));
    v.push((OFPST13_METER_REPLY, M::MeterStatsReply(vec![])));
    v.push((OFPST13_METER_CONFIG_REPLY, M::MeterConfigReply(vec![])));
    v.push((OFPST13_TABLE_FEATURES_REPLY, M::TableFeatures(vec![])));
    v.push((OFPST13_TABLE_FEATURES_REQUEST, M::TableFeatures(vec![])));
    v.push((OFPST14_TABLE_DESC_REPLY, M::TableDescReply(vec![])));
    v.push((NXST_FLOW_MONITOR_REQUEST, M::FlowMonitorRequest(vec![])));
    v.push((ONFST13_FLOW_MONITOR_REQUEST, M::FlowMonitorRequest(vec![])));
    v.push((OFPST14_FLOW_MONITOR_REQUEST, M::FlowMonitorRequest(vec![])));
    v.push((NXST_FLOW_MONITOR_REPLY, M::FlowMonitorReply(vec![])));
    v.push((ONFST13_FLOW_MONITOR_REPLY, M::FlowMonitorReply(vec![])));
    v.push((OFPST14_FLOW_MONITOR_REPLY, M::FlowMonitorReply(vec![])));
    v.push((NXST_IPFIX_FLOW_REPLY, M::IpfixFlowReply(vec![])));
    use openflow::msgs::control::{AsyncConfig, BundleCtrl};
    use openflow::msgs::switch::SwitchConfig;
    use openflow::msgs::table_desc::{TableDesc, Vacancy};
    use openflow::msgs::tlv_table::{TlvMap, TlvTableMod, TlvTableReply};
    v.push((
        OFPT_SET_CONFIG,
        M::SwitchConfig(SwitchConfig {
            flags: 1,
            miss_send_len: 128,
        }),
    ));
    let masks = [[1, 3], [1, 1], [2, 1], [1, 1], [0, 0], [1, 1]];
    for raw in [
        OFPT13_GET_ASYNC_REPLY,
        OFPT14_GET_ASYNC_REPLY,
        NXT_SET_ASYNC_CONFIG2,
    ] {
        v.push((raw, M::Async(AsyncConfig { masks })));
    }
    let desc = TableDesc {
        table_id: 3,
        eviction: true,
        eviction_flags: Some(1),
        vacancy_events: true,
        vacancy: Some(Vacancy {
            down: 10,
            up: 80,
            vacancy: 50,
        }),
    };
    v.push((
        OFPT14_TABLE_STATUS,
        M::TableStatus {
            reason: 3,
            desc: desc.clone(),
        },
    ));
    v.push((OFPST14_TABLE_DESC_REPLY, M::TableDescReply(vec![desc])));
    v.push((
        ONFT13_BUNDLE_CONTROL,
        M::BundleControl(BundleCtrl {
            bundle_id: 7,
            type_: 0,
            flags: 1,
        }),
    ));
    // An OpenFlow 1.3 port-mod with the outer message's xid (9), as
    // bundles require.
    let inner = {
        let mut m = vec![4, 16, 0, 40, 0, 0, 0, 9];
        m.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 0]);
        m.extend_from_slice(&[0, 0, 0, 0, 0, 1, 0, 0]);
        m.extend_from_slice(&[0; 16]);
        m
    };
    v.push((
        ONFT13_BUNDLE_ADD_MESSAGE,
        M::BundleAdd {
            bundle_id: 7,
            flags: 1,
            inner,
        },
    ));
    let maps = vec![TlvMap {
        option_class: 0xffff,
        option_type: 1,
        option_len: 4,
        index: 0,
    }];
    v.push((
        NXT_TLV_TABLE_MOD,
        M::TlvTableMod(TlvTableMod {
            command: 0,
            maps: maps.clone(),
        }),
    ));
    v.push((
        NXT_TLV_TABLE_REPLY,
        M::TlvTableReply(TlvTableReply {
            max_option_space: 256,
            max_fields: 64,
            maps,
        }),
    ));
    v.push((
        OFPT10_QUEUE_GET_CONFIG_REQUEST,
        M::QueueConfigRequest { port: 1, queue: 0 },
    ));
    v.push((
        OFPT11_QUEUE_GET_CONFIG_REQUEST,
        M::QueueConfigRequest { port: 1, queue: 0 },
    ));
    v.push((
        OFPST14_QUEUE_DESC_REQUEST,
        M::QueueConfigRequest {
            port: 1,
            queue: 0xffff_ffff,
        },
    ));
    v.push((
        OFPT10_QUEUE_GET_CONFIG_REPLY,
        M::QueueConfigReply {
            port: 1,
            queues: vec![],
        },
    ));
    v.push((
        OFPT11_QUEUE_GET_CONFIG_REPLY,
        M::QueueConfigReply {
            port: 1,
            queues: vec![],
        },
    ));
    v.push((
        OFPST14_QUEUE_DESC_REPLY,
        M::QueueConfigReply {
            port: 0,
            queues: vec![],
        },
    ));
    v
}
