//! Detaching a daemon (`--detach`): fork, a new session for the child, and
//! the parent waiting until the child says it is ready (exit status 0) or
//! dies first (exit status 1); then pointing standard descriptors at
//! /dev/null. Shared by every program with `--detach` (ovsdb-server,
//! ovs-vswitchd, `ovs-ofctl monitor`).

use std::io::{Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, RawFd};

/// The child's end of the readiness pipe.
pub struct Ready(std::fs::File);

impl Ready {
    /// Tells the waiting parent that the daemon is up: it exits 0.
    pub fn notify(mut self) {
        let _ = self.0.write_all(b"1");
    }
}

/// Forks (stdout flushed first, so nothing buffered is written twice). The
/// parent waits for the child's [`Ready::notify`] and exits 0, or exits 1
/// if the child dies first. Returns in the child only, which is then the
/// leader of a new session. Must be called before any thread is started.
pub fn detach() -> Result<Ready, String> {
    let mut fds = [0i32; 2];
    // SAFETY: fds has room for two descriptors.
    if unsafe { libc::pipe(fds.as_mut_ptr()) } != 0 {
        return Err("pipe failed".into());
    }
    let _ = std::io::stdout().flush();
    // SAFETY: the caller guarantees the process is single-threaded.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err("could not fork".into());
    }
    if pid > 0 {
        // SAFETY: both descriptors are ours; the read end becomes a File.
        unsafe { libc::close(fds[1]) };
        let mut r = unsafe { std::fs::File::from_raw_fd(fds[0]) };
        let mut b = [0u8; 1];
        let ok = matches!(r.read(&mut b), Ok(1));
        // SAFETY: ends the parent without running the child's destructors.
        unsafe { libc::_exit(if ok { 0 } else { 1 }) };
    }
    // SAFETY: in the child: close the read end, start a new session.
    unsafe {
        libc::close(fds[0]);
        libc::setsid();
    }
    // SAFETY: the write end is ours.
    Ok(Ready(unsafe { std::fs::File::from_raw_fd(fds[1]) }))
}

/// Points each of `fds` (0, 1 and 2 for a daemon; 0 and 1 where stderr
/// still carries output) at /dev/null.
pub fn redirect_to_null(fds: &[RawFd]) {
    let Ok(null) = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/null")
    else {
        return;
    };
    for &fd in fds {
        // SAFETY: duplicating a valid descriptor over a standard one.
        unsafe { libc::dup2(null.as_raw_fd(), fd) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_descriptor_pointed_at_null_reads_nothing() {
        // A descriptor of our own stands in for a standard one.
        let f = std::fs::File::open("/proc/self/status").unwrap();
        redirect_to_null(&[f.as_raw_fd()]);
        let mut f = f;
        let mut s = String::new();
        f.read_to_string(&mut s).unwrap();
        assert!(s.is_empty());
    }
}
