//! Network namespaces: finding a device of ours that the user moved out of
//! the switch's namespace (`ip link set br0 netns X`), and doing work
//! inside another namespace.
//!
//! A TAP device the switch made persistent (see [`crate::tap`]) survives a
//! restart of the switch wherever it is. When the restarted switch opens an
//! `internal` or `tap` port whose name is not in its own namespace, it looks
//! for an orphaned TAP device of that name in every other namespace (the
//! named ones under `/run/netns` and those of running processes) and, when
//! one is found, attaches to it from inside that namespace: the descriptor
//! and the control socket opened there keep working from any thread, so
//! the port forwards as before, with the addresses and routes the user gave
//! it there. Only a TAP device can match, and only one nobody holds (the
//! kernel refuses to attach a second owner), so another program's device
//! is never taken.

use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use crate::sys::{self, IfReq};

const ETHTOOL_GDRVINFO: u32 = 0x3;

/// `(device, inode)` of a namespace file: two paths name the same
/// namespace when these are equal.
fn ns_id(path: &Path) -> Option<(u64, u64)> {
    std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
}

/// Every network namespace other than the calling thread's, each once:
/// named namespaces first, then those of running processes.
pub fn other_namespaces() -> Vec<PathBuf> {
    let own = ns_id(Path::new("/proc/thread-self/ns/net"));
    let mut seen = std::collections::HashSet::new();
    if let Some(o) = own {
        seen.insert(o);
    }
    let mut out = Vec::new();
    let mut candidates: Vec<PathBuf> = Vec::new();
    for dir in ["/run/netns", "/var/run/netns"] {
        if let Ok(rd) = std::fs::read_dir(dir) {
            let mut v: Vec<PathBuf> = rd.flatten().map(|e| e.path()).collect();
            v.sort();
            candidates.extend(v);
        }
    }
    if let Ok(rd) = std::fs::read_dir("/proc") {
        let mut pids: Vec<u32> = rd
            .flatten()
            .filter_map(|e| e.file_name().to_str().and_then(|s| s.parse().ok()))
            .collect();
        pids.sort_unstable();
        candidates.extend(
            pids.into_iter()
                .map(|p| PathBuf::from(format!("/proc/{p}/ns/net"))),
        );
    }
    for c in candidates {
        if let Some(id) = ns_id(&c) {
            if seen.insert(id) {
                out.push(c);
            }
        }
    }
    out
}

/// Moves the calling thread into the network namespace at `path`.
fn enter(path: &Path) -> io::Result<()> {
    let f = std::fs::File::open(path)?;
    // SAFETY: plain system call on a descriptor we own for its duration;
    // it changes only the calling thread's network namespace.
    sys::cvt(unsafe { libc::setns(f.as_raw_fd(), libc::CLONE_NEWNET) }).map(|_| ())
}

/// Runs `f` on a new thread inside the network namespace at `path`.
pub fn run_in<T: Send>(path: &Path, f: impl FnOnce() -> T + Send) -> io::Result<T> {
    std::thread::scope(|s| {
        s.spawn(|| {
            enter(path)?;
            Ok(f())
        })
        .join()
        .unwrap_or_else(|_| Err(io::Error::other("namespace worker failed")))
    })
}

/// Whether `name` is a TAP device (driver `tun`, bus `tap`) in the calling
/// thread's namespace.
pub fn is_tap_here(name: &str) -> bool {
    let Ok(sock) = sys::socket(libc::AF_INET, libc::SOCK_DGRAM, 0) else {
        return false;
    };
    // struct ethtool_drvinfo: cmd, then driver[32], version[32],
    // fw_version[32], bus_info[32], ...; 196 bytes in all.
    let mut info = [0u8; 196];
    info[..4].copy_from_slice(&ETHTOOL_GDRVINFO.to_ne_bytes());
    let Ok(mut r) = IfReq::new(name) else {
        return false;
    };
    r.data[0] = info.as_mut_ptr() as u64;
    if sys::ioctl_ifreq(sock.as_raw_fd(), sys::SIOCETHTOOL, &mut r).is_err() {
        return false;
    }
    let field = |off: usize| {
        let b = &info[off..off + 32];
        let end = b.iter().position(|&c| c == 0).unwrap_or(32);
        b[..end].to_vec()
    };
    field(4) == b"tun" && field(100) == b"tap"
}

/// Whether a device `name` exists in the calling thread's namespace.
pub fn exists_here(name: &str) -> bool {
    sys::IfCtl::new().is_ok_and(|c| c.ifindex(name).is_ok())
}

/// Looks for TAP device `name` in the other namespaces; in the first that
/// has one, runs `open` there and returns its result when it succeeds
/// (a device another program holds refuses to be opened, and the search
/// goes on). `None` when no namespace has one that opened.
pub fn open_moved_tap<T: Send, E: Send>(
    name: &str,
    open: impl Fn() -> Result<T, E> + Sync,
) -> Option<(PathBuf, T)> {
    for ns in other_namespaces() {
        let found = run_in(&ns, || is_tap_here(name).then(&open));
        if let Ok(Some(Ok(t))) = found {
            return Some((ns, t));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_namespace_is_not_listed() {
        let own = ns_id(Path::new("/proc/thread-self/ns/net"));
        let others = other_namespaces();
        assert!(others.iter().all(|p| ns_id(p) != own));
        let mut ids: Vec<_> = others.iter().filter_map(|p| ns_id(p)).collect();
        let n = ids.len();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), n, "a namespace listed twice");
    }

    #[test]
    fn loopback_is_not_a_tap() {
        assert!(exists_here("lo"));
        assert!(!is_tap_here("lo"));
        assert!(!exists_here("fv-no-such-dev"));
    }
}
