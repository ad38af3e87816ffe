//! Wire format of the connection-tracking actions `ct` (NXAST_CT, with its
//! nested actions) and `nat` (NXAST_NAT).

use std::net::{Ipv4Addr, Ipv6Addr};

use super::decode::{be16, be32, decode_actions_in, ipv6_at, mf_check_src, zeros};
use super::encode::{encode_list, pad_to_8};
use super::OfpVersion;
use crate::actions::error::OfpErr;
use crate::actions::mf::{FieldId, MfHeader, Subfield};
use crate::actions::model::*;
use crate::actions::verify::Outer;

const NX_NAT_RANGE_IPV4_MIN: u16 = 1 << 0;
const NX_NAT_RANGE_IPV4_MAX: u16 = 1 << 1;
const NX_NAT_RANGE_IPV6_MIN: u16 = 1 << 2;
const NX_NAT_RANGE_IPV6_MAX: u16 = 1 << 3;
const NX_NAT_RANGE_PROTO_MIN: u16 = 1 << 4;
const NX_NAT_RANGE_PROTO_MAX: u16 = 1 << 5;

/// Decodes NXAST_CT (the whole action, `a`).
pub fn decode_ct(a: &[u8], version: OfpVersion) -> Result<OfpAction, OfpErr> {
    let flags = be16(a, 10);
    if flags & NX_CT_F_FORCE != 0 && flags & NX_CT_F_COMMIT == 0 {
        return Err(OfpErr::OfpbacBadArgument);
    }
    let zone_src_h = be32(a, 12);
    let zone = be16(a, 16);
    let mut ct = Ct {
        flags,
        recirc_table: a.get(18).copied().unwrap_or(0xff),
        alg: be16(a, 22),
        ..Ct::default()
    };
    if zone_src_h != 0 {
        let field = FieldId::from_nxm_header(&MfHeader::from_u32(zone_src_h))
            .ok_or(OfpErr::OfpbacBadSetType)?;
        let sf = Subfield {
            field,
            ofs: usize::from(zone >> 6),
            n_bits: usize::from(zone & 0x3f) + 1,
        };
        mf_check_src(&sf)?;
        if sf.n_bits != 16 {
            vlog::warn_rl!(
                &crate::actions::RL,
                "ofp_actions",
                "zone n_bits {} not within valid range [16..16]",
                sf.n_bits
            );
            return Err(OfpErr::OfpbacBadSetLen);
        }
        ct.zone_src = Some(sf);
    } else {
        ct.zone_imm = zone;
    }
    ct.actions = decode_actions_in(a.get(24..).unwrap_or(&[]), version, Outer::Ct)?;
    // Without commit, the only nested action allowed is a bare nat.
    let bare_nat = |x: &OfpAction| {
        matches!(x, OfpAction::Nat(n) if n.flags == 0
            && n.addr == NatAddrRange::None
            && n.proto_min == 0
            && n.proto_max == 0)
    };
    if flags & NX_CT_F_COMMIT == 0 && !ct.actions.iter().all(bare_nat) {
        vlog::warn_rl!(
            &crate::actions::RL,
            "ofp_actions",
            "CT action requires commit flag if actions other than NAT without arguments are specified."
        );
        return Err(OfpErr::OfpbacBadArgument);
    }
    Ok(OfpAction::Ct(Box::new(ct)))
}

/// Encodes `ct` into `out`.
pub fn encode_ct(ct: &Ct, version: OfpVersion, out: &mut Vec<u8>) {
    let start = out.len();
    out.extend_from_slice(&[0xff, 0xff, 0, 0, 0, 0, 0x23, 0x20, 0, 35]);
    out.extend_from_slice(&ct.flags.to_be_bytes());
    match &ct.zone_src {
        Some(sf) => {
            let h = sf.field.nxm_header(false).map(|h| h.to_u32()).unwrap_or(0);
            out.extend_from_slice(&h.to_be_bytes());
            out.extend_from_slice(
                &((sf.ofs << 6 | (sf.n_bits.saturating_sub(1) & 0x3f)) as u16).to_be_bytes(),
            );
        }
        None => {
            out.extend_from_slice(&0u32.to_be_bytes());
            out.extend_from_slice(&ct.zone_imm.to_be_bytes());
        }
    }
    out.push(ct.recirc_table);
    out.extend_from_slice(&[0, 0, 0]);
    out.extend_from_slice(&ct.alg.to_be_bytes());
    encode_list(&ct.actions, version, out);
    let len = (out.len() - start) as u16;
    out[start + 2..start + 4].copy_from_slice(&len.to_be_bytes());
}

/// Decodes NXAST_NAT.
pub fn decode_nat(a: &[u8]) -> Result<OfpAction, OfpErr> {
    let flags = be16(a, 12);
    let present = be16(a, 14);
    if flags & !NX_NAT_F_MASK != 0 || present & !0x3f != 0 {
        return Err(OfpErr::OfpbacBadArgument);
    }
    if flags & NX_NAT_F_SRC != 0 && flags & NX_NAT_F_DST != 0 {
        return Err(OfpErr::OfpbacBadArgument);
    }
    let mut nat = Nat {
        flags,
        ..Nat::default()
    };
    let mut p = 16usize;
    let need = |p: usize, n: usize| -> Result<(), OfpErr> {
        if p + n > a.len() {
            Err(OfpErr::OfpbacBadLen)
        } else {
            Ok(())
        }
    };
    if present & NX_NAT_RANGE_IPV4_MIN != 0 {
        if present & (NX_NAT_RANGE_IPV6_MIN | NX_NAT_RANGE_IPV6_MAX) != 0 {
            return Err(OfpErr::OfpbacBadArgument);
        }
        need(p, 4)?;
        let min = Ipv4Addr::from(be32(a, p));
        p += 4;
        let mut max = Ipv4Addr::UNSPECIFIED;
        if present & NX_NAT_RANGE_IPV4_MAX != 0 {
            need(p, 4)?;
            max = Ipv4Addr::from(be32(a, p));
            p += 4;
            if u32::from(max) < u32::from(min) {
                return Err(OfpErr::OfpbacBadArgument);
            }
        }
        nat.addr = NatAddrRange::V4 { min, max };
    } else if present & NX_NAT_RANGE_IPV4_MAX != 0 {
        return Err(OfpErr::OfpbacBadArgument);
    } else if present & NX_NAT_RANGE_IPV6_MIN != 0 {
        need(p, 16)?;
        let min = ipv6_at(a, p);
        p += 16;
        let mut max = Ipv6Addr::UNSPECIFIED;
        if present & NX_NAT_RANGE_IPV6_MAX != 0 {
            need(p, 16)?;
            max = ipv6_at(a, p);
            p += 16;
            if max.octets() < min.octets() {
                return Err(OfpErr::OfpbacBadArgument);
            }
        }
        nat.addr = NatAddrRange::V6 { min, max };
    } else if present & NX_NAT_RANGE_IPV6_MAX != 0 {
        return Err(OfpErr::OfpbacBadArgument);
    }
    if present & NX_NAT_RANGE_PROTO_MIN != 0 {
        need(p, 2)?;
        nat.proto_min = be16(a, p);
        p += 2;
    }
    if present & NX_NAT_RANGE_PROTO_MAX != 0 {
        need(p, 2)?;
        nat.proto_max = be16(a, p);
        p += 2;
        if nat.proto_max < nat.proto_min {
            return Err(OfpErr::OfpbacBadArgument);
        }
    }
    if !zeros(a.get(p..).unwrap_or(&[])) {
        return Err(OfpErr::OfpbacBadArgument);
    }
    Ok(OfpAction::Nat(nat))
}

/// Encodes `nat` into `out`.
pub fn encode_nat(nat: &Nat, out: &mut Vec<u8>) {
    let start = out.len();
    out.extend_from_slice(&[0xff, 0xff, 0, 0, 0, 0, 0x23, 0x20, 0, 36, 0, 0]);
    out.extend_from_slice(&nat.flags.to_be_bytes());
    let present_at = out.len();
    out.extend_from_slice(&[0, 0]);
    let mut present = 0u16;
    let mut has_af = true;
    match &nat.addr {
        NatAddrRange::V4 { min, max } => {
            if !min.is_unspecified() {
                out.extend_from_slice(&min.octets());
                present |= NX_NAT_RANGE_IPV4_MIN;
            }
            if !max.is_unspecified() {
                out.extend_from_slice(&max.octets());
                present |= NX_NAT_RANGE_IPV4_MAX;
            }
        }
        NatAddrRange::V6 { min, max } => {
            if !min.is_unspecified() {
                out.extend_from_slice(&min.octets());
                present |= NX_NAT_RANGE_IPV6_MIN;
            }
            if !max.is_unspecified() {
                out.extend_from_slice(&max.octets());
                present |= NX_NAT_RANGE_IPV6_MAX;
            }
        }
        NatAddrRange::None => has_af = false,
    }
    if has_af {
        if nat.proto_min != 0 {
            out.extend_from_slice(&nat.proto_min.to_be_bytes());
            present |= NX_NAT_RANGE_PROTO_MIN;
        }
        if nat.proto_max != 0 {
            out.extend_from_slice(&nat.proto_max.to_be_bytes());
            present |= NX_NAT_RANGE_PROTO_MAX;
        }
    }
    out[present_at..present_at + 2].copy_from_slice(&present.to_be_bytes());
    pad_to_8(out, start);
}
