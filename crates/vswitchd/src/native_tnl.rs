//! The daemon's side of native tunnelling (the state itself is
//! `ofproto::tnl`): the `ovs/route/*`, `tnl/neigh/*` (and `tnl/arp/*`),
//! `tnl/ports/show` and `netdev-dummy/ip4addr`/`ip6addr` commands; and a
//! thread that keeps the IP devices (every bridge's non-tunnel ports with
//! addresses) and, unless `--disable-system-route`, the system's routes
//! (read from the kernel over rtnetlink, shown as "Cached") up to date.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use ofproto::tnl::route::Route;
use ofproto::PortKind;

use crate::appctl::Daemon;
use crate::upcall::SharedRegistry;

static NO_SYSTEM_ROUTES: AtomicBool = AtomicBool::new(false);

/// `--disable-system-route`: the route table holds user routes only.
pub fn disable_system_routes() {
    NO_SYSTEM_ROUTES.store(true, Ordering::Relaxed);
}

/// A port number as C's `atoi` reads it (leading blanks, a sign, digits
/// up to the first other character), if within 1..=65535.
fn port_arg(s: &str) -> Option<u16> {
    let t = s.trim_start();
    let (neg, t) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let digits = t.bytes().take_while(|b| b.is_ascii_digit()).count();
    let v: u64 = t[..digits].parse().unwrap_or(0);
    if neg || v == 0 || v > 65535 {
        None
    } else {
        Some(v as u16)
    }
}

/// `tnl/egress_port_range [min max]`: shows the UDP source port range of
/// tunnel packets, or sets it.
fn egress_port_range(a: &[String]) -> String {
    if a.len() < 2 {
        let (min, max) = packet::tunnel::egress_port_range();
        return format!("Tunnel UDP source port range: {min}-{max}\n");
    }
    let Some(min) = port_arg(&a[0]) else {
        return "Invalid min.\n".into();
    };
    let Some(max) = port_arg(&a[1]) else {
        return "Invalid max.\n".into();
    };
    packet::tunnel::set_egress_port_range(min, max);
    "OK\n".into()
}

fn now() -> u64 {
    crate::clock::global().now_ms()
}

/// Registers the commands.
pub fn register(c: &rpc::unixctl::Commands, d: &Daemon) {
    let tnl = ofproto::tnl::global;
    let addrs = |dev: &str| ofproto::tnl::global().dev_addrs(dev);
    c.register(
        "ovs/route/add",
        "ip_addr/prefix_len out_br_name [gw] [pkt_mark=mark]",
        2,
        4,
        {
            let dd = d.clone();
            move |a| {
                let args: Vec<&str> = a.iter().map(|s| s.as_str()).collect();
                let r = tnl().routes_mut().cmd_add(&args, &addrs);
                refresh_ipdevs_of(&dd.lock());
                r
            }
        },
    );
    c.register(
        "ovs/route/del",
        "ip_addr/prefix_len [pkt_mark=mark]",
        1,
        2,
        {
            let dd = d.clone();
            move |a| {
                let args: Vec<&str> = a.iter().map(|s| s.as_str()).collect();
                let r = tnl().routes_mut().cmd_del(&args);
                refresh_ipdevs_of(&dd.lock());
                r
            }
        },
    );
    c.register(
        "ovs/route/lookup",
        "ip_addr [pkt_mark=mark]",
        1,
        2,
        move |a| {
            let args: Vec<&str> = a.iter().map(|s| s.as_str()).collect();
            tnl().routes().cmd_lookup(&args)
        },
    );
    c.register("ovs/route/show", "", 0, 0, move |_| {
        Ok(tnl().routes().show())
    });
    for family in ["neigh", "arp"] {
        c.register(&format!("tnl/{family}/show"), "", 0, 0, move |_| {
            let mut n = tnl().neigh();
            n.expire(now());
            Ok(n.show(now()))
        });
        c.register(
            &format!("tnl/{family}/set"),
            "BRIDGE IP MAC",
            3,
            3,
            move |a| {
                let args: Vec<&str> = a.iter().map(|s| s.as_str()).collect();
                tnl().neigh().cmd_set(&args, now())
            },
        );
        c.register(&format!("tnl/{family}/flush"), "", 0, 0, move |_| {
            tnl().neigh().flush();
            Ok("OK\n".into())
        });
        c.register(&format!("tnl/{family}/aging"), "[SECS]", 0, 1, move |a| {
            let args: Vec<&str> = a.iter().map(|s| s.as_str()).collect();
            tnl().neigh().cmd_aging(&args, now())
        });
    }
    c.register("tnl/egress_port_range", "min max", 0, 2, |a| {
        Ok(egress_port_range(a))
    });
    c.register("tnl/ports/show", "-v", 0, 1, move |a| {
        Ok(tnl().ports().show(a.first().is_some_and(|v| v == "-v")))
    });
    for v6 in [false, true] {
        let dd = d.clone();
        let (name, usage) = if v6 {
            ("netdev-dummy/ip6addr", "[netdev] ip6addr")
        } else {
            ("netdev-dummy/ip4addr", "[netdev] ipaddr/mask-prefix-len")
        };
        c.register(name, usage, 2, 2, move |a| {
            let sw = dd.lock();
            if !sw
                .bridges
                .values()
                .any(|b| b.backend.dummy(&a[0]).is_some())
            {
                return Err("Unknown Dummy Interface".into());
            }
            let (ip, plen) = parse_dummy_addr(&a[1], v6)?;
            tnl().addrs_mut().set_dummy(&a[0], ip, plen);
            refresh_ipdevs_of(&sw);
            Ok("OK\n".into())
        });
    }
}

/// `IP[/PLEN]` for `netdev-dummy/ip4addr` (`ip6addr` when `v6`), with
/// upstream's messages.
fn parse_dummy_addr(s: &str, v6: bool) -> Result<(IpAddr, u8), String> {
    let (ip, plen) = match s.split_once('/') {
        Some((i, p)) => (i, Some(p)),
        None => (s, None),
    };
    if v6 {
        let a: Ipv6Addr = ip
            .parse()
            .map_err(|_| format!("{s}: invalid IPv6 address"))?;
        let plen = match plen {
            Some(p) => p.parse::<u8>().ok().filter(|p| *p <= 128).ok_or_else(|| {
                format!("{s}: IPv6 network prefix bits not between 0 and 128, inclusive")
            })?,
            None => 128,
        };
        Ok((IpAddr::V6(a), plen))
    } else {
        let a: Ipv4Addr = ip.parse().map_err(|_| format!("{s}: invalid IP address"))?;
        let plen = match plen {
            Some(p) => p.parse::<u8>().ok().filter(|p| *p <= 32).ok_or_else(|| {
                format!("{s}: IPv4 network prefix bits not between 0 and 32, inclusive")
            })?,
            None => 32,
        };
        Ok((IpAddr::V4(a), plen))
    }
}

/// The IP devices: the devices routes go through, with their MAC (when a
/// bridge port) and addresses, in the order routes first named them.
fn ipdevs(ports: Vec<(String, [u8; 6])>) -> Vec<ofproto::tnl::ports::IpDev> {
    let tnl = ofproto::tnl::global();
    let names: Vec<String> = tnl.routes().ipdevs().to_vec();
    names
        .into_iter()
        .filter_map(|name| {
            let mac = ports.iter().find(|(n, _)| *n == name)?.1;
            let addrs: Vec<IpAddr> = tnl.dev_addrs(&name).into_iter().map(|(a, _)| a).collect();
            (!addrs.is_empty()).then_some(ofproto::tnl::ports::IpDev { name, mac, addrs })
        })
        .collect()
}

fn device_ports(o: &ofproto::Ofproto) -> Vec<(String, [u8; 6])> {
    o.ports()
        .filter(|p| !matches!(p.kind, PortKind::Tunnel { .. } | PortKind::Patch { .. }))
        .map(|p| (p.name.clone(), p.hw_addr))
        .collect()
}

fn refresh_ipdevs_of(sw: &crate::switch::Switch) {
    let mut ports = Vec::new();
    for b in sw.bridges.values() {
        ports.extend(b.shared.with_ofproto_quiet(device_ports));
    }
    ofproto::tnl::global().ports_mut().set_ipdevs(ipdevs(ports));
}

fn refresh_ipdevs(registry: &SharedRegistry) {
    let shared: Vec<_> = {
        let reg = registry.read().unwrap_or_else(|e| e.into_inner());
        reg.bridges.values().map(|b| b.shared.clone()).collect()
    };
    let mut ports = Vec::new();
    for s in shared {
        ports.extend(s.with_ofproto_quiet(device_ports));
    }
    let devs = ipdevs(ports);
    let tnl = ofproto::tnl::global();
    tnl.ports_mut().set_ipdevs(devs);
}

/// Packets translation asked to send from where they could not be sent
/// at once (the revalidator's passes): the route-table thread sends them.
static QUEUED: std::sync::Mutex<Vec<crate::upcall::PendingPacket>> =
    std::sync::Mutex::new(Vec::new());

/// Queues `pending` for the route-table thread (bounded: beyond 1024
/// waiting packets, new ones are dropped).
pub fn queue(pending: Vec<crate::upcall::PendingPacket>) {
    if pending.is_empty() {
        return;
    }
    let mut q = QUEUED.lock().unwrap_or_else(|e| e.into_inner());
    let room = 1024usize.saturating_sub(q.len());
    q.extend(pending.into_iter().take(room));
}

/// Starts (once per process) the thread that keeps IP devices and system
/// routes current and sends queued neighbour requests.
pub fn start(registry: SharedRegistry, datapaths: std::sync::Weak<crate::dpbackend::Datapaths>) {
    static STARTED: AtomicBool = AtomicBool::new(false);
    if STARTED.swap(true, Ordering::SeqCst) {
        return;
    }
    let spawned = std::thread::Builder::new()
        .name("route_table".into())
        .spawn(move || loop {
            refresh_ipdevs(&registry);
            let queued = std::mem::take(&mut *QUEUED.lock().unwrap_or_else(|e| e.into_inner()));
            if let (false, Some(dps)) = (queued.is_empty(), datapaths.upgrade()) {
                crate::upcall::send_pending_via(&registry, &dps.all(), queued);
            }
            if !NO_SYSTEM_ROUTES.load(Ordering::Relaxed) {
                if let Ok(routes) = crate::rtnl::dump_routes() {
                    let tnl = ofproto::tnl::global();
                    let cached: Vec<Route> = routes
                        .into_iter()
                        .filter_map(|r| r.into_route(&|d| tnl.dev_addrs(d)))
                        .collect();
                    let changed = tnl.routes_mut().set_cached(cached);
                    if changed {
                        // Tunnels' egress devices follow the system's
                        // routes (not the user's, as upstream).
                        tnl.ports_mut().refresh_egress();
                    }
                }
            }
            std::thread::sleep(Duration::from_millis(500));
        });
    if let Err(e) = spawned {
        vlog::err!(
            "route_table",
            "could not start the route table thread ({e})"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dummy_addresses_parse_with_upstreams_messages() {
        assert_eq!(
            parse_dummy_addr("1.1.2.88/24", false),
            Ok(("1.1.2.88".parse().unwrap(), 24))
        );
        assert_eq!(
            parse_dummy_addr("1.1.1.1", false),
            Ok(("1.1.1.1".parse().unwrap(), 32))
        );
        assert_eq!(
            parse_dummy_addr("1.1.1.1/33", false),
            Err("1.1.1.1/33: IPv4 network prefix bits not between 0 and 32, inclusive".into())
        );
        assert_eq!(
            parse_dummy_addr("1.1.1/3", false),
            Err("1.1.1/3: invalid IP address".into())
        );
        assert_eq!(
            parse_dummy_addr("zz/64", true),
            Err("zz/64: invalid IPv6 address".into())
        );
    }
}
