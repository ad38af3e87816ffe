//! Every bridge of the daemon, brought to the wanted [`OvsConfig`] in one
//! pass (upstream's bridge_reconfigure): bridges that went away are
//! destroyed, new ones created (or refused when their datapath type does
//! not exist, with upstream's log lines, retried at every pass), and each
//! bridge reconciles its own ports.

use crate::bridge::{Bridge, DatapathOptions, LogLine};
use crate::config::{BridgeConfig, OvsConfig};
use crate::device::{Devices, PortBackend};
use std::collections::BTreeMap;

/// Creates the forwarding side of a new bridge.
pub type BackendFactory = Box<dyn Fn(&BridgeConfig) -> Box<dyn PortBackend> + Send + Sync>;

/// Hooks run when bridges come and go (the connection manager and the
/// datapath attach here).
pub trait BridgeObserver: Send + Sync {
    /// A bridge was created or reconfigured.
    fn bridge_reconfigured(&self, _bridge: &Bridge, _added: &[String], _deleted: &[(String, u32)]) {
    }
    /// A bridge was destroyed.
    fn bridge_destroyed(&self, _name: &str) {}
}

/// The daemon's bridges.
pub struct Switch {
    pub opts: DatapathOptions,
    pub bridges: BTreeMap<String, Bridge>,
    /// The last configuration applied.
    pub cfg: OvsConfig,
    factory: BackendFactory,
    observers: Vec<Box<dyn BridgeObserver>>,
    /// Number of reconfigurations (coverage `bridge_reconfigure`).
    pub n_reconfigure: u64,
    /// Where OpenFlow connections run, and where `<bridge>.mgmt` goes
    /// (none in unit tests: bridges then have no connections).
    runtime: Option<(tokio::runtime::Handle, std::path::PathBuf)>,
    /// Passed to each bridge's connections (controller status changes).
    pub wake: Option<std::sync::Arc<tokio::sync::Notify>>,
    /// What upcalls and traces see, republished after each pass.
    pub registry: crate::upcall::SharedRegistry,
}

impl Switch {
    /// A switch whose bridges have no datapath (see [`Devices`]).
    pub fn new(opts: DatapathOptions) -> Switch {
        Switch::with_backends(opts, Box::new(|_| Box::new(Devices::new())))
    }

    /// A switch whose bridges get their forwarding side from `factory`.
    pub fn with_backends(opts: DatapathOptions, factory: BackendFactory) -> Switch {
        // The datapaths' clock (megaflows' `used`, idle expiry) is the
        // daemon's, which `time/stop` and `time/warp` move.
        datapath::netdev_dp::set_clock(Box::new(|| crate::clock::global().now_ms()));
        Switch {
            opts,
            bridges: BTreeMap::new(),
            cfg: OvsConfig::default(),
            factory,
            observers: Vec::new(),
            n_reconfigure: 0,
            runtime: None,
            wake: None,
            registry: Default::default(),
        }
    }

    /// Publishes the bridges and datapath ports for upcalls and traces.
    pub fn publish_registry(&self) {
        let mut reg = crate::upcall::Registry::default();
        for (name, br) in &self.bridges {
            let dp = br
                .backend
                .datapath()
                .map(|d| datapath::Dpif::name(d.as_ref()).to_string());
            if let Some(dp) = &dp {
                for i in br.ifaces.values() {
                    reg.odp
                        .insert((dp.clone(), i.odp_port), (name.clone(), i.ofp_port));
                }
            }
            reg.bridges.insert(
                name.clone(),
                crate::upcall::BridgeEntry {
                    shared: br.shared.clone(),
                    datapath: dp,
                },
            );
        }
        reg.other_config = self.cfg.other_config.clone();
        *self.registry.write().unwrap_or_else(|e| e.into_inner()) = reg;
    }

    /// Runs the bridges' OpenFlow connections on `rt`, with management
    /// sockets in `rundir`.
    pub fn set_runtime(&mut self, rt: tokio::runtime::Handle, rundir: std::path::PathBuf) {
        self.runtime = Some((rt, rundir));
    }

    /// Adds an observer of bridge changes.
    pub fn observe(&mut self, o: Box<dyn BridgeObserver>) {
        self.observers.push(o);
    }

    /// Brings every bridge to `cfg`, logging as it goes; returns the lines
    /// logged.
    pub fn reconfigure(&mut self, cfg: &OvsConfig, now_ms: i64) -> Vec<LogLine> {
        self.n_reconfigure += 1;
        packet::extract::set_vlan_limit(vlan_limit(&cfg.other_config));
        let mut logs = Vec::new();
        // Bridges that went away, or whose datapath type changed (those
        // are re-created).
        let gone: Vec<String> = self
            .bridges
            .iter()
            .filter(|(name, br)| {
                cfg.bridges
                    .get(*name)
                    .is_none_or(|c| c.datapath_type != br.datapath_type || c.uuid != br.uuid)
            })
            .map(|(n, _)| n.clone())
            .collect();
        for name in gone {
            if let Some(mut br) = self.bridges.remove(&name) {
                ofproto::tnl::global().ports_mut().remove_bridge(&name);
                br.destroy();
                for o in &self.observers {
                    o.bridge_destroyed(&name);
                }
            }
        }
        for (name, bcfg) in &cfg.bridges {
            if !self.bridges.contains_key(name) {
                if !self.opts.supports(&bcfg.datapath_type) {
                    let t = &bcfg.datapath_type;
                    logs.push((
                        "ofproto",
                        vlog::Level::Warn,
                        format!("unknown datapath type {t}"),
                    ));
                    logs.push((
                        "ofproto",
                        vlog::Level::Warn,
                        format!("could not create datapath {name} of unknown type {t}"),
                    ));
                    logs.push((
                        "bridge",
                        vlog::Level::Err,
                        format!(
                            "failed to create bridge {name}: {}",
                            rpc::errno::strerror(libc::EAFNOSUPPORT)
                        ),
                    ));
                    emit_logs(&logs[logs.len() - 3..]);
                    continue;
                }
                let backend = (self.factory)(bcfg);
                let mut br = Bridge::new(bcfg, backend, self.opts);
                if let Some(dp) = br.backend.datapath() {
                    let reg = self.registry.clone();
                    br.shared.set_packet_out_sink(Some(std::sync::Arc::new(
                        move |bridge: &str, po: ofproto::PacketOutRequest| {
                            crate::upcall::execute_packet_out(&reg, &dp, bridge, po)
                        },
                    )));
                }
                if let Some((rt, _)) = &self.runtime {
                    *br.shared.wake.lock().unwrap_or_else(|e| e.into_inner()) = self.wake.clone();
                    br.connmgr = Some(crate::connmgr::ConnMgr::new(br.shared.clone(), rt.clone()));
                }
                self.bridges.insert(name.clone(), br);
            }
            let Some(br) = self.bridges.get_mut(name) else {
                continue;
            };
            let ch = br.reconfigure(bcfg, now_ms);
            emit_logs(&ch.logs);
            logs.extend(ch.logs.iter().cloned());
            if let (Some(cm), Some((_, rundir))) = (br.connmgr.as_mut(), &self.runtime) {
                cm.set_mgmt(&rundir.join(format!("{name}.mgmt")));
            }
            for o in &self.observers {
                o.bridge_reconfigured(br, &ch.added, &ch.deleted);
            }
        }
        self.update_patch_peers();
        // Datapath settings (`pmd-maxsleep`, `pmd-cpu-mask`), once per datapath.
        let mut seen = std::collections::BTreeSet::new();
        for dp in self.bridges.values().filter_map(|b| b.backend.datapath()) {
            if seen.insert(dp.full_name()) {
                dp.set_other_config(&cfg.other_config);
            }
        }
        self.cfg = cfg.clone();
        self.publish_registry();
        logs
    }

    /// Pairs patch ports: a patch port's peer is usable when a bridge on
    /// the same datapath has a patch port of that name whose own peer is
    /// this port; otherwise the Interface's `error` says so (the port
    /// still exists, leading nowhere). (Upstream writes that error from a
    /// status pass that races with its reconfigurations, so its column
    /// sometimes shows `[]` for a while; here it shows whenever the peer
    /// is unusable.)
    fn update_patch_peers(&mut self) {
        let backer = |br: &Bridge| -> (String, String) {
            match br.backend.datapath() {
                Some(dp) => (
                    dp.full_name(),
                    datapath::Dpif::type_name(dp.as_ref()).to_string(),
                ),
                None => (format!("{}@", br.datapath_type), br.datapath_type.clone()),
            }
        };
        // (backer, patch name) -> its peer.
        let mut patches: BTreeMap<(String, String), String> = BTreeMap::new();
        for br in self.bridges.values() {
            let (b, _) = backer(br);
            for i in br.ifaces.values().filter(|i| i.type_ == "patch") {
                let peer = i.cfg.options.get("peer").cloned().unwrap_or_default();
                patches.insert((b.clone(), i.name.clone()), peer);
            }
        }
        for br in self.bridges.values_mut() {
            let (b, dp_type) = backer(br);
            let mut changed = false;
            for i in br.ifaces.values_mut().filter(|i| i.type_ == "patch") {
                let peer = i.cfg.options.get("peer").cloned().unwrap_or_default();
                let usable = patches
                    .get(&(b.clone(), peer.clone()))
                    .is_some_and(|pp| *pp == i.name);
                let error = (!usable)
                    .then(|| format!("No usable peer '{peer}' exists in '{dp_type}' datapath."));
                // Whether the port leads anywhere does not depend on
                // what the column shows.
                let unusable = !usable;
                if i.unpaired != unusable {
                    i.unpaired = unusable;
                    changed = true;
                }
                if i.error != error {
                    i.error = error;
                    changed = true;
                }
            }
            if changed {
                br.sync_ofports(&[]);
            }
        }
    }

    /// Destroys every bridge (`exit --cleanup`, shutdown).
    pub fn clear(&mut self) {
        *self.registry.write().unwrap_or_else(|e| e.into_inner()) = Default::default();
        let names: Vec<String> = self.bridges.keys().cloned().collect();
        for name in names {
            if let Some(mut br) = self.bridges.remove(&name) {
                ofproto::tnl::global().ports_mut().remove_bridge(&name);
                br.destroy();
                for o in &self.observers {
                    o.bridge_destroyed(&name);
                }
            }
        }
    }
}

/// Emits reconfiguration log lines.
pub fn emit_logs(logs: &[LogLine]) {
    for (module, level, text) in logs {
        vlog::log(module, *level, text);
    }
}

/// `other_config:vlan-limit`: VLAN headers parsed into flows (default 1,
/// as upstream's; 0 or a negative number: as many as flows hold; a value
/// that is not a number: the default).
pub fn vlan_limit(other_config: &std::collections::BTreeMap<String, String>) -> usize {
    match other_config.get("vlan-limit").map(|v| v.parse::<i64>()) {
        Some(Ok(n)) if n <= 0 => 0,
        Some(Ok(n)) => usize::try_from(n).unwrap_or(usize::MAX),
        _ => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bridge::DummyMode;
    use crate::config::datum::*;
    use crate::config::MemDb;
    use ovsdb::Uuid;

    fn u(n: u8) -> Uuid {
        let mut b = [0u8; 16];
        b[0] = n;
        Uuid(b)
    }

    fn db(dp_type: &str) -> MemDb {
        let mut db = MemDb::default();
        db.set("Open_vSwitch", u(1), "bridges", uuids(&[u(2)]));
        db.set("Bridge", u(2), "name", string("br0"));
        db.set("Bridge", u(2), "datapath_type", string(dp_type));
        db.set("Bridge", u(2), "ports", uuids(&[u(3)]));
        db.set("Port", u(3), "name", string("br0"));
        db.set("Port", u(3), "interfaces", uuids(&[u(4)]));
        db.set("Interface", u(4), "name", string("br0"));
        db.set("Interface", u(4), "type", string("internal"));
        db
    }

    fn opts() -> DatapathOptions {
        DatapathOptions {
            dummy: DummyMode::On,
            disable_system: true,
        }
    }

    #[test]
    fn unknown_datapath_type_is_refused_every_time() {
        let mut sw = Switch::new(opts());
        let cfg = OvsConfig::read(&db(""));
        let logs = sw.reconfigure(&cfg, 0);
        let texts: Vec<&str> = logs.iter().map(|l| l.2.as_str()).collect();
        assert_eq!(
            texts,
            [
                "unknown datapath type system",
                "could not create datapath br0 of unknown type system",
                "failed to create bridge br0: Address family not supported by protocol"
            ]
        );
        assert!(sw.bridges.is_empty());
        assert_eq!(sw.reconfigure(&cfg, 1).len(), 3);
    }

    #[test]
    fn bridges_come_and_go() {
        let mut sw = Switch::new(opts());
        let cfg = OvsConfig::read(&db("dummy"));
        sw.reconfigure(&cfg, 0);
        assert_eq!(sw.bridges["br0"].ifaces["br0"].ofp_port, 0xfffe);
        let mut empty = db("dummy");
        empty.set("Open_vSwitch", u(1), "bridges", uuids(&[]));
        sw.reconfigure(&OvsConfig::read(&empty), 1);
        assert!(sw.bridges.is_empty());
    }

    #[test]
    fn vlan_limit_from_other_config() {
        let oc = |v: &str| {
            let mut m = std::collections::BTreeMap::new();
            m.insert("vlan-limit".to_string(), v.to_string());
            m
        };
        assert_eq!(vlan_limit(&Default::default()), 1);
        assert_eq!(vlan_limit(&oc("0")), 0);
        assert_eq!(vlan_limit(&oc("-3")), 0);
        assert_eq!(vlan_limit(&oc("2")), 2);
        assert_eq!(vlan_limit(&oc("x")), 1);
    }
}
