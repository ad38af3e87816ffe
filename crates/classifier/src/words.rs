//! The classifier's packed view of a flow key: every field of a
//! [`packet::Flow`] laid out in a fixed array of 64-bit words
//! ([`FlowWords`]), grouped into the four lookup stages (metadata, L2, L3,
//! L4) in that order.
//!
//! Packing makes masking, hashing and comparing a flow a loop over words,
//! and lets a subtable keep only the words its mask touches.  The layout is
//! private to this crate; only the stage a field belongs to is meaningful
//! outside (it decides what a miss in an early stage un-wildcards), and it
//! follows Open vSwitch's flow segments: tunnel and pipeline metadata, then
//! Ethernet/VLAN/MPLS, then network-layer fields (including ARP, ND, NSH and
//! TCP flags), then transport ports (and the ND reserved word).
//!
//! Bit addressing for prefix fields ([`BitField`]) counts from the most
//! significant bit of word 0, so a field's prefix is read most significant
//! bit first, as an address is written.

use packet::flow::{FLOW_MAX_MPLS_LABELS, FLOW_N_REGS};
use packet::Flow;

/// Number of 64-bit words in a packed flow.
pub const N_WORDS: usize = 83;

/// First word of each stage after the first: L2, L3 and L4.
pub const STAGE_STARTS: [usize; 3] = [W_DL_DST_TYPE, W_NW_ADDRS, W_PORTS];
/// Number of lookup stages.
pub const N_STAGES: usize = 4;

// Metadata stage.
const W_TUN_IP4: usize = 0;
const W_TUN_IPV6_DST: usize = 1;
const W_TUN_IPV6_SRC: usize = 3;
const W_TUN_ID: usize = 5;
const W_TUN_MISC1: usize = 6;
const W_TUN_MISC2: usize = 7;
const W_TUN_MISC3: usize = 8;
const W_TUN_MD_PRESENT: usize = 9;
const W_TUN_MD_OPTS: usize = 10; // 32 words
const W_METADATA: usize = 42;
const W_REGS: usize = 43; // 8 words
const W_SKB_PRIO_MARK: usize = 51;
const W_DP_HASH_IN_PORT: usize = 52;
const W_RECIRC_CT: usize = 53;
const W_CT_MARK_PT: usize = 54;
const W_CT_LABEL: usize = 55; // 2 words
const W_CONJ_ACTSET: usize = 57;
// L2 stage.
const W_DL_DST_TYPE: usize = 58;
const W_DL_SRC: usize = 59;
const W_VLANS: usize = 60;
const W_MPLS: usize = 61; // 2 words
                          // L3 stage.
const W_NW_ADDRS: usize = 63;
const W_CT_NW_ADDRS: usize = 64;
const W_IPV6_SRC: usize = 65;
const W_IPV6_DST: usize = 67;
const W_CT_IPV6_SRC: usize = 69;
const W_CT_IPV6_DST: usize = 71;
const W_NW_MISC: usize = 73;
const W_ND_TARGET: usize = 74;
const W_ARP_SHA: usize = 76;
const W_ARP_THA: usize = 77;
const W_NSH: usize = 78;
const W_NSH_CTX: usize = 79; // 2 words
                             // L4 stage.
const W_PORTS: usize = 81;
const W_ND_RESERVED: usize = 82;

/// The stage (0 metadata, 1 L2, 2 L3, 3 L4) of word `idx`.
pub fn stage_of(idx: usize) -> usize {
    STAGE_STARTS.iter().take_while(|&&s| idx >= s).count()
}

/// A flow key (or a wildcard mask) packed into words.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct FlowWords(pub [u64; N_WORDS]);

impl Default for FlowWords {
    fn default() -> Self {
        FlowWords([0; N_WORDS])
    }
}

impl std::fmt::Debug for FlowWords {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut m = f.debug_map();
        for (i, w) in self.0.iter().enumerate() {
            if *w != 0 {
                m.entry(&i, &format_args!("{w:#018x}"));
            }
        }
        m.finish()
    }
}

fn mac48(b: &[u8; 6]) -> u64 {
    b.iter().fold(0u64, |acc, &x| acc << 8 | x as u64)
}

fn mac_or(dst: &mut [u8; 6], x: u64) {
    for (i, d) in dst.iter_mut().enumerate() {
        *d |= (x >> (40 - 8 * i)) as u8;
    }
}

fn v6_words(a: &[u8; 16]) -> (u64, u64) {
    let x = u128::from_be_bytes(*a);
    ((x >> 64) as u64, x as u64)
}

fn v6_or(dst: &mut [u8; 16], hi: u64, lo: u64) {
    let x = u128::from_be_bytes(*dst) | (hi as u128) << 64 | lo as u128;
    *dst = x.to_be_bytes();
}

impl FlowWords {
    /// Packs every field of `flow`.
    pub fn from_flow(flow: &Flow) -> FlowWords {
        let mut w = [0u64; N_WORDS];
        let t = &flow.tunnel;
        w[W_TUN_IP4] = (t.ip_dst as u64) << 32 | t.ip_src as u64;
        (w[W_TUN_IPV6_DST], w[W_TUN_IPV6_DST + 1]) = v6_words(&t.ipv6_dst);
        (w[W_TUN_IPV6_SRC], w[W_TUN_IPV6_SRC + 1]) = v6_words(&t.ipv6_src);
        w[W_TUN_ID] = t.tun_id;
        w[W_TUN_MISC1] = (t.flags as u64) << 48
            | (t.ip_tos as u64) << 40
            | (t.ip_ttl as u64) << 32
            | (t.tp_src as u64) << 16
            | t.tp_dst as u64;
        w[W_TUN_MISC2] = (t.gbp_id as u64) << 48
            | (t.gbp_flags as u64) << 40
            | (t.erspan_ver as u64) << 32
            | t.erspan_idx as u64;
        w[W_TUN_MISC3] = (t.erspan_dir as u64) << 56
            | (t.erspan_hwid as u64) << 48
            | (t.gtpu_flags as u64) << 40
            | (t.gtpu_msgtype as u64) << 32;
        w[W_TUN_MD_PRESENT] = t.metadata.present;
        for (i, chunk) in t.metadata.opts.chunks_exact(8).enumerate() {
            let mut b = [0u8; 8];
            b.copy_from_slice(chunk);
            w[W_TUN_MD_OPTS + i] = u64::from_be_bytes(b);
        }
        w[W_METADATA] = flow.metadata;
        for i in 0..FLOW_N_REGS / 2 {
            w[W_REGS + i] = (flow.regs[2 * i] as u64) << 32 | flow.regs[2 * i + 1] as u64;
        }
        w[W_SKB_PRIO_MARK] = (flow.skb_priority as u64) << 32 | flow.pkt_mark as u64;
        w[W_DP_HASH_IN_PORT] = (flow.dp_hash as u64) << 32 | flow.in_port as u64;
        w[W_RECIRC_CT] = (flow.recirc_id as u64) << 32
            | (flow.ct_state as u64) << 24
            | (flow.ct_nw_proto as u64) << 16
            | flow.ct_zone as u64;
        w[W_CT_MARK_PT] = (flow.ct_mark as u64) << 32 | flow.packet_type as u64;
        w[W_CT_LABEL] = (flow.ct_label >> 64) as u64;
        w[W_CT_LABEL + 1] = flow.ct_label as u64;
        w[W_CONJ_ACTSET] = (flow.conj_id as u64) << 32 | flow.actset_output as u64;

        w[W_DL_DST_TYPE] = mac48(&flow.dl_dst) << 16 | flow.dl_type as u64;
        w[W_DL_SRC] = mac48(&flow.dl_src) << 16;
        let v = &flow.vlans;
        w[W_VLANS] = (v[0].tpid as u64) << 48
            | (v[0].tci as u64) << 32
            | (v[1].tpid as u64) << 16
            | v[1].tci as u64;
        for (i, lse) in flow.mpls_lse.iter().enumerate().take(FLOW_MAX_MPLS_LABELS) {
            w[W_MPLS + i / 2] |= (*lse as u64) << (32 - 32 * (i % 2));
        }

        w[W_NW_ADDRS] = (flow.nw_src as u64) << 32 | flow.nw_dst as u64;
        w[W_CT_NW_ADDRS] = (flow.ct_nw_src as u64) << 32 | flow.ct_nw_dst as u64;
        (w[W_IPV6_SRC], w[W_IPV6_SRC + 1]) = v6_words(&flow.ipv6_src);
        (w[W_IPV6_DST], w[W_IPV6_DST + 1]) = v6_words(&flow.ipv6_dst);
        (w[W_CT_IPV6_SRC], w[W_CT_IPV6_SRC + 1]) = v6_words(&flow.ct_ipv6_src);
        (w[W_CT_IPV6_DST], w[W_CT_IPV6_DST + 1]) = v6_words(&flow.ct_ipv6_dst);
        w[W_NW_MISC] = (flow.ipv6_label as u64) << 32
            | (flow.nw_frag as u64) << 24
            | (flow.nw_tos as u64) << 16
            | (flow.nw_ttl as u64) << 8
            | flow.nw_proto as u64;
        (w[W_ND_TARGET], w[W_ND_TARGET + 1]) = v6_words(&flow.nd_target);
        w[W_ARP_SHA] = mac48(&flow.arp_sha) << 16 | flow.tcp_flags as u64;
        w[W_ARP_THA] = mac48(&flow.arp_tha) << 16 | (flow.nd_options_type as u64) << 8;
        let n = &flow.nsh;
        w[W_NSH] = (n.flags as u64) << 56
            | (n.ttl as u64) << 48
            | (n.mdtype as u64) << 40
            | (n.np as u64) << 32
            | n.path_hdr as u64;
        w[W_NSH_CTX] = (n.context[0] as u64) << 32 | n.context[1] as u64;
        w[W_NSH_CTX + 1] = (n.context[2] as u64) << 32 | n.context[3] as u64;

        w[W_PORTS] = (flow.tp_src as u64) << 48
            | (flow.tp_dst as u64) << 32
            | (flow.ct_tp_src as u64) << 16
            | flow.ct_tp_dst as u64;
        w[W_ND_RESERVED] = (flow.nd_reserved as u64) << 32;
        FlowWords(w)
    }

    /// ORs every field of `self` into `flow` (the inverse of
    /// [`FlowWords::from_flow`] when `flow` starts zeroed).  The tunnel
    /// metadata layout (`ofs`/`len`) of `flow` is left alone.
    pub fn or_into_flow(&self, flow: &mut Flow) {
        let w = &self.0;
        let t = &mut flow.tunnel;
        t.ip_dst |= (w[W_TUN_IP4] >> 32) as u32;
        t.ip_src |= w[W_TUN_IP4] as u32;
        v6_or(&mut t.ipv6_dst, w[W_TUN_IPV6_DST], w[W_TUN_IPV6_DST + 1]);
        v6_or(&mut t.ipv6_src, w[W_TUN_IPV6_SRC], w[W_TUN_IPV6_SRC + 1]);
        t.tun_id |= w[W_TUN_ID];
        let m = w[W_TUN_MISC1];
        t.flags |= (m >> 48) as u16;
        t.ip_tos |= (m >> 40) as u8;
        t.ip_ttl |= (m >> 32) as u8;
        t.tp_src |= (m >> 16) as u16;
        t.tp_dst |= m as u16;
        let m = w[W_TUN_MISC2];
        t.gbp_id |= (m >> 48) as u16;
        t.gbp_flags |= (m >> 40) as u8;
        t.erspan_ver |= (m >> 32) as u8;
        t.erspan_idx |= m as u32;
        let m = w[W_TUN_MISC3];
        t.erspan_dir |= (m >> 56) as u8;
        t.erspan_hwid |= (m >> 48) as u8;
        t.gtpu_flags |= (m >> 40) as u8;
        t.gtpu_msgtype |= (m >> 32) as u8;
        t.metadata.present |= w[W_TUN_MD_PRESENT];
        for (i, chunk) in t.metadata.opts.chunks_exact_mut(8).enumerate() {
            for (j, b) in chunk.iter_mut().enumerate() {
                *b |= (w[W_TUN_MD_OPTS + i] >> (56 - 8 * j)) as u8;
            }
        }
        flow.metadata |= w[W_METADATA];
        for i in 0..FLOW_N_REGS / 2 {
            flow.regs[2 * i] |= (w[W_REGS + i] >> 32) as u32;
            flow.regs[2 * i + 1] |= w[W_REGS + i] as u32;
        }
        flow.skb_priority |= (w[W_SKB_PRIO_MARK] >> 32) as u32;
        flow.pkt_mark |= w[W_SKB_PRIO_MARK] as u32;
        flow.dp_hash |= (w[W_DP_HASH_IN_PORT] >> 32) as u32;
        flow.in_port |= w[W_DP_HASH_IN_PORT] as u32;
        let m = w[W_RECIRC_CT];
        flow.recirc_id |= (m >> 32) as u32;
        flow.ct_state |= (m >> 24) as u8;
        flow.ct_nw_proto |= (m >> 16) as u8;
        flow.ct_zone |= m as u16;
        flow.ct_mark |= (w[W_CT_MARK_PT] >> 32) as u32;
        flow.packet_type |= w[W_CT_MARK_PT] as u32;
        flow.ct_label |= (w[W_CT_LABEL] as u128) << 64 | w[W_CT_LABEL + 1] as u128;
        flow.conj_id |= (w[W_CONJ_ACTSET] >> 32) as u32;
        flow.actset_output |= w[W_CONJ_ACTSET] as u32;

        mac_or(&mut flow.dl_dst, w[W_DL_DST_TYPE] >> 16);
        flow.dl_type |= w[W_DL_DST_TYPE] as u16;
        mac_or(&mut flow.dl_src, w[W_DL_SRC] >> 16);
        let m = w[W_VLANS];
        flow.vlans[0].tpid |= (m >> 48) as u16;
        flow.vlans[0].tci |= (m >> 32) as u16;
        flow.vlans[1].tpid |= (m >> 16) as u16;
        flow.vlans[1].tci |= m as u16;
        for (i, lse) in flow
            .mpls_lse
            .iter_mut()
            .enumerate()
            .take(FLOW_MAX_MPLS_LABELS)
        {
            *lse |= (w[W_MPLS + i / 2] >> (32 - 32 * (i % 2))) as u32;
        }

        flow.nw_src |= (w[W_NW_ADDRS] >> 32) as u32;
        flow.nw_dst |= w[W_NW_ADDRS] as u32;
        flow.ct_nw_src |= (w[W_CT_NW_ADDRS] >> 32) as u32;
        flow.ct_nw_dst |= w[W_CT_NW_ADDRS] as u32;
        v6_or(&mut flow.ipv6_src, w[W_IPV6_SRC], w[W_IPV6_SRC + 1]);
        v6_or(&mut flow.ipv6_dst, w[W_IPV6_DST], w[W_IPV6_DST + 1]);
        v6_or(
            &mut flow.ct_ipv6_src,
            w[W_CT_IPV6_SRC],
            w[W_CT_IPV6_SRC + 1],
        );
        v6_or(
            &mut flow.ct_ipv6_dst,
            w[W_CT_IPV6_DST],
            w[W_CT_IPV6_DST + 1],
        );
        let m = w[W_NW_MISC];
        flow.ipv6_label |= (m >> 32) as u32;
        flow.nw_frag |= (m >> 24) as u8;
        flow.nw_tos |= (m >> 16) as u8;
        flow.nw_ttl |= (m >> 8) as u8;
        flow.nw_proto |= m as u8;
        v6_or(&mut flow.nd_target, w[W_ND_TARGET], w[W_ND_TARGET + 1]);
        mac_or(&mut flow.arp_sha, w[W_ARP_SHA] >> 16);
        flow.tcp_flags |= w[W_ARP_SHA] as u16;
        mac_or(&mut flow.arp_tha, w[W_ARP_THA] >> 16);
        flow.nd_options_type |= (w[W_ARP_THA] >> 8) as u8;
        let m = w[W_NSH];
        let n = &mut flow.nsh;
        n.flags |= (m >> 56) as u8;
        n.ttl |= (m >> 48) as u8;
        n.mdtype |= (m >> 40) as u8;
        n.np |= (m >> 32) as u8;
        n.path_hdr |= m as u32;
        n.context[0] |= (w[W_NSH_CTX] >> 32) as u32;
        n.context[1] |= w[W_NSH_CTX] as u32;
        n.context[2] |= (w[W_NSH_CTX + 1] >> 32) as u32;
        n.context[3] |= w[W_NSH_CTX + 1] as u32;

        let m = w[W_PORTS];
        flow.tp_src |= (m >> 48) as u16;
        flow.tp_dst |= (m >> 32) as u16;
        flow.ct_tp_src |= (m >> 16) as u16;
        flow.ct_tp_dst |= m as u16;
        flow.nd_reserved |= (w[W_ND_RESERVED] >> 32) as u32;
    }

    /// Unpacks into a fresh flow (zero tunnel metadata layout).
    pub fn to_flow(&self) -> Flow {
        let mut f = Flow::default();
        self.or_into_flow(&mut f);
        f
    }

    /// Word-wise AND.
    pub fn and(&self, other: &FlowWords) -> FlowWords {
        let mut r = *self;
        for (a, b) in r.0.iter_mut().zip(other.0.iter()) {
            *a &= b;
        }
        r
    }

    /// Word-wise OR into `self`.
    pub fn or_assign(&mut self, other: &FlowWords) {
        for (a, b) in self.0.iter_mut().zip(other.0.iter()) {
            *a |= b;
        }
    }

    /// True if every word is zero.
    pub fn is_zero(&self) -> bool {
        self.0.iter().all(|&w| w == 0)
    }

    /// The `dl_type` (Ethernet type) of a packed flow.
    pub fn dl_type(&self) -> u16 {
        self.0[W_DL_DST_TYPE] as u16
    }

    /// The 32 bits `tp_src:tp_dst` (the ports-trie key).
    pub fn ports(&self) -> u32 {
        (self.0[W_PORTS] >> 32) as u32
    }

    /// Replaces the `tp_src:tp_dst` bits.
    pub fn set_ports(&mut self, ports: u32) {
        let w = &mut self.0[W_PORTS];
        *w = (*w & 0xffff_ffff) | (ports as u64) << 32;
    }

    /// Replaces the `conj_id` bits.
    pub fn set_conj_id(&mut self, id: u32) {
        let w = &mut self.0[W_CONJ_ACTSET];
        *w = (*w & 0xffff_ffff) | (id as u64) << 32;
    }

    /// The `conj_id` bits.
    pub fn conj_id(&self) -> u32 {
        (self.0[W_CONJ_ACTSET] >> 32) as u32
    }
}

/// The 32 bits `tp_src:tp_dst` of packed words.
pub fn ports_of(w: &[u64; N_WORDS]) -> u32 {
    (w[W_PORTS] >> 32) as u32
}

/// Replaces the `tp_src:tp_dst` bits of packed words.
pub fn set_ports_of(w: &mut [u64; N_WORDS], ports: u32) {
    let x = &mut w[W_PORTS];
    *x = (*x & 0xffff_ffff) | (ports as u64) << 32;
}

/// The `dl_type` of packed words.
pub fn dl_type_of(w: &[u64; N_WORDS]) -> u16 {
    w[W_DL_DST_TYPE] as u16
}

/// The `conj_id` of packed words.
pub fn conj_id_of(w: &[u64; N_WORDS]) -> u32 {
    (w[W_CONJ_ACTSET] >> 32) as u32
}

/// Replaces the `conj_id` bits of packed words.
pub fn set_conj_id_of(w: &mut [u64; N_WORDS], id: u32) {
    let x = &mut w[W_CONJ_ACTSET];
    *x = (*x & 0xffff_ffff) | (id as u64) << 32;
}

/// Where a prefix-capable field lives in a packed flow: `width` bits starting
/// `offset` bits from the most significant bit of word 0.  Every such field
/// lies within two consecutive words.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BitField {
    pub offset: usize,
    pub width: u32,
}

impl BitField {
    pub const TUN_DST: BitField = BitField::at(W_TUN_IP4, 0, 32);
    pub const TUN_SRC: BitField = BitField::at(W_TUN_IP4, 32, 32);
    pub const TUN_IPV6_DST: BitField = BitField::at(W_TUN_IPV6_DST, 0, 128);
    pub const TUN_IPV6_SRC: BitField = BitField::at(W_TUN_IPV6_SRC, 0, 128);
    pub const TUN_ID: BitField = BitField::at(W_TUN_ID, 0, 64);
    pub const NW_SRC: BitField = BitField::at(W_NW_ADDRS, 0, 32);
    pub const NW_DST: BitField = BitField::at(W_NW_ADDRS, 32, 32);
    pub const IPV6_SRC: BitField = BitField::at(W_IPV6_SRC, 0, 128);
    pub const IPV6_DST: BitField = BitField::at(W_IPV6_DST, 0, 128);

    const fn at(word: usize, bit: usize, width: u32) -> BitField {
        BitField {
            offset: word * 64 + bit,
            width,
        }
    }

    /// The stage the field belongs to.
    pub fn stage(&self) -> usize {
        stage_of(self.offset / 64)
    }

    /// Mask of the top `n` bits of a left-aligned 128-bit value.
    pub fn top_bits(n: u32) -> u128 {
        if n == 0 {
            0
        } else {
            !0u128 << (128 - n.min(128))
        }
    }

    /// The field's value in `w`, left-aligned (its first bit is bit 127).
    pub fn read(&self, w: &[u64; N_WORDS]) -> u128 {
        let i = self.offset / 64;
        let sh = (self.offset % 64) as u32;
        let hi = w[i] as u128;
        let lo = w.get(i + 1).copied().unwrap_or(0) as u128;
        let x = (hi << 64 | lo) << sh;
        x & Self::top_bits(self.width)
    }

    /// ORs the left-aligned `bits` (only the field's width is used) into `w`.
    pub fn or_bits(&self, w: &mut [u64; N_WORDS], bits: u128) {
        let i = self.offset / 64;
        let sh = (self.offset % 64) as u32;
        let x = (bits & Self::top_bits(self.width)) >> sh;
        w[i] |= (x >> 64) as u64;
        if let Some(lo) = w.get_mut(i + 1) {
            *lo |= x as u64;
        }
    }

    /// Sets the first `n` bits of the field in `w`.
    pub fn set_prefix(&self, w: &mut [u64; N_WORDS], n: u32) {
        self.or_bits(w, Self::top_bits(n.min(self.width)));
    }

    /// True if the first `n` bits of the field are all set in `w`.
    pub fn prefix_is_set(&self, w: &[u64; N_WORDS], n: u32) -> bool {
        let want = Self::top_bits(n.min(self.width));
        self.read(w) & want == want
    }

    /// The CIDR prefix length of a mask over this field, or 0 if the mask
    /// is empty or not a contiguous prefix.
    pub fn prefix_len(&self, mask: &[u64; N_WORDS]) -> u32 {
        let m = self.read(mask);
        let n = m.leading_ones();
        if m == Self::top_bits(n) {
            n
        } else {
            0
        }
    }
}

#[cfg(test)]
#[allow(clippy::field_reassign_with_default)]
mod tests {
    use super::*;
    use rand::{Rng, RngCore, SeedableRng};

    fn random_flow(rng: &mut rand::rngs::StdRng) -> Flow {
        let mut f = Flow::default();
        let t = &mut f.tunnel;
        t.ip_dst = rng.gen();
        t.ip_src = rng.gen();
        rng.fill_bytes(&mut t.ipv6_dst);
        rng.fill_bytes(&mut t.ipv6_src);
        t.tun_id = rng.gen();
        t.flags = rng.gen();
        t.ip_tos = rng.gen();
        t.ip_ttl = rng.gen();
        t.tp_src = rng.gen();
        t.tp_dst = rng.gen();
        t.gbp_id = rng.gen();
        t.gbp_flags = rng.gen();
        t.erspan_ver = rng.gen();
        t.erspan_idx = rng.gen();
        t.erspan_dir = rng.gen();
        t.erspan_hwid = rng.gen();
        t.gtpu_flags = rng.gen();
        t.gtpu_msgtype = rng.gen();
        t.metadata.present = rng.gen();
        rng.fill_bytes(&mut t.metadata.opts);
        f.metadata = rng.gen();
        rng.fill(&mut f.regs[..]);
        f.skb_priority = rng.gen();
        f.pkt_mark = rng.gen();
        f.dp_hash = rng.gen();
        f.in_port = rng.gen();
        f.recirc_id = rng.gen();
        f.ct_state = rng.gen();
        f.ct_nw_proto = rng.gen();
        f.ct_zone = rng.gen();
        f.ct_mark = rng.gen();
        f.packet_type = rng.gen();
        f.ct_label = rng.gen();
        f.conj_id = rng.gen();
        f.actset_output = rng.gen();
        rng.fill_bytes(&mut f.dl_dst);
        rng.fill_bytes(&mut f.dl_src);
        f.dl_type = rng.gen();
        for v in f.vlans.iter_mut() {
            v.tpid = rng.gen();
            v.tci = rng.gen();
        }
        rng.fill(&mut f.mpls_lse[..]);
        f.nw_src = rng.gen();
        f.nw_dst = rng.gen();
        f.ct_nw_src = rng.gen();
        f.ct_nw_dst = rng.gen();
        rng.fill_bytes(&mut f.ipv6_src);
        rng.fill_bytes(&mut f.ipv6_dst);
        rng.fill_bytes(&mut f.ct_ipv6_src);
        rng.fill_bytes(&mut f.ct_ipv6_dst);
        f.ipv6_label = rng.gen();
        f.nw_frag = rng.gen();
        f.nw_tos = rng.gen();
        f.nw_ttl = rng.gen();
        f.nw_proto = rng.gen();
        rng.fill_bytes(&mut f.nd_target);
        rng.fill_bytes(&mut f.arp_sha);
        rng.fill_bytes(&mut f.arp_tha);
        f.tcp_flags = rng.gen();
        f.nd_reserved = rng.gen();
        f.nd_options_type = rng.gen();
        f.nsh.flags = rng.gen();
        f.nsh.ttl = rng.gen();
        f.nsh.mdtype = rng.gen();
        f.nsh.np = rng.gen();
        f.nsh.path_hdr = rng.gen();
        rng.fill(&mut f.nsh.context[..]);
        f.tp_src = rng.gen();
        f.tp_dst = rng.gen();
        f.ct_tp_src = rng.gen();
        f.ct_tp_dst = rng.gen();
        f
    }

    #[test]
    fn pack_unpack_round_trip() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        for _ in 0..50 {
            let f = random_flow(&mut rng);
            let w = FlowWords::from_flow(&f);
            assert_eq!(w.to_flow(), f);
        }
    }

    #[test]
    fn every_bit_has_its_own_place() {
        // An all-ones flow packs to exactly as many set bits as the flow
        // has bits: no two fields share a bit.
        let mut rng = rand::rngs::StdRng::seed_from_u64(8);
        let a = FlowWords::from_flow(&random_flow(&mut rng));
        let b = FlowWords::from_flow(&random_flow(&mut rng));
        let fa = a.to_flow();
        let fb = b.to_flow();
        assert_eq!(FlowWords::from_flow(&fa.and(&fb)), a.and(&b));
        let mut o = a;
        o.or_assign(&b);
        assert_eq!(FlowWords::from_flow(&fa.or(&fb)), o);
    }

    #[test]
    fn stages_follow_ovs_segments() {
        let mut f = Flow::default();
        f.in_port = 1;
        f.tunnel.metadata.opts[255] = 1;
        f.conj_id = 1;
        let w = FlowWords::from_flow(&f);
        assert!((0..N_WORDS)
            .filter(|&i| w.0[i] != 0)
            .all(|i| stage_of(i) == 0));
        let mut f = Flow::default();
        f.dl_type = 1;
        f.mpls_lse[2] = 1;
        let w = FlowWords::from_flow(&f);
        assert!((0..N_WORDS)
            .filter(|&i| w.0[i] != 0)
            .all(|i| stage_of(i) == 1));
        let mut f = Flow::default();
        f.nw_src = 1;
        f.tcp_flags = 1;
        f.nsh.context[3] = 1;
        let w = FlowWords::from_flow(&f);
        assert!((0..N_WORDS)
            .filter(|&i| w.0[i] != 0)
            .all(|i| stage_of(i) == 2));
        let mut f = Flow::default();
        f.tp_src = 1;
        f.nd_reserved = 1;
        let w = FlowWords::from_flow(&f);
        assert!((0..N_WORDS)
            .filter(|&i| w.0[i] != 0)
            .all(|i| stage_of(i) == 3));
    }

    #[test]
    fn bit_fields_read_addresses() {
        let mut f = Flow::default();
        f.nw_src = 0x0a01_0203;
        f.nw_dst = 0xc0a8_0001;
        f.ipv6_dst[0] = 0x20;
        f.ipv6_dst[15] = 0x01;
        f.tunnel.ip_src = 0x0102_0304;
        let w = FlowWords::from_flow(&f);
        assert_eq!(BitField::NW_SRC.read(&w.0), 0x0a01_0203u128 << 96);
        assert_eq!(BitField::NW_DST.read(&w.0), 0xc0a8_0001u128 << 96);
        assert_eq!(
            BitField::IPV6_DST.read(&w.0),
            u128::from_be_bytes(f.ipv6_dst)
        );
        assert_eq!(BitField::TUN_SRC.read(&w.0), 0x0102_0304u128 << 96);
        assert_eq!(BitField::NW_SRC.stage(), 2);
        assert_eq!(BitField::TUN_ID.stage(), 0);

        let mut m = FlowWords::default();
        BitField::NW_DST.set_prefix(&mut m.0, 24);
        assert_eq!(m.to_flow().nw_dst, 0xffff_ff00);
        assert_eq!(m.to_flow().nw_src, 0);
        assert!(BitField::NW_DST.prefix_is_set(&m.0, 24));
        assert!(!BitField::NW_DST.prefix_is_set(&m.0, 25));
        assert_eq!(BitField::NW_DST.prefix_len(&m.0), 24);
        let mut f = Flow::default();
        f.nw_dst = 0xff00_ff00;
        assert_eq!(BitField::NW_DST.prefix_len(&FlowWords::from_flow(&f).0), 0);
        BitField::IPV6_SRC.set_prefix(&mut m.0, 72);
        assert_eq!(m.to_flow().ipv6_src[8], 0xff);
        assert_eq!(m.to_flow().ipv6_src[9], 0);
        assert_eq!(BitField::IPV6_SRC.prefix_len(&m.0), 72);
    }
}
