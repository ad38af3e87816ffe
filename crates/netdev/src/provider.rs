//! The `Netdev` contract: what every packet I/O provider promises the
//! datapath, and the small value types that cross that boundary.
//!
//! # Lifecycle
//!
//! 1. **Open.** [`crate::open`] (or a provider's own `open`) takes a device
//!    name, a type (`"system"`, `"internal"`, `"tap"`) and a [`NetdevConfig`],
//!    and returns an `Arc<dyn Netdev>`. Opening does every step that can fail
//!    for reasons outside the process (the device does not exist, the name is
//!    taken, the kernel refuses a socket option), so a device that opened is
//!    usable. Everything a provider creates in the kernel (sockets, rings,
//!    TAP devices) is tied to the network namespace of the *calling thread at
//!    open time*, and later calls work from any thread and namespace.
//! 2. **Queues.** The datapath then asks for its queues. Receive queues are
//!    exclusive: [`Netdev::open_rxq`] hands queue `qid` to exactly one owner
//!    (a second open of the same queue fails with `EBUSY` until the first
//!    [`RxQueue`] is dropped). Transmit queues are cheap handles:
//!    [`Netdev::open_txq`] may be called once per forwarding thread and the
//!    handles send concurrently without locking each other.
//! 3. **Control.** MAC, MTU, flags, carrier, ifindex, statistics and
//!    features are read and changed through `&self` from the control threads
//!    at any time, concurrently with forwarding.
//! 4. **Close.** Dropping the last `Arc` (and every queue) releases
//!    everything: sockets close, rings unmap, a TAP device the provider
//!    created disappears, promiscuous mode taken for receiving is given back.
//!
//! # Threading and batching
//!
//! A forwarding thread owns its [`RxQueue`]s, its [`TxQueue`]s and one
//! [`PacketPool`]. [`RxQueue::recv`] fills a [`PacketBatch`] with up to its
//! free room of packets taken from that pool, and never blocks: an empty
//! queue returns 0 and the thread may wait on [`RxQueue::wait_fd`].
//! [`TxQueue::send`] sends every packet of a batch, leaves the batch empty
//! and gives every buffer back to the pool, whatever happened to each packet
//! (sent, or dropped and counted). Neither call allocates, takes a lock or
//! logs per packet; counters are updated once per batch.
//!
//! # Offloads on send
//!
//! A packet carries its [`packet::buffer::Offload`] state: perhaps a partial
//! checksum to complete, perhaps a TCP/UDP super-frame to segment. `send`
//! never lets such a packet leave half-done: when the egress can take the
//! offload (see [`Features`]; AF_PACKET and TAP with a vnet header take them
//! all and let the kernel or the guest finish), the packet goes out as is,
//! un-segmented; otherwise the provider segments it and fills in the
//! checksums in software first. A super-frame that cannot be segmented
//! (not TCP or UDP over IPv4/IPv6, lying lengths) is dropped and counted in
//! `tx_errors`.
//!
//! # Receive metadata
//!
//! Received packets carry the kernel's offload state as the vnet header told
//! it (partial checksum, checksum verified, super-frame), and the frame as
//! it was on the wire: a VLAN tag the kernel pulled out of the frame is put
//! back in. `meta.in_port` is left 0 for the datapath to fill.

use std::fmt;
use std::os::fd::RawFd;

use packet::buffer::{PacketBatch, PacketPool};

use crate::error::NetdevError;

/// An Ethernet address.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct EthAddr(pub [u8; 6]);

impl EthAddr {
    /// Whether the multicast (group) bit is set.
    pub fn is_multicast(&self) -> bool {
        self.0[0] & 1 != 0
    }
}

impl fmt::Display for EthAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let a = &self.0;
        write!(
            f,
            "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
            a[0], a[1], a[2], a[3], a[4], a[5]
        )
    }
}

impl std::str::FromStr for EthAddr {
    type Err = ();
    fn from_str(s: &str) -> Result<EthAddr, ()> {
        let mut a = [0u8; 6];
        let mut parts = s.split(':');
        for b in a.iter_mut() {
            let p = parts.next().ok_or(())?;
            if p.is_empty() || p.len() > 2 {
                return Err(());
            }
            *b = u8::from_str_radix(p, 16).map_err(|_| ())?;
        }
        if parts.next().is_some() {
            return Err(());
        }
        Ok(EthAddr(a))
    }
}

/// Administrative flags of a device.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NetdevFlags(pub u32);

impl NetdevFlags {
    /// Administratively up.
    pub const UP: NetdevFlags = NetdevFlags(1);
    /// Receives every frame, whatever its destination.
    pub const PROMISC: NetdevFlags = NetdevFlags(2);

    pub fn contains(self, other: NetdevFlags) -> bool {
        self.0 & other.0 == other.0
    }
}

impl std::ops::BitOr for NetdevFlags {
    type Output = NetdevFlags;
    fn bitor(self, o: NetdevFlags) -> NetdevFlags {
        NetdevFlags(self.0 | o.0)
    }
}

/// Offloads an egress accepts, and a few link facts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Features {
    /// Bit set of `TX_*` offloads.
    pub tx_offloads: u32,
    /// Link speed in Mbit/s, when the device reports one.
    pub speed_mbps: Option<u32>,
}

impl Features {
    /// Takes frames whose checksum is partial (`F_NEEDS_CSUM`).
    pub const TX_CSUM: u32 = 1;
    /// Takes TCP/IPv4 super-frames.
    pub const TX_TSO4: u32 = 2;
    /// Takes TCP/IPv6 super-frames.
    pub const TX_TSO6: u32 = 4;
    /// Takes UDP (L4) super-frames.
    pub const TX_USO: u32 = 8;
    /// Every offload above.
    pub const TX_ALL: u32 = 15;

    pub fn has(&self, bit: u32) -> bool {
        self.tx_offloads & bit == bit
    }
}

/// Counters of a device as the switch sees it: `rx` is what the switch
/// received from the device, `tx` what it sent into it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NetdevStats {
    pub rx_packets: u64,
    pub rx_bytes: u64,
    pub rx_dropped: u64,
    pub rx_errors: u64,
    pub tx_packets: u64,
    pub tx_bytes: u64,
    pub tx_dropped: u64,
    pub tx_errors: u64,
}

/// How an AF_PACKET receive queue gets frames from the kernel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RxMode {
    /// A TPACKET_V2 ring of per-frame slots, each handed over as soon as it
    /// is written: no system call while busy, low latency; each frame is
    /// handed on in its slot (no copy). Slots are wire-size; larger frames
    /// (super-frames) go to a second ring of 64 KiB slots (see
    /// [`NetdevConfig::rx_big_slots`]), read in arrival order with the
    /// first, or are queued on the socket and read with `recvmsg`.
    RingV2,
    /// A TPACKET_V3 ring of variable-size frames packed in blocks handed
    /// over when full or after the block timeout: densest, but a lightly
    /// used direction (TCP ACKs) waits for the timeout.
    RingV3,
    /// `recvmmsg` straight into the pool's buffers: a system call per batch
    /// but the kernel's copy is the only one.
    Recvmmsg,
}

impl std::str::FromStr for RxMode {
    type Err = ();
    fn from_str(s: &str) -> Result<RxMode, ()> {
        match s {
            "v2" | "ring-v2" => Ok(RxMode::RingV2),
            "v3" | "ring-v3" => Ok(RxMode::RingV3),
            "mmsg" | "recvmmsg" => Ok(RxMode::Recvmmsg),
            _ => Err(()),
        }
    }
}

/// How an AF_PACKET transmit handle hands frames to the kernel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TxMode {
    /// `sendmmsg`, one message per frame, on a socket shared by every
    /// handle.
    Sendmmsg,
    /// A TPACKET_V2 transmit ring per handle (the device makes `n_txq` of
    /// them; handles beyond that fall back to `sendmmsg`).
    RingV2,
}

impl std::str::FromStr for TxMode {
    type Err = ();
    fn from_str(s: &str) -> Result<TxMode, ()> {
        match s {
            "mmsg" | "sendmmsg" => Ok(TxMode::Sendmmsg),
            "v2" | "ring-v2" => Ok(TxMode::RingV2),
            _ => Err(()),
        }
    }
}

/// Configuration applied at open.
#[derive(Clone, Debug)]
pub struct NetdevConfig {
    /// Exchange a virtio-net header with the kernel, so offloaded frames
    /// cross un-segmented (default on). Off, the provider segments and
    /// checksums in software whatever it sends, and receives only complete
    /// frames.
    pub vnet_hdr: bool,
    /// Receive queues (AF_PACKET spreads flows over them with a fanout
    /// group; TAP has one).
    pub n_rxq: usize,
    /// MAC address to set (TAP devices).
    pub mac: Option<EthAddr>,
    /// MTU to set (TAP devices).
    pub mtu: Option<u32>,
    /// AF_PACKET receive method.
    pub rx_mode: RxMode,
    /// AF_PACKET transmit method.
    pub tx_mode: TxMode,
    /// AF_PACKET transmit rings made at open (with [`TxMode::RingV2`]).
    pub n_txq: usize,
    /// AF_PACKET receive ring memory: block size in bytes (a power of two of
    /// at least 128 KiB so a 64 KiB super-frame fits) and number of blocks
    /// of a V3 ring; a V2 ring takes the same memory in 1 MiB blocks of
    /// 2 KiB slots (16 MiB by default: 8192 slots).
    pub rx_block_size: u32,
    pub rx_blocks: u32,
    /// AF_PACKET receive (V2): slots of the second ring, for frames larger
    /// than a wire-size slot (super-frames), 64 KiB each; the kernel copies
    /// a super-frame there as it arrives, and it is handed on in its slot.
    /// 0: no second ring, super-frames are read with `recvmsg`.
    pub rx_big_slots: u32,
    /// AF_PACKET receive ring (V3): milliseconds after which the kernel hands a
    /// partly filled block over.
    pub rx_block_timeout_ms: u32,
    /// Transmit (AF_PACKET, with a vnet header): runs of TCP segments of
    /// one connection within a batch leave as one super-frame (see
    /// [`crate::coalesce`]).
    pub tx_coalesce: bool,
}

impl Default for NetdevConfig {
    fn default() -> Self {
        NetdevConfig {
            vnet_hdr: true,
            n_rxq: 1,
            mac: None,
            mtu: None,
            rx_mode: RxMode::RingV2,
            tx_mode: TxMode::Sendmmsg,
            n_txq: 2,
            rx_block_size: 1 << 18,
            rx_blocks: 64,
            rx_big_slots: 135,
            rx_block_timeout_ms: 1,
            tx_coalesce: true,
        }
    }
}

/// A network device, as the datapath sees it. See the module documentation
/// for the contract.
pub trait Netdev: Send + Sync {
    /// The device name.
    fn name(&self) -> &str;
    /// The type it was opened as (`"system"`, `"internal"`, `"tap"`).
    fn type_name(&self) -> &'static str;
    /// Receive queues.
    fn n_rxq(&self) -> usize;
    /// Takes exclusive ownership of receive queue `qid`.
    fn open_rxq(&self, qid: usize) -> Result<Box<dyn RxQueue>, NetdevError>;
    /// A transmit handle for one thread.
    fn open_txq(&self) -> Result<Box<dyn TxQueue>, NetdevError>;
    /// The kernel's interface index.
    fn ifindex(&self) -> Result<u32, NetdevError>;
    fn mac(&self) -> Result<EthAddr, NetdevError>;
    fn set_mac(&self, mac: EthAddr) -> Result<(), NetdevError>;
    fn mtu(&self) -> Result<u32, NetdevError>;
    fn set_mtu(&self, mtu: u32) -> Result<(), NetdevError>;
    /// Current administrative flags.
    fn flags(&self) -> Result<NetdevFlags, NetdevError>;
    /// Turns `off` flags off and `on` flags on; returns the flags before.
    fn update_flags(&self, off: NetdevFlags, on: NetdevFlags) -> Result<NetdevFlags, NetdevError>;
    /// Whether the link is up (carrier present and operationally running).
    fn carrier(&self) -> Result<bool, NetdevError>;
    /// Counters, from the switch's point of view.
    fn stats(&self) -> Result<NetdevStats, NetdevError>;
    /// What the egress accepts, and link facts.
    fn features(&self) -> Features;
}

/// A receive queue, owned by one forwarding thread.
pub trait RxQueue: Send {
    /// Moves up to `batch.room()` waiting packets into `batch`, with buffers
    /// from `pool`; returns how many. Never blocks. When the pool runs dry
    /// the remaining frames stay queued (or are dropped by the kernel).
    fn recv(
        &mut self,
        pool: &mut PacketPool,
        batch: &mut PacketBatch,
    ) -> Result<usize, NetdevError>;
    /// A descriptor that polls readable when packets may be waiting.
    fn wait_fd(&self) -> RawFd;
}

/// A transmit handle, owned by one forwarding thread.
pub trait TxQueue: Send {
    /// Sends every packet of `batch` (see the module documentation for what
    /// happens to offloads), empties it and returns the buffers to `pool`.
    /// Returns how many frames left (after any software segmentation).
    fn send(
        &mut self,
        batch: &mut PacketBatch,
        pool: &mut PacketPool,
    ) -> Result<usize, NetdevError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eth_addr_text() {
        let a: EthAddr = "0a:00:27:00:00:1f".parse().unwrap();
        assert_eq!(a.to_string(), "0a:00:27:00:00:1f");
        assert!("0a:00:27:00:00".parse::<EthAddr>().is_err());
        assert!("0a:00:27:00:00:1f:00".parse::<EthAddr>().is_err());
        assert!("0g:00:27:00:00:1f".parse::<EthAddr>().is_err());
        assert!(!a.is_multicast());
        assert!(EthAddr([1, 0, 0x5e, 0, 0, 1]).is_multicast());
    }
}
