//! Timeouts: which rules an idle or hard timeout removes at a given time.

use crate::rule::Rule;

/// Why a rule leaves its table (`OFPRR_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RemovedReason {
    IdleTimeout = 0,
    HardTimeout = 1,
    Delete = 2,
    GroupDelete = 3,
    MeterDelete = 4,
    Eviction = 5,
}

/// Whether `rule` has expired at `now` (ms), and why.
pub fn expired(rule: &Rule, now: u64) -> Option<RemovedReason> {
    let hard = u64::from(rule.hard_timeout());
    if hard != 0 && now >= rule.modified.saturating_add(hard * 1000) {
        return Some(RemovedReason::HardTimeout);
    }
    let idle = u64::from(rule.idle_timeout());
    let used = rule
        .used
        .load(std::sync::atomic::Ordering::Relaxed)
        .max(rule.modified);
    if idle != 0 && now >= used.saturating_add(idle * 1000) {
        return Some(RemovedReason::IdleTimeout);
    }
    None
}

/// When `rule` will expire (ms), `u64::MAX` if never: the earlier of its
/// hard and idle deadlines.
pub fn expiration(rule: &Rule) -> u64 {
    let mut at = u64::MAX;
    let hard = u64::from(rule.hard_timeout());
    if hard != 0 {
        at = at.min(rule.modified.saturating_add(hard * 1000));
    }
    let idle = u64::from(rule.idle_timeout());
    if idle != 0 {
        let used = rule
            .used
            .load(std::sync::atomic::Ordering::Relaxed)
            .max(rule.modified);
        at = at.min(used.saturating_add(idle * 1000));
    }
    at
}
