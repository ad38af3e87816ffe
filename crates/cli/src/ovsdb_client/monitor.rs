//! Watching a database: `monitor` (RFC 7047 `update`), `monitor-cond`
//! (`update2`), `monitor-cond-since` (`update3` with transaction ids) and
//! `wait` (for a database to be added, connected or removed).
//!
//! Each update becomes one table per monitored table, with the columns
//! `row` and `action` ahead of the monitored ones, printed as soon as it
//! arrives. `--detach` goes to the background after the initial contents.

use super::conn::Conn;
use super::{fatal, need_conn, parse_json_arg, CmdResult, Ctx, Fatal};
use crate::db_format::{Cell, Table, TablePrinter};
use ovsdb::schema::TableSchema;
use ovsdb::types::Type;
use ovsdb::DatabaseSchema;
use rpc::Message;
use serde_json::{json, Map, Value};
use std::io::Write;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Version {
    V1,
    V2,
    V3,
}

/// One monitored table: the columns printed for it.
struct Monitored {
    name: String,
    columns: Vec<(String, Type)>,
}

/// Parses one `COLUMN,...` argument into `request` (a monitor request) and
/// adds the columns to `columns`. `!initial`, `!insert`, `!delete` and
/// `!modify` turn off kinds of changes.
fn parse_columns(
    arg: &str,
    server: &str,
    database: &str,
    ts: &TableSchema,
    columns: &mut Vec<(String, Type)>,
) -> Result<Map<String, Value>, Fatal> {
    let mut names: Vec<Value> = Vec::new();
    let (mut initial, mut insert, mut delete, mut modify) = (true, true, true, true);
    let add = |name: &str,
               columns: &mut Vec<(String, Type)>,
               names: &mut Vec<Value>|
     -> Result<(), Fatal> {
        if columns.iter().any(|(n, _)| n == name) {
            return fatal!("{server}: column \"{name}\" mentioned multiple times");
        }
        let Some(c) = ts.column(name) else {
            return fatal!(
                "{server}: table \"{}\" in {database} does not have a column named \"{name}\"",
                ts.name
            );
        };
        columns.push((name.to_string(), ts.column_type(c)));
        names.push(Value::String(name.to_string()));
        Ok(())
    };
    for token in arg.split(',').filter(|t| !t.is_empty()) {
        match token {
            "!initial" => initial = false,
            "!insert" => insert = false,
            "!delete" => delete = false,
            "!modify" => modify = false,
            name => add(name, columns, &mut names)?,
        }
    }
    if names.is_empty() {
        let mut all: Vec<&str> = ts.columns.iter().map(|c| c.name.as_str()).collect();
        all.sort_unstable();
        for name in all {
            add(name, columns, &mut names)?;
        }
        add("_version", columns, &mut names)?;
    }
    let mut mr = Map::new();
    mr.insert("columns".into(), Value::Array(names));
    if !(initial && insert && delete && modify) {
        mr.insert(
            "select".into(),
            json!({"initial": initial, "insert": insert, "delete": delete, "modify": modify}),
        );
    }
    Ok(mr)
}

/// Builds the monitor requests for `args` (TABLE [COLUMN,...]... or ALL).
fn build_requests(
    ctx: &Ctx,
    schema: &DatabaseSchema,
    args: &[String],
    condition: Option<&Value>,
) -> Result<(Map<String, Value>, Vec<Monitored>), Fatal> {
    let mut requests = Map::new();
    let mut monitored = Vec::new();
    let with_condition = |mut mr: Map<String, Value>| {
        if let Some(c) = condition {
            mr.insert("where".into(), c.clone());
        }
        Value::Object(mr)
    };
    if args.len() == 1 && args[0] == "ALL" {
        for ts in schema.tables.values() {
            let mut columns = Vec::new();
            let mr = parse_columns("", &ctx.server, &ctx.database, ts, &mut columns)?;
            requests.insert(ts.name.clone(), with_condition(mr));
            monitored.push(Monitored {
                name: ts.name.clone(),
                columns,
            });
        }
        return Ok((requests, monitored));
    }
    let tname = &args[0];
    let Some(ts) = schema.table(tname) else {
        return fatal!(
            "{}: {} does not have a table named \"{tname}\"",
            ctx.server,
            ctx.database
        );
    };
    let mut columns = Vec::new();
    let mrs = if args.len() > 1 {
        let mut list = Vec::new();
        for a in &args[1..] {
            let mr = parse_columns(a, &ctx.server, &ctx.database, ts, &mut columns)?;
            list.push(with_condition(mr));
        }
        Value::Array(list)
    } else {
        with_condition(parse_columns(
            "",
            &ctx.server,
            &ctx.database,
            ts,
            &mut columns,
        )?)
    };
    requests.insert(ts.name.clone(), mrs);
    monitored.push(Monitored {
        name: ts.name.clone(),
        columns,
    });
    Ok((requests, monitored))
}

/// Prints tables as they come, flushing after each.
struct Printer {
    tables: TablePrinter,
    timestamp: bool,
    /// A line printed after the blank line that separates the next table
    /// from the previous one (`last_id: ...` of `update3`).
    prefix: Option<String>,
}

impl Printer {
    fn emit(&mut self, ctx: &Ctx, t: &Table) {
        let mut text = self.tables.format(t, &ctx.style);
        if let Some(line) = self.prefix.take() {
            let (sep, rest) = match text.strip_prefix('\n') {
                Some(rest) => ("\n", rest),
                None => ("", text.as_str()),
            };
            text = format!("{sep}{line}\n{rest}");
        }
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(text.as_bytes());
        let _ = out.flush();
    }

    fn new_table(&self, m: &Monitored, caption: bool) -> Table {
        let mut t = Table::new();
        t.set_timestamp(self.timestamp);
        if caption {
            t.set_caption(m.name.clone());
        }
        t.add_column("row");
        t.add_column("action");
        for (name, _) in &m.columns {
            t.add_column(name.clone());
        }
        t
    }
}

fn error(msg: &str) {
    let _ = std::io::stdout().flush();
    eprintln!("ovsdb-client: {msg}");
}

/// The members of `obj` in the order a C client's hash table lists them.
fn hash_ordered(obj: &Map<String, Value>) -> Vec<(&String, &Value)> {
    let entries: Vec<(&String, &Value)> = obj.iter().collect();
    let keys: Vec<&str> = entries.iter().map(|(k, _)| k.as_str()).collect();
    ovsdb::json::shash_order(&keys)
        .into_iter()
        .map(|i| entries[i])
        .collect()
}

fn add_row(t: &mut Table, m: &Monitored, row: Option<&Value>, action: &str, uuid: &str) {
    let Some(row) = row else {
        error(&format!("missing {action} row"));
        return;
    };
    let Some(obj) = row.as_object() else {
        error("<row> is not object");
        return;
    };
    t.add_row();
    t.add_cell(Cell::text(uuid));
    t.add_cell(Cell::text(action));
    for (name, ty) in &m.columns {
        match obj.get(name) {
            Some(v) => t.add_cell(Cell::json(v.clone(), Some(ty.clone()))),
            None => t.add_cell(Cell::default()),
        }
    }
}

/// Prints an `update` (or the initial reply of `monitor`).
fn print_update(ctx: &Ctx, p: &mut Printer, mts: &[Monitored], updates: &Value, initial: bool) {
    let Some(updates) = updates.as_object() else {
        error("<table-updates> is not object");
        return;
    };
    for m in mts {
        let Some(tu) = updates.get(&m.name) else {
            continue;
        };
        let Some(tu) = tu.as_object() else {
            error(&format!(
                "<table-update> for table {} is not object",
                m.name
            ));
            continue;
        };
        let mut t = p.new_table(m, mts.len() > 1);
        for (uuid, ru) in hash_ordered(tu) {
            let Some(ru) = ru.as_object() else {
                error("<row-update> is not object");
                continue;
            };
            let old = ru.get("old");
            let new = ru.get("new");
            if initial {
                add_row(&mut t, m, new, "initial", uuid);
            } else if old.is_none() {
                add_row(&mut t, m, new, "insert", uuid);
            } else if new.is_none() {
                add_row(&mut t, m, old, "delete", uuid);
            } else {
                add_row(&mut t, m, old, "old", uuid);
                add_row(&mut t, m, new, "new", "");
            }
        }
        p.emit(ctx, &t);
    }
}

/// Prints an `update2`/`update3` body (or the initial reply of
/// `monitor_cond`).
fn print_update2(ctx: &Ctx, p: &mut Printer, mts: &[Monitored], updates: &Value) {
    let Some(updates) = updates.as_object() else {
        error("<table-updates2> is not object");
        return;
    };
    for m in mts {
        let Some(tu) = updates.get(&m.name) else {
            continue;
        };
        let Some(tu) = tu.as_object() else {
            error(&format!(
                "<table-update> for table {} is not object",
                m.name
            ));
            continue;
        };
        let mut t = p.new_table(m, mts.len() > 1);
        for (uuid, ru) in hash_ordered(tu) {
            let Some(ru) = ru.as_object() else {
                error("<row-update2> is not object");
                continue;
            };
            for op in ["delete", "initial", "modify", "insert"] {
                let Some(row) = ru.get(op) else {
                    continue;
                };
                if op == "delete" {
                    if !row.is_null() {
                        error("delete method does not expect <row>");
                        break;
                    }
                    t.add_row();
                    t.add_cell(Cell::text(uuid.as_str()));
                    t.add_cell(Cell::text("delete"));
                } else {
                    add_row(&mut t, m, Some(row), op, uuid);
                }
                break;
            }
        }
        p.emit(ctx, &t);
    }
}

fn print_line(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{text}");
    let _ = out.flush();
}

fn run_monitor(
    ctx: &mut Ctx,
    conn: Option<&mut Conn>,
    version: Version,
    args: &[String],
    condition: Option<Value>,
    last_id: Option<String>,
) -> CmdResult {
    let conn = need_conn(conn)?;
    let schema = conn.schema(&ctx.database)?;
    let (requests, mts) = build_requests(ctx, &schema, args, condition.as_ref())?;
    // Best effort, as upstream: older servers do not know this method.
    let _ = conn.call("set_db_change_aware", vec![Value::Bool(true)]);
    let (method, mut params) = match version {
        Version::V1 => ("monitor", Vec::new()),
        Version::V2 => ("monitor_cond", Vec::new()),
        Version::V3 => ("monitor_cond_since", Vec::new()),
    };
    params.push(Value::String(ctx.database.clone()));
    params.push(Value::Null);
    params.push(Value::Object(requests));
    if version == Version::V3 {
        params.push(Value::String(
            last_id.unwrap_or_else(|| ovsdb::Uuid::ZERO.to_string()),
        ));
    }
    let request = Message::request(method, params);
    let id = request.id().cloned();
    if let Err(e) = conn.client.send(&request) {
        return fatal!("{}: send failed ({e})", ctx.server);
    }
    let mut p = Printer {
        tables: TablePrinter::new(),
        timestamp: ctx.timestamp,
        prefix: None,
    };
    loop {
        let msg = match conn.client.recv() {
            Ok(m) => m,
            Err(rpc::blocking::ClientError::Eof) => return Ok(()),
            Err(e) => return fatal!("{}: receive failed ({e})", ctx.server),
        };
        match msg {
            Message::Request { method, params, id } if method == "echo" => {
                let _ = conn.client.send(&Message::reply(Value::Array(params), id));
            }
            Message::Reply { result, id: rid } if Some(&rid) == id.as_ref() => {
                match version {
                    Version::V1 => print_update(ctx, &mut p, &mts, &result, true),
                    Version::V2 => print_update2(ctx, &mut p, &mts, &result),
                    Version::V3 => {
                        let found = result.get(0).and_then(Value::as_bool).unwrap_or(false);
                        let last = result.get(1).and_then(Value::as_str).unwrap_or("");
                        print_line(&format!("found: {found}, last_id: {last}"));
                        if let Some(u) = result.get(2) {
                            print_update2(ctx, &mut p, &mts, u);
                        }
                    }
                }
                if ctx.detach {
                    super::backup::daemonize(ctx)?;
                }
            }
            Message::Error { error, id: rid } if Some(&rid) == id.as_ref() => {
                return fatal!(
                    "{}: {method} failed: {}",
                    ctx.server,
                    ovsdb::json::to_string(&error, true)
                );
            }
            Message::Notify { method, params } => match (method.as_str(), version) {
                ("update", Version::V1) if params.len() == 2 && params[0].is_null() => {
                    print_update(ctx, &mut p, &mts, &params[1], false)
                }
                ("update2", Version::V2) if params.len() == 2 && params[0].is_null() => {
                    print_update2(ctx, &mut p, &mts, &params[1])
                }
                ("update3", Version::V3) if params.len() == 3 && params[0].is_null() => {
                    if let Some(last) = params[1].as_str() {
                        p.prefix = Some(format!("last_id: {last}"));
                    }
                    print_update2(ctx, &mut p, &mts, &params[2]);
                    if let Some(line) = p.prefix.take() {
                        print_line(&line);
                    }
                }
                ("monitor_canceled", _) => {
                    return fatal!("{}: {} database was removed", ctx.server, ctx.database)
                }
                _ => {}
            },
            _ => {}
        }
    }
}

pub fn monitor(ctx: &mut Ctx, conn: Option<&mut Conn>, args: &[String]) -> CmdResult {
    run_monitor(ctx, conn, Version::V1, args, None, None)
}

fn parse_condition(arg: &str) -> Result<Value, Fatal> {
    let c = parse_json_arg(arg)?;
    if !c.is_array() {
        return fatal!("Condition should be an array.");
    }
    Ok(c)
}

pub fn monitor_cond(ctx: &mut Ctx, conn: Option<&mut Conn>, args: &[String]) -> CmdResult {
    let condition = parse_condition(&args[0])?;
    run_monitor(ctx, conn, Version::V2, &args[1..], Some(condition), None)
}

pub fn monitor_cond_since(ctx: &mut Ctx, conn: Option<&mut Conn>, args: &[String]) -> CmdResult {
    let (last_id, rest) = match args.first() {
        Some(a) if ovsdb::Uuid::parse(a).is_some() => (Some(a.clone()), &args[1..]),
        _ => (None, args),
    };
    if rest.len() < 2 {
        return fatal!("invalid syntax for 'monitor-cond-since' (use --help for help)");
    }
    let condition = parse_condition(&rest[0])?;
    run_monitor(ctx, conn, Version::V3, &rest[1..], Some(condition), last_id)
}

/// `wait DATABASE STATE`: returns once `_Server`'s Database table shows
/// DATABASE in STATE (`added`, `connected` or `removed`).
pub fn wait(ctx: &mut Ctx, conn: Option<&mut Conn>, args: &[String]) -> CmdResult {
    let (db, state) = (&args[0], args[1].as_str());
    if !matches!(state, "added" | "connected" | "removed") {
        return fatal!("{state}: unknown state");
    }
    vlog::info!("reconnect", "{}: connecting...", ctx.server);
    let conn = need_conn(conn)?;
    vlog::info!("reconnect", "{}: connected", ctx.server);
    let requests = json!({"Database": {"columns": ["name", "model", "connected"],
                                        "where": [["name", "==", db]]}});
    let request = Message::request(
        "monitor_cond",
        vec![json!("_Server"), Value::Null, requests],
    );
    let id = request.id().cloned();
    if let Err(e) = conn.client.send(&request) {
        return fatal!("{}: send failed ({e})", ctx.server);
    }
    // Rows of the Database table we know of: uuid -> connected.
    let mut rows: Map<String, Value> = Map::new();
    loop {
        let msg = match conn.client.recv() {
            Ok(m) => m,
            Err(e) => return fatal!("{}: receive failed ({e})", ctx.server),
        };
        let update = match msg {
            Message::Reply { result, id: rid } if Some(&rid) == id.as_ref() => result,
            Message::Error { error, id: rid } if Some(&rid) == id.as_ref() => {
                return fatal!("{}: {}", ctx.server, ovsdb::json::to_string(&error, true))
            }
            Message::Notify { method, params } if method == "update2" && params.len() == 2 => {
                params[1].clone()
            }
            Message::Request { method, params, id } if method == "echo" => {
                let _ = conn.client.send(&Message::reply(Value::Array(params), id));
                continue;
            }
            _ => continue,
        };
        if let Some(tu) = update.get("Database").and_then(Value::as_object) {
            for (uuid, ru) in tu {
                if ru.get("delete").is_some() {
                    rows.remove(uuid);
                    continue;
                }
                let row = ru
                    .get("initial")
                    .or_else(|| ru.get("insert"))
                    .or_else(|| ru.get("modify"));
                if let Some(row) = row {
                    let entry = rows.entry(uuid.clone()).or_insert_with(|| json!({}));
                    if let (Some(e), Some(r)) = (entry.as_object_mut(), row.as_object()) {
                        for (k, v) in r {
                            e.insert(k.clone(), v.clone());
                        }
                    }
                }
            }
        }
        let done = match state {
            "added" => !rows.is_empty(),
            "removed" => rows.is_empty(),
            _ => rows
                .values()
                .any(|r| r.get("connected").and_then(Value::as_bool).unwrap_or(false)),
        };
        if done {
            return Ok(());
        }
    }
}
