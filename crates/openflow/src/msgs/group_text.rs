//! The text syntax of groups (ovs-ofctl(8) "Group Syntax"): one line such
//! as `group_id=1,type=select,bucket=weight=2,actions=output:1` becomes a
//! [`GroupMod`], with upstream's error messages and its "usable protocols".
//! Used by `parse-group`, `add-group(s)`, `mod-group`, `del-groups`,
//! `insert-buckets` and `remove-buckets`.

use super::group_mod::{Bucket, GroupMod, GroupProps};
use flow::flow_str::c_number;
use flow::key_value::next_pair;
use flow::port::PortMap;
use flow::{FieldId, MfValue, Protocols};

/// Group-mod commands as they are numbered on the wire.
pub mod command {
    pub const ADD: u16 = 0;
    pub const MODIFY: u16 = 1;
    pub const DELETE: u16 = 2;
    pub const INSERT_BUCKET: u16 = 3;
    pub const REMOVE_BUCKET: u16 = 5;
    pub const ADD_OR_MOD: u16 = 0x8000;
}

/// Reserved group and bucket numbers.
const OFPG_MAX: u32 = 0xffff_ff00;
const OFPG_ALL: u32 = 0xffff_fffc;
const OFPG_ANY: u32 = 0xffff_ffff;
const BUCKET_MAX: u32 = 0xffff_ff00;
const BUCKET_FIRST: u32 = 0xffff_fffd;
const BUCKET_LAST: u32 = 0xffff_fffe;
const BUCKET_ALL: u32 = 0xffff_ffff;
const OFPP_MAX: u16 = 0xff00;
const OFPP_ANY: u16 = 0xffff;

/// Group types.
const GT_ALL: u8 = 0;
const GT_SELECT: u8 = 1;
const GT_INDIRECT: u8 = 2;
const GT_FF: u8 = 3;

/// The longest selection method name (the wire field is 16 bytes with a
/// terminating NUL).
const MAX_SELECTION_METHOD_LEN: usize = 16;

/// A group modification parsed from text, with the protocols able to
/// carry it.
#[derive(Clone, Debug, PartialEq)]
pub struct ParsedGroupMod {
    pub group_mod: GroupMod,
    pub usable_protocols: Protocols,
}

fn str_to_u32(s: &str) -> Result<u32, String> {
    c_number(s)
        .and_then(|v| u32::try_from(v).ok())
        .ok_or_else(|| format!("invalid numeric format {s}"))
}

fn str_to_u16(s: &str, name: &str) -> Result<u16, String> {
    c_number(s)
        .and_then(|v| u16::try_from(v).ok())
        .ok_or_else(|| format!("invalid {name} \"{s}\""))
}

/// Fixed-point: which parts of a group a command takes.
struct Wants {
    type_: bool,
    buckets: bool,
    command_bucket_id: bool,
    command_bucket_id_all: bool,
}

fn wants(command: u16) -> Wants {
    let w = |type_, buckets, command_bucket_id, command_bucket_id_all| Wants {
        type_,
        buckets,
        command_bucket_id,
        command_bucket_id_all,
    };
    match command {
        command::DELETE => w(false, false, false, false),
        command::INSERT_BUCKET => w(false, true, true, false),
        command::REMOVE_BUCKET => w(false, false, true, true),
        _ => w(true, true, false, false),
    }
}

/// Splits a leading command word off `s` (`add`, `delete`, `modify`,
/// `add_or_mod`, `insert_bucket`, `remove_bucket`, or any prefix of one,
/// as upstream compares only the word's length); none means `add`.
fn leading_command(s: &str) -> (u16, &str) {
    let s = s.trim_start_matches([' ', '\t', '\r', '\n']);
    let len = s.find([',', ' ', '\t', '\r', '\n']).unwrap_or(s.len());
    let word = &s[..len];
    let names = [
        ("add", command::ADD),
        ("delete", command::DELETE),
        ("modify", command::MODIFY),
        ("add_or_mod", command::ADD_OR_MOD),
        ("insert_bucket", command::INSERT_BUCKET),
        ("remove_bucket", command::REMOVE_BUCKET),
    ];
    match names.iter().find(|(n, _)| n.starts_with(word)) {
        Some((_, c)) => (*c, &s[len..]),
        None => (command::ADD, s),
    }
}

/// Parses one group. `command` is the command of the ovs-ofctl verb, or
/// `None` when the line may begin with one (`add-groups`, `bundle`).
pub fn parse_group_mod(
    text: &str,
    command: Option<u16>,
    ports: Option<&PortMap>,
) -> Result<ParsedGroupMod, String> {
    let mut usable = Protocols::ANY;
    let (command, text) = match command {
        Some(c) => (c, text),
        None => leading_command(text),
    };
    let want = wants(command);
    if matches!(command, command::INSERT_BUCKET | command::REMOVE_BUCKET) {
        usable &= Protocols::OF10_ANY | Protocols::OF15_UP;
    }
    let mut gm = GroupMod {
        command,
        type_: GT_ALL,
        group_id: OFPG_ANY,
        command_bucket_id: BUCKET_ALL,
        buckets: Vec::new(),
        props: GroupProps::default(),
    };
    if command == command::DELETE && text.is_empty() {
        gm.group_id = OFPG_ALL;
        return Ok(ParsedGroupMod {
            group_mod: gm,
            usable_protocols: usable,
        });
    }

    // The buckets come last: their defaults depend on the group's type.
    let (head, buckets) = match text.find("bucket=") {
        Some(i) if !want.buckets => {
            let _ = i;
            return Err("bucket is not needed".into());
        }
        Some(i) => (&text[..i], Some(&text[i..])),
        None => (text, None),
    };
    let mut had_type = false;
    let mut had_command_bucket_id = false;
    let mut rest = head;
    while let Some((name, value)) = next_pair(&mut rest) {
        match name {
            "command_bucket_id" => {
                if !want.command_bucket_id {
                    return Err("command bucket id is not needed".into());
                }
                gm.command_bucket_id = match value {
                    "all" => BUCKET_ALL,
                    "first" => BUCKET_FIRST,
                    "last" => BUCKET_LAST,
                    _ => {
                        let id = str_to_u32(value)?;
                        if id > BUCKET_MAX && ![BUCKET_FIRST, BUCKET_LAST, BUCKET_ALL].contains(&id)
                        {
                            return Err(format!("invalid command bucket id {id}"));
                        }
                        id
                    }
                };
                if gm.command_bucket_id == BUCKET_ALL && !want.command_bucket_id_all {
                    return Err("command_bucket_id=all is not permitted".into());
                }
                had_command_bucket_id = true;
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
                if !want.type_ {
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
                if !want.type_ {
                    return Err("selection method is not needed".into());
                }
                if value.len() >= MAX_SELECTION_METHOD_LEN {
                    return Err(format!(
                        "selection method is longer than {} bytes long",
                        MAX_SELECTION_METHOD_LEN - 1
                    ));
                }
                gm.props.selection_method = value.to_string();
                usable &= Protocols::OF10_ANY | Protocols::OF15_UP;
            }
            "selection_method_param" => {
                if !want.type_ {
                    return Err("selection method param is not needed".into());
                }
                gm.props.selection_method_param = flow::flow_str::str_to_u64(value)?;
                usable &= Protocols::OF10_ANY | Protocols::OF15_UP;
            }
            "fields" => {
                if !want.type_ {
                    return Err("fields are not needed".into());
                }
                parse_hash_fields(value, ports, &mut gm.props.fields, &mut usable)?;
                usable &= Protocols::OF10_ANY | Protocols::OF15_UP;
            }
            _ => return Err(format!("unknown keyword {name}")),
        }
    }
    if gm.group_id == OFPG_ANY {
        return Err("must specify a group_id".into());
    }
    if want.type_ && !had_type {
        return Err("must specify a type".into());
    }
    if gm.props.selection_method != "hash" && !gm.props.fields.is_empty() {
        return Err("fields may only be specified with \"selection_method=hash\"".into());
    }
    if gm.props.selection_method.is_empty() && gm.props.selection_method_param != 0 {
        return Err("selection_method_param is only allowed with \"selection_method\"".into());
    }
    if want.command_bucket_id {
        if !(want.command_bucket_id_all || had_command_bucket_id) {
            return Err("must specify a command bucket id".into());
        }
    } else if had_command_bucket_id {
        return Err("command bucket id is not needed".into());
    }

    if let Some(mut s) = buckets {
        loop {
            // `s` starts with "bucket=" (or, after the first, "bucket=").
            let body = &s["bucket=".len()..];
            let (this, next) = match body.find("bucket=") {
                Some(i) => (&body[..i], Some(&body[i..])),
                None => (body, None),
            };
            let bucket = parse_bucket(this, ports, gm.type_, &mut usable)?;
            if gm.type_ != GT_SELECT && bucket.weight != 0 {
                return Err("Only select groups can have bucket weights.".into());
            }
            gm.buckets.push(bucket);
            match next {
                Some(n) => s = n,
                None => break,
            }
        }
    }
    if gm.type_ == GT_INDIRECT && gm.buckets.len() > 1 {
        return Err("Indirect groups can have at most one bucket.".into());
    }
    Ok(ParsedGroupMod {
        group_mod: gm,
        usable_protocols: usable,
    })
}

/// One bucket's `key=value` list; anything that is not a bucket setting is
/// an action.
fn parse_bucket(
    text: &str,
    ports: Option<&PortMap>,
    group_type: u8,
    usable: &mut Protocols,
) -> Result<Bucket, String> {
    let mut b = Bucket {
        bucket_id: BUCKET_ALL,
        weight: u16::from(group_type == GT_SELECT),
        watch_port: OFPP_ANY,
        watch_group: OFPG_ANY,
        actions: Vec::new(),
    };
    let mut actions = String::new();
    let mut rest = text;
    while let Some((key, value)) = next_pair(&mut rest) {
        match key.to_ascii_lowercase().as_str() {
            "weight" => b.weight = str_to_u16(value, "weight")?,
            "watch_port" => {
                let parsed = flow::port::parse_port(value, ports);
                if let Some(w) = parsed.as_ref().and_then(|p| p.warning.as_ref()) {
                    vlog::warn!(w.module, "{}", w.text);
                }
                let port = parsed
                    .and_then(|p| u16::try_from(p.port).ok())
                    .filter(|&p| p < OFPP_MAX || p == OFPP_ANY);
                b.watch_port = port.ok_or_else(|| format!("{value}: invalid watch_port"))?;
            }
            "watch_group" => {
                b.watch_group = str_to_u32(value)?;
                if b.watch_group > OFPG_MAX {
                    return Err(format!("invalid watch_group id {}", b.watch_group));
                }
            }
            "bucket_id" => {
                b.bucket_id = str_to_u32(value)?;
                if b.bucket_id > BUCKET_MAX {
                    return Err(format!("invalid bucket_id id {}", b.bucket_id));
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
    if group_type == GT_FF && b.watch_port == OFPP_ANY && b.watch_group == OFPG_ANY {
        return Err("fast failover bucket requires watch_port or watch_group".into());
    }
    actions.pop();
    let mut warnings = Vec::new();
    let parsed = flow::actions::parse::parse_actions(&actions, ports, &mut warnings)?;
    for w in &warnings {
        vlog::warn!(w.module, "{}", w.text);
    }
    // Upstream's action parser starts from "any protocol": the last
    // bucket's actions decide what the whole group can use.
    *usable = parsed.usable_protocols;
    b.actions = parsed.actions;
    Ok(b)
}

/// `fields(...)` of a select group hashed with `selection_method=hash`:
/// field names, each with an optional mask.
fn parse_hash_fields(
    text: &str,
    ports: Option<&PortMap>,
    fields: &mut Vec<(FieldId, MfValue)>,
    usable: &mut Protocols,
) -> Result<(), String> {
    let _ = ports;
    let mut rest = text;
    loop {
        let before = rest;
        let Some((name, value)) = next_pair(&mut rest) else {
            break;
        };
        let Some(field) = FieldId::from_name(name) else {
            return Err(format!("{before}: unknown field {name}"));
        };
        if fields.iter().any(|(f, _)| *f == field) {
            return Err(format!("{name}: duplicate field"));
        }
        let n = field.def().n_bytes;
        let mask = if value.is_empty() {
            MfValue::ones(n)
        } else {
            let (v, _) = MfValue::parse(field, value)?;
            if v.is_zero() && !name.starts_with("tun_metadata") {
                return Err(format!(
                    "{rest}: values are wildcards here and must not be all-zeros"
                ));
            }
            v
        };
        *usable &= if mask.is_all_ones() {
            field.usable_protocols_exact()
        } else if field.usable_protocols_bitwise() == field.usable_protocols_cidr()
            || is_cidr(&mask)
        {
            field.usable_protocols_cidr()
        } else {
            field.usable_protocols_bitwise()
        };
        fields.push((field, mask));
    }
    fields.sort_by_key(|(f, _)| *f as usize);
    Ok(())
}

/// Whether the first four bytes of a mask are a CIDR prefix (upstream
/// applies this test to every field's leading 32 bits).
fn is_cidr(mask: &MfValue) -> bool {
    let b = mask.as_bytes();
    let mut w = [0u8; 4];
    for (i, x) in b.iter().take(4).enumerate() {
        w[i] = *x;
    }
    let x = !u32::from_be_bytes(w);
    x & x.wrapping_add(1) == 0
}

/// Gives buckets without an explicit id the lowest free ids, in order, as
/// upstream does when it encodes a group in the OpenFlow 1.5 layout: the
/// ids counted as taken are those of the buckets after the first bucket
/// without one.
pub fn assign_bucket_ids(buckets: &mut [Bucket]) {
    let Some(first) = buckets.iter().position(|b| b.bucket_id > BUCKET_MAX) else {
        return;
    };
    let mut used: Vec<u32> = buckets[first..]
        .iter()
        .map(|b| b.bucket_id)
        .filter(|&id| id <= BUCKET_MAX)
        .collect();
    used.sort_unstable();
    let mut next = 0u32;
    for b in buckets[first..]
        .iter_mut()
        .filter(|b| b.bucket_id > BUCKET_MAX)
    {
        while used.binary_search(&next).is_ok() {
            next += 1;
        }
        b.bucket_id = next;
        next += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<ParsedGroupMod, String> {
        parse_group_mod(s, Some(command::ADD), None)
    }

    #[test]
    fn select_group_with_buckets() {
        let g = parse("group_id=1,type=select,bucket=weight=2,actions=output:1,bucket=output:2")
            .unwrap()
            .group_mod;
        assert_eq!(g.group_id, 1);
        assert_eq!(g.type_, GT_SELECT);
        assert_eq!(g.buckets.len(), 2);
        assert_eq!(g.buckets[0].weight, 2);
        assert_eq!(g.buckets[1].weight, 1);
    }

    #[test]
    fn upstream_errors() {
        let e = |s: &str| parse(s).unwrap_err();
        assert_eq!(e("type=all"), "must specify a group_id");
        assert_eq!(e("group_id=1"), "must specify a type");
        assert_eq!(
            e("group_id=1,type=all,bucket="),
            "bucket must specify actions"
        );
        assert_eq!(e("group_id=1,type=all,bucket"), "unknown keyword bucket");
        assert_eq!(
            e("group_id=1,type=ff,bucket=actions=1"),
            "fast failover bucket requires watch_port or watch_group"
        );
        assert_eq!(
            e("group_id=1,type=indirect,bucket=weight=2,actions=1"),
            "Only select groups can have bucket weights."
        );
        assert_eq!(
            e("group_id=1,type=indirect,bucket=actions=1,bucket=actions=2"),
            "Indirect groups can have at most one bucket."
        );
        assert_eq!(
            e("group_id=4294967041,type=all"),
            "invalid group id 4294967041"
        );
        assert_eq!(
            e("group_id=1,type=select,bucket=actions=clear_actions"),
            "clear_actions instruction not allowed here"
        );
    }

    #[test]
    fn leading_commands() {
        let g = parse_group_mod("delete,group_id=3", None, None).unwrap();
        assert_eq!(g.group_mod.command, command::DELETE);
        let g = parse_group_mod("", Some(command::DELETE), None).unwrap();
        assert_eq!(g.group_mod.group_id, OFPG_ALL);
    }

    #[test]
    fn bucket_ids_fill_gaps() {
        let mut g = parse(
            "group_id=1,type=all,bucket=bucket_id=5,actions=1,bucket=actions=2,bucket=bucket_id=0,actions=3,bucket=actions=4",
        )
        .unwrap()
        .group_mod;
        assign_bucket_ids(&mut g.buckets);
        let ids: Vec<u32> = g.buckets.iter().map(|b| b.bucket_id).collect();
        assert_eq!(ids, vec![5, 1, 0, 2]);
        let mut g = parse("group_id=1,type=all,bucket=actions=1,bucket=bucket_id=0,actions=2")
            .unwrap()
            .group_mod;
        assign_bucket_ids(&mut g.buckets);
        assert_eq!(g.buckets[0].bucket_id, 1);
    }
}
