//! Classifier rules: a match (as a compact [`MiniMatch`]), a priority, the
//! conjunctions the rule takes part in, its visibility interval of versions
//! and the client's data.

use crate::words::{FlowWords, N_WORDS};
use flow::Match;
use packet::Flow;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

/// A classifier version.  A rule is visible to lookups in versions
/// `added..removed`; an OpenFlow bundle becomes visible at once when the
/// version its changes were made in is published to readers.
pub type Version = u64;
/// The first version.
pub const VERSION_MIN: Version = 0;
/// The last version a lookup may use.
pub const VERSION_MAX: Version = u64::MAX - 1;
/// `removed` of a rule that is not scheduled for removal.
pub const VERSION_NOT_REMOVED: Version = u64::MAX;

/// One nonzero word of a mask: its index in the packed flow and its bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MaskWord {
    pub idx: u8,
    pub bits: u64,
}

/// A match in compact form: the nonzero words of the mask and the flow's
/// values in those words (already masked).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct MiniMatch {
    pub(crate) mask: Arc<[MaskWord]>,
    pub(crate) values: Box<[u64]>,
}

impl From<&Match> for MiniMatch {
    fn from(m: &Match) -> MiniMatch {
        MiniMatch::from_match(m)
    }
}

impl MiniMatch {
    /// The match of `flow` under wildcard mask `mask` (a set bit matters).
    pub fn new(flow: &Flow, mask: &Flow) -> MiniMatch {
        Self::from_words(&FlowWords::from_flow(flow), &FlowWords::from_flow(mask))
    }

    /// The compact form of an OpenFlow match.
    pub fn from_match(m: &Match) -> MiniMatch {
        Self::new(&m.flow, &m.wc)
    }

    /// Back to a [`Match`].  The tunnel metadata layout (`ofs`/`len` of
    /// `tun_metadata` slots) is not kept: the option bytes are.
    pub fn to_match(&self) -> Match {
        Match {
            flow: self.flow(),
            wc: self.mask(),
        }
    }

    /// Same as [`MiniMatch::new`] for packed flows.
    pub fn from_words(flow: &FlowWords, mask: &FlowWords) -> MiniMatch {
        let mut words = Vec::new();
        let mut values = Vec::new();
        for (i, (&m, &v)) in mask.0.iter().zip(flow.0.iter()).enumerate() {
            if m != 0 {
                words.push(MaskWord {
                    idx: i as u8,
                    bits: m,
                });
                values.push(v & m);
            }
        }
        MiniMatch {
            mask: words.into(),
            values: values.into(),
        }
    }

    /// The match that matches every packet.
    pub fn catchall() -> MiniMatch {
        MiniMatch {
            mask: Arc::from(Vec::new()),
            values: Box::new([]),
        }
    }

    /// True if the match matches every packet.
    pub fn is_catchall(&self) -> bool {
        self.mask.is_empty()
    }

    /// The wildcard mask, unpacked.
    pub fn mask_words(&self) -> FlowWords {
        let mut w = FlowWords::default();
        for m in self.mask.iter() {
            w.0[m.idx as usize] = m.bits;
        }
        w
    }

    /// The (masked) flow values, unpacked.
    pub fn flow_words(&self) -> FlowWords {
        let mut w = FlowWords::default();
        for (m, v) in self.mask.iter().zip(self.values.iter()) {
            w.0[m.idx as usize] = *v;
        }
        w
    }

    /// The flow, with wildcarded bits zero.
    pub fn flow(&self) -> Flow {
        self.flow_words().to_flow()
    }

    /// The wildcard mask.
    pub fn mask(&self) -> Flow {
        self.mask_words().to_flow()
    }

    /// True if `flow` has this match's values in every bit of its mask.
    pub fn matches_words(&self, flow: &[u64; N_WORDS]) -> bool {
        self.mask
            .iter()
            .zip(self.values.iter())
            .all(|(m, &v)| flow[m.idx as usize] & m.bits == v)
    }

    /// True if `flow` matches.
    pub fn matches(&self, flow: &Flow) -> bool {
        self.matches_words(&FlowWords::from_flow(flow).0)
    }

    /// True if this match matches on every bit `other` matches on, with the
    /// same values there: every packet this matches, `other` matches too
    /// (the OpenFlow "loose" match of a rule against flow-mod criteria).
    pub fn is_loose_match(&self, other: &MiniMatch) -> bool {
        let mine = self.flow_words();
        let my_mask = self.mask_words();
        other.mask.iter().zip(other.values.iter()).all(|(m, &v)| {
            let i = m.idx as usize;
            my_mask.0[i] & m.bits == m.bits && mine.0[i] & m.bits == v
        })
    }
}

/// One `conjunction(id, clause/n_clauses)` action of a rule, abstractly:
/// `clause` counts from 0 (the action's `k` minus one).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Conjunction {
    pub id: u32,
    pub clause: u8,
    pub n_clauses: u8,
}

/// A rule in a classifier, shared between the classifier, its published
/// snapshots and the client (`Arc`).
pub struct ClsRule<T> {
    pub(crate) m: MiniMatch,
    priority: i32,
    conjunctions: Box<[Conjunction]>,
    min_n_clauses: u8,
    add_version: AtomicU64,
    remove_version: AtomicU64,
    /// Insertion order within its subtable (for iteration order).
    pub(crate) seq: AtomicU64,
    pub(crate) in_classifier: AtomicBool,
    data: T,
}

impl<T: std::fmt::Debug> std::fmt::Debug for ClsRule<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClsRule")
            .field("priority", &self.priority)
            .field("mask", &self.m.mask_words())
            .field("flow", &self.m.flow_words())
            .field("conjunctions", &self.conjunctions)
            .field("added", &self.add_version())
            .field("removed", &self.remove_version())
            .field("data", &self.data)
            .finish()
    }
}

impl<T> ClsRule<T> {
    /// A rule matching `flow` under `mask` at `priority`.  A rule with
    /// conjunctions is a clause of conjunctive matches, never a match by
    /// itself.
    pub fn new(
        flow: &Flow,
        mask: &Flow,
        priority: i32,
        conjunctions: &[Conjunction],
        data: T,
    ) -> Arc<ClsRule<T>> {
        Self::from_minimatch(MiniMatch::new(flow, mask), priority, conjunctions, data)
    }

    /// A rule matching an OpenFlow match.
    pub fn from_match(
        m: &Match,
        priority: i32,
        conjunctions: &[Conjunction],
        data: T,
    ) -> Arc<ClsRule<T>> {
        Self::from_minimatch(MiniMatch::from_match(m), priority, conjunctions, data)
    }

    /// The rule's match (see [`MiniMatch::to_match`]).
    pub fn to_match(&self) -> Match {
        self.m.to_match()
    }

    /// A rule from a compact match.
    pub fn from_minimatch(
        m: MiniMatch,
        priority: i32,
        conjunctions: &[Conjunction],
        data: T,
    ) -> Arc<ClsRule<T>> {
        let min_n_clauses = conjunctions.iter().map(|c| c.n_clauses).min().unwrap_or(0);
        Arc::new(ClsRule {
            m,
            priority,
            conjunctions: conjunctions.into(),
            min_n_clauses,
            add_version: AtomicU64::new(VERSION_MIN),
            remove_version: AtomicU64::new(VERSION_NOT_REMOVED),
            seq: AtomicU64::new(0),
            in_classifier: AtomicBool::new(false),
            data,
        })
    }

    pub fn priority(&self) -> i32 {
        self.priority
    }

    /// The client's data.
    pub fn data(&self) -> &T {
        &self.data
    }

    pub fn minimatch(&self) -> &MiniMatch {
        &self.m
    }

    /// The rule's flow (wildcarded bits zero).
    pub fn flow(&self) -> Flow {
        self.m.flow()
    }

    /// The rule's wildcard mask.
    pub fn mask(&self) -> Flow {
        self.m.mask()
    }

    pub fn conjunctions(&self) -> &[Conjunction] {
        &self.conjunctions
    }

    pub(crate) fn min_n_clauses(&self) -> u8 {
        self.min_n_clauses
    }

    pub fn is_catchall(&self) -> bool {
        self.m.is_catchall()
    }

    /// True while the rule is in a classifier.
    pub fn is_in_classifier(&self) -> bool {
        self.in_classifier.load(Ordering::Acquire)
    }

    pub fn add_version(&self) -> Version {
        self.add_version.load(Ordering::Acquire)
    }

    pub fn remove_version(&self) -> Version {
        self.remove_version.load(Ordering::Acquire)
    }

    pub(crate) fn set_versions(&self, add: Version, remove: Version) {
        self.add_version.store(add, Ordering::Release);
        self.remove_version.store(remove, Ordering::Release);
    }

    /// True if lookups in `version` see the rule.
    pub fn is_visible_in_version(&self, version: Version) -> bool {
        self.add_version() <= version && version < self.remove_version()
    }

    /// True if the rule is scheduled to disappear in some version.
    pub fn is_eventually_invisible(&self) -> bool {
        self.remove_version() <= VERSION_MAX
    }

    /// Makes the rule invisible to lookups in `version` and later (it stays
    /// in the classifier until removed).  `version` is clamped to be no
    /// earlier than the version the rule was added in.
    pub fn make_invisible_in_version(&self, version: Version) {
        let v = version.max(self.add_version());
        self.remove_version.store(v, Ordering::Release);
    }

    /// Undoes [`ClsRule::make_invisible_in_version`].
    pub fn restore_visibility(&self) {
        self.remove_version
            .store(VERSION_NOT_REMOVED, Ordering::Release);
    }

    /// True if `a` and `b` match the same packets at the same priority.
    pub fn equal<U>(&self, other: &ClsRule<U>) -> bool {
        self.priority == other.priority && self.m == other.m
    }
}

#[cfg(test)]
#[allow(clippy::field_reassign_with_default)]
mod tests {
    use super::*;

    #[test]
    fn minimatch_zeroes_wildcarded_bits() {
        let mut f = Flow::default();
        f.nw_src = 0x0a01_0203;
        f.in_port = 5;
        let mut m = Flow::default();
        m.nw_src = 0xffff_0000;
        let mm = MiniMatch::new(&f, &m);
        assert_eq!(mm.flow().nw_src, 0x0a01_0000);
        assert_eq!(mm.flow().in_port, 0);
        assert_eq!(mm.mask(), m);
        assert!(mm.matches(&f));
        f.nw_src = 0x0a02_0000;
        assert!(!mm.matches(&f));
        assert!(MiniMatch::catchall().matches(&f));
    }

    #[test]
    fn match_round_trip() {
        let mut m = Match::catchall();
        m.flow.dl_type = 0x0800;
        m.wc.dl_type = !0;
        m.flow.nw_dst = 0x0a00_0000;
        m.wc.nw_dst = 0xff00_0000;
        let mm = MiniMatch::from_match(&m);
        assert_eq!(mm.to_match(), m);
        let r = ClsRule::from_match(&m, 7, &[], ());
        assert_eq!(r.to_match(), m);
        assert_eq!(r.priority(), 7);
    }

    #[test]
    fn loose_match() {
        let mut f = Flow::default();
        f.nw_src = 0x0a01_0203;
        f.tp_dst = 80;
        let mut m = Flow::default();
        m.nw_src = 0xffff_ffff;
        m.tp_dst = 0xffff;
        let rule = MiniMatch::new(&f, &m);
        let mut cm = Flow::default();
        cm.nw_src = 0xffff_0000;
        let criteria = MiniMatch::new(&f, &cm);
        assert!(rule.is_loose_match(&criteria));
        assert!(rule.is_loose_match(&MiniMatch::catchall()));
        assert!(!criteria.is_loose_match(&rule));
        let mut g = f;
        g.nw_src = 0x0b00_0000;
        assert!(!rule.is_loose_match(&MiniMatch::new(&g, &cm)));
    }

    #[test]
    fn versions() {
        let r = ClsRule::new(&Flow::default(), &Flow::default(), 1, &[], ());
        r.set_versions(5, VERSION_NOT_REMOVED);
        assert!(!r.is_visible_in_version(4));
        assert!(r.is_visible_in_version(5));
        assert!(!r.is_eventually_invisible());
        r.make_invisible_in_version(9);
        assert!(r.is_visible_in_version(8));
        assert!(!r.is_visible_in_version(9));
        assert!(r.is_eventually_invisible());
        r.restore_visibility();
        assert!(r.is_visible_in_version(VERSION_MAX));
    }
}
