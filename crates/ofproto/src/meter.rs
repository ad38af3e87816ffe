//! The meter table: meters (kbps or pktps, optional burst, stats) with
//! drop and dscp_remark bands, and their counters.

use openflow::msgs::meter::MeterBand;
use std::sync::atomic::{AtomicU64, Ordering};

/// One meter.
#[derive(Debug)]
pub struct Meter {
    /// Meter id.
    pub meter_id: u32,
    /// `OFPMF_*` flags.
    pub flags: u16,
    /// Bands in order.
    pub bands: Vec<MeterBand>,
    /// Packets seen by the meter.
    pub n_packets: AtomicU64,
    /// Bytes seen by the meter.
    pub n_bytes: AtomicU64,
    /// Per band (packets, bytes) that exceeded the band.
    pub band_counters: Vec<(AtomicU64, AtomicU64)>,
    /// Creation time (ms, switch clock).
    pub created: u64,
}

impl Meter {
    /// Adds `packets`/`bytes` to the meter's input counters.
    pub fn credit(&self, packets: u64, bytes: u64) {
        self.n_packets.fetch_add(packets, Ordering::Relaxed);
        self.n_bytes.fetch_add(bytes, Ordering::Relaxed);
    }
}
