//! `internal` and `tap` ports: a TAP device the switch creates through
//! `/dev/net/tun` (`IFF_TAP | IFF_NO_PI | IFF_VNET_HDR`), so that the host's
//! stack sees the port as an ordinary interface.
//!
//! Frames the host sends on the device are read by the switch; frames the
//! switch writes appear as received by the host. With the vnet header and
//! `TUNSETOFFLOAD` the host may hand us super-frames and partial checksums,
//! and we may write them back un-segmented; runs of TCP segments of one
//! connection are written as one super-frame (see [`crate::coalesce`]).
//!
//! The device is persistent while the switch holds it (`TUNSETPERSIST`, as
//! upstream makes it): if the switch dies without closing it (kill -9), the
//! device stays, with its addresses and routes, and a restarted switch
//! opening the same name attaches to it again, so forwarding resumes with
//! nothing to redo. Closing it normally (the netdev and every queue
//! dropped) clears persistence first, so the device goes away. A name
//! ending in `%d` lets the kernel pick a free number.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use packet::buffer::{Offload, PacketBatch, PacketPool};

use crate::coalesce::{Run, Seg};
use crate::error::NetdevError;
use crate::offload::{prepare, segment, TxPlan};
use crate::provider::{
    EthAddr, Features, Netdev, NetdevConfig, NetdevFlags, NetdevStats, RxQueue, TxQueue,
};
use crate::stats::{bump, DeviceCounters, QueueCounters};
use crate::sys::{self, IfCtl, IfReq};

const TUNSETIFF: libc::c_ulong = 0x400454ca;
const TUNSETOFFLOAD: libc::c_ulong = 0x400454d0;
const TUNSETVNETHDRSZ: libc::c_ulong = 0x400454d8;
const TUNSETPERSIST: libc::c_ulong = 0x400454cb;
const IFF_TAP: i16 = 0x0002;
const IFF_NO_PI: i16 = 0x1000;
const IFF_VNET_HDR: i16 = 0x4000;
const TUN_F_CSUM: libc::c_uint = 0x01;
const TUN_F_TSO4: libc::c_uint = 0x02;
const TUN_F_TSO6: libc::c_uint = 0x04;
const TUN_F_TSO_ECN: libc::c_uint = 0x08;
const TUN_F_USO4: libc::c_uint = 0x20;
const TUN_F_USO6: libc::c_uint = 0x40;

/// Segments one super-frame can become.
const MAX_SEGMENTS: usize = 256;

/// The descriptor of a TAP device the switch made persistent: dropping it
/// (last queue and netdev gone) clears persistence before closing, so the
/// device disappears.
struct TapFd(OwnedFd);

impl AsRawFd for TapFd {
    fn as_raw_fd(&self) -> RawFd {
        self.0.as_raw_fd()
    }
}

impl Drop for TapFd {
    fn drop(&mut self) {
        // Failing leaves a device behind, as a crash would; nothing else to do.
        let _ = ioctl_int(self.0.as_raw_fd(), TUNSETPERSIST, 0);
    }
}

/// A TAP device created for an `internal` or `tap` port.
pub struct Tap {
    name: String,
    type_name: &'static str,
    fd: Arc<TapFd>,
    ctl: IfCtl,
    ifindex: u32,
    vnet_hdr: bool,
    coalesce: bool,
    counters: DeviceCounters,
    busy: Arc<AtomicBool>,
}

impl std::fmt::Debug for Tap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tap")
            .field("name", &self.name)
            .field("ifindex", &self.ifindex)
            .finish()
    }
}

fn ioctl_int(fd: RawFd, req: libc::c_ulong, v: libc::c_int) -> io::Result<()> {
    // SAFETY: these TUN ioctls take an int by value (TUNSETOFFLOAD) or read
    // an int through the pointer (TUNSETVNETHDRSZ) which outlives the call.
    let r = unsafe {
        if req == TUNSETVNETHDRSZ {
            libc::ioctl(fd, req as _, &v as *const libc::c_int)
        } else {
            libc::ioctl(fd, req as _, v as libc::c_ulong)
        }
    };
    sys::cvt(r).map(|_| ())
}

impl Tap {
    /// Creates the TAP device `name` in the calling thread's namespace (or
    /// takes back the persistent one of that name the user moved into
    /// another namespace, see [`crate::netns`]), applies `config.mac` and
    /// `config.mtu`, and brings it up.
    pub fn open(
        name: &str,
        type_name: &'static str,
        config: &NetdevConfig,
    ) -> Result<Tap, NetdevError> {
        if !name.contains('%') && !crate::netns::exists_here(name) {
            if let Some((ns, tap)) =
                crate::netns::open_moved_tap(name, || Tap::open_here(name, type_name, config))
            {
                vlog::info!(
                    "netdev_linux",
                    "{name}: found in network namespace {}",
                    ns.display()
                );
                return Ok(tap);
            }
        }
        Tap::open_here(name, type_name, config)
    }

    /// [`Tap::open`] in the calling thread's namespace only.
    fn open_here(
        name: &str,
        type_name: &'static str,
        config: &NetdevConfig,
    ) -> Result<Tap, NetdevError> {
        let err = |op: &'static str| move |e: io::Error| NetdevError::sys(name, op, e);
        let path = c"/dev/net/tun";
        // SAFETY: opening a device node by a NUL-terminated path; the new
        // descriptor is owned by nobody else.
        let raw = sys::cvt(unsafe {
            libc::open(
                path.as_ptr(),
                libc::O_RDWR | libc::O_NONBLOCK | libc::O_CLOEXEC,
            )
        })
        .map_err(err("open(/dev/net/tun)"))?;
        // SAFETY: `raw` was just returned by open() and is not owned elsewhere.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        let mut ifr = IfReq::new(name).map_err(err("ioctl(TUNSETIFF)"))?;
        let mut flags = IFF_TAP | IFF_NO_PI;
        if config.vnet_hdr {
            flags |= IFF_VNET_HDR;
        }
        ifr.bytes_mut()[..2].copy_from_slice(&flags.to_ne_bytes());
        sys::ioctl_ifreq(fd.as_raw_fd(), TUNSETIFF, &mut ifr).map_err(err("ioctl(TUNSETIFF)"))?;
        let name = ifr.name_str();
        let err = |op: &'static str| {
            let name = name.clone();
            move |e: io::Error| NetdevError::sys(&name, op, e)
        };
        if config.vnet_hdr {
            ioctl_int(
                fd.as_raw_fd(),
                TUNSETVNETHDRSZ,
                Offload::VNET_HDR_LEN as libc::c_int,
            )
            .map_err(err("ioctl(TUNSETVNETHDRSZ)"))?;
            let base = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN;
            // UDP segmentation offload is newer (6.2); fall back without it.
            if ioctl_int(
                fd.as_raw_fd(),
                TUNSETOFFLOAD,
                (base | TUN_F_USO4 | TUN_F_USO6) as libc::c_int,
            )
            .is_err()
            {
                ioctl_int(fd.as_raw_fd(), TUNSETOFFLOAD, base as libc::c_int)
                    .map_err(err("ioctl(TUNSETOFFLOAD)"))?;
            }
        }
        // From here on, dropping `fd` clears persistence again.
        ioctl_int(fd.as_raw_fd(), TUNSETPERSIST, 1).map_err(err("ioctl(TUNSETPERSIST)"))?;
        let fd = TapFd(fd);
        let ctl = IfCtl::new().map_err(err("socket"))?;
        let ifindex = ctl.ifindex(&name).map_err(err("ioctl(SIOCGIFINDEX)"))?;
        if let Some(mac) = config.mac {
            ctl.set_mac(&name, mac)
                .map_err(err("ioctl(SIOCSIFHWADDR)"))?;
        }
        if let Some(mtu) = config.mtu {
            ctl.set_mtu(&name, mtu).map_err(err("ioctl(SIOCSIFMTU)"))?;
        }
        let f = ctl.flags(&name).map_err(err("ioctl(SIOCGIFFLAGS)"))?;
        ctl.set_flags(&name, f | libc::IFF_UP as u32)
            .map_err(err("ioctl(SIOCSIFFLAGS)"))?;
        Ok(Tap {
            name,
            type_name,
            fd: Arc::new(fd),
            ctl,
            ifindex,
            vnet_hdr: config.vnet_hdr,
            coalesce: config.tx_coalesce,
            counters: DeviceCounters::default(),
            busy: Arc::new(AtomicBool::new(false)),
        })
    }
}

impl Netdev for Tap {
    fn name(&self) -> &str {
        &self.name
    }

    fn type_name(&self) -> &'static str {
        self.type_name
    }

    fn n_rxq(&self) -> usize {
        1
    }

    fn open_rxq(&self, qid: usize) -> Result<Box<dyn RxQueue>, NetdevError> {
        if qid != 0 || self.busy.swap(true, Ordering::AcqRel) {
            return Err(NetdevError::NoQueue {
                name: self.name.clone(),
                qid,
            });
        }
        Ok(Box::new(TapRxq {
            fd: self.fd.clone(),
            vnet_hdr: self.vnet_hdr,
            counters: self.counters.register(),
            busy: self.busy.clone(),
        }))
    }

    fn open_txq(&self) -> Result<Box<dyn TxQueue>, NetdevError> {
        let features = self.features();
        Ok(Box::new(TapTxq {
            fd: self.fd.clone(),
            vnet_hdr: self.vnet_hdr,
            coalesce: self.coalesce
                && self.vnet_hdr
                && features.has(Features::TX_CSUM | Features::TX_TSO4 | Features::TX_TSO6),
            features,
            counters: self.counters.register(),
            scratch: PacketBatch::with_capacity(MAX_SEGMENTS),
        }))
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
        Ok(self.counters.sum())
    }

    fn features(&self) -> Features {
        Features {
            tx_offloads: if self.vnet_hdr { Features::TX_ALL } else { 0 },
            speed_mbps: None,
        }
    }
}

struct TapRxq {
    fd: Arc<TapFd>,
    vnet_hdr: bool,
    counters: Arc<QueueCounters>,
    busy: Arc<AtomicBool>,
}

impl Drop for TapRxq {
    fn drop(&mut self) {
        self.busy.store(false, Ordering::Release);
    }
}

impl RxQueue for TapRxq {
    fn recv(
        &mut self,
        pool: &mut PacketPool,
        batch: &mut PacketBatch,
    ) -> Result<usize, NetdevError> {
        let (mut got, mut bytes, mut errors) = (0u64, 0u64, 0u64);
        let mut hdr = [0u8; Offload::VNET_HDR_LEN];
        while !batch.is_full() {
            let Some(mut pkt) = pool.get() else { break };
            let spare = pkt.spare_from_head();
            let mut iov = [
                libc::iovec {
                    iov_base: hdr.as_mut_ptr() as *mut libc::c_void,
                    iov_len: hdr.len(),
                },
                libc::iovec {
                    iov_base: spare.as_mut_ptr() as *mut libc::c_void,
                    iov_len: spare.len(),
                },
            ];
            let (iov_ptr, cnt) = if self.vnet_hdr {
                (iov.as_mut_ptr(), 2)
            } else {
                (iov[1..].as_mut_ptr(), 1)
            };
            // SAFETY: the iovecs point into `hdr` and the packet's spare
            // room, both writable and alive for the call.
            let n = unsafe { libc::readv(self.fd.as_raw_fd(), iov_ptr, cnt) };
            if n < 0 {
                pool.put(pkt);
                let e = io::Error::last_os_error();
                match e.raw_os_error() {
                    Some(libc::EAGAIN) | Some(libc::EINTR) => break,
                    _ => {
                        errors += 1;
                        break;
                    }
                }
            }
            let mut n = n as usize;
            if self.vnet_hdr {
                if n < hdr.len() {
                    pool.put(pkt);
                    errors += 1;
                    continue;
                }
                n -= hdr.len();
                pkt.meta.offload = Offload::from_vnet_hdr(&hdr);
            }
            if n == 0 || pkt.set_len(n).is_err() {
                pool.put(pkt);
                errors += 1;
                continue;
            }
            bytes += n as u64;
            got += 1;
            if let Err(p) = batch.push(pkt) {
                pool.put(p);
                break;
            }
        }
        bump(&self.counters.rx_packets, got);
        bump(&self.counters.rx_bytes, bytes);
        bump(&self.counters.rx_errors, errors);
        Ok(got as usize)
    }

    fn wait_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

struct TapTxq {
    fd: Arc<TapFd>,
    vnet_hdr: bool,
    features: Features,
    /// Runs of TCP segments of one connection are written as one
    /// super-frame (see [`crate::coalesce`]).
    coalesce: bool,
    counters: Arc<QueueCounters>,
    scratch: PacketBatch,
}

/// Longest run of segments written as one super-frame.
const MAX_RUN: usize = packet::buffer::BATCH_SIZE;

#[derive(Default)]
struct Tally {
    packets: u64,
    bytes: u64,
    dropped: u64,
    errors: u64,
}

impl TapTxq {
    fn write_one(&self, p: &packet::buffer::Packet, t: &mut Tally) {
        let mut hdr = p.meta.offload.to_vnet_hdr();
        let data = p.data();
        let iov = [
            libc::iovec {
                iov_base: hdr.as_mut_ptr() as *mut libc::c_void,
                iov_len: hdr.len(),
            },
            libc::iovec {
                iov_base: data.as_ptr() as *mut libc::c_void,
                iov_len: data.len(),
            },
        ];
        let (ptr, cnt) = if self.vnet_hdr {
            (iov.as_ptr(), 2)
        } else {
            (iov[1..].as_ptr(), 1)
        };
        // SAFETY: the iovecs point into `hdr` and the packet data, both alive
        // for the call; writev only reads them.
        let n = unsafe { libc::writev(self.fd.as_raw_fd(), ptr, cnt) };
        if n < 0 {
            match io::Error::last_os_error().raw_os_error() {
                Some(libc::EAGAIN) | Some(libc::ENOBUFS) => t.dropped += 1,
                _ => t.errors += 1,
            }
        } else {
            t.packets += 1;
            t.bytes += data.len() as u64;
        }
    }
}

impl TxQueue for TapTxq {
    fn send(
        &mut self,
        batch: &mut PacketBatch,
        pool: &mut PacketPool,
    ) -> Result<usize, NetdevError> {
        let mut t = Tally::default();
        let n = batch.len();
        let mut i = 0;
        while i < n {
            match prepare(&mut batch.packets_mut()[i], &self.features) {
                Ok(TxPlan::Direct) => {
                    let end = self.run_end(batch, i);
                    if end > i + 1 {
                        if let Some((off, at)) = self.finish_run(batch, i, end) {
                            self.write_run(&batch.packets()[i..end], off, at, &mut t);
                            i = end;
                            continue;
                        }
                    }
                    self.write_one(&batch.packets()[i], &mut t);
                }
                Ok(TxPlan::Segment) => {
                    if segment(&batch.packets()[i], pool, &mut self.scratch).is_err() {
                        t.errors += 1;
                    }
                    for s in self.scratch.iter() {
                        self.write_one(s, &mut t);
                    }
                    pool.recycle(&mut self.scratch);
                }
                Err(_) => t.errors += 1,
            }
            i += 1;
        }
        pool.recycle(batch);
        bump(&self.counters.tx_packets, t.packets);
        bump(&self.counters.tx_bytes, t.bytes);
        bump(&self.counters.tx_dropped, t.dropped);
        bump(&self.counters.tx_errors, t.errors);
        Ok(t.packets as usize)
    }
}

impl TapTxq {
    /// The end of the run of TCP segments starting at packet `i` (which
    /// goes out as is): `i + 1` when nothing joins it.
    fn run_end(&self, batch: &mut PacketBatch, i: usize) -> usize {
        if !self.coalesce {
            return i + 1;
        }
        let Some(first) = Seg::of(&batch.packets()[i]) else {
            return i + 1;
        };
        let mut run = Run::start(first);
        let mut j = i + 1;
        while j < batch.len() && j - i < MAX_RUN {
            // Going out as is, too (calling prepare again later is harmless:
            // a packet it leaves alone stays so).
            if !matches!(
                prepare(&mut batch.packets_mut()[j], &self.features),
                Ok(TxPlan::Direct)
            ) {
                break;
            }
            let pkts = batch.packets();
            let Some(s) = Seg::of(&pkts[j]) else { break };
            if !run.push(pkts[i].data(), pkts[j].data(), &s) {
                break;
            }
            j += 1;
        }
        j
    }

    /// Rewrites packet `i` into the head of the super-frame of packets
    /// `i..end`: its offload state and where the others' payloads start.
    fn finish_run(
        &self,
        batch: &mut PacketBatch,
        i: usize,
        end: usize,
    ) -> Option<(Offload, usize)> {
        let pkts = batch.packets_mut();
        let mut run = Run::start(Seg::of(&pkts[i])?);
        for j in i + 1..end {
            let s = Seg::of(&pkts[j])?;
            if !run.push(pkts[i].data(), pkts[j].data(), &s) {
                return None;
            }
        }
        let off = run.finish(pkts[i].data_mut())?;
        Some((off, run.payload_offset()))
    }

    /// Writes `pkts` as one super-frame: the first whole, then the others
    /// from `payload_at` on.
    fn write_run(
        &self,
        pkts: &[packet::buffer::Packet],
        off: Offload,
        payload_at: usize,
        t: &mut Tally,
    ) {
        let mut hdr = off.to_vnet_hdr();
        let empty = libc::iovec {
            iov_base: std::ptr::null_mut(),
            iov_len: 0,
        };
        let mut iov = [empty; MAX_RUN + 1];
        iov[0] = libc::iovec {
            iov_base: hdr.as_mut_ptr() as *mut libc::c_void,
            iov_len: hdr.len(),
        };
        let mut cnt = 1;
        for (k, p) in pkts.iter().take(MAX_RUN).enumerate() {
            let d = if k == 0 {
                p.data()
            } else {
                p.data().get(payload_at..).unwrap_or(&[])
            };
            iov[cnt] = libc::iovec {
                iov_base: d.as_ptr() as *mut libc::c_void,
                iov_len: d.len(),
            };
            cnt += 1;
        }
        // SAFETY: the iovecs point into `hdr` and the packets' data, all
        // alive for the call; writev only reads them.
        let n = unsafe { libc::writev(self.fd.as_raw_fd(), iov.as_ptr(), cnt as libc::c_int) };
        let segs = (cnt - 1) as u64;
        if n < 0 {
            match io::Error::last_os_error().raw_os_error() {
                Some(libc::EAGAIN) | Some(libc::ENOBUFS) => t.dropped += segs,
                _ => t.errors += segs,
            }
        } else {
            t.packets += segs;
            t.bytes += pkts
                .iter()
                .take(MAX_RUN)
                .map(|p| p.len() as u64)
                .sum::<u64>();
        }
    }
}
