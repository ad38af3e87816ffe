//! Root tests: two hosts in their own network namespaces, each wired by a
//! veth pair to a third namespace where our datapath cross-connects the two
//! `system` ports with a static upcall handler (L2 cross-connect). Ping and
//! a TCP transfer (offloads on: super-frames cross un-segmented) must get
//! through, and the megaflows must show up in the dump.
//!
//! Without root (or without `ip`) the tests print why and pass. Namespaces
//! are deleted by a Drop guard (`testkit::Net`), also when an assertion
//! fails.

#![allow(clippy::field_reassign_with_default)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use datapath::{Dpif, DpifNetdev, PmdConfig, Upcall, UpcallHandler, UpcallReply};
use flow::odp::actions::OdpAction;
use netdev::{NetdevConfig, NetdevFlags};
use packet::flow::Flow;
use testkit::netns::{address, must};
use testkit::Net;

static SEQ: AtomicU32 = AtomicU32::new(0);

/// Namespaces `sw`, `h1`, `h2` and the veths between them; deleted on drop.
struct Topology {
    sw: String,
    h1: String,
    h2: String,
    sw_p1: String,
    sw_p2: String,
    _net: Net,
}

impl Topology {
    fn build(test: &str) -> Option<Topology> {
        if let Some(why) = testkit::netns_missing(&[]) {
            eprintln!("skipping {test}: {why}");
            return None;
        }
        let mut net = Net::new(&format!("d{}", SEQ.fetch_add(1, Ordering::Relaxed)));
        let t = Topology {
            sw: net.add_ns("sw"),
            h1: net.add_ns("h1"),
            h2: net.add_ns("h2"),
            sw_p1: net.name("s1"),
            sw_p2: net.name("s2"),
            _net: net,
        };
        for (host, swp, addr) in [
            (&t.h1, &t.sw_p1, "10.9.0.1/24"),
            (&t.h2, &t.sw_p2, "10.9.0.2/24"),
        ] {
            must(&[
                "ip", "-n", &t.sw, "link", "add", swp, "type", "veth", "peer", "name", "eth0",
                "netns", host,
            ]);
            must(&["ip", "-n", &t.sw, "link", "set", swp, "up"]);
            address(host, "eth0", &[addr]);
        }
        Some(t)
    }
}

/// Runs `f` on a thread inside namespace `ns`.
fn in_netns<T: Send + 'static>(
    ns: &str,
    f: impl FnOnce() -> T + Send + 'static,
) -> std::thread::JoinHandle<T> {
    let ns = ns.to_string();
    std::thread::spawn(move || {
        let _inside = testkit::netns::enter(&ns);
        f()
    })
}

/// Everything from port 1 goes to port 2 and back.
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

fn start_switch(t: &Topology) -> Arc<DpifNetdev> {
    let (p1, p2) = (t.sw_p1.clone(), t.sw_p2.clone());
    in_netns(&t.sw, move || {
        let dp = DpifNetdev::create("netdev", "ovs-netdev", None, PmdConfig::default())
            .expect("datapath");
        for (n, name) in [(1u32, p1), (2, p2)] {
            let dev = netdev::open(&name, "system", &NetdevConfig::default()).expect("open port");
            dev.update_flags(NetdevFlags::default(), NetdevFlags::UP)
                .expect("up");
            assert_eq!(dp.port_add(dev, Some(n)).expect("port_add"), n);
        }
        dp.set_upcall_handler(Arc::new(CrossConnect));
        Arc::new(dp)
    })
    .join()
    .expect("switch thread")
}

#[test]
fn ping_through_the_datapath() {
    let Some(t) = Topology::build("ping_through_the_datapath") else {
        return;
    };
    let dp = start_switch(&t);
    let out = Command::new("ip")
        .args([
            "netns", "exec", &t.h1, "ping", "-c", "3", "-i", "0.2", "-W", "2", "10.9.0.2",
        ])
        .output()
        .expect("ping");
    assert!(
        out.status.success(),
        "ping failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let dump = datapath::show::dump_flows(&dp, false);
    assert!(dump.contains("in_port(1)"), "{dump}");
    assert!(dump.contains("in_port(2)"), "{dump}");
    assert!(dump.contains("actions:2"), "{dump}");
    assert!(dp.stats().n_hit > 0, "later packets hit megaflows");
}

#[test]
fn tcp_through_the_datapath() {
    let Some(t) = Topology::build("tcp_through_the_datapath") else {
        return;
    };
    let _dp = start_switch(&t);
    // FERROVS_DP_TCP_BYTES=N moves N bytes instead and prints the rate (for
    // people; nothing is asserted about it).
    let bytes: usize = std::env::var("FERROVS_DP_TCP_BYTES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(8 << 20);
    let server = in_netns(&t.h2, move || {
        let _ = bytes;
        let l = TcpListener::bind("10.9.0.2:5001").expect("bind");
        let (mut s, _) = l.accept().expect("accept");
        s.set_read_timeout(Some(Duration::from_secs(20))).ok();
        let mut buf = vec![0u8; 65536];
        let mut total = 0usize;
        let mut sum: u64 = 0;
        loop {
            match s.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    sum = buf[..n]
                        .iter()
                        .fold(sum, |a, b| a.wrapping_mul(31).wrapping_add(*b as u64));
                    total += n;
                }
                Err(e) => panic!("read after {total} bytes: {e}"),
            }
        }
        (total, sum)
    });
    std::thread::sleep(Duration::from_millis(200));
    let client = in_netns(&t.h1, move || {
        let mut s = None;
        for _ in 0..50 {
            match TcpStream::connect_timeout(
                &"10.9.0.2:5001".parse().unwrap(),
                Duration::from_secs(2),
            ) {
                Ok(c) => {
                    s = Some(c);
                    break;
                }
                Err(_) => std::thread::sleep(Duration::from_millis(100)),
            }
        }
        let mut s = s.expect("connect");
        s.set_write_timeout(Some(Duration::from_secs(20))).ok();
        let chunk: Vec<u8> = (0..1usize << 20)
            .map(|i| (i * 7 + i / 4096) as u8)
            .collect();
        let start = std::time::Instant::now();
        let mut sum = 0u64;
        let mut left = bytes;
        while left > 0 {
            let n = left.min(chunk.len());
            s.write_all(&chunk[..n]).expect("write");
            sum = chunk[..n]
                .iter()
                .fold(sum, |a, b| a.wrapping_mul(31).wrapping_add(*b as u64));
            left -= n;
        }
        s.shutdown(std::net::Shutdown::Write).ok();
        let secs = start.elapsed().as_secs_f64();
        eprintln!(
            "tcp_through_the_datapath: {bytes} bytes in {secs:.3} s ({:.2} Gbit/s)",
            bytes as f64 * 8.0 / secs / 1e9
        );
        sum
    });
    let sent_sum = client.join().expect("client");
    let (total, sum) = server.join().expect("server");
    assert_eq!(total, bytes);
    assert_eq!(sum, sent_sum, "bytes arrive intact");
}
