//! Differential tests of the meter table: meter-mods, statistics,
//! configurations, features, and errors.

mod core_common;
use core_common::Pair;

#[test]
fn meters() {
    let Some(p) = Pair::start("core-meters") else {
        return;
    };
    let o = ["-O", "OpenFlow13"];
    let run = |args: &[&str]| {
        let mut a = o.to_vec();
        a.extend_from_slice(args);
        p.same_unordered(&a);
    };
    run(&["add-meter", "meter=1,kbps,band=type=drop,rate=1000"]);
    run(&[
        "add-meter",
        "meter=2,pktps,burst,stats,bands=type=drop,rate=10,burst_size=20",
    ]);
    run(&[
        "add-meter",
        "meter=3,kbps,band=type=dscp_remark,rate=100,prec_level=1",
    ]);
    run(&["add-meter", "meter=1,kbps,band=type=drop,rate=1000"]);
    run(&["mod-meter", "meter=7,kbps,band=type=drop,rate=1000"]);
    run(&["mod-meter", "meter=1,pktps,band=type=drop,rate=5"]);
    run(&["add-meter", "meter=300000,kbps,band=type=drop,rate=1000"]);
    run(&["dump-meters"]);
    run(&["dump-meter", "meter=2"]);
    run(&["meter-stats"]);
    run(&["meter-stats", "meter=1"]);
    run(&["meter-features"]);
    run(&["add-flow", "actions=meter:1,output:1"]);
    run(&["add-flow", "priority=2,actions=meter:2,output:1"]);
    run(&["meter-stats"]);
    run(&["del-meter", "meter=1"]);
    run(&["dump-flows"]);
    run(&["dump-meters"]);
    run(&["del-meters"]);
    run(&["dump-meters"]);
    run(&["dump-flows"]);
    for v in ["OpenFlow14", "OpenFlow15"] {
        p.same(&[
            "-O",
            v,
            "add-meter",
            "meter=4,kbps,band=type=drop,rate=1000",
        ]);
        p.same_unordered(&["-O", v, "dump-meters"]);
        p.same_unordered(&["-O", v, "meter-stats"]);
        p.same(&["-O", v, "del-meter", "meter=4"]);
    }
}
