//! The in-memory replica of a monitored database: rows of the monitored
//! tables (unmonitored columns hold their defaults), built from the initial
//! monitor reply and kept current by `update`/`update2`/`update3`
//! notifications, with change tracking (which rows and columns changed
//! since the last [`Replica::take_changes`]).
//!
//! No I/O here: the protocol engine ([`super::IdlCore`]) feeds it JSON.

use crate::datum::Datum;
use crate::error::Error;
use crate::row::Row;
use crate::schema::{ColumnRef, DatabaseSchema, TableSchema};
use crate::uuid::Uuid;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};

/// The notification format an update is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UpdateFormat {
    /// `monitor` / `update`: `{"old": row, "new": row}`.
    V1,
    /// `monitor_cond`, `monitor_cond_since` / `update2`, `update3`:
    /// `{"initial"|"insert": row}`, `{"modify": diff}`, `{"delete": null}`.
    V2,
}

/// How a row changed since changes were last taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChangeKind {
    Inserted,
    Modified,
    Deleted,
}

/// One tracked row change.
#[derive(Clone, Debug, PartialEq)]
pub struct TrackedChange {
    pub table: String,
    pub uuid: Uuid,
    pub kind: ChangeKind,
    /// Names of the columns that changed (every monitored column for
    /// inserts and deletes).
    pub columns: BTreeSet<String>,
    /// The row as it was before the first change since the last take
    /// (`None` for rows inserted since then).
    pub old: Option<Row>,
}

#[derive(Clone, Debug)]
struct Tracked {
    kind: ChangeKind,
    columns: BTreeSet<usize>,
    old: Option<Row>,
}

/// The iteration order of upstream's IDL row table: an OVS `hmap` keyed
/// by the first 32 bits of the UUID, where each insert goes to the head of
/// its bucket and growing the table reverses bucket chains. Tools print
/// rows in this order (`ovs-vsctl list`), so it is kept exactly.
#[derive(Clone, Debug, Default)]
struct HashOrder {
    mask: usize,
    buckets: Vec<Vec<Uuid>>,
    n: usize,
}

fn uuid_hash(u: &Uuid) -> usize {
    u32::from_be_bytes([u.0[0], u.0[1], u.0[2], u.0[3]]) as usize
}

impl HashOrder {
    fn insert(&mut self, u: Uuid) {
        if self.buckets.is_empty() {
            self.buckets.push(Vec::new());
        }
        self.buckets[uuid_hash(&u) & self.mask].insert(0, u);
        self.n += 1;
        if self.n / 2 > self.mask {
            let new_mask = rpc::json_text::hmap_mask(self.n);
            if new_mask > self.mask {
                let mut grown = vec![Vec::new(); new_mask + 1];
                for b in &self.buckets {
                    for x in b {
                        grown[uuid_hash(x) & new_mask].insert(0, *x);
                    }
                }
                self.buckets = grown;
                self.mask = new_mask;
            }
        }
    }

    fn remove(&mut self, u: &Uuid) {
        if let Some(b) = self.buckets.get_mut(uuid_hash(u) & self.mask) {
            if let Some(i) = b.iter().position(|x| x == u) {
                b.remove(i);
                self.n -= 1;
            }
        }
    }

    fn iter(&self) -> impl Iterator<Item = &Uuid> {
        self.buckets.iter().flatten()
    }
}

/// One monitored table of the replica.
#[derive(Clone, Debug)]
pub struct TableReplica {
    pub schema: TableSchema,
    /// Per schema column: whether the replica receives it.
    monitored: Vec<bool>,
    rows: BTreeMap<Uuid, Row>,
    order: HashOrder,
    tracked: BTreeMap<Uuid, Tracked>,
}

impl TableReplica {
    fn new(schema: TableSchema, monitored: Vec<bool>) -> TableReplica {
        TableReplica {
            schema,
            monitored,
            rows: BTreeMap::new(),
            order: HashOrder::default(),
            tracked: BTreeMap::new(),
        }
    }

    /// The rows, in UUID order.
    pub fn rows(&self) -> impl Iterator<Item = &Row> {
        self.rows.values()
    }

    /// The rows in the order upstream's IDL iterates them (see
    /// [`HashOrder`]), which tools print.
    pub fn rows_in_idl_order(&self) -> impl Iterator<Item = &Row> {
        self.order.iter().filter_map(|u| self.rows.get(u))
    }

    pub fn row(&self, uuid: &Uuid) -> Option<&Row> {
        self.rows.get(uuid)
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// True if the replica receives column `name`.
    pub fn is_monitored(&self, name: &str) -> bool {
        match self.schema.by_name.get(name) {
            Some(&i) => self.monitored.get(i).copied().unwrap_or(false),
            None => false,
        }
    }

    /// Names of the monitored columns, in schema order.
    pub fn monitored_columns(&self) -> Vec<String> {
        self.schema
            .columns
            .iter()
            .zip(&self.monitored)
            .filter(|(_, m)| **m)
            .map(|(c, _)| c.name.clone())
            .collect()
    }

    fn track(&mut self, uuid: Uuid, kind: ChangeKind, columns: &[usize], old: Option<&Row>) {
        match self.tracked.get_mut(&uuid) {
            Some(t) => {
                t.columns.extend(columns.iter().copied());
                t.kind = match (t.kind, kind) {
                    // Inserted then deleted within one period: nothing to report.
                    (ChangeKind::Inserted, ChangeKind::Deleted) => {
                        self.tracked.remove(&uuid);
                        return;
                    }
                    (ChangeKind::Inserted, _) => ChangeKind::Inserted,
                    (ChangeKind::Deleted, ChangeKind::Inserted) => ChangeKind::Modified,
                    (_, k) => k,
                };
            }
            None => {
                self.tracked.insert(
                    uuid,
                    Tracked {
                        kind,
                        columns: columns.iter().copied().collect(),
                        old: old.cloned(),
                    },
                );
            }
        }
    }

    fn all_monitored(&self) -> Vec<usize> {
        (0..self.monitored.len())
            .filter(|&i| self.monitored[i])
            .collect()
    }

    /// Parses a row object of `table` into (column index, datum) pairs.
    fn parse_row(&self, json: &Value, diff: bool) -> Result<Vec<(usize, Datum)>, Error> {
        let Some(obj) = json.as_object() else {
            return Err(Error::syntax(Some(json), "<row> is not an object"));
        };
        let mut out = Vec::with_capacity(obj.len());
        for (name, value) in obj {
            // Columns the server has but we do not know are ignored, as
            // upstream's IDL does with columns newer than its schema.
            let Some(&i) = self.schema.by_name.get(name) else {
                continue;
            };
            let col = &self.schema.columns[i];
            let ty = if diff && col.ty.is_composite() {
                col.ty.relaxed()
            } else {
                col.ty.clone()
            };
            let d = Datum::from_json_unchecked(&ty, value, None)
                .map_err(|e| e.context(&format!("{}.{}", self.schema.name, name)))?;
            out.push((i, d));
        }
        Ok(out)
    }

    fn insert_row(&mut self, uuid: Uuid, fields: Vec<(usize, Datum)>) {
        let mut row = Row::new_default(&self.schema, uuid);
        row.version = Uuid::ZERO;
        for (i, d) in fields {
            row.fields[i] = d;
        }
        let old = self.rows.insert(uuid, row);
        if old.is_none() {
            self.order.insert(uuid);
        }
        let cols = self.all_monitored();
        match old {
            // An insert of a row we already have (resync): a modification.
            Some(old) => self.track(uuid, ChangeKind::Modified, &cols, Some(&old)),
            None => self.track(uuid, ChangeKind::Inserted, &cols, None),
        }
    }

    fn delete_row(&mut self, uuid: Uuid) {
        if let Some(old) = self.rows.remove(&uuid) {
            self.order.remove(&uuid);
            let cols = self.all_monitored();
            self.track(uuid, ChangeKind::Deleted, &cols, Some(&old));
        }
    }

    fn modify_row(&mut self, uuid: Uuid, fields: Vec<(usize, Datum)>, diff: bool) {
        let Some(row) = self.rows.get_mut(&uuid) else {
            vlog::warn!(
                "ovsdb_idl",
                "cannot modify missing row {} in table {}",
                uuid,
                self.schema.name
            );
            return;
        };
        let old = row.clone();
        let mut changed = Vec::new();
        for (i, d) in fields {
            let composite = self.schema.columns[i].ty.is_composite();
            let new = if diff && composite {
                row.fields[i].apply_diff(&d)
            } else {
                d
            };
            if row.fields[i] != new {
                row.fields[i] = new;
                changed.push(i);
            }
        }
        if !changed.is_empty() {
            self.track(uuid, ChangeKind::Modified, &changed, Some(&old));
        }
    }
}

/// What to monitor in one table.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TableSpec {
    /// Column names (`None`: every column of the server's schema).
    pub columns: Option<Vec<String>>,
    /// A `where` condition for `monitor_cond` (`None`: every row).
    pub condition: Option<Value>,
}

/// What the replica monitors: tables by name.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MonitorSpec {
    pub tables: BTreeMap<String, TableSpec>,
}

impl MonitorSpec {
    /// Every column of every table of `schema`.
    pub fn all(schema: &DatabaseSchema) -> MonitorSpec {
        MonitorSpec {
            tables: schema
                .tables
                .keys()
                .map(|t| (t.clone(), TableSpec::default()))
                .collect(),
        }
    }

    /// Adds `table` to the monitor: every column if `columns` is empty,
    /// else `columns` in addition to those already chosen.
    pub fn add_columns(&mut self, table: &str, columns: &[&str]) {
        let spec = self
            .tables
            .entry(table.to_string())
            .or_insert_with(|| TableSpec {
                columns: Some(Vec::new()),
                condition: None,
            });
        if columns.is_empty() {
            spec.columns = None;
            return;
        }
        if let Some(cols) = spec.columns.as_mut() {
            for c in columns {
                if !cols.iter().any(|x| x == c) {
                    cols.push(c.to_string());
                }
            }
        }
    }

    /// Monitors only `columns` of `table` (replacing an earlier choice).
    pub fn set_columns(&mut self, table: &str, columns: &[&str]) {
        let spec = self.tables.entry(table.to_string()).or_default();
        spec.columns = Some(columns.iter().map(|c| c.to_string()).collect());
    }
}

/// The replica of one database.
#[derive(Clone, Debug)]
pub struct Replica {
    schema: DatabaseSchema,
    tables: BTreeMap<String, TableReplica>,
    /// The last transaction id seen (`monitor_cond_since`).
    last_id: Uuid,
    seqno: u64,
}

impl Replica {
    /// An empty replica of `schema` monitoring what `spec` asks for that
    /// the schema has (unknown tables and columns are left out, as upstream
    /// leaves out what an older server lacks).
    pub fn new(schema: DatabaseSchema, spec: &MonitorSpec) -> Replica {
        let mut tables = BTreeMap::new();
        for (name, tspec) in &spec.tables {
            let Some(ts) = schema.tables.get(name) else {
                continue;
            };
            let monitored = ts
                .columns
                .iter()
                .map(|c| match &tspec.columns {
                    None => true,
                    Some(cols) => cols.contains(&c.name),
                })
                .collect();
            tables.insert(name.clone(), TableReplica::new(ts.clone(), monitored));
        }
        Replica {
            schema,
            tables,
            last_id: Uuid::ZERO,
            seqno: 0,
        }
    }

    pub fn schema(&self) -> &DatabaseSchema {
        &self.schema
    }

    /// Changes every time an update is applied.
    pub fn seqno(&self) -> u64 {
        self.seqno
    }

    /// The id of the last transaction reflected (zero when unknown).
    pub fn last_id(&self) -> Uuid {
        self.last_id
    }

    pub fn table(&self, name: &str) -> Option<&TableReplica> {
        self.tables.get(name)
    }

    /// Names of the monitored tables.
    pub fn table_names(&self) -> impl Iterator<Item = &str> {
        self.tables.keys().map(String::as_str)
    }

    pub fn row(&self, table: &str, uuid: &Uuid) -> Option<&Row> {
        self.tables.get(table)?.rows.get(uuid)
    }

    /// A column of a row, by name.
    pub fn get(&self, table: &str, uuid: &Uuid, column: &str) -> Option<&Datum> {
        let t = self.tables.get(table)?;
        let row = t.rows.get(uuid)?;
        match t.schema.column(column)? {
            ColumnRef::Index(i) => row.fields.get(i),
            _ => None,
        }
    }

    /// The `monitor-requests` object for `spec`, limited to the replica's
    /// tables and columns. `with_where` adds the conditions
    /// (`monitor_cond`); plain `monitor` has none.
    pub fn monitor_requests(&self, spec: &MonitorSpec, with_where: bool) -> Value {
        let mut m = Map::new();
        for (name, t) in &self.tables {
            let mut req = Map::new();
            let cols: Vec<Value> = t
                .monitored_columns()
                .into_iter()
                .map(Value::String)
                .collect();
            req.insert("columns".into(), Value::Array(cols));
            if with_where {
                if let Some(c) = spec.tables.get(name).and_then(|s| s.condition.clone()) {
                    req.insert("where".into(), c);
                }
            }
            m.insert(name.clone(), Value::Array(vec![Value::Object(req)]));
        }
        Value::Object(m)
    }

    /// Forgets every row (a resync from scratch follows). Deleted rows are
    /// not reported: the fresh contents are compared by the caller through
    /// [`Replica::take_changes`] as inserts and modifications.
    pub fn clear(&mut self) {
        for t in self.tables.values_mut() {
            let uuids: Vec<Uuid> = t.rows.keys().copied().collect();
            for u in uuids {
                t.delete_row(u);
            }
        }
        self.last_id = Uuid::ZERO;
        self.seqno += 1;
    }

    /// Applies a `<table-updates>` (V1) or `<table-updates2>` (V2) object.
    pub fn apply_updates(&mut self, updates: &Value, format: UpdateFormat) -> Result<(), Error> {
        let Some(obj) = updates.as_object() else {
            return Err(Error::syntax(
                Some(updates),
                "<table-updates> is not an object",
            ));
        };
        for (tname, rows) in obj {
            let Some(t) = self.tables.get_mut(tname) else {
                return Err(Error::syntax(
                    Some(updates),
                    format!("<table-updates> includes unknown table \"{tname}\""),
                ));
            };
            let Some(row_map) = rows.as_object() else {
                return Err(Error::syntax(Some(rows), "<table-update> is not an object"));
            };
            // Upstream walks the members in its string hash table's order.
            let members: Vec<(&String, &Value)> = row_map.iter().collect();
            let keys: Vec<&str> = members.iter().map(|(k, _)| k.as_str()).collect();
            for (uuid_text, ru) in rpc::json_text::shash_order(&keys)
                .into_iter()
                .map(|i| members[i])
            {
                let Some(uuid) = Uuid::parse(uuid_text) else {
                    return Err(Error::syntax(
                        Some(rows),
                        format!("<table-update> for table \"{tname}\" contains bad UUID \"{uuid_text}\" as member name"),
                    ));
                };
                match format {
                    UpdateFormat::V1 => apply_v1(t, uuid, ru)?,
                    UpdateFormat::V2 => apply_v2(t, uuid, ru)?,
                }
            }
        }
        self.seqno += 1;
        Ok(())
    }

    /// Applies a `monitor_cond_since` reply `[found, last-txn-id, updates]`:
    /// when the server could not continue from our last id, the replica
    /// starts over from the updates.
    pub fn apply_since_reply(&mut self, reply: &Value) -> Result<(), Error> {
        let Some([found, last, updates]) = reply.as_array().map(Vec::as_slice) else {
            return Err(Error::syntax(Some(reply), "bad monitor_cond_since reply"));
        };
        if found.as_bool() != Some(true) {
            self.clear();
        }
        self.apply_updates(updates, UpdateFormat::V2)?;
        if let Some(u) = last.as_str().and_then(Uuid::parse) {
            self.last_id = u;
        }
        Ok(())
    }

    /// Records the transaction id of an `update3`.
    pub fn set_last_id(&mut self, id: Uuid) {
        self.last_id = id;
    }

    /// The changes since the last call, in (table, UUID) order.
    pub fn take_changes(&mut self) -> Vec<TrackedChange> {
        let mut out = Vec::new();
        for (name, t) in &mut self.tables {
            let tracked = std::mem::take(&mut t.tracked);
            for (uuid, tr) in tracked {
                out.push(TrackedChange {
                    table: name.clone(),
                    uuid,
                    kind: tr.kind,
                    columns: tr
                        .columns
                        .iter()
                        .map(|&i| t.schema.columns[i].name.clone())
                        .collect(),
                    old: tr.old,
                });
            }
        }
        out
    }

    /// True if anything changed since changes were last taken.
    pub fn has_changes(&self) -> bool {
        self.tables.values().any(|t| !t.tracked.is_empty())
    }
}

fn apply_v1(t: &mut TableReplica, uuid: Uuid, ru: &Value) -> Result<(), Error> {
    let Some(obj) = ru.as_object() else {
        return Err(Error::syntax(Some(ru), "<row-update> is not an object"));
    };
    match obj.get("new") {
        None | Some(Value::Null) => t.delete_row(uuid),
        Some(new) => {
            let fields = t.parse_row(new, false)?;
            if t.rows.contains_key(&uuid) {
                t.modify_row(uuid, fields, false);
            } else {
                t.insert_row(uuid, fields);
            }
        }
    }
    Ok(())
}

fn apply_v2(t: &mut TableReplica, uuid: Uuid, ru: &Value) -> Result<(), Error> {
    let Some(obj) = ru.as_object() else {
        return Err(Error::syntax(Some(ru), "<row-update2> is not an object"));
    };
    let Some((op, body)) = obj.iter().next().filter(|_| obj.len() == 1) else {
        return Err(Error::syntax(
            Some(ru),
            "<row-update2> has more or less than one member",
        ));
    };
    match op.as_str() {
        "initial" | "insert" => {
            let fields = t.parse_row(body, false)?;
            t.insert_row(uuid, fields);
        }
        "modify" => {
            let fields = t.parse_row(body, true)?;
            t.modify_row(uuid, fields, true);
        }
        "delete" => t.delete_row(uuid),
        _ => {
            return Err(Error::syntax(
                Some(ru),
                format!("unknown <row-update2> operation \"{op}\""),
            ))
        }
    }
    Ok(())
}

/// A small schema shared by the IDL's unit tests.
#[cfg(test)]
pub(crate) mod tests_support {
    use serde_json::{json, Value};

    pub fn schema_json() -> Value {
        json!({"name": "D", "tables": {
            "B": {"columns": {
                "name": {"type": "string"},
                "ports": {"type": {"key": {"type": "uuid", "refTable": "P"}, "min": 0, "max": "unlimited"}},
                "ext": {"type": {"key": "string", "value": "string", "min": 0, "max": "unlimited"}},
                "n": {"type": "integer"}}, "isRoot": true},
            "P": {"columns": {"name": {"type": "string"}}}}})
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::datum::Atom;
    use serde_json::json;

    fn schema() -> DatabaseSchema {
        DatabaseSchema::from_json(&super::tests_support::schema_json()).unwrap()
    }

    fn uuid(n: u8) -> Uuid {
        Uuid([n; 16])
    }

    #[test]
    fn update2_initial_modify_delete_tracks_changes() {
        let mut r = Replica::new(schema(), &MonitorSpec::all(&schema()));
        let u = uuid(1).to_string();
        r.apply_updates(
            &json!({"B": {u.clone(): {"initial": {"name": "br0", "ext": ["map", [["a", "1"]]]}}}}),
            UpdateFormat::V2,
        )
        .unwrap();
        let ch = r.take_changes();
        assert_eq!(ch.len(), 1);
        assert_eq!(ch[0].kind, ChangeKind::Inserted);
        assert!(r.take_changes().is_empty());

        // A map diff: remove a=1, add b=2.
        r.apply_updates(
            &json!({"B": {u.clone(): {"modify": {"ext": ["map", [["a", "1"], ["b", "2"]]], "n": 5}}}}),
            UpdateFormat::V2,
        )
        .unwrap();
        let ext = r.get("B", &uuid(1), "ext").unwrap();
        assert_eq!(ext.keys, vec![Atom::String("b".into())]);
        assert_eq!(
            r.get("B", &uuid(1), "n").unwrap().keys,
            vec![Atom::Integer(5)]
        );
        let ch = r.take_changes();
        assert_eq!(ch[0].kind, ChangeKind::Modified);
        assert_eq!(
            ch[0].columns.iter().cloned().collect::<Vec<_>>(),
            vec!["ext".to_string(), "n".to_string()]
        );
        assert_eq!(ch[0].old.as_ref().unwrap().fields.len(), 4);

        r.apply_updates(
            &json!({"B": {u.clone(): {"delete": null}}}),
            UpdateFormat::V2,
        )
        .unwrap();
        assert!(r.row("B", &uuid(1)).is_none());
        assert_eq!(r.take_changes()[0].kind, ChangeKind::Deleted);
    }

    #[test]
    fn insert_then_delete_reports_nothing() {
        let mut r = Replica::new(schema(), &MonitorSpec::all(&schema()));
        let u = uuid(2).to_string();
        r.apply_updates(
            &json!({"P": {u.clone(): {"insert": {"name": "p"}}}}),
            UpdateFormat::V2,
        )
        .unwrap();
        r.apply_updates(&json!({"P": {u: {"delete": null}}}), UpdateFormat::V2)
            .unwrap();
        assert!(r.take_changes().is_empty());
    }

    #[test]
    fn v1_updates_and_bad_input() {
        let mut r = Replica::new(schema(), &MonitorSpec::all(&schema()));
        let u = uuid(3).to_string();
        r.apply_updates(
            &json!({"P": {u.clone(): {"new": {"name": "p"}}}}),
            UpdateFormat::V1,
        )
        .unwrap();
        r.apply_updates(
            &json!({"P": {u.clone(): {"old": {"name": "p"}, "new": {"name": "q"}}}}),
            UpdateFormat::V1,
        )
        .unwrap();
        assert_eq!(
            r.get("P", &uuid(3), "name").unwrap().keys[0],
            Atom::String("q".into())
        );
        assert!(r
            .apply_updates(&json!({"X": {}}), UpdateFormat::V1)
            .is_err());
        assert!(r
            .apply_updates(&json!({"P": {"nope": {"new": {}}}}), UpdateFormat::V1)
            .is_err());
        assert!(r
            .apply_updates(
                &json!({"P": {u: {"modify": {"name": 5}}}}),
                UpdateFormat::V2
            )
            .is_err());
    }

    #[test]
    fn monitor_requests_follow_spec_and_schema() {
        let s = schema();
        let mut spec = MonitorSpec::default();
        spec.set_columns("B", &["name", "nonexistent"]);
        spec.add_columns("Nope", &[]);
        let r = Replica::new(s, &spec);
        assert_eq!(
            r.monitor_requests(&spec, true),
            json!({"B": [{"columns": ["name"]}]})
        );
        assert!(r.table("Nope").is_none());
        assert!(r.table("B").unwrap().is_monitored("name"));
        assert!(!r.table("B").unwrap().is_monitored("ports"));
    }

    #[test]
    fn since_reply_not_found_starts_over() {
        let mut r = Replica::new(schema(), &MonitorSpec::all(&schema()));
        r.apply_updates(
            &json!({"P": {uuid(4).to_string(): {"insert": {"name": "old"}}}}),
            UpdateFormat::V2,
        )
        .unwrap();
        let last = uuid(9).to_string();
        r.apply_since_reply(
            &json!([false, last, {"P": {uuid(5).to_string(): {"initial": {"name": "new"}}}}]),
        )
        .unwrap();
        assert!(r.row("P", &uuid(4)).is_none());
        assert!(r.row("P", &uuid(5)).is_some());
        assert_eq!(r.last_id(), uuid(9));
    }
}
