//! Hidden rules: table-0 rules the switch installs for itself, at
//! priorities above every OpenFlow priority (more than 65535) — in-band
//! control's (180000 and up) and fail-open's (0xf0f0f0). Lookups in table
//! 0 try them first (with the megaflow wildcards their classifier gives);
//! OpenFlow never sees them: flow-mods, flow stats and table stats leave
//! them out, and only `bridge/dump-flows` shows them.
//!
//! They live in a classifier of their own, beside table 0's, with table
//! 0's prefix-trie fields: a lookup that ends in a hidden rule never looks
//! at OpenFlow rules, one that does not continues in table 0, as a single
//! classifier whose highest subtables hold the hidden rules would.
//! Each [`Rule`] here carries `u16::MAX` as its OpenFlow priority; the real
//! one is kept beside it ([`HiddenRules::priority_of`]).

use crate::rule::Rule;
use classifier::{Classifier, ClsRule, MiniMatch, VERSION_MIN};
use flow::actions::OfpAction;
use flow::Match;
use std::sync::atomic::{AtomicU16, AtomicU64};
use std::sync::Arc;

/// The lowest priority of a hidden rule.
pub const MIN_HIDDEN_PRIORITY: u32 = 0x1_0000;

/// The hidden rules of one switch.
pub struct HiddenRules {
    cls: Classifier<Arc<Rule>>,
}

impl Default for HiddenRules {
    fn default() -> HiddenRules {
        HiddenRules {
            cls: Classifier::new(),
        }
    }
}

impl HiddenRules {
    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.cls.state().is_empty()
    }

    /// Adds the rule (`m`, `priority`) with `actions` at time `now` (ms),
    /// or gives the one already there these actions (keeping its counters
    /// and creation time). Returns false when nothing changed.
    pub fn add(&mut self, m: &Match, priority: u32, actions: &[OfpAction], now: u64) -> bool {
        let Ok(prio) = i32::try_from(priority.max(MIN_HIDDEN_PRIORITY)) else {
            return false;
        };
        let mini = MiniMatch::from_match(m);
        let old = self
            .cls
            .state()
            .find_rule_exactly(&mini, prio, VERSION_MIN)
            .cloned();
        let rule = match &old {
            Some(o) if *o.data().actions == *actions => return false,
            Some(o) => {
                let r = o.data();
                Rule {
                    actions: actions.to_vec().into(),
                    n_packets: AtomicU64::new(r.counters().0),
                    n_bytes: AtomicU64::new(r.counters().1),
                    used: AtomicU64::new(r.used.load(std::sync::atomic::Ordering::Relaxed)),
                    modified: AtomicU64::new(now),
                    ..hidden_rule(m, actions, r.created)
                }
            }
            None => hidden_rule(m, actions, now),
        };
        if let Some(o) = old {
            self.cls.remove(&o);
        }
        self.cls.insert(
            ClsRule::from_minimatch(mini, prio, &[], Arc::new(rule)),
            VERSION_MIN,
        );
        true
    }

    /// Removes the rule (`m`, `priority`); false if there is none.
    pub fn delete(&mut self, m: &Match, priority: u32) -> bool {
        let Ok(prio) = i32::try_from(priority) else {
            return false;
        };
        let mini = MiniMatch::from_match(m);
        let found = self
            .cls
            .state()
            .find_rule_exactly(&mini, prio, VERSION_MIN)
            .cloned();
        match found {
            Some(r) => self.cls.remove(&r),
            None => false,
        }
    }

    /// The highest-priority hidden rule matching `flow` (in lookup
    /// `version`), unwildcarding in `wc` what the answer depended on.
    pub fn lookup(
        &self,
        version: classifier::Version,
        flow: &packet::Flow,
        wc: &mut packet::Flow,
    ) -> Option<Arc<Rule>> {
        if self.cls.state().is_empty() {
            return None;
        }
        self.cls
            .state()
            .lookup(version, flow, Some(wc))
            .map(|r| r.data().clone())
    }

    /// Every hidden rule with its priority, in upstream's iteration order
    /// (subtables by priority, then the order rules were added).
    pub fn rules(&self) -> Vec<(u32, Arc<Rule>)> {
        self.cls
            .state()
            .rules(None, VERSION_MIN)
            .map(|r| (r.priority() as u32, r.data().clone()))
            .collect()
    }

    /// The priority of `rule` if it is one of these.
    pub fn priority_of(&self, rule: &Arc<Rule>) -> Option<u32> {
        if self.cls.state().is_empty() {
            return None;
        }
        self.cls
            .state()
            .rules(None, VERSION_MIN)
            .find(|r| Arc::ptr_eq(r.data(), rule))
            .map(|r| r.priority() as u32)
    }
}

fn hidden_rule(m: &Match, actions: &[OfpAction], now: u64) -> Rule {
    Rule {
        match_: m.clone(),
        priority: u16::MAX,
        table_id: 0,
        cookie: 0,
        actions: actions.to_vec().into(),
        flags: 0,
        idle_timeout: AtomicU16::new(0),
        hard_timeout: AtomicU16::new(0),
        importance: 0,
        n_packets: AtomicU64::new(0),
        n_bytes: AtomicU64::new(0),
        used: AtomicU64::new(now),
        created: now,
        modified: AtomicU64::new(now),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn normal() -> Vec<OfpAction> {
        vec![OfpAction::Output(flow::actions::Output {
            port: flow::actions::OfpPort::NORMAL,
            max_len: 0,
        })]
    }

    fn arp_from(ip: [u8; 4]) -> Match {
        let mut m = Match::catchall();
        m.flow.dl_type = 0x0806;
        m.wc.dl_type = 0xffff;
        m.flow.nw_src = u32::from_be_bytes(ip);
        m.wc.nw_src = u32::MAX;
        m
    }

    #[test]
    fn add_is_idempotent_and_delete_removes() {
        let mut h = HiddenRules::default();
        assert!(h.add(&arp_from([10, 0, 0, 1]), 180006, &normal(), 5));
        assert!(!h.add(&arp_from([10, 0, 0, 1]), 180006, &normal(), 9));
        assert!(h.add(&arp_from([10, 0, 0, 2]), 180006, &normal(), 9));
        let rules = h.rules();
        assert_eq!(rules.len(), 2);
        assert_eq!(rules[0].0, 180006);
        assert_eq!(h.priority_of(&rules[1].1), Some(180006));
        assert!(h.delete(&arp_from([10, 0, 0, 1]), 180006));
        assert!(!h.delete(&arp_from([10, 0, 0, 1]), 180006));
        assert_eq!(h.rules().len(), 1);
    }

    #[test]
    fn lookup_finds_the_highest_and_unwildcards() {
        let mut h = HiddenRules::default();
        h.add(&arp_from([10, 0, 0, 1]), 180006, &normal(), 0);
        h.add(&Match::catchall(), 0xf0f0f0, &normal(), 0);
        let mut f = packet::Flow::default();
        f.dl_type = 0x0806;
        f.nw_src = u32::from_be_bytes([10, 0, 0, 1]);
        let mut wc = packet::Flow::default();
        let r = h.lookup(VERSION_MIN, &f, &mut wc).unwrap();
        assert_eq!(h.priority_of(&r), Some(0xf0f0f0));
        h.delete(&Match::catchall(), 0xf0f0f0);
        let r = h.lookup(VERSION_MIN, &f, &mut wc).unwrap();
        assert_eq!(h.priority_of(&r), Some(180006));
        assert_eq!(wc.dl_type, 0xffff);
        f.nw_src = 1;
        assert!(h.lookup(VERSION_MIN, &f, &mut wc).is_none());
    }
}
