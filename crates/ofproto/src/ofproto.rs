//! The switch itself: [`Ofproto`] holds the 255 tables, groups, meters,
//! ports, TLV map and configuration, and offers the read interface
//! translation uses.

use crate::bundle_txn::{RemovalKind, Txn};
use crate::expiry::RemovedReason;
use crate::flow_mod::FlowModReq;
use crate::group::Group;
use crate::handler::monitor_state::{FlowUpdate, FlowUpdateEvent};
use crate::handler::Role;
use crate::handler::{AsyncMsg, ConnState};
use crate::meter::Meter;
use crate::port::{OfPort, PortCounters};
use crate::rule::Rule;
use crate::table::{TableConfig, N_TABLES};
use crate::tlv::TlvMapping;
use classifier::{Classifier, Version};
use openflow::OfpErr;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

/// Identifies a rule's match (values and mask) for grouping.
fn rule_key(r: &crate::bundle_txn::TableRule) -> String {
    let m = r.minimatch();
    format!("{:?}/{:?}", m.flow_words(), m.mask_words())
}

/// A clock in milliseconds.
pub type Clock = Arc<dyn Fn() -> u64 + Send + Sync>;

/// Where port counters come from (the datapath, through the vswitchd):
/// called with the OpenFlow port number.
pub type PortCountersSource = Arc<dyn Fn(u32) -> Option<PortCounters> + Send + Sync>;

/// One table: its classifier of rules and its configuration.
pub struct OfTable {
    pub cls: Classifier<Arc<Rule>>,
    pub config: TableConfig,
}

/// Switch-wide configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SwitchConfig {
    /// Datapath id.
    pub datapath_id: u64,
    /// `OFPC_FRAG_*` handling (set-frags).
    pub frag_handling: u16,
    /// `fail_mode` is secure.
    pub fail_secure: bool,
    /// Some connection wants table misses as packet-ins (upstream's
    /// `connmgr_wants_packet_in_on_miss`: a connection with controller id
    /// 0 whose protocol is below OpenFlow 1.3 or not settled yet).  The
    /// connection manager keeps it; translation of a miss in a table whose
    /// miss config is the default then sends to the controller.
    pub packet_in_on_miss: bool,
    /// In-band control is on (the connection manager keeps it): a DHCP
    /// reply translation did not send to the local port goes there too.
    pub in_band: bool,
    /// Manufacturer, hardware, software, serial, datapath descriptions.
    pub mfr_desc: String,
    pub hw_desc: String,
    pub sw_desc: String,
    pub serial_desc: String,
    pub dp_desc: String,
}

impl Default for SwitchConfig {
    fn default() -> SwitchConfig {
        SwitchConfig {
            datapath_id: 0,
            frag_handling: 0,
            fail_secure: false,
            packet_in_on_miss: false,
            in_band: false,
            mfr_desc: "Nicira, Inc.".to_string(),
            hw_desc: "Open vSwitch".to_string(),
            sw_desc: "3.1.0".to_string(),
            serial_desc: "None".to_string(),
            dp_desc: "None".to_string(),
        }
    }
}

/// One OpenFlow switch (bridge).
pub struct Ofproto {
    /// Bridge name.
    pub name: String,
    /// Switch configuration.
    pub config: SwitchConfig,
    /// Port mirrors (set by the vswitchd from the Mirror table).
    pub mirrors: crate::mirror::Mirrors,
    /// VLANs on which NORMAL neither learns nor looks up MACs, but floods
    /// (the Bridge's `flood_vlans`).
    pub flood_vlans: std::collections::BTreeSet<u16>,
    pub(crate) tables: Vec<OfTable>,
    pub(crate) groups: BTreeMap<u32, Arc<Group>>,
    pub(crate) meters: BTreeMap<u32, Arc<Meter>>,
    pub(crate) ports: BTreeMap<u32, OfPort>,
    pub(crate) tlv_map: Vec<TlvMapping>,
    /// Where the mapped options live in flows and rules (`tlv_map`'s layout).
    pub(crate) tun_layout: packet::TunLayout,
    pub(crate) async_msgs: Vec<AsyncMsg>,
    /// Current classifier version (visible to lookups).
    pub(crate) version: Version,
    /// Master election generation id (`None` until a role request sets it).
    pub(crate) generation_id: Option<u64>,
    /// Whether some connection has flow monitors (flow updates are queued).
    pub monitoring: bool,
    /// The connection (by [`ConnState::id`]) that is primary, if any.
    pub(crate) master: Option<u64>,
    /// When each port was added (ms).
    pub(crate) port_created_at: BTreeMap<u32, u64>,
    /// Iteration order of upstream's port map.
    pub(crate) port_order: crate::hmap_order::Hmap,
    /// Iteration order of upstream's group map.
    pub(crate) group_order: crate::hmap_order::Cmap,
    /// Iteration order of upstream's meter map.
    pub(crate) meter_order: crate::hmap_order::Hmap,
    /// Link state of each port as the device reports it.
    pub(crate) port_link_up: BTreeMap<u32, bool>,
    port_counters_source: Option<PortCountersSource>,
    clock: Clock,
    /// Table-0 rules above every OpenFlow priority: in-band control's
    /// and, while failing open, `priority=0xf0f0f0 actions=NORMAL`.
    hidden: crate::hidden::HiddenRules,
    /// Failing open (the hidden fail-open rule is in place).
    failing_open: bool,
    /// Rules that may expire (a timeout, or a `fin_timeout` action that
    /// can give them one), in the order they were added: what
    /// [`Ofproto::run`] looks at, so that a table of permanent rules costs
    /// nothing to run.  Rules that left the classifier are dropped lazily.
    expirable: Vec<(u8, crate::bundle_txn::TableRule)>,
}

impl Ofproto {
    /// A switch named `name` with datapath id `datapath_id`, no rules,
    /// no ports.
    pub fn new(name: &str, datapath_id: u64) -> Ofproto {
        let start = Instant::now();
        let clock: Clock = Arc::new(move || start.elapsed().as_millis() as u64);
        Ofproto::with_clock(name, datapath_id, clock)
    }

    /// Like [`Ofproto::new`] with an explicit clock (ms).
    pub fn with_clock(name: &str, datapath_id: u64, clock: Clock) -> Ofproto {
        let tables = (0..N_TABLES)
            .map(|_| OfTable {
                cls: Classifier::new(),
                config: TableConfig::default(),
            })
            .collect();
        Ofproto {
            name: name.to_string(),
            config: SwitchConfig {
                datapath_id,
                ..SwitchConfig::default()
            },
            mirrors: crate::mirror::Mirrors::default(),
            flood_vlans: std::collections::BTreeSet::new(),
            tables,
            groups: BTreeMap::new(),
            meters: BTreeMap::new(),
            ports: BTreeMap::new(),
            tlv_map: Vec::new(),
            tun_layout: packet::TunLayout::default(),
            async_msgs: Vec::new(),
            version: classifier::VERSION_MIN,
            generation_id: None,
            monitoring: false,
            master: None,
            port_created_at: BTreeMap::new(),
            port_order: crate::hmap_order::Hmap::new(),
            group_order: crate::hmap_order::Cmap::new(),
            meter_order: crate::hmap_order::Hmap::new(),
            port_link_up: BTreeMap::new(),
            port_counters_source: None,
            clock,
            hidden: crate::hidden::HiddenRules::default(),
            failing_open: false,
            expirable: Vec::new(),
        }
    }

    /// The switch clock, in ms.
    pub fn now(&self) -> u64 {
        (self.clock)()
    }

    /// The highest-priority rule of `table_id` matching `flow`; bits of
    /// `wc` are set for every field the answer depended on. Counts the
    /// lookup in the table's counters.
    pub fn lookup(
        &self,
        table_id: u8,
        flow: &packet::Flow,
        wc: &mut packet::Flow,
    ) -> Option<Arc<Rule>> {
        let table = self.tables.get(usize::from(table_id))?;
        if table_id == 0 {
            if let Some(r) = self.hidden.lookup(self.version, flow, wc) {
                table.config.count_lookup(true);
                return Some(r);
            }
        }
        let found = table
            .cls
            .state()
            .lookup(self.version, flow, Some(wc))
            .map(|r| r.data().clone());
        table.config.count_lookup(found.is_some());
        found
    }

    /// The configuration of `table_id`.
    pub fn table_config(&self, table_id: u8) -> Option<&TableConfig> {
        self.tables.get(usize::from(table_id)).map(|t| &t.config)
    }

    /// The group `group_id`.
    pub fn group(&self, group_id: u32) -> Option<Arc<Group>> {
        self.groups.get(&group_id).cloned()
    }

    /// The meter `meter_id`.
    pub fn meter(&self, meter_id: u32) -> Option<Arc<Meter>> {
        self.meters.get(&meter_id).cloned()
    }

    /// The port numbered `ofp_port`.
    pub fn port(&self, ofp_port: u32) -> Option<&OfPort> {
        self.ports.get(&ofp_port)
    }

    /// Every port, by number.
    pub fn ports(&self) -> impl Iterator<Item = &OfPort> {
        self.ports.values()
    }

    /// The TLV map.
    pub fn tlv_map(&self) -> &[TlvMapping] {
        &self.tlv_map
    }

    /// Where the TLV map's options live in flows and rules.
    pub fn tun_layout(&self) -> &packet::TunLayout {
        &self.tun_layout
    }

    /// Lays `m`'s tunnel metadata out as this bridge's flows are, so that
    /// rules compare with flows (and with each other) byte for byte.
    pub fn lay_out_match(&self, m: &mut flow::Match) {
        if m.wc.tunnel.metadata.present != 0 || m.flow.tunnel.metadata.present != 0 {
            self.tun_layout.apply(&mut m.flow.tunnel.metadata);
            self.tun_layout.apply_mask(&mut m.wc.tunnel.metadata);
        }
    }

    /// Drains the asynchronous messages produced since the last call.
    pub fn take_async(&mut self) -> Vec<AsyncMsg> {
        std::mem::take(&mut self.async_msgs)
    }

    /// Handles one OpenFlow request from a connection in state `conn`;
    /// returns the replies to send, in order.
    pub fn handle_openflow(&mut self, conn: &mut ConnState, msg: &[u8]) -> Vec<Vec<u8>> {
        crate::handler::dispatch::handle(self, conn, msg)
    }
}

impl Ofproto {
    /// Starts a transaction staging into the next version.
    pub(crate) fn begin_txn(&self) -> Txn {
        Txn::new(self.version + 1)
    }

    /// Makes `txn` visible: advances the version, drops replaced and
    /// removed rules, and queues flow-removed and monitor messages.
    pub(crate) fn commit_txn(&mut self, txn: Txn) {
        let now = self.now();
        self.commit_txn_at(txn, now);
    }

    /// [`Ofproto::commit_txn`] with the time (ms) removals are reported at.
    pub(crate) fn commit_txn_at(&mut self, txn: Txn, now: u64) {
        self.version = txn.version;
        let added: std::collections::HashSet<usize> = txn
            .added
            .iter()
            .map(|(_, r)| Arc::as_ptr(r) as usize)
            .collect();
        // (table, match, priority) of rules replaced by a modified copy.
        let mut replaced = std::collections::HashSet::new();
        for (t, r, kind) in &txn.removed {
            self.tables[usize::from(*t)].cls.remove(r);
            match kind {
                RemovalKind::Removed(reason) => {
                    if !added.contains(&(Arc::as_ptr(r) as usize)) {
                        self.rule_removed(r.data(), *reason, now);
                    }
                }
                RemovalKind::Replaced if self.monitoring => {
                    replaced.insert((*t, rule_key(r), r.priority()));
                }
                RemovalKind::Replaced => {}
            }
        }
        for (t, r) in &txn.added {
            if crate::expiry::may_expire(r.data()) {
                self.expirable.push((*t, r.clone()));
            }
        }
        self.flush_learned(&txn);
        if self.monitoring {
            for (t, r) in &txn.added {
                if r.is_visible_in_version(self.version) {
                    let key = (*t, rule_key(r), r.priority());
                    let event = if replaced.contains(&key) {
                        FlowUpdateEvent::Modified
                    } else {
                        FlowUpdateEvent::Added
                    };
                    self.queue_flow_update(r.data(), event, 0);
                }
            }
        }
    }

    /// Undoes `txn`.
    pub(crate) fn rollback_txn(&mut self, txn: Txn) {
        let added: std::collections::HashSet<usize> = txn
            .added
            .iter()
            .map(|(_, r)| Arc::as_ptr(r) as usize)
            .collect();
        for (_, r, _) in txn.removed.iter().rev() {
            if !added.contains(&(Arc::as_ptr(r) as usize)) {
                r.restore_visibility();
            }
        }
        for (t, r) in &txn.added {
            self.tables[usize::from(*t)].cls.remove(r);
        }
        if let Some((g, o)) = txn.saved_groups {
            self.groups = g;
            self.group_order = o;
        }
        if let Some((m, o)) = txn.saved_meters {
            self.meters = m;
            self.meter_order = o;
        }
    }

    /// Queues what a rule's removal for `reason` tells controllers.
    fn rule_removed(&mut self, rule: &Rule, reason: RemovedReason, now: u64) {
        if rule.sends_flow_removed() {
            let (sec, nsec) = crate::stats::duration(rule.created, now);
            let (packets, bytes) = rule.counters();
            self.async_msgs
                .push(AsyncMsg::FlowRemoved(openflow::msgs::flow::FlowRemoved {
                    flow_match: rule.match_,
                    priority: rule.priority,
                    cookie: rule.cookie,
                    reason: reason as u8,
                    table_id: rule.table_id,
                    duration_sec: sec,
                    duration_nsec: nsec,
                    idle_timeout: rule.idle_timeout(),
                    hard_timeout: rule.hard_timeout(),
                    packet_count: packets,
                    byte_count: bytes,
                }));
        }
        self.queue_flow_update(rule, FlowUpdateEvent::Deleted, reason as u8);
    }

    fn queue_flow_update(&mut self, rule: &Rule, event: FlowUpdateEvent, reason: u8) {
        if !self.monitoring {
            return;
        }
        self.async_msgs.push(AsyncMsg::FlowUpdate(FlowUpdate {
            event,
            reason,
            table_id: rule.table_id,
            priority: rule.priority,
            idle_timeout: rule.idle_timeout(),
            hard_timeout: rule.hard_timeout(),
            cookie: rule.cookie,
            match_: rule.match_,
            actions: rule.actions.to_vec(),
        }));
    }

    /// Applies one flow-mod as its own transaction (also what `learn`
    /// side effects of translation use).
    pub fn handle_flow_mod(&mut self, fm: &FlowModReq) -> Result<(), OfpErr> {
        let mut txn = self.begin_txn();
        match self.flow_mod_in(&mut txn, fm) {
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

    /// Expires rules whose idle or hard timeout passed at `now` (ms,
    /// switch clock), queueing flow-removed messages.
    /// Rules expire in the order they were added (upstream's expirable
    /// list).
    pub fn run(&mut self, now: u64) {
        let mut expired = Vec::new();
        let version = self.version;
        self.expirable.retain(|(t, r)| {
            if !r.is_in_classifier() {
                return false;
            }
            if r.is_visible_in_version(version) {
                if let Some(reason) = crate::expiry::expired(r.data(), now) {
                    expired.push((*t, r.clone(), reason));
                }
            }
            true
        });
        if expired.is_empty() {
            return;
        }
        let mut txn = self.begin_txn();
        for (t, r, reason) in expired {
            self.stage_removal(&mut txn, t, r, RemovalKind::Removed(reason));
        }
        self.commit_txn_at(txn, now);
    }

    /// Every rule visible now in `table_id`, in classifier order.
    pub fn rules(&self, table_id: u8) -> Vec<Arc<Rule>> {
        match self.tables.get(usize::from(table_id)) {
            Some(t) => t
                .cls
                .state()
                .rules(None, self.version)
                .map(|r| r.data().clone())
                .collect(),
            None => Vec::new(),
        }
    }
}

impl Ofproto {
    /// Adds (or replaces) a port, queueing a port-status "add" (or
    /// "modify" when it replaces one with different attributes).
    pub fn add_port(&mut self, port: OfPort) {
        let pp = crate::handler::ports::phy_port(&port);
        let no = port.ofp_port;
        let reason = match self.ports.get(&no) {
            None => Some(0),
            Some(old) if *old != port => Some(2),
            Some(_) => None,
        };
        if reason == Some(0) {
            self.port_created_at.insert(no, self.now());
            self.port_order
                .insert(no, crate::hmap_order::hash_int(no & 0xffff, 0));
        }
        self.port_link_up.insert(no, port.state & 1 == 0);
        self.ports.insert(no, port);
        if let Some(reason) = reason {
            self.async_msgs
                .push(AsyncMsg::PortStatus { reason, port: pp });
        }
    }

    /// Removes a port, queueing a port-status "delete".
    pub fn remove_port(&mut self, ofp_port: u32) -> Option<OfPort> {
        let port = self.ports.remove(&ofp_port)?;
        self.port_created_at.remove(&ofp_port);
        self.port_link_up.remove(&ofp_port);
        self.port_order.remove(ofp_port);
        let pp = crate::handler::ports::phy_port(&port);
        self.async_msgs.push(AsyncMsg::PortStatus {
            reason: 1,
            port: pp,
        });
        Some(port)
    }

    /// Ports in the order upstream's port hash map iterates them.
    pub fn ports_in_hmap_order(&self) -> Vec<&OfPort> {
        self.port_order
            .keys()
            .into_iter()
            .filter_map(|p| self.ports.get(&p))
            .collect()
    }

    /// Sets where port counters come from.
    pub fn set_port_counters_source(&mut self, source: PortCountersSource) {
        self.port_counters_source = Some(source);
    }

    /// Counters of `ofp_port`, if the source knows them.
    pub fn port_counters(&self, ofp_port: u32) -> Option<PortCounters> {
        self.port_counters_source.as_ref().and_then(|s| s(ofp_port))
    }

    /// When `ofp_port` was added (ms, switch clock).
    pub fn port_created(&self, ofp_port: u32) -> Option<u64> {
        self.port_created_at.get(&ofp_port).copied()
    }

    /// The role a connection really has: a primary that another
    /// connection displaced is a secondary.
    pub fn effective_role(&self, conn: &ConnState) -> Role {
        match conn.role {
            Role::Master if self.master != Some(conn.id) => Role::Slave,
            r => r,
        }
    }

    /// Sets a connection's role; a new primary demotes the old one (which
    /// gets a role-status message).
    pub fn set_role(&mut self, conn: &mut ConnState, role: Role) {
        if role == Role::Master {
            if let Some(old) = self.master {
                if old != conn.id {
                    self.async_msgs.push(AsyncMsg::RoleStatus {
                        conn_id: old,
                        generation_id: self.generation_id.unwrap_or(u64::MAX),
                    });
                }
            }
            self.master = Some(conn.id);
        } else if self.master == Some(conn.id) {
            self.master = None;
        }
        conn.role = role;
    }

    /// Forgets a closed connection (its primary role, if it had it).
    pub fn conn_closed(&mut self, conn: &ConnState) {
        if self.master == Some(conn.id) {
            self.master = None;
        }
    }

    /// Records a primary-election generation id; false if it is stale
    /// (older than the current one, in wrap-around order).
    pub fn set_generation_id(&mut self, g: u64) -> bool {
        if let Some(cur) = self.generation_id {
            if (g.wrapping_sub(cur) as i64) < 0 {
                return false;
            }
        }
        self.generation_id = Some(g);
        true
    }
}

impl Ofproto {
    /// The configuration of `table_id`, for changing it (`Flow_Table`
    /// settings from the vswitchd, `mod-table`).
    pub fn table_config_mut(&mut self, table_id: u8) -> Option<&mut TableConfig> {
        self.tables
            .get_mut(usize::from(table_id))
            .map(|t| &mut t.config)
    }
}

impl Ofproto {
    /// Groups in the order upstream's group map iterates them.
    pub fn groups_in_order(&self) -> Vec<Arc<Group>> {
        self.group_order
            .keys()
            .into_iter()
            .filter_map(|id| self.groups.get(&id).cloned())
            .collect()
    }

    /// Meters in the order upstream's meter map iterates them.
    pub fn meters_in_order(&self) -> Vec<Arc<Meter>> {
        self.meter_order
            .keys()
            .into_iter()
            .filter_map(|id| self.meters.get(&id).cloned())
            .collect()
    }

    pub(crate) fn set_group(&mut self, g: Group) {
        let id = g.group_id;
        if !self.group_order.contains(id) {
            self.group_order
                .insert(id, crate::hmap_order::hash_int(id, 0));
        }
        self.groups.insert(id, Arc::new(g));
    }

    pub(crate) fn unset_group(&mut self, id: u32) -> bool {
        self.group_order.remove(id);
        self.groups.remove(&id).is_some()
    }

    pub(crate) fn set_meter(&mut self, m: Meter) {
        let id = m.meter_id;
        if !self.meters.contains_key(&id) {
            self.meter_order
                .insert(id, crate::hmap_order::hash_int(id, 0));
        }
        self.meters.insert(id, Arc::new(m));
    }

    pub(crate) fn unset_meter(&mut self, id: u32) -> bool {
        self.meter_order.remove(id);
        self.meters.remove(&id).is_some()
    }
}

impl Ofproto {
    /// Sets the fields a table keeps prefix tries for (`Flow_Table:prefixes`);
    /// false if nothing changed.
    pub fn set_table_prefixes(&mut self, table_id: u8, fields: &[flow::FieldId]) -> bool {
        match self.tables.get_mut(usize::from(table_id)) {
            Some(t) => t.cls.set_prefix_fields(fields),
            None => false,
        }
    }

    /// A lock-free reader of `table_id`'s classifier, for threads that
    /// look up without the switch (rules visible in [`Ofproto::version`]).
    pub fn table_reader(&self, table_id: u8) -> Option<classifier::ClsReader<Arc<Rule>>> {
        self.tables
            .get(usize::from(table_id))
            .map(|t| t.cls.reader())
    }

    /// The classifier version lookups use.
    pub fn version(&self) -> Version {
        self.version
    }

    /// Enters or leaves fail-open mode (the connection manager decides):
    /// while on, every table-0 lookup finds the hidden
    /// `priority=0xf0f0f0 actions=NORMAL` rule, which OpenFlow cannot see.
    /// A change advances the version, so cached translations are redone.
    pub fn set_fail_open(&mut self, on: bool) {
        if on == self.failing_open {
            return;
        }
        self.failing_open = on;
        let normal = [flow::actions::OfpAction::Output(flow::actions::Output {
            port: flow::actions::OfpPort::NORMAL,
            max_len: 0,
        })];
        if on {
            self.add_hidden_rule(&flow::Match::catchall(), FAIL_OPEN_PRIORITY, &normal);
        } else {
            self.delete_hidden_rule(&flow::Match::catchall(), FAIL_OPEN_PRIORITY);
        }
    }

    /// True while failing open.
    pub fn fail_open(&self) -> bool {
        self.failing_open
    }

    /// Adds the hidden table-0 rule (`m`, `priority` > 65535) with
    /// `actions`, or gives the one there these actions (upstream's
    /// `ofproto_add_flow`); advances the version when something changed.
    pub fn add_hidden_rule(
        &mut self,
        m: &flow::Match,
        priority: u32,
        actions: &[flow::actions::OfpAction],
    ) {
        let now = self.now();
        if self.hidden.add(m, priority, actions, now) {
            let txn = self.begin_txn();
            self.commit_txn(txn);
        }
    }

    /// Removes the hidden rule (`m`, `priority`), if there is one.
    pub fn delete_hidden_rule(&mut self, m: &flow::Match, priority: u32) {
        if self.hidden.delete(m, priority) {
            let txn = self.begin_txn();
            self.commit_txn(txn);
        }
    }

    /// The hidden rules with their priorities, as `bridge/dump-flows`
    /// lists them (before table 0's OpenFlow rules).
    pub fn hidden_rules(&self) -> Vec<(u32, Arc<Rule>)> {
        self.hidden.rules()
    }

    /// The priority a rule shows in traces: a hidden rule's own, an
    /// OpenFlow rule's OpenFlow priority.
    pub fn rule_priority(&self, rule: &Arc<Rule>) -> u32 {
        if rule.table_id == 0 && rule.priority == u16::MAX {
            if let Some(p) = self.hidden.priority_of(rule) {
                return p;
            }
        }
        u32::from(rule.priority)
    }
}

/// The priority of the hidden fail-open rule.
pub const FAIL_OPEN_PRIORITY: u32 = 0xf0f0f0;

/// `NX_LEARN_F_DELETE_LEARNED`.
const LEARN_F_DELETE_LEARNED: u16 = 2;

/// The (table, cookie) of every `learn` action with `delete_learned`
/// among `acts` (not within nested actions).
fn delete_learned_targets(acts: &[flow::actions::OfpAction], out: &mut Vec<(u8, u64)>) {
    use flow::actions::OfpAction;
    for a in acts {
        match a {
            OfpAction::Learn(l) if l.flags & LEARN_F_DELETE_LEARNED != 0 => {
                out.push((l.table_id, l.cookie))
            }
            // Only a rule's own actions count, not those nested in
            // `clone` or `write_actions` (as upstream's).
            _ => {}
        }
    }
}

impl Ofproto {
    /// `delete_learned`: once no rule with a `learn(delete_learned,
    /// table=T, cookie=C)` action is left, the flows it learned (table T,
    /// cookie C) go too.
    fn flush_learned(&mut self, txn: &Txn) {
        let mut gone = Vec::new();
        for (_, r, _) in &txn.removed {
            delete_learned_targets(&r.data().actions, &mut gone);
        }
        if gone.is_empty() {
            return;
        }
        gone.sort_unstable();
        gone.dedup();
        let mut still = Vec::new();
        for t in 0..crate::table::TABLE_INTERNAL {
            for r in self.tables[usize::from(t)]
                .cls
                .state()
                .rules(None, self.version)
            {
                delete_learned_targets(&r.data().actions, &mut still);
            }
        }
        for (table_id, cookie) in gone {
            if still.contains(&(table_id, cookie)) {
                continue;
            }
            let fm = FlowModReq {
                table_id,
                cookie,
                cookie_mask: u64::MAX,
                new_cookie: u64::MAX,
                ..FlowModReq::new(
                    crate::flow_mod::FlowModCommand::Delete,
                    flow::Match::catchall(),
                    0,
                    Vec::new(),
                )
            };
            // Deleting cannot fail for a valid table.
            let _ = self.handle_flow_mod(&fm);
        }
    }
}
