//! Port descriptions (`ofp10_phy_port`, `ofp11_port`, `ofp14_port` with
//! properties), their config/state/feature bits, and `OFPT_PORT_MOD`.

use crate::bits::{bit_names, eth_addr, port_from_ofp11, port_to_ofp11, port_to_string};
use crate::errors::OfpErr;
use crate::wire::{fixed_str, pad8, Put, Reader};

/// Port config bits (OpenFlow 1.0 numbering, which later versions share).
pub mod config {
    pub const PORT_DOWN: u32 = 1 << 0;
    pub const NO_STP: u32 = 1 << 1;
    pub const NO_RECV: u32 = 1 << 2;
    pub const NO_RECV_STP: u32 = 1 << 3;
    pub const NO_FLOOD: u32 = 1 << 4;
    pub const NO_FWD: u32 = 1 << 5;
    pub const NO_PACKET_IN: u32 = 1 << 6;
}

fn config_name(bit: u32) -> Option<&'static str> {
    Some(match bit {
        config::PORT_DOWN => "PORT_DOWN",
        config::NO_STP => "NO_STP",
        config::NO_RECV => "NO_RECV",
        config::NO_RECV_STP => "NO_RECV_STP",
        config::NO_FLOOD => "NO_FLOOD",
        config::NO_FWD => "NO_FWD",
        config::NO_PACKET_IN => "NO_PACKET_IN",
        _ => return None,
    })
}

/// The config bits a version defines.
fn config_mask(version: u8) -> u32 {
    if version == 1 {
        0x7f
    } else {
        0x65
    }
}

/// Port state: link down, blocked, live, and (OpenFlow 1.0) the STP state
/// in bits 8-9.
pub mod state {
    pub const LINK_DOWN: u32 = 1 << 0;
    pub const BLOCKED: u32 = 1 << 1;
    pub const LIVE: u32 = 1 << 2;
    pub const STP_MASK: u32 = 3 << 8;
    pub const STP_LEARN: u32 = 1 << 8;
    pub const STP_FORWARD: u32 = 2 << 8;
}

fn state_name(bit: u32) -> Option<&'static str> {
    Some(match bit {
        state::LINK_DOWN => "LINK_DOWN",
        state::BLOCKED => "BLOCKED",
        state::LIVE => "LIVE",
        _ => return None,
    })
}

/// Port features in the OpenFlow 1.1+ layout.
fn feature_name(bit: u32) -> Option<&'static str> {
    const NAMES: [&str; 16] = [
        "10MB-HD",
        "10MB-FD",
        "100MB-HD",
        "100MB-FD",
        "1GB-HD",
        "1GB-FD",
        "10GB-FD",
        "40GB-FD",
        "100GB-FD",
        "1TB-FD",
        "OTHER",
        "COPPER",
        "FIBER",
        "AUTO_NEG",
        "AUTO_PAUSE",
        "AUTO_PAUSE_ASYM",
    ];
    NAMES.get(bit.trailing_zeros() as usize).copied()
}

/// OpenFlow 1.0 feature bits to the 1.1 layout.
pub fn features_from_ofp10(w: u32) -> u32 {
    (w & 0x7f) | ((w & 0xf80) << 4)
}

/// The 1.1 layout to OpenFlow 1.0 feature bits.
pub fn features_to_ofp10(f: u32) -> u32 {
    (f & 0x7f) | ((f >> 4) & 0xf80)
}

/// The link speed a feature set implies, in kbit/s.
pub fn features_to_kbps(f: u32) -> u32 {
    const SPEEDS: [(u32, u64); 7] = [
        (1 << 9, 1_000_000_000_000),
        (1 << 8, 100_000_000_000),
        (1 << 7, 40_000_000_000),
        (1 << 6, 10_000_000_000),
        (3 << 4, 1_000_000_000),
        (3 << 2, 100_000_000),
        (3, 10_000_000),
    ];
    SPEEDS
        .iter()
        .find(|(m, _)| f & m != 0)
        .map_or(0, |(_, bps)| (bps / 1000).min(u64::from(u32::MAX)) as u32)
}

/// A port description, independent of version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PhyPort {
    pub port_no: u16,
    pub hw_addr: [u8; 6],
    pub name: String,
    pub config: u32,
    pub state: u32,
    /// Features in the OpenFlow 1.1 layout.
    pub curr: u32,
    pub advertised: u32,
    pub supported: u32,
    pub peer: u32,
    /// kbit/s.
    pub curr_speed: u32,
    pub max_speed: u32,
}

impl PhyPort {
    /// The fixed size of a port in `version` (OpenFlow 1.4+ ports vary).
    pub fn fixed_len(version: u8) -> usize {
        match version {
            1 => 48,
            _ => 64,
        }
    }

    /// Pulls one port of `version` from `r`.
    pub fn decode(version: u8, r: &mut Reader<'_>) -> Result<PhyPort, OfpErr> {
        let bad = OfpErr::OFPBRC_BAD_LEN;
        match version {
            1 => {
                let b = r.bytes(48).ok_or(bad)?;
                let mut p = Reader::new(b);
                let port_no = p.u16().ok_or(bad)?;
                let hw_addr = p.array().ok_or(bad)?;
                let name = fixed_str(p.bytes(16).ok_or(bad)?);
                let config = p.u32().ok_or(bad)? & config_mask(1);
                let state = p.u32().ok_or(bad)? & (state::LINK_DOWN | state::STP_MASK);
                let curr = features_from_ofp10(p.u32().ok_or(bad)?);
                let advertised = features_from_ofp10(p.u32().ok_or(bad)?);
                let supported = features_from_ofp10(p.u32().ok_or(bad)?);
                let peer = features_from_ofp10(p.u32().ok_or(bad)?);
                Ok(PhyPort {
                    port_no,
                    hw_addr,
                    name,
                    config,
                    state,
                    curr,
                    advertised,
                    supported,
                    peer,
                    curr_speed: features_to_kbps(curr),
                    max_speed: features_to_kbps(supported),
                })
            }
            2..=4 => {
                let b = r.bytes(64).ok_or(bad)?;
                let mut p = Reader::new(b);
                let port_no =
                    port_from_ofp11(p.u32().ok_or(bad)?).ok_or(OfpErr::OFPBRC_BAD_PORT)?;
                p.skip(4).ok_or(bad)?;
                let hw_addr = p.array().ok_or(bad)?;
                p.skip(2).ok_or(bad)?;
                let name = fixed_str(p.bytes(16).ok_or(bad)?);
                let config = p.u32().ok_or(bad)? & config_mask(version);
                let state = p.u32().ok_or(bad)? & 7;
                let curr = p.u32().ok_or(bad)?;
                let advertised = p.u32().ok_or(bad)?;
                let supported = p.u32().ok_or(bad)?;
                let peer = p.u32().ok_or(bad)?;
                let curr_speed = p.u32().ok_or(bad)?;
                let max_speed = p.u32().ok_or(bad)?;
                Ok(PhyPort {
                    port_no,
                    hw_addr,
                    name,
                    config,
                    state,
                    curr,
                    advertised,
                    supported,
                    peer,
                    curr_speed,
                    max_speed,
                })
            }
            _ => {
                let mut head = *r;
                head.skip(4).ok_or(bad)?;
                let len = usize::from(head.u16().ok_or(bad)?);
                if len < 40 || len > r.remaining() {
                    return Err(bad);
                }
                let b = r.bytes(len).ok_or(bad)?;
                let mut p = Reader::new(b);
                let port_no =
                    port_from_ofp11(p.u32().ok_or(bad)?).ok_or(OfpErr::OFPBRC_BAD_PORT)?;
                p.skip(4).ok_or(bad)?;
                let hw_addr = p.array().ok_or(bad)?;
                p.skip(2).ok_or(bad)?;
                let name = fixed_str(p.bytes(16).ok_or(bad)?);
                let config = p.u32().ok_or(bad)? & config_mask(version);
                let state = p.u32().ok_or(bad)? & 7;
                let mut port = PhyPort {
                    port_no,
                    hw_addr,
                    name,
                    config,
                    state,
                    curr: 0,
                    advertised: 0,
                    supported: 0,
                    peer: 0,
                    curr_speed: 0,
                    max_speed: 0,
                };
                while !p.is_empty() {
                    let (ptype, body) = crate::msgs::props::pull_property(&mut p)?;
                    if ptype == 0 {
                        let mut e = Reader::new(body);
                        e.skip(4).ok_or(OfpErr::OFPBPC_BAD_LEN)?;
                        let mut f = || e.u32().ok_or(OfpErr::OFPBPC_BAD_LEN);
                        port.curr = f()?;
                        port.advertised = f()?;
                        port.supported = f()?;
                        port.peer = f()?;
                        port.curr_speed = f()?;
                        port.max_speed = f()?;
                    }
                }
                Ok(port)
            }
        }
    }

    /// Appends this port in `version`'s layout.
    pub fn encode(&self, version: u8, out: &mut Vec<u8>) {
        match version {
            1 => {
                out.put_u16(self.port_no);
                out.extend_from_slice(&self.hw_addr);
                out.put_str_fixed(&self.name, 16);
                out.put_u32(self.config);
                out.put_u32(self.state);
                for f in [self.curr, self.advertised, self.supported, self.peer] {
                    out.put_u32(features_to_ofp10(f));
                }
            }
            2..=4 => {
                out.put_u32(port_to_ofp11(self.port_no));
                out.put_zeros(4);
                out.extend_from_slice(&self.hw_addr);
                out.put_zeros(2);
                out.put_str_fixed(&self.name, 16);
                out.put_u32(self.config);
                out.put_u32(self.state);
                for f in [
                    self.curr,
                    self.advertised,
                    self.supported,
                    self.peer,
                    self.curr_speed,
                    self.max_speed,
                ] {
                    out.put_u32(f);
                }
            }
            _ => {
                out.put_u32(port_to_ofp11(self.port_no));
                out.put_u16(72);
                out.put_zeros(2);
                out.extend_from_slice(&self.hw_addr);
                out.put_zeros(2);
                out.put_str_fixed(&self.name, 16);
                out.put_u32(self.config);
                out.put_u32(self.state);
                out.put_u16(0);
                out.put_u16(32);
                out.put_zeros(4);
                for f in [
                    self.curr,
                    self.advertised,
                    self.supported,
                    self.peer,
                    self.curr_speed,
                    self.max_speed,
                ] {
                    out.put_u32(f);
                }
            }
        }
    }

    /// Upstream's `ofp_print_phy_port`.
    pub fn format(&self, out: &mut String) {
        // Upstream shows the name up to its first unprintable character.
        let name: String = self
            .name
            .chars()
            .take_while(|c| (' '..='~').contains(c))
            .collect();
        out.push_str(&format!(
            " {}({}): addr:{}\n",
            port_to_string(self.port_no),
            name,
            eth_addr(&self.hw_addr)
        ));
        out.push_str("     config:     ");
        format_config(out, self.config);
        out.push_str("     state:      ");
        format_state(out, self.state);
        for (label, f) in [
            ("current:    ", self.curr),
            ("advertised: ", self.advertised),
            ("supported:  ", self.supported),
            ("peer:       ", self.peer),
        ] {
            if f != 0 {
                out.push_str("     ");
                out.push_str(label);
                format_features(out, f);
            }
        }
        out.push_str(&format!(
            "     speed: {} Mbps now, {} Mbps max\n",
            self.curr_speed / 1000,
            self.max_speed / 1000
        ));
    }
}

/// Config bit names and a newline.
pub fn format_config(out: &mut String, config: u32) {
    bit_names(out, config, config_name, ' ');
    out.push('\n');
}

/// State names (with the OpenFlow 1.0 STP state) and a newline.
pub fn format_state(out: &mut String, st: u32) {
    let stp = st & state::STP_MASK;
    if stp != 0 {
        out.push_str(match stp {
            state::STP_LEARN => "STP_LEARN",
            state::STP_FORWARD => "STP_FORWARD",
            _ => "STP_BLOCK",
        });
        let rest = st & !state::STP_MASK;
        if rest != 0 {
            out.push(' ');
            bit_names(out, rest, state_name, ' ');
        }
    } else {
        bit_names(out, st, state_name, ' ');
    }
    out.push('\n');
}

/// Feature names (1.1 layout) and a newline.
pub fn format_features(out: &mut String, f: u32) {
    bit_names(out, f, feature_name, ' ');
    out.push('\n');
}

/// Decodes a list of ports filling `body` and prints them sorted by port
/// number, as `ofp_print_phy_ports` does.
pub fn decode_ports(version: u8, body: &[u8]) -> Result<Vec<PhyPort>, OfpErr> {
    let mut r = Reader::new(body);
    let mut ports = Vec::new();
    while !r.is_empty() {
        ports.push(PhyPort::decode(version, &mut r)?);
    }
    Ok(ports)
}

pub fn format_ports(out: &mut String, ports: &[PhyPort]) {
    let mut sorted: Vec<&PhyPort> = ports.iter().collect();
    sorted.sort_by_key(|p| p.port_no);
    for p in sorted {
        p.format(out);
    }
}

/// `OFPT_PORT_MOD`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PortMod {
    pub port_no: u16,
    pub hw_addr: [u8; 6],
    pub config: u32,
    pub mask: u32,
    /// Features to advertise (1.1 layout), 0 for unchanged.
    pub advertise: u32,
}

impl PortMod {
    pub fn decode(version: u8, body: &[u8]) -> Result<PortMod, OfpErr> {
        let bad = OfpErr::OFPBRC_BAD_LEN;
        let mut r = Reader::new(body);
        let cmask = config_mask(version);
        if version == 1 {
            let port_no = r.u16().ok_or(bad)?;
            let hw_addr = r.array().ok_or(bad)?;
            let config = r.u32().ok_or(bad)? & cmask;
            let mask = r.u32().ok_or(bad)? & cmask;
            let advertise = features_from_ofp10(r.u32().ok_or(bad)?);
            return Ok(PortMod {
                port_no,
                hw_addr,
                config,
                mask,
                advertise,
            });
        }
        let port_no = port_from_ofp11(r.u32().ok_or(bad)?).ok_or(OfpErr::OFPBRC_BAD_PORT)?;
        r.skip(4).ok_or(bad)?;
        let hw_addr = r.array().ok_or(bad)?;
        r.skip(2).ok_or(bad)?;
        let config = r.u32().ok_or(bad)? & cmask;
        let mask = r.u32().ok_or(bad)? & cmask;
        let mut advertise = 0;
        if version <= 4 {
            advertise = r.u32().ok_or(bad)?;
        } else {
            while !r.is_empty() {
                let (ptype, pbody) = crate::msgs::props::pull_property(&mut r)?;
                if ptype == 0 {
                    advertise = Reader::new(pbody).u32().ok_or(OfpErr::OFPBPC_BAD_LEN)?;
                }
            }
        }
        Ok(PortMod {
            port_no,
            hw_addr,
            config,
            mask,
            advertise,
        })
    }

    pub fn encode_body(&self, version: u8, out: &mut Vec<u8>) {
        if version == 1 {
            out.put_u16(self.port_no);
            out.extend_from_slice(&self.hw_addr);
            out.put_u32(self.config);
            out.put_u32(self.mask);
            out.put_u32(features_to_ofp10(self.advertise));
            out.put_zeros(4);
            return;
        }
        out.put_u32(port_to_ofp11(self.port_no));
        out.put_zeros(4);
        out.extend_from_slice(&self.hw_addr);
        out.put_zeros(2);
        out.put_u32(self.config);
        out.put_u32(self.mask);
        if version <= 4 {
            out.put_u32(self.advertise);
            out.put_zeros(4);
        } else {
            out.put_u16(0);
            out.put_u16(8);
            out.put_u32(self.advertise);
        }
    }

    pub fn format(&self, out: &mut String) {
        out.push_str(&format!(
            " port: {}: addr:{}\n",
            port_to_string(self.port_no),
            eth_addr(&self.hw_addr)
        ));
        out.push_str("     config: ");
        format_config(out, self.config);
        out.push_str("     mask:   ");
        format_config(out, self.mask);
        out.push_str("     advertise: ");
        if self.advertise != 0 {
            format_features(out, self.advertise);
        } else {
            out.push_str("UNCHANGED\n");
        }
    }
}

/// Length of a port-status body before the port.
pub const PORT_STATUS_HEAD: usize = 8;

/// Rounds a property length as OpenFlow 1.4 properties are padded.
pub fn prop_padded(len: usize) -> usize {
    pad8(len)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn arb_port(version: u8) -> impl Strategy<Value = PhyPort> {
        (
            0u16..0xff00,
            any::<[u8; 6]>(),
            "[a-z0-9]{0,15}",
            any::<u32>(),
            any::<u32>(),
            any::<[u16; 4]>(),
            any::<[u32; 2]>(),
        )
            .prop_map(move |(port_no, hw_addr, name, c, s, f, sp)| {
                let fm = |x: u16| {
                    if version == 1 {
                        features_from_ofp10(u32::from(x) & 0xfff)
                    } else {
                        u32::from(x)
                    }
                };
                let mut p = PhyPort {
                    port_no,
                    hw_addr,
                    name,
                    config: c & config_mask(version),
                    state: s & if version == 1 { 0x301 } else { 7 },
                    curr: fm(f[0]),
                    advertised: fm(f[1]),
                    supported: fm(f[2]),
                    peer: fm(f[3]),
                    curr_speed: sp[0],
                    max_speed: sp[1],
                };
                if version == 1 {
                    p.curr_speed = features_to_kbps(p.curr);
                    p.max_speed = features_to_kbps(p.supported);
                }
                p
            })
    }

    proptest! {
        #[test]
        fn port_round_trips((version, port) in (1u8..=6).prop_flat_map(|v| (Just(v), arb_port(v)))) {
            let mut b = Vec::new();
            port.encode(version, &mut b);
            let mut r = Reader::new(&b);
            prop_assert_eq!(PhyPort::decode(version, &mut r), Ok(port));
            prop_assert!(r.is_empty());
        }
    }

    #[test]
    fn port_mod_round_trips() {
        for version in 1..=6u8 {
            let pm = PortMod {
                port_no: 3,
                hw_addr: [0x50, 0x54, 0, 0, 0, 1],
                config: config::PORT_DOWN,
                mask: config::PORT_DOWN,
                advertise: 0x2008,
            };
            let mut b = Vec::new();
            pm.encode_body(version, &mut b);
            assert_eq!(PortMod::decode(version, &b), Ok(pm));
        }
    }
}
