//! `DpifNetdev`: the userspace datapath (upstream's dpif-netdev) — ports,
//! forwarding threads, the upcall handler thread, flow installation.
//! The per-packet work is in [`crate::pmd`].

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex, RwLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use flow::odp::actions::OdpAction;
use flow::odp::Ufid;
use netdev::Netdev;
use packet::flow::Flow;

use crate::dpif::{
    DpPort, DpStats, Dpif, DpifError, DpifFlow, PmdConfig, PmdStats, PutMode, Upcall, UpcallHandler,
};
use crate::megaflow::{make_ufid, FlowTable, Megaflow};
use crate::pmd::{self, ThreadStats};

/// A port of the datapath.
pub(crate) struct Port {
    pub port_no: u32,
    pub netdev: Arc<dyn Netdev>,
    pub config: Mutex<Vec<(String, String)>>,
}

/// An upcall waiting for the handler thread.
pub(crate) struct QueuedUpcall {
    pub upcall: Upcall,
    /// Offload state of the packet, to restore when executing.
    pub meta: packet::buffer::PacketMeta,
}

/// State shared by the datapath object and its threads.
pub(crate) struct Inner {
    pub type_name: String,
    pub name: String,
    pub ports: RwLock<BTreeMap<u32, Arc<Port>>>,
    /// Bumped on every port change; threads refresh their transmit handles.
    pub ports_version: AtomicU64,
    pub table: RwLock<FlowTable>,
    pub handler: RwLock<Option<Arc<dyn UpcallHandler>>>,
    pub upcall_tx: Mutex<Option<SyncSender<QueuedUpcall>>>,
    pub config: Mutex<PmdConfig>,
    pub stats: Mutex<Vec<Arc<ThreadStats>>>,
    pub secret: u64,
    pub epoch: Instant,
    pub meters: crate::meter::Meters,
    /// The forwarding threads' longest pause (`pmd-maxsleep`), read live.
    pub max_sleep_us: std::sync::atomic::AtomicU32,
    /// What `other_config` last set (see [`crate::dp_config`]).
    pub other_config: Mutex<Option<crate::dp_config::Applied>>,
    /// The running forwarding threads' counters (their polling passes).
    pub pmds: Mutex<Vec<Arc<ThreadStats>>>,
    /// Upcalls queued to the handler thread, and answered by it.
    pub upcalls_queued: AtomicU64,
    pub upcalls_done: AtomicU64,
}

/// A process-wide clock for every datapath (ms), set by the daemon so
/// that `used` ages and idle expiry follow its `time/stop`/`time/warp`.
type ClockSource = Box<dyn Fn() -> u64 + Send + Sync>;
static CLOCK: std::sync::OnceLock<ClockSource> = std::sync::OnceLock::new();

/// Makes every datapath read `clock` (monotonic ms) from now on; only the
/// first call counts.
pub fn set_clock(clock: ClockSource) {
    let _ = CLOCK.set(clock);
}

impl Inner {
    /// Monotonic milliseconds (never 0): the daemon's clock when it set
    /// one, else since the datapath started.
    pub fn now_ms(&self) -> u64 {
        match CLOCK.get() {
            Some(c) => c().saturating_add(1),
            None => self.epoch.elapsed().as_millis() as u64 + 1,
        }
    }

    pub fn register_stats(&self) -> Arc<ThreadStats> {
        let s = Arc::new(ThreadStats::default());
        if let Ok(mut v) = self.stats.lock() {
            v.push(s.clone());
        }
        s
    }

    /// Lists a forwarding thread while it runs (see [`DpifNetdev::settle`]).
    pub fn register_pmd(&self, s: Arc<ThreadStats>) {
        if let Ok(mut v) = self.pmds.lock() {
            v.push(s);
        }
    }

    /// Takes a stopping forwarding thread off the list.
    pub fn unregister_pmd(&self, s: &Arc<ThreadStats>) {
        if let Ok(mut v) = self.pmds.lock() {
            v.retain(|p| !Arc::ptr_eq(p, s));
        }
    }

    /// Queues an upcall; false when it could not be (counted as lost by
    /// the caller).
    pub fn queue_upcall(&self, up: QueuedUpcall) -> bool {
        let tx = match self.upcall_tx.lock() {
            Ok(g) => g.clone(),
            Err(_) => None,
        };
        let Some(tx) = tx else { return false };
        // Counted before it can be answered.
        self.upcalls_queued.fetch_add(1, Relaxed);
        match tx.try_send(up) {
            Ok(()) => true,
            Err(TrySendError::Full(_)) | Err(TrySendError::Disconnected(_)) => {
                self.upcalls_queued.fetch_sub(1, Relaxed);
                false
            }
        }
    }

    /// Installs a megaflow from an upcall reply (in_port and recirc_id are
    /// made exact). Returns false if the flow limit stopped it.
    pub fn install(&self, key: &Flow, mask: &Flow, actions: &[OdpAction]) -> bool {
        let mut m = *mask;
        m.in_port = u32::MAX;
        m.recirc_id = u32::MAX;
        let m = flow::odp::normalize_mask(&vlan_presence_exact(&m), key);
        let limit = self
            .config
            .lock()
            .map(|c| c.flow_limit)
            .unwrap_or(usize::MAX);
        // Made before the table is locked: forwarding threads wait only
        // for the insertion.
        let ufid = make_ufid(&key.and(&m), &m, self.secret);
        let mut mf = Megaflow::new(ufid, key, &m, Arc::from(actions.to_vec()));
        mf.created = self.now_ms();
        let Ok(mut t) = self.table.write() else {
            return false;
        };
        if t.len() >= limit {
            return false;
        }
        if t.lookup(key).0.is_some() {
            return true;
        }
        t.insert(mf);
        true
    }
}

/// `mask` with the outer VLAN header's VID and CFI made exact when it
/// leaves the whole TCI wildcarded, as upstream's userspace datapath does
/// on every flow it installs: datapath keys cannot say "any VLAN or
/// none", so a flow either matches the absence of a tag or the tag's VID
/// (`vlan(vid=10)` in dumps even when translation never looked at it).
pub fn vlan_presence_exact(mask: &Flow) -> Flow {
    let mut m = *mask;
    if m.vlans[0].tci == 0 {
        m.vlans[0].tci = 0x0fff | packet::extract::VLAN_CFI;
    }
    m
}

struct Threads {
    stop: Arc<AtomicBool>,
    pmds: Vec<JoinHandle<()>>,
}

/// The userspace datapath. See [`crate::dpif`] for the contract.
pub struct DpifNetdev {
    pub(crate) inner: Arc<Inner>,
    threads: Mutex<Threads>,
    handler_stop: Arc<AtomicBool>,
    handler_thread: Mutex<Option<JoinHandle<()>>>,
    exec_fwd: Mutex<Option<pmd::Forwarder>>,
}

/// Packet buffers of the packet-out forwarder.
const EXEC_POOL_PACKETS: usize = 32;

fn random_secret() -> u64 {
    let mut b = [0u8; 8];
    if let Ok(mut f) = std::fs::File::open("/dev/urandom") {
        use std::io::Read;
        let _ = f.read_exact(&mut b);
    }
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    u64::from_le_bytes(b) ^ t
}

impl DpifNetdev {
    /// Waits (at most `timeout`) until frames given to the datapath have
    /// been forwarded: `pending` (frames still waiting in a port, e.g. a
    /// dummy's injected ones) turns false, every forwarding thread finishes
    /// the pass that may have taken them, and the handler thread has
    /// answered every upcall queued so far (flows installed, packet-ins
    /// sent). `netdev-dummy/receive` answers after this, so that the next
    /// command sees the packets' effects, as upstream's single main loop
    /// guarantees for its dummy ports. False on timeout.
    pub fn settle(&self, timeout: Duration, pending: impl Fn() -> bool) -> bool {
        let deadline = Instant::now() + timeout;
        let until = |done: &dyn Fn() -> bool| loop {
            if done() {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_micros(500));
        };
        if !until(&|| !pending()) {
            return false;
        }
        let pmds: Vec<(Arc<ThreadStats>, u64)> = match self.inner.pmds.lock() {
            Ok(v) => v.iter().map(|p| (p.clone(), p.passes())).collect(),
            Err(_) => Vec::new(),
        };
        let running = |p: &Arc<ThreadStats>| {
            self.inner
                .pmds
                .lock()
                .map(|v| v.iter().any(|q| Arc::ptr_eq(p, q)))
                .unwrap_or(false)
        };
        if !until(&|| pmds.iter().all(|(p, n)| p.passes() > *n || !running(p))) {
            return false;
        }
        until(&|| self.inner.upcalls_done.load(Relaxed) >= self.inner.upcalls_queued.load(Relaxed))
    }

    /// Creates datapath `name` of `type_name` (`netdev` or `dummy`, or
    /// `system` for a dummy datapath standing in for the kernel one as
    /// under upstream's `--enable-dummy=override`) with its local port 0
    /// (a dummy-internal device unless the caller gives `local`).
    pub fn create(
        type_name: &str,
        name: &str,
        local: Option<Arc<dyn Netdev>>,
        config: PmdConfig,
    ) -> Result<DpifNetdev, DpifError> {
        if !matches!(type_name, "netdev" | "dummy" | "system") {
            return Err(DpifError::Invalid);
        }
        let (tx, rx) = sync_channel(config.upcall_queue.max(1));
        let max_sleep_us = config.max_sleep_us.min(pmd::MAX_SLEEP_US);
        let inner = Arc::new(Inner {
            type_name: type_name.to_string(),
            name: name.to_string(),
            ports: RwLock::new(BTreeMap::new()),
            ports_version: AtomicU64::new(0),
            table: RwLock::new(FlowTable::default()),
            handler: RwLock::new(None),
            upcall_tx: Mutex::new(Some(tx)),
            config: Mutex::new(config),
            stats: Mutex::new(Vec::new()),
            secret: random_secret(),
            epoch: Instant::now(),
            meters: crate::meter::Meters::default(),
            max_sleep_us: std::sync::atomic::AtomicU32::new(max_sleep_us),
            other_config: Mutex::new(None),
            pmds: Mutex::new(Vec::new()),
            upcalls_queued: AtomicU64::new(0),
            upcalls_done: AtomicU64::new(0),
        });
        let handler_stop = Arc::new(AtomicBool::new(false));
        let h = {
            let inner = inner.clone();
            let stop = handler_stop.clone();
            std::thread::Builder::new()
                .name("handler".into())
                .spawn(move || handler_main(inner, rx, stop))
                .map_err(|e| DpifError::Netdev(e.to_string()))?
        };
        let dp = DpifNetdev {
            inner,
            threads: Mutex::new(Threads {
                stop: Arc::new(AtomicBool::new(false)),
                pmds: Vec::new(),
            }),
            handler_stop,
            handler_thread: Mutex::new(Some(h)),
            exec_fwd: Mutex::new(None),
        };
        let local: Arc<dyn Netdev> = match local {
            Some(l) => l,
            None => netdev::dummy::Dummy::open(name, "dummy-internal")
                .map_err(|e| DpifError::Netdev(e.to_string()))?,
        };
        dp.port_add(local, Some(0))?;
        Ok(dp)
    }

    /// Datapath-wide name shown by `dpctl/show` (`dummy@ovs-dummy`).
    pub fn full_name(&self) -> String {
        format!("{}@{}", self.inner.type_name, self.inner.name)
    }

    /// Milliseconds of the datapath's clock (what `used` counts in).
    pub fn now_ms(&self) -> u64 {
        self.inner.now_ms()
    }

    /// Stops the forwarding threads and starts them again with the current
    /// ports and configuration.
    fn reload(&self) {
        let Ok(mut th) = self.threads.lock() else {
            return;
        };
        th.stop.store(true, Relaxed);
        for h in th.pmds.drain(..) {
            let _ = h.join();
        }
        th.stop = Arc::new(AtomicBool::new(false));
        let config = self
            .inner
            .config
            .lock()
            .map(|c| c.clone())
            .unwrap_or_default();
        let n = config.n_pmd.max(1);
        let mut assign: Vec<Vec<pmd::RxAssignment>> = (0..n).map(|_| Vec::new()).collect();
        let mut i = 0;
        let ports: Vec<Arc<Port>> = self
            .inner
            .ports
            .read()
            .map(|p| p.values().cloned().collect())
            .unwrap_or_default();
        for port in ports {
            for q in 0..port.netdev.n_rxq() {
                match port.netdev.open_rxq(q) {
                    Ok(rxq) => {
                        assign[i % n].push(pmd::RxAssignment {
                            port_no: port.port_no,
                            rxq,
                        });
                        i += 1;
                    }
                    Err(e) => vlog::warn!(
                        "dpif_netdev",
                        "{}: rxq {} open failed ({})",
                        port.netdev.name(),
                        q,
                        e
                    ),
                }
            }
        }
        for (idx, rxqs) in assign.into_iter().enumerate() {
            let inner = self.inner.clone();
            let stop = th.stop.clone();
            let cpu = config.cpus.get(idx).copied();
            let emc = config.emc_entries;
            let sleep = config.max_sleep_us.min(pmd::MAX_SLEEP_US);
            let spin = config.idle_spin_us.min(pmd::MAX_SLEEP_US);
            match std::thread::Builder::new()
                .name(format!("pmd-c{:02}/id:{}", cpu.unwrap_or(idx), idx))
                .spawn(move || pmd::pmd_main(inner, rxqs, stop, cpu, emc, sleep, spin))
            {
                Ok(h) => th.pmds.push(h),
                Err(e) => vlog::err!("dpif_netdev", "could not start pmd thread ({})", e),
            }
        }
    }

    fn lookup_port_by_name(&self, name: &str) -> Option<u32> {
        self.inner
            .ports
            .read()
            .ok()?
            .values()
            .find(|p| p.netdev.name() == name)
            .map(|p| p.port_no)
    }

    /// The megaflow a packet with `key` would hit.
    pub fn lookup_flow(&self, key: &Flow) -> Option<DpifFlow> {
        let t = self.inner.table.read().ok()?;
        t.lookup(key).0.map(|m| m.to_dpif())
    }

    /// The number of the port named `name`.
    pub fn port_by_name(&self, name: &str) -> Option<u32> {
        self.lookup_port_by_name(name)
    }

    /// Port number to name, for `-m` dumps and `--names`.
    pub fn port_name(&self, port_no: u32) -> Option<String> {
        self.inner
            .ports
            .read()
            .ok()?
            .get(&port_no)
            .map(|p| p.netdev.name().to_string())
    }

    /// The number of forwarding threads running.
    pub fn n_pmd_threads(&self) -> usize {
        self.threads.lock().map(|t| t.pmds.len()).unwrap_or(0)
    }

    /// Changes how many megaflows upcalls may install and how long idle
    /// ones live, without restarting the forwarding threads (the
    /// revalidator tunes these; `max_idle: None` leaves expiry to it).
    pub fn set_flow_tuning(&self, flow_limit: usize, max_idle_ms: Option<u64>) {
        if let Ok(mut c) = self.inner.config.lock() {
            c.flow_limit = flow_limit;
            c.max_idle_ms = max_idle_ms;
        }
    }

    /// Replaces the actions of the megaflow `ufid`, keeping its key, mask
    /// and statistics (the revalidator's modify).
    pub fn flow_set_actions(&self, ufid: &Ufid, actions: Vec<OdpAction>) -> Result<(), DpifError> {
        let mut t = self.inner.table.write().map_err(|_| DpifError::Invalid)?;
        let old = t.find_ufid(ufid).cloned().ok_or(DpifError::NotFound)?;
        let mut mf = Megaflow::new(old.ufid, &old.flow, &old.mask, Arc::from(actions));
        mf.created = old.created;
        t.remove(&old.ufid);
        // Packets credited to the old entry up to here move along.
        let st = old.stats();
        mf.credit(st.n_packets, st.n_bytes, st.tcp_flags, st.used);
        t.insert(mf);
        Ok(())
    }
}

impl Drop for DpifNetdev {
    fn drop(&mut self) {
        if let Ok(mut f) = self.exec_fwd.lock() {
            *f = None;
        }
        if let Ok(mut th) = self.threads.lock() {
            th.stop.store(true, Relaxed);
            for h in th.pmds.drain(..) {
                let _ = h.join();
            }
        }
        self.handler_stop.store(true, Relaxed);
        if let Ok(mut tx) = self.inner.upcall_tx.lock() {
            *tx = None;
        }
        if let Ok(mut h) = self.handler_thread.lock() {
            if let Some(h) = h.take() {
                let _ = h.join();
            }
        }
        if let Ok(mut t) = self.inner.table.write() {
            t.clear();
        }
        if let Ok(mut p) = self.inner.ports.write() {
            p.clear();
        }
    }
}

fn handler_main(inner: Arc<Inner>, rx: Receiver<QueuedUpcall>, stop: Arc<AtomicBool>) {
    let stats = inner.register_stats();
    let mut fwd = pmd::Forwarder::new(inner.clone(), stats, 0, true);
    let mut next_sweep = 0;
    while !stop.load(Relaxed) {
        let now = inner.now_ms();
        if now >= next_sweep {
            next_sweep = now + 500;
            let max_idle = inner.config.lock().ok().and_then(|c| c.max_idle_ms);
            if let Some(idle) = max_idle {
                // Scanned under the read lock: forwarding threads wait
                // for the removals only, not for a walk of every flow.
                let old = match inner.table.read() {
                    Ok(t) => t.idle_flows(now, idle),
                    Err(_) => Vec::new(),
                };
                if !old.is_empty() {
                    if let Ok(mut t) = inner.table.write() {
                        t.remove_idle(&old, now, idle);
                    }
                }
            }
        }
        match rx.recv_timeout(Duration::from_millis(100)) {
            Ok(q) => {
                fwd.handle_upcall(q);
                fwd.flush();
                inner.upcalls_done.fetch_add(1, Relaxed);
            }
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
        }
        fwd.flush();
    }
}

impl Dpif for DpifNetdev {
    fn type_name(&self) -> &str {
        &self.inner.type_name
    }

    fn name(&self) -> &str {
        &self.inner.name
    }

    fn port_add(&self, netdev: Arc<dyn Netdev>, requested: Option<u32>) -> Result<u32, DpifError> {
        {
            let mut ports = self.inner.ports.write().map_err(|_| DpifError::Invalid)?;
            if ports.values().any(|p| p.netdev.name() == netdev.name()) {
                return Err(DpifError::PortExists);
            }
            let port_no = match requested {
                Some(n) if n != flow::odp::ODPP_NONE => {
                    if ports.contains_key(&n) {
                        return Err(DpifError::PortExists);
                    }
                    n
                }
                _ => (1..u32::MAX)
                    .find(|n| !ports.contains_key(n))
                    .ok_or(DpifError::TooBig)?,
            };
            ports.insert(
                port_no,
                Arc::new(Port {
                    port_no,
                    netdev,
                    config: Mutex::new(Vec::new()),
                }),
            );
            self.inner.ports_version.fetch_add(1, Relaxed);
            drop(ports);
            self.reload();
            Ok(port_no)
        }
    }

    fn port_del(&self, port_no: u32) -> Result<(), DpifError> {
        let removed = {
            let mut ports = self.inner.ports.write().map_err(|_| DpifError::Invalid)?;
            ports.remove(&port_no).ok_or(DpifError::NotFound)?
        };
        self.inner.ports_version.fetch_add(1, Relaxed);
        // Threads drop their queues of the port before the device goes.
        self.reload();
        drop(removed);
        Ok(())
    }

    fn ports(&self) -> Vec<DpPort> {
        self.inner
            .ports
            .read()
            .map(|p| {
                p.values()
                    .map(|p| DpPort {
                        port_no: p.port_no,
                        name: p.netdev.name().to_string(),
                        type_name: p.netdev.type_name().to_string(),
                        config: p.config.lock().map(|c| c.clone()).unwrap_or_default(),
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    fn port_set_config(&self, port_no: u32, config: Vec<(String, String)>) {
        if let Ok(p) = self.inner.ports.read() {
            if let Some(p) = p.get(&port_no) {
                if let Ok(mut c) = p.config.lock() {
                    *c = config;
                }
            }
        }
    }

    fn port_netdev(&self, port_no: u32) -> Option<Arc<dyn Netdev>> {
        self.inner
            .ports
            .read()
            .ok()?
            .get(&port_no)
            .map(|p| p.netdev.clone())
    }

    fn set_upcall_handler(&self, handler: Arc<dyn UpcallHandler>) {
        if let Ok(mut h) = self.inner.handler.write() {
            *h = Some(handler);
        }
    }

    fn flow_put(
        &self,
        key: &Flow,
        mask: &Flow,
        actions: Vec<OdpAction>,
        ufid: Option<Ufid>,
        mode: PutMode,
    ) -> Result<Ufid, DpifError> {
        if mask.in_port != u32::MAX {
            return Err(DpifError::Invalid);
        }
        let mask = &flow::odp::normalize_mask(&vlan_presence_exact(mask), key);
        let mut t = self.inner.table.write().map_err(|_| DpifError::Invalid)?;
        // As upstream: the flow a packet with this key would hit is "the"
        // existing flow, whatever its mask.
        let existing = t.lookup(key).0.cloned();
        match (existing, mode) {
            (Some(_), PutMode::Create) => Err(DpifError::Exists),
            (None, PutMode::Modify) => Err(DpifError::NotFound),
            (Some(old), _) => {
                let mut mf = Megaflow::new(old.ufid, &old.flow, &old.mask, Arc::from(actions));
                mf.created = old.created;
                let st = old.stats();
                mf.credit(st.n_packets, st.n_bytes, st.tcp_flags, st.used);
                t.remove(&old.ufid);
                t.insert(mf);
                Ok(old.ufid)
            }
            (None, _) => {
                let limit = self
                    .inner
                    .config
                    .lock()
                    .map(|c| c.flow_limit)
                    .unwrap_or(usize::MAX);
                if t.len() >= limit {
                    return Err(DpifError::TooBig);
                }
                let u = ufid.unwrap_or_else(|| make_ufid(&key.and(mask), mask, self.inner.secret));
                let mut mf = Megaflow::new(u, key, mask, Arc::from(actions));
                mf.created = self.inner.now_ms();
                if !t.insert(mf) {
                    return Err(DpifError::Exists);
                }
                Ok(u)
            }
        }
    }

    fn flow_del(
        &self,
        key: Option<(&Flow, &Flow)>,
        ufid: Option<Ufid>,
    ) -> Result<DpifFlow, DpifError> {
        let mut t = self.inner.table.write().map_err(|_| DpifError::Invalid)?;
        let u = match (ufid, key) {
            (Some(u), _) => u,
            (None, Some((k, m))) => t.find_exact(k, m).ok_or(DpifError::NotFound)?.ufid,
            (None, None) => return Err(DpifError::Invalid),
        };
        t.remove(&u).map(|m| m.to_dpif()).ok_or(DpifError::NotFound)
    }

    fn flow_dump(&self) -> Vec<DpifFlow> {
        self.inner
            .table
            .read()
            .map(|t| t.flows().iter().map(|m| m.to_dpif()).collect())
            .unwrap_or_default()
    }

    fn flow_flush(&self) {
        if let Ok(mut t) = self.inner.table.write() {
            t.clear();
        }
    }

    fn execute(&self, frame: &[u8], flow: &Flow, actions: &[OdpAction]) -> Result<(), DpifError> {
        // One forwarder (small pool, own counters) serves every packet-out,
        // one at a time.
        let mut guard = self.exec_fwd.lock().map_err(|_| DpifError::Invalid)?;
        let fwd = guard.get_or_insert_with(|| {
            let stats = self.inner.register_stats();
            pmd::Forwarder::with_pool(self.inner.clone(), stats, 0, true, EXEC_POOL_PACKETS)
        });
        fwd.execute_frame(frame, flow, actions);
        fwd.flush();
        Ok(())
    }

    fn stats(&self) -> DpStats {
        let s = self.pmd_stats();
        DpStats {
            n_hit: s.emc_hits + s.megaflow_hits,
            n_missed: s.upcall_ok + s.upcall_failed,
            n_lost: s.upcall_failed,
            n_flows: self.inner.table.read().map(|t| t.len() as u64).unwrap_or(0),
        }
    }

    fn pmd_stats(&self) -> PmdStats {
        let mut total = PmdStats::default();
        if let Ok(v) = self.inner.stats.lock() {
            for s in v.iter() {
                total.add(&s.snapshot());
            }
        }
        total
    }

    fn pmd_stats_clear(&self) {
        if let Ok(v) = self.inner.stats.lock() {
            for s in v.iter() {
                s.clear_base();
            }
        }
    }

    fn set_pmd_config(&self, config: PmdConfig) {
        if let Ok(mut c) = self.inner.config.lock() {
            *c = config;
        }
        self.reload();
    }

    fn meter_set(&self, id: u32, config: crate::dpif::MeterConfig) -> Result<(), DpifError> {
        self.inner.meters.set(id, &config, self.inner.now_ms())
    }

    fn meter_del(&self, id: u32) -> Result<crate::dpif::MeterStats, DpifError> {
        self.inner.meters.del(id)
    }

    fn meter_get(&self, id: u32) -> Result<crate::dpif::MeterStats, DpifError> {
        self.inner.meters.get(id)
    }
}
