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

use std::fmt;

/// An OpenFlow protocol version.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum OfpVersion {
    Of10 = 1,
    Of11 = 2,
    Of12 = 3,
    Of13 = 4,
    Of14 = 5,
    Of15 = 6,
}

impl OfpVersion {
    /// All versions, oldest first.
    pub const ALL: [OfpVersion; 6] = [
        OfpVersion::Of10,
        OfpVersion::Of11,
        OfpVersion::Of12,
        OfpVersion::Of13,
        OfpVersion::Of14,
        OfpVersion::Of15,
    ];

    /// The wire version number (1 for OpenFlow 1.0, ...).
    pub fn wire(self) -> u8 {
        self as u8
    }

    pub fn from_wire(v: u8) -> Option<OfpVersion> {
        Self::ALL.into_iter().find(|x| x.wire() == v)
    }

    /// `OpenFlow10`, ... as upstream's `ofputil_version_to_string`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Of10 => "OpenFlow10",
            Self::Of11 => "OpenFlow11",
            Self::Of12 => "OpenFlow12",
            Self::Of13 => "OpenFlow13",
            Self::Of14 => "OpenFlow14",
            Self::Of15 => "OpenFlow15",
        }
    }

    /// Parses `OpenFlow10`.. `OpenFlow15` (upstream's
    /// `ofputil_version_from_string`, which also accepts `1.0`..`1.5`).
    pub fn from_name(s: &str) -> Option<OfpVersion> {
        Self::ALL
            .into_iter()
            .find(|v| v.name() == s || v.name()[8..] == *s.replace('.', ""))
    }
}

impl fmt::Display for OfpVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
