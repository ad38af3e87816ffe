//! Packet-outs sent with `ovs-ofctl packet-out` leave through the ports
//! their actions name, on the reference ovs-vswitchd and on ours: the
//! frames each dummy port writes to its tx_pcap must be the same.

mod controller_common;

use controller_common::*;
use testkit::Sandbox;

const N_PORTS: u16 = 3;

/// (OpenFlow version, in_port, actions) of each packet-out.
const PACKET_OUTS: &[(&str, &str, &str)] = &[
    ("OpenFlow10", "LOCAL", "output:2"),
    ("OpenFlow13", "1", "FLOOD"),
    ("OpenFlow13", "2", "ALL"),
    ("OpenFlow10", "3", "IN_PORT"),
    ("OpenFlow14", "CONTROLLER", "output:1,output:3"),
    ("OpenFlow13", "1", "mod_dl_src:02:00:00:00:00:01,output:2"),
    (
        "OpenFlow15",
        "LOCAL",
        "push_vlan:0x8100,set_field:4196->vlan_vid,output:3",
    ),
    ("OpenFlow13", "2", "output:1,mod_nw_dst:10.9.9.9,output:1"),
    ("OpenFlow10", "NONE", "output:3"),
    ("OpenFlow13", "1", "drop"),
];

fn run(name: &str, stack: testkit::Stack) -> (Vec<Vec<String>>, Vec<String>) {
    let sb = Sandbox::start_stack(&format!("ctl-po-{name}"), stack, true);
    dummy_bridge(&sb, N_PORTS, &[]);
    let mut errors = Vec::new();
    for (i, (version, in_port, actions)) in PACKET_OUTS.iter().enumerate() {
        let pkt = frame(&mac(0x10 + i as u8), &mac(1), i as u8);
        let spec = format!("in_port={in_port} packet={pkt} actions={actions}");
        let o = sb.ofctl_outcome("br0", &["-O", version, "packet-out", &spec]);
        errors.push(format!("{} {}", o.status, o.stderr.trim()));
    }
    // A barrier: the packet-outs before it were executed.
    sb.ofctl("br0", &["dump-flows"]).unwrap();
    (sent(&sb, N_PORTS), errors)
}

#[test]
fn packet_outs_leave_the_ports_their_actions_name() {
    if testkit::skip_without_upstream("packet_outs_leave_the_ports_their_actions_name") {
        return;
    }
    let [(rn, rs), (on, os)] = stacks();
    let (want, want_err) = run(rn, rs);
    assert!(
        want.iter().map(Vec::len).sum::<usize>() > 8,
        "{}",
        show(&want)
    );
    let (got, got_err) = run(on, os);
    assert_eq!(want_err, got_err, "ovs-ofctl packet-out results differ");
    assert!(
        want == got,
        "frames sent differ\n--- reference ---\n{}--- ferrovs ---\n{}",
        show(&want),
        show(&got)
    );
}
