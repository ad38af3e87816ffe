//! Encoding a [`Match`] as NXM/OXM entries in upstream's order and with
//! upstream's choice of field per protocol (`udp_src` for UDP, `icmp_type`
//! for ICMP, `arp_op` for ARP, OXM `vlan_vid`/`vlan_pcp` instead of the NXM
//! TCI, shifted DSCP in OXM, ...), so that peers see exactly the entries
//! Open vSwitch would send (nx_put_raw's behaviour).

use flow::matches::{
    ETH_TYPE_ARP, ETH_TYPE_IP, ETH_TYPE_IPV6, ETH_TYPE_MPLS, ETH_TYPE_MPLS_MCAST, ETH_TYPE_RARP,
    IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP,
};
use flow::{FieldId, Match, MfHeader, MfValue, Prereq};

const VLAN_VID_MASK: u16 = 0x0fff;
const VLAN_CFI: u16 = 0x1000;
const ND_NEIGHBOR_SOLICIT: u16 = 135;
const ND_NEIGHBOR_ADVERT: u16 = 136;

struct Enc<'a> {
    out: &'a mut Vec<u8>,
    /// `None` for NXM, else the OXM wire version.
    oxm: Option<u8>,
    /// True once an entry whose field needs an Ethernet packet was put.
    implied_ethernet: bool,
}

impl Enc<'_> {
    fn header(&self, field: FieldId, masked: bool) -> Option<MfHeader> {
        match self.oxm {
            // With no identity as old as `v`, upstream uses the field's
            // first one (e.g. OXM_OF_PACKET_TYPE in OpenFlow 1.2).
            Some(v) => field.oxm_header(v, masked).or_else(|| {
                let d = field.def();
                d.oxm.first().map(|h| MfHeader::new(h, masked, d.n_bytes))
            }),
            None => field
                .nxm_header(masked)
                .or_else(|| field.oxm_header(4, masked)),
        }
    }

    /// Puts `value`/`mask` (big-endian, same length): nothing when the mask
    /// is all zeros, an exact entry when all ones, else a masked one.
    fn put_bytes(&mut self, field: FieldId, value: &[u8], mask: &[u8]) {
        let masked = !mask.iter().all(|b| *b == 0xff);
        self.put_entry(field, value, mask, masked);
    }

    /// Puts `value`/`mask` as an entry, masked or not as told (nothing when
    /// the mask is all zeros).
    fn put_entry(&mut self, field: FieldId, value: &[u8], mask: &[u8], masked: bool) {
        if mask.iter().all(|b| *b == 0) {
            return;
        }
        let Some(mut h) = self.header(field, masked) else {
            return;
        };
        h.set_value_len(value.len());
        if field.def().prereqs != Prereq::None {
            self.implied_ethernet = true;
        }
        h.put(self.out);
        self.out.extend(
            value
                .iter()
                .zip(mask)
                .map(|(v, m)| if masked { v & m } else { *v }),
        );
        if masked {
            self.out.extend_from_slice(mask);
        }
    }

    fn put_masked(&mut self, field: FieldId, value: &MfValue, mask: &MfValue) {
        self.put_bytes(field, value.as_bytes(), mask.as_bytes());
    }

    /// The field as the match has it.
    fn field(&mut self, m: &Match, field: FieldId) {
        // Most fields are wildcarded: look at the value only when needed.
        let mk = m.field_mask(field);
        if mk.is_zero() {
            return;
        }
        self.put_masked(field, &field.get(&m.flow), &mk);
    }

    /// An exact entry of `n` bytes holding `x`.
    fn exact(&mut self, field: FieldId, x: u64, n: usize) {
        let v = x.to_be_bytes();
        self.put_bytes(field, &v[8 - n..], &[0xff; 8][..n]);
    }
}

/// The entries (unpadded) for `m`: NXM when `oxm` is `None`, else OXM of
/// that wire version.
pub fn put_raw(m: &Match, oxm: Option<u8>) -> Vec<u8> {
    let mut out = Vec::new();
    let mut e = Enc {
        out: &mut out,
        oxm,
        implied_ethernet: false,
    };
    let f = &m.flow;
    let w = &m.wc;

    if w.packet_type != 0 && !m.has_default_packet_type() {
        e.field(m, FieldId::PacketType);
    }
    e.field(m, FieldId::DpHash);
    e.field(m, FieldId::RecircId);
    e.field(m, FieldId::ConjId);
    if w.in_port != 0 {
        if oxm.is_some() {
            e.field(m, FieldId::InPortOxm);
        } else {
            e.field(m, FieldId::InPort);
        }
    }
    e.field(m, FieldId::ActsetOutput);

    e.field(m, FieldId::EthSrc);
    e.field(m, FieldId::EthDst);
    e.field(m, FieldId::EthType);

    if oxm.is_some() {
        let vid = f.vlans[0].tci & (VLAN_VID_MASK | VLAN_CFI);
        let mask = w.vlans[0].tci & (VLAN_VID_MASK | VLAN_CFI);
        if mask == VLAN_VID_MASK | VLAN_CFI {
            e.exact(FieldId::VlanVid, vid.into(), 2);
        } else if mask != 0 {
            e.put_bytes(FieldId::VlanVid, &vid.to_be_bytes(), &mask.to_be_bytes());
        }
        if vid != 0 && (w.vlans[0].tci >> 13) != 0 {
            e.exact(FieldId::VlanPcp, (f.vlans[0].tci >> 13).into(), 1);
        }
    } else {
        e.field(m, FieldId::VlanTci);
    }

    if f.dl_type == ETH_TYPE_MPLS || f.dl_type == ETH_TYPE_MPLS_MCAST {
        let (lse, lm) = (f.mpls_lse[0], w.mpls_lse[0]);
        if lm & 0x0000_0e00 != 0 {
            e.exact(FieldId::MplsTc, ((lse >> 9) & 7).into(), 1);
        }
        if lm & 0x0000_0100 != 0 {
            e.exact(FieldId::MplsBos, ((lse >> 8) & 1).into(), 1);
        }
        if lm & 0x0000_00ff != 0 {
            e.exact(FieldId::MplsTtl, (lse & 0xff).into(), 1);
        }
        if lm & 0xffff_f000 != 0 {
            e.exact(FieldId::MplsLabel, (lse >> 12).into(), 4);
        }
    }

    if f.dl_type == ETH_TYPE_IP || f.dl_type == ETH_TYPE_IPV6 {
        put_ip(&mut e, m);
    } else if f.dl_type == ETH_TYPE_ARP || f.dl_type == ETH_TYPE_RARP {
        if w.nw_proto != 0 {
            e.exact(FieldId::ArpOp, f.nw_proto.into(), 2);
        }
        e.field(m, FieldId::ArpSpa);
        e.field(m, FieldId::ArpTpa);
        e.field(m, FieldId::ArpSha);
        e.field(m, FieldId::ArpTha);
    }

    // Whole groups of fields are usually wildcarded: skip them at once.
    let tunnel = w.tunnel != packet::FlowTnl::default();
    if tunnel {
        e.field(m, FieldId::TunId);
        e.field(m, FieldId::TunFlags);
        e.field(m, FieldId::TunSrc);
        e.field(m, FieldId::TunDst);
        e.field(m, FieldId::TunIpv6Src);
        e.field(m, FieldId::TunIpv6Dst);
        e.field(m, FieldId::TunGbpId);
        e.field(m, FieldId::TunGbpFlags);
        for i in 0..64 {
            if let Some(t) = FieldId::tun_metadata(i) {
                if !m.is_field_wild(t) {
                    // As many bytes as the option has in this match.
                    let (v, mk) = m.get_field(t);
                    let (v, mk) = (v.as_bytes(), mk.as_bytes());
                    let n = m.field_len(t).min(v.len()).min(mk.len());
                    let masked = m.wc.tunnel.metadata.masked & (1 << i) != 0;
                    e.put_entry(t, &v[v.len() - n..], &mk[mk.len() - n..], masked);
                }
            }
        }
        e.field(m, FieldId::TunErspanIdx);
    }
    // Upstream passes these values as their own masks.
    for (field, v) in [
        (FieldId::TunErspanVer, f.tunnel.erspan_ver),
        (FieldId::TunErspanDir, f.tunnel.erspan_dir),
        (FieldId::TunErspanHwid, f.tunnel.erspan_hwid),
    ] {
        e.put_bytes(field, &[v], &[v]);
    }
    if tunnel {
        e.field(m, FieldId::TunGtpuFlags);
        e.field(m, FieldId::TunGtpuMsgtype);
    }

    let nsh_fields: &[FieldId] = if w.nsh == packet::FlowNsh::default() {
        &[]
    } else {
        &[
            FieldId::NshFlags,
            FieldId::NshTtl,
            FieldId::NshMdtype,
            FieldId::NshNp,
            FieldId::NshSpi,
            FieldId::NshSi,
            FieldId::NshC1,
            FieldId::NshC2,
            FieldId::NshC3,
            FieldId::NshC4,
        ]
    };
    for &field in nsh_fields {
        e.field(m, field);
    }

    if w.regs.iter().all(|r| *r == 0) {
        // No register is matched.
    } else if oxm.map_or(true, |v| v < 6) {
        for i in 0..16 {
            if let Some(r) = FieldId::reg(i) {
                e.field(m, r);
            }
        }
    } else {
        for i in 0..8 {
            if let Some(r) = FieldId::xreg(i) {
                e.field(m, r);
            }
        }
    }

    e.field(m, FieldId::PktMark);
    e.field(m, FieldId::CtState);
    e.field(m, FieldId::CtZone);
    e.field(m, FieldId::CtMark);
    e.field(m, FieldId::CtLabel);
    if FieldId::CtNwProto.prereqs_ok(f, Some(w)) {
        e.field(m, FieldId::CtNwProto);
        if f.dl_type == ETH_TYPE_IP {
            e.field(m, FieldId::CtNwSrc);
            e.field(m, FieldId::CtNwDst);
        } else if f.dl_type == ETH_TYPE_IPV6 {
            e.field(m, FieldId::CtIpv6Src);
            e.field(m, FieldId::CtIpv6Dst);
        }
        if matches!(f.ct_nw_proto, IPPROTO_TCP | IPPROTO_UDP | IPPROTO_SCTP) {
            e.field(m, FieldId::CtTpSrc);
            e.field(m, FieldId::CtTpDst);
        }
    }

    e.field(m, FieldId::Metadata);

    // An explicit Ethernet packet type that no other entry implies is
    // stated first.
    if m.has_default_packet_type() && !e.implied_ethernet {
        let mut pt = Vec::new();
        let mut first = Enc {
            out: &mut pt,
            oxm,
            implied_ethernet: false,
        };
        first.exact(FieldId::PacketType, m.flow.packet_type.into(), 4);
        out.splice(0..0, pt);
    }
    out
}

fn put_ip(e: &mut Enc<'_>, m: &Match) {
    let f = &m.flow;
    let w = &m.wc;
    if f.dl_type == ETH_TYPE_IP {
        e.field(m, FieldId::Ipv4Src);
        e.field(m, FieldId::Ipv4Dst);
    } else {
        e.field(m, FieldId::Ipv6Src);
        e.field(m, FieldId::Ipv6Dst);
    }

    let frag = f.nw_frag & 3;
    let frag_mask = match w.nw_frag & 3 {
        3 => 0xff,
        x => x,
    };
    e.put_bytes(FieldId::IpFrag, &[frag], &[frag_mask]);

    if w.nw_tos & 0xfc != 0 {
        if e.oxm.is_some() {
            e.exact(FieldId::IpDscpShifted, (f.nw_tos >> 2).into(), 1);
        } else {
            e.exact(FieldId::IpDscp, (f.nw_tos & 0xfc).into(), 1);
        }
    }
    if w.nw_tos & 0x03 != 0 {
        e.exact(FieldId::IpEcn, (f.nw_tos & 0x03).into(), 1);
    }
    if w.nw_ttl != 0 {
        e.exact(FieldId::IpTtl, f.nw_ttl.into(), 1);
    }
    e.field(m, FieldId::Ipv6Label);

    if w.nw_proto == 0 {
        return;
    }
    e.exact(FieldId::IpProto, f.nw_proto.into(), 1);
    match f.nw_proto {
        IPPROTO_TCP => {
            e.field(m, FieldId::TcpSrc);
            e.field(m, FieldId::TcpDst);
            e.field(m, FieldId::TcpFlags);
        }
        IPPROTO_UDP => {
            e.field(m, FieldId::UdpSrc);
            e.field(m, FieldId::UdpDst);
        }
        IPPROTO_SCTP => {
            e.field(m, FieldId::SctpSrc);
            e.field(m, FieldId::SctpDst);
        }
        IPPROTO_ICMP if f.dl_type == ETH_TYPE_IP => {
            if w.tp_src != 0 {
                e.exact(FieldId::Icmpv4Type, f.tp_src.into(), 1);
            }
            if w.tp_dst != 0 {
                e.exact(FieldId::Icmpv4Code, f.tp_dst.into(), 1);
            }
        }
        IPPROTO_ICMPV6 if f.dl_type == ETH_TYPE_IPV6 => {
            if w.tp_src != 0 {
                e.exact(FieldId::Icmpv6Type, f.tp_src.into(), 1);
            }
            if w.tp_dst != 0 {
                e.exact(FieldId::Icmpv6Code, f.tp_dst.into(), 1);
            }
            let nd = (f.tp_src == ND_NEIGHBOR_SOLICIT || f.tp_src == ND_NEIGHBOR_ADVERT)
                && f.tp_dst == 0
                && w.tp_src != 0;
            if nd {
                if w.nd_reserved != 0 {
                    e.exact(FieldId::NdReserved, f.nd_reserved.into(), 4);
                }
                e.field(m, FieldId::NdTarget);
                if w.nd_options_type != 0 {
                    e.exact(FieldId::NdOptionsType, f.nd_options_type.into(), 1);
                }
                if f.tp_src == ND_NEIGHBOR_SOLICIT {
                    e.field(m, FieldId::NdSll);
                }
                if f.tp_src == ND_NEIGHBOR_ADVERT {
                    e.field(m, FieldId::NdTll);
                }
            }
        }
        _ => {}
    }
}
