//! `ovsdb-server/remove-db` against the reference: a change-aware client
//! monitoring the removed database gets `monitor_canceled`, its
//! transaction waiting on that database fails with `canceled`, its
//! `_Server` monitor sees the row go, and it stays connected; a client
//! that is not change-aware is disconnected. Skips without the reference.
//! (`_Server` also describes itself, as upstream's does.)

use rpc::framing::Framer;
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};
use testkit::{Program, Sandbox, Stack};

const SCHEMA: &str = r#"{"name":"M","version":"1.0.0","tables":{
 "Root":{"isRoot":true,"columns":{"n":{"type":"integer"}}}}}"#;

struct Client {
    sock: UnixStream,
    framer: Framer,
    /// Every message received, in order.
    seen: Vec<Value>,
    eof: bool,
}

impl Client {
    fn connect(path: &str) -> Client {
        let sock = UnixStream::connect(path).unwrap();
        sock.set_read_timeout(Some(Duration::from_millis(100)))
            .unwrap();
        Client {
            sock,
            framer: Framer::new(1 << 20),
            seen: Vec::new(),
            eof: false,
        }
    }

    fn send(&mut self, v: Value) {
        self.sock
            .write_all(&serde_json::to_vec(&v).unwrap())
            .unwrap();
    }

    /// Reads until `done` holds for what was seen, the peer closes, or 20 s.
    fn read_until(&mut self, done: impl Fn(&[Value]) -> bool) {
        let end = Instant::now() + Duration::from_secs(20);
        let mut buf = [0u8; 65536];
        while !done(&self.seen) && !self.eof && Instant::now() < end {
            match self.sock.read(&mut buf) {
                Ok(0) => self.eof = true,
                Ok(n) => self.framer.push(&buf[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {}
                Err(_) => self.eof = true,
            }
            while let Ok(Some(v)) = self.framer.next_value() {
                self.seen.push(v);
            }
        }
    }

    /// The messages seen, as comparable text: UUIDs numbered, the
    /// `_Server` monitor's initial rows reduced to their names.
    fn transcript(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .seen
            .iter()
            .map(|v| {
                if v["id"] == json!(9) {
                    // Upstream lists databases in its hash map's order;
                    // ours are sorted: compare the sets.
                    let mut names: Vec<String> = v["result"]
                        .as_array()
                        .map(|a| a.iter().map(Value::to_string).collect())
                        .unwrap_or_default();
                    names.sort();
                    return format!("reply 9: {names:?}");
                }
                if v["id"] == json!(4) && v["result"].is_object() {
                    let mut names: Vec<String> = v["result"]["Database"]
                        .as_object()
                        .map(|o| o.values().map(|r| r["new"]["name"].to_string()).collect())
                        .unwrap_or_default();
                    names.sort();
                    return format!("reply 4: {names:?}");
                }
                testkit::normalize_uuids(&v.to_string())
            })
            .collect();
        out.push(format!("eof={}", self.eof));
        out
    }
}

fn requests(aware: bool) -> Vec<Value> {
    let mut r = Vec::new();
    if aware {
        r.push(json!({"method":"set_db_change_aware","params":[true],"id":"a"}));
    }
    r.push(
        json!({"method":"monitor_cond","params":["M","m1",{"Root":[{"columns":["n"]}]}],"id":1}),
    );
    r.push(json!({"method":"monitor","params":["Open_vSwitch","m2",{"Open_vSwitch":{"columns":["cur_cfg"]}}],"id":2}));
    r.push(json!({"method":"transact","params":["M",{"op":"wait","table":"Root","where":[],"until":"==","rows":[{"n":5}],"columns":["n"]}],"id":3}));
    r.push(json!({"method":"monitor","params":["_Server","m3",{"Database":{"columns":["name"]}}],"id":4}));
    r
}

fn has_id(seen: &[Value], id: Value) -> bool {
    seen.iter()
        .any(|v| v["id"] == id && v.get("method").is_none())
}

fn run(stack: Stack, tag: &str) -> Vec<String> {
    let mut sb = Sandbox::empty(tag, stack.clone());
    let schema = sb.path("m.ovsschema");
    std::fs::write(&schema, SCHEMA).unwrap();
    let (m, conf) = (sb.path("m.db"), sb.path("conf.db"));
    sb.run(&stack.ovsdb_tool, &["create", &m, &schema])
        .ok("create")
        .unwrap();
    sb.run(
        &stack.ovsdb_tool,
        &["create", &conf, "/usr/share/openvswitch/vswitch.ovsschema"],
    )
    .ok("create")
    .unwrap();
    let (ctl, log) = (sb.path("server.ctl"), sb.path("ovsdb-server.log"));
    sb.start_ovsdb_server_with(&[
        &format!("--remote=punix:{}", sb.path("db.sock")),
        &format!("--unixctl={ctl}"),
        &m,
        &conf,
    ]);
    let sock = sb.path("db.sock");
    let mut aware = Client::connect(&sock);
    let mut unaware = Client::connect(&sock);
    for (c, is_aware) in [(&mut aware, true), (&mut unaware, false)] {
        for r in requests(is_aware) {
            c.send(r);
        }
        c.read_until(|s| has_id(s, json!(4)));
    }
    let o = sb.run(
        &Program::path("/usr/bin/ovs-appctl"),
        &["-t", &ctl, "ovsdb-server/remove-db", "M"],
    );
    assert_eq!(o.status, 0, "remove-db: {}", o.stderr);
    aware.read_until(|s| s.iter().any(|v| v["method"] == "update"));
    unaware.read_until(|_| false);
    aware.send(json!({"method":"list_dbs","params":[],"id":9}));
    aware.read_until(|s| has_id(s, json!(9)));
    let mut out = vec!["aware:".to_string()];
    out.extend(aware.transcript());
    out.push("unaware:".into());
    out.extend(unaware.transcript());
    let log = std::fs::read_to_string(&log).unwrap_or_default();
    out.push(format!(
        "logged: {}",
        log.contains("disconnecting (removing M database by user request)")
    ));
    out
}

#[test]
fn remove_db_cancels_monitors_like_upstream() {
    if testkit::skip_without_upstream("remove_db_cancels_monitors_like_upstream") {
        return;
    }
    let want = run(Stack::upstream(), "rmdb-up");
    let got = run(Stack::ferrovs(env!("CARGO_BIN_EXE_ferrovs")), "rmdb-ours");
    assert_eq!(want, got);
    assert!(
        want.iter().any(|l| l.contains("monitor_canceled")),
        "{want:?}"
    );
    assert!(want.contains(&"logged: true".to_string()), "{want:?}");
}
