//! The forwarding side of a bridge as the bridge layer sees it: adding and
//! removing the device behind each interface and reading the facts the
//! database reports about it (MAC, MTU, ifindex, link and admin state,
//! counters).
//!
//! [`PortBackend`] is the seam between the bridge (configuration) and the
//! datapath (packets). [`Devices`] is the backend of a bridge that has no
//! datapath attached: interfaces of the test types (`dummy`,
//! `dummy-internal`, `dummy-pmd`, and `internal` on a dummy datapath) are
//! plain records with upstream's dummy addresses (`aa:55:aa:55:00:NN`,
//! numbered in creation order across the process); `system`, `internal`
//! and `tap` open real devices through the `netdev` room.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;

/// What the database reports about one interface's device.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceStatus {
    pub mac: [u8; 6],
    pub mtu: Option<u32>,
    pub ifindex: Option<u32>,
    pub link_up: bool,
    pub admin_up: bool,
    /// Counters by upstream's names (`rx_packets`, ...), only those known.
    pub statistics: Vec<(String, u64)>,
    /// The Interface `status` map (driver name, ...).
    pub status: Vec<(String, String)>,
}

/// Why a device could not be added: the text goes to the Interface's
/// `error` column and (when `log_message`) to the log (WARN, module
/// `bridge`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AddError {
    /// Logged before the error itself (e.g. `netdev` warnings).
    pub logs: Vec<crate::bridge::LogLine>,
    pub message: String,
    /// False when `logs` already said it (configuration errors of
    /// tunnels and patch ports are logged by their own modules).
    pub log_message: bool,
}

/// Adding and removing interface devices of one bridge.
pub trait PortBackend: Send + Sync {
    /// Adds the device `name` of `type_` (already mapped for the datapath:
    /// `system`, `internal`, `tap`, `dummy`, ...); returns its datapath
    /// port number.
    fn port_add(
        &mut self,
        name: &str,
        type_: &str,
        options: &BTreeMap<String, String>,
    ) -> Result<u32, AddError>;
    /// Removes the device `name` (nothing if absent).
    fn port_del(&mut self, name: &str);
    /// The facts about device `name`.
    fn status(&self, name: &str) -> Option<DeviceStatus>;
    /// Changes the Ethernet address of device `name`.
    fn set_mac(&mut self, name: &str, mac: [u8; 6]);
    /// Sets the administrative state of device `name`.
    fn set_admin_up(&mut self, name: &str, up: bool) -> bool;
    /// The dummy device `name`, if it is one (`netdev-dummy/*` commands).
    fn dummy(&self, _name: &str) -> Option<Arc<netdev::dummy::Dummy>> {
        None
    }
    /// The datapath the devices are ports of, if any.
    fn datapath(&self) -> Option<Arc<datapath::DpifNetdev>> {
        None
    }
    /// The configuration of tunnel interface `name`, if it is one.
    fn tunnel_config(&self, _name: &str) -> Option<crate::tunnel::TunnelConfig> {
        None
    }
    /// Applies new `options` to tunnel interface `name` in place; returns
    /// its datapath port (which follows the type and UDP port). An error
    /// (already logged) means the interface must go.
    fn port_reconfigure(
        &mut self,
        name: &str,
        _type_: &str,
        _options: &BTreeMap<String, String>,
    ) -> Result<u32, AddError> {
        Err(AddError {
            logs: Vec::new(),
            message: format!("{name}: not a tunnel"),
            log_message: false,
        })
    }
    /// Reads device `name`'s counters for OpenFlow port statistics, live.
    fn counters(&self, _name: &str) -> Option<CountersFn> {
        None
    }
}

/// Reads one device's counters when called.
pub type CountersFn = Arc<dyn Fn() -> ofproto::port::PortCounters + Send + Sync>;

/// The dummy address counter (upstream's netdev-dummy numbers devices
/// from 1 in creation order, per process).
static DUMMY_SEQ: AtomicU8 = AtomicU8::new(1);

fn next_dummy_mac() -> [u8; 6] {
    let n = DUMMY_SEQ.fetch_add(1, Ordering::Relaxed);
    [0xaa, 0x55, 0xaa, 0x55, 0x00, n]
}

/// True for the types whose devices exist only inside the switch.
pub fn is_dummy_type(type_: &str) -> bool {
    matches!(type_, "dummy" | "dummy-internal" | "dummy-pmd")
}

enum Device {
    /// A record: the dummy types.
    Dummy {
        mac: [u8; 6],
        admin_up: bool,
    },
    Real(Arc<dyn netdev::Netdev>),
}

/// The backend of a bridge without a datapath.
#[derive(Default)]
pub struct Devices {
    devices: BTreeMap<String, (u32, Device)>,
}

fn errno_text(code: i32) -> String {
    rpc::errno::strerror(code)
}

impl Devices {
    pub fn new() -> Devices {
        Devices::default()
    }

    fn free_odp_port(&self) -> u32 {
        (1..)
            .find(|n| !self.devices.values().any(|(p, _)| p == n))
            .unwrap_or(u32::MAX)
    }
}

impl PortBackend for Devices {
    fn port_add(
        &mut self,
        name: &str,
        type_: &str,
        _options: &BTreeMap<String, String>,
    ) -> Result<u32, AddError> {
        let device = if is_dummy_type(type_) {
            Device::Dummy {
                mac: next_dummy_mac(),
                admin_up: true,
            }
        } else {
            match type_ {
                "system" | "internal" | "tap" => {
                    match netdev::open(name, type_, &netdev::NetdevConfig::default()) {
                        Ok(d) => Device::Real(d),
                        Err(e) => {
                            return Err(AddError {
                                logs: Vec::new(),
                                message: format!(
                                    "could not open network device {name} ({})",
                                    errno_text(e.errno())
                                ),
                                log_message: true,
                            })
                        }
                    }
                }
                _ => {
                    return Err(AddError {
                        logs: vec![(
                            "netdev",
                            vlog::Level::Warn,
                            format!("could not create netdev {name} of unknown type {type_}"),
                        )],
                        message: format!(
                            "could not open network device {name} ({})",
                            errno_text(libc::EAFNOSUPPORT)
                        ),
                        log_message: true,
                    })
                }
            }
        };
        let odp = self.free_odp_port();
        self.devices.insert(name.to_string(), (odp, device));
        Ok(odp)
    }

    fn port_del(&mut self, name: &str) {
        self.devices.remove(name);
    }

    fn status(&self, name: &str) -> Option<DeviceStatus> {
        let (_, d) = self.devices.get(name)?;
        Some(match d {
            Device::Dummy { mac, admin_up } => DeviceStatus {
                mac: *mac,
                mtu: Some(1500),
                ifindex: Some(0),
                link_up: *admin_up,
                admin_up: *admin_up,
                statistics: dummy_statistics(),
                status: Vec::new(),
            },
            Device::Real(nd) => {
                let flags = nd.flags().ok();
                let admin_up = flags.is_some_and(|f| f.contains(netdev::NetdevFlags::UP));
                let stats = nd.stats().ok();
                DeviceStatus {
                    mac: nd.mac().map(|m| m.0).unwrap_or([0; 6]),
                    mtu: nd.mtu().ok(),
                    ifindex: nd.ifindex().ok(),
                    link_up: nd.carrier().unwrap_or(false),
                    admin_up,
                    statistics: stats
                        .map(|s| {
                            vec![
                                ("collisions".to_string(), 0),
                                ("rx_bytes".to_string(), s.rx_bytes),
                                ("rx_dropped".to_string(), s.rx_dropped),
                                ("rx_errors".to_string(), s.rx_errors),
                                ("rx_packets".to_string(), s.rx_packets),
                                ("tx_bytes".to_string(), s.tx_bytes),
                                ("tx_dropped".to_string(), s.tx_dropped),
                                ("tx_errors".to_string(), s.tx_errors),
                                ("tx_packets".to_string(), s.tx_packets),
                            ]
                        })
                        .unwrap_or_default(),
                    status: Vec::new(),
                }
            }
        })
    }

    fn set_mac(&mut self, name: &str, new: [u8; 6]) {
        match self.devices.get_mut(name) {
            Some((_, Device::Dummy { mac, .. })) => *mac = new,
            Some((_, Device::Real(nd))) => {
                let _ = nd.set_mac(netdev::EthAddr(new));
            }
            None => {}
        }
    }

    fn set_admin_up(&mut self, name: &str, up: bool) -> bool {
        match self.devices.get_mut(name) {
            Some((_, Device::Dummy { admin_up, .. })) => {
                *admin_up = up;
                true
            }
            Some((_, Device::Real(nd))) => {
                let (off, on) = if up {
                    (netdev::NetdevFlags::default(), netdev::NetdevFlags::UP)
                } else {
                    (netdev::NetdevFlags::UP, netdev::NetdevFlags::default())
                };
                nd.update_flags(off, on).is_ok()
            }
            None => false,
        }
    }
}

/// The counters a dummy device reports before any traffic.
fn dummy_statistics() -> Vec<(String, u64)> {
    [
        "rx_bytes",
        "rx_custom_packets_1",
        "rx_custom_packets_2",
        "rx_packets",
        "rx_q0_bytes",
        "rx_q0_packets",
        "tx_bytes",
        "tx_packets",
        "tx_q0_bytes",
        "tx_q0_packets",
    ]
    .iter()
    .map(|k| (k.to_string(), 0))
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_types_fail_like_upstream() {
        let mut d = Devices::new();
        let e = d.port_add("bar", "bogus", &BTreeMap::new()).unwrap_err();
        assert_eq!(
            e.message,
            "could not open network device bar (Address family not supported by protocol)"
        );
        assert_eq!(
            e.logs,
            [(
                "netdev",
                vlog::Level::Warn,
                "could not create netdev bar of unknown type bogus".to_string()
            )]
        );
    }

    #[test]
    fn dummy_devices_get_dummy_addresses() {
        let mut d = Devices::new();
        let a = d.port_add("p1", "dummy", &BTreeMap::new()).unwrap();
        let b = d.port_add("p2", "dummy", &BTreeMap::new()).unwrap();
        assert_ne!(a, b);
        let s1 = d.status("p1").unwrap();
        let s2 = d.status("p2").unwrap();
        assert_eq!(s1.mac[..5], [0xaa, 0x55, 0xaa, 0x55, 0x00]);
        assert!(s2.mac[5] > s1.mac[5]);
        assert!(s1.link_up && s1.admin_up);
        assert!(d.set_admin_up("p1", false));
        assert!(!d.status("p1").unwrap().link_up);
        d.port_del("p1");
        assert!(d.status("p1").is_none());
    }
}
