//! Stream names as every OVS tool and daemon accepts them.
//!
//! Active names connect: `unix:FILE`, `tcp:HOST[:PORT]`, `ssl:HOST[:PORT]`.
//! Passive names listen: `punix:FILE`, `ptcp:[PORT][:IP]`, `pssl:[PORT][:IP]`.
//! IPv6 addresses go in brackets (`tcp:[::1]:6640`, `ptcp:6640:[::1]`);
//! relative `unix:`/`punix:` files are taken relative to the run directory.
//!
//! The default port is a property of the use, not of the name: OVSDB uses
//! [`OVSDB_PORT`], OpenFlow [`OPENFLOW_PORT`]. It is appended the way
//! upstream does it, by counting the `:`-separated fields of the name, so
//! corner cases such as `tcp:[::1]` (which needs an explicit port) behave the
//! same. Error texts are upstream's log messages (`<target>: port must be
//! specified`, `<target>: bad port number "<port>"`, ...); all of them mean
//! `EAFNOSUPPORT` to the caller, as upstream reports them.

use crate::paths;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;

/// The IANA port of OVSDB.
pub const OVSDB_PORT: u16 = 6640;
/// The IANA port of OpenFlow.
pub const OPENFLOW_PORT: u16 = 6653;

/// Why a stream name is not usable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddressError {
    /// No known prefix (`foo:bar`). Upstream reports only the errno.
    #[error("{0}: unknown stream type")]
    UnknownType(String),
    /// A passive name given where an active one is needed, or vice versa.
    #[error("{0}: wrong kind of stream name")]
    WrongKind(String),
    #[error("{target}: port must be specified")]
    PortRequired { target: String },
    #[error("{target}: host must be specified")]
    HostRequired { target: String },
    #[error("{target}: bad port number \"{port}\"")]
    BadPort { target: String, port: String },
    #[error("{target}: bad IP address \"{host}\"")]
    BadIp { target: String, host: String },
}

impl AddressError {
    /// The errno upstream hands back for every malformed name.
    pub fn errno(&self) -> i32 {
        libc::EAFNOSUPPORT
    }

    /// Whether upstream logs this error (module `socket_util`, level ERR)
    /// before failing; unknown types fail silently.
    pub fn is_logged(&self) -> bool {
        !matches!(
            self,
            AddressError::UnknownType(_) | AddressError::WrongKind(_)
        )
    }
}

/// A host and port to connect to. The host is an IP literal or a DNS name,
/// without brackets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostPort {
    pub host: String,
    pub port: u16,
}

impl fmt::Display for HostPort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

/// Where an active stream connects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActiveAddr {
    Unix(PathBuf),
    Tcp(HostPort),
    Ssl(HostPort),
}

/// Where a passive stream listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PassiveAddr {
    Unix(PathBuf),
    Tcp(SocketAddr),
    Ssl(SocketAddr),
}

impl fmt::Display for ActiveAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ActiveAddr::Unix(p) => write!(f, "unix:{}", p.display()),
            ActiveAddr::Tcp(hp) => write!(f, "tcp:{hp}"),
            ActiveAddr::Ssl(hp) => write!(f, "ssl:{hp}"),
        }
    }
}

fn fmt_passive_inet(f: &mut fmt::Formatter<'_>, kind: &str, sa: &SocketAddr) -> fmt::Result {
    match sa.ip() {
        IpAddr::V4(ip) => write!(f, "{kind}:{}:{ip}", sa.port()),
        IpAddr::V6(ip) => write!(f, "{kind}:{}:[{ip}]", sa.port()),
    }
}

impl fmt::Display for PassiveAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PassiveAddr::Unix(p) => write!(f, "punix:{}", p.display()),
            PassiveAddr::Tcp(sa) => fmt_passive_inet(f, "ptcp", sa),
            PassiveAddr::Ssl(sa) => fmt_passive_inet(f, "pssl", sa),
        }
    }
}

/// True if `name` has an active prefix (`unix:`, `tcp:`, `ssl:`).
pub fn is_active_name(name: &str) -> bool {
    ["unix:", "tcp:", "ssl:"]
        .iter()
        .any(|p| name.starts_with(p))
}

/// True if `name` has a passive prefix (`punix:`, `ptcp:`, `pssl:`).
pub fn is_passive_name(name: &str) -> bool {
    ["punix:", "ptcp:", "pssl:"]
        .iter()
        .any(|p| name.starts_with(p))
}

/// Number of non-empty `:`-separated fields (upstream's rule for deciding
/// whether a default port must be appended; brackets are not special).
fn count_fields(s: &str) -> usize {
    s.split(':').filter(|f| !f.is_empty()).count()
}

/// Splits `a:b` at the only colon outside brackets. With more than one such
/// colon the text is taken to be an unbracketed IPv6 address and returned
/// whole as `(s, None)`, flagged by the third member.
fn split_tokens(s: &str) -> (&str, Option<&str>, bool) {
    let mut in_brackets = false;
    let mut n_colons = 0;
    let mut last = 0;
    for (i, c) in s.char_indices() {
        match c {
            '[' => in_brackets = true,
            ']' => in_brackets = false,
            ':' if !in_brackets => {
                n_colons += 1;
                last = i;
            }
            _ => {}
        }
    }
    match n_colons {
        0 => (s, None, false),
        1 => (&s[..last], Some(&s[last + 1..]), false),
        _ => (s, None, true),
    }
}

fn unbracket(h: &str) -> &str {
    let h = h.strip_prefix('[').unwrap_or(h);
    h.strip_suffix(']').unwrap_or(h)
}

fn parse_port(target: &str, port: &str) -> Result<u16, AddressError> {
    let digits = port.strip_prefix('+').unwrap_or(port);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(AddressError::BadPort {
            target: target.to_string(),
            port: port.to_string(),
        });
    }
    digits.parse::<u16>().map_err(|_| AddressError::BadPort {
        target: target.to_string(),
        port: port.to_string(),
    })
}

fn unix_path(suffix: &str) -> PathBuf {
    paths::abs_file_name(&paths::rundir(), suffix)
}

impl ActiveAddr {
    /// Parses an active name. `default_port` is appended to `tcp:`/`ssl:`
    /// names that have none, as upstream does; with `None` a port is required.
    pub fn parse(name: &str, default_port: Option<u16>) -> Result<ActiveAddr, AddressError> {
        if let Some(path) = name.strip_prefix("unix:") {
            return Ok(ActiveAddr::Unix(unix_path(path)));
        }
        let is_ssl = if name.starts_with("tcp:") {
            false
        } else if name.starts_with("ssl:") {
            true
        } else {
            return Err(if is_passive_name(name) {
                AddressError::WrongKind(name.to_string())
            } else {
                AddressError::UnknownType(name.to_string())
            });
        };
        let full = match default_port {
            Some(p) if count_fields(name) < 3 => format!("{name}:{p}"),
            _ => name.to_string(),
        };
        let target = &full[4..];
        let (host, port, _) = split_tokens(target);
        let Some(port) = port else {
            return Err(AddressError::PortRequired {
                target: target.to_string(),
            });
        };
        let host = unbracket(host);
        if host.is_empty() {
            return Err(AddressError::HostRequired {
                target: target.to_string(),
            });
        }
        let port = if port.is_empty() {
            match default_port {
                Some(p) => p,
                None => {
                    return Err(AddressError::PortRequired {
                        target: target.to_string(),
                    })
                }
            }
        } else {
            parse_port(target, port)?
        };
        let hp = HostPort {
            host: host.to_string(),
            port,
        };
        Ok(if is_ssl {
            ActiveAddr::Ssl(hp)
        } else {
            ActiveAddr::Tcp(hp)
        })
    }

    /// Whether a default port would be appended to `name` (upstream warns
    /// once when that port is OVSDB's, whose default changed from 6632).
    pub fn uses_default_port(name: &str) -> bool {
        (name.starts_with("tcp:") || name.starts_with("ssl:")) && count_fields(name) < 3
    }
}

impl PassiveAddr {
    /// Parses a passive name. Without a port, `default_port` is used; with
    /// `None` a port is required. Without an IP, all IPv4 addresses.
    pub fn parse(name: &str, default_port: Option<u16>) -> Result<PassiveAddr, AddressError> {
        if let Some(path) = name.strip_prefix("punix:") {
            return Ok(PassiveAddr::Unix(unix_path(path)));
        }
        let is_ssl = if name.starts_with("ptcp:") {
            false
        } else if name.starts_with("pssl:") {
            true
        } else {
            return Err(if is_active_name(name) {
                AddressError::WrongKind(name.to_string())
            } else {
                AddressError::UnknownType(name.to_string())
            });
        };
        let target = &name[5..];
        let (first, second, ambiguous) = split_tokens(target);
        if ambiguous {
            return Err(AddressError::PortRequired {
                target: target.to_string(),
            });
        }
        let port = if first.is_empty() {
            match default_port {
                Some(p) => p,
                None => {
                    return Err(AddressError::PortRequired {
                        target: target.to_string(),
                    })
                }
            }
        } else {
            parse_port(target, first)?
        };
        let ip = match second.map(unbracket) {
            None | Some("") => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            Some(h) => h.parse::<IpAddr>().map_err(|_| AddressError::BadIp {
                target: target.to_string(),
                host: h.to_string(),
            })?,
        };
        let sa = SocketAddr::new(ip, port);
        Ok(if is_ssl {
            PassiveAddr::Ssl(sa)
        } else {
            PassiveAddr::Tcp(sa)
        })
    }
}

static PORT_WARNING: std::sync::Once = std::sync::Once::new();

fn log_error(e: &AddressError) {
    if e.is_logged() {
        vlog::err!("socket_util", "{e}");
    }
}

/// [`ActiveAddr::parse`] as a program opening the name does it, with
/// upstream's logging: the one-time warning when OVSDB's default port is
/// appended, and malformed names at ERR (module `socket_util`).
pub fn open_active_name(name: &str, default_port: Option<u16>) -> Result<ActiveAddr, AddressError> {
    if default_port == Some(OVSDB_PORT) && ActiveAddr::uses_default_port(name) {
        PORT_WARNING.call_once(|| {
            vlog::warn!(
                "stream",
                "The default OVSDB port number has changed from 6632 to 6640"
            );
        });
    }
    ActiveAddr::parse(name, default_port).inspect_err(log_error)
}

/// [`PassiveAddr::parse`] with upstream's logging of malformed names.
pub fn open_passive_name(
    name: &str,
    default_port: Option<u16>,
) -> Result<PassiveAddr, AddressError> {
    PassiveAddr::parse(name, default_port).inspect_err(log_error)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tcp(host: &str, port: u16) -> ActiveAddr {
        ActiveAddr::Tcp(HostPort {
            host: host.into(),
            port,
        })
    }

    #[test]
    fn active_tcp_with_and_without_port() {
        assert_eq!(
            ActiveAddr::parse("tcp:127.0.0.1:6641", Some(OVSDB_PORT)),
            Ok(tcp("127.0.0.1", 6641))
        );
        assert_eq!(
            ActiveAddr::parse("tcp:127.0.0.1", Some(OVSDB_PORT)),
            Ok(tcp("127.0.0.1", 6640))
        );
        assert_eq!(
            ActiveAddr::parse("tcp:ctl.example", Some(OPENFLOW_PORT)),
            Ok(tcp("ctl.example", 6653))
        );
        assert_eq!(ActiveAddr::parse("tcp:[::1]:1", None), Ok(tcp("::1", 1)));
        assert!(matches!(
            ActiveAddr::parse("ssl:10.0.0.1:6640", None),
            Ok(ActiveAddr::Ssl(_))
        ));
    }

    #[test]
    fn active_errors_match_upstream_texts() {
        let e = ActiveAddr::parse("tcp:127.0.0.1:99999", Some(6640)).unwrap_err();
        assert_eq!(e.to_string(), "127.0.0.1:99999: bad port number \"99999\"");
        let e = ActiveAddr::parse("tcp:127.0.0.1:abc", Some(6640)).unwrap_err();
        assert_eq!(e.to_string(), "127.0.0.1:abc: bad port number \"abc\"");
        let e = ActiveAddr::parse("tcp:[::1", Some(6640)).unwrap_err();
        assert_eq!(e.to_string(), "[::1: port must be specified");
        let e = ActiveAddr::parse("tcp::5", Some(6640)).unwrap_err();
        assert_eq!(e.to_string(), ":5:6640: port must be specified");
        let e = ActiveAddr::parse("tcp:1.2.3.4:5:6", Some(6640)).unwrap_err();
        assert_eq!(e.to_string(), "1.2.3.4:5:6: port must be specified");
        // Brackets are not special when counting fields: an explicit port is needed.
        let e = ActiveAddr::parse("tcp:[::1]", Some(6640)).unwrap_err();
        assert_eq!(e.to_string(), "[::1]: port must be specified");
        let e = ActiveAddr::parse("tcp:127.0.0.1", None).unwrap_err();
        assert_eq!(e.to_string(), "127.0.0.1: port must be specified");
        assert_eq!(
            ActiveAddr::parse("foo:bar", None),
            Err(AddressError::UnknownType("foo:bar".into()))
        );
        assert!(!AddressError::UnknownType("x".into()).is_logged());
        assert_eq!(e.errno(), libc::EAFNOSUPPORT);
        assert!(matches!(
            ActiveAddr::parse("ptcp:6640", None),
            Err(AddressError::WrongKind(_))
        ));
    }

    #[test]
    fn unix_paths_are_relative_to_rundir() {
        assert_eq!(
            ActiveAddr::parse("unix:/tmp/db.sock", None),
            Ok(ActiveAddr::Unix("/tmp/db.sock".into()))
        );
        match ActiveAddr::parse("unix:db.sock", None) {
            Ok(ActiveAddr::Unix(p)) => assert_eq!(p, paths::rundir().join("db.sock")),
            other => panic!("unexpected {other:?}"),
        }
        assert_eq!(
            PassiveAddr::parse("punix:/tmp/x.mgmt", None),
            Ok(PassiveAddr::Unix("/tmp/x.mgmt".into()))
        );
    }

    #[test]
    fn passive_tcp() {
        let p = |s: &str| PassiveAddr::parse(s, Some(OVSDB_PORT));
        assert_eq!(
            p("ptcp:"),
            Ok(PassiveAddr::Tcp("0.0.0.0:6640".parse().unwrap()))
        );
        assert_eq!(
            p("ptcp:6641"),
            Ok(PassiveAddr::Tcp("0.0.0.0:6641".parse().unwrap()))
        );
        assert_eq!(
            p("ptcp:0:127.0.0.1"),
            Ok(PassiveAddr::Tcp("127.0.0.1:0".parse().unwrap()))
        );
        assert_eq!(
            p("ptcp::127.0.0.1"),
            Ok(PassiveAddr::Tcp("127.0.0.1:6640".parse().unwrap()))
        );
        assert_eq!(
            p("ptcp:1:[::1]"),
            Ok(PassiveAddr::Tcp("[::1]:1".parse().unwrap()))
        );
        assert_eq!(
            p("ptcp:0:[::1"),
            Ok(PassiveAddr::Tcp("[::1]:0".parse().unwrap()))
        );
        assert_eq!(
            p("ptcp:70000").unwrap_err().to_string(),
            "70000: bad port number \"70000\""
        );
        assert_eq!(
            p("ptcp:0:::1").unwrap_err().to_string(),
            "0:::1: port must be specified"
        );
        assert_eq!(
            p("ptcp:1:bad").unwrap_err().to_string(),
            "1:bad: bad IP address \"bad\""
        );
        assert!(matches!(p("pssl:0"), Ok(PassiveAddr::Ssl(_))));
        assert_eq!(
            PassiveAddr::parse("ptcp:", None).unwrap_err().to_string(),
            ": port must be specified"
        );
    }

    #[test]
    fn display_round_trips() {
        for s in ["tcp:1.2.3.4:5", "tcp:[::1]:6640", "ssl:h:1"] {
            assert_eq!(ActiveAddr::parse(s, None).unwrap().to_string(), s);
        }
        for s in ["ptcp:6640:0.0.0.0", "ptcp:1:[::1]", "pssl:2:127.0.0.1"] {
            assert_eq!(PassiveAddr::parse(s, None).unwrap().to_string(), s);
        }
    }

    #[test]
    fn garbage_never_panics() {
        for s in [
            "", ":", "tcp:", "tcp:[", "tcp:]", "ptcp:[", "ptcp:]:", "tcp:é:1", "ptcp:é",
        ] {
            let _ = ActiveAddr::parse(s, Some(1));
            let _ = ActiveAddr::parse(s, None);
            let _ = PassiveAddr::parse(s, Some(1));
            let _ = PassiveAddr::parse(s, None);
        }
    }
}
