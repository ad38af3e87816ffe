//! The bridge to the `flow` crate's action codec: version and error
//! conversion, so that messages carrying actions or instructions decode
//! with this crate's [`OfpErr`].

use crate::errors::OfpErr;
pub use flow::actions::OfpAction;
use flow::actions::OfpVersion as AVersion;

fn version(v: u8) -> AVersion {
    AVersion::ALL
        .iter()
        .copied()
        .find(|x| *x as u8 == v)
        .unwrap_or(AVersion::Of15)
}

fn err(e: flow::actions::OfpErr) -> OfpErr {
    OfpErr::from_name(e.name()).unwrap_or(OfpErr::OFPBAC_BAD_TYPE)
}

/// An action list (`ofpacts_pull_openflow_actions`).
pub fn decode_actions(bytes: &[u8], v: u8) -> Result<Vec<OfpAction>, OfpErr> {
    flow::actions::decode_actions(bytes, version(v)).map_err(err)
}

/// Instructions (OpenFlow 1.1+) or an OpenFlow 1.0 action list.
pub fn decode_instructions(bytes: &[u8], v: u8) -> Result<Vec<OfpAction>, OfpErr> {
    flow::actions::decode_instructions(bytes, version(v)).map_err(err)
}

pub fn encode_actions(acts: &[OfpAction], v: u8) -> Vec<u8> {
    flow::actions::encode_actions(acts, version(v))
}

pub fn encode_instructions(acts: &[OfpAction], v: u8) -> Vec<u8> {
    flow::actions::encode_instructions(acts, version(v))
}

/// `actions=` text (`drop` for none).
pub fn format(acts: &[OfpAction]) -> String {
    flow::actions::format_actions(acts)
}

/// Upstream's `ofpacts_check_consistency` as message decoders apply it:
/// the actions must suit the match and table, and need nothing that
/// `protocol` (the message's own protocol variant) cannot carry.
pub fn check_consistency(
    acts: &mut [OfpAction],
    m: &flow::Match,
    table_id: u8,
    protocol: flow::Protocols,
) -> Result<(), OfpErr> {
    flow::actions::check_consistency(
        acts,
        m,
        flow::actions::port::OfpPort::MAX,
        table_id,
        255,
        protocol,
    )
    .map_err(err)
}
