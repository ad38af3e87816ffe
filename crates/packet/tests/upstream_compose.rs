//! Differential test of frame composition against the reference Open vSwitch.
//!
//! The reference `ovs-vswitchd` (dummy datapath, in a private run directory)
//! composes a frame from a datapath flow given to `netdev-dummy/receive` and
//! writes it to the port's receive pcap.  This test sends random flows that
//! way and checks that our [`compose_generated`] with the same 64 payload
//! bytes produces the same bytes, and that [`compose_sized`] agrees with
//! `--len` (padding, lengths, checksums, refusals).  Skipped, with a message, when the
//! reference daemons are not installed.

use std::fmt::Write as _;
use std::net::{Ipv4Addr, Ipv6Addr};

use packet::compose::{compose_generated, compose_sized, SizeError, GENERATED_L7_LEN};
use packet::flow::{Flow, Vlan, FLOW_NW_FRAG_ANY, FLOW_NW_FRAG_LATER};
use testkit::{hex, Rng, Sandbox};

/// A random flow that the datapath flow syntax can express (one MPLS
/// label, no NSH, no IGMP group).
fn random_flow(r: &mut Rng) -> Flow {
    let mut f = Flow {
        dl_dst: r.bytes(),
        dl_src: r.bytes(),
        ..Flow::default()
    };
    for i in 0..r.below(3) as usize {
        f.vlans[i] = Vlan {
            tpid: r.pick(&[0x8100, 0x88a8]),
            tci: r.next() as u16 | 0x1000,
        };
    }
    f.dl_type = r.pick(&[
        0x0800, 0x0800, 0x86dd, 0x86dd, 0x0806, 0x8035, 0x8847, 0x88cc,
    ]);
    match f.dl_type {
        0x0800 | 0x86dd => {
            if f.dl_type == 0x0800 {
                f.nw_src = r.next() as u32;
                f.nw_dst = r.next() as u32;
                f.nw_proto = r.pick(&[6, 17, 132, 1, 2, 47]);
            } else {
                f.ipv6_src = r.bytes();
                f.ipv6_dst = r.bytes();
                f.ipv6_label = r.next() as u32 & 0xfffff;
                f.nw_proto = r.pick(&[6, 17, 132, 58, 58, 58]);
            }
            f.nw_tos = r.next() as u8;
            f.nw_ttl = r.next() as u8;
            f.nw_frag = r.pick(&[
                0,
                0,
                0,
                FLOW_NW_FRAG_ANY,
                FLOW_NW_FRAG_ANY | FLOW_NW_FRAG_LATER,
            ]);
            match f.nw_proto {
                6 => {
                    f.tp_src = r.next() as u16;
                    f.tp_dst = r.next() as u16;
                    f.tcp_flags = r.next() as u16 & 0x0fff;
                }
                17 | 132 => {
                    f.tp_src = r.next() as u16;
                    f.tp_dst = r.next() as u16;
                }
                1 => {
                    f.tp_src = r.pick(&[0, 3, 8, 11]);
                    f.tp_dst = r.pick(&[0, 0, 1]);
                }
                58 => {
                    f.tp_src = r.pick(&[1, 128, 129, 135, 136, 135, 136]);
                    f.tp_dst = r.pick(&[0, 0, 0, 3]);
                    if f.tp_dst == 0 && (f.tp_src == 135 || f.tp_src == 136) {
                        f.nd_target = r.bytes();
                        f.nd_reserved = r.next() as u32;
                        f.nd_options_type = r.pick(&[0, 1, 2]);
                        if r.below(2) == 0 {
                            f.arp_sha = r.bytes();
                        }
                        if r.below(2) == 0 {
                            f.arp_tha = r.bytes();
                        }
                    }
                }
                _ => {}
            }
        }
        0x0806 | 0x8035 => {
            f.nw_proto = r.pick(&[1, 2, 3]);
            f.nw_src = r.next() as u32;
            f.nw_dst = r.next() as u32;
            f.arp_sha = r.bytes();
            f.arp_tha = r.bytes();
        }
        0x8847 => f.mpls_lse[0] = (r.next() as u32) | 0x100,
        _ => {}
    }
    f
}

fn mac(a: [u8; 6]) -> String {
    a.iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

fn frag(f: &Flow) -> &'static str {
    match f.nw_frag {
        0 => "no",
        1 => "first",
        _ => "later",
    }
}

/// The flow in the datapath flow syntax of `netdev-dummy/receive`.
fn odp(f: &Flow) -> String {
    let mut s = format!("eth(src={},dst={})", mac(f.dl_src), mac(f.dl_dst));
    let mut closing = String::new();
    for v in f.vlans.iter().filter(|v| v.tci & 0x1000 != 0) {
        write!(
            s,
            ",eth_type(0x{:04x}),vlan(vid={},pcp={}),encap(",
            v.tpid,
            v.tci & 0xfff,
            v.tci >> 13
        )
        .unwrap();
        closing.push(')');
    }
    if !closing.is_empty() {
        // The first key inside encap() has no comma before it.
        s.push_str(&format!("eth_type(0x{:04x})", f.dl_type));
    } else {
        write!(s, ",eth_type(0x{:04x})", f.dl_type).unwrap();
    }
    match f.dl_type {
        0x0800 => write!(
            s,
            ",ipv4(src={},dst={},proto={},tos=0x{:x},ttl={},frag={})",
            Ipv4Addr::from(f.nw_src),
            Ipv4Addr::from(f.nw_dst),
            f.nw_proto,
            f.nw_tos,
            f.nw_ttl,
            frag(f)
        )
        .unwrap(),
        0x86dd => write!(
            s,
            ",ipv6(src={},dst={},label=0x{:x},proto={},tclass=0x{:x},hlimit={},frag={})",
            Ipv6Addr::from(f.ipv6_src),
            Ipv6Addr::from(f.ipv6_dst),
            f.ipv6_label,
            f.nw_proto,
            f.nw_tos,
            f.nw_ttl,
            frag(f)
        )
        .unwrap(),
        0x0806 | 0x8035 => write!(
            s,
            ",arp(sip={},tip={},op={},sha={},tha={})",
            Ipv4Addr::from(f.nw_src),
            Ipv4Addr::from(f.nw_dst),
            f.nw_proto,
            mac(f.arp_sha),
            mac(f.arp_tha)
        )
        .unwrap(),
        0x8847 => {
            let l = f.mpls_lse[0];
            write!(
                s,
                ",mpls(label={},tc={},ttl={},bos={})",
                l >> 12,
                (l >> 9) & 7,
                l & 0xff,
                (l >> 8) & 1
            )
            .unwrap()
        }
        _ => {}
    }
    let later = f.nw_frag == FLOW_NW_FRAG_ANY | FLOW_NW_FRAG_LATER;
    if (f.dl_type == 0x0800 || f.dl_type == 0x86dd) && !later {
        match f.nw_proto {
            6 => write!(
                s,
                ",tcp(src={},dst={}),tcp_flags(0x{:03x})",
                f.tp_src, f.tp_dst, f.tcp_flags
            )
            .unwrap(),
            17 => write!(s, ",udp(src={},dst={})", f.tp_src, f.tp_dst).unwrap(),
            132 => write!(s, ",sctp(src={},dst={})", f.tp_src, f.tp_dst).unwrap(),
            1 => write!(s, ",icmp(type={},code={})", f.tp_src, f.tp_dst).unwrap(),
            58 => {
                write!(s, ",icmpv6(type={},code={})", f.tp_src, f.tp_dst).unwrap();
                if f.nd_target != [0; 16] {
                    write!(
                        s,
                        ",nd(target={},sll={},tll={}),nd_ext(nd_reserved=0x{:x},nd_options_type={})",
                        Ipv6Addr::from(f.nd_target),
                        mac(f.arp_sha),
                        mac(f.arp_tha),
                        f.nd_reserved,
                        f.nd_options_type
                    )
                    .unwrap();
                }
            }
            _ => {}
        }
    }
    s + &closing
}

#[test]
fn composition_agrees_with_reference() {
    if testkit::skip_without_upstream("composition_agrees_with_reference") {
        return;
    }
    let sb = Sandbox::start("compose");
    let rxq_pcap = format!("options:rxq_pcap={}", sb.path("p1.pcap"));
    let mut args: Vec<String> = [
        "set",
        "Open_vSwitch",
        ".",
        "other_config:vlan-limit=2",
        "--",
    ]
    .map(String::from)
    .to_vec();
    args.extend(testkit::dummy_bridge("br0", &[], &[]));
    args.extend(testkit::dummy_port("br0", "p1", 1, &[&rxq_pcap]));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    sb.vsctl(&args).unwrap();
    let mut r = Rng(0xc0_4905e);
    let mut expected = Vec::new();
    let mut failures = Vec::new();
    for _ in 0..200 {
        let flow = random_flow(&mut r);
        let key = odp(&flow);
        let mut args = vec!["netdev-dummy/receive".to_string(), "p1".into(), key.clone()];
        let ours = if r.below(3) == 0 {
            let minimum = compose_generated(&flow, 0).len();
            let size = match r.below(8) {
                0 => r.below(60) as usize,
                1 => minimum - 1,
                _ => minimum.max(60) + r.below(40) as usize,
            };
            args.extend(["--len".to_string(), size.to_string()]);
            compose_sized(&flow, size)
        } else {
            Ok(compose_generated(&flow, GENERATED_L7_LEN))
        };
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let theirs = sb.appctl(&args);
        let what = args[2..].join(" ");
        match (ours, theirs) {
            (Ok(frame), Ok(_)) => expected.push((what, frame)),
            (Ok(_), Err(e)) => failures.push(format!("reference refused {what}: {e}")),
            (Err(e), Ok(_)) => {
                failures.push(format!("reference accepted {what}, we refused with {e:?}"));
                // Keep the pcap and the expectations aligned.
                expected.push((what, Vec::new()));
            }
            (Err(e), Err(msg)) => {
                let agree = match e {
                    SizeError::BelowEthernetMinimum => msg.contains(&e.to_string()),
                    SizeError::BelowFlowMinimum { .. } => !msg.contains("too small"),
                };
                if !agree {
                    failures.push(format!(
                        "{what}: we refused with {e:?}, the reference with {msg}"
                    ));
                }
            }
        }
    }
    let got = sb.pcap("p1.pcap");
    assert_eq!(got.len(), expected.len(), "frames in the pcap");
    for ((what, ours), theirs) in expected.iter().zip(&got) {
        if ours != theirs {
            failures.push(format!(
                "{what}\n  ours      {}\n  reference {}",
                hex(ours),
                hex(theirs)
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of 200 cases disagree:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
