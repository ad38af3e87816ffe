//! The daemon's `ovs-appctl` commands, with upstream's names, usage
//! strings, argument counts and answers (`list-commands` and `version`
//! come with the unixctl server).

use crate::switch::Switch;
use rpc::unixctl::Commands;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::Notify;

/// What the commands act on.
#[derive(Clone)]
pub struct Daemon {
    pub switch: Arc<Mutex<Switch>>,
    /// Notified by `exit`.
    pub shutdown: Arc<Notify>,
    /// Set by `exit --cleanup`.
    pub cleanup: Arc<AtomicBool>,
    /// Asks the database client for a status refresh.
    pub wake: Arc<Notify>,
    /// Cells in the database replica (for `memory/show`).
    pub idl_cells: Arc<AtomicUsize>,
}

impl Daemon {
    pub fn new(switch: Switch) -> Daemon {
        Daemon {
            switch: Arc::new(Mutex::new(switch)),
            shutdown: Arc::new(Notify::new()),
            cleanup: Arc::new(AtomicBool::new(false)),
            wake: Arc::new(Notify::new()),
            idl_cells: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// Locks the switch (a poisoned lock is still usable: every update
    /// leaves it consistent).
    pub fn lock(&self) -> std::sync::MutexGuard<'_, Switch> {
        self.switch.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// vlog reports `processing "SPEC": WHY` (the command-line form); appctl
/// answers only WHY.
fn strip_processing(e: String) -> String {
    match e.split_once("\": ") {
        Some((head, why)) if head.starts_with("processing \"") => why.to_string(),
        _ => e,
    }
}

/// Registers the logging commands.
pub fn register_vlog(c: &Commands) {
    c.register("vlog/list", "", 0, 0, |_| Ok(vlog::list()));
    c.register("vlog/list-pattern", "", 0, 0, |_| Ok(vlog::list_patterns()));
    c.register(
        "vlog/set",
        "{spec | PATTERN:destination:pattern}",
        0,
        usize::MAX,
        |a| {
            if a.is_empty() {
                vlog::set_levels_from_string("").map_err(strip_processing)?;
            }
            for spec in a {
                vlog::set_levels_from_string(spec).map_err(strip_processing)?;
            }
            Ok(String::new())
        },
    );
    c.register("vlog/reopen", "", 0, 0, |_| {
        vlog::reopen_log_file().map(|_| String::new())
    });
}

/// The text of `memory/show`.
pub fn memory_text(d: &Daemon) -> String {
    let sw = d.lock();
    let ports: usize = sw.bridges.values().map(|b| b.ifaces.len()).sum();
    let cells = d.idl_cells.load(Ordering::Relaxed);
    let mut parts = Vec::new();
    if cells > 0 {
        parts.push(format!("idl-cells-Open_vSwitch:{cells}"));
    }
    if !sw.bridges.is_empty() {
        parts.push(format!("ports:{ports}"));
    }
    parts.join(" ")
}

/// Registers every command of the daemon.
pub fn register(c: &Commands, d: &Daemon) {
    register_vlog(c);
    let (sd, cl) = (d.shutdown.clone(), d.cleanup.clone());
    c.register_then(
        "exit",
        "[--cleanup]",
        0,
        1,
        move |a| {
            // As upstream: only an exact `--cleanup` asks for cleanup; any
            // other argument is an ordinary exit.
            cl.store(
                a.first().map(String::as_str) == Some("--cleanup"),
                Ordering::Relaxed,
            );
            Ok(String::new())
        },
        move || sd.notify_one(),
    );
    let dd = d.clone();
    c.register("memory/show", "", 0, 0, move |_| Ok(memory_text(&dd)));
    let dd = d.clone();
    c.register("ofproto/list", "", 0, 0, move |_| {
        Ok(dd.lock().bridges.keys().map(|n| format!("{n}\n")).collect())
    });
    let dd = d.clone();
    c.register("bridge/reconnect", "[bridge]", 0, 1, move |a| {
        let sw = dd.lock();
        if let Some(name) = a.first() {
            if !sw.bridges.contains_key(name) {
                return Err("Unknown bridge".into());
            }
        }
        Ok(String::new())
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bridge::{DatapathOptions, DummyMode};

    fn daemon() -> Daemon {
        Daemon::new(Switch::new(DatapathOptions {
            dummy: DummyMode::On,
            disable_system: true,
        }))
    }

    #[tokio::test]
    async fn exit_cleanup_only_with_the_exact_option() {
        let d = daemon();
        let c = Commands::new();
        register(&c, &d);
        assert_eq!(
            c.execute("exit", &[serde_json::json!("--bogus")]).await,
            Ok(String::new())
        );
        assert!(!d.cleanup.load(Ordering::Relaxed));
        assert_eq!(
            c.execute("exit", &[serde_json::json!("--cleanup")]).await,
            Ok(String::new())
        );
        assert!(d.cleanup.load(Ordering::Relaxed));
    }

    #[tokio::test]
    async fn bridge_commands_name_unknown_bridges() {
        let d = daemon();
        let c = Commands::new();
        register(&c, &d);
        assert_eq!(
            c.execute("bridge/reconnect", &[serde_json::json!("nobr")])
                .await,
            Err("Unknown bridge".into())
        );
        assert_eq!(c.execute("ofproto/list", &[]).await, Ok(String::new()));
    }
}
