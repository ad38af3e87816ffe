//! `controller_queue_size` against the reference: a controller that stops
//! reading gets, once it reads again, what the socket held plus the
//! packet-ins the switch kept queued for it (100 by default, the column
//! otherwise); the others were dropped, with upstream's log line. A
//! test-made OpenFlow 1.0 controller on a Unix socket (fixed buffer
//! sizes, so the counts are exact) receives 1000 packet-ins from ten
//! packet-outs of 100 `controller` actions; the same steps on the
//! reference daemons and on ours, with the default queue, with 10 in the
//! Controller row and with 10 as the bridge's
//! `other_config:controller-queue-size` — set while the controller is
//! connected, which upstream applies without reconnecting (the test
//! controller accepts one connection only).

mod controller_common;

use controller_common::*;
use std::io::{Read, Write};
use std::os::unix::net::UnixListener;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use testkit::Sandbox;

/// A controller that says hello, then reads nothing until told to; then
/// it sends an echo request and counts the packet-ins before the reply.
struct Controller {
    connected: Arc<AtomicBool>,
    go: Arc<AtomicBool>,
    /// Packet-ins counted (set once the echo reply came).
    counted: Arc<AtomicUsize>,
    done: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Controller {
    fn start(listener: UnixListener) -> Controller {
        let connected = Arc::new(AtomicBool::new(false));
        let go = Arc::new(AtomicBool::new(false));
        let counted = Arc::new(AtomicUsize::new(0));
        let done = Arc::new(AtomicBool::new(false));
        let stop = Arc::new(AtomicBool::new(false));
        let (c, g, n, d, s) = (
            connected.clone(),
            go.clone(),
            counted.clone(),
            done.clone(),
            stop.clone(),
        );
        let thread = std::thread::spawn(move || {
            listener.set_nonblocking(true).unwrap();
            let mut conn = loop {
                if s.load(Ordering::Relaxed) {
                    return;
                }
                match listener.accept() {
                    Ok((conn, _)) => break conn,
                    Err(_) => std::thread::sleep(Duration::from_millis(20)),
                }
            };
            conn.set_nonblocking(false).unwrap();
            conn.set_read_timeout(Some(Duration::from_millis(50)))
                .unwrap();
            let _ = conn.write_all(&[1, 0, 0, 8, 0, 0, 0, 1]);
            let mut buf = Vec::new();
            let mut chunk = [0u8; 65536];
            // The switch's hello.
            while buf.len() < 8 && !s.load(Ordering::Relaxed) {
                if let Ok(k) = conn.read(&mut chunk) {
                    if k == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..k]);
                }
            }
            let len = usize::from(u16::from_be_bytes([buf[2], buf[3]])).max(8);
            buf.drain(..len.min(buf.len()));
            c.store(true, Ordering::Relaxed);
            while !g.load(Ordering::Relaxed) {
                if s.load(Ordering::Relaxed) {
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = conn.write_all(&[1, 2, 0, 8, 0, 0, 0, 99]);
            let mut pins = 0;
            while !s.load(Ordering::Relaxed) {
                match conn.read(&mut chunk) {
                    Ok(0) => return,
                    Ok(k) => buf.extend_from_slice(&chunk[..k]),
                    Err(_) => continue,
                }
                while let Some(msg) = take_message(&mut buf) {
                    match msg[1] {
                        10 => pins += 1,
                        3 if msg[4..8] == [0, 0, 0, 99] => {
                            n.store(pins, Ordering::Relaxed);
                            d.store(true, Ordering::Relaxed);
                            return;
                        }
                        _ => {}
                    }
                }
            }
        });
        Controller {
            connected,
            go,
            counted,
            done,
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Controller {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// How the queue is set, if it is.
#[derive(Clone, Copy, Debug)]
enum Queue {
    Default,
    Column(u32),
    Bridge(u32),
}

/// Packet-ins the controller got, and whether the overflow was logged.
fn run(name: &str, stack: testkit::Stack, queue: Queue) -> (usize, bool) {
    let sb = Sandbox::start_stack(&format!("queue-{name}"), stack, true);
    let path = sb.path("ctl.sock");
    let ctl = Controller::start(UnixListener::bind(&path).unwrap());
    let target = format!("unix:{path}");
    let extra = vec![
        "--".to_string(),
        "set-fail-mode".into(),
        "br0".into(),
        "secure".into(),
        "--".into(),
        "set-controller".into(),
        "br0".into(),
        target,
    ];
    let refs: Vec<&str> = extra.iter().map(String::as_str).collect();
    dummy_bridge(&sb, 1, &refs);
    assert!(
        sb.wait_until(Duration::from_secs(20), || ctl
            .connected
            .load(Ordering::Relaxed)),
        "{name}: the controller never connected"
    );
    // Applied in place: the connection stays (the test controller
    // accepts only one).
    match queue {
        Queue::Default => {}
        Queue::Column(q) => {
            sb.vsctl(&[
                "set",
                "controller",
                "br0",
                &format!("controller_queue_size={q}"),
                "inactivity_probe=30000",
                "max_backoff=2000",
            ])
            .unwrap();
        }
        Queue::Bridge(q) => {
            sb.vsctl(&[
                "set",
                "bridge",
                "br0",
                &format!("other_config:controller-queue-size={q}"),
            ])
            .unwrap();
        }
    }
    let actions = vec!["controller"; 100].join(",");
    let packet = format!("ffffffffffff0000000000010800{}", "00".repeat(1400));
    for _ in 0..10 {
        sb.ofctl(
            "br0",
            &[
                "packet-out",
                &format!("in_port=LOCAL,packet={packet},actions={actions}"),
            ],
        )
        .unwrap();
    }
    sb.appctl(&["version"]).unwrap();
    ctl.go.store(true, Ordering::Relaxed);
    assert!(
        sb.wait_until(Duration::from_secs(30), || ctl.done.load(Ordering::Relaxed)),
        "{name}: no echo reply"
    );
    let log = std::fs::read_to_string(sb.path("ovs-vswitchd.log")).unwrap_or_default();
    let logged = log.contains(&format!(
        "connmgr|INFO|br0<->unix:{path}: dropping packet-in due to queue overflow"
    ));
    (ctl.counted.load(Ordering::Relaxed), logged)
}

#[test]
fn packet_ins_beyond_the_queue_are_dropped_as_upstream() {
    if testkit::skip_without_upstream("packet_ins_beyond_the_queue_are_dropped_as_upstream") {
        return;
    }
    for q in [Queue::Default, Queue::Column(10), Queue::Bridge(10)] {
        let expected = run("ref", testkit::Stack::upstream(), q);
        let actual = run("our", ours(), q);
        eprintln!("{q:?}: reference {expected:?}, ferrovs {actual:?}");
        assert!(
            expected.0 < 1000 && expected.1,
            "reference dropped nothing with {q:?}: {expected:?}"
        );
        assert_eq!(actual, expected, "{q:?}");
    }
}
