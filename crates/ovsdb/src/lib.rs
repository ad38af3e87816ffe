//! OVSDB, the Open vSwitch database (RFC 7047, ovsdb(5), ovsdb(7)).
//!
//! This crate owns the database itself; it does no networking.
//!
//! - [`json`]: JSON text as OVS writes it (number rules, escaping, sorting).
//! - [`uuid`], [`types`], [`datum`]: the data model — atoms, constrained base
//!   types, sets and maps in canonical order, their JSON and text forms.
//! - [`schema`]: database schemas with upstream's validation messages.
//! - [`condition`], [`mutation`]: `where` clauses and mutations.
//! - [`database`], [`row`]: committed state and the change sets
//!   ([`Changes`]) a transaction produces — also what monitors report.
//! - [`transaction`]: executing `transact` requests ([`Database::execute`]).
//! - [`log`], [`storage`]: the standalone on-disk format (records of
//!   `OVSDB JSON <len> <sha1>`), replay, durable commits and compaction.
//!
//! A server runs a [`storage::Storage`]: `transact` executes, writes the
//! record, fsyncs, applies it, and hands back the [`Changes`] for monitors.

pub mod condition;
pub mod database;
pub mod datum;
pub mod error;
pub mod json;
mod json_parse;
pub mod log;
pub mod mutation;
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
