//! Crash safety of our ovsdb-server: two clients pipeline single-row
//! transactions (their commits share syncs: group commit); the server is
//! killed with SIGKILL while transactions are in flight; afterwards
//! upstream's `ovsdb-tool` must read the file without complaint, and every
//! transaction the server acknowledged must be in it, before and after our
//! server restarts on it. In the second round the database file also loses
//! its tail as in a power failure (cut inside the first record its journal
//! holds): the restarted server must restore every acknowledged
//! transaction from the journal. Skips without the reference.

use rpc::framing::Framer;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::process::Command;
use std::sync::{Arc, Mutex};
use testkit::{Program, Sandbox, Stack};

/// Transactions per client.
const TOTAL: u64 = 3000;
const CLIENTS: u64 = 2;
const KILL_AFTER: usize = 400;

fn insert(n: u64) -> Vec<u8> {
    let req = json!({"method": "transact", "id": n, "params": ["Open_vSwitch",
        {"op": "insert", "table": "Queue",
         "row": {"external_ids": ["map", [["n", n.to_string()]]]}}]});
    let mut b = serde_json::to_vec(&req).unwrap();
    b.push(b'\n');
    b
}

/// One client: sends TOTAL transactions (numbered `base + 1..`) from one
/// thread while this one reads replies into `acked`, until the connection
/// closes.
fn client(
    sb: &Sandbox,
    base: u64,
    acked: Arc<Mutex<BTreeSet<u64>>>,
) -> std::thread::JoinHandle<()> {
    let sock = UnixStream::connect(sb.path("db.sock")).unwrap();
    let mut writer = sock.try_clone().unwrap();
    std::thread::spawn(move || {
        let sender = std::thread::spawn(move || {
            for n in base + 1..=base + TOTAL {
                if writer.write_all(&insert(n)).is_err() {
                    break;
                }
            }
        });
        let mut reader = sock;
        let mut framer = Framer::new(1 << 20);
        let mut buf = [0u8; 65536];
        loop {
            while let Ok(Some(v)) = framer.next_value() {
                let ok = v["error"].is_null()
                    && v["result"]
                        .as_array()
                        .is_some_and(|r| r.len() == 1 && r[0]["uuid"].is_array());
                if ok {
                    acked.lock().unwrap().insert(v["id"].as_u64().unwrap());
                } else if v.get("result").is_some() {
                    panic!("transaction failed: {v}");
                }
            }
            match reader.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => framer.push(&buf[..n]),
            }
        }
        let _ = sender.join();
    })
}

/// Runs CLIENTS clients at once and kills the server after KILL_AFTER
/// acknowledgements in all. Returns the numbers of the acknowledged
/// transactions. `round` keeps the numbers of each round apart.
fn run_until_killed(sb: &Sandbox, round: u64) -> BTreeSet<u64> {
    let acked = Arc::new(Mutex::new(BTreeSet::new()));
    let pid = sb.pid("ovsdb-server").expect("server pid");
    let clients: Vec<_> = (0..CLIENTS)
        .map(|c| client(sb, (round * CLIENTS + c) * TOTAL, acked.clone()))
        .collect();
    let mut killed = false;
    for _ in 0..60_000 {
        if acked.lock().unwrap().len() >= KILL_AFTER {
            let st = Command::new("kill").args(["-9", &pid]).status().unwrap();
            assert!(st.success());
            killed = true;
            break;
        }
        if clients.iter().all(|c| c.is_finished()) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    for c in clients {
        c.join().expect("client thread");
    }
    let acked = acked.lock().unwrap().clone();
    assert!(
        killed,
        "the server was not killed (only {} acks)",
        acked.len()
    );
    acked
}

/// Cuts the database file inside the first record its journal holds, as a
/// power failure may lose the unsynced tail of the file. Returns whether
/// there was anything to cut.
fn lose_unsynced_tail(sb: &Sandbox) -> bool {
    let db = sb.path("conf.db");
    let offsets = ovsdb::journal::entry_offsets(&db);
    let Some(first) = offsets.first() else {
        return false;
    };
    let f = std::fs::OpenOptions::new().write(true).open(&db).unwrap();
    f.set_len(first + 7).unwrap();
    true
}

/// The `n` values of all Open_vSwitch rows, read with upstream's
/// `ovsdb-tool query` straight from the file.
fn rows_in_file(sb: &Sandbox) -> BTreeSet<u64> {
    let out = sb.run(
        &Program::path("/usr/bin/ovsdb-tool"),
        &[
            "query",
            &sb.path("conf.db"),
            r#"["Open_vSwitch",{"op":"select","table":"Queue","where":[],"columns":["external_ids"]}]"#,
        ],
    );
    assert_eq!(out.status, 0, "ovsdb-tool query: {}", out.stderr);
    numbers(&serde_json::from_str::<Value>(&out.stdout).unwrap()[0]["rows"])
}

fn numbers(rows: &Value) -> BTreeSet<u64> {
    rows.as_array()
        .unwrap()
        .iter()
        .filter_map(|r| {
            let pairs = r["external_ids"][1].as_array()?;
            pairs
                .iter()
                .find(|p| p[0] == "n")
                .and_then(|p| p[1].as_str()?.parse().ok())
        })
        .collect()
}

#[test]
fn acknowledged_transactions_survive_sigkill() {
    if testkit::skip_without_upstream("acknowledged_transactions_survive_sigkill") {
        return;
    }
    let mut sb = Sandbox::start_stack(
        "crash",
        Stack::ferrovs(env!("CARGO_BIN_EXE_ferrovs")),
        false,
    );
    let mut all_acked = BTreeSet::new();
    for round in 0..2u64 {
        let acked = run_until_killed(&sb, round);
        all_acked.extend(acked.iter().copied());
        // Upstream reads every record of the file.
        let log = sb.run(
            &Program::path("/usr/bin/ovsdb-tool"),
            &["show-log", &sb.path("conf.db")],
        );
        assert_eq!(log.status, 0, "show-log: {}", log.stderr);
        assert!(log.stderr.is_empty(), "show-log: {}", log.stderr);
        let in_file = rows_in_file(&sb);
        let missing: Vec<&u64> = acked.iter().filter(|n| !in_file.contains(n)).collect();
        assert!(
            missing.is_empty(),
            "round {round}: acknowledged but lost: {missing:?}"
        );
        let cut = round == 1 && lose_unsynced_tail(&sb);
        assert!(
            round == 0 || cut,
            "round {round}: the journal held no record"
        );
        // Our server starts again on the file and serves the same rows.
        let _ = std::fs::remove_file(sb.path("ovsdb-server.pid"));
        sb.start_ovsdb_server();
        let out = sb.run(
            &Program::path("/usr/bin/ovsdb-client"),
            &[
                "query",
                &format!("unix:{}", sb.path("db.sock")),
                r#"["Open_vSwitch",{"op":"select","table":"Queue","where":[],"columns":["external_ids"]}]"#,
            ],
        );
        assert_eq!(out.status, 0, "{}", out.stderr);
        let served = numbers(&serde_json::from_str::<Value>(&out.stdout).unwrap()[0]["rows"]);
        if cut {
            // Restored from the journal: at least every acknowledged
            // transaction, at most what the file held before the cut.
            let lost: Vec<&u64> = acked.iter().filter(|n| !served.contains(n)).collect();
            assert!(lost.is_empty(), "acknowledged but not restored: {lost:?}");
            assert!(served.is_subset(&in_file), "restored rows never committed");
            let log = sb.run(
                &Program::path("/usr/bin/ovsdb-tool"),
                &["show-log", &sb.path("conf.db")],
            );
            assert_eq!(log.status, 0, "show-log after restore: {}", log.stderr);
            assert_eq!(rows_in_file(&sb), served, "file after restore");
        } else {
            assert_eq!(
                served, in_file,
                "round {round}: served rows differ from the file"
            );
        }
        if round == 0 {
            // Second round: the new rows carry other numbers.
            let out = sb.run(
                &Program::path("/usr/bin/ovsdb-client"),
                &[
                    "transact",
                    &format!("unix:{}", sb.path("db.sock")),
                    r#"["Open_vSwitch",{"op":"delete","table":"Queue","where":[]}]"#,
                ],
            );
            assert_eq!(out.status, 0);
        }
    }
    assert!(all_acked.len() >= 2 * KILL_AFTER);
    assert!(
        all_acked.iter().any(|n| n % (CLIENTS * TOTAL) >= TOTAL),
        "the second client's transactions were never acknowledged"
    );
}
