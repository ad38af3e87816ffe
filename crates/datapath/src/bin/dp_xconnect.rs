//! The userspace datapath as a two-port switch, for throughput benchmarks
//! between namespaces: `dp-xconnect IF1 IF2 [--pmds N]` opens both
//! interfaces as `system` ports and cross-connects them through megaflows
//! (in_port, Ethernet addresses and type) installed by a static upcall
//! handler. Runs until killed. Used by `scripts/bench/datapath-cmd.sh`.
//!
//! Options, for trying settings out: `--pmds N` forwarding threads,
//! `--max-sleep US` (as `other_config:pmd-maxsleep`), `--spin US` (polling
//! time before blocking), `--rx-mode
//! v2|v3|mmsg`, `--tx-mode mmsg|v2`, `--big-slots N` (second receive ring; 0: super-frames by
//! `recvmsg`), `--rxqs N` receive queues per port, `--no-coalesce` (TCP
//! segments leave one by one), `--timer-slack NS` (the threads' timer
//! slack, `PR_SET_TIMERSLACK`: how late a pause may end).

#![allow(clippy::field_reassign_with_default)]

use std::sync::Arc;

use datapath::{Dpif, DpifNetdev, PmdConfig, Upcall, UpcallHandler, UpcallReply};
use flow::odp::actions::OdpAction;
use netdev::{NetdevConfig, NetdevFlags};
use packet::flow::Flow;

struct CrossConnect;

impl UpcallHandler for CrossConnect {
    fn upcall(&self, up: &Upcall) -> UpcallReply {
        let out = if up.in_port == 1 { 2 } else { 1 };
        let mut mask = Flow::default();
        mask.packet_type = u32::MAX;
        mask.dl_src = [0xff; 6];
        mask.dl_dst = [0xff; 6];
        mask.dl_type = 0xffff;
        UpcallReply {
            actions: vec![OdpAction::Output(out)],
            mask,
            install: true,
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 2 {
        eprintln!(
            "usage: dp-xconnect IF1 IF2 [--pmds N] [--max-sleep US] [--spin US] [--rx-mode v2|v3|mmsg] [--tx-mode mmsg|v2] [--big-slots N] [--rxqs N] [--no-coalesce] [--timer-slack NS]"
        );
        std::process::exit(1);
    }
    let opt = |name: &str| -> Option<&str> {
        let i = args.iter().position(|a| a == name)?;
        args.get(i + 1).map(|s| s.as_str())
    };
    let num = |name: &str| opt(name).and_then(|v| v.parse::<u32>().ok());
    let mut config = PmdConfig::default();
    if let Some(n) = num("--pmds") {
        config.n_pmd = n.max(1) as usize;
    }
    if let Some(n) = num("--max-sleep") {
        config.max_sleep_us = n;
    }
    if let Some(n) = num("--spin") {
        config.idle_spin_us = n;
    }
    let mut nc = NetdevConfig::default();
    if let Some(m) = opt("--rx-mode").and_then(|m| m.parse().ok()) {
        nc.rx_mode = m;
    }
    if let Some(m) = opt("--tx-mode").and_then(|m| m.parse().ok()) {
        nc.tx_mode = m;
    }
    if let Some(n) = num("--big-slots") {
        nc.rx_big_slots = n;
    }
    if args.iter().any(|a| a == "--no-coalesce") {
        nc.tx_coalesce = false;
    }
    if let Some(n) = num("--rxqs") {
        nc.n_rxq = n.max(1) as usize;
    }
    if let Some(ns) = num("--timer-slack") {
        // Threads inherit the slack of the thread that creates them.
        // SAFETY: prctl with an integer argument changes only this thread.
        unsafe {
            libc::prctl(libc::PR_SET_TIMERSLACK, ns as libc::c_ulong);
        }
    }
    let dp = match DpifNetdev::create("netdev", "ovs-netdev", None, config) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("dp-xconnect: {e}");
            std::process::exit(1);
        }
    };
    for (n, name) in [(1u32, &args[0]), (2, &args[1])] {
        let dev = match netdev::open(name, "system", &nc) {
            Ok(d) => d,
            Err(e) => {
                eprintln!("dp-xconnect: {e}");
                std::process::exit(1);
            }
        };
        let _ = dev.update_flags(NetdevFlags::default(), NetdevFlags::UP);
        if let Err(e) = dp.port_add(dev, Some(n)) {
            eprintln!("dp-xconnect: {name}: {e}");
            std::process::exit(1);
        }
    }
    dp.set_upcall_handler(Arc::new(CrossConnect));
    loop {
        std::thread::sleep(std::time::Duration::from_secs(3600));
    }
}
