//! Our `ovsdb-server` driven by upstream clients: the same `ovs-vsctl` and
//! `ovsdb-client` script runs against upstream's server and ours, and the
//! outputs must match after UUIDs are normalized; upstream `ovs-appctl`
//! controls our daemon (`--detach`, `--pidfile`, `exit` cleans up).
//! Skips with a message when the upstream binaries are not installed.

use std::path::Path;
use std::time::Duration;
use testkit::{Program, Sandbox, Stack};

/// `ovsdb-server` of `stack` alone in a new sandbox, listening on
/// `db.sock` (no remotes from the database: the script adds one).
fn start(tag: &str, stack: Stack) -> Sandbox {
    let mut sb = Sandbox::empty(tag, stack);
    sb.create_db();
    let remote = format!("--remote=punix:{}", sb.path("db.sock"));
    sb.start_ovsdb_server_with(&[&remote, &sb.path("conf.db")]);
    sb
}

/// The database socket as a client's target.
fn db(sb: &Sandbox) -> String {
    format!("unix:{}", sb.path("db.sock"))
}

/// Runs the reference's `tool`: its stdout, stderr and exit code.
fn run(sb: &Sandbox, tool: &str, args: &[&str]) -> String {
    let o = sb.run(&Program::path(&format!("/usr/bin/{tool}")), args);
    format!("{}{}rc={}\n", o.stdout, o.stderr, o.status)
}

fn script(sb: &Sandbox) -> String {
    let db = db(sb);
    let db = db.as_str();
    let vsctl = |args: &[&str]| {
        let mut a = vec!["--db", db, "--no-wait"];
        a.extend_from_slice(args);
        run(sb, "ovs-vsctl", &a)
    };
    let mut out = String::new();
    out += &vsctl(&["init"]);
    out += &vsctl(&["add-br", "br0"]);
    out += &vsctl(&[
        "add-port",
        "br0",
        "p1",
        "--",
        "set",
        "Interface",
        "p1",
        "type=internal",
    ]);
    out += &vsctl(&[
        "add-br",
        "br1",
        "--",
        "set",
        "Bridge",
        "br1",
        "fail-mode=secure",
    ]);
    out += &vsctl(&[
        "set",
        "Bridge",
        "br0",
        "external_ids:a=b",
        "other_config:x=y",
    ]);
    out += &vsctl(&["add-port", "br0", "br1"]);
    out += &vsctl(&["del-port", "br0", "p1"]);
    out += &vsctl(&["list-br"]);
    out += &vsctl(&["list-ports", "br0"]);
    out += &vsctl(&["get", "Bridge", "br0", "external_ids"]);
    // Row order of `list`/`show` follows UUID hashes (random): one row each.
    out += &vsctl(&[
        "--columns=name,fail_mode,external_ids",
        "find",
        "Bridge",
        "name=br0",
    ]);
    out += &vsctl(&[
        "--columns=name,fail_mode",
        "find",
        "Bridge",
        "fail_mode=secure",
    ]);
    out += &vsctl(&["del-br", "br1"]);
    out += &vsctl(&["show"]);
    out += &vsctl(&["del-br", "nope"]);
    out += &vsctl(&[
        "--",
        "--id=@c",
        "create",
        "Controller",
        "target=\"tcp:1.2.3.4:6653\"",
        "--",
        "set",
        "Bridge",
        "br0",
        "controller=@c",
    ]);
    out += &vsctl(&["get-controller", "br0"]);
    out += &run(sb, "ovsdb-client", &["list-dbs", db]);
    out += &run(sb, "ovsdb-client", &["list-tables", db]);
    out += &run(
        sb,
        "ovsdb-client",
        &["dump", db, "Open_vSwitch", "Bridge", "name", "fail_mode"],
    );
    out += &run(
        sb,
        "ovsdb-client",
        &[
            "transact",
            db,
            r#"["Open_vSwitch",{"op":"wait","table":"Bridge","where":[["name","==","br0"]],"columns":["fail_mode"],"until":"==","rows":[{"fail_mode":"secure"}],"timeout":0}]"#,
        ],
    );
    out += &run(
        sb,
        "ovsdb-client",
        &[
            "transact",
            db,
            r#"["Open_vSwitch",{"op":"select","table":"Nope","where":[]}]"#,
        ],
    );
    out += &run(sb, "ovsdb-client", &["get-schema-version", db]);
    out += &run(
        sb,
        "ovs-appctl",
        &["-t", "ovsdb-server", "ovsdb-server/list-dbs"],
    );
    out += &run(
        sb,
        "ovs-appctl",
        &["-t", "ovsdb-server", "ovsdb-server/list-remotes"],
    );
    out.replace(sb.dir.to_string_lossy().as_ref(), "DIR")
}

#[test]
fn upstream_clients_see_the_same_server() {
    if testkit::skip_without_upstream("upstream_clients_see_the_same_server") {
        return;
    }
    let theirs = start("ovsdb-upstream", Stack::upstream());
    let want = testkit::normalize_uuids(&script(&theirs));
    drop(theirs);
    let ours = Stack {
        ovsdb_server: Program::ferrovs(env!("CARGO_BIN_EXE_ferrovs"), "ovsdb-server"),
        ..Stack::upstream()
    };
    let mine = start("ovsdb-ours", ours);
    let got = testkit::normalize_uuids(&script(&mine));
    if want != got {
        let diff: Vec<String> = want
            .lines()
            .zip(got.lines())
            .filter(|(a, b)| a != b)
            .take(20)
            .map(|(a, b)| format!("  upstream: {a}\n  ours:     {b}"))
            .collect();
        panic!(
            "outputs differ:\n{}\n--- ours in full:\n{got}",
            diff.join("\n")
        );
    }

    // Remotes from the database: a manager added with ovs-vsctl is listened on.
    let mgr = mine.dir.join("mgr.sock");
    assert_eq!(
        run(
            &mine,
            "ovs-appctl",
            &[
                "-t",
                "ovsdb-server",
                "ovsdb-server/add-remote",
                "db:Open_vSwitch,Open_vSwitch,manager_options"
            ]
        ),
        "rc=0\n"
    );
    let target = format!("punix:{}", mgr.display());
    run(
        &mine,
        "ovs-vsctl",
        &["--db", &db(&mine), "--no-wait", "set-manager", &target],
    );
    mine.wait_until(Duration::from_secs(10), || mgr.exists());
    let out = run(
        &mine,
        "ovsdb-client",
        &["list-dbs", &format!("unix:{}", mgr.display())],
    );
    assert_eq!(out, "Open_vSwitch\n_Server\nrc=0\n");
    run(
        &mine,
        "ovs-vsctl",
        &["--db", &db(&mine), "--no-wait", "del-manager"],
    );
    assert!(
        mine.wait_until(Duration::from_secs(10), || !mgr.exists()),
        "manager socket still there after del-manager"
    );

    // `exit` answers, then the daemon removes its pidfile and sockets.
    let pid = mine.pid("ovsdb-server").expect("pidfile");
    assert_eq!(
        run(&mine, "ovs-appctl", &["-t", "ovsdb-server", "exit"]),
        "rc=0\n"
    );
    let proc_dir = format!("/proc/{pid}");
    assert!(
        mine.wait_until(Duration::from_secs(10), || !Path::new(&proc_dir).exists()),
        "still running"
    );
    assert!(!mine.dir.join("ovsdb-server.pid").exists());
    assert!(!mine.dir.join("db.sock").exists());
    assert!(!mine.dir.join(format!("ovsdb-server.{pid}.ctl")).exists());
    // Upstream reads the log we wrote.
    let log = run(&mine, "ovsdb-tool", &["show-log", &mine.path("conf.db")]);
    assert!(log.contains("add-br br0"), "{log}");
}
