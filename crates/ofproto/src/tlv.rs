//! The tunnel-metadata TLV map (`NXT_TLV_TABLE_MOD`/`REQUEST`): which
//! Geneve option (class, type, length) each `tun_metadataN` field carries.

/// One mapping of a Geneve option to a `tun_metadata` index.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TlvMapping {
    pub option_class: u16,
    pub option_type: u8,
    pub option_len: u8,
    pub index: u16,
}
