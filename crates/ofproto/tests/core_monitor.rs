//! Differential test of flow monitor requests: `ovs-ofctl monitor SWITCH
//! watch:` gets the same initial flows from both switches. (Later updates
//! are what a connection manager sends; `ovs-ofctl monitor` only prints
//! them reliably on a terminal, so they are checked by unit tests.)

mod core_common;
use core_common::Pair;
use std::time::Duration;

/// `ovs-ofctl monitor` writes its output when it exits: stop it with
/// SIGTERM (it flushes) and wait.
fn stop(child: &mut std::process::Child) {
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let _ = child.wait();
}

#[test]
fn monitors_get_the_same_initial_flows() {
    let Some(p) = Pair::start("core-monitor") else {
        return;
    };
    p.same_with_file(
        &["add-flows"],
        "priority=3,ip,actions=drop\ntable=2,cookie=0x5,arp,actions=output:1\ntcp,tp_dst=80,actions=output:2\n",
    );
    for spec in [
        "watch:",
        "watch:!initial",
        "watch:table=2",
        "watch:out_port=2,!actions",
    ] {
        let mut outputs = Vec::new();
        for ours in [false, true] {
            let (mut child, path) = p.spawn_ofctl(
                ours,
                &["monitor", spec],
                if ours { "ours.mon" } else { "ref.mon" },
            );
            // The initial reply comes right after the request.
            let _ = p.reference.wait_until(Duration::from_secs(3), || {
                std::fs::metadata(&path).map_or(false, |m| m.len() > 0)
            });
            std::thread::sleep(Duration::from_millis(300));
            stop(&mut child);
            let out = std::fs::read_to_string(&path).unwrap_or_default();
            outputs.push(
                out.lines()
                    .filter(|l| !l.contains("fatal_signal"))
                    .collect::<Vec<_>>()
                    .join("\n"),
            );
        }
        assert!(
            outputs[0].starts_with("NXST_FLOW_MONITOR reply"),
            "monitor {spec}: {}",
            outputs[0]
        );
        assert_eq!(outputs[0], outputs[1], "monitor {spec}");
    }
}
