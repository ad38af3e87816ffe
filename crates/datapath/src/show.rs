//! The text of the datapath's appctl commands, byte for byte as upstream
//! prints it: `dpctl/show`, `dpif/show`, `dpctl/dump-flows` (terse and
//! `-m`), `dpif-netdev/pmd-stats-show`. The vswitchd registers the commands
//! and calls these.

use std::fmt::Write;

use flow::odp::actions::format_odp_actions_with_ports;
use flow::odp::{format_key, key_from_flow, mask_from_flow, Support};
use packet::flow::Flow;

use crate::dpif::{DpPort, DpStats, Dpif, DpifFlow, PmdStats};
use crate::netdev_dp::DpifNetdev;

/// TCP flags as dump statistics print them (`packet_format_tcp_flags`).
pub fn format_tcp_flags(f: u16) -> String {
    if f == 0 {
        return "none".to_string();
    }
    let mut s = String::new();
    for (bit, c) in [
        (0x002, "S"),
        (0x001, "F"),
        (0x008, "P"),
        (0x004, "R"),
        (0x020, "U"),
        (0x010, "."),
        (0x040, "E"),
        (0x080, "C"),
        (0x100, "N"),
        (0x200, "[200]"),
        (0x400, "[400]"),
        (0x800, "[800]"),
    ] {
        if f & bit != 0 {
            s.push_str(c);
        }
    }
    s
}

/// `miniflow_bits(A,B)`: how many 64-bit words of upstream's flow layout
/// the mask touches, in its metadata/L2 half and its L3/L4 half.
///
/// As upstream's datapath does, `in_port` is left out of the mask it
/// classifies with (each port has its own classifier).
pub fn miniflow_bits(mask: &Flow) -> (u32, u32) {
    let mut mm = *mask;
    mm.in_port = 0;
    let m = &mm;
    let mut words = [false; 84];
    let mut set = |w: usize, nz: bool| {
        if nz {
            words[w] = true;
        }
    };
    let t = &m.tunnel;
    set(0, t.ip_dst != 0 || t.ipv6_dst[..4] != [0; 4]);
    set(1, t.ipv6_dst[4..12] != [0; 8]);
    set(2, t.ipv6_dst[12..] != [0; 4] || t.ip_src != 0);
    set(3, t.ipv6_src[..8] != [0; 8]);
    set(4, t.ipv6_src[8..] != [0; 8]);
    set(5, t.tun_id != 0);
    set(
        6,
        t.flags != 0 || t.ip_tos != 0 || t.ip_ttl != 0 || t.tp_src != 0 || t.tp_dst != 0,
    );
    set(
        7,
        t.gbp_id != 0 || t.gbp_flags != 0 || t.erspan_ver != 0 || t.erspan_idx != 0,
    );
    set(
        8,
        t.erspan_dir != 0 || t.erspan_hwid != 0 || t.gtpu_flags != 0 || t.gtpu_msgtype != 0,
    );
    set(9, t.metadata.present != 0);
    for i in 0..32 {
        set(11 + i, t.metadata.opts[i * 8..i * 8 + 8] != [0; 8]);
    }
    set(43, m.metadata != 0);
    for i in 0..8 {
        set(44 + i, m.regs[2 * i] != 0 || m.regs[2 * i + 1] != 0);
    }
    set(52, m.skb_priority != 0 || m.pkt_mark != 0);
    set(53, m.dp_hash != 0 || m.in_port != 0);
    set(
        54,
        m.recirc_id != 0 || m.ct_state != 0 || m.ct_nw_proto != 0 || m.ct_zone != 0,
    );
    set(55, m.ct_mark != 0 || m.packet_type != 0);
    set(56, m.ct_label as u64 != 0);
    set(57, (m.ct_label >> 64) as u64 != 0);
    set(58, m.conj_id != 0 || m.actset_output != 0);
    set(59, m.dl_dst != [0; 6] || m.dl_src[..2] != [0; 2]);
    set(60, m.dl_src[2..] != [0; 4] || m.dl_type != 0);
    set(61, m.vlans.iter().any(|v| v.tpid != 0 || v.tci != 0));
    set(62, m.mpls_lse[0] != 0 || m.mpls_lse[1] != 0);
    set(63, m.mpls_lse[2] != 0);
    set(64, m.nw_src != 0 || m.nw_dst != 0);
    set(65, m.ct_nw_src != 0 || m.ct_nw_dst != 0);
    set(66, m.ipv6_src[..8] != [0; 8]);
    set(67, m.ipv6_src[8..] != [0; 8]);
    set(68, m.ipv6_dst[..8] != [0; 8]);
    set(69, m.ipv6_dst[8..] != [0; 8]);
    set(70, m.ct_ipv6_src[..8] != [0; 8]);
    set(71, m.ct_ipv6_src[8..] != [0; 8]);
    set(72, m.ct_ipv6_dst[..8] != [0; 8]);
    set(73, m.ct_ipv6_dst[8..] != [0; 8]);
    set(
        74,
        m.ipv6_label != 0 || m.nw_frag != 0 || m.nw_tos != 0 || m.nw_ttl != 0 || m.nw_proto != 0,
    );
    set(75, m.nd_target[..8] != [0; 8]);
    set(76, m.nd_target[8..] != [0; 8]);
    set(77, m.arp_sha != [0; 6] || m.arp_tha[..2] != [0; 2]);
    set(
        78,
        m.arp_tha[2..] != [0; 4] || m.tcp_flags != 0 || m.nd_options_type != 0,
    );
    let n = &m.nsh;
    set(
        79,
        n.flags != 0 || n.ttl != 0 || n.mdtype != 0 || n.np != 0 || n.path_hdr != 0,
    );
    set(80, n.context[0] != 0 || n.context[1] != 0);
    set(81, n.context[2] != 0 || n.context[3] != 0);
    set(
        82,
        m.tp_src != 0 || m.tp_dst != 0 || m.ct_tp_src != 0 || m.ct_tp_dst != 0,
    );
    set(83, m.nd_reserved != 0);
    let a = words[..64].iter().filter(|w| **w).count() as u32;
    let b = words[64..].iter().filter(|w| **w).count() as u32;
    (a, b)
}

/// One `dpctl/dump-flows` line (without the newline); `-m` implies port
/// names.
pub fn format_flow(
    f: &DpifFlow,
    now_ms: u64,
    verbose: bool,
    port_name: &dyn Fn(u32) -> Option<String>,
) -> String {
    format_flow_opts(f, now_ms, verbose, verbose, port_name)
}

/// A terse line with port names (`dpctl/dump-flows --names`).
pub fn format_flow_named(
    f: &DpifFlow,
    now_ms: u64,
    port_name: &dyn Fn(u32) -> Option<String>,
) -> String {
    format_flow_opts(f, now_ms, false, true, port_name)
}

/// One dump line: `verbose` (`-m`) and port `names` chosen separately.
pub fn format_flow_opts(
    f: &DpifFlow,
    now_ms: u64,
    verbose: bool,
    names: bool,
    port_name: &dyn Fn(u32) -> Option<String>,
) -> String {
    let support = Support::default();
    let key = key_from_flow(&f.key, Some(&f.mask), &support);
    let mask = mask_from_flow(&f.mask, &f.key, &support);
    let mut s = String::new();
    if verbose {
        let _ = write!(s, "{}, ", f.ufid);
    }
    let ports: Option<&dyn Fn(u32) -> Option<String>> = if names { Some(port_name) } else { None };
    s.push_str(&format_key(&key, Some(&mask), ports, verbose));
    let _ = write!(
        s,
        ", packets:{}, bytes:{}, used:",
        f.stats.n_packets, f.stats.n_bytes
    );
    if f.stats.used == 0 {
        s.push_str("never");
    } else {
        let age = now_ms.saturating_sub(f.stats.used);
        let _ = write!(s, "{:.3}s", age as f64 / 1000.0);
    }
    if f.stats.tcp_flags != 0 {
        let _ = write!(s, ", flags:{}", format_tcp_flags(f.stats.tcp_flags));
    }
    if verbose {
        s.push_str(", dp:ovs");
    }
    s.push_str(", actions:");
    if names {
        s.push_str(&format_odp_actions_with_ports(&f.actions, &|p| {
            port_name(p).unwrap_or_else(|| p.to_string())
        }));
    } else {
        s.push_str(&format_odp_actions_with_ports(&f.actions, &|p| {
            p.to_string()
        }));
    }
    if verbose {
        let (a, b) = miniflow_bits(&f.mask);
        let _ = write!(s, ", dp-extra-info:miniflow_bits({a},{b})");
    }
    s
}

/// `dpctl/dump-flows [-m]`: every megaflow, one per line, after a
/// `flow-dump from the main thread:` header (nothing when empty).
pub fn dump_flows(dp: &DpifNetdev, verbose: bool) -> String {
    let flows = dp.flow_dump();
    dump_flows_of(&flows, dp.now_ms(), verbose, &|p| dp.port_name(p))
}

/// [`dump_flows`] over a given list.
pub fn dump_flows_of(
    flows: &[DpifFlow],
    now_ms: u64,
    verbose: bool,
    port_name: &dyn Fn(u32) -> Option<String>,
) -> String {
    if flows.is_empty() {
        return String::new();
    }
    let mut s = String::from("flow-dump from the main thread:\n");
    for f in flows {
        s.push_str(&format_flow(f, now_ms, verbose, port_name));
        s.push('\n');
    }
    s
}

fn port_suffix(p: &DpPort) -> String {
    if p.type_name == "system" {
        return String::new();
    }
    let mut s = format!(" ({}", p.type_name);
    if !p.config.is_empty() {
        let mut c = p.config.clone();
        c.sort();
        let items: Vec<String> = c.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let _ = write!(s, ": {}", items.join(", "));
    }
    s.push(')');
    s
}

/// `dpctl/show [-s]` for one datapath. `port_stats` gives a port's
/// counters for `-s`.
pub fn dpctl_show(
    dp: &dyn Dpif,
    stats: &DpStats,
    with_stats: bool,
    port_stats: &dyn Fn(u32) -> Option<netdev::NetdevStats>,
) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "{}@{}:", dp.type_name(), dp.name());
    let _ = writeln!(
        s,
        "  lookups: hit:{} missed:{} lost:{}",
        stats.n_hit, stats.n_missed, stats.n_lost
    );
    let _ = writeln!(s, "  flows: {}", stats.n_flows);
    for p in dp.ports() {
        let _ = writeln!(s, "  port {}: {}{}", p.port_no, p.name, port_suffix(&p));
        if with_stats {
            // Dummy devices do not count errors and drops: upstream prints
            // `?` for them.
            let q = |v: u64| -> String {
                if p.type_name.starts_with("dummy") {
                    "?".to_string()
                } else {
                    v.to_string()
                }
            };
            match port_stats(p.port_no) {
                Some(st) => {
                    let _ = writeln!(
                        s,
                        "    RX packets:{} errors:{} dropped:{} overruns:? frame:?",
                        st.rx_packets,
                        q(st.rx_errors),
                        q(st.rx_dropped)
                    );
                    let _ = writeln!(
                        s,
                        "    TX packets:{} errors:{} dropped:{} aborted:? carrier:?",
                        st.tx_packets,
                        q(st.tx_errors),
                        q(st.tx_dropped)
                    );
                    s.push_str("    collisions:?\n");
                    let _ = writeln!(s, "    RX bytes:{}  TX bytes:{}", st.rx_bytes, st.tx_bytes);
                }
                None => s.push_str("    (no statistics)\n"),
            }
        }
    }
    s
}

/// One bridge's ports for `dpif/show`: `(name, ofp_port, odp_port, type,
/// config)`.
pub type BridgePorts = (
    String,
    Vec<(String, u32, u32, String, Vec<(String, String)>)>,
);

/// `dpif/show`: the datapath line and each bridge's ports, as
/// `NAME OFPORT/ODPPORT: (TYPE)`.
pub fn dpif_show(dp: &dyn Dpif, stats: &DpStats, bridges: &[BridgePorts]) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{}@{}: hit:{} missed:{}",
        dp.type_name(),
        dp.name(),
        stats.n_hit,
        stats.n_missed
    );
    let mut bridges = bridges.to_vec();
    bridges.sort_by(|a, b| a.0.cmp(&b.0));
    for (br, ports) in bridges {
        let _ = writeln!(s, "  {br}:");
        let mut ports = ports.clone();
        ports.sort_by(|a, b| a.0.cmp(&b.0));
        for (name, ofp, odp, ty, config) in ports {
            let ofp_text = if ofp == 0xfffe {
                "65534".to_string()
            } else {
                ofp.to_string()
            };
            // Unlike `dpctl/show`, every type shows (`system` too), and a
            // port without a datapath port (a patch port) shows `none`.
            let odp_text = if odp == u32::MAX {
                "none".to_string()
            } else {
                odp.to_string()
            };
            let mut c = config;
            c.sort();
            let items: Vec<String> = c.iter().map(|(k, v)| format!("{k}={v}")).collect();
            let conf = if items.is_empty() {
                String::new()
            } else {
                format!(": {}", items.join(", "))
            };
            let _ = writeln!(s, "    {name} {ofp_text}/{odp_text}: ({ty}{conf})");
        }
    }
    s
}

/// `dpif-netdev/pmd-stats-show` for the counters of every thread.
pub fn pmd_stats_show(st: &PmdStats) -> String {
    let passes = st.packets_received + st.recirculations;
    let per_pkt = if st.packets_received > 0 {
        passes as f64 / st.packets_received as f64
    } else {
        0.0
    };
    let lookups = if st.megaflow_hits > 0 {
        st.subtable_lookups as f64 / st.megaflow_hits as f64
    } else {
        0.0
    };
    let per_batch = if st.output_batches > 0 {
        st.output_packets as f64 / st.output_batches as f64
    } else {
        0.0
    };
    let mut s = String::from("main thread:\n");
    let _ = writeln!(s, "  packets received: {}", st.packets_received);
    let _ = writeln!(s, "  packet recirculations: {}", st.recirculations);
    let _ = writeln!(s, "  avg. datapath passes per packet: {per_pkt:.2}");
    s.push_str("  phwol hits: 0\n");
    s.push_str("  mfex opt hits: 0\n");
    s.push_str("  simple match hits: 0\n");
    let _ = writeln!(s, "  emc hits: {}", st.emc_hits);
    s.push_str("  smc hits: 0\n");
    let _ = writeln!(s, "  megaflow hits: {}", st.megaflow_hits);
    let _ = writeln!(s, "  avg. subtable lookups per megaflow hit: {lookups:.2}");
    let _ = writeln!(s, "  miss with success upcall: {}", st.upcall_ok);
    let _ = writeln!(s, "  miss with failed upcall: {}", st.upcall_failed);
    let _ = writeln!(s, "  avg. packets per output batch: {per_batch:.2}");
    s
}

/// `dpif-netdev/pmd-rxq-show`: upstream lists only queues of PMD-type
/// devices (DPDK, AF_XDP); every queue here is of a kind it polls from the
/// main thread, so only the header remains.
pub fn pmd_rxq_show() -> String {
    "Displaying last 60 seconds pmd usage %\n".to_string()
}

/// Drop counters with nonzero values, `name  count` per line, for
/// `coverage/show`-style reports.
pub fn drop_counters(st: &PmdStats) -> Vec<(&'static str, u64)> {
    crate::dpif::DropReason::ALL
        .iter()
        .map(|r| (r.name(), st.drops[r.index()]))
        .filter(|(_, n)| *n != 0)
        .collect()
}

#[cfg(test)]
#[allow(clippy::field_reassign_with_default)]
mod tests {
    use super::*;

    #[test]
    fn dpif_show_as_upstream() {
        let bridges: Vec<BridgePorts> = vec![(
            "br0".into(),
            vec![
                ("p2".into(), 2, 2, "dummy".into(), vec![]),
                ("br0".into(), 0xfffe, 100, "dummy-internal".into(), vec![]),
                ("p1".into(), 1, 1, "dummy".into(), vec![]),
                (
                    "p3".into(),
                    3,
                    u32::MAX,
                    "patch".into(),
                    vec![("peer".into(), "q".into())],
                ),
                ("p4".into(), 4, 4, "system".into(), vec![]),
            ],
        )];
        let dp = crate::DpifNetdev::create("dummy", "ovs-dummy", None, Default::default()).unwrap();
        assert_eq!(
            dpif_show(&dp, &DpStats::default(), &bridges),
            "dummy@ovs-dummy: hit:0 missed:0\n  br0:\n    br0 65534/100: (dummy-internal)\n    p1 1/1: (dummy)\n    p2 2/2: (dummy)\n    p3 3/none: (patch: peer=q)\n    p4 4/4: (system)\n"
        );
    }

    #[test]
    fn tcp_flags_text() {
        assert_eq!(format_tcp_flags(0), "none");
        assert_eq!(format_tcp_flags(0x012), "S.");
        assert_eq!(format_tcp_flags(0x019), "FP.");
    }

    #[test]
    fn miniflow_bits_of_a_typical_mask() {
        let mut m = Flow::default();
        m.in_port = u32::MAX;
        m.recirc_id = u32::MAX;
        m.packet_type = u32::MAX;
        m.dl_src = [0xff; 6];
        m.dl_dst = [0xff; 6];
        m.dl_type = 0xffff;
        m.nw_frag = 3;
        m.vlans[0].tci = 0xffff;
        assert_eq!(miniflow_bits(&m), (5, 1), "in_port does not count");
    }

    #[test]
    fn pmd_stats_text() {
        let st = PmdStats {
            packets_received: 2,
            megaflow_hits: 1,
            subtable_lookups: 1,
            upcall_ok: 1,
            output_batches: 2,
            output_packets: 2,
            ..Default::default()
        };
        assert_eq!(
            pmd_stats_show(&st),
            "main thread:\n  packets received: 2\n  packet recirculations: 0\n  avg. datapath passes per packet: 1.00\n  phwol hits: 0\n  mfex opt hits: 0\n  simple match hits: 0\n  emc hits: 0\n  smc hits: 0\n  megaflow hits: 1\n  avg. subtable lookups per megaflow hit: 1.00\n  miss with success upcall: 1\n  miss with failed upcall: 0\n  avg. packets per output batch: 1.00\n"
        );
    }
}
