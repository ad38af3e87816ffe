//! Commands that run transactions or hold locks: `transact`, `query`,
//! `dump`, `lock`, `steal`, `unlock`.

use super::conn::Conn;
use super::{fatal, need_conn, parse_json_arg, CmdResult, Ctx, Fatal};
use crate::db_format::{Cell, Table, TablePrinter};
use ovsdb::schema::{ColumnRef, TableSchema};
use ovsdb::types::Type;
use ovsdb::Datum;
use rpc::Message;
use serde_json::{json, Value};
use std::cmp::Ordering;
use std::io::Write;

/// Parses a TRANSACTION argument: a JSON array starting with a database name.
fn parse_transaction(arg: &str) -> Result<Vec<Value>, Fatal> {
    let txn = parse_json_arg(arg)?;
    match txn {
        Value::Array(a) if a.first().is_some_and(Value::is_string) => Ok(a),
        _ => fatal!("not a valid OVSDB query"),
    }
}

pub fn transact(ctx: &mut Ctx, conn: Option<&mut Conn>, args: &[String]) -> CmdResult {
    let txn = parse_transaction(&args[0])?;
    let result = need_conn(conn)?.call_checked("transact", txn)?;
    ctx.print_json(&result);
    Ok(())
}

/// Like `transact`, with an `abort` appended so that nothing is committed;
/// the abort's own "aborted" error is left out of the printed results.
pub fn query(ctx: &mut Ctx, conn: Option<&mut Conn>, args: &[String]) -> CmdResult {
    let mut txn = parse_transaction(&args[0])?;
    txn.push(json!({"op": "abort"}));
    let mut result = need_conn(conn)?.call_checked("transact", txn)?;
    if let Value::Array(items) = &mut result {
        let aborted = items
            .last()
            .and_then(|l| l.get("error"))
            .and_then(Value::as_str)
            == Some("aborted");
        if aborted {
            items.pop();
        }
    }
    ctx.print_json(&result);
    Ok(())
}

/// One dumped column: name and type.
struct DumpColumn {
    name: String,
    ty: Type,
}

pub fn dump(ctx: &mut Ctx, conn: Option<&mut Conn>, args: &[String]) -> CmdResult {
    let conn = need_conn(conn)?;
    let schema = conn.schema(&ctx.database)?;
    let mut selected: Vec<(&TableSchema, Option<Vec<ColumnRef>>)> = Vec::new();
    if let Some(tname) = args.first() {
        let Some(ts) = schema.table(tname) else {
            return fatal!("No table \"{tname}\" found.");
        };
        let mut cols = None;
        if args.len() > 1 {
            let mut v = Vec::new();
            for cname in &args[1..] {
                match ts.column(cname) {
                    Some(c) => v.push(c),
                    None => return fatal!("Table \"{tname}\" has no column {cname}."),
                }
            }
            cols = Some(v);
        }
        selected.push((ts, cols));
    } else {
        // All tables, by name.
        selected.extend(schema.tables.values().map(|ts| (ts, None)));
    }

    let mut txn = vec![Value::String(ctx.database.clone())];
    let mut per_table: Vec<Vec<DumpColumn>> = Vec::new();
    for (ts, cols) in &selected {
        let refs: Vec<ColumnRef> = match cols {
            Some(c) => c.clone(),
            None => super::info::columns_in_hash_order(ts)
                .iter()
                .filter(|n| n.as_str() != "_version")
                .filter_map(|n| ts.column(n))
                .collect(),
        };
        let names: Vec<Value> = refs.iter().map(|&c| ts.column_name(c).into()).collect();
        txn.push(json!({"op": "select", "table": ts.name, "where": [], "columns": names}));
        let mut columns: Vec<DumpColumn> = refs
            .iter()
            .filter(|&&c| c != ColumnRef::Version)
            .map(|&c| DumpColumn {
                name: ts.column_name(c).to_string(),
                ty: ts.column_type(c),
            })
            .collect();
        columns.sort_by(|a, b| a.name.as_bytes().cmp(b.name.as_bytes()));
        per_table.push(columns);
    }
    let result = conn.transact(Value::Array(txn))?;
    let results = match result.as_array() {
        Some(a) if a.len() == selected.len() => a.clone(),
        _ => {
            return fatal!(
                "reply is not array of {} elements: {}",
                selected.len(),
                ovsdb::json::to_string(&result, false)
            )
        }
    };
    let mut printer = TablePrinter::new();
    let mut out = String::new();
    for (((ts, _), columns), op_result) in selected.iter().zip(&per_table).zip(&results) {
        let Some(rows) = op_result.get("rows").and_then(Value::as_array) else {
            return fatal!(
                "{} table reply is not an object with a \"rows\" member array: {}",
                ts.name,
                ovsdb::json::to_string(op_result, false)
            );
        };
        let table = dump_table(&ts.name, columns, rows)?;
        out.push_str(&printer.format(&table, &ctx.style));
    }
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(out.as_bytes());
    let _ = stdout.flush();
    Ok(())
}

/// Compares two rows' data column by column, `_uuid` last.
fn compare_rows(a: &[Datum], b: &[Datum], uuid_col: Option<usize>) -> Ordering {
    let by_cols = a
        .iter()
        .zip(b)
        .enumerate()
        .filter(|(i, _)| Some(*i) != uuid_col)
        .map(|(_, (x, y))| compare_datum(x, y))
        .find(|o| o.is_ne())
        .unwrap_or(Ordering::Equal);
    by_cols.then_with(|| match uuid_col {
        Some(i) => compare_datum(&a[i], &b[i]),
        None => Ordering::Equal,
    })
}

/// Datum order: fewer elements first, then keys, then values.
fn compare_datum(a: &Datum, b: &Datum) -> Ordering {
    a.len()
        .cmp(&b.len())
        .then_with(|| a.keys.cmp(&b.keys))
        .then_with(|| a.values.cmp(&b.values))
}

fn dump_table(name: &str, columns: &[DumpColumn], rows: &[Value]) -> Result<Table, Fatal> {
    let mut data: Vec<Vec<Datum>> = Vec::with_capacity(rows.len());
    for (y, row) in rows.iter().enumerate() {
        let Some(obj) = row.as_object() else {
            return fatal!(
                "row {y} in table {name} response is not a JSON object: {}",
                ovsdb::json::to_string(row, false)
            );
        };
        let mut datums = Vec::with_capacity(columns.len());
        for c in columns {
            let Some(j) = obj.get(&c.name) else {
                return fatal!("row {y} in table {name} response lacks {} column", c.name);
            };
            match Datum::from_json(&c.ty, j, None) {
                Ok(d) => datums.push(d),
                Err(e) => return fatal!("{e}"),
            }
        }
        data.push(datums);
    }
    let uuid_col = columns.iter().position(|c| c.name == "_uuid");
    data.sort_by(|a, b| compare_rows(a, b, uuid_col));

    let mut t = Table::new();
    t.set_caption(format!("{name} table"));
    for c in columns {
        t.add_column(c.name.clone());
    }
    for row in &data {
        t.add_row();
        for (d, c) in row.iter().zip(columns) {
            t.add_cell(Cell::json(d.to_json(&c.ty), Some(c.ty.clone())));
        }
    }
    Ok(t)
}

fn lock_common(ctx: &mut Ctx, conn: Option<&mut Conn>, method: &str, name: &str) -> CmdResult {
    let conn = need_conn(conn)?;
    let request = Message::request(method, vec![Value::String(name.into())]);
    let id = request.id().cloned();
    if let Err(e) = conn.client.send(&request) {
        return fatal!("transaction failed ({e})");
    }
    loop {
        let msg = match conn.client.recv() {
            Ok(m) => m,
            Err(e) => return fatal!("transaction failed ({e})"),
        };
        match msg {
            Message::Reply { result, id: rid } if Some(&rid) == id.as_ref() => {
                ctx.print_json(&result);
            }
            Message::Notify { method, params } if method == "locked" || method == "stolen" => {
                let mut out = std::io::stdout().lock();
                let _ = writeln!(out, "{method}");
                drop(out);
                ctx.print_json(&Value::Array(params));
            }
            Message::Request { method, params, id } if method == "echo" => {
                let reply = Message::reply(Value::Array(params), id);
                if let Err(e) = conn.client.send(&reply) {
                    return fatal!("transaction failed ({e})");
                }
            }
            _ => {}
        }
    }
}

pub fn lock(ctx: &mut Ctx, conn: Option<&mut Conn>, args: &[String]) -> CmdResult {
    lock_common(ctx, conn, "lock", &args[0])
}

pub fn steal(ctx: &mut Ctx, conn: Option<&mut Conn>, args: &[String]) -> CmdResult {
    lock_common(ctx, conn, "steal", &args[0])
}

pub fn unlock(ctx: &mut Ctx, conn: Option<&mut Conn>, args: &[String]) -> CmdResult {
    lock_common(ctx, conn, "unlock", &args[0])
}

#[cfg(test)]
mod tests {
    use super::*;
    use ovsdb::types::AtomicType;

    #[test]
    fn rows_sort_by_values_then_uuid() {
        let cols = vec![
            DumpColumn {
                name: "_uuid".into(),
                ty: Type::scalar(AtomicType::Uuid),
            },
            DumpColumn {
                name: "b".into(),
                ty: Type::scalar(AtomicType::Boolean),
            },
        ];
        let rows = vec![
            json!({"_uuid": ["uuid", "00000000-0000-0000-0000-000000000001"], "b": true}),
            json!({"_uuid": ["uuid", "90000000-0000-0000-0000-000000000000"], "b": false}),
            json!({"_uuid": ["uuid", "80000000-0000-0000-0000-000000000000"], "b": false}),
        ];
        let t = dump_table("T", &cols, &rows).unwrap();
        let firsts: Vec<String> = (0..3)
            .map(|y| {
                t.cell(y, 0)
                    .unwrap()
                    .to_text(crate::db_format::CellFormat::String)
            })
            .collect();
        assert_eq!(
            firsts,
            [
                "80000000-0000-0000-0000-000000000000",
                "90000000-0000-0000-0000-000000000000",
                "00000000-0000-0000-0000-000000000001"
            ]
        );
    }

    #[test]
    fn transaction_argument_checks() {
        assert!(parse_transaction("[\"D\"]").is_ok());
        assert_eq!(
            parse_transaction("{}").unwrap_err().0,
            "not a valid OVSDB query"
        );
        assert_eq!(
            parse_transaction("[1]").unwrap_err().0,
            "not a valid OVSDB query"
        );
        assert!(parse_transaction("x")
            .unwrap_err()
            .0
            .starts_with("\"x\": line 0"));
    }
}
