//! Our `ovsdb-server` driven by upstream clients: the same `ovs-vsctl` and
//! `ovsdb-client` script runs against upstream's server and ours, and the
//! outputs must match after UUIDs are normalized; upstream `ovs-appctl`
//! controls our daemon (`--detach`, `--pidfile`, `exit` cleans up).
//! Skips with a message when the upstream binaries are not installed.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const SCHEMA: &str = "/usr/share/openvswitch/vswitch.ovsschema";

fn find(name: &str) -> Option<PathBuf> {
    ["/usr/sbin", "/usr/bin"]
        .iter()
        .map(|d| Path::new(d).join(name))
        .find(|p| p.exists())
}

/// A daemon in its own directory, stopped and removed on drop.
struct Daemon {
    dir: PathBuf,
    pid: Option<i32>,
}

impl Daemon {
    fn start(tag: &str, server: &Path, pre: &[&str]) -> Daemon {
        let dir = std::env::temp_dir().join(format!("ferrovs-ovsdb-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let mut d = Daemon { dir, pid: None };
        let db = d.dir.join("conf.db");
        let st = Command::new(find("ovsdb-tool").unwrap())
            .arg("create")
            .arg(&db)
            .arg(SCHEMA)
            .status()
            .unwrap();
        assert!(st.success());
        let st = Command::new(server)
            .args(pre)
            .arg("--detach")
            .arg("--no-chdir")
            .arg("--pidfile")
            .arg("--log-file")
            .arg(format!(
                "--remote=punix:{}",
                d.dir.join("db.sock").display()
            ))
            .arg(&db)
            .env("OVS_RUNDIR", &d.dir)
            .env("OVS_LOGDIR", &d.dir)
            .status()
            .unwrap();
        assert!(st.success(), "{} did not start", server.display());
        // --detach returns once the daemon is ready.
        let pid = std::fs::read_to_string(d.dir.join("ovsdb-server.pid")).unwrap();
        d.pid = Some(pid.trim().parse().unwrap());
        d
    }

    fn db(&self) -> String {
        format!("unix:{}", self.dir.join("db.sock").display())
    }

    fn run(&self, tool: &str, args: &[&str]) -> String {
        let out = Command::new(find(tool).unwrap())
            .args(args)
            .env("OVS_RUNDIR", &self.dir)
            .output()
            .unwrap();
        format!(
            "{}{}rc={}\n",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            out.status.code().unwrap_or(-1)
        )
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Some(pid) = self.pid {
            if Path::new(&format!("/proc/{pid}")).exists() {
                let _ = Command::new("kill").arg(pid.to_string()).status();
                let until = Instant::now() + Duration::from_secs(5);
                while Instant::now() < until && Path::new(&format!("/proc/{pid}")).exists() {
                    std::thread::sleep(Duration::from_millis(20));
                }
                let _ = Command::new("kill").arg("-9").arg(pid.to_string()).status();
            }
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Replaces each distinct UUID by `<N>` in order of appearance.
fn normalize(text: &str) -> String {
    let mut seen: Vec<String> = Vec::new();
    let mut out = String::new();
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let is_uuid = i + 36 <= b.len()
            && b[i..i + 36].iter().enumerate().all(|(k, c)| {
                if [8, 13, 18, 23].contains(&k) {
                    *c == b'-'
                } else {
                    c.is_ascii_hexdigit()
                }
            });
        if is_uuid {
            let u = &text[i..i + 36];
            let n = match seen.iter().position(|s| s == u) {
                Some(n) => n,
                None => {
                    seen.push(u.to_string());
                    seen.len() - 1
                }
            };
            out.push_str(&format!("<{n}>"));
            i += 36;
        } else {
            let ch = text[i..].chars().next().unwrap_or(' ');
            out.push(ch);
            i += ch.len_utf8();
        }
    }
    out
}

fn script(d: &Daemon) -> String {
    let db = d.db();
    let db = db.as_str();
    let vsctl = |args: &[&str]| {
        let mut a = vec!["--db", db, "--no-wait"];
        a.extend_from_slice(args);
        d.run("ovs-vsctl", &a)
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
    out += &d.run("ovsdb-client", &["list-dbs", db]);
    out += &d.run("ovsdb-client", &["list-tables", db]);
    out += &d.run(
        "ovsdb-client",
        &["dump", db, "Open_vSwitch", "Bridge", "name", "fail_mode"],
    );
    out += &d.run(
        "ovsdb-client",
        &[
            "transact",
            db,
            r#"["Open_vSwitch",{"op":"wait","table":"Bridge","where":[["name","==","br0"]],"columns":["fail_mode"],"until":"==","rows":[{"fail_mode":"secure"}],"timeout":0}]"#,
        ],
    );
    out += &d.run(
        "ovsdb-client",
        &[
            "transact",
            db,
            r#"["Open_vSwitch",{"op":"select","table":"Nope","where":[]}]"#,
        ],
    );
    out += &d.run("ovsdb-client", &["get-schema-version", db]);
    out += &d.run(
        "ovs-appctl",
        &["-t", "ovsdb-server", "ovsdb-server/list-dbs"],
    );
    out += &d.run(
        "ovs-appctl",
        &["-t", "ovsdb-server", "ovsdb-server/list-remotes"],
    );
    out.replace(d.dir.to_str().unwrap(), "DIR")
}

#[test]
fn upstream_clients_see_the_same_server() {
    let Some(upstream_server) = find("ovsdb-server") else {
        eprintln!("SKIP: upstream ovsdb-server not installed (apt-get install openvswitch-switch)");
        return;
    };
    for tool in ["ovsdb-tool", "ovs-vsctl", "ovsdb-client", "ovs-appctl"] {
        if find(tool).is_none() || !Path::new(SCHEMA).exists() {
            eprintln!("SKIP: upstream {tool} or the vswitch schema is not installed");
            return;
        }
    }
    let ours = PathBuf::from(env!("CARGO_BIN_EXE_ferrovs"));
    let theirs = Daemon::start("upstream", &upstream_server, &[]);
    let want = normalize(&script(&theirs));
    drop(theirs);
    let mine = Daemon::start("ours", &ours, &["ovsdb-server"]);
    let got = normalize(&script(&mine));
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
        mine.run(
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
    mine.run(
        "ovs-vsctl",
        &["--db", &mine.db(), "--no-wait", "set-manager", &target],
    );
    let until = Instant::now() + Duration::from_secs(10);
    while Instant::now() < until && !mgr.exists() {
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = mine.run(
        "ovsdb-client",
        &["list-dbs", &format!("unix:{}", mgr.display())],
    );
    assert_eq!(out, "Open_vSwitch\n_Server\nrc=0\n");
    mine.run(
        "ovs-vsctl",
        &["--db", &mine.db(), "--no-wait", "del-manager"],
    );
    let until = Instant::now() + Duration::from_secs(10);
    while Instant::now() < until && mgr.exists() {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        !mgr.exists(),
        "manager socket still there after del-manager"
    );

    // `exit` answers, then the daemon removes its pidfile and sockets.
    let pid = mine.pid.unwrap();
    assert_eq!(
        mine.run("ovs-appctl", &["-t", "ovsdb-server", "exit"]),
        "rc=0\n"
    );
    let until = Instant::now() + Duration::from_secs(10);
    while Instant::now() < until && Path::new(&format!("/proc/{pid}")).exists() {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        !Path::new(&format!("/proc/{pid}")).exists(),
        "still running"
    );
    assert!(!mine.dir.join("ovsdb-server.pid").exists());
    assert!(!mine.dir.join("db.sock").exists());
    assert!(!mine.dir.join(format!("ovsdb-server.{pid}.ctl")).exists());
    // Upstream reads the log we wrote.
    let log = mine.run(
        "ovsdb-tool",
        &["show-log", mine.dir.join("conf.db").to_str().unwrap()],
    );
    assert!(log.contains("add-br br0"), "{log}");
}
