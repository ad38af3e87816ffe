//! The VLAN model of NORMAL switching (upstream's `xvlan`): a port's VLAN
//! configuration (`tag`, `trunks`, `vlan_mode`, the Port table columns),
//! which VLANs a port carries, and how a frame's VLAN headers are read on
//! input and rewritten on output for access, trunk, native-tagged,
//! native-untagged and dot1q-tunnel ports.

use packet::Flow;

use crate::port::{OfPort, VlanMode};

/// 802.1Q and 802.1ad TPIDs.
pub const ETH_TYPE_VLAN_8021Q: u16 = 0x8100;
pub const ETH_TYPE_VLAN_8021AD: u16 = 0x88a8;
const VLAN_CFI: u16 = 0x1000;

/// One VLAN header as NORMAL sees it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct XvlanHdr {
    pub tpid: u16,
    pub vid: u16,
    /// PCP bits in place (`tci & 0xe000`).
    pub pcp: u16,
}

/// Up to two VLAN headers, outermost first.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Xvlan {
    pub v: [XvlanHdr; 2],
}

impl Xvlan {
    /// The headers of `flow`.
    pub fn extract(flow: &Flow) -> Xvlan {
        let mut x = Xvlan::default();
        for (i, h) in flow.vlans.iter().enumerate() {
            if h.tci & VLAN_CFI == 0 {
                break;
            }
            x.v[i] = XvlanHdr {
                tpid: h.tpid,
                vid: h.tci & 0x0fff,
                pcp: h.tci & 0xe000,
            };
        }
        x
    }

    fn pop(&mut self) {
        self.v[0] = self.v[1];
        self.v[1] = XvlanHdr::default();
    }

    fn push_uninit(&mut self) {
        self.v[1] = self.v[0];
        self.v[0] = XvlanHdr::default();
    }

    /// Writes the headers into `flow`.
    pub fn put(&self, flow: &mut Flow) {
        for i in 0..2 {
            let mut tci = self.v[i].vid | (self.v[i].pcp & 0xe000);
            if tci != 0 {
                tci |= VLAN_CFI;
                flow.vlans[i].tpid = if self.v[i].tpid != 0 {
                    self.v[i].tpid
                } else {
                    ETH_TYPE_VLAN_8021Q
                };
            }
            flow.vlans[i].tci = tci;
        }
    }
}

/// A port's VLAN configuration as NORMAL uses it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PortVlan {
    pub mode: VlanMode,
    /// The access/native VLAN (0 when none).
    pub vlan: u16,
    /// Trunked VLANs; `None` = all.
    pub trunks: Option<Vec<bool>>,
    /// For dot1q-tunnel: allowed customer VLANs (`None` = all).
    pub cvlans: Option<Vec<bool>>,
    /// Outer TPID for dot1q-tunnel.
    pub qinq_ethtype: u16,
}

fn bitmap(v: &[u16]) -> Vec<bool> {
    let mut b = vec![false; 4096];
    for x in v {
        if let Some(s) = b.get_mut(*x as usize) {
            *s = true;
        }
    }
    b
}

impl PortVlan {
    /// The effective configuration of `port` (a `tag` without an explicit
    /// mode makes an access port, as ovs-vswitchd does).
    pub fn of(port: &OfPort) -> PortVlan {
        let mut mode = port.vlan_mode;
        if mode == VlanMode::Trunk && port.vlan_tag.is_some() {
            mode = VlanMode::Access;
        }
        let vlan = match mode {
            VlanMode::Trunk => 0,
            _ => port.vlan_tag.unwrap_or(0),
        };
        let trunks = match mode {
            VlanMode::Access => None,
            VlanMode::Trunk | VlanMode::DotOneQTunnel => {
                if port.vlan_trunks.is_empty() {
                    None
                } else {
                    Some(bitmap(&port.vlan_trunks))
                }
            }
            VlanMode::NativeTagged | VlanMode::NativeUntagged => {
                let has = |v: u16| port.vlan_trunks.contains(&v);
                if vlan != 0 && (port.vlan_trunks.is_empty() || !has(vlan) || has(0)) {
                    let mut b = if port.vlan_trunks.is_empty() {
                        vec![true; 4096]
                    } else {
                        bitmap(&port.vlan_trunks)
                    };
                    b[vlan as usize] = true;
                    b[0] = false;
                    Some(b)
                } else if port.vlan_trunks.is_empty() {
                    None
                } else {
                    Some(bitmap(&port.vlan_trunks))
                }
            }
        };
        PortVlan {
            mode,
            vlan,
            trunks,
            cvlans: None,
            qinq_ethtype: ETH_TYPE_VLAN_8021AD,
        }
    }

    /// Whether the port trunks VLAN `vid`.
    pub fn trunks_vlan(&self, vid: u16) -> bool {
        self.mode != VlanMode::Access
            && match &self.trunks {
                None => true,
                Some(b) => b.get(vid as usize).copied().unwrap_or(false),
            }
    }

    fn allows_cvlan(&self, vid: u16) -> bool {
        match &self.cvlans {
            None => true,
            Some(b) => b.get(vid as usize).copied().unwrap_or(false),
        }
    }

    /// Whether a frame in `xvlan` may be sent out this port.
    pub fn includes(&self, x: &Xvlan) -> bool {
        match self.mode {
            VlanMode::Access => x.v[0].vid == self.vlan && x.v[1].vid == 0,
            VlanMode::Trunk | VlanMode::NativeUntagged | VlanMode::NativeTagged => {
                self.trunks_vlan(x.v[0].vid)
            }
            VlanMode::DotOneQTunnel => x.v[0].vid == self.vlan && self.allows_cvlan(x.v[1].vid),
        }
    }

    /// Checks the VLAN of an input frame: `Err(message)` to drop.
    pub fn input_vid_check(&self, vid: u16, port_name: &str) -> Result<(), String> {
        match self.mode {
            VlanMode::Access => {
                if vid != 0 {
                    return Err(format!(
                        "dropping VLAN {vid} tagged packet received on port {port_name} configured as VLAN {} access port",
                        self.vlan
                    ));
                }
                Ok(())
            }
            VlanMode::NativeUntagged | VlanMode::NativeTagged if vid == 0 => Ok(()),
            VlanMode::NativeUntagged | VlanMode::NativeTagged | VlanMode::Trunk => {
                if !self.trunks_vlan(vid) {
                    return Err(format!(
                        "dropping VLAN {vid} packet received on port {port_name} not configured for trunking VLAN {vid}"
                    ));
                }
                Ok(())
            }
            VlanMode::DotOneQTunnel => {
                if !self.allows_cvlan(vid) {
                    return Err(format!(
                        "dropping VLAN {vid} packet received on dot1q-tunnel port {port_name} that excludes this VLAN"
                    ));
                }
                Ok(())
            }
        }
    }

    /// The frame's VLANs inside the switch, given its headers on input.
    pub fn input_translate(&self, inv: &Xvlan) -> Xvlan {
        match self.mode {
            VlanMode::Access => {
                let mut x = Xvlan::default();
                x.v[0].tpid = if inv.v[0].tpid != 0 {
                    inv.v[0].tpid
                } else {
                    ETH_TYPE_VLAN_8021Q
                };
                x.v[0].vid = self.vlan;
                x.v[0].pcp = inv.v[0].pcp;
                x
            }
            VlanMode::Trunk => *inv,
            VlanMode::NativeUntagged | VlanMode::NativeTagged => {
                let mut x = *inv;
                if inv.v[0].vid == 0 {
                    x.v[0].tpid = if inv.v[0].tpid != 0 {
                        inv.v[0].tpid
                    } else {
                        ETH_TYPE_VLAN_8021Q
                    };
                    x.v[0].vid = self.vlan;
                    x.v[0].pcp = inv.v[0].pcp;
                }
                x
            }
            VlanMode::DotOneQTunnel => {
                let mut x = *inv;
                x.push_uninit();
                x.v[0].tpid = self.qinq_ethtype;
                x.v[0].vid = self.vlan;
                x.v[0].pcp = 0;
                x
            }
        }
    }

    /// The headers a frame in `x` carries when sent out this port.
    pub fn output_translate(&self, x: &Xvlan) -> Xvlan {
        match self.mode {
            VlanMode::Access => Xvlan::default(),
            VlanMode::Trunk | VlanMode::NativeTagged => *x,
            VlanMode::NativeUntagged => {
                let mut o = *x;
                if x.v[0].vid == self.vlan {
                    o.pop();
                }
                o
            }
            VlanMode::DotOneQTunnel => {
                let mut o = *x;
                o.pop();
                o
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::port::PortKind;

    fn port(tag: Option<u16>, trunks: &[u16], mode: VlanMode) -> OfPort {
        let mut p = OfPort::new(1, "p1", 1, PortKind::Dummy, [0; 6]);
        p.vlan_tag = tag;
        p.vlan_trunks = trunks.to_vec();
        p.vlan_mode = mode;
        p
    }

    #[test]
    fn tag_alone_makes_access_port() {
        let v = PortVlan::of(&port(Some(10), &[], VlanMode::Trunk));
        assert_eq!(v.mode, VlanMode::Access);
        assert!(v.input_vid_check(5, "p1").is_err());
        let x = v.input_translate(&Xvlan::default());
        assert_eq!(x.v[0].vid, 10);
        assert_eq!(v.output_translate(&x), Xvlan::default());
    }

    #[test]
    fn native_untagged_strips_native_vlan() {
        let v = PortVlan::of(&port(Some(10), &[20], VlanMode::NativeUntagged));
        assert!(v.trunks_vlan(10) && v.trunks_vlan(20) && !v.trunks_vlan(30));
        let mut x = Xvlan::default();
        x.v[0].vid = 10;
        assert_eq!(v.output_translate(&x).v[0].vid, 0);
        x.v[0].vid = 20;
        assert_eq!(v.output_translate(&x).v[0].vid, 20);
    }

    #[test]
    fn trunk_list_limits_vlans() {
        let v = PortVlan::of(&port(None, &[1, 2], VlanMode::Trunk));
        assert!(v.input_vid_check(2, "p1").is_ok());
        assert!(v.input_vid_check(3, "p1").is_err());
    }
}
