//! One OpenFlow table's configuration and counters: name, flow limit and
//! overflow policy (the `Flow_Table` row), eviction groups, table-miss
//! configuration (`mod-table`), and the lookup/matched counters.

use std::sync::atomic::{AtomicU64, Ordering};

/// Number of OpenFlow tables of a switch.
pub const N_TABLES: usize = 255;

/// The last table, hidden from controllers and read-only (upstream's
/// `TBL_INTERNAL`).
pub const TABLE_INTERNAL: u8 = 254;

/// What an add does when the table is full (`Flow_Table:overflow_policy`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum OverflowPolicy {
    /// Refuse the add with `OFPFMFC_TABLE_FULL`.
    #[default]
    Refuse,
    /// Evict the least important / soonest to expire evictable rule.
    Evict,
}

/// The table-miss behaviour set by `mod-table` (OF1.1-1.2 config bits;
/// OF1.3+ has no table-miss config and misses drop unless a rule says
/// otherwise). xlate applies it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum TableMiss {
    /// Version default: OF1.0-1.2 controller, OF1.3+ drop.
    #[default]
    Default,
    /// Send to the controller.
    Controller,
    /// Continue with the next table.
    Continue,
    /// Drop.
    Drop,
}

/// Configuration and counters of one table.
#[derive(Debug)]
pub struct TableConfig {
    /// Table name (`Flow_Table:name`; empty = the default `table<N>`).
    pub name: String,
    /// Maximum number of rules (`flow_limit`), `u32::MAX` = unlimited.
    pub max_flows: u32,
    /// What happens on overflow.
    pub overflow_policy: OverflowPolicy,
    /// Fields whose values group rules for eviction (`Flow_Table:groups`).
    pub eviction_groups: Vec<flow::FieldId>,
    /// Eviction enabled by `mod-table ... evict` (OF1.4).
    pub eviction_by_mod: bool,
    /// Vacancy events enabled (OF1.4) and their thresholds (percent).
    pub vacancy: Option<(u8, u8)>,
    /// The table-miss config from `mod-table`.
    pub miss: TableMiss,
    /// Lookups in this table.
    pub n_lookup: AtomicU64,
    /// Lookups that found a rule.
    pub n_matched: AtomicU64,
}

impl Default for TableConfig {
    fn default() -> TableConfig {
        TableConfig {
            name: String::new(),
            max_flows: u32::MAX,
            overflow_policy: OverflowPolicy::Refuse,
            eviction_groups: Vec::new(),
            eviction_by_mod: false,
            vacancy: None,
            miss: TableMiss::Default,
            n_lookup: AtomicU64::new(0),
            n_matched: AtomicU64::new(0),
        }
    }
}

impl TableConfig {
    /// Whether rules may be evicted to make room.
    pub fn evicts(&self) -> bool {
        self.overflow_policy == OverflowPolicy::Evict || self.eviction_by_mod
    }

    /// Counts one lookup, matched or not.
    pub fn count_lookup(&self, matched: bool) {
        self.n_lookup.fetch_add(1, Ordering::Relaxed);
        if matched {
            self.n_matched.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// The name shown in table stats and features.
    pub fn display_name(&self, table_id: u8) -> String {
        if self.name.is_empty() {
            format!("table{table_id}")
        } else {
            self.name.clone()
        }
    }
}

/// The eviction group of a rule with match `m`: the values of the table's
/// eviction fields (one group for all rules when none are configured).
pub fn eviction_key(cfg: &TableConfig, m: &flow::Match) -> Vec<u8> {
    let mut key = Vec::new();
    for &f in &cfg.eviction_groups {
        let (v, mask) = m.get_field(f);
        key.extend_from_slice(format!("{v:?}/{mask:?};").as_bytes());
    }
    key
}
