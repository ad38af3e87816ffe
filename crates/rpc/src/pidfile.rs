//! Reading a daemon's pidfile the way upstream does: the file must be
//! locked (POSIX `fcntl` write lock) by the process whose pid it contains,
//! otherwise it is stale. Used by `ovs-appctl -t PROGRAM` to find the
//! control socket `<rundir>/<program>.<pid>.ctl`.

use crate::errno;
use std::ffi::CString;
use std::io::Read;
use std::os::fd::AsRawFd;
use std::path::Path;

/// Why a pidfile does not name a running daemon; the errno is what upstream
/// reports (`cannot read pidfile "..." (<strerror>)`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", errno::strerror(*.errno))]
pub struct PidfileError {
    pub errno: i32,
}

fn fail(errno: i32) -> PidfileError {
    PidfileError { errno }
}

/// Returns the pid of the live process holding `path`'s lock. Logs like
/// upstream (module `daemon_unix`): WARN for open/read problems and stale
/// files held by another process, DBG for unlocked (stale) files.
pub fn read_pidfile(path: &Path) -> Result<i32, PidfileError> {
    let shown = path.display();
    let mut file = match std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
    {
        Ok(f) => f,
        Err(e) => {
            let code = e.raw_os_error().unwrap_or(libc::EIO);
            vlog::warn!("daemon_unix", "{shown}: open: {}", errno::strerror(code));
            return Err(fail(code));
        }
    };
    // SAFETY: flock is plain data; zeroed is a valid initial value.
    let mut lck: libc::flock = unsafe { std::mem::zeroed() };
    lck.l_type = libc::F_WRLCK as libc::c_short;
    lck.l_whence = libc::SEEK_SET as libc::c_short;
    lck.l_start = 0;
    lck.l_len = 0;
    // SAFETY: valid fd and a valid pointer to a flock structure.
    let rc = unsafe { libc::fcntl(file.as_raw_fd(), libc::F_GETLK, &mut lck) };
    if rc < 0 {
        let code = std::io::Error::last_os_error()
            .raw_os_error()
            .unwrap_or(libc::EIO);
        vlog::warn!("daemon_unix", "{shown}: fcntl: {}", errno::strerror(code));
        return Err(fail(code));
    }
    if lck.l_type == libc::F_UNLCK as libc::c_short {
        vlog::dbg!("daemon_unix", "{shown}: pid file is stale");
        return Err(fail(libc::ESRCH));
    }
    let mut text = String::new();
    let mut limited = (&mut file).take(128);
    if let Err(e) = limited.read_to_string(&mut text) {
        let code = e.raw_os_error().unwrap_or(libc::EIO);
        vlog::warn!("daemon_unix", "{shown}: read: {}", errno::strerror(code));
        return Err(fail(code));
    }
    let line = text.lines().next().unwrap_or("");
    if line.is_empty() && text.is_empty() {
        vlog::warn!("daemon_unix", "{shown}: read: unexpected end of file");
        return Err(fail(libc::ESRCH));
    }
    let digits: String = line
        .trim_start()
        .chars()
        .take_while(|c| c.is_ascii_digit())
        .collect();
    let written: i64 = digits.parse().unwrap_or(0);
    if written != i64::from(lck.l_pid) {
        vlog::warn!(
            "daemon_unix",
            "{shown}: stale pidfile for pid {line} being deleted by pid {}",
            lck.l_pid
        );
        return Err(fail(libc::ESRCH));
    }
    Ok(lck.l_pid)
}

/// Creates `path` containing our pid and holds its lock for the life of
/// the returned handle (upstream's `--pidfile`). Fails if another live
/// process holds it.
pub fn create_pidfile(path: &Path) -> Result<std::fs::File, PidfileError> {
    use std::io::Write;
    let tmp = path.with_extension(format!(
        "{}.tmp",
        path.extension().and_then(|e| e.to_str()).unwrap_or("pid")
    ));
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(&tmp)
        .map_err(|e| fail(e.raw_os_error().unwrap_or(libc::EIO)))?;
    // SAFETY: zeroed flock is valid; fd is open.
    let mut lck: libc::flock = unsafe { std::mem::zeroed() };
    lck.l_type = libc::F_WRLCK as libc::c_short;
    lck.l_whence = libc::SEEK_SET as libc::c_short;
    // SAFETY: valid fd and pointer.
    if unsafe { libc::fcntl(file.as_raw_fd(), libc::F_SETLK, &lck) } < 0 {
        let code = std::io::Error::last_os_error()
            .raw_os_error()
            .unwrap_or(libc::EIO);
        let _ = std::fs::remove_file(&tmp);
        return Err(fail(code));
    }
    if let Ok(pid) = read_pidfile_quiet(path) {
        if pid != std::process::id() as i32 {
            let _ = std::fs::remove_file(&tmp);
            return Err(fail(libc::EEXIST));
        }
    }
    writeln!(file, "{}", std::process::id())
        .map_err(|e| fail(e.raw_os_error().unwrap_or(libc::EIO)))?;
    file.flush()
        .map_err(|e| fail(e.raw_os_error().unwrap_or(libc::EIO)))?;
    std::fs::rename(&tmp, path).map_err(|e| fail(e.raw_os_error().unwrap_or(libc::EIO)))?;
    Ok(file)
}

fn read_pidfile_quiet(path: &Path) -> Result<i32, PidfileError> {
    let c = CString::new(path.as_os_str().as_encoded_bytes()).map_err(|_| fail(libc::EINVAL))?;
    // SAFETY: valid C string.
    if unsafe { libc::access(c.as_ptr(), libc::F_OK) } != 0 {
        return Err(fail(libc::ENOENT));
    }
    let file = std::fs::OpenOptions::new()
        .read(true)
        .open(path)
        .map_err(|e| fail(e.raw_os_error().unwrap_or(libc::EIO)))?;
    // SAFETY: zeroed flock is valid; fd is open.
    let mut lck: libc::flock = unsafe { std::mem::zeroed() };
    lck.l_type = libc::F_WRLCK as libc::c_short;
    lck.l_whence = libc::SEEK_SET as libc::c_short;
    // SAFETY: valid fd and pointer.
    if unsafe { libc::fcntl(file.as_raw_fd(), libc::F_GETLK, &mut lck) } < 0
        || lck.l_type == libc::F_UNLCK as libc::c_short
    {
        return Err(fail(libc::ESRCH));
    }
    Ok(lck.l_pid)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmpdir(tag: &str) -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("ferrovs-pid-{tag}-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn missing_and_stale_files() {
        let d = tmpdir("a");
        assert_eq!(
            read_pidfile(&d.join("none.pid")),
            Err(PidfileError {
                errno: libc::ENOENT
            })
        );
        std::fs::write(d.join("stale.pid"), "12345\n").unwrap();
        assert_eq!(
            read_pidfile(&d.join("stale.pid")),
            Err(PidfileError { errno: libc::ESRCH })
        );
        assert_eq!(
            PidfileError { errno: libc::ESRCH }.to_string(),
            "No such process"
        );
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn a_locked_pidfile_is_read_by_another_process() {
        // POSIX locks are per process: F_GETLK in the holder sees no lock,
        // so check from a child process (flock(1) is not needed: a forked
        // child of this test reads it).
        let d = tmpdir("b");
        let p = d.join("me.pid");
        let _f = create_pidfile(&p).unwrap();
        let c = CString::new(p.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: the child only makes raw system calls (open, fcntl,
        // getppid, _exit) on data prepared before the fork.
        let pid = unsafe { libc::fork() };
        if pid == 0 {
            unsafe {
                let fd = libc::open(c.as_ptr(), libc::O_RDWR);
                let mut lck: libc::flock = std::mem::zeroed();
                lck.l_type = libc::F_WRLCK as libc::c_short;
                lck.l_whence = libc::SEEK_SET as libc::c_short;
                let rc = libc::fcntl(fd, libc::F_GETLK, &mut lck);
                let ok = fd >= 0 && rc == 0 && lck.l_pid == libc::getppid();
                libc::_exit(if ok { 0 } else { 1 });
            }
        }
        let mut status = 0;
        // SAFETY: waiting for our own child.
        unsafe { libc::waitpid(pid, &mut status, 0) };
        assert!(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0);
        // (Reading it here, through another descriptor, drops our POSIX lock.)
        let text = std::fs::read_to_string(&p).unwrap();
        assert_eq!(text.trim(), std::process::id().to_string());
        let _ = std::fs::remove_dir_all(&d);
    }
}
