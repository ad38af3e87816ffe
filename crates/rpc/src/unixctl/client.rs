//! The unixctl client (blocking): finding a daemon's control socket from an
//! `ovs-appctl -t` target and sending it one command, with upstream's log
//! messages (module `unixctl`) and error numbers.

use crate::address::ActiveAddr;
use crate::blocking::{Client, ClientError};
use crate::errno;
use crate::message::{json_type_name, Message};
use crate::paths;
use crate::pidfile::{read_pidfile, PidfileError};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Why a target names no control socket.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot read pidfile \"{}\" ({source})", pidfile.display())]
pub struct TargetError {
    pub pidfile: PathBuf,
    pub source: PidfileError,
}

/// The control socket for an `ovs-appctl` target: an absolute path is the
/// socket itself; a name is a program whose pidfile `<rundir>/<name>.pid`
/// gives the pid in `<rundir>/<name>.<pid>.ctl`.
pub fn resolve_target(target: &str) -> Result<PathBuf, TargetError> {
    if target.starts_with('/') {
        return Ok(PathBuf::from(target));
    }
    let rundir = paths::rundir();
    let pidfile = rundir.join(format!("{target}.pid"));
    match read_pidfile(&pidfile) {
        Ok(pid) => Ok(rundir.join(format!("{target}.{pid}.ctl"))),
        Err(source) => Err(TargetError { pidfile, source }),
    }
}

/// Why a command could not be carried out (as opposed to the daemon
/// answering with an error text).
#[derive(Debug, thiserror::Error)]
pub enum TransactError {
    #[error(transparent)]
    Client(#[from] ClientError),
    /// The reply's result or error was not a string.
    #[error("Invalid argument")]
    BadReply,
}

impl TransactError {
    /// Upstream's text for the failure ("End of file", "Protocol error", ...).
    pub fn text(&self) -> String {
        match self {
            TransactError::Client(ClientError::Eof) => "End of file".into(),
            TransactError::Client(ClientError::Protocol(_)) => errno::strerror(libc::EPROTO),
            TransactError::Client(ClientError::TimedOut) => errno::strerror(libc::ETIMEDOUT),
            TransactError::Client(ClientError::Io(e)) => errno::io_error_text(e),
            TransactError::BadReply => errno::strerror(libc::EINVAL),
        }
    }

    /// True when the deadline passed.
    pub fn is_timeout(&self) -> bool {
        matches!(self, TransactError::Client(ClientError::TimedOut))
    }
}

/// A connection to a daemon's control socket.
pub struct UnixctlClient {
    client: Client,
}

impl UnixctlClient {
    /// Connects to the socket at `path`; logs `failed to connect to PATH`
    /// (WARN) on failure, as upstream.
    pub fn connect(path: &Path) -> std::io::Result<UnixctlClient> {
        match Client::connect(&ActiveAddr::Unix(path.to_path_buf())) {
            Ok(client) => Ok(UnixctlClient { client }),
            Err(e) => {
                vlog::warn!("unixctl", "failed to connect to {}", path.display());
                Err(e)
            }
        }
    }

    /// The connection's name for logs (`unix:PATH`).
    pub fn name(&self) -> &str {
        self.client.name()
    }

    /// Gives up at `deadline`.
    pub fn set_deadline(&mut self, deadline: Option<Instant>) {
        self.client.set_deadline(deadline);
    }

    /// Runs `command` with `args`: `Ok(Ok(text))` on success, `Ok(Err(text))`
    /// when the daemon answered with an error.
    pub fn transact(
        &mut self,
        command: &str,
        args: &[String],
    ) -> Result<Result<String, String>, TransactError> {
        let params = args.iter().map(|a| Value::String(a.clone())).collect();
        let request = Message::request(command, params);
        let reply = match self.client.transact(&request) {
            Ok(r) => r,
            Err(e) => {
                let e = TransactError::Client(e);
                if !e.is_timeout() {
                    vlog::warn!(
                        "unixctl",
                        "error communicating with {}: {}",
                        self.client.name(),
                        e.text()
                    );
                }
                return Err(e);
            }
        };
        match reply {
            Message::Error { error, .. } => match error {
                Value::String(s) => Ok(Err(s)),
                other => {
                    vlog::warn!(
                        "unixctl",
                        "{}: unexpected error type in JSON RPC reply: {}",
                        self.client.name(),
                        json_type_name(&other)
                    );
                    Err(TransactError::BadReply)
                }
            },
            Message::Reply { result, .. } => match result {
                Value::String(s) => Ok(Ok(s)),
                other => {
                    vlog::warn!(
                        "unixctl",
                        "{}: unexpected result type in JSON rpc reply: {}",
                        self.client.name(),
                        json_type_name(&other)
                    );
                    Err(TransactError::BadReply)
                }
            },
            _ => Err(TransactError::BadReply),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absolute_targets_are_sockets() {
        assert_eq!(
            resolve_target("/tmp/x.ctl"),
            Ok(PathBuf::from("/tmp/x.ctl"))
        );
    }

    #[test]
    fn missing_pidfile_message() {
        let e = TargetError {
            pidfile: "/var/run/openvswitch/foo.pid".into(),
            source: PidfileError {
                errno: libc::ENOENT,
            },
        };
        assert_eq!(
            e.to_string(),
            "cannot read pidfile \"/var/run/openvswitch/foo.pid\" (No such file or directory)"
        );
    }
}
