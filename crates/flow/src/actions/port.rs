//! OpenFlow port numbers as actions use them (OVS's 16-bit `ofp_port_t`):
//! reserved port names, text parsing and printing, and the mapping between
//! the OpenFlow 1.0 16-bit and the OpenFlow 1.1+ 32-bit numbering.

use std::fmt;

use crate::port::{parse_port_logged, PortMap, Warning};

/// A port number in OpenFlow 1.0 numbering (OpenFlow 1.1+ reserved ports
/// 0xffffff00.. map to 0xff00..).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct OfpPort(pub u16);

/// Offset between OpenFlow 1.1+ and OpenFlow 1.0 reserved port numbers.
pub const OFPP11_OFFSET: u32 = 0xffff_0000;
/// First OpenFlow 1.1+ reserved port.
pub const OFPP11_MAX: u32 = 0xffff_ff00;

impl OfpPort {
    /// Maximum number of physical ports (exclusive).
    pub const MAX: OfpPort = OfpPort(0xff00);
    pub const UNSET: OfpPort = OfpPort(0xfff7);
    pub const IN_PORT: OfpPort = OfpPort(0xfff8);
    pub const TABLE: OfpPort = OfpPort(0xfff9);
    pub const NORMAL: OfpPort = OfpPort(0xfffa);
    pub const FLOOD: OfpPort = OfpPort(0xfffb);
    pub const ALL: OfpPort = OfpPort(0xfffc);
    pub const CONTROLLER: OfpPort = OfpPort(0xfffd);
    pub const LOCAL: OfpPort = OfpPort(0xfffe);
    pub const NONE: OfpPort = OfpPort(0xffff);
    /// First reserved port.
    pub const FIRST_RESV: OfpPort = OfpPort(0xfff7);

    /// Name of a reserved port, as printed.
    pub fn reserved_name(self) -> Option<&'static str> {
        Some(match self {
            Self::IN_PORT => "IN_PORT",
            Self::TABLE => "TABLE",
            Self::NORMAL => "NORMAL",
            Self::FLOOD => "FLOOD",
            Self::ALL => "ALL",
            Self::CONTROLLER => "CONTROLLER",
            Self::LOCAL => "LOCAL",
            Self::NONE => "ANY",
            Self::UNSET => "UNSET",
            _ => return None,
        })
    }

    /// Converts an OpenFlow 1.1+ 32-bit port number; `None` for numbers that
    /// have no 16-bit equivalent.
    pub fn from_ofp11(port: u32) -> Option<OfpPort> {
        if port < u32::from(Self::MAX.0) {
            Some(OfpPort(port as u16))
        } else if port >= OFPP11_MAX {
            Some(OfpPort((port - OFPP11_OFFSET) as u16))
        } else {
            None
        }
    }

    /// The OpenFlow 1.1+ 32-bit number of this port.
    pub fn to_ofp11(self) -> u32 {
        if self.0 < Self::MAX.0 {
            u32::from(self.0)
        } else {
            u32::from(self.0) + OFPP11_OFFSET
        }
    }

    /// Parses a port as `ovs-ofctl` does (numbers, reserved names, names
    /// from `map`); upstream's warnings are appended to `warnings`.
    /// Returns `None` when `s` names no port.
    pub fn parse(s: &str, map: Option<&PortMap>, warnings: &mut Vec<Warning>) -> Option<OfpPort> {
        let (port, warning) = parse_port_logged(s, map);
        warnings.extend(warning);
        port.and_then(|p| u16::try_from(p).ok()).map(OfpPort)
    }
}

impl fmt::Display for OfpPort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.reserved_name() {
            Some(n) => f.write_str(n),
            None => write!(f, "{}", self.0),
        }
    }
}

/// Checks an output port as upstream's `ofpact_check_output_port`: physical
/// ports below `max_ports` and the reserved ports usable for output.
pub fn check_output_port(port: OfpPort, max_ports: OfpPort) -> bool {
    matches!(
        port,
        OfpPort::IN_PORT
            | OfpPort::TABLE
            | OfpPort::NORMAL
            | OfpPort::FLOOD
            | OfpPort::ALL
            | OfpPort::CONTROLLER
            | OfpPort::LOCAL
    ) || port < max_ports
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_numbers() {
        let mut w = Vec::new();
        assert_eq!(OfpPort::parse("local", None, &mut w), Some(OfpPort::LOCAL));
        assert_eq!(OfpPort::parse("5", None, &mut w), Some(OfpPort(5)));
        assert_eq!(
            OfpPort::parse("4294967294", None, &mut w),
            Some(OfpPort::LOCAL)
        );
        assert_eq!(OfpPort::parse("0xfff8", None, &mut w), None);
        assert_eq!(OfpPort::parse("70000", None, &mut w), None);
        assert_eq!(w.len(), 1);
        assert_eq!(OfpPort::NONE.to_string(), "ANY");
        assert_eq!(OfpPort(7).to_string(), "7");
        assert_eq!(OfpPort::from_ofp11(0xffff_fffe), Some(OfpPort::LOCAL));
        assert_eq!(OfpPort::from_ofp11(0x10000), None);
        assert_eq!(OfpPort::CONTROLLER.to_ofp11(), 0xffff_fffd);
    }
}
