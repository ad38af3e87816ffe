//! Our `ovsdb-client` against upstream's, on upstream's ovsdb-server and on
//! ours: every command's stdout, stderr and exit status must be identical
//! when both clients talk to the same server; across the two servers the
//! outputs must match after UUIDs are normalized. Monitors of both clients
//! run side by side on the same server and must print the same updates.
//! Skips with a message when the reference is not installed.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use testkit::{normalize_uuids, Program, Sandbox, Stack, SCHEMA};

fn ours() -> Program {
    Program::ferrovs(env!("CARGO_BIN_EXE_ferrovs"), "ovsdb-client")
}

fn theirs() -> Program {
    Program::path("/usr/bin/ovsdb-client")
}

fn our_stack() -> Stack {
    Stack::ferrovs(env!("CARGO_BIN_EXE_ferrovs"))
}

const POPULATE: &str = r#"["Open_vSwitch",
 {"op":"insert","table":"Open_vSwitch","row":{"bridges":["named-uuid","br"],"ssl":["named-uuid","ssl"],
   "external_ids":["map",[["system-id","s1"],["k y","v\"q<&>"]]],"next_cfg":3}},
 {"op":"insert","table":"Bridge","uuid-name":"br","row":{"name":"br0","ports":["named-uuid","p"],
   "other_config":["map",[["a","1"],["b","x,y"]]],"stp_enable":true,"flood_vlans":["set",[1,5,4094]]}},
 {"op":"insert","table":"Port","uuid-name":"p","row":{"name":"p0","interfaces":["named-uuid","i"],"tag":10}},
 {"op":"insert","table":"Interface","uuid-name":"i","row":{"name":"i0","type":"internal",
   "options":["map",[["remote_ip","1.2.3.4"]]],"ofport_request":7}},
 {"op":"insert","table":"SSL","uuid-name":"ssl","row":{"private_key":"/a b/key","certificate":"cert","ca_cert":"true"}}]"#;

/// A server of `stack` with the database populated.
fn server(tag: &str, stack: Stack) -> Sandbox {
    let sb = Sandbox::start_stack(tag, stack, false);
    let out = sb.run(&theirs(), &["transact", &remote(&sb), POPULATE]);
    assert_eq!(out.status, 0, "populate: {}", out.stderr);
    assert!(!out.stdout.contains("error"), "populate: {}", out.stdout);
    sb
}

fn remote(sb: &Sandbox) -> String {
    format!("unix:{}", sb.path("db.sock"))
}

/// Command lines run by both clients; `S` is replaced by the server.
fn commands() -> Vec<Vec<String>> {
    let sel = r#"["Open_vSwitch",{"op":"select","table":"Bridge","where":[["name","==","br0"]],"columns":["name","stp_enable","flood_vlans"]}]"#;
    let lines: Vec<Vec<&str>> = vec![
        vec!["list-dbs", "S"],
        vec!["get-schema", "S"],
        vec!["get-schema", "S", "Open_vSwitch"],
        vec!["--pretty", "get-schema", "S", "_Server"],
        vec!["get-schema-version", "S"],
        vec!["get-schema-cksum", "S"],
        vec!["list-tables", "S"],
        vec!["list-columns", "S"],
        vec!["list-columns", "S", "Open_vSwitch", "Bridge"],
        vec!["-f", "csv", "list-columns", "S", "Open_vSwitch", "Port"],
        vec!["list-columns", "S", "Open_vSwitch", "Nope"],
        vec!["dump", "S"],
        vec!["dump", "S", "-f", "list"],
        vec!["dump", "S", "-f", "html"],
        vec!["dump", "S", "-f", "csv"],
        vec!["dump", "S", "-f", "json"],
        vec!["dump", "S", "-f", "json", "--pretty", "Bridge"],
        vec!["dump", "S", "-d", "bare"],
        vec!["dump", "S", "-d", "json"],
        vec!["dump", "S", "--no-headings", "Interface"],
        vec!["dump", "S", "--bare", "Bridge"],
        vec!["dump", "S", "--max-column-width=6", "Bridge"],
        vec![
            "dump",
            "S",
            "Open_vSwitch",
            "Bridge",
            "name",
            "other_config",
            "flood_vlans",
            "_uuid",
        ],
        vec!["dump", "S", "Nope"],
        vec!["dump", "S", "Bridge", "nope"],
        vec!["dump", "S", "_Server"],
        vec!["-f", "xml", "dump", "S"],
        vec!["-d", "yaml", "dump", "S"],
        vec!["transact", "S", sel],
        vec!["--pretty", "transact", "S", sel],
        vec!["transact", "S", r#"["Open_vSwitch",{"op":"frob"}]"#],
        vec!["transact", "S", r#"["Nope"]"#],
        vec!["transact", "S", "[1]"],
        vec!["transact", "S", "{"],
        vec!["transact", "S", "\"x\""],
        vec!["transact", "S", "[\"Open_vSwitch\"]", "extra"],
        vec![
            "query",
            "S",
            r#"["Open_vSwitch",{"op":"insert","table":"Bridge","row":{"name":"q"}}]"#,
        ],
        vec!["query", "S", r#"["Open_vSwitch",{"op":"frob"}]"#],
        vec!["get-schema", "S", "Nope"],
        vec!["needs-conversion", "S", SCHEMA],
        vec!["monitor", "S", "Open_vSwitch", "Nope"],
        vec!["monitor", "S", "Open_vSwitch", "Bridge", "nope"],
        vec!["monitor", "S", "Open_vSwitch", "Bridge", "name,name"],
        vec!["monitor-cond", "S", "Open_vSwitch", "5", "Bridge"],
        vec!["wait", "S", "Open_vSwitch", "sideways"],
        vec!["frobnicate"],
        vec![],
        vec!["list-dbs", "unix:/nonexistent/db.sock"],
        vec!["list-dbs", "nope:x"],
    ];
    lines
        .into_iter()
        .map(|l| l.into_iter().map(String::from).collect())
        .collect()
}

fn run_both(sb: &Sandbox, line: &[String]) -> (testkit::Outcome, testkit::Outcome) {
    let s = remote(sb);
    let args: Vec<&str> = line
        .iter()
        .map(|a| if a == "S" { s.as_str() } else { a.as_str() })
        .collect();
    (sb.run(&theirs(), &args), sb.run(&ours(), &args))
}

fn same_on(tag: &str, stack: Stack) {
    let sb = server(tag, stack);
    let mut failures = Vec::new();
    for line in commands() {
        let (want, got) = run_both(&sb, &line);
        // Only `query` makes up UUIDs (of rows it does not commit).
        let norm = |o: &testkit::Outcome| testkit::Outcome {
            status: o.status,
            stdout: normalize_uuids(&o.stdout),
            stderr: o.stderr.clone(),
        };
        let (want, got) = (norm(&want), norm(&got));
        if want != got {
            failures.push(format!(
                "ovsdb-client {line:?}\n--- upstream (exit {})\n{}{}--- ours (exit {})\n{}{}",
                want.status, want.stdout, want.stderr, got.status, got.stdout, got.stderr
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} differ:\n{}",
        failures.len(),
        commands().len(),
        failures.join("\n")
    );
}

#[test]
fn same_output_as_upstream_client_on_upstream_server() {
    if testkit::skip_without_upstream("same_output_as_upstream_client_on_upstream_server") {
        return;
    }
    same_on("dbc-up", Stack::upstream());
}

#[test]
fn same_output_as_upstream_client_on_our_server() {
    if testkit::skip_without_upstream("same_output_as_upstream_client_on_our_server") {
        return;
    }
    same_on("dbc-ours", our_stack());
}

#[test]
fn our_server_answers_like_upstream_server() {
    if testkit::skip_without_upstream("our_server_answers_like_upstream_server") {
        return;
    }
    let up = server("dbc-x-up", Stack::upstream());
    let me = server("dbc-x-ours", our_stack());
    let mut failures = Vec::new();
    for line in commands() {
        // Server-specific lines: _Server contents and file paths differ.
        // Lines that print UUIDs cut short (which cannot be normalized) are
        // compared between clients on each server above.
        if line
            .iter()
            .any(|a| a == "_Server" || a == "html" || a.starts_with("--max-column-width"))
        {
            continue;
        }
        let (want, _) = run_both(&up, &line);
        let (_, got) = run_both(&me, &line);
        let norm = |o: &testkit::Outcome| {
            let text = format!("{}\n{}\n{}", o.status, o.stdout, o.stderr);
            normalize_uuids(
                &text
                    .replace(&up.path(""), "DIR/")
                    .replace(&me.path(""), "DIR/"),
            )
        };
        if norm(&want) != norm(&got) {
            failures.push(format!(
                "ovsdb-client {line:?}\n--- upstream server\n{}--- our server\n{}",
                norm(&want),
                norm(&got)
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// A monitor process writing to a file.
struct Watcher {
    child: Child,
    out: PathBuf,
}

impl Watcher {
    fn start(sb: &Sandbox, prog: &Program, name: &str, args: &[&str]) -> Watcher {
        let out = sb.dir.join(name);
        let file = std::fs::File::create(&out).unwrap();
        let child = Command::new(&prog.exe)
            .args(&prog.lead)
            .args(args)
            .stdout(Stdio::from(file))
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        Watcher { child, out }
    }

    fn text(&self) -> String {
        std::fs::read_to_string(&self.out).unwrap_or_default()
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn monitors_agree(tag: &str, stack: Stack) {
    let sb = server(tag, stack);
    let s = remote(&sb);
    let variants: Vec<Vec<&str>> = vec![
        vec![
            "monitor",
            &s,
            "Open_vSwitch",
            "Bridge",
            "name,other_config,stp_enable",
        ],
        vec![
            "monitor",
            &s,
            "Open_vSwitch",
            "Bridge",
            "name",
            "flood_vlans,!initial",
        ],
        vec!["monitor", &s, "Open_vSwitch", "ALL"],
        vec![
            "monitor-cond",
            &s,
            "Open_vSwitch",
            r#"[["name","!=","zz"]]"#,
            "Bridge",
            "name,stp_enable",
        ],
        vec![
            "monitor-cond-since",
            &s,
            "Open_vSwitch",
            "[]",
            "Bridge",
            "name,!delete",
        ],
        vec![
            "--timestamp",
            "-f",
            "csv",
            "monitor",
            &s,
            "Open_vSwitch",
            "Bridge",
            "name",
        ],
        vec![
            "-f",
            "json",
            "monitor-cond",
            &s,
            "Open_vSwitch",
            "[true]",
            "Bridge",
        ],
    ];
    let mut pairs = Vec::new();
    for (i, v) in variants.iter().enumerate() {
        let a = Watcher::start(&sb, &theirs(), &format!("up{i}.out"), v);
        let b = Watcher::start(&sb, &ours(), &format!("ours{i}.out"), v);
        pairs.push((v.clone(), a, b));
    }
    // Initial contents first.
    for (v, a, b) in &pairs {
        let ready = sb.wait_until(Duration::from_secs(20), || {
            !a.text().is_empty() && !b.text().is_empty()
        });
        assert!(ready, "{v:?}: no initial output");
    }
    let txns = [
        r#"["Open_vSwitch",{"op":"insert","table":"Bridge","uuid-name":"b","row":{"name":"br1","other_config":["map",[["k","v"]]]}},
           {"op":"mutate","table":"Open_vSwitch","where":[],"mutations":[["bridges","insert",["named-uuid","b"]]]}]"#,
        r#"["Open_vSwitch",{"op":"update","table":"Bridge","where":[["name","==","br1"]],"row":{"stp_enable":true,"flood_vlans":["set",[7]]}}]"#,
        r#"["Open_vSwitch",{"op":"update","table":"Interface","where":[],"row":{"ofport_request":9}}]"#,
        r#"["Open_vSwitch",{"op":"mutate","table":"Open_vSwitch","where":[],"mutations":[["bridges","delete",["set",[]]]]},
           {"op":"delete","table":"Bridge","where":[["name","==","br1"]]},
           {"op":"update","table":"Open_vSwitch","where":[],"row":{"next_cfg":4}}]"#,
    ];
    for t in txns {
        let out = sb.run(&theirs(), &["transact", &s, t]);
        assert_eq!(out.status, 0, "{t}: {}", out.stderr);
    }
    // A last change every monitor reports, so that we know all is printed.
    let out = sb.run(
        &theirs(),
        &["transact", &s, r#"["Open_vSwitch",{"op":"insert","table":"Bridge","uuid-name":"b","row":{"name":"br9"}},
           {"op":"mutate","table":"Open_vSwitch","where":[],"mutations":[["bridges","insert",["named-uuid","b"]]]}]"#],
    );
    assert_eq!(out.status, 0);
    let mut failures = Vec::new();
    for (v, a, b) in &pairs {
        let done = |w: &Watcher| w.text().contains("br9");
        let ok = sb.wait_until(Duration::from_secs(20), || done(a) && done(b));
        let strip = |t: String| {
            // Timestamps differ by when each client received the update.
            t.lines()
                .map(|l| {
                    if l.len() == 23 && l.starts_with("20") && l.as_bytes()[10] == b' ' {
                        "TIME".to_string()
                    } else {
                        l.to_string()
                    }
                })
                .collect::<Vec<_>>()
                .join("\n")
        };
        let (ta, tb) = (strip(a.text()), strip(b.text()));
        if !ok || ta != tb {
            failures.push(format!("{v:?}\n--- upstream\n{ta}\n--- ours\n{tb}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn monitors_print_like_upstream_on_upstream_server() {
    if testkit::skip_without_upstream("monitors_print_like_upstream_on_upstream_server") {
        return;
    }
    monitors_agree("dbc-mon-up", Stack::upstream());
}

#[test]
fn monitors_print_like_upstream_on_our_server() {
    if testkit::skip_without_upstream("monitors_print_like_upstream_on_our_server") {
        return;
    }
    monitors_agree("dbc-mon-ours", our_stack());
}

#[test]
fn detached_monitor_keeps_printing_and_leaves_a_pidfile() {
    if testkit::skip_without_upstream("detached_monitor_keeps_printing_and_leaves_a_pidfile") {
        return;
    }
    let sb = server("dbc-detach", our_stack());
    let s = remote(&sb);
    let out_path = sb.path("detached.out");
    let pidfile = sb.path("client.pid");
    let file = std::fs::File::create(&out_path).unwrap();
    let prog = ours();
    let st = Command::new(&prog.exe)
        .args(&prog.lead)
        .args([
            "--detach",
            "--no-chdir",
            &format!("--pidfile={pidfile}"),
            "monitor",
            &s,
            "Open_vSwitch",
            "Bridge",
            "name,external_ids",
        ])
        .stdout(Stdio::from(file))
        .status()
        .unwrap();
    assert!(st.success());
    // The parent returns after the initial contents are printed.
    let initial = std::fs::read_to_string(&out_path).unwrap();
    assert!(initial.contains("initial br0"), "{initial}");
    let pid = std::fs::read_to_string(&pidfile)
        .unwrap()
        .trim()
        .to_string();
    let out = sb.run(&theirs(), &["transact", &s, r#"["Open_vSwitch",{"op":"update","table":"Bridge","where":[],"row":{"external_ids":["map",[["k","br7"]]]}}]"#]);
    assert_eq!(out.status, 0);
    let seen = sb.wait_until(Duration::from_secs(20), || {
        std::fs::read_to_string(&out_path)
            .unwrap_or_default()
            .contains("br7")
    });
    let _ = Command::new("kill").arg(&pid).status();
    assert!(seen, "detached monitor printed no update");
}

#[test]
fn backup_and_restore_round_trip() {
    if testkit::skip_without_upstream("backup_and_restore_round_trip") {
        return;
    }
    for (tag, stack) in [
        ("dbc-bk-up", Stack::upstream()),
        ("dbc-bk-ours", our_stack()),
    ] {
        let sb = server(tag, stack);
        let s = remote(&sb);
        let records = |prog: &Program| -> (Vec<serde_json::Value>, Vec<u8>) {
            let out = Command::new(&prog.exe)
                .args(&prog.lead)
                .args(["backup", &s])
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            let text = String::from_utf8_lossy(&out.stdout).into_owned();
            let mut v = Vec::new();
            for (i, line) in text.lines().enumerate() {
                if i % 2 == 1 {
                    let mut j: serde_json::Value = serde_json::from_str(line).unwrap();
                    if let Some(o) = j.as_object_mut() {
                        o.remove("_date");
                    }
                    v.push(j);
                } else {
                    assert!(line.starts_with("OVSDB JSON "), "{line}");
                }
            }
            (v, out.stdout)
        };
        let (want, _) = records(&theirs());
        let (got, bytes) = records(&ours());
        assert_eq!(want, got, "{tag}: backups differ");
        // The backup is a valid database file for upstream's ovsdb-tool.
        let file = sb.path("backup.db");
        std::fs::write(&file, &bytes).unwrap();
        let check = sb.run(&Program::path("/usr/bin/ovsdb-tool"), &["db-name", &file]);
        assert_eq!(check.stdout.trim(), "Open_vSwitch", "{}", check.stderr);

        let before = sb.run(&theirs(), &["dump", &s]).stdout;
        sb.run(&theirs(), &["transact", &s, r#"["Open_vSwitch",{"op":"update","table":"Bridge","where":[],"row":{"external_ids":["map",[["x","changed"]]]}}]"#]);
        let restore = Command::new(&ours().exe)
            .args(&ours().lead)
            .args(["restore", &s])
            .stdin(Stdio::from(std::fs::File::open(&file).unwrap()))
            .output()
            .unwrap();
        assert!(
            restore.status.success(),
            "{}",
            String::from_utf8_lossy(&restore.stderr)
        );
        let after = sb.run(&theirs(), &["dump", &s]).stdout;
        assert_eq!(
            normalize_uuids(&before),
            normalize_uuids(&after),
            "{tag}: restore"
        );
    }
}

/// `monitor-cond-since` with a last transaction id: standalone databases
/// keep no history, so upstream's server answers `found: false` with the
/// all-zero id and everything; ours the same, for either client.
#[test]
fn monitor_cond_since_with_an_id_like_upstream() {
    if testkit::skip_without_upstream("monitor_cond_since_with_an_id_like_upstream") {
        return;
    }
    let up = server("dbc-since-up", Stack::upstream());
    let me = server("dbc-since-ours", our_stack());
    let mut failures = Vec::new();
    for id in [
        "01234567-89ab-cdef-0123-456789abcdef",
        "00000000-0000-0000-0000-000000000000",
        "not-a-uuid",
    ] {
        let run = |sb: &Sandbox, prog: &Program, n: &str| {
            let s = remote(sb);
            let args = [
                "monitor-cond-since",
                &s,
                "Open_vSwitch",
                id,
                "[]",
                "Bridge",
                "name",
            ];
            let mut w = Watcher::start(sb, prog, n, &args);
            // Until the initial contents are printed, or the client gives up.
            sb.wait_until(Duration::from_secs(20), || {
                w.text().contains("br0") || matches!(w.child.try_wait(), Ok(Some(_)))
            });
            normalize_uuids(&w.text())
        };
        let want = run(&up, &theirs(), "since-up.out");
        for (what, got) in [
            (
                "upstream client, our server",
                run(&me, &theirs(), "since-a.out"),
            ),
            (
                "our client, upstream server",
                run(&up, &ours(), "since-b.out"),
            ),
            ("our client, our server", run(&me, &ours(), "since-c.out")),
        ] {
            if got != want {
                failures.push(format!("{id} ({what})\n--- want\n{want}--- got\n{got}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Schemas derived from the Open_vSwitch schema for `convert`: a newer
/// version (a column added to Bridge, one removed) and one whose Bridge
/// column type the data does not fit.
fn conversion_schemas(dir: &std::path::Path) -> (String, String) {
    let text = std::fs::read_to_string(SCHEMA).unwrap();
    let mut s: serde_json::Value = serde_json::from_str(&text).unwrap();
    s["version"] = "8.9.0".into();
    let cols = s["tables"]["Bridge"]["columns"].as_object_mut().unwrap();
    cols.insert(
        "newcol".into(),
        serde_json::json!({"type": {"key": "string", "min": 0, "max": 1}}),
    );
    cols.remove("flood_vlans");
    let good = dir.join("new.ovsschema");
    std::fs::write(&good, serde_json::to_string_pretty(&s).unwrap()).unwrap();
    s["tables"]["Bridge"]["columns"]["stp_enable"] = serde_json::json!({"type": "integer"});
    let bad = dir.join("bad.ovsschema");
    std::fs::write(&bad, serde_json::to_string_pretty(&s).unwrap()).unwrap();
    (
        good.to_string_lossy().into_owned(),
        bad.to_string_lossy().into_owned(),
    )
}

/// What one client sees of an online schema conversion on one server.
fn conversion(tag: &str, stack: Stack, client: &Program) -> String {
    let sb = server(tag, stack);
    let s = remote(&sb);
    let (good, bad) = conversion_schemas(&sb.dir);
    // A monitor that must end when the database changes its schema.
    let mon_out = sb.dir.join("mon.out");
    let mut mon = Command::new(&client.exe)
        .args(&client.lead)
        .args(["monitor", &s, "Open_vSwitch", "Bridge", "name"])
        .stdout(Stdio::from(std::fs::File::create(&mon_out).unwrap()))
        .stderr(Stdio::from(
            std::fs::File::create(sb.dir.join("mon.err")).unwrap(),
        ))
        .spawn()
        .unwrap();
    let read = |p: &str| std::fs::read_to_string(sb.dir.join(p)).unwrap_or_default();
    assert!(sb.wait_until(Duration::from_secs(20), || read("mon.out").contains("br0")));
    let mut report = String::new();
    let mut record = |what: &str, o: testkit::Outcome| {
        report.push_str(&format!(
            "## {what}: exit {}\n{}{}",
            o.status, o.stdout, o.stderr
        ));
    };
    record("convert bad", sb.run(client, &["convert", &s, &bad]));
    record("convert good", sb.run(client, &["convert", &s, &good]));
    record("version", sb.run(client, &["get-schema-version", &s]));
    record(
        "needs-conversion",
        sb.run(client, &["needs-conversion", &s, &good]),
    );
    record(
        "dump",
        sb.run(client, &["dump", &s, "Bridge", "name", "newcol"]),
    );
    let ended = sb.wait_until(Duration::from_secs(20), || {
        matches!(mon.try_wait(), Ok(Some(_)))
    });
    let _ = mon.kill();
    let status = mon.wait().ok().and_then(|s| s.code());
    report.push_str(&format!(
        "## monitor (ended: {ended}, exit {status:?})\n{}{}",
        read("mon.out"),
        read("mon.err").replace(&s, "SERVER")
    ));
    // The file is one schema record and one snapshot, as upstream's tool
    // reads it.
    let log = sb.run(
        &Program::path("/usr/bin/ovsdb-tool"),
        &["show-log", &sb.path("conf.db")],
    );
    report.push_str(&format!("## show-log: exit {}\n", log.status));
    for l in log.stdout.lines() {
        // The date of the snapshot differs.
        let l = match (l.find(": 20"), l.starts_with("record ")) {
            (Some(i), true) => format!("{} DATE{}", &l[..i + 1], l.get(i + 25..).unwrap_or("")),
            _ => l.to_string(),
        };
        report.push_str(&l);
        report.push('\n');
    }
    normalize_uuids(&report)
}

/// `ovsdb-client convert`: the error for data that does not fit, the
/// conversion, the new schema served, a monitor ended as the database is
/// replaced, and the file rewritten; the same in every combination of
/// upstream's and our server and client.
#[test]
fn online_conversion_like_upstream() {
    if testkit::skip_without_upstream("online_conversion_like_upstream") {
        return;
    }
    let want = conversion("conv-uu", Stack::upstream(), &theirs());
    assert!(want.contains("8.9.0"), "{want}");
    for (tag, stack, client) in [
        ("conv-ou", our_stack(), theirs()),
        ("conv-uo", Stack::upstream(), ours()),
        ("conv-oo", our_stack(), ours()),
    ] {
        let got = conversion(tag, stack, &client);
        assert_eq!(want, got, "{tag}");
    }
}
