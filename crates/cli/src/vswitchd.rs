//! The `ovs-vswitchd` personality: ovs-vswitchd(8)'s command line
//! (permuting getopt like upstream), daemon conventions (`--detach`,
//! `--pidfile`, `--no-chdir`, `--log-file`, `--unixctl`, `-v`,
//! `--mlockall`), the datapath switches (`--enable-dummy[=override]`,
//! `--disable-system`, `--disable-system-route`), and the tokio runtime
//! that runs the [`vswitchd`] room: database client, control socket,
//! SIGTERM and `ovs-appctl exit`.

use crate::getopt::{Arg, LongOpt, Words};
use std::io::Write;
use std::sync::atomic::Ordering;
use vswitchd::appctl::Daemon;
use vswitchd::bridge::{DatapathOptions, DummyMode};
use vswitchd::switch::Switch;

const PROGRAM: &str = "ovs-vswitchd";

const USAGE: &str = "\
ovs-vswitchd: Open vSwitch daemon
usage: ovs-vswitchd [OPTIONS] [DATABASE]
where DATABASE is a socket on which ovsdb-server is listening
      (default: \"unix:@RUNDIR@/db.sock\").

Active DATABASE connection methods:
  tcp:HOST:PORT           PORT at remote HOST
  ssl:HOST:PORT           SSL PORT at remote HOST
  unix:FILE               Unix domain socket named FILE
PKI configuration (required to use SSL):
  -p, --private-key=FILE  file with private key
  -c, --certificate=FILE  file with certificate for private key
  -C, --ca-cert=FILE      file with peer CA certificate
  --bootstrap-ca-cert=FILE  file with peer CA certificate to read or create
SSL options:
  --ssl-protocols=PROTOS  list of SSL protocols to enable
  --ssl-ciphers=CIPHERS   list of SSL ciphers to enable

Daemon options:
  --detach                run in background as daemon
  --monitor               creates a process to monitor this daemon
  --user=username[:group] changes the effective daemon user:group
  --no-chdir              do not chdir to '/'
  --pidfile[=FILE]        create pidfile (default: @RUNDIR@/ovs-vswitchd.pid)
  --overwrite-pidfile     with --pidfile, start even if already running

Logging options:
  -vSPEC, --verbose=SPEC   set logging levels
  -v, --verbose            set maximum verbosity level
  --log-file[=FILE]        enable logging to specified FILE
                           (default: @LOGDIR@/ovs-vswitchd.log)
  --syslog-method=(libc|unix:file|udp:ip:port)
                           specify how to send messages to syslog daemon
  --syslog-target=HOST:PORT  also send syslog msgs to HOST:PORT via UDP

DPDK options:
Configuration of DPDK via command-line is removed from this
version of Open vSwitch. DPDK is configured through ovsdb.

Other options:
  --unixctl=SOCKET          override default control socket name
  -h, --help                display this help message
  -V, --version             display version information
";

const OPTIONS: &[LongOpt] = &[
    ("help", Some('h'), Arg::None),
    ("version", Some('V'), Arg::None),
    ("mlockall", None, Arg::None),
    ("unixctl", None, Arg::Required),
    ("detach", None, Arg::None),
    ("no-self-confinement", None, Arg::None),
    ("no-chdir", None, Arg::None),
    ("pidfile", None, Arg::Optional),
    ("overwrite-pidfile", None, Arg::None),
    ("monitor", None, Arg::None),
    ("user", None, Arg::Required),
    ("verbose", Some('v'), Arg::Optional),
    ("log-file", None, Arg::Optional),
    ("syslog-method", None, Arg::Required),
    ("syslog-target", None, Arg::Required),
    ("private-key", Some('p'), Arg::Required),
    ("certificate", Some('c'), Arg::Required),
    ("ca-cert", Some('C'), Arg::Required),
    ("ssl-protocols", None, Arg::Required),
    ("ssl-ciphers", None, Arg::Required),
    ("peer-ca-cert", None, Arg::Required),
    ("bootstrap-ca-cert", None, Arg::Required),
    ("enable-dummy", None, Arg::Optional),
    ("disable-system", None, Arg::None),
    ("disable-system-route", None, Arg::None),
    ("dpdk", None, Arg::Optional),
    ("dummy-numa", None, Arg::Required),
];

#[derive(Default, Debug)]
struct Options {
    unixctl: Option<String>,
    detach: bool,
    no_chdir: bool,
    pidfile: Option<String>,
    log_file: Option<String>,
    mlockall: bool,
    datapath: DatapathOptions,
    database: Option<String>,
}

enum Early {
    Exit(String),
    Usage(String),
    Fatal(String),
}

fn apply(o: &mut Options, name: &str, val: Option<String>) -> Result<(), Early> {
    match name {
        "help" => {
            let text = USAGE
                .replace("@RUNDIR@", &rpc::paths::rundir().display().to_string())
                .replace("@LOGDIR@", &rpc::paths::logdir().display().to_string());
            return Err(Early::Exit(text));
        }
        "version" => {
            return Err(Early::Exit(format!(
                "{PROGRAM} (Open vSwitch) {}\n",
                rpc::unixctl::OVS_VERSION
            )))
        }
        "mlockall" => o.mlockall = true,
        "unixctl" => o.unixctl = val,
        "detach" => o.detach = true,
        "no-chdir" => o.no_chdir = true,
        "pidfile" => {
            o.pidfile = Some(val.unwrap_or_else(|| {
                rpc::paths::rundir()
                    .join(format!("{PROGRAM}.pid"))
                    .display()
                    .to_string()
            }))
        }
        "verbose" => {
            vlog::set_levels_from_string(val.as_deref().unwrap_or("")).map_err(Early::Fatal)?
        }
        "log-file" => {
            o.log_file = Some(val.unwrap_or_else(|| {
                rpc::paths::logdir()
                    .join(format!("{PROGRAM}.log"))
                    .display()
                    .to_string()
            }))
        }
        "enable-dummy" => {
            o.datapath.dummy = match val.as_deref() {
                None => DummyMode::On,
                Some("override") => DummyMode::Override,
                Some("system") => DummyMode::On,
                Some(other) => return Err(Early::Fatal(format!("{other}: unknown dummy level"))),
            }
        }
        "disable-system" => o.datapath.disable_system = true,
        "disable-system-route" => vswitchd::native_tnl::disable_system_routes(),
        "user" => {
            return Err(Early::Fatal(
                "--user is not supported by ferrovs yet".to_string(),
            ))
        }
        // Accepted and without effect here: the monitor process, the
        // system routing table, SSL material (no ssl: remotes yet), DPDK.
        _ => {}
    }
    Ok(())
}

fn parse(args: &[String]) -> Result<Options, Early> {
    let mut o = Options::default();
    let words = crate::getopt::parse(args, OPTIONS, Words::Permute, Early::Usage, |n, v| {
        apply(&mut o, n, v).map(|()| true)
    })?;
    let words = words.unwrap_or_default();
    match words.len() {
        0 => {}
        1 => o.database = Some(words[0].clone()),
        _ => {
            return Err(Early::Fatal(
                "at most one non-option argument accepted; use --help for usage".into(),
            ))
        }
    }
    Ok(o)
}

fn fatal(msg: &str) -> i32 {
    let _ = std::io::stdout().flush();
    eprintln!("{PROGRAM}: {msg}");
    1
}

/// Entry point of the personality.
pub fn main(_program: &str, args: Vec<String>) -> i32 {
    vlog::set_program_name(PROGRAM);
    // Every logging module upstream's ovs-vswitchd has, so that
    // `vlog/list` and `vlog/set` know the same names.
    vlog::register_modules(&[
        "backtrace",
        "bfd",
        "bond",
        "bridge",
        "bundle",
        "bundles",
        "cfm",
        "collectors",
        "command_line",
        "connmgr",
        "conntrack",
        "conntrack_tp",
        "coverage",
        "ct_dpif",
        "daemon",
        "daemon_unix",
        "dns_resolve",
        "dpdk",
        "dpif",
        "dpif_lookup_autovalidator",
        "dpif_lookup_generic",
        "dpif_mfex_extract_study",
        "dpif_netdev",
        "dpif_netdev_extract",
        "dpif_netdev_impl",
        "dpif_netdev_lookup",
        "dpif_netlink",
        "dpif_netlink_rtnl",
        "entropy",
        "fail_open",
        "fatal_signal",
        "flow",
        "hmap",
        "in_band",
        "ipf",
        "ipfix",
        "jsonrpc",
        "lacp",
        "lldp",
        "lldpd",
        "lldpd_structs",
        "lockfile",
        "memory",
        "meta_flow",
        "native_tnl",
        "netdev",
        "netdev_afxdp",
        "netdev_dummy",
        "netdev_linux",
        "netdev_offload",
        "netdev_offload_tc",
        "netdev_vport",
        "netflow",
        "netlink",
        "netlink_conntrack",
        "netlink_notifier",
        "netlink_socket",
        "nx_match",
        "odp_execute",
        "odp_execute_impl",
        "odp_util",
        "ofp_actions",
        "ofp_bundle",
        "ofp_connection",
        "ofp_errors",
        "ofp_flow",
        "ofp_group",
        "ofp_match",
        "ofp_meter",
        "ofp_monitor",
        "ofp_msgs",
        "ofp_packet",
        "ofp_port",
        "ofp_protocol",
        "ofp_queue",
        "ofp_table",
        "ofp_util",
        "ofproto",
        "ofproto_dpif",
        "ofproto_dpif_mirror",
        "ofproto_dpif_monitor",
        "ofproto_dpif_rid",
        "ofproto_dpif_upcall",
        "ofproto_dpif_xlate",
        "ofproto_xlate_cache",
        "ovs_lldp",
        "ovs_numa",
        "ovs_rcu",
        "ovs_replay",
        "ovs_router",
        "ovs_thread",
        "ovsdb_cs",
        "ovsdb_error",
        "ovsdb_idl",
        "ox_stat",
        "pcap",
        "pmd_perf",
        "poll_loop",
        "process",
        "rconn",
        "reconnect",
        "route_table",
        "rstp",
        "rstp_sm",
        "sflow",
        "sha1",
        "signals",
        "socket_util",
        "socket_util_unix",
        "stp",
        "stream",
        "stream_fd",
        "stream_replay",
        "stream_ssl",
        "stream_tcp",
        "stream_unix",
        "svec",
        "system_stats",
        "tc",
        "timeval",
        "tunnel",
        "unixctl",
        "userspace_tso",
        "util",
        "uuid",
        "vconn",
        "vconn_stream",
        "vlog",
        "vswitchd",
    ]);
    let o = match parse(&args) {
        Ok(o) => o,
        Err(Early::Exit(t)) => {
            print!("{t}");
            return 0;
        }
        Err(Early::Usage(m)) => {
            eprintln!("{PROGRAM}: {m}");
            return 1;
        }
        Err(Early::Fatal(m)) => return fatal(&m),
    };
    let remote = o
        .database
        .clone()
        .unwrap_or_else(|| format!("unix:{}", rpc::paths::rundir().join("db.sock").display()));
    if let Err(e) = rpc::ActiveAddr::parse(&remote, Some(rpc::OVSDB_PORT)) {
        return fatal(&e.to_string());
    }
    let ready = if o.detach {
        match rpc::daemon::detach() {
            Ok(r) => {
                // A detached daemon has no console: upstream turns console
                // logging off (`vlog/list` shows it).
                vlog::set_level(None, Some(vlog::Destination::Console), vlog::Level::Off);
                Some(r)
            }
            Err(e) => return fatal(&e),
        }
    } else {
        None
    };
    if let Some(path) = &o.log_file {
        if let Err(e) = vlog::set_log_file(path) {
            return fatal(&e);
        }
    }
    let _pidfile = match &o.pidfile {
        Some(p) => match vswitchd::daemon::Pidfile::create(std::path::Path::new(p)) {
            Ok(f) => Some(f),
            Err(e) => {
                vlog::emer!("daemon_unix", "{e}");
                return fatal(&e);
            }
        },
        None => None,
    };
    if o.mlockall {
        // SAFETY: mlockall takes flags only.
        if unsafe { libc::mlockall(libc::MCL_CURRENT | libc::MCL_FUTURE) } != 0 {
            vlog::err!(
                "vswitchd",
                "mlockall failed: {}",
                rpc::errno::io_error_text(&std::io::Error::last_os_error())
            );
        }
    }
    let unixctl = match rpc::unixctl::UnixctlServer::create(o.unixctl.as_deref(), PROGRAM) {
        Ok(u) => u,
        Err(e) => {
            return fatal(&format!(
                "could not initialize control socket {} ({})",
                o.unixctl.as_deref().unwrap_or(""),
                rpc::errno::io_error_text(&e)
            ))
        }
    };
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("main")
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return fatal(&format!("cannot start runtime: {e}")),
    };
    let datapaths = vswitchd::dpbackend::Datapaths::new();
    let dps = datapaths.clone();
    let dummy_override = o.datapath.dummy == DummyMode::Override;
    let switch = Switch::with_backends(
        o.datapath,
        Box::new(move |cfg| {
            // Under `--enable-dummy=override` a `system` bridge runs on a
            // dummy datapath named `system@ovs-system`, as upstream's.
            let dp_type = match cfg.datapath_type.as_str() {
                "dummy" => "dummy",
                "system" if dummy_override => "system",
                _ => "netdev",
            };
            match dps.backend(dp_type, dummy_override) {
                Ok(b) => Box::new(b),
                Err(e) => {
                    vlog::err!("ofproto", "{}: could not create datapath: {e}", cfg.name);
                    Box::new(vswitchd::device::Devices::new())
                }
            }
        }),
    );
    datapaths.set_registry(switch.registry.clone());
    let daemon = Daemon::with_datapaths(switch, datapaths);
    {
        let mut sw = daemon.lock();
        sw.set_runtime(rt.handle().clone(), rpc::paths::rundir());
        sw.wake = Some(daemon.wake.clone());
    }
    if let Some(u) = &unixctl {
        vswitchd::appctl::register(u.commands(), &daemon);
    }
    let mut ctl_path = None;
    let status = rt.block_on(async {
        if let Some(u) = unixctl {
            ctl_path = Some(u.path().to_path_buf());
            tokio::spawn(async move {
                let _ = u.run().await;
            });
        }
        let client =
            vswitchd::db::DbClient::new(&remote, daemon.switch.clone(), daemon.wake.clone())
                .with_cells(daemon.idl_cells.clone());
        let db_task = tokio::spawn(client.run());
        if !o.no_chdir && o.detach {
            let _ = std::env::set_current_dir("/");
        }
        if let Some(r) = ready {
            r.notify();
            rpc::daemon::redirect_to_null(&[0, 1, 2]);
        }
        let mut term =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
        let term_fut = async {
            match term.as_mut() {
                Some(t) => {
                    t.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        };
        let status = tokio::select! {
            _ = daemon.shutdown.notified() => 0,
            _ = term_fut => {
                vlog::warn!("fatal_signal", "terminating with signal 15 (Terminated)");
                0
            }
            _ = tokio::signal::ctrl_c() => 0,
            r = db_task => match r {
                Ok(Err(e)) => {
                    vlog::emer!("vswitchd", "{e}");
                    1
                }
                _ => 1,
            },
        };
        if daemon.cleanup.load(Ordering::Relaxed) {
            daemon.lock().clear();
        }
        status
    });
    rt.shutdown_timeout(std::time::Duration::from_secs(1));
    if let Some(p) = ctl_path {
        let _ = std::fs::remove_file(p);
    }
    status
}
