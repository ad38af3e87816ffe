//! Per-queue counters: written by the one thread that owns the queue, once
//! per batch, and summed by the control threads without locking the writer.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};

use crate::provider::NetdevStats;

/// Counters of one queue. Single writer: updates are a relaxed load and
/// store, readers may see a batch late but never a torn value.
#[derive(Default)]
pub(crate) struct QueueCounters {
    pub rx_packets: AtomicU64,
    pub rx_bytes: AtomicU64,
    pub rx_dropped: AtomicU64,
    pub rx_errors: AtomicU64,
    pub tx_packets: AtomicU64,
    pub tx_bytes: AtomicU64,
    pub tx_dropped: AtomicU64,
    pub tx_errors: AtomicU64,
}

/// Adds `n` to a single-writer counter.
#[inline]
pub(crate) fn bump(c: &AtomicU64, n: u64) {
    if n != 0 {
        c.store(c.load(Relaxed).wrapping_add(n), Relaxed);
    }
}

impl QueueCounters {
    fn add_to(&self, s: &mut NetdevStats) {
        s.rx_packets += self.rx_packets.load(Relaxed);
        s.rx_bytes += self.rx_bytes.load(Relaxed);
        s.rx_dropped += self.rx_dropped.load(Relaxed);
        s.rx_errors += self.rx_errors.load(Relaxed);
        s.tx_packets += self.tx_packets.load(Relaxed);
        s.tx_bytes += self.tx_bytes.load(Relaxed);
        s.tx_dropped += self.tx_dropped.load(Relaxed);
        s.tx_errors += self.tx_errors.load(Relaxed);
    }
}

/// Every queue's counters of one device, including queues already closed.
#[derive(Default)]
pub(crate) struct DeviceCounters {
    queues: Mutex<Vec<Arc<QueueCounters>>>,
}

impl DeviceCounters {
    /// Counters for a new queue (control path only).
    pub fn register(&self) -> Arc<QueueCounters> {
        let c = Arc::new(QueueCounters::default());
        if let Ok(mut q) = self.queues.lock() {
            q.push(c.clone());
        }
        c
    }

    pub fn sum(&self) -> NetdevStats {
        let mut s = NetdevStats::default();
        if let Ok(q) = self.queues.lock() {
            for c in q.iter() {
                c.add_to(&mut s);
            }
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_queues() {
        let d = DeviceCounters::default();
        let a = d.register();
        let b = d.register();
        bump(&a.rx_packets, 3);
        bump(&b.rx_packets, 4);
        bump(&b.tx_bytes, 100);
        let s = d.sum();
        assert_eq!(s.rx_packets, 7);
        assert_eq!(s.tx_bytes, 100);
        drop(a);
        assert_eq!(d.sum().rx_packets, 7, "closed queues still count");
    }
}
