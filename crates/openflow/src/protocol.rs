//! Protocol variants on the wire: which OpenFlow versions carry which
//! [`Protocols`], and encoding a flow_mod in one chosen variant
//! (upstream's `ofputil_encode_flow_mod` and friends).

use crate::msgs::flow_mod::{FlowMod, FlowModForm};
use crate::raw::{finish, start, OfpRaw};
use flow::flow_str::ParsedFlowMod;
use flow::Protocols;

/// The protocol variants OpenFlow wire version `version` can speak.
pub fn protocols_from_version(version: u8) -> Protocols {
    match version {
        1 => Protocols::OF10_STD_ANY | Protocols::OF10_NXM_ANY,
        2 => Protocols::OF11_STD,
        3 => Protocols::OF12_OXM,
        4 => Protocols::OF13_OXM,
        5 => Protocols::OF14_OXM,
        6 => Protocols::OF15_OXM,
        _ => Protocols::NONE,
    }
}

/// The protocol variants of every version in `bitmap` (bit N = version N).
pub fn protocols_from_version_bitmap(bitmap: u32) -> Protocols {
    (1..=6)
        .filter(|v| bitmap & (1 << v) != 0)
        .fold(Protocols::NONE, |p, v| p | protocols_from_version(v))
}

/// The OpenFlow wire version of a single protocol variant.
pub fn protocol_version(p: Protocols) -> u8 {
    (1..=6)
        .find(|v| protocols_from_version(*v).contains(p))
        .unwrap_or(1)
}

/// The versions (bit N = version N) able to speak some variant of `p`.
pub fn protocols_to_version_bitmap(p: Protocols) -> u32 {
    (1..=6)
        .filter(|v| !(protocols_from_version(*v) & p).is_empty())
        .fold(0, |b, v| b | (1 << v))
}

impl From<&ParsedFlowMod> for FlowMod {
    fn from(p: &ParsedFlowMod) -> FlowMod {
        FlowMod {
            flow_match: p.match_.clone(),
            priority: p.priority,
            cookie: p.cookie,
            cookie_mask: p.cookie_mask,
            new_cookie: p.new_cookie,
            table_id: p.table_id,
            command: p.command.map_or(0, |c| c.wire()),
            idle_timeout: p.idle_timeout,
            hard_timeout: p.hard_timeout,
            importance: p.importance,
            buffer_id: p.buffer_id,
            out_port: p.out_port as u16,
            out_group: p.out_group,
            flags: flags_bits(p),
            actions: p.ofpacts.clone(),
        }
    }
}

fn flags_bits(p: &ParsedFlowMod) -> u16 {
    use crate::msgs::flow_mod::ff;
    let f = &p.flags;
    [
        (f.send_flow_rem, ff::SEND_FLOW_REM),
        (f.check_overlap, ff::CHECK_OVERLAP),
        (f.reset_counts, ff::RESET_COUNTS),
        (f.no_packet_counts, ff::NO_PKT_COUNTS),
        (f.no_byte_counts, ff::NO_BYT_COUNTS),
    ]
    .iter()
    .filter(|(on, _)| *on)
    .fold(0, |b, (_, bit)| b | bit)
}

/// Encodes `fm` as the flow_mod message of the single variant `protocol`
/// with transaction id `xid`.
pub fn encode_flow_mod(fm: &FlowMod, protocol: Protocols, xid: u32) -> Vec<u8> {
    let version = protocol_version(protocol);
    let tid = !(protocol & Protocols::TID).is_empty();
    let mut fm = fm.clone();
    let (raw, form) = if protocol == Protocols::OF10_STD || protocol == Protocols::OF10_STD_TID {
        (OfpRaw::OFPT10_FLOW_MOD, FlowModForm::Of10)
    } else if protocol == Protocols::OF10_NXM || protocol == Protocols::OF10_NXM_TID {
        (OfpRaw::NXT_FLOW_MOD, FlowModForm::Nx)
    } else {
        (OfpRaw::OFPT11_FLOW_MOD, FlowModForm::Of11)
    };
    if form == FlowModForm::Of11 && (fm.command <= 2 || version == 2) && fm.table_id == 0xff {
        // An add or modify in "any table" goes to table 0, as upstream
        // encodes it; OpenFlow 1.1 has no "all tables" at all.
        fm.table_id = 0;
    }
    if form != FlowModForm::Of11 && !tid {
        // Without the flow_mod_table_id extension the command's high byte
        // must stay zero.
        fm.table_id = 0;
    }
    let mut msg = start(raw, version, xid);
    fm.encode_body(form, version, &mut msg);
    finish(msg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_and_protocols() {
        assert_eq!(protocols_from_version_bitmap(1 << 1), Protocols::OF10_ANY);
        assert_eq!(protocol_version(Protocols::OF10_NXM_TID), 1);
        assert_eq!(protocol_version(Protocols::OF13_OXM), 4);
        assert_eq!(protocols_to_version_bitmap(Protocols::NXM_OXM_ANY), 0x7a);
    }
}
