//! The `rpc` room: how ferrovs processes talk to each other and to the
//! outside world's OVS tools.
//!
//! Layers, bottom up:
//! - [`address`]: stream names (`unix:`, `tcp:`, `ssl:`, `punix:`, `ptcp:`,
//!   `pssl:`) with per-use default ports and upstream's error texts.
//! - [`stream`]: connecting and listening on tokio (`ssl:` fails clearly).
//! - [`framing`]: finding JSON texts in a byte stream, bounded in size.
//! - [`message`]: JSON-RPC 1.0 requests, notifications, replies, errors
//!   (RFC 7047 §4) with upstream's validation and wire member order.
//! - [`connection`]: one async JSON-RPC connection.
//! - [`reconnect`]: the clock-free reconnection/probe state machine.
//! - [`session`]: a connection that reconnects with backoff, probes idle
//!   peers with `echo` and answers theirs.
//! - [`blocking`]: a runtime-free client for command-line tools.
//! - [`unixctl`]: the daemon control socket and the `ovs-appctl` client.
//! - [`pidfile`], [`paths`], [`errno`], [`daemon`]: daemon conventions
//!   shared by the above (pidfiles, `OVS_RUNDIR` and friends, strerror
//!   texts, `--detach`).
//!
//! This room knows nothing about OVSDB or OpenFlow semantics: it moves JSON
//! messages and command texts. It must not import any higher room.
//! OVS counterparts: lib/stream, lib/jsonrpc, lib/reconnect, lib/unixctl.

pub mod address;
pub mod blocking;
pub mod connection;
pub mod daemon;
pub mod errno;
pub mod framing;
pub mod json_text;
pub mod message;
pub mod paths;
pub mod pidfile;
pub mod reconnect;
pub mod session;
pub mod stream;
pub mod unixctl;

pub use address::{ActiveAddr, AddressError, HostPort, PassiveAddr, OPENFLOW_PORT, OVSDB_PORT};
pub use connection::{Connection, ConnectionError};
pub use message::Message;
pub use session::{Session, SessionEvent, SessionStatus};
pub use stream::DSCP_DEFAULT;
