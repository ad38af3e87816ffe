//! The packet room of ferrovs.
//!
//! - [`flow`]: the flow key, [`Flow`]: every value a packet or its metadata
//!   can carry, laid out as plain fixed-size integers and byte arrays so that
//!   a flow and a mask of the same type can be combined field by field (the
//!   counterpart of OVS's `struct flow`).
//! - [`extract`]: the flow key of an Ethernet frame; [`compose`]: frames
//!   built from a flow key; [`checksum`]: Internet checksums.
//! - [`rewrite`]: set-field on a frame in place, checksums updated
//!   incrementally.
//! - [`tunnel`]: VXLAN, Geneve and GRE encapsulation templates, push and
//!   pop.
//! - [`wire`]: each header as a checked view over bytes and a `Repr` with
//!   parse/emit, printed like tcpdump.
//!
//! This crate must not depend on any other ferrovs room: everything above it
//! (`flow`, `datapath`, ...) builds on these types.

pub mod buffer;
pub mod flow;

pub use flow::{Flow, FlowNsh, FlowTnl, TunLayout, TunMetadata, Vlan};
pub mod checksum;
pub mod compose;
pub mod extract;
pub mod rewrite;
pub mod tunnel;
pub mod wire;
