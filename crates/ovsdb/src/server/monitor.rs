//! Monitors (RFC 7047 §4.1.5, and `monitor_cond` of ovsdb-server(7)):
//! parsing monitor requests, the initial contents, and the `update`
//! (version 1: `old`/`new`) and `update2` (`initial`/`insert`/`delete`/
//! `modify` with set and map diffs) notifications for a committed change.

use crate::condition::Condition;
use crate::database::{Changes, Database};
use crate::datum::{Atom, Datum};
use crate::error::Error;
use crate::row::Row;
use crate::schema::{ColumnRef, TableSchema};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// Which protocol version a monitor speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    /// `monitor` / `update`.
    V1,
    /// `monitor_cond` / `update2`.
    V2,
    /// `monitor_cond_since` / `update3`.
    V3,
}

#[derive(Debug, Clone, Copy)]
struct Select {
    initial: bool,
    insert: bool,
    delete: bool,
    modify: bool,
}

impl Select {
    const ALL: Select = Select {
        initial: true,
        insert: true,
        delete: true,
        modify: true,
    };
}

/// What one monitor watches in one table.
#[derive(Debug, Clone)]
struct TableMonitor {
    columns: Vec<ColumnRef>,
    select: Select,
    /// Rows must satisfy one of these (none: every row).
    conditions: Vec<Condition>,
}

/// One monitor of one client.
#[derive(Debug, Clone)]
pub struct Monitor {
    pub db: String,
    /// The client's id for it (any JSON value).
    pub id: Value,
    pub version: Version,
    tables: BTreeMap<String, TableMonitor>,
}

fn syntax(json: Option<&Value>, details: String) -> Error {
    Error::syntax(json, details)
}

fn parse_select(json: &Value) -> Result<Select, Error> {
    let Some(obj) = json.as_object() else {
        return Err(syntax(Some(json), "select must be an object".into()));
    };
    let mut s = Select::ALL;
    for (k, v) in obj {
        let Some(b) = v.as_bool() else {
            return Err(syntax(Some(v), format!("{k} must be a boolean")));
        };
        match k.as_str() {
            "initial" => s.initial = b,
            "insert" => s.insert = b,
            "delete" => s.delete = b,
            "modify" => s.modify = b,
            _ => return Err(syntax(Some(json), format!("unknown member {k}"))),
        }
    }
    Ok(s)
}

fn parse_columns(table: &TableSchema, json: &Value) -> Result<Vec<ColumnRef>, Error> {
    let Some(names) = json.as_array() else {
        return Err(syntax(Some(json), "array of column names expected".into()));
    };
    let mut out = Vec::new();
    for n in names {
        let Some(name) = n.as_str() else {
            return Err(syntax(Some(json), "array of column names expected".into()));
        };
        match table.column(name) {
            Some(c) => {
                if !out.contains(&c) {
                    out.push(c);
                }
            }
            None => {
                return Err(syntax(
                    Some(json),
                    format!("{name} is not a valid column name"),
                ))
            }
        }
    }
    Ok(out)
}

impl Monitor {
    /// Parses the `<monitor-requests>` object of a monitor request for
    /// database `db`.
    pub fn parse(
        db: &Database,
        id: Value,
        version: Version,
        requests: &Value,
    ) -> Result<Monitor, Error> {
        let Some(obj) = requests.as_object() else {
            return Err(syntax(
                Some(requests),
                "monitor-requests must be an object".into(),
            ));
        };
        let mut tables = BTreeMap::new();
        for (tname, req) in obj {
            let Some(table) = db.schema.table(tname) else {
                return Err(syntax(None, format!("no table named {tname}")));
            };
            let reqs: Vec<&Value> = match req {
                Value::Array(a) => a.iter().collect(),
                other => vec![other],
            };
            let mut tm = TableMonitor {
                columns: Vec::new(),
                select: Select {
                    initial: false,
                    insert: false,
                    delete: false,
                    modify: false,
                },
                conditions: Vec::new(),
            };
            let mut always = reqs.is_empty();
            for r in reqs {
                let mut p = crate::error::ObjectParser::new(r, format!("table {tname}"));
                let columns_json = p.optional("columns", crate::error::Kind::Array);
                let select_json = p.optional("select", crate::error::Kind::Object);
                let where_json = match version {
                    Version::V1 => None,
                    _ => p.optional("where", crate::error::Kind::Array),
                };
                p.finish()?;
                let cols = match columns_json {
                    Some(c) => parse_columns(table, c)?,
                    None => (0..table.columns.len()).map(ColumnRef::Index).collect(),
                };
                for c in cols {
                    if !tm.columns.contains(&c) {
                        tm.columns.push(c);
                    }
                }
                let sel = match select_json {
                    Some(s) => parse_select(s)?,
                    None => Select::ALL,
                };
                tm.select.initial |= sel.initial;
                tm.select.insert |= sel.insert;
                tm.select.delete |= sel.delete;
                tm.select.modify |= sel.modify;
                match where_json {
                    Some(w) => tm.conditions.push(Condition::from_json(table, w, None)?),
                    None => always = true,
                }
            }
            if always {
                tm.conditions.clear();
            }
            if tm.columns.is_empty() {
                tm.columns = (0..table.columns.len()).map(ColumnRef::Index).collect();
            }
            tables.insert(tname.clone(), tm);
        }
        Ok(Monitor {
            db: db.schema.name.clone(),
            id,
            version,
            tables,
        })
    }

    /// Replaces the conditions (`monitor_cond_change`); returns the rows
    /// that must be added or removed as an update, computed against `db`.
    pub fn change_conditions(&mut self, db: &Database, requests: &Value) -> Result<Value, Error> {
        let Some(obj) = requests.as_object() else {
            return Err(syntax(
                Some(requests),
                "monitor-cond-change-requests must be an object".into(),
            ));
        };
        let mut out = Map::new();
        for (tname, req) in obj {
            let Some(table) = db.schema.table(tname) else {
                return Err(syntax(None, format!("no table named {tname}")));
            };
            let Some(tm) = self.tables.get_mut(tname) else {
                return Err(syntax(Some(req), format!("{tname} is not monitored")));
            };
            let reqs: Vec<&Value> = match req {
                Value::Array(a) => a.iter().collect(),
                other => vec![other],
            };
            let mut conditions = Vec::new();
            let mut always = false;
            for r in reqs {
                match r.get("where") {
                    Some(w) => conditions.push(Condition::from_json(table, w, None)?),
                    None => always = true,
                }
            }
            if always {
                conditions.clear();
            }
            let before = tm.clone();
            tm.conditions = conditions;
            let mut rows = Map::new();
            if let Some(t) = db.table(tname) {
                for (uuid, row) in &t.rows {
                    let was = matches(&before, row);
                    let is = matches(tm, row);
                    if was && !is {
                        rows.insert(uuid.to_string(), serde_json::json!({"delete": null}));
                    } else if is && !was {
                        rows.insert(
                            uuid.to_string(),
                            Value::Object(Map::from_iter([(
                                "insert".to_string(),
                                row_json(table, row, &tm.columns, true),
                            )])),
                        );
                    }
                }
            }
            if !rows.is_empty() {
                out.insert(tname.clone(), Value::Object(rows));
            }
        }
        Ok(Value::Object(out))
    }

    /// The contents of the monitored tables, for the reply to the request.
    pub fn initial(&self, db: &Database) -> Value {
        let mut out = Map::new();
        for (tname, tm) in &self.tables {
            if !tm.select.initial {
                continue;
            }
            let (Some(table), Some(rows)) = (db.schema.table(tname), db.table(tname)) else {
                continue;
            };
            let mut m = Map::new();
            for (uuid, row) in &rows.rows {
                if !matches(tm, row) {
                    continue;
                }
                let update = match self.version {
                    Version::V1 => Map::from_iter([(
                        "new".to_string(),
                        row_json(table, row, &tm.columns, false),
                    )]),
                    _ => Map::from_iter([(
                        "initial".to_string(),
                        row_json(table, row, &tm.columns, true),
                    )]),
                };
                m.insert(uuid.to_string(), Value::Object(update));
            }
            if !m.is_empty() {
                out.insert(tname.clone(), Value::Object(m));
            }
        }
        Value::Object(out)
    }

    /// The table-updates for `changes`, or `None` when nothing monitored
    /// changed.
    pub fn updates(&self, db: &Database, changes: &Changes) -> Option<Value> {
        let mut out = Map::new();
        for (tname, rows) in &changes.tables {
            let Some(tm) = self.tables.get(tname) else {
                continue;
            };
            let Some(table) = db.schema.table(tname) else {
                continue;
            };
            let mut m = Map::new();
            for (uuid, change) in rows {
                let old = change.old.as_deref().filter(|r| matches(tm, r));
                let new = change.new.as_deref().filter(|r| matches(tm, r));
                let update = match (old, new) {
                    (None, None) => continue,
                    (None, Some(n)) => {
                        if !tm.select.insert {
                            continue;
                        }
                        match self.version {
                            Version::V1 => Map::from_iter([(
                                "new".to_string(),
                                row_json(table, n, &tm.columns, false),
                            )]),
                            _ => Map::from_iter([(
                                "insert".to_string(),
                                row_json(table, n, &tm.columns, true),
                            )]),
                        }
                    }
                    (Some(o), None) => {
                        if !tm.select.delete {
                            continue;
                        }
                        match self.version {
                            Version::V1 => Map::from_iter([(
                                "old".to_string(),
                                row_json(table, o, &tm.columns, false),
                            )]),
                            _ => Map::from_iter([("delete".to_string(), Value::Null)]),
                        }
                    }
                    (Some(o), Some(n)) => {
                        let changed: Vec<ColumnRef> = tm
                            .columns
                            .iter()
                            .copied()
                            .filter(|&c| o.get(c) != n.get(c))
                            .collect();
                        if changed.is_empty() || !tm.select.modify {
                            continue;
                        }
                        match self.version {
                            Version::V1 => Map::from_iter([
                                ("new".to_string(), row_json(table, n, &tm.columns, false)),
                                ("old".to_string(), row_json(table, o, &changed, false)),
                            ]),
                            _ => Map::from_iter([(
                                "modify".to_string(),
                                diff_json(table, o, n, &changed),
                            )]),
                        }
                    }
                };
                m.insert(uuid.to_string(), Value::Object(update));
            }
            if !m.is_empty() {
                out.insert(tname.clone(), Value::Object(m));
            }
        }
        (!out.is_empty()).then_some(Value::Object(out))
    }
}

fn matches(tm: &TableMonitor, row: &Row) -> bool {
    tm.conditions.is_empty() || tm.conditions.iter().any(|c| c.evaluate(row))
}

/// A row's monitored columns; `skip_default` leaves out columns at their
/// default value (update2 `initial` and `insert`).
fn row_json(table: &TableSchema, row: &Row, columns: &[ColumnRef], skip_default: bool) -> Value {
    let mut m = Map::new();
    for &c in columns {
        let ty = table.column_type(c);
        let d = row.get(c);
        if skip_default && d.is_default(&ty) {
            continue;
        }
        m.insert(table.column_name(c).to_string(), d.to_json(&ty));
    }
    Value::Object(m)
}

/// The update2 `modify` object: new values of scalar columns, and for sets
/// and maps the elements (pairs) that were added, removed or changed.
fn diff_json(table: &TableSchema, old: &Row, new: &Row, changed: &[ColumnRef]) -> Value {
    let mut m = Map::new();
    for &c in changed {
        let ty = table.column_type(c);
        let (o, n) = (old.get(c), new.get(c));
        let v = if !ty.is_composite() {
            n.to_json(&ty)
        } else {
            datum_diff(&o, &n).to_json(&ty)
        };
        m.insert(table.column_name(c).to_string(), v);
    }
    Value::Object(m)
}

fn datum_diff(old: &Datum, new: &Datum) -> Datum {
    match (&old.values, &new.values) {
        (Some(_), Some(_)) => {
            let mut keys: Vec<Atom> = Vec::new();
            let mut values: Vec<Atom> = Vec::new();
            for (k, v) in old.iter() {
                match new.get(k) {
                    None => {
                        keys.push(k.clone());
                        values.push(v.cloned().unwrap_or_else(|| k.clone()));
                    }
                    Some(nv) if Some(nv) != v => {
                        keys.push(k.clone());
                        values.push(nv.clone());
                    }
                    Some(_) => {}
                }
            }
            for (k, v) in new.iter() {
                if !old.contains_key(k) {
                    keys.push(k.clone());
                    values.push(v.cloned().unwrap_or_else(|| k.clone()));
                }
            }
            Datum::sorted(keys, Some(values)).unwrap_or_else(|_| new.clone())
        }
        _ => {
            let keys: Vec<Atom> = old
                .keys
                .iter()
                .filter(|k| !new.contains_key(k))
                .chain(new.keys.iter().filter(|k| !old.contains_key(k)))
                .cloned()
                .collect();
            Datum::from_set(keys)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_and_map_diffs() {
        let s = |v: &[i64]| Datum::from_set(v.iter().map(|&i| Atom::Integer(i)).collect());
        assert_eq!(datum_diff(&s(&[1, 2, 3]), &s(&[2, 3, 4])), s(&[1, 4]));
        let m = |v: &[(i64, i64)]| {
            Datum::sorted(
                v.iter().map(|p| Atom::Integer(p.0)).collect(),
                Some(v.iter().map(|p| Atom::Integer(p.1)).collect()),
            )
            .unwrap()
        };
        assert_eq!(
            datum_diff(
                &m(&[(1, 1), (2, 2), (3, 3)]),
                &m(&[(2, 2), (3, 30), (4, 4)])
            ),
            m(&[(1, 1), (3, 30), (4, 4)])
        );
    }

    /// A "modify" carries the new value of every column that holds at most
    /// one value (optional ones too, as upstream: a cleared `fail_mode` is
    /// `["set",[]]`), and a diff only for sets and maps.
    #[test]
    fn modify_sends_new_values_of_non_composite_columns() {
        let schema = crate::schema::DatabaseSchema::from_json(&serde_json::json!({
            "name": "d", "version": "1.0.0",
            "tables": {"T": {"columns": {
                "opt": {"type": {"key": "string", "min": 0, "max": 1}},
                "set": {"type": {"key": "integer", "min": 0, "max": "unlimited"}}
            }}}
        }))
        .unwrap();
        let t = schema.table("T").unwrap();
        let (opt, set) = (t.column("opt").unwrap(), t.column("set").unwrap());
        let int_set = |v: &[i64]| Datum::from_set(v.iter().map(|&i| Atom::Integer(i)).collect());
        let mut old = Row::new_default(t, crate::uuid::Uuid::random());
        old.fields[t.columns.iter().position(|c| c.name == "opt").unwrap()] =
            Datum::from_atom(Atom::String("secure".into()));
        old.fields[t.columns.iter().position(|c| c.name == "set").unwrap()] = int_set(&[1, 2]);
        let mut new = old.clone();
        new.fields[t.columns.iter().position(|c| c.name == "opt").unwrap()] = Datum::empty(false);
        new.fields[t.columns.iter().position(|c| c.name == "set").unwrap()] = int_set(&[2, 3]);
        let v = diff_json(t, &old, &new, &[opt, set]);
        assert_eq!(
            v,
            serde_json::json!({"opt": ["set", []], "set": ["set", [1, 3]]})
        );
    }
}
