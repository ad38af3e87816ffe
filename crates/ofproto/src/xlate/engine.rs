//! The action interpreter: the translation context and the walk over an
//! OpenFlow action list (upstream's `do_xlate_actions`), table lookups with
//! table-miss handling, resubmit recursion and the end-of-pipeline work
//! (action set, freezing, megaflow clean-up).

use std::sync::Arc;

use flow::actions::{format_actions, OfpAction, OfpPort};
use flow::odp::actions::OdpAction;
use flow::MfValue;
use packet::Flow;

use super::commit::{self, is_ip_any};
use super::report::{Cursor, NodeKind, Trace};
use super::{Bridges, CtRecirc, SideEffect, XlateError, XlateIn, XlateOut};
use crate::ofproto::Ofproto;
use crate::rule::Rule;
use crate::table::TableMiss;

/// Most nested resubmits (upstream's MAX_DEPTH).
pub const MAX_DEPTH: u32 = 64;
/// Most resubmits per translation (upstream's MAX_RESUBMITS).
pub const MAX_RESUBMITS: u32 = MAX_DEPTH * MAX_DEPTH;
/// Most bytes of stack (`push`).
const MAX_STACK_BYTES: usize = 1024 * 1024;

/// `OFPP_*` numbers in the 16-bit space the flow key uses.
pub const OFPP_MAX: u32 = 0xff00;
pub const OFPP_IN_PORT: u32 = 0xfff8;
pub const OFPP_TABLE: u32 = 0xfff9;
pub const OFPP_NORMAL: u32 = 0xfffa;
pub const OFPP_FLOOD: u32 = 0xfffb;
pub const OFPP_ALL: u32 = 0xfffc;
pub const OFPP_CONTROLLER: u32 = 0xfffd;
pub const OFPP_LOCAL: u32 = 0xfffe;
pub const OFPP_NONE: u32 = 0xffff;
pub const OFPP_UNSET: u32 = 0xfff7;

/// Packet-in reasons as the controller cookie carries them.
pub const OFPR_ACTION: u16 = 1;
pub const OFPR_INVALID_TTL: u16 = 2;
pub const OFPR_ACTION_SET: u16 = 3;
pub const OFPR_GROUP: u16 = 4;
pub const OFPR_PACKET_OUT: u16 = 5;
pub const OFPR_EXPLICIT_MISS: u16 = 6;

/// The translation context.
pub(crate) struct Ctx<'a> {
    pub bridges: &'a dyn Bridges,
    /// The bridge being translated in.
    pub br: &'a Ofproto,
    pub packet: Option<&'a [u8]>,
    pub allow_side_effects: bool,
    /// The revalidator's translation of an installed flow (upstream's,
    /// through its translation cache: `learn` then reports what learning
    /// would give without learning).
    pub revalidation: bool,
    /// Controller actions are `dont_send` (side-effect-free translation
    /// outside revalidation).
    pub dont_send: bool,
    pub in_packet_out: bool,
    /// The flow as the pipeline changes it.
    pub flow: Flow,
    /// The packet as the datapath actions so far leave it.
    pub base: Flow,
    /// The megaflow mask.
    pub wc: Flow,
    /// The flow translation started with.
    pub orig_flow: Flow,
    pub odp: Vec<OdpAction>,
    pub trace: Option<Trace>,
    pub side: Vec<SideEffect>,
    pub slow: u32,
    pub error: Option<XlateError>,
    pub depth: u32,
    pub resubmits: u32,
    pub table_id: u8,
    pub rule: Option<Arc<Rule>>,
    pub rule_cookie: u64,
    pub exit: bool,
    pub stack: Vec<MfValue>,
    pub action_set: Vec<OfpAction>,
    pub action_set_has_group: bool,
    pub in_group: bool,
    pub in_action_set: bool,
    pub conntracked: bool,
    pub was_mpls: bool,
    pub freezing: bool,
    pub frozen_actions: Vec<OfpAction>,
    pub pause: Option<flow::actions::Controller>,
    /// `nat` seen inside the `ct` being translated.
    pub ct_nat: Option<flow::actions::Nat>,
    pub orig_skb_priority: u32,
    pub ct_recircs: Vec<CtRecirc>,
    /// A thawed packet (its frozen state was restored).
    pub thawed: bool,
    /// Why the last lookup found nothing.
    pub miss: Miss,
    /// Flows learned earlier in this translation: upstream adds them at
    /// once in the next version of the tables, so later lookups in their
    /// table search their subtables without seeing them.
    pub learned: Vec<Arc<Rule>>,
    /// Every rule the pipeline matched, in order (statistics go to them).
    pub rules: Vec<Arc<Rule>>,
    /// Tunnel ports crossed (statistics go to them).
    pub tunnel_stats: Vec<crate::tnl::StatsCredit>,
    /// Groups run (statistics go to them and the buckets taken).
    pub group_stats: Vec<super::GroupCredit>,
    /// Mirrors already used (a destination gets one copy per packet).
    pub mirrors: crate::mirror::MirrorMask,
    /// The snap length of the mirror copy being output (0: none).
    pub mirror_snaplen: u32,
    /// Mirrors the packet was eligible for (statistics go to them).
    pub mirror_stats: Vec<std::sync::Arc<crate::mirror::MirrorCounters>>,
}

impl<'a> Ctx<'a> {
    /// Adds a trace node (no-op without a trace).
    pub fn report(&mut self, kind: NodeKind, text: impl FnOnce() -> String) {
        if let Some(t) = self.trace.as_mut() {
            t.report(kind, text());
        }
    }

    /// Adds a trace node and descends into it; returns where to come back.
    pub fn descend(&mut self, kind: NodeKind, text: impl FnOnce() -> String) -> Option<Cursor> {
        self.trace.as_mut().map(|t| t.descend(kind, text()))
    }

    /// Returns to a list saved by [`Ctx::descend`] or [`Ctx::trace_cursor`].
    pub fn restore(&mut self, c: Option<Cursor>) {
        if let (Some(t), Some(c)) = (self.trace.as_mut(), c) {
            t.enter(c);
        }
    }

    pub fn trace_cursor(&self) -> Option<Cursor> {
        self.trace.as_ref().map(|t| t.cursor())
    }

    pub fn report_error(&mut self, text: impl FnOnce() -> String) {
        self.report(NodeKind::Error, text);
    }

    /// Emits the actions that bring the datapath packet up to date.
    pub fn commit(&mut self) {
        let slow =
            commit::commit_odp_actions(&self.flow, &mut self.base, &mut self.wc, &mut self.odp);
        self.slow |= slow;
    }

    /// Stops translation here, to resume after recirculation.
    pub fn trigger_freeze(&mut self) {
        self.exit = true;
        self.freezing = true;
    }

    pub fn cancel_freeze(&mut self) {
        if self.freezing {
            self.freezing = false;
            self.frozen_actions.clear();
            self.pause = None;
        }
    }
}

/// Megaflow bits every translation examines.
fn wc_init(flow: &Flow, wc: &mut Flow) {
    *wc = Flow::default();
    wc.packet_type = u32::MAX;
    wc.in_port = u32::MAX;
    wc.dl_type = u16::MAX;
    if is_ip_any(flow) {
        wc.nw_frag = packet::flow::FLOW_NW_FRAG_MASK;
    }
    wc.recirc_id = u32::MAX;
    // Packets received from a tunnel (upstream's `tnl_wc_init`): the key,
    // the endpoints of the address family in use, the DF/checksum/key
    // flags and the outer TOS; the ECN bits when the outer header says CE.
    if flow.tunnel.ip_dst != 0 || flow.tunnel.ipv6_dst != [0; 16] {
        let t = &mut wc.tunnel;
        t.tun_id = u64::MAX;
        if flow.tunnel.ip_dst != 0 {
            t.ip_dst = u32::MAX;
            t.ip_src = u32::MAX;
        } else {
            t.ipv6_dst = [0xff; 16];
            t.ipv6_src = [0xff; 16];
        }
        t.flags |= 0x2 | 0x4 | 0x8;
        t.ip_tos = 0xff;
        if is_ip_any(flow) && flow.tunnel.ip_tos & 0x3 == 0x3 {
            wc.nw_tos |= 0x3;
        }
    }
}

/// Final clean-up of the megaflow mask (upstream's `xlate_wc_finish`).
fn wc_finish(orig: &Flow, wc: &mut Flow) {
    // Fields that are not part of the datapath key.
    wc.metadata = 0;
    wc.regs = [0; packet::flow::FLOW_N_REGS];
    wc.conj_id = 0;
    wc.actset_output = 0;
    // A packet that came in without a tunnel has no tunnel key to match.
    if orig.tunnel.ip_dst == 0 && orig.tunnel.ipv6_dst == [0; 16] {
        wc.tunnel = Default::default();
    }
    if orig.packet_type != 0 {
        wc.dl_dst = [0; 6];
        wc.dl_src = [0; 6];
    }
    let icmp = (orig.dl_type == 0x0800 && orig.nw_proto == 1)
        || (orig.dl_type == 0x86dd && orig.nw_proto == 58);
    if icmp {
        wc.tp_src &= 0xff;
        wc.tp_dst &= 0xff;
    }
    for v in wc.vlans.iter_mut() {
        if v.tci != 0 {
            v.tci |= commit::VLAN_CFI;
        }
    }
    if orig.nw_frag & packet::flow::FLOW_NW_FRAG_LATER != 0 {
        wc.tp_src = 0;
        wc.tp_dst = 0;
    }
    let arp = orig.dl_type == 0x0806 || orig.dl_type == 0x8035;
    if orig.dl_type != 0x0800 && !arp {
        wc.nw_src = 0;
        wc.nw_dst = 0;
    }
    if orig.dl_type != 0x86dd {
        wc.ipv6_src = [0; 16];
        wc.ipv6_dst = [0; 16];
        wc.ipv6_label = 0;
        wc.nd_target = [0; 16];
    }
    if !is_ip_any(orig) {
        // ARP keeps its opcode in the same storage as the IP protocol.
        if !arp {
            wc.nw_proto = 0;
        }
        wc.nw_ttl = 0;
        wc.nw_tos = 0;
    }
    let l4 = is_ip_any(orig) && matches!(orig.nw_proto, 6 | 17 | 132 | 1 | 58);
    if !l4 {
        wc.tp_src = 0;
        wc.tp_dst = 0;
    }
    if orig.vlans[0].tci == 0 {
        wc.vlans = Default::default();
    }
    if !commit::eth_type_mpls(orig.dl_type) {
        wc.mpls_lse = [0; packet::flow::FLOW_MAX_MPLS_LABELS];
    }
}

/// A VLAN header without a TPID gets 802.1Q (upstream's
/// `flow_fix_vlan_tpid`, applied whenever a VLAN field is set).
pub fn fix_vlan_tpid(flow: &mut Flow) {
    for v in flow.vlans.iter_mut() {
        if v.tpid == 0 && v.tci & commit::VLAN_CFI != 0 {
            v.tpid = 0x8100;
        }
    }
}

pub(crate) fn run<'a>(br: &'a Ofproto, bridges: &'a dyn Bridges, input: XlateIn<'a>) -> XlateOut {
    let mut input = input;
    fix_vlan_tpid(&mut input.flow);
    super::tunnel_options::for_bridge(br, &mut input.flow.tunnel);
    let mut wc = Flow::default();
    wc_init(&input.flow, &mut wc);
    br.tun_layout().apply(&mut wc.tunnel.metadata);
    let mut ctx = Ctx {
        bridges,
        br,
        packet: input.packet,
        allow_side_effects: input.allow_side_effects,
        revalidation: input.revalidation,
        dont_send: !input.allow_side_effects && !input.revalidation,
        in_packet_out: input.in_packet_out,
        flow: input.flow,
        base: input.flow,
        wc,
        orig_flow: input.flow,
        odp: Vec::new(),
        trace: if input.trace {
            Some(Trace::new())
        } else {
            None
        },
        side: Vec::new(),
        slow: 0,
        error: None,
        depth: 0,
        resubmits: 0,
        table_id: 0,
        rule: None,
        // Upstream's "no rule" cookie (packet-outs keep it).
        rule_cookie: u64::MAX,
        exit: false,
        stack: Vec::new(),
        action_set: Vec::new(),
        action_set_has_group: false,
        in_group: false,
        in_action_set: false,
        conntracked: false,
        was_mpls: false,
        freezing: false,
        frozen_actions: Vec::new(),
        pause: None,
        ct_nat: None,
        orig_skb_priority: input.flow.skb_priority,
        ct_recircs: Vec::new(),
        thawed: false,
        miss: Miss::None,
        learned: Vec::new(),
        rules: Vec::new(),
        tunnel_stats: Vec::new(),
        group_stats: Vec::new(),
        mirrors: 0,
        mirror_snaplen: 0,
        mirror_stats: Vec::new(),
    };
    super::tunnel::note_ingress(&mut ctx);
    let name = ctx.br.name.clone();
    ctx.descend(NodeKind::Bridge, || format!("bridge(\"{name}\")"));
    ctx.flow.actset_output = OFPP_UNSET;

    let mut actions: Option<Vec<OfpAction>> = input.ofpacts.map(|a| a.to_vec());
    if ctx.flow.recirc_id != 0 {
        if !thaw(&mut ctx, &mut actions) {
            return finish(ctx);
        }
    } else {
        // A packet not yet conntracked has no connection state.
        ctx.conntracked = false;
    }

    let mut miss_rule = false;
    if actions.is_none() {
        let in_port = ctx.flow.in_port;
        let table = ctx.table_id;
        let rule = lookup_from_table(&mut ctx, table, in_port, true, true);
        ctx.rule = rule.clone();
        let tid = ctx.table_id;
        report_table(&mut ctx, rule.as_ref(), tid);
        match rule {
            Some(r) => {
                ctx.rule_cookie = r.cookie;
                actions = Some(r.actions.to_vec());
            }
            None => {
                miss_rule = ctx.miss == Miss::PacketIn;
                actions = Some(Vec::new());
            }
        }
    }
    let acts = actions.unwrap_or_default();
    if let Some(name) = super::mirror::input_reserved(&ctx) {
        ctx.report_error(|| {
            format!("dropping packet received on port {name}, which is reserved exclusively for mirroring")
        });
        return finish(ctx);
    }
    let in_port_ok = may_receive(&mut ctx);
    if in_port_ok {
        super::mirror::ingress(&mut ctx);
        if miss_rule {
            miss_packet_in(&mut ctx);
        } else {
            do_actions(&mut ctx, &acts, true, false);
        }
        if ctx.error.is_none() {
            if !ctx.freezing {
                super::output::xlate_action_set(&mut ctx);
            }
            if ctx.freezing {
                super::freeze::finish_freezing(&mut ctx);
            }
        }
        if ctx.br.config.in_band {
            in_band_dhcp_reply(&mut ctx);
        }
    }
    finish(ctx)
}

/// In-band control: a DHCP reply (UDP from port 67 to 68) that the
/// pipeline did not send to the local port goes there as well, so the
/// bridge's own DHCP client gets its address (upstream's
/// `in_band_must_output_to_local_port`).
fn in_band_dhcp_reply(ctx: &mut Ctx) {
    let f = &ctx.orig_flow;
    if !(f.dl_type == 0x0800 && f.nw_proto == 17 && f.tp_src == 67 && f.tp_dst == 68) {
        return;
    }
    let Some(local) = ctx.br.port(OFPP_LOCAL).map(|p| p.odp_port) else {
        return;
    };
    if ctx
        .odp
        .iter()
        .any(|a| matches!(a, OdpAction::Output(p) if *p == local))
    {
        return;
    }
    ctx.wc.nw_proto = u8::MAX;
    ctx.wc.tp_src = u16::MAX;
    ctx.wc.tp_dst = u16::MAX;
    ctx.wc.dl_type = u16::MAX;
    ctx.report(NodeKind::Detail, || {
        "outputting DHCP packet to local port for in-band control".into()
    });
    super::output::compose_output(ctx, OFPP_LOCAL, false, false);
}

/// Whether the input port accepts packets (`no-recv`).
fn may_receive(ctx: &mut Ctx) -> bool {
    if let Some(p) = ctx.br.port(ctx.flow.in_port) {
        if p.config & OFPPC_NO_RECV != 0 {
            ctx.report(NodeKind::Warn, || {
                "OFPPC_NO_RECV set, skipping input".into()
            });
            return false;
        }
    }
    true
}

pub const OFPPC_PORT_DOWN: u32 = 1 << 0;
pub const OFPPC_NO_RECV: u32 = 1 << 2;
pub const OFPPC_NO_FWD: u32 = 1 << 5;
pub const OFPPC_NO_PACKET_IN: u32 = 1 << 6;
pub const OFPPC_NO_FLOOD: u32 = 1 << 4;
pub const OFPPS_LINK_DOWN: u32 = 1 << 0;

fn finish(mut ctx: Ctx) -> XlateOut {
    if ctx.error.is_none() {
        let orig = ctx.orig_flow;
        wc_finish(&orig, &mut ctx.wc);
    } else {
        ctx.odp.clear();
        let orig = ctx.orig_flow;
        wc_finish(&orig, &mut ctx.wc);
    }
    XlateOut {
        actions: ctx.odp,
        wc: ctx.wc,
        side_effects: ctx.side,
        slow: ctx.slow,
        error: ctx.error,
        final_flow: ctx.flow,
        trace: ctx.trace,
        ct_recircs: ctx.ct_recircs,
        rules: ctx.rules,
        tunnel_stats: ctx.tunnel_stats,
        group_stats: ctx.group_stats,
        mirror_stats: ctx.mirror_stats,
    }
}

/// Restores a frozen state; false if translation must stop.
fn thaw(ctx: &mut Ctx, actions: &mut Option<Vec<OfpAction>>) -> bool {
    let id = ctx.flow.recirc_id;
    let state = match super::recirc::lookup(id) {
        Some(s) => s,
        None => {
            ctx.report_error(|| format!("Recirculation context not found for ID {id:x}"));
            ctx.error = Some(XlateError::NoRecirculationContext);
            return false;
        }
    };
    let back = ctx.descend(NodeKind::Thaw, || "thaw".into());
    if actions.is_some() {
        ctx.report_error(|| "Recirculation conflict (actions)!".into());
        ctx.error = Some(XlateError::RecirculationConflict);
        ctx.restore(back);
        return false;
    }
    if state.bridge != ctx.br.name {
        match ctx.bridges.bridge(&state.bridge) {
            Some(b) => ctx.br = b,
            None => {
                ctx.report_error(|| "Frozen bridge no longer exists.".into());
                ctx.error = Some(XlateError::BridgeNotFound);
                ctx.restore(back);
                return false;
            }
        }
    }
    ctx.table_id = state.table_id;
    let t = state.table_id;
    ctx.report(NodeKind::Thaw, || format!("Resuming from table {t}"));
    ctx.conntracked = state.conntracked;
    if !state.conntracked {
        super::freeze::clear_conntrack(&mut ctx.flow);
    }
    state.metadata.to_flow(&mut ctx.flow);
    ctx.stack = state.stack.clone();
    ctx.was_mpls = state.was_mpls;
    ctx.mirrors = state.mirrors;
    if !state.action_set.is_empty() {
        let txt = format_actions(&state.action_set);
        ctx.report(NodeKind::Thaw, || format!("Restoring action set: {txt}"));
        ctx.flow.actset_output = OFPP_UNSET;
        super::output::write_actions(ctx, &state.action_set);
    }
    if !state.actions.is_empty() {
        let txt = format_actions(&state.actions);
        ctx.report(NodeKind::Thaw, || format!("Restoring actions: {txt}"));
        *actions = Some(state.actions.clone());
    }
    ctx.thawed = true;
    ctx.restore(back);
    true
}

/// The table-miss behaviour of `table_id`.
fn miss_config(br: &Ofproto, table_id: u8) -> TableMiss {
    br.table_config(table_id)
        .map(|c| c.miss)
        .unwrap_or_default()
}

/// Looks up from `table_id` on, following table-miss "continue" settings.
/// Sets `ctx.table_id` to the table where the search ended.  `None` means
/// a miss that drops; a miss that sends to the controller returns `None`
/// too but reports it.
pub(crate) fn lookup_from_table(
    ctx: &mut Ctx,
    table_id: u8,
    in_port: u32,
    may_packet_in: bool,
    honor_table_miss: bool,
) -> Option<Arc<Rule>> {
    let mut saved_tp = None;
    if ctx.flow.nw_frag & packet::flow::FLOW_NW_FRAG_ANY != 0 {
        match ctx.br.config.frag_handling {
            // OFPUTIL_FRAG_NORMAL: transport ports are unavailable.
            0 => {
                saved_tp = Some((ctx.flow.tp_src, ctx.flow.tp_dst));
                ctx.flow.tp_src = 0;
                ctx.flow.tp_dst = 0;
            }
            // OFPUTIL_FRAG_DROP.
            1 => {
                ctx.table_id = table_id;
                ctx.miss = Miss::DropFrags;
                return None;
            }
            _ => {}
        }
    }
    let old_in_port = ctx.flow.in_port;
    ctx.flow.in_port = in_port;
    let mut next = table_id as u32;
    let mut cfg = TableMiss::Continue;
    let mut found = None;
    while next < 255 {
        ctx.table_id = next as u8;
        let hit = ctx.br.lookup(next as u8, &ctx.flow, &mut ctx.wc);
        for l in ctx.learned.iter().filter(|l| l.table_id == next as u8) {
            // A flow learned by this translation is in the classifier but
            // not yet in the version this translation looks up (as
            // upstream's): its subtable is searched, its rule never hit.
            ctx.wc = ctx.wc.or(&l.match_.wc);
        }
        if let Some(r) = hit {
            ctx.rules.push(r.clone());
            found = Some(r);
            break;
        }
        if honor_table_miss {
            cfg = miss_config(ctx.br, next as u8);
            if cfg == TableMiss::Continue {
                next += 1;
                if next == 254 {
                    next += 1;
                }
                continue;
            }
        }
        break;
    }
    ctx.flow.in_port = old_in_port;
    if let Some((s, d)) = saved_tp {
        ctx.flow.tp_src = s;
        ctx.flow.tp_dst = d;
    }
    if found.is_some() {
        ctx.miss = Miss::None;
        return found;
    }
    ctx.miss = Miss::NoPacketIn;
    if may_packet_in && (cfg == TableMiss::Continue || cfg == TableMiss::Controller) {
        if let Some(p) = ctx.br.port(old_in_port) {
            if p.config & OFPPC_NO_PACKET_IN == 0 {
                ctx.miss = Miss::PacketIn;
            }
        }
    } else if may_packet_in && cfg == TableMiss::Default && ctx.br.config.packet_in_on_miss {
        // The version default: a connection below OpenFlow 1.3 (or not yet
        // settled) wants misses, whatever the port's no-packet-in bit.
        ctx.miss = Miss::PacketIn;
    }
    None
}

/// Why a lookup found no rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub(crate) enum Miss {
    #[default]
    None,
    NoPacketIn,
    PacketIn,
    DropFrags,
}

/// Reports the table line of a lookup result.
pub(crate) fn report_table(ctx: &mut Ctx, rule: Option<&Arc<Rule>>, table_id: u8) {
    if ctx.trace.is_none() {
        return;
    }
    let mut s = format!("{table_id:2}. ");
    match rule {
        None => match ctx.miss {
            Miss::PacketIn => s.push_str("No match, and a \"packet-in\" is called for."),
            Miss::DropFrags => {
                s.push_str("Packets are IP fragments and the fragment handling mode is \"drop\".")
            }
            _ => s.push_str("No match."),
        },
        Some(r) => {
            s.push_str(&flow::match_format::format_match(
                &r.match_,
                flow::matches::OFP_DEFAULT_PRIORITY,
                None,
            ));
            if !s.ends_with(' ') {
                s.push_str(", ");
            }
            s.push_str(&format!("priority {}", ctx.br.rule_priority(r)));
            if r.cookie != 0 {
                s.push_str(&format!(", cookie {:#x}", r.cookie));
            }
        }
    }
    let c = ctx.descend(NodeKind::Table, || s);
    let _ = c;
}

/// Runs the hidden miss rule (upstream's `miss_rule`, cookie 0):
/// `controller` with the internal reason `OFPR_IMPLICIT_MISS` (which has
/// no name: the trace shows `controller(reason=)`), the whole packet, to
/// controller id 0.  Connections of OpenFlow 1.3 or later do not get
/// these packet-ins (see `handler::asyncmsg::encode_for`).
fn miss_packet_in(ctx: &mut Ctx) {
    ctx.report(NodeKind::Action, || "controller(reason=)".into());
    ctx.rule_cookie = 0;
    super::output::controller_action(
        ctx,
        u16::MAX,
        u16::from(crate::handler::asyncmsg::OFPR_IMPLICIT_MISS),
        0,
        &[],
    );
}

/// Resubmit / goto_table: looks up `table_id` with `in_port` and runs the
/// rule found.
pub(crate) fn table_action(
    ctx: &mut Ctx,
    in_port: u32,
    table_id: u8,
    may_packet_in: bool,
    honor_table_miss: bool,
    with_ct_orig: bool,
    is_last: bool,
) {
    if ctx.was_mpls {
        ctx.trigger_freeze();
        return;
    }
    if !resource_check(ctx) {
        return;
    }
    let old_table = ctx.table_id;
    let saved_ct = if with_ct_orig {
        swap_ct_orig(ctx)
    } else {
        None
    };
    let rule = lookup_from_table(ctx, table_id, in_port, may_packet_in, honor_table_miss);
    if let Some(f) = saved_ct {
        restore_ct_orig(ctx, f);
    }
    let t = ctx.table_id;
    let deepens = t <= old_table;
    recurse(ctx, rule, t, deepens, is_last);
    ctx.table_id = old_table;
}

/// With `ct` original-direction lookup: the flow's 5-tuple becomes the
/// connection's original tuple for the lookup.
fn swap_ct_orig(ctx: &mut Ctx) -> Option<Flow> {
    let f = ctx.flow;
    if ctx.flow.ct_state & flow::matches::CS_TRACKED == 0 || ctx.flow.ct_nw_proto == 0 {
        return None;
    }
    ctx.wc.ct_nw_proto = 0xff;
    if ctx.flow.dl_type == 0x0800 {
        ctx.flow.nw_src = f.ct_nw_src;
        ctx.flow.nw_dst = f.ct_nw_dst;
        ctx.wc.ct_nw_src = u32::MAX;
        ctx.wc.ct_nw_dst = u32::MAX;
    } else {
        ctx.flow.ipv6_src = f.ct_ipv6_src;
        ctx.flow.ipv6_dst = f.ct_ipv6_dst;
        ctx.wc.ct_ipv6_src = [0xff; 16];
        ctx.wc.ct_ipv6_dst = [0xff; 16];
    }
    ctx.flow.nw_proto = f.ct_nw_proto;
    ctx.flow.tp_src = f.ct_tp_src;
    ctx.flow.tp_dst = f.ct_tp_dst;
    ctx.wc.ct_tp_src = u16::MAX;
    ctx.wc.ct_tp_dst = u16::MAX;
    Some(f)
}

fn restore_ct_orig(ctx: &mut Ctx, f: Flow) {
    ctx.flow.nw_src = f.nw_src;
    ctx.flow.nw_dst = f.nw_dst;
    ctx.flow.ipv6_src = f.ipv6_src;
    ctx.flow.ipv6_dst = f.ipv6_dst;
    ctx.flow.nw_proto = f.nw_proto;
    ctx.flow.tp_src = f.tp_src;
    ctx.flow.tp_dst = f.tp_dst;
}

/// Upstream's resource checks before a resubmit.
fn resource_check(ctx: &mut Ctx) -> bool {
    if ctx.depth >= MAX_DEPTH {
        ctx.report_error(|| format!("over max translation depth {MAX_DEPTH}"));
        ctx.error = Some(XlateError::RecursionTooDeep);
    } else if ctx.resubmits >= MAX_RESUBMITS {
        ctx.report_error(|| format!("over {MAX_RESUBMITS} resubmit actions"));
        ctx.error = Some(XlateError::TooManyResubmits);
    } else if ctx.odp.len() > 65535 / 4 {
        ctx.report_error(|| "resubmits yielded over 64 kB of actions".into());
        ctx.error = Some(XlateError::TooManyResubmits);
    } else if ctx.stack.iter().map(|v| v.len()).sum::<usize>() >= MAX_STACK_BYTES {
        ctx.report_error(|| "resubmits yielded over 64 kB of stack".into());
        ctx.error = Some(XlateError::StackTooDeep);
    } else {
        return true;
    }
    false
}

/// Runs `rule`'s actions (or the miss actions) one level deeper.
pub(crate) fn recurse(
    ctx: &mut Ctx,
    rule: Option<Arc<Rule>>,
    table_id: u8,
    deepens: bool,
    is_last: bool,
) {
    let back = ctx.trace_cursor();
    report_table(ctx, rule.as_ref(), table_id);
    ctx.resubmits += 1;
    if deepens {
        ctx.depth += 1;
    }
    let old_rule = std::mem::replace(&mut ctx.rule, rule.clone());
    let old_cookie = ctx.rule_cookie;
    let acts: Vec<OfpAction> = match &rule {
        Some(r) => {
            ctx.rule_cookie = r.cookie;
            r.actions.to_vec()
        }
        None if ctx.miss == Miss::PacketIn => {
            miss_packet_in(ctx);
            Vec::new()
        }
        None => Vec::new(),
    };
    if rule.is_some() || ctx.miss != Miss::PacketIn {
        do_actions(ctx, &acts, is_last, false);
    }
    ctx.rule_cookie = old_cookie;
    ctx.rule = old_rule;
    if deepens {
        ctx.depth -= 1;
    }
    ctx.restore(back);
}

/// Whether an action needs the L3 headers that an MPLS pop hid (so the
/// packet must be re-parsed first).
fn needs_recirc_after_mpls(a: &OfpAction) -> bool {
    match a {
        OfpAction::Output(_)
        | OfpAction::OutputTrunc { .. }
        | OfpAction::Enqueue { .. }
        | OfpAction::OutputReg { .. }
        | OfpAction::SetVlanVid { .. }
        | OfpAction::SetVlanPcp { .. }
        | OfpAction::SetEthSrc(_)
        | OfpAction::SetEthDst(_)
        | OfpAction::SetTunnel { .. }
        | OfpAction::SetQueue(_)
        | OfpAction::Group(_) => false,
        OfpAction::SetField(sf) => super::fields::is_l3_or_higher(sf.field),
        _ => true,
    }
}

/// Translates an action list (upstream's `do_xlate_actions`).
pub(crate) fn do_actions(ctx: &mut Ctx, acts: &[OfpAction], is_last: bool, group_bucket: bool) {
    if acts.is_empty() {
        ctx.report(NodeKind::Action, || "drop".into());
        return;
    }
    let mut i = 0;
    while i < acts.len() {
        let a = &acts[i];
        let last = is_last && i + 1 == acts.len() && ctx.action_set.is_empty();
        if ctx.error.is_some() {
            break;
        }
        if !ctx.exit && ctx.was_mpls && needs_recirc_after_mpls(a) {
            ctx.trigger_freeze();
        }
        if ctx.exit {
            if ctx.freezing {
                ctx.frozen_actions.extend_from_slice(&acts[i..]);
            }
            break;
        }
        if ctx.trace.is_some() {
            let txt = format_actions(std::slice::from_ref(a));
            ctx.report(NodeKind::Action, || txt);
        }
        let mut skip_rest = false;
        execute(ctx, a, acts, i, last, group_bucket, &mut skip_rest, &mut i);
        if skip_rest {
            return;
        }
        i += 1;
    }
}

#[allow(clippy::too_many_arguments)]
fn execute(
    ctx: &mut Ctx,
    a: &OfpAction,
    acts: &[OfpAction],
    idx: usize,
    last: bool,
    group_bucket: bool,
    stop: &mut bool,
    cursor: &mut usize,
) {
    use super::{fields, freeze, group, learn, output};
    match a {
        OfpAction::Output(o) => output::output_action(
            ctx,
            u32::from(o.port.0),
            o.max_len,
            true,
            last,
            false,
            group_bucket,
        ),
        OfpAction::OutputTrunc { port, max_len } => {
            output::output_trunc_action(ctx, u32::from(port.0), *max_len, last, group_bucket)
        }
        OfpAction::Enqueue { port, queue } => {
            ctx.wc.skb_priority = u32::MAX;
            output::enqueue_action(ctx, u32::from(port.0), *queue, last, group_bucket);
        }
        OfpAction::OutputReg { src, max_len, .. } => {
            let v = src.read(&ctx.flow).to_u128();
            if v <= 0xffff {
                let port = v as u32;
                ctx.report(NodeKind::Detail, || format!("output port is {port}"));
                fields::unwildcard_subfield(&mut ctx.wc, src);
                output::output_action(ctx, port, *max_len, false, last, false, group_bucket);
            } else {
                ctx.report(NodeKind::Warn, || {
                    format!("output port {v} is out of range")
                });
            }
        }
        OfpAction::Group(id) => {
            if group::group_action(ctx, *id, last) {
                *stop = true;
            }
        }
        OfpAction::Controller(c) => {
            if c.pause {
                ctx.pause = Some(c.clone());
                ctx.trigger_freeze();
                // The paused action itself is not frozen.
                ctx.frozen_actions.extend_from_slice(&acts[idx + 1..]);
                *cursor = acts.len();
            } else {
                output::controller_action(
                    ctx,
                    c.max_len,
                    c.reason as u16,
                    c.controller_id,
                    &c.userdata,
                );
            }
        }
        OfpAction::Bundle(b) => output::bundle_action(ctx, b, last, group_bucket),
        OfpAction::SetField(sf) => fields::set_field(ctx, sf),
        OfpAction::SetVlanVid {
            vid,
            push_vlan_if_needed,
            ..
        } => {
            ctx.wc.vlans[0].tci |= 0x0fff | commit::VLAN_CFI;
            if ctx.flow.vlans[0].tci & commit::VLAN_CFI != 0 || *push_vlan_if_needed {
                if ctx.flow.vlans[0].tpid == 0 {
                    ctx.flow.vlans[0].tpid = 0x8100;
                }
                ctx.flow.vlans[0].tci =
                    (ctx.flow.vlans[0].tci & !0x0fff) | (vid & 0x0fff) | commit::VLAN_CFI;
            }
        }
        OfpAction::SetVlanPcp {
            pcp,
            push_vlan_if_needed,
            ..
        } => {
            ctx.wc.vlans[0].tci |= 0xe000 | commit::VLAN_CFI;
            if ctx.flow.vlans[0].tci & commit::VLAN_CFI != 0 || *push_vlan_if_needed {
                if ctx.flow.vlans[0].tpid == 0 {
                    ctx.flow.vlans[0].tpid = 0x8100;
                }
                ctx.flow.vlans[0].tci = (ctx.flow.vlans[0].tci & !0xe000)
                    | (u16::from(*pcp & 7) << 13)
                    | commit::VLAN_CFI;
            }
        }
        OfpAction::StripVlan { .. } => {
            // flow_pop_vlan: inner headers move out (and become examined).
            let n = commit::count_vlans(&ctx.flow);
            if n > 1 {
                for i in 1..n {
                    ctx.wc.vlans[i].tpid = u16::MAX;
                    ctx.wc.vlans[i].tci = u16::MAX;
                }
                ctx.flow.vlans.copy_within(1..n, 0);
            }
            if n > 0 {
                ctx.flow.vlans[n - 1] = Default::default();
            }
        }
        OfpAction::PushVlan { ethertype } => {
            // flow_push_vlan_uninit
            let n = commit::count_vlans(&ctx.flow);
            for i in 0..n {
                ctx.wc.vlans[i].tpid = u16::MAX;
                ctx.wc.vlans[i].tci = u16::MAX;
            }
            ctx.flow.vlans[1] = ctx.flow.vlans[0];
            ctx.flow.vlans[0].tpid = *ethertype;
            ctx.flow.vlans[0].tci = commit::VLAN_CFI;
        }
        OfpAction::SetEthSrc(m) => {
            ctx.wc.dl_src = [0xff; 6];
            ctx.flow.dl_src = *m;
        }
        OfpAction::SetEthDst(m) => {
            ctx.wc.dl_dst = [0xff; 6];
            ctx.flow.dl_dst = *m;
        }
        OfpAction::SetIpv4Src(ip) => {
            if ctx.flow.dl_type == commit::ETH_TYPE_IP {
                ctx.wc.nw_proto = 0xff;
                ctx.wc.nw_src = u32::MAX;
                ctx.flow.nw_src = u32::from(*ip);
            }
        }
        OfpAction::SetIpv4Dst(ip) => {
            if ctx.flow.dl_type == commit::ETH_TYPE_IP {
                ctx.wc.nw_proto = 0xff;
                ctx.wc.nw_dst = u32::MAX;
                ctx.flow.nw_dst = u32::from(*ip);
            }
        }
        OfpAction::SetIpDscp(d) => {
            if is_ip_any(&ctx.flow) {
                ctx.wc.nw_proto = 0xff;
                ctx.wc.nw_tos |= 0xfc;
                ctx.flow.nw_tos = (ctx.flow.nw_tos & !0xfc) | (d & 0xfc);
            }
        }
        OfpAction::SetIpEcn(e) => {
            if is_ip_any(&ctx.flow) {
                ctx.wc.nw_proto = 0xff;
                ctx.wc.nw_tos |= 0x03;
                ctx.flow.nw_tos = (ctx.flow.nw_tos & !0x03) | (e & 0x03);
            }
        }
        OfpAction::SetIpTtl(t) => {
            if is_ip_any(&ctx.flow) {
                ctx.wc.nw_proto = 0xff;
                ctx.wc.nw_ttl = 0xff;
                ctx.flow.nw_ttl = *t;
            }
        }
        OfpAction::SetL4SrcPort { port, .. } => {
            if is_ip_any(&ctx.flow) && ctx.flow.nw_frag & packet::flow::FLOW_NW_FRAG_LATER == 0 {
                ctx.wc.nw_proto = 0xff;
                ctx.wc.tp_src = u16::MAX;
                ctx.flow.tp_src = *port;
            }
        }
        OfpAction::SetL4DstPort { port, .. } => {
            if is_ip_any(&ctx.flow) && ctx.flow.nw_frag & packet::flow::FLOW_NW_FRAG_LATER == 0 {
                ctx.wc.nw_proto = 0xff;
                ctx.wc.tp_dst = u16::MAX;
                ctx.flow.tp_dst = *port;
            }
        }
        OfpAction::Resubmit(r) => {
            let in_port = if r.in_port == OfpPort::IN_PORT {
                ctx.flow.in_port
            } else {
                u32::from(r.in_port.0)
            };
            let table = if r.table_id == 255 {
                ctx.table_id
            } else {
                r.table_id
            };
            // A resubmit right before the end may not need to come back.
            let is_last = last;
            table_action(ctx, in_port, table, true, true, r.with_ct_orig, is_last);
            // Actions after a resubmit that froze are frozen too.
            if ctx.exit && ctx.freezing {
                ctx.frozen_actions.extend_from_slice(&acts[idx + 1..]);
                *cursor = acts.len();
            }
        }
        OfpAction::SetTunnel { tun_id, .. } => {
            ctx.flow.tunnel.tun_id = *tun_id;
        }
        OfpAction::SetQueue(q) => {
            ctx.wc.skb_priority = u32::MAX;
            output::set_queue(ctx, *q);
        }
        OfpAction::PopQueue => {
            ctx.wc.skb_priority = u32::MAX;
            if ctx.flow.skb_priority != ctx.orig_skb_priority {
                ctx.flow.skb_priority = ctx.orig_skb_priority;
                let p = ctx.flow.skb_priority;
                ctx.report(NodeKind::Detail, || {
                    format!("queue = {}", flow::odp::actions::text::hex0(u128::from(p)))
                });
            }
        }
        OfpAction::RegMove(m) => {
            fields::reg_move(ctx, &m.src, &m.dst);
            let d = m.dst;
            report_subfield(ctx, &d);
        }
        OfpAction::StackPush(sf) => fields::stack_push(ctx, sf),
        OfpAction::StackPop(sf) => {
            if fields::stack_pop(ctx, sf) {
                report_subfield(ctx, sf);
            }
        }
        OfpAction::PushMpls { ethertype } => {
            let n = commit::count_mpls_labels(&ctx.flow, Some(&mut ctx.wc));
            if n == 0 {
                ctx.commit();
            } else if n >= packet::flow::FLOW_MAX_MPLS_LABELS {
                if ctx.packet.is_some() {
                    ctx.report_error(|| {
                        format!(
                            "dropping packet on which an MPLS push action can't be performed as it would have more MPLS LSEs than the {} supported.",
                            packet::flow::FLOW_MAX_MPLS_LABELS
                        )
                    });
                }
                ctx.error = Some(XlateError::TooManyMplsLabels);
                return;
            }
            let mut wc = ctx.wc;
            commit::push_mpls(&mut ctx.flow, n, *ethertype, Some(&mut wc), true);
            ctx.wc = wc;
        }
        OfpAction::PopMpls { ethertype } => {
            let n = commit::count_mpls_labels(&ctx.flow, Some(&mut ctx.wc));
            let mut wc = ctx.wc;
            if commit::pop_mpls(&mut ctx.flow, n, *ethertype, Some(&mut wc)) {
                ctx.wc = wc;
                if !commit::eth_type_mpls(*ethertype) {
                    ctx.was_mpls = true;
                }
            } else if n >= packet::flow::FLOW_MAX_MPLS_LABELS {
                ctx.wc = wc;
                if ctx.packet.is_some() {
                    ctx.report_error(|| {
                        format!(
                            "dropping packet on which an MPLS pop action can't be performed as it would have more MPLS LSEs than the {} supported.",
                            packet::flow::FLOW_MAX_MPLS_LABELS
                        )
                    });
                }
                ctx.error = Some(XlateError::TooManyMplsLabels);
                ctx.odp.clear();
            }
        }
        OfpAction::SetMplsLabel(label) => {
            if commit::eth_type_mpls(ctx.flow.dl_type) {
                ctx.wc.mpls_lse[0] |= 0xffff_f000;
                ctx.flow.mpls_lse[0] = (ctx.flow.mpls_lse[0] & 0xfff) | ((label & 0xfffff) << 12);
            }
        }
        OfpAction::SetMplsTc(tc) => {
            if commit::eth_type_mpls(ctx.flow.dl_type) {
                ctx.wc.mpls_lse[0] |= 0xe00;
                ctx.flow.mpls_lse[0] = (ctx.flow.mpls_lse[0] & !0xe00) | (u32::from(tc & 7) << 9);
            }
        }
        OfpAction::SetMplsTtl(ttl) => {
            if commit::eth_type_mpls(ctx.flow.dl_type) {
                ctx.wc.mpls_lse[0] |= 0xff;
                ctx.flow.mpls_lse[0] = (ctx.flow.mpls_lse[0] & !0xff) | u32::from(*ttl);
            }
        }
        OfpAction::DecMplsTtl => {
            if commit::eth_type_mpls(ctx.flow.dl_type) {
                ctx.wc.mpls_lse[0] |= 0xff;
                let ttl = ctx.flow.mpls_lse[0] & 0xff;
                if ttl > 1 {
                    ctx.flow.mpls_lse[0] = (ctx.flow.mpls_lse[0] & !0xff) | (ttl - 1);
                } else {
                    output::controller_action(ctx, u16::MAX, OFPR_INVALID_TTL, 0, &[]);
                    ctx.report(NodeKind::Warn, || "MPLS decrement TTL exception".into());
                    *stop = true;
                }
            }
        }
        OfpAction::DecTtl { cnt_ids, .. } => {
            ctx.wc.nw_ttl = 0xff;
            if is_ip_any(&ctx.flow) {
                ctx.wc.nw_proto = 0xff;
                if ctx.flow.nw_ttl > 1 {
                    ctx.flow.nw_ttl -= 1;
                } else {
                    let ids = if cnt_ids.is_empty() {
                        vec![0u16]
                    } else {
                        cnt_ids.clone()
                    };
                    for id in ids {
                        output::controller_action(ctx, u16::MAX, OFPR_INVALID_TTL, id, &[]);
                    }
                    let v = if ctx.flow.dl_type == commit::ETH_TYPE_IPV6 {
                        6
                    } else {
                        4
                    };
                    ctx.report(NodeKind::Warn, || format!("IPv{v} decrement TTL exception"));
                    *stop = true;
                }
            }
        }
        OfpAction::DecNshTtl => {
            if ctx.flow.dl_type == 0x894f {
                ctx.wc.nsh.ttl = 0xff;
                if ctx.flow.nsh.ttl > 1 {
                    ctx.flow.nsh.ttl -= 1;
                } else {
                    output::controller_action(ctx, u16::MAX, OFPR_INVALID_TTL, 0, &[]);
                    *stop = true;
                }
            }
        }
        OfpAction::Note(_) => {}
        OfpAction::Multipath(m) => {
            super::hash::multipath_execute(ctx, m);
            let sf = m.dst;
            report_subfield(ctx, &sf);
        }
        OfpAction::Learn(l) => learn::learn_action(ctx, l),
        OfpAction::Conjunction { .. } => {
            ctx.report_error(|| "executing no-op conjunction action".into());
        }
        OfpAction::Exit => ctx.exit = true,
        OfpAction::FinTimeout { idle, hard } => {
            ctx.wc.nw_proto = 0xff;
            learn::fin_timeout(ctx, *idle, *hard);
        }
        OfpAction::ClearActions => {
            report_action_set(ctx, "was");
            ctx.action_set.clear();
            ctx.flow.actset_output = OFPP_UNSET;
            ctx.action_set_has_group = false;
        }
        OfpAction::WriteActions(list) => {
            output::write_actions(ctx, list);
            report_action_set(ctx, "is");
        }
        OfpAction::WriteMetadata { metadata, mask } => {
            ctx.flow.metadata = (ctx.flow.metadata & !mask) | (metadata & mask);
        }
        OfpAction::Meter(id) => output::meter_action(ctx, *id),
        OfpAction::GotoTable(t) => {
            let in_port = ctx.flow.in_port;
            table_action(ctx, in_port, *t, true, true, false, last);
        }
        OfpAction::Sample(s) => output::sample_action(ctx, s),
        OfpAction::Clone(list) => output::clone_action(ctx, list, last),
        OfpAction::Ct(ct) => freeze::conntrack_action(ctx, ct, last),
        OfpAction::CtClear => {
            if ctx.conntracked {
                freeze::clear_conntrack(&mut ctx.flow);
                ctx.odp.push(OdpAction::CtClear);
                ctx.conntracked = false;
            }
        }
        OfpAction::Nat(n) => ctx.ct_nat = Some(n.clone()),
        OfpAction::DebugRecirc => {
            ctx.trigger_freeze();
            ctx.frozen_actions.extend_from_slice(&acts[idx + 1..]);
            *cursor = acts.len();
        }
        OfpAction::DebugSlow => ctx.slow |= super::SLOW_ACTION,
        OfpAction::CheckPktLarger { pkt_len, dst } => {
            if !last {
                output::check_pkt_larger(
                    ctx,
                    *pkt_len,
                    dst,
                    &acts[idx + 1..],
                    is_last_of(acts, idx),
                );
                *cursor = acts.len();
            }
        }
        OfpAction::Encap(e) => super::encap::encap(ctx, e),
        OfpAction::Decap { .. } => super::encap::decap(ctx),
        OfpAction::DeleteField(field) => fields::delete_field(ctx, *field),
    }
}

fn is_last_of(_acts: &[OfpAction], _idx: usize) -> bool {
    true
}

/// Reports a subfield's new value (after multipath/bundle_load).
pub(crate) fn report_subfield(ctx: &mut Ctx, sf: &flow::Subfield) {
    if ctx.trace.is_none() {
        return;
    }
    let v = sf.read(&ctx.flow);
    let txt = if sf.is_whole() {
        format!(
            "{} is now {}",
            sf,
            MfValue::format(sf.field, &sf.field.get(&ctx.flow), None)
        )
    } else {
        format!(
            "{} is now {}",
            sf,
            flow::odp::actions::text::hex0(v.to_u128())
        )
    };
    ctx.report(NodeKind::Detail, || txt);
}

fn report_action_set(ctx: &mut Ctx, verb: &str) {
    if ctx.trace.is_none() {
        return;
    }
    let txt = if ctx.action_set.is_empty() {
        format!("action set {verb} empty")
    } else {
        format!("action set {verb}: {}", format_actions(&ctx.action_set))
    };
    ctx.report(NodeKind::Detail, || txt);
}
