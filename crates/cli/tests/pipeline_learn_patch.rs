//! `learn` with `limit` and `result_dst`, `delete_learned`, and the
//! packet counters of patch ports, through the daemons: the same scripts
//! run against the reference ovs-vswitchd and ours (both on the dummy
//! datapath), and every command's output must be identical — whole
//! `ofproto/trace` answers (what was learned, what `result_dst` got, the
//! limit's refusals, Megaflow and Datapath actions), `dump-flows` after
//! learning, the datapath flows of injected packets, `dump-ports` and the
//! Interface `statistics` column.

mod pipeline_common;

use pipeline_common::{run_script, Twin};

fn check(tag: &str, script: &str) {
    let Some(twin) = Twin::start(tag) else {
        return;
    };
    let (failures, n) = run_script(&twin, tag, script);
    eprintln!("{tag}: {} of {n} commands identical", n - failures.len());
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// `learn(limit=N, result_dst=...)`: the flows of the learn's table with
/// its cookie are counted (whoever added them); at the limit a new flow,
/// or a learned flow whose actions change, is refused and `result_dst`
/// gets 0; relearning a flow that is already there succeeds.
const LEARN_LIMIT: &str = r#"
$ ovs-vsctl add-br br0 -- set bridge br0 fail-mode=secure
$ ovs-vsctl add-port br0 p1 -- set interface p1 ofport_request=1
$ ovs-vsctl add-port br0 p2 -- set interface p2 ofport_request=2
$ ovs-ofctl add-flow br0 'table=0,priority=1,actions=learn(table=1,limit=2,result_dst=reg0[0],cookie=0x5,NXM_OF_ETH_DST[]=NXM_OF_ETH_SRC[],output:NXM_OF_IN_PORT[]),resubmit(,2)'
$ ovs-ofctl add-flow br0 'table=2,reg0=1,actions=output:2'
$ ovs-ofctl add-flow br0 'table=2,reg0=0,actions=output:1'
# Without side effects nothing is learned and result_dst is left alone.
$ ovs-appctl ofproto/trace br0 in_port=1,dl_src=50:54:00:00:00:01,dl_dst=50:54:00:00:00:02
$ ovs-appctl ofproto/trace br0 in_port=1,dl_src=50:54:00:00:00:01,dl_dst=50:54:00:00:00:02 -generate
$ ovs-appctl ofproto/trace br0 in_port=1,dl_src=50:54:00:00:00:02,dl_dst=50:54:00:00:00:02 -generate
# The limit is reached: a third flow is refused.
$ ovs-appctl ofproto/trace br0 in_port=1,dl_src=50:54:00:00:00:03,dl_dst=50:54:00:00:00:02 -generate
# Relearning a flow that is there succeeds.
$ ovs-appctl ofproto/trace br0 in_port=1,dl_src=50:54:00:00:00:01,dl_dst=50:54:00:00:00:02 -generate
# Changing a learned flow's actions at the limit is refused.
$ ovs-appctl ofproto/trace br0 in_port=2,dl_src=50:54:00:00:00:01,dl_dst=50:54:00:00:00:02 -generate
$ ovs-ofctl dump-flows br0
# Packets: learning in the upcall, the refused one goes the other way.
$ ovs-appctl netdev-dummy/receive p1 'in_port(1),eth(src=50:54:00:00:00:02,dst=50:54:00:00:00:09),eth_type(0x1234)'
$ ovs-appctl netdev-dummy/receive p2 'in_port(2),eth(src=50:54:00:00:00:05,dst=50:54:00:00:00:09),eth_type(0x1234)'
$ wait-until ovs-appctl dpctl/dump-flows ~ eth(src=50:54:00:00:00:05)
$ wait-until ovs-appctl dpctl/dump-flows ~ eth(src=50:54:00:00:00:02)
$ ovs-appctl revalidator/wait
$ ovs-appctl dpctl/dump-flows
$ ovs-ofctl dump-flows br0
# One learned flow goes: there is room for one more.
$ ovs-ofctl del-flows br0 table=1,dl_dst=50:54:00:00:00:02
$ ovs-appctl ofproto/trace br0 in_port=2,dl_src=50:54:00:00:00:06,dl_dst=50:54:00:00:00:02 -generate
$ ovs-appctl ofproto/trace br0 in_port=2,dl_src=50:54:00:00:00:07,dl_dst=50:54:00:00:00:02 -generate
$ ovs-ofctl dump-flows br0 table=1
# Flows with the cookie count whoever added them; other cookies and
# tables do not.
$ ovs-ofctl del-flows br0
$ ovs-ofctl add-flow br0 'table=1,cookie=0x5,priority=5,dl_src=00:00:00:00:00:01,actions=drop'
$ ovs-ofctl add-flow br0 'table=0,priority=1,actions=learn(table=1,limit=1,result_dst=reg1[4..7],cookie=0x5,NXM_OF_ETH_DST[]=NXM_OF_ETH_SRC[],output:NXM_OF_IN_PORT[]),resubmit(,2)'
$ ovs-ofctl add-flow br0 'table=2,reg1=0x10,actions=output:2'
$ ovs-appctl ofproto/trace br0 in_port=1,dl_src=50:54:00:00:00:01,dl_dst=50:54:00:00:00:02 -generate
$ ovs-ofctl del-flows br0 table=1
$ ovs-ofctl add-flow br0 'table=1,cookie=0x6,priority=5,dl_src=00:00:00:00:00:01,actions=drop'
$ ovs-ofctl add-flow br0 'table=3,cookie=0x5,priority=5,dl_src=00:00:00:00:00:01,actions=drop'
$ ovs-appctl ofproto/trace br0 in_port=1,dl_src=50:54:00:00:00:01,dl_dst=50:54:00:00:00:02 -generate
$ ovs-ofctl dump-flows br0
# Two learns in one translation share the limit; a flow learned by a
# translation is not seen by that translation's later lookups.
$ ovs-ofctl del-flows br0
$ ovs-ofctl add-flow br0 'table=0,priority=1,actions=learn(table=1,limit=1,cookie=0x5,NXM_OF_ETH_DST[]=NXM_OF_ETH_SRC[],output:NXM_OF_IN_PORT[]),learn(table=1,limit=1,cookie=0x5,NXM_OF_ETH_SRC[]=NXM_OF_ETH_SRC[],output:NXM_OF_IN_PORT[]),resubmit(,1)'
$ ovs-appctl ofproto/trace br0 in_port=1,dl_src=50:54:00:00:00:01,dl_dst=50:54:00:00:00:01 -generate
$ ovs-appctl ofproto/trace br0 in_port=1,dl_src=50:54:00:00:00:01,dl_dst=50:54:00:00:00:01 -generate
$ ovs-ofctl dump-flows br0
# No limit: result_dst gets 1.
$ ovs-ofctl del-flows br0
$ ovs-ofctl add-flow br0 'table=0,priority=1,actions=learn(table=1,result_dst=reg2[31],NXM_OF_ETH_DST[]=NXM_OF_ETH_SRC[]),resubmit(,2)'
$ ovs-ofctl add-flow br0 'table=2,reg2=0x80000000,actions=output:2'
$ ovs-appctl ofproto/trace br0 in_port=1,dl_src=50:54:00:00:00:01,dl_dst=50:54:00:00:00:01 -generate
$ ovs-appctl netdev-dummy/receive p1 'in_port(1),eth(src=50:54:00:00:00:03,dst=50:54:00:00:00:09),eth_type(0x1234)'
$ wait-until ovs-appctl dpctl/dump-flows ~ eth(src=50:54:00:00:00:03)
$ ovs-appctl revalidator/wait
$ ovs-appctl dpctl/dump-flows
$ ovs-ofctl dump-flows br0
"#;

/// `delete_learned`: when the last flow whose actions hold a
/// `learn(delete_learned)` for a table and cookie goes, the flows of that
/// table with that cookie go too.
const DELETE_LEARNED: &str = r#"
$ ovs-vsctl add-br br0 -- set bridge br0 fail-mode=secure
$ ovs-vsctl add-port br0 p1 -- set interface p1 ofport_request=1
$ ovs-vsctl add-port br0 p2 -- set interface p2 ofport_request=2
$ ovs-ofctl add-flow br0 'table=0,priority=5,in_port=1,actions=learn(table=3,delete_learned,cookie=0x7,NXM_OF_ETH_DST[]=NXM_OF_ETH_SRC[],output:NXM_OF_IN_PORT[])'
$ ovs-ofctl add-flow br0 'table=0,priority=5,in_port=2,actions=learn(table=3,delete_learned,cookie=0x7,NXM_OF_ETH_DST[]=NXM_OF_ETH_SRC[],output:NXM_OF_IN_PORT[])'
$ ovs-ofctl add-flow br0 'table=0,priority=4,actions=clone(learn(table=4,delete_learned,cookie=0x9,NXM_OF_ETH_DST[]=NXM_OF_ETH_SRC[]))'
$ ovs-ofctl add-flow br0 'table=0,priority=3,actions=learn(table=5,cookie=0xa,NXM_OF_ETH_DST[]=NXM_OF_ETH_SRC[])'
$ ovs-ofctl add-flow br0 'table=3,cookie=0x7,priority=1,dl_src=00:00:00:00:00:01,actions=drop'
$ ovs-ofctl add-flow br0 'table=3,cookie=0x8,priority=1,dl_src=00:00:00:00:00:02,actions=drop'
$ ovs-ofctl add-flow br0 'table=4,cookie=0x9,priority=1,dl_src=00:00:00:00:00:03,actions=drop'
$ ovs-ofctl add-flow br0 'table=5,cookie=0xa,priority=1,dl_src=00:00:00:00:00:04,actions=drop'
$ ovs-appctl ofproto/trace br0 in_port=1,dl_src=50:54:00:00:00:01,dl_dst=50:54:00:00:00:09 -generate
$ ovs-appctl ofproto/trace br0 in_port=2,dl_src=50:54:00:00:00:02,dl_dst=50:54:00:00:00:09 -generate
$ ovs-appctl ofproto/trace br0 in_port=3,dl_src=50:54:00:00:00:03,dl_dst=50:54:00:00:00:09 -generate
$ ovs-ofctl dump-flows br0
# One of the two learning flows goes: the other still learns there.
$ ovs-ofctl --strict del-flows br0 table=0,priority=5,in_port=1
$ ovs-ofctl dump-flows br0
# The last one goes (by a modify that drops the learn).
$ ovs-ofctl --strict mod-flows br0 table=0,priority=5,in_port=2,actions=drop
$ ovs-ofctl dump-flows br0
# A learn inside clone, and a learn without delete_learned.
$ ovs-ofctl --strict del-flows br0 table=0,priority=4
$ ovs-ofctl --strict del-flows br0 table=0,priority=3
$ ovs-ofctl dump-flows br0
"#;

/// Patch ports count what crosses them: sent on one side, received on
/// the peer (misses, datapath flows, packet-outs; not traces).
const PATCH_STATS: &str = r#"
$ ovs-vsctl add-br br0 -- set bridge br0 fail-mode=secure
$ ovs-vsctl add-br br1 -- set bridge br1 fail-mode=secure
$ ovs-vsctl add-port br0 p1 -- set interface p1 ofport_request=1
$ ovs-vsctl add-port br1 p3 -- set interface p3 ofport_request=3
$ ovs-vsctl add-port br0 patch0 -- set interface patch0 type=patch options:peer=patch1 ofport_request=10
$ ovs-vsctl add-port br1 patch1 -- set interface patch1 type=patch options:peer=patch0 ofport_request=11
$ ovs-ofctl add-flow br0 in_port=1,actions=output:10
$ ovs-ofctl add-flow br1 in_port=11,actions=output:3
$ ovs-ofctl add-flow br1 in_port=3,actions=output:11
$ ovs-ofctl add-flow br0 in_port=10,actions=output:1
$ ovs-ofctl add-flow br0 table=1,actions=output:10
$ ovs-ofctl dump-ports br0 10
$ ovs-appctl ofproto/trace br0 in_port=1,dl_src=50:54:00:00:00:01,dl_dst=50:54:00:00:00:09
$ ovs-ofctl dump-ports br0 10
$ ovs-appctl netdev-dummy/receive p1 'in_port(1),eth(src=50:54:00:00:00:01,dst=50:54:00:00:00:09),eth_type(0x1234)'
$ wait-until ovs-ofctl dump-ports br1 11 ~ rx pkts=1,
$ ovs-appctl revalidator/wait
$ ovs-ofctl dump-ports br0 10
$ ovs-ofctl dump-ports br1 11
$ ovs-appctl netdev-dummy/receive p1 'in_port(1),eth(src=50:54:00:00:00:01,dst=50:54:00:00:00:09),eth_type(0x1234)'
$ ovs-appctl netdev-dummy/receive p3 'in_port(3),eth(src=50:54:00:00:00:03,dst=50:54:00:00:00:09),eth_type(0x0800),ipv4(src=10.0.0.1,dst=10.0.0.2,proto=17,tos=0,ttl=64,frag=no),udp(src=1,dst=2)'
$ wait-until ovs-ofctl dump-ports br1 11 ~ rx pkts=2,
$ wait-until ovs-ofctl dump-ports br0 10 ~ rx pkts=1,
$ ovs-appctl revalidator/wait
$ ovs-ofctl dump-ports br0
$ ovs-ofctl dump-ports br1
$ ovs-ofctl packet-out br0 LOCAL 'resubmit(,1)' 505400000009505400000001123400000000000000000000000000000000000000000000000000000000000000000000
$ ovs-ofctl dump-ports br0 10
$ ovs-ofctl dump-ports br1 11
$ ovs-ofctl dump-flows br0
$ ovs-appctl revalidator/purge
$ ovs-ofctl -O OpenFlow13 dump-ports br1 11
$ wait-until ovs-vsctl get interface patch1 statistics ~ rx_packets=4
$ ovs-vsctl get interface patch0 statistics
$ ovs-vsctl get interface patch1 statistics
# A patch port added again counts from zero.
$ ovs-vsctl del-port br0 patch0
$ ovs-vsctl add-port br0 patch0 -- set interface patch0 type=patch options:peer=patch1 ofport_request=10
$ ovs-ofctl dump-ports br0 10
$ ovs-ofctl dump-ports br1 11
"#;

#[test]
fn learn_limit_and_result_like_the_reference() {
    check("pl-learn-limit", LEARN_LIMIT);
}

#[test]
fn delete_learned_like_the_reference() {
    check("pl-del-learned", DELETE_LEARNED);
}

#[test]
fn patch_port_counters_like_the_reference() {
    check("pl-patch-stats", PATCH_STATS);
}
