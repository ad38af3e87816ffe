//! `replace-flows` and `diff-flows`: flow tables read from files and from
//! switches, compared entry by entry (an entry is a table, match and
//! priority; its version is the cookie, timeouts, importance, flags and
//! actions), and the flow mods that turn the switch's table into the
//! file's.

use super::online::{
    collect_transaction, die_with_reply, io_fatal, open_vconn, ports_to_accept, tables_to_accept,
};
use super::online_flows::{parse_flow, set_protocol_for_flow_dump};
use super::options::Options;
use super::{CmdResult, Fatal};
use flow::actions::OfpAction;
use flow::flow_str::{FlowModCommand, FlowStrKind};
use flow::port::PortMap;
use flow::{Match, Protocols};
use openflow::msgs::flow_mod::{FlowMod, FlowStats, FlowStatsForm};
use openflow::protocol::encode_flow_mod;
use openflow::raw::{decode_raw, OfpRaw};
use openflow::vconn::{alloc_xid, Vconn};
use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};

/// One side's version of a flow.
#[derive(Clone, Debug)]
struct FteVersion {
    cookie: u64,
    idle_timeout: u16,
    hard_timeout: u16,
    importance: u16,
    flags: u16,
    actions: Vec<OfpAction>,
}

impl FteVersion {
    fn same_as(&self, o: &FteVersion) -> bool {
        self.cookie == o.cookie
            && self.idle_timeout == o.idle_timeout
            && self.hard_timeout == o.hard_timeout
            && self.importance == o.importance
            && flow::actions::format_actions(&self.actions)
                == flow::actions::format_actions(&o.actions)
    }
}

/// One flow table entry with the versions of both sources.
struct Fte {
    table_id: u8,
    match_: Match,
    priority: u16,
    versions: [Option<FteVersion>; 2],
}

/// The entries of both sources, in the order upstream's classifier walks
/// them: by table, then by "subtable" (entries with the same wildcards)
/// from the highest priority down, each subtable in insertion order.
#[derive(Default)]
struct FteState {
    entries: Vec<Fte>,
    /// Position in `entries` of each (table, priority, match).
    index: HashMap<(u8, u16, Match), usize>,
}

impl FteState {
    fn insert(&mut self, table_id: u8, m: Match, priority: u16, index: usize, v: FteVersion) {
        match self.index.entry((table_id, priority, m)) {
            Entry::Occupied(e) => self.entries[*e.get()].versions[index] = Some(v),
            Entry::Vacant(e) => {
                e.insert(self.entries.len());
                let mut versions = [None, None];
                versions[index] = Some(v);
                self.entries.push(Fte {
                    table_id,
                    match_: m,
                    priority,
                    versions,
                });
            }
        }
    }

    fn ordered(&self) -> Vec<&Fte> {
        // Subtables (table, wildcards): first appearance order and max
        // priority.
        let mut subtables: HashMap<(u8, &packet::Flow), (u16, usize)> = HashMap::new();
        for e in &self.entries {
            let n = subtables.len();
            let s = subtables
                .entry((e.table_id, &e.match_.wc))
                .or_insert((e.priority, n));
            s.0 = s.0.max(e.priority);
        }
        let rank = |e: &Fte| {
            let s = subtables
                .get(&(e.table_id, &e.match_.wc))
                .copied()
                .unwrap_or((0, 0));
            (e.table_id, std::cmp::Reverse(s.0), s.1)
        };
        let mut v: Vec<&Fte> = self.entries.iter().collect();
        // Stable: entries of a subtable keep their insertion order.
        v.sort_by_cached_key(|e| rank(e));
        v
    }
}

/// Reads the flows of a file into `index` (upstream's
/// `read_flows_from_file`); returns the protocols every flow allows.
fn read_flows_from_file(
    state: &mut FteState,
    name: &str,
    index: usize,
    ports: Option<&PortMap>,
    tables: Option<&PortMap>,
) -> Result<Protocols, Fatal> {
    // Upstream words this open failure differently from add-flows'.
    let text = std::fs::read_to_string(name)
        .map_err(|e| Fatal(format!("{name}: open ({})", rpc::errno::io_error_text(&e))))?;
    let mut seen = HashSet::new();
    let mut usable = Protocols::ANY;
    for (n, line) in flow::flow_str::preprocessed_lines(&text) {
        let fm = parse_flow(
            line,
            FlowStrKind::FlowMod(FlowModCommand::Add),
            ports,
            tables,
            &mut seen,
        )
        .map_err(|e| Fatal(format!("{name}:{n}: {e}")))?;
        usable &= fm.usable_protocols;
        let flags = openflow::msgs::flow_mod::FlowMod::from(&fm).flags;
        let table_id = if fm.table_id == 0xff { 0 } else { fm.table_id };
        state.insert(
            table_id,
            fm.match_.clone(),
            fm.priority,
            index,
            FteVersion {
                cookie: if fm.new_cookie == u64::MAX {
                    0
                } else {
                    fm.new_cookie
                },
                idle_timeout: fm.idle_timeout,
                hard_timeout: fm.hard_timeout,
                importance: fm.importance,
                flags,
                actions: fm.ofpacts.clone(),
            },
        );
    }
    Ok(usable)
}

/// Reads every flow of the switch behind `v` into `index`.
fn read_flows_from_switch(
    opts: &Options,
    v: &mut Vconn,
    protocol: Protocols,
    state: &mut FteState,
    index: usize,
) -> Result<(), Fatal> {
    let fsr = flow::flow_str::parse_ofp_str("", FlowStrKind::FlowStats, None).map_err(Fatal)?;
    let req = super::online_flows::encode_stats_request(&fsr, false, protocol);
    for reply in collect_transaction(v, &req)? {
        let raw = decode_raw(&reply).map_err(|e| Fatal(format!("decode error: {}", e.name())))?;
        let version = reply[0];
        let form = match raw {
            OfpRaw::OFPST10_FLOW_REPLY => FlowStatsForm::Of10,
            OfpRaw::NXST_FLOW_REPLY => FlowStatsForm::Nx,
            OfpRaw::OFPST11_FLOW_REPLY | OfpRaw::OFPST13_FLOW_REPLY => FlowStatsForm::Of11,
            OfpRaw::OFPST15_FLOW_REPLY => FlowStatsForm::Of15,
            OfpRaw::OFPT_ERROR => die_with_reply(opts, &reply),
            _ => return Err(Fatal("received bad reply to flow stats request".into())),
        };
        let body = &reply[raw.header_len(version)..];
        let all = FlowStats::decode_all(form, version, body)
            .map_err(|e| Fatal(format!("decode error: {}", e.name())))?;
        for fs in all {
            state.insert(
                fs.table_id,
                fs.flow_match.clone(),
                fs.priority,
                index,
                FteVersion {
                    cookie: fs.cookie,
                    idle_timeout: fs.idle_timeout,
                    hard_timeout: fs.hard_timeout,
                    importance: fs.importance,
                    flags: fs.flags,
                    actions: fs.actions,
                },
            );
        }
    }
    Ok(())
}

fn make_flow_mod(fte: &Fte, index: usize, command: FlowModCommand, protocol: Protocols) -> Vec<u8> {
    let Some(v) = &fte.versions[index] else {
        return Vec::new();
    };
    let with_actions = matches!(command, FlowModCommand::Add);
    let fm = FlowMod {
        flow_match: fte.match_.clone(),
        priority: fte.priority,
        cookie: v.cookie,
        cookie_mask: 0,
        new_cookie: v.cookie,
        table_id: fte.table_id,
        command: command.wire(),
        idle_timeout: v.idle_timeout,
        hard_timeout: v.hard_timeout,
        importance: v.importance,
        buffer_id: u32::MAX,
        out_port: 0xffff,
        out_group: 0xffff_ffff,
        flags: v.flags,
        actions: if with_actions {
            v.actions.clone()
        } else {
            Vec::new()
        },
    };
    encode_flow_mod(&fm, protocol, alloc_xid())
}

/// `replace-flows SWITCH FILE`
pub fn replace_flows(opts: &Options, args: &[String]) -> CmdResult {
    const FILE: usize = 0;
    const SWITCH: usize = 1;
    let name = &args[0];
    let mut state = FteState::default();
    let ports = ports_to_accept(opts, name)?;
    let tables = tables_to_accept(opts, name)?;
    let usable = read_flows_from_file(&mut state, &args[1], FILE, ports.as_ref(), tables.as_ref())?;
    let mut v = open_vconn(opts, name)?;
    let protocol = set_protocol_for_flow_dump(opts, &mut v, usable)?;
    read_flows_from_switch(opts, &mut v, protocol, &mut state, SWITCH)?;
    // Table by table (each its own classifier upstream): the deletions,
    // then the additions.
    let order = state.ordered();
    let mut requests = Vec::new();
    let mut i = 0;
    while i < order.len() {
        let table = order[i].table_id;
        let end = order[i..]
            .iter()
            .position(|f| f.table_id != table)
            .map_or(order.len(), |n| i + n);
        let group = &order[i..end];
        for fte in group {
            if fte.versions[SWITCH].is_some() && fte.versions[FILE].is_none() {
                requests.push(make_flow_mod(
                    fte,
                    SWITCH,
                    FlowModCommand::DeleteStrict,
                    protocol,
                ));
            }
        }
        for fte in group {
            if let Some(file) = &fte.versions[FILE] {
                let differs = match &fte.versions[SWITCH] {
                    Some(sw) => !sw.same_as(file),
                    None => true,
                };
                if opts.readd || differs {
                    requests.push(make_flow_mod(fte, FILE, FlowModCommand::Add, protocol));
                }
            }
        }
        i = end;
    }
    if opts.bundle {
        return super::online_bundle::run_bundle(opts, &mut v, &requests);
    }
    let vname = v.name().to_string();
    match v.transact_multiple_noreply(&requests) {
        Err(e) => Err(io_fatal(&format!("talking to {vname}"), e)),
        Ok(Some(reply)) => die_with_reply(opts, &reply),
        Ok(None) => Ok(()),
    }
}

/// Whether a `diff-flows` source names a file rather than a switch.
fn is_file_source(s: &str) -> bool {
    s.starts_with('/') || s.starts_with('.') || (!s.contains(':') && std::fs::metadata(s).is_ok())
}

fn read_source(opts: &Options, state: &mut FteState, source: &str, index: usize) -> CmdResult {
    if is_file_source(source) {
        read_flows_from_file(state, source, index, None, None)?;
    } else {
        let mut v = open_vconn(opts, source)?;
        let protocol = set_protocol_for_flow_dump(opts, &mut v, Protocols::ANY)?;
        read_flows_from_switch(opts, &mut v, protocol, state, index)?;
    }
    Ok(())
}

fn format_version(fte: &Fte, index: usize) -> String {
    let Some(v) = &fte.versions[index] else {
        return String::new();
    };
    let mut s = String::new();
    if fte.table_id != 0 {
        s.push_str(&format!("table={} ", fte.table_id));
    }
    s.push_str(&fte.match_.format(i32::from(fte.priority)));
    if v.cookie != 0 {
        s.push_str(&format!(" cookie={:#x}", v.cookie));
    }
    if v.idle_timeout != 0 {
        s.push_str(&format!(" idle_timeout={}", v.idle_timeout));
    }
    if v.hard_timeout != 0 {
        s.push_str(&format!(" hard_timeout={}", v.hard_timeout));
    }
    if v.importance != 0 {
        s.push_str(&format!(" importance={}", v.importance));
    }
    s.push_str(" actions=");
    s.push_str(&flow::actions::format_actions(&v.actions));
    s
}

/// `diff-flows SOURCE1 SOURCE2`: exit status 2 when they differ.
pub fn diff_flows(opts: &Options, args: &[String]) -> CmdResult {
    let mut state = FteState::default();
    read_source(opts, &mut state, &args[0], 0)?;
    read_source(opts, &mut state, &args[1], 1)?;
    let mut out = String::new();
    for fte in state.ordered() {
        let a = format_version(fte, 0);
        let b = format_version(fte, 1);
        if a != b {
            if !a.is_empty() {
                out.push_str(&format!("-{a}\n"));
            }
            if !b.is_empty() {
                out.push_str(&format!("+{b}\n"));
            }
        }
    }
    print!("{out}");
    if !out.is_empty() {
        use std::io::Write;
        let _ = std::io::stdout().flush();
        std::process::exit(2);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn version(cookie: u64) -> FteVersion {
        FteVersion {
            cookie,
            idle_timeout: 0,
            hard_timeout: 0,
            importance: 0,
            flags: 0,
            actions: Vec::new(),
        }
    }

    fn ip_src(a: u32) -> Match {
        let mut m = Match::catchall();
        m.set_dl_type(0x0800);
        m.flow.nw_src = a;
        m.wc.nw_src = u32::MAX;
        m
    }

    #[test]
    fn entries_of_both_sources_meet_and_keep_classifier_order() {
        let mut st = FteState::default();
        // Subtable "ip,nw_src" (max priority 5) first seen, then the
        // catch-all subtable with a higher priority.
        st.insert(0, ip_src(1), 5, 0, version(1));
        st.insert(0, Match::catchall(), 9, 0, version(2));
        st.insert(0, ip_src(2), 3, 0, version(3));
        st.insert(1, Match::catchall(), 1, 0, version(4));
        // The same entries from the other source.
        st.insert(0, ip_src(2), 3, 1, version(3));
        st.insert(0, ip_src(1), 5, 1, version(7));
        assert_eq!(st.entries.len(), 4);
        let order: Vec<(u8, u16, Option<u64>, Option<u64>)> = st
            .ordered()
            .iter()
            .map(|e| {
                (
                    e.table_id,
                    e.priority,
                    e.versions[0].as_ref().map(|v| v.cookie),
                    e.versions[1].as_ref().map(|v| v.cookie),
                )
            })
            .collect();
        assert_eq!(
            order,
            vec![
                (0, 9, Some(2), None),
                (0, 5, Some(1), Some(7)),
                (0, 3, Some(3), Some(3)),
                (1, 1, Some(4), None),
            ]
        );
    }
}
