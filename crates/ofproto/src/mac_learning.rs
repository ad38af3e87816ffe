//! The MAC learning table of NORMAL switching: (MAC, VLAN) → port, with
//! aging (`mac-aging-time`, default 300 s), a size limit (`mac-table-size`,
//! default 8192, the least recently learned entry is evicted), counters,
//! and the `fdb/show` and `fdb/stats-show` texts.
//!
//! The table is shared by the translation threads of one bridge; it locks
//! internally.  Times are whole seconds of the caller's clock.

use std::collections::HashMap;
use std::sync::Mutex;

/// Default `mac-aging-time`.
pub const DEFAULT_IDLE_TIME: u32 = 300;
/// Default `mac-table-size`.
pub const DEFAULT_MAX_ENTRIES: usize = 8192;

#[derive(Clone, Debug)]
struct Entry {
    port: u32,
    expires: u64,
    /// Learning order (for LRU).
    seq: u64,
}

#[derive(Debug, Default)]
struct Inner {
    table: HashMap<([u8; 6], u16), Entry>,
    idle_time: u32,
    max_entries: usize,
    seq: u64,
    total_learned: u64,
    total_expired: u64,
    total_evicted: u64,
    total_moved: u64,
}

/// One bridge's MAC learning table.
#[derive(Debug)]
pub struct MacLearning {
    inner: Mutex<Inner>,
}

impl Default for MacLearning {
    fn default() -> Self {
        MacLearning::new(DEFAULT_IDLE_TIME, DEFAULT_MAX_ENTRIES)
    }
}

fn is_multicast(mac: &[u8; 6]) -> bool {
    mac[0] & 1 != 0
}

impl MacLearning {
    /// A table with the given aging time (seconds) and size limit.
    pub fn new(idle_time: u32, max_entries: usize) -> MacLearning {
        MacLearning {
            inner: Mutex::new(Inner {
                idle_time: normalize_idle_time(idle_time),
                max_entries: if max_entries == 0 {
                    DEFAULT_MAX_ENTRIES
                } else {
                    max_entries
                },
                ..Inner::default()
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        match self.inner.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }

    /// Changes the aging time (`other_config:mac-aging-time`).
    pub fn set_idle_time(&self, idle_time: u32) {
        self.lock().idle_time = normalize_idle_time(idle_time);
    }

    /// Changes the size limit (`other_config:mac-table-size`), evicting
    /// the oldest entries beyond it.
    /// Upstream keeps the limit between 10 and a million entries.
    pub fn set_max_entries(&self, max: usize) {
        let mut g = self.lock();
        g.max_entries = max.clamp(10, 1_000_000);
        while g.table.len() > g.max_entries {
            evict_lru(&mut g);
        }
    }

    /// Learns that `mac` in `vlan` is on `port`; true if the table changed
    /// (new entry or the MAC moved).
    pub fn learn(&self, mac: [u8; 6], vlan: u16, port: u32, now: u64) -> bool {
        if is_multicast(&mac) {
            return false;
        }
        let mut g = self.lock();
        expire(&mut g, now);
        let expires = now + u64::from(g.idle_time);
        // An entry already refreshed this second on the same port is left
        // alone (upstream updates at most once a second), keeping its
        // place in the least-recently-used order.
        if let Some(e) = g.table.get(&(mac, vlan)) {
            if e.port == port && e.expires >= expires {
                return false;
            }
        }
        g.seq += 1;
        let seq = g.seq;
        if let Some(e) = g.table.get_mut(&(mac, vlan)) {
            let moved = e.port != port;
            e.port = port;
            e.expires = expires;
            e.seq = seq;
            if moved {
                g.total_moved += 1;
            }
            return moved;
        }
        if g.table.len() >= g.max_entries {
            evict_lru(&mut g);
        }
        g.table.insert((mac, vlan), Entry { port, expires, seq });
        g.total_learned += 1;
        true
    }

    /// The port `mac` in `vlan` was learned on (multicast never is).
    pub fn lookup(&self, mac: &[u8; 6], vlan: u16, now: u64) -> Option<u32> {
        if is_multicast(mac) {
            return None;
        }
        let mut g = self.lock();
        expire(&mut g, now);
        g.table.get(&(*mac, vlan)).map(|e| e.port)
    }

    /// Forgets every entry.
    pub fn flush(&self) {
        self.lock().table.clear();
    }

    /// Forgets the entries on `port` (port deleted or reconfigured).
    pub fn flush_port(&self, port: u32) {
        self.lock().table.retain(|_, e| e.port != port);
    }

    /// Expires entries idle longer than the aging time.
    pub fn run(&self, now: u64) {
        expire(&mut self.lock(), now);
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.lock().table.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// `ovs-appctl fdb/show` text; `port_name` prints a port number as
    /// upstream does (`LOCAL` for the bridge port).
    pub fn fdb_show(&self, now: u64, port_name: &dyn Fn(u32) -> String) -> String {
        let mut g = self.lock();
        expire(&mut g, now);
        let mut entries: Vec<(&([u8; 6], u16), &Entry)> = g.table.iter().collect();
        entries.sort_by_key(|(_, e)| e.seq);
        let mut s = String::from(" port  VLAN  MAC                Age\n");
        for ((mac, vlan), e) in entries {
            let age = u64::from(g.idle_time).saturating_sub(e.expires.saturating_sub(now));
            s.push_str(&format!(
                "{:>5}  {:4}  {}  {:3}\n",
                port_name(e.port),
                vlan,
                flow::value_str::format_eth(mac),
                age
            ));
        }
        s
    }

    /// `ovs-appctl fdb/stats-show BRIDGE` text.
    pub fn stats_show(&self, bridge: &str, now: u64) -> String {
        let mut g = self.lock();
        expire(&mut g, now);
        format!(
            "Statistics for bridge \"{bridge}\":\n  Current/maximum MAC entries in the table: {}/{}\n  Current static MAC entries in the table : 0\n  Total number of learned MAC entries     : {}\n  Total number of expired MAC entries     : {}\n  Total number of evicted MAC entries     : {}\n  Total number of port moved MAC entries  : {}\n",
            g.table.len(),
            g.max_entries,
            g.total_learned,
            g.total_expired,
            g.total_evicted,
            g.total_moved
        )
    }

    /// `ovs-appctl fdb/stats-clear`.
    pub fn stats_clear(&self) {
        let mut g = self.lock();
        g.total_learned = 0;
        g.total_expired = 0;
        g.total_evicted = 0;
        g.total_moved = 0;
    }
}

/// Upstream keeps the aging time within 15..=3600 seconds.
fn normalize_idle_time(t: u32) -> u32 {
    t.clamp(15, 3600)
}

fn evict_lru(g: &mut Inner) {
    if let Some(k) = g.table.iter().min_by_key(|(_, e)| e.seq).map(|(k, _)| *k) {
        g.table.remove(&k);
        g.total_evicted += 1;
    }
}

fn expire(g: &mut Inner, now: u64) {
    let before = g.table.len();
    g.table.retain(|_, e| e.expires > now);
    g.total_expired += (before - g.table.len()) as u64;
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: [u8; 6] = [0x50, 0x54, 0, 0, 0, 1];
    const B: [u8; 6] = [0x50, 0x54, 0, 0, 0, 2];

    #[test]
    fn learns_moves_and_ages() {
        let ml = MacLearning::new(300, 100);
        assert!(ml.learn(A, 0, 1, 10));
        assert!(!ml.learn(A, 0, 1, 11));
        assert!(ml.learn(A, 0, 2, 12));
        assert_eq!(ml.lookup(&A, 0, 13), Some(2));
        assert_eq!(ml.lookup(&A, 5, 13), None);
        assert_eq!(ml.lookup(&A, 0, 312), None);
        assert!(ml
            .stats_show("br0", 312)
            .contains("expired MAC entries     : 1"));
    }

    #[test]
    fn evicts_oldest_when_full() {
        let ml = MacLearning::new(300, 10);
        for i in 0..11u8 {
            ml.learn([0, 0, 0, 0, 0, i + 1], 0, 1, 1);
        }
        assert_eq!(ml.len(), 10);
        assert_eq!(ml.lookup(&[0, 0, 0, 0, 0, 1], 0, 1), None);
    }

    #[test]
    fn fdb_show_format() {
        let ml = MacLearning::new(300, 100);
        ml.learn(B, 0, 1, 100);
        ml.learn(A, 10, 0xfffe, 101);
        let s = ml.fdb_show(102, &|p| {
            if p == 0xfffe {
                "LOCAL".into()
            } else {
                p.to_string()
            }
        });
        assert_eq!(
            s,
            " port  VLAN  MAC                Age\n    1     0  50:54:00:00:00:02    2\nLOCAL    10  50:54:00:00:00:01    1\n"
        );
    }

    #[test]
    fn multicast_is_never_learned() {
        let ml = MacLearning::default();
        assert!(!ml.learn([1, 0, 0x5e, 0, 0, 1], 0, 1, 0));
        assert!(ml.is_empty());
    }
}
