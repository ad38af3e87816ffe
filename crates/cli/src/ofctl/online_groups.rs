//! Online group commands: `add-group`, `add-groups`, `mod-group`,
//! `del-groups`, `insert-buckets`, `remove-buckets`, `dump-groups`,
//! `dump-group-stats`, `dump-group-features`, with the group text syntax of
//! ovs-ofctl(8) (`group_id=N,type=T,[selection_method=...,fields=...,]
//! bucket=...`).

use super::online::{
    dump_transaction, empty_request, open_vconn, ports_to_accept, tables_to_accept,
    transact_noreply,
};
use super::online_flows::{open_for_flow_mod, read_text};
use super::options::Options;
use super::{CmdResult, Fatal};
use flow::port::PortMap;
use flow::Protocols;
use openflow::msgs::group_text::{command as gc, parse_group_mod, ParsedGroupMod};
use openflow::raw::{finish, start, OfpRaw};
use openflow::vconn::alloc_xid;
use openflow::wire::Put;

const OFPG_ALL: u32 = 0xffff_fffc;

/// A parsed group modification and the protocols able to carry it (the
/// group syntax itself is `openflow::msgs::group_text`'s).
#[derive(Clone, Debug)]
pub struct GroupModText {
    pub gm: openflow::msgs::group_mod::GroupMod,
    pub usable: Protocols,
}

impl From<ParsedGroupMod> for GroupModText {
    fn from(p: ParsedGroupMod) -> Self {
        GroupModText {
            gm: p.group_mod,
            usable: p.usable_protocols,
        }
    }
}

impl GroupModText {
    /// Encodes the group mod for `version`; bucket commands exist only in
    /// the OpenFlow 1.5 (and Nicira) layouts.
    pub fn encode(&self, version: u8) -> Result<Vec<u8>, Fatal> {
        if (2..=5).contains(&version) {
            let what = match self.gm.command {
                gc::INSERT_BUCKET => Some("insert-bucket"),
                gc::REMOVE_BUCKET => Some("remove-bucket"),
                _ => None,
            };
            if let Some(what) = what {
                return Err(Fatal(format!(
                    "{what} needs OpenFlow 1.5 or later ('-O OpenFlow15')"
                )));
            }
        }
        Ok(self.gm.encode(version, alloc_xid()))
    }
}

/// Parses a group text for `command` (upstream's
/// `parse_ofp_group_mod_str`); `None` reads the command from the text's
/// first word, as bundle files give it.
pub fn parse_group(
    text: &str,
    command: Option<u16>,
    ports: Option<&PortMap>,
) -> Result<GroupModText, String> {
    parse_group_mod(text, command, ports).map(GroupModText::from)
}

/// A bundle file's group line (`group add ...`): the command comes first.
pub fn parse_group_line(text: &str, ports: Option<&PortMap>) -> Result<GroupModText, String> {
    parse_group(text, None, ports)
}

fn send_group_mods(opts: &Options, name: &str, gms: &[GroupModText]) -> CmdResult {
    let usable = gms.iter().fold(Protocols::ANY, |u, g| u & g.usable);
    let (mut v, _) = open_for_flow_mod(opts, name, usable)?;
    let version = v.version();
    if opts.bundle {
        let requests = gms
            .iter()
            .map(|g| g.encode(version))
            .collect::<Result<Vec<_>, _>>()?;
        return super::online_bundle::run_bundle(opts, &mut v, &requests);
    }
    for g in gms {
        let msg = g.encode(version)?;
        transact_noreply(opts, &mut v, &[msg])?;
    }
    Ok(())
}

fn group_mod_file(opts: &Options, args: &[String], command: u16) -> CmdResult {
    let name = &args[0];
    let _tables = tables_to_accept(opts, name)?;
    let ports = ports_to_accept(opts, name)?;
    let text = read_text(&args[1])?;
    let mut gms = Vec::new();
    for (n, line) in flow::flow_str::preprocessed_lines(&text) {
        let g = parse_group(line, Some(command), ports.as_ref())
            .map_err(|e| Fatal(format!("{}:{n}: {e}", args[1])))?;
        gms.push(g);
    }
    send_group_mods(opts, name, &gms)
}

fn group_mod(opts: &Options, args: &[String], command: u16) -> CmdResult {
    if args.get(1).map(String::as_str) == Some("-") {
        return group_mod_file(opts, args, command);
    }
    let name = &args[0];
    let _tables = tables_to_accept(opts, name)?;
    let ports = ports_to_accept(opts, name)?;
    let g = parse_group(
        args.get(1).map_or("", String::as_str),
        Some(command),
        ports.as_ref(),
    )
    .map_err(Fatal)?;
    send_group_mods(opts, name, std::slice::from_ref(&g))
}

/// `add-group SWITCH GROUP`
pub fn add_group(opts: &Options, args: &[String]) -> CmdResult {
    group_mod(opts, args, gc::ADD)
}

/// `add-groups SWITCH FILE`
pub fn add_groups(opts: &Options, args: &[String]) -> CmdResult {
    group_mod_file(opts, args, gc::ADD)
}

/// `mod-group SWITCH GROUP` (`--may-create`: add or modify)
pub fn mod_group(opts: &Options, args: &[String]) -> CmdResult {
    let c = if opts.may_create {
        gc::ADD_OR_MOD
    } else {
        gc::MODIFY
    };
    group_mod(opts, args, c)
}

/// `del-groups SWITCH [GROUP]`
pub fn del_groups(opts: &Options, args: &[String]) -> CmdResult {
    group_mod(opts, args, gc::DELETE)
}

/// `insert-buckets SWITCH GROUP`
pub fn insert_buckets(opts: &Options, args: &[String]) -> CmdResult {
    group_mod(opts, args, gc::INSERT_BUCKET)
}

/// `remove-buckets SWITCH GROUP`
pub fn remove_buckets(opts: &Options, args: &[String]) -> CmdResult {
    group_mod(opts, args, gc::REMOVE_BUCKET)
}

/// A group id argument as `dump-groups` takes it.
fn group_arg(s: &str) -> Option<u32> {
    flow::flow_str::parse_group(s)
}

/// `dump-groups SWITCH [GROUP]`
pub fn dump_groups(opts: &Options, args: &[String]) -> CmdResult {
    let mut v = open_vconn(opts, &args[0])?;
    let group_id = args.get(1).and_then(|g| group_arg(g)).unwrap_or(OFPG_ALL);
    let version = v.version();
    let req = match version {
        1 => {
            let mut m = start(OfpRaw::NXST_GROUP_DESC_REQUEST, version, alloc_xid());
            m.put_u32(group_id);
            m.put_zeros(4);
            finish(m)
        }
        2..=5 => empty_request(OfpRaw::OFPST11_GROUP_DESC_REQUEST, version),
        _ => {
            let mut m = start(OfpRaw::OFPST15_GROUP_DESC_REQUEST, version, alloc_xid());
            m.put_u32(group_id);
            m.put_zeros(4);
            finish(m)
        }
    };
    dump_transaction(opts, &mut v, &req)
}

/// `dump-group-stats SWITCH [GROUP]`
pub fn dump_group_stats(opts: &Options, args: &[String]) -> CmdResult {
    let name = &args[0];
    let _tables = tables_to_accept(opts, name)?;
    let ports = ports_to_accept(opts, name)?;
    let g = parse_group(
        args.get(1).map_or("", String::as_str),
        Some(gc::DELETE),
        ports.as_ref(),
    )
    .map_err(Fatal)?;
    let (mut v, _) = open_for_flow_mod(opts, name, g.usable)?;
    let version = v.version();
    let raw = if version == 1 {
        OfpRaw::NXST_GROUP_REQUEST
    } else {
        OfpRaw::OFPST11_GROUP_REQUEST
    };
    let mut m = start(raw, version, alloc_xid());
    m.put_u32(g.gm.group_id);
    m.put_zeros(4);
    dump_transaction(opts, &mut v, &finish(m))
}

/// `dump-group-features SWITCH`
pub fn dump_group_features(opts: &Options, args: &[String]) -> CmdResult {
    let mut v = open_vconn(opts, &args[0])?;
    let version = v.version();
    let raw = if version <= 2 {
        OfpRaw::NXST_GROUP_FEATURES_REQUEST
    } else {
        OfpRaw::OFPST12_GROUP_FEATURES_REQUEST
    };
    dump_transaction(opts, &mut v, &empty_request(raw, version))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_texts() {
        let g = parse_group(
            "group_id=2,type=select,bucket=weight:5,output:1,bucket=actions=drop",
            Some(gc::ADD),
            None,
        )
        .unwrap();
        assert_eq!(g.gm.group_id, 2);
        assert_eq!(g.gm.buckets.len(), 2);
        assert_eq!(g.gm.buckets[0].weight, 5);
        assert_eq!(
            parse_group("type=all", Some(gc::ADD), None).unwrap_err(),
            "must specify a group_id"
        );
        assert_eq!(
            parse_group("", Some(gc::DELETE), None).unwrap().gm.group_id,
            OFPG_ALL
        );
        let g = parse_group("modify group_id=3,type=all", None, None).unwrap();
        assert_eq!(g.gm.command, gc::MODIFY);
    }
}
