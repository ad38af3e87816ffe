//! The group table: groups of type all/select/indirect/fast_failover with
//! their buckets, selection method and fields, and per-group and
//! per-bucket counters.

use flow::actions::OfpAction;
use flow::{FieldId, MfValue};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// `OFPGT11_ALL`.
pub const GT_ALL: u8 = 0;
/// `OFPGT11_SELECT`.
pub const GT_SELECT: u8 = 1;
/// `OFPGT11_INDIRECT`.
pub const GT_INDIRECT: u8 = 2;
/// `OFPGT11_FF` (fast failover).
pub const GT_FF: u8 = 3;

/// One bucket of a group.
#[derive(Debug)]
pub struct Bucket {
    /// Bucket id (OF1.5 / Nicira group extensions; assigned in order otherwise).
    pub bucket_id: u32,
    /// Weight for select groups.
    pub weight: u16,
    /// Port whose liveness decides fast-failover (`OFPP_ANY` = none).
    pub watch_port: u32,
    /// Group whose liveness decides fast-failover (`OFPG_ANY` = none).
    pub watch_group: u32,
    /// The bucket's actions.
    pub actions: Arc<[OfpAction]>,
    /// Packets through this bucket.
    pub n_packets: AtomicU64,
    /// Bytes through this bucket.
    pub n_bytes: AtomicU64,
}

impl Bucket {
    /// Adds `packets`/`bytes` to the bucket's counters.
    pub fn credit(&self, packets: u64, bytes: u64) {
        self.n_packets.fetch_add(packets, Ordering::Relaxed);
        self.n_bytes.fetch_add(bytes, Ordering::Relaxed);
    }
}

/// One group.
#[derive(Debug)]
pub struct Group {
    /// Group id.
    pub group_id: u32,
    /// `GT_*`.
    pub type_: u8,
    /// Buckets in order.
    pub buckets: Vec<Arc<Bucket>>,
    /// Selection method (`""`, `"hash"` or `"dp_hash"`).
    pub selection_method: String,
    /// Selection method parameter.
    pub selection_method_param: u64,
    /// Hash fields of the `hash` selection method.
    pub fields: Vec<(FieldId, MfValue)>,
    /// Packets through the group.
    pub n_packets: AtomicU64,
    /// Bytes through the group.
    pub n_bytes: AtomicU64,
    /// Creation time (ms, switch clock).
    pub created: u64,
    /// After an insert-buckets or remove-buckets command: the buckets the
    /// command carried, which alone decide (as upstream's, which sets the
    /// new group up before the old buckets join it) whether `dp_hash`
    /// selection applies and which buckets its hash table holds.
    pub method_buckets: Option<Vec<Arc<Bucket>>>,
}

impl Group {
    /// Adds `packets`/`bytes` to the group's counters.
    pub fn credit(&self, packets: u64, bytes: u64) {
        self.n_packets.fetch_add(packets, Ordering::Relaxed);
        self.n_bytes.fetch_add(bytes, Ordering::Relaxed);
    }
}
