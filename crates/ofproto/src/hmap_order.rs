//! The order in which Open vSwitch's hash maps (`hmap`) iterate: bucket by
//! bucket, newest first within a bucket, the map growing as OVS grows it.
//! Replies that upstream builds by walking a hash map (port and queue
//! statistics) list their entries in this order, and tools print them as
//! they come.

fn mhash_add(hash: u32, data: u32) -> u32 {
    let data = data
        .wrapping_mul(0xcc9e_2d51)
        .rotate_left(15)
        .wrapping_mul(0x1b87_3593);
    (hash ^ data)
        .rotate_left(13)
        .wrapping_mul(5)
        .wrapping_add(0xe654_6b64)
}

fn mhash_finish(mut hash: u32) -> u32 {
    hash ^= hash >> 16;
    hash = hash.wrapping_mul(0x85eb_ca6b);
    hash ^= hash >> 13;
    hash = hash.wrapping_mul(0xc2b2_ae35);
    hash ^ (hash >> 16)
}

/// OVS's `hash_int(x, basis)` (`hash_2words`).
pub fn hash_int(x: u32, basis: u32) -> u32 {
    mhash_finish(mhash_add(mhash_add(x, 0), basis) ^ 8)
}

fn calc_mask(capacity: usize) -> usize {
    let mut mask = capacity / 2;
    mask |= mask >> 1;
    mask |= mask >> 2;
    mask |= mask >> 4;
    mask |= mask >> 8;
    mask |= mask >> 16;
    mask |= mask >> 32;
    mask | ((mask & 1) << 1)
}

/// Iteration order (indexes into `hashes`) of an hmap after inserting
/// elements with `hashes` in order.
pub fn hmap_order(hashes: &[u32]) -> Vec<usize> {
    let mut mask = 0usize;
    let mut buckets: Vec<Vec<usize>> = vec![Vec::new()];
    for (i, &h) in hashes.iter().enumerate() {
        buckets[h as usize & mask].insert(0, i);
        let n = i + 1;
        if n / 2 > mask {
            let new_mask = calc_mask(n);
            if new_mask > mask {
                let mut grown: Vec<Vec<usize>> = vec![Vec::new(); new_mask + 1];
                for b in &buckets {
                    for &j in b {
                        grown[hashes[j] as usize & new_mask].insert(0, j);
                    }
                }
                buckets = grown;
                mask = new_mask;
            }
        }
    }
    buckets.into_iter().flatten().collect()
}

/// An OVS `hmap` of keys, kept only to know its iteration order: insert
/// at the head of a bucket, grow when more than two entries per bucket,
/// never shrink on removal.
#[derive(Clone, Debug, Default)]
pub struct Hmap {
    mask: usize,
    buckets: Vec<Vec<(u32, u32)>>,
    n: usize,
}

impl Hmap {
    /// An empty map.
    pub fn new() -> Hmap {
        Hmap {
            mask: 0,
            buckets: vec![Vec::new()],
            n: 0,
        }
    }

    /// Inserts `key` with `hash` (at the head of its bucket).
    pub fn insert(&mut self, key: u32, hash: u32) {
        if self.buckets.is_empty() {
            *self = Hmap::new();
        }
        self.buckets[hash as usize & self.mask].insert(0, (key, hash));
        self.n += 1;
        if self.n / 2 > self.mask {
            let new_mask = calc_mask(self.n);
            if new_mask > self.mask {
                let mut grown: Vec<Vec<(u32, u32)>> = vec![Vec::new(); new_mask + 1];
                for b in &self.buckets {
                    for &(k, h) in b {
                        grown[h as usize & new_mask].insert(0, (k, h));
                    }
                }
                self.buckets = grown;
                self.mask = new_mask;
            }
        }
    }

    /// Removes `key`.
    pub fn remove(&mut self, key: u32) {
        for b in &mut self.buckets {
            if let Some(i) = b.iter().position(|(k, _)| *k == key) {
                b.remove(i);
                self.n -= 1;
                return;
            }
        }
    }

    /// Keys in iteration order.
    pub fn keys(&self) -> Vec<u32> {
        self.buckets.iter().flatten().map(|(k, _)| *k).collect()
    }
}

/// Entries per cmap bucket on 64-bit hosts.
const CMAP_K: usize = 5;

/// An OVS concurrent hash map (`cmap`) of keys, kept only to know its
/// iteration order: cuckoo hashing over buckets of five slots, each key
/// in the first free slot of its primary or secondary bucket, rehashing
/// to twice the buckets past 85% load and to half below 20%.
#[derive(Clone, Debug)]
pub struct Cmap {
    mask: usize,
    buckets: Vec<[Option<(u32, u32)>; CMAP_K]>,
    n: usize,
}

impl Default for Cmap {
    fn default() -> Cmap {
        Cmap::new()
    }
}

fn other_hash(h: u32) -> u32 {
    h.rotate_left(16)
}

fn max_n(mask: usize) -> usize {
    (((mask as u64 + 1) * CMAP_K as u64 * u64::from((f64::from(u32::MAX) * 0.85) as u32)) >> 32)
        as usize
}

fn min_n(mask: usize) -> usize {
    (((mask as u64 + 1) * CMAP_K as u64 * u64::from((f64::from(u32::MAX) * 0.20) as u32)) >> 32)
        as usize
}

impl Cmap {
    /// An empty map (one bucket).
    pub fn new() -> Cmap {
        Cmap {
            mask: 0,
            buckets: vec![[None; CMAP_K]],
            n: 0,
        }
    }

    fn try_insert(
        buckets: &mut [[Option<(u32, u32)>; CMAP_K]],
        mask: usize,
        key: u32,
        hash: u32,
    ) -> bool {
        for b in [hash as usize & mask, other_hash(hash) as usize & mask] {
            if let Some(slot) = buckets[b].iter_mut().find(|s| s.is_none()) {
                *slot = Some((key, hash));
                return true;
            }
        }
        false
    }

    fn rehash(&mut self, mut mask: usize) {
        loop {
            let mut nb = vec![[None; CMAP_K]; mask + 1];
            let ok = self
                .buckets
                .iter()
                .flatten()
                .flatten()
                .all(|&(k, h)| Cmap::try_insert(&mut nb, mask, k, h));
            if ok {
                self.buckets = nb;
                self.mask = mask;
                return;
            }
            mask = (mask << 1) | 1;
        }
    }

    /// Inserts `key` with `hash`.
    pub fn insert(&mut self, key: u32, hash: u32) {
        if self.n >= max_n(self.mask) {
            self.rehash((self.mask << 1) | 1);
        }
        while !Cmap::try_insert(&mut self.buckets, self.mask, key, hash) {
            self.rehash((self.mask << 1) | 1);
        }
        self.n += 1;
    }

    /// Removes `key`.
    pub fn remove(&mut self, key: u32) {
        for slot in self.buckets.iter_mut().flatten() {
            if matches!(slot, Some((k, _)) if *k == key) {
                *slot = None;
                self.n -= 1;
                if self.n < min_n(self.mask) {
                    self.rehash(self.mask >> 1);
                }
                return;
            }
        }
    }

    /// Whether `key` is in the map.
    pub fn contains(&self, key: u32) -> bool {
        self.buckets
            .iter()
            .flatten()
            .flatten()
            .any(|(k, _)| *k == key)
    }

    /// Keys in iteration order.
    pub fn keys(&self) -> Vec<u32> {
        self.buckets
            .iter()
            .flatten()
            .flatten()
            .map(|(k, _)| *k)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_is_a_permutation() {
        let hashes: Vec<u32> = (0..100).map(|i| hash_int(i, 0)).collect();
        let mut o = hmap_order(&hashes);
        o.sort();
        assert_eq!(o, (0..100).collect::<Vec<_>>());
    }

    #[test]
    fn hmap_matches_batch_order() {
        let hashes: Vec<u32> = (0..40).map(|i| hash_int(i, 0)).collect();
        let mut h = Hmap::new();
        for (i, &x) in hashes.iter().enumerate() {
            h.insert(i as u32, x);
        }
        let batch: Vec<u32> = hmap_order(&hashes).into_iter().map(|i| i as u32).collect();
        assert_eq!(h.keys(), batch);
    }

    #[test]
    fn cmap_keeps_every_key() {
        let mut c = Cmap::new();
        for i in 0..200 {
            c.insert(i, hash_int(i, 0));
        }
        for i in (0..200).step_by(3) {
            c.remove(i);
        }
        let mut k = c.keys();
        k.sort();
        let want: Vec<u32> = (0..200).filter(|i| i % 3 != 0).collect();
        assert_eq!(k, want);
    }
}
