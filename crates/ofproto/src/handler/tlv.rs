//! TLV table requests (`NXT_TLV_TABLE_MOD` add/delete/clear and
//! `NXT_TLV_TABLE_REQUEST`): the Geneve option ↔ `tun_metadataN` map.

use crate::handler::dispatch::xid_of;
use crate::handler::multipart::reply;
use crate::tlv::TlvMapping;
use crate::Ofproto;
use openflow::msgs::tlv_table::{TlvMap, TlvTableMod, TlvTableReply};
use openflow::raw::OfpRaw;
use openflow::OfpErr;

/// Total option space the map may describe, in bytes.
pub const MAX_OPTION_SPACE: u32 = 256;
/// Number of `tun_metadata` fields.
pub const MAX_FIELDS: u16 = 64;

/// The `tun_metadataN` slot a field is, if it is one.
fn slot(field: flow::FieldId) -> Option<u16> {
    field
        .tun_metadata_index()
        .and_then(|i| u16::try_from(i).ok())
}

/// Every `tun_metadataN` slot `acts` read or write (nested action lists
/// included).
fn action_slots(acts: &[flow::actions::OfpAction], out: &mut Vec<u16>) {
    use flow::actions::{LearnDst, LearnSrc, OfpAction as A};
    fn sf(out: &mut Vec<u16>, s: &flow::Subfield) {
        out.extend(slot(s.field));
    }
    for a in acts {
        match a {
            A::OutputReg { src, .. } => sf(out, src),
            A::Bundle(b) => {
                if let Some(d) = &b.dst {
                    sf(out, d);
                }
            }
            A::SetField(f) => out.extend(slot(f.field)),
            A::RegMove(m) => {
                sf(out, &m.src);
                sf(out, &m.dst);
            }
            A::StackPush(s) | A::StackPop(s) => sf(out, s),
            A::DeleteField(f) => out.extend(slot(*f)),
            A::Multipath(m) => sf(out, &m.dst),
            A::CheckPktLarger { dst, .. } => sf(out, dst),
            A::Learn(l) => {
                if let Some(d) = &l.result_dst {
                    sf(out, d);
                }
                for spec in &l.specs {
                    if let LearnSrc::Field(s) = &spec.src {
                        sf(out, s);
                    }
                    if let LearnDst::Match(d) | LearnDst::Load(d) = &spec.dst {
                        sf(out, d);
                    }
                }
            }
            A::Ct(ct) => {
                if let Some(z) = &ct.zone_src {
                    sf(out, z);
                }
                action_slots(&ct.actions, out);
            }
            A::Clone(inner) | A::WriteActions(inner) => action_slots(inner, out),
            _ => {}
        }
    }
}

impl Ofproto {
    /// Upstream decodes flow-mods against the TLV map: a match or an
    /// action on a `tun_metadataN` the map does not give an option is
    /// refused (`NXFMFC_INVALID_TLV_FIELD`).
    pub fn check_tlv_fields(
        &self,
        match_: &flow::Match,
        acts: &[flow::actions::OfpAction],
    ) -> Result<(), OfpErr> {
        let mapped = |i: u16| self.tlv_map.iter().any(|m| m.index == i);
        let mut used: Vec<u16> = (0..MAX_FIELDS)
            .filter(|i| {
                flow::FieldId::tun_metadata(usize::from(*i))
                    .is_some_and(|f| !match_.is_field_wild(f))
            })
            .collect();
        action_slots(acts, &mut used);
        if used.into_iter().any(|i| !mapped(i)) {
            return Err(OfpErr::NXFMFC_INVALID_TLV_FIELD);
        }
        Ok(())
    }

    /// Whether some rule matches on `tun_metadata<index>` or names it in
    /// its actions (upstream counts both as references to the mapping).
    fn tun_metadata_in_use(&self, index: u16) -> bool {
        let Some(&field) =
            flow::FieldId::ALL.get(flow::FieldId::TunMetadata0 as usize + usize::from(index))
        else {
            return false;
        };
        if !field.is_tun_metadata() {
            return false;
        }
        let acts_use = |acts: &[flow::actions::OfpAction]| {
            let mut used = Vec::new();
            action_slots(acts, &mut used);
            used.contains(&index)
        };
        (0..crate::table::N_TABLES as u8).any(|t| {
            self.rules(t)
                .iter()
                .any(|r| !r.match_.is_field_wild(field) || acts_use(&r.actions))
        })
    }

    /// Applies a TLV table modification (all or nothing).
    pub fn tlv_table_mod(&mut self, tm: &TlvTableMod) -> Result<(), OfpErr> {
        let mut map = self.tlv_map.clone();
        match tm.command {
            0 => {
                for m in &tm.maps {
                    if map.iter().any(|x| x.index == m.index) {
                        return Err(OfpErr::NXTTMFC_ALREADY_MAPPED);
                    }
                    if map
                        .iter()
                        .any(|x| x.option_class == m.option_class && x.option_type == m.option_type)
                    {
                        return Err(OfpErr::NXTTMFC_DUP_ENTRY);
                    }
                    map.push(TlvMapping {
                        option_class: m.option_class,
                        option_type: m.option_type,
                        option_len: m.option_len,
                        index: m.index,
                    });
                }
                let space: u32 = map.iter().map(|m| u32::from(m.option_len)).sum();
                if space > MAX_OPTION_SPACE {
                    return Err(OfpErr::NXTTMFC_TABLE_FULL);
                }
            }
            1 => {
                // Mappings are deleted by index; deleting an unmapped
                // index does nothing.
                for m in &tm.maps {
                    if self.tun_metadata_in_use(m.index) {
                        return Err(OfpErr::NXTTMFC_INVALID_TLV_DEL);
                    }
                    map.retain(|x| x.index != m.index);
                }
            }
            2 => {
                if map.iter().any(|x| self.tun_metadata_in_use(x.index)) {
                    return Err(OfpErr::NXTTMFC_INVALID_TLV_DEL);
                }
                map.clear()
            }
            _ => return Err(OfpErr::NXTTMFC_BAD_COMMAND),
        }
        map.sort_by_key(|m| m.index);
        self.tun_layout = crate::tlv::layout_for(&self.tun_layout, &map)?;
        self.tlv_map = map;
        Ok(())
    }
}

/// `NXT_TLV_TABLE_MOD`.
pub fn tlv_table_mod(ofproto: &mut Ofproto, msg: &[u8]) -> Result<(), OfpErr> {
    let tm = TlvTableMod::decode(&msg[OfpRaw::NXT_TLV_TABLE_MOD.header_len(msg[0])..])?;
    ofproto.tlv_table_mod(&tm)
}

/// `NXT_TLV_TABLE_REPLY` to a TLV table request.
pub fn tlv_table_reply(ofproto: &Ofproto, msg: &[u8]) -> Vec<u8> {
    let r = TlvTableReply {
        max_option_space: MAX_OPTION_SPACE,
        max_fields: MAX_FIELDS,
        maps: ofproto
            .tlv_map
            .iter()
            .map(|m| TlvMap {
                option_class: m.option_class,
                option_type: m.option_type,
                option_len: m.option_len,
                index: m.index,
            })
            .collect(),
    };
    let mut b = Vec::new();
    r.encode_body(&mut b);
    reply(OfpRaw::NXT_TLV_TABLE_REPLY, msg[0], xid_of(msg), &b)
}
