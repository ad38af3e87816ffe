//! Cross-connects two system ports: every frame received on A is sent out B
//! and every frame received on B out A, on forwarding threads that poll
//! their receive queues (busy, or spinning then sleeping in poll()).
//!
//! This is the measured prototype of the forwarding loop the datapath
//! builds on: per batch one ring walk, one copy per frame into a recycled
//! buffer, one `sendmmsg`; no allocation and no lock per packet.
//!
//! usage: xconnect PORT_A PORT_B [--threads 1|2] [--busy] [--spin N]
//!                               [--no-vnet] [--rx v2|v3|mmsg] [--tx mmsg|v2] [--stats SECS]

use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use netdev::{Netdev, NetdevConfig, RxMode, RxQueue, TxMode, TxQueue};
use packet::buffer::{PacketBatch, PacketPool};

static STOP: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(_: libc::c_int) {
    STOP.store(true, Ordering::Relaxed);
}

struct Opts {
    a: String,
    b: String,
    threads: usize,
    busy: bool,
    spin: u32,
    vnet: bool,
    ring: RxMode,
    tx: TxMode,
    stats: Option<u64>,
}

fn parse() -> Result<Opts, String> {
    let mut args = std::env::args().skip(1);
    let mut pos = Vec::new();
    let mut o = Opts {
        a: String::new(),
        b: String::new(),
        threads: 2,
        busy: false,
        spin: 100,
        vnet: true,
        ring: RxMode::RingV2,
        tx: TxMode::Sendmmsg,
        stats: None,
    };
    while let Some(a) = args.next() {
        let mut num = |name: &str| -> Result<u64, String> {
            args.next()
                .and_then(|v| v.parse().ok())
                .ok_or_else(|| format!("{name} needs a number"))
        };
        match a.as_str() {
            "--threads" => o.threads = num("--threads")?.clamp(1, 2) as usize,
            "--busy" => o.busy = true,
            "--spin" => o.spin = num("--spin")? as u32,
            "--no-vnet" => o.vnet = false,
            "--tx" => {
                o.tx = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .ok_or("--tx takes mmsg or v2")?;
            }
            "--rx" => {
                o.ring = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .ok_or("--rx takes v2, v3 or mmsg")?;
            }
            "--stats" => o.stats = Some(num("--stats")?),
            s if s.starts_with('-') => return Err(format!("unknown option {s}")),
            _ => pos.push(a),
        }
    }
    if pos.len() != 2 {
        return Err("usage: xconnect PORT_A PORT_B [--threads 1|2] [--busy] [--spin N] [--no-vnet] [--rx v2|v3|mmsg] [--tx mmsg|v2] [--stats SECS]".into());
    }
    o.b = pos.pop().unwrap_or_default();
    o.a = pos.pop().unwrap_or_default();
    Ok(o)
}

/// One direction: frames from `rx` go to `tx`.
struct Path {
    rx: Box<dyn RxQueue>,
    tx: Box<dyn TxQueue>,
}

/// The forwarding loop of one thread over its paths.
fn forward(mut paths: Vec<Path>, busy: bool, spin: u32) {
    let mut pool = PacketPool::with_default_size(256);
    let mut batch = PacketBatch::new();
    let fds: Vec<_> = paths.iter().map(|p| p.rx.wait_fd()).collect();
    let mut idle = 0u32;
    while !STOP.load(Ordering::Relaxed) {
        let mut moved = 0;
        for p in paths.iter_mut() {
            match p.rx.recv(&mut pool, &mut batch) {
                Ok(0) => {}
                Ok(n) => {
                    moved += n;
                    let _ = p.tx.send(&mut batch, &mut pool);
                }
                Err(e) => {
                    eprintln!("xconnect: {e}");
                    pool.recycle(&mut batch);
                }
            }
        }
        if moved == 0 {
            idle += 1;
            if !busy && idle > spin {
                let _ = netdev::sys::wait_readable(&fds, 10);
            } else {
                std::hint::spin_loop();
            }
        } else {
            idle = 0;
        }
    }
}

fn main() -> ExitCode {
    let o = match parse() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("xconnect: {e}");
            return ExitCode::from(2);
        }
    };
    // SAFETY: installing an async-signal-safe handler that only stores to an
    // atomic.
    unsafe {
        libc::signal(libc::SIGINT, on_signal as *const () as libc::sighandler_t);
        libc::signal(libc::SIGTERM, on_signal as *const () as libc::sighandler_t);
    }
    let cfg = NetdevConfig {
        vnet_hdr: o.vnet,
        rx_mode: o.ring,
        tx_mode: o.tx,
        ..NetdevConfig::default()
    };
    let open = |n: &str| -> Result<Arc<dyn Netdev>, String> {
        netdev::open(n, "system", &cfg).map_err(|e| e.to_string())
    };
    let (a, b) = match (open(&o.a), open(&o.b)) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("xconnect: {e}");
            return ExitCode::FAILURE;
        }
    };
    let path = |from: &Arc<dyn Netdev>, to: &Arc<dyn Netdev>| -> Result<Path, String> {
        Ok(Path {
            rx: from.open_rxq(0).map_err(|e| e.to_string())?,
            tx: to.open_txq().map_err(|e| e.to_string())?,
        })
    };
    let (ab, ba) = match (path(&a, &b), path(&b, &a)) {
        (Ok(x), Ok(y)) => (x, y),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("xconnect: {e}");
            return ExitCode::FAILURE;
        }
    };
    eprintln!(
        "xconnect: {} <-> {} threads={} busy={} vnet_hdr={} rx={:?} tx={:?} offloads={:#x}",
        o.a,
        o.b,
        o.threads,
        o.busy,
        o.vnet,
        o.ring,
        o.tx,
        a.features().tx_offloads
    );
    let mut handles = Vec::new();
    if o.threads == 1 {
        let (busy, spin) = (o.busy, o.spin);
        handles.push(std::thread::spawn(move || {
            forward(vec![ab, ba], busy, spin)
        }));
    } else {
        for p in [ab, ba] {
            let (busy, spin) = (o.busy, o.spin);
            handles.push(std::thread::spawn(move || forward(vec![p], busy, spin)));
        }
    }
    let start = Instant::now();
    let mut last = Instant::now();
    while !STOP.load(Ordering::Relaxed) {
        std::thread::sleep(Duration::from_millis(100));
        if let Some(s) = o.stats {
            if last.elapsed() >= Duration::from_secs(s) {
                last = Instant::now();
                for d in [&a, &b] {
                    if let Ok(st) = d.stats() {
                        eprintln!(
                            "{:8.1}s {} {:?}",
                            start.elapsed().as_secs_f64(),
                            d.name(),
                            st
                        );
                    }
                }
            }
        }
    }
    for h in handles {
        let _ = h.join();
    }
    let (mut bytes, mut pkts) = (0, 0);
    for d in [&a, &b] {
        if let Ok(st) = d.stats() {
            eprintln!("xconnect: {} {:?}", d.name(), st);
            bytes += st.tx_bytes;
            pkts += st.rx_packets;
        }
    }
    // SAFETY: getrusage fills the struct it is given.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `ru` is a valid, writable rusage.
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) } == 0 {
        let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
        let (user, sys) = (secs(ru.ru_utime), secs(ru.ru_stime));
        eprintln!(
            "xconnect: cpu user={user:.2}s sys={sys:.2}s forwarded={:.2} GB in {pkts} frames => {:.2} Gbit per cpu-second, {:.0} ns of cpu per frame",
            bytes as f64 / 1e9,
            bytes as f64 * 8.0 / 1e9 / (user + sys).max(1e-3),
            (user + sys) * 1e9 / (pkts.max(1) as f64)
        );
    }
    ExitCode::SUCCESS
}
