//! Differential property test: random flows (matches and action lists, fixed
//! seed, bounded count) go through our `ovs-ofctl parse-flow` and through the
//! reference `/usr/bin/ovs-ofctl` under each OpenFlow version and flow format
//! (so each is encoded to the wire, decoded and printed), and the outputs
//! (stdout, stderr without timestamps, exit status) must be identical for
//! every case. Skips (with a message) when the reference is not installed.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

const REFERENCE: &str = "/usr/bin/ovs-ofctl";
const SEED: u64 = 0x0f10_2026_1121;
const CASES: usize = 300;

/// Match pieces; each is valid on its own (prerequisites included).
const MATCHES: &[&str] = &[
    "in_port=1",
    "in_port=LOCAL",
    "dl_src=00:11:22:33:44:55",
    "dl_dst=01:00:00:00:00:00/01:00:00:00:00:00",
    "dl_type=0x0800",
    "dl_vlan=7",
    "dl_vlan_pcp=3",
    "vlan_tci=0x1000/0x1000",
    "ip,nw_src=10.0.0.1",
    "ip,nw_dst=192.168.0.0/16",
    "ip,nw_tos=16",
    "ip,nw_ttl=9",
    "ip,ip_dscp=10",
    "ip,nw_frag=first",
    "tcp,tp_src=80",
    "tcp,tp_dst=0x100/0xff00",
    "tcp,tcp_flags=+syn-ack",
    "udp,udp_dst=53",
    "sctp,sctp_src=5",
    "icmp,icmp_type=8,icmp_code=0",
    "arp,arp_op=1",
    "arp,arp_spa=10.0.0.1,arp_tha=00:00:00:00:00:01",
    "ipv6,ipv6_src=2001:db8::1",
    "ipv6,ipv6_dst=fe80::/10",
    "ipv6,ipv6_label=0x12345",
    "tcp6,tp_dst=443",
    "icmp6,icmp_type=135,nd_target=fe80::1",
    "mpls,mpls_label=5",
    "reg0=5",
    "reg3=0x10/0xf0",
    "xreg1=0x1234",
    "metadata=0x5/0xff",
    "tun_id=0x64",
    "tun_src=1.1.1.1",
    "tun_flags=+oam",
    "pkt_mark=0x7",
    "ct_state=+trk+est",
    "ct_zone=3",
    "ct_mark=0x1/0x1",
    "conj_id=7",
    "skb_priority=2",
    "actset_output=3",
    "recirc_id=4",
    "dp_hash=0x1/0xf",
];

/// Action pieces (actions=...).
const ACTIONS: &[&str] = &[
    "output:2",
    "drop",
    "NORMAL",
    "FLOOD",
    "ALL",
    "LOCAL",
    "IN_PORT",
    "CONTROLLER:128",
    "controller(reason=no_match,max_len=100)",
    "enqueue:1:2",
    "group:5",
    "mod_vlan_vid:9",
    "mod_vlan_pcp:2",
    "strip_vlan",
    "push_vlan:0x8100",
    "mod_dl_src:00:0a:0b:0c:0d:0e",
    "mod_nw_dst:10.1.1.1",
    "mod_nw_tos:8",
    "mod_tp_dst:99",
    "set_field:10.0.0.9->ip_dst",
    "set_field:5->reg1",
    "load:0x3->NXM_NX_REG2[0..3]",
    "move:NXM_NX_REG0[]->NXM_NX_REG1[]",
    "resubmit(,3)",
    "resubmit:4",
    "set_tunnel:0x5",
    "set_tunnel64:0x123456789",
    "set_queue:3",
    "pop_queue",
    "dec_ttl",
    "dec_ttl(1,2)",
    "note:aa.bb",
    "ct(commit,zone=5)",
    "ct(table=2,zone=NXM_NX_REG0[0..15])",
    "ct_clear",
    "clone(output:3)",
    "exit",
    "fin_timeout(idle_timeout=5)",
    "learn(table=1,NXM_OF_VLAN_TCI[0..11],output:NXM_OF_IN_PORT[])",
    "multipath(eth_src,50,hrw,12,0,NXM_NX_REG0[0..3])",
    "bundle(eth_src,0,hrw,ofport,members:4,8)",
    "sample(probability=100,collector_set_id=1)",
    "push_mpls:0x8847",
    "goto_table:5",
    "meter:1",
    "write_metadata:0x1/0x1",
];

const FORMATS: &[&[&str]] = &[
    &[],
    &["-O", "OpenFlow10"],
    &["-O", "OpenFlow11"],
    &["-O", "OpenFlow12"],
    &["-O", "OpenFlow13"],
    &["-O", "OpenFlow14"],
    &["-O", "OpenFlow15"],
    &["-F", "nxm"],
    &["-F", "openflow10"],
];

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// The generated cases: (options, flow string).
fn cases() -> Vec<(Vec<String>, String)> {
    let mut rng = Rng(SEED);
    (0..CASES)
        .map(|_| {
            let mut fields = Vec::new();
            for _ in 0..rng.below(4) {
                fields.push(MATCHES[rng.below(MATCHES.len())]);
            }
            let mut actions = Vec::new();
            for _ in 0..1 + rng.below(3) {
                actions.push(ACTIONS[rng.below(ACTIONS.len())]);
            }
            let mut flow = String::new();
            if rng.below(3) == 0 {
                flow.push_str(&format!("priority={},", rng.below(65536)));
            }
            if rng.below(4) == 0 {
                flow.push_str(&format!("table={},", rng.below(10)));
            }
            for f in fields {
                flow.push_str(f);
                flow.push(',');
            }
            flow.push_str("actions=");
            flow.push_str(&actions.join(","));
            let opts = FORMATS[rng.below(FORMATS.len())]
                .iter()
                .map(|s| s.to_string())
                .collect();
            (opts, flow)
        })
        .collect()
}

fn run(exe: &Path, opts: &[String], flow: &str) -> (i32, String, String) {
    let mut args = opts.to_vec();
    args.extend(["parse-flow".to_string(), flow.to_string()]);
    run_args(exe, &args)
}

fn run_args(exe: &Path, args: &[String]) -> (i32, String, String) {
    let out = Command::new(exe)
        .args(args)
        .output()
        .expect("run ovs-ofctl");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Log lines carry timestamps; compare them without.
fn strip_log_prefix(s: &str) -> Vec<String> {
    s.lines()
        .map(|l| l.splitn(3, '|').nth(2).unwrap_or(l).to_string())
        .collect()
}

/// Our `ovs-ofctl` linked into a fresh directory named after `tag`, or
/// `None` (after saying why) when the reference is not installed.
fn ours(tag: &str) -> Option<std::path::PathBuf> {
    if !Path::new(REFERENCE).exists() {
        eprintln!(
            "SKIP: reference {REFERENCE} is not installed (apt-get install openvswitch-common)"
        );
        return None;
    }
    let tmp = std::env::temp_dir().join(format!("ferrovs-diff-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    let st = Command::new(env!("CARGO_BIN_EXE_ferrovs"))
        .arg("install-links")
        .arg(&tmp)
        .status()
        .unwrap();
    assert!(st.success());
    Some(tmp.join("ovs-ofctl"))
}

/// Hand-picked command lines around TTL fields and deprecated or unknown
/// action codes, in every version: `nw_ttl` matches (NXM-only field: no
/// usable protocol under OpenFlow 1.1), TTL actions, `OFPAT_SET_MPLS_TTL`
/// and the other pre-1.2 set actions (logged as deprecated at INFO, every
/// time), unknown standard action types ("vendor 0").
const PINNED: &[&[&str]] = &[
    &["parse-flow", "ip,nw_ttl=5,actions=drop"],
    &["-O", "OpenFlow10", "parse-flow", "ip,nw_ttl=5,actions=drop"],
    &["-O", "OpenFlow11", "parse-flow", "ip,nw_ttl=5,actions=drop"],
    &["-O", "OpenFlow12", "parse-flow", "ip,nw_ttl=5,actions=drop"],
    &["-O", "OpenFlow13", "parse-flow", "ip,nw_ttl=5,actions=drop"],
    &["-O", "OpenFlow14", "parse-flow", "ip,nw_ttl=5,actions=drop"],
    &["-O", "OpenFlow15", "parse-flow", "ip,nw_ttl=5,actions=drop"],
    &["-O", "OpenFlow13", "-F", "oxm", "parse-flow", "ip,nw_ttl=5,actions=drop"],
    &["-O", "OpenFlow10,OpenFlow13", "parse-flow", "ip,nw_ttl=5,actions=drop"],
    &["-O", "OpenFlow13", "parse-flow", "nw_ttl=5,actions=drop"],
    &["-O", "OpenFlow13", "parse-flow", "ipv6,nw_ttl=255,actions=drop"],
    &["-O", "OpenFlow13", "parse-flow", "icmp6,nw_ttl=255,icmp_type=136,icmp_code=0,actions=drop"],
    &["-O", "OpenFlow11", "parse-flow", "icmp6,nw_ttl=255,icmp_type=136,icmp_code=0,actions=drop"],
    &["-O", "OpenFlow13", "parse-flow", "ip,nw_ttl=256,actions=drop"],
    &["-O", "OpenFlow13", "parse-flow", "ip,nw_ttl=5/0xf,actions=drop"],
    &["-O", "OpenFlow13", "parse-flow", "ip,nw_ttl=5,actions=mod_nw_ttl:6"],
    &["-O", "OpenFlow11", "parse-flow", "ip,actions=mod_nw_ttl:6"],
    &["-O", "OpenFlow13", "parse-flow", "ip,actions=set_field:6->nw_ttl"],
    &["-O", "OpenFlow13", "parse-flow", "ip,actions=dec_ttl(1,2)"],
    &["-O", "OpenFlow12", "parse-flow", "mpls,actions=set_mpls_ttl(5)"],
    &["-O", "OpenFlow13", "parse-flow", "mpls,actions=set_mpls_ttl(5),set_mpls_ttl(6)"],
    &["-O", "OpenFlow15", "parse-flow", "mpls,actions=dec_mpls_ttl,set_mpls_ttl(5)"],
    &["-O", "OpenFlow11", "parse-flow", "mpls,actions=set_mpls_ttl(5)"],
    &["-O", "OpenFlow13", "parse-flow", "mpls,mpls_ttl=5,actions=drop"],
    // OF1.2 packet-out with OFPAT_SET_MPLS_TTL; OF1.3 with two of them
    // and OFPAT_SET_MPLS_TC; OF1.3 with OFPAT_SET_VLAN_VID.
    &["ofp-print", "030d002000000001fffffffffffffffd0008000000000000000f000805000000"],
    &["ofp-print", "040d003000000001fffffffffffffffd0018000000000000000f000805000000000f000805000000000e000801000000"],
    &["ofp-print", "040d002000000001fffffffffffffffd00080000000000000001000800050000"],
    // Unknown standard action types (OF1.0, OF1.3) and an unknown
    // experimenter action.
    &["ofp-print", "010d001800000001fffffffffffd00080032000800000000"],
    &["ofp-print", "040d002000000001fffffffffffffffd00080000000000000063000800000000"],
    &["ofp-print", "040d002800000001fffffffffffffffd0010000000000000ffff00104f4e460000ff000000000000"],
    // An OF1.4 packet-out whose in_port is out of range.
    &["ofp-print", "050d002800000001ffffffff000800000001000c80000004fffffffd000000000001000800050000"],
];

#[test]
fn pinned_commands_match_reference() {
    let Some(ours) = ours("pinned") else {
        return;
    };
    let mut diffs = Vec::new();
    for args in PINNED {
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        let want = run_args(Path::new(REFERENCE), &args);
        let got = run_args(&ours, &args);
        if want.0 != got.0
            || want.1 != got.1
            || strip_log_prefix(&want.2) != strip_log_prefix(&got.2)
        {
            diffs.push(format!("{args:?}\n  want {want:?}\n  got  {got:?}"));
        }
    }
    if let Some(dir) = ours.parent() {
        let _ = std::fs::remove_dir_all(dir);
    }
    assert!(diffs.is_empty(), "{}", diffs.join("\n"));
}

#[test]
fn parse_flow_matches_reference() {
    let Some(ours) = ours("random") else {
        return;
    };
    let tmp = ours.parent().map(Path::to_path_buf).unwrap_or_default();
    let mut agreeing = BTreeSet::new();
    let mut first_diffs = Vec::new();
    for (i, (opts, flow)) in cases().iter().enumerate() {
        let want = run(Path::new(REFERENCE), opts, flow);
        let got = run(&ours, opts, flow);
        if want.0 == got.0
            && want.1 == got.1
            && strip_log_prefix(&want.2) == strip_log_prefix(&got.2)
        {
            agreeing.insert(format!("case-{i:04}"));
        } else if first_diffs.len() < 5 {
            first_diffs.push(format!(
                "case-{i:04} {opts:?} {flow}\n  want {want:?}\n  got  {got:?}"
            ));
        }
    }
    let _ = std::fs::remove_dir_all(&tmp);
    eprintln!(
        "differential parse-flow: {}/{CASES} cases agree",
        agreeing.len()
    );
    for d in &first_diffs {
        eprintln!("{d}");
    }
    assert_eq!(
        agreeing.len(),
        CASES,
        "parse-flow differs from the reference in {} cases (first ones above)",
        CASES - agreeing.len()
    );
}
