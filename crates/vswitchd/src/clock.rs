//! The daemon's monotonic clock (upstream's `time_msec()`): milliseconds
//! since the process started, which tests can freeze (`time/stop`) and
//! move forward (`time/warp`).  Everything that times out in OpenFlow
//! terms reads it: rule idle and hard timeouts and the durations and ages
//! flow statistics report (each bridge's `Ofproto` clock), MAC learning
//! ages, OpenFlow connections' hello timeouts and inactivity probes,
//! packet-in rate limits, and the datapath's clock (megaflows' `used`
//! ages, the revalidator's `max-idle`).
//!
//! `time/warp [TOTAL] MSECS`: without TOTAL, one step of MSECS; with it,
//! steps of MSECS until TOTAL has passed (the last one shorter), giving
//! the daemon's periodic work a turn after every step, as upstream's main
//! loop does.  The reply (`warped`) comes once every step was made.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::SeqCst};
#[cfg(test)]
use std::sync::Mutex;
use std::sync::{Arc, OnceLock};
#[cfg(test)]
use std::time::Duration;
use std::time::Instant;

/// A stoppable, warpable monotonic clock, read without locks (the
/// datapath's forwarding threads read it for every batch).
#[derive(Debug)]
pub struct DaemonClock {
    start: Instant,
    /// Real ms elapsed when `time/stop` froze the clock; `u64::MAX` while
    /// it runs.
    stopped: AtomicU64,
    /// Total of every warp, in ms.
    warp: AtomicU64,
    /// A multi-step warp is under way.
    warping: AtomicBool,
}

impl Default for DaemonClock {
    fn default() -> Self {
        DaemonClock::new()
    }
}

impl DaemonClock {
    /// A clock reading 0 now.
    pub fn new() -> DaemonClock {
        DaemonClock {
            start: Instant::now(),
            stopped: AtomicU64::new(u64::MAX),
            warp: AtomicU64::new(0),
            warping: AtomicBool::new(false),
        }
    }

    /// The time, in ms.
    pub fn now_ms(&self) -> u64 {
        let stopped = self.stopped.load(SeqCst);
        let base = if stopped == u64::MAX {
            self.start.elapsed().as_millis() as u64
        } else {
            stopped
        };
        base.saturating_add(self.warp.load(SeqCst))
    }

    /// Freezes the clock (`time/stop`); only warps move it from now on.
    pub fn stop(&self) {
        let now = self.start.elapsed().as_millis() as u64;
        let _ = self
            .stopped
            .compare_exchange(u64::MAX, now.min(u64::MAX - 1), SeqCst, SeqCst);
    }

    /// Whether `time/stop` froze the clock.
    pub fn is_stopped(&self) -> bool {
        self.stopped.load(SeqCst) != u64::MAX
    }

    /// Moves the clock `ms` forward.
    pub fn advance(&self, ms: u64) {
        let _ = self
            .warp
            .fetch_update(SeqCst, SeqCst, |w| Some(w.saturating_add(ms)));
    }

    /// Claims the clock for a multi-step warp; false if one is under way.
    fn begin_warp(&self) -> bool {
        !self.warping.swap(true, SeqCst)
    }

    fn end_warp(&self) {
        self.warping.store(false, SeqCst);
    }

    /// As a clock for an `Ofproto`.
    pub fn ofproto_clock(self: &Arc<Self>) -> ofproto::Clock {
        let c = self.clone();
        Arc::new(move || c.now_ms())
    }
}

/// The process's clock.
pub fn global() -> &'static Arc<DaemonClock> {
    static CLOCK: OnceLock<Arc<DaemonClock>> = OnceLock::new();
    CLOCK.get_or_init(|| Arc::new(DaemonClock::new()))
}

/// C's `atoll`: optional blanks and sign, then digits as far as they go
/// (0 when there are none; saturating instead of overflowing).
fn atoll(s: &str) -> i64 {
    let s = s.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let (neg, digits) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let mut v: i64 = 0;
    for b in digits.bytes().take_while(u8::is_ascii_digit) {
        v = v.saturating_mul(10).saturating_add(i64::from(b - b'0'));
    }
    if neg {
        -v
    } else {
        v
    }
}

/// The steps of `time/warp` with `args` (`[TOTAL] MSECS`): each step's
/// length in ms, or upstream's error text.
pub fn warp_steps(args: &[String]) -> Result<Vec<u64>, String> {
    let (total, msecs) = match args {
        [msecs] => (0, atoll(msecs)),
        [total, msecs] => (atoll(total), atoll(msecs)),
        _ => return Err("invalid MSECS".into()),
    };
    if msecs <= 0 || total < 0 {
        return Err("invalid MSECS".into());
    }
    let (total, msecs) = (total as u64, msecs as u64);
    if total == 0 {
        return Ok(vec![msecs]);
    }
    // Bounded: a warp of more steps than this is made of longer steps.
    const MAX_STEPS: u64 = 100_000;
    let n = total / msecs;
    if n > MAX_STEPS {
        let step = total.div_ceil(MAX_STEPS);
        return Ok(warp_steps(&[total.to_string(), step.to_string()])?);
    }
    let mut steps = vec![msecs; n as usize];
    if total % msecs != 0 {
        steps.push(total % msecs);
    }
    Ok(steps)
}

/// Runs `time/warp` on `clock`: every step, then `tick` (the daemon's
/// periodic work at the new time) and a yield to other tasks.
pub async fn warp(clock: &DaemonClock, args: &[String], tick: impl Fn()) -> Result<String, String> {
    let steps = warp_steps(args)?;
    if !clock.begin_warp() {
        return Err("A previous warp in progress".into());
    }
    let last = steps.len().saturating_sub(1);
    for (i, ms) in steps.into_iter().enumerate() {
        clock.advance(ms);
        tick();
        if i != last {
            tokio::task::yield_now().await;
        }
    }
    clock.end_warp();
    Ok("warped".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn warp_arguments_as_upstream_reads_them() {
        assert_eq!(warp_steps(&a(&["1000"])), Ok(vec![1000]));
        assert_eq!(warp_steps(&a(&["5000", "1000"])), Ok(vec![1000; 5]));
        assert_eq!(warp_steps(&a(&["2500", "1000"])), Ok(vec![1000, 1000, 500]));
        assert_eq!(warp_steps(&a(&["500", "1000"])), Ok(vec![500]));
        assert_eq!(warp_steps(&a(&["0", "300"])), Ok(vec![300]));
        assert_eq!(warp_steps(&a(&["12abc"])), Ok(vec![12]));
        for bad in [&["0"][..], &["abc"], &["-5"], &["-1", "100"], &["100", "0"]] {
            assert_eq!(warp_steps(&a(bad)), Err("invalid MSECS".into()), "{bad:?}");
        }
        let many = warp_steps(&a(&["100000000000", "1"])).unwrap();
        assert!(many.len() <= 100_000);
        assert_eq!(many.iter().sum::<u64>(), 100_000_000_000);
    }

    #[test]
    fn a_stopped_clock_moves_only_by_warps() {
        let c = DaemonClock::new();
        c.stop();
        let t0 = c.now_ms();
        std::thread::sleep(Duration::from_millis(20));
        assert_eq!(c.now_ms(), t0);
        c.advance(1500);
        assert_eq!(c.now_ms(), t0 + 1500);
        assert!(c.is_stopped());
        // A running clock keeps its warps too.
        let r = DaemonClock::new();
        r.advance(10_000);
        assert!(r.now_ms() >= 10_000);
    }

    #[tokio::test]
    async fn a_multi_step_warp_ticks_after_each_step() {
        let c = Arc::new(DaemonClock::new());
        c.stop();
        let t0 = c.now_ms();
        let seen = Mutex::new(Vec::new());
        let r = warp(&c, &a(&["2500", "1000"]), || {
            seen.lock().unwrap().push(c.now_ms() - t0)
        })
        .await;
        assert_eq!(r, Ok("warped".into()));
        assert_eq!(*seen.lock().unwrap(), vec![1000, 2000, 2500]);
        // Another warp may start once this one is done.
        assert!(c.begin_warp());
        assert_eq!(
            warp(&c, &a(&["10"]), || {}).await,
            Err("A previous warp in progress".into())
        );
    }
}
