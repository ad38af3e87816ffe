//! Daemon conventions shared by the switch daemon's command line:
//! `--detach` (fork, new session, the parent exits once the child says it
//! is ready), quieting the standard descriptors after detaching, and the
//! pidfile's lifetime.

use std::io::{Read, Write};
use std::os::fd::FromRawFd;
use std::path::{Path, PathBuf};

/// The child's end of the readiness pipe: [`Ready::notify`] lets the
/// waiting parent exit with status 0.
pub struct Ready(std::fs::File);

impl Ready {
    /// Tells the parent that the daemon is up, then points stdin, stdout
    /// and stderr at /dev/null.
    pub fn notify(mut self) {
        let _ = self.0.write_all(b"1");
        redirect_stdio_to_null();
    }
}

/// Forks. The parent waits for the child's [`Ready::notify`] and exits 0,
/// or exits 1 if the child dies first. Returns in the child only, which is
/// then the leader of a new session. Must be called before any thread is
/// started.
pub fn detach() -> Result<Ready, String> {
    let mut fds = [0i32; 2];
    // SAFETY: fds has room for two descriptors.
    if unsafe { libc::pipe(fds.as_mut_ptr()) } != 0 {
        return Err("pipe failed".into());
    }
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

/// Points descriptors 0, 1 and 2 at /dev/null.
pub fn redirect_stdio_to_null() {
    let Ok(null) = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/null")
    else {
        return;
    };
    use std::os::fd::AsRawFd;
    // SAFETY: duplicating a valid descriptor over the standard ones.
    unsafe {
        libc::dup2(null.as_raw_fd(), 0);
        libc::dup2(null.as_raw_fd(), 1);
        libc::dup2(null.as_raw_fd(), 2);
    }
}

/// A pidfile that is removed when dropped.
pub struct Pidfile {
    path: PathBuf,
    _file: std::fs::File,
}

impl Pidfile {
    /// Creates (and locks) `path` holding this process's pid; fails with
    /// upstream's text when another live process holds it.
    pub fn create(path: &Path) -> Result<Pidfile, String> {
        match rpc::pidfile::create_pidfile(path) {
            Ok(f) => Ok(Pidfile {
                path: path.to_path_buf(),
                _file: f,
            }),
            Err(e) if e.errno == libc::EEXIST => match rpc::pidfile::read_pidfile(path) {
                Ok(pid) => Err(format!(
                    "{}: already running as pid {pid}, aborting",
                    path.display()
                )),
                Err(e) => Err(format!("{}: {e}", path.display())),
            },
            Err(e) => Err(format!("{}: {e}", path.display())),
        }
    }
}

impl Drop for Pidfile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}
