//! The directories OVS programs agree on (`OVS_RUNDIR`, `OVS_LOGDIR`,
//! `OVS_DBDIR`, ...) and the rule that turns a relative file name into one
//! under such a directory. Control sockets, pidfiles and `unix:`/`punix:`
//! names with relative paths all go through here.

use std::path::{Path, PathBuf};

/// Where daemons put pidfiles and control sockets when `OVS_RUNDIR` is unset.
pub const DEFAULT_RUNDIR: &str = "/var/run/openvswitch";
/// Where daemons put log files when `OVS_LOGDIR` is unset.
pub const DEFAULT_LOGDIR: &str = "/var/log/openvswitch";
/// Where databases live when neither `OVS_DBDIR` nor `OVS_SYSCONFDIR` is set.
pub const DEFAULT_DBDIR: &str = "/etc/openvswitch";
/// Where the schemas live when `OVS_PKGDATADIR` is unset.
pub const DEFAULT_PKGDATADIR: &str = "/usr/share/openvswitch";

fn env_dir(var: &str) -> Option<PathBuf> {
    std::env::var_os(var)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

/// The run directory: `$OVS_RUNDIR`, else [`DEFAULT_RUNDIR`].
pub fn rundir() -> PathBuf {
    env_dir("OVS_RUNDIR").unwrap_or_else(|| PathBuf::from(DEFAULT_RUNDIR))
}

/// The log directory: `$OVS_LOGDIR`, else [`DEFAULT_LOGDIR`].
pub fn logdir() -> PathBuf {
    env_dir("OVS_LOGDIR").unwrap_or_else(|| PathBuf::from(DEFAULT_LOGDIR))
}

/// The database directory: `$OVS_DBDIR`, else `$OVS_SYSCONFDIR/openvswitch`,
/// else [`DEFAULT_DBDIR`].
pub fn dbdir() -> PathBuf {
    if let Some(d) = env_dir("OVS_DBDIR") {
        return d;
    }
    if let Some(d) = env_dir("OVS_SYSCONFDIR") {
        return d.join("openvswitch");
    }
    PathBuf::from(DEFAULT_DBDIR)
}

/// The package data directory: `$OVS_PKGDATADIR`, else [`DEFAULT_PKGDATADIR`].
pub fn pkgdatadir() -> PathBuf {
    env_dir("OVS_PKGDATADIR").unwrap_or_else(|| PathBuf::from(DEFAULT_PKGDATADIR))
}

/// `name` itself when it is absolute, otherwise `dir/name`.
pub fn abs_file_name(dir: &Path, name: &str) -> PathBuf {
    if name.starts_with('/') {
        PathBuf::from(name)
    } else {
        dir.join(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absolute_names_stay() {
        assert_eq!(
            abs_file_name(Path::new("/run"), "/tmp/x.ctl"),
            PathBuf::from("/tmp/x.ctl")
        );
        assert_eq!(
            abs_file_name(Path::new("/run"), "x.ctl"),
            PathBuf::from("/run/x.ctl")
        );
    }
}
