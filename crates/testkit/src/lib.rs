//! Test support shared by every room's integration tests (a dev-dependency
//! only; the product never links it).
//!
//! It owns the private directories in which the differential tests run a
//! stack of daemons — the reference Open vSwitch (Debian's 3.1, the oracle)
//! or ferrovs's own — on the dummy datapath, the helpers that drive them
//! with `ovs-vsctl`, `ovs-ofctl` and `ovs-appctl`, a pcap reader, and a small
//! deterministic random generator for generated cases.
//!
//! A [`Sandbox`] stops its daemons (by their pidfiles) and removes its
//! directory when dropped, also when a test fails. [`netns`] does the same
//! for the network namespaces and links of the root tests.

pub mod netns;
pub mod text;

pub use netns::{netns_missing, Net};
pub use text::{normalize_port_addrs, normalize_recirc, sort_port_runs, split_top};

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// The reference binaries and schema the differential tests need.
pub const UPSTREAM_BINARIES: [&str; 8] = [
    "/usr/bin/ovsdb-tool",
    "/usr/sbin/ovsdb-server",
    "/usr/sbin/ovs-vswitchd",
    "/usr/bin/ovs-vsctl",
    "/usr/bin/ovs-appctl",
    "/usr/bin/ovs-ofctl",
    "/usr/bin/ovsdb-client",
    "/usr/bin/ovs-dpctl",
];
/// The Open_vSwitch schema shipped with the reference.
pub const SCHEMA: &str = "/usr/share/openvswitch/vswitch.ovsschema";

/// The first reference file that is missing, if any: tests skip with a
/// message naming it.
pub fn upstream_missing() -> Option<&'static str> {
    UPSTREAM_BINARIES
        .iter()
        .copied()
        .chain([SCHEMA])
        .find(|p| !Path::new(p).exists())
}

/// Prints why a test is skipped and returns true when the reference is
/// absent: `if testkit::skip_without_upstream("my_test") { return; }`.
pub fn skip_without_upstream(test: &str) -> bool {
    match upstream_missing() {
        Some(p) => {
            eprintln!("{test}: skipped: the reference Open vSwitch is not installed ({p} missing)");
            true
        }
        None => false,
    }
}

/// True when running as root (tests that build namespaces need it).
pub fn is_root() -> bool {
    // SAFETY-free: read the effective uid from /proc instead of libc.
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2).map(|u| u == "0"))
        })
        .unwrap_or(false)
}

/// How to start one program: the executable and the arguments that come
/// before the program's own (for ferrovs: `["ovsdb-server"]`, selecting the
/// personality).
#[derive(Clone, Debug)]
pub struct Program {
    pub exe: PathBuf,
    pub lead: Vec<String>,
}

impl Program {
    /// A program run by its own path.
    pub fn path(exe: &str) -> Program {
        Program {
            exe: exe.into(),
            lead: Vec::new(),
        }
    }

    /// A personality of the ferrovs multi-call binary at `ferrovs`.
    pub fn ferrovs(ferrovs: &str, personality: &str) -> Program {
        Program {
            exe: ferrovs.into(),
            lead: vec![personality.to_string()],
        }
    }
}

/// Which implementation provides each daemon and tool of a sandbox.
#[derive(Clone, Debug)]
pub struct Stack {
    pub ovsdb_tool: Program,
    pub ovsdb_server: Program,
    pub vswitchd: Program,
    pub vsctl: Program,
    pub ofctl: Program,
    pub appctl: Program,
    pub ovsdb_client: Program,
    pub dpctl: Program,
}

impl Stack {
    /// Debian's Open vSwitch 3.1 throughout.
    pub fn upstream() -> Stack {
        Stack {
            ovsdb_tool: Program::path("/usr/bin/ovsdb-tool"),
            ovsdb_server: Program::path("/usr/sbin/ovsdb-server"),
            vswitchd: Program::path("/usr/sbin/ovs-vswitchd"),
            vsctl: Program::path("/usr/bin/ovs-vsctl"),
            ofctl: Program::path("/usr/bin/ovs-ofctl"),
            appctl: Program::path("/usr/bin/ovs-appctl"),
            ovsdb_client: Program::path("/usr/bin/ovsdb-client"),
            dpctl: Program::path("/usr/bin/ovs-dpctl"),
        }
    }

    /// ferrovs throughout, from the multi-call binary at `ferrovs`
    /// (`env!("CARGO_BIN_EXE_ferrovs")` in the cli crate's tests).
    pub fn ferrovs(ferrovs: &str) -> Stack {
        let p = |name: &str| Program::ferrovs(ferrovs, name);
        Stack {
            ovsdb_tool: p("ovsdb-tool"),
            ovsdb_server: p("ovsdb-server"),
            vswitchd: p("ovs-vswitchd"),
            vsctl: p("ovs-vsctl"),
            ofctl: p("ovs-ofctl"),
            appctl: p("ovs-appctl"),
            ovsdb_client: p("ovsdb-client"),
            dpctl: p("ovs-dpctl"),
        }
    }

    /// ferrovs's daemons (and `ovsdb-tool`, which makes their database)
    /// driven by the reference's tools.
    pub fn ferrovs_daemons(ferrovs: &str) -> Stack {
        let p = |name: &str| Program::ferrovs(ferrovs, name);
        Stack {
            ovsdb_tool: p("ovsdb-tool"),
            ovsdb_server: p("ovsdb-server"),
            vswitchd: p("ovs-vswitchd"),
            ..Stack::upstream()
        }
    }
}

/// Every OpenFlow version's name as `-O` takes it, oldest first.
pub const OPENFLOW_VERSIONS: [&str; 6] = [
    "OpenFlow10",
    "OpenFlow11",
    "OpenFlow12",
    "OpenFlow13",
    "OpenFlow14",
    "OpenFlow15",
];

/// A TCP port on 127.0.0.1 that nothing listened on a moment ago (the
/// kernel picks it; the listener is closed again).
pub fn free_tcp_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("bind 127.0.0.1:0")
        .port()
}

/// The reference daemons and ours (driven by the reference's tools, as
/// [`Stack::ferrovs_daemons`]), each in a sandbox named after `tag`; `None`
/// (with a message) without the reference.
pub fn reference_and_ours(ferrovs: &str, tag: &str) -> Option<(Sandbox, Sandbox)> {
    if skip_without_upstream(tag) {
        return None;
    }
    let reference = Sandbox::start(&format!("{tag}-ref"));
    let ours = Sandbox::start_stack(
        &format!("{tag}-ours"),
        Stack::ferrovs_daemons(ferrovs),
        true,
    );
    Some((reference, ours))
}

/// Runs each of `steps` on both sandboxes with `run` (which renders a
/// step and its outcome as text); the steps whose texts differ, each as
/// `--- reference` and `--- ours` blocks.
pub fn differing_steps<S>(
    reference: &Sandbox,
    ours: &Sandbox,
    steps: &[S],
    run: impl Fn(&Sandbox, &S) -> String,
) -> Vec<String> {
    steps
        .iter()
        .filter_map(|s| {
            let (r, o) = (run(reference, s), run(ours, s));
            (r != o).then(|| format!("--- reference\n{r}--- ours\n{o}"))
        })
        .collect()
}

/// `stderr` without the warnings upstream's tools print about their own
/// slow poll loops on a busy machine (`timeval|WARN|Unreasonably long …ms
/// poll interval`, then their faults and context switches): timing, not
/// behaviour, so no comparison should see them.
pub fn without_timeval_warnings(stderr: &str) -> String {
    stderr
        .split_inclusive('\n')
        .filter(|l| !l.contains("|timeval|"))
        .collect()
}

/// What ran: status, stdout and stderr as text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    pub status: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Outcome {
    fn from(out: Output) -> Outcome {
        Outcome {
            status: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: without_timeval_warnings(&String::from_utf8_lossy(&out.stderr)),
        }
    }

    /// stdout on success, otherwise a message with the command and stderr.
    pub fn ok(self, what: &str) -> Result<String, String> {
        if self.status == 0 {
            Ok(self.stdout)
        } else {
            Err(format!("{what}: exit {}: {}", self.status, self.stderr))
        }
    }
}

/// `ovs-vsctl` arguments that add `bridge` on the dummy datapath, with the
/// extra Bridge column `settings` (`fail-mode=secure`,
/// `other-config:hwaddr=…`), and for each of `ports` an interface of type
/// `dummy` asking for OpenFlow port 1, 2, … in that order.
pub fn dummy_bridge(bridge: &str, settings: &[&str], ports: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = ["add-br", bridge, "--", "set", "bridge", bridge]
        .iter()
        .map(|s| s.to_string())
        .collect();
    args.push("datapath_type=dummy".into());
    args.extend(settings.iter().map(|s| s.to_string()));
    for (i, port) in ports.iter().enumerate() {
        args.extend(dummy_port(bridge, port, i + 1, &[]));
    }
    args
}

/// `ovs-vsctl` arguments (to append to a transaction) that add `port` to
/// `bridge` as an interface of type `dummy` asking for OpenFlow port
/// `ofport`, with the extra Interface column settings `columns`
/// (`options:tx_pcap=…`).
pub fn dummy_port(bridge: &str, port: &str, ofport: usize, columns: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = [
        "--",
        "add-port",
        bridge,
        port,
        "--",
        "set",
        "interface",
        port,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    args.push("type=dummy".into());
    args.push(format!("ofport_request={ofport}"));
    args.extend(columns.iter().map(|s| s.to_string()));
    args
}

/// `ovs-vsctl` arguments that add `bridge` on the userspace datapath
/// (`datapath_type=netdev`) with `ports` (system devices, unless `extra`,
/// appended to the transaction, sets their type: `-- set interface …`).
pub fn netdev_bridge(bridge: &str, ports: &[&str], extra: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = ["add-br", bridge, "--", "set", "bridge", bridge]
        .iter()
        .map(|s| s.to_string())
        .collect();
    args.push("datapath_type=netdev".into());
    for port in ports {
        args.extend(["--", "add-port", bridge, port].map(String::from));
    }
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

/// `ovs-ofctl` arguments with `target` (a switch) inserted after the
/// command, the first argument that is not an option: options may come
/// first (`["-O", "OpenFlow13", "dump-flows"]`).
pub fn ofctl_args<'a>(args: &[&'a str], target: &'a str) -> Vec<&'a str> {
    let mut all: Vec<&str> = Vec::new();
    let mut placed = false;
    let mut i = 0;
    while i < args.len() {
        all.push(args[i]);
        if !placed {
            if args[i] == "-O" || args[i] == "-F" || args[i] == "-P" {
                if let Some(v) = args.get(i + 1) {
                    all.push(v);
                    i += 1;
                }
            } else if !args[i].starts_with('-') {
                all.push(target);
                placed = true;
            }
        }
        i += 1;
    }
    all
}

/// A private directory with an ovsdb-server (and usually an ovs-vswitchd on
/// the dummy datapath), with `OVS_RUNDIR`, `OVS_LOGDIR`, `OVS_DBDIR` and
/// `OVS_SYSCONFDIR` all pointing into it.
pub struct Sandbox {
    pub dir: PathBuf,
    pub stack: Stack,
    daemons: Vec<&'static str>,
}

impl Sandbox {
    /// The reference ovsdb-server and ovs-vswitchd in a new directory named
    /// after `tag` and this process. Panics (failing the test) when they do
    /// not start: callers check [`upstream_missing`] first.
    pub fn start(tag: &str) -> Sandbox {
        Sandbox::start_stack(tag, Stack::upstream(), true)
    }

    /// Only the reference ovsdb-server (tools then need `--no-wait`).
    pub fn start_db_only(tag: &str) -> Sandbox {
        Sandbox::start_stack(tag, Stack::upstream(), false)
    }

    /// The daemons of `stack` (ovs-vswitchd only with `vswitchd`).
    pub fn start_stack(tag: &str, stack: Stack, vswitchd: bool) -> Sandbox {
        let mut sb = Sandbox::empty(tag, stack);
        sb.create_db();
        sb.start_ovsdb_server();
        if vswitchd {
            sb.start_vswitchd();
        }
        sb
    }

    /// A new empty directory, no daemon running yet.
    pub fn empty(tag: &str, stack: Stack) -> Sandbox {
        static SEQ: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("ferrovs-{tag}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create sandbox directory");
        Sandbox {
            dir,
            stack,
            daemons: Vec::new(),
        }
    }

    /// `conf.db` from the Open_vSwitch schema.
    pub fn create_db(&self) {
        let db = self.path("conf.db");
        let tool = self.stack.ovsdb_tool.clone();
        self.run(&tool, &["create", &db, SCHEMA])
            .ok("ovsdb-tool create")
            .unwrap();
    }

    /// ovsdb-server on `conf.db`, listening on `db.sock`.
    pub fn start_ovsdb_server(&mut self) {
        let db = self.path("conf.db");
        let remote = format!("--remote=punix:{}", self.path("db.sock"));
        self.start_ovsdb_server_with(&[
            &remote,
            "--remote=db:Open_vSwitch,Open_vSwitch,manager_options",
            &db,
        ]);
    }

    /// ovsdb-server detached with its pidfile (`ovsdb-server.pid`) and log
    /// (`ovsdb-server.log`) in the sandbox and `args` (remotes, databases,
    /// other options); stopped when the sandbox is dropped.
    pub fn start_ovsdb_server_with(&mut self, args: &[&str]) {
        let server = self.stack.ovsdb_server.clone();
        let pidfile = format!("--pidfile={}", self.path("ovsdb-server.pid"));
        let log = format!("--log-file={}", self.path("ovsdb-server.log"));
        let mut all = vec!["--detach", "--no-chdir", &pidfile, &log];
        all.extend_from_slice(args);
        self.run(&server, &all).ok("ovsdb-server").unwrap();
        if !self.daemons.contains(&"ovsdb-server") {
            self.daemons.push("ovsdb-server");
        }
    }

    /// ovs-vswitchd on the dummy datapath, connected to `db.sock`.
    pub fn start_vswitchd(&mut self) {
        self.start_vswitchd_with("--enable-dummy");
    }

    /// ovs-vswitchd like [`Sandbox::start_vswitchd`] with `enable_dummy` as
    /// its dummy option: `"--enable-dummy=override"` also turns `system`
    /// bridges and devices into dummies, as ovs-sandbox does, so that
    /// commands written for a real switch run unchanged.
    pub fn start_vswitchd_with(&mut self, enable_dummy: &str) {
        let vswitchd = self.stack.vswitchd.clone();
        self.run(
            &vswitchd,
            &[
                "--detach",
                "--no-chdir",
                &format!("--pidfile={}", self.path("ovs-vswitchd.pid")),
                enable_dummy,
                "--disable-system",
                "--disable-system-route",
                &format!("--log-file={}", self.path("ovs-vswitchd.log")),
                &format!("unix:{}", self.path("db.sock")),
            ],
        )
        .ok("ovs-vswitchd")
        .unwrap();
        if !self.daemons.contains(&"ovs-vswitchd") {
            self.daemons.push("ovs-vswitchd");
        }
    }

    /// Stops one daemon (SIGTERM, then SIGKILL after 5 s) and waits for it.
    pub fn stop(&mut self, daemon: &str) {
        if let Some(pid) = self.pid(daemon) {
            kill_and_wait(&pid);
        }
        self.daemons.retain(|d| *d != daemon);
    }

    /// A path inside the sandbox.
    pub fn path(&self, name: &str) -> String {
        self.dir.join(name).to_string_lossy().into_owned()
    }

    /// Runs `prog` with `args` in the sandbox's environment.
    pub fn run(&self, prog: &Program, args: &[&str]) -> Outcome {
        let out = self
            .command(prog, args)
            .output()
            .unwrap_or_else(|e| panic!("{}: {e}", prog.exe.display()));
        Outcome::from(out)
    }

    /// `prog` with `args` in the sandbox's environment, to run with other
    /// standard streams than [`Sandbox::run`]'s.
    pub fn command(&self, prog: &Program, args: &[&str]) -> Command {
        let mut cmd = Command::new(&prog.exe);
        cmd.args(&prog.lead)
            .args(args)
            .env("OVS_RUNDIR", &self.dir)
            .env("OVS_LOGDIR", &self.dir)
            .env("OVS_DBDIR", &self.dir)
            .env("OVS_SYSCONFDIR", &self.dir);
        cmd
    }

    /// `ovs-vsctl --db=unix:db.sock ARGS` with the sandbox's vsctl.
    pub fn vsctl(&self, args: &[&str]) -> Result<String, String> {
        self.vsctl_outcome(args).ok(&format!("ovs-vsctl {args:?}"))
    }

    /// Like [`Sandbox::vsctl`], keeping status and stderr.
    pub fn vsctl_outcome(&self, args: &[&str]) -> Outcome {
        let db = format!("--db=unix:{}", self.path("db.sock"));
        let mut all = vec![db.as_str()];
        all.extend_from_slice(args);
        self.run(&self.stack.vsctl, &all)
    }

    /// Adds a bridge on the dummy datapath with its dummy ports (see
    /// [`dummy_bridge`]).
    pub fn add_dummy_bridge(
        &self,
        bridge: &str,
        settings: &[&str],
        ports: &[&str],
    ) -> Result<String, String> {
        self.vsctl_strings(&dummy_bridge(bridge, settings, ports))
    }

    /// Adds a bridge on the userspace datapath with its ports (see
    /// [`netdev_bridge`]).
    pub fn add_netdev_bridge(
        &self,
        bridge: &str,
        ports: &[&str],
        extra: &[&str],
    ) -> Result<String, String> {
        self.vsctl_strings(&netdev_bridge(bridge, ports, extra))
    }

    fn vsctl_strings(&self, args: &[String]) -> Result<String, String> {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        self.vsctl(&args)
    }

    /// `ovs-appctl -t <vswitchd control socket> ARGS`.
    pub fn appctl(&self, args: &[&str]) -> Result<String, String> {
        self.appctl_outcome(args)
            .ok(&format!("ovs-appctl {args:?}"))
    }

    /// Like [`Sandbox::appctl`], keeping status and stderr.
    pub fn appctl_outcome(&self, args: &[&str]) -> Outcome {
        let ctl = self.control("ovs-vswitchd");
        let mut all = vec!["-t", ctl.as_str()];
        all.extend_from_slice(args);
        self.run(&self.stack.appctl, &all)
    }

    /// `ovs-ofctl COMMAND unix:<bridge>.mgmt REST…` (`args[0]` is the command).
    pub fn ofctl(&self, bridge: &str, args: &[&str]) -> Result<String, String> {
        self.ofctl_outcome(bridge, args)
            .ok(&format!("ovs-ofctl {args:?}"))
    }

    /// Like [`Sandbox::ofctl`], keeping status and stderr. Options may come
    /// before the command (`["-O", "OpenFlow13", "dump-flows"]`): the target
    /// is inserted after the first argument that is not an option.
    pub fn ofctl_outcome(&self, bridge: &str, args: &[&str]) -> Outcome {
        let target = self.mgmt(bridge);
        self.run(&self.stack.ofctl, &ofctl_args(args, &target))
    }

    /// The OpenFlow management socket of `bridge`, as an ovs-ofctl target.
    pub fn mgmt(&self, bridge: &str) -> String {
        format!("unix:{}", self.path(&format!("{bridge}.mgmt")))
    }

    /// The pid in `<daemon>.pid`, if the daemon wrote it.
    pub fn pid(&self, daemon: &str) -> Option<String> {
        let s = std::fs::read_to_string(self.dir.join(format!("{daemon}.pid"))).ok()?;
        Some(s.trim().to_string())
    }

    /// The unixctl socket of `daemon` (`<daemon>.<pid>.ctl`).
    pub fn control(&self, daemon: &str) -> String {
        let pid = self.pid(daemon).unwrap_or_default();
        self.path(&format!("{daemon}.{pid}.ctl"))
    }

    /// The frames in a pcap file of the sandbox (empty if absent).
    pub fn pcap(&self, name: &str) -> Vec<Vec<u8>> {
        read_pcap(&std::fs::read(self.dir.join(name)).unwrap_or_default())
    }

    /// Waits up to `timeout` for `cond` to hold, polling every 20 ms.
    pub fn wait_until(&self, timeout: Duration, cond: impl FnMut() -> bool) -> bool {
        poll(timeout, Duration::from_millis(20), cond)
    }

    /// The OpenFlow port of interface `iface` once the switch gave it one;
    /// fails the test when it has none after 15 s.
    #[track_caller]
    pub fn wait_ofport(&self, iface: &str) -> i64 {
        let mut port = -1;
        let assigned = self.wait_until(Duration::from_secs(15), || {
            port = self
                .vsctl(&["get", "interface", iface, "ofport"])
                .ok()
                .and_then(|s| s.trim().parse().ok())
                .unwrap_or(-1);
            port > 0
        });
        assert!(assigned, "{iface} got no OpenFlow port (ofport {port})");
        port
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        for daemon in self.daemons.clone().iter().rev() {
            if let Some(pid) = self.pid(daemon) {
                kill_and_wait(&pid);
            }
        }
        if std::env::var_os("FERROVS_KEEP_SANDBOX").is_none() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// Waits up to `timeout` for `cond` to hold, polling every 5 ms (for
/// in-process conditions; the bound only ends a failing test).
pub fn wait_until(timeout: Duration, cond: impl FnMut() -> bool) -> bool {
    poll(timeout, Duration::from_millis(5), cond)
}

fn poll(timeout: Duration, every: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + timeout;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() >= end {
            return false;
        }
        std::thread::sleep(every);
    }
}

/// SIGTERM `pid`, SIGKILL it if it is still there after 5 s.
fn kill_and_wait(pid: &str) {
    let _ = Command::new("kill").arg(pid).status();
    let proc_dir = PathBuf::from(format!("/proc/{pid}"));
    let end = Instant::now() + Duration::from_secs(5);
    while proc_dir.exists() && Instant::now() < end {
        std::thread::sleep(Duration::from_millis(10));
    }
    if proc_dir.exists() {
        let _ = Command::new("kill").args(["-9", pid]).status();
    }
}

/// The frames of a little-endian pcap file (the format ovs-vswitchd's dummy
/// netdevs write), stopping at a truncated record.
pub fn read_pcap(d: &[u8]) -> Vec<Vec<u8>> {
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
        self.next() % n.max(1)
    }
    pub fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.below(xs.len() as u64) as usize]
    }
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
    pub fn bytes<const N: usize>(&mut self) -> [u8; N] {
        let mut a = [0u8; N];
        for b in a.iter_mut() {
            *b = self.next() as u8;
        }
        a
    }
}

/// Lower-case hex of `b`, no separators.
pub fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Replaces every UUID (8-4-4-4-12 hex) in `text` by `<0>`, `<1>`, … in order
/// of first appearance, so outputs of two databases compare equal.
pub fn normalize_uuids(text: &str) -> String {
    let b = text.as_bytes();
    let mut seen: Vec<String> = Vec::new();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < b.len() {
        if i + 36 <= b.len() && is_uuid(&b[i..i + 36]) {
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
            let ch = text[i..].chars().next().unwrap_or('\0');
            out.push(ch);
            i += ch.len_utf8().max(1);
        }
    }
    out
}

fn is_uuid(b: &[u8]) -> bool {
    b.iter().enumerate().all(|(i, c)| match i {
        8 | 13 | 18 | 23 => *c == b'-',
        _ => c.is_ascii_hexdigit(),
    })
}

/// Replaces `duration=1.234s` values (and `idle_age`/`hard_age`) with
/// fixed text so dump-flows outputs compare equal.
pub fn normalize_durations(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for (li, line) in text.split('\n').enumerate() {
        if li > 0 {
            out.push('\n');
        }
        let mut first = true;
        for word in line.split(' ') {
            if !first {
                out.push(' ');
            }
            first = false;
            let key = word.split('=').next().unwrap_or("");
            let trailing_comma = word.ends_with(',');
            match key {
                "duration" | "idle_age" | "hard_age" if word.contains('=') => {
                    out.push_str(key);
                    out.push_str("=?");
                    if trailing_comma {
                        out.push(',');
                    }
                }
                _ => out.push_str(word),
            }
        }
    }
    out
}

/// Replaces the timestamp that opens a log line (`2026-11-21T20:59:15Z|` or
/// with milliseconds, `…15.123Z|`) by `<time>|`, so that stderr of two runs
/// compares equal.
pub fn normalize_log_timestamps(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let b = line.as_bytes();
        let stamp = b.len() > 20
            && b[4] == b'-'
            && b[7] == b'-'
            && b[10] == b'T'
            && b[..4].iter().all(u8::is_ascii_digit);
        match line.find("Z|") {
            Some(z) if stamp && z < 30 => {
                out.push_str("<time>|");
                out.push_str(&line[z + 2..]);
            }
            _ => out.push_str(line),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeval_warnings_are_dropped() {
        let e = "2026-11-22T11:00:00Z|00001|timeval|WARN|Unreasonably long 1119ms poll interval (0ms user, 0ms system)\n\
                 2026-11-22T11:00:00Z|00002|timeval|WARN|context switches: 3 voluntary, 0 involuntary\n\
                 ovs-vsctl: no bridge named br9\n";
        assert_eq!(
            without_timeval_warnings(e),
            "ovs-vsctl: no bridge named br9\n"
        );
    }

    #[test]
    fn dummy_bridge_numbers_its_ports() {
        assert_eq!(
            dummy_bridge("br0", &["fail-mode=secure"], &["p1", "p2"]).join(" "),
            "add-br br0 -- set bridge br0 datapath_type=dummy fail-mode=secure \
             -- add-port br0 p1 -- set interface p1 type=dummy ofport_request=1 \
             -- add-port br0 p2 -- set interface p2 type=dummy ofport_request=2"
        );
        assert_eq!(
            dummy_bridge("br1", &[], &[]).join(" "),
            "add-br br1 -- set bridge br1 datapath_type=dummy"
        );
        assert_eq!(
            netdev_bridge(
                "br2",
                &["v1", "v2"],
                &["--", "set", "interface", "v2", "type=afxdp"]
            )
            .join(" "),
            "add-br br2 -- set bridge br2 datapath_type=netdev -- add-port br2 v1 \
             -- add-port br2 v2 -- set interface v2 type=afxdp"
        );
        assert_eq!(
            dummy_port("br1", "p0", 7, &["options:tx_pcap=x"]).join(" "),
            "-- add-port br1 p0 -- set interface p0 type=dummy ofport_request=7 options:tx_pcap=x"
        );
    }

    #[test]
    fn ofctl_target_follows_the_command() {
        assert_eq!(
            ofctl_args(&["-O", "OpenFlow13", "dump-flows", "table=0"], "unix:s"),
            ["-O", "OpenFlow13", "dump-flows", "unix:s", "table=0"]
        );
        assert_eq!(
            ofctl_args(&["--names", "show"], "unix:s"),
            ["--names", "show", "unix:s"]
        );
    }

    #[test]
    fn log_timestamps_are_blanked() {
        let t = "2026-11-21T20:59:15Z|00001|ofp_table|WARN|x\n2026-11-21T20:59:15.123Z|00002|y|INFO|z\nplain";
        assert_eq!(
            normalize_log_timestamps(t),
            "<time>|00001|ofp_table|WARN|x\n<time>|00002|y|INFO|z\nplain"
        );
    }

    #[test]
    fn uuids_are_numbered_by_first_appearance() {
        let t = "a 550e8400-e29b-41d4-a716-446655440000 b 6ba7b810-9dad-11d1-80b4-00c04fd430c8 550e8400-e29b-41d4-a716-446655440000";
        assert_eq!(normalize_uuids(t), "a <0> b <1> <0>");
    }

    #[test]
    fn durations_are_blanked() {
        let t = " cookie=0x0, duration=1.234s, table=0, n_packets=0, idle_age=5, actions=drop";
        assert_eq!(
            normalize_durations(t),
            " cookie=0x0, duration=?, table=0, n_packets=0, idle_age=?, actions=drop"
        );
    }

    #[test]
    fn pcap_stops_at_a_truncated_record() {
        let mut d = vec![0u8; 24];
        d.extend_from_slice(&[0; 8]);
        d.extend_from_slice(&3u32.to_le_bytes());
        d.extend_from_slice(&3u32.to_le_bytes());
        d.extend_from_slice(&[1, 2, 3]);
        d.extend_from_slice(&[0; 8]);
        d.extend_from_slice(&9u32.to_le_bytes());
        d.extend_from_slice(&9u32.to_le_bytes());
        d.extend_from_slice(&[1]);
        assert_eq!(read_pcap(&d), vec![vec![1, 2, 3]]);
    }
}
