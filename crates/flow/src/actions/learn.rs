//! The text of `learn(...)`: its printing and its sub-language of match,
//! load and output specifications.

use std::fmt::Write;

use super::mf::{self, format_subfield, MfValue, Subfield};
use super::model::*;
use super::parse::{atoi, parse_table, Ctx};
use crate::key_value::next_pair;

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

/// Immediate bytes (whole 16-bit units) holding the low `n_bits` of `v`.
fn value_to_imm(v: &[u8], n_bits: usize) -> Vec<u8> {
    let n = super::wire::learn_imm_len(n_bits as u16);
    let mut out = vec![0u8; n];
    mf::copy_bits(v, 0, &mut out, 0, n_bits.min(n * 8));
    out
}

/// Parses one `name=value` (or `load:`/`output:`) specification.
fn parse_spec(ctx: &mut Ctx<'_>, name: &str, value: &str) -> Result<LearnSpec, String> {
    if name == "load" {
        let Some(pos) = value.find("->") else {
            return Err(format!("load: missing `->' in `{value}'"));
        };
        if pos == 0 {
            return Err(format!("load: missing source before `->' in `{value}'"));
        }
        let src_s = &value[..pos];
        let dst_s = &value[pos + 2..];
        if let Ok(src) = Subfield::parse(src_s) {
            let dst = Subfield::parse(dst_s)?;
            mf::require_header32(value, dst_s, dst.field)?;
            if src.n_bits != dst.n_bits {
                return Err(format!(
                    "{value}: bit widths of {src_s} ({}) and {dst_s} ({}) differ",
                    src.n_bits, dst.n_bits
                ));
            }
            return Ok(LearnSpec {
                n_bits: dst.n_bits as u16,
                src: LearnSrc::Field(src),
                dst: LearnDst::Load(dst),
            });
        }
        if mf::parse_int_bytes(src_s, 128).is_none() {
            return Err(format!("load: garbage before `->' in `{value}'"));
        }
        let dst = Subfield::parse(dst_s)?;
        mf::require_header32(value, dst_s, dst.field)?;
        let imm = parse_imm_for(value, src_s, &dst)?;
        return Ok(LearnSpec {
            n_bits: dst.n_bits as u16,
            src: LearnSrc::Immediate(imm),
            dst: LearnDst::Load(dst),
        });
    }
    if name == "output" {
        let src = Subfield::parse(value)?;
        mf::require_header32(value, value, src.field)?;
        return Ok(LearnSpec {
            n_bits: src.n_bits as u16,
            src: LearnSrc::Field(src),
            dst: LearnDst::Output,
        });
    }
    let orig = if value.is_empty() {
        name.to_string()
    } else {
        format!("{name}={value}")
    };
    let dst = match Subfield::parse(name) {
        Ok(d) => d,
        Err(_) => return Err(format!("{orig}: unknown keyword {name}")),
    };
    mf::require_header32(&orig, name, dst.field)?;
    if value.is_empty() {
        return Ok(LearnSpec {
            n_bits: dst.n_bits as u16,
            src: LearnSrc::Field(dst),
            dst: LearnDst::Match(dst),
        });
    }
    let sf_err = match Subfield::parse(value) {
        Ok(src) => {
            if src.n_bits != dst.n_bits {
                return Err(format!(
                    "{orig}: bit widths of {name} ({}) and {value} ({}) differ",
                    src.n_bits, dst.n_bits
                ));
            }
            return Ok(LearnSpec {
                n_bits: dst.n_bits as u16,
                src: LearnSrc::Field(src),
                dst: LearnDst::Match(dst),
            });
        }
        Err(e) => e,
    };
    let imm = if dst.is_whole() && !name.contains('[') {
        MfValue::parse_value(dst.field, value, ctx.ports)
            .map(|v| value_to_imm(v.as_bytes(), dst.n_bits))
    } else {
        parse_imm_for(&orig, value, &dst)
    };
    match imm {
        Ok(imm) => Ok(LearnSpec { n_bits: dst.n_bits as u16, src: LearnSrc::Immediate(imm), dst: LearnDst::Match(dst) }),
        Err(imm_err) => Err(format!(
            "{orig}: {name} value {value} cannot be parsed as a subfield ({sf_err}) or an immediate value ({imm_err})"
        )),
    }
}

/// An integer immediate that must fit `dst` (errors name `whole`).
fn parse_imm_for(whole: &str, s: &str, dst: &Subfield) -> Result<Vec<u8>, String> {
    let n = 128;
    let v =
        mf::parse_int_bytes(s, n).ok_or_else(|| format!("{whole}: cannot parse integer value"))?;
    if (dst.n_bits..n * 8).any(|b| mf::get_bit(&v, b)) {
        return Err(format!(
            "{whole}: value does not fit into {} bits",
            dst.n_bits
        ));
    }
    Ok(value_to_imm(&v, dst.n_bits))
}

/// Parses the argument of `learn(...)` (upstream's `learn_parse`).
pub(crate) fn parse_learn(ctx: &mut Ctx<'_>, arg: &str) -> Result<Learn, String> {
    let mut l = Learn {
        raw: LearnRaw::Auto,
        ..Learn::default()
    };
    let mut rest = arg;
    while let Some((name, value)) = next_pair(&mut rest) {
        match name {
            "table" => {
                l.table_id =
                    parse_table(ctx, value).ok_or_else(|| format!("unknown table \"{value}\""))?;
                if l.table_id == 255 {
                    return Err(format!("{arg}: table id 255 not valid for `learn' action"));
                }
            }
            "priority" => l.priority = atoi(value) as u16,
            "idle_timeout" => l.idle_timeout = atoi(value) as u16,
            "hard_timeout" => l.hard_timeout = atoi(value) as u16,
            "fin_idle_timeout" => l.fin_idle_timeout = atoi(value) as u16,
            "fin_hard_timeout" => l.fin_hard_timeout = atoi(value) as u16,
            "cookie" => l.cookie = crate::flow_str::str_to_u64(value).unwrap_or(0),
            "send_flow_rem" => l.flags |= NX_LEARN_F_SEND_FLOW_REM,
            "delete_learned" => l.flags |= NX_LEARN_F_DELETE_LEARNED,
            "limit" => l.limit = atoi(value) as u32,
            "result_dst" => {
                let d = Subfield::parse(value)?;
                if !d.field.def().writable {
                    return Err(format!("{value} is read-only"));
                }
                if d.n_bits != 1 {
                    return Err("result_dst in 'learn' action must be a single bit".into());
                }
                l.flags |= NX_LEARN_F_WRITE_RESULT;
                l.result_dst = Some(d);
            }
            _ => l.specs.push(parse_spec(ctx, name, value)?),
        }
    }
    Ok(l)
}
