//! Tunnel ports as translation needs them (upstream's tunnel.c and
//! tnl-ports): every tunnel interface's configuration with its bridge,
//! OpenFlow port and shared datapath vport; the ports the datapath listens
//! on (one per vport, with how many tunnels use it), and the map from
//! "packet addressed to one of our IP devices on a tunnel's UDP port (or
//! GRE)" to the vport that decapsulates it (`tnl_pop`).  Also
//! `tnl/ports/show [-v]`.

use std::net::{IpAddr, Ipv6Addr};

use packet::Flow;

use super::route::{format_ip, to_v6};

/// A tunnel endpoint option (`remote_ip`, `local_ip`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TnlAddr {
    #[default]
    Absent,
    /// `flow`: from the `tun_dst`/`tun_src` fields.
    Flow,
    Ip(IpAddr),
}

/// A tunnel key option (`in_key`, `out_key`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TnlKey {
    /// Key 0, and only key 0 accepted.
    #[default]
    Absent,
    /// `flow`: from/to the `tun_id` field.
    Flow,
    Fixed(u64),
}

/// One tunnel interface.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TnlPort {
    pub bridge: String,
    pub name: String,
    pub ofp_port: u32,
    /// The shared datapath vport (`vxlan_sys_4789`) and its number.
    pub vport: String,
    pub odp_port: u32,
    /// `vxlan`, `geneve`, `gre`, `ip6gre`, ...
    pub type_: String,
    pub remote: TnlAddr,
    pub local: TnlAddr,
    pub in_key: TnlKey,
    pub out_key: TnlKey,
    /// Outer TOS (`None`: inherit from the inner packet).
    pub tos: Option<u8>,
    /// Outer TTL (`None`: inherit).
    pub ttl: Option<u8>,
    /// UDP destination port (UDP-based types).
    pub dst_port: Option<u16>,
    pub csum: bool,
    pub df_default: bool,
    /// GRE sequence numbers.
    pub seq: bool,
    /// `packet_type=legacy_l3`: no Ethernet header inside.
    pub layer3: bool,
    pub egress_pkt_mark: Option<u32>,
    /// VXLAN GBP extension.
    pub gbp: bool,
    /// ERSPAN fields (`erspan`, `ip6erspan`).
    pub erspan: ErspanCfg,
    /// The device the route to the remote address leaves by, and its
    /// carrier, as found when the configuration last changed (or system
    /// routes did): the Interface `status` keys `tunnel_egress_iface` and
    /// `tunnel_egress_iface_carrier`.  Not part of the configuration.
    pub egress: Option<(String, bool)>,
}

/// The ERSPAN options of a port: each field fixed, or `None` for `flow`
/// (taken from the `tun_erspan_*` fields).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ErspanCfg {
    pub ver: Option<u8>,
    pub idx: Option<u32>,
    pub dir: Option<u8>,
    pub hwid: Option<u8>,
}

impl TnlPort {
    /// How specifically this port claims a received packet with tunnel
    /// metadata `t` (higher wins), or `None` if it does not.
    fn receive_score(&self, t: &packet::flow::FlowTnl) -> Option<u32> {
        let mut score = 0;
        match self.in_key {
            TnlKey::Absent => {
                if t.tun_id != 0 {
                    return None;
                }
                score += 4;
            }
            TnlKey::Fixed(k) => {
                if t.tun_id != k {
                    return None;
                }
                score += 4;
            }
            TnlKey::Flow => {}
        }
        let src = tnl_src(t);
        let dst = tnl_dst(t);
        match self.remote {
            TnlAddr::Ip(a) => {
                if to_v6(a) != src {
                    return None;
                }
                score += 2;
            }
            TnlAddr::Flow | TnlAddr::Absent => {}
        }
        match self.local {
            TnlAddr::Ip(a) => {
                if to_v6(a) != dst {
                    return None;
                }
                score += 1;
            }
            TnlAddr::Flow | TnlAddr::Absent => {}
        }
        Some(score)
    }
}

/// The outer source of tunnel metadata, IPv6 form.
pub fn tnl_src(t: &packet::flow::FlowTnl) -> Ipv6Addr {
    if t.ip_src != 0 || t.ip_dst != 0 {
        std::net::Ipv4Addr::from(t.ip_src).to_ipv6_mapped()
    } else {
        Ipv6Addr::from(t.ipv6_src)
    }
}

/// The outer destination of tunnel metadata, IPv6 form.
pub fn tnl_dst(t: &packet::flow::FlowTnl) -> Ipv6Addr {
    if t.ip_dst != 0 {
        std::net::Ipv4Addr::from(t.ip_dst).to_ipv6_mapped()
    } else {
        Ipv6Addr::from(t.ipv6_dst)
    }
}

/// An IP device (a non-tunnel port with addresses) as the port map sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IpDev {
    pub name: String,
    pub mac: [u8; 6],
    pub addrs: Vec<IpAddr>,
}

/// The tunnel ports of every bridge.
#[derive(Clone, Debug, Default)]
pub struct TnlPorts {
    /// In creation order.
    ports: Vec<TnlPort>,
    /// Listening vports in the order they were first used: (name, odp).
    listening: Vec<(String, u32)>,
    /// The IP devices, refreshed by the vswitchd.
    ipdevs: Vec<IpDev>,
}

const IPPROTO_TCP: u8 = 6;
const IPPROTO_UDP: u8 = 17;
const IPPROTO_GRE: u8 = 47;

fn is_gre(type_: &str) -> bool {
    matches!(type_, "gre" | "ip6gre" | "erspan" | "ip6erspan")
}

impl TnlPorts {
    /// Adds or replaces the tunnel port `p` (by bridge and name).
    pub fn set(&mut self, p: TnlPort) {
        self.remove(&p.bridge, &p.name);
        if !self.listening.iter().any(|(n, _)| *n == p.vport) {
            self.listening.push((p.vport.clone(), p.odp_port));
        }
        self.ports.push(p);
    }

    /// Removes bridge `bridge`'s tunnel port `name`.
    pub fn remove(&mut self, bridge: &str, name: &str) {
        self.ports
            .retain(|p| !(p.bridge == bridge && p.name == name));
        let ports = &self.ports;
        self.listening
            .retain(|(v, _)| ports.iter().any(|p| p.vport == *v));
    }

    /// Makes `ports` the tunnel ports of `bridge` (vports keep their
    /// place in the listening list while still used).  A port whose
    /// configuration changed (or is new) has its egress device looked up
    /// again, as upstream does only then.
    pub fn replace_bridge(&mut self, bridge: &str, mut ports: Vec<TnlPort>) {
        for p in &mut ports {
            let old = self
                .ports
                .iter()
                .find(|o| o.bridge == p.bridge && o.name == p.name);
            p.egress = match old {
                Some(o)
                    if TnlPort {
                        egress: None,
                        ..o.clone()
                    } == *p =>
                {
                    o.egress.clone()
                }
                _ => self.egress_of(p),
            };
        }
        self.ports.retain(|p| p.bridge != bridge);
        self.ports.extend(ports);
        let all = &self.ports;
        self.listening
            .retain(|(v, o)| all.iter().any(|p| p.vport == *v && p.odp_port == *o));
        for p in &self.ports {
            if !self.listening.iter().any(|(n, _)| *n == p.vport) {
                self.listening.push((p.vport.clone(), p.odp_port));
            }
        }
    }

    /// Removes every port of `bridge`.
    pub fn remove_bridge(&mut self, bridge: &str) {
        let names: Vec<String> = self
            .ports
            .iter()
            .filter(|p| p.bridge == bridge)
            .map(|p| p.name.clone())
            .collect();
        for n in names {
            self.remove(bridge, &n);
        }
    }

    /// The egress device of `p`'s remote address and its carrier.
    fn egress_of(&self, p: &TnlPort) -> Option<(String, bool)> {
        let TnlAddr::Ip(remote) = p.remote else {
            return None;
        };
        let mark = p.egress_pkt_mark.unwrap_or(0);
        let dev = super::global()
            .routes()
            .lookup(mark, &to_v6(remote))?
            .dev
            .clone();
        let carrier = self.carrier(&dev);
        Some((dev, carrier))
    }

    /// A device's carrier: the kernel's for a kernel device, else up for
    /// one of the switch's own devices, else down (no such device).
    fn carrier(&self, dev: &str) -> bool {
        let sys = std::path::Path::new("/sys/class/net")
            .join(dev)
            .join("carrier");
        if let Ok(c) = std::fs::read_to_string(&sys) {
            return c.trim() == "1";
        }
        self.ipdevs.iter().any(|d| d.name == dev)
    }

    /// Looks every port's egress device up again (the system's routes
    /// changed).
    pub fn refresh_egress(&mut self) {
        let found: Vec<Option<(String, bool)>> =
            self.ports.iter().map(|p| self.egress_of(p)).collect();
        for (p, e) in self.ports.iter_mut().zip(found) {
            p.egress = e;
        }
    }

    /// The `status` keys of `bridge`'s tunnel interface `name` that
    /// native tunnelling gives: `tunnel_egress_iface` and
    /// `tunnel_egress_iface_carrier`, when the remote is routed.
    pub fn egress_status(&self, bridge: &str, name: &str) -> Vec<(String, String)> {
        let Some((dev, carrier)) = self.port(bridge, name).and_then(|p| p.egress.clone()) else {
            return Vec::new();
        };
        vec![
            ("tunnel_egress_iface".to_string(), dev),
            (
                "tunnel_egress_iface_carrier".to_string(),
                if carrier { "up" } else { "down" }.to_string(),
            ),
        ]
    }

    /// Replaces the IP devices.
    pub fn set_ipdevs(&mut self, devs: Vec<IpDev>) {
        self.ipdevs = devs;
    }

    /// The tunnel port `name` of `bridge`.
    pub fn port(&self, bridge: &str, name: &str) -> Option<&TnlPort> {
        self.ports
            .iter()
            .find(|p| p.bridge == bridge && p.name == name)
    }

    /// True if any tunnel port exists (native tunnelling is on).
    pub fn any(&self) -> bool {
        !self.ports.is_empty()
    }

    /// The tunnel port that receives a packet decapsulated by vport
    /// `odp_port` with tunnel metadata `t`: (bridge, OpenFlow port).
    pub fn receive(&self, odp_port: u32, t: &packet::flow::FlowTnl) -> Option<(String, u32)> {
        let mut best: Option<(u32, &TnlPort)> = None;
        for p in self.ports.iter().filter(|p| p.odp_port == odp_port) {
            if let Some(s) = p.receive_score(t) {
                if best.is_none_or(|(b, _)| s > b) {
                    best = Some((s, p));
                }
            }
        }
        best.map(|(_, p)| (p.bridge.clone(), p.ofp_port))
    }

    /// True if datapath port `odp_port` is a tunnel vport.
    pub fn is_vport(&self, odp_port: u32) -> bool {
        self.listening.iter().any(|(_, o)| *o == odp_port)
    }

    /// The IP protocol and port a vport's packets arrive on; `None` for
    /// the types the port map leaves out (`lisp`, `bareudp`).
    fn proto_of(&self, vport: &str) -> Option<(u8, Option<u16>)> {
        let p = self.ports.iter().find(|p| p.vport == vport)?;
        if is_gre(&p.type_) {
            Some((IPPROTO_GRE, None))
        } else if matches!(p.type_.as_str(), "lisp" | "bareudp") {
            None
        } else {
            let proto = if p.type_ == "stt" {
                IPPROTO_TCP
            } else {
                IPPROTO_UDP
            };
            let port = p
                .dst_port
                .or_else(|| default_udp_port(&p.type_))
                .unwrap_or(0);
            Some((proto, Some(port)))
        }
    }

    /// The port map's entries: (vport, odp, dev MAC, address, proto, UDP
    /// port), grouped the way upstream's classifier lists them.
    fn map_entries(&self) -> Vec<(String, u32, [u8; 6], IpAddr, u8, Option<u16>)> {
        let mut all = Vec::new();
        for dev in &self.ipdevs {
            for (v, odp) in &self.listening {
                let Some((proto, port)) = self.proto_of(v) else {
                    continue;
                };
                for a in &dev.addrs {
                    // A second vport with the same match (ip6erspan after
                    // erspan) shares the first one's entry.
                    if all
                        .iter()
                        .any(|e: &(String, u32, [u8; 6], IpAddr, u8, Option<u16>)| {
                            (e.2, e.3, e.4, e.5) == (dev.mac, *a, proto, port)
                        })
                    {
                        continue;
                    }
                    all.push((v.clone(), *odp, dev.mac, *a, proto, port));
                }
            }
        }
        // One classifier subtable per mask (UDP or not, IPv4 or IPv6), in
        // the order the subtables were created.
        let group =
            |e: &(String, u32, [u8; 6], IpAddr, u8, Option<u16>)| (e.5.is_some(), e.3.is_ipv6());
        let mut order: Vec<(bool, bool)> = Vec::new();
        for e in &all {
            let g = group(e);
            if !order.contains(&g) {
                order.push(g);
            }
        }
        let mut out = Vec::new();
        for g in order {
            out.extend(all.iter().filter(|e| group(e) == g).cloned());
        }
        out
    }

    /// The vport that decapsulates `flow` when it reaches a LOCAL port,
    /// unwildcarding in `wc` what the lookup looked at.
    pub fn map_lookup(&self, flow: &Flow, wc: &mut Flow) -> Option<u32> {
        let entries = self.map_entries();
        let mut found = None;
        for (_, odp, mac, addr, proto, port) in entries {
            // Stage 1: Ethernet destination and type.
            wc.dl_dst = [0xff; 6];
            wc.dl_type = u16::MAX;
            let dl_type = if addr.is_ipv6() { 0x86dd } else { 0x0800 };
            if flow.dl_dst != mac || flow.dl_type != dl_type {
                continue;
            }
            // Stage 2: IP destination, protocol, fragments.
            wc.nw_proto = u8::MAX;
            wc.nw_frag = packet::flow::FLOW_NW_FRAG_MASK;
            let dst_ok = match addr {
                IpAddr::V4(a) => {
                    wc.nw_dst = u32::MAX;
                    flow.nw_dst == u32::from(a)
                }
                IpAddr::V6(a) => {
                    wc.ipv6_dst = [0xff; 16];
                    flow.ipv6_dst == a.octets()
                }
            };
            if !dst_ok || flow.nw_proto != proto || flow.nw_frag != 0 {
                continue;
            }
            // Stage 3: UDP destination port.
            if let Some(p) = port {
                wc.tp_dst = u16::MAX;
                if flow.tp_dst != p {
                    continue;
                }
            }
            found = Some(odp);
            break;
        }
        found
    }

    /// `tnl/ports/show [-v]`.
    pub fn show(&self, verbose: bool) -> String {
        let mut s = String::from("Listening ports:\n");
        if verbose {
            for (v, odp, mac, addr, proto, port) in self.map_entries() {
                s.push_str(&format!(
                    "{v} ({odp}) : eth(dst={})",
                    super::neigh::format_mac(&mac)
                ));
                match addr {
                    IpAddr::V4(a) => s.push_str(&format!(
                        ",eth_type(0x0800),ipv4(dst={a},proto={proto},frag=no)"
                    )),
                    IpAddr::V6(a) => s.push_str(&format!(
                        ",eth_type(0x86dd),ipv6(dst={},proto={proto},frag=no)",
                        format_ip(&a)
                    )),
                }
                if let Some(p) = port {
                    let l4 = if proto == IPPROTO_TCP { "tcp" } else { "udp" };
                    s.push_str(&format!(",{l4}(dst={p})"));
                }
                s.push('\n');
            }
        } else {
            for (v, odp) in &self.listening {
                if self.proto_of(v).is_none() {
                    continue;
                }
                let n = self.ports.iter().filter(|p| p.vport == *v).count();
                s.push_str(&format!("{v} ({odp}) ref_cnt={n}\n"));
            }
        }
        s
    }
}

/// The IANA port of a UDP-based tunnel type.
pub fn default_udp_port(type_: &str) -> Option<u16> {
    match type_ {
        "vxlan" => Some(4789),
        "geneve" => Some(6081),
        "lisp" => Some(4341),
        "stt" => Some(7471),
        "gtpu" => Some(2152),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn port(name: &str, type_: &str, vport: &str, odp: u32, ofp: u32) -> TnlPort {
        TnlPort {
            bridge: "int-br".into(),
            name: name.into(),
            ofp_port: ofp,
            vport: vport.into(),
            odp_port: odp,
            type_: type_.into(),
            remote: TnlAddr::Ip("1.1.2.92".parse().unwrap()),
            in_key: TnlKey::Fixed(123),
            out_key: TnlKey::Fixed(123),
            ..Default::default()
        }
    }

    #[test]
    fn listening_ports_map_and_receive() {
        let mut t = TnlPorts::default();
        t.set(port("t2", "vxlan", "vxlan_sys_4789", 4789, 2));
        t.set(port("t4", "geneve", "genev_sys_6081", 6081, 5));
        t.set(port("t1", "gre", "gre_sys", 1, 3));
        let mut t3 = port("t3", "vxlan", "vxlan_sys_4789", 4789, 4);
        t3.remote = TnlAddr::Flow;
        t3.in_key = TnlKey::Flow;
        t.set(t3);
        assert_eq!(
            t.show(false),
            "Listening ports:\nvxlan_sys_4789 (4789) ref_cnt=2\ngenev_sys_6081 (6081) ref_cnt=1\ngre_sys (1) ref_cnt=1\n"
        );
        let mac = [0xaa, 0x55, 0xaa, 0x55, 0, 0];
        t.set_ipdevs(vec![IpDev {
            name: "br0".into(),
            mac,
            addrs: vec![
                "1.1.2.88".parse().unwrap(),
                "2001:cafe::88".parse().unwrap(),
            ],
        }]);
        assert_eq!(
            t.show(true),
            "Listening ports:\n\
             vxlan_sys_4789 (4789) : eth(dst=aa:55:aa:55:00:00),eth_type(0x0800),ipv4(dst=1.1.2.88,proto=17,frag=no),udp(dst=4789)\n\
             genev_sys_6081 (6081) : eth(dst=aa:55:aa:55:00:00),eth_type(0x0800),ipv4(dst=1.1.2.88,proto=17,frag=no),udp(dst=6081)\n\
             vxlan_sys_4789 (4789) : eth(dst=aa:55:aa:55:00:00),eth_type(0x86dd),ipv6(dst=2001:cafe::88,proto=17,frag=no),udp(dst=4789)\n\
             genev_sys_6081 (6081) : eth(dst=aa:55:aa:55:00:00),eth_type(0x86dd),ipv6(dst=2001:cafe::88,proto=17,frag=no),udp(dst=6081)\n\
             gre_sys (1) : eth(dst=aa:55:aa:55:00:00),eth_type(0x0800),ipv4(dst=1.1.2.88,proto=47,frag=no)\n\
             gre_sys (1) : eth(dst=aa:55:aa:55:00:00),eth_type(0x86dd),ipv6(dst=2001:cafe::88,proto=47,frag=no)\n"
        );
        let mut f = Flow {
            dl_dst: mac,
            dl_type: 0x0800,
            nw_dst: u32::from(std::net::Ipv4Addr::new(1, 1, 2, 88)),
            nw_proto: 17,
            tp_dst: 4789,
            ..Default::default()
        };
        let mut wc = Flow::default();
        assert_eq!(t.map_lookup(&f, &mut wc), Some(4789));
        assert_eq!(wc.tp_dst, u16::MAX);
        f.tp_dst = 53;
        assert_eq!(t.map_lookup(&f, &mut Flow::default()), None);

        let mut tun = packet::flow::FlowTnl {
            ip_src: u32::from(std::net::Ipv4Addr::new(1, 1, 2, 92)),
            ip_dst: u32::from(std::net::Ipv4Addr::new(1, 1, 2, 88)),
            tun_id: 123,
            ..Default::default()
        };
        assert_eq!(t.receive(4789, &tun), Some(("int-br".into(), 2)));
        tun.tun_id = 7;
        assert_eq!(t.receive(4789, &tun), Some(("int-br".into(), 4)));
        assert_eq!(t.receive(6081, &tun), None);
        t.remove("int-br", "t4");
        assert!(!t.show(false).contains("genev"));
    }
}
