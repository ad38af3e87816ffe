//! The text of `learn(...)`: its printing and its sub-language of match,
//! load and output specifications.

use std::fmt::Write;

use super::mf::{self, format_subfield};
use super::model::*;

/// Right-aligns an immediate into a value of `n_bytes` bytes.
fn imm_to_value(imm: &[u8], n_bits: u16, n_bytes: usize) -> Vec<u8> {
    let mut v = vec![0u8; n_bytes];
    mf::copy_bits(imm, 0, &mut v, 0, usize::from(n_bits).min(n_bytes * 8));
    v
}

/// Prints `learn(...)` as upstream's `learn_format`.
pub fn format_learn(s: &mut String, l: &Learn) {
    let _ = write!(s, "learn(table={}", l.table_id);
    if l.idle_timeout != 0 {
        let _ = write!(s, ",idle_timeout={}", l.idle_timeout);
    }
    if l.hard_timeout != 0 {
        let _ = write!(s, ",hard_timeout={}", l.hard_timeout);
    }
    if l.fin_idle_timeout != 0 {
        let _ = write!(s, ",fin_idle_timeout={}", l.fin_idle_timeout);
    }
    if l.fin_hard_timeout != 0 {
        let _ = write!(s, ",fin_hard_timeout={}", l.fin_hard_timeout);
    }
    if l.priority != 0x8000 {
        let _ = write!(s, ",priority={}", l.priority);
    }
    if l.flags & NX_LEARN_F_SEND_FLOW_REM != 0 {
        s.push_str(",send_flow_rem");
    }
    if l.flags & NX_LEARN_F_DELETE_LEARNED != 0 {
        s.push_str(",delete_learned");
    }
    if l.cookie != 0 {
        let _ = write!(s, ",cookie={:#x}", l.cookie);
    }
    if l.limit != 0 {
        let _ = write!(s, ",limit={}", l.limit);
    }
    if l.flags & NX_LEARN_F_WRITE_RESULT != 0 {
        if let Some(d) = &l.result_dst {
            let _ = write!(s, ",result_dst={}", format_subfield(d));
        }
    }
    for spec in &l.specs {
        s.push(',');
        match (&spec.src, &spec.dst) {
            (LearnSrc::Immediate(imm), LearnDst::Match(dst)) => {
                if dst.is_whole() {
                    let n = mf::field_bytes(dst.field);
                    let v = imm_to_value(imm, spec.n_bits, n);
                    let _ = write!(
                        s,
                        "{}={}",
                        dst.field.name(),
                        mf::format_value(dst.field, &v, None)
                    );
                } else {
                    let _ = write!(s, "{}={}", format_subfield(dst), mf::format_hex_value(imm));
                }
            }
            (LearnSrc::Field(src), LearnDst::Match(dst)) => {
                s.push_str(&format_subfield(dst));
                if src.field != dst.field || src.ofs != dst.ofs {
                    let _ = write!(s, "={}", format_subfield(src));
                }
            }
            (LearnSrc::Immediate(imm), LearnDst::Load(dst)) => {
                let _ = write!(
                    s,
                    "load:{}->{}",
                    mf::format_hex_value(imm),
                    format_subfield(dst)
                );
            }
            (LearnSrc::Field(src), LearnDst::Load(dst)) => {
                let _ = write!(s, "load:{}->{}", format_subfield(src), format_subfield(dst));
            }
            (LearnSrc::Field(src), LearnDst::Output) => {
                let _ = write!(s, "output:{}", format_subfield(src));
            }
            (LearnSrc::Immediate(_), LearnDst::Output) => {}
        }
    }
    s.push(')');
}
