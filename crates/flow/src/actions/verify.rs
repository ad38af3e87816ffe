//! Structural checks on an action list that do not depend on a flow's
//! match (OVS's `ofpacts_verify`): instruction order and duplicates, where
//! instructions may appear, what may nest inside `ct`, `clone` and
//! `write_actions`, and `conjunction`'s company.

use super::error::OfpErr;
use super::mf::field_requires_ct;
use super::model::{InstructionType, OfpAction};
use super::wire::OfpVersion;

/// Which instructions a list may contain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Allowed {
    /// Only plain actions (an apply-actions list).
    ApplyOnly,
    /// Every instruction.
    All,
}

/// The action a nested list is inside.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outer {
    WriteActions,
    Ct,
    Clone,
}

impl Outer {
    fn name(self) -> &'static str {
        match self {
            Outer::WriteActions => "write_actions",
            Outer::Ct => "ct",
            Outer::Clone => "clone",
        }
    }
}

/// The instruction type an action belongs to in `version`.
pub fn instruction_of(a: &OfpAction, version: OfpVersion) -> InstructionType {
    match a {
        OfpAction::Meter(_) if version >= OfpVersion::Of15 => InstructionType::ApplyActions,
        a => a
            .instruction_type()
            .unwrap_or(InstructionType::ApplyActions),
    }
}

/// Reports a verification failure: into `errorp` when the caller wants the
/// message (text parsing), else as a warning (decoding).
fn verify_error(errorp: &mut Option<String>, msg: String, want: bool) {
    if want {
        *errorp = Some(msg);
    } else {
        vlog::warn!("ofp_actions", "{}", msg);
    }
}

/// Checks `acts`.  With `errorp` = `Some(..)` on entry the message is
/// returned there instead of logged.
pub fn verify(
    acts: &[OfpAction],
    version: OfpVersion,
    allowed: Allowed,
    outer: Option<Outer>,
    errorp: &mut Option<String>,
) -> Result<(), OfpErr> {
    let want = errorp.is_some();
    let mut inst = InstructionType::Meter;
    for (i, a) in acts.iter().enumerate() {
        if let OfpAction::Conjunction { .. } = a {
            for b in acts {
                if !matches!(b, OfpAction::Conjunction { .. } | OfpAction::Note(_)) {
                    verify_error(
                        errorp,
                        format!(
                            "\"conjunction\" actions may be used along with \"note\" but not any other kind of action (such as the \"{}\" action used here)",
                            action_name(b)
                        ),
                        want,
                    );
                    return Err(OfpErr::NxbacBadConjunction);
                }
            }
            return Ok(());
        }
        verify_nested(a, outer, errorp, want)?;
        let next = instruction_of(a, version);
        if i > 0 {
            let bad = if next == InstructionType::ApplyActions {
                next < inst
            } else {
                next <= inst
            };
            if bad {
                if next == inst {
                    verify_error(
                        errorp,
                        format!(
                            "duplicate {} instruction not allowed, for OpenFlow 1.1+ compatibility",
                            inst.name()
                        ),
                        want,
                    );
                } else {
                    verify_error(
                        errorp,
                        format!(
                            "invalid instruction ordering: {} must appear before {}, for OpenFlow 1.1+ compatibility",
                            next.name(),
                            inst.name()
                        ),
                        want,
                    );
                }
                return Err(OfpErr::OfpbacUnsupportedOrder);
            }
        }
        if allowed == Allowed::ApplyOnly && next != InstructionType::ApplyActions {
            verify_error(
                errorp,
                format!("{} instruction not allowed here", next.name()),
                want,
            );
            return Err(OfpErr::OfpbicUnsupInst);
        }
        inst = next;
    }
    Ok(())
}

fn verify_nested(
    a: &OfpAction,
    outer: Option<Outer>,
    errorp: &mut Option<String>,
    want: bool,
) -> Result<(), OfpErr> {
    let field = match a {
        OfpAction::SetField(sf) => Some(sf.field),
        OfpAction::RegMove(m) => Some(m.dst.field),
        _ => None,
    };
    if let Some(f) = field {
        if field_requires_ct(f) && outer != Some(Outer::Ct) {
            verify_error(
                errorp,
                "cannot set CT fields outside of ct action".into(),
                want,
            );
            return Err(OfpErr::OfpbacBadSetArgument);
        }
    }
    if let OfpAction::Nat(_) = a {
        if outer != Some(Outer::Ct) {
            verify_error(
                errorp,
                "Cannot have NAT action outside of \"ct\" action".into(),
                want,
            );
            return Err(OfpErr::OfpbacBadSetArgument);
        }
        return Ok(());
    }
    if let Some(o) = outer {
        if o == Outer::Ct {
            match field {
                None => {
                    verify_error(
                        errorp,
                        format!(
                            "{} action doesn't support nested action {}",
                            o.name(),
                            action_name(a)
                        ),
                        want,
                    );
                    return Err(OfpErr::OfpbacBadArgument);
                }
                Some(f) if !field_requires_ct(f) => {
                    verify_error(
                        errorp,
                        format!(
                            "{} action doesn't support nested modification of {}",
                            o.name(),
                            f.name()
                        ),
                        want,
                    );
                    return Err(OfpErr::OfpbacBadArgument);
                }
                _ => {}
            }
        }
        if let OfpAction::Meter(_) = a {
            verify_error(
                errorp,
                format!("{} action doesn't support nested action meter", o.name()),
                want,
            );
            return Err(OfpErr::OfpbacBadArgument);
        }
    }
    Ok(())
}

/// Upstream's name for the kind of an action (`ofpact_name`).
pub fn action_name(a: &OfpAction) -> &'static str {
    use OfpAction::*;
    match a {
        Output(_) => "output",
        Group(_) => "group",
        Controller(_) => "controller",
        Enqueue { .. } => "enqueue",
        OutputReg { .. } => "output_reg",
        OutputTrunc { .. } => "output_trunc",
        Bundle(_) => "bundle",
        SetField(_) => "set_field",
        SetVlanVid { .. } => "set_vlan_vid",
        SetVlanPcp { .. } => "set_vlan_pcp",
        StripVlan { .. } => "strip_vlan",
        PushVlan { .. } => "push_vlan",
        SetEthSrc(_) => "mod_dl_src",
        SetEthDst(_) => "mod_dl_dst",
        SetIpv4Src(_) => "mod_nw_src",
        SetIpv4Dst(_) => "mod_nw_dst",
        SetIpDscp(_) => "mod_nw_tos",
        SetIpEcn(_) => "mod_nw_ecn",
        SetIpTtl(_) => "mod_nw_ttl",
        SetL4SrcPort { .. } => "mod_tp_src",
        SetL4DstPort { .. } => "mod_tp_dst",
        RegMove(_) => "move",
        StackPush(_) => "push",
        StackPop(_) => "pop",
        DecTtl { .. } => "dec_ttl",
        SetMplsLabel(_) => "set_mpls_label",
        SetMplsTc(_) => "set_mpls_tc",
        SetMplsTtl(_) => "set_mpls_ttl",
        DecMplsTtl => "dec_mpls_ttl",
        PushMpls { .. } => "push_mpls",
        PopMpls { .. } => "pop_mpls",
        DecNshTtl => "dec_nsh_ttl",
        DeleteField(_) => "delete_field",
        Encap(_) => "encap",
        Decap { .. } => "decap",
        SetTunnel { .. } => "set_tunnel",
        SetQueue(_) => "set_queue",
        PopQueue => "pop_queue",
        FinTimeout { .. } => "fin_timeout",
        Resubmit(_) => "resubmit",
        Learn(_) => "learn",
        Conjunction { .. } => "conjunction",
        Multipath(_) => "multipath",
        Note(_) => "note",
        Exit => "exit",
        Sample(_) => "sample",
        Ct(_) => "ct",
        CtClear => "ct_clear",
        Nat(_) => "nat",
        Clone(_) => "clone",
        CheckPktLarger { .. } => "check_pkt_larger",
        DebugRecirc => "debug_recirc",
        DebugSlow => "debug_slow",
        Meter(_) => "meter",
        ClearActions => "clear_actions",
        WriteActions(_) => "write_actions",
        WriteMetadata { .. } => "write_metadata",
        GotoTable(_) => "goto_table",
    }
}
