//! The in-memory database: a schema, committed tables, and the change sets
//! that transactions produce.
//!
//! A transaction never touches the committed state: [`Database::execute`]
//! (in `transaction.rs`) produces a [`Commit`] describing the change; the
//! caller makes it durable (see `storage`) and then calls
//! [`Database::apply`]. The same [`Changes`] are what monitors report.

use crate::datum::{Atom, Datum};
use crate::row::{Row, Table};
use crate::schema::{DatabaseSchema, TableSchema};
use crate::uuid::Uuid;
use std::collections::BTreeMap;
use std::sync::Arc;

/// The change to one row: `old` is the committed row before the
/// transaction (`None` for an insert), `new` the row after (`None` for a delete).
#[derive(Clone, Debug, PartialEq)]
pub struct RowChange {
    pub old: Option<Arc<Row>>,
    pub new: Option<Arc<Row>>,
    /// For a modified row, the columns (indexes) that operations wrote with
    /// a different value. A column may end up equal to its old value (for
    /// example a weak reference added and then removed); upstream still
    /// records it, and so do we.
    pub changed: Vec<usize>,
}

/// Every row change of one transaction, by table name and row UUID.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Changes {
    pub tables: BTreeMap<String, BTreeMap<Uuid, RowChange>>,
    /// Table names in the order the transaction first touched them (the
    /// order upstream writes them in log records).
    pub table_order: Vec<String>,
}

impl Changes {
    pub fn is_empty(&self) -> bool {
        self.tables.values().all(BTreeMap::is_empty)
    }

    /// Number of changed rows.
    pub fn len(&self) -> usize {
        self.tables.values().map(BTreeMap::len).sum()
    }
}

/// A transaction ready to commit: its changes and log annotations.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Commit {
    pub changes: Changes,
    /// The comments of `comment` operations joined by new-lines, if any.
    pub comment: Option<String>,
    /// True if a `commit` operation asked for durability.
    pub durable: bool,
}

/// A database: its schema and its committed tables.
#[derive(Clone, Debug)]
pub struct Database {
    pub schema: Arc<DatabaseSchema>,
    pub tables: BTreeMap<String, Table>,
}

/// Calls `f(ref_table, uuid)` for each reference in `row` whose base type
/// is a reference of the given strength.
pub fn for_each_ref(table: &TableSchema, row: &Row, strong: bool, mut f: impl FnMut(&str, Uuid)) {
    for (i, c) in table.columns.iter().enumerate() {
        let bases = [(Some(&c.ty.key), true), (c.ty.value.as_ref(), false)];
        for (base, is_key) in bases {
            let Some(base) = base else { continue };
            let Some(rt) = &base.ref_table else { continue };
            if base.is_strong_ref() != strong {
                continue;
            }
            let d = &row.fields[i];
            let atoms: Box<dyn Iterator<Item = &Atom>> = if is_key {
                Box::new(d.keys.iter())
            } else {
                Box::new(d.values.iter().flatten())
            };
            for a in atoms {
                if let Some(u) = a.as_uuid() {
                    f(rt, u);
                }
            }
        }
    }
}

/// Calls `f(ref_table, uuid, delta)` for every strong reference that the
/// change from `old` to `new` adds (+1) or removes (-1). For a modified row
/// only the columns in `changed` (all when `None`) are compared, element by
/// element, so a large set that gains one member costs one call.
pub fn for_each_strong_ref_delta(
    table: &TableSchema,
    old: Option<&Row>,
    new: Option<&Row>,
    changed: Option<&[usize]>,
    mut f: impl FnMut(&str, Uuid, i64),
) {
    let (old, new) = match (old, new) {
        (None, None) => return,
        (Some(o), None) => return for_each_ref(table, o, true, |rt, u| f(rt, u, -1)),
        (None, Some(n)) => return for_each_ref(table, n, true, |rt, u| f(rt, u, 1)),
        (Some(o), Some(n)) => (o, n),
    };
    for (i, c) in table.columns.iter().enumerate() {
        if changed.is_some_and(|ch| !ch.contains(&i)) {
            continue;
        }
        let (od, nd) = (&old.fields[i], &new.fields[i]);
        if od == nd {
            continue;
        }
        if let Some(rt) =
            c.ty.key
                .ref_table
                .as_deref()
                .filter(|_| c.ty.key.is_strong_ref())
        {
            merge_delta(&od.keys, &nd.keys, |u, d| f(rt, u, d));
        }
        if let Some(vt) = c.ty.value.as_ref().filter(|v| v.is_strong_ref()) {
            let rt = vt.ref_table.as_deref().unwrap_or("");
            let mut ov: Vec<Atom> = od.values.iter().flatten().cloned().collect();
            let mut nv: Vec<Atom> = nd.values.iter().flatten().cloned().collect();
            ov.sort();
            nv.sort();
            merge_delta(&ov, &nv, |u, d| f(rt, u, d));
        }
    }
}

/// Walks two sorted atom lists (multisets) and reports UUIDs only in `old`
/// (-1) or only in `new` (+1).
fn merge_delta(old: &[Atom], new: &[Atom], mut f: impl FnMut(Uuid, i64)) {
    let (mut i, mut j) = (0, 0);
    while i < old.len() || j < new.len() {
        match (old.get(i), new.get(j)) {
            (Some(a), Some(b)) if a == b => {
                i += 1;
                j += 1;
            }
            (Some(a), Some(b)) if a < b => {
                if let Some(u) = a.as_uuid() {
                    f(u, -1);
                }
                i += 1;
            }
            (Some(a), None) => {
                if let Some(u) = a.as_uuid() {
                    f(u, -1);
                }
                i += 1;
            }
            (_, Some(b)) => {
                if let Some(u) = b.as_uuid() {
                    f(u, 1);
                }
                j += 1;
            }
            (None, None) => break,
        }
    }
}

impl Database {
    /// An empty database with `schema`.
    pub fn new(schema: DatabaseSchema) -> Database {
        let tables = schema
            .tables
            .keys()
            .map(|n| (n.clone(), Table::default()))
            .collect();
        Database {
            schema: Arc::new(schema),
            tables,
        }
    }

    pub fn name(&self) -> &str {
        &self.schema.name
    }

    pub fn table(&self, name: &str) -> Option<&Table> {
        self.tables.get(name)
    }

    /// A committed row.
    pub fn row(&self, table: &str, uuid: &Uuid) -> Option<&Arc<Row>> {
        self.tables.get(table)?.rows.get(uuid)
    }

    /// Total number of rows.
    pub fn n_rows(&self) -> usize {
        self.tables.values().map(Table::len).sum()
    }

    /// Installs committed changes, keeping reference counts up to date.
    pub fn apply(&mut self, changes: &Changes) {
        let schema = self.schema.clone();
        let mut deltas: Vec<(String, Uuid, i64)> = Vec::new();
        for (tname, rows) in &changes.tables {
            let Some(ts) = schema.table(tname) else {
                continue;
            };
            for (uuid, ch) in rows {
                let changed =
                    (ch.old.is_some() && ch.new.is_some()).then_some(ch.changed.as_slice());
                for_each_strong_ref_delta(
                    ts,
                    ch.old.as_deref(),
                    ch.new.as_deref(),
                    changed,
                    |rt, u, d| deltas.push((rt.to_string(), u, d)),
                );
                let Some(table) = self.tables.get_mut(tname) else {
                    continue;
                };
                if table.indexes.len() < ts.indexes.len() {
                    table.indexes.resize(ts.indexes.len(), BTreeMap::new());
                }
                for (n, index) in ts.indexes.iter().enumerate() {
                    if let Some(old) = &ch.old {
                        let key: Vec<Datum> = index.iter().map(|&c| old.get(c)).collect();
                        if table.indexes[n].get(&key) == Some(uuid) {
                            table.indexes[n].remove(&key);
                        }
                    }
                    if let Some(new) = &ch.new {
                        let key: Vec<Datum> = index.iter().map(|&c| new.get(c)).collect();
                        table.indexes[n].insert(key, *uuid);
                    }
                }
                match &ch.new {
                    Some(new) => {
                        table.rows.insert(*uuid, new.clone());
                    }
                    None => {
                        table.rows.remove(uuid);
                    }
                }
            }
        }
        for (tname, uuid, d) in deltas {
            let Some(table) = self.tables.get_mut(&tname) else {
                continue;
            };
            let e = table.strong_refs.entry(uuid).or_insert(0);
            *e = (*e as i64 + d).max(0) as u32;
            if *e == 0 {
                table.strong_refs.remove(&uuid);
            }
        }
    }

    /// Number of strong references to a committed row.
    pub fn strong_refs(&self, table: &str, uuid: &Uuid) -> u32 {
        self.tables
            .get(table)
            .and_then(|t| t.strong_refs.get(uuid))
            .copied()
            .unwrap_or(0)
    }
}
