//! Flow-mod semantics: add (with overlap check, replacement and
//! eviction), modify and modify_strict, delete and delete_strict, with
//! cookie, out_port and out_group filters, as every OpenFlow version
//! defines them. Every change is staged in a [`Txn`] (see
//! [`crate::bundle_txn`]) and becomes visible when it commits.

use crate::bundle_txn::{RemovalKind, TableRule, Txn};
use crate::expiry::RemovedReason;
use crate::rule::{Rule, FF_CHECK_OVERLAP, FF_RESET_COUNTS};
use crate::table::{N_TABLES, TABLE_INTERNAL};
use crate::Ofproto;
use classifier::{ClsRule, Conjunction, MiniMatch};
use flow::actions::OfpAction;
use flow::Match;
use openflow::OfpErr;
use std::sync::atomic::{AtomicU16, AtomicU64, Ordering};
use std::sync::Arc;

/// `OFPP_ANY` / `OFPP_NONE` in 16-bit numbering.
pub const OFPP_ANY: u16 = 0xffff;
/// `OFPG_ANY`.
pub const OFPG_ANY: u32 = 0xffff_ffff;
/// `OFPTT_ALL`.
pub const TABLE_ALL: u8 = 0xff;

/// The five flow-mod commands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlowModCommand {
    Add,
    Modify,
    ModifyStrict,
    Delete,
    DeleteStrict,
}

impl FlowModCommand {
    /// From the wire command; `OFPFMFC_BAD_COMMAND` otherwise.
    pub fn from_wire(c: u8) -> Result<FlowModCommand, OfpErr> {
        Ok(match c {
            0 => FlowModCommand::Add,
            1 => FlowModCommand::Modify,
            2 => FlowModCommand::ModifyStrict,
            3 => FlowModCommand::Delete,
            4 => FlowModCommand::DeleteStrict,
            _ => return Err(OfpErr::OFPFMFC_BAD_COMMAND),
        })
    }
}

/// A decoded flow-mod with upstream's cookie semantics resolved.
#[derive(Clone, Debug, PartialEq)]
pub struct FlowModReq {
    pub command: FlowModCommand,
    /// Table, or [`TABLE_ALL`].
    pub table_id: u8,
    pub match_: Match,
    pub priority: u16,
    /// Cookie and mask that existing rules must match (modify/delete).
    pub cookie: u64,
    pub cookie_mask: u64,
    /// Cookie for new or modified rules; `u64::MAX` = keep.
    pub new_cookie: u64,
    pub idle_timeout: u16,
    pub hard_timeout: u16,
    pub importance: u16,
    /// `flow_mod::ff` flags (RESET_COUNTS already implied for OF1.0/1.1 adds).
    pub flags: u16,
    /// Out port filter (16-bit numbering, [`OFPP_ANY`] = none).
    pub out_port: u16,
    /// Out group filter ([`OFPG_ANY`] = none).
    pub out_group: u32,
    pub buffer_id: u32,
    pub actions: Vec<OfpAction>,
}

impl FlowModReq {
    /// A flow-mod of `command` for table 0 with every option a command
    /// line may leave out at its default: no cookie (and no cookie match),
    /// no timeouts, importance or flags, no out port or group filter, no
    /// buffered packet. Set the other fields with struct update syntax.
    pub fn new(
        command: FlowModCommand,
        match_: Match,
        priority: u16,
        actions: Vec<OfpAction>,
    ) -> FlowModReq {
        FlowModReq {
            command,
            table_id: 0,
            match_,
            priority,
            cookie: 0,
            cookie_mask: 0,
            new_cookie: 0,
            idle_timeout: 0,
            hard_timeout: 0,
            importance: 0,
            flags: 0,
            out_port: OFPP_ANY,
            out_group: OFPG_ANY,
            buffer_id: u32::MAX,
            actions,
        }
    }

    /// Whether a modify that matches nothing adds the flow instead (OF1.0,
    /// Nicira without a cookie match, OF1.1 without a cookie mask).
    pub fn modify_may_add(&self) -> bool {
        self.new_cookie != u64::MAX && self.cookie_mask == 0
    }
}

/// Which rules a modify, delete or stats request selects.
#[derive(Clone, Debug)]
pub struct RuleCriteria {
    pub table_id: u8,
    pub match_: Match,
    /// `Some` for strict matching.
    pub priority: Option<u16>,
    pub cookie: u64,
    pub cookie_mask: u64,
    pub out_port: u16,
    pub out_group: u32,
}

/// Whether `acts` output to `port` (upstream's `ofpacts_output_to_port`).
pub fn outputs_to_port(acts: &[OfpAction], port: u16) -> bool {
    acts.iter().any(|a| match a {
        OfpAction::Output(o) => o.port.0 == port,
        OfpAction::Enqueue { port: p, .. } => p.0 == port,
        OfpAction::OutputTrunc { port: p, .. } => p.0 == port,
        OfpAction::Controller(_) => port == 0xfffd,
        OfpAction::WriteActions(inner) | OfpAction::Clone(inner) => outputs_to_port(inner, port),
        _ => false,
    })
}

/// Whether `acts` output to group `group` (upstream's `ofpacts_output_to_group`).
pub fn outputs_to_group(acts: &[OfpAction], group: u32) -> bool {
    acts.iter().any(|a| match a {
        OfpAction::Group(g) => *g == group,
        OfpAction::WriteActions(inner) | OfpAction::Clone(inner) => outputs_to_group(inner, group),
        _ => false,
    })
}

/// Groups referenced by `acts`.
pub fn referenced_groups(acts: &[OfpAction], out: &mut Vec<u32>) {
    for a in acts {
        match a {
            OfpAction::Group(g) => out.push(*g),
            OfpAction::WriteActions(inner) | OfpAction::Clone(inner) => {
                referenced_groups(inner, out)
            }
            _ => {}
        }
    }
}

/// Meter referenced by `acts`, if any.
pub fn referenced_meter(acts: &[OfpAction]) -> Option<u32> {
    acts.iter().find_map(|a| match a {
        OfpAction::Meter(m) => Some(*m),
        _ => None,
    })
}

fn conjunctions_of(acts: &[OfpAction]) -> Vec<Conjunction> {
    acts.iter()
        .filter_map(|a| match a {
            OfpAction::Conjunction {
                id,
                clause,
                n_clauses,
            } => Some(Conjunction {
                id: *id,
                clause: *clause,
                n_clauses: *n_clauses,
            }),
            _ => None,
        })
        .collect()
}

/// Gives a match that examines packet headers the default packet type
/// (Ethernet), so that the same flow decoded from any OpenFlow version is
/// the same rule (NXM/OXM decoding adds it, OpenFlow 1.0/1.1 matches and
/// `learn` may not).
pub fn normalize_match(m: &mut Match) {
    if m.wc.packet_type != 0 {
        return;
    }
    let examines_headers = flow::FieldId::ALL.iter().any(|&f| {
        f != flow::FieldId::PacketType
            && !openflow::nx_match::is_pipeline_field(f)
            && !m.is_field_wild(f)
    });
    if examines_headers {
        m.set_default_packet_type();
    }
}

impl RuleCriteria {
    fn accepts(&self, rule: &Rule) -> bool {
        (rule.cookie ^ self.cookie) & self.cookie_mask == 0
            && (self.out_port == OFPP_ANY || outputs_to_port(&rule.actions, self.out_port))
            && (self.out_group == OFPG_ANY || outputs_to_group(&rule.actions, self.out_group))
    }
}

impl Ofproto {
    /// The tables a request for `table_id` covers: one table, or every
    /// visible table for [`TABLE_ALL`]; `OFPBRC_BAD_TABLE_ID` otherwise.
    pub(crate) fn tables_for(&self, table_id: u8) -> Result<Vec<u8>, OfpErr> {
        if table_id == TABLE_ALL {
            Ok((0..TABLE_INTERNAL).collect())
        } else if usize::from(table_id) < N_TABLES {
            Ok(vec![table_id])
        } else {
            Err(OfpErr::OFPBRC_BAD_TABLE_ID)
        }
    }

    /// Rules selected by `c` in `version`, table by table.
    pub(crate) fn collect_rules(
        &self,
        c: &RuleCriteria,
        version: classifier::Version,
    ) -> Result<Vec<(u8, TableRule)>, OfpErr> {
        let mut out = Vec::new();
        let mut c = c.clone();
        normalize_match(&mut c.match_);
        self.lay_out_match(&mut c.match_);
        let c = &c;
        for t in self.tables_for(c.table_id)? {
            if t == TABLE_INTERNAL {
                // Hidden and read-only.
                continue;
            }
            let st = self.tables[usize::from(t)].cls.state();
            match c.priority {
                Some(p) => {
                    if let Some(r) = st.find_match_exactly(&c.match_, i32::from(p), version) {
                        if c.accepts(r.data()) {
                            out.push((t, r.clone()));
                        }
                    }
                }
                None => {
                    let target = MiniMatch::from_match(&c.match_);
                    for r in st.rules(Some(&target), version) {
                        if c.accepts(r.data()) {
                            out.push((t, r.clone()));
                        }
                    }
                }
            }
        }
        Ok(out)
    }

    /// Number of rules of `table_id` visible now.
    pub(crate) fn n_flows(&self, table_id: u8) -> usize {
        self.tables[usize::from(table_id)].cls.state().count()
    }

    /// Number of rules of `table_id` visible once `txn` commits: the
    /// classifier holds the staged additions and still holds the staged
    /// removals.
    pub(crate) fn n_flows_in_txn(&self, table_id: u8, txn: &Txn) -> usize {
        let removed = txn
            .removed
            .iter()
            .filter(|(t, r, _)| *t == table_id && r.is_in_classifier())
            .count();
        self.n_flows(table_id).saturating_sub(removed)
    }

    /// Checks that the groups and meter the actions use exist.
    pub(crate) fn check_action_refs(&self, acts: &[OfpAction]) -> Result<(), OfpErr> {
        if let Some(m) = referenced_meter(acts) {
            if !self.meters.contains_key(&m) {
                return Err(OfpErr::OFPMMFC_INVALID_METER);
            }
        }
        let mut groups = Vec::new();
        referenced_groups(acts, &mut groups);
        if groups.iter().any(|g| !self.groups.contains_key(g)) {
            return Err(OfpErr::OFPBAC_BAD_OUT_GROUP);
        }
        Ok(())
    }

    /// The checks upstream makes when a flow-mod is added to a bundle
    /// (before the commit): table ids and the read-only table.
    pub(crate) fn flow_mod_precheck(&self, fm: &FlowModReq) -> Result<(), OfpErr> {
        match fm.command {
            FlowModCommand::Add => match fm.table_id {
                TABLE_ALL => Ok(()),
                TABLE_INTERNAL => Err(OfpErr::OFPBRC_EPERM),
                t if usize::from(t) < N_TABLES => Ok(()),
                _ => Err(OfpErr::OFPBRC_BAD_TABLE_ID),
            },
            _ => self.tables_for(fm.table_id).map(|_| ()),
        }
    }

    /// Applies one flow-mod inside `txn`.
    pub(crate) fn flow_mod_in(&mut self, txn: &mut Txn, fm: &FlowModReq) -> Result<(), OfpErr> {
        let mut normalized;
        let fm = if fm.match_.wc.packet_type == 0 || fm.match_.wc.tunnel.metadata.present != 0 {
            normalized = fm.clone();
            normalize_match(&mut normalized.match_);
            self.lay_out_match(&mut normalized.match_);
            &normalized
        } else {
            fm
        };
        match fm.command {
            FlowModCommand::Add => self.add_flow(txn, fm, false),
            FlowModCommand::Modify | FlowModCommand::ModifyStrict => self.modify_flows(txn, fm),
            FlowModCommand::Delete | FlowModCommand::DeleteStrict => {
                let c = RuleCriteria {
                    table_id: fm.table_id,
                    match_: fm.match_,
                    priority: (fm.command == FlowModCommand::DeleteStrict).then_some(fm.priority),
                    cookie: fm.cookie,
                    cookie_mask: fm.cookie_mask,
                    out_port: fm.out_port,
                    out_group: fm.out_group,
                };
                let rules = self.collect_rules(&c, txn.version)?;
                for (t, r) in rules {
                    self.stage_removal(txn, t, r, RemovalKind::Removed(RemovedReason::Delete));
                }
                Ok(())
            }
        }
    }

    /// Makes `r` invisible from `txn`'s version on.
    pub(crate) fn stage_removal(
        &mut self,
        txn: &mut Txn,
        table: u8,
        r: TableRule,
        kind: RemovalKind,
    ) {
        r.make_invisible_in_version(txn.version);
        txn.removed.push((table, r, kind));
    }

    fn stage_insert(&mut self, txn: &mut Txn, table: u8, rule: Rule) {
        let conj = conjunctions_of(&rule.actions);
        let m = rule.match_;
        let prio = i32::from(rule.priority);
        let cr = ClsRule::from_match(&m, prio, &conj, Arc::new(rule));
        self.tables[usize::from(table)]
            .cls
            .insert(cr.clone(), txn.version);
        txn.added.push((table, cr));
    }

    fn add_flow(&mut self, txn: &mut Txn, fm: &FlowModReq, internal: bool) -> Result<(), OfpErr> {
        let table_id = match fm.table_id {
            TABLE_ALL => 0,
            t if usize::from(t) < N_TABLES => t,
            _ => return Err(OfpErr::OFPBRC_BAD_TABLE_ID),
        };
        if table_id == TABLE_INTERNAL && !internal {
            return Err(OfpErr::OFPBRC_EPERM);
        }
        self.check_action_refs(&fm.actions)?;
        let v = txn.version;
        let mm = MiniMatch::from_match(&fm.match_);
        let prio = i32::from(fm.priority);
        let old = {
            let st = self.tables[usize::from(table_id)].cls.state();
            let old = st.find_rule_exactly(&mm, prio, v).cloned();
            if fm.flags & FF_CHECK_OVERLAP != 0 {
                // A rule with the very same match is replaced, not an overlap.
                if let Some(o) = &old {
                    o.make_invisible_in_version(v);
                }
                let overlaps = st.rule_overlaps(&mm, prio, v);
                if let Some(o) = &old {
                    o.restore_visibility();
                }
                if overlaps {
                    return Err(OfpErr::OFPFMFC_OVERLAP);
                }
            }
            old
        };
        if old.is_none() {
            let cfg = &self.tables[usize::from(table_id)].config;
            let limit = cfg.max_flows;
            if self.n_flows_in_txn(table_id, txn) >= limit as usize {
                match self.choose_rule_to_evict(table_id, v) {
                    Some(victim) if cfg.evicts() => {
                        self.stage_removal(
                            txn,
                            table_id,
                            victim,
                            RemovalKind::Removed(RemovedReason::Eviction),
                        );
                    }
                    _ => return Err(OfpErr::OFPFMFC_TABLE_FULL),
                }
            }
        }
        let now = self.now();
        let mut rule = Rule {
            match_: fm.match_,
            priority: fm.priority,
            table_id,
            cookie: if fm.new_cookie == u64::MAX {
                old.as_ref().map_or(u64::MAX, |o| o.data().cookie)
            } else {
                fm.new_cookie
            },
            actions: fm.actions.clone().into(),
            flags: fm.flags,
            idle_timeout: AtomicU16::new(fm.idle_timeout),
            hard_timeout: AtomicU16::new(fm.hard_timeout),
            importance: fm.importance,
            n_packets: AtomicU64::new(0),
            n_bytes: AtomicU64::new(0),
            used: AtomicU64::new(now),
            created: now,
            modified: AtomicU64::new(now),
        };
        if let Some(old) = old {
            if fm.flags & FF_RESET_COUNTS == 0 {
                copy_counters(old.data(), &mut rule);
            }
            // The time of last use survives a replacement either way.
            rule.used = AtomicU64::new(old.data().used.load(Ordering::Relaxed));
            self.stage_removal(txn, table_id, old, RemovalKind::Replaced);
        }
        self.stage_insert(txn, table_id, rule);
        Ok(())
    }

    fn modify_flows(&mut self, txn: &mut Txn, fm: &FlowModReq) -> Result<(), OfpErr> {
        let c = RuleCriteria {
            table_id: fm.table_id,
            match_: fm.match_,
            priority: (fm.command == FlowModCommand::ModifyStrict).then_some(fm.priority),
            cookie: fm.cookie,
            cookie_mask: fm.cookie_mask,
            out_port: OFPP_ANY,
            out_group: OFPG_ANY,
        };
        if fm.table_id != TABLE_ALL && usize::from(fm.table_id) >= N_TABLES {
            return Err(OfpErr::OFPBRC_BAD_TABLE_ID);
        }
        let rules = self.collect_rules(&c, txn.version)?;
        if rules.is_empty() {
            if fm.modify_may_add() {
                let mut add = fm.clone();
                add.command = FlowModCommand::Add;
                return self.add_flow(txn, &add, false);
            }
            return Ok(());
        }
        self.check_action_refs(&fm.actions)?;
        let now = self.now();
        let actions: Arc<[OfpAction]> = fm.actions.clone().into();
        for (t, old) in rules {
            let o = old.data();
            let mut rule = Rule {
                match_: o.match_,
                priority: o.priority,
                table_id: t,
                cookie: if fm.new_cookie != u64::MAX {
                    fm.new_cookie
                } else {
                    o.cookie
                },
                actions: actions.clone(),
                flags: o.flags,
                idle_timeout: AtomicU16::new(o.idle_timeout()),
                hard_timeout: AtomicU16::new(o.hard_timeout()),
                importance: o.importance,
                n_packets: AtomicU64::new(0),
                n_bytes: AtomicU64::new(0),
                used: AtomicU64::new(o.used.load(Ordering::Relaxed)),
                created: o.created,
                modified: AtomicU64::new(now),
            };
            if fm.flags & FF_RESET_COUNTS == 0 {
                copy_counters(o, &mut rule);
            }
            self.stage_removal(txn, t, old.clone(), RemovalKind::Replaced);
            self.stage_insert(txn, t, rule);
        }
        Ok(())
    }

    /// The rule eviction would remove from `table_id` (rules with a
    /// timeout, least important first, then soonest to expire, from the
    /// largest eviction group).
    fn choose_rule_to_evict(
        &self,
        table_id: u8,
        version: classifier::Version,
    ) -> Option<TableRule> {
        let table = &self.tables[usize::from(table_id)];
        let mut groups: std::collections::BTreeMap<Vec<u8>, Vec<&TableRule>> = Default::default();
        for r in table.cls.state().rules(None, version) {
            let d = r.data();
            if d.idle_timeout() == 0 && d.hard_timeout() == 0 {
                continue;
            }
            let key = crate::table::eviction_key(&table.config, &d.match_);
            groups.entry(key).or_default().push(r);
        }
        let biggest = groups.into_values().max_by_key(|g| g.len())?;
        biggest
            .into_iter()
            .min_by_key(|r| {
                let d = r.data();
                (d.importance, crate::expiry::expiration(d))
            })
            .cloned()
    }
}

fn copy_counters(from: &Rule, to: &mut Rule) {
    let (p, b) = from.counters();
    to.n_packets = AtomicU64::new(p);
    to.n_bytes = AtomicU64::new(b);
    to.used = AtomicU64::new(from.used.load(Ordering::Relaxed));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Ofproto;

    fn fm(cmd: FlowModCommand, s: &str, prio: u16, acts: Vec<OfpAction>) -> FlowModReq {
        let mut m = Match::catchall();
        if s == "ip" {
            m.set_dl_type(0x0800);
        }
        FlowModReq::new(cmd, m, prio, acts)
    }

    #[test]
    fn add_replaces_identical_rule_again_and_again() {
        let mut o = Ofproto::new("br0", 1);
        for i in 0..4 {
            o.handle_flow_mod(&fm(FlowModCommand::Add, "ip", 5, vec![OfpAction::Group(i)]))
                .unwrap_err();
            o.handle_flow_mod(&fm(FlowModCommand::Add, "ip", 5, vec![OfpAction::Exit]))
                .unwrap();
            assert_eq!(o.rules(0).len(), 1, "round {i}");
        }
        o.handle_flow_mod(&fm(FlowModCommand::Add, "", 5, vec![]))
            .unwrap();
        assert_eq!(o.rules(0).len(), 2);
        o.handle_flow_mod(&fm(FlowModCommand::Delete, "ip", 0, vec![]))
            .unwrap();
        assert_eq!(o.rules(0).len(), 1);
    }
}

#[cfg(test)]
mod eviction_tests {
    use super::*;
    use crate::table::OverflowPolicy;
    use crate::Ofproto;

    fn add(o: &mut Ofproto, nw_src: u32, hard: u16, importance: u16) -> Result<(), OfpErr> {
        let mut m = Match::catchall();
        m.set_dl_type(0x0800);
        m.flow.nw_src = nw_src;
        m.wc.nw_src = u32::MAX;
        o.handle_flow_mod(&FlowModReq {
            hard_timeout: hard,
            importance,
            ..FlowModReq::new(FlowModCommand::Add, m, 1, vec![])
        })
    }

    #[test]
    fn a_full_table_refuses_or_evicts() {
        let mut o = Ofproto::new("br0", 1);
        o.table_config_mut(0).unwrap().max_flows = 2;
        add(&mut o, 1, 100, 0).unwrap();
        add(&mut o, 2, 50, 5).unwrap();
        assert_eq!(add(&mut o, 3, 10, 0), Err(OfpErr::OFPFMFC_TABLE_FULL));
        // Replacing an existing rule needs no room.
        add(&mut o, 2, 60, 5).unwrap();
        o.table_config_mut(0).unwrap().overflow_policy = OverflowPolicy::Evict;
        o.take_async();
        add(&mut o, 3, 10, 0).unwrap();
        let left: Vec<u32> = o.rules(0).iter().map(|r| r.match_.flow.nw_src).collect();
        assert_eq!(left.len(), 2);
        assert!(left.contains(&2), "the important rule stays: {left:?}");
        assert!(left.contains(&3));
        // Rules without timeouts cannot be evicted.
        let mut p = Ofproto::new("br1", 1);
        p.table_config_mut(0).unwrap().max_flows = 1;
        p.table_config_mut(0).unwrap().overflow_policy = OverflowPolicy::Evict;
        add(&mut p, 1, 0, 0).unwrap();
        assert_eq!(add(&mut p, 2, 0, 0), Err(OfpErr::OFPFMFC_TABLE_FULL));
    }

    #[test]
    fn learning_the_same_flow_refreshes_it() {
        let mut o = Ofproto::new("br0", 1);
        let mut m = Match::catchall();
        m.set_dl_type(0x0800);
        let fm = FlowModReq {
            table_id: 1,
            new_cookie: 3,
            idle_timeout: 10,
            ..FlowModReq::new(FlowModCommand::Add, m, 9, vec![])
        };
        let a = o.apply_learn(&fm).unwrap();
        let b = o.apply_learn(&fm).unwrap();
        assert!(Arc::ptr_eq(&a, &b), "not replaced");
        let mut other = fm.clone();
        other.actions = vec![OfpAction::Exit];
        let c = o.apply_learn(&other).unwrap();
        assert!(!Arc::ptr_eq(&a, &c));
        assert_eq!(o.rules(1).len(), 1);
    }

    #[test]
    fn internal_flows_are_hidden() {
        let mut o = Ofproto::new("br0", 1);
        let mut fm = FlowModReq {
            table_id: TABLE_INTERNAL,
            ..FlowModReq::new(FlowModCommand::Add, Match::catchall(), 0, vec![])
        };
        assert_eq!(o.handle_flow_mod(&fm), Err(OfpErr::OFPBRC_EPERM));
        o.add_internal_flow(&fm).unwrap();
        assert_eq!(o.rules(TABLE_INTERNAL).len(), 1);
        fm.command = FlowModCommand::Delete;
        fm.table_id = TABLE_ALL;
        o.handle_flow_mod(&fm).unwrap();
        assert_eq!(
            o.rules(TABLE_INTERNAL).len(),
            1,
            "controllers cannot delete it"
        );
    }

    #[test]
    fn the_switch_can_be_shared_between_threads() {
        fn send_sync<T: Send + Sync>() {}
        send_sync::<Ofproto>();
        send_sync::<crate::ConnState>();
    }

    #[test]
    fn a_failed_transaction_leaves_no_trace() {
        let mut o = Ofproto::new("br0", 1);
        add(&mut o, 1, 0, 0).unwrap();
        let mut txn = o.begin_txn();
        let mut del = FlowModReq {
            table_id: TABLE_ALL,
            new_cookie: u64::MAX,
            ..FlowModReq::new(FlowModCommand::Delete, Match::catchall(), 0, vec![])
        };
        o.flow_mod_in(&mut txn, &del).unwrap();
        del.command = FlowModCommand::Add;
        del.table_id = 3;
        o.flow_mod_in(&mut txn, &del).unwrap();
        assert_eq!(o.rules(0).len(), 1, "staged changes are invisible");
        assert!(o.rules(3).is_empty());
        o.rollback_txn(txn);
        assert_eq!(o.rules(0).len(), 1);
        assert!(o.rules(3).is_empty());
        let mut wc = packet::Flow::default();
        let mut f = packet::Flow::default();
        f.dl_type = 0x0800;
        f.nw_src = 1;
        assert!(o.lookup(0, &f, &mut wc).is_some());
    }
}

impl Ofproto {
    /// Applies a flow learned by translation (a `learn` side effect): an
    /// add of the learned match and actions, refreshing the rule when the
    /// very same one is already there (see [`Ofproto::apply_learn`]).
    pub fn apply_learned_flow(
        &mut self,
        lf: &crate::xlate::LearnedFlow,
    ) -> Result<Arc<Rule>, OfpErr> {
        self.apply_learn(&learned_flow_mod(lf))
    }

    /// Adds a rule the switch itself needs (upstream's internal flows),
    /// also into the hidden read-only table [`TABLE_INTERNAL`] that
    /// controllers can neither see nor change.
    pub fn add_internal_flow(&mut self, fm: &FlowModReq) -> Result<(), OfpErr> {
        let mut fm = fm.clone();
        normalize_match(&mut fm.match_);
        let mut txn = self.begin_txn();
        match self.add_flow(&mut txn, &fm, true) {
            Ok(()) => {
                self.commit_txn(txn);
                Ok(())
            }
            Err(e) => {
                self.rollback_txn(txn);
                Err(e)
            }
        }
    }

    /// Applies a flow-mod produced by a `learn` action (upstream's
    /// `ofproto_flow_mod_learn`): if the very rule (same table, match,
    /// priority, cookie, actions, flags and timeouts) is already there, it
    /// is only refreshed: its modification time restarts (so its hard
    /// timeout, and its idle timeout if no packet came since, count again
    /// from now, and `dump-flows` shows a `hard_age`); otherwise the
    /// flow-mod is applied. Returns the rule in place.
    pub fn apply_learn(&mut self, fm: &FlowModReq) -> Result<Arc<Rule>, OfpErr> {
        let mut fm = fm.clone();
        normalize_match(&mut fm.match_);
        if matches!(
            fm.command,
            FlowModCommand::Add | FlowModCommand::ModifyStrict
        ) {
            if let Some(r) = self.identical_learned_rule(&fm) {
                let now = self.now();
                r.modified.fetch_max(now, Ordering::Relaxed);
                return Ok(r);
            }
        }
        self.handle_flow_mod(&fm)?;
        self.rule_exactly(&fm).ok_or(OfpErr::OFPFMFC_UNKNOWN)
    }

    /// The table a learned flow-mod goes to.
    fn learn_table(fm: &FlowModReq) -> u8 {
        if fm.table_id == TABLE_ALL {
            0
        } else {
            fm.table_id
        }
    }

    /// The rule with exactly `fm`'s (normalized) match and priority in its
    /// table.
    fn rule_exactly(&self, fm: &FlowModReq) -> Option<Arc<Rule>> {
        self.tables
            .get(usize::from(Self::learn_table(fm)))?
            .cls
            .state()
            .find_match_exactly(&fm.match_, i32::from(fm.priority), self.version)
            .map(|r| r.data().clone())
    }

    /// The rule `fm` (a learned flow, match normalized) would only
    /// refresh: same match and priority, and the same actions, cookie,
    /// flags and timeouts.
    fn identical_learned_rule(&self, fm: &FlowModReq) -> Option<Arc<Rule>> {
        /// The flags a rule keeps as state.
        const STATE: u16 = crate::rule::FF_SEND_FLOW_REM
            | crate::rule::FF_NO_PKT_COUNTS
            | crate::rule::FF_NO_BYT_COUNTS;
        let r = self.rule_exactly(fm)?;
        let cookie = if fm.new_cookie == u64::MAX {
            r.cookie
        } else {
            fm.new_cookie
        };
        (*r.actions == *fm.actions
            && r.cookie == cookie
            && r.flags & STATE == fm.flags & STATE
            && r.importance == fm.importance
            && r.idle_timeout() == fm.idle_timeout
            && r.hard_timeout() == fm.hard_timeout)
            .then_some(r)
    }

    /// Whether the flow `lf` learns is already in its table as it would
    /// be learned (learning it again only refreshes it).
    pub fn learned_flow_in_place(&self, lf: &crate::xlate::LearnedFlow) -> bool {
        let mut fm = learned_flow_mod(lf);
        normalize_match(&mut fm.match_);
        self.identical_learned_rule(&fm).is_some()
    }

    /// How many rules of table `table_id` have cookie `cookie` (what a
    /// `learn` action's `limit` counts).
    pub fn rules_with_cookie(&self, table_id: u8, cookie: u64) -> usize {
        let Some(t) = self.tables.get(usize::from(table_id)) else {
            return 0;
        };
        t.cls
            .state()
            .rules(None, self.version)
            .filter(|r| r.data().cookie == cookie)
            .count()
    }
}

/// The flow-mod that adds (or refreshes) the flow `lf` learns: a strict
/// modify, so that relearning a flow with new actions keeps its creation
/// time and counters, and adds it when it is not there.
fn learned_flow_mod(lf: &crate::xlate::LearnedFlow) -> FlowModReq {
    /// `NX_LEARN_F_SEND_FLOW_REM`.
    const SEND_FLOW_REM: u16 = 1;
    FlowModReq {
        table_id: lf.table_id,
        new_cookie: lf.cookie,
        idle_timeout: lf.idle_timeout,
        hard_timeout: lf.hard_timeout,
        flags: if lf.flags & SEND_FLOW_REM != 0 {
            crate::rule::FF_SEND_FLOW_REM
        } else {
            0
        },
        ..FlowModReq::new(
            FlowModCommand::ModifyStrict,
            lf.match_,
            lf.priority,
            lf.actions.clone(),
        )
    }
}

#[cfg(test)]
mod learn_tests {
    use super::*;
    use crate::Ofproto;
    use flow::actions::Learn;

    #[test]
    fn deleting_the_learning_flow_deletes_what_it_learned() {
        let mut o = Ofproto::new("br0", 1);
        let learn = |flags| {
            OfpAction::Learn(Box::new(Learn {
                table_id: 5,
                cookie: 0x42,
                flags,
                ..Learn::default()
            }))
        };
        let mut fm = FlowModReq::new(FlowModCommand::Add, Match::catchall(), 1, vec![learn(2)]);
        o.handle_flow_mod(&fm).unwrap();
        // Two learned flows, one with another cookie.
        for (prio, cookie) in [(7, 0x42), (8, 0x43)] {
            let mut l = fm.clone();
            l.table_id = 5;
            l.priority = prio;
            l.new_cookie = cookie;
            l.actions = vec![];
            o.handle_flow_mod(&l).unwrap();
        }
        assert_eq!(o.rules(5).len(), 2);
        fm.command = FlowModCommand::DeleteStrict;
        o.handle_flow_mod(&fm).unwrap();
        let left: Vec<u64> = o.rules(5).iter().map(|r| r.cookie).collect();
        assert_eq!(left, vec![0x43]);
    }
}
