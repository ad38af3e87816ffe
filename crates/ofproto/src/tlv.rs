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

/// `map`'s layout, grown from `old`: options still mapped keep their
/// place, the new ones take the first free run of their length.  Without
/// such a run the table is full (`NXTTMFC_TABLE_FULL`).
pub fn layout_for(
    old: &packet::TunLayout,
    map: &[TlvMapping],
) -> Result<packet::TunLayout, openflow::OfpErr> {
    let mut layout = *old;
    for i in 0..packet::flow::TUN_METADATA_NUM_OPTS {
        let len = map
            .iter()
            .find(|m| usize::from(m.index) == i)
            .map_or(0, |m| m.option_len);
        if len == 0 {
            layout.remove(i);
        }
    }
    for m in map.iter().filter(|m| m.option_len != 0) {
        if !layout.place(usize::from(m.index), m.option_len) {
            return Err(openflow::OfpErr::NXTTMFC_TABLE_FULL);
        }
    }
    Ok(layout)
}
