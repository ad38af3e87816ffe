//! Crash safety of our ovsdb-server: two clients pipeline single-row
//! transactions (their commits share syncs: group commit); the server is
//! killed with SIGKILL while transactions are in flight; afterwards
//! upstream's `ovsdb-tool` must read the file without complaint, and every
//! transaction the server acknowledged must be in it, before and after our
//! server restarts on it. In the second round the database file also loses
//! its tail as in a power failure (cut inside the first record its journal
//! holds): the restarted server must restore every acknowledged
//! transaction from the journal. The second round writes less than a
//! journal checkpoint (`ovsdb::journal::CHECKPOINT_BYTES`), so whenever
//! the kill comes, its journal holds every commit it made (a checkpoint
//! would empty the journal and leave nothing to restore). Skips without
//! the reference.

use rpc::framing::Framer;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::sync::{Arc, Mutex};
use testkit::{Program, Sandbox, Stack};

const CLIENTS: u64 = 2;
/// Transactions per client in each round: the second round's, about 200
/// bytes of journal each, stay well under a checkpoint.
const TOTAL: [u64; 2] = [3000, 1500];
/// Numbers of one client's transactions are `base + 1..=base + SPAN`.
const SPAN: u64 = 3000;
const KILL_AFTER: usize = 400;

fn insert(n: u64) -> Vec<u8> {
    let req = json!({"method": "transact", "id": n, "params": ["Open_vSwitch",
        {"op": "insert", "table": "Queue",
         "row": {"external_ids": ["map", [["n", n.to_string()]]]}}]});
    let mut b = serde_json::to_vec(&req).unwrap();
    b.push(b'\n');
    b
}

/// What the clients of a round saw.
#[derive(Default)]
struct Seen {
    acked: BTreeSet<u64>,
    /// Acknowledgements per client.
    per_client: [usize; CLIENTS as usize],
    /// Requests written per client.
    sent: [u64; CLIENTS as usize],
    /// Replies that were not a successful insert.
    failures: Vec<String>,
}

/// One client: sends `total` transactions (numbered `base + 1..`) from one
/// thread while this one reads replies into `seen`, until the connection
/// closes.
fn client(
    sb: &Sandbox,
    c: usize,
    base: u64,
    total: u64,
    seen: Arc<Mutex<Seen>>,
) -> std::thread::JoinHandle<()> {
    let sock = UnixStream::connect(sb.path("db.sock")).unwrap();
    let mut writer = sock.try_clone().unwrap();
    let sent = seen.clone();
    std::thread::spawn(move || {
        let sender = std::thread::spawn(move || {
            for n in base + 1..=base + total {
                if writer.write_all(&insert(n)).is_err() {
                    break;
                }
                sent.lock().unwrap().sent[c] += 1;
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
                let mut seen = seen.lock().unwrap();
                match v["id"].as_u64() {
                    Some(n) if ok => {
                        seen.acked.insert(n);
                        seen.per_client[c] += 1;
                    }
                    _ => seen.failures.push(v.to_string()),
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

/// The database file and its journal as the server left them.
fn disk_state(sb: &Sandbox) -> String {
    let db = sb.path("conf.db");
    let size = std::fs::metadata(&db).map_or(0, |m| m.len());
    let journal = ovsdb::journal::journal_path(&db);
    let jsize = std::fs::metadata(&journal).map_or(0, |m| m.len());
    let offsets = ovsdb::journal::entry_offsets(&db);
    format!(
        "conf.db {size} bytes; journal file {jsize} bytes with {} entries (offsets {:?}..{:?}); \
         checkpoint every {} journal bytes",
        offsets.len(),
        offsets.first(),
        offsets.last(),
        ovsdb::journal::CHECKPOINT_BYTES
    )
}

/// The last lines of our server's log.
fn log_tail(sb: &Sandbox) -> String {
    let log = std::fs::read_to_string(sb.path("ovsdb-server.log")).unwrap_or_default();
    let lines: Vec<&str> = log.lines().collect();
    lines[lines.len().saturating_sub(8)..].join("\n")
}

/// A round: CLIENTS clients at once, the server killed after KILL_AFTER
/// acknowledgements in all, once every client has one (a session may
/// keep the server busy for a while before another's replies go out).
/// Returns the numbers of the acknowledged
/// transactions and a description of the round for failure messages.
fn run_until_killed(sb: &Sandbox, round: usize) -> (BTreeSet<u64>, String) {
    let seen = Arc::new(Mutex::new(Seen::default()));
    let pid: i32 = sb
        .pid("ovsdb-server")
        .and_then(|p| p.parse().ok())
        .expect("server pid");
    let clients: Vec<_> = (0..CLIENTS)
        .map(|c| {
            let base = (round as u64 * CLIENTS + c) * SPAN;
            client(sb, c as usize, base, TOTAL[round], seen.clone())
        })
        .collect();
    let mut at_kill = None;
    let mut stuck = false;
    // The clients end only when the server closes their connections; a
    // server that never acknowledges enough is killed after a minute's
    // worth of polls or more, and the round fails.
    let mut polls = 0;
    while !clients.iter().all(|c| c.is_finished()) {
        let (acks, everyone) = {
            let seen = seen.lock().unwrap();
            (seen.acked.len(), seen.per_client.iter().all(|&n| n > 0))
        };
        polls += 1;
        let enough = acks >= KILL_AFTER && everyone;
        if at_kill.is_none() && (enough || polls == 60_000) {
            stuck = !enough;
            // SAFETY: kill(2) with a pid read from the server's pidfile.
            let r = unsafe { libc::kill(pid, libc::SIGKILL) };
            assert_eq!(r, 0, "kill {pid}: {}", std::io::Error::last_os_error());
            at_kill = Some(acks);
        }
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    for c in clients {
        c.join().expect("client thread");
    }
    let seen = seen.lock().unwrap();
    let what = format!(
        "round {round}: {} of {} transactions acknowledged ({:?} per client, {:?} sent), {:?} when \
         the kill was sent; {}",
        seen.acked.len(),
        CLIENTS * TOTAL[round],
        seen.per_client,
        seen.sent,
        at_kill,
        disk_state(sb)
    );
    eprintln!("{what}");
    assert!(
        seen.failures.is_empty(),
        "{what}: unexpected replies: {:?}",
        &seen.failures[..seen.failures.len().min(5)]
    );
    assert!(
        at_kill.is_some() && !stuck,
        "{what}: the server was not killed after {KILL_AFTER} acknowledgements and one per client"
    );
    (seen.acked.clone(), what)
}

/// Cuts the database file inside the first record its journal holds, as a
/// power failure may lose the unsynced tail of the file. Returns the
/// offset of the cut, if the journal held a record.
fn lose_unsynced_tail(sb: &Sandbox) -> Option<u64> {
    let db = sb.path("conf.db");
    let first = *ovsdb::journal::entry_offsets(&db).first()?;
    let f = std::fs::OpenOptions::new().write(true).open(&db).unwrap();
    f.set_len(first + 7).unwrap();
    Some(first + 7)
}

const SELECT: &str =
    r#"["Open_vSwitch",{"op":"select","table":"Queue","where":[],"columns":["external_ids"]}]"#;

/// The `n` values of all Queue rows, read with upstream's `ovsdb-tool
/// query` straight from the file.
fn rows_in_file(sb: &Sandbox, what: &str) -> BTreeSet<u64> {
    let out = sb.run(
        &Program::path("/usr/bin/ovsdb-tool"),
        &["query", &sb.path("conf.db"), SELECT],
    );
    assert_eq!(out.status, 0, "{what}: ovsdb-tool query: {}", out.stderr);
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

/// Upstream's `ovsdb-tool show-log` reads every record of the file.
fn check_log(sb: &Sandbox, what: &str) {
    let log = sb.run(
        &Program::path("/usr/bin/ovsdb-tool"),
        &["show-log", &sb.path("conf.db")],
    );
    assert_eq!(log.status, 0, "{what}: show-log: {}", log.stderr);
    assert!(log.stderr.is_empty(), "{what}: show-log: {}", log.stderr);
}

/// Up to five of `numbers` and how many there are.
fn some(numbers: &[&u64]) -> String {
    format!(
        "{} ({:?}...)",
        numbers.len(),
        &numbers[..numbers.len().min(5)]
    )
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
        let before = std::fs::metadata(sb.path("conf.db")).map_or(0, |m| m.len());
        let (acked, what) = run_until_killed(&sb, round);
        all_acked.extend(acked.iter().copied());
        check_log(&sb, &what);
        let in_file = rows_in_file(&sb, &what);
        let missing: Vec<&u64> = acked.iter().filter(|n| !in_file.contains(n)).collect();
        assert!(
            missing.is_empty(),
            "{what}: acknowledged but not in the file: {}",
            some(&missing)
        );
        let cut = if round == 1 {
            // No checkpoint could happen this round: the journal holds
            // every commit made since the server started.
            let entries = ovsdb::journal::entry_offsets(&sb.path("conf.db")).len();
            let grown = std::fs::metadata(sb.path("conf.db")).map_or(0, |m| m.len()) - before;
            assert!(
                entries >= acked.len(),
                "{what}: the journal lacks acknowledged commits (the file grew by {grown} bytes \
                 this round)"
            );
            let cut = lose_unsynced_tail(&sb);
            assert!(cut.is_some(), "{what}: the journal held no record");
            cut
        } else {
            None
        };
        // Our server starts again on the file and serves the same rows.
        let _ = std::fs::remove_file(sb.path("ovsdb-server.pid"));
        sb.start_ovsdb_server();
        let out = sb.run(
            &Program::path("/usr/bin/ovsdb-client"),
            &["query", &format!("unix:{}", sb.path("db.sock")), SELECT],
        );
        assert_eq!(
            out.status,
            0,
            "{what}: query after restart: {}\n{}",
            out.stderr,
            log_tail(&sb)
        );
        let served = numbers(&serde_json::from_str::<Value>(&out.stdout).unwrap()[0]["rows"]);
        if let Some(at) = cut {
            // Restored from the journal: at least every acknowledged
            // transaction, at most what the file held before the cut.
            let what = format!("{what}; file cut at {at}; server log:\n{}", log_tail(&sb));
            let lost: Vec<&u64> = acked.iter().filter(|n| !served.contains(n)).collect();
            assert!(
                lost.is_empty(),
                "{what}\nacknowledged but not restored: {}",
                some(&lost)
            );
            let extra: Vec<&u64> = served.difference(&in_file).collect();
            assert!(
                extra.is_empty(),
                "{what}\nrestored rows never committed: {}",
                some(&extra)
            );
            check_log(&sb, &what);
            assert_eq!(
                rows_in_file(&sb, &what),
                served,
                "{what}\nfile after restore"
            );
        } else {
            assert_eq!(served, in_file, "{what}: served rows differ from the file");
        }
    }
    assert!(all_acked.len() >= 2 * KILL_AFTER);
    assert!(
        all_acked.iter().any(|n| n % (CLIENTS * SPAN) >= SPAN),
        "the second client's transactions were never acknowledged"
    );
}
