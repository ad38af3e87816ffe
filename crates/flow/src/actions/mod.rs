//! OpenFlow actions and instructions (ovs-actions(7)): the model
//! ([`OfpAction`]), its text syntax as `ovs-ofctl` parses and prints it
//! ([`parse_instructions`], [`format_actions`]), its OpenFlow 1.0–1.5 wire
//! format with Nicira and ONF extensions ([`wire`]), the checks upstream
//! applies (instruction order, nesting, consistency with a match), and the
//! `parse-actions`/`parse-instructions` command ([`cmd`]).
//!
//! Layers, bottom up: [`model`] (what an action is), [`port`] and [`mf`]
//! (the ports and field bits actions refer to), [`verify`] and [`check`]
//! (rules), [`format`], [`parse`] and [`learn`] (text), [`wire`] (bytes).

/// Upstream rate-limits the warnings of its actions code as one group: five
/// at once, then one a minute.
pub(crate) static RL: vlog::RateLimit = vlog::RateLimit::new(1, 5);

pub mod check;
pub mod cmd;
pub mod error;
pub mod format;
pub mod learn;
pub mod mf;
pub mod model;
pub mod parse;
pub mod port;
pub mod verify;
pub mod wire;

pub use check::{check_actions, check_consistency};
pub use error::{OfpErr, ParseError};
pub use format::{format_actions, format_actions_with_ports};
pub use model::*;
pub use parse::{parse_actions, parse_flow_actions, parse_instructions, ParsedActions};
pub use port::OfpPort;
pub use wire::{
    decode_actions, decode_instructions, encode_actions, encode_instructions, OfpVersion,
};
