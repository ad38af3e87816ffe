//! The server's remotes (`--remote`, `ovsdb-server/add-remote`): passive
//! names listen and serve every accepted connection; active names connect
//! out and reconnect with backoff; `db:DB,TABLE,COLUMN` names follow the
//! remotes listed in the database (strings, or the `target` of referenced
//! Manager rows), re-read after every commit. Each remote runs as a task
//! that is aborted when the remote is removed.

use super::jsonrpc::serve_session;
use super::Server;
use rpc::address::{is_passive_name, open_active_name, open_passive_name};
use rpc::stream::Listener;
use rpc::{Connection, Session, OVSDB_PORT};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use tokio::task::JoinHandle;

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
    if is_passive_name(name) {
        tokio::spawn(listen(server.clone(), name.to_string()))
    } else {
        tokio::spawn(connect(server.clone(), name.to_string()))
    }
}

/// Remotes started on behalf of a `db:` spec; stopped with it.
struct Derived(BTreeMap<String, JoinHandle<()>>);

impl Drop for Derived {
    fn drop(&mut self) {
        for t in self.0.values() {
            t.abort();
        }
    }
}

/// Keeps the remotes named in the database (`db:DB,TABLE,COLUMN`) running,
/// re-reading the column after every commit.
async fn follow_db(server: Arc<Server>, spec: String) {
    let mut commits = server.commit_watch();
    let mut derived = Derived(BTreeMap::new());
    let mut last_error = None;
    loop {
        match server.db_remotes(&spec) {
            Ok(names) => {
                last_error = None;
                derived.0.retain(|n, t| {
                    let keep = names.contains(n);
                    if !keep {
                        t.abort();
                    }
                    keep
                });
                for n in names {
                    if !derived.0.contains_key(&n) {
                        let t = spawn_remote(&server, &n);
                        derived.0.insert(n, t);
                    }
                }
            }
            Err(e) => {
                if last_error.as_ref() != Some(&e) {
                    vlog::warn!("ovsdb_server", "{e}");
                    last_error = Some(e);
                }
            }
        }
        if commits.changed().await.is_err() {
            return;
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

async fn listen(server: Arc<Server>, name: String) {
    let listener = bind(&name).await;
    accept_loop(server, listener, name).await
}

async fn accept_loop(server: Arc<Server>, listener: Listener, name: String) {
    loop {
        match listener.accept().await {
            Ok((stream, peer)) => {
                let conn = Connection::new(stream, peer);
                let mut session = Session::accepted(conn);
                if !needs_probes(&name) {
                    session.set_probe_interval(0);
                }
                tokio::spawn(serve_session(server.clone(), session));
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

async fn connect(server: Arc<Server>, name: String) {
    if open_active_name(&name, Some(OVSDB_PORT)).is_err() {
        return;
    }
    match Session::open(&name, Some(OVSDB_PORT)) {
        Ok(mut session) => {
            if !needs_probes(&name) {
                session.set_probe_interval(0);
            }
            serve_session(server, session).await
        }
        Err(e) => vlog::err!("ovsdb_jsonrpc_server", "{name}: {e}"),
    }
}
