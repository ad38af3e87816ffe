//! What the controller tests share: the two stacks (the reference
//! Open vSwitch and ferrovs), a dummy bridge whose ports write what they
//! send to pcap files, packets injected with `netdev-dummy/receive`, the
//! frames each port sent, and a minimal test-made controller
//! ([`Controller`]).

#![allow(dead_code)]

mod controller;

#[allow(unused_imports)]
pub use controller::{take_message, Behaviour, Controller, Seen};
use std::time::Duration;
use testkit::{Sandbox, Stack};

/// ferrovs's daemons, with the reference tools driving them.
pub fn ours() -> Stack {
    Stack::ferrovs_daemons(env!("CARGO_BIN_EXE_ferrovs"))
}

/// Both stacks, named: the reference first.
pub fn stacks() -> [(&'static str, Stack); 2] {
    [("reference", Stack::upstream()), ("ferrovs", ours())]
}

/// `br0` on the dummy datapath with ports `p1..=pN` (OpenFlow port n),
/// each writing its transmitted frames to `pN.pcap`; `extra` is appended
/// to the ovs-vsctl transaction (`-- set-controller br0 ...`).
pub fn dummy_bridge(sb: &Sandbox, n_ports: u16, extra: &[&str]) {
    let mut args = testkit::dummy_bridge(
        "br0",
        &[
            "other-config:datapath-id=0000000000000001",
            "other-config:disable-in-band=true",
        ],
        &[],
    );
    for n in 1..=n_ports {
        let p = format!("p{n}");
        let pcap = format!("options:tx_pcap={}", sb.path(&format!("{p}.pcap")));
        args.extend(testkit::dummy_port("br0", &p, n.into(), &[&pcap]));
    }
    args.extend(extra.iter().map(|s| s.to_string()));
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    sb.vsctl(&refs).unwrap();
}

/// `br0` as [`dummy_bridge`] makes it, in fail mode `secure`, under an
/// out-of-band controller at `target` whose Controller row also gets
/// `settings`.
pub fn secure_bridge_under(sb: &Sandbox, n_ports: u16, target: &str, settings: &[&str]) {
    let mut extra = vec![
        "--",
        "set-fail-mode",
        "br0",
        "secure",
        "--",
        "set-controller",
        "br0",
        target,
        "--",
        "set",
        "controller",
        "br0",
        "connection_mode=out-of-band",
    ];
    extra.extend_from_slice(settings);
    dummy_bridge(sb, n_ports, &extra);
}

/// The frames each of ports `p1..=pN` sent, as hex.
pub fn sent(sb: &Sandbox, n_ports: u16) -> Vec<Vec<String>> {
    (1..=n_ports)
        .map(|n| {
            sb.pcap(&format!("p{n}.pcap"))
                .iter()
                .map(|f| testkit::hex(f))
                .collect()
        })
        .collect()
}

/// Total number of frames sent by ports `p1..=pN`.
pub fn n_sent(sb: &Sandbox, n_ports: u16) -> usize {
    sent(sb, n_ports).iter().map(Vec::len).sum()
}

/// Waits until the ports sent `n` frames in all (false on timeout).
pub fn wait_sent(sb: &Sandbox, n_ports: u16, n: usize) -> bool {
    sb.wait_until(Duration::from_secs(10), || n_sent(sb, n_ports) >= n)
}

/// Injects `frame` (hex) on port `port` as if it had been received.
pub fn receive(sb: &Sandbox, port: &str, frame_hex: &str) {
    sb.appctl(&["netdev-dummy/receive", port, frame_hex])
        .unwrap();
}

/// An Ethernet frame: `dst`, `src`, then an IPv4/UDP payload tagged with
/// `tag` so that every frame of a test differs.
pub fn frame(dst: &str, src: &str, tag: u8) -> String {
    let mut f = String::new();
    f += dst;
    f += src;
    f += "0800";
    // IPv4, 20-byte header, total 32, UDP 5000 -> 6000, 4 bytes payload.
    f += &format!("45000020000000004011{:04x}0a0000010a000002", 0);
    f += &format!("13881770000c0000000000{tag:02x}");
    f
}

/// A MAC address `50:54:00:00:00:NN` as 12 hex digits.
pub fn mac(n: u8) -> String {
    format!("5054000000{n:02x}")
}

/// Renders per-port frames for failure messages.
pub fn show(ports: &[Vec<String>]) -> String {
    let mut s = String::new();
    for (i, frames) in ports.iter().enumerate() {
        s += &format!("p{}:\n", i + 1);
        for f in frames {
            s += &format!("  {f}\n");
        }
    }
    s
}
