//! Flow extraction: from the bytes of a packet and its metadata to a [`Flow`].
//!
//! This is the parser every packet meets first (OVS's `flow_extract`).  It
//! walks the headers front to back, fills the flow key with every field the
//! OVS 3.1 parser fills, and stops quietly at the first header that is
//! missing, truncated or malformed: the fields of that layer and of every
//! layer behind it stay zero, the fields already found stay set.  It never
//! panics and never reads outside `frame`; it allocates nothing, so it can be
//! fuzzed and run per packet.
//!
//! The layers, in the order they are parsed:
//!
//! * metadata from [`Metadata`] (tunnel, in_port, marks, conntrack state);
//! * Ethernet (when `packet_type` is Ethernet): addresses, up to
//!   `vlan_limit` 802.1Q/802.1ad tags, the EtherType (802.2 LLC/SNAP frames
//!   with an Ethernet OUI give their SNAP type, every other 802.3 frame gives
//!   [`DL_TYPE_NONE`]); for other packet types in the EtherType namespace
//!   the EtherType comes from the packet type;
//! * MPLS: the first three label stack entries, up to bottom of stack; the
//!   payload of MPLS is not parsed;
//! * ARP/RARP (Ethernet/IPv4 only), NSH, IPv4 (with fragment flags), IPv6
//!   (with hop-by-hop, routing, destination options, AH and fragment
//!   extension headers);
//! * unless the packet is a later fragment: TCP, UDP, SCTP, ICMP, IGMP,
//!   ICMPv6 with neighbour discovery.
//!
//! Where the flow key shares storage between protocols (see [`crate::flow`]),
//! extraction follows OVS: ARP's opcode goes to `nw_proto`, ICMP/IGMP/ICMPv6
//! type and code to `tp_src`/`tp_dst`, ND link-layer addresses to
//! `arp_sha`/`arp_tha`, and IGMP's group address to `nd_reserved` (OVS keeps
//! `igmp_group_ip4` and the ND reserved word in the same place).

use crate::flow::{
    Flow, FlowNsh, FlowTnl, Vlan, FLOW_MAX_MPLS_LABELS, FLOW_MAX_VLAN_HEADERS, FLOW_NW_FRAG_ANY,
    FLOW_NW_FRAG_LATER,
};

/// `packet_type` of an Ethernet frame (namespace 0, type 0).
pub const PT_ETH: u32 = 0;
/// Packet type namespace whose types are EtherTypes.
pub const OFPHTN_ETHERTYPE: u16 = 1;
/// `dl_type` of an 802.3 frame without an Ethernet II type or SNAP header.
pub const DL_TYPE_NONE: u16 = 0x05ff;
/// Smallest value that is an EtherType rather than an 802.3 length.
pub const ETH_TYPE_MIN: u16 = 0x0600;

pub const ETH_TYPE_IP: u16 = 0x0800;
pub const ETH_TYPE_ARP: u16 = 0x0806;
pub const ETH_TYPE_RARP: u16 = 0x8035;
pub const ETH_TYPE_VLAN_8021Q: u16 = 0x8100;
pub const ETH_TYPE_VLAN_8021AD: u16 = 0x88a8;
pub const ETH_TYPE_IPV6: u16 = 0x86dd;
pub const ETH_TYPE_MPLS: u16 = 0x8847;
pub const ETH_TYPE_MPLS_MCAST: u16 = 0x8848;
pub const ETH_TYPE_NSH: u16 = 0x894f;

pub const IPPROTO_HOPOPTS: u8 = 0;
pub const IPPROTO_ICMP: u8 = 1;
pub const IPPROTO_IGMP: u8 = 2;
pub const IPPROTO_TCP: u8 = 6;
pub const IPPROTO_UDP: u8 = 17;
pub const IPPROTO_ROUTING: u8 = 43;
pub const IPPROTO_FRAGMENT: u8 = 44;
pub const IPPROTO_GRE: u8 = 47;
pub const IPPROTO_AH: u8 = 51;
pub const IPPROTO_ICMPV6: u8 = 58;
pub const IPPROTO_NONE: u8 = 59;
pub const IPPROTO_DSTOPTS: u8 = 60;
pub const IPPROTO_SCTP: u8 = 132;

/// `vlan_tci` bit that OVS sets on every VLAN header it parsed ("CFI", now
/// "present").
pub const VLAN_CFI: u16 = 0x1000;
/// MPLS label stack entry: bottom-of-stack bit.
pub const MPLS_BOS_MASK: u32 = 0x0000_0100;

/// ICMPv6 neighbour solicitation and advertisement.
pub const ND_NEIGHBOR_SOLICIT: u8 = 135;
pub const ND_NEIGHBOR_ADVERT: u8 = 136;
/// ND options carrying a source or target link-layer address.
pub const ND_OPT_SOURCE_LINKADDR: u8 = 1;
pub const ND_OPT_TARGET_LINKADDR: u8 = 2;

/// NSH metadata types.
pub const NSH_M_TYPE1: u8 = 1;
pub const NSH_M_TYPE2: u8 = 2;
/// Length of the NSH base and service path headers.
pub const NSH_BASE_HDR_LEN: usize = 8;
/// Length of an MD type 1 NSH header.
pub const NSH_M_TYPE1_LEN: usize = 24;

/// The original direction of a tracked connection, as conntrack hands it
/// back with a packet (the `ct_nw_*`, `ct_ipv6_*`, `ct_tp_*` fields).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CtOrigTuple {
    V4 {
        src: u32,
        dst: u32,
        src_port: u16,
        dst_port: u16,
        proto: u8,
    },
    V6 {
        src: [u8; 16],
        dst: [u8; 16],
        src_port: u16,
        dst_port: u16,
        proto: u8,
    },
}

/// What the datapath knows about a packet besides its bytes (OVS's
/// `struct pkt_metadata` plus the packet type).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Metadata {
    /// Outer header of a decapsulated tunnel packet; ignored unless its
    /// IPv4 or IPv6 destination is set.
    pub tunnel: FlowTnl,
    pub in_port: u32,
    pub skb_priority: u32,
    pub pkt_mark: u32,
    pub dp_hash: u32,
    pub recirc_id: u32,
    pub ct_state: u8,
    pub ct_zone: u16,
    pub ct_mark: u32,
    pub ct_label: u128,
    pub ct_orig_tuple: Option<CtOrigTuple>,
    /// `(namespace << 16) | type`; [`PT_ETH`] for Ethernet frames.
    pub packet_type: u32,
}

/// Knobs of the parser.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExtractOptions {
    /// VLAN headers parsed into the flow (`other_config:vlan-limit`): 0
    /// means as many as the flow key holds ([`FLOW_MAX_VLAN_HEADERS`]),
    /// larger values are capped there.  Tags beyond the limit are left as
    /// the EtherType.
    pub vlan_limit: usize,
}

impl Default for ExtractOptions {
    /// The process's VLAN limit ([`vlan_limit`]).
    fn default() -> Self {
        ExtractOptions {
            vlan_limit: vlan_limit(),
        }
    }
}

/// VLAN headers flows hold in this process (upstream's `flow_vlan_limit`).
static VLAN_LIMIT: std::sync::atomic::AtomicUsize =
    std::sync::atomic::AtomicUsize::new(FLOW_MAX_VLAN_HEADERS);

/// Sets how many VLAN headers this process parses into flows, from packets
/// ([`ExtractOptions::default`]) and from datapath keys: ovs-vswitchd's
/// `other_config:vlan-limit` (upstream's `flow_limit_vlans`).  0 means as
/// many as a flow holds, larger values are capped there; tools keep that
/// default.
pub fn set_vlan_limit(limit: usize) {
    let n = match limit {
        0 => FLOW_MAX_VLAN_HEADERS,
        n => n.min(FLOW_MAX_VLAN_HEADERS),
    };
    VLAN_LIMIT.store(n, std::sync::atomic::Ordering::Relaxed);
}

/// The VLAN headers flows hold in this process (1..=[`FLOW_MAX_VLAN_HEADERS`]).
pub fn vlan_limit() -> usize {
    VLAN_LIMIT.load(std::sync::atomic::Ordering::Relaxed)
}

/// Where the parser found each layer, as byte offsets into the frame (OVS's
/// `l2_5_ofs`, `l3_ofs`, `l4_ofs` and `l2_pad_size`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Layers {
    /// First MPLS label stack entry.
    pub l2_5: Option<usize>,
    /// Network header (set once the layer 2 headers are behind).
    pub l3: Option<usize>,
    /// Transport header (set only for IPv4 and IPv6 that parsed).
    pub l4: Option<usize>,
    /// Bytes of Ethernet padding behind the IP packet.
    pub l2_pad: usize,
}

/// Extracts the flow key of `frame` with the default options.
pub fn extract(frame: &[u8], md: &Metadata) -> Flow {
    extract_with(frame, md, &ExtractOptions::default()).0
}

/// Extracts the flow key of `frame` and reports where its layers start.
pub fn extract_with(frame: &[u8], md: &Metadata, opts: &ExtractOptions) -> (Flow, Layers) {
    let mut flow = Flow::default();
    let mut layers = Layers::default();
    extract_into(frame, md, opts, &mut flow, &mut layers);
    (flow, layers)
}

/// [`extract_with`] writing into `flow` and `layers` in place (whatever
/// they held is overwritten): a key is a few hundred bytes, and the
/// forwarding path builds it where it keeps it rather than moving it.
#[inline]
pub fn extract_into(
    frame: &[u8],
    md: &Metadata,
    opts: &ExtractOptions,
    flow: &mut Flow,
    layers: &mut Layers,
) {
    *flow = Flow::default();
    *layers = Layers::default();
    extract_into_fresh(frame, md, opts, flow, layers);
}

/// [`extract_into`] for a `flow` and `layers` that are still their
/// `Default` (just made): skips clearing them again.
#[inline]
pub fn extract_into_fresh(
    frame: &[u8],
    md: &Metadata,
    opts: &ExtractOptions,
    flow: &mut Flow,
    layers: &mut Layers,
) {
    debug_assert!(*flow == Flow::default() && *layers == Layers::default());
    extract_metadata(md, flow);
    let mut p = Cursor {
        frame,
        pos: 0,
        end: frame.len(),
    };
    parse_l2_and_up(&mut p, md, opts, flow, layers);
}

fn extract_metadata(md: &Metadata, flow: &mut Flow) {
    if md.tunnel.ip_dst != 0 || md.tunnel.ipv6_dst != [0; 16] {
        flow.tunnel = md.tunnel;
    }
    flow.skb_priority = md.skb_priority;
    flow.pkt_mark = md.pkt_mark;
    flow.dp_hash = md.dp_hash;
    flow.in_port = md.in_port;
    flow.packet_type = md.packet_type;
    if md.recirc_id != 0 || md.ct_state != 0 {
        flow.recirc_id = md.recirc_id;
        flow.ct_state = md.ct_state;
        flow.ct_zone = md.ct_zone;
        flow.ct_mark = md.ct_mark;
        flow.ct_label = md.ct_label;
    }
}

/// A read position inside `frame[..end]`; `end` shrinks when IP's length
/// says the rest is padding.
struct Cursor<'a> {
    frame: &'a [u8],
    pos: usize,
    end: usize,
}

impl<'a> Cursor<'a> {
    fn rest(&self) -> &'a [u8] {
        &self.frame[self.pos..self.end]
    }
    fn len(&self) -> usize {
        self.end - self.pos
    }
    /// Takes `n` bytes, or nothing if fewer remain.
    fn pull(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.len() < n {
            return None;
        }
        let s = &self.frame[self.pos..self.pos + n];
        self.pos += n;
        Some(s)
    }
    fn peek(&self, n: usize) -> Option<&'a [u8]> {
        self.rest().get(..n)
    }
}

fn be16(b: &[u8], i: usize) -> u16 {
    u16::from_be_bytes([b[i], b[i + 1]])
}

fn be32(b: &[u8], i: usize) -> u32 {
    u32::from_be_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]])
}

fn addr16(b: &[u8], i: usize) -> [u8; 16] {
    let mut a = [0u8; 16];
    a.copy_from_slice(&b[i..i + 16]);
    a
}

fn mac(b: &[u8], i: usize) -> [u8; 6] {
    let mut a = [0u8; 6];
    a.copy_from_slice(&b[i..i + 6]);
    a
}

/// True for the TPIDs of 802.1Q and 802.1ad.
pub fn eth_type_vlan(t: u16) -> bool {
    t == ETH_TYPE_VLAN_8021Q || t == ETH_TYPE_VLAN_8021AD
}

/// True for the MPLS unicast and multicast EtherTypes.
pub fn eth_type_mpls(t: u16) -> bool {
    t == ETH_TYPE_MPLS || t == ETH_TYPE_MPLS_MCAST
}

fn parse_l2_and_up(
    p: &mut Cursor<'_>,
    md: &Metadata,
    opts: &ExtractOptions,
    flow: &mut Flow,
    layers: &mut Layers,
) {
    let dl_type;
    if md.packet_type == PT_ETH {
        let Some(eth) = p.peek(14) else { return };
        flow.dl_dst = mac(eth, 0);
        flow.dl_src = mac(eth, 6);
        p.pos += 12;
        let limit = match opts.vlan_limit {
            0 => FLOW_MAX_VLAN_HEADERS,
            n => n.min(FLOW_MAX_VLAN_HEADERS),
        };
        let mut n = 0;
        // At least the two bytes of a type remain at each step.
        while n < limit && eth_type_vlan(be16(p.rest(), 0)) {
            if p.len() < 6 {
                break;
            }
            let tag = p.rest();
            flow.vlans[n] = Vlan {
                tpid: be16(tag, 0),
                tci: be16(tag, 2) | VLAN_CFI,
            };
            p.pos += 4;
            n += 1;
        }
        dl_type = parse_ethertype(p);
        flow.dl_type = dl_type;
    } else {
        if (md.packet_type >> 16) as u16 != OFPHTN_ETHERTYPE {
            return;
        }
        dl_type = md.packet_type as u16;
        flow.dl_type = dl_type;
    }

    if eth_type_mpls(dl_type) {
        layers.l2_5 = Some(p.pos);
        let mut count = 0;
        while let Some(lse) = p.pull(4) {
            let v = be32(lse, 0);
            if count < FLOW_MAX_MPLS_LABELS {
                flow.mpls_lse[count] = v;
            }
            count += 1;
            if v & MPLS_BOS_MASK != 0 {
                break;
            }
        }
    }

    layers.l3 = Some(p.pos);
    let mut nw_frag = 0u8;
    let (nw_tos, nw_ttl, mut nw_proto);
    let mut ct_tp = (0u16, 0u16);
    let ct_active = md.recirc_id != 0 || md.ct_state != 0;

    if dl_type == ETH_TYPE_IP {
        let Some((ihl, tot_len)) = ipv4_sanity(p.rest()) else {
            return;
        };
        let ip = p.rest();
        layers.l2_pad = p.len() - tot_len;
        p.end = p.pos + tot_len;
        flow.nw_src = be32(ip, 12);
        flow.nw_dst = be32(ip, 16);
        if ct_active {
            if let Some(CtOrigTuple::V4 {
                src,
                dst,
                src_port,
                dst_port,
                proto,
            }) = md.ct_orig_tuple
            {
                flow.ct_nw_proto = proto;
                if proto != 0 {
                    flow.ct_nw_src = src;
                    flow.ct_nw_dst = dst;
                    ct_tp = (src_port, dst_port);
                }
            }
        }
        nw_tos = ip[1];
        nw_ttl = ip[8];
        nw_proto = ip[9];
        let frag_off = be16(ip, 6);
        if frag_off & 0x3fff != 0 {
            nw_frag = FLOW_NW_FRAG_ANY;
            if frag_off & 0x1fff != 0 {
                nw_frag |= FLOW_NW_FRAG_LATER;
            }
        }
        p.pos += ihl;
    } else if dl_type == ETH_TYPE_IPV6 {
        let ip = p.rest();
        if ip.len() < 40 {
            return;
        }
        let plen = be16(ip, 4) as usize;
        if plen + 40 > ip.len() || ip.len() - (plen + 40) > 0xffff {
            return;
        }
        p.pos += 40;
        layers.l2_pad = p.len() - plen;
        p.end = p.pos + plen;
        flow.ipv6_src = addr16(ip, 8);
        flow.ipv6_dst = addr16(ip, 24);
        if ct_active {
            if let Some(CtOrigTuple::V6 {
                src,
                dst,
                src_port,
                dst_port,
                proto,
            }) = md.ct_orig_tuple
            {
                flow.ct_nw_proto = proto;
                if proto != 0 {
                    flow.ct_ipv6_src = src;
                    flow.ct_ipv6_dst = dst;
                    ct_tp = (src_port, dst_port);
                }
            }
        }
        let tc_flow = be32(ip, 0);
        nw_tos = (tc_flow >> 20) as u8;
        nw_ttl = ip[7];
        nw_proto = ip[6];
        if !parse_ipv6_ext_hdrs(p, &mut nw_proto, &mut nw_frag) {
            return;
        }
        flow.ipv6_label = tc_flow & 0x000f_ffff;
    } else {
        if dl_type == ETH_TYPE_ARP || dl_type == ETH_TYPE_RARP {
            parse_arp(p, flow);
        } else if dl_type == ETH_TYPE_NSH {
            if let Some(nsh) = parse_nsh(p) {
                flow.nsh = nsh;
            }
        }
        return;
    }

    layers.l4 = Some(p.pos);
    flow.nw_frag = nw_frag;
    flow.nw_tos = nw_tos;
    flow.nw_ttl = nw_ttl;
    flow.nw_proto = nw_proto;
    if nw_frag & FLOW_NW_FRAG_LATER == 0 {
        parse_l4(p, nw_proto, ct_tp, flow);
    }
}

/// The EtherType behind the addresses and tags, pulling it (and an LLC/SNAP
/// header that carries one).
fn parse_ethertype(p: &mut Cursor<'_>) -> u16 {
    let Some(t) = p.pull(2) else { return 0 };
    let t = be16(t, 0);
    if t >= ETH_TYPE_MIN {
        return t;
    }
    let Some(llc) = p.peek(8) else {
        return DL_TYPE_NONE;
    };
    if llc[..6] != [0xaa, 0xaa, 0x03, 0, 0, 0] {
        return DL_TYPE_NONE;
    }
    p.pos += 8;
    let snap_type = be16(llc, 6);
    if snap_type >= ETH_TYPE_MIN {
        snap_type
    } else {
        DL_TYPE_NONE
    }
}

/// Header length and total length of a plausible IPv4 header at the start
/// of `ip` (the version is not checked, as in OVS).
fn ipv4_sanity(ip: &[u8]) -> Option<(usize, usize)> {
    if ip.len() < 20 {
        return None;
    }
    let ihl = (ip[0] & 0x0f) as usize * 4;
    if ihl < 20 || ip.len() < ihl {
        return None;
    }
    let tot_len = be16(ip, 2) as usize;
    if tot_len > ip.len() || ihl > tot_len || ip.len() - tot_len > 0xffff {
        return None;
    }
    Some((ihl, tot_len))
}

/// Skips IPv6 extension headers, leaving `nw_proto` at the first header that
/// is not one.  Returns false when a header does not fit.
fn parse_ipv6_ext_hdrs(p: &mut Cursor<'_>, nw_proto: &mut u8, nw_frag: &mut u8) -> bool {
    loop {
        match *nw_proto {
            IPPROTO_HOPOPTS | IPPROTO_ROUTING | IPPROTO_DSTOPTS | IPPROTO_AH | IPPROTO_FRAGMENT => {
            }
            _ => return true,
        }
        let Some(ext) = p.peek(8) else { return false };
        match *nw_proto {
            IPPROTO_FRAGMENT => {
                *nw_proto = ext[0];
                p.pos += 8;
                let offlg = be16(ext, 2);
                if offlg != 0 {
                    *nw_frag = FLOW_NW_FRAG_ANY;
                    if offlg & 0xfff8 != 0 {
                        *nw_frag |= FLOW_NW_FRAG_LATER;
                        *nw_proto = IPPROTO_FRAGMENT;
                        return true;
                    }
                }
            }
            IPPROTO_AH => {
                *nw_proto = ext[0];
                if p.pull((ext[1] as usize + 2) * 4).is_none() {
                    return false;
                }
            }
            _ => {
                *nw_proto = ext[0];
                if p.pull((ext[1] as usize + 1) * 8).is_none() {
                    return false;
                }
            }
        }
    }
}

fn parse_arp(p: &mut Cursor<'_>, flow: &mut Flow) {
    let Some(arp) = p.pull(28) else { return };
    if be16(arp, 0) != 1 || be16(arp, 2) != ETH_TYPE_IP || arp[4] != 6 || arp[5] != 4 {
        return;
    }
    flow.nw_src = be32(arp, 14);
    flow.nw_dst = be32(arp, 24);
    let op = be16(arp, 6);
    if op <= 0xff {
        flow.nw_proto = op as u8;
    }
    flow.arp_sha = mac(arp, 8);
    flow.arp_tha = mac(arp, 18);
}

/// Parses an NSH header (MD type 1 contexts; other MD types without them).
fn parse_nsh(p: &mut Cursor<'_>) -> Option<FlowNsh> {
    let h = p.peek(NSH_BASE_HDR_LEN)?;
    let w = be16(h, 0);
    let version = (w >> 14) as u8;
    let flags = ((w >> 12) & 0x3) as u8;
    let ttl = ((w >> 6) & 0x3f) as u8;
    let length = (w & 0x3f) as usize * 4;
    if length > p.len() || version != 0 {
        return None;
    }
    let mut nsh = FlowNsh {
        flags,
        ttl,
        mdtype: h[2],
        np: h[3],
        path_hdr: be32(h, 4),
        context: [0; 4],
    };
    match nsh.mdtype {
        NSH_M_TYPE1 => {
            if length != NSH_M_TYPE1_LEN {
                return None;
            }
            let r = p.rest();
            for (i, c) in nsh.context.iter_mut().enumerate() {
                *c = be32(r, 8 + 4 * i);
            }
        }
        // MD type 2 contexts are not parsed; the length still has to
        // cover the base header.
        NSH_M_TYPE2 if length < NSH_BASE_HDR_LEN => return None,
        _ => {}
    }
    p.pos += length;
    Some(nsh)
}

fn parse_l4(p: &mut Cursor<'_>, nw_proto: u8, ct_tp: (u16, u16), flow: &mut Flow) {
    let l4 = p.rest();
    let ports = |flow: &mut Flow, src: u16, dst: u16| {
        flow.tp_src = src;
        flow.tp_dst = dst;
        flow.ct_tp_src = ct_tp.0;
        flow.ct_tp_dst = ct_tp.1;
    };
    match nw_proto {
        IPPROTO_TCP => {
            if l4.len() < 20 {
                return;
            }
            let ctl = be16(l4, 12);
            let hdr_len = (ctl >> 12) as usize * 4;
            if hdr_len >= 20 && l4.len() >= hdr_len {
                flow.tcp_flags = ctl & 0x0fff;
                ports(flow, be16(l4, 0), be16(l4, 2));
            }
        }
        IPPROTO_UDP if l4.len() >= 8 => ports(flow, be16(l4, 0), be16(l4, 2)),
        IPPROTO_SCTP if l4.len() >= 12 => ports(flow, be16(l4, 0), be16(l4, 2)),
        IPPROTO_ICMP if l4.len() >= 8 => ports(flow, l4[0] as u16, l4[1] as u16),
        IPPROTO_IGMP if l4.len() >= 8 => {
            ports(flow, l4[0] as u16, l4[1] as u16);
            flow.nd_reserved = be32(l4, 4);
        }
        IPPROTO_ICMPV6 if l4.len() >= 8 => {
            let (ty, code) = (l4[0], l4[1]);
            p.pos += 8;
            match parse_nd(p, ty, code, be32(l4, 4)) {
                Some(nd) => {
                    if let Some(t) = nd.target {
                        flow.nd_target = t;
                    }
                    flow.arp_sha = nd.sll;
                    flow.arp_tha = nd.tll;
                    flow.nd_options_type = nd.opt_type;
                    flow.tp_src = ty as u16;
                    flow.tp_dst = code as u16;
                    flow.nd_reserved = nd.reserved;
                }
                None => ports(flow, ty as u16, code as u16),
            }
        }
        _ => {}
    }
}

/// What a neighbour solicitation or advertisement says.
struct Nd {
    reserved: u32,
    target: Option<[u8; 16]>,
    sll: [u8; 6],
    tll: [u8; 6],
    opt_type: u8,
}

/// Parses the body of an ND message behind its 8-byte ICMPv6 header.  None
/// if this is not ND, or if a link-layer address option repeats (then the
/// packet is treated as plain ICMPv6); an option with a length of zero or
/// beyond the packet ends the options.
fn parse_nd(p: &mut Cursor<'_>, ty: u8, code: u8, reserved: u32) -> Option<Nd> {
    if code != 0 || (ty != ND_NEIGHBOR_SOLICIT && ty != ND_NEIGHBOR_ADVERT) {
        return None;
    }
    let mut nd = Nd {
        reserved,
        target: None,
        sll: [0; 6],
        tll: [0; 6],
        opt_type: 0,
    };
    let Some(t) = p.pull(16) else { return Some(nd) };
    nd.target = Some(addr16(t, 0));
    while p.len() >= 8 {
        let opt = p.rest();
        let opt_len = opt[1] as usize * 8;
        if opt_len == 0 || opt_len > p.len() {
            // Options stop here; what was found so far stands.
            return Some(nd);
        }
        let slot = match opt[0] {
            ND_OPT_SOURCE_LINKADDR if opt_len == 8 => Some(&mut nd.sll),
            ND_OPT_TARGET_LINKADDR if opt_len == 8 => Some(&mut nd.tll),
            _ => None,
        };
        if let Some(slot) = slot {
            if *slot != [0; 6] {
                return None;
            }
            *slot = mac(opt, 2);
            if nd.opt_type == 0 {
                nd.opt_type = opt[0];
            }
        }
        p.pos += opt_len;
    }
    Some(nd)
}

#[cfg(test)]
mod tests;
