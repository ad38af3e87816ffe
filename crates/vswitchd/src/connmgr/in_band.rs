//! In-band control (upstream's in_band): when a bridge reaches its
//! controllers and managers through its own ports, hidden table-0 rules
//! (priorities 180000 to 180008, above every OpenFlow rule, see
//! [`ofproto::hidden`]) send the traffic that keeps those connections up
//! to `NORMAL` (after `set_queue` with `other_config:in-band-queue`),
//! whatever the OpenFlow tables say:
//!
//! - (a) DHCP requests from the local port's MAC on the local port,
//!   (a) to (c) only while there are remotes,
//! - (b) ARP replies to and (c) ARP requests from the local port's MAC,
//! - (d) ARP replies to and (e) ARP requests from each remote's next-hop
//!   MAC, once known,
//! - (f) ARP replies to and (g) ARP requests from each remote's IP,
//! - (h) TCP to and (i) TCP from each remote's IP and port.
//!
//! Remotes are the in-band Controller targets and the managers' targets
//! that are active `tcp:`/`ssl:` ones over IPv4. The local MAC is looked at
//! every second; a remote's next hop is looked up through the system's
//! routes (the first route in the table's order that covers the remote,
//! as upstream reads them) and neighbours every second while its MAC is
//! unknown, every ten seconds once known (on the dummy datapath the
//! lookup is not supported, as upstream's, and says so). All timing is on
//! the daemon clock.

use super::BridgeShared;
use flow::actions::{OfpAction, OfpPort, Output};
use flow::Match;
use std::net::{Ipv4Addr, SocketAddrV4};

/// The priorities of the rules, (a) to (i).
const IBR_FROM_LOCAL_DHCP: u32 = 180_000;
const IBR_TO_LOCAL_ARP: u32 = 180_001;
const IBR_FROM_LOCAL_ARP: u32 = 180_002;
const IBR_TO_NEXT_HOP_ARP: u32 = 180_003;
const IBR_FROM_NEXT_HOP_ARP: u32 = 180_004;
const IBR_TO_REMOTE_ARP: u32 = 180_005;
const IBR_FROM_REMOTE_ARP: u32 = 180_006;
const IBR_TO_REMOTE_TCP: u32 = 180_007;
const IBR_FROM_REMOTE_TCP: u32 = 180_008;

const ETH_TYPE_IP: u16 = 0x0800;
const ETH_TYPE_ARP: u16 = 0x0806;
const IPPROTO_TCP: u8 = 6;
const IPPROTO_UDP: u8 = 17;
const ARP_OP_REQUEST: u8 = 1;
const ARP_OP_REPLY: u8 = 2;
const DHCP_CLIENT_PORT: u16 = 68;
const DHCP_SERVER_PORT: u16 = 67;
const OFPP_LOCAL: u32 = 0xfffe;
/// The default ports of controller and manager targets.
pub const OFP_PORT: u16 = 6653;
pub const OVSDB_PORT: u16 = 6640;

/// How a bridge finds the MAC address of the next hop towards a remote.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NextHopLookup {
    /// The bridge's local port is not a system device (the dummy
    /// datapath): lookups fail with `EOPNOTSUPP`, as upstream's.
    Unsupported,
    /// The system's routing table and neighbour cache.
    System,
}

/// The IPv4 address and port of an in-band target (`tcp:IP[:PORT]`,
/// `ssl:IP[:PORT]`), or `None` for any other kind of target.
pub fn remote_addr(target: &str, default_port: u16) -> Option<SocketAddrV4> {
    let rest = target
        .strip_prefix("tcp:")
        .or_else(|| target.strip_prefix("ssl:"))?;
    let (host, port) = match rest.split_once(':') {
        Some((h, p)) => (h, p.parse::<u16>().ok()?),
        None => (rest, default_port),
    };
    let ip: Ipv4Addr = host.parse().ok()?;
    Some(SocketAddrV4::new(ip, port))
}

struct Remote {
    addr: SocketAddrV4,
    mac: Option<[u8; 6]>,
}

/// The in-band state of one bridge.
pub struct InBand {
    lookup: NextHopLookup,
    queue: Option<u32>,
    remotes: Vec<Remote>,
    local_mac: Option<[u8; 6]>,
    /// The rules installed, as (priority, match).
    installed: Vec<(u32, Match)>,
    next_local_refresh: u64,
    next_remote_refresh: u64,
    /// The actions of the installed rules (to notice a queue change).
    actions: Vec<OfpAction>,
}

impl InBand {
    pub fn new(lookup: NextHopLookup) -> InBand {
        InBand {
            lookup,
            queue: None,
            remotes: Vec::new(),
            local_mac: None,
            installed: Vec::new(),
            next_local_refresh: 0,
            next_remote_refresh: 0,
            actions: Vec::new(),
        }
    }

    /// Sets the remotes (refreshed at once when they change) and the
    /// queue (`in-band-queue`, negative: none).
    pub fn configure(&mut self, remotes: &[SocketAddrV4], queue: Option<u32>) {
        self.queue = queue;
        let same = remotes.len() == self.remotes.len()
            && remotes.iter().zip(&self.remotes).all(|(a, r)| *a == r.addr);
        if !same {
            self.remotes = remotes
                .iter()
                .map(|a| Remote {
                    addr: *a,
                    mac: None,
                })
                .collect();
            self.next_remote_refresh = 0;
        }
    }

    /// One pass at `now` (ms, daemon clock): refreshes what is due and
    /// makes the hidden rules the wanted ones. Returns false once there
    /// are neither remotes nor rules (the in-band state may go).
    pub fn run(&mut self, shared: &BridgeShared, now: u64) -> bool {
        if now >= self.next_local_refresh {
            self.next_local_refresh = now + 1000;
            self.local_mac = shared.with_ofproto_quiet(|o| {
                o.port(OFPP_LOCAL)
                    .map(|p| p.hw_addr)
                    .filter(|m| *m != [0; 6])
            });
        }
        if now >= self.next_remote_refresh {
            let mut next = u64::MAX;
            for r in &mut self.remotes {
                let secs = refresh_remote(&shared.name, self.lookup, r);
                next = next.min(now + secs * 1000);
            }
            self.next_remote_refresh = next;
        }
        let mut actions = Vec::new();
        if let Some(q) = self.queue {
            actions.push(OfpAction::SetQueue(q));
        }
        actions.push(OfpAction::Output(Output {
            port: OfpPort::NORMAL,
            max_len: 0,
        }));
        let wanted = self.wanted_rules();
        let renew = actions != self.actions;
        shared.with_ofproto(|o| {
            for (prio, m) in &self.installed {
                if !wanted.iter().any(|(p, w)| p == prio && w == m) {
                    o.delete_hidden_rule(m, *prio);
                }
            }
            for (prio, m) in &wanted {
                if renew || !self.installed.iter().any(|(p, i)| p == prio && i == m) {
                    o.add_hidden_rule(m, *prio, &actions);
                }
            }
        });
        self.installed = wanted;
        self.actions = actions;
        !self.remotes.is_empty() || !self.installed.is_empty()
    }

    /// The rules in-band control wants now, each once.
    fn wanted_rules(&self) -> Vec<(u32, Match)> {
        let mut rules: Vec<(u32, Match)> = Vec::new();
        let mut add = |prio: u32, m: Match| {
            if !rules.iter().any(|(p, r)| *p == prio && *r == m) {
                rules.push((prio, m));
            }
        };
        let local_mac = self.local_mac.filter(|_| !self.remotes.is_empty());
        if let Some(mac) = local_mac {
            let mut m = with_type(ETH_TYPE_IP);
            m.flow.in_port = OFPP_LOCAL;
            m.wc.in_port = u32::MAX;
            set_dl_src(&mut m, mac);
            set_nw_proto(&mut m, IPPROTO_UDP);
            set_tp(&mut m, Some(DHCP_CLIENT_PORT), Some(DHCP_SERVER_PORT));
            add(IBR_FROM_LOCAL_DHCP, m);

            let mut m = arp(ARP_OP_REPLY);
            set_dl_dst(&mut m, mac);
            add(IBR_TO_LOCAL_ARP, m);

            let mut m = arp(ARP_OP_REQUEST);
            set_dl_src(&mut m, mac);
            add(IBR_FROM_LOCAL_ARP, m);
        }
        for r in &self.remotes {
            let Some(mac) = r.mac else { continue };
            let mut m = arp(ARP_OP_REPLY);
            set_dl_dst(&mut m, mac);
            add(IBR_TO_NEXT_HOP_ARP, m);

            let mut m = arp(ARP_OP_REQUEST);
            set_dl_src(&mut m, mac);
            add(IBR_FROM_NEXT_HOP_ARP, m);
        }
        for r in &self.remotes {
            let ip = u32::from(*r.addr.ip());
            let port = r.addr.port();
            let mut m = arp(ARP_OP_REPLY);
            m.flow.nw_dst = ip;
            m.wc.nw_dst = u32::MAX;
            add(IBR_TO_REMOTE_ARP, m);

            let mut m = arp(ARP_OP_REQUEST);
            m.flow.nw_src = ip;
            m.wc.nw_src = u32::MAX;
            add(IBR_FROM_REMOTE_ARP, m);

            let mut m = with_type(ETH_TYPE_IP);
            set_nw_proto(&mut m, IPPROTO_TCP);
            m.flow.nw_dst = ip;
            m.wc.nw_dst = u32::MAX;
            set_tp(&mut m, None, Some(port));
            add(IBR_TO_REMOTE_TCP, m);

            let mut m = with_type(ETH_TYPE_IP);
            set_nw_proto(&mut m, IPPROTO_TCP);
            m.flow.nw_src = ip;
            m.wc.nw_src = u32::MAX;
            set_tp(&mut m, Some(port), None);
            add(IBR_FROM_REMOTE_TCP, m);
        }
        rules
    }

    /// Removes every rule (the bridge no longer does in-band control).
    pub fn clear(&mut self, shared: &BridgeShared) {
        self.remotes.clear();
        shared.with_ofproto(|o| {
            for (prio, m) in &self.installed {
                o.delete_hidden_rule(m, *prio);
            }
        });
        self.installed.clear();
    }
}

fn with_type(dl_type: u16) -> Match {
    let mut m = Match::catchall();
    m.set_dl_type(dl_type);
    m
}

fn arp(op: u8) -> Match {
    let mut m = with_type(ETH_TYPE_ARP);
    set_nw_proto(&mut m, op);
    m
}

fn set_nw_proto(m: &mut Match, proto: u8) {
    m.set_nw_proto(proto);
}

fn set_dl_src(m: &mut Match, mac: [u8; 6]) {
    m.flow.dl_src = mac;
    m.wc.dl_src = [0xff; 6];
}

fn set_dl_dst(m: &mut Match, mac: [u8; 6]) {
    m.flow.dl_dst = mac;
    m.wc.dl_dst = [0xff; 6];
}

fn set_tp(m: &mut Match, src: Option<u16>, dst: Option<u16>) {
    if let Some(p) = src {
        m.flow.tp_src = p;
        m.wc.tp_src = u16::MAX;
    }
    if let Some(p) = dst {
        m.flow.tp_dst = p;
        m.wc.tp_dst = u16::MAX;
    }
}

/// Looks up the next hop's MAC of `r`; returns the seconds until the
/// next refresh (1 while unknown, 10 once known).
fn refresh_remote(bridge: &str, lookup: NextHopLookup, r: &mut Remote) -> u64 {
    let ip = *r.addr.ip();
    let hop = match lookup {
        NextHopLookup::Unsupported => Err(libc::EOPNOTSUPP),
        NextHopLookup::System => system_next_hop(ip),
    };
    let (gw, dev) = match hop {
        Ok(h) => h,
        Err(e) => {
            vlog::warn!(
                "in_band",
                "{bridge}: cannot find route for controller ({ip}): {}",
                rpc::errno::strerror(e)
            );
            r.mac = None;
            return 1;
        }
    };
    let hop_ip = if gw.is_unspecified() { ip } else { gw };
    let old = r.mac;
    r.mac = system_neighbour(hop_ip, &dev);
    if r.mac.is_none() {
        vlog::dbg!(
            "in_band",
            "{bridge}: cannot look up remote MAC address ({})",
            rpc::errno::strerror(libc::ENXIO)
        );
    } else if r.mac != old {
        if let Some(m) = r.mac {
            vlog::dbg!(
                "in_band",
                "{bridge}: learned that {ip} is at {}",
                m.iter()
                    .map(|b| format!("{b:02x}"))
                    .collect::<Vec<_>>()
                    .join(":")
            );
        }
    }
    if r.mac.is_none() {
        1
    } else {
        10
    }
}

/// The gateway (unspecified when directly reachable) and device of the
/// route to `ip` in the system's IPv4 routing table, as upstream picks it
/// (see [`first_route`]).
fn system_next_hop(ip: Ipv4Addr) -> Result<(Ipv4Addr, String), i32> {
    let text = std::fs::read_to_string("/proc/net/route")
        .map_err(|e| e.raw_os_error().unwrap_or(libc::EIO))?;
    first_route(&text, ip).ok_or(libc::ENXIO)
}

/// The first route of a `/proc/net/route` table that is up and covers
/// `ip`, in the table's order — not the most specific one: upstream reads
/// the table this way, so a wider route listed earlier (the default route
/// usually comes first) wins over the one the kernel would use.
fn first_route(table: &str, ip: Ipv4Addr) -> Option<(Ipv4Addr, String)> {
    // Addresses are in the kernel's byte order, written as hex.
    let addr = |h: &str| {
        u32::from_str_radix(h, 16)
            .ok()
            .map(|v| u32::from_be_bytes(v.to_ne_bytes()))
    };
    let want = u32::from(ip);
    for line in table.lines().skip(1) {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() < 8 {
            continue;
        }
        let (Some(dst), Some(gw), Some(mask)) = (addr(f[1]), addr(f[2]), addr(f[7])) else {
            continue;
        };
        let flags = u32::from_str_radix(f[3], 16).unwrap_or(0);
        const RTF_UP: u32 = 1;
        if flags & RTF_UP == 0 || want & mask != dst & mask {
            continue;
        }
        return Some((Ipv4Addr::from(gw), f[0].to_string()));
    }
    None
}

/// The MAC the system's neighbour cache has for `ip` on `dev`.
fn system_neighbour(ip: Ipv4Addr, dev: &str) -> Option<[u8; 6]> {
    let text = std::fs::read_to_string("/proc/net/arp").ok()?;
    neighbour_in(&text, ip, dev)
}

fn neighbour_in(table: &str, ip: Ipv4Addr, dev: &str) -> Option<[u8; 6]> {
    const ATF_COM: u32 = 2;
    for line in table.lines().skip(1) {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() < 6 || f[0] != ip.to_string() || f[5] != dev {
            continue;
        }
        let flags = u32::from_str_radix(f[2].trim_start_matches("0x"), 16).unwrap_or(0);
        if flags & ATF_COM == 0 {
            continue;
        }
        let mut mac = [0u8; 6];
        let parts: Vec<&str> = f[3].split(':').collect();
        if parts.len() != 6 {
            continue;
        }
        for (b, p) in mac.iter_mut().zip(parts) {
            *b = u8::from_str_radix(p, 16).ok()?;
        }
        return Some(mac);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_that_count() {
        assert_eq!(
            remote_addr("tcp:10.0.0.1", OFP_PORT),
            Some("10.0.0.1:6653".parse().unwrap())
        );
        assert_eq!(
            remote_addr("ssl:10.0.0.1:99", OFP_PORT),
            Some("10.0.0.1:99".parse().unwrap())
        );
        assert_eq!(
            remote_addr("tcp:127.0.0.3", OVSDB_PORT),
            Some("127.0.0.3:6640".parse().unwrap())
        );
        assert_eq!(remote_addr("ptcp:6640:127.0.0.4", OVSDB_PORT), None);
        assert_eq!(remote_addr("tcp:[::1]:6655", OFP_PORT), None);
        assert_eq!(remote_addr("unix:/tmp/x", OFP_PORT), None);
    }

    #[test]
    fn rules_print_as_upstream_s() {
        let mut ib = InBand::new(NextHopLookup::Unsupported);
        ib.configure(&["127.0.0.1:6653".parse().unwrap()], None);
        ib.local_mac = Some([0, 0, 0x5e, 0, 0x53, 1]);
        let text: Vec<String> = ib
            .wanted_rules()
            .iter()
            .map(|(p, m)| m.format(*p as i32))
            .collect();
        assert_eq!(
            text,
            [
                "priority=180000,udp,in_port=LOCAL,dl_src=00:00:5e:00:53:01,tp_src=68,tp_dst=67",
                "priority=180001,arp,dl_dst=00:00:5e:00:53:01,arp_op=2",
                "priority=180002,arp,dl_src=00:00:5e:00:53:01,arp_op=1",
                "priority=180005,arp,arp_tpa=127.0.0.1,arp_op=2",
                "priority=180006,arp,arp_spa=127.0.0.1,arp_op=1",
                "priority=180007,tcp,nw_dst=127.0.0.1,tp_dst=6653",
                "priority=180008,tcp,nw_src=127.0.0.1,tp_src=6653",
            ]
        );
    }

    #[test]
    fn routes_and_neighbours_from_proc() {
        let routes =
            "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n\
            eth0\t00000000\t0102000A\t0003\t0\t0\t0\t00000000\t0\t0\t0\n\
            eth1\t0002000A\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n\
            eth2\t0003000A\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n";
        // The default route, listed first, wins even for the directly
        // reachable subnet, as upstream reads the table.
        assert_eq!(
            first_route(routes, "10.0.2.7".parse().unwrap()),
            Some(("10.0.2.1".parse().unwrap(), "eth0".to_string()))
        );
        assert_eq!(
            first_route(routes, "8.8.8.8".parse().unwrap()),
            Some(("10.0.2.1".parse().unwrap(), "eth0".to_string()))
        );
        let no_default = routes
            .lines()
            .filter(|l| !l.starts_with("eth0"))
            .collect::<Vec<_>>()
            .join("\n");
        assert_eq!(
            first_route(&no_default, "10.0.3.7".parse().unwrap()),
            Some(("0.0.0.0".parse().unwrap(), "eth2".to_string()))
        );
        assert_eq!(first_route(&no_default, "8.8.8.8".parse().unwrap()), None);
        let arp =
            "IP address       HW type     Flags       HW address            Mask     Device\n\
            10.0.2.1         0x1         0x2         52:55:0a:00:02:02     *        eth0\n\
            10.0.2.9         0x1         0x0         00:00:00:00:00:00     *        eth0\n";
        assert_eq!(
            neighbour_in(arp, "10.0.2.1".parse().unwrap(), "eth0"),
            Some([0x52, 0x55, 0x0a, 0, 2, 2])
        );
        assert_eq!(neighbour_in(arp, "10.0.2.9".parse().unwrap(), "eth0"), None);
    }
}
