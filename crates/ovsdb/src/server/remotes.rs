//! The server's remotes (`--remote`, `ovsdb-server/add-remote`): passive
//! names listen and serve every accepted connection; active names connect
//! out and reconnect with backoff; `db:DB,TABLE,COLUMN` names follow the
//! remotes listed in the database (strings, or the `target` of referenced
//! Manager rows), re-read after every commit, and every 2.5 s write each
//! one's state back into the referenced rows' `is_connected` and `status`
//! columns, as upstream's ovsdb-server does. The rows' options
//! ([`RemoteOptions`]: `inactivity_probe`, `max_backoff`,
//! `other_config:dscp`, `read_only`, `role`) apply to the remote and its
//! sessions, also when they change, except `read_only` and `role`, which
//! (as upstream's) keep the values the remote was created with until its
//! DSCP changes. Each remote runs as a task that is
//! aborted when the remote is removed.

use super::jsonrpc::{serve_session_with, SessionConfig};
use super::locks::ClientId;
use super::Server;
use rpc::address::{is_passive_name, open_active_name, open_passive_name};
use rpc::stream::Listener;
use rpc::{Connection, Session, SessionStatus, OVSDB_PORT};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU16, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// How often the state of `db:` remotes is written back (upstream's 2.5 s).
const STATUS_INTERVAL: Duration = Duration::from_millis(2500);

/// The options a remote's database row sets; `None`/default: upstream's
/// defaults (probes every 5 s except over Unix sockets, backoff up to 8 s,
/// DSCP 48, read-write).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RemoteOptions {
    /// `max_backoff` (ms), for active remotes' reconnection.
    pub max_backoff: Option<u64>,
    /// `inactivity_probe` (ms; 0 disables probes).
    pub inactivity_probe: Option<u64>,
    /// `other_config:dscp` (0 to 63).
    pub dscp: Option<u8>,
    /// `read_only`: transactions that write fail with "not allowed".
    pub read_only: bool,
    /// `role`: the role-based access control role of the remote's
    /// clients (see [`crate::rbac`]); empty: none.
    pub role: String,
}

/// The live state of one remote, shared between its task and the writer of
/// the status columns.
pub enum RemoteState {
    /// A listener: the port it bound (TCP) and its open sessions.
    Passive {
        bound_port: Arc<AtomicU16>,
        sessions: Arc<AtomicUsize>,
    },
    /// An outgoing, reconnecting session, and its current client.
    Active(Arc<Mutex<SessionStatus>>, Arc<Mutex<Option<ClientId>>>),
}

/// The status columns of a remote's row: `is_connected` and the `status`
/// map, with upstream's keys (`state`, `sec_since_connect`,
/// `sec_since_disconnect`, `locks_held`, `locks_waiting`, `locks_lost`,
/// `n_connections`, `bound_port`).
pub type RemoteStatus = (bool, BTreeMap<String, String>);

impl RemoteState {
    fn new(passive: bool) -> RemoteState {
        if passive {
            RemoteState::Passive {
                bound_port: Arc::new(AtomicU16::new(0)),
                sessions: Arc::new(AtomicUsize::new(0)),
            }
        } else {
            RemoteState::Active(
                Arc::new(Mutex::new(SessionStatus {
                    state: "VOID",
                    connected: false,
                    last_connected: None,
                    last_disconnected: None,
                })),
                Arc::new(Mutex::new(None)),
            )
        }
    }

    /// The row values upstream would write now.
    pub fn status(&self, server: &Server, now: Instant) -> RemoteStatus {
        let mut map = BTreeMap::new();
        match self {
            RemoteState::Passive {
                bound_port,
                sessions,
            } => {
                // Upstream reports no per-session detail for listeners.
                let n = sessions.load(Ordering::Relaxed);
                map.insert("sec_since_connect".into(), "0".into());
                map.insert("sec_since_disconnect".into(), "0".into());
                if n > 1 {
                    map.insert("n_connections".into(), n.to_string());
                }
                let port = bound_port.load(Ordering::Relaxed);
                if port != 0 {
                    map.insert("bound_port".into(), port.to_string());
                }
                (n > 0, map)
            }
            RemoteState::Active(status, client) => {
                let st = status.lock().unwrap_or_else(|e| e.into_inner()).clone();
                let secs = |t: Instant| now.saturating_duration_since(t).as_secs().to_string();
                map.insert("state".into(), st.state.to_string());
                if let Some(t) = st.last_connected {
                    map.insert("sec_since_connect".into(), secs(t));
                }
                if let Some(t) = st.last_disconnected {
                    map.insert("sec_since_disconnect".into(), secs(t));
                }
                let client = *client.lock().unwrap_or_else(|e| e.into_inner());
                if let Some(c) = client {
                    let locks = server.lock_status(c);
                    for (key, names) in [
                        ("locks_held", locks.held),
                        ("locks_waiting", locks.waiting),
                        ("locks_lost", locks.lost),
                    ] {
                        if !names.is_empty() {
                            map.insert(key.into(), names.join(" "));
                        }
                    }
                }
                (st.connected, map)
            }
        }
    }
}

/// The running remotes, by name as given.
#[derive(Default)]
pub struct Remotes {
    running: Mutex<BTreeMap<String, JoinHandle<()>>>,
}

impl Remotes {
    pub fn new() -> Arc<Remotes> {
        Arc::new(Remotes::default())
    }

    /// The remote names, sorted (`ovsdb-server/list-remotes`).
    pub fn names(&self) -> Vec<String> {
        self.running
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .keys()
            .cloned()
            .collect()
    }

    /// Starts serving `name`. Must run inside the runtime. A name that is
    /// already there is left alone.
    pub fn add(&self, server: &Arc<Server>, name: &str) {
        let mut running = self.running.lock().unwrap_or_else(|e| e.into_inner());
        if running.contains_key(name) {
            return;
        }
        let task = if name.starts_with("db:") {
            tokio::spawn(follow_db(server.clone(), name.to_string()))
        } else {
            spawn_remote(server, name)
        };
        running.insert(name.to_string(), task);
    }

    /// Like [`add`](Self::add), but a passive remote is bound before this
    /// returns (so a daemon can report readiness only once it listens).
    pub async fn add_bound(&self, server: &Arc<Server>, name: &str) {
        if !is_passive_name(name) || self.names().iter().any(|n| n == name) {
            return self.add(server, name);
        }
        let bound = match open_passive_name(name, Some(OVSDB_PORT)) {
            Ok(addr) => Listener::bind(&addr).await.ok(),
            Err(_) => None,
        };
        let task = match bound {
            Some(l) => tokio::spawn(accept_loop(server.clone(), l, name.to_string())),
            None => spawn_remote(server, name),
        };
        let mut running = self.running.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(old) = running.insert(name.to_string(), task) {
            old.abort();
        }
    }

    /// Stops serving `name`; false if it was not a remote.
    pub fn remove(&self, name: &str) -> bool {
        let mut running = self.running.lock().unwrap_or_else(|e| e.into_inner());
        match running.remove(name) {
            Some(t) => {
                t.abort();
                true
            }
            None => false,
        }
    }

    /// Stops everything.
    pub fn clear(&self) {
        let mut running = self.running.lock().unwrap_or_else(|e| e.into_inner());
        for (_, t) in std::mem::take(&mut *running) {
            t.abort();
        }
    }
}

/// Whether connections of remote `name` get inactivity probes: as upstream,
/// not over Unix domain sockets (a dead local peer is seen at once).
fn needs_probes(name: &str) -> bool {
    !(name.starts_with("unix:") || name.starts_with("punix:"))
}

fn spawn_remote(server: &Arc<Server>, name: &str) -> JoinHandle<()> {
    let (_, options) = watch::channel(RemoteOptions::default());
    spawn_remote_with_state(server, name, options).0
}

/// The probe interval of `name`'s sessions without an `inactivity_probe`.
fn default_probe_ms(name: &str) -> u64 {
    if needs_probes(name) {
        rpc::reconnect::DEFAULT_PROBE_INTERVAL
    } else {
        0
    }
}

/// Starts remote `name` following `options`; its state is kept in the
/// returned [`RemoteState`].
fn spawn_remote_with_state(
    server: &Arc<Server>,
    name: &str,
    options: watch::Receiver<RemoteOptions>,
) -> (JoinHandle<()>, RemoteState) {
    let state = RemoteState::new(is_passive_name(name));
    let task = match &state {
        RemoteState::Passive {
            bound_port,
            sessions,
        } => {
            let (server, name) = (server.clone(), name.to_string());
            let (bound_port, sessions) = (bound_port.clone(), sessions.clone());
            tokio::spawn(async move {
                let listener = bind(&name).await;
                if let Some(a) = listener.local_tcp_addr() {
                    bound_port.store(a.port(), Ordering::Relaxed);
                }
                accept_loop_with(server, listener, name, Some(sessions), options).await
            })
        }
        RemoteState::Active(status, client) => {
            let config = SessionConfig {
                options: Some(options),
                default_probe_ms: default_probe_ms(name),
                client_slot: Some(client.clone()),
            };
            tokio::spawn(connect(
                server.clone(),
                name.to_string(),
                Some(status.clone()),
                config,
            ))
        }
    };
    (task, state)
}

/// A remote started on behalf of a `db:` spec: its task, state, and the
/// options it follows.
struct DerivedRemote {
    task: JoinHandle<()>,
    state: RemoteState,
    options: watch::Sender<RemoteOptions>,
}

/// Remotes started on behalf of a `db:` spec; stopped with it.
struct Derived(BTreeMap<String, DerivedRemote>);

impl Drop for Derived {
    fn drop(&mut self) {
        for r in self.0.values() {
            r.task.abort();
        }
    }
}

/// Keeps the remotes named in the database (`db:DB,TABLE,COLUMN`) running,
/// re-reading the column after every commit, and writes their state back
/// every [`STATUS_INTERVAL`].
async fn follow_db(server: Arc<Server>, spec: String) {
    let mut commits = server.commit_watch();
    let mut derived = Derived(BTreeMap::new());
    let mut last_error = None;
    let mut next_status = Instant::now() + STATUS_INTERVAL;
    loop {
        match server.db_remotes(&spec) {
            Ok(remotes) => {
                last_error = None;
                derived.0.retain(|n, r| {
                    let keep = remotes.iter().any(|(name, _)| name == n);
                    if !keep {
                        r.task.abort();
                    }
                    keep
                });
                for (n, opts) in remotes {
                    match derived.0.get(&n) {
                        Some(r) => {
                            r.options.send_if_modified(|o| {
                                // Upstream fixes a remote's `read_only` and
                                // `role` when it creates the remote; a new
                                // DSCP makes it a new remote, with the
                                // row's values of the moment.
                                let mut next = opts;
                                if next.dscp == o.dscp {
                                    next.read_only = o.read_only;
                                    next.role.clone_from(&o.role);
                                }
                                let changed = *o != next;
                                *o = next;
                                changed
                            });
                        }
                        None => {
                            let (tx, rx) = watch::channel(opts);
                            let (task, state) = spawn_remote_with_state(&server, &n, rx);
                            derived.0.insert(
                                n,
                                DerivedRemote {
                                    task,
                                    state,
                                    options: tx,
                                },
                            );
                        }
                    }
                }
            }
            Err(e) => {
                // Disabled until the column can be read again (a removed
                // database added back).
                for (_, r) in std::mem::take(&mut derived.0) {
                    r.task.abort();
                }
                if last_error.as_ref() != Some(&e) {
                    vlog::warn!("ovsdb_server", "{e}");
                    last_error = Some(e);
                }
            }
        }
        tokio::select! {
            r = commits.changed() => {
                if r.is_err() {
                    return;
                }
            }
            _ = tokio::time::sleep_until(next_status) => {
                next_status = Instant::now() + STATUS_INTERVAL;
                let now = Instant::now();
                let statuses: BTreeMap<String, RemoteStatus> = derived
                    .0
                    .iter()
                    .map(|(n, r)| (n.clone(), r.state.status(&server, now)))
                    .collect();
                server.write_remote_status(&spec, &statuses);
            }
        }
    }
}

/// Binds `name`, retrying with backoff (1 s doubling to 8 s) while it fails.
async fn bind(name: &str) -> Listener {
    let mut backoff = 1u64;
    loop {
        let listener = match open_passive_name(name, Some(OVSDB_PORT)) {
            Ok(addr) => Listener::bind(&addr).await,
            Err(e) => Err(std::io::Error::from_raw_os_error(e.errno())),
        };
        match listener {
            Ok(l) => return l,
            Err(e) => {
                vlog::err!(
                    "ovsdb_jsonrpc_server",
                    "{name}: listen failed: {}",
                    rpc::errno::io_error_text(&e)
                );
                tokio::time::sleep(std::time::Duration::from_secs(backoff)).await;
                backoff = (backoff * 2).min(8);
            }
        }
    }
}

async fn accept_loop(server: Arc<Server>, listener: Listener, name: String) {
    let (_keep, options) = watch::channel(RemoteOptions::default());
    accept_loop_with(server, listener, name, None, options).await
}

/// Serves every connection `listener` accepts, with `options`; `sessions`
/// counts those still open.
async fn accept_loop_with(
    server: Arc<Server>,
    listener: Listener,
    name: String,
    sessions: Option<Arc<AtomicUsize>>,
    mut options: watch::Receiver<RemoteOptions>,
) {
    let dscp = |o: &RemoteOptions| o.dscp.unwrap_or(rpc::DSCP_DEFAULT);
    let mut marked = dscp(&options.borrow_and_update());
    let _ = listener.set_dscp(marked);
    let mut watching = true;
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            r = options.changed(), if watching => {
                if r.is_err() {
                    // No more changes: the last options stay.
                    watching = false;
                    continue;
                }
                let d = dscp(&options.borrow_and_update());
                if d != marked {
                    marked = d;
                    let _ = listener.set_dscp(d);
                }
                continue;
            }
        };
        match accepted {
            Ok((stream, peer)) => {
                let conn = Connection::new(stream, peer);
                let session = Session::accepted(conn);
                let config = SessionConfig {
                    options: Some(options.clone()),
                    default_probe_ms: default_probe_ms(&name),
                    client_slot: None,
                };
                let server = server.clone();
                let sessions = sessions.clone();
                tokio::spawn(async move {
                    let _open = sessions.map(SessionCount::new);
                    serve_session_with(server, session, config).await
                });
            }
            Err(e) => {
                vlog::warn!(
                    "ovsdb_jsonrpc_server",
                    "{name}: accept failed: {}",
                    rpc::errno::io_error_text(&e)
                );
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
        }
    }
}

/// Counts an open session while it lives.
struct SessionCount(Arc<AtomicUsize>);

impl SessionCount {
    fn new(n: Arc<AtomicUsize>) -> SessionCount {
        n.fetch_add(1, Ordering::Relaxed);
        SessionCount(n)
    }
}

impl Drop for SessionCount {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

async fn connect(
    server: Arc<Server>,
    name: String,
    status: Option<Arc<Mutex<SessionStatus>>>,
    config: SessionConfig,
) {
    if open_active_name(&name, Some(OVSDB_PORT)).is_err() {
        return;
    }
    match Session::open(&name, Some(OVSDB_PORT)) {
        Ok(mut session) => {
            if let Some(s) = status {
                session.set_status_sink(s);
            }
            serve_session_with(server, session, config).await
        }
        Err(e) => vlog::err!("ovsdb_jsonrpc_server", "{name}: {e}"),
    }
}
