//! Reading and writing one field of a flow key ([`FieldId::get`],
//! [`FieldId::set`]), including fields that are views of shared storage
//! (`dl_vlan` and `vlan_vid` of the TCI, `ip_dscp` of the TOS byte, MPLS
//! label stack entry parts, NSH service path header parts, OF1.1 ports).

use super::FieldId;
use crate::value::MfValue;
use packet::Flow;

/// The CFI bit of the 802.1Q TCI ("VLAN present" in OVS's flow key).
pub const VLAN_CFI: u16 = 0x1000;
/// VLAN ID bits of the TCI.
pub const VLAN_VID_MASK: u16 = 0x0fff;
/// Priority bits of the TCI.
pub const VLAN_PCP_MASK: u16 = 0xe000;
/// OpenFlow 1.0 "no VLAN" value of `dl_vlan`.
pub const OFP10_VLAN_NONE: u16 = 0xffff;

/// Offset between OF1.0 reserved ports (0xfff8..) and OF1.1+ (0xfffffff8..).
pub const OFPP11_OFFSET: u32 = 0xffff_0000;
/// First OF1.0 reserved port number.
pub const OFPP_MAX: u32 = 0xff00;
/// First OF1.1+ reserved port number.
pub const OFPP11_MAX: u32 = 0xffff_ff00;

/// OF1.0 port number to its OF1.1+ form.
pub fn port_to_ofp11(port: u32) -> u32 {
    if port < OFPP_MAX {
        port
    } else {
        port.wrapping_add(OFPP11_OFFSET)
    }
}

/// OF1.1+ port number to its OF1.0 form; `None` if not representable.
pub fn port_from_ofp11(port: u32) -> Option<u32> {
    if port < OFPP_MAX {
        Some(port)
    } else if port >= OFPP11_MAX {
        Some(port - OFPP11_OFFSET)
    } else {
        None
    }
}

/// A first VLAN header that gets a TCI but has no TPID yet becomes 802.1Q
/// (upstream's `flow_fix_vlan_tpid`, applied whenever a VLAN field is set),
/// so that datapath actions and later pushes see a real tag.
pub fn fix_vlan_tpid(flow: &mut Flow) {
    if flow.vlans[0].tpid == 0 && flow.vlans[0].tci != 0 {
        flow.vlans[0].tpid = ETH_TYPE_VLAN_8021Q;
    }
}

/// The 802.1Q TPID.
pub const ETH_TYPE_VLAN_8021Q: u16 = 0x8100;

fn ipv4_get(x: u32) -> MfValue {
    MfValue::from_u64(4, x as u64)
}

impl FieldId {
    /// The value of this field in `flow`, `n_bytes` wide.
    pub fn get(self, flow: &Flow) -> MfValue {
        use FieldId::*;
        let n = self.def().n_bytes;
        let int = |x: u128| MfValue::from_u128(n, x);
        if let Some(i) = self.tun_metadata_index() {
            let mut v = MfValue::zero(n);
            if let Some(slot) = flow.tunnel.metadata.slot(i) {
                let b = v.as_bytes_mut();
                let k = slot.len().min(b.len());
                let len = b.len();
                b[len - k..].copy_from_slice(&slot[slot.len() - k..]);
            }
            return v;
        }
        if let Some(r) = self.reg_index() {
            return int(flow.regs[r] as u128);
        }
        if let Some(r) = self.xreg_index() {
            return int((flow.regs[2 * r] as u128) << 32 | flow.regs[2 * r + 1] as u128);
        }
        if let Some(r) = self.xxreg_index() {
            let x = (0..4).fold(0u128, |acc, k| acc << 32 | flow.regs[4 * r + k] as u128);
            return int(x);
        }
        let t = &flow.tunnel;
        let tci = flow.vlans[0].tci;
        let lse = flow.mpls_lse[0];
        match self {
            DpHash => int(flow.dp_hash as u128),
            RecircId => int(flow.recirc_id as u128),
            PacketType => int(flow.packet_type as u128),
            ConjId => int(flow.conj_id as u128),
            TunId => int(t.tun_id as u128),
            TunSrc => ipv4_get(t.ip_src),
            TunDst => ipv4_get(t.ip_dst),
            TunIpv6Src => MfValue::from_bytes(&t.ipv6_src),
            TunIpv6Dst => MfValue::from_bytes(&t.ipv6_dst),
            TunFlags => int(t.flags as u128),
            TunTtl => int(t.ip_ttl as u128),
            TunTos => int(t.ip_tos as u128),
            TunGbpId => int(t.gbp_id as u128),
            TunGbpFlags => int(t.gbp_flags as u128),
            TunErspanVer => int(t.erspan_ver as u128),
            TunErspanIdx => int(t.erspan_idx as u128),
            TunErspanDir => int(t.erspan_dir as u128),
            TunErspanHwid => int(t.erspan_hwid as u128),
            TunGtpuFlags => int(t.gtpu_flags as u128),
            TunGtpuMsgtype => int(t.gtpu_msgtype as u128),
            Metadata => int(flow.metadata as u128),
            InPort => int(flow.in_port as u128),
            InPortOxm => int(port_to_ofp11(flow.in_port) as u128),
            ActsetOutput => int(port_to_ofp11(flow.actset_output) as u128),
            SkbPriority => int(flow.skb_priority as u128),
            PktMark => int(flow.pkt_mark as u128),
            CtState => int(flow.ct_state as u128),
            CtZone => int(flow.ct_zone as u128),
            CtMark => int(flow.ct_mark as u128),
            CtLabel => int(flow.ct_label),
            CtNwProto => int(flow.ct_nw_proto as u128),
            CtNwSrc => ipv4_get(flow.ct_nw_src),
            CtNwDst => ipv4_get(flow.ct_nw_dst),
            CtIpv6Src => MfValue::from_bytes(&flow.ct_ipv6_src),
            CtIpv6Dst => MfValue::from_bytes(&flow.ct_ipv6_dst),
            CtTpSrc => int(flow.ct_tp_src as u128),
            CtTpDst => int(flow.ct_tp_dst as u128),
            EthSrc => MfValue::from_bytes(&flow.dl_src),
            EthDst => MfValue::from_bytes(&flow.dl_dst),
            EthType => int(flow.dl_type as u128),
            VlanTci => int(tci as u128),
            DlVlan => int((tci & VLAN_VID_MASK) as u128),
            VlanVid => int((tci & (VLAN_VID_MASK | VLAN_CFI)) as u128),
            DlVlanPcp | VlanPcp => int((tci >> 13) as u128),
            MplsLabel => int((lse >> 12) as u128),
            MplsTc => int(((lse >> 9) & 7) as u128),
            MplsBos => int(((lse >> 8) & 1) as u128),
            MplsTtl => int((lse & 0xff) as u128),
            Ipv4Src | ArpSpa => ipv4_get(flow.nw_src),
            Ipv4Dst | ArpTpa => ipv4_get(flow.nw_dst),
            Ipv6Src => MfValue::from_bytes(&flow.ipv6_src),
            Ipv6Dst => MfValue::from_bytes(&flow.ipv6_dst),
            Ipv6Label => int(flow.ipv6_label as u128),
            IpProto => int(flow.nw_proto as u128),
            IpDscp => int((flow.nw_tos & 0xfc) as u128),
            IpDscpShifted => int((flow.nw_tos >> 2) as u128),
            IpEcn => int((flow.nw_tos & 3) as u128),
            IpTtl => int(flow.nw_ttl as u128),
            IpFrag => int(flow.nw_frag as u128),
            ArpOp => int(flow.nw_proto as u128),
            ArpSha | NdSll => MfValue::from_bytes(&flow.arp_sha),
            ArpTha | NdTll => MfValue::from_bytes(&flow.arp_tha),
            TcpSrc | UdpSrc | SctpSrc => int(flow.tp_src as u128),
            TcpDst | UdpDst | SctpDst => int(flow.tp_dst as u128),
            TcpFlags => int(flow.tcp_flags as u128),
            Icmpv4Type | Icmpv6Type => int((flow.tp_src & 0xff) as u128),
            Icmpv4Code | Icmpv6Code => int((flow.tp_dst & 0xff) as u128),
            NdTarget => MfValue::from_bytes(&flow.nd_target),
            NdReserved => int(flow.nd_reserved as u128),
            NdOptionsType => int(flow.nd_options_type as u128),
            NshFlags => int(flow.nsh.flags as u128),
            NshTtl => int(flow.nsh.ttl as u128),
            NshMdtype => int(flow.nsh.mdtype as u128),
            NshNp => int(flow.nsh.np as u128),
            NshSpi => int((flow.nsh.path_hdr >> 8) as u128),
            NshSi => int((flow.nsh.path_hdr & 0xff) as u128),
            NshC1 => int(flow.nsh.context[0] as u128),
            NshC2 => int(flow.nsh.context[1] as u128),
            NshC3 => int(flow.nsh.context[2] as u128),
            NshC4 => int(flow.nsh.context[3] as u128),
            // Registers and tunnel metadata are handled above.
            _ => MfValue::zero(n),
        }
    }

    /// Stores `value` (big-endian, `n_bytes` wide; shorter values are
    /// taken as their low bytes) into this field of `flow`.  For tunnel
    /// metadata, a slot without a location gets one sized to the value.
    pub fn set(self, flow: &mut Flow, value: &MfValue) {
        use FieldId::*;
        let x = value.to_u128();
        if let Some(i) = self.tun_metadata_index() {
            let md = &mut flow.tunnel.metadata;
            if md.len[i] == 0 {
                let need = value.significant_bytes().max(1);
                let used = md.used();
                if used + need > md.opts.len() {
                    return;
                }
                md.ofs[i] = used as u8;
                md.len[i] = need as u8;
            }
            md.present |= 1 << i;
            if let Some(slot) = md.slot_mut(i) {
                let src = value.as_bytes();
                let k = slot.len().min(src.len());
                let sl = slot.len();
                slot.fill(0);
                slot[sl - k..].copy_from_slice(&src[src.len() - k..]);
            }
            return;
        }
        if let Some(r) = self.reg_index() {
            flow.regs[r] = x as u32;
            return;
        }
        if let Some(r) = self.xreg_index() {
            flow.regs[2 * r] = (x >> 32) as u32;
            flow.regs[2 * r + 1] = x as u32;
            return;
        }
        if let Some(r) = self.xxreg_index() {
            for k in 0..4 {
                flow.regs[4 * r + k] = (x >> (32 * (3 - k))) as u32;
            }
            return;
        }
        let bytes16 = |v: &MfValue| -> [u8; 16] {
            let mut a = [0u8; 16];
            let b = v.as_bytes();
            let k = b.len().min(16);
            a[16 - k..].copy_from_slice(&b[b.len() - k..]);
            a
        };
        let bytes6 = |v: &MfValue| -> [u8; 6] {
            let mut a = [0u8; 6];
            let b = v.as_bytes();
            let k = b.len().min(6);
            a[6 - k..].copy_from_slice(&b[b.len() - k..]);
            a
        };
        let t = &mut flow.tunnel;
        match self {
            DpHash => flow.dp_hash = x as u32,
            RecircId => flow.recirc_id = x as u32,
            PacketType => flow.packet_type = x as u32,
            ConjId => flow.conj_id = x as u32,
            TunId => t.tun_id = x as u64,
            TunSrc => t.ip_src = x as u32,
            TunDst => t.ip_dst = x as u32,
            TunIpv6Src => t.ipv6_src = bytes16(value),
            TunIpv6Dst => t.ipv6_dst = bytes16(value),
            TunFlags => t.flags = x as u16,
            TunTtl => t.ip_ttl = x as u8,
            TunTos => t.ip_tos = x as u8,
            TunGbpId => t.gbp_id = x as u16,
            TunGbpFlags => t.gbp_flags = x as u8,
            TunErspanVer => t.erspan_ver = x as u8,
            TunErspanIdx => t.erspan_idx = x as u32,
            TunErspanDir => t.erspan_dir = x as u8,
            TunErspanHwid => t.erspan_hwid = x as u8,
            TunGtpuFlags => t.gtpu_flags = x as u8,
            TunGtpuMsgtype => t.gtpu_msgtype = x as u8,
            Metadata => flow.metadata = x as u64,
            InPort => flow.in_port = x as u16 as u32,
            InPortOxm => flow.in_port = port_from_ofp11(x as u32).unwrap_or(0xffff),
            ActsetOutput => flow.actset_output = port_from_ofp11(x as u32).unwrap_or(0xffff),
            SkbPriority => flow.skb_priority = x as u32,
            PktMark => flow.pkt_mark = x as u32,
            CtState => flow.ct_state = x as u8,
            CtZone => flow.ct_zone = x as u16,
            CtMark => flow.ct_mark = x as u32,
            CtLabel => flow.ct_label = x,
            CtNwProto => flow.ct_nw_proto = x as u8,
            CtNwSrc => flow.ct_nw_src = x as u32,
            CtNwDst => flow.ct_nw_dst = x as u32,
            CtIpv6Src => flow.ct_ipv6_src = bytes16(value),
            CtIpv6Dst => flow.ct_ipv6_dst = bytes16(value),
            CtTpSrc => flow.ct_tp_src = x as u16,
            CtTpDst => flow.ct_tp_dst = x as u16,
            EthSrc => flow.dl_src = bytes6(value),
            EthDst => flow.dl_dst = bytes6(value),
            EthType => flow.dl_type = x as u16,
            VlanTci => {
                flow.vlans[0].tci = x as u16;
                fix_vlan_tpid(flow);
            }
            DlVlan => {
                let vid = x as u16;
                if vid == OFP10_VLAN_NONE {
                    flow.vlans[0].tci = 0;
                } else {
                    let tci = &mut flow.vlans[0].tci;
                    *tci = (*tci & !VLAN_VID_MASK) | (vid & VLAN_VID_MASK) | VLAN_CFI;
                }
                fix_vlan_tpid(flow);
            }
            VlanVid => {
                let m = VLAN_VID_MASK | VLAN_CFI;
                let tci = &mut flow.vlans[0].tci;
                *tci = (*tci & !m) | (x as u16 & m);
                fix_vlan_tpid(flow);
            }
            DlVlanPcp | VlanPcp => {
                let tci = &mut flow.vlans[0].tci;
                *tci = (*tci & !VLAN_PCP_MASK) | ((x as u16 & 7) << 13) | VLAN_CFI;
                fix_vlan_tpid(flow);
            }
            MplsLabel => {
                let l = &mut flow.mpls_lse[0];
                *l = (*l & 0xfff) | ((x as u32 & 0xfffff) << 12);
            }
            MplsTc => {
                let l = &mut flow.mpls_lse[0];
                *l = (*l & !0xe00) | ((x as u32 & 7) << 9);
            }
            MplsBos => {
                let l = &mut flow.mpls_lse[0];
                *l = (*l & !0x100) | ((x as u32 & 1) << 8);
            }
            MplsTtl => {
                let l = &mut flow.mpls_lse[0];
                *l = (*l & !0xff) | (x as u32 & 0xff);
            }
            Ipv4Src | ArpSpa => flow.nw_src = x as u32,
            Ipv4Dst | ArpTpa => flow.nw_dst = x as u32,
            Ipv6Src => flow.ipv6_src = bytes16(value),
            Ipv6Dst => flow.ipv6_dst = bytes16(value),
            Ipv6Label => flow.ipv6_label = x as u32,
            IpProto => flow.nw_proto = x as u8,
            IpDscp => flow.nw_tos = (flow.nw_tos & !0xfc) | (x as u8 & 0xfc),
            IpDscpShifted => flow.nw_tos = (flow.nw_tos & !0xfc) | ((x as u8) << 2),
            IpEcn => flow.nw_tos = (flow.nw_tos & !3) | (x as u8 & 3),
            IpTtl => flow.nw_ttl = x as u8,
            IpFrag => flow.nw_frag = x as u8 & 3,
            ArpOp => flow.nw_proto = x as u8,
            ArpSha | NdSll => flow.arp_sha = bytes6(value),
            ArpTha | NdTll => flow.arp_tha = bytes6(value),
            TcpSrc | UdpSrc | SctpSrc => flow.tp_src = x as u16,
            TcpDst | UdpDst | SctpDst => flow.tp_dst = x as u16,
            TcpFlags => flow.tcp_flags = x as u16,
            Icmpv4Type | Icmpv6Type => flow.tp_src = x as u8 as u16,
            Icmpv4Code | Icmpv6Code => flow.tp_dst = x as u8 as u16,
            NdTarget => flow.nd_target = bytes16(value),
            NdReserved => flow.nd_reserved = x as u32,
            NdOptionsType => flow.nd_options_type = x as u8,
            NshFlags => flow.nsh.flags = x as u8,
            NshTtl => flow.nsh.ttl = x as u8,
            NshMdtype => flow.nsh.mdtype = x as u8,
            NshNp => flow.nsh.np = x as u8,
            NshSpi => flow.nsh.path_hdr = (flow.nsh.path_hdr & 0xff) | ((x as u32) << 8),
            NshSi => flow.nsh.path_hdr = (flow.nsh.path_hdr & !0xff) | (x as u32 & 0xff),
            NshC1 => flow.nsh.context[0] = x as u32,
            NshC2 => flow.nsh.context[1] = x as u32,
            NshC3 => flow.nsh.context[2] = x as u32,
            NshC4 => flow.nsh.context[3] = x as u32,
            _ => {}
        }
    }

    /// Whether `value` is a valid value of this field (mf_is_value_valid):
    /// it fits the field's significant bits and, for views of shared
    /// storage, the bits that view may carry.
    pub fn is_value_valid(self, value: &MfValue) -> bool {
        use FieldId::*;
        let x = value.to_u128();
        match self {
            InPortOxm => port_from_ofp11(x as u32).is_some(),
            IpDscp => x & !0xfc == 0,
            ArpOp => x & 0xff00 == 0,
            DlVlan => x & !(VLAN_VID_MASK as u128) == 0 || x == OFP10_VLAN_NONE as u128,
            VlanVid => x & !((VLAN_VID_MASK | VLAN_CFI) as u128) == 0,
            _ => {
                let d = self.def();
                (d.n_bits..d.n_bytes * 8).all(|b| !value.bit(b))
            }
        }
    }

    /// N for `regN`.
    pub fn reg_index(self) -> Option<usize> {
        let i = self as usize;
        let f = FieldId::Reg0 as usize;
        (f..f + 16).contains(&i).then(|| i - f)
    }

    /// N for `xregN`.
    pub fn xreg_index(self) -> Option<usize> {
        let i = self as usize;
        let f = FieldId::Xreg0 as usize;
        (f..f + 8).contains(&i).then(|| i - f)
    }

    /// N for `xxregN`.
    pub fn xxreg_index(self) -> Option<usize> {
        let i = self as usize;
        let f = FieldId::Xxreg0 as usize;
        (f..f + 4).contains(&i).then(|| i - f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn get_set_round_trip_all_fields() {
        for id in FieldId::ALL {
            let d = id.def();
            let mut v = MfValue::zero(d.n_bytes);
            // A pattern within the field's significant bits.
            for bit in 0..d.n_bits.min(64) {
                if bit % 3 != 1 {
                    v.set_bit(bit, true);
                }
            }
            if matches!(id, FieldId::InPortOxm | FieldId::ActsetOutput) {
                v = MfValue::from_u64(4, 1234);
            }
            if id == FieldId::ArpOp {
                v = MfValue::from_u64(2, 0xa4);
            }
            if id == FieldId::IpDscp {
                v = MfValue::from_u64(1, 0xa4);
            }
            if id == FieldId::CtState {
                v = MfValue::from_u64(4, 0xa5);
            }
            if id == FieldId::DlVlan {
                v = MfValue::from_u64(2, 0x123);
            }
            let mut flow = Flow::default();
            id.set(&mut flow, &v);
            assert_eq!(id.get(&flow), v, "{}", d.name);
        }
    }

    #[test]
    fn vlan_fields_fill_the_tpid() {
        for id in [
            FieldId::VlanTci,
            FieldId::VlanVid,
            FieldId::DlVlan,
            FieldId::VlanPcp,
        ] {
            let mut f = Flow::default();
            id.set(&mut f, &MfValue::from_u64(2, 5));
            assert_eq!(f.vlans[0].tpid, 0x8100, "{id:?}");
        }
        // No tag: no TPID; an existing TPID (802.1ad) is kept.
        let mut f = Flow::default();
        FieldId::VlanTci.set(&mut f, &MfValue::from_u64(2, 0));
        assert_eq!(f.vlans[0].tpid, 0);
        f.vlans[0].tpid = 0x88a8;
        FieldId::VlanTci.set(&mut f, &MfValue::from_u64(2, 0x1003));
        assert_eq!(f.vlans[0].tpid, 0x88a8);
    }

    #[test]
    fn value_validity() {
        assert!(FieldId::TcpFlags.is_value_valid(&MfValue::from_u64(2, 0xfff)));
        assert!(!FieldId::TcpFlags.is_value_valid(&MfValue::from_u64(2, 0x1000)));
        assert!(!FieldId::IpDscp.is_value_valid(&MfValue::from_u64(1, 0x3)));
        assert!(FieldId::VlanVid.is_value_valid(&MfValue::from_u64(2, 0x1fff)));
        assert!(!FieldId::VlanVid.is_value_valid(&MfValue::from_u64(2, 0x2000)));
        assert!(!FieldId::InPortOxm.is_value_valid(&MfValue::from_u64(4, 0xffff0000)));
        assert!(FieldId::Reg0.is_value_valid(&MfValue::from_u64(4, 0xffffffff)));
    }

    #[test]
    fn shared_storage() {
        let mut f = Flow::default();
        FieldId::Xreg1.set(&mut f, &MfValue::from_u64(8, 0x1111_2222_3333_4444));
        assert_eq!((f.regs[2], f.regs[3]), (0x1111_2222, 0x3333_4444));
        assert_eq!(FieldId::Xxreg0.get(&f).to_u128(), 0x1111_2222_3333_4444u128);
        FieldId::DlVlan.set(&mut f, &MfValue::from_u64(2, 9));
        assert_eq!(f.vlans[0].tci, 0x1009);
        assert_eq!(f.vlans[0].tpid, 0x8100);
        FieldId::VlanPcp.set(&mut f, &MfValue::from_u64(1, 5));
        assert_eq!(f.vlans[0].tci, 0xb009);
        FieldId::DlVlan.set(&mut f, &MfValue::from_u64(2, 0xffff));
        assert_eq!(f.vlans[0].tci, 0);
        FieldId::IpDscpShifted.set(&mut f, &MfValue::from_u64(1, 0x3c));
        assert_eq!(FieldId::IpDscp.get(&f).to_u64(), 0xf0);
        FieldId::InPortOxm.set(&mut f, &MfValue::from_u64(4, 0xffff_fffe));
        assert_eq!(f.in_port, 0xfffe);
        FieldId::TunMetadata5.set(&mut f, &MfValue::from_u64(124, 0xabcd));
        assert_eq!(f.tunnel.metadata.len[5], 2);
        assert_eq!(FieldId::TunMetadata5.get(&f).to_u64(), 0xabcd);
    }
}
