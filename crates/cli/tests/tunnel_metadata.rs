//! Tunnel metadata (`tun_metadataN`, Geneve options through the TLV map)
//! against the reference, on the dummy datapath: options written by
//! `set_field`/`load`/`move` are present for later matches, `delete_field`
//! removes them, and megaflows say which options were matched absent
//! (`tun_metadataN=NP`); `ofproto/trace` of a datapath flow carrying
//! Geneve options maps them to `tun_metadataN`.
//!
//! Needs the reference (skips with a message without it).

use testkit::Sandbox;

const FERROVS: &str = env!("CARGO_BIN_EXE_ferrovs");

/// One command: tool (`vsctl`, `ofctl BRIDGE`, `appctl`) and its words.
enum Step<'a> {
    Vsctl(&'a [&'a str]),
    Ofctl(&'a str, &'a [&'a str]),
    Appctl(&'a [&'a str]),
}

fn run_step(sb: &Sandbox, step: &Step) -> String {
    let (what, o) = match step {
        Step::Vsctl(a) => (format!("ovs-vsctl {a:?}"), sb.vsctl_outcome(a)),
        Step::Ofctl(br, a) => (format!("ovs-ofctl {br} {a:?}"), sb.ofctl_outcome(br, a)),
        Step::Appctl(a) => (format!("ovs-appctl {a:?}"), sb.appctl_outcome(a)),
    };
    let dir = sb.dir.display().to_string();
    format!("$ {what}\nexit {}\n{}{}", o.status, o.stdout, o.stderr).replace(&dir, "SANDBOX")
}

/// Runs `steps` on both; returns the differing steps.
fn compare(reference: &Sandbox, ours: &Sandbox, steps: &[Step]) -> Vec<String> {
    testkit::differing_steps(reference, ours, steps, run_step)
}

const TLV_MAP: &str = "{class=0xffff,type=0,len=4}->tun_metadata0,{class=0xffff,type=1,len=8}->tun_metadata1,{class=0x102,type=0x80,len=4}->tun_metadata2";

/// br0: two dummy ports and a Geneve port taking its remote and key from
/// the flow; int-br's TLV map as [`TLV_MAP`].
fn bridge_steps() -> Vec<Step<'static>> {
    const BR0: &str = "add-br br0 -- set bridge br0 datapath_type=dummy -- add-port br0 p1 -- set interface p1 type=dummy ofport_request=1 -- add-port br0 p2 -- set interface p2 type=dummy ofport_request=2 -- add-port br0 t0 -- set interface t0 type=geneve options:remote_ip=flow options:key=flow ofport_request=3";
    let words: Vec<&'static str> = BR0.split(' ').collect();
    vec![
        Step::Vsctl(Box::leak(words.into_boxed_slice())),
        Step::Ofctl("br0", &["add-tlv-map", TLV_MAP]),
    ]
}

const WRITES: &[&str] = &[
    "table=0,in_port=3,actions=set_field:0x1234->tun_metadata0,resubmit(,1)",
    "table=0,in_port=1,actions=load:0x5->tun_metadata1[0..15],move:tun_metadata1[0..15]->tun_metadata0[16..31],resubmit(,1)",
    "table=0,in_port=2,actions=set_field:0x99->tun_metadata2,delete_field:tun_metadata2,resubmit(,1)",
    "table=1,tun_metadata0=0x1234,actions=resubmit(,2)",
    "table=1,tun_metadata0=0x50000/0xffff0000,actions=resubmit(,2)",
    "table=1,priority=1,actions=resubmit(,2)",
    "table=2,tun_metadata2=0x99,actions=output:2",
    "table=2,tun_metadata1=0x5,actions=output:2",
    "table=2,priority=1,actions=output:1",
];

const TUN_IN: &str = "tun_src=1.1.2.92,tun_dst=1.1.2.88,tun_id=5";

#[test]
fn written_options_are_present_for_later_matches() {
    let Some((reference, ours)) = testkit::reference_and_ours(FERROVS, "tunmd-write") else {
        return;
    };
    let adds: Vec<[&str; 2]> = WRITES.iter().map(|f| ["add-flow", *f]).collect();
    let flows = [
        format!("in_port=3,{TUN_IN},ip"),
        format!("in_port=3,{TUN_IN},tun_metadata2=0x99,ip"),
        format!("in_port=3,{TUN_IN},tun_metadata1=0x5,ip"),
        "in_port=1,ip".to_string(),
        format!("in_port=1,{TUN_IN},ip"),
        "in_port=2,ip".to_string(),
        format!("in_port=2,{TUN_IN},tun_metadata0=0x1234,ip"),
        format!("in_port=2,{TUN_IN},tun_metadata2=0x98,ip"),
    ];
    let traces: Vec<[&str; 3]> = flows
        .iter()
        .map(|f| ["ofproto/trace", "br0", f.as_str()])
        .collect();
    let mut steps = bridge_steps();
    steps.extend(adds.iter().map(|a| Step::Ofctl("br0", a)));
    steps.extend(traces.iter().map(|w| Step::Appctl(w)));
    // Replaced: a write deleted again, and a move between options.
    steps.push(Step::Ofctl(
        "br0",
        &[
            "add-flow",
            "table=0,in_port=1,actions=set_field:0x1->tun_metadata0,delete_field:tun_metadata0,resubmit(,1)",
        ],
    ));
    steps.push(Step::Ofctl(
        "br0",
        &[
            "add-flow",
            "table=0,in_port=2,actions=move:tun_metadata1[0..31]->tun_metadata2[],resubmit(,1)",
        ],
    ));
    steps.extend(traces.iter().map(|w| Step::Appctl(w)));
    steps.push(Step::Ofctl("br0", &["dump-flows", "--no-stats"]));
    let diffs = compare(&reference, &ours, &steps);
    assert!(
        diffs.is_empty(),
        "{} of {} steps differ:\n{}",
        diffs.len(),
        steps.len(),
        diffs.join("\n")
    );
}

/// The underlay (br0 with 1.1.2.88, p0 facing 1.1.2.92) and int-br with a
/// Geneve port and a VM port (ovs-vsctl command lines).
const RECEIVE_SETUP: &[&str] = &[
    "add-br br0 -- set bridge br0 datapath_type=dummy other-config:hwaddr=aa:55:aa:55:00:00 -- add-port br0 p0 -- set interface p0 type=dummy ofport_request=1 other-config:hwaddr=aa:55:aa:55:00:00",
    "add-br int-br -- set bridge int-br datapath_type=dummy -- add-port int-br t4 -- set interface t4 type=geneve options:remote_ip=1.1.2.92 options:key=123 ofport_request=5 -- add-port int-br vm1 -- set interface vm1 type=dummy ofport_request=10",
];

const RECEIVE_COMMANDS: &[&[&str]] = &[
    &["netdev-dummy/ip4addr", "br0", "1.1.2.88/24"],
    &["ovs/route/add", "1.1.2.92/24", "br0"],
    &["tnl/arp/set", "br0", "1.1.2.92", "f8:bc:12:44:34:b6"],
];

const RECEIVE_FLOWS: &[&str] = &[
    "in_port=5,tun_metadata0=0xa,actions=10",
    "in_port=5,tun_metadata3=0x1234,actions=mod_dl_src:00:00:00:00:00:03,10",
    "priority=1,actions=drop",
];

/// Internet checksum of `b`.
fn csum(b: &[u8]) -> u16 {
    let mut s: u32 = b
        .chunks(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)])))
        .sum();
    while s >> 16 != 0 {
        s = (s & 0xffff) + (s >> 16);
    }
    !(s as u16)
}

/// An IPv4 header (checksum filled in) for `payload_len` bytes.
fn ipv4(proto: u8, src: [u8; 4], dst: [u8; 4], payload_len: usize) -> Vec<u8> {
    let total = (20 + payload_len) as u16;
    let mut h = vec![0x45, 0];
    h.extend_from_slice(&total.to_be_bytes());
    h.extend_from_slice(&[0, 0, 0x40, 0, 64, proto, 0, 0]);
    h.extend_from_slice(&src);
    h.extend_from_slice(&dst);
    let c = csum(&h);
    h[10..12].copy_from_slice(&c.to_be_bytes());
    h
}

/// The hex of a Geneve frame from 1.1.2.92 to 1.1.2.88 (VNI 123) with
/// options `opts`, carrying an ICMP echo request from 192.168.0.1 to
/// 192.168.0.`inner_dst`.
fn geneve_frame(opts: &[u8], inner_dst: u8) -> String {
    let icmp = [8, 0, 0xf7, 0xff, 0, 0, 0, 0];
    let mut inner = Vec::new();
    inner.extend_from_slice(&[0x50, 0x54, 0, 0, 0, 7, 0x50, 0x54, 0, 0, 0, 5, 8, 0]);
    inner.extend(ipv4(
        1,
        [192, 168, 0, 1],
        [192, 168, 0, inner_dst],
        icmp.len(),
    ));
    inner.extend_from_slice(&icmp);
    let mut geneve = vec![(opts.len() / 4) as u8, 0, 0x65, 0x58, 0, 0, 123, 0];
    geneve.extend_from_slice(opts);
    let udp_len = 8 + geneve.len() + inner.len();
    let mut udp = Vec::new();
    udp.extend_from_slice(&51283u16.to_be_bytes());
    udp.extend_from_slice(&6081u16.to_be_bytes());
    udp.extend_from_slice(&(udp_len as u16).to_be_bytes());
    udp.extend_from_slice(&[0, 0]);
    let mut f = vec![
        0xaa, 0x55, 0xaa, 0x55, 0, 0, 0xf8, 0xbc, 0x12, 0x44, 0x34, 0xb6, 8, 0,
    ];
    f.extend(ipv4(17, [1, 1, 2, 92], [1, 1, 2, 88], udp_len));
    f.extend(udp);
    f.extend(geneve);
    f.extend(inner);
    f.iter().map(|b| format!("{b:02x}")).collect()
}

/// `dpctl/dump-flows` text comparable across daemons: lines sorted, ages
/// and flow ids left out.
fn dump_flows(sb: &Sandbox, verbose: bool) -> String {
    let mut args = vec!["dpctl/dump-flows"];
    if verbose {
        args.push("-m");
    }
    let text = sb.appctl(&args).unwrap_or_else(|e| e);
    let mut lines: Vec<String> = text
        .lines()
        .map(|l| {
            let l = match l.find("used:") {
                Some(at) => {
                    let end = l[at..].find(',').map_or(l.len(), |e| at + e);
                    format!("{}used:AGE{}", &l[..at], &l[end..])
                }
                None => l.to_string(),
            };
            match (l.find("ufid:"), l.find(", ")) {
                (Some(0), Some(_)) | (Some(1), Some(_)) => {
                    let end = l.find(' ').unwrap_or(0);
                    format!("ufid:ID{}", &l[end..])
                }
                _ => l,
            }
        })
        .collect();
    lines.sort();
    lines.join("\n")
}

#[test]
fn received_options_become_tun_metadata() {
    let Some((reference, ours)) = testkit::reference_and_ours(FERROVS, "tunmd-recv") else {
        return;
    };
    let mapped = [0xff, 0xff, 0, 1, 0, 0, 0, 0xa];
    let both = [
        0xff, 0xff, 0, 1, 0, 0, 0, 0xb, // tun_metadata0 = 0xb
        0xff, 0xff, 1, 2, 0, 0, 0, 0, 0, 0, 0x12, 0x34, // tun_metadata3 = 0x1234
        0, 1, 5, 1, 0, 0, 0, 0x77, // not in the map
    ];
    let frames = [
        geneve_frame(&mapped, 2),
        geneve_frame(&both, 3),
        geneve_frame(&[], 4),
        geneve_frame(&mapped, 9),
    ];
    let mut outputs = [Vec::new(), Vec::new()];
    for (sb, out) in [&reference, &ours].into_iter().zip(outputs.iter_mut()) {
        let dir = sb.dir.display().to_string();
        let mut say = |what: String| out.push(what.replace(&dir, "SANDBOX"));
        for s in RECEIVE_SETUP {
            let words: Vec<&str> = s.split(' ').collect();
            say(format!("{:?}", sb.vsctl_outcome(&words)));
        }
        // What vm1 sends goes to a capture in the sandbox (every frame but
        // the one without options, which the pipeline drops).
        let pcap = format!("options:tx_pcap={}", sb.path("vm1.pcap"));
        say(format!(
            "{:?}",
            sb.vsctl_outcome(&["set", "interface", "vm1", &pcap])
        ));
        for c in RECEIVE_COMMANDS {
            say(format!("{:?}", sb.appctl_outcome(c)));
        }
        say(format!(
            "{:?}",
            sb.ofctl_outcome("br0", &["add-flow", "actions=normal"])
        ));
        say(format!(
            "{:?}",
            sb.ofctl_outcome(
                "int-br",
                &[
                    "add-tlv-map",
                    "{class=0xffff,type=0,len=4}->tun_metadata0,{class=0xffff,type=1,len=8}->tun_metadata3",
                ],
            )
        ));
        for f in RECEIVE_FLOWS {
            say(format!(
                "{:?}",
                sb.ofctl_outcome("int-br", &["add-flow", f])
            ));
        }
        for (i, frame) in frames.iter().enumerate() {
            if i == 3 {
                // A higher rule that does not look at the options.
                say(format!(
                    "{:?}",
                    sb.ofctl_outcome(
                        "int-br",
                        &[
                            "add-flow",
                            "priority=50000,in_port=5,icmp,nw_dst=192.168.0.9,actions=10"
                        ],
                    )
                ));
                // The datapath flows the new rule changes are gone first.
                say(format!("{:?}", sb.appctl_outcome(&["revalidator/wait"])));
            }
            say(format!(
                "{:?}",
                sb.appctl_outcome(&["netdev-dummy/receive", "p0", frame])
            ));
            let want = format!("192.168.0.{}", [2, 3, 4, 9][i]);
            // The verbose dump names the inner addresses, even wildcarded.
            let seen = sb.wait_until(std::time::Duration::from_secs(10), || {
                dump_flows(sb, true).contains(&want)
            });
            assert!(seen, "{}: no datapath flow for frame {i}", sb.dir.display());
            say(dump_flows(sb, false));
            say(dump_flows(sb, true));
        }
        let trace = "tunnel(tun_id=0x7b,src=1.1.2.92,dst=1.1.2.88,ttl=64,tp_src=51283,tp_dst=6081,geneve({class=0xffff,type=0,len=4,0xa}{class=0xffff,type=1,len=8,0x1234}{class=0x1,type=0x5,len=4,0x77}),flags(-df-csum+key)),in_port(6081),eth(src=50:54:00:00:00:05,dst=50:54:00:00:00:07),eth_type(0x0800),ipv4(src=192.168.0.1,dst=192.168.0.2,proto=1,tos=0,ttl=64,frag=no),icmp(type=8,code=0)";
        for t in [
            trace.to_string(),
            trace.replace("0xa}", "0xb}"),
            trace.replace("{class=0xffff,type=0,len=4,0xa}", ""),
        ] {
            say(format!(
                "{:?}",
                sb.appctl_outcome(&["ofproto/trace", "ovs-dummy", &t])
            ));
        }
        let sent: Vec<String> = sb
            .pcap("vm1.pcap")
            .iter()
            .map(|f| f.iter().map(|b| format!("{b:02x}")).collect())
            .collect();
        assert_eq!(sent.len(), 3, "{}: vm1 sent {sent:?}", sb.dir.display());
        say(format!("vm1 sent {sent:?}"));
    }
    let [r, o] = outputs;
    assert_eq!(r.len(), o.len());
    let diffs: Vec<String> = r
        .iter()
        .zip(&o)
        .filter(|(a, b)| a != b)
        .map(|(a, b)| format!("--- reference\n{a}\n--- ours\n{b}"))
        .collect();
    assert!(
        diffs.is_empty(),
        "{} differ:\n{}",
        diffs.len(),
        diffs.join("\n")
    );
}
