//! Arbitrary bytes as a JSON-RPC stream, cut into arbitrary pieces: the
//! framer and the message reader must return messages or errors, never
//! panic, never accept a text longer than their limit, and agree with a
//! one-piece read of the same bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rpc::framing::Framer;
use rpc::Message;

const MAX: usize = 4096;

/// Everything the reader makes of `chunks`: each message (or the message
/// error), then the framing error that stopped it, if any.
fn read(chunks: &[&[u8]]) -> Vec<String> {
    let mut framer = Framer::new(MAX);
    let mut out = Vec::new();
    for chunk in chunks {
        framer.push(chunk);
        loop {
            match framer.next_value() {
                Ok(Some(v)) => {
                    assert!(v.to_string().len() <= 4 * MAX + 16);
                    out.push(match Message::from_json(v) {
                        Ok(m) => format!("msg {}", m.describe()),
                        Err(e) => format!("bad {e}"),
                    });
                }
                Ok(None) => break,
                Err(e) => {
                    out.push(format!("err {e}"));
                    return out;
                }
            }
        }
    }
    out
}

fuzz_target!(|data: &[u8]| {
    // The code under test logs its refusals: keep long runs off the disk.
    vlog::set_level(None, Some(vlog::Destination::Console), vlog::Level::Off);
    let Some((&cut, body)) = data.split_first() else {
        return;
    };
    // Where to split the stream: every `cut`-th byte (1..=256).
    let step = usize::from(cut) + 1;
    let pieces: Vec<&[u8]> = body.chunks(step).collect();
    let whole = read(&[body]);
    let split = read(&pieces);
    // Errors may be found at different points, but the messages before the
    // first error are the same however the bytes arrive.
    let ok = |v: &Vec<String>| v.iter().take_while(|s| !s.starts_with("err ")).cloned().collect::<Vec<_>>();
    let (a, b) = (ok(&whole), ok(&split));
    let n = a.len().min(b.len());
    assert_eq!(a[..n], b[..n]);
});
