//! One bridge: its ports and interfaces as they exist now, brought to the
//! wanted [`BridgeConfig`] incrementally (interfaces are added, removed or
//! re-created one by one; the bridge itself is never rebuilt), its
//! OpenFlow port numbers, its Ethernet address and datapath ID, chosen
//! with upstream's rules.
//!
//! Logging follows upstream's `bridge` module texts ("bridge br0: added
//! interface p1 on port 1", "using datapath ID ...").
//!
//! Mirror rows become the OpenFlow switch's mirrors (`ofproto::mirror`),
//! their ports resolved to this bridge's interfaces.

use crate::config::{BridgeConfig, InterfaceConfig, MirrorConfig, PortConfig};
use crate::connmgr::{BridgeShared, ConnMgr};
use crate::device::{DeviceStatus, PortBackend};
use crate::ofport::{is_valid_request, OfportAllocator, OFPP_LOCAL};
use ofproto::mirror::MirrorSettings;
use ofproto::{OfPort, Ofproto, PortKind};
use ovsdb::Uuid;
use std::collections::BTreeMap;
use std::sync::Arc;

/// How `--enable-dummy` was given.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DummyMode {
    /// Not given: no dummy datapath or devices.
    #[default]
    Off,
    /// `--enable-dummy`: the `dummy` datapath type and dummy devices exist.
    On,
    /// `--enable-dummy=override`: in addition `system` devices and
    /// datapaths are dummies.
    Override,
}

/// Datapath-level choices the daemon's command line makes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DatapathOptions {
    pub dummy: DummyMode,
    /// `--disable-system`: no `system` datapath type.
    pub disable_system: bool,
}

impl DatapathOptions {
    /// The datapath types that can be created, sorted (the Open_vSwitch
    /// `datapath_types` column).
    pub fn datapath_types(&self) -> Vec<&'static str> {
        let mut v = vec!["netdev"];
        if self.dummy != DummyMode::Off {
            v.push("dummy");
        }
        if !self.disable_system || self.dummy == DummyMode::Override {
            v.push("system");
        }
        v.sort();
        v
    }

    /// True if a bridge of `datapath_type` can exist.
    pub fn supports(&self, datapath_type: &str) -> bool {
        self.datapath_types().contains(&datapath_type)
    }

    /// The interface types that can be opened (the `iface_types` column).
    pub fn iface_types(&self) -> Vec<&'static str> {
        let mut v = vec![
            "afxdp",
            "afxdp-nonpmd",
            "internal",
            "patch",
            "system",
            "tap",
        ];
        v.extend(crate::tunnel::TUNNEL_TYPES);
        if self.dummy != DummyMode::Off {
            v.extend(["dummy", "dummy-internal", "dummy-pmd"]);
        }
        v.sort();
        v
    }

    /// The device type that backs an interface of `iface_type` on a
    /// datapath of `datapath_type` (upstream's port open type). Under
    /// `--enable-dummy=override` other types keep their names: the
    /// backend makes dummies of them.
    pub fn open_type(&self, datapath_type: &str, iface_type: &str) -> String {
        let dummy_dp = datapath_type == "dummy"
            || (self.dummy == DummyMode::Override && datapath_type == "system");
        match iface_type {
            "internal" if dummy_dp => "dummy-internal".to_string(),
            "internal" if datapath_type == "netdev" => "tap".to_string(),
            t => t.to_string(),
        }
    }
}

/// One interface that exists.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Iface {
    pub name: String,
    /// Interface row (zero for the synthesized local interface).
    pub uuid: Uuid,
    /// The configured type (`system`, `internal`, `dummy`, ...).
    pub type_: String,
    pub ofp_port: u32,
    pub odp_port: u32,
    /// The port it belongs to.
    pub port: String,
    /// The configuration it was created from.
    pub cfg: InterfaceConfig,
    /// What the Interface's `error` column says although the interface
    /// exists (a patch port without a usable peer).
    pub error: Option<String>,
    /// A patch port whose peer is not its partner.
    pub unpaired: bool,
}

/// `ODPP_NONE`: the datapath port of an interface that has none (patch
/// ports).
pub const ODPP_NONE: u32 = u32::MAX;

/// The device of a patch port: it exists only in the switch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PatchDev {
    pub mac: [u8; 6],
    pub admin_up: bool,
}

/// Checks a patch port's `options` (upstream's messages): the peer's name.
pub fn patch_peer(name: &str, options: &BTreeMap<String, String>) -> Result<String, String> {
    let mut peer = None;
    let mut errors = Vec::new();
    for (k, v) in options {
        if k == "peer" {
            peer = Some(v.clone());
        } else {
            errors.push(format!("{name}: unknown patch argument '{k}'"));
        }
    }
    let Some(peer) = peer.filter(|p| !p.is_empty()) else {
        errors.push(format!("{name}: patch type requires valid 'peer' argument"));
        return Err(errors.join("\n"));
    };
    if peer == name {
        errors.push(format!("{name}: patch peer must not be self"));
        return Err(errors.join("\n"));
    }
    if !errors.is_empty() {
        return Err(errors.join("\n"));
    }
    Ok(peer)
}

/// The log lines of a patch or tunnel configuration error.
fn config_error_logs(name: &str, message: &str) -> Vec<LogLine> {
    vec![
        ("netdev_vport", vlog::Level::Err, message.to_string()),
        (
            "netdev",
            vlog::Level::Warn,
            format!(
                "{name}: could not set configuration ({})",
                rpc::errno::strerror(libc::EINVAL)
            ),
        ),
    ]
}

/// One port that exists (its interfaces are in [`Bridge::ifaces`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BridgePort {
    pub name: String,
    pub uuid: Uuid,
    pub ifaces: Vec<String>,
    pub cfg: PortConfig,
}

/// A log line produced by reconfiguration: (module, level, text).
pub type LogLine = (&'static str, vlog::Level, String);

/// What changed in one reconfiguration of a bridge.
#[derive(Debug, Default)]
pub struct Changes {
    pub added: Vec<String>,
    pub deleted: Vec<(String, u32)>,
    pub logs: Vec<LogLine>,
}

/// One bridge.
pub struct Bridge {
    pub name: String,
    pub uuid: Uuid,
    pub datapath_type: String,
    pub ports: BTreeMap<String, BridgePort>,
    /// By interface name.
    pub ifaces: BTreeMap<String, Iface>,
    /// Interfaces that could not be created: name → (row, error text).
    pub failed: BTreeMap<String, (Uuid, String)>,
    pub alloc: OfportAllocator,
    pub backend: Box<dyn PortBackend>,
    /// The bridge's Ethernet address (its local port's).
    pub ea: [u8; 6],
    pub dpid: u64,
    pub cfg: BridgeConfig,
    opts: DatapathOptions,
    /// The OpenFlow switch and what its connections share.
    pub shared: Arc<BridgeShared>,
    /// The OpenFlow connections (absent without a runtime, in unit tests).
    pub connmgr: Option<ConnMgr>,
    /// When the bridge was created, on its switch's clock (ms).
    pub created: u64,
    /// The devices of the patch ports, by interface name.
    pub patches: BTreeMap<String, PatchDev>,
    /// The configuration the mirrors were last set from.
    mirrors_from: Option<BridgeConfig>,
}

/// What mirror `m` asks of bridge `cfg`'s ports (`None`, logged, when it
/// cannot be set up: an output port elsewhere, or no output at all).
fn mirror_settings(cfg: &BridgeConfig, m: &MirrorConfig) -> Option<MirrorSettings> {
    let (br, name) = (&cfg.name, &m.name);
    let ifaces = |port: &PortConfig| port.interfaces.keys().cloned().collect::<Vec<_>>();
    let mut s = MirrorSettings {
        name: name.clone(),
        ..MirrorSettings::default()
    };
    if let Some(out) = &m.output_port {
        let Some(port) = cfg.ports.get(out) else {
            vlog::err!(
                "bridge",
                "bridge {br}: mirror {name} outputs to port not on bridge"
            );
            return None;
        };
        s.out = ifaces(port).into_iter().next();
        if m.output_vlan.is_some() {
            vlog::err!(
                "bridge",
                "bridge {br}: mirror {name} specifies both output port and output vlan; ignoring output vlan"
            );
        }
    } else if let Some(vlan) = m.output_vlan {
        s.out_vlan = u16::try_from(vlan).ok();
    } else {
        vlog::err!(
            "bridge",
            "bridge {br}: mirror {name} does not specify output; ignoring"
        );
        return None;
    }
    s.snaplen = m.snaplen.and_then(|n| u32::try_from(n).ok()).unwrap_or(0);
    if m.select_all {
        let all: std::collections::BTreeSet<String> = cfg.ports.values().flat_map(ifaces).collect();
        s.srcs = all.clone();
        s.dsts = all;
    } else {
        let collect = |names: &[String]| {
            let mut set = std::collections::BTreeSet::new();
            for p in names {
                match cfg.ports.get(p) {
                    Some(port) => set.extend(ifaces(port)),
                    None => vlog::warn!(
                        "bridge",
                        "bridge {br}: mirror {name} cannot match on nonexistent port {p}"
                    ),
                }
            }
            set
        };
        s.srcs = collect(&m.select_src_port);
        s.dsts = collect(&m.select_dst_port);
    }
    if !m.select_vlan.is_empty() {
        s.vlans = Some(
            m.select_vlan
                .iter()
                .filter_map(|v| u16::try_from(*v).ok())
                .collect(),
        );
    }
    Some(s)
}

/// A tunnel or patch port's counters as port stats show them (packets
/// and bytes counted by translation; no drop or error counts).
fn tunnel_counters(bridge: &str, name: &str) -> crate::device::CountersFn {
    let st = ofproto::tnl::global().stats(bridge, name);
    Arc::new(move || {
        use std::sync::atomic::Ordering::Relaxed;
        ofproto::port::PortCounters {
            rx_packets: st.rx_packets.load(Relaxed),
            tx_packets: st.tx_packets.load(Relaxed),
            rx_bytes: st.rx_bytes.load(Relaxed),
            tx_bytes: st.tx_bytes.load(Relaxed),
            ..ofproto::port::PortCounters::unknown()
        }
    })
}

/// `OFPPC_PORT_DOWN` / `OFPPS_LINK_DOWN`.
const PORT_DOWN: u32 = 1;
/// `OFPPS_LIVE` (OpenFlow 1.1+; not encoded in OpenFlow 1.0).
const PORT_LIVE: u32 = 4;

fn port_kind(iface: &Iface, is_tunnel: bool) -> PortKind {
    match iface.type_.as_str() {
        "internal" => PortKind::Internal,
        "system" | "afxdp" | "afxdp-nonpmd" => PortKind::System,
        "tap" => PortKind::Tap,
        // A patch port without a usable peer leads nowhere.
        "patch" if iface.unpaired => PortKind::Patch {
            peer: String::new(),
        },
        "patch" => PortKind::Patch {
            peer: iface.cfg.options.get("peer").cloned().unwrap_or_default(),
        },
        t if is_tunnel => PortKind::Tunnel {
            type_: t.to_string(),
        },
        // Dummies standing in for other types (`--enable-dummy=override`).
        _ => PortKind::Dummy,
    }
}

/// The address derived from a bridge's row UUID, stable across restarts:
/// the first six bytes of the UUID as upstream stores it in memory (four
/// 32-bit words in host order), marked locally administered unicast.
pub fn default_ea(uuid: &Uuid) -> [u8; 6] {
    let b = uuid.0;
    let mut ea = [b[3], b[2], b[1], b[0], b[7], b[6]];
    ea[0] &= !1;
    ea[0] |= 2;
    ea
}

/// Parses `xx:xx:xx:xx:xx:xx`.
pub fn parse_mac(s: &str) -> Option<[u8; 6]> {
    let mut a = [0u8; 6];
    let mut parts = s.split(':');
    for b in a.iter_mut() {
        let p = parts.next()?;
        if p.is_empty() || p.len() > 2 {
            return None;
        }
        *b = u8::from_str_radix(p, 16).ok()?;
    }
    parts.next().is_none().then_some(a)
}

/// `xx:xx:xx:xx:xx:xx`.
pub fn format_mac(a: &[u8; 6]) -> String {
    format!(
        "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
        a[0], a[1], a[2], a[3], a[4], a[5]
    )
}

fn is_usable_hwaddr(ea: &[u8; 6]) -> bool {
    ea[0] & 1 == 0 && *ea != [0; 6]
}

fn mac_to_u64(ea: &[u8; 6]) -> u64 {
    ea.iter().fold(0u64, |acc, b| (acc << 8) | *b as u64)
}

/// Parses `other_config:datapath-id` (exactly 16 hex digits, not zero).
pub fn parse_dpid(s: &str) -> Option<u64> {
    if s.len() != 16 {
        return None;
    }
    u64::from_str_radix(s, 16).ok().filter(|d| *d != 0)
}

impl Bridge {
    /// An empty bridge for `cfg` (reconfigure it to add its ports).
    pub fn new(cfg: &BridgeConfig, backend: Box<dyn PortBackend>, opts: DatapathOptions) -> Bridge {
        let mut alloc = OfportAllocator::default();
        alloc.reserve(OFPP_LOCAL);
        let ea = default_ea(&cfg.uuid);
        let ofproto = Ofproto::with_clock(&cfg.name, 0, crate::clock::global().ofproto_clock());
        let created = ofproto.now();
        let shared = BridgeShared::new(&cfg.name, ofproto);
        Bridge {
            name: cfg.name.clone(),
            uuid: cfg.uuid,
            datapath_type: cfg.datapath_type.clone(),
            ports: BTreeMap::new(),
            ifaces: BTreeMap::new(),
            failed: BTreeMap::new(),
            alloc,
            backend,
            ea,
            dpid: 0,
            cfg: cfg.clone(),
            opts,
            shared,
            connmgr: None,
            created,
            patches: BTreeMap::new(),
            mirrors_from: None,
        }
    }

    /// The OpenFlow view of an interface.
    pub fn of_port(&self, iface: &Iface) -> OfPort {
        let st = self.device_status(&iface.name);
        let mac = st.as_ref().map(|s| s.mac).unwrap_or([0; 6]);
        let is_tunnel = self.backend.tunnel_config(&iface.name).is_some();
        let mut p = OfPort::new(
            iface.ofp_port,
            &iface.name,
            iface.odp_port,
            port_kind(iface, is_tunnel),
            mac,
        );
        if let Some(st) = &st {
            if !st.admin_up {
                p.config |= PORT_DOWN;
            }
            if !st.link_up {
                p.state |= PORT_DOWN;
            } else if st.admin_up {
                p.state |= PORT_LIVE;
            }
        }
        if let Some(port) = self.ports.get(&iface.port) {
            p.vlan_tag = port.cfg.tag.and_then(|t| u16::try_from(t).ok());
            p.vlan_trunks = port
                .cfg
                .trunks
                .iter()
                .filter_map(|t| u16::try_from(*t).ok())
                .collect();
            p.vlan_mode = match port.cfg.vlan_mode.as_deref() {
                Some("access") => ofproto::port::VlanMode::Access,
                Some("native-tagged") => ofproto::port::VlanMode::NativeTagged,
                Some("native-untagged") => ofproto::port::VlanMode::NativeUntagged,
                Some("dot1q-tunnel") => ofproto::port::VlanMode::DotOneQTunnel,
                Some("trunk") => ofproto::port::VlanMode::Trunk,
                _ if p.vlan_tag.is_some() => ofproto::port::VlanMode::Access,
                _ => ofproto::port::VlanMode::Trunk,
            };
        }
        p
    }

    /// Brings the OpenFlow ports up to date with the interfaces (adds,
    /// removes, and modifies those whose attributes changed; each change
    /// is a port-status message).
    pub fn sync_ofports(&self, deleted: &[(String, u32)]) {
        let ports: Vec<OfPort> = self.ifaces.values().map(|i| self.of_port(i)).collect();
        let dpid = self.dpid;
        let live: std::collections::BTreeSet<u32> = ports.iter().map(|p| p.ofp_port).collect();
        let counters: BTreeMap<u32, crate::device::CountersFn> = self
            .ifaces
            .values()
            .filter_map(|i| {
                if self.backend.tunnel_config(&i.name).is_some()
                    || self.patches.contains_key(&i.name)
                {
                    return Some((i.ofp_port, tunnel_counters(&self.name, &i.name)));
                }
                Some((i.ofp_port, self.backend.counters(&i.name)?))
            })
            .collect();
        self.publish_tunnels();
        self.shared.with_ofproto(|o| {
            o.config.datapath_id = dpid;
            o.set_port_counters_source(Arc::new(move |no| counters.get(&no).map(|f| f())));
            for (_, n) in deleted {
                if !live.contains(n) {
                    o.remove_port(*n);
                }
            }
            let stale: Vec<u32> = o
                .ports()
                .map(|p| p.ofp_port)
                .filter(|n| !live.contains(n))
                .collect();
            for n in stale {
                o.remove_port(n);
            }
            for p in ports {
                o.add_port(p);
            }
        });
    }

    /// Tells native tunnelling about this bridge's tunnel interfaces.
    pub fn publish_tunnels(&self) {
        let ports: Vec<ofproto::tnl::ports::TnlPort> = self
            .ifaces
            .values()
            .filter_map(|i| {
                let cfg = self.backend.tunnel_config(&i.name)?;
                Some(crate::tunnel::tnl_port(
                    &self.name, &i.name, i.ofp_port, i.odp_port, &cfg,
                ))
            })
            .collect();
        ofproto::tnl::global()
            .ports_mut()
            .replace_bridge(&self.name, ports);
    }

    /// The interface with OpenFlow port `ofp_port`.
    pub fn iface_by_ofport(&self, ofp_port: u32) -> Option<&Iface> {
        self.ifaces.values().find(|i| i.ofp_port == ofp_port)
    }

    /// The facts about an interface's device.
    pub fn device_status(&self, iface: &str) -> Option<DeviceStatus> {
        if let Some(p) = self.patches.get(iface) {
            let c = tunnel_counters(&self.name, iface)();
            return Some(DeviceStatus {
                mac: p.mac,
                mtu: None,
                ifindex: Some(0),
                link_up: p.admin_up,
                admin_up: p.admin_up,
                statistics: vec![
                    ("rx_bytes".to_string(), c.rx_bytes),
                    ("rx_packets".to_string(), c.rx_packets),
                    ("tx_bytes".to_string(), c.tx_bytes),
                    ("tx_packets".to_string(), c.tx_packets),
                ],
                status: Vec::new(),
            });
        }
        let mut st = self.backend.status(iface)?;
        if self.backend.tunnel_config(iface).is_some() {
            let c = tunnel_counters(&self.name, iface)();
            st.statistics = vec![
                ("rx_bytes".to_string(), c.rx_bytes),
                ("rx_packets".to_string(), c.rx_packets),
                ("tx_bytes".to_string(), c.tx_bytes),
                ("tx_packets".to_string(), c.tx_packets),
            ];
            st.status
                .extend(crate::tunnel::egress_status(&self.name, iface));
        }
        Some(st)
    }

    /// What `dpif/show` prints for an interface: its device type and
    /// configuration.
    pub fn show_config(&self, iface: &Iface) -> Option<(String, Vec<(String, String)>)> {
        if iface.type_ == "patch" {
            let peer = iface.cfg.options.get("peer").cloned().unwrap_or_default();
            return Some(("patch".to_string(), vec![("peer".to_string(), peer)]));
        }
        let t = self.backend.tunnel_config(&iface.name)?;
        Some((t.type_.clone(), t.show_config()))
    }

    fn wanted_iface<'a>(
        cfg: &'a BridgeConfig,
        name: &str,
    ) -> Option<(&'a PortConfig, &'a InterfaceConfig)> {
        cfg.ports
            .values()
            .find_map(|p| p.interfaces.get(name).map(|i| (p, i)))
    }

    /// True if an existing interface must be deleted (and perhaps
    /// re-created) to match `cfg`.
    fn must_delete(&self, iface: &Iface, cfg: &BridgeConfig) -> bool {
        let Some((port, want)) = Self::wanted_iface(cfg, &iface.name) else {
            return true;
        };
        if port.name != iface.port || want.type_ != iface.type_ {
            return true;
        }
        // A patch port whose new options are wrong goes (and its re-creation
        // fails with the error).
        if iface.type_ == "patch" && patch_peer(&iface.name, &want.options).is_err() {
            return true;
        }
        // A new valid request for another, free number moves the interface.
        match want.ofport_request {
            Some(r) if is_valid_request(r) && iface.name != self.name => {
                r as u32 != iface.ofp_port && !self.alloc.in_use(r as u32)
            }
            _ => false,
        }
    }

    /// Brings the bridge to `cfg`. `now_ms` dates released port numbers.
    pub fn reconfigure(&mut self, cfg: &BridgeConfig, now_ms: i64) -> Changes {
        let mut ch = Changes::default();
        // 1. Interfaces no longer wanted (or wanted differently).
        let mut doomed: Vec<String> = self
            .ifaces
            .values()
            .filter(|i| self.must_delete(i, cfg))
            .map(|i| i.name.clone())
            .collect();
        // Tunnels whose options changed are reconfigured in place (their
        // datapath port may change); wrong options delete them.
        let retuned: Vec<(String, BTreeMap<String, String>)> = self
            .ifaces
            .values()
            .filter(|i| !doomed.contains(&i.name))
            .filter_map(|i| {
                let (_, want) = Self::wanted_iface(cfg, &i.name)?;
                (want.options != i.cfg.options && self.backend.tunnel_config(&i.name).is_some())
                    .then(|| (i.name.clone(), want.options.clone()))
            })
            .collect();
        for (name, options) in retuned {
            let type_ = self.ifaces[&name].type_.clone();
            match self.backend.port_reconfigure(&name, &type_, &options) {
                Ok(odp) => {
                    if let Some(i) = self.ifaces.get_mut(&name) {
                        i.odp_port = odp;
                    }
                }
                Err(_) => doomed.push(name),
            }
        }
        for name in doomed {
            if let Some(iface) = self.ifaces.remove(&name) {
                if self.patches.remove(&name).is_none() {
                    self.backend.port_del(&name);
                }
                self.alloc.release(iface.ofp_port, now_ms);
                ch.logs.push((
                    "bridge",
                    vlog::Level::Info,
                    format!(
                        "bridge {}: deleted interface {} on port {}",
                        self.name, name, iface.ofp_port
                    ),
                ));
                ch.deleted.push((name, iface.ofp_port));
            }
        }
        self.failed.clear();
        // 2. Ports: drop those that went away, refresh the rest.
        self.ports.retain(|name, _| cfg.ports.contains_key(name));
        for (name, pcfg) in &cfg.ports {
            let port = self
                .ports
                .entry(name.clone())
                .or_insert_with(|| BridgePort {
                    name: name.clone(),
                    uuid: pcfg.uuid,
                    ifaces: Vec::new(),
                    cfg: pcfg.clone(),
                });
            port.uuid = pcfg.uuid;
            port.cfg = pcfg.clone();
            port.ifaces = pcfg.interfaces.keys().cloned().collect();
        }
        // 3. New interfaces: those asking for a number first (so they get
        // it), then the others; each group in the order upstream walks
        // its table of wanted ports (its hash order over the port names,
        // entered in row-UUID order), interfaces of a port in UUID order.
        // Dummy devices number their addresses in this creation order.
        let mut by_uuid: Vec<&PortConfig> = cfg.ports.values().collect();
        by_uuid.sort_by_key(|p| p.uuid);
        let names: Vec<&str> = by_uuid.iter().map(|p| p.name.as_str()).collect();
        let walk = crate::hash_order::iteration_order(&names);
        let mut todo: Vec<(usize, usize, &PortConfig, &InterfaceConfig)> = Vec::new();
        for (pos, name) in walk.iter().enumerate() {
            let Some(p) = cfg.ports.get(*name) else {
                continue;
            };
            let mut ifaces: Vec<&InterfaceConfig> = p.interfaces.values().collect();
            ifaces.sort_by_key(|i| i.uuid);
            for i in ifaces {
                if !self.ifaces.contains_key(&i.name) {
                    let pass = usize::from(pick_ofport(i).is_none());
                    todo.push((pass, pos, p, i));
                }
            }
        }
        todo.sort_by_key(|(pass, pos, _, _)| (*pass, *pos));
        for (_, _, port, want) in todo {
            self.add_iface(port, want, &mut ch);
        }
        // Interfaces whose configuration changed in place (a dummy's
        // options, such as its pcap files, take effect at once).
        for iface in self.ifaces.values_mut() {
            if let Some((_, want)) = Self::wanted_iface(cfg, &iface.name) {
                if want.options != iface.cfg.options {
                    if let Some(d) = self.backend.dummy(&iface.name) {
                        let opts: Vec<(String, String)> = want
                            .options
                            .iter()
                            .map(|(k, v)| (k.clone(), v.clone()))
                            .collect();
                        if let Err(e) = d.set_options(&opts) {
                            vlog::warn!("netdev_dummy", "{}: {e}", iface.name);
                        }
                    }
                }
                iface.uuid = want.uuid;
                iface.cfg = want.clone();
            }
        }
        // 4. Address and datapath ID; NORMAL's MAC table limits.
        self.cfg = cfg.clone();
        let int = |k: &str, default: i64| {
            cfg.other_config
                .get(k)
                .and_then(|v| v.trim().parse::<i64>().ok())
                .unwrap_or(default)
        };
        let ml = &self.shared.mac_learning;
        ml.set_idle_time(u32::try_from(int("mac-aging-time", 300)).unwrap_or(u32::MAX));
        ml.set_max_entries(usize::try_from(int("mac-table-size", 8192)).unwrap_or(0));
        self.pick_addresses(&mut ch);
        // 5. The OpenFlow side: ports, mirrors, then connections.
        self.sync_ofports(&ch.deleted);
        self.configure_mirrors(cfg);
        if let Some(cm) = self.connmgr.as_mut() {
            cm.set_controller_queue_size(&cfg.other_config);
            cm.configure(&cfg.protocols, &cfg.controllers, cfg.fail_mode);
            let lookup = if self.opts.open_type(&self.datapath_type, "internal") == "dummy-internal"
            {
                crate::connmgr::in_band::NextHopLookup::Unsupported
            } else {
                crate::connmgr::in_band::NextHopLookup::System
            };
            cm.configure_in_band(
                &cfg.other_config,
                &cfg.controllers,
                &cfg.in_band_managers,
                lookup,
            );
        }
        ch
    }

    /// Sets the OpenFlow switch's mirrors from the Mirror rows and its
    /// flood VLANs (upstream's `bridge_configure_mirrors`, with its log
    /// lines; done again, and logged again, whenever the bridge's
    /// configuration changes).
    fn configure_mirrors(&mut self, cfg: &BridgeConfig) {
        if self.mirrors_from.as_ref() == Some(cfg) {
            return;
        }
        self.mirrors_from = Some(cfg.clone());
        // The VLANs NORMAL floods without learning (for RSPAN); a change
        // forgets what was learned.
        let flood_vlans: std::collections::BTreeSet<u16> = cfg
            .flood_vlans
            .iter()
            .filter_map(|v| u16::try_from(*v).ok())
            .collect();
        let changed = self.shared.with_ofproto(|o| {
            let changed = o.flood_vlans != flood_vlans;
            o.flood_vlans = flood_vlans;
            changed
        });
        if changed {
            self.shared.mac_learning.flush();
        }
        let wanted: Vec<(String, Option<MirrorSettings>)> = cfg
            .mirrors
            .iter()
            .map(|m| (m.uuid.to_string(), mirror_settings(cfg, m)))
            .collect();
        self.shared.with_ofproto(|o| {
            let gone: Vec<String> = o
                .mirrors
                .iter()
                .filter(|m| !wanted.iter().any(|(k, _)| *k == m.key))
                .map(|m| m.key.clone())
                .collect();
            for k in gone {
                o.mirrors.remove(&k);
            }
            for (key, settings) in wanted {
                match settings {
                    Some(s) => {
                        if let Err(e) = o.mirrors.set(&key, s) {
                            vlog::warn!("ofproto_dpif_mirror", "{e}");
                        }
                    }
                    None => o.mirrors.remove(&key),
                }
            }
        });
    }

    /// Refuses a tunnel identical (type and UDP port, key, endpoints,
    /// packet type) to one that exists, with upstream's messages.
    fn duplicate_tunnel(
        &self,
        name: &str,
        type_: &str,
        options: &BTreeMap<String, String>,
    ) -> Option<crate::device::AddError> {
        if !crate::tunnel::is_tunnel_type(type_) {
            return None;
        }
        let new = crate::tunnel::TunnelConfig::parse(name, type_, options)
            .result
            .ok()?;
        let same = self.ifaces.values().find_map(|i| {
            let old = self.backend.tunnel_config(&i.name)?;
            (i.name != name && crate::tunnel::same_identity(&old, &new))
                .then(|| (i.name.clone(), i.odp_port, old))
        })?;
        let (other, odp, cfg) = same;
        let eexist = rpc::errno::strerror(libc::EEXIST);
        Some(crate::device::AddError {
            logs: vec![
                (
                    "tunnel",
                    vlog::Level::Warn,
                    format!(
                        "{name}: attempting to add tunnel port with same config as port '{other}' ({})",
                        crate::tunnel::identity_text(&cfg, odp)
                    ),
                ),
                (
                    "ofproto",
                    vlog::Level::Warn,
                    format!("{}: could not add port {name} ({eexist})", self.name),
                ),
            ],
            message: format!("could not add network device {name} to ofproto ({eexist})"),
            log_message: true,
        })
    }

    fn add_iface(&mut self, port: &PortConfig, want: &InterfaceConfig, ch: &mut Changes) {
        let open_type = self.opts.open_type(&self.datapath_type, &want.type_);
        let added = if want.type_ == "patch" {
            match patch_peer(&want.name, &want.options) {
                Ok(_) => {
                    // A new patch device counts from zero.
                    ofproto::tnl::global().forget_stats(&self.name, &want.name);
                    self.patches.insert(
                        want.name.clone(),
                        PatchDev {
                            mac: crate::dpbackend::random_mac(),
                            admin_up: true,
                        },
                    );
                    Ok(ODPP_NONE)
                }
                Err(message) => Err(crate::device::AddError {
                    logs: config_error_logs(&want.name, &message),
                    message,
                    log_message: false,
                }),
            }
        } else if let Some(e) = self.duplicate_tunnel(&want.name, &open_type, &want.options) {
            Err(e)
        } else {
            self.backend.port_add(&want.name, &open_type, &want.options)
        };
        let odp_port = match added {
            Ok(n) => n,
            Err(e) => {
                ch.logs.extend(e.logs);
                if e.log_message {
                    ch.logs
                        .push(("bridge", vlog::Level::Warn, e.message.clone()));
                }
                self.failed
                    .insert(want.name.clone(), (want.uuid, e.message));
                return;
            }
        };
        let ofp_port = if want.name == self.name {
            OFPP_LOCAL
        } else {
            match self.alloc.allocate(pick_ofport(want)) {
                Some(n) => n,
                None => {
                    if self.patches.remove(&want.name).is_none() {
                        self.backend.port_del(&want.name);
                    }
                    let msg = format!(
                        "could not add network device {} to ofproto ({})",
                        want.name,
                        rpc::errno::strerror(libc::EFBIG)
                    );
                    ch.logs.push(("bridge", vlog::Level::Warn, msg.clone()));
                    self.failed.insert(want.name.clone(), (want.uuid, msg));
                    return;
                }
            }
        };
        ch.logs.push((
            "bridge",
            vlog::Level::Info,
            format!(
                "bridge {}: added interface {} on port {}",
                self.name, want.name, ofp_port
            ),
        ));
        ch.added.push(want.name.clone());
        self.ifaces.insert(
            want.name.clone(),
            Iface {
                name: want.name.clone(),
                uuid: want.uuid,
                type_: want.type_.clone(),
                ofp_port,
                odp_port,
                port: port.name.clone(),
                cfg: want.clone(),
                error: None,
                unpaired: false,
            },
        );
    }

    /// Chooses the bridge address (other_config:hwaddr, else the lowest
    /// universally administered address among the non-internal
    /// interfaces, else the one derived from the row UUID) and the
    /// datapath ID (other_config:datapath-id, else the address).
    fn pick_addresses(&mut self, ch: &mut Changes) {
        let mut ea = None;
        if let Some(hw) = self
            .cfg
            .other_config
            .get("hwaddr")
            .and_then(|s| parse_mac(s))
        {
            if is_usable_hwaddr(&hw) {
                ea = Some(hw);
            }
        }
        if ea.is_none() {
            let mut best: Option<[u8; 6]> = None;
            for iface in self.ifaces.values() {
                if iface.type_ == "internal" || iface.name == self.name {
                    continue;
                }
                let Some(st) = self.backend.status(&iface.name) else {
                    continue;
                };
                let m = st.mac;
                // Locally administered addresses do not qualify.
                if !is_usable_hwaddr(&m) || m[0] & 2 != 0 {
                    continue;
                }
                if best.is_none_or(|b| m < b) {
                    best = Some(m);
                }
            }
            ea = best;
        }
        let ea = ea.unwrap_or_else(|| default_ea(&self.uuid));
        if self.ifaces.contains_key(&self.name) {
            let local_mac = self
                .ifaces
                .get(&self.name)
                .and_then(|i| i.cfg.mac.as_deref())
                .and_then(parse_mac)
                .unwrap_or(ea);
            if self.backend.status(&self.name).map(|s| s.mac) != Some(local_mac) {
                let name = self.name.clone();
                self.backend.set_mac(&name, local_mac);
            }
        }
        self.ea = ea;
        let dpid = self
            .cfg
            .other_config
            .get("datapath-id")
            .and_then(|s| parse_dpid(s))
            .unwrap_or_else(|| mac_to_u64(&ea));
        if dpid != self.dpid {
            self.dpid = dpid;
            ch.logs.push((
                "bridge",
                vlog::Level::Info,
                format!("bridge {}: using datapath ID {:016x}", self.name, dpid),
            ));
        }
    }

    /// Removes every interface (the bridge is going away).
    pub fn destroy(&mut self) {
        let names: Vec<String> = self.ifaces.keys().cloned().collect();
        for n in names {
            if self.patches.remove(&n).is_none() {
                self.backend.port_del(&n);
            }
        }
        self.ifaces.clear();
        self.ports.clear();
        self.connmgr = None;
    }
}

/// The port number an interface asks for: `ofport_request`, else the
/// number an earlier run recorded in `ofport` (upstream's
/// iface_pick_ofport).
pub fn pick_ofport(i: &InterfaceConfig) -> Option<i64> {
    i.ofport_request
        .filter(|r| is_valid_request(*r))
        .or(i.ofport.filter(|r| is_valid_request(*r)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::device::Devices;

    fn iface(name: &str, type_: &str, req: Option<i64>, ofport: Option<i64>) -> InterfaceConfig {
        InterfaceConfig {
            uuid: Uuid::ZERO,
            name: name.into(),
            type_: type_.into(),
            options: BTreeMap::new(),
            ofport_request: req,
            ofport,
            mtu_request: None,
            mac: None,
            other_config: BTreeMap::new(),
            external_ids: BTreeMap::new(),
            in_db: true,
        }
    }

    fn port(i: InterfaceConfig) -> PortConfig {
        PortConfig {
            uuid: Uuid::ZERO,
            name: i.name.clone(),
            interfaces: BTreeMap::from([(i.name.clone(), i)]),
            tag: None,
            trunks: Vec::new(),
            vlan_mode: None,
            bond_mode: None,
            other_config: BTreeMap::new(),
            fake_bridge: false,
            protected: false,
            in_db: true,
        }
    }

    fn bridge_cfg(ports: Vec<InterfaceConfig>) -> BridgeConfig {
        let uuid = Uuid::parse("f98d13ee-6f33-4466-b932-80c95aa36cdd").unwrap();
        let mut all = vec![iface("br0", "internal", None, None)];
        all.extend(ports);
        BridgeConfig {
            uuid,
            name: "br0".into(),
            datapath_type: "dummy".into(),
            fail_mode: Default::default(),
            protocols: Vec::new(),
            other_config: BTreeMap::new(),
            external_ids: BTreeMap::new(),
            ports: all.into_iter().map(|i| (i.name.clone(), port(i))).collect(),
            controllers: Vec::new(),
            in_band_managers: Vec::new(),
            mcast_snooping_enable: false,
            stp_enable: false,
            rstp_enable: false,
            flood_vlans: Vec::new(),
            mirrors: Vec::new(),
        }
    }

    fn opts() -> DatapathOptions {
        DatapathOptions {
            dummy: DummyMode::On,
            disable_system: true,
        }
    }

    fn texts(ch: &Changes) -> Vec<String> {
        ch.logs.iter().map(|l| l.2.clone()).collect()
    }

    #[test]
    fn default_address_and_dpid_come_from_the_uuid() {
        let cfg = bridge_cfg(vec![]);
        let mut br = Bridge::new(&cfg, Box::new(Devices::new()), opts());
        let ch = br.reconfigure(&cfg, 0);
        assert_eq!(format_mac(&br.ea), "ee:13:8d:f9:66:44");
        assert_eq!(
            texts(&ch),
            [
                "bridge br0: added interface br0 on port 65534",
                "bridge br0: using datapath ID 0000ee138df96644"
            ]
        );
        assert_eq!(br.device_status("br0").unwrap().mac, br.ea);
    }

    #[test]
    fn incremental_add_remove_and_requests() {
        let mut cfg = bridge_cfg(vec![iface("p1", "dummy", None, None)]);
        let mut br = Bridge::new(&cfg, Box::new(Devices::new()), opts());
        br.reconfigure(&cfg, 0);
        assert_eq!(br.ifaces["p1"].ofp_port, 1);
        cfg = bridge_cfg(vec![
            iface("p1", "dummy", None, None),
            iface("p2", "dummy", Some(5), None),
        ]);
        let ch = br.reconfigure(&cfg, 1);
        assert_eq!(texts(&ch), ["bridge br0: added interface p2 on port 5"]);
        // Changing the request moves the interface.
        cfg = bridge_cfg(vec![
            iface("p1", "dummy", Some(9), None),
            iface("p2", "dummy", Some(5), None),
        ]);
        let ch = br.reconfigure(&cfg, 2);
        assert_eq!(
            texts(&ch),
            [
                "bridge br0: deleted interface p1 on port 1",
                "bridge br0: added interface p1 on port 9"
            ]
        );
        // Asking for a number in use keeps the current one.
        cfg = bridge_cfg(vec![
            iface("p1", "dummy", Some(5), None),
            iface("p2", "dummy", Some(5), None),
        ]);
        let ch = br.reconfigure(&cfg, 3);
        assert!(texts(&ch).is_empty());
        assert_eq!(br.ifaces["p1"].ofp_port, 9);
        cfg = bridge_cfg(vec![iface("p2", "dummy", Some(5), None)]);
        let ch = br.reconfigure(&cfg, 4);
        assert_eq!(texts(&ch), ["bridge br0: deleted interface p1 on port 9"]);
        assert!(!br.ports.contains_key("p1"));
    }

    #[test]
    fn recorded_ofport_survives_restart() {
        let cfg = bridge_cfg(vec![
            iface("a", "dummy", None, Some(7)),
            iface("b", "dummy", None, None),
        ]);
        let mut br = Bridge::new(&cfg, Box::new(Devices::new()), opts());
        br.reconfigure(&cfg, 0);
        assert_eq!(br.ifaces["a"].ofp_port, 7);
        assert_eq!(br.ifaces["b"].ofp_port, 1);
    }

    #[test]
    fn failed_interfaces_are_reported_and_retried() {
        let cfg = bridge_cfg(vec![iface("bar", "bogus", None, None)]);
        let mut br = Bridge::new(&cfg, Box::new(Devices::new()), opts());
        let ch = br.reconfigure(&cfg, 0);
        assert!(texts(&ch).contains(
            &"could not open network device bar (Address family not supported by protocol)"
                .to_string()
        ));
        assert!(br.failed.contains_key("bar"));
        let ch = br.reconfigure(&cfg, 1);
        assert_eq!(ch.logs.len(), 2);
    }

    #[test]
    fn configured_datapath_id_and_hwaddr() {
        let mut cfg = bridge_cfg(vec![]);
        cfg.other_config
            .insert("datapath-id".into(), "0000000000000abc".into());
        cfg.other_config
            .insert("hwaddr".into(), "00:11:22:33:44:55".into());
        let mut br = Bridge::new(&cfg, Box::new(Devices::new()), opts());
        br.reconfigure(&cfg, 0);
        assert_eq!(br.dpid, 0xabc);
        assert_eq!(format_mac(&br.ea), "00:11:22:33:44:55");
    }

    #[test]
    fn open_types() {
        let o = opts();
        assert_eq!(o.open_type("dummy", "internal"), "dummy-internal");
        assert_eq!(o.open_type("netdev", "internal"), "tap");
        assert_eq!(o.open_type("dummy", "system"), "system");
        let ov = DatapathOptions {
            dummy: DummyMode::Override,
            disable_system: false,
        };
        assert_eq!(ov.open_type("system", "system"), "system");
        assert_eq!(ov.open_type("system", "vxlan"), "vxlan");
        assert_eq!(o.datapath_types(), ["dummy", "netdev"]);
        assert!(!o.supports("system"));
    }
}
