//! Remotes from the database (`--remote=db:Open_vSwitch,Open_vSwitch,
//! manager_options`): the server listens and connects where the Manager
//! rows say, and writes each remote's state back into `is_connected` and
//! `status` as upstream's does. Compared with the reference server.
//! Skips without the reference.

use std::os::unix::net::UnixStream;
use std::time::Duration;
use testkit::{Program, Sandbox, Stack};

/// The Manager rows as `target is_connected status`, sorted, once every
/// remote has reported (the listener with a client connected, the bound
/// TCP port, the failing outgoing connection).
fn manager_rows(sb: &Sandbox) -> Vec<String> {
    let msock = sb.path("m.sock");
    sb.vsctl(&[
        "--no-wait",
        "set-manager",
        "ptcp:0:127.0.0.1",
        "tcp:127.0.0.1:1",
        &format!("punix:{msock}"),
    ])
    .unwrap();
    let mut client = None;
    let mut rows = Vec::new();
    let ok = sb.wait_until(Duration::from_secs(30), || {
        if client.is_none() {
            client = UnixStream::connect(&msock).ok();
        }
        let out = sb
            .vsctl(&[
                "--no-wait",
                "--bare",
                "--columns=target,is_connected,status",
                "list",
                "Manager",
            ])
            .unwrap_or_default();
        rows = out
            .split("\n\n")
            .map(|r| {
                let r = r.trim().replace('\n', " ");
                // The port bound for ptcp:0 differs from run to run.
                match r.find("bound_port=") {
                    Some(i) => {
                        let rest = &r[i + 11..];
                        let end = rest.find([' ', ',']).unwrap_or(rest.len());
                        format!("{}bound_port=PORT{}", &r[..i], &rest[end..])
                    }
                    None => r,
                }
            })
            .filter(|r| !r.is_empty())
            .collect();
        rows.sort();
        rows.len() == 3
            && rows.iter().any(|r| r.contains("m.sock true"))
            && rows.iter().any(|r| r.contains("bound_port=PORT"))
            && rows.iter().any(|r| r.contains("state=BACKOFF"))
    });
    assert!(ok, "status never complete: {rows:?}");
    drop(client);
    rows.iter()
        .map(|r| r.replace(&sb.dir.to_string_lossy().into_owned(), "DIR"))
        .collect()
}

#[test]
fn manager_status_written_back_like_upstream() {
    if testkit::skip_without_upstream("manager_status_written_back_like_upstream") {
        return;
    }
    let up = Sandbox::start_db_only("mgr-up");
    let ours = Sandbox::start_stack(
        "mgr-ours",
        Stack::ferrovs(env!("CARGO_BIN_EXE_ferrovs")),
        false,
    );
    let want = manager_rows(&up);
    let got = manager_rows(&ours);
    assert_eq!(want, got);
}

/// A schema whose `Conn` rows configure remotes with every option upstream
/// reads (`Open_vSwitch`'s Manager lacks `read_only` and `role`; OVN's
/// Connection tables have them).
const CONN_SCHEMA: &str = r#"{"name":"M","version":"1.0.0","tables":{
 "Root":{"isRoot":true,"columns":{"conns":{"type":{"key":{"type":"uuid","refTable":"Conn"},"min":0,"max":"unlimited"}},"n":{"type":"integer"}}},
 "Conn":{"columns":{"target":{"type":"string"},"read_only":{"type":"boolean"},"role":{"type":"string"},
   "inactivity_probe":{"type":{"key":"integer","min":0,"max":1}},"max_backoff":{"type":{"key":"integer","min":0,"max":1}},
   "other_config":{"type":{"key":"string","value":"string","min":0,"max":"unlimited"}},
   "is_connected":{"type":"boolean","ephemeral":true},
   "status":{"type":{"key":"string","value":"string","min":0,"max":"unlimited"},"ephemeral":true}}}}}"#;

/// One JSON-RPC request on `s`; the reply with its id (notifications are
/// skipped).
fn call(
    s: &mut UnixStream,
    framer: &mut rpc::framing::Framer,
    req: serde_json::Value,
) -> serde_json::Value {
    use std::io::{Read, Write};
    let id = req["id"].clone();
    s.write_all(&serde_json::to_vec(&req).unwrap()).unwrap();
    let mut buf = [0u8; 4096];
    loop {
        while let Ok(Some(v)) = framer.next_value() {
            if v["id"] == id && v.get("method").is_none() {
                return v;
            }
        }
        let n = s.read(&mut buf).unwrap();
        assert!(n > 0, "connection closed waiting for {req}");
        framer.push(&buf[..n]);
    }
}

/// What a server configured through `Conn` rows does: a read-only remote's
/// transactions, a remote with a 1 s inactivity probe dropping a silent
/// client, and the lock status of an active remote. Returns the texts to
/// compare with the other implementation.
fn remote_options_run(stack: Stack, tag: &str) -> Vec<String> {
    use serde_json::json;
    let mut sb = Sandbox::empty(tag, stack.clone());
    let schema = sb.path("m.ovsschema");
    std::fs::write(&schema, CONN_SCHEMA).unwrap();
    let db = sb.path("m.db");
    sb.run(&stack.ovsdb_tool, &["create", &db, &schema])
        .ok("create")
        .unwrap();
    let act = sb.path("act.sock");
    let listener = std::os::unix::net::UnixListener::bind(&act).unwrap();
    let rows = json!(["M",
        {"op":"insert","table":"Conn","uuid-name":"ro","row":{"target":format!("punix:{}", sb.path("ro.sock")),"read_only":true,"role":"reader","other_config":["map",[["dscp","10"]]]}},
        {"op":"insert","table":"Conn","uuid-name":"pr","row":{"target":format!("punix:{}", sb.path("probe.sock")),"inactivity_probe":1000}},
        {"op":"insert","table":"Conn","uuid-name":"ac","row":{"target":format!("unix:{act}"),"max_backoff":2000}},
        {"op":"insert","table":"Root","row":{"conns":["set",[["named-uuid","ro"],["named-uuid","pr"],["named-uuid","ac"]]]}}]);
    sb.run(&stack.ovsdb_tool, &["transact", &db, &rows.to_string()])
        .ok("transact")
        .unwrap();
    sb.start_ovsdb_server_with(&[
        &format!("--remote=punix:{}", sb.path("db.sock")),
        "--remote=db:M,Root,conns",
        &db,
    ]);
    let mut out = Vec::new();

    // Read-only: reads run, writes fail after their own checks.
    let ro = format!("unix:{}", sb.path("ro.sock"));
    assert!(
        sb.wait_until(Duration::from_secs(20), || UnixStream::connect(
            sb.path("ro.sock")
        )
        .is_ok())
    );
    for txn in [
        r#"["M",{"op":"select","table":"Root","where":[],"columns":["n"]},{"op":"mutate","table":"Root","where":[],"mutations":[["n","+=",1]]},{"op":"insert","table":"Root","row":{}}]"#,
        r#"["M",{"op":"comment","comment":"x"},{"op":"commit","durable":false}]"#,
        r#"["M",{"op":"insert","table":"Root","row":{"bad":1}}]"#,
        r#"["M",{"op":"delete","table":"Conn","where":[]}]"#,
        r#"["M",{"op":"abort"}]"#,
    ] {
        let o = sb.run(
            &Program::path("/usr/bin/ovsdb-client"),
            &["transact", &ro, txn],
        );
        out.push(format!("{} {} {}", o.status, o.stdout, o.stderr));
    }

    // Inactivity probe: a client that never answers `echo` is dropped.
    let mut silent = None;
    assert!(sb.wait_until(Duration::from_secs(20), || {
        silent = UnixStream::connect(sb.path("probe.sock")).ok();
        silent.is_some()
    }));
    let mut silent = silent.unwrap();
    silent
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut got = Vec::new();
    let closed = std::io::Read::read_to_end(&mut silent, &mut got).is_ok();
    let text = String::from_utf8_lossy(&got).into_owned();
    out.push(format!(
        "probe: closed={closed} echo={}",
        text.contains(r#""method":"echo""#)
    ));

    // Lock status of the active remote: held, waited for, lost.
    let mut other = UnixStream::connect(sb.path("db.sock")).unwrap();
    let mut of = rpc::framing::Framer::new(1 << 20);
    call(
        &mut other,
        &mut of,
        json!({"method":"lock","params":["L3"],"id":1}),
    );
    let (mut peer, _) = listener.accept().unwrap();
    let mut pf = rpc::framing::Framer::new(1 << 20);
    for (i, (m, l)) in [
        ("lock", "L1"),
        ("lock", "L2"),
        ("lock", "L3"),
        ("steal", "L4"),
    ]
    .iter()
    .enumerate()
    {
        let r = call(
            &mut peer,
            &mut pf,
            json!({"method": m, "params": [l], "id": i}),
        );
        out.push(format!("{m} {l}: {}", r["result"]));
    }
    let r = call(
        &mut other,
        &mut of,
        json!({"method":"steal","params":["L4"],"id":2}),
    );
    out.push(format!("other steal L4: {}", r["result"]));
    let mut status = String::new();
    let select = r#"["M",{"op":"select","table":"Conn","where":[["target","==","TARGET"]],"columns":["is_connected","status"]}]"#
        .replace("TARGET", &format!("unix:{act}"));
    let ok = sb.wait_until(Duration::from_secs(30), || {
        let o = sb.run(
            &Program::path("/usr/bin/ovsdb-client"),
            &["transact", &format!("unix:{}", sb.path("db.sock")), &select],
        );
        status = o.stdout;
        status.contains("locks_lost")
    });
    assert!(ok, "no lock status: {status}");
    // Seconds since connecting vary.
    let re_secs = |s: &str| {
        let mut t = s.to_string();
        for key in ["sec_since_connect", "sec_since_disconnect"] {
            if let Some(i) = t.find(&format!("[\"{key}\",\"")) {
                let start = i + key.len() + 5;
                if let Some(len) = t[start..].find('"') {
                    t.replace_range(start..start + len, "N");
                }
            }
        }
        t
    };
    out.push(re_secs(&status));
    drop(peer);
    out.iter()
        .map(|l| l.replace(&sb.dir.to_string_lossy().into_owned(), "DIR"))
        .collect()
}

#[test]
fn remote_options_like_upstream() {
    if testkit::skip_without_upstream("remote_options_like_upstream") {
        return;
    }
    let want = remote_options_run(Stack::upstream(), "opts-up");
    let got = remote_options_run(Stack::ferrovs(env!("CARGO_BIN_EXE_ferrovs")), "opts-ours");
    assert_eq!(want, got);
    assert!(
        want.iter().any(|l| l.contains("read only mode")),
        "{want:?}"
    );
    assert!(
        want.iter().any(|l| l.contains("locks_held")
            && l.contains("locks_waiting")
            && l.contains("locks_lost")),
        "{want:?}"
    );
    assert!(
        want.iter().any(|l| l == "probe: closed=true echo=true"),
        "{want:?}"
    );
}
