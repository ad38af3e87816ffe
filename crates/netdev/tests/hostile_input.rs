//! Hostile input never panics: arbitrary ring memory, arbitrary frames with
//! arbitrary offload metadata through segmentation and checksum completion.
//! Outcomes are checked too: what segmentation emits always has complete,
//! correct checksums and fits the pool's buffers.

use netdev::offload::{complete_checksum, csum_fold, csum_partial, prepare, segment, TxPlan};
use netdev::Features;
use packet::buffer::{Offload, Packet, PacketBatch, PacketPool};
use proptest::prelude::*;

fn offload() -> impl Strategy<Value = Offload> {
    (
        any::<u8>(),
        prop_oneof![
            Just(0u8),
            Just(1),
            Just(3),
            Just(4),
            Just(5),
            Just(0x81),
            any::<u8>()
        ],
        any::<u16>(),
        0u16..3000,
        0u16..200,
        0u16..40,
    )
        .prop_map(
            |(flags, gso_type, hdr_len, gso_size, csum_start, csum_offset)| Offload {
                flags,
                gso_type,
                hdr_len,
                gso_size,
                csum_start,
                csum_offset,
            },
        )
}

/// A plausible TCP/IPv4 or IPv6 frame with random bytes sprinkled over it,
/// so that both the deep paths and the error paths are reached.
fn frame() -> impl Strategy<Value = Vec<u8>> {
    (
        any::<bool>(),
        0usize..4000,
        proptest::collection::vec((0usize..120, any::<u8>()), 0..4),
    )
        .prop_map(|(v6, payload, noise)| {
            let mut f = vec![2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1];
            if v6 {
                f.extend_from_slice(&[0x86, 0xdd, 0x60, 0, 0, 0]);
                f.extend_from_slice(&((20 + payload) as u16).to_be_bytes());
                f.extend_from_slice(&[6, 64]);
                f.extend_from_slice(&[0xfd; 32]);
            } else {
                f.extend_from_slice(&[0x08, 0x00, 0x45, 0]);
                f.extend_from_slice(&((40 + payload) as u16).to_be_bytes());
                f.extend_from_slice(&[0, 1, 0, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2]);
            }
            f.extend_from_slice(&[
                0, 80, 0, 81, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x18, 1, 0, 0, 0, 0, 0,
            ]);
            f.extend((0..payload).map(|i| i as u8));
            for (at, b) in noise {
                if at < f.len() {
                    f[at] = b;
                }
            }
            f
        })
}

/// Whether the L4 checksum of an untagged IPv4/IPv6 segment is right (a
/// frame whose noise turned it into something else is not judged).
fn l4_ok(seg: &[u8]) -> bool {
    if seg[12..14] != [0x08, 0x00] && seg[12..14] != [0x86, 0xdd] {
        return true;
    }
    let (l3, v6) = (14, seg[12] == 0x86);
    let l4 = if v6 {
        l3 + 40
    } else {
        l3 + ((seg[l3] & 15) as usize) * 4
    };
    let proto = if v6 { seg[l3 + 6] } else { seg[l3 + 9] } as u64;
    let len = (seg.len() - l4) as u64;
    let ph = if v6 {
        csum_partial(&seg[l3 + 8..l3 + 40], 0)
    } else {
        csum_partial(&seg[l3 + 12..l3 + 20], 0)
    };
    csum_fold(csum_partial(&seg[l4..], ph + proto + len)) == 0xffff
}

proptest! {
    #[test]
    fn segmentation_never_panics_and_emits_valid_segments(f in frame(), o in offload()) {
        let mut pkt = Packet::from_frame(&f);
        pkt.meta.offload = o;
        let mut pool = PacketPool::new(300, 4200, 64);
        let mut out = PacketBatch::with_capacity(300);
        if segment(&pkt, &mut pool, &mut out).is_ok() && o.is_gso() {
            for s in out.iter() {
                prop_assert!(l4_ok(s.data()), "segment checksum");
                prop_assert!(!s.meta.offload.needs_csum());
            }
        }
        pool.recycle(&mut out);
        prop_assert_eq!(pool.available(), 300);
        let _ = prepare(&mut pkt, &Features::default());
        let _ = complete_checksum(&mut pkt);
        let mut pkt2 = Packet::from_frame(&f);
        pkt2.meta.offload = o;
        let feats = Features { tx_offloads: Features::TX_ALL, speed_mbps: None };
        if !o.is_gso() {
            prop_assert_eq!(prepare(&mut pkt2, &feats), Ok(TxPlan::Direct));
        }
    }

    #[test]
    fn buffer_edits_never_panic(len in 0usize..300, ops in proptest::collection::vec((0u8..4, 0usize..400, 0usize..64), 0..12), o in offload()) {
        let mut p = Packet::new(512, 64);
        p.copy_from(&vec![7u8; len]).unwrap();
        p.meta.offload = o;
        for (op, at, n) in ops {
            let before = p.len();
            let ok = match op {
                0 => p.insert_gap(at, n).is_ok(),
                1 => p.remove_gap(at, n).is_ok(),
                2 => p.push_front(n).is_ok(),
                _ => p.pull_front(n).is_ok(),
            };
            if !ok {
                prop_assert_eq!(p.len(), before, "failed edits leave the length alone");
            }
            prop_assert!(p.headroom() + p.len() + p.tailroom() == 512);
        }
    }
}
