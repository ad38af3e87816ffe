//! Bridges on the userspace datapath: one [`DpifNetdev`] per datapath type
//! (`ovs-dummy` for `dummy`, `ovs-netdev` for `netdev`; a `system`
//! bridge, when the system type is enabled, also runs on the userspace
//! datapath as `ovs-system`), shared by every bridge of that type as
//! upstream's backers are. Each bridge's [`DpBackend`] opens its
//! interfaces' devices through the `netdev` room and adds them as
//! datapath ports.

use crate::device::{AddError, CountersFn, DeviceStatus, PortBackend};
use crate::tunnel::TunnelConfig;
use datapath::{Dpif, DpifNetdev, PmdConfig};
use netdev::{Netdev, NetdevFlags};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// The datapaths of the daemon, by type.
#[derive(Default)]
pub struct Datapaths {
    by_type: Mutex<BTreeMap<String, Arc<DpifNetdev>>>,
    /// Where upcalls find bridges (set before the first datapath).
    registry: Mutex<Option<crate::upcall::SharedRegistry>>,
    /// Keeps the datapaths' flows true to the bridges (started with the
    /// registry).
    revalidator: Mutex<Option<Arc<crate::revalidator::Revalidator>>>,
    /// Tunnel vport use counts, by datapath type.
    vports: Mutex<BTreeMap<String, Arc<VportUsers>>>,
}

fn dp_name(datapath_type: &str) -> String {
    format!("ovs-{datapath_type}")
}

impl Datapaths {
    pub fn new() -> Arc<Datapaths> {
        Arc::new(Datapaths::default())
    }

    /// Datapaths created from now on send their upcalls to translation
    /// over the bridges of `registry`.
    /// Also starts the revalidator over them.
    pub fn set_registry(self: &Arc<Self>, registry: crate::upcall::SharedRegistry) {
        *self.registry.lock().unwrap_or_else(|e| e.into_inner()) = Some(registry.clone());
        crate::native_tnl::start(registry.clone(), Arc::downgrade(self));
        match crate::revalidator::Revalidator::start(Arc::downgrade(self), registry) {
            Ok(r) => {
                *self.revalidator.lock().unwrap_or_else(|e| e.into_inner()) = Some(Arc::new(r));
            }
            Err(e) => vlog::err!("ofproto_dpif_upcall", "could not start revalidator ({e})"),
        }
    }

    /// The revalidator, once the registry is set.
    pub fn revalidator(&self) -> Option<Arc<crate::revalidator::Revalidator>> {
        self.revalidator
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The datapath for bridges of `datapath_type`, created on first use.
    pub fn get_or_create(&self, datapath_type: &str) -> Result<Arc<DpifNetdev>, String> {
        let mut m = self.by_type.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(dp) = m.get(datapath_type) {
            return Ok(dp.clone());
        }
        let name = dp_name(datapath_type);
        let dp = match datapath_type {
            // `system` reaches here only under `--enable-dummy=override`,
            // where upstream's dummy datapath class stands in for it.
            "dummy" | "system" => {
                DpifNetdev::create(datapath_type, &name, None, PmdConfig::default())
            }
            _ => {
                // The local port of a userspace datapath is a TAP device
                // named after it; without one (no privileges) it is a
                // dummy, and the datapath still forwards.
                let local: Option<Arc<dyn Netdev>> =
                    netdev::open(&name, "tap", &netdev::NetdevConfig::default()).ok();
                DpifNetdev::create("netdev", &name, local, PmdConfig::default())
            }
        }
        .map_err(|e| e.to_string())?;
        let dp = Arc::new(dp);
        if let Some(reg) = self
            .registry
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
        {
            dp.set_upcall_handler(Arc::new(crate::upcall::SwitchUpcalls {
                datapath: name.clone(),
                registry: reg,
                dp: Arc::downgrade(&dp),
            }));
        }
        m.insert(datapath_type.to_string(), dp.clone());
        Ok(dp)
    }

    /// The forwarding side of a new bridge on the datapath of
    /// `datapath_type` (`dummy`, `netdev`, or `system` under
    /// `--enable-dummy=override`, when `dummy_override` also makes every
    /// device but patch ports a dummy).
    pub fn backend(&self, datapath_type: &str, dummy_override: bool) -> Result<DpBackend, String> {
        let dp = self.get_or_create(datapath_type)?;
        let users = self
            .vports
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(datapath_type.to_string())
            .or_default()
            .clone();
        Ok(DpBackend::with_vports(dp, users, dummy_override))
    }

    /// Every datapath, in type order.
    pub fn all(&self) -> Vec<Arc<DpifNetdev>> {
        self.by_type
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .cloned()
            .collect()
    }

    /// The datapath of `datapath_type`, if created.
    pub fn get(&self, datapath_type: &str) -> Option<Arc<DpifNetdev>> {
        self.by_type
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(datapath_type)
            .cloned()
    }
}

enum PortDev {
    /// A device of its own.
    Device {
        netdev: Arc<dyn Netdev>,
        dummy: Option<Arc<netdev::dummy::Dummy>>,
        /// An `afxdp` device (its per-queue kernel counters are reported
        /// as upstream's custom statistics).
        afxdp: Option<Arc<netdev::afxdp::AfXdp>>,
    },
    /// A tunnel: an OpenFlow port whose datapath port is the vport shared
    /// by every tunnel of its type and UDP port.
    Tunnel {
        cfg: TunnelConfig,
        vport: String,
        mac: [u8; 6],
        admin_up: bool,
    },
}

struct Port {
    odp: u32,
    dev: PortDev,
}

/// How many tunnel interfaces use each vport of one datapath (by vport
/// name): the vport goes when the last one does.
#[derive(Default)]
pub struct VportUsers(Mutex<BTreeMap<String, usize>>);

/// The datapath port number a dummy datapath gives a device, as upstream
/// does to keep tests predictable: the first number in the name (plus 100
/// for names starting with `br`), when that port is free.
pub fn dummy_port_number(name: &str, dp: &DpifNetdev) -> Option<u32> {
    let start = if name.starts_with("br") { 100 } else { 0 };
    let digits: String = name
        .chars()
        .skip_while(|c| !c.is_ascii_digit())
        .take_while(|c| c.is_ascii_digit())
        .collect();
    let n: u32 = start + digits.parse::<u32>().ok()?;
    let taken = Dpif::ports(dp).iter().any(|p| p.port_no == n);
    (n > 0 && n != u32::MAX && !taken).then_some(n)
}

/// A random locally administered unicast address (tunnel and patch
/// devices get one, as upstream's vports do).
pub fn random_mac() -> [u8; 6] {
    let mut ea = [0u8; 6];
    // SAFETY: getrandom writes at most `len` bytes into the buffer.
    let n = unsafe { libc::getrandom(ea.as_mut_ptr().cast(), ea.len(), 0) };
    if n != ea.len() as isize {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        ea.copy_from_slice(&t.to_le_bytes()[..6]);
    }
    ea[0] &= !1;
    ea[0] |= 2;
    ea
}

/// The forwarding side of one bridge on a userspace datapath.
pub struct DpBackend {
    pub dp: Arc<DpifNetdev>,
    ports: BTreeMap<String, Port>,
    /// `--enable-dummy=override`: every device but a patch port is a
    /// dummy that keeps its type name.
    dummy_override: bool,
    vport_users: Arc<VportUsers>,
}

impl DpBackend {
    pub fn new(dp: Arc<DpifNetdev>) -> DpBackend {
        DpBackend::with_vports(dp, Arc::default(), false)
    }

    /// A backend on `dp` sharing the tunnel vports' use counts of that
    /// datapath with the other bridges on it.
    pub fn with_vports(
        dp: Arc<DpifNetdev>,
        vport_users: Arc<VportUsers>,
        dummy_override: bool,
    ) -> DpBackend {
        DpBackend {
            dp,
            ports: BTreeMap::new(),
            dummy_override,
            vport_users,
        }
    }

    /// Dummy datapaths number ports after their names.
    fn requested_number(&self, name: &str) -> Option<u32> {
        if self.dp.type_name() != "netdev" {
            dummy_port_number(name, &self.dp)
        } else {
            None
        }
    }

    fn add_tunnel(
        &mut self,
        name: &str,
        type_: &str,
        options: &BTreeMap<String, String>,
    ) -> Result<u32, AddError> {
        let parsed = TunnelConfig::parse(name, type_, options);
        let mut logs = Vec::new();
        if let Some(w) = &parsed.warning {
            logs.push(("netdev_vport", vlog::Level::Warn, w.clone()));
        }
        let cfg = match parsed.result {
            Ok(c) => c,
            Err(message) => {
                logs.push((
                    "netdev",
                    vlog::Level::Warn,
                    format!(
                        "{name}: could not set configuration ({})",
                        rpc::errno::strerror(libc::EINVAL)
                    ),
                ));
                return Err(AddError {
                    logs,
                    message,
                    log_message: false,
                });
            }
        };
        for (module, _, text) in &logs {
            vlog::warn!(module, "{}", text);
        }
        let vport = cfg.dpif_port_name();
        let odp = self.vport_ref(&vport, &cfg)?;
        self.ports.insert(
            name.to_string(),
            Port {
                odp,
                dev: PortDev::Tunnel {
                    cfg,
                    vport,
                    mac: random_mac(),
                    admin_up: true,
                },
            },
        );
        Ok(odp)
    }

    /// The datapath port number of the vport of tunnel `cfg`, added on
    /// first use.
    fn vport_ref(&self, vport: &str, cfg: &TunnelConfig) -> Result<u32, AddError> {
        let type_ = cfg.type_.as_str();
        let mut users = self.vport_users.0.lock().unwrap_or_else(|e| e.into_inner());
        let existing = Dpif::ports(self.dp.as_ref())
            .into_iter()
            .find(|p| p.name == vport)
            .map(|p| p.port_no);
        let odp = match existing {
            Some(n) => n,
            None => {
                let dev =
                    datapath::vport::TunnelVport::new(vport, type_).ok_or_else(|| AddError {
                        logs: Vec::new(),
                        message: format!(
                            "could not open network device {vport} ({})",
                            rpc::errno::strerror(libc::EAFNOSUPPORT)
                        ),
                        log_message: true,
                    })?;
                let requested = self.requested_number(vport);
                let odp = self
                    .dp
                    .port_add(Arc::new(dev), requested)
                    .map_err(|e| AddError {
                        logs: Vec::new(),
                        message: format!(
                            "could not add network device {vport} to ofproto ({})",
                            rpc::errno::strerror(e.errno())
                        ),
                        log_message: true,
                    })?;
                // What `dpctl/show` prints for it: the vport carries every
                // packet type, and its UDP port when not the usual one.
                let mut config = Vec::new();
                if let Some(p) = cfg.dst_port {
                    if crate::tunnel::default_dst_port(type_).is_some_and(|d| d != p) {
                        config.push(("dst_port".to_string(), p.to_string()));
                    }
                }
                if type_ == "erspan" || type_ == "ip6erspan" {
                    config.push(("erspan_ver".to_string(), "0".to_string()));
                }
                config.push(("packet_type".to_string(), "ptap".to_string()));
                self.dp.port_set_config(odp, config);
                odp
            }
        };
        *users.entry(vport.to_string()).or_insert(0) += 1;
        Ok(odp)
    }

    fn vport_unref(&self, vport: &str, odp: u32) {
        let mut users = self.vport_users.0.lock().unwrap_or_else(|e| e.into_inner());
        let left = match users.get_mut(vport) {
            Some(n) => {
                *n = n.saturating_sub(1);
                *n
            }
            None => 0,
        };
        if left == 0 {
            users.remove(vport);
            let _ = self.dp.port_del(odp);
        }
    }

    fn remove(&mut self, name: &str) {
        if let Some(p) = self.ports.remove(name) {
            match p.dev {
                PortDev::Tunnel { vport, .. } => self.vport_unref(&vport, p.odp),
                PortDev::Device { .. } => {
                    let _ = self.dp.port_del(p.odp);
                }
            }
        }
    }
}

fn open_error(name: &str, e: &netdev::NetdevError) -> AddError {
    let mut logs = Vec::new();
    if let netdev::NetdevError::UnknownType { .. } = e {
        logs.push(("netdev", vlog::Level::Warn, e.to_string()));
    }
    AddError {
        logs,
        message: format!(
            "could not open network device {name} ({})",
            rpc::errno::strerror(e.errno())
        ),
        log_message: true,
    }
}

/// An `afxdp` port that could not be opened, as upstream reports it: bad
/// options fail its configuration, a mode that cannot work fails adding
/// it to the datapath (the `netdev_afxdp` lines are already logged).
fn afxdp_error(name: &str, dp: &str, e: &netdev::afxdp::AfxdpError) -> AddError {
    use netdev::afxdp::AfxdpError;
    let einval = rpc::errno::strerror(libc::EINVAL);
    match e {
        AfxdpError::Device(d) => open_error(name, d),
        AfxdpError::Config { .. } => AddError {
            logs: vec![("netdev", vlog::Level::Warn, e.to_string())],
            message: e.to_string(),
            log_message: false,
        },
        AfxdpError::Reconfigure { .. } => AddError {
            logs: vec![
                (
                    "dpif_netdev",
                    vlog::Level::Err,
                    format!("Failed to set interface {name} new configuration"),
                ),
                (
                    "dpif",
                    vlog::Level::Warn,
                    format!("{dp}: failed to add {name} as port: {einval}"),
                ),
            ],
            message: format!("could not add network device {name} to ofproto ({einval})"),
            log_message: true,
        },
    }
}

impl PortBackend for DpBackend {
    fn port_add(
        &mut self,
        name: &str,
        type_: &str,
        options: &BTreeMap<String, String>,
    ) -> Result<u32, AddError> {
        let as_dummy = netdev::dummy::DUMMY_TYPES.contains(&type_)
            || (self.dummy_override && netdev::dummy::OVERRIDE_TYPES.contains(&type_));
        if !as_dummy && crate::tunnel::is_tunnel_type(type_) {
            return self.add_tunnel(name, type_, options);
        }
        let mut afxdp = None;
        let (netdev, dummy): (Arc<dyn Netdev>, Option<Arc<netdev::dummy::Dummy>>) = if as_dummy {
            let d = netdev::dummy::Dummy::open(name, type_).map_err(|e| open_error(name, &e))?;
            let opts: Vec<(String, String)> = options
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            if let Err(e) = d.set_options(&opts) {
                return Err(AddError {
                    logs: Vec::new(),
                    message: format!("{name}: could not set configuration ({e})"),
                    log_message: true,
                });
            }
            (d.clone(), Some(d))
        } else if type_ == "afxdp" || type_ == "afxdp-nonpmd" {
            let t = if type_ == "afxdp" {
                "afxdp"
            } else {
                "afxdp-nonpmd"
            };
            let x = netdev::afxdp::AfXdp::open_as(name, t, options)
                .map_err(|e| afxdp_error(name, &self.dp.full_name(), &e))?;
            let x = Arc::new(x);
            afxdp = Some(x.clone());
            (x, None)
        } else {
            let n = netdev::open(name, type_, &netdev::NetdevConfig::default())
                .map_err(|e| open_error(name, &e))?;
            (n, None)
        };
        let requested = self.requested_number(name);
        let odp = self
            .dp
            .port_add(netdev.clone(), requested)
            .map_err(|e| AddError {
                logs: Vec::new(),
                message: format!(
                    "could not add network device {name} to ofproto ({})",
                    rpc::errno::strerror(e.errno())
                ),
                log_message: true,
            })?;
        if let Some(x) = &afxdp {
            self.dp.port_set_config(odp, x.config());
        }
        self.ports.insert(
            name.to_string(),
            Port {
                odp,
                dev: PortDev::Device {
                    netdev,
                    dummy,
                    afxdp,
                },
            },
        );
        Ok(odp)
    }

    fn counters(&self, name: &str) -> Option<CountersFn> {
        let PortDev::Device {
            netdev,
            dummy,
            afxdp,
        } = &self.ports.get(name)?.dev
        else {
            return None;
        };
        let nd = netdev.clone();
        let xdp = afxdp.clone();
        // Upstream's afxdp devices, like dummies, report packets and bytes
        // and custom counters only.
        let dummy = dummy.is_some() || afxdp.is_some();
        Some(Arc::new(move || {
            let s = nd.stats().unwrap_or_default();
            // A dummy device reports packets and bytes only (and its custom
            // counters); a real one also drops and errors.
            let real = |v: u64| if dummy { u64::MAX } else { v };
            ofproto::port::PortCounters {
                rx_packets: s.rx_packets,
                tx_packets: s.tx_packets,
                rx_bytes: s.rx_bytes,
                tx_bytes: s.tx_bytes,
                rx_dropped: real(s.rx_dropped),
                tx_dropped: real(s.tx_dropped),
                rx_errors: real(s.rx_errors),
                tx_errors: real(s.tx_errors),
                rx_frame_err: real(0),
                rx_over_err: real(0),
                rx_crc_err: real(0),
                collisions: real(0),
                custom: match &xdp {
                    Some(x) => x.custom_stats(),
                    None if dummy => dummy_custom_stats(&s),
                    None => Vec::new(),
                },
            }
        }))
    }

    fn port_del(&mut self, name: &str) {
        self.remove(name);
    }

    fn status(&self, name: &str) -> Option<DeviceStatus> {
        let p = self.ports.get(name)?;
        let (nd, dummy, afxdp) = match &p.dev {
            PortDev::Device {
                netdev,
                dummy,
                afxdp,
            } => (netdev, dummy, afxdp),
            PortDev::Tunnel { mac, admin_up, .. } => {
                return Some(DeviceStatus {
                    mac: *mac,
                    mtu: None,
                    ifindex: Some(0),
                    link_up: *admin_up,
                    admin_up: *admin_up,
                    statistics: ["rx_bytes", "rx_packets", "tx_bytes", "tx_packets"]
                        .iter()
                        .map(|k| (k.to_string(), 0))
                        .collect(),
                    status: Vec::new(),
                })
            }
        };
        let admin_up = nd.flags().is_ok_and(|f| f.contains(NetdevFlags::UP));
        let s = nd.stats().unwrap_or_default();
        let mut statistics = vec![
            ("rx_bytes".to_string(), s.rx_bytes),
            ("rx_packets".to_string(), s.rx_packets),
            ("tx_bytes".to_string(), s.tx_bytes),
            ("tx_packets".to_string(), s.tx_packets),
        ];
        if let Some(x) = afxdp {
            statistics.extend(x.custom_stats());
        } else if dummy.is_some() {
            statistics.extend(dummy_custom_stats(&s));
        } else {
            statistics.extend([
                ("rx_dropped".to_string(), s.rx_dropped),
                ("rx_errors".to_string(), s.rx_errors),
                ("tx_dropped".to_string(), s.tx_dropped),
                ("tx_errors".to_string(), s.tx_errors),
            ]);
        }
        Some(DeviceStatus {
            mac: nd.mac().map(|m| m.0).unwrap_or([0; 6]),
            mtu: nd.mtu().ok(),
            ifindex: Some(nd.ifindex().unwrap_or(0)),
            link_up: nd.carrier().unwrap_or(false) && admin_up,
            admin_up,
            statistics,
            status: Vec::new(),
        })
    }

    fn set_mac(&mut self, name: &str, new: [u8; 6]) {
        match self.ports.get_mut(name).map(|p| &mut p.dev) {
            Some(PortDev::Device { netdev, .. }) => {
                let _ = netdev.set_mac(netdev::EthAddr(new));
            }
            Some(PortDev::Tunnel { mac, .. }) => *mac = new,
            None => {}
        }
    }

    fn set_admin_up(&mut self, name: &str, up: bool) -> bool {
        let Some(p) = self.ports.get_mut(name) else {
            return false;
        };
        match &mut p.dev {
            PortDev::Tunnel { admin_up, .. } => {
                *admin_up = up;
                true
            }
            PortDev::Device { dummy: Some(d), .. } => {
                d.set_admin_state(up);
                true
            }
            PortDev::Device { netdev, .. } => {
                let (off, on) = if up {
                    (NetdevFlags::default(), NetdevFlags::UP)
                } else {
                    (NetdevFlags::UP, NetdevFlags::default())
                };
                netdev.update_flags(off, on).is_ok()
            }
        }
    }

    fn dummy(&self, name: &str) -> Option<Arc<netdev::dummy::Dummy>> {
        match &self.ports.get(name)?.dev {
            PortDev::Device { dummy, .. } => dummy.clone(),
            PortDev::Tunnel { .. } => None,
        }
    }

    fn datapath(&self) -> Option<Arc<DpifNetdev>> {
        Some(self.dp.clone())
    }

    fn port_reconfigure(
        &mut self,
        name: &str,
        type_: &str,
        options: &BTreeMap<String, String>,
    ) -> Result<u32, AddError> {
        let parsed = TunnelConfig::parse(name, type_, options);
        if let Some(w) = &parsed.warning {
            vlog::warn!("netdev_vport", "{}", w);
        }
        let new = match parsed.result {
            Ok(c) => c,
            Err(message) => {
                vlog::warn!(
                    "netdev",
                    "{name}: could not set configuration ({})",
                    rpc::errno::strerror(libc::EINVAL)
                );
                return Err(AddError {
                    logs: Vec::new(),
                    message,
                    log_message: false,
                });
            }
        };
        let (old_vport, old_odp) = match self.ports.get(name) {
            Some(Port {
                odp,
                dev: PortDev::Tunnel { vport, .. },
            }) => (vport.clone(), *odp),
            _ => {
                return Err(AddError {
                    logs: Vec::new(),
                    message: format!("{name}: not a tunnel"),
                    log_message: false,
                })
            }
        };
        let vport = new.dpif_port_name();
        let odp = if vport != old_vport {
            let odp = self.vport_ref(&vport, &new)?;
            self.vport_unref(&old_vport, old_odp);
            odp
        } else {
            old_odp
        };
        if let Some(p) = self.ports.get_mut(name) {
            p.odp = odp;
            if let PortDev::Tunnel { cfg, vport: v, .. } = &mut p.dev {
                *cfg = new;
                *v = vport;
            }
        }
        Ok(odp)
    }

    fn tunnel_config(&self, name: &str) -> Option<TunnelConfig> {
        match &self.ports.get(name)?.dev {
            PortDev::Tunnel { cfg, .. } => Some(cfg.clone()),
            PortDev::Device { .. } => None,
        }
    }
}

impl Drop for DpBackend {
    fn drop(&mut self) {
        let names: Vec<String> = self.ports.keys().cloned().collect();
        for n in names {
            self.remove(&n);
        }
    }
}

/// Upstream's dummy devices' custom counters: two of received packets and
/// their single queue's counters.
fn dummy_custom_stats(s: &netdev::NetdevStats) -> Vec<(String, u64)> {
    [
        ("rx_custom_packets_1", s.rx_packets),
        ("rx_custom_packets_2", s.rx_packets),
        ("rx_q0_bytes", s.rx_bytes),
        ("rx_q0_packets", s.rx_packets),
        ("tx_q0_bytes", s.tx_bytes),
        ("tx_q0_packets", s.tx_packets),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}
