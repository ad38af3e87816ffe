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
    if hard != 0 && now >= rule.modified().saturating_add(hard * 1000) {
        return Some(RemovedReason::HardTimeout);
    }
    let idle = u64::from(rule.idle_timeout());
    let used = rule
        .used
        .load(std::sync::atomic::Ordering::Relaxed)
        .max(rule.modified());
    if idle != 0 && now >= used.saturating_add(idle * 1000) {
        return Some(RemovedReason::IdleTimeout);
    }
    None
}

/// Whether `rule` can ever expire: it has a timeout, or a `fin_timeout`
/// action may give it one.
pub fn may_expire(rule: &Rule) -> bool {
    fn has_fin_timeout(acts: &[flow::actions::OfpAction]) -> bool {
        use flow::actions::OfpAction;
        acts.iter().any(|a| match a {
            OfpAction::FinTimeout { .. } => true,
            OfpAction::Clone(inner) | OfpAction::WriteActions(inner) => has_fin_timeout(inner),
            _ => false,
        })
    }
    rule.idle_timeout() != 0 || rule.hard_timeout() != 0 || has_fin_timeout(&rule.actions)
}

/// When `rule` will expire (ms), `u64::MAX` if never: the earlier of its
/// hard and idle deadlines.
pub fn expiration(rule: &Rule) -> u64 {
    let mut at = u64::MAX;
    let hard = u64::from(rule.hard_timeout());
    if hard != 0 {
        at = at.min(rule.modified().saturating_add(hard * 1000));
    }
    let idle = u64::from(rule.idle_timeout());
    if idle != 0 {
        let used = rule
            .used
            .load(std::sync::atomic::Ordering::Relaxed)
            .max(rule.modified());
        at = at.min(used.saturating_add(idle * 1000));
    }
    at
}

#[cfg(test)]
mod tests {
    use crate::flow_mod::{FlowModCommand, FlowModReq};
    use crate::rule::FF_SEND_FLOW_REM;
    use crate::{AsyncMsg, Ofproto};
    use flow::Match;
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::Arc;

    fn add(o: &mut Ofproto, prio: u16, idle: u16, hard: u16, flags: u16) {
        let mut m = Match::catchall();
        m.set_dl_type(0x0800);
        o.handle_flow_mod(&FlowModReq {
            new_cookie: 7,
            idle_timeout: idle,
            hard_timeout: hard,
            flags,
            ..FlowModReq::new(FlowModCommand::Add, m, prio, vec![])
        })
        .unwrap();
    }

    #[test]
    fn idle_and_hard_timeouts_remove_rules_and_report_them() {
        let now = Arc::new(AtomicU64::new(1000));
        let n = now.clone();
        let mut o = Ofproto::with_clock("br0", 1, Arc::new(move || n.load(Ordering::Relaxed)));
        add(&mut o, 1, 5, 0, FF_SEND_FLOW_REM);
        add(&mut o, 2, 0, 10, FF_SEND_FLOW_REM);
        add(&mut o, 3, 0, 3, 0);
        o.take_async();
        o.run(3999);
        assert_eq!(o.rules(0).len(), 3);
        o.run(4000);
        assert_eq!(o.rules(0).len(), 2, "hard timeout of 3 s");
        assert!(o.take_async().is_empty(), "no send_flow_rem, no message");
        // A packet at 5.5 s keeps the idle rule alive until 10.5 s.
        o.rules(0)
            .iter()
            .find(|r| r.priority == 1)
            .unwrap()
            .credit(1, 60, 5500);
        o.run(10_499);
        assert!(o.take_async().is_empty());
        o.run(10_500);
        match &o.take_async()[..] {
            [AsyncMsg::FlowRemoved(fr)] => {
                assert_eq!(
                    (fr.priority, fr.reason, fr.packet_count, fr.byte_count),
                    (1, 0, 1, 60)
                )
            }
            m => panic!("{m:?}"),
        }
        o.run(11_000);
        match &o.take_async()[..] {
            [AsyncMsg::FlowRemoved(fr)] => {
                assert_eq!((fr.priority, fr.reason, fr.cookie), (2, 1, 7));
                assert_eq!(fr.duration_sec, 10);
            }
            m => panic!("{m:?}"),
        }
        assert!(o.rules(0).is_empty());
    }

    #[test]
    fn rules_expire_in_the_order_they_were_added() {
        let now = Arc::new(AtomicU64::new(0));
        let n = now.clone();
        let mut o = Ofproto::with_clock("br0", 1, Arc::new(move || n.load(Ordering::Relaxed)));
        // Classifier order would be priority 9 first.
        add(&mut o, 1, 0, 2, FF_SEND_FLOW_REM);
        add(&mut o, 9, 0, 2, FF_SEND_FLOW_REM);
        add(&mut o, 5, 0, 0, FF_SEND_FLOW_REM);
        o.take_async();
        o.run(2000);
        let prios: Vec<u16> = o
            .take_async()
            .iter()
            .filter_map(|m| match m {
                AsyncMsg::FlowRemoved(fr) => Some(fr.priority),
                _ => None,
            })
            .collect();
        assert_eq!(prios, vec![1, 9]);
        assert_eq!(o.rules(0).len(), 1, "the permanent rule stays");
    }

    #[test]
    fn a_rule_given_a_timeout_by_fin_timeout_expires() {
        let now = Arc::new(AtomicU64::new(0));
        let n = now.clone();
        let mut o = Ofproto::with_clock("br0", 1, Arc::new(move || n.load(Ordering::Relaxed)));
        let mut m = Match::catchall();
        m.set_dl_type(0x0800);
        o.handle_flow_mod(&FlowModReq::new(
            FlowModCommand::Add,
            m,
            3,
            vec![flow::actions::OfpAction::FinTimeout { idle: 0, hard: 4 }],
        ))
        .unwrap();
        o.run(100_000);
        let r = o.rules(0).pop().unwrap();
        r.reduce_timeouts(0, 4);
        o.run(3_999);
        assert_eq!(o.rules(0).len(), 1);
        o.run(4_000);
        assert!(o.rules(0).is_empty());
    }

    #[test]
    fn fin_timeout_only_lowers() {
        let mut o = Ofproto::new("br0", 1);
        add(&mut o, 1, 50, 0, 0);
        let r = o.rules(0).pop().unwrap();
        r.reduce_timeouts(60, 20);
        assert_eq!((r.idle_timeout(), r.hard_timeout()), (50, 20));
        r.reduce_timeouts(10, 0);
        assert_eq!((r.idle_timeout(), r.hard_timeout()), (10, 20));
    }
}

#[cfg(test)]
mod removal_reason_tests {
    use crate::flow_mod::{FlowModCommand, FlowModReq, TABLE_ALL};
    use crate::rule::FF_SEND_FLOW_REM;
    use crate::{AsyncMsg, Ofproto};
    use flow::actions::OfpAction;
    use flow::Match;
    use openflow::msgs::group_mod::GroupMod;
    use openflow::msgs::meter::{MeterBand, MeterConfig, MeterMod};

    fn fm(cmd: FlowModCommand, prio: u16, actions: Vec<OfpAction>) -> FlowModReq {
        FlowModReq {
            table_id: if cmd == FlowModCommand::Add {
                0
            } else {
                TABLE_ALL
            },
            flags: FF_SEND_FLOW_REM,
            ..FlowModReq::new(cmd, Match::catchall(), prio, actions)
        }
    }

    fn reasons(o: &mut Ofproto) -> Vec<u8> {
        o.take_async()
            .into_iter()
            .filter_map(|m| match m {
                AsyncMsg::FlowRemoved(fr) => Some(fr.reason),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn every_removal_reason_is_reported() {
        let mut o = Ofproto::new("br0", 1);
        o.handle_group_mod(&GroupMod {
            command: 0,
            type_: 0,
            group_id: 7,
            command_bucket_id: u32::MAX,
            buckets: vec![],
            props: Default::default(),
        })
        .unwrap();
        o.handle_meter_mod(&MeterMod {
            command: 0,
            meter: MeterConfig {
                meter_id: 3,
                flags: 1,
                bands: vec![MeterBand {
                    type_: 1,
                    rate: 10,
                    burst_size: 0,
                    prec_level: 0,
                }],
            },
        })
        .unwrap();
        o.handle_flow_mod(&fm(FlowModCommand::Add, 1, vec![OfpAction::Group(7)]))
            .unwrap();
        o.handle_flow_mod(&fm(FlowModCommand::Add, 2, vec![OfpAction::Meter(3)]))
            .unwrap();
        o.handle_flow_mod(&fm(FlowModCommand::Add, 3, vec![]))
            .unwrap();
        o.take_async();
        o.handle_group_mod(&GroupMod {
            command: 2,
            type_: 0,
            group_id: 7,
            command_bucket_id: u32::MAX,
            buckets: vec![],
            props: Default::default(),
        })
        .unwrap();
        assert_eq!(reasons(&mut o), vec![3], "group delete");
        o.handle_meter_mod(&MeterMod {
            command: 2,
            meter: MeterConfig {
                meter_id: 3,
                flags: 0,
                bands: vec![],
            },
        })
        .unwrap();
        assert_eq!(reasons(&mut o), vec![4], "meter delete");
        // Modifying is not removing.
        o.handle_flow_mod(&fm(FlowModCommand::Modify, 0, vec![OfpAction::Exit]))
            .unwrap();
        assert!(reasons(&mut o).is_empty());
        o.handle_flow_mod(&fm(FlowModCommand::Delete, 0, vec![]))
            .unwrap();
        assert_eq!(reasons(&mut o), vec![2], "delete");
        assert!(o.rules(0).is_empty());
    }
}
