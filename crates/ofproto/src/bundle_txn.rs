//! Transactions over the tables: every change (one flow-mod, or every
//! message of a bundle) is staged in the next classifier version and
//! becomes visible atomically at commit, or is rolled back without a trace.
//! Bundles (OpenFlow 1.4 / ONF 1.3 extension) collect messages under a
//! bundle id and run them as one transaction at commit.

use crate::expiry::RemovedReason;
use crate::group::Group;
use crate::meter::Meter;
use crate::rule::Rule;
use classifier::{ClsRule, Version};
use std::collections::BTreeMap;
use std::sync::Arc;

/// A rule as the classifier stores it.
pub type TableRule = Arc<ClsRule<Arc<Rule>>>;

/// One open bundle of a connection.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Bundle {
    /// Bundle id.
    pub id: u32,
    /// `OFPBF_*` flags from the open request.
    pub flags: u16,
    /// Whether the bundle was closed (no more adds).
    pub closed: bool,
    /// The messages added, in order (whole OpenFlow messages).
    pub msgs: Vec<Vec<u8>>,
}

/// What a staged removal will report when it commits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RemovalKind {
    /// The rule leaves for `reason` (flow-removed if it asked for one).
    Removed(RemovedReason),
    /// The rule is replaced by a modified or re-added copy (no flow-removed).
    Replaced,
}

/// Changes staged in version `version`, not yet visible to lookups.
pub struct Txn {
    /// The version the changes become visible in.
    pub version: Version,
    /// Rules inserted (table, rule), in order.
    pub added: Vec<(u8, TableRule)>,
    /// Rules made invisible (table, rule, why), in order.
    pub removed: Vec<(u8, TableRule, RemovalKind)>,
    /// Group table (and its order) before the transaction, restored on rollback.
    pub saved_groups: Option<(BTreeMap<u32, Arc<Group>>, crate::hmap_order::Cmap)>,
    /// Meter table (and its order) before the transaction, restored on rollback.
    pub saved_meters: Option<(BTreeMap<u32, Arc<Meter>>, crate::hmap_order::Hmap)>,
}

impl Txn {
    /// An empty transaction staging into `version`.
    pub fn new(version: Version) -> Txn {
        Txn {
            version,
            added: Vec::new(),
            removed: Vec::new(),
            saved_groups: None,
            saved_meters: None,
        }
    }

    /// Whether `rule` was inserted by this transaction.
    pub fn is_added(&self, rule: &TableRule) -> bool {
        self.added.iter().any(|(_, r)| Arc::ptr_eq(r, rule))
    }
}
