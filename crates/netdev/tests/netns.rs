//! Root integration tests: real veth pairs and TAP devices in a fresh network
//! namespace, frames through `system` (AF_PACKET) and `internal` (TAP)
//! ports, bytes and offload metadata checked on the far side.
//!
//! Each test enters its own namespace on its own thread and leaves (and
//! deletes) it in a Drop guard, so a failing assertion cleans up too.
//! Without root (or without `ip`) the tests print why and pass.

use std::net::UdpSocket;
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use netdev::offload::{csum_fold, csum_partial};
use netdev::{EthAddr, Netdev, NetdevConfig, NetdevFlags, RxMode, TxMode};
use packet::buffer::{Offload, Packet, PacketBatch, PacketPool};
use testkit::netns::must;
use testkit::Net;

static SEQ: AtomicU32 = AtomicU32::new(0);

/// A fresh network namespace the current thread lives in until the guard
/// drops.
struct Netns {
    name: String,
    // Dropped in this order: back home, then the namespace deleted.
    _inside: testkit::netns::Inside,
    _net: Net,
}

fn ip(args: &[&str]) {
    let mut all = vec!["ip"];
    all.extend_from_slice(args);
    must(&all);
}

impl Netns {
    /// Enters a fresh namespace, or returns None (after saying why) when the
    /// test cannot run here.
    fn enter(test: &str) -> Option<Netns> {
        if let Some(why) = testkit::netns_missing(&[]) {
            eprintln!("skipping {test}: {why}");
            return None;
        }
        let mut net = Net::new(&format!("n{}", SEQ.fetch_add(1, Ordering::Relaxed)));
        let name = net.add_ns("");
        Some(Netns {
            _inside: testkit::netns::enter(&name),
            name,
            _net: net,
        })
    }
}

fn veth_pair(ns: &Netns, a: &str, b: &str) {
    ip(&[
        "-n", &ns.name, "link", "add", a, "type", "veth", "peer", "name", b,
    ]);
    ip(&["-n", &ns.name, "link", "set", a, "up"]);
    ip(&["-n", &ns.name, "link", "set", b, "up"]);
}

/// Receives on `dev` until `want` frames matching `keep` arrived or a
/// generous bound passed (the bound only ends a failing test; it is not a
/// timing threshold).
fn collect(
    dev: &Arc<dyn Netdev>,
    want: usize,
    keep: impl Fn(&Packet) -> bool,
) -> Vec<(Vec<u8>, Offload)> {
    collect_for(dev, want, Duration::from_secs(10), keep)
}

fn collect_for(
    dev: &Arc<dyn Netdev>,
    want: usize,
    bound: Duration,
    keep: impl Fn(&Packet) -> bool,
) -> Vec<(Vec<u8>, Offload)> {
    let mut rxq = dev.open_rxq(0).expect("open rxq");
    let mut pool = PacketPool::with_default_size(64);
    let mut batch = PacketBatch::new();
    let mut got = Vec::new();
    let start = Instant::now();
    while got.len() < want && start.elapsed() < bound {
        rxq.recv(&mut pool, &mut batch).expect("recv");
        for p in batch.iter() {
            if keep(p) {
                got.push((p.data().to_vec(), p.meta.offload));
            }
        }
        pool.recycle(&mut batch);
        netdev::sys::wait_readable(&[rxq.wait_fd()], 50).expect("poll");
    }
    got
}

fn send(dev: &Arc<dyn Netdev>, frames: &[(Vec<u8>, Offload)]) -> usize {
    let mut txq = dev.open_txq().expect("open txq");
    let mut pool = PacketPool::with_default_size(frames.len() + 64);
    let mut batch = PacketBatch::with_capacity(frames.len());
    for (f, o) in frames {
        let mut p = pool.get().expect("buffer");
        p.copy_from(f).expect("fits");
        p.meta.offload = *o;
        batch.push(p).expect("room");
    }
    let n = txq.send(&mut batch, &mut pool).expect("send");
    assert!(batch.is_empty());
    assert_eq!(
        pool.available(),
        pool.total(),
        "every buffer back in the pool"
    );
    n
}

const TEST_ETHERTYPE: [u8; 2] = [0x88, 0xb5];

fn test_frame(i: usize, vlan: Option<u16>) -> Vec<u8> {
    let mut f = vec![0x02, 0xfe, 0, 0, 0, 0xbb, 0x02, 0xfe, 0, 0, 0, 0xaa];
    if let Some(tci) = vlan {
        f.extend_from_slice(&[0x81, 0x00]);
        f.extend_from_slice(&tci.to_be_bytes());
    }
    f.extend_from_slice(&TEST_ETHERTYPE);
    f.extend((0..60 + i * 30).map(|k| (k * 3 + i) as u8));
    f
}

fn is_test(p: &Packet) -> bool {
    let d = p.data();
    d.len() > 18 && (d[12..14] == TEST_ETHERTYPE || d[16..18] == TEST_ETHERTYPE)
}

/// A TCP/IPv4 super-frame with a partial checksum as a kernel with TSO
/// emits it.
fn tcp_superframe(payload: usize) -> Vec<u8> {
    let mut f = vec![
        0x02, 0xfe, 0, 0, 0, 0xbb, 0x02, 0xfe, 0, 0, 0, 0xaa, 0x08, 0x00,
    ];
    let total = 20 + 20 + payload;
    f.extend_from_slice(&[
        0x45,
        0,
        (total >> 8) as u8,
        total as u8,
        0,
        7,
        0x40,
        0,
        64,
        6,
        0,
        0,
    ]);
    f.extend_from_slice(&[10, 66, 0, 1, 10, 66, 0, 2]);
    let c = !csum_fold(csum_partial(&f[14..34], 0));
    f[24..26].copy_from_slice(&c.to_be_bytes());
    f.extend_from_slice(&[
        0x9c, 0x40, 0x13, 0x89, 0, 0, 1, 0, 0, 0, 0, 1, 0x50, 0x18, 0x10, 0, 0, 0, 0, 0,
    ]);
    f.extend((0..payload).map(|i| (i % 251) as u8));
    let l4_len = (20 + payload) as u64;
    let ph = csum_fold(csum_partial(&f[26..34], 0) + 6 + l4_len);
    f[50..52].copy_from_slice(&ph.to_be_bytes());
    f
}

/// The offload metadata a kernel with TSO gives a [`tcp_superframe`].
const TSO: Offload = Offload {
    flags: Offload::F_NEEDS_CSUM,
    gso_type: Offload::GSO_TCPV4,
    gso_size: 1448,
    hdr_len: 54,
    csum_start: 34,
    csum_offset: 16,
};

/// The segments of a [`tcp_superframe`] cut in software, with full
/// checksums, as a sender without offloads puts them on the wire.
fn cut_in_software(superframe: &[u8]) -> Vec<(Vec<u8>, Offload)> {
    let mut sf = Packet::from_frame(superframe);
    sf.meta.offload = TSO;
    let mut pool = PacketPool::with_default_size(64);
    let mut segs = PacketBatch::with_capacity(64);
    netdev::offload::segment(&sf, &mut pool, &mut segs).expect("segment");
    segs.iter()
        .map(|p| (p.data().to_vec(), Offload::default()))
        .collect()
}

fn tcp_csum_ok(seg: &[u8]) -> bool {
    let l4_len = seg.len() - 34;
    let sum = csum_partial(&seg[26..34], 0) + 6 + l4_len as u64;
    csum_fold(csum_partial(&seg[34..], sum)) == 0xffff
}

fn afpacket_roundtrip(ring: RxMode, tx: TxMode) {
    let Some(ns) = Netns::enter("afpacket_roundtrip") else {
        return;
    };
    veth_pair(&ns, "fva", "fvb");
    let cfg = NetdevConfig {
        rx_mode: ring,
        ..NetdevConfig::default()
    };
    let a = netdev::open("fva", "system", &cfg).expect("open fva");
    let b = netdev::open("fvb", "system", &cfg).expect("open fvb");
    assert_eq!(a.type_name(), "system");
    assert!(a.ifindex().unwrap() > 0);
    assert!(a.flags().unwrap().contains(NetdevFlags::UP));
    let frames: Vec<(Vec<u8>, Offload)> = (0..40)
        .map(|i| {
            (
                test_frame(i, if i % 5 == 0 { Some(0x2064) } else { None }),
                Offload::default(),
            )
        })
        .collect();
    assert_eq!(send(&a, &frames), frames.len());
    let got = collect(&b, frames.len(), is_test);
    assert_eq!(got.len(), frames.len(), "every frame arrives");
    let mut want: Vec<&Vec<u8>> = frames.iter().map(|f| &f.0).collect();
    let mut have: Vec<&Vec<u8>> = got.iter().map(|f| &f.0).collect();
    want.sort();
    have.sort();
    assert_eq!(want, have, "bytes identical, VLAN tags put back in place");
    // Our own sends are not received back on the sending port.
    assert!(
        collect_for(&a, 1, Duration::from_millis(500), is_test).is_empty(),
        "outgoing frames ignored"
    );
    let (sa, sb) = (a.stats().unwrap(), b.stats().unwrap());
    assert_eq!(sa.tx_packets, 40);
    assert_eq!(
        sa.tx_bytes,
        frames.iter().map(|f| f.0.len() as u64).sum::<u64>()
    );
    assert!(sb.rx_packets >= 40);
    // A frame larger than the MTU is refused by the device and counted (a
    // transmit ring hands it over and the device drops it later).
    if tx == TxMode::Sendmmsg {
        let big = test_frame(100, None);
        assert!(big.len() > 1514);
        assert_eq!(send(&a, &[(big, Offload::default())]), 0);
        assert_eq!(a.stats().unwrap().tx_errors, 1);
    }
    drop(ns);
}

#[test]
fn afpacket_roundtrip_v2() {
    afpacket_roundtrip(RxMode::RingV2, TxMode::Sendmmsg);
}

#[test]
fn afpacket_roundtrip_v3() {
    afpacket_roundtrip(RxMode::RingV3, TxMode::Sendmmsg);
}

#[test]
fn afpacket_roundtrip_tx_ring() {
    afpacket_roundtrip(RxMode::RingV2, TxMode::RingV2);
}

#[test]
fn afpacket_roundtrip_recvmmsg() {
    afpacket_roundtrip(RxMode::Recvmmsg, TxMode::Sendmmsg);
}

#[test]
fn afpacket_superframe_passes_unsegmented() {
    for (mode, tx) in [
        (RxMode::RingV2, TxMode::Sendmmsg),
        (RxMode::RingV3, TxMode::Sendmmsg),
        (RxMode::Recvmmsg, TxMode::Sendmmsg),
        (RxMode::RingV2, TxMode::RingV2),
    ] {
        superframe_passes_unsegmented(mode, tx);
    }
}

fn superframe_passes_unsegmented(mode: RxMode, tx: TxMode) {
    let Some(ns) = Netns::enter("afpacket_superframe_passes_unsegmented") else {
        return;
    };
    veth_pair(&ns, "fva", "fvb");
    let cfg = NetdevConfig {
        rx_mode: mode,
        ..NetdevConfig::default()
    };
    let a = netdev::open("fva", "system", &cfg).expect("open fva");
    let b = netdev::open("fvb", "system", &cfg).expect("open fvb");
    let f = tcp_superframe(30000);
    let o = TSO;
    assert_eq!(send(&a, &[(f.clone(), o)]), 1);
    let got = collect(&b, 1, |p| p.data().len() > 34 && p.data()[23] == 6);
    assert_eq!(got.len(), 1);
    let (data, off) = &got[0];
    assert_eq!(data, &f, "super-frame crosses whole ({mode:?}, {tx:?})");
    assert_eq!(off.gso_kind(), Offload::GSO_TCPV4);
    assert_eq!(off.gso_size, 1448);
    assert!(off.needs_csum());
    assert_eq!((off.csum_start, off.csum_offset), (34, 16));
    drop(ns);
}

#[test]
fn afpacket_segments_when_egress_lacks_offload() {
    let Some(ns) = Netns::enter("afpacket_segments_when_egress_lacks_offload") else {
        return;
    };
    veth_pair(&ns, "fva", "fvb");
    let plain = NetdevConfig {
        vnet_hdr: false,
        ..NetdevConfig::default()
    };
    let a = netdev::open("fva", "system", &plain).expect("open fva");
    assert_eq!(a.features().tx_offloads, 0);
    let b = netdev::open("fvb", "system", &NetdevConfig::default()).expect("open fvb");
    let payload = 5000;
    let f = tcp_superframe(payload);
    let o = Offload {
        flags: Offload::F_NEEDS_CSUM,
        gso_type: Offload::GSO_TCPV4,
        gso_size: 1448,
        csum_start: 34,
        csum_offset: 16,
        ..Default::default()
    };
    assert_eq!(
        send(&a, &[(f.clone(), o)]),
        4,
        "5000 bytes in 1448-byte segments"
    );
    let got = collect(&b, 4, |p| p.data().len() > 34 && p.data()[23] == 6);
    assert_eq!(got.len(), 4);
    let mut payload_seen = 0;
    for (seg, off) in &got {
        assert!(!off.is_gso());
        assert!(tcp_csum_ok(seg), "segment checksum complete and right");
        payload_seen += seg.len() - 54;
    }
    assert_eq!(payload_seen, payload);
    drop(ns);
}

#[test]
fn tap_port_both_directions() {
    let Some(ns) = Netns::enter("tap_port_both_directions") else {
        return;
    };
    let mac: EthAddr = "02:fe:00:00:00:01".parse().unwrap();
    let cfg = NetdevConfig {
        mac: Some(mac),
        mtu: Some(1400),
        ..NetdevConfig::default()
    };
    let tap = netdev::open("fvndtap%d", "internal", &cfg).expect("open tap");
    let name = tap.name().to_string();
    assert!(
        name.starts_with("fvndtap") && !name.contains('%'),
        "kernel picked a unique name: {name}"
    );
    assert_eq!(tap.type_name(), "internal");
    assert_eq!(tap.mac().unwrap(), mac);
    assert_eq!(tap.mtu().unwrap(), 1400);
    assert!(tap.flags().unwrap().contains(NetdevFlags::UP));
    assert!(tap.carrier().unwrap());
    assert!(tap.open_rxq(0).is_ok());
    ip(&["-n", &ns.name, "addr", "add", "10.9.0.1/24", "dev", &name]);
    ip(&[
        "-n",
        &ns.name,
        "neigh",
        "add",
        "10.9.0.2",
        "lladdr",
        "02:fe:00:00:00:02",
        "dev",
        &name,
    ]);

    // Host to switch: a UDP datagram the host stack sends out the TAP.
    let sock = UdpSocket::bind("10.9.0.1:7001").expect("bind");
    sock.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    sock.send_to(b"hello from host", "10.9.0.2:7002")
        .expect("send_to");
    let got = collect(&tap, 1, |p| {
        p.data().len() > 42 && p.data()[23] == 17 && p.data().ends_with(b"hello from host")
    });
    assert_eq!(got.len(), 1);
    let (frame, off) = &got[0];
    assert_eq!(&frame[6..12], &mac.0);
    let mut pkt = Packet::from_frame(frame);
    pkt.meta.offload = *off;
    if off.needs_csum() {
        assert_eq!(
            (off.csum_start, off.csum_offset),
            (34, 6),
            "partial UDP checksum from the host"
        );
        netdev::offload::complete_checksum(&mut pkt).unwrap();
    }
    let d = pkt.data();
    let sum = csum_partial(&d[26..34], 0) + 17 + (d.len() - 34) as u64;
    assert_eq!(
        csum_fold(csum_partial(&d[34..], sum)),
        0xffff,
        "UDP checksum right once completed"
    );

    // Switch to host: a datagram with a partial checksum, completed by the
    // host stack thanks to the vnet header.
    let payload = b"hello from switch";
    let mut f = vec![];
    f.extend_from_slice(&mac.0);
    f.extend_from_slice(&[0x02, 0xfe, 0, 0, 0, 2, 0x08, 0x00]);
    let total = 20 + 8 + payload.len();
    f.extend_from_slice(&[
        0x45,
        0,
        0,
        total as u8,
        0,
        1,
        0,
        0,
        64,
        17,
        0,
        0,
        10,
        9,
        0,
        2,
        10,
        9,
        0,
        1,
    ]);
    let c = !csum_fold(csum_partial(&f[14..34], 0));
    f[24..26].copy_from_slice(&c.to_be_bytes());
    f.extend_from_slice(&[0x1b, 0x5a, 0x1b, 0x59, 0, (8 + payload.len()) as u8, 0, 0]);
    f.extend_from_slice(payload);
    let ph = csum_fold(csum_partial(&f[26..34], 0) + 17 + (8 + payload.len()) as u64);
    f[40..42].copy_from_slice(&ph.to_be_bytes());
    let o = Offload {
        flags: Offload::F_NEEDS_CSUM,
        csum_start: 34,
        csum_offset: 6,
        ..Default::default()
    };
    assert_eq!(send(&tap, &[(f, o)]), 1);
    let mut buf = [0u8; 100];
    let (n, from) = sock
        .recv_from(&mut buf)
        .expect("host stack accepted the frame");
    assert_eq!(&buf[..n], payload);
    assert_eq!(from.to_string(), "10.9.0.2:7002");
    let st = tap.stats().unwrap();
    assert_eq!(st.tx_packets, 1);
    assert!(st.rx_packets >= 1);
    drop(tap);
    drop(ns);
}

#[test]
fn second_owner_of_a_queue_is_refused() {
    let Some(ns) = Netns::enter("second_owner_of_a_queue_is_refused") else {
        return;
    };
    veth_pair(&ns, "fva", "fvb");
    let a = netdev::open("fva", "system", &NetdevConfig::default()).expect("open fva");
    let q = a.open_rxq(0).expect("first owner");
    let e = a.open_rxq(0).err().expect("second owner refused");
    assert_eq!(e.errno(), libc::EBUSY);
    assert!(a.open_rxq(1).is_err(), "no such queue");
    drop(q);
    assert!(a.open_rxq(0).is_ok(), "free again once dropped");
    drop(ns);
}

#[test]
fn ring_keeps_order_around_superframes() {
    let Some(ns) = Netns::enter("ring_keeps_order_around_superframes") else {
        return;
    };
    veth_pair(&ns, "fva", "fvb");
    let cfg = NetdevConfig {
        rx_mode: RxMode::RingV2,
        ..NetdevConfig::default()
    };
    let a = netdev::open("fva", "system", &cfg).expect("open fva");
    let b = netdev::open("fvb", "system", &cfg).expect("open fvb");
    let o = TSO;
    let frames = vec![
        (test_frame(1, None), Offload::default()),
        (tcp_superframe(20000), o),
        (test_frame(2, Some(0x0005)), Offload::default()),
        (tcp_superframe(9000), o),
        (test_frame(3, None), Offload::default()),
    ];
    assert_eq!(send(&a, &frames), frames.len());
    let got = collect(&b, frames.len(), |p| {
        is_test(p) || (p.data().len() > 34 && p.data()[23] == 6)
    });
    let got: Vec<&Vec<u8>> = got.iter().map(|g| &g.0).collect();
    let want: Vec<&Vec<u8>> = frames.iter().map(|f| &f.0).collect();
    assert_eq!(
        got, want,
        "ring slots and queued super-frames come out in wire order"
    );
    drop(ns);
}

#[test]
fn fanout_spreads_over_receive_queues() {
    let Some(ns) = Netns::enter("fanout_spreads_over_receive_queues") else {
        return;
    };
    veth_pair(&ns, "fva", "fvb");
    let a = netdev::open("fva", "system", &NetdevConfig::default()).expect("open fva");
    let cfg = NetdevConfig {
        n_rxq: 2,
        ..NetdevConfig::default()
    };
    let b = netdev::open("fvb", "system", &cfg).expect("open fvb with 2 queues");
    assert_eq!(b.n_rxq(), 2);
    // 64 UDP flows (distinct source ports), 2 frames each.
    let mut frames = Vec::new();
    for i in 0..128u16 {
        let mut f = vec![
            0x02, 0xfe, 0, 0, 0, 0xbb, 0x02, 0xfe, 0, 0, 0, 0xaa, 0x08, 0x00,
        ];
        f.extend_from_slice(&[
            0x45, 0, 0, 32, 0, 1, 0, 0, 64, 17, 0, 0, 10, 77, 0, 1, 10, 77, 0, 2,
        ]);
        let c = !csum_fold(csum_partial(&f[14..34], 0));
        f[24..26].copy_from_slice(&c.to_be_bytes());
        f.extend_from_slice(&(1000 + i % 64).to_be_bytes());
        f.extend_from_slice(&[0x1f, 0x90, 0, 12, 0, 0, 0xde, 0xad, 0xbe, 0xef]);
        frames.push((f, Offload::default()));
    }
    assert_eq!(send(&a, &frames), frames.len());
    let mut q0 = b.open_rxq(0).expect("queue 0");
    let mut q1 = b.open_rxq(1).expect("queue 1");
    let mut pool = PacketPool::with_default_size(64);
    let mut batch = PacketBatch::new();
    let ours = |p: &Packet| {
        p.data().len() == 46 && p.data()[23] == 17 && p.data()[30..34] == [10, 77, 0, 2]
    };
    let (mut n0, mut n1) = (0, 0);
    let start = Instant::now();
    while n0 + n1 < frames.len() && start.elapsed() < Duration::from_secs(10) {
        for (q, n) in [(&mut q0, &mut n0), (&mut q1, &mut n1)] {
            q.recv(&mut pool, &mut batch).expect("recv");
            *n += batch.iter().filter(|p| ours(p)).count();
            pool.recycle(&mut batch);
        }
        netdev::sys::wait_readable(&[q0.wait_fd(), q1.wait_fd()], 50).expect("poll");
    }
    assert_eq!(n0 + n1, frames.len(), "every frame on exactly one queue");
    assert!(
        n0 > 0 && n1 > 0,
        "64 flows spread over both queues ({n0}/{n1})"
    );
    drop(ns);
}

/// A V2 ring hands frames on in their slots: packets are borrowed, keep
/// their bytes while later frames arrive, have a pool buffer's headroom,
/// and give their slot back when dropped (many times round a small ring,
/// with packets still held across the wraps).
#[test]
fn v2_slots_are_lent_and_given_back() {
    let Some(ns) = Netns::enter("v2_slots_are_lent_and_given_back") else {
        return;
    };
    veth_pair(&ns, "fva", "fvb");
    // The smallest ring: 2 MiB of 2 KiB slots (1024 slots).
    let cfg = NetdevConfig {
        rx_mode: RxMode::RingV2,
        rx_block_size: 1 << 17,
        rx_blocks: 2,
        ..NetdevConfig::default()
    };
    let a = netdev::open("fva", "system", &cfg).expect("open fva");
    let b = netdev::open("fvb", "system", &cfg).expect("open fvb");
    let mut rxq = b.open_rxq(0).expect("open rxq");
    let mut pool = PacketPool::with_default_size(8);
    let mut held: Vec<(Packet, Vec<u8>)> = Vec::new();
    let mut seen = 0usize;
    let total = 3000usize;
    let chunk = 100usize;
    for c in 0..total / chunk {
        let frames: Vec<(Vec<u8>, Offload)> = (0..chunk)
            .map(|i| (test_frame((c * chunk + i) % 40, None), Offload::default()))
            .collect();
        assert_eq!(send(&a, &frames), chunk);
        let start = Instant::now();
        let mut got = 0;
        while got < chunk && start.elapsed() < Duration::from_secs(10) {
            let mut batch = PacketBatch::new();
            rxq.recv(&mut pool, &mut batch).expect("recv");
            while let Some(p) = batch.pop() {
                if !is_test(&p) {
                    continue;
                }
                assert!(p.is_borrowed(), "handed on in its slot");
                assert!(p.headroom() >= 128, "headroom {}", p.headroom());
                got += 1;
                // Hold a few packets of every chunk for a while.
                if got % 40 == 0 {
                    let bytes = p.data().to_vec();
                    held.push((p, bytes));
                }
            }
            netdev::sys::wait_readable(&[rxq.wait_fd()], 50).expect("poll");
        }
        assert_eq!(got, chunk, "chunk {c} arrives whole");
        seen += got;
        if held.len() > 6 {
            // The oldest held packets still have their own bytes.
            for (p, bytes) in held.drain(..4) {
                assert_eq!(p.data(), &bytes[..], "a held slot is not refilled");
            }
        }
    }
    assert_eq!(seen, total, "the ring went round three times");
    assert_eq!(pool.available(), 8, "no pool buffer used");
    drop(held);
    drop(rxq);
    drop(ns);
}

/// Super-frames land in the second V2 ring and are handed on in their
/// slots; without that ring they are read from the socket into pool
/// buffers. Either way the bytes and offload state arrive whole.
#[test]
fn superframes_are_lent_from_the_second_ring() {
    let Some(ns) = Netns::enter("superframes_are_lent_from_the_second_ring") else {
        return;
    };
    veth_pair(&ns, "fva", "fvb");
    let o = TSO;
    for big_slots in [135, 0] {
        let cfg = NetdevConfig {
            rx_mode: RxMode::RingV2,
            rx_big_slots: big_slots,
            ..NetdevConfig::default()
        };
        let a = netdev::open("fva", "system", &cfg).expect("open fva");
        let b = netdev::open("fvb", "system", &cfg).expect("open fvb");
        let mut rxq = b.open_rxq(0).expect("open rxq");
        let frames: Vec<(Vec<u8>, Offload)> = (0..20)
            .map(|i| (tcp_superframe(20000 + i * 2000), o))
            .collect();
        assert_eq!(send(&a, &frames), frames.len());
        let mut pool = PacketPool::with_default_size(40);
        let mut got = Vec::new();
        let start = Instant::now();
        while got.len() < frames.len() && start.elapsed() < Duration::from_secs(10) {
            let mut batch = PacketBatch::new();
            rxq.recv(&mut pool, &mut batch).expect("recv");
            while let Some(p) = batch.pop() {
                if p.data().len() > 34 && p.data()[23] == 6 {
                    assert_eq!(p.is_borrowed(), big_slots > 0, "big_slots {big_slots}");
                    got.push((p.data().to_vec(), p.meta.offload));
                }
            }
            netdev::sys::wait_readable(&[rxq.wait_fd()], 50).expect("poll");
        }
        got.reverse(); // popped from the back of each batch
        let mut got_sorted: Vec<_> = got.iter().map(|g| g.0.clone()).collect();
        got_sorted.sort();
        let mut want: Vec<_> = frames.iter().map(|f| f.0.clone()).collect();
        want.sort();
        assert_eq!(
            got_sorted, want,
            "big_slots {big_slots}: every super-frame whole"
        );
        assert!(got
            .iter()
            .all(|g| g.1.gso_type == Offload::GSO_TCPV4 && g.1.gso_size == 1448));
        drop(rxq);
    }
    drop(ns);
}

#[test]
fn afpacket_tcp_segments_leave_as_one_superframe() {
    let Some(ns) = Netns::enter("afpacket_tcp_segments_leave_as_one_superframe") else {
        return;
    };
    veth_pair(&ns, "fca", "fcb");
    let b = netdev::open("fcb", "system", &NetdevConfig::default()).expect("open fcb");
    // A super-frame cut in software: 21 segments with full checksums, as a
    // sender without offloads puts them on the wire.
    let f = tcp_superframe(30000);
    let frames = cut_in_software(&f);
    assert_eq!(frames.len(), 21);
    assert!(frames.iter().all(|(s, _)| tcp_csum_ok(s)));
    let is_tcp = |p: &Packet| p.data().len() > 34 && p.data()[23] == 6;
    for coalesce in [true, false] {
        let cfg = NetdevConfig {
            tx_coalesce: coalesce,
            ..NetdevConfig::default()
        };
        let a = netdev::open("fca", "system", &cfg).expect("open fca");
        assert_eq!(send(&a, &frames), 21, "every segment counted as sent");
        assert_eq!(a.stats().expect("stats").tx_packets, 21);
        let want = if coalesce { 1 } else { 21 };
        let got = collect(&b, want, is_tcp);
        assert_eq!(got.len(), want, "coalesce={coalesce}");
        if coalesce {
            let (data, off) = &got[0];
            assert_eq!(
                data, &f,
                "the run arrives as the super-frame it was cut from"
            );
            assert_eq!(off.gso_kind(), Offload::GSO_TCPV4);
            assert_eq!(off.gso_size, 1448);
        } else {
            for (g, (s, _)) in got.iter().zip(&frames) {
                assert_eq!(&g.0, s);
            }
        }
    }
    // A segment whose checksum is wrong is not laundered into a run.
    let mut bad = frames.clone();
    bad[5].0[200] ^= 0xff;
    let a = netdev::open("fca", "system", &NetdevConfig::default()).expect("open fca");
    assert_eq!(send(&a, &bad), 21);
    let got = collect(&b, 3, is_tcp);
    assert_eq!(got.len(), 3, "segments 0-4, the bad one, then 6-20");
    assert_eq!(got[1].0, bad[5].0);
    drop(ns);
}

/// Whether interface `name` exists in namespace `ns`.
fn link_exists(ns: &Netns, name: &str) -> bool {
    Command::new("ip")
        .args(["-n", &ns.name, "link", "show", name])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

/// Not a test on its own: the process `tap_outlives_a_crash_and_is_taken_back`
/// starts (and kills) to hold a TAP device as a switch would.
#[test]
#[ignore]
fn tap_holder_for_crash_test() {
    let Ok(name) = std::env::var("FERROVS_TEST_TAP_HOLD") else {
        return;
    };
    let _tap = netdev::open(&name, "internal", &NetdevConfig::default()).expect("open tap");
    println!("holding {name}");
    std::thread::sleep(Duration::from_secs(60));
}

#[test]
fn tap_outlives_a_crash_and_is_taken_back() {
    let Some(ns) = Netns::enter("tap_outlives_a_crash_and_is_taken_back") else {
        return;
    };
    let name = "fvcrash0";
    // A process in this namespace (spawned from this thread) opens the
    // device and dies by SIGKILL, as ovs-vswitchd under kill -9.
    let mut holder = Command::new(std::env::current_exe().expect("test binary"))
        .args(["--ignored", "--exact", "tap_holder_for_crash_test"])
        .env("FERROVS_TEST_TAP_HOLD", name)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn holder");
    let start = Instant::now();
    while !link_exists(&ns, name) && start.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(link_exists(&ns, name), "the holder made the device");
    ip(&["-n", &ns.name, "addr", "add", "10.99.0.1/24", "dev", name]);
    holder.kill().expect("kill holder");
    holder.wait().expect("reap holder");
    assert!(link_exists(&ns, name), "the device outlives the process");
    // Opening the name again attaches to the same device, address kept.
    let tap = netdev::open(name, "internal", &NetdevConfig::default()).expect("reopen");
    assert_eq!(tap.name(), name);
    let out = Command::new("ip")
        .args(["-n", &ns.name, "-o", "addr", "show", "dev", name])
        .output()
        .expect("ip addr");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("10.99.0.1/24"),
        "address kept across the crash"
    );
    assert!(tap.carrier().unwrap(), "carrier back once attached");
    // Closing it normally removes it.
    drop(tap);
    assert!(!link_exists(&ns, name), "closed normally, the device goes");
    drop(ns);
}

#[test]
fn tap_tcp_segments_are_written_as_one_superframe() {
    let Some(ns) = Netns::enter("tap_tcp_segments_are_written_as_one_superframe") else {
        return;
    };
    let tap = netdev::open("fctap0", "internal", &NetdevConfig::default()).expect("open tap");
    // What the host receives on the device, seen through a packet socket.
    let host = netdev::open("fctap0", "system", &NetdevConfig::default()).expect("open host side");
    let f = tcp_superframe(30000);
    let frames = cut_in_software(&f);
    assert_eq!(send(&tap, &frames), 21, "every segment counted as sent");
    let is_tcp = |p: &Packet| p.data().len() > 34 && p.data()[23] == 6;
    let got = collect(&host, 1, is_tcp);
    assert_eq!(got.len(), 1);
    assert_eq!(
        got[0].0, f,
        "the run arrives as the super-frame it was cut from"
    );
    assert_eq!(got[0].1.gso_kind(), Offload::GSO_TCPV4);
    drop(host);
    drop(tap);
    drop(ns);
}
