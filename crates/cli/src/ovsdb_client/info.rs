//! Commands that describe the server: `list-dbs`, `get-schema`,
//! `get-schema-version`, `get-schema-cksum`, `list-tables`, `list-columns`.

use super::conn::Conn;
use super::{need_conn, CmdResult, Ctx};
use crate::db_format::{Cell, Table, TablePrinter};
use ovsdb::schema::TableSchema;
use ovsdb::DatabaseSchema;
use serde_json::Value;
use std::io::Write;

fn print(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}

pub fn list_dbs(_: &mut Ctx, conn: Option<&mut Conn>, _: &[String]) -> CmdResult {
    let names = need_conn(conn)?.list_dbs()?;
    let mut text = String::new();
    for n in names {
        text.push_str(&n);
        text.push('\n');
    }
    print(&text);
    Ok(())
}

pub fn get_schema(ctx: &mut Ctx, conn: Option<&mut Conn>, _: &[String]) -> CmdResult {
    let schema = need_conn(conn)?.schema(&ctx.database)?;
    ctx.print_json(&schema.to_json());
    Ok(())
}

pub fn get_schema_version(ctx: &mut Ctx, conn: Option<&mut Conn>, _: &[String]) -> CmdResult {
    let schema = need_conn(conn)?.schema(&ctx.database)?;
    print(&format!("{}\n", schema.version.unwrap_or_default()));
    Ok(())
}

pub fn get_schema_cksum(ctx: &mut Ctx, conn: Option<&mut Conn>, _: &[String]) -> CmdResult {
    let schema = need_conn(conn)?.schema(&ctx.database)?;
    print(&format!("{}\n", schema.cksum.unwrap_or_default()));
    Ok(())
}

/// Tables in the order a client's hash table of them lists them.
pub fn tables_in_hash_order(schema: &DatabaseSchema) -> Vec<&TableSchema> {
    // The schema's own order already models parsing the server's text into
    // one hash table and the tables into another.
    schema
        .table_order
        .iter()
        .filter_map(|n| schema.table(n))
        .collect()
}

/// Column names of `ts` (with `_uuid` and `_version`) in the order a
/// client's hash table of them lists them.
pub fn columns_in_hash_order(ts: &TableSchema) -> Vec<String> {
    let mut names: Vec<&str> = vec!["_uuid", "_version"];
    names.extend(ts.columns.iter().map(|c| c.name.as_str()));
    ovsdb::json::shash_order(&names)
        .into_iter()
        .map(|i| names[i].to_string())
        .collect()
}

pub fn list_tables(ctx: &mut Ctx, conn: Option<&mut Conn>, _: &[String]) -> CmdResult {
    let schema = need_conn(conn)?.schema(&ctx.database)?;
    let mut t = Table::new();
    t.add_column("Table");
    for ts in tables_in_hash_order(&schema) {
        t.add_row();
        t.add_cell(Cell::text(ts.name.clone()));
    }
    print(&TablePrinter::new().format(&t, &ctx.style));
    Ok(())
}

pub fn list_columns(ctx: &mut Ctx, conn: Option<&mut Conn>, args: &[String]) -> CmdResult {
    let schema = need_conn(conn)?.schema(&ctx.database)?;
    let only = args.first();
    let mut t = Table::new();
    if only.is_none() {
        t.add_column("Table");
    }
    t.add_column("Column");
    t.add_column("Type");
    for ts in tables_in_hash_order(&schema) {
        if only.is_some_and(|n| n != &ts.name) {
            continue;
        }
        for name in columns_in_hash_order(ts) {
            let Some(col) = ts.column(&name) else {
                continue;
            };
            t.add_row();
            if only.is_none() {
                t.add_cell(Cell::text(ts.name.clone()));
            }
            t.add_cell(Cell::text(name));
            let ty: Value = ts.column_type(col).to_json();
            t.add_cell(Cell::json(ty, None));
        }
    }
    print(&TablePrinter::new().format(&t, &ctx.style));
    Ok(())
}
