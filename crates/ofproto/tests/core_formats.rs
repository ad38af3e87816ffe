//! Differential tests of flow formats and version quirks: OpenFlow 1.0
//! with and without NXM and the table-id extension, OpenFlow 1.1's
//! modify-adds rule, cookies, and more errors.

mod core_common;
use core_common::Pair;

#[test]
fn flow_formats() {
    let Some(p) = Pair::start("core-formats") else {
        return;
    };
    p.same(&[
        "-F",
        "openflow10",
        "add-flow",
        "priority=5,tcp,nw_src=10.0.0.0/8,tp_dst=22,actions=output:1",
    ]);
    p.same(&[
        "-F",
        "nxm",
        "add-flow",
        "cookie=0x77,priority=6,ipv6,ipv6_src=2001:db8::/32,actions=drop",
    ]);
    p.same(&["-F", "openflow10", "dump-flows"]);
    p.same(&["-F", "nxm", "dump-flows"]);
    p.same(&[
        "-F",
        "openflow10+table_id",
        "add-flow",
        "table=4,priority=1,actions=drop",
    ]);
    p.same(&["-F", "nxm+table_id", "dump-flows", "table=4"]);
    p.same(&["-F", "openflow10", "dump-aggregate"]);
    p.same(&["-F", "openflow10", "del-flows", "tcp"]);
    p.same(&["dump-flows"]);
}

#[test]
fn cookies_and_version_quirks() {
    let Some(p) = Pair::start("core-quirks") else {
        return;
    };
    p.same(&["add-flow", "cookie=0x10,priority=5,ip,actions=output:1"]);
    // OpenFlow 1.1: a modify without cookie mask adds when nothing matches.
    p.same(&["-O", "OpenFlow11", "mod-flows", "udp,actions=output:2"]);
    p.same(&[
        "-O",
        "OpenFlow11",
        "mod-flows",
        "cookie=0x99/0xff,sctp,actions=output:2",
    ]);
    p.same(&["-O", "OpenFlow12", "mod-flows", "icmp,actions=output:2"]);
    p.same(&["dump-flows"]);
    // Modify with a new cookie in OpenFlow 1.0.
    p.same(&["mod-flows", "cookie=0x20,ip,actions=output:3"]);
    p.same(&["dump-flows"]);
    p.same(&["-O", "OpenFlow13", "del-flows", "cookie=0x20/0xf0"]);
    p.same(&["dump-flows"]);
    p.same(&[
        "-O",
        "OpenFlow13",
        "add-flow",
        "send_flow_rem,no_packet_counts,no_byte_counts,priority=1,arp,actions=drop",
    ]);
    p.same(&["-O", "OpenFlow13", "dump-flows"]);
    p.same(&["-O", "OpenFlow15", "dump-flows", "out_group=1"]);
    p.same(&[
        "-O",
        "OpenFlow13",
        "add-flow",
        "table=3,priority=2,ip,actions=conjunction(1,1/2)",
    ]);
    p.same(&[
        "-O",
        "OpenFlow13",
        "add-flow",
        "table=3,priority=2,tcp,actions=conjunction(1,2/2)",
    ]);
    p.same(&[
        "-O",
        "OpenFlow13",
        "add-flow",
        "table=3,conj_id=1,actions=drop",
    ]);
    p.same(&["-O", "OpenFlow13", "dump-flows", "table=3"]);
    p.same(&[
        "add-flow",
        "idle_timeout=30,hard_timeout=60,importance=2,priority=8,udp,actions=drop",
    ]);
    p.same(&["-O", "OpenFlow14", "dump-flows", "udp"]);
}
