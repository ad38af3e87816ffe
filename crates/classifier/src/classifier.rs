//! The classifier: the writer's handle ([`Classifier`]), the immutable
//! snapshots readers use ([`ClsState`], through [`ClsReader`]), lookup with
//! wildcard tracking and conjunctive matches, and iteration.
//!
//! # Concurrency
//!
//! One writer changes its working [`ClsState`]; [`Classifier::publish`]
//! (automatic after each change unless [`Classifier::defer`] was called)
//! stores a copy of it for readers with `arc-swap`.  Readers load the
//! current snapshot without locking and keep it as long as they like.  A
//! copy is cheap: subtables, their hash shards and trie nodes are shared,
//! and the first change after a publish copies only what it touches.
//! While no [`ClsReader`] exists nothing is published (a snapshot nobody
//! reads would only make the next change copy what it shares); the first
//! [`Classifier::reader`] publishes the current state.
//!
//! Versions make a batch of changes (an OpenFlow bundle) visible at once:
//! rules are inserted with the version that will become current and old
//! rules are made invisible in it ([`ClsRule::make_invisible_in_version`]);
//! readers keep looking up in the old version until the client advances the
//! version it passes to lookups.
//!
//! # Lookup
//!
//! Subtables are visited in decreasing order of their highest priority, and
//! the visit stops when no remaining subtable can beat the best certain
//! match.  Each subtable is searched stage by stage
//! ([`crate::subtable`]); before a stage that holds a configured prefix
//! field, the field's trie may prove the subtable cannot match, in which
//! case only the address bits the trie examined are un-wildcarded.

use crate::prefix::{TrieConfig, DEFAULT_PREFIX_FIELDS};
use crate::rule::{ClsRule, MaskWord, MiniMatch, Version};
use crate::subtable::{Group, Replaced, Subtable, MAX_TRIES};
use crate::trie::TrieMatch;
use crate::words::{conj_id_of, dl_type_of, set_conj_id_of, FlowWords, N_WORDS};
use arc_swap::ArcSwap;
use flow::{FieldId, Match};
use packet::Flow;
use std::collections::HashMap;
use std::sync::Arc;

/// An immutable view of a classifier's rules: what readers look up in.
pub struct ClsState<T> {
    /// Subtables by decreasing max priority (ties: see `Classifier::resort`).
    subtables: Vec<Arc<Subtable<T>>>,
    by_mask: Arc<HashMap<Arc<[MaskWord]>, u64>>,
    tries: Vec<TrieConfig>,
    n_rules: usize,
    next_subtable_id: u64,
}

impl<T> Clone for ClsState<T> {
    fn clone(&self) -> Self {
        ClsState {
            subtables: self.subtables.clone(),
            by_mask: self.by_mask.clone(),
            tries: self.tries.clone(),
            n_rules: self.n_rules,
            next_subtable_id: self.next_subtable_id,
        }
    }
}

/// Per-lookup state of one prefix trie.
#[derive(Clone, Copy, Default)]
struct TrieCtx {
    done: bool,
    m: TrieMatch,
}

/// A rule that matched but belongs to conjunctions: a real match only if
/// all clauses of one of its conjunctions match.
struct Soft<'a, T> {
    group: &'a Group<T>,
    idx: usize,
}

impl<'a, T> Soft<'a, T> {
    fn rule(&self) -> &'a Arc<ClsRule<T>> {
        &self.group[self.idx]
    }
}

/// Where conjunctive lookups record the clause rules of the conjunction
/// that matched.
pub type ConjFlows<T> = Vec<Arc<ClsRule<T>>>;

impl<T> Default for ClsState<T> {
    fn default() -> Self {
        ClsState {
            subtables: Vec::new(),
            by_mask: Arc::new(HashMap::new()),
            tries: Vec::new(),
            n_rules: 0,
            next_subtable_id: 0,
        }
    }
}

impl<T> ClsState<T> {
    /// Number of rules (visible in any version).
    pub fn count(&self) -> usize {
        self.n_rules
    }

    pub fn is_empty(&self) -> bool {
        self.n_rules == 0
    }

    /// Number of subtables (distinct masks).
    pub fn n_subtables(&self) -> usize {
        self.subtables.len()
    }

    /// The fields prefix tries are kept for.
    pub fn prefix_fields(&self) -> Vec<FieldId> {
        self.tries.iter().map(|t| t.field).collect()
    }

    fn subtable_pos(&self, mask: &[MaskWord]) -> Option<usize> {
        let id = *self.by_mask.get(mask)?;
        self.subtables.iter().position(|s| s.id == id)
    }

    /// The highest-priority rule visible in `version` that matches `flow`.
    /// If `wc` is given, ORs into it the bits of `flow` the answer depended
    /// on (the megaflow mask), whether or not a rule matched.
    pub fn lookup(
        &self,
        version: Version,
        flow: &Flow,
        wc: Option<&mut Flow>,
    ) -> Option<&Arc<ClsRule<T>>> {
        let words = FlowWords::from_flow(flow);
        match wc {
            None => self.lookup_words(version, &words, None, None),
            Some(wc) => {
                let mut w = FlowWords::from_flow(wc);
                let r = self.lookup_words(version, &words, Some(&mut w), None);
                w.or_into_flow(wc);
                r
            }
        }
    }

    /// [`ClsState::lookup`] on packed words; `conj_flows`, if given,
    /// receives the clause rules of a conjunctive match that was taken.
    pub fn lookup_words(
        &self,
        version: Version,
        flow: &FlowWords,
        wc: Option<&mut FlowWords>,
        conj_flows: Option<&mut ConjFlows<T>>,
    ) -> Option<&Arc<ClsRule<T>>> {
        let mut flow = *flow;
        self.lookup_inner(version, &mut flow.0, wc.map(|w| &mut w.0), true, conj_flows)
    }

    fn trie_match(&self, j: usize, flow: &[u64; N_WORDS]) -> TrieMatch {
        let t = &self.tries[j];
        let prereq_ok = t.prereq_dl_type.is_none_or(|d| dl_type_of(flow) == d);
        if prereq_ok {
            t.trie.lookup(t.bits.read(flow), t.bits.width)
        } else {
            // Unknown relevance: no subtable may be skipped.
            TrieMatch {
                maskbits: 0,
                plens: !0,
            }
        }
    }

    /// True if the tries prove `st` cannot match in `stage`; then the trie
    /// bits that proved it are set in `wc`.
    fn check_tries(
        &self,
        ctx: &mut [TrieCtx; MAX_TRIES],
        st: &Subtable<T>,
        stage: u8,
        flow: &[u64; N_WORDS],
        wc: &mut [u64; N_WORDS],
    ) -> bool {
        for (j, t) in self.tries.iter().enumerate() {
            let plen = st.trie_plen[j];
            if plen == 0 || t.stage != stage {
                continue;
            }
            if !ctx[j].done {
                ctx[j].m = self.trie_match(j, flow);
                ctx[j].done = true;
            }
            let m = ctx[j].m;
            if !m.has_plen(plen) {
                if m.maskbits <= plen {
                    t.bits.set_prefix(wc, m.maskbits);
                    return true;
                }
                if t.bits.prefix_is_set(wc, m.maskbits) {
                    return true;
                }
            }
        }
        false
    }

    fn lookup_inner<'a>(
        &'a self,
        version: Version,
        flow: &mut [u64; N_WORDS],
        mut wc: Option<&mut [u64; N_WORDS]>,
        allow_conj: bool,
        conj_flows: Option<&mut ConjFlows<T>>,
    ) -> Option<&'a Arc<ClsRule<T>>> {
        let mut ctx = [TrieCtx::default(); MAX_TRIES];
        let mut hard: Option<&'a Arc<ClsRule<T>>> = None;
        let mut hard_pri = i64::MIN;
        let mut soft: Vec<Option<Soft<'a, T>>> = Vec::new();
        let mut soft_pri = i64::MIN;

        for st in &self.subtables {
            if st.max_priority as i64 <= hard_pri {
                break;
            }
            let found = match wc.as_deref_mut() {
                None => st.lookup(version, flow),
                Some(wc) => st.lookup_wc(version, flow, wc, |st, stage, wc| {
                    self.check_tries(&mut ctx, st, stage, flow, wc)
                }),
            };
            let Some((group, idx)) = found else {
                continue;
            };
            let rule = &group[idx];
            let p = rule.priority() as i64;
            if p <= hard_pri {
                continue;
            }
            if rule.conjunctions().is_empty() {
                hard = Some(rule);
                hard_pri = p;
            } else if allow_conj {
                soft.push(Some(Soft { group, idx }));
                soft_pri = soft_pri.max(p);
            }
        }
        if hard_pri >= soft_pri {
            return hard;
        }

        // Resolve conjunctive matches, highest priority first.
        loop {
            soft.retain(|s| matches!(s, Some(s) if s.rule().priority() as i64 > hard_pri));
            if soft.is_empty() {
                break;
            }
            let top = soft
                .iter()
                .flatten()
                .map(|s| s.rule().priority())
                .max()
                .unwrap_or(i32::MIN);
            let n_top = soft
                .iter()
                .flatten()
                .filter(|s| s.rule().priority() == top)
                .count();
            let mut clauses: Vec<(u32, u64)> = Vec::new();
            for s in soft.iter().flatten() {
                let r = s.rule();
                if r.priority() != top {
                    continue;
                }
                let Some(id) = complete_conjunction(r, n_top, &mut clauses) else {
                    continue;
                };
                let saved = conj_id_of(flow);
                set_conj_id_of(flow, id);
                let found = self.lookup_inner(version, flow, wc.as_deref_mut(), false, None);
                set_conj_id_of(flow, saved);
                if let Some(rule) = found {
                    if let Some(cf) = conj_flows {
                        for s in soft.iter().flatten() {
                            let r = s.rule();
                            if r.priority() == top && r.conjunctions().iter().any(|c| c.id == id) {
                                cf.push(r.clone());
                            }
                        }
                    }
                    return Some(rule);
                }
            }
            // No conjunction completed at this priority: fall back to the
            // next visible rule with the same match, if any.
            for slot in soft.iter_mut() {
                let Some(s) = slot else { continue };
                if s.rule().priority() != top {
                    continue;
                }
                let next =
                    (s.idx + 1..s.group.len()).find(|&i| s.group[i].is_visible_in_version(version));
                match next {
                    None => *slot = None,
                    Some(i) => {
                        let r = &s.group[i];
                        if r.conjunctions().is_empty() {
                            if r.priority() as i64 > hard_pri {
                                hard = Some(r);
                                hard_pri = r.priority() as i64;
                            }
                            *slot = None;
                        } else {
                            s.idx = i;
                        }
                    }
                }
            }
        }
        hard
    }

    /// The rule with exactly match `m` and `priority` visible in `version`.
    pub fn find_rule_exactly(
        &self,
        m: &MiniMatch,
        priority: i32,
        version: Version,
    ) -> Option<&Arc<ClsRule<T>>> {
        let st = &self.subtables[self.subtable_pos(&m.mask)?];
        let group = st.find_group(&m.values)?;
        group
            .iter()
            .take_while(|r| r.priority() >= priority)
            .find(|r| r.priority() == priority && r.is_visible_in_version(version))
    }

    /// [`ClsState::find_rule_exactly`] for an OpenFlow match.
    pub fn find_match_exactly(
        &self,
        m: &Match,
        priority: i32,
        version: Version,
    ) -> Option<&Arc<ClsRule<T>>> {
        self.find_rule_exactly(&MiniMatch::from_match(m), priority, version)
    }

    /// True if a rule visible in `version` has `priority` and could match a
    /// packet that `m` matches.
    pub fn rule_overlaps(&self, m: &MiniMatch, priority: i32, version: Version) -> bool {
        let target = m.flow_words();
        let tmask = m.mask_words();
        for st in &self.subtables {
            if st.max_priority < priority {
                break;
            }
            for group in st.groups() {
                for r in group {
                    if r.priority() != priority || !r.is_visible_in_version(version) {
                        continue;
                    }
                    let overlap = st.mask.iter().zip(r.m.values.iter()).all(|(mw, &v)| {
                        let both = mw.bits & tmask.0[mw.idx as usize];
                        (v ^ target.0[mw.idx as usize]) & both == 0
                    });
                    if overlap {
                        return true;
                    }
                }
            }
        }
        false
    }

    /// Every rule visible in `version` that loosely matches `target` (see
    /// [`MiniMatch::is_loose_match`]), or every visible rule if `target` is
    /// `None`: subtables in priority order, rules of a subtable in the
    /// order they were inserted (a replacement keeps its place).
    pub fn rules<'a>(
        &'a self,
        target: Option<&'a MiniMatch>,
        version: Version,
    ) -> impl Iterator<Item = &'a Arc<ClsRule<T>>> + 'a {
        let target = target.filter(|t| !t.is_catchall());
        let tmask = target.map(|t| t.mask_words());
        self.subtables
            .iter()
            .filter(move |st| match &tmask {
                None => true,
                Some(tm) => {
                    // The subtable must match on every bit the target does.
                    let mut sm = [0u64; N_WORDS];
                    for mw in st.mask.iter() {
                        sm[mw.idx as usize] = mw.bits;
                    }
                    tm.0.iter().zip(sm.iter()).all(|(t, s)| t & s == *t)
                }
            })
            .flat_map(move |st| {
                let mut v: Vec<&'a Arc<ClsRule<T>>> = st
                    .groups()
                    .flatten()
                    .filter(|r| r.is_visible_in_version(version))
                    .filter(|r| target.is_none_or(|t| r.m.is_loose_match(t)))
                    .collect();
                v.sort_by_key(|r| r.seq.load(std::sync::atomic::Ordering::Relaxed));
                v
            })
    }
}

/// Records `rule`'s clauses in `clauses` (id, clause bitmap); returns the id
/// of a conjunction all of whose clauses have now matched.  Conjunctions
/// with more clauses than `n_matches` rules matched cannot complete.
fn complete_conjunction<T>(
    rule: &ClsRule<T>,
    n_matches: usize,
    clauses: &mut Vec<(u32, u64)>,
) -> Option<u32> {
    if n_matches < rule.min_n_clauses() as usize {
        return None;
    }
    for c in rule.conjunctions() {
        if c.n_clauses as usize > n_matches || c.clause >= c.n_clauses || c.n_clauses > 64 {
            continue;
        }
        let pos = match clauses.iter().position(|(id, _)| *id == c.id) {
            Some(p) => p,
            None => {
                let unused = if c.n_clauses >= 64 {
                    0
                } else {
                    !0u64 << c.n_clauses
                };
                clauses.push((c.id, unused));
                clauses.len() - 1
            }
        };
        clauses[pos].1 |= 1u64 << c.clause;
        if clauses[pos].1 == !0 {
            return Some(c.id);
        }
    }
    None
}

/// A handle for readers: loads the latest published snapshot without
/// locking.
pub struct ClsReader<T> {
    shared: Arc<ArcSwap<ClsState<T>>>,
}

impl<T> Clone for ClsReader<T> {
    fn clone(&self) -> Self {
        ClsReader {
            shared: self.shared.clone(),
        }
    }
}

impl<T> ClsReader<T> {
    /// The current snapshot (cheap; hold it only briefly).
    pub fn load(&self) -> arc_swap::Guard<Arc<ClsState<T>>> {
        self.shared.load()
    }

    /// The current snapshot as an owned `Arc`.
    pub fn load_full(&self) -> Arc<ClsState<T>> {
        self.shared.load_full()
    }
}

/// The writer's handle on a classifier.
pub struct Classifier<T> {
    state: ClsState<T>,
    shared: Arc<ArcSwap<ClsState<T>>>,
    deferred: bool,
    /// What `shared` holds is older than `state` (changes made while no
    /// reader existed); the next [`Classifier::reader`] publishes.
    stale: std::sync::atomic::AtomicBool,
}

impl<T> Default for Classifier<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> Classifier<T> {
    /// An empty classifier with prefix tries on `nw_dst` and `nw_src` (the
    /// `Flow_Table` default).
    pub fn new() -> Classifier<T> {
        let mut c = Self::with_prefix_fields(&[]);
        c.set_prefix_fields(&DEFAULT_PREFIX_FIELDS);
        c
    }

    /// An empty classifier with tries on `fields` (see
    /// [`Classifier::set_prefix_fields`]).
    pub fn with_prefix_fields(fields: &[FieldId]) -> Classifier<T> {
        let state = ClsState::default();
        let mut c = Classifier {
            shared: Arc::new(ArcSwap::from_pointee(state.clone())),
            state,
            deferred: false,
            stale: std::sync::atomic::AtomicBool::new(false),
        };
        c.set_prefix_fields(fields);
        c
    }

    /// The writer's current state (includes unpublished changes).
    pub fn state(&self) -> &ClsState<T> {
        &self.state
    }

    /// A reader handle, for other threads (it sees the current state and,
    /// as long as it or a clone of it lives, every later publication).
    pub fn reader(&self) -> ClsReader<T> {
        let reader = ClsReader {
            shared: self.shared.clone(),
        };
        if self.stale.swap(false, std::sync::atomic::Ordering::AcqRel) {
            self.shared.store(Arc::new(self.state.clone()));
        }
        reader
    }

    /// Stops publishing after every change until [`Classifier::publish`].
    pub fn defer(&mut self) {
        self.deferred = true;
    }

    /// Publishes the current state to readers and resumes publishing after
    /// every change.
    pub fn publish(&mut self) {
        self.deferred = false;
        self.store();
    }

    fn changed(&mut self) {
        if !self.deferred {
            self.store();
        }
    }

    /// Publishes the current state if some reader can see it; otherwise
    /// drops the old snapshot (so later changes copy nothing) and leaves
    /// publication to the next [`Classifier::reader`].
    fn store(&mut self) {
        use std::sync::atomic::Ordering;
        // Readers are only made by `reader` (which needs no `&mut`, but
        // `&mut self` here excludes it) or by cloning a reader: a count
        // of one cannot grow while this runs.
        if Arc::strong_count(&self.shared) > 1 {
            self.shared.store(Arc::new(self.state.clone()));
            self.stale.store(false, Ordering::Release);
        } else if !self.stale.swap(true, Ordering::AcqRel) {
            self.shared.store(Arc::new(ClsState::default()));
        }
    }

    /// Sets the fields to keep prefix tries for: at most three, among
    /// `tun_id`, `tun_src`, `tun_dst`, `tun_ipv6_src`, `tun_ipv6_dst`,
    /// `nw_src`, `nw_dst`, `ipv6_src` and `ipv6_dst`; others and duplicates
    /// are ignored.  Returns true if the configuration changed.
    pub fn set_prefix_fields(&mut self, fields: &[FieldId]) -> bool {
        let mut new: Vec<FieldId> = Vec::new();
        for &f in fields {
            if new.len() == MAX_TRIES {
                break;
            }
            if TrieConfig::for_field(f).is_some() && !new.contains(&f) {
                new.push(f);
            }
        }
        if new == self.state.prefix_fields() {
            return false;
        }
        let mut tries: Vec<TrieConfig> = new
            .iter()
            .filter_map(|&f| TrieConfig::for_field(f))
            .collect();
        for st in self.state.subtables.iter_mut() {
            let mw = mask_flow_words(&st.mask);
            let mut plens = [0u32; MAX_TRIES];
            for (j, t) in tries.iter_mut().enumerate() {
                plens[j] = t.bits.prefix_len(&mw.0);
                if plens[j] > 0 {
                    for g in st.groups() {
                        let v = t.bits.read(&g[0].m.flow_words().0);
                        t.trie.insert(v, plens[j]);
                    }
                }
            }
            Arc::make_mut(st).trie_plen = plens;
        }
        self.state.tries = tries;
        self.changed();
        true
    }

    /// The fields prefix tries are kept for.
    pub fn prefix_fields(&self) -> Vec<FieldId> {
        self.state.prefix_fields()
    }

    /// Inserts `rule`, visible from `version` on.  If a rule with the same
    /// match and priority is there and not scheduled for removal, `rule`
    /// takes its place and the old rule is returned (it is no longer in
    /// the classifier).  Inserting a rule that is already in a classifier
    /// does nothing and returns `None`.
    pub fn replace(&mut self, rule: Arc<ClsRule<T>>, version: Version) -> Option<Arc<ClsRule<T>>> {
        if rule.is_in_classifier() {
            return None;
        }
        let pos = match self.state.subtable_pos(&rule.m.mask) {
            Some(p) => p,
            None => self.insert_subtable(rule.m.mask.clone()),
        };
        let old_max = self.state.subtables[pos].max_priority;
        let st = Arc::make_mut(&mut self.state.subtables[pos]);
        let result = st.replace(rule.clone(), version);
        let plens = st.trie_plen;
        let new_max = st.max_priority;
        match result {
            Replaced::Displaced(old) => {
                self.changed();
                return Some(old);
            }
            Replaced::NewGroup => {
                let w = rule.m.flow_words();
                for (j, t) in self.state.tries.iter_mut().enumerate() {
                    if plens[j] > 0 {
                        t.trie.insert(t.bits.read(&w.0), plens[j]);
                    }
                }
            }
            Replaced::Added => {}
        }
        self.state.n_rules += 1;
        if new_max != old_max || self.state.subtables[pos].n_rules == 1 {
            self.resort();
        }
        self.changed();
        None
    }

    /// Same as [`Classifier::replace`].
    pub fn insert(&mut self, rule: Arc<ClsRule<T>>, version: Version) -> Option<Arc<ClsRule<T>>> {
        self.replace(rule, version)
    }

    /// Removes `rule`; false if it is not in this classifier.
    pub fn remove(&mut self, rule: &Arc<ClsRule<T>>) -> bool {
        let Some(pos) = self.state.subtable_pos(&rule.m.mask) else {
            return false;
        };
        let old_max = self.state.subtables[pos].max_priority;
        let st = Arc::make_mut(&mut self.state.subtables[pos]);
        let Some(last_of_group) = st.remove(rule) else {
            return false;
        };
        let plens = st.trie_plen;
        let empty = st.n_rules == 0;
        let new_max = st.max_priority;
        if last_of_group {
            let w = rule.m.flow_words();
            for (j, t) in self.state.tries.iter_mut().enumerate() {
                if plens[j] > 0 {
                    t.trie.remove(t.bits.read(&w.0), plens[j]);
                }
            }
        }
        self.state.n_rules -= 1;
        if empty {
            // The last subtable takes the empty one's place before the
            // re-sort, as in Open vSwitch's priority vector: this decides
            // the order of subtables of equal priority.
            let st = self.state.subtables.swap_remove(pos);
            Arc::make_mut(&mut self.state.by_mask).remove(&st.mask);
            self.resort();
        } else if new_max != old_max {
            self.resort();
        }
        self.changed();
        true
    }

    fn insert_subtable(&mut self, mask: Arc<[MaskWord]>) -> usize {
        let mw = mask_flow_words(&mask);
        let mut plens = [0u32; MAX_TRIES];
        for (j, t) in self.state.tries.iter().enumerate() {
            plens[j] = t.bits.prefix_len(&mw.0);
        }
        let id = self.state.next_subtable_id;
        self.state.next_subtable_id += 1;
        let st = Subtable::new(id, mask.clone(), plens);
        Arc::make_mut(&mut self.state.by_mask).insert(mask, id);
        // Appended, and placed by `resort` once it has a priority.
        self.state.subtables.push(Arc::new(st));
        self.state.subtables.len() - 1
    }

    /// Restores decreasing priority order.  The sort is stable: subtables
    /// of equal priority keep their relative order (new subtables come
    /// after older ones of the same priority), which decides which of them
    /// a lookup visits first and so the wildcards it reports.
    fn resort(&mut self) {
        self.state
            .subtables
            .sort_by_key(|s| std::cmp::Reverse(s.max_priority));
    }
}

fn mask_flow_words(mask: &[MaskWord]) -> FlowWords {
    let mut w = FlowWords::default();
    for m in mask {
        w.0[m.idx as usize] = m.bits;
    }
    w
}
