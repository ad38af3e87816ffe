//! Matches on the wire: NXM (`nx_match`, Nicira), OXM (`ofp11_match` of
//! type OXM, OpenFlow 1.2+) and the fixed OpenFlow 1.0 `ofp10_match`,
//! decoded into and encoded from the `flow` crate's [`Match`].
//!
//! Decoding checks what upstream checks and fails with the same errors:
//! lengths (`OFPBMC_BAD_LEN`), unknown fields when strict
//! (`OFPBMC_BAD_FIELD`), masks on unmaskable fields (`OFPBMC_BAD_MASK`),
//! invalid values (`OFPBMC_BAD_VALUE`), unmet prerequisites
//! (`OFPBMC_BAD_PREREQ`) and repeated fields (`OFPBMC_DUP_FIELD`).

use crate::errors::OfpErr;
use crate::wire::{pad8, Put, Reader};
use flow::{FieldId, Match, MfHeader, MfValue};

/// Whether `value` is acceptable for `field` (upstream's
/// `mf_is_value_valid`, for the fields whose range is narrower than their
/// width).
fn value_valid(field: FieldId, value: &MfValue) -> bool {
    let x = value.to_u64();
    match field {
        FieldId::InPortOxm | FieldId::ActsetOutput => {
            crate::bits::port_from_ofp11(x as u32).is_some()
        }
        FieldId::DlVlan => x & 0xf000 == 0,
        FieldId::VlanVid => x & 0xe000 == 0,
        FieldId::DlVlanPcp | FieldId::VlanPcp => x < 8,
        FieldId::IpDscp => x & 0x03 == 0,
        FieldId::IpDscpShifted => x < 64,
        FieldId::IpEcn => x < 4,
        FieldId::IpFrag => x & !3 == 0,
        FieldId::CtState => x & !0xff == 0,
        FieldId::ArpOp => x < 256,
        FieldId::Ipv6Label => x < (1 << 20),
        FieldId::MplsLabel => x < (1 << 20),
        FieldId::MplsTc => x < 8,
        FieldId::MplsBos => x < 2,
        _ => true,
    }
}

/// The NXM pseudo-field `NXM_NX_COOKIE` (class 1, field 30): a flow
/// cookie and mask carried inside an NXM match (NXT_FLOW_MOD and friends).
pub(crate) const NXM_NX_COOKIE_CLASS: u16 = 0x0001;
pub(crate) const NXM_NX_COOKIE_FIELD: u8 = 30;

/// A cookie and cookie mask carried as `NXM_NX_COOKIE[_W]`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NxmCookie {
    pub cookie: u64,
    pub mask: u64,
}

/// Decodes NXM/OXM entries filling `bytes` (no padding) into a match.
pub fn pull_entries(bytes: &[u8], strict: bool) -> Result<Match, OfpErr> {
    pull_entries_full(bytes, strict, false, None)
}

/// Fields that describe a packet's pipeline context rather than its
/// headers (upstream's `mf_is_pipeline_field`).
pub fn is_pipeline_field(field: FieldId) -> bool {
    let name = field.name();
    name.starts_with("tun_")
        || name.starts_with("reg")
        || name.starts_with("xreg")
        || name.starts_with("xxreg")
        || matches!(
            field,
            FieldId::Metadata | FieldId::InPort | FieldId::InPortOxm | FieldId::PacketType
        )
}

/// [`pull_entries`], optionally accepting only pipeline fields (as
/// OpenFlow 1.5 packet-outs require: `OFPBRC_PIPELINE_FIELDS_ONLY`).
pub fn pull_entries_opts(bytes: &[u8], strict: bool, pipeline_only: bool) -> Result<Match, OfpErr> {
    pull_entries_full(bytes, strict, pipeline_only, None)
}

/// Like [`pull_entries`], also accepting `NXM_NX_COOKIE[_W]` into `cookie`
/// (without it, the cookie is an unknown field).
pub fn pull_entries_cookie(
    bytes: &[u8],
    strict: bool,
    cookie: &mut NxmCookie,
) -> Result<Match, OfpErr> {
    pull_entries_full(bytes, strict, false, Some(cookie))
}

fn pull_entries_full(
    bytes: &[u8],
    strict: bool,
    pipeline_only: bool,
    mut cookie: Option<&mut NxmCookie>,
) -> Result<Match, OfpErr> {
    let mut m = Match::catchall();
    let mut r = Reader::new(bytes);
    while !r.is_empty() {
        // Some senders count alignment padding in the match length.
        if r.remaining() < 8 && r.rest().iter().all(|&b| b == 0) {
            break;
        }
        let (header, hlen) = MfHeader::pull(r.rest()).ok_or(OfpErr::OFPBMC_BAD_LEN)?;
        r.skip(hlen).ok_or(OfpErr::OFPBMC_BAD_LEN)?;
        let payload = usize::from(header.length).saturating_sub(hlen - 4);
        if header.length == 0 || (header.is_experimenter() && header.length < 4) {
            return Err(OfpErr::OFPBMC_BAD_LEN);
        }
        let body = r.bytes(payload).ok_or(OfpErr::OFPBMC_BAD_LEN)?;
        if header.class == NXM_NX_COOKIE_CLASS
            && header.field == NXM_NX_COOKIE_FIELD
            && payload == if header.has_mask { 16 } else { 8 }
        {
            if let Some(c) = cookie.as_deref_mut() {
                if c.mask != 0 {
                    return Err(OfpErr::OFPBMC_DUP_FIELD);
                }
                let value = u64::from_be_bytes(body[..8].try_into().unwrap_or([0; 8]));
                let mask = if header.has_mask {
                    u64::from_be_bytes(body[8..16].try_into().unwrap_or([0; 8]))
                } else {
                    u64::MAX
                };
                if strict && value & !mask != 0 {
                    return Err(OfpErr::OFPBMC_BAD_WILDCARDS);
                }
                c.cookie = value & mask;
                c.mask = mask;
                continue;
            }
        }
        // Upstream knows a header only with the field's own length (tunnel
        // metadata excepted); any other length is an unknown field.
        let known = FieldId::from_nxm_header(&header).filter(|f| {
            let d = f.def();
            let w = if header.has_mask {
                payload / 2
            } else {
                payload
            };
            d.variable_len || w == d.n_bytes
        });
        let Some(field) = known else {
            if strict {
                return Err(OfpErr::OFPBMC_BAD_FIELD);
            }
            continue;
        };
        if pipeline_only && !is_pipeline_field(field) {
            return Err(OfpErr::OFPBRC_PIPELINE_FIELDS_ONLY);
        }
        let def = field.def();
        let width = if header.has_mask {
            payload / 2
        } else {
            payload
        };
        if (header.has_mask && payload % 2 != 0)
            || (!def.variable_len && width != def.n_bytes)
            || (def.variable_len && width > def.n_bytes)
        {
            return Err(OfpErr::OFPBMC_BAD_LEN);
        }
        // A masked tunnel metadata option stays masked, whatever its mask:
        // value and mask are widened to the whole field with zeros.
        let widen = |b: &[u8]| {
            if header.has_mask && def.variable_len {
                let mut wide = vec![0u8; def.n_bytes - b.len()];
                wide.extend_from_slice(b);
                MfValue::from_bytes(&wide)
            } else {
                MfValue::from_bytes(b)
            }
        };
        let value = widen(&body[..width]);
        let mask = if header.has_mask {
            let mask = widen(&body[width..2 * width]);
            if !def.maskable && !mask.is_all_ones() && !mask.is_zero() {
                return Err(OfpErr::OFPBMC_BAD_MASK);
            }
            if strict && !value.and(&mask.not()).is_zero() {
                return Err(OfpErr::OFPBMC_BAD_WILDCARDS);
            }
            mask
        } else {
            MfValue::ones(width)
        };
        if !value_valid(field, &value) {
            return Err(OfpErr::OFPBMC_BAD_VALUE);
        }
        if !m.prereqs_ok(field) {
            return Err(OfpErr::OFPBMC_BAD_PREREQ);
        }
        if !m.is_field_wild(field) {
            return Err(OfpErr::OFPBMC_DUP_FIELD);
        }
        m.set_field_masked(field, &value, &mask)
            .map_err(|_| OfpErr::OFPBMC_BAD_VALUE)?;
        m.add_ethernet_prereq(field);
        // A packet type in the Ethertype namespace implies the Ethertype
        // (for later prerequisites such as NSH's), as when parsed from text.
        if m.wc.packet_type == u32::MAX && m.flow.packet_type >> 16 == 1 {
            m.flow.dl_type = m.flow.packet_type as u16;
        }
    }
    Ok(m)
}

/// Pulls an NXM match of `match_len` bytes plus its padding to 8 bytes.
pub fn pull_nxm(r: &mut Reader<'_>, match_len: usize, strict: bool) -> Result<Match, OfpErr> {
    let padded = pad8(match_len);
    if padded > r.remaining() {
        return Err(OfpErr::OFPBMC_BAD_LEN);
    }
    let bytes = r.bytes(padded).ok_or(OfpErr::OFPBMC_BAD_LEN)?;
    pull_entries(&bytes[..match_len], strict)
}

/// Pulls an OpenFlow 1.2+ `ofp11_match` of type OXM with its padding.
pub fn pull_oxm(r: &mut Reader<'_>, strict: bool) -> Result<Match, OfpErr> {
    pull_oxm_opts(r, strict, false)
}

/// [`pull_oxm`] with the pipeline-fields restriction of
/// [`pull_entries_opts`].
pub fn pull_oxm_opts(
    r: &mut Reader<'_>,
    strict: bool,
    pipeline_only: bool,
) -> Result<Match, OfpErr> {
    let mut head = *r;
    let mtype = head.u16().ok_or(OfpErr::OFPBMC_BAD_LEN)?;
    let len = usize::from(head.u16().ok_or(OfpErr::OFPBMC_BAD_LEN)?);
    if mtype != 1 {
        return Err(OfpErr::OFPBMC_BAD_TYPE);
    }
    if len < 4 || pad8(len) > r.remaining() {
        return Err(OfpErr::OFPBMC_BAD_LEN);
    }
    let bytes = r.bytes(pad8(len)).ok_or(OfpErr::OFPBMC_BAD_LEN)?;
    pull_entries_opts(&bytes[4..len], strict, pipeline_only)
}

/// Pulls an `ofp11_match`: the OpenFlow 1.1 standard match (type 0) or
/// an OXM match (type 1).
pub fn pull_ofp11_match(r: &mut Reader<'_>, strict: bool) -> Result<Match, OfpErr> {
    let mut head = *r;
    let mtype = head.u16().ok_or(OfpErr::OFPBMC_BAD_LEN)?;
    if mtype != 0 {
        return pull_oxm(r, strict);
    }
    let len = head.u16().ok_or(OfpErr::OFPBMC_BAD_LEN)?;
    if len != 88 {
        return Err(OfpErr::OFPBMC_BAD_LEN);
    }
    decode_ofp11_match(r.bytes(88).ok_or(OfpErr::OFPBMC_BAD_LEN)?)
}

/// Upstream's `ofputil_match_from_ofp11_match` (masks on the wire have
/// 1-bits for "don't care").
pub fn decode_ofp11_match(b: &[u8]) -> Result<Match, OfpErr> {
    let bad = OfpErr::OFPBMC_BAD_LEN;
    let bv = OfpErr::OFPBMC_BAD_VALUE;
    let mut r = Reader::new(b);
    r.skip(4).ok_or(bad)?;
    let in_port = r.u32().ok_or(bad)?;
    let wc = r.u32().ok_or(bad)?;
    let dl_src: [u8; 6] = r.array().ok_or(bad)?;
    let dl_src_mask: [u8; 6] = r.array().ok_or(bad)?;
    let dl_dst: [u8; 6] = r.array().ok_or(bad)?;
    let dl_dst_mask: [u8; 6] = r.array().ok_or(bad)?;
    let dl_vlan = r.u16().ok_or(bad)?;
    let dl_vlan_pcp = r.u8().ok_or(bad)?;
    r.skip(1).ok_or(bad)?;
    let dl_type = r.u16().ok_or(bad)?;
    let nw_tos = r.u8().ok_or(bad)?;
    let nw_proto = r.u8().ok_or(bad)?;
    let nw_src = r.u32().ok_or(bad)?;
    let nw_src_mask = r.u32().ok_or(bad)?;
    let nw_dst = r.u32().ok_or(bad)?;
    let nw_dst_mask = r.u32().ok_or(bad)?;
    let tp_src = r.u16().ok_or(bad)?;
    let tp_dst = r.u16().ok_or(bad)?;
    let mpls_label = r.u32().ok_or(bad)?;
    let mpls_tc = r.u8().ok_or(bad)?;
    r.skip(3).ok_or(bad)?;
    let metadata = r.u64().ok_or(bad)?;
    let metadata_mask = r.u64().ok_or(bad)?;

    let mut m = Match::catchall();
    if wc & 1 == 0 {
        let p = crate::bits::port_from_ofp11(in_port).ok_or_else(|| {
            vlog::warn!(
                "ofp_port",
                "port {} is outside the supported range 0 through {} or 0x{:x} through 0x{:x}",
                in_port,
                crate::bits::ofpp::MAX - 1,
                0xffff_ff00u32,
                u32::MAX
            );
            bv
        })?;
        m.flow.in_port = u32::from(p);
        m.wc.in_port = u32::MAX;
    }
    let inv6 = |a: [u8; 6]| a.map(|x| !x);
    m.wc.dl_src = inv6(dl_src_mask);
    m.wc.dl_dst = inv6(dl_dst_mask);
    for i in 0..6 {
        m.flow.dl_src[i] = dl_src[i] & m.wc.dl_src[i];
        m.flow.dl_dst[i] = dl_dst[i] & m.wc.dl_dst[i];
    }
    if wc & 2 == 0 {
        if dl_vlan == OFPVID11_NONE {
            m.flow.vlans[0].tci = 0;
            m.wc.vlans[0].tci = 0xffff;
        } else {
            if dl_vlan == OFPVID11_ANY {
                m.flow.vlans[0].tci = VLAN_CFI;
                m.wc.vlans[0].tci = VLAN_CFI;
            } else if dl_vlan < 4096 {
                m.flow.vlans[0].tci = VLAN_CFI | dl_vlan;
                m.wc.vlans[0].tci = VLAN_CFI | 0x0fff;
            } else {
                return Err(bv);
            }
            if wc & 4 == 0 {
                if dl_vlan_pcp > 7 {
                    return Err(bv);
                }
                m.flow.vlans[0].tci |= u16::from(dl_vlan_pcp) << 13;
                m.wc.vlans[0].tci |= 0xe000;
            }
        }
    }
    if wc & 8 == 0 {
        m.set_dl_type(if dl_type < 0x600 { 0x5ff } else { dl_type });
    }
    let ipv4 = m.wc.dl_type != 0 && m.flow.dl_type == 0x0800;
    let arp = m.wc.dl_type != 0 && m.flow.dl_type == 0x0806;
    if ipv4 && wc & 16 == 0 {
        if nw_tos & 0x03 != 0 {
            return Err(bv);
        }
        m.flow.nw_tos = (m.flow.nw_tos & 0x03) | nw_tos;
        m.wc.nw_tos |= 0xfc;
    }
    if ipv4 || arp {
        if wc & 32 == 0 {
            m.set_nw_proto(nw_proto);
        }
        m.wc.nw_src = !nw_src_mask;
        m.flow.nw_src = nw_src & m.wc.nw_src;
        m.wc.nw_dst = !nw_dst_mask;
        m.flow.nw_dst = nw_dst & m.wc.nw_dst;
    }
    if ipv4 && m.wc.nw_proto != 0 && m.flow.nw_proto == 1 {
        // Not in OpenFlow 1.1's text, but upstream keeps ICMP type and code
        // as OpenFlow 1.0 does.
        if wc & 64 == 0 {
            if tp_src >= 0x100 {
                return Err(OfpErr::OFPBMC_BAD_FIELD);
            }
            m.flow.tp_src = tp_src;
            m.wc.tp_src = u16::MAX;
        }
        if wc & 128 == 0 {
            if tp_dst >= 0x100 {
                return Err(OfpErr::OFPBMC_BAD_FIELD);
            }
            m.flow.tp_dst = tp_dst;
            m.wc.tp_dst = u16::MAX;
        }
    }
    if ipv4 && wc & 0xc0 != 0xc0 && matches!(m.flow.nw_proto, 6 | 17 | 132) {
        if wc & 64 == 0 {
            m.flow.tp_src = tp_src;
            m.wc.tp_src = u16::MAX;
        }
        if wc & 128 == 0 {
            m.flow.tp_dst = tp_dst;
            m.wc.tp_dst = u16::MAX;
        }
    }
    if m.wc.dl_type != 0 && (m.flow.dl_type == 0x8847 || m.flow.dl_type == 0x8848) {
        if wc & 256 == 0 {
            m.flow.mpls_lse[0] = (m.flow.mpls_lse[0] & !0xffff_f000) | (mpls_label << 12);
            m.wc.mpls_lse[0] |= 0xffff_f000;
        }
        if wc & 512 == 0 {
            m.flow.mpls_lse[0] = (m.flow.mpls_lse[0] & !0xe00) | (u32::from(mpls_tc & 7) << 9);
            m.wc.mpls_lse[0] |= 0xe00;
        }
    }
    m.wc.metadata = !metadata_mask;
    m.flow.metadata = metadata & m.wc.metadata;
    Ok(m)
}

/// `dl_vlan` of an `ofp11_match` for "any VLAN tag" and "no VLAN tag".
const OFPVID11_ANY: u16 = 0xfffe;
const OFPVID11_NONE: u16 = 0xffff;

/// Upstream's `ofputil_match_to_ofp11_match`: the 88-byte OpenFlow 1.1
/// standard match (masks with 1-bits for "don't care"; of an MPLS label
/// stack entry only the outermost label and traffic class).
pub fn encode_ofp11_match(m: &Match, out: &mut Vec<u8>) {
    let (f, w) = (&m.flow, &m.wc);
    let mut wc: u32 = 0;
    let mut in_port = 0;
    if w.in_port == 0 {
        wc |= 1;
    } else {
        in_port = crate::bits::port_to_ofp11(f.in_port as u16);
    }
    let (mut dl_vlan, mut dl_vlan_pcp) = (0u16, 0u8);
    let tci_mask = w.vlans[0].tci;
    if tci_mask == 0 {
        wc |= 2 | 4;
    } else if tci_mask & VLAN_CFI != 0 && f.vlans[0].tci & VLAN_CFI == 0 {
        dl_vlan = OFPVID11_NONE;
        wc |= 4;
    } else {
        dl_vlan = if tci_mask & 0x0fff == 0 {
            OFPVID11_ANY
        } else {
            f.vlans[0].tci & 0x0fff
        };
        if tci_mask & 0xe000 == 0 {
            wc |= 4;
        } else {
            dl_vlan_pcp = (f.vlans[0].tci >> 13) as u8;
        }
    }
    let mut dl_type = 0;
    if w.dl_type == 0 {
        wc |= 8;
    } else {
        dl_type = if f.dl_type == 0x5ff { 0x5ff } else { f.dl_type };
    }
    let mut nw_tos = 0;
    if w.nw_tos & 0xfc == 0 {
        wc |= 16;
    } else {
        nw_tos = f.nw_tos & 0xfc;
    }
    let mut nw_proto = 0;
    if w.nw_proto == 0 {
        wc |= 32;
    } else {
        nw_proto = f.nw_proto;
    }
    let (mut tp_src, mut tp_dst) = (0, 0);
    if w.tp_src == 0 {
        wc |= 64;
    } else {
        tp_src = f.tp_src;
    }
    if w.tp_dst == 0 {
        wc |= 128;
    } else {
        tp_dst = f.tp_dst;
    }
    let (mut mpls_label, mut mpls_tc) = (0, 0);
    if w.mpls_lse[0] & 0xffff_f000 == 0 {
        wc |= 256;
    } else {
        mpls_label = f.mpls_lse[0] >> 12;
    }
    if w.mpls_lse[0] & 0xe00 == 0 {
        wc |= 512;
    } else {
        mpls_tc = ((f.mpls_lse[0] >> 9) & 7) as u8;
    }
    out.put_u16(0);
    out.put_u16(88);
    out.put_u32(in_port);
    out.put_u32(wc);
    out.extend_from_slice(&f.dl_src);
    out.extend(w.dl_src.iter().map(|b| !b));
    out.extend_from_slice(&f.dl_dst);
    out.extend(w.dl_dst.iter().map(|b| !b));
    out.put_u16(dl_vlan);
    out.put_u8(dl_vlan_pcp);
    out.put_zeros(1);
    out.put_u16(dl_type);
    out.put_u8(nw_tos);
    out.put_u8(nw_proto);
    out.put_u32(f.nw_src);
    out.put_u32(!w.nw_src);
    out.put_u32(f.nw_dst);
    out.put_u32(!w.nw_dst);
    out.put_u16(tp_src);
    out.put_u16(tp_dst);
    out.put_u32(mpls_label);
    out.put_u8(mpls_tc);
    out.put_zeros(3);
    out.put_u64(f.metadata);
    out.put_u64(!w.metadata);
}

/// Encodes a match as NXM entries (unpadded); returns the bytes.
pub fn put_nxm(m: &Match) -> Vec<u8> {
    put_nxm_cookie(m, NxmCookie::default())
}

/// Encodes a match and, when its mask is nonzero, a cookie as NXM entries
/// (unpadded; the cookie comes last, as upstream puts it).
pub fn put_nxm_cookie(m: &Match, cookie: NxmCookie) -> Vec<u8> {
    let mut out = crate::nx_put::put_raw(m, None);
    if cookie.mask != 0 {
        let exact = cookie.mask == u64::MAX;
        let len: u32 = if exact { 8 } else { 16 };
        let h = (u32::from(NXM_NX_COOKIE_CLASS) << 16)
            | (u32::from(NXM_NX_COOKIE_FIELD) << 9)
            | if exact { 0 } else { 0x100 }
            | len;
        out.put_u32(h);
        out.put_u64(cookie.cookie & cookie.mask);
        if !exact {
            out.put_u64(cookie.mask);
        }
    }
    out
}

/// Encodes a match as the `ofp11_match` of OpenFlow `version`, padded: the
/// standard match for OpenFlow 1.1, OXM from 1.2 on.
pub fn put_oxm(m: &Match, version: u8) -> Vec<u8> {
    if version == 2 {
        let mut out = Vec::with_capacity(88);
        encode_ofp11_match(m, &mut out);
        return out;
    }
    let entries = crate::nx_put::put_raw(m, Some(version));
    let mut out = Vec::with_capacity(pad8(entries.len() + 4));
    out.put_u16(1);
    out.put_u16((entries.len() + 4) as u16);
    out.extend_from_slice(&entries);
    out.put_zeros(pad8(out.len()) - out.len());
    out
}

/// OpenFlow 1.0 wildcard bits.
mod ofpfw10 {
    pub const IN_PORT: u32 = 1 << 0;
    pub const DL_VLAN: u32 = 1 << 1;
    pub const DL_SRC: u32 = 1 << 2;
    pub const DL_DST: u32 = 1 << 3;
    pub const DL_TYPE: u32 = 1 << 4;
    pub const NW_PROTO: u32 = 1 << 5;
    pub const TP_SRC: u32 = 1 << 6;
    pub const TP_DST: u32 = 1 << 7;
    pub const NW_SRC_SHIFT: u32 = 8;
    pub const NW_DST_SHIFT: u32 = 14;
    pub const DL_VLAN_PCP: u32 = 1 << 20;
    pub const NW_TOS: u32 = 1 << 21;
    pub const ALL: u32 = (1 << 22) - 1;
}

fn wcbits_to_netmask(n: u32) -> u32 {
    let n = n & 0x3f;
    if n < 32 {
        !((1u32 << n) - 1)
    } else {
        0
    }
}

fn netmask_to_wcbits(mask: u32) -> u32 {
    32 - mask.count_ones().min(32)
}

const VLAN_CFI: u16 = 0x1000;

/// Upstream's `ofputil_match_from_ofp10_match`.
pub fn decode_ofp10_match(b: &[u8]) -> Result<Match, OfpErr> {
    let bad = OfpErr::OFPBRC_BAD_LEN;
    let mut r = Reader::new(b);
    let wc = r.u32().ok_or(bad)? & ofpfw10::ALL;
    let in_port = r.u16().ok_or(bad)?;
    let dl_src: [u8; 6] = r.array().ok_or(bad)?;
    let dl_dst: [u8; 6] = r.array().ok_or(bad)?;
    let dl_vlan = r.u16().ok_or(bad)?;
    let dl_vlan_pcp = r.u8().ok_or(bad)?;
    r.skip(1).ok_or(bad)?;
    let dl_type = r.u16().ok_or(bad)?;
    let nw_tos = r.u8().ok_or(bad)?;
    let nw_proto = r.u8().ok_or(bad)?;
    r.skip(2).ok_or(bad)?;
    let nw_src = r.u32().ok_or(bad)?;
    let nw_dst = r.u32().ok_or(bad)?;
    let tp_src = r.u16().ok_or(bad)?;
    let tp_dst = r.u16().ok_or(bad)?;

    let mut m = Match::catchall();
    let (f, w) = (&mut m.flow, &mut m.wc);
    if wc & ofpfw10::IN_PORT == 0 {
        w.in_port = u32::MAX;
    }
    if wc & ofpfw10::NW_TOS == 0 {
        w.nw_tos |= 0xfc;
    }
    if wc & ofpfw10::NW_PROTO == 0 {
        w.nw_proto = u8::MAX;
    }
    w.nw_src = wcbits_to_netmask(wc >> ofpfw10::NW_SRC_SHIFT);
    w.nw_dst = wcbits_to_netmask(wc >> ofpfw10::NW_DST_SHIFT);
    if wc & ofpfw10::TP_SRC == 0 {
        w.tp_src = u16::MAX;
    }
    if wc & ofpfw10::TP_DST == 0 {
        w.tp_dst = u16::MAX;
    }
    if wc & ofpfw10::DL_SRC == 0 {
        w.dl_src = [0xff; 6];
    }
    if wc & ofpfw10::DL_DST == 0 {
        w.dl_dst = [0xff; 6];
    }
    if wc & ofpfw10::DL_TYPE == 0 {
        w.dl_type = u16::MAX;
    }
    if wc & ofpfw10::DL_VLAN_PCP == 0 {
        w.vlans[0].tci |= 0xe000 | VLAN_CFI;
    }
    if wc & ofpfw10::DL_VLAN == 0 {
        w.vlans[0].tci |= 0x0fff | VLAN_CFI;
    }
    f.nw_src = nw_src;
    f.nw_dst = nw_dst;
    f.in_port = u32::from(in_port);
    f.dl_type = if dl_type < 0x600 { 0x5ff } else { dl_type };
    f.tp_src = tp_src;
    f.tp_dst = tp_dst;
    f.dl_src = dl_src;
    f.dl_dst = dl_dst;
    f.nw_tos = nw_tos & 0xfc;
    f.nw_proto = nw_proto;
    if wc & ofpfw10::DL_VLAN == 0 && dl_vlan == 0xffff {
        f.vlans[0].tci = 0;
        w.vlans[0].tci = 0xffff;
    } else {
        let vid = dl_vlan & 0x0fff;
        let pcp = (u16::from(dl_vlan_pcp) << 13) & 0xe000;
        f.vlans[0].tci = (vid | pcp | VLAN_CFI) & w.vlans[0].tci;
    }
    m.flow = m.flow.and(&m.wc);
    Ok(m)
}

/// Upstream's `ofputil_match_to_ofp10_match`.
pub fn encode_ofp10_match(m: &Match, out: &mut Vec<u8>) {
    let (f, w) = (&m.flow, &m.wc);
    let mut wc = 0;
    if w.in_port == 0 {
        wc |= ofpfw10::IN_PORT;
    }
    let (dl_vlan, dl_vlan_pcp);
    if w.vlans[0].tci == 0 {
        wc |= ofpfw10::DL_VLAN | ofpfw10::DL_VLAN_PCP;
        dl_vlan = 0;
        dl_vlan_pcp = 0;
    } else if w.vlans[0].tci & VLAN_CFI != 0 && f.vlans[0].tci & VLAN_CFI == 0 {
        dl_vlan = 0xffff;
        dl_vlan_pcp = 0;
    } else {
        if w.vlans[0].tci & 0x0fff == 0 {
            wc |= ofpfw10::DL_VLAN;
        }
        if w.vlans[0].tci & 0xe000 == 0 {
            wc |= ofpfw10::DL_VLAN_PCP;
        }
        dl_vlan = f.vlans[0].tci & 0x0fff;
        dl_vlan_pcp = (f.vlans[0].tci >> 13) as u8;
    }
    if w.nw_tos & 0xfc == 0 {
        wc |= ofpfw10::NW_TOS;
    }
    if w.nw_proto == 0 {
        wc |= ofpfw10::NW_PROTO;
    }
    wc |= netmask_to_wcbits(w.nw_src) << ofpfw10::NW_SRC_SHIFT;
    wc |= netmask_to_wcbits(w.nw_dst) << ofpfw10::NW_DST_SHIFT;
    if w.tp_src == 0 {
        wc |= ofpfw10::TP_SRC;
    }
    if w.tp_dst == 0 {
        wc |= ofpfw10::TP_DST;
    }
    if w.dl_src == [0; 6] {
        wc |= ofpfw10::DL_SRC;
    }
    if w.dl_dst == [0; 6] {
        wc |= ofpfw10::DL_DST;
    }
    if w.dl_type == 0 {
        wc |= ofpfw10::DL_TYPE;
    }
    out.put_u32(wc);
    out.put_u16(f.in_port as u16);
    out.extend_from_slice(&f.dl_src);
    out.extend_from_slice(&f.dl_dst);
    out.put_u16(dl_vlan);
    out.put_u8(dl_vlan_pcp);
    out.put_zeros(1);
    out.put_u16(if f.dl_type == 0x5ff { 0x5ff } else { f.dl_type });
    out.put_u8(f.nw_tos);
    out.put_u8(f.nw_proto);
    out.put_zeros(2);
    out.put_u32(f.nw_src);
    out.put_u32(f.nw_dst);
    out.put_u16(f.tp_src);
    out.put_u16(f.tp_dst);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn nxm_in_port() {
        let m = pull_entries(&hex("0000000200010000")[..6], true).unwrap();
        assert_eq!(m.format(0x8000), "in_port=1");
        assert_eq!(put_nxm(&m), hex("000000020001"));
    }

    #[test]
    fn nxm_errors() {
        // Duplicate in_port.
        assert_eq!(
            pull_entries(&hex("000000020001000000020001"), true).err(),
            Some(OfpErr::OFPBMC_DUP_FIELD)
        );
        // tcp_src without its prerequisites.
        assert_eq!(
            pull_entries(&hex("0000120200"), true).err(),
            Some(OfpErr::OFPBMC_BAD_LEN)
        );
        assert_eq!(
            pull_entries(&hex("000012020050"), true).err(),
            Some(OfpErr::OFPBMC_BAD_PREREQ)
        );
    }

    /// Tunnel metadata entries as the reference `ovs-ofctl add-flow` puts
    /// them (without a TLV map): as many bytes as the value or mask needs,
    /// masked whenever the flow gave a mask; and back unchanged.
    #[test]
    fn nxm_tun_metadata_lengths() {
        for (text, entry) in [
            ("tun_metadata0=0x1", "0001500101"),
            ("tun_metadata0=0x1/0xffff", "000151040001ffff"),
            ("tun_metadata0=0x10000/0xf0000", "00015106010000 0f0000"),
            ("tun_metadata0=0x1/0xffffffff", "0001510800000001ffffffff"),
        ] {
            let mut m = Match::catchall();
            let (name, value) = text.split_once('=').unwrap();
            let field = FieldId::from_name(name).unwrap();
            flow::flow_str::parse_field_into(&mut m, field, value, None, &mut Vec::new()).unwrap();
            let want = hex(&entry.replace(' ', ""));
            assert_eq!(put_nxm(&m), want, "{text}");
            assert_eq!(put_nxm(&pull_entries(&want, true).unwrap()), want, "{text}");
        }
    }

    #[test]
    fn oxm_round_trip() {
        let m = pull_entries(&hex("80000c021009"), true).unwrap();
        let b = put_oxm(&m, 4);
        let back = pull_oxm(&mut Reader::new(&b), true).unwrap();
        assert_eq!(back, m);
    }

    #[test]
    fn ofp11_standard_match() {
        let b = hex("00000058000000000000 03f7 000000000000ffffffffffff000000000000ffffffffffff 0000 00 00 0806 00 00 c0a88000 000000ff 00000000 ffffffff 0000 0000 00000000 00 000000 0000000000000000 ffffffffffffffff".replace(' ', "").as_str());
        let m = pull_ofp11_match(&mut Reader::new(&b), true).unwrap();
        assert_eq!(m.format(0x8000), "arp,arp_spa=192.168.128.0/24");
    }

    #[test]
    fn ofp10_match_round_trip() {
        let b =
            hex("000000000003505400000005505400000006ffff0000080600020000c0a80001c0a8000200000000");
        let m = decode_ofp10_match(&b).unwrap();
        let mut out = Vec::new();
        encode_ofp10_match(&m, &mut out);
        assert_eq!(decode_ofp10_match(&out).unwrap(), m);
    }
}
