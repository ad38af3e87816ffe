//! `ovs-ofctl ofp-parse-pcap FILE [PORT...]`: reads a packet capture,
//! follows the TCP connections to or from OpenFlow ports (6633 and 6653
//! unless ports are given), reassembles each direction's byte stream and
//! prints every complete OpenFlow message in it as `ofp-print` does,
//! headed by `SRC.PORT > DST.PORT:`.

use super::options::Options;
use super::{CmdResult, Fatal};
use std::collections::HashMap;

/// One pcap record: capture time and frame bytes.
struct Record {
    sec: u32,
    usec: u32,
    frame: Vec<u8>,
}

/// Reads a whole pcap file (either byte order, micro- or nanosecond
/// timestamps). A truncated last record ends the capture, as upstream's
/// reader stops at the first short read.
fn read_pcap(data: &[u8]) -> Result<Vec<Record>, String> {
    let magic = data
        .get(0..4)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .ok_or("failed to read pcap header")?;
    let (le, nanos) = match magic {
        0xa1b2_c3d4 => (true, false),
        0xd4c3_b2a1 => (false, false),
        0xa1b2_3c4d => (true, true),
        0x4d3c_b2a1 => (false, true),
        _ => return Err(format!("bad magic 0x{magic:08x} reading pcap file")),
    };
    let u32_at = |b: &[u8], i: usize| -> Option<u32> {
        let w = [*b.get(i)?, *b.get(i + 1)?, *b.get(i + 2)?, *b.get(i + 3)?];
        Some(if le {
            u32::from_le_bytes(w)
        } else {
            u32::from_be_bytes(w)
        })
    };
    if data.len() < 24 {
        return Err("failed to read pcap header".into());
    }
    let mut records = Vec::new();
    let mut pos = 24;
    while let (Some(sec), Some(frac), Some(caplen)) = (
        u32_at(data, pos),
        u32_at(data, pos + 4),
        u32_at(data, pos + 8),
    ) {
        let start = pos + 16;
        let Some(frame) = data.get(start..start.saturating_add(caplen as usize)) else {
            break;
        };
        records.push(Record {
            sec,
            usec: if nanos { frac / 1000 } else { frac },
            frame: frame.to_vec(),
        });
        pos = start + caplen as usize;
    }
    Ok(records)
}

/// One direction of a TCP connection: the next expected sequence number
/// and the bytes received in order but not yet consumed.
struct Stream {
    next_seq: u32,
    buffer: Vec<u8>,
}

/// Source and destination address and port of one direction.
type StreamKey = (u32, u16, u32, u16);

const TCP_SYN: u16 = 0x02;

/// Follows TCP streams: a SYN (re)starts a stream after its sequence
/// number; otherwise a segment is appended when it is the next one in
/// sequence, and ignored when it is not. The first segment seen of a
/// stream without a SYN starts it.
#[derive(Default)]
struct TcpReader {
    streams: HashMap<StreamKey, Stream>,
}

impl TcpReader {
    /// Feeds one segment; returns the stream's buffer when the segment
    /// added bytes to it.
    fn run(
        &mut self,
        key: StreamKey,
        seq: u32,
        flags: u16,
        payload: &[u8],
    ) -> Option<&mut Vec<u8>> {
        if flags & TCP_SYN != 0 {
            self.streams.insert(
                key,
                Stream {
                    next_seq: seq.wrapping_add(1),
                    buffer: Vec::new(),
                },
            );
            return None;
        }
        let stream = self.streams.entry(key).or_insert(Stream {
            next_seq: seq,
            buffer: Vec::new(),
        });
        if payload.is_empty() || seq != stream.next_seq {
            return None;
        }
        stream.buffer.extend_from_slice(payload);
        stream.next_seq = seq.wrapping_add(payload.len() as u32);
        Some(&mut stream.buffer)
    }
}

fn ip(a: u32) -> String {
    let b = a.to_be_bytes();
    format!("{}.{}.{}.{}", b[0], b[1], b[2], b[3])
}

/// The TCP segment of an IPv4 frame: key, sequence number, flags and
/// payload (without Ethernet padding).
fn tcp_segment(frame: &[u8]) -> Option<(StreamKey, u32, u16, &[u8])> {
    let md = packet::extract::Metadata::default();
    let (flow, layers) =
        packet::extract::extract_with(frame, &md, &packet::extract::ExtractOptions::default());
    if flow.dl_type != 0x0800 || flow.nw_proto != 6 {
        return None;
    }
    let (l3, l4) = (layers.l3?, layers.l4?);
    let ip_len = usize::from(u16::from_be_bytes([
        *frame.get(l3 + 2)?,
        *frame.get(l3 + 3)?,
    ]));
    let seq = u32::from_be_bytes(frame.get(l4 + 4..l4 + 8)?.try_into().ok()?);
    let data_ofs = usize::from(frame.get(l4 + 12)? >> 4) * 4;
    let end = (l3 + ip_len).min(frame.len());
    let payload = frame.get(l4 + data_ofs..end).unwrap_or(&[]);
    let key = (flow.nw_src, flow.tp_src, flow.nw_dst, flow.tp_dst);
    Some((key, seq, flow.tcp_flags, payload))
}

/// `HH:MM:SS.mmm ` of a capture time, in UTC.
fn timestamp(sec: u32, usec: u32) -> String {
    let day = sec % 86_400;
    format!(
        "{:02}:{:02}:{:02}.{:03} ",
        day / 3600,
        day / 60 % 60,
        day % 60,
        usec / 1000
    )
}

/// `ofp-parse-pcap FILE [PORT...]`
pub fn ofp_parse_pcap(opts: &Options, args: &[String]) -> CmdResult {
    let name = &args[0];
    let data = std::fs::read(name).map_err(|e| {
        let text = rpc::errno::io_error_text(&e);
        vlog::warn!(
            "pcap",
            "{}: failed to open pcap file for reading ({})",
            name,
            text
        );
        Fatal(format!("{name}: open failed ({text})"))
    })?;
    let records = read_pcap(&data).map_err(|e| Fatal(format!("{name}: {e}")))?;
    let ports: Vec<u16> = if args.len() > 1 {
        args[1..]
            .iter()
            .map(|p| super::print_cmd::atoi(p) as u16)
            .collect()
    } else {
        vec![6633, 6653]
    };
    let mut reader = TcpReader::default();
    let mut out = String::new();
    let mut first = true;
    for rec in &records {
        let Some((key, seq, flags, payload)) = tcp_segment(&rec.frame) else {
            continue;
        };
        if !ports.contains(&key.1) && !ports.contains(&key.3) {
            continue;
        }
        let Some(buffer) = reader.run(key, seq, flags, payload) else {
            continue;
        };
        while buffer.len() >= 8 {
            let length = usize::from(u16::from_be_bytes([buffer[2], buffer[3]]));
            if length < 8 || buffer.len() < length {
                break;
            }
            if !first {
                out.push('\n');
            }
            first = false;
            if opts.timestamp {
                out.push_str(&timestamp(rec.sec, rec.usec));
            }
            out.push_str(&format!(
                "{}.{} > {}.{}:\n",
                ip(key.0),
                key.1,
                ip(key.2),
                key.3
            ));
            out.push_str(&openflow::print::ofp_to_string(
                &buffer[..length],
                opts.verbosity + 1,
            ));
            buffer.drain(..length);
        }
    }
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(out.as_bytes())
        .and_then(|()| stdout.flush())
        .map_err(|e| Fatal(format!("write failed ({e})")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_follow_sequence_numbers() {
        let mut r = TcpReader::default();
        let k = (1, 2, 3, 4);
        assert!(r.run(k, 99, TCP_SYN, &[]).is_none());
        assert_eq!(
            r.run(k, 100, 0, b"ab").map(|b| b.clone()),
            Some(b"ab".to_vec())
        );
        // A retransmission or a gap is ignored.
        assert!(r.run(k, 100, 0, b"ab").is_none());
        assert!(r.run(k, 110, 0, b"zz").is_none());
        assert_eq!(
            r.run(k, 102, 0, b"c").map(|b| b.clone()),
            Some(b"abc".to_vec())
        );
    }

    #[test]
    fn pcap_headers_and_truncation() {
        assert!(read_pcap(&[1, 2]).is_err());
        let mut f = vec![0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0];
        f.extend_from_slice(&[0; 16]);
        f.extend_from_slice(&[5, 0, 0, 0, 7, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 0xaa, 0xbb]);
        f.extend_from_slice(&[1, 0, 0, 0]);
        let r = read_pcap(&f).unwrap();
        assert_eq!(r.len(), 1);
        assert_eq!(
            (r[0].sec, r[0].usec, r[0].frame.clone()),
            (5, 7, vec![0xaa, 0xbb])
        );
        assert_eq!(timestamp(3661, 5000), "01:01:01.005 ");
    }
}
