//! Internet checksums: the 16-bit one's complement sums of IPv4, TCP, UDP,
//! ICMP, IGMP and ICMPv6, their pseudo-headers, and incremental updates after
//! a field changes (RFC 1624), which is how set-field actions keep checksums
//! right without summing the whole packet again.  SCTP's CRC32c is here too.
//!
//! Checksums are handled as `u16` values in host order that are written to
//! and read from the packet big-endian (`u16::from_be_bytes` of the two
//! checksum bytes).  A running sum is a `u32` that has not been folded yet.

/// Adds `data` to the running sum `partial` (an odd trailing byte counts as
/// the high byte of a 16-bit word, as RFC 1071 says).
pub fn add(partial: u32, data: &[u8]) -> u32 {
    let mut sum = partial as u64;
    let mut chunks = data.chunks_exact(2);
    for c in &mut chunks {
        sum += u16::from_be_bytes([c[0], c[1]]) as u64;
    }
    if let [b] = chunks.remainder() {
        sum += (*b as u64) << 8;
    }
    fold64(sum)
}

/// Adds one 16-bit word to a running sum.
pub fn add16(partial: u32, v: u16) -> u32 {
    fold64(partial as u64 + v as u64)
}

/// Adds one 32-bit word (two 16-bit words) to a running sum.
pub fn add32(partial: u32, v: u32) -> u32 {
    fold64(partial as u64 + (v >> 16) as u64 + (v & 0xffff) as u64)
}

fn fold64(mut sum: u64) -> u32 {
    while sum >> 32 != 0 {
        sum = (sum & 0xffff_ffff) + (sum >> 32);
    }
    sum as u32
}

/// Folds a running sum to 16 bits and complements it: the checksum to store.
pub fn finish(partial: u32) -> u16 {
    let mut s = partial;
    while s >> 16 != 0 {
        s = (s & 0xffff) + (s >> 16);
    }
    !(s as u16)
}

/// The checksum of `data` alone (IPv4 header, ICMP, IGMP).
pub fn checksum(data: &[u8]) -> u16 {
    finish(add(0, data))
}

/// Running sum of the IPv4 pseudo-header for a transport segment of
/// `l4_len` bytes.
pub fn pseudo_header_v4(src: u32, dst: u32, proto: u8, l4_len: u16) -> u32 {
    let s = add32(add32(0, src), dst);
    add16(add16(s, proto as u16), l4_len)
}

/// Running sum of the IPv6 pseudo-header for an upper-layer packet of
/// `l4_len` bytes.
pub fn pseudo_header_v6(src: &[u8; 16], dst: &[u8; 16], proto: u8, l4_len: u32) -> u32 {
    let s = add(add(0, src), dst);
    add16(add32(s, l4_len), proto as u16)
}

/// Running sum of the pseudo-header of the IPv4 header at the start of `ip`
/// (addresses and protocol from the header, length from its total length
/// minus its header length).  None if `ip` is too short.
pub fn pseudo_header_of_ipv4(ip: &[u8]) -> Option<u32> {
    let ip = ip.get(..20)?;
    let ihl = (ip[0] & 0xf) as u16 * 4;
    let tot = u16::from_be_bytes([ip[2], ip[3]]);
    let src = u32::from_be_bytes([ip[12], ip[13], ip[14], ip[15]]);
    let dst = u32::from_be_bytes([ip[16], ip[17], ip[18], ip[19]]);
    Some(pseudo_header_v4(src, dst, ip[9], tot.wrapping_sub(ihl)))
}

/// Running sum of the pseudo-header of the IPv6 header at the start of `ip`
/// (upper-layer protocol from its next-header field, length from its payload
/// length).  None if `ip` is too short.
pub fn pseudo_header_of_ipv6(ip: &[u8]) -> Option<u32> {
    let ip = ip.get(..40)?;
    let mut src = [0u8; 16];
    let mut dst = [0u8; 16];
    src.copy_from_slice(&ip[8..24]);
    dst.copy_from_slice(&ip[24..40]);
    let plen = u16::from_be_bytes([ip[4], ip[5]]);
    Some(pseudo_header_v6(&src, &dst, ip[6], plen as u32))
}

/// Checksum `csum` after a 16-bit word of the summed data changed from
/// `old` to `new` (RFC 1624, eqn. 3: `HC' = ~(~HC + ~m + m')`).
pub fn update16(csum: u16, old: u16, new: u16) -> u16 {
    let s = (!csum as u32) + (!old as u32) + new as u32;
    finish(s)
}

/// Checksum after a 32-bit (16-bit aligned) word changed.
pub fn update32(csum: u16, old: u32, new: u32) -> u16 {
    let c = update16(csum, (old >> 16) as u16, (new >> 16) as u16);
    update16(c, old as u16, new as u16)
}

/// Checksum after 16-bit aligned bytes changed from `old` to `new` (an
/// IPv6 address, a MAC address at an even offset); lengths must be equal
/// and even.
pub fn update_bytes(csum: u16, old: &[u8], new: &[u8]) -> u16 {
    let mut c = csum;
    for (o, n) in old.chunks_exact(2).zip(new.chunks_exact(2)) {
        c = update16(
            c,
            u16::from_be_bytes([o[0], o[1]]),
            u16::from_be_bytes([n[0], n[1]]),
        );
    }
    c
}

/// A UDP checksum of 0 means "none"; a computed 0 is sent as 0xffff.
pub fn udp_nonzero(csum: u16) -> u16 {
    if csum == 0 {
        0xffff
    } else {
        csum
    }
}

/// CRC32c (Castagnoli, reflected, initial and final value all ones), as
/// SCTP computes it over its whole packet with the checksum field zeroed.
pub fn crc32c(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= b as u32;
        for _ in 0..8 {
            let mask = (crc & 1).wrapping_neg();
            crc = (crc >> 1) ^ (0x82f6_3b78 & mask);
        }
    }
    !crc
}

/// The four bytes to put in an SCTP common header's checksum field, given
/// the whole SCTP packet with that field zeroed (the CRC goes on the wire
/// least significant byte first, RFC 4960 appendix B).
pub fn sctp_checksum(packet: &[u8]) -> [u8; 4] {
    crc32c(packet).to_le_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    // The IPv4 header of the RFC 1071-style example used everywhere
    // (45 00 00 73 00 00 40 00 40 11 xx xx c0 a8 00 01 c0 a8 00 c7).
    const HDR: [u8; 20] = [
        0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0x00, 0x00, 0xc0, 0xa8, 0x00,
        0x01, 0xc0, 0xa8, 0x00, 0xc7,
    ];

    #[test]
    fn ipv4_header_checksum() {
        assert_eq!(checksum(&HDR), 0xb861);
        let mut h = HDR;
        h[10..12].copy_from_slice(&0xb861u16.to_be_bytes());
        assert_eq!(checksum(&h), 0);
    }

    #[test]
    fn odd_length_pads_with_zero() {
        assert_eq!(checksum(&[0x01]), !0x0100);
        assert_eq!(
            checksum(&[0x01, 0x02, 0x03]),
            checksum(&[0x01, 0x02, 0x03, 0x00])
        );
    }

    #[test]
    fn incremental_matches_full_recompute() {
        let mut h = HDR;
        let c = checksum(&h);
        // Change TTL/proto word and the source address.
        let c2 = update16(c, 0x4011, 0x3f11);
        h[8] = 0x3f;
        assert_eq!(c2, checksum(&h));
        let c3 = update32(c2, 0xc0a8_0001, 0x0a00_0001);
        h[12..16].copy_from_slice(&[10, 0, 0, 1]);
        assert_eq!(c3, checksum(&h));
        let c4 = update_bytes(c3, &[10, 0, 0, 1], &[0xff, 0xff, 0xff, 0xff]);
        h[12..16].copy_from_slice(&[0xff; 4]);
        assert_eq!(c4, checksum(&h));
    }

    #[test]
    fn pseudo_headers() {
        let v4 = pseudo_header_v4(0xc0a8_0001, 0xc0a8_0002, 6, 20);
        // 0xc0a8 + 0x0001 + 0xc0a8 + 0x0002 + 6 + 20 = 0x1_816d, folded 0x816e.
        assert_eq!(finish(v4), !0x816e);
        let v4b = pseudo_header_of_ipv4(&HDR).unwrap();
        assert_eq!(
            v4b,
            pseudo_header_v4(0xc0a8_0001, 0xc0a8_00c7, 17, 0x73 - 20)
        );
        let src = [0u8; 16];
        let mut dst = [0u8; 16];
        dst[15] = 1;
        assert_eq!(finish(pseudo_header_v6(&src, &dst, 58, 8)), !(1 + 8 + 58));
        assert!(pseudo_header_of_ipv6(&[0; 39]).is_none());
    }

    #[test]
    fn crc32c_check_value() {
        assert_eq!(crc32c(b"123456789"), 0xe306_9283);
    }

    #[test]
    fn udp_zero_becomes_ffff() {
        assert_eq!(udp_nonzero(0), 0xffff);
        assert_eq!(udp_nonzero(5), 5);
    }
}
