//! Shared harness of the `xlate_*` and `trace_*` differential tests: the
//! reference ovs-vswitchd (dummy datapath) with bridge `br0` and ports
//! p1..p4, and our [`Ofproto`] with the same ports behind an OpenFlow
//! socket (the `core_common` endpoint), both programmed by the reference
//! `ovs-ofctl`; traces compare `ovs-appctl ofproto/trace` with our
//! [`ofproto::trace::trace`].

#![allow(dead_code)]

#[path = "../core_common/mod.rs"]
mod core_common;

use core_common::OurSwitch;
use ofproto::mac_learning::MacLearning;
use ofproto::port::VlanMode;
use ofproto::xlate::Bridges;
use ofproto::{OfPort, Ofproto, PortKind};
use testkit::{Program, Sandbox};

/// One port of the test bridge.
#[derive(Clone, Debug, Default)]
pub struct PortSpec {
    pub name: &'static str,
    pub ofport: u32,
    /// `tag=`, `trunks=`, `vlan_mode=` of the Port row.
    pub tag: Option<u16>,
    pub trunks: Vec<u16>,
    pub vlan_mode: Option<&'static str>,
    /// A tunnel port of this type (remote 1.1.1.2, key 5) instead of dummy.
    pub tunnel: Option<&'static str>,
}

pub fn port(name: &'static str, ofport: u32) -> PortSpec {
    PortSpec {
        name,
        ofport,
        ..Default::default()
    }
}

pub struct Pair {
    pub reference: Sandbox,
    pub ours: OurSwitch,
    pub ml: MacLearning,
}

fn parse_mac(s: &str) -> [u8; 6] {
    let mut m = [0u8; 6];
    for (i, p) in s.split(':').take(6).enumerate() {
        m[i] = u8::from_str_radix(p, 16).unwrap_or(0);
    }
    m
}

struct OneBridge<'a> {
    br: &'a Ofproto,
    ml: &'a MacLearning,
}

impl Bridges for OneBridge<'_> {
    fn port_by_name(&self, name: &str) -> Option<(&Ofproto, u32)> {
        self.br
            .ports()
            .find(|p| p.name == name)
            .map(|p| (self.br, p.ofp_port))
    }
    fn bridge(&self, name: &str) -> Option<&Ofproto> {
        (name == self.br.name).then_some(self.br)
    }
    fn mac_learning(&self, name: &str) -> Option<&MacLearning> {
        (name == self.br.name).then_some(self.ml)
    }
}

impl ofproto::trace::TraceEnv for OneBridge<'_> {
    fn by_odp_port(&self, _dp: Option<&str>, odp_port: u32) -> Option<(&Ofproto, u32)> {
        self.br
            .ports()
            .find(|p| p.odp_port == odp_port)
            .map(|p| (self.br, p.ofp_port))
    }
    fn has_datapath(&self, dp: Option<&str>) -> bool {
        matches!(dp, None | Some("ovs-dummy") | Some("dummy@ovs-dummy"))
    }
}

impl Pair {
    /// Both switches with `ports` (fail-mode secure), or `None` without the
    /// reference.
    pub fn start(tag: &str, ports: &[PortSpec]) -> Option<Pair> {
        if testkit::skip_without_upstream(tag) {
            return None;
        }
        let reference = Sandbox::start(tag);
        let mut args: Vec<String> = [
            "add-br",
            "br0",
            "--",
            "set",
            "bridge",
            "br0",
            "datapath-type=dummy",
            "other-config:datapath-id=0000aa55aa550001",
            "fail-mode=secure",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        for p in ports {
            args.extend(
                ["--", "add-port", "br0", p.name]
                    .iter()
                    .map(|s| s.to_string()),
            );
            if let Some(t) = p.tag {
                args.push(format!("tag={t}"));
            }
            if !p.trunks.is_empty() {
                args.push(format!(
                    "trunks={}",
                    p.trunks
                        .iter()
                        .map(|t| t.to_string())
                        .collect::<Vec<_>>()
                        .join(",")
                ));
            }
            if let Some(m) = p.vlan_mode {
                args.push(format!("vlan_mode={m}"));
            }
            match p.tunnel {
                Some(t) => args.extend(
                    [
                        "--".to_string(),
                        "set".into(),
                        "interface".into(),
                        p.name.into(),
                        format!("type={t}"),
                        "options:remote_ip=1.1.1.2".into(),
                        "options:key=5".into(),
                    ]
                    .into_iter(),
                ),
                None => args.extend(
                    ["--", "set", "interface", p.name, "type=dummy"]
                        .iter()
                        .map(|s| s.to_string()),
                ),
            }
            args.push(format!("ofport_request={}", p.ofport));
        }
        let a: Vec<&str> = args.iter().map(|s| s.as_str()).collect();
        reference.vsctl(&a).expect("configure the reference bridge");
        reference.ofctl("br0", &["del-flows"]).expect("del-flows");
        let show = reference.ofctl("br0", &["show"]).expect("show");
        let mut ofproto = Ofproto::new("br0", 0x0000_aa55_aa55_0001);
        for line in show.lines() {
            let line = line.trim();
            let Some((head, addr)) = line.split_once("): addr:") else {
                continue;
            };
            let Some((no, name)) = head.split_once('(') else {
                continue;
            };
            let ofp_port = match no {
                "LOCAL" => 0xfffe,
                n => n.parse().unwrap_or(0),
            };
            let kind = match ports.iter().find(|s| s.name == name).and_then(|s| s.tunnel) {
                Some(t) => PortKind::Tunnel {
                    type_: t.to_string(),
                },
                None if ofp_port == 0xfffe => PortKind::Internal,
                None => PortKind::Dummy,
            };
            let mut p = OfPort::new(ofp_port, name, ofp_port, kind, parse_mac(addr));
            p.state = 4;
            if let Some(spec) = ports.iter().find(|s| s.name == name) {
                p.vlan_tag = spec.tag;
                p.vlan_trunks = spec.trunks.clone();
                p.vlan_mode = match spec.vlan_mode {
                    Some("access") => VlanMode::Access,
                    Some("native-tagged") => VlanMode::NativeTagged,
                    Some("native-untagged") => VlanMode::NativeUntagged,
                    Some("dot1q-tunnel") => VlanMode::DotOneQTunnel,
                    _ => VlanMode::Trunk,
                };
            }
            ofproto.add_port(p);
        }
        ofproto.take_async();
        // Datapath port numbers as the reference assigned them.
        let dp = reference.appctl(&["dpif/show"]).unwrap_or_default();
        for line in dp.lines() {
            // "    p1 1/1: (dummy)"
            let t = line.trim();
            let Some((name, rest)) = t.split_once(' ') else {
                continue;
            };
            let Some((nums, _)) = rest.split_once(':') else {
                continue;
            };
            let Some((_, odp)) = nums.split_once('/') else {
                continue;
            };
            if let Ok(odp) = odp.parse::<u32>() {
                let no = ofproto.ports().find(|p| p.name == name).map(|p| p.ofp_port);
                if let Some(no) = no {
                    if let Some(mut p) = ofproto.remove_port(no) {
                        p.odp_port = odp;
                        ofproto.add_port(p);
                    }
                }
            }
        }
        ofproto.take_async();
        let sock = reference.path("ours.mgmt");
        let ours = OurSwitch::start(&sock, ofproto);
        Some(Pair {
            reference,
            ours,
            ml: MacLearning::default(),
        })
    }

    /// `ovs-ofctl [pre_args] CMD TARGET [rest]` against ours.
    pub fn ofctl_ours(&self, args: &[&str]) -> Result<String, String> {
        let target = format!("unix:{}", self.ours.sock);
        self.reference
            .run(
                &Program::path("/usr/bin/ovs-ofctl"),
                &testkit::ofctl_args(args, &target),
            )
            .ok("ovs-ofctl")
    }

    /// Runs an ovs-ofctl command against both switches.
    pub fn ofctl_both(&self, args: &[&str]) -> Result<(), String> {
        let r = self.reference.ofctl("br0", args);
        let o = self.ofctl_ours(args);
        match (r, o) {
            (Ok(_), Ok(_)) => Ok(()),
            (Err(e), _) => Err(format!("reference: {e}")),
            (_, Err(e)) => Err(format!("ours: {e}")),
        }
    }

    /// Replaces the flows (and groups) of both switches.
    pub fn load(&self, groups: &[&str], flows: &[&str]) -> Result<(), String> {
        self.ofctl_both(&["-O", "OpenFlow15", "del-flows"])?;
        self.ofctl_both(&["-O", "OpenFlow15", "del-groups"])?;
        for g in groups {
            self.ofctl_both(&["-O", "OpenFlow15", "add-group", g])?;
        }
        let path = self.reference.path("flows.txt");
        std::fs::write(&path, flows.join("\n") + "\n").map_err(|e| e.to_string())?;
        if flows.iter().any(|f| f.contains("group:")) {
            self.ofctl_both(&["-O", "OpenFlow13", "add-flows", &path])
        } else {
            self.ofctl_both(&["add-flows", &path])
        }
    }

    /// The reference's `ofproto/trace br0 FLOW`.
    pub fn trace_reference(&self, flow: &str, generate: bool) -> String {
        let mut a = vec!["ofproto/trace", "br0", flow];
        if generate {
            a.push("-generate");
        }
        match self.reference.appctl(&a) {
            Ok(s) => s,
            Err(e) => format!("ERROR: {e}"),
        }
    }

    /// Our `ofproto/trace br0 ARGS...` through the command parser, with
    /// side effects applied.
    pub fn trace_ours_args(&self, args: &[&str]) -> Result<String, String> {
        let reply = {
            let br = self.ours.ofproto.lock().unwrap();
            let env = OneBridge {
                br: &br,
                ml: &self.ml,
            };
            let a: Vec<String> = args.iter().map(|s| s.to_string()).collect();
            ofproto::trace::trace_command(&a, &env)?
        };
        let mut br = self.ours.ofproto.lock().unwrap();
        for e in &reply.side_effects {
            if let ofproto::xlate::SideEffect::Learn { flow, .. } = e {
                let _ = br.apply_learned_flow(flow);
            }
        }
        br.take_async();
        Ok(reply.text)
    }

    /// Our `ofproto/trace-packet-out ARGS...`.
    pub fn trace_packet_out_ours(&self, args: &[&str]) -> Result<String, String> {
        let br = self.ours.ofproto.lock().unwrap();
        let env = OneBridge {
            br: &br,
            ml: &self.ml,
        };
        let a: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        ofproto::trace::trace_packet_out_command(&a, &env).map(|r| r.text)
    }

    /// The reference's `ofproto/trace-packet-out ARGS...`.
    pub fn trace_packet_out_reference(&self, args: &[&str]) -> Result<String, String> {
        let mut a = vec!["ofproto/trace-packet-out"];
        a.extend_from_slice(args);
        self.reference.appctl(&a)
    }

    /// The reference's `ofproto/trace ARGS...`.
    pub fn trace_reference_args(&self, args: &[&str]) -> Result<String, String> {
        let mut a = vec!["ofproto/trace"];
        a.extend_from_slice(args);
        self.reference.appctl(&a)
    }

    /// Our trace of the same flow.
    pub fn trace_ours(&self, flow: &str, generate: bool) -> String {
        if generate {
            return match self.trace_ours_args(&["br0", flow, "-generate"]) {
                Ok(s) => s,
                Err(e) => format!("ERROR: {e}"),
            };
        }
        let br = self.ours.ofproto.lock().unwrap();
        let mut map = flow::port::PortMap::new();
        for p in br.ports() {
            map.insert(&p.name, p.ofp_port);
        }
        let f = match flow::flow_str::parse_ofp_exact_flow(flow, Some(&map)) {
            Ok((f, _)) => f,
            Err(e) => return format!("ERROR: {e}"),
        };
        let bridges = OneBridge {
            br: &br,
            ml: &self.ml,
        };
        let opts = ofproto::trace::TraceOptions {
            generate,
            ..Default::default()
        };
        ofproto::trace::trace(&br, &bridges, &f, None, &opts)
    }
}

/// Recirculation ids renumbered (global counters in both switches).
#[allow(unused_imports)]
pub use testkit::normalize_recirc;

/// Where two texts first differ, for failure messages.
pub fn first_diff(a: &str, b: &str) -> String {
    for (i, (x, y)) in a.lines().zip(b.lines()).enumerate() {
        if x != y {
            return format!("line {}:\n  reference: {x:?}\n  ours:      {y:?}", i + 1);
        }
    }
    format!(
        "lengths: reference {} lines (ends {:?}), ours {} lines (ends {:?})",
        a.lines().count(),
        a.chars().rev().take(3).collect::<String>(),
        b.lines().count(),
        b.chars().rev().take(3).collect::<String>()
    )
}

/// The `Megaflow:` and `Datapath actions:` lines of a trace.
pub fn summary(trace: &str) -> String {
    trace
        .lines()
        .filter(|l| l.starts_with("Megaflow:") || l.starts_with("Datapath actions:"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Upstream floods ports in the order of a hash map whose history (every
/// reconfiguration copies it) decides ties, so flooded outputs are
/// compared as a set: runs of plain port numbers in `Datapath actions:`
/// are sorted.
pub fn sort_flood(trace: &str) -> String {
    trace
        .lines()
        .map(|l| match l.strip_prefix("Datapath actions: ") {
            Some(acts) => format!("Datapath actions: {}", testkit::sort_port_runs(acts)),
            None => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
        + if trace.ends_with('\n') { "\n" } else { "" }
}

/// NORMAL floods bundles in an order upstream does not keep stable
/// (pointer hashes), grouping outputs that share VLAN headers.  This
/// rewrites `Datapath actions:` as the sorted set of outputs, each with the
/// VLAN headers and other header changes in effect when it happens, so two
/// traces compare equal when they send the same packets to the same ports.
pub fn canonical_outputs(trace: &str) -> String {
    use flow::odp::actions::{parse_odp_actions, OdpAction};
    // The packet's own VLAN header, from the `Flow:` line.
    let mut initial: Vec<String> = Vec::new();
    if let Some(f) = trace.lines().find(|l| l.starts_with("Flow: ")) {
        let get = |k: &str| {
            f.split(',')
                .find_map(|kv| kv.strip_prefix(k))
                .map(|v| v.to_string())
        };
        if let (Some(vid), Some(pcp)) = (get("dl_vlan="), get("dl_vlan_pcp=")) {
            initial.push(format!("push_vlan(vid={vid},pcp={pcp})"));
        }
    }
    trace
        .lines()
        .map(|l| match l.strip_prefix("Datapath actions: ") {
            Some(acts) => match parse_odp_actions(acts) {
                Ok(list) => {
                    let mut vlans: Vec<String> = initial.clone();
                    let mut sets: Vec<String> = Vec::new();
                    let mut outs: Vec<String> = Vec::new();
                    for a in &list {
                        match a {
                            OdpAction::PushVlan { .. } => vlans.push(a.to_string()),
                            OdpAction::PopVlan => {
                                if vlans.pop().is_none() {
                                    vlans.push("popped-original".into());
                                }
                            }
                            OdpAction::Output(p) => {
                                outs.push(format!("{p}[{}|{}]", vlans.join(";"), sets.join(";")))
                            }
                            other => sets.push(other.to_string()),
                        }
                    }
                    outs.sort();
                    format!("Datapath outputs: {}", outs.join(" "))
                }
                Err(_) => l.to_string(),
            },
            None => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Two bridges joined by patch ports (`br0`: p1, p2, patch `pa`;
/// `br1`: q1, q2, patch `pb`), in the reference and ours.
pub struct PatchPair {
    pub reference: Sandbox,
    pub ours: Vec<OurSwitch>,
    pub ml: Vec<MacLearning>,
}

struct TwoBridges<'a> {
    brs: Vec<&'a Ofproto>,
    ml: &'a [MacLearning],
}

impl Bridges for TwoBridges<'_> {
    fn port_by_name(&self, name: &str) -> Option<(&Ofproto, u32)> {
        self.brs
            .iter()
            .find_map(|b| b.ports().find(|p| p.name == name).map(|p| (*b, p.ofp_port)))
    }
    fn bridge(&self, name: &str) -> Option<&Ofproto> {
        self.brs.iter().copied().find(|b| b.name == name)
    }
    fn mac_learning(&self, name: &str) -> Option<&MacLearning> {
        self.brs
            .iter()
            .position(|b| b.name == name)
            .map(|i| &self.ml[i])
    }
}

impl PatchPair {
    pub fn start(tag: &str) -> Option<PatchPair> {
        if testkit::skip_without_upstream(tag) {
            return None;
        }
        let reference = Sandbox::start(tag);
        let mut args: Vec<String> = Vec::new();
        for (br, dpid, ports, patch, peer) in [
            (
                "br0",
                "0000aa55aa550001",
                [("p1", 1), ("p2", 2)],
                ("pa", 10),
                "pb",
            ),
            (
                "br1",
                "0000aa55aa550002",
                [("q1", 1), ("q2", 2)],
                ("pb", 20),
                "pa",
            ),
        ] {
            args.extend(
                [
                    "--",
                    "add-br",
                    br,
                    "--",
                    "set",
                    "bridge",
                    br,
                    "datapath-type=dummy",
                    "fail-mode=secure",
                ]
                .iter()
                .map(|s| s.to_string()),
            );
            args.push(format!("other-config:datapath-id={dpid}"));
            for (p, n) in ports {
                args.extend(
                    [
                        "--",
                        "add-port",
                        br,
                        p,
                        "--",
                        "set",
                        "interface",
                        p,
                        "type=dummy",
                    ]
                    .iter()
                    .map(|s| s.to_string()),
                );
                args.push(format!("ofport_request={n}"));
            }
            args.extend(
                [
                    "--",
                    "add-port",
                    br,
                    patch.0,
                    "--",
                    "set",
                    "interface",
                    patch.0,
                    "type=patch",
                ]
                .iter()
                .map(|s| s.to_string()),
            );
            args.push(format!("options:peer={peer}"));
            args.push(format!("ofport_request={}", patch.1));
        }
        let a: Vec<&str> = args.iter().skip(1).map(|s| s.as_str()).collect();
        reference
            .vsctl(&a)
            .expect("configure the reference bridges");
        let dp = reference.appctl(&["dpif/show"]).unwrap_or_default();
        let mut ours = Vec::new();
        for (i, br) in ["br0", "br1"].iter().enumerate() {
            reference.ofctl(br, &["del-flows"]).expect("del-flows");
            let show = reference.ofctl(br, &["show"]).expect("show");
            let mut ofproto = Ofproto::new(br, 0x0000_aa55_aa55_0001 + i as u64);
            for line in show.lines() {
                let line = line.trim();
                let Some((head, addr)) = line.split_once("): addr:") else {
                    continue;
                };
                let Some((no, name)) = head.split_once('(') else {
                    continue;
                };
                let ofp_port = match no {
                    "LOCAL" => 0xfffe,
                    n => n.parse().unwrap_or(0),
                };
                let kind = match name {
                    "pa" => PortKind::Patch { peer: "pb".into() },
                    "pb" => PortKind::Patch { peer: "pa".into() },
                    _ if ofp_port == 0xfffe => PortKind::Internal,
                    _ => PortKind::Dummy,
                };
                // Datapath numbers from dpif/show ("    p1 1/1: (dummy)").
                let odp = dp
                    .lines()
                    .map(|l| l.trim())
                    .find(|l| l.starts_with(&format!("{name} ")))
                    .and_then(|l| l.split_once('/'))
                    .and_then(|(_, r)| r.split(':').next())
                    .and_then(|n| n.parse().ok())
                    .unwrap_or(ofp_port);
                let mut p = OfPort::new(ofp_port, name, odp, kind, parse_mac(addr));
                p.state = 4;
                ofproto.add_port(p);
            }
            ofproto.take_async();
            let sock = reference.path(&format!("ours-{br}.mgmt"));
            ours.push(OurSwitch::start(&sock, ofproto));
        }
        Some(PatchPair {
            reference,
            ours,
            ml: vec![MacLearning::default(), MacLearning::default()],
        })
    }

    /// Loads `flows` into bridge `i` (0 = br0, 1 = br1) of both.
    pub fn load(&self, i: usize, flows: &[&str]) -> Result<(), String> {
        let br = ["br0", "br1"][i];
        let path = self.reference.path(&format!("flows-{br}.txt"));
        std::fs::write(&path, flows.join("\n") + "\n").map_err(|e| e.to_string())?;
        self.reference.ofctl(br, &["del-flows"])?;
        self.reference.ofctl(br, &["add-flows", &path])?;
        let target = format!("unix:{}", self.ours[i].sock);
        self.reference
            .run(
                &Program::path("/usr/bin/ovs-ofctl"),
                &["del-flows", &target],
            )
            .ok("ovs-ofctl")?;
        self.reference
            .run(
                &Program::path("/usr/bin/ovs-ofctl"),
                &["add-flows", &target, &path],
            )
            .ok("ovs-ofctl")?;
        Ok(())
    }

    pub fn trace_reference(&self, br: &str, flow: &str) -> String {
        self.reference
            .appctl(&["ofproto/trace", br, flow])
            .unwrap_or_else(|e| format!("ERROR: {e}"))
    }

    pub fn trace_ours(&self, br: &str, flow: &str) -> String {
        let g0 = self.ours[0].ofproto.lock().unwrap();
        let g1 = self.ours[1].ofproto.lock().unwrap();
        let env = TwoBridges {
            brs: vec![&g0, &g1],
            ml: &self.ml,
        };
        let Some(b) = env.bridge(br) else {
            return format!("ERROR: {br}: unknown bridge");
        };
        let mut map = flow::port::PortMap::new();
        for p in b.ports() {
            map.insert(&p.name, p.ofp_port);
        }
        match flow::flow_str::parse_ofp_exact_flow(flow, Some(&map)) {
            Ok((f, _)) => ofproto::trace::trace(b, &env, &f, None, &Default::default()),
            Err(e) => format!("ERROR: {e}"),
        }
    }
}
