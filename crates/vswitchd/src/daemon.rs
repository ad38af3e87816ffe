//! Daemon conventions of the switch daemon's command line: the pidfile's
//! lifetime (`--detach` itself, and quieting the standard descriptors, are
//! `rpc::daemon`'s, shared with the other daemons).

use std::path::{Path, PathBuf};

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
