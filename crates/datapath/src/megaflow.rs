//! The megaflow cache: installed (key, mask, actions) entries and the
//! classifier that finds the one matching a packet (upstream's dpcls).
//!
//! Megaflows never overlap in practice (translation makes each mask cover
//! exactly what it looked at), carry no priority and are looked up by exact
//! match on the masked key, so the classifier is tuple-space search in its
//! plainest form: one hash table per distinct mask ("subtable"), probed in
//! order of hits. The `classifier` crate is not used here: it is a priority
//! classifier over `Match` with versions and prefix tries, made for
//! OpenFlow tables, and its generality costs on this path.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hash, Hasher};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::Arc;

use flow::odp::actions::OdpAction;
use flow::odp::Ufid;
use packet::flow::Flow;

use crate::dpif::{DpifFlow, FlowStats};

/// A fast non-cryptographic hasher (FxHash's mixing) for flow keys.
#[derive(Default, Clone, Copy)]
pub struct FxHasher {
    hash: u64,
}

const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl FxHasher {
    /// Mixes in one word.
    #[inline]
    pub fn add(&mut self, w: u64) {
        self.hash = (self.hash.rotate_left(5) ^ w).wrapping_mul(SEED);
    }

    /// The hash of the words added ([`Hasher::finish`] without the trait).
    #[inline]
    pub fn finish_u64(&self) -> u64 {
        Hasher::finish(self)
    }
}

impl Hasher for FxHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            self.add(u64::from_le_bytes([
                c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7],
            ]));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut b = [0u8; 8];
            b[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(b));
        }
    }
    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(i as u64);
    }
    #[inline]
    fn write_u16(&mut self, i: u16) {
        self.add(i as u64);
    }
    #[inline]
    fn write_u32(&mut self, i: u32) {
        self.add(i as u64);
    }
    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }
    #[inline]
    fn write_u128(&mut self, i: u128) {
        self.add(i as u64);
        self.add((i >> 64) as u64);
    }
    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }
    #[inline]
    fn finish(&self) -> u64 {
        // Multiplication only carries entropy upwards; fold it back down
        // so that table indexes (low bits) depend on every input.
        let mut h = self.hash;
        h ^= h >> 33;
        h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
        h ^= h >> 33;
        h
    }
}

pub type FxBuild = BuildHasherDefault<FxHasher>;

/// Hash of the fields that tell most flows apart (for the EMC and the
/// `hash` action); equal flows hash equal.
#[inline]
pub fn flow_hash(f: &Flow, basis: u64) -> u64 {
    let mut h = FxHasher { hash: basis };
    h.add(((f.in_port as u64) << 32) | f.recirc_id as u64);
    h.write(&f.dl_dst);
    h.write(&f.dl_src);
    h.add(((f.dl_type as u64) << 32) | ((f.vlans[0].tci as u64) << 16) | f.nw_proto as u64);
    h.add(((f.nw_src as u64) << 32) | f.nw_dst as u64);
    h.write(&f.ipv6_src);
    h.write(&f.ipv6_dst);
    h.add(((f.tp_src as u64) << 16) | f.tp_dst as u64);
    h.finish()
}

/// One installed megaflow.
pub struct Megaflow {
    pub ufid: Ufid,
    /// Key as installed (the packet's whole flow for upcalled flows).
    pub flow: Flow,
    /// Key with the bits outside `mask` zeroed (what lookups compare).
    pub key: Flow,
    pub mask: Flow,
    pub actions: Arc<[OdpAction]>,
    pub n_packets: AtomicU64,
    pub n_bytes: AtomicU64,
    pub used: AtomicU64,
    /// When the flow was installed (datapath milliseconds; 0: unknown).
    pub created: u64,
    pub tcp_flags: AtomicU64,
    /// The key's words under the mask's nonzero words (set at insertion).
    pub key_words: Box<[u64]>,
    /// Cleared when the flow leaves the table (EMC entries then miss).
    pub alive: AtomicBool,
}

impl Megaflow {
    pub fn new(ufid: Ufid, key: &Flow, mask: &Flow, actions: Arc<[OdpAction]>) -> Megaflow {
        Megaflow {
            ufid,
            flow: *key,
            key: key.and(mask),
            mask: *mask,
            actions,
            n_packets: AtomicU64::new(0),
            n_bytes: AtomicU64::new(0),
            used: AtomicU64::new(0),
            created: 0,
            tcp_flags: AtomicU64::new(0),
            key_words: Box::new([]),
            alive: AtomicBool::new(true),
        }
    }

    pub fn actions(&self) -> Arc<[OdpAction]> {
        self.actions.clone()
    }

    /// Credits a batch of `packets` packets, `bytes` bytes at `now_ms`.
    #[inline]
    pub fn credit(&self, packets: u64, bytes: u64, tcp_flags: u16, now_ms: u64) {
        self.n_packets.fetch_add(packets, Relaxed);
        self.n_bytes.fetch_add(bytes, Relaxed);
        if self.used.load(Relaxed) < now_ms {
            self.used.store(now_ms, Relaxed);
        }
        if tcp_flags != 0 {
            self.tcp_flags.fetch_or(tcp_flags as u64, Relaxed);
        }
    }

    pub fn stats(&self) -> FlowStats {
        FlowStats {
            n_packets: self.n_packets.load(Relaxed),
            n_bytes: self.n_bytes.load(Relaxed),
            used: self.used.load(Relaxed),
            tcp_flags: self.tcp_flags.load(Relaxed) as u16,
        }
    }

    pub fn to_dpif(&self) -> DpifFlow {
        DpifFlow {
            ufid: self.ufid,
            key: self.flow,
            mask: self.mask,
            actions: self.actions(),
            stats: self.stats(),
        }
    }
}

/// 64-bit words a flow key packs into for classification.
pub const FLOW_WORDS: usize = 86;

/// A flow key packed by [`flow_words`].
pub type FlowWords = [u64; FLOW_WORDS];

/// The word of [`flow_words`] holding the tunnel options' present bits.
pub const W_TUN_PRESENT: usize = 9;

/// The words of [`flow_words`] holding the tunnel options (all zero when
/// [`W_TUN_PRESENT`] is).
pub const W_TUN_OPTS: std::ops::Range<usize> = 10..42;

/// The words [`pack_received_words`] writes: every other word of a
/// received packet's key is zero.
pub const W_FRAME: std::ops::Range<usize> = 52..83;

/// Words of [`flow_words`] that tell most packets apart (tunnel addresses
/// and key, in_port, recirculation, Ethernet addresses and type, VLAN,
/// IPv4 and IPv6 addresses, protocol, ports): what the exact-match cache
/// hashes.
pub const W_DISTINCT: [usize; 14] = [0, 5, 52, 53, 58, 59, 60, 63, 65, 66, 67, 68, 73, 82];

#[inline]
fn w16(b: &[u8; 16], half: usize) -> u64 {
    let mut x = [0u8; 8];
    x.copy_from_slice(&b[half * 8..half * 8 + 8]);
    u64::from_ne_bytes(x)
}

#[inline]
fn w6(b: &[u8; 6], extra: u16) -> u64 {
    let mut x = [0u8; 8];
    x[..6].copy_from_slice(b);
    x[6..].copy_from_slice(&extra.to_le_bytes());
    u64::from_le_bytes(x)
}

/// Packs every field of `f` into words (upstream's miniflow idea): masks
/// and keys compare and hash word by word, touching only the words a
/// mask covers.
#[inline]
pub fn flow_words(f: &Flow) -> FlowWords {
    let mut w = [0u64; FLOW_WORDS];
    pack_metadata_words(f, &mut w);
    pack_frame_words(f, &mut w);
    w
}

/// [`flow_words`] into `w` for a key parsed from a received frame whose
/// only metadata is its input port (and packet type), as the forwarding
/// threads' receive path parses it. The words that only metadata fills
/// (tunnel, metadata and registers, marks, recirculation and conntrack
/// state, the conntrack original tuple) are zero for such a key, so they
/// are neither read nor written: `w` must already hold zero there — a
/// buffer zeroed once and written only by this function, reused packet
/// after packet (no clearing, no copy: less than half the work of
/// [`flow_words`]).
#[inline]
pub fn pack_received_words(f: &Flow, w: &mut FlowWords) {
    pack_frame_words(f, w);
    debug_assert!(*w == flow_words(f), "a received flow carries metadata");
}

/// The words of fields that only metadata fills (zero in a flow parsed
/// from a received frame).
#[inline(always)]
fn pack_metadata_words(f: &Flow, w: &mut FlowWords) {
    let t = &f.tunnel;
    w[0] = (t.ip_dst as u64) << 32 | t.ip_src as u64;
    w[1] = w16(&t.ipv6_dst, 0);
    w[2] = w16(&t.ipv6_dst, 1);
    w[3] = w16(&t.ipv6_src, 0);
    w[4] = w16(&t.ipv6_src, 1);
    w[5] = t.tun_id;
    w[6] = (t.flags as u64) << 48
        | (t.ip_tos as u64) << 40
        | (t.ip_ttl as u64) << 32
        | (t.tp_src as u64) << 16
        | t.tp_dst as u64;
    w[7] = (t.gbp_id as u64) << 48
        | (t.gbp_flags as u64) << 40
        | (t.erspan_ver as u64) << 32
        | (t.erspan_dir as u64) << 24
        | (t.erspan_hwid as u64) << 16
        | (t.gtpu_flags as u64) << 8
        | t.gtpu_msgtype as u64;
    w[8] = t.erspan_idx as u64;
    w[W_TUN_PRESENT] = t.metadata.present;
    if t.metadata.present != 0 {
        for (i, word) in w[W_TUN_OPTS].iter_mut().enumerate() {
            let mut x = [0u8; 8];
            x.copy_from_slice(&t.metadata.opts[i * 8..i * 8 + 8]);
            *word = u64::from_ne_bytes(x);
        }
    }
    w[42] = f.metadata;
    for i in 0..8 {
        w[43 + i] = (f.regs[2 * i] as u64) << 32 | f.regs[2 * i + 1] as u64;
    }
    w[51] = (f.skb_priority as u64) << 32 | f.pkt_mark as u64;
    w[53] = (f.recirc_id as u64) << 32
        | (f.ct_state as u64) << 24
        | (f.ct_nw_proto as u64) << 16
        | f.ct_zone as u64;
    w[55] = f.ct_label as u64;
    w[56] = (f.ct_label >> 64) as u64;
    w[57] = (f.conj_id as u64) << 32 | f.actset_output as u64;
    w[64] = (f.ct_nw_src as u64) << 32 | f.ct_nw_dst as u64;
    w[69] = w16(&f.ct_ipv6_src, 0);
    w[70] = w16(&f.ct_ipv6_src, 1);
    w[71] = w16(&f.ct_ipv6_dst, 0);
    w[72] = w16(&f.ct_ipv6_dst, 1);
}

/// The words of the fields parsing a frame fills, with the input port and
/// packet type (and the metadata fields that share their words).
#[inline(always)]
fn pack_frame_words(f: &Flow, w: &mut FlowWords) {
    w[52] = (f.dp_hash as u64) << 32 | f.in_port as u64;
    w[54] = (f.ct_mark as u64) << 32 | f.packet_type as u64;
    w[58] = w6(&f.dl_dst, f.dl_type);
    w[59] = w6(&f.dl_src, 0);
    w[60] = (f.vlans[0].tpid as u64) << 48
        | (f.vlans[0].tci as u64) << 32
        | (f.vlans[1].tpid as u64) << 16
        | f.vlans[1].tci as u64;
    w[61] = (f.mpls_lse[0] as u64) << 32 | f.mpls_lse[1] as u64;
    w[62] = f.mpls_lse[2] as u64;
    w[63] = (f.nw_src as u64) << 32 | f.nw_dst as u64;
    w[65] = w16(&f.ipv6_src, 0);
    w[66] = w16(&f.ipv6_src, 1);
    w[67] = w16(&f.ipv6_dst, 0);
    w[68] = w16(&f.ipv6_dst, 1);
    w[73] = (f.ipv6_label as u64) << 32
        | (f.nw_frag as u64) << 24
        | (f.nw_tos as u64) << 16
        | (f.nw_ttl as u64) << 8
        | f.nw_proto as u64;
    w[74] = w16(&f.nd_target, 0);
    w[75] = w16(&f.nd_target, 1);
    w[76] = w6(&f.arp_sha, f.tcp_flags);
    w[77] = w6(&f.arp_tha, f.nd_options_type as u16);
    w[78] = f.nd_reserved as u64;
    let n = &f.nsh;
    w[79] = (n.flags as u64) << 56
        | (n.ttl as u64) << 48
        | (n.mdtype as u64) << 40
        | (n.np as u64) << 32
        | n.path_hdr as u64;
    w[80] = (n.context[0] as u64) << 32 | n.context[1] as u64;
    w[81] = (n.context[2] as u64) << 32 | n.context[3] as u64;
    w[82] = (f.tp_src as u64) << 48
        | (f.tp_dst as u64) << 32
        | (f.ct_tp_src as u64) << 16
        | f.ct_tp_dst as u64;
    // The tunnel metadata layout (which slot sits where) is not matched.
}

/// Flows sharing one mask: the mask's nonzero words, and the flows by the
/// hash of their masked words.
struct Subtable {
    mask: Flow,
    words: Vec<(usize, u64)>,
    flows: HashMap<u64, Vec<Arc<Megaflow>>, FxBuild>,
}

impl Subtable {
    fn new(mask: &Flow) -> Subtable {
        let mw = flow_words(mask);
        Subtable {
            mask: *mask,
            words: mw
                .iter()
                .enumerate()
                .filter(|(_, m)| **m != 0)
                .map(|(i, m)| (i, *m))
                .collect(),
            flows: HashMap::default(),
        }
    }

    /// The masked words of `w` and their hash.
    #[inline]
    fn masked(&self, w: &[u64; FLOW_WORDS]) -> (u64, Vec<u64>) {
        let mut h = FxHasher::default();
        let mut v = Vec::with_capacity(self.words.len());
        for (i, m) in &self.words {
            let x = w[*i] & m;
            h.add(x);
            v.push(x);
        }
        (h.finish(), v)
    }

    #[inline]
    fn find(&self, w: &[u64; FLOW_WORDS]) -> Option<&Arc<Megaflow>> {
        let mut h = FxHasher::default();
        for (i, m) in &self.words {
            h.add(w[*i] & m);
        }
        let cands = self.flows.get(&h.finish())?;
        cands.iter().find(|c| {
            c.key_words
                .iter()
                .zip(self.words.iter())
                .all(|(k, (i, m))| *k == w[*i] & m)
        })
    }
}

/// The megaflow classifier.
#[derive(Default)]
pub struct FlowTable {
    subtables: Vec<Subtable>,
    by_ufid: HashMap<Ufid, Arc<Megaflow>>,
}

impl FlowTable {
    pub fn len(&self) -> usize {
        self.by_ufid.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_ufid.is_empty()
    }

    /// The megaflow matching `flow`, and how many subtables were probed.
    #[inline]
    pub fn lookup(&self, flow: &Flow) -> (Option<&Arc<Megaflow>>, usize) {
        if self.subtables.is_empty() {
            return (None, 0);
        }
        self.lookup_words(&flow_words(flow))
    }

    /// [`FlowTable::lookup`] of a key already packed by [`flow_words`].
    #[inline]
    pub fn lookup_words(&self, w: &FlowWords) -> (Option<&Arc<Megaflow>>, usize) {
        for (i, st) in self.subtables.iter().enumerate() {
            if let Some(m) = st.find(w) {
                return (Some(m), i + 1);
            }
        }
        (None, self.subtables.len())
    }

    /// The flow with exactly this key under this mask.
    pub fn find_exact(&self, key: &Flow, mask: &Flow) -> Option<&Arc<Megaflow>> {
        let st = self.subtables.iter().find(|s| s.mask == *mask)?;
        st.find(&flow_words(key))
    }

    pub fn find_ufid(&self, ufid: &Ufid) -> Option<&Arc<Megaflow>> {
        self.by_ufid.get(ufid)
    }

    /// Inserts `mf`; false if a flow with the same key and mask (or ufid)
    /// exists.
    pub fn insert(&mut self, mf: Megaflow) -> bool {
        if self.by_ufid.contains_key(&mf.ufid) {
            return false;
        }
        let idx = match self.subtables.iter().position(|s| s.mask == mf.mask) {
            Some(i) => i,
            None => {
                self.subtables.push(Subtable::new(&mf.mask));
                self.subtables.len() - 1
            }
        };
        let st = &mut self.subtables[idx];
        let w = flow_words(&mf.key);
        if st.find(&w).is_some() {
            if st.flows.is_empty() {
                self.subtables.remove(idx);
            }
            return false;
        }
        let (h, kw) = st.masked(&w);
        let mut mf = mf;
        mf.key_words = kw.into_boxed_slice();
        let mf = Arc::new(mf);
        st.flows.entry(h).or_default().push(mf.clone());
        self.by_ufid.insert(mf.ufid, mf);
        true
    }

    /// Removes the flow with `ufid`.
    pub fn remove(&mut self, ufid: &Ufid) -> Option<Arc<Megaflow>> {
        let mf = self.by_ufid.remove(ufid)?;
        mf.alive.store(false, Relaxed);
        if let Some(i) = self.subtables.iter().position(|s| s.mask == mf.mask) {
            let st = &mut self.subtables[i];
            let (h, _) = st.masked(&flow_words(&mf.key));
            if let Some(v) = st.flows.get_mut(&h) {
                v.retain(|c| c.ufid != *ufid);
                if v.is_empty() {
                    st.flows.remove(&h);
                }
            }
            if st.flows.is_empty() {
                self.subtables.remove(i);
            }
        }
        Some(mf)
    }

    /// Removes everything.
    pub fn clear(&mut self) {
        for mf in self.by_ufid.values() {
            mf.alive.store(false, Relaxed);
        }
        self.subtables.clear();
        self.by_ufid.clear();
    }

    /// Removes flows neither hit nor installed in the last `max_idle` ms;
    /// returns how many went.
    pub fn expire(&mut self, now: u64, max_idle: u64) -> usize {
        let old = self.idle_flows(now, max_idle);
        self.remove_idle(&old, now, max_idle)
    }

    /// The flows [`FlowTable::expire`] would remove (a read-only scan, so
    /// that the table's writers hold it only for the removals).
    pub fn idle_flows(&self, now: u64, max_idle: u64) -> Vec<Ufid> {
        self.by_ufid
            .values()
            .filter(|m| is_idle(m, now, max_idle))
            .map(|m| m.ufid)
            .collect()
    }

    /// Removes those of `ufids` that are still idle (a flow hit since the
    /// scan stays); returns how many went.
    pub fn remove_idle(&mut self, ufids: &[Ufid], now: u64, max_idle: u64) -> usize {
        let mut n = 0;
        for u in ufids {
            if self
                .by_ufid
                .get(u)
                .is_some_and(|m| is_idle(m, now, max_idle))
            {
                self.remove(u);
                n += 1;
            }
        }
        n
    }

    /// Every flow, in installation-independent order (by ufid).
    pub fn flows(&self) -> Vec<Arc<Megaflow>> {
        let mut v: Vec<Arc<Megaflow>> = self.by_ufid.values().cloned().collect();
        v.sort_by_key(|m| m.ufid);
        v
    }
}

/// Whether `m` was neither hit nor installed in the last `max_idle` ms.
fn is_idle(m: &Megaflow, now: u64, max_idle: u64) -> bool {
    let last = m.used.load(Relaxed).max(m.created);
    last.saturating_add(max_idle) < now
}

/// A ufid for a new flow: a keyed hash of key and mask, shaped as a UUID
/// version 4 as upstream's are.
pub fn make_ufid(key: &Flow, mask: &Flow, secret: u64) -> Ufid {
    let mut a = FxHasher { hash: secret };
    key.hash(&mut a);
    mask.hash(&mut a);
    let h1 = a.finish();
    let mut b = FxHasher {
        hash: secret ^ 0x9e37_79b9_7f4a_7c15,
    };
    b.add(h1);
    mask.hash(&mut b);
    key.hash(&mut b);
    let h2 = b.finish();
    let mut v = ((h1 as u128) << 64) | h2 as u128;
    // Version 4, variant 10xx.
    v &= !(0xf_u128 << 76);
    v |= 0x4_u128 << 76;
    v &= !(0x3_u128 << 62);
    v |= 0x2_u128 << 62;
    Ufid(v)
}

#[cfg(test)]
#[allow(clippy::field_reassign_with_default)]
mod tests {
    use super::*;

    /// Frames of every kind the parser knows (and garbage behind their
    /// EtherTypes), parsed as the receive path parses them, packed one
    /// after the other into one buffer: the same words as the full packing.
    #[test]
    fn received_words_are_the_full_words() {
        use packet::extract::{extract_with, ExtractOptions, Metadata};
        let mut rng = testkit::Rng(0x5eed);
        let types: [u16; 12] = [
            0x0800, 0x86dd, 0x0806, 0x8035, 0x8100, 0x88a8, 0x8847, 0x8848, 0x894f, 0x0000, 0x05ff,
            0x1234,
        ];
        let protos = [1u8, 6, 17, 58, 132, 47, 0, 44, 255];
        // One buffer for every frame, as the receive path uses it.
        let mut w = [0u64; FLOW_WORDS];
        for i in 0..20_000u32 {
            let len = 14 + (rng.next() % 180) as usize;
            let mut frame: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
            let t = types[i as usize % types.len()];
            frame[12..14].copy_from_slice(&t.to_be_bytes());
            // Often a plausible IPv4 or IPv6 header, so the upper layers
            // get parsed too.
            if len >= 58 && i % 3 != 0 {
                let proto = protos[(i / 3) as usize % protos.len()];
                if t == 0x0800 {
                    frame[14] = 0x45;
                    frame[16..18].copy_from_slice(&((len - 14) as u16).to_be_bytes());
                    frame[20..22].copy_from_slice(&[0, 0]);
                    frame[23] = proto;
                } else if t == 0x86dd {
                    frame[14] = 0x60;
                    frame[18..20].copy_from_slice(&((len - 54) as u16).to_be_bytes());
                    frame[20] = proto;
                    frame[21] = 255;
                    if proto == 58 {
                        // Router/neighbor solicitations and advertisements.
                        frame[54] = 133 + (i / 7 % 5) as u8;
                        frame[55] = 0;
                    }
                } else if t == 0x0806 || t == 0x8035 {
                    frame[14..22].copy_from_slice(&[0, 1, 8, 0, 6, 4, 0, (i % 3) as u8]);
                }
            }
            let md = Metadata {
                in_port: 1 + i % 5,
                ..Default::default()
            };
            let (f, _) = extract_with(&frame, &md, &ExtractOptions::default());
            pack_received_words(&f, &mut w);
            assert!(w[..W_FRAME.start].iter().all(|&x| x == 0));
            assert!(w[W_FRAME.end..].iter().all(|&x| x == 0));
            assert_eq!(w, flow_words(&f), "frame {i}: {}", testkit::hex(&frame));
        }
    }

    fn flow(port: u32, dst: u32) -> Flow {
        let mut f = Flow::default();
        f.in_port = port;
        f.dl_type = 0x0800;
        f.nw_dst = dst;
        f
    }

    #[test]
    fn lookup_by_mask() {
        let mut t = FlowTable::default();
        let mut m = Flow::default();
        m.in_port = u32::MAX;
        m.nw_dst = 0xffff_ff00;
        let mk = || {
            Megaflow::new(
                make_ufid(&flow(1, 0x0a000001), &m, 1),
                &flow(1, 0x0a000001),
                &m,
                Arc::from(vec![OdpAction::Output(2)]),
            )
        };
        assert!(t.insert(mk()));
        assert!(!t.insert(mk()), "duplicate");
        let mut other = mk();
        other.ufid = Ufid(5);
        assert!(!t.insert(other), "same key and mask");
        let mf = t.find_ufid(&mk().ufid).unwrap().clone();
        assert!(t.lookup(&flow(1, 0x0a0000fe)).0.is_some());
        assert!(t.lookup(&flow(1, 0x0a0001fe)).0.is_none());
        assert!(t.lookup(&flow(2, 0x0a000001)).0.is_none());
        assert_eq!(t.len(), 1);
        let u = mf.ufid;
        assert!(t.remove(&u).is_some());
        assert!(!mf.alive.load(Relaxed));
        assert!(t.lookup(&flow(1, 0x0a0000fe)).0.is_none());
    }

    #[test]
    fn idle_flows_go_unless_hit_since_the_scan() {
        let mut t = FlowTable::default();
        let mut m = Flow::default();
        m.in_port = u32::MAX;
        m.nw_dst = u32::MAX;
        for (dst, created) in [(1, 100), (2, 100), (3, 900)] {
            let f = flow(1, dst);
            let mut mf = Megaflow::new(make_ufid(&f, &m, 1), &f, &m, Arc::from(vec![]));
            mf.created = created;
            assert!(t.insert(mf));
        }
        let old = t.idle_flows(1000, 500);
        assert_eq!(old.len(), 2);
        // One of them carries a packet before the removals.
        let hit = t.lookup(&flow(1, 2)).0.unwrap().clone();
        hit.credit(1, 60, 0, 950);
        assert_eq!(t.remove_idle(&old, 1000, 500), 1);
        assert_eq!(t.len(), 2);
        assert!(t.lookup(&flow(1, 1)).0.is_none());
        assert!(t.lookup(&flow(1, 2)).0.is_some());
        assert_eq!(t.expire(2000, 500), 2);
        assert!(t.is_empty());
    }

    #[test]
    fn ufid_is_uuid_v4() {
        let u = make_ufid(&flow(1, 2), &Flow::default(), 7);
        let s = u.to_string();
        assert_eq!(&s[19..20], "4", "{s}");
        assert!("89ab".contains(&s[24..25]), "{s}");
        assert_ne!(u, make_ufid(&flow(1, 3), &Flow::default(), 7));
    }
}
