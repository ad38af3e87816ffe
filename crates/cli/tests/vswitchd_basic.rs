//! Our ovs-vswitchd (with our ovsdb-server) against the reference daemons,
//! both driven by the upstream ovs-vsctl and ovs-appctl: the same script
//! must leave the same database contents (modulo UUIDs) and give the same
//! answers. Also: a restarted daemon keeps its bridges, ports and
//! OpenFlow port numbers.

use testkit::{normalize_uuids, Program, Sandbox, Stack};

fn ours() -> Stack {
    Stack::ferrovs_daemons(env!("CARGO_BIN_EXE_ferrovs"))
}

/// Our ovs-vswitchd on the reference ovsdb-server: isolates the switch
/// from differences of our database server (see SWITCH-CONTRACTS.md,
/// update2 diffs of optional columns).
fn ours_on_reference_db() -> Stack {
    let mut s = ours();
    s.ovsdb_tool = Program::path("/usr/bin/ovsdb-tool");
    s.ovsdb_server = Program::path("/usr/sbin/ovsdb-server");
    s
}

fn vsctl<S: AsRef<str>>(sb: &Sandbox, args: &[S]) -> String {
    let args: Vec<&str> = args.iter().map(AsRef::as_ref).collect();
    let o = sb.vsctl_outcome(&args);
    format!(
        "$ ovs-vsctl {}\n[{}]\n{}{}",
        args.join(" "),
        o.status,
        o.stdout,
        o.stderr
            .lines()
            .filter(|l| !l.contains("default log directory"))
            .map(|l| format!("stderr: {l}\n"))
            .collect::<String>()
    )
}

fn appctl(sb: &Sandbox, args: &[&str]) -> String {
    let o = sb.appctl_outcome(args);
    let ctl = sb.control("ovs-vswitchd");
    format!(
        "$ ovs-appctl {}\n[{}]\n{}{}",
        args.join(" "),
        o.status,
        o.stdout,
        o.stderr.replace(&ctl, "<ctl>")
    )
}

/// `ovs-vsctl show` lists ports in hash order: sort the port blocks.
fn sorted_show(text: &str) -> String {
    let mut head = Vec::new();
    let mut blocks: Vec<Vec<&str>> = Vec::new();
    for line in text.lines() {
        if line.starts_with("        Port ") {
            blocks.push(vec![line]);
        } else if let Some(b) = blocks.last_mut() {
            b.push(line);
        } else {
            head.push(line);
        }
    }
    blocks.sort();
    let mut out: Vec<&str> = head;
    for b in blocks {
        out.extend(b);
    }
    out.join("\n") + "\n"
}

const IFACE_COLUMNS: &str = "--columns=name,type,ofport,ofport_request,admin_state,link_state,link_resets,mtu,ifindex,error,mac_in_use,statistics,status";

/// Bridge br0 on the dummy datapath, then dummy ports p1 and p2 (asking
/// for OpenFlow port 5), each its own transaction; the transcript.
fn bridge_with_two_ports(sb: &Sandbox) -> String {
    let mut t = vsctl(sb, &testkit::dummy_bridge("br0", &[], &[]));
    t += &vsctl(
        sb,
        &[
            "add-port",
            "br0",
            "p1",
            "--",
            "set",
            "Interface",
            "p1",
            "type=dummy",
        ],
    );
    t += &vsctl(
        sb,
        &[
            "add-port",
            "br0",
            "p2",
            "--",
            "set",
            "Interface",
            "p2",
            "type=dummy",
            "ofport_request=5",
        ],
    );
    t
}

/// The script both stacks run; returns its transcript.
fn script(sb: &Sandbox) -> String {
    let mut t = bridge_with_two_ports(sb);
    t += &vsctl(
        sb,
        &[
            "add-port",
            "br0",
            "p3",
            "--",
            "set",
            "Interface",
            "p3",
            "type=dummy",
        ],
    );
    t += &vsctl(sb, &["del-port", "p3"]);
    t += &vsctl(
        sb,
        &[
            "add-port",
            "br0",
            "p3",
            "--",
            "set",
            "Interface",
            "p3",
            "type=dummy",
        ],
    );
    t += &vsctl(sb, &["set", "Interface", "p3", "ofport_request=9"]);
    t += &vsctl(sb, &["set", "Interface", "p3", "ofport_request=5"]);
    t += &vsctl(
        sb,
        &[
            "add-port",
            "br0",
            "bad",
            "--",
            "set",
            "Interface",
            "bad",
            "type=bogus",
        ],
    );
    t += &sorted_show(&vsctl(sb, &["show"]));
    t += &vsctl(
        sb,
        &["--columns=name,ofport,error", "list", "Interface", "bad"],
    );
    for i in ["p1", "p2", "p3"] {
        t += &vsctl(sb, &[IFACE_COLUMNS, "list", "Interface", i]);
    }
    // The local port's address derives from the bridge UUID (checked by
    // check_datapath_id): leave it out here.
    let local = IFACE_COLUMNS.replace(",mac_in_use", "");
    t += &vsctl(sb, &[local.as_str(), "list", "Interface", "br0"]);
    t += &vsctl(
        sb,
        &[
            "--columns=cur_cfg,next_cfg,datapath_types,dpdk_initialized,dpdk_version,ovs_version,db_version",
            "list",
            "Open_vSwitch",
        ],
    );
    t += &vsctl(
        sb,
        &[
            "--columns=name,datapath_type,datapath_version,status",
            "list",
            "Bridge",
        ],
    );
    t += &vsctl(sb, &testkit::dummy_bridge("br1", &[], &[]));
    t += &vsctl(sb, &["del-br", "br1"]);
    t += &vsctl(sb, &["del-port", "bad"]);
    t += &appctl(sb, &["version"]);
    t += &appctl(sb, &["ofproto/list"]);
    t += &appctl(sb, &["bridge/reconnect", "nobr"]);
    t += &appctl(sb, &["bridge/reconnect", "br0"]);
    t += &appctl(sb, &["no/such-command"]);
    t += &appctl(sb, &["dpif/dump-dps"]);
    t += &appctl(sb, &["dpctl/dump-dps"]);
    t += &appctl(sb, &["dpif/show"]);
    t += &appctl(sb, &["netdev-dummy/receive", "nope", "00"]);
    t += &appctl(sb, &["netdev-dummy/set-admin-state", "nope", "up"]);
    t += &appctl(sb, &["netdev-dummy/set-admin-state", "p1", "sideways"]);
    t += &appctl(sb, &["netdev-dummy/set-admin-state", "p1", "down"]);
    // Waits for the status to be written.
    t += &vsctl(sb, &["set", "Open_vSwitch", ".", "external_ids:x=1"]);
    t += &vsctl(sb, &["get", "Interface", "p1", "admin_state", "link_state"]);
    t += &appctl(sb, &["netdev-dummy/set-admin-state", "p1", "up"]);
    normalize_uuids(&t)
}

/// The datapath ID is derived from the bridge UUID; both sides must agree
/// with their own UUIDs.
fn check_datapath_id(sb: &Sandbox) {
    let uuid = sb.vsctl(&["get", "Bridge", "br0", "_uuid"]).unwrap();
    let dpid = sb.vsctl(&["get", "Bridge", "br0", "datapath_id"]).unwrap();
    let hex: String = uuid.trim().chars().filter(|c| *c != '-').collect();
    let (w0, w1) = (&hex[0..8], &hex[8..16]);
    let b = |s: &str, i: usize| u8::from_str_radix(&s[i * 2..i * 2 + 2], 16).unwrap();
    let mut ea = [b(w0, 3), b(w0, 2), b(w0, 1), b(w0, 0), b(w1, 3), b(w1, 2)];
    ea[0] = (ea[0] & !1) | 2;
    let want: String = ea.iter().map(|x| format!("{x:02x}")).collect();
    assert_eq!(dpid.trim(), format!("\"0000{want}\""));
}

#[test]
fn vswitchd_matches_reference() {
    if testkit::skip_without_upstream("vswitchd_matches_reference") {
        return;
    }
    let reference = Sandbox::start("vsd-ref");
    let expected = script(&reference);
    check_datapath_id(&reference);
    let mine = Sandbox::start_stack("vsd-ours", ours(), true);
    let got = script(&mine);
    check_datapath_id(&mine);
    if got != expected {
        let diff: Vec<String> = expected
            .lines()
            .zip(got.lines())
            .filter(|(a, b)| a != b)
            .map(|(a, b)| format!("-{a}\n+{b}"))
            .collect();
        panic!(
            "transcripts differ:\n{}\n--- expected ---\n{expected}\n--- got ---\n{got}",
            diff.join("\n")
        );
    }
}

#[test]
fn restart_keeps_bridges_ports_and_numbers() {
    if testkit::skip_without_upstream("restart_keeps_bridges_ports_and_numbers") {
        return;
    }
    let mut sb = Sandbox::start_stack("vsd-restart", ours(), true);
    sb.add_dummy_bridge("br0", &[], &[]).unwrap();
    for (p, req) in [("a", None), ("b", Some("7")), ("c", None)] {
        let mut args = vec![
            "add-port",
            "br0",
            p,
            "--",
            "set",
            "Interface",
            p,
            "type=dummy",
        ];
        let r;
        if let Some(n) = req {
            r = format!("ofport_request={n}");
            args.push(&r);
        }
        sb.vsctl(&args).unwrap();
    }
    sb.vsctl(&["del-port", "a"]).unwrap();
    let before = sb
        .vsctl(&["--columns=name,ofport", "list", "Interface"])
        .unwrap();
    let dpid_before = sb.vsctl(&["get", "Bridge", "br0", "datapath_id"]).unwrap();
    sb.stop("ovs-vswitchd");
    // Changes made while the daemon is away are applied when it returns.
    sb.vsctl(&[
        "--no-wait",
        "add-port",
        "br0",
        "d",
        "--",
        "set",
        "Interface",
        "d",
        "type=dummy",
    ])
    .unwrap();
    sb.start_vswitchd();
    // Waits for the daemon to apply the configuration.
    sb.vsctl(&["set", "Open_vSwitch", ".", "external_ids:x=y"])
        .unwrap();
    let after = sb
        .vsctl(&["--columns=name,ofport", "list", "Interface"])
        .unwrap();
    let dpid_after = sb.vsctl(&["get", "Bridge", "br0", "datapath_id"]).unwrap();
    assert_eq!(dpid_before, dpid_after);
    // Rows come in hash order: compare them sorted, without the new one.
    let strip_d = |s: &str| -> String {
        let mut rows: Vec<&str> = s
            .split("\n\n")
            .map(str::trim)
            .filter(|r| !r.contains("\"d\"") && !r.contains(": d\n"))
            .collect();
        rows.sort();
        rows.join("\n\n")
    };
    assert_eq!(strip_d(&before).trim(), strip_d(&after).trim());
    let d = sb.vsctl(&["get", "Interface", "d", "ofport"]).unwrap();
    let d: i64 = d.trim().parse().unwrap();
    let b = sb.vsctl(&["get", "Interface", "b", "ofport"]).unwrap();
    let c = sb.vsctl(&["get", "Interface", "c", "ofport"]).unwrap();
    assert_eq!(b.trim(), "7");
    assert!(d > 0 && d != 7 && d.to_string() != c.trim(), "d got {d}");
}

fn ofctl(sb: &Sandbox, args: &[&str]) -> String {
    let o = sb.ofctl_outcome("br0", args);
    let mgmt = sb.mgmt("br0");
    format!(
        "$ ovs-ofctl {}\n[{}]\n{}{}",
        args.join(" "),
        o.status,
        testkit::normalize_durations(&o.stdout),
        // The errno of a failed negotiation: the client sees EPIPE or
        // EPROTO depending on who hangs up first, with either switch.
        testkit::normalize_log_timestamps(&o.stderr.replace(&mgmt, "<mgmt>").replace(
            "failed to connect to socket (Broken pipe)",
            "failed to connect to socket (Protocol error)",
        ))
    )
}

/// Replaces the bridge's own address and datapath ID (derived from its
/// UUID) by fixed text.
fn normalize_bridge_address(sb: &Sandbox, text: &str) -> String {
    let dpid = sb.vsctl(&["get", "Bridge", "br0", "datapath_id"]).unwrap();
    let dpid = dpid.trim().trim_matches('"').to_string();
    let mac: Vec<String> = (0..6)
        .map(|i| dpid[4 + 2 * i..6 + 2 * i].to_string())
        .collect();
    text.replace(&dpid, "<dpid>")
        .replace(&mac.join(":"), "<mac>")
}

fn openflow_script(sb: &Sandbox) -> String {
    let mut t = bridge_with_two_ports(sb);
    t += &ofctl(sb, &["show"]);
    t += &ofctl(sb, &["dump-flows"]);
    t += &ofctl(sb, &["add-flow", "in_port=1,actions=output:5"]);
    t += &ofctl(
        sb,
        &["add-flow", "priority=100,ip,nw_dst=10.0.0.1,actions=drop"],
    );
    t += &ofctl(sb, &["dump-flows"]);
    t += &ofctl(sb, &["-O", "OpenFlow13", "dump-flows"]);
    t += &ofctl(sb, &["del-flows", "in_port=1"]);
    t += &ofctl(sb, &["dump-flows"]);
    t += &ofctl(sb, &["del-flows"]);
    t += &ofctl(sb, &["dump-flows"]);
    t += &ofctl(sb, &["dump-ports-desc"]);
    t += &ofctl(sb, &["-O", "OpenFlow14", "dump-ports-desc"]);
    t += &vsctl(sb, &["set", "bridge", "br0", "fail_mode=secure"]);
    t += &ofctl(sb, &["dump-flows"]);
    t += &vsctl(sb, &["remove", "bridge", "br0", "fail_mode", "secure"]);
    t += &ofctl(sb, &["dump-flows"]);
    t += &vsctl(sb, &["set", "bridge", "br0", "protocols=OpenFlow13"]);
    t += &ofctl(sb, &["show"]);
    t += &ofctl(sb, &["-O", "OpenFlow13", "dump-flows"]);
    t += &vsctl(sb, &["clear", "bridge", "br0", "protocols"]);
    t += &vsctl(sb, &["del-port", "p1"]);
    t += &ofctl(sb, &["dump-ports-desc"]);
    t += &appctl(sb, &["ofproto/list"]);
    normalize_bridge_address(sb, &normalize_uuids(&t))
}

#[test]
fn openflow_management_matches_reference() {
    if testkit::skip_without_upstream("openflow_management_matches_reference") {
        return;
    }
    let reference = Sandbox::start("vsd-of-ref");
    let expected = openflow_script(&reference);
    let mine = Sandbox::start_stack("vsd-of-ours", ours_on_reference_db(), true);
    let got = openflow_script(&mine);
    if got != expected {
        let diff: Vec<String> = expected
            .lines()
            .zip(got.lines())
            .filter(|(a, b)| a != b)
            .map(|(a, b)| format!("-{a}\n+{b}"))
            .collect();
        panic!(
            "transcripts differ:\n{}\n--- expected ---\n{expected}\n--- got ---\n{got}",
            diff.join("\n")
        );
    }
}

/// A packet injected on a dummy port misses, goes through translation
/// (the NORMAL flow floods it) and installs a megaflow.
#[test]
fn missed_packet_is_translated_and_cached() {
    if testkit::skip_without_upstream("missed_packet_is_translated_and_cached") {
        return;
    }
    let sb = Sandbox::start_stack("vsd-upcall", ours(), true);
    sb.add_dummy_bridge("br0", &[], &[]).unwrap();
    for p in ["p1", "p2"] {
        sb.vsctl(&[
            "add-port",
            "br0",
            p,
            "--",
            "set",
            "Interface",
            p,
            "type=dummy",
        ])
        .unwrap();
    }
    let pkt = "in_port(1),eth(src=50:54:00:00:00:05,dst=50:54:00:00:00:07),eth_type(0x0800),ipv4(src=10.0.0.2,dst=10.0.0.1,proto=6,tos=0,ttl=64,frag=no),tcp(src=1,dst=2)";
    sb.appctl(&["netdev-dummy/receive", "p1", pkt]).unwrap();
    let mut flows = String::new();
    let cached = sb.wait_until(std::time::Duration::from_secs(10), || {
        flows = sb.appctl(&["dpctl/dump-flows"]).unwrap_or_default();
        flows.contains("in_port(1)")
    });
    assert!(cached, "no megaflow: {flows}");
    let actions = flows
        .split("actions:")
        .nth(1)
        .unwrap_or("")
        .trim()
        .to_string();
    let mut outs: Vec<&str> = actions.split(',').collect();
    outs.sort();
    assert_eq!(outs, ["100", "2"], "{flows}");
    let trace = sb.appctl(&["ofproto/trace", "br0", "in_port=1"]).unwrap();
    assert!(trace.contains("NORMAL"), "{trace}");
}
