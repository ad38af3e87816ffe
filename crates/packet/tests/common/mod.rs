//! The reference Open vSwitch daemons in a private directory, for the
//! differential tests: `ovsdb-server` and `ovs-vswitchd` on the dummy
//! datapath, driven with `ovs-vsctl`, `ovs-appctl` and `ovs-ofctl`, and
//! stopped (by their pids) when the sandbox is dropped.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

const BINARIES: [&str; 6] = [
    "/usr/bin/ovsdb-tool",
    "/usr/sbin/ovsdb-server",
    "/usr/sbin/ovs-vswitchd",
    "/usr/bin/ovs-vsctl",
    "/usr/bin/ovs-appctl",
    "/usr/bin/ovs-ofctl",
];
const SCHEMA: &str = "/usr/share/openvswitch/vswitch.ovsschema";

pub struct Sandbox {
    pub dir: PathBuf,
}

impl Sandbox {
    /// The first reference file that is missing, if any.
    pub fn missing() -> Option<&'static str> {
        BINARIES
            .iter()
            .copied()
            .chain([SCHEMA])
            .find(|p| !Path::new(p).exists())
    }

    pub fn path(&self, name: &str) -> String {
        self.dir.join(name).to_string_lossy().into_owned()
    }

    pub fn run(&self, prog: &str, args: &[&str]) -> Result<String, String> {
        let out = Command::new(prog)
            .args(args)
            .env("OVS_RUNDIR", &self.dir)
            .env("OVS_LOGDIR", &self.dir)
            .env("OVS_DBDIR", &self.dir)
            .env("OVS_SYSCONFDIR", &self.dir)
            .output()
            .map_err(|e| format!("{prog}: {e}"))?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).into_owned())
        } else {
            Err(format!(
                "{prog} {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            ))
        }
    }

    /// Starts the database and the switch in a new directory named after
    /// `tag` and this process.
    pub fn start(tag: &str) -> Sandbox {
        let dir = std::env::temp_dir().join(format!("ferrovs-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let sb = Sandbox { dir };
        let db = sb.path("conf.db");
        sb.run("/usr/bin/ovsdb-tool", &["create", &db, SCHEMA])
            .unwrap();
        sb.run(
            "/usr/sbin/ovsdb-server",
            &[
                "--detach",
                "--no-chdir",
                &format!("--pidfile={}", sb.path("ovsdb-server.pid")),
                &format!("--remote=punix:{}", sb.path("db.sock")),
                &format!("--log-file={}", sb.path("ovsdb-server.log")),
                &db,
            ],
        )
        .unwrap();
        sb.run(
            "/usr/sbin/ovs-vswitchd",
            &[
                "--detach",
                "--no-chdir",
                &format!("--pidfile={}", sb.path("ovs-vswitchd.pid")),
                "--enable-dummy",
                "--disable-system",
                "--disable-system-route",
                &format!("--log-file={}", sb.path("ovs-vswitchd.log")),
                &format!("unix:{}", sb.path("db.sock")),
            ],
        )
        .unwrap();
        sb
    }

    pub fn vsctl(&self, args: &[&str]) -> Result<String, String> {
        let db = format!("--db=unix:{}", self.path("db.sock"));
        let mut all = vec![db.as_str()];
        all.extend_from_slice(args);
        self.run("/usr/bin/ovs-vsctl", &all)
    }

    pub fn appctl(&self, args: &[&str]) -> Result<String, String> {
        let ctl = self.control();
        let mut all = vec!["-t", ctl.as_str()];
        all.extend_from_slice(args);
        self.run("/usr/bin/ovs-appctl", &all)
    }

    pub fn ofctl(&self, bridge: &str, args: &[&str]) -> Result<String, String> {
        let target = format!("unix:{}", self.path(&format!("{bridge}.mgmt")));
        let mut all = vec![args[0], target.as_str()];
        all.extend_from_slice(&args[1..]);
        self.run("/usr/bin/ovs-ofctl", &all)
    }

    fn pid(&self, name: &str) -> Option<String> {
        let s = std::fs::read_to_string(self.dir.join(format!("{name}.pid"))).ok()?;
        Some(s.trim().to_string())
    }

    pub fn control(&self) -> String {
        let pid = self.pid("ovs-vswitchd").unwrap_or_default();
        self.path(&format!("ovs-vswitchd.{pid}.ctl"))
    }

    /// The frames in a pcap file of the sandbox.
    pub fn pcap(&self, name: &str) -> Vec<Vec<u8>> {
        let d = std::fs::read(self.dir.join(name)).unwrap_or_default();
        let mut out = Vec::new();
        let mut i = 24;
        while i + 16 <= d.len() {
            let n = u32::from_le_bytes([d[i + 8], d[i + 9], d[i + 10], d[i + 11]]) as usize;
            let start = i + 16;
            if start + n > d.len() {
                break;
            }
            out.push(d[start..start + n].to_vec());
            i = start + n;
        }
        out
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        for name in ["ovs-vswitchd", "ovsdb-server"] {
            if let Some(pid) = self.pid(name) {
                let _ = Command::new("kill").arg(&pid).status();
            }
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// splitmix64: a small deterministic generator (fixed seeds, no dependency).
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    pub fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.below(xs.len() as u64) as usize]
    }
    pub fn bytes<const N: usize>(&mut self) -> [u8; N] {
        let mut a = [0u8; N];
        for b in a.iter_mut() {
            *b = self.next() as u8;
        }
        a
    }
}

pub fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}
