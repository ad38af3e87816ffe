//! The userspace datapath as a two-port switch, for throughput benchmarks
//! between namespaces: `dp-xconnect IF1 IF2 [--pmds N]` opens both
//! interfaces as `system` ports and cross-connects them through megaflows
//! (in_port, Ethernet addresses and type) installed by a static upcall
//! handler. Runs until killed. Used by `scripts/bench/datapath-cmd.sh`.

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
        eprintln!("usage: dp-xconnect IF1 IF2 [--pmds N]");
        std::process::exit(1);
    }
    let mut config = PmdConfig::default();
    if let Some(i) = args.iter().position(|a| a == "--pmds") {
        config.n_pmd = args.get(i + 1).and_then(|v| v.parse().ok()).unwrap_or(1);
    }
    let dp = match DpifNetdev::create("netdev", "ovs-netdev", None, config) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("dp-xconnect: {e}");
            std::process::exit(1);
        }
    };
    for (n, name) in [(1u32, &args[0]), (2, &args[1])] {
        let dev = match netdev::open(name, "system", &NetdevConfig::default()) {
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
