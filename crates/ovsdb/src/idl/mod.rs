//! The IDL: an OVSDB client that keeps a replica of chosen tables and
//! columns of one database and commits transactions built against it
//! (upstream's lib/ovsdb-idl).
//!
//! Three layers, the lower two free of I/O so that the tokio daemons and
//! the blocking command-line tools share them:
//! - [`replica`]: the rows, kept current from `update`/`update2`/`update3`
//!   notifications, with change tracking.
//! - [`txn`]: transactions against the replica (inserts, writes, partial
//!   set/map updates as `mutate`, deletes, verify, increment, locks) and
//!   the interpretation of their replies.
//! - [`core`]: the protocol engine: `get_schema`, `monitor_cond_since`
//!   (falling back to `monitor_cond`, then `monitor`), resync after a
//!   reconnection, locks, echo, transaction bookkeeping. It consumes
//!   received [`rpc::Message`]s and produces messages to send and
//!   [`IdlEvent`]s; the caller owns the connection.
//! - [`blocking`]: [`BlockingIdl`], the core driven over a blocking
//!   JSON-RPC client with reconnection (for `ovs-vsctl`).

pub mod blocking;
pub mod core;
pub mod replica;
pub mod txn;

pub use self::blocking::{BlockingIdl, IdlError};
pub use self::core::{IdlCore, IdlEvent, TxnHandle};
pub use replica::{
    ChangeKind, MonitorSpec, Replica, TableReplica, TableSpec, TrackedChange, UpdateFormat,
};
pub use txn::{Txn, TxnOutcome, TxnPlan, TxnStatus};
