//! Statistics replies: flow, aggregate, table, port, queue, group and
//! meter statistics built from the switch's counters.

/// Seconds and nanoseconds from `since` to `now` (both ms).
pub fn duration(since: u64, now: u64) -> (u32, u32) {
    let ms = now.saturating_sub(since);
    ((ms / 1000) as u32, ((ms % 1000) * 1_000_000) as u32)
}
