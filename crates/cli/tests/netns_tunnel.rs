//! Native tunnelling between two hosts: two network namespaces, each
//! running its own ferrovs stack (ovsdb-server and ovs-vswitchd started
//! inside it, so each has its own devices), joined by a veth pair.  Each
//! host has `brp` (the underlay: the veth, and an IP address on its
//! internal port) and `bri` (the overlay: a VXLAN port to the other host
//! and a veth into a "VM" namespace).  The VMs ping each other across the
//! overlay: the first packets resolve the other host's underlay address
//! (an ARP request out of `brp`, the reply snooped into the neighbour
//! cache), then `tnl_push` on one side and `tnl_pop` on the other carry
//! them.
//!
//! The same with a Geneve overlay whose options carry each host's number
//! (set and matched as `tun_metadata0`).
//!
//! Needs root (namespaces, veths) and `ip`, `ping`: without them the test
//! says why and passes.  A guard removes the namespaces (and the links in
//! them) and the sandboxes stop the daemons, even when an assertion fails.

use std::time::Duration;
use testkit::netns::{address, cmd, enter, pings, reachable, up};
use testkit::{Net, Sandbox, Stack};

const FERROVS: &str = env!("CARGO_BIN_EXE_ferrovs");

fn appctl(sb: &Sandbox, args: &[&str]) -> String {
    sb.appctl(args).unwrap_or_else(|e| panic!("{e}"))
}

/// One host: its namespace, its daemons (started inside it).
struct Host {
    ns: String,
    sb: Sandbox,
}

fn host(net: &mut Net, kind: &str, n: u8) -> Host {
    let ns = net.add_ns(&format!("h{n}"));
    let sb = {
        let _inside = enter(&ns);
        Sandbox::start_stack(
            &format!("netns-tnl-{kind}-h{n}"),
            Stack::ferrovs(FERROVS),
            true,
        )
    };
    Host { ns, sb }
}

#[test]
fn vms_ping_across_a_vxlan_overlay() {
    overlay("vxlan", "vxlan_sys_4789");
}

/// The same over Geneve, where each host's overlay bridge tags what its
/// VM sends with a Geneve option (its host number, `tun_metadata0` through
/// the TLV map) and delivers to its VM only what carries the other host's
/// number: the options cross the wire and come back as `tun_metadata0`.
#[test]
fn vms_ping_across_a_geneve_overlay_with_options() {
    overlay("geneve", "genev_sys_6081");
}

/// Two hosts joined by a `kind` overlay (its listening port `vport` in
/// `tnl/ports/show`); the VMs ping across it.
fn overlay(kind: &str, vport: &str) {
    if let Some(why) = testkit::netns_missing(&["ping"]) {
        eprintln!("SKIP {kind} overlay: {why}");
        return;
    }
    // Declared first, dropped last: the namespaces (and every link in
    // them) go once the daemons are stopped.
    let mut net = Net::new(&kind[..1]);
    let h1 = host(&mut net, kind, 1);
    let h2 = host(&mut net, kind, 2);
    let (vm1, vm2) = (net.add_ns("v1"), net.add_ns("v2"));

    // The wire between the hosts.
    let (u1, u2) = (net.name("u1"), net.name("u2"));
    net.veth_pair(&u1, Some(&h1.ns), &u2, Some(&h2.ns));
    // Each VM's link to its host.
    let (m1, m2) = (net.name("m1"), net.name("m2"));
    for (m, h, vm, addr) in [
        (&m1, &h1, &vm1, "10.99.0.1/24"),
        (&m2, &h2, &vm2, "10.99.0.2/24"),
    ] {
        let peer = format!("{m}p");
        net.veth_pair(m, Some(&h.ns), &peer, Some(vm));
        address(vm, &peer, &[addr]);
    }

    for (n, h, wire, vm_link, me, other) in [
        (1, &h1, &u1, &m1, "172.31.77.1", "172.31.77.2"),
        (2, &h2, &u2, &m2, "172.31.77.2", "172.31.77.1"),
    ] {
        up(&h.ns, wire);
        up(&h.ns, vm_link);
        h.sb.add_netdev_bridge("brp", &[wire], &[])
            .unwrap_or_else(|e| panic!("{e}"));
        let remote = format!("options:remote_ip={other}");
        h.sb.add_netdev_bridge(
            "bri",
            &[vm_link, "vx"],
            &[
                "--",
                "set",
                "interface",
                "vx",
                &format!("type={kind}"),
                &remote,
                "options:key=77",
            ],
        )
        .unwrap_or_else(|e| panic!("{e}"));
        if kind == "geneve" {
            tag_with_options(&h.sb, vm_link, n);
        }
        // The underlay address lives on brp's internal port.
        let ok = h.sb.wait_until(Duration::from_secs(10), || {
            cmd(&["ip", "netns", "exec", &h.ns, "ip", "link", "show", "brp"])
                .status
                .success()
        });
        assert!(ok, "brp's internal port did not appear in {}", h.ns);
        address(&h.ns, "brp", &[&format!("{me}/24")]);
        assert_eq!(
            appctl(&h.sb, &["ovs/route/add", &format!("{other}/24"), "brp"]),
            "OK\n"
        );
        let route = appctl(&h.sb, &["ovs/route/show"]);
        assert!(
            route.contains(&format!("User: 172.31.77.0/24 dev brp SRC {me}")),
            "{route}"
        );
    }

    // The VMs reach each other over the tunnel (the first packets wait
    // for the hosts to resolve each other).
    let twenty = Duration::from_secs(20);
    let ok = reachable(&vm1, "10.99.0.2", twenty);
    let diag = |h: &Host| {
        format!(
            "{}:\n{}{}{}",
            h.ns,
            h.sb.appctl(&["tnl/neigh/show"]).unwrap_or_default(),
            h.sb.appctl(&["tnl/ports/show", "-v"]).unwrap_or_default(),
            h.sb.appctl(&["dpctl/dump-flows"]).unwrap_or_default()
        )
    };
    assert!(
        ok,
        "no ping across the overlay\n{}\n{}",
        diag(&h1),
        diag(&h2)
    );
    assert_eq!(pings(&vm1, "10.99.0.2", 10, &[]), 10, "{}", diag(&h1));
    assert!(reachable(&vm2, "10.99.0.1", twenty), "no ping back");

    // Each host learned the other's underlay address by snooping.
    for (h, other) in [(&h1, "172.31.77.2"), (&h2, "172.31.77.1")] {
        let neigh = appctl(&h.sb, &["tnl/neigh/show"]);
        assert!(
            neigh
                .lines()
                .any(|l| l.starts_with(other) && l.ends_with(" brp")),
            "{}: {neigh}",
            h.ns
        );
        let ports = appctl(&h.sb, &["tnl/ports/show"]);
        assert!(ports.contains(vport), "{ports}");
    }
    drop(h2);
    drop(h1);
    drop(net);
}

/// Host `n`'s overlay flows for the Geneve test: its VM's packets leave
/// with option `{class=0xffff,type=0}` = `n`; packets from the tunnel reach
/// the VM only with the other host's number in that option.
fn tag_with_options(sb: &Sandbox, vm_link: &str, n: u8) {
    let ofport = |name: &str| {
        let ok = sb.wait_until(Duration::from_secs(10), || {
            sb.vsctl(&["get", "interface", name, "ofport"])
                .is_ok_and(|p| p.trim().parse::<i32>().is_ok_and(|p| p > 0))
        });
        assert!(ok, "{name} has no OpenFlow port");
        sb.vsctl(&["get", "interface", name, "ofport"])
            .unwrap_or_default()
            .trim()
            .to_string()
    };
    let (vm, vx) = (ofport(vm_link), ofport("vx"));
    let other = 3 - n;
    let run = |args: &[&str]| sb.ofctl("bri", args).unwrap_or_else(|e| panic!("{e}"));
    run(&["add-tlv-map", "{class=0xffff,type=0,len=4}->tun_metadata0"]);
    run(&["del-flows"]);
    run(&[
        "add-flow",
        &format!("in_port={vm},actions=set_field:{n:#x}->tun_metadata0,output:{vx}"),
    ]);
    run(&[
        "add-flow",
        &format!("in_port={vx},tun_metadata0={other:#x},actions=output:{vm}"),
    ]);
}
