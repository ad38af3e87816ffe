//! The action executor: runs a list of [`OdpAction`]s on one packet.
//!
//! The executor changes the frame in place (set and masked set of every
//! header field, keeping checksums right incrementally; VLAN, MPLS and
//! Ethernet push/pop) and keeps the packet's flow key in step, so later
//! actions see the rewritten fields. Everything that leaves the packet's
//! hands goes through [`ExecEnv`]: output to a port, recirculation, upcalls
//! for `userspace(...)`, meters, drops. An `output` that is the last action
//! hands the packet itself over; earlier outputs, `clone` and `sample` work
//! on copies.
//!
//! Offloads: a packet with a partial checksum or a super-frame keeps them
//! through rewrites (a super-frame's pseudo-header sum is adjusted for
//! address changes and left alone for port changes; a plain partial
//! checksum is completed in software before a rewrite that touches it).
//! The egress completes whatever it cannot take.
//!
//! Not executed here (dropped and counted as [`DropReason::Unsupported`]):
//! conntrack (`ct`), tunnel push/pop, NSH push/pop, `lb_output`, `nd_ext`
//! and `nsh` sets. Each has its arm in [`execute`], the place to add it.

use flow::odp::actions::set::SetKey;
use flow::odp::actions::userspace::Userspace;
use flow::odp::actions::OdpAction;
use packet::buffer::{Offload, Packet};
use packet::extract::{
    extract_into, extract_into_fresh, extract_with, ExtractOptions, Layers, Metadata,
};
use packet::flow::Flow;
use packet::rewrite;

use crate::dpif::DropReason;
use crate::megaflow::flow_hash;

/// Deepest nesting of `clone`/`sample`/`check_pkt_len` executed.
pub const MAX_NESTING: usize = 16;

/// What the executor needs from the thread that runs it.
pub trait ExecEnv {
    /// Sends `pkt` out of datapath port `port` (unknown ports drop).
    fn output(&mut self, port: u32, pkt: Packet);
    /// A fresh buffer for a copy (None: out of buffers).
    fn alloc(&mut self) -> Option<Packet>;
    /// Gives a buffer back.
    fn free(&mut self, pkt: Packet);
    /// Re-enters the datapath with `flow`'s metadata (`recirc_id` set).
    fn recirculate(&mut self, pkt: Packet, flow: &Flow);
    /// Queues an upcall of kind `Action` for `userspace(...)`.
    fn userspace(&mut self, pkt: &Packet, flow: &Flow, action: &Userspace);
    /// Whether meter `id` lets `len` bytes through now.
    fn meter(&mut self, id: u32, len: usize) -> bool;
    /// Counts a drop and frees the packet.
    fn drop_packet(&mut self, pkt: Packet, reason: DropReason);
    /// A pseudo-random number for `sample`.
    fn random(&mut self) -> u32;
    /// Completes the offloads of `pkt` in software: its segments (for a
    /// super-frame) or itself with a full checksum.
    fn segment(&mut self, pkt: Packet) -> Vec<Packet>;
    /// The tunnel protocol of vport `port`, if it is one.
    fn tunnel_kind(&mut self, port: u32) -> Option<packet::tunnel::TunnelKind>;
}

/// A packet in flight with its key and layer offsets.
pub struct InFlight {
    pub pkt: Packet,
    pub flow: Flow,
    pub layers: Layers,
    /// `trunc(len)` pending for the next output.
    pub trunc: Option<u32>,
}

/// The metadata part of `flow`, for re-extraction.
pub fn metadata_of(flow: &Flow) -> Metadata {
    Metadata {
        tunnel: flow.tunnel,
        in_port: flow.in_port,
        skb_priority: flow.skb_priority,
        pkt_mark: flow.pkt_mark,
        dp_hash: flow.dp_hash,
        recirc_id: flow.recirc_id,
        ct_state: flow.ct_state,
        ct_zone: flow.ct_zone,
        ct_mark: flow.ct_mark,
        ct_label: flow.ct_label,
        ct_orig_tuple: None,
        packet_type: flow.packet_type,
    }
}

impl InFlight {
    /// Extracts the key of `pkt` with metadata `md`.
    pub fn new(pkt: Packet, md: &Metadata) -> InFlight {
        let (flow, layers) = extract_with(pkt.data(), md, &ExtractOptions::default());
        InFlight {
            pkt,
            flow,
            layers,
            trunc: None,
        }
    }

    /// [`InFlight::new`] built in `slot` (whatever it held is dropped), so
    /// that the key is not moved again on its way to the executor.
    #[inline(always)]
    pub fn new_in<'a>(
        slot: &'a mut Option<InFlight>,
        pkt: Packet,
        md: &Metadata,
    ) -> &'a mut InFlight {
        let opts = ExtractOptions::default();
        match slot {
            Some(f) => {
                f.pkt = pkt;
                f.trunc = None;
                extract_into(f.pkt.data(), md, &opts, &mut f.flow, &mut f.layers);
                f
            }
            None => {
                let f = slot.insert(InFlight {
                    pkt,
                    flow: Flow::default(),
                    layers: Layers::default(),
                    trunc: None,
                });
                extract_into_fresh(f.pkt.data(), md, &opts, &mut f.flow, &mut f.layers);
                f
            }
        }
    }

    /// The packet of `slot`, which is left empty, without moving the key
    /// out with it.
    #[inline]
    pub fn take_packet(slot: &mut Option<InFlight>) -> Option<Packet> {
        let f = slot.as_mut()?;
        let pkt = std::mem::replace(&mut f.pkt, Packet::new(0, 0));
        *slot = None;
        Some(pkt)
    }

    /// Parses the frame again after a structural change, keeping metadata.
    fn reparse(&mut self) {
        let md = metadata_of(&self.flow);
        let (flow, layers) = extract_with(self.pkt.data(), &md, &ExtractOptions::default());
        let keep = self.flow;
        self.flow = flow;
        self.flow.ct_nw_proto = keep.ct_nw_proto;
        self.layers = layers;
    }
}

/// Copies the frame and metadata of `pkt` into a buffer from `env`.
fn copy_packet(env: &mut dyn ExecEnv, pkt: &Packet) -> Option<Packet> {
    let mut c = env.alloc()?;
    if c.copy_from(pkt.data()).is_err() {
        env.free(c);
        return None;
    }
    c.meta = pkt.meta;
    Some(c)
}

/// Runs `actions` on `f`. The packet ends up output, recirculated or freed.
pub fn execute(env: &mut dyn ExecEnv, f: InFlight, actions: &[OdpAction]) {
    let mut slot = Some(f);
    execute_slot(env, &mut slot, actions);
}

/// [`execute`] on the packet held in `slot`, which is left empty: the
/// forwarding threads keep the packet in one place (a key is a few
/// hundred bytes, better not moved per packet).
pub fn execute_slot(env: &mut dyn ExecEnv, slot: &mut Option<InFlight>, actions: &[OdpAction]) {
    run(env, slot, actions, true, 0);
    if let Some(p) = InFlight::take_packet(slot) {
        env.free(p);
    }
}

fn output(env: &mut dyn ExecEnv, slot: &mut Option<InFlight>, port: u32, last: bool) {
    let Some(f) = slot.as_mut() else { return };
    let trunc = f.trunc.take();
    let mut pkt = if last {
        match InFlight::take_packet(slot) {
            Some(p) => p,
            None => return,
        }
    } else {
        match copy_packet(env, &f.pkt) {
            Some(p) => p,
            None => {
                if let Some(p) = env.alloc() {
                    env.drop_packet(p, DropReason::NoBuffers);
                }
                return;
            }
        }
    };
    if let Some(len) = trunc {
        if (len as usize) < pkt.len() {
            pkt.truncate(len as usize);
            pkt.meta.offload = Offload::default();
        }
    }
    env.output(port, pkt);
}

/// Executes `actions`; `last` says whether the packet may be consumed by
/// the final action.
fn run(
    env: &mut dyn ExecEnv,
    slot: &mut Option<InFlight>,
    actions: &[OdpAction],
    last: bool,
    depth: usize,
) {
    let n = actions.len();
    for (i, a) in actions.iter().enumerate() {
        if slot.is_none() {
            return;
        }
        let is_last = last && i + 1 == n;
        match a {
            OdpAction::Output(port) => output(env, slot, *port, is_last),
            OdpAction::Trunc(len) => {
                if let Some(f) = slot.as_mut() {
                    f.trunc = Some(*len);
                }
            }
            OdpAction::Userspace(u) => {
                if let Some(f) = slot.as_ref() {
                    env.userspace(&f.pkt, &f.flow, u);
                }
            }
            OdpAction::Set(key) => {
                if let Some(f) = slot.as_mut() {
                    if let Err(r) = apply_set(f, key, None) {
                        drop_slot(env, slot, r);
                    }
                }
            }
            OdpAction::SetMasked { key, mask } => {
                if let Some(f) = slot.as_mut() {
                    if let Err(r) = apply_set(f, key, Some(mask)) {
                        drop_slot(env, slot, r);
                    }
                }
            }
            OdpAction::PushVlan { tpid, tci } => {
                if let Some(f) = slot.as_mut() {
                    if push_vlan(f, *tpid, *tci).is_err() {
                        drop_slot(env, slot, DropReason::NoBuffers);
                    }
                }
            }
            OdpAction::PopVlan => {
                if let Some(f) = slot.as_mut() {
                    pop_vlan(f);
                }
            }
            OdpAction::PushMpls { lse, ethertype } | OdpAction::AddMpls { lse, ethertype } => {
                if let Some(f) = slot.as_mut() {
                    if push_mpls(f, *lse, *ethertype).is_err() {
                        drop_slot(env, slot, DropReason::NoBuffers);
                    }
                }
            }
            OdpAction::PopMpls { ethertype } => {
                if let Some(f) = slot.as_mut() {
                    pop_mpls(f, *ethertype);
                }
            }
            OdpAction::PushEth { src, dst } => {
                if let Some(f) = slot.as_mut() {
                    if push_eth(f, *src, *dst).is_err() {
                        drop_slot(env, slot, DropReason::NoBuffers);
                    }
                }
            }
            OdpAction::PopEth => {
                if let Some(f) = slot.as_mut() {
                    pop_eth(f);
                }
            }
            OdpAction::Recirc(id) => {
                let flow = match slot.as_ref() {
                    Some(f) => {
                        let mut fl = f.flow;
                        fl.recirc_id = *id;
                        fl
                    }
                    None => return,
                };
                let pkt = if is_last {
                    InFlight::take_packet(slot)
                } else {
                    slot.as_ref().and_then(|f| copy_packet(env, &f.pkt))
                };
                if let Some(p) = pkt {
                    env.recirculate(p, &flow);
                }
            }
            OdpAction::Hash { alg: _, basis } => {
                if let Some(f) = slot.as_mut() {
                    let h = flow_hash(&f.flow, *basis as u64);
                    let h = (h ^ (h >> 32)) as u32;
                    f.flow.dp_hash = if h == 0 { 1 } else { h };
                }
            }
            OdpAction::Clone(sub) => {
                if depth >= MAX_NESTING {
                    drop_slot(env, slot, DropReason::RecircDepth);
                    return;
                }
                if is_last {
                    run(env, slot, sub, true, depth + 1);
                } else if let Some(c) = clone_flight(env, slot.as_ref()) {
                    let mut s2 = Some(c);
                    run(env, &mut s2, sub, true, depth + 1);
                    if let Some(f) = s2 {
                        env.free(f.pkt);
                    }
                }
            }
            OdpAction::Sample {
                probability,
                actions: sub,
            } => {
                if depth >= MAX_NESTING {
                    drop_slot(env, slot, DropReason::RecircDepth);
                    return;
                }
                if *probability == u32::MAX || env.random() < *probability {
                    if is_last {
                        run(env, slot, sub, true, depth + 1);
                    } else if let Some(c) = clone_flight(env, slot.as_ref()) {
                        let mut s2 = Some(c);
                        run(env, &mut s2, sub, true, depth + 1);
                        if let Some(f) = s2 {
                            env.free(f.pkt);
                        }
                    }
                }
            }
            OdpAction::CheckPktLen { size, gt, le } => {
                if depth >= MAX_NESTING {
                    drop_slot(env, slot, DropReason::RecircDepth);
                    return;
                }
                let len = slot.as_ref().map(|f| f.pkt.len()).unwrap_or(0);
                let sub = if len > *size as usize { gt } else { le };
                if is_last {
                    run(env, slot, sub, true, depth + 1);
                } else if let Some(c) = clone_flight(env, slot.as_ref()) {
                    let mut s2 = Some(c);
                    run(env, &mut s2, sub, true, depth + 1);
                    if let Some(f) = s2 {
                        env.free(f.pkt);
                    }
                }
            }
            OdpAction::Meter(id) => {
                let len = slot.as_ref().map(|f| f.pkt.len()).unwrap_or(0);
                if !env.meter(*id, len) {
                    drop_slot(env, slot, DropReason::Meter);
                    return;
                }
            }
            OdpAction::CtClear => {
                if let Some(f) = slot.as_mut() {
                    f.flow.ct_state = 0;
                    f.flow.ct_zone = 0;
                    f.flow.ct_mark = 0;
                    f.flow.ct_label = 0;
                    f.flow.ct_nw_proto = 0;
                }
            }
            OdpAction::Drop => {
                drop_slot(env, slot, DropReason::Actions);
                return;
            }
            OdpAction::TnlPush(t) => {
                // The outer headers go on and the packet carries on with
                // the actions that follow (as the userspace datapath
                // does); as the last action there is nothing left to do.
                if is_last {
                    drop_slot(env, slot, DropReason::Actions);
                    return;
                }
                if depth >= MAX_NESTING {
                    drop_slot(env, slot, DropReason::RecircDepth);
                    return;
                }
                if !tnl_push(env, slot, t) {
                    // Segmented: each segment ran the rest on its own.
                    let rest = &actions[i + 1..];
                    for seg in take_segments(env, slot) {
                        let mut s2 = Some(seg);
                        if push_header(env, &mut s2, t) {
                            run(env, &mut s2, rest, last, depth + 1);
                        }
                        if let Some(f) = s2 {
                            env.free(f.pkt);
                        }
                    }
                    return;
                }
            }
            OdpAction::TnlPop(port) => {
                tnl_pop(env, slot, *port, is_last);
            }
            // Conntrack, NSH and balance-tcp bonds are not executed by
            // this datapath yet.
            OdpAction::Ct(_)
            | OdpAction::PushNsh(_)
            | OdpAction::PopNsh
            | OdpAction::LbOutput(_) => {
                drop_slot(env, slot, DropReason::Unsupported);
                return;
            }
        }
    }
}

/// Takes the packet for an action that consumes it: the packet itself
/// when it is the last action, else a copy.
fn take_or_copy(
    env: &mut dyn ExecEnv,
    slot: &mut Option<InFlight>,
    last: bool,
) -> Option<(Packet, Flow)> {
    if last {
        slot.take().map(|f| (f.pkt, f.flow))
    } else {
        let f = slot.as_ref()?;
        let flow = f.flow;
        copy_packet(env, &f.pkt).map(|p| (p, flow))
    }
}

fn tunnel_header(t: &flow::odp::actions::TnlPush) -> Option<packet::tunnel::EncapHeader> {
    use flow::odp::actions::tnl_push::{
        VPORT_TYPE_ERSPAN, VPORT_TYPE_GENEVE, VPORT_TYPE_GRE, VPORT_TYPE_GTPU,
        VPORT_TYPE_IP6ERSPAN, VPORT_TYPE_IP6GRE, VPORT_TYPE_VXLAN,
    };
    use packet::tunnel::{EncapHeader, TunnelKind};
    let kind = match t.tnl_type {
        VPORT_TYPE_VXLAN => TunnelKind::Vxlan,
        VPORT_TYPE_GENEVE => TunnelKind::Geneve,
        VPORT_TYPE_GRE | VPORT_TYPE_IP6GRE => TunnelKind::Gre,
        VPORT_TYPE_ERSPAN | VPORT_TYPE_IP6ERSPAN => TunnelKind::Erspan,
        VPORT_TYPE_GTPU => TunnelKind::Gtpu,
        _ => return None,
    };
    Some(EncapHeader {
        kind,
        ipv6: t.header.get(12..14) == Some(&[0x86, 0xdd][..]),
        bytes: t.header.clone(),
    })
}

/// Pushes `t`'s outer headers onto the packet in `slot` in place; false
/// (packet untouched) when it must be segmented first.
fn tnl_push(
    env: &mut dyn ExecEnv,
    slot: &mut Option<InFlight>,
    t: &flow::odp::actions::TnlPush,
) -> bool {
    let Some(f) = slot.as_ref() else {
        return true;
    };
    let off = f.pkt.meta.offload;
    if off.is_gso() || off.needs_csum() {
        return false;
    }
    push_header(env, slot, t);
    true
}

/// Pushes the header onto the (already segmented) packet in `slot`; false
/// if it was dropped.
fn push_header(
    env: &mut dyn ExecEnv,
    slot: &mut Option<InFlight>,
    t: &flow::odp::actions::TnlPush,
) -> bool {
    let Some(h) = tunnel_header(t) else {
        drop_slot(env, slot, DropReason::Unsupported);
        return false;
    };
    let Some(f) = slot.as_mut() else {
        return false;
    };
    let hash = {
        let x = flow_hash(&f.flow, 0);
        (x ^ (x >> 32)) as u32
    };
    match f.pkt.insert_gap(0, h.bytes.len()) {
        Ok(gap) => gap.copy_from_slice(&h.bytes),
        Err(_) => {
            drop_slot(env, slot, DropReason::NoBuffers);
            return false;
        }
    }
    f.pkt.meta.offload = Offload::default();
    packet::tunnel::finish_encap(f.pkt.data_mut(), &h, hash);
    if h.kind == packet::tunnel::TunnelKind::Erspan {
        let seq = erspan_seq(t.tnl_port);
        packet::tunnel::set_erspan_seq(f.pkt.data_mut(), &h, seq, erspan_timestamp());
    }
    // The packet is now the outer one, with no tunnel metadata.
    f.flow.tunnel = Default::default();
    f.flow.packet_type = 0;
    f.reparse();
    true
}

/// The next GRE sequence number of ERSPAN vport `tnl_port` (one counter
/// per vport, from 0, as upstream's).
fn erspan_seq(tnl_port: u32) -> u32 {
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};
    static SEQ: OnceLock<Mutex<HashMap<u32, u32>>> = OnceLock::new();
    let mut m = match SEQ.get_or_init(Default::default).lock() {
        Ok(m) => m,
        Err(e) => e.into_inner(),
    };
    let n = m.entry(tnl_port).or_insert(0);
    let seq = *n;
    *n = n.wrapping_add(1);
    seq
}

/// ERSPAN version 2's timestamp: wall-clock time in units of 100 µs,
/// truncated to 32 bits.
fn erspan_timestamp() -> u32 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| (d.as_micros() / 100) as u32)
        .unwrap_or(0)
}

/// The packet of `slot` cut into segments (software GSO and checksums).
fn take_segments(env: &mut dyn ExecEnv, slot: &mut Option<InFlight>) -> Vec<InFlight> {
    let Some(f) = slot.take() else {
        return Vec::new();
    };
    let md = metadata_of(&f.flow);
    env.segment(f.pkt)
        .into_iter()
        .map(|p| InFlight::new(p, &md))
        .collect()
}

fn tnl_pop(env: &mut dyn ExecEnv, slot: &mut Option<InFlight>, port: u32, last: bool) {
    let Some(kind) = env.tunnel_kind(port) else {
        drop_slot(env, slot, DropReason::Unsupported);
        return;
    };
    let Some((mut pkt, _)) = take_or_copy(env, slot, last) else {
        return;
    };
    match packet::tunnel::decap(pkt.data(), kind) {
        Ok(d) => {
            // Geneve options stay with the packet, raw, as its flow's
            // tunnel metadata (the bridge's TLV map names them later).
            let mut tunnel = d.tunnel;
            if kind == packet::tunnel::TunnelKind::Geneve {
                let raw = pkt.data().get(d.geneve_options.clone()).unwrap_or(&[]);
                tunnel.metadata.set_geneve_raw(raw);
                tunnel.flags |= packet::tunnel::FLOW_TNL_F_UDPIF;
            }
            pkt.truncate(d.inner.end);
            if pkt.remove_gap(0, d.inner.start).is_err() {
                env.drop_packet(pkt, DropReason::Malformed);
                return;
            }
            pkt.meta.offload = Offload::default();
            pkt.meta.in_port = port;
            let fl = Flow {
                in_port: port,
                tunnel,
                packet_type: d.packet_type,
                ..Default::default()
            };
            env.recirculate(pkt, &fl);
        }
        Err(_) => env.drop_packet(pkt, DropReason::Malformed),
    }
}

fn clone_flight(env: &mut dyn ExecEnv, f: Option<&InFlight>) -> Option<InFlight> {
    let f = f?;
    let pkt = copy_packet(env, &f.pkt)?;
    Some(InFlight {
        pkt,
        flow: f.flow,
        layers: f.layers,
        trunc: f.trunc,
    })
}

fn drop_slot(env: &mut dyn ExecEnv, slot: &mut Option<InFlight>, r: DropReason) {
    if let Some(p) = InFlight::take_packet(slot) {
        env.drop_packet(p, r);
    }
}

fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

fn push_vlan(f: &mut InFlight, tpid: u16, tci: u16) -> Result<(), ()> {
    if f.pkt.len() < 12 {
        return Err(());
    }
    let gap = f.pkt.insert_gap(12, 4).map_err(|_| ())?;
    gap[0..2].copy_from_slice(&tpid.to_be_bytes());
    // The CFI bit of a datapath TCI means "present": it is not sent.
    gap[2..4].copy_from_slice(&(tci & !0x1000).to_be_bytes());
    f.reparse();
    Ok(())
}

fn pop_vlan(f: &mut InFlight) {
    let d = f.pkt.data();
    if d.len() >= 18
        && packet::extract::eth_type_vlan(be16(d, 12))
        && f.pkt.remove_gap(12, 4).is_ok()
    {
        f.reparse();
    }
}

/// Offset of the EtherType that precedes the L3 (or MPLS) header.
fn ethertype_offset(d: &[u8]) -> Option<usize> {
    let mut at = 12;
    while d.len() >= at + 2 && packet::extract::eth_type_vlan(be16(d, at)) {
        at += 4;
    }
    (d.len() >= at + 2).then_some(at)
}

fn push_mpls(f: &mut InFlight, lse: u32, ethertype: u16) -> Result<(), ()> {
    let at = ethertype_offset(f.pkt.data()).ok_or(())?;
    let gap = f.pkt.insert_gap(at + 2, 4).map_err(|_| ())?;
    gap.copy_from_slice(&lse.to_be_bytes());
    let d = f.pkt.data_mut();
    d[at..at + 2].copy_from_slice(&ethertype.to_be_bytes());
    f.reparse();
    Ok(())
}

fn pop_mpls(f: &mut InFlight, ethertype: u16) {
    let Some(at) = ethertype_offset(f.pkt.data()) else {
        return;
    };
    let d = f.pkt.data();
    if !packet::extract::eth_type_mpls(be16(d, at)) || d.len() < at + 6 {
        return;
    }
    if f.pkt.remove_gap(at + 2, 4).is_ok() {
        let d = f.pkt.data_mut();
        d[at..at + 2].copy_from_slice(&ethertype.to_be_bytes());
        f.reparse();
    }
}

fn push_eth(f: &mut InFlight, src: [u8; 6], dst: [u8; 6]) -> Result<(), ()> {
    if f.flow.packet_type == packet::extract::PT_ETH {
        return Ok(());
    }
    let ethertype = f.flow.packet_type as u16;
    let gap = f.pkt.insert_gap(0, 14).map_err(|_| ())?;
    gap[0..6].copy_from_slice(&dst);
    gap[6..12].copy_from_slice(&src);
    gap[12..14].copy_from_slice(&ethertype.to_be_bytes());
    f.flow.packet_type = packet::extract::PT_ETH;
    f.reparse();
    Ok(())
}

fn pop_eth(f: &mut InFlight) {
    if f.flow.packet_type != packet::extract::PT_ETH {
        return;
    }
    let Some(at) = ethertype_offset(f.pkt.data()) else {
        return;
    };
    let ethertype = be16(f.pkt.data(), at);
    if f.pkt.remove_gap(0, at + 2).is_ok() {
        f.flow.packet_type = (1 << 16) | ethertype as u32;
        f.reparse();
    }
}

/// `(old & !mask) | (new & mask)` for integers.
macro_rules! merge {
    ($old:expr, $new:expr, $mask:expr) => {
        ($old & !$mask) | ($new & $mask)
    };
}

fn merge6(old: [u8; 6], new: [u8; 6], mask: [u8; 6]) -> [u8; 6] {
    let mut r = old;
    for i in 0..6 {
        r[i] = merge!(old[i], new[i], mask[i]);
    }
    r
}

fn merge16(old: [u8; 16], new: [u8; 16], mask: [u8; 16]) -> [u8; 16] {
    let mut r = old;
    for i in 0..16 {
        r[i] = merge!(old[i], new[i], mask[i]);
    }
    r
}

/// How a rewrite touches the transport checksum of an offloaded packet.
#[derive(Clone, Copy, PartialEq, Eq)]
enum CsumTouch {
    /// Pseudo-header fields (addresses): a partial sum must follow.
    Pseudo,
    /// Transport header fields (ports, ICMP type): a partial sum must not.
    Header,
}

/// Runs `rewrite` on the frame, keeping an offloaded checksum right.
fn guarded(f: &mut InFlight, touch: CsumTouch, rewrite: impl FnOnce(&mut [u8], &Layers)) {
    let off = f.pkt.meta.offload;
    if off.needs_csum() && !off.is_gso() {
        // A plain partial checksum: complete it, then rewrite normally.
        if netdev::offload::complete_checksum(&mut f.pkt).is_err() {
            rewrite(f.pkt.data_mut(), &f.layers);
            return;
        }
        rewrite(f.pkt.data_mut(), &f.layers);
        return;
    }
    if off.is_gso() && off.needs_csum() {
        // The field holds the uncomplemented pseudo-header sum: adjust it
        // as a checksum for address changes, leave it for the rest.
        let at = off.csum_start as usize + off.csum_offset as usize;
        let d = f.pkt.data_mut();
        if d.len() >= at + 2 {
            let saved = be16(d, at);
            d[at..at + 2].copy_from_slice(&(!saved).to_be_bytes());
            rewrite(d, &f.layers);
            let now = be16(d, at);
            let v = match touch {
                CsumTouch::Pseudo => !now,
                CsumTouch::Header => saved,
            };
            d[at..at + 2].copy_from_slice(&v.to_be_bytes());
            return;
        }
    }
    rewrite(f.pkt.data_mut(), &f.layers);
}

/// Applies `set(key)` (mask `None`) or a masked set.
fn apply_set(f: &mut InFlight, key: &SetKey, mask: Option<&SetKey>) -> Result<(), DropReason> {
    let fl = f.flow;
    match key {
        SetKey::Priority(v) => {
            let m = match mask {
                Some(SetKey::Priority(m)) => *m,
                _ => u32::MAX,
            };
            f.flow.skb_priority = merge!(fl.skb_priority, *v, m);
        }
        SetKey::SkbMark(v) => {
            let m = match mask {
                Some(SetKey::SkbMark(m)) => *m,
                _ => u32::MAX,
            };
            f.flow.pkt_mark = merge!(fl.pkt_mark, *v, m);
        }
        SetKey::Ethernet { src, dst } => {
            let (ms, md) = match mask {
                Some(SetKey::Ethernet { src, dst }) => (*src, *dst),
                _ => ([0xff; 6], [0xff; 6]),
            };
            let s = merge6(fl.dl_src, *src, ms);
            let d = merge6(fl.dl_dst, *dst, md);
            rewrite::set_eth_addrs(f.pkt.data_mut(), s, d);
            f.flow.dl_src = s;
            f.flow.dl_dst = d;
        }
        SetKey::Ipv4 {
            src, dst, tos, ttl, ..
        } => {
            if fl.dl_type != packet::extract::ETH_TYPE_IP {
                return Ok(());
            }
            let (ms, md, mt, ml) = match mask {
                Some(SetKey::Ipv4 {
                    src, dst, tos, ttl, ..
                }) => (*src, *dst, *tos, *ttl),
                _ => (u32::MAX, u32::MAX, 0xff, 0xff),
            };
            let s = merge!(fl.nw_src, *src, ms);
            let d = merge!(fl.nw_dst, *dst, md);
            let t = merge!(fl.nw_tos, *tos, mt);
            let l = merge!(fl.nw_ttl, *ttl, ml);
            guarded(f, CsumTouch::Pseudo, |fr, ly| {
                rewrite::set_ipv4(fr, ly, s, d, t, l)
            });
            f.flow.nw_src = s;
            f.flow.nw_dst = d;
            f.flow.nw_tos = t;
            f.flow.nw_ttl = l;
        }
        SetKey::Ipv6 {
            src,
            dst,
            label,
            tclass,
            hlimit,
            ..
        } => {
            if fl.dl_type != packet::extract::ETH_TYPE_IPV6 {
                return Ok(());
            }
            let (ms, md, mlab, mt, mh) = match mask {
                Some(SetKey::Ipv6 {
                    src,
                    dst,
                    label,
                    tclass,
                    hlimit,
                    ..
                }) => (*src, *dst, *label, *tclass, *hlimit),
                _ => ([0xff; 16], [0xff; 16], u32::MAX, 0xff, 0xff),
            };
            let s = merge16(fl.ipv6_src, *src, ms);
            let d = merge16(fl.ipv6_dst, *dst, md);
            let lab = merge!(fl.ipv6_label, *label, mlab) & 0x000f_ffff;
            let t = merge!(fl.nw_tos, *tclass, mt);
            let h = merge!(fl.nw_ttl, *hlimit, mh);
            guarded(f, CsumTouch::Pseudo, |fr, ly| {
                rewrite::set_ipv6(fr, ly, s, d, t, lab, h)
            });
            f.flow.ipv6_src = s;
            f.flow.ipv6_dst = d;
            f.flow.ipv6_label = lab;
            f.flow.nw_tos = t;
            f.flow.nw_ttl = h;
        }
        SetKey::Tcp { src, dst } | SetKey::Udp { src, dst } | SetKey::Sctp { src, dst } => {
            let (ms, md) = match mask {
                Some(SetKey::Tcp { src, dst })
                | Some(SetKey::Udp { src, dst })
                | Some(SetKey::Sctp { src, dst }) => (*src, *dst),
                _ => (u16::MAX, u16::MAX),
            };
            let s = merge!(fl.tp_src, *src, ms);
            let d = merge!(fl.tp_dst, *dst, md);
            let proto = fl.nw_proto;
            let want = match key {
                SetKey::Tcp { .. } => packet::extract::IPPROTO_TCP,
                SetKey::Udp { .. } => packet::extract::IPPROTO_UDP,
                _ => packet::extract::IPPROTO_SCTP,
            };
            if proto != want {
                return Ok(());
            }
            guarded(f, CsumTouch::Header, |fr, ly| match key {
                SetKey::Tcp { .. } => rewrite::set_tcp_ports(fr, ly, s, d),
                SetKey::Udp { .. } => rewrite::set_udp_ports(fr, ly, s, d),
                _ => rewrite::set_sctp_ports(fr, ly, s, d),
            });
            f.flow.tp_src = s;
            f.flow.tp_dst = d;
        }
        SetKey::Icmp { ty, code } | SetKey::Icmpv6 { ty, code } => {
            let (mt, mc) = match mask {
                Some(SetKey::Icmp { ty, code }) | Some(SetKey::Icmpv6 { ty, code }) => (*ty, *code),
                _ => (0xff, 0xff),
            };
            let t = merge!(fl.tp_src as u8, *ty, mt);
            let c = merge!(fl.tp_dst as u8, *code, mc);
            guarded(f, CsumTouch::Header, |fr, ly| {
                rewrite::set_icmp(fr, ly, t, c)
            });
            f.flow.tp_src = t as u16;
            f.flow.tp_dst = c as u16;
        }
        SetKey::Arp {
            sip,
            tip,
            op,
            sha,
            tha,
        } => {
            let (msip, mtip, mop, msha, mtha) = match mask {
                Some(SetKey::Arp {
                    sip,
                    tip,
                    op,
                    sha,
                    tha,
                }) => (*sip, *tip, *op, *sha, *tha),
                _ => (u32::MAX, u32::MAX, u16::MAX, [0xff; 6], [0xff; 6]),
            };
            let s = merge!(fl.nw_src, *sip, msip);
            let t = merge!(fl.nw_dst, *tip, mtip);
            let o = merge!(fl.nw_proto as u16, *op, mop);
            let sh = merge6(fl.arp_sha, *sha, msha);
            let th = merge6(fl.arp_tha, *tha, mtha);
            rewrite::set_arp(f.pkt.data_mut(), &f.layers, o, sh, s, th, t);
            f.flow.nw_src = s;
            f.flow.nw_dst = t;
            f.flow.nw_proto = o as u8;
            f.flow.arp_sha = sh;
            f.flow.arp_tha = th;
        }
        SetKey::Nd { target, sll, tll } => {
            let (mt, ms, ml) = match mask {
                Some(SetKey::Nd { target, sll, tll }) => (*target, *sll, *tll),
                _ => ([0xff; 16], [0xff; 6], [0xff; 6]),
            };
            let t = merge16(fl.nd_target, *target, mt);
            let s = merge6(fl.arp_sha, *sll, ms);
            let l = merge6(fl.arp_tha, *tll, ml);
            guarded(f, CsumTouch::Header, |fr, ly| {
                rewrite::set_nd(fr, ly, t, s, l)
            });
            f.flow.nd_target = t;
            f.flow.arp_sha = s;
            f.flow.arp_tha = l;
        }
        SetKey::Mpls(v) => {
            let Some(new) = v.first() else {
                return Ok(());
            };
            let m = match mask {
                Some(SetKey::Mpls(m)) => m.first().copied().unwrap_or(u32::MAX),
                _ => u32::MAX,
            };
            let lse = merge!(fl.mpls_lse[0], *new, m);
            rewrite::set_mpls_lse(f.pkt.data_mut(), &f.layers, lse);
            f.flow.mpls_lse[0] = lse;
        }
        SetKey::Tunnel(t) => {
            let tn = &mut f.flow.tunnel;
            *tn = Default::default();
            if let Some(id) = t.tun_id {
                tn.tun_id = id;
                tn.flags |= flow::odp::key::FLOW_TNL_F_KEY;
            }
            tn.ip_src = t.ipv4_src.unwrap_or(0);
            tn.ip_dst = t.ipv4_dst.unwrap_or(0);
            tn.ipv6_src = t.ipv6_src.unwrap_or([0; 16]);
            tn.ipv6_dst = t.ipv6_dst.unwrap_or([0; 16]);
            tn.ip_tos = t.tos.unwrap_or(0);
            tn.ip_ttl = t.ttl.unwrap_or(0);
            tn.tp_src = t.tp_src.unwrap_or(0);
            tn.tp_dst = t.tp_dst.unwrap_or(0);
            tn.flags |= t.flags;
        }
        SetKey::NdExt { .. } | SetKey::Nsh(_) => return Err(DropReason::Unsupported),
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::field_reassign_with_default)]
mod tests {
    use super::*;
    use packet::buffer::PacketPool;

    #[test]
    fn a_reused_slot_holds_the_new_packet_and_its_key() {
        let mut slot = None;
        let a = Packet::from_frame(&packet::compose::compose_generated(
            &Flow {
                dl_type: 0x0800,
                nw_proto: 17,
                tp_src: 7,
                ..Default::default()
            },
            10,
        ));
        let md = Metadata {
            in_port: 3,
            ..Default::default()
        };
        InFlight::new_in(&mut slot, a, &md);
        let first = slot.as_ref().map(|f| f.flow);
        slot.as_mut().unwrap().trunc = Some(20);
        let b = Packet::from_frame(&[0xffu8; 60]);
        let f = InFlight::new_in(&mut slot, b, &Metadata::default());
        assert_eq!(f.pkt.data(), &[0xffu8; 60][..]);
        assert_eq!(
            (f.flow.in_port, f.flow.dl_type, f.flow.tp_src),
            (0, 0xffff, 0)
        );
        assert_eq!(f.trunc, None);
        assert_eq!(first.map(|f| (f.in_port, f.tp_src)), Some((3, 7)));
        let p = InFlight::take_packet(&mut slot).unwrap();
        assert_eq!(p.len(), 60);
        assert!(slot.is_none());
        assert!(InFlight::take_packet(&mut slot).is_none());
    }

    #[derive(Default)]
    struct Env {
        out: Vec<(u32, Vec<u8>)>,
        recirc: Vec<(Vec<u8>, u32)>,
        ups: usize,
        drops: Vec<DropReason>,
        pool: Option<PacketPool>,
    }

    impl ExecEnv for Env {
        fn output(&mut self, port: u32, pkt: Packet) {
            self.out.push((port, pkt.data().to_vec()));
        }
        fn alloc(&mut self) -> Option<Packet> {
            self.pool
                .get_or_insert_with(|| PacketPool::new(16, 2048, 64))
                .get()
        }
        fn free(&mut self, pkt: Packet) {
            if let Some(p) = self.pool.as_mut() {
                p.put(pkt)
            }
        }
        fn recirculate(&mut self, pkt: Packet, flow: &Flow) {
            self.recirc.push((pkt.data().to_vec(), flow.recirc_id));
        }
        fn userspace(&mut self, _pkt: &Packet, _flow: &Flow, _a: &Userspace) {
            self.ups += 1;
        }
        fn meter(&mut self, id: u32, _len: usize) -> bool {
            id != 13
        }
        fn drop_packet(&mut self, _pkt: Packet, reason: DropReason) {
            self.drops.push(reason);
        }
        fn random(&mut self) -> u32 {
            7
        }
        fn segment(&mut self, pkt: Packet) -> Vec<Packet> {
            vec![pkt]
        }
        fn tunnel_kind(&mut self, _port: u32) -> Option<packet::tunnel::TunnelKind> {
            None
        }
    }

    fn udp_frame() -> Vec<u8> {
        let mut f = Flow::default();
        f.dl_src = [0x50, 0x54, 0, 0, 0, 1];
        f.dl_dst = [0x50, 0x54, 0, 0, 0, 2];
        f.dl_type = 0x0800;
        f.nw_src = 0x0a00_0001;
        f.nw_dst = 0x0a00_0002;
        f.nw_proto = 17;
        f.nw_ttl = 64;
        f.tp_src = 1000;
        f.tp_dst = 53;
        packet::compose::compose(&f, b"hello world")
    }

    fn flight(frame: &[u8]) -> InFlight {
        let md = Metadata {
            in_port: 1,
            ..Default::default()
        };
        InFlight::new(Packet::from_frame(frame), &md)
    }

    fn valid_checksums(frame: &[u8]) -> bool {
        let (_, l) = extract_with(frame, &Metadata::default(), &ExtractOptions::default());
        let l3 = l.l3.unwrap();
        let l4 = l.l4.unwrap();
        let ip_ok = packet::checksum::checksum(&frame[l3..l4]) == 0;
        let ph = packet::checksum::pseudo_header_of_ipv4(&frame[l3..]).unwrap();
        let l4_ok = packet::checksum::finish(packet::checksum::add(ph, &frame[l4..])) == 0;
        ip_ok && l4_ok
    }

    #[test]
    fn outputs_copies_then_the_packet() {
        let mut env = Env::default();
        let fr = udp_frame();
        execute(
            &mut env,
            flight(&fr),
            &[OdpAction::Output(2), OdpAction::Output(3)],
        );
        assert_eq!(env.out, vec![(2, fr.clone()), (3, fr)]);
    }

    #[test]
    fn set_fields_keep_checksums() {
        let mut env = Env::default();
        let fr = udp_frame();
        assert!(valid_checksums(&fr));
        let acts = vec![
            OdpAction::Set(SetKey::Ethernet {
                src: [2; 6],
                dst: [4; 6],
            }),
            OdpAction::SetMasked {
                key: SetKey::Ipv4 {
                    src: 0xc0a8_0001,
                    dst: 0,
                    proto: 0,
                    tos: 0,
                    ttl: 0,
                    frag: 0,
                },
                mask: SetKey::Ipv4 {
                    src: u32::MAX,
                    dst: 0,
                    proto: 0,
                    tos: 0,
                    ttl: 0,
                    frag: 0,
                },
            },
            OdpAction::Set(SetKey::Udp {
                src: 4000,
                dst: 5353,
            }),
            OdpAction::Output(9),
        ];
        execute(&mut env, flight(&fr), &acts);
        let (port, out) = &env.out[0];
        assert_eq!(*port, 9);
        assert_eq!(&out[0..6], &[4; 6]);
        assert_eq!(&out[6..12], &[2; 6]);
        let fl = packet::extract::extract(out, &Metadata::default());
        assert_eq!(fl.nw_src, 0xc0a8_0001);
        assert_eq!(fl.nw_dst, 0x0a00_0002, "masked out");
        assert_eq!((fl.tp_src, fl.tp_dst), (4000, 5353));
        assert!(valid_checksums(out));
    }

    #[test]
    fn vlan_push_pop_round_trip() {
        let mut env = Env::default();
        let fr = udp_frame();
        execute(
            &mut env,
            flight(&fr),
            &[
                OdpAction::PushVlan {
                    tpid: 0x8100,
                    tci: 0x100a,
                },
                OdpAction::Output(1),
                OdpAction::PopVlan,
                OdpAction::Output(2),
            ],
        );
        let tagged = &env.out[0].1;
        assert_eq!(&tagged[12..16], &[0x81, 0x00, 0x00, 0x0a]);
        assert_eq!(tagged.len(), fr.len() + 4);
        assert_eq!(env.out[1].1, fr);
    }

    #[test]
    fn recirc_clone_meter_userspace_drop() {
        let mut env = Env::default();
        let fr = udp_frame();
        let up = Userspace {
            pid: 0,
            userdata: None,
            actions: false,
            tunnel_out_port: None,
        };
        execute(
            &mut env,
            flight(&fr),
            &[
                OdpAction::Userspace(up),
                OdpAction::Clone(vec![OdpAction::PopVlan, OdpAction::Output(5)]),
                OdpAction::Trunc(20),
                OdpAction::Output(6),
                OdpAction::Recirc(7),
            ],
        );
        assert_eq!(env.ups, 1);
        assert_eq!(env.out[0].0, 5);
        assert_eq!(env.out[1], (6, fr[..20].to_vec()));
        assert_eq!(env.recirc, vec![(fr.clone(), 7)]);
        let mut env = Env::default();
        execute(
            &mut env,
            flight(&fr),
            &[OdpAction::Meter(13), OdpAction::Output(1)],
        );
        assert!(env.out.is_empty());
        assert_eq!(env.drops, vec![DropReason::Meter]);
    }

    proptest::proptest! {
        /// Arbitrary frames through every rewriting action: no panic, and
        /// the packet ends up somewhere (output, recirculated or dropped).
        #[test]
        fn arbitrary_frames_survive_rewrites(frame in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200)) {
            let mut env = Env::default();
            let acts = vec![
                OdpAction::PopVlan,
                OdpAction::Set(SetKey::Ipv4 { src: 1, dst: 2, proto: 0, tos: 4, ttl: 9, frag: 0 }),
                OdpAction::Set(SetKey::Ipv6 { src: [1; 16], dst: [2; 16], label: 3, proto: 0, tclass: 0, hlimit: 7, frag: 0 }),
                OdpAction::Set(SetKey::Tcp { src: 1, dst: 2 }),
                OdpAction::Set(SetKey::Udp { src: 1, dst: 2 }),
                OdpAction::Set(SetKey::Icmp { ty: 1, code: 2 }),
                OdpAction::Set(SetKey::Arp { sip: 1, tip: 2, op: 1, sha: [1; 6], tha: [2; 6] }),
                OdpAction::Set(SetKey::Nd { target: [3; 16], sll: [1; 6], tll: [2; 6] }),
                OdpAction::Set(SetKey::Mpls(vec![0x1234_5140])),
                OdpAction::PushMpls { lse: 0x100, ethertype: 0x8847 },
                OdpAction::PopMpls { ethertype: 0x0800 },
                OdpAction::PushVlan { tpid: 0x8100, tci: 5 },
                OdpAction::PopEth,
                OdpAction::PushEth { src: [1; 6], dst: [2; 6] },
                OdpAction::Output(1),
            ];
            execute(&mut env, flight(&frame), &acts);
            proptest::prop_assert_eq!(env.out.len() + env.drops.len(), 1);
        }
    }
}
