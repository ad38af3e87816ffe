//! Packet-in rate limiting of one connection (upstream's pinsched, the
//! Controller table's `controller_rate_limit` and
//! `controller_burst_limit`): a token bucket on the daemon's clock, so
//! that `time/stop` and `time/warp` drive it, refilled at the rate (packets
//! per second) up to the burst. A packet-in goes out at once while the
//! queue is empty and a token is left ("bypassed"); otherwise it waits in
//! its ingress port's queue ("queued"), the ports' queues sharing `burst`
//! places: a full queue first drops the oldest packet of the longest
//! port queue ("dropped"). Queued packet-ins leave in round robin over the
//! ports as tokens come back, at most 50 per run. A connection has two
//! schedulers, one for table misses and one for everything else.

use std::collections::{BTreeMap, VecDeque};

/// Each packet costs this many tokens; the rate adds `rate` tokens per ms.
const TOKENS_PER_PACKET: u64 = 1000;
/// Queued packet-ins sent per run at most.
const MAX_PER_RUN: usize = 50;

/// What a scheduler did since it was created (the Controller `status`
/// keys `packet-in-TYPE-{bypassed,queued,dropped,backlog}`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PinStats {
    pub bypassed: u64,
    pub queued: u64,
    pub dropped: u64,
    pub backlog: u64,
}

/// A connection's counters (misses, others) as its manager reads them.
#[derive(Clone, Debug, Default)]
pub struct SharedPinStats(pub std::sync::Arc<std::sync::Mutex<[PinStats; 2]>>);

impl SharedPinStats {
    pub fn get(&self) -> [PinStats; 2] {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn set(&self, v: [PinStats; 2]) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = v;
    }
}

/// The same counters (not merely equal ones).
impl PartialEq for SharedPinStats {
    fn eq(&self, other: &Self) -> bool {
        std::sync::Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for SharedPinStats {}

/// Upstream's token bucket (lib/token-bucket): starts empty but fills to
/// the burst at the first withdrawal.
#[derive(Clone, Debug)]
struct TokenBucket {
    /// Tokens added per ms.
    rate: u64,
    /// Most tokens held.
    burst: u64,
    tokens: u64,
    last_fill: Option<u64>,
}

impl TokenBucket {
    fn fill(&mut self, now: u64) {
        let elapsed = match self.last_fill {
            None => u64::MAX,
            Some(t) if now > t => now - t,
            Some(_) => return,
        };
        let add = self.rate.saturating_mul(elapsed);
        self.tokens = self.tokens.saturating_add(add).min(self.burst);
        self.last_fill = Some(now);
    }

    fn withdraw(&mut self, n: u64, now: u64) -> bool {
        if self.tokens < n {
            self.fill(now);
        }
        if self.tokens >= n {
            self.tokens -= n;
            true
        } else {
            false
        }
    }
}

/// One packet-in scheduler.
#[derive(Debug)]
pub struct PinSched {
    bucket: TokenBucket,
    /// Queued packet-ins by ingress port.
    queues: BTreeMap<u32, VecDeque<Vec<u8>>>,
    /// The port whose queue sends next (round robin).
    next_port: u32,
    n_queued: u64,
    stats: PinStats,
}

impl PinSched {
    /// A scheduler for `rate_limit` packets per second (at least 1; none
    /// or below 1 means 1000, as upstream) and `burst_limit` queued
    /// packets (none or below 1: a quarter of the rate, at least 1).
    pub fn new(rate_limit: i64, burst_limit: Option<i64>) -> PinSched {
        let rate = if rate_limit <= 0 {
            1000
        } else {
            rate_limit as u64
        };
        let burst = match burst_limit {
            Some(b) if b > 0 => b as u64,
            _ => rate / 4,
        }
        .clamp(1, i32::MAX as u64 / TOKENS_PER_PACKET);
        PinSched {
            bucket: TokenBucket {
                rate,
                burst: burst * TOKENS_PER_PACKET,
                tokens: 0,
                last_fill: None,
            },
            queues: BTreeMap::new(),
            next_port: 0,
            n_queued: 0,
            stats: PinStats::default(),
        }
    }

    /// New limits (as [`PinSched::new`] reads them): the bucket keeps
    /// at most the new burst of tokens, and packet-ins queued beyond the
    /// new burst are dropped.
    pub fn set_limits(&mut self, rate_limit: i64, burst_limit: Option<i64>) {
        let fresh = PinSched::new(rate_limit, burst_limit);
        self.bucket.rate = fresh.bucket.rate;
        self.bucket.burst = fresh.bucket.burst;
        self.bucket.tokens = self.bucket.tokens.min(self.bucket.burst);
        while self.n_queued * TOKENS_PER_PACKET > self.bucket.burst {
            self.drop_oldest_of_longest();
        }
    }

    /// The counters, with the current backlog.
    pub fn stats(&self) -> PinStats {
        PinStats {
            backlog: self.n_queued,
            ..self.stats
        }
    }

    /// Packet-ins waiting.
    pub fn backlog(&self) -> u64 {
        self.n_queued
    }

    /// Schedules a packet-in from `port`: returns it when it may go at
    /// once, otherwise queues it.
    pub fn send(&mut self, port: u32, msg: Vec<u8>, now: u64) -> Option<Vec<u8>> {
        if self.n_queued == 0 && self.bucket.withdraw(TOKENS_PER_PACKET, now) {
            self.stats.bypassed += 1;
            return Some(msg);
        }
        if self.n_queued * TOKENS_PER_PACKET >= self.bucket.burst {
            self.drop_oldest_of_longest();
        }
        self.queues.entry(port).or_default().push_back(msg);
        self.n_queued += 1;
        self.stats.queued += 1;
        None
    }

    fn drop_oldest_of_longest(&mut self) {
        self.stats.dropped += 1;
        // The longest queue; the first of equals (upstream picks one of
        // them at random).
        let Some(port) = self
            .queues
            .iter()
            .rev()
            .max_by_key(|(_, q)| q.len())
            .map(|(p, _)| *p)
        else {
            return;
        };
        self.dequeue(port);
    }

    fn dequeue(&mut self, port: u32) -> Option<Vec<u8>> {
        let q = self.queues.get_mut(&port)?;
        let m = q.pop_front();
        if q.is_empty() {
            self.queues.remove(&port);
        }
        if m.is_some() {
            self.n_queued -= 1;
        }
        m
    }

    /// Sends what the tokens allow of the queued packet-ins (at most 50),
    /// one port after another.
    pub fn run(&mut self, now: u64, out: &mut Vec<Vec<u8>>) {
        for _ in 0..MAX_PER_RUN {
            if self.n_queued == 0 || !self.bucket.withdraw(TOKENS_PER_PACKET, now) {
                break;
            }
            let port = self
                .queues
                .range(self.next_port..)
                .next()
                .or_else(|| self.queues.iter().next())
                .map(|(p, _)| *p);
            let Some(port) = port else { break };
            self.next_port = port.wrapping_add(1);
            if let Some(m) = self.dequeue(port) {
                out.push(m);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(i: u8) -> Vec<u8> {
        vec![i]
    }

    #[test]
    fn a_burst_passes_then_queues_then_drops_the_oldest() {
        let mut s = PinSched::new(100, Some(25));
        let now = 1000;
        let mut sent = Vec::new();
        for i in 0..80u8 {
            sent.extend(s.send(1, msg(i), now));
        }
        assert_eq!(sent.len(), 25);
        assert_eq!(
            s.stats(),
            PinStats {
                bypassed: 25,
                queued: 55,
                dropped: 30,
                backlog: 25
            }
        );
        // No time, no tokens.
        let mut out = Vec::new();
        s.run(now, &mut out);
        assert!(out.is_empty());
        // A second refills the bucket to its burst: the newest 25 leave.
        s.run(now + 1000, &mut out);
        assert_eq!(out, (55..80).map(msg).collect::<Vec<_>>());
        assert_eq!(s.backlog(), 0);
    }

    #[test]
    fn tokens_come_back_at_the_rate() {
        let mut s = PinSched::new(100, Some(25));
        for i in 0..30u8 {
            let _ = s.send(1, msg(i), 0);
        }
        let mut out = Vec::new();
        // 100 packets per second: one per 10 ms.
        s.run(50, &mut out);
        assert_eq!(out.len(), 5);
    }

    #[test]
    fn ports_share_the_queue_in_turn() {
        let mut s = PinSched::new(100, Some(4));
        for i in 0..4u8 {
            assert!(s.send(1, msg(i), 0).is_some());
        }
        for (port, i) in [(1, 10), (1, 11), (1, 12), (2, 20), (2, 21)] {
            assert!(s.send(port, msg(i), 0).is_none());
        }
        // The fifth queued packet dropped the oldest of port 1's three.
        assert_eq!(s.stats().dropped, 1);
        let mut out = Vec::new();
        s.run(10_000, &mut out);
        assert_eq!(out, vec![msg(11), msg(20), msg(12), msg(21)]);
    }

    #[test]
    fn default_burst_is_a_quarter_of_the_rate() {
        let mut s = PinSched::new(200, None);
        let sent = (0..100u8).filter_map(|i| s.send(1, msg(i), 0)).count();
        assert_eq!(sent, 50);
    }
}
