//! Differential tests of our `ovsdb-tool` against upstream's
//! (`/usr/bin/ovsdb-tool`): the same commands and transactions through both,
//! comparing outputs (UUIDs and dates normalized) and cross-reading each
//! other's database files. Skipped when upstream is absent.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

const UPSTREAM: &str = "/usr/bin/ovsdb-tool";
const VSWITCH_SCHEMA: &str = "/usr/share/openvswitch/vswitch.ovsschema";

const TEST_SCHEMA: &str = r#"{"name":"T","version":"1.2.3","tables":{
 "A":{"columns":{"i":{"type":"integer"},"r":{"type":"real"},"b":{"type":"boolean"},"s":{"type":{"key":{"type":"string","minLength":1,"maxLength":5},"min":0,"max":1}},
   "e":{"type":{"key":{"type":"string","enum":["set",["x","y"]]},"min":0,"max":"unlimited"}},
   "m":{"type":{"key":"string","value":{"type":"integer","minInteger":0,"maxInteger":10},"min":0,"max":"unlimited"}},
   "ref":{"type":{"key":{"type":"uuid","refTable":"B"},"min":0,"max":"unlimited"}},
   "wref":{"type":{"key":{"type":"uuid","refTable":"B","refType":"weak"},"min":0,"max":"unlimited"}},
   "k":{"type":"string","mutable":false}},
   "indexes":[["i","k"]],"isRoot":true,"maxRows":5},
 "B":{"columns":{"name":{"type":"string"},"n":{"type":{"key":"integer","min":0,"max":3}}}}}}
"#;

/// Transactions whose results do not depend on random UUID order.
const TRANSACTIONS: &[&str] = &[
    r#"["T",{"op":"insert","table":"A","row":{"i":"x"}}]"#,
    r#"["T",{"op":"insert","table":"A","row":{"s":""}}]"#,
    r#"["T",{"op":"insert","table":"A","row":{"s":"abcdefg"}}]"#,
    r#"["T",{"op":"insert","table":"A","row":{"s":["set",["a","b"]]}}]"#,
    r#"["T",{"op":"insert","table":"A","row":{"e":"z"}}]"#,
    r#"["T",{"op":"insert","table":"A","row":{"m":["map",[["a",11]]]}}]"#,
    r#"["T",{"op":"insert","table":"A","row":{"m":["map",[["a",1],["a",2]]]}}]"#,
    r#"["T",{"op":"insert","table":"A","row":{"e":["set",["x","x"]]}}]"#,
    r#"["T",{"op":"insert","table":"A","row":{"ref":["uuid","5939840d-1ad2-4362-aa0e-e340a8fe7efa"]}}]"#,
    r#"["T",{"op":"insert","table":"A","row":{"zz":1}}]"#,
    r#"["T",{"op":"insert","table":"Q","row":{}}]"#,
    r#"["T",{"op":"foo","table":"A","row":{}}]"#,
    r#"["T",{"table":"A","row":{}}]"#,
    r#"["U",{"op":"insert","table":"A","row":{}}]"#,
    r#"[]"#,
    r#"{}"#,
    r#"["T",1]"#,
    r#"["T",{"op":"insert","table":"A","row":{},"bogus":1}]"#,
    r#"["T",{"op":"insert","table":"B","row":{"n":["set",[1,2,3,4]]}}]"#,
    r#"["T",{"op":"insert","table":"B","row":{"name":["set",[]]}}]"#,
    r#"["T",{"op":"insert","table":"A","row":{"ref":["uuid","zz"]}}]"#,
    r#"["T",{"op":"insert","table":"A","row":{"i":1},"uuid-name":"a"},{"op":"insert","table":"A","row":{"i":2},"uuid-name":"a"}]"#,
    r#"["T",{"op":"insert","table":"A","row":{"i":1,"k":"first","r":2.5,"b":true,"m":["map",[["x y",1],["a1",2]]],"e":["set",["x","y"]]},"uuid":"5939840d-1ad2-4362-aa0e-e340a8fe7efa"}]"#,
    r#"["T",{"op":"insert","table":"A","row":{"i":2},"uuid":"5939840d-1ad2-4362-aa0e-e340a8fe7efa"}]"#,
    r#"["T",{"op":"insert","table":"A","row":{"i":3}},{"op":"insert","table":"A","row":{"i":4}},{"op":"insert","table":"A","row":{"i":5}},{"op":"insert","table":"A","row":{"i":6}},{"op":"insert","table":"A","row":{"i":7}}]"#,
    r#"["T",{"op":"select","table":"A","where":[["e","<",1]]}]"#,
    r#"["T",{"op":"select","table":"A","where":[["i","foo",1]]}]"#,
    r#"["T",{"op":"select","table":"A","where":[["i","=="]]}]"#,
    r#"["T",{"op":"select","table":"A","where":[["i","==",1]],"columns":["i","k","m","e","r","b"]}]"#,
    r#"["T",{"op":"select","table":"A","where":[["m","includes",["map",[["a1",2]]]]],"columns":["i"]}]"#,
    r#"["T",{"op":"wait","table":"A","where":[["i","==",1]],"columns":["i"],"until":"==","rows":[{"i":1}],"timeout":0}]"#,
    r#"["T",{"op":"wait","table":"A","where":[["i","==",1]],"columns":["i"],"until":"!=","rows":[{"i":1}],"timeout":0}]"#,
    r#"["T",{"op":"wait","table":"A","where":[],"columns":["i"],"until":"==","rows":[{"i":9}]}]"#,
    r#"["T",{"op":"abort"}]"#,
    r#"["T",{"op":"assert","lock":"foo"}]"#,
    r#"["T",{"op":"commit","durable":true},{"op":"comment","comment":"x"}]"#,
    r#"["T",{"op":"mutate","table":"A","where":[],"mutations":[["i","/=",0]]}]"#,
    r#"["T",{"op":"mutate","table":"A","where":[],"mutations":[["i","+=",9223372036854775807]]}]"#,
    r#"["T",{"op":"mutate","table":"A","where":[],"mutations":[["k","+=",1]]}]"#,
    r#"["T",{"op":"mutate","table":"A","where":[],"mutations":[["m","+=",1]]}]"#,
    r#"["T",{"op":"insert","table":"B","row":{"n":["set",[1,2,3]]}},{"op":"mutate","table":"B","where":[],"mutations":[["n","insert",["set",[5]]]]}]"#,
    r#"["T",{"op":"update","table":"A","where":[],"row":{"k":"z"}}]"#,
    r#"["T",{"op":"mutate","table":"A","where":[["i","==",1]],"mutations":[["m","insert",["map",[["new",3],["a1",9]]]],["m","delete",["set",["x y"]]],["e","delete","x"],["i","*=",3],["r","-=",0.5]]}]"#,
    r#"["T",{"op":"insert","table":"B","row":{"name":"x"}}]"#,
    r#"["T",{"op":"insert","table":"A","row":{"i":100},"uuid-name":"a"},{"op":"insert","table":"B","row":{"name":"y"},"uuid-name":"b"},{"op":"mutate","table":"A","where":[["i","==",100]],"mutations":[["ref","insert",["set",[["named-uuid","b"]]]],["wref","insert",["set",[["named-uuid","b"]]]]]}]"#,
    r#"["T",{"op":"delete","table":"B","where":[]}]"#,
    r#"["T",{"op":"insert","table":"B","row":{"name":"z"},"uuid-name":"c"},{"op":"update","table":"A","where":[["i","==",100]],"row":{"ref":["named-uuid","c"]}}]"#,
    r#"["T",{"op":"insert","table":"B","row":{"name":"w"},"uuid-name":"w"},{"op":"update","table":"A","where":[["i","==",100]],"row":{"wref":["named-uuid","w"]}},{"op":"comment","comment":"weak one"}]"#,
    r#"["T",{"op":"delete","table":"A","where":[["i","==",100]]},{"op":"comment","comment":"gc"}]"#,
    r#"["T",{"op":"update","table":"A","where":[["i","==",3]],"row":{"s":"abc"}}]"#,
    r#"["T",{"op":"update","table":"A","where":[["i","==",3]],"row":{"s":["set",[]]}}]"#,
    "[1",
    "[1]x",
];

fn have_upstream() -> bool {
    if Path::new(UPSTREAM).exists() {
        return true;
    }
    eprintln!("skipping: upstream {UPSTREAM} is not installed");
    false
}

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("ferrovs-ovsdb-tool-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Runs a tool: `ours` selects our binary, else upstream. Returns
/// (stdout, stderr, exit status).
fn run(ours: bool, args: &[&str]) -> (String, String, i32) {
    let out = if ours {
        Command::new(env!("CARGO_BIN_EXE_ferrovs"))
            .arg("ovsdb-tool")
            .args(args)
            .output()
    } else {
        Command::new(UPSTREAM).args(args).output()
    }
    .unwrap();
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        // getopt names the program as it was invoked.
        String::from_utf8_lossy(&out.stderr).replace(UPSTREAM, "ovsdb-tool"),
        out.status.code().unwrap_or(-1),
    )
}

/// Replaces UUIDs by their order of first appearance and dates by `DATE`.
fn normalize(text: &str) -> String {
    let mut map: HashMap<String, usize> = HashMap::new();
    let mut out = String::new();
    let b = text.as_bytes();
    let mut i = 0;
    let is_hex = |c: u8| c.is_ascii_hexdigit() && !c.is_ascii_uppercase();
    while i < b.len() {
        if i + 36 <= b.len()
            && (0..36).all(|k| match k {
                8 | 13 | 18 | 23 => b[i + k] == b'-',
                _ => is_hex(b[i + k]),
            })
        {
            let u = &text[i..i + 36];
            let n = map.len();
            let id = *map.entry(u.to_string()).or_insert(n);
            out.push_str(&format!("UUID{id}"));
            i += 36;
            continue;
        }
        if text[i..].starts_with("\"_date\":") {
            out.push_str("\"_date\":\"DATE\"");
            i += 8;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            continue;
        }
        let c = text[i..].chars().next().unwrap();
        out.push(c);
        i += c.len_utf8();
    }
    out
}

/// Sorts the elements of every `["set", [...]]` and `["map", [...]]`: after
/// UUIDs are renamed, their order no longer follows the names.
fn sort_sets(v: &mut serde_json::Value) {
    use serde_json::Value;
    match v {
        Value::Array(a) => {
            let is_set = matches!(a.as_slice(), [Value::String(k), Value::Array(_)] if k == "set" || k == "map");
            for e in a.iter_mut() {
                sort_sets(e);
            }
            if is_set {
                if let Some(Value::Array(inner)) = a.get_mut(1) {
                    inner.sort_by_key(|e| e.to_string());
                }
            }
        }
        Value::Object(o) => o.values_mut().for_each(sort_sets),
        _ => {}
    }
}

fn write_schema(dir: &Path) -> String {
    let p = dir.join("t.ovsschema");
    std::fs::write(&p, TEST_SCHEMA).unwrap();
    p.to_string_lossy().into_owned()
}

#[test]
fn create_writes_upstream_bytes() {
    if !have_upstream() {
        return;
    }
    let d = scratch("create");
    let schema = write_schema(&d);
    for (s, name) in [(VSWITCH_SCHEMA, "v"), (schema.as_str(), "t")] {
        if !Path::new(s).exists() {
            continue;
        }
        let up = d.join(format!("{name}-up.db"));
        let me = d.join(format!("{name}-me.db"));
        assert_eq!(run(false, &["create", up.to_str().unwrap(), s]).2, 0);
        assert_eq!(run(true, &["create", me.to_str().unwrap(), s]).2, 0);
        assert_eq!(
            std::fs::read(&up).unwrap(),
            std::fs::read(&me).unwrap(),
            "{s}"
        );
    }
}

#[test]
fn transactions_match_and_files_cross_read() {
    if !have_upstream() {
        return;
    }
    let d = scratch("transact");
    let schema = write_schema(&d);
    let mut outputs = [String::new(), String::new()];
    let dbs = [d.join("up.db"), d.join("me.db")];
    for (k, ours) in [false, true].into_iter().enumerate() {
        let db = dbs[k].to_str().unwrap();
        assert_eq!(run(ours, &["create", db, &schema]).2, 0);
        for t in TRANSACTIONS {
            let (o, e, rc) = run(ours, &["transact", db, t]);
            outputs[k].push_str(&format!("{t}\n{o}{e}rc={rc}\n"));
        }
    }
    let (up, me) = (normalize(&outputs[0]), normalize(&outputs[1]));
    for (a, b) in up.lines().zip(me.lines()) {
        assert_eq!(a, b);
    }
    assert_eq!(up.lines().count(), me.lines().count());

    // Both tools print the same log for either file, at every verbosity.
    for db in &dbs {
        let db = db.to_str().unwrap();
        for more in [None, Some("-m"), Some("-mm")] {
            let mut args = vec![];
            args.extend(more);
            args.extend(["show-log", db]);
            let a = run(false, &args);
            let b = run(true, &args);
            assert_eq!(a, b, "show-log {args:?}");
        }
        let q = r#"["T",{"op":"select","table":"A","where":[["i","==",3]],"columns":["i","k","m","e","r","b","s"]},{"op":"select","table":"B","where":[],"columns":["name","n"]}]"#;
        assert_eq!(run(false, &["query", db, q]), run(true, &["query", db, q]));
    }

    // The records we wrote are the records upstream wrote.
    // (Members are compared sorted: rows of one table come in an order that
    // depends on their random UUIDs.)
    let recs = |p: &Path| -> Vec<String> {
        let text = normalize(&std::fs::read_to_string(p).unwrap());
        text.lines()
            .filter(|l| l.starts_with('{'))
            .map(|l| {
                let mut v = ovsdb::json::parse(l).unwrap();
                sort_sets(&mut v);
                ovsdb::json::to_string(&v, true)
            })
            .collect()
    };
    assert_eq!(recs(&dbs[0]), recs(&dbs[1]));

    // Compaction and conversion give the same contents.
    for ours in [false, true] {
        let db = dbs[if ours { 1 } else { 0 }].to_str().unwrap();
        assert_eq!(run(ours, &["compact", db]).2, 0);
    }
    let log = |p: &Path| run(false, &["-mm", "show-log", p.to_str().unwrap()]).0;
    let strip = |s: String| -> String {
        s.lines()
            .map(|l| {
                if l.starts_with("record 1:") {
                    "record 1:".to_string()
                } else {
                    l.to_string()
                }
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(
        normalize(&strip(log(&dbs[0]))).replace("UUID", "U"),
        normalize(&strip(log(&dbs[1]))).replace("UUID", "U")
    );
}

#[test]
fn command_lines_and_errors_match() {
    if !have_upstream() {
        return;
    }
    let d = scratch("errors");
    let schema = write_schema(&d);
    let db = d.join("t.db");
    let db = db.to_str().unwrap();
    assert_eq!(run(false, &["create", db, &schema]).2, 0);
    let torn = d.join("torn.db");
    let mut bytes = std::fs::read(db).unwrap();
    bytes.extend_from_slice(b"OVSDB JSON 50 0000000000000000000000000000000000000000\n{\"_da");
    std::fs::write(&torn, bytes).unwrap();
    let torn = torn.to_str().unwrap();
    let missing = d.join("missing.db");
    let missing = missing.to_str().unwrap();
    let cases: Vec<Vec<&str>> = vec![
        vec![],
        vec!["foo"],
        vec!["--foo"],
        vec!["-x"],
        vec!["--help"],
        vec!["--version"],
        vec!["db-name", "a", "b", "c"],
        vec!["transact"],
        vec!["compare-versions", "1.2.3", "<", "1.2.4"],
        vec!["compare-versions", "1.2.3", ">", "1.2.4"],
        vec!["compare-versions", "1.2.3", "x", "1.2.4"],
        vec!["compare-versions", "1.2", "<", "1.2.4"],
        vec!["db-name", db],
        vec!["db-version", db],
        vec!["db-cksum", db],
        vec!["db-is-standalone", db],
        vec!["db-is-clustered", db],
        vec!["db-cid", db],
        vec!["schema-name", &schema],
        vec!["schema-version", &schema],
        vec!["schema-cksum", &schema],
        vec!["db-name", &schema],
        vec!["db-name", missing],
        vec!["needs-conversion", db, &schema],
        vec!["create", db, &schema],
        vec!["create", missing, missing],
        vec!["show-log", torn],
        vec!["query", torn, "[\"T\"]"],
        vec!["query", db, ""],
        vec!["query", db, "[01]"],
        vec!["query", db, "{\"a\" 1}"],
        vec!["-vfoo", "db-name", db],
    ];
    for c in cases {
        assert_eq!(run(false, &c), run(true, &c), "{c:?}");
    }
}

/// A database written by upstream's server through `ovs-vsctl` (many
/// transactions: bridges, ports, bonds, mirrors, deletions) reads the same
/// through our tool, and upstream reads our compaction of it.
#[test]
fn reads_a_vswitch_database_written_by_upstream_server() {
    let server = "/usr/sbin/ovsdb-server";
    let vsctl = "/usr/bin/ovs-vsctl";
    if !have_upstream()
        || !Path::new(server).exists()
        || !Path::new(vsctl).exists()
        || !Path::new(VSWITCH_SCHEMA).exists()
    {
        eprintln!("skipping: upstream ovsdb-server/ovs-vsctl not installed");
        return;
    }
    let d = scratch("vswitch");
    let db = d.join("conf.db");
    let db_s = db.to_str().unwrap().to_string();
    assert_eq!(run(false, &["create", &db_s, VSWITCH_SCHEMA]).2, 0);
    let sock = d.join("db.sock");
    let ctl = d.join("ctl");
    let mut child = Command::new(server)
        .arg(format!("--remote=punix:{}", sock.display()))
        .arg(format!("--unixctl={}", ctl.display()))
        .arg("--no-chdir")
        .arg(&db_s)
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let vs = |args: &[&str]| {
        let st = Command::new(vsctl)
            .arg(format!("--db=unix:{}", sock.display()))
            .arg("--no-wait")
            .arg("--timeout=10")
            .args(args)
            .status()
            .unwrap();
        assert!(st.success(), "ovs-vsctl {args:?}");
    };
    // The server creates its socket shortly after starting.
    for _ in 0..100 {
        if sock.exists() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    vs(&["init"]);
    vs(&["add-br", "br0"]);
    for i in 1..=20 {
        let p = format!("p{i}");
        let tag = format!("tag={}", i % 7 + 1);
        let oc = format!("other_config:x={i}");
        vs(&[
            "add-port",
            "br0",
            &p,
            "--",
            "set",
            "interface",
            &p,
            "type=internal",
            "--",
            "set",
            "port",
            &p,
            &tag,
            &oc,
        ]);
    }
    for i in 1..=5 {
        vs(&["del-port", "br0", &format!("p{i}")]);
    }
    vs(&[
        "set",
        "bridge",
        "br0",
        "other_config:hwaddr=00:11:22:33:44:55",
        "external_ids:a=b",
    ]);
    vs(&["add-bond", "br0", "bond0", "a", "b", "c"]);
    vs(&[
        "--",
        "--id=@m",
        "create",
        "mirror",
        "name=m1",
        "select_all=true",
        "--",
        "add",
        "bridge",
        "br0",
        "mirrors",
        "@m",
    ]);
    vs(&["del-port", "br0", "p10"]);
    let _ = child.kill();
    let _ = child.wait();

    for more in [None, Some("-m"), Some("-mm")] {
        let mut args = vec![];
        args.extend(more);
        args.extend(["show-log", db_s.as_str()]);
        assert_eq!(run(false, &args), run(true, &args), "{args:?}");
    }
    let q = r#"["Open_vSwitch",{"op":"select","table":"Port","where":[],"columns":["name","tag","other_config","interfaces"]},{"op":"select","table":"Bridge","where":[],"columns":["name","ports","mirrors","other_config"]},{"op":"select","table":"Mirror","where":[],"columns":["name","select_all"]}]"#;
    let canonical = |out: String| -> String {
        let mut v = ovsdb::json::parse(&out).unwrap();
        sort_sets(&mut v);
        for r in v.as_array_mut().unwrap() {
            if let Some(rows) = r.get_mut("rows").and_then(|x| x.as_array_mut()) {
                rows.sort_by_key(|row| ovsdb::json::to_string(row, true));
            }
        }
        ovsdb::json::to_string(&v, true)
    };
    let up = canonical(run(false, &["query", &db_s, q]).0);
    assert_eq!(up, canonical(run(true, &["query", &db_s, q]).0));
    let copy = d.join("copy.db");
    std::fs::copy(&db, &copy).unwrap();
    let copy = copy.to_str().unwrap();
    assert_eq!(run(true, &["compact", copy]).2, 0);
    assert_eq!(up, canonical(run(false, &["query", copy, q]).0));
}
