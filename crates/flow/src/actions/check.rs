//! Checks that depend on where actions are used (OVS's `ofpacts_check` and
//! `ofpacts_check_consistency`): output ports, goto_table targets, field
//! bounds and prerequisites against the flow's match, and the actions that
//! only OpenFlow 1.0 tolerates when they do not fit the match (which narrow
//! the usable protocols to OpenFlow 1.0).

use super::error::OfpErr;
use super::mf::{self, field_requires_ct, FieldId, Subfield};
use super::model::*;
use super::port::{check_output_port, OfpPort};
use crate::Match;
use crate::Protocols;

const ETH_TYPE_IP: u16 = 0x0800;
const ETH_TYPE_IPV6: u16 = 0x86dd;
const ETH_TYPE_MPLS: u16 = 0x8847;
const ETH_TYPE_MPLS_MCAST: u16 = 0x8848;
const ETH_TYPE_NSH: u16 = 0x894f;
const VLAN_CFI: u16 = 0x1000;
const PT_ETH: u32 = 0;
const PT_NSH: u32 = 0x0001_894f;
const CS_INVALID: u8 = 0x10;
const IPPROTO_TCP: u8 = 6;
const IPPROTO_UDP: u8 = 17;
const IPPROTO_SCTP: u8 = 132;
const FLOW_NW_FRAG_LATER: u8 = 2;

/// Where the actions are checked: the flow's match (modified as actions
/// push and pop headers), the port and table limits, and the protocols
/// still usable.
pub struct CheckContext {
    pub m: Match,
    pub max_ports: OfpPort,
    pub table_id: u8,
    pub n_tables: u16,
    pub usable: Protocols,
}

impl CheckContext {
    /// Upstream's `inconsistent_match`: only OpenFlow 1.0 may carry it.
    fn inconsistent(&mut self) {
        self.usable &= Protocols::OF10_ANY;
    }
}

fn is_ip_any(m: &Match) -> bool {
    matches!(m.flow.dl_type, ETH_TYPE_IP | ETH_TYPE_IPV6)
}

fn is_mpls(m: &Match) -> bool {
    matches!(m.flow.dl_type, ETH_TYPE_MPLS | ETH_TYPE_MPLS_MCAST)
}

/// Checks `acts` for a flow with match `m` in table `table_id`; narrows
/// `usable` as upstream's `ofpacts_check` does.
pub fn check_actions(
    acts: &mut [OfpAction],
    m: &Match,
    max_ports: OfpPort,
    table_id: u8,
    n_tables: u16,
    usable: &mut Protocols,
) -> Result<(), OfpErr> {
    let mut cx = CheckContext {
        m: *m,
        max_ports,
        table_id,
        n_tables,
        usable: *usable,
    };
    let r = check_list(&mut cx, acts);
    *usable = cx.usable;
    r
}

/// Like [`check_actions`], but an action that only OpenFlow 1.0 tolerates
/// is an error (`ofpacts_check_consistency`).
pub fn check_consistency(
    acts: &mut [OfpAction],
    m: &Match,
    max_ports: OfpPort,
    table_id: u8,
    n_tables: u16,
    usable: Protocols,
) -> Result<(), OfpErr> {
    let mut p = usable;
    check_actions(acts, m, max_ports, table_id, n_tables, &mut p)?;
    if p != usable {
        return Err(OfpErr::OfpbacMatchInconsistent);
    }
    Ok(())
}

fn check_list(cx: &mut CheckContext, acts: &mut [OfpAction]) -> Result<(), OfpErr> {
    let saved_dl_type = cx.m.flow.dl_type;
    let saved_vlans = cx.m.flow.vlans;
    let saved_nw_proto = cx.m.flow.nw_proto;
    let mut r = Ok(());
    for a in acts.iter_mut() {
        r = check_one(cx, a);
        if r.is_err() {
            break;
        }
    }
    cx.m.flow.dl_type = saved_dl_type;
    cx.m.flow.vlans = saved_vlans;
    cx.m.flow.nw_proto = saved_nw_proto;
    r
}

fn out_port(cx: &CheckContext, port: OfpPort) -> Result<(), OfpErr> {
    if check_output_port(port, cx.max_ports) {
        Ok(())
    } else {
        Err(OfpErr::OfpbacBadOutPort)
    }
}

fn check_set_field(cx: &mut CheckContext, sf: &mut SetField) -> Result<(), OfpErr> {
    let f = sf.field;
    let vlan_missing = f == FieldId::VlanVid && cx.m.flow.vlans[0].tci & VLAN_CFI == 0;
    if !cx.m.prereqs_ok(f) || vlan_missing {
        vlog::warn_rl!(
            &crate::actions::RL,
            "ofp_actions",
            "set_field {} lacks correct prerequisites",
            f.name()
        );
        return Err(OfpErr::OfpbacMatchInconsistent);
    }
    if f == FieldId::VlanTci {
        sf.flow_has_vlan = cx.m.flow.vlans[0].tci & VLAN_CFI != 0;
        if sf.value.first().copied().unwrap_or(0) & 0x10 != 0 {
            cx.m.flow.vlans[0].tci |= VLAN_CFI;
        }
    }
    Ok(())
}

fn check_one(cx: &mut CheckContext, a: &mut OfpAction) -> Result<(), OfpErr> {
    use OfpAction as A;
    match a {
        A::Output(o) => out_port(cx, o.port),
        A::Controller(_) | A::Group(_) | A::Note(_) | A::Exit | A::Sample(_) => Ok(()),
        A::Enqueue { port, .. } => {
            if *port >= cx.max_ports && *port != OfpPort::IN_PORT && *port != OfpPort::LOCAL {
                Err(OfpErr::OfpbacBadOutPort)
            } else {
                Ok(())
            }
        }
        A::OutputReg { src, .. } => check_src_with(src, Some(&cx.m)),
        A::OutputTrunc { port, .. } => out_port(cx, *port),
        A::Bundle(b) => {
            for m in &b.members {
                if *m >= cx.max_ports && *m != OfpPort::LOCAL {
                    vlog::warn!("bundle", "invalid member {}", m);
                    return Err(OfpErr::OfpbacBadOutPort);
                }
            }
            match &b.dst {
                Some(d) => check_dst_with(d, Some(&cx.m)),
                None => Ok(()),
            }
        }
        A::SetField(sf) => check_set_field(cx, sf),
        A::SetVlanVid {
            push_vlan_if_needed,
            flow_has_vlan,
            ..
        }
        | A::SetVlanPcp {
            push_vlan_if_needed,
            flow_has_vlan,
            ..
        } => {
            let has_vlan = cx.m.flow.vlans[0].tci & VLAN_CFI != 0;
            *flow_has_vlan = has_vlan;
            if !has_vlan && !*push_vlan_if_needed {
                cx.inconsistent();
            }
            cx.m.flow.vlans[0].tci |= VLAN_CFI;
            Ok(())
        }
        A::StripVlan { .. } => {
            if cx.m.flow.vlans[0].tci & VLAN_CFI == 0 {
                cx.inconsistent();
            }
            let n = cx.m.flow.vlans.len();
            cx.m.flow.vlans.copy_within(1..n, 0);
            cx.m.flow.vlans[n - 1] = Default::default();
            Ok(())
        }
        A::PushVlan { .. } => {
            let n = cx.m.flow.vlans.len();
            if cx.m.flow.vlans[n - 1].tci & VLAN_CFI != 0 {
                return Err(OfpErr::OfpbacBadTag);
            }
            cx.m.flow.vlans.copy_within(0..n - 1, 1);
            cx.m.flow.vlans[0].tci |= VLAN_CFI;
            Ok(())
        }
        A::SetEthSrc(_) | A::SetEthDst(_) => Ok(()),
        A::SetIpv4Src(_) | A::SetIpv4Dst(_) => {
            if cx.m.flow.dl_type != ETH_TYPE_IP {
                cx.inconsistent();
            }
            Ok(())
        }
        A::SetIpDscp(_) | A::SetIpEcn(_) | A::SetIpTtl(_) | A::DecTtl { .. } => {
            if !is_ip_any(&cx.m) {
                cx.inconsistent();
            }
            Ok(())
        }
        A::SetL4SrcPort { flow_ip_proto, .. } | A::SetL4DstPort { flow_ip_proto, .. } => {
            let p = cx.m.flow.nw_proto;
            *flow_ip_proto = p;
            if !is_ip_any(&cx.m)
                || cx.m.flow.nw_frag & FLOW_NW_FRAG_LATER != 0
                || !matches!(p, IPPROTO_TCP | IPPROTO_UDP | IPPROTO_SCTP)
            {
                cx.inconsistent();
            }
            Ok(())
        }
        A::RegMove(mv) => {
            check_src_with(&mv.src, Some(&cx.m))?;
            check_dst_with(&mv.dst, Some(&cx.m))
        }
        A::StackPush(sf) => check_src_with(sf, Some(&cx.m)),
        A::StackPop(sf) => check_dst_with(sf, Some(&cx.m)),
        A::SetMplsLabel(_) | A::SetMplsTc(_) | A::SetMplsTtl(_) | A::DecMplsTtl => {
            if !is_mpls(&cx.m) {
                cx.inconsistent();
            }
            Ok(())
        }
        A::PushMpls { ethertype } => {
            if cx.m.flow.packet_type != PT_ETH {
                cx.inconsistent();
            }
            cx.m.flow.dl_type = *ethertype;
            // The MPLS payload is opaque: no network protocol is known.
            cx.m.flow.nw_proto = 0;
            Ok(())
        }
        A::PopMpls { ethertype } => {
            if !is_mpls(&cx.m) {
                cx.inconsistent();
            }
            cx.m.flow.dl_type = *ethertype;
            Ok(())
        }
        A::DecNshTtl => {
            if cx.m.flow.packet_type != PT_NSH && cx.m.flow.dl_type != ETH_TYPE_NSH {
                cx.inconsistent();
            }
            Ok(())
        }
        A::DeleteField(f) => {
            if f.is_tun_metadata() {
                Ok(())
            } else {
                Err(OfpErr::OfpbacBadArgument)
            }
        }
        A::Encap(_) | A::Decap { .. } => Ok(()),
        A::SetTunnel { .. } | A::SetQueue(_) | A::PopQueue => Ok(()),
        A::FinTimeout { .. } => {
            if cx.m.flow.nw_proto != IPPROTO_TCP {
                cx.inconsistent();
            }
            Ok(())
        }
        A::Resubmit(r) => {
            if r.with_ct_orig
                && !cx.m.prereqs_ok(FieldId::CtNwSrc)
                && !cx.m.prereqs_ok(FieldId::CtIpv6Src)
            {
                return Err(OfpErr::OfpbacMatchInconsistent);
            }
            Ok(())
        }
        A::Learn(l) => check_learn(cx, l),
        A::Conjunction { .. } => Ok(()),
        A::Multipath(mp) => check_dst_with(&mp.dst, Some(&cx.m)),
        A::Ct(ct) => {
            let p = cx.m.flow.nw_proto;
            if !is_ip_any(&cx.m)
                || (cx.m.flow.ct_state & CS_INVALID != 0 && ct.flags & NX_CT_F_COMMIT != 0)
                || (ct.alg == 21 && p != IPPROTO_TCP)
                || (ct.alg == 69 && p != IPPROTO_UDP)
            {
                return Err(OfpErr::OfpbacMatchInconsistent);
            }
            if let Some(z) = &ct.zone_src {
                return check_src_with(z, Some(&cx.m));
            }
            check_list(cx, &mut ct.actions)
        }
        A::CtClear => Ok(()),
        A::Nat(n) => {
            let dl = cx.m.flow.dl_type;
            let bad_af = match n.addr {
                NatAddrRange::V4 { .. } => dl != ETH_TYPE_IP,
                NatAddrRange::V6 { .. } => dl != ETH_TYPE_IPV6,
                NatAddrRange::None => false,
            };
            if !is_ip_any(&cx.m) || bad_af {
                return Err(OfpErr::OfpbacMatchInconsistent);
            }
            Ok(())
        }
        A::Clone(nested) => check_list(cx, nested),
        A::CheckPktLarger { dst, .. } => check_dst_with(dst, Some(&cx.m)),
        A::DebugRecirc | A::DebugSlow => Ok(()),
        A::Meter(id) => {
            if *id == 0 || *id > 0xffff_0000 {
                return Err(OfpErr::OfpmmfcInvalidMeter);
            }
            Ok(())
        }
        A::ClearActions | A::WriteMetadata { .. } => Ok(()),
        A::WriteActions(nested) => {
            let saved = cx.m;
            let r = check_list(cx, nested);
            cx.m = saved;
            r
        }
        A::GotoTable(t) => {
            if (cx.table_id != 255 && *t <= cx.table_id)
                || (cx.n_tables != 255 && u16::from(*t) >= cx.n_tables)
            {
                return Err(OfpErr::OfpbicBadTableId);
            }
            Ok(())
        }
    }
}

/// Upstream's `learn_check`: sources against the flow's match, match
/// destinations against the learned flow's match as it is built.
fn check_learn(cx: &mut CheckContext, l: &Learn) -> Result<(), OfpErr> {
    let mut learned = Match::catchall();
    for spec in &l.specs {
        if let LearnSrc::Field(src) = &spec.src {
            check_src_with(src, Some(&cx.m))?;
        }
        match &spec.dst {
            LearnDst::Match(dst) => {
                check_src_with(dst, Some(&learned))?;
                if let LearnSrc::Immediate(imm) = &spec.src {
                    let mut bits = crate::value::MfValue::zero(dst.field.def().n_bytes);
                    let nb = dst.n_bits.min(bits.len() * 8);
                    let mut buf = bits.as_bytes().to_vec();
                    super::mf::copy_bits(imm, 0, &mut buf, 0, nb);
                    bits = crate::value::MfValue::from_bytes(&buf);
                    dst.write_match(&mut learned, &bits);
                }
            }
            LearnDst::Load(dst) => {
                if field_requires_ct(dst.field) {
                    return Err(OfpErr::OfpbacBadSetArgument);
                }
                check_dst_with(dst, Some(&learned))?;
            }
            LearnDst::Output => {}
        }
    }
    if let Some(d) = &l.result_dst {
        check_dst_with(d, Some(&cx.m))?;
    }
    Ok(())
}

/// Upstream's `mf_check_src`/`mf_check_dst` (module `meta_flow`): bounds,
/// and with a match, the field's prerequisites.
fn check_subfield(sf: &Subfield, kind: &str, m: Option<&Match>) -> Result<(), OfpErr> {
    let width = mf::field_bits(sf.field);
    let name = sf.field.name();
    if sf.n_bits == 0 {
        vlog::warn_rl!(&MF_RL, "meta_flow", "zero bit {} field {}", kind, name);
        Err(OfpErr::OfpbacBadSetLen)
    } else if sf.ofs >= width {
        vlog::warn_rl!(
            &MF_RL,
            "meta_flow",
            "bit offset {} exceeds {}-bit width of {} field {}",
            sf.ofs,
            width,
            kind,
            name
        );
        Err(OfpErr::OfpbacBadSetLen)
    } else if sf.ofs + sf.n_bits > width {
        vlog::warn_rl!(
            &MF_RL,
            "meta_flow",
            "bit offset {} and width {} exceeds {}-bit width of {} field {}",
            sf.ofs,
            sf.n_bits,
            width,
            kind,
            name
        );
        Err(OfpErr::OfpbacBadSetLen)
    } else if m.is_some_and(|m| !m.prereqs_ok(sf.field)) {
        vlog::warn_rl!(
            &MF_RL,
            "meta_flow",
            "{} field {} lacks correct prerequisites",
            kind,
            name
        );
        Err(OfpErr::OfpbacMatchInconsistent)
    } else {
        Ok(())
    }
}

/// The rate limit of the field checks' warnings (upstream's meta-flow
/// module: five, then one a second).
static MF_RL: vlog::RateLimit = vlog::RateLimit::new(1, 5);

/// `mf_check_src`.
pub fn check_src_with(sf: &Subfield, m: Option<&Match>) -> Result<(), OfpErr> {
    check_subfield(sf, "source", m)
}

/// `mf_check_dst`: also requires a writable field.
pub fn check_dst_with(sf: &Subfield, m: Option<&Match>) -> Result<(), OfpErr> {
    check_subfield(sf, "destination", m)?;
    if !sf.field.def().writable {
        vlog::warn_rl!(
            &MF_RL,
            "meta_flow",
            "destination field {} is not writable",
            sf.field.name()
        );
        return Err(OfpErr::OfpbacBadSetArgument);
    }
    Ok(())
}
