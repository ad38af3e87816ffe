//! `packet-out`: sending a packet through the switch's pipeline, in the
//! one-argument syntax (`in_port=PORT packet=HEX [FIELD=VALUE...]
//! actions=...`) and the old one (`IN_PORT ACTIONS PACKET...`).

use super::flow_cmd::log_warnings;
use super::online::{port_from_arg, ports_to_accept, tables_to_accept, transact_noreply};
use super::online_flows::open_for_flow_mod;
use super::options::Options;
use super::{CmdResult, Fatal};
use flow::field::FieldId;
use flow::key_value::next_pair;
use flow::port::PortMap;
use flow::{Match, Protocols};
use openflow::msgs::packet_out::PacketOut;
use openflow::raw::{finish, start, OfpRaw};
use openflow::vconn::alloc_xid;
use std::collections::HashSet;

const OFPP_MAX: u32 = 0xff00;
const OFPP_LOCAL: u32 = 0xfffe;
const OFPP_NONE: u32 = 0xffff;
const OFPP_CONTROLLER: u32 = 0xfffd;

/// Upstream's `eth_from_hex`.
fn eth_from_hex(s: &str) -> Result<Vec<u8>, &'static str> {
    let data = flow::actions::cmd::parse_hex(s).ok_or("Trailing garbage in packet data")?;
    if data.len() < 14 {
        return Err("Packet data too short for Ethernet");
    }
    Ok(data)
}

fn set_in_port(m: &mut Match, port: u32) {
    let mut v = flow::MfValue::zero(FieldId::InPort.def().n_bytes);
    let b = v.as_bytes_mut();
    let n = b.len();
    b[n - 2..].copy_from_slice(&(port as u16).to_be_bytes());
    m.set_field(FieldId::InPort, &v);
}

/// A parsed packet-out and the protocols able to carry it.
struct ParsedPacketOut {
    po: PacketOut,
    usable: Protocols,
}

/// Upstream's `parse_ofp_packet_out_str`.
fn parse_packet_out(text: &str, ports: Option<&PortMap>) -> Result<ParsedPacketOut, String> {
    let mut usable = Protocols::ANY;
    let mut metadata = Match::catchall();
    set_in_port(&mut metadata, OFPP_CONTROLLER);
    let (head, acts) = match text.find("actions") {
        Some(i) => {
            let after = &text[i + "actions".len()..];
            let after = after.trim_start_matches([' ', '\t']);
            match after.strip_prefix(['=', ':']) {
                Some(a) => (&text[..i], a),
                None => (text, ""),
            }
        }
        None => (text, ""),
    };
    let mut packet: Option<Vec<u8>> = None;
    let mut rest = head;
    while let Some((name, value)) = next_pair(&mut rest) {
        if value.is_empty() {
            return Err(format!("field {name} missing value"));
        }
        match name {
            "in_port" => {
                let (port, warning) = flow::port::parse_port_logged(value, ports);
                if let Some(w) = warning {
                    vlog::warn!(w.module, "{}", w.text);
                }
                let Some(port) = port else {
                    return Err(format!("{value} is not a valid OpenFlow port"));
                };
                if port > OFPP_MAX
                    && port != OFPP_LOCAL
                    && port != OFPP_NONE
                    && port != OFPP_CONTROLLER
                {
                    return Err(format!(
                        "{value} is not a valid OpenFlow port for PACKET_OUT"
                    ));
                }
                set_in_port(&mut metadata, port);
            }
            "packet" => {
                packet = Some(eth_from_hex(value).map_err(|e| format!("{name}: {e}"))?);
            }
            _ => {
                let Some(field) = FieldId::from_field_name(name) else {
                    return Err(format!("unknown keyword {name}"));
                };
                let mut warnings = Vec::new();
                let r = flow::flow_str::parse_field_into(
                    &mut metadata,
                    field,
                    value,
                    ports,
                    &mut warnings,
                );
                log_warnings(&warnings, &mut HashSet::new());
                usable &= r?;
                if !openflow::nx_match::is_pipeline_field(field) {
                    return Err(format!(
                        "{name} is not a valid pipeline field for PACKET_OUT"
                    ));
                }
            }
        }
    }
    let Some(data) = packet.filter(|p| !p.is_empty()) else {
        return Err("must specify packet".into());
    };
    let mut warnings = Vec::new();
    let parsed = flow::actions::parse_actions(acts, ports, &mut warnings);
    log_warnings(&warnings, &mut HashSet::new());
    let parsed = parsed?;
    usable &= parsed.usable_protocols;
    Ok(ParsedPacketOut {
        po: PacketOut {
            metadata,
            buffer_id: u32::MAX,
            actions: parsed.actions,
            data,
        },
        usable,
    })
}

fn encode(po: &PacketOut, version: u8) -> Vec<u8> {
    let raw = match version {
        1 => OfpRaw::OFPT10_PACKET_OUT,
        2..=5 => OfpRaw::OFPT11_PACKET_OUT,
        _ => OfpRaw::OFPT15_PACKET_OUT,
    };
    let mut m = start(raw, version, alloc_xid());
    po.encode_body(version, &mut m);
    finish(m)
}

/// `packet-out SWITCH "in_port=PORT packet=HEX actions=..."` or
/// `packet-out SWITCH IN_PORT ACTIONS PACKET...`
pub fn packet_out(opts: &Options, args: &[String]) -> CmdResult {
    let name = &args[0];
    match args.len() {
        2 => {
            let tables = tables_to_accept(opts, name)?;
            let ports = ports_to_accept(opts, name)?;
            let _ = tables;
            let p = parse_packet_out(&args[1], ports.as_ref()).map_err(Fatal)?;
            let (mut v, _) = open_for_flow_mod(opts, name, p.usable)?;
            let msg = encode(&p.po, v.version());
            transact_noreply(opts, &mut v, &[msg])
        }
        3 => Err(Fatal("Too many arguments (4)".into())),
        _ => {
            let tables = tables_to_accept(opts, name)?;
            let ports = ports_to_accept(opts, name)?;
            let _ = tables;
            let mut warnings = Vec::new();
            let parsed = flow::actions::parse_actions(&args[2], ports.as_ref(), &mut warnings);
            log_warnings(&warnings, &mut HashSet::new());
            let parsed = parsed.map_err(Fatal)?;
            let in_port = port_from_arg(opts, name, &args[1])?;
            let mut metadata = Match::catchall();
            set_in_port(&mut metadata, in_port);
            let (mut v, _) = open_for_flow_mod(opts, name, parsed.usable_protocols)?;
            for hex in &args[3..] {
                let data = eth_from_hex(hex).map_err(|e| Fatal(e.to_string()))?;
                let po = PacketOut {
                    metadata: metadata.clone(),
                    buffer_id: u32::MAX,
                    actions: parsed.actions.clone(),
                    data,
                };
                let msg = encode(&po, v.version());
                transact_noreply(opts, &mut v, &[msg])?;
            }
            Ok(())
        }
    }
}

/// Encodes a one-argument packet-out text for `version` (the monitor's
/// `ofctl/packet-out`).
pub fn encode_packet_out_text(
    text: &str,
    version: u8,
    ports: Option<&PortMap>,
) -> Result<Vec<u8>, String> {
    let p = parse_packet_out(text, ports)?;
    let protocol = openflow::protocol::protocols_from_version(version);
    if (p.usable & protocol).is_empty() {
        return Err("PACKET_OUT actions are incompatible with the OpenFlow connection.".into());
    }
    Ok(encode(&p.po, version))
}
