//! Executing RFC 7047 `transact` requests against a [`Database`]: every
//! operation (insert, select, update, mutate, delete, wait, commit, abort,
//! comment, assert), then the commit-time checks — referential integrity,
//! garbage collection of unreferenced non-root rows, `maxRows`, removal of
//! dangling weak references, index uniqueness — with upstream's error
//! objects. Execution reads the committed state and builds a [`Commit`]; it
//! never modifies the database.

use crate::condition::Condition;
use crate::database::{
    for_each_ref, for_each_strong_ref_delta, Changes, Commit, Database, RowChange,
};
use crate::datum::{Atom, Datum, Symtab};
use crate::error::{Error, Kind, ObjectParser};
use crate::mutation::Mutation;
use crate::rbac::{self, Access, Modify, RowSource};
use crate::row::{all_columns, Row};
use crate::schema::{ColumnRef, TableSchema};
use crate::uuid::Uuid;
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

/// What the caller knows about the client running the transaction.
pub struct ExecOptions<'a> {
    /// Whether the session holds a lock (for `assert`). `None`: no locks.
    pub lock_held: Option<&'a dyn Fn(&str) -> bool>,
    /// Milliseconds since the transaction was first tried (for `wait`).
    pub elapsed_ms: u64,
    /// The client came through a read-only remote: operations that write
    /// (and `commit`) fail with "not allowed", after their own checks.
    pub read_only: bool,
    /// The client's role and identity, for role-based access control.
    pub access: Access<'a>,
}

impl Default for ExecOptions<'_> {
    fn default() -> Self {
        ExecOptions {
            lock_held: None,
            elapsed_ms: 0,
            read_only: false,
            access: Access::default(),
        }
    }
}

/// The result of executing a transaction.
#[derive(Debug)]
pub enum Outcome {
    /// Finished: `results` is the reply array. `commit` is `Some` when the
    /// transaction succeeded; it may hold no changes.
    Done {
        results: Value,
        commit: Option<Commit>,
    },
    /// A `wait` is not yet satisfied: run the transaction again when the
    /// database changes, or (with the elapsed time) after `timeout_ms`.
    /// `results` holds the results of the operations before the `wait`
    /// (standalone tools, which cannot wait, report them with an error).
    Blocked {
        timeout_ms: Option<u64>,
        results: Vec<Value>,
    },
}

struct TxnRow {
    old: Option<Arc<Row>>,
    new: Option<Row>,
    /// Columns written with a different value.
    changed: Vec<bool>,
    /// Order of first touch, for deterministic reports.
    seq: u64,
}

struct Txn<'a> {
    db: &'a Database,
    rows: BTreeMap<String, BTreeMap<Uuid, TxnRow>>,
    symtab: Symtab,
    comments: Vec<String>,
    durable: bool,
    seq: u64,
    /// Tables in the order they were first touched.
    table_order: Vec<String>,
}

impl<'a> Txn<'a> {
    fn table_schema(&self, name: &str) -> Option<&'a TableSchema> {
        self.db.schema.table(name)
    }

    /// The current state of a row.
    fn get(&self, table: &str, uuid: &Uuid) -> Option<Row> {
        if let Some(tr) = self.rows.get(table).and_then(|t| t.get(uuid)) {
            return tr.new.clone();
        }
        self.db.row(table, uuid).map(|r| (**r).clone())
    }

    fn exists(&self, table: &str, uuid: &Uuid) -> bool {
        if let Some(tr) = self.rows.get(table).and_then(|t| t.get(uuid)) {
            return tr.new.is_some();
        }
        self.db.row(table, uuid).is_some()
    }

    /// Rows of `table` matching `cond`, in a stable order.
    fn query(&self, table: &str, cond: &Condition) -> Vec<Row> {
        let mut out = Vec::new();
        if let Some(u) = cond.uuid_lookup() {
            if let Some(r) = self.get(table, &u) {
                if cond.evaluate(&r) {
                    out.push(r);
                }
            }
            return out;
        }
        let changed = self.rows.get(table);
        if let Some(t) = self.db.table(table) {
            for (u, r) in &t.rows {
                match changed.and_then(|c| c.get(u)) {
                    Some(tr) => {
                        if let Some(n) = &tr.new {
                            if cond.evaluate(n) {
                                out.push(n.clone());
                            }
                        }
                    }
                    None => {
                        if cond.evaluate(r) {
                            out.push((**r).clone());
                        }
                    }
                }
            }
        }
        if let Some(c) = changed {
            let mut inserted: Vec<&TxnRow> = c
                .values()
                .filter(|tr| tr.old.is_none() && tr.new.is_some())
                .collect();
            inserted.sort_by_key(|tr| tr.seq);
            for tr in inserted {
                if let Some(n) = &tr.new {
                    if cond.evaluate(n) {
                        out.push(n.clone());
                    }
                }
            }
        }
        out
    }

    /// Records the new state of a row.
    fn put(&mut self, table: &str, uuid: Uuid, new: Option<Row>) {
        self.seq += 1;
        let seq = self.seq;
        let old = self.db.row(table, &uuid).cloned();
        if !self.rows.contains_key(table) {
            self.table_order.push(table.to_string());
        }
        let t = self.rows.entry(table.to_string()).or_default();
        let tr = t.entry(uuid).or_insert_with(|| TxnRow {
            new: None,
            old,
            changed: Vec::new(),
            seq,
        });
        // Compare with the row's current state: its last write in this
        // transaction, or the committed row on first touch.
        let cur: Option<&Row> = if tr.changed.is_empty() && tr.new.is_none() {
            tr.old.as_deref()
        } else {
            tr.new.as_ref()
        };
        if let (Some(cur), Some(next)) = (cur, &new) {
            let mut changed = std::mem::take(&mut tr.changed);
            if changed.len() < next.fields.len() {
                changed.resize(next.fields.len(), false);
            }
            for (i, (a, b)) in cur.fields.iter().zip(&next.fields).enumerate() {
                if !changed[i] && a != b {
                    changed[i] = true;
                }
            }
            tr.changed = changed;
        } else if tr.changed.is_empty() {
            tr.changed = vec![false; new.as_ref().map_or(0, |n| n.fields.len())];
        }
        tr.new = new;
    }

    /// Fails with upstream's `permission error` unless `allowed`.
    fn permit(allowed: bool, access: &Access<'_>, what: &str, table: &str) -> Result<(), Error> {
        if allowed {
            return Ok(());
        }
        Err(Error::new(
            "permission error",
            format!(
                "RBAC rules for client \"{}\" role \"{}\" {what} table \"{table}\".",
                access.id.unwrap_or("(null)"),
                access.role
            ),
        ))
    }

    fn table_member(&self, p: &mut ObjectParser<'_>) -> Option<&'a TableSchema> {
        let name = p.required("table", Kind::Id)?.as_str()?;
        match self.table_schema(name) {
            Some(t) => Some(t),
            None => {
                p.fail(format!("No table named {name}."));
                None
            }
        }
    }
}

impl RowSource for Txn<'_> {
    fn schema(&self) -> &crate::schema::DatabaseSchema {
        &self.db.schema
    }

    fn rows(&self, table: &str) -> Vec<Row> {
        self.query(table, &Condition::always())
    }

    fn row(&self, table: &str, uuid: &Uuid) -> Option<Row> {
        self.get(table, uuid)
    }
}

fn parse_columns(
    table: &TableSchema,
    json: Option<&Value>,
) -> Result<Option<Vec<ColumnRef>>, Error> {
    let Some(json) = json else { return Ok(None) };
    let mut out = Vec::new();
    for n in json.as_array().into_iter().flatten() {
        match n.as_str().and_then(|s| table.column(s)) {
            Some(c) => {
                if !out.contains(&c) {
                    out.push(c)
                }
            }
            None => {
                return Err(Error::syntax(
                    Some(json),
                    format!("{} is not a valid column name", n.as_str().unwrap_or("")),
                ))
            }
        }
    }
    Ok(Some(out))
}

fn parse_row(
    table: &TableSchema,
    json: &Value,
    symtab: &mut Symtab,
    columns: Option<&[ColumnRef]>,
) -> Result<Vec<(ColumnRef, Datum)>, Error> {
    let Some(obj) = json.as_object() else {
        return Err(Error::syntax(Some(json), "row must be JSON object"));
    };
    let mut out = Vec::with_capacity(obj.len());
    for (name, v) in obj {
        let c = match table.column(name) {
            Some(c) if columns.is_none_or(|cs| cs.contains(&c)) => c,
            _ => {
                return Err(Error::with_syntax(
                    "unknown column",
                    Some(json),
                    format!("No column {name} in table {}.", table.name),
                ))
            }
        };
        let d = Datum::from_json(&table.column_type(c), v, Some(symtab))?;
        out.push((c, d));
    }
    Ok(out)
}

/// Projects a row onto `columns` for comparisons.
fn project(row: &Row, columns: &[ColumnRef]) -> Vec<Datum> {
    columns.iter().map(|&c| row.get(c)).collect()
}

impl Database {
    /// Executes the `params` of a `transact` request (`[db-name, op...]`).
    /// `Err` is a request-level error (bad params), to be sent as the
    /// JSON-RPC error.
    pub fn execute(&self, params: &Value, opts: &ExecOptions<'_>) -> Result<Outcome, Error> {
        let Some(arr) = params.as_array() else {
            return Err(Error::syntax(Some(params), "array expected"));
        };
        if arr.first().and_then(Value::as_str) != Some(self.schema.name.as_str()) {
            return Err(Error::syntax(
                Some(params),
                "database name expected as first parameter",
            ));
        }
        let ops = &arr[1..];
        let mut txn = Txn {
            db: self,
            rows: BTreeMap::new(),
            symtab: Symtab::default(),
            comments: Vec::new(),
            durable: false,
            seq: 0,
            table_order: Vec::new(),
        };
        let mut results = Vec::with_capacity(ops.len() + 1);
        let n = ops.len();
        for (i, op) in ops.iter().enumerate() {
            match txn.execute_op(op, i + 1, n, opts) {
                Ok(OpResult::Value(v)) => results.push(v),
                Ok(OpResult::Blocked(t)) => {
                    return Ok(Outcome::Blocked {
                        timeout_ms: t,
                        results,
                    })
                }
                Err(e) => {
                    // The operations after a failed one are not executed;
                    // each still has its (null) place in the results.
                    results.push(e.to_json());
                    results.resize(n, Value::Null);
                    return Ok(Outcome::Done {
                        results: Value::Array(results),
                        commit: None,
                    });
                }
            }
        }
        match txn.precommit() {
            Ok(changes) => {
                let comment = if txn.comments.is_empty() {
                    None
                } else {
                    Some(txn.comments.join("\n"))
                };
                Ok(Outcome::Done {
                    results: Value::Array(results),
                    commit: Some(Commit {
                        changes,
                        comment,
                        durable: txn.durable,
                    }),
                })
            }
            Err(e) => {
                results.push(e.to_json());
                Ok(Outcome::Done {
                    results: Value::Array(results),
                    commit: None,
                })
            }
        }
    }

    /// Executes and, on success, applies the transaction in memory only.
    /// Returns the reply; a `wait` that would block fails as upstream's
    /// standalone tools report it.
    pub fn transact(&mut self, params: &Value) -> (Value, Option<Commit>) {
        match self.execute(params, &ExecOptions::default()) {
            Err(e) => (e.to_json(), None),
            Ok(Outcome::Blocked { mut results, .. }) => {
                results.push(triggers_not_supported());
                (Value::Array(results), None)
            }
            Ok(Outcome::Done { results, commit }) => {
                if let Some(c) = &commit {
                    self.apply(&c.changes);
                }
                (results, commit)
            }
        }
    }
}

/// The error standalone tools give for a `wait` that would have to block.
pub fn triggers_not_supported() -> Value {
    Error::new("not supported", "triggers not supported").to_json()
}

enum OpResult {
    Value(Value),
    Blocked(Option<u64>),
}

impl<'a> Txn<'a> {
    fn execute_op(
        &mut self,
        op: &Value,
        i: usize,
        n: usize,
        opts: &ExecOptions<'_>,
    ) -> Result<OpResult, Error> {
        let mut p = ObjectParser::new(op, format!("ovsdb operation {i} of {n}"));
        let name = p.required("op", Kind::String).and_then(Value::as_str);
        let Some(name) = name else {
            p.finish()?;
            return Err(Error::syntax(Some(op), "missing op"));
        };
        let v = match name {
            "insert" => self.insert(op, p, opts)?,
            "select" => self.select(p)?,
            "update" => self.update(op, p, opts)?,
            "mutate" => self.mutate(p, opts)?,
            "delete" => self.delete(p, opts)?,
            "wait" => return self.wait(p, opts),
            "commit" => {
                let d = p
                    .required("durable", Kind::Boolean)
                    .and_then(Value::as_bool);
                p.finish()?;
                if d == Some(true) {
                    self.durable = true;
                }
                json!({})
            }
            "abort" => {
                p.finish()?;
                return Err(Error::new("aborted", "aborted by request"));
            }
            "comment" => {
                let c = p.required("comment", Kind::String).and_then(Value::as_str);
                p.finish()?;
                if let Some(c) = c {
                    if !c.is_empty() {
                        self.comments.push(c.to_string());
                    }
                }
                json!({})
            }
            "assert" => {
                let lock = p.required("lock", Kind::Id).and_then(Value::as_str);
                p.finish()?;
                let lock = lock.unwrap_or("");
                if !opts.lock_held.is_some_and(|f| f(lock)) {
                    return Err(Error::new(
                        "not owner",
                        format!("Asserted lock {lock} not held."),
                    ));
                }
                json!({})
            }
            other => {
                p.fail(format!("No operation \"{other}\""));
                p.finish()?;
                return Err(Error::syntax(Some(op), "unknown operation"));
            }
        };
        if opts.read_only && matches!(name, "insert" | "update" | "mutate" | "delete" | "commit") {
            return Err(Error::new(
                "not allowed",
                format!("{name} operation not allowed when database server is in read only mode"),
            ));
        }
        Ok(OpResult::Value(v))
    }

    fn insert(
        &mut self,
        _op: &Value,
        mut p: ObjectParser<'_>,
        opts: &ExecOptions<'_>,
    ) -> Result<Value, Error> {
        let table = self.table_member(&mut p);
        let row_json = p.optional("row", Kind::Object);
        let uuid_name = p.optional("uuid-name", Kind::Id);
        let uuid_json = p.optional("uuid", Kind::String);
        p.finish()?;
        let Some(table) = table else {
            return Err(Error::syntax(None, "missing table"));
        };
        let explicit = match uuid_json {
            Some(j) => match j.as_str().and_then(Uuid::parse) {
                Some(u) => Some(u),
                None => return Err(Error::syntax(Some(j), "bad uuid")),
            },
            None => None,
        };
        let uuid =
            match uuid_name.and_then(Value::as_str) {
                Some(name) => {
                    if self.symtab.symbols.get(name).is_some_and(|s| s.created) {
                        return Err(Error::with_syntax(
                            "duplicate uuid-name",
                            uuid_name,
                            "This \"uuid-name\" appeared on an earlier \"insert\" operation.",
                        ));
                    }
                    let sym = self.symtab.symbols.entry(name.to_string()).or_insert(
                        crate::datum::Symbol {
                            uuid: explicit.unwrap_or_else(Uuid::random),
                            created: false,
                        },
                    );
                    if let Some(u) = explicit {
                        sym.uuid = u;
                    }
                    sym.created = true;
                    sym.uuid
                }
                None => explicit.unwrap_or_else(Uuid::random),
            };
        if explicit.is_some()
            && (self.db.row(&table.name, &uuid).is_some()
                || self
                    .rows
                    .get(&table.name)
                    .is_some_and(|t| t.contains_key(&uuid)))
        {
            return Err(Error::with_syntax(
                "duplicate uuid",
                uuid_json,
                "This UUID would duplicate a UUID already present within the table or deleted within the same transaction.",
            ));
        }
        let mut row = Row::new_default(table, uuid);
        if let Some(rj) = row_json {
            for (c, d) in parse_row(table, rj, &mut self.symtab, None)? {
                if let ColumnRef::Index(i) = c {
                    row.fields[i] = d;
                }
            }
        }
        let allowed = rbac::may_insert(self, &opts.access, table, &row);
        Self::permit(
            allowed,
            &opts.access,
            "prohibit row insertion into",
            &table.name,
        )?;
        self.put(&table.name, uuid, Some(row));
        Ok(json!({"uuid": ["uuid", uuid.to_string()]}))
    }

    fn select(&mut self, mut p: ObjectParser<'_>) -> Result<Value, Error> {
        let table = self.table_member(&mut p);
        let where_json = p.required("where", Kind::Array);
        let columns_json = p.optional("columns", Kind::Array);
        p.finish()?;
        let (Some(table), Some(wj)) = (table, where_json) else {
            return Err(Error::syntax(None, "missing member"));
        };
        let cond = Condition::from_json(table, wj, Some(&mut self.symtab))?;
        let columns = parse_columns(table, columns_json)?;
        let rows = self.query(&table.name, &cond);
        let mut out = Vec::with_capacity(rows.len());
        match &columns {
            Some(cols) if !cols.contains(&ColumnRef::Uuid) => {
                let mut seen = HashSet::new();
                for r in &rows {
                    let key: Vec<String> =
                        project(r, cols).iter().map(|d| format!("{d:?}")).collect();
                    if seen.insert(key) {
                        out.push(r.to_json(table, Some(cols)));
                    }
                }
            }
            _ => {
                for r in &rows {
                    out.push(r.to_json(table, columns.as_deref()));
                }
            }
        }
        Ok(json!({"rows": out}))
    }

    fn update(
        &mut self,
        op: &Value,
        mut p: ObjectParser<'_>,
        opts: &ExecOptions<'_>,
    ) -> Result<Value, Error> {
        let table = self.table_member(&mut p);
        let where_json = p.required("where", Kind::Array);
        let row_json = p.required("row", Kind::Object);
        p.finish()?;
        let (Some(table), Some(wj), Some(rj)) = (table, where_json, row_json) else {
            return Err(Error::syntax(None, "missing member"));
        };
        let values = parse_row(table, rj, &mut self.symtab, None)?;
        for (c, _) in &values {
            let mutable = match c {
                ColumnRef::Index(i) => table.columns[*i].mutable,
                _ => false,
            };
            if !mutable {
                return Err(Error::with_syntax(
                    "constraint violation",
                    Some(op),
                    format!(
                        "Cannot update immutable column {} in table {}.",
                        table.column_name(*c),
                        table.name
                    ),
                ));
            }
        }
        let cond = Condition::from_json(table, wj, Some(&mut self.symtab))?;
        let rows = self.query(&table.name, &cond);
        let columns: Vec<usize> = values
            .iter()
            .filter_map(|(c, _)| match c {
                ColumnRef::Index(i) => Some(*i),
                _ => None,
            })
            .collect();
        let allowed = rbac::may_modify(self, &opts.access, table, &columns, &rows, Modify::Update);
        Self::permit(
            allowed,
            &opts.access,
            "prohibit modification of",
            &table.name,
        )?;
        let count = rows.len();
        for mut r in rows {
            for (c, d) in &values {
                if let ColumnRef::Index(i) = c {
                    r.fields[*i] = d.clone();
                }
            }
            let u = r.uuid;
            self.put(&table.name, u, Some(r));
        }
        Ok(json!({ "count": count }))
    }

    fn mutate(&mut self, mut p: ObjectParser<'_>, opts: &ExecOptions<'_>) -> Result<Value, Error> {
        let table = self.table_member(&mut p);
        let where_json = p.required("where", Kind::Array);
        let mutations_json = p.required("mutations", Kind::Array);
        p.finish()?;
        let (Some(table), Some(wj), Some(mj)) = (table, where_json, mutations_json) else {
            return Err(Error::syntax(None, "missing member"));
        };
        let mut mutations = Vec::new();
        for m in mj.as_array().into_iter().flatten() {
            mutations.push(Mutation::from_json(table, m, Some(&mut self.symtab))?);
        }
        let cond = Condition::from_json(table, wj, Some(&mut self.symtab))?;
        let rows = self.query(&table.name, &cond);
        let columns: Vec<usize> = mutations.iter().map(|m| m.column).collect();
        let allowed = rbac::may_modify(self, &opts.access, table, &columns, &rows, Modify::Mutate);
        Self::permit(
            allowed,
            &opts.access,
            "prohibit mutate operation on",
            &table.name,
        )?;
        let count = rows.len();
        for mut r in rows {
            for m in &mutations {
                m.apply(table, &mut r.fields[m.column])?;
            }
            let u = r.uuid;
            self.put(&table.name, u, Some(r));
        }
        Ok(json!({ "count": count }))
    }

    fn delete(&mut self, mut p: ObjectParser<'_>, opts: &ExecOptions<'_>) -> Result<Value, Error> {
        let table = self.table_member(&mut p);
        let where_json = p.required("where", Kind::Array);
        p.finish()?;
        let (Some(table), Some(wj)) = (table, where_json) else {
            return Err(Error::syntax(None, "missing member"));
        };
        let cond = Condition::from_json(table, wj, Some(&mut self.symtab))?;
        let rows = self.query(&table.name, &cond);
        let allowed = rbac::may_delete(self, &opts.access, table, &rows);
        Self::permit(
            allowed,
            &opts.access,
            "prohibit row deletion from",
            &table.name,
        )?;
        let count = rows.len();
        for r in rows {
            self.put(&table.name, r.uuid, None);
        }
        Ok(json!({ "count": count }))
    }

    fn wait(&mut self, mut p: ObjectParser<'_>, opts: &ExecOptions<'_>) -> Result<OpResult, Error> {
        let table = self.table_member(&mut p);
        let where_json = p.required("where", Kind::Array);
        let columns_json = p.optional("columns", Kind::Array);
        let until_json = p.required("until", Kind::String);
        let rows_json = p.required("rows", Kind::Array);
        let timeout = p
            .optional("timeout", Kind::Integer)
            .and_then(|v| v.as_number().and_then(crate::json::as_integer));
        p.finish()?;
        let (Some(table), Some(wj), Some(uj), Some(rj)) =
            (table, where_json, until_json, rows_json)
        else {
            return Err(Error::syntax(None, "missing member"));
        };
        let equal = match uj.as_str() {
            Some("==") => true,
            Some("!=") => false,
            _ => {
                return Err(Error::syntax(
                    Some(uj),
                    "\"until\" must be \"==\" or \"!=\"",
                ));
            }
        };
        let cond = Condition::from_json(table, wj, Some(&mut self.symtab))?;
        let columns = parse_columns(table, columns_json)?.unwrap_or_else(|| all_columns(table));
        let mut expected: HashSet<Vec<String>> = HashSet::new();
        for r in rj.as_array().into_iter().flatten() {
            let vals = parse_row(table, r, &mut self.symtab, Some(&columns))?;
            let mut proj: Vec<Option<Datum>> = vec![None; columns.len()];
            for (c, d) in vals {
                if let Some(i) = columns.iter().position(|x| *x == c) {
                    proj[i] = Some(d);
                }
            }
            let proj: Vec<String> = proj
                .into_iter()
                .zip(&columns)
                .map(|(d, &c)| {
                    let d = d.unwrap_or_else(|| Datum::default_of(&table.column_type(c)));
                    format!("{d:?}")
                })
                .collect();
            expected.insert(proj);
        }
        let actual: HashSet<Vec<String>> = self
            .query(&table.name, &cond)
            .iter()
            .map(|r| {
                project(r, &columns)
                    .iter()
                    .map(|d| format!("{d:?}"))
                    .collect()
            })
            .collect();
        if (actual == expected) == equal {
            return Ok(OpResult::Value(json!({})));
        }
        match timeout {
            Some(t) if t <= 0 => Err(Error::new("timed out", "\"where\" clause test failed")),
            Some(t) if opts.elapsed_ms >= t as u64 => Err(Error::new(
                "timed out",
                format!("\"wait\" timed out after {} ms", opts.elapsed_ms),
            )),
            Some(t) => Ok(OpResult::Blocked(Some(t as u64 - opts.elapsed_ms))),
            None => Ok(OpResult::Blocked(None)),
        }
    }

    /// Commit-time checks; returns the final change set.
    fn precommit(&mut self) -> Result<Changes, Error> {
        let schema = self.db.schema.clone();
        // Drop rows whose content did not change.
        for t in self.rows.values_mut() {
            t.retain(|_, tr| match (&tr.old, &tr.new) {
                (Some(_), Some(_)) => tr.changed.iter().any(|&c| c),
                (None, None) => false,
                _ => true,
            });
        }
        // Strong reference counts.
        let mut delta: HashMap<(String, Uuid), i64> = HashMap::new();
        let mut ordered: Vec<(u64, String, Uuid)> = Vec::new();
        for (tname, rows) in &self.rows {
            for (u, tr) in rows {
                ordered.push((tr.seq, tname.clone(), *u));
            }
        }
        ordered.sort();
        for (_, tname, u) in &ordered {
            let Some(ts) = schema.table(tname) else {
                continue;
            };
            let tr = &self.rows[tname][u];
            let changed: Vec<usize> = (0..tr.changed.len()).filter(|&i| tr.changed[i]).collect();
            let changed = (tr.old.is_some() && tr.new.is_some()).then_some(changed.as_slice());
            let mut missing = None;
            for_each_strong_ref_delta(
                ts,
                tr.old.as_deref(),
                tr.new.as_ref(),
                changed,
                |rt, x, d| {
                    *delta.entry((rt.to_string(), x)).or_default() += d;
                    if d > 0 && missing.is_none() && !self.exists(rt, &x) {
                        missing = Some((rt.to_string(), x));
                    }
                },
            );
            if let Some(n) = &tr.new {
                if let Some((rt, x)) = missing {
                    let col = ts
                        .columns
                        .iter()
                        .enumerate()
                        .find(|(i, c)| {
                            let d = &n.fields[*i];
                            let a = Atom::Uuid(x);
                            (c.ty.key.ref_table.as_deref() == Some(rt.as_str())
                                && d.contains_key(&a))
                                || (c.ty.value.as_ref().and_then(|v| v.ref_table.as_deref())
                                    == Some(rt.as_str())
                                    && d.values.iter().flatten().any(|v| *v == a))
                        })
                        .map(|(_, c)| c.name.clone())
                        .unwrap_or_default();
                    return Err(Error::new(
                        "referential integrity violation",
                        format!(
                            "Table {tname} column {col} row {u} references nonexistent row {x} in table {rt}."
                        ),
                    ));
                }
            }
        }
        let refs = |delta: &HashMap<(String, Uuid), i64>, t: &str, u: &Uuid| -> i64 {
            self.db.strong_refs(t, u) as i64 + delta.get(&(t.to_string(), *u)).copied().unwrap_or(0)
        };
        for (_, tname, u) in &ordered {
            let tr = &self.rows[tname][u];
            if tr.old.is_some() && tr.new.is_none() {
                let n = refs(&delta, tname, u);
                if n > 0 {
                    return Err(Error::new(
                        "referential integrity violation",
                        format!(
                            "cannot delete {tname} row {u} because of {n} remaining reference(s)"
                        ),
                    ));
                }
            }
        }
        // Garbage collection.
        loop {
            let mut victims = Vec::new();
            for (tname, rows) in &self.rows {
                if schema.is_root(tname) {
                    continue;
                }
                for (u, tr) in rows {
                    if tr.new.is_some() && refs(&delta, tname, u) <= 0 {
                        victims.push((tname.clone(), *u));
                    }
                }
            }
            for ((tname, u), d) in &delta {
                if *d < 0
                    && !schema.is_root(tname)
                    && !self.rows.get(tname).is_some_and(|t| t.contains_key(u))
                    && self.exists(tname, u)
                    && refs(&delta, tname, u) <= 0
                {
                    victims.push((tname.clone(), *u));
                }
            }
            if victims.is_empty() {
                break;
            }
            for (tname, u) in victims {
                let Some(ts) = schema.table(&tname) else {
                    continue;
                };
                if let Some(cur) = self.get(&tname, &u) {
                    for_each_ref(ts, &cur, true, |rt, x| {
                        *delta.entry((rt.to_string(), x)).or_default() -= 1
                    });
                }
                self.put(&tname, u, None);
            }
            for t in self.rows.values_mut() {
                t.retain(|_, tr| !(tr.old.is_none() && tr.new.is_none()));
            }
        }
        // maxRows.
        for (tname, rows) in &self.rows {
            let Some(max) = schema.table(tname).and_then(|t| t.max_rows) else {
                continue;
            };
            let mut n = self.db.table(tname).map_or(0, |t| t.len()) as i64;
            for tr in rows.values() {
                n += tr.new.is_some() as i64 - tr.old.is_some() as i64;
            }
            if n > max as i64 {
                return Err(Error::constraint(format!(
                    "transaction causes \"{tname}\" table to contain {n} rows, greater than the schema-defined limit of {max} row(s)"
                )));
            }
        }
        self.remove_weak_refs()?;
        self.check_indexes()?;
        // Build the change set.
        let mut changes = Changes::default();
        for (tname, rows) in std::mem::take(&mut self.rows) {
            let mut out = BTreeMap::new();
            for (u, tr) in rows {
                let new = tr.new.map(|mut r| {
                    r.version = Uuid::random();
                    Arc::new(r)
                });
                let changed = if tr.old.is_some() && new.is_some() {
                    let bits = tr.changed.iter().enumerate();
                    bits.filter(|(_, &c)| c).map(|(i, _)| i).collect()
                } else {
                    Vec::new()
                };
                out.insert(
                    u,
                    RowChange {
                        old: tr.old,
                        new,
                        changed,
                    },
                );
            }
            if !out.is_empty() {
                changes.tables.insert(tname, out);
            }
        }
        changes.table_order = std::mem::take(&mut self.table_order)
            .into_iter()
            .filter(|t| changes.tables.contains_key(t))
            .collect();
        Ok(changes)
    }

    fn remove_weak_refs(&mut self) -> Result<(), Error> {
        let schema = self.db.schema.clone();
        // Tables with rows deleted in this transaction.
        let deleted_tables: HashSet<String> = self
            .rows
            .iter()
            .filter(|(_, rows)| rows.values().any(|tr| tr.new.is_none()))
            .map(|(t, _)| t.clone())
            .collect();
        let mut candidates: Vec<(String, Uuid)> = Vec::new();
        for (tname, ts) in &schema.tables {
            let weak_targets: Vec<&str> = ts
                .columns
                .iter()
                .flat_map(|c| [Some(&c.ty.key), c.ty.value.as_ref()])
                .flatten()
                .filter(|b| b.is_weak_ref())
                .filter_map(|b| b.ref_table.as_deref())
                .collect();
            if weak_targets.is_empty() {
                continue;
            }
            if let Some(rows) = self.rows.get(tname) {
                candidates.extend(
                    rows.iter()
                        .filter(|(_, tr)| tr.new.is_some())
                        .map(|(u, _)| (tname.clone(), *u)),
                );
            }
            if weak_targets.iter().any(|t| deleted_tables.contains(*t)) {
                if let Some(t) = self.db.table(tname) {
                    for u in t.rows.keys() {
                        if !self.rows.get(tname).is_some_and(|r| r.contains_key(u)) {
                            candidates.push((tname.clone(), *u));
                        }
                    }
                }
            }
        }
        for (tname, u) in candidates {
            let Some(ts) = schema.table(&tname) else {
                continue;
            };
            let Some(mut row) = self.get(&tname, &u) else {
                continue;
            };
            let mut changed = false;
            for (i, c) in ts.columns.iter().enumerate() {
                let key_weak = c.ty.key.is_weak_ref();
                let val_weak = c.ty.value.as_ref().is_some_and(|v| v.is_weak_ref());
                if !key_weak && !val_weak {
                    continue;
                }
                let d = &row.fields[i];
                let mut keep_keys = Vec::new();
                let mut keep_vals = Vec::new();
                let mut removed = 0u32;
                for (k, v) in d.iter() {
                    let dangling = |a: &Atom, rt: Option<&str>| match (a.as_uuid(), rt) {
                        (Some(x), Some(rt)) => !self.exists(rt, &x),
                        _ => false,
                    };
                    let bad = (key_weak && dangling(k, c.ty.key.ref_table.as_deref()))
                        || (val_weak
                            && v.is_some_and(|v| {
                                dangling(
                                    v,
                                    c.ty.value.as_ref().and_then(|b| b.ref_table.as_deref()),
                                )
                            }));
                    if bad {
                        removed += 1;
                    } else {
                        keep_keys.push(k.clone());
                        if let Some(v) = v {
                            keep_vals.push(v.clone());
                        }
                    }
                }
                if removed > 0 {
                    if (keep_keys.len() as u64) < c.ty.n_min as u64 {
                        return Err(Error::constraint(format!(
                            "Deletion of {removed} weak reference(s) to deleted (or never-existing) rows from column \"{}\" in \"{tname}\" row {u} caused this column to become empty, but constraints on this column disallow an empty column.",
                            c.name
                        )));
                    }
                    row.fields[i] = Datum {
                        keys: keep_keys,
                        values: d.values.as_ref().map(|_| keep_vals),
                    };
                    changed = true;
                }
            }
            if changed {
                self.put(&tname, u, Some(row));
            }
        }
        Ok(())
    }

    fn check_indexes(&self) -> Result<(), Error> {
        for (tname, rows) in &self.rows {
            let Some(ts) = self.table_schema(tname) else {
                continue;
            };
            if ts.indexes.is_empty() || !rows.values().any(|tr| tr.new.is_some()) {
                continue;
            }
            let committed = self.db.table(tname);
            for (n, index) in ts.indexes.iter().enumerate() {
                let mut seen: BTreeMap<Vec<Datum>, (Uuid, &'static str)> = BTreeMap::new();
                let committed_index = committed.and_then(|t| t.indexes.get(n));
                let mut changed: Vec<(&Uuid, &TxnRow)> =
                    rows.iter().filter(|(_, tr)| tr.new.is_some()).collect();
                changed.sort_by_key(|(_, tr)| tr.seq);
                for (u, tr) in changed {
                    let Some(new) = &tr.new else { continue };
                    let what = if tr.old.is_some() {
                        "existed in the database before this transaction, which modified some of the row's columns"
                    } else {
                        "was inserted by this transaction"
                    };
                    let key = project(new, index);
                    let unmodified = committed_index
                        .and_then(|ix| ix.get(&key))
                        .filter(|other| **other != *u && !rows.contains_key(*other))
                        .map(|other| {
                            (*other, "existed in the database before this transaction and was not modified by the transaction")
                        });
                    if let Some((first, first_what)) =
                        unmodified.as_ref().or_else(|| seen.get(&key))
                    {
                        let values: Vec<String> = key
                            .iter()
                            .zip(index)
                            .map(|(d, &c)| d.to_text(&ts.column_type(c)))
                            .collect();
                        let names: Vec<String> = index
                            .iter()
                            .map(|&c| format!("\"{}\"", ts.column_name(c)))
                            .collect();
                        let (vals, cols) = if index.len() == 1 {
                            (values.join(""), format!("column {}", names[0]))
                        } else {
                            (
                                english_list(&values),
                                format!("columns {}", english_list(&names)),
                            )
                        };
                        return Err(Error::constraint(format!(
                            "Transaction causes multiple rows in \"{tname}\" table to have identical values ({vals}) for index on {cols}.  First row, with UUID {first}, {first_what}.  Second row, with UUID {u}, {what}."
                        )));
                    }
                    seen.insert(key, (*u, what));
                }
            }
        }
        Ok(())
    }
}

fn english_list(items: &[String]) -> String {
    match items.len() {
        0 => String::new(),
        1 => items[0].clone(),
        2 => format!("{} and {}", items[0], items[1]),
        n => format!("{}, and {}", items[..n - 1].join(", "), items[n - 1]),
    }
}

/// Builds the reply object of a `select` row for `columns` (helper for callers
/// that format rows themselves).
pub fn row_to_json(
    table: &TableSchema,
    row: &Row,
    columns: Option<&[ColumnRef]>,
) -> Map<String, Value> {
    match row.to_json(table, columns) {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::DatabaseSchema;

    fn db() -> Database {
        let schema = DatabaseSchema::from_json(&json!({"name":"T","tables":{
            "A":{"columns":{
                "i":{"type":"integer"},
                "k":{"type":"string","mutable":false},
                "ref":{"type":{"key":{"type":"uuid","refTable":"B"},"min":0,"max":"unlimited"}},
                "wref":{"type":{"key":{"type":"uuid","refTable":"B","refType":"weak"},"min":0,"max":"unlimited"}}},
                "indexes":[["i","k"]],"isRoot":true,"maxRows":3},
            "B":{"columns":{"name":{"type":"string"}}}}}))
        .unwrap();
        Database::new(schema)
    }

    fn tx(db: &mut Database, ops: Value) -> Value {
        let mut p = vec![json!("T")];
        p.extend(ops.as_array().unwrap().iter().cloned());
        db.transact(&Value::Array(p)).0
    }

    #[test]
    fn insert_select_update_delete() {
        let mut d = db();
        let r = tx(
            &mut d,
            json!([{"op":"insert","table":"A","row":{"i":1,"k":"a"},"uuid-name":"x"},
                                  {"op":"select","table":"A","where":[["_uuid","==",["named-uuid","x"]]],"columns":["i"]}]),
        );
        assert_eq!(r[1], json!({"rows":[{"i":1}]}));
        let r = tx(
            &mut d,
            json!([{"op":"update","table":"A","where":[["i","==",1]],"row":{"i":2}}]),
        );
        assert_eq!(r, json!([{"count":1}]));
        let r = tx(
            &mut d,
            json!([{"op":"delete","table":"A","where":[["i","==",2]]}]),
        );
        assert_eq!(r, json!([{"count":1}]));
        assert!(d.tables["A"].is_empty());
    }

    #[test]
    fn strong_refs_block_deletion_and_gc_collects() {
        let mut d = db();
        // An unreferenced non-root row disappears at commit.
        tx(
            &mut d,
            json!([{"op":"insert","table":"B","row":{"name":"lonely"}}]),
        );
        assert!(d.tables["B"].is_empty());
        tx(
            &mut d,
            json!([{"op":"insert","table":"B","row":{"name":"b"},"uuid-name":"b"},
                          {"op":"insert","table":"A","row":{"i":1,"ref":["named-uuid","b"]}}]),
        );
        assert_eq!(d.tables["B"].len(), 1);
        let b = *d.tables["B"].rows.keys().next().unwrap();
        let r = tx(&mut d, json!([{"op":"delete","table":"B","where":[]}]));
        assert_eq!(r[1]["error"], "referential integrity violation");
        assert_eq!(
            r[1]["details"],
            format!("cannot delete B row {b} because of 1 remaining reference(s)")
        );
        // Dropping the reference collects the row.
        tx(
            &mut d,
            json!([{"op":"update","table":"A","where":[],"row":{"ref":["set",[]]}}]),
        );
        assert!(d.tables["B"].is_empty());
    }

    #[test]
    fn weak_refs_are_removed() {
        let mut d = db();
        tx(
            &mut d,
            json!([{"op":"insert","table":"B","row":{"name":"b"},"uuid-name":"b"},
                          {"op":"insert","table":"A","row":{"i":1,"ref":["named-uuid","b"],"wref":["named-uuid","b"]}}]),
        );
        let (_, commit) = d.transact(
            &json!(["T",{"op":"update","table":"A","where":[],"row":{"ref":["set",[]]}}]),
        );
        let a = d.tables["A"].rows.values().next().unwrap();
        let wref = d.schema.tables["A"].by_name["wref"];
        assert!(a.fields[wref].is_empty());
        let changes = commit.unwrap().changes;
        assert!(changes.tables["B"].values().all(|c| c.new.is_none()));
        assert!(changes.tables["A"]
            .values()
            .all(|c| c.changed.contains(&wref)));
    }

    #[test]
    fn constraints_at_commit() {
        let mut d = db();
        let r = tx(
            &mut d,
            json!([{"op":"insert","table":"A","row":{"i":1}},{"op":"insert","table":"A","row":{"i":1}}]),
        );
        assert_eq!(r[2]["error"], "constraint violation");
        assert!(r[2]["details"].as_str().unwrap().starts_with(
            "Transaction causes multiple rows in \"A\" table to have identical values (1 and \"\") for index on columns \"i\" and \"k\"."));
        let r = tx(
            &mut d,
            json!([{"op":"insert","table":"A","row":{"i":1}},{"op":"insert","table":"A","row":{"i":2}},
                                  {"op":"insert","table":"A","row":{"i":3}},{"op":"insert","table":"A","row":{"i":4}}]),
        );
        assert_eq!(r[4]["details"], "transaction causes \"A\" table to contain 4 rows, greater than the schema-defined limit of 3 row(s)");
        let r = tx(
            &mut d,
            json!([{"op":"insert","table":"A","row":{"ref":["uuid","5939840d-1ad2-4362-aa0e-e340a8fe7efa"]}}]),
        );
        assert_eq!(r[1]["error"], "referential integrity violation");
        assert!(d.tables["A"].is_empty());
    }

    #[test]
    fn index_against_committed_rows() {
        let mut d = db();
        tx(
            &mut d,
            json!([{"op":"insert","table":"A","row":{"i":1}},{"op":"insert","table":"A","row":{"i":2}}]),
        );
        let r = tx(&mut d, json!([{"op":"insert","table":"A","row":{"i":1}}]));
        let details = r[1]["details"].as_str().unwrap();
        assert!(details.contains("existed in the database before this transaction and was not modified by the transaction.  Second row"), "{details}");
        // Swapping keys between two rows is fine.
        let r = tx(
            &mut d,
            json!([{"op":"update","table":"A","where":[["i","==",1]],"row":{"i":3}},
                                  {"op":"update","table":"A","where":[["i","==",2]],"row":{"i":1}},
                                  {"op":"update","table":"A","where":[["i","==",3]],"row":{"i":2}}]),
        );
        assert_eq!(r, json!([{"count":1},{"count":1},{"count":1}]));
        let r = tx(&mut d, json!([{"op":"insert","table":"A","row":{"i":2}}]));
        assert_eq!(r[1]["error"], "constraint violation");
        let r = tx(&mut d, json!([{"op":"insert","table":"A","row":{"i":3}}]));
        assert!(r[0]["uuid"].is_array(), "{r}");
    }

    #[test]
    fn read_only_sessions_may_only_read() {
        let d = db();
        let ro = ExecOptions {
            read_only: true,
            ..Default::default()
        };
        let p = json!(["T",{"op":"select","table":"A","where":[],"columns":["i"]},
            {"op":"comment","comment":"c"},{"op":"insert","table":"A","row":{}},{"op":"select","table":"A","where":[]}]);
        let Outcome::Done { results, commit } = d.execute(&p, &ro).unwrap() else {
            panic!("blocked")
        };
        assert!(commit.is_none());
        assert_eq!(
            results,
            json!([{"rows":[]},{},{"error":"not allowed",
                "details":"insert operation not allowed when database server is in read only mode"},null])
        );
        // The operation's own errors come first.
        let p = json!(["T",{"op":"insert","table":"A","row":{"nope":1}}]);
        let Outcome::Done { results, .. } = d.execute(&p, &ro).unwrap() else {
            panic!("blocked")
        };
        assert_eq!(results[0]["error"], "unknown column");
        let p = json!(["T",{"op":"commit","durable":false}]);
        let Outcome::Done { results, .. } = d.execute(&p, &ro).unwrap() else {
            panic!("blocked")
        };
        assert_eq!(results[0]["error"], "not allowed");
    }

    #[test]
    fn wait_abort_assert_comment() {
        let d = db();
        let p = json!(["T",{"op":"wait","table":"A","where":[],"until":"==","rows":[{"i":1}],"columns":["i"],"timeout":100}]);
        match d.execute(&p, &ExecOptions::default()).unwrap() {
            Outcome::Blocked { timeout_ms, .. } => assert_eq!(timeout_ms, Some(100)),
            other => panic!("{other:?}"),
        }
        let late = ExecOptions {
            elapsed_ms: 100,
            ..Default::default()
        };
        match d.execute(&p, &late).unwrap() {
            Outcome::Done { results, commit } => {
                assert_eq!(results[0]["error"], "timed out");
                assert_eq!(results[0]["details"], "\"wait\" timed out after 100 ms");
                assert!(commit.is_none());
            }
            other => panic!("{other:?}"),
        }
        let mut d = d;
        assert_eq!(
            tx(&mut d, json!([{"op":"abort"}])),
            json!([{"error":"aborted","details":"aborted by request"}])
        );
        assert_eq!(
            tx(&mut d, json!([{"op":"assert","lock":"l"}]))[0]["error"],
            "not owner"
        );
        let held = |n: &str| n == "l";
        let opts = ExecOptions {
            lock_held: Some(&held),
            elapsed_ms: 0,
            read_only: false,
            access: Access::default(),
        };
        match d
            .execute(
                &json!(["T",{"op":"assert","lock":"l"},{"op":"comment","comment":"hi"},
                               {"op":"commit","durable":true}]),
                &opts,
            )
            .unwrap()
        {
            Outcome::Done { results, commit } => {
                assert_eq!(results, json!([{}, {}, {}]));
                let c = commit.unwrap();
                assert_eq!(c.comment.as_deref(), Some("hi"));
                assert!(c.durable);
                assert!(c.changes.is_empty());
            }
            other => panic!("{other:?}"),
        }
        let e = d
            .execute(&json!(["X"]), &ExecOptions::default())
            .unwrap_err();
        assert_eq!(
            e.details.unwrap(),
            "database name expected as first parameter"
        );
    }
}
