//! Differential test of tunnel encapsulation against the reference Open
//! vSwitch, set up as upstream's tunnel-push-pop tests do: a bridge with
//! VXLAN, Geneve and GRE ports (IPv4 and IPv6 underlay, with and without
//! checksums, key, TTL, TOS, DF), an underlay bridge with an address, a
//! route and a neighbour, and a flow that outputs every received packet to
//! every tunnel port.  The encapsulated frames the reference sends out of
//! the underlay port must equal [`tunnel::encap`] of the same inner frame
//! with the header [`tunnel::build_header`] makes from the same tunnel
//! metadata.  The UDP source port comes from a packet hash the reference
//! computes its own way, so the test takes it from the reference's frame.
//! Skipped, with a message, when the reference is not installed.

use packet::compose::{compose_generated, GENERATED_L7_LEN};
use packet::flow::{Flow, FlowTnl};
use packet::tunnel::{
    build_header, encap, udp_src_port, EncapParams, TunnelKind, FLOW_TNL_F_CSUM,
    FLOW_TNL_F_DONT_FRAGMENT, FLOW_TNL_F_KEY, TNL_UDP_PORT_MAX, TNL_UDP_PORT_MIN,
};
use testkit::{hex, Rng, Sandbox};
use underlay_common::add_underlay;

mod underlay_common;

const LOCAL_MAC: [u8; 6] = [0xaa, 0x55, 0xaa, 0x55, 0x00, 0x00];
const NEXT_HOP_MAC: [u8; 6] = [0xf8, 0xbc, 0x12, 0x44, 0x34, 0xb6];
const LOCAL_V4: u32 = 0x0101_0258; // 1.1.2.88
const REMOTE_V4: u32 = 0x0101_025c; // 1.1.2.92

fn v6(last: u8) -> [u8; 16] {
    let mut a = [0x20, 0x01, 0xca, 0xfe, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    a[15] = last;
    a
}

/// A tunnel port: its database type and options, and what we expect the
/// translation to hand to the encapsulation (kind and tunnel metadata).
struct Port {
    kind: TunnelKind,
    options: &'static [&'static str],
    tnl: FlowTnl,
}

fn ports() -> Vec<Port> {
    let v4 = |tun_id: u64, flags: u16| FlowTnl {
        ip_src: LOCAL_V4,
        ip_dst: REMOTE_V4,
        ip_ttl: 64,
        tun_id,
        flags,
        ..FlowTnl::default()
    };
    let df_key = FLOW_TNL_F_DONT_FRAGMENT | FLOW_TNL_F_KEY;
    vec![
        Port {
            kind: TunnelKind::Vxlan,
            options: &["options:remote_ip=1.1.2.92", "options:key=123"],
            tnl: v4(123, df_key),
        },
        Port {
            kind: TunnelKind::Geneve,
            options: &["options:remote_ip=1.1.2.92", "options:key=456"],
            tnl: v4(456, df_key),
        },
        Port {
            kind: TunnelKind::Gre,
            options: &["options:remote_ip=1.1.2.92", "options:key=789"],
            tnl: v4(789, df_key),
        },
        Port {
            kind: TunnelKind::Vxlan,
            options: &[
                "options:remote_ip=1.1.2.92",
                "options:key=6",
                "options:csum=true",
                "options:ttl=5",
                "options:tos=0x10",
                "options:df_default=false",
            ],
            tnl: FlowTnl {
                ip_ttl: 5,
                ip_tos: 0x10,
                ..v4(6, FLOW_TNL_F_KEY | FLOW_TNL_F_CSUM)
            },
        },
        Port {
            kind: TunnelKind::Geneve,
            options: &["options:remote_ip=1.1.2.92", "options:csum=true"],
            tnl: v4(0, FLOW_TNL_F_DONT_FRAGMENT | FLOW_TNL_F_CSUM),
        },
        Port {
            kind: TunnelKind::Gre,
            options: &["options:remote_ip=1.1.2.92", "options:csum=true"],
            tnl: v4(0, FLOW_TNL_F_DONT_FRAGMENT | FLOW_TNL_F_CSUM),
        },
        Port {
            kind: TunnelKind::Vxlan,
            options: &["options:remote_ip=2001:cafe::92", "options:key=5"],
            // UDP checksums are on by default over IPv6.
            tnl: FlowTnl {
                ipv6_src: v6(0x88),
                ipv6_dst: v6(0x92),
                ip_ttl: 64,
                tun_id: 5,
                flags: df_key | FLOW_TNL_F_CSUM,
                ..FlowTnl::default()
            },
        },
        Port {
            kind: TunnelKind::Gre,
            options: &["options:remote_ip=2001:cafe::92", "options:key=7"],
            tnl: FlowTnl {
                ipv6_src: v6(0x88),
                ipv6_dst: v6(0x92),
                ip_ttl: 64,
                tun_id: 7,
                flags: df_key,
                ..FlowTnl::default()
            },
        },
    ]
}

fn type_name(k: TunnelKind) -> &'static str {
    match k {
        TunnelKind::Vxlan => "vxlan",
        TunnelKind::Geneve => "geneve",
        TunnelKind::Gre => "gre",
        TunnelKind::Erspan => "erspan",
        TunnelKind::Gtpu => "gtpu",
    }
}

/// A hash that [`udp_src_port`] maps to `port`.
fn hash_for_port(port: u16) -> u32 {
    let range = (TNL_UDP_PORT_MAX - TNL_UDP_PORT_MIN) as u64;
    let h = (((port - TNL_UDP_PORT_MIN) as u64) << 32).div_ceil(range);
    h as u32
}

#[test]
fn encapsulation_agrees_with_reference() {
    if testkit::skip_without_upstream("encapsulation_agrees_with_reference") {
        return;
    }
    let sb = Sandbox::start("tunnel");
    let ports = ports();
    let mut args = testkit::dummy_bridge("int-br", &[], &["p1"]);
    for (i, p) in ports.iter().enumerate() {
        let name = format!("t{}", i + 2);
        args.extend(
            [
                "--",
                "add-port",
                "int-br",
                &name,
                "--",
                "set",
                "interface",
                &name,
            ]
            .map(String::from),
        );
        args.push(format!("type={}", type_name(p.kind)));
        args.push(format!("ofport_request={}", i + 2));
        args.extend(p.options.iter().map(|s| s.to_string()));
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    sb.vsctl(&args).unwrap();
    add_underlay(&sb, &[&format!("options:tx_pcap={}", sb.path("p0.pcap"))]);
    let outputs: Vec<String> = (0..ports.len()).map(|i| (i + 2).to_string()).collect();
    sb.ofctl(
        "int-br",
        &[
            "add-flow",
            &format!("in_port=1,action={}", outputs.join(",")),
        ],
    )
    .unwrap();

    // Inner frames: UDP and TCP of several sizes and addresses.
    let mut r = Rng(0x7e_11e1);
    let mut inners = Vec::new();
    for i in 0..6 {
        let f = Flow {
            dl_src: r.bytes(),
            dl_dst: r.bytes(),
            dl_type: 0x0800,
            nw_src: r.next() as u32,
            nw_dst: r.next() as u32,
            nw_ttl: 64,
            nw_proto: if i % 2 == 0 { 17 } else { 6 },
            tp_src: r.next() as u16,
            tp_dst: r.next() as u16,
            tcp_flags: 0x010,
            ..Flow::default()
        };
        let key = format!(
            "eth(src={},dst={}),eth_type(0x0800),ipv4(src={},dst={},proto={},tos=0,ttl=64,frag=no),{}",
            mac(f.dl_src),
            mac(f.dl_dst),
            std::net::Ipv4Addr::from(f.nw_src),
            std::net::Ipv4Addr::from(f.nw_dst),
            f.nw_proto,
            if f.nw_proto == 17 {
                format!("udp(src={},dst={})", f.tp_src, f.tp_dst)
            } else {
                format!("tcp(src={},dst={}),tcp_flags(0x010)", f.tp_src, f.tp_dst)
            }
        );
        sb.appctl(&["netdev-dummy/receive", "p1", &key]).unwrap();
        inners.push(compose_generated(&f, GENERATED_L7_LEN));
    }

    // The reference writes its capture after answering `receive`: under
    // load the last frames land a moment later.
    let mut got = sb.pcap("p0.pcap");
    for _ in 0..100 {
        if got.len() >= inners.len() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
        got = sb.pcap("p0.pcap");
    }
    assert_eq!(
        got.len(),
        inners.len() * ports.len(),
        "frames sent on the underlay"
    );
    let mut failures = Vec::new();
    for (n, theirs) in got.iter().enumerate() {
        let inner = &inners[n / ports.len()];
        let port = &ports[n % ports.len()];
        let params = EncapParams {
            eth_src: LOCAL_MAC,
            eth_dst: NEXT_HOP_MAC,
            ..EncapParams::default()
        };
        let h = build_header(port.kind, &port.tnl, &params).unwrap();
        let hash = if port.kind == TunnelKind::Gre {
            0
        } else {
            let l4 = if h.ipv6 { 54 } else { 34 };
            let sport = theirs
                .get(l4..l4 + 2)
                .map_or(0, |b| u16::from_be_bytes([b[0], b[1]]));
            if !(TNL_UDP_PORT_MIN..TNL_UDP_PORT_MAX).contains(&sport) {
                failures.push(format!("frame {n}: UDP source port {sport} out of range"));
                continue;
            }
            let hash = hash_for_port(sport);
            assert_eq!(udp_src_port(hash), sport);
            hash
        };
        let ours = encap(inner, &h, hash);
        if &ours != theirs {
            failures.push(format!(
                "frame {n} ({:?} {:?}):\n  ours      {}\n  reference {}",
                port.kind,
                port.options,
                hex(&ours),
                hex(theirs)
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} frames disagree:\n{}",
        failures.len(),
        got.len(),
        failures.join("\n")
    );
}

fn mac(a: [u8; 6]) -> String {
    a.iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}
