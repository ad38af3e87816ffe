//! The database client of the daemon: one reconnecting JSON-RPC session to
//! ovsdb-server carrying an IDL (`ovsdb::idl`) that monitors the tables the
//! switch needs, holds the `ovs_vswitchd` lock (a second daemon on the same
//! database stays idle), reconfigures the [`Switch`] whenever the replica
//! changes and writes status back (only columns whose value differs), with
//! `cur_cfg` in the same transaction as the OpenFlow port numbers so that
//! `ovs-vsctl` sees both when it stops waiting.

use crate::config::{DbView, OvsConfig};
use crate::status::{changed, status_writes, ColumnWrite};
use crate::switch::Switch;
use ovsdb::idl::{IdlCore, IdlEvent, MonitorSpec, Replica, TxnHandle, TxnStatus};
use ovsdb::{Datum, Uuid};
use rpc::{Session, SessionEvent};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Notify;

/// The tables the switch reads (every column of each).
pub const TABLES: &[&str] = &[
    "Open_vSwitch",
    "Bridge",
    "Port",
    "Interface",
    "Controller",
    "Manager",
    "Mirror",
    "QoS",
    "Queue",
    "SSL",
    "NetFlow",
    "sFlow",
    "IPFIX",
    "Flow_Sample_Collector_Set",
    "Flow_Table",
    "AutoAttach",
    "Datapath",
    "CT_Zone",
    "CT_Timeout_Policy",
];

/// The lock that makes one daemon the owner of a database.
pub const LOCK_NAME: &str = "ovs_vswitchd";

/// How often interface counters are written (upstream's default
/// `stats-update-interval`).
pub const STATS_INTERVAL: Duration = Duration::from_millis(5000);

impl DbView for Replica {
    fn rows(&self, table: &str) -> Vec<Uuid> {
        self.table(table)
            .map(|t| t.rows().map(|r| r.uuid).collect())
            .unwrap_or_default()
    }

    fn get(&self, table: &str, uuid: &Uuid, column: &str) -> Option<&Datum> {
        Replica::get(self, table, uuid, column)
    }
}

/// The monitor request of the daemon.
pub fn monitor_spec() -> MonitorSpec {
    let mut spec = MonitorSpec::default();
    for t in TABLES {
        spec.add_columns(t, &[]);
    }
    spec
}

/// Runs the database client until the process ends. `wake` asks for a
/// status refresh (device state changed, a controller connected, ...).
pub struct DbClient {
    remote: String,
    core: IdlCore,
    switch: Arc<Mutex<Switch>>,
    wake: Arc<Notify>,
    last_seqno: Option<u64>,
    pending: Option<TxnHandle>,
    retry: bool,
    stats_due: bool,
    refresh: bool,
    said_hello: bool,
    said_locked_out: bool,
    epoch: std::time::Instant,
    cells: Arc<AtomicUsize>,
}

fn lock_switch(s: &Mutex<Switch>) -> std::sync::MutexGuard<'_, Switch> {
    s.lock().unwrap_or_else(|e| e.into_inner())
}

impl DbClient {
    pub fn new(remote: &str, switch: Arc<Mutex<Switch>>, wake: Arc<Notify>) -> DbClient {
        let mut core = IdlCore::new("Open_vSwitch", monitor_spec());
        core.set_lock(Some(LOCK_NAME));
        // set_lock queued a request before any connection: connected()
        // sends it again on each connection.
        let _ = core.take_outbox();
        DbClient {
            remote: remote.to_string(),
            core,
            switch,
            wake,
            last_seqno: None,
            pending: None,
            retry: false,
            stats_due: false,
            refresh: false,
            said_hello: false,
            said_locked_out: false,
            epoch: std::time::Instant::now(),
            cells: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// Publishes the replica's cell count (rows × monitored columns)
    /// through `cells` (`memory/show`).
    pub fn with_cells(mut self, cells: Arc<AtomicUsize>) -> DbClient {
        self.cells = cells;
        self
    }

    /// Connects and serves forever (returns only if the remote name is
    /// invalid).
    pub async fn run(mut self) -> Result<(), String> {
        let mut session =
            Session::open(&self.remote, Some(rpc::OVSDB_PORT)).map_err(|e| e.to_string())?;
        let mut stats = tokio::time::interval(STATS_INTERVAL);
        stats.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let wake = self.wake.clone();
        loop {
            for m in self.core.take_outbox() {
                session.send(&m);
            }
            session.flush().await;
            tokio::select! {
                ev = session.next_event() => match ev {
                    SessionEvent::Connected => self.core.connected(),
                    SessionEvent::Message(m) => self.core.receive(m),
                    SessionEvent::Disconnected => {
                        self.core.disconnected();
                        self.pending = None;
                    }
                    SessionEvent::Closed => return Ok(()),
                },
                _ = wake.notified() => self.refresh = true,
                _ = stats.tick() => self.stats_due = true,
            }
            while let Some(ev) = self.core.poll_event() {
                match ev {
                    IdlEvent::Synced | IdlEvent::Updated => {}
                    IdlEvent::LockAcquired(_) => {
                        self.said_locked_out = false;
                        self.last_seqno = None;
                    }
                    IdlEvent::LockLost(_) => {}
                    IdlEvent::TxnDone(h, outcome) => {
                        if self.pending == Some(h) {
                            self.pending = None;
                            if !matches!(outcome.status, TxnStatus::Success | TxnStatus::Unchanged)
                            {
                                if let TxnStatus::Error(e) = &outcome.status {
                                    vlog::warn!("bridge", "transaction error: {e}");
                                }
                                self.retry = true;
                            }
                        }
                    }
                    IdlEvent::ProtocolError(_) => session.force_reconnect(),
                }
            }
            self.step();
        }
    }

    fn now_ms(&self) -> i64 {
        self.epoch.elapsed().as_millis() as i64
    }

    /// Reconfigures and writes status when something changed.
    fn step(&mut self) {
        if !self.core.is_synced() {
            return;
        }
        if !self.said_hello {
            self.said_hello = true;
            vlog::info!(
                "bridge",
                "ovs-vswitchd (Open vSwitch) {}",
                rpc::unixctl::OVS_VERSION
            );
        }
        if !self.core.has_lock() {
            if !self.said_locked_out {
                self.said_locked_out = true;
                vlog::err!(
                    "bridge",
                    "another ovs-vswitchd process is running, disabling this process (pid {}) until it goes away",
                    std::process::id()
                );
            }
            return;
        }
        let Some(replica) = self.core.replica() else {
            return;
        };
        let seqno = replica.seqno();
        let cells: usize = replica
            .table_names()
            .filter_map(|t| replica.table(t))
            .map(|t| t.len() * t.monitored_columns().len())
            .sum();
        self.cells.store(cells, Ordering::Relaxed);
        let config_changed = self.last_seqno != Some(seqno);
        if !config_changed && !self.retry && !self.stats_due && !self.refresh {
            return;
        }
        if self.pending.is_some() {
            // Our own transaction is in flight: look again when it ends.
            return;
        }
        let now = self.now_ms();
        let cfg = OvsConfig::read(replica);
        let writes = {
            let mut sw = lock_switch(&self.switch);
            if config_changed {
                if cfg != sw.cfg {
                    for w in &cfg.warnings {
                        if !sw.cfg.warnings.contains(w) {
                            vlog::warn!("bridge", "{w}");
                        }
                    }
                }
                sw.reconfigure(&cfg, now);
            }
            status_writes(&sw, &cfg, replica, self.stats_due)
        };
        self.last_seqno = Some(seqno);
        self.retry = false;
        self.stats_due = false;
        self.refresh = false;
        let writes = changed(writes, replica);
        if writes.is_empty() {
            return;
        }
        self.commit(writes);
    }

    fn commit(&mut self, writes: Vec<ColumnWrite>) {
        let Some(replica) = self.core.replica() else {
            return;
        };
        let mut txn = ovsdb::idl::Txn::new();
        for c in &writes {
            if let Err(e) = txn.set(replica, c.table, &c.uuid, c.column, c.value.clone()) {
                vlog::dbg!(
                    "bridge",
                    "skipping status write {}.{}: {}",
                    c.table,
                    c.column,
                    e.tag
                );
            }
        }
        match self.core.commit(&txn) {
            Ok(h) => self.pending = h,
            Err(e) => {
                vlog::warn!("bridge", "could not commit status: {}", e.tag);
                self.retry = true;
            }
        }
    }
}
