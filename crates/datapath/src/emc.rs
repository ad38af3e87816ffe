//! The exact-match cache: one per forwarding thread, from a packet's whole
//! flow key to the megaflow that matched it last time, so that the common
//! case skips the megaflow classifier. Direct-mapped by a hash of the key;
//! an entry whose megaflow left the table misses.
//!
//! Keys are kept and compared as the packed words of
//! [`crate::megaflow::flow_words`], the form the megaflow classifier
//! matches on: two keys with the same words hit the same megaflow, so
//! comparing words is exact for the cache's purpose, and one comparison of
//! a few hundred contiguous bytes costs far less than comparing a `Flow`
//! field by field. The words are built once per packet and serve the
//! classifier too when the cache misses. A received packet's key has only
//! the words a frame fills ([`crate::megaflow::W_FRAME`]); it is compared
//! on those alone, with entries whose other words are zero too.

use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;

use crate::megaflow::{
    FlowWords, FxHasher, Megaflow, W_DISTINCT, W_FRAME, W_TUN_OPTS, W_TUN_PRESENT,
};

struct Entry {
    hash: u64,
    /// Every word outside [`W_FRAME`] is zero, as in a received packet's
    /// key: such a key is compared on those words only.
    frame_only: bool,
    words: Box<FlowWords>,
    mf: Arc<Megaflow>,
}

pub struct Emc {
    entries: Vec<Option<Entry>>,
    mask: usize,
}

/// Whether two packed keys are equal; the options' words are compared only
/// when options are present (otherwise both are zero).
#[inline]
fn same_key(a: &FlowWords, b: &FlowWords) -> bool {
    a[..W_TUN_OPTS.start] == b[..W_TUN_OPTS.start]
        && a[W_TUN_OPTS.end..] == b[W_TUN_OPTS.end..]
        && (a[W_TUN_PRESENT] == 0 || a[W_TUN_OPTS] == b[W_TUN_OPTS])
}

/// Whether every word of `w` outside [`W_FRAME`] is zero.
fn frame_only(w: &FlowWords) -> bool {
    w[..W_FRAME.start].iter().all(|&x| x == 0) && w[W_FRAME.end..].iter().all(|&x| x == 0)
}

impl Emc {
    /// A cache of `n` entries (rounded up to a power of two; 0 disables).
    pub fn new(n: usize) -> Emc {
        let n = if n == 0 { 0 } else { n.next_power_of_two() };
        Emc {
            entries: (0..n).map(|_| None).collect(),
            mask: n.wrapping_sub(1),
        }
    }

    /// The megaflow cached for the key `words` (of hash `hash`).
    /// `received`: the key was packed by
    /// [`crate::megaflow::pack_received_words`], so its words outside
    /// [`W_FRAME`] are zero and only an entry alike can match it, on the
    /// words inside.
    #[inline]
    pub fn lookup(&self, words: &FlowWords, hash: u64, received: bool) -> Option<&Arc<Megaflow>> {
        if self.entries.is_empty() {
            return None;
        }
        debug_assert!(!received || frame_only(words));
        match &self.entries[hash as usize & self.mask] {
            Some(e)
                if e.hash == hash
                    && if received {
                        e.frame_only && e.words[W_FRAME] == words[W_FRAME]
                    } else {
                        same_key(&e.words, words)
                    }
                    && e.mf.alive.load(Relaxed) =>
            {
                Some(&e.mf)
            }
            _ => None,
        }
    }

    #[inline]
    pub fn insert(&mut self, words: &FlowWords, hash: u64, mf: &Arc<Megaflow>) {
        if self.entries.is_empty() {
            return;
        }
        let slot = &mut self.entries[hash as usize & self.mask];
        match slot {
            Some(e) => {
                e.hash = hash;
                e.frame_only = frame_only(words);
                *e.words = *words;
                e.mf = mf.clone();
            }
            None => {
                *slot = Some(Entry {
                    hash,
                    frame_only: frame_only(words),
                    words: Box::new(*words),
                    mf: mf.clone(),
                })
            }
        }
    }

    /// Hash used to index the cache (equal words hash equal).
    #[inline]
    pub fn hash(words: &FlowWords) -> u64 {
        let mut h = FxHasher::default();
        for i in W_DISTINCT {
            h.add(words[i]);
        }
        h.finish_u64()
    }
}

#[cfg(test)]
#[allow(clippy::field_reassign_with_default)]
mod tests {
    use super::*;
    use crate::megaflow::flow_words;
    use flow::odp::Ufid;
    use packet::flow::Flow;

    #[test]
    fn hit_miss_and_dead_flows() {
        let mut emc = Emc::new(4);
        let mut f = Flow::default();
        f.in_port = 3;
        let mf = Arc::new(Megaflow::new(
            Ufid(1),
            &f,
            &Flow::default(),
            Arc::from(vec![]),
        ));
        let w = flow_words(&f);
        let h = Emc::hash(&w);
        assert!(emc.lookup(&w, h, false).is_none());
        emc.insert(&w, h, &mf);
        assert!(emc.lookup(&w, h, false).is_some());
        let mut g = f;
        g.nw_src = 1;
        assert!(
            emc.lookup(&flow_words(&g), h, false).is_none(),
            "same slot, other key"
        );
        // A field outside the hashed words still tells keys apart.
        let mut g = f;
        g.nd_reserved = 7;
        let wg = flow_words(&g);
        assert_eq!(Emc::hash(&wg), h);
        assert!(emc.lookup(&wg, h, false).is_none(), "same hash, other key");
        // A received key (words outside W_FRAME zero) matches an entry
        // alike on its frame words, and never an entry with metadata.
        assert!(frame_only(&w));
        assert!(emc.lookup(&w, h, true).is_some());
        let mut r = f;
        r.regs[0] = 9;
        let wr = flow_words(&r);
        let mut other = Emc::new(4);
        // Same slot and hash, so only the comparison tells them apart.
        other.insert(&wr, h, &mf);
        assert!(!frame_only(&wr));
        assert!(other.lookup(&w, h, true).is_none(), "entry has a register");
        assert!(other.lookup(&w, h, false).is_none());
        assert!(other.lookup(&wr, h, false).is_some());
        mf.alive.store(false, Relaxed);
        assert!(emc.lookup(&w, h, false).is_none());
        assert!(Emc::new(0).lookup(&w, h, false).is_none());
    }
}
