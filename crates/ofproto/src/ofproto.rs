//! The switch itself: [`Ofproto`] holds the 255 tables, groups, meters,
//! ports, TLV map and configuration, and offers the read interface
//! translation uses.

use crate::group::Group;
use crate::handler::{AsyncMsg, ConnState};
use crate::meter::Meter;
use crate::port::OfPort;
use crate::rule::Rule;
use crate::table::{TableConfig, N_TABLES};
use crate::tlv::TlvMapping;
use classifier::{Classifier, Version};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

/// A clock in milliseconds.
pub type Clock = Arc<dyn Fn() -> u64 + Send + Sync>;

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
    pub(crate) tables: Vec<OfTable>,
    pub(crate) groups: BTreeMap<u32, Arc<Group>>,
    pub(crate) meters: BTreeMap<u32, Arc<Meter>>,
    pub(crate) ports: BTreeMap<u32, OfPort>,
    pub(crate) tlv_map: Vec<TlvMapping>,
    pub(crate) async_msgs: Vec<AsyncMsg>,
    /// Current classifier version (visible to lookups).
    pub(crate) version: Version,
    /// Master election generation id (`None` until a role request sets it).
    pub(crate) generation_id: Option<u64>,
    clock: Clock,
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
            tables,
            groups: BTreeMap::new(),
            meters: BTreeMap::new(),
            ports: BTreeMap::new(),
            tlv_map: Vec::new(),
            async_msgs: Vec::new(),
            version: classifier::VERSION_MIN,
            generation_id: None,
            clock,
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
