//! The system's routing table over rtnetlink (`RTM_GETROUTE` dumps of the
//! IPv4 and IPv6 tables): the unicast and local routes, for the native
//! tunnelling route table's "Cached" entries.

use std::net::{Ipv4Addr, Ipv6Addr};

use ofproto::tnl::route::{mask, source_for, Route};

/// One kernel route.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KernelRoute {
    /// Destination (IPv6 form) and its length in IPv6 space.
    pub dst: Ipv6Addr,
    pub plen: u8,
    pub gw: Ipv6Addr,
    pub prefsrc: Option<Ipv6Addr>,
    pub dev: String,
    pub local: bool,
}

impl KernelRoute {
    /// As a "Cached" route (`None` when no source address fits).
    pub fn into_route(self, addrs: ofproto::tnl::route::AddrsOf<'_>) -> Option<Route> {
        let toward = if self.gw.is_unspecified() {
            self.dst
        } else {
            self.gw
        };
        let src = match self.prefsrc {
            Some(s) => s,
            None => source_for(&self.dev, &toward, addrs)?,
        };
        Some(Route {
            prefix: mask(&self.dst, self.plen),
            plen: self.plen,
            mark: 0,
            dev: self.dev,
            gw: self.gw,
            src,
            local: self.local,
            user: false,
        })
    }
}

const RTM_GETROUTE: u16 = 26;
const RTM_NEWROUTE: u16 = 24;
const NLM_F_REQUEST: u16 = 1;
const NLM_F_DUMP: u16 = 0x300;
const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;
const RTN_UNICAST: u8 = 1;
const RTN_LOCAL: u8 = 2;
const RTA_DST: u16 = 1;
const RTA_OIF: u16 = 4;
const RTA_GATEWAY: u16 = 5;
const RTA_PREFSRC: u16 = 7;

struct Socket(i32);

impl Drop for Socket {
    fn drop(&mut self) {
        // SAFETY: the descriptor is ours.
        unsafe { libc::close(self.0) };
    }
}

fn ifname(index: u32) -> Option<String> {
    let mut buf = [0 as libc::c_char; libc::IF_NAMESIZE];
    // SAFETY: buf holds IF_NAMESIZE bytes as if_indextoname requires.
    let p = unsafe { libc::if_indextoname(index, buf.as_mut_ptr()) };
    if p.is_null() {
        return None;
    }
    // SAFETY: if_indextoname NUL-terminated the name in buf.
    let s = unsafe { std::ffi::CStr::from_ptr(buf.as_ptr()) };
    Some(s.to_string_lossy().into_owned())
}

fn addr_of(family: u8, b: &[u8]) -> Option<Ipv6Addr> {
    if family == libc::AF_INET as u8 {
        let a: [u8; 4] = b.get(..4)?.try_into().ok()?;
        Some(Ipv4Addr::from(a).to_ipv6_mapped())
    } else {
        let a: [u8; 16] = b.get(..16)?.try_into().ok()?;
        Some(Ipv6Addr::from(a))
    }
}

/// Parses one `RTM_NEWROUTE` payload (rtmsg + attributes).
fn parse_route(m: &[u8]) -> Option<KernelRoute> {
    if m.len() < 12 {
        return None;
    }
    let family = m[0];
    let dst_len = m[1];
    let type_ = m[7];
    if type_ != RTN_UNICAST && type_ != RTN_LOCAL {
        return None;
    }
    let v4 = family == libc::AF_INET as u8;
    let mut r = KernelRoute {
        dst: if v4 {
            Ipv4Addr::UNSPECIFIED.to_ipv6_mapped()
        } else {
            Ipv6Addr::UNSPECIFIED
        },
        plen: if v4 { dst_len + 96 } else { dst_len },
        gw: Ipv6Addr::UNSPECIFIED,
        prefsrc: None,
        dev: String::new(),
        local: type_ == RTN_LOCAL,
    };
    let mut at = 12;
    while at + 4 <= m.len() {
        let len = usize::from(u16::from_ne_bytes([m[at], m[at + 1]]));
        let kind = u16::from_ne_bytes([m[at + 2], m[at + 3]]);
        if len < 4 || at + len > m.len() {
            break;
        }
        let body = &m[at + 4..at + len];
        match kind {
            RTA_DST => r.dst = addr_of(family, body)?,
            RTA_GATEWAY => r.gw = addr_of(family, body)?,
            RTA_PREFSRC => r.prefsrc = addr_of(family, body),
            RTA_OIF => {
                let i: [u8; 4] = body.get(..4)?.try_into().ok()?;
                r.dev = ifname(u32::from_ne_bytes(i))?;
            }
            _ => {}
        }
        at += (len + 3) & !3;
    }
    (!r.dev.is_empty()).then_some(r)
}

fn dump_family(family: u8) -> std::io::Result<Vec<KernelRoute>> {
    // SAFETY: plain socket creation.
    let fd = unsafe {
        libc::socket(
            libc::AF_NETLINK,
            libc::SOCK_RAW | libc::SOCK_CLOEXEC,
            libc::NETLINK_ROUTE,
        )
    };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    let sock = Socket(fd);
    let mut req = [0u8; 28];
    req[0..4].copy_from_slice(&28u32.to_ne_bytes());
    req[4..6].copy_from_slice(&RTM_GETROUTE.to_ne_bytes());
    req[6..8].copy_from_slice(&(NLM_F_REQUEST | NLM_F_DUMP).to_ne_bytes());
    req[8..12].copy_from_slice(&1u32.to_ne_bytes());
    req[16] = family;
    // SAFETY: req is a complete netlink request of its own length.
    let n = unsafe { libc::send(sock.0, req.as_ptr().cast(), req.len(), 0) };
    if n < 0 {
        return Err(std::io::Error::last_os_error());
    }
    let mut out = Vec::new();
    let mut buf = vec![0u8; 32 * 1024];
    loop {
        // SAFETY: buf is writable for its length.
        let n = unsafe { libc::recv(sock.0, buf.as_mut_ptr().cast(), buf.len(), 0) };
        if n < 0 {
            return Err(std::io::Error::last_os_error());
        }
        let data = &buf[..n as usize];
        if data.is_empty() {
            return Ok(out);
        }
        let mut at = 0;
        while at + 16 <= data.len() {
            let len =
                u32::from_ne_bytes([data[at], data[at + 1], data[at + 2], data[at + 3]]) as usize;
            let kind = u16::from_ne_bytes([data[at + 4], data[at + 5]]);
            if len < 16 || at + len > data.len() {
                return Ok(out);
            }
            match kind {
                NLMSG_DONE | NLMSG_ERROR => return Ok(out),
                RTM_NEWROUTE => {
                    if let Some(r) = parse_route(&data[at + 16..at + len]) {
                        out.push(r);
                    }
                }
                _ => {}
            }
            at += (len + 3) & !3;
        }
    }
}

/// The system's IPv4 then IPv6 unicast and local routes.
pub fn dump_routes() -> std::io::Result<Vec<KernelRoute>> {
    let mut v = dump_family(libc::AF_INET as u8)?;
    v.extend(dump_family(libc::AF_INET6 as u8)?);
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_system_has_a_loopback_route() {
        let routes = dump_routes().expect("rtnetlink dump");
        let lo = Ipv4Addr::new(127, 0, 0, 1).to_ipv6_mapped();
        assert!(
            routes
                .iter()
                .any(|r| r.dev == "lo" && r.local && r.dst == lo && r.plen == 128),
            "{routes:?}"
        );
    }
}
