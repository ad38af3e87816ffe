//! Wire format of `learn` (NXAST_LEARN and NXAST_LEARN2): the fixed part,
//! the optional result destination, and the flow_mod_spec list.

use super::decode::{be16, be32, be64, check_subfield, field_header_at, mf_check_dst, zeros};
use super::encode::{pad_to_8, put_nx_header};
use crate::actions::error::OfpErr;
use crate::actions::mf::{FieldId, MfHeader, Subfield};
use crate::actions::model::*;

const SRC_IMMEDIATE: u16 = 1 << 13;
const DST_MASK: u16 = 3 << 11;
const DST_MATCH: u16 = 0;
const DST_LOAD: u16 = 1 << 11;
const DST_OUTPUT: u16 = 2 << 11;
const N_BITS_MASK: u16 = 0x3ff;

/// Bytes of an immediate of `n_bits` bits (whole 16-bit units).
pub fn imm_len(n_bits: u16) -> usize {
    2 * usize::from(n_bits).div_ceil(16)
}

fn learn_subfield(a: &[u8], p: usize, n_bits: u16) -> Result<Subfield, OfpErr> {
    let h = MfHeader::from_u32(be32(a, p));
    let field = FieldId::from_nxm_header(&h).ok_or(OfpErr::OfpbacBadArgument)?;
    let sf = Subfield {
        field,
        ofs: usize::from(be16(a, p + 4)),
        n_bits: usize::from(n_bits),
    };
    check_subfield(&sf, "source").map_err(|_| OfpErr::OfpbacBadArgument)?;
    Ok(sf)
}

/// Decodes NXAST_LEARN (`learn2` false) or NXAST_LEARN2.
pub fn decode_learn(a: &[u8], learn2: bool) -> Result<Learn, OfpErr> {
    let mut l = Learn {
        idle_timeout: be16(a, 10),
        hard_timeout: be16(a, 12),
        priority: be16(a, 14),
        cookie: be64(a, 16),
        flags: be16(a, 24),
        table_id: a.get(26).copied().unwrap_or(0),
        fin_idle_timeout: be16(a, 28),
        fin_hard_timeout: be16(a, 30),
        raw: if learn2 {
            LearnRaw::Learn2
        } else {
            LearnRaw::Learn
        },
        ..Learn::default()
    };
    let allowed = NX_LEARN_F_SEND_FLOW_REM
        | NX_LEARN_F_DELETE_LEARNED
        | if learn2 { NX_LEARN_F_WRITE_RESULT } else { 0 };
    if l.flags & !allowed != 0 {
        return Err(OfpErr::OfpbacBadArgument);
    }
    if l.table_id == 0xff {
        return Err(OfpErr::OfpbacBadArgument);
    }
    let mut p = 32;
    if learn2 {
        l.limit = be32(a, 32);
        let result_ofs = be16(a, 36);
        if !zeros(a.get(38..40).unwrap_or(&[])) {
            return Err(OfpErr::OfpbacBadArgument);
        }
        p = 40;
        if l.flags & NX_LEARN_F_WRITE_RESULT != 0 {
            let (field, n) = field_header_at(a, 40)?;
            let sf = Subfield {
                field,
                ofs: usize::from(result_ofs),
                n_bits: 1,
            };
            mf_check_dst(&sf)?;
            l.result_dst = Some(sf);
            p += n;
        }
    }
    while p + 2 <= a.len() {
        let header = be16(a, p);
        if header == 0 {
            break;
        }
        p += 2;
        let n_bits = header & N_BITS_MASK;
        let src_imm = header & SRC_IMMEDIATE != 0;
        let dst_type = header & DST_MASK;
        let ok =
            dst_type == DST_MATCH || dst_type == DST_LOAD || (dst_type == DST_OUTPUT && !src_imm);
        if !ok {
            return Err(OfpErr::OfpbacBadArgument);
        }
        let mut min = if src_imm { imm_len(n_bits) } else { 6 };
        if dst_type != DST_OUTPUT {
            min += 6;
        }
        if a.len() - p < min {
            return Err(OfpErr::OfpbacBadLen);
        }
        let src = if src_imm {
            let n = imm_len(n_bits);
            let v = a[p..p + n].to_vec();
            p += n;
            LearnSrc::Immediate(v)
        } else {
            let sf = learn_subfield(a, p, n_bits)?;
            p += 6;
            LearnSrc::Field(sf)
        };
        let dst = match dst_type {
            DST_MATCH => {
                let sf = learn_subfield(a, p, n_bits)?;
                p += 6;
                LearnDst::Match(sf)
            }
            DST_LOAD => {
                let sf = learn_subfield(a, p, n_bits)?;
                p += 6;
                LearnDst::Load(sf)
            }
            _ => LearnDst::Output,
        };
        l.specs.push(LearnSpec { n_bits, src, dst });
    }
    if !zeros(a.get(p..).unwrap_or(&[])) {
        return Err(OfpErr::OfpbacBadArgument);
    }
    Ok(l)
}

/// True if `learn` needs NXAST_LEARN2.
pub fn needs_learn2(l: &Learn) -> bool {
    l.raw == LearnRaw::Learn2 || l.limit != 0 || l.flags & NX_LEARN_F_WRITE_RESULT != 0
}

fn put_sf(sf: &Subfield, out: &mut Vec<u8>) {
    let h = crate::actions::mf::header32(sf.field)
        .map(|h| h.to_u32())
        .unwrap_or(0);
    out.extend_from_slice(&h.to_be_bytes());
    out.extend_from_slice(&(sf.ofs as u16).to_be_bytes());
}

/// Encodes `learn` into `out`.
pub fn encode_learn(l: &Learn, out: &mut Vec<u8>) {
    let start = out.len();
    let learn2 = needs_learn2(l);
    out.extend_from_slice(&[
        0xff,
        0xff,
        0,
        0,
        0,
        0,
        0x23,
        0x20,
        0,
        if learn2 { 45 } else { 16 },
    ]);
    out.extend_from_slice(&l.idle_timeout.to_be_bytes());
    out.extend_from_slice(&l.hard_timeout.to_be_bytes());
    out.extend_from_slice(&l.priority.to_be_bytes());
    out.extend_from_slice(&l.cookie.to_be_bytes());
    out.extend_from_slice(&l.flags.to_be_bytes());
    out.push(l.table_id);
    out.push(0);
    out.extend_from_slice(&l.fin_idle_timeout.to_be_bytes());
    out.extend_from_slice(&l.fin_hard_timeout.to_be_bytes());
    if learn2 {
        out.extend_from_slice(&l.limit.to_be_bytes());
        let ofs = l.result_dst.map(|sf| sf.ofs as u16).unwrap_or(0);
        out.extend_from_slice(&ofs.to_be_bytes());
        out.extend_from_slice(&[0, 0]);
        if let (Some(sf), true) = (&l.result_dst, l.flags & NX_LEARN_F_WRITE_RESULT != 0) {
            put_nx_header(sf.field, out);
        }
    }
    for spec in &l.specs {
        let mut header = spec.n_bits & N_BITS_MASK;
        if matches!(spec.src, LearnSrc::Immediate(_)) {
            header |= SRC_IMMEDIATE;
        }
        header |= match spec.dst {
            LearnDst::Match(_) => DST_MATCH,
            LearnDst::Load(_) => DST_LOAD,
            LearnDst::Output => DST_OUTPUT,
        };
        out.extend_from_slice(&header.to_be_bytes());
        match &spec.src {
            LearnSrc::Field(sf) => put_sf(sf, out),
            LearnSrc::Immediate(v) => {
                let n = imm_len(spec.n_bits);
                let mut buf = vec![0u8; n];
                let take = v.len().min(n);
                buf[n - take..].copy_from_slice(&v[v.len() - take..]);
                out.extend_from_slice(&buf);
            }
        }
        match &spec.dst {
            LearnDst::Match(sf) | LearnDst::Load(sf) => put_sf(sf, out),
            LearnDst::Output => {}
        }
    }
    pad_to_8(out, start);
}
