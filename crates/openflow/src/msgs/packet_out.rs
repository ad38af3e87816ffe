//! Packet-out messages (OpenFlow 1.0, 1.1-1.4, 1.5 with a pipeline match).

use crate::actions::{self, OfpAction};
use crate::bits::{ofpp, port_from_ofp11, port_to_ofp11};
use crate::errors::OfpErr;
use crate::msgs::packet_in::packet_to_string;
use crate::nx_match;
use crate::wire::{hex_dump, Put, Reader};
use flow::Match;

const BAD: OfpErr = OfpErr::OFPBRC_BAD_LEN;

/// A packet sent by the controller.
#[derive(Clone, Debug, PartialEq)]
pub struct PacketOut {
    /// Pipeline metadata; always includes `in_port`.
    pub metadata: Match,
    pub buffer_id: u32,
    pub actions: Vec<OfpAction>,
    /// The packet (only when unbuffered).
    pub data: Vec<u8>,
}

impl PacketOut {
    pub fn decode(version: u8, body: &[u8]) -> Result<PacketOut, OfpErr> {
        let mut r = Reader::new(body);
        let buffer_id = r.u32().ok_or(BAD)?;
        let (metadata, actions_len) = match version {
            1 => {
                let in_port = r.u16().ok_or(BAD)?;
                let len = usize::from(r.u16().ok_or(BAD)?);
                let mut m = Match::catchall();
                m.flow.in_port = u32::from(in_port);
                m.wc.in_port = u32::MAX;
                (m, len)
            }
            2..=5 => {
                let raw_port = r.u32().ok_or(BAD)?;
                let in_port = port_from_ofp11(raw_port).ok_or_else(|| {
                    vlog::warn!(
                        "ofp_port",
                        "port {} is outside the supported range 0 through {} or 0x{:x} through 0x{:x}",
                        raw_port,
                        ofpp::MAX - 1,
                        0xffff_ff00u32,
                        u32::MAX
                    );
                    OfpErr::OFPBAC_BAD_OUT_PORT
                })?;
                let len = usize::from(r.u16().ok_or(BAD)?);
                r.skip(6).ok_or(BAD)?;
                let mut m = Match::catchall();
                m.flow.in_port = u32::from(in_port);
                m.wc.in_port = u32::MAX;
                (m, len)
            }
            _ => {
                let len = usize::from(r.u16().ok_or(BAD)?);
                r.skip(2).ok_or(BAD)?;
                let m = nx_match::pull_oxm_opts(&mut r, false, true)?;
                if m.wc.in_port == 0 {
                    return Err(OfpErr::OFPBRC_BAD_PORT);
                }
                (m, len)
            }
        };
        let in_port = metadata.flow.in_port as u16;
        if in_port >= ofpp::MAX && ![ofpp::LOCAL, ofpp::NONE, ofpp::CONTROLLER].contains(&in_port) {
            vlog::warn!("ofp_packet", "packet-out has bad input port {:#x}", in_port);
            return Err(OfpErr::OFPBRC_BAD_PORT);
        }
        let acts = r.bytes(actions_len).ok_or(BAD)?;
        let actions = actions::decode_actions(acts, version)?;
        let data = if buffer_id == u32::MAX {
            r.rest().to_vec()
        } else {
            Vec::new()
        };
        Ok(PacketOut {
            metadata,
            buffer_id,
            actions,
            data,
        })
    }

    pub fn encode_body(&self, version: u8, out: &mut Vec<u8>) {
        let acts = actions::encode_actions(&self.actions, version);
        out.put_u32(self.buffer_id);
        match version {
            1 => {
                out.put_u16(self.metadata.flow.in_port as u16);
                out.put_u16(acts.len() as u16);
            }
            2..=5 => {
                out.put_u32(port_to_ofp11(self.metadata.flow.in_port as u16));
                out.put_u16(acts.len() as u16);
                out.put_zeros(6);
            }
            _ => {
                out.put_u16(acts.len() as u16);
                out.put_zeros(2);
                out.extend_from_slice(&nx_match::put_oxm(&self.metadata, version));
            }
        }
        out.extend_from_slice(&acts);
        out.extend_from_slice(&self.data);
    }

    /// Upstream's `ofputil_packet_out_format`.
    pub fn format(&self, out: &mut String, verbosity: u32) {
        out.push(' ');
        out.push_str(&self.metadata.format(0x8000));
        out.push_str(" actions=");
        out.push_str(&actions::format(&self.actions));
        if self.buffer_id == u32::MAX {
            out.push_str(&format!(" data_len={}", self.data.len()));
            if verbosity > 0 && !self.data.is_empty() {
                out.push('\n');
                out.push_str(&packet_to_string(&self.data));
            }
            if verbosity > 2 {
                out.push_str(&hex_dump(&self.data, 0, false));
            }
        } else {
            out.push_str(&format!(" buffer=0x{:08x}", self.buffer_id));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_in_every_version() {
        for version in 1..=6u8 {
            let mut m = Match::catchall();
            m.flow.in_port = 1;
            m.wc.in_port = u32::MAX;
            let po = PacketOut {
                metadata: m,
                buffer_id: u32::MAX,
                actions: actions::decode_actions(&[0, 0, 0, 8, 0, 3, 0, 0], 1).unwrap(),
                data: vec![1, 2, 3],
            };
            let mut b = Vec::new();
            po.encode_body(version, &mut b);
            let back = PacketOut::decode(version, &b).unwrap();
            assert_eq!(back.metadata.flow.in_port, 1, "version {version}");
            assert_eq!(back.data, po.data);
            assert_eq!(actions::format(&back.actions), actions::format(&po.actions));
        }
    }
}
