//! Transmit-side coalescing: consecutive TCP segments of one connection in
//! a transmit batch, contiguous in sequence space, leave as one TCP
//! super-frame (what the kernel's GRO builds on receive), so that an egress
//! that takes super-frames pays its per-frame cost once per run instead of
//! once per segment (one socket message, one buffer, one pass through the
//! receiving stack, one acknowledgment).
//!
//! The rules are GRO's: same Ethernet header, same IP header but for the
//! length, ID and checksum (IPv4 with DF set, no options or fragments;
//! IPv6 with TCP as next header), same ports, acknowledgment number, header
//! length and options; ACK set, no SYN/FIN/RST/URG/ECE/CWR; every segment
//! but the last of full size (that size becomes the super-frame's segment
//! size); PSH ends a run. A segment is taken only when its checksum is
//! known good (the kernel verified it, it is partial, or it verifies here):
//! the super-frame leaves with a partial checksum the receiver trusts. The
//! software check is lazy: it runs only when a second segment joins, so a
//! segment that leaves alone is never summed here.
//!
//! [`Seg::of`] reads a segment, [`Run`] follows a run, [`Run::finish`]
//! rewrites the first frame's headers into the super-frame's and gives its
//! offload state; the payloads of the other segments follow the first frame
//! in the same socket message.

use packet::buffer::{Offload, Packet};

use crate::offload::{csum_fold, csum_partial};

const ETH_HLEN: usize = 14;
const TCP_ACK: u8 = 0x10;
const TCP_PSH: u8 = 0x08;
/// Flags that keep a segment out of any run: FIN, SYN, RST, URG, ECE, CWR.
const TCP_NO_MERGE: u8 = 0x01 | 0x02 | 0x04 | 0x20 | 0x40 | 0x80;
/// Largest super-frame, Ethernet header included (within both the IP
/// length fields and the kernel's default GSO limit of 64 KiB).
const MAX_FRAME: usize = 65535;

/// Where a TCP segment's headers are and what the run needs of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Seg {
    /// Offset of the TCP header (the IP header starts at 14).
    l4: usize,
    /// Length of all headers: the payload starts here.
    hdr: usize,
    payload: usize,
    seq: u32,
    flags: u8,
    ipv6: bool,
    /// Whether its checksums are known good without summing (partial, or
    /// verified by the kernel); otherwise they are checked when it joins or
    /// starts a run of two.
    trusted: bool,
}

fn be16(d: &[u8], at: usize) -> usize {
    u16::from_be_bytes([d[at], d[at + 1]]) as usize
}

impl Seg {
    /// Reads `pkt` as a segment that may join a run, or None.
    pub fn of(pkt: &Packet) -> Option<Seg> {
        let off = pkt.meta.offload;
        if off.is_gso() {
            return None;
        }
        let d = pkt.data();
        if d.len() < ETH_HLEN + 40 {
            return None;
        }
        let (l4, ipv6) = match be16(d, 12) {
            0x0800 => {
                let ip = &d[ETH_HLEN..];
                // Version 4, no options; DF set, MF clear, offset 0; TCP;
                // the frame ends where the packet does.
                if ip[0] != 0x45
                    || ip[6] != 0x40
                    || ip[7] != 0
                    || ip[9] != 6
                    || ETH_HLEN + be16(ip, 2) != d.len()
                {
                    return None;
                }
                (ETH_HLEN + 20, false)
            }
            0x86dd => {
                let ip = &d[ETH_HLEN..];
                if ip[0] >> 4 != 6 || ip[6] != 6 || ETH_HLEN + 40 + be16(ip, 4) != d.len() {
                    return None;
                }
                (ETH_HLEN + 40, true)
            }
            _ => return None,
        };
        let t = d.get(l4..l4 + 20)?;
        let hdr = l4 + (t[12] >> 4) as usize * 4;
        let flags = t[13];
        if hdr < l4 + 20 || hdr >= d.len() || flags & TCP_ACK == 0 || flags & TCP_NO_MERGE != 0 {
            return None;
        }
        let trusted = if off.needs_csum() {
            // A partial checksum elsewhere than TCP's field is not ours to
            // merge.
            if off.csum_start as usize != l4 || off.csum_offset != 16 {
                return None;
            }
            true
        } else {
            off.flags & Offload::F_DATA_VALID != 0
        };
        Some(Seg {
            l4,
            hdr,
            payload: d.len() - hdr,
            seq: u32::from_be_bytes([t[4], t[5], t[6], t[7]]),
            flags,
            ipv6,
            trusted,
        })
    }

    /// Whether frame `d` (the frame this segment was read from) has good
    /// checksums: known, or summed now.
    fn verified(&self, d: &[u8]) -> bool {
        self.trusted || checksums_ok(d, self.l4, self.ipv6)
    }
}

/// Pseudo-header sum (addresses, protocol TCP, `l4_len`).
fn pseudo_sum(d: &[u8], ipv6: bool, l4_len: usize) -> u64 {
    let addrs = if ipv6 {
        &d[ETH_HLEN + 8..ETH_HLEN + 40]
    } else {
        &d[ETH_HLEN + 12..ETH_HLEN + 20]
    };
    csum_partial(addrs, 0) + 6 + l4_len as u64
}

/// Whether the IPv4 header checksum and the TCP checksum of `d` verify.
fn checksums_ok(d: &[u8], l4: usize, ipv6: bool) -> bool {
    if !ipv6 && csum_fold(csum_partial(&d[ETH_HLEN..l4], 0)) != 0xffff {
        return false;
    }
    let sum = pseudo_sum(d, ipv6, d.len() - l4);
    csum_fold(csum_partial(&d[l4..], sum)) == 0xffff
}

/// A run being followed: its first segment and how far it got.
#[derive(Clone, Copy, Debug)]
pub struct Run {
    first: Seg,
    /// Payload bytes so far.
    total: usize,
    /// Segments so far.
    count: usize,
    /// Payload of the last segment taken.
    last_payload: usize,
    last_flags: u8,
    /// The first segment's checksums failed (checked when a second came):
    /// nothing joins this run.
    broken: bool,
}

impl Run {
    /// Starts a run at `seg`.
    pub fn start(seg: Seg) -> Run {
        Run {
            first: seg,
            total: seg.payload,
            count: 1,
            last_payload: seg.payload,
            last_flags: seg.flags,
            broken: false,
        }
    }

    /// Segments in the run.
    pub fn count(&self) -> usize {
        self.count
    }

    /// Whether segment `seg` (frame `d`) continues the run whose first
    /// frame is `first`; takes it if so. Checksums not known good are
    /// summed here, the first segment's when a second is about to join.
    pub fn push(&mut self, first: &[u8], d: &[u8], seg: &Seg) -> bool {
        if self.broken {
            return false;
        }
        let f = &self.first;
        let mss = f.payload;
        let same_headers = seg.l4 == f.l4
            && seg.hdr == f.hdr
            && seg.ipv6 == f.ipv6
            && d.len() >= seg.hdr
            && first.len() >= f.hdr
            && d[..ETH_HLEN] == first[..ETH_HLEN]
            && if f.ipv6 {
                // Version, class, flow label; next header, hop limit;
                // addresses.
                d[14..18] == first[14..18] && d[20..54] == first[20..54]
            } else {
                // Version, IHL, TOS; flags and offset, TTL, protocol;
                // addresses.
                d[14..16] == first[14..16] && d[20..24] == first[20..24] && d[26..34] == first[26..34]
            }
            // Ports; acknowledgment number, data offset; options.
            && d[f.l4..f.l4 + 4] == first[f.l4..f.l4 + 4]
            && d[f.l4 + 8..f.l4 + 13] == first[f.l4 + 8..f.l4 + 13]
            && d[f.l4 + 20..f.hdr] == first[f.l4 + 20..f.hdr];
        if !same_headers
            || self.last_flags & TCP_PSH != 0
            || self.last_payload != mss
            || seg.payload > mss
            || seg.flags & !TCP_PSH != f.flags & !TCP_PSH
            || seg.seq != f.seq.wrapping_add(self.total as u32)
            || f.hdr + self.total + seg.payload > MAX_FRAME
        {
            return false;
        }
        if self.count == 1 && !f.verified(first) {
            self.broken = true;
            return false;
        }
        if !seg.verified(d) {
            return false;
        }
        self.total += seg.payload;
        self.count += 1;
        self.last_payload = seg.payload;
        self.last_flags = seg.flags;
        true
    }

    /// Offset of the payload in every segment of the run.
    pub fn payload_offset(&self) -> usize {
        self.first.hdr
    }

    /// Rewrites the first frame `d` (lengths, IPv4 header checksum, PSH of
    /// the last segment, partial TCP checksum) into the super-frame's
    /// headers and returns its offload state. A run of one segment is left
    /// as it is (None).
    pub fn finish(&self, d: &mut [u8]) -> Option<Offload> {
        let f = &self.first;
        if self.count < 2 || d.len() < f.hdr {
            return None;
        }
        let l4_len = f.hdr - f.l4 + self.total;
        if f.ipv6 {
            d[ETH_HLEN + 4..ETH_HLEN + 6].copy_from_slice(&(l4_len as u16).to_be_bytes());
        } else {
            let tot = (f.l4 - ETH_HLEN + l4_len) as u16;
            d[ETH_HLEN + 2..ETH_HLEN + 4].copy_from_slice(&tot.to_be_bytes());
            d[ETH_HLEN + 10..ETH_HLEN + 12].copy_from_slice(&[0, 0]);
            let c = !csum_fold(csum_partial(&d[ETH_HLEN..f.l4], 0));
            d[ETH_HLEN + 10..ETH_HLEN + 12].copy_from_slice(&c.to_be_bytes());
        }
        d[f.l4 + 13] = f.flags | (self.last_flags & TCP_PSH);
        let p = csum_fold(pseudo_sum(d, f.ipv6, l4_len));
        d[f.l4 + 16..f.l4 + 18].copy_from_slice(&p.to_be_bytes());
        Some(Offload {
            flags: Offload::F_NEEDS_CSUM,
            gso_type: if f.ipv6 {
                Offload::GSO_TCPV6
            } else {
                Offload::GSO_TCPV4
            },
            hdr_len: f.hdr as u16,
            gso_size: f.payload as u16,
            csum_start: f.l4 as u16,
            csum_offset: 16,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::offload::{complete_checksum, segment};
    use packet::buffer::{PacketBatch, PacketPool};

    /// A TCP/IPv4 frame with valid checksums.
    fn tcp4(seq: u32, payload: &[u8], flags: u8) -> Vec<u8> {
        let mut f = vec![0u8; 54];
        f[0..6].copy_from_slice(&[2, 0, 0, 0, 0, 2]);
        f[6..12].copy_from_slice(&[2, 0, 0, 0, 0, 1]);
        f[12..14].copy_from_slice(&[0x08, 0x00]);
        f[14] = 0x45;
        let tot = (40 + payload.len()) as u16;
        f[16..18].copy_from_slice(&tot.to_be_bytes());
        f[18..20].copy_from_slice(&(seq as u16).to_be_bytes());
        f[20] = 0x40;
        f[22] = 64;
        f[23] = 6;
        f[26..30].copy_from_slice(&[10, 77, 0, 1]);
        f[30..34].copy_from_slice(&[10, 77, 0, 2]);
        let c = !csum_fold(csum_partial(&f[14..34], 0));
        f[24..26].copy_from_slice(&c.to_be_bytes());
        f[34..36].copy_from_slice(&40000u16.to_be_bytes());
        f[36..38].copy_from_slice(&5201u16.to_be_bytes());
        f[38..42].copy_from_slice(&seq.to_be_bytes());
        f[42..46].copy_from_slice(&7u32.to_be_bytes());
        f[46] = 0x50;
        f[47] = flags;
        f[48..50].copy_from_slice(&512u16.to_be_bytes());
        f.extend_from_slice(payload);
        let sum = pseudo_sum(&f, false, f.len() - 34);
        let c = !csum_fold(csum_partial(&f[34..], sum));
        f[50..52].copy_from_slice(&c.to_be_bytes());
        f
    }

    fn pkt(f: &[u8]) -> Packet {
        Packet::from_frame(f)
    }

    /// Builds the super-frame a run stands for, as the kernel would gather
    /// it: the first frame (rewritten) then the others' payloads.
    fn gather(frames: &[Vec<u8>]) -> Option<(Vec<u8>, Offload)> {
        let mut first = pkt(&frames[0]);
        let mut run = Run::start(Seg::of(&first)?);
        for f in &frames[1..] {
            let s = Seg::of(&pkt(f))?;
            if !run.push(first.data(), f, &s) {
                return None;
            }
        }
        let off = run.finish(first.data_mut())?;
        let mut out = first.data().to_vec();
        for f in &frames[1..] {
            out.extend_from_slice(&f[run.payload_offset()..]);
        }
        Some((out, off))
    }

    #[test]
    fn a_run_becomes_a_super_frame_that_segments_back() {
        let segs: Vec<Vec<u8>> = (0..4u32)
            .map(|i| {
                let len = if i == 3 { 300 } else { 1000 };
                let payload: Vec<u8> = (0..len).map(|b| (b as u32 * 7 + i) as u8).collect();
                tcp4(1000 + i * 1000, &payload, if i == 3 { 0x18 } else { 0x10 })
            })
            .collect();
        let (sf, off) = gather(&segs).expect("run");
        assert_eq!(off.gso_type, Offload::GSO_TCPV4);
        assert_eq!(off.gso_size, 1000);
        assert_eq!((off.hdr_len, off.csum_start, off.csum_offset), (54, 34, 16));
        assert_eq!(sf.len(), 54 + 3300);
        assert_eq!(be16(&sf, 16), 40 + 3300);
        assert_eq!(csum_fold(csum_partial(&sf[14..34], 0)), 0xffff);
        assert_eq!(sf[47], 0x18, "PSH of the last segment");
        // Completing the partial checksum gives a valid segment.
        let mut whole = pkt(&sf);
        whole.meta.offload = Offload { gso_type: 0, ..off };
        complete_checksum(&mut whole).unwrap();
        assert!(checksums_ok(whole.data(), 34, false));
        // Cutting it again gives back the original segments' bytes, but for
        // the IP IDs (the cut numbers them from the first).
        let mut sfp = pkt(&sf);
        sfp.meta.offload = off;
        let mut pool = PacketPool::new(8, 4096, 64);
        let mut out = PacketBatch::new();
        segment(&sfp, &mut pool, &mut out).unwrap();
        assert_eq!(out.len(), 4);
        for (i, (got, want)) in out.iter().zip(&segs).enumerate() {
            let (mut g, mut w) = (got.data().to_vec(), want.clone());
            for v in [&mut g, &mut w] {
                v[18..20].copy_from_slice(&[0, 0]);
                v[24..26].copy_from_slice(&[0, 0]);
            }
            assert_eq!(g, w, "segment {i}");
        }
    }

    #[test]
    fn runs_break_where_gro_would() {
        let p = vec![0xabu8; 1000];
        let a = tcp4(1, &p, 0x10);
        // Not contiguous.
        assert!(gather(&[a.clone(), tcp4(1 + 999, &p, 0x10)]).is_none());
        // PSH ends a run.
        assert!(gather(&[tcp4(1, &p, 0x18), tcp4(1001, &p, 0x10)]).is_none());
        // A short segment ends a run.
        assert!(gather(&[tcp4(1, &p[..500], 0x10), tcp4(501, &p, 0x10)]).is_none());
        // A longer segment after the first does not join.
        assert!(gather(&[a.clone(), tcp4(1001, &[1u8; 1200], 0x10)]).is_none());
        // Other acknowledgment number.
        let mut b = tcp4(1001, &p, 0x10);
        b[45] = 8;
        assert!(gather(&[a.clone(), b]).is_none());
        // FIN, SYN never join; no ACK never joins.
        for fl in [0x11, 0x12, 0x00] {
            assert!(Seg::of(&pkt(&tcp4(1, &p, fl))).is_none(), "flags {fl:#x}");
        }
        // A bad TCP checksum keeps a segment out, second or first (the
        // first is summed only when a second comes).
        let mut bad = tcp4(1001, &p, 0x10);
        bad[100] ^= 1;
        assert!(Seg::of(&pkt(&bad)).is_some(), "not summed alone");
        assert!(gather(&[a.clone(), bad.clone()]).is_none());
        let mut bad_first = a.clone();
        bad_first[100] ^= 1;
        assert!(gather(&[bad_first.clone(), tcp4(1001, &p, 0x10)]).is_none());
        // A run whose first segment failed takes nothing more.
        let mut run = Run::start(Seg::of(&pkt(&bad_first)).unwrap());
        let good = tcp4(1001, &p, 0x10);
        let gs = Seg::of(&pkt(&good)).unwrap();
        assert!(!run.push(&bad_first, &good, &gs));
        assert!(!run.push(&bad_first, &good, &gs));
        // A bad IPv4 header checksum too.
        let mut bad_ip = tcp4(1001, &p, 0x10);
        bad_ip[24] ^= 1;
        assert!(gather(&[a.clone(), bad_ip]).is_none());
        // ...unless the kernel says it verified it.
        let mut v = pkt(&bad);
        v.meta.offload.flags = Offload::F_DATA_VALID;
        let vs = Seg::of(&v).unwrap();
        let mut run = Run::start(Seg::of(&pkt(&a)).unwrap());
        assert!(run.push(&a, &bad, &vs));
        // A partial checksum that is not TCP's keeps a segment out.
        let mut w = pkt(&a);
        w.meta.offload.flags = Offload::F_NEEDS_CSUM;
        w.meta.offload.csum_start = 34;
        w.meta.offload.csum_offset = 6;
        assert!(Seg::of(&w).is_none());
        // Without DF, or fragmented: no.
        let mut nodf = a.clone();
        nodf[20] = 0;
        assert!(Seg::of(&pkt(&nodf)).is_none());
        // A lone segment is left alone.
        let first = pkt(&a);
        let run = Run::start(Seg::of(&first).unwrap());
        let mut d = a.clone();
        assert_eq!(run.finish(&mut d), None);
        assert_eq!(d, a);
        // Then the pair that does join.
        assert!(gather(&[a, tcp4(1001, &p, 0x10)]).is_some());
    }

    #[test]
    fn runs_stop_below_the_length_limit() {
        let p = vec![1u8; 1448];
        let mut first = pkt(&tcp4(0, &p, 0x10));
        let mut run = Run::start(Seg::of(&first).unwrap());
        let mut n = 1;
        loop {
            let f = tcp4(n * 1448, &p, 0x10);
            let s = Seg::of(&pkt(&f)).unwrap();
            if !run.push(first.data(), &f, &s) {
                break;
            }
            n += 1;
        }
        assert_eq!(run.count(), 45);
        let off = run.finish(first.data_mut()).unwrap();
        assert_eq!(off.gso_size, 1448);
        assert!(be16(first.data(), 16) <= 65535);
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_frames_never_panic(
            a in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200),
            b in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200),
            tcp in proptest::prelude::any::<bool>(),
        ) {
            let mut a = a;
            let mut b = b;
            if tcp && a.len() >= 54 && b.len() >= 54 {
                for v in [&mut a, &mut b] {
                    v[12] = 8; v[13] = 0; v[14] = 0x45; v[20] = 0x40; v[21] = 0; v[23] = 6;
                    v[47] = 0x10;
                }
            }
            let mut pa = pkt(&a);
            pa.meta.offload.flags = Offload::F_DATA_VALID;
            let mut pb = pkt(&b);
            pb.meta.offload.flags = Offload::F_DATA_VALID;
            if let (Some(sa), Some(sb)) = (Seg::of(&pa), Seg::of(&pb)) {
                let mut run = Run::start(sa);
                let _ = run.push(pa.data(), pb.data(), &sb);
                let _ = run.finish(pa.data_mut());
            }
        }
    }
}
