//! The tunnel route table (upstream's ovs-router): routes learned from the
//! system ("Cached", refreshed by the vswitchd from the kernel) and routes
//! added with `ovs/route/add` ("User"), looked up by destination and packet
//! mark, longest prefix first (local routes ahead of the rest), and the
//! `ovs/route/*` command texts and errors.
//!
//! Addresses are kept in IPv6 form, IPv4 ones mapped (`::ffff:a.b.c.d`,
//! prefix length + 96), and printed back in their own family.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// One route.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Route {
    /// Destination network (masked to `plen`).
    pub prefix: Ipv6Addr,
    /// Prefix length in the IPv6 space (IPv4 lengths + 96).
    pub plen: u8,
    /// `pkt_mark` the route is for (0: unmarked packets).
    pub mark: u32,
    /// Output device (a bridge for tunnel traffic).
    pub dev: String,
    /// Gateway (unspecified: on-link).
    pub gw: Ipv6Addr,
    /// Source address for packets on this route.
    pub src: Ipv6Addr,
    /// A local route (to one of the host's own addresses).
    pub local: bool,
    /// Added by `ovs/route/add` (else read from the system).
    pub user: bool,
}

impl Route {
    fn priority(&self) -> u32 {
        u32::from(self.plen) + if self.local { 64 } else { 0 }
    }

    fn contains(&self, ip: &Ipv6Addr) -> bool {
        mask(ip, self.plen) == self.prefix
    }
}

/// The IPv6 form of an address (IPv4 mapped).
pub fn to_v6(ip: IpAddr) -> Ipv6Addr {
    match ip {
        IpAddr::V4(a) => a.to_ipv6_mapped(),
        IpAddr::V6(a) => a,
    }
}

/// An address in its own family: mapped IPv4 as IPv4.
pub fn format_ip(ip: &Ipv6Addr) -> String {
    match ip.to_ipv4_mapped() {
        Some(v4) => v4.to_string(),
        None => ip.to_string(),
    }
}

/// `ip` with only its first `plen` bits.
pub fn mask(ip: &Ipv6Addr, plen: u8) -> Ipv6Addr {
    let bits = u128::from(*ip);
    let m = if plen == 0 {
        0
    } else {
        u128::MAX << (128 - u32::from(plen.min(128)))
    };
    Ipv6Addr::from(bits & m)
}

/// Parses `IP[/PLEN]` as the route commands take it; returns the address
/// (IPv6 form) and the prefix length in IPv6 space.
pub fn parse_prefix(s: &str) -> Option<(Ipv6Addr, u8)> {
    let (ip, plen) = match s.split_once('/') {
        Some((ip, p)) => (ip, Some(p)),
        None => (s, None),
    };
    if let Ok(v4) = ip.parse::<Ipv4Addr>() {
        let plen = match plen {
            Some(p) => parse_plen(p, 32)?,
            None => 32,
        };
        return Some((v4.to_ipv6_mapped(), plen + 96));
    }
    let v6 = ip.parse::<Ipv6Addr>().ok()?;
    let plen = match plen {
        Some(p) => parse_plen(p, 128)?,
        None => 128,
    };
    Some((v6, plen))
}

fn parse_plen(s: &str, max: u8) -> Option<u8> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) || s.len() > 3 {
        return None;
    }
    let n: u8 = s.parse().ok()?;
    (n <= max).then_some(n)
}

/// Parses an IPv4 or IPv6 address into IPv6 form.
pub fn parse_ip(s: &str) -> Option<Ipv6Addr> {
    if let Ok(v4) = s.parse::<Ipv4Addr>() {
        return Some(v4.to_ipv6_mapped());
    }
    s.parse::<Ipv6Addr>().ok()
}

/// `pkt_mark=N` (decimal or 0x hex).
fn parse_mark(s: &str) -> Option<u32> {
    let v = s.strip_prefix("pkt_mark=")?;
    if let Some(h) = v.strip_prefix("0x").or_else(|| v.strip_prefix("0X")) {
        return u32::from_str_radix(h, 16).ok();
    }
    v.parse().ok()
}

/// The addresses of a device (address, prefix length in its own family).
pub type AddrsOf<'a> = &'a dyn Fn(&str) -> Vec<(IpAddr, u8)>;

/// The source address a route through `dev` toward `toward` uses: the
/// device's address whose network holds `toward`.
pub fn source_for(dev: &str, toward: &Ipv6Addr, addrs: AddrsOf<'_>) -> Option<Ipv6Addr> {
    addrs(dev).into_iter().find_map(|(a, plen)| {
        let a6 = to_v6(a);
        let plen6 = if a.is_ipv4() { plen + 96 } else { plen };
        let both_v4 = a.is_ipv4() == toward.to_ipv4_mapped().is_some();
        (both_v4 && mask(&a6, plen6) == mask(toward, plen6)).then_some(a6)
    })
}

/// The route table.
#[derive(Clone, Debug, Default)]
pub struct RouteTable {
    /// In lookup order: highest priority first, then oldest first.
    routes: Vec<Route>,
    /// The devices routes were added through, in that order: the IP
    /// devices whose addresses terminate tunnels.  As upstream's, a
    /// device leaves when any of its routes is deleted.
    ipdevs: Vec<String>,
}

impl RouteTable {
    /// Adds `r`, replacing a route for the same network, length, mark and
    /// locality.
    pub fn insert(&mut self, r: Route) {
        if !self.ipdevs.contains(&r.dev) {
            self.ipdevs.push(r.dev.clone());
        }
        self.routes.retain(|o| {
            !(o.prefix == r.prefix && o.plen == r.plen && o.mark == r.mark && o.local == r.local)
        });
        let pos = self
            .routes
            .iter()
            .position(|o| o.priority() < r.priority())
            .unwrap_or(self.routes.len());
        self.routes.insert(pos, r);
    }

    /// Removes the route for `prefix/plen` and `mark`; false if none.
    pub fn delete(&mut self, prefix: &Ipv6Addr, plen: u8, mark: u32) -> bool {
        let p = mask(prefix, plen);
        let Some(i) = self
            .routes
            .iter()
            .position(|o| o.prefix == p && o.plen == plen && o.mark == mark && !o.local)
        else {
            return false;
        };
        let r = self.routes.remove(i);
        self.ipdevs.retain(|d| *d != r.dev);
        true
    }

    /// The devices routes go through (see the field).
    pub fn ipdevs(&self) -> &[String] {
        &self.ipdevs
    }

    /// Replaces every system route with `routes`.
    /// Returns true if the table changed.
    pub fn set_cached(&mut self, routes: Vec<Route>) -> bool {
        let before = self.routes.clone();
        self.routes.retain(|r| r.user);
        for r in routes {
            self.insert(r);
        }
        self.routes != before
    }

    /// Drops every route (system and user).
    pub fn clear(&mut self) {
        self.routes.clear();
        self.ipdevs.clear();
    }

    /// The route for `ip` and packet mark `mark`.
    pub fn lookup(&self, mark: u32, ip: &Ipv6Addr) -> Option<&Route> {
        self.routes
            .iter()
            .find(|r| r.mark == mark && r.contains(ip))
    }

    /// Every route in lookup order.
    pub fn routes(&self) -> &[Route] {
        &self.routes
    }

    /// `ovs/route/show`.
    pub fn show(&self) -> String {
        let mut s = String::from("Route Table:\n");
        for r in &self.routes {
            let v4 = r.prefix.to_ipv4_mapped().is_some() && r.plen >= 96;
            let plen = if v4 { r.plen - 96 } else { r.plen };
            s.push_str(if r.user { "User: " } else { "Cached: " });
            s.push_str(&format!("{}/{}", format_ip(&r.prefix), plen));
            if r.mark != 0 {
                s.push_str(&format!(" MARK {}", r.mark));
            }
            s.push_str(&format!(" dev {}", r.dev));
            if !r.gw.is_unspecified() {
                s.push_str(&format!(" GW {}", format_ip(&r.gw)));
            }
            s.push_str(&format!(" SRC {}", format_ip(&r.src)));
            if r.local {
                s.push_str(" local");
            }
            s.push('\n');
        }
        s
    }

    /// `ovs/route/add IP/PLEN BRIDGE [GW] [pkt_mark=MARK]`.
    pub fn cmd_add(&mut self, args: &[&str], addrs: AddrsOf<'_>) -> Result<String, String> {
        let invalid = || "Invalid parameters".to_string();
        let (ip, plen) = args
            .first()
            .and_then(|a| parse_prefix(a))
            .ok_or_else(invalid)?;
        let dev = args.get(1).ok_or_else(invalid)?.to_string();
        let mut gw = Ipv6Addr::UNSPECIFIED;
        let mut mark = 0;
        if let Some(a) = args.get(2) {
            if a.starts_with("pkt_mark=") {
                mark = parse_mark(a).ok_or("Invalid pkt_mark")?;
            } else if let Some(g) = parse_ip(a) {
                gw = g;
            } else {
                return Err("Invalid pkt_mark or gateway".into());
            }
        }
        if let Some(a) = args.get(3) {
            mark = parse_mark(a).ok_or("Invalid pkt_mark")?;
        }
        let prefix = mask(&ip, plen);
        let toward = if gw.is_unspecified() { ip } else { gw };
        let src = source_for(&dev, &toward, addrs).ok_or("Error while inserting route.")?;
        self.insert(Route {
            prefix,
            plen,
            mark,
            dev,
            gw,
            src,
            local: false,
            user: true,
        });
        Ok("OK\n".into())
    }

    /// `ovs/route/del IP/PLEN [pkt_mark=MARK]`.
    pub fn cmd_del(&mut self, args: &[&str]) -> Result<String, String> {
        let (ip, plen) = args
            .first()
            .and_then(|a| parse_prefix(a))
            .ok_or("Invalid parameters")?;
        let mark = match args.get(1) {
            Some(a) => parse_mark(a).ok_or("Invalid pkt_mark")?,
            None => 0,
        };
        if self.delete(&ip, plen, mark) {
            Ok("OK\n".into())
        } else {
            Err("Not found".into())
        }
    }

    /// `ovs/route/lookup IP [pkt_mark=MARK]`.
    pub fn cmd_lookup(&self, args: &[&str]) -> Result<String, String> {
        let ip = args
            .first()
            .and_then(|a| parse_ip(a))
            .ok_or("Invalid parameters")?;
        let mark = match args.get(1) {
            Some(a) => parse_mark(a).ok_or("Invalid pkt_mark")?,
            None => 0,
        };
        let r = self.lookup(mark, &ip).ok_or("Not found")?;
        Ok(format!(
            "src {}\ngateway {}\ndev {}\n",
            format_ip(&r.src),
            format_ip(&r.gw),
            r.dev
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addrs(dev: &str) -> Vec<(IpAddr, u8)> {
        match dev {
            "br0" => vec![
                ("1.1.2.88".parse().unwrap(), 24),
                ("2001:cafe::88".parse().unwrap(), 24),
            ],
            _ => Vec::new(),
        }
    }

    #[test]
    fn user_routes_show_and_lookup_like_upstream() {
        let mut t = RouteTable::default();
        let a: AddrsOf = &addrs;
        assert_eq!(t.cmd_add(&["1.1.2.92/24", "br0"], a), Ok("OK\n".into()));
        t.cmd_add(&["10.0.0.0/8", "br0", "1.1.2.1"], a).unwrap();
        t.cmd_add(&["10.1.0.0/16", "br0", "1.1.2.2", "pkt_mark=7"], a)
            .unwrap();
        t.cmd_add(&["0.0.0.0/0", "br0", "1.1.2.254"], a).unwrap();
        t.cmd_add(&["2001:db8::/64", "br0", "2001:cafe::1"], a)
            .unwrap();
        t.cmd_add(&["2001:cafe::92/24", "br0"], a).unwrap();
        assert_eq!(
            t.show(),
            "Route Table:\n\
             User: 1.1.2.0/24 dev br0 SRC 1.1.2.88\n\
             User: 10.1.0.0/16 MARK 7 dev br0 GW 1.1.2.2 SRC 1.1.2.88\n\
             User: 10.0.0.0/8 dev br0 GW 1.1.2.1 SRC 1.1.2.88\n\
             User: 0.0.0.0/0 dev br0 GW 1.1.2.254 SRC 1.1.2.88\n\
             User: 2001:db8::/64 dev br0 GW 2001:cafe::1 SRC 2001:cafe::88\n\
             User: 2001:ca00::/24 dev br0 SRC 2001:cafe::88\n"
        );
        assert_eq!(
            t.cmd_lookup(&["10.1.2.3"]).unwrap(),
            "src 1.1.2.88\ngateway 1.1.2.1\ndev br0\n"
        );
        assert_eq!(
            t.cmd_lookup(&["10.1.2.3", "pkt_mark=7"]).unwrap(),
            "src 1.1.2.88\ngateway 1.1.2.2\ndev br0\n"
        );
        assert_eq!(
            t.cmd_lookup(&["1.1.2.92"]).unwrap(),
            "src 1.1.2.88\ngateway ::\ndev br0\n"
        );
        assert_eq!(
            t.cmd_lookup(&["8.8.8.8", "pkt_mark=7"]),
            Err("Not found".into())
        );
        assert_eq!(t.cmd_lookup(&["zzz"]), Err("Invalid parameters".into()));
        assert_eq!(t.cmd_del(&["10.1.0.0/16"]), Err("Not found".into()));
        assert_eq!(t.cmd_del(&["10.1.0.0/16", "pkt_mark=7"]), Ok("OK\n".into()));
        assert_eq!(t.cmd_del(&["zz"]), Err("Invalid parameters".into()));
        assert!(
            t.ipdevs().is_empty(),
            "a deleted route takes its device along"
        );
        t.cmd_add(&["1.1.2.92/24", "br0"], a).unwrap();
        assert_eq!(t.ipdevs(), ["br0".to_string()]);
    }

    #[test]
    fn bad_routes_are_refused_with_upstreams_messages() {
        let mut t = RouteTable::default();
        let a: AddrsOf = &addrs;
        let e = |r: Result<String, String>| r.unwrap_err();
        assert_eq!(
            e(t.cmd_add(&["10.2.0.0/16", "br0"], a)),
            "Error while inserting route."
        );
        assert_eq!(
            e(t.cmd_add(&["10.2.0.5/33", "br0"], a)),
            "Invalid parameters"
        );
        assert_eq!(
            e(t.cmd_add(&["10.2.0.5/32", "nosuch"], a)),
            "Error while inserting route."
        );
        assert_eq!(
            e(t.cmd_add(&["10.2.0.5/32", "br0", "zzz"], a)),
            "Invalid pkt_mark or gateway"
        );
        assert_eq!(
            e(t.cmd_add(&["10.3.0.0/16", "br0", "1.1.2.2", "pkt_mark=x"], a)),
            "Invalid pkt_mark"
        );
        assert!(t.routes().is_empty());
    }
}
