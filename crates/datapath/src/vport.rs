//! Tunnel vports (types `vxlan`, `geneve`, `gre`, `ip6gre`, `erspan`,
//! `ip6erspan`, `gtpu`, and the types whose encapsulation this datapath
//! does not implement, as upstream's userspace datapath does not, `stt`,
//! `lisp`, `bareudp`, which exist as ports only): datapath ports without a device. Packets never arrive on or leave through them
//! directly: `tnl_pop(port)` decapsulates a packet and makes it re-enter
//! the datapath as if received on the vport, and `tnl_push(...)` puts the
//! outer headers on and sends the result out of a real port.

use std::sync::Mutex;

use netdev::{EthAddr, Features, Netdev, NetdevError, NetdevFlags, NetdevStats, RxQueue, TxQueue};
use packet::tunnel::TunnelKind;

/// The vport types and the tunnel protocol of each.
pub const VPORT_TYPES: &[(&str, TunnelKind)] = &[
    ("vxlan", TunnelKind::Vxlan),
    ("geneve", TunnelKind::Geneve),
    ("gre", TunnelKind::Gre),
    ("ip6gre", TunnelKind::Gre),
    ("erspan", TunnelKind::Erspan),
    ("ip6erspan", TunnelKind::Erspan),
    ("gtpu", TunnelKind::Gtpu),
];

/// Tunnel vport types without encapsulation support here.
pub const OTHER_VPORT_TYPES: &[&str] = &["stt", "lisp", "bareudp"];

/// The tunnel protocol of a port type, if it is a tunnel vport type.
pub fn tunnel_kind(type_name: &str) -> Option<TunnelKind> {
    VPORT_TYPES
        .iter()
        .find(|(t, _)| *t == type_name)
        .map(|(_, k)| *k)
}

/// A tunnel vport.
pub struct TunnelVport {
    name: String,
    type_name: &'static str,
    flags: Mutex<NetdevFlags>,
}

impl TunnelVport {
    /// A vport named `name` (upstream names them `vxlan_sys_4789` and so
    /// on) of `type_name`; `None` for a type that is not a tunnel.
    pub fn new(name: &str, type_name: &str) -> Option<TunnelVport> {
        let t = VPORT_TYPES
            .iter()
            .map(|(t, _)| *t)
            .chain(OTHER_VPORT_TYPES.iter().copied())
            .find(|t| *t == type_name)?;
        Some(TunnelVport {
            name: name.to_string(),
            type_name: t,
            flags: Mutex::new(NetdevFlags::UP),
        })
    }
}

impl Netdev for TunnelVport {
    fn name(&self) -> &str {
        &self.name
    }
    fn type_name(&self) -> &'static str {
        self.type_name
    }
    fn n_rxq(&self) -> usize {
        0
    }
    fn open_rxq(&self, qid: usize) -> Result<Box<dyn RxQueue>, NetdevError> {
        Err(NetdevError::NoQueue {
            name: self.name.clone(),
            qid,
        })
    }
    fn open_txq(&self) -> Result<Box<dyn TxQueue>, NetdevError> {
        Err(NetdevError::NoQueue {
            name: self.name.clone(),
            qid: 0,
        })
    }
    fn ifindex(&self) -> Result<u32, NetdevError> {
        Err(NetdevError::NoQueue {
            name: self.name.clone(),
            qid: 0,
        })
    }
    fn mac(&self) -> Result<EthAddr, NetdevError> {
        Ok(EthAddr::default())
    }
    fn set_mac(&self, _mac: EthAddr) -> Result<(), NetdevError> {
        Ok(())
    }
    fn mtu(&self) -> Result<u32, NetdevError> {
        Ok(65535)
    }
    fn set_mtu(&self, _mtu: u32) -> Result<(), NetdevError> {
        Ok(())
    }
    fn flags(&self) -> Result<NetdevFlags, NetdevError> {
        Ok(self.flags.lock().map(|f| *f).unwrap_or_default())
    }
    fn update_flags(&self, off: NetdevFlags, on: NetdevFlags) -> Result<NetdevFlags, NetdevError> {
        let mut f = self.flags.lock().map_err(|_| NetdevError::NoQueue {
            name: self.name.clone(),
            qid: 0,
        })?;
        let old = *f;
        *f = NetdevFlags((old.0 & !off.0) | on.0);
        Ok(old)
    }
    fn carrier(&self) -> Result<bool, NetdevError> {
        Ok(true)
    }
    fn stats(&self) -> Result<NetdevStats, NetdevError> {
        Ok(NetdevStats::default())
    }
    fn features(&self) -> Features {
        Features::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_tunnel_type_has_a_vport() {
        let v = TunnelVport::new("stt_sys_7471", "stt").unwrap();
        assert_eq!(v.type_name(), "stt");
        assert!(tunnel_kind("stt").is_none());
        assert_eq!(tunnel_kind("vxlan"), Some(TunnelKind::Vxlan));
        assert!(TunnelVport::new("x", "system").is_none());
    }
}
