//! Dummy ports (types `dummy`, `dummy-internal`, `dummy-pmd`): network
//! devices that exist only in the switch's memory, for tests, sandboxes and
//! benchmarks.
//!
//! Frames reach a dummy port by injection ([`Dummy::receive`], what
//! `ovs-appctl netdev-dummy/receive` does) or from a replay source that
//! hands the same frames out again and again ([`Dummy::set_replay`], for
//! benchmarks). Frames the switch sends are counted and, on request, kept
//! ([`Dummy::capture`]/[`Dummy::take_sent`]). The `pcap`, `rxq_pcap` and
//! `tx_pcap` options ([`Dummy::set_options`]) append received and sent
//! frames to pcap files, as upstream's dummy netdevs do.
//! `netdev-dummy/set-admin-state` maps to [`Dummy::set_admin_state`].

use std::collections::VecDeque;
use std::io;
use std::os::fd::RawFd;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};

use packet::buffer::{PacketBatch, PacketPool};

use crate::error::NetdevError;
use crate::offload::{prepare, segment, TxPlan};
use crate::pcap::PcapWriter;
use crate::provider::{EthAddr, Features, Netdev, NetdevFlags, NetdevStats, RxQueue, TxQueue};
use crate::stats::{bump, DeviceCounters, QueueCounters};

/// The types this provider answers to.
pub const DUMMY_TYPES: &[&str] = &["dummy", "dummy-internal", "dummy-pmd"];

/// The other types a dummy device can stand in for: under
/// `--enable-dummy=override` upstream registers its dummy class under
/// every device type but `patch`, so such devices keep their type name.
pub const OVERRIDE_TYPES: &[&str] = &[
    "system",
    "tap",
    "internal",
    "bareudp",
    "erspan",
    "geneve",
    "gre",
    "gtpu",
    "ip6erspan",
    "ip6gre",
    "lisp",
    "stt",
    "vxlan",
];

/// Frames waiting in an injected receive queue before new ones are dropped.
pub const MAX_QUEUED: usize = 4096;

/// Frames kept by [`Dummy::capture`] before the oldest are discarded.
pub const MAX_CAPTURED: usize = 65536;

/// An eventfd that polls readable while frames wait.
struct EventFd(RawFd);

impl EventFd {
    fn new() -> io::Result<EventFd> {
        // SAFETY: plain system call with constant flags.
        let fd = unsafe { libc::eventfd(0, libc::EFD_NONBLOCK | libc::EFD_CLOEXEC) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(EventFd(fd))
    }

    fn signal(&self) {
        let one: u64 = 1;
        // SAFETY: writes 8 bytes from a live u64 to our own eventfd.
        unsafe {
            libc::write(self.0, &one as *const u64 as *const libc::c_void, 8);
        }
    }

    fn clear(&self) {
        let mut v: u64 = 0;
        // SAFETY: reads 8 bytes into a live u64 from our own eventfd.
        unsafe {
            libc::read(self.0, &mut v as *mut u64 as *mut libc::c_void, 8);
        }
    }
}

impl Drop for EventFd {
    fn drop(&mut self) {
        // SAFETY: we own the descriptor.
        unsafe {
            libc::close(self.0);
        }
    }
}

/// Frames handed out over and over by the receive queue (benchmarks).
struct Replay {
    frames: Vec<Vec<u8>>,
    next: usize,
    /// Frames still to hand out; `None` for no limit.
    remaining: Option<u64>,
}

#[derive(Default)]
struct Pcaps {
    rx: Option<Arc<Mutex<PcapWriter>>>,
    tx: Option<Arc<Mutex<PcapWriter>>>,
}

/// A dummy network device. See the module documentation.
pub struct Dummy {
    s: Arc<Shared>,
}

impl std::ops::Deref for Dummy {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.s
    }
}

/// The state a device shares with its queues.
pub struct Shared {
    name: String,
    type_name: &'static str,
    queue: Mutex<VecDeque<Vec<u8>>>,
    replay: Mutex<Option<Replay>>,
    event: EventFd,
    rxq_taken: AtomicBool,
    counters: DeviceCounters,
    /// Drops at injection (queue full, no reader).
    inject_counters: Arc<QueueCounters>,
    pcaps: Mutex<Pcaps>,
    capture: AtomicBool,
    sent: Mutex<VecDeque<Vec<u8>>>,
    mac: Mutex<EthAddr>,
    mtu: Mutex<u32>,
    flags: AtomicU8,
}

fn next_mac() -> EthAddr {
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    EthAddr([0xaa, 0x55, 0xaa, 0x55, (n >> 8) as u8, n as u8])
}

impl Dummy {
    /// Creates dummy device `name` of `type_name` (one of [`DUMMY_TYPES`],
    /// or of [`OVERRIDE_TYPES`] for a dummy standing in for that type).
    pub fn open(name: &str, type_name: &str) -> Result<Arc<Dummy>, NetdevError> {
        let type_name = DUMMY_TYPES
            .iter()
            .chain(OVERRIDE_TYPES)
            .find(|t| **t == type_name)
            .copied()
            .ok_or_else(|| NetdevError::UnknownType {
                name: name.to_string(),
                type_name: type_name.to_string(),
            })?;
        let event = EventFd::new().map_err(|e| NetdevError::sys(name, "eventfd", e))?;
        let counters = DeviceCounters::default();
        let inject_counters = counters.register();
        Ok(Arc::new(Dummy {
            s: Arc::new(Shared {
                name: name.to_string(),
                type_name,
                queue: Mutex::new(VecDeque::new()),
                replay: Mutex::new(None),
                event,
                rxq_taken: AtomicBool::new(false),
                counters,
                inject_counters,
                pcaps: Mutex::new(Pcaps::default()),
                capture: AtomicBool::new(false),
                sent: Mutex::new(VecDeque::new()),
                mac: Mutex::new(next_mac()),
                mtu: Mutex::new(1500),
                flags: AtomicU8::new(NetdevFlags::UP.0 as u8),
            }),
        }))
    }

    /// Applies `options:` of the Interface row: `pcap=FILE` (received and
    /// sent frames to one file), else `rxq_pcap=FILE` and `tx_pcap=FILE`.
    /// Other keys are ignored, as upstream does.
    pub fn set_options(&self, options: &[(String, String)]) -> Result<(), NetdevError> {
        let get = |k: &str| {
            options
                .iter()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.as_str())
        };
        let open = |path: &str| -> Result<Arc<Mutex<PcapWriter>>, NetdevError> {
            PcapWriter::open_append(Path::new(path))
                .map(|w| Arc::new(Mutex::new(w)))
                .map_err(|e| NetdevError::sys(&self.name, "pcap open", e))
        };
        let mut p = Pcaps::default();
        if let Some(both) = get("pcap") {
            let w = open(both)?;
            p.rx = Some(w.clone());
            p.tx = Some(w);
        } else {
            if let Some(rx) = get("rxq_pcap") {
                p.rx = Some(open(rx)?);
            }
            if let Some(tx) = get("tx_pcap") {
                p.tx = Some(open(tx)?);
            }
        }
        if let Ok(mut cur) = self.pcaps.lock() {
            *cur = p;
        }
        Ok(())
    }

    /// Queues `frame` as if it arrived on the wire (`netdev-dummy/receive`).
    /// Returns false (and counts a drop) when the queue is full.
    pub fn receive(&self, frame: &[u8]) -> bool {
        let Ok(mut q) = self.queue.lock() else {
            return false;
        };
        if q.len() >= MAX_QUEUED {
            bump(&self.inject_counters.rx_dropped, 1);
            return false;
        }
        q.push_back(frame.to_vec());
        drop(q);
        self.event.signal();
        true
    }

    /// True while injected frames wait to be received.
    pub fn pending(&self) -> bool {
        self.queue.lock().map(|q| !q.is_empty()).unwrap_or(false)
    }

    /// Hands `frames` out in a loop, `count` frames in all (`None`: without
    /// end), ahead of injected frames.
    pub fn set_replay(&self, frames: Vec<Vec<u8>>, count: Option<u64>) {
        if let Ok(mut r) = self.replay.lock() {
            *r = (!frames.is_empty()).then_some(Replay {
                frames,
                next: 0,
                remaining: count,
            });
        }
        self.event.signal();
    }

    /// Keeps (or stops keeping) a copy of every frame sent.
    pub fn capture(&self, on: bool) {
        self.capture.store(on, Ordering::Relaxed);
    }

    /// The frames sent since the last call (with [`Dummy::capture`] on).
    pub fn take_sent(&self) -> Vec<Vec<u8>> {
        self.sent
            .lock()
            .map(|mut s| s.drain(..).collect())
            .unwrap_or_default()
    }

    /// `netdev-dummy/set-admin-state`: turns the device up or down.
    pub fn set_admin_state(&self, up: bool) {
        let f = self.flags.load(Ordering::Relaxed);
        let nf = if up {
            f | NetdevFlags::UP.0 as u8
        } else {
            f & !(NetdevFlags::UP.0 as u8)
        };
        self.flags.store(nf, Ordering::Relaxed);
    }
}

impl Shared {
    fn record_tx(&self, frame: &[u8]) {
        let tx = self.pcaps.lock().ok().and_then(|p| p.tx.clone());
        if let Some(w) = tx {
            if let Ok(mut w) = w.lock() {
                let _ = w.write(frame);
            }
        }
        if self.capture.load(Ordering::Relaxed) {
            if let Ok(mut s) = self.sent.lock() {
                if s.len() >= MAX_CAPTURED {
                    s.pop_front();
                }
                s.push_back(frame.to_vec());
            }
        }
    }
}

impl Netdev for Dummy {
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
        if qid != 0 || self.rxq_taken.swap(true, Ordering::AcqRel) {
            return Err(NetdevError::NoQueue {
                name: self.name.clone(),
                qid,
            });
        }
        Ok(Box::new(DummyRxq {
            dev: self.s.clone(),
            counters: self.counters.register(),
        }))
    }

    fn open_txq(&self) -> Result<Box<dyn TxQueue>, NetdevError> {
        Ok(Box::new(DummyTxq {
            dev: self.s.clone(),
            counters: self.counters.register(),
            scratch: PacketBatch::new(),
        }))
    }

    fn ifindex(&self) -> Result<u32, NetdevError> {
        Err(NetdevError::sys(
            &self.name,
            "ifindex",
            io::Error::from_raw_os_error(libc::EOPNOTSUPP),
        ))
    }

    fn mac(&self) -> Result<EthAddr, NetdevError> {
        Ok(self.mac.lock().map(|m| *m).unwrap_or_default())
    }

    fn set_mac(&self, mac: EthAddr) -> Result<(), NetdevError> {
        if let Ok(mut m) = self.mac.lock() {
            *m = mac;
        }
        Ok(())
    }

    fn mtu(&self) -> Result<u32, NetdevError> {
        Ok(self.mtu.lock().map(|m| *m).unwrap_or(1500))
    }

    fn set_mtu(&self, mtu: u32) -> Result<(), NetdevError> {
        if let Ok(mut m) = self.mtu.lock() {
            *m = mtu;
        }
        Ok(())
    }

    fn flags(&self) -> Result<NetdevFlags, NetdevError> {
        Ok(NetdevFlags(self.flags.load(Ordering::Relaxed) as u32))
    }

    fn update_flags(&self, off: NetdevFlags, on: NetdevFlags) -> Result<NetdevFlags, NetdevError> {
        let old = self.flags.load(Ordering::Relaxed);
        let new = (old & !(off.0 as u8)) | on.0 as u8;
        self.flags.store(new, Ordering::Relaxed);
        Ok(NetdevFlags(old as u32))
    }

    fn carrier(&self) -> Result<bool, NetdevError> {
        Ok(self.flags.load(Ordering::Relaxed) & NetdevFlags::UP.0 as u8 != 0)
    }

    fn stats(&self) -> Result<NetdevStats, NetdevError> {
        Ok(self.counters.sum())
    }

    fn features(&self) -> Features {
        Features::default()
    }
}

struct DummyRxq {
    dev: Arc<Shared>,
    counters: Arc<QueueCounters>,
}

impl Drop for DummyRxq {
    fn drop(&mut self) {
        self.dev.rxq_taken.store(false, Ordering::Release);
    }
}

impl RxQueue for DummyRxq {
    fn recv(
        &mut self,
        pool: &mut PacketPool,
        batch: &mut PacketBatch,
    ) -> Result<usize, NetdevError> {
        let dev = &self.dev;
        let (mut n, mut bytes) = (0u64, 0u64);
        let rx_pcap = dev.pcaps.lock().ok().and_then(|p| p.rx.clone());
        // Replayed frames first.
        if let Ok(mut r) = dev.replay.lock() {
            if let Some(rep) = r.as_mut() {
                while !batch.is_full() && rep.remaining != Some(0) {
                    let Some(mut pkt) = pool.get() else { break };
                    let frame = &rep.frames[rep.next];
                    rep.next = (rep.next + 1) % rep.frames.len();
                    if pkt.copy_from(frame).is_err() {
                        pool.put(pkt);
                        bump(&self.counters.rx_errors, 1);
                        continue;
                    }
                    if let Some(rem) = rep.remaining.as_mut() {
                        *rem -= 1;
                    }
                    n += 1;
                    bytes += frame.len() as u64;
                    let _ = batch.push(pkt);
                }
                if rep.remaining == Some(0) {
                    *r = None;
                }
            }
        }
        if !batch.is_full() {
            if let Ok(mut q) = dev.queue.lock() {
                while !batch.is_full() {
                    let Some(frame) = q.front() else { break };
                    let Some(mut pkt) = pool.get() else { break };
                    let frame_ok = pkt.copy_from(frame).is_ok();
                    let len = frame.len() as u64;
                    if let Some(w) = &rx_pcap {
                        if let Ok(mut w) = w.lock() {
                            let _ = w.write(frame);
                        }
                    }
                    q.pop_front();
                    if !frame_ok {
                        pool.put(pkt);
                        bump(&self.counters.rx_errors, 1);
                        continue;
                    }
                    n += 1;
                    bytes += len;
                    let _ = batch.push(pkt);
                }
                let replaying = dev.replay.lock().map(|r| r.is_some()).unwrap_or(false);
                if q.is_empty() && !replaying {
                    dev.event.clear();
                }
            }
        }
        bump(&self.counters.rx_packets, n);
        bump(&self.counters.rx_bytes, bytes);
        Ok(n as usize)
    }

    fn wait_fd(&self) -> RawFd {
        self.dev.event.0
    }
}

struct DummyTxq {
    dev: Arc<Shared>,
    counters: Arc<QueueCounters>,
    scratch: PacketBatch,
}

impl TxQueue for DummyTxq {
    fn send(
        &mut self,
        batch: &mut PacketBatch,
        pool: &mut PacketPool,
    ) -> Result<usize, NetdevError> {
        let dev = &self.dev;
        let features = Features::default();
        let (mut n, mut bytes, mut errors) = (0u64, 0u64, 0u64);
        for i in 0..batch.len() {
            match prepare(&mut batch.packets_mut()[i], &features) {
                Ok(TxPlan::Direct) => {
                    let p = &batch.packets()[i];
                    dev.record_tx(p.data());
                    n += 1;
                    bytes += p.len() as u64;
                }
                Ok(TxPlan::Segment) => {
                    if segment(&batch.packets()[i], pool, &mut self.scratch).is_err() {
                        errors += 1;
                    }
                    for s in self.scratch.iter() {
                        dev.record_tx(s.data());
                        n += 1;
                        bytes += s.len() as u64;
                    }
                    pool.recycle(&mut self.scratch);
                }
                Err(_) => errors += 1,
            }
        }
        pool.recycle(batch);
        bump(&self.counters.tx_packets, n);
        bump(&self.counters.tx_bytes, bytes);
        bump(&self.counters.tx_errors, errors);
        Ok(n as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inject_receive_send_capture() {
        let d = Dummy::open("p1", "dummy").unwrap();
        assert_eq!(d.type_name(), "dummy");
        let mut pool = PacketPool::new(64, 2048, 64);
        let mut rxq = d.open_rxq(0).unwrap();
        assert!(d.open_rxq(0).is_err(), "one owner per queue");
        let mut batch = PacketBatch::new();
        assert_eq!(rxq.recv(&mut pool, &mut batch).unwrap(), 0);
        assert!(d.receive(&[1u8; 60]));
        assert!(d.receive(&[2u8; 64]));
        assert_eq!(rxq.recv(&mut pool, &mut batch).unwrap(), 2);
        assert_eq!(batch.packets()[1].data(), &[2u8; 64][..]);
        d.capture(true);
        let mut txq = d.open_txq().unwrap();
        assert_eq!(txq.send(&mut batch, &mut pool).unwrap(), 2);
        assert_eq!(d.take_sent(), vec![vec![1u8; 60], vec![2u8; 64]]);
        let s = d.stats().unwrap();
        assert_eq!(
            (s.rx_packets, s.rx_bytes, s.tx_packets, s.tx_bytes),
            (2, 124, 2, 124)
        );
        assert_eq!(pool.available(), 64);
        drop(rxq);
        assert!(d.open_rxq(0).is_ok(), "queue free again");
    }

    #[test]
    fn replay_counts_down() {
        let d = Dummy::open("p2", "dummy-pmd").unwrap();
        let mut pool = PacketPool::new(64, 2048, 64);
        let mut rxq = d.open_rxq(0).unwrap();
        d.set_replay(vec![vec![7u8; 60], vec![8u8; 60]], Some(40));
        let mut batch = PacketBatch::new();
        assert_eq!(rxq.recv(&mut pool, &mut batch).unwrap(), 32);
        pool.recycle(&mut batch);
        assert_eq!(rxq.recv(&mut pool, &mut batch).unwrap(), 8);
        pool.recycle(&mut batch);
        assert_eq!(rxq.recv(&mut pool, &mut batch).unwrap(), 0);
    }

    #[test]
    fn admin_state_and_types() {
        let d = Dummy::open("p3", "dummy-internal").unwrap();
        assert!(d.carrier().unwrap());
        d.set_admin_state(false);
        assert!(!d.carrier().unwrap());
        assert!(!d.flags().unwrap().contains(NetdevFlags::UP));
        assert!(Dummy::open("p4", "frob").is_err());
    }

    #[test]
    fn pcap_options_record_both_directions() {
        let dir = std::env::temp_dir().join(format!("fv-dummy-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let path = dir.join("p.pcap");
        let _ = std::fs::remove_file(&path);
        let d = Dummy::open("p5", "dummy").unwrap();
        d.set_options(&[("pcap".into(), path.to_string_lossy().into_owned())])
            .unwrap();
        let mut pool = PacketPool::new(8, 2048, 64);
        let mut rxq = d.open_rxq(0).unwrap();
        d.receive(&[3u8; 60]);
        let mut batch = PacketBatch::new();
        rxq.recv(&mut pool, &mut batch).unwrap();
        d.open_txq().unwrap().send(&mut batch, &mut pool).unwrap();
        let frames = crate::pcap::read(&std::fs::read(&path).unwrap()).unwrap();
        assert_eq!(frames.len(), 2);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
