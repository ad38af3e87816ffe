//! Bridges on the userspace datapath: one [`DpifNetdev`] per datapath type
//! (`ovs-dummy` for `dummy`, `ovs-netdev` for `netdev`; a `system`
//! bridge, when the system type is enabled, also runs on the userspace
//! datapath as `ovs-system`), shared by every bridge of that type as
//! upstream's backers are. Each bridge's [`DpBackend`] opens its
//! interfaces' devices through the `netdev` room and adds them as
//! datapath ports.

use crate::device::{AddError, DeviceStatus, PortBackend};
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
            "dummy" => DpifNetdev::create("dummy", &name, None, PmdConfig::default()),
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
        if let Some(reg) = self
            .registry
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
        {
            dp.set_upcall_handler(Arc::new(crate::upcall::SwitchUpcalls {
                datapath: name.clone(),
                registry: reg,
            }));
        }
        let dp = Arc::new(dp);
        m.insert(datapath_type.to_string(), dp.clone());
        Ok(dp)
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

struct Port {
    odp: u32,
    netdev: Arc<dyn Netdev>,
    dummy: Option<Arc<netdev::dummy::Dummy>>,
}

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

/// The forwarding side of one bridge on a userspace datapath.
pub struct DpBackend {
    pub dp: Arc<DpifNetdev>,
    ports: BTreeMap<String, Port>,
}

impl DpBackend {
    pub fn new(dp: Arc<DpifNetdev>) -> DpBackend {
        DpBackend {
            dp,
            ports: BTreeMap::new(),
        }
    }
}

fn open_error(name: &str, e: &netdev::NetdevError) -> AddError {
    let mut preceding = Vec::new();
    if let netdev::NetdevError::UnknownType { .. } = e {
        preceding.push(("netdev", e.to_string()));
    }
    AddError {
        preceding_logs: preceding,
        message: format!(
            "could not open network device {name} ({})",
            rpc::errno::strerror(e.errno())
        ),
    }
}

impl PortBackend for DpBackend {
    fn port_add(
        &mut self,
        name: &str,
        type_: &str,
        options: &BTreeMap<String, String>,
    ) -> Result<u32, AddError> {
        let (netdev, dummy): (Arc<dyn Netdev>, Option<Arc<netdev::dummy::Dummy>>) =
            if netdev::dummy::DUMMY_TYPES.contains(&type_) {
                let d =
                    netdev::dummy::Dummy::open(name, type_).map_err(|e| open_error(name, &e))?;
                let opts: Vec<(String, String)> = options
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                if let Err(e) = d.set_options(&opts) {
                    return Err(AddError {
                        preceding_logs: Vec::new(),
                        message: format!("{name}: could not set configuration ({e})"),
                    });
                }
                (d.clone(), Some(d))
            } else {
                let n = netdev::open(name, type_, &netdev::NetdevConfig::default())
                    .map_err(|e| open_error(name, &e))?;
                (n, None)
            };
        let requested = if self.dp.full_name().starts_with("dummy@") {
            dummy_port_number(name, &self.dp)
        } else {
            None
        };
        let odp = self
            .dp
            .port_add(netdev.clone(), requested)
            .map_err(|e| AddError {
                preceding_logs: Vec::new(),
                message: format!(
                    "could not add network device {name} to ofproto ({})",
                    rpc::errno::strerror(e.errno())
                ),
            })?;
        self.ports
            .insert(name.to_string(), Port { odp, netdev, dummy });
        Ok(odp)
    }

    fn port_del(&mut self, name: &str) {
        if let Some(p) = self.ports.remove(name) {
            let _ = self.dp.port_del(p.odp);
        }
    }

    fn status(&self, name: &str) -> Option<DeviceStatus> {
        let p = self.ports.get(name)?;
        let nd = &p.netdev;
        let admin_up = nd.flags().is_ok_and(|f| f.contains(NetdevFlags::UP));
        let s = nd.stats().unwrap_or_default();
        let mut statistics = vec![
            ("rx_bytes".to_string(), s.rx_bytes),
            ("rx_packets".to_string(), s.rx_packets),
            ("tx_bytes".to_string(), s.tx_bytes),
            ("tx_packets".to_string(), s.tx_packets),
        ];
        if p.dummy.is_some() {
            // Upstream's dummy devices also report two custom counters (of
            // received packets) and their single queue's counters.
            statistics.extend([
                ("rx_custom_packets_1".to_string(), s.rx_packets),
                ("rx_custom_packets_2".to_string(), s.rx_packets),
                ("rx_q0_bytes".to_string(), s.rx_bytes),
                ("rx_q0_packets".to_string(), s.rx_packets),
                ("tx_q0_bytes".to_string(), s.tx_bytes),
                ("tx_q0_packets".to_string(), s.tx_packets),
            ]);
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

    fn set_mac(&mut self, name: &str, mac: [u8; 6]) {
        if let Some(p) = self.ports.get(name) {
            let _ = p.netdev.set_mac(netdev::EthAddr(mac));
        }
    }

    fn set_admin_up(&mut self, name: &str, up: bool) -> bool {
        let Some(p) = self.ports.get(name) else {
            return false;
        };
        if let Some(d) = &p.dummy {
            d.set_admin_state(up);
            return true;
        }
        let (off, on) = if up {
            (NetdevFlags::default(), NetdevFlags::UP)
        } else {
            (NetdevFlags::UP, NetdevFlags::default())
        };
        p.netdev.update_flags(off, on).is_ok()
    }

    fn dummy(&self, name: &str) -> Option<Arc<netdev::dummy::Dummy>> {
        self.ports.get(name)?.dummy.clone()
    }

    fn datapath(&self) -> Option<Arc<DpifNetdev>> {
        Some(self.dp.clone())
    }
}

impl Drop for DpBackend {
    fn drop(&mut self) {
        for p in self.ports.values() {
            let _ = self.dp.port_del(p.odp);
        }
    }
}
