//! Decoding actions and instructions from the wire (OVS's
//! `ofpacts_pull_openflow_actions` / `_instructions`).

use std::net::{Ipv4Addr, Ipv6Addr};

use super::raw::{self, Raw, RawInfo, NX_VENDOR_ID, ONF_VENDOR_ID};
use super::OfpVersion;
use crate::actions::error::OfpErr;
use crate::actions::mf::{self, FieldId, MfHeader, Subfield};
use crate::actions::model::*;
use crate::actions::port::{check_output_port, OfpPort};
use crate::actions::verify::{verify, Allowed, Outer};

const MOD: &str = "ofp_actions";

fn u8_at(b: &[u8], i: usize) -> u8 {
    b.get(i).copied().unwrap_or(0)
}
fn u16_at(b: &[u8], i: usize) -> u16 {
    u16::from_be_bytes([u8_at(b, i), u8_at(b, i + 1)])
}
fn u32_at(b: &[u8], i: usize) -> u32 {
    u32::from_be_bytes([
        u8_at(b, i),
        u8_at(b, i + 1),
        u8_at(b, i + 2),
        u8_at(b, i + 3),
    ])
}
fn u64_at(b: &[u8], i: usize) -> u64 {
    u64::from(u32_at(b, i)) << 32 | u64::from(u32_at(b, i + 4))
}
fn all_zero(b: &[u8]) -> bool {
    b.iter().all(|&x| x == 0)
}
fn tail(b: &[u8], from: usize) -> &[u8] {
    b.get(from..).unwrap_or(&[])
}

/// Decodes an OpenFlow action list (an apply-actions list; instructions are
/// rejected with `OFPBIC_UNSUP_INST`).
pub fn decode_actions(bytes: &[u8], version: OfpVersion) -> Result<Vec<OfpAction>, OfpErr> {
    pull_actions(bytes, version, Allowed::ApplyOnly, None)
}

/// Decodes an action list nested in `outer` (e.g. the actions of `ct` or
/// `clone`), as upstream does for those actions.
pub fn decode_actions_in(
    bytes: &[u8],
    version: OfpVersion,
    outer: Outer,
) -> Result<Vec<OfpAction>, OfpErr> {
    pull_actions(bytes, version, Allowed::ApplyOnly, Some(outer))
}

fn pull_actions(
    bytes: &[u8],
    version: OfpVersion,
    allowed: Allowed,
    outer: Option<Outer>,
) -> Result<Vec<OfpAction>, OfpErr> {
    if bytes.len() % 8 != 0 {
        vlog::warn_rl!(
            &crate::actions::RL,
            MOD,
            "OpenFlow message actions length {} is not a multiple of 8",
            bytes.len()
        );
        return Err(OfpErr::OfpbrcBadLen);
    }
    let acts = decode_list(bytes, version)?;
    verify(&acts, version, allowed, outer, &mut None)?;
    Ok(acts)
}

/// Decodes OpenFlow 1.1+ instructions (or, for OpenFlow 1.0, an action list
/// in which every instruction-like extension action is allowed).
pub fn decode_instructions(bytes: &[u8], version: OfpVersion) -> Result<Vec<OfpAction>, OfpErr> {
    if version == OfpVersion::Of10 {
        return pull_actions(bytes, version, Allowed::All, None);
    }
    if bytes.len() % 8 != 0 {
        vlog::warn_rl!(
            &crate::actions::RL,
            MOD,
            "OpenFlow message instructions length {} is not a multiple of 8",
            bytes.len()
        );
        return Err(OfpErr::OfpbicBadLen);
    }
    // Split into instructions, at most one of each type.
    let mut insts: [Option<&[u8]>; 6] = [None; 6];
    let mut ofs = 0;
    while ofs < bytes.len() {
        let rest = &bytes[ofs..];
        let ty = u16_at(rest, 0);
        let len = usize::from(u16_at(rest, 2));
        if len == 0 || len % 8 != 0 || len > rest.len() {
            return Err(OfpErr::OfpbicBadLen);
        }
        let inst = &rest[..len];
        let (it, ok) = match ty {
            0xffff => return Err(OfpErr::OfpbicBadExperimenter),
            1 => (InstructionType::GotoTable, len == 8),
            2 => (InstructionType::WriteMetadata, len == 24),
            3 => (InstructionType::WriteActions, len >= 8),
            4 => (InstructionType::ApplyActions, len >= 8),
            5 => (InstructionType::ClearActions, len == 8),
            6 => (InstructionType::Meter, len == 8),
            _ => return Err(OfpErr::OfpbicUnknownInst),
        };
        if !ok {
            return Err(OfpErr::OfpbicBadLen);
        }
        let slot = &mut insts[inst_slot(it)];
        if slot.is_some() {
            return Err(OfpErr::OfpbicDupInst);
        }
        *slot = Some(inst);
        ofs += len;
    }

    let mut out = Vec::new();
    if let Some(i) = insts[inst_slot(InstructionType::Meter)] {
        out.push(OfpAction::Meter(u32_at(i, 4)));
    }
    if let Some(i) = insts[inst_slot(InstructionType::ApplyActions)] {
        out.extend(decode_list(tail(i, 8), version)?);
    }
    if insts[inst_slot(InstructionType::ClearActions)].is_some() {
        out.push(OfpAction::ClearActions);
    }
    if let Some(i) = insts[inst_slot(InstructionType::WriteActions)] {
        let acts = decode_list(tail(i, 8), version)?;
        verify(
            &acts,
            version,
            Allowed::ApplyOnly,
            Some(Outer::WriteActions),
            &mut None,
        )?;
        check_action_set(&acts)?;
        out.push(OfpAction::WriteActions(acts));
    }
    if let Some(i) = insts[inst_slot(InstructionType::WriteMetadata)] {
        out.push(OfpAction::WriteMetadata {
            metadata: u64_at(i, 8),
            mask: u64_at(i, 16),
        });
    }
    if let Some(i) = insts[inst_slot(InstructionType::GotoTable)] {
        out.push(OfpAction::GotoTable(u8_at(i, 4)));
    }
    verify(&out, version, Allowed::All, None, &mut None)?;
    Ok(out)
}

fn inst_slot(t: InstructionType) -> usize {
    t as usize
}

/// Rejects actions that an action set cannot hold.
fn check_action_set(acts: &[OfpAction]) -> Result<(), OfpErr> {
    for a in acts {
        if !allowed_in_action_set(a) {
            return Err(OfpErr::OfpbacUnsupportedOrder);
        }
    }
    Ok(())
}

fn allowed_in_action_set(a: &OfpAction) -> bool {
    use OfpAction::*;
    matches!(
        a,
        Output(_)
            | Group(_)
            | SetField(_)
            | SetVlanVid { .. }
            | SetVlanPcp { .. }
            | StripVlan { .. }
            | PushVlan { .. }
            | SetEthSrc(_)
            | SetEthDst(_)
            | SetIpv4Src(_)
            | SetIpv4Dst(_)
            | SetIpDscp(_)
            | SetIpEcn(_)
            | SetIpTtl(_)
            | SetL4SrcPort { .. }
            | SetL4DstPort { .. }
            | RegMove(_)
            | DecTtl { .. }
            | SetMplsLabel(_)
            | SetMplsTc(_)
            | SetMplsTtl(_)
            | DecMplsTtl
            | PushMpls { .. }
            | PopMpls { .. }
            | SetTunnel { .. }
            | SetQueue(_)
            | DecNshTtl
            | Encap(_)
            | Decap { .. }
    )
}

fn decode_list(bytes: &[u8], version: OfpVersion) -> Result<Vec<OfpAction>, OfpErr> {
    let mut out = Vec::new();
    let mut ofs = 0;
    while ofs < bytes.len() {
        match decode_one(&bytes[ofs..], version) {
            Ok((a, len)) => {
                if let Some(a) = a {
                    out.push(a);
                }
                ofs += len;
            }
            Err(e) => {
                let dump = vlog::hex_dump(bytes, 0, false);
                vlog::warn_rl!(
                    &crate::actions::RL,
                    MOD,
                    "bad action at offset {} ({}):\n{}",
                    if ofs == 0 {
                        "0".to_string()
                    } else {
                        format!("{ofs:#x}")
                    },
                    e.name(),
                    dump.trim_end_matches('\n')
                );
                return Err(e);
            }
        }
    }
    Ok(out)
}

/// Identifies the raw action at the start of `b` and checks its length.
fn pull_raw(b: &[u8], version: OfpVersion) -> Result<(&'static RawInfo, usize), OfpErr> {
    if b.len() < 8 {
        return Err(OfpErr::OfpbacBadLen);
    }
    let ty = u16_at(b, 0);
    let (vendor, sub) = if ty == 0xffff {
        let vendor = u32_at(b, 4);
        if vendor == NX_VENDOR_ID || vendor == ONF_VENDOR_ID {
            if b.len() < 16 {
                return Err(OfpErr::OfpbacBadLen);
            }
            (vendor, u16_at(b, 8))
        } else {
            vlog::warn_rl!(
                &crate::actions::RL,
                MOD,
                "OpenFlow action has unknown vendor {:#x}",
                vendor
            );
            return Err(OfpErr::OfpbacBadVendor);
        }
    } else {
        (0, ty)
    };
    let Some(info) = raw::lookup(version, vendor, sub) else {
        // The vendor prints as C's `%#x`: a standard action's 0 as "0".
        let vendor_text = if vendor == 0 {
            "0".to_string()
        } else {
            format!("{vendor:#x}")
        };
        vlog::warn_rl!(
            &crate::actions::RL,
            MOD,
            "unknown {} action for vendor {} and type {}",
            version.name(),
            vendor_text,
            sub
        );
        return Err(if vendor != 0 {
            OfpErr::OfpbacBadVendorType
        } else {
            OfpErr::OfpbacBadType
        });
    };
    if let Some(dep) = info.deprecated_from {
        if version >= dep {
            warn_deprecated(info, version);
        }
    }
    let len = usize::from(u16_at(b, 2));
    if len > b.len() {
        vlog::warn_rl!(
            &crate::actions::RL,
            MOD,
            "OpenFlow action {} length {} exceeds action buffer length {}",
            info.name,
            len,
            b.len()
        );
        return Err(OfpErr::OfpbacBadLen);
    }
    if len < usize::from(info.min_len) || len > usize::from(info.max_len) {
        vlog::warn_rl!(
            &crate::actions::RL,
            MOD,
            "OpenFlow action {} length {} not in valid range [{},{}]",
            info.name,
            len,
            info.min_len,
            info.max_len
        );
        return Err(OfpErr::OfpbacBadLen);
    }
    if len % 8 != 0 {
        vlog::warn_rl!(
            &crate::actions::RL,
            MOD,
            "OpenFlow action {} length {} is not a multiple of 8",
            info.name,
            len
        );
        return Err(OfpErr::OfpbacBadLen);
    }
    Ok((info, len))
}

fn warn_deprecated(info: &RawInfo, version: OfpVersion) {
    // Logged every time, rate-limited, at INFO, as upstream does.
    vlog::info_rl!(
        &crate::actions::RL,
        MOD,
        "{} is deprecated in {} (use Set-Field)",
        info.name,
        version.name()
    );
}

/// Reads an NXM/OXM header at `ofs` and looks its field up.
fn pull_field_header(b: &[u8], ofs: usize) -> Result<(FieldId, usize), OfpErr> {
    let (h, n) = MfHeader::pull(tail(b, ofs)).ok_or(OfpErr::OfpbacBadLen)?;
    let f = FieldId::from_nxm_header(&h).ok_or(OfpErr::OfpbmcBadField)?;
    // A fixed-width field named with another length (class 0 field 0 with
    // one byte, as upstream writes `tun_ttl`) is no field at all.
    if !f.def().variable_len && !h.has_mask && h.value_len() != f.def().n_bytes {
        return Err(OfpErr::OfpbmcBadField);
    }
    Ok((f, n))
}

fn nxm_decode_ofs(ofs_nbits: u16) -> usize {
    usize::from(ofs_nbits >> 6)
}
fn nxm_decode_n_bits(ofs_nbits: u16) -> usize {
    usize::from(ofs_nbits & 0x3f) + 1
}

/// Bounds checks of a subfield named as `kind` ("source"/"destination").
pub(crate) fn check_subfield(sf: &Subfield, kind: &str) -> Result<(), OfpErr> {
    if kind == "source" {
        check_src(sf)
    } else {
        check_dst(sf)
    }
}

pub(crate) fn check_src(sf: &Subfield) -> Result<(), OfpErr> {
    crate::actions::check::check_src_with(sf, None)
}

pub(crate) fn check_dst(sf: &Subfield) -> Result<(), OfpErr> {
    crate::actions::check::check_dst_with(sf, None)
}

fn port_from_ofp11(p: u32) -> Result<OfpPort, OfpErr> {
    OfpPort::from_ofp11(p).ok_or_else(|| {
        vlog::warn!(
            "ofp_port",
            "port {} is outside the supported range 0 through {:x} or 0x{:x} through 0x{:x}",
            p,
            u16::MAX,
            crate::actions::port::OFPP11_MAX,
            u32::MAX
        );
        OfpErr::OfpbacBadOutPort
    })
}

fn output_port_ok(port: OfpPort) -> Result<(), OfpErr> {
    if check_output_port(port, OfpPort::MAX) {
        Ok(())
    } else {
        Err(OfpErr::OfpbacBadOutPort)
    }
}

/// Decodes one action; returns it (or `None` for actions that decode to
/// nothing) and its length.
fn decode_one(b: &[u8], version: OfpVersion) -> Result<(Option<OfpAction>, usize), OfpErr> {
    let (info, len) = pull_raw(b, version)?;
    let a = &b[..len];
    let arg = raw::header_len(info);
    let act = decode_raw(info.raw, a, arg, version)?;
    Ok((act, len))
}

fn decode_raw(
    r: Raw,
    a: &[u8],
    arg: usize,
    version: OfpVersion,
) -> Result<Option<OfpAction>, OfpErr> {
    use OfpAction as A;
    // Argument accessors: standard actions carry arguments at offset 4,
    // extension actions at 10 (8/16 bit), 12 (32 bit) or 16 (64 bit).
    let arg8 = || u8_at(a, arg);
    let arg16 = || u16_at(a, arg);
    let arg32 = || {
        if arg == 4 {
            u32_at(a, 4)
        } else {
            u32_at(a, 12)
        }
    };
    Ok(Some(match r {
        Raw::Output10 => {
            let port = OfpPort(u16_at(a, 4));
            output_port_ok(port)?;
            output_action(port, u16_at(a, 6))
        }
        Raw::Output11 => {
            let port = port_from_ofp11(u32_at(a, 4))?;
            output_port_ok(port)?;
            output_action(port, u16_at(a, 8))
        }
        Raw::SetVlanVid10 | Raw::SetVlanVid11 => {
            let vid = arg16();
            if vid & !0xfff != 0 {
                return Err(OfpErr::OfpbacBadArgument);
            }
            A::SetVlanVid {
                vid,
                push_vlan_if_needed: r == Raw::SetVlanVid10,
                flow_has_vlan: false,
            }
        }
        Raw::SetVlanPcp10 | Raw::SetVlanPcp11 => {
            let pcp = arg8();
            if pcp & !7 != 0 {
                return Err(OfpErr::OfpbacBadArgument);
            }
            A::SetVlanPcp {
                pcp,
                push_vlan_if_needed: r == Raw::SetVlanPcp10,
                flow_has_vlan: false,
            }
        }
        Raw::PushVlan => {
            let ethertype = arg16();
            if ethertype != 0x8100 && ethertype != 0x88a8 {
                return Err(OfpErr::OfpbacBadArgument);
            }
            A::PushVlan { ethertype }
        }
        Raw::StripVlan10 => A::StripVlan { pop_vlan: false },
        Raw::PopVlan11 => A::StripVlan { pop_vlan: true },
        Raw::SetDlSrc | Raw::SetDlDst => {
            let mut mac = [0u8; 6];
            mac.copy_from_slice(&a[4..10]);
            if r == Raw::SetDlSrc {
                A::SetEthSrc(mac)
            } else {
                A::SetEthDst(mac)
            }
        }
        Raw::SetNwSrc => A::SetIpv4Src(Ipv4Addr::from(u32_at(a, 4))),
        Raw::SetNwDst => A::SetIpv4Dst(Ipv4Addr::from(u32_at(a, 4))),
        Raw::SetNwTos => {
            let tos = arg8();
            if tos & !0xfc != 0 {
                return Err(OfpErr::OfpbacBadArgument);
            }
            A::SetIpDscp(tos)
        }
        Raw::SetNwEcn11 => {
            let ecn = arg8();
            if ecn & !3 != 0 {
                return Err(OfpErr::OfpbacBadArgument);
            }
            A::SetIpEcn(ecn)
        }
        Raw::SetNwTtl11 => A::SetIpTtl(arg8()),
        Raw::SetTpSrc => A::SetL4SrcPort {
            port: arg16(),
            flow_ip_proto: 0,
        },
        Raw::SetTpDst => A::SetL4DstPort {
            port: arg16(),
            flow_ip_proto: 0,
        },
        Raw::Enqueue10 => {
            let port = OfpPort(u16_at(a, 4));
            if port >= OfpPort::MAX && port != OfpPort::IN_PORT && port != OfpPort::LOCAL {
                return Err(OfpErr::OfpbacBadOutPort);
            }
            A::Enqueue {
                port,
                queue: u32_at(a, 12),
            }
        }
        Raw::SetMplsLabel => A::SetMplsLabel(arg32()),
        Raw::SetMplsTc => A::SetMplsTc(arg8()),
        Raw::SetMplsTtl => A::SetMplsTtl(arg8()),
        Raw::DecMplsTtl => A::DecMplsTtl,
        Raw::PushMpls => {
            let ethertype = arg16();
            if ethertype != 0x8847 && ethertype != 0x8848 {
                return Err(OfpErr::OfpbacBadArgument);
            }
            A::PushMpls { ethertype }
        }
        Raw::PopMpls => A::PopMpls { ethertype: arg16() },
        Raw::SetQueue => A::SetQueue(arg32()),
        Raw::Group => A::Group(arg32()),
        Raw::DecNwTtl => A::DecTtl {
            cnt_ids: vec![0],
            raw: DecTtlRaw::DecNwTtl,
        },
        Raw::SetField12 | Raw::SetField15 => decode_set_field(a, r == Raw::SetField15)?,
        Raw::CopyField15 => {
            let (src_f, n1) = pull_field_header(a, 12)?;
            let (dst_f, _) = pull_field_header(a, 12 + n1)?;
            decode_move(
                u16_at(a, 4),
                u16_at(a, 6),
                u16_at(a, 8),
                src_f,
                dst_f,
                RegMoveRaw::Auto,
            )?
        }
        Raw::OnfCopyField => {
            let (src_f, n1) = pull_field_header(a, 20)?;
            let (dst_f, _) = pull_field_header(a, 20 + n1)?;
            decode_move(
                u16_at(a, 12),
                u16_at(a, 14),
                u16_at(a, 16),
                src_f,
                dst_f,
                RegMoveRaw::OnfCopyField,
            )?
        }
        Raw::NxRegMove => {
            let (src_f, n1) = pull_field_header(a, 16)?;
            let (dst_f, _) = pull_field_header(a, 16 + n1)?;
            decode_move(
                u16_at(a, 10),
                u16_at(a, 12),
                u16_at(a, 14),
                src_f,
                dst_f,
                RegMoveRaw::Auto,
            )?
        }
        Raw::Meter15 => A::Meter(u32_at(a, 4)),
        Raw::NxResubmit => A::Resubmit(Resubmit {
            in_port: OfpPort(arg16()),
            table_id: 0xff,
            with_ct_orig: false,
            raw: ResubmitRaw::Resubmit,
        }),
        Raw::NxResubmitTable | Raw::NxResubmitTableCt => {
            if !all_zero(&a[13..16]) {
                return Err(OfpErr::OfpbacBadArgument);
            }
            let ct = r == Raw::NxResubmitTableCt;
            A::Resubmit(Resubmit {
                in_port: OfpPort(u16_at(a, 10)),
                table_id: u8_at(a, 12),
                with_ct_orig: ct,
                raw: if ct {
                    ResubmitRaw::ResubmitTableCt
                } else {
                    ResubmitRaw::ResubmitTable
                },
            })
        }
        Raw::NxSetTunnel => A::SetTunnel {
            tun_id: u64::from(u32_at(a, 12)),
            raw: SetTunnelRaw::Tunnel32,
        },
        Raw::NxSetTunnel64 => A::SetTunnel {
            tun_id: u64_at(a, 16),
            raw: SetTunnelRaw::Tunnel64,
        },
        Raw::NxPopQueue => A::PopQueue,
        Raw::NxRegLoad => {
            let ofs_nbits = u16_at(a, 10);
            let h = MfHeader::from_u32(u32_at(a, 12));
            let field = FieldId::from_nxm_header(&h).ok_or(OfpErr::OfpbacBadSetType)?;
            let dst = Subfield {
                field,
                ofs: nxm_decode_ofs(ofs_nbits),
                n_bits: nxm_decode_n_bits(ofs_nbits),
            };
            check_dst(&dst)?;
            let value = u64_at(a, 16);
            if dst.n_bits < 64 && value >> dst.n_bits != 0 {
                return Err(OfpErr::OfpbacBadArgument);
            }
            A::SetField(load_to_set_field(
                &dst,
                &value.to_be_bytes(),
                SetFieldRaw::Load,
            ))
        }
        Raw::NxRegLoad2 => {
            let (sf, rest_ofs) = pull_entry(a, 10, true)?;
            if !all_zero(tail(a, rest_ofs)) {
                return Err(OfpErr::OfpbacBadSetArgument);
            }
            let (field, value, mask) = sf;
            if !field.def().writable {
                vlog::warn_rl!(
                    &crate::actions::RL,
                    "ofp_actions",
                    "destination field {} is not writable",
                    field.name()
                );
                return Err(OfpErr::OfpbacBadSetArgument);
            }
            A::SetField(SetField {
                field,
                value,
                mask,
                raw: SetFieldRaw::Load2,
                flow_has_vlan: false,
            })
        }
        Raw::NxNote => A::Note(tail(a, 10).to_vec()),
        Raw::NxMultipath => {
            let fields = HashFields::from_u16(u16_at(a, 10));
            let algorithm = MultipathAlgorithm::from_u16(u16_at(a, 16));
            let ofs_nbits = u16_at(a, 26);
            let h = MfHeader::from_u32(u32_at(a, 28));
            let field = FieldId::from_nxm_header(&h).ok_or(OfpErr::OfpbmcBadField)?;
            let dst = Subfield {
                field,
                ofs: nxm_decode_ofs(ofs_nbits),
                n_bits: nxm_decode_n_bits(ofs_nbits),
            };
            let Some(fields) = fields else {
                vlog::warn_rl!(
                    &crate::actions::RL,
                    MOD,
                    "unsupported fields {}",
                    u16_at(a, 10)
                );
                return Err(OfpErr::OfpbacBadArgument);
            };
            let Some(algorithm) = algorithm else {
                vlog::warn_rl!(
                    &crate::actions::RL,
                    MOD,
                    "unsupported algorithm {}",
                    u16_at(a, 16)
                );
                return Err(OfpErr::OfpbacBadArgument);
            };
            let max_link = u16_at(a, 18);
            if dst.n_bits < 16 && usize::from(max_link) > (1usize << dst.n_bits) - 1 {
                vlog::warn_rl!(
                    &crate::actions::RL,
                    MOD,
                    "multipath action requires at least {} bits for {} links",
                    bits_for(u32::from(max_link)),
                    u32::from(max_link) + 1
                );
                return Err(OfpErr::OfpbacBadArgument);
            }
            check_dst(&dst)?;
            A::Multipath(Multipath {
                fields,
                basis: u16_at(a, 12),
                algorithm,
                max_link,
                arg: u32_at(a, 20),
                dst,
            })
        }
        Raw::NxBundle | Raw::NxBundleLoad => decode_bundle(a, r == Raw::NxBundleLoad)?,
        Raw::NxOutputReg => {
            if !all_zero(&a[18..24]) {
                return Err(OfpErr::OfpbacBadArgument);
            }
            let ofs_nbits = u16_at(a, 10);
            let h = MfHeader::from_u32(u32_at(a, 12));
            let field = FieldId::from_nxm_header(&h).ok_or(OfpErr::OfpbmcBadField)?;
            let src = Subfield {
                field,
                ofs: nxm_decode_ofs(ofs_nbits),
                n_bits: nxm_decode_n_bits(ofs_nbits),
            };
            check_src(&src)?;
            A::OutputReg {
                src,
                max_len: u16_at(a, 16),
                raw: OutputRegRaw::OutputReg,
            }
        }
        Raw::NxOutputReg2 => {
            let ofs_nbits = u16_at(a, 10);
            let (field, n) = pull_field_header(a, 14)?;
            if !all_zero(tail(a, 14 + n)) {
                return Err(OfpErr::OfpbacBadArgument);
            }
            let src = Subfield {
                field,
                ofs: nxm_decode_ofs(ofs_nbits),
                n_bits: nxm_decode_n_bits(ofs_nbits),
            };
            check_src(&src)?;
            A::OutputReg {
                src,
                max_len: u16_at(a, 12),
                raw: OutputRegRaw::OutputReg2,
            }
        }
        Raw::NxLearn | Raw::NxLearn2 => {
            A::Learn(Box::new(super_learn::decode_learn(a, r == Raw::NxLearn2)?))
        }
        Raw::NxExit => A::Exit,
        Raw::NxFinTimeout => A::FinTimeout {
            idle: u16_at(a, 10),
            hard: u16_at(a, 12),
        },
        Raw::NxController => {
            let reason = PacketInReason::from_u8(u8_at(a, 14)).unwrap_or(PacketInReason::Action);
            A::Controller(Controller {
                max_len: u16_at(a, 10),
                controller_id: u16_at(a, 12),
                reason,
                raw: ControllerRaw::Controller,
                ..Controller::default()
            })
        }
        Raw::NxController2 => decode_controller2(a)?,
        Raw::NxDecTtlCntIds => {
            if !all_zero(&a[12..16]) {
                return Err(OfpErr::NxbrcMustBeZero);
            }
            let n = usize::from(u16_at(a, 10));
            let avail = a.len() - 16;
            if avail < n * 2 {
                vlog::warn_rl!(
                    &crate::actions::RL,
                    MOD,
                    "Nicira action dec_ttl_cnt_ids only has {} bytes allocated for controller ids.  {} bytes are required for {} controllers.",
                    avail,
                    n * 2,
                    n
                );
                return Err(OfpErr::OfpbacBadLen);
            }
            let cnt_ids = (0..n).map(|i| u16_at(a, 16 + 2 * i)).collect();
            A::DecTtl {
                cnt_ids,
                raw: DecTtlRaw::CntIds,
            }
        }
        Raw::NxWriteMetadata => {
            if !all_zero(&a[10..16]) {
                return Err(OfpErr::NxbrcMustBeZero);
            }
            A::WriteMetadata {
                metadata: u64_at(a, 16),
                mask: u64_at(a, 24),
            }
        }
        Raw::NxStackPush | Raw::NxStackPop => {
            let ofs = u16_at(a, 10);
            let (field, n) = pull_field_header(a, 12)?;
            let n_bits = u16_at(a, 12 + n);
            if !all_zero(tail(a, 14 + n)) {
                return Err(OfpErr::OfpbacBadArgument);
            }
            let sf = Subfield {
                field,
                ofs: usize::from(ofs),
                n_bits: usize::from(n_bits),
            };
            if r == Raw::NxStackPush {
                check_src(&sf)?;
                A::StackPush(sf)
            } else {
                check_dst(&sf)?;
                A::StackPop(sf)
            }
        }
        Raw::NxSample | Raw::NxSample2 | Raw::NxSample3 => {
            let mut s = Sample {
                probability: u16_at(a, 10),
                collector_set_id: u32_at(a, 12),
                obs_domain_id: u32_at(a, 16),
                obs_point_id: u32_at(a, 20),
                sampling_port: OfpPort::NONE,
                direction: SampleDirection::Default,
                raw: SampleRaw::Sample,
            };
            if s.probability == 0 {
                return Err(OfpErr::OfpbacBadArgument);
            }
            if r != Raw::NxSample {
                s.sampling_port = OfpPort(u16_at(a, 24));
                s.raw = SampleRaw::Sample2;
            }
            if r == Raw::NxSample3 {
                s.direction = match u8_at(a, 26) {
                    0 => SampleDirection::Default,
                    1 => SampleDirection::Ingress,
                    2 => SampleDirection::Egress,
                    d => {
                        vlog::warn_rl!(&crate::actions::RL, MOD, "invalid sample direction {}", d);
                        return Err(OfpErr::OfpbacBadArgument);
                    }
                };
                s.raw = SampleRaw::Sample3;
            }
            A::Sample(s)
        }
        Raw::NxConjunction => {
            let clause = u8_at(a, 10);
            let n_clauses = u8_at(a, 11);
            if !(2..=64).contains(&n_clauses) || clause >= n_clauses {
                return Err(OfpErr::NxbacBadConjunction);
            }
            A::Conjunction {
                id: u32_at(a, 12),
                clause,
                n_clauses,
            }
        }
        Raw::NxCt => super_ct::decode_ct(a, version)?,
        Raw::NxNat => super_ct::decode_nat(a)?,
        Raw::NxOutputTrunc => {
            let port = OfpPort(u16_at(a, 10));
            let max_len = u32_at(a, 12);
            if !(port < OfpPort::MAX
                || matches!(
                    port,
                    OfpPort::LOCAL
                        | OfpPort::IN_PORT
                        | OfpPort::TABLE
                        | OfpPort::NORMAL
                        | OfpPort::FLOOD
                        | OfpPort::ALL
                ))
            {
                return Err(OfpErr::OfpbacBadOutPort);
            }
            if max_len < 60 {
                return Err(OfpErr::OfpbacBadArgument);
            }
            A::OutputTrunc { port, max_len }
        }
        Raw::NxClone => {
            let nested = decode_actions_in(tail(a, 16), version, Outer::Clone)?;
            A::Clone(nested)
        }
        Raw::NxCtClear => A::CtClear,
        Raw::NxEncap => decode_encap(a)?,
        Raw::NxDecap => {
            if !all_zero(&a[10..12]) {
                return Err(OfpErr::OfpbacBadArgument);
            }
            A::Decap {
                new_pkt_type: u32_at(a, 12),
            }
        }
        Raw::NxDecNshTtl => A::DecNshTtl,
        Raw::NxCheckPktLarger => {
            let ofs = u16_at(a, 12);
            let (field, n) = pull_field_header(a, 14)?;
            if !all_zero(tail(a, 14 + n)) {
                return Err(OfpErr::OfpbacBadArgument);
            }
            let dst = Subfield {
                field,
                ofs: usize::from(ofs),
                n_bits: 1,
            };
            check_dst(&dst)?;
            A::CheckPktLarger {
                pkt_len: u16_at(a, 10),
                dst,
            }
        }
        Raw::NxDeleteField => {
            let (field, n) = pull_field_header(a, 10)?;
            if !all_zero(tail(a, 10 + n)) {
                return Err(OfpErr::OfpbacBadArgument);
            }
            if !field.is_tun_metadata() {
                return Err(OfpErr::OfpbacBadArgument);
            }
            A::DeleteField(field)
        }
        Raw::NxDebugSlow | Raw::NxDebugRecirc => {
            // Upstream accepts these only in test builds of the switch.
            return Err(OfpErr::OfpbacBadVendorType);
        }
    }))
}

use super::ct as super_ct;
use super::learn as super_learn;

fn bits_for(x: u32) -> u32 {
    32 - x.leading_zeros()
}

fn output_action(port: OfpPort, max_len: u16) -> OfpAction {
    OfpAction::Output(Output { port, max_len })
}

fn decode_move(
    n_bits: u16,
    src_ofs: u16,
    dst_ofs: u16,
    src_f: FieldId,
    dst_f: FieldId,
    raw: RegMoveRaw,
) -> Result<OfpAction, OfpErr> {
    let n_bits = usize::from(n_bits);
    let src = Subfield {
        field: src_f,
        ofs: usize::from(src_ofs),
        n_bits,
    };
    let dst = Subfield {
        field: dst_f,
        ofs: usize::from(dst_ofs),
        n_bits,
    };
    check_src(&src)?;
    check_dst(&dst)?;
    Ok(OfpAction::RegMove(RegMove { src, dst, raw }))
}

/// Builds a set-field that writes `value` (big-endian, right-aligned) into
/// subfield `dst`.
pub(crate) fn load_to_set_field(dst: &Subfield, value: &[u8], raw: SetFieldRaw) -> SetField {
    let n = mf::field_bytes(dst.field);
    let mut v = vec![0u8; n];
    let mut m = vec![0u8; n];
    let nb = dst.n_bits;
    mf::copy_bits(value, 0, &mut v, dst.ofs, nb);
    for i in 0..nb {
        mf::set_bit(&mut m, dst.ofs + i, true);
    }
    SetField {
        field: dst.field,
        value: v,
        mask: m,
        raw,
        flow_has_vlan: false,
    }
}

/// The rate limit of upstream's nx_match warnings about set-field entries,
/// apart from ofp_actions': the reference lets two through in a row (seen
/// with `ovs-ofctl parse-flows`), then one a minute.
static NX_MATCH_RL: vlog::RateLimit = vlog::RateLimit::new(1, 2);

/// A decoded NXM/OXM entry: field, value, mask (all-ones when unmasked).
type Entry = (FieldId, Vec<u8>, Vec<u8>);

/// Reads an NXM/OXM entry (header, value, optional mask) at `ofs`.
/// Returns `(field, value, mask)` and the offset after the entry.
fn pull_entry(a: &[u8], ofs: usize, may_mask: bool) -> Result<(Entry, usize), OfpErr> {
    let (h, hl) = MfHeader::pull(tail(a, ofs)).ok_or(OfpErr::OfpbacBadSetLen)?;
    let field = FieldId::from_nxm_header(&h).ok_or(OfpErr::OfpbacBadSetType)?;
    // The experimenter ID counts in the length but was read with the header.
    let exp_len = if h.is_experimenter() { 4 } else { 0 };
    let payload_len = usize::from(h.length).saturating_sub(exp_len);
    let start = ofs + hl;
    let payload = a
        .get(start..start + payload_len)
        .ok_or(OfpErr::OfpbacBadSetLen)?;
    let width = if h.has_mask {
        if payload_len % 2 != 0 {
            return Err(OfpErr::OfpbacBadSetLen);
        }
        payload_len / 2
    } else {
        payload_len
    };
    let def = field.def();
    let width_ok = if def.variable_len {
        width <= def.n_bytes
    } else {
        width == def.n_bytes
    };
    if !width_ok {
        return Err(OfpErr::OfpbacBadSetLen);
    }
    if h.has_mask && !may_mask {
        return Err(OfpErr::OfpbacBadSetMask);
    }
    if h.has_mask
        && payload[..width]
            .iter()
            .zip(&payload[width..2 * width])
            .any(|(v, m)| v & !m != 0)
    {
        vlog::warn_rl!(
            &NX_MATCH_RL,
            "nx_match",
            "Rejecting NXM/OXM entry {}:{}:{}:{}:{} with 1-bits in value for bits wildcarded by the mask.",
            if h.is_experimenter() { h.experimenter } else { 0 },
            h.class,
            h.field,
            u8::from(h.has_mask),
            h.length
        );
        return Err(OfpErr::OfpbmcBadWildcards);
    }
    let n = def.n_bytes;
    let mut value = vec![0u8; n];
    let mut mask = vec![0u8; n];
    value[n - width..].copy_from_slice(&payload[..width]);
    if h.has_mask {
        mask[n - width..].copy_from_slice(&payload[width..]);
    } else {
        // Unmasked covers the whole field, also where a variable-length
        // value left out its leading zero bytes.
        mask.fill(0xff);
    }
    Ok(((field, value, mask), start + payload_len))
}

fn decode_set_field(a: &[u8], may_mask: bool) -> Result<OfpAction, OfpErr> {
    let ((field, value, mask), end) = pull_entry(a, 4, may_mask)?;
    if !all_zero(tail(a, end)) {
        return Err(OfpErr::OfpbacBadSetArgument);
    }
    if field == FieldId::InPortOxm {
        return Err(OfpErr::OfpbacBadSetArgument);
    }
    if value.iter().zip(&mask).any(|(v, m)| v & !m != 0) {
        // A value with bits outside its mask is a bad wildcard.
        return Err(OfpErr::OfpbacBadSetArgument);
    }
    if !field.def().writable {
        vlog::warn_rl!(
            &crate::actions::RL,
            MOD,
            "destination field {} is not writable",
            field.name()
        );
        return Err(OfpErr::OfpbacBadSetArgument);
    }
    let vlan_bad = field == FieldId::VlanVid && value.first().copied().unwrap_or(0) & 0x10 == 0;
    if !field.is_value_valid(&mf::MfValue::from_bytes(&value)) || vlan_bad {
        vlog::warn_rl!(
            &crate::actions::RL,
            MOD,
            "Invalid value for set field {}: {}",
            field.name(),
            mf::format_value(field, &value, None)
        );
        return Err(OfpErr::OfpbacBadSetArgument);
    }
    Ok(OfpAction::SetField(SetField {
        field,
        value,
        mask,
        raw: SetFieldRaw::SetField,
        flow_has_vlan: false,
    }))
}

fn decode_bundle(a: &[u8], load: bool) -> Result<OfpAction, OfpErr> {
    let alg = u16_at(a, 10);
    let fields = u16_at(a, 12);
    let basis = u16_at(a, 14);
    let slave_type = u32_at(a, 16);
    let n_members = usize::from(u16_at(a, 20));
    let ofs_nbits = u16_at(a, 22);
    let dst_h = u32_at(a, 24);
    let name = if load {
        "NXAST_BUNDLE_LOAD"
    } else {
        "NXAST_BUNDLE"
    };
    let algorithm = match alg {
        0 => BundleAlgorithm::ActiveBackup,
        1 => BundleAlgorithm::Hrw,
        _ => {
            vlog::warn_rl!(&crate::actions::RL, MOD, "unsupported algorithm {}", alg);
            return Err(OfpErr::OfpbacBadArgument);
        }
    };
    let Some(fields) = HashFields::from_u16(fields) else {
        vlog::warn_rl!(&crate::actions::RL, MOD, "unsupported fields {}", fields);
        return Err(OfpErr::OfpbacBadArgument);
    };
    if slave_type != 0x0000_0002 {
        vlog::warn_rl!(
            &crate::actions::RL,
            MOD,
            "unsupported member type {}",
            slave_type
        );
        return Err(OfpErr::OfpbacBadArgument);
    }
    if !all_zero(&a[28..32]) {
        vlog::warn_rl!(&crate::actions::RL, MOD, "reserved field is nonzero");
        return Err(OfpErr::OfpbacBadArgument);
    }
    let dst = if load {
        let h = MfHeader::from_u32(dst_h);
        let field = FieldId::from_nxm_header(&h).ok_or(OfpErr::OfpbmcBadField)?;
        let dst = Subfield {
            field,
            ofs: nxm_decode_ofs(ofs_nbits),
            n_bits: nxm_decode_n_bits(ofs_nbits),
        };
        check_dst(&dst)?;
        if dst.n_bits < 16 {
            vlog::warn_rl!(
                &crate::actions::RL,
                MOD,
                "bundle_load action requires at least 16 bit destination."
            );
            return Err(OfpErr::OfpbacBadArgument);
        }
        Some(dst)
    } else {
        if ofs_nbits != 0 || dst_h != 0 {
            vlog::warn_rl!(
                &crate::actions::RL,
                MOD,
                "bundle action has nonzero reserved fields"
            );
            return Err(OfpErr::OfpbacBadArgument);
        }
        None
    };
    let avail = a.len() - 32;
    if avail < n_members * 2 {
        vlog::warn_rl!(
            &crate::actions::RL,
            MOD,
            "Nicira action {} only has {} bytes allocated for members.  {} bytes are required for {} members.",
            name,
            avail,
            n_members * 2,
            n_members
        );
        return Err(OfpErr::OfpbacBadLen);
    }
    let members = (0..n_members)
        .map(|i| OfpPort(u16_at(a, 32 + 2 * i)))
        .collect();
    Ok(OfpAction::Bundle(Bundle {
        algorithm,
        fields,
        basis,
        dst,
        members,
    }))
}

fn decode_controller2(a: &[u8]) -> Result<OfpAction, OfpErr> {
    if !all_zero(&a[10..16]) {
        return Err(OfpErr::NxbrcMustBeZero);
    }
    let mut c = Controller {
        raw: ControllerRaw::Controller2,
        ..Controller::default()
    };
    let mut p = tail(a, 16);
    while !p.is_empty() {
        if p.len() < 4 {
            return Err(OfpErr::OfpbpcBadLen);
        }
        let ty = u16_at(p, 0);
        let len = usize::from(u16_at(p, 2));
        let padded = (len + 7) & !7;
        if len < 4 || padded > p.len() {
            return Err(OfpErr::OfpbpcBadLen);
        }
        let body = &p[4..len];
        match ty {
            0 => c.max_len = prop_u16(body)?,
            1 => c.controller_id = prop_u16(body)?,
            2 => {
                let r = prop_u8(body)?;
                c.reason = PacketInReason::from_u8(r).ok_or(OfpErr::OfpbacBadArgument)?;
            }
            3 => c.userdata = body.to_vec(),
            4 => c.pause = true,
            5 => c.meter_id = prop_u32(body)?,
            _ => {
                vlog::warn_rl!(
                    &crate::actions::RL,
                    MOD,
                    "unknown NXAST_RAW_CONTROLLER2 property type {}",
                    ty
                );
                return Err(OfpErr::OfpbpcBadType);
            }
        }
        p = &p[padded..];
    }
    Ok(OfpAction::Controller(c))
}

fn prop_u8(b: &[u8]) -> Result<u8, OfpErr> {
    if b.len() == 1 {
        Ok(b[0])
    } else {
        Err(OfpErr::OfpbpcBadLen)
    }
}
fn prop_u16(b: &[u8]) -> Result<u16, OfpErr> {
    // A 16-bit property value is followed by 2 bytes of padding.
    if b.len() == 4 {
        Ok(u16_at(b, 0))
    } else {
        Err(OfpErr::OfpbpcBadLen)
    }
}
fn prop_u32(b: &[u8]) -> Result<u32, OfpErr> {
    if b.len() == 4 {
        Ok(u32_at(b, 0))
    } else {
        Err(OfpErr::OfpbpcBadLen)
    }
}

fn decode_encap(a: &[u8]) -> Result<OfpAction, OfpErr> {
    let hdr_size = u16_at(a, 10);
    if hdr_size != 0 {
        return Err(OfpErr::OfpbacBadArgument);
    }
    let new_pkt_type = u32_at(a, 12);
    const PT_ETH: u32 = 0;
    const PT_NSH: u32 = 0x0001_894f;
    const PT_MPLS: u32 = 0x0001_8847;
    const PT_MPLS_MC: u32 = 0x0001_8848;
    if !matches!(new_pkt_type, PT_ETH | PT_NSH | PT_MPLS | PT_MPLS_MC) {
        return Err(OfpErr::OfpbacBadArgument);
    }
    let mut props = Vec::new();
    let mut p = tail(a, 16);
    while !p.is_empty() {
        if p.len() < 4 {
            return Err(OfpErr::OfpbacBadLen);
        }
        let class = u16_at(p, 0);
        let ty = u8_at(p, 2);
        let len = usize::from(u8_at(p, 3));
        let padded = (len + 7) & !7;
        if len < 4 || padded > p.len() {
            return Err(OfpErr::OfpbacBadLen);
        }
        if new_pkt_type != PT_NSH || class != 4 {
            return Err(OfpErr::OfpbacBadArgument);
        }
        match ty {
            1 => {
                if len != 5 {
                    return Err(OfpErr::OfpbacBadLen);
                }
                let md = u8_at(p, 4);
                if md != 1 && md != 2 {
                    return Err(OfpErr::OfpbacBadArgument);
                }
                props.push(EncapProperty::NshMdType(md));
            }
            2 => {
                // class(2) type(1) len(1) then tlv class(2) type(1) len(1) value
                if len < 8 {
                    return Err(OfpErr::OfpbacBadLen);
                }
                let tlv_class = u16_at(p, 4);
                let tlv_type = u8_at(p, 6);
                let tlv_len = usize::from(u8_at(p, 7));
                let value = p.get(8..8 + tlv_len).ok_or(OfpErr::OfpbacBadLen)?;
                if 8 + tlv_len > len {
                    return Err(OfpErr::OfpbacBadLen);
                }
                props.push(EncapProperty::NshTlv {
                    class: tlv_class,
                    tlv_type,
                    value: value.to_vec(),
                });
            }
            _ => return Err(OfpErr::OfpbacBadArgument),
        }
        p = &p[padded..];
    }
    Ok(OfpAction::Encap(Encap {
        new_pkt_type,
        props,
    }))
}

pub(crate) use check_dst as mf_check_dst;
pub(crate) use check_src as mf_check_src;
pub(crate) fn field_header_at(b: &[u8], ofs: usize) -> Result<(FieldId, usize), OfpErr> {
    pull_field_header(b, ofs)
}
pub(crate) fn be16(b: &[u8], i: usize) -> u16 {
    u16_at(b, i)
}
pub(crate) fn be32(b: &[u8], i: usize) -> u32 {
    u32_at(b, i)
}
pub(crate) fn be64(b: &[u8], i: usize) -> u64 {
    u64_at(b, i)
}
pub(crate) fn zeros(b: &[u8]) -> bool {
    all_zero(b)
}
pub(crate) fn ipv6_at(b: &[u8], i: usize) -> Ipv6Addr {
    let mut x = [0u8; 16];
    for (k, v) in x.iter_mut().enumerate() {
        *v = u8_at(b, i + k);
    }
    Ipv6Addr::from(x)
}
