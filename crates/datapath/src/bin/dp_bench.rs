//! Microbenchmark of the forwarding path on in-memory ports: one forwarding
//! thread moves frames from dummy port 1 to dummy port 2 through installed
//! megaflows, for 1 flow and for 10,000 flows, and prints packets per
//! second per core (packets over the CPU time the process used, so that a
//! busy machine does not skew it; the wall-clock rate is printed too). No
//! thresholds: the numbers are for people.
//!
//! `dp-bench [PACKETS [FLOWS...]]` (default 2,000,000 packets per run, for
//! 1 and 10,000 flows).

#![allow(clippy::field_reassign_with_default)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use datapath::{Dpif, DpifNetdev, PmdConfig, PutMode};
use flow::odp::actions::OdpAction;
use netdev::dummy::Dummy;
use netdev::Netdev;
use packet::flow::Flow;

fn flow_for(i: u32) -> Flow {
    let mut f = Flow::default();
    f.in_port = 1;
    f.dl_src = [0x50, 0x54, 0, 0, 0, 1];
    f.dl_dst = [0x50, 0x54, 0, 0, 0, 2];
    f.dl_type = 0x0800;
    f.nw_src = 0x0a00_0001;
    f.nw_dst = 0x0b00_0000 | i;
    f.nw_proto = 17;
    f.nw_ttl = 64;
    f.tp_src = 1000;
    f.tp_dst = 2000;
    f
}

/// CPU seconds this process has used (all threads).
fn cpu_seconds() -> f64 {
    // SAFETY: getrusage fills the zeroed struct we pass.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe {
        libc::getrusage(libc::RUSAGE_SELF, &mut ru);
    }
    let t = |tv: libc::timeval| tv.tv_sec as f64 + tv.tv_usec as f64 / 1e6;
    t(ru.ru_utime) + t(ru.ru_stime)
}

/// Runs one measurement; returns (Mpps per CPU second, Mpps wall clock).
fn run(n_flows: u32, packets: u64) -> (f64, f64) {
    let dp = match DpifNetdev::create("dummy", "ovs-bench", None, PmdConfig::default()) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("dp-bench: {e}");
            std::process::exit(1);
        }
    };
    let p1 = Dummy::open("bench1", "dummy").expect("dummy port");
    let p2 = Dummy::open("bench2", "dummy").expect("dummy port");
    dp.port_add(p1.clone() as Arc<dyn Netdev>, Some(1))
        .expect("port");
    dp.port_add(p2.clone() as Arc<dyn Netdev>, Some(2))
        .expect("port");
    let mut mask = Flow::default();
    mask.in_port = u32::MAX;
    mask.recirc_id = u32::MAX;
    mask.dl_type = 0xffff;
    mask.nw_dst = u32::MAX;
    mask.nw_frag = 3;
    let mut frames = Vec::new();
    for i in 0..n_flows {
        let f = flow_for(i);
        dp.flow_put(&f, &mask, vec![OdpAction::Output(2)], None, PutMode::Create)
            .expect("flow_put");
        frames.push(packet::compose::compose_generated(&f, 18));
    }
    let cpu0 = cpu_seconds();
    let start = Instant::now();
    p1.set_replay(frames, Some(packets));
    let deadline = start + Duration::from_secs(120);
    loop {
        let sent = p2.stats().map(|s| s.tx_packets).unwrap_or(0);
        if sent >= packets || Instant::now() > deadline {
            break;
        }
        std::thread::sleep(Duration::from_micros(200));
    }
    let secs = start.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu0;
    let sent = p2.stats().map(|s| s.tx_packets).unwrap_or(0);
    (sent as f64 / cpu / 1e6, sent as f64 / secs / 1e6)
}

fn main() {
    let packets: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(2_000_000);
    let mut counts: Vec<u32> = std::env::args()
        .skip(2)
        .filter_map(|a| a.parse().ok())
        .collect();
    if counts.is_empty() {
        counts = vec![1, 10_000];
    }
    for n in counts {
        let (per_core, wall) = run(n, packets);
        println!(
            "{n} flow{}: {per_core:.2} Mpps per core ({wall:.2} Mpps wall clock; 64-byte frames, {packets} packets, 1 forwarding thread)",
            if n == 1 { "" } else { "s" }
        );
    }
}
