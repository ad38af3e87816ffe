//! Crash safety of our ovsdb-server: a client pipelines single-row
//! transactions; the server is killed with SIGKILL while transactions are
//! in flight; afterwards upstream's `ovsdb-tool` must read the file without
//! complaint, and every transaction the server acknowledged must be in it,
//! before and after our server restarts on it. Skips without the reference.

use rpc::framing::Framer;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::process::Command;
use testkit::{Program, Sandbox, Stack};

const TOTAL: u64 = 3000;
const KILL_AFTER: usize = 400;

fn insert(n: u64) -> Vec<u8> {
    let req = json!({"method": "transact", "id": n, "params": ["Open_vSwitch",
        {"op": "insert", "table": "Queue",
         "row": {"external_ids": ["map", [["n", n.to_string()]]]}}]});
    let mut b = serde_json::to_vec(&req).unwrap();
    b.push(b'\n');
    b
}

/// Sends TOTAL transactions from one thread while this one reads replies;
/// kills the server after KILL_AFTER acknowledgements. Returns the numbers
/// of the acknowledged transactions.
fn run_until_killed(sb: &Sandbox) -> BTreeSet<u64> {
    let sock = UnixStream::connect(sb.path("db.sock")).unwrap();
    let mut writer = sock.try_clone().unwrap();
    let sender = std::thread::spawn(move || {
        for n in 1..=TOTAL {
            if writer.write_all(&insert(n)).is_err() {
                break;
            }
        }
    });
    let pid = sb.pid("ovsdb-server").expect("server pid");
    let mut reader = sock;
    let mut framer = Framer::new(1 << 20);
    let mut acked = BTreeSet::new();
    let mut killed = false;
    let mut buf = [0u8; 65536];
    loop {
        while let Ok(Some(v)) = framer.next_value() {
            let ok = v["error"].is_null()
                && v["result"]
                    .as_array()
                    .is_some_and(|r| r.len() == 1 && r[0]["uuid"].is_array());
            if ok {
                acked.insert(v["id"].as_u64().unwrap());
            } else if v.get("result").is_some() {
                panic!("transaction failed: {v}");
            }
        }
        if !killed && acked.len() >= KILL_AFTER {
            let st = Command::new("kill").args(["-9", &pid]).status().unwrap();
            assert!(st.success());
            killed = true;
        }
        match reader.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => framer.push(&buf[..n]),
        }
    }
    let _ = sender.join();
    assert!(
        killed,
        "the server was not killed (only {} acks)",
        acked.len()
    );
    acked
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
    for round in 0..2 {
        let acked = run_until_killed(&sb);
        all_acked.extend(acked.iter().map(|n| n + round * TOTAL));
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
        assert_eq!(
            served, in_file,
            "round {round}: served rows differ from the file"
        );
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
}
