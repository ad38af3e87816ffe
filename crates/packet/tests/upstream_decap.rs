//! Differential test of tunnel decapsulation against the reference Open
//! vSwitch.  Frames built with [`tunnel::encap`] enter the reference's
//! underlay port; the reference pops them onto its tunnel ports, where a
//! flow per frame matches the tunnel metadata that our [`tunnel::decap`]
//! read from the same bytes (`tun_id`, `tun_src`, `tun_dst`, `tun_ipv6_*`,
//! `tun_flags`; TOS, TTL and UDP ports are not matchable there) and sends
//! the inner frame out of a capture port.  Every frame must come out, equal
//! to the inner frame our decap points at.  Skipped, with a message, when
//! the reference is not installed.

use std::net::{Ipv4Addr, Ipv6Addr};

use packet::compose::{compose_generated, GENERATED_L7_LEN};
use packet::flow::{Flow, FlowTnl};
use packet::tunnel::{
    build_header, decap, encap, EncapParams, TunnelKind, FLOW_TNL_F_CSUM, FLOW_TNL_F_DONT_FRAGMENT,
    FLOW_TNL_F_KEY, FLOW_TNL_F_OAM,
};
use testkit::{hex, Rng, Sandbox};
use underlay_common::add_underlay;

mod underlay_common;

fn v6(last: u8) -> [u8; 16] {
    let mut a = [0x20, 0x01, 0xca, 0xfe, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    a[15] = last;
    a
}

#[test]
fn decapsulation_agrees_with_reference() {
    if testkit::skip_without_upstream("decapsulation_agrees_with_reference") {
        return;
    }
    let sb = Sandbox::start("decap");
    sb.add_dummy_bridge("int-br", &[], &["p1"]).unwrap();
    let p1_pcap = format!("options:tx_pcap={}", sb.path("p1.pcap"));
    sb.vsctl(&["set", "interface", "p1", &p1_pcap]).unwrap();
    let tunnels = [
        ("t2", "vxlan", "1.1.2.92", TunnelKind::Vxlan, false),
        ("t3", "geneve", "1.1.2.92", TunnelKind::Geneve, false),
        ("t4", "gre", "1.1.2.92", TunnelKind::Gre, false),
        ("t5", "vxlan", "2001:cafe::92", TunnelKind::Vxlan, true),
        ("t6", "gre", "2001:cafe::92", TunnelKind::Gre, true),
    ];
    for (i, (name, ty, remote, _, _)) in tunnels.iter().enumerate() {
        sb.vsctl(&[
            "add-port",
            "int-br",
            name,
            "--",
            "set",
            "interface",
            name,
            &format!("type={ty}"),
            &format!("options:remote_ip={remote}"),
            "options:key=flow",
            &format!("ofport_request={}", i + 2),
        ])
        .unwrap();
    }
    add_underlay(&sb, &[]);
    // Only the flows below may deliver a frame (no default NORMAL).
    sb.ofctl("int-br", &["del-flows"]).unwrap();

    let mut r = Rng(0xdec_a95);
    let mut sent = Vec::new();
    let mut failures = Vec::new();
    for n in 0..40u32 {
        let (_, _, _, kind, ipv6) = tunnels[n as usize % tunnels.len()];
        let mut flags = FLOW_TNL_F_KEY;
        if r.below(2) == 0 {
            flags |= FLOW_TNL_F_CSUM;
        }
        if !ipv6 && r.below(2) == 0 {
            flags |= FLOW_TNL_F_DONT_FRAGMENT;
        }
        if kind == TunnelKind::Geneve && r.below(3) == 0 {
            flags |= FLOW_TNL_F_OAM;
        }
        let mut tnl = FlowTnl {
            ip_ttl: 1 + r.below(255) as u8,
            ip_tos: (r.below(64) as u8) << 2,
            tun_id: if kind == TunnelKind::Gre {
                r.next() as u32 as u64
            } else {
                r.next() & 0xff_ffff
            },
            flags,
            ..FlowTnl::default()
        };
        if ipv6 {
            tnl.ipv6_src = v6(0x92);
            tnl.ipv6_dst = v6(0x88);
        } else {
            tnl.ip_src = 0x0101_025c;
            tnl.ip_dst = 0x0101_0258;
        }
        let inner_flow = Flow {
            dl_src: r.bytes(),
            dl_dst: r.bytes(),
            dl_type: 0x0800,
            nw_src: r.next() as u32,
            nw_dst: r.next() as u32,
            nw_ttl: 64,
            nw_proto: 17,
            tp_src: r.next() as u16,
            tp_dst: r.next() as u16,
            ..Flow::default()
        };
        let inner = compose_generated(&inner_flow, GENERATED_L7_LEN);
        let params = EncapParams {
            eth_src: [0xf8, 0xbc, 0x12, 0x44, 0x34, 0xb6],
            eth_dst: [0xaa, 0x55, 0xaa, 0x55, 0x00, 0x00],
            ..EncapParams::default()
        };
        let h = build_header(kind, &tnl, &params).unwrap();
        let frame = encap(&inner, &h, r.next() as u32);
        let d = decap(&frame, kind).unwrap();
        assert_eq!(&frame[d.inner.clone()], &inner[..]);

        // A flow that only this frame's metadata (as we read it) matches.
        let t = &d.tunnel;
        let mut m = format!(
            "priority=100,in_port={},tun_id={:#x}",
            2 + n as usize % tunnels.len(),
            t.tun_id
        );
        if ipv6 {
            m += &format!(
                ",tun_ipv6_src={},tun_ipv6_dst={}",
                Ipv6Addr::from(t.ipv6_src),
                Ipv6Addr::from(t.ipv6_dst)
            );
        } else {
            m += &format!(
                ",tun_src={},tun_dst={}",
                Ipv4Addr::from(t.ip_src),
                Ipv4Addr::from(t.ip_dst)
            );
        }
        m += if t.flags & FLOW_TNL_F_OAM != 0 {
            ",tun_flags=+oam"
        } else {
            ",tun_flags=-oam"
        };
        // The inner frame identifies the case.
        m += &format!(",dl_src={}", mac(inner_flow.dl_src));
        sb.ofctl("int-br", &["add-flow", &format!("{m},actions=output:1")])
            .unwrap();
        match sb.appctl(&["netdev-dummy/receive", "p0", &hex(&frame)]) {
            Ok(_) => sent.push((m, inner)),
            Err(e) => failures.push(format!("reference refused frame {n}: {e}")),
        }
    }
    let got = sb.pcap("p1.pcap");
    for (m, inner) in &sent {
        if !got.contains(inner) {
            failures.push(format!("nothing matched {m}\n  inner {}", hex(inner)));
        }
    }
    if got.len() != sent.len() {
        failures.push(format!(
            "{} frames delivered for {} sent",
            got.len(),
            sent.len()
        ));
    }
    assert!(
        failures.is_empty(),
        "{} of 40 disagree:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

fn mac(a: [u8; 6]) -> String {
    a.iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}
