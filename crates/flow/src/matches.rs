//! [`Match`]: a flow key plus a wildcard mask (OVS's `struct match`).
//!
//! Setting a field through the registry ([`Match::set_field_masked`], like
//! OVS's `mf_set`) keeps the flow and mask consistent (values are stored
//! already masked), handles the fields that are views of shared storage
//! (`dl_vlan`, `vlan_vid`, `ip_dscp`, ...), and reports which protocol
//! variants can express what was set.  [`Match::format`] prints the match
//! exactly as ovs-ofctl does (`match_format`).

use crate::field::access::{
    port_from_ofp11, port_to_ofp11, VLAN_CFI, VLAN_PCP_MASK, VLAN_VID_MASK,
};
use crate::field::{FieldId, Of10Support, Of11Support, Prereq};
use crate::port::PortMap;
use crate::protocols::Protocols;
use crate::value::MfValue;
use crate::value_str::TUN_FLAGS_PUBLIC;
use packet::flow::FLOW_NW_FRAG_MASK;
use packet::Flow;
use std::fmt;

pub use crate::match_format::{format_flow, packet_wildcards};

/// The priority that `match_format` does not print.
pub const OFP_DEFAULT_PRIORITY: i32 = 0x8000;

pub const ETH_TYPE_IP: u16 = 0x0800;
pub const ETH_TYPE_ARP: u16 = 0x0806;
pub const ETH_TYPE_RARP: u16 = 0x8035;
pub const ETH_TYPE_IPV6: u16 = 0x86dd;
pub const ETH_TYPE_MPLS: u16 = 0x8847;
pub const ETH_TYPE_MPLS_MCAST: u16 = 0x8848;
pub const ETH_TYPE_NSH: u16 = 0x894f;
pub const IPPROTO_ICMP: u8 = 1;
pub const IPPROTO_TCP: u8 = 6;
pub const IPPROTO_UDP: u8 = 17;
pub const IPPROTO_ICMPV6: u8 = 58;
pub const IPPROTO_SCTP: u8 = 132;

/// Connection tracking state bits.
pub const CS_NEW: u8 = 0x01;
pub const CS_ESTABLISHED: u8 = 0x02;
pub const CS_RELATED: u8 = 0x04;
pub const CS_REPLY_DIR: u8 = 0x08;
pub const CS_INVALID: u8 = 0x10;
pub const CS_TRACKED: u8 = 0x20;
pub const CS_SRC_NAT: u8 = 0x40;
pub const CS_DST_NAT: u8 = 0x80;

/// Packet type of Ethernet frames (namespace 0, type 0).
pub const PT_ETH: u32 = 0;
/// Packet type namespace of "Ethertype" packet types.
pub const OFPHTN_ETHERTYPE: u32 = 1;

/// A flow and a wildcard mask: set mask bits are the bits that must match.
/// Invariant: `flow == flow & wc` (values outside the mask are zero).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Match {
    pub flow: Flow,
    pub wc: Flow,
}

pub(crate) fn is_ip_any(f: &Flow) -> bool {
    f.dl_type == ETH_TYPE_IP || f.dl_type == ETH_TYPE_IPV6
}

impl Prereq {
    /// Whether `flow` satisfies this prerequisite.  With `mask` (a match's
    /// wildcards) the connection-tracking check follows the rules for
    /// matches; without, those for extracted packets.
    pub fn is_ok(self, flow: &Flow, mask: Option<&Flow>) -> bool {
        let icmpv6 = flow.dl_type == ETH_TYPE_IPV6 && flow.nw_proto == IPPROTO_ICMPV6;
        let nd = icmpv6 && flow.tp_dst == 0 && (flow.tp_src == 135 || flow.tp_src == 136);
        match self {
            Prereq::None => true,
            Prereq::CtValid => match mask {
                Some(m) => {
                    flow.ct_state
                        & (CS_NEW
                            | CS_ESTABLISHED
                            | CS_RELATED
                            | CS_REPLY_DIR
                            | CS_SRC_NAT
                            | CS_DST_NAT)
                        != 0
                        || (flow.ct_state & CS_TRACKED != 0
                            && m.ct_state & CS_INVALID != 0
                            && flow.ct_state & CS_INVALID == 0)
                }
                None => flow.ct_state & (CS_NEW | CS_ESTABLISHED | CS_REPLY_DIR) != 0,
            },
            Prereq::Ethernet => flow.packet_type == PT_ETH,
            Prereq::VlanVid => flow.packet_type == PT_ETH && flow.vlans[0].tci & VLAN_CFI != 0,
            Prereq::Mpls => flow.dl_type == ETH_TYPE_MPLS || flow.dl_type == ETH_TYPE_MPLS_MCAST,
            Prereq::Ipv4 => flow.dl_type == ETH_TYPE_IP,
            Prereq::Ipv6 => flow.dl_type == ETH_TYPE_IPV6,
            Prereq::IpAny => is_ip_any(flow),
            Prereq::Arp => flow.dl_type == ETH_TYPE_ARP || flow.dl_type == ETH_TYPE_RARP,
            Prereq::Tcp => is_ip_any(flow) && flow.nw_proto == IPPROTO_TCP,
            Prereq::Udp => is_ip_any(flow) && flow.nw_proto == IPPROTO_UDP,
            Prereq::Sctp => is_ip_any(flow) && flow.nw_proto == IPPROTO_SCTP,
            Prereq::Icmpv4 => flow.dl_type == ETH_TYPE_IP && flow.nw_proto == IPPROTO_ICMP,
            Prereq::Icmpv6 => icmpv6,
            Prereq::Nd => nd,
            Prereq::NdSolicit => nd && flow.tp_src == 135,
            Prereq::NdAdvert => nd && flow.tp_src == 136,
            Prereq::Nsh => flow.dl_type == ETH_TYPE_NSH,
        }
    }
}

impl FieldId {
    fn any_openflow(self) -> bool {
        let d = self.def();
        d.nxm.is_some()
            || !d.oxm.is_empty()
            || d.of10 != Of10Support::No
            || d.of11 != Of11Support::No
    }

    /// Protocols that can match this field exactly.
    pub fn usable_protocols_exact(self) -> Protocols {
        let d = self.def();
        let mut p = Protocols::NONE;
        if self.any_openflow() {
            p |= Protocols::NXM_OXM_ANY;
        }
        if d.of10 != Of10Support::No {
            p |= Protocols::OF10_ANY;
        }
        if d.of11 != Of11Support::No {
            p |= Protocols::OF11_STD;
        }
        p
    }

    /// Protocols that can match this field with a CIDR mask.
    pub fn usable_protocols_cidr(self) -> Protocols {
        let d = self.def();
        let mut p = Protocols::NONE;
        if self.any_openflow() {
            p |= Protocols::NXM_OXM_ANY;
        }
        if d.of10 == Of10Support::Cidr {
            p |= Protocols::OF10_ANY;
        }
        if d.of11 == Of11Support::Bitwise {
            p |= Protocols::OF11_STD;
        }
        p
    }

    /// Protocols that can match this field with an arbitrary mask.
    pub fn usable_protocols_bitwise(self) -> Protocols {
        let d = self.def();
        let mut p = Protocols::NONE;
        if self.any_openflow() {
            p |= Protocols::NXM_OXM_ANY;
        }
        if d.of11 == Of11Support::Bitwise {
            p |= Protocols::OF11_STD;
        }
        p
    }

    /// Other fields stored in the same bits of the flow key (for example
    /// `tcp_src`, `udp_src` and `icmp_type` all live in `tp_src`).
    pub fn storage_aliases(self) -> &'static [FieldId] {
        use FieldId::*;
        const GROUPS: [&[FieldId]; 8] = [
            &[TcpSrc, UdpSrc, SctpSrc, Icmpv4Type, Icmpv6Type],
            &[TcpDst, UdpDst, SctpDst, Icmpv4Code, Icmpv6Code],
            &[Ipv4Src, ArpSpa],
            &[Ipv4Dst, ArpTpa],
            &[IpProto, ArpOp],
            &[ArpSha, NdSll],
            &[ArpTha, NdTll],
            &[VlanTci, DlVlan, VlanVid, DlVlanPcp, VlanPcp],
        ];
        GROUPS
            .iter()
            .find(|g| g.contains(&self))
            .copied()
            .unwrap_or(&[])
    }

    /// True if `flow` (of a match with wildcards `mask`) satisfies this
    /// field's prerequisites.
    pub fn prereqs_ok(self, flow: &Flow, mask: Option<&Flow>) -> bool {
        self.def().prereqs.is_ok(flow, mask)
    }
}

impl Match {
    /// The match that matches every packet.
    pub fn catchall() -> Match {
        Match::default()
    }

    /// True if nothing is matched.
    pub fn is_catchall(&self) -> bool {
        self.wc.is_zero()
    }

    /// The match for every field a packet with key `flow` has (match_wc_init
    /// without registers): `flow` under [`packet_wildcards`].
    pub fn for_packet(flow: &Flow) -> Match {
        let wc = packet_wildcards(flow);
        Match {
            flow: flow.and(&wc),
            wc,
        }
    }

    /// True if `flow` has the matched values in every matched bit.
    pub fn matches(&self, flow: &Flow) -> bool {
        let mut masked = flow.and(&self.wc);
        // Tunnel metadata slots are compared through the match's layout.
        masked.tunnel.metadata = self.flow.tunnel.metadata;
        for i in 0..64 {
            if self.wc.tunnel.metadata.present & (1 << i) == 0 {
                continue;
            }
            let want = self.flow.tunnel.metadata.slot(i).unwrap_or(&[]);
            let mask = self.wc.tunnel.metadata.slot(i).unwrap_or(&[]);
            let have = flow.tunnel.metadata.slot(i);
            let ok = match have {
                Some(h) if flow.tunnel.metadata.present & (1 << i) != 0 => {
                    // Compare right-aligned, like the field's value.
                    let n = want.len();
                    let h = if h.len() >= n { &h[h.len() - n..] } else { h };
                    h.len() == n && h.iter().zip(mask).zip(want).all(|((a, m), w)| a & m == *w)
                }
                _ => false,
            };
            if !ok {
                return false;
            }
        }
        masked == self.flow
    }

    /// Length in bytes of `field`'s value in this match: the allocated
    /// length for tunnel metadata (the length its NXM entry carries), the
    /// field's width otherwise.
    pub fn field_len(&self, field: FieldId) -> usize {
        match field.tun_metadata_index() {
            Some(i) => self.wc.tunnel.metadata.len[i].max(1) as usize,
            None => field.def().n_bytes,
        }
    }

    /// Value and mask of `field` (mf_get).
    pub fn get_field(&self, field: FieldId) -> (MfValue, MfValue) {
        (field.get(&self.flow), self.field_mask(field))
    }

    /// Mask of `field` (the second half of [`Match::get_field`]).
    pub fn field_mask(&self, field: FieldId) -> MfValue {
        let n = field.def().n_bytes;
        match field {
            FieldId::InPort | FieldId::InPortOxm => {
                if self.wc.in_port != 0 {
                    MfValue::ones(n)
                } else {
                    MfValue::zero(n)
                }
            }
            FieldId::ActsetOutput => {
                if self.wc.actset_output != 0 {
                    MfValue::ones(n)
                } else {
                    MfValue::zero(n)
                }
            }
            _ => field.get(&self.wc),
        }
    }

    /// True if `field` is entirely wildcarded.
    pub fn is_field_wild(&self, field: FieldId) -> bool {
        if let Some(i) = field.tun_metadata_index() {
            return self.wc.tunnel.metadata.present & (1 << i) == 0;
        }
        self.field_mask(field).is_zero()
    }

    /// Matches `field` exactly (mf_set_value).
    pub fn set_field(&mut self, field: FieldId, value: &MfValue) {
        // Only tunnel metadata can fail, when the option space is full; the
        // field then stays as it was, as upstream leaves it.
        let _ = self.set_field_masked(field, value, &MfValue::ones(field.def().n_bytes));
    }

    /// Wildcards `field` entirely (mf_set_wild).
    pub fn set_field_wild(&mut self, field: FieldId) {
        if let Some(i) = field.tun_metadata_index() {
            let (f, w) = (&mut self.flow.tunnel.metadata, &mut self.wc.tunnel.metadata);
            if let (Some(fs), Some(ws)) = (f.slot_mut(i), w.slot_mut(i)) {
                fs.fill(0);
                ws.fill(0);
            }
            f.present &= !(1 << i);
            w.present &= !(1 << i);
            w.masked &= !(1 << i);
            return;
        }
        let n = field.def().n_bytes;
        match field {
            FieldId::InPort | FieldId::InPortOxm => {
                self.flow.in_port = 0;
                self.wc.in_port = 0;
            }
            FieldId::ActsetOutput => {
                self.flow.actset_output = 0;
                self.wc.actset_output = 0;
            }
            FieldId::DlVlan | FieldId::VlanVid => {
                self.wc.vlans[0].tci &= !(VLAN_VID_MASK | VLAN_CFI);
                self.flow.vlans[0].tci &= self.wc.vlans[0].tci;
            }
            FieldId::DlVlanPcp | FieldId::VlanPcp => {
                self.wc.vlans[0].tci &= !(VLAN_PCP_MASK | VLAN_CFI);
                self.flow.vlans[0].tci &= self.wc.vlans[0].tci;
            }
            _ => {
                field.set(&mut self.wc, &MfValue::zero(n));
                field.set(&mut self.flow, &MfValue::zero(n));
            }
        }
    }

    /// Matches `field` against `value` under `mask` (mf_set).  An all-ones
    /// mask is an exact match, an all-zero mask wildcards the field (except
    /// tunnel metadata, where it matches the option's presence).  Returns
    /// the protocol variants able to express this.
    pub fn set_field_masked(
        &mut self,
        field: FieldId,
        value: &MfValue,
        mask: &MfValue,
    ) -> Result<Protocols, String> {
        let d = field.def();
        // A label mask covering all 20 bits is an exact match (as upstream).
        let ones;
        let mask = if field == FieldId::Ipv6Label && mask.to_u64() & 0xfffff == 0xfffff {
            ones = MfValue::ones(d.n_bytes);
            &ones
        } else {
            mask
        };
        let exact = mask.is_all_ones();
        if !exact && mask.is_zero() && !field.is_tun_metadata() {
            self.set_field_wild(field);
            return Ok(Protocols::ANY);
        }
        if let Some(i) = field.tun_metadata_index() {
            self.set_tun_metadata(i, value, mask, exact)?;
            return Ok(if exact {
                field.usable_protocols_exact()
            } else {
                field.usable_protocols_bitwise()
            });
        }
        let masked = value.and(mask);
        let x = masked.to_u64();
        let m = mask.to_u64();
        match field {
            FieldId::InPort => {
                self.flow.in_port = x as u16 as u32;
                self.wc.in_port = u32::MAX;
            }
            FieldId::InPortOxm => {
                self.flow.in_port = port_from_ofp11(x as u32).unwrap_or(0xffff);
                self.wc.in_port = u32::MAX;
            }
            FieldId::ActsetOutput => {
                self.flow.actset_output = port_from_ofp11(x as u32).unwrap_or(0xffff);
                self.wc.actset_output = u32::MAX;
            }
            FieldId::DlVlan => {
                field.set(&mut self.flow, value);
                if value.to_u64() as u16 == 0xffff {
                    self.wc.vlans[0].tci = 0xffff;
                } else {
                    self.wc.vlans[0].tci |= VLAN_VID_MASK | VLAN_CFI;
                }
            }
            FieldId::VlanVid => {
                let m = (m as u16) & (VLAN_VID_MASK | VLAN_CFI);
                let w = &mut self.wc.vlans[0].tci;
                *w = (*w & !(VLAN_VID_MASK | VLAN_CFI)) | m;
                let t = &mut self.flow.vlans[0].tci;
                *t = (*t & !(VLAN_VID_MASK | VLAN_CFI)) | (value.to_u64() as u16 & m);
            }
            FieldId::DlVlanPcp | FieldId::VlanPcp => {
                field.set(&mut self.flow, value);
                self.wc.vlans[0].tci |= VLAN_CFI | VLAN_PCP_MASK;
            }
            FieldId::VlanTci => {
                self.flow.vlans[0].tci = x as u16;
                self.wc.vlans[0].tci = m as u16;
            }
            FieldId::Icmpv4Type | FieldId::Icmpv6Type => {
                self.flow.tp_src = x as u8 as u16;
                self.wc.tp_src = if exact { 0xffff } else { m as u8 as u16 };
            }
            FieldId::Icmpv4Code | FieldId::Icmpv6Code => {
                self.flow.tp_dst = x as u8 as u16;
                self.wc.tp_dst = if exact { 0xffff } else { m as u8 as u16 };
            }
            FieldId::TunFlags => {
                let m = m as u16 & TUN_FLAGS_PUBLIC as u16;
                self.flow.tunnel.flags = (self.flow.tunnel.flags & !m) | (x as u16 & m);
                self.wc.tunnel.flags = m;
            }
            FieldId::CtState => {
                self.flow.ct_state = (x & 0xff) as u8;
                self.wc.ct_state = (m & 0xff) as u8;
            }
            FieldId::IpFrag => {
                self.flow.nw_frag = x as u8 & FLOW_NW_FRAG_MASK;
                self.wc.nw_frag = if exact { FLOW_NW_FRAG_MASK } else { m as u8 };
            }
            _ => {
                field.set(&mut self.wc, mask);
                // Views of shared storage: keep other bits of the value.
                field.set(&mut self.flow, &masked);
            }
        }
        self.flow = self.flow.and(&self.wc);
        if exact {
            return Ok(field.usable_protocols_exact());
        }
        let cidr = match d.string {
            crate::field::MfString::Ipv4 => {
                let m = m as u32;
                m.leading_ones() + m.trailing_zeros() == 32
            }
            crate::field::MfString::Ipv6 => {
                let m = mask.to_u128();
                m.leading_ones() + m.trailing_zeros() == 128
            }
            _ => false,
        };
        Ok(if cidr {
            field.usable_protocols_cidr()
        } else {
            field.usable_protocols_bitwise()
        })
    }

    fn set_tun_metadata(
        &mut self,
        i: usize,
        value: &MfValue,
        mask: &MfValue,
        exact: bool,
    ) -> Result<(), String> {
        let need = if exact {
            value.significant_bytes()
        } else {
            value.significant_bytes().max(mask.significant_bytes())
        }
        .max(1);
        if self.wc.tunnel.metadata.present & (1 << i) != 0 {
            return Err(format!("field tun_metadata{i} set multiple times"));
        }
        let md = &mut self.flow.tunnel.metadata;
        if md.len[i] == 0 || (md.len[i] as usize) < need {
            let used = md.used();
            if md.len[i] != 0 && md.ofs[i] as usize + md.len[i] as usize == used {
                // Last allocation: grow in place.
            } else if used + need > md.opts.len() {
                return Err(format!("field tun_metadata{i} exceeds maximum size"));
            } else {
                md.ofs[i] = used as u8;
            }
            if md.ofs[i] as usize + need > md.opts.len() {
                return Err(format!("field tun_metadata{i} exceeds maximum size"));
            }
            md.len[i] = need as u8;
        }
        self.wc.tunnel.metadata.ofs = md.ofs;
        self.wc.tunnel.metadata.len = md.len;
        let len = md.len[i] as usize;
        // Right-aligned: the value's low bytes fill the slot's end.
        let write = |slot: &mut [u8], v: &MfValue| {
            let src = v.as_bytes();
            let k = len.min(src.len()).min(slot.len());
            slot.fill(0);
            let sl = slot.len();
            slot[sl - k..].copy_from_slice(&src[src.len() - k..]);
        };
        let masked = value.and(mask);
        if let Some(s) = self.flow.tunnel.metadata.slot_mut(i) {
            write(s, &masked);
        }
        if let Some(s) = self.wc.tunnel.metadata.slot_mut(i) {
            write(s, mask);
        }
        self.flow.tunnel.metadata.present |= 1 << i;
        self.wc.tunnel.metadata.present |= 1 << i;
        if exact {
            self.wc.tunnel.metadata.masked &= !(1 << i);
        } else {
            self.wc.tunnel.metadata.masked |= 1 << i;
        }
        Ok(())
    }

    /// Matches the Ethertype exactly.
    pub fn set_dl_type(&mut self, dl_type: u16) {
        self.flow.dl_type = dl_type;
        self.wc.dl_type = 0xffff;
    }

    /// Matches the IP protocol exactly.
    pub fn set_nw_proto(&mut self, proto: u8) {
        self.flow.nw_proto = proto;
        self.wc.nw_proto = 0xff;
    }

    /// Matches the packet type exactly.
    pub fn set_packet_type(&mut self, pt: u32) {
        self.flow.packet_type = pt;
        self.wc.packet_type = u32::MAX;
    }

    /// Matches Ethernet packets unless a packet type is already matched.
    pub fn set_default_packet_type(&mut self) {
        if self.wc.packet_type == 0 {
            self.set_packet_type(PT_ETH);
        }
    }

    /// After setting `field` from text, require Ethernet as OVS does
    /// (match_add_ethernet_prereq).
    pub fn add_ethernet_prereq(&mut self, field: FieldId) {
        if field.def().prereqs != Prereq::None {
            self.set_default_packet_type();
        }
    }

    /// True if the match's values satisfy `field`'s prerequisites.
    pub fn prereqs_ok(&self, field: FieldId) -> bool {
        field.prereqs_ok(&self.flow, Some(&self.wc))
    }

    /// The packet type is the default (exactly Ethernet).
    pub fn has_default_packet_type(&self) -> bool {
        self.flow.packet_type == PT_ETH && self.wc.packet_type == u32::MAX
    }

    /// Wildcards every matched field whose prerequisites are not met (what
    /// an NXM/OXM encode/decode round trip does).  Returns true if anything
    /// changed.
    pub fn clear_unmet_prereqs(&mut self) -> bool {
        let before = *self;
        loop {
            let mut changed = false;
            for id in FieldId::ALL {
                if id.def().prereqs == Prereq::None || self.is_field_wild(id) {
                    continue;
                }
                if !self.prereqs_ok(id) && !id.storage_aliases().iter().any(|a| self.prereqs_ok(*a))
                {
                    self.set_field_wild(id);
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
        *self != before
    }

    /// Wildcards the fields that the match's Ethertype and IP protocol make
    /// meaningless (ofputil_normalize_match): for example `nw_src` without
    /// `ip`/`arp`, `tp_src` without a transport protocol, `nd_target`
    /// outside ICMPv6 neighbor discovery.  Returns the text of the match
    /// before and after when anything changed, which upstream logs as
    /// "normalization changed ofp_match, details:" / " pre: " / "post: ".
    pub fn normalize(&mut self) -> Option<(String, String)> {
        const ETHER: u16 = 1 << 0;
        const NW_ADDR: u16 = 1 << 1;
        const TP_ADDR: u16 = 1 << 2;
        const NW_PROTO: u16 = 1 << 3;
        const IPVX: u16 = 1 << 4;
        const ARP_SHA: u16 = 1 << 5;
        const ARP_THA: u16 = 1 << 6;
        const IPV6: u16 = 1 << 7;
        const ND_TARGET: u16 = 1 << 8;
        const MPLS: u16 = 1 << 9;
        let f = &self.flow;
        let (mut may, dl_type) = if self.wc.packet_type == 0 || self.has_default_packet_type() {
            (ETHER, f.dl_type)
        } else if self.wc.packet_type == u32::MAX && f.packet_type >> 16 == OFPHTN_ETHERTYPE {
            (0, f.packet_type as u16)
        } else {
            (0, 0)
        };
        match dl_type {
            ETH_TYPE_IP => {
                may |= NW_PROTO | IPVX | NW_ADDR;
                if matches!(
                    f.nw_proto,
                    IPPROTO_TCP | IPPROTO_UDP | IPPROTO_SCTP | IPPROTO_ICMP
                ) {
                    may |= TP_ADDR;
                }
            }
            ETH_TYPE_IPV6 => {
                may |= NW_PROTO | IPVX | IPV6;
                if matches!(f.nw_proto, IPPROTO_TCP | IPPROTO_UDP | IPPROTO_SCTP) {
                    may |= TP_ADDR;
                } else if f.nw_proto == IPPROTO_ICMPV6 {
                    may |= TP_ADDR;
                    if f.tp_src == 135 {
                        may |= ND_TARGET | ARP_SHA;
                    } else if f.tp_src == 136 {
                        may |= ND_TARGET | ARP_THA;
                    }
                }
            }
            ETH_TYPE_ARP | ETH_TYPE_RARP => may |= NW_PROTO | NW_ADDR | ARP_SHA | ARP_THA,
            ETH_TYPE_MPLS | ETH_TYPE_MPLS_MCAST => may |= MPLS,
            _ => {}
        }
        let mut wc = self.wc;
        if may & ETHER == 0 {
            wc.dl_src = [0; 6];
            wc.dl_dst = [0; 6];
        }
        if may & NW_ADDR == 0 {
            wc.nw_src = 0;
            wc.nw_dst = 0;
        }
        if may & TP_ADDR == 0 {
            wc.tp_src = 0;
            wc.tp_dst = 0;
        }
        if may & NW_PROTO == 0 {
            wc.nw_proto = 0;
        }
        if may & IPVX == 0 {
            wc.nw_tos = 0;
            wc.nw_ttl = 0;
        }
        if may & ARP_SHA == 0 {
            wc.arp_sha = [0; 6];
        }
        if may & ARP_THA == 0 {
            wc.arp_tha = [0; 6];
        }
        if may & IPV6 == 0 {
            wc.ipv6_src = [0; 16];
            wc.ipv6_dst = [0; 16];
            wc.ipv6_label = 0;
        }
        if may & ND_TARGET == 0 {
            wc.nd_target = [0; 16];
        }
        if may & MPLS == 0 {
            wc.mpls_lse = [0; 3];
        }
        if wc == self.wc {
            return None;
        }
        let pre = self.to_string();
        self.wc = wc;
        self.flow = self.flow.and(&self.wc);
        Some((pre, self.to_string()))
    }

    /// `match_format`: the match as ovs-ofctl prints it, with
    /// `priority=N,` first when `priority` differs from 32768.
    pub fn format(&self, priority: i32) -> String {
        self.format_with_ports(priority, None)
    }

    /// Like [`Match::format`], printing port names from `ports`.
    pub fn format_with_ports(&self, priority: i32, ports: Option<&PortMap>) -> String {
        crate::match_format::format_match(self, priority, ports)
    }
}

impl fmt::Display for Match {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.format(OFP_DEFAULT_PRIORITY))
    }
}

/// Converts an OF1.0 port number in a match to its OF1.1+ form (helper for
/// codecs that print `in_port_oxm`).
pub fn in_port_ofp11(m: &Match) -> u32 {
    port_to_ofp11(m.flow.in_port)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(m: &mut Match, name: &str, s: &str) -> Protocols {
        let id = FieldId::from_name(name).unwrap();
        let (v, k) = MfValue::parse(id, s).unwrap();
        let p = m.set_field_masked(id, &v, &k).unwrap();
        m.add_ethernet_prereq(id);
        p
    }

    #[test]
    fn format_basic() {
        let mut m = Match::catchall();
        assert_eq!(m.to_string(), "");
        m.set_dl_type(ETH_TYPE_IP);
        m.set_nw_proto(IPPROTO_TCP);
        set(&mut m, "reg0", "5");
        set(&mut m, "tp_src", "0x10/0xf0");
        assert_eq!(m.to_string(), "tcp,reg0=0x5,tp_src=0x10/0xf0");
        assert_eq!(m.format(100), "priority=100,tcp,reg0=0x5,tp_src=0x10/0xf0");
    }

    #[test]
    fn format_vlan_forms() {
        let mut m = Match::catchall();
        set(&mut m, "dl_vlan", "9");
        assert_eq!(m.to_string(), "dl_vlan=9");
        let mut m = Match::catchall();
        set(&mut m, "dl_vlan", "0xffff");
        assert_eq!(m.to_string(), "vlan_tci=0x0000");
        let mut m = Match::catchall();
        set(&mut m, "vlan_tci", "0x1000/0x1000");
        assert_eq!(m.to_string(), "vlan_tci=0x1000/0x1000");
        let mut m = Match::catchall();
        set(&mut m, "vlan_pcp", "5");
        assert_eq!(m.to_string(), "dl_vlan_pcp=5");
        let mut m = Match::catchall();
        set(&mut m, "vlan_vid", "11/0x1");
        assert_eq!(m.to_string(), "vlan_tci=0x0001/0x0001");
    }

    #[test]
    fn format_flags_and_ct() {
        let mut m = Match::catchall();
        set(&mut m, "ct_state", "+trk-new");
        assert_eq!(m.to_string(), "ct_state=-new+trk");
        let mut m = Match::catchall();
        set(&mut m, "ct_state", "trk");
        assert_eq!(m.to_string(), "ct_state=trk");
        let mut m = Match::catchall();
        set(&mut m, "tun_flags", "+oam");
        assert_eq!(m.to_string(), "tun_flags=+oam");
        let mut m = Match::catchall();
        m.set_dl_type(ETH_TYPE_IP);
        m.set_nw_proto(IPPROTO_TCP);
        set(&mut m, "tcp_flags", "0x12/0x17");
        assert_eq!(m.to_string(), "tcp,tcp_flags=-fin+syn-rst+ack");
    }

    #[test]
    fn format_registers_and_metadata() {
        let mut m = Match::catchall();
        set(
            &mut m,
            "xxreg3",
            "0xc0000000000000000000000000000000/0xc0000000000000000000000000000000",
        );
        assert_eq!(m.to_string(), "reg12=0xc0000000/0xc0000000");
        let mut m = Match::catchall();
        set(&mut m, "xreg3", "3/5");
        assert_eq!(m.to_string(), "reg7=0x1/0x5");
        let mut m = Match::catchall();
        set(&mut m, "tun_metadata3", "0x1/0xff");
        assert_eq!(m.to_string(), "tun_metadata3=0x1");
        let mut m = Match::catchall();
        set(&mut m, "tun_metadata0", "0/0");
        assert_eq!(m.to_string(), "tun_metadata0");
        set(&mut m, "tun_metadata1", "0x00ff00");
        assert_eq!(m.to_string(), "tun_metadata0,tun_metadata1=0xff00");
        let mut m = Match::catchall();
        set(&mut m, "ct_label", "0x1234567890ABCDEF12345678");
        set(&mut m, "metadata", "1/1");
        assert_eq!(
            m.to_string(),
            "ct_label=0x1234567890abcdef12345678,metadata=0x1/0x1"
        );
    }

    #[test]
    fn usable_protocols() {
        let mut m = Match::catchall();
        assert_eq!(set(&mut m, "in_port", "1"), Protocols::ANY);
        assert_eq!(
            set(&mut m, "dl_src", "00:11:22:33:44:55/00:ff:ff:ff:ff:ff").to_string(),
            "NXM,OXM,OpenFlow11"
        );
        assert_eq!(set(&mut m, "nw_src", "192.168.0.0/24"), Protocols::ANY);
        assert_eq!(
            set(&mut m, "nw_src", "192.0.168.0/255.0.255.0").to_string(),
            "NXM,OXM,OpenFlow11"
        );
        assert_eq!(set(&mut m, "mpls_bos", "0").to_string(), "NXM,OXM");
        assert_eq!(set(&mut m, "dl_vlan", "9"), Protocols::ANY);
        assert_eq!(set(&mut m, "vlan_pcp", "5"), Protocols::ANY);
        assert_eq!(set(&mut m, "tun_tos", "0"), Protocols::NONE);
        assert_eq!(
            set(&mut m, "metadata", "0").to_string(),
            "NXM,OXM,OpenFlow11"
        );
        assert_eq!(
            set(&mut m, "tcp_src", "0x1000/0x1000").to_string(),
            "NXM,OXM"
        );
    }

    #[test]
    fn matching_flows() {
        let mut m = Match::catchall();
        m.set_dl_type(ETH_TYPE_IP);
        set(&mut m, "nw_src", "10.0.0.0/8");
        let mut f = Flow {
            dl_type: ETH_TYPE_IP,
            nw_src: 0x0a01_0203,
            ..Flow::default()
        };
        assert!(m.matches(&f));
        f.nw_src = 0x0b01_0203;
        assert!(!m.matches(&f));
        let p = Match::for_packet(&f);
        assert!(p.matches(&f));
        assert_eq!(p.wc.nw_src, u32::MAX);
        let mut m = Match::catchall();
        set(&mut m, "tun_metadata2", "0x1234");
        assert_eq!(m.field_len(FieldId::TunMetadata2), 2);
        let mut f = Flow::default();
        assert!(!m.matches(&f));
        FieldId::TunMetadata2.set(&mut f, &MfValue::from_u64(124, 0x1234));
        assert!(m.matches(&f));
    }

    #[test]
    fn tun_metadata_reuses_slot_with_short_values() {
        let mut m = Match::catchall();
        let id = FieldId::TunMetadata0;
        m.set_field(id, &MfValue::from_u64(124, 0x1234_5678));
        m.set_field_wild(id);
        // A codec may hand over a value as short as its wire length.
        m.set_field(id, &MfValue::from_u64(1, 0x9));
        assert_eq!(m.to_string(), "tun_metadata0=0x9");
        m.set_field_wild(id);
        m.set_field_masked(id, &MfValue::from_u64(1, 0x9), &MfValue::from_u64(1, 0xff))
            .unwrap();
        assert_eq!(m.to_string(), "tun_metadata0=0x9/0xff");
    }

    #[test]
    fn normalization() {
        let mut m = Match::catchall();
        set(&mut m, "nw_src", "1.2.3.4");
        assert_eq!(
            m.normalize(),
            Some(("nw_src=1.2.3.4".to_string(), String::new()))
        );
        assert_eq!(m.normalize(), None);
        let mut m = Match::catchall();
        m.set_dl_type(ETH_TYPE_IPV6);
        set(&mut m, "ipv6_src", "::1/64");
        set(&mut m, "nd_target", "::2");
        let (pre, post) = m.normalize().unwrap();
        assert_eq!(
            (pre.as_str(), post.as_str()),
            ("ipv6,ipv6_src=::/64", "ipv6,ipv6_src=::/64")
        );
        let mut m = Match::catchall();
        m.set_dl_type(ETH_TYPE_IP);
        m.set_nw_proto(IPPROTO_TCP);
        set(&mut m, "tp_src", "80");
        assert_eq!(m.normalize(), None);
    }

    #[test]
    fn prereqs() {
        let mut m = Match::catchall();
        set(&mut m, "nd_target", "::1");
        assert!(!m.prereqs_ok(FieldId::NdTarget));
        assert!(m.clear_unmet_prereqs());
        assert_eq!(m.to_string(), "");
        let mut m = Match::catchall();
        m.set_dl_type(ETH_TYPE_IPV6);
        m.set_nw_proto(IPPROTO_ICMPV6);
        set(&mut m, "icmpv6_type", "135");
        set(&mut m, "nd_target", "::1");
        assert!(m.prereqs_ok(FieldId::NdTarget));
        assert!(!m.clear_unmet_prereqs());
        assert_eq!(m.to_string(), "icmp6,icmp_type=135,nd_target=::1");
        let mut m = Match::catchall();
        set(&mut m, "ct_state", "+trk+est");
        set(&mut m, "ct_nw_proto", "6");
        assert!(m.prereqs_ok(FieldId::CtNwProto));
    }
}
