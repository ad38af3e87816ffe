//! The flow key: every field a packet and its metadata can have.
//!
//! Values are kept in host byte order in integers of the field's natural
//! width (an IPv4 address `1.2.3.4` is `0x01020304`), addresses as byte arrays
//! in network order.  Like OVS, some header fields share storage because
//! they cannot occur together: ARP's opcode lives in `nw_proto`, its protocol
//! addresses in `nw_src`/`nw_dst`, its hardware addresses in
//! `arp_sha`/`arp_tha` (also used for IPv6 ND's source and target link-layer
//! addresses), and ICMP type and code live in `tp_src`/`tp_dst`.
//!
//! A wildcard mask is a `Flow` too: a set bit means "this bit matters".
//! [`Flow::and`], [`Flow::or`] and [`Flow::is_zero`] work on all fields at
//! once, which is what masking and classifier code needs.

/// Number of 32-bit registers (`reg0`..`reg15`).
pub const FLOW_N_REGS: usize = 16;
/// Number of VLAN headers the flow key can hold.
pub const FLOW_MAX_VLAN_HEADERS: usize = 2;
/// Number of MPLS label stack entries the flow key can hold.
pub const FLOW_MAX_MPLS_LABELS: usize = 3;
/// Number of tunnel metadata slots (`tun_metadata0`..`tun_metadata63`).
pub const TUN_METADATA_NUM_OPTS: usize = 64;
/// Bytes of option space shared by all tunnel metadata slots.
pub const TUN_METADATA_TOT_OPT_SIZE: usize = 256;

/// One 802.1Q header: TPID and TCI (host byte order).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Vlan {
    pub tpid: u16,
    pub tci: u16,
}

/// Tunnel metadata (Geneve options) as a packed option space.
///
/// Slot `i` occupies `len[i]` bytes of `opts` starting at `ofs[i]`, when bit
/// `i` of `present` is set.  The layout (`ofs`/`len`) is identical in a flow
/// and in its mask.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TunMetadata {
    pub present: u64,
    pub ofs: [u8; TUN_METADATA_NUM_OPTS],
    pub len: [u8; TUN_METADATA_NUM_OPTS],
    pub opts: [u8; TUN_METADATA_TOT_OPT_SIZE],
    /// In a match's mask: the options matched with a mask (even one of all
    /// ones within the option), which go on the wire as masked entries.
    pub masked: u64,
}

impl Default for TunMetadata {
    fn default() -> Self {
        TunMetadata {
            present: 0,
            ofs: [0; TUN_METADATA_NUM_OPTS],
            len: [0; TUN_METADATA_NUM_OPTS],
            opts: [0; TUN_METADATA_TOT_OPT_SIZE],
            masked: 0,
        }
    }
}

impl TunMetadata {
    /// The bytes of slot `idx`, if it has a location.
    pub fn slot(&self, idx: usize) -> Option<&[u8]> {
        if idx >= TUN_METADATA_NUM_OPTS || self.len[idx] == 0 {
            return None;
        }
        let ofs = self.ofs[idx] as usize;
        self.opts.get(ofs..ofs + self.len[idx] as usize)
    }

    /// Mutable bytes of slot `idx`, if it has a location.
    pub fn slot_mut(&mut self, idx: usize) -> Option<&mut [u8]> {
        if idx >= TUN_METADATA_NUM_OPTS || self.len[idx] == 0 {
            return None;
        }
        let ofs = self.ofs[idx] as usize;
        let len = self.len[idx] as usize;
        self.opts.get_mut(ofs..ofs + len)
    }

    /// Raw Geneve options as received (a flow with
    /// [`crate::tunnel::FLOW_TNL_F_UDPIF`]): the first `present` bytes of
    /// the option space.
    pub fn geneve_raw(&self) -> &[u8] {
        let n = usize::try_from(self.present).unwrap_or(usize::MAX);
        &self.opts[..n.min(TUN_METADATA_TOT_OPT_SIZE)]
    }

    /// Stores raw Geneve options (at most the option space; the rest is
    /// cut).
    pub fn set_geneve_raw(&mut self, raw: &[u8]) {
        *self = TunMetadata::default();
        let n = raw.len().min(TUN_METADATA_TOT_OPT_SIZE);
        self.opts[..n].copy_from_slice(&raw[..n]);
        self.present = n as u64;
    }

    /// Bytes of option space already given to slots.
    pub fn used(&self) -> usize {
        (0..TUN_METADATA_NUM_OPTS)
            .map(|i| self.ofs[i] as usize + self.len[i] as usize)
            .max()
            .unwrap_or(0)
    }
}

/// Where each `tun_metadataN` slot lives in the option space: a bridge's
/// layout, given by its TLV map (upstream's tunnel table).  Flows and the
/// matches of rules laid out alike compare byte for byte; a slot keeps its
/// place while it stays mapped, whatever is added or removed beside it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TunLayout {
    ofs: [u8; TUN_METADATA_NUM_OPTS],
    len: [u8; TUN_METADATA_NUM_OPTS],
}

impl Default for TunLayout {
    fn default() -> Self {
        TunLayout {
            ofs: [0; TUN_METADATA_NUM_OPTS],
            len: [0; TUN_METADATA_NUM_OPTS],
        }
    }
}

impl TunLayout {
    /// Offset and length of slot `idx`, if it has a place.
    pub fn slot(&self, idx: usize) -> Option<(usize, usize)> {
        let len = *self.len.get(idx)?;
        (len != 0).then(|| (self.ofs[idx] as usize, len as usize))
    }

    /// Gives slot `idx` the first free run of `len` bytes (`false`, and no
    /// change, when no run is free).  A slot already placed with that
    /// length stays where it is.
    pub fn place(&mut self, idx: usize, len: u8) -> bool {
        if idx >= TUN_METADATA_NUM_OPTS || len == 0 {
            return false;
        }
        if self.len[idx] == len {
            return true;
        }
        self.remove(idx);
        let need = len as usize;
        let mut start = 0;
        while start + need <= TUN_METADATA_TOT_OPT_SIZE {
            let clash = (0..TUN_METADATA_NUM_OPTS).find_map(|i| {
                let (o, l) = self.slot(i)?;
                (o < start + need && start < o + l).then_some(o + l)
            });
            match clash {
                Some(end) => start = end,
                None => {
                    self.ofs[idx] = start as u8;
                    self.len[idx] = len;
                    return true;
                }
            }
        }
        false
    }

    /// Frees slot `idx`.
    pub fn remove(&mut self, idx: usize) {
        if idx < TUN_METADATA_NUM_OPTS {
            self.ofs[idx] = 0;
            self.len[idx] = 0;
        }
    }

    /// Whether `md` is already laid out this way.
    pub fn lays_out(&self, md: &TunMetadata) -> bool {
        md.ofs == self.ofs && md.len == self.len
    }

    /// Moves every slot of `md` to its place in this layout, values
    /// right-aligned (a longer slot keeps its low bytes, a shorter one is
    /// padded with zeros in front).  Slots this layout does not place are
    /// dropped, present bit and all.
    pub fn apply(&self, md: &mut TunMetadata) {
        if self.lays_out(md) {
            return;
        }
        let mut new = TunMetadata {
            ofs: self.ofs,
            len: self.len,
            ..TunMetadata::default()
        };
        for i in 0..TUN_METADATA_NUM_OPTS {
            if self.len[i] == 0 {
                continue;
            }
            new.present |= md.present & (1 << i);
            new.masked |= md.masked & (1 << i);
            if let (Some(old), Some(slot)) = (md.slot(i), new.slot_mut(i)) {
                let k = old.len().min(slot.len());
                let sl = slot.len();
                slot[sl - k..].copy_from_slice(&old[old.len() - k..]);
            }
        }
        *md = new;
    }

    /// [`TunLayout::apply`] for a match's mask: a slot matched exactly
    /// (present, not `masked`) matches every byte of its new place.
    pub fn apply_mask(&self, md: &mut TunMetadata) {
        if self.lays_out(md) {
            return;
        }
        self.apply(md);
        for i in 0..TUN_METADATA_NUM_OPTS {
            if md.present & !md.masked & (1 << i) != 0 {
                if let Some(slot) = md.slot_mut(i) {
                    slot.fill(0xff);
                }
            }
        }
    }
}

/// Tunnel (outer header) metadata.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct FlowTnl {
    pub ip_dst: u32,
    pub ip_src: u32,
    pub ipv6_dst: [u8; 16],
    pub ipv6_src: [u8; 16],
    pub tun_id: u64,
    pub flags: u16,
    pub ip_tos: u8,
    pub ip_ttl: u8,
    pub tp_src: u16,
    pub tp_dst: u16,
    pub gbp_id: u16,
    pub gbp_flags: u8,
    pub erspan_ver: u8,
    pub erspan_idx: u32,
    pub erspan_dir: u8,
    pub erspan_hwid: u8,
    pub gtpu_flags: u8,
    pub gtpu_msgtype: u8,
    pub metadata: TunMetadata,
}

/// Network Service Header fields.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct FlowNsh {
    pub flags: u8,
    pub ttl: u8,
    pub mdtype: u8,
    pub np: u8,
    /// Service path header: SPI (upper 24 bits) and SI (lower 8 bits).
    pub path_hdr: u32,
    pub context: [u32; 4],
}

/// The flow key.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Flow {
    // Metadata.
    pub tunnel: FlowTnl,
    pub metadata: u64,
    pub regs: [u32; FLOW_N_REGS],
    pub skb_priority: u32,
    pub pkt_mark: u32,
    pub dp_hash: u32,
    /// OpenFlow port number (OF1.0 16-bit space; OF1.1+ values are mapped
    /// into it by the codec).
    pub in_port: u32,
    pub recirc_id: u32,
    pub ct_state: u8,
    pub ct_nw_proto: u8,
    pub ct_zone: u16,
    pub ct_mark: u32,
    pub packet_type: u32,
    pub ct_label: u128,
    pub conj_id: u32,
    pub actset_output: u32,

    // Layer 2.
    pub dl_dst: [u8; 6],
    pub dl_src: [u8; 6],
    pub dl_type: u16,
    pub vlans: [Vlan; FLOW_MAX_VLAN_HEADERS],
    pub mpls_lse: [u32; FLOW_MAX_MPLS_LABELS],

    // Layer 3.
    pub nw_src: u32,
    pub nw_dst: u32,
    pub ct_nw_src: u32,
    pub ct_nw_dst: u32,
    pub ipv6_src: [u8; 16],
    pub ipv6_dst: [u8; 16],
    pub ct_ipv6_src: [u8; 16],
    pub ct_ipv6_dst: [u8; 16],
    pub ipv6_label: u32,
    pub nw_frag: u8,
    pub nw_tos: u8,
    pub nw_ttl: u8,
    pub nw_proto: u8,
    pub nd_target: [u8; 16],
    pub arp_sha: [u8; 6],
    pub arp_tha: [u8; 6],
    pub tcp_flags: u16,
    pub nd_reserved: u32,
    pub nd_options_type: u8,
    pub nsh: FlowNsh,

    // Layer 4.
    pub tp_src: u16,
    pub tp_dst: u16,
    pub ct_tp_src: u16,
    pub ct_tp_dst: u16,
}

/// `nw_frag` bit: the packet is a fragment.
pub const FLOW_NW_FRAG_ANY: u8 = 1;
/// `nw_frag` bit: the packet is a fragment with nonzero offset.
pub const FLOW_NW_FRAG_LATER: u8 = 2;
/// Mask of all `nw_frag` bits.
pub const FLOW_NW_FRAG_MASK: u8 = 3;

/// Applies `op` to each pair of corresponding integers or bytes of `$a` and
/// `$b`, producing a new flow (used for and/or).
macro_rules! zip_flow {
    ($a:expr, $b:expr, $op:tt) => {{
        let (a, b) = ($a, $b);
        let mut r = *a;
        zip_bytes(&mut r.tunnel.ipv6_dst, &b.tunnel.ipv6_dst, |x, y| x $op y);
        zip_bytes(&mut r.tunnel.ipv6_src, &b.tunnel.ipv6_src, |x, y| x $op y);
        r.tunnel.ip_dst = a.tunnel.ip_dst $op b.tunnel.ip_dst;
        r.tunnel.ip_src = a.tunnel.ip_src $op b.tunnel.ip_src;
        r.tunnel.tun_id = a.tunnel.tun_id $op b.tunnel.tun_id;
        r.tunnel.flags = a.tunnel.flags $op b.tunnel.flags;
        r.tunnel.ip_tos = a.tunnel.ip_tos $op b.tunnel.ip_tos;
        r.tunnel.ip_ttl = a.tunnel.ip_ttl $op b.tunnel.ip_ttl;
        r.tunnel.tp_src = a.tunnel.tp_src $op b.tunnel.tp_src;
        r.tunnel.tp_dst = a.tunnel.tp_dst $op b.tunnel.tp_dst;
        r.tunnel.gbp_id = a.tunnel.gbp_id $op b.tunnel.gbp_id;
        r.tunnel.gbp_flags = a.tunnel.gbp_flags $op b.tunnel.gbp_flags;
        r.tunnel.erspan_ver = a.tunnel.erspan_ver $op b.tunnel.erspan_ver;
        r.tunnel.erspan_idx = a.tunnel.erspan_idx $op b.tunnel.erspan_idx;
        r.tunnel.erspan_dir = a.tunnel.erspan_dir $op b.tunnel.erspan_dir;
        r.tunnel.erspan_hwid = a.tunnel.erspan_hwid $op b.tunnel.erspan_hwid;
        r.tunnel.gtpu_flags = a.tunnel.gtpu_flags $op b.tunnel.gtpu_flags;
        r.tunnel.gtpu_msgtype = a.tunnel.gtpu_msgtype $op b.tunnel.gtpu_msgtype;
        r.tunnel.metadata.present = a.tunnel.metadata.present $op b.tunnel.metadata.present;
        zip_bytes(&mut r.tunnel.metadata.opts, &b.tunnel.metadata.opts, |x, y| x $op y);
        r.metadata = a.metadata $op b.metadata;
        for i in 0..FLOW_N_REGS {
            r.regs[i] = a.regs[i] $op b.regs[i];
        }
        r.skb_priority = a.skb_priority $op b.skb_priority;
        r.pkt_mark = a.pkt_mark $op b.pkt_mark;
        r.dp_hash = a.dp_hash $op b.dp_hash;
        r.in_port = a.in_port $op b.in_port;
        r.recirc_id = a.recirc_id $op b.recirc_id;
        r.ct_state = a.ct_state $op b.ct_state;
        r.ct_nw_proto = a.ct_nw_proto $op b.ct_nw_proto;
        r.ct_zone = a.ct_zone $op b.ct_zone;
        r.ct_mark = a.ct_mark $op b.ct_mark;
        r.packet_type = a.packet_type $op b.packet_type;
        r.ct_label = a.ct_label $op b.ct_label;
        r.conj_id = a.conj_id $op b.conj_id;
        r.actset_output = a.actset_output $op b.actset_output;
        zip_bytes(&mut r.dl_dst, &b.dl_dst, |x, y| x $op y);
        zip_bytes(&mut r.dl_src, &b.dl_src, |x, y| x $op y);
        r.dl_type = a.dl_type $op b.dl_type;
        for i in 0..FLOW_MAX_VLAN_HEADERS {
            r.vlans[i].tpid = a.vlans[i].tpid $op b.vlans[i].tpid;
            r.vlans[i].tci = a.vlans[i].tci $op b.vlans[i].tci;
        }
        for i in 0..FLOW_MAX_MPLS_LABELS {
            r.mpls_lse[i] = a.mpls_lse[i] $op b.mpls_lse[i];
        }
        r.nw_src = a.nw_src $op b.nw_src;
        r.nw_dst = a.nw_dst $op b.nw_dst;
        r.ct_nw_src = a.ct_nw_src $op b.ct_nw_src;
        r.ct_nw_dst = a.ct_nw_dst $op b.ct_nw_dst;
        zip_bytes(&mut r.ipv6_src, &b.ipv6_src, |x, y| x $op y);
        zip_bytes(&mut r.ipv6_dst, &b.ipv6_dst, |x, y| x $op y);
        zip_bytes(&mut r.ct_ipv6_src, &b.ct_ipv6_src, |x, y| x $op y);
        zip_bytes(&mut r.ct_ipv6_dst, &b.ct_ipv6_dst, |x, y| x $op y);
        r.ipv6_label = a.ipv6_label $op b.ipv6_label;
        r.nw_frag = a.nw_frag $op b.nw_frag;
        r.nw_tos = a.nw_tos $op b.nw_tos;
        r.nw_ttl = a.nw_ttl $op b.nw_ttl;
        r.nw_proto = a.nw_proto $op b.nw_proto;
        zip_bytes(&mut r.nd_target, &b.nd_target, |x, y| x $op y);
        zip_bytes(&mut r.arp_sha, &b.arp_sha, |x, y| x $op y);
        zip_bytes(&mut r.arp_tha, &b.arp_tha, |x, y| x $op y);
        r.tcp_flags = a.tcp_flags $op b.tcp_flags;
        r.nd_reserved = a.nd_reserved $op b.nd_reserved;
        r.nd_options_type = a.nd_options_type $op b.nd_options_type;
        r.nsh.flags = a.nsh.flags $op b.nsh.flags;
        r.nsh.ttl = a.nsh.ttl $op b.nsh.ttl;
        r.nsh.mdtype = a.nsh.mdtype $op b.nsh.mdtype;
        r.nsh.np = a.nsh.np $op b.nsh.np;
        r.nsh.path_hdr = a.nsh.path_hdr $op b.nsh.path_hdr;
        for i in 0..4 {
            r.nsh.context[i] = a.nsh.context[i] $op b.nsh.context[i];
        }
        r.tp_src = a.tp_src $op b.tp_src;
        r.tp_dst = a.tp_dst $op b.tp_dst;
        r.ct_tp_src = a.ct_tp_src $op b.ct_tp_src;
        r.ct_tp_dst = a.ct_tp_dst $op b.ct_tp_dst;
        r
    }};
}

fn zip_bytes<const N: usize>(r: &mut [u8; N], b: &[u8; N], f: impl Fn(u8, u8) -> u8) {
    for (x, y) in r.iter_mut().zip(b.iter()) {
        *x = f(*x, *y);
    }
}

impl Flow {
    /// Bitwise AND of every field (masking a flow with a wildcard mask).
    /// The tunnel metadata layout (`ofs`/`len`) is taken from `self`.
    pub fn and(&self, mask: &Flow) -> Flow {
        zip_flow!(self, mask, &)
    }

    /// Bitwise OR of every field (union of two masks).
    pub fn or(&self, other: &Flow) -> Flow {
        zip_flow!(self, other, |)
    }

    /// True if every field is zero (for a mask: matches everything).  The
    /// tunnel metadata layout does not count, only its present bits and bytes.
    pub fn is_zero(&self) -> bool {
        let mut z = *self;
        z.tunnel.metadata.ofs = [0; TUN_METADATA_NUM_OPTS];
        z.tunnel.metadata.len = [0; TUN_METADATA_NUM_OPTS];
        z == Flow::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn and_masks_every_field() {
        let mut f = Flow::default();
        f.nw_src = 0x0102_0304;
        f.dl_src = [1, 2, 3, 4, 5, 6];
        f.regs[7] = 0xffff_ffff;
        f.tunnel.metadata.opts[10] = 0xab;
        let mut m = Flow::default();
        m.nw_src = 0xffff_ff00;
        m.dl_src = [0xff, 0, 0, 0, 0, 0xff];
        m.tunnel.metadata.opts[10] = 0x0f;
        let r = f.and(&m);
        assert_eq!(r.nw_src, 0x0102_0300);
        assert_eq!(r.dl_src, [1, 0, 0, 0, 0, 6]);
        assert_eq!(r.regs[7], 0);
        assert_eq!(r.tunnel.metadata.opts[10], 0x0b);
        assert!(!r.is_zero());
        assert!(f.and(&Flow::default()).is_zero());
    }

    #[test]
    fn or_unites_masks() {
        let mut a = Flow::default();
        a.tp_src = 0xff00;
        let mut b = Flow::default();
        b.tp_src = 0x00ff;
        b.ct_label = 1;
        let r = a.or(&b);
        assert_eq!(r.tp_src, 0xffff);
        assert_eq!(r.ct_label, 1);
    }

    #[test]
    fn layout_places_first_fit_and_keeps_places() {
        let mut l = TunLayout::default();
        assert!(l.place(0, 4));
        assert!(l.place(1, 8));
        assert_eq!(l.slot(1), Some((4, 8)));
        l.remove(0);
        assert!(l.place(2, 8));
        assert_eq!(l.slot(2), Some((12, 8)), "no run of 8 before slot 1");
        assert!(l.place(3, 4));
        assert_eq!(l.slot(3), Some((0, 4)));
        assert_eq!(l.slot(1), Some((4, 8)), "kept its place");
        assert!(!l.place(4, 240));
    }

    #[test]
    fn layout_moves_values_right_aligned() {
        let mut md = TunMetadata::default();
        md.ofs[0] = 0;
        md.len[0] = 2;
        md.ofs[5] = 2;
        md.len[5] = 1;
        md.slot_mut(0).unwrap().copy_from_slice(&[0x12, 0x34]);
        md.slot_mut(5).unwrap().copy_from_slice(&[9]);
        md.present = 1 | 1 << 5;
        let mut l = TunLayout::default();
        assert!(l.place(5, 8));
        assert!(l.place(0, 4));
        l.apply(&mut md);
        assert!(l.lays_out(&md));
        assert_eq!(md.slot(0).unwrap(), &[0, 0, 0x12, 0x34]);
        assert_eq!(md.slot(5).unwrap(), &[0, 0, 0, 0, 0, 0, 0, 9]);
        assert_eq!(md.present, 1 | 1 << 5);
        l.remove(5);
        l.apply(&mut md);
        assert_eq!(md.present, 1, "an unplaced slot is dropped");
    }

    #[test]
    fn tun_metadata_slots() {
        let mut md = TunMetadata::default();
        assert!(md.slot(3).is_none());
        md.ofs[3] = 4;
        md.len[3] = 2;
        md.slot_mut(3).unwrap().copy_from_slice(&[7, 8]);
        assert_eq!(md.slot(3).unwrap(), &[7, 8]);
        assert_eq!(md.used(), 6);
    }
}
