//! `afxdp` interfaces through our daemons: two namespaces attached to a
//! userspace bridge by AF_XDP ports on veths (one in the default
//! `best-effort` mode, which settles on native XDP on a veth, one in
//! `generic` mode) ping each other and carry a short iperf3 TCP and UDP
//! run, also from a third namespace on a system port with offloads on (its
//! super-frames cut into segments before they leave by AF_XDP); a mode the device cannot do (`native-with-zerocopy` on a veth) and
//! a mode that does not exist fail with the reference's Interface `error`
//! and log lines, and leave no XDP program on the device.
//!
//! Needs root, `ip`, `ping`, `iperf3`, `ethtool` and a kernel with AF_XDP;
//! skips with the reason otherwise. The namespaces' veth ends have
//! transmit checksum offload turned off: AF_XDP carries no offload
//! metadata, so a frame with a partial checksum would reach the other side
//! unfinished (upstream's AF_XDP documentation asks the same).

use std::time::Duration;
use testkit::netns::{cmd, iperf3, must, netns_missing, reachable, Net};
use testkit::{Sandbox, Stack};

const FERROVS: &str = env!("CARGO_BIN_EXE_ferrovs");

fn afxdp_missing() -> Option<String> {
    if let Some(why) = netns_missing(&["ping", "iperf3", "ethtool"]) {
        return Some(why);
    }
    // SAFETY: creating and closing a socket has no preconditions.
    let fd = unsafe { libc::socket(44, libc::SOCK_RAW, 0) };
    if fd < 0 {
        return Some(format!(
            "no AF_XDP sockets ({})",
            std::io::Error::last_os_error()
        ));
    }
    // SAFETY: closing the descriptor just made.
    unsafe { libc::close(fd) };
    // An XSKMAP (BPF_MAP_CREATE of type 17, 4-byte keys and values, one
    // entry): containers may refuse BPF.
    let mut attr = [0u32; 32];
    attr[..4].copy_from_slice(&[17, 4, 4, 1]);
    // SAFETY: `attr` is a zeroed `union bpf_attr` of the size passed.
    let map = unsafe { libc::syscall(libc::SYS_bpf, 0, attr.as_mut_ptr(), 128) };
    if map < 0 {
        return Some(format!("no BPF maps ({})", std::io::Error::last_os_error()));
    }
    // SAFETY: closing the descriptor just made.
    unsafe { libc::close(map as i32) };
    None
}

fn log(sb: &Sandbox) -> String {
    std::fs::read_to_string(sb.path("ovs-vswitchd.log")).unwrap_or_default()
}

/// Whether `dev` has an XDP program attached (`ip link` shows `xdp`).
fn has_xdp(dev: &str) -> bool {
    let out =
        String::from_utf8_lossy(&cmd(&["ip", "link", "show", "dev", dev]).stdout).into_owned();
    out.contains(" xdp")
}

#[test]
fn afxdp_ports_carry_traffic() {
    if let Some(why) = afxdp_missing() {
        eprintln!("SKIP afxdp_ports_carry_traffic: {why}");
        return;
    }
    let mut net = Net::new("x");
    let (a, b) = (net.add_ns("A"), net.add_ns("B"));
    let (va, vb) = (net.name("va"), net.name("vb"));
    let br = net.name("br");
    net.remove_on_drop(&br);
    let pa = net.veth(&a, &va, &["10.14.0.1/24"]);
    let pb = net.veth(&b, &vb, &["10.14.0.2/24"]);
    // A third namespace on an ordinary system port, offloads on: its TCP
    // super-frames must be cut into segments on the way out of an afxdp
    // port.
    let c = net.add_ns("C");
    let vc = net.name("vc");
    net.veth(&c, &vc, &["10.14.0.3/24"]);
    for (ns, dev) in [(&a, &pa), (&b, &pb)] {
        must(&["ip", "netns", "exec", ns, "ethtool", "-K", dev, "tx", "off"]);
    }
    let mut sb = Sandbox::start_stack("afxdp", Stack::ferrovs(FERROVS), true);
    sb.add_netdev_bridge(
        &br,
        &[&va, &vb, &vc],
        &[
            "--",
            "set",
            "interface",
            &va,
            "type=afxdp",
            "--",
            "set",
            "interface",
            &vb,
            "type=afxdp",
            "options:xdp-mode=generic",
        ],
    )
    .unwrap_or_else(|e| panic!("{e}\n{}", log(&sb)));
    sb.wait_ofport(&va);
    sb.wait_ofport(&vb);
    for i in [&va, &vb] {
        assert_eq!(
            sb.vsctl(&["get", "interface", i, "error"]).unwrap().trim(),
            "[]"
        );
    }
    let show = sb.appctl(&["dpif/show"]).unwrap();
    assert!(
        show.contains(&format!(
            "{va} 1/1: (afxdp: n_rxq=1, use-need-wakeup=true, xdp-mode=best-effort, xdp-mode-in-use=native)"
        )) || show.contains("xdp-mode=best-effort, xdp-mode-in-use="),
        "{show}"
    );
    assert!(
        show.contains("xdp-mode=generic, xdp-mode-in-use=generic"),
        "{show}"
    );
    let l = log(&sb);
    assert!(
        l.contains(&format!(
            "netdev_afxdp|INFO|{va}: native XDP mode will be in use."
        )),
        "{l}"
    );
    assert!(has_xdp(&va) && has_xdp(&vb), "no XDP program attached");

    assert!(
        reachable(&a, "10.14.0.2", Duration::from_secs(10)),
        "no ping across afxdp ports"
    );
    let tcp = iperf3(&b, &a, "10.14.0.2", None);
    let udp = iperf3(&b, &a, "10.14.0.2", Some("20M"));
    eprintln!("afxdp: TCP {} KB, UDP {} KB in 2 s", tcp / 1024, udp / 1024);
    assert!(tcp > 0, "no TCP across afxdp ports");
    assert!(
        reachable(&c, "10.14.0.2", Duration::from_secs(10)),
        "no ping from a system port"
    );
    let gso = iperf3(&b, &c, "10.14.0.2", None);
    eprintln!(
        "afxdp: TCP from a system port (super-frames cut) {} KB in 2 s",
        gso / 1024
    );
    assert!(gso > 0, "no TCP from a system port to an afxdp port");
    assert!(udp > 0, "no UDP across afxdp ports");
    // Statistics are written back every few seconds.
    let mut stats = String::new();
    let counted = sb.wait_until(Duration::from_secs(15), || {
        stats = sb
            .vsctl(&["get", "interface", &va, "statistics:rx_packets"])
            .unwrap_or_default();
        stats.trim().parse::<u64>().unwrap_or(0) > 0
    });
    assert!(counted, "rx_packets {stats}");
    // Upstream's keys: packets and bytes, and each queue's socket counters.
    let all = sb.vsctl(&["get", "interface", &va, "statistics"]).unwrap();
    let keys: Vec<&str> = all
        .trim()
        .trim_matches(|c| c == '{' || c == '}')
        .split(", ")
        .filter_map(|kv| kv.split('=').next())
        .collect();
    assert_eq!(
        keys,
        [
            "rx_bytes",
            "rx_packets",
            "tx_bytes",
            "tx_packets",
            "xsk_queue_0_rx_dropped",
            "xsk_queue_0_rx_invalid_descs",
            "xsk_queue_0_tx_invalid_descs"
        ],
        "{all}"
    );
    assert_eq!(
        sb.vsctl(&["get", "interface", &va, "link_state"])
            .unwrap()
            .trim(),
        "up"
    );

    // Removing the ports detaches the programs.
    sb.vsctl(&["del-port", &br, &va]).unwrap();
    assert!(
        sb.wait_until(Duration::from_secs(5), || !has_xdp(&va)),
        "XDP program left on {va}"
    );
    sb.stop("ovs-vswitchd");
    drop(net);
}

/// Adds a veth end as an `afxdp` port with `mode` to a fresh bridge of
/// `stack`; returns the Interface `error` and the `netdev_afxdp` log
/// lines (device names and indexes blanked).
fn failing_mode(stack: Stack, tag: &str, mode: &str) -> (String, Vec<String>, bool) {
    let mut net = Net::new(tag);
    let dev = net.name("e");
    net.veth_pair(&dev, None, &format!("{dev}p"), None);
    must(&["ip", "link", "set", &dev, "up"]);
    let br = net.name("br");
    net.remove_on_drop(&br);
    let mut sb = Sandbox::start_stack(tag, stack, true);
    sb.add_netdev_bridge(&br, &[], &[]).unwrap();
    let _ = sb.vsctl_outcome(&[
        "add-port",
        &br,
        &dev,
        "--",
        "set",
        "interface",
        &dev,
        "type=afxdp",
        &format!("options:xdp-mode={mode}"),
    ]);
    // The reference may write the error in a later status pass.
    let mut error = String::new();
    sb.wait_until(Duration::from_secs(5), || {
        error = sb
            .vsctl(&["get", "interface", &dev, "error"])
            .unwrap_or_default()
            .replace(&dev, "DEV");
        error.trim() != "[]"
    });
    // (A failed attempt attaches for a moment, and the switch retries
    // failed interfaces when it reconfigures.)
    let attached = !sb.wait_until(Duration::from_secs(5), || !has_xdp(&dev));
    let lines = log(&sb)
        .lines()
        .filter(|l| l.contains("|netdev_afxdp|") || l.contains("|netdev|WARN"))
        .filter(|l| !l.contains("libbpf") && !l.contains("setrlimit"))
        .filter_map(|l| l.splitn(3, '|').nth(2))
        .map(|l| {
            let l = l.replace(&dev, "DEV");
            match l.find("ifindex ") {
                Some(i) => format!("{}ifindex N", &l[..i]),
                None => l,
            }
        })
        .collect();
    sb.stop("ovs-vswitchd");
    drop(net);
    (error, lines, attached)
}

#[test]
fn impossible_xdp_modes_fail_as_upstream() {
    if let Some(why) = afxdp_missing() {
        eprintln!("SKIP impossible_xdp_modes_fail_as_upstream: {why}");
        return;
    }
    for (mode, tag) in [("native-with-zerocopy", "z"), ("turbo", "t")] {
        let (error, lines, attached) =
            failing_mode(Stack::ferrovs(FERROVS), &format!("o{tag}"), mode);
        assert!(
            !attached,
            "{mode}: an XDP program was left attached: {lines:#?}"
        );
        if mode == "turbo" {
            assert_eq!(
                error.trim(),
                "\"DEV: could not set configuration (Invalid argument)\""
            );
            assert!(
                lines.contains(&"netdev_afxdp|ERR|DEV: Incorrect xdp-mode (turbo).".to_string())
            );
        } else {
            assert_eq!(
                error.trim(),
                "\"could not add network device DEV to ofproto (Invalid argument)\""
            );
            assert!(
                lines.contains(
                    &"netdev_afxdp|ERR|DEV: Failed to create AF_XDP socket on queue 0 in native-with-zerocopy mode."
                        .to_string()
                ),
                "{lines:#?}"
            );
        }
        if testkit::upstream_missing().is_none() {
            let (ref_error, ref_lines, _) =
                failing_mode(Stack::upstream(), &format!("r{tag}"), mode);
            assert_eq!(error, ref_error, "{mode}: Interface error differs");
            for l in &lines {
                assert!(
                    ref_lines.contains(l)
                        || l.contains("Removing xdp")
                        || l.contains("No XDP program"),
                    "{mode}: we log {l:?}, the reference does not: {ref_lines:#?}"
                );
            }
        }
    }
}
