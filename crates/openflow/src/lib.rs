//! OpenFlow 1.0–1.5 on the wire, with the Nicira and ONF extensions that
//! Open vSwitch speaks, and `ofp-print`: the text upstream prints for every
//! message.
//!
//! The layers, bottom up:
//!
//! - [`wire`]: checked big-endian reading ([`wire::Reader`] never panics)
//!   and writing, fixed strings, hex dumps.
//! - [`version`]: the protocol versions and their names.
//! - [`errors`]: the error domain [`OfpErr`] (upstream's `enum ofperr`) with
//!   every code of every version, `OFPT_ERROR` decoding and error replies.
//!   Every decoder in this crate fails with the `OfpErr` upstream would
//!   send back.
//! - [`raw`]: the message registry ([`raw::OfpRaw`]: one entry per concrete
//!   layout, with versions, header form, printed name and body shape) and
//!   header decoding with upstream's length checks and warnings.
//! - [`msgs`]: one module per message family, each with a `Repr` type that
//!   decodes, encodes and formats itself.
//! - [`print`]: [`print::ofp_to_string`], the whole-message printer.
//!
//! Version differences stay inside this crate: callers see one `Repr` per
//! message whatever the version on the wire. The field registry, matches
//! and actions belong to the `flow` crate; messages that carry them are
//! printed once that layer is wired in.

pub mod actions;
pub mod bits;
pub mod errors;
pub mod msgs;
pub mod nx_match;
pub mod nx_match_text;
mod nx_put;
pub mod print;
pub mod protocol;
pub mod raw;
pub mod vconn;
pub mod version;
pub mod wire;

pub use errors::{describe_encodings, encode_error_msg, encode_error_reply, OfpErr, ALL_ERRORS};
pub use msgs::switch::Hello;
pub use raw::{decode_raw, OfpRaw};
pub use version::OfpVersion;

/// Upstream's `ofputil_encode_hello` with xid 1 (what `ovs-ofctl
/// encode-hello` shows).
pub fn encode_hello(version_bitmap: u32) -> Vec<u8> {
    Hello::encode(version_bitmap, 1)
}
