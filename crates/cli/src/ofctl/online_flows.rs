//! Online flow-table commands: `dump-flows`, `dump-aggregate`, `add-flow`,
//! `add-flows`, `mod-flows`, `del-flows`, with upstream's flow-format
//! negotiation (`NXT_SET_FLOW_FORMAT`, `NXT_FLOW_MOD_TABLE_ID`) and its
//! errors when no usable format is allowed or the switch refuses them.

use super::flow_cmd::log_warnings;
use super::online::{
    base_protocol, collect_transaction, dump_transaction, io_fatal, open_vconn, ports_to_accept,
    ports_to_show, should_show_names, tables_to_accept, tables_to_show, transact_noreply,
};
use super::options::Options;
use super::protocols::allowed_protocols;
use super::{CmdResult, Fatal};
use flow::flow_str::{parse_ofp_str_with_maps, FlowModCommand, FlowStrKind, ParsedFlowMod};
use flow::port::PortMap;
use flow::Protocols;
use openflow::msgs::flow::{FlowStatsRequest, StatsRequestForm};
use openflow::msgs::flow_mod::{FlowMod, FlowStats, FlowStatsForm};
use openflow::nx_match::{put_nxm_cookie, NxmCookie};
use openflow::protocol::{encode_flow_mod, protocol_version};
use openflow::raw::{decode_raw, finish, start, OfpRaw};
use openflow::vconn::{alloc_xid, Vconn};
use openflow::wire::Put;
use std::collections::HashSet;

/// Parses one flow description of `kind`, logging upstream's warnings and
/// normalizing the match as upstream does.
pub fn parse_flow(
    text: &str,
    kind: FlowStrKind,
    ports: Option<&PortMap>,
    tables: Option<&PortMap>,
    seen: &mut HashSet<&'static str>,
) -> Result<ParsedFlowMod, String> {
    let mut warnings = Vec::new();
    let r = parse_ofp_str_with_maps(text, kind, ports, tables, &mut warnings);
    log_warnings(&warnings, seen);
    let mut fm = r?;
    if let Some((pre, post)) = fm.match_.normalize() {
        vlog::info!("ofp_match", "normalization changed ofp_match, details:");
        vlog::info!("ofp_match", " pre: {}", pre);
        vlog::info!("ofp_match", "post: {}", post);
    }
    Ok(fm)
}

/// Reads a flow file ("-" for stdin).
pub fn read_text(name: &str) -> Result<String, Fatal> {
    if name == "-" {
        let mut t = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut t)
            .map_err(|e| Fatal(format!("{name}: read failed ({e})")))?;
        return Ok(t);
    }
    std::fs::read_to_string(name).map_err(|e| {
        Fatal(format!(
            "{name}: open failed ({})",
            rpc::errno::io_error_text(&e)
        ))
    })
}

/// Parses every flow of a flow file: `FILE:LINE: error` on failure.
pub fn parse_flow_file(
    name: &str,
    kind: FlowStrKind,
    ports: Option<&PortMap>,
    tables: Option<&PortMap>,
) -> Result<(Vec<ParsedFlowMod>, Protocols), Fatal> {
    let text = read_text(name)?;
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    let mut usable = Protocols::ANY;
    for (n, line) in flow::flow_str::preprocessed_lines(&text) {
        let fm = parse_flow(line, kind, ports, tables, &mut seen)
            .map_err(|e| Fatal(format!("{name}:{n}: {e}")))?;
        usable &= fm.usable_protocols;
        out.push(fm);
    }
    Ok((out, usable))
}

/// The message that moves a connection from protocol `cur` one step
/// towards `want` (same version), and the protocol after it.
fn set_protocol_step(cur: Protocols, want: Protocols, version: u8) -> Option<(Vec<u8>, Protocols)> {
    if protocol_version(cur) != protocol_version(want) {
        return None;
    }
    let nxm = |p: Protocols| !(p & Protocols::OF10_NXM_ANY).is_empty();
    let tid = |p: Protocols| !(p & (Protocols::OF10_STD_TID | Protocols::OF10_NXM_TID)).is_empty();
    if version != 1 {
        return None;
    }
    if nxm(cur) != nxm(want) {
        let next = match (nxm(want), tid(cur)) {
            (true, false) => Protocols::OF10_NXM,
            (true, true) => Protocols::OF10_NXM_TID,
            (false, false) => Protocols::OF10_STD,
            (false, true) => Protocols::OF10_STD_TID,
        };
        let mut m = start(OfpRaw::NXT_SET_FLOW_FORMAT, version, alloc_xid());
        m.put_u32(if nxm(want) { 2 } else { 0 });
        return Some((finish(m), next));
    }
    if tid(cur) != tid(want) {
        let next = match (nxm(cur), tid(want)) {
            (true, true) => Protocols::OF10_NXM_TID,
            (true, false) => Protocols::OF10_NXM,
            (false, true) => Protocols::OF10_STD_TID,
            (false, false) => Protocols::OF10_STD,
        };
        let mut m = start(OfpRaw::NXT_FLOW_MOD_TABLE_ID, version, alloc_xid());
        m.put_u8(u8::from(tid(want)));
        m.put_zeros(7);
        return Some((finish(m), next));
    }
    None
}

/// Moves the connection to protocol `want` if the switch agrees
/// (upstream's `try_set_protocol`).
fn try_set_protocol(v: &mut Vconn, want: Protocols, cur: &mut Protocols) -> Result<bool, Fatal> {
    loop {
        if *cur == want {
            return Ok(true);
        }
        let Some((req, next)) = set_protocol_step(*cur, want, v.version()) else {
            return Ok(*cur == want);
        };
        let name = v.name().to_string();
        let reply = v
            .transact_noreply(&req)
            .map_err(|e| io_fatal(&format!("talking to {name}"), e))?;
        if let Some(reply) = reply {
            vlog::dbg!(
                "ofctl",
                "{}: failed to set protocol, switch replied: {}",
                name,
                openflow::print::ofp_to_string(&reply, 2)
            );
            return Ok(false);
        }
        *cur = next;
    }
}

/// Flow dumps prefer the newest format.
const FLOW_DUMP_PROTOCOLS: [Protocols; 7] = [
    Protocols::OF15_OXM,
    Protocols::OF14_OXM,
    Protocols::OF13_OXM,
    Protocols::OF12_OXM,
    Protocols::OF11_STD,
    Protocols::OF10_NXM,
    Protocols::OF10_STD,
];

/// Settles the protocol for a flow statistics request.
pub fn set_protocol_for_flow_dump(
    opts: &Options,
    v: &mut Vconn,
    usable: Protocols,
) -> Result<Protocols, Fatal> {
    let allowed = allowed_protocols(opts)?;
    let mut cur = base_protocol(v);
    for f in FLOW_DUMP_PROTOCOLS {
        if !(f & usable & allowed).is_empty() && try_set_protocol(v, f, &mut cur)? {
            return Ok(f);
        }
    }
    if !(usable & allowed).is_empty() {
        Err(Fatal(format!(
            "switch does not support any of the usable flow formats ({usable})"
        )))
    } else {
        Err(Fatal(format!(
            "none of the usable flow formats ({usable}) is among the allowed flow formats ({allowed})"
        )))
    }
}

/// Opens `name` for flow mods that need one of `usable` (upstream's
/// `open_vconn_for_flow_mod`).
pub fn open_for_flow_mod(
    opts: &Options,
    name: &str,
    usable: Protocols,
) -> Result<(Vconn, Protocols), Fatal> {
    let allowed = allowed_protocols(opts)?;
    if (usable & allowed).is_empty() {
        return Err(Fatal(format!(
            "none of the usable flow formats ({usable}) is among the allowed flow formats ({allowed})"
        )));
    }
    let mut v = open_vconn(opts, name)?;
    let mut cur = base_protocol(&v);
    if !(usable & allowed & cur).is_empty() {
        return Ok((v, cur));
    }
    for i in 0..9 {
        let f = Protocols(1 << i);
        if f != cur && !(f & usable & allowed).is_empty() && try_set_protocol(&mut v, f, &mut cur)?
        {
            return Ok((v, f));
        }
    }
    Err(Fatal(format!(
        "switch does not support any of the usable flow formats ({usable})"
    )))
}

/// Encodes a flow or aggregate statistics request in `protocol`.
pub fn encode_stats_request(fm: &ParsedFlowMod, aggregate: bool, protocol: Protocols) -> Vec<u8> {
    let version = protocol_version(protocol);
    let req = FlowStatsRequest {
        flow_match: fm.match_.clone(),
        table_id: fm.table_id,
        out_port: fm.out_port as u16,
        out_group: fm.out_group,
        cookie: fm.cookie,
        cookie_mask: fm.cookie_mask,
    };
    let nxm = !(protocol & Protocols::OF10_NXM_ANY).is_empty();
    if version == 1 && nxm {
        let raw = if aggregate {
            OfpRaw::NXST_AGGREGATE_REQUEST
        } else {
            OfpRaw::NXST_FLOW_REQUEST
        };
        let mut m = start(raw, version, alloc_xid());
        let entries = put_nxm_cookie(
            &req.flow_match,
            NxmCookie {
                cookie: req.cookie,
                mask: req.cookie_mask,
            },
        );
        m.put_u16(req.out_port);
        m.put_u16(entries.len() as u16);
        m.put_u8(req.table_id);
        m.put_zeros(3);
        m.extend_from_slice(&entries);
        m.put_zeros(openflow::wire::pad8(entries.len()) - entries.len());
        return finish(m);
    }
    let (raw, form) = match (version, aggregate) {
        (1, false) => (OfpRaw::OFPST10_FLOW_REQUEST, StatsRequestForm::Of10),
        (1, true) => (OfpRaw::OFPST10_AGGREGATE_REQUEST, StatsRequestForm::Of10),
        (_, false) => (OfpRaw::OFPST11_FLOW_REQUEST, StatsRequestForm::Of11),
        (6, true) => (OfpRaw::OFPST15_AGGREGATE_REQUEST, StatsRequestForm::Of11),
        (_, true) => (OfpRaw::OFPST11_AGGREGATE_REQUEST, StatsRequestForm::Of11),
    };
    let mut m = start(raw, version, alloc_xid());
    req.encode_body(form, version, &mut m);
    finish(m)
}

/// Parses the flow filter, opens the switch and settles the protocol
/// (upstream's `prepare_dump_flows`).
fn prepare_dump_flows(
    opts: &Options,
    args: &[String],
) -> Result<(Vconn, ParsedFlowMod, Protocols), Fatal> {
    let name = &args[0];
    let text = args.get(1).map_or("", String::as_str);
    let (ports, tables) = if text.is_empty() {
        (None, None)
    } else {
        let p = ports_to_accept(opts, name)?;
        let t = tables_to_accept(opts, name)?;
        (p, t)
    };
    let mut seen = HashSet::new();
    let fsr = parse_flow(
        text,
        FlowStrKind::FlowStats,
        ports.as_ref(),
        tables.as_ref(),
        &mut seen,
    )
    .map_err(Fatal)?;
    // A statistics request carries its table id in every format.
    let mut usable = fsr.usable_protocols;
    if !(usable & Protocols::OF10_STD_TID).is_empty() {
        usable |= Protocols::OF10_STD;
    }
    if !(usable & Protocols::OF10_NXM_TID).is_empty() {
        usable |= Protocols::OF10_NXM;
    }
    let mut v = open_vconn(opts, name)?;
    let protocol = set_protocol_for_flow_dump(opts, &mut v, usable)?;
    Ok((v, fsr, protocol))
}

/// The sort criteria of `--sort`/`--rsort`.
fn sort_criteria(opts: &Options) -> Result<Vec<flow::sort::SortCriterion>, Fatal> {
    use flow::sort::{SortCriterion, SortOrder};
    let Some((field, desc)) = &opts.sort else {
        return Ok(Vec::new());
    };
    let order = if *desc {
        SortOrder::Descending
    } else {
        SortOrder::Ascending
    };
    let f = if field.is_empty() {
        None
    } else {
        Some(field.as_str())
    };
    Ok(vec![SortCriterion::parse(f, order).map_err(Fatal)?])
}

/// `dump-flows SWITCH [FLOW]`
pub fn dump_flows(opts: &Options, args: &[String]) -> CmdResult {
    let criteria = sort_criteria(opts)?;
    let show_stats = !opts.no_stats;
    if criteria.is_empty() && !should_show_names(opts) && show_stats {
        let (mut v, fsr, protocol) = prepare_dump_flows(opts, args)?;
        let req = encode_stats_request(&fsr, false, protocol);
        return dump_transaction(opts, &mut v, &req);
    }
    let (mut v, fsr, protocol) = prepare_dump_flows(opts, args)?;
    let req = encode_stats_request(&fsr, false, protocol);
    let mut flows = Vec::new();
    for reply in
        collect_transaction(&mut v, &req).map_err(|e| Fatal(format!("dump flows ({})", e.0)))?
    {
        let raw = decode_raw(&reply).map_err(|e| Fatal(format!("dump flows ({})", e.name())))?;
        let version = reply[0];
        let form = match raw {
            OfpRaw::OFPST10_FLOW_REPLY => FlowStatsForm::Of10,
            OfpRaw::NXST_FLOW_REPLY => FlowStatsForm::Nx,
            OfpRaw::OFPST11_FLOW_REPLY | OfpRaw::OFPST13_FLOW_REPLY => FlowStatsForm::Of11,
            OfpRaw::OFPST15_FLOW_REPLY => FlowStatsForm::Of15,
            OfpRaw::OFPT_ERROR => {
                super::online::die_with_reply(opts, &reply);
            }
            _ => return Err(Fatal("dump flows (Protocol error)".into())),
        };
        let body = &reply[raw.header_len(version)..];
        let fs = FlowStats::decode_all(form, version, body)
            .map_err(|e| Fatal(format!("dump flows ({})", e.name())))?;
        // Decoded without the flow-age extension, as upstream's
        // vconn_dump_flows does: no idle or hard age.
        // (OpenFlow 1.5 carries the idle age itself.)
        flows.extend(fs.into_iter().map(|mut f| {
            if form != FlowStatsForm::Of15 {
                f.idle_age = -1;
                f.hard_age = -1;
            }
            f
        }));
    }
    drop(v);
    if !criteria.is_empty() {
        flows.sort_by(|a, b| {
            flow::sort::compare_flows(
                (&a.flow_match, a.priority),
                (&b.flow_match, b.priority),
                &criteria,
            )
            // Ties go to the higher priority.
            .then_with(|| b.priority.cmp(&a.priority))
        });
    }
    let tables = tables_to_show(opts, &args[0])?;
    let ports = ports_to_show(opts, &args[0])?;
    let mut out = String::new();
    for fs in &flows {
        out.push(' ');
        out.push_str(&format_flow_stats(
            fs,
            ports.as_ref(),
            tables.as_ref(),
            show_stats,
        ));
        out.push('\n');
    }
    print!("{out}");
    Ok(())
}

/// Upstream's `ofputil_flow_stats_format` with port and table names and
/// optional statistics.
pub fn format_flow_stats(
    fs: &FlowStats,
    ports: Option<&PortMap>,
    tables: Option<&PortMap>,
    show_stats: bool,
) -> String {
    let mut s = String::new();
    if show_stats || fs.cookie != 0 {
        s.push_str(&format!("cookie={:#x}, ", fs.cookie));
    }
    if show_stats {
        s.push_str("duration=");
        openflow::bits::duration(&mut s, fs.duration_sec, fs.duration_nsec);
        s.push_str(", ");
    }
    let table_name = tables.and_then(|t| t.name(u32::from(fs.table_id)));
    if show_stats || fs.table_id != 0 || table_name.is_some() {
        match table_name {
            Some(n) => s.push_str(&format!("table={n}, ")),
            None => s.push_str(&format!("table={}, ", fs.table_id)),
        }
    }
    if show_stats {
        if fs.packet_count != u64::MAX {
            s.push_str(&format!("n_packets={}, ", fs.packet_count));
        }
        if fs.byte_count != u64::MAX {
            s.push_str(&format!("n_bytes={}, ", fs.byte_count));
        }
    }
    if fs.idle_timeout != 0 {
        s.push_str(&format!("idle_timeout={}, ", fs.idle_timeout));
    }
    if fs.hard_timeout != 0 {
        s.push_str(&format!("hard_timeout={}, ", fs.hard_timeout));
    }
    openflow::msgs::flow_mod::format_flags(&mut s, fs.flags);
    if fs.importance != 0 {
        s.push_str(&format!("importance={}, ", fs.importance));
    }
    if show_stats {
        if fs.idle_age >= 0 {
            s.push_str(&format!("idle_age={}, ", fs.idle_age));
        }
        if fs.hard_age >= 0 && fs.hard_age != i64::from(fs.duration_sec) {
            s.push_str(&format!("hard_age={}, ", fs.hard_age));
        }
    }
    s.push_str(&flow::match_format::format_match(
        &fs.flow_match,
        i32::from(fs.priority),
        ports,
    ));
    if !s.is_empty() && !s.ends_with(' ') {
        s.push(' ');
    }
    s.push_str("actions=");
    s.push_str(&flow::actions::format_actions_with_ports(
        &fs.actions,
        ports,
    ));
    s
}

/// `dump-aggregate SWITCH [FLOW]`
pub fn dump_aggregate(opts: &Options, args: &[String]) -> CmdResult {
    let (mut v, fsr, protocol) = prepare_dump_flows(opts, args)?;
    let req = encode_stats_request(&fsr, true, protocol);
    dump_transaction(opts, &mut v, &req)
}

/// Sends flow mods in the best usable protocol, each followed by a
/// barrier (upstream's `ofctl_flow_mod__`), or as one bundle.
pub fn send_flow_mods(
    opts: &Options,
    name: &str,
    fms: &[ParsedFlowMod],
    usable: Protocols,
) -> CmdResult {
    if opts.bundle {
        return super::online_bundle::bundle_flow_mods(opts, name, fms, usable);
    }
    let (mut v, protocol) = open_for_flow_mod(opts, name, usable)?;
    for fm in fms {
        let msg = encode_flow_mod(&FlowMod::from(fm), protocol, alloc_xid());
        transact_noreply(opts, &mut v, &[msg])?;
    }
    Ok(())
}

fn flow_mod_command(opts: &Options, base: FlowModCommand) -> FlowModCommand {
    match (base, opts.strict) {
        (FlowModCommand::Modify, true) => FlowModCommand::ModifyStrict,
        (FlowModCommand::Delete, true) => FlowModCommand::DeleteStrict,
        (c, _) => c,
    }
}

/// Shared by `add-flow`, `mod-flows` and `del-flows`: one flow from the
/// command line, or a file when the flow is `-`.
fn flow_mod_cmd(opts: &Options, args: &[String], base: FlowModCommand) -> CmdResult {
    let command = flow_mod_command(opts, base);
    let name = &args[0];
    if args.get(1).map(String::as_str) == Some("-") {
        return flow_mod_file(opts, args, command);
    }
    let tables = tables_to_accept(opts, name)?;
    let ports = ports_to_accept(opts, name)?;
    let mut seen = HashSet::new();
    let fm = parse_flow(
        args.get(1).map_or("", String::as_str),
        FlowStrKind::FlowMod(command),
        ports.as_ref(),
        tables.as_ref(),
        &mut seen,
    )
    .map_err(Fatal)?;
    let usable = fm.usable_protocols;
    send_flow_mods(opts, name, std::slice::from_ref(&fm), usable)
}

fn flow_mod_file(opts: &Options, args: &[String], command: FlowModCommand) -> CmdResult {
    let name = &args[0];
    let tables = tables_to_accept(opts, name)?;
    let ports = ports_to_accept(opts, name)?;
    let kind = if opts.bundle {
        FlowStrKind::FlowModAnyCommand
    } else {
        FlowStrKind::FlowMod(command)
    };
    let (fms, usable) = parse_flow_file(&args[1], kind, ports.as_ref(), tables.as_ref())?;
    send_flow_mods(opts, name, &fms, usable)
}

/// `add-flow SWITCH FLOW`
pub fn add_flow(opts: &Options, args: &[String]) -> CmdResult {
    flow_mod_cmd(opts, args, FlowModCommand::Add)
}

/// `add-flows SWITCH FILE`
pub fn add_flows(opts: &Options, args: &[String]) -> CmdResult {
    flow_mod_file(opts, args, FlowModCommand::Add)
}

/// `mod-flows SWITCH FLOW`
pub fn mod_flows(opts: &Options, args: &[String]) -> CmdResult {
    flow_mod_cmd(opts, args, FlowModCommand::Modify)
}

/// `del-flows SWITCH [FLOW]`
pub fn del_flows(opts: &Options, args: &[String]) -> CmdResult {
    flow_mod_cmd(opts, args, FlowModCommand::Delete)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protocol_steps_go_through_the_base_then_the_table_id() {
        let (m, next) = set_protocol_step(Protocols::OF10_STD, Protocols::OF10_NXM_TID, 1).unwrap();
        assert_eq!(decode_raw(&m), Ok(OfpRaw::NXT_SET_FLOW_FORMAT));
        assert_eq!(next, Protocols::OF10_NXM);
        let (m, next) = set_protocol_step(next, Protocols::OF10_NXM_TID, 1).unwrap();
        assert_eq!(decode_raw(&m), Ok(OfpRaw::NXT_FLOW_MOD_TABLE_ID));
        assert_eq!(next, Protocols::OF10_NXM_TID);
        assert!(set_protocol_step(Protocols::OF13_OXM, Protocols::OF10_NXM, 4).is_none());
    }
}
