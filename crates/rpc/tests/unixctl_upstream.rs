//! Upstream's `ovs-appctl` drives our unixctl server: the socket, the
//! JSON-RPC exchange, the texts and exit codes must be what it expects.
//! Skips (with a message) when /usr/bin/ovs-appctl is not installed.

use rpc::pidfile::create_pidfile;
use rpc::unixctl::{UnixctlClient, UnixctlServer};
use std::path::{Path, PathBuf};
use std::process::Command;

const UPSTREAM: &str = "/usr/bin/ovs-appctl";

struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let d = std::env::temp_dir().join(format!("ferrovs-unixctl-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        TempDir(d)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn upstream_present() -> bool {
    if Path::new(UPSTREAM).exists() {
        true
    } else {
        eprintln!("SKIP: {UPSTREAM} is not installed (apt-get install openvswitch-common)");
        false
    }
}

/// Runs upstream ovs-appctl; returns (stdout, stderr without log lines, status).
fn appctl(rundir: &Path, args: &[&str]) -> (String, String, i32) {
    let out = Command::new(UPSTREAM)
        .args(args)
        .env("OVS_RUNDIR", rundir)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr,
        out.status.code().unwrap_or(-1),
    )
}

fn start_server(dir: &Path, path: Option<&str>) -> (tokio::runtime::Runtime, PathBuf) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    if path.is_none() {
        // Only one test relies on the environment, so no race between tests.
        std::env::set_var("OVS_RUNDIR", dir);
    }
    let server = UnixctlServer::create(path, "ferrovs-test")
        .unwrap()
        .unwrap();
    let c = server.commands().clone();
    c.register("test/echo", "[ARG...]", 0, 3, |args| Ok(args.join(" ")));
    c.register("test/fail", "", 0, 0, |_| Err("it failed".into()));
    c.register("test/empty", "", 0, 0, |_| Ok(String::new()));
    c.register_async("test/later", "SECS", 1, 1, |args: Vec<String>| async move {
        tokio::task::yield_now().await;
        Ok(format!("later {}\n", args[0]))
    });
    let socket = server.path().to_path_buf();
    rt.spawn(server.run());
    (rt, socket)
}

#[test]
fn upstream_appctl_drives_our_server() {
    if !upstream_present() {
        return;
    }
    let dir = TempDir::new("a");
    let abs = dir.0.join("t.ctl");
    let (_rt, socket) = start_server(&dir.0, Some(abs.to_str().unwrap()));
    assert_eq!(socket, dir.0.join("t.ctl"));
    let t = socket.to_str().unwrap();

    let (out, _, rc) = appctl(&dir.0, &["-t", t, "version"]);
    assert_eq!(
        (out.as_str(), rc),
        ("ferrovs-test (Open vSwitch) 3.1.0\n", 0)
    );

    let (out, _, rc) = appctl(&dir.0, &["-t", t, "list-commands"]);
    assert_eq!(rc, 0);
    assert_eq!(
        out,
        "The available commands are:\n  list-commands           \n  test/echo               [ARG...]\n  test/empty              \n  test/fail               \n  test/later              SECS\n  version                 \n"
    );

    let (out, _, rc) = appctl(&dir.0, &["-t", t, "test/echo", "a", "b c", "q\"\\é"]);
    assert_eq!((out.as_str(), rc), ("a b c q\"\\é\n", 0));

    let (out, _, rc) = appctl(&dir.0, &["-t", t, "test/empty"]);
    assert_eq!((out.as_str(), rc), ("", 0));

    let (out, err, rc) = appctl(&dir.0, &["-t", t, "test/fail"]);
    assert_eq!(out, "");
    assert_eq!(rc, 2);
    assert_eq!(
        err,
        format!("it failed\novs-appctl: {t}: server returned an error\n")
    );

    let (_, err, rc) = appctl(&dir.0, &["-t", t, "help"]);
    assert_eq!(rc, 2);
    assert!(err.starts_with(
        "\"help\" is not a valid command (use \"list-commands\" to see a list of valid commands)\n"
    ));

    let (_, err, rc) = appctl(&dir.0, &["-t", t, "test/echo", "1", "2", "3", "4"]);
    assert_eq!(rc, 2);
    assert!(err.starts_with("\"test/echo\" command takes at most 3 arguments\n"));

    let (_, err, rc) = appctl(&dir.0, &["-t", t, "test/later"]);
    assert_eq!(rc, 2);
    assert!(err.starts_with("\"test/later\" command requires at least 1 arguments\n"));

    let (out, _, rc) = appctl(&dir.0, &["-t", t, "test/later", "5"]);
    assert_eq!((out.as_str(), rc), ("later 5\n", 0));
}

#[test]
fn upstream_appctl_finds_us_through_the_pidfile() {
    if !upstream_present() {
        return;
    }
    let dir = TempDir::new("b");
    let _pid = create_pidfile(&dir.0.join("ferrovs-test.pid")).unwrap();
    let (_rt, socket) = start_server(&dir.0, None);
    assert_eq!(
        socket,
        dir.0
            .join(format!("ferrovs-test.{}.ctl", std::process::id()))
    );
    let (out, err, rc) = appctl(&dir.0, &["-t", "ferrovs-test", "test/echo", "hi"]);
    assert_eq!((out.as_str(), err.as_str(), rc), ("hi\n", "", 0));

    // Our client against our server, too.
    let mut c = UnixctlClient::connect(&socket).unwrap();
    assert_eq!(
        c.transact("test/echo", &["x".into()]).unwrap(),
        Ok("x\n".into())
    );
    assert_eq!(
        c.transact("test/fail", &[]).unwrap(),
        Err("it failed\n".into())
    );
    assert_eq!(c.name(), format!("unix:{}", socket.display()));
}
