//! Parsing actions and instructions from `ovs-ofctl` text (OVS's
//! `ofpacts_parse_actions` / `ofpacts_parse_instructions`), with upstream's
//! error messages and the narrowing of usable protocols that some actions
//! imply.

use std::net::{Ipv4Addr, Ipv6Addr};

use super::format::PT_USE_NEXT_PROTO;
use super::mf::{self, FieldId, MfValue, Subfield};
use super::model::*;
use super::port::OfpPort;
use super::verify::{verify, Allowed, Outer};
use super::wire::OfpVersion;
use crate::key_value::next_pair;
use crate::port::{PortMap, Warning};
use crate::Protocols;

/// The result of parsing: the actions and the protocols able to carry them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParsedActions {
    pub actions: Vec<OfpAction>,
    pub usable_protocols: Protocols,
}

/// State shared by the parsers of one action string.
pub(crate) struct Ctx<'a> {
    pub ports: Option<&'a PortMap>,
    pub warnings: &'a mut Vec<Warning>,
    pub usable: Protocols,
}

type PResult<T> = Result<T, String>;

/// Parses a flow's actions, instructions allowed (`ofpacts_parse_instructions`).
/// Warnings upstream would log are appended to `warnings`.
pub fn parse_instructions(
    s: &str,
    ports: Option<&PortMap>,
    warnings: &mut Vec<Warning>,
) -> PResult<ParsedActions> {
    parse_top(s, ports, warnings, Allowed::All)
}

/// Parses an action list without instructions (`ofpacts_parse_actions`,
/// as in group buckets and packet-outs).
pub fn parse_actions(
    s: &str,
    ports: Option<&PortMap>,
    warnings: &mut Vec<Warning>,
) -> PResult<ParsedActions> {
    parse_top(s, ports, warnings, Allowed::ApplyOnly)
}

/// Parses a flow's actions and checks them against its match `m` in table
/// `table_id` (255 when unspecified), as `ovs-ofctl` does for flow syntax:
/// `usable` comes in as the protocols the match allows and goes out
/// narrowed by the actions.
pub fn parse_flow_actions(
    s: &str,
    m: &crate::Match,
    table_id: u8,
    ports: Option<&PortMap>,
    warnings: &mut Vec<Warning>,
    usable: &mut Protocols,
) -> PResult<Vec<OfpAction>> {
    let mut parsed = parse_instructions(s, ports, warnings)?;
    *usable &= parsed.usable_protocols;
    let r =
        super::check::check_actions(&mut parsed.actions, m, OfpPort::MAX, table_id, 255, usable)
            .and_then(|_| {
                if usable.is_empty() {
                    Err(super::OfpErr::OfpbacMatchInconsistent)
                } else {
                    Ok(())
                }
            });
    match r {
        Ok(()) => Ok(parsed.actions),
        Err(e) => Err(format!(
            "actions are invalid with specified match ({})",
            e.name()
        )),
    }
}

fn parse_top(
    s: &str,
    ports: Option<&PortMap>,
    warnings: &mut Vec<Warning>,
    allowed: Allowed,
) -> PResult<ParsedActions> {
    let mut ctx = Ctx {
        ports,
        warnings,
        usable: Protocols::ANY,
    };
    let actions = parse_list(&mut ctx, s, allowed, None)?;
    Ok(ParsedActions {
        actions,
        usable_protocols: ctx.usable,
    })
}

/// Parses a comma-separated list (`ofpacts_parse__`) and verifies it.
pub(crate) fn parse_list(
    ctx: &mut Ctx<'_>,
    s: &str,
    allowed: Allowed,
    outer: Option<Outer>,
) -> PResult<Vec<OfpAction>> {
    let mut rest = s;
    let mut out = Vec::new();
    let mut drop = false;
    while let Some((key, value)) = next_pair(&mut rest) {
        if key.eq_ignore_ascii_case("drop") {
            drop = true;
            continue;
        }
        if key.eq_ignore_ascii_case("apply_actions") {
            return Err("apply_actions is the default instruction".into());
        }
        if key.eq_ignore_ascii_case("check_pkt_larger") && rest.starts_with("->") {
            // `check_pkt_larger(LEN)->DST`: the destination follows the
            // parenthesized value, so take it along.
            let end = rest
                .find([',', ' ', '\t', '\r', '\n'])
                .unwrap_or(rest.len());
            let arg = format!("{value}){}", &rest[..end]);
            rest = &rest[end..];
            parse_one(ctx, key, &arg, &mut out)?;
            continue;
        }
        parse_one(ctx, key, value, &mut out)?;
    }
    if drop && !out.is_empty() {
        return Err("\"drop\" must not be accompanied by any other action or instruction".into());
    }
    let mut msg = Some(String::new());
    if verify(&out, OfpVersion::Of11, allowed, outer, &mut msg).is_err() {
        return Err(msg
            .filter(|m| !m.is_empty())
            .unwrap_or_else(|| "Incorrect instruction ordering".into()));
    }
    Ok(out)
}

fn parse_one(ctx: &mut Ctx<'_>, key: &str, arg: &str, out: &mut Vec<OfpAction>) -> PResult<()> {
    use OfpAction as A;
    let k = key.to_ascii_lowercase();
    let a = match k.as_str() {
        "output" => parse_output(ctx, arg)?,
        "group" => A::Group(str_to_u32(arg)?),
        "controller" => A::Controller(parse_controller(arg)?),
        "enqueue" => parse_enqueue(ctx, arg)?,
        "bundle" => A::Bundle(parse_bundle(ctx, arg, false)?),
        "bundle_load" => A::Bundle(parse_bundle(ctx, arg, true)?),
        "set_field" => parse_set_field(ctx, arg)?,
        "load" => parse_load(arg)?,
        "move" => parse_move(arg)?,
        "push" | "pop" => {
            let (sf, rest) = Subfield::parse_prefix(arg)?;
            if !rest.is_empty() {
                return Err(format!("{rest}: trailing garbage following push or pop"));
            }
            if k == "push" {
                A::StackPush(sf)
            } else {
                A::StackPop(sf)
            }
        }
        "mod_vlan_vid" | "set_vlan_vid" => {
            let vid = str_to_u16(arg, "VLAN VID")?;
            if vid & !0xfff != 0 {
                return Err(format!("{arg}: not a valid VLAN VID"));
            }
            A::SetVlanVid {
                vid,
                push_vlan_if_needed: k == "mod_vlan_vid",
                flow_has_vlan: false,
            }
        }
        "mod_vlan_pcp" | "set_vlan_pcp" => {
            let pcp = str_to_u8(arg, "VLAN PCP")?;
            if pcp & !7 != 0 {
                return Err(format!("{arg}: not a valid VLAN PCP"));
            }
            A::SetVlanPcp {
                pcp,
                push_vlan_if_needed: k == "mod_vlan_pcp",
                flow_has_vlan: false,
            }
        }
        "strip_vlan" => A::StripVlan { pop_vlan: false },
        "pop_vlan" => A::StripVlan { pop_vlan: true },
        "push_vlan" => {
            let ethertype = str_to_u16(arg, "ethertype")?;
            if ethertype != 0x8100 && ethertype != 0x88a8 {
                return Err(format!("{arg}: not a valid VLAN ethertype"));
            }
            ctx.usable &= Protocols::OF11_UP;
            A::PushVlan { ethertype }
        }
        "mod_dl_src" | "mod_dl_dst" => {
            let mac = crate::value_str::scan_eth(arg)
                .filter(|(_, rest)| rest.is_empty())
                .map(|(m, _)| m)
                .ok_or_else(|| format!("invalid mac address {arg}"))?;
            if k == "mod_dl_src" {
                A::SetEthSrc(mac)
            } else {
                A::SetEthDst(mac)
            }
        }
        "mod_nw_src" | "mod_nw_dst" => {
            let ip = parse_ip(ctx, arg)?;
            if k == "mod_nw_src" {
                A::SetIpv4Src(ip)
            } else {
                A::SetIpv4Dst(ip)
            }
        }
        "mod_nw_tos" => {
            let tos = str_to_u8(arg, "TOS")?;
            if tos & !0xfc != 0 {
                return Err(format!("{arg}: not a valid TOS"));
            }
            A::SetIpDscp(tos)
        }
        "mod_nw_ecn" => {
            let ecn = str_to_u8(arg, "ECN")?;
            if ecn & !3 != 0 {
                return Err(format!("{arg}: not a valid ECN"));
            }
            A::SetIpEcn(ecn)
        }
        "mod_nw_ttl" | "set_nw_ttl" => A::SetIpTtl(str_to_u8(arg, "TTL")?),
        "mod_tp_src" => A::SetL4SrcPort {
            port: str_to_u16(arg, "source port")?,
            flow_ip_proto: 0,
        },
        "mod_tp_dst" => A::SetL4DstPort {
            port: str_to_u16(arg, "destination port")?,
            flow_ip_proto: 0,
        },
        "dec_ttl" => parse_dec_ttl(arg)?,
        "set_mpls_label" => {
            if arg.is_empty() {
                return Err("set_mpls_label: expected label.".into());
            }
            let label = str_to_u32(arg)?;
            if label & !0xfffff != 0 {
                return Err(format!("{arg}: not a valid MPLS label"));
            }
            A::SetMplsLabel(label)
        }
        "set_mpls_tc" => {
            if arg.is_empty() {
                return Err("set_mpls_tc: expected tc.".into());
            }
            let tc = str_to_u8(arg, "MPLS TC")?;
            if tc & !7 != 0 {
                return Err(format!("{arg}: not a valid MPLS TC"));
            }
            A::SetMplsTc(tc)
        }
        "set_mpls_ttl" => {
            if arg.is_empty() {
                return Err("set_mpls_ttl: expected ttl.".into());
            }
            A::SetMplsTtl(str_to_u8(arg, "MPLS TTL")?)
        }
        "dec_mpls_ttl" => A::DecMplsTtl,
        "push_mpls" => A::PushMpls {
            ethertype: str_to_u16(arg, "push_mpls")?,
        },
        "pop_mpls" => A::PopMpls {
            ethertype: str_to_u16(arg, "pop_mpls")?,
        },
        "dec_nsh_ttl" => A::DecNshTtl,
        "delete_field" => {
            let f = FieldId::from_name(arg).ok_or_else(|| format!("unknown field `{arg}'"))?;
            A::DeleteField(f)
        }
        "encap" => {
            let e = parse_encap(arg)?;
            ctx.usable &= Protocols::OF13_UP;
            A::Encap(e)
        }
        "decap" => parse_decap(arg)?,
        "set_tunnel" | "set_tunnel64" => A::SetTunnel {
            tun_id: crate::flow_str::str_to_u64(arg)?,
            raw: if k == "set_tunnel64" {
                SetTunnelRaw::Tunnel64
            } else {
                SetTunnelRaw::Auto
            },
        },
        "set_queue" => A::SetQueue(str_to_u32(arg)?),
        "pop_queue" => A::PopQueue,
        "fin_timeout" => parse_fin_timeout(arg)?,
        "resubmit" => parse_resubmit(ctx, arg)?,
        "learn" => A::Learn(Box::new(super::learn::parse_learn(ctx, arg)?)),
        "conjunction" => parse_conjunction(arg)?,
        "multipath" => A::Multipath(parse_multipath(arg)?),
        "note" => A::Note(parse_note(arg)?),
        "exit" => A::Exit,
        "sample" => parse_sample(ctx, arg)?,
        "ct" => A::Ct(Box::new(parse_ct(ctx, arg)?)),
        "ct_clear" => A::CtClear,
        "nat" => A::Nat(parse_nat(arg)?),
        "clone" => {
            // Upstream parses a clone's actions with a fresh protocol set,
            // forgetting what the actions before it required.
            ctx.usable = Protocols::ANY;
            A::Clone(parse_list(
                ctx,
                arg,
                Allowed::ApplyOnly,
                Some(Outer::Clone),
            )?)
        }
        "check_pkt_larger" => parse_check_pkt_larger(arg)?,
        "unroll_xlate" => {
            return Err("UNROLL is an internal action that shouldn't be used via OpenFlow".into())
        }
        "debug_recirc" => A::DebugRecirc,
        "debug_slow" => A::DebugSlow,
        "meter" => {
            ctx.usable &= Protocols::OF13_UP;
            A::Meter(str_to_u32(arg)?)
        }
        "clear_actions" => A::ClearActions,
        "write_actions" => A::WriteActions(parse_list(
            ctx,
            arg,
            Allowed::ApplyOnly,
            Some(Outer::WriteActions),
        )?),
        "write_metadata" => {
            let (v, m) = match arg.split_once('/') {
                Some((v, m)) => (str_to_u64(v)?, str_to_u64(m)?),
                None => (str_to_u64(arg)?, u64::MAX),
            };
            ctx.usable &= Protocols::NXM_OF11_UP;
            A::WriteMetadata {
                metadata: v,
                mask: m,
            }
        }
        "goto_table" => {
            let t = parse_table(ctx, arg).ok_or_else(|| format!("unknown table \"{arg}\""))?;
            A::GotoTable(t)
        }
        _ => match OfpPort::parse(key, ctx.ports, ctx.warnings) {
            Some(port) => A::Output(Output {
                port,
                max_len: if port == OfpPort::CONTROLLER {
                    u16::MAX
                } else {
                    0
                },
            }),
            None => return Err(format!("unknown action {key}")),
        },
    };
    out.push(a);
    Ok(())
}

// ---- Numbers as upstream's str_to_* helpers ----

/// C `strtoll(s, &end, 0)` over the whole string.
pub(crate) fn strtoll0(s: &str) -> Option<i128> {
    let t = s.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let (neg, u) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let (radix, digits) = if (u.starts_with("0x") || u.starts_with("0X")) && u.len() > 2 {
        (16, &u[2..])
    } else if u.starts_with('0') && u.len() > 1 {
        (8, &u[1..])
    } else {
        (10, u)
    };
    if digits.is_empty() || digits.len() > 40 || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let v = i128::from_str_radix(digits, radix).ok()?;
    Some(if neg { -v } else { v })
}

/// `str_to_u16`: error `invalid NAME "VALUE"`.
pub(crate) fn str_to_u16(s: &str, name: &str) -> PResult<u16> {
    match strtoll0(s) {
        Some(v) if (0..=0xffff).contains(&v) => Ok(v as u16),
        _ => Err(format!("invalid {name} \"{s}\"")),
    }
}

/// `str_to_u8`: error `invalid NAME "VALUE"`.
pub(crate) fn str_to_u8(s: &str, name: &str) -> PResult<u8> {
    match strtoll0(s) {
        Some(v) if (0..=0xff).contains(&v) => Ok(v as u8),
        _ => Err(format!("invalid {name} \"{s}\"")),
    }
}

/// `str_to_u32`: error `invalid numeric format VALUE`.
pub(crate) fn str_to_u32(s: &str) -> PResult<u32> {
    match strtoll0(s) {
        Some(v) if (0..=0xffff_ffff).contains(&v) && !s.is_empty() => Ok(v as u32),
        _ => Err(format!("invalid numeric format {s}")),
    }
}

/// `str_to_u64`: error `invalid numeric format VALUE`.
pub(crate) fn str_to_u64(s: &str) -> PResult<u64> {
    crate::flow_str::str_to_u64(s)
}

/// C `atoi`.
pub(crate) fn atoi(s: &str) -> i64 {
    let t = s.trim_start();
    let (neg, u) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let n = u.bytes().take_while(|b| b.is_ascii_digit()).count();
    let v: i64 = u[..n].parse::<i64>().unwrap_or(0).min(i64::from(i32::MAX));
    if neg {
        -v
    } else {
        v
    }
}

/// A table number as `ofputil_table_from_string` (warning when out of range).
pub(crate) fn parse_table(ctx: &mut Ctx<'_>, s: &str) -> Option<u8> {
    if s.starts_with('-') {
        ctx.warnings.push(Warning {
            module: "ofp_table",
            site: "table",
            once: false,
            text: format!("Negative value {s} is not a valid table number."),
        });
        return None;
    }
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: u64 = s.parse().ok()?;
    if n > 255 {
        ctx.warnings.push(Warning {
            module: "ofp_table",
            site: "table",
            once: false,
            text: format!("table {n} is outside the supported range 0 through 255"),
        });
        return None;
    }
    Some(n as u8)
}

fn parse_ip(ctx: &mut Ctx<'_>, s: &str) -> PResult<Ipv4Addr> {
    match s.parse::<Ipv4Addr>() {
        Ok(ip) => Ok(ip),
        Err(_) => {
            ctx.warnings.push(Warning {
                module: "socket_util",
                site: "ip",
                once: false,
                text: format!("\"{s}\" is not a valid IP address"),
            });
            Err(format!("{s}: could not convert to IP address"))
        }
    }
}

// ---- Individual actions ----

fn parse_output(ctx: &mut Ctx<'_>, arg: &str) -> PResult<OfpAction> {
    if arg.contains("port") && arg.contains("max_len") {
        let mut rest = arg;
        let mut port = None;
        let mut max_len = 0u32;
        while let Some((k, v)) = next_pair(&mut rest) {
            match k {
                "port" => {
                    port = Some(
                        OfpPort::parse(v, ctx.ports, ctx.warnings)
                            .ok_or_else(|| format!("output to unknown truncate port: {v}"))?,
                    )
                }
                "max_len" => max_len = str_to_u32(v)?,
                _ => return Err(format!("invalid key '{k}' in output_trunc argument")),
            }
        }
        if max_len < 14 {
            return Err(format!(
                "max_len {max_len} is less than the minimum value 14"
            ));
        }
        let port = port.unwrap_or(OfpPort::NONE);
        if port > OfpPort::MAX && port != OfpPort::LOCAL && port != OfpPort::IN_PORT {
            let name = arg
                .split(',')
                .find_map(|kv| kv.trim().strip_prefix("port="))
                .unwrap_or("");
            return Err(format!("output to unsupported truncate port: {name}"));
        }
        return Ok(OfpAction::OutputTrunc { port, max_len });
    }
    if let Ok(src) = Subfield::parse(arg) {
        if FieldId::from_field_name(arg).is_none() || arg.contains('[') {
            return Ok(OfpAction::OutputReg {
                src,
                max_len: u16::MAX,
                raw: OutputRegRaw::OutputReg,
            });
        }
    }
    let port = OfpPort::parse(arg, ctx.ports, ctx.warnings)
        .ok_or_else(|| format!("{arg}: output to unknown port"))?;
    Ok(OfpAction::Output(Output {
        port,
        max_len: if port == OfpPort::CONTROLLER {
            u16::MAX
        } else {
            0
        },
    }))
}

fn parse_hex_bytes(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'.' {
            i += 1;
            continue;
        }
        let hi = (*b.get(i)? as char).to_digit(16)?;
        let lo = (*b.get(i + 1)? as char).to_digit(16)?;
        out.push((hi * 16 + lo) as u8);
        i += 2;
    }
    Some(out)
}

fn parse_controller(arg: &str) -> PResult<Controller> {
    let mut c = Controller::default();
    if arg.is_empty() {
        return Ok(c);
    }
    if !arg.contains(['=', ',']) && strtoll0(arg).is_some() {
        c.max_len = str_to_u16(arg, "max_len")?;
        return Ok(c);
    }
    let mut rest = arg;
    while let Some((k, v)) = next_pair(&mut rest) {
        match k {
            "reason" => {
                c.reason =
                    PacketInReason::from_name(v).ok_or_else(|| format!("unknown reason \"{v}\""))?
            }
            "max_len" => c.max_len = str_to_u16(v, "max_len")?,
            "id" => c.controller_id = str_to_u16(v, "id")?,
            "userdata" => {
                c.userdata =
                    parse_hex_bytes(v).ok_or("bad hex digit in `controller' action `userdata'")?
            }
            "pause" => c.pause = true,
            "meter_id" => c.meter_id = str_to_u32(v)?,
            _ => return Err(format!("unknown key \"{k}\" parsing controller action")),
        }
    }
    Ok(c)
}

fn parse_enqueue(ctx: &mut Ctx<'_>, arg: &str) -> PResult<OfpAction> {
    let syntax =
        || "\"enqueue\" syntax is \"enqueue:PORT:QUEUE\" or \"enqueue(PORT,QUEUE)\"".to_string();
    let t = arg.trim_start_matches([':', 'q', ',']);
    let end = t.find([':', 'q', ',']).ok_or_else(syntax)?;
    let port_s = &t[..end];
    let queue_s = &t[end + 1..];
    if port_s.is_empty() {
        return Err(syntax());
    }
    let port = OfpPort::parse(port_s, ctx.ports, ctx.warnings)
        .ok_or_else(|| format!("{port_s}: enqueue to unknown port"))?;
    Ok(OfpAction::Enqueue {
        port,
        queue: str_to_u32(queue_s)?,
    })
}

fn parse_bundle(ctx: &mut Ctx<'_>, arg: &str, load: bool) -> PResult<Bundle> {
    let not_enough = || format!("{arg}: not enough arguments to bundle action");
    // Subfields contain brackets, so split at commas outside brackets.
    let mut tokens: Vec<String> = Vec::new();
    let mut depth = 0;
    let mut cur = String::new();
    for c in arg.chars() {
        match c {
            '[' => {
                depth += 1;
                cur.push(c);
            }
            ']' => {
                depth -= 1;
                cur.push(c);
            }
            ',' | ' ' if depth == 0 => {
                if !cur.is_empty() {
                    tokens.push(std::mem::take(&mut cur));
                }
            }
            _ => cur.push(c),
        }
    }
    if !cur.is_empty() {
        tokens.push(cur);
    }
    let need = if load { 6 } else { 5 };
    if tokens.len() < need {
        return Err(not_enough());
    }
    let fields = HashFields::from_name(&tokens[0])
        .ok_or_else(|| format!("{arg}: unknown fields `{}'", tokens[0]))?;
    let basis = atoi(&tokens[1]) as u16;
    let algorithm = match tokens[2].as_str() {
        "active_backup" => BundleAlgorithm::ActiveBackup,
        "hrw" => BundleAlgorithm::Hrw,
        other => return Err(format!("{arg}: unknown algorithm `{other}'")),
    };
    if tokens[3] != "ofport" {
        return Err(format!("{arg}: unknown member_type `{}'", tokens[3]));
    }
    let mut idx = 4;
    let dst = if load {
        let d = Subfield::parse(&tokens[4])?;
        mf::require_header32(arg, &tokens[4], d.field)?;
        idx = 5;
        Some(d)
    } else {
        None
    };
    let delim = &tokens[idx];
    let (word, first) = match delim.split_once(':') {
        Some((w, f)) => (w, Some(f)),
        None => (delim.as_str(), None),
    };
    if word != "members" && word != "slaves" {
        return Err(format!(
            "{arg}: missing member delimiter, expected `members', got `{word}'"
        ));
    }
    let mut members = Vec::new();
    let rest = first
        .into_iter()
        .chain(tokens[idx + 1..].iter().map(String::as_str));
    let rest: Vec<&str> = rest.flat_map(|t| t.split(['[', ']', ','])).collect();
    for m in rest.into_iter().filter(|m| !m.is_empty()) {
        let p = OfpPort::parse(m, ctx.ports, ctx.warnings)
            .ok_or_else(|| format!("{m}: bad port number"))?;
        members.push(p);
    }
    Ok(Bundle {
        algorithm,
        fields,
        basis,
        dst,
        members,
    })
}

fn parse_set_field(ctx: &mut Ctx<'_>, arg: &str) -> PResult<OfpAction> {
    let Some(pos) = arg.find("->") else {
        return Err(format!("{arg}: missing `->'"));
    };
    let key = &arg[pos + 2..];
    if key.is_empty() {
        return Err(format!("{arg}: missing field name following `->'"));
    }
    let field =
        FieldId::from_name(key).ok_or_else(|| format!("{key} is not a valid OXM field name"))?;
    if !field.def().writable {
        return Err(format!("{key} is read-only"));
    }
    let value_s = &arg[..pos];
    let (v, m) = MfValue::parse_with_ports(field, value_s, ctx.ports)?;
    if !field.is_value_valid(&v) {
        return Err(format!("{value_s} is not a valid value for field {key}"));
    }
    // A mask does not narrow the protocols: versions without masked
    // set-field encode it as loads or drop the mask, as upstream does.
    ctx.usable &= field.usable_protocols_exact();
    Ok(OfpAction::SetField(SetField {
        field,
        value: v.as_bytes().to_vec(),
        mask: m.as_bytes().to_vec(),
        raw: SetFieldRaw::SetField,
        flow_has_vlan: false,
    }))
}

fn parse_load(arg: &str) -> PResult<OfpAction> {
    let Some(pos) = arg.find("->") else {
        return Err(format!("{arg}: missing `->'"));
    };
    let dst_s = &arg[pos + 2..];
    if dst_s.is_empty() {
        return Err(format!("{arg}: missing field name following `->'"));
    }
    let dst = Subfield::parse(dst_s)?;
    let n = mf::field_bytes(dst.field);
    let value = mf::parse_int_bytes(&arg[..pos], n)
        .ok_or_else(|| format!("{arg}: cannot parse integer value"))?;
    if (dst.n_bits..n * 8).any(|b| mf::get_bit(&value, b)) {
        return Err(format!(
            "{arg}: value {} does not fit into {} bits",
            mf::format_value(dst.field, &value, None),
            dst.n_bits
        ));
    }
    Ok(OfpAction::SetField(super::wire::load_to_set_field(
        &dst,
        &value,
        SetFieldRaw::Load,
    )))
}

fn parse_move(arg: &str) -> PResult<OfpAction> {
    let (src, rest) = Subfield::parse_prefix(arg)?;
    let Some(rest) = rest.strip_prefix("->") else {
        return Err(format!("{arg}: missing `->' following source"));
    };
    let dst = Subfield::parse(rest)?;
    if src.n_bits != dst.n_bits {
        return Err(format!(
            "{arg}: source field is {} bits wide but destination is {} bits wide",
            src.n_bits, dst.n_bits
        ));
    }
    Ok(OfpAction::RegMove(RegMove {
        src,
        dst,
        raw: RegMoveRaw::Auto,
    }))
}

fn parse_dec_ttl(arg: &str) -> PResult<OfpAction> {
    if arg.is_empty() {
        return Ok(OfpAction::DecTtl {
            cnt_ids: vec![0],
            raw: DecTtlRaw::DecNwTtl,
        });
    }
    let ids: Vec<u16> = arg
        .split([',', ' '])
        .filter(|t| !t.is_empty())
        .map(|t| atoi(t) as u16)
        .collect();
    if ids.is_empty() {
        return Err("dec_ttl_cnt_ids: expected at least one controller id.".into());
    }
    Ok(OfpAction::DecTtl {
        cnt_ids: ids,
        raw: DecTtlRaw::CntIds,
    })
}

fn parse_fin_timeout(arg: &str) -> PResult<OfpAction> {
    let (mut idle, mut hard) = (0, 0);
    let mut rest = arg;
    while let Some((k, v)) = next_pair(&mut rest) {
        match k {
            "idle_timeout" => idle = str_to_u16(v, k)?,
            "hard_timeout" => hard = str_to_u16(v, k)?,
            _ => return Err(format!("invalid key '{k}' in 'fin_timeout' argument")),
        }
    }
    Ok(OfpAction::FinTimeout { idle, hard })
}

fn parse_resubmit(ctx: &mut Ctx<'_>, arg: &str) -> PResult<OfpAction> {
    let mut parts = arg.splitn(3, ',');
    let port_s = parts.next().unwrap_or("");
    let table_s = parts.next().unwrap_or("");
    let ct_s = parts.next().unwrap_or("");
    let mut r = Resubmit {
        in_port: OfpPort::IN_PORT,
        table_id: 255,
        with_ct_orig: false,
        raw: ResubmitRaw::Auto,
    };
    if !port_s.is_empty() {
        r.in_port = OfpPort::parse(port_s, ctx.ports, ctx.warnings)
            .ok_or_else(|| format!("{port_s}: resubmit to unknown port"))?;
    }
    if !table_s.is_empty() {
        r.table_id = parse_table(ctx, table_s)
            .ok_or_else(|| format!("{table_s}: resubmit to unknown table"))?;
    }
    if !ct_s.is_empty() {
        let ct = ct_s.split(',').next().unwrap_or("");
        if ct != "ct" {
            return Err(format!("{ct}: unknown parameter"));
        }
        r.with_ct_orig = true;
    }
    if r.in_port == OfpPort::IN_PORT && r.table_id == 255 {
        return Err("at least one \"in_port\" or \"table\" must be specified on resubmit".into());
    }
    Ok(OfpAction::Resubmit(r))
}

fn parse_conjunction(arg: &str) -> PResult<OfpAction> {
    let syntax = || "\"conjunction\" syntax is \"conjunction(id,i/n)\"".to_string();
    let (id_s, rest) = arg.split_once(',').ok_or_else(syntax)?;
    let (k_s, n_s) = rest.split_once('/').ok_or_else(syntax)?;
    let id = strtoll0(id_s.trim()).ok_or_else(syntax)?;
    let k = strtoll0(k_s.trim()).ok_or_else(syntax)?;
    let n = strtoll0(n_s.trim()).ok_or_else(syntax)?;
    if !(0..=255).contains(&k) || !(0..=255).contains(&n) || id > i128::from(u32::MAX) {
        return Err(syntax());
    }
    if n < 2 {
        return Err("conjunction must have at least 2 clauses".into());
    } else if n > 64 {
        return Err("conjunction must have at most 64 clauses".into());
    } else if k < 1 {
        return Err("clause index must be positive".into());
    } else if k > n {
        return Err("clause index must be less than or equal to number of clauses".into());
    }
    Ok(OfpAction::Conjunction {
        id: id as u32,
        clause: (k - 1) as u8,
        n_clauses: n as u8,
    })
}

fn parse_multipath(arg: &str) -> PResult<Multipath> {
    let not_enough = || format!("{arg}: not enough arguments to multipath action");
    let t: Vec<&str> = arg.split([',', ' ']).filter(|x| !x.is_empty()).collect();
    if t.len() < 6 {
        return Err(not_enough());
    }
    let fields =
        HashFields::from_name(t[0]).ok_or_else(|| format!("{arg}: unknown fields `{}'", t[0]))?;
    let basis = atoi(t[1]) as u16;
    let algorithm = match t[2] {
        "modulo_n" => MultipathAlgorithm::ModuloN,
        "hash_threshold" => MultipathAlgorithm::HashThreshold,
        "hrw" => MultipathAlgorithm::Hrw,
        "iter_hash" => MultipathAlgorithm::IterHash,
        other => return Err(format!("{arg}: unknown algorithm `{other}'")),
    };
    let n_links = atoi(t[3]);
    if !(1..=65536).contains(&n_links) {
        return Err(format!(
            "{arg}: n_links {n_links} is not in valid range 1 to 65536"
        ));
    }
    let a = atoi(t[4]) as u32;
    let dst = Subfield::parse(t[5])?;
    mf::require_header32(arg, t[5], dst.field)?;
    if dst.n_bits < 16 && n_links > (1i64 << dst.n_bits) {
        return Err(format!(
            "{arg}: {}-bit destination field has {} possible values, less than specified n_links {n_links}",
            dst.n_bits,
            1u64 << dst.n_bits
        ));
    }
    Ok(Multipath {
        fields,
        basis,
        algorithm,
        max_link: (n_links - 1) as u16,
        arg: a,
        dst,
    })
}

fn parse_note(arg: &str) -> PResult<Vec<u8>> {
    parse_hex_bytes(arg).ok_or_else(|| "bad hex digit in `note' argument".into())
}

fn parse_sample(ctx: &mut Ctx<'_>, arg: &str) -> PResult<OfpAction> {
    let mut s = Sample {
        probability: 0,
        collector_set_id: 0,
        obs_domain_id: 0,
        obs_point_id: 0,
        sampling_port: OfpPort::NONE,
        direction: SampleDirection::Default,
        raw: SampleRaw::Auto,
    };
    let mut rest = arg;
    while let Some((k, v)) = next_pair(&mut rest) {
        match k {
            "probability" => {
                s.probability = str_to_u16(v, "probability")?;
                if s.probability == 0 {
                    return Err(format!("invalid probability value \"{v}\""));
                }
            }
            "collector_set_id" => s.collector_set_id = str_to_u32(v)?,
            "obs_domain_id" => s.obs_domain_id = str_to_u32(v)?,
            "obs_point_id" => s.obs_point_id = str_to_u32(v)?,
            "sampling_port" => {
                s.sampling_port = OfpPort::parse(v, ctx.ports, ctx.warnings)
                    .ok_or_else(|| format!("{v}: unknown port"))?
            }
            "ingress" => s.direction = SampleDirection::Ingress,
            "egress" => s.direction = SampleDirection::Egress,
            _ => return Err(format!("invalid key \"{k}\" in \"sample\" argument")),
        }
    }
    if s.probability == 0 {
        return Err("non-zero \"probability\" must be specified on sample".into());
    }
    Ok(OfpAction::Sample(s))
}

fn parse_ct(ctx: &mut Ctx<'_>, arg: &str) -> PResult<Ct> {
    let mut ct = Ct::default();
    let mut rest = arg;
    while let Some((k, v)) = next_pair(&mut rest) {
        match k {
            "commit" => ct.flags |= NX_CT_F_COMMIT,
            "force" => ct.flags |= NX_CT_F_FORCE,
            "table" => {
                ct.recirc_table =
                    parse_table(ctx, v).ok_or_else(|| format!("unknown table {v}"))?;
                if ct.recirc_table == 255 {
                    return Err(format!("invalid table 0x{:x}", ct.recirc_table));
                }
            }
            "zone" => match strtoll0(v) {
                Some(z) if (0..=0xffff).contains(&z) => ct.zone_imm = z as u16,
                _ => ct.zone_src = Some(Subfield::parse(v)?),
            },
            "alg" => {
                ct.alg = match v {
                    "ftp" => 21,
                    "tftp" => 69,
                    _ => str_to_u16(v, "conntrack helper")
                        .map_err(|_| format!("invalid conntrack helper \"{v}\""))?,
                }
            }
            // Nested actions keep the order of the text (`nat` and `exec`
            // may repeat), as upstream appends each as it comes.
            "nat" => ct.actions.push(OfpAction::Nat(parse_nat(v)?)),
            "exec" => ct
                .actions
                .extend(parse_list(ctx, v, Allowed::ApplyOnly, Some(Outer::Ct))?),
            _ => return Err(format!("invalid argument to \"ct\" action: `{k}'")),
        }
    }
    if ct.flags & NX_CT_F_FORCE != 0 && ct.flags & NX_CT_F_COMMIT == 0 {
        return Err("\"force\" flag requires \"commit\" flag.".into());
    }
    Ok(ct)
}

/// Parses a NAT range `addr[-addr][:port[-port]]`, IPv6 addresses in
/// brackets when ports follow (upstream's `parse_NAT` range syntax).
fn parse_nat_range(s: &str, nat: &mut Nat) -> PResult<()> {
    let bad = || format!("invalid nat range \"{s}\"");
    let mut n;
    if let Some((min, rest)) = crate::value_str::scan_ipv4(s) {
        n = s.len() - rest.len();
        let mut max = 0u32;
        if let Some(r) = rest.strip_prefix('-') {
            let (m, r2) = crate::value_str::scan_ipv4(r).ok_or_else(bad)?;
            if m < min {
                return Err(bad());
            }
            max = m;
            n = s.len() - r2.len();
        }
        nat.addr = NatAddrRange::V4 {
            min: Ipv4Addr::from(min),
            max: Ipv4Addr::from(max),
        };
    } else if let Some((min, len)) = scan_ipv6(s) {
        n = len;
        let mut max = Ipv6Addr::UNSPECIFIED;
        if let Some(r) = s[n..].strip_prefix('-') {
            let (m, len2) = scan_ipv6(r).ok_or_else(bad)?;
            if m.octets() < min.octets() {
                return Err(bad());
            }
            max = m;
            n += 1 + len2;
        }
        nat.addr = NatAddrRange::V6 { min, max };
    } else {
        n = 0;
    }
    if n > 0 {
        if let Some(r) = s[n..].strip_prefix(':') {
            let digits = |x: &str| x.bytes().take_while(|c| c.is_ascii_digit()).count();
            let k = digits(r);
            let pmin: u16 = r[..k].parse().map_err(|_| bad())?;
            n += 1 + k;
            nat.proto_min = pmin;
            if let Some(r2) = s[n..].strip_prefix('-') {
                let k2 = digits(r2);
                let pmax: u16 = r2[..k2].parse().map_err(|_| bad())?;
                if pmax < pmin {
                    return Err(bad());
                }
                nat.proto_max = pmax;
                n += 1 + k2;
            }
        }
    }
    if n < s.len() {
        return Err(format!(
            "garbage ({}) after nat range \"{s}\" (pos: {n})",
            &s[n..]
        ));
    }
    Ok(())
}

/// Scans an IPv6 address, bracketed or bare, at the start of `s`; returns
/// it and the number of bytes used.
fn scan_ipv6(s: &str) -> Option<(Ipv6Addr, usize)> {
    if let Some(r) = s.strip_prefix('[') {
        let end = r.find(']')?;
        let a = r[..end].parse().ok()?;
        return Some((a, end + 2));
    }
    let len = s
        .bytes()
        .take_while(|c| c.is_ascii_hexdigit() || *c == b':' || *c == b'.')
        .count();
    let a = s[..len].parse().ok()?;
    Some((a, len))
}

fn parse_nat(arg: &str) -> PResult<Nat> {
    let mut nat = Nat::default();
    let mut rest = arg;
    while let Some((k, v)) = next_pair(&mut rest) {
        match k {
            "src" | "dst" => {
                if nat.flags & (NX_NAT_F_SRC | NX_NAT_F_DST) != 0 {
                    return Err("May only specify one of \"src\" or \"dst\".".into());
                }
                nat.flags |= if k == "src" {
                    NX_NAT_F_SRC
                } else {
                    NX_NAT_F_DST
                };
                if !v.is_empty() {
                    parse_nat_range(v, &mut nat)?;
                }
            }
            "persistent" => nat.flags |= NX_NAT_F_PERSISTENT,
            "hash" => nat.flags |= NX_NAT_F_PROTO_HASH,
            "random" => nat.flags |= NX_NAT_F_PROTO_RANDOM,
            _ => return Err(format!("invalid key \"{k}\" in \"nat\" argument")),
        }
    }
    if nat.flags & (NX_NAT_F_SRC | NX_NAT_F_DST) == 0 && nat.flags != 0 {
        return Err("Flags allowed only with \"src\" or \"dst\".".into());
    }
    if nat.flags & NX_NAT_F_PROTO_HASH != 0 && nat.flags & NX_NAT_F_PROTO_RANDOM != 0 {
        return Err("Both \"hash\" and \"random\" are not allowed.".into());
    }
    Ok(nat)
}

fn parse_check_pkt_larger(arg: &str) -> PResult<OfpAction> {
    let Some(pos) = arg.find("->") else {
        return Err(format!("{arg}: missing `->'"));
    };
    let len_s = arg[..pos].trim_end_matches(')').trim_start_matches('(');
    let pkt_len = str_to_u16(len_s, "(null)")?;
    let dst = Subfield::parse(&arg[pos + 2..])?;
    if dst.n_bits != 1 {
        return Err("Only 1-bit destination field is allowed".into());
    }
    Ok(OfpAction::CheckPktLarger { pkt_len, dst })
}

fn parse_encap(arg: &str) -> PResult<Encap> {
    let mut rest = arg;
    let (name, props_s) = next_pair(&mut rest).unwrap_or(("", ""));
    if name.is_empty() {
        return Err(format!("Missing encap hdr: {arg}"));
    }
    let new_pkt_type = match name {
        "ethernet" => 0,
        "nsh" => 0x0001_894f,
        "mpls" => 0x0001_8847,
        "mpls_mc" => 0x0001_8848,
        _ => return Err(format!("Encap hdr not supported: {props_s}")),
    };
    let mut props = Vec::new();
    let mut rest = props_s;
    while let Some((k, v)) = next_pair(&mut rest) {
        if new_pkt_type != 0x0001_894f {
            return Err(format!("Invalid property: {k}"));
        }
        match k {
            "md_type" => {
                if v.is_empty() {
                    return Err("Value missing for encap property".into());
                }
                let md = atoi(v);
                if md != 1 && md != 2 {
                    return Err("invalid md_type".into());
                }
                props.push(EncapProperty::NshMdType(md as u8));
            }
            "tlv" => {
                if v.is_empty() {
                    return Err("Value missing for encap property".into());
                }
                let bad = || format!("Invalid NSH TLV header: {v}");
                let parts: Vec<&str> = v.splitn(3, ',').collect();
                if parts.len() != 3 {
                    return Err(bad());
                }
                let class = str_to_u16(parts[0], "tlv class").map_err(|_| bad())?;
                let tlv_type = str_to_u8(parts[1], "tlv type").map_err(|_| bad())?;
                let hex = parts[2].strip_prefix("0x").ok_or_else(bad)?;
                let value = crate::actions::cmd::parse_hex(hex).ok_or_else(bad)?;
                props.push(EncapProperty::NshTlv {
                    class,
                    tlv_type,
                    value,
                });
            }
            _ => return Err(format!("Invalid property: {k}")),
        }
    }
    Ok(Encap {
        new_pkt_type,
        props,
    })
}

fn parse_decap(arg: &str) -> PResult<OfpAction> {
    let mut new_pkt_type = PT_USE_NEXT_PROTO;
    let mut rest = arg;
    while let Some((k, v)) = next_pair(&mut rest) {
        if k != "packet_type" {
            return Err(format!("Invalid decap argument: {k}"));
        }
        let (mut ns, mut ty) = (None, None);
        let mut inner = v;
        while let Some((ik, iv)) = next_pair(&mut inner) {
            match ik {
                "ns" => ns = Some(atoi(iv)),
                "type" => ty = strtoll0(iv),
                _ => {}
            }
        }
        let ns = ns.ok_or("Missing packet_type attribute ns")?;
        if ns != 0 && ns != 1 {
            return Err(format!("Unsupported ns value: {ns}"));
        }
        let ty = ty.ok_or("Missing packet_type attribute type")?;
        new_pkt_type = (ns as u32) << 16 | (ty as u32 & 0xffff);
    }
    Ok(OfpAction::Decap { new_pkt_type })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actions::format::format_actions;

    fn round(s: &str) -> String {
        let mut w = Vec::new();
        match parse_instructions(s, None, &mut w) {
            Ok(p) => format_actions(&p.actions),
            Err(e) => format!("error: {e}"),
        }
    }

    #[test]
    fn texts() {
        assert_eq!(round("output:1,NORMAL,in_port"), "output:1,NORMAL,IN_PORT");
        assert_eq!(round("drop"), "drop");
        assert_eq!(
            round("drop,output:1"),
            "error: \"drop\" must not be accompanied by any other action or instruction"
        );
        assert_eq!(round("resubmit(,2)"), "resubmit(,2)");
        assert_eq!(round("resubmit:3"), "resubmit:3");
        assert_eq!(round("load:1->reg0[1..3]"), "load:0x1->NXM_NX_REG0[1..3]");
        assert_eq!(
            round("move:reg0->reg1"),
            "move:NXM_NX_REG0[]->NXM_NX_REG1[]"
        );
        assert_eq!(round("conjunction(1,1/2)"), "conjunction(1,1/2)");
        assert_eq!(round("fooaction"), "error: unknown action fooaction");
        assert_eq!(
            round("goto_table:1,output:1"),
            "error: invalid instruction ordering: apply_actions must appear before goto_table, for OpenFlow 1.1+ compatibility"
        );
        assert_eq!(
            round("ct(commit,nat(src=10.0.0.1-10.0.0.9:80-90),exec(set_field:1->ct_mark))"),
            "ct(commit,nat(src=10.0.0.1-10.0.0.9:80-90),exec(set_field:0x1->ct_mark))"
        );
        assert_eq!(
            round("mod_vlan_vid:4096"),
            "error: 4096: not a valid VLAN VID"
        );
    }
}
