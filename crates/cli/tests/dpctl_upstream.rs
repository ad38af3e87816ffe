//! Our `ovs-dpctl` against Debian's on the same command lines: every
//! command of the table with too few, enough and too many arguments,
//! datapath names of every kind, the keyword arguments each command takes
//! off before the lookup, the options, and the offline commands
//! (`parse-actions`, `normalize-actions`). stdout, stderr and the exit
//! status must be identical, with log timestamps and sequence numbers
//! blanked and the lines upstream's userspace datapath logs about its own
//! CPU features dropped (its TSC estimate and SIMD choices are not ours to
//! copy). Skips with a message when the reference is not installed.

use std::process::Command;
use testkit::{normalize_log_timestamps, Outcome};

const UPSTREAM: &str = "/usr/bin/ovs-dpctl";

/// Command lines, one per entry, split on spaces.
const LINES: &[&str] = &[
    "",
    "bogus",
    "show",
    "show a b",
    "show netdev@x",
    "show system@ovs-system",
    "show foo@x",
    "-s show",
    "dump-dps",
    "dump-dps x",
    "add-dp",
    "add-dp foo",
    "add-dp netdev@foo",
    "add-dp foo@x",
    "add-dp netdev@foo nonexistent0",
    "add-dp netdev@foo ,nonexistent0",
    "add-dp netdev@foo nonexistent0,x=1,x=2",
    "add-dp netdev@foo p1,type=bogus",
    "add-dp netdev@foo p1,type=dummy",
    "add-dp netdev@a netdev@b",
    "del-dp",
    "del-dp foo",
    "del-dp netdev@foo",
    "del-dp foo@x",
    "del-dp a b",
    "add-if a",
    "add-if a b",
    "add-if netdev@a b",
    "set-if a b",
    "del-if a b",
    "del-if netdev@a 1",
    "dump-flows",
    "dump-flows netdev@x",
    "dump-flows system@ovs-system",
    "dump-flows foo@x",
    "dump-flows a b",
    "dump-flows a b c",
    "dump-flows a b c d e f",
    "dump-flows a b c d e f g",
    "dump-flows filter=in_port(1)",
    "dump-flows netdev@x filter=in_port(1)",
    "dump-flows type=ovs",
    "dump-flows pmd=1",
    "dump-flows pmd=x",
    "dump-flows pmd=-1 netdev@x",
    "-m dump-flows",
    "--names dump-flows netdev@x",
    "add-flow",
    "add-flow x",
    "add-flow x y",
    "add-flow netdev@x y z",
    "add-flow a b c d",
    "mod-flow x y",
    "--may-create --clear mod-flow a b",
    "add-flows",
    "add-flows f",
    "add-flows netdev@x f",
    "mod-flows f",
    "get-flow",
    "get-flow ufid:1",
    "get-flow netdev@x ufid:1",
    "del-flow x",
    "del-flow netdev@x y",
    "del-flows",
    "del-flows a",
    "del-flows netdev@x",
    "del-flows a b",
    "del-flows netdev@x f",
    "offload-stats-show",
    "offload-stats-show netdev@x",
    "cache-get-size",
    "cache-get-size netdev@x",
    "cache-get-size x",
    "cache-set-size a b c",
    "cache-set-size netdev@x emc 5",
    "cache-set-size x y 5",
    "dump-conntrack",
    "dump-conntrack netdev@x",
    "dump-conntrack zone=3",
    "dump-conntrack zone=x",
    "dump-conntrack -m -s",
    "flush-conntrack",
    "flush-conntrack netdev@x zone=1",
    "flush-conntrack zone=x",
    "flush-conntrack zone=1 ct_nw_src=1.2.3.4",
    "flush-conntrack zone=1 ct_nw_src=1.2.3.4 ct_nw_dst=1.1.1.1 extra",
    "flush-conntrack ct_nw_src=1.2.3.4,ct_ipv6_dst=::1",
    "flush-conntrack bogus=1",
    "ct-stats-show",
    "ct-stats-show verbose",
    "ct-stats-show netdev@x zone=1 verbose",
    "ct-bkts",
    "ct-bkts gt=3",
    "ct-bkts gt=x",
    "ct-set-maxconns 10",
    "ct-set-maxconns netdev@x q",
    "ct-get-maxconns",
    "ct-get-nconns",
    "ct-enable-tcp-seq-chk",
    "ct-disable-tcp-seq-chk",
    "ct-get-tcp-seq-chk",
    "ct-set-limits default=10",
    "ct-del-limits zone=1",
    "ct-get-limits",
    "ipf-set-enabled v4",
    "ipf-set-enabled netdev@x v5",
    "ipf-set-disabled v4",
    "ipf-set-min-frag v4 400",
    "ipf-set-max-nfrags 500",
    "ipf-get-status",
    "list-commands",
    "list-commands x y",
    "help",
    "help x",
    "parse-actions",
    "parse-actions 1,2,push_vlan(vid=5,pcp=0)",
    "parse-actions drop",
    "parse-actions 1 2",
    "parse-actions bogus(",
    "parse-actions userspace(pid=1) set(ipv4(src=1.2.3.4))",
    "parse-actions 1 bogus 2",
    "normalize-actions x",
    "normalize-actions x y z",
    "normalize-actions in_port(1),eth(src=00:00:00:00:00:01,dst=00:00:00:00:00:02),eth_type(0x0800) 1",
    "normalize-actions recirc_id(0),in_port(1),eth(src=00:00:00:00:00:01,dst=00:00:00:00:00:02),eth_type(0x0800),ipv4(src=1.1.1.1,dst=2.2.2.2,proto=6,tos=0,ttl=64,frag=no),tcp(src=1,dst=2) 1,push_vlan(vid=5,pcp=0),3,2,pop_vlan,4",
    "normalize-actions in_port(1),eth(src=00:00:00:00:00:01,dst=00:00:00:00:00:02),eth_type(0x8100),vlan(vid=5,pcp=0),encap(eth_type(0x1234)) 1,push_vlan(vid=7,pcp=3),3,2,pop_vlan,pop_vlan,9,4",
    "normalize-actions in_port(p1),eth(src=00:00:00:00:00:01,dst=00:00:00:00:00:02),eth_type(0x1234) p3,push_vlan(tpid=0x88a8,vid=9,pcp=1),p2,push_vlan(vid=1,pcp=0),p1 p1=1 p2=2 p3=3",
    "-m normalize-actions in_port(1),eth(src=00:00:00:00:00:01,dst=00:00:00:00:00:02),eth_type(0x1234) 2,1",
    "normalize-actions in_port(1),eth(src=00:00:00:00:00:01,dst=00:00:00:00:00:02),eth_type(0x8847),mpls(label=100,tc=3,ttl=64,bos=1) 1,push_vlan(vid=5,pcp=0),2",
    "normalize-actions in_port(1),bogus( 1",
    "normalize-actions in_port(1),eth(src=00:00:00:00:00:01,dst=00:00:00:00:00:02),eth_type(0x1234) bogus(",
    "--read-only add-dp x",
    "--read-only show",
    "--read-only del-flows",
    "--read-only ct-set-limits default=1",
    "-t 5 show",
    "--timeout=5 show",
    "-t x show",
    "-t",
    "-h",
    "--help",
    "-V",
    "--version",
    "--option",
    "-o",
    "--bogus",
    "--options",
    "-x",
    "--verbose=info show",
    "-vdpif:off show",
    "--syslog-method=libc show",
    "-- show",
    "show -- -s",
];

/// Removes the TAP devices `add-dp` made for its datapaths' internal ports
/// (as root): both switches leave them behind, persistent as upstream's
/// are.
struct RemoveTaps(&'static [&'static str]);

impl Drop for RemoveTaps {
    fn drop(&mut self) {
        for name in self.0 {
            if std::path::Path::new(&format!("/sys/class/net/{name}/tun_flags")).exists() {
                let _ = Command::new("ip")
                    .args(["link", "del", "dev", name])
                    .status();
            }
        }
    }
}

fn run(exe: &str, lead: &[&str], line: &str) -> Outcome {
    let args: Vec<&str> = line.split(' ').filter(|a| !a.is_empty()).collect();
    let out = Command::new(exe)
        .args(lead)
        .args(&args)
        .env("OVS_RUNDIR", std::env::temp_dir())
        .env("OVS_LOGDIR", std::env::temp_dir())
        .output()
        .expect("run ovs-dpctl");
    Outcome {
        status: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: normalize(&String::from_utf8_lossy(&out.stderr)).replace(exe, "ovs-dpctl"),
    }
}

/// Blanks timestamps and sequence numbers; drops upstream's userspace
/// datapath's notes on this CPU.
fn normalize(stderr: &str) -> String {
    const OWN: &[&str] = &["|pmd_perf|", "|dpif_netdev_extract|", "|dpif_netdev_impl|"];
    normalize_log_timestamps(stderr)
        .split_inclusive('\n')
        .filter(|l| !OWN.iter().any(|m| l.contains(m)))
        .map(|l| match l.strip_prefix("<time>|") {
            Some(rest) => match rest.split_once('|') {
                Some((seq, tail)) if seq.chars().all(|c| c.is_ascii_digit()) => {
                    format!("<time>|<seq>|{tail}")
                }
                _ => l.to_string(),
            },
            None => l.to_string(),
        })
        .collect()
}

#[test]
fn every_command_line_matches_the_reference() {
    if testkit::skip_without_upstream("dpctl_upstream") {
        return;
    }
    // Ours runs under its installed name, as getopt's messages show it.
    let dir = std::env::temp_dir().join(format!("dpctl-upstream-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let link = dir.join("ovs-dpctl");
    let _ = std::fs::remove_file(&link);
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_ferrovs"), &link).expect("symlink");
    let ours = link.to_str().expect("utf-8 path").to_string();
    let _taps = RemoveTaps(&["foo", "a", "b"]);
    let mut diffs = Vec::new();
    for line in LINES {
        let want = run(UPSTREAM, &[], line);
        let got = run(&ours, &[], line);
        if want != got {
            diffs.push(format!(
                "ovs-dpctl {line}\n  upstream: {want:?}\n  ferrovs:  {got:?}"
            ));
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        diffs.is_empty(),
        "{} of {} command lines differ:\n{}",
        diffs.len(),
        LINES.len(),
        diffs.join("\n")
    );
}
