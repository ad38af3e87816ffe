//! A hostile or broken controller: garbage bytes, messages before the
//! hello, wrong versions after it, truncated headers, length lies, a
//! 64 KiB message with a bad body, unknown types and vendors, hellos and
//! errors out of place. Each case runs on its own connection to a
//! `ptcp:` Controller of the reference ovs-vswitchd and of ours; the
//! bytes each switch answers (its OFPT_ERRORs, echo replies) and whether
//! it closed the connection must be the same. Afterwards both switches
//! still serve new connections and still forward packets.

mod controller_common;

use controller_common::*;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};
use testkit::Sandbox;

fn h(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

const HELLO13: &str = "0400000800000001";
/// An echo request sent after each case: its reply (version 1.3, xid
/// 0xb0b0b0b0) marks the end of the switch's answers.
const SENTINEL: &str = "04020008b0b0b0b0";
const SENTINEL_REPLY: &str = "04030008b0b0b0b0";

/// (name, chunks sent in order).
fn cases() -> Vec<(&'static str, Vec<Vec<u8>>)> {
    let hello = h(HELLO13);
    let mut big = h("040effff00000006");
    big.resize(65535, 0xab);
    let mut flow_mod = h("040e003800000005");
    flow_mod.resize(56, 0);
    vec![
        ("garbage", vec![b"GET / HTTP/1.0\r\n\r\n".to_vec()]),
        (
            "wrong version after hello",
            vec![hello.clone(), h("0105000800000002")],
        ),
        ("flow_mod before hello", vec![flow_mod]),
        (
            "echo before hello",
            vec![h("0402000800000009"), hello.clone()],
        ),
        (
            "truncated header",
            vec![hello.clone(), h("0405000400000003")],
        ),
        ("length lie", vec![hello.clone(), h("04050100000000030000")]),
        ("unknown type", vec![hello.clone(), h("04fe000800000004")]),
        (
            "unknown type, other version",
            vec![hello.clone(), h("01fe000800000004")],
        ),
        (
            "experimenter, unknown vendor",
            vec![hello.clone(), h("0404001000000005deadbeef00000001")],
        ),
        (
            "vendor in OF1.0 after OF1.3 hello",
            vec![hello.clone(), h("0104001000000005deadbeef00000001")],
        ),
        ("64 KiB flow_mod with a bad body", vec![hello.clone(), big]),
        (
            "echo in another version",
            vec![hello.clone(), h("0102000c0000000aabcdef01")],
        ),
        ("second hello", vec![hello.clone(), h("0400000800000003")]),
        (
            "second hello, OF1.0",
            vec![hello.clone(), h("0100000800000003")],
        ),
        (
            "error from the controller",
            vec![hello.clone(), h("0401000c00000003000100020405000800000007")],
        ),
        (
            "unknown version 7",
            vec![hello.clone(), h("0705000800000007")],
        ),
        ("version 0", vec![hello.clone(), h("0005000800000007")]),
        (
            "OF1.5 request on OF1.3",
            vec![hello.clone(), h("0605000800000007")],
        ),
        (
            "hello of version 7",
            vec![h("0700000800000007"), h("0605000800000008")],
        ),
        (
            "hello without common versions",
            vec![h("0400001000000001000100080000c000")],
        ),
        (
            "short multipart",
            vec![hello.clone(), h("0412000a000000040000")],
        ),
        (
            "hello split byte by byte",
            h("04000008000000010405000800000007")
                .chunks(1)
                .map(<[u8]>::to_vec)
                .collect(),
        ),
        ("features", vec![hello.clone(), h("0405000800000007")]),
        ("barrier", vec![hello, h("0414000800000004")]),
    ]
}

/// Sends one case and returns what the switch answered after its hello
/// (hex), and whether it closed the connection.
fn run_case(port: u16, chunks: &[Vec<u8>]) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    for c in chunks {
        let _ = s.write_all(c);
        std::thread::sleep(Duration::from_millis(5));
    }
    let _ = s.write_all(&h(SENTINEL));
    let mut got = Vec::new();
    let mut closed = false;
    let end = Instant::now() + Duration::from_secs(2);
    let mut buf = vec![0u8; 70000];
    while Instant::now() < end {
        match s.read(&mut buf) {
            Ok(0) => {
                closed = true;
                break;
            }
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e)
                if e.kind() == std::io::ErrorKind::WouldBlock
                    || e.kind() == std::io::ErrorKind::TimedOut => {}
            Err(_) => {
                closed = true;
                break;
            }
        }
        if testkit::hex(&got).ends_with(SENTINEL_REPLY) {
            break;
        }
    }
    // The switch's own hello first (its xid differs between runs).
    let mut text = testkit::hex(&got);
    if text.len() >= 16 && &text[2..4] == "00" {
        let len = usize::from_str_radix(&text[4..8], 16).unwrap_or(8) * 2;
        text = format!("hello(v{}) {}", &text[..2], &text[len.min(text.len())..]);
    }
    format!("{text}{}", if closed { " [closed]" } else { "" })
}

fn run(name: &str, stack: testkit::Stack) -> (Vec<String>, Vec<Vec<String>>) {
    let sb = Sandbox::start_stack(&format!("ctl-hostile-{name}"), stack, true);
    let port = testkit::free_tcp_port();
    let target = format!("ptcp:{port}:127.0.0.1");
    dummy_bridge(&sb, 2, &["--", "set-controller", "br0", &target]);
    assert!(
        sb.wait_until(Duration::from_secs(10), || TcpStream::connect((
            "127.0.0.1",
            port
        ))
        .is_ok()),
        "{name}: nothing listens on {target}"
    );
    let mut transcript = Vec::new();
    for (case, chunks) in cases() {
        transcript.push(format!("{case}: {}", run_case(port, &chunks)));
    }
    // Still forwarding: the standalone bridge's NORMAL flow floods.
    receive(&sb, "p1", &frame(&mac(2), &mac(1), 1));
    assert!(
        wait_sent(&sb, 2, 1),
        "{name}: the bridge stopped forwarding"
    );
    // Still serving the management socket.
    let flows = sb.ofctl("br0", &["dump-flows"]).unwrap();
    transcript.push(format!("dump-flows: {}", flows.lines().count()));
    (transcript, sent(&sb, 2))
}

#[test]
fn hostile_controllers_get_upstreams_answers() {
    if testkit::skip_without_upstream("hostile_controllers_get_upstreams_answers") {
        return;
    }
    let [(rn, rs), (on, os)] = stacks();
    let want = std::thread::spawn(move || run(rn, rs));
    let got = run(on, os);
    let want = want.join().unwrap();
    let diff: Vec<String> = want
        .0
        .iter()
        .zip(&got.0)
        .filter(|(a, b)| a != b)
        .map(|(a, b)| format!("reference: {}\nferrovs:   {}", cut(a), cut(b)))
        .collect();
    assert!(diff.is_empty(), "answers differ:\n{}", diff.join("\n"));
    assert_eq!(want.1, got.1, "frames sent differ");
}

fn cut(s: &str) -> String {
    if s.len() > 400 {
        format!("{}...{}", &s[..300], &s[s.len() - 60..])
    } else {
        s.to_string()
    }
}
