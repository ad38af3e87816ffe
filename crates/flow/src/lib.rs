//! The flow room of ferrovs: the language of the switch.
//!
//! - [`actions`]: OpenFlow actions and instructions (ovs-actions(7)): model,
//!   text, and OpenFlow 1.0-1.5 wire format.
//! - [`field`]: the field registry of ovs-fields(7) ([`FieldId`],
//!   [`FieldDef`]), NXM/OXM headers ([`MfHeader`]) and access to the fields
//!   of a flow key ([`packet::Flow`]).
//! - [`value`] and [`value_str`]: field values ([`MfValue`]) and their text
//!   forms (parse and format exactly as Open vSwitch does).
//! - [`port`]: OpenFlow port numbers and names in text.
//! - [`matches`]: [`Match`], a flow plus a wildcard mask, with prerequisite
//!   checks, normalization and usable protocols; [`match_format`]: the text
//!   of matches and packet flows exactly as ovs-ofctl prints them.
//! - [`subfield`]: `field[ofs..end]` references ([`Subfield`]).
//! - [`protocols`]: sets of OpenFlow protocol variants ([`Protocols`]) that
//!   can express a match.
//! - [`flow_str`]: the ovs-ofctl(8) "Flow Syntax" parser and flow files.
//! - [`sort`]: flow ordering for `ovs-ofctl --sort`/`--rsort`.
//! - [`key_value`]: the `key=value` tokenizer every text syntax shares.
//!
//! This room depends only on `packet` (and `vlog`); the OpenFlow wire codec
//! (`openflow`) and everything above build on it.

pub mod actions;
pub mod field;
pub mod flow_str;
pub mod key_value;
pub mod match_format;
pub mod matches;
pub mod odp;
pub mod port;
pub mod protocols;
pub mod sort;
pub mod subfield;
pub mod value;
pub mod value_str;
pub mod version;

pub use field::{FieldDef, FieldId, MfHeader, MfString, Prereq};
pub use matches::Match;
pub use protocols::Protocols;
pub use subfield::Subfield;
pub use value::MfValue;
