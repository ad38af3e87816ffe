//! Differential tests of flow-mod semantics and flow statistics: the same
//! ovs-ofctl commands against the reference ovs-vswitchd and our Ofproto.

mod core_common;
use core_common::Pair;

use testkit::OPENFLOW_VERSIONS as VERSIONS;

#[test]
fn add_and_dump_in_every_version() {
    let Some(p) = Pair::start("core-flows-add") else {
        return;
    };
    p.same(&["add-flow", "priority=5,ip,actions=output:1"]);
    p.same(&[
        "add-flow",
        "table=3,priority=5,ip,idle_timeout=50,hard_timeout=100,cookie=0x12,actions=output:1",
    ]);
    p.same(&["add-flow", "tcp,tp_dst=80,actions=drop"]);
    p.same(&[
        "-O",
        "OpenFlow13",
        "add-flow",
        "table=1,priority=7,udp,actions=goto_table:5",
    ]);
    p.same(&[
        "-O",
        "OpenFlow15",
        "add-flow",
        "table=2,importance=3,send_flow_rem,arp,actions=output:2",
    ]);
    for v in VERSIONS {
        p.same(&["-O", v, "dump-flows"]);
        p.same(&["-O", v, "dump-aggregate"]);
        p.same(&["-O", v, "dump-flows", "table=3"]);
        p.same(&["-O", v, "dump-aggregate", "table=3"]);
        p.same(&["-O", v, "dump-flows", "out_port=1"]);
    }
    p.same(&["dump-flows", "cookie=0x12/-1"]);
    p.same(&["-O", "OpenFlow13", "dump-flows", "cookie=0x12/0xff"]);
}

#[test]
fn modify_and_delete() {
    let Some(p) = Pair::start("core-flows-mod") else {
        return;
    };
    p.same_with_file(
        &["add-flows"],
        "priority=5,ip,actions=output:1\n\
         cookie=0x1,priority=6,ip,nw_src=1.2.3.4,actions=output:2\n\
         cookie=0x2,priority=6,ip,nw_src=1.2.3.5,actions=output:2\n\
         table=1,cookie=0x2,arp,actions=drop\n",
    );
    p.same(&["mod-flows", "ip,actions=output:2"]);
    p.same(&["dump-flows"]);
    p.same(&["--strict", "mod-flows", "priority=5,ip,actions=drop"]);
    p.same(&["dump-flows"]);
    p.same(&["mod-flows", "cookie=0x2/-1,actions=output:1"]);
    p.same(&["dump-flows"]);
    p.same(&[
        "-O",
        "OpenFlow13",
        "mod-flows",
        "cookie=0x1/-1,actions=output:3",
    ]);
    p.same(&["-O", "OpenFlow13", "dump-flows"]);
    // A modify matching nothing adds in OpenFlow 1.0, not in 1.3.
    p.same(&["mod-flows", "udp,actions=output:1"]);
    p.same(&["-O", "OpenFlow13", "mod-flows", "sctp,actions=output:1"]);
    p.same(&["dump-flows"]);
    p.same(&["del-flows", "out_port=2"]);
    p.same(&["dump-flows"]);
    p.same(&["--strict", "del-flows", "priority=5,ip"]);
    p.same(&["dump-flows"]);
    p.same(&["del-flows", "cookie=0x2/-1"]);
    p.same(&["dump-flows"]);
    p.same(&["del-flows"]);
    p.same(&["dump-flows"]);
}

#[test]
fn errors_as_upstream() {
    let Some(p) = Pair::start("core-flows-err") else {
        return;
    };
    p.same(&["add-flow", "priority=5,ip,actions=output:1"]);
    p.same(&[
        "add-flow",
        "check_overlap,priority=5,ip,nw_src=1.2.3.4,actions=drop",
    ]);
    p.same(&["add-flow", "table=254,actions=drop"]);
    p.same(&["add-flow", "actions=group:5"]);
    p.same(&["-O", "OpenFlow13", "add-flow", "actions=meter:5,output:1"]);
    p.same(&[
        "-O",
        "OpenFlow13",
        "add-flow",
        "table=3,actions=goto_table:2",
    ]);
    p.same(&[
        "-O",
        "OpenFlow13",
        "add-flow",
        "table=253,actions=goto_table:254",
    ]);
    p.same(&["dump-flows"]);
}

#[test]
fn replace_keeps_or_resets_counts() {
    let Some(p) = Pair::start("core-flows-replace") else {
        return;
    };
    p.same(&["add-flow", "priority=5,ip,actions=output:1"]);
    p.same(&["add-flow", "priority=5,ip,actions=output:2"]);
    p.same(&[
        "-O",
        "OpenFlow13",
        "add-flow",
        "priority=5,ip,actions=output:3",
    ]);
    p.same(&["-O", "OpenFlow13", "dump-flows"]);
    p.same(&["--bundle", "add-flow", "priority=9,ip,actions=output:3"]);
    p.same(&["-O", "OpenFlow14", "dump-flows"]);
}
