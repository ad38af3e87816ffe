//! Fail-open (upstream's fail_open): a bridge in `fail_mode=standalone`
//! whose primary controllers have all been out of reach (not connected,
//! or connected but not admitted) for three inactivity-probe intervals
//! starts forwarding as a MAC-learning switch: the switch's hidden table-0
//! `priority=0xf0f0f0 actions=NORMAL` rule takes precedence over every
//! OpenFlow flow ([`ofproto::Ofproto::set_fail_open`]). It leaves that
//! mode as soon as a controller is admitted again, with its flow tables
//! emptied (the reference's observed behaviour). `secure` bridges never
//! fail open. Times are the daemon clock's (ms), so `time/warp` moves
//! them as upstream's.

use super::{lock_status, BridgeShared, ControllerStatus};
use std::sync::{Arc, Mutex};

/// How often "still in fail-open mode" is logged.
const STILL_OPEN_LOG_INTERVAL: u64 = 60_000;

/// The fail-open state of one bridge.
#[derive(Default)]
pub struct FailOpen {
    /// Standalone with primary controllers (otherwise never open).
    pub enabled: bool,
    /// How long (ms) controllers may be unreachable: 3 × the longest
    /// probe interval.
    pub trigger: u64,
    /// The primary controllers.
    pub controllers: Vec<Arc<Mutex<ControllerStatus>>>,
    active: bool,
    next_still_log: Option<u64>,
}

impl FailOpen {
    /// True while failing open.
    pub fn is_active(&self) -> bool {
        self.active
    }

    /// How long (ms) no controller has been admitted (zero if one is).
    fn failure_duration(&self, now: u64) -> u64 {
        self.controllers
            .iter()
            .map(|c| {
                let s = lock_status(c);
                if s.admitted {
                    0
                } else {
                    now.saturating_sub(s.last_admitted)
                }
            })
            .min()
            .unwrap_or(0)
    }

    /// One periodic check (upstream's fail_open_run and
    /// fail_open_maybe_recover).
    pub fn run(&mut self, shared: &BridgeShared, now: u64) {
        if !self.enabled || self.controllers.is_empty() {
            if self.active {
                self.set(shared, false);
            }
            return;
        }
        let any_admitted = self.controllers.iter().any(|c| lock_status(c).admitted);
        if self.active {
            if any_admitted {
                // The controller in charge again starts from an empty
                // flow table, as upstream's does.
                vlog::warn!("fail_open", "No longer in fail-open mode");
                self.set(shared, false);
                shared.flush_flows(false);
            } else if self.next_still_log.is_some_and(|t| now >= t) {
                vlog::info!(
                    "fail_open",
                    "Still in fail-open mode after {} seconds disconnected from controller",
                    self.failure_duration(now) / 1000
                );
                self.next_still_log = Some(now + STILL_OPEN_LOG_INTERVAL);
            }
            return;
        }
        let failed = self.failure_duration(now);
        if !any_admitted && failed >= self.trigger {
            vlog::warn!(
                "fail_open",
                "Could not connect to controller (or switch failed controller's post-connection admission control policy) for {} seconds, failing open",
                failed / 1000
            );
            self.next_still_log = Some(now + STILL_OPEN_LOG_INTERVAL);
            self.set(shared, true);
        }
    }

    fn set(&mut self, shared: &BridgeShared, on: bool) {
        self.active = on;
        shared.with_ofproto(|o| o.set_fail_open(on));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ofproto::Ofproto;

    fn status_since(ago: u64, now: u64) -> Arc<Mutex<ControllerStatus>> {
        let s = ControllerStatus {
            last_admitted: now - ago,
            ..ControllerStatus::default()
        };
        Arc::new(Mutex::new(s))
    }

    #[test]
    fn opens_after_the_trigger_and_recovers_on_admission() {
        let shared = BridgeShared::new("br0", Ofproto::new("br0", 1));
        let now = 100_000;
        let c = status_since(10_000, now);
        let mut fo = FailOpen {
            enabled: true,
            trigger: 15_000,
            controllers: vec![c.clone()],
            ..FailOpen::default()
        };
        fo.run(&shared, now);
        assert!(!fo.is_active());
        fo.run(&shared, now + 5_000);
        assert!(fo.is_active());
        assert!(shared.with_ofproto_quiet(|o| o.fail_open()));
        lock_status(&c).admitted = true;
        fo.run(&shared, now + 6_000);
        assert!(!fo.is_active());
        assert!(!shared.with_ofproto_quiet(|o| o.fail_open()));
    }

    #[test]
    fn never_opens_when_disabled() {
        let shared = BridgeShared::new("br0", Ofproto::new("br0", 1));
        let now = 100_000;
        let mut fo = FailOpen {
            enabled: false,
            trigger: 15_000,
            controllers: vec![status_since(99_000, now)],
            ..FailOpen::default()
        };
        fo.run(&shared, now);
        assert!(!fo.is_active());
    }
}
