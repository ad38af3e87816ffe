//! A copy-on-write hash map keyed by precomputed 64-bit hashes, split into
//! shards so that a change copies only one shard.
//!
//! Snapshots of the classifier share shards with the writer's working copy;
//! the first change to a shard after a snapshot was taken copies that shard
//! (`Arc::make_mut`), later changes before the next snapshot do not.  The
//! number of shards grows with the number of entries so that one copy stays
//! small.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;

/// A hasher for keys that already are good hashes.
#[derive(Default, Clone, Copy)]
pub struct HashIsKey(u64);

impl Hasher for HashIsKey {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8 | b as u64).rotate_left(5) ^ self.0.rotate_right(7);
        }
    }
    fn write_u64(&mut self, x: u64) {
        self.0 = x;
    }
}

type Shard<V> = HashMap<u64, V, BuildHasherDefault<HashIsKey>>;

/// Entries per shard before the number of shards doubles.
const SHARD_TARGET: usize = 64;
/// Upper bound on the number of shards.
const MAX_SHARDS_LOG2: u32 = 11;

/// The shard of `hash` among `1 << log2`: taken from the middle bits, as
/// the hash table inside a shard uses the top and bottom ones.
fn shard_index(hash: u64, log2: u32) -> usize {
    ((hash >> 32) & ((1u64 << log2) - 1)) as usize
}

#[derive(Debug)]
pub struct CowMap<V> {
    shards: Vec<Arc<Shard<V>>>,
    log2: u32,
    len: usize,
}

impl<V> Clone for CowMap<V> {
    fn clone(&self) -> Self {
        CowMap {
            shards: self.shards.clone(),
            log2: self.log2,
            len: self.len,
        }
    }
}

impl<V: Clone> Default for CowMap<V> {
    fn default() -> Self {
        Self::new()
    }
}

impl<V: Clone> CowMap<V> {
    pub fn new() -> CowMap<V> {
        CowMap {
            shards: vec![Arc::new(Shard::default())],
            log2: 0,
            len: 0,
        }
    }

    fn shard_of(&self, hash: u64) -> usize {
        shard_index(hash, self.log2)
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn get(&self, hash: u64) -> Option<&V> {
        self.shards[self.shard_of(hash)].get(&hash)
    }

    pub fn contains(&self, hash: u64) -> bool {
        self.get(hash).is_some()
    }

    /// Mutable access to the entry for `hash`, copying its shard if shared.
    pub fn get_mut(&mut self, hash: u64) -> Option<&mut V> {
        let s = self.shard_of(hash);
        if !self.shards[s].contains_key(&hash) {
            return None;
        }
        Arc::make_mut(&mut self.shards[s]).get_mut(&hash)
    }

    /// The entry for `hash`, inserted with `make()` if missing.
    pub fn entry_or_insert_with(&mut self, hash: u64, make: impl FnOnce() -> V) -> &mut V {
        if self.get(hash).is_none() {
            self.len += 1;
            self.grow_if_needed();
        }
        let s = self.shard_of(hash);
        Arc::make_mut(&mut self.shards[s])
            .entry(hash)
            .or_insert_with(make)
    }

    pub fn remove(&mut self, hash: u64) -> Option<V> {
        let s = self.shard_of(hash);
        if !self.shards[s].contains_key(&hash) {
            return None;
        }
        self.len -= 1;
        Arc::make_mut(&mut self.shards[s]).remove(&hash)
    }

    pub fn values(&self) -> impl Iterator<Item = &V> {
        self.shards.iter().flat_map(|s| s.values())
    }

    fn grow_if_needed(&mut self) {
        if self.len <= self.shards.len() * SHARD_TARGET || self.log2 >= MAX_SHARDS_LOG2 {
            return;
        }
        let log2 = self.log2 + 1;
        let mut shards: Vec<Shard<V>> = (0..1usize << log2).map(|_| Shard::default()).collect();
        for shard in &self.shards {
            for (&h, v) in shard.iter() {
                shards[shard_index(h, log2)].insert(h, v.clone());
            }
        }
        self.shards = shards.into_iter().map(Arc::new).collect();
        self.log2 = log2;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(i: u64) -> u64 {
        i.wrapping_mul(0x9e37_79b9_7f4a_7c15)
    }

    #[test]
    fn insert_get_remove_and_grow() {
        let mut m: CowMap<u64> = CowMap::new();
        for i in 0..5000 {
            *m.entry_or_insert_with(h(i), || 0) += i;
        }
        assert_eq!(m.len(), 5000);
        assert!(m.shards.len() > 1);
        for i in 0..5000 {
            assert_eq!(m.get(h(i)), Some(&i));
        }
        for i in 0..2500 {
            assert_eq!(m.remove(h(i)), Some(i));
        }
        assert_eq!(m.remove(h(1)), None);
        assert_eq!(m.len(), 2500);
        assert_eq!(m.values().count(), 2500);
    }

    #[test]
    fn clones_are_independent() {
        let mut m: CowMap<u32> = CowMap::new();
        *m.entry_or_insert_with(h(1), || 1) = 1;
        let snap = m.clone();
        *m.get_mut(h(1)).unwrap() = 2;
        m.entry_or_insert_with(h(2), || 3);
        assert_eq!(snap.get(h(1)), Some(&1));
        assert_eq!(snap.get(h(2)), None);
        assert_eq!(m.get(h(1)), Some(&2));
    }
}
