//! The tunnel neighbour cache (upstream's tnl-neigh-cache): IP → MAC per
//! bridge, filled by snooping ARP replies (and gratuitous ARPs) and IPv6
//! neighbour advertisements that reach a bridge's LOCAL port, or by
//! `tnl/neigh/set`; entries age out after `tnl/neigh/aging` seconds
//! (900 by default) unless refreshed.  Also the `tnl/neigh/*` texts.

use std::net::Ipv6Addr;

use super::route::{format_ip, parse_ip};

/// Default and largest aging time, in seconds.
pub const DEFAULT_AGING: u32 = 900;
pub const MAX_AGING: u32 = 3600;

#[derive(Clone, Debug, PartialEq, Eq)]
struct Entry {
    ip: Ipv6Addr,
    mac: [u8; 6],
    bridge: String,
    /// Monotonic milliseconds after which the entry is gone.
    expires: u64,
}

/// The cache.
#[derive(Clone, Debug)]
pub struct NeighCache {
    entries: Vec<Entry>,
    aging_secs: u32,
}

impl Default for NeighCache {
    fn default() -> Self {
        NeighCache {
            entries: Vec::new(),
            aging_secs: DEFAULT_AGING,
        }
    }
}

/// Formats a MAC address as `xx:xx:xx:xx:xx:xx`.
pub fn format_mac(m: &[u8; 6]) -> String {
    format!(
        "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
        m[0], m[1], m[2], m[3], m[4], m[5]
    )
}

fn parse_mac(s: &str) -> Option<[u8; 6]> {
    let mut a = [0u8; 6];
    let mut parts = s.split(':');
    for b in a.iter_mut() {
        let p = parts.next()?;
        if p.is_empty() || p.len() > 2 {
            return None;
        }
        *b = u8::from_str_radix(p, 16).ok()?;
    }
    parts.next().is_none().then_some(a)
}

impl NeighCache {
    /// Learns (or refreshes) `ip` at `mac` on `bridge` at time `now` (ms).
    pub fn set(&mut self, bridge: &str, ip: Ipv6Addr, mac: [u8; 6], now: u64) {
        let expires = now + u64::from(self.aging_secs) * 1000;
        if let Some(e) = self
            .entries
            .iter_mut()
            .find(|e| e.ip == ip && e.bridge == bridge)
        {
            e.mac = mac;
            e.expires = expires;
            return;
        }
        self.entries.push(Entry {
            ip,
            mac,
            bridge: bridge.to_string(),
            expires,
        });
    }

    /// The MAC of `ip` on `bridge`, if known and not expired at `now`.
    pub fn lookup(&self, bridge: &str, ip: &Ipv6Addr, now: u64) -> Option<[u8; 6]> {
        self.entries
            .iter()
            .find(|e| e.ip == *ip && e.bridge == bridge && e.expires > now)
            .map(|e| e.mac)
    }

    /// Drops expired entries.
    pub fn expire(&mut self, now: u64) {
        self.entries.retain(|e| e.expires > now);
    }

    /// Drops every entry.
    pub fn flush(&mut self) {
        self.entries.clear();
    }

    /// `tnl/neigh/show`.
    pub fn show(&self, now: u64) -> String {
        let mut s = format!("{:<45} {:<19} {}\n", "IP", "MAC", "Bridge");
        s.push_str(&"=".repeat(74));
        s.push('\n');
        for e in self.entries.iter().rev().filter(|e| e.expires > now) {
            s.push_str(&format!(
                "{:<45} {:<19} {}\n",
                format_ip(&e.ip),
                format_mac(&e.mac),
                e.bridge
            ));
        }
        s
    }

    /// `tnl/neigh/set BRIDGE IP MAC`.
    pub fn cmd_set(&mut self, args: &[&str], now: u64) -> Result<String, String> {
        let bridge = args.first().copied().unwrap_or_default();
        let ip = args
            .get(1)
            .and_then(|a| parse_ip(a))
            .ok_or("bad IP address")?;
        let mac = args
            .get(2)
            .and_then(|a| parse_mac(a))
            .ok_or("bad MAC address")?;
        self.set(bridge, ip, mac, now);
        Ok("OK\n".into())
    }

    /// `tnl/neigh/aging [SECS]`.
    pub fn cmd_aging(&mut self, args: &[&str], now: u64) -> Result<String, String> {
        let Some(a) = args.first() else {
            return Ok(format!("{}\n", self.aging_secs));
        };
        let secs: u32 = a
            .parse()
            .ok()
            .filter(|s| (1..=MAX_AGING).contains(s))
            .ok_or("bad aging value")?;
        self.aging_secs = secs;
        // Entries never outlive the new aging time.
        let limit = now + u64::from(secs) * 1000;
        for e in &mut self.entries {
            e.expires = e.expires.min(limit);
        }
        Ok("OK\n".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_show_age_and_flush() {
        let mut c = NeighCache::default();
        assert_eq!(
            c.cmd_set(&["br0", "1.1.2.92", "f8:bc:12:44:34:b6"], 0),
            Ok("OK\n".into())
        );
        c.cmd_set(&["br0", "2001:cafe::92", "f8:bc:12:44:34:c8"], 0)
            .unwrap();
        assert_eq!(
            c.cmd_set(&["br0", "1.1.2", "f8:bc:12:44:34:b6"], 0),
            Err("bad IP address".into())
        );
        assert_eq!(
            c.cmd_set(&["br0", "1.1.2.93", "zz"], 0),
            Err("bad MAC address".into())
        );
        let show = c.show(0);
        assert_eq!(
            show,
            "IP                                            MAC                 Bridge\n\
             ==========================================================================\n\
             2001:cafe::92                                 f8:bc:12:44:34:c8   br0\n\
             1.1.2.92                                      f8:bc:12:44:34:b6   br0\n"
        );
        let ip = parse_ip("1.1.2.92").unwrap();
        assert_eq!(
            c.lookup("br0", &ip, 1000),
            Some([0xf8, 0xbc, 0x12, 0x44, 0x34, 0xb6])
        );
        assert_eq!(c.lookup("br1", &ip, 1000), None);
        assert_eq!(c.cmd_aging(&[], 0), Ok("900\n".into()));
        assert_eq!(c.cmd_aging(&["0"], 0), Err("bad aging value".into()));
        assert_eq!(c.cmd_aging(&["4000"], 0), Err("bad aging value".into()));
        assert_eq!(c.cmd_aging(&["10"], 0), Ok("OK\n".into()));
        assert_eq!(c.lookup("br0", &ip, 10_001), None);
        c.flush();
        assert!(c.lookup("br0", &ip, 0).is_none());
    }
}
