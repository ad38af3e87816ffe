//! The server's remotes (`--remote`, `ovsdb-server/add-remote`): passive
//! names listen and serve every accepted connection; active names connect
//! out and reconnect with backoff. Each remote runs as a task that is
//! aborted when the remote is removed.

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
            // Remotes read from the database are not followed yet: listed only.
            let n = name.to_string();
            tokio::spawn(async move {
                vlog::dbg!(
                    "ovsdb_jsonrpc_server",
                    "{n}: database remotes are not supported yet"
                );
            })
        } else if is_passive_name(name) {
            tokio::spawn(listen(server.clone(), name.to_string()))
        } else {
            tokio::spawn(connect(server.clone(), name.to_string()))
        };
        running.insert(name.to_string(), task);
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
    loop {
        match listener.accept().await {
            Ok((stream, peer)) => {
                let conn = Connection::new(stream, peer);
                tokio::spawn(serve_session(server.clone(), Session::accepted(conn)));
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
        Ok(session) => serve_session(server, session).await,
        Err(e) => vlog::err!("ovsdb_jsonrpc_server", "{name}: {e}"),
    }
}
