//! The OpenFlow connection state machine (`vswitchd::connmgr::ofconn::
//! Session`, which hands requests to `Ofproto::handle_openflow`) fed any
//! byte stream, split at arbitrary points: it must never panic, every
//! message it sends must be a well-framed OpenFlow message, and what it
//! buffers stays within one message.
//!
//! Input: byte 0 picks the connection kind, the versions allowed and
//! whether a valid hello is fed first (to get past negotiation quickly);
//! byte 1 seeds the split points; the rest is the stream.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::time::Duration;
use vswitchd::connmgr::async_msgs::ConnKind;
use vswitchd::connmgr::ofconn::{ConnConfig, Session};
use vswitchd::connmgr::BridgeShared;

fn check_framed(m: &[u8]) {
    assert!(m.len() >= 8 && m.len() <= 65535, "bad message size {}", m.len());
    assert_eq!(usize::from(u16::from_be_bytes([m[2], m[3]])), m.len());
}

fuzz_target!(|data: &[u8]| {
    vlog::set_level(None, Some(vlog::Destination::Console), vlog::Level::Off);
    if data.len() < 2 {
        return;
    }
    let (ctl, seed, stream) = (data[0], data[1], &data[2..]);
    let kind = if ctl & 1 == 0 { ConnKind::Primary } else { ConnKind::Service };
    let allowed = match u32::from(ctl >> 1) & 0x3f {
        0 => 0x7e,
        bits => bits << 1,
    };
    let cfg = ConnConfig {
        name: "tcp:127.0.0.1:6653".to_string(),
        kind,
        allowed,
        probe: Some(Duration::from_secs(5)),
        async_enabled: true,
        hello_timeout: Duration::from_secs(1),
    };
    let shared = BridgeShared::new("br0", ofproto::Ofproto::new("br0", 1));
    let mut bus = shared.subscribe();
    let (mut session, hello) = Session::new(cfg, 1);
    check_framed(&hello);
    if ctl & 0x80 != 0 {
        let top = 31 - allowed.leading_zeros() as u8;
        let step = session.receive(&[top, 0, 0, 8, 0, 0, 0, 1], &shared);
        assert!(step.up.is_some());
    }
    let mut rest = stream;
    let mut x = u32::from(seed) | 1;
    while !rest.is_empty() && !session.is_closed() {
        // xorshift: chunk sizes from 1 to 300 bytes.
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        let n = (1 + x as usize % 300).min(rest.len());
        let step = session.receive(&rest[..n], &shared);
        rest = &rest[n..];
        for m in &step.out {
            check_framed(m);
        }
        while let Ok(msg) = bus.try_recv() {
            for m in session.async_msgs(std::slice::from_ref(&*msg), &shared) {
                check_framed(&m);
            }
        }
        if let Some(p) = session.probe() {
            check_framed(&p);
        }
        let _ = session.role_text(&shared);
    }
    let _ = session.eof();
    session.finish(&shared);
});
