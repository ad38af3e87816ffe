//! Controller-session messages: role request/reply/status, asynchronous
//! message configuration, bundles, table-mod, and the small Nicira
//! extensions (flow format, packet-in format, controller id, flow-mod
//! table id, conntrack zone flush, flow-monitor cancel).

use crate::errors::OfpErr;
use crate::wire::{Put, Reader};

const BAD: OfpErr = OfpErr::OFPBRC_BAD_LEN;

/// Controller roles in OpenFlow 1.2 numbering.
pub mod role {
    pub const NOCHANGE: u32 = 0;
    pub const EQUAL: u32 = 1;
    pub const PRIMARY: u32 = 2;
    pub const SECONDARY: u32 = 3;
}

pub fn role_name(r: u32) -> &'static str {
    match r {
        role::NOCHANGE => "nochange",
        role::EQUAL => "equal",
        role::PRIMARY => "primary",
        _ => "secondary",
    }
}

/// A role request or reply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoleRequest {
    pub role: u32,
    /// `None` when the message carries no generation (Nicira, nochange).
    pub generation_id: Option<u64>,
}

impl RoleRequest {
    /// OpenFlow 1.2+ body.
    pub fn decode_of12(body: &[u8]) -> Result<RoleRequest, OfpErr> {
        let mut r = Reader::new(body);
        let role = r.u32().ok_or(BAD)?;
        r.skip(4).ok_or(BAD)?;
        let gen = r.u64().ok_or(BAD)?;
        if role > role::SECONDARY {
            return Err(OfpErr::OFPRRFC_BAD_ROLE);
        }
        let generation_id = (role != role::NOCHANGE).then_some(gen);
        Ok(RoleRequest {
            role,
            generation_id,
        })
    }

    /// Nicira body (roles other/primary/secondary).
    pub fn decode_nx(body: &[u8]) -> Result<RoleRequest, OfpErr> {
        let nx = Reader::new(body).u32().ok_or(BAD)?;
        let role = match nx {
            0 => role::EQUAL,
            1 => role::PRIMARY,
            2 => role::SECONDARY,
            _ => return Err(OfpErr::OFPRRFC_BAD_ROLE),
        };
        Ok(RoleRequest {
            role,
            generation_id: None,
        })
    }

    pub fn encode_of12(&self, out: &mut Vec<u8>) {
        out.put_u32(self.role);
        out.put_zeros(4);
        out.put_u64(self.generation_id.unwrap_or(u64::MAX));
    }

    pub fn encode_nx(&self, out: &mut Vec<u8>) {
        out.put_u32(match self.role {
            role::PRIMARY => 1,
            role::SECONDARY => 2,
            _ => 0,
        });
    }

    pub fn format(&self, out: &mut String) {
        out.push_str(&format!(" role={}", role_name(self.role)));
        if let Some(g) = self.generation_id {
            out.push_str(&format!(" generation_id={g}"));
        }
    }
}

/// `OFPT_ROLE_STATUS` / `ONFT_ROLE_STATUS`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoleStatus {
    pub role: u32,
    pub reason: u8,
    pub generation_id: u64,
}

impl RoleStatus {
    pub fn decode(body: &[u8]) -> Result<RoleStatus, OfpErr> {
        let mut r = Reader::new(body);
        let role = r.u32().ok_or(BAD)?;
        let reason = r.u8().ok_or(BAD)?;
        r.skip(3).ok_or(BAD)?;
        let generation_id = r.u64().ok_or(BAD)?;
        if role == role::NOCHANGE || role > role::SECONDARY {
            return Err(OfpErr::OFPRRFC_BAD_ROLE);
        }
        Ok(RoleStatus {
            role,
            reason,
            generation_id,
        })
    }

    pub fn encode_body(&self, out: &mut Vec<u8>) {
        out.put_u32(self.role);
        out.put_u8(self.reason);
        out.put_zeros(3);
        out.put_u64(self.generation_id);
    }

    pub fn format(&self, out: &mut String) {
        out.push_str(&format!(" role={}", role_name(self.role)));
        if self.generation_id != u64::MAX {
            out.push_str(&format!(" generation_id={}", self.generation_id));
        }
        out.push_str(" reason=");
        match self.reason {
            0 => out.push_str("primary_request"),
            1 => out.push_str("configuration_changed"),
            2 => out.push_str("experimenter_data_changed"),
            r => out.push_str(&format!("unknown({r})")),
        }
    }
}

/// Kinds of asynchronous messages a controller can filter.
pub const ASYNC_TYPES: [&str; 6] = [
    "PACKET_IN",
    "PORT_STATUS",
    "FLOW_REMOVED",
    "ROLE_STATUS",
    "TABLE_STATUS",
    "REQUESTFORWARD",
];

fn reason_name(kind: usize, bit: u32) -> Option<&'static str> {
    let names: &[(u32, &str)] = match kind {
        0 => &[
            (0, "no_match"),
            (1, "action"),
            (2, "invalid_ttl"),
            (3, "action_set"),
            (4, "group"),
            (5, "packet_out"),
        ],
        1 => &[(0, "add"), (1, "delete"), (2, "modify")],
        2 => &[
            (0, "idle"),
            (1, "hard"),
            (2, "delete"),
            (3, "group_delete"),
            (4, "meter_delete"),
            (5, "eviction"),
        ],
        3 => &[
            (0, "primary_request"),
            (1, "configuration_changed"),
            (2, "experimenter_data_changed"),
        ],
        4 => &[(3, "vacancy_down"), (4, "vacancy_up")],
        _ => &[(0, "group_mod_request"), (1, "meter_mod_request")],
    };
    names.iter().find(|(b, _)| *b == bit).map(|(_, n)| *n)
}

/// The reasons `version` defines for each kind.
fn allowed(kind: usize, version: u8) -> u32 {
    match (kind, version >= 5) {
        (0, false) => 0x7,
        (0, true) => 0x3f,
        (1, _) => 0x7,
        (2, false) => 0xf,
        (2, true) => 0x3f,
        (3, _) => 0x7,
        (4, _) => 0x18,
        _ => 0x3,
    }
}

/// Asynchronous message configuration: per kind, the reasons enabled for
/// primary/equal (`[kind][0]`) and secondary (`[kind][1]`) connections.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AsyncConfig {
    pub masks: [[u32; 2]; 6],
}

impl AsyncConfig {
    /// The fixed OpenFlow 1.3 / Nicira layout.
    pub fn decode_legacy(version: u8, body: &[u8]) -> Result<AsyncConfig, OfpErr> {
        let mut r = Reader::new(body);
        let mut ac = AsyncConfig::default();
        for kind in 0..3 {
            for role in 0..2 {
                ac.masks[kind][role] = r.u32().ok_or(BAD)? & allowed(kind, version);
            }
        }
        Ok(ac)
    }

    pub fn encode_legacy(&self, out: &mut Vec<u8>) {
        for kind in 0..3 {
            for role in 0..2 {
                out.put_u32(self.masks[kind][role]);
            }
        }
    }

    /// The OpenFlow 1.4 property layout (`loose` ignores unknown
    /// properties, as upstream does for replies).
    pub fn decode_props(version: u8, body: &[u8], loose: bool) -> Result<AsyncConfig, OfpErr> {
        let mut r = Reader::new(body);
        let mut ac = AsyncConfig::default();
        while !r.is_empty() {
            let (ptype, pbody) = super::props::pull_property(&mut r)?;
            let kind = usize::from(ptype / 2);
            if kind >= 6 {
                if loose {
                    continue;
                }
                return Err(OfpErr::OFPACFC_UNSUPPORTED);
            }
            let mask = Reader::new(pbody).u32().ok_or(OfpErr::OFPBPC_BAD_LEN)?;
            if mask & !allowed(kind, version) != 0 && !loose {
                return Err(OfpErr::OFPACFC_INVALID);
            }
            // Even types are for secondaries, odd for primaries.
            let role = if ptype % 2 == 0 { 1 } else { 0 };
            ac.masks[kind][role] = mask & allowed(kind, version);
        }
        Ok(ac)
    }

    pub fn encode_props(&self, out: &mut Vec<u8>) {
        for kind in 0..6 {
            for (role, ptype) in [(1, 2 * kind as u16), (0, 2 * kind as u16 + 1)] {
                super::props::put_property(out, ptype, &self.masks[kind][role].to_be_bytes());
            }
        }
    }

    pub fn format(&self, out: &mut String) {
        for (role, label) in [(0, "primary"), (1, "secondary")] {
            out.push_str(&format!("\n {label}:\n"));
            for (kind, name) in ASYNC_TYPES.iter().enumerate() {
                out.push_str(&format!("{name:>16}:"));
                let mask = self.masks[kind][role];
                let mut any = false;
                for bit in 0..32 {
                    if mask & (1 << bit) != 0 {
                        if let Some(n) = reason_name(kind, bit) {
                            out.push(' ');
                            out.push_str(n);
                            any = true;
                        }
                    }
                }
                if !any {
                    out.push_str(" (off)");
                }
                out.push('\n');
            }
        }
    }
}

/// `OFPT_BUNDLE_CONTROL`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BundleCtrl {
    pub bundle_id: u32,
    pub type_: u16,
    pub flags: u16,
}

const BUNDLE_TYPES: [&str; 8] = [
    "OPEN_REQUEST",
    "OPEN_REPLY",
    "CLOSE_REQUEST",
    "CLOSE_REPLY",
    "COMMIT_REQUEST",
    "COMMIT_REPLY",
    "DISCARD_REQUEST",
    "DISCARD_REPLY",
];

pub fn format_bundle_flags(out: &mut String, flags: u16) {
    crate::bits::bit_names(
        out,
        u32::from(flags),
        |b| match b {
            1 => Some("atomic"),
            2 => Some("ordered"),
            _ => None,
        },
        ' ',
    );
}

impl BundleCtrl {
    pub fn decode(body: &[u8]) -> Result<BundleCtrl, OfpErr> {
        let mut r = Reader::new(body);
        let bundle_id = r.u32().ok_or(BAD)?;
        let type_ = r.u16().ok_or(BAD)?;
        let flags = r.u16().ok_or(BAD)?;
        if usize::from(type_) >= BUNDLE_TYPES.len() {
            return Err(OfpErr::OFPBFC_BAD_TYPE);
        }
        Ok(BundleCtrl {
            bundle_id,
            type_,
            flags,
        })
    }

    pub fn encode_body(&self, out: &mut Vec<u8>) {
        out.put_u32(self.bundle_id);
        out.put_u16(self.type_);
        out.put_u16(self.flags);
    }

    pub fn format(&self, out: &mut String) {
        out.push_str(&format!(
            "\n bundle_id={} type={} flags=",
            crate::bits::c_alt_hex(self.bundle_id),
            BUNDLE_TYPES
                .get(usize::from(self.type_))
                .copied()
                .unwrap_or("?")
        ));
        format_bundle_flags(out, self.flags);
        out.push('\n');
    }
}

/// `OFPT_TABLE_MOD`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableMod {
    pub table_id: u8,
    /// OpenFlow 1.1/1.2 table-miss behavior: controller, continue, drop.
    pub miss: Option<u8>,
    /// OpenFlow 1.4+: eviction and vacancy events on/off.
    pub eviction: Option<bool>,
    pub vacancy: Option<bool>,
}

impl TableMod {
    pub fn decode(version: u8, body: &[u8]) -> Result<TableMod, OfpErr> {
        let mut r = Reader::new(body);
        let table_id = r.u8().ok_or(BAD)?;
        r.skip(3).ok_or(BAD)?;
        let config = r.u32().ok_or(BAD)?;
        let mut tm = TableMod {
            table_id,
            miss: None,
            eviction: None,
            vacancy: None,
        };
        match version {
            2 | 3 => tm.miss = Some((config & 3) as u8),
            4 => {}
            _ => {
                tm.eviction = Some(config & 4 != 0);
                tm.vacancy = Some(config & 8 != 0);
                while !r.is_empty() {
                    super::props::pull_property(&mut r)?;
                }
            }
        }
        Ok(tm)
    }

    pub fn encode_body(&self, out: &mut Vec<u8>) {
        out.put_u8(self.table_id);
        out.put_zeros(3);
        let mut config = u32::from(self.miss.unwrap_or(0));
        if self.eviction == Some(true) {
            config |= 4;
        }
        if self.vacancy == Some(true) {
            config |= 8;
        }
        out.put_u32(config);
    }

    pub fn format(&self, out: &mut String) {
        if self.table_id == 0xff {
            out.push_str(" table_id: ALL_TABLES");
        } else {
            out.push_str(&format!(" table_id={}", self.table_id));
        }
        if let Some(m) = self.miss {
            out.push_str(match m {
                0 => ", flow_miss_config=controller",
                1 => ", flow_miss_config=continue",
                _ => ", flow_miss_config=drop",
            });
        }
        if let Some(e) = self.eviction {
            out.push_str(if e { ", eviction=on" } else { ", eviction=off" });
        }
        if let Some(v) = self.vacancy {
            out.push_str(if v {
                ", vacancy=on vacancy:0,0"
            } else {
                ", vacancy=off"
            });
        }
    }
}

/// A 32-bit big-endian body word (flow format, packet-in format, ...).
pub fn decode_u32(body: &[u8]) -> Result<u32, OfpErr> {
    Reader::new(body).u32().ok_or(BAD)
}

/// `NXT_SET_FLOW_FORMAT` text.
pub fn format_flow_format(out: &mut String, f: u32) {
    out.push_str(" format=");
    match f {
        0 => out.push_str("openflow10"),
        2 => out.push_str("nxm"),
        _ => {
            vlog::warn!(
                "ofp_protocol",
                "NXT_SET_FLOW_FORMAT message specified invalid flow format {}",
                f
            );
            out.push_str("(unknown)");
        }
    }
}

/// `NXT_SET_PACKET_IN_FORMAT`: validates and names the format.
pub fn packet_in_format_name(f: u32) -> Result<&'static str, OfpErr> {
    match f {
        0 => Ok("standard"),
        1 => Ok("nxt_packet_in"),
        2 => Ok("nxt_packet_in2"),
        _ => {
            vlog::warn!(
                "ofp_packet",
                "NXT_SET_PACKET_IN_FORMAT message specified invalid packet-in format {}",
                f
            );
            Err(OfpErr::OFPBRC_EPERM)
        }
    }
}

/// `NXT_SET_CONTROLLER_ID` and `NXT_CT_FLUSH_ZONE` carry a 16-bit value
/// after six bytes of padding.
pub fn decode_padded_u16(body: &[u8]) -> Result<u16, OfpErr> {
    let mut r = Reader::new(body);
    r.skip(6).ok_or(BAD)?;
    r.u16().ok_or(BAD)
}

pub fn encode_padded_u16(out: &mut Vec<u8>, v: u16) {
    out.put_zeros(6);
    out.put_u16(v);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn async_config_round_trips_both_layouts() {
        let mut ac = AsyncConfig::default();
        ac.masks[0] = [0x5, 0x7];
        ac.masks[1] = [0x3, 0x7];
        ac.masks[2] = [0, 0x3];
        let mut b = Vec::new();
        ac.encode_legacy(&mut b);
        assert_eq!(AsyncConfig::decode_legacy(4, &b), Ok(ac.clone()));
        let mut b = Vec::new();
        ac.encode_props(&mut b);
        assert_eq!(AsyncConfig::decode_props(5, &b, false), Ok(ac));
    }

    #[test]
    fn async_config_rejects_bad_masks() {
        let mut b = Vec::new();
        super::super::props::put_property(&mut b, 0, &0x40u32.to_be_bytes());
        assert_eq!(
            AsyncConfig::decode_props(5, &b, false),
            Err(OfpErr::OFPACFC_INVALID)
        );
        let mut b = Vec::new();
        super::super::props::put_property(&mut b, 0x11, &0u32.to_be_bytes());
        assert_eq!(
            AsyncConfig::decode_props(5, &b, false),
            Err(OfpErr::OFPACFC_UNSUPPORTED)
        );
    }

    #[test]
    fn roles_round_trip() {
        let rr = RoleRequest {
            role: role::PRIMARY,
            generation_id: Some(3),
        };
        let mut b = Vec::new();
        rr.encode_of12(&mut b);
        assert_eq!(RoleRequest::decode_of12(&b), Ok(rr));
        let rr = RoleRequest {
            role: role::SECONDARY,
            generation_id: None,
        };
        let mut b = Vec::new();
        rr.encode_nx(&mut b);
        assert_eq!(RoleRequest::decode_nx(&b), Ok(rr));
    }

    #[test]
    fn bundle_and_table_mod_round_trip() {
        let bc = BundleCtrl {
            bundle_id: 1,
            type_: 4,
            flags: 3,
        };
        let mut b = Vec::new();
        bc.encode_body(&mut b);
        assert_eq!(BundleCtrl::decode(&b), Ok(bc));
        let tm = TableMod {
            table_id: 2,
            miss: None,
            eviction: Some(true),
            vacancy: Some(false),
        };
        let mut b = Vec::new();
        tm.encode_body(&mut b);
        assert_eq!(TableMod::decode(5, &b), Ok(tm));
    }
}
