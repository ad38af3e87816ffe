//! Encoding actions and instructions for one OpenFlow version (OVS's
//! `ofpacts_put_openflow_actions` / `_instructions`): each action picks the
//! best encoding the version has, honouring the encoding it was decoded or
//! parsed from.

use super::ct::{encode_ct, encode_nat};
use super::learn::encode_learn;
use super::raw::{self, Raw};
use super::OfpVersion;
use crate::actions::mf::{self, FieldId, Subfield};
use crate::actions::model::*;
use crate::actions::port::OfpPort;

/// Encodes an action list.  Instructions have no effect here except where
/// upstream encodes them as actions (OpenFlow 1.0 `write_metadata` and
/// `goto_table`, OpenFlow 1.5 `meter`).
pub fn encode_actions(acts: &[OfpAction], version: OfpVersion) -> Vec<u8> {
    let mut out = Vec::new();
    encode_list(acts, version, &mut out);
    out
}

/// Encodes a list of instructions and actions as OpenFlow 1.1+
/// instructions (for OpenFlow 1.0, as an action list).
pub fn encode_instructions(acts: &[OfpAction], version: OfpVersion) -> Vec<u8> {
    let mut out = Vec::new();
    if version == OfpVersion::Of10 {
        encode_list(acts, version, &mut out);
        return out;
    }
    let is_apply = |a: &OfpAction| match a {
        OfpAction::Meter(_) => version >= OfpVersion::Of15,
        a => a.instruction_type().is_none(),
    };
    let mut i = 0;
    while i < acts.len() {
        if is_apply(&acts[i]) {
            let start = out.len();
            out.extend_from_slice(&[0, 4, 0, 0, 0, 0, 0, 0]);
            while i < acts.len() && is_apply(&acts[i]) {
                encode_one(&acts[i], version, &mut out);
                i += 1;
            }
            finish_instruction_actions(&mut out, start);
        } else {
            encode_instruction(&acts[i], version, &mut out);
            i += 1;
        }
    }
    out
}

fn finish_instruction_actions(out: &mut Vec<u8>, start: usize) {
    if out.len() > start + 8 {
        let len = (out.len() - start) as u16;
        out[start + 2..start + 4].copy_from_slice(&len.to_be_bytes());
    } else {
        out.truncate(start);
    }
}

fn encode_instruction(a: &OfpAction, version: OfpVersion, out: &mut Vec<u8>) {
    match a {
        OfpAction::Meter(id) => {
            if version >= OfpVersion::Of13 {
                out.extend_from_slice(&[0, 6, 0, 8]);
                out.extend_from_slice(&id.to_be_bytes());
            }
        }
        OfpAction::ClearActions => out.extend_from_slice(&[0, 5, 0, 8, 0, 0, 0, 0]),
        OfpAction::WriteActions(nested) => {
            let start = out.len();
            out.extend_from_slice(&[0, 3, 0, 0, 0, 0, 0, 0]);
            encode_list(nested, version, out);
            finish_instruction_actions(out, start);
        }
        OfpAction::WriteMetadata { metadata, mask } => {
            out.extend_from_slice(&[0, 2, 0, 24, 0, 0, 0, 0]);
            out.extend_from_slice(&metadata.to_be_bytes());
            out.extend_from_slice(&mask.to_be_bytes());
        }
        OfpAction::GotoTable(t) => out.extend_from_slice(&[0, 1, 0, 8, *t, 0, 0, 0]),
        other => encode_one(other, version, out),
    }
}

/// Encodes each action of `acts` into `out`.
pub(crate) fn encode_list(acts: &[OfpAction], version: OfpVersion, out: &mut Vec<u8>) {
    for a in acts {
        encode_one(a, version, out);
    }
}

/// Pads the action that starts at `start` to a multiple of 8 bytes and
/// writes its length.
pub(crate) fn pad_to_8(out: &mut Vec<u8>, start: usize) {
    while (out.len() - start) % 8 != 0 {
        out.push(0);
    }
    let len = (out.len() - start) as u16;
    out[start + 2..start + 4].copy_from_slice(&len.to_be_bytes());
}

/// Appends the header of `field` in a Nicira action: its NXM identity, or
/// its first OXM one, or (for the fields that have none) zero: unlike an
/// entry with a value (see [`FieldId::wire_header`]), a bare header gets
/// no length.
pub(crate) fn put_nx_header(field: FieldId, out: &mut Vec<u8>) {
    put_bare_header(field, 0, out);
}

fn put_oxm_header(field: FieldId, version: OfpVersion, has_mask: bool, out: &mut Vec<u8>) {
    debug_assert!(!has_mask);
    put_bare_header(field, version.wire(), out);
}

fn put_bare_header(field: FieldId, wire_version: u8, out: &mut Vec<u8>) {
    match field.oxm_header(wire_version, false) {
        Some(h) => h.put(out),
        None => out.extend_from_slice(&[0, 0, 0, 0]),
    }
}

fn begin_std(out: &mut Vec<u8>, ty: u16) -> usize {
    let start = out.len();
    out.extend_from_slice(&ty.to_be_bytes());
    out.extend_from_slice(&[0, 0]);
    start
}

fn begin_ext(out: &mut Vec<u8>, vendor: u32, subtype: u16) -> usize {
    let start = out.len();
    out.extend_from_slice(&[0xff, 0xff, 0, 0]);
    out.extend_from_slice(&vendor.to_be_bytes());
    out.extend_from_slice(&subtype.to_be_bytes());
    start
}

fn begin_nx(out: &mut Vec<u8>, subtype: u16) -> usize {
    begin_ext(out, raw::NX_VENDOR_ID, subtype)
}

fn finish(out: &mut Vec<u8>, start: usize, min_len: usize) {
    while out.len() - start < min_len {
        out.push(0);
    }
    pad_to_8(out, start);
}

/// An argument of a simple action.
#[derive(Clone, Copy)]
enum Arg {
    Void,
    U8(u8),
    U16(u16),
    U32(u32),
}

/// Emits a simple action whose code depends on the version: standard codes
/// carry the argument at offset 4, Nicira ones at 10 (8/16 bit) or 12.
fn put_simple(out: &mut Vec<u8>, r: Raw, version: OfpVersion, arg: Arg) {
    let Some(info) = raw::for_version(r, version) else {
        return;
    };
    if info.vendor == 0 {
        let start = begin_std(out, info.ty);
        match arg {
            Arg::Void => {}
            Arg::U8(v) => out.push(v),
            Arg::U16(v) => out.extend_from_slice(&v.to_be_bytes()),
            Arg::U32(v) => out.extend_from_slice(&v.to_be_bytes()),
        }
        finish(out, start, 8);
    } else {
        let start = begin_ext(out, info.vendor, info.ty);
        match arg {
            Arg::Void => {}
            Arg::U8(v) => out.push(v),
            Arg::U16(v) => out.extend_from_slice(&v.to_be_bytes()),
            Arg::U32(v) => {
                out.extend_from_slice(&[0, 0]);
                out.extend_from_slice(&v.to_be_bytes());
            }
        }
        finish(out, start, 16);
    }
}

fn put_output(out: &mut Vec<u8>, port: OfpPort, max_len: u16, version: OfpVersion) {
    if version == OfpVersion::Of10 {
        let start = begin_std(out, 0);
        out.extend_from_slice(&port.0.to_be_bytes());
        out.extend_from_slice(&max_len.to_be_bytes());
        finish(out, start, 8);
    } else {
        let start = begin_std(out, 0);
        out.extend_from_slice(&port.to_ofp11().to_be_bytes());
        out.extend_from_slice(&max_len.to_be_bytes());
        finish(out, start, 16);
    }
}

fn ofs_nbits(sf: &Subfield) -> u16 {
    (sf.ofs << 6 | (sf.n_bits.saturating_sub(1) & 0x3f)) as u16
}

fn nxm32(field: FieldId) -> Option<u32> {
    mf::header32(field).map(|h| h.to_u32())
}

/// OFPAT_SET_FIELD (OpenFlow 1.2+).
fn put_set_field(
    out: &mut Vec<u8>,
    version: OfpVersion,
    field: FieldId,
    value: &[u8],
    mask: Option<&[u8]>,
) {
    let start = begin_std(out, 25);
    let masked =
        mask.is_some_and(|m| !mf::is_all_ones_for(field, m)) && version >= OfpVersion::Of15;
    let (value, mask) = if field.def().variable_len {
        significant_bytes(value, mask.filter(|_| masked))
    } else {
        (value, mask)
    };
    let mut h = field.wire_header(version.wire(), masked);
    if field.def().variable_len {
        h = h.with_mask(masked);
        h.set_value_len(value.len());
    }
    h.put(out);
    out.extend_from_slice(value);
    if masked {
        if let Some(m) = mask {
            out.extend_from_slice(m);
        }
    }
    finish(out, start, 8);
}

/// What goes on the wire for a variable-length field (a tunnel metadata
/// option): the value, and the mask when there is one, without their
/// leading zero bytes, both cut to the longer of the two (so a zero value
/// takes no bytes at all).
fn significant_bytes<'a>(value: &'a [u8], mask: Option<&'a [u8]>) -> (&'a [u8], Option<&'a [u8]>) {
    let significant = |b: &[u8]| b.len() - b.iter().take_while(|x| **x == 0).count();
    let len = significant(value)
        .max(mask.map_or(0, significant))
        .min(value.len());
    let cut = |b: &'a [u8]| &b[b.len().saturating_sub(len)..];
    (cut(value), mask.map(cut))
}

/// NXAST_REG_LOAD (one per contiguous run of the mask, at most 64 bits
/// each) or NXAST_REG_LOAD2.
fn put_load(out: &mut Vec<u8>, sf: &SetField) {
    let def = sf.field.def();
    if sf.raw == SetFieldRaw::Load2 || nxm32(sf.field).is_none() || def.variable_len {
        let start = begin_nx(out, 33);
        let masked = !mf::is_all_ones_for(sf.field, &sf.mask);
        let (value, mask) = if def.variable_len {
            significant_bytes(&sf.value, Some(&sf.mask[..]).filter(|_| masked))
        } else {
            (&sf.value[..], Some(&sf.mask[..]))
        };
        let mut h = sf.field.wire_header(0, masked);
        if def.variable_len {
            h.set_value_len(value.len());
        }
        h.put(out);
        out.extend_from_slice(value);
        if masked {
            out.extend_from_slice(mask.unwrap_or_default());
        }
        finish(out, start, 16);
        return;
    }
    let header = nxm32(sf.field).unwrap_or(0);
    let width = def.n_bits;
    let mut bit = 0usize;
    while bit < width {
        if !mf::get_bit(&sf.mask, bit) {
            bit += 1;
            continue;
        }
        let ofs = bit;
        let mut n = 0usize;
        while bit < width && n < 64 && mf::get_bit(&sf.mask, bit) {
            bit += 1;
            n += 1;
        }
        let mut value = 0u64;
        for i in (0..n).rev() {
            value = value << 1 | u64::from(mf::get_bit(&sf.value, ofs + i));
        }
        let start = begin_nx(out, 7);
        let sub = Subfield {
            field: sf.field,
            ofs,
            n_bits: n,
        };
        out.extend_from_slice(&ofs_nbits(&sub).to_be_bytes());
        out.extend_from_slice(&header.to_be_bytes());
        out.extend_from_slice(&value.to_be_bytes());
        finish(out, start, 24);
    }
}

/// Value of a small field as an integer.
fn small_value(v: &[u8]) -> u32 {
    v.iter().fold(0u32, |acc, b| acc << 8 | u32::from(*b))
}

/// Encodes a set-field as OpenFlow 1.0/1.1 actions where those have one.
fn set_field_legacy(sf: &SetField, version: OfpVersion, out: &mut Vec<u8>) {
    // Upstream converts the fields OpenFlow 1.0/1.1 can set by value alone
    // (a mask is ignored); anything else becomes NXAST_REG_LOAD.
    let v = small_value(&sf.value);
    let of11 = version == OfpVersion::Of11;
    match sf.field {
        FieldId::VlanTci => set_vlan_tci_legacy(sf, version, v as u16, out),
        FieldId::VlanVid => {
            let r = if of11 {
                Raw::SetVlanVid11
            } else {
                Raw::SetVlanVid10
            };
            put_simple(out, r, version, Arg::U16((v & 0xfff) as u16));
        }
        FieldId::VlanPcp => {
            let r = if of11 {
                Raw::SetVlanPcp11
            } else {
                Raw::SetVlanPcp10
            };
            put_simple(out, r, version, Arg::U8(v as u8));
        }
        FieldId::EthSrc | FieldId::EthDst => {
            let r = if sf.field == FieldId::EthSrc {
                Raw::SetDlSrc
            } else {
                Raw::SetDlDst
            };
            put_mac(out, r, version, &sf.value);
        }
        FieldId::Ipv4Src => put_simple(out, Raw::SetNwSrc, version, Arg::U32(v)),
        FieldId::Ipv4Dst => put_simple(out, Raw::SetNwDst, version, Arg::U32(v)),
        FieldId::IpDscp => put_simple(out, Raw::SetNwTos, version, Arg::U8(v as u8)),
        FieldId::IpDscpShifted => put_simple(out, Raw::SetNwTos, version, Arg::U8((v << 2) as u8)),
        FieldId::IpEcn if of11 => put_simple(out, Raw::SetNwEcn11, version, Arg::U8(v as u8)),
        FieldId::IpTtl if of11 => put_simple(out, Raw::SetNwTtl11, version, Arg::U8(v as u8)),
        // SCTP ports have no OpenFlow 1.0/1.1 action: upstream loads them.
        FieldId::TcpSrc | FieldId::UdpSrc => {
            put_simple(out, Raw::SetTpSrc, version, Arg::U16(v as u16))
        }
        FieldId::TcpDst | FieldId::UdpDst => {
            put_simple(out, Raw::SetTpDst, version, Arg::U16(v as u16))
        }
        // Neither are the MPLS label and traffic class set by value in 1.1.
        FieldId::MplsTtl if of11 => put_simple(out, Raw::SetMplsTtl, version, Arg::U8(v as u8)),
        _ => put_load(out, sf),
    }
}

/// `vlan_tci` in OpenFlow 1.0/1.1: with the CFI bit, the VID and PCP are set
/// (OpenFlow 1.1 first pushes a tag unless the flow had one when checked);
/// without it, the tag is removed.
fn set_vlan_tci_legacy(sf: &SetField, version: OfpVersion, tci: u16, out: &mut Vec<u8>) {
    let of11 = version == OfpVersion::Of11;
    if tci & 0x1000 == 0 {
        let r = if of11 {
            Raw::PopVlan11
        } else {
            Raw::StripVlan10
        };
        put_simple(out, r, version, Arg::Void);
        return;
    }
    let (vid_raw, pcp_raw) = if of11 {
        if !sf.flow_has_vlan {
            put_simple(out, Raw::PushVlan, version, Arg::U16(0x8100));
        }
        (Raw::SetVlanVid11, Raw::SetVlanPcp11)
    } else {
        (Raw::SetVlanVid10, Raw::SetVlanPcp10)
    };
    put_simple(out, vid_raw, version, Arg::U16(tci & 0xfff));
    put_simple(out, pcp_raw, version, Arg::U8((tci >> 13) as u8));
}

fn put_mac(out: &mut Vec<u8>, r: Raw, version: OfpVersion, mac: &[u8]) {
    if let Some(info) = raw::for_version(r, version) {
        let start = begin_std(out, info.ty);
        out.extend_from_slice(mac);
        finish(out, start, 16);
    }
}

fn full_set_field(field: FieldId, value: Vec<u8>) -> SetField {
    let n = field.def().n_bytes;
    let mut mask = vec![0u8; n];
    for bit in 0..field.def().n_bits {
        mf::set_bit(&mut mask, bit, true);
    }
    SetField {
        field,
        value,
        mask,
        raw: SetFieldRaw::SetField,
        flow_has_vlan: false,
    }
}

fn encode_set_field(sf: &SetField, version: OfpVersion, out: &mut Vec<u8>) {
    if version >= OfpVersion::Of15 {
        put_set_field(out, version, sf.field, &sf.value, Some(&sf.mask));
    } else if sf.raw != SetFieldRaw::SetField {
        put_load(out, sf);
    } else if version < OfpVersion::Of12 {
        set_field_legacy(sf, version, out);
    } else if sf.mask.iter().all(|b| *b == 0xff) {
        // Upstream's test is on every byte of the field, not its
        // significant bits: `+oam->tun_flags` (mask 1 of 16 bits) loads.
        put_set_field(out, version, sf.field, &sf.value, None);
    } else {
        put_load(out, sf);
    }
}

/// Encodes a header-rewrite action that OpenFlow 1.2+ spells as set-field.
fn put_rewrite(
    out: &mut Vec<u8>,
    version: OfpVersion,
    legacy: impl FnOnce(&mut Vec<u8>),
    field: FieldId,
    value: Vec<u8>,
) {
    if version >= OfpVersion::Of12 {
        put_set_field(out, version, field, &value, None);
    } else {
        legacy(out);
    }
}

fn encode_one(a: &OfpAction, version: OfpVersion, out: &mut Vec<u8>) {
    use OfpAction as A;
    let v = version;
    match a {
        A::Output(o) => put_output(out, o.port, o.max_len, v),
        A::Group(g) => put_simple(out, Raw::Group, v, Arg::U32(*g)),
        A::Controller(c) => encode_controller(c, v, out),
        A::Enqueue { port, queue } => {
            if v == OfpVersion::Of10 {
                let start = begin_std(out, 11);
                out.extend_from_slice(&port.0.to_be_bytes());
                out.extend_from_slice(&[0; 6]);
                out.extend_from_slice(&queue.to_be_bytes());
                finish(out, start, 16);
            } else {
                // OpenFlow 1.1 dropped enqueue: set the queue around an output.
                put_simple(out, Raw::SetQueue, v, Arg::U32(*queue));
                put_output(out, *port, 0, v);
                put_simple_nx(out, 5);
            }
        }
        A::OutputReg { src, max_len, raw } => match nxm32(src.field) {
            Some(h) if *raw != OutputRegRaw::OutputReg2 => {
                let start = begin_nx(out, 15);
                out.extend_from_slice(&ofs_nbits(src).to_be_bytes());
                out.extend_from_slice(&h.to_be_bytes());
                out.extend_from_slice(&max_len.to_be_bytes());
                finish(out, start, 24);
            }
            _ => {
                let start = begin_nx(out, 32);
                out.extend_from_slice(&ofs_nbits(src).to_be_bytes());
                out.extend_from_slice(&max_len.to_be_bytes());
                put_nx_header(src.field, out);
                finish(out, start, 24);
            }
        },
        A::OutputTrunc { port, max_len } => {
            let start = begin_nx(out, 39);
            out.extend_from_slice(&port.0.to_be_bytes());
            out.extend_from_slice(&max_len.to_be_bytes());
            finish(out, start, 16);
        }
        A::Bundle(b) => {
            let start = begin_nx(out, if b.dst.is_some() { 13 } else { 12 });
            out.extend_from_slice(&(b.algorithm as u16).to_be_bytes());
            out.extend_from_slice(&(b.fields as u16).to_be_bytes());
            out.extend_from_slice(&b.basis.to_be_bytes());
            out.extend_from_slice(&2u32.to_be_bytes());
            out.extend_from_slice(&(b.members.len() as u16).to_be_bytes());
            match &b.dst {
                Some(d) => {
                    out.extend_from_slice(&ofs_nbits(d).to_be_bytes());
                    out.extend_from_slice(&nxm32(d.field).unwrap_or(0).to_be_bytes());
                }
                None => out.extend_from_slice(&[0; 6]),
            }
            out.extend_from_slice(&[0; 4]);
            for m in &b.members {
                out.extend_from_slice(&m.0.to_be_bytes());
            }
            finish(out, start, 32);
        }
        A::SetField(sf) => encode_set_field(sf, v, out),
        A::SetVlanVid {
            vid,
            push_vlan_if_needed,
            flow_has_vlan,
        } => {
            if v > OfpVersion::Of10 && *push_vlan_if_needed && !flow_has_vlan {
                put_simple(out, Raw::PushVlan, v, Arg::U16(0x8100));
            }
            match v {
                OfpVersion::Of10 => put_simple(out, Raw::SetVlanVid10, v, Arg::U16(*vid)),
                OfpVersion::Of11 => put_simple(out, Raw::SetVlanVid11, v, Arg::U16(*vid)),
                _ => put_set_field(
                    out,
                    v,
                    FieldId::VlanVid,
                    &(vid | 0x1000).to_be_bytes(),
                    None,
                ),
            }
        }
        A::SetVlanPcp {
            pcp,
            push_vlan_if_needed,
            flow_has_vlan,
        } => {
            if v > OfpVersion::Of10 && *push_vlan_if_needed && !flow_has_vlan {
                put_simple(out, Raw::PushVlan, v, Arg::U16(0x8100));
            }
            match v {
                OfpVersion::Of10 => put_simple(out, Raw::SetVlanPcp10, v, Arg::U8(*pcp)),
                OfpVersion::Of11 => put_simple(out, Raw::SetVlanPcp11, v, Arg::U8(*pcp)),
                _ => put_set_field(out, v, FieldId::VlanPcp, &[*pcp], None),
            }
        }
        A::StripVlan { .. } => {
            if v == OfpVersion::Of10 {
                put_simple(out, Raw::StripVlan10, v, Arg::Void)
            } else {
                put_simple(out, Raw::PopVlan11, v, Arg::Void)
            }
        }
        A::PushVlan { ethertype } => put_simple(out, Raw::PushVlan, v, Arg::U16(*ethertype)),
        A::SetEthSrc(m) => put_rewrite(
            out,
            v,
            |o| put_mac(o, Raw::SetDlSrc, v, m),
            FieldId::EthSrc,
            m.to_vec(),
        ),
        A::SetEthDst(m) => put_rewrite(
            out,
            v,
            |o| put_mac(o, Raw::SetDlDst, v, m),
            FieldId::EthDst,
            m.to_vec(),
        ),
        A::SetIpv4Src(ip) => put_rewrite(
            out,
            v,
            |o| put_simple(o, Raw::SetNwSrc, v, Arg::U32(u32::from(*ip))),
            FieldId::Ipv4Src,
            ip.octets().to_vec(),
        ),
        A::SetIpv4Dst(ip) => put_rewrite(
            out,
            v,
            |o| put_simple(o, Raw::SetNwDst, v, Arg::U32(u32::from(*ip))),
            FieldId::Ipv4Dst,
            ip.octets().to_vec(),
        ),
        A::SetIpDscp(tos) => put_rewrite(
            out,
            v,
            |o| put_simple(o, Raw::SetNwTos, v, Arg::U8(*tos)),
            FieldId::IpDscpShifted,
            vec![*tos >> 2],
        ),
        A::SetIpEcn(ecn) => match v {
            OfpVersion::Of10 => put_load(out, &full_set_field(FieldId::IpEcn, vec![*ecn])),
            OfpVersion::Of11 => put_simple(out, Raw::SetNwEcn11, v, Arg::U8(*ecn)),
            _ => put_set_field(out, v, FieldId::IpEcn, &[*ecn], None),
        },
        A::SetIpTtl(ttl) => match v {
            OfpVersion::Of10 => put_load(out, &full_set_field(FieldId::IpTtl, vec![*ttl])),
            _ => put_simple(out, Raw::SetNwTtl11, v, Arg::U8(*ttl)),
        },
        A::SetL4SrcPort {
            port,
            flow_ip_proto,
        } => put_l4_port(
            out,
            v,
            *port,
            *flow_ip_proto,
            [FieldId::TcpSrc, FieldId::UdpSrc, FieldId::SctpSrc],
            Raw::SetTpSrc,
        ),
        A::SetL4DstPort {
            port,
            flow_ip_proto,
        } => put_l4_port(
            out,
            v,
            *port,
            *flow_ip_proto,
            [FieldId::TcpDst, FieldId::UdpDst, FieldId::SctpDst],
            Raw::SetTpDst,
        ),
        A::RegMove(m) => encode_move(m, v, out),
        A::StackPush(sf) | A::StackPop(sf) => {
            let start = begin_nx(out, if matches!(a, A::StackPush(_)) { 27 } else { 28 });
            out.extend_from_slice(&(sf.ofs as u16).to_be_bytes());
            put_nx_header(sf.field, out);
            out.extend_from_slice(&(sf.n_bits as u16).to_be_bytes());
            finish(out, start, 24);
        }
        A::DecTtl { cnt_ids, raw } => {
            if *raw != DecTtlRaw::CntIds && cnt_ids.len() == 1 && cnt_ids[0] == 0 {
                put_simple(out, Raw::DecNwTtl, v, Arg::Void);
            } else {
                let start = begin_nx(out, 21);
                out.extend_from_slice(&(cnt_ids.len() as u16).to_be_bytes());
                out.extend_from_slice(&[0; 4]);
                for id in cnt_ids {
                    out.extend_from_slice(&id.to_be_bytes());
                }
                finish(out, start, 16);
            }
        }
        A::SetMplsLabel(l) => {
            if v >= OfpVersion::Of12 {
                put_set_field(out, v, FieldId::MplsLabel, &l.to_be_bytes(), None)
            } else {
                put_simple(out, Raw::SetMplsLabel, v, Arg::U32(*l))
            }
        }
        A::SetMplsTc(tc) => {
            if v >= OfpVersion::Of12 {
                put_set_field(out, v, FieldId::MplsTc, &[*tc], None)
            } else {
                put_simple(out, Raw::SetMplsTc, v, Arg::U8(*tc))
            }
        }
        A::SetMplsTtl(ttl) => put_simple(out, Raw::SetMplsTtl, v, Arg::U8(*ttl)),
        A::DecMplsTtl => put_simple(out, Raw::DecMplsTtl, v, Arg::Void),
        A::PushMpls { ethertype } => put_simple(out, Raw::PushMpls, v, Arg::U16(*ethertype)),
        A::PopMpls { ethertype } => put_simple(out, Raw::PopMpls, v, Arg::U16(*ethertype)),
        A::DecNshTtl => put_simple_nx(out, 48),
        A::DeleteField(f) => {
            let start = begin_nx(out, 50);
            put_nx_header(*f, out);
            finish(out, start, 24);
        }
        A::Encap(e) => encode_encap(e, out),
        A::Decap { new_pkt_type } => {
            let start = begin_nx(out, 47);
            out.extend_from_slice(&[0, 0]);
            out.extend_from_slice(&new_pkt_type.to_be_bytes());
            finish(out, start, 16);
        }
        A::SetTunnel { tun_id, raw } => {
            let use64 = match raw {
                SetTunnelRaw::Tunnel64 => true,
                SetTunnelRaw::Tunnel32 => false,
                SetTunnelRaw::Auto => *tun_id > u64::from(u32::MAX),
            };
            if v >= OfpVersion::Of12 {
                put_set_field(out, v, FieldId::TunId, &tun_id.to_be_bytes(), None);
            } else if use64 {
                let start = begin_nx(out, 9);
                out.extend_from_slice(&[0; 6]);
                out.extend_from_slice(&tun_id.to_be_bytes());
                finish(out, start, 24);
            } else {
                put_simple(out, Raw::NxSetTunnel, v, Arg::U32(*tun_id as u32));
            }
        }
        A::SetQueue(q) => put_simple(out, Raw::SetQueue, v, Arg::U32(*q)),
        A::PopQueue => put_simple_nx(out, 5),
        A::FinTimeout { idle, hard } => {
            let start = begin_nx(out, 19);
            out.extend_from_slice(&idle.to_be_bytes());
            out.extend_from_slice(&hard.to_be_bytes());
            finish(out, start, 16);
        }
        A::Resubmit(r) => encode_resubmit(r, out),
        A::Learn(l) => encode_learn(l, out),
        A::Conjunction {
            id,
            clause,
            n_clauses,
        } => {
            let start = begin_nx(out, 34);
            out.push(*clause);
            out.push(*n_clauses);
            out.extend_from_slice(&id.to_be_bytes());
            finish(out, start, 16);
        }
        A::Multipath(m) => {
            let start = begin_nx(out, 10);
            out.extend_from_slice(&(m.fields as u16).to_be_bytes());
            out.extend_from_slice(&m.basis.to_be_bytes());
            out.extend_from_slice(&[0, 0]);
            out.extend_from_slice(&(m.algorithm as u16).to_be_bytes());
            out.extend_from_slice(&m.max_link.to_be_bytes());
            out.extend_from_slice(&m.arg.to_be_bytes());
            out.extend_from_slice(&[0, 0]);
            out.extend_from_slice(&ofs_nbits(&m.dst).to_be_bytes());
            out.extend_from_slice(&nxm32(m.dst.field).unwrap_or(0).to_be_bytes());
            finish(out, start, 32);
        }
        A::Note(bytes) => {
            let start = begin_nx(out, 8);
            out.extend_from_slice(bytes);
            finish(out, start, 16);
        }
        A::Exit => put_simple_nx(out, 17),
        A::Sample(s) => encode_sample(s, out),
        A::Ct(ct) => encode_ct(ct, v, out),
        A::CtClear => put_simple_nx(out, 43),
        A::Nat(n) => encode_nat(n, out),
        A::Clone(nested) => {
            let start = begin_nx(out, 42);
            out.extend_from_slice(&[0; 6]);
            encode_list(nested, v, out);
            finish(out, start, 16);
        }
        A::CheckPktLarger { pkt_len, dst } => {
            let start = begin_nx(out, 49);
            out.extend_from_slice(&pkt_len.to_be_bytes());
            out.extend_from_slice(&(dst.ofs as u16).to_be_bytes());
            put_nx_header(dst.field, out);
            finish(out, start, 24);
        }
        A::DebugRecirc => put_simple_nx(out, 255),
        A::DebugSlow => put_simple_nx(out, 254),
        A::Meter(id) => {
            if v >= OfpVersion::Of15 {
                put_simple(out, Raw::Meter15, v, Arg::U32(*id));
            }
        }
        A::ClearActions | A::WriteActions(_) => {}
        A::WriteMetadata { metadata, mask } => {
            if v == OfpVersion::Of10 {
                let start = begin_nx(out, 22);
                out.extend_from_slice(&[0; 6]);
                out.extend_from_slice(&metadata.to_be_bytes());
                out.extend_from_slice(&mask.to_be_bytes());
                finish(out, start, 32);
            }
        }
        A::GotoTable(t) => {
            if v == OfpVersion::Of10 {
                encode_resubmit(
                    &Resubmit {
                        in_port: OfpPort::IN_PORT,
                        table_id: *t,
                        with_ct_orig: false,
                        raw: ResubmitRaw::ResubmitTable,
                    },
                    out,
                );
            }
        }
    }
}

fn put_l4_port(
    out: &mut Vec<u8>,
    v: OfpVersion,
    port: u16,
    proto: u8,
    fields: [FieldId; 3],
    legacy: Raw,
) {
    let field = match proto {
        6 => Some(fields[0]),
        17 => Some(fields[1]),
        132 => Some(fields[2]),
        _ => None,
    };
    match field {
        Some(f) if v >= OfpVersion::Of12 => put_set_field(out, v, f, &port.to_be_bytes(), None),
        _ => put_simple(out, legacy, v, Arg::U16(port)),
    }
}

fn put_simple_nx(out: &mut Vec<u8>, subtype: u16) {
    let start = begin_nx(out, subtype);
    finish(out, start, 16);
}

fn encode_resubmit(r: &Resubmit, out: &mut Vec<u8>) {
    if r.with_ct_orig || r.table_id != 0xff || r.raw == ResubmitRaw::ResubmitTable {
        let start = begin_nx(out, if r.with_ct_orig { 44 } else { 14 });
        out.extend_from_slice(&r.in_port.0.to_be_bytes());
        out.push(r.table_id);
        finish(out, start, 16);
    } else {
        let start = begin_nx(out, 1);
        out.extend_from_slice(&r.in_port.0.to_be_bytes());
        finish(out, start, 16);
    }
}

fn encode_move(m: &RegMove, version: OfpVersion, out: &mut Vec<u8>) {
    if version >= OfpVersion::Of15 {
        let start = begin_std(out, 28);
        out.extend_from_slice(&(m.src.n_bits as u16).to_be_bytes());
        out.extend_from_slice(&(m.src.ofs as u16).to_be_bytes());
        out.extend_from_slice(&(m.dst.ofs as u16).to_be_bytes());
        out.extend_from_slice(&[0, 0]);
        put_oxm_header(m.src.field, version, false, out);
        put_oxm_header(m.dst.field, version, false, out);
        finish(out, start, 16);
    } else if version >= OfpVersion::Of13 && m.raw == RegMoveRaw::OnfCopyField {
        let start = begin_ext(out, raw::ONF_VENDOR_ID, 3200);
        out.extend_from_slice(&[0, 0]);
        out.extend_from_slice(&(m.src.n_bits as u16).to_be_bytes());
        out.extend_from_slice(&(m.src.ofs as u16).to_be_bytes());
        out.extend_from_slice(&(m.dst.ofs as u16).to_be_bytes());
        out.extend_from_slice(&[0, 0]);
        put_oxm_header(m.src.field, version, false, out);
        put_oxm_header(m.dst.field, version, false, out);
        finish(out, start, 24);
    } else {
        let start = begin_nx(out, 6);
        out.extend_from_slice(&(m.src.n_bits as u16).to_be_bytes());
        out.extend_from_slice(&(m.src.ofs as u16).to_be_bytes());
        out.extend_from_slice(&(m.dst.ofs as u16).to_be_bytes());
        put_nx_header(m.src.field, out);
        put_nx_header(m.dst.field, out);
        finish(out, start, 24);
    }
}

fn encode_controller(c: &Controller, version: OfpVersion, out: &mut Vec<u8>) {
    if !c.userdata.is_empty()
        || c.pause
        || c.meter_id != NX_CTLR_NO_METER
        || c.raw == ControllerRaw::Controller2
    {
        let start = begin_nx(out, 37);
        out.extend_from_slice(&[0; 6]);
        let prop = |out: &mut Vec<u8>, ty: u16, body: &[u8]| {
            let ps = out.len();
            out.extend_from_slice(&ty.to_be_bytes());
            out.extend_from_slice(&((4 + body.len()) as u16).to_be_bytes());
            out.extend_from_slice(body);
            while (out.len() - ps) % 8 != 0 {
                out.push(0);
            }
        };
        if c.max_len != u16::MAX {
            prop(out, 0, &[(c.max_len >> 8) as u8, c.max_len as u8, 0, 0]);
        }
        if c.controller_id != 0 {
            prop(
                out,
                1,
                &[(c.controller_id >> 8) as u8, c.controller_id as u8, 0, 0],
            );
        }
        if c.reason != PacketInReason::Action {
            prop(out, 2, &[c.reason as u8]);
        }
        if !c.userdata.is_empty() {
            prop(out, 3, &c.userdata);
        }
        if c.pause {
            prop(out, 4, &[]);
        }
        if c.meter_id != NX_CTLR_NO_METER {
            prop(out, 5, &c.meter_id.to_be_bytes());
        }
        finish(out, start, 16);
    } else if c.controller_id == 0
        && c.reason == PacketInReason::Action
        && c.raw == ControllerRaw::Auto
    {
        put_output(out, OfpPort::CONTROLLER, c.max_len, version);
    } else {
        let start = begin_nx(out, 20);
        out.extend_from_slice(&c.max_len.to_be_bytes());
        out.extend_from_slice(&c.controller_id.to_be_bytes());
        out.push(c.reason as u8);
        finish(out, start, 16);
    }
}

fn encode_sample(s: &Sample, out: &mut Vec<u8>) {
    let sub = if s.direction != SampleDirection::Default || s.raw == SampleRaw::Sample3 {
        41
    } else if s.sampling_port != OfpPort::NONE || s.raw == SampleRaw::Sample2 {
        38
    } else {
        29
    };
    let start = begin_nx(out, sub);
    out.extend_from_slice(&s.probability.to_be_bytes());
    out.extend_from_slice(&s.collector_set_id.to_be_bytes());
    out.extend_from_slice(&s.obs_domain_id.to_be_bytes());
    out.extend_from_slice(&s.obs_point_id.to_be_bytes());
    if sub != 29 {
        out.extend_from_slice(&s.sampling_port.0.to_be_bytes());
        if sub == 41 {
            out.push(s.direction as u8);
        }
        finish(out, start, 32);
    } else {
        finish(out, start, 24);
    }
}

fn encode_encap(e: &Encap, out: &mut Vec<u8>) {
    let start = begin_nx(out, 46);
    out.extend_from_slice(&[0, 0]);
    out.extend_from_slice(&e.new_pkt_type.to_be_bytes());
    for p in &e.props {
        let ps = out.len();
        match p {
            EncapProperty::NshMdType(md) => {
                out.extend_from_slice(&[0, 4, 1, 5, *md]);
            }
            EncapProperty::NshTlv {
                class,
                tlv_type,
                value,
            } => {
                out.extend_from_slice(&[0, 4, 2, 0]);
                out.extend_from_slice(&class.to_be_bytes());
                out.push(*tlv_type);
                out.push(value.len() as u8);
                out.extend_from_slice(value);
                let len = (out.len() - ps) as u8;
                out[ps + 3] = len;
            }
        }
        while (out.len() - ps) % 8 != 0 {
            out.push(0);
        }
    }
    finish(out, start, 16);
}
