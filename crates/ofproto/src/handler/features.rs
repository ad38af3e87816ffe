//! Table features (`OFPST_TABLE_FEATURES` reply entries): instructions,
//! next tables, actions, Set-Field fields, match and wildcard fields, for
//! table-miss and other flows, built from the field registry.

use crate::table::TABLE_INTERNAL;
use flow::field::FieldId;
use openflow::wire::{pad8, Put};

/// Actions (wire type numbers of OpenFlow 1.2+) every table supports:
/// output, set_mpls_ttl .. set_field (upstream's bitmap 0x03ff8001).
const ACTIONS_BITMAP: u32 = 0x03ff_8001;

fn prop(out: &mut Vec<u8>, ptype: u16, body: &[u8]) {
    let len = 4 + body.len();
    out.put_u16(ptype);
    out.put_u16(len as u16);
    out.extend_from_slice(body);
    out.put_zeros(pad8(len) - len);
}

fn field_headers(version: u8, pred: impl Fn(FieldId) -> bool, masks: bool) -> Vec<u8> {
    let mut b = Vec::new();
    for f in FieldId::ALL {
        if !pred(f) {
            continue;
        }
        let def = f.def();
        if let Some(h) = header_for(f, version, masks && def.maskable) {
            h.put(&mut b);
        }
    }
    b
}

/// The header a field has in `version`: the newest identity defined in
/// it, else its oldest identity.
fn header_for(f: FieldId, version: u8, masked: bool) -> Option<flow::MfHeader> {
    f.oxm_header(version, masked).or_else(|| {
        let def = f.def();
        def.oxm
            .first()
            .map(|h| flow::MfHeader::new(h, masked, def.n_bytes))
    })
}

/// One table's features entry for OpenFlow `version`.
pub fn encode_table_features(table_id: u8, name: &str, max_entries: u32, version: u8) -> Vec<u8> {
    let last = table_id + 1 >= TABLE_INTERNAL;
    let mut instructions = Vec::new();
    // goto_table (not from the last table), write_metadata, write,
    // apply and clear actions, and meter (an action from OpenFlow 1.5 on).
    for t in 1u16..=6 {
        if (t == 1 && last) || (t == 6 && version >= 6) {
            continue;
        }
        instructions.put_u16(t);
        instructions.put_u16(4);
    }
    let next: Vec<u8> = (table_id.saturating_add(1)..TABLE_INTERNAL).collect();
    let mut actions = Vec::new();
    for bit in 0..32u16 {
        if ACTIONS_BITMAP & (1 << bit) != 0 {
            actions.put_u16(bit);
            actions.put_u16(4);
        }
    }
    let setfields = field_headers(version, |f| f.def().writable, false);
    let matching = field_headers(version, |_| true, true);
    let wildcards = field_headers(version, |_| true, false);

    let mut props = Vec::new();
    for miss in [0u16, 1] {
        prop(&mut props, miss, &instructions);
        prop(&mut props, 2 + miss, &next);
        prop(&mut props, 4 + miss, &actions);
        prop(&mut props, 12 + miss, &setfields);
        prop(&mut props, 6 + miss, &actions);
        prop(&mut props, 14 + miss, &setfields);
    }
    prop(&mut props, 8, &matching);
    prop(&mut props, 10, &wildcards);

    let mut e = Vec::with_capacity(64 + props.len());
    e.put_u16((64 + props.len()) as u16);
    e.put_u8(table_id);
    e.put_zeros(5);
    e.put_str_fixed(name, 32);
    e.put_u64(u64::MAX);
    e.put_u64(u64::MAX);
    e.put_u32(0);
    e.put_u32(max_entries);
    e.extend_from_slice(&props);
    e
}
