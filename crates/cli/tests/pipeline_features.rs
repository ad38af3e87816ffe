//! The pipeline features `pipeline_generated` does not reach, through the
//! daemons: group selection methods and bucket edits with group stats,
//! meters, conjunctive matches, controller action options, set_field and
//! move over many fields, the tunnel TLV map, multipath and bundle
//! algorithms, fin_timeout, NORMAL with MAC aging, table-size limits and
//! every VLAN mode, and the `fdb/*` commands.  The same scripts (partly
//! generated from a fixed seed) run against the reference ovs-vswitchd
//! and ours on the dummy datapath; every command's output must be
//! identical (whole traces, dumps and statistics).

mod pipeline_common;

use pipeline_common::{normalize_run, parse_script, run_step, Twin};
use testkit::Rng;

/// Runs `script` in both stacks; every command's output must be the same
/// (NORMAL's floods compared as sets, see [`canonical_floods`]).
fn check(tag: &str, script: &str) {
    let Some(twin) = Twin::start(tag) else {
        return;
    };
    let steps = parse_script(script);
    let mut failures = Vec::new();
    for step in &steps {
        let (r, o) = twin.both(|sb| canonical_floods(&normalize_run(sb, &run_step(sb, step))));
        if r != o {
            failures.push(format!(
                "{tag}:{}: `{}`: ours differs from the reference:\n--- reference\n{r}\n--- ours\n{o}",
                step.line, step.text
            ));
        }
    }
    eprintln!(
        "{tag}: {} of {} commands identical",
        steps.len() - failures.len(),
        steps.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// NORMAL floods in an order upstream does not keep stable (its bundles
/// hash by pointer): in a trace whose `Datapath actions:` are only
/// outputs and VLAN pushes and pops, the line becomes the sorted set of
/// outputs, each with the VLAN headers in effect (starting from the
/// packet's own, on the `Flow:` line).
fn canonical_floods(text: &str) -> String {
    let mut initial: Vec<String> = Vec::new();
    if let Some(f) = text.lines().find(|l| l.starts_with("Flow: ")) {
        let get = |k: &str| f.split(',').find_map(|kv| kv.strip_prefix(k));
        if let (Some(vid), Some(pcp)) = (get("dl_vlan="), get("dl_vlan_pcp=")) {
            initial.push(format!("push_vlan(vid={vid},pcp={pcp})"));
        }
    }
    let floods = |acts: &str| -> Option<String> {
        let mut vlans = initial.clone();
        let mut outs = Vec::new();
        for a in acts.split(',').filter(|a| !a.is_empty()) {
            if let Some(rest) = a.strip_prefix("push_vlan(vid=") {
                vlans.push(format!("push_vlan(vid={rest}"));
            } else if a.starts_with("pcp=") {
                let last = vlans.last_mut()?;
                last.push(',');
                last.push_str(a);
            } else if a == "pop_vlan" {
                if vlans.pop().is_none() {
                    vlans.push("popped".into());
                }
            } else if a.parse::<u32>().is_ok() {
                outs.push(format!("{a}[{}]", vlans.join(";")));
            } else {
                return None;
            }
        }
        outs.sort();
        Some(format!("Datapath outputs: {}", outs.join(" ")))
    };
    text.lines()
        .map(|l| match l.strip_prefix("Datapath actions: ") {
            Some(acts) if acts.contains("pop_vlan") || acts.contains("push_vlan") => {
                floods(acts).unwrap_or_else(|| l.to_string())
            }
            _ => l.to_string(),
        })
        .map(|l| l + "\n")
        .collect()
}

/// A script that makes bridge br0 with ports p1..p5 (numbers 1..5),
/// then runs `parts` in order.
fn on_bridge(parts: &[&str]) -> String {
    let mut s = String::from("$ ovs-vsctl add-br br0 -- set bridge br0 fail-mode=secure\n");
    for i in 1..=5 {
        s.push_str(&format!(
            "$ ovs-vsctl add-port br0 p{i} -- set interface p{i} ofport_request={i}\n"
        ));
    }
    s.extend(parts.iter().copied());
    s
}

/// `ofproto/trace` commands for `flows` on br0.
fn traces(flows: &[String]) -> String {
    flows
        .iter()
        .map(|f| format!("$ ovs-appctl ofproto/trace br0 '{f}'\n"))
        .collect()
}

/// `n` flows made by `flow` from a generator seeded with `seed`.
fn generate(seed: u64, n: usize, mut flow: impl FnMut(&mut Rng) -> String) -> Vec<String> {
    let mut rng = Rng(seed);
    (0..n).map(|_| flow(&mut rng)).collect()
}

#[test]
fn groups_like_the_reference() {
    let groups = r#"$ ovs-ofctl -O OpenFlow15 add-group br0 'group_id=5,type=select,selection_method=hash,fields(eth_src,nw_dst),bucket=bucket_id:1,output:1,bucket=bucket_id:2,output:2'
$ ovs-ofctl -O OpenFlow15 add-group br0 'group_id=6,type=select,selection_method=dp_hash,bucket=output:1,bucket=output:2,bucket=weight:20,output:3'
$ ovs-ofctl -O OpenFlow15 add-group br0 'group_id=7,type=select,fields(ip_src,tcp_dst),bucket=output:1,bucket=output:2'
$ ovs-ofctl -O OpenFlow15 add-group br0 'group_id=8,type=fast_failover,bucket=watch_group:9,output:1,bucket=watch_port:2,output:2'
$ ovs-ofctl -O OpenFlow15 add-group br0 'group_id=9,type=all,bucket=output:4,bucket=group:10'
$ ovs-ofctl -O OpenFlow15 add-group br0 'group_id=10,type=indirect,bucket=set_field:7->reg0,resubmit(,1)'
$ ovs-ofctl -O OpenFlow15 add-group br0 'group_id=11,type=select,selection_method=hash,fields(ipv6_dst,udp_src),bucket=output:1,bucket=output:2,bucket=output:3'
$ ovs-ofctl -O OpenFlow15 add-flow br0 'table=0,in_port=1,actions=group:5'
$ ovs-ofctl -O OpenFlow15 add-flow br0 'table=0,in_port=2,actions=group:6'
$ ovs-ofctl -O OpenFlow15 add-flow br0 'table=0,in_port=3,actions=group:7'
$ ovs-ofctl -O OpenFlow15 add-flow br0 'table=0,in_port=4,actions=group:8'
$ ovs-ofctl -O OpenFlow15 add-flow br0 'table=0,in_port=5,actions=group:9,group:11'
$ ovs-ofctl -O OpenFlow15 add-flow br0 'table=1,reg0=7,actions=output:3'
"#;
    let flows = generate(0x9e0_0001, 24, |rng| {
        let port = 1 + rng.below(5);
        let src = format!("50:54:00:00:00:{:02x}", 1 + rng.below(9));
        match rng.below(3) {
            0 => format!(
                "in_port={port},dl_src={src},tcp,nw_src=10.0.0.{},nw_dst=10.0.1.{},tcp_src={},tcp_dst={}",
                rng.below(9),
                rng.below(9),
                rng.below(65536),
                rng.pick(&[80u64, 443, 22])
            ),
            1 => format!(
                "in_port={port},dl_src={src},udp6,ipv6_src=2001::{},ipv6_dst=2001::{},udp_src={},udp_dst=53",
                rng.below(9),
                rng.below(9),
                rng.below(65536)
            ),
            _ => format!("in_port={port},dl_src={src},dl_type=0x1234"),
        }
    });
    let bucket_edits = r#"$ ovs-ofctl -O OpenFlow15 insert-buckets br0 group_id=5,command_bucket_id=first,bucket=bucket_id:7,output:3
$ ovs-ofctl -O OpenFlow15 insert-buckets br0 group_id=6,command_bucket_id=last,bucket=bucket_id:9,output:4
$ ovs-ofctl -O OpenFlow15 remove-buckets br0 group_id=7,command_bucket_id=first
$ ovs-ofctl -O OpenFlow15 dump-groups br0 5
$ ovs-ofctl -O OpenFlow15 dump-groups br0 6
$ ovs-ofctl -O OpenFlow15 dump-groups br0 7
"#;
    let stats = r#"$ ovs-appctl netdev-dummy/receive p5 'in_port(5),eth(src=50:54:00:00:00:05,dst=50:54:00:00:00:09),eth_type(0x0800),ipv4(src=10.0.0.1,dst=10.0.0.2,proto=17,tos=0,ttl=64,frag=no),udp(src=1,dst=2)'
$ ovs-appctl netdev-dummy/receive p4 'in_port(4),eth(src=50:54:00:00:00:04,dst=50:54:00:00:00:09),eth_type(0x1234)'
$ wait-until ovs-ofctl -O OpenFlow15 dump-group-stats br0 group_id=9 ~ packet_count=1
$ wait-until ovs-ofctl -O OpenFlow15 dump-group-stats br0 group_id=8 ~ packet_count=1
$ ovs-appctl revalidator/wait
$ ovs-ofctl -O OpenFlow13 dump-group-stats br0 5
$ ovs-ofctl -O OpenFlow13 dump-group-stats br0 8
$ ovs-ofctl -O OpenFlow13 dump-group-stats br0 9
$ ovs-ofctl -O OpenFlow13 dump-group-stats br0 10
$ ovs-ofctl -O OpenFlow13 dump-group-stats br0 11
$ ovs-appctl dpctl/dump-flows
$ ovs-ofctl -O OpenFlow15 del-groups br0 group_id=10
$ ovs-ofctl -O OpenFlow15 dump-flows br0
$ ovs-ofctl -O OpenFlow15 dump-group-features br0
"#;
    let s = on_bridge(&[
        groups,
        &traces(&flows),
        bucket_edits,
        &traces(&flows[..12]),
        stats,
    ]);
    check("pl-feat-groups", &s);
}

#[test]
fn meters_conjunctions_and_controller_options_like_the_reference() {
    let setup = r#"$ ovs-ofctl -O OpenFlow13 add-meter br0 'meter=1,kbps,burst,band=type=drop,rate=1000,burst_size=100'
$ ovs-ofctl -O OpenFlow13 add-meter br0 'meter=2,pktps,stats,band=type=drop,rate=10'
$ ovs-ofctl -O OpenFlow13 add-meter br0 'meter=3,kbps,band=type=dscp_remark,rate=100,prec_level=1'
$ ovs-ofctl -O OpenFlow13 add-flow br0 'table=0,in_port=1,actions=meter:1,output:2'
$ ovs-ofctl -O OpenFlow13 add-flow br0 'table=0,in_port=2,actions=meter:2,meter:3,output:1'
$ ovs-ofctl -O OpenFlow13 add-flow br0 'table=0,in_port=3,actions=meter:4,output:1'
$ ovs-ofctl -O OpenFlow13 dump-meters br0
$ ovs-ofctl -O OpenFlow13 meter-features br0
$ ovs-ofctl add-flow br0 'table=1,priority=10,ip,nw_src=10.0.0.1,actions=conjunction(1,1/2)'
$ ovs-ofctl add-flow br0 'table=1,priority=10,ip,nw_src=10.0.0.2,actions=conjunction(1,1/2)'
$ ovs-ofctl add-flow br0 'table=1,priority=10,tcp,tp_dst=80,actions=conjunction(1,2/2)'
$ ovs-ofctl add-flow br0 'table=1,priority=10,tcp,tp_dst=443,actions=conjunction(1,2/2),conjunction(2,1/2)'
$ ovs-ofctl add-flow br0 'table=1,priority=10,ip,nw_dst=10.0.1.0/24,actions=conjunction(2,2/2)'
$ ovs-ofctl add-flow br0 'table=1,priority=10,conj_id=1,actions=output:2'
$ ovs-ofctl add-flow br0 'table=1,priority=10,conj_id=2,actions=output:3'
$ ovs-ofctl add-flow br0 'table=1,priority=1,actions=output:4'
$ ovs-ofctl add-flow br0 'table=0,in_port=4,actions=resubmit(,1)'
$ ovs-ofctl add-flow br0 'table=0,in_port=5,tcp,actions=controller(reason=no_match,userdata=01.02.03,id=7,max_len=100),controller(pause),controller(meter_id=2),output:1'
$ ovs-ofctl add-flow br0 'table=0,in_port=5,udp,actions=controller:60,controller(reason=invalid_ttl),set_field:5->reg3,controller(pause,userdata=aa)'
"#;
    let mut flows: Vec<String> = (1..=3)
        .map(|port| format!("in_port={port},dl_src=50:54:00:00:00:01,ip"))
        .collect();
    flows.extend(generate(0x9e0_0002, 20, |rng| {
        format!(
            "in_port=4,tcp,nw_src=10.0.0.{},nw_dst=10.0.{}.{},tcp_dst={}",
            rng.below(4),
            rng.below(2),
            rng.below(4),
            rng.pick(&[80u64, 443, 22])
        )
    }));
    flows.push("in_port=5,tcp,nw_src=10.0.0.1".into());
    flows.push("in_port=5,udp,nw_src=10.0.0.1".into());
    let after = r#"$ ovs-appctl netdev-dummy/receive p1 'in_port(1),eth(src=50:54:00:00:00:01,dst=50:54:00:00:00:09),eth_type(0x1234)'
$ ovs-appctl netdev-dummy/receive p4 'in_port(4),eth(src=50:54:00:00:00:04,dst=50:54:00:00:00:09),eth_type(0x0800),ipv4(src=10.0.0.2,dst=10.0.1.2,proto=6,tos=0,ttl=64,frag=no),tcp(src=1,dst=443)'
$ wait-until ovs-appctl dpctl/dump-flows ~ in_port(4)
$ wait-until ovs-appctl dpctl/dump-flows ~ in_port(1)
$ ovs-appctl revalidator/wait
$ ovs-appctl dpctl/dump-flows
$ ovs-ofctl -O OpenFlow13 dump-flows br0
$ ovs-ofctl -O OpenFlow13 del-meter br0 meter=1
$ ovs-ofctl -O OpenFlow13 dump-flows br0
"#;
    check(
        "pl-feat-meters",
        &on_bridge(&[setup, &traces(&flows), after]),
    );
}

/// Fields set_field and move are generated over: (name, a value, the
/// match that makes it settable).
const SET_FIELDS: &[(&str, &str, &str)] = &[
    ("eth_src", "50:54:00:00:00:0a", ""),
    ("eth_dst", "50:54:00:00:00:0b", ""),
    ("vlan_vid", "4100", ""),
    ("vlan_pcp", "5", "dl_vlan=10,"),
    ("ip_src", "10.9.9.9", "ip,"),
    ("ip_dst", "10.9.9.8", "ip,"),
    ("ip_dscp", "10", "ip,"),
    ("nw_ecn", "2", "ip,"),
    ("nw_ttl", "9", "ip,"),
    ("nw_tos", "32", "ip,"),
    ("tcp_src", "1000", "tcp,"),
    ("tcp_dst", "2000", "tcp,"),
    ("udp_src", "1001", "udp,"),
    ("udp_dst", "2001", "udp,"),
    ("icmp_type", "3", "icmp,"),
    ("icmp_code", "1", "icmp,"),
    ("icmpv6_type", "1", "icmp6,"),
    ("icmpv6_code", "2", "icmp6,"),
    ("ipv6_src", "2001::77", "ipv6,"),
    ("ipv6_dst", "2001::78", "ipv6,"),
    ("ipv6_label", "0x12345", "ipv6,"),
    ("arp_op", "2", "arp,"),
    ("arp_spa", "10.1.1.1", "arp,"),
    ("arp_tpa", "10.1.1.2", "arp,"),
    ("arp_sha", "50:54:00:00:00:0c", "arp,"),
    ("arp_tha", "50:54:00:00:00:0d", "arp,"),
    ("nd_target", "2001::99", "icmp6,icmp_type=135,"),
    ("nd_sll", "50:54:00:00:00:0e", "icmp6,icmp_type=135,"),
    ("nd_tll", "50:54:00:00:00:0f", "icmp6,icmp_type=136,"),
    ("mpls_label", "77", "mpls,"),
    ("mpls_tc", "3", "mpls,"),
    ("mpls_ttl", "7", "mpls,"),
    ("tun_id", "0x1234", ""),
    ("tun_src", "192.168.0.1", ""),
    ("tun_dst", "192.168.0.2", ""),
    ("tun_flags", "1", ""),
    ("tun_gbp_id", "5", ""),
    ("metadata", "0xabcd", ""),
    ("reg5", "0x55", ""),
    ("xreg2", "0x1122334455", ""),
    ("xxreg1", "0x112233445566778899", ""),
    ("pkt_mark", "0x99", ""),
    ("skb_priority", "3", ""),
    ("ct_mark", "1", "ct_state=+trk,ip,"),
    ("ct_label", "2", "ct_state=+trk,ip,"),
    ("in_port", "3", ""),
    ("in_port_oxm", "4", ""),
    ("actset_output", "2", ""),
];

/// Flows of every class the fields above need, to trace.
const TRACE_FLOWS: &[&str] = &[
    "in_port=1,dl_src=50:54:00:00:00:01,dl_dst=50:54:00:00:00:02,dl_type=0x1234",
    "in_port=1,dl_vlan=10,dl_src=50:54:00:00:00:01,dl_dst=50:54:00:00:00:02,dl_type=0x1234",
    "in_port=1,tcp,nw_src=10.0.0.1,nw_dst=10.0.0.2,nw_ttl=64,tcp_src=5,tcp_dst=80",
    "in_port=1,udp,nw_src=10.0.0.1,nw_dst=10.0.0.2,nw_ttl=64,udp_src=5,udp_dst=53",
    "in_port=1,sctp,nw_src=10.0.0.1,nw_dst=10.0.0.2,nw_ttl=64,sctp_src=5,sctp_dst=9",
    "in_port=1,icmp,nw_src=10.0.0.1,nw_dst=10.0.0.2,nw_ttl=64,icmp_type=8,icmp_code=0",
    "in_port=1,icmp6,ipv6_src=2001::1,ipv6_dst=2001::2,nw_ttl=64,icmp_type=135,icmp_code=0,nd_target=2001::5,nd_sll=50:54:00:00:00:01",
    "in_port=1,icmp6,ipv6_src=2001::1,ipv6_dst=2001::2,nw_ttl=64,icmp_type=136,icmp_code=0,nd_target=2001::5,nd_tll=50:54:00:00:00:01",
    "in_port=1,udp6,ipv6_src=2001::1,ipv6_dst=2001::2,nw_ttl=64,udp_src=1,udp_dst=2",
    "in_port=1,arp,arp_spa=10.0.0.1,arp_tpa=10.0.0.2,arp_op=1,arp_sha=50:54:00:00:00:01",
    "in_port=1,mpls,mpls_label=5,mpls_tc=1,mpls_ttl=64,mpls_bos=1",
    "in_port=1,ct_state=+trk+est,ip,nw_src=10.0.0.1,nw_dst=10.0.0.2",
];

#[test]
fn set_field_and_move_on_many_fields_like_the_reference() {
    let mut setup = String::new();
    let mut rng = Rng(0x9e0_0003);
    // One pipeline per field: set it, move it into a register (or a
    // register into it), output; the traces cover every class.
    for (k, (field, value, pre)) in SET_FIELDS.iter().enumerate() {
        let table = k + 1;
        setup.push_str(&format!(
            "$ ovs-ofctl add-flow br0 'table={table},priority=2,{pre}actions=set_field:{value}->{field},resubmit(,{}),output:2'\n",
            table + 100
        ));
        setup.push_str(&format!(
            "$ ovs-ofctl add-flow br0 'table={table},priority=1,actions=output:3'\n"
        ));
        setup.push_str(&format!(
            "$ ovs-ofctl add-flow br0 'table={},priority=2,{pre}actions=move:{field}[]->NXM_NX_XXREG0[],output:4'\n",
            table + 100
        ));
    }
    setup.push_str("$ ovs-ofctl dump-flows br0 table=1\n");
    for (k, _) in SET_FIELDS.iter().enumerate() {
        // Table 0 dispatches on reg9 to the field's table.
        setup.push_str(&format!(
            "$ ovs-ofctl add-flow br0 'table=0,reg9={},actions=resubmit(,{})'\n",
            k + 1,
            k + 1
        ));
    }
    let mut flows = Vec::new();
    for (k, (_, _, pre)) in SET_FIELDS.iter().enumerate() {
        // The flows of the field's class (two of them).
        let class: Vec<&&str> = TRACE_FLOWS
            .iter()
            .filter(|f| {
                let p = pre.trim_end_matches(',');
                p.is_empty()
                    || p.split(',').all(|m| {
                        let m = m.split('=').next().unwrap_or(m);
                        f.contains(m)
                    })
            })
            .collect();
        for _ in 0..2 {
            let f = if class.is_empty() {
                TRACE_FLOWS[rng.below(TRACE_FLOWS.len() as u64) as usize]
            } else {
                class[rng.below(class.len() as u64) as usize]
            };
            flows.push(format!("reg9={},{f}", k + 1));
        }
    }
    check("pl-feat-fields", &on_bridge(&[&setup, &traces(&flows)]));
}

#[test]
fn tlv_map_multipath_bundle_and_fin_timeout_like_the_reference() {
    let setup = r#"$ ovs-ofctl add-tlv-map br0 '{class=0xffff,type=0,len=4}->tun_metadata0,{class=0xffff,type=1,len=8}->tun_metadata1'
$ ovs-ofctl dump-tlv-map br0
$ ovs-ofctl add-flow br0 'table=0,tun_metadata0=0x11,actions=move:tun_metadata0[0..15]->reg0[0..15],resubmit(,1)'
$ ovs-ofctl add-flow br0 'table=0,priority=0,actions=resubmit(,1)'
$ ovs-ofctl add-flow br0 'table=1,tun_metadata0=0x12,actions=output:2'
$ ovs-ofctl add-flow br0 'table=1,reg0=0x11,actions=output:3'
$ ovs-appctl ofproto/trace br0 in_port=1,tun_id=1,tun_src=1.1.1.1,tun_dst=2.2.2.2,tun_metadata0=0x11
$ ovs-appctl ofproto/trace br0 in_port=1
$ ovs-ofctl del-flows br0
$ ovs-ofctl del-tlv-map br0 '{class=0xffff,type=1,len=8}->tun_metadata1'
$ ovs-ofctl dump-tlv-map br0
$ ovs-ofctl add-flow br0 'table=0,in_port=1,actions=multipath(eth_src,50,modulo_n,3,0,reg0[0..1]),resubmit(,1)'
$ ovs-ofctl add-flow br0 'table=0,in_port=2,actions=multipath(symmetric_l4,7,hash_threshold,4,0,reg0[0..1]),resubmit(,1)'
$ ovs-ofctl add-flow br0 'table=0,in_port=3,actions=multipath(symmetric_l3l4+udp,9,iter_hash,5,3,reg0[0..2]),resubmit(,1)'
$ ovs-ofctl add-flow br0 'table=0,in_port=4,actions=multipath(nw_src,1,hrw,2,0,reg0[0]),multipath(symmetric_l3,2,hrw,3,0,reg1[0..1]),resubmit(,1)'
$ ovs-ofctl add-flow br0 'table=0,in_port=5,actions=bundle(symmetric_l3l4+udp,0,active_backup,ofport,members:3,2,1),bundle_load(eth_src,3,hrw,ofport,reg2[0..15],members:4,5)'
$ ovs-ofctl add-flow br0 'table=0,in_port=5,tcp,actions=bundle(nw_src,0,hrw,ofport,members:1,2,3,4),fin_timeout(idle_timeout=5,hard_timeout=9)'
$ ovs-ofctl add-flow br0 'table=1,reg0=0,actions=output:1'
$ ovs-ofctl add-flow br0 'table=1,reg0=1,actions=output:2'
$ ovs-ofctl add-flow br0 'table=1,reg0=2,actions=output:3'
$ ovs-ofctl add-flow br0 'table=1,reg0=3,actions=output:4'
$ ovs-ofctl add-flow br0 'table=1,priority=0,actions=output:5'
"#;
    let flows = generate(0x9e0_0004, 30, |rng| {
        let port = 1 + rng.below(5);
        format!(
            "in_port={port},dl_src=50:54:00:00:00:{:02x},{},nw_src=10.0.0.{},nw_dst=10.0.0.{},tp_src={},tp_dst={}",
            1 + rng.below(9),
            rng.pick(&["tcp", "udp", "sctp"]),
            rng.below(9),
            rng.below(9),
            rng.below(65536),
            rng.below(65536)
        )
    });
    let after = r#"$ ovs-appctl netdev-dummy/receive p5 'in_port(5),eth(src=50:54:00:00:00:05,dst=50:54:00:00:00:09),eth_type(0x0800),ipv4(src=10.0.0.1,dst=10.0.0.2,proto=6,tos=0,ttl=64,frag=no),tcp(src=1,dst=80),tcp_flags(fin)'
$ wait-until ovs-appctl dpctl/dump-flows ~ in_port(5)
$ ovs-appctl revalidator/wait
$ ovs-ofctl dump-flows br0 in_port=5
"#;
    check("pl-feat-tlv", &on_bridge(&[setup, &traces(&flows), after]));
}

#[test]
fn normal_vlan_modes_aging_and_fdb_like_the_reference() {
    let s = r#"$ ovs-vsctl add-br br0 -- set bridge br0 fail-mode=standalone other-config:mac-aging-time=1000 other-config:mac-table-size=4
$ ovs-vsctl add-port br0 p1 -- set interface p1 ofport_request=1
$ ovs-vsctl add-port br0 p2 tag=10 vlan_mode=native-tagged trunks=10,20 -- set interface p2 ofport_request=2
$ ovs-vsctl add-port br0 p3 tag=20 vlan_mode=dot1q-tunnel -- set interface p3 ofport_request=3
$ ovs-vsctl add-port br0 p4 tag=10 vlan_mode=native-untagged trunks=20 -- set interface p4 ofport_request=4
$ ovs-vsctl add-port br0 p5 tag=20 vlan_mode=access -- set interface p5 ofport_request=5
$ ovs-appctl ofproto/trace br0 in_port=1,dl_vlan=10,dl_src=50:54:00:00:00:01,dl_dst=ff:ff:ff:ff:ff:ff
$ ovs-appctl ofproto/trace br0 in_port=2,dl_src=50:54:00:00:00:02,dl_dst=ff:ff:ff:ff:ff:ff
$ ovs-appctl ofproto/trace br0 in_port=2,dl_vlan=20,dl_src=50:54:00:00:00:02,dl_dst=ff:ff:ff:ff:ff:ff
$ ovs-appctl ofproto/trace br0 in_port=3,dl_vlan=30,dl_src=50:54:00:00:00:03,dl_dst=ff:ff:ff:ff:ff:ff
$ ovs-appctl ofproto/trace br0 in_port=3,dl_src=50:54:00:00:00:03,dl_dst=ff:ff:ff:ff:ff:ff
$ ovs-appctl ofproto/trace br0 in_port=4,dl_src=50:54:00:00:00:04,dl_dst=ff:ff:ff:ff:ff:ff
$ ovs-appctl ofproto/trace br0 in_port=4,dl_vlan=20,dl_src=50:54:00:00:00:04,dl_dst=ff:ff:ff:ff:ff:ff
$ ovs-appctl ofproto/trace br0 in_port=1,dl_vlan=20,dl_src=50:54:00:00:00:01,dl_dst=ff:ff:ff:ff:ff:ff
$ ovs-appctl ofproto/trace br0 in_port=1,dl_vlan=20,dl_src=50:54:00:00:00:01,dl_dst=50:54:00:00:00:05
$ ovs-appctl netdev-dummy/receive p1 'in_port(1),eth(src=50:54:00:00:00:11,dst=ff:ff:ff:ff:ff:ff),eth_type(0x8100),vlan(vid=10,pcp=0),encap(eth_type(0x1234))'
$ ovs-appctl netdev-dummy/receive p2 'in_port(2),eth(src=50:54:00:00:00:12,dst=50:54:00:00:00:11),eth_type(0x1234)'
$ ovs-appctl netdev-dummy/receive p3 'in_port(3),eth(src=50:54:00:00:00:13,dst=ff:ff:ff:ff:ff:ff),eth_type(0x8100),vlan(vid=5,pcp=0),encap(eth_type(0x1234))'
$ ovs-appctl netdev-dummy/receive p4 'in_port(4),eth(src=50:54:00:00:00:14,dst=ff:ff:ff:ff:ff:ff),eth_type(0x1234)'
$ ovs-appctl netdev-dummy/receive p5 'in_port(5),eth(src=50:54:00:00:00:15,dst=ff:ff:ff:ff:ff:ff),eth_type(0x1234)'
$ ovs-appctl netdev-dummy/receive p1 'in_port(1),eth(src=50:54:00:00:00:16,dst=ff:ff:ff:ff:ff:ff),eth_type(0x8100),vlan(vid=20,pcp=0),encap(eth_type(0x1234))'
$ wait-until ovs-appctl dpctl/dump-flows ~ src=50:54:00:00:00:16
$ wait-until ovs-appctl dpctl/dump-flows ~ src=50:54:00:00:00:15
$ wait-until ovs-appctl dpctl/dump-flows ~ src=50:54:00:00:00:14
$ wait-until ovs-appctl dpctl/dump-flows ~ src=50:54:00:00:00:13
$ wait-until ovs-appctl dpctl/dump-flows ~ src=50:54:00:00:00:12
$ ovs-appctl revalidator/wait
$ ovs-appctl fdb/show br0
$ ovs-appctl fdb/stats-show br0
$ ovs-appctl ofproto/trace br0 in_port=5,dl_src=50:54:00:00:00:15,dl_dst=50:54:00:00:00:16
$ ovs-appctl ofproto/trace br0 in_port=1,dl_vlan=10,dl_src=50:54:00:00:00:11,dl_dst=50:54:00:00:00:12
$ ovs-appctl fdb/flush br0
$ ovs-appctl fdb/show br0
$ ovs-appctl fdb/stats-show br0
$ ovs-appctl fdb/stats-clear br0
$ ovs-appctl fdb/stats-show br0
$ ovs-vsctl set bridge br0 other-config:mac-table-size=1000 other-config:mac-aging-time=300
$ ovs-appctl fdb/show br1
$ ovs-appctl fdb/flush
"#;
    check("pl-feat-normal", s);
}
