//! `time/stop` and `time/warp` (the dummy-mode clock commands) in our
//! ovs-vswitchd, compared with the reference daemon: the clock stopped,
//! flows with idle and hard timeouts added, then warps; after each one the
//! flow table (with its durations and ages, exact since the clock only
//! moves by warps) must be the same, so the idle-timeout flow expires
//! after the same warp on both, and the hard-timeout one after a stepped
//! warp.  The commands' answers and errors are compared too.

use testkit::{Sandbox, Stack};

fn our_daemons() -> Stack {
    Stack::ferrovs_daemons(env!("CARGO_BIN_EXE_ferrovs"))
}

/// One step of the scenario: an appctl command, or `ofctl:` and an
/// ovs-ofctl command line run against br0.
const STEPS: &[&str] = &[
    "time/stop",
    "ofctl:add-flow idle_timeout=5,priority=5,ip,actions=drop",
    "ofctl:add-flow hard_timeout=10,priority=6,arp,actions=drop",
    "ofctl:add-flow priority=7,actions=drop",
    "ofctl:dump-flows --rsort",
    "time/warp 3000",
    "ofctl:dump-flows --rsort",
    // 6 s without a packet: past the idle timeout.
    "time/warp 3000",
    "ofctl:dump-flows --rsort",
    // In steps: 11 s, past the hard timeout.
    "time/warp 5000 1000",
    "ofctl:dump-flows --rsort",
    "time/warp 2500 1000",
    "ofctl:dump-flows --rsort",
    "time/warp 0",
    "time/warp abc",
    "time/warp -1 100",
    "time/warp 100 0",
    "time/warp 1 2 3",
    "time/warp",
    "time/stop extra",
];

/// The outcome of every step, as text (status, stdout, stderr).
fn run(sb: &Sandbox) -> Vec<(String, String)> {
    sb.add_dummy_bridge("br0", &["fail-mode=secure"], &[])
        .expect("add-br");
    let ctl = sb.control("ovs-vswitchd");
    let mut out = Vec::new();
    for step in STEPS {
        let o = match step.strip_prefix("ofctl:") {
            Some(cmd) => {
                // The flow text is one argument.
                let (command, rest) = cmd.split_once(' ').unwrap_or((cmd, ""));
                let mut args = vec![command];
                if command == "dump-flows" {
                    args.extend(rest.split(' '));
                    args.swap(0, 1);
                } else if !rest.is_empty() {
                    args.push(rest);
                }
                sb.ofctl_outcome("br0", &args)
            }
            None => {
                let args: Vec<&str> = step.split(' ').collect();
                sb.appctl_outcome(&args)
            }
        };
        out.push((
            step.to_string(),
            format!(
                "[{}]\n{}{}",
                o.status,
                o.stdout,
                o.stderr.replace(&ctl, "<ctl>")
            ),
        ));
    }
    out
}

#[test]
fn time_warp_expires_flows_as_upstream() {
    if testkit::skip_without_upstream("time_warp_expires_flows_as_upstream") {
        return;
    }
    let reference = Sandbox::start_stack("time-ref", Stack::upstream(), true);
    let ours = Sandbox::start_stack("time-our", our_daemons(), true);
    let expected = run(&reference);
    let actual = run(&ours);
    // The scenario means something only if the reference expired the
    // flows where expected.
    let dumps: Vec<&String> = expected
        .iter()
        .filter(|(s, _)| s.starts_with("ofctl:dump"))
        .map(|(_, t)| t)
        .collect();
    assert!(dumps[1].contains("idle_timeout=5"), "{}", dumps[1]);
    assert!(!dumps[2].contains("idle_timeout=5"), "{}", dumps[2]);
    assert!(dumps[2].contains("hard_timeout=10"), "{}", dumps[2]);
    assert!(!dumps[3].contains("hard_timeout=10"), "{}", dumps[3]);
    let differ: Vec<String> = expected
        .iter()
        .zip(&actual)
        .filter(|((_, e), (_, a))| e != a)
        .map(|((s, e), (_, a))| format!("{s}\n--- reference:\n{e}--- ours:\n{a}"))
        .collect();
    assert!(
        differ.is_empty(),
        "{} of {} steps differ:\n{}",
        differ.len(),
        expected.len(),
        differ.join("\n")
    );
}
