//! Thin, checked wrappers over the Linux calls the providers share: sockets,
//! `setsockopt`, and the interface ioctls (index, flags, MTU, MAC, ethtool).
//!
//! The providers add their own system calls (rings, readv/writev, sendmmsg)
//! beside their code; each `unsafe` block says why it is sound.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

use crate::provider::EthAddr;

pub(crate) const SIOCGIFFLAGS: libc::c_ulong = 0x8913;
pub(crate) const SIOCSIFFLAGS: libc::c_ulong = 0x8914;
pub(crate) const SIOCGIFMTU: libc::c_ulong = 0x8921;
pub(crate) const SIOCSIFMTU: libc::c_ulong = 0x8922;
pub(crate) const SIOCSIFHWADDR: libc::c_ulong = 0x8924;
pub(crate) const SIOCGIFHWADDR: libc::c_ulong = 0x8927;
pub(crate) const SIOCGIFINDEX: libc::c_ulong = 0x8933;
pub(crate) const SIOCETHTOOL: libc::c_ulong = 0x8946;

const ARPHRD_ETHER: u16 = 1;
const ETHTOOL_GSET: u32 = 1;

/// `struct ifreq`: a 16-byte name and a 24-byte union.
#[repr(C)]
pub(crate) struct IfReq {
    pub name: [u8; libc::IFNAMSIZ],
    pub data: [u64; 3],
}

impl IfReq {
    /// An ifreq naming `name`; fails for names that do not fit.
    pub fn new(name: &str) -> io::Result<IfReq> {
        let b = name.as_bytes();
        if b.is_empty() || b.len() >= libc::IFNAMSIZ || b.contains(&0) {
            return Err(io::Error::from_raw_os_error(libc::ENODEV));
        }
        let mut r = IfReq {
            name: [0; libc::IFNAMSIZ],
            data: [0; 3],
        };
        r.name[..b.len()].copy_from_slice(b);
        Ok(r)
    }

    pub fn bytes(&self) -> &[u8; 24] {
        // SAFETY: `[u64; 3]` is 24 initialized bytes with no padding and u8 has
        // alignment 1, so viewing it as `[u8; 24]` is valid.
        unsafe { &*(self.data.as_ptr() as *const [u8; 24]) }
    }

    pub fn bytes_mut(&mut self) -> &mut [u8; 24] {
        // SAFETY: as in `bytes`; every bit pattern is a valid u64.
        unsafe { &mut *(self.data.as_mut_ptr() as *mut [u8; 24]) }
    }

    pub fn int(&self) -> i32 {
        let b = self.bytes();
        i32::from_ne_bytes([b[0], b[1], b[2], b[3]])
    }

    pub fn set_int(&mut self, v: i32) {
        self.bytes_mut()[..4].copy_from_slice(&v.to_ne_bytes());
    }

    /// The name as the kernel left it.
    pub fn name_str(&self) -> String {
        let end = self
            .name
            .iter()
            .position(|&c| c == 0)
            .unwrap_or(self.name.len());
        String::from_utf8_lossy(&self.name[..end]).into_owned()
    }
}

/// Turns a -1 return into the current `errno`.
pub(crate) fn cvt(ret: libc::c_int) -> io::Result<libc::c_int> {
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

/// `ioctl(fd, req, ifr)`.
pub(crate) fn ioctl_ifreq(fd: RawFd, req: libc::c_ulong, ifr: &mut IfReq) -> io::Result<()> {
    // SAFETY: `ifr` is a valid, writable `struct ifreq` for the whole call; the
    // interface ioctls used here read and write only inside it.
    cvt(unsafe { libc::ioctl(fd, req as _, ifr as *mut IfReq) }).map(|_| ())
}

/// A new socket, close-on-exec.
pub(crate) fn socket(
    domain: libc::c_int,
    ty: libc::c_int,
    proto: libc::c_int,
) -> io::Result<OwnedFd> {
    // SAFETY: plain syscall; on success the returned descriptor is new and
    // owned by nobody else, so `OwnedFd` may take it.
    let fd = cvt(unsafe { libc::socket(domain, ty | libc::SOCK_CLOEXEC, proto) })?;
    // SAFETY: see above.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// `setsockopt` with a plain-old-data value.
pub(crate) fn setsockopt<T: Copy>(
    fd: RawFd,
    level: libc::c_int,
    name: libc::c_int,
    val: &T,
) -> io::Result<()> {
    // SAFETY: `val` points to `size_of::<T>()` readable bytes for the call;
    // the option types passed in this crate are `repr(C)` or integers.
    cvt(unsafe {
        libc::setsockopt(
            fd,
            level,
            name,
            val as *const T as *const libc::c_void,
            std::mem::size_of::<T>() as libc::socklen_t,
        )
    })
    .map(|_| ())
}

/// `getsockopt` into a plain-old-data value.
pub(crate) fn getsockopt<T: Copy>(
    fd: RawFd,
    level: libc::c_int,
    name: libc::c_int,
    val: &mut T,
) -> io::Result<()> {
    let mut len = std::mem::size_of::<T>() as libc::socklen_t;
    // SAFETY: `val` is writable for `len` bytes; the kernel writes at most `len`.
    cvt(unsafe {
        libc::getsockopt(
            fd,
            level,
            name,
            val as *mut T as *mut libc::c_void,
            &mut len,
        )
    })
    .map(|_| ())
}

/// Interface control through any socket of the device's network namespace.
pub(crate) struct IfCtl {
    fd: OwnedFd,
}

impl IfCtl {
    /// A control socket in the calling thread's network namespace.
    pub fn new() -> io::Result<IfCtl> {
        Ok(IfCtl {
            fd: socket(libc::AF_INET, libc::SOCK_DGRAM, 0)?,
        })
    }

    pub fn ifindex(&self, name: &str) -> io::Result<u32> {
        let mut r = IfReq::new(name)?;
        ioctl_ifreq(self.fd.as_raw_fd(), SIOCGIFINDEX, &mut r)?;
        Ok(r.int() as u32)
    }

    pub fn flags(&self, name: &str) -> io::Result<u32> {
        let mut r = IfReq::new(name)?;
        ioctl_ifreq(self.fd.as_raw_fd(), SIOCGIFFLAGS, &mut r)?;
        let b = r.bytes();
        Ok(u16::from_ne_bytes([b[0], b[1]]) as u32)
    }

    pub fn set_flags(&self, name: &str, flags: u32) -> io::Result<()> {
        let mut r = IfReq::new(name)?;
        r.bytes_mut()[..2].copy_from_slice(&(flags as u16).to_ne_bytes());
        ioctl_ifreq(self.fd.as_raw_fd(), SIOCSIFFLAGS, &mut r)
    }

    pub fn mtu(&self, name: &str) -> io::Result<u32> {
        let mut r = IfReq::new(name)?;
        ioctl_ifreq(self.fd.as_raw_fd(), SIOCGIFMTU, &mut r)?;
        Ok(r.int() as u32)
    }

    pub fn set_mtu(&self, name: &str, mtu: u32) -> io::Result<()> {
        let mut r = IfReq::new(name)?;
        let v = i32::try_from(mtu).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
        r.set_int(v);
        ioctl_ifreq(self.fd.as_raw_fd(), SIOCSIFMTU, &mut r)
    }

    pub fn mac(&self, name: &str) -> io::Result<EthAddr> {
        let mut r = IfReq::new(name)?;
        ioctl_ifreq(self.fd.as_raw_fd(), SIOCGIFHWADDR, &mut r)?;
        // struct sockaddr: sa_family (2 bytes), sa_data (14 bytes).
        let b = r.bytes();
        let family = u16::from_ne_bytes([b[0], b[1]]);
        if family != ARPHRD_ETHER {
            return Err(io::Error::from_raw_os_error(libc::EINVAL));
        }
        let mut a = [0u8; 6];
        a.copy_from_slice(&b[2..8]);
        Ok(EthAddr(a))
    }

    pub fn set_mac(&self, name: &str, mac: EthAddr) -> io::Result<()> {
        let mut r = IfReq::new(name)?;
        let b = r.bytes_mut();
        b[..2].copy_from_slice(&ARPHRD_ETHER.to_ne_bytes());
        b[2..8].copy_from_slice(&mac.0);
        ioctl_ifreq(self.fd.as_raw_fd(), SIOCSIFHWADDR, &mut r)
    }

    /// Link speed in Mbit/s from ethtool, `None` when unknown.
    pub fn speed_mbps(&self, name: &str) -> io::Result<Option<u32>> {
        // struct ethtool_cmd is 44 bytes; speed is at 8 (low 16 bits) and 28
        // (high 16 bits).
        let mut cmd = [0u32; 11];
        cmd[0] = ETHTOOL_GSET;
        let mut r = IfReq::new(name)?;
        let ptr = cmd.as_mut_ptr() as u64;
        r.data[0] = ptr;
        ioctl_ifreq(self.fd.as_raw_fd(), SIOCETHTOOL, &mut r)?;
        let raw: &[u8] = {
            // SAFETY: `cmd` is 44 initialized bytes; viewing them as u8 is valid.
            unsafe { std::slice::from_raw_parts(cmd.as_ptr() as *const u8, 44) }
        };
        let lo = u16::from_ne_bytes([raw[8], raw[9]]) as u32;
        let hi = u16::from_ne_bytes([raw[28], raw[29]]) as u32;
        let speed = lo | (hi << 16);
        Ok(if speed == 0 || speed == u32::MAX || speed == 0xffff {
            None
        } else {
            Some(speed)
        })
    }
}

/// Waits until `fd` is readable or `timeout_ms` passes (for idle receive loops).
pub fn wait_readable(fds: &[RawFd], timeout_ms: i32) -> io::Result<()> {
    let mut pfds = [libc::pollfd {
        fd: -1,
        events: 0,
        revents: 0,
    }; 8];
    let n = fds.len().min(pfds.len());
    for (p, &fd) in pfds.iter_mut().zip(fds) {
        *p = libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        };
    }
    // SAFETY: `pfds[..n]` is a valid, writable array of `n` pollfd entries.
    let r = unsafe { libc::poll(pfds.as_mut_ptr(), n as libc::nfds_t, timeout_ms) };
    if r < 0 {
        let e = io::Error::last_os_error();
        if e.raw_os_error() != Some(libc::EINTR) {
            return Err(e);
        }
    }
    Ok(())
}

/// Waits until `fd` is writable or `timeout_ms` passes.
pub(crate) fn wait_writable(fd: RawFd, timeout_ms: i32) {
    let mut p = libc::pollfd {
        fd,
        events: libc::POLLOUT,
        revents: 0,
    };
    // SAFETY: `p` is one valid, writable pollfd.
    unsafe { libc::poll(&mut p, 1, timeout_ms) };
}

/// `strerror` text without Rust's " (os error N)" suffix, as upstream prints
/// errors.
pub fn errno_text(e: &io::Error) -> String {
    let s = e.to_string();
    match s.rfind(" (os error ") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ifreq_names() {
        assert!(IfReq::new("").is_err());
        assert!(IfReq::new("a-name-far-too-long").is_err());
        let r = IfReq::new("veth0").unwrap();
        assert_eq!(r.name_str(), "veth0");
        assert_eq!(std::mem::size_of::<IfReq>(), 40);
    }

    #[test]
    fn errno_text_strips_suffix() {
        assert_eq!(
            errno_text(&io::Error::from_raw_os_error(libc::ENODEV)),
            "No such device"
        );
    }
}
