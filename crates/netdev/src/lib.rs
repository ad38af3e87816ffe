//! The netdev room of ferrovs: packet I/O behind one trait.
//!
//! The datapath sees every port as a [`Netdev`] (see [`provider`] for the
//! contract: lifecycle, threading, batching, offloads). This crate owns the
//! providers that talk to the kernel:
//!
//! * [`afpacket::AfPacket`], type `system`: an existing interface (a veth
//!   end, a NIC) over AF_PACKET with vnet headers (super-frames and partial
//!   checksums cross un-segmented), promiscuous membership,
//!   `PACKET_IGNORE_OUTGOING` and `PACKET_QDISC_BYPASS`. Receive from a
//!   TPACKET_V2 ring (default), a TPACKET_V3 ring or `recvmmsg`
//!   ([`RxMode`]); transmit with `sendmmsg` (default) or a TPACKET_V2 ring
//!   ([`TxMode`]).
//! * [`tap::Tap`], types `internal` and `tap`: a TAP device the switch
//!   creates, with vnet headers and offloads.
//! * [`offload`]: software segmentation (TCP over IPv4/IPv6, UDP) and
//!   checksum completion for egresses that cannot take an offload.
//! * [`coalesce`]: runs of TCP segments in a transmit batch joined into one
//!   super-frame for egresses that take them (GRO on the way out).
//!
//! Packets live in [`packet::buffer`] types; this crate never looks past the
//! headers it must fix for offloads, and never imports a higher room.
//!
//! A packet's life through a `system` port: the kernel writes the frame and
//! its virtio-net header into a ring slot; the forwarding thread that owns
//! the receive queue copies it into a buffer from its pool, turning the
//! header into [`packet::buffer::Offload`] metadata and putting a VLAN tag
//! the kernel pulled out back into the frame; the datapath works on the
//! batch; the transmit handle of the egress completes whatever offload that
//! egress cannot take and hands the batch to the kernel in one system call;
//! the buffers go back to the thread's pool.
//!
//! * [`netns`]: a TAP device the user moved into another namespace found
//!   again after a restart.
//! * [`dummy::Dummy`], types `dummy`, `dummy-internal`, `dummy-pmd`:
//!   in-memory ports for tests and benchmarks, with [`pcap`] capture files.
//!
//! * [`afxdp::AfXdp`], type `afxdp`: an existing interface through AF_XDP
//!   sockets (one per receive queue) fed by an XDP program the crate loads
//!   itself; opened with its interface options ([`afxdp::AfXdp::open`]).
//!
//! Not here: `patch` ports (the datapath and vswitchd own them).

pub mod afpacket;
pub mod afxdp;
pub mod coalesce;
pub mod dummy;
pub mod error;
pub mod netns;
pub mod offload;
pub mod pcap;
pub mod provider;
mod stats;
pub mod sys;
pub mod tap;

use std::sync::Arc;

pub use error::NetdevError;
pub use provider::{
    EthAddr, Features, Netdev, NetdevConfig, NetdevFlags, NetdevStats, RxMode, RxQueue, TxMode,
    TxQueue,
};

/// The types [`open`] knows.
pub const TYPES: &[&str] = &["system", "internal", "tap"];

/// Opens device `name` as `type_name` (`system`, `internal` or `tap`) in the
/// calling thread's network namespace. An unknown type fails as upstream's
/// does (errno `EAFNOSUPPORT`).
pub fn open(
    name: &str,
    type_name: &str,
    config: &NetdevConfig,
) -> Result<Arc<dyn Netdev>, NetdevError> {
    match type_name {
        "system" => Ok(Arc::new(afpacket::AfPacket::open(name, config)?)),
        "internal" => Ok(Arc::new(tap::Tap::open(name, "internal", config)?)),
        "tap" => Ok(Arc::new(tap::Tap::open(name, "tap", config)?)),
        "dummy" | "dummy-internal" | "dummy-pmd" => Ok(dummy::Dummy::open(name, type_name)?),
        _ => Err(NetdevError::UnknownType {
            name: name.to_string(),
            type_name: type_name.to_string(),
        }),
    }
}

pub(crate) fn flags_from_kernel(f: u32) -> NetdevFlags {
    let mut n = NetdevFlags::default();
    if f & libc::IFF_UP as u32 != 0 {
        n = n | NetdevFlags::UP;
    }
    if f & libc::IFF_PROMISC as u32 != 0 {
        n = n | NetdevFlags::PROMISC;
    }
    n
}

fn to_kernel(n: NetdevFlags) -> u32 {
    let mut f = 0;
    if n.contains(NetdevFlags::UP) {
        f |= libc::IFF_UP as u32;
    }
    if n.contains(NetdevFlags::PROMISC) {
        f |= libc::IFF_PROMISC as u32;
    }
    f
}

pub(crate) fn update_kernel_flags(
    ctl: &sys::IfCtl,
    name: &str,
    off: NetdevFlags,
    on: NetdevFlags,
) -> Result<NetdevFlags, NetdevError> {
    let old = ctl
        .flags(name)
        .map_err(|e| NetdevError::sys(name, "ioctl(SIOCGIFFLAGS)", e))?;
    let new = (old & !to_kernel(off)) | to_kernel(on);
    if new != old {
        ctl.set_flags(name, new)
            .map_err(|e| NetdevError::sys(name, "ioctl(SIOCSIFFLAGS)", e))?;
    }
    Ok(flags_from_kernel(old))
}

/// The device-control calls every kernel-backed port type (`system`,
/// `internal`/`tap`, `afxdp`) answers the same way, with upstream's
/// ioctl names in its errors.
pub(crate) mod kernel_if {
    use super::{flags_from_kernel, sys::IfCtl, EthAddr, NetdevError, NetdevFlags};

    fn err<'a>(name: &'a str, op: &'static str) -> impl Fn(std::io::Error) -> NetdevError + 'a {
        move |e| NetdevError::sys(name, op, e)
    }
    pub fn mac(ctl: &IfCtl, name: &str) -> Result<EthAddr, NetdevError> {
        ctl.mac(name).map_err(err(name, "ioctl(SIOCGIFHWADDR)"))
    }
    pub fn set_mac(ctl: &IfCtl, name: &str, mac: EthAddr) -> Result<(), NetdevError> {
        ctl.set_mac(name, mac)
            .map_err(err(name, "ioctl(SIOCSIFHWADDR)"))
    }
    pub fn mtu(ctl: &IfCtl, name: &str) -> Result<u32, NetdevError> {
        ctl.mtu(name).map_err(err(name, "ioctl(SIOCGIFMTU)"))
    }
    pub fn set_mtu(ctl: &IfCtl, name: &str, mtu: u32) -> Result<(), NetdevError> {
        ctl.set_mtu(name, mtu)
            .map_err(err(name, "ioctl(SIOCSIFMTU)"))
    }
    pub fn flags(ctl: &IfCtl, name: &str) -> Result<NetdevFlags, NetdevError> {
        Ok(flags_from_kernel(
            ctl.flags(name).map_err(err(name, "ioctl(SIOCGIFFLAGS)"))?,
        ))
    }
    pub fn carrier(ctl: &IfCtl, name: &str) -> Result<bool, NetdevError> {
        let f = ctl.flags(name).map_err(err(name, "ioctl(SIOCGIFFLAGS)"))?;
        Ok(f & libc::IFF_RUNNING as u32 != 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_type() {
        let e = open("p0", "frobnicator", &NetdevConfig::default())
            .err()
            .unwrap();
        assert_eq!(e.errno(), libc::EAFNOSUPPORT);
        assert_eq!(
            e.to_string(),
            "could not create netdev p0 of unknown type frobnicator"
        );
    }

    #[test]
    fn flag_mapping() {
        let k = libc::IFF_UP as u32 | libc::IFF_PROMISC as u32 | libc::IFF_RUNNING as u32;
        assert_eq!(flags_from_kernel(k), NetdevFlags::UP | NetdevFlags::PROMISC);
        assert_eq!(to_kernel(NetdevFlags::PROMISC), libc::IFF_PROMISC as u32);
    }

    #[test]
    fn missing_system_device() {
        let e = open("fvnd-nonexist", "system", &NetdevConfig::default())
            .err()
            .unwrap();
        assert_eq!(e.errno(), libc::ENODEV);
    }
}
