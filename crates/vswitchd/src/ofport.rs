//! OpenFlow port number assignment for one bridge, with upstream's rules:
//! a requested number (`ofport_request`, or the `ofport` an earlier run
//! wrote, so numbers survive restarts) is used when valid and free;
//! otherwise numbers are handed out round-robin from the lower half of the
//! range (the upper half is left to controllers), preferring numbers never
//! used, then the one released longest ago, so old flows do not suddenly
//! apply to a new port.

use std::collections::BTreeMap;

/// `OFPP_MAX`: the highest number a physical port may have, plus one.
pub const OFPP_MAX: u32 = 0xff00;
/// `OFPP_LOCAL`: the bridge's own port.
pub const OFPP_LOCAL: u32 = 0xfffe;
/// Automatic assignment stays below this.
const AUTO_LIMIT: u32 = 32768;

/// When a number was last used.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Usage {
    /// Released at this time (ms).
    ReleasedAt(i64),
    /// Held by a port now.
    InUse,
}

/// The numbers of one bridge.
#[derive(Clone, Debug)]
pub struct OfportAllocator {
    max_ports: u32,
    /// The last number handed out automatically.
    alloc_port_no: u32,
    usage: BTreeMap<u32, Usage>,
}

impl Default for OfportAllocator {
    fn default() -> Self {
        OfportAllocator::new(OFPP_MAX)
    }
}

/// True if `n` may be requested for an ordinary port (1..0xfeff).
pub fn is_valid_request(n: i64) -> bool {
    (1..OFPP_MAX as i64).contains(&n)
}

impl OfportAllocator {
    /// An allocator for a switch with `max_ports` ports.
    pub fn new(max_ports: u32) -> OfportAllocator {
        OfportAllocator {
            max_ports: max_ports.clamp(2, OFPP_MAX),
            alloc_port_no: 0,
            usage: BTreeMap::new(),
        }
    }

    /// True if `n` is held now.
    pub fn in_use(&self, n: u32) -> bool {
        self.usage.get(&n) == Some(&Usage::InUse)
    }

    /// Marks `n` held (for `OFPP_LOCAL` and numbers chosen elsewhere).
    pub fn reserve(&mut self, n: u32) {
        self.usage.insert(n, Usage::InUse);
    }

    /// Chooses a number for a new port: `request` if valid and free, else
    /// an automatic one. `None` when every number is held.
    pub fn allocate(&mut self, request: Option<i64>) -> Option<u32> {
        if let Some(r) = request {
            if is_valid_request(r) && (r as u32) < self.max_ports && !self.in_use(r as u32) {
                self.reserve(r as u32);
                return Some(r as u32);
            }
        }
        let n = self.search()?;
        self.reserve(n);
        Some(n)
    }

    fn search(&mut self) -> Option<u32> {
        let limit = self.max_ports.min(AUTO_LIMIT);
        let end = self.alloc_port_no;
        let mut lru: Option<(i64, u32)> = None;
        loop {
            self.alloc_port_no += 1;
            if self.alloc_port_no >= limit {
                self.alloc_port_no = 1;
            }
            let n = self.alloc_port_no;
            match self.usage.get(&n) {
                None => return Some(n),
                Some(Usage::ReleasedAt(t)) => {
                    if lru.is_none_or(|(best, _)| *t < best) {
                        lru = Some((*t, n));
                    }
                }
                Some(Usage::InUse) => {}
            }
            if n == end || (end == 0 && n == limit - 1) {
                return lru.map(|(_, n)| {
                    self.alloc_port_no = n;
                    n
                });
            }
        }
    }

    /// Releases `n` at time `now_ms`.
    pub fn release(&mut self, n: u32, now_ms: i64) {
        if self.in_use(n) {
            self.usage.insert(n, Usage::ReleasedAt(now_ms));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_robin_never_reuses_immediately() {
        // Mirrors the reference: p1→1, p2 requests 5, p3→2, p3 re-added→3.
        let mut a = OfportAllocator::default();
        a.reserve(OFPP_LOCAL);
        assert_eq!(a.allocate(None), Some(1));
        assert_eq!(a.allocate(Some(5)), Some(5));
        assert_eq!(a.allocate(None), Some(2));
        a.release(2, 10);
        assert_eq!(a.allocate(None), Some(3));
        assert_eq!(a.allocate(None), Some(4));
        // A request for a held number falls back to automatic assignment.
        assert_eq!(a.allocate(Some(5)), Some(6));
    }

    #[test]
    fn invalid_requests_are_ignored() {
        let mut a = OfportAllocator::default();
        assert_eq!(a.allocate(Some(0)), Some(1));
        assert_eq!(a.allocate(Some(-1)), Some(2));
        assert_eq!(a.allocate(Some(0xff00)), Some(3));
        assert_eq!(a.allocate(Some(0xfeff)), Some(0xfeff));
    }

    #[test]
    fn exhaustion_reuses_least_recently_released() {
        let mut a = OfportAllocator::new(4);
        assert_eq!(a.allocate(None), Some(1));
        assert_eq!(a.allocate(None), Some(2));
        assert_eq!(a.allocate(None), Some(3));
        assert_eq!(a.allocate(None), None);
        a.release(3, 5);
        a.release(1, 9);
        assert_eq!(a.allocate(None), Some(3));
        assert_eq!(a.allocate(None), Some(1));
        assert_eq!(a.allocate(None), None);
    }
}
