//! Packet-in messages (OpenFlow 1.0, 1.1, 1.2, 1.3+ and Nicira's
//! `NXT_PACKET_IN`) and the printing of the packets they carry.

use crate::actions::OfpAction;
use crate::errors::OfpErr;
use crate::nx_match;
use crate::wire::{hex_dump, pad8, Put, Reader};
use flow::Match;

const BAD: OfpErr = OfpErr::OFPBRC_BAD_LEN;

/// Which layout a packet-in uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PacketInForm {
    Of10,
    Of11,
    Of12,
    Of13,
    Nx,
}

/// A packet sent to the controller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PacketIn {
    /// Pipeline metadata (in_port, registers, tunnel, ...).
    pub metadata: Match,
    pub buffer_id: u32,
    pub total_len: u16,
    pub reason: u8,
    pub table_id: u8,
    /// `u64::MAX` when the message has no cookie.
    pub cookie: u64,
    pub data: Vec<u8>,
}

fn in_port_match(port: u16) -> Match {
    let mut m = Match::catchall();
    m.flow.in_port = u32::from(port);
    m.wc.in_port = u32::MAX;
    m
}

impl PacketIn {
    pub fn decode(form: PacketInForm, body: &[u8]) -> Result<PacketIn, OfpErr> {
        let mut r = Reader::new(body);
        let mut pi = PacketIn {
            metadata: Match::catchall(),
            buffer_id: r.u32().ok_or(BAD)?,
            total_len: 0,
            reason: 0,
            table_id: 0,
            cookie: u64::MAX,
            data: Vec::new(),
        };
        match form {
            PacketInForm::Of10 => {
                pi.total_len = r.u16().ok_or(BAD)?;
                pi.metadata = in_port_match(r.u16().ok_or(BAD)?);
                pi.reason = r.u8().ok_or(BAD)?;
                r.skip(1).ok_or(BAD)?;
            }
            PacketInForm::Of11 => {
                let port = crate::bits::port_from_ofp11(r.u32().ok_or(BAD)?)
                    .ok_or(OfpErr::OFPBRC_BAD_PORT)?;
                pi.metadata = in_port_match(port);
                r.skip(4).ok_or(BAD)?;
                pi.total_len = r.u16().ok_or(BAD)?;
                pi.reason = r.u8().ok_or(BAD)?;
                pi.table_id = r.u8().ok_or(BAD)?;
            }
            PacketInForm::Of12 | PacketInForm::Of13 => {
                pi.total_len = r.u16().ok_or(BAD)?;
                pi.reason = r.u8().ok_or(BAD)?;
                pi.table_id = r.u8().ok_or(BAD)?;
                if form == PacketInForm::Of13 {
                    pi.cookie = r.u64().ok_or(BAD)?;
                }
                pi.metadata = nx_match::pull_oxm(&mut r, false)?;
                r.skip(2).ok_or(BAD)?;
            }
            PacketInForm::Nx => {
                pi.total_len = r.u16().ok_or(BAD)?;
                pi.reason = r.u8().ok_or(BAD)?;
                pi.table_id = r.u8().ok_or(BAD)?;
                pi.cookie = r.u64().ok_or(BAD)?;
                let match_len = usize::from(r.u16().ok_or(BAD)?);
                r.skip(6).ok_or(BAD)?;
                pi.metadata = nx_match::pull_nxm(&mut r, match_len, false)?;
                r.skip(2).ok_or(BAD)?;
            }
        }
        pi.data = r.rest().to_vec();
        Ok(pi)
    }

    pub fn encode_body(&self, form: PacketInForm, version: u8, out: &mut Vec<u8>) {
        out.put_u32(self.buffer_id);
        match form {
            PacketInForm::Of10 => {
                out.put_u16(self.total_len);
                out.put_u16(self.metadata.flow.in_port as u16);
                out.put_u8(self.reason);
                out.put_zeros(1);
            }
            PacketInForm::Of11 => {
                let p = crate::bits::port_to_ofp11(self.metadata.flow.in_port as u16);
                out.put_u32(p);
                out.put_u32(p);
                out.put_u16(self.total_len);
                out.put_u8(self.reason);
                out.put_u8(self.table_id);
            }
            PacketInForm::Of12 | PacketInForm::Of13 => {
                out.put_u16(self.total_len);
                out.put_u8(self.reason);
                out.put_u8(self.table_id);
                if form == PacketInForm::Of13 {
                    out.put_u64(self.cookie);
                }
                out.extend_from_slice(&nx_match::put_oxm(&self.metadata, version));
                out.put_zeros(2);
            }
            PacketInForm::Nx => {
                let m = nx_match::put_nxm(&self.metadata);
                out.put_u16(self.total_len);
                out.put_u8(self.reason);
                out.put_u8(self.table_id);
                out.put_u64(self.cookie);
                out.put_u16(m.len() as u16);
                out.put_zeros(6);
                out.extend_from_slice(&m);
                out.put_zeros(pad8(m.len()) - m.len() + 2);
            }
        }
        out.extend_from_slice(&self.data);
    }

    /// Upstream's packet-in printing.
    pub fn format(&self, out: &mut String, verbosity: u32) {
        self.format_head(out);
        self.format_packet(out, verbosity);
    }

    /// The first line: metadata, reason, lengths and buffer.
    pub fn format_head(&self, out: &mut String) {
        if self.table_id != 0 {
            out.push_str(&format!(" table_id={}", self.table_id));
        }
        if self.cookie != u64::MAX {
            out.push_str(&format!(" cookie={:#x}", self.cookie));
        }
        out.push_str(&format!(" total_len={} ", self.total_len));
        out.push_str(&self.metadata.format(0x8000));
        out.push_str(&format!(" (via {})", packet_in_reason(self.reason)));
        out.push_str(&format!(" data_len={}", self.data.len()));
        if self.buffer_id == u32::MAX {
            out.push_str(" (unbuffered)");
        } else {
            out.push_str(&format!(" buffer=0x{:08x}", self.buffer_id));
        }
        out.push('\n');
    }

    /// The packet's flow and, above verbosity 2, its bytes.
    pub fn format_packet(&self, out: &mut String, verbosity: u32) {
        if verbosity > 0 {
            out.push_str(&packet_to_string(&self.data));
        }
        if verbosity > 2 {
            out.push_str(&hex_dump(&self.data, 0, false));
        }
    }
}

/// Packet-in reasons as upstream names them.
pub fn packet_in_reason(r: u8) -> String {
    match r {
        0 => "no_match".into(),
        1 => "action".into(),
        2 => "invalid_ttl".into(),
        3 => "action_set".into(),
        4 => "group".into(),
        5 => "packet_out".into(),
        r => r.to_string(),
    }
}

/// Upstream's `ofp_packet_to_string` for an Ethernet frame: the extracted
/// flow and the transport checksum.
pub fn packet_to_string(data: &[u8]) -> String {
    let md = packet::extract::Metadata::default();
    let (fl, layers) =
        packet::extract::extract_with(data, &md, &packet::extract::ExtractOptions::default());
    let mut s = flow::matches::format_flow(&fl, None);
    let l4 = layers.l4.and_then(|o| data.get(o..)).unwrap_or(&[]);
    let l4 = &l4[..l4.len().saturating_sub(layers.l2_pad)];
    let csum16 = |ofs: usize| u16::from_be_bytes([l4[ofs], l4[ofs + 1]]);
    match fl.nw_proto {
        6 if l4.len() >= 20 => s.push_str(&format!(" tcp_csum:{:x}", csum16(16))),
        17 if l4.len() >= 8 => s.push_str(&format!(" udp_csum:{:x}", csum16(6))),
        132 if l4.len() >= 12 => s.push_str(&format!(
            " sctp_csum:{:x}",
            u32::from_be_bytes([l4[8], l4[9], l4[10], l4[11]])
        )),
        _ => {}
    }
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_in_every_form() {
        for (form, version) in [
            (PacketInForm::Of10, 1),
            (PacketInForm::Of11, 2),
            (PacketInForm::Of12, 3),
            (PacketInForm::Of13, 4),
            (PacketInForm::Nx, 1),
        ] {
            let pi = PacketIn {
                metadata: in_port_match(3),
                buffer_id: 0x111,
                total_len: 4,
                reason: 1,
                table_id: if form == PacketInForm::Of10 { 0 } else { 2 },
                cookie: if matches!(form, PacketInForm::Of13 | PacketInForm::Nx) {
                    7
                } else {
                    u64::MAX
                },
                data: vec![1, 2, 3, 4],
            };
            let mut b = Vec::new();
            pi.encode_body(form, version, &mut b);
            assert_eq!(PacketIn::decode(form, &b), Ok(pi), "{form:?}");
        }
    }
}

/// `NXT_PACKET_IN2` and `NXT_RESUME`: a packet-in as properties.
#[derive(Clone, Debug, PartialEq)]
pub struct PacketIn2 {
    pub pin: PacketIn,
    pub userdata: Vec<u8>,
    /// The switch's state at the interruption (`NXPINT_CONTINUATION`),
    /// when the packet-in can be resumed; what `NXT_RESUME` sends back.
    pub continuation: Option<Continuation>,
}

/// One run of the interrupted pipeline's remaining actions, with the
/// table and cookie of the rule they came from (upstream shows this as
/// an `unroll_xlate` action before them).
#[derive(Clone, Debug, PartialEq)]
pub struct ContinuationActions {
    pub table_id: u8,
    pub cookie: u64,
    pub actions: Vec<OfpAction>,
}

/// The opaque-to-controllers state of a paused pipeline (the
/// `NXCPT_*` properties).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Continuation {
    pub bridge: [u8; 16],
    /// Stack entries, top first.
    pub stack: Vec<Vec<u8>>,
    pub mirrors: u32,
    pub conntracked: bool,
    pub actions: Vec<ContinuationActions>,
    pub action_set: Vec<OfpAction>,
}

mod nxcpt {
    pub const BRIDGE: u16 = 0x8000;
    pub const STACK: u16 = 0x8001;
    pub const MIRRORS: u16 = 0x8002;
    pub const CONNTRACKED: u16 = 0x8003;
    pub const TABLE_ID: u16 = 0x8004;
    pub const COOKIE: u16 = 0x8005;
    pub const ACTIONS: u16 = 0x8006;
    pub const ACTION_SET: u16 = 0x8007;
}

/// Widest stack entry (`union mf_subvalue`).
const MAX_STACK_ENTRY: usize = 128;

impl Continuation {
    /// Decodes the body of a continuation property (after its 4 bytes of
    /// alignment padding) in message `version`.
    fn decode(body: &[u8], version: u8) -> Result<Continuation, OfpErr> {
        let blen = OfpErr::OFPBPC_BAD_LEN;
        let mut r = Reader::new(body.get(4..).ok_or(blen)?);
        let mut c = Continuation::default();
        let (mut table_id, mut cookie) = (0u8, 0u64);
        while !r.is_empty() {
            let (ptype, p) = super::props::pull_property(&mut r)?;
            let mut v = Reader::new(p);
            match ptype {
                nxcpt::BRIDGE => c.bridge = v.array().ok_or(blen)?,
                nxcpt::STACK => {
                    if p.len() > MAX_STACK_ENTRY {
                        vlog::warn!(
                            "ofp_packet",
                            "NXCPT_STACK property has bad length {}",
                            p.len()
                        );
                        return Err(blen);
                    }
                    c.stack.push(p.to_vec());
                }
                nxcpt::MIRRORS => c.mirrors = v.u32().ok_or(blen)?,
                nxcpt::CONNTRACKED => c.conntracked = true,
                nxcpt::TABLE_ID => table_id = v.u8().ok_or(blen)?,
                nxcpt::COOKIE => {
                    v.skip(4).ok_or(blen)?;
                    cookie = v.u64().ok_or(blen)?;
                }
                nxcpt::ACTIONS | nxcpt::ACTION_SET => {
                    let acts = p.get(4..).ok_or(blen)?;
                    let actions = crate::actions::decode_actions(acts, version)?;
                    if ptype == nxcpt::ACTIONS {
                        c.actions.push(ContinuationActions {
                            table_id,
                            cookie,
                            actions,
                        });
                    } else {
                        c.action_set.extend(actions);
                    }
                }
                _ => return Err(OfpErr::OFPBPC_BAD_TYPE),
            }
        }
        Ok(c)
    }

    /// Encodes the continuation property's body (with its padding).
    fn encode(&self, version: u8, out: &mut Vec<u8>) {
        use super::props::put_property;
        out.extend_from_slice(&[0; 4]);
        if self.bridge != [0; 16] {
            put_property(out, nxcpt::BRIDGE, &self.bridge);
        }
        for e in &self.stack {
            put_property(out, nxcpt::STACK, e);
        }
        if self.mirrors != 0 {
            put_property(out, nxcpt::MIRRORS, &self.mirrors.to_be_bytes());
        }
        if self.conntracked {
            put_property(out, nxcpt::CONNTRACKED, &[]);
        }
        for run in &self.actions {
            put_property(out, nxcpt::TABLE_ID, &[run.table_id]);
            let mut c = vec![0; 4];
            c.extend_from_slice(&run.cookie.to_be_bytes());
            put_property(out, nxcpt::COOKIE, &c);
            let mut a = vec![0; 4];
            a.extend_from_slice(&crate::actions::encode_actions(&run.actions, version));
            put_property(out, nxcpt::ACTIONS, &a);
        }
        if !self.action_set.is_empty() {
            let mut a = vec![0; 4];
            a.extend_from_slice(&crate::actions::encode_actions(&self.action_set, version));
            put_property(out, nxcpt::ACTION_SET, &a);
        }
    }

    /// Upstream's `continuation.*` lines of ofp-print.
    fn format(&self, out: &mut String) {
        if self.bridge != [0; 16] {
            // Upstream sends the UUID as four 32-bit words in its host's
            // (little-endian) order.
            let w = |i: usize| {
                let b = &self.bridge[4 * i..4 * i + 4];
                u32::from_le_bytes([b[0], b[1], b[2], b[3]])
            };
            out.push_str(&format!(
                " continuation.bridge={:08x}-{:04x}-{:04x}-{:04x}-{:04x}{:08x}\n",
                w(0),
                w(1) >> 16,
                w(1) & 0xffff,
                w(2) >> 16,
                w(2) & 0xffff,
                w(3)
            ));
        }
        if !self.stack.is_empty() {
            out.push_str(" continuation.stack=(top)");
            for e in &self.stack {
                out.push(' ');
                out.push_str(&subvalue_to_string(e));
            }
            out.push_str(" (bottom)\n");
        }
        if self.mirrors != 0 {
            out.push_str(&format!(" continuation.mirrors={:#x}\n", self.mirrors));
        }
        if self.conntracked {
            out.push_str(" continuation.conntracked=true\n");
        }
        if !self.actions.is_empty() {
            let runs: Vec<String> = self
                .actions
                .iter()
                .map(|run| {
                    let mut t = format!(
                        "unroll_xlate(table={}, cookie={})",
                        run.table_id, run.cookie
                    );
                    if !run.actions.is_empty() {
                        t.push(',');
                        t.push_str(&crate::actions::format(&run.actions));
                    }
                    t
                })
                .collect();
            out.push_str(&format!(" continuation.actions={}\n", runs.join(",")));
        }
        if !self.action_set.is_empty() {
            out.push_str(&format!(
                " continuation.action_set={}\n",
                crate::actions::format(&self.action_set)
            ));
        }
    }
}

/// Upstream's `mf_subvalue_format`: hex without leading zeros, `0` for
/// zero.
fn subvalue_to_string(bytes: &[u8]) -> String {
    let digits: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let trimmed = digits.trim_start_matches('0');
    if trimmed.is_empty() {
        "0".to_string()
    } else {
        format!("0x{trimmed}")
    }
}

impl PacketIn2 {
    pub fn decode(version: u8, body: &[u8]) -> Result<PacketIn2, OfpErr> {
        let mut r = Reader::new(body);
        let mut pin = PacketIn {
            metadata: Match::catchall(),
            buffer_id: u32::MAX,
            total_len: 0,
            reason: 0,
            table_id: 0,
            cookie: u64::MAX,
            data: Vec::new(),
        };
        let mut full_len = None;
        let mut userdata = Vec::new();
        let mut continuation = None;
        let blen = OfpErr::OFPBPC_BAD_LEN;
        while !r.is_empty() {
            let (ptype, p) = super::props::pull_property(&mut r)?;
            let mut v = Reader::new(p);
            match ptype {
                0 => pin.data = p.to_vec(),
                1 => full_len = Some(v.u32().ok_or(blen)?),
                2 => pin.buffer_id = v.u32().ok_or(blen)?,
                3 => pin.table_id = v.u8().ok_or(blen)?,
                4 => {
                    v.skip(4).ok_or(blen)?;
                    pin.cookie = v.u64().ok_or(blen)?;
                }
                5 => pin.reason = v.u8().ok_or(blen)?,
                6 => pin.metadata = nx_match::pull_entries(p, false)?,
                7 => userdata = p.to_vec(),
                8 => continuation = Some(Continuation::decode(p, version)?),
                _ => return Err(OfpErr::OFPBPC_BAD_TYPE),
            }
        }
        pin.total_len = full_len
            .map_or(pin.data.len(), |l| l as usize)
            .min(usize::from(u16::MAX)) as u16;
        Ok(PacketIn2 {
            pin,
            userdata,
            continuation,
        })
    }

    pub fn encode_body(&self, version: u8, out: &mut Vec<u8>) {
        use super::props::put_property;
        put_property(out, 0, &self.pin.data);
        put_property(out, 1, &u32::from(self.pin.total_len).to_be_bytes());
        if self.pin.buffer_id != u32::MAX {
            put_property(out, 2, &self.pin.buffer_id.to_be_bytes());
        }
        if self.pin.table_id != 0 {
            put_property(out, 3, &[self.pin.table_id]);
        }
        if self.pin.cookie != u64::MAX {
            let mut c = vec![0; 4];
            c.extend_from_slice(&self.pin.cookie.to_be_bytes());
            put_property(out, 4, &c);
        }
        put_property(out, 5, &[self.pin.reason]);
        put_property(out, 6, &nx_match::put_nxm(&self.pin.metadata));
        if !self.userdata.is_empty() {
            put_property(out, 7, &self.userdata);
        }
        if let Some(c) = &self.continuation {
            let mut body = Vec::new();
            c.encode(version, &mut body);
            put_property(out, 8, &body);
        }
    }

    pub fn format(&self, out: &mut String, verbosity: u32) {
        self.pin.format_head(out);
        if !self.userdata.is_empty() {
            let hex: Vec<String> = self.userdata.iter().map(|b| format!("{b:02x}")).collect();
            out.push_str(&format!(" userdata={}\n", hex.join(".")));
        }
        if let Some(c) = &self.continuation {
            c.format(out);
        }
        self.pin.format_packet(out, verbosity);
    }
}

#[cfg(test)]
mod pin2_tests {
    use super::*;

    #[test]
    fn round_trip() {
        let p = PacketIn2 {
            pin: PacketIn {
                metadata: in_port_match(0xfffd),
                buffer_id: 0x114,
                total_len: 64,
                reason: 1,
                table_id: 7,
                cookie: 5,
                data: vec![1, 2, 3],
            },
            userdata: vec![1, 2, 3, 4, 5],
            continuation: Some(Continuation {
                bridge: [7; 16],
                stack: vec![vec![0, 1], vec![0; 4]],
                mirrors: 3,
                conntracked: true,
                actions: vec![ContinuationActions {
                    table_id: 2,
                    cookie: 9,
                    actions: vec![OfpAction::Group(4)],
                }],
                action_set: Vec::new(),
            }),
        };
        let mut b = Vec::new();
        p.encode_body(1, &mut b);
        assert_eq!(PacketIn2::decode(1, &b), Ok(p));
        assert_eq!(subvalue_to_string(&[0, 0, 1, 0]), "0x100");
        assert_eq!(subvalue_to_string(&[0, 0]), "0");
    }
}
