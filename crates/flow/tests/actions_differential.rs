//! Differential test of the actions text and wire codec against the
//! reference `ovs-ofctl parse-flow` (Debian's Open vSwitch 3.1): for each
//! flow, in OpenFlow 1.0 and 1.3, either both fail with the same message
//! or both print the same actions after a wire round trip (parse, check,
//! encode, decode, format).  Skips when /usr/bin/ovs-ofctl is absent.

use flow::actions::{
    decode_instructions, encode_instructions, format_actions, parse_flow_actions, OfpVersion,
};
use flow::flow_str::{parse_ofp_str_with_warnings, FlowModCommand, FlowStrKind};
use flow::Protocols;
use std::process::Command;

const OFCTL: &str = "/usr/bin/ovs-ofctl";

/// `match,actions=...` flows (the match part may be empty).
const FLOWS: &[&str] = &[
    "actions=output:1,NORMAL,FLOOD,ALL,LOCAL,IN_PORT,in_port,drop",
    "actions=drop",
    "actions=5",
    "actions=controller",
    "actions=controller:100",
    "actions=controller(max_len=100)",
    "actions=controller(reason=no_match,id=3,meter_id=5)",
    "actions=controller(userdata=01.02.03,pause)",
    "actions=output:CONTROLLER",
    "actions=enqueue(1,2)",
    "actions=enqueue:IN_PORT:3",
    "actions=group:3",
    "actions=resubmit(,2)",
    "actions=resubmit(1)",
    "actions=resubmit(1,2,ct)",
    "ip,actions=resubmit(1,2,ct)",
    "actions=resubmit:IN_PORT",
    "actions=mod_vlan_vid:9,mod_vlan_pcp:3",
    "actions=set_vlan_vid:9",
    "dl_vlan=5,actions=set_vlan_vid:9",
    "actions=mod_vlan_vid:4096",
    "actions=strip_vlan",
    "dl_vlan=5,actions=pop_vlan",
    "actions=push_vlan:0x8100",
    "actions=mod_dl_src:00:11:22:33:44:55,mod_dl_dst:10:20:30:40:50:60",
    "ip,actions=mod_nw_src:1.2.3.4,mod_nw_dst:5.6.7.8,mod_nw_tos:48,mod_nw_ecn:2,mod_nw_ttl:9",
    "actions=mod_nw_src:1.2.3.4",
    "tcp,actions=mod_tp_src:80,mod_tp_dst:443",
    "actions=mod_tp_src:80",
    "actions=set_field:1->reg0",
    "actions=set_field:0x1/0x1->reg0",
    "actions=set_field:00:11:22:33:44:55->eth_src",
    "ip,actions=set_field:1.2.3.4->ip_src",
    "actions=set_field:1.2.3.4->ip_src",
    "actions=set_field:1->xxreg0",
    "actions=load:1->reg0,load:0x123456789abcdef0123->xxreg0[]",
    "actions=load:5->reg0[0..1]",
    "actions=move:reg0->reg1,move:NXM_OF_ETH_SRC[]->NXM_OF_ETH_DST[]",
    "actions=move:reg0[]->reg1[0..3]",
    "actions=push:reg0[1..4],pop:NXM_NX_REG1[]",
    "ip,actions=dec_ttl,dec_ttl(1,2,3)",
    "actions=dec_ttl",
    "mpls,actions=set_mpls_label:5,set_mpls_tc:3,set_mpls_ttl:4,dec_mpls_ttl",
    "actions=push_mpls:0x8847",
    "mpls,actions=pop_mpls:0x0800",
    "actions=set_tunnel:5,set_tunnel:0x100000000,set_tunnel64:7",
    "actions=set_queue:3,pop_queue",
    "tcp,actions=fin_timeout(idle_timeout=5,hard_timeout=9)",
    "tcp,actions=push_mpls:0x8847,fin_timeout(idle_timeout=5)",
    "actions=note:01.02.03,note:",
    "actions=exit",
    "actions=conjunction(1,1/2)",
    "actions=conjunction(1,2/2),output:1",
    "actions=multipath(eth_src,50,hrw,12,0,reg0[0..3])",
    "actions=bundle(eth_src,0,active_backup,ofport,members:1,2)",
    "actions=bundle_load(symmetric_l4,60,hrw,ofport,NXM_NX_REG0[],members:4,8)",
    "actions=sample(probability=1)",
    "actions=sample(probability=12345,collector_set_id=23456,obs_domain_id=34567,obs_point_id=45678,sampling_port=56789,egress)",
    "actions=clone(output:1,clone(output:2))",
    "actions=check_pkt_larger(100)->reg0[1],output:2",
    "actions=output(port=1,max_len=100)",
    "actions=output:reg0[0..15]",
    "actions=ct_clear",
    "ip,actions=ct(commit,zone=5,table=3,alg=ftp,nat(src=1.2.3.4),exec(set_field:1->ct_mark))",
    "tcp,actions=ct(commit,zone=5,table=3,alg=ftp,nat(src=1.2.3.4),exec(set_field:1->ct_mark))",
    "ip,actions=ct(commit,force,zone=NXM_NX_REG0[0..15])",
    "ip,actions=ct(nat)",
    "ip,actions=ct(commit,nat(dst=10.0.0.128-10.0.0.254:80-90,hash))",
    "ipv6,actions=ct(commit,nat(src=[fe80::1]-[fe80::2]:255-4096,random))",
    "ip,actions=ct(exec(output:1))",
    "actions=ct(commit)",
    "actions=learn(table=2,idle_timeout=10,hard_timeout=20,fin_idle_timeout=2,fin_hard_timeout=4,priority=80,cookie=0x123456789abcdef0,NXM_OF_VLAN_TCI[0..11],NXM_OF_ETH_DST[]=NXM_OF_ETH_SRC[],output:NXM_OF_IN_PORT[])",
    "actions=learn(send_flow_rem,delete_learned,cookie=1,table=3,priority=5,idle_timeout=3,limit=5,result_dst=reg0[1],eth_dst=eth_src,reg0[1..3]=5,load:reg1->reg2[],load:7->reg3[0..5],output:in_port)",
    "actions=learn(table=1,eth_type=0x800,nw_src=1.2.3.4,in_port=5,NXM_NX_REG0[]=NXM_NX_REG1[])",
    "actions=learn(ip_src=1.2.3.4)",
    "actions=learn(foo=1)",
    "actions=goto_table:1",
    "actions=output:1,goto_table:2",
    "actions=clear_actions",
    "actions=write_actions(output:1)",
    "actions=write_metadata:1/3",
    "actions=meter:1",
    "actions=goto_table:1,output:1",
    "actions=meter:1,meter:2",
    "actions=apply_actions(output:1)",
    "actions=write_actions(goto_table:1)",
    "actions=drop,output:1",
    "actions=fooaction",
    "actions=encap(ethernet)",
    "actions=encap(nsh(md_type=2,tlv(0x1000,10,0x12345678)))",
    "actions=decap(packet_type(ns=0,type=0x800))",
    "actions=delete_field:tun_metadata10",
    "actions=delete_field:reg0",
    "actions=nat(src=1.2.3.4)",
    "dl_vlan=5,actions=set_field:4->vlan_vid,set_field:3->vlan_pcp",
    "vlan_tci=0x1000/0x1000,actions=set_field:0x1004->vlan_vid",
    "ip,actions=set_field:32->ip_dscp,set_field:0x80->nw_tos,set_field:2->ip_ecn,set_field:9->nw_ttl",
    "tcp,actions=set_field:80->tcp_src,set_field:81->tcp_dst",
    "udp,actions=set_field:80->udp_src,mod_tp_dst:99",
    "sctp,actions=mod_tp_src:80",
    "mpls,actions=set_field:5->mpls_label,set_field:3->mpls_tc,set_field:9->mpls_ttl",
    "actions=set_field:0x1234->tun_id",
    "actions=set_field:0x1234/0xffff->tun_id",
    "actions=set_field:00:11:22:33:44:55/ff:ff:ff:00:00:00->eth_dst",
    "actions=set_field:1->metadata",
    "actions=set_field:5->pkt_mark,set_field:0xfedc->reg15",
    "tcp,actions=move:tcp_flags[]->reg0[0..11]",
    "actions=move:in_port_oxm[]->reg0[]",
    "actions=output:tun_metadata3[0..15]",
    "actions=learn(output:OXM_OF_IN_PORT[])",
    "actions=learn(table=1, in_port=1, load:OXM_OF_IN_PORT[]->NXM_NX_REG1[], load:0xfffffffe->OXM_OF_IN_PORT[])",
    "actions=sample(probability=65535,collector_set_id=1,obs_domain_id=2,obs_point_id=3,ingress)",
    "ip,actions=dec_ttl(0),dec_ttl(0,1)",
    "actions=note:00.11.22.33.44.55.66.77.88.99.aa.bb.cc.dd.ee.ff.00",
    "actions=bundle(symmetric_l3l4+udp,0,hrw,ofport,slaves:1,2,3)",
    "actions=bundle(nw_src,0,active_backup,ofport,members:)",
    "actions=write_actions(set_field:00:11:22:33:44:55->eth_src,output:2),goto_table:3",
    "actions=write_actions(set_queue:1,group:3)",
    "actions=write_actions(learn(table=1))",
    "ip,actions=ct(commit,exec(load:0x1->NXM_NX_CT_LABEL[64..127],set_field:0x5/0xff->ct_mark))",
    "ip,actions=ct(commit,exec(set_field:1->reg0))",
    "ip,actions=ct(table=255)",
    "ip,actions=ct(alg=tftp)",
    "udp,actions=ct(alg=tftp)",
    "actions=controller(id=1)",
    "actions=controller(reason=invalid_ttl,max_len=0)",
    "actions=controller(reason=group,pause,meter_id=1)",
    "actions=enqueue(LOCAL,5),enqueue(9,1)",
    "actions=meter:1,output:1",
    "actions=meter:0",
    "actions=resubmit(IN_PORT,3),resubmit(LOCAL,,ct)",
    "actions=clone(ct_clear,resubmit(,2))",
    "actions=output:4294967294",
    "actions=output:0",
    "actions=check_pkt_larger(1500)->NXM_NX_XXREG1[4]",
    "actions=push_mpls:0x8848,pop_mpls:0x8847",
    "actions=exit,exit",
    "actions=multipath(symmetric_l3,1024,iter_hash,5000,5050,reg0[0..12])",
];

fn upstream(version: &str, flow: &str) -> Result<String, String> {
    let out = Command::new(OFCTL)
        .args(["-O", version, "parse-flow", flow])
        .output()
        .expect("run ovs-ofctl");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        let line = stderr
            .lines()
            .find(|l| l.starts_with("ovs-ofctl: "))
            .unwrap_or("");
        return Err(line.trim_start_matches("ovs-ofctl: ").to_string());
    }
    let line = stdout
        .lines()
        .find(|l| l.contains(" actions="))
        .unwrap_or("");
    let acts = &line[line.find(" actions=").map(|i| i + 9).unwrap_or(line.len())..];
    if acts.starts_with("***decode error") || stdout.contains("***decode error") {
        return Err("decode error".into());
    }
    Ok(acts.to_string())
}

fn ours(version: OfpVersion, protos: Protocols, flow: &str) -> Result<String, String> {
    let mut warnings = Vec::new();
    let fm = parse_ofp_str_with_warnings(
        flow,
        FlowStrKind::FlowMod(FlowModCommand::Add),
        None,
        &mut warnings,
    )?;
    let mut usable = fm.usable_protocols;
    let text = fm.actions.unwrap_or_default();
    let acts = parse_flow_actions(
        &text,
        &fm.match_,
        fm.table_id,
        None,
        &mut warnings,
        &mut usable,
    )?;
    if (usable & protos).is_empty() {
        return Err("no usable protocol".into());
    }
    let bytes = encode_instructions(&acts, version);
    let back = decode_instructions(&bytes, version).map_err(|_| "decode error".to_string())?;
    Ok(format_actions(&back))
}

#[test]
fn actions_agree_with_reference() {
    if !std::path::Path::new(OFCTL).exists() {
        eprintln!("skipping: {OFCTL} not installed");
        return;
    }
    let mut failures = Vec::new();
    for (vname, version, protos) in [
        ("OpenFlow10", OfpVersion::Of10, Protocols::OF10_ANY),
        ("OpenFlow11", OfpVersion::Of11, Protocols::OF11_STD),
        ("OpenFlow12", OfpVersion::Of12, Protocols::OF12_OXM),
        ("OpenFlow13", OfpVersion::Of13, Protocols::OF13_OXM),
        ("OpenFlow14", OfpVersion::Of14, Protocols::OF14_OXM),
        ("OpenFlow15", OfpVersion::Of15, Protocols::OF15_OXM),
    ] {
        for flow in FLOWS {
            let want = upstream(vname, flow);
            let got = ours(version, protos, flow);
            let same = match (&want, &got) {
                (Ok(a), Ok(b)) => a == b,
                (Err(a), Err(b)) => {
                    a == b
                        || (a.is_empty() && !b.is_empty())
                        || a == "no usable protocol" && b == "no usable protocol"
                }
                _ => false,
            };
            if !same {
                failures.push(format!(
                    "{vname} {flow}\n  upstream: {want:?}\n  ours:     {got:?}"
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} differences:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
