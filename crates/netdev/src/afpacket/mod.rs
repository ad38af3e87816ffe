//! `system` ports: an existing Linux interface (a veth end, a NIC) driven
//! through AF_PACKET sockets.
//!
//! * Receive: one socket per receive queue, read as a TPACKET_V2 ring
//!   (default: per-frame hand-over, no system call while busy), a
//!   TPACKET_V3 ring (dense blocks, but a block waits for its timeout when
//!   traffic is light, which slows TCP's ACK direction) or with `recvmmsg`
//!   (one copy, a system call per batch) — see [`crate::RxMode`]. Every
//!   socket has `PACKET_VNET_HDR` so super-frames and partial checksums
//!   arrive as the kernel has them, `PACKET_IGNORE_OUTGOING` so the switch
//!   does not see its own sends, promiscuous membership (given back when the
//!   socket closes), and a fanout group when there are several queues.
//! * Transmit: `sendmmsg` on one socket shared by every handle (default), or
//!   a TPACKET_V2 transmit ring per handle ([`crate::TxMode`]); both with
//!   `PACKET_VNET_HDR` and `PACKET_QDISC_BYPASS`.
//! * Control: interface ioctls on a socket of the device's namespace.
//!
//! Every socket is made at open, in the opener's network namespace, so
//! queues can later be taken from threads in any namespace.

pub(crate) mod ring;
pub(crate) mod rx;
pub(crate) mod tx;
pub(crate) mod txring;

use std::io;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crate::error::NetdevError;
use crate::provider::{
    EthAddr, Features, Netdev, NetdevConfig, NetdevFlags, NetdevStats, RxMode, RxQueue, TxMode,
    TxQueue,
};
use crate::stats::DeviceCounters;
use crate::sys::{self, getsockopt, setsockopt, IfCtl};

use ring::MmapRing;
use rx::{AfPacketRxq, RingSlots, RxRing};
use tx::AfPacketTxq;
use txring::{AfPacketTxRingq, TxRing, TxRingSlots};

const SOL_PACKET: libc::c_int = 263;
const PACKET_ADD_MEMBERSHIP: libc::c_int = 1;
const PACKET_RX_RING: libc::c_int = 5;
const PACKET_STATISTICS: libc::c_int = 6;
const PACKET_VERSION: libc::c_int = 10;
const PACKET_VNET_HDR: libc::c_int = 15;
const PACKET_FANOUT: libc::c_int = 18;
const PACKET_QDISC_BYPASS: libc::c_int = 20;
const PACKET_TX_RING: libc::c_int = 13;
const PACKET_COPY_THRESH: libc::c_int = 7;
const PACKET_RESERVE: libc::c_int = 12;
/// Bytes the kernel leaves free in front of each frame of a V2 receive slot
/// (beyond its own header), so that a frame handed on in its slot has the
/// headroom of a pool buffer for pushed headers.
const V2_RESERVE: libc::c_int = 160;
/// 1 MiB blocks per transmit ring (15 slots each).
const TX_RING_BLOCKS: u32 = 16;
const PACKET_IGNORE_OUTGOING: libc::c_int = 23;
const TPACKET_V2: libc::c_int = 1;
const TPACKET_V3: libc::c_int = 2;
/// TPACKET_V2 receive slot: header, address, vnet header and a frame of
/// wire size (with VLAN tags); larger frames come through the socket queue.
const V2_FRAME: u32 = 2048;
/// TPACKET_V2 transmit slot: header, vnet header and a 64 KiB super-frame.
const TX_FRAME: u32 = 65536 + 256;
const V2_BLOCK: u32 = 1 << 20;
/// Slot of the second V2 receive ring: header, reserve, vnet header and a
/// 64 KiB super-frame (15 slots per 1 MiB block).
const BIG_FRAME: u32 = 65792;
/// Frames longer than this go to the second ring (they would not fit a
/// wire-size slot behind the reserve); shorter ones to the first.
const BIG_THRESHOLD: u32 = 1600;
const SO_ATTACH_FILTER: libc::c_int = 26;
const PACKET_MR_PROMISC: u16 = 1;
const PACKET_FANOUT_HASH: u32 = 0;
const ETH_P_ALL: u16 = 0x0003;
const SNDBUF: libc::c_int = 4 << 20;
const RCVBUF: libc::c_int = 16 << 20;

/// An AF_PACKET-driven `system` port.
pub struct AfPacket {
    name: String,
    ifindex: u32,
    ctl: IfCtl,
    config: NetdevConfig,
    /// Receive rings not currently owned by an `RxQueue`.
    rings: RingSlots,
    busy: Vec<Arc<AtomicBool>>,
    rx_fds: Vec<Arc<OwnedFd>>,
    tx_fd: Arc<OwnedFd>,
    tx_rings: TxRingSlots,
    counters: DeviceCounters,
    kernel_drops: AtomicU64,
}

impl std::fmt::Debug for AfPacket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AfPacket")
            .field("name", &self.name)
            .field("ifindex", &self.ifindex)
            .finish()
    }
}

fn sockaddr_ll(ifindex: u32, protocol: u16) -> libc::sockaddr_ll {
    libc::sockaddr_ll {
        sll_family: libc::AF_PACKET as u16,
        sll_protocol: protocol.to_be(),
        sll_ifindex: ifindex as i32,
        sll_hatype: 0,
        sll_pkttype: 0,
        sll_halen: 0,
        sll_addr: [0; 8],
    }
}

fn bind_ll(fd: RawFd, ifindex: u32, protocol: u16) -> io::Result<()> {
    let sa = sockaddr_ll(ifindex, protocol);
    // SAFETY: `sa` is a valid sockaddr_ll and its size is passed with it.
    sys::cvt(unsafe {
        libc::bind(
            fd,
            &sa as *const libc::sockaddr_ll as *const libc::sockaddr,
            std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t,
        )
    })
    .map(|_| ())
}

/// Attaches a socket filter that keeps frames longer than
/// [`BIG_THRESHOLD`] (`big`) or the others, whole.
fn attach_len_filter(fd: RawFd, big: bool) -> io::Result<()> {
    const LD_LEN: u16 = 0x80; // BPF_LD | BPF_W | BPF_LEN
    const JGT_K: u16 = 0x25; // BPF_JMP | BPF_JGT | BPF_K
    const RET_K: u16 = 0x06; // BPF_RET | BPF_K
    let ins = |code, jt, jf, k| libc::sock_filter { code, jt, jf, k };
    // len > threshold: go to the first return for a big socket (keep), to
    // the second for the other (drop).
    let (jt, jf) = if big { (0, 1) } else { (1, 0) };
    let prog = [
        ins(LD_LEN, 0, 0, 0),
        ins(JGT_K, jt, jf, BIG_THRESHOLD),
        ins(RET_K, 0, 0, u32::MAX),
        ins(RET_K, 0, 0, 0),
    ];
    let fprog = libc::sock_fprog {
        len: prog.len() as u16,
        filter: prog.as_ptr() as *mut libc::sock_filter,
    };
    setsockopt(fd, libc::SOL_SOCKET, SO_ATTACH_FILTER, &fprog)
}

impl AfPacket {
    /// Opens the existing interface `name` in the calling thread's network
    /// namespace.
    pub fn open(name: &str, config: &NetdevConfig) -> Result<AfPacket, NetdevError> {
        let err = |op: &'static str| move |e: io::Error| NetdevError::sys(name, op, e);
        let ctl = IfCtl::new().map_err(err("socket"))?;
        let ifindex = ctl.ifindex(name).map_err(err("ioctl(SIOCGIFINDEX)"))?;
        let n_rxq = config.n_rxq.clamp(1, 64);
        let block_size = config.rx_block_size.max(1 << 17).next_power_of_two();
        let block_nr = config.rx_blocks.clamp(2, 4096);
        let fanout_id = (std::process::id() as u32 ^ ifindex.wrapping_mul(2654435761)) & 0xffff;
        let mut rings = Vec::with_capacity(n_rxq);
        let mut rx_fds = Vec::with_capacity(n_rxq);
        for _ in 0..n_rxq {
            let r = Self::open_rx(name, ifindex, config, block_size, block_nr)?;
            if n_rxq > 1 {
                let arg: u32 = fanout_id | (PACKET_FANOUT_HASH << 16);
                setsockopt(r.fd.as_raw_fd(), SOL_PACKET, PACKET_FANOUT, &arg)
                    .map_err(err("setsockopt(PACKET_FANOUT)"))?;
                if let Some(b) = r.big_fd() {
                    // The second rings form their own group, joined in the
                    // same order: a flow hashes to the same queue in both.
                    let arg: u32 = (fanout_id ^ 0x8000) | (PACKET_FANOUT_HASH << 16);
                    setsockopt(b.as_raw_fd(), SOL_PACKET, PACKET_FANOUT, &arg)
                        .map_err(err("setsockopt(PACKET_FANOUT)"))?;
                }
            }
            rx_fds.push(r.fd.clone());
            if let Some(b) = r.big_fd() {
                rx_fds.push(b.clone());
            }
            rings.push(Some(r));
        }
        let tx =
            sys::socket(libc::AF_PACKET, libc::SOCK_RAW, 0).map_err(err("socket(AF_PACKET)"))?;
        let one: libc::c_int = 1;
        if config.vnet_hdr {
            setsockopt(tx.as_raw_fd(), SOL_PACKET, PACKET_VNET_HDR, &one)
                .map_err(err("setsockopt(PACKET_VNET_HDR)"))?;
        }
        setsockopt(tx.as_raw_fd(), SOL_PACKET, PACKET_QDISC_BYPASS, &one)
            .map_err(err("setsockopt(PACKET_QDISC_BYPASS)"))?;
        // A larger send buffer lets a batch of super-frames queue on the
        // device without waiting; failing to raise it is not fatal.
        let _ = setsockopt(
            tx.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_SNDBUFFORCE,
            &SNDBUF,
        );
        bind_ll(tx.as_raw_fd(), ifindex, 0).map_err(err("bind"))?;
        let mut tx_rings = Vec::new();
        if config.tx_mode == TxMode::RingV2 {
            for _ in 0..config.n_txq.clamp(1, 64) {
                tx_rings.push(Self::open_tx_ring(name, ifindex, config)?);
            }
        }
        Ok(AfPacket {
            name: name.to_string(),
            ifindex,
            ctl,
            config: config.clone(),
            busy: (0..n_rxq)
                .map(|_| Arc::new(AtomicBool::new(false)))
                .collect(),
            rings: Arc::new(Mutex::new(rings)),
            rx_fds,
            tx_fd: Arc::new(tx),
            tx_rings: Arc::new(Mutex::new(tx_rings)),
            counters: DeviceCounters::default(),
            kernel_drops: AtomicU64::new(0),
        })
    }

    fn open_tx_ring(
        name: &str,
        ifindex: u32,
        config: &NetdevConfig,
    ) -> Result<TxRing, NetdevError> {
        let err = |op: &'static str| move |e: io::Error| NetdevError::sys(name, op, e);
        let fd =
            sys::socket(libc::AF_PACKET, libc::SOCK_RAW, 0).map_err(err("socket(AF_PACKET)"))?;
        let raw = fd.as_raw_fd();
        let one: libc::c_int = 1;
        setsockopt(raw, SOL_PACKET, PACKET_VERSION, &TPACKET_V2)
            .map_err(err("setsockopt(PACKET_VERSION)"))?;
        if config.vnet_hdr {
            setsockopt(raw, SOL_PACKET, PACKET_VNET_HDR, &one)
                .map_err(err("setsockopt(PACKET_VNET_HDR)"))?;
        }
        setsockopt(raw, SOL_PACKET, PACKET_QDISC_BYPASS, &one)
            .map_err(err("setsockopt(PACKET_QDISC_BYPASS)"))?;
        let _ = setsockopt(raw, libc::SOL_SOCKET, libc::SO_SNDBUFFORCE, &SNDBUF);
        let nr = TX_RING_BLOCKS;
        let req = libc::tpacket_req {
            tp_block_size: V2_BLOCK,
            tp_block_nr: nr,
            tp_frame_size: TX_FRAME,
            tp_frame_nr: (V2_BLOCK / TX_FRAME) * nr,
        };
        setsockopt(raw, SOL_PACKET, PACKET_TX_RING, &req)
            .map_err(err("setsockopt(PACKET_TX_RING)"))?;
        let ring = MmapRing::map(raw, V2_BLOCK as usize, nr as usize, TX_FRAME as usize, 0)
            .map_err(err("mmap"))?;
        bind_ll(raw, ifindex, 0).map_err(err("bind"))?;
        Ok(TxRing::new(fd, ring, config.vnet_hdr))
    }

    fn open_rx(
        name: &str,
        ifindex: u32,
        config: &NetdevConfig,
        block_size: u32,
        block_nr: u32,
    ) -> Result<RxRing, NetdevError> {
        let err = |op: &'static str| move |e: io::Error| NetdevError::sys(name, op, e);
        // Protocol 0: nothing is queued before the ring exists and the
        // socket is bound.
        let fd = sys::socket(libc::AF_PACKET, libc::SOCK_RAW | libc::SOCK_NONBLOCK, 0)
            .map_err(err("socket(AF_PACKET)"))?;
        let raw = fd.as_raw_fd();
        let one: libc::c_int = 1;
        let version = match config.rx_mode {
            RxMode::RingV2 => Some(TPACKET_V2),
            RxMode::RingV3 => Some(TPACKET_V3),
            RxMode::Recvmmsg => None,
        };
        if let Some(v) = version {
            setsockopt(raw, SOL_PACKET, PACKET_VERSION, &v)
                .map_err(err("setsockopt(PACKET_VERSION)"))?;
        }
        if config.vnet_hdr {
            setsockopt(raw, SOL_PACKET, PACKET_VNET_HDR, &one)
                .map_err(err("setsockopt(PACKET_VNET_HDR)"))?;
        }
        setsockopt(raw, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one)
            .map_err(err("setsockopt(PACKET_IGNORE_OUTGOING)"))?;
        let mut big = None;
        let ring = match config.rx_mode {
            RxMode::RingV3 => {
                let frame_size: u32 = 2048;
                let req = libc::tpacket_req3 {
                    tp_block_size: block_size,
                    tp_block_nr: block_nr,
                    tp_frame_size: frame_size,
                    tp_frame_nr: (block_size / frame_size) * block_nr,
                    tp_retire_blk_tov: config.rx_block_timeout_ms.max(1),
                    tp_sizeof_priv: 0,
                    tp_feature_req_word: 0,
                };
                setsockopt(raw, SOL_PACKET, PACKET_RX_RING, &req)
                    .map_err(err("setsockopt(PACKET_RX_RING)"))?;
                MmapRing::map(
                    raw,
                    block_size as usize,
                    block_nr as usize,
                    block_size as usize,
                    ring::BD_STATUS,
                )
                .map(Some)
            }
            RxMode::RingV2 => {
                // Same memory as the V3 ring would use, in 1 MiB blocks of
                // wire-size slots; the kernel queues a copy of any larger
                // frame (a super-frame) on the socket, with its VLAN tag in
                // a control message.
                setsockopt(raw, SOL_PACKET, PACKET_COPY_THRESH, &one)
                    .map_err(err("setsockopt(PACKET_COPY_THRESH)"))?;
                setsockopt(raw, SOL_PACKET, PACKET_RESERVE, &V2_RESERVE)
                    .map_err(err("setsockopt(PACKET_RESERVE)"))?;
                setsockopt(raw, SOL_PACKET, rx::PACKET_AUXDATA, &one)
                    .map_err(err("setsockopt(PACKET_AUXDATA)"))?;
                let _ = setsockopt(raw, libc::SOL_SOCKET, libc::SO_RCVBUFFORCE, &RCVBUF);
                let total = (block_size as u64 * block_nr as u64).max(2 * V2_BLOCK as u64);
                let nr = (total / V2_BLOCK as u64).min(4096) as u32;
                let per_block = V2_BLOCK / V2_FRAME;
                let req = libc::tpacket_req {
                    tp_block_size: V2_BLOCK,
                    tp_block_nr: nr,
                    tp_frame_size: V2_FRAME,
                    tp_frame_nr: per_block * nr,
                };
                setsockopt(raw, SOL_PACKET, PACKET_RX_RING, &req)
                    .map_err(err("setsockopt(PACKET_RX_RING)"))?;
                let ring = MmapRing::map(raw, V2_BLOCK as usize, nr as usize, V2_FRAME as usize, 0)
                    .map_err(err("mmap"))?;
                if config.rx_big_slots > 0 {
                    // Super-frames go to a second ring; when it cannot be
                    // made they come through this socket's queue.
                    if let Ok(b) = Self::open_big(ifindex, config) {
                        attach_len_filter(raw, false)
                            .map_err(err("setsockopt(SO_ATTACH_FILTER)"))?;
                        big = Some(b);
                    }
                }
                Ok(Some(ring))
            }
            RxMode::Recvmmsg => {
                // VLAN tags come as control messages; the socket buffer
                // holds what the ring would.
                setsockopt(raw, SOL_PACKET, rx::PACKET_AUXDATA, &one)
                    .map_err(err("setsockopt(PACKET_AUXDATA)"))?;
                let _ = setsockopt(raw, libc::SOL_SOCKET, libc::SO_RCVBUFFORCE, &RCVBUF);
                Ok(None)
            }
        }
        .map_err(err("mmap"))?;
        bind_ll(raw, ifindex, ETH_P_ALL).map_err(err("bind"))?;
        let mreq = libc::packet_mreq {
            mr_ifindex: ifindex as i32,
            mr_type: PACKET_MR_PROMISC,
            mr_alen: 0,
            mr_address: [0; 8],
        };
        setsockopt(raw, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mreq)
            .map_err(err("setsockopt(PACKET_ADD_MEMBERSHIP)"))?;
        RxRing::new(Arc::new(fd), ring, big, config.vnet_hdr, config.rx_mode).map_err(err("epoll"))
    }

    /// The second V2 receive ring of a queue: 64 KiB slots that only frames
    /// longer than [`BIG_THRESHOLD`] reach (a socket filter), bound to the
    /// device. Promiscuity comes from the first socket.
    fn open_big(ifindex: u32, config: &NetdevConfig) -> io::Result<(Arc<OwnedFd>, MmapRing)> {
        let fd = sys::socket(libc::AF_PACKET, libc::SOCK_RAW | libc::SOCK_NONBLOCK, 0)?;
        let raw = fd.as_raw_fd();
        let one: libc::c_int = 1;
        setsockopt(raw, SOL_PACKET, PACKET_VERSION, &TPACKET_V2)?;
        if config.vnet_hdr {
            setsockopt(raw, SOL_PACKET, PACKET_VNET_HDR, &one)?;
        }
        setsockopt(raw, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one)?;
        setsockopt(raw, SOL_PACKET, PACKET_COPY_THRESH, &one)?;
        setsockopt(raw, SOL_PACKET, PACKET_RESERVE, &V2_RESERVE)?;
        setsockopt(raw, SOL_PACKET, rx::PACKET_AUXDATA, &one)?;
        let _ = setsockopt(raw, libc::SOL_SOCKET, libc::SO_RCVBUFFORCE, &RCVBUF);
        let per_block = V2_BLOCK / BIG_FRAME;
        let nr = config.rx_big_slots.div_ceil(per_block).clamp(1, 256);
        let req = libc::tpacket_req {
            tp_block_size: V2_BLOCK,
            tp_block_nr: nr,
            tp_frame_size: BIG_FRAME,
            tp_frame_nr: per_block * nr,
        };
        setsockopt(raw, SOL_PACKET, PACKET_RX_RING, &req)?;
        let ring = MmapRing::map(raw, V2_BLOCK as usize, nr as usize, BIG_FRAME as usize, 0)?;
        attach_len_filter(raw, true)?;
        bind_ll(raw, ifindex, ETH_P_ALL)?;
        Ok((Arc::new(fd), ring))
    }
}

impl Netdev for AfPacket {
    fn name(&self) -> &str {
        &self.name
    }

    fn type_name(&self) -> &'static str {
        "system"
    }

    fn n_rxq(&self) -> usize {
        self.busy.len()
    }

    fn open_rxq(&self, qid: usize) -> Result<Box<dyn RxQueue>, NetdevError> {
        let no = || NetdevError::NoQueue {
            name: self.name.clone(),
            qid,
        };
        let busy = self.busy.get(qid).ok_or_else(no)?;
        if busy.swap(true, Ordering::AcqRel) {
            return Err(no());
        }
        let ring = self
            .rings
            .lock()
            .ok()
            .and_then(|mut r| r.get_mut(qid).and_then(Option::take));
        let Some(ring) = ring else {
            busy.store(false, Ordering::Release);
            return Err(no());
        };
        Ok(Box::new(AfPacketRxq::new(
            ring,
            self.counters.register(),
            busy.clone(),
            self.rings.clone(),
            qid,
        )))
    }

    fn open_txq(&self) -> Result<Box<dyn TxQueue>, NetdevError> {
        let ring = self.tx_rings.lock().ok().and_then(|mut r| r.pop());
        if let Some(ring) = ring {
            return Ok(Box::new(AfPacketTxRingq::new(
                ring,
                self.features(),
                self.counters.register(),
                self.tx_rings.clone(),
            )));
        }
        Ok(Box::new(AfPacketTxq::new(
            self.tx_fd.clone(),
            self.config.vnet_hdr,
            self.features(),
            self.config.tx_coalesce,
            self.counters.register(),
        )))
    }

    fn ifindex(&self) -> Result<u32, NetdevError> {
        Ok(self.ifindex)
    }

    fn mac(&self) -> Result<EthAddr, NetdevError> {
        crate::kernel_if::mac(&self.ctl, &self.name)
    }

    fn set_mac(&self, mac: EthAddr) -> Result<(), NetdevError> {
        crate::kernel_if::set_mac(&self.ctl, &self.name, mac)
    }

    fn mtu(&self) -> Result<u32, NetdevError> {
        crate::kernel_if::mtu(&self.ctl, &self.name)
    }

    fn set_mtu(&self, mtu: u32) -> Result<(), NetdevError> {
        crate::kernel_if::set_mtu(&self.ctl, &self.name, mtu)
    }

    fn flags(&self) -> Result<NetdevFlags, NetdevError> {
        crate::kernel_if::flags(&self.ctl, &self.name)
    }

    fn update_flags(&self, off: NetdevFlags, on: NetdevFlags) -> Result<NetdevFlags, NetdevError> {
        crate::update_kernel_flags(&self.ctl, &self.name, off, on)
    }

    fn carrier(&self) -> Result<bool, NetdevError> {
        crate::kernel_if::carrier(&self.ctl, &self.name)
    }

    fn stats(&self) -> Result<NetdevStats, NetdevError> {
        let mut s = self.counters.sum();
        for fd in &self.rx_fds {
            // struct tpacket_stats_v3: packets, drops, freeze_q_cnt. Reading
            // resets the kernel's counters, so they are accumulated here.
            let mut st = [0u32; 3];
            if getsockopt(fd.as_raw_fd(), SOL_PACKET, PACKET_STATISTICS, &mut st).is_ok() {
                self.kernel_drops.fetch_add(st[1] as u64, Ordering::Relaxed);
            }
        }
        s.rx_dropped += self.kernel_drops.load(Ordering::Relaxed);
        Ok(s)
    }

    fn features(&self) -> Features {
        Features {
            // With a vnet header the kernel takes every offload and finishes
            // what the device cannot do itself.
            tx_offloads: if self.config.vnet_hdr {
                Features::TX_ALL
            } else {
                0
            },
            speed_mbps: self.ctl.speed_mbps(&self.name).ok().flatten(),
        }
    }
}
