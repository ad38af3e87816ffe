//! The order in which upstream's ovs-vswitchd walks a set of names: its
//! string hash tables (`shash`) hash a name with a 32-bit Murmur3-style
//! string hash (basis 0) and iterate bucket by bucket, newest entry first
//! within a bucket, the bucket count growing as entries are added.
//!
//! Visible effects of that order are part of the interface in tests:
//! dummy network devices take their Ethernet addresses
//! (`aa:55:aa:55:00:NN`) from a counter in the order the bridge creates
//! them, and it creates a bridge's new interfaces in this order.

const C1: u32 = 0xcc9e_2d51;
const C2: u32 = 0x1b87_3593;

/// Mixes one 32-bit word into `hash` (a zero word leaves the mixing step
/// out, as upstream's hash does).
fn mix(hash: u32, word: u32) -> u32 {
    let mut h = hash;
    if word != 0 {
        h ^= word.wrapping_mul(C1).rotate_left(15).wrapping_mul(C2);
    }
    h.rotate_left(13).wrapping_mul(5).wrapping_add(0xe654_6b64)
}

/// The final avalanche, after folding in the length.
fn finish(hash: u32, len: u32) -> u32 {
    let mut h = hash ^ len;
    h ^= h >> 16;
    h = h.wrapping_mul(0x85eb_ca6b);
    h ^= h >> 13;
    h = h.wrapping_mul(0xc2b2_ae35);
    h ^ (h >> 16)
}

/// The hash of `name` as upstream's string hash tables compute it:
/// little-endian 32-bit words, the tail zero-padded, then the length.
pub fn name_hash(name: &str) -> u32 {
    let b = name.as_bytes();
    let mut h = 0u32;
    let mut chunks = b.chunks_exact(4);
    for c in &mut chunks {
        h = mix(h, u32::from_le_bytes([c[0], c[1], c[2], c[3]]));
    }
    let tail = chunks.remainder();
    if !tail.is_empty() {
        let mut w = [0u8; 4];
        w[..tail.len()].copy_from_slice(tail);
        h = mix(h, u32::from_le_bytes(w));
    }
    finish(h, b.len() as u32)
}

/// The bucket mask a table grows to for `n` entries (at least 4 buckets
/// once it grows at all).
fn mask_for(n: usize) -> usize {
    let mut m = n / 2;
    let mut shift = 1;
    while shift < usize::BITS {
        m |= m >> shift;
        shift *= 2;
    }
    m | ((m & 1) << 1)
}

/// The iteration order of a hash table into which `names` were inserted
/// in the given order.
pub fn iteration_order<'a>(names: &[&'a str]) -> Vec<&'a str> {
    let mut mask = 0usize;
    let mut buckets: Vec<Vec<&'a str>> = vec![Vec::new()];
    for (i, name) in names.iter().enumerate() {
        // Newest first within a bucket.
        buckets[name_hash(name) as usize & mask].insert(0, name);
        let n = i + 1;
        if n / 2 > mask {
            let new_mask = mask_for(n);
            if new_mask > mask {
                let mut grown: Vec<Vec<&'a str>> = vec![Vec::new(); new_mask + 1];
                for b in &buckets {
                    for name in b {
                        grown[name_hash(name) as usize & new_mask].insert(0, name);
                    }
                }
                buckets = grown;
                mask = new_mask;
            }
        }
    }
    buckets.into_iter().flatten().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    // Orders observed with the reference ovs-vswitchd (dummy addresses of
    // ports created in one transaction).
    #[test]
    fn orders_seen_upstream() {
        assert_eq!(iteration_order(&["br0", "p1", "p2"]), ["p2", "br0", "p1"]);
        assert_eq!(
            iteration_order(&["aa", "mm", "zz", "br1"]),
            ["aa", "mm", "zz", "br1"]
        );
        let seven = iteration_order(&["aa", "mm", "zz", "br1", "q1", "q0", "q2"]);
        let q0 = seven.iter().position(|n| *n == "q0");
        let q2 = seven.iter().position(|n| *n == "q2");
        assert!(q0 < q2);
    }

    #[test]
    fn growth_masks() {
        assert_eq!(mask_for(2), 3);
        assert_eq!(mask_for(8), 7);
        assert_eq!(mask_for(16), 15);
    }
}
