//! The `ovsdb-tool` personality (ovsdb-tool(1)): creating, compacting,
//! converting and inspecting standalone OVSDB files, and running
//! transactions against them. Clustered-database commands report that
//! clustered databases are not supported yet.

use crate::getopt::{Arg, LongOpt, Words};
use ovsdb::error::Error;
use ovsdb::json;
use ovsdb::log::{read_records, MAGIC_CLUSTERED, MAGIC_STANDALONE};
use ovsdb::schema::{parse_version, DatabaseSchema};
use ovsdb::storage::{self, OpenOptionsDb, Storage, TailPolicy, TransactReply};
use ovsdb::transaction::{triggers_not_supported, ExecOptions, Outcome};
use ovsdb::Datum;
use serde_json::Value;
use std::collections::HashMap;
use std::io::Write;

const PROGRAM: &str = "ovsdb-tool";
const VERSION: &str = "3.1.0";
const DEFAULT_DB: &str = "/etc/openvswitch/conf.db";
const DEFAULT_SCHEMA: &str = ovsdb::schema::VSWITCH_SCHEMA_PATH;

/// A failure: the message after "ovsdb-tool: " and the exit status.
struct Fatal(String, i32);

/// A command-line option error, which getopt reports under the program
/// name as invoked (argv[0]).
fn option_error(msg: String) -> Fatal {
    let argv0 = std::env::args().next().unwrap_or_default();
    let invoked_as_tool = std::path::Path::new(&argv0)
        .file_name()
        .is_some_and(|n| n == PROGRAM);
    if invoked_as_tool && argv0 != PROGRAM {
        // Printed as is: strip our own prefix by carrying the full line.
        Fatal(format!("{FULL_LINE}{argv0}: {msg}"), 1)
    } else {
        Fatal(msg, 1)
    }
}

/// Marks a [`Fatal`] message that is already a complete line.
const FULL_LINE: &str = "\u{1}";

impl From<Error> for Fatal {
    fn from(e: Error) -> Fatal {
        Fatal(e.to_string(), 1)
    }
}

type CmdResult = Result<i32, Fatal>;

struct Options {
    more: usize,
}

struct Command {
    name: &'static str,
    min: usize,
    max: usize,
    run: fn(&Options, &[String]) -> CmdResult,
}

const COMMANDS: &[Command] = &[
    Command {
        name: "create",
        min: 0,
        max: 2,
        run: cmd_create,
    },
    Command {
        name: "create-cluster",
        min: 3,
        max: 3,
        run: cmd_clustered,
    },
    Command {
        name: "join-cluster",
        min: 4,
        max: usize::MAX,
        run: cmd_clustered,
    },
    Command {
        name: "compact",
        min: 0,
        max: 2,
        run: cmd_compact,
    },
    Command {
        name: "convert",
        min: 0,
        max: 3,
        run: cmd_convert,
    },
    Command {
        name: "needs-conversion",
        min: 0,
        max: 2,
        run: cmd_needs_conversion,
    },
    Command {
        name: "db-name",
        min: 0,
        max: 1,
        run: cmd_db_name,
    },
    Command {
        name: "db-version",
        min: 0,
        max: 1,
        run: cmd_db_version,
    },
    Command {
        name: "db-cksum",
        min: 0,
        max: 1,
        run: cmd_db_cksum,
    },
    Command {
        name: "db-cid",
        min: 1,
        max: 1,
        run: cmd_db_cluster_info,
    },
    Command {
        name: "db-sid",
        min: 1,
        max: 1,
        run: cmd_db_cluster_info,
    },
    Command {
        name: "db-local-address",
        min: 1,
        max: 1,
        run: cmd_db_cluster_info,
    },
    Command {
        name: "db-is-clustered",
        min: 1,
        max: 1,
        run: cmd_db_is_clustered,
    },
    Command {
        name: "db-is-standalone",
        min: 1,
        max: 1,
        run: cmd_db_is_standalone,
    },
    Command {
        name: "schema-name",
        min: 0,
        max: 1,
        run: cmd_schema_name,
    },
    Command {
        name: "schema-version",
        min: 0,
        max: 1,
        run: cmd_schema_version,
    },
    Command {
        name: "schema-cksum",
        min: 0,
        max: 1,
        run: cmd_schema_cksum,
    },
    Command {
        name: "query",
        min: 1,
        max: 2,
        run: cmd_query,
    },
    Command {
        name: "transact",
        min: 1,
        max: 2,
        run: cmd_transact,
    },
    Command {
        name: "show-log",
        min: 0,
        max: 1,
        run: cmd_show_log,
    },
    Command {
        name: "check-cluster",
        min: 1,
        max: usize::MAX,
        run: cmd_clustered,
    },
    Command {
        name: "cluster-to-standalone",
        min: 2,
        max: 2,
        run: cmd_clustered,
    },
    Command {
        name: "compare-versions",
        min: 3,
        max: 3,
        run: cmd_compare_versions,
    },
    Command {
        name: "help",
        min: 0,
        max: 0,
        run: cmd_help,
    },
];

fn usage_text() -> String {
    format!(
        "{PROGRAM}: Open vSwitch database management utility
usage: {PROGRAM} [OPTIONS] COMMAND [ARG...]
  create [DB [SCHEMA]]    create DB with the given SCHEMA
  [--election-timer=ms] create-cluster DB CONTENTS LOCAL
    create clustered DB with given CONTENTS and LOCAL address
  [--cid=UUID] join-cluster DB NAME LOCAL REMOTE...
    join clustered DB with given NAME and LOCAL and REMOTE addrs
  compact [DB [DST]]      compact DB in-place (or to DST)
  convert [DB [SCHEMA [DST]]]   convert DB to SCHEMA (to DST)
  db-name [DB]            report name of schema used by DB
  db-version [DB]         report version of schema used by DB
  db-cksum [DB]           report checksum of schema used by DB
  db-cid DB               report cluster ID of clustered DB
  db-sid DB               report server ID of clustered DB
  db-local-address DB     report local address of clustered DB
  db-is-clustered DB      test whether DB is clustered
  db-is-standalone DB     test whether DB is standalone
  schema-name [SCHEMA]    report SCHEMA's name
  schema-version [SCHEMA] report SCHEMA's schema version
  schema-cksum [SCHEMA]   report SCHEMA's checksum
  compare-versions A OP B  compare OVSDB schema version numbers
  query [DB] TRNS         execute read-only transaction on DB
  transact [DB] TRNS      execute read/write transaction on DB
  cluster-to-standalone DB DB    Convert clustered DB to
      standalone DB when cluster is down and cannot be
        revived
  [-m]... show-log [DB]   print DB's log entries
The default DB is {DEFAULT_DB}.
The default SCHEMA is {DEFAULT_SCHEMA}.

Logging options:
  -vSPEC, --verbose=SPEC   set logging levels
  -v, --verbose            set maximum verbosity level
  --log-file[=FILE]        enable logging to specified FILE
                           (default: /var/log/openvswitch/{PROGRAM}.log)
  --syslog-method=(libc|unix:file|udp:ip:port)
                           specify how to send messages to syslog daemon
  --syslog-target=HOST:PORT  also send syslog msgs to HOST:PORT via UDP

Other options:
  -m, --more                  increase show-log verbosity
  --rbac-role=ROLE            RBAC role for transact and query commands
  -h, --help                  display this help message
  -V, --version               display version information
"
    )
}

const LONG_OPTIONS: &[LongOpt] = &[
    ("more", Some('m'), Arg::None),
    ("rbac-role", None, Arg::Required),
    ("election-timer", None, Arg::Required),
    ("cid", None, Arg::Required),
    ("verbose", Some('v'), Arg::Optional),
    ("log-file", None, Arg::Optional),
    ("syslog-method", None, Arg::Required),
    ("syslog-target", None, Arg::Required),
    ("help", Some('h'), Arg::None),
    ("version", Some('V'), Arg::None),
];

enum Parsed {
    Run(Options, Vec<String>),
    Exit(i32),
}

fn apply_option(name: &str, arg: Option<&str>, opts: &mut Options) -> Result<Option<i32>, Fatal> {
    match name {
        "more" => opts.more += 1,
        "verbose" => {
            vlog::set_levels_from_string(arg.unwrap_or("")).map_err(|e| Fatal(e, 1))?;
        }
        "log-file" => {
            let path = arg
                .map(str::to_string)
                .unwrap_or_else(|| format!("/var/log/openvswitch/{PROGRAM}.log"));
            vlog::set_log_file(&path).map_err(|e| Fatal(e, 1))?;
        }
        "help" => {
            print!("{}", usage_text());
            return Ok(Some(0));
        }
        "version" => {
            println!("{PROGRAM} (Open vSwitch) {VERSION}");
            return Ok(Some(0));
        }
        // Accepted for compatibility: RBAC roles only matter for databases
        // with an RBAC_Role table; cluster options go with unsupported commands.
        _ => {}
    }
    Ok(None)
}

fn parse_args(args: &[String]) -> Result<Parsed, Fatal> {
    let mut opts = Options { more: 0 };
    let mut exit = None;
    let words = crate::getopt::parse(args, LONG_OPTIONS, Words::Permute, option_error, |n, v| {
        exit = apply_option(n, v.as_deref(), &mut opts)?;
        Ok(exit.is_none())
    })?;
    Ok(match (words, exit) {
        (Some(words), _) => Parsed::Run(opts, words),
        (None, code) => Parsed::Exit(code.unwrap_or(0)),
    })
}

/// Entry point of the `ovsdb-tool` personality.
pub fn main(_program: &str, args: Vec<String>) -> i32 {
    vlog::set_program_name(PROGRAM);
    vlog::set_level(None, Some(vlog::Destination::Console), vlog::Level::Warn);
    let result = parse_args(&args).and_then(|p| match p {
        Parsed::Exit(code) => Ok(code),
        Parsed::Run(opts, rest) => {
            let Some(name) = rest.first() else {
                return Err(Fatal("missing command name; use --help for help".into(), 1));
            };
            let Some(cmd) = COMMANDS.iter().find(|c| c.name == name) else {
                return Err(Fatal(
                    format!("unknown command '{name}'; use --help for help"),
                    1,
                ));
            };
            let n = rest.len() - 1;
            if n < cmd.min {
                return Err(Fatal(
                    format!(
                        "'{}' command requires at least {} arguments",
                        cmd.name, cmd.min
                    ),
                    1,
                ));
            }
            if n > cmd.max {
                return Err(Fatal(
                    format!("'{}' command takes at most {} arguments", cmd.name, cmd.max),
                    1,
                ));
            }
            (cmd.run)(&opts, &rest[1..])
        }
    });
    let _ = std::io::stdout().flush();
    match result {
        Ok(code) => code,
        Err(Fatal(msg, code)) => {
            match msg.strip_prefix(FULL_LINE) {
                Some(full) => eprintln!("{full}"),
                None => eprintln!("{PROGRAM}: {msg}"),
            }
            code
        }
    }
}

fn arg_or<'a>(args: &'a [String], i: usize, default: &'a str) -> &'a str {
    args.get(i).map(String::as_str).unwrap_or(default)
}

fn cmd_create(_: &Options, args: &[String]) -> CmdResult {
    let db = arg_or(args, 0, DEFAULT_DB);
    let schema = DatabaseSchema::from_file(arg_or(args, 1, DEFAULT_SCHEMA))?;
    storage::create(db, &schema)?;
    Ok(0)
}

fn cmd_clustered(_: &Options, _: &[String]) -> CmdResult {
    Err(Fatal("clustered databases are not supported yet".into(), 1))
}

fn open_rw(path: &str) -> Result<Storage, Error> {
    Storage::open(
        path,
        OpenOptionsDb {
            read_only: false,
            tail: TailPolicy::Fail,
        },
    )
}

fn open_ro(path: &str) -> Result<Storage, Error> {
    Storage::open(
        path,
        OpenOptionsDb {
            read_only: true,
            tail: TailPolicy::Fail,
        },
    )
}

fn cmd_compact(_: &Options, args: &[String]) -> CmdResult {
    let db = arg_or(args, 0, DEFAULT_DB);
    let comment = format!("compacted by {PROGRAM} {VERSION}");
    // Upstream reports a lock failure here without the error tag.
    let mut s = open_rw(db).map_err(|e| match &e.details {
        Some(d) if e.tag == "I/O error" && d.contains("failed to lock lockfile") => {
            Fatal(d.clone(), 1)
        }
        _ => Fatal::from(e),
    })?;
    match args.get(1) {
        Some(dst) => {
            check_target(dst)?;
            storage::write_snapshot(dst, &s.db, &comment)?;
        }
        None => {
            s.compact_comment = comment;
            s.compact()?;
        }
    }
    Ok(0)
}

/// An existing target file is overwritten only if it is an OVSDB file.
fn check_target(path: &str) -> Result<(), Error> {
    match std::fs::read(path) {
        Ok(data) => read_records(path, &data).map(|_| ()),
        Err(_) => Ok(()),
    }
}

fn cmd_convert(_: &Options, args: &[String]) -> CmdResult {
    let db = arg_or(args, 0, DEFAULT_DB);
    let schema = DatabaseSchema::from_file(arg_or(args, 1, DEFAULT_SCHEMA))?;
    let comment = format!("converted by {PROGRAM} {VERSION}");
    let s = open_rw(db)?;
    // Upstream reads the log under the new schema: the first record that
    // does not fit is the one reported.
    storage::read_as_schema(db, schema.clone())?;
    let new = ovsdb::convert::convert(&s.db, schema)?;
    match args.get(2) {
        Some(dst) => {
            check_target(dst)?;
            storage::write_snapshot(dst, &new, &comment)?;
        }
        None => {
            let tmp = format!("{db}.tmp");
            storage::write_snapshot(&tmp, &new, &comment)?;
            std::fs::rename(&tmp, db).map_err(|e| {
                Error::io(format!(
                    "{db}: rename failed ({})",
                    ovsdb::io_error_text(&e)
                ))
            })?;
        }
    }
    Ok(0)
}

fn cmd_needs_conversion(_: &Options, args: &[String]) -> CmdResult {
    let db_schema = storage::read_schema(arg_or(args, 0, DEFAULT_DB))?;
    let schema = DatabaseSchema::from_file(arg_or(args, 1, DEFAULT_SCHEMA))?;
    println!(
        "{}",
        if db_schema.same_as(&schema) {
            "no"
        } else {
            "yes"
        }
    );
    Ok(0)
}

fn cmd_db_name(_: &Options, args: &[String]) -> CmdResult {
    println!(
        "{}",
        storage::read_schema(arg_or(args, 0, DEFAULT_DB))?.name
    );
    Ok(0)
}

fn cmd_db_version(_: &Options, args: &[String]) -> CmdResult {
    let s = storage::read_schema(arg_or(args, 0, DEFAULT_DB))?;
    println!("{}", s.version.unwrap_or_default());
    Ok(0)
}

fn cmd_db_cksum(_: &Options, args: &[String]) -> CmdResult {
    let s = storage::read_schema(arg_or(args, 0, DEFAULT_DB))?;
    println!("{}", s.cksum.unwrap_or_default());
    Ok(0)
}

fn file_magic(path: &str) -> Result<String, Error> {
    Ok(storage::read_header(path)?.0)
}

fn cmd_db_cluster_info(_: &Options, args: &[String]) -> CmdResult {
    let db = &args[0];
    if file_magic(db)? == MAGIC_STANDALONE {
        return Err(Fatal(format!("{db}: not a clustered database"), 1));
    }
    cmd_clustered(&Options { more: 0 }, args)
}

fn cmd_db_is_clustered(_: &Options, args: &[String]) -> CmdResult {
    Ok(if file_magic(&args[0])? == MAGIC_CLUSTERED {
        0
    } else {
        2
    })
}

fn cmd_db_is_standalone(_: &Options, args: &[String]) -> CmdResult {
    Ok(if file_magic(&args[0])? == MAGIC_STANDALONE {
        0
    } else {
        2
    })
}

fn cmd_schema_name(_: &Options, args: &[String]) -> CmdResult {
    println!(
        "{}",
        DatabaseSchema::from_file(arg_or(args, 0, DEFAULT_SCHEMA))?.name
    );
    Ok(0)
}

fn cmd_schema_version(_: &Options, args: &[String]) -> CmdResult {
    let s = DatabaseSchema::from_file(arg_or(args, 0, DEFAULT_SCHEMA))?;
    println!("{}", s.version.unwrap_or_default());
    Ok(0)
}

fn cmd_schema_cksum(_: &Options, args: &[String]) -> CmdResult {
    let s = DatabaseSchema::from_file(arg_or(args, 0, DEFAULT_SCHEMA))?;
    println!("{}", s.cksum.unwrap_or_default());
    Ok(0)
}

fn cmd_compare_versions(_: &Options, args: &[String]) -> CmdResult {
    let parse = |s: &str| {
        parse_version(s).ok_or_else(|| {
            Fatal(
                format!("{s}: not an OVSDB version number in format x.y.z"),
                1,
            )
        })
    };
    let a = parse(&args[0])?;
    let b = parse(&args[2])?;
    let ord = a.cmp(&b);
    let result = match args[1].as_str() {
        "<" => ord.is_lt(),
        "<=" => ord.is_le(),
        "==" => ord.is_eq(),
        ">=" => ord.is_ge(),
        ">" => ord.is_gt(),
        "!=" => ord.is_ne(),
        op => return Err(Fatal(format!("{op}: not a relational operator"), 1)),
    };
    Ok(if result { 0 } else { 2 })
}

fn parse_transaction(text: &str) -> Result<Value, Fatal> {
    json::parse(text).map_err(|e| Fatal(format!("\"{text}\": {e}"), 1))
}

fn print_json(v: &Value) {
    println!("{}", json::to_string(v, true));
}

fn cmd_query(_: &Options, args: &[String]) -> CmdResult {
    let (db, txn) = if args.len() == 2 {
        (args[0].as_str(), &args[1])
    } else {
        (DEFAULT_DB, &args[0])
    };
    let params = parse_transaction(txn)?;
    let s = open_ro(db)?;
    let reply = match s.db.execute(&params, &ExecOptions::default()) {
        Err(e) => e.to_json(),
        Ok(Outcome::Done { results, .. }) => results,
        Ok(Outcome::Blocked { mut results, .. }) => {
            results.push(triggers_not_supported());
            Value::Array(results)
        }
    };
    print_json(&reply);
    Ok(0)
}

fn cmd_transact(_: &Options, args: &[String]) -> CmdResult {
    let (db, txn) = if args.len() == 2 {
        (args[0].as_str(), &args[1])
    } else {
        (DEFAULT_DB, &args[0])
    };
    let params = parse_transaction(txn)?;
    let mut s = open_rw(db)?;
    let reply = match s.transact(&params, &ExecOptions::default()) {
        Err(e) => e.to_json(),
        Ok(TransactReply::Done { results, .. }) => results,
        Ok(TransactReply::Blocked { mut results, .. }) => {
            results.push(triggers_not_supported());
            Value::Array(results)
        }
    };
    print_json(&reply);
    Ok(0)
}

/// Formats milliseconds since the epoch as `YYYY-MM-DD HH:MM:SS.mmm` (UTC).
fn format_date(ms: i64, with_ms: bool) -> String {
    let secs = ms.div_euclid(1000);
    let millis = ms.rem_euclid(1000);
    let days = secs.div_euclid(86400);
    let sod = secs.rem_euclid(86400);
    // Civil date from days since 1970-01-01 (proleptic Gregorian).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + if m <= 2 { 1 } else { 0 };
    let mut s = format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
        sod / 3600,
        (sod / 60) % 60,
        sod % 60
    );
    if with_ms {
        s.push_str(&format!(".{millis:03}"));
    }
    s
}

/// Object members in the order upstream's hash tables list them.
fn hashed_members(obj: &serde_json::Map<String, Value>) -> Vec<(&String, &Value)> {
    let members: Vec<(&String, &Value)> = obj.iter().collect();
    let keys: Vec<&str> = members.iter().map(|(k, _)| k.as_str()).collect();
    json::shash_order(&keys)
        .into_iter()
        .map(|i| members[i])
        .collect()
}

fn print_db_changes(
    out: &mut String,
    record: &serde_json::Map<String, Value>,
    names: &mut HashMap<String, String>,
    schema: Option<&DatabaseSchema>,
    more: usize,
) {
    let is_diff = record
        .get("_is_diff")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    for (tname, tjson) in hashed_members(record) {
        if tname.starts_with('_') {
            continue;
        }
        let Some(rows) = tjson.as_object() else {
            continue;
        };
        let ts = schema.and_then(|s| s.table(tname));
        for (ustr, rjson) in hashed_members(rows) {
            let short: String = ustr.chars().take(8).collect();
            out.push_str(&format!("  table {tname}"));
            match names.get(ustr) {
                Some(old_name) => {
                    out.push_str(&format!(
                        " row {old_name} ({short}){}:\n",
                        if is_diff { " diff" } else { "" }
                    ));
                }
                None => {
                    let name = rjson.get("name").and_then(Value::as_str).map(json::quote);
                    match &name {
                        Some(n) => out.push_str(&format!(" insert row {n} ({short}):\n")),
                        None => out.push_str(&format!(" insert row {short}:\n")),
                    }
                    names.insert(ustr.clone(), name.unwrap_or(short.clone()));
                }
            }
            match rjson {
                Value::Null => out.push_str("    delete row\n"),
                Value::Object(cols) if more >= 2 => {
                    for (cname, cjson) in hashed_members(cols) {
                        let col = ts.and_then(|t| t.by_name.get(cname).map(|&i| &t.columns[i]));
                        let text = col
                            .and_then(|c| {
                                let relaxed = c.ty.relaxed();
                                let ty = if c.ty.is_composite() { &relaxed } else { &c.ty };
                                Datum::from_json_unchecked(ty, cjson, None)
                                    .ok()
                                    .map(|d| d.to_text(&c.ty))
                            })
                            .unwrap_or_else(|| json::to_string(cjson, false));
                        out.push_str(&format!("    {cname}={text}\n"));
                    }
                }
                _ => {}
            }
        }
    }
}

fn cmd_show_log(opts: &Options, args: &[String]) -> CmdResult {
    let db = arg_or(args, 0, DEFAULT_DB);
    let data = std::fs::read(db)
        .map_err(|e| Error::io(format!("{db}: open failed ({})", ovsdb::io_error_text(&e))))?;
    let recs = read_records(db, &data)?;
    if recs.magic == MAGIC_CLUSTERED {
        return cmd_clustered(opts, args);
    }
    let mut schema: Option<DatabaseSchema> = None;
    let mut names: HashMap<String, String> = HashMap::new();
    let stdout = std::io::stdout();
    let mut lock = stdout.lock();
    for (i, r) in recs.records.iter().enumerate() {
        let Some(obj) = r.json.as_object() else {
            continue;
        };
        let mut out = format!("record {i}:");
        if i == 0 {
            let s = |k: &str| obj.get(k).and_then(Value::as_str).unwrap_or("").to_string();
            out.push_str(&format!(
                " \"{}\" schema, version=\"{}\", cksum=\"{}\"\n",
                s("name"),
                s("version"),
                s("cksum")
            ));
            schema = DatabaseSchema::from_json(&r.json).ok();
        } else {
            if let Some(date) = obj
                .get("_date")
                .and_then(|d| d.as_number())
                .and_then(json::as_integer)
            {
                if date < i32::MAX as i64 {
                    out.push_str(&format!(" {}", format_date(date * 1000, false)));
                } else {
                    out.push_str(&format!(" {}", format_date(date, true)));
                }
            }
            if let Some(c) = obj.get("_comment").and_then(Value::as_str) {
                out.push_str(&format!(" \"{c}\""));
            }
            out.push('\n');
            if opts.more > 0 {
                print_db_changes(&mut out, obj, &mut names, schema.as_ref(), opts.more);
            }
        }
        if i == 0 || opts.more > 0 {
            out.push('\n');
        }
        if lock.write_all(out.as_bytes()).is_err() {
            return Ok(1);
        }
    }
    drop(lock);
    match recs.error {
        Some(e) => Err(e.into()),
        None => Ok(0),
    }
}

fn cmd_help(_: &Options, _: &[String]) -> CmdResult {
    print!("{}", usage_text());
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(format_date(1795274370312, true), "2026-11-21 15:19:30.312");
        assert_eq!(format_date(0, false), "1970-01-01 00:00:00");
    }

    #[test]
    fn options() {
        let a = |v: &[&str]| parse_args(&v.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        match a(&["-mm", "show-log", "--more", "x"]) {
            Ok(Parsed::Run(o, rest)) => {
                assert_eq!(o.more, 3);
                assert_eq!(rest, ["show-log", "x"]);
            }
            _ => panic!(),
        }
        assert_eq!(
            a(&["--foo"]).err().unwrap().0,
            "unrecognized option '--foo'"
        );
        assert_eq!(a(&["-x"]).err().unwrap().0, "invalid option -- 'x'");
        assert_eq!(
            a(&["--rbac-role"]).err().unwrap().0,
            "option '--rbac-role' requires an argument"
        );
        assert!(matches!(a(&["--mo", "x"]), Ok(Parsed::Run(o, _)) if o.more == 1));
    }
}
