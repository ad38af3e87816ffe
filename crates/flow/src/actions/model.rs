//! The action model: one enum variant per OpenFlow action or instruction that
//! Open vSwitch understands (OVS's `struct ofpact` family), independent of any
//! wire version.  Variants that upstream encodes in several ways remember the
//! encoding they came from (`raw` hints) so that text and wire round trips are
//! exact.

use std::net::{Ipv4Addr, Ipv6Addr};

use super::mf::{FieldId, Subfield};
use super::port::OfpPort;

/// An Ethernet address.
pub type EthAddr = [u8; 6];

/// `controller_id`/`meter_id` value meaning "no meter".
pub const NX_CTLR_NO_METER: u32 = 0;

/// One action or instruction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OfpAction {
    // ---- Output ----
    /// `output:port`, `output(port=..,max_len=..)`, `NORMAL`, `IN_PORT`, ...
    Output(Output),
    /// `group:id`
    Group(u32),
    /// `controller(...)`
    Controller(Controller),
    /// `enqueue(port,queue)`
    Enqueue { port: OfpPort, queue: u32 },
    /// `output:field[...]`
    OutputReg {
        src: Subfield,
        max_len: u16,
        raw: OutputRegRaw,
    },
    /// `output(port=P,max_len=N)` (truncating output).
    OutputTrunc { port: OfpPort, max_len: u32 },
    /// `bundle(...)` / `bundle_load(...)`
    Bundle(Bundle),

    // ---- Header changes ----
    /// `set_field`, `load` (distinguished by `raw`).
    SetField(SetField),
    /// `mod_vlan_vid` (push if needed) / `set_vlan_vid`.  `flow_has_vlan`
    /// is learned from the match when the actions are checked.
    SetVlanVid {
        vid: u16,
        push_vlan_if_needed: bool,
        flow_has_vlan: bool,
    },
    /// `mod_vlan_pcp` / `set_vlan_pcp`.
    SetVlanPcp {
        pcp: u8,
        push_vlan_if_needed: bool,
        flow_has_vlan: bool,
    },
    /// `strip_vlan` / `pop_vlan`.
    StripVlan { pop_vlan: bool },
    /// `push_vlan:ethertype`
    PushVlan { ethertype: u16 },
    /// `mod_dl_src`
    SetEthSrc(EthAddr),
    /// `mod_dl_dst`
    SetEthDst(EthAddr),
    /// `mod_nw_src`
    SetIpv4Src(Ipv4Addr),
    /// `mod_nw_dst`
    SetIpv4Dst(Ipv4Addr),
    /// `mod_nw_tos` (the DSCP bits of the ToS byte, i.e. ToS & 0xfc).
    SetIpDscp(u8),
    /// `mod_nw_ecn`
    SetIpEcn(u8),
    /// `mod_nw_ttl`
    SetIpTtl(u8),
    /// `mod_tp_src`; `flow_ip_proto` (learned when checked against the
    /// match) selects the OpenFlow 1.2+ set-field.
    SetL4SrcPort { port: u16, flow_ip_proto: u8 },
    /// `mod_tp_dst`
    SetL4DstPort { port: u16, flow_ip_proto: u8 },
    /// `move:src->dst`
    RegMove(RegMove),
    /// `push:src`
    StackPush(Subfield),
    /// `pop:dst`
    StackPop(Subfield),
    /// `dec_ttl`, `dec_ttl(ids)`
    DecTtl { cnt_ids: Vec<u16>, raw: DecTtlRaw },
    /// `set_mpls_label`
    SetMplsLabel(u32),
    /// `set_mpls_tc`
    SetMplsTc(u8),
    /// `set_mpls_ttl`
    SetMplsTtl(u8),
    /// `dec_mpls_ttl`
    DecMplsTtl,
    /// `push_mpls:ethertype`
    PushMpls { ethertype: u16 },
    /// `pop_mpls:ethertype`
    PopMpls { ethertype: u16 },
    /// `dec_nsh_ttl`
    DecNshTtl,
    /// `delete_field:field`
    DeleteField(FieldId),
    /// `encap(...)`
    Encap(Encap),
    /// `decap(...)`
    Decap { new_pkt_type: u32 },

    // ---- Metadata ----
    /// `set_tunnel`/`set_tunnel64`
    SetTunnel { tun_id: u64, raw: SetTunnelRaw },
    /// `set_queue`
    SetQueue(u32),
    /// `pop_queue`
    PopQueue,
    /// `fin_timeout(...)`
    FinTimeout { idle: u16, hard: u16 },

    // ---- Flow table interaction ----
    /// `resubmit(...)`
    Resubmit(Resubmit),
    /// `learn(...)`
    Learn(Box<Learn>),
    /// `conjunction(id,k/n)`
    Conjunction { id: u32, clause: u8, n_clauses: u8 },
    /// `multipath(...)`
    Multipath(Multipath),

    // ---- Other ----
    /// `note:hex`
    Note(Vec<u8>),
    /// `exit`
    Exit,
    /// `sample(...)`
    Sample(Sample),
    /// `ct(...)`
    Ct(Box<Ct>),
    /// `ct_clear`
    CtClear,
    /// `nat(...)`, only inside `ct(...)`.
    Nat(Nat),
    /// `clone(...)`
    Clone(Vec<OfpAction>),
    /// `check_pkt_larger(len)->dst`
    CheckPktLarger { pkt_len: u16, dst: Subfield },
    /// `debug_recirc`
    DebugRecirc,
    /// `debug_slow`
    DebugSlow,

    // ---- Instructions ----
    /// `meter:id`
    Meter(u32),
    /// `clear_actions`
    ClearActions,
    /// `write_actions(...)`
    WriteActions(Vec<OfpAction>),
    /// `write_metadata:value[/mask]`
    WriteMetadata { metadata: u64, mask: u64 },
    /// `goto_table:n`
    GotoTable(u8),
}

/// How an `output:field[]` action was encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum OutputRegRaw {
    #[default]
    OutputReg,
    OutputReg2,
}

/// How a `dec_ttl` was encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum DecTtlRaw {
    /// OFPAT_DEC_NW_TTL / NXAST_DEC_TTL
    #[default]
    DecNwTtl,
    /// NXAST_DEC_TTL_CNT_IDS
    CntIds,
}

/// How a `set_tunnel` was encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum SetTunnelRaw {
    /// Choose by value (text `set_tunnel:`).
    #[default]
    Auto,
    /// NXAST_SET_TUNNEL (32 bits)
    Tunnel32,
    /// NXAST_SET_TUNNEL64
    Tunnel64,
}

/// Output to a port.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Output {
    pub port: OfpPort,
    pub max_len: u16,
}

/// Packet-in reasons (`enum ofp_packet_in_reason`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum PacketInReason {
    NoMatch = 0,
    Action = 1,
    InvalidTtl = 2,
    ActionSet = 3,
    Group = 4,
    PacketOut = 5,
}

impl PacketInReason {
    pub fn from_u8(v: u8) -> Option<Self> {
        Some(match v {
            0 => Self::NoMatch,
            1 => Self::Action,
            2 => Self::InvalidTtl,
            3 => Self::ActionSet,
            4 => Self::Group,
            5 => Self::PacketOut,
            _ => return None,
        })
    }

    /// The name used in `controller(reason=...)`.
    pub fn name(self) -> &'static str {
        match self {
            Self::NoMatch => "no_match",
            Self::Action => "action",
            Self::InvalidTtl => "invalid_ttl",
            Self::ActionSet => "action_set",
            Self::Group => "group",
            Self::PacketOut => "packet_out",
        }
    }

    pub fn from_name(s: &str) -> Option<Self> {
        [
            Self::NoMatch,
            Self::Action,
            Self::InvalidTtl,
            Self::ActionSet,
            Self::Group,
            Self::PacketOut,
        ]
        .into_iter()
        .find(|r| r.name() == s)
    }
}

/// How a controller action was encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ControllerRaw {
    /// Output to the CONTROLLER port or, if that cannot express it, NXAST_CONTROLLER(2).
    #[default]
    Auto,
    /// NXAST_CONTROLLER
    Controller,
    /// NXAST_CONTROLLER2
    Controller2,
}

/// Send the packet to the controller(s).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Controller {
    pub max_len: u16,
    pub controller_id: u16,
    pub reason: PacketInReason,
    /// `NX_CTLR_NO_METER` (0) means none.
    pub meter_id: u32,
    pub pause: bool,
    pub userdata: Vec<u8>,
    pub raw: ControllerRaw,
}

impl Default for Controller {
    fn default() -> Self {
        Controller {
            max_len: u16::MAX,
            controller_id: 0,
            reason: PacketInReason::Action,
            meter_id: NX_CTLR_NO_METER,
            pause: false,
            userdata: Vec::new(),
            raw: ControllerRaw::Auto,
        }
    }
}

/// Hash fields for `bundle` and `multipath` (`enum nx_hash_fields`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u16)]
pub enum HashFields {
    EthSrc = 0,
    SymmetricL4 = 1,
    SymmetricL3L4 = 2,
    SymmetricL3L4Udp = 3,
    NwSrc = 4,
    NwDst = 5,
    SymmetricL3 = 6,
}

impl HashFields {
    const ALL: [HashFields; 7] = [
        Self::EthSrc,
        Self::SymmetricL4,
        Self::SymmetricL3L4,
        Self::SymmetricL3L4Udp,
        Self::NwSrc,
        Self::NwDst,
        Self::SymmetricL3,
    ];

    pub fn from_u16(v: u16) -> Option<Self> {
        Self::ALL.into_iter().find(|f| *f as u16 == v)
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::EthSrc => "eth_src",
            Self::SymmetricL4 => "symmetric_l4",
            Self::SymmetricL3L4 => "symmetric_l3l4",
            Self::SymmetricL3L4Udp => "symmetric_l3l4+udp",
            Self::NwSrc => "nw_src",
            Self::NwDst => "nw_dst",
            Self::SymmetricL3 => "symmetric_l3",
        }
    }

    pub fn from_name(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.name() == s)
    }
}

/// Bundle member selection algorithms (`enum nx_bd_algorithm`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u16)]
pub enum BundleAlgorithm {
    ActiveBackup = 0,
    Hrw = 1,
}

/// `bundle(...)` and `bundle_load(...)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bundle {
    pub algorithm: BundleAlgorithm,
    pub fields: HashFields,
    pub basis: u16,
    /// `Some` for `bundle_load`.
    pub dst: Option<Subfield>,
    pub members: Vec<OfpPort>,
}

/// Multipath algorithms (`enum nx_mp_algorithm`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u16)]
pub enum MultipathAlgorithm {
    ModuloN = 0,
    HashThreshold = 1,
    Hrw = 2,
    IterHash = 3,
}

impl MultipathAlgorithm {
    pub fn from_u16(v: u16) -> Option<Self> {
        Some(match v {
            0 => Self::ModuloN,
            1 => Self::HashThreshold,
            2 => Self::Hrw,
            3 => Self::IterHash,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::ModuloN => "modulo_n",
            Self::HashThreshold => "hash_threshold",
            Self::Hrw => "hrw",
            Self::IterHash => "iter_hash",
        }
    }
}

/// `multipath(fields,basis,algorithm,n_links,arg,dst)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Multipath {
    pub fields: HashFields,
    pub basis: u16,
    pub algorithm: MultipathAlgorithm,
    /// Number of links minus one.
    pub max_link: u16,
    pub arg: u32,
    pub dst: Subfield,
}

/// How a set-field action was written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum SetFieldRaw {
    /// `set_field:` (OFPAT_SET_FIELD)
    #[default]
    SetField,
    /// `load:` (NXAST_REG_LOAD)
    Load,
    /// NXAST_REG_LOAD2
    Load2,
}

/// Set (part of) a field to a constant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SetField {
    pub field: FieldId,
    /// Big-endian value, `field` width in bytes.
    pub value: Vec<u8>,
    /// Big-endian mask of the same length.
    pub mask: Vec<u8>,
    pub raw: SetFieldRaw,
    /// For `vlan_tci`: whether the flow had a VLAN header when the actions
    /// were checked, so that OpenFlow 1.1 needs no push_vlan before its
    /// set_vlan_vid (set by the consistency check).
    pub flow_has_vlan: bool,
}

/// How a move was encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum RegMoveRaw {
    /// NXAST_REG_MOVE / OFPAT_COPY_FIELD, chosen by version.
    #[default]
    Auto,
    /// ONFACT_COPY_FIELD (OpenFlow 1.3 extension).
    OnfCopyField,
}

/// `move:src->dst`
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegMove {
    pub src: Subfield,
    pub dst: Subfield,
    pub raw: RegMoveRaw,
}

/// Encap header properties (NSH only).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EncapProperty {
    /// `md_type=N`
    NshMdType(u8),
    /// `tlv(class,type,value)`
    NshTlv {
        class: u16,
        tlv_type: u8,
        value: Vec<u8>,
    },
}

/// `encap(header(props))`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Encap {
    /// Packet type (namespace << 16 | type).
    pub new_pkt_type: u32,
    pub props: Vec<EncapProperty>,
}

/// How a resubmit was encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ResubmitRaw {
    /// Choose the smallest encoding.
    #[default]
    Auto,
    /// NXAST_RESUBMIT
    Resubmit,
    /// NXAST_RESUBMIT_TABLE
    ResubmitTable,
    /// NXAST_RESUBMIT_TABLE_CT
    ResubmitTableCt,
}

/// `resubmit([port],[table][,ct])`; also `goto_table` on OpenFlow 1.0.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resubmit {
    /// `OfpPort::IN_PORT` means "the packet's in_port".
    pub in_port: OfpPort,
    /// 255 means "the current table".
    pub table_id: u8,
    pub with_ct_orig: bool,
    pub raw: ResubmitRaw,
}

/// `sample(...)` direction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[repr(u8)]
pub enum SampleDirection {
    #[default]
    Default = 0,
    Ingress = 1,
    Egress = 2,
}

/// How a sample action was encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum SampleRaw {
    #[default]
    Auto,
    Sample,
    Sample2,
    Sample3,
}

/// `sample(...)`
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sample {
    pub probability: u16,
    pub collector_set_id: u32,
    pub obs_domain_id: u32,
    pub obs_point_id: u32,
    pub sampling_port: OfpPort,
    pub direction: SampleDirection,
    pub raw: SampleRaw,
}

/// Connection-tracking flags (`NX_CT_F_*`).
pub const NX_CT_F_COMMIT: u16 = 1 << 0;
pub const NX_CT_F_FORCE: u16 = 1 << 1;

/// `ct(...)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ct {
    pub flags: u16,
    /// Immediate zone, used when `zone_src` is `None`.
    pub zone_imm: u16,
    pub zone_src: Option<Subfield>,
    /// 255 means "no recirculation".
    pub recirc_table: u8,
    pub alg: u16,
    pub actions: Vec<OfpAction>,
}

impl Default for Ct {
    fn default() -> Self {
        Ct {
            flags: 0,
            zone_imm: 0,
            zone_src: None,
            recirc_table: 255,
            alg: 0,
            actions: Vec::new(),
        }
    }
}

/// NAT flags (`NX_NAT_F_*`).
pub const NX_NAT_F_SRC: u16 = 1 << 0;
pub const NX_NAT_F_DST: u16 = 1 << 1;
pub const NX_NAT_F_PERSISTENT: u16 = 1 << 2;
pub const NX_NAT_F_PROTO_HASH: u16 = 1 << 3;
pub const NX_NAT_F_PROTO_RANDOM: u16 = 1 << 4;
pub const NX_NAT_F_MASK: u16 = 0x1f;

/// NAT address range (zero addresses mean "absent", as upstream).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub enum NatAddrRange {
    #[default]
    None,
    V4 {
        min: Ipv4Addr,
        max: Ipv4Addr,
    },
    V6 {
        min: Ipv6Addr,
        max: Ipv6Addr,
    },
}

/// `nat(...)` inside `ct(...)`.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Nat {
    pub flags: u16,
    pub addr: NatAddrRange,
    /// 0 means absent.
    pub proto_min: u16,
    /// 0 means absent.
    pub proto_max: u16,
}

/// Learn flags (`NX_LEARN_F_*`).
pub const NX_LEARN_F_SEND_FLOW_REM: u16 = 1 << 0;
pub const NX_LEARN_F_DELETE_LEARNED: u16 = 1 << 1;
pub const NX_LEARN_F_WRITE_RESULT: u16 = 1 << 2;

/// Source of a learn spec value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LearnSrc {
    Field(Subfield),
    /// Big-endian immediate of exactly `ceil(n_bits/8)` bytes... stored as the
    /// minimal 2-byte-aligned big-endian value from the wire.
    Immediate(Vec<u8>),
}

/// Destination of a learn spec.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LearnDst {
    Match(Subfield),
    Load(Subfield),
    Output,
}

/// One flow_mod_spec of `learn(...)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LearnSpec {
    pub n_bits: u16,
    pub src: LearnSrc,
    pub dst: LearnDst,
}

/// How a learn action was encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum LearnRaw {
    #[default]
    Auto,
    Learn,
    Learn2,
}

/// `learn(...)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Learn {
    pub idle_timeout: u16,
    pub hard_timeout: u16,
    pub priority: u16,
    pub cookie: u64,
    pub flags: u16,
    pub table_id: u8,
    pub fin_idle_timeout: u16,
    pub fin_hard_timeout: u16,
    pub limit: u32,
    pub result_dst: Option<Subfield>,
    pub specs: Vec<LearnSpec>,
    pub raw: LearnRaw,
}

impl Default for Learn {
    fn default() -> Self {
        Learn {
            idle_timeout: 0,
            hard_timeout: 0,
            priority: 0x8000,
            cookie: 0,
            flags: 0,
            table_id: 1,
            fin_idle_timeout: 0,
            fin_hard_timeout: 0,
            limit: 0,
            result_dst: None,
            specs: Vec::new(),
            raw: LearnRaw::Auto,
        }
    }
}

impl OfpAction {
    /// Whether this is an instruction (as opposed to an action in an
    /// apply-actions list).
    pub fn instruction_type(&self) -> Option<InstructionType> {
        Some(match self {
            OfpAction::Meter(_) => InstructionType::Meter,
            OfpAction::ClearActions => InstructionType::ClearActions,
            OfpAction::WriteActions(_) => InstructionType::WriteActions,
            OfpAction::WriteMetadata { .. } => InstructionType::WriteMetadata,
            OfpAction::GotoTable(_) => InstructionType::GotoTable,
            _ => return None,
        })
    }

    /// The nested action list, for actions that contain one.
    pub fn nested(&self) -> Option<&[OfpAction]> {
        match self {
            OfpAction::Clone(a) | OfpAction::WriteActions(a) => Some(a),
            OfpAction::Ct(ct) => Some(&ct.actions),
            _ => None,
        }
    }
}

/// OpenFlow instruction types, in the order they must appear in text and the
/// order they execute (`enum ovs_instruction_type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum InstructionType {
    Meter,
    ApplyActions,
    ClearActions,
    WriteActions,
    WriteMetadata,
    GotoTable,
}

impl InstructionType {
    /// Name used in text and in messages.
    pub fn name(self) -> &'static str {
        match self {
            Self::Meter => "meter",
            Self::ApplyActions => "apply_actions",
            Self::ClearActions => "clear_actions",
            Self::WriteActions => "write_actions",
            Self::WriteMetadata => "write_metadata",
            Self::GotoTable => "goto_table",
        }
    }

    /// OpenFlow 1.1+ `OFPIT_*` code.
    pub fn ofpit(self) -> u16 {
        match self {
            Self::GotoTable => 1,
            Self::WriteMetadata => 2,
            Self::WriteActions => 3,
            Self::ApplyActions => 4,
            Self::ClearActions => 5,
            Self::Meter => 6,
        }
    }

    pub fn from_ofpit(v: u16) -> Option<Self> {
        Some(match v {
            1 => Self::GotoTable,
            2 => Self::WriteMetadata,
            3 => Self::WriteActions,
            4 => Self::ApplyActions,
            5 => Self::ClearActions,
            6 => Self::Meter,
            _ => return None,
        })
    }

    pub fn from_name(s: &str) -> Option<Self> {
        [
            Self::Meter,
            Self::ApplyActions,
            Self::ClearActions,
            Self::WriteActions,
            Self::WriteMetadata,
            Self::GotoTable,
        ]
        .into_iter()
        .find(|t| t.name() == s)
    }
}
