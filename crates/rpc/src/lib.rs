//! The `rpc` room: how ferrovs processes talk to each other.
