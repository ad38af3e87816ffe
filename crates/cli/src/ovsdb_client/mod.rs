//! The `ovsdb-client` personality (ovsdb-client(1)): one JSON-RPC session
//! with an OVSDB server running one command.
//!
//! This module owns option parsing, the command table (argument counts,
//! whether a command needs a connection and a database), the choice of the
//! server (`unix:$OVS_RUNDIR/db.sock` by default) and of the database, and
//! the fatal-error conventions. The commands live in submodules: `info`
//! (list-dbs, schemas, tables, columns), `txn` (transact, query, dump,
//! locks), `monitor` (monitor, monitor-cond, monitor-cond-since, wait) and
//! `backup` (backup, restore, convert, needs-conversion). Output goes through
//! [`crate::db_format`].

mod backup;
mod conn;
mod info;
mod monitor;
mod txn;

use crate::db_format::{json_to_string, TableStyle, TABLE_LONG_OPTIONS};
use crate::getopt::{self, Arg, LongOpt, Words};
use conn::Conn;
use serde_json::Value;
use std::io::Write;

const PROGRAM: &str = "ovsdb-client";

/// A fatal error: the message (without the program name) and exit status.
#[derive(Debug)]
pub struct Fatal(pub String);

pub type CmdResult = Result<(), Fatal>;

/// `Err(Fatal(...))` from a format string.
macro_rules! fatal {
    ($($arg:tt)*) => { Err($crate::ovsdb_client::Fatal(format!($($arg)*))) };
}
pub(crate) use fatal;

/// What a command needs before it runs.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Need {
    Nothing,
    Rpc,
    Database,
}

/// The options every command sees.
pub struct Ctx {
    pub style: TableStyle,
    pub timestamp: bool,
    pub force: bool,
    pub detach: bool,
    pub pidfile: Option<String>,
    pub no_chdir: bool,
    pub overwrite_pidfile: bool,
    /// The server name as given (or the default).
    pub server: String,
    pub database: String,
}

impl Ctx {
    /// Prints `json` as upstream's `print_json` does (sorted members,
    /// `--pretty` indentation), followed by a new-line.
    pub fn print_json(&self, json: &Value) {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{}", json_to_string(json, true, self.style.pretty));
        let _ = out.flush();
    }
}

type Handler = fn(&mut Ctx, Option<&mut Conn>, &[String]) -> CmdResult;

struct Command {
    name: &'static str,
    need: Need,
    min_args: usize,
    max_args: usize,
    run: Handler,
}

const MANY: usize = usize::MAX;

const COMMANDS: &[Command] = &[
    Command {
        name: "list-dbs",
        need: Need::Rpc,
        min_args: 0,
        max_args: 0,
        run: info::list_dbs,
    },
    Command {
        name: "get-schema",
        need: Need::Database,
        min_args: 0,
        max_args: 0,
        run: info::get_schema,
    },
    Command {
        name: "get-schema-version",
        need: Need::Database,
        min_args: 0,
        max_args: 0,
        run: info::get_schema_version,
    },
    Command {
        name: "get-schema-cksum",
        need: Need::Database,
        min_args: 0,
        max_args: 0,
        run: info::get_schema_cksum,
    },
    Command {
        name: "list-tables",
        need: Need::Database,
        min_args: 0,
        max_args: 0,
        run: info::list_tables,
    },
    Command {
        name: "list-columns",
        need: Need::Database,
        min_args: 0,
        max_args: 1,
        run: info::list_columns,
    },
    Command {
        name: "transact",
        need: Need::Rpc,
        min_args: 1,
        max_args: 1,
        run: txn::transact,
    },
    Command {
        name: "query",
        need: Need::Rpc,
        min_args: 1,
        max_args: 1,
        run: txn::query,
    },
    Command {
        name: "monitor",
        need: Need::Database,
        min_args: 1,
        max_args: MANY,
        run: monitor::monitor,
    },
    Command {
        name: "monitor-cond",
        need: Need::Database,
        min_args: 2,
        max_args: 3,
        run: monitor::monitor_cond,
    },
    Command {
        name: "monitor-cond-since",
        need: Need::Database,
        min_args: 2,
        max_args: 4,
        run: monitor::monitor_cond_since,
    },
    Command {
        name: "wait",
        need: Need::Rpc,
        min_args: 2,
        max_args: 2,
        run: monitor::wait,
    },
    Command {
        name: "convert",
        need: Need::Rpc,
        min_args: 1,
        max_args: 1,
        run: backup::convert,
    },
    Command {
        name: "needs-conversion",
        need: Need::Rpc,
        min_args: 1,
        max_args: 1,
        run: backup::needs_conversion,
    },
    Command {
        name: "dump",
        need: Need::Database,
        min_args: 0,
        max_args: MANY,
        run: txn::dump,
    },
    Command {
        name: "backup",
        need: Need::Database,
        min_args: 0,
        max_args: 0,
        run: backup::backup,
    },
    Command {
        name: "restore",
        need: Need::Database,
        min_args: 0,
        max_args: 0,
        run: backup::restore,
    },
    Command {
        name: "lock",
        need: Need::Rpc,
        min_args: 1,
        max_args: 1,
        run: txn::lock,
    },
    Command {
        name: "steal",
        need: Need::Rpc,
        min_args: 1,
        max_args: 1,
        run: txn::steal,
    },
    Command {
        name: "unlock",
        need: Need::Rpc,
        min_args: 1,
        max_args: 1,
        run: txn::unlock,
    },
    Command {
        name: "help",
        need: Need::Nothing,
        min_args: 0,
        max_args: MANY,
        run: help_command,
    },
];

const OPTIONS: &[LongOpt] = &[
    ("verbose", Some('v'), Arg::Optional),
    ("help", Some('h'), Arg::None),
    ("version", Some('V'), Arg::None),
    ("timestamp", None, Arg::None),
    ("force", None, Arg::None),
    ("timeout", Some('t'), Arg::Required),
    ("db-change-aware", None, Arg::None),
    ("no-db-change-aware", None, Arg::None),
    ("detach", None, Arg::None),
    ("monitor", None, Arg::None),
    ("no-chdir", None, Arg::None),
    ("pidfile", None, Arg::Optional),
    ("overwrite-pidfile", None, Arg::None),
    ("user", None, Arg::Required),
    ("no-self-confinement", None, Arg::None),
    ("log-file", None, Arg::Optional),
    ("syslog-method", None, Arg::Required),
    ("syslog-target", None, Arg::Required),
    ("private-key", Some('p'), Arg::Required),
    ("certificate", Some('c'), Arg::Required),
    ("ca-cert", Some('C'), Arg::Required),
    ("bootstrap-ca-cert", None, Arg::Required),
    ("ssl-protocols", None, Arg::Required),
    ("ssl-ciphers", None, Arg::Required),
    ("record", None, Arg::Optional),
    ("replay", None, Arg::Optional),
];

const USAGE: &str = include_str!("usage.txt");

/// Early exits during option parsing.
enum Early {
    Exit(i32),
    Fatal(String),
}

fn print_fatal(msg: &str) -> i32 {
    let _ = std::io::stdout().flush();
    eprintln!("{PROGRAM}: {msg}");
    1
}

fn help_command(_: &mut Ctx, _: Option<&mut Conn>, _: &[String]) -> CmdResult {
    print!("{}", usage_text());
    Ok(())
}

fn usage_text() -> String {
    let rundir = rpc::paths::rundir();
    let logdir = rpc::paths::logdir();
    USAGE
        .replace("@RUNDIR@", &rundir.to_string_lossy())
        .replace("@LOGDIR@", &logdir.to_string_lossy())
}

/// The server used when none is named.
fn default_remote() -> String {
    format!("unix:{}/db.sock", rpc::paths::rundir().to_string_lossy())
}

/// True if `word` names a server (`unix:...`, `tcp:...`): a letter first
/// and a colon somewhere.
fn looks_like_server(word: &str) -> bool {
    word.as_bytes().first().is_some_and(u8::is_ascii_alphabetic) && word.contains(':')
}

/// Runs `ovsdb-client ARGS`; returns the exit status.
pub fn main(_program: &str, args: Vec<String>) -> i32 {
    vlog::set_program_name(PROGRAM);
    vlog::register_modules(&[
        "ovsdb_client",
        "jsonrpc",
        "reconnect",
        "stream",
        "fatal_signal",
    ]);
    let mut ctx = Ctx {
        style: TableStyle::default(),
        timestamp: false,
        force: false,
        detach: false,
        pidfile: None,
        no_chdir: false,
        overwrite_pidfile: false,
        server: String::new(),
        database: String::new(),
    };
    let table: Vec<LongOpt> = OPTIONS.iter().chain(TABLE_LONG_OPTIONS).copied().collect();
    let parsed = getopt::parse(
        &args,
        &table,
        Words::Permute,
        Early::Fatal,
        |name, value| apply_option(&mut ctx, name, value),
    );
    let words = match parsed {
        Ok(Some(w)) => w,
        Ok(None) => return 0,
        Err(Early::Exit(code)) => return code,
        Err(Early::Fatal(m)) => return print_fatal(&m),
    };
    match run(&mut ctx, &words) {
        Ok(()) => {
            let _ = std::io::stdout().flush();
            0
        }
        Err(Fatal(m)) => print_fatal(&m),
    }
}

fn apply_option(ctx: &mut Ctx, name: &str, value: Option<String>) -> Result<bool, Early> {
    match ctx.style.apply_option(name, value.as_deref()) {
        Ok(true) => return Ok(true),
        Ok(false) => {}
        Err(m) => return Err(Early::Fatal(m)),
    }
    match name {
        "help" => {
            print!("{}", usage_text());
            return Err(Early::Exit(0));
        }
        "version" => {
            println!("{PROGRAM} (Open vSwitch) 3.1.0");
            return Err(Early::Exit(0));
        }
        "verbose" => {
            let spec = value.unwrap_or_default();
            let spec = if spec.is_empty() {
                "dbg".to_string()
            } else {
                spec
            };
            if let Err(e) = vlog::set_levels_from_string(&spec) {
                return Err(Early::Fatal(e));
            }
        }
        "log-file" => {
            let path = match value {
                Some(p) if !p.is_empty() => p,
                _ => format!("{}/{PROGRAM}.log", rpc::paths::logdir().to_string_lossy()),
            };
            if let Err(e) = vlog::set_log_file(&path) {
                return Err(Early::Fatal(e));
            }
        }
        "timestamp" => ctx.timestamp = true,
        "force" => ctx.force = true,
        "detach" => ctx.detach = true,
        "no-chdir" => ctx.no_chdir = true,
        "overwrite-pidfile" => ctx.overwrite_pidfile = true,
        "pidfile" => {
            ctx.pidfile = Some(match value {
                Some(p) if !p.is_empty() => p,
                _ => format!("{}/{PROGRAM}.pid", rpc::paths::rundir().to_string_lossy()),
            })
        }
        "timeout" => {
            let secs: u32 = match value.as_deref().map(str::parse) {
                Some(Ok(n)) => n,
                _ => {
                    return Err(Early::Fatal(format!(
                        "value {} on -t or --timeout is invalid",
                        value.unwrap_or_default()
                    )))
                }
            };
            if secs > 0 {
                arm_timeout(secs);
            }
        }
        "private-key" | "certificate" | "ca-cert" | "bootstrap-ca-cert" | "ssl-protocols"
        | "ssl-ciphers" => {}
        // Accepted and without effect here, as for a process that is not
        // confined or monitored.
        _ => {}
    }
    Ok(true)
}

/// `--timeout`: the whole process ends with SIGALRM after `secs` seconds.
fn arm_timeout(secs: u32) {
    // SAFETY: alarm only schedules a signal for this process.
    unsafe {
        libc::alarm(secs);
    }
}

fn run(ctx: &mut Ctx, words: &[String]) -> CmdResult {
    let Some(name) = words.first() else {
        return fatal!("missing command name; use --help for help");
    };
    let Some(cmd) = COMMANDS.iter().find(|c| c.name == name) else {
        return fatal!("unknown command '{name}'; use --help for help");
    };
    let mut args: &[String] = &words[1..];
    let mut conn = None;
    if cmd.need != Need::Nothing {
        ctx.server = if args.len() > cmd.min_args && looks_like_server(&args[0]) {
            let s = args[0].clone();
            args = &args[1..];
            s
        } else {
            default_remote()
        };
        conn = Some(Conn::open(&ctx.server)?);
    }
    if cmd.need == Need::Database {
        let Some(c) = conn.as_mut() else {
            return fatal!("no connection");
        };
        let dbs = c.list_dbs()?;
        if args.len() > cmd.min_args && dbs.iter().any(|d| d == &args[0]) {
            ctx.database = args[0].clone();
            args = &args[1..];
        } else if dbs.iter().any(|d| d == "Open_vSwitch") {
            ctx.database = "Open_vSwitch".into();
        } else {
            let candidates: Vec<&String> = dbs.iter().filter(|d| !d.starts_with('_')).collect();
            match candidates.as_slice() {
                [only] => ctx.database = (*only).clone(),
                _ => {
                    return fatal!(
                        "no default database for `{}' command, please specify a database name",
                        cmd.name
                    )
                }
            }
        }
    }
    if args.len() < cmd.min_args || args.len() > cmd.max_args {
        return fatal!("invalid syntax for '{}' (use --help for help)", cmd.name);
    }
    (cmd.run)(ctx, conn.as_mut(), args)
}

/// Parses a JSON command-line argument, failing as upstream does.
pub fn parse_json_arg(s: &str) -> Result<Value, Fatal> {
    match ovsdb::json::parse(s) {
        Ok(v) if v.is_array() || v.is_object() => Ok(v),
        Ok(_) => {
            // Upstream's parser accepts only an array or an object at the
            // top level and notices when the first token ends.
            let lead = s.len() - s.trim_start().len();
            let token = s.trim();
            let end = if token.starts_with('"') {
                lead + token.len() - 1
            } else {
                lead + token.len()
            };
            fatal!("\"{s}\": line 0, column {end}, byte {end}: syntax error at beginning of input")
        }
        Err(e) => fatal!("\"{s}\": {e}"),
    }
}

/// The connection of a command that needs one.
pub fn need_conn(conn: Option<&mut Conn>) -> Result<&mut Conn, Fatal> {
    match conn {
        Some(c) => Ok(c),
        None => fatal!("no connection"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_words() {
        assert!(looks_like_server("unix:/x"));
        assert!(looks_like_server("tcp:1.2.3.4:5"));
        assert!(!looks_like_server("Open_vSwitch"));
        assert!(!looks_like_server("[\"a:b\"]"));
        assert!(!looks_like_server("1:2"));
    }

    #[test]
    fn command_table_is_sane() {
        for c in COMMANDS {
            assert!(c.min_args <= c.max_args, "{}", c.name);
        }
        let mut names: Vec<&str> = COMMANDS.iter().map(|c| c.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), COMMANDS.len());
    }
}
