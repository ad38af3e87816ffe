//! Online group commands: `add-group`, `add-groups`, `mod-group`,
//! `del-groups`, `insert-buckets`, `remove-buckets`, `dump-groups`,
//! `dump-group-stats`, `dump-group-features`, with the group text syntax of
//! ovs-ofctl(8) (`group_id=N,type=T,[selection_method=...,fields=...,]
//! bucket=...`).

use super::flow_cmd::log_warnings;
use super::online::{
    dump_transaction, empty_request, open_vconn, ports_to_accept, tables_to_accept,
    transact_noreply,
};
use super::online_flows::{open_for_flow_mod, read_text};
use super::online_meters::str_to_u32;
use super::options::Options;
use super::{CmdResult, Fatal};
use flow::field::FieldId;
use flow::key_value::next_pair;
use flow::port::PortMap;
use flow::MfValue;
use flow::Protocols;
use openflow::msgs::group_mod::{Bucket, GroupMod, GroupProps};
use openflow::raw::{finish, start, OfpRaw};
use openflow::vconn::alloc_xid;
use openflow::wire::Put;
use std::collections::HashSet;

const OFPG_MAX: u32 = 0xffff_ff00;
const OFPG_ALL: u32 = 0xffff_fffc;
const OFPG_ANY: u32 = 0xffff_ffff;
const BUCKET_MAX: u32 = 0xffff_ff00;
const BUCKET_FIRST: u32 = 0xffff_fffd;
const BUCKET_LAST: u32 = 0xffff_fffe;
const BUCKET_ALL: u32 = 0xffff_ffff;
const OFPP_ANY: u16 = 0xffff;
const OFPP_MAX: u16 = 0xff00;

/// Group-mod commands as upstream numbers them.
pub mod gc {
    pub const ADD: u16 = 0;
    pub const MODIFY: u16 = 1;
    pub const DELETE: u16 = 2;
    pub const INSERT_BUCKET: u16 = 3;
    pub const REMOVE_BUCKET: u16 = 5;
    pub const ADD_OR_MOD: u16 = 0x8000;
}

/// Group types.
const GT_ALL: u8 = 0;
const GT_SELECT: u8 = 1;
const GT_INDIRECT: u8 = 2;
const GT_FF: u8 = 3;

/// A parsed group modification and the protocols able to carry it.
#[derive(Clone, Debug)]
pub struct GroupModText {
    pub gm: GroupMod,
    pub usable: Protocols,
}

impl GroupModText {
    /// Encodes the group mod for `version`, numbering buckets without an
    /// id (OpenFlow 1.5 and Nicira layouts) after the previous one.
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
        let raw = match version {
            1 => OfpRaw::NXT_GROUP_MOD,
            2..=5 => OfpRaw::OFPT11_GROUP_MOD,
            _ => OfpRaw::OFPT15_GROUP_MOD,
        };
        let mut gm = self.gm.clone();
        let mut next = 0u32;
        for b in &mut gm.buckets {
            if b.bucket_id > BUCKET_MAX {
                b.bucket_id = next;
            }
            next = b.bucket_id.wrapping_add(1);
        }
        let mut m = start(raw, version, alloc_xid());
        gm.encode_body(version, &mut m);
        Ok(finish(m))
    }
}

fn parse_fields(text: &str, props: &mut GroupProps, usable: &mut Protocols) -> Result<(), String> {
    let mut rest = text;
    while let Some((name, value)) = next_pair(&mut rest) {
        let Some(field) = FieldId::from_field_name(name) else {
            return Err(format!("{rest}: unknown field {name}"));
        };
        if props.fields.iter().any(|(f, _)| *f == field) {
            return Err(format!("{name}: duplicate field"));
        }
        let mask = if value.is_empty() {
            let mut ones = MfValue::zero(field.def().n_bytes);
            ones.as_bytes_mut().fill(0xff);
            ones
        } else {
            let (v, _) = MfValue::parse(field, value)?;
            v
        };
        props.fields.push((field, mask));
        let _ = usable;
    }
    props.fields.sort_by_key(|(f, _)| *f as usize);
    Ok(())
}

fn parse_bucket(
    text: &str,
    ports: Option<&PortMap>,
    group_type: u8,
    usable: &mut Protocols,
    seen: &mut HashSet<&'static str>,
) -> Result<Bucket, String> {
    let mut bucket = Bucket {
        bucket_id: BUCKET_ALL,
        weight: if group_type == GT_SELECT { 1 } else { 0 },
        watch_port: OFPP_ANY,
        watch_group: OFPG_ANY,
        actions: Vec::new(),
    };
    let mut actions = String::new();
    let mut rest = text;
    while let Some((key, value)) = next_pair(&mut rest) {
        match key.to_ascii_lowercase().as_str() {
            "weight" => {
                bucket.weight = value
                    .parse()
                    .map_err(|_| format!("invalid weight \"{value}\""))?;
            }
            "watch_port" => {
                let p = flow::port::parse_port(value, ports).map(|p| p.port);
                match p {
                    Some(p) if p < u32::from(OFPP_MAX) || p == u32::from(OFPP_ANY) => {
                        bucket.watch_port = p as u16
                    }
                    _ => return Err(format!("{value}: invalid watch_port")),
                }
            }
            "watch_group" => {
                bucket.watch_group = str_to_u32(value)?;
                if bucket.watch_group > OFPG_MAX {
                    return Err(format!("invalid watch_group id {}", bucket.watch_group));
                }
            }
            "bucket_id" => {
                bucket.bucket_id = str_to_u32(value)?;
                if bucket.bucket_id > BUCKET_MAX {
                    return Err(format!("invalid bucket_id id {}", bucket.bucket_id));
                }
            }
            "action" | "actions" => {
                actions.push_str(value);
                actions.push(',');
            }
            _ => {
                actions.push_str(&format!("{key}({value}),"));
            }
        }
    }
    if actions.is_empty() {
        return Err("bucket must specify actions".into());
    }
    if group_type == GT_FF && bucket.watch_port == OFPP_ANY && bucket.watch_group == OFPG_ANY {
        return Err("fast failover bucket requires watch_port or watch_group".into());
    }
    actions.pop();
    let mut warnings = Vec::new();
    let r = flow::actions::parse_actions(&actions, ports, &mut warnings);
    log_warnings(&warnings, seen);
    let parsed = r?;
    *usable &= parsed.usable_protocols;
    bucket.actions = parsed.actions;
    Ok(bucket)
}

/// Parses a group text for `command` (upstream's
/// `parse_ofp_group_mod_str`); `None` reads the command from the text's
/// first word, as bundle files give it.
pub fn parse_group(
    text: &str,
    command: Option<u16>,
    ports: Option<&PortMap>,
) -> Result<GroupModText, String> {
    let mut seen = HashSet::new();
    let mut usable = Protocols::ANY;
    let mut s = text;
    let command = match command {
        Some(c) => c,
        None => {
            let t = s.trim_start_matches([' ', '\t', '\r', '\n']);
            let len = t.find([',', ' ', '\t', '\r', '\n']).unwrap_or(t.len());
            let word = &t[..len];
            let prefix = |full: &str| full.starts_with(word);
            let c = if prefix("add") {
                Some(gc::ADD)
            } else if prefix("delete") {
                Some(gc::DELETE)
            } else if prefix("modify") {
                Some(gc::MODIFY)
            } else if prefix("add_or_mod") {
                Some(gc::ADD_OR_MOD)
            } else if prefix("insert_bucket") {
                Some(gc::INSERT_BUCKET)
            } else if prefix("remove_bucket") {
                Some(gc::REMOVE_BUCKET)
            } else {
                None
            };
            match c {
                Some(c) => {
                    s = &t[len..];
                    c
                }
                None => gc::ADD,
            }
        }
    };
    let (type_field, buckets_field, cmd_bucket, cmd_bucket_all) = match command {
        gc::ADD | gc::MODIFY | gc::ADD_OR_MOD => (true, true, false, false),
        gc::DELETE => (false, false, false, false),
        gc::INSERT_BUCKET => (false, true, true, false),
        _ => {
            usable &= Protocols::OF10_ANY | Protocols::OF15_UP;
            (false, false, true, true)
        }
    };
    let mut gm = GroupMod {
        command,
        type_: GT_ALL,
        group_id: OFPG_ANY,
        command_bucket_id: BUCKET_ALL,
        buckets: Vec::new(),
        props: GroupProps::default(),
    };
    if command == gc::DELETE && s.is_empty() {
        gm.group_id = OFPG_ALL;
        return Ok(GroupModText { gm, usable });
    }
    let (head, mut bkt) = match s.find("bucket=") {
        Some(i) => {
            if !buckets_field {
                return Err("bucket is not needed".into());
            }
            (&s[..i], Some(&s[i..]))
        }
        None => (s, None),
    };
    let mut had_type = false;
    let mut had_cmd_bucket = false;
    let mut rest = head;
    while let Some((name, value)) = next_pair(&mut rest) {
        match name {
            "command_bucket_id" => {
                if !cmd_bucket {
                    return Err("command bucket id is not needed".into());
                }
                gm.command_bucket_id = match value {
                    "all" => BUCKET_ALL,
                    "first" => BUCKET_FIRST,
                    "last" => BUCKET_LAST,
                    v => {
                        let id = str_to_u32(v)?;
                        if id > BUCKET_MAX && ![BUCKET_FIRST, BUCKET_LAST, BUCKET_ALL].contains(&id)
                        {
                            return Err(format!("invalid command bucket id {id}"));
                        }
                        id
                    }
                };
                if gm.command_bucket_id == BUCKET_ALL && !cmd_bucket_all {
                    return Err("command_bucket_id=all is not permitted".into());
                }
                had_cmd_bucket = true;
            }
            "group_id" => {
                gm.group_id = if value == "all" {
                    OFPG_ALL
                } else {
                    let id = str_to_u32(value)?;
                    if id != OFPG_ALL && id > OFPG_MAX {
                        return Err(format!("invalid group id {id}"));
                    }
                    id
                };
            }
            "type" => {
                if !type_field {
                    return Err("type is not needed".into());
                }
                gm.type_ = match value {
                    "all" => GT_ALL,
                    "select" => GT_SELECT,
                    "indirect" => GT_INDIRECT,
                    "ff" | "fast_failover" => GT_FF,
                    _ => return Err(format!("invalid group type {value}")),
                };
                had_type = true;
            }
            "selection_method" => {
                if !type_field {
                    return Err("selection method is not needed".into());
                }
                if value.len() >= 16 {
                    return Err("selection method is longer than 15 bytes long".into());
                }
                gm.props.selection_method = value.to_string();
                usable &= Protocols::OF15_UP;
            }
            "selection_method_param" => {
                if !type_field {
                    return Err("selection method param is not needed".into());
                }
                gm.props.selection_method_param = flow::flow_str::str_to_u64(value)?;
                usable &= Protocols::OF15_UP;
            }
            "fields" => {
                if !type_field {
                    return Err("fields are not needed".into());
                }
                parse_fields(value, &mut gm.props, &mut usable)?;
                usable &= Protocols::OF15_UP;
            }
            _ => return Err(format!("unknown keyword {name}")),
        }
    }
    if gm.group_id == OFPG_ANY {
        return Err("must specify a group_id".into());
    }
    if type_field && !had_type {
        return Err("must specify a type".into());
    }
    if gm.props.selection_method != "hash" && !gm.props.fields.is_empty() {
        return Err("fields may only be specified with \"selection_method=hash\"".into());
    }
    if gm.props.selection_method.is_empty() && gm.props.selection_method_param != 0 {
        return Err("selection_method_param is only allowed with \"selection_method\"".into());
    }
    if cmd_bucket {
        if !(cmd_bucket_all || had_cmd_bucket) {
            return Err("must specify a command bucket id".into());
        }
    } else if had_cmd_bucket {
        return Err("command bucket id is not needed".into());
    }
    while let Some(b) = bkt {
        let Some(eq) = b[1..].find('=') else {
            return Err("must specify bucket content".into());
        };
        let content = &b[1 + eq + 1..];
        let (this, next) = match content.find("bucket=") {
            Some(i) => (&content[..i], Some(&content[i..])),
            None => (content, None),
        };
        let bucket = parse_bucket(this, ports, gm.type_, &mut usable, &mut seen)?;
        if gm.type_ != GT_SELECT && bucket.weight != 0 {
            return Err("Only select groups can have bucket weights.".into());
        }
        gm.buckets.push(bucket);
        bkt = next;
    }
    if gm.type_ == GT_INDIRECT && gm.buckets.len() > 1 {
        return Err("Indirect groups can have at most one bucket.".into());
    }
    Ok(GroupModText { gm, usable })
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
