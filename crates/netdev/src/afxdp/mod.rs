//! `afxdp` ports: an existing interface read and written through AF_XDP
//! sockets, one per receive queue (upstream's netdev-afxdp).
//!
//! Opening a port parses its options as upstream does (`n_rxq`, 1 to 16;
//! `xdp-mode`: `best-effort` (the default), `native-with-zerocopy`,
//! `native` or `generic`; `use-need-wakeup`, default true), then for the
//! chosen mode loads the redirect program and its `XSKMAP` ([`bpf`]),
//! attaches it to the device (driver mode for the native modes, skb mode
//! for generic) and binds one socket with its own UMEM per queue ([`xsk`];
//! zero-copy for `native-with-zerocopy`, copy otherwise). `best-effort`
//! tries zero-copy, then native, then generic on the first queue, as
//! upstream does, and keeps the first that works for the others. Every
//! step logs upstream's lines (module `netdev_afxdp`); a mode the device
//! or kernel cannot do fails the open with [`AfxdpError::Reconfigure`],
//! bad options with [`AfxdpError::Config`], and nothing stays attached.
//!
//! Frames cross as complete frames (AF_XDP carries no offload metadata):
//! received frames are copied into packet buffers, and transmitted
//! super-frames or partial checksums are finished in software first
//! ([`crate::offload`]). MAC, MTU, flags, carrier and speed are the
//! device's, as for `system` ports.

pub mod bpf;
pub mod xsk;

use std::collections::BTreeMap;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use packet::buffer::{Offload, PacketBatch, PacketPool};

use crate::error::NetdevError;
use crate::offload::{prepare, segment, TxPlan};
use crate::provider::{EthAddr, Features, Netdev, NetdevFlags, NetdevStats, RxQueue, TxQueue};
use crate::stats::{bump, DeviceCounters, QueueCounters};
use crate::sys::IfCtl;
use xsk::Xsk;

const MODULE: &str = "netdev_afxdp";

/// Segments one super-frame can become.
const MAX_SEGMENTS: usize = 256;

/// Receive queues a port may have at most (upstream's `MAX_XSKQ`).
pub const MAX_XSKQ: i64 = 16;

/// How the XDP program runs and how sockets get frames.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum XdpMode {
    /// The best of the three below that works.
    BestEffort,
    /// Driver mode, frames in place in the UMEM (drivers that support it).
    NativeZeroCopy,
    /// Driver mode, frames copied into the UMEM.
    Native,
    /// Generic (skb) mode: any device, frames copied.
    Generic,
}

impl XdpMode {
    pub const ALL: [XdpMode; 4] = [
        XdpMode::BestEffort,
        XdpMode::NativeZeroCopy,
        XdpMode::Native,
        XdpMode::Generic,
    ];

    /// The option's spelling.
    pub fn name(self) -> &'static str {
        match self {
            XdpMode::BestEffort => "best-effort",
            XdpMode::NativeZeroCopy => "native-with-zerocopy",
            XdpMode::Native => "native",
            XdpMode::Generic => "generic",
        }
    }

    /// The mode named `s` (any case, as upstream compares).
    pub fn parse(s: &str) -> Option<XdpMode> {
        XdpMode::ALL
            .into_iter()
            .find(|m| m.name().eq_ignore_ascii_case(s))
    }

    fn attach_flags(self) -> u32 {
        match self {
            XdpMode::Generic => bpf::XDP_FLAGS_SKB_MODE,
            _ => bpf::XDP_FLAGS_DRV_MODE,
        }
    }

    fn bind_flags(self) -> u16 {
        match self {
            XdpMode::NativeZeroCopy => xsk::XDP_ZEROCOPY,
            _ => xsk::XDP_COPY,
        }
    }
}

/// The options of an `afxdp` interface.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AfxdpOptions {
    pub n_rxq: usize,
    pub mode: XdpMode,
    pub use_need_wakeup: bool,
}

impl Default for AfxdpOptions {
    fn default() -> Self {
        AfxdpOptions {
            n_rxq: 1,
            mode: XdpMode::BestEffort,
            use_need_wakeup: true,
        }
    }
}

/// Why an `afxdp` port could not be opened (each already logged).
#[derive(Debug, thiserror::Error)]
pub enum AfxdpError {
    /// The device itself (missing, no index).
    #[error(transparent)]
    Device(#[from] NetdevError),
    /// Options upstream refuses (`set_config` fails with `EINVAL`).
    #[error("{name}: could not set configuration (Invalid argument)")]
    Config { name: String },
    /// No socket could be set up in the requested mode (upstream's
    /// reconfiguration failure: the port is not added, `EINVAL`).
    #[error("{name}: AF_XDP device reconfiguration failed.")]
    Reconfigure { name: String },
}

/// `smap_get_int`: a decimal integer, else the default.
fn get_int(options: &BTreeMap<String, String>, key: &str, default: i64) -> i64 {
    options
        .get(key)
        .and_then(|v| v.trim().parse::<i32>().ok())
        .map(i64::from)
        .unwrap_or(default)
}

impl AfxdpOptions {
    /// Reads the options of interface `name` with upstream's rules and
    /// log lines.
    pub fn parse(
        name: &str,
        options: &BTreeMap<String, String>,
    ) -> Result<AfxdpOptions, AfxdpError> {
        let n_rxq = get_int(options, "n_rxq", 1).max(1);
        if n_rxq > MAX_XSKQ {
            vlog::err!(MODULE, "{name}: Too big 'n_rxq' ({n_rxq} > {MAX_XSKQ}).");
            return Err(AfxdpError::Config { name: name.into() });
        }
        let mode_text = options
            .get("xdp-mode")
            .map(String::as_str)
            .unwrap_or("best-effort");
        let Some(mode) = XdpMode::parse(mode_text) else {
            vlog::err!(MODULE, "{name}: Incorrect xdp-mode ({mode_text}).");
            return Err(AfxdpError::Config { name: name.into() });
        };
        let use_need_wakeup = match options.get("use-need-wakeup").map(String::as_str) {
            Some(v) if v.eq_ignore_ascii_case("false") => false,
            _ => true,
        };
        Ok(AfxdpOptions {
            n_rxq: n_rxq as usize,
            mode,
            use_need_wakeup,
        })
    }
}

/// One receive queue's socket.
struct Queue {
    xsk: Mutex<Xsk>,
    fd: RawFd,
    taken: AtomicBool,
}

/// The XDP attachment: closing the link detaches the program.
struct Attachment {
    _link: OwnedFd,
    _prog: OwnedFd,
    _map: OwnedFd,
}

/// An `afxdp` port.
pub struct AfXdp {
    name: String,
    type_name: &'static str,
    ifindex: u32,
    ctl: IfCtl,
    options: AfxdpOptions,
    mode_in_use: XdpMode,
    queues: Vec<Arc<Queue>>,
    counters: DeviceCounters,
    next_txq: AtomicUsize,
    /// Dropped after the sockets (fields drop in order).
    _attachment: Attachment,
}

impl std::fmt::Debug for AfXdp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AfXdp")
            .field("name", &self.name)
            .field("mode_in_use", &self.mode_in_use)
            .finish()
    }
}

fn errno_text(e: &std::io::Error) -> String {
    crate::sys::errno_text(e)
}

/// Sets up every queue of `ifindex` in `mode`; `report` logs failures as
/// errors (else as debug lines, as upstream does while probing).
fn configure(
    name: &str,
    ifindex: u32,
    mode: XdpMode,
    opts: &AfxdpOptions,
    first_queue_only_probe: bool,
    report: bool,
) -> Result<(Attachment, Vec<Xsk>), u32> {
    let level = if report {
        vlog::Level::Err
    } else {
        vlog::Level::Dbg
    };
    let wakeup = if opts.use_need_wakeup {
        "true"
    } else {
        "false"
    };
    let socket_failed = |q: u32, e: &std::io::Error| {
        vlog::log(
            MODULE,
            level,
            &format!(
                "xsk_socket__create failed ({}) mode: {}, use-need-wakeup: {wakeup}, qid: {q}",
                errno_text(e),
                mode.name()
            ),
        );
        vlog::log(
            MODULE,
            level,
            &format!(
                "{name}: Failed to create AF_XDP socket on queue {q} in {} mode.",
                mode.name()
            ),
        );
    };
    let map = bpf::create_xskmap(opts.n_rxq as u32).map_err(|e| {
        socket_failed(0, &e);
        0u32
    })?;
    let prog = bpf::load_program(map.as_raw_fd()).map_err(|e| {
        socket_failed(0, &e);
        0u32
    })?;
    let link = bpf::attach(prog.as_raw_fd(), ifindex, mode.attach_flags()).map_err(|e| {
        socket_failed(0, &e);
        0u32
    })?;
    let mut bind = mode.bind_flags();
    if opts.use_need_wakeup {
        bind |= xsk::XDP_USE_NEED_WAKEUP;
    }
    let mut socks = Vec::with_capacity(opts.n_rxq);
    for q in 0..opts.n_rxq as u32 {
        vlog::dbg!(
            MODULE,
            "{name}: configuring queue: {q}, mode: {}, use-need-wakeup: {wakeup}.",
            mode.name()
        );
        let report_q = report || (first_queue_only_probe && q > 0);
        let s = Xsk::open(ifindex, q, bind).and_then(|s| {
            bpf::xskmap_set(map.as_raw_fd(), q, s.fd())?;
            Ok(s)
        });
        match s {
            Ok(s) => socks.push(s),
            Err(e) => {
                if report_q || q == 0 {
                    socket_failed(q, &e);
                }
                return Err(q);
            }
        }
    }
    Ok((
        Attachment {
            _link: link,
            _prog: prog,
            _map: map,
        },
        socks,
    ))
}

impl AfXdp {
    /// Opens `name` (an existing interface in the calling thread's
    /// namespace) as an `afxdp` port with `options`.
    pub fn open(name: &str, options: &BTreeMap<String, String>) -> Result<AfXdp, AfxdpError> {
        AfXdp::open_as(name, "afxdp", options)
    }

    /// Like [`AfXdp::open`], as type `type_name` (`afxdp`, or
    /// `afxdp-nonpmd`, upstream's variant polled outside the forwarding
    /// threads, which here is the same device).
    pub fn open_as(
        name: &str,
        type_name: &'static str,
        options: &BTreeMap<String, String>,
    ) -> Result<AfXdp, AfxdpError> {
        let opts = AfxdpOptions::parse(name, options)?;
        let ctl = IfCtl::new().map_err(|e| NetdevError::sys(name, "socket", e))?;
        let ifindex = ctl
            .ifindex(name)
            .map_err(|e| NetdevError::sys(name, "ioctl(SIOCGIFINDEX)", e))?;
        vlog::info!(MODULE, "{name}: Removing xdp program.");
        vlog::info!(MODULE, "No XDP program is loaded at ifindex {ifindex}");
        vlog::info!(MODULE, "{name}: Setting XDP mode to {}.", opts.mode.name());
        if let Err(e) = bpf::raise_memlock() {
            vlog::err!(
                MODULE,
                "setrlimit(RLIMIT_MEMLOCK) failed: {}",
                errno_text(&e)
            );
        }
        let failed = |name: &str| {
            vlog::info!(MODULE, "{name}: Removing xdp program.");
            vlog::info!(MODULE, "No XDP program is loaded at ifindex {ifindex}");
            vlog::err!(MODULE, "{name}: AF_XDP device reconfiguration failed.");
            AfxdpError::Reconfigure { name: name.into() }
        };
        let (mode, attachment, socks) = if opts.mode == XdpMode::BestEffort {
            let probes = [XdpMode::NativeZeroCopy, XdpMode::Native, XdpMode::Generic];
            let mut found = None;
            for (i, m) in probes.into_iter().enumerate() {
                let last = i == probes.len() - 1;
                if let Ok((a, s)) = configure(name, ifindex, m, &opts, true, last) {
                    vlog::info!(MODULE, "{name}: {} XDP mode will be in use.", m.name());
                    found = Some((m, a, s));
                    break;
                }
            }
            match found {
                Some(f) => f,
                None => {
                    vlog::err!(MODULE, "{name}: Failed to detect suitable XDP mode.");
                    return Err(failed(name));
                }
            }
        } else {
            match configure(name, ifindex, opts.mode, &opts, false, true) {
                Ok((a, s)) => (opts.mode, a, s),
                Err(q) => {
                    vlog::err!(
                        MODULE,
                        "{name}: Failed to create AF_XDP socket on queue {q}."
                    );
                    return Err(failed(name));
                }
            }
        };
        let queues = socks
            .into_iter()
            .map(|s| {
                let fd = s.fd();
                Arc::new(Queue {
                    xsk: Mutex::new(s),
                    fd,
                    taken: AtomicBool::new(false),
                })
            })
            .collect();
        Ok(AfXdp {
            name: name.to_string(),
            type_name,
            ifindex,
            ctl,
            options: opts,
            mode_in_use: mode,
            queues,
            counters: DeviceCounters::default(),
            next_txq: AtomicUsize::new(0),
            _attachment: attachment,
        })
    }

    /// The mode the sockets run in (`best-effort` resolved).
    pub fn mode_in_use(&self) -> XdpMode {
        self.mode_in_use
    }

    /// What `dpif/show` lists for the port, as upstream's `get_config`.
    pub fn config(&self) -> Vec<(String, String)> {
        vec![
            ("n_rxq".into(), self.options.n_rxq.to_string()),
            (
                "use-need-wakeup".into(),
                self.options.use_need_wakeup.to_string(),
            ),
            ("xdp-mode".into(), self.options.mode.name().into()),
            ("xdp-mode-in-use".into(), self.mode_in_use.name().into()),
        ]
    }

    /// Upstream's custom statistics: the kernel's counters of each
    /// queue's socket (`xsk_queue_N_rx_dropped`, `..._rx_invalid_descs`,
    /// `..._tx_invalid_descs`).
    pub fn custom_stats(&self) -> Vec<(String, u64)> {
        let mut v = Vec::with_capacity(3 * self.queues.len());
        for (i, q) in self.queues.iter().enumerate() {
            let k = q.xsk.lock().map(|x| x.stats()).unwrap_or_default();
            v.push((format!("xsk_queue_{i}_rx_dropped"), k.rx_dropped));
            v.push((
                format!("xsk_queue_{i}_rx_invalid_descs"),
                k.rx_invalid_descs,
            ));
            v.push((
                format!("xsk_queue_{i}_tx_invalid_descs"),
                k.tx_invalid_descs,
            ));
        }
        v
    }
}

impl Drop for AfXdp {
    fn drop(&mut self) {
        vlog::info!(MODULE, "{}: Removing xdp program.", self.name);
    }
}

impl Netdev for AfXdp {
    fn name(&self) -> &str {
        &self.name
    }

    fn type_name(&self) -> &'static str {
        self.type_name
    }

    fn n_rxq(&self) -> usize {
        self.queues.len()
    }

    fn open_rxq(&self, qid: usize) -> Result<Box<dyn RxQueue>, NetdevError> {
        let no_queue = || NetdevError::NoQueue {
            name: self.name.clone(),
            qid,
        };
        let q = self.queues.get(qid).ok_or_else(no_queue)?;
        if q.taken.swap(true, Ordering::AcqRel) {
            return Err(no_queue());
        }
        Ok(Box::new(AfxdpRxq {
            queue: q.clone(),
            counters: self.counters.register(),
        }))
    }

    fn open_txq(&self) -> Result<Box<dyn TxQueue>, NetdevError> {
        let n = self.queues.len().max(1);
        let i = self.next_txq.fetch_add(1, Ordering::Relaxed) % n;
        let q = self.queues.get(i).ok_or_else(|| NetdevError::NoQueue {
            name: self.name.clone(),
            qid: i,
        })?;
        Ok(Box::new(AfxdpTxq {
            queue: q.clone(),
            counters: self.counters.register(),
            // Room for the segments of one 64 KiB super-frame.
            scratch: PacketBatch::with_capacity(MAX_SEGMENTS),
            features: Features::default(),
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
        let mut s = self.counters.sum();
        for q in &self.queues {
            if let Ok(x) = q.xsk.lock() {
                let k = x.stats();
                s.rx_dropped += k.rx_dropped;
                s.rx_errors += k.rx_invalid_descs;
                s.tx_errors += k.tx_invalid_descs;
            }
        }
        Ok(s)
    }

    fn features(&self) -> Features {
        Features {
            tx_offloads: 0,
            speed_mbps: self.ctl.speed_mbps(&self.name).ok().flatten(),
        }
    }
}

struct AfxdpRxq {
    queue: Arc<Queue>,
    counters: Arc<QueueCounters>,
}

impl Drop for AfxdpRxq {
    fn drop(&mut self) {
        self.queue.taken.store(false, Ordering::Release);
    }
}

impl RxQueue for AfxdpRxq {
    fn recv(
        &mut self,
        pool: &mut PacketPool,
        batch: &mut PacketBatch,
    ) -> Result<usize, NetdevError> {
        let max = batch.room().min(pool.available());
        let Ok(mut x) = self.queue.xsk.lock() else {
            return Ok(0);
        };
        let (mut bytes, mut errors) = (0u64, 0u64);
        let mut got = 0u64;
        x.recv(max, |frame| {
            let Some(mut p) = pool.get() else {
                errors += 1;
                return;
            };
            if p.copy_from(frame).is_err() {
                errors += 1;
                pool.put(p);
                return;
            }
            p.meta.offload = Offload::default();
            bytes += frame.len() as u64;
            match batch.push(p) {
                Ok(()) => got += 1,
                Err(p) => {
                    errors += 1;
                    pool.put(p);
                }
            }
        });
        if got == 0 {
            x.poll_tx();
        }
        drop(x);
        bump(&self.counters.rx_packets, got);
        bump(&self.counters.rx_bytes, bytes);
        bump(&self.counters.rx_dropped, errors);
        Ok(got as usize)
    }

    fn wait_fd(&self) -> RawFd {
        self.queue.fd
    }
}

struct AfxdpTxq {
    queue: Arc<Queue>,
    counters: Arc<QueueCounters>,
    scratch: PacketBatch,
    features: Features,
}

impl TxQueue for AfxdpTxq {
    fn send(
        &mut self,
        batch: &mut PacketBatch,
        pool: &mut PacketPool,
    ) -> Result<usize, NetdevError> {
        let mut errors = 0u64;
        let (mut sent, mut bytes, mut dropped) = (0usize, 0u64, 0usize);
        let n = batch.len();
        let Ok(mut x) = self.queue.xsk.lock() else {
            pool.recycle(batch);
            bump(&self.counters.tx_dropped, n as u64);
            return Ok(0);
        };
        let mut tally = |r: (usize, u64, usize)| {
            sent += r.0;
            bytes += r.1;
            dropped += r.2;
        };
        // Runs of packets that leave as they are go out together; a
        // super-frame is cut into segments (in `scratch`) that go out in
        // its place, so the order of the batch is kept.
        let mut run_start = 0;
        for i in 0..n {
            match prepare(&mut batch.packets_mut()[i], &self.features) {
                Ok(TxPlan::Direct) => continue,
                Ok(TxPlan::Segment) => {
                    let pkts = batch.packets();
                    tally(x.send(pkts[run_start..i].iter().map(|p| p.data())));
                    if segment(&pkts[i], pool, &mut self.scratch).is_err() {
                        errors += 1;
                    }
                    tally(x.send(self.scratch.packets().iter().map(|p| p.data())));
                    pool.recycle(&mut self.scratch);
                }
                Err(_) => {
                    let pkts = batch.packets();
                    tally(x.send(pkts[run_start..i].iter().map(|p| p.data())));
                    errors += 1;
                }
            }
            run_start = i + 1;
        }
        tally(x.send(batch.packets()[run_start..].iter().map(|p| p.data())));
        drop(x);
        pool.recycle(batch);
        bump(&self.counters.tx_packets, sent as u64);
        bump(&self.counters.tx_bytes, bytes);
        bump(&self.counters.tx_dropped, dropped as u64);
        bump(&self.counters.tx_errors, errors);
        Ok(sent)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn options_read_as_upstream() {
        let o = AfxdpOptions::parse("p0", &opts(&[])).unwrap();
        assert_eq!(o, AfxdpOptions::default());
        let o = AfxdpOptions::parse(
            "p0",
            &opts(&[
                ("xdp-mode", "GENERIC"),
                ("n_rxq", "0"),
                ("use-need-wakeup", "false"),
            ]),
        )
        .unwrap();
        assert_eq!(o.mode, XdpMode::Generic);
        assert_eq!(o.n_rxq, 1);
        assert!(!o.use_need_wakeup);
        let e = AfxdpOptions::parse("p0", &opts(&[("xdp-mode", "turbo")])).unwrap_err();
        assert_eq!(
            e.to_string(),
            "p0: could not set configuration (Invalid argument)"
        );
        assert!(AfxdpOptions::parse("p0", &opts(&[("n_rxq", "17")])).is_err());
        assert_eq!(
            AfxdpOptions::parse("p0", &opts(&[("n_rxq", "16")]))
                .unwrap()
                .n_rxq,
            16
        );
    }

    #[test]
    fn mode_names_round_trip() {
        for m in XdpMode::ALL {
            assert_eq!(XdpMode::parse(m.name()), Some(m));
        }
        assert_eq!(
            XdpMode::parse("native-with-zerocopy").map(|m| m.bind_flags()),
            Some(xsk::XDP_ZEROCOPY)
        );
        assert_eq!(XdpMode::Generic.attach_flags(), bpf::XDP_FLAGS_SKB_MODE);
    }

    #[test]
    fn missing_device_is_an_error() {
        let e = AfXdp::open("fv-no-such-dev", &BTreeMap::new()).unwrap_err();
        assert!(matches!(e, AfxdpError::Device(_)));
    }
}
