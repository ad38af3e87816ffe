//! The control plane as the datapath and the trace command see it: which
//! bridge and OpenFlow port each datapath port is ([`Registry`], published
//! after every reconfiguration), translation of upcalls through
//! `ofproto::xlate` with every bridge reachable (patch ports), the side
//! effects applied (learned flows), and packet-ins from `controller`
//! actions published to the bridge's connections.
//!
//! Life of a missed packet: the datapath's handler thread calls
//! [`SwitchUpcalls::upcall`]; the in_port is mapped to its bridge and
//! OpenFlow port; every bridge's switch is locked in name order (the one
//! order every multi-bridge locker uses) for the translation; learned
//! flows are added; the datapath installs the megaflow (actions + mask)
//! unless translation asked for the slow path.

use crate::connmgr::BridgeShared;
use datapath::{Upcall, UpcallHandler, UpcallKind, UpcallReply};
use flow::odp::actions::{UserCookie, Userdata};
use ofproto::mac_learning::MacLearning;
use ofproto::trace::TraceEnv;
use ofproto::xlate::{xlate, Bridges, SideEffect, XlateIn};
use ofproto::Ofproto;
use std::collections::BTreeMap;
use std::sync::{Arc, MutexGuard, RwLock};

/// One bridge as translation reaches it.
#[derive(Clone)]
pub struct BridgeEntry {
    pub shared: Arc<BridgeShared>,
    /// The datapath's name (`ovs-dummy`), if the bridge has one.
    pub datapath: Option<String>,
}

/// Bridges by name and datapath ports by (datapath, port number).
#[derive(Clone, Default)]
pub struct Registry {
    pub bridges: BTreeMap<String, BridgeEntry>,
    /// (datapath name, odp port) → (bridge, OpenFlow port).
    pub odp: BTreeMap<(String, u32), (String, u32)>,
    /// The Open_vSwitch `other_config` (flow-limit, max-idle…).
    pub other_config: BTreeMap<String, String>,
}

/// The published registry.
pub type SharedRegistry = Arc<RwLock<Registry>>;

/// Every bridge's switch, locked for one translation.
pub struct LockedBridges<'a> {
    guards: Vec<(String, MutexGuard<'a, Ofproto>, &'a MacLearning)>,
    reg: &'a Registry,
}

impl<'a> LockedBridges<'a> {
    /// Locks every bridge of `reg` in name order.
    pub fn lock(reg: &'a Registry) -> LockedBridges<'a> {
        let guards = reg
            .bridges
            .iter()
            .map(|(n, e)| {
                (
                    n.clone(),
                    e.shared.ofproto.lock().unwrap_or_else(|e| e.into_inner()),
                    &e.shared.mac_learning,
                )
            })
            .collect();
        LockedBridges { guards, reg }
    }

    pub fn get(&self, name: &str) -> Option<&Ofproto> {
        self.guards
            .iter()
            .find(|(n, _, _)| n == name)
            .map(|(_, g, _)| &**g)
    }

    fn get_mut(&mut self, name: &str) -> Option<&mut Ofproto> {
        self.guards
            .iter_mut()
            .find(|(n, _, _)| n == name)
            .map(|(_, g, _)| &mut **g)
    }
}

impl Bridges for LockedBridges<'_> {
    fn port_by_name(&self, name: &str) -> Option<(&Ofproto, u32)> {
        self.guards.iter().find_map(|(_, g, _)| {
            g.ports()
                .find(|p| p.name == name)
                .map(|p| (&**g, p.ofp_port))
        })
    }

    fn bridge(&self, name: &str) -> Option<&Ofproto> {
        self.get(name)
    }

    fn mac_learning(&self, name: &str) -> Option<&MacLearning> {
        self.guards
            .iter()
            .find(|(n, _, _)| n == name)
            .map(|(_, _, m)| *m)
    }
}

impl TraceEnv for LockedBridges<'_> {
    fn by_odp_port(&self, dp: Option<&str>, odp_port: u32) -> Option<(&Ofproto, u32)> {
        let ((_, _), (br, ofp)) =
            self.reg.odp.iter().find(|((d, p), _)| {
                *p == odp_port && dp.is_none_or(|want| names_datapath(want, d))
            })?;
        Some((self.get(br)?, *ofp))
    }

    fn has_datapath(&self, dp: Option<&str>) -> bool {
        match dp {
            None => self.reg.bridges.values().any(|b| b.datapath.is_some()),
            Some(want) => self
                .reg
                .bridges
                .values()
                .filter_map(|b| b.datapath.as_deref())
                .any(|d| names_datapath(want, d)),
        }
    }
}

/// True if `want` (`ovs-dummy` or `dummy@ovs-dummy`) names datapath `dp`.
fn names_datapath(want: &str, dp: &str) -> bool {
    want == dp || want.split_once('@').is_some_and(|(_, n)| n == dp)
}

/// A packet translation wants sent into a bridge from its LOCAL port
/// (native tunnelling's ARP requests and neighbour solicitations).
pub type PendingPacket = (String, Vec<u8>);

/// Applies translation side effects to the locked bridges; returns the
/// packets to send once the bridges are unlocked ([`send_pending`]).
pub fn apply_side_effects(
    locked: &mut LockedBridges<'_>,
    effects: Vec<SideEffect>,
) -> Vec<PendingPacket> {
    let mut pending = Vec::new();
    for e in effects {
        match e {
            SideEffect::Learn { bridge, flow } => {
                if let Some(o) = locked.get_mut(&bridge) {
                    if let Err(err) = o.apply_learned_flow(&flow) {
                        vlog::dbg!("ofproto_dpif_xlate", "{bridge}: learn failed: {err:?}");
                    }
                }
            }
            SideEffect::FinTimeout { rule, idle, hard } => rule.reduce_timeouts(idle, hard),
            SideEffect::SendPacket { bridge, packet } => pending.push((bridge, packet)),
        }
    }
    pending
}

/// Sends `pending` packets into their bridges through their flow tables,
/// as if received on the LOCAL port (upstream's xlate_send_packet).
pub fn send_pending(
    registry: &SharedRegistry,
    dp: &datapath::DpifNetdev,
    pending: Vec<PendingPacket>,
) {
    for (bridge, packet) in pending {
        let po = ofproto::PacketOutRequest {
            packet,
            in_port: 0xfffe,
            metadata: flow::Match::catchall(),
            actions: vec![flow::actions::OfpAction::Output(flow::actions::Output {
                port: flow::actions::OfpPort::TABLE,
                max_len: 0,
            })],
        };
        execute_packet_out(registry, dp, &bridge, po);
    }
}

/// Like [`send_pending`], finding each bridge's datapath among `dps`.
pub fn send_pending_via(
    registry: &SharedRegistry,
    dps: &[std::sync::Arc<datapath::DpifNetdev>],
    pending: Vec<PendingPacket>,
) {
    for (bridge, packet) in pending {
        let dp_name = {
            let reg = registry.read().unwrap_or_else(|e| e.into_inner());
            reg.bridges.get(&bridge).and_then(|b| b.datapath.clone())
        };
        let Some(dp_name) = dp_name else { continue };
        if let Some(dp) = dps
            .iter()
            .find(|d| datapath::Dpif::name(d.as_ref()) == dp_name)
        {
            send_pending(registry, dp, vec![(bridge, packet)]);
        }
    }
}

/// The bridge and OpenFlow port a datapath port's packet belongs to: for a
/// tunnel vport, the tunnel port its tunnel metadata selects.
pub fn ingress_port(reg: &Registry, datapath: &str, flow: &packet::Flow) -> Option<(String, u32)> {
    let tnl = ofproto::tnl::global().ports();
    if tnl.is_vport(flow.in_port) {
        return tnl.receive(flow.in_port, &flow.tunnel);
    }
    drop(tnl);
    reg.odp.get(&(datapath.to_string(), flow.in_port)).cloned()
}

/// The datapath's view of the control plane, for one datapath.
pub struct SwitchUpcalls {
    pub datapath: String,
    pub registry: SharedRegistry,
    /// The datapath itself (to send what translation asks for).
    pub dp: std::sync::Weak<datapath::DpifNetdev>,
}

impl SwitchUpcalls {
    fn packet_in(&self, reg: &Registry, up: &Upcall, cookie: &UserCookie) {
        let UserCookie::Controller {
            reason,
            dont_send,
            rule_cookie,
            max_len,
            ..
        } = cookie
        else {
            return;
        };
        if *dont_send {
            return;
        }
        let Some((br, ofp)) = ingress_port(&reg, &self.datapath, &up.flow) else {
            return;
        };
        let Some(entry) = reg.bridges.get(&br) else {
            return;
        };
        let mut metadata = flow::Match::catchall();
        metadata.flow.in_port = ofp;
        metadata.wc.in_port = u32::MAX;
        let total_len = u16::try_from(up.packet.len()).unwrap_or(u16::MAX);
        let mut data = up.packet.clone();
        if *max_len != u16::MAX && data.len() > usize::from(*max_len) {
            data.truncate(usize::from(*max_len));
        }
        let pi = openflow::msgs::packet_in::PacketIn {
            metadata,
            buffer_id: u32::MAX,
            total_len,
            reason: u8::try_from(*reason).unwrap_or(1),
            table_id: 0,
            cookie: *rule_cookie,
            data,
        };
        entry.shared.publish(ofproto::AsyncMsg::PacketIn(pi));
    }
}

impl UpcallHandler for SwitchUpcalls {
    fn upcall(&self, up: &Upcall) -> UpcallReply {
        let reg = self.registry.read().unwrap_or_else(|e| e.into_inner());
        if let UpcallKind::Action(Some(Userdata::Cookie { cookie, .. })) = &up.kind {
            self.packet_in(&reg, up, cookie);
            return UpcallReply::default();
        }
        if !matches!(up.kind, UpcallKind::Miss) {
            return UpcallReply::default();
        }
        let Some((br, ofp)) = ingress_port(&reg, &self.datapath, &up.flow) else {
            // A port no bridge knows (being added or removed): drop this
            // packet without caching the decision.
            return UpcallReply::default();
        };
        let mut locked = LockedBridges::lock(&reg);
        let mut flow = up.flow.clone();
        flow.in_port = ofp;
        let out = match locked.get(&br) {
            Some(o) => xlate(
                o,
                &locked,
                XlateIn {
                    flow,
                    packet: Some(&up.packet),
                    trace: false,
                    allow_side_effects: true,
                    revalidation: false,
                    ofpacts: None,
                    in_packet_out: false,
                },
            ),
            None => return UpcallReply::default(),
        };
        let install = out.slow == 0 && out.error.is_none();
        if let Some(o) = locked.get(&br) {
            // The missed packet counts for the rules it went through.
            let now = o.now();
            for r in &out.rules {
                r.credit(1, up.packet.len() as u64, now);
            }
            out.credits().credit(1, up.packet.len() as u64);
        }
        // Received Geneve options are matched in their raw form.
        let wc = match locked.get(&br) {
            Some(o) => ofproto::xlate::tunnel_options::raw_options_mask(o, &up.flow, &out.wc),
            None => out.wc,
        };
        let mask = crate::revalidator::install_mask(&wc, &up.flow);
        let actions = out.actions;
        let pending = apply_side_effects(&mut locked, out.side_effects);
        drop(locked);
        for e in reg.bridges.values() {
            // Publishes what the side effects queued (flow updates).
            e.shared.with_ofproto(|_| ());
        }
        drop(reg);
        if !pending.is_empty() {
            if let Some(dp) = self.dp.upgrade() {
                send_pending(&self.registry, &dp, pending);
            }
        }
        UpcallReply {
            actions,
            mask,
            install,
        }
    }
}

/// Executes a packet-out of `bridge` on datapath `dp`: its actions are
/// translated like a packet's (in the packet-out context) and the
/// resulting datapath actions run on the packet.
pub fn execute_packet_out(
    registry: &SharedRegistry,
    dp: &datapath::DpifNetdev,
    bridge: &str,
    po: ofproto::PacketOutRequest,
) {
    let reg = registry.read().unwrap_or_else(|e| e.into_inner());
    let md = packet::extract::Metadata {
        in_port: po.in_port,
        ..Default::default()
    };
    // The packet's headers with the metadata the message gave (registers,
    // tunnel...).
    let mut flow = po
        .metadata
        .flow
        .or(&packet::extract::extract(&po.packet, &md));
    flow.in_port = po.in_port;
    let mut locked = LockedBridges::lock(&reg);
    let out = match locked.get(bridge) {
        Some(o) => xlate(
            o,
            &locked,
            XlateIn {
                flow: flow.clone(),
                packet: Some(&po.packet),
                trace: false,
                allow_side_effects: true,
                revalidation: false,
                ofpacts: Some(&po.actions),
                in_packet_out: true,
            },
        ),
        None => return,
    };
    if let Some(o) = locked.get(bridge) {
        // The packet counts for the rules and groups its actions went
        // through and the patch and tunnel ports it crossed, as upstream's.
        let (now, len) = (o.now(), po.packet.len() as u64);
        for r in &out.rules {
            r.credit(1, len, now);
        }
        out.credits().credit(1, len);
    }
    let pending = apply_side_effects(&mut locked, out.side_effects);
    drop(locked);
    flow.in_port = reg
        .odp
        .iter()
        .find(|(_, (b, ofp))| b == bridge && *ofp == po.in_port)
        .map(|((_, odp), _)| *odp)
        .unwrap_or(u32::MAX);
    // The execution's controller actions come back to the upcall handler
    // on this thread, which reads the registry itself.
    drop(reg);
    if let Err(e) = datapath::Dpif::execute(dp, &po.packet, &flow, &out.actions) {
        vlog::warn!(
            "ofproto_dpif",
            "{bridge}: execution of packet-out failed: {e}"
        );
    }
    if !pending.is_empty() {
        send_pending(registry, dp, pending);
    }
}
