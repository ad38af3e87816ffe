//! Differential tests of the TLV map, bundles, packet-out, conntrack
//! flushes, IPFIX statistics, replace-flows and long multipart replies.

mod core_common;
use core_common::Pair;

#[test]
fn tlv_map() {
    let Some(p) = Pair::start("core-tlv") else {
        return;
    };
    p.same(&["dump-tlv-map"]);
    p.same(&["add-tlv-map", "{class=0xffff,type=0,len=4}->tun_metadata0"]);
    p.same(&[
        "add-tlv-map",
        "{class=0xffff,type=1,len=8}->tun_metadata1,{class=0x0102,type=0x80,len=4}->tun_metadata3",
    ]);
    p.same(&["dump-tlv-map"]);
    p.same(&["add-tlv-map", "{class=0xffff,type=2,len=4}->tun_metadata0"]);
    p.same(&["add-tlv-map", "{class=0xffff,type=0,len=4}->tun_metadata5"]);
    p.same(&["del-tlv-map", "{class=0xffff,type=1,len=8}->tun_metadata1"]);
    p.same(&["del-tlv-map", "{class=0xffff,type=1,len=8}->tun_metadata1"]);
    p.same(&["-O", "OpenFlow13", "dump-tlv-map"]);
    p.same(&["del-tlv-map"]);
    p.same(&["dump-tlv-map"]);
}

#[test]
fn bundles_are_atomic() {
    let Some(p) = Pair::start("core-bundle") else {
        return;
    };
    p.same_with_file(
        &["--bundle", "add-flows"],
        "priority=1,ip,actions=drop\npriority=2,arp,actions=drop\n",
    );
    p.same(&["-O", "OpenFlow14", "dump-flows"]);
    // The second flow fails: nothing of the bundle may stay.
    p.same_with_file(
        &["--bundle", "add-flows"],
        "priority=3,udp,actions=drop\ntable=254,priority=4,tcp,actions=drop\n",
    );
    p.same(&["-O", "OpenFlow14", "dump-flows"]);
    p.same_with_file(
        &["-O", "OpenFlow13", "--bundle", "add-flows"],
        "delete priority=1,ip\nadd priority=5,icmp,actions=drop\nmodify arp,actions=output:1\n",
    );
    p.same(&["-O", "OpenFlow13", "dump-flows"]);
    p.same(&[
        "--bundle",
        "add-group",
        "group_id=1,type=all,bucket=output:1",
    ]);
    p.same(&["-O", "OpenFlow15", "dump-groups"]);
}

#[test]
fn packet_out_and_flushes() {
    let Some(p) = Pair::start("core-pktout") else {
        return;
    };
    let pkt =
        "50540000000750540000000508004500001c000100004011f9ce0a0000010a0000020001000200080000";
    p.same(&["packet-out", "in_port=1", "actions=output:2", pkt]);
    p.same(&[
        "-O",
        "OpenFlow13",
        "packet-out",
        "in_port=1",
        "actions=output:2",
        pkt,
    ]);
    p.same(&["-O", "OpenFlow15", "packet-out", "in_port=1,packet=50540000000750540000000508004500001c000100004011f9ce0a0000010a0000020001000200080000,actions=output:2"]);
    p.same(&["packet-out", "in_port=1", "actions=group:9", pkt]);
    p.same(&["ct-flush-zone", "5"]);
    p.same(&["ct-flush", "zone=5"]);
    p.same(&["dump-ipfix-bridge"]);
    p.same(&["dump-ipfix-flow"]);
}

#[test]
fn replace_flows_and_long_dumps() {
    let Some(p) = Pair::start("core-replace") else {
        return;
    };
    let mut flows = String::new();
    for i in 0..1500 {
        flows.push_str(&format!(
            "priority={},ip,nw_src=10.{}.{}.1,actions=output:1\n",
            i % 7,
            i / 256,
            i % 256
        ));
    }
    p.same_with_file(&["add-flows"], &flows);
    p.same(&["dump-aggregate"]);
    p.same(&["--sort", "dump-flows"]);
    p.same(&["-O", "OpenFlow13", "--sort", "dump-flows"]);
    let mut fewer = String::new();
    for i in 0..40 {
        fewer.push_str(&format!(
            "priority={},ip,nw_src=10.{}.{}.1,actions=output:2\n",
            i % 7,
            i / 256,
            i % 256
        ));
    }
    fewer.push_str("priority=9,arp,actions=drop\n");
    p.same_with_file(&["replace-flows"], &fewer);
    p.same(&["--sort", "dump-flows"]);
    p.same_with_file(&["diff-flows"], &fewer);
}
