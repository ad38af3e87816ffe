//! Shared harness of the `core_*` differential tests: our [`Ofproto`]
//! behind a Unix-socket OpenFlow endpoint (hello negotiation and echo done
//! here, everything else through `Ofproto::handle_openflow`), next to the
//! reference ovs-vswitchd in a `testkit::Sandbox`, both driven by the
//! reference `ovs-ofctl` so that outputs and errors compare byte for byte.

#![allow(dead_code)]

use ofproto::{ConnState, OfPort, Ofproto, PortKind};
use std::io::{Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use testkit::{Outcome, Program, Sandbox};

/// Versions our endpoint offers (OpenFlow 1.0 to 1.5).
const OUR_BITMAP: u32 = 0x7e;

fn read_msg(s: &mut UnixStream) -> Option<Vec<u8>> {
    let mut h = [0u8; 8];
    s.read_exact(&mut h).ok()?;
    let len = usize::from(u16::from_be_bytes([h[2], h[3]]));
    if len < 8 {
        return None;
    }
    let mut m = h.to_vec();
    m.resize(len, 0);
    s.read_exact(&mut m[8..]).ok()?;
    Some(m)
}

/// The connections of our switch: id, a handle to write to, its state.
type Conns = Arc<Mutex<Vec<(u64, UnixStream, Arc<Mutex<ConnState>>)>>>;

fn serve(mut s: UnixStream, ofproto: Arc<Mutex<Ofproto>>, id: u64, conns: Conns) {
    if s.write_all(&openflow::Hello::encode(OUR_BITMAP, 1))
        .is_err()
    {
        return;
    }
    let Some(hello) = read_msg(&mut s) else {
        return;
    };
    let theirs = openflow::Hello::decode(&hello).version_bitmap;
    let common = theirs & OUR_BITMAP;
    if common == 0 {
        return;
    }
    let version = 31 - common.leading_zeros() as u8;
    let conn = Arc::new(Mutex::new(ConnState::new(id, version)));
    if let Ok(w) = s.try_clone() {
        conns.lock().unwrap().push((id, w, conn.clone()));
    }
    while let Some(msg) = read_msg(&mut s) {
        let mut o = ofproto.lock().unwrap();
        let replies = {
            let mut c = conn.lock().unwrap();
            let r = o.handle_openflow(&mut c, &msg);
            c.take_packet_outs();
            c.take_ct_flushes();
            r
        };
        for r in replies {
            if s.write_all(&r).is_err() {
                return;
            }
        }
        // What a connection manager does with the switch's asynchronous
        // messages, for flow monitors.
        let updates: Vec<_> = o
            .take_async()
            .into_iter()
            .filter_map(|m| match m {
                ofproto::AsyncMsg::FlowUpdate(u) => Some(u),
                _ => None,
            })
            .collect();
        if !updates.is_empty() {
            for (_, w, c) in conns.lock().unwrap().iter_mut() {
                let msgs = ofproto::handler::monitor::encode_updates(&c.lock().unwrap(), &updates);
                for m in msgs {
                    let _ = w.write_all(&m);
                }
            }
        }
    }
    conns.lock().unwrap().retain(|(i, _, _)| *i != id);
    ofproto.lock().unwrap().conn_closed(&conn.lock().unwrap());
}

/// Our switch on a Unix socket.
pub struct OurSwitch {
    pub ofproto: Arc<Mutex<Ofproto>>,
    pub sock: String,
}

impl OurSwitch {
    /// Starts listening on `sock`.
    pub fn start(sock: &str, ofproto: Ofproto) -> OurSwitch {
        let _ = std::fs::remove_file(sock);
        let listener = UnixListener::bind(sock).expect("bind our OpenFlow socket");
        let ofproto = Arc::new(Mutex::new(ofproto));
        let o = ofproto.clone();
        let conns: Conns = Arc::new(Mutex::new(Vec::new()));
        std::thread::spawn(move || {
            static IDS: AtomicU64 = AtomicU64::new(1);
            for s in listener.incoming() {
                let Ok(s) = s else { break };
                let o = o.clone();
                let conns = conns.clone();
                let id = IDS.fetch_add(1, Ordering::Relaxed);
                std::thread::spawn(move || serve(s, o, id, conns));
            }
        });
        OurSwitch {
            ofproto,
            sock: sock.to_string(),
        }
    }
}

/// Replaces every `duration=1.234s` or `duration:1.234s` (also inside comma-separated
/// tokens, as group and meter statistics print them) with `duration=?`.
fn durations_anywhere(s: &str) -> String {
    let s = s.replace("duration:", "duration=");
    let mut out = String::with_capacity(s.len());
    let mut rest = s.as_str();
    while let Some(i) = rest.find("duration=") {
        out.push_str(&rest[..i + 9]);
        rest = &rest[i + 9..];
        let n = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == 's'))
            .unwrap_or(rest.len());
        if n > 0 {
            out.push('?');
            rest = &rest[n..];
        }
    }
    out.push_str(rest);
    out
}

/// The reference switch and ours, configured alike.
pub struct Pair {
    pub reference: Sandbox,
    pub ours: OurSwitch,
}

fn parse_mac(s: &str) -> [u8; 6] {
    let mut m = [0u8; 6];
    for (i, p) in s.split(':').take(6).enumerate() {
        m[i] = u8::from_str_radix(p, 16).unwrap_or(0);
    }
    m
}

impl Pair {
    /// Starts both, or returns `None` (after printing why) when the
    /// reference is not installed.
    pub fn start(tag: &str) -> Option<Pair> {
        if testkit::skip_without_upstream(tag) {
            return None;
        }
        let reference = Sandbox::start(tag);
        reference
            .add_dummy_bridge(
                "br0",
                &[
                    "other-config:datapath-id=0000aa55aa550001",
                    "fail-mode=secure",
                ],
                &["p1", "p2"],
            )
            .expect("configure the reference bridge");
        reference.ofctl("br0", &["del-flows"]).expect("del-flows");
        // Our ports get the reference's addresses.
        let show = reference.ofctl("br0", &["show"]).expect("show");
        let mut ofproto = Ofproto::new("br0", 0x0000_aa55_aa55_0001);
        for line in show.lines() {
            let line = line.trim();
            let Some((head, addr)) = line.split_once("): addr:") else {
                continue;
            };
            let Some((no, name)) = head.split_once('(') else {
                continue;
            };
            let ofp_port = match no {
                "LOCAL" => 0xfffe,
                n => n.parse().unwrap_or(0),
            };
            let kind = if ofp_port == 0xfffe {
                PortKind::Internal
            } else {
                PortKind::Dummy
            };
            let mut p = OfPort::new(ofp_port, name, ofp_port, kind, parse_mac(addr));
            p.state = 4;
            ofproto.add_port(p);
        }
        ofproto.take_async();
        // The counters the reference's dummy devices report.
        ofproto.set_port_counters_source(Arc::new(|_| {
            let mut c = ofproto::port::PortCounters::unknown();
            c.custom = [
                "rx_custom_packets_1",
                "rx_custom_packets_2",
                "rx_q0_bytes",
                "rx_q0_packets",
                "tx_q0_bytes",
                "tx_q0_packets",
            ]
            .iter()
            .map(|n| (n.to_string(), 0))
            .collect();
            Some(c)
        }));
        let sock = reference.path("ours.mgmt");
        let ours = OurSwitch::start(&sock, ofproto);
        Some(Pair { reference, ours })
    }

    /// Runs `ovs-ofctl ARGS` against ours (target inserted like
    /// `Sandbox::ofctl_outcome` does).
    pub fn ofctl_ours(&self, args: &[&str]) -> Outcome {
        let target = format!("unix:{}", self.ours.sock);
        let all = testkit::ofctl_args(args, &target);
        self.reference
            .run(&Program::path("/usr/bin/ovs-ofctl"), &all)
    }

    /// Runs `ovs-ofctl ARGS` against both; returns (reference, ours), with
    /// socket paths and durations normalized.
    pub fn both(&self, args: &[&str]) -> (Outcome, Outcome) {
        let r = self.reference.ofctl_outcome("br0", args);
        let o = self.ofctl_ours(args);
        (
            self.normalize(r, &self.reference.mgmt("br0")),
            self.normalize(o, &format!("unix:{}", self.ours.sock)),
        )
    }

    fn normalize(&self, o: Outcome, target: &str) -> Outcome {
        let fix = |s: &str| {
            let s = s.replace(target, "<target>");
            let s = s.replace(target.trim_start_matches("unix:"), "<target>");
            testkit::normalize_log_timestamps(&durations_anywhere(&testkit::normalize_durations(
                &s,
            )))
        };
        Outcome {
            status: o.status,
            stdout: fix(&o.stdout),
            stderr: fix(&o.stderr),
        }
    }

    /// Runs `ovs-ofctl ARGS` against both and requires the same status,
    /// stdout and stderr.
    pub fn same(&self, args: &[&str]) -> Outcome {
        let (r, o) = self.both(args);
        assert_eq!(
            (r.status, &r.stdout, &r.stderr),
            (o.status, &o.stdout, &o.stderr),
            "ovs-ofctl {args:?}: reference (left) and ours (right) differ"
        );
        r
    }

    /// Like [`Pair::same`], but the order of the output lines after the
    /// first does not matter (upstream lists groups and meters in an
    /// order that changes from run to run).
    pub fn same_unordered(&self, args: &[&str]) -> Outcome {
        let (r, o) = self.both(args);
        let sorted = |s: &str| {
            let mut l: Vec<&str> = s.lines().collect();
            if l.len() > 1 {
                l[1..].sort();
            }
            l.join("\n")
        };
        assert_eq!(
            (r.status, sorted(&r.stdout), &r.stderr),
            (o.status, sorted(&o.stdout), &o.stderr),
            "ovs-ofctl {args:?}: reference (left) and ours (right) differ"
        );
        r
    }

    /// Starts `ovs-ofctl ARGS` in the background against the reference
    /// (`ours == false`) or ours, writing its output to a file; returns the
    /// child and the file.
    pub fn spawn_ofctl(
        &self,
        ours: bool,
        args: &[&str],
        out: &str,
    ) -> (std::process::Child, String) {
        let target = if ours {
            format!("unix:{}", self.ours.sock)
        } else {
            self.reference.mgmt("br0")
        };
        let path = self.reference.path(out);
        let file = std::fs::File::create(&path).expect("create output file");
        let mut all: Vec<&str> = vec![args[0], &target];
        all.extend_from_slice(&args[1..]);
        let child = std::process::Command::new("/usr/bin/ovs-ofctl")
            .args(&all)
            .env("OVS_RUNDIR", &self.reference.dir)
            // A closed stdin stops `ovs-ofctl monitor` from reading the
            // switch: keep it open (piped) until the child is stopped.
            .stdin(std::process::Stdio::piped())
            .stdout(file)
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("spawn ovs-ofctl");
        (child, path)
    }

    /// Like [`Pair::same`], also for stdin-fed commands (`add-flows - `).
    pub fn same_with_file(&self, args: &[&str], contents: &str) -> Outcome {
        let path = self.reference.path("input.txt");
        std::fs::write(&path, contents).expect("write input");
        let mut a: Vec<&str> = args.to_vec();
        a.push(&path);
        self.same(&a)
    }
}
