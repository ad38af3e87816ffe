//! A minimal test-made OpenFlow controller: it accepts one connection from
//! the switch on a listener of the test's, says hello in the version the
//! test picks, answers echo requests (unless told not to), sends barriers
//! on demand and records what the switch sent it. Stopped, and its
//! connection closed, when stopped or dropped.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use testkit::Sandbox;

/// OpenFlow message types the controller tells apart (the same in every
/// version unless noted).
const OFPT_HELLO: u8 = 0;
const OFPT_ECHO_REQUEST: u8 = 2;
const OFPT_ECHO_REPLY: u8 = 3;
const OFPT_PACKET_IN: u8 = 10;

/// How the controller behaves.
#[derive(Clone, Copy, Debug)]
pub struct Behaviour {
    /// The OpenFlow version byte of its messages (1 = OpenFlow 1.0,
    /// 4 = OpenFlow 1.3).
    pub version: u8,
    /// Whether echo requests get a reply (without one the switch's
    /// inactivity probe ends the connection).
    pub answer_echo: bool,
    /// Whether a barrier request follows the hello at once: a request
    /// beyond hello and echo admits the controller to a switch that failed
    /// open.
    pub barrier_at_hello: bool,
}

impl Behaviour {
    /// OpenFlow 1.0, answering echo requests, no barrier until asked.
    pub const OF10: Behaviour = Behaviour {
        version: 1,
        answer_echo: true,
        barrier_at_hello: false,
    };

    fn barrier_request(&self) -> u8 {
        if self.version == 1 {
            18
        } else {
            20
        }
    }

    fn barrier_reply(&self) -> u8 {
        self.barrier_request() + 1
    }
}

/// What the controller saw.
#[derive(Clone, Debug, Default)]
pub struct Seen {
    /// The switch's hello arrived.
    pub connected: bool,
    pub echo_requests: u32,
    pub barrier_replies: u32,
    /// Every packet-in message, whole, in order.
    pub packet_ins: Vec<Vec<u8>>,
    /// The switch closed the connection.
    pub closed: bool,
}

/// A running controller (see the module comment).
pub struct Controller {
    stop: Arc<AtomicBool>,
    seen: Arc<Mutex<Seen>>,
    barrier: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Controller {
    /// Starts serving the first connection `listener` accepts.
    pub fn start(listener: TcpListener, how: Behaviour) -> Controller {
        let stop = Arc::new(AtomicBool::new(false));
        let seen = Arc::new(Mutex::new(Seen::default()));
        let barrier = Arc::new(AtomicBool::new(false));
        let (s, sn, br) = (stop.clone(), seen.clone(), barrier.clone());
        let thread = std::thread::spawn(move || {
            if let Some(conn) = accept(&listener, &s) {
                serve(conn, how, &s, &sn, &br);
            }
        });
        Controller {
            stop,
            seen,
            barrier,
            thread: Some(thread),
        }
    }

    /// Starts a controller on a free local port; also returns the
    /// switch's target for it (`tcp:127.0.0.1:PORT`).
    pub fn listen(how: Behaviour) -> (Controller, String) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        (
            Controller::start(listener, how),
            format!("tcp:127.0.0.1:{port}"),
        )
    }

    /// A copy of what the controller saw so far.
    pub fn seen(&self) -> Seen {
        self.seen.lock().unwrap().clone()
    }

    /// Sends a barrier request and waits for its reply: whatever the switch
    /// sent before the reply is in [`Controller::seen`].
    pub fn sync(&self, sb: &Sandbox) {
        let before = self.seen().barrier_replies;
        self.barrier.store(true, Ordering::Relaxed);
        assert!(
            sb.wait_until(Duration::from_secs(10), || {
                self.seen().barrier_replies > before
            }),
            "no barrier reply"
        );
    }

    /// Stops the controller and closes its connection; true if the switch
    /// had connected.
    pub fn stop(mut self) -> bool {
        self.halt();
        self.seen().connected
    }

    fn halt(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Controller {
    fn drop(&mut self) {
        self.halt();
    }
}

/// The first connection `listener` accepts, or none once `stop` is set.
fn accept(listener: &TcpListener, stop: &AtomicBool) -> Option<TcpStream> {
    listener.set_nonblocking(true).unwrap();
    loop {
        if stop.load(Ordering::Relaxed) {
            return None;
        }
        match listener.accept() {
            Ok((c, _)) => return Some(c),
            Err(_) => std::thread::sleep(Duration::from_millis(20)),
        }
    }
}

/// The first whole OpenFlow message in `buf` (by its header's length),
/// taken out of it; `None` while it is incomplete.
pub fn take_message(buf: &mut Vec<u8>) -> Option<Vec<u8>> {
    if buf.len() < 8 {
        return None;
    }
    let len = usize::from(u16::from_be_bytes([buf[2], buf[3]])).max(8);
    (buf.len() >= len).then(|| buf.drain(..len).collect())
}

fn serve(
    mut conn: TcpStream,
    how: Behaviour,
    stop: &AtomicBool,
    seen: &Mutex<Seen>,
    barrier: &AtomicBool,
) {
    conn.set_nonblocking(false).unwrap();
    conn.set_read_timeout(Some(Duration::from_millis(20)))
        .unwrap();
    let v = how.version;
    let _ = conn.write_all(&[v, OFPT_HELLO, 0, 8, 0, 0, 0, 1]);
    if how.barrier_at_hello {
        let _ = conn.write_all(&[v, how.barrier_request(), 0, 8, 0, 0, 0, 2]);
    }
    let mut buf = Vec::new();
    let mut chunk = [0u8; 65536];
    while !stop.load(Ordering::Relaxed) {
        if barrier.swap(false, Ordering::Relaxed) {
            let _ = conn.write_all(&[v, how.barrier_request(), 0, 8, 0, 0, 0, 9]);
        }
        match conn.read(&mut chunk) {
            Ok(0) => {
                seen.lock().unwrap().closed = true;
                break;
            }
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {
                seen.lock().unwrap().closed = true;
                break;
            }
            Err(_) => continue,
        }
        while let Some(msg) = take_message(&mut buf) {
            let mut seen = seen.lock().unwrap();
            match msg[1] {
                OFPT_HELLO => seen.connected = true,
                OFPT_ECHO_REQUEST => {
                    seen.echo_requests += 1;
                    if how.answer_echo {
                        let mut reply = msg.clone();
                        reply[1] = OFPT_ECHO_REPLY;
                        let _ = conn.write_all(&reply);
                    }
                }
                OFPT_PACKET_IN => seen.packet_ins.push(msg),
                t if t == how.barrier_reply() => seen.barrier_replies += 1,
                _ => {}
            }
        }
    }
    let _ = conn.shutdown(Shutdown::Both);
}
