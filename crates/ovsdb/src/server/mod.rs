//! The OVSDB server (ovsdb-server(1), RFC 7047 §4): the databases it
//! serves, the JSON-RPC methods its clients call, and the `_Server`
//! database describing them.
//!
//! [`Server`] holds the shared state behind one mutex: databases
//! (standalone [`Storage`]), clients with their monitors, and locks. A
//! client task ([`jsonrpc::serve_session`]) calls [`Server::handle`] for
//! each request; committed changes are turned into monitor notifications
//! for every client before the committing client gets its reply, in that
//! order, as upstream does. Networking comes from the `rpc` room.
//!
//! Durability (group commit): a commit is written (to the database file
//! and its journal) under the mutex and numbered. A sync round syncs,
//! without the mutex, every journal written since the last round, so one
//! `fdatasync` covers the commits of every session meanwhile. The session
//! that waits for its commits ([`Server::durable`]) runs the round itself
//! when none is under way (no hand-off to another thread on the way to the
//! disk and back), else waits for the round under way and then for its
//! own. Only after a round are the notifications its commits caused
//! delivered and the replies sent: nobody hears of a commit before it is
//! on disk, while reads, monitors and other commits go on during the sync.
//! The sync thread ([`Server::sync_round`]) makes durable the commits
//! nobody waits for (the server's own status updates), and does the slow
//! work: checkpoints of the journal and compactions.

pub mod jsonrpc;
pub mod locks;
pub mod monitor;
pub mod remotes;
pub mod shash;

use crate::database::{Changes, Database};
use crate::error::Error;
use crate::schema::DatabaseSchema;
use crate::storage::{Storage, TransactReply};
use crate::transaction::ExecOptions;
use crate::uuid::Uuid;
use locks::{ClientId, LockEvent, Locks};
use monitor::{Monitor, Version};
pub use remotes::RemoteOptions;
use rpc::Message;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, Weak};
use std::time::Duration;
use tokio::sync::{mpsc, watch};

/// The schema of the `_Server` database (ovsdb-server(5)).
const SERVER_SCHEMA: &str = r#"{"name":"_Server","version":"1.2.0","tables":{"Database":{"columns":{
"name":{"type":"string"},
"model":{"type":{"key":{"type":"string","enum":["set",["clustered","relay","standalone"]]}}},
"connected":{"type":"boolean"},
"leader":{"type":"boolean"},
"schema":{"type":{"min":0,"key":"string"}},
"cid":{"type":{"min":0,"key":"uuid"}},
"sid":{"type":{"min":0,"key":"uuid"}},
"index":{"type":{"min":0,"key":"integer"}}}}}}"#;

/// The `cksum` upstream gives the `_Server` schema.
const SERVER_SCHEMA_CKSUM: &str = "3009684573 744";

/// The name of the server's own database.
pub const SERVER_DB: &str = "_Server";

/// What the server hands to a client's session besides replies.
#[derive(Debug, Clone, PartialEq)]
pub enum Outgoing {
    /// A notification to send (monitor updates, `locked`, `stolen`,
    /// `monitor_canceled`).
    Message(Message),
    /// Database `0` changed its schema: answer the session's pending
    /// transactions on it with the `canceled` error.
    CancelTriggers(String),
    /// Close the connection (an active remote reconnects), logging the
    /// reason, after the replies already due are sent.
    Disconnect(String),
}

/// What a client's session receives: something to send or do, tagged
/// with the number of the last commit when it was queued (see
/// [`Handled::ReplyAt`]).
pub type Tagged = (u64, Outgoing);

struct Client {
    name: String,
    tx: mpsc::UnboundedSender<Tagged>,
    monitors: Vec<Monitor>,
    /// Set by `set_db_change_aware`: told about schema changes instead of
    /// being disconnected.
    db_change_aware: bool,
    /// Came through a read-only remote (Manager `read_only`).
    read_only: bool,
    /// The role of its remote (Manager `role`): role-based access
    /// control applies when not empty.
    role: String,
}

struct State {
    dbs: BTreeMap<String, Storage>,
    /// The databases' names as upstream's map of them is laid out
    /// (`list_dbs` answers in its order).
    db_order: shash::ShashOrder,
    server_db: Database,
    clients: HashMap<ClientId, Client>,
    locks: Locks,
    next_client: ClientId,
    /// What clients are to be told, each tagged with the number of the
    /// last commit when it was queued: delivered in order once that commit
    /// is durable, so that no client sees a change before it is on disk.
    pending: VecDeque<(u64, ClientId, Outgoing)>,
    /// Number of commits so far.
    seq: u64,
    /// Commits up to this number are durable.
    synced: u64,
    /// Recent failed syncs: commits in `(from, to]` were not made durable.
    failures: VecDeque<(u64, u64, String)>,
    /// A sync round is under way (its files are being synced unlocked).
    syncing: bool,
    /// The sync thread has work (set when it is woken).
    sync_work: bool,
}

/// A sync round begun: the files to sync and the commit number they make
/// durable.
struct Round {
    target: u64,
    files: Vec<(String, crate::journal::Syncer)>,
}

/// How many failed syncs are remembered for the sessions still to reply.
const MAX_FAILURES: usize = 16;

/// The options a remote's row sets (upstream reads each column only where
/// the table has it with the expected type).
fn remote_options(ts: &crate::schema::TableSchema, row: &crate::row::Row) -> RemoteOptions {
    use crate::types::AtomicType;
    let scalar = |name: &str, atomic: AtomicType| {
        let c = ts.column(name)?;
        let t = ts.column_type(c);
        (t.key.atomic == atomic && t.value.is_none()).then(|| row.get(c).keys.first().cloned())?
    };
    let int = |name: &str| {
        scalar(name, AtomicType::Integer)
            .and_then(|a| a.as_integer())
            .and_then(|i| u64::try_from(i).ok())
    };
    let dscp = ts.column("other_config").and_then(|c| {
        let d = row.get(c);
        let i = d.keys.iter().position(|k| k.as_str() == Some("dscp"))?;
        let v = d.values.as_ref()?.get(i)?.as_str()?;
        // atoi: leading digits; out of range keeps the default.
        let digits: String = v
            .trim_start()
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        digits.parse::<u8>().ok().filter(|d| *d <= 63)
    });
    RemoteOptions {
        max_backoff: int("max_backoff"),
        inactivity_probe: int("inactivity_probe"),
        dscp,
        read_only: scalar("read_only", AtomicType::Boolean)
            .and_then(|a| match a {
                crate::datum::Atom::Boolean(b) => Some(b),
                _ => None,
            })
            .unwrap_or(false),
        role: scalar("role", AtomicType::String)
            .and_then(|a| a.as_str().map(str::to_string))
            .unwrap_or_default(),
    }
}

/// The sync thread of a server, until the server is gone.
fn sync_thread(server: Weak<Server>) {
    while let Some(s) = server.upgrade() {
        s.sync_round(Duration::from_millis(500));
    }
}

/// The outcome of a request.
pub enum Handled {
    /// Send this reply (or error) now.
    Reply(Message),
    /// Send this reply after what the session was given for commits up to
    /// number `.1`, and before anything it was given for later commits: a
    /// new monitor's initial contents (the state after commit `.1`), which
    /// must reach the client before any update of the monitor, as
    /// upstream's single thread sends them. (Commits go on while the
    /// session waits for the disk before replying; an update that overtook
    /// the initial contents would name rows the client does not have, and
    /// the client would drop it and miss the change.)
    ReplyAt(Message, u64),
    /// A `transact` whose `wait` is not satisfied: try again after the next
    /// commit or after `timeout_ms`.
    Blocked { timeout_ms: Option<u64> },
    /// Send nothing (notifications).
    Nothing,
}

/// The shared server state.
pub struct Server {
    state: Mutex<State>,
    /// Wakes the sync thread when there is something to sync.
    sync_wanted: Condvar,
    /// The number of the last durable commit.
    synced: watch::Sender<u64>,
    commits: watch::Sender<u64>,
    server_id: Uuid,
}

fn error_reply(e: &Error, id: Value) -> Message {
    Message::error(e.to_json(), id)
}

fn unknown_db(method: &str, name: &str, params: &[Value]) -> Error {
    Error::with_syntax(
        "unknown database",
        Some(&Value::Array(params.to_vec())),
        format!("{method} request specifies unknown database {name}"),
    )
}

impl Server {
    /// A server with no databases.
    pub fn new() -> Arc<Server> {
        let server = Self::without_sync_thread();
        let weak = Arc::downgrade(&server);
        let spawned = std::thread::Builder::new()
            .name("ovsdb-sync".into())
            .spawn(move || sync_thread(weak));
        if let Err(e) = spawned {
            panic!("cannot start the sync thread: {e}");
        }
        server
    }

    /// A server whose commits become durable only through
    /// [`Server::durable`] (and [`Server::sync_round`] when called).
    fn without_sync_thread() -> Arc<Server> {
        let schema_json: Value = serde_json::from_str(SERVER_SCHEMA).unwrap_or(Value::Null);
        let schema = DatabaseSchema::from_json(&schema_json)
            .unwrap_or_else(|e| panic!("built-in _Server schema is invalid: {e}"));
        let (commits, _) = watch::channel(0);
        let (synced, _) = watch::channel(0);
        let server = Arc::new(Server {
            state: Mutex::new(State {
                dbs: BTreeMap::new(),
                db_order: shash::ShashOrder::default(),
                server_db: Database::new(schema),
                clients: HashMap::new(),
                locks: Locks::default(),
                next_client: 0,
                pending: VecDeque::new(),
                seq: 0,
                synced: 0,
                failures: VecDeque::new(),
                syncing: false,
                sync_work: false,
            }),
            sync_wanted: Condvar::new(),
            synced,
            commits,
            server_id: Uuid::random(),
        });
        // `_Server` describes itself too, first.
        {
            let mut st = server.lock();
            let mut text = st.server_db.schema.to_json();
            if let Value::Object(m) = &mut text {
                m.insert("cksum".into(), Value::from(SERVER_SCHEMA_CKSUM));
            }
            let insert = json!([SERVER_DB, {
                "op": "insert", "table": "Database",
                "row": {"name": SERVER_DB, "model": "standalone", "connected": true,
                        "leader": true, "schema": crate::json::to_string(&text, true)}
            }]);
            let _ = st.server_db.transact(&insert);
        }
        server
    }

    /// One round of the sync thread: waits (up to `idle`) to be woken,
    /// makes durable the commits not yet durable (if no session is doing
    /// so), then checkpoints databases whose journal has grown and starts
    /// the compactions due.
    pub fn sync_round(self: &Arc<Self>, idle: Duration) {
        let mut st = self.lock();
        if !st.sync_work {
            st = match self.sync_wanted.wait_timeout(st, idle) {
                Ok((g, _)) => g,
                Err(e) => e.into_inner().0,
            };
        }
        st.sync_work = false;
        let round = Self::begin_round(&mut st);
        drop(st);
        if let Some(r) = round {
            self.finish_round(r);
        }
        self.checkpoint();
        self.start_compactions();
    }

    /// Begins a sync round if some commit is not yet durable and no round
    /// is under way.
    fn begin_round(st: &mut State) -> Option<Round> {
        if st.syncing || st.seq == st.synced {
            return None;
        }
        st.syncing = true;
        let files = st
            .dbs
            .values_mut()
            .filter_map(|s| Some((s.path().to_string(), s.take_sync_file()?)))
            .collect();
        Some(Round {
            target: st.seq,
            files,
        })
    }

    /// Syncs the files of `round` (without the lock), then delivers what
    /// its commits caused and releases the sessions waiting for them.
    fn finish_round(&self, round: Round) {
        let mut error = None;
        for (path, f) in round.files {
            if let Err(e) = f.sync_data() {
                let text = format!("{path}: fsync failed ({})", crate::io_error_text(&e));
                vlog::err!("ovsdb_server", "{text}");
                error = Some(text);
            }
        }
        let target = round.target;
        let mut st = self.lock();
        st.syncing = false;
        let from = st.synced;
        st.synced = target;
        if let Some(e) = error {
            st.failures.push_back((from, target, e));
            if st.failures.len() > MAX_FAILURES {
                st.failures.pop_front();
            }
        }
        Self::release_pending(&mut st);
        let slow_work = st
            .dbs
            .values()
            .any(|s| s.needs_checkpoint() || s.wants_compaction());
        if slow_work && !st.sync_work {
            st.sync_work = true;
            self.sync_wanted.notify_one();
        }
        drop(st);
        self.synced.send_modify(|s| *s = (*s).max(target));
    }

    /// Syncs the database files whose journal has grown, and starts their
    /// journals over.
    fn checkpoint(&self) {
        let checkpoints: Vec<(String, Arc<std::fs::File>)> = self
            .lock()
            .dbs
            .iter()
            .filter(|(_, s)| s.needs_checkpoint())
            .filter_map(|(n, s)| Some((n.clone(), s.data_file()?)))
            .collect();
        for (name, f) in checkpoints {
            // The long sync happens unlocked; the checkpoint's own sync
            // then has only the few records written meanwhile to write.
            let _ = f.sync_data();
            if let Some(s) = self.lock().dbs.get_mut(&name) {
                if let Err(e) = s.checkpoint() {
                    vlog::warn!("ovsdb_server", "{}: checkpoint failed ({e})", s.path());
                }
            }
        }
    }

    /// Compacts, each on a thread of its own, the databases whose log has
    /// grown enough: the snapshot is written without the server lock;
    /// commits wait only while the records made meanwhile are appended to
    /// it and the files are swapped.
    fn start_compactions(self: &Arc<Self>) {
        let jobs: Vec<(String, crate::storage::CompactionJob)> = self
            .lock()
            .dbs
            .iter_mut()
            .filter_map(|(n, s)| Some((n.clone(), s.begin_compaction(false)?)))
            .collect();
        for (name, job) in jobs {
            let server = Arc::downgrade(self);
            let db = name.clone();
            let spawned = std::thread::Builder::new()
                .name("ovsdb-compact".into())
                .spawn(move || {
                    let written = job.write();
                    let Some(server) = server.upgrade() else {
                        return job.discard();
                    };
                    let mut st = server.lock();
                    match st.dbs.get_mut(&name) {
                        Some(s) => {
                            if let Err(e) = s.finish_compaction(job, written) {
                                vlog::warn!(
                                    "ovsdb_file",
                                    "{}: compacting database failed ({e})",
                                    s.path()
                                );
                            }
                        }
                        None => job.discard(),
                    }
                });
            if let Err(e) = spawned {
                vlog::warn!("ovsdb_server", "{db}: cannot start compaction ({e})");
                if let Some(s) = self.lock().dbs.get_mut(&db) {
                    s.abandon_compaction();
                }
            }
        }
    }

    /// The number of the last commit so far (what a reply sent now may
    /// reveal).
    pub fn last_commit(&self) -> u64 {
        self.lock().seq
    }

    /// Waits until commit `seq` and all before it are durable; an error if
    /// syncing them failed. Runs the sync round itself when none is under
    /// way (the `fdatasync` then blocks the calling thread, as briefly as
    /// a hand-off to another thread and back would take).
    pub async fn durable(&self, seq: u64) -> Result<(), Error> {
        let mut rx = self.synced.subscribe();
        loop {
            // What to do, decided under the lock (not held across `await`).
            let step = {
                let mut st = self.lock();
                if st.synced >= seq {
                    return match st
                        .failures
                        .iter()
                        .find(|(from, to, _)| seq > *from && seq <= *to)
                    {
                        Some((_, _, e)) => Err(Error::io(e.clone())),
                        None => Ok(()),
                    };
                }
                Self::begin_round(&mut st).ok_or(st.synced)
            };
            match step {
                Ok(round) => self.finish_round(round),
                Err(seen) => {
                    // Another round is under way: wait for its end, then
                    // (if it did not cover `seq`) run the next.
                    if rx.wait_for(|s| *s > seen).await.is_err() {
                        return Err(Error::io("server shut down".to_string()));
                    }
                }
            }
        }
    }

    /// Numbers a commit just made and wakes the blocked transactions. The
    /// committing session makes it durable ([`Server::durable`]).
    fn committed(&self, st: &mut State) {
        st.seq += 1;
        self.commits.send_modify(|n| *n += 1);
    }

    /// Wakes the sync thread to make durable the commits no session waits
    /// for.
    fn wake_sync(&self, st: &mut State) {
        if !st.sync_work {
            st.sync_work = true;
            self.sync_wanted.notify_one();
        }
    }

    /// Queues `o` for `client`, to go once what is committed so far is
    /// durable.
    fn queue(st: &mut State, client: ClientId, o: Outgoing) {
        let seq = st.seq;
        st.pending.push_back((seq, client, o));
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The databases named on the command line are open: `_Server` takes
    /// its place after them among the databases, as upstream adds it then
    /// (this decides the order of `list_dbs`). Done at the first
    /// `list_dbs` or `remove-db` if not called before.
    pub fn initial_dbs_opened(&self) {
        Self::list_server_db(&mut self.lock());
    }

    fn list_server_db(st: &mut State) {
        if !st.db_order.contains(SERVER_DB) {
            st.db_order.insert(SERVER_DB);
        }
    }

    /// Opens the database file at `path` and serves it. Errors are upstream's
    /// texts (`ovsdb error: ...`).
    pub fn add_db(&self, path: &str) -> Result<String, Error> {
        let storage = Storage::open_served(path)?;
        let name = storage.db.schema.name.clone();
        let mut st = self.lock();
        if st.dbs.contains_key(&name) || name == SERVER_DB {
            return Err(Error::new(
                "ovsdb error",
                format!("{name}: duplicate database name"),
            ));
        }
        let schema_text = crate::json::to_string(&storage.db.schema.to_json(), true);
        st.dbs.insert(name.clone(), storage);
        st.db_order.insert(&name);
        let insert = json!([SERVER_DB, {
            "op": "insert", "table": "Database",
            "row": {"name": name, "model": "standalone", "connected": true,
                    "leader": true, "schema": schema_text}
        }]);
        let (_, commit) = st.server_db.transact(&insert);
        if let Some(c) = commit {
            Self::notify_monitors(&mut st, SERVER_DB, &c.changes);
            Self::release_pending(&mut st);
        }
        Ok(name)
    }

    /// Stops serving database `name`, as upstream's `remove-db`:
    /// change-aware clients get `monitor_canceled` for their monitors of it
    /// and `canceled` for their transactions waiting on it; the others are
    /// disconnected.
    pub fn remove_db(&self, name: &str) -> Result<(), String> {
        let mut st = self.lock();
        if st.dbs.remove(name).is_none() {
            return Err(format!("Failed to find the database '{name}'."));
        }
        Self::list_server_db(&mut st);
        st.db_order.remove(name);
        Self::cancel_db_users(
            &mut st,
            name,
            &format!("removing {name} database by user request"),
        );
        let del = json!([SERVER_DB, {"op": "delete", "table": "Database",
                                     "where": [["name", "==", name]]}]);
        let (_, commit) = st.server_db.transact(&del);
        if let Some(c) = commit {
            Self::notify_monitors(&mut st, SERVER_DB, &c.changes);
        }
        Self::release_pending(&mut st);
        Ok(())
    }

    /// Closes every database (at exit): each file is synced and its
    /// journal removed.
    pub fn close_all(&self) {
        let dbs = std::mem::take(&mut self.lock().dbs);
        drop(dbs);
    }

    /// Names of the served databases (without `_Server`), sorted.
    pub fn db_names(&self) -> Vec<String> {
        self.lock().dbs.keys().cloned().collect()
    }

    /// Compacts database `name` (all when `None`).
    pub fn compact(&self, name: Option<&str>) -> Result<(), String> {
        let mut st = self.lock();
        let names: Vec<String> = match name {
            Some(n) if st.dbs.contains_key(n) => vec![n.to_string()],
            Some(n) => return Err(format!("{n}: unknown database")),
            None => st.dbs.keys().cloned().collect(),
        };
        for n in names {
            if let Some(s) = st.dbs.get_mut(&n) {
                s.compact().map_err(|e| e.to_string())?;
            }
        }
        Ok(())
    }

    /// Counts for `memory/show`.
    pub fn memory_text(&self) -> String {
        let st = self.lock();
        let cells: usize = st
            .dbs
            .values()
            .map(|s| {
                s.db.tables
                    .iter()
                    .map(|(t, tbl)| {
                        tbl.len() * s.db.schema.table(t).map_or(0, |ts| ts.columns.len())
                    })
                    .sum::<usize>()
            })
            .sum();
        let monitors: usize = st.clients.values().map(|c| c.monitors.len()).sum();
        format!(
            "cells:{cells} monitors:{monitors} sessions:{}\n",
            st.clients.len()
        )
    }

    /// Registers a client; messages for it arrive on the returned receiver.
    pub fn connect(&self, name: &str) -> (ClientId, mpsc::UnboundedReceiver<Tagged>) {
        let (tx, rx) = mpsc::unbounded_channel();
        let mut st = self.lock();
        let id = st.next_client;
        st.next_client += 1;
        st.clients.insert(
            id,
            Client {
                name: name.to_string(),
                tx,
                monitors: Vec::new(),
                db_change_aware: false,
                read_only: false,
                role: String::new(),
            },
        );
        (id, rx)
    }

    /// Makes `client`'s transactions read-only, or not, and gives them
    /// its remote's role (the `read_only` and `role` options).
    pub fn set_access(&self, client: ClientId, read_only: bool, role: &str) {
        if let Some(c) = self.lock().clients.get_mut(&client) {
            c.read_only = read_only;
            if c.role != role {
                c.role = role.to_string();
            }
        }
    }

    /// The locks `client` holds, waits for and has lost (Manager status).
    pub fn lock_status(&self, client: ClientId) -> locks::LockStatus {
        self.lock().locks.client_status(client)
    }

    /// Forgets a client: its monitors go, its locks pass to the next waiter.
    pub fn disconnect(&self, client: ClientId) {
        let mut st = self.lock();
        st.clients.remove(&client);
        let events = st.locks.release_all(client);
        Self::deliver(&st, events);
    }

    /// Number of connected clients.
    pub fn n_clients(&self) -> usize {
        self.lock().clients.len()
    }

    /// A receiver that changes at every commit (to retry blocked `wait`s).
    pub fn commit_watch(&self) -> watch::Receiver<u64> {
        self.commits.subscribe()
    }

    fn deliver(st: &State, events: Vec<LockEvent>) {
        for (client, method, name) in events {
            if let Some(c) = st.clients.get(&client) {
                let msg = Message::notify(method, vec![Value::String(name)]);
                let _ = c.tx.send((st.seq, Outgoing::Message(msg)));
            }
        }
    }

    fn notify_monitors(st: &mut State, db_name: &str, changes: &Changes) {
        if changes.is_empty() {
            return;
        }
        let db = if db_name == SERVER_DB {
            &st.server_db
        } else {
            match st.dbs.get(db_name) {
                Some(s) => &s.db,
                None => return,
            }
        };
        let mut queued = Vec::new();
        for (cid, c) in st.clients.iter() {
            for m in c.monitors.iter().filter(|m| m.db == db_name) {
                let Some(updates) = m.updates(db, changes) else {
                    continue;
                };
                let msg = match m.version {
                    Version::V1 => Message::notify("update", vec![m.id.clone(), updates]),
                    Version::V2 => Message::notify("update2", vec![m.id.clone(), updates]),
                    Version::V3 => Message::notify(
                        "update3",
                        vec![m.id.clone(), Value::String(Uuid::ZERO.to_string()), updates],
                    ),
                };
                queued.push((*cid, msg));
            }
        }
        for (cid, msg) in queued {
            Self::queue(st, cid, Outgoing::Message(msg));
        }
    }

    /// Delivers, in order, what was queued for commits now durable.
    fn release_pending(st: &mut State) {
        while let Some((seq, _, _)) = st.pending.front() {
            if *seq > st.synced {
                break;
            }
            let Some((seq, client, o)) = st.pending.pop_front() else {
                break;
            };
            if let Some(c) = st.clients.get(&client) {
                let _ = c.tx.send((seq, o));
            }
        }
    }

    /// Handles one request or notification from `client`.
    /// `elapsed_ms` is the time since a blocked transaction was first tried.
    pub fn handle(&self, client: ClientId, msg: &Message, elapsed_ms: u64) -> Handled {
        let Message::Request { method, params, id } = msg else {
            return Handled::Nothing;
        };
        let id = id.clone();
        let reply = |r: Result<Value, Error>| match r {
            Ok(v) => Handled::Reply(Message::reply(v, id.clone())),
            Err(e) => Handled::Reply(error_reply(&e, id.clone())),
        };
        match method.as_str() {
            "list_dbs" => {
                let mut st = self.lock();
                Self::list_server_db(&mut st);
                let names = st.db_order.keys().map(Value::from).collect();
                reply(Ok(Value::Array(names)))
            }
            "get_schema" => reply(self.get_schema(params)),
            "get_server_id" => reply(Ok(Value::String(self.server_id.to_string()))),
            "set_db_change_aware" => reply(self.set_db_change_aware(client, params)),
            "convert" => reply(self.convert(params)),
            "transact" => self.transact(client, params, id.clone(), elapsed_ms),
            "monitor" | "monitor_cond" | "monitor_cond_since" => {
                let version = match method.as_str() {
                    "monitor" => Version::V1,
                    "monitor_cond" => Version::V2,
                    _ => Version::V3,
                };
                match self.monitor(client, params, version) {
                    Ok((initial, seq)) => Handled::ReplyAt(Message::reply(initial, id), seq),
                    Err(e) => Handled::Reply(error_reply(&e, id)),
                }
            }
            "monitor_cond_change" => reply(self.monitor_cond_change(client, params)),
            "monitor_cancel" => {
                let mut st = self.lock();
                let found = match (params.len(), st.clients.get_mut(&client)) {
                    (1, Some(c)) => {
                        let before = c.monitors.len();
                        c.monitors.retain(|m| m.id != params[0]);
                        Some(before != c.monitors.len())
                    }
                    _ => None,
                };
                match found {
                    Some(true) => Handled::Reply(Message::reply(json!({}), id)),
                    Some(false) => {
                        Handled::Reply(Message::error(Value::from("unknown monitor"), id))
                    }
                    None => Handled::Reply(Message::error(Value::from("invalid parameters"), id)),
                }
            }
            "lock" | "steal" | "unlock" => reply(self.lock_method(client, method, params)),
            "echo" => reply(Ok(Value::Array(params.clone()))),
            _ => Handled::Reply(Message::error(Value::from("unknown method"), id)),
        }
    }

    fn set_db_change_aware(&self, client: ClientId, params: &[Value]) -> Result<Value, Error> {
        let [Value::Bool(aware)] = params else {
            return Err(Error::syntax(
                Some(&Value::Array(params.to_vec())),
                "set_db_change_aware: true or false parameter expected",
            ));
        };
        if let Some(c) = self.lock().clients.get_mut(&client) {
            c.db_change_aware = *aware;
        }
        Ok(json!({}))
    }

    /// `convert` (ovsdb-server(7)): the database moves to a new schema,
    /// its file is rewritten as one snapshot, and every client learns of
    /// it as upstream's do: change-aware ones see their monitors of the
    /// database canceled (`monitor_canceled`) and their pending
    /// transactions on it fail with `canceled`; the others are
    /// disconnected. (Upstream's `_Server` row keeps the old schema text;
    /// so does ours.)
    fn convert(&self, params: &[Value]) -> Result<Value, Error> {
        let Some(name) = params.first().and_then(Value::as_str) else {
            return Err(Error::syntax(
                Some(&Value::Array(params.to_vec())),
                "convert request params must begin with <db-name>",
            ));
        };
        let mut st = self.lock();
        let current = if name == SERVER_DB {
            &st.server_db
        } else {
            match st.dbs.get(name) {
                Some(s) => &s.db,
                None => return Err(unknown_db("convert", name, params)),
            }
        };
        let Some(schema_json) = params.get(1) else {
            return Err(Error::syntax(
                Some(&Value::Array(params.to_vec())),
                "array expected",
            ));
        };
        let schema = match schema_json {
            Value::Object(_) => DatabaseSchema::from_json(schema_json)?,
            _ => {
                return Err(Error::new(
                    "syntax error",
                    "Parsing database schema failed: Object expected.",
                ))
            }
        };
        if schema.name != name {
            return Err(Error::new(
                "invalid parameters",
                format!(
                    "new schema name ({}) does not match database name ({name})",
                    schema.name
                ),
            ));
        }
        if name != SERVER_DB {
            let converted = crate::convert::convert(current, schema)?;
            let Some(storage) = st.dbs.get_mut(name) else {
                return Ok(json!({}));
            };
            storage.replace(converted, "converted by ovsdb-server")?;
        }
        let reason = format!("committed {name} database schema conversion");
        Self::cancel_db_users(&mut st, name, &reason);
        Self::release_pending(&mut st);
        self.committed(&mut st);
        Ok(json!({}))
    }

    /// Database `name` changes schema or goes away: change-aware clients
    /// lose their monitors of it (`monitor_canceled`) and their
    /// transactions waiting on it (`canceled`); the others are
    /// disconnected with `reason`. Queued after the updates already due.
    fn cancel_db_users(st: &mut State, name: &str, reason: &str) {
        let mut queued = Vec::new();
        for (cid, c) in st.clients.iter_mut() {
            let (gone, kept): (Vec<Monitor>, Vec<Monitor>) = std::mem::take(&mut c.monitors)
                .into_iter()
                .partition(|m| m.db == name);
            c.monitors = kept;
            if c.db_change_aware {
                for m in gone {
                    let msg = Message::notify("monitor_canceled", vec![m.id]);
                    queued.push((*cid, Outgoing::Message(msg)));
                }
                queued.push((*cid, Outgoing::CancelTriggers(name.to_string())));
            } else {
                queued.push((*cid, Outgoing::Disconnect(reason.to_string())));
            }
        }
        for (cid, o) in queued {
            Self::queue(st, cid, o);
        }
    }

    fn get_schema(&self, params: &[Value]) -> Result<Value, Error> {
        let Some(name) = params.first().and_then(Value::as_str) else {
            return Err(Error::syntax(
                Some(&Value::Array(params.to_vec())),
                "get_schema request params must begin with <db-name>",
            ));
        };
        let st = self.lock();
        if name == SERVER_DB {
            let mut j = st.server_db.schema.to_json();
            if let Value::Object(m) = &mut j {
                m.insert("cksum".into(), Value::from(SERVER_SCHEMA_CKSUM));
            }
            return Ok(j);
        }
        match st.dbs.get(name) {
            Some(s) => Ok(s.db.schema.to_json()),
            None => Err(unknown_db("get_schema", name, params)),
        }
    }

    fn transact(&self, client: ClientId, params: &[Value], id: Value, elapsed_ms: u64) -> Handled {
        let Some(name) = params.first().and_then(Value::as_str) else {
            return Handled::Reply(error_reply(
                &Error::syntax(
                    Some(&Value::Array(params.to_vec())),
                    "transact request params must begin with <db-name>",
                ),
                id,
            ));
        };
        let mut st = self.lock();
        if name == SERVER_DB {
            return Handled::Reply(Self::transact_server_db(&st, params, id));
        }
        if !st.dbs.contains_key(name) {
            return Handled::Reply(error_reply(&unknown_db("transact", name, params), id));
        }
        let state = &mut *st;
        let locks = &state.locks;
        let held = |lock: &str| locks.is_owner(client, lock);
        let me = state.clients.get(&client);
        let opts = ExecOptions {
            lock_held: Some(&held),
            elapsed_ms,
            read_only: me.is_some_and(|c| c.read_only),
            // Only TLS gives a client an identity; none of our streams do.
            access: crate::rbac::Access {
                role: me.map_or("", |c| c.role.as_str()),
                id: None,
            },
        };
        let Some(storage) = state.dbs.get_mut(name) else {
            return Handled::Nothing;
        };
        // Durability comes from the caller's `sync` before it replies.
        let outcome = storage.transact_unsynced(&Value::Array(params.to_vec()), &opts);
        match outcome {
            Err(e) => Handled::Reply(error_reply(&e, id)),
            Ok(TransactReply::Blocked { timeout_ms, .. }) => Handled::Blocked { timeout_ms },
            Ok(TransactReply::Done { results, changes }) => {
                if !changes.is_empty() {
                    self.committed(state);
                    Self::notify_monitors(state, name, &changes);
                }
                Handled::Reply(Message::reply(results, id))
            }
        }
    }

    /// `_Server` is read-only: reads run, the first write fails.
    fn transact_server_db(st: &State, params: &[Value], id: Value) -> Message {
        let write = params.iter().skip(1).position(|op| {
            matches!(
                op.get("op").and_then(Value::as_str),
                Some("insert" | "update" | "mutate" | "delete")
            )
        });
        let upto = write.map_or(params.len(), |i| i + 1);
        match st.server_db.execute(
            &Value::Array(params[..upto].to_vec()),
            &ExecOptions::default(),
        ) {
            Err(e) => error_reply(&e, id),
            Ok(crate::transaction::Outcome::Blocked { .. }) => Message::reply(
                json!([{"error": "not supported", "details": "triggers not supported"}]),
                id,
            ),
            Ok(crate::transaction::Outcome::Done { results, commit }) => {
                let mut results = results.as_array().cloned().unwrap_or_default();
                if let (Some(i), Some(_)) = (write, commit) {
                    let op = params[i + 1]
                        .get("op")
                        .and_then(Value::as_str)
                        .unwrap_or("");
                    results.push(json!({
                        "error": "not allowed",
                        "details": format!("{op} operation not allowed on table in reserved database _Server"),
                    }));
                }
                Message::reply(Value::Array(results), id)
            }
        }
    }

    /// `monitor`, `monitor_cond` and `monitor_cond_since`, checked in
    /// upstream's order: database, parameter count, monitor id, requests,
    /// then (v3) the last transaction id.
    ///
    /// Standalone databases keep no transaction history (upstream enables it
    /// for clustered and relay databases only), so `monitor_cond_since`
    /// always answers `found: false` with the all-zero id and the whole
    /// initial contents, and `update3` carries the all-zero id too.
    ///
    /// Returns the initial contents and the number of the last commit they
    /// include (the monitor's updates are of later commits).
    fn monitor(
        &self,
        client: ClientId,
        params: &[Value],
        version: Version,
    ) -> Result<(Value, u64), Error> {
        let method = match version {
            Version::V1 => "monitor",
            Version::V2 => "monitor_cond",
            Version::V3 => "monitor_cond_since",
        };
        let Some(name) = params.first().and_then(Value::as_str) else {
            return Err(Error::syntax(
                Some(&Value::Array(params.to_vec())),
                format!("{method} request params must begin with <db-name>"),
            ));
        };
        let mut st = self.lock();
        let db = if name == SERVER_DB {
            &st.server_db
        } else {
            match st.dbs.get(name) {
                Some(s) => &s.db,
                None => return Err(unknown_db(method, name, params)),
            }
        };
        let n_params = if version == Version::V3 { 4 } else { 3 };
        if params.len() != n_params {
            return Err(Error::syntax(
                Some(&Value::Array(params.to_vec())),
                "invalid parameters",
            ));
        }
        let (mid, requests) = (&params[1], &params[2]);
        if st
            .clients
            .get(&client)
            .is_some_and(|c| c.monitors.iter().any(|m| &m.id == mid))
        {
            return Err(Error::syntax(Some(mid), "duplicate monitor ID"));
        }
        let monitor = Monitor::parse(db, mid.clone(), version, requests)?;
        if version == Version::V3 {
            let last = &params[3];
            let Some(text) = last.as_str() else {
                return Err(Error::syntax(Some(last), "last-txn-id must be string"));
            };
            if Uuid::parse(text).is_none() {
                return Err(Error::syntax(
                    Some(last),
                    "last-txn-id must be UUID format.",
                ));
            }
        }
        let initial = monitor.initial(db);
        let initial = match version {
            Version::V3 => json!([false, Uuid::ZERO.to_string(), initial]),
            _ => initial,
        };
        if let Some(c) = st.clients.get_mut(&client) {
            c.monitors.push(monitor);
        }
        Ok((initial, st.seq))
    }

    fn monitor_cond_change(&self, client: ClientId, params: &[Value]) -> Result<Value, Error> {
        let (Some(old), Some(new), Some(requests)) = (params.first(), params.get(1), params.get(2))
        else {
            return Err(Error::syntax(
                Some(&Value::Array(params.to_vec())),
                "monitor_cond_change request params must be <monitor-id>, <new-monitor-id>, <condition-changes>",
            ));
        };
        let mut guard = self.lock();
        let st = &mut *guard;
        let Some(c) = st.clients.get_mut(&client) else {
            return Ok(json!({}));
        };
        let Some(m) = c.monitors.iter_mut().find(|m| &m.id == old) else {
            return Err(Error::syntax(Some(old), "unknown monitor session"));
        };
        let db = if m.db == SERVER_DB {
            &st.server_db
        } else {
            match st.dbs.get(&m.db) {
                Some(s) => &s.db,
                None => return Ok(json!({})),
            }
        };
        let delta = m.change_conditions(db, requests)?;
        m.id = new.clone();
        if delta.as_object().is_some_and(|o| !o.is_empty()) {
            let msg = match m.version {
                Version::V3 => Message::notify(
                    "update3",
                    vec![new.clone(), Value::String(Uuid::ZERO.to_string()), delta],
                ),
                _ => Message::notify("update2", vec![new.clone(), delta]),
            };
            // The difference is between the rows the old condition gave
            // and those the new one gives in the current state: it goes
            // behind the updates still held for earlier commits (made
            // under the old condition), and once what it shows is durable.
            Self::queue(st, client, Outgoing::Message(msg));
            Self::release_pending(st);
        }
        Ok(json!({}))
    }

    fn lock_method(
        &self,
        client: ClientId,
        method: &str,
        params: &[Value],
    ) -> Result<Value, Error> {
        let name = match params {
            [Value::String(s)] => s.clone(),
            _ => {
                return Err(Error::syntax(
                    Some(&Value::Array(params.to_vec())),
                    format!("{method} request params must be <id>"),
                ))
            }
        };
        let mut st = self.lock();
        match method {
            "lock" | "steal" => {
                if method == "lock" && st.locks.is_waiting(client, &name) {
                    return Err(Error::syntax(
                        Some(&Value::Array(params.to_vec())),
                        "must issue \"unlock\" before new \"lock\"",
                    ));
                }
                let locked = if method == "lock" {
                    st.locks.lock(client, &name)
                } else {
                    let events = st.locks.steal(client, &name);
                    Self::deliver(&st, events);
                    true
                };
                Ok(json!({ "locked": locked }))
            }
            _ => {
                if !st.locks.is_waiting(client, &name) {
                    return Err(Error::syntax(
                        Some(&Value::Array(params.to_vec())),
                        // Upstream's text for an unlock of a lock not asked for.
                        "unlock request params must be <id>",
                    ));
                }
                let events = st.locks.unlock(client, &name);
                Self::deliver(&st, events);
                Ok(json!({}))
            }
        }
    }

    /// The remotes named by a `db:DB,TABLE,COLUMN` spec: the strings in
    /// that column of every row, or, for a column of references, the
    /// `target` column of the referenced rows (the Manager table), with
    /// the options those rows set (`max_backoff`, `inactivity_probe`,
    /// `read_only`, `role`, `other_config:dscp`, where the table has such
    /// columns). A target listed twice keeps its first row's options.
    pub fn db_remotes(&self, spec: &str) -> Result<Vec<(String, RemoteOptions)>, String> {
        let body = spec.strip_prefix("db:").unwrap_or(spec);
        let parts: Vec<&str> = body.split(',').collect();
        let [db_name, table_name, column_name] = parts[..] else {
            return Err(format!("\"{spec}\": invalid syntax"));
        };
        let st = self.lock();
        let Some(storage) = st.dbs.get(db_name) else {
            return Err(format!("{spec}: no database named {db_name}"));
        };
        let db = &storage.db;
        let (Some(ts), Some(table)) = (db.schema.table(table_name), db.table(table_name)) else {
            return Err(format!("{spec}: no table named {table_name}"));
        };
        let Some(col) = ts.column(column_name) else {
            return Err(format!(
                "{spec}: table {table_name} has no column {column_name}"
            ));
        };
        let ty = ts.column_type(col);
        let mut out: BTreeMap<String, RemoteOptions> = BTreeMap::new();
        for row in table.rows.values() {
            let datum = row.get(col);
            for (key, _) in datum.iter() {
                if let Some(s) = key.as_str() {
                    out.entry(s.to_string()).or_default();
                } else if let (Some(uuid), Some(rt)) = (key.as_uuid(), ty.key.ref_table.as_deref())
                {
                    let found = db.schema.table(rt).and_then(|rts| {
                        let r = db.row(rt, &uuid)?;
                        let target = r
                            .get(rts.column("target")?)
                            .keys
                            .first()
                            .and_then(|a| a.as_str())?
                            .to_string();
                        Some((target, remote_options(rts, r)))
                    });
                    if let Some((target, opts)) = found {
                        out.entry(target).or_insert(opts);
                    }
                }
            }
        }
        Ok(out.into_iter().collect())
    }

    /// Writes the state of the remotes of a `db:DB,TABLE,COLUMN` spec back
    /// into the rows its column references (the Manager table): their
    /// `is_connected` and `status` columns, where the table has them, for
    /// rows whose `target` is in `statuses`. Only changed rows are written;
    /// both columns are ephemeral, so nothing reaches the disk.
    pub fn write_remote_status(
        &self,
        spec: &str,
        statuses: &BTreeMap<String, remotes::RemoteStatus>,
    ) {
        let body = spec.strip_prefix("db:").unwrap_or(spec);
        let parts: Vec<&str> = body.split(',').collect();
        let [db_name, table_name, column_name] = parts[..] else {
            return;
        };
        let mut guard = self.lock();
        let st = &mut *guard;
        let Some(storage) = st.dbs.get_mut(db_name) else {
            return;
        };
        let db = &storage.db;
        let (Some(ts), Some(table)) = (db.schema.table(table_name), db.table(table_name)) else {
            return;
        };
        let Some(col) = ts.column(column_name) else {
            return;
        };
        let Some(ref_name) = ts.column_type(col).key.ref_table.clone() else {
            return;
        };
        let (Some(rts), Some(_)) = (db.schema.table(&ref_name), db.table(&ref_name)) else {
            return;
        };
        let Some(target_col) = rts.column("target") else {
            return;
        };
        let connected_col = rts.column("is_connected").filter(|&c| {
            let t = rts.column_type(c);
            t.is_scalar() && t.key.atomic == crate::types::AtomicType::Boolean
        });
        let status_col = rts.column("status").filter(|&c| {
            let t = rts.column_type(c);
            t.is_map()
                && t.key.atomic == crate::types::AtomicType::String
                && t.value.as_ref().map(|v| v.atomic) == Some(crate::types::AtomicType::String)
        });
        let mut ops = Vec::new();
        for row in table.rows.values() {
            for (key, _) in row.get(col).iter() {
                let Some(uuid) = key.as_uuid() else { continue };
                let Some(r) = db.row(&ref_name, &uuid) else {
                    continue;
                };
                let target = r.get(target_col);
                let Some(target) = target.keys.first().and_then(|a| a.as_str()) else {
                    continue;
                };
                let Some((connected, status)) = statuses.get(target) else {
                    continue;
                };
                let mut new = serde_json::Map::new();
                if let Some(c) = connected_col {
                    let want = Value::Bool(*connected);
                    if r.get(c).to_json(&rts.column_type(c)) != want {
                        new.insert("is_connected".into(), want);
                    }
                }
                if let Some(c) = status_col {
                    let pairs: Vec<Value> = status.iter().map(|(k, v)| json!([k, v])).collect();
                    let want = json!(["map", pairs]);
                    if r.get(c).to_json(&rts.column_type(c)) != want {
                        new.insert("status".into(), want);
                    }
                }
                if !new.is_empty() {
                    ops.push(json!({"op": "update", "table": ref_name,
                        "where": [["_uuid", "==", ["uuid", uuid.to_string()]]], "row": new}));
                }
            }
        }
        if ops.is_empty() {
            return;
        }
        let mut params = vec![Value::from(db_name)];
        params.extend(ops);
        let outcome = storage.transact_unsynced(&Value::Array(params), &ExecOptions::default());
        if let Ok(TransactReply::Done { changes, .. }) = outcome {
            if !changes.is_empty() {
                self.committed(st);
                Self::notify_monitors(st, db_name, &changes);
                self.wake_sync(st);
            }
        }
    }

    /// The client's name (for logs).
    pub fn client_name(&self, client: ClientId) -> Option<String> {
        self.lock().clients.get(&client).map(|c| c.name.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn served_db() -> (Arc<Server>, std::path::PathBuf) {
        let d = std::env::temp_dir().join(format!("ovsdb-server-{}", Uuid::random()));
        std::fs::create_dir_all(&d).unwrap();
        let path = d.join("t.db");
        let schema = DatabaseSchema::from_json(&json!({"name": "T", "tables": {
            "R": {"columns": {"n": {"type": "integer"}}}}}))
        .unwrap();
        crate::storage::create(path.to_str().unwrap(), &schema).unwrap();
        let server = Server::without_sync_thread();
        server.add_db(path.to_str().unwrap()).unwrap();
        (server, d)
    }

    fn insert(server: &Server, client: ClientId, n: i64) {
        let msg = Message::Request {
            method: "transact".into(),
            params: vec![
                json!("T"),
                json!({"op": "insert", "table": "R", "row": {"n": n}}),
            ],
            id: json!(n),
        };
        assert!(matches!(server.handle(client, &msg, 0), Handled::Reply(_)));
    }

    #[test]
    fn monitors_hear_of_a_commit_only_once_the_committer_made_it_durable() {
        let (server, d) = served_db();
        let (writer, _) = server.connect("writer");
        let (watcher, mut updates) = server.connect("watcher");
        let monitor = Message::Request {
            method: "monitor".into(),
            params: vec![json!("T"), json!("m"), json!({"R": {}})],
            id: json!(0),
        };
        assert!(matches!(
            server.handle(watcher, &monitor, 0),
            Handled::ReplyAt(_, 0)
        ));
        insert(&server, writer, 1);
        insert(&server, writer, 2);
        let seq = server.last_commit();
        assert_eq!(server.lock().synced, seq - 2);
        assert!(updates.try_recv().is_err());
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        rt.block_on(server.durable(seq)).unwrap();
        let st = server.lock();
        assert_eq!(st.synced, seq);
        assert!(!st.syncing);
        drop(st);
        for _ in 0..2 {
            assert!(matches!(updates.try_recv(), Ok((_, Outgoing::Message(_)))));
        }
        // Durable already: no new round.
        rt.block_on(server.durable(seq)).unwrap();
        drop(server);
        std::fs::remove_dir_all(d).unwrap();
    }

    #[test]
    fn a_monitor_reply_names_the_last_commit_its_contents_include() {
        let (server, d) = served_db();
        let (writer, _) = server.connect("writer");
        let (watcher, mut queue) = server.connect("watcher");
        insert(&server, writer, 1);
        let registered = server.last_commit();
        let monitor = Message::Request {
            method: "monitor_cond".into(),
            params: vec![json!("T"), json!("m"), json!({"R": [{}]})],
            id: json!(0),
        };
        let Handled::ReplyAt(Message::Reply { result, .. }, seq) =
            server.handle(watcher, &monitor, 0)
        else {
            panic!("a reply bound to a commit");
        };
        assert_eq!(seq, registered);
        assert_eq!(result["R"].as_object().map(|rows| rows.len()), Some(1));
        // The next commit's update is given with its own, later number.
        insert(&server, writer, 2);
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        rt.block_on(server.durable(server.last_commit())).unwrap();
        let Ok((given, Outgoing::Message(Message::Notify { method, .. }))) = queue.try_recv()
        else {
            panic!("the update of the second insert");
        };
        assert_eq!((given, method.as_str()), (registered + 1, "update2"));
        assert!(queue.try_recv().is_err());
        drop(server);
        std::fs::remove_dir_all(d).unwrap();
    }

    #[test]
    fn a_condition_change_goes_behind_the_updates_held_for_earlier_commits() {
        let (server, d) = served_db();
        let (writer, _) = server.connect("writer");
        let (watcher, mut queue) = server.connect("watcher");
        let monitor = Message::Request {
            method: "monitor_cond".into(),
            params: vec![json!("T"), json!("m"), json!({"R": [{}]})],
            id: json!(0),
        };
        assert!(matches!(
            server.handle(watcher, &monitor, 0),
            Handled::ReplyAt(..)
        ));
        // Not yet durable: its update ("insert") is held.
        insert(&server, writer, 1);
        let change = Message::Request {
            method: "monitor_cond_change".into(),
            params: vec![
                json!("m"),
                json!("m"),
                json!({"R": [{"where": [["n", "<", 0]]}]}),
            ],
            id: json!(1),
        };
        assert!(matches!(
            server.handle(watcher, &change, 0),
            Handled::Reply(_)
        ));
        // Nothing before the commit is durable, then the insert, then the
        // change's "delete" of the same row.
        assert!(queue.try_recv().is_err());
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        rt.block_on(server.durable(server.last_commit())).unwrap();
        let mut kinds = Vec::new();
        while let Ok((_, Outgoing::Message(Message::Notify { params, .. }))) = queue.try_recv() {
            let rows = params[1]["R"].as_object().cloned().unwrap_or_default();
            kinds.extend(
                rows.values()
                    .filter_map(|r| r.as_object()?.keys().next().cloned()),
            );
        }
        assert_eq!(kinds, ["insert", "delete"]);
        drop(server);
        std::fs::remove_dir_all(d).unwrap();
    }

    #[test]
    fn the_sync_thread_makes_durable_what_nobody_waits_for() {
        let (server, d) = served_db();
        let (writer, _) = server.connect("writer");
        insert(&server, writer, 1);
        server.wake_sync(&mut server.lock());
        assert!(server.lock().sync_work);
        server.sync_round(Duration::from_secs(3600));
        let st = server.lock();
        assert_eq!(st.synced, st.seq);
        assert!(!st.sync_work);
        drop(st);
        assert_eq!(*server.synced.borrow(), server.last_commit());
        drop(server);
        std::fs::remove_dir_all(d).unwrap();
    }

    #[test]
    fn concurrent_waiters_all_return_once_durable() {
        let (server, d) = served_db();
        let (writer, _) = server.connect("writer");
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .unwrap();
        let tasks: Vec<_> = (0..8)
            .map(|i| {
                let server = server.clone();
                rt.spawn(async move {
                    for n in 0..20 {
                        insert(&server, writer, i * 100 + n);
                        let seq = server.last_commit();
                        server.durable(seq).await.unwrap();
                        assert!(server.lock().synced >= seq);
                    }
                })
            })
            .collect();
        for t in tasks {
            rt.block_on(t).unwrap();
        }
        let st = server.lock();
        assert_eq!(st.synced, st.seq);
        drop(st);
        drop(server);
        std::fs::remove_dir_all(d).unwrap();
    }
}
