//! The table of wire action types ("raw actions"): for each OpenFlow
//! version, which standard `OFPAT_*`, Nicira `NXAST_*` or ONF `ONFACT_*`
//! code an action has, its name in messages, and its allowed lengths.
//! Decoding looks a code up here; encoding looks the code for a version up.

use super::OfpVersion;

/// Nicira vendor/experimenter ID.
pub const NX_VENDOR_ID: u32 = 0x0000_2320;
/// Open Networking Foundation experimenter ID.
pub const ONF_VENDOR_ID: u32 = 0x4f4e_4600;
/// Largest action length (a multiple of 8 that fits in 16 bits).
pub const VAR_LEN: u16 = 0xfff8;

/// A wire action kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Raw {
    Output10,
    Output11,
    SetVlanVid10,
    SetVlanPcp10,
    SetVlanVid11,
    SetVlanPcp11,
    PushVlan,
    StripVlan10,
    PopVlan11,
    SetDlSrc,
    SetDlDst,
    SetNwSrc,
    SetNwDst,
    SetNwTos,
    SetNwEcn11,
    SetTpSrc,
    SetTpDst,
    Enqueue10,
    SetMplsLabel,
    SetMplsTc,
    SetMplsTtl,
    DecMplsTtl,
    PushMpls,
    PopMpls,
    SetQueue,
    Group,
    SetNwTtl11,
    DecNwTtl,
    SetField12,
    SetField15,
    CopyField15,
    Meter15,
    NxResubmit,
    NxSetTunnel,
    NxPopQueue,
    NxRegMove,
    NxRegLoad,
    NxNote,
    NxSetTunnel64,
    NxMultipath,
    NxBundle,
    NxBundleLoad,
    NxResubmitTable,
    NxOutputReg,
    NxLearn,
    NxExit,
    NxFinTimeout,
    NxController,
    NxDecTtlCntIds,
    NxWriteMetadata,
    NxStackPush,
    NxStackPop,
    NxSample,
    NxOutputReg2,
    NxRegLoad2,
    NxConjunction,
    NxCt,
    NxNat,
    NxController2,
    NxSample2,
    NxOutputTrunc,
    NxSample3,
    NxClone,
    NxCtClear,
    NxResubmitTableCt,
    NxLearn2,
    NxEncap,
    NxDecap,
    NxDecNshTtl,
    NxCheckPktLarger,
    NxDeleteField,
    NxDebugSlow,
    NxDebugRecirc,
    OnfCopyField,
}

/// One row: a raw action's code in a range of versions.
pub struct RawInfo {
    pub raw: Raw,
    pub name: &'static str,
    /// 0 for standard actions.
    pub vendor: u32,
    pub ty: u16,
    pub min_version: OfpVersion,
    pub max_version: OfpVersion,
    pub min_len: u16,
    pub max_len: u16,
    /// Versions from which this code is deprecated, with the advice.
    pub deprecated_from: Option<OfpVersion>,
}

use OfpVersion::*;
use Raw::*;

macro_rules! row {
    ($raw:ident, $name:expr, $vendor:expr, $ty:expr, $minv:ident, $maxv:ident, $min:expr, $max:expr) => {
        RawInfo {
            raw: $raw,
            name: $name,
            vendor: $vendor,
            ty: $ty,
            min_version: $minv,
            max_version: $maxv,
            min_len: $min,
            max_len: $max,
            deprecated_from: None,
        }
    };
    ($raw:ident, $name:expr, $vendor:expr, $ty:expr, $minv:ident, $maxv:ident, $min:expr, $max:expr, dep $dep:ident) => {
        RawInfo {
            raw: $raw,
            name: $name,
            vendor: $vendor,
            ty: $ty,
            min_version: $minv,
            max_version: $maxv,
            min_len: $min,
            max_len: $max,
            deprecated_from: Some($dep),
        }
    };
}

const NX: u32 = NX_VENDOR_ID;
const ONF: u32 = ONF_VENDOR_ID;

/// Every raw action code.
pub static RAW_ACTIONS: &[RawInfo] = &[
    row!(Output10, "OFPAT_OUTPUT", 0, 0, Of10, Of10, 8, 8),
    row!(Output11, "OFPAT_OUTPUT", 0, 0, Of11, Of15, 16, 16),
    row!(SetVlanVid10, "OFPAT_SET_VLAN_VID", 0, 1, Of10, Of10, 8, 8),
    row!(SetVlanPcp10, "OFPAT_SET_VLAN_PCP", 0, 2, Of10, Of10, 8, 8),
    row!(SetVlanVid11, "OFPAT_SET_VLAN_VID", 0, 1, Of11, Of15, 8, 8, dep Of12),
    row!(SetVlanPcp11, "OFPAT_SET_VLAN_PCP", 0, 2, Of11, Of15, 8, 8, dep Of12),
    row!(PushVlan, "OFPAT_PUSH_VLAN", 0, 17, Of11, Of15, 8, 8),
    row!(StripVlan10, "OFPAT_STRIP_VLAN", 0, 3, Of10, Of10, 8, 8),
    row!(PopVlan11, "OFPAT_POP_VLAN", 0, 18, Of11, Of15, 8, 8),
    row!(SetDlSrc, "OFPAT_SET_DL_SRC", 0, 4, Of10, Of10, 16, 16),
    row!(SetDlSrc, "OFPAT_SET_DL_SRC", 0, 3, Of11, Of15, 16, 16, dep Of12),
    row!(SetDlDst, "OFPAT_SET_DL_DST", 0, 5, Of10, Of10, 16, 16),
    row!(SetDlDst, "OFPAT_SET_DL_DST", 0, 4, Of11, Of15, 16, 16, dep Of12),
    row!(SetNwSrc, "OFPAT_SET_NW_SRC", 0, 6, Of10, Of10, 8, 8),
    row!(SetNwSrc, "OFPAT_SET_NW_SRC", 0, 5, Of11, Of15, 8, 8, dep Of12),
    row!(SetNwDst, "OFPAT_SET_NW_DST", 0, 7, Of10, Of10, 8, 8),
    row!(SetNwDst, "OFPAT_SET_NW_DST", 0, 6, Of11, Of15, 8, 8, dep Of12),
    row!(SetNwTos, "OFPAT_SET_NW_TOS", 0, 8, Of10, Of10, 8, 8),
    row!(SetNwTos, "OFPAT_SET_NW_TOS", 0, 7, Of11, Of15, 8, 8, dep Of12),
    row!(SetNwEcn11, "OFPAT_SET_NW_ECN", 0, 8, Of11, Of15, 8, 8, dep Of12),
    row!(SetTpSrc, "OFPAT_SET_TP_SRC", 0, 9, Of10, Of10, 8, 8),
    row!(SetTpSrc, "OFPAT_SET_TP_SRC", 0, 9, Of11, Of15, 8, 8, dep Of12),
    row!(SetTpDst, "OFPAT_SET_TP_DST", 0, 10, Of10, Of10, 8, 8),
    row!(SetTpDst, "OFPAT_SET_TP_DST", 0, 10, Of11, Of15, 8, 8, dep Of12),
    row!(Enqueue10, "OFPAT_ENQUEUE", 0, 11, Of10, Of10, 16, 16),
    row!(
        SetMplsLabel,
        "NXAST_SET_MPLS_LABEL",
        NX,
        30,
        Of10,
        Of10,
        16,
        16
    ),
    row!(SetMplsLabel, "OFPAT_SET_MPLS_LABEL", 0, 13, Of11, Of15, 8, 8, dep Of12),
    row!(SetMplsTc, "NXAST_SET_MPLS_TC", NX, 31, Of10, Of10, 16, 16),
    row!(SetMplsTc, "OFPAT_SET_MPLS_TC", 0, 14, Of11, Of15, 8, 8, dep Of12),
    row!(SetMplsTtl, "NXAST_SET_MPLS_TTL", NX, 25, Of10, Of10, 16, 16),
    row!(SetMplsTtl, "OFPAT_SET_MPLS_TTL", 0, 15, Of11, Of15, 8, 8, dep Of12),
    row!(DecMplsTtl, "NXAST_DEC_MPLS_TTL", NX, 26, Of10, Of10, 16, 16),
    row!(DecMplsTtl, "OFPAT_DEC_MPLS_TTL", 0, 16, Of11, Of15, 8, 8),
    row!(PushMpls, "NXAST_PUSH_MPLS", NX, 23, Of10, Of10, 16, 16),
    row!(PushMpls, "OFPAT_PUSH_MPLS", 0, 19, Of11, Of15, 8, 8),
    row!(PopMpls, "NXAST_POP_MPLS", NX, 24, Of10, Of10, 16, 16),
    row!(PopMpls, "OFPAT_POP_MPLS", 0, 20, Of11, Of15, 8, 8),
    row!(SetQueue, "NXAST_SET_QUEUE", NX, 4, Of10, Of10, 16, 16),
    row!(SetQueue, "OFPAT_SET_QUEUE", 0, 21, Of11, Of15, 8, 8),
    row!(Group, "NXAST_GROUP", NX, 40, Of10, Of10, 16, 16),
    row!(Group, "OFPAT_GROUP", 0, 22, Of11, Of15, 8, 8),
    row!(SetNwTtl11, "OFPAT_SET_NW_TTL", 0, 23, Of11, Of15, 8, 8),
    row!(DecNwTtl, "NXAST_DEC_TTL", NX, 18, Of10, Of10, 16, 16),
    row!(DecNwTtl, "OFPAT_DEC_NW_TTL", 0, 24, Of11, Of15, 8, 8),
    row!(SetField12, "OFPAT_SET_FIELD", 0, 25, Of12, Of14, 8, VAR_LEN),
    row!(SetField15, "OFPAT_SET_FIELD", 0, 25, Of15, Of15, 8, VAR_LEN),
    row!(
        CopyField15,
        "OFPAT_COPY_FIELD",
        0,
        28,
        Of15,
        Of15,
        12,
        VAR_LEN
    ),
    row!(Meter15, "OFPAT_METER", 0, 29, Of15, Of15, 8, 8),
    row!(NxResubmit, "NXAST_RESUBMIT", NX, 1, Of10, Of15, 16, 16),
    row!(NxSetTunnel, "NXAST_SET_TUNNEL", NX, 2, Of10, Of15, 16, 16),
    row!(NxPopQueue, "NXAST_POP_QUEUE", NX, 5, Of10, Of15, 16, 16),
    row!(NxRegMove, "NXAST_REG_MOVE", NX, 6, Of10, Of14, 16, VAR_LEN),
    row!(NxRegLoad, "NXAST_REG_LOAD", NX, 7, Of10, Of14, 24, 24),
    row!(NxNote, "NXAST_NOTE", NX, 8, Of10, Of15, 16, VAR_LEN),
    row!(
        NxSetTunnel64,
        "NXAST_SET_TUNNEL64",
        NX,
        9,
        Of10,
        Of15,
        24,
        24
    ),
    row!(NxMultipath, "NXAST_MULTIPATH", NX, 10, Of10, Of15, 32, 32),
    row!(NxBundle, "NXAST_BUNDLE", NX, 12, Of10, Of15, 32, VAR_LEN),
    row!(
        NxBundleLoad,
        "NXAST_BUNDLE_LOAD",
        NX,
        13,
        Of10,
        Of15,
        32,
        VAR_LEN
    ),
    row!(
        NxResubmitTable,
        "NXAST_RESUBMIT_TABLE",
        NX,
        14,
        Of10,
        Of15,
        16,
        16
    ),
    row!(NxOutputReg, "NXAST_OUTPUT_REG", NX, 15, Of10, Of15, 24, 24),
    row!(NxLearn, "NXAST_LEARN", NX, 16, Of10, Of15, 32, VAR_LEN),
    row!(NxExit, "NXAST_EXIT", NX, 17, Of10, Of15, 16, 16),
    row!(
        NxFinTimeout,
        "NXAST_FIN_TIMEOUT",
        NX,
        19,
        Of10,
        Of15,
        16,
        16
    ),
    row!(NxController, "NXAST_CONTROLLER", NX, 20, Of10, Of15, 16, 16),
    row!(
        NxDecTtlCntIds,
        "NXAST_DEC_TTL_CNT_IDS",
        NX,
        21,
        Of10,
        Of15,
        16,
        VAR_LEN
    ),
    row!(
        NxWriteMetadata,
        "NXAST_WRITE_METADATA",
        NX,
        22,
        Of10,
        Of15,
        32,
        32
    ),
    row!(NxStackPush, "NXAST_STACK_PUSH", NX, 27, Of10, Of15, 24, 24),
    row!(NxStackPop, "NXAST_STACK_POP", NX, 28, Of10, Of15, 24, 24),
    row!(NxSample, "NXAST_SAMPLE", NX, 29, Of10, Of15, 24, 24),
    row!(
        NxOutputReg2,
        "NXAST_OUTPUT_REG2",
        NX,
        32,
        Of10,
        Of15,
        24,
        VAR_LEN
    ),
    row!(
        NxRegLoad2,
        "NXAST_REG_LOAD2",
        NX,
        33,
        Of10,
        Of14,
        16,
        VAR_LEN
    ),
    row!(
        NxConjunction,
        "NXAST_CONJUNCTION",
        NX,
        34,
        Of10,
        Of15,
        16,
        16
    ),
    row!(NxCt, "NXAST_CT", NX, 35, Of10, Of15, 24, VAR_LEN),
    row!(NxNat, "NXAST_NAT", NX, 36, Of10, Of15, 16, VAR_LEN),
    row!(
        NxController2,
        "NXAST_CONTROLLER2",
        NX,
        37,
        Of10,
        Of15,
        16,
        VAR_LEN
    ),
    row!(NxSample2, "NXAST_SAMPLE2", NX, 38, Of10, Of15, 32, 32),
    row!(
        NxOutputTrunc,
        "NXAST_OUTPUT_TRUNC",
        NX,
        39,
        Of10,
        Of15,
        16,
        16
    ),
    row!(NxSample3, "NXAST_SAMPLE3", NX, 41, Of10, Of15, 32, 32),
    row!(NxClone, "NXAST_CLONE", NX, 42, Of10, Of15, 16, VAR_LEN),
    row!(NxCtClear, "NXAST_CT_CLEAR", NX, 43, Of10, Of15, 16, 16),
    row!(
        NxResubmitTableCt,
        "NXAST_RESUBMIT_TABLE_CT",
        NX,
        44,
        Of10,
        Of15,
        16,
        16
    ),
    row!(NxLearn2, "NXAST_LEARN2", NX, 45, Of10, Of15, 40, VAR_LEN),
    row!(NxEncap, "NXAST_ENCAP", NX, 46, Of13, Of15, 16, VAR_LEN),
    row!(NxDecap, "NXAST_DECAP", NX, 47, Of13, Of15, 16, 16),
    row!(NxDecNshTtl, "NXAST_DEC_NSH_TTL", NX, 48, Of13, Of15, 16, 16),
    row!(
        NxCheckPktLarger,
        "NXAST_CHECK_PKT_LARGER",
        NX,
        49,
        Of10,
        Of15,
        24,
        24
    ),
    row!(
        NxDeleteField,
        "NXAST_DELETE_FIELD",
        NX,
        50,
        Of10,
        Of15,
        24,
        24
    ),
    row!(NxDebugSlow, "NXAST_DEBUG_SLOW", NX, 254, Of10, Of15, 16, 16),
    row!(
        NxDebugRecirc,
        "NXAST_DEBUG_RECIRC",
        NX,
        255,
        Of10,
        Of15,
        16,
        16
    ),
    row!(
        OnfCopyField,
        "ONFACT_COPY_FIELD",
        ONF,
        3200,
        Of13,
        Of14,
        20,
        VAR_LEN
    ),
];

/// The row for code (`vendor`, `ty`) in `version`.
pub fn lookup(version: OfpVersion, vendor: u32, ty: u16) -> Option<&'static RawInfo> {
    RAW_ACTIONS.iter().find(|r| {
        r.vendor == vendor && r.ty == ty && r.min_version <= version && version <= r.max_version
    })
}

/// The row that encodes `raw` in `version`, if that version has one.
pub fn for_version(raw: Raw, version: OfpVersion) -> Option<&'static RawInfo> {
    RAW_ACTIONS
        .iter()
        .find(|r| r.raw == raw && r.min_version <= version && version <= r.max_version)
}

/// Header size of an action of this row (where its arguments start).
pub fn header_len(info: &RawInfo) -> usize {
    if info.vendor == 0 {
        4
    } else {
        10
    }
}
