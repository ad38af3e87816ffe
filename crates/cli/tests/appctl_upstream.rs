//! Our `ovs-appctl` against an upstream daemon (ovsdb-server started in a
//! temporary directory), compared byte for byte with upstream's
//! `ovs-appctl` on the same command lines (log timestamps normalized).
//! Skips with a message when the upstream binaries are not installed.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const UPSTREAM_APPCTL: &str = "/usr/bin/ovs-appctl";
const UPSTREAM_SERVER: &str = "/usr/sbin/ovsdb-server";
const UPSTREAM_TOOL: &str = "/usr/bin/ovsdb-tool";
const SCHEMA: &str = "/usr/share/openvswitch/vswitch.ovsschema";

fn find(path: &str) -> Option<PathBuf> {
    let p = PathBuf::from(path);
    if p.exists() {
        return Some(p);
    }
    // ovsdb-server is in /usr/sbin on Debian, /usr/bin elsewhere.
    let name = p.file_name()?.to_str()?.to_string();
    ["/usr/sbin", "/usr/bin"]
        .iter()
        .map(|d| Path::new(d).join(&name))
        .find(|p| p.exists())
}

/// An upstream ovsdb-server in a temporary directory, killed and removed
/// on drop (also when the test fails).
struct Daemon {
    dir: PathBuf,
    pid: Option<i32>,
}

impl Daemon {
    fn start() -> Option<Daemon> {
        let server = find(UPSTREAM_SERVER)?;
        let tool = find(UPSTREAM_TOOL)?;
        if find(UPSTREAM_APPCTL).is_none() || !Path::new(SCHEMA).exists() {
            return None;
        }
        let dir = std::env::temp_dir().join(format!("ferrovs-appctl-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let mut d = Daemon { dir, pid: None };
        let db = d.dir.join("conf.db");
        let st = Command::new(tool)
            .arg("create")
            .arg(&db)
            .arg(SCHEMA)
            .status()
            .unwrap();
        assert!(st.success());
        let st = Command::new(server)
            .arg("--detach")
            .arg("--no-chdir")
            .arg(format!(
                "--pidfile={}",
                d.dir.join("ovsdb-server.pid").display()
            ))
            .arg(format!(
                "--log-file={}",
                d.dir.join("ovsdb-server.log").display()
            ))
            .arg(format!(
                "--remote=punix:{}",
                d.dir.join("db.sock").display()
            ))
            .arg(&db)
            .env("OVS_RUNDIR", &d.dir)
            .env("OVS_LOGDIR", &d.dir)
            .env("OVS_DBDIR", &d.dir)
            .status()
            .unwrap();
        assert!(st.success(), "upstream ovsdb-server did not start");
        let pidfile = d.dir.join("ovsdb-server.pid");
        let until = Instant::now() + Duration::from_secs(10);
        while Instant::now() < until {
            if let Ok(t) = std::fs::read_to_string(&pidfile) {
                if let Ok(pid) = t.trim().parse::<i32>() {
                    d.pid = Some(pid);
                    if d.dir.join(format!("ovsdb-server.{pid}.ctl")).exists() {
                        return Some(d);
                    }
                }
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("upstream ovsdb-server wrote no pidfile/control socket");
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Some(pid) = self.pid {
            let _ = Command::new("kill").arg(pid.to_string()).status();
            let until = Instant::now() + Duration::from_secs(5);
            while Instant::now() < until && Path::new(&format!("/proc/{pid}")).exists() {
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = Command::new("kill").arg("-9").arg(pid.to_string()).status();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Runs `ovs-appctl` found on `path` (so that argv[0], which getopt
/// prints, is the same for both); returns (stdout, stderr with log
/// timestamps removed, exit code or -signal).
fn run(path: &Path, args: &[String], rundir: &Path) -> (String, String, i32) {
    let out = Command::new("ovs-appctl")
        .args(args)
        .env("PATH", path)
        .env("OVS_RUNDIR", rundir)
        .output()
        .unwrap();
    let stderr: String = String::from_utf8_lossy(&out.stderr)
        .lines()
        .map(|l| match l.split_once('|') {
            Some((ts, rest)) if ts.ends_with('Z') && ts.contains('T') => format!("TS|{rest}\n"),
            _ => format!("{l}\n"),
        })
        .collect();
    let code = out.status.code().unwrap_or_else(|| {
        use std::os::unix::process::ExitStatusExt;
        -out.status.signal().unwrap_or(0)
    });
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr,
        code,
    )
}

#[test]
fn our_appctl_matches_upstream_against_upstream_ovsdb_server() {
    let Some(daemon) = Daemon::start() else {
        eprintln!("SKIP: upstream ovsdb-server/ovsdb-tool/ovs-appctl not installed (apt-get install openvswitch-switch)");
        return;
    };
    let bin = daemon.dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_ferrovs"), bin.join("ovs-appctl")).unwrap();
    let upstream = find(UPSTREAM_APPCTL).unwrap();
    let upstream_dir = upstream.parent().unwrap().to_path_buf();
    let pid = daemon.pid.unwrap();
    let ctl = daemon.dir.join(format!("ovsdb-server.{pid}.ctl"));
    let ctl = ctl.to_str().unwrap();
    let missing = daemon.dir.join("missing.ctl");
    let missing = missing.to_str().unwrap();
    let cases: Vec<Vec<&str>> = vec![
        vec!["-t", "ovsdb-server", "version"],
        vec!["-t", "ovsdb-server", "list-commands"],
        vec!["-t", ctl, "version"],
        vec!["--target", ctl, "ovsdb-server/list-dbs"],
        vec!["-t", ctl, "ovsdb-server/list-remotes"],
        vec!["-t", ctl, "vlog/list"],
        vec!["-t", ctl, "help"],
        vec!["-t", ctl, "version", "extra"],
        vec!["-t", ctl, "ovsdb-server/add-remote"],
        vec!["-t", ctl, "ovsdb-server/add-db", "/nonexistent.db"],
        vec!["-t", "ovsdb-server", "-T", "5", "version"],
        vec!["-t", "no-such-daemon", "version"],
        vec!["-t", missing, "version"],
        vec!["version"],
        vec![],
        vec!["--help"],
        vec!["--version"],
        vec!["--option"],
        vec!["--bogus"],
        vec!["-T", "0", "version"],
        vec!["-t"],
        vec!["-vfoo", "version"],
    ];
    let mut failures = Vec::new();
    for case in &cases {
        let args: Vec<String> = case.iter().map(|s| s.to_string()).collect();
        let want = run(&upstream_dir, &args, &daemon.dir);
        let got = run(&bin, &args, &daemon.dir);
        if want != got {
            failures.push(format!(
                "ovs-appctl {}\n  upstream: {want:?}\n  ours:     {got:?}",
                case.join(" ")
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
