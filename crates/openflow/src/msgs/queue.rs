//! Queue configuration: `OFPT_QUEUE_GET_CONFIG_REQUEST/REPLY` (OpenFlow
//! 1.0-1.3) and `OFPST_QUEUE_DESC` (1.4+), with min/max rate properties.

use crate::bits::{port_from_ofp11, port_to_ofp11, port_to_string, queue_to_string};
use crate::errors::OfpErr;
use crate::wire::{pad8, Put, Reader};

const BAD: OfpErr = OfpErr::OFPBRC_BAD_LEN;

/// One queue's configuration. Rates are in tenths of a percent; `u16::MAX`
/// means "not configured".
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueueDesc {
    pub port_no: u16,
    pub queue_id: u32,
    pub min_rate: u16,
    pub max_rate: u16,
}

/// The port (and, for queue-desc, queue) a queue config request names.
pub fn decode_request(version: u8, body: &[u8]) -> Result<(u16, u32), OfpErr> {
    let mut r = Reader::new(body);
    if version == 1 {
        return Ok((r.u16().ok_or(BAD)?, 0xffff_ffff));
    }
    let port = port_from_ofp11(r.u32().ok_or(BAD)?).ok_or(OfpErr::OFPBRC_BAD_PORT)?;
    let queue = if version >= 5 {
        r.u32().ok_or(BAD)?
    } else {
        0xffff_ffff
    };
    Ok((port, queue))
}

pub fn encode_request(version: u8, port: u16, queue: u32, out: &mut Vec<u8>) {
    if version == 1 {
        out.put_u16(port);
        out.put_zeros(2);
    } else {
        out.put_u32(port_to_ofp11(port));
        if version >= 5 {
            out.put_u32(queue);
        } else {
            out.put_zeros(4);
        }
    }
}

fn pull_old_props(r: &mut Reader<'_>, q: &mut QueueDesc) -> Result<(), OfpErr> {
    while !r.is_empty() {
        let mut head = *r;
        let ptype = head.u16().ok_or(BAD)?;
        let len = usize::from(head.u16().ok_or(BAD)?);
        if len < 8 || len > r.remaining() || len % 8 != 0 {
            return Err(BAD);
        }
        let mut p = Reader::new(r.bytes(len).ok_or(BAD)?);
        p.skip(8).ok_or(BAD)?;
        match ptype {
            1 => q.min_rate = p.u16().ok_or(BAD)?,
            2 => q.max_rate = p.u16().ok_or(BAD)?,
            _ => {}
        }
    }
    Ok(())
}

/// Decodes a queue-get-config reply body (after the port header for 1.0-1.3)
/// or a queue-desc reply body.
pub fn decode_reply(version: u8, body: &[u8]) -> Result<Vec<QueueDesc>, OfpErr> {
    let mut r = Reader::new(body);
    let mut port_no = 0;
    if version <= 4 {
        port_no = if version == 1 {
            let p = r.u16().ok_or(BAD)?;
            r.skip(6).ok_or(BAD)?;
            p
        } else {
            let p = port_from_ofp11(r.u32().ok_or(BAD)?).ok_or(OfpErr::OFPBRC_BAD_PORT)?;
            r.skip(4).ok_or(BAD)?;
            p
        };
    }
    let mut queues = Vec::new();
    while !r.is_empty() {
        let mut q = QueueDesc {
            port_no,
            queue_id: 0,
            min_rate: u16::MAX,
            max_rate: u16::MAX,
        };
        match version {
            1 | 2 => {
                let mut head = r;
                q.queue_id = head.u32().ok_or(BAD)?;
                let len = usize::from(head.u16().ok_or(BAD)?);
                if len < 8 || len > r.remaining() {
                    return Err(BAD);
                }
                let mut e = Reader::new(r.bytes(len).ok_or(BAD)?);
                e.skip(8).ok_or(BAD)?;
                pull_old_props(&mut e, &mut q)?;
            }
            3 | 4 => {
                let mut head = r;
                q.queue_id = head.u32().ok_or(BAD)?;
                head.skip(4).ok_or(BAD)?;
                let len = usize::from(head.u16().ok_or(BAD)?);
                if len < 16 || len > r.remaining() {
                    return Err(BAD);
                }
                let mut e = Reader::new(r.bytes(len).ok_or(BAD)?);
                e.skip(16).ok_or(BAD)?;
                pull_old_props(&mut e, &mut q)?;
            }
            _ => {
                let mut head = r;
                q.port_no =
                    port_from_ofp11(head.u32().ok_or(BAD)?).ok_or(OfpErr::OFPBRC_BAD_PORT)?;
                q.queue_id = head.u32().ok_or(BAD)?;
                let len = usize::from(head.u16().ok_or(BAD)?);
                if len < 16 || len > r.remaining() {
                    return Err(BAD);
                }
                let mut e = Reader::new(r.bytes(len).ok_or(BAD)?);
                e.skip(16).ok_or(BAD)?;
                while !e.is_empty() {
                    let (ptype, pbody) = super::props::pull_property(&mut e)?;
                    let rate = Reader::new(pbody).u16().ok_or(OfpErr::OFPBPC_BAD_LEN);
                    match ptype {
                        1 => q.min_rate = rate?,
                        2 => q.max_rate = rate?,
                        _ => {}
                    }
                }
            }
        }
        queues.push(q);
    }
    Ok(queues)
}

/// Encodes the reply body for `queues`, which must all be on one port for
/// OpenFlow 1.0-1.3.
pub fn encode_reply(version: u8, port: u16, queues: &[QueueDesc], out: &mut Vec<u8>) {
    if version <= 4 {
        encode_request(version.min(4), port, 0, out);
        if version == 1 {
            out.put_zeros(4);
        }
    }
    for q in queues {
        let mut props = Vec::new();
        for (ptype, rate) in [(1u16, q.min_rate), (2, q.max_rate)] {
            if rate == u16::MAX {
                continue;
            }
            if version >= 5 {
                super::props::put_property(
                    &mut props,
                    ptype,
                    &[(rate >> 8) as u8, rate as u8, 0, 0],
                );
            } else {
                props.put_u16(ptype);
                props.put_u16(16);
                props.put_zeros(4);
                props.put_u16(rate);
                props.put_zeros(6);
            }
        }
        match version {
            1 | 2 => {
                out.put_u32(q.queue_id);
                out.put_u16((8 + props.len()) as u16);
                out.put_zeros(2);
            }
            3 | 4 => {
                out.put_u32(q.queue_id);
                out.put_u32(port_to_ofp11(q.port_no));
                out.put_u16((16 + props.len()) as u16);
                out.put_zeros(6);
            }
            _ => {
                out.put_u32(port_to_ofp11(q.port_no));
                out.put_u32(q.queue_id);
                out.put_u16(pad8(16 + props.len()) as u16);
                out.put_zeros(6);
            }
        }
        out.extend_from_slice(&props);
    }
}

fn rate(out: &mut String, name: &str, rate: u16) {
    if rate <= 1000 {
        out.push_str(&format!(" {name}:{}.{}%", rate / 10, rate % 10));
    } else if rate < u16::MAX {
        out.push_str(&format!(" {name}:(disabled)"));
    }
}

/// Upstream's printing: queues sorted by port and queue id, each port
/// introduced by `port=`.
pub fn format_reply(out: &mut String, queues: &[QueueDesc]) {
    let mut sorted: Vec<&QueueDesc> = queues.iter().collect();
    sorted.sort_by_key(|q| (q.port_no, q.queue_id));
    let mut prev: Option<u16> = None;
    for q in sorted {
        if prev != Some(q.port_no) {
            if prev.is_none() {
                out.push(' ');
            }
            out.push_str(&format!("port={}\n", port_to_string(q.port_no)));
            prev = Some(q.port_no);
        }
        out.push_str(&format!("queue {}:", queue_to_string(q.queue_id)));
        rate(out, "min_rate", q.min_rate);
        rate(out, "max_rate", q.max_rate);
        out.push('\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_round_trip() {
        for version in 1..=5u8 {
            let queues = vec![
                QueueDesc {
                    port_no: 1,
                    queue_id: 0x5555,
                    min_rate: 500,
                    max_rate: 750,
                },
                QueueDesc {
                    port_no: 1,
                    queue_id: 0x4444,
                    min_rate: u16::MAX,
                    max_rate: 100,
                },
            ];
            let mut b = Vec::new();
            encode_reply(version, 1, &queues, &mut b);
            assert_eq!(decode_reply(version, &b), Ok(queues), "version {version}");
        }
    }
}
