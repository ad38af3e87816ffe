//! The in-memory database: a schema, committed tables, and the change sets
//! that transactions produce.
//!
//! A transaction never touches the committed state: [`Database::execute`]
//! (in `transaction.rs`) produces a [`Commit`] describing the change; the
//! caller makes it durable (see `storage`) and then calls
//! [`Database::apply`]. The same [`Changes`] are what monitors report.

use crate::datum::Atom;
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
                if let Some(old) = &ch.old {
                    for_each_ref(ts, old, true, |rt, u| deltas.push((rt.to_string(), u, -1)));
                }
                if let Some(new) = &ch.new {
                    for_each_ref(ts, new, true, |rt, u| deltas.push((rt.to_string(), u, 1)));
                }
                let Some(table) = self.tables.get_mut(tname) else {
                    continue;
                };
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
