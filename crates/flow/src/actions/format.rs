//! Printing actions and instructions exactly as `ovs-ofctl` does
//! (`ofpacts_format`).

use std::fmt::{self, Write};

use super::mf::{self, format_subfield};
use super::model::*;
use super::port::OfpPort;
use crate::port::PortMap;

/// Prints an action list; an empty list is `drop`.
pub fn format_actions(acts: &[OfpAction]) -> String {
    format_actions_with_ports(acts, None)
}

/// Like [`format_actions`], printing port names from `ports` (`--names`).
pub fn format_actions_with_ports(acts: &[OfpAction], ports: Option<&PortMap>) -> String {
    let mut s = String::new();
    write_actions(&mut s, acts, ports);
    s
}

/// A port as `ofputil_format_port` prints it.
fn port_text(p: OfpPort, ports: Option<&PortMap>) -> String {
    crate::port::format_port(u32::from(p.0), ports)
}

fn write_actions(s: &mut String, acts: &[OfpAction], ports: Option<&PortMap>) {
    if acts.is_empty() {
        s.push_str("drop");
        return;
    }
    for (i, a) in acts.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        write_action(s, a, ports);
    }
}

impl fmt::Display for OfpAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = String::new();
        write_action(&mut s, self, None);
        f.write_str(&s)
    }
}

/// Bytes as `xx.xx.xx` (upstream's `format_hex_arg`).
pub fn format_hex_arg(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(".")
}

fn chomp_comma(s: &mut String) {
    if s.ends_with(',') {
        s.pop();
    }
}

fn write_action(s: &mut String, a: &OfpAction, ports: Option<&PortMap>) {
    use OfpAction as A;
    let _ = match a {
        A::Output(o) => {
            if o.port < OfpPort::MAX {
                write!(s, "output:{}", port_text(o.port, ports))
            } else if o.port == OfpPort::CONTROLLER {
                write!(s, "CONTROLLER:{}", o.max_len)
            } else {
                write!(s, "{}", o.port)
            }
        }
        A::Group(g) => write!(s, "group:{g}"),
        A::Controller(c) => {
            write_controller(s, c);
            Ok(())
        }
        A::Enqueue { port, queue } => write!(s, "enqueue:{}:{queue}", port_text(*port, ports)),
        A::OutputReg { src, .. } => write!(s, "output:{}", format_subfield(src)),
        A::OutputTrunc { port, max_len } => {
            write!(
                s,
                "output(port={},max_len={max_len})",
                port_text(*port, ports)
            )
        }
        A::Bundle(b) => {
            let name = if b.dst.is_some() {
                "bundle_load"
            } else {
                "bundle"
            };
            let alg = match b.algorithm {
                BundleAlgorithm::ActiveBackup => "active_backup",
                BundleAlgorithm::Hrw => "hrw",
            };
            let _ = write!(s, "{name}({},{},{alg},ofport,", b.fields.name(), b.basis);
            if let Some(d) = &b.dst {
                let _ = write!(s, "{},", format_subfield(d));
            }
            s.push_str("members:");
            let m: Vec<String> = b.members.iter().map(|p| port_text(*p, ports)).collect();
            s.push_str(&m.join(","));
            s.push(')');
            Ok(())
        }
        A::SetField(sf) => {
            write_set_field(s, sf);
            Ok(())
        }
        A::SetVlanVid {
            vid,
            push_vlan_if_needed,
            ..
        } => write!(
            s,
            "{}:{vid}",
            if *push_vlan_if_needed {
                "mod_vlan_vid"
            } else {
                "set_vlan_vid"
            }
        ),
        A::SetVlanPcp {
            pcp,
            push_vlan_if_needed,
            ..
        } => write!(
            s,
            "{}:{pcp}",
            if *push_vlan_if_needed {
                "mod_vlan_pcp"
            } else {
                "set_vlan_pcp"
            }
        ),
        A::StripVlan { pop_vlan } => {
            write!(s, "{}", if *pop_vlan { "pop_vlan" } else { "strip_vlan" })
        }
        A::PushVlan { ethertype } => write!(s, "push_vlan:{ethertype:#x}"),
        A::SetEthSrc(m) => write!(s, "mod_dl_src:{}", mf::format_mac(m)),
        A::SetEthDst(m) => write!(s, "mod_dl_dst:{}", mf::format_mac(m)),
        A::SetIpv4Src(ip) => write!(s, "mod_nw_src:{ip}"),
        A::SetIpv4Dst(ip) => write!(s, "mod_nw_dst:{ip}"),
        A::SetIpDscp(t) => write!(s, "mod_nw_tos:{t}"),
        A::SetIpEcn(e) => write!(s, "mod_nw_ecn:{e}"),
        A::SetIpTtl(t) => write!(s, "mod_nw_ttl:{t}"),
        A::SetL4SrcPort { port, .. } => write!(s, "mod_tp_src:{port}"),
        A::SetL4DstPort { port, .. } => write!(s, "mod_tp_dst:{port}"),
        A::RegMove(m) => write!(
            s,
            "move:{}->{}",
            format_subfield(&m.src),
            format_subfield(&m.dst)
        ),
        A::StackPush(sf) => write!(s, "push:{}", format_subfield(sf)),
        A::StackPop(sf) => write!(s, "pop:{}", format_subfield(sf)),
        A::DecTtl { cnt_ids, raw } => {
            if *raw == DecTtlRaw::CntIds {
                let ids: Vec<String> = cnt_ids.iter().map(|i| i.to_string()).collect();
                write!(s, "dec_ttl({})", ids.join(","))
            } else {
                write!(s, "dec_ttl")
            }
        }
        A::SetMplsLabel(l) => write!(s, "set_mpls_label({l})"),
        A::SetMplsTc(t) => write!(s, "set_mpls_tc({t})"),
        A::SetMplsTtl(t) => write!(s, "set_mpls_ttl({t})"),
        A::DecMplsTtl => write!(s, "dec_mpls_ttl"),
        A::PushMpls { ethertype } => write!(s, "push_mpls:{ethertype:#06x}"),
        A::PopMpls { ethertype } => write!(s, "pop_mpls:{ethertype:#06x}"),
        A::DecNshTtl => write!(s, "dec_nsh_ttl"),
        A::DeleteField(f) => write!(s, "delete_field:{}", f.name()),
        A::Encap(e) => {
            write_encap(s, e);
            Ok(())
        }
        A::Decap { new_pkt_type } => {
            s.push_str("decap(");
            if *new_pkt_type != PT_USE_NEXT_PROTO {
                let _ = write!(
                    s,
                    "packet_type(ns={},type={:#x})",
                    new_pkt_type >> 16,
                    new_pkt_type & 0xffff
                );
            }
            s.push(')');
            Ok(())
        }
        A::SetTunnel { tun_id, raw } => {
            let is64 = *raw == SetTunnelRaw::Tunnel64 || *tun_id > u64::from(u32::MAX);
            // C's `%#x`: a zero id prints as `0`.
            let id = if *tun_id == 0 {
                "0".to_string()
            } else {
                format!("{tun_id:#x}")
            };
            write!(s, "set_tunnel{}:{id}", if is64 { "64" } else { "" })
        }
        A::SetQueue(q) => write!(s, "set_queue:{q}"),
        A::PopQueue => write!(s, "pop_queue"),
        A::FinTimeout { idle, hard } => {
            s.push_str("fin_timeout(");
            if *idle != 0 {
                let _ = write!(s, "idle_timeout={idle},");
            }
            if *hard != 0 {
                let _ = write!(s, "hard_timeout={hard},");
            }
            chomp_comma(s);
            s.push(')');
            Ok(())
        }
        A::Resubmit(r) => {
            if r.in_port != OfpPort::IN_PORT && r.table_id == 255 && !r.with_ct_orig {
                write!(s, "resubmit:{}", port_text(r.in_port, ports))
            } else {
                s.push_str("resubmit(");
                if r.in_port != OfpPort::IN_PORT {
                    let _ = write!(s, "{}", port_text(r.in_port, ports));
                }
                s.push(',');
                if r.table_id != 255 {
                    let _ = write!(s, "{}", r.table_id);
                }
                if r.with_ct_orig {
                    s.push_str(",ct");
                }
                s.push(')');
                Ok(())
            }
        }
        A::Learn(l) => {
            super::learn::format_learn(s, l);
            Ok(())
        }
        A::Conjunction {
            id,
            clause,
            n_clauses,
        } => {
            write!(
                s,
                "conjunction({id},{}/{n_clauses})",
                u32::from(*clause) + 1
            )
        }
        A::Multipath(m) => write!(
            s,
            "multipath({},{},{},{},{},{})",
            m.fields.name(),
            m.basis,
            m.algorithm.name(),
            u32::from(m.max_link) + 1,
            m.arg,
            format_subfield(&m.dst)
        ),
        A::Note(bytes) => write!(s, "note:{}", format_hex_arg(bytes)),
        A::Exit => write!(s, "exit"),
        A::Sample(smp) => {
            let _ = write!(
                s,
                "sample(probability={},collector_set_id={},obs_domain_id={},obs_point_id={}",
                smp.probability, smp.collector_set_id, smp.obs_domain_id, smp.obs_point_id
            );
            if smp.sampling_port != OfpPort::NONE {
                let _ = write!(s, ",sampling_port={}", port_text(smp.sampling_port, ports));
            }
            match smp.direction {
                SampleDirection::Ingress => s.push_str(",ingress"),
                SampleDirection::Egress => s.push_str(",egress"),
                SampleDirection::Default => {}
            }
            s.push(')');
            Ok(())
        }
        A::Ct(ct) => {
            write_ct(s, ct, ports);
            Ok(())
        }
        A::CtClear => write!(s, "ct_clear"),
        A::Nat(n) => {
            write_nat(s, n);
            Ok(())
        }
        A::Clone(nested) => {
            s.push_str("clone(");
            write_actions(s, nested, ports);
            s.push(')');
            Ok(())
        }
        A::CheckPktLarger { pkt_len, dst } => {
            write!(s, "check_pkt_larger({pkt_len})->{}", format_subfield(dst))
        }
        A::DebugRecirc => write!(s, "debug_recirc"),
        A::DebugSlow => write!(s, "debug_slow"),
        A::Meter(m) => write!(s, "meter:{m}"),
        A::ClearActions => write!(s, "clear_actions"),
        A::WriteActions(nested) => {
            s.push_str("write_actions(");
            write_actions(s, nested, ports);
            s.push(')');
            Ok(())
        }
        A::WriteMetadata { metadata, mask } => {
            if *metadata == 0 {
                s.push_str("write_metadata:0");
            } else {
                let _ = write!(s, "write_metadata:{metadata:#x}");
            }
            if *mask != u64::MAX {
                let _ = write!(s, "/{mask:#x}");
            }
            Ok(())
        }
        A::GotoTable(t) => write!(s, "goto_table:{t}"),
    };
}

/// Packet type meaning "use the next protocol" (`decap()` default).
pub const PT_USE_NEXT_PROTO: u32 = 0xfffe;

fn write_controller(s: &mut String, c: &Controller) {
    if c.reason == PacketInReason::Action
        && c.controller_id == 0
        && c.userdata.is_empty()
        && !c.pause
        && c.meter_id == NX_CTLR_NO_METER
    {
        let _ = write!(s, "CONTROLLER:{}", c.max_len);
        return;
    }
    s.push_str("controller(");
    if c.reason != PacketInReason::Action {
        let _ = write!(s, "reason={},", c.reason.name());
    }
    if c.max_len != u16::MAX {
        let _ = write!(s, "max_len={},", c.max_len);
    }
    if c.controller_id != 0 {
        let _ = write!(s, "id={},", c.controller_id);
    }
    if !c.userdata.is_empty() {
        let _ = write!(s, "userdata={},", format_hex_arg(&c.userdata));
    }
    if c.pause {
        s.push_str("pause,");
    }
    if c.meter_id != NX_CTLR_NO_METER {
        let _ = write!(s, "meter_id={},", c.meter_id);
    }
    chomp_comma(s);
    s.push(')');
}

/// Splits a set-field's mask into `load` segments: contiguous runs of at
/// most 64 bits, lowest first.  Returns `(ofs, n_bits, value)`.
pub fn load_segments(sf: &SetField) -> Vec<(usize, usize, Vec<u8>)> {
    let width = sf.field.def().n_bits;
    let mut out = Vec::new();
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
        let mut v = vec![0u8; 8];
        mf::copy_bits(&sf.value, ofs, &mut v, 0, n);
        out.push((ofs, n, v));
    }
    out
}

fn write_set_field(s: &mut String, sf: &SetField) {
    if sf.raw == SetFieldRaw::Load {
        for (ofs, n_bits, v) in load_segments(sf) {
            let sub = mf::Subfield {
                field: sf.field,
                ofs,
                n_bits,
            };
            let _ = write!(
                s,
                "load:{}->{},",
                mf::format_hex_value(&v),
                format_subfield(&sub)
            );
        }
        chomp_comma(s);
    } else {
        let _ = write!(
            s,
            "set_field:{}->{}",
            mf::format_value(sf.field, &sf.value, Some(&sf.mask)),
            sf.field.name()
        );
    }
}

fn write_encap(s: &mut String, e: &Encap) {
    s.push_str("encap(");
    match e.new_pkt_type {
        0 => s.push_str("ethernet"),
        0x0001_894f => s.push_str("nsh"),
        0x0001_8847 => s.push_str("mpls"),
        0x0001_8848 => s.push_str("mpls_mc"),
        t => {
            let _ = write!(s, "packet_type(ns={},type={:#x})", t >> 16, t & 0xffff);
        }
    }
    if !e.props.is_empty() {
        s.push('(');
        let mut first = true;
        for p in &e.props {
            if !first {
                s.push(',');
            }
            first = false;
            match p {
                EncapProperty::NshMdType(md) => {
                    let _ = write!(s, "md_type={md}");
                }
                EncapProperty::NshTlv {
                    class,
                    tlv_type,
                    value,
                } => {
                    let _ = write!(s, "tlv({class:#x},{tlv_type},0x");
                    for b in value {
                        let _ = write!(s, "{b:02x}");
                    }
                    s.push(')');
                }
            }
        }
        s.push(')');
    }
    s.push(')');
}

fn write_ct(s: &mut String, ct: &Ct, ports: Option<&PortMap>) {
    s.push_str("ct(");
    if ct.flags & NX_CT_F_COMMIT != 0 {
        s.push_str("commit,");
    }
    if ct.flags & NX_CT_F_FORCE != 0 {
        s.push_str("force,");
    }
    if ct.recirc_table != 255 {
        let _ = write!(s, "table={},", ct.recirc_table);
    }
    if let Some(z) = &ct.zone_src {
        let _ = write!(s, "zone={},", format_subfield(z));
    } else if ct.zone_imm != 0 {
        let _ = write!(s, "zone={},", ct.zone_imm);
    }
    let mut rest: &[OfpAction] = &ct.actions;
    if let Some(OfpAction::Nat(n)) = rest.first() {
        write_nat(s, n);
        s.push(',');
        rest = &rest[1..];
    }
    if !rest.is_empty() {
        s.push_str("exec(");
        write_actions(s, rest, ports);
        s.push_str("),");
    }
    match ct.alg {
        0 => {}
        21 => s.push_str("alg=ftp,"),
        69 => s.push_str("alg=tftp,"),
        n => {
            let _ = write!(s, "alg={n},");
        }
    }
    chomp_comma(s);
    s.push(')');
}

fn write_nat(s: &mut String, n: &Nat) {
    s.push_str("nat");
    if n.flags & (NX_NAT_F_SRC | NX_NAT_F_DST) == 0 {
        return;
    }
    s.push('(');
    s.push_str(if n.flags & NX_NAT_F_SRC != 0 {
        "src"
    } else {
        "dst"
    });
    let has_af = !matches!(n.addr, NatAddrRange::None);
    match &n.addr {
        NatAddrRange::V4 { min, max } => {
            let _ = write!(s, "={min}");
            if !max.is_unspecified() && max != min {
                let _ = write!(s, "-{max}");
            }
        }
        NatAddrRange::V6 { min, max } => {
            let br = n.proto_min != 0;
            let fmt6 = |a: &std::net::Ipv6Addr| if br { format!("[{a}]") } else { a.to_string() };
            let _ = write!(s, "={}", fmt6(min));
            if !max.is_unspecified() && max != min {
                let _ = write!(s, "-{}", fmt6(max));
            }
        }
        NatAddrRange::None => {}
    }
    if has_af && n.proto_min != 0 {
        let _ = write!(s, ":{}", n.proto_min);
        if n.proto_max != 0 && n.proto_max != n.proto_min {
            let _ = write!(s, "-{}", n.proto_max);
        }
    }
    s.push(',');
    if n.flags & NX_NAT_F_PERSISTENT != 0 {
        s.push_str("persistent,");
    }
    if n.flags & NX_NAT_F_PROTO_HASH != 0 {
        s.push_str("hash,");
    }
    if n.flags & NX_NAT_F_PROTO_RANDOM != 0 {
        s.push_str("random,");
    }
    chomp_comma(s);
    s.push(')');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_names() {
        let mut map = PortMap::new();
        map.insert("eth0", 1);
        map.insert("a b", 2);
        let acts = vec![
            OfpAction::Output(Output {
                port: OfpPort(1),
                max_len: 0,
            }),
            OfpAction::Output(Output {
                port: OfpPort(2),
                max_len: 0,
            }),
            OfpAction::Output(Output {
                port: OfpPort::CONTROLLER,
                max_len: 7,
            }),
            OfpAction::Enqueue {
                port: OfpPort(1),
                queue: 3,
            },
        ];
        assert_eq!(
            format_actions_with_ports(&acts, Some(&map)),
            "output:eth0,output:\"a b\",CONTROLLER:7,enqueue:eth0:3"
        );
        assert_eq!(
            format_actions(&acts),
            "output:1,output:2,CONTROLLER:7,enqueue:1:3"
        );
        assert_eq!(format_actions(&[]), "drop");
    }

    #[test]
    fn zero_hex_values_print_as_c_does() {
        let t = |tun_id| OfpAction::SetTunnel {
            tun_id,
            raw: SetTunnelRaw::Auto,
        };
        assert_eq!(format_actions(&[t(0)]), "set_tunnel:0");
        assert_eq!(format_actions(&[t(0x3e9)]), "set_tunnel:0x3e9");
        assert_eq!(
            format_actions(&[OfpAction::WriteMetadata {
                metadata: 0,
                mask: 0xff
            }]),
            "write_metadata:0/0xff"
        );
    }
}
