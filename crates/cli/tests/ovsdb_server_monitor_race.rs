//! Monitors started or changed while another client commits, against the
//! reference and ours: a client must never hear of a row it has not been
//! given. One client commits without pause (each transaction inserts a
//! row, modifies the previous one and deletes an older one) while another
//! (1) starts monitors one after another (`monitor`, `monitor_cond`,
//! `monitor_cond_since` in turn), each cancelled once answered, and (2)
//! switches a `monitor_cond`'s condition between every row and none
//! (`monitor_cond_change`). Every update must come after its monitor's
//! reply, insert only rows the client does not have, and modify or delete
//! only rows it has (else ovs-vswitchd's IDL logs "cannot modify missing
//! row" and misses the change). Skips without the reference.

use rpc::framing::Framer;
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use testkit::{Sandbox, Stack};

const SCHEMA: &str = r#"{"name":"R","version":"1.0.0","tables":{
 "T":{"isRoot":true,"columns":{"n":{"type":"integer"},"v":{"type":"integer"}}}}}"#;

/// Monitors started one after another.
const MONITORS: usize = 150;
/// Condition changes of the conditional monitor.
const CHANGES: usize = 150;
/// Transactions the writer keeps in flight.
const WINDOW: u64 = 8;

struct Conn {
    sock: UnixStream,
    framer: Framer,
}

impl Conn {
    fn connect(path: &str) -> Conn {
        Conn {
            sock: UnixStream::connect(path).unwrap(),
            framer: Framer::new(64 << 20),
        }
    }

    fn send(&mut self, v: &Value) {
        let mut b = serde_json::to_vec(v).unwrap();
        b.push(b'\n');
        self.sock.write_all(&b).unwrap();
    }

    /// The next message (panics if the server closes the connection).
    fn recv(&mut self) -> Value {
        let mut buf = [0u8; 65536];
        loop {
            if let Some(v) = self.framer.next_value().unwrap() {
                return v;
            }
            let n = self.sock.read(&mut buf).unwrap();
            assert!(n > 0, "the server closed the connection");
            self.framer.push(&buf[..n]);
        }
    }
}

/// Commits until `stop`, `WINDOW` transactions in flight; returns how many.
fn writer(path: String, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<u64> {
    std::thread::spawn(move || {
        let mut c = Conn::connect(&path);
        let mut k = 0u64;
        while !stop.load(Ordering::Relaxed) {
            for _ in 0..WINDOW {
                k += 1;
                let n = k as i64;
                c.send(&json!({"method": "transact", "id": k, "params": ["R",
                    {"op": "insert", "table": "T", "row": {"n": n}},
                    {"op": "update", "table": "T", "where": [["n", "==", n - 1]], "row": {"v": n}},
                    {"op": "delete", "table": "T", "where": [["n", "<=", n - 3]]}]}));
            }
            for _ in 0..WINDOW {
                let r = c.recv();
                assert!(r["error"].is_null(), "writer: {r}");
            }
        }
        k
    })
}

/// What the client was told by one monitor: the rows it has.
#[derive(Default)]
struct Replica {
    answered: bool,
    rows: BTreeSet<String>,
}

/// The client side: replicas per monitor id, and what went wrong.
#[derive(Default)]
struct Client {
    replicas: BTreeMap<String, Replica>,
    cancelled: BTreeSet<String>,
    updates: usize,
    /// How many problems, and the first few.
    n_problems: usize,
    problems: Vec<String>,
}

impl Client {
    fn problem(&mut self, p: String) {
        self.n_problems += 1;
        if self.problems.len() < 20 {
            self.problems.push(p);
        }
    }

    /// Applies table updates (`update` when `v1`, else `update2`) of
    /// monitor `mid`.
    fn apply(&mut self, mid: &str, updates: &Value, v1: bool, what: &str) {
        let mut problems = Vec::new();
        let r = self.replicas.entry(mid.to_string()).or_default();
        for rows in updates.as_object().into_iter().flat_map(Map::values) {
            for (uuid, change) in rows.as_object().into_iter().flatten() {
                let (insert, delete) = if v1 {
                    let (old, new) = (change.get("old").is_some(), change.get("new").is_some());
                    (new && !old, old && !new)
                } else {
                    let kind = change.as_object().and_then(|o| o.keys().next().cloned());
                    match kind.as_deref() {
                        Some("initial" | "insert") => (true, false),
                        Some("delete") => (false, true),
                        _ => (false, false),
                    }
                };
                let known = r.rows.contains(uuid);
                if insert {
                    if known {
                        problems.push(format!("{what} of {mid}: insert of a row it has: {uuid}"));
                    }
                    r.rows.insert(uuid.clone());
                } else if !known {
                    problems.push(format!(
                        "{what} of {mid}: {change} of a row it lacks: {uuid}"
                    ));
                } else if delete {
                    r.rows.remove(uuid);
                }
            }
        }
        for p in problems {
            self.problem(p);
        }
    }

    /// Takes in one message from the server; true if it is the reply `id`.
    fn take(&mut self, v: &Value, id: &Value) -> bool {
        let (method, params) = (v["method"].as_str(), &v["params"]);
        if let Some(m @ ("update" | "update2" | "update3")) = method {
            self.updates += 1;
            let mid = params[0].as_str().unwrap_or("?").to_string();
            if self.cancelled.contains(&mid) {
                self.problem(format!("{m} of {mid} after its cancel was answered"));
            } else if !self.replicas.get(&mid).is_some_and(|r| r.answered) {
                self.problem(format!("{m} of {mid} before the monitor's reply: {v}"));
            }
            let updates = if m == "update3" {
                &params[2]
            } else {
                &params[1]
            };
            self.apply(&mid, updates, m == "update", m);
            return false;
        }
        if method.is_some() {
            return false;
        }
        assert!(v["error"].is_null(), "request {id} failed: {v}");
        &v["id"] == id
    }

    /// Reads until the reply to `id`, which it returns.
    fn until_reply(&mut self, c: &mut Conn, id: &Value) -> Value {
        loop {
            let v = c.recv();
            if self.take(&v, id) {
                return v;
            }
        }
    }
}

fn monitor_request(i: usize, mid: &str) -> Value {
    let columns = json!(["n", "v"]);
    match i % 3 {
        0 => json!({"method": "monitor", "id": i,
                    "params": ["R", mid, {"T": {"columns": columns}}]}),
        1 => json!({"method": "monitor_cond", "id": i,
                    "params": ["R", mid, {"T": [{"columns": columns}]}]}),
        _ => json!({"method": "monitor_cond_since", "id": i,
                    "params": ["R", mid, {"T": [{"columns": columns}]},
                               "00000000-0000-0000-0000-000000000000"]}),
    }
}

/// Runs both clients against `stack`'s server; the monitoring client's
/// findings and how many updates and commits there were.
fn run(stack: Stack, tag: &str) -> (usize, Vec<String>, usize, u64) {
    let mut sb = Sandbox::empty(tag, stack.clone());
    let schema = sb.path("r.ovsschema");
    std::fs::write(&schema, SCHEMA).unwrap();
    let db = sb.path("r.db");
    sb.run(&stack.ovsdb_tool, &["create", &db, &schema])
        .ok("create")
        .unwrap();
    sb.start_ovsdb_server_with(&[&format!("--remote=punix:{}", sb.path("db.sock")), &db]);
    let path = sb.path("db.sock");
    let stop = Arc::new(AtomicBool::new(false));
    let w = writer(path.clone(), stop.clone());
    let mut c = Conn::connect(&path);
    let mut client = Client::default();
    // (1) Monitors started while the writer commits.
    for i in 0..MONITORS {
        let mid = format!("m{i}");
        c.send(&monitor_request(i, &mid));
        let reply = client.until_reply(&mut c, &json!(i));
        let initial = if i % 3 == 2 {
            reply["result"][2].clone()
        } else {
            reply["result"].clone()
        };
        client.replicas.entry(mid.clone()).or_default().answered = true;
        client.apply(&mid, &initial, i % 3 == 0, "reply");
        let cancel = format!("c{i}");
        c.send(&json!({"method": "monitor_cancel", "id": cancel, "params": [mid]}));
        client.until_reply(&mut c, &json!(cancel));
        client.cancelled.insert(mid);
    }
    // (2) One conditional monitor switched between every row and none.
    let none = json!([{"where": [["n", "<", 0]]}]);
    let all = json!([{"where": []}]);
    c.send(
        &json!({"method": "monitor_cond", "id": "mc", "params": ["R", "mc",
                   {"T": [{"columns": ["n", "v"], "where": [["n", "<", 0]]}]}]}),
    );
    let reply = client.until_reply(&mut c, &json!("mc"));
    client.replicas.entry("mc".into()).or_default().answered = true;
    client.apply("mc", &reply["result"], false, "reply");
    for i in 0..CHANGES {
        let cond = if i % 2 == 0 { &all } else { &none };
        let id = format!("cc{i}");
        c.send(&json!({"method": "monitor_cond_change", "id": id,
                       "params": ["mc", "mc", {"T": cond}]}));
        client.until_reply(&mut c, &json!(id));
    }
    stop.store(true, Ordering::Relaxed);
    let commits = w.join().expect("writer");
    (client.n_problems, client.problems, client.updates, commits)
}

#[test]
fn no_update_reaches_a_client_before_the_rows_it_changes() {
    if testkit::skip_without_upstream("no_update_reaches_a_client_before_the_rows_it_changes") {
        return;
    }
    for (stack, tag) in [
        (Stack::upstream(), "mrace-up"),
        (Stack::ferrovs(env!("CARGO_BIN_EXE_ferrovs")), "mrace-ours"),
    ] {
        let (n, problems, updates, commits) = run(stack, tag);
        eprintln!("{tag}: {commits} commits, {updates} updates seen");
        assert!(
            n == 0,
            "{tag}: {n} problems ({commits} commits, {updates} updates), the first:\n{}",
            problems.join("\n")
        );
        assert!(updates > 0, "{tag}: no update seen ({commits} commits)");
    }
}
