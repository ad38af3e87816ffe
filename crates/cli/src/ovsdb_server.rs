//! The `ovsdb-server` personality: command line (permuting getopt like
//! upstream), daemon conventions (`--detach`, `--pidfile`, `--no-chdir`,
//! `--log-file`, `--unixctl`, `-v`), the appctl commands, and the tokio
//! runtime that runs [`ovsdb::server`] and its remotes.

use ovsdb::server::remotes::Remotes;
use ovsdb::server::Server;
use rpc::unixctl::UnixctlServer;
use std::io::Write;
use std::sync::Arc;

const PROGRAM: &str = "ovsdb-server";

const USAGE: &str = "\
ovsdb-server: Open vSwitch database server
usage: ovsdb-server [OPTIONS] [DATABASE...]
where each DATABASE is a database file in ovsdb format.
The default DATABASE, if none is given, is
@DBDIR@/conf.db.

JSON-RPC options (may be specified any number of times):
  --remote=REMOTE         connect or listen to REMOTE

Active JSON-RPC connection methods:
  tcp:HOST:PORT           PORT at remote HOST
  ssl:HOST:PORT           SSL PORT at remote HOST
  unix:FILE               Unix domain socket named FILE
Passive JSON-RPC connection methods:
  ptcp:PORT[:IP]          listen to TCP PORT on IP
  pssl:PORT[:IP]          listen for SSL on PORT on IP
  punix:FILE              listen on Unix domain socket FILE
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
  --pidfile[=FILE]        create pidfile (default: @RUNDIR@/ovsdb-server.pid)
  --overwrite-pidfile     with --pidfile, start even if already running

Logging options:
  -vSPEC, --verbose=SPEC   set logging levels
  -v, --verbose            set maximum verbosity level
  --log-file[=FILE]        enable logging to specified FILE
                           (default: @LOGDIR@/ovsdb-server.log)
  --syslog-method=(libc|unix:file|udp:ip:port)
                           specify how to send messages to syslog daemon
  --syslog-target=HOST:PORT  also send syslog msgs to HOST:PORT via UDP

Syncing options:
  --sync-from=SERVER      sync DATABASE from active SERVER and start in
                          backup mode (except with --active)
  --sync-exclude-tables=DB:TABLE,...
                          exclude the TABLE in DB from syncing
  --active                with --sync-from, start in active mode

Replay options:
  --record[=DIR]            turn on writing replay files
  --replay[=DIR]            run from replay files

Other options:
  --run COMMAND           run COMMAND as subprocess then exit
  --unixctl=SOCKET        override default control socket name
  --disable-file-column-diff
                          don't use column diff in database file
  -h, --help              display this help message
  -V, --version           display version information
";

use crate::getopt::{Arg, LongOpt, Words};

const OPTIONS: &[LongOpt] = &[
    ("remote", None, Arg::Required),
    ("unixctl", None, Arg::Required),
    ("run", None, Arg::Required),
    ("help", Some('h'), Arg::None),
    ("version", Some('V'), Arg::None),
    ("detach", None, Arg::None),
    ("monitor", None, Arg::None),
    ("user", None, Arg::Required),
    ("no-chdir", None, Arg::None),
    ("pidfile", None, Arg::Optional),
    ("overwrite-pidfile", None, Arg::None),
    ("no-self-confinement", None, Arg::None),
    ("verbose", Some('v'), Arg::Optional),
    ("log-file", None, Arg::Optional),
    ("syslog-method", None, Arg::Required),
    ("syslog-target", None, Arg::Required),
    ("private-key", Some('p'), Arg::Required),
    ("certificate", Some('c'), Arg::Required),
    ("ca-cert", Some('C'), Arg::Required),
    ("bootstrap-ca-cert", None, Arg::Required),
    ("peer-ca-cert", None, Arg::Required),
    ("ssl-protocols", None, Arg::Required),
    ("ssl-ciphers", None, Arg::Required),
    ("sync-from", None, Arg::Required),
    ("sync-exclude-tables", None, Arg::Required),
    ("active", None, Arg::None),
    ("no-dbs", None, Arg::None),
    ("disable-file-column-diff", None, Arg::None),
    ("record", None, Arg::Optional),
    ("replay", None, Arg::Optional),
];

#[derive(Default, Debug)]
struct Options {
    remotes: Vec<String>,
    unixctl: Option<String>,
    detach: bool,
    no_chdir: bool,
    pidfile: Option<String>,
    log_file: Option<String>,
    dbs: Vec<String>,
}

enum Early {
    Exit(String),
    Usage(String),
    Fatal(String),
}

fn apply(o: &mut Options, name: &str, val: Option<String>) -> Result<(), Early> {
    match name {
        "remote" => o.remotes.extend(val),
        "unixctl" => o.unixctl = val,
        "help" => {
            let text = USAGE
                .replace("@DBDIR@", &rpc::paths::dbdir().display().to_string())
                .replace("@RUNDIR@", &rpc::paths::rundir().display().to_string())
                .replace("@LOGDIR@", &rpc::paths::logdir().display().to_string());
            return Err(Early::Exit(text));
        }
        "version" => return Err(Early::Exit(format!("{PROGRAM} (Open vSwitch) 3.1.0\n"))),
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
        "run" | "sync-from" | "record" | "replay" => {
            return Err(Early::Fatal(format!(
                "--{name} is not supported by ferrovs yet"
            )))
        }
        "private-key" | "certificate" | "ca-cert" | "bootstrap-ca-cert" | "peer-ca-cert" => {}
        _ => {}
    }
    Ok(())
}

/// getopt_long with argument permutation: options may follow databases.
fn parse(args: &[String]) -> Result<Options, Early> {
    let mut o = Options::default();
    let words = crate::getopt::parse(args, OPTIONS, Words::Permute, Early::Usage, |n, v| {
        apply(&mut o, n, v).map(|()| true)
    })?;
    o.dbs.extend(words.unwrap_or_default());
    Ok(o)
}

fn fatal(msg: &str) -> i32 {
    let _ = std::io::stdout().flush();
    eprintln!("{PROGRAM}: {msg}");
    1
}

fn register_commands(
    unixctl: &UnixctlServer,
    server: &Arc<Server>,
    remotes: &Arc<Remotes>,
    shutdown: &Arc<tokio::sync::Notify>,
) {
    let c = unixctl.commands();
    let sd = shutdown.clone();
    c.register_then(
        "exit",
        "",
        0,
        0,
        |_| Ok(String::new()),
        move || sd.notify_one(),
    );
    let s = server.clone();
    c.register("ovsdb-server/list-dbs", "", 0, 0, move |_| {
        let mut names = s.db_names();
        names.push(ovsdb::server::SERVER_DB.to_string());
        names.sort();
        Ok(names.iter().map(|n| format!("{n}\n")).collect())
    });
    let r = remotes.clone();
    c.register("ovsdb-server/list-remotes", "", 0, 0, move |_| {
        Ok(r.names().iter().map(|n| format!("{n}\n")).collect())
    });
    let (r, s) = (remotes.clone(), server.clone());
    c.register("ovsdb-server/add-remote", "REMOTE", 1, 1, move |a| {
        r.add(&s, &a[0]);
        Ok(String::new())
    });
    let r = remotes.clone();
    c.register("ovsdb-server/remove-remote", "REMOTE", 1, 1, move |a| {
        if r.remove(&a[0]) {
            Ok(String::new())
        } else {
            Err("no such remote".into())
        }
    });
    let s = server.clone();
    c.register("ovsdb-server/add-db", "DB", 1, 1, move |a| {
        s.add_db(&a[0])
            .map(|_| String::new())
            .map_err(|e| e.to_string())
    });
    let s = server.clone();
    c.register("ovsdb-server/remove-db", "DB", 1, 1, move |a| {
        s.remove_db(&a[0])
            .map(|_| String::new())
            .map_err(|_| "Failed to find the database.".to_string())
    });
    let s = server.clone();
    c.register("ovsdb-server/compact", "", 0, 1, move |a| {
        s.compact(a.first().map(String::as_str))
            .map(|_| String::new())
            .map_err(|e| {
                if e.ends_with(": unknown database") {
                    "no database by that name".to_string()
                } else {
                    e
                }
            })
    });
    let s = server.clone();
    c.register("memory/show", "", 0, 0, move |_| Ok(s.memory_text()));
    c.register("vlog/list", "", 0, 0, |_| Ok(vlog::list()));
    c.register("vlog/list-pattern", "", 0, 0, |_| Ok(vlog::list_patterns()));
    c.register(
        "vlog/set",
        "{spec | PATTERN:destination:pattern}",
        0,
        usize::MAX,
        |a| {
            if a.is_empty() {
                vlog::set_levels_from_string("").map_err(strip_processing)?;
            }
            for spec in a {
                vlog::set_levels_from_string(spec).map_err(strip_processing)?;
            }
            Ok(String::new())
        },
    );
    c.register("vlog/reopen", "", 0, 0, |_| {
        vlog::reopen_log_file().map(|_| String::new())
    });
}

/// vlog reports `processing "SPEC": WHY` (the command-line form); appctl
/// answers only WHY.
fn strip_processing(e: String) -> String {
    match e.split_once("\": ") {
        Some((head, why)) if head.starts_with("processing \"") => why.to_string(),
        _ => e,
    }
}

/// Entry point of the personality.
pub fn main(_program: &str, args: Vec<String>) -> i32 {
    vlog::set_program_name(PROGRAM);
    vlog::register_modules(&[
        "ovsdb_server",
        "ovsdb_jsonrpc_server",
        "jsonrpc",
        "reconnect",
        "unixctl",
        "daemon_unix",
        "socket_util",
        "stream",
        "ovsdb_log",
        "ovsdb_rbac",
        "ovsdb_file",
    ]);
    let o = match parse(&args) {
        Ok(o) => o,
        Err(Early::Exit(t)) => {
            print!("{t}");
            return 0;
        }
        Err(Early::Usage(m)) => {
            let argv0 = std::env::args().next().unwrap_or_else(|| PROGRAM.into());
            let argv0 = if argv0.ends_with(PROGRAM) {
                argv0
            } else {
                PROGRAM.into()
            };
            eprintln!("{argv0}: {m}");
            return 1;
        }
        Err(Early::Fatal(m)) => return fatal(&m),
    };
    // Opened in the order of a set of their names, as upstream's are
    // (repeats open once).
    let dbs = if o.dbs.is_empty() {
        vec![rpc::paths::dbdir().join("conf.db").display().to_string()]
    } else {
        ovsdb::server::shash::set_order(&o.dbs)
    };
    let ready = if o.detach {
        match rpc::daemon::detach() {
            Ok(f) => Some(f),
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
    let server = Server::new();
    for db in &dbs {
        if let Err(e) = server.add_db(db) {
            return fatal(&e.to_string());
        }
    }
    server.initial_dbs_opened();
    let _pidfile = match &o.pidfile {
        Some(p) => match rpc::pidfile::create_pidfile(std::path::Path::new(p)) {
            Ok(f) => Some((f, p.clone())),
            Err(e) => return fatal(&format!("{p}: {e}")),
        },
        None => None,
    };
    let unixctl = match UnixctlServer::create(o.unixctl.as_deref(), PROGRAM) {
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
        // These threads are the daemon's main loop: log without a thread tag.
        .thread_name("main")
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return fatal(&format!("cannot start runtime: {e}")),
    };
    let remotes = Remotes::new();
    let shutdown = Arc::new(tokio::sync::Notify::new());
    if let Some(u) = &unixctl {
        register_commands(u, &server, &remotes, &shutdown);
    }
    let mut ctl_path = None;
    rt.block_on(async {
        for r in &o.remotes {
            remotes.add_bound(&server, r).await;
        }
        if let Some(u) = unixctl {
            ctl_path = Some(u.path().to_path_buf());
            tokio::spawn(async move {
                let _ = u.run().await;
            });
        }
        if !o.no_chdir && o.detach {
            let _ = std::env::set_current_dir("/");
        }
        if let Some(r) = ready {
            r.notify();
            rpc::daemon::redirect_to_null(&[0, 1, 2]);
        }
        vlog::info!("ovsdb_server", "{PROGRAM} (Open vSwitch) 3.1.0");
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
        tokio::select! {
            _ = shutdown.notified() => {}
            _ = term_fut => {}
            _ = tokio::signal::ctrl_c() => {}
        }
        remotes.clear();
    });
    server.close_all();
    rt.shutdown_timeout(std::time::Duration::from_secs(1));
    if let Some(p) = ctl_path {
        let _ = std::fs::remove_file(p);
    }
    if let Some((_, p)) = &_pidfile {
        let _ = std::fs::remove_file(p);
    }
    0
}
