//! The bridge/port/interface view the bridge commands work on: real
//! bridges from `Open_vSwitch:bridges`, fake (VLAN) bridges from ports
//! with `fake_bridge=true` and a tag, each port attached to the fake
//! bridge of its VLAN when there is one, and interfaces by name.

use super::ctx::Ctx;
use ovsdb::Uuid;
use std::collections::{BTreeMap, BTreeSet};

#[derive(Clone, Debug)]
pub struct VsBridge {
    pub name: String,
    /// The Bridge row (real bridges only).
    pub br_cfg: Option<Uuid>,
    /// The port that represents a fake bridge in its parent.
    pub fake_port: Option<Uuid>,
    pub parent: Option<String>,
    pub vlan: i64,
    pub ports: BTreeSet<String>,
    pub children: BTreeSet<String>,
}

impl VsBridge {
    pub fn is_fake(&self) -> bool {
        self.parent.is_some()
    }
}

#[derive(Clone, Debug)]
pub struct VsPort {
    pub name: String,
    pub uuid: Uuid,
    /// The bridge (real or fake) the port belongs to.
    pub bridge: String,
    pub ifaces: BTreeSet<String>,
}

#[derive(Clone, Debug)]
pub struct VsIface {
    pub uuid: Uuid,
    pub port: String,
}

#[derive(Clone, Debug, Default)]
pub struct Cache {
    pub bridges: BTreeMap<String, VsBridge>,
    pub ports: BTreeMap<String, VsPort>,
    pub ifaces: BTreeMap<String, VsIface>,
}

/// A port is a fake bridge when flagged so and tagged with a valid VLAN.
fn port_is_fake_bridge(ctx: &Ctx, port: &Uuid) -> Option<i64> {
    if !ctx.get_bool("Port", port, "fake_bridge") {
        return None;
    }
    ctx.get_int("Port", port, "tag")
        .filter(|t| (0..=4095).contains(t))
}

impl Cache {
    pub fn build(ctx: &Ctx) -> Cache {
        let mut c = Cache::default();
        let mut real: Vec<(String, Uuid)> = Vec::new();
        for br in ctx.get_refs("Open_vSwitch", &ctx.ovs, "bridges") {
            if !ctx.exists("Bridge", &br) {
                continue;
            }
            let name = ctx.get_str("Bridge", &br, "name");
            if c.bridges.contains_key(&name) {
                vlog::warn!("vsctl", "{}: database contains duplicate bridge name", name);
                continue;
            }
            c.bridges.insert(
                name.clone(),
                VsBridge {
                    name: name.clone(),
                    br_cfg: Some(br),
                    fake_port: None,
                    parent: None,
                    vlan: 0,
                    ports: BTreeSet::new(),
                    children: BTreeSet::new(),
                },
            );
            real.push((name.clone(), br));
            for port in ctx.get_refs("Bridge", &br, "ports") {
                if !ctx.exists("Port", &port) {
                    continue;
                }
                let Some(vlan) = port_is_fake_bridge(ctx, &port) else {
                    continue;
                };
                let pname = ctx.get_str("Port", &port, "name");
                if c.bridges.contains_key(&pname) {
                    continue;
                }
                c.bridges.insert(
                    pname.clone(),
                    VsBridge {
                        name: pname.clone(),
                        br_cfg: None,
                        fake_port: Some(port),
                        parent: Some(name.clone()),
                        vlan,
                        ports: BTreeSet::new(),
                        children: BTreeSet::new(),
                    },
                );
                if let Some(p) = c.bridges.get_mut(&name) {
                    p.children.insert(pname);
                }
            }
        }
        for (brname, br) in &real {
            for port in ctx.get_refs("Bridge", br, "ports") {
                if !ctx.exists("Port", &port) {
                    continue;
                }
                let pname = ctx.get_str("Port", &port, "name");
                if let Some(existing) = c.ports.get(&pname) {
                    if existing.uuid == port {
                        vlog::warn!(
                            "vsctl",
                            "{}: port is in multiple bridges ({} and {})",
                            pname,
                            brname,
                            existing.bridge
                        );
                    } else {
                        vlog::err!("vsctl", "{}: database contains duplicate port name", pname);
                    }
                    continue;
                }
                let mut owner = brname.clone();
                if let Some(tag) = ctx
                    .get_int("Port", &port, "tag")
                    .filter(|t| (0..=4095).contains(t))
                {
                    let child = c.bridges.get(brname).and_then(|b| {
                        b.children
                            .iter()
                            .find(|ch| c.bridges.get(*ch).is_some_and(|x| x.vlan == tag))
                            .cloned()
                    });
                    if let Some(ch) = child {
                        owner = ch;
                    }
                }
                let mut ifaces = BTreeSet::new();
                for iface in ctx.get_refs("Port", &port, "interfaces") {
                    if !ctx.exists("Interface", &iface) {
                        continue;
                    }
                    let iname = ctx.get_str("Interface", &iface, "name");
                    if let Some(existing) = c.ifaces.get(&iname) {
                        if existing.uuid == iface {
                            vlog::warn!(
                                "vsctl",
                                "{}: interface is in multiple ports ({} and {})",
                                iname,
                                pname,
                                existing.port
                            );
                        } else {
                            vlog::err!(
                                "vsctl",
                                "{}: database contains duplicate interface name",
                                iname
                            );
                        }
                        continue;
                    }
                    c.ifaces.insert(
                        iname.clone(),
                        VsIface {
                            uuid: iface,
                            port: pname.clone(),
                        },
                    );
                    ifaces.insert(iname);
                }
                if let Some(b) = c.bridges.get_mut(&owner) {
                    b.ports.insert(pname.clone());
                }
                c.ports.insert(
                    pname.clone(),
                    VsPort {
                        name: pname,
                        uuid: port,
                        bridge: owner,
                        ifaces,
                    },
                );
            }
        }
        c
    }

    /// A port by name; a bridge's own port does not count.
    pub fn port(&self, name: &str) -> Option<&VsPort> {
        self.ports.get(name).filter(|p| p.bridge != name)
    }

    /// An interface by name; a bridge's own interface does not count.
    pub fn iface(&self, name: &str) -> Option<&VsIface> {
        self.ifaces
            .get(name)
            .filter(|i| self.ports.get(&i.port).is_none_or(|p| p.bridge != name))
    }

    /// The real bridge a bridge lives in (itself, or a fake one's parent).
    pub fn real_of<'a>(&'a self, br: &'a VsBridge) -> &'a VsBridge {
        match &br.parent {
            Some(p) => self.bridges.get(p).unwrap_or(br),
            None => br,
        }
    }
}
