//! A persistent, path-compressed binary trie of bit prefixes (up to 128
//! bits), counting rules per prefix.
//!
//! The classifier keeps one per configured prefix field (`Flow_Table`
//! `prefixes`, e.g. `nw_dst`) over all subtables, and one per subtable over
//! the transport ports.  A lookup answers two questions about a packet's
//! value: which prefix lengths have rules whose prefix the value has (so a
//! subtable whose prefix length is not among them cannot match), and how
//! many leading bits of the value had to be examined to know that (the bits
//! the megaflow must then match on instead of the whole field).
//!
//! Nodes are shared through `Arc`: modifying a trie copies only the path
//! from the root to the changed node, so a published snapshot keeps
//! working unchanged.

use std::sync::Arc;

#[derive(Clone, Debug)]
struct Node {
    /// This node's bits, left-aligned.
    bits: u128,
    /// Number of bits in `bits` (1..=128; 0 only for an empty prefix).
    n_bits: u32,
    /// Rules whose prefix ends exactly at this node.
    n_rules: u32,
    edges: [Option<Arc<Node>>; 2],
}

impl Node {
    fn leaf(bits: u128, n_bits: u32, n_rules: u32) -> Node {
        Node {
            bits: bits & top(n_bits),
            n_bits,
            n_rules,
            edges: [None, None],
        }
    }

    fn is_leaf(&self) -> bool {
        self.edges[0].is_none() && self.edges[1].is_none()
    }
}

/// Mask of the top `n` bits.
fn top(n: u32) -> u128 {
    if n == 0 {
        0
    } else if n >= 128 {
        !0
    } else {
        !0u128 << (128 - n)
    }
}

/// Bit `ofs` (0 = most significant) of `x`.
fn bit(x: u128, ofs: u32) -> usize {
    (x >> (127 - ofs) & 1) as usize
}

/// `x` shifted left by `n` (zero when `n` is 128).
fn shl(x: u128, n: u32) -> u128 {
    if n >= 128 {
        0
    } else {
        x << n
    }
}

/// Number of equal leading bits of `a` and `b`, at most `n`.
fn equal_bits(a: u128, b: u128, n: u32) -> u32 {
    (a ^ b).leading_zeros().min(n)
}

/// The result of a trie lookup.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TrieMatch {
    /// Number of leading bits of the value that decide the result.
    pub maskbits: u32,
    /// Bit `l - 1` set for each prefix length `l` that has rules matching
    /// the value.
    pub plens: u128,
}

impl TrieMatch {
    /// True if prefix length `plen` (1..=128) may have matching rules.
    pub fn has_plen(&self, plen: u32) -> bool {
        plen > 0 && self.plens >> (plen - 1) & 1 == 1
    }
}

/// A prefix trie.  Cloning is cheap (shares all nodes).
#[derive(Clone, Debug, Default)]
pub struct PrefixTrie {
    root: Option<Arc<Node>>,
}

impl PrefixTrie {
    pub fn new() -> PrefixTrie {
        PrefixTrie { root: None }
    }

    pub fn is_empty(&self) -> bool {
        self.root.is_none()
    }

    /// Adds one rule with the first `plen` bits of left-aligned `value`.
    pub fn insert(&mut self, value: u128, plen: u32) {
        let plen = plen.min(128);
        if plen == 0 {
            return;
        }
        insert_at(&mut self.root, value & top(plen), 0, plen);
    }

    /// Removes one rule added with the same `value` and `plen`.  Returns
    /// false if there was none.
    pub fn remove(&mut self, value: u128, plen: u32) -> bool {
        let plen = plen.min(128);
        if plen == 0 {
            return false;
        }
        remove_at(&mut self.root, value & top(plen), 0, plen)
    }

    /// Looks up the first `n_bits` bits of left-aligned `value`.
    pub fn lookup(&self, value: u128, n_bits: u32) -> TrieMatch {
        let mut plens = 0u128;
        let mut match_len = 0u32;
        let mut prev: Option<&Node> = None;
        let mut node = self.root.as_deref();
        while let Some(n) = node {
            let eq = equal_bits(n.bits, shl(value, match_len), n.n_bits);
            match_len += eq;
            if eq < n.n_bits {
                // The value leaves the trie inside this node: the first
                // differing bit is needed too.
                return TrieMatch {
                    maskbits: match_len + 1,
                    plens,
                };
            }
            if n.n_rules > 0 && match_len > 0 {
                plens |= 1u128 << (match_len - 1);
            }
            if match_len >= n_bits {
                return TrieMatch {
                    maskbits: n_bits,
                    plens,
                };
            }
            prev = Some(n);
            node = n.edges[bit(value, match_len)].as_deref();
        }
        // Fell off a missing edge: if the node has another branch, the bit
        // that chose between them counts.
        let maskbits = match prev {
            Some(p) if !p.is_leaf() => match_len + 1,
            _ => match_len,
        };
        TrieMatch { maskbits, plens }
    }
}

fn insert_at(edge: &mut Option<Arc<Node>>, value: u128, ofs: u32, plen: u32) {
    let Some(arc) = edge else {
        *edge = Some(Arc::new(Node::leaf(shl(value, ofs), plen - ofs, 1)));
        return;
    };
    let remaining = plen - ofs;
    let eq = equal_bits(arc.bits, shl(value, ofs), arc.n_bits.min(remaining));
    if eq < arc.n_bits {
        // Split: a new parent holds the common bits.
        let mut old = (**arc).clone();
        let old_branch = bit(old.bits, eq);
        old.bits = shl(old.bits, eq);
        old.n_bits -= eq;
        let ends_here = ofs + eq == plen;
        let mut parent = Node::leaf(shl(value, ofs), eq, ends_here as u32);
        parent.edges[old_branch] = Some(Arc::new(old));
        if !ends_here {
            let rest = ofs + eq;
            parent.edges[1 - old_branch] =
                Some(Arc::new(Node::leaf(shl(value, rest), plen - rest, 1)));
        }
        *edge = Some(Arc::new(parent));
        return;
    }
    let node = Arc::make_mut(arc);
    let ofs = ofs + node.n_bits;
    if ofs == plen {
        node.n_rules += 1;
        return;
    }
    let b = bit(value, ofs);
    insert_at(&mut node.edges[b], value, ofs, plen);
}

/// Removes one rule below `edge`; prunes nodes left without rules and with
/// at most one child.
fn remove_at(edge: &mut Option<Arc<Node>>, value: u128, ofs: u32, plen: u32) -> bool {
    let Some(arc) = edge else {
        return false;
    };
    let remaining = plen - ofs;
    if arc.n_bits > remaining || equal_bits(arc.bits, shl(value, ofs), arc.n_bits) < arc.n_bits {
        return false;
    }
    let end = ofs + arc.n_bits;
    if end == plen {
        if arc.n_rules == 0 {
            return false;
        }
        Arc::make_mut(arc).n_rules -= 1;
    } else {
        let b = bit(value, end);
        if arc.edges[b].is_none() {
            return false;
        }
        let node = Arc::make_mut(arc);
        if !remove_at(&mut node.edges[b], value, end, plen) {
            return false;
        }
    }
    prune(edge);
    true
}

/// Removes or merges the node at `edge` if it no longer carries rules and
/// does not branch.
fn prune(edge: &mut Option<Arc<Node>>) {
    let Some(arc) = edge else {
        return;
    };
    if arc.n_rules > 0 || (arc.edges[0].is_some() && arc.edges[1].is_some()) {
        return;
    }
    let child = arc.edges[0].clone().or_else(|| arc.edges[1].clone());
    match child {
        None => *edge = None,
        Some(child) => {
            let mut merged = (*child).clone();
            merged.bits = arc.bits | merged.bits >> arc.n_bits;
            merged.n_bits += arc.n_bits;
            *edge = Some(Arc::new(merged));
        }
    }
}

#[cfg(test)]
#[allow(clippy::field_reassign_with_default)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    fn v4(a: u8, b: u8, c: u8, d: u8) -> u128 {
        (u32::from_be_bytes([a, b, c, d]) as u128) << 96
    }

    /// The lookup result by its definition, over a plain list of prefixes.
    fn reference(prefixes: &[(u128, u32)], value: u128, n_bits: u32) -> TrieMatch {
        let mut maskbits = 0;
        let mut plens = 0u128;
        for &(p, l) in prefixes {
            let common = equal_bits(p, value, l);
            if common == l {
                plens |= 1 << (l - 1);
                maskbits = maskbits.max(l);
            } else {
                maskbits = maskbits.max(common + 1);
            }
        }
        TrieMatch {
            maskbits: maskbits.min(n_bits),
            plens,
        }
    }

    #[test]
    fn empty_trie_needs_no_bits() {
        let t = PrefixTrie::new();
        assert_eq!(
            t.lookup(v4(1, 2, 3, 4), 32),
            TrieMatch {
                maskbits: 0,
                plens: 0
            }
        );
    }

    #[test]
    fn shorter_prefix_match_unwildcards_only_deciding_bits() {
        let mut t = PrefixTrie::new();
        t.insert(v4(10, 1, 0, 0), 16);
        t.insert(v4(10, 1, 2, 3), 32);
        let m = t.lookup(v4(10, 1, 5, 5), 32);
        assert!(m.has_plen(16));
        assert!(!m.has_plen(32));
        // 10.1.5.5 and 10.1.2.3 differ at bit 21.
        assert_eq!(m.maskbits, 22);
        let m = t.lookup(v4(10, 1, 2, 3), 32);
        assert!(m.has_plen(16) && m.has_plen(32));
        assert_eq!(m.maskbits, 32);
        let m = t.lookup(v4(11, 0, 0, 0), 32);
        assert_eq!(m.plens, 0);
        assert_eq!(m.maskbits, 8);
    }

    #[test]
    fn remove_prunes_and_merges() {
        let mut t = PrefixTrie::new();
        t.insert(v4(10, 0, 0, 0), 8);
        t.insert(v4(10, 1, 0, 0), 16);
        t.insert(v4(10, 1, 0, 0), 16);
        assert!(t.remove(v4(10, 1, 0, 0), 16));
        assert!(t.lookup(v4(10, 1, 9, 9), 32).has_plen(16));
        assert!(t.remove(v4(10, 1, 0, 0), 16));
        assert!(!t.lookup(v4(10, 1, 9, 9), 32).has_plen(16));
        assert!(!t.remove(v4(10, 1, 0, 0), 16));
        assert!(!t.remove(v4(10, 0, 0, 0), 9));
        assert_eq!(t.lookup(v4(10, 1, 9, 9), 32).maskbits, 8);
        assert!(t.remove(v4(10, 0, 0, 0), 8));
        assert!(t.is_empty());
    }

    #[test]
    fn snapshots_are_unaffected_by_later_changes() {
        let mut t = PrefixTrie::new();
        t.insert(v4(192, 168, 0, 0), 16);
        let snap = t.clone();
        t.insert(v4(192, 168, 1, 0), 24);
        t.remove(v4(192, 168, 0, 0), 16);
        assert!(snap.lookup(v4(192, 168, 1, 1), 32).has_plen(16));
        assert!(!snap.lookup(v4(192, 168, 1, 1), 32).has_plen(24));
        assert!(t.lookup(v4(192, 168, 1, 1), 32).has_plen(24));
    }

    #[test]
    fn random_against_definition() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(42);
        for width in [16u32, 32, 128] {
            let mut t = PrefixTrie::new();
            let mut list: Vec<(u128, u32)> = Vec::new();
            // Values from a small space so that prefixes share bits.
            let pick = |rng: &mut rand::rngs::StdRng| -> u128 {
                let x: u128 = rng.gen::<u128>()
                    & rng.gen::<u128>()
                    & 0xf0f0_0000_0000_0000_0000_0000_0000_00ff;
                x & top(width)
            };
            for step in 0..3000 {
                if list.is_empty() || rng.gen_bool(0.6) {
                    let l = rng.gen_range(1..=width);
                    let p = pick(&mut rng) & top(l);
                    t.insert(p, l);
                    list.push((p, l));
                } else {
                    let i = rng.gen_range(0..list.len());
                    let (p, l) = list.swap_remove(i);
                    assert!(t.remove(p, l), "step {step}");
                }
                let v = pick(&mut rng);
                assert_eq!(
                    t.lookup(v, width),
                    reference(&list, v, width),
                    "step {step}"
                );
            }
        }
    }
}
