//! unixctl: the control channel between `ovs-appctl` and a daemon,
//! wire-compatible with upstream (JSON-RPC over a unix socket; method =
//! command, params = string arguments, result/error = text).
//!
//! [`server`] is the daemon side (async), [`client`] the tool side
//! (blocking). OVS counterpart: lib/unixctl.

pub mod client;
pub mod server;

pub use client::{resolve_target, TargetError, TransactError, UnixctlClient};
pub use server::{
    default_socket_path, CommandFuture, CommandResult, Commands, UnixctlServer, OVS_VERSION,
};
