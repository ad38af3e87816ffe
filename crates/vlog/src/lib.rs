//! Logging as Open vSwitch does it (`man ovs-appctl`, "LOGGING COMMANDS"; the
//! `-v`/`--verbose` options of every OVS program).
//!
//! This is the lowest room: every other crate may log through it. It owns
//! modules, levels (`emer`, `err`, `warn`, `info`, `dbg`), destinations
//! (`console` = stderr, `syslog`, `file`), per-destination patterns with OVS's
//! escapes (`%D{...}`, `%d`, `%N`, `%c`, `%p`, `%m`, `%A`, `%P`, `%t`, `%T`,
//! `%n`, `%%`, widths like `%05N`), the message sequence number, and the
//! parsing of `-v` settings. It also owns [`hex_dump`], the hex+ASCII dump
//! format that OVS log messages and tools embed.
//!
//! It must not know any protocol: callers pass their module name.

mod pattern;
mod settings;

pub use pattern::{format_time, hex_dump, hex_dump_plain};
pub use settings::{Destination, Level};

use std::io::Write;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Mutex;

static SEQ: AtomicU32 = AtomicU32::new(0);
static STATE: Mutex<Option<settings::State>> = Mutex::new(None);

fn with_state<R>(f: impl FnOnce(&mut settings::State) -> R) -> R {
    let mut guard = STATE.lock().unwrap_or_else(|e| e.into_inner());
    f(guard.get_or_insert_with(settings::State::default))
}

/// Sets the program name used by `%A` (OVS: the program's base name).
pub fn set_program_name(name: &str) {
    with_state(|s| s.program = name.to_string());
}

/// Declares module names so that `-vMODULE:...` accepts them and
/// `vlog/list` lists them. Logging from an undeclared module declares it.
pub fn register_modules(names: &[&str]) {
    with_state(|s| {
        for n in names {
            s.module(n);
        }
    });
}

/// Applies one `-v` argument (the text after `-v`/`--verbose=`; empty means
/// "everything to dbg"). The error text is upstream's, e.g.
/// `processing "foo:dbg": no destination, level, or module "foo"`.
pub fn set_levels_from_string(spec: &str) -> Result<(), String> {
    with_state(|s| s.apply(spec))
}

/// Sets the level of `module` (all when `None`) at `dest` (all when `None`).
/// Tools use it to lower the console to `warn` before parsing `-v` options.
pub fn set_level(module: Option<&str>, dest: Option<Destination>, level: Level) {
    with_state(|s| s.set(module, dest, level));
}

/// Sends file-destination messages to `path` (OVS `--log-file[=FILE]`).
pub fn set_log_file(path: &str) -> Result<(), String> {
    with_state(|s| s.open_file(path))
}

/// Reopens the log file (after rotation, `vlog/reopen`).
pub fn reopen_log_file() -> Result<(), String> {
    with_state(|s| s.reopen_file())
}

/// The text of `vlog/list`.
pub fn list() -> String {
    with_state(|s| s.list())
}

/// The text of `vlog/list-pattern`.
pub fn list_patterns() -> String {
    with_state(|s| s.list_patterns())
}

/// True when a message of `level` from `module` would go anywhere, so callers
/// can skip building expensive messages.
pub fn is_enabled(module: &str, level: Level) -> bool {
    with_state(|s| s.enabled(module, level))
}

/// Logs one message. Use the macros ([`warn!`] and friends) instead.
pub fn log(module: &str, level: Level, message: &str) {
    with_state(|s| {
        if !s.enabled(module, level) {
            return;
        }
        let seq = SEQ.fetch_add(1, Ordering::Relaxed) + 1;
        for dest in Destination::ALL {
            if s.level(module, dest) < level {
                continue;
            }
            let line = pattern::render(s.pattern(dest), &s.program, module, level, seq, message);
            match dest {
                Destination::Console => {
                    let _ = writeln!(std::io::stderr().lock(), "{line}");
                }
                Destination::File => s.write_file(&line),
                Destination::Syslog => settings::syslog(level, &line),
            }
        }
    });
}

/// `vlog::emer!("module", "format {}", args)`.
#[macro_export]
macro_rules! emer { ($m:expr, $($a:tt)*) => { $crate::log_at($m, $crate::Level::Emer, format_args!($($a)*)) }; }
/// `vlog::err!("module", "format {}", args)`.
#[macro_export]
macro_rules! err { ($m:expr, $($a:tt)*) => { $crate::log_at($m, $crate::Level::Err, format_args!($($a)*)) }; }
/// `vlog::warn!("module", "format {}", args)`.
#[macro_export]
macro_rules! warn { ($m:expr, $($a:tt)*) => { $crate::log_at($m, $crate::Level::Warn, format_args!($($a)*)) }; }
/// `vlog::info!("module", "format {}", args)`.
#[macro_export]
macro_rules! info { ($m:expr, $($a:tt)*) => { $crate::log_at($m, $crate::Level::Info, format_args!($($a)*)) }; }
/// `vlog::dbg!("module", "format {}", args)`.
#[macro_export]
macro_rules! dbg { ($m:expr, $($a:tt)*) => { $crate::log_at($m, $crate::Level::Dbg, format_args!($($a)*)) }; }

/// A token bucket limiting how often a group of log call sites may log
/// (upstream's `VLOG_RATE_LIMIT_INIT(RATE, BURST)`: up to `burst` messages
/// at once, refilled at `rate` messages per minute). Declare one as a
/// `static` and log through [`warn_rl!`] and friends.
pub struct RateLimit {
    rate_per_min: u64,
    burst: u64,
    /// (tokens in thousandths of a message, last refill in ms, dropped).
    state: Mutex<Option<(u64, u64, u64)>>,
}

impl RateLimit {
    pub const fn new(rate_per_min: u64, burst: u64) -> RateLimit {
        RateLimit {
            rate_per_min,
            burst,
            state: Mutex::new(None),
        }
    }

    /// Takes a token; `Some(n)` when the message may go out, `n` being how
    /// many were dropped since the last one that did.
    fn take(&self) -> Option<u64> {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0);
        let cap = self.burst * 1000;
        let mut guard = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let (tokens, last, dropped) = guard.get_or_insert((cap, now, 0));
        let elapsed = now.saturating_sub(*last);
        *tokens = (*tokens + elapsed * self.rate_per_min * 1000 / 60_000).min(cap);
        *last = now;
        if *tokens >= 1000 {
            *tokens -= 1000;
            Some(std::mem::take(dropped))
        } else {
            *dropped += 1;
            None
        }
    }
}

#[doc(hidden)]
pub fn log_rl(rl: &RateLimit, module: &str, level: Level, args: std::fmt::Arguments<'_>) {
    if !is_enabled(module, level) {
        return;
    }
    if let Some(dropped) = rl.take() {
        if dropped > 0 {
            log(
                module,
                level,
                &format!("Dropped {dropped} log messages due to excessive rate"),
            );
        }
        log(module, level, &args.to_string());
    }
}

/// `vlog::warn_rl!(&RL, "module", "format {}", args)`: rate-limited warn.
#[macro_export]
macro_rules! warn_rl { ($rl:expr, $m:expr, $($a:tt)*) => { $crate::log_rl($rl, $m, $crate::Level::Warn, format_args!($($a)*)) }; }
/// `vlog::info_rl!(&RL, "module", "format {}", args)`: rate-limited info.
#[macro_export]
macro_rules! info_rl { ($rl:expr, $m:expr, $($a:tt)*) => { $crate::log_rl($rl, $m, $crate::Level::Info, format_args!($($a)*)) }; }
/// `vlog::err_rl!(&RL, "module", "format {}", args)`: rate-limited err.
#[macro_export]
macro_rules! err_rl { ($rl:expr, $m:expr, $($a:tt)*) => { $crate::log_rl($rl, $m, $crate::Level::Err, format_args!($($a)*)) }; }

#[doc(hidden)]
pub fn log_at(module: &str, level: Level, args: std::fmt::Arguments<'_>) {
    if is_enabled(module, level) {
        log(module, level, &args.to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::RateLimit;

    #[test]
    fn rate_limit_allows_a_burst_then_drops_and_counts() {
        let rl = RateLimit::new(1, 5);
        for _ in 0..5 {
            assert_eq!(rl.take(), Some(0));
        }
        assert_eq!(rl.take(), None);
        assert_eq!(rl.take(), None);
    }
}
