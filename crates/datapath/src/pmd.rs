//! Forwarding: the per-packet path shared by forwarding (PMD) threads, the
//! handler thread and packet-out — receive a batch, look each packet up
//! (EMC, then megaflows), execute, batch outputs per port; misses become
//! upcalls (queued from a PMD, answered in place on the handler thread).

use std::collections::HashMap;
use std::os::fd::RawFd;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::Arc;

use flow::odp::actions::userspace::Userspace;
use flow::odp::actions::OdpAction;
use netdev::{RxQueue, TxQueue};
use packet::buffer::{Packet, PacketBatch, PacketPool};
use packet::extract::Metadata;
use packet::flow::Flow;

use crate::dpif::{DropReason, PmdStats, Upcall, UpcallKind};
use crate::emc::Emc;
use crate::exec::{execute, execute_slot, metadata_of, ExecEnv, InFlight};
use crate::megaflow::{
    flow_words, pack_received_words, FlowTable, FlowWords, FxBuild, Megaflow, FLOW_WORDS,
};
use crate::netdev_dp::{Inner, QueuedUpcall};

/// Recirculations a packet may go through (upstream's limit).
pub const MAX_RECIRC_DEPTH: u8 = 6;

/// Frames shorter than an Ethernet header are dropped on receive.
pub const ETH_HEADER_LEN: usize = 14;

/// Packet buffers per forwarding thread.
pub const POOL_PACKETS: usize = 256;

/// One receive queue given to a forwarding thread.
pub(crate) struct RxAssignment {
    pub port_no: u32,
    pub rxq: Box<dyn RxQueue>,
}

/// Counters of one thread: written by that thread only, summed by others.
#[derive(Default)]
pub struct ThreadStats {
    cur: [AtomicU64; 19],
    base: [AtomicU64; 19],
    /// Polling passes finished, for forwarding threads (see
    /// `DpifNetdev::settle`); stays 0 on other threads.
    passes: AtomicU64,
}

fn to_array(s: &PmdStats) -> [u64; 19] {
    let mut a = [0u64; 19];
    a[0] = s.packets_received;
    a[1] = s.recirculations;
    a[2] = s.emc_hits;
    a[3] = s.megaflow_hits;
    a[4] = s.subtable_lookups;
    a[5] = s.upcall_ok;
    a[6] = s.upcall_failed;
    a[7] = s.output_batches;
    a[8] = s.output_packets;
    a[9..19].copy_from_slice(&s.drops);
    a
}

fn from_array(a: &[u64; 19]) -> PmdStats {
    let mut drops = [0u64; 10];
    drops.copy_from_slice(&a[9..19]);
    PmdStats {
        packets_received: a[0],
        recirculations: a[1],
        emc_hits: a[2],
        megaflow_hits: a[3],
        subtable_lookups: a[4],
        upcall_ok: a[5],
        upcall_failed: a[6],
        output_batches: a[7],
        output_packets: a[8],
        drops,
    }
}

impl ThreadStats {
    /// Adds `s` (writer thread only).
    fn publish(&self, s: &PmdStats) {
        for (c, v) in self.cur.iter().zip(to_array(s).iter()) {
            if *v != 0 {
                c.store(c.load(Relaxed).wrapping_add(*v), Relaxed);
            }
        }
    }

    /// Counts since the last clear.
    pub fn snapshot(&self) -> PmdStats {
        let mut a = [0u64; 19];
        for (i, v) in a.iter_mut().enumerate() {
            *v = self.cur[i]
                .load(Relaxed)
                .wrapping_sub(self.base[i].load(Relaxed));
        }
        from_array(&a)
    }

    /// Counts a finished polling pass (writer thread only).
    fn pass_done(&self) {
        self.passes
            .store(self.passes.load(Relaxed).wrapping_add(1), Relaxed);
    }

    /// Polling passes finished so far.
    pub fn passes(&self) -> u64 {
        self.passes.load(Relaxed)
    }

    /// Makes the counts so far invisible (any thread).
    pub fn clear_base(&self) {
        for i in 0..19 {
            self.base[i].store(self.cur[i].load(Relaxed), Relaxed);
        }
    }
}

struct TxPort {
    q: Box<dyn TxQueue>,
    batch: PacketBatch,
}

/// The thread-owned I/O side: pool, transmit handles, pending work.
struct Io {
    inner: Arc<Inner>,
    pool: PacketPool,
    /// Transmit handles by port number (looked up once per output: a
    /// cheap hash, not SipHash). None: no such port, or it could not be
    /// opened; remembered, as the handles are, until the ports change, so
    /// that output to it takes no lock per packet.
    tx: HashMap<u32, Option<TxPort>, FxBuild>,
    /// Tunnel protocol by vport number (None: not a tunnel vport), kept
    /// like `tx`.
    tunnel_kinds: HashMap<u32, Option<packet::tunnel::TunnelKind>, FxBuild>,
    recirc: Vec<(Packet, Flow, u8)>,
    depth: u8,
    local: PmdStats,
    rng: u64,
    /// Userspace actions call the upcall handler at once, on this thread
    /// (the handler and packet-out forwarders). A packet-out's packet-ins
    /// are sent before the switch answers the next request, as
    /// dpif-netdev's execute does; a missed packet's packet-in leaves
    /// before those of later packets that hit the flow its miss installed
    /// (queued behind it), so packet-ins keep the packets' order.
    sync_upcalls: bool,
}

impl Io {
    fn tx_port(&mut self, port: u32) -> Option<&mut TxPort> {
        let inner = &self.inner;
        self.tx
            .entry(port)
            .or_insert_with(|| {
                let dev = inner.ports.read().ok()?.get(&port)?.netdev.clone();
                let q = dev.open_txq().ok()?;
                Some(TxPort {
                    q,
                    batch: PacketBatch::new(),
                })
            })
            .as_mut()
    }

    fn send(&mut self, port: u32) {
        if let Some(Some(tp)) = self.tx.get_mut(&port) {
            send_port(tp, &mut self.pool, &mut self.local);
        }
    }

    /// Sends every port's pending batch (no allocation: this runs after
    /// every received batch).
    fn flush(&mut self) {
        for tp in self.tx.values_mut().flatten() {
            send_port(tp, &mut self.pool, &mut self.local);
        }
    }
}

/// Sends `tp`'s pending batch, counting it in `local`.
fn send_port(tp: &mut TxPort, pool: &mut PacketPool, local: &mut PmdStats) {
    if tp.batch.is_empty() {
        return;
    }
    let n = tp.batch.len() as u64;
    match tp.q.send(&mut tp.batch, pool) {
        Ok(_) => {
            local.output_batches += 1;
            local.output_packets += n;
        }
        Err(_) => {
            local.drops[DropReason::TxError.index()] += n;
            pool.recycle(&mut tp.batch);
        }
    }
}

impl ExecEnv for Io {
    fn output(&mut self, port: u32, pkt: Packet) {
        let full = match self.tx_port(port) {
            Some(tp) => {
                if let Err(p) = tp.batch.push(pkt) {
                    // Cannot happen: a full batch is sent right away.
                    self.pool.put(p);
                    return;
                }
                tp.batch.is_full()
            }
            None => {
                self.local.drops[DropReason::InvalidPort.index()] += 1;
                self.pool.put(pkt);
                return;
            }
        };
        if full {
            self.send(port);
        }
    }

    fn alloc(&mut self) -> Option<Packet> {
        let p = self.pool.get();
        if p.is_none() {
            self.local.drops[DropReason::NoBuffers.index()] += 1;
        }
        p
    }

    fn free(&mut self, pkt: Packet) {
        self.pool.put(pkt);
    }

    fn recirculate(&mut self, pkt: Packet, flow: &Flow) {
        if self.depth + 1 > MAX_RECIRC_DEPTH {
            self.drop_packet(pkt, DropReason::RecircDepth);
            return;
        }
        self.recirc.push((pkt, *flow, self.depth + 1));
    }

    fn userspace(&mut self, pkt: &Packet, flow: &Flow, action: &Userspace) {
        if self.sync_upcalls {
            let handler = self.inner.handler.read().ok().and_then(|h| h.clone());
            if let Some(h) = handler {
                h.upcall(&Upcall {
                    flow: *flow,
                    packet: pkt.data().to_vec(),
                    in_port: flow.in_port,
                    kind: UpcallKind::Action(action.userdata.clone()),
                });
            } else {
                self.local.upcall_failed += 1;
            }
            return;
        }
        let up = QueuedUpcall {
            upcall: Upcall {
                flow: *flow,
                packet: pkt.data().to_vec(),
                in_port: flow.in_port,
                kind: UpcallKind::Action(action.userdata.clone()),
            },
            meta: pkt.meta,
        };
        if !self.inner.queue_upcall(up) {
            self.local.upcall_failed += 1;
        }
    }

    fn meter(&mut self, id: u32, len: usize) -> bool {
        let now = self.inner.now_ms();
        self.inner.meters.admit(id, len, now)
    }

    fn segment(&mut self, pkt: Packet) -> Vec<Packet> {
        let mut out = PacketBatch::with_capacity(128);
        let r = netdev::offload::segment(&pkt, &mut self.pool, &mut out);
        self.pool.put(pkt);
        if r.is_err() {
            self.local.drops[DropReason::Malformed.index()] += 1;
            self.pool.recycle(&mut out);
            return Vec::new();
        }
        let mut v = Vec::with_capacity(out.len());
        while let Some(p) = out.pop() {
            v.push(p);
        }
        v.reverse();
        v
    }

    fn tunnel_kind(&mut self, port: u32) -> Option<packet::tunnel::TunnelKind> {
        if let Some(k) = self.tunnel_kinds.get(&port) {
            return *k;
        }
        let k = self
            .inner
            .ports
            .read()
            .ok()
            .and_then(|ports| crate::vport::tunnel_kind(ports.get(&port)?.netdev.type_name()));
        self.tunnel_kinds.insert(port, k);
        k
    }

    fn drop_packet(&mut self, pkt: Packet, reason: DropReason) {
        self.local.drops[reason.index()] += 1;
        self.pool.put(pkt);
    }

    fn random(&mut self) -> u32 {
        // xorshift64*
        let mut x = self.rng;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.rng = x;
        (x.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 32) as u32
    }
}

/// Megaflow counters owed by a run of packets that hit the same megaflow:
/// credited once per run instead of once per packet (each credit is a few
/// atomic operations on memory the revalidator reads).
#[derive(Default)]
struct Credits {
    flow: Option<Arc<Megaflow>>,
    packets: u64,
    bytes: u64,
    tcp_flags: u16,
    now: u64,
}

impl Credits {
    /// Counts a packet of `len` bytes that hit `mf` at `now`.
    #[inline]
    fn add(&mut self, mf: &Arc<Megaflow>, len: usize, tcp_flags: u16, now: u64) {
        if !self.flow.as_ref().is_some_and(|f| Arc::ptr_eq(f, mf)) {
            self.settle();
            self.flow = Some(mf.clone());
            self.now = now;
        }
        self.packets += 1;
        self.bytes += len as u64;
        self.tcp_flags |= tcp_flags;
    }

    /// Credits what is owed to its megaflow.
    fn settle(&mut self) {
        if let Some(f) = self.flow.take() {
            f.credit(self.packets, self.bytes, self.tcp_flags, self.now);
        }
        self.packets = 0;
        self.bytes = 0;
        self.tcp_flags = 0;
    }
}

/// The forwarding state of one thread.
pub(crate) struct Forwarder {
    inner: Arc<Inner>,
    io: Io,
    emc: Emc,
    stats: Arc<ThreadStats>,
    /// On the handler thread misses are answered in place.
    is_handler: bool,
    ports_version: u64,
    now: u64,
    emc_inv_prob: u32,
    /// Misses met on the handler thread, with their recirculation depth.
    deferred: Vec<(QueuedUpcall, u8)>,
    credits: Credits,
}

impl Forwarder {
    pub fn new(
        inner: Arc<Inner>,
        stats: Arc<ThreadStats>,
        emc_entries: usize,
        is_handler: bool,
    ) -> Forwarder {
        Forwarder::with_pool(inner, stats, emc_entries, is_handler, POOL_PACKETS)
    }

    /// Like [`Forwarder::new`] with `pool_packets` buffers.
    pub fn with_pool(
        inner: Arc<Inner>,
        stats: Arc<ThreadStats>,
        emc_entries: usize,
        is_handler: bool,
        pool_packets: usize,
    ) -> Forwarder {
        let pool = PacketPool::with_default_size(pool_packets);
        let seed = inner.secret | 1;
        Forwarder {
            io: Io {
                inner: inner.clone(),
                pool,
                tx: HashMap::default(),
                tunnel_kinds: HashMap::default(),
                recirc: Vec::new(),
                depth: 0,
                local: PmdStats::default(),
                rng: seed,
                sync_upcalls: is_handler,
            },
            ports_version: inner.ports_version.load(Relaxed),
            emc: Emc::new(emc_entries),
            stats,
            is_handler,
            now: 0,
            deferred: Vec::new(),
            credits: Credits::default(),
            emc_inv_prob: inner
                .config
                .lock()
                .map(|c| c.emc_insert_inv_prob)
                .unwrap_or(100),
            inner,
        }
    }

    /// Drops transmit handles of ports that changed.
    fn refresh_ports(&mut self) {
        let v = self.inner.ports_version.load(Relaxed);
        if v != self.ports_version {
            self.io.flush();
            self.io.tx.clear();
            self.io.tunnel_kinds.clear();
            self.ports_version = v;
        }
    }

    /// Sends pending outputs and publishes counters.
    pub fn flush(&mut self) {
        self.io.flush();
        self.stats.publish(&self.io.local);
        self.io.local = PmdStats::default();
    }

    /// Forwards a received batch from `port_no`.
    pub fn process_batch(&mut self, port_no: u32, batch: &mut PacketBatch) {
        self.refresh_ports();
        self.now = self.inner.now_ms();
        self.io.local.packets_received += batch.len() as u64;
        let inner = self.inner.clone();
        let md = Metadata {
            in_port: port_no,
            ..Default::default()
        };
        {
            let table = match inner.table.read() {
                Ok(t) => t,
                Err(e) => e.into_inner(),
            };
            let mut slot: Option<InFlight> = None;
            // The packed key of each packet in turn (see
            // `pack_received_words`: zeroed once, only frame words written).
            let mut words: FlowWords = [0; FLOW_WORDS];
            for mut pkt in batch.drain() {
                if pkt.len() < ETH_HEADER_LEN {
                    // Upstream's datapath_drop_rx_invalid_packet.
                    self.io.drop_packet(pkt, DropReason::Malformed);
                    continue;
                }
                pkt.meta.in_port = port_no;
                let f = InFlight::new_in(&mut slot, pkt, &md);
                pack_received_words(&f.flow, &mut words);
                self.io.depth = 0;
                self.dispatch(&table, &mut slot, Some(&words));
            }
            self.credits.settle();
        }
        self.run_recirc();
        self.flush();
    }

    /// Looks the packet in `slot` up and executes what it hit (or makes it
    /// an upcall); `slot` is left empty. `words`: its key already packed
    /// (received packets), else packed here.
    fn dispatch(
        &mut self,
        table: &FlowTable,
        slot: &mut Option<InFlight>,
        words: Option<&FlowWords>,
    ) {
        let Some(f) = slot.as_ref() else { return };
        let packed;
        let w = match words {
            Some(w) => w,
            None => {
                packed = flow_words(&f.flow);
                &packed
            }
        };
        let h = Emc::hash(w);
        if let Some(mf) = self.emc.lookup(w, h, words.is_some()) {
            self.io.local.emc_hits += 1;
            self.credits
                .add(mf, f.pkt.len(), f.flow.tcp_flags, self.now);
            execute_slot(&mut self.io, slot, &mf.actions);
            return;
        }
        let (m, n) = table.lookup_words(w);
        let Some(mf) = m else {
            if let Some(f) = slot.take() {
                self.miss(f);
            }
            return;
        };
        self.io.local.megaflow_hits += 1;
        self.io.local.subtable_lookups += n as u64;
        let p = self.emc_inv_prob;
        if p == 1 || (p > 1 && self.io.random().is_multiple_of(p)) {
            self.emc.insert(w, h, mf);
        }
        self.credits
            .add(mf, f.pkt.len(), f.flow.tcp_flags, self.now);
        execute_slot(&mut self.io, slot, &mf.actions);
    }

    fn miss(&mut self, f: InFlight) {
        let up = QueuedUpcall {
            upcall: Upcall {
                flow: f.flow,
                packet: f.pkt.data().to_vec(),
                in_port: f.flow.in_port,
                kind: UpcallKind::Miss,
            },
            meta: f.pkt.meta,
        };
        if self.is_handler {
            // Answered once the classifier's read lock is let go (the
            // answer may install a flow).
            self.io.local.upcall_ok += 1;
            self.io.pool.put(f.pkt);
            self.deferred.push((up, self.io.depth));
            return;
        }
        if self.inner.queue_upcall(up) {
            self.io.local.upcall_ok += 1;
        } else {
            self.io.local.upcall_failed += 1;
            self.io.local.drops[DropReason::UpcallLost.index()] += 1;
        }
        self.io.pool.put(f.pkt);
    }

    fn run_recirc(&mut self) {
        let inner = self.inner.clone();
        loop {
            if let Some((pkt, flow, depth)) = self.io.recirc.pop() {
                self.io.local.recirculations += 1;
                self.io.depth = depth;
                let mut slot = None;
                InFlight::new_in(&mut slot, pkt, &metadata_of(&flow));
                let table = match inner.table.read() {
                    Ok(t) => t,
                    Err(e) => e.into_inner(),
                };
                self.dispatch(&table, &mut slot, None);
                self.credits.settle();
            } else if let Some((q, depth)) = self.deferred.pop() {
                self.io.depth = depth;
                self.answer_upcall(q);
            } else {
                break;
            }
        }
        self.io.depth = 0;
    }

    /// Answers an upcall (handler thread), then whatever it recirculates.
    pub fn handle_upcall(&mut self, q: QueuedUpcall) {
        self.io.depth = 0;
        self.answer_upcall(q);
        self.run_recirc();
    }

    /// Calls the handler, installs its reply, executes it on the packet.
    fn answer_upcall(&mut self, q: QueuedUpcall) {
        self.refresh_ports();
        self.now = self.inner.now_ms();
        let handler = self.inner.handler.read().ok().and_then(|h| h.clone());
        let Some(handler) = handler else {
            if q.upcall.kind == UpcallKind::Miss {
                self.io.local.upcall_failed += 1;
                self.io.local.drops[DropReason::UpcallLost.index()] += 1;
            }
            return;
        };
        let reply = handler.upcall(&q.upcall);
        if q.upcall.kind != UpcallKind::Miss {
            return;
        }
        if reply.install
            && !self
                .inner
                .install(&q.upcall.flow, &reply.mask, &reply.actions)
        {
            self.io.local.drops[DropReason::FlowLimit.index()] += 1;
        }
        let Some(mut pkt) = self.io.pool.get() else {
            self.io.local.drops[DropReason::NoBuffers.index()] += 1;
            return;
        };
        if pkt.copy_from(&q.upcall.packet).is_err() {
            self.io.local.drops[DropReason::Malformed.index()] += 1;
            self.io.pool.put(pkt);
            return;
        }
        pkt.meta = q.meta;
        let f = InFlight::new(pkt, &metadata_of(&q.upcall.flow));
        execute(&mut self.io, f, &reply.actions);
    }

    /// Executes `actions` on `frame` with `flow`'s metadata (packet-out).
    pub fn execute_frame(&mut self, frame: &[u8], flow: &Flow, actions: &[OdpAction]) {
        self.refresh_ports();
        self.now = self.inner.now_ms();
        let Some(mut pkt) = self.io.pool.get() else {
            return;
        };
        if pkt.copy_from(frame).is_err() {
            self.io.pool.put(pkt);
            return;
        }
        pkt.meta.in_port = flow.in_port;
        let f = InFlight::new(pkt, &metadata_of(flow));
        execute(&mut self.io, f, actions);
        self.run_recirc();
    }
}

fn pin_to_cpu(cpu: usize) {
    // SAFETY: a zeroed cpu_set_t is valid; CPU_SET writes inside it.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        if cpu < libc::CPU_SETSIZE as usize {
            libc::CPU_SET(cpu, &mut set);
            let r = libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set);
            if r != 0 {
                vlog::warn!("dpif_netdev", "could not pin pmd thread to core {}", cpu);
            }
        }
    }
}

/// The poll set of a forwarding thread's receive queues, made once (an
/// idle thread waits on it often; no allocation per wait).
fn poll_set(fds: &[RawFd]) -> Vec<libc::pollfd> {
    fds.iter()
        .map(|fd| libc::pollfd {
            fd: *fd,
            events: libc::POLLIN,
            revents: 0,
        })
        .collect()
}

/// Waits until one of `set` is readable or `ms` pass.
fn wait_readable(set: &mut [libc::pollfd], ms: i32) {
    for p in set.iter_mut() {
        p.revents = 0;
    }
    // SAFETY: `set` is a live array of pollfd of the given length.
    unsafe {
        libc::poll(set.as_mut_ptr(), set.len() as libc::nfds_t, ms);
    }
}

/// Largest frame on an Ethernet wire of the usual MTU (with a VLAN tag).
const WIRE_FRAME: usize = 1518;

/// How many wire-size frames `batch` stands for: a super-frame counts as
/// the segments it carries, so a pass that moved a few 64 KiB super-frames
/// is a busy pass for [`Pacer`], as the same bytes in wire-size frames
/// would be.
fn wire_frames(batch: &PacketBatch) -> usize {
    batch
        .iter()
        .map(|p| p.len().div_ceil(WIRE_FRAME).max(1))
        .sum()
}

/// Upper bound of [`crate::PmdConfig::max_sleep_us`] (upstream's limit
/// for `pmd-maxsleep`).
pub const MAX_SLEEP_US: u32 = 10_000;

/// Step by which the pause after a light pass grows.
const SLEEP_STEP_US: u32 = 10;

/// Load-based pausing between passes (upstream's `pmd-maxsleep`): a pass in
/// which no queue gave at least half a batch (counted in wire-size frames:
/// see [`wire_frames`]) lengthens the pause by a step, up to `max`; a
/// busier pass ends pausing.
#[derive(Debug, Default)]
pub(crate) struct Pacer {
    max: u32,
    cur: u32,
}

impl Pacer {
    pub fn new(max_us: u32) -> Pacer {
        Pacer {
            max: max_us.min(MAX_SLEEP_US),
            cur: 0,
        }
    }

    /// Changes the longest pause (`pmd-maxsleep` applied live).
    pub fn set_max(&mut self, max_us: u32) {
        self.max = max_us.min(MAX_SLEEP_US);
        self.cur = self.cur.min(self.max);
    }

    /// The pause to take after a pass whose busiest queue gave `most`
    /// packets, in microseconds (0: go on at once).
    pub fn after_pass(&mut self, most: usize) -> u32 {
        if self.max == 0 || most >= packet::buffer::BATCH_SIZE / 2 {
            self.cur = 0;
        } else {
            self.cur = (self.cur + SLEEP_STEP_US).min(self.max);
        }
        self.cur
    }

    /// An idle thread waits on its descriptors; pausing starts over.
    pub fn idle(&mut self) {
        self.cur = 0;
    }
}

fn sleep_us(us: u32) {
    let ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: us as libc::c_long * 1000,
    };
    // SAFETY: plain system call with a valid timespec; an interrupted
    // sleep is simply shorter.
    unsafe {
        libc::nanosleep(&ts, std::ptr::null_mut());
    }
}

/// A forwarding thread: polls its receive queues until told to stop.
pub(crate) fn pmd_main(
    inner: Arc<Inner>,
    mut rxqs: Vec<RxAssignment>,
    stop: Arc<AtomicBool>,
    cpu: Option<usize>,
    emc_entries: usize,
    max_sleep_us: u32,
    idle_spin_us: u32,
) {
    if let Some(c) = cpu {
        pin_to_cpu(c);
    }
    let stats = inner.register_stats();
    inner.register_pmd(stats.clone());
    let mut fwd = Forwarder::new(inner, stats.clone(), emc_entries, false);
    let mut batch = PacketBatch::new();
    let fds: Vec<RawFd> = rxqs.iter().map(|r| r.rxq.wait_fd()).collect();
    let mut poll_fds = poll_set(&fds);
    let mut pacer = Pacer::new(max_sleep_us);
    let spin = std::time::Duration::from_micros(idle_spin_us as u64);
    let mut dry_since: Option<std::time::Instant> = None;
    while !stop.load(Relaxed) {
        pacer.set_max(fwd.inner.max_sleep_us.load(Relaxed));
        let mut got = 0;
        let mut most = 0;
        for r in rxqs.iter_mut() {
            match r.rxq.recv(&mut fwd.io.pool, &mut batch) {
                Ok(n) if n > 0 => {
                    got += n;
                    most = most.max(wire_frames(&batch));
                    fwd.process_batch(r.port_no, &mut batch);
                }
                Ok(_) => {}
                Err(_) => fwd.io.pool.recycle(&mut batch),
            }
        }
        stats.pass_done();
        if got == 0 {
            pacer.idle();
            if !spin.is_zero() {
                let since = *dry_since.get_or_insert_with(std::time::Instant::now);
                if since.elapsed() < spin {
                    std::hint::spin_loop();
                    continue;
                }
            }
            dry_since = None;
            fwd.refresh_ports();
            wait_readable(&mut poll_fds, 50);
        } else {
            dry_since = None;
            let us = pacer.after_pass(most);
            if us > 0 {
                sleep_us(us);
            }
        }
    }
    fwd.flush();
    fwd.inner.unregister_pmd(&stats);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pacer_grows_on_light_passes_and_resets_when_busy() {
        let mut p = Pacer::new(25);
        assert_eq!(p.after_pass(1), 10);
        assert_eq!(p.after_pass(1), 20);
        assert_eq!(p.after_pass(3), 25);
        assert_eq!(p.after_pass(3), 25);
        assert_eq!(p.after_pass(packet::buffer::BATCH_SIZE), 0);
        assert_eq!(p.after_pass(1), 10);
        p.idle();
        assert_eq!(p.after_pass(1), 10);
        let mut off = Pacer::new(0);
        assert_eq!(off.after_pass(1), 0);
        assert_eq!(Pacer::new(1_000_000).max, MAX_SLEEP_US);
    }

    #[test]
    fn credits_reach_each_megaflow_once_settled() {
        use flow::odp::Ufid;
        let mf = |u| {
            Arc::new(Megaflow::new(
                Ufid(u),
                &Flow::default(),
                &Flow::default(),
                Arc::from(vec![]),
            ))
        };
        let (a, b) = (mf(1), mf(2));
        let mut c = Credits::default();
        c.add(&a, 60, 0x02, 5);
        c.add(&a, 40, 0x10, 5);
        assert_eq!(a.stats().n_packets, 0, "owed until the run ends");
        c.add(&b, 100, 0, 6);
        assert_eq!(
            (a.stats().n_packets, a.stats().n_bytes, a.stats().tcp_flags),
            (2, 100, 0x12)
        );
        assert_eq!(a.stats().used, 5);
        c.add(&a, 1, 0, 7);
        c.settle();
        c.settle();
        assert_eq!((b.stats().n_packets, b.stats().n_bytes), (1, 100));
        assert_eq!((a.stats().n_packets, a.stats().used), (3, 7));
    }

    #[test]
    fn super_frames_count_as_the_wire_frames_they_carry() {
        let mut b = PacketBatch::new();
        assert_eq!(wire_frames(&b), 0);
        for len in [60, 1514, 1518] {
            let _ = b.push(packet::buffer::Packet::from_frame(&vec![0u8; len]));
        }
        assert_eq!(wire_frames(&b), 3);
        let _ = b.push(packet::buffer::Packet::from_frame(&vec![0u8; 65_000]));
        assert_eq!(wire_frames(&b), 3 + 43);
        // Two super-frames make a busy pass; two small frames do not.
        let mut p = Pacer::new(20);
        assert_eq!(p.after_pass(wire_frames(&b)), 0);
        let mut small = PacketBatch::new();
        for _ in 0..2 {
            let _ = small.push(packet::buffer::Packet::from_frame(&[0u8; 60]));
        }
        assert_eq!(p.after_pass(wire_frames(&small)), 10);
    }
}
