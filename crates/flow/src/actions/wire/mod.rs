//! OpenFlow wire format of actions and instructions, OpenFlow 1.0 through
//! 1.5: standard `OFPAT_*`/`OFPIT_*`, Nicira `NXAST_*` and ONF extensions.
//!
//! [`decode_actions`] and [`decode_instructions`] turn bytes into
//! [`OfpAction`]s, returning upstream's `OFPBAC_*`/`OFPBIC_*` errors and
//! logging upstream's warnings (module `ofp_actions`); they never panic and
//! allocate at most in proportion to their input.  [`encode_actions`] and
//! [`encode_instructions`] are their inverses for a given version.

mod ct;
mod decode;
mod encode;
mod learn;
pub mod raw;

pub(crate) use decode::load_to_set_field;
pub use decode::{decode_actions, decode_actions_in, decode_instructions};
pub use encode::{encode_actions, encode_instructions};
pub(crate) use learn::imm_len as learn_imm_len;

pub use crate::version::OfpVersion;
