//! A subtable: all the rules of a classifier that share one wildcard mask
//! (one "tuple" of tuple-space search).
//!
//! Rules are found by hashing the packet's values under the mask.  The
//! hash is computed stage by stage (metadata, L2, L3, L4, only the stages
//! the mask touches); for every stage but the last the subtable counts the
//! partial hashes of its rules, so a lookup that misses in an early stage
//! stops there, having looked at (and so un-wildcarding) only the fields of
//! the stages so far.
//!
//! Rules with identical matches form a group ordered by decreasing
//! priority; a lookup returns the first rule of the group visible in its
//! version.

use crate::cowmap::CowMap;
use crate::rule::{ClsRule, MaskWord, Version};
use crate::trie::PrefixTrie;
use crate::words::{ports_of, set_ports_of, stage_of, FlowWords, N_WORDS};
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// Maximum number of prefix tries per classifier.
pub const MAX_TRIES: usize = 3;

const HASH_BASIS: u64 = 0x243f_6a88_85a3_08d3;

#[inline]
fn mix(h: u64, w: u64) -> u64 {
    (h ^ w).wrapping_mul(0x9e37_79b9_7f4a_7c15).rotate_left(31)
}

#[inline]
fn finish(mut h: u64) -> u64 {
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ h >> 33
}

/// Rules with one identical match, highest priority first.
pub(crate) type Group<T> = Vec<Arc<ClsRule<T>>>;

/// The masked values of a group, inline when short (most masks touch few
/// words) so that checking a candidate costs no pointer chase.
#[derive(Clone, Debug)]
pub(crate) enum Key {
    Inline { n: u8, w: [u64; 4] },
    Heap(Box<[u64]>),
}

impl Key {
    fn new(values: &[u64]) -> Key {
        if values.len() <= 4 {
            let mut w = [0u64; 4];
            w[..values.len()].copy_from_slice(values);
            Key::Inline {
                n: values.len() as u8,
                w,
            }
        } else {
            Key::Heap(values.into())
        }
    }

    fn as_slice(&self) -> &[u64] {
        match self {
            Key::Inline { n, w } => &w[..*n as usize],
            Key::Heap(b) => b,
        }
    }
}

/// One group and its key.
pub(crate) struct Entry<T> {
    key: Key,
    rules: Group<T>,
}

impl<T> Clone for Entry<T> {
    fn clone(&self) -> Self {
        Entry {
            key: self.key.clone(),
            rules: self.rules.clone(),
        }
    }
}

/// The groups that share one full hash: almost always exactly one.
pub(crate) struct Bucket<T> {
    first: Entry<T>,
    more: Vec<Entry<T>>,
}

impl<T> Clone for Bucket<T> {
    fn clone(&self) -> Self {
        Bucket {
            first: self.first.clone(),
            more: self.more.clone(),
        }
    }
}

impl<T> Bucket<T> {
    fn iter(&self) -> impl Iterator<Item = &Entry<T>> {
        std::iter::once(&self.first).chain(self.more.iter())
    }

    fn find_mut(&mut self, values: &[u64]) -> Option<&mut Entry<T>> {
        if self.first.key.as_slice() == values {
            return Some(&mut self.first);
        }
        self.more.iter_mut().find(|e| e.key.as_slice() == values)
    }

    /// Removes the entry with `values`; true if the bucket is now empty.
    fn remove(&mut self, values: &[u64]) -> bool {
        if self.first.key.as_slice() == values {
            match self.more.pop() {
                Some(e) => self.first = e,
                None => return true,
            }
        } else {
            self.more.retain(|e| e.key.as_slice() != values);
        }
        false
    }
}

/// Mask of the first `n` of 32 bits.
fn prefix32(n: u32) -> u32 {
    if n == 0 {
        0
    } else {
        !0u32 << (32 - n.min(32))
    }
}

pub(crate) struct Subtable<T> {
    /// Creation order (ties of priority order subtables oldest first).
    pub id: u64,
    pub mask: Arc<[MaskWord]>,
    /// Non-empty stages: (stage number, end offset in `mask`).  Never empty:
    /// a catch-all mask has one empty final stage.
    pub stages: Box<[(u8, usize)]>,
    /// Partial-hash counts of every stage but the last.
    pub indices: Vec<CowMap<u32>>,
    /// Full hash to the groups with that hash.
    pub rules: CowMap<Bucket<T>>,
    pub n_rules: usize,
    pub max_priority: i32,
    pub max_count: usize,
    /// Prefix length of each classifier trie's field in this mask (0: not
    /// a usable prefix).
    pub trie_plen: [u32; MAX_TRIES],
    /// Transport ports mask (`tp_src:tp_dst`) and the length of the prefix
    /// of it the ports trie indexes.
    pub ports_mask: u32,
    pub ports_mask_len: u32,
    pub ports_trie: PrefixTrie,
    pub next_seq: u64,
}

impl<T> Clone for Subtable<T> {
    fn clone(&self) -> Self {
        Subtable {
            id: self.id,
            mask: self.mask.clone(),
            stages: self.stages.clone(),
            indices: self.indices.clone(),
            rules: self.rules.clone(),
            n_rules: self.n_rules,
            max_priority: self.max_priority,
            max_count: self.max_count,
            trie_plen: self.trie_plen,
            ports_mask: self.ports_mask,
            ports_mask_len: self.ports_mask_len,
            ports_trie: self.ports_trie.clone(),
            next_seq: self.next_seq,
        }
    }
}

/// What a replace did.
pub(crate) enum Replaced<T> {
    /// The rule starts a new group (its match was not in the subtable).
    NewGroup,
    /// Added to an existing group.
    Added,
    /// Took the place of this rule.
    Displaced(Arc<ClsRule<T>>),
}

/// Hashes of a rule's values: one per stage (the last is the full hash).
fn stage_hashes(stages: &[(u8, usize)], values: &[u64]) -> Vec<u64> {
    let mut h = HASH_BASIS;
    let mut pos = 0;
    let mut out = Vec::with_capacity(stages.len());
    for &(_, end) in stages {
        for &v in &values[pos..end] {
            h = mix(h, v);
        }
        pos = end;
        out.push(finish(h));
    }
    out
}

impl<T> Subtable<T> {
    pub fn new(id: u64, mask: Arc<[MaskWord]>, trie_plen: [u32; MAX_TRIES]) -> Subtable<T> {
        let mut stages: Vec<(u8, usize)> = Vec::new();
        for (i, m) in mask.iter().enumerate() {
            let s = stage_of(m.idx as usize) as u8;
            match stages.last_mut() {
                Some(last) if last.0 == s => last.1 = i + 1,
                _ => stages.push((s, i + 1)),
            }
        }
        if stages.is_empty() {
            stages.push((0, 0));
        }
        let mut mw = FlowWords::default();
        for m in mask.iter() {
            mw.0[m.idx as usize] = m.bits;
        }
        let ports_mask = mw.ports();
        let ports_mask_len = if ports_mask == 0 {
            0
        } else {
            32 - ports_mask.trailing_zeros()
        };
        let n_indices = stages.len() - 1;
        Subtable {
            id,
            mask,
            stages: stages.into(),
            indices: (0..n_indices).map(|_| CowMap::new()).collect(),
            rules: CowMap::new(),
            n_rules: 0,
            max_priority: i32::MIN,
            max_count: 0,
            trie_plen,
            ports_mask,
            ports_mask_len,
            ports_trie: PrefixTrie::new(),
            next_seq: 0,
        }
    }

    fn ports_key(&self, rule: &ClsRule<T>) -> u128 {
        let mut w = FlowWords::default();
        for (m, v) in self.mask.iter().zip(rule.m.values.iter()) {
            w.0[m.idx as usize] = *v;
        }
        ((w.ports() & self.ports_mask) as u128) << 96
    }

    /// Inserts `rule` (whose mask is this subtable's) in `version`.
    pub fn replace(&mut self, rule: Arc<ClsRule<T>>, version: Version) -> Replaced<T> {
        let hashes = stage_hashes(&self.stages, &rule.m.values);
        let full = *hashes.last().unwrap_or(&0);
        let new_entry = || Entry {
            key: Key::new(&rule.m.values),
            rules: Vec::new(),
        };
        let bucket = self.rules.entry_or_insert_with(full, || Bucket {
            first: new_entry(),
            more: Vec::new(),
        });
        let existing = match bucket.find_mut(&rule.m.values) {
            Some(e) if !e.rules.is_empty() => Some(&mut e.rules),
            Some(e) => {
                e.rules.push(rule.clone());
                None
            }
            None => {
                let mut e = new_entry();
                e.rules.push(rule.clone());
                bucket.more.push(e);
                None
            }
        };
        let result = match existing {
            None => {
                for (i, h) in hashes.iter().take(self.indices.len()).enumerate() {
                    *self.indices[i].entry_or_insert_with(*h, || 0) += 1;
                }
                if self.ports_mask_len > 0 {
                    let key = self.ports_key(&rule);
                    self.ports_trie.insert(key, self.ports_mask_len);
                }
                Replaced::NewGroup
            }
            Some(group) => {
                let p = rule.priority();
                let at = group.iter().position(|r| {
                    p > r.priority() || (p == r.priority() && !r.is_eventually_invisible())
                });
                match at {
                    Some(i) if group[i].priority() == p => {
                        let old = std::mem::replace(&mut group[i], rule.clone());
                        rule.seq
                            .store(old.seq.load(Ordering::Relaxed), Ordering::Relaxed);
                        rule.set_versions(version, crate::rule::VERSION_NOT_REMOVED);
                        rule.in_classifier.store(true, Ordering::Release);
                        old.in_classifier.store(false, Ordering::Release);
                        return Replaced::Displaced(old);
                    }
                    Some(i) => group.insert(i, rule.clone()),
                    None => group.push(rule.clone()),
                }
                Replaced::Added
            }
        };
        rule.seq.store(self.next_seq, Ordering::Relaxed);
        self.next_seq += 1;
        rule.set_versions(version, crate::rule::VERSION_NOT_REMOVED);
        rule.in_classifier.store(true, Ordering::Release);
        self.n_rules += 1;
        let p = rule.priority();
        if self.n_rules == 1 || p > self.max_priority {
            self.max_priority = p;
            self.max_count = 1;
        } else if p == self.max_priority {
            self.max_count += 1;
        }
        result
    }

    /// Removes `rule`.  Returns `None` if it is not here, otherwise whether
    /// it was the last of its group.
    pub fn remove(&mut self, rule: &Arc<ClsRule<T>>) -> Option<bool> {
        let hashes = stage_hashes(&self.stages, &rule.m.values);
        let full = *hashes.last().unwrap_or(&0);
        let bucket = self.rules.get_mut(full)?;
        let entry = bucket.find_mut(&rule.m.values)?;
        let ri = entry.rules.iter().position(|r| Arc::ptr_eq(r, rule))?;
        entry.rules.remove(ri);
        let last_of_group = entry.rules.is_empty();
        if last_of_group {
            if bucket.remove(&rule.m.values) {
                self.rules.remove(full);
            }
            for (i, h) in hashes.iter().take(self.indices.len()).enumerate() {
                if let Some(c) = self.indices[i].get_mut(*h) {
                    *c -= 1;
                    if *c == 0 {
                        self.indices[i].remove(*h);
                    }
                }
            }
            if self.ports_mask_len > 0 {
                let key = self.ports_key(rule);
                self.ports_trie.remove(key, self.ports_mask_len);
            }
        }
        rule.in_classifier.store(false, Ordering::Release);
        self.n_rules -= 1;
        if self.n_rules > 0 && rule.priority() == self.max_priority {
            self.max_count -= 1;
            if self.max_count == 0 {
                self.recompute_max_priority();
            }
        }
        Some(last_of_group)
    }

    fn recompute_max_priority(&mut self) {
        let mut max = i32::MIN;
        let mut count = 0;
        for group in self.groups() {
            for r in group {
                if r.priority() > max {
                    max = r.priority();
                    count = 1;
                } else if r.priority() == max {
                    count += 1;
                }
            }
        }
        self.max_priority = max;
        self.max_count = count;
    }

    /// Every group in the subtable.
    pub fn groups(&self) -> impl Iterator<Item = &Group<T>> {
        self.rules.values().flat_map(|b| b.iter().map(|e| &e.rules))
    }

    /// The group with exactly these values, if any.
    pub fn find_group(&self, values: &[u64]) -> Option<&Group<T>> {
        let hashes = stage_hashes(&self.stages, values);
        let full = *hashes.last()?;
        self.rules
            .get(full)?
            .iter()
            .find(|e| e.key.as_slice() == values)
            .map(|e| &e.rules)
    }

    fn matches(&self, key: &Key, flow: &[u64; N_WORDS]) -> bool {
        self.mask
            .iter()
            .zip(key.as_slice().iter())
            .all(|(m, &v)| flow[m.idx as usize] & m.bits == v)
    }

    /// The group matching `flow` with full hash `hash`, and the index of
    /// its first rule visible in `version`.
    fn find_match(
        &self,
        version: Version,
        flow: &[u64; N_WORDS],
        hash: u64,
    ) -> Option<(&Group<T>, usize)> {
        let bucket = self.rules.get(hash)?;
        for e in bucket.iter() {
            if self.matches(&e.key, flow) {
                let g = &e.rules;
                if let Some(i) = g.iter().position(|r| r.is_visible_in_version(version)) {
                    return Some((g, i));
                }
            }
        }
        None
    }

    /// Lookup without wildcard tracking.
    pub fn lookup(&self, version: Version, flow: &[u64; N_WORDS]) -> Option<(&Group<T>, usize)> {
        let mut h = HASH_BASIS;
        for m in self.mask.iter() {
            h = mix(h, flow[m.idx as usize] & m.bits);
        }
        self.find_match(version, flow, finish(h))
    }

    fn fold(&self, wc: &mut [u64; N_WORDS], upto: usize) {
        for m in &self.mask[..upto] {
            wc[m.idx as usize] |= m.bits;
        }
    }

    /// Staged lookup: returns the match (if any), adding to `wc` the bits
    /// the answer depended on.  `check_tries(stage, wc)` is asked before
    /// each stage whether the prefix tries prove the subtable cannot match
    /// (it then sets the trie bits in `wc` itself).
    pub fn lookup_wc(
        &self,
        version: Version,
        flow: &[u64; N_WORDS],
        wc: &mut [u64; N_WORDS],
        mut check_tries: impl FnMut(&Self, u8, &mut [u64; N_WORDS]) -> bool,
    ) -> Option<(&Group<T>, usize)> {
        let mut h = HASH_BASIS;
        let mut pos = 0;
        let last = self.stages.len() - 1;
        for (i, &(stage, end)) in self.stages.iter().enumerate() {
            if check_tries(self, stage, wc) {
                self.fold(wc, pos);
                return None;
            }
            for m in &self.mask[pos..end] {
                h = mix(h, flow[m.idx as usize] & m.bits);
            }
            pos = end;
            let sh = finish(h);
            if i < last {
                if !self.indices[i].contains(sh) {
                    self.fold(wc, pos);
                    return None;
                }
                continue;
            }
            let found = self.find_match(version, flow, sh);
            if found.is_none() && self.ports_mask_len > 0 {
                // Un-wildcard only as many leading port bits as the ports
                // trie needed to tell there is no match.
                let value = ports_of(flow) & self.ports_mask;
                let mbits = self.ports_trie.lookup((value as u128) << 96, 32).maskbits;
                let ports = (self.ports_mask & prefix32(mbits)) | ports_of(wc);
                self.fold(wc, pos);
                set_ports_of(wc, ports);
                return None;
            }
            self.fold(wc, pos);
            return found;
        }
        None
    }
}
