//! Role-based access control (ovsdb-server(7)): a database with an
//! `RBAC_Role` table served through remotes whose rows give them a role.
//! The same transactions go to the reference server and to ours, through a
//! remote with a role, one with an unknown role, one with an empty role and
//! a plain one; replies, the rows left and the `ovsdb_rbac` log lines must
//! match. (Over Unix sockets a client has no identity, which only TLS
//! gives, so every write through a role is refused: the rules themselves
//! are unit-tested in `ovsdb::rbac`.) Skips without the reference.

use std::os::unix::net::UnixStream;
use std::time::Duration;
use testkit::{normalize_uuids, Program, Sandbox, Stack};

const SCHEMA: &str = r#"{"name":"R","version":"1.0.0","tables":{
 "Root":{"isRoot":true,"columns":{"conns":{"type":{"key":{"type":"uuid","refTable":"Conn"},"min":0,"max":"unlimited"}}}},
 "Conn":{"columns":{"target":{"type":"string"},"role":{"type":"string"},"read_only":{"type":"boolean"}}},
 "RBAC_Role":{"isRoot":true,"columns":{"name":{"type":"string"},
   "permissions":{"type":{"key":"string","value":{"type":"uuid","refTable":"RBAC_Permission","refType":"weak"},"min":0,"max":"unlimited"}}}},
 "RBAC_Permission":{"isRoot":true,"columns":{"table":{"type":"string"},
   "authorization":{"type":{"key":"string","min":0,"max":"unlimited"}},
   "insert_delete":{"type":"boolean"},
   "update":{"type":{"key":"string","min":0,"max":"unlimited"}}}},
 "Item":{"isRoot":true,"columns":{"owner":{"type":"string"},"note":{"type":"string"},"n":{"type":"integer"}}}}}"#;

/// Transactions sent through every remote (`R` is prepended).
const TXNS: &[&str] = &[
    r#"{"op":"insert","table":"Item","row":{"owner":"b","note":"new"}}"#,
    r#"{"op":"update","table":"Item","where":[],"row":{"note":"x"}}"#,
    r#"{"op":"update","table":"Item","where":[["owner","==","nobody"]],"row":{"note":"x"}}"#,
    r#"{"op":"mutate","table":"Item","where":[],"mutations":[["n","+=",1]]}"#,
    r#"{"op":"mutate","table":"Item","where":[],"mutations":[["note","delete","n"]]}"#,
    r#"{"op":"delete","table":"Item","where":[["owner","==","zz"]]}"#,
    r#"{"op":"select","table":"Item","where":[["owner","==","a"]],"columns":["owner"]},{"op":"insert","table":"Item","row":{}},{"op":"select","table":"Item","where":[["owner","==",""]],"columns":["owner","n"]}"#,
    r#"{"op":"insert","table":"RBAC_Permission","row":{"table":"Conn"}}"#,
    r#"{"op":"update","table":"Item","where":[],"row":{"owner":"a"}}"#,
    r#"{"op":"insert","table":"Item","row":{"bad":1}}"#,
    r#"{"op":"comment","comment":"c"},{"op":"commit","durable":false}"#,
];

fn transact(sb: &Sandbox, sock: &str, ops: &str) -> String {
    let o = sb.run(
        &Program::path("/usr/bin/ovsdb-client"),
        &[
            "transact",
            &format!("unix:{}", sb.path(sock)),
            &format!("[\"R\",{ops}]"),
        ],
    );
    format!("{} {} {}", o.status, o.stdout.trim(), o.stderr.trim())
}

fn run(stack: Stack, tag: &str) -> Vec<String> {
    let mut sb = Sandbox::empty(tag, stack.clone());
    let schema = sb.path("r.ovsschema");
    std::fs::write(&schema, SCHEMA).unwrap();
    let db = sb.path("r.db");
    sb.run(&stack.ovsdb_tool, &["create", &db, &schema])
        .ok("create")
        .unwrap();
    let conn = |n: &str, role: &str| {
        serde_json::json!({"op":"insert","table":"Conn","uuid-name":n,
            "row":{"target":format!("punix:{}", sb.path(&format!("{n}.sock"))),"role":role}})
    };
    let rows = serde_json::json!(["R",
        conn("writer", "writer"), conn("ghost", "ghost"), conn("none", ""),
        {"op":"insert","table":"Root","row":{"conns":["set",[["named-uuid","writer"],["named-uuid","ghost"],["named-uuid","none"]]]}},
        {"op":"insert","table":"RBAC_Permission","uuid-name":"p","row":{"table":"Item",
            "authorization":["set",[""]],"insert_delete":true,"update":["set",["note","n"]]}},
        {"op":"insert","table":"RBAC_Role","row":{"name":"writer","permissions":["map",[["Item",["named-uuid","p"]]]]}},
        {"op":"insert","table":"Item","row":{"owner":"a","note":"n","n":1}}]);
    sb.run(&stack.ovsdb_tool, &["transact", &db, &rows.to_string()])
        .ok("transact")
        .unwrap();
    sb.start_ovsdb_server_with(&[
        &format!("--remote=punix:{}", sb.path("db.sock")),
        "--remote=db:R,Root,conns",
        "-vovsdb_rbac:file:dbg",
        &db,
    ]);
    for s in ["writer.sock", "ghost.sock", "none.sock"] {
        assert!(
            sb.wait_until(Duration::from_secs(20), || UnixStream::connect(sb.path(s))
                .is_ok()),
            "{s} never listened"
        );
    }
    let mut out = Vec::new();
    for sock in ["writer.sock", "ghost.sock", "none.sock", "db.sock"] {
        for t in TXNS {
            out.push(format!("{sock}: {}", transact(&sb, sock, t)));
        }
    }
    // A remote keeps the role it was created with.
    out.push(transact(
        &sb,
        "db.sock",
        r#"{"op":"update","table":"Conn","where":[],"row":{"role":""}}"#,
    ));
    std::thread::sleep(Duration::from_millis(500));
    out.push(format!(
        "writer.sock after: {}",
        transact(&sb, "writer.sock", TXNS[0])
    ));
    // The rows left, in a stable order.
    let o = sb.run(
        &Program::path("/usr/bin/ovsdb-client"),
        &[
            "transact",
            &format!("unix:{}", sb.path("db.sock")),
            r#"["R",{"op":"select","table":"Item","where":[],"columns":["owner","note","n"]}]"#,
        ],
    );
    let reply: serde_json::Value = serde_json::from_str(o.stdout.trim()).unwrap();
    let mut rows: Vec<String> = reply[0]["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.to_string())
        .collect();
    rows.sort();
    out.extend(rows);
    let log = std::fs::read_to_string(sb.path("ovsdb-server.log")).unwrap_or_default();
    out.extend(
        log.lines()
            .filter(|l| l.contains("|ovsdb_rbac|"))
            .map(|l| l.splitn(3, '|').nth(2).unwrap_or("").to_string()),
    );
    out.iter()
        .map(|l| normalize_uuids(&l.replace(&sb.dir.to_string_lossy().into_owned(), "DIR")))
        .collect()
}

#[test]
fn rbac_like_upstream() {
    if testkit::skip_without_upstream("rbac_like_upstream") {
        return;
    }
    let want = run(Stack::upstream(), "rbac-up");
    let got = run(Stack::ferrovs(env!("CARGO_BIN_EXE_ferrovs")), "rbac-ours");
    for (w, g) in want.iter().zip(&got) {
        assert_eq!(w, g);
    }
    assert_eq!(want.len(), got.len(), "{want:#?}\n{got:#?}");
    assert!(
        want.iter()
            .any(|l| l.contains("prohibit row insertion into table")),
        "{want:#?}"
    );
    assert!(
        want.iter()
            .any(|l| l.starts_with("none.sock: 0 [{\"uuid\"")),
        "{want:#?}"
    );
}
