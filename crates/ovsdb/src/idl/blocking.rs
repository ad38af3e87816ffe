//! [`BlockingIdl`]: the IDL engine driven over a blocking JSON-RPC client,
//! for command-line tools. A lost connection is reopened and the replica
//! resynchronized; the first connection may fail at once or be retried
//! (`ovs-vsctl --retry`) until the deadline.

use super::core::{IdlCore, IdlEvent, TxnHandle};
use super::replica::{MonitorSpec, Replica};
use super::txn::{Txn, TxnOutcome, TxnStatus};
use rpc::blocking::{Client, ClientError};
use rpc::OVSDB_PORT;
use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

/// Why the IDL could not go on.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum IdlError {
    /// The connection could not be opened.
    #[error("{remote}: database connection failed ({reason})")]
    Connect { remote: String, reason: String },
    /// The deadline passed.
    #[error("timeout expired")]
    TimedOut,
    /// A local error building a transaction.
    #[error("{0}")]
    Txn(String),
}

const MIN_BACKOFF: Duration = Duration::from_millis(250);
const MAX_BACKOFF: Duration = Duration::from_secs(8);

/// An IDL over one blocking connection.
pub struct BlockingIdl {
    core: IdlCore,
    remote: String,
    client: Option<Client>,
    deadline: Option<Instant>,
    retry: bool,
    ever_connected: bool,
    backoff: Duration,
    done: HashMap<TxnHandle, TxnOutcome>,
    events: VecDeque<IdlEvent>,
}

impl BlockingIdl {
    /// An IDL for database `db` at `remote` (not connected yet).
    pub fn new(remote: &str, db: &str, spec: MonitorSpec) -> BlockingIdl {
        BlockingIdl {
            core: IdlCore::new(db, spec),
            remote: remote.to_string(),
            client: None,
            deadline: None,
            retry: false,
            ever_connected: false,
            backoff: MIN_BACKOFF,
            done: HashMap::new(),
            events: VecDeque::new(),
        }
    }

    /// Every blocking call fails with [`IdlError::TimedOut`] after `deadline`.
    pub fn set_deadline(&mut self, deadline: Option<Instant>) {
        self.deadline = deadline;
        if let Some(c) = self.client.as_mut() {
            c.set_deadline(deadline);
        }
    }

    /// Keeps trying when the first connection fails (instead of failing).
    pub fn set_retry(&mut self, retry: bool) {
        self.retry = retry;
    }

    pub fn core(&self) -> &IdlCore {
        &self.core
    }

    pub fn core_mut(&mut self) -> &mut IdlCore {
        &mut self.core
    }

    /// The replica (present once [`BlockingIdl::sync`] succeeded).
    pub fn replica(&self) -> Option<&Replica> {
        self.core.replica()
    }

    /// Events other than transaction completions, oldest first.
    pub fn poll_event(&mut self) -> Option<IdlEvent> {
        self.events.pop_front()
    }

    fn timed_out(&self) -> bool {
        self.deadline.is_some_and(|d| Instant::now() >= d)
    }

    fn ensure_connected(&mut self) -> Result<(), IdlError> {
        while self.client.is_none() {
            match Client::open(&self.remote, Some(OVSDB_PORT)) {
                Ok(mut c) => {
                    c.set_deadline(self.deadline);
                    self.client = Some(c);
                    self.ever_connected = true;
                    self.backoff = MIN_BACKOFF;
                    self.core.connected();
                }
                Err(e) => {
                    if !self.retry && !self.ever_connected {
                        return Err(IdlError::Connect {
                            remote: self.remote.clone(),
                            reason: e.to_string(),
                        });
                    }
                    vlog::dbg!(
                        "reconnect",
                        "{}: connection attempt failed ({})",
                        self.remote,
                        e
                    );
                    let mut nap = self.backoff;
                    if let Some(d) = self.deadline {
                        let left = d.saturating_duration_since(Instant::now());
                        if left.is_zero() {
                            return Err(IdlError::TimedOut);
                        }
                        nap = nap.min(left);
                    }
                    std::thread::sleep(nap);
                    self.backoff = (self.backoff * 2).min(MAX_BACKOFF);
                }
            }
        }
        Ok(())
    }

    fn lost(&mut self, why: &str) {
        vlog::dbg!("ovsdb_idl", "{}: connection dropped ({})", self.remote, why);
        self.client = None;
        self.core.disconnected();
        self.drain_events();
    }

    fn drain_events(&mut self) {
        while let Some(ev) = self.core.poll_event() {
            match ev {
                IdlEvent::TxnDone(h, out) => {
                    self.done.insert(h, out);
                }
                IdlEvent::ProtocolError(e) => {
                    if self.client.is_some() {
                        self.client = None;
                        self.core.disconnected();
                    }
                    self.events.push_back(IdlEvent::ProtocolError(e));
                }
                other => self.events.push_back(other),
            }
        }
    }

    /// Sends what the engine queued; one received message is processed.
    fn step(&mut self) -> Result<(), IdlError> {
        self.ensure_connected()?;
        let Some(client) = self.client.as_mut() else {
            return Ok(());
        };
        for m in self.core.take_outbox() {
            if let Err(e) = client.send(&m) {
                return self.failed(e);
            }
        }
        match client.recv() {
            Ok(m) => {
                self.core.receive(m);
                // Answer echoes and queue follow-ups (monitor after schema).
                if let Some(client) = self.client.as_mut() {
                    for m in self.core.take_outbox() {
                        if let Err(e) = client.send(&m) {
                            return self.failed(e);
                        }
                    }
                }
                self.drain_events();
                Ok(())
            }
            Err(e) => self.failed(e),
        }
    }

    fn failed(&mut self, e: ClientError) -> Result<(), IdlError> {
        if matches!(e, ClientError::TimedOut) || self.timed_out() {
            return Err(IdlError::TimedOut);
        }
        self.lost(&e.to_string());
        Ok(())
    }

    /// Connects if needed and waits until the replica is current.
    pub fn sync(&mut self) -> Result<(), IdlError> {
        while !(self.client.is_some() && self.core.is_synced()) {
            self.step()?;
        }
        Ok(())
    }

    /// Waits until at least one update has been applied to the replica.
    pub fn wait_for_update(&mut self) -> Result<(), IdlError> {
        self.sync()?;
        let seqno = self.replica().map(Replica::seqno);
        while !(self.core.is_synced() && self.replica().map(Replica::seqno) != seqno) {
            self.step()?;
        }
        Ok(())
    }

    /// Processes messages until `done(replica)` holds.
    pub fn wait_until(&mut self, mut done: impl FnMut(&Replica) -> bool) -> Result<(), IdlError> {
        loop {
            self.sync()?;
            if self.replica().is_some_and(&mut done) {
                return Ok(());
            }
            self.step()?;
        }
    }

    /// Commits `txn` and waits for its outcome. A connection lost before
    /// the reply gives [`TxnStatus::TryAgain`].
    pub fn commit_block(&mut self, txn: &Txn) -> Result<TxnOutcome, IdlError> {
        self.sync()?;
        let h = match self.core.commit(txn) {
            Ok(None) => return Ok(TxnOutcome::with_status(TxnStatus::Unchanged)),
            Ok(Some(h)) => h,
            Err(e) => return Err(IdlError::Txn(e.details.unwrap_or(e.tag))),
        };
        loop {
            if let Some(out) = self.done.remove(&h) {
                return Ok(out);
            }
            self.step()?;
        }
    }

    /// Asks for lock `name` and waits until it is held.
    pub fn lock_block(&mut self, name: &str) -> Result<(), IdlError> {
        self.core.set_lock(Some(name));
        while !self.core.has_lock() {
            self.step()?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_failure_text() {
        let mut idl = BlockingIdl::new(
            "unix:/nonexistent/db.sock",
            "Open_vSwitch",
            MonitorSpec::default(),
        );
        let e = idl.sync().unwrap_err();
        assert_eq!(
            e.to_string(),
            "unix:/nonexistent/db.sock: database connection failed (No such file or directory)"
        );
    }

    #[test]
    fn retry_ends_at_deadline() {
        let mut idl = BlockingIdl::new(
            "unix:/nonexistent/db.sock",
            "Open_vSwitch",
            MonitorSpec::default(),
        );
        idl.set_retry(true);
        idl.set_deadline(Some(Instant::now() + Duration::from_millis(300)));
        assert_eq!(idl.sync().unwrap_err(), IdlError::TimedOut);
    }

    /// An upstream `ovsdb-server` on a fresh vswitch database, if installed.
    struct Server {
        dir: std::path::PathBuf,
        child: std::process::Child,
    }

    impl Server {
        fn start(tag: &str) -> Option<Server> {
            let schema = "/usr/share/openvswitch/vswitch.ovsschema";
            if !std::path::Path::new("/usr/sbin/ovsdb-server").exists()
                && !std::path::Path::new("/usr/bin/ovsdb-server").exists()
                || !std::path::Path::new(schema).exists()
            {
                eprintln!("skipping: upstream ovsdb-server is not installed");
                return None;
            }
            let dir = std::env::temp_dir().join(format!("idl-{tag}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).ok()?;
            let db = dir.join("conf.db");
            let ok = std::process::Command::new("ovsdb-tool")
                .args(["create", db.to_str()?, schema])
                .status()
                .ok()?
                .success();
            assert!(ok, "ovsdb-tool create failed");
            let sock = dir.join("db.sock");
            let child = std::process::Command::new("ovsdb-server")
                .arg(format!("--remote=punix:{}", sock.display()))
                .arg("--unixctl")
                .arg(dir.join("ctl"))
                .arg(db)
                .stderr(std::process::Stdio::null())
                .spawn()
                .ok()?;
            for _ in 0..200 {
                if sock.exists() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            Some(Server { dir, child })
        }

        fn remote(&self) -> String {
            format!("unix:{}", self.dir.join("db.sock").display())
        }
    }

    impl Drop for Server {
        fn drop(&mut self) {
            let _ = self.child.kill();
            let _ = self.child.wait();
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }

    fn spec() -> MonitorSpec {
        let mut s = MonitorSpec::default();
        s.add_columns("Open_vSwitch", &[]);
        s.add_columns("Bridge", &["name", "ports", "external_ids"]);
        s.add_columns("Port", &["name", "interfaces"]);
        s.add_columns("Interface", &["name"]);
        s
    }

    #[test]
    fn against_upstream_server() {
        use crate::datum::{Atom, Datum};
        let Some(server) = Server::start("up") else {
            return;
        };
        let deadline = Some(Instant::now() + Duration::from_secs(30));
        let mut a = BlockingIdl::new(&server.remote(), "Open_vSwitch", spec());
        a.set_deadline(deadline);
        a.sync().unwrap();
        let r = a.replica().unwrap().clone();
        assert!(r.table("Bridge").unwrap().is_monitored("ports"));
        assert!(!r.table("Bridge").unwrap().is_monitored("datapath_type"));

        // Open_vSwitch row, bridge br0 with port p0, next_cfg incremented.
        let mut t = Txn::new();
        let ovs = t.insert(&r, "Open_vSwitch").unwrap();
        let br = t.insert(&r, "Bridge").unwrap();
        t.set(
            &r,
            "Bridge",
            &br,
            "name",
            Datum::from_atom(Atom::String("br0".into())),
        )
        .unwrap();
        t.set_add(&r, "Open_vSwitch", &ovs, "bridges", Atom::Uuid(br))
            .unwrap();
        let out = a.commit_block(&t).unwrap();
        assert_eq!(out.status, TxnStatus::Success);
        let (ovs, br) = (out.inserted[&ovs], out.inserted[&br]);
        a.wait_until(|r| r.row("Bridge", &br).is_some()).unwrap();
        a.core_mut().replica_mut().unwrap().take_changes();

        let r = a.replica().unwrap().clone();
        let mut t = Txn::new();
        let port = t.insert(&r, "Port").unwrap();
        let iface = t.insert(&r, "Interface").unwrap();
        t.set(
            &r,
            "Interface",
            &iface,
            "name",
            Datum::from_atom(Atom::String("p0".into())),
        )
        .unwrap();
        t.set(
            &r,
            "Port",
            &port,
            "name",
            Datum::from_atom(Atom::String("p0".into())),
        )
        .unwrap();
        t.set_add(&r, "Port", &port, "interfaces", Atom::Uuid(iface))
            .unwrap();
        t.set_add(&r, "Bridge", &br, "ports", Atom::Uuid(port))
            .unwrap();
        t.map_set(
            &r,
            "Bridge",
            &br,
            "external_ids",
            Atom::String("k".into()),
            Atom::String("v".into()),
        )
        .unwrap();
        t.verify(&r, "Bridge", &br, "ports").unwrap();
        t.increment(&r, "Open_vSwitch", &ovs, "next_cfg", false)
            .unwrap();
        let out = a.commit_block(&t).unwrap();
        assert_eq!(out.status, TxnStatus::Success);
        assert_eq!(out.increment, Some(1));
        let port = out.inserted[&port];
        a.wait_until(|r| r.get("Bridge", &br, "ports").is_some_and(|d| d.len() == 1))
            .unwrap();
        let changes = a.core_mut().replica_mut().unwrap().take_changes();
        assert!(changes.iter().any(|c| c.table == "Bridge"
            && c.kind == crate::idl::ChangeKind::Modified
            && c.columns.contains("ports")));
        assert!(changes.iter().any(|c| c.table == "Port" && c.uuid == port));

        // A second client changes the verified column: ours must try again.
        let stale = a.replica().unwrap().clone();
        let mut mine = Txn::new();
        mine.verify(&stale, "Bridge", &br, "ports").unwrap();
        mine.map_set(
            &stale,
            "Bridge",
            &br,
            "external_ids",
            Atom::String("x".into()),
            Atom::String("y".into()),
        )
        .unwrap();
        let mut b = BlockingIdl::new(&server.remote(), "Open_vSwitch", spec());
        b.set_deadline(deadline);
        b.sync().unwrap();
        let rb = b.replica().unwrap().clone();
        let mut other = Txn::new();
        other
            .set(&rb, "Bridge", &br, "ports", Datum::empty(false))
            .unwrap();
        assert_eq!(b.commit_block(&other).unwrap().status, TxnStatus::Success);
        // Build against the stale replica, as a racing client would.
        let (req, plan) = mine.build(&stale, "Open_vSwitch").unwrap().unwrap();
        let mut c = Client::open(&server.remote(), None).unwrap();
        c.set_deadline(deadline);
        let reply = c.transact(&req).unwrap();
        assert_eq!(plan.outcome(&reply).status, TxnStatus::TryAgain);

        // Locks: the first client holds it; the second is refused.
        a.lock_block("L").unwrap();
        let mut locked = Txn::new();
        locked.assert_lock("L");
        locked
            .map_set(
                &rb,
                "Bridge",
                &br,
                "external_ids",
                Atom::String("z".into()),
                Atom::String("1".into()),
            )
            .unwrap();
        assert_eq!(
            b.commit_block(&locked).unwrap().status,
            TxnStatus::NotLocked
        );
    }
}
