//! The order of databases: `list_dbs` answers in the order of the server's
//! hash table of databases (files opened in the order of a set of their
//! names, then `_Server`, then `add-db`s, with `remove-db` in between),
//! and `ovsdb-client list-dbs` sorts. Our server and the reference get the
//! same command line and the same changes; the raw replies and both
//! clients' output must match. Skips without the reference.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use testkit::{Program, Sandbox, Stack};

const NAMES: &[&str] = &[
    "Alpha",
    "Beta",
    "Gamma",
    "Delta",
    "Epsilon",
    "Open_vSwitch",
    "Zeta",
];

/// The raw `list_dbs` result.
fn list_dbs(sb: &Sandbox) -> String {
    let mut s = UnixStream::connect(sb.path("db.sock")).unwrap();
    s.write_all(br#"{"method":"list_dbs","params":[],"id":7}"#)
        .unwrap();
    let mut framer = rpc::framing::Framer::new(1 << 20);
    let mut buf = [0u8; 4096];
    loop {
        if let Ok(Some(v)) = framer.next_value() {
            return v["result"].to_string();
        }
        let n = s.read(&mut buf).unwrap();
        assert!(n > 0, "server closed the connection");
        framer.push(&buf[..n]);
    }
}

/// The directory of the database files, the same for both servers: the
/// order in which a server opens its files depends on their names.
struct Files(std::path::PathBuf);

impl Files {
    fn new() -> Files {
        let d = std::env::temp_dir().join(format!("ferrovs-listdbs-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        Files(d)
    }
}

impl Drop for Files {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn run(stack: Stack, tag: &str, ferrovs: &str) -> Vec<String> {
    let mut sb = Sandbox::empty(tag, stack.clone());
    let files = Files::new();
    for n in NAMES {
        let schema = sb.path(&format!("{n}.ovsschema"));
        std::fs::write(
            &schema,
            format!(
                r#"{{"name":"{n}","tables":{{"T":{{"columns":{{"x":{{"type":"integer"}}}}}}}}}}"#
            ),
        )
        .unwrap();
        let file = files.0.join(format!("{n}.db"));
        sb.run(
            &stack.ovsdb_tool,
            &["create", &file.to_string_lossy(), &schema],
        )
        .ok("create")
        .unwrap();
    }
    let dir = files.0.to_string_lossy().into_owned();
    let db = move |n: &str| format!("{dir}/{n}.db");
    let (g, b, a, o) = (db("Gamma"), db("Beta"), db("Alpha"), db("Open_vSwitch"));
    let remote = format!("--remote=punix:{}", sb.path("db.sock"));
    sb.start_ovsdb_server_with(&[&remote, &g, &b, &a, &o, &b]);
    let mut out = vec![list_dbs(&sb)];
    let steps: &[&[&str]] = &[
        &["ovsdb-server/add-db", &db("Delta")],
        &["ovsdb-server/remove-db", "Alpha"],
        &["ovsdb-server/add-db", &db("Epsilon")],
        &["ovsdb-server/add-db", &db("Zeta")],
        &["ovsdb-server/add-db", &db("Alpha")],
    ];
    for step in steps {
        let ctl = sb.control("ovsdb-server");
        let mut args = vec!["-t", ctl.as_str()];
        args.extend_from_slice(step);
        let o = sb.run(&Program::path("/usr/bin/ovs-appctl"), &args);
        out.push(format!("{} {}{}", o.status, o.stdout, o.stderr));
        out.push(list_dbs(&sb));
    }
    let remote = format!("unix:{}", sb.path("db.sock"));
    for client in [
        Program::path("/usr/bin/ovsdb-client"),
        Program::ferrovs(ferrovs, "ovsdb-client"),
    ] {
        let o = sb.run(&client, &["list-dbs", &remote]);
        out.push(format!("{} {}{}", o.status, o.stdout, o.stderr));
    }
    out
}

#[test]
fn list_dbs_order_like_upstream() {
    if testkit::skip_without_upstream("list_dbs_order_like_upstream") {
        return;
    }
    let ferrovs = env!("CARGO_BIN_EXE_ferrovs");
    let want = run(Stack::upstream(), "listdbs-up", ferrovs);
    let got = run(Stack::ferrovs(ferrovs), "listdbs-ours", ferrovs);
    assert_eq!(want, got);
    // Not simply sorted: the raw order is the hash table's.
    assert_ne!(
        want[0],
        r#"["Alpha","Beta","Gamma","Open_vSwitch","_Server"]"#
    );
}
