//! OpenFlow ports as the switch shows them: number, name, datapath port,
//! kind, address, config/state/features, and the VLAN configuration NORMAL
//! needs. The vswitchd adds, removes and updates them; `port_mod` changes
//! `config`.

/// What kind of interface backs a port.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PortKind {
    /// A Linux network device (`system`).
    System,
    /// The bridge's internal port.
    Internal,
    /// A TAP device.
    Tap,
    /// A patch port and the name of its peer.
    Patch { peer: String },
    /// A tunnel port (`vxlan`, `geneve`, `gre`, ...).
    Tunnel { type_: String },
    /// A dummy port (tests).
    Dummy,
}

/// How a port treats VLANs (the Port table's `vlan_mode`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum VlanMode {
    /// Access port (untagged) when `tag` is set, else trunk.
    #[default]
    Trunk,
    Access,
    NativeTagged,
    NativeUntagged,
    DotOneQTunnel,
}

/// One OpenFlow port.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OfPort {
    /// OpenFlow port number (`OFPP_LOCAL` = 0xfffe for the bridge port).
    pub ofp_port: u32,
    /// Interface name.
    pub name: String,
    /// Datapath port number.
    pub odp_port: u32,
    /// What backs the port.
    pub kind: PortKind,
    /// Ethernet address.
    pub hw_addr: [u8; 6],
    /// `OFPPC_*` bits.
    pub config: u32,
    /// `OFPPS_*` bits.
    pub state: u32,
    /// Current features (`NETDEV_F_*` bits as the `openflow` crate keeps them).
    pub curr: u32,
    /// Advertised features.
    pub advertised: u32,
    /// Supported features.
    pub supported: u32,
    /// Peer features.
    pub peer: u32,
    /// Current speed in kbps.
    pub curr_speed: u32,
    /// Maximum speed in kbps.
    pub max_speed: u32,
    /// Access VLAN (`tag`).
    pub vlan_tag: Option<u16>,
    /// Trunk VLANs (empty = all).
    pub vlan_trunks: Vec<u16>,
    /// VLAN mode.
    pub vlan_mode: VlanMode,
}

impl OfPort {
    /// A port with no config, live state and no features.
    pub fn new(
        ofp_port: u32,
        name: &str,
        odp_port: u32,
        kind: PortKind,
        hw_addr: [u8; 6],
    ) -> OfPort {
        OfPort {
            ofp_port,
            name: name.to_string(),
            odp_port,
            kind,
            hw_addr,
            config: 0,
            state: 0,
            curr: 0,
            advertised: 0,
            supported: 0,
            peer: 0,
            curr_speed: 0,
            max_speed: 0,
            vlan_tag: None,
            vlan_trunks: Vec::new(),
            vlan_mode: VlanMode::default(),
        }
    }
}

/// Counters of one port (from the datapath) for port stats replies;
/// `u64::MAX` = unknown.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PortCounters {
    pub rx_packets: u64,
    pub tx_packets: u64,
    pub rx_bytes: u64,
    pub tx_bytes: u64,
    pub rx_dropped: u64,
    pub tx_dropped: u64,
    pub rx_errors: u64,
    pub tx_errors: u64,
    pub rx_frame_err: u64,
    pub rx_over_err: u64,
    pub rx_crc_err: u64,
    pub collisions: u64,
    /// The device's own counters by name (`netdev` custom statistics),
    /// reported from OpenFlow 1.4 on.
    pub custom: Vec<(String, u64)>,
}

impl PortCounters {
    /// Zero packets and bytes, every error counter unknown (what a port
    /// whose device reports nothing else shows).
    pub fn unknown() -> PortCounters {
        PortCounters {
            rx_packets: 0,
            tx_packets: 0,
            rx_bytes: 0,
            tx_bytes: 0,
            rx_dropped: u64::MAX,
            tx_dropped: u64::MAX,
            rx_errors: u64::MAX,
            tx_errors: u64::MAX,
            rx_frame_err: u64::MAX,
            rx_over_err: u64::MAX,
            rx_crc_err: u64::MAX,
            collisions: u64::MAX,
            custom: Vec::new(),
        }
    }
}
