//! `ofproto/trace` and `ofproto/trace-packet-out`: run a flow (or a packet)
//! through translation with a trace and print what upstream prints — the
//! `Flow:` line, the nested bridge/table/action report, `Final flow:`,
//! `Megaflow:`, `Datapath actions:`, and a section per conntrack
//! recirculation.

use flow::match_format::{format_flow, format_match};
use flow::matches::OFP_DEFAULT_PRIORITY;
use flow::odp::actions::format_odp_actions;
use flow::Match;
use packet::Flow;

use crate::ofproto::Ofproto;
use crate::xlate::{
    xlate, Bridges, XlateIn, XlateOut, SLOW_ACTION, SLOW_BFD, SLOW_CFM, SLOW_LACP, SLOW_LLDP,
    SLOW_MATCH, SLOW_STP,
};

/// Options of a trace.
#[derive(Clone, Debug, Default)]
pub struct TraceOptions {
    /// `-generate`: side effects (learning, MAC learning) happen.
    pub generate: bool,
    /// `--ct-next` states for conntrack recirculations, in order
    /// (default `trk|new`).
    pub ct_next: Vec<u8>,
}

fn slow_explanation(bit: u32) -> &'static str {
    match bit {
        SLOW_CFM => "Consists of CFM packets",
        SLOW_BFD => "Consists of BFD packets",
        SLOW_LACP => "Consists of LACP packets",
        SLOW_STP => "Consists of STP packets",
        SLOW_LLDP => "Consists of LLDP packets",
        SLOW_ACTION => "Uses action(s) not supported by datapath",
        SLOW_MATCH => "Datapath can't match specifically enough",
        _ => "<unknown>",
    }
}

/// `trk|new`-style text of conntrack states, as the trace headline
/// prints them (tracking first).
fn ct_state_text(state: u8) -> String {
    use flow::matches::*;
    let order = [
        (CS_TRACKED, "trk"),
        (CS_NEW, "new"),
        (CS_ESTABLISHED, "est"),
        (CS_RELATED, "rel"),
        (CS_REPLY_DIR, "rpl"),
        (CS_INVALID, "inv"),
        (CS_SRC_NAT, "snat"),
        (CS_DST_NAT, "dnat"),
    ];
    order
        .iter()
        .filter(|(b, _)| state & b != 0)
        .map(|(_, n)| *n)
        .collect::<Vec<_>>()
        .join("|")
}

/// The text of one translation (without the recirculation follow-ups).
pub fn format_trace_result(flow: &Flow, out: &XlateOut) -> String {
    let mut s = String::new();
    s.push_str("Flow: ");
    s.push_str(&format_flow(flow, None));
    s.push('\n');
    if let Some(t) = &out.trace {
        s.push_str(&t.render());
    }
    s.push_str("\nFinal flow: ");
    let mut final_flow = out.final_flow;
    final_flow.actset_output = flow.actset_output;
    if final_flow == *flow {
        s.push_str("unchanged");
    } else {
        s.push_str(&format_flow(&out.final_flow, None));
    }
    s.push('\n');
    s.push_str("Megaflow: ");
    let m = Match {
        flow: flow.and(&out.wc),
        wc: out.wc,
    };
    s.push_str(&format_match(&m, OFP_DEFAULT_PRIORITY, None));
    s.push('\n');
    s.push_str("Datapath actions: ");
    s.push_str(&format_odp_actions(&out.actions));
    s.push('\n');
    if let Some(e) = out.error {
        s.push_str(&format!(
            "Translation failed ({}), packet is dropped.\n",
            e.text()
        ));
    } else if out.slow != 0 {
        s.push_str("This flow is handled by the userspace slow path because it:");
        let mut slow = out.slow;
        while slow != 0 {
            let bit = slow & slow.wrapping_neg();
            s.push_str(&format!("\n  - {}.", slow_explanation(bit)));
            slow &= !bit;
        }
        s.push('\n');
    }
    s
}

/// `ofproto/trace BRIDGE FLOW`: the whole reply text.
pub fn trace(
    br: &Ofproto,
    bridges: &dyn Bridges,
    flow: &Flow,
    packet: Option<&[u8]>,
    opts: &TraceOptions,
) -> String {
    trace_with_effects(br, bridges, flow, packet, opts).0
}

/// Like [`trace`], also returning the side effects (learned flows,
/// `fin_timeout`) the caller applies when `-generate` was given.
pub fn trace_with_effects(
    br: &Ofproto,
    bridges: &dyn Bridges,
    flow: &Flow,
    packet: Option<&[u8]>,
    opts: &TraceOptions,
) -> (String, Vec<crate::xlate::SideEffect>) {
    trace_actions(br, bridges, flow, packet, None, opts)
}

/// [`trace_with_effects`] of given actions instead of table 0 (what
/// `ofproto/trace-packet-out` does).
pub fn trace_actions(
    br: &Ofproto,
    bridges: &dyn Bridges,
    flow: &Flow,
    packet: Option<&[u8]>,
    actions: Option<&[flow::actions::OfpAction]>,
    opts: &TraceOptions,
) -> (String, Vec<crate::xlate::SideEffect>) {
    let mut effects = Vec::new();
    let mut text = String::new();
    let mut queue: std::collections::VecDeque<(Flow, Option<crate::xlate::CtRecirc>)> =
        Default::default();
    // The flow as translation sees it: received Geneve options as the
    // bridge's tun_metadataN fields (also what "Flow:" shows).
    let mut start = *flow;
    crate::xlate::tunnel_options::for_bridge(br, &mut start.tunnel);
    queue.push_back((start, None));
    let mut ct_next = opts.ct_next.iter();
    let mut first = true;
    let mut rounds = 0;
    while let Some((f, rec)) = queue.pop_front() {
        rounds += 1;
        if rounds > 64 {
            break;
        }
        let mut f = f;
        if let Some(r) = &rec {
            let state = ct_next
                .next()
                .copied()
                .unwrap_or(flow::matches::CS_TRACKED | flow::matches::CS_NEW);
            f.recirc_id = r.recirc_id;
            f.ct_state = state;
            f.ct_zone = r.zone;
            text.push_str(&format!(
                "\n{}\nrecirc({:#x}) - resume conntrack with {}ct_state={}{}\n{}\n\n",
                "=".repeat(79),
                r.recirc_id,
                if opts.ct_next.is_empty() {
                    "default "
                } else {
                    ""
                },
                ct_state_text(state),
                if opts.ct_next.is_empty() {
                    " (use --ct-next to customize)"
                } else {
                    ""
                },
                "=".repeat(79)
            ));
        } else if !first {
            text.push('\n');
        }
        first = false;
        let out = xlate(
            br,
            bridges,
            XlateIn {
                flow: f,
                packet,
                trace: true,
                allow_side_effects: opts.generate,
                revalidation: false,
                ofpacts: if rec.is_none() { actions } else { None },
                in_packet_out: false,
            },
        );
        text.push_str(&format_trace_result(&f, &out));
        effects.extend(out.side_effects.iter().cloned());
        for r in &out.ct_recircs {
            queue.push_back((r.flow, Some(r.clone())));
        }
    }
    (text, effects)
}

/// What `ofproto/trace` needs from the running switch.
pub trait TraceEnv: Bridges {
    /// The bridge and OpenFlow port behind datapath port `odp_port` of
    /// datapath `dp` (`None` = the only datapath).
    fn by_odp_port(&self, dp: Option<&str>, odp_port: u32) -> Option<(&Ofproto, u32)>;
    /// Whether `dp` names a datapath (`ovs-dummy`, `dummy@ovs-dummy`).
    fn has_datapath(&self, dp: Option<&str>) -> bool;
}

/// A parsed `ofproto/trace` request.
pub struct TraceRequest<'a> {
    pub bridge: &'a Ofproto,
    pub flow: Flow,
    pub packet: Option<Vec<u8>>,
    pub opts: TraceOptions,
}

fn parse_ct_states(s: &str) -> Result<u8, String> {
    use flow::matches::*;
    let mut st = 0u8;
    for name in s.split([',', '|']).filter(|n| !n.is_empty()) {
        let n = name.trim_start_matches('+');
        st |= match n {
            "trk" => CS_TRACKED,
            "new" => CS_NEW,
            "est" => CS_ESTABLISHED,
            "rel" => CS_RELATED,
            "rpl" => CS_REPLY_DIR,
            "inv" => CS_INVALID,
            "snat" => CS_SRC_NAT,
            "dnat" => CS_DST_NAT,
            _ => return Err(format!("{s}: unknown connection tracking state flag {n}")),
        };
    }
    Ok(st)
}

fn hex_packet(s: &str) -> Result<Vec<u8>, String> {
    let t = s.trim();
    let mut out = Vec::new();
    let b = t.as_bytes();
    let mut i = 0;
    while i + 1 < b.len() && b[i].is_ascii_hexdigit() && b[i + 1].is_ascii_hexdigit() {
        let v = u8::from_str_radix(&t[i..i + 2], 16)
            .map_err(|_| "Trailing garbage in packet data".to_string())?;
        out.push(v);
        i += 2;
        if out.len() > 65535 {
            return Err("Packet data too long for Ethernet".into());
        }
    }
    if i != b.len() {
        return Err("Trailing garbage in packet data".into());
    }
    if out.len() < 14 {
        return Err("Packet data too short for Ethernet".into());
    }
    Ok(out)
}

/// Parses the arguments of `ofproto/trace` (without the command name):
/// `[dp_name|bridge] odp_flow|br_flow [--ct-next FLAGS]... [-generate|packet]`.
/// Errors are upstream's texts.
pub fn parse_trace_args<'a>(
    args: &[String],
    env: &'a dyn TraceEnv,
) -> Result<TraceRequest<'a>, String> {
    let mut opts = TraceOptions::default();
    let mut rest: Vec<&str> = Vec::new();
    let mut i = 0;
    while i < args.len() {
        if args[i] == "--ct-next" {
            let v = args
                .get(i + 1)
                .ok_or("Missing argument for option --ct-next")?;
            opts.ct_next.push(parse_ct_states(v)?);
            i += 2;
            continue;
        }
        rest.push(&args[i]);
        i += 1;
    }
    if rest.is_empty() {
        return Err("syntax error (or the bridge name was omitted)".into());
    }
    let mut packet = None;
    if rest.last() == Some(&"-generate") {
        opts.generate = true;
        rest.pop();
    } else if rest.len() >= 2 {
        match hex_packet(rest[rest.len() - 1]) {
            Ok(p) => {
                packet = Some(p);
                rest.pop();
            }
            Err(e) if rest.len() >= 3 => return Err(e),
            Err(_) => {}
        }
    }
    let flow_arg = match rest.last() {
        Some(f) => *f,
        None => return Err("syntax error (or the bridge name was omitted)".into()),
    };
    let dp = if rest.len() == 2 { Some(rest[0]) } else { None };
    // An ODP flow first, as upstream tries it first.
    let odp = flow::odp::key_parse::parse_key(flow_arg, None);
    let (br, mut f) = match odp {
        Ok((key, _)) if rest.len() <= 2 => {
            if !env.has_datapath(dp) {
                return Err("Cannot find the datapath".into());
            }
            let (f, _) = flow::odp::key::key_to_flow(&key);
            // A tunnel vport's packets belong to the tunnel port their
            // tunnel metadata selects.
            let tunnel = {
                let ports = crate::tnl::global().ports();
                ports
                    .is_vport(f.in_port)
                    .then(|| ports.receive(f.in_port, &f.tunnel))
            };
            let found = match tunnel {
                Some(Some((b, p))) => env.bridge(&b).map(|br| (br, p)),
                Some(None) => return Err("no OpenFlow tunnel port for this packet".into()),
                None => env.by_odp_port(dp, f.in_port),
            };
            let Some((br, ofp_port)) = found else {
                return Err("Cannot find the datapath".into());
            };
            let mut f = f;
            f.in_port = ofp_port;
            (br, f)
        }
        Ok(_) => {
            return Err(format!(
                "syntax error at {flow_arg} (or the bridge name was omitted)"
            ))
        }
        Err(e) => {
            if rest.len() != 2 {
                return Err(format!("{e} (or the bridge name was omitted)"));
            }
            let name = rest[0];
            let Some(br) = env.bridge(name) else {
                return Err(format!("{name}: unknown bridge"));
            };
            let mut map = flow::port::PortMap::new();
            for p in br.ports() {
                map.insert(&p.name, p.ofp_port);
            }
            let (f, _) = flow::flow_str::parse_ofp_exact_flow(flow_arg, Some(&map))
                .map_err(|e| format!("Bad openflow flow syntax: {e}"))?;
            (br, f)
        }
    };
    if let Some(p) = &packet {
        let md = packet::extract::Metadata {
            tunnel: f.tunnel,
            in_port: f.in_port,
            skb_priority: f.skb_priority,
            pkt_mark: f.pkt_mark,
            dp_hash: f.dp_hash,
            recirc_id: f.recirc_id,
            ct_state: f.ct_state,
            ct_zone: f.ct_zone,
            ct_mark: f.ct_mark,
            ct_label: f.ct_label,
            packet_type: f.packet_type,
            ..Default::default()
        };
        let metadata = f.metadata;
        let regs = f.regs;
        f = packet::extract::extract(p, &md);
        f.metadata = metadata;
        f.regs = regs;
    } else if opts.generate {
        packet = Some(packet::compose::compose_generated(&f, 64));
    }
    Ok(TraceRequest {
        bridge: br,
        flow: f,
        packet,
        opts,
    })
}

/// The reply to `ofproto/trace`.
pub struct TraceReply {
    pub text: String,
    /// The bridge traced (where side effects apply).
    pub bridge: String,
    /// Learned flows and `fin_timeout`s to apply (only with `-generate`).
    pub side_effects: Vec<crate::xlate::SideEffect>,
}

/// `ovs-appctl ofproto/trace ARGS...`: the reply or the error text.
pub fn trace_command(args: &[String], env: &dyn TraceEnv) -> Result<TraceReply, String> {
    let req = parse_trace_args(args, env)?;
    let (text, side_effects) =
        trace_with_effects(req.bridge, env, &req.flow, req.packet.as_deref(), &req.opts);
    Ok(TraceReply {
        text,
        bridge: req.bridge.name.clone(),
        side_effects,
    })
}

/// `ovs-appctl ofproto/trace-packet-out [-consistent] BRIDGE FLOW
/// [-generate|PACKET] ACTIONS`: the reply or the error text.
pub fn trace_packet_out_command(args: &[String], env: &dyn TraceEnv) -> Result<TraceReply, String> {
    let mut args: Vec<String> = args.to_vec();
    let consistent = args.first().map(|a| a == "-consistent").unwrap_or(false);
    if consistent {
        args.remove(0);
    }
    let Some(acts_text) = args.pop() else {
        return Err("syntax error (or the bridge name was omitted)".into());
    };
    let req = parse_trace_args(&args, env)?;
    let mut warnings = Vec::new();
    let parsed =
        flow::actions::parse_actions(&acts_text, None, &mut warnings).map_err(|e| e.to_string())?;
    let mut acts = parsed.actions;
    let in_port = req.flow.in_port;
    if (0xff00..0xff00).contains(&in_port) {
        return Err("invalid in_port".into());
    }
    let m = Match {
        flow: req.flow,
        wc: flow::match_format::packet_wildcards(&req.flow),
    };
    let max_ports = flow::actions::OfpPort(0xff00);
    let r = if consistent {
        flow::actions::check_consistency(&mut acts, &m, max_ports, 0, 255, parsed.usable_protocols)
    } else {
        let mut usable = parsed.usable_protocols;
        flow::actions::check_actions(&mut acts, &m, max_ports, 0, 255, &mut usable)
    };
    if let Err(e) = r {
        return Err(format!("Bad actions: {e}"));
    }
    for a in &acts {
        if let flow::actions::OfpAction::Group(g) = a {
            if req.bridge.group(*g).is_none() {
                return Err("Bad actions: OFPBAC_BAD_OUT_GROUP".into());
            }
        }
        if let flow::actions::OfpAction::Meter(id) = a {
            if req.bridge.meter(*id).is_none() {
                return Err("Bad actions: OFPMMFC_INVALID_METER".into());
            }
        }
    }
    let (text, side_effects) = trace_actions(
        req.bridge,
        env,
        &req.flow,
        req.packet.as_deref(),
        Some(&acts),
        &req.opts,
    );
    Ok(TraceReply {
        text,
        bridge: req.bridge.name.clone(),
        side_effects,
    })
}
