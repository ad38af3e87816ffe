//! Rows and tables as stored in a committed database.

use crate::datum::Datum;
use crate::schema::{ColumnRef, TableSchema};
use crate::uuid::Uuid;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::sync::Arc;

/// One row: its UUID, its version (a fresh UUID at every change) and one
/// datum per schema column (in [`TableSchema::columns`] order).
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    pub uuid: Uuid,
    pub version: Uuid,
    pub fields: Vec<Datum>,
}

impl Row {
    /// A row with every column at its type's default.
    pub fn new_default(table: &TableSchema, uuid: Uuid) -> Row {
        Row {
            uuid,
            version: Uuid::random(),
            fields: table
                .columns
                .iter()
                .map(|c| Datum::default_of(&c.ty))
                .collect(),
        }
    }

    /// The value of a column, including `_uuid` and `_version`.
    pub fn get(&self, c: ColumnRef) -> Datum {
        match c {
            ColumnRef::Uuid => Datum::from_atom(crate::datum::Atom::Uuid(self.uuid)),
            ColumnRef::Version => Datum::from_atom(crate::datum::Atom::Uuid(self.version)),
            ColumnRef::Index(i) => self.fields[i].clone(),
        }
    }

    /// Borrows an ordinary column's value.
    pub fn field(&self, c: ColumnRef) -> Option<&Datum> {
        match c {
            ColumnRef::Index(i) => self.fields.get(i),
            _ => None,
        }
    }

    /// The row as a JSON object with the given columns (all when `None`:
    /// `_uuid`, `_version`, then the schema columns).
    pub fn to_json(&self, table: &TableSchema, columns: Option<&[ColumnRef]>) -> Value {
        let mut m = Map::new();
        let all: Vec<ColumnRef>;
        let cols = match columns {
            Some(c) => c,
            None => {
                all = all_columns(table);
                &all
            }
        };
        for &c in cols {
            m.insert(
                table.column_name(c).to_string(),
                self.get(c).to_json(&table.column_type(c)),
            );
        }
        Value::Object(m)
    }
}

/// `_uuid`, `_version` and every schema column.
pub fn all_columns(table: &TableSchema) -> Vec<ColumnRef> {
    let mut v = vec![ColumnRef::Uuid, ColumnRef::Version];
    v.extend((0..table.columns.len()).map(ColumnRef::Index));
    v
}

/// The committed rows of one table.
#[derive(Clone, Debug, Default)]
pub struct Table {
    pub rows: BTreeMap<Uuid, Arc<Row>>,
    /// Number of strong references to each row from the rest of the database.
    pub strong_refs: BTreeMap<Uuid, u32>,
    /// For each schema index, the row holding each key.
    pub indexes: Vec<BTreeMap<Vec<Datum>, Uuid>>,
}

impl Table {
    pub fn get(&self, uuid: &Uuid) -> Option<&Arc<Row>> {
        self.rows.get(uuid)
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
}
