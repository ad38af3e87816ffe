//! Whole-switch and per-bridge configuration commands: `init`, `show`,
//! `emer-reset`, controllers, fail mode, managers, SSL, Auto Attach
//! mappings, conntrack zone timeout policies and datapath capabilities.

use super::bridge::{find_bridge, real_bridge_row};
use super::ctx::{fatal, CmdResult, Ctx};
use ovsdb::datum::{Atom, Datum};
use ovsdb::types::Type;
use ovsdb::Uuid;

fn s(x: &str) -> Atom {
    Atom::String(x.to_string())
}

pub fn cmd_init(_ctx: &mut Ctx) -> CmdResult {
    Ok(())
}

/// How `show` prints one table: the column naming a row and the columns
/// shown under it (references to shown tables nest).
struct ShowTable {
    table: &'static str,
    name_column: Option<&'static str>,
    columns: &'static [&'static str],
}

const SHOW_TABLES: &[ShowTable] = &[
    ShowTable {
        table: "Open_vSwitch",
        name_column: None,
        columns: &["manager_options", "bridges", "ovs_version"],
    },
    ShowTable {
        table: "Bridge",
        name_column: Some("name"),
        columns: &["controller", "fail_mode", "datapath_type", "ports"],
    },
    ShowTable {
        table: "Port",
        name_column: Some("name"),
        columns: &["tag", "trunks", "interfaces"],
    },
    ShowTable {
        table: "Interface",
        name_column: Some("name"),
        columns: &["type", "options", "error", "bfd_status"],
    },
    ShowTable {
        table: "Controller",
        name_column: Some("target"),
        columns: &["is_connected"],
    },
    ShowTable {
        table: "Manager",
        name_column: Some("target"),
        columns: &["is_connected"],
    },
];

fn show_table(name: &str) -> Option<&'static ShowTable> {
    SHOW_TABLES.iter().find(|t| t.table == name)
}

fn show_row(
    ctx: &Ctx,
    st: &ShowTable,
    row: &Uuid,
    level: usize,
    out: &mut String,
    seen: &mut Vec<Uuid>,
) {
    let indent = " ".repeat(level * 4);
    match st.name_column {
        Some(col) => {
            let ty = column_type(ctx, st.table, col);
            let name = ctx.get(st.table, row, col).to_text(&ty);
            out.push_str(&format!("{indent}{} {name}\n", st.table));
        }
        None => out.push_str(&format!("{indent}{row}\n")),
    }
    if seen.contains(row) {
        return;
    }
    seen.push(*row);
    let inner = " ".repeat((level + 1) * 4);
    for col in st.columns {
        let ty = column_type(ctx, st.table, col);
        let d = ctx.get(st.table, row, col);
        let ref_show = ty
            .key
            .ref_table
            .as_deref()
            .and_then(show_table)
            .filter(|_| ty.value.is_none());
        if let Some(sub) = ref_show {
            for a in &d.keys {
                if let Some(u) = a.as_uuid().filter(|u| ctx.exists(sub.table, u)) {
                    show_row(ctx, sub, &u, level + 1, out, seen);
                }
            }
        } else if !d.is_default(&ty) {
            out.push_str(&format!("{inner}{col}: {}\n", d.to_text(&ty)));
        }
    }
    seen.pop();
}

fn column_type(ctx: &Ctx, table: &str, col: &str) -> Type {
    ctx.r
        .schema()
        .tables
        .get(table)
        .and_then(|t| t.by_name.get(col).map(|&i| t.columns[i].ty.clone()))
        .unwrap_or_else(|| Type::scalar(ovsdb::types::AtomicType::String))
}

pub fn cmd_show(ctx: &mut Ctx) -> CmdResult {
    let mut out = String::new();
    let mut seen = Vec::new();
    if let Some(st) = show_table("Open_vSwitch") {
        for row in ctx.rows("Open_vSwitch") {
            show_row(ctx, st, &row, 0, &mut out, &mut seen);
        }
    }
    ctx.output.push_str(&out);
    Ok(())
}

fn delete_all(ctx: &mut Ctx, table: &str) -> CmdResult {
    for r in ctx.rows(table) {
        ctx.delete(table, &r)?;
    }
    Ok(())
}

pub fn cmd_emer_reset(ctx: &mut Ctx) -> CmdResult {
    let ovs = ctx.ovs;
    ctx.set("Open_vSwitch", &ovs, "manager_options", Datum::empty(false))?;
    ctx.set("Open_vSwitch", &ovs, "ssl", Datum::empty(false))?;
    for br in ctx.rows("Bridge") {
        for col in [
            "controller",
            "fail_mode",
            "mirrors",
            "netflow",
            "sflow",
            "ipfix",
            "flood_vlans",
        ] {
            ctx.set("Bridge", &br, col, Datum::empty(false))?;
        }
        let oc = ctx.get("Bridge", &br, "other_config");
        let mut keep = Datum::empty(true);
        if let Some(hw) = oc.get(&s("hwaddr")) {
            keep = Datum {
                keys: vec![s("hwaddr")],
                values: Some(vec![hw.clone()]),
            };
        }
        ctx.set("Bridge", &br, "other_config", keep)?;
    }
    for p in ctx.rows("Port") {
        ctx.set("Port", &p, "other_config", Datum::empty(true))?;
    }
    for i in ctx.rows("Interface") {
        ctx.set(
            "Interface",
            &i,
            "ingress_policing_rate",
            Datum::from_atom(Atom::Integer(0)),
        )?;
        ctx.set(
            "Interface",
            &i,
            "ingress_policing_burst",
            Datum::from_atom(Atom::Integer(0)),
        )?;
    }
    for t in [
        "Mirror",
        "Controller",
        "Manager",
        "NetFlow",
        "sFlow",
        "IPFIX",
    ] {
        delete_all(ctx, t)?;
    }
    ctx.invalidate_cache();
    Ok(())
}

/// Strings of column `col` of each referenced row, sorted.
fn sorted_targets(ctx: &Ctx, table: &str, rows: &[Uuid], col: &str) -> Vec<String> {
    let mut v: Vec<String> = rows
        .iter()
        .filter(|r| ctx.exists(table, r))
        .map(|r| ctx.get_str(table, r, col))
        .collect();
    v.sort();
    v
}

fn real_bridge_only(ctx: &mut Ctx, name: &str) -> Result<Uuid, super::ctx::Fail> {
    let Some(br) = find_bridge(ctx, name, true)? else {
        return fatal!("no bridge named {name}");
    };
    if br.is_fake() {
        return fatal!("{name} is a fake bridge");
    }
    Ok(br.br_cfg.unwrap_or(Uuid::ZERO))
}

fn any_bridge_row(ctx: &mut Ctx, name: &str) -> Result<Uuid, super::ctx::Fail> {
    let Some(br) = find_bridge(ctx, name, true)? else {
        return fatal!("no bridge named {name}");
    };
    Ok(real_bridge_row(ctx, &br))
}

pub fn cmd_get_controller(ctx: &mut Ctx) -> CmdResult {
    let br = any_bridge_row(ctx, &ctx.args[1].clone())?;
    let rows = ctx.get_refs("Bridge", &br, "controller");
    for t in sorted_targets(ctx, "Controller", &rows, "target") {
        ctx.println(t);
    }
    Ok(())
}

fn delete_refs(
    ctx: &mut Ctx,
    table: &str,
    owner_table: &str,
    owner: &Uuid,
    col: &str,
) -> CmdResult {
    for r in ctx.get_refs(owner_table, owner, col) {
        if ctx.exists(table, &r) {
            ctx.delete(table, &r)?;
        }
    }
    ctx.set(owner_table, owner, col, Datum::empty(false))
}

pub fn cmd_del_controller(ctx: &mut Ctx) -> CmdResult {
    let br = real_bridge_only(ctx, &ctx.args[1].clone())?;
    delete_refs(ctx, "Controller", "Bridge", &br, "controller")
}

/// New rows of `table` with `target` set for each of `targets`.
fn insert_targets(
    ctx: &mut Ctx,
    table: &str,
    targets: &[String],
) -> Result<Datum, super::ctx::Fail> {
    let probe = match ctx.option("--inactivity-probe") {
        Some(v) => match v.parse::<i64>() {
            Ok(n) => Some(n),
            Err(_) => return fatal!("{v}: invalid inactivity probe value"),
        },
        None => None,
    };
    let mut rows = Vec::new();
    for t in targets {
        let row = ctx.insert(table)?;
        ctx.set_str(table, &row, "target", t)?;
        if let Some(p) = probe {
            ctx.set(
                table,
                &row,
                "inactivity_probe",
                Datum::from_atom(Atom::Integer(p)),
            )?;
        }
        rows.push(Atom::Uuid(row));
    }
    Ok(Datum::from_set(rows))
}

pub fn cmd_set_controller(ctx: &mut Ctx) -> CmdResult {
    let br = real_bridge_only(ctx, &ctx.args[1].clone())?;
    delete_refs(ctx, "Controller", "Bridge", &br, "controller")?;
    let targets = ctx.args[2..].to_vec();
    let set = insert_targets(ctx, "Controller", &targets)?;
    ctx.set("Bridge", &br, "controller", set)
}

pub fn cmd_get_fail_mode(ctx: &mut Ctx) -> CmdResult {
    let br = any_bridge_row(ctx, &ctx.args[1].clone())?;
    let d = ctx.get("Bridge", &br, "fail_mode");
    if let Some(m) = d.keys.first().and_then(Atom::as_str) {
        let m = m.to_string();
        ctx.println(m);
    }
    Ok(())
}

pub fn cmd_del_fail_mode(ctx: &mut Ctx) -> CmdResult {
    let br = real_bridge_only(ctx, &ctx.args[1].clone())?;
    ctx.set("Bridge", &br, "fail_mode", Datum::empty(false))
}

pub fn cmd_set_fail_mode(ctx: &mut Ctx) -> CmdResult {
    let br = real_bridge_only(ctx, &ctx.args[1].clone())?;
    let mode = ctx.args[2].clone();
    if mode != "standalone" && mode != "secure" {
        return fatal!("fail-mode must be \"standalone\" or \"secure\"");
    }
    ctx.set_str("Bridge", &br, "fail_mode", &mode)
}

pub fn cmd_get_manager(ctx: &mut Ctx) -> CmdResult {
    let ovs = ctx.ovs;
    let rows = ctx.get_refs("Open_vSwitch", &ovs, "manager_options");
    for t in sorted_targets(ctx, "Manager", &rows, "target") {
        ctx.println(t);
    }
    Ok(())
}

pub fn cmd_del_manager(ctx: &mut Ctx) -> CmdResult {
    let ovs = ctx.ovs;
    delete_refs(ctx, "Manager", "Open_vSwitch", &ovs, "manager_options")
}

pub fn cmd_set_manager(ctx: &mut Ctx) -> CmdResult {
    let ovs = ctx.ovs;
    delete_refs(ctx, "Manager", "Open_vSwitch", &ovs, "manager_options")?;
    let targets = ctx.args[1..].to_vec();
    let set = insert_targets(ctx, "Manager", &targets)?;
    ctx.set("Open_vSwitch", &ovs, "manager_options", set)
}

pub fn cmd_get_ssl(ctx: &mut Ctx) -> CmdResult {
    let ovs = ctx.ovs;
    let Some(ssl) = ctx
        .get_refs("Open_vSwitch", &ovs, "ssl")
        .into_iter()
        .find(|u| ctx.exists("SSL", u))
    else {
        return Ok(());
    };
    let key = ctx.get_str("SSL", &ssl, "private_key");
    let cert = ctx.get_str("SSL", &ssl, "certificate");
    let ca = ctx.get_str("SSL", &ssl, "ca_cert");
    let boot = ctx.get_bool("SSL", &ssl, "bootstrap_ca_cert");
    ctx.println(format!("Private key: {key}"));
    ctx.println(format!("Certificate: {cert}"));
    ctx.println(format!("CA Certificate: {ca}"));
    ctx.println(format!("Bootstrap: {boot}"));
    Ok(())
}

pub fn cmd_del_ssl(ctx: &mut Ctx) -> CmdResult {
    let ovs = ctx.ovs;
    delete_refs(ctx, "SSL", "Open_vSwitch", &ovs, "ssl")
}

pub fn cmd_set_ssl(ctx: &mut Ctx) -> CmdResult {
    let ovs = ctx.ovs;
    let bootstrap = ctx.has_option("--bootstrap");
    delete_refs(ctx, "SSL", "Open_vSwitch", &ovs, "ssl")?;
    let row = ctx.insert("SSL")?;
    let (k, c, ca) = (
        ctx.args[1].clone(),
        ctx.args[2].clone(),
        ctx.args[3].clone(),
    );
    ctx.set_str("SSL", &row, "private_key", &k)?;
    ctx.set_str("SSL", &row, "certificate", &c)?;
    ctx.set_str("SSL", &row, "ca_cert", &ca)?;
    ctx.set(
        "SSL",
        &row,
        "bootstrap_ca_cert",
        Datum::from_atom(Atom::Boolean(bootstrap)),
    )?;
    ctx.set(
        "Open_vSwitch",
        &ovs,
        "ssl",
        Datum::from_atom(Atom::Uuid(row)),
    )
}

/// An unsigned integer argument of the Auto Attach commands.
fn parse_aa(s: &str) -> Result<i64, super::ctx::Fail> {
    match s.parse::<u64>() {
        Ok(n) => Ok(i64::try_from(n).unwrap_or(i64::MAX)),
        Err(_) => fatal!("Invalid argument {s}"),
    }
}

/// The AutoAttach row of a bridge, created when `create`.
fn auto_attach_row(
    ctx: &mut Ctx,
    br: &Uuid,
    create: bool,
) -> Result<Option<Uuid>, super::ctx::Fail> {
    if let Some(aa) = ctx
        .get_refs("Bridge", br, "auto_attach")
        .into_iter()
        .find(|u| ctx.exists("AutoAttach", u))
    {
        return Ok(Some(aa));
    }
    if !create {
        return Ok(None);
    }
    let aa = ctx.insert("AutoAttach")?;
    ctx.set(
        "Bridge",
        br,
        "auto_attach",
        Datum::from_atom(Atom::Uuid(aa)),
    )?;
    Ok(Some(aa))
}

pub fn cmd_add_aa_mapping(ctx: &mut Ctx) -> CmdResult {
    let br = real_bridge_only(ctx, &ctx.args[1].clone())?;
    let isid = parse_aa(&ctx.args[2])?;
    let vlan = parse_aa(&ctx.args[3])?;
    if let Some(aa) = auto_attach_row(ctx, &br, true)? {
        ctx.txn
            .map_add(
                ctx.r,
                "AutoAttach",
                &aa,
                "mappings",
                Atom::Integer(isid),
                Atom::Integer(vlan),
            )
            .map_err(|e| super::ctx::Fail::Fatal(super::text::constraint_text(&e)))?;
    }
    Ok(())
}

pub fn cmd_del_aa_mapping(ctx: &mut Ctx) -> CmdResult {
    let br = real_bridge_only(ctx, &ctx.args[1].clone())?;
    let isid = parse_aa(&ctx.args[2])?;
    let vlan = parse_aa(&ctx.args[3])?;
    if let Some(aa) = auto_attach_row(ctx, &br, false)? {
        let m = ctx.get("AutoAttach", &aa, "mappings");
        if m.get(&Atom::Integer(isid)) == Some(&Atom::Integer(vlan)) {
            ctx.map_remove("AutoAttach", &aa, "mappings", Atom::Integer(isid))?;
        }
    }
    Ok(())
}

pub fn cmd_get_aa_mapping(ctx: &mut Ctx) -> CmdResult {
    let br = any_bridge_row(ctx, &ctx.args[1].clone())?;
    if let Some(aa) = auto_attach_row(ctx, &br, false)? {
        let m = ctx.get("AutoAttach", &aa, "mappings");
        let lines: Vec<String> = m
            .iter()
            .map(|(k, v)| {
                format!(
                    "{} {}",
                    k.to_text(),
                    v.map(Atom::to_text).unwrap_or_default()
                )
            })
            .collect();
        for l in lines {
            ctx.println(l);
        }
    }
    Ok(())
}

/// The Datapath row for a datapath type.
fn datapath_row(ctx: &Ctx, dp: &str) -> Option<Uuid> {
    let ovs = ctx.ovs;
    ctx.get("Open_vSwitch", &ovs, "datapaths")
        .get(&s(dp))
        .and_then(Atom::as_uuid)
        .filter(|u| ctx.exists("Datapath", u))
}

/// C's `atoi`-like reading of a number (no digits: 0).
fn leading_number(s: &str) -> i64 {
    let digits: String = s.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().unwrap_or(0)
}

/// `zone=N` and the `POLICY=SECONDS` arguments (a bare name means 0).
fn parse_zone_args(args: &[String]) -> (i64, Vec<(String, i64)>) {
    let zone = args
        .first()
        .map(|z| leading_number(z.split_once('=').map(|(_, v)| v).unwrap_or("")))
        .unwrap_or(0);
    let policies = args
        .iter()
        .skip(1)
        .map(|a| match a.split_once('=') {
            Some((k, v)) => (k.to_string(), leading_number(v)),
            None => (a.clone(), 0),
        })
        .collect();
    (zone, policies)
}

pub fn cmd_add_zone_tp(ctx: &mut Ctx) -> CmdResult {
    let dp = ctx.args[1].clone();
    let Some(dp_row) = datapath_row(ctx, &dp) else {
        return fatal!("datapath {dp} does not exist");
    };
    let (zone, policies) = parse_zone_args(&ctx.args[2..]);
    let zones = ctx.get("Datapath", &dp_row, "ct_zones");
    if zones.contains_key(&Atom::Integer(zone)) {
        if ctx.has_option("--may-exist") {
            return Ok(());
        }
        return fatal!("zone id {zone} already exists");
    }
    let tp = ctx.insert("CT_Timeout_Policy")?;
    let mut keys = Vec::new();
    let mut values = Vec::new();
    for (k, v) in policies {
        if keys.contains(&s(&k)) {
            continue;
        }
        keys.push(s(&k));
        values.push(Atom::Integer(v));
    }
    let timeouts = Datum::sorted(keys, Some(values))
        .map_err(|e| super::ctx::Fail::Fatal(super::text::constraint_text(&e)))?;
    ctx.set("CT_Timeout_Policy", &tp, "timeouts", timeouts)?;
    let z = ctx.insert("CT_Zone")?;
    ctx.set(
        "CT_Zone",
        &z,
        "timeout_policy",
        Datum::from_atom(Atom::Uuid(tp)),
    )?;
    ctx.map_set(
        "Datapath",
        &dp_row,
        "ct_zones",
        Atom::Integer(zone),
        Atom::Uuid(z),
    )
}

pub fn cmd_del_zone_tp(ctx: &mut Ctx) -> CmdResult {
    let dp = ctx.args[1].clone();
    let zone_arg = ctx.args[2].clone();
    let Some(dp_row) = datapath_row(ctx, &dp) else {
        return fatal!("datapath {dp} does not exist");
    };
    let zone = leading_number(zone_arg.split_once('=').map(|(_, v)| v).unwrap_or(""));
    let zones = ctx.get("Datapath", &dp_row, "ct_zones");
    if !zones.contains_key(&Atom::Integer(zone)) {
        if ctx.has_option("--if-exists") {
            return Ok(());
        }
        return fatal!("zone id {zone} does not exist");
    }
    ctx.map_remove("Datapath", &dp_row, "ct_zones", Atom::Integer(zone))
}

pub fn cmd_list_zone_tp(ctx: &mut Ctx) -> CmdResult {
    let dp = ctx.args[1].clone();
    let Some(dp_row) = datapath_row(ctx, &dp) else {
        return fatal!("datapath: {dp} record not found");
    };
    let zones = ctx.get("Datapath", &dp_row, "ct_zones");
    let mut lines = Vec::new();
    for (k, v) in zones.iter() {
        let zone = k.to_text();
        let policy = v.and_then(Atom::as_uuid).and_then(|z| {
            ctx.get_refs("CT_Zone", &z, "timeout_policy")
                .into_iter()
                .next()
        });
        let body = match policy {
            Some(tp) => {
                let t = ctx.get("CT_Timeout_Policy", &tp, "timeouts");
                let pairs: Vec<String> = t
                    .iter()
                    .map(|(tk, tv)| {
                        format!(
                            "{}={}",
                            tk.as_str().unwrap_or(""),
                            tv.map(Atom::to_text).unwrap_or_default()
                        )
                    })
                    .collect();
                pairs.join(" ")
            }
            None => "system default".to_string(),
        };
        lines.push(format!("Zone:{zone}, Timeout Policies: {body}"));
    }
    for l in lines {
        ctx.println(l);
    }
    Ok(())
}

pub fn cmd_list_dp_cap(ctx: &mut Ctx) -> CmdResult {
    let dp = ctx.args[1].clone();
    let Some(dp_row) = datapath_row(ctx, &dp) else {
        return fatal!("datapath \"{dp}\" record not found");
    };
    let caps = ctx.get("Datapath", &dp_row, "capabilities");
    let pairs: Vec<String> = caps
        .iter()
        .map(|(k, v)| {
            format!(
                "{}={}",
                k.as_str().unwrap_or(""),
                v.and_then(Atom::as_str).unwrap_or("")
            )
        })
        .collect();
    ctx.println(pairs.join(" "));
    Ok(())
}
