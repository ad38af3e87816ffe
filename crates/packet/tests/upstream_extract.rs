//! Differential test of flow extraction against the reference Open vSwitch.
//!
//! `ovs-ofctl ofp-print` on an OFPT_PACKET_IN prints the flow its own parser
//! extracts from the packet data.  This test builds frames (composed from
//! random flows, then truncated or with bytes flipped, plus a few fixed
//! ones), wraps each in an OpenFlow 1.0 packet-in, and checks that every
//! field value the reference prints equals the value of our [`extract`].
//! Skipped, with a message, when the reference `ovs-ofctl` is not installed.

use std::net::{Ipv4Addr, Ipv6Addr};
use std::path::Path;
use std::process::Command;

use packet::compose::compose_generated;
use packet::extract::{extract, Metadata};
use packet::flow::{Flow, Vlan, FLOW_NW_FRAG_ANY, FLOW_NW_FRAG_LATER};

const OVS_OFCTL: &str = "/usr/bin/ovs-ofctl";

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.below(xs.len() as u64) as usize]
    }
    fn bytes<const N: usize>(&mut self) -> [u8; N] {
        let mut a = [0u8; N];
        for b in a.iter_mut() {
            *b = self.next() as u8;
        }
        a
    }
}

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
        0x0800, 0x86dd, 0x0806, 0x8035, 0x8847, 0x8848, 0x894f, 0x05ff,
    ]);
    f.nw_src = r.next() as u32;
    f.nw_dst = r.next() as u32;
    f.ipv6_src = r.bytes();
    f.ipv6_dst = r.bytes();
    f.ipv6_label = r.next() as u32 & 0xfffff;
    f.nw_tos = r.next() as u8;
    f.nw_ttl = r.next() as u8;
    f.nw_frag = r.pick(&[
        0,
        0,
        0,
        FLOW_NW_FRAG_ANY,
        FLOW_NW_FRAG_ANY | FLOW_NW_FRAG_LATER,
    ]);
    f.nw_proto = match f.dl_type {
        0x0806 | 0x8035 => r.pick(&[1, 2, 3]),
        0x86dd => r.pick(&[6, 17, 132, 58, 58, 58]),
        _ => r.pick(&[6, 17, 132, 1, 2, 47]),
    };
    f.tp_src = r.next() as u16;
    f.tp_dst = r.next() as u16;
    if matches!(f.nw_proto, 1 | 2 | 58) {
        f.tp_src = r.pick(&[0, 3, 8, 128, 129, 135, 136, 0x16]);
        f.tp_dst = r.pick(&[0, 0, 1]);
    }
    f.tcp_flags = r.next() as u16 & 0x0fff;
    f.nd_target = r.bytes();
    if r.below(2) == 0 {
        f.arp_sha = r.bytes();
    }
    if r.below(2) == 0 {
        f.arp_tha = r.bytes();
    }
    f.nd_reserved = r.next() as u32;
    for l in f.mpls_lse.iter_mut() {
        *l = r.next() as u32;
    }
    f.nsh.flags = r.below(4) as u8;
    f.nsh.ttl = r.below(64) as u8;
    f.nsh.mdtype = r.pick(&[1, 2]);
    f.nsh.np = r.next() as u8;
    f.nsh.path_hdr = r.next() as u32;
    f.nsh.context = [r.next() as u32, r.next() as u32, r.next() as u32, 7];
    f
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// An OpenFlow 1.0 packet-in carrying `frame`.
fn packet_in(frame: &[u8]) -> String {
    let total = 18 + frame.len();
    format!(
        "010a{total:04x}00000000ffffffff{:04x}00030000{}",
        frame.len(),
        hex(frame)
    )
}

/// The flow line of the reference's rendering of a packet-in.
fn reference_flow(frame: &[u8]) -> String {
    let out = Command::new(OVS_OFCTL)
        .args(["ofp-print", &packet_in(frame)])
        .output()
        .expect("run ovs-ofctl");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let line = text.lines().nth(1).unwrap_or("").to_string();
    // Drop the checksum note (" tcp_csum:..").
    line.split(' ').next().unwrap_or("").to_string()
}

fn mac(s: &str) -> [u8; 6] {
    let mut a = [0u8; 6];
    for (i, p) in s.split(':').enumerate() {
        a[i] = u8::from_str_radix(p, 16).unwrap();
    }
    a
}

fn num(s: &str) -> u64 {
    match s.strip_prefix("0x") {
        Some(h) => u64::from_str_radix(h, 16).unwrap(),
        None => s.parse().unwrap(),
    }
}

fn tcp_flags(s: &str) -> u16 {
    if s == "0" {
        return 0;
    }
    let names = ["fin", "syn", "rst", "psh", "ack", "urg", "ece", "cwr", "ns"];
    let mut v = 0;
    for part in s.split('|') {
        match names.iter().position(|n| *n == part) {
            Some(i) => v |= 1 << i,
            None => match part.strip_prefix("[").and_then(|p| p.strip_suffix("]")) {
                Some(h) => v |= u16::from_str_radix(h, 16).unwrap(),
                None => v |= num(part) as u16,
            },
        }
    }
    v
}

/// Checks every `key=value` of the reference's flow text against `flow`;
/// returns the mismatches.
fn compare(text: &str, flow: &Flow) -> Vec<String> {
    let mut bad = Vec::new();
    let mut check = |key: &str, ours: String, theirs: String| {
        if ours != theirs {
            bad.push(format!("{key}: ours {ours} reference {theirs}"));
        }
    };
    for item in text.split(',') {
        let Some((k, v)) = item.split_once('=') else {
            let (dl, proto): (u16, Option<u8>) = match item {
                "ip" => (0x0800, None),
                "tcp" => (0x0800, Some(6)),
                "udp" => (0x0800, Some(17)),
                "sctp" => (0x0800, Some(132)),
                "icmp" => (0x0800, Some(1)),
                "ipv6" => (0x86dd, None),
                "tcp6" => (0x86dd, Some(6)),
                "udp6" => (0x86dd, Some(17)),
                "sctp6" => (0x86dd, Some(132)),
                "icmp6" => (0x86dd, Some(58)),
                "arp" => (0x0806, None),
                "rarp" => (0x8035, None),
                "mpls" => (0x8847, None),
                "mplsm" => (0x8848, None),
                other => {
                    check("protocol", String::new(), other.to_string());
                    continue;
                }
            };
            check("dl_type", flow.dl_type.to_string(), dl.to_string());
            if let Some(p) = proto {
                check("nw_proto", flow.nw_proto.to_string(), p.to_string());
            }
            continue;
        };
        let n = || num(v).to_string();
        let tci = |i: usize| flow.vlans[i].tci;
        let ipv6 = |v: &str| v.parse::<Ipv6Addr>().unwrap().octets();
        let ipv4 = |v: &str| u32::from(v.parse::<Ipv4Addr>().unwrap());
        let lse = flow.mpls_lse[0];
        match k {
            "vlan_tci" => check(k, tci(0).to_string(), n()),
            "dl_vlan" => check(k, (tci(0) & 0xfff).to_string(), n()),
            "dl_vlan_pcp" => check(k, (tci(0) >> 13).to_string(), n()),
            "vlan_tci1" => check(k, tci(1).to_string(), n()),
            "mpls_lse1" => check(k, flow.mpls_lse[1].to_string(), n()),
            "mpls_lse2" => check(k, flow.mpls_lse[2].to_string(), n()),
            "dl_vlan1" => check(k, (tci(1) & 0xfff).to_string(), n()),
            "dl_vlan_pcp1" => check(k, (tci(1) >> 13).to_string(), n()),
            "dl_src" => check(k, format!("{:?}", flow.dl_src), format!("{:?}", mac(v))),
            "dl_dst" => check(k, format!("{:?}", flow.dl_dst), format!("{:?}", mac(v))),
            "dl_type" => check(k, flow.dl_type.to_string(), n()),
            "nw_src" | "arp_spa" => check(k, flow.nw_src.to_string(), ipv4(v).to_string()),
            "nw_dst" | "arp_tpa" => check(k, flow.nw_dst.to_string(), ipv4(v).to_string()),
            "nw_proto" | "arp_op" => check(k, flow.nw_proto.to_string(), n()),
            "nw_tos" => check(k, (flow.nw_tos & 0xfc).to_string(), n()),
            "nw_ecn" => check(k, (flow.nw_tos & 3).to_string(), n()),
            "nw_ttl" => check(k, flow.nw_ttl.to_string(), n()),
            "nw_frag" => {
                let ours = match flow.nw_frag {
                    0 => "no",
                    1 => "first",
                    3 => "later",
                    _ => "?",
                };
                check(k, ours.to_string(), v.to_string())
            }
            "arp_sha" | "nd_sll" => {
                check(k, format!("{:?}", flow.arp_sha), format!("{:?}", mac(v)))
            }
            "arp_tha" | "nd_tll" => {
                check(k, format!("{:?}", flow.arp_tha), format!("{:?}", mac(v)))
            }
            "ipv6_src" => check(k, format!("{:?}", flow.ipv6_src), format!("{:?}", ipv6(v))),
            "ipv6_dst" => check(k, format!("{:?}", flow.ipv6_dst), format!("{:?}", ipv6(v))),
            "nd_target" => check(k, format!("{:?}", flow.nd_target), format!("{:?}", ipv6(v))),
            "ipv6_label" => check(k, flow.ipv6_label.to_string(), n()),
            "tp_src" | "icmp_type" => check(k, flow.tp_src.to_string(), n()),
            "tp_dst" | "icmp_code" => check(k, flow.tp_dst.to_string(), n()),
            "tcp_flags" => check(k, flow.tcp_flags.to_string(), tcp_flags(v).to_string()),
            "nd_reserved" => check(k, flow.nd_reserved.to_string(), n()),
            "nd_options_type" => check(k, flow.nd_options_type.to_string(), n()),
            "mpls_label" => check(k, (lse >> 12).to_string(), n()),
            "mpls_tc" => check(k, ((lse >> 9) & 7).to_string(), n()),
            "mpls_bos" => check(k, ((lse >> 8) & 1).to_string(), n()),
            "mpls_ttl" => check(k, (lse & 0xff).to_string(), n()),
            "nsh_flags" => check(k, flow.nsh.flags.to_string(), n()),
            "nsh_ttl" => check(k, flow.nsh.ttl.to_string(), n()),
            "nsh_mdtype" => check(k, flow.nsh.mdtype.to_string(), n()),
            "nsh_np" => check(k, flow.nsh.np.to_string(), n()),
            "nsh_spi" => check(k, (flow.nsh.path_hdr >> 8).to_string(), n()),
            "nsh_si" => check(k, (flow.nsh.path_hdr & 0xff).to_string(), n()),
            "nsh_c1" | "nsh_c2" | "nsh_c3" | "nsh_c4" => {
                let i = (k.as_bytes()[5] - b'1') as usize;
                check(k, flow.nsh.context[i].to_string(), n())
            }
            _ => check(k, "(unknown key)".to_string(), v.to_string()),
        }
    }
    bad
}

fn unhex(s: &str) -> Vec<u8> {
    let s: String = s.chars().filter(|c| c.is_ascii_hexdigit()).collect();
    (0..s.len() / 2)
        .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap())
        .collect()
}

/// Frames that composing a flow cannot produce: IPv6 extension headers,
/// ND with several options, LLC/SNAP, IGMP, NSH MD type 2.
fn fixed_frames() -> Vec<Vec<u8>> {
    let eth = "505400000006 505400000005";
    let v6 = |next: &str, payload: &str| {
        let p = unhex(payload);
        format!(
            "{eth} 86dd 6a112345 {:04x} {next} 40 fe800000000000000000000000000001 ff020000000000000000000000000002 {payload}",
            p.len()
        )
    };
    let tcp = "0016d431 00000000 00000000 5018 0000 0000 0000";
    let sll = "0101 505400000005";
    let tll = "0201 505400000006";
    let nd_ns = "8700 0000 00000000 fe800000000000000000000000000099";
    let nd_na = "8800 0000 e0000000 fe800000000000000000000000000099";
    [
        v6("00", &format!("2b000104 00000000 3c010000 00000000 0000000000000000 33000104 00000000 06010000 0000000000000000 {tcp}")),
        v6("2c", "11000001 00000001 1234 5678 0008 0000"),
        v6("2c", "11000008 00000001 1234 5678 0008 0000"),
        v6("2c", "11000000 00000001 1234 5678 0008 0000"),
        v6("3a", &format!("{nd_na} {sll} 0301000000000000 {tll}")),
        v6("3a", &format!("{nd_ns} {tll}")),
        v6("3a", &format!("{nd_ns} {sll} {sll}")),
        v6("3a", &format!("{nd_ns} 0100000000000000")),
        v6("3a", "8700 0000 00000000 fe80"),
        v6("3b", ""),
        format!("{eth} 0024 aaaa03 000000 0800 45000014 00000000 4011 0000 0a000001 0a000002 0044 0043 0008 0000"),
        format!("{eth} 0026 424203 000000000000000000000000"),
        format!("{eth} 0800 45c00020 00000000 0102 0000 0a000001 e0000016 94040000 16000904 e0000016"),
        format!("{eth} 894f 0fc3 02 03 00000101 00000000"),
        format!("{eth} 8100 0005 8100 0006 8100 0007 0800"),
    ]
    .iter()
    .map(|h| unhex(h))
    .collect()
}

fn frames() -> Vec<Vec<u8>> {
    let mut r = Rng(0x0f10_3a11);
    let fixed = fixed_frames();
    let mut out = fixed.clone();
    for i in 0..300 {
        let frame = if i % 5 == 0 {
            fixed[r.below(fixed.len() as u64) as usize].clone()
        } else {
            let flow = random_flow(&mut r);
            compose_generated(&flow, r.below(40) as usize)
        };
        match r.below(4) {
            0 => out.push(frame),
            1 => {
                let n = r.below(frame.len() as u64 + 1) as usize;
                out.push(frame[..n].to_vec());
            }
            _ => {
                let mut f = frame;
                for _ in 0..1 + r.below(3) {
                    let i = r.below(f.len() as u64) as usize;
                    f[i] ^= 1 << r.below(8);
                }
                out.push(f);
            }
        }
    }
    out
}

#[test]
fn extraction_agrees_with_reference() {
    if !Path::new(OVS_OFCTL).exists() {
        eprintln!("skipped: reference {OVS_OFCTL} is not installed");
        return;
    }
    let mut failures = Vec::new();
    let all = frames();
    for frame in &all {
        let theirs = reference_flow(frame);
        let ours = extract(frame, &Metadata::default());
        let bad = compare(&theirs, &ours);
        if !bad.is_empty() {
            failures.push(format!(
                "frame {}\n  reference {theirs}\n  {}",
                hex(frame),
                bad.join("\n  ")
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} frames disagree:\n{}",
        failures.len(),
        all.len(),
        failures.join("\n")
    );
}
