//! The classifier room of ferrovs: a priority classifier over wildcarded
//! matches, the engine behind every OpenFlow table (the counterpart of Open
//! vSwitch's lib/classifier).
//!
//! A [`Classifier`] holds [`ClsRule`]s (a match, a priority, optional
//! [`Conjunction`]s and the client's data).  [`ClsState::lookup`] finds the
//! highest-priority rule matching a packet's flow key in a [`Version`] and
//! reports which bits of the flow that answer depended on, so the datapath
//! can cache the decision as a megaflow that is no narrower than needed.
//!
//! How it is built, bottom up:
//! - [`words`]: a flow key packed into 64-bit words, grouped in the four
//!   lookup stages (metadata, L2, L3, L4).
//! - [`trie`]: persistent prefix tries for addresses and transport ports.
//! - [`cowmap`]: copy-on-write sharded hash maps.
//! - [`subtable`]: tuple-space search, one subtable per distinct mask,
//!   searched stage by stage.
//! - [`rule`]: rules, versions, compact matches.
//! - [`prefix`]: the fields prefix tries may be kept for.
//! - [`classifier`]: the writer, lock-free snapshots for readers, lookup
//!   with conjunctive matches, exact find, overlap check and iteration.
//!
//! This room depends on `packet` (the flow key) and `flow` (field
//! identities); it knows nothing of OpenFlow messages or actions.

pub mod classifier;
pub mod cowmap;
pub mod prefix;
pub mod rule;
pub mod subtable;
pub mod trie;
pub mod words;

#[cfg(test)]
#[allow(clippy::field_reassign_with_default)]
mod tests;

pub use classifier::{Classifier, ClsReader, ClsState, ConjFlows};
pub use prefix::{is_prefix_field, DEFAULT_PREFIX_FIELDS};
pub use rule::{
    ClsRule, Conjunction, MiniMatch, Version, VERSION_MAX, VERSION_MIN, VERSION_NOT_REMOVED,
};
pub use words::FlowWords;
