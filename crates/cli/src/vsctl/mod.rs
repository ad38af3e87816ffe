//! `ovs-vsctl`: queries and updates the Open_vSwitch database through the
//! IDL, with ovs-vsctl(8)'s command line, output and error texts.
//!
//! - this module: global options, splitting the command line into
//!   commands (`--` separators, per-command options), the transaction
//!   loop (run every command against the replica, commit, try again on
//!   conflicts), printing and waiting for `ovs-vswitchd` (`cur_cfg`).
//! - [`commands`]: the command table (names, options, argument syntax).
//! - [`ctx`]: what a running command sees ([`ctx::Ctx`]).
//! - [`text`]: the argument value syntax.
//! - [`db`]: the generic database commands (`list`, `get`, `set`, ...).
//! - [`cache`]: the bridge/port/interface view with fake bridges.
//! - [`bridge`]: bridge, port, bond and interface commands.
//! - [`config`]: init, show, emer-reset, controller, fail-mode, manager,
//!   SSL, auto-attach, zone and datapath commands.
//! - [`help`]: `--help`, `--commands`, `--options`.

mod bridge;
mod cache;
mod commands;
mod config;
mod ctx;
mod db;
mod help;
mod text;

use crate::db_format::{TableFormat, TablePrinter, TableStyle};
use crate::getopt::{self, Arg, LongOpt, Words};
use commands::CmdDef;
use ctx::{Ctx, Fail, Post};
use ovsdb::idl::{BlockingIdl, IdlError, MonitorSpec, Txn, TxnStatus};
use ovsdb::Uuid;
use std::collections::BTreeMap;
use std::io::Write;
use std::time::{Duration, Instant};

const PROGRAM: &str = "ovs-vsctl";
const LOG_MODULES: &[&str] = &[
    "vsctl",
    "db_ctl_base",
    "ovsdb_idl",
    "ovsdb_cs",
    "reconnect",
    "jsonrpc",
    "stream",
    "poll_loop",
    "fatal_signal",
    "timeval",
];

/// Global options.
#[derive(Clone, Debug)]
pub struct Globals {
    pub db: String,
    pub wait_for_reload: bool,
    pub timeout: Option<u64>,
    pub retry: bool,
    pub dry_run: bool,
    pub oneline: bool,
    pub style: TableStyle,
}

/// A command's options: `--name` → value (`None` for flags).
pub type CmdOptions = BTreeMap<String, Option<String>>;

/// One command of the command line.
pub struct Command {
    pub def: &'static CmdDef,
    /// `--name` → value (`None` for flags), as given before the name.
    pub options: BTreeMap<String, Option<String>>,
    /// The command name and its arguments.
    pub args: Vec<String>,
    pub output: String,
    pub table: Option<crate::db_format::Table>,
    pub post: Option<Post>,
}

/// How the tool ends early.
enum Early {
    /// Print to stdout and exit 0.
    Exit(String),
    /// `ovs-vsctl: MSG`, exit 1.
    Fatal(String),
    /// getopt's own complaint, `ARGV0: MSG`, exit 1.
    Usage(String),
}

const GLOBAL_OPTIONS: &[LongOpt] = &[
    ("db", None, Arg::Required),
    ("no-syslog", None, Arg::None),
    ("no-wait", None, Arg::None),
    ("dry-run", None, Arg::None),
    ("oneline", None, Arg::None),
    ("timeout", Some('t'), Arg::Required),
    ("retry", None, Arg::None),
    ("help", Some('h'), Arg::None),
    ("commands", None, Arg::None),
    ("options", None, Arg::None),
    ("leader-only", None, Arg::None),
    ("no-leader-only", None, Arg::None),
    ("shuffle-remotes", None, Arg::None),
    ("no-shuffle-remotes", None, Arg::None),
    ("version", Some('V'), Arg::None),
    ("verbose", Some('v'), Arg::Optional),
    ("log-file", None, Arg::Optional),
    ("syslog-method", None, Arg::Required),
    ("syslog-target", None, Arg::Required),
    ("format", Some('f'), Arg::Required),
    ("data", Some('d'), Arg::Required),
    ("no-headings", None, Arg::None),
    ("pretty", None, Arg::None),
    ("bare", None, Arg::None),
    ("max-column-width", None, Arg::Required),
    ("private-key", Some('p'), Arg::Required),
    ("certificate", Some('c'), Arg::Required),
    ("ca-cert", Some('C'), Arg::Required),
    ("ssl-protocols", None, Arg::Required),
    ("ssl-ciphers", None, Arg::Required),
    ("bootstrap-ca-cert", None, Arg::Required),
    ("peer-ca-cert", None, Arg::Required),
];

/// The default database: `unix:$OVS_RUNDIR/db.sock`.
fn default_db() -> String {
    match std::env::var("OVS_RUNDIR") {
        Ok(d) if !d.is_empty() => format!("unix:{d}/db.sock"),
        _ => "unix:/var/run/openvswitch/db.sock".to_string(),
    }
}

/// The whole option table: global options plus every command option (a
/// command option among the global ones applies to the first command).
fn all_options() -> Vec<LongOpt> {
    let mut v: Vec<LongOpt> = GLOBAL_OPTIONS.to_vec();
    for name in commands::all_option_names() {
        if !v.iter().any(|o| o.0 == name.0) {
            let arg = if name.1 { Arg::Required } else { Arg::None };
            v.push((name.0, None, arg));
        }
    }
    v
}

/// Parses global options; returns them, the options to give the first
/// command, and the remaining words.
fn parse_globals(args: &[String]) -> Result<(Globals, CmdOptions, Vec<String>), Early> {
    let mut g = Globals {
        db: std::env::var("OVS_DB")
            .ok()
            .filter(|s| !s.is_empty())
            .unwrap_or_else(default_db),
        wait_for_reload: true,
        timeout: None,
        retry: false,
        dry_run: false,
        oneline: false,
        style: TableStyle {
            format: TableFormat::List,
            ..TableStyle::default()
        },
    };
    let mut local: BTreeMap<String, Option<String>> = BTreeMap::new();
    let table = all_options();
    let globals: Vec<&str> = GLOBAL_OPTIONS.iter().map(|o| o.0).collect();
    let words = getopt::parse(
        args,
        &table,
        Words::StopAtFirst,
        Early::Usage,
        |name, val| {
            if !globals.contains(&name) {
                local.insert(format!("--{name}"), val);
                return Ok(true);
            }
            match name {
                "db" => g.db = val.unwrap_or_default(),
                "no-wait" => g.wait_for_reload = false,
                "dry-run" => g.dry_run = true,
                "oneline" => g.oneline = true,
                "retry" => g.retry = true,
                "timeout" => {
                    let v = val.unwrap_or_default();
                    // strtoul: leading digits; zero (or none) is refused.
                    let digits: String = v
                        .trim_start()
                        .chars()
                        .take_while(char::is_ascii_digit)
                        .collect();
                    match digits.parse::<u64>() {
                        Ok(n) if n > 0 => g.timeout = Some(n),
                        _ => {
                            return Err(Early::Fatal(format!(
                                "value {v} on -t or --timeout is invalid"
                            )))
                        }
                    }
                }
                "help" => return Err(Early::Exit(help::usage())),
                "commands" => return Err(Early::Exit(help::commands())),
                "options" => return Err(Early::Exit(help::options(&table))),
                "version" => {
                    return Err(Early::Exit(format!(
                        "{PROGRAM} (Open vSwitch) 3.1.0\nDB Schema 8.3.1\n"
                    )))
                }
                "verbose" => vlog::set_levels_from_string(val.as_deref().unwrap_or(""))
                    .map_err(Early::Fatal)?,
                "no-syslog" => vlog::set_level(
                    Some("vsctl"),
                    Some(vlog::Destination::Syslog),
                    vlog::Level::Warn,
                ),
                "log-file" => {
                    let path = val.unwrap_or_else(|| {
                        rpc::paths::logdir()
                            .join(format!("{PROGRAM}.log"))
                            .display()
                            .to_string()
                    });
                    vlog::set_log_file(&path).map_err(Early::Fatal)?;
                }
                "format" | "data" | "no-headings" | "pretty" | "bare" | "max-column-width" => {
                    g.style
                        .apply_option(name, val.as_deref())
                        .map_err(Early::Fatal)?;
                }
                // SSL, syslog plumbing and cluster options: accepted; ssl:
                // remotes fail when connecting.
                _ => {}
            }
            Ok(true)
        },
    )?;
    Ok((g, local, words.unwrap_or_default()))
}

/// Splits the words after the global options into commands.
fn parse_commands(
    words: &[String],
    mut first_options: BTreeMap<String, Option<String>>,
) -> Result<Vec<Command>, String> {
    let mut cmds = Vec::new();
    let mut groups: Vec<&[String]> = Vec::new();
    let mut start = 0;
    for (i, w) in words.iter().enumerate() {
        if w == "--" {
            groups.push(&words[start..i]);
            start = i + 1;
        }
    }
    groups.push(&words[start..]);
    let n_groups = groups.len();
    for (gi, group) in groups.into_iter().enumerate() {
        let mut options = if cmds.is_empty() {
            std::mem::take(&mut first_options)
        } else {
            BTreeMap::new()
        };
        let mut i = 0;
        while i < group.len() && group[i].starts_with('-') {
            let w = &group[i];
            let (name, value) = match w.split_once('=') {
                Some((n, v)) => (n.to_string(), Some(v.to_string())),
                None => (w.clone(), None),
            };
            if options.contains_key(&name) {
                return Err(format!("'{name}' option specified multiple times"));
            }
            options.insert(name, value);
            i += 1;
        }
        if i == group.len() {
            if options.is_empty() && (gi + 1 == n_groups || group.is_empty()) {
                if gi + 1 == n_groups && !cmds.is_empty() {
                    continue;
                }
                if group.is_empty() && gi + 1 < n_groups {
                    continue;
                }
            }
            return Err("missing command name (use --help for help)".into());
        }
        let name = &group[i];
        let Some(def) = commands::find(name) else {
            return Err(format!("unknown command '{name}'; use --help for help"));
        };
        for (opt, value) in &options {
            match def.option(opt) {
                None => return Err(format!("'{}' command has no '{opt}' option", def.name)),
                Some(true) if value.is_none() => {
                    return Err(format!(
                        "missing argument to '{opt}' option on '{}' command",
                        def.name
                    ))
                }
                Some(false) if value.is_some() => {
                    return Err(format!(
                        "'{opt}' option on '{}' does not accept an argument",
                        def.name
                    ))
                }
                _ => {}
            }
        }
        let args: Vec<String> = group[i..].to_vec();
        let n = args.len() - 1;
        let (min, max) = def.arg_range();
        if n < min {
            return Err(format!(
                "'{}' command requires at least {min} arguments",
                def.name
            ));
        }
        if n > max {
            return Err(format!(
                "'{}' command takes at most {max} arguments (note that options must precede command names and follow a \"--\" argument)",
                def.name
            ));
        }
        cmds.push(Command {
            def,
            options,
            args,
            output: String::new(),
            table: None,
            post: None,
        });
    }
    if cmds.is_empty() {
        return Err("missing command name (use --help for help)".into());
    }
    Ok(cmds)
}

/// The comment recorded with each transaction.
fn invocation_comment(argv: &[String]) -> String {
    let parent = parent_process_name();
    let args: Vec<String> = argv.iter().map(|a| escape_arg(a)).collect();
    match parent {
        Some(p) => format!("{PROGRAM} (invoked by {p}): {}", args.join(" ")),
        None => format!("{PROGRAM}: {}", args.join(" ")),
    }
}

/// Quotes an argument for the comment as a shell would need it.
fn escape_arg(a: &str) -> String {
    let plain = a
        .chars()
        .all(|c| !c.is_ascii_whitespace() && !"\\'\"".contains(c));
    if plain {
        return a.to_string();
    }
    let mut s = String::from("\"");
    for c in a.chars() {
        if c == '\\' || c == '"' {
            s.push('\\');
        }
        s.push(c);
    }
    s.push('"');
    s
}

/// The name of the process that ran us (from /proc), as upstream records.
fn parent_process_name() -> Option<String> {
    let ppid = std::os::unix::process::parent_id();
    let cmdline = std::fs::read(format!("/proc/{ppid}/cmdline")).ok()?;
    let argv0 = cmdline.split(|&b| b == 0).next()?;
    let argv0 = String::from_utf8_lossy(argv0).into_owned();
    if argv0.is_empty() {
        return None;
    }
    Some(argv0)
}

fn fatal(msg: &str) -> i32 {
    let _ = std::io::stdout().flush();
    // As upstream: the message goes to the log (not the console) and then
    // to stderr with the program name.
    vlog::set_level(
        Some("vsctl"),
        Some(vlog::Destination::Console),
        vlog::Level::Off,
    );
    vlog::log("vsctl", vlog::Level::Err, msg);
    eprintln!("{PROGRAM}: {msg}");
    1
}

/// Dies by SIGALRM, as upstream does when `--timeout` expires.
fn alarm_expired() -> i32 {
    vlog::warn!("fatal_signal", "terminating with signal 14 (Alarm clock)");
    let _ = std::io::stdout().flush();
    // SAFETY: restoring the default action and raising a signal in our own
    // single-threaded process.
    unsafe {
        libc::signal(libc::SIGALRM, libc::SIG_DFL);
        libc::raise(libc::SIGALRM);
    }
    128 + libc::SIGALRM
}

/// Every table and column the commands may touch.
fn monitor_spec() -> MonitorSpec {
    let mut spec = MonitorSpec::default();
    for t in commands::SCHEMA_TABLES {
        spec.add_columns(t, &[]);
    }
    spec
}

/// Entry point of the personality.
pub fn main(_program: &str, args: Vec<String>) -> i32 {
    vlog::set_program_name(PROGRAM);
    vlog::register_modules(LOG_MODULES);
    vlog::set_level(None, Some(vlog::Destination::Console), vlog::Level::Warn);
    vlog::set_level(
        Some("vsctl"),
        Some(vlog::Destination::Syslog),
        vlog::Level::Info,
    );
    let argv: Vec<String> = std::iter::once(argv0())
        .chain(args.iter().cloned())
        .collect();
    let (g, local, words) = match parse_globals(&args) {
        Ok(x) => x,
        Err(Early::Exit(text)) => {
            print!("{text}");
            return 0;
        }
        Err(Early::Fatal(msg)) => return fatal(&msg),
        Err(Early::Usage(msg)) => {
            eprintln!("{}: {msg}", argv0());
            return 1;
        }
    };
    let mut cmds = match parse_commands(&words, local) {
        Ok(c) => c,
        Err(msg) => return fatal(&msg),
    };
    // Logged at INFO (so to syslog) only when the database may change.
    let level = if cmds.iter().any(|c| c.def.may_write()) {
        vlog::Level::Info
    } else {
        vlog::Level::Dbg
    };
    let called_as: Vec<String> = argv.iter().map(|a| escape_arg(a)).collect();
    vlog::log(
        "vsctl",
        level,
        &format!("Called as {}", called_as.join(" ")),
    );
    let deadline = g.timeout.map(|t| Instant::now() + Duration::from_secs(t));
    match run(&g, &mut cmds, &argv, deadline) {
        Ok(code) => code,
        Err(Fail::Fatal(msg)) => fatal(&msg),
        Err(Fail::Exit(code)) => code,
        Err(Fail::TimedOut) => alarm_expired(),
    }
}

/// argv[0] as typed when run under our installed name.
fn argv0() -> String {
    std::env::args()
        .next()
        .filter(|a| std::path::Path::new(a).file_name().and_then(|n| n.to_str()) == Some(PROGRAM))
        .unwrap_or_else(|| PROGRAM.to_string())
}

fn idl_error(e: IdlError) -> Fail {
    match e {
        IdlError::TimedOut => Fail::TimedOut,
        other => Fail::Fatal(other.to_string()),
    }
}

/// The transaction loop; returns the exit code.
fn run(
    g: &Globals,
    cmds: &mut [Command],
    argv: &[String],
    deadline: Option<Instant>,
) -> Result<i32, Fail> {
    let mut idl = BlockingIdl::new(&g.db, "Open_vSwitch", monitor_spec());
    idl.set_retry(g.retry);
    idl.set_deadline(deadline);
    idl.sync().map_err(idl_error)?;
    let comment = invocation_comment(argv);
    let (outcome, ovs_uuid) = loop {
        let Some(replica) = idl.replica() else {
            return Err(Fail::Fatal("database not available".into()));
        };
        let r = replica.clone();
        let mut txn = Txn::new();
        txn.set_dry_run(g.dry_run);
        txn.add_comment(comment.clone());
        let ovs = match r.table("Open_vSwitch").and_then(|t| t.rows().next()) {
            Some(row) => row.uuid,
            None => txn
                .insert(&r, "Open_vSwitch")
                .map_err(|e| Fail::Fatal(text::constraint_text(&e)))?,
        };
        if g.wait_for_reload {
            let _ = txn.increment(&r, "Open_vSwitch", &ovs, "next_cfg", false);
        }
        let mut symtab = text::Symtab::default();
        let mut cache = None;
        let mut try_again = false;
        for c in cmds.iter_mut() {
            c.output.clear();
            c.table = None;
            c.post = None;
            let mut ctx = Ctx {
                r: &r,
                txn: &mut txn,
                symtab: &mut symtab,
                ovs,
                args: &c.args,
                options: &c.options,
                output: &mut c.output,
                table: &mut c.table,
                post: &mut c.post,
                cache: &mut cache,
                try_again: false,
            };
            (c.def.run)(&mut ctx)?;
            if ctx.try_again {
                try_again = true;
                break;
            }
        }
        if try_again {
            idl.wait_for_update().map_err(idl_error)?;
            continue;
        }
        for name in &symtab.order {
            let Some(sym) = symtab.find(name) else {
                continue;
            };
            if !sym.created {
                return Err(Fail::Fatal(format!(
                    "row id \"{name}\" is referenced but never created (e.g. with \"-- --id={name} create ...\")"
                )));
            }
            let root = sym.table.as_deref().is_some_and(|t| r.schema().is_root(t));
            if !sym.strong_ref && !root {
                if sym.weak_ref {
                    vlog::warn!("vsctl", "row id \"{}\" was created but only a weak reference to it was inserted, so it will not actually appear in the database", name);
                } else {
                    vlog::warn!("vsctl", "row id \"{}\" was created but no reference to it was inserted, so it will not actually appear in the database", name);
                }
            }
        }
        let out = idl.commit_block(&txn).map_err(idl_error)?;
        match &out.status {
            TxnStatus::TryAgain => {
                idl.wait_for_update().map_err(idl_error)?;
                continue;
            }
            TxnStatus::Error(e) => {
                vlog::warn!("ovsdb_idl", "transaction error: {}", e);
                return Err(Fail::Fatal(format!("transaction error: {e}")));
            }
            TxnStatus::NotLocked => {
                return Err(Fail::Fatal("database not locked".into()));
            }
            TxnStatus::Success | TxnStatus::Unchanged => break (out, ovs),
        }
    };
    // Post-processing: outputs that need the committed UUIDs.
    for c in cmds.iter_mut() {
        if let Some(Post::PrintInserted(temp)) = c.post.take() {
            let real = outcome.inserted.get(&temp).copied().unwrap_or(temp);
            c.output.push_str(&format!("{real}\n"));
        }
    }
    print_outputs(g, cmds);
    if g.wait_for_reload && outcome.status != TxnStatus::Unchanged && !g.dry_run {
        if let Some(next_cfg) = outcome.increment {
            let ovs = ovs_real(&outcome.inserted, ovs_uuid);
            idl.wait_until(|r| {
                r.get("Open_vSwitch", &ovs, "cur_cfg")
                    .and_then(|d| d.keys.first().and_then(|a| a.as_integer()))
                    .is_some_and(|cur| cur >= next_cfg)
            })
            .map_err(idl_error)?;
        }
    }
    Ok(0)
}

fn ovs_real(inserted: &BTreeMap<Uuid, Uuid>, ovs: Uuid) -> Uuid {
    inserted.get(&ovs).copied().unwrap_or(ovs)
}

fn print_outputs(g: &Globals, cmds: &[Command]) {
    let mut stdout = std::io::stdout().lock();
    let mut printer = TablePrinter::new();
    for c in cmds {
        if let Some(t) = &c.table {
            let _ = stdout.write_all(printer.format(t, &g.style).as_bytes());
        } else if g.oneline {
            let text = c.output.strip_suffix('\n').unwrap_or(&c.output);
            let mut line = String::with_capacity(text.len() + 1);
            for ch in text.chars() {
                match ch {
                    '\n' => line.push_str("\\n"),
                    '\\' => line.push_str("\\\\"),
                    _ => line.push(ch),
                }
            }
            line.push('\n');
            let _ = stdout.write_all(line.as_bytes());
        } else {
            let _ = stdout.write_all(c.output.as_bytes());
        }
    }
    let _ = stdout.flush();
}
