//! Frames from the text `ovs-appctl netdev-dummy/receive` takes: either
//! the frame in hex, or a datapath flow (`in_port(1),eth(…),eth_type(…),
//! ipv4(…),…`) from which a frame is composed with 64 bytes of counting
//! payload, as upstream does.

use flow::odp::{key_to_flow, parse_key, Fitness};

/// Payload bytes of a frame composed from a flow.
pub const COMPOSED_L7_LEN: usize = 64;

fn from_hex(s: &str) -> Option<Vec<u8>> {
    let t: String = s.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    if t.is_empty() || !t.len().is_multiple_of(2) || !t.chars().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    (0..t.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&t[i..i + 2], 16).ok())
        .collect()
}

/// The frame `text` describes; `ports` resolves port names in `in_port()`.
/// Errors are upstream's messages.
pub fn frame_from_text(
    text: &str,
    ports: Option<flow::odp::key_parse::PortLookup<'_>>,
) -> Result<Vec<u8>, String> {
    if let Some(b) = from_hex(text) {
        return Ok(b);
    }
    let (key, _mask) = parse_key(text, ports).map_err(|e| format!("{text}: {e}"))?;
    let (flow, fit) = key_to_flow(&key);
    if fit == Fitness::Error {
        return Err(format!("{text}: bad flow key"));
    }
    Ok(packet::compose::compose_generated(&flow, COMPOSED_L7_LEN))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_and_flow() {
        assert_eq!(frame_from_text("0102 03", None).unwrap(), vec![1, 2, 3]);
        let f = frame_from_text(
            "in_port(1),eth(src=50:54:00:00:00:05,dst=50:54:00:00:00:07),eth_type(0x0800),ipv4(src=10.0.0.2,dst=10.0.0.1,proto=6,tos=0,ttl=64,frag=no),tcp(src=1,dst=2)",
            None,
        )
        .unwrap();
        assert_eq!(f.len(), 118, "as upstream's byte counts show");
        assert_eq!(&f[0..6], &[0x50, 0x54, 0, 0, 0, 7]);
        assert!(frame_from_text("foo(1)", None).is_err());
    }
}
