//! Flow rules: what one entry of an OpenFlow table holds (match, priority,
//! cookie, flattened actions, flags, timeouts, importance) and its counters.
//! Counters are atomics so that translation and the datapath's statistics
//! can bump them through a shared `Arc<Rule>` without locking the switch.

use flow::actions::OfpAction;
use flow::Match;
use std::sync::atomic::{AtomicU16, AtomicU64, Ordering};
use std::sync::Arc;

/// `OFPFF_SEND_FLOW_REM`: send a flow-removed message when the rule goes.
pub const FF_SEND_FLOW_REM: u16 = 1 << 0;
/// `OFPFF_CHECK_OVERLAP`: refuse an add that overlaps a rule of the same priority.
pub const FF_CHECK_OVERLAP: u16 = 1 << 1;
/// `OFPFF_RESET_COUNTS` (OF1.2+ numbering as kept by the `openflow` crate).
pub const FF_RESET_COUNTS: u16 = 1 << 2;
/// `OFPFF_NO_PKT_COUNTS`.
pub const FF_NO_PKT_COUNTS: u16 = 1 << 3;
/// `OFPFF_NO_BYT_COUNTS`.
pub const FF_NO_BYT_COUNTS: u16 = 1 << 4;

/// One flow entry. Immutable except for counters, `used`, and the timeouts
/// that `fin_timeout` may lower; a modify replaces the `Arc<Rule>`.
#[derive(Debug)]
pub struct Rule {
    /// The match (normalized as upstream stores it).
    pub match_: Match,
    /// OpenFlow priority.
    pub priority: u16,
    /// The table this rule lives in.
    pub table_id: u8,
    /// The flow cookie.
    pub cookie: u64,
    /// Actions, with instructions flattened the way ofpacts are upstream.
    pub actions: Arc<[OfpAction]>,
    /// `OFPFF_*` flags as the `openflow` crate's `flow_mod::ff` constants.
    pub flags: u16,
    /// Idle timeout in seconds (0 = none); `fin_timeout` may lower it.
    pub idle_timeout: AtomicU16,
    /// Hard timeout in seconds (0 = none); `fin_timeout` may lower it.
    pub hard_timeout: AtomicU16,
    /// OF1.4+ importance (eviction order).
    pub importance: u16,
    /// Packets that hit this rule.
    pub n_packets: AtomicU64,
    /// Bytes that hit this rule.
    pub n_bytes: AtomicU64,
    /// Last time (ms, switch clock) a packet hit this rule.
    pub used: AtomicU64,
    /// When the rule was added (ms, switch clock); kept across modifies.
    pub created: u64,
    /// When the rule was last added or modified (ms), or refreshed by
    /// relearning it; hard timeouts count from here.
    pub modified: AtomicU64,
}

impl Rule {
    /// Adds one packet of `bytes` bytes hit at time `now` (ms).
    pub fn credit(&self, packets: u64, bytes: u64, now: u64) {
        self.n_packets.fetch_add(packets, Ordering::Relaxed);
        self.n_bytes.fetch_add(bytes, Ordering::Relaxed);
        self.used.fetch_max(now, Ordering::Relaxed);
    }

    /// Current (packets, bytes).
    pub fn counters(&self) -> (u64, u64) {
        (
            self.n_packets.load(Ordering::Relaxed),
            self.n_bytes.load(Ordering::Relaxed),
        )
    }

    /// When the rule was last added, modified or relearned (ms).
    pub fn modified(&self) -> u64 {
        self.modified.load(Ordering::Relaxed)
    }

    /// Current idle timeout in seconds.
    pub fn idle_timeout(&self) -> u16 {
        self.idle_timeout.load(Ordering::Relaxed)
    }

    /// Current hard timeout in seconds.
    pub fn hard_timeout(&self) -> u16 {
        self.hard_timeout.load(Ordering::Relaxed)
    }

    /// Whether `flags` has `OFPFF_SEND_FLOW_REM`.
    pub fn sends_flow_removed(&self) -> bool {
        self.flags & FF_SEND_FLOW_REM != 0
    }

    /// `fin_timeout`: lowers the idle/hard timeouts (0 = leave as is), as
    /// upstream does for a FIN or RST seen by the rule.
    pub fn reduce_timeouts(&self, idle: u16, hard: u16) {
        fn lower(cur: &AtomicU16, to: u16) {
            if to != 0 {
                let _ = cur.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |c| {
                    if c == 0 || to < c {
                        Some(to)
                    } else {
                        None
                    }
                });
            }
        }
        lower(&self.idle_timeout, idle);
        lower(&self.hard_timeout, hard);
    }
}
