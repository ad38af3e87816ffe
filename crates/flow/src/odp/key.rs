//! ODP flow key attributes and their conversion to and from
//! [`packet::Flow`].
//!
//! A key is a `Vec<KeyAttr>` in the order upstream's datapath interface
//! emits them (metadata, then layer 2 outwards-in, then 3 and 4); a mask is
//! a `Vec<KeyAttr>` of the same shape whose values are bit masks. VLAN
//! headers nest what follows them in [`KeyAttr::Encap`].
//!
//! [`key_from_flow`] and [`mask_from_flow`] follow upstream's
//! `odp_flow_key_from_flow`/`odp_flow_key_from_mask` for a datapath that
//! supports every field (the userspace datapath); [`key_to_flow`] and
//! [`mask_to_flow`] read them back (`odp_flow_key_to_flow`/`_to_mask`).

use packet::extract::{
    eth_type_mpls, eth_type_vlan, ETH_TYPE_ARP, ETH_TYPE_IP, ETH_TYPE_IPV6, ETH_TYPE_MIN,
    ETH_TYPE_RARP, IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP,
    MPLS_BOS_MASK, ND_NEIGHBOR_ADVERT, ND_NEIGHBOR_SOLICIT, PT_ETH, VLAN_CFI,
};
use packet::flow::{
    Flow, FlowTnl, FLOW_MAX_MPLS_LABELS, FLOW_MAX_VLAN_HEADERS, FLOW_NW_FRAG_ANY,
    FLOW_NW_FRAG_LATER, FLOW_NW_FRAG_MASK,
};

/// The datapath port number that means "no port".
pub const ODPP_NONE: u32 = u32::MAX;
/// `dl_type` of a frame without an Ethernet II type (802.2).
pub const FLOW_DL_TYPE_NONE: u16 = 0x05ff;

/// `ovs_frag_type`: not a fragment, first fragment, later fragment.
pub const OVS_FRAG_TYPE_NONE: u8 = 0;
pub const OVS_FRAG_TYPE_FIRST: u8 = 1;
pub const OVS_FRAG_TYPE_LATER: u8 = 2;

/// Tunnel flag bits of [`FlowTnl::flags`] (as the flow key keeps them).
pub const FLOW_TNL_F_OAM: u16 = 1;
pub const FLOW_TNL_F_DONT_FRAGMENT: u16 = 2;
pub const FLOW_TNL_F_CSUM: u16 = 4;
pub const FLOW_TNL_F_KEY: u16 = 8;
pub use packet::tunnel::FLOW_TNL_F_UDPIF;

/// IPv4 header fields (`ipv4(…)`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Ipv4Key {
    pub src: u32,
    pub dst: u32,
    pub proto: u8,
    pub tos: u8,
    pub ttl: u8,
    /// An `OVS_FRAG_TYPE_*` (in a mask: 0 or 0xff).
    pub frag: u8,
}

/// IPv6 header fields (`ipv6(…)`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Ipv6Key {
    pub src: [u8; 16],
    pub dst: [u8; 16],
    pub label: u32,
    pub proto: u8,
    pub tclass: u8,
    pub hlimit: u8,
    pub frag: u8,
}

/// ARP fields (`arp(…)`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ArpKey {
    pub sip: u32,
    pub tip: u32,
    pub op: u16,
    pub sha: [u8; 6],
    pub tha: [u8; 6],
}

/// IPv6 neighbor discovery fields (`nd(…)`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NdKey {
    pub target: [u8; 16],
    pub sll: [u8; 6],
    pub tll: [u8; 6],
}

/// Original direction of a tracked IPv4 connection (`ct_tuple4(…)`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CtTuple4 {
    pub src: u32,
    pub dst: u32,
    pub src_port: u16,
    pub dst_port: u16,
    pub proto: u8,
}

/// Original direction of a tracked IPv6 connection (`ct_tuple6(…)`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CtTuple6 {
    pub src: [u8; 16],
    pub dst: [u8; 16],
    pub src_port: u16,
    pub dst_port: u16,
    pub proto: u8,
}

/// One attribute nested in `tunnel(…)` (`OVS_TUNNEL_KEY_ATTR_*`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TunAttr {
    Id(u64),
    Ipv4Src(u32),
    Ipv4Dst(u32),
    Tos(u8),
    Ttl(u8),
    DontFragment,
    Csum,
    Oam,
    /// Geneve options, raw TLVs as on the wire.
    GeneveOpts(Vec<u8>),
    TpSrc(u16),
    TpDst(u16),
    /// VXLAN group policy: `(flags << 16) | id`.
    VxlanGbp(u32),
    Ipv6Src([u8; 16]),
    Ipv6Dst([u8; 16]),
}

impl TunAttr {
    /// `OVS_TUNNEL_KEY_ATTR_*` number.
    pub fn attr_type(&self) -> u16 {
        match self {
            TunAttr::Id(_) => 0,
            TunAttr::Ipv4Src(_) => 1,
            TunAttr::Ipv4Dst(_) => 2,
            TunAttr::Tos(_) => 3,
            TunAttr::Ttl(_) => 4,
            TunAttr::DontFragment => 5,
            TunAttr::Csum => 6,
            TunAttr::Oam => 7,
            TunAttr::GeneveOpts(_) => 8,
            TunAttr::TpSrc(_) => 9,
            TunAttr::TpDst(_) => 10,
            TunAttr::VxlanGbp(_) => 11,
            TunAttr::Ipv6Src(_) => 13,
            TunAttr::Ipv6Dst(_) => 14,
        }
    }

    /// True if every bit of the value is zero (a wildcard in a mask).
    pub fn is_zero(&self) -> bool {
        match self {
            TunAttr::Id(v) => *v == 0,
            TunAttr::Ipv4Src(v) | TunAttr::Ipv4Dst(v) | TunAttr::VxlanGbp(v) => *v == 0,
            TunAttr::Tos(v) | TunAttr::Ttl(v) => *v == 0,
            TunAttr::DontFragment | TunAttr::Csum | TunAttr::Oam => false,
            TunAttr::GeneveOpts(b) => b.iter().all(|x| *x == 0),
            TunAttr::TpSrc(v) | TunAttr::TpDst(v) => *v == 0,
            TunAttr::Ipv6Src(a) | TunAttr::Ipv6Dst(a) => *a == [0; 16],
        }
    }
}

/// One flow key attribute (`OVS_KEY_ATTR_*`), value or mask.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyAttr {
    /// What follows a VLAN header.
    Encap(Vec<KeyAttr>),
    Priority(u32),
    InPort(u32),
    Ethernet {
        src: [u8; 6],
        dst: [u8; 6],
    },
    /// The TCI of a VLAN header.
    Vlan(u16),
    Ethertype(u16),
    Ipv4(Ipv4Key),
    Ipv6(Ipv6Key),
    Tcp {
        src: u16,
        dst: u16,
    },
    Udp {
        src: u16,
        dst: u16,
    },
    Icmp {
        icmp_type: u8,
        code: u8,
    },
    Icmpv6 {
        icmp_type: u8,
        code: u8,
    },
    Arp(ArpKey),
    Nd(NdKey),
    SkbMark(u32),
    Tunnel(Vec<TunAttr>),
    Sctp {
        src: u16,
        dst: u16,
    },
    TcpFlags(u16),
    DpHash(u32),
    RecircId(u32),
    /// Label stack entries, outermost first.
    Mpls(Vec<u32>),
    CtState(u32),
    CtZone(u16),
    CtMark(u32),
    CtLabels(u128),
    CtTuple4(CtTuple4),
    CtTuple6(CtTuple6),
    /// `(namespace << 16) | type`.
    PacketType(u32),
    NdExtensions {
        reserved: u32,
        options_type: u8,
    },
}

impl KeyAttr {
    /// `OVS_KEY_ATTR_*` number.
    pub fn attr_type(&self) -> u16 {
        match self {
            KeyAttr::Encap(_) => 1,
            KeyAttr::Priority(_) => 2,
            KeyAttr::InPort(_) => 3,
            KeyAttr::Ethernet { .. } => 4,
            KeyAttr::Vlan(_) => 5,
            KeyAttr::Ethertype(_) => 6,
            KeyAttr::Ipv4(_) => 7,
            KeyAttr::Ipv6(_) => 8,
            KeyAttr::Tcp { .. } => 9,
            KeyAttr::Udp { .. } => 10,
            KeyAttr::Icmp { .. } => 11,
            KeyAttr::Icmpv6 { .. } => 12,
            KeyAttr::Arp(_) => 13,
            KeyAttr::Nd(_) => 14,
            KeyAttr::SkbMark(_) => 15,
            KeyAttr::Tunnel(_) => 16,
            KeyAttr::Sctp { .. } => 17,
            KeyAttr::TcpFlags(_) => 18,
            KeyAttr::DpHash(_) => 19,
            KeyAttr::RecircId(_) => 20,
            KeyAttr::Mpls(_) => 21,
            KeyAttr::CtState(_) => 22,
            KeyAttr::CtZone(_) => 23,
            KeyAttr::CtMark(_) => 24,
            KeyAttr::CtLabels(_) => 25,
            KeyAttr::CtTuple4(_) => 26,
            KeyAttr::CtTuple6(_) => 27,
            KeyAttr::PacketType(_) => 29,
            KeyAttr::NdExtensions { .. } => 30,
        }
    }

    /// The attribute's name in text (`ovs_key_attr_to_string`).
    pub fn name(&self) -> &'static str {
        attr_name(self.attr_type())
    }
}

/// Text name of `OVS_KEY_ATTR_*` number `t`.
pub fn attr_name(t: u16) -> &'static str {
    match t {
        1 => "encap",
        2 => "skb_priority",
        3 => "in_port",
        4 => "eth",
        5 => "vlan",
        6 => "eth_type",
        7 => "ipv4",
        8 => "ipv6",
        9 => "tcp",
        10 => "udp",
        11 => "icmp",
        12 => "icmpv6",
        13 => "arp",
        14 => "nd",
        15 => "skb_mark",
        16 => "tunnel",
        17 => "sctp",
        18 => "tcp_flags",
        19 => "dp_hash",
        20 => "recirc_id",
        21 => "mpls",
        22 => "ct_state",
        23 => "ct_zone",
        24 => "ct_mark",
        25 => "ct_label",
        26 => "ct_tuple4",
        27 => "ct_tuple6",
        28 => "nsh",
        29 => "packet_type",
        30 => "nd_ext",
        _ => "unknown",
    }
}

/// What the datapath can match (upstream's `odp_support`). The userspace
/// datapath supports everything ([`Support::default`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Support {
    pub max_vlan_headers: usize,
    pub max_mpls_depth: usize,
    pub recirc: bool,
    pub ct_state: bool,
    pub ct_zone: bool,
    pub ct_mark: bool,
    pub ct_label: bool,
    pub ct_orig_tuple: bool,
    pub ct_orig_tuple6: bool,
    pub nd_ext: bool,
}

impl Default for Support {
    fn default() -> Self {
        Support {
            max_vlan_headers: FLOW_MAX_VLAN_HEADERS,
            max_mpls_depth: FLOW_MAX_MPLS_LABELS,
            recirc: true,
            ct_state: true,
            ct_zone: true,
            ct_mark: true,
            ct_label: true,
            ct_orig_tuple: true,
            ct_orig_tuple6: true,
            nd_ext: true,
        }
    }
}

fn ovs_to_odp_frag(nw_frag: u8, is_mask: bool) -> u8 {
    if is_mask {
        return if nw_frag & FLOW_NW_FRAG_ANY != 0 {
            u8::MAX
        } else {
            0
        };
    }
    if nw_frag & FLOW_NW_FRAG_ANY == 0 {
        OVS_FRAG_TYPE_NONE
    } else if nw_frag & FLOW_NW_FRAG_LATER != 0 {
        OVS_FRAG_TYPE_LATER
    } else {
        OVS_FRAG_TYPE_FIRST
    }
}

/// `nw_frag` of an ODP frag type; `None` for an unknown type.
fn odp_to_ovs_frag(frag: u8, is_mask: bool) -> Option<u8> {
    if is_mask {
        return Some(if frag != 0 { FLOW_NW_FRAG_MASK } else { 0 });
    }
    match frag {
        OVS_FRAG_TYPE_NONE => Some(0),
        OVS_FRAG_TYPE_FIRST => Some(FLOW_NW_FRAG_ANY),
        OVS_FRAG_TYPE_LATER => Some(FLOW_NW_FRAG_ANY | FLOW_NW_FRAG_LATER),
        _ => None,
    }
}

/// Labels in the MPLS stack of `flow` (up to and including bottom of
/// stack, at most [`FLOW_MAX_MPLS_LABELS`]).
pub fn count_mpls_labels(flow: &Flow) -> usize {
    if !eth_type_mpls(flow.dl_type) {
        return 0;
    }
    for (i, lse) in flow.mpls_lse.iter().enumerate() {
        if lse & MPLS_BOS_MASK != 0 {
            return i + 1;
        }
    }
    FLOW_MAX_MPLS_LABELS
}

fn is_ip_any(flow: &Flow) -> bool {
    flow.dl_type == ETH_TYPE_IP || flow.dl_type == ETH_TYPE_IPV6
}

fn is_nd(flow: &Flow) -> bool {
    flow.dl_type == ETH_TYPE_IPV6
        && flow.nw_proto == IPPROTO_ICMPV6
        && flow.tp_dst == 0
        && (flow.tp_src == ND_NEIGHBOR_SOLICIT as u16 || flow.tp_src == ND_NEIGHBOR_ADVERT as u16)
}

fn tnl_dst_is_set(t: &FlowTnl) -> bool {
    t.ip_dst != 0 || t.ipv6_dst != [0; 16]
}

/// Tunnel attributes of `data` (a tunnel key or, when `is_mask`, its mask;
/// `flow` is the key either way).
fn tunnel_attrs(data: &FlowTnl, flow: &FlowTnl) -> Vec<TunAttr> {
    let mut v = Vec::new();
    if data.flags & FLOW_TNL_F_KEY != 0 {
        v.push(TunAttr::Id(data.tun_id));
    }
    if data.ip_src != 0 {
        v.push(TunAttr::Ipv4Src(data.ip_src));
    }
    if data.ip_dst != 0 {
        v.push(TunAttr::Ipv4Dst(data.ip_dst));
    }
    if data.ipv6_src != [0; 16] {
        v.push(TunAttr::Ipv6Src(data.ipv6_src));
    }
    if data.ipv6_dst != [0; 16] {
        v.push(TunAttr::Ipv6Dst(data.ipv6_dst));
    }
    if data.ip_tos != 0 {
        v.push(TunAttr::Tos(data.ip_tos));
    }
    v.push(TunAttr::Ttl(data.ip_ttl));
    if data.flags & FLOW_TNL_F_DONT_FRAGMENT != 0 {
        v.push(TunAttr::DontFragment);
    }
    if data.flags & FLOW_TNL_F_CSUM != 0 {
        v.push(TunAttr::Csum);
    }
    if data.tp_src != 0 {
        v.push(TunAttr::TpSrc(data.tp_src));
    }
    if data.tp_dst != 0 {
        v.push(TunAttr::TpDst(data.tp_dst));
    }
    if data.flags & FLOW_TNL_F_OAM != 0 {
        v.push(TunAttr::Oam);
    }
    if data.gbp_id != 0 || data.gbp_flags != 0 {
        v.push(TunAttr::VxlanGbp(
            ((data.gbp_flags as u32) << 16) | data.gbp_id as u32,
        ));
    }
    // Received Geneve options, raw (their length is the key's), even
    // none.
    if flow.flags & FLOW_TNL_F_UDPIF != 0 {
        let n = flow.metadata.geneve_raw().len();
        v.push(TunAttr::GeneveOpts(data.metadata.opts[..n].to_vec()));
    }
    v.sort_by_key(|a| a.attr_type());
    v
}

/// The key of `flow` (`odp_flow_key_from_flow`). `mask`, when known,
/// decides whether fields that are zero in the key still appear
/// (`tcp_flags`).
pub fn key_from_flow(flow: &Flow, mask: Option<&Flow>, support: &Support) -> Vec<KeyAttr> {
    from_flow(flow, flow, mask, support, false)
}

/// The mask attributes of `mask` for key `flow` (`odp_flow_key_from_mask`).
pub fn mask_from_flow(mask: &Flow, flow: &Flow, support: &Support) -> Vec<KeyAttr> {
    from_flow(flow, mask, Some(mask), support, true)
}

fn from_flow(
    flow: &Flow,
    data: &Flow,
    mask: Option<&Flow>,
    support: &Support,
    export_mask: bool,
) -> Vec<KeyAttr> {
    let mut out: Vec<KeyAttr> = Vec::new();
    out.push(KeyAttr::Priority(data.skb_priority));
    if tnl_dst_is_set(&flow.tunnel) || export_mask {
        out.push(KeyAttr::Tunnel(tunnel_attrs(&data.tunnel, &flow.tunnel)));
    }
    out.push(KeyAttr::SkbMark(data.pkt_mark));
    if support.ct_state {
        out.push(KeyAttr::CtState(data.ct_state as u32));
    }
    if support.ct_zone {
        out.push(KeyAttr::CtZone(data.ct_zone));
    }
    if support.ct_mark {
        out.push(KeyAttr::CtMark(data.ct_mark));
    }
    if support.ct_label {
        out.push(KeyAttr::CtLabels(data.ct_label));
    }
    if flow.ct_nw_proto != 0 {
        if support.ct_orig_tuple && flow.dl_type == ETH_TYPE_IP {
            out.push(KeyAttr::CtTuple4(CtTuple4 {
                src: data.ct_nw_src,
                dst: data.ct_nw_dst,
                src_port: data.ct_tp_src,
                dst_port: data.ct_tp_dst,
                proto: data.ct_nw_proto,
            }));
        } else if support.ct_orig_tuple6 && flow.dl_type == ETH_TYPE_IPV6 {
            out.push(KeyAttr::CtTuple6(CtTuple6 {
                src: data.ct_ipv6_src,
                dst: data.ct_ipv6_dst,
                src_port: data.ct_tp_src,
                dst_port: data.ct_tp_dst,
                proto: data.ct_nw_proto,
            }));
        }
    }
    if support.recirc {
        out.push(KeyAttr::RecircId(data.recirc_id));
        out.push(KeyAttr::DpHash(data.dp_hash));
    }
    if export_mask || flow.in_port != ODPP_NONE {
        out.push(KeyAttr::InPort(data.in_port));
    }
    out.push(KeyAttr::PacketType(data.packet_type));

    let max_vlans = support.max_vlan_headers.min(packet::extract::vlan_limit());
    // The innermost list attributes go into; VLAN headers open new levels.
    let mut levels: Vec<Vec<KeyAttr>> = vec![out];
    let mut done = false;
    if flow.packet_type == PT_ETH {
        levels[0].push(KeyAttr::Ethernet {
            src: data.dl_src,
            dst: data.dl_dst,
        });
        for i in 0..max_vlans {
            let mut tpid = flow.vlans[i].tpid;
            if flow.vlans[i].tci == 0 {
                if eth_type_vlan(flow.dl_type) {
                    tpid = flow.dl_type;
                } else {
                    break;
                }
            }
            let cur = levels.last_mut().expect("level");
            cur.push(KeyAttr::Ethertype(if export_mask {
                u16::MAX
            } else {
                tpid
            }));
            cur.push(KeyAttr::Vlan(data.vlans[i].tci));
            levels.push(Vec::new());
            if flow.vlans[i].tci == 0 {
                done = true;
                break;
            }
        }
    }
    if !done {
        let cur = levels.last_mut().expect("level");
        l3_and_up(flow, data, mask, support, export_mask, cur);
    }
    while levels.len() > 1 {
        let inner = levels.pop().expect("level");
        levels
            .last_mut()
            .expect("level")
            .push(KeyAttr::Encap(inner));
    }
    levels.pop().expect("level")
}

fn l3_and_up(
    flow: &Flow,
    data: &Flow,
    mask: Option<&Flow>,
    support: &Support,
    export_mask: bool,
    out: &mut Vec<KeyAttr>,
) {
    if flow.dl_type < ETH_TYPE_MIN {
        if export_mask {
            out.push(KeyAttr::Ethertype(u16::MAX));
        }
        return;
    }
    out.push(KeyAttr::Ethertype(data.dl_type));
    if eth_type_vlan(flow.dl_type) {
        return;
    }
    if flow.dl_type == ETH_TYPE_IP {
        out.push(KeyAttr::Ipv4(Ipv4Key {
            src: data.nw_src,
            dst: data.nw_dst,
            proto: data.nw_proto,
            tos: data.nw_tos,
            ttl: data.nw_ttl,
            frag: ovs_to_odp_frag(data.nw_frag, export_mask),
        }));
    } else if flow.dl_type == ETH_TYPE_IPV6 {
        out.push(KeyAttr::Ipv6(Ipv6Key {
            src: data.ipv6_src,
            dst: data.ipv6_dst,
            label: data.ipv6_label,
            proto: data.nw_proto,
            tclass: data.nw_tos,
            hlimit: data.nw_ttl,
            frag: ovs_to_odp_frag(data.nw_frag, export_mask),
        }));
    } else if flow.dl_type == ETH_TYPE_ARP || flow.dl_type == ETH_TYPE_RARP {
        out.push(KeyAttr::Arp(ArpKey {
            sip: data.nw_src,
            tip: data.nw_dst,
            op: data.nw_proto as u16
                | if export_mask && data.nw_proto == 0xff {
                    0xff00
                } else {
                    0
                },
            sha: data.arp_sha,
            tha: data.arp_tha,
        }));
    } else if eth_type_mpls(flow.dl_type) {
        let mut n = count_mpls_labels(flow);
        if export_mask {
            n = n.min(support.max_mpls_depth);
        }
        out.push(KeyAttr::Mpls(data.mpls_lse[..n].to_vec()));
    }

    if is_ip_any(flow) && flow.nw_frag & FLOW_NW_FRAG_LATER == 0 {
        if flow.nw_proto == IPPROTO_TCP {
            out.push(KeyAttr::Tcp {
                src: data.tp_src,
                dst: data.tp_dst,
            });
            if data.tcp_flags != 0 || mask.is_some_and(|m| m.tcp_flags != 0) {
                out.push(KeyAttr::TcpFlags(data.tcp_flags));
            }
        } else if flow.nw_proto == IPPROTO_UDP {
            out.push(KeyAttr::Udp {
                src: data.tp_src,
                dst: data.tp_dst,
            });
        } else if flow.nw_proto == IPPROTO_SCTP {
            out.push(KeyAttr::Sctp {
                src: data.tp_src,
                dst: data.tp_dst,
            });
        } else if flow.dl_type == ETH_TYPE_IP && flow.nw_proto == IPPROTO_ICMP {
            out.push(KeyAttr::Icmp {
                icmp_type: data.tp_src as u8,
                code: data.tp_dst as u8,
            });
        } else if flow.dl_type == ETH_TYPE_IPV6 && flow.nw_proto == IPPROTO_ICMPV6 {
            out.push(KeyAttr::Icmpv6 {
                icmp_type: data.tp_src as u8,
                code: data.tp_dst as u8,
            });
            if is_nd(flow) && (!export_mask || (data.tp_src == 0xff && data.tp_dst == 0xff)) {
                out.push(KeyAttr::Nd(NdKey {
                    target: data.nd_target,
                    sll: data.arp_sha,
                    tll: data.arp_tha,
                }));
                if support.nd_ext && (data.nd_reserved != 0 || data.nd_options_type != 0) {
                    out.push(KeyAttr::NdExtensions {
                        reserved: data.nd_reserved,
                        options_type: data.nd_options_type,
                    });
                }
            }
        }
    }
}

/// How well a key described a flow (`odp_key_fitness`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fitness {
    /// The key has exactly the attributes the flow implies.
    Perfect,
    /// The key has attributes the flow would not have.
    TooMuch,
    /// The key lacks attributes the flow implies.
    TooLittle,
    /// The key is malformed.
    Error,
}

fn find(attrs: &[KeyAttr], t: u16) -> Option<&KeyAttr> {
    attrs.iter().find(|a| a.attr_type() == t)
}

/// The flow a key describes (`odp_flow_key_to_flow`).
pub fn key_to_flow(key: &[KeyAttr]) -> (Flow, Fitness) {
    let mut flow = Flow::default();
    let fit = to_flow(key, &mut flow, None);
    if fit == Fitness::Error {
        return (flow, fit);
    }
    let shape = level_fitness(key, &flow, 0);
    (flow, if fit == Fitness::Perfect { shape } else { fit })
}

fn present_bits(attrs: &[KeyAttr]) -> u64 {
    attrs.iter().fold(0, |b, a| b | 1u64 << a.attr_type())
}

/// Whether a key level has exactly the attributes its flow implies
/// (upstream's expected versus present attributes).
fn level_fitness(attrs: &[KeyAttr], flow: &Flow, depth: usize) -> Fitness {
    let bit = |t: u16| 1u64 << t;
    let present = present_bits(attrs);
    let mut expected = 0u64;
    if depth == 0 {
        for t in [2u16, 3, 4, 15, 16, 19, 20, 22, 23, 24, 25, 26, 27, 29] {
            expected |= present & bit(t);
        }
    }
    expected |= present & bit(6);
    let mut inner = Fitness::Perfect;
    let vlan_here = depth < FLOW_MAX_VLAN_HEADERS
        && matches!(find(attrs, 6), Some(KeyAttr::Ethertype(t)) if eth_type_vlan(*t));
    if vlan_here {
        expected |= bit(5) | bit(1);
        let truncated = matches!(find(attrs, 5), Some(KeyAttr::Vlan(v)) if v & VLAN_CFI == 0);
        if truncated {
            expected &= !bit(1);
            if let Some(KeyAttr::Encap(e)) = find(attrs, 1) {
                if e.is_empty() {
                    expected |= bit(1);
                }
            }
        } else if let Some(KeyAttr::Encap(e)) = find(attrs, 1) {
            inner = level_fitness(e, flow, depth + 1);
        }
    } else {
        let dl = flow.dl_type;
        if dl == ETH_TYPE_IP {
            expected |= bit(7);
        } else if dl == ETH_TYPE_IPV6 {
            expected |= bit(8);
        } else if dl == ETH_TYPE_ARP || dl == ETH_TYPE_RARP {
            expected |= bit(13);
        } else if eth_type_mpls(dl) {
            expected |= bit(21);
        } else if dl == packet::extract::ETH_TYPE_NSH {
            expected |= bit(28);
        }
        if is_ip_any(flow) && flow.nw_frag & FLOW_NW_FRAG_LATER == 0 {
            match flow.nw_proto {
                IPPROTO_TCP => expected |= bit(9) | (present & bit(18)),
                IPPROTO_UDP => expected |= bit(10),
                IPPROTO_SCTP => expected |= bit(17),
                IPPROTO_ICMP if dl == ETH_TYPE_IP => expected |= bit(11),
                IPPROTO_ICMPV6 if dl == ETH_TYPE_IPV6 => {
                    expected |= bit(12);
                    if is_nd(flow) {
                        expected |= bit(14) | (present & bit(30));
                    }
                }
                _ => {}
            }
        }
    }
    if expected & !present != 0 {
        Fitness::TooLittle
    } else if present & !expected != 0 {
        Fitness::TooMuch
    } else {
        inner
    }
}

/// The wildcard mask a mask describes for key flow `flow`
/// (`odp_flow_key_to_mask`). An absent `recirc_id` is exact; other absent
/// attributes are wildcarded. An empty mask means "exact on everything the
/// key has".
pub fn mask_to_flow(mask: &[KeyAttr], flow: &Flow) -> (Flow, Fitness) {
    let mut m = Flow::default();
    if mask.is_empty() {
        let key = key_from_flow(flow, None, &Support::default());
        let full = exact_mask_of(&key);
        let fit = to_flow(&full, &mut m, Some(flow));
        return (m, fit);
    }
    let fit = to_flow(mask, &mut m, Some(flow));
    // A frame without an Ethernet II type needs its type masked explicitly.
    if flow.dl_type < ETH_TYPE_MIN && flow.packet_type == PT_ETH {
        let mut level: &[KeyAttr] = mask;
        for v in flow.vlans.iter() {
            if v.tci & VLAN_CFI == 0 {
                break;
            }
            level = match find(level, 1) {
                Some(KeyAttr::Encap(inner)) => inner,
                _ => &[],
            };
        }
        if find(level, 6).is_none() {
            return (m, Fitness::Error);
        }
    }
    (m, fit)
}

/// `mask` as the datapath keeps it for key `flow`: what survives the trip
/// through ODP mask attributes and back (upstream's flows make that trip
/// between translation and the datapath), e.g. "no VLAN" made exact, the
/// fragment bits made all-or-nothing, fields the key cannot carry dropped.
pub fn normalize_mask(mask: &Flow, flow: &Flow) -> Flow {
    let attrs = mask_from_flow(mask, flow, &Support::default());
    mask_to_flow(&attrs, flow).0
}

/// A mask with every bit of each attribute of `key` set.
pub fn exact_mask_of(key: &[KeyAttr]) -> Vec<KeyAttr> {
    key.iter().map(exact_attr).collect()
}

fn exact_attr(a: &KeyAttr) -> KeyAttr {
    match a {
        KeyAttr::Encap(v) => KeyAttr::Encap(exact_mask_of(v)),
        KeyAttr::Priority(_) => KeyAttr::Priority(u32::MAX),
        KeyAttr::InPort(_) => KeyAttr::InPort(u32::MAX),
        KeyAttr::Ethernet { .. } => KeyAttr::Ethernet {
            src: [0xff; 6],
            dst: [0xff; 6],
        },
        KeyAttr::Vlan(_) => KeyAttr::Vlan(u16::MAX),
        KeyAttr::Ethertype(_) => KeyAttr::Ethertype(u16::MAX),
        KeyAttr::Ipv4(_) => KeyAttr::Ipv4(Ipv4Key {
            src: u32::MAX,
            dst: u32::MAX,
            proto: 0xff,
            tos: 0xff,
            ttl: 0xff,
            frag: 0xff,
        }),
        KeyAttr::Ipv6(_) => KeyAttr::Ipv6(Ipv6Key {
            src: [0xff; 16],
            dst: [0xff; 16],
            label: u32::MAX,
            proto: 0xff,
            tclass: 0xff,
            hlimit: 0xff,
            frag: 0xff,
        }),
        KeyAttr::Tcp { .. } => KeyAttr::Tcp {
            src: u16::MAX,
            dst: u16::MAX,
        },
        KeyAttr::Udp { .. } => KeyAttr::Udp {
            src: u16::MAX,
            dst: u16::MAX,
        },
        KeyAttr::Sctp { .. } => KeyAttr::Sctp {
            src: u16::MAX,
            dst: u16::MAX,
        },
        KeyAttr::Icmp { .. } => KeyAttr::Icmp {
            icmp_type: 0xff,
            code: 0xff,
        },
        KeyAttr::Icmpv6 { .. } => KeyAttr::Icmpv6 {
            icmp_type: 0xff,
            code: 0xff,
        },
        KeyAttr::Arp(_) => KeyAttr::Arp(ArpKey {
            sip: u32::MAX,
            tip: u32::MAX,
            op: u16::MAX,
            sha: [0xff; 6],
            tha: [0xff; 6],
        }),
        KeyAttr::Nd(_) => KeyAttr::Nd(NdKey {
            target: [0xff; 16],
            sll: [0xff; 6],
            tll: [0xff; 6],
        }),
        KeyAttr::SkbMark(_) => KeyAttr::SkbMark(u32::MAX),
        KeyAttr::Tunnel(t) => KeyAttr::Tunnel(
            t.iter()
                .map(|x| match x {
                    TunAttr::Id(_) => TunAttr::Id(u64::MAX),
                    TunAttr::Ipv4Src(_) => TunAttr::Ipv4Src(u32::MAX),
                    TunAttr::Ipv4Dst(_) => TunAttr::Ipv4Dst(u32::MAX),
                    TunAttr::Tos(_) => TunAttr::Tos(0xff),
                    TunAttr::Ttl(_) => TunAttr::Ttl(0xff),
                    TunAttr::DontFragment => TunAttr::DontFragment,
                    TunAttr::Csum => TunAttr::Csum,
                    TunAttr::Oam => TunAttr::Oam,
                    TunAttr::GeneveOpts(b) => TunAttr::GeneveOpts(vec![0xff; b.len()]),
                    TunAttr::TpSrc(_) => TunAttr::TpSrc(u16::MAX),
                    TunAttr::TpDst(_) => TunAttr::TpDst(u16::MAX),
                    TunAttr::VxlanGbp(_) => TunAttr::VxlanGbp(u32::MAX),
                    TunAttr::Ipv6Src(_) => TunAttr::Ipv6Src([0xff; 16]),
                    TunAttr::Ipv6Dst(_) => TunAttr::Ipv6Dst([0xff; 16]),
                })
                .collect(),
        ),
        KeyAttr::TcpFlags(_) => KeyAttr::TcpFlags(u16::MAX),
        KeyAttr::DpHash(_) => KeyAttr::DpHash(u32::MAX),
        KeyAttr::RecircId(_) => KeyAttr::RecircId(u32::MAX),
        KeyAttr::Mpls(v) => KeyAttr::Mpls(vec![u32::MAX; v.len()]),
        KeyAttr::CtState(_) => KeyAttr::CtState(u32::MAX),
        KeyAttr::CtZone(_) => KeyAttr::CtZone(u16::MAX),
        KeyAttr::CtMark(_) => KeyAttr::CtMark(u32::MAX),
        KeyAttr::CtLabels(_) => KeyAttr::CtLabels(u128::MAX),
        KeyAttr::CtTuple4(_) => KeyAttr::CtTuple4(CtTuple4 {
            src: u32::MAX,
            dst: u32::MAX,
            src_port: u16::MAX,
            dst_port: u16::MAX,
            proto: 0xff,
        }),
        KeyAttr::CtTuple6(_) => KeyAttr::CtTuple6(CtTuple6 {
            src: [0xff; 16],
            dst: [0xff; 16],
            src_port: u16::MAX,
            dst_port: u16::MAX,
            proto: 0xff,
        }),
        KeyAttr::PacketType(_) => KeyAttr::PacketType(u32::MAX),
        KeyAttr::NdExtensions { .. } => KeyAttr::NdExtensions {
            reserved: u32::MAX,
            options_type: 0xff,
        },
    }
}

fn put_tunnel(t: &[TunAttr], tnl: &mut FlowTnl, is_mask: bool) {
    for a in t {
        match a {
            TunAttr::Id(v) => {
                tnl.tun_id = *v;
                tnl.flags |= FLOW_TNL_F_KEY;
            }
            TunAttr::Ipv4Src(v) => tnl.ip_src = *v,
            TunAttr::Ipv4Dst(v) => tnl.ip_dst = *v,
            TunAttr::Ipv6Src(v) => tnl.ipv6_src = *v,
            TunAttr::Ipv6Dst(v) => tnl.ipv6_dst = *v,
            TunAttr::Tos(v) => tnl.ip_tos = *v,
            TunAttr::Ttl(v) => tnl.ip_ttl = *v,
            TunAttr::DontFragment => tnl.flags |= FLOW_TNL_F_DONT_FRAGMENT,
            TunAttr::Csum => tnl.flags |= FLOW_TNL_F_CSUM,
            TunAttr::Oam => tnl.flags |= FLOW_TNL_F_OAM,
            TunAttr::TpSrc(v) => tnl.tp_src = *v,
            TunAttr::TpDst(v) => tnl.tp_dst = *v,
            TunAttr::VxlanGbp(v) => {
                tnl.gbp_id = *v as u16;
                tnl.gbp_flags = (*v >> 16) as u8;
            }
            TunAttr::GeneveOpts(b) => {
                tnl.metadata.set_geneve_raw(b);
                tnl.flags |= FLOW_TNL_F_UDPIF;
                if is_mask {
                    // The options' length is matched exactly.
                    tnl.metadata.present = u64::from(u8::MAX);
                }
            }
        }
    }
}

/// Fills `out` from `attrs`. `src_flow` is `None` for a key and the key's
/// flow for a mask.
fn to_flow(attrs: &[KeyAttr], out: &mut Flow, src_flow: Option<&Flow>) -> Fitness {
    let is_mask = src_flow.is_some();
    let mut fit = Fitness::Perfect;
    // Metadata.
    for a in attrs {
        match a {
            KeyAttr::Priority(v) => out.skb_priority = *v,
            KeyAttr::SkbMark(v) => out.pkt_mark = *v,
            KeyAttr::DpHash(v) => out.dp_hash = *v,
            KeyAttr::RecircId(v) => out.recirc_id = *v,
            KeyAttr::CtState(v) => out.ct_state = *v as u8,
            KeyAttr::CtZone(v) => out.ct_zone = *v,
            KeyAttr::CtMark(v) => out.ct_mark = *v,
            KeyAttr::CtLabels(v) => out.ct_label = *v,
            KeyAttr::CtTuple4(t) => {
                out.ct_nw_src = t.src;
                out.ct_nw_dst = t.dst;
                out.ct_tp_src = t.src_port;
                out.ct_tp_dst = t.dst_port;
                out.ct_nw_proto = t.proto;
            }
            KeyAttr::CtTuple6(t) => {
                out.ct_ipv6_src = t.src;
                out.ct_ipv6_dst = t.dst;
                out.ct_tp_src = t.src_port;
                out.ct_tp_dst = t.dst_port;
                out.ct_nw_proto = t.proto;
            }
            KeyAttr::Tunnel(t) => put_tunnel(t, &mut out.tunnel, is_mask),
            KeyAttr::InPort(v) => out.in_port = *v,
            _ => {}
        }
    }
    if find(attrs, 20).is_none() && is_mask {
        out.recirc_id = u32::MAX;
    }
    if find(attrs, 3).is_none() && !is_mask {
        out.in_port = ODPP_NONE;
    }
    // Packet type and Ethernet.
    if let Some(KeyAttr::PacketType(pt)) = find(attrs, 29) {
        out.packet_type = *pt;
    } else if !is_mask {
        out.packet_type = PT_ETH;
    }
    if let Some(KeyAttr::Ethernet { src, dst }) = find(attrs, 4) {
        out.dl_src = *src;
        out.dl_dst = *dst;
        if !is_mask {
            out.packet_type = PT_ETH;
        }
    } else if let Some(KeyAttr::Ethertype(t)) = find(attrs, 6) {
        if !is_mask {
            out.packet_type = (1 << 16) | *t as u32;
        }
    }
    let key_flow = src_flow.copied();
    let f = l2_5_onward(attrs, out, key_flow.as_ref(), 0);
    if f != Fitness::Perfect {
        fit = f;
    }
    fit
}

fn l2_5_onward(attrs: &[KeyAttr], out: &mut Flow, src: Option<&Flow>, depth: usize) -> Fitness {
    let is_mask = src.is_some();
    let ethertype = find(attrs, 6);
    let vlan = find(attrs, 5);
    let key_dl_type = |out: &Flow| src.map(|s| s.dl_type).unwrap_or(out.dl_type);
    // VLAN: an 802.1Q/802.1ad EtherType followed by vlan and encap. A
    // mask follows the key's shape (a VLAN header where the key has one).
    // Only as many VLAN headers as the process's limit (vlan-limit).
    let is_vlan = depth < packet::extract::vlan_limit()
        && if is_mask {
            src.is_some_and(|s| s.vlans[depth].tci & VLAN_CFI != 0)
        } else {
            matches!(ethertype, Some(KeyAttr::Ethertype(t)) if eth_type_vlan(*t))
        };
    if is_vlan {
        let t = match ethertype {
            Some(KeyAttr::Ethertype(t)) => *t,
            _ => 0,
        };
        let tci = match vlan {
            Some(KeyAttr::Vlan(v)) => *v,
            _ if is_mask => 0,
            _ => return Fitness::TooLittle,
        };
        out.vlans[depth].tpid = t;
        out.vlans[depth].tci = tci;
        if !is_mask && tci & VLAN_CFI == 0 {
            // A truncated VLAN header: the TPID stays the EtherType.
            out.dl_type = t;
            out.vlans[depth].tpid = 0;
            return match find(attrs, 1) {
                Some(KeyAttr::Encap(inner)) if !inner.is_empty() => Fitness::TooMuch,
                _ => Fitness::Perfect,
            };
        }
        return match find(attrs, 1) {
            Some(KeyAttr::Encap(inner)) => l2_5_onward(inner, out, src, depth + 1),
            _ if is_mask => Fitness::Perfect,
            _ => Fitness::TooLittle,
        };
    }
    if is_mask && depth == 0 {
        // A missing VLAN mask means an exact match on "no VLAN".
        out.vlans[0].tpid = u16::MAX;
        out.vlans[0].tci = match vlan {
            Some(KeyAttr::Vlan(v)) => *v,
            _ => u16::MAX,
        };
    }
    match ethertype {
        Some(KeyAttr::Ethertype(t)) => out.dl_type = *t,
        _ => {
            if is_mask {
                out.dl_type = u16::MAX;
            } else if out.packet_type == PT_ETH {
                out.dl_type = FLOW_DL_TYPE_NONE;
            } else {
                out.dl_type = out.packet_type as u16;
            }
        }
    }
    if !is_mask && out.packet_type != PT_ETH && ethertype.is_none() {
        out.dl_type = out.packet_type as u16;
    }
    let dl_type = key_dl_type(out);
    let mut expected_l3 = None;
    if dl_type == ETH_TYPE_IP {
        expected_l3 = Some(7);
        if let Some(KeyAttr::Ipv4(k)) = find(attrs, 7) {
            out.nw_src = k.src;
            out.nw_dst = k.dst;
            out.nw_proto = k.proto;
            out.nw_tos = k.tos;
            out.nw_ttl = k.ttl;
            match odp_to_ovs_frag(k.frag, is_mask) {
                Some(f) => out.nw_frag = f,
                None => return Fitness::Error,
            }
        }
    } else if dl_type == ETH_TYPE_IPV6 {
        expected_l3 = Some(8);
        if let Some(KeyAttr::Ipv6(k)) = find(attrs, 8) {
            out.ipv6_src = k.src;
            out.ipv6_dst = k.dst;
            out.ipv6_label = k.label;
            out.nw_proto = k.proto;
            out.nw_tos = k.tclass;
            out.nw_ttl = k.hlimit;
            match odp_to_ovs_frag(k.frag, is_mask) {
                Some(f) => out.nw_frag = f,
                None => return Fitness::Error,
            }
        }
    } else if dl_type == ETH_TYPE_ARP || dl_type == ETH_TYPE_RARP {
        expected_l3 = Some(13);
        if let Some(KeyAttr::Arp(k)) = find(attrs, 13) {
            if !is_mask && k.op & 0xff00 != 0 {
                return Fitness::Error;
            }
            out.nw_src = k.sip;
            out.nw_dst = k.tip;
            out.nw_proto = k.op as u8;
            out.arp_sha = k.sha;
            out.arp_tha = k.tha;
        }
    } else if eth_type_mpls(dl_type) {
        expected_l3 = Some(21);
        if let Some(KeyAttr::Mpls(v)) = find(attrs, 21) {
            for (i, lse) in v.iter().take(FLOW_MAX_MPLS_LABELS).enumerate() {
                out.mpls_lse[i] = *lse;
            }
            if v.len() > FLOW_MAX_MPLS_LABELS {
                return Fitness::TooMuch;
            }
        }
    }
    let mut fit = Fitness::Perfect;
    if let Some(t) = expected_l3 {
        if find(attrs, t).is_none() && !is_mask {
            fit = Fitness::TooLittle;
        }
    }
    let key = src.copied().unwrap_or(*out);
    if is_ip_any(&key) && key.nw_frag & FLOW_NW_FRAG_LATER == 0 {
        let l4 = match key.nw_proto {
            IPPROTO_TCP => find(attrs, 9),
            IPPROTO_UDP => find(attrs, 10),
            IPPROTO_SCTP => find(attrs, 17),
            IPPROTO_ICMP if key.dl_type == ETH_TYPE_IP => find(attrs, 11),
            IPPROTO_ICMPV6 if key.dl_type == ETH_TYPE_IPV6 => find(attrs, 12),
            _ => None,
        };
        match l4 {
            Some(KeyAttr::Tcp { src, dst })
            | Some(KeyAttr::Udp { src, dst })
            | Some(KeyAttr::Sctp { src, dst }) => {
                out.tp_src = *src;
                out.tp_dst = *dst;
            }
            Some(KeyAttr::Icmp { icmp_type, code }) | Some(KeyAttr::Icmpv6 { icmp_type, code }) => {
                out.tp_src = *icmp_type as u16;
                out.tp_dst = *code as u16;
            }
            _ => {}
        }
        if let Some(KeyAttr::TcpFlags(f)) = find(attrs, 18) {
            out.tcp_flags = *f;
        }
        if let Some(KeyAttr::Nd(nd)) = find(attrs, 14) {
            out.nd_target = nd.target;
            out.arp_sha = nd.sll;
            out.arp_tha = nd.tll;
        }
        if let Some(KeyAttr::NdExtensions {
            reserved,
            options_type,
        }) = find(attrs, 30)
        {
            out.nd_reserved = *reserved;
            out.nd_options_type = *options_type;
        }
    }
    fit
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tcp_flow() -> Flow {
        let mut f = Flow::default();
        f.in_port = 1;
        f.dl_src = [0x50, 0x54, 0, 0, 0, 5];
        f.dl_dst = [0x50, 0x54, 0, 0, 0, 7];
        f.dl_type = ETH_TYPE_IP;
        f.nw_src = 0x0a00_0002;
        f.nw_dst = 0x0a00_0001;
        f.nw_proto = IPPROTO_TCP;
        f.nw_ttl = 64;
        f.tp_src = 1;
        f.tp_dst = 2;
        f.tcp_flags = 0x002;
        f
    }

    #[test]
    fn key_order_and_round_trip() {
        let f = tcp_flow();
        let key = key_from_flow(&f, None, &Support::default());
        let names: Vec<&str> = key.iter().map(|a| a.name()).collect();
        assert_eq!(
            names,
            [
                "skb_priority",
                "skb_mark",
                "ct_state",
                "ct_zone",
                "ct_mark",
                "ct_label",
                "recirc_id",
                "dp_hash",
                "in_port",
                "packet_type",
                "eth",
                "eth_type",
                "ipv4",
                "tcp",
                "tcp_flags"
            ]
        );
        let (back, fit) = key_to_flow(&key);
        assert_eq!(fit, Fitness::Perfect);
        assert_eq!(back, f);
    }

    #[test]
    fn vlan_nests_in_encap() {
        let mut f = tcp_flow();
        f.vlans[0].tpid = 0x8100;
        f.vlans[0].tci = 0x1000 | 10;
        let key = key_from_flow(&f, None, &Support::default());
        let n = key.len();
        assert_eq!(key[n - 3], KeyAttr::Ethertype(0x8100));
        assert_eq!(key[n - 2], KeyAttr::Vlan(0x100a));
        match &key[n - 1] {
            KeyAttr::Encap(inner) => assert_eq!(inner[0], KeyAttr::Ethertype(0x0800)),
            other => panic!("{other:?}"),
        }
        let (back, fit) = key_to_flow(&key);
        assert_eq!(fit, Fitness::Perfect);
        assert_eq!(back, f);
    }

    #[test]
    fn mask_round_trip() {
        let f = tcp_flow();
        let mut m = Flow::default();
        m.in_port = u32::MAX;
        m.recirc_id = u32::MAX;
        m.dl_type = 0xffff;
        m.nw_frag = FLOW_NW_FRAG_MASK;
        m.nw_src = 0xffff_ff00;
        m.tp_dst = 0xfff0;
        m.vlans[0].tpid = 0xffff;
        m.vlans[0].tci = 0xffff;
        let mk = mask_from_flow(&m, &f, &Support::default());
        let (back, _) = mask_to_flow(&mk, &f);
        assert_eq!(back, m);
    }

    #[test]
    fn frag_conversion() {
        assert_eq!(ovs_to_odp_frag(0, false), OVS_FRAG_TYPE_NONE);
        assert_eq!(ovs_to_odp_frag(1, false), OVS_FRAG_TYPE_FIRST);
        assert_eq!(ovs_to_odp_frag(3, false), OVS_FRAG_TYPE_LATER);
        assert_eq!(ovs_to_odp_frag(3, true), 0xff);
        assert_eq!(odp_to_ovs_frag(5, false), None);
    }
}
