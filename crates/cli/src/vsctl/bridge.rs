//! Bridge, port, bond and interface commands: `add-br` (also fake VLAN
//! bridges), `del-br`, `list-br`, `br-exists`, `br-to-vlan`,
//! `br-to-parent`, `br-set-external-id`, `br-get-external-id`,
//! `list-ports`, `add-port`, `add-bond`, `add-bond-iface`,
//! `del-bond-iface`, `del-port`, `port-to-br`, `list-ifaces`,
//! `iface-to-br`. Sets are changed with partial updates (`mutate`).

use super::cache::{VsBridge, VsPort};
use super::ctx::{fatal, CmdResult, Ctx, Fail};
use super::db;
use ovsdb::datum::{Atom, Datum};
use ovsdb::Uuid;
use std::collections::BTreeSet;

fn s(x: &str) -> Atom {
    Atom::String(x.to_string())
}

/// The bridge `name`; `must_exist` makes its absence fatal.
pub fn find_bridge(ctx: &mut Ctx, name: &str, must_exist: bool) -> Result<Option<VsBridge>, Fail> {
    match ctx.cache().bridges.get(name).cloned() {
        Some(b) => Ok(Some(b)),
        None if must_exist => fatal!("no bridge named {name}"),
        None => Ok(None),
    }
}

/// The Bridge row of a bridge, or of a fake bridge's parent.
pub fn real_bridge_row(ctx: &mut Ctx, br: &VsBridge) -> Uuid {
    let cache = ctx.cache();
    let real = cache.real_of(br);
    real.br_cfg.unwrap_or(Uuid::ZERO)
}

fn find_port(ctx: &mut Ctx, name: &str, must_exist: bool) -> Result<Option<VsPort>, Fail> {
    match ctx.cache().port(name).cloned() {
        Some(p) => Ok(Some(p)),
        None if must_exist => fatal!("no port named {name}"),
        None => Ok(None),
    }
}

fn check_conflicts(ctx: &mut Ctx, name: &str, msg: &str) -> CmdResult {
    let cache = ctx.cache();
    if cache.bridges.contains_key(name) {
        return fatal!("{msg} because a bridge named {name} already exists");
    }
    if let Some(p) = cache.ports.get(name) {
        return fatal!(
            "{msg} because a port named {name} already exists on bridge {}",
            p.bridge
        );
    }
    if let Some(i) = cache.ifaces.get(name) {
        let br = cache
            .ports
            .get(&i.port)
            .map(|p| p.bridge.clone())
            .unwrap_or_default();
        return fatal!("{msg} because an interface named {name} already exists on bridge {br}");
    }
    Ok(())
}

/// C's `atoi`.
fn atoi(s: &str) -> i64 {
    let t = s.trim_start();
    let (neg, digits) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let mut n: i64 = 0;
    for b in digits.bytes().take_while(u8::is_ascii_digit) {
        n = n.saturating_mul(10).saturating_add(i64::from(b - b'0'));
    }
    if neg {
        -n
    } else {
        n
    }
}

fn new_internal_iface(ctx: &mut Ctx, name: &str) -> Result<Uuid, Fail> {
    let iface = ctx.insert("Interface")?;
    ctx.set_str("Interface", &iface, "name", name)?;
    ctx.set_str("Interface", &iface, "type", "internal")?;
    Ok(iface)
}

pub fn cmd_add_br(ctx: &mut Ctx) -> CmdResult {
    let may_exist = ctx.has_option("--may-exist");
    let name = ctx.args[1].clone();
    let (parent_name, vlan) = match ctx.args.len() {
        2 => (None, 0),
        4 => {
            let vlan = atoi(&ctx.args[3]);
            if !(0..=4095).contains(&vlan) {
                return fatal!("{}: vlan must be between 0 and 4095", ctx.args[0]);
            }
            (Some(ctx.args[2].clone()), vlan)
        }
        _ => return fatal!("'{}' command takes exactly 1 or 3 arguments", ctx.args[0]),
    };
    if may_exist {
        if let Some(br) = find_bridge(ctx, &name, false)? {
            match &parent_name {
                None => {
                    if br.is_fake() {
                        return fatal!(
                            "\"--may-exist add-br {name}\" but {name} is a VLAN bridge for VLAN {}",
                            br.vlan
                        );
                    }
                }
                Some(parent) => {
                    let cmd = format!("\"--may-exist add-br {name} {parent} {vlan}\"");
                    match &br.parent {
                        None => return fatal!("{cmd} but {name} is not a VLAN bridge"),
                        Some(p) if p != parent => {
                            return fatal!("{cmd} but {name} has the wrong parent {p}")
                        }
                        Some(_) if br.vlan != vlan => {
                            return fatal!(
                                "{cmd} but {name} is a VLAN bridge for the wrong VLAN {}",
                                br.vlan
                            )
                        }
                        Some(_) => {}
                    }
                }
            }
            return Ok(());
        }
    }
    check_conflicts(ctx, &name, &format!("cannot create a bridge named {name}"))?;
    match parent_name {
        None => {
            let iface = new_internal_iface(ctx, &name)?;
            let port = ctx.insert("Port")?;
            ctx.set_str("Port", &port, "name", &name)?;
            ctx.set_add("Port", &port, "interfaces", Atom::Uuid(iface))?;
            let br = ctx.insert("Bridge")?;
            ctx.set_str("Bridge", &br, "name", &name)?;
            ctx.set_add("Bridge", &br, "ports", Atom::Uuid(port))?;
            let ovs = ctx.ovs;
            ctx.set_add("Open_vSwitch", &ovs, "bridges", Atom::Uuid(br))?;
        }
        Some(parent_name) => {
            let Some(parent) = find_bridge(ctx, &parent_name, false)? else {
                return fatal!("parent bridge {parent_name} does not exist");
            };
            if parent.is_fake() {
                return fatal!("cannot create bridge with fake bridge as parent");
            }
            let sibling = {
                let cache = ctx.cache();
                parent
                    .children
                    .iter()
                    .find(|c| cache.bridges.get(*c).is_some_and(|b| b.vlan == vlan))
                    .cloned()
            };
            if let Some(sib) = sibling {
                return fatal!(
                    "bridge {parent_name} already has a child VLAN bridge {sib} on VLAN {vlan}"
                );
            }
            let iface = new_internal_iface(ctx, &name)?;
            let port = ctx.insert("Port")?;
            ctx.set_str("Port", &port, "name", &name)?;
            ctx.set_add("Port", &port, "interfaces", Atom::Uuid(iface))?;
            ctx.set(
                "Port",
                &port,
                "fake_bridge",
                Datum::from_atom(Atom::Boolean(true)),
            )?;
            ctx.set("Port", &port, "tag", Datum::from_atom(Atom::Integer(vlan)))?;
            let br_row = parent.br_cfg.unwrap_or(Uuid::ZERO);
            ctx.set_add("Bridge", &br_row, "ports", Atom::Uuid(port))?;
        }
    }
    ctx.invalidate_cache();
    Ok(())
}

fn del_port(ctx: &mut Ctx, port: &VsPort) -> CmdResult {
    let br = find_bridge(ctx, &port.bridge, true)?.unwrap_or_else(unreachable_bridge);
    let br_row = real_bridge_row(ctx, &br);
    for iname in &port.ifaces {
        let uuid = ctx.cache().ifaces.get(iname).map(|i| i.uuid);
        if let Some(u) = uuid {
            if ctx.exists("Interface", &u) {
                ctx.delete("Interface", &u)?;
            }
        }
    }
    if ctx.exists("Bridge", &br_row) {
        ctx.set_remove("Bridge", &br_row, "ports", Atom::Uuid(port.uuid))?;
    }
    if ctx.exists("Port", &port.uuid) {
        ctx.delete("Port", &port.uuid)?;
    }
    Ok(())
}

/// A bridge named by the cache is always in it; this default keeps the
/// code total without a panic.
fn unreachable_bridge() -> VsBridge {
    VsBridge {
        name: String::new(),
        br_cfg: None,
        fake_port: None,
        parent: None,
        vlan: 0,
        ports: BTreeSet::new(),
        children: BTreeSet::new(),
    }
}

fn del_bridge(ctx: &mut Ctx, br: &VsBridge) -> CmdResult {
    for child in br.children.clone() {
        if let Some(c) = find_bridge(ctx, &child, false)? {
            del_bridge(ctx, &c)?;
        }
    }
    let ports: Vec<VsPort> = {
        let cache = ctx.cache();
        br.ports
            .iter()
            .filter_map(|p| cache.ports.get(p).cloned())
            .collect()
    };
    for p in &ports {
        del_port(ctx, p)?;
    }
    if let Some(row) = br.br_cfg {
        let ovs = ctx.ovs;
        ctx.set_remove("Open_vSwitch", &ovs, "bridges", Atom::Uuid(row))?;
        if ctx.exists("Bridge", &row) {
            ctx.delete("Bridge", &row)?;
        }
    }
    Ok(())
}

pub fn cmd_del_br(ctx: &mut Ctx) -> CmdResult {
    let must = !ctx.has_option("--if-exists");
    let name = ctx.args[1].clone();
    if let Some(br) = find_bridge(ctx, &name, must)? {
        del_bridge(ctx, &br)?;
        ctx.invalidate_cache();
    }
    Ok(())
}

pub fn cmd_list_br(ctx: &mut Ctx) -> CmdResult {
    let (mut real, mut fake) = (ctx.has_option("--real"), ctx.has_option("--fake"));
    if !real && !fake {
        real = true;
        fake = true;
    }
    let names: Vec<String> = ctx
        .cache()
        .bridges
        .values()
        .filter(|b| if b.is_fake() { fake } else { real })
        .map(|b| b.name.clone())
        .collect();
    for n in names {
        ctx.println(n);
    }
    Ok(())
}

pub fn cmd_br_exists(ctx: &mut Ctx) -> CmdResult {
    let name = ctx.args[1].clone();
    if find_bridge(ctx, &name, false)?.is_none() {
        return Err(Fail::Exit(2));
    }
    Ok(())
}

pub fn cmd_br_to_vlan(ctx: &mut Ctx) -> CmdResult {
    let name = ctx.args[1].clone();
    if let Some(br) = find_bridge(ctx, &name, true)? {
        ctx.println(br.vlan.to_string());
    }
    Ok(())
}

pub fn cmd_br_to_parent(ctx: &mut Ctx) -> CmdResult {
    let name = ctx.args[1].clone();
    if let Some(br) = find_bridge(ctx, &name, true)? {
        let p = br.parent.unwrap_or(br.name);
        ctx.println(p);
    }
    Ok(())
}

const FAKE_PREFIX: &str = "fake-bridge-";

pub fn cmd_br_set_external_id(ctx: &mut Ctx) -> CmdResult {
    let name = ctx.args[1].clone();
    let key = ctx.args[2].clone();
    let value = ctx.args.get(3).cloned();
    let Some(br) = find_bridge(ctx, &name, true)? else {
        return Ok(());
    };
    let (table, row, key) = match (br.br_cfg, br.fake_port) {
        (Some(b), _) => ("Bridge", b, key),
        (None, Some(p)) => ("Port", p, format!("{FAKE_PREFIX}{key}")),
        (None, None) => return Ok(()),
    };
    match value {
        Some(v) => ctx.map_set(table, &row, "external_ids", s(&key), s(&v)),
        None => ctx.map_remove(table, &row, "external_ids", s(&key)),
    }
}

pub fn cmd_br_get_external_id(ctx: &mut Ctx) -> CmdResult {
    let name = ctx.args[1].clone();
    let key = ctx.args.get(2).cloned();
    let Some(br) = find_bridge(ctx, &name, true)? else {
        return Ok(());
    };
    let (table, row, prefix) = match (br.br_cfg, br.fake_port) {
        (Some(b), _) => ("Bridge", b, ""),
        (None, Some(p)) => ("Port", p, FAKE_PREFIX),
        (None, None) => return Ok(()),
    };
    let ids = ctx.get(table, &row, "external_ids");
    match key {
        Some(k) => {
            if let Some(v) = ids.get(&s(&format!("{prefix}{k}"))) {
                let v = v.as_str().unwrap_or("").to_string();
                ctx.println(v);
            }
        }
        None => {
            let lines: Vec<String> = ids
                .iter()
                .filter_map(|(k, v)| {
                    let k = k.as_str()?.strip_prefix(prefix)?;
                    Some(format!("{k}={}", v.and_then(Atom::as_str).unwrap_or("")))
                })
                .collect();
            for l in lines {
                ctx.println(l);
            }
        }
    }
    Ok(())
}

pub fn cmd_list_ports(ctx: &mut Ctx) -> CmdResult {
    let name = ctx.args[1].clone();
    let Some(br) = find_bridge(ctx, &name, true)? else {
        return Ok(());
    };
    for p in br.ports.iter().filter(|p| **p != br.name) {
        ctx.println(p);
    }
    Ok(())
}

pub fn cmd_list_ifaces(ctx: &mut Ctx) -> CmdResult {
    let name = ctx.args[1].clone();
    let Some(br) = find_bridge(ctx, &name, true)? else {
        return Ok(());
    };
    let mut names = BTreeSet::new();
    {
        let cache = ctx.cache();
        for p in br.ports.iter().filter(|p| **p != br.name) {
            if let Some(port) = cache.ports.get(p) {
                names.extend(port.ifaces.iter().filter(|i| **i != br.name).cloned());
            }
        }
    }
    for n in names {
        ctx.println(n);
    }
    Ok(())
}

pub fn cmd_port_to_br(ctx: &mut Ctx) -> CmdResult {
    let name = ctx.args[1].clone();
    if let Some(p) = find_port(ctx, &name, true)? {
        ctx.println(p.bridge);
    }
    Ok(())
}

pub fn cmd_iface_to_br(ctx: &mut Ctx) -> CmdResult {
    let name = ctx.args[1].clone();
    let port = match ctx.cache().iface(&name).cloned() {
        Some(i) => i.port,
        None => return fatal!("no interface named {name}"),
    };
    let br = ctx.cache().ports.get(&port).map(|p| p.bridge.clone());
    if let Some(b) = br {
        ctx.println(b);
    }
    Ok(())
}

/// The shared body of `add-port` and `add-bond`.
fn add_port(
    ctx: &mut Ctx,
    br_name: &str,
    port_name: &str,
    fake_iface: bool,
    ifaces: &[String],
    settings: &[String],
) -> CmdResult {
    if ctx.has_option("--may-exist") {
        if let Some(port) = ctx.cache().port(port_name).cloned() {
            let cmd = if ifaces.len() == 1
                && ifaces[0] == port_name
                && !fake_iface
                && ctx.args[0] == "add-port"
            {
                format!("--may-exist add-port {br_name} {port_name}")
            } else {
                format!(
                    "--may-exist add-bond {br_name} {port_name} {}",
                    ifaces.join(" ")
                )
            };
            let br = find_bridge(ctx, br_name, true)?.unwrap_or_else(unreachable_bridge);
            if port.bridge != br.name {
                return fatal!(
                    "\"{cmd}\" but {port_name} is actually attached to bridge {}",
                    port.bridge
                );
            }
            let want: BTreeSet<String> = ifaces.iter().cloned().collect();
            if want != port.ifaces {
                let have: Vec<String> = port.ifaces.iter().cloned().collect();
                return fatal!(
                    "\"{cmd}\" but {port_name} actually has interface(s) {}",
                    have.join(", ")
                );
            }
            return Ok(());
        }
    }
    check_conflicts(
        ctx,
        port_name,
        &format!("cannot create a port named {port_name}"),
    )?;
    for i in ifaces {
        check_conflicts(ctx, i, &format!("cannot create an interface named {i}"))?;
    }
    let br = find_bridge(ctx, br_name, true)?.unwrap_or_else(unreachable_bridge);
    let mut iface_rows = Vec::new();
    for i in ifaces {
        let row = ctx.insert("Interface")?;
        ctx.set_str("Interface", &row, "name", i)?;
        iface_rows.push(Atom::Uuid(row));
    }
    let port = ctx.insert("Port")?;
    ctx.set_str("Port", &port, "name", port_name)?;
    ctx.set("Port", &port, "interfaces", Datum::from_set(iface_rows))?;
    if fake_iface {
        ctx.set(
            "Port",
            &port,
            "bond_fake_iface",
            Datum::from_atom(Atom::Boolean(true)),
        )?;
    }
    if br.is_fake() {
        ctx.set(
            "Port",
            &port,
            "tag",
            Datum::from_atom(Atom::Integer(br.vlan)),
        )?;
    }
    for setting in settings {
        db::set_column(ctx, "Port", &port, setting)?;
    }
    let br_row = real_bridge_row(ctx, &br);
    ctx.set_add("Bridge", &br_row, "ports", Atom::Uuid(port))?;
    ctx.invalidate_cache();
    Ok(())
}

pub fn cmd_add_port(ctx: &mut Ctx) -> CmdResult {
    let br = ctx.args[1].clone();
    let port = ctx.args[2].clone();
    let settings = ctx.args[3..].to_vec();
    add_port(
        ctx,
        &br,
        &port,
        false,
        std::slice::from_ref(&port),
        &settings,
    )
}

pub fn cmd_add_bond(ctx: &mut Ctx) -> CmdResult {
    let fake_iface = ctx.has_option("--fake-iface");
    let br = ctx.args[1].clone();
    let port = ctx.args[2].clone();
    let rest = &ctx.args[3..];
    let n = rest
        .iter()
        .position(|a| a.contains('='))
        .unwrap_or(rest.len());
    let ifaces = rest[..n].to_vec();
    let settings = rest[n..].to_vec();
    if ifaces.len() < 2 && !fake_iface {
        return fatal!(
            "add-bond requires at least 2 interfaces, but only {} were specified",
            ifaces.len()
        );
    }
    add_port(ctx, &br, &port, fake_iface, &ifaces, &settings)
}

pub fn cmd_add_bond_iface(ctx: &mut Ctx) -> CmdResult {
    let bond = ctx.args[1].clone();
    let iface = ctx.args[2].clone();
    let Some(port) = find_port(ctx, &bond, true)? else {
        return Ok(());
    };
    if ctx.has_option("--may-exist") {
        if let Some(i) = ctx.cache().ifaces.get(&iface).cloned() {
            if i.port == port.name {
                return Ok(());
            }
            return fatal!(
                "\"--may-exist add-bond-iface {bond} {iface}\" but {iface} is actually attached to port {}",
                i.port
            );
        }
    }
    check_conflicts(
        ctx,
        &iface,
        &format!("cannot create an interface named {iface}"),
    )?;
    let row = ctx.insert("Interface")?;
    ctx.set_str("Interface", &row, "name", &iface)?;
    ctx.set_add("Port", &port.uuid, "interfaces", Atom::Uuid(row))?;
    ctx.invalidate_cache();
    Ok(())
}

pub fn cmd_del_bond_iface(ctx: &mut Ctx) -> CmdResult {
    let if_exists = ctx.has_option("--if-exists");
    let iface_name = ctx.args[ctx.args.len() - 1].clone();
    let Some(iface) = ctx.cache().ifaces.get(&iface_name).cloned() else {
        if if_exists {
            return Ok(());
        }
        return fatal!("no interface named {iface_name}");
    };
    let port = match ctx.cache().ports.get(&iface.port).cloned() {
        Some(p) => p,
        None => return fatal!("no interface named {iface_name}"),
    };
    if ctx.args.len() == 3 {
        let bond = ctx.args[1].clone();
        let Some(want) = find_port(ctx, &bond, true)? else {
            return Ok(());
        };
        if want.name != port.name {
            return fatal!("port {bond} does not have an interface {iface_name}");
        }
    }
    if port.ifaces.len() == 1 {
        return fatal!("cannot delete last interface from port {}", port.name);
    }
    ctx.set_remove("Port", &port.uuid, "interfaces", Atom::Uuid(iface.uuid))?;
    ctx.delete("Interface", &iface.uuid)?;
    ctx.invalidate_cache();
    Ok(())
}

pub fn cmd_del_port(ctx: &mut Ctx) -> CmdResult {
    let if_exists = ctx.has_option("--if-exists");
    let with_iface = ctx.has_option("--with-iface");
    let target = ctx.args[ctx.args.len() - 1].clone();
    let local_of = ctx
        .cache()
        .ports
        .get(&target)
        .filter(|p| p.bridge == target)
        .map(|p| p.bridge.clone());
    if let Some(br) = local_of {
        return fatal!(
            "cannot delete port {target} because it is the local port for bridge {br} (deleting this port requires deleting the entire bridge)"
        );
    }
    let mut port = find_port(ctx, &target, !if_exists && !with_iface)?;
    if port.is_none() && with_iface {
        let p = ctx.cache().iface(&target).map(|i| i.port.clone());
        port = match p {
            Some(pname) => ctx.cache().ports.get(&pname).cloned(),
            None if if_exists => None,
            None => return fatal!("no port or interface named {target}"),
        };
    }
    let Some(port) = port else {
        return Ok(());
    };
    if ctx.args.len() == 3 {
        let brname = ctx.args[1].clone();
        let Some(br) = find_bridge(ctx, &brname, true)? else {
            return Ok(());
        };
        if port.bridge != br.name {
            let owner = find_bridge(ctx, &port.bridge, false)?;
            match owner.and_then(|o| o.parent.filter(|p| *p == br.name).map(|_| o.name)) {
                Some(child) => {
                    return fatal!(
                        "bridge {brname} does not have a port {target} (although its child bridge {child} does)"
                    )
                }
                None => return fatal!("bridge {brname} does not have a port {target}"),
            }
        }
    }
    del_port(ctx, &port)?;
    ctx.invalidate_cache();
    Ok(())
}
