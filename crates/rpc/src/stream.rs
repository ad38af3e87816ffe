//! Opening streams (async, on tokio): connecting to an [`ActiveAddr`] and
//! listening on a [`PassiveAddr`], with upstream's names for accepted
//! connections (`unix#N`, `tcp:IP:PORT`). SSL names parse but do not open.
//!
//! Unix socket paths longer than `sun_path` are reached through
//! `/proc/self/fd/N/NAME`, as upstream does, so deep temporary directories
//! work.

use crate::address::{ActiveAddr, PassiveAddr};
use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::io::{AsyncRead, AsyncWrite};

/// Anything a JSON-RPC connection can run over.
pub trait ByteStream: AsyncRead + AsyncWrite + Unpin + Send + 'static {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + 'static> ByteStream for T {}

/// A connected stream of either family.
pub type BoxStream = Box<dyn ByteStream>;

/// The error for `ssl:` and `pssl:` names.
pub fn ssl_unsupported() -> io::Error {
    io::Error::new(
        io::ErrorKind::Unsupported,
        "SSL is not supported yet by ferrovs",
    )
}

/// Longest path that fits in `sockaddr_un.sun_path` with its NUL.
const SUN_PATH_MAX: usize = 107;

/// A path usable with bind/connect: `path` itself, or, when too long, a
/// `/proc/self/fd/N/NAME` alias through an open handle on its directory
/// (returned so that it stays open while the alias is used).
pub(crate) fn short_socket_path(path: &Path) -> io::Result<(PathBuf, Option<std::fs::File>)> {
    let len = path.as_os_str().len();
    if len <= SUN_PATH_MAX {
        return Ok((path.to_path_buf(), None));
    }
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
    let name = path.file_name();
    match (dir, name) {
        (Some(dir), Some(name)) => {
            let f = std::fs::File::open(dir)?;
            use std::os::fd::AsRawFd;
            let alias = PathBuf::from(format!("/proc/self/fd/{}", f.as_raw_fd())).join(name);
            if alias.as_os_str().len() > SUN_PATH_MAX {
                return Err(io::Error::from_raw_os_error(libc::ENAMETOOLONG));
            }
            Ok((alias, Some(f)))
        }
        _ => Err(io::Error::from_raw_os_error(libc::ENAMETOOLONG)),
    }
}

/// The DSCP value upstream marks its OVSDB and OpenFlow TCP traffic with
/// by default (`IPTOS_PREC_INTERNETCONTROL`).
pub const DSCP_DEFAULT: u8 = 48;

/// Marks a socket's outgoing IP packets with `dscp` (IPv4 TOS and IPv6
/// traffic class, whichever the socket is); an error only if neither works.
pub fn set_dscp(fd: std::os::fd::RawFd, dscp: u8) -> io::Result<()> {
    let tos: libc::c_int = libc::c_int::from(dscp) << 2;
    let set = |level, name| {
        // SAFETY: fd is a socket the caller owns; the value is a c_int.
        let rc = unsafe {
            libc::setsockopt(
                fd,
                level,
                name,
                (&tos as *const libc::c_int).cast(),
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            )
        };
        if rc == 0 {
            Ok(())
        } else {
            Err(io::Error::last_os_error())
        }
    };
    let v4 = set(libc::IPPROTO_IP, libc::IP_TOS);
    let v6 = set(libc::IPPROTO_IPV6, libc::IPV6_TCLASS);
    v4.or(v6)
}

/// Connects to `addr`.
pub async fn connect(addr: &ActiveAddr) -> io::Result<BoxStream> {
    connect_with_dscp(addr, None).await
}

/// Connects to `addr`, marking TCP traffic with `dscp`.
pub async fn connect_with_dscp(addr: &ActiveAddr, dscp: Option<u8>) -> io::Result<BoxStream> {
    match addr {
        ActiveAddr::Unix(path) => {
            let (p, _dir) = short_socket_path(path)?;
            let s = tokio::net::UnixStream::connect(&p).await?;
            Ok(Box::new(s))
        }
        ActiveAddr::Tcp(hp) => {
            let s = tokio::net::TcpStream::connect((hp.host.as_str(), hp.port)).await?;
            let _ = s.set_nodelay(true);
            if let Some(d) = dscp {
                use std::os::fd::AsRawFd;
                let _ = set_dscp(s.as_raw_fd(), d);
            }
            Ok(Box::new(s))
        }
        ActiveAddr::Ssl(_) => Err(ssl_unsupported()),
    }
}

static UNIX_CONN_SEQ: AtomicU64 = AtomicU64::new(0);

enum Inner {
    Unix(tokio::net::UnixListener),
    Tcp(tokio::net::TcpListener),
}

/// A listening socket. A `punix:` socket file is removed when dropped.
pub struct Listener {
    inner: Inner,
    name: String,
    unlink: Option<PathBuf>,
}

/// Binds a unix stream socket at `path`, replacing a stale socket file.
pub(crate) fn bind_unix_std(path: &Path) -> io::Result<std::os::unix::net::UnixListener> {
    let (p, _dir) = short_socket_path(path)?;
    match std::fs::symlink_metadata(&p) {
        Ok(m) => {
            use std::os::unix::fs::FileTypeExt;
            if m.file_type().is_socket() {
                let _ = std::fs::remove_file(&p);
            }
        }
        Err(_) => {}
    }
    let l = std::os::unix::net::UnixListener::bind(&p)?;
    l.set_nonblocking(true)?;
    Ok(l)
}

impl Listener {
    /// Starts listening on `addr`. Must run inside a tokio runtime.
    pub async fn bind(addr: &PassiveAddr) -> io::Result<Listener> {
        Self::bind_now(addr)
    }

    /// Starts listening on `addr` at once, so that peers can connect as
    /// soon as this returns (a daemon binds before it reports its
    /// configuration applied). Must run inside a tokio runtime context.
    pub fn bind_now(addr: &PassiveAddr) -> io::Result<Listener> {
        match addr {
            PassiveAddr::Unix(path) => {
                let l = bind_unix_std(path)?;
                Ok(Listener {
                    inner: Inner::Unix(tokio::net::UnixListener::from_std(l)?),
                    name: addr.to_string(),
                    unlink: Some(path.clone()),
                })
            }
            PassiveAddr::Tcp(sa) => {
                let sock = if sa.is_ipv4() {
                    tokio::net::TcpSocket::new_v4()?
                } else {
                    tokio::net::TcpSocket::new_v6()?
                };
                sock.set_reuseaddr(true)?;
                sock.bind(*sa)?;
                let l = sock.listen(1024)?;
                let local = l.local_addr()?;
                if sa.port() == 0 {
                    let target = match sa.ip() {
                        std::net::IpAddr::V4(ip) => format!("0:{ip}"),
                        std::net::IpAddr::V6(ip) => format!("0:[{ip}]"),
                    };
                    vlog::info!(
                        "socket_util",
                        "{target}: listening on port {}",
                        local.port()
                    );
                }
                Ok(Listener {
                    inner: Inner::Tcp(l),
                    name: PassiveAddr::Tcp(local).to_string(),
                    unlink: None,
                })
            }
            PassiveAddr::Ssl(_) => Err(ssl_unsupported()),
        }
    }

    /// Marks the traffic of the connections accepted from now on (they
    /// inherit the listening socket's setting) with `dscp`. No effect on
    /// Unix sockets.
    pub fn set_dscp(&self, dscp: u8) -> io::Result<()> {
        use std::os::fd::AsRawFd;
        match &self.inner {
            Inner::Tcp(l) => set_dscp(l.as_raw_fd(), dscp),
            Inner::Unix(_) => Ok(()),
        }
    }

    /// The name with the actual port (`ptcp:41234:127.0.0.1`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The bound TCP address, for `ptcp:`.
    pub fn local_tcp_addr(&self) -> Option<SocketAddr> {
        match &self.inner {
            Inner::Tcp(l) => l.local_addr().ok(),
            Inner::Unix(_) => None,
        }
    }

    /// Waits for a peer; returns the stream and upstream's name for it.
    pub async fn accept(&self) -> io::Result<(BoxStream, String)> {
        match &self.inner {
            Inner::Unix(l) => {
                let (s, _) = l.accept().await?;
                let n = UNIX_CONN_SEQ.fetch_add(1, Ordering::Relaxed);
                Ok((Box::new(s), format!("unix#{n}")))
            }
            Inner::Tcp(l) => {
                let (s, peer) = l.accept().await?;
                let _ = s.set_nodelay(true);
                let name = match peer {
                    SocketAddr::V4(a) => format!("tcp:{}:{}", a.ip(), a.port()),
                    SocketAddr::V6(a) => format!("tcp:[{}]:{}", a.ip(), a.port()),
                };
                Ok((Box::new(s), name))
            }
        }
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        if let Some(p) = &self.unlink {
            let _ = std::fs::remove_file(p);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::address::HostPort;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test]
    async fn listener_marks_accepted_tcp_with_dscp() {
        use std::os::fd::AsRawFd;
        let addr = PassiveAddr::parse("ptcp:0:127.0.0.1", Some(0)).unwrap();
        let l = Listener::bind(&addr).await.unwrap();
        l.set_dscp(10).unwrap();
        let Inner::Tcp(t) = &l.inner else {
            panic!("tcp")
        };
        let mut tos: libc::c_int = 0;
        let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
        // SAFETY: valid socket and out-parameters.
        let rc = unsafe {
            libc::getsockopt(
                t.as_raw_fd(),
                libc::IPPROTO_IP,
                libc::IP_TOS,
                (&mut tos as *mut libc::c_int).cast(),
                &mut len,
            )
        };
        assert_eq!(rc, 0);
        assert_eq!(tos, 10 << 2);
    }

    #[tokio::test]
    async fn unix_and_tcp_round_trip() {
        let dir = std::env::temp_dir().join(format!("ferrovs-stream-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let sock = dir.join("t.sock");
        let l = Listener::bind(&PassiveAddr::Unix(sock.clone()))
            .await
            .unwrap();
        let client = tokio::spawn({
            let sock = sock.clone();
            async move {
                let mut s = connect(&ActiveAddr::Unix(sock)).await.unwrap();
                s.write_all(b"hi").await.unwrap();
            }
        });
        let (mut s, name) = l.accept().await.unwrap();
        assert!(name.starts_with("unix#"));
        let mut buf = [0u8; 2];
        s.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"hi");
        client.await.unwrap();
        drop(l);
        assert!(!sock.exists());

        let l = Listener::bind(&PassiveAddr::Tcp("127.0.0.1:0".parse().unwrap()))
            .await
            .unwrap();
        let port = l.local_tcp_addr().unwrap().port();
        assert_eq!(l.name(), format!("ptcp:{port}:127.0.0.1"));
        let c = tokio::spawn(async move {
            connect(&ActiveAddr::Tcp(HostPort {
                host: "127.0.0.1".into(),
                port,
            }))
            .await
            .unwrap()
        });
        let (_s, name) = l.accept().await.unwrap();
        assert!(name.starts_with("tcp:127.0.0.1:"));
        c.await.unwrap();
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[tokio::test]
    async fn ssl_is_refused_clearly() {
        let e = connect(&ActiveAddr::Ssl(HostPort {
            host: "127.0.0.1".into(),
            port: 1,
        }))
        .await
        .err()
        .unwrap();
        assert!(e.to_string().contains("SSL is not supported"));
    }

    #[test]
    fn long_paths_get_an_alias() {
        let long = PathBuf::from(format!("/tmp/{}/x.sock", "d".repeat(150)));
        assert!(short_socket_path(&long).is_err()); // directory does not exist
        let dir = std::env::temp_dir().join(format!(
            "ferrovs-long-{}-{}",
            std::process::id(),
            "e".repeat(120)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let (alias, f) = short_socket_path(&dir.join("x.sock")).unwrap();
        assert!(alias.starts_with("/proc/self/fd/"));
        assert!(f.is_some());
        let l = bind_unix_std(&dir.join("x.sock")).unwrap();
        drop(l);
        assert!(dir.join("x.sock").exists());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
