//! A blocking JSON-RPC client for command-line tools (`ovs-appctl`,
//! `ovsdb-client`, `ovs-vsctl`), so that they need no async runtime.
//! One connection, an optional overall deadline, upstream's error texts.

use crate::address::{ActiveAddr, AddressError};
use crate::errno;
use crate::framing::{Framer, DEFAULT_MAX_MESSAGE};
use crate::message::Message;
use crate::stream::{short_socket_path, ssl_unsupported};
use serde_json::Value;
use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

/// Why a blocking exchange failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The peer closed the connection.
    #[error("End of file")]
    Eof,
    /// The peer sent something that is not JSON-RPC.
    #[error("Protocol error")]
    Protocol(String),
    /// The deadline passed.
    #[error("Connection timed out")]
    TimedOut,
    #[error("{}", errno::io_error_text(.0))]
    Io(io::Error),
}

impl From<io::Error> for ClientError {
    fn from(e: io::Error) -> Self {
        match e.kind() {
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => ClientError::TimedOut,
            _ => ClientError::Io(e),
        }
    }
}

/// Why a client could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error(transparent)]
    Address(#[from] AddressError),
    #[error("{}", errno::io_error_text(.0))]
    Io(#[from] io::Error),
}

enum Sock {
    Unix(UnixStream),
    Tcp(TcpStream),
}

impl Sock {
    fn set_read_timeout(&self, d: Option<Duration>) -> io::Result<()> {
        match self {
            Sock::Unix(s) => s.set_read_timeout(d),
            Sock::Tcp(s) => s.set_read_timeout(d),
        }
    }
    fn set_write_timeout(&self, d: Option<Duration>) -> io::Result<()> {
        match self {
            Sock::Unix(s) => s.set_write_timeout(d),
            Sock::Tcp(s) => s.set_write_timeout(d),
        }
    }
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Sock::Unix(s) => s.read(buf),
            Sock::Tcp(s) => s.read(buf),
        }
    }
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        match self {
            Sock::Unix(s) => s.write_all(buf),
            Sock::Tcp(s) => s.write_all(buf),
        }
    }
}

/// A blocking JSON-RPC client connection.
pub struct Client {
    name: String,
    sock: Sock,
    framer: Framer,
    deadline: Option<Instant>,
}

impl Client {
    /// Connects to `addr`; the client's name (for logs) is the address.
    pub fn connect(addr: &ActiveAddr) -> io::Result<Client> {
        let sock = match addr {
            ActiveAddr::Unix(path) => {
                let (p, _dir) = short_socket_path(path)?;
                Sock::Unix(UnixStream::connect(p)?)
            }
            ActiveAddr::Tcp(hp) => {
                let s = TcpStream::connect((hp.host.as_str(), hp.port))?;
                let _ = s.set_nodelay(true);
                Sock::Tcp(s)
            }
            ActiveAddr::Ssl(_) => return Err(ssl_unsupported()),
        };
        Ok(Client {
            name: addr.to_string(),
            sock,
            framer: Framer::new(DEFAULT_MAX_MESSAGE),
            deadline: None,
        })
    }

    /// Parses `name` and connects.
    pub fn open(name: &str, default_port: Option<u16>) -> Result<Client, OpenError> {
        let addr = ActiveAddr::parse(name, default_port)?;
        let mut c = Client::connect(&addr)?;
        c.name = name.to_string();
        Ok(c)
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Sets the name used in log messages.
    pub fn set_name(&mut self, name: impl Into<String>) {
        self.name = name.into();
    }

    /// Every later operation fails with [`ClientError::TimedOut`] once
    /// `deadline` passes (`None`: wait forever).
    pub fn set_deadline(&mut self, deadline: Option<Instant>) {
        self.deadline = deadline;
    }

    fn arm(&self) -> Result<(), ClientError> {
        let t = match self.deadline {
            None => None,
            Some(d) => {
                let left = d.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return Err(ClientError::TimedOut);
                }
                Some(left)
            }
        };
        self.sock.set_read_timeout(t)?;
        self.sock.set_write_timeout(t)?;
        Ok(())
    }

    /// Sends one message.
    pub fn send(&mut self, msg: &Message) -> Result<(), ClientError> {
        self.arm()?;
        vlog::dbg!("jsonrpc", "{}: send {}", self.name, msg.description());
        self.sock.write_all(&msg.to_bytes())?;
        Ok(())
    }

    fn protocol_error(&self, what: String) -> ClientError {
        vlog::warn!("jsonrpc", "{}: {what}", self.name);
        ClientError::Protocol(what)
    }

    /// Receives one message.
    pub fn recv(&mut self) -> Result<Message, ClientError> {
        let mut buf = [0u8; 16 * 1024];
        loop {
            match self.framer.next_value() {
                Ok(Some(v)) => {
                    return match Message::from_json(v) {
                        Ok(m) => {
                            vlog::dbg!("jsonrpc", "{}: received {}", self.name, m.description());
                            Ok(m)
                        }
                        Err(e) => {
                            Err(self.protocol_error(format!("received bad JSON-RPC message: {e}")))
                        }
                    }
                }
                Ok(None) => {}
                Err(e) => return Err(self.protocol_error(format!("error parsing stream: {e}"))),
            }
            self.arm()?;
            let n = match self.sock.read(&mut buf) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e.into()),
            };
            if n == 0 {
                return Err(ClientError::Eof);
            }
            self.framer.push(&buf[..n]);
        }
    }

    /// Sends `request` and returns the reply or error with its id. Echo
    /// requests from the peer are answered; other messages are dropped.
    pub fn transact(&mut self, request: &Message) -> Result<Message, ClientError> {
        let id = request.id().cloned();
        self.send(request)?;
        loop {
            let m = self.recv()?;
            match &m {
                Message::Request {
                    method,
                    params,
                    id: rid,
                } if method == "echo" => {
                    let reply = Message::reply(Value::Array(params.clone()), rid.clone());
                    self.send(&reply)?;
                }
                Message::Reply { id: rid, .. } | Message::Error { id: rid, .. }
                    if Some(rid) == id.as_ref() =>
                {
                    return Ok(m)
                }
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::os::unix::net::UnixListener;

    fn server(
        script: impl FnOnce(UnixStream) + Send + 'static,
    ) -> (std::path::PathBuf, std::thread::JoinHandle<()>) {
        let dir = std::env::temp_dir().join(format!(
            "ferrovs-blocking-{}-{}",
            std::process::id(),
            rand_suffix()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("s.sock");
        let l = UnixListener::bind(&path).unwrap();
        let h = std::thread::spawn(move || {
            let (s, _) = l.accept().unwrap();
            script(s);
        });
        (path, h)
    }

    fn rand_suffix() -> u64 {
        use std::sync::atomic::{AtomicU64, Ordering};
        static N: AtomicU64 = AtomicU64::new(0);
        N.fetch_add(1, Ordering::Relaxed)
    }

    #[test]
    fn transact_skips_unrelated_messages() {
        let (path, h) = server(|mut s| {
            let mut buf = [0u8; 1024];
            let n = s.read(&mut buf).unwrap();
            let req: Value = serde_json::from_slice(&buf[..n]).unwrap();
            let id = req["id"].clone();
            let out = format!(
                r#"{{"id":"zz","result":"no","error":null}}{{"id":null,"method":"x","params":[]}}{{"id":{id},"result":"yes","error":null}}"#
            );
            s.write_all(out.as_bytes()).unwrap();
        });
        let mut c = Client::connect(&ActiveAddr::Unix(path.clone())).unwrap();
        let r = c
            .transact(&Message::request("m", vec![json!("a")]))
            .unwrap();
        assert!(matches!(r, Message::Reply { result, .. } if result == json!("yes")));
        h.join().unwrap();
        let _ = std::fs::remove_dir_all(path.parent().unwrap());
    }

    #[test]
    fn eof_and_garbage_and_deadline() {
        let (path, h) = server(|s| drop(s));
        let mut c = Client::connect(&ActiveAddr::Unix(path.clone())).unwrap();
        h.join().unwrap();
        assert!(matches!(c.recv(), Err(ClientError::Eof)));

        let (path2, h) = server(|mut s| {
            s.write_all(b"{\"id\":0,\"result\":1,\"error\":2}").unwrap();
        });
        let mut c = Client::connect(&ActiveAddr::Unix(path2.clone())).unwrap();
        assert!(matches!(c.recv(), Err(ClientError::Protocol(_))));
        h.join().unwrap();

        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let (path3, h) = server(move |_s| {
            let _ = rx.recv();
        });
        let mut c = Client::connect(&ActiveAddr::Unix(path3.clone())).unwrap();
        c.set_deadline(Some(Instant::now() + Duration::from_millis(50)));
        assert!(matches!(c.recv(), Err(ClientError::TimedOut)));
        tx.send(()).unwrap();
        h.join().unwrap();
        for p in [path, path2, path3] {
            let _ = std::fs::remove_dir_all(p.parent().unwrap());
        }
    }
}
