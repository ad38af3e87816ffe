//! Patch ports: translation continues in the peer bridge (with the flow's
//! metadata, registers and tunnel cleared), nests the peer's trace under
//! its own `bridge("...")` header, and returns to the first bridge with its
//! own flow; compared with the reference on two bridges.

mod xlate_common;

use xlate_common::{first_diff, PatchPair};

#[test]
fn patch_ports_continue_in_the_peer_like_upstream() {
    let Some(p) = PatchPair::start("xlate-patch") else {
        return;
    };
    p.load(
        0,
        &[
            "in_port=1,actions=load:0x5->NXM_NX_REG0[],mod_dl_src:00:00:00:00:00:aa,output:10,output:2",
            "in_port=2,ip,actions=mod_nw_ttl:9,output:10",
            "in_port=10,actions=output:1",
        ],
    )
    .expect("br0 flows");
    p.load(
        1,
        &[
            "in_port=20,reg0=0,actions=resubmit(,1),output:1",
            "table=1,actions=mod_vlan_vid:7,output:2",
            "in_port=1,actions=output:20",
            "in_port=2,actions=drop",
        ],
    )
    .expect("br1 flows");
    let traces = [
        ("br0", "in_port=1,tcp"),
        ("br0", "in_port=2,ip,nw_ttl=64"),
        ("br1", "in_port=1,udp"),
        ("br1", "in_port=2"),
    ];
    let mut failures = Vec::new();
    for (br, f) in traces {
        let r = p.trace_reference(br, f);
        let o = p.trace_ours(br, f);
        assert!(
            r.contains("bridge(\"br1\")") || br == "br1",
            "{br} {f}: {r}"
        );
        if r != o {
            failures.push(format!(
                "{br} {f}: {}\n--- reference\n{r}\n--- ours\n{o}",
                first_diff(&r, &o)
            ));
        }
    }
    for f in &failures {
        eprintln!("{f}\n");
    }
    assert!(
        failures.is_empty(),
        "{} patch-port traces differ",
        failures.len()
    );
}
