//! Native tunnelling state of the switch, shared by every bridge of the
//! process as upstream's is: the route table ([`route`], `ovs/route/*`),
//! the neighbour cache ([`neigh`], `tnl/neigh/*`), the tunnel ports and the
//! map of addresses that terminate tunnels ([`ports`], `tnl/ports/show`),
//! and the IP addresses of devices ([`addrs`]: those given to dummy
//! devices by `netdev-dummy/ip4addr`, else the system's).
//!
//! Translation reads it through [`global`] (tunnel egress: route, then
//! neighbour, then `tnl_push`; ingress: the port map at a LOCAL port, then
//! `tnl_pop`; ARP/ND snooping); the vswitchd keeps it up to date (tunnel
//! ports as interfaces come and go, system routes, IP devices) and serves
//! its commands.

pub mod addrs;
pub mod neigh;
pub mod ports;
pub mod route;

use std::sync::{Mutex, MutexGuard, OnceLock, RwLock, RwLockReadGuard, RwLockWriteGuard};

/// Everything native tunnelling keeps.
#[derive(Default)]
pub struct Tnl {
    routes: RwLock<route::RouteTable>,
    neigh: Mutex<neigh::NeighCache>,
    ports: RwLock<ports::TnlPorts>,
    addrs: RwLock<addrs::DevAddrs>,
    stats: Mutex<std::collections::BTreeMap<(String, String), std::sync::Arc<PortStats>>>,
}

/// Packets and bytes through one tunnel port (counted by translation and
/// credited as the datapath's flows carry packets, as upstream's).
#[derive(Debug, Default)]
pub struct PortStats {
    pub rx_packets: std::sync::atomic::AtomicU64,
    pub rx_bytes: std::sync::atomic::AtomicU64,
    pub tx_packets: std::sync::atomic::AtomicU64,
    pub tx_bytes: std::sync::atomic::AtomicU64,
}

impl PortStats {
    /// Adds `packets`/`bytes` received (`tx` false) or sent.
    pub fn credit(&self, tx: bool, packets: u64, bytes: u64) {
        use std::sync::atomic::Ordering::Relaxed;
        if tx {
            self.tx_packets.fetch_add(packets, Relaxed);
            self.tx_bytes.fetch_add(bytes, Relaxed);
        } else {
            self.rx_packets.fetch_add(packets, Relaxed);
            self.rx_bytes.fetch_add(bytes, Relaxed);
        }
    }
}

/// A tunnel port's counters to credit with a flow's packets: (counters,
/// sent rather than received).
pub type StatsCredit = (std::sync::Arc<PortStats>, bool);

/// The process's native tunnelling state.
pub fn global() -> &'static Tnl {
    static G: OnceLock<Tnl> = OnceLock::new();
    G.get_or_init(Tnl::default)
}

impl Tnl {
    pub fn routes(&self) -> RwLockReadGuard<'_, route::RouteTable> {
        self.routes.read().unwrap_or_else(|e| e.into_inner())
    }
    pub fn routes_mut(&self) -> RwLockWriteGuard<'_, route::RouteTable> {
        self.routes.write().unwrap_or_else(|e| e.into_inner())
    }
    pub fn neigh(&self) -> MutexGuard<'_, neigh::NeighCache> {
        self.neigh.lock().unwrap_or_else(|e| e.into_inner())
    }
    pub fn ports(&self) -> RwLockReadGuard<'_, ports::TnlPorts> {
        self.ports.read().unwrap_or_else(|e| e.into_inner())
    }
    pub fn ports_mut(&self) -> RwLockWriteGuard<'_, ports::TnlPorts> {
        self.ports.write().unwrap_or_else(|e| e.into_inner())
    }
    pub fn addrs(&self) -> RwLockReadGuard<'_, addrs::DevAddrs> {
        self.addrs.read().unwrap_or_else(|e| e.into_inner())
    }
    pub fn addrs_mut(&self) -> RwLockWriteGuard<'_, addrs::DevAddrs> {
        self.addrs.write().unwrap_or_else(|e| e.into_inner())
    }

    /// The counters of tunnel port `name` of `bridge` (created on first use).
    pub fn stats(&self, bridge: &str, name: &str) -> std::sync::Arc<PortStats> {
        let mut m = self.stats.lock().unwrap_or_else(|e| e.into_inner());
        m.entry((bridge.to_string(), name.to_string()))
            .or_default()
            .clone()
    }

    /// Forgets the counters of `bridge`'s tunnel port `name`.
    pub fn forget_stats(&self, bridge: &str, name: &str) {
        let mut m = self.stats.lock().unwrap_or_else(|e| e.into_inner());
        m.remove(&(bridge.to_string(), name.to_string()));
    }

    /// The addresses of device `name` (with prefix lengths).
    pub fn dev_addrs(&self, name: &str) -> Vec<(std::net::IpAddr, u8)> {
        self.addrs().of(name)
    }
}
