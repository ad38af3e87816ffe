//! Differential translation tests on hand-picked pipelines: the same flows
//! go into the reference ovs-vswitchd and into our switch, the same flows
//! are traced, and the whole `ofproto/trace` text must be the same.

mod xlate_common;

use xlate_common::{first_diff, normalize_recirc, port, sort_flood, Pair};

struct Case {
    groups: &'static [&'static str],
    flows: &'static [&'static str],
    traces: &'static [&'static str],
}

const CASES: &[Case] = &[
    Case {
        groups: &[],
        flows: &["in_port=1,actions=output:30,output:2", "in_port=2,actions=set_field:5->tun_id,output:30"],
        traces: &["in_port=1,tcp", "in_port=2", "in_port=1,ipv6"],
    },
    Case {
        groups: &[],
        flows: &["in_port=1,actions=output:2"],
        traces: &["in_port=1,tcp", "in_port=2,tcp", "in_port=1"],
    },
    Case {
        groups: &[],
        flows: &[
            "in_port=1,ip,actions=mod_vlan_vid:10,output:2,controller,strip_vlan,push_mpls:0x8847,set_field:5->mpls_label,output:3,pop_mpls:0x0800,output:2",
        ],
        traces: &["in_port=1,tcp,nw_ttl=64"],
    },
    Case {
        groups: &[],
        flows: &[
            "table=0,actions=resubmit(,1),resubmit(,2)",
            "table=1,actions=resubmit(,3)",
            "table=2,actions=resubmit(,4),output:2",
            "table=3,actions=note:01",
            "table=4,actions=resubmit(,5)",
            "table=5,actions=note:02",
        ],
        traces: &["in_port=1,tcp"],
    },
    Case {
        groups: &[],
        flows: &[
            "table=0,in_port=1,ip,actions=ct(commit,zone=5,nat(src=1.2.3.4-1.2.3.5:100-200),exec(set_field:1->ct_mark)),ct(table=3,zone=NXM_NX_REG0[0..15]),sample(probability=100,collector_set_id=1),output:2",
            "table=3,actions=mod_nw_src:1.2.3.4,mod_tp_dst:80,output:1,dec_ttl,output(port=2,max_len=100),set_field:0x1/0xff->pkt_mark,mod_dl_src:01:02:03:04:05:06,output:in_port,ct_clear,mod_nw_tos:8,output:3",
        ],
        traces: &["in_port=1,tcp,nw_ttl=64"],
    },
    Case {
        groups: &[
            "group_id=1,type=select,bucket=output:2,bucket=output:3",
            "group_id=2,type=all,bucket=mod_dl_src:00:00:00:00:00:09,output:2,bucket=output:3",
            "group_id=4,type=fast_failover,bucket=watch_port:5,output:5,bucket=watch_port:3,output:3",
        ],
        flows: &[
            "in_port=1,actions=group:1",
            "in_port=2,actions=group:2,output:1",
            "in_port=4,actions=group:4",
        ],
        traces: &["in_port=1,tcp,nw_src=10.0.0.1", "in_port=2,tcp", "in_port=4,udp"],
    },
    Case {
        groups: &[],
        flows: &[
            "in_port=1,ip,actions=load:0x5->NXM_NX_REG0[],move:NXM_NX_REG0[0..3]->NXM_OF_IP_TOS[2..5],output:2",
            "in_port=2,actions=push:NXM_OF_ETH_SRC[],pop:NXM_OF_ETH_DST[],output:1",
            "in_port=3,ip,actions=dec_ttl,output:1",
            "in_port=4,actions=goto_table:1",
            "table=1,actions=set_field:00:00:00:00:00:05->eth_dst,output:2",
        ],
        traces: &[
            "in_port=1,ip",
            "in_port=2,ip,dl_src=00:11:22:33:44:55",
            "in_port=3,ip,nw_ttl=1",
            "in_port=3,ip,nw_ttl=5",
            "in_port=4,tcp",
        ],
    },
    Case {
        groups: &[],
        flows: &[
            "in_port=1,actions=clone(mod_dl_src:00:00:00:00:00:01,output:2),output:3",
            "in_port=2,ip,actions=set_field:1.1.1.1->ip_src,write_actions(output:3)",
            "in_port=3,actions=FLOOD",
            "in_port=4,actions=ALL",
        ],
        traces: &["in_port=1,ip", "in_port=2,ip", "in_port=3", "in_port=4,tcp"],
    },
    // OpenFlow 1.3 (the group makes `load` use it): setting the shifted
    // `ip_dscp` leaves the IP protocol wildcarded, other IP and ARP header
    // fields make the megaflow match it.
    Case {
        groups: &["group_id=9,type=all,bucket=output:3"],
        flows: &[
            "in_port=1,ipv6,actions=set_field:50->ip_dscp,output:2",
            "in_port=2,ip,actions=set_field:50->ip_dscp,set_field:3->ip_ecn,output:1",
            "in_port=3,ipv6,actions=set_field:5->ipv6_label,group:9",
            "in_port=4,arp,actions=set_field:1.1.1.1->arp_spa,output:1",
            "in_port=4,rarp,actions=set_field:1.1.1.1->arp_spa,output:1",
        ],
        traces: &[
            "in_port=1,udp6",
            "in_port=2,tcp",
            "in_port=3,udp6",
            "in_port=4,arp",
            "in_port=4,rarp",
        ],
    },
    // symmetric_l4 hashes TCP and SCTP ports, not UDP's: a UDP megaflow
    // only matches the port an earlier action set.
    Case {
        groups: &[],
        flows: &[
            "in_port=1,udp,actions=mod_tp_dst:46015,multipath(symmetric_l4,6,hrw,3,0,NXM_NX_REG2[0..3]),output:2",
            "in_port=2,actions=multipath(symmetric_l4,6,hrw,3,0,NXM_NX_REG2[0..3]),bundle(symmetric_l4,0,hrw,ofport,members:1,3),output:NXM_NX_REG2[0..1]",
        ],
        traces: &[
            "in_port=1,udp,udp_src=9527,udp_dst=22",
            "in_port=2,udp,udp_src=9527,udp_dst=22",
            "in_port=2,tcp,tcp_src=9527,tcp_dst=22",
            "in_port=2,icmp,icmp_type=8",
        ],
    },
];

#[test]
fn handpicked_pipelines_trace_like_upstream() {
    let mut vx = port("vx1", 30);
    vx.tunnel = Some("vxlan");
    let ports = [
        port("p1", 1),
        port("p2", 2),
        port("p3", 3),
        port("p4", 4),
        vx,
    ];
    let Some(p) = Pair::start("xlate-hand", &ports) else {
        return;
    };
    let mut failures = Vec::new();
    let mut n = 0;
    for (ci, c) in CASES.iter().enumerate() {
        if let Err(e) = p.load(c.groups, c.flows) {
            failures.push(format!("case {ci}: load failed: {e}"));
            continue;
        }
        for t in c.traces {
            n += 1;
            let r = sort_flood(&normalize_recirc(&p.trace_reference(t, false)));
            let o = sort_flood(&normalize_recirc(&p.trace_ours(t, false)));
            if r != o {
                failures.push(format!(
                    "case {ci} trace {t}: {}\n--- reference\n{r}\n--- ours\n{o}\n",
                    first_diff(&r, &o)
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {n} traces differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
