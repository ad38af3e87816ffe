//! What a running command sees: the replica as of the transaction's start,
//! the transaction (whose reads see its own writes), the `@name` row ids,
//! its arguments and options, and where its output goes.

use super::cache::Cache;
use super::text::Symtab;
use crate::db_format::Table;
use ovsdb::datum::{Atom, Datum};
use ovsdb::idl::{Replica, Txn};
use ovsdb::Uuid;
use std::collections::BTreeMap;

/// How a command fails.
#[derive(Debug)]
pub enum Fail {
    /// `ovs-vsctl: MSG`, exit status 1.
    Fatal(String),
    /// Exit silently with this status (`br-exists`).
    Exit(i32),
    /// `--timeout` expired.
    TimedOut,
}

pub type CmdResult = Result<(), Fail>;

/// `Err(Fail::Fatal(...))` from a format string.
macro_rules! fatal {
    ($($a:tt)*) => { Err($crate::vsctl::ctx::Fail::Fatal(format!($($a)*))) };
}
pub(crate) use fatal;

/// Work to do after the commit.
#[derive(Clone, Debug)]
pub enum Post {
    /// Print the committed UUID of the row inserted with this UUID.
    PrintInserted(Uuid),
}

pub struct Ctx<'a> {
    pub r: &'a Replica,
    pub txn: &'a mut Txn,
    pub symtab: &'a mut Symtab,
    /// The Open_vSwitch row.
    pub ovs: Uuid,
    /// The command name and its arguments.
    pub args: &'a [String],
    pub options: &'a BTreeMap<String, Option<String>>,
    pub output: &'a mut String,
    pub table: &'a mut Option<Table>,
    pub post: &'a mut Option<Post>,
    /// The bridge view, built on first use and dropped by writes that
    /// may change it.
    pub cache: &'a mut Option<Cache>,
    /// Set by a command that must wait for the database to change.
    pub try_again: bool,
}

impl Ctx<'_> {
    pub fn has_option(&self, name: &str) -> bool {
        self.options.contains_key(name)
    }

    pub fn option(&self, name: &str) -> Option<&str> {
        self.options.get(name).and_then(|v| v.as_deref())
    }

    /// A column as the transaction sees it (empty when absent).
    pub fn get(&self, table: &str, uuid: &Uuid, column: &str) -> Datum {
        self.txn
            .get(self.r, table, uuid, column)
            .unwrap_or_else(|| Datum::empty(false))
    }

    /// A string column's value ("" when absent).
    pub fn get_str(&self, table: &str, uuid: &Uuid, column: &str) -> String {
        self.get(table, uuid, column)
            .keys
            .first()
            .and_then(|a| a.as_str().map(str::to_string))
            .unwrap_or_default()
    }

    /// An optional integer column's value.
    pub fn get_int(&self, table: &str, uuid: &Uuid, column: &str) -> Option<i64> {
        self.get(table, uuid, column)
            .keys
            .first()
            .and_then(Atom::as_integer)
    }

    /// A boolean column's value (false when absent).
    pub fn get_bool(&self, table: &str, uuid: &Uuid, column: &str) -> bool {
        matches!(
            self.get(table, uuid, column).keys.first(),
            Some(Atom::Boolean(true))
        )
    }

    /// UUIDs in a reference column.
    pub fn get_refs(&self, table: &str, uuid: &Uuid, column: &str) -> Vec<Uuid> {
        self.get(table, uuid, column)
            .keys
            .iter()
            .filter_map(Atom::as_uuid)
            .collect()
    }

    /// Rows of `table` as the transaction sees them.
    pub fn rows(&self, table: &str) -> Vec<Uuid> {
        self.txn.rows(self.r, table)
    }

    pub fn exists(&self, table: &str, uuid: &Uuid) -> bool {
        self.txn.row_exists(self.r, table, uuid)
    }

    fn txn_err(e: ovsdb::Error) -> Fail {
        Fail::Fatal(super::text::constraint_text(&e))
    }

    pub fn set(&mut self, table: &str, uuid: &Uuid, column: &str, d: Datum) -> CmdResult {
        self.txn
            .set(self.r, table, uuid, column, d)
            .map_err(Self::txn_err)
    }

    pub fn set_str(&mut self, table: &str, uuid: &Uuid, column: &str, s: &str) -> CmdResult {
        self.set(
            table,
            uuid,
            column,
            Datum::from_atom(Atom::String(s.into())),
        )
    }

    pub fn insert(&mut self, table: &str) -> Result<Uuid, Fail> {
        self.txn.insert(self.r, table).map_err(Self::txn_err)
    }

    pub fn delete(&mut self, table: &str, uuid: &Uuid) -> CmdResult {
        self.txn.delete(self.r, table, uuid).map_err(Self::txn_err)
    }

    pub fn set_add(&mut self, table: &str, uuid: &Uuid, column: &str, a: Atom) -> CmdResult {
        self.txn
            .set_add(self.r, table, uuid, column, a)
            .map_err(Self::txn_err)
    }

    pub fn set_remove(&mut self, table: &str, uuid: &Uuid, column: &str, a: Atom) -> CmdResult {
        self.txn
            .set_remove(self.r, table, uuid, column, a)
            .map_err(Self::txn_err)
    }

    pub fn map_set(
        &mut self,
        table: &str,
        uuid: &Uuid,
        column: &str,
        k: Atom,
        v: Atom,
    ) -> CmdResult {
        self.txn
            .map_set(self.r, table, uuid, column, k, v)
            .map_err(Self::txn_err)
    }

    pub fn map_remove(&mut self, table: &str, uuid: &Uuid, column: &str, k: Atom) -> CmdResult {
        self.txn
            .map_remove(self.r, table, uuid, column, k)
            .map_err(Self::txn_err)
    }

    /// The bridge view (built now if needed).
    pub fn cache(&mut self) -> &Cache {
        if self.cache.is_none() {
            let c = Cache::build(self);
            *self.cache = Some(c);
        }
        match self.cache {
            Some(c) => c,
            None => unreachable!("cache was just built"),
        }
    }

    /// Forgets the bridge view after writes that may change it.
    pub fn invalidate_cache(&mut self) {
        *self.cache = None;
    }

    /// Appends a line of output.
    pub fn println(&mut self, line: impl AsRef<str>) {
        self.output.push_str(line.as_ref());
        self.output.push('\n');
    }
}
