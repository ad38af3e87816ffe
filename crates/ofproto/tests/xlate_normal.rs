//! NORMAL switching against the reference: ports in every VLAN mode
//! (access, trunk with and without a trunk list, native-untagged,
//! native-tagged, dot1q-tunnel), flooding per VLAN, input VLAN checks,
//! reserved multicast, and MAC learning through `ofproto/trace -generate`.

mod xlate_common;

use xlate_common::{canonical_outputs, first_diff, normalize_recirc, Pair, PortSpec};

fn spec(
    name: &'static str,
    ofport: u32,
    tag: Option<u16>,
    trunks: &[u16],
    mode: Option<&'static str>,
) -> PortSpec {
    PortSpec {
        name,
        ofport,
        tag,
        trunks: trunks.to_vec(),
        vlan_mode: mode,
        tunnel: None,
    }
}

#[test]
fn normal_switching_with_vlans_like_upstream() {
    let ports = [
        spec("p1", 1, Some(10), &[], None),
        spec("p2", 2, Some(20), &[], None),
        spec("p3", 3, None, &[], None),
        spec("p4", 4, None, &[10, 30], None),
        spec("p5", 5, Some(10), &[20], Some("native-untagged")),
        spec("p6", 6, Some(20), &[], Some("native-tagged")),
        spec("p7", 7, Some(30), &[], Some("dot1q-tunnel")),
    ];
    let Some(p) = Pair::start("xlate-normal", &ports) else {
        return;
    };
    p.load(&[], &["actions=NORMAL"]).expect("load NORMAL");
    let a = "50:54:00:00:00:0a";
    let b = "50:54:00:00:00:0b";
    let mut traces: Vec<(String, bool)> = Vec::new();
    for in_port in 1..=7 {
        for vlan in [None, Some(10), Some(20), Some(30)] {
            let v = vlan.map(|v| format!(",dl_vlan={v}")).unwrap_or_default();
            traces.push((format!("in_port={in_port}{v},dl_src={a},dl_dst={b}"), false));
            traces.push((
                format!("in_port={in_port}{v},dl_src={a},dl_dst=01:80:c2:00:00:00"),
                false,
            ));
            traces.push((
                format!("in_port={in_port}{v},dl_src={a},dl_dst=ff:ff:ff:ff:ff:ff,ip"),
                false,
            ));
        }
    }
    // ARP: a broadcast request or reply makes the megaflow match what
    // tells a gratuitous ARP (opcode, and a request's addresses).
    for (op, spa, tpa) in [
        (1, "10.0.0.1", "10.0.0.2"),
        (1, "10.0.0.3", "10.0.0.3"),
        (2, "10.0.0.1", "10.0.0.2"),
    ] {
        for dst in ["ff:ff:ff:ff:ff:ff", b] {
            traces.push((
                format!(
                    "in_port=3,dl_src={a},dl_dst={dst},arp,arp_op={op},arp_spa={spa},arp_tpa={tpa}"
                ),
                false,
            ));
        }
    }
    // Learning: A on p1 (VLAN 10), then B answers from the trunk p3.
    traces.push((format!("in_port=1,dl_src={a},dl_dst={b}"), true));
    traces.push((format!("in_port=3,dl_vlan=10,dl_src={b},dl_dst={a}"), true));
    traces.push((format!("in_port=1,dl_src={a},dl_dst={b}"), false));
    traces.push((format!("in_port=5,dl_src={b},dl_dst={a}"), false));
    traces.push((
        format!("in_port=4,dl_vlan=10,dl_src={b},dl_dst={a},tcp"),
        true,
    ));
    traces.push((format!("in_port=3,dl_vlan=10,dl_src={a},dl_dst={b}"), false));
    if std::env::var("XLATE_DEBUG").is_ok() {
        let t = "in_port=1,dl_vlan=10,dl_src=50:54:00:00:00:0a,dl_dst=50:54:00:00:00:0b";
        eprintln!(
            "REF:\n{}\nOURS:\n{}",
            p.trace_reference(t, false),
            p.trace_ours(t, false)
        );
    }
    let mut failures = Vec::new();
    for (t, generate) in &traces {
        let r = canonical_outputs(&normalize_recirc(&p.trace_reference(t, *generate)));
        let o = canonical_outputs(&normalize_recirc(&p.trace_ours(t, *generate)));
        if r != o {
            failures.push(format!(
                "trace {t} (generate {generate}): {}\n--- reference\n{r}\n--- ours\n{o}",
                first_diff(&r, &o)
            ));
        }
    }
    for f in failures.iter().take(6) {
        eprintln!("{f}\n");
    }
    assert!(
        failures.is_empty(),
        "{} of {} NORMAL traces differ",
        failures.len(),
        traces.len()
    );
}
