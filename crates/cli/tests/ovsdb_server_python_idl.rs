//! The Python OVS IDL (Debian's python3-openvswitch) connects to our
//! `ovsdb-server`, monitors, transacts, and sees its change come back.
//! Skips with a message when python3-openvswitch or ovsdb-tool is missing.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

fn python_has_ovs() -> bool {
    Command::new("/usr/bin/python3")
        .args(["-c", "import ovs.db.idl"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

struct Dir(PathBuf, Option<i32>);

impl Drop for Dir {
    fn drop(&mut self) {
        if let Some(pid) = self.1 {
            let _ = Command::new("kill").arg(pid.to_string()).status();
            let until = Instant::now() + Duration::from_secs(5);
            while Instant::now() < until && Path::new(&format!("/proc/{pid}")).exists() {
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = Command::new("kill").arg("-9").arg(pid.to_string()).status();
        }
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn python_idl_monitors_and_transacts() {
    let schema = "/usr/share/openvswitch/vswitch.ovsschema";
    if !python_has_ovs()
        || !Path::new("/usr/bin/ovsdb-tool").exists()
        || !Path::new(schema).exists()
    {
        eprintln!("SKIP: python3-openvswitch / openvswitch-common not installed");
        return;
    }
    let mut dir = Dir(
        std::env::temp_dir().join(format!("ferrovs-pyidl-{}", std::process::id())),
        None,
    );
    let _ = std::fs::remove_dir_all(&dir.0);
    std::fs::create_dir_all(&dir.0).unwrap();
    let db = dir.0.join("conf.db");
    assert!(Command::new("/usr/bin/ovsdb-tool")
        .arg("create")
        .arg(&db)
        .arg(schema)
        .status()
        .unwrap()
        .success());
    let sock = dir.0.join("db.sock");
    let st = Command::new(env!("CARGO_BIN_EXE_ferrovs"))
        .args(["ovsdb-server", "--detach", "--no-chdir", "--pidfile"])
        .arg(format!("--remote=punix:{}", sock.display()))
        .arg(&db)
        .env("OVS_RUNDIR", &dir.0)
        .env("OVS_LOGDIR", &dir.0)
        .status()
        .unwrap();
    assert!(st.success());
    let pid = std::fs::read_to_string(dir.0.join("ovsdb-server.pid")).unwrap();
    dir.1 = Some(pid.trim().parse().unwrap());
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/python_idl.py");
    let out = Command::new("/usr/bin/python3")
        .arg(script)
        .arg(format!("unix:{}", sock.display()))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("commit: success"), "{stdout}");
    assert!(stdout.contains("bridges seen by IDL: ['pybr']"), "{stdout}");
}
