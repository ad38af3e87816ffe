//! Software fallbacks for offloads an egress cannot take: completing a
//! partial checksum, and cutting a TCP (IPv4/IPv6) or UDP super-frame into
//! wire-size segments with their headers and checksums fixed.
//!
//! Providers call [`prepare`] on each outgoing packet; it answers whether the
//! packet can leave as is, after an in-place checksum fix, or must be
//! segmented with [`segment`] into fresh buffers from the thread's pool.

use packet::buffer::{Offload, Packet, PacketBatch, PacketPool};

use crate::provider::Features;

/// Why a packet could not be prepared for the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OffloadError {
    /// Headers are truncated, unknown or contradict the frame length.
    Malformed,
    /// A GSO type with no software fallback here (UFO, tunnels).
    Unsupported,
    /// The pool ran out of buffers for the segments.
    NoBuffers,
}

/// What the egress must do with a packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TxPlan {
    /// Send as is (with its vnet header, if the egress takes one).
    Direct,
    /// Cut into segments first.
    Segment,
}

/// Readies `pkt` for an egress with `features`: completes a partial checksum
/// the egress cannot take (in place), and says whether it must be segmented.
pub fn prepare(pkt: &mut Packet, features: &Features) -> Result<TxPlan, OffloadError> {
    let off = pkt.meta.offload;
    if off.is_gso() {
        let ok = match off.gso_kind() {
            Offload::GSO_TCPV4 => features.has(Features::TX_TSO4),
            Offload::GSO_TCPV6 => features.has(Features::TX_TSO6),
            Offload::GSO_UDP_L4 => features.has(Features::TX_USO),
            _ => false,
        };
        // A super-frame that fits one segment needs no cutting, only its
        // checksum.
        if ok {
            return Ok(TxPlan::Direct);
        }
        return Ok(TxPlan::Segment);
    }
    if off.needs_csum() && !features.has(Features::TX_CSUM) {
        complete_checksum(pkt)?;
    }
    Ok(TxPlan::Direct)
}

/// Ones'-complement sum of `data` (as big-endian 16-bit words, an odd last
/// byte padded with zero), added to `initial`, not folded.
pub fn csum_partial(data: &[u8], initial: u64) -> u64 {
    let mut sum = initial;
    let mut chunks = data.chunks_exact(4);
    for c in &mut chunks {
        sum += u32::from_be_bytes([c[0], c[1], c[2], c[3]]) as u64;
    }
    let rest = chunks.remainder();
    let mut i = 0;
    while i + 1 < rest.len() {
        sum += u16::from_be_bytes([rest[i], rest[i + 1]]) as u64;
        i += 2;
    }
    if i < rest.len() {
        sum += (rest[i] as u64) << 8;
    }
    sum
}

/// Folds a sum to 16 bits (not complemented).
pub fn csum_fold(mut sum: u64) -> u16 {
    while sum >> 16 != 0 {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    sum as u16
}

/// Completes a partial checksum: sums from `csum_start` to the end (the
/// checksum field holds the pseudo-header sum) and stores the complement at
/// `csum_start + csum_offset`, as the kernel's checksum helper does (a result
/// of 0 is written as 0xffff). Clears `F_NEEDS_CSUM`.
pub fn complete_checksum(pkt: &mut Packet) -> Result<(), OffloadError> {
    let off = pkt.meta.offload;
    if !off.needs_csum() {
        return Ok(());
    }
    let start = off.csum_start as usize;
    let field = start + off.csum_offset as usize;
    let data = pkt.data_mut();
    if start > data.len() || field + 2 > data.len() {
        return Err(OffloadError::Malformed);
    }
    let sum = csum_partial(&data[start..], 0);
    let c = !csum_fold(sum);
    let c = if c == 0 { 0xffff } else { c };
    data[field..field + 2].copy_from_slice(&c.to_be_bytes());
    pkt.meta.offload.flags &= !Offload::F_NEEDS_CSUM;
    Ok(())
}

/// Where the headers of a frame are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Layout {
    l3: usize,
    l4: usize,
    /// Length of all headers, payload starts here.
    hdr: usize,
    ipv4: bool,
    tcp: bool,
}

const ETH_P_IP: u16 = 0x0800;
const ETH_P_IPV6: u16 = 0x86dd;
const MAX_VLAN_TAGS: usize = 4;

fn be16(d: &[u8], at: usize) -> Result<u16, OffloadError> {
    d.get(at..at + 2)
        .map(|b| u16::from_be_bytes([b[0], b[1]]))
        .ok_or(OffloadError::Malformed)
}

fn layout(d: &[u8], want_tcp: bool) -> Result<Layout, OffloadError> {
    let mut l3 = 14;
    let mut ethertype = be16(d, 12)?;
    let mut tags = 0;
    while ethertype == 0x8100 || ethertype == 0x88a8 {
        tags += 1;
        if tags > MAX_VLAN_TAGS {
            return Err(OffloadError::Malformed);
        }
        ethertype = be16(d, l3 + 2)?;
        l3 += 4;
    }
    let (l4, proto, ipv4) = match ethertype {
        ETH_P_IP => {
            let vihl = *d.get(l3).ok_or(OffloadError::Malformed)?;
            let ihl = (vihl & 0x0f) as usize * 4;
            if vihl >> 4 != 4 || ihl < 20 || d.len() < l3 + ihl {
                return Err(OffloadError::Malformed);
            }
            let total = be16(d, l3 + 2)? as usize;
            if total < ihl || l3 + total > d.len() {
                return Err(OffloadError::Malformed);
            }
            (l3 + ihl, d[l3 + 9], true)
        }
        ETH_P_IPV6 => {
            if d.len() < l3 + 40 || d[l3] >> 4 != 6 {
                return Err(OffloadError::Malformed);
            }
            let plen = be16(d, l3 + 4)? as usize;
            if l3 + 40 + plen > d.len() {
                return Err(OffloadError::Malformed);
            }
            (l3 + 40, d[l3 + 6], false)
        }
        _ => return Err(OffloadError::Unsupported),
    };
    let hdr = if want_tcp {
        if proto != 6 {
            return Err(OffloadError::Unsupported);
        }
        let doff = *d.get(l4 + 12).ok_or(OffloadError::Malformed)? >> 4;
        let tl = doff as usize * 4;
        if tl < 20 || l4 + tl > d.len() {
            return Err(OffloadError::Malformed);
        }
        l4 + tl
    } else {
        if proto != 17 {
            return Err(OffloadError::Unsupported);
        }
        if l4 + 8 > d.len() {
            return Err(OffloadError::Malformed);
        }
        l4 + 8
    };
    Ok(Layout {
        l3,
        l4,
        hdr,
        ipv4,
        tcp: want_tcp,
    })
}

/// Pseudo-header sum for an L4 segment of `l4_len` bytes.
fn pseudo_sum(d: &[u8], lay: &Layout, l4_len: usize) -> u64 {
    let proto: u64 = if lay.tcp { 6 } else { 17 };
    if lay.ipv4 {
        csum_partial(&d[lay.l3 + 12..lay.l3 + 20], 0) + proto + l4_len as u64
    } else {
        csum_partial(&d[lay.l3 + 8..lay.l3 + 40], 0) + proto + l4_len as u64
    }
}

/// Cuts the super-frame `pkt` into segments of at most `gso_size` payload
/// bytes, each a complete frame with correct lengths, IPv4 ID and header
/// checksum, TCP sequence numbers and flags (FIN/PSH on the last segment
/// only, CWR on the first only) and a full L4 checksum, and pushes them into
/// `out` with buffers from `pool`. `pkt` itself is left untouched. On error,
/// segments already pushed stay in `out`.
pub fn segment(
    pkt: &Packet,
    pool: &mut PacketPool,
    out: &mut PacketBatch,
) -> Result<(), OffloadError> {
    let off = pkt.meta.offload;
    let tcp = match off.gso_kind() {
        Offload::GSO_TCPV4 | Offload::GSO_TCPV6 => true,
        Offload::GSO_UDP_L4 => false,
        Offload::GSO_NONE => {
            // Nothing to cut: copy and complete the checksum.
            let mut p = pool.get().ok_or(OffloadError::NoBuffers)?;
            p.meta = pkt.meta;
            let done = p
                .copy_from(pkt.data())
                .map_err(|_| OffloadError::Malformed)
                .and_then(|_| complete_checksum(&mut p));
            if let Err(e) = done {
                pool.put(p);
                return Err(e);
            }
            return out.push(p).map_err(|p| {
                pool.put(p);
                OffloadError::NoBuffers
            });
        }
        _ => return Err(OffloadError::Unsupported),
    };
    let d = pkt.data();
    let lay = layout(d, tcp)?;
    if lay.ipv4 != (off.gso_kind() == Offload::GSO_TCPV4) && tcp {
        return Err(OffloadError::Malformed);
    }
    let gso = off.gso_size as usize;
    if gso == 0 {
        return Err(OffloadError::Malformed);
    }
    // The frame ends where the IP packet ends (drop any trailing padding).
    let end = if lay.ipv4 {
        lay.l3 + be16(d, lay.l3 + 2)? as usize
    } else {
        lay.l3 + 40 + be16(d, lay.l3 + 4)? as usize
    };
    if end < lay.hdr {
        return Err(OffloadError::Malformed);
    }
    let payload = &d[lay.hdr..end];
    let n_segs = payload.len().div_ceil(gso).max(1);
    if n_segs > out.room() {
        return Err(OffloadError::NoBuffers);
    }
    let ip_id = if lay.ipv4 { be16(d, lay.l3 + 4)? } else { 0 };
    let seq0 = if tcp {
        u32::from_be_bytes([d[lay.l4 + 4], d[lay.l4 + 5], d[lay.l4 + 6], d[lay.l4 + 7]])
    } else {
        0
    };
    let flags0 = if tcp { d[lay.l4 + 13] } else { 0 };
    for i in 0..n_segs {
        let chunk_start = i * gso;
        let chunk =
            &payload[chunk_start.min(payload.len())..(chunk_start + gso).min(payload.len())];
        let mut p = pool.get().ok_or(OffloadError::NoBuffers)?;
        p.meta.in_port = pkt.meta.in_port;
        if p.copy_from(&d[..lay.hdr])
            .and_then(|_| p.append(chunk))
            .is_err()
        {
            pool.put(p);
            return Err(OffloadError::Malformed);
        }
        let seg_len = p.len();
        let s = p.data_mut();
        let l4_len = seg_len - lay.l4;
        if lay.ipv4 {
            let ip = lay.l3;
            s[ip + 2..ip + 4].copy_from_slice(&((seg_len - ip) as u16).to_be_bytes());
            s[ip + 4..ip + 6].copy_from_slice(&ip_id.wrapping_add(i as u16).to_be_bytes());
            s[ip + 10..ip + 12].copy_from_slice(&[0, 0]);
            let c = !csum_fold(csum_partial(&s[ip..lay.l4], 0));
            s[ip + 10..ip + 12].copy_from_slice(&c.to_be_bytes());
        } else {
            let ip = lay.l3;
            s[ip + 4..ip + 6].copy_from_slice(&((seg_len - ip - 40) as u16).to_be_bytes());
        }
        let csum_at = if tcp {
            let t = lay.l4;
            let seq = seq0.wrapping_add((i * gso) as u32);
            s[t + 4..t + 8].copy_from_slice(&seq.to_be_bytes());
            let mut fl = flags0;
            if i + 1 < n_segs {
                fl &= !(0x01 | 0x08); // FIN, PSH
            }
            if i > 0 {
                fl &= !0x80; // CWR
            }
            s[t + 13] = fl;
            t + 16
        } else {
            let u = lay.l4;
            s[u + 4..u + 6].copy_from_slice(&(l4_len as u16).to_be_bytes());
            u + 6
        };
        s[csum_at..csum_at + 2].copy_from_slice(&[0, 0]);
        let sum = pseudo_sum(s, &lay, l4_len);
        let c = !csum_fold(csum_partial(&s[lay.l4..], sum));
        let c = if c == 0 && !tcp { 0xffff } else { c };
        s[csum_at..csum_at + 2].copy_from_slice(&c.to_be_bytes());
        p.meta.offload = Offload {
            flags: Offload::F_DATA_VALID,
            ..Offload::default()
        };
        if let Err(p) = out.push(p) {
            pool.put(p);
            return Err(OffloadError::NoBuffers);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reference ones'-complement checksum, written independently of
    /// `csum_partial`: byte pairs, folded as it goes.
    fn ref_csum(parts: &[&[u8]]) -> u16 {
        let mut bytes = Vec::new();
        for p in parts {
            bytes.extend_from_slice(p);
        }
        if bytes.len() % 2 == 1 {
            bytes.push(0);
        }
        let mut s: u32 = 0;
        for w in bytes.chunks(2) {
            s += ((w[0] as u32) << 8) | w[1] as u32;
            s = (s & 0xffff) + (s >> 16);
        }
        !(s as u16)
    }

    fn tcp_v4_frame(payload_len: usize, flags: u8, vlan: bool) -> Vec<u8> {
        let mut f = vec![0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1];
        if vlan {
            f.extend_from_slice(&[0x81, 0x00, 0x00, 0x0a]);
        }
        f.extend_from_slice(&[0x08, 0x00]);
        let total = 20 + 32 + payload_len;
        f.extend_from_slice(&[
            0x45,
            0,
            (total >> 8) as u8,
            total as u8,
            0x12,
            0x34,
            0x40,
            0,
            64,
            6,
            0,
            0,
        ]);
        f.extend_from_slice(&[10, 0, 0, 1, 10, 0, 0, 2]);
        // TCP: ports, seq 0xfffff000 (wraps), ack, doff=8 (12 bytes options), flags.
        f.extend_from_slice(&[
            0x13, 0x88, 0xc3, 0x50, 0xff, 0xff, 0xf0, 0x00, 0, 0, 0, 1, 0x80, flags, 0x01, 0xf5,
        ]);
        f.extend_from_slice(&[0, 0, 0, 0]); // csum, urg
        f.extend_from_slice(&[1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2]); // NOP NOP TS
        for i in 0..payload_len {
            f.push((i * 7 + 3) as u8);
        }
        f
    }

    fn tcp_v6_frame(payload_len: usize) -> Vec<u8> {
        let mut f = vec![0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, 0x86, 0xdd];
        let plen = 20 + payload_len;
        f.extend_from_slice(&[0x60, 0, 0, 0, (plen >> 8) as u8, plen as u8, 6, 64]);
        f.extend_from_slice(&[0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
        f.extend_from_slice(&[0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]);
        f.extend_from_slice(&[
            0x13, 0x88, 0xc3, 0x50, 0, 0, 0, 100, 0, 0, 0, 1, 0x50, 0x19, 0x01, 0xf5, 0, 0, 0, 0,
        ]);
        for i in 0..payload_len {
            f.push((i * 13) as u8);
        }
        f
    }

    /// Checks one TCP segment against the reference checksum.
    fn check_tcp(seg: &[u8], l3: usize, ipv4: bool) {
        let l4 = if ipv4 { l3 + 20 } else { l3 + 40 };
        let l4_len = seg.len() - l4;
        if ipv4 {
            assert_eq!(ref_csum(&[&seg[l3..l4]]), 0, "IPv4 header checksum");
            assert_eq!(
                u16::from_be_bytes([seg[l3 + 2], seg[l3 + 3]]) as usize,
                seg.len() - l3
            );
            let ph = [
                &seg[l3 + 12..l3 + 20],
                &[0, 6],
                &(l4_len as u16).to_be_bytes()[..],
            ]
            .concat();
            assert_eq!(ref_csum(&[&ph, &seg[l4..]]), 0, "TCP checksum");
        } else {
            assert_eq!(
                u16::from_be_bytes([seg[l3 + 4], seg[l3 + 5]]) as usize,
                l4_len
            );
            let ph = [
                &seg[l3 + 8..l3 + 40],
                &(l4_len as u32).to_be_bytes()[..],
                &[0, 0, 0, 6],
            ]
            .concat();
            assert_eq!(ref_csum(&[&ph, &seg[l4..]]), 0, "TCP checksum");
        }
    }

    #[test]
    fn checksum_matches_reference() {
        let data: Vec<u8> = (0..1001u32).map(|i| (i * 31 + 7) as u8).collect();
        for len in [0, 1, 2, 3, 5, 64, 1001] {
            let ours = !csum_fold(csum_partial(&data[..len], 0));
            assert_eq!(ours, ref_csum(&[&data[..len]]), "len {len}");
        }
    }

    #[test]
    fn segments_tcp_v4_with_vlan() {
        let payload = 3000;
        let frame = tcp_v4_frame(payload, 0x19 | 0x80, true); // FIN PSH ACK CWR
        let mut pkt = Packet::from_frame(&frame);
        pkt.meta.in_port = 7;
        pkt.meta.offload = Offload {
            flags: Offload::F_NEEDS_CSUM,
            gso_type: Offload::GSO_TCPV4 | Offload::GSO_ECN,
            gso_size: 1400,
            hdr_len: 70,
            csum_start: 38,
            csum_offset: 16,
        };
        let mut pool = PacketPool::new(8, 2048, 64);
        let mut out = PacketBatch::new();
        segment(&pkt, &mut pool, &mut out).unwrap();
        assert_eq!(out.len(), 3);
        let l3 = 18;
        let mut rebuilt = Vec::new();
        for (i, seg) in out.iter().enumerate() {
            let s = seg.data();
            assert_eq!(&s[..l3], &frame[..l3], "L2 header with the VLAN tag kept");
            check_tcp(s, l3, true);
            assert_eq!(
                u16::from_be_bytes([s[l3 + 4], s[l3 + 5]]),
                0x1234 + i as u16
            );
            let seq = u32::from_be_bytes([s[42], s[43], s[44], s[45]]);
            assert_eq!(seq, 0xfffff000u32.wrapping_add(1400 * i as u32));
            let flags = s[l3 + 20 + 13];
            match i {
                0 => assert_eq!(flags, 0x10 | 0x80),
                1 => assert_eq!(flags, 0x10),
                _ => assert_eq!(flags, 0x19),
            }
            assert_eq!(seg.meta.in_port, 7);
            assert!(!seg.meta.offload.is_gso() && !seg.meta.offload.needs_csum());
            rebuilt.extend_from_slice(&s[l3 + 52..]);
        }
        assert_eq!(out.packets()[2].len(), l3 + 52 + 200);
        assert_eq!(rebuilt, frame[l3 + 52..], "payload preserved in order");
        assert_eq!(pool.available(), 5);
        assert_eq!(pkt.data(), &frame[..], "source untouched");
    }

    #[test]
    fn segments_tcp_v6() {
        let frame = tcp_v6_frame(2500);
        let mut pkt = Packet::from_frame(&frame);
        pkt.meta.offload = Offload {
            flags: Offload::F_NEEDS_CSUM,
            gso_type: Offload::GSO_TCPV6,
            gso_size: 1000,
            ..Default::default()
        };
        let mut pool = PacketPool::new(8, 2048, 64);
        let mut out = PacketBatch::new();
        segment(&pkt, &mut pool, &mut out).unwrap();
        assert_eq!(out.len(), 3);
        let lens: Vec<usize> = out.iter().map(|p| p.len()).collect();
        assert_eq!(lens, vec![74 + 1000, 74 + 1000, 74 + 500]);
        for (i, seg) in out.iter().enumerate() {
            check_tcp(seg.data(), 14, false);
            let s = seg.data();
            let seq = u32::from_be_bytes([s[58], s[59], s[60], s[61]]);
            assert_eq!(seq, 100 + 1000 * i as u32);
            assert_eq!(s[67] & 0x08 != 0, i == 2, "PSH on the last segment only");
        }
    }

    #[test]
    fn segments_udp_l4() {
        let mut f = vec![0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, 0x08, 0x00];
        let total = 20 + 8 + 2000;
        f.extend_from_slice(&[
            0x45,
            0,
            (total >> 8) as u8,
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
            0,
            0,
            1,
            10,
            0,
            0,
            2,
        ]);
        f.extend_from_slice(&[0x30, 0x39, 0x00, 0x35, 0, 0, 0, 0]);
        f.extend((0..2000).map(|i| i as u8));
        let mut pkt = Packet::from_frame(&f);
        pkt.meta.offload = Offload {
            flags: Offload::F_NEEDS_CSUM,
            gso_type: Offload::GSO_UDP_L4,
            gso_size: 1200,
            ..Default::default()
        };
        let mut pool = PacketPool::new(4, 2048, 0);
        let mut out = PacketBatch::new();
        segment(&pkt, &mut pool, &mut out).unwrap();
        assert_eq!(out.len(), 2);
        for seg in out.iter() {
            let s = seg.data();
            assert_eq!(ref_csum(&[&s[14..34]]), 0);
            let ulen = u16::from_be_bytes([s[38], s[39]]) as usize;
            assert_eq!(ulen, s.len() - 34);
            let ph = [&s[26..34], &[0, 17], &(ulen as u16).to_be_bytes()[..]].concat();
            assert_eq!(ref_csum(&[&ph, &s[34..]]), 0, "UDP checksum");
        }
    }

    #[test]
    fn completes_partial_checksum() {
        // A TCP segment whose checksum field holds the pseudo-header sum, as a
        // kernel with checksum offload leaves it.
        let mut frame = tcp_v4_frame(333, 0x18, false);
        let l4_len = frame.len() - 34;
        let ph = csum_partial(&frame[26..34], 0) + 6 + l4_len as u64;
        frame[50..52].copy_from_slice(&csum_fold(ph).to_be_bytes());
        let mut pkt = Packet::from_frame(&frame);
        pkt.meta.offload = Offload {
            flags: Offload::F_NEEDS_CSUM,
            csum_start: 34,
            csum_offset: 16,
            ..Default::default()
        };
        assert_eq!(prepare(&mut pkt, &Features::default()), Ok(TxPlan::Direct));
        assert!(!pkt.meta.offload.needs_csum());
        let s = pkt.data();
        let ph = [&s[26..34], &[0, 6], &(l4_len as u16).to_be_bytes()[..]].concat();
        assert_eq!(ref_csum(&[&ph, &s[34..]]), 0);
        // With checksum offload on the egress it is left alone.
        let mut pkt = Packet::from_frame(&frame);
        pkt.meta.offload = Offload {
            flags: Offload::F_NEEDS_CSUM,
            csum_start: 34,
            csum_offset: 16,
            ..Default::default()
        };
        let feats = Features {
            tx_offloads: Features::TX_CSUM,
            speed_mbps: None,
        };
        assert_eq!(prepare(&mut pkt, &feats), Ok(TxPlan::Direct));
        assert!(pkt.meta.offload.needs_csum());
        assert_eq!(pkt.data(), &frame[..]);
    }

    #[test]
    fn rejects_lies() {
        let mut pool = PacketPool::new(64, 2048, 0);
        let mut out = PacketBatch::with_capacity(64);
        // IPv4 total length larger than the frame.
        let mut f = tcp_v4_frame(100, 0x10, false);
        f[16] = 0xff;
        let mut pkt = Packet::from_frame(&f);
        pkt.meta.offload = Offload {
            gso_type: Offload::GSO_TCPV4,
            gso_size: 10,
            ..Default::default()
        };
        assert_eq!(
            segment(&pkt, &mut pool, &mut out),
            Err(OffloadError::Malformed)
        );
        // gso_size 0.
        let f = tcp_v4_frame(100, 0x10, false);
        let mut pkt = Packet::from_frame(&f);
        pkt.meta.offload = Offload {
            gso_type: Offload::GSO_TCPV4,
            gso_size: 0,
            ..Default::default()
        };
        assert_eq!(
            segment(&pkt, &mut pool, &mut out),
            Err(OffloadError::Malformed)
        );
        // Truncated frame.
        let mut pkt = Packet::from_frame(&f[..30]);
        pkt.meta.offload = Offload {
            gso_type: Offload::GSO_TCPV4,
            gso_size: 10,
            ..Default::default()
        };
        assert_eq!(
            segment(&pkt, &mut pool, &mut out),
            Err(OffloadError::Malformed)
        );
        // Checksum field past the end.
        let mut pkt = Packet::from_frame(&f);
        pkt.meta.offload = Offload {
            flags: Offload::F_NEEDS_CSUM,
            csum_start: 150,
            csum_offset: 16,
            ..Default::default()
        };
        assert_eq!(complete_checksum(&mut pkt), Err(OffloadError::Malformed));
        // More segments than the batch holds.
        let mut pkt = Packet::from_frame(&f);
        pkt.meta.offload = Offload {
            gso_type: Offload::GSO_TCPV4,
            gso_size: 1,
            ..Default::default()
        };
        let mut small = PacketBatch::with_capacity(4);
        assert_eq!(
            segment(&pkt, &mut pool, &mut small),
            Err(OffloadError::NoBuffers)
        );
        assert!(out.is_empty());
    }
}
