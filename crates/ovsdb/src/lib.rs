//! OVSDB, the Open vSwitch database (RFC 7047, ovsdb(5), ovsdb(7)).
//!
//! This crate owns the database and its client replica (the IDL); the
//! JSON-RPC server lives in [`server`] and `ovsdb-client` in the `cli` crate.
//!
//! - [`json`]: JSON text as OVS reads and writes it: number rules, escaping,
//!   upstream's parse-error messages, sorted output (as `ovsdb-tool` prints)
//!   and OVS hash-table member order (as upstream writes files).
//! - [`uuid`], [`types`], [`datum`]: the data model — atoms, constrained base
//!   types, sets and maps in canonical order, their JSON and text forms,
//!   constraint checks and the diff form of the log.
//! - [`schema`]: database schemas with upstream's validation messages.
//! - [`condition`], [`mutation`]: `where` clauses and mutations.
//! - [`database`], [`row`]: committed state, reference counts, index maps,
//!   and the change sets ([`Changes`]) a transaction produces.
//! - [`transaction`]: executing `transact` requests ([`Database::execute`]),
//!   with upstream's error objects.
//! - [`rbac`]: role-based access control — which writes a client with a
//!   role may make, from the database's `RBAC_Role` table.
//! - [`idl`]: the client side — a replica of monitored tables kept current
//!   from update notifications, transactions built against it, and a
//!   blocking driver (the protocol engine itself does no I/O).
//! - [`log`], [`storage`]: the standalone on-disk format (records of
//!   `OVSDB JSON <len> <sha1>`), replay, durable commits, torn tails and
//!   compaction.
//!
//! # Running the engine (for a server)
//!
//! ```
//! use ovsdb::storage::{self, OpenOptionsDb, Storage, TailPolicy, TransactReply};
//! use ovsdb::{DatabaseSchema, ExecOptions};
//! use serde_json::json;
//!
//! let dir = std::env::temp_dir().join(format!("ovsdb-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir).unwrap();
//! let path = dir.join("db").to_string_lossy().into_owned();
//! let schema = DatabaseSchema::from_json(&json!({"name": "D", "tables": {
//!     "T": {"columns": {"name": {"type": "string"}}}}})).unwrap();
//! storage::create(&path, &schema).unwrap();
//!
//! // A server opens with TailPolicy::Truncate: a torn last record (crash
//! // during a write) is logged and cut off; ovsdb-tool uses Fail.
//! let opts = OpenOptionsDb { read_only: false, tail: TailPolicy::Truncate };
//! let mut store = Storage::open(&path, opts).unwrap();
//!
//! // transact = execute + write the record + fsync + apply.
//! let params = json!(["D", {"op": "insert", "table": "T", "row": {"name": "a"}}]);
//! match store.transact(&params, &ExecOptions::default()).unwrap() {
//!     TransactReply::Done { results, changes } => {
//!         assert!(results[0]["uuid"].is_array());
//!         // `changes` (old/new row per UUID) is what monitors report.
//!         assert_eq!(changes.len(), 1);
//!     }
//!     // A `wait` not yet satisfied: retry when the database changes or
//!     // after `timeout_ms` (pass the elapsed time in ExecOptions).
//!     TransactReply::Blocked { .. } => unreachable!(),
//! }
//! # std::fs::remove_dir_all(&dir).unwrap();
//! ```
//!
//! For group commit, call [`Database::execute`] yourself, then
//! [`storage::Storage::commit_unsynced`] for each successful [`Commit`] and
//! [`storage::Storage::sync`] once before sending the replies.
//! [`storage::row_change_json`] renders a [`RowChange`] in the diff form of
//! `update2`'s "modify"; [`row::Row::to_json`] renders whole rows.

pub mod condition;
pub mod convert;
pub mod database;
pub mod datum;
pub mod error;
pub mod idl;
pub mod journal;
pub mod json;
mod json_parse;
pub mod log;
pub mod mutation;
pub mod rbac;
pub mod row;
pub mod schema;
pub mod server;
pub mod storage;
pub mod transaction;
pub mod types;
pub mod uuid;

pub use database::{Changes, Commit, Database, RowChange};
pub use datum::{Atom, Datum};
pub use error::Error;
pub use schema::DatabaseSchema;
pub use transaction::{ExecOptions, Outcome};
pub use uuid::Uuid;

/// The text of an I/O error as C's `strerror` gives it ("No such file or directory").
pub fn io_error_text(e: &std::io::Error) -> String {
    match e.raw_os_error() {
        Some(code) => {
            // SAFETY: strerror returns a pointer to a static, NUL-terminated string.
            let p = unsafe { libc::strerror(code) };
            if p.is_null() {
                return e.to_string();
            }
            // SAFETY: p is non-null and NUL-terminated (see above).
            unsafe { std::ffi::CStr::from_ptr(p) }
                .to_string_lossy()
                .into_owned()
        }
        None => e.to_string(),
    }
}
