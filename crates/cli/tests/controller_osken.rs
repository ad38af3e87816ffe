//! A real controller, written with os-ken (tests/data/controller/
//! l2_learning.py, an L2-learning switch over OpenFlow 1.3), drives the
//! reference ovs-vswitchd and ours over TCP: packets injected with
//! `netdev-dummy/receive` miss, reach the controller as packet-ins, the
//! controller installs flows and sends packet-outs. What leaves each port
//! (tx_pcap), what the controller saw, the flows it left and the
//! Controller rows must be the same on both switches.
//!
//! Skips with a message when os-ken (`pip install os-ken`) or the
//! reference is absent.

mod controller_common;

use controller_common::*;
use std::collections::BTreeMap;
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use testkit::Sandbox;

const N_PORTS: u16 = 3;
const BCAST: &str = "ffffffffffff";

/// The controller process, killed when dropped.
struct App(Child);

impl Drop for App {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn osken_missing() -> bool {
    !Command::new("python3")
        .args(["-c", "import os_ken"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn app_script() -> String {
    format!(
        "{}/tests/data/controller/l2_learning.py",
        env!("CARGO_MANIFEST_DIR")
    )
}

/// (in port, source MAC number, destination MAC hex) of each frame.
fn script() -> Vec<(u16, u8, String)> {
    vec![
        (1, 1, mac(2)),
        (2, 2, mac(1)),
        (3, 3, mac(2)),
        (2, 2, BCAST.to_string()),
        (1, 1, mac(2)),
        (3, 3, mac(1)),
        (1, 1, mac(3)),
        (2, 4, mac(3)),
        (3, 3, mac(4)),
        (1, 5, BCAST.to_string()),
        (2, 2, mac(5)),
    ]
}

fn log_lines(path: &str) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

/// Blanks what differs between runs in `ovs-vsctl list controller`.
fn normalize_controller(text: &str, port: u16) -> String {
    text.lines()
        .filter(|l| !l.starts_with("_uuid"))
        .map(|l| {
            let l = l.replace(&port.to_string(), "PORT");
            if l.starts_with("status") {
                l.split(", ")
                    .map(|kv| match kv.split_once('=') {
                        Some((k, _)) if k.contains("sec_since") => format!("{k}=?"),
                        _ => kv.to_string(),
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            } else {
                l
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

struct Run {
    sent: Vec<Vec<String>>,
    log: Vec<String>,
    flows: String,
    controller: String,
}

fn run(name: &str, stack: testkit::Stack) -> Run {
    let sb = Sandbox::start_stack(&format!("ctl-osken-{name}"), stack, true);
    let port = testkit::free_tcp_port();
    let log = sb.path("controller.log");
    let _app = App(Command::new("python3")
        .args([&app_script(), &port.to_string(), &log])
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(sb.path("controller.err")).unwrap())
        .spawn()
        .unwrap());
    // The controller listens before the switch is told about it.
    assert!(
        sb.wait_until(Duration::from_secs(20), || {
            std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
        }),
        "{name}: the os-ken controller did not start: {}",
        std::fs::read_to_string(sb.path("controller.err")).unwrap_or_default()
    );
    let target = format!("tcp:127.0.0.1:{port}");
    dummy_bridge(
        &sb,
        N_PORTS,
        &[
            "--",
            "set-controller",
            "br0",
            &target,
            "--",
            "set-fail-mode",
            "br0",
            "secure",
        ],
    );
    assert!(
        sb.wait_until(Duration::from_secs(20), || log_lines(&log).len() == 1),
        "{name}: the switch did not connect to the controller"
    );
    // The controller's model, to know what to wait for after each frame.
    let mut learned: BTreeMap<String, u16> = BTreeMap::new();
    let (mut n_out, mut n_pin) = (0, 1);
    for (i, (in_port, src, dst)) in script().into_iter().enumerate() {
        let src = mac(src);
        if let Some(_out) = learned.get(&dst) {
            n_out += 1;
        } else {
            learned.insert(src.clone(), in_port);
            n_pin += 1;
            n_out += if learned.contains_key(&dst) {
                1
            } else {
                usize::from(N_PORTS) - 1
            };
        }
        receive(&sb, &format!("p{in_port}"), &frame(&dst, &src, i as u8));
        assert!(
            sb.wait_until(Duration::from_secs(10), || log_lines(&log).len() >= n_pin
                && n_sent(&sb, N_PORTS) >= n_out),
            "{name}: frame {i} did not go through (packet-ins {:?}, frames sent\n{})",
            log_lines(&log),
            show(&sent(&sb, N_PORTS))
        );
    }
    let flows = sb
        .ofctl("br0", &["-O", "OpenFlow13", "--no-stats", "dump-flows"])
        .unwrap();
    // The switch writes the connection's state back (the reference only
    // every few seconds).
    let mut controller = String::new();
    sb.wait_until(Duration::from_secs(20), || {
        controller = sb.vsctl(&["list", "controller"]).unwrap();
        controller.contains("is_connected        : true")
            && controller.contains("sec_since_connect")
    });
    let controller = normalize_controller(&controller, port);
    Run {
        sent: sent(&sb, N_PORTS),
        log: log_lines(&log)
            .into_iter()
            .map(|l| {
                if l.starts_with("connected") {
                    "connected".into()
                } else {
                    l
                }
            })
            .collect(),
        flows,
        controller,
    }
}

#[test]
fn osken_l2_learning_controller_drives_both_switches_alike() {
    let test = "osken_l2_learning_controller_drives_both_switches_alike";
    if testkit::skip_without_upstream(test) {
        return;
    }
    if osken_missing() {
        eprintln!("{test}: skipped: os-ken is not installed (pip install os-ken)");
        return;
    }
    let [(rn, rs), (on, os)] = stacks();
    let want = std::thread::spawn(move || run(rn, rs));
    let got = run(on, os);
    let want = want.join().unwrap();
    assert_eq!(want.log, got.log, "packet-ins differ");
    assert!(
        want.sent == got.sent,
        "frames sent differ\n--- reference ---\n{}--- ferrovs ---\n{}",
        show(&want.sent),
        show(&got.sent)
    );
    assert_eq!(want.flows, got.flows, "flows differ");
    assert_eq!(want.controller, got.controller, "Controller rows differ");
}
