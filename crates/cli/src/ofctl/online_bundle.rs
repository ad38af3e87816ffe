//! Bundles: `--bundle` flow and group modifications and the `bundle`
//! command. A bundle is opened, the messages are added (each keeping its
//! own xid), a barrier collects the switch's errors, and the bundle is
//! committed; every error is reported as `Error NAME for: MESSAGE` on
//! stderr, as upstream's `vconn_bundle_transact` does.

use super::online::{io_fatal, ports_to_accept, tables_to_accept};
use super::online_flows::{open_for_flow_mod, parse_flow};
use super::options::Options;
use super::{CmdResult, Fatal};
use flow::flow_str::{FlowStrKind, ParsedFlowMod};
use flow::Protocols;
use openflow::errors::decode_error_body;
use openflow::msgs::control::BundleCtrl;
use openflow::msgs::flow_mod::FlowMod;
use openflow::protocol::encode_flow_mod;
use openflow::raw::{decode_raw, finish, start, OfpRaw};
use openflow::vconn::{alloc_xid, xid_of, Vconn, VconnError};
use openflow::version::OfpVersion;
use std::collections::HashSet;

const OPEN_REQUEST: u16 = 0;
const OPEN_REPLY: u16 = 1;
const COMMIT_REQUEST: u16 = 4;
const COMMIT_REPLY: u16 = 5;
/// `OFPBF_ATOMIC | OFPBF_ORDERED`.
pub const ATOMIC_ORDERED: u16 = 3;

fn ctrl_request(version: u8, type_: u16, flags: u16) -> Vec<u8> {
    let raw = if version >= 5 {
        OfpRaw::OFPT14_BUNDLE_CONTROL
    } else {
        OfpRaw::ONFT13_BUNDLE_CONTROL
    };
    let mut m = start(raw, version, alloc_xid());
    BundleCtrl {
        bundle_id: 0,
        type_,
        flags,
    }
    .encode_body(&mut m);
    finish(m)
}

fn add_message(version: u8, flags: u16, inner: &[u8]) -> Vec<u8> {
    use openflow::wire::Put;
    let raw = if version >= 5 {
        OfpRaw::OFPT14_BUNDLE_ADD_MESSAGE
    } else {
        OfpRaw::ONFT13_BUNDLE_ADD_MESSAGE
    };
    let mut m = start(raw, version, xid_of(inner));
    m.put_u32(0);
    m.put_u16(0);
    m.put_u16(flags);
    m.extend_from_slice(inner);
    finish(m)
}

/// Prints `Error NAME for: MESSAGE` for an error reply: the request with
/// the error's xid among `requests` (the message inside the bundle), or
/// else what the error carries.
fn report_error(opts: &Options, msg: &[u8], requests: &[Vec<u8>]) {
    let version = OfpVersion::from_wire(msg[0]).unwrap_or(OfpVersion::Of10);
    let Some(em) = decode_error_body(version, &msg[8..]) else {
        return;
    };
    let xid = xid_of(msg);
    let shown = requests
        .iter()
        .find(|r| xid_of(r) == xid)
        .map_or(em.payload, Vec::as_slice);
    eprint!(
        "Error {} for: {}",
        em.error.name(),
        openflow::print::ofp_to_string(shown, opts.verbosity + 1)
    );
}

fn is_error(msg: &[u8]) -> bool {
    decode_raw(msg) == Ok(OfpRaw::OFPT_ERROR)
}

/// Receives the reply with `xid`, reporting errors with other xids.
fn recv_reporting(
    opts: &Options,
    v: &mut Vconn,
    xid: u32,
    requests: &[Vec<u8>],
) -> Result<Vec<u8>, VconnError> {
    loop {
        let msg = v.recv()?;
        if xid_of(&msg) == xid {
            return Ok(msg);
        }
        if is_error(&msg) {
            report_error(opts, &msg, requests);
        }
    }
}

fn control_transact(
    opts: &Options,
    v: &mut Vconn,
    type_: u16,
    flags: u16,
    expect: u16,
    requests: &[Vec<u8>],
) -> Result<(), VconnError> {
    let req = ctrl_request(v.version(), type_, flags);
    v.send(&req)?;
    let reply = recv_reporting(opts, v, xid_of(&req), requests)?;
    if is_error(&reply) {
        report_error(opts, &reply, std::slice::from_ref(&req));
        return Err(VconnError::Errno(libc::EPROTO));
    }
    let raw = decode_raw(&reply).map_err(|_| VconnError::Errno(libc::EPROTO))?;
    let body = &reply[raw.header_len(reply[0])..];
    match BundleCtrl::decode(body) {
        Ok(bc) if bc.type_ == expect && bc.bundle_id == 0 => Ok(()),
        _ => Err(VconnError::Errno(libc::EPROTO)),
    }
}

/// Opens a bundle, adds `requests`, and commits it (upstream's
/// `vconn_bundle_transact`).
pub fn bundle_transact(
    opts: &Options,
    v: &mut Vconn,
    requests: &[Vec<u8>],
    flags: u16,
) -> Result<(), VconnError> {
    control_transact(opts, v, OPEN_REQUEST, flags, OPEN_REPLY, requests)?;
    for r in requests {
        v.send(&add_message(v.version(), flags, r))?;
    }
    let barrier = v.barrier_request();
    v.send(&barrier)?;
    let _ = recv_reporting(opts, v, xid_of(&barrier), requests)?;
    control_transact(opts, v, COMMIT_REQUEST, flags, COMMIT_REPLY, requests)
}

/// Runs a bundle on `v`: `talking to NAME (ERROR)` when it fails.
pub fn run_bundle(opts: &Options, v: &mut Vconn, requests: &[Vec<u8>]) -> CmdResult {
    let name = v.name().to_string();
    bundle_transact(opts, v, requests, ATOMIC_ORDERED)
        .map_err(|e| io_fatal(&format!("talking to {name}"), e))
}

/// `--bundle` flow mods: all of them in one atomic, ordered bundle.
pub fn bundle_flow_mods(
    opts: &Options,
    name: &str,
    fms: &[ParsedFlowMod],
    usable: Protocols,
) -> CmdResult {
    let (mut v, protocol) = open_for_flow_mod(opts, name, usable)?;
    let requests: Vec<Vec<u8>> = fms
        .iter()
        .map(|fm| encode_flow_mod(&FlowMod::from(fm), protocol, alloc_xid()))
        .collect();
    run_bundle(opts, &mut v, &requests)
}

/// `bundle SWITCH FILE`: flow and group modifications, one per line
/// (`flow ...` or `group ...`, each with an optional command word), in one
/// atomic, ordered bundle.
pub fn bundle(opts: &Options, args: &[String]) -> CmdResult {
    enum Entry {
        Flow(ParsedFlowMod),
        Group(super::online_groups::GroupModText),
    }
    let name = &args[0];
    let tables = tables_to_accept(opts, name)?;
    let ports = ports_to_accept(opts, name)?;
    let text = super::online_flows::read_text(&args[1])?;
    let mut seen = HashSet::new();
    let mut entries = Vec::new();
    let mut usable = Protocols::ANY;
    for (n, line) in flow::flow_str::preprocessed_lines(&text) {
        let line = line.trim_start();
        let (kw, rest) = line
            .split_once(|c: char| c == ' ' || c == '\t')
            .unwrap_or((line, ""));
        let entry = match kw {
            "flow" => {
                let fm = parse_flow(
                    rest,
                    FlowStrKind::FlowModAnyCommand,
                    ports.as_ref(),
                    tables.as_ref(),
                    &mut seen,
                )
                .map_err(|e| Fatal(format!("{}:{n}: {e}", args[1])))?;
                usable &= fm.usable_protocols;
                Entry::Flow(fm)
            }
            "group" => {
                let g = super::online_groups::parse_group_line(rest, ports.as_ref())
                    .map_err(|e| Fatal(format!("{}:{n}: {e}", args[1])))?;
                usable &= g.usable;
                Entry::Group(g)
            }
            _ => {
                return Err(Fatal(format!(
                    "{}:{n}: Unknown bundle message type",
                    args[1]
                )))
            }
        };
        entries.push(entry);
    }
    let (mut v, protocol) = open_for_flow_mod(opts, name, usable)?;
    let version = v.version();
    let requests = entries
        .iter()
        .map(|e| match e {
            Entry::Flow(fm) => Ok(encode_flow_mod(&FlowMod::from(fm), protocol, alloc_xid())),
            Entry::Group(g) => g.encode(version),
        })
        .collect::<Result<Vec<_>, Fatal>>()?;
    run_bundle(opts, &mut v, &requests)
}
