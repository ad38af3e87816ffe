//! IP addresses of devices: those `netdev-dummy/ip4addr` and `ip6addr`
//! gave to dummy devices (kept here), else the system's (`getifaddrs`).

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Addresses given to dummy devices, by device name.
#[derive(Clone, Debug, Default)]
pub struct DevAddrs {
    dummy: BTreeMap<String, Vec<(IpAddr, u8)>>,
}

impl DevAddrs {
    /// Gives dummy device `name` the address `ip/plen` (one per family:
    /// a new one replaces the old, as upstream's dummy devices do).
    pub fn set_dummy(&mut self, name: &str, ip: IpAddr, plen: u8) {
        let v = self.dummy.entry(name.to_string()).or_default();
        v.retain(|(a, _)| a.is_ipv4() != ip.is_ipv4());
        if ip.is_ipv4() {
            v.insert(0, (ip, plen));
        } else {
            v.push((ip, plen));
        }
    }

    /// Forgets dummy device `name`'s addresses.
    pub fn remove_dummy(&mut self, name: &str) {
        self.dummy.remove(name);
    }

    /// The addresses of `name`: a dummy's, else the system's.
    pub fn of(&self, name: &str) -> Vec<(IpAddr, u8)> {
        match self.dummy.get(name) {
            Some(v) => v.clone(),
            None => system_addrs(name),
        }
    }
}

fn prefix_len(mask: &[u8]) -> u8 {
    mask.iter().map(|b| b.count_ones() as u8).sum()
}

/// The addresses the system gives interface `name`.
pub fn system_addrs(name: &str) -> Vec<(IpAddr, u8)> {
    let mut out = Vec::new();
    let mut head: *mut libc::ifaddrs = std::ptr::null_mut();
    // SAFETY: getifaddrs fills `head` with a list we free below.
    if unsafe { libc::getifaddrs(&mut head) } != 0 {
        return out;
    }
    let mut cur = head;
    while !cur.is_null() {
        // SAFETY: `cur` is a node of the list getifaddrs returned.
        let ifa = unsafe { &*cur };
        cur = ifa.ifa_next;
        if ifa.ifa_name.is_null() || ifa.ifa_addr.is_null() {
            continue;
        }
        // SAFETY: ifa_name is a NUL-terminated string owned by the list.
        let n = unsafe { std::ffi::CStr::from_ptr(ifa.ifa_name) };
        if n.to_bytes() != name.as_bytes() {
            continue;
        }
        // SAFETY: ifa_addr is non-null; its family says its real type.
        let fam = i32::from(unsafe { (*ifa.ifa_addr).sa_family });
        if fam == libc::AF_INET {
            // SAFETY: AF_INET addresses are sockaddr_in.
            let a = unsafe { &*(ifa.ifa_addr as *const libc::sockaddr_in) };
            let ip = Ipv4Addr::from(u32::from_be(a.sin_addr.s_addr));
            let plen = if ifa.ifa_netmask.is_null() {
                32
            } else {
                // SAFETY: the netmask has the address's family.
                let m = unsafe { &*(ifa.ifa_netmask as *const libc::sockaddr_in) };
                prefix_len(&m.sin_addr.s_addr.to_ne_bytes())
            };
            out.push((IpAddr::V4(ip), plen));
        } else if fam == libc::AF_INET6 {
            // SAFETY: AF_INET6 addresses are sockaddr_in6.
            let a = unsafe { &*(ifa.ifa_addr as *const libc::sockaddr_in6) };
            let ip = Ipv6Addr::from(a.sin6_addr.s6_addr);
            let plen = if ifa.ifa_netmask.is_null() {
                128
            } else {
                // SAFETY: as above.
                let m = unsafe { &*(ifa.ifa_netmask as *const libc::sockaddr_in6) };
                prefix_len(&m.sin6_addr.s6_addr)
            };
            out.push((IpAddr::V6(ip), plen));
        }
    }
    // SAFETY: `head` came from getifaddrs.
    unsafe { libc::freeifaddrs(head) };
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dummy_addresses_replace_per_family_and_loopback_has_one() {
        let mut d = DevAddrs::default();
        d.set_dummy("br0", "1.1.2.88".parse().unwrap(), 24);
        d.set_dummy("br0", "2001:cafe::88".parse().unwrap(), 24);
        d.set_dummy("br0", "1.1.2.89".parse().unwrap(), 24);
        assert_eq!(
            d.of("br0"),
            vec![
                ("1.1.2.89".parse().unwrap(), 24),
                ("2001:cafe::88".parse().unwrap(), 24)
            ]
        );
        assert!(d.of("lo").contains(&("127.0.0.1".parse().unwrap(), 8)));
    }
}
