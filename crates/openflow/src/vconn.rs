//! A blocking OpenFlow connection (upstream's `vconn` used the blocking
//! way, as command-line tools use it): opening a stream by name (`unix:`,
//! `tcp:`; `ssl:` parses but is refused), the hello exchange with version
//! bitmaps and its log lines, sending and receiving framed messages, and
//! the request/reply patterns built on them (transactions matched by xid,
//! multipart reply collection, barrier-terminated batches).
//!
//! It knows nothing about any particular tool: callers decide what to send
//! and how to print what comes back. Errors are errno values, as upstream
//! reports them (`Protocol error`, `End of file`, `Connection refused`).
//!
//! Transaction ids come from one process-wide counter starting at 1 (the
//! first hello), so that a tool's xids are the ones upstream's would use.

use crate::errors::{encode_error_msg, OfpErr};
use crate::msgs::switch::Hello;
use crate::print::ofp_to_string;
use crate::raw::{decode_raw, finish, start, OfpRaw};
use crate::version::OfpVersion;
use rpc::address::{ActiveAddr, OPENFLOW_PORT};
use std::io::{self, Read};
use std::net::TcpStream;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

const MODULE: &str = "vconn";

/// Largest OpenFlow message: the 16-bit length field bounds it.
const MAX_MSG: usize = 65535;

static NEXT_XID: AtomicU32 = AtomicU32::new(1);

/// A fresh transaction id from the process-wide counter.
pub fn alloc_xid() -> u32 {
    NEXT_XID.fetch_add(1, Ordering::Relaxed)
}

/// Why a connection operation failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VconnError {
    /// An errno value (`EPROTO` for protocol violations).
    Errno(i32),
    /// The peer closed the connection.
    Eof,
}

impl VconnError {
    fn from_io(e: &io::Error) -> VconnError {
        match e.raw_os_error() {
            Some(n) => VconnError::Errno(n),
            None => match e.kind() {
                io::ErrorKind::UnexpectedEof => VconnError::Eof,
                io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => {
                    VconnError::Errno(libc::ETIMEDOUT)
                }
                _ => VconnError::Errno(libc::EIO),
            },
        }
    }

    /// The errno upstream would report (`EOF` is its own pseudo-errno).
    pub fn errno(self) -> i32 {
        match self {
            VconnError::Errno(n) => n,
            VconnError::Eof => 0,
        }
    }
}

impl std::fmt::Display for VconnError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            VconnError::Errno(n) => f.write_str(&rpc::errno::strerror(*n)),
            VconnError::Eof => f.write_str("End of file"),
        }
    }
}

pub type Result<T> = std::result::Result<T, VconnError>;

enum Sock {
    Unix(UnixStream),
    Tcp(TcpStream),
}

impl Sock {
    fn read(&mut self, b: &mut [u8]) -> io::Result<usize> {
        match self {
            Sock::Unix(s) => s.read(b),
            Sock::Tcp(s) => s.read(b),
        }
    }
    /// Writes everything without raising SIGPIPE when the peer is gone
    /// (the error is EPIPE instead).
    fn write_all(&mut self, mut b: &[u8]) -> io::Result<()> {
        let fd = self.raw_fd();
        while !b.is_empty() {
            // SAFETY: `b` is a valid buffer of `b.len()` bytes and `fd` is
            // this socket's open descriptor.
            let n = unsafe { libc::send(fd, b.as_ptr().cast(), b.len(), libc::MSG_NOSIGNAL) };
            if n < 0 {
                let e = io::Error::last_os_error();
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(e);
            }
            b = &b[n as usize..];
        }
        Ok(())
    }

    /// Waits up to `limit` for the peer to close the connection.
    fn wait_for_close(&mut self, limit: Duration) {
        let _ = self.set_read_timeout(Some(limit));
        let mut buf = [0u8; 512];
        while let Ok(n) = self.read(&mut buf) {
            if n == 0 {
                break;
            }
        }
        let _ = self.set_read_timeout(None);
    }
    fn set_read_timeout(&self, d: Option<Duration>) -> io::Result<()> {
        match self {
            Sock::Unix(s) => s.set_read_timeout(d),
            Sock::Tcp(s) => s.set_read_timeout(d),
        }
    }
    fn raw_fd(&self) -> i32 {
        use std::os::fd::AsRawFd;
        match self {
            Sock::Unix(s) => s.as_raw_fd(),
            Sock::Tcp(s) => s.as_raw_fd(),
        }
    }
}

/// Unix socket paths longer than `sun_path` go through an open handle on
/// their directory (`/proc/self/fd/N/NAME`), as upstream does.
fn connect_unix(path: &Path) -> io::Result<UnixStream> {
    const SUN_PATH_MAX: usize = 107;
    if path.as_os_str().len() <= SUN_PATH_MAX {
        return UnixStream::connect(path);
    }
    let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else {
        return Err(io::Error::from_raw_os_error(libc::ENAMETOOLONG));
    };
    let d = std::fs::File::open(dir)?;
    use std::os::fd::AsRawFd;
    let alias = PathBuf::from(format!("/proc/self/fd/{}", d.as_raw_fd())).join(name);
    if alias.as_os_str().len() > SUN_PATH_MAX {
        return Err(io::Error::from_raw_os_error(libc::ENAMETOOLONG));
    }
    UnixStream::connect(alias)
}

/// One OpenFlow connection, used blockingly.
pub struct Vconn {
    name: String,
    sock: Sock,
    rx: Vec<u8>,
    allowed_versions: u32,
    /// The negotiated version (0 before the hello exchange).
    version: u8,
    hello_sent: bool,
    /// Accept messages in any version (for snooping).
    recv_any_version: bool,
}

/// Formats a version bitmap as upstream's negotiation logs do:
/// `version 0x01` or `versions 0x01, 0x04`.
fn bitmap_text(bitmap: u32) -> String {
    let vs: Vec<String> = (0..32)
        .filter(|v| bitmap & (1 << v) != 0)
        .map(|v| format!("0x{v:02x}"))
        .collect();
    if vs.len() == 1 {
        format!("version {}", vs[0])
    } else {
        format!("versions {}", vs.join(", "))
    }
}

fn debug_enabled() -> bool {
    vlog::is_enabled(MODULE, vlog::Level::Dbg)
}

impl Vconn {
    /// Opens the stream named `name` (`unix:FILE`, `tcp:HOST[:PORT]`,
    /// `ssl:...`), allowing the versions of `allowed_versions` (bit N =
    /// version N). The hello exchange happens in [`Vconn::connect`].
    pub fn open(name: &str, allowed_versions: u32) -> Result<Vconn> {
        let addr = ActiveAddr::parse(name, Some(OPENFLOW_PORT)).map_err(|e| {
            if e.is_logged() {
                vlog::err!("socket_util", "{}", e);
            }
            VconnError::Errno(e.errno())
        })?;
        let sock = match &addr {
            ActiveAddr::Unix(p) => {
                Sock::Unix(connect_unix(p).map_err(|e| VconnError::from_io(&e))?)
            }
            ActiveAddr::Tcp(hp) => {
                let s = TcpStream::connect((hp.host.as_str(), hp.port))
                    .map_err(|e| VconnError::from_io(&e))?;
                let _ = s.set_nodelay(true);
                Sock::Tcp(s)
            }
            ActiveAddr::Ssl(_) => return Err(VconnError::Errno(libc::EAFNOSUPPORT)),
        };
        Ok(Vconn {
            name: name.to_string(),
            sock,
            rx: Vec::new(),
            allowed_versions,
            version: 0,
            hello_sent: false,
            recv_any_version: false,
        })
    }

    /// The name the connection was opened with (used in log lines).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The negotiated OpenFlow version (wire value).
    pub fn version(&self) -> u8 {
        self.version
    }

    /// The raw descriptor, for callers that poll several sources.
    pub fn raw_fd(&self) -> i32 {
        self.sock.raw_fd()
    }

    /// Whether a whole message is already buffered (so that waiting on the
    /// descriptor would be wrong).
    pub fn has_pending(&self) -> bool {
        self.rx.len() >= 8
            && self.rx.len() >= usize::from(u16::from_be_bytes([self.rx[2], self.rx[3]]))
    }

    /// Accepts received messages whatever their version (upstream's
    /// `vconn_set_recv_any_version`, for snooping).
    pub fn set_recv_any_version(&mut self, any: bool) {
        self.recv_any_version = any;
    }

    /// Bounds every later blocking receive by `timeout` (None: forever).
    pub fn set_recv_timeout(&self, timeout: Option<Duration>) -> Result<()> {
        self.sock
            .set_read_timeout(timeout)
            .map_err(|e| VconnError::from_io(&e))
    }

    /// Exchanges hellos and settles the version: the newest one both sides
    /// allow. Upstream's `vconn_connect_block`.
    pub fn connect(&mut self) -> Result<()> {
        if self.version != 0 {
            return Ok(());
        }
        if !self.hello_sent {
            let hello = Hello::encode(self.allowed_versions, alloc_xid());
            self.send_raw(&hello)?;
            self.hello_sent = true;
        }
        let msg = self.read_msg()?;
        self.log_received(&msg);
        if msg.get(1) != Some(&0) {
            vlog::warn!(
                MODULE,
                "{}: received message while expecting hello: {}",
                self.name,
                crate::raw::decode_raw(&msg).map_or("unknown message", |r| r.name())
            );
            return Err(VconnError::Errno(libc::EPROTO));
        }
        let hello = Hello::decode(&msg);
        let peer_text = if msg.len() > 8 {
            bitmap_text(hello.version_bitmap)
        } else {
            format!("version 0x{:02x} and earlier", msg[0])
        };
        let common = hello.version_bitmap & self.allowed_versions;
        if common == 0 {
            vlog::warn!(
                MODULE,
                "{}: version negotiation failed (we support {}, peer supports {})",
                self.name,
                bitmap_text(self.allowed_versions),
                peer_text
            );
            // Tell the peer, in its newest version, then give up.
            let peer_version = (31 - hello.version_bitmap.leading_zeros()) as u8;
            let ver = OfpVersion::from_wire(peer_version).unwrap_or(OfpVersion::Of10);
            let text = format!(
                "We support {}, you support {}, no common versions.",
                bitmap_text(self.allowed_versions),
                peer_text
            );
            let err = encode_error_msg(OfpErr::OFPHFC_INCOMPATIBLE, ver, 0, text.as_bytes());
            // A switch hangs up as soon as it has our hello; telling it
            // then fails the way upstream's attempt does.
            self.sock.wait_for_close(Duration::from_secs(2));
            return match self.send_raw(&err) {
                Ok(()) => Err(VconnError::Errno(libc::EPROTO)),
                Err(e) => Err(e),
            };
        }
        self.version = (31 - common.leading_zeros()) as u8;
        vlog::dbg!(
            MODULE,
            "{}: negotiated OpenFlow version 0x{:02x} (we support {}, peer supports {})",
            self.name,
            self.version,
            bitmap_text(self.allowed_versions),
            peer_text
        );
        Ok(())
    }

    fn send_raw(&mut self, msg: &[u8]) -> Result<()> {
        let r = self.sock.write_all(msg);
        if debug_enabled() {
            let status = match &r {
                Ok(()) => "Success".to_string(),
                Err(e) => rpc::errno::io_error_text(e),
            };
            vlog::dbg!(
                MODULE,
                "{}: sent ({}): {}",
                self.name,
                status,
                ofp_to_string(msg, 1).trim_end_matches('\n')
            );
        }
        r.map_err(|e| VconnError::from_io(&e))
    }

    fn log_received(&self, msg: &[u8]) {
        if debug_enabled() {
            vlog::dbg!(
                MODULE,
                "{}: received: {}",
                self.name,
                ofp_to_string(msg, 1).trim_end_matches('\n')
            );
        }
    }

    /// Reads exactly one framed message.
    fn read_msg(&mut self) -> Result<Vec<u8>> {
        loop {
            if self.rx.len() >= 8 {
                let len = usize::from(u16::from_be_bytes([self.rx[2], self.rx[3]]));
                if len < 8 {
                    vlog::warn!(
                        MODULE,
                        "{}: received too-short ofp_header ({} bytes)",
                        self.name,
                        len
                    );
                    return Err(VconnError::Errno(libc::EPROTO));
                }
                if self.rx.len() >= len {
                    let rest = self.rx.split_off(len);
                    return Ok(std::mem::replace(&mut self.rx, rest));
                }
            }
            let mut buf = [0u8; 8192];
            let want = if self.rx.len() >= 4 {
                let len = usize::from(u16::from_be_bytes([self.rx[2], self.rx[3]]));
                len.saturating_sub(self.rx.len()).clamp(1, buf.len())
            } else {
                buf.len()
            };
            match self.sock.read(&mut buf[..want]) {
                Ok(0) => {
                    return Err(if self.rx.is_empty() {
                        VconnError::Eof
                    } else {
                        VconnError::Errno(libc::EPROTO)
                    })
                }
                Ok(n) => {
                    if self.rx.len() + n > MAX_MSG + 8192 {
                        return Err(VconnError::Errno(libc::EPROTO));
                    }
                    self.rx.extend_from_slice(&buf[..n]);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(VconnError::from_io(&e)),
            }
        }
    }

    /// Sends one message (connecting first if needed).
    pub fn send(&mut self, msg: &[u8]) -> Result<()> {
        self.connect()?;
        self.send_raw(msg)
    }

    /// Receives one message. Messages in another version than the
    /// negotiated one are refused (except hello, error and echo), as
    /// upstream refuses them.
    pub fn recv(&mut self) -> Result<Vec<u8>> {
        self.connect()?;
        let msg = self.read_msg()?;
        self.log_received(&msg);
        let (v, t) = (msg[0], msg[1]);
        if v != self.version && !self.recv_any_version && !matches!(t, 0 | 1 | 2 | 3) {
            vlog::err!(
                MODULE,
                "{}: received OpenFlow version 0x{:02x} != expected {:02x}",
                self.name,
                v,
                self.version
            );
            return Err(VconnError::Errno(libc::EPROTO));
        }
        Ok(msg)
    }

    /// Receives until a message with transaction id `xid` arrives; other
    /// messages are dropped (echo requests are answered on the way).
    pub fn recv_xid(&mut self, xid: u32) -> Result<Vec<u8>> {
        loop {
            let msg = self.recv()?;
            let got = u32::from_be_bytes([msg[4], msg[5], msg[6], msg[7]]);
            if got == xid {
                return Ok(msg);
            }
            if msg[1] == 2 {
                self.answer_echo(&msg)?;
                continue;
            }
            vlog::dbg!(
                MODULE,
                "{}: received reply with xid {:08x} != expected {:08x}",
                self.name,
                got,
                xid
            );
        }
    }

    /// Answers an echo request with an echo reply carrying its payload.
    pub fn answer_echo(&mut self, request: &[u8]) -> Result<()> {
        let xid = u32::from_be_bytes([request[4], request[5], request[6], request[7]]);
        let mut reply = start(OfpRaw::OFPT_ECHO_REPLY, request[0], xid);
        reply.extend_from_slice(request.get(8..).unwrap_or(&[]));
        self.send_raw(&finish(reply))
    }

    /// Sends `request` and waits for the message with its xid.
    pub fn transact(&mut self, request: &[u8]) -> Result<Vec<u8>> {
        let xid = xid_of(request);
        self.send(request)?;
        self.recv_xid(xid)
    }

    /// Builds a barrier request in the negotiated version.
    pub fn barrier_request(&self) -> Vec<u8> {
        let raw = if self.version == 1 {
            OfpRaw::OFPT10_BARRIER_REQUEST
        } else {
            OfpRaw::OFPT11_BARRIER_REQUEST
        };
        finish(start(raw, self.version.max(1), alloc_xid()))
    }

    /// Sends each request followed by a barrier, one after the other, and
    /// stops at the first reply that answers a request (normally an
    /// error), as upstream's `vconn_transact_multiple_noreply` does.
    pub fn transact_multiple_noreply(&mut self, requests: &[Vec<u8>]) -> Result<Option<Vec<u8>>> {
        for r in requests {
            if let Some(reply) = self.transact_noreply(r)? {
                return Ok(Some(reply));
            }
        }
        Ok(None)
    }

    /// Sends `request` followed by a barrier; returns a reply to the
    /// request if one came before the barrier reply (upstream's
    /// `vconn_transact_noreply`).
    pub fn transact_noreply(&mut self, request: &[u8]) -> Result<Option<Vec<u8>>> {
        let rxid = xid_of(request);
        self.send(request)?;
        let barrier = self.barrier_request();
        let bxid = xid_of(&barrier);
        self.send(&barrier)?;
        loop {
            let msg = self.recv()?;
            let got = xid_of(&msg);
            if got == rxid {
                return Ok(Some(msg));
            }
            if got == bxid {
                return Ok(None);
            }
            if msg[1] == 2 {
                self.answer_echo(&msg)?;
                continue;
            }
            vlog::dbg!(
                MODULE,
                "{}: received reply with xid {:08x} != expected {:08x}",
                self.name,
                got,
                bxid
            );
        }
    }

    /// Sends a multipart request and collects the replies with its xid up
    /// to the one without the "more" flag. An error reply ends the
    /// collection and is returned as the last message.
    pub fn dump(&mut self, request: &[u8]) -> Result<Vec<Vec<u8>>> {
        let xid = xid_of(request);
        self.send(request)?;
        let mut replies = Vec::new();
        loop {
            let msg = self.recv_xid(xid)?;
            let more = is_multipart_reply(&msg) && crate::raw::stats_flags(&msg) & 1 != 0;
            replies.push(msg);
            if !more {
                return Ok(replies);
            }
        }
    }
}

/// The transaction id of a message.
pub fn xid_of(msg: &[u8]) -> u32 {
    msg.get(4..8)
        .map_or(0, |b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

/// Whether `msg` is a multipart (stats) reply.
pub fn is_multipart_reply(msg: &[u8]) -> bool {
    matches!(
        decode_raw(msg).map(|r| r.info().class),
        Ok(crate::raw::Class::St(_, true))
            | Ok(crate::raw::Class::Nxst(_, true))
            | Ok(crate::raw::Class::Onfst(_, true))
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::os::unix::net::UnixListener;

    #[test]
    fn bitmap_texts() {
        assert_eq!(bitmap_text(1 << 1), "version 0x01");
        assert_eq!(bitmap_text((1 << 1) | (1 << 4)), "versions 0x01, 0x04");
    }

    fn with_peer(
        peer_hello: Vec<u8>,
        then: impl FnOnce(&mut UnixStream) + Send + 'static,
    ) -> (PathBuf, std::thread::JoinHandle<()>) {
        let dir =
            std::env::temp_dir().join(format!("vconn-test-{}-{}", std::process::id(), alloc_xid()));
        let _ = std::fs::create_dir_all(&dir);
        let path = dir.join("s.mgmt");
        let l = UnixListener::bind(&path).unwrap();
        let h = std::thread::spawn(move || {
            let (mut s, _) = l.accept().unwrap();
            s.write_all(&peer_hello).unwrap();
            let mut hdr = [0u8; 8];
            s.read_exact(&mut hdr).unwrap();
            let len = usize::from(u16::from_be_bytes([hdr[2], hdr[3]]));
            let mut rest = vec![0; len - 8];
            s.read_exact(&mut rest).unwrap();
            then(&mut s);
        });
        (path, h)
    }

    #[test]
    fn negotiates_the_newest_common_version() {
        let (path, h) = with_peer(Hello::encode(0x7e, 5), |_| {});
        let mut v = Vconn::open(&format!("unix:{}", path.display()), (1 << 1) | (1 << 4)).unwrap();
        v.connect().unwrap();
        assert_eq!(v.version(), 4);
        h.join().unwrap();
    }

    #[test]
    fn refuses_without_common_version() {
        let (path, h) = with_peer(Hello::encode(1 << 4, 5), |_| {});
        let mut v = Vconn::open(&format!("unix:{}", path.display()), 1 << 1).unwrap();
        let e = v.connect().unwrap_err();
        assert!(matches!(e, VconnError::Errno(_)));
        h.join().unwrap();
    }

    #[test]
    fn collects_multipart_replies_and_skips_other_xids() {
        let (path, h) = with_peer(Hello::encode(1 << 4, 5), |s| {
            let mut hdr = [0u8; 16];
            s.read_exact(&mut hdr).unwrap();
            let xid = xid_of(&hdr);
            // Another xid first, then two parts.
            let mut other = start(OfpRaw::OFPST14_PORT_DESC_REPLY, 4, xid + 100);
            other = finish(other);
            s.write_all(&other).unwrap();
            let mut a = start(OfpRaw::OFPST14_PORT_DESC_REPLY, 4, xid);
            a[10] = 0;
            a[11] = 1;
            s.write_all(&finish(a)).unwrap();
            let b = finish(start(OfpRaw::OFPST14_PORT_DESC_REPLY, 4, xid));
            s.write_all(&b).unwrap();
        });
        let mut v = Vconn::open(&format!("unix:{}", path.display()), 1 << 4).unwrap();
        let req = finish(start(OfpRaw::OFPST10_PORT_DESC_REQUEST, 4, alloc_xid()));
        let replies = v.dump(&req).unwrap();
        assert_eq!(replies.len(), 2);
        h.join().unwrap();
    }

    #[test]
    fn unknown_stream_types_are_refused() {
        assert_eq!(
            Vconn::open("foo:bar", 2).err(),
            Some(VconnError::Errno(libc::EAFNOSUPPORT))
        );
    }
}
