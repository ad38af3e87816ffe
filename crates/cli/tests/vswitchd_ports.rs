//! Patch and tunnel interfaces on the dummy datapath (`--enable-dummy`,
//! `datapath_type=dummy`, where tunnels are real tunnel ports, unlike under
//! `=override`): the same ovs-vsctl transactions against the reference
//! ovs-vswitchd and against ours (both driven by the reference tools),
//! then what each shows: `dpif/show` (patch ports without a datapath port,
//! tunnels on shared vports `vxlan_sys_4789`, `gre_sys`, ... with their
//! options), `dpctl/show` (the vports), `ovs-ofctl show` and
//! `dump-ports-desc` in OpenFlow 1.0, 1.3 and 1.5, and the Interface
//! columns (`ofport`, `error` with upstream's messages for bad options and
//! unusable peers, `status`, link and admin state, counters); then the
//! same after reconfiguring in place (a new remote and UDP port, a new
//! peer, a deleted tunnel).
//!
//! Needs the reference (skips with a message without it).

use testkit::{Sandbox, Stack};

const FERROVS: &str = env!("CARGO_BIN_EXE_ferrovs");

/// The transactions, one per string (words split on spaces).
const SETUP: &[&str] = &[
    // (Ports created in one transaction with their bridge get datapath
    // numbers in an order that depends on row UUIDs.)
    "add-br br-int -- set bridge br-int datapath_type=dummy other-config:hwaddr=00:00:00:00:00:01",
    "add-port br-int veth-o -- set interface veth-o type=dummy -- add-port br-int patch-tun -- set interface patch-tun type=patch options:peer=patch-int",
    "add-br br-tun -- set bridge br-tun datapath_type=dummy other-config:hwaddr=00:00:00:00:00:02 -- add-port br-tun patch-int -- set interface patch-int type=patch options:peer=patch-tun",
    "add-port br-tun vtepHost2 -- set interface vtepHost2 type=vxlan options:remote_ip=10.246.247.90 options:ttl=64 options:in_key=flow options:out_key=flow",
    "add-port br-tun gen1 -- set interface gen1 type=geneve options:remote_ip=10.0.0.1 options:key=flow options:csum=true",
    "add-port br-tun gre1 -- set interface gre1 type=gre options:remote_ip=10.0.0.2 options:key=5 options:tos=inherit",
    "add-port br-tun vx6 -- set interface vx6 type=vxlan options:remote_ip=fe80::1 options:dst_port=4790 options:exts=gbp",
    "add-port br-tun bad1 -- set interface bad1 type=vxlan",
    "add-port br-tun p1 -- set interface p1 type=patch",
    "add-port br-tun p2 -- set interface p2 type=patch options:peer=p2",
    "add-port br-tun p3 -- set interface p3 type=patch options:peer=nonexist",
    "add-port br-tun vx2 -- set interface vx2 type=vxlan options:remote_ip=flow options:local_ip=1.2.3.4 options:key=7 options:tos=5 options:df_default=false options:packet_type=legacy_l3",
    "add-port br-tun vx3 -- set interface vx3 type=vxlan options:remote_ip=flow options:local_ip=flow options:in_key=7 options:out_key=8 options:tos=0x10 options:df_default=false options:ttl=inherit",
    "add-port br-tun er -- set interface er type=erspan options:remote_ip=1.1.1.1 options:erspan_ver=1 options:erspan_idx=1",
    "add-port br-tun st -- set interface st type=stt options:remote_ip=1.1.1.3",
    "add-port br-tun ip6g -- set interface ip6g type=ip6gre options:remote_ip=fe80::2",
];

const RECONFIGURE: &[&str] = &[
    "set interface vtepHost2 options:remote_ip=10.0.0.9 options:dst_port=4800 -- del-port br-tun gen1",
    "set interface gre1 options:remote_ip=224.0.0.1",
];

const COLUMNS: &str =
    "--columns=name,type,ofport,error,status,admin_state,link_state,ifindex,mtu,statistics";

/// What one sandbox shows.
fn observe(sb: &Sandbox, out: &mut Vec<(String, String)>) {
    let mut put = |what: &str, text: String| out.push((what.to_string(), text));
    put("dpif/show", sb.appctl_outcome(&["dpif/show"]).stdout);
    put("dpctl/show", sb.appctl_outcome(&["dpctl/show"]).stdout);
    for v in ["OpenFlow10", "OpenFlow13", "OpenFlow15"] {
        put(
            &format!("show {v}"),
            testkit::normalize_port_addrs(&sb.ofctl_outcome("br-tun", &["-O", v, "show"]).stdout),
        );
        put(
            &format!("dump-ports-desc {v}"),
            testkit::normalize_port_addrs(
                &sb.ofctl_outcome("br-tun", &["-O", v, "dump-ports-desc"])
                    .stdout,
            ),
        );
    }
    // Upstream writes a patch port's "No usable peer" error from a status
    // pass that races with reconfiguration (the column is sometimes `[]`
    // for a while): such errors are blanked on both sides.
    let mut rows: Vec<String> = sb
        .vsctl_outcome(&[COLUMNS, "list", "interface"])
        .stdout
        .split("\n\n")
        .map(|r| {
            r.trim()
                .lines()
                .map(|l| {
                    if l.starts_with("error") && l.contains("No usable peer") {
                        "error               : []"
                    } else {
                        l
                    }
                })
                .collect::<Vec<_>>()
                .join("\n")
        })
        .collect();
    rows.sort();
    put("Interface", rows.join("\n\n"));
}

fn run_all(sb: &Sandbox) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (i, t) in SETUP.iter().chain(RECONFIGURE).enumerate() {
        let args: Vec<&str> = t.split(' ').collect();
        let o = sb.vsctl_outcome(&args);
        let stderr: String = o
            .stderr
            .lines()
            .filter(|l| !l.contains("The default log directory"))
            .map(|l| format!("{l}\n"))
            .collect();
        out.push((
            t.to_string(),
            format!("[{}]\n{}{stderr}", o.status, o.stdout),
        ));
        if i + 1 == SETUP.len() {
            observe(sb, &mut out);
        }
    }
    observe(sb, &mut out);
    out
}

#[test]
fn patch_and_tunnel_ports_as_upstream() {
    if testkit::skip_without_upstream("patch_and_tunnel_ports_as_upstream") {
        return;
    }
    let (reference, ours) = std::thread::scope(|s| {
        let r = s.spawn(|| {
            let sb = Sandbox::start_stack("ports-ref", Stack::upstream(), true);
            run_all(&sb)
        });
        let o = s.spawn(|| {
            let sb = Sandbox::start_stack("ports-ours", Stack::ferrovs_daemons(FERROVS), true);
            run_all(&sb)
        });
        (r.join().expect("reference"), o.join().expect("ours"))
    });
    let mut differ = 0;
    for ((what, r), (_, o)) in reference.iter().zip(&ours) {
        if r != o {
            differ += 1;
            eprintln!("{what}: differs\n--- reference\n{r}\n--- ours\n{o}\n");
        }
    }
    assert_eq!(differ, 0, "{differ} of {} outputs differ", reference.len());
}
