//! Whole-database commands: `backup` (a standalone database file on
//! stdout), `restore` (replace the server's contents with a backup),
//! `convert` (online schema conversion) and `needs-conversion`; and the
//! daemon step of `--detach`.

use super::conn::Conn;
use super::{fatal, need_conn, CmdResult, Ctx, Fatal};
use ovsdb::log::{encode_record, read_records, MAGIC_STANDALONE};
use ovsdb::types::{AtomicType, Type};
use ovsdb::DatabaseSchema;
use serde_json::{json, Map, Value};
use std::collections::HashSet;
use std::io::{IsTerminal, Read, Write};

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Selects every row of every table (all columns but `_version`).
fn fetch_all(
    conn: &mut Conn,
    database: &str,
    schema: &DatabaseSchema,
) -> Result<Vec<(String, Vec<Value>)>, Fatal> {
    let mut txn = vec![Value::String(database.into())];
    let names: Vec<&String> = schema.tables.keys().collect();
    for n in &names {
        txn.push(json!({"op": "select", "table": n, "where": []}));
    }
    let result = conn.transact(Value::Array(txn))?;
    let Some(results) = result.as_array().filter(|a| a.len() == names.len()) else {
        return fatal!(
            "reply is not array of {} elements: {}",
            names.len(),
            ovsdb::json::to_string(&result, false)
        );
    };
    let mut out = Vec::new();
    for (n, r) in names.iter().zip(results) {
        let Some(rows) = r.get("rows").and_then(Value::as_array) else {
            return fatal!(
                "{n} table reply is not an object with a \"rows\" member array: {}",
                ovsdb::json::to_string(r, false)
            );
        };
        out.push(((*n).clone(), rows.clone()));
    }
    Ok(out)
}

pub fn backup(ctx: &mut Ctx, conn: Option<&mut Conn>, _: &[String]) -> CmdResult {
    if std::io::stdout().is_terminal() {
        return fatal!("not writing backup to a terminal; please redirect stdout to a file");
    }
    let conn = need_conn(conn)?;
    let schema = conn.schema(&ctx.database)?;
    let tables = fetch_all(conn, &ctx.database, &schema)?;
    let mut data = Map::new();
    data.insert("_date".into(), now_ms().into());
    for (name, rows) in tables {
        if rows.is_empty() {
            continue;
        }
        let mut t = Map::new();
        for row in rows {
            let Some(obj) = row.as_object() else {
                continue;
            };
            let Some(uuid) = obj
                .get("_uuid")
                .and_then(|u| u.get(1))
                .and_then(Value::as_str)
            else {
                continue;
            };
            // Ephemeral columns are not part of a database file.
            let ts = schema.table(&name);
            let mut r = Map::new();
            for (k, v) in obj {
                let persistent = ts
                    .and_then(|ts| ts.columns.iter().find(|c| &c.name == k))
                    .is_some_and(|c| !c.ephemeral);
                if persistent {
                    r.insert(k.clone(), v.clone());
                }
            }
            t.insert(uuid.to_string(), Value::Object(r));
        }
        data.insert(name, Value::Object(t));
    }
    data.insert("_is_diff".into(), Value::Bool(true));
    data.insert(
        "_comment".into(),
        Value::String("produced by \"ovsdb-client backup\"".into()),
    );
    let mut bytes = encode_record(MAGIC_STANDALONE, &schema.to_json());
    bytes.extend(encode_record(MAGIC_STANDALONE, &Value::Object(data)));
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_all(&bytes).and_then(|_| out.flush()) {
        return fatal!("write failed ({})", rpc::errno::io_error_text(&e));
    }
    Ok(())
}

/// The named-uuid a restored row gets.
fn row_name(uuid: &str) -> String {
    format!("row{}", uuid.replace('-', "_"))
}

/// Rewrites references to rows of the backup into named-uuids.
fn rename_refs(v: &Value, ty: &Type, known: &HashSet<String>) -> Value {
    let uuid_side = ty.key.atomic == AtomicType::Uuid
        || ty
            .value
            .as_ref()
            .is_some_and(|b| b.atomic == AtomicType::Uuid);
    if !uuid_side {
        return v.clone();
    }
    fn walk(v: &Value, known: &HashSet<String>) -> Value {
        match v {
            Value::Array(a) if a.len() == 2 && a[0] == "uuid" => match a[1].as_str() {
                Some(u) if known.contains(u) => json!(["named-uuid", row_name(u)]),
                _ => v.clone(),
            },
            Value::Array(a) => Value::Array(a.iter().map(|e| walk(e, known)).collect()),
            other => other.clone(),
        }
    }
    walk(v, known)
}

pub fn restore(ctx: &mut Ctx, conn: Option<&mut Conn>, _: &[String]) -> CmdResult {
    if std::io::stdin().is_terminal() {
        return fatal!("not reading backup from a terminal; please redirect stdin from a file");
    }
    let path = "/dev/stdin";
    let mut data = Vec::new();
    if let Err(e) = std::io::stdin().lock().read_to_end(&mut data) {
        return fatal!("{path}: read failed ({})", rpc::errno::io_error_text(&e));
    }
    if data.is_empty() {
        return fatal!("ovsdb error: {path}: cannot identify file type");
    }
    let recs = match read_records(path, &data) {
        Ok(r) => r,
        Err(e) => return fatal!("{e}"),
    };
    if let Some(e) = recs.error {
        return fatal!("{e}");
    }
    if recs.magic != MAGIC_STANDALONE {
        return fatal!("{path}: not a standalone database");
    }
    let mut records = recs.records.into_iter();
    let Some(first) = records.next() else {
        return fatal!("ovsdb error: {path}: cannot identify file type");
    };
    let backup_schema = match DatabaseSchema::from_json(&first.json) {
        Ok(s) => s,
        Err(e) => return fatal!("{e}"),
    };
    let conn = need_conn(conn)?;
    let server_schema = conn.schema(&ctx.database)?;
    if backup_schema.name != ctx.database {
        return fatal!(
            "database name in backup file ({}) does not match database name on server ({})",
            backup_schema.name,
            ctx.database
        );
    }
    if !backup_schema.same_as(&server_schema) {
        if ctx.force {
            vlog::info!(
                "ovsdb_client",
                "ignoring differences between backup and server schemas due to --force"
            );
        } else {
            return fatal!(
                "backup schema does not match server schema (use --force to override differences, or \"ovsdb-client convert\" to change the server's schema)"
            );
        }
    }
    // Replay the records into one picture of the contents.
    let mut tables: Map<String, Value> = Map::new();
    for rec in records {
        let Some(obj) = rec.json.as_object() else {
            continue;
        };
        for (tname, rows) in obj {
            if tname.starts_with('_') {
                continue;
            }
            let Some(rows) = rows.as_object() else {
                continue;
            };
            let t = tables
                .entry(tname.clone())
                .or_insert_with(|| Value::Object(Map::new()));
            let Some(t) = t.as_object_mut() else {
                continue;
            };
            for (uuid, row) in rows {
                match row {
                    Value::Null => {
                        t.remove(uuid);
                    }
                    Value::Object(cols) => {
                        let e = t.entry(uuid.clone()).or_insert_with(|| json!({}));
                        if let Some(e) = e.as_object_mut() {
                            for (k, v) in cols {
                                e.insert(k.clone(), v.clone());
                            }
                        }
                    }
                    _ => {}
                }
            }
        }
    }
    let known: HashSet<String> = tables
        .values()
        .filter_map(Value::as_object)
        .flat_map(|t| t.keys().cloned())
        .collect();
    let mut txn = vec![Value::String(ctx.database.clone())];
    for ts in server_schema.tables.values() {
        txn.push(json!({"op": "delete", "table": ts.name, "where": []}));
        let Some(rows) = tables.get(&ts.name).and_then(Value::as_object) else {
            continue;
        };
        for (uuid, row) in rows {
            let mut r = Map::new();
            if let Some(cols) = row.as_object() {
                for (k, v) in cols {
                    let Some(c) = ts.column(k) else {
                        continue;
                    };
                    r.insert(k.clone(), rename_refs(v, &ts.column_type(c), &known));
                }
            }
            txn.push(json!({"op": "insert", "table": ts.name,
                            "uuid-name": row_name(uuid), "row": r}));
        }
    }
    let result = conn.transact(Value::Array(txn))?;
    if let Some(items) = result.as_array() {
        for item in items {
            if let Some(err) = item.get("error") {
                let details = item.get("details").and_then(Value::as_str).unwrap_or("");
                return fatal!(
                    "{}{}{}",
                    err.as_str().unwrap_or(""),
                    if details.is_empty() { "" } else { ": " },
                    details
                );
            }
        }
    }
    Ok(())
}

fn read_schema_file(path: &str) -> Result<DatabaseSchema, Fatal> {
    match DatabaseSchema::from_file(path) {
        Ok(s) => Ok(s),
        Err(e) => fatal!("{e}"),
    }
}

pub fn convert(ctx: &mut Ctx, conn: Option<&mut Conn>, args: &[String]) -> CmdResult {
    let schema = read_schema_file(&args[0])?;
    let conn = need_conn(conn)?;
    conn.call_checked(
        "convert",
        vec![Value::String(schema.name.clone()), schema.to_json()],
    )?;
    let _ = ctx;
    Ok(())
}

pub fn needs_conversion(ctx: &mut Ctx, conn: Option<&mut Conn>, args: &[String]) -> CmdResult {
    let schema = read_schema_file(&args[0])?;
    let conn = need_conn(conn)?;
    let server = conn.schema(&schema.name)?;
    let _ = ctx;
    println!("{}", if schema.same_as(&server) { "no" } else { "yes" });
    Ok(())
}

/// `--detach`: continues in a child process in its own session (with
/// `--pidfile` written before the parent exits 0). Standard output and
/// error stay open so that the monitor keeps printing.
pub fn daemonize(ctx: &mut Ctx) -> Result<(), Fatal> {
    if !ctx.detach {
        return Ok(());
    }
    ctx.detach = false;
    let ready = match rpc::daemon::detach() {
        Ok(r) => r,
        Err(e) => return fatal!("{e}"),
    };
    if let Some(p) = ctx.pidfile.clone() {
        match rpc::pidfile::create_pidfile(std::path::Path::new(&p)) {
            // The lock lives as long as the process.
            Ok(f) => std::mem::forget(f),
            Err(e) => return fatal!("{p}: pidfile check failed ({e}), aborting"),
        }
    }
    if !ctx.no_chdir {
        let _ = std::env::set_current_dir("/");
    }
    rpc::daemon::redirect_to_null(&[0]);
    ready.notify();
    Ok(())
}
