//! Transactions built against a [`Replica`]: row inserts, whole-column
//! writes, column-level partial updates of sets and maps (sent as `mutate`,
//! so adding one port to a bridge with 10,000 does not rewrite the set),
//! deletes, `verify` (a `wait` on columns read, for optimistic
//! concurrency), an increment read back with `select` (`next_cfg`),
//! comments, dry runs and a lock assertion.
//!
//! A [`Txn`] holds only the pending writes; reads through it
//! ([`Txn::get`], [`Txn::rows`]) see the replica with those writes laid
//! over it. [`Txn::build`] renders the `transact` request and a
//! [`TxnPlan`] that interprets the reply. No I/O here.

use super::replica::Replica;
use crate::datum::{Atom, Datum};
use crate::error::Error;
use crate::json;
use crate::row::Row;
use crate::schema::{ColumnRef, TableSchema};
use crate::uuid::Uuid;
use rpc::Message;
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, BTreeSet};

/// How a transaction ended.
#[derive(Clone, Debug, PartialEq)]
pub enum TxnStatus {
    /// Nothing to send: the transaction changed nothing.
    Unchanged,
    Success,
    /// A verified column changed meanwhile, or a row vanished: refresh the
    /// replica and run the transaction again.
    TryAgain,
    /// The transaction needed a lock this client does not hold.
    NotLocked,
    /// The server rejected it: the error object as sorted JSON text.
    Error(String),
}

/// The result of a committed transaction.
#[derive(Clone, Debug, PartialEq)]
pub struct TxnOutcome {
    pub status: TxnStatus,
    /// Real UUIDs of inserted rows, keyed by the UUID [`Txn::insert`] gave.
    pub inserted: BTreeMap<Uuid, Uuid>,
    /// The incremented column's new value.
    pub increment: Option<i64>,
}

impl TxnOutcome {
    pub fn with_status(status: TxnStatus) -> TxnOutcome {
        TxnOutcome {
            status,
            inserted: BTreeMap::new(),
            increment: None,
        }
    }
}

/// A pending write to one column of an existing row.
#[derive(Clone, Debug, PartialEq)]
enum ColumnWrite {
    /// Replace the whole value.
    Set(Datum),
    /// Remove `delete` (set elements, or map keys), then add `insert`.
    Mutate { delete: Datum, insert: Datum },
}

type RowKey = (String, Uuid);

/// A transaction under construction.
#[derive(Clone, Debug, Default)]
pub struct Txn {
    /// Rows to insert, in insertion order: table, row with its temporary
    /// UUID, and the columns written (the others get the server's defaults).
    inserted: Vec<(String, Row, BTreeSet<usize>)>,
    writes: BTreeMap<RowKey, BTreeMap<usize, ColumnWrite>>,
    deleted: BTreeSet<RowKey>,
    verified: BTreeMap<RowKey, BTreeSet<usize>>,
    increment: Option<(String, Uuid, String, bool)>,
    comments: Vec<String>,
    dry_run: bool,
    lock: Option<String>,
}

fn no_table(table: &str) -> Error {
    Error::new("unknown table", format!("No table named {table}."))
}

fn table_schema<'a>(r: &'a Replica, table: &str) -> Result<&'a TableSchema, Error> {
    r.schema().tables.get(table).ok_or_else(|| no_table(table))
}

fn column_index(ts: &TableSchema, column: &str) -> Result<usize, Error> {
    match ts.column(column) {
        Some(ColumnRef::Index(i)) => Ok(i),
        _ => Err(Error::new(
            "unknown column",
            format!("No column {column} in table {}.", ts.name),
        )),
    }
}

fn row_missing(table: &str, uuid: &Uuid) -> Error {
    Error::new(
        "referential integrity violation",
        format!("no row {uuid} in table {table}"),
    )
}

impl Txn {
    pub fn new() -> Txn {
        Txn::default()
    }

    /// Adds a comment (shown by `ovsdb-tool show-log`).
    pub fn add_comment(&mut self, text: impl Into<String>) {
        self.comments.push(text.into());
    }

    /// Makes the server run the transaction and then abort it.
    pub fn set_dry_run(&mut self, dry_run: bool) {
        self.dry_run = dry_run;
    }

    /// Makes the transaction fail with [`TxnStatus::NotLocked`] unless this
    /// client holds `lock`.
    pub fn assert_lock(&mut self, lock: impl Into<String>) {
        self.lock = Some(lock.into());
    }

    fn inserted_row(&self, table: &str, uuid: &Uuid) -> Option<usize> {
        self.inserted
            .iter()
            .position(|(t, r, _)| t == table && r.uuid == *uuid)
    }

    /// True if the row is visible through the transaction.
    pub fn row_exists(&self, r: &Replica, table: &str, uuid: &Uuid) -> bool {
        self.inserted_row(table, uuid).is_some()
            || (r.row(table, uuid).is_some() && !self.deleted.contains(&(table.to_string(), *uuid)))
    }

    /// The UUIDs of `table`'s rows as the transaction sees them: the
    /// replica's (in upstream IDL order) minus deletions, then inserted rows.
    pub fn rows(&self, r: &Replica, table: &str) -> Vec<Uuid> {
        let mut out: Vec<Uuid> = r
            .table(table)
            .map(|t| {
                t.rows_in_idl_order()
                    .map(|row| row.uuid)
                    .filter(|u| !self.deleted.contains(&(table.to_string(), *u)))
                    .collect()
            })
            .unwrap_or_default();
        out.extend(
            self.inserted
                .iter()
                .filter(|(t, _, _)| t == table)
                .map(|(_, row, _)| row.uuid),
        );
        out
    }

    /// A column as the transaction sees it.
    pub fn get(&self, r: &Replica, table: &str, uuid: &Uuid, column: &str) -> Option<Datum> {
        let ts = r.schema().tables.get(table)?;
        let i = column_index(ts, column).ok()?;
        if let Some(n) = self.inserted_row(table, uuid) {
            return self.inserted[n].1.fields.get(i).cloned();
        }
        let key = (table.to_string(), *uuid);
        if self.deleted.contains(&key) {
            return None;
        }
        let base = r.row(table, uuid)?.fields.get(i)?;
        match self.writes.get(&key).and_then(|w| w.get(&i)) {
            None => Some(base.clone()),
            Some(ColumnWrite::Set(d)) => Some(d.clone()),
            Some(ColumnWrite::Mutate { delete, insert }) => {
                let mut d = base.clone();
                d.subtract(delete, true);
                d.union(insert);
                Some(d)
            }
        }
    }

    /// Inserts a row of `table` with default values; returns its temporary
    /// UUID (usable as a reference in this transaction; the real one is in
    /// [`TxnOutcome::inserted`]).
    pub fn insert(&mut self, r: &Replica, table: &str) -> Result<Uuid, Error> {
        self.insert_with_uuid(r, table, Uuid::random())
    }

    /// Inserts a row whose temporary UUID is `uuid` (chosen by the caller,
    /// for example for a command line's `@name`).
    pub fn insert_with_uuid(
        &mut self,
        r: &Replica,
        table: &str,
        uuid: Uuid,
    ) -> Result<Uuid, Error> {
        let ts = table_schema(r, table)?;
        if self.inserted.iter().any(|(_, row, _)| row.uuid == uuid) {
            return Err(Error::new(
                "duplicate uuid",
                format!("row {uuid} inserted twice"),
            ));
        }
        self.inserted.push((
            table.to_string(),
            Row::new_default(ts, uuid),
            BTreeSet::new(),
        ));
        Ok(uuid)
    }

    /// Deletes a row (an inserted one simply disappears).
    pub fn delete(&mut self, r: &Replica, table: &str, uuid: &Uuid) -> Result<(), Error> {
        if let Some(n) = self.inserted_row(table, uuid) {
            self.inserted.remove(n);
            return Ok(());
        }
        if r.row(table, uuid).is_none() {
            return Err(row_missing(table, uuid));
        }
        let key = (table.to_string(), *uuid);
        self.writes.remove(&key);
        self.deleted.insert(key);
        Ok(())
    }

    fn existing_key(&self, r: &Replica, table: &str, uuid: &Uuid) -> Result<RowKey, Error> {
        let key = (table.to_string(), *uuid);
        if r.row(table, uuid).is_none() || self.deleted.contains(&key) {
            return Err(row_missing(table, uuid));
        }
        Ok(key)
    }

    /// Writes a whole column.
    pub fn set(
        &mut self,
        r: &Replica,
        table: &str,
        uuid: &Uuid,
        column: &str,
        value: Datum,
    ) -> Result<(), Error> {
        let i = column_index(table_schema(r, table)?, column)?;
        if let Some(n) = self.inserted_row(table, uuid) {
            self.inserted[n].1.fields[i] = value;
            self.inserted[n].2.insert(i);
            return Ok(());
        }
        let key = self.existing_key(r, table, uuid)?;
        self.writes
            .entry(key)
            .or_default()
            .insert(i, ColumnWrite::Set(value));
        Ok(())
    }

    /// The common part of partial updates: applies `edit` to a whole value
    /// (inserted rows, or columns already written whole) or to the pending
    /// mutation of an existing row's column.
    fn partial(
        &mut self,
        r: &Replica,
        table: &str,
        uuid: &Uuid,
        column: &str,
        edit: impl Fn(&mut Datum, &mut Option<&mut Datum>),
    ) -> Result<(), Error> {
        let ts = table_schema(r, table)?;
        let i = column_index(ts, column)?;
        let is_map = ts.columns[i].ty.is_map();
        if let Some(n) = self.inserted_row(table, uuid) {
            let (_, row, written) = &mut self.inserted[n];
            // A partial update of a column never written starts from
            // empty, not from the type's default atom.
            if written.insert(i) {
                row.fields[i] = Datum::empty(is_map);
            }
            edit(&mut row.fields[i], &mut None);
            return Ok(());
        }
        let key = self.existing_key(r, table, uuid)?;
        let w = self
            .writes
            .entry(key)
            .or_default()
            .entry(i)
            .or_insert_with(|| ColumnWrite::Mutate {
                delete: Datum::empty(false),
                insert: Datum::empty(is_map),
            });
        match w {
            ColumnWrite::Set(d) => edit(d, &mut None),
            ColumnWrite::Mutate { delete, insert } => edit(insert, &mut Some(delete)),
        }
        Ok(())
    }

    /// Adds `elem` to a set column (a no-op if present).
    pub fn set_add(
        &mut self,
        r: &Replica,
        table: &str,
        uuid: &Uuid,
        column: &str,
        elem: Atom,
    ) -> Result<(), Error> {
        self.partial(r, table, uuid, column, |value, delete| {
            if let Some(del) = delete {
                del.subtract(&Datum::from_atom(elem.clone()), true);
            }
            value.union(&Datum::from_atom(elem.clone()));
        })
    }

    /// Removes `elem` from a set column.
    pub fn set_remove(
        &mut self,
        r: &Replica,
        table: &str,
        uuid: &Uuid,
        column: &str,
        elem: Atom,
    ) -> Result<(), Error> {
        self.partial(r, table, uuid, column, |value, delete| {
            value.subtract(&Datum::from_atom(elem.clone()), true);
            if let Some(del) = delete {
                del.union(&Datum::from_atom(elem.clone()));
            }
        })
    }

    /// Sets `key` to `value` in a map column.
    pub fn map_set(
        &mut self,
        r: &Replica,
        table: &str,
        uuid: &Uuid,
        column: &str,
        key: Atom,
        value: Atom,
    ) -> Result<(), Error> {
        self.partial(r, table, uuid, column, |map, delete| {
            let k = Datum::from_atom(key.clone());
            map.subtract(&k, true);
            map.union(&Datum {
                keys: vec![key.clone()],
                values: Some(vec![value.clone()]),
            });
            if let Some(del) = delete {
                del.union(&k);
            }
        })
    }

    /// Adds `key`=`value` to a map column unless `key` is already there
    /// (the semantics of a `mutate` "insert").
    pub fn map_add(
        &mut self,
        r: &Replica,
        table: &str,
        uuid: &Uuid,
        column: &str,
        key: Atom,
        value: Atom,
    ) -> Result<(), Error> {
        let present = self
            .get(r, table, uuid, column)
            .is_some_and(|d| d.contains_key(&key));
        if present {
            return Ok(());
        }
        self.partial(r, table, uuid, column, |map, _| {
            map.union(&Datum {
                keys: vec![key.clone()],
                values: Some(vec![value.clone()]),
            });
        })
    }

    /// Removes `key` from a map column.
    pub fn map_remove(
        &mut self,
        r: &Replica,
        table: &str,
        uuid: &Uuid,
        column: &str,
        key: Atom,
    ) -> Result<(), Error> {
        self.partial(r, table, uuid, column, |map, delete| {
            let k = Datum::from_atom(key.clone());
            map.subtract(&k, true);
            if let Some(del) = delete {
                del.union(&k);
            }
        })
    }

    /// Makes the transaction fail with [`TxnStatus::TryAgain`] if `column`
    /// of the row no longer holds the replica's current value when the
    /// server runs it.
    pub fn verify(
        &mut self,
        r: &Replica,
        table: &str,
        uuid: &Uuid,
        column: &str,
    ) -> Result<(), Error> {
        let i = column_index(table_schema(r, table)?, column)?;
        if self.inserted_row(table, uuid).is_some() {
            return Ok(());
        }
        let key = self.existing_key(r, table, uuid)?;
        self.verified.entry(key).or_default().insert(i);
        Ok(())
    }

    /// Adds 1 to integer `column` of the row when the transaction commits
    /// (only if it changes something else, unless `force`); the new value
    /// is in [`TxnOutcome::increment`].
    pub fn increment(
        &mut self,
        r: &Replica,
        table: &str,
        uuid: &Uuid,
        column: &str,
        force: bool,
    ) -> Result<(), Error> {
        column_index(table_schema(r, table)?, column)?;
        self.increment = Some((table.to_string(), *uuid, column.to_string(), force));
        Ok(())
    }

    /// True if the transaction writes anything.
    pub fn has_updates(&self) -> bool {
        !self.inserted.is_empty()
            || !self.deleted.is_empty()
            || self.writes.values().any(|w| !w.is_empty())
    }

    /// The `transact` request for database `db`, or `None` when there is
    /// nothing to send ([`TxnStatus::Unchanged`]).
    pub fn build(&self, r: &Replica, db: &str) -> Result<Option<(Message, TxnPlan)>, Error> {
        let forced = matches!(self.increment, Some((_, _, _, true)));
        if !self.has_updates() && !forced {
            return Ok(None);
        }
        let names: BTreeMap<Uuid, String> = self
            .inserted
            .iter()
            .map(|(_, row, _)| (row.uuid, named_uuid(&row.uuid)))
            .collect();
        let mut ops: Vec<Value> = vec![Value::String(db.to_string())];
        let mut plan = TxnPlan {
            inserts: Vec::new(),
            increment_mutate: None,
            increment: None,
            dry_run: self.dry_run,
        };
        if let Some(lock) = &self.lock {
            ops.push(json!({"op": "assert", "lock": lock}));
        }
        for ((table, uuid), cols) in &self.verified {
            let ts = table_schema(r, table)?;
            let Some(row) = r.row(table, uuid) else {
                continue;
            };
            let mut vrow = Map::new();
            let mut names_json = Vec::new();
            for &i in cols {
                let c = &ts.columns[i];
                names_json.push(Value::String(c.name.clone()));
                vrow.insert(c.name.clone(), row.fields[i].to_json(&c.ty));
            }
            ops.push(json!({"op": "wait", "table": table, "timeout": 0,
                "where": [["_uuid", "==", ["uuid", uuid.to_string()]]],
                "until": "==", "columns": names_json, "rows": [Value::Object(vrow)]}));
        }
        for (table, uuid) in &self.deleted {
            ops.push(json!({"op": "delete", "table": table,
                "where": [["_uuid", "==", ["uuid", uuid.to_string()]]]}));
        }
        for (table, row, written) in &self.inserted {
            let ts = table_schema(r, table)?;
            let mut m = Map::new();
            for &i in written {
                let c = &ts.columns[i];
                m.insert(
                    c.name.clone(),
                    named_refs(row.fields[i].to_json(&c.ty), &names),
                );
            }
            plan.inserts.push((ops.len(), row.uuid));
            ops.push(
                json!({"op": "insert", "table": table, "row": Value::Object(m),
                "uuid-name": names[&row.uuid]}),
            );
        }
        for ((table, uuid), cols) in &self.writes {
            let ts = table_schema(r, table)?;
            let where_ = json!([["_uuid", "==", ["uuid", uuid.to_string()]]]);
            let mut set = Map::new();
            let mut mutations = Vec::new();
            for (&i, w) in cols {
                let c = &ts.columns[i];
                match w {
                    ColumnWrite::Set(d) => {
                        set.insert(c.name.clone(), named_refs(d.to_json(&c.ty), &names));
                    }
                    ColumnWrite::Mutate { delete, insert } => {
                        if !delete.is_empty() {
                            let keys = Datum::from_set(delete.keys.clone());
                            let kt = crate::types::Type {
                                key: c.ty.key.clone(),
                                value: None,
                                n_min: 0,
                                n_max: u32::MAX,
                            };
                            mutations.push(json!([
                                c.name,
                                "delete",
                                named_refs(set_json(&keys, &kt), &names)
                            ]));
                        }
                        if !insert.is_empty() {
                            mutations.push(json!([
                                c.name,
                                "insert",
                                named_refs(set_json(insert, &c.ty.relaxed()), &names)
                            ]));
                        }
                    }
                }
            }
            if !set.is_empty() {
                ops.push(
                    json!({"op": "update", "table": table, "where": where_.clone(),
                    "row": Value::Object(set)}),
                );
            }
            if !mutations.is_empty() {
                ops.push(json!({"op": "mutate", "table": table, "where": where_,
                    "mutations": mutations}));
            }
        }
        if !self.comments.is_empty() {
            ops.push(json!({"op": "comment", "comment": self.comments.join("\n")}));
        }
        if let Some((table, uuid, column, _)) = &self.increment {
            // A row inserted by this transaction is named by its uuid-name.
            let target = match names.get(uuid) {
                Some(n) => json!(["named-uuid", n]),
                None => json!(["uuid", uuid.to_string()]),
            };
            let where_ = json!([["_uuid", "==", target]]);
            plan.increment_mutate = Some(ops.len());
            ops.push(
                json!({"op": "mutate", "table": table, "where": where_.clone(),
                "mutations": [[column, "+=", 1]]}),
            );
            plan.increment = Some((ops.len(), column.clone()));
            ops.push(json!({"op": "select", "table": table, "where": where_,
                "columns": [column]}));
        }
        if self.dry_run {
            ops.push(json!({"op": "abort"}));
        }
        Ok(Some((Message::request("transact", ops), plan)))
    }
}

/// The `uuid-name` of an inserted row.
fn named_uuid(u: &Uuid) -> String {
    format!("row{}", u.to_string().replace('-', "_"))
}

/// A set or map in explicit `["set", ...]`/`["map", ...]` form (a
/// mutation argument is always a set or map, even with one element).
fn set_json(d: &Datum, t: &crate::types::Type) -> Value {
    let v = d.to_json(t);
    if t.is_map() || matches!(&v, Value::Array(a) if a.first() == Some(&Value::from("set"))) {
        return v;
    }
    json!(["set", [v]])
}

/// Replaces references to rows inserted in the transaction by their names.
fn named_refs(v: Value, names: &BTreeMap<Uuid, String>) -> Value {
    if names.is_empty() {
        return v;
    }
    match v {
        Value::Array(a) => {
            if let [Value::String(tag), Value::String(s)] = a.as_slice() {
                if tag == "uuid" {
                    if let Some(n) = Uuid::parse(s).and_then(|u| names.get(&u)) {
                        return json!(["named-uuid", n]);
                    }
                }
            }
            Value::Array(a.into_iter().map(|x| named_refs(x, names)).collect())
        }
        other => other,
    }
}

/// What is needed to interpret a transaction's reply.
#[derive(Clone, Debug, PartialEq)]
pub struct TxnPlan {
    /// (operation index, temporary UUID) of each insert.
    inserts: Vec<(usize, Uuid)>,
    /// The `mutate` that increments (its count must be 1).
    increment_mutate: Option<usize>,
    /// (index of the `select` reading the incremented column, its name).
    increment: Option<(usize, String)>,
    dry_run: bool,
}

impl TxnPlan {
    /// Interprets the reply (or error) to the `transact` request.
    pub fn outcome(&self, reply: &Message) -> TxnOutcome {
        let results = match reply {
            Message::Reply {
                result: Value::Array(a),
                ..
            } => a,
            Message::Reply { result, .. } => {
                return TxnOutcome::with_status(TxnStatus::Error(format!(
                    "reply to \"transact\" is not JSON array: {}",
                    json::to_string(result, true)
                )))
            }
            Message::Error { error, .. } => {
                return TxnOutcome::with_status(TxnStatus::Error(json::to_string(error, true)))
            }
            _ => return TxnOutcome::with_status(TxnStatus::Error("unexpected message".into())),
        };
        // Results are indexed from 1 in the request (0 is the database).
        let result = |op: usize| results.get(op - 1);
        for r in results {
            let Some(tag) = r.get("error").and_then(Value::as_str) else {
                continue;
            };
            let status = match tag {
                "timed out" => TxnStatus::TryAgain,
                "not owner" => TxnStatus::NotLocked,
                "aborted" if self.dry_run => TxnStatus::Success,
                _ => TxnStatus::Error(json::to_string(r, true)),
            };
            return TxnOutcome::with_status(status);
        }
        if let Some(op) = self.increment_mutate.filter(|_| !self.dry_run) {
            let count = result(op)
                .and_then(|r| r.get("count"))
                .and_then(Value::as_i64)
                .unwrap_or(0);
            if count != 1 {
                return TxnOutcome::with_status(TxnStatus::Error(format!(
                    "\"mutate\" reply \"count\" is {count} instead of 1"
                )));
            }
        }
        let mut out = TxnOutcome::with_status(TxnStatus::Success);
        for &(op, temp) in &self.inserts {
            let real = result(op)
                .and_then(|r| r.get("uuid"))
                .and_then(Value::as_array)
                .and_then(|a| a.get(1))
                .and_then(Value::as_str)
                .and_then(Uuid::parse);
            match real {
                Some(u) => {
                    out.inserted.insert(temp, u);
                }
                None if self.dry_run => {}
                None => {
                    return TxnOutcome::with_status(TxnStatus::Error(
                        "insert operation reply lacks uuid".into(),
                    ))
                }
            }
        }
        if let Some((op, column)) = &self.increment {
            out.increment = result(*op)
                .and_then(|r| r.get("rows"))
                .and_then(Value::as_array)
                .and_then(|rows| rows.first())
                .and_then(|row| row.get(column.as_str()))
                .and_then(Value::as_i64);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::idl::replica::{MonitorSpec, UpdateFormat};
    use crate::storage::{self, OpenOptionsDb, Storage, TailPolicy, TransactReply};
    use crate::{DatabaseSchema, ExecOptions};

    fn schema() -> DatabaseSchema {
        DatabaseSchema::from_json(&crate::idl::replica::tests_support::schema_json()).unwrap()
    }

    fn s(x: &str) -> Atom {
        Atom::String(x.into())
    }

    fn params(m: &Message) -> Value {
        match m {
            Message::Request { params, .. } => Value::Array(params.clone()),
            _ => panic!("not a request"),
        }
    }

    /// A real database engine, its replica, and a helper to commit.
    struct Fixture {
        store: Storage,
        replica: Replica,
        dir: std::path::PathBuf,
    }

    impl Fixture {
        fn new(tag: &str) -> Fixture {
            let dir = std::env::temp_dir().join(format!("idl-txn-{tag}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).unwrap();
            let path = dir.join("db").to_string_lossy().into_owned();
            storage::create(&path, &schema()).unwrap();
            let store = Storage::open(
                &path,
                OpenOptionsDb {
                    read_only: false,
                    tail: TailPolicy::Fail,
                },
            )
            .unwrap();
            // The engine numbers columns from the schema in the file.
            let schema = storage::read_schema(&path).unwrap();
            let replica = Replica::new(schema.clone(), &MonitorSpec::all(&schema));
            Fixture {
                store,
                replica,
                dir,
            }
        }

        fn commit(&mut self, txn: &Txn) -> TxnOutcome {
            let Some((req, plan)) = txn.build(&self.replica, "D").unwrap() else {
                return TxnOutcome::with_status(TxnStatus::Unchanged);
            };
            let (reply, changes) = match self
                .store
                .transact(&params(&req), &ExecOptions::default())
                .unwrap()
            {
                TransactReply::Done { results, changes } => (results, changes),
                TransactReply::Blocked { .. } => panic!("blocked"),
            };
            // Feed the changes back as a V1 update ("new" row or null).
            let mut ups = Map::new();
            for (table, rows) in &changes.tables {
                let ts = self.replica.schema().table(table).unwrap().clone();
                let cols: Vec<ColumnRef> = (0..ts.columns.len()).map(ColumnRef::Index).collect();
                let mut t = Map::new();
                for (uuid, ch) in rows {
                    let new = ch.new.as_ref().map(|r| r.to_json(&ts, Some(&cols)));
                    t.insert(uuid.to_string(), json!({"new": new}));
                }
                ups.insert(table.clone(), Value::Object(t));
            }
            self.replica
                .apply_updates(&Value::Object(ups), UpdateFormat::V1)
                .unwrap();
            plan.outcome(&Message::reply(reply, json!(0)))
        }
    }

    impl Drop for Fixture {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }

    #[test]
    fn insert_with_reference_then_partial_updates() {
        let mut f = Fixture::new("ins");
        let mut t = Txn::new();
        let b = t.insert(&f.replica, "B").unwrap();
        t.set(&f.replica, "B", &b, "name", Datum::from_atom(s("br0")))
            .unwrap();
        let p = t.insert(&f.replica, "P").unwrap();
        t.set_add(&f.replica, "B", &b, "ports", Atom::Uuid(p))
            .unwrap();
        assert_eq!(t.rows(&f.replica, "B"), vec![b]);
        let out = f.commit(&t);
        assert_eq!(out.status, TxnStatus::Success);
        let real_b = out.inserted[&b];
        let real_p = out.inserted[&p];
        assert_eq!(
            f.replica.get("B", &real_b, "ports").unwrap().keys,
            vec![Atom::Uuid(real_p)]
        );

        // A second port: sent as a mutate, not as the whole set.
        let mut t = Txn::new();
        let p2 = t.insert(&f.replica, "P").unwrap();
        t.set_add(&f.replica, "B", &real_b, "ports", Atom::Uuid(p2))
            .unwrap();
        t.map_set(&f.replica, "B", &real_b, "ext", s("k"), s("v"))
            .unwrap();
        assert_eq!(t.get(&f.replica, "B", &real_b, "ports").unwrap().len(), 2);
        let (req, _) = t.build(&f.replica, "D").unwrap().unwrap();
        let text = json::to_string(&params(&req), true);
        assert!(text.contains("\"op\":\"mutate\""), "{text}");
        assert!(!text.contains("\"op\":\"update\""), "{text}");
        let out = f.commit(&t);
        assert_eq!(out.status, TxnStatus::Success);
        assert_eq!(f.replica.get("B", &real_b, "ports").unwrap().len(), 2);
        assert_eq!(
            f.replica.get("B", &real_b, "ext").unwrap().get(&s("k")),
            Some(&s("v"))
        );

        // Map set of an existing key replaces its value; removals.
        let mut t = Txn::new();
        t.map_set(&f.replica, "B", &real_b, "ext", s("k"), s("w"))
            .unwrap();
        t.set_remove(&f.replica, "B", &real_b, "ports", Atom::Uuid(real_p))
            .unwrap();
        assert_eq!(f.commit(&t).status, TxnStatus::Success);
        assert_eq!(
            f.replica.get("B", &real_b, "ext").unwrap().get(&s("k")),
            Some(&s("w"))
        );
        assert_eq!(f.replica.get("B", &real_b, "ports").unwrap().len(), 1);
        let mut t = Txn::new();
        t.map_remove(&f.replica, "B", &real_b, "ext", s("k"))
            .unwrap();
        assert_eq!(f.commit(&t).status, TxnStatus::Success);
        assert!(f.replica.get("B", &real_b, "ext").unwrap().is_empty());
    }

    #[test]
    fn verify_detects_concurrent_change() {
        let mut f = Fixture::new("verify");
        let mut t = Txn::new();
        let b = t.insert(&f.replica, "B").unwrap();
        let real = f.commit(&t).inserted[&b];

        // Our transaction verified "name" as it was ("")...
        let mut ours = Txn::new();
        ours.verify(&f.replica, "B", &real, "name").unwrap();
        ours.set(
            &f.replica,
            "B",
            &real,
            "n",
            Datum::from_atom(Atom::Integer(1)),
        )
        .unwrap();
        let (req, plan) = ours.build(&f.replica, "D").unwrap().unwrap();
        // ...but someone else renamed the bridge first.
        let mut other = Txn::new();
        other
            .set(&f.replica, "B", &real, "name", Datum::from_atom(s("x")))
            .unwrap();
        assert_eq!(f.commit(&other).status, TxnStatus::Success);
        let results = match f
            .store
            .transact(&params(&req), &ExecOptions::default())
            .unwrap()
        {
            TransactReply::Done { results, .. } => results,
            TransactReply::Blocked { .. } => panic!("blocked"),
        };
        let out = plan.outcome(&Message::reply(results, json!(0)));
        assert_eq!(out.status, TxnStatus::TryAgain);
    }

    #[test]
    fn increment_unchanged_dry_run_and_delete() {
        let mut f = Fixture::new("inc");
        let mut t = Txn::new();
        let b = t.insert(&f.replica, "B").unwrap();
        let real = f.commit(&t).inserted[&b];

        let mut t = Txn::new();
        t.increment(&f.replica, "B", &real, "n", false).unwrap();
        assert!(t.build(&f.replica, "D").unwrap().is_none());
        assert_eq!(f.commit(&t).status, TxnStatus::Unchanged);

        let mut t = Txn::new();
        t.increment(&f.replica, "B", &real, "n", true).unwrap();
        t.add_comment("ovs-vsctl: test");
        let out = f.commit(&t);
        assert_eq!(out.status, TxnStatus::Success);
        assert_eq!(out.increment, Some(1));

        let mut t = Txn::new();
        t.set_dry_run(true);
        t.set(&f.replica, "B", &real, "name", Datum::from_atom(s("dry")))
            .unwrap();
        assert_eq!(f.commit(&t).status, TxnStatus::Success);
        assert_eq!(f.replica.get("B", &real, "name").unwrap().keys[0], s(""));

        let mut t = Txn::new();
        t.delete(&f.replica, "B", &real).unwrap();
        assert!(!t.row_exists(&f.replica, "B", &real));
        assert!(t.get(&f.replica, "B", &real, "name").is_none());
        assert_eq!(f.commit(&t).status, TxnStatus::Success);
        assert!(f.replica.row("B", &real).is_none());
        // Writing to a vanished row is refused locally.
        let mut t = Txn::new();
        assert!(t
            .set(
                &f.replica,
                "B",
                &real,
                "n",
                Datum::from_atom(Atom::Integer(2))
            )
            .is_err());
    }

    #[test]
    fn increment_of_a_row_inserted_in_the_same_transaction() {
        let mut f = Fixture::new("incnew");
        let mut t = Txn::new();
        let b = t.insert(&f.replica, "B").unwrap();
        t.increment(&f.replica, "B", &b, "n", false).unwrap();
        let out = f.commit(&t);
        assert_eq!(out.status, TxnStatus::Success);
        assert_eq!(out.increment, Some(1));
    }

    #[test]
    fn reply_errors_map_to_statuses() {
        let plan = TxnPlan {
            inserts: vec![],
            increment_mutate: Some(1),
            increment: None,
            dry_run: false,
        };
        let r = |v: Value| plan.outcome(&Message::reply(v, json!(0))).status;
        assert_eq!(
            r(json!([{"error": "not owner", "details": "x"}])),
            TxnStatus::NotLocked
        );
        assert_eq!(
            r(json!([{"count": 0}])),
            TxnStatus::Error("\"mutate\" reply \"count\" is 0 instead of 1".into())
        );
        assert_eq!(r(json!([{"count": 1}])), TxnStatus::Success);
        assert_eq!(
            r(json!([{"count": 1}, {"error": "constraint violation", "details": "d"}])),
            TxnStatus::Error("{\"details\":\"d\",\"error\":\"constraint violation\"}".into())
        );
    }
}
