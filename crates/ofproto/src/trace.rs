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
    let mut text = String::new();
    let mut queue: std::collections::VecDeque<(Flow, Option<crate::xlate::CtRecirc>)> =
        Default::default();
    let mut flow = *flow;
    crate::xlate::fix_vlan_tpid(&mut flow);
    queue.push_back((flow, None));
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
                ofpacts: None,
                in_packet_out: false,
            },
        );
        text.push_str(&format_trace_result(&f, &out));
        for r in &out.ct_recircs {
            queue.push_back((r.flow, Some(r.clone())));
        }
    }
    text
}
