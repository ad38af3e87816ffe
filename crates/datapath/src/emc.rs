//! The exact-match cache: one per forwarding thread, from a packet's whole
//! flow key to the megaflow that matched it last time, so that the common
//! case skips the megaflow classifier. Direct-mapped by a hash of the key;
//! an entry whose megaflow left the table misses.

use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;

use packet::flow::Flow;

use crate::megaflow::{flow_hash, Megaflow};

struct Entry {
    hash: u64,
    flow: Box<Flow>,
    mf: Arc<Megaflow>,
}

pub struct Emc {
    entries: Vec<Option<Entry>>,
    mask: usize,
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

    #[inline]
    pub fn lookup(&self, flow: &Flow, hash: u64) -> Option<&Arc<Megaflow>> {
        if self.entries.is_empty() {
            return None;
        }
        match &self.entries[hash as usize & self.mask] {
            Some(e) if e.hash == hash && *e.flow == *flow && e.mf.alive.load(Relaxed) => {
                Some(&e.mf)
            }
            _ => None,
        }
    }

    #[inline]
    pub fn insert(&mut self, flow: &Flow, hash: u64, mf: &Arc<Megaflow>) {
        if self.entries.is_empty() {
            return;
        }
        let slot = &mut self.entries[hash as usize & self.mask];
        match slot {
            Some(e) => {
                e.hash = hash;
                *e.flow = *flow;
                e.mf = mf.clone();
            }
            None => {
                *slot = Some(Entry {
                    hash,
                    flow: Box::new(*flow),
                    mf: mf.clone(),
                })
            }
        }
    }

    /// Hash used to index the cache.
    #[inline]
    pub fn hash(flow: &Flow) -> u64 {
        flow_hash(flow, 0)
    }
}

#[cfg(test)]
#[allow(clippy::field_reassign_with_default)]
mod tests {
    use super::*;
    use flow::odp::Ufid;

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
        let h = Emc::hash(&f);
        assert!(emc.lookup(&f, h).is_none());
        emc.insert(&f, h, &mf);
        assert!(emc.lookup(&f, h).is_some());
        let mut g = f;
        g.nw_src = 1;
        assert!(emc.lookup(&g, h).is_none(), "same slot, other key");
        mf.alive.store(false, Relaxed);
        assert!(emc.lookup(&f, h).is_none());
        assert!(Emc::new(0).lookup(&f, h).is_none());
    }
}
