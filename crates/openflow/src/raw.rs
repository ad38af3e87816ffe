//! The message registry: every concrete OpenFlow message layout ("raw"
//! message, upstream's `enum ofpraw`) with its header form, the versions it
//! exists in, its printed name and the shape of its body; and the decoding of
//! message headers into raws, with upstream's length checks and warnings.

use crate::errors::{OfpErr, NX_VENDOR_ID, ONF_VENDOR_ID};

/// How a raw message is identified in its headers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    /// Standard message: `ofp_header.type`.
    T(u8),
    /// Standard multipart request (`false`) or reply (`true`) with stat type.
    St(u16, bool),
    /// Nicira extension message with subtype.
    Nxt(u32),
    /// ONF extension message with subtype.
    Onft(u32),
    /// Nicira multipart request/reply with subtype.
    Nxst(u32, bool),
    /// ONF multipart request/reply with subtype.
    Onfst(u32, bool),
}

/// Static facts about one raw message.
#[derive(Clone, Copy, Debug)]
pub struct RawInfo {
    pub raw: OfpRaw,
    /// Upstream's identifier without `OFPRAW_`, e.g. `OFPT14_BUNDLE_ADD_MESSAGE`.
    pub ident: &'static str,
    /// The printed name, e.g. `OFPST_PORT reply`.
    pub name: &'static str,
    pub class: Class,
    /// Lowest and highest version byte.
    pub min_version: u8,
    pub max_version: u8,
    /// Fixed body bytes after the headers.
    pub min_body: usize,
    /// 0: body is exactly `min_body`; n: body may grow by multiples of n.
    pub extra_multiple: usize,
}

const ALL: (u8, u8) = (1, 255);

macro_rules! raws {
    ($($id:ident: $name:literal, $class:expr, $vers:expr, $min:expr, $mult:expr;)*) => {
        /// A concrete message layout (upstream's `enum ofpraw`).
        #[allow(non_camel_case_types)]
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum OfpRaw { $($id,)* }

        /// Every raw message.
        pub static RAWS: &[RawInfo] = &[$(RawInfo {
            raw: OfpRaw::$id,
            ident: stringify!($id),
            name: $name,
            class: $class,
            min_version: $vers.0,
            max_version: $vers.1,
            min_body: $min,
            extra_multiple: $mult,
        },)*];
    };
}

use Class::*;

const fn v(lo: u8, hi: u8) -> (u8, u8) {
    (lo + 1, hi + 1)
}
/// `1.lo+`
const fn from(lo: u8) -> (u8, u8) {
    (lo + 1, 6)
}

raws! {
    OFPT_HELLO: "OFPT_HELLO", T(0), ALL, 0, 1;
    OFPT_ERROR: "OFPT_ERROR", T(1), ALL, 4, 1;
    OFPT_ECHO_REQUEST: "OFPT_ECHO_REQUEST", T(2), ALL, 0, 1;
    OFPT_ECHO_REPLY: "OFPT_ECHO_REPLY", T(3), ALL, 0, 1;
    OFPT_FEATURES_REQUEST: "OFPT_FEATURES_REQUEST", T(5), from(0), 0, 0;
    OFPT10_FEATURES_REPLY: "OFPT_FEATURES_REPLY", T(6), v(0, 0), 24, 48;
    OFPT11_FEATURES_REPLY: "OFPT_FEATURES_REPLY", T(6), v(1, 2), 24, 64;
    OFPT13_FEATURES_REPLY: "OFPT_FEATURES_REPLY", T(6), from(3), 24, 0;
    OFPT_GET_CONFIG_REQUEST: "OFPT_GET_CONFIG_REQUEST", T(7), from(0), 0, 0;
    OFPT_GET_CONFIG_REPLY: "OFPT_GET_CONFIG_REPLY", T(8), from(0), 4, 0;
    OFPT_SET_CONFIG: "OFPT_SET_CONFIG", T(9), from(0), 4, 0;
    OFPT10_PACKET_IN: "OFPT_PACKET_IN", T(10), v(0, 0), 10, 1;
    OFPT11_PACKET_IN: "OFPT_PACKET_IN", T(10), v(1, 1), 16, 1;
    OFPT12_PACKET_IN: "OFPT_PACKET_IN", T(10), v(2, 2), 8, 1;
    OFPT13_PACKET_IN: "OFPT_PACKET_IN", T(10), from(3), 16, 1;
    NXT_PACKET_IN: "NXT_PACKET_IN", Nxt(17), from(0), 24, 1;
    NXT_PACKET_IN2: "NXT_PACKET_IN2", Nxt(30), from(0), 0, 8;
    OFPT10_FLOW_REMOVED: "OFPT_FLOW_REMOVED", T(11), v(0, 0), 80, 0;
    OFPT11_FLOW_REMOVED: "OFPT_FLOW_REMOVED", T(11), v(1, 4), 40, 8;
    OFPT15_FLOW_REMOVED: "OFPT_FLOW_REMOVED", T(11), from(5), 16, 8;
    NXT_FLOW_REMOVED: "NXT_FLOW_REMOVED", Nxt(14), from(0), 40, 8;
    OFPT10_PORT_STATUS: "OFPT_PORT_STATUS", T(12), v(0, 0), 56, 0;
    OFPT11_PORT_STATUS: "OFPT_PORT_STATUS", T(12), v(1, 3), 72, 0;
    OFPT14_PORT_STATUS: "OFPT_PORT_STATUS", T(12), from(4), 48, 8;
    OFPT10_PACKET_OUT: "OFPT_PACKET_OUT", T(13), v(0, 0), 8, 1;
    OFPT11_PACKET_OUT: "OFPT_PACKET_OUT", T(13), v(1, 4), 16, 1;
    OFPT15_PACKET_OUT: "OFPT_PACKET_OUT", T(13), from(5), 8, 1;
    OFPT10_FLOW_MOD: "OFPT_FLOW_MOD", T(14), v(0, 0), 64, 8;
    OFPT11_FLOW_MOD: "OFPT_FLOW_MOD", T(14), from(1), 40, 8;
    NXT_FLOW_MOD: "NXT_FLOW_MOD", Nxt(13), from(0), 32, 8;
    NXT_GROUP_MOD: "NXT_GROUP_MOD", Nxt(31), v(0, 0), 16, 8;
    OFPT11_GROUP_MOD: "OFPT_GROUP_MOD", T(15), v(1, 4), 8, 8;
    OFPT15_GROUP_MOD: "OFPT_GROUP_MOD", T(15), from(5), 16, 8;
    OFPT10_PORT_MOD: "OFPT_PORT_MOD", T(15), v(0, 0), 24, 0;
    OFPT11_PORT_MOD: "OFPT_PORT_MOD", T(16), v(1, 3), 32, 0;
    OFPT14_PORT_MOD: "OFPT_PORT_MOD", T(16), from(4), 24, 8;
    OFPT11_TABLE_MOD: "OFPT_TABLE_MOD", T(17), v(1, 3), 8, 0;
    OFPT14_TABLE_MOD: "OFPT_TABLE_MOD", T(17), from(4), 8, 8;
    OFPT10_BARRIER_REQUEST: "OFPT_BARRIER_REQUEST", T(18), v(0, 0), 0, 0;
    OFPT11_BARRIER_REQUEST: "OFPT_BARRIER_REQUEST", T(20), from(1), 0, 0;
    OFPT10_BARRIER_REPLY: "OFPT_BARRIER_REPLY", T(19), v(0, 0), 0, 0;
    OFPT11_BARRIER_REPLY: "OFPT_BARRIER_REPLY", T(21), from(1), 0, 0;
    OFPT10_QUEUE_GET_CONFIG_REQUEST: "OFPT_QUEUE_GET_CONFIG_REQUEST", T(20), v(0, 0), 4, 0;
    OFPT11_QUEUE_GET_CONFIG_REQUEST: "OFPT_QUEUE_GET_CONFIG_REQUEST", T(22), v(1, 3), 8, 0;
    OFPT10_QUEUE_GET_CONFIG_REPLY: "OFPT_QUEUE_GET_CONFIG_REPLY", T(21), v(0, 0), 8, 8;
    OFPT11_QUEUE_GET_CONFIG_REPLY: "OFPT_QUEUE_GET_CONFIG_REPLY", T(23), v(1, 3), 8, 8;
    OFPT12_ROLE_REQUEST: "OFPT_ROLE_REQUEST", T(24), from(2), 16, 0;
    NXT_ROLE_REQUEST: "NXT_ROLE_REQUEST", Nxt(10), from(0), 4, 0;
    OFPT12_ROLE_REPLY: "OFPT_ROLE_REPLY", T(25), from(2), 16, 0;
    NXT_ROLE_REPLY: "NXT_ROLE_REPLY", Nxt(11), from(0), 4, 0;
    OFPT13_GET_ASYNC_REQUEST: "OFPT_GET_ASYNC_REQUEST", T(26), v(3, 3), 0, 0;
    OFPT14_GET_ASYNC_REQUEST: "OFPT_GET_ASYNC_REQUEST", T(26), from(4), 0, 0;
    OFPT13_GET_ASYNC_REPLY: "OFPT_GET_ASYNC_REPLY", T(27), v(3, 3), 24, 0;
    OFPT14_GET_ASYNC_REPLY: "OFPT_GET_ASYNC_REPLY", T(27), from(4), 0, 8;
    OFPT13_SET_ASYNC: "OFPT_SET_ASYNC", T(28), v(3, 3), 24, 0;
    NXT_SET_ASYNC_CONFIG: "NXT_SET_ASYNC_CONFIG", Nxt(19), from(0), 24, 0;
    NXT_SET_ASYNC_CONFIG2: "NXT_SET_ASYNC_CONFIG2", Nxt(27), v(0, 3), 0, 8;
    OFPT14_SET_ASYNC: "OFPT_SET_ASYNC", T(28), from(4), 0, 8;
    OFPT13_METER_MOD: "OFPT_METER_MOD", T(29), from(3), 8, 8;
    ONFT13_ROLE_STATUS: "ONFT_ROLE_STATUS", Onft(1911), v(3, 3), 16, 8;
    OFPT14_ROLE_STATUS: "OFPT_ROLE_STATUS", T(30), from(4), 16, 8;
    OFPT14_TABLE_STATUS: "OFPT_TABLE_STATUS", T(31), from(4), 8, 8;
    NXT_REQUESTFORWARD: "NXT_REQUESTFORWARD", Nxt(132), v(0, 2), 8, 8;
    ONFT13_REQUESTFORWARD: "ONFT_REQUESTFORWARD", Onft(2350), v(3, 3), 8, 8;
    OFPT14_REQUESTFORWARD: "OFPT_REQUESTFORWARD", T(32), from(4), 8, 8;
    OFPT14_BUNDLE_CONTROL: "OFPT_BUNDLE_CONTROL", T(33), from(4), 8, 8;
    ONFT13_BUNDLE_CONTROL: "ONFT_BUNDLE_CONTROL", Onft(2300), v(3, 3), 8, 8;
    OFPT14_BUNDLE_ADD_MESSAGE: "OFPT_BUNDLE_ADD_MESSAGE", T(34), from(4), 8, 1;
    ONFT13_BUNDLE_ADD_MESSAGE: "ONFT_BUNDLE_ADD_MESSAGE", Onft(2301), v(3, 3), 8, 1;
    OFPST_DESC_REQUEST: "OFPST_DESC request", St(0, false), from(0), 0, 0;
    OFPST_DESC_REPLY: "OFPST_DESC reply", St(0, true), from(0), 1056, 0;
    OFPST10_FLOW_REQUEST: "OFPST_FLOW request", St(1, false), v(0, 0), 44, 0;
    OFPST11_FLOW_REQUEST: "OFPST_FLOW request", St(1, false), from(1), 32, 8;
    NXST_FLOW_REQUEST: "NXST_FLOW request", Nxst(0, false), v(0, 0), 8, 8;
    OFPST10_FLOW_REPLY: "OFPST_FLOW reply", St(1, true), v(0, 0), 0, 1;
    OFPST11_FLOW_REPLY: "OFPST_FLOW reply", St(1, true), v(1, 2), 0, 1;
    OFPST13_FLOW_REPLY: "OFPST_FLOW reply", St(1, true), v(3, 4), 0, 1;
    OFPST15_FLOW_REPLY: "OFPST_FLOW reply", St(1, true), from(5), 0, 1;
    NXST_FLOW_REPLY: "NXST_FLOW reply", Nxst(0, true), v(0, 0), 0, 1;
    OFPST10_AGGREGATE_REQUEST: "OFPST_AGGREGATE request", St(2, false), v(0, 0), 44, 0;
    OFPST11_AGGREGATE_REQUEST: "OFPST_AGGREGATE request", St(2, false), v(1, 4), 32, 8;
    OFPST15_AGGREGATE_REQUEST: "OFPST_AGGREGATE request", St(2, false), from(5), 32, 8;
    NXST_AGGREGATE_REQUEST: "NXST_AGGREGATE request", Nxst(1, false), v(0, 0), 8, 8;
    OFPST_AGGREGATE_REPLY: "OFPST_AGGREGATE reply", St(2, true), v(0, 4), 24, 0;
    OFPST15_AGGREGATE_REPLY: "OFPST_AGGREGATE reply", St(2, true), from(5), 0, 1;
    NXST_AGGREGATE_REPLY: "NXST_AGGREGATE reply", Nxst(1, true), v(0, 0), 24, 0;
    OFPST_TABLE_REQUEST: "OFPST_TABLE request", St(3, false), from(0), 0, 0;
    OFPST10_TABLE_REPLY: "OFPST_TABLE reply", St(3, true), v(0, 0), 0, 64;
    OFPST11_TABLE_REPLY: "OFPST_TABLE reply", St(3, true), v(1, 1), 0, 88;
    OFPST12_TABLE_REPLY: "OFPST_TABLE reply", St(3, true), v(2, 2), 0, 128;
    OFPST13_TABLE_REPLY: "OFPST_TABLE reply", St(3, true), from(3), 0, 24;
    OFPST10_PORT_REQUEST: "OFPST_PORT request", St(4, false), v(0, 0), 8, 0;
    OFPST11_PORT_REQUEST: "OFPST_PORT request", St(4, false), from(1), 8, 0;
    OFPST10_PORT_REPLY: "OFPST_PORT reply", St(4, true), v(0, 0), 0, 104;
    OFPST11_PORT_REPLY: "OFPST_PORT reply", St(4, true), v(1, 2), 0, 104;
    OFPST13_PORT_REPLY: "OFPST_PORT reply", St(4, true), v(3, 3), 0, 112;
    OFPST14_PORT_REPLY: "OFPST_PORT reply", St(4, true), from(4), 0, 8;
    OFPST10_QUEUE_REQUEST: "OFPST_QUEUE request", St(5, false), v(0, 0), 8, 0;
    OFPST11_QUEUE_REQUEST: "OFPST_QUEUE request", St(5, false), from(1), 8, 0;
    OFPST10_QUEUE_REPLY: "OFPST_QUEUE reply", St(5, true), v(0, 0), 0, 32;
    OFPST11_QUEUE_REPLY: "OFPST_QUEUE reply", St(5, true), v(1, 2), 0, 32;
    OFPST13_QUEUE_REPLY: "OFPST_QUEUE reply", St(5, true), v(3, 3), 0, 40;
    OFPST14_QUEUE_REPLY: "OFPST_QUEUE reply", St(5, true), from(4), 0, 8;
    NXST_GROUP_REQUEST: "NXST_GROUP request", Nxst(7, false), v(0, 0), 8, 0;
    OFPST11_GROUP_REQUEST: "OFPST_GROUP request", St(6, false), from(1), 8, 0;
    NXST_GROUP_REPLY: "NXST_GROUP reply", Nxst(7, true), v(0, 0), 0, 8;
    OFPST11_GROUP_REPLY: "OFPST_GROUP reply", St(6, true), v(1, 2), 0, 8;
    OFPST13_GROUP_REPLY: "OFPST_GROUP reply", St(6, true), from(3), 0, 8;
    NXST_GROUP_DESC_REQUEST: "NXST_GROUP_DESC request", Nxst(8, false), v(0, 0), 8, 0;
    OFPST11_GROUP_DESC_REQUEST: "OFPST_GROUP_DESC request", St(7, false), v(1, 4), 0, 0;
    OFPST15_GROUP_DESC_REQUEST: "OFPST_GROUP_DESC request", St(7, false), from(5), 8, 0;
    NXST_GROUP_DESC_REPLY: "NXST_GROUP_DESC reply", Nxst(8, true), v(0, 0), 0, 8;
    OFPST11_GROUP_DESC_REPLY: "OFPST_GROUP_DESC reply", St(7, true), from(1), 0, 8;
    NXST_GROUP_FEATURES_REQUEST: "NXST_GROUP_FEATURES request", Nxst(9, false), v(0, 1), 0, 0;
    OFPST12_GROUP_FEATURES_REQUEST: "OFPST_GROUP_FEATURES request", St(8, false), from(2), 0, 0;
    NXST_GROUP_FEATURES_REPLY: "NXST_GROUP_FEATURES reply", Nxst(9, true), v(0, 1), 40, 0;
    OFPST12_GROUP_FEATURES_REPLY: "OFPST_GROUP_FEATURES reply", St(8, true), from(2), 40, 0;
    OFPST13_METER_REQUEST: "OFPST_METER request", St(9, false), from(3), 8, 0;
    OFPST13_METER_REPLY: "OFPST_METER reply", St(9, true), from(3), 0, 8;
    OFPST13_METER_CONFIG_REQUEST: "OFPST_METER_CONFIG request", St(10, false), from(3), 8, 0;
    OFPST13_METER_CONFIG_REPLY: "OFPST_METER_CONFIG reply", St(10, true), from(3), 0, 8;
    OFPST13_METER_FEATURES_REQUEST: "OFPST_METER_FEATURES request", St(11, false), from(3), 0, 0;
    OFPST13_METER_FEATURES_REPLY: "OFPST_METER_FEATURES reply", St(11, true), from(3), 16, 0;
    OFPST13_TABLE_FEATURES_REQUEST: "OFPST_TABLE_FEATURES request", St(12, false), from(3), 0, 8;
    OFPST13_TABLE_FEATURES_REPLY: "OFPST_TABLE_FEATURES reply", St(12, true), from(3), 64, 8;
    OFPST14_TABLE_DESC_REQUEST: "OFPST_TABLE_DESC request", St(14, false), from(4), 0, 0;
    OFPST14_TABLE_DESC_REPLY: "OFPST_TABLE_DESC reply", St(14, true), from(4), 8, 8;
    OFPST10_PORT_DESC_REQUEST: "OFPST_PORT_DESC request", St(13, false), v(0, 4), 0, 0;
    OFPST15_PORT_DESC_REQUEST: "OFPST_PORT_DESC request", St(13, false), from(5), 8, 0;
    OFPST10_PORT_DESC_REPLY: "OFPST_PORT_DESC reply", St(13, true), v(0, 0), 0, 48;
    OFPST11_PORT_DESC_REPLY: "OFPST_PORT_DESC reply", St(13, true), v(1, 3), 0, 64;
    OFPST14_PORT_DESC_REPLY: "OFPST_PORT_DESC reply", St(13, true), from(4), 0, 8;
    OFPST14_QUEUE_DESC_REQUEST: "OFPST_QUEUE_DESC request", St(15, false), from(4), 8, 0;
    OFPST14_QUEUE_DESC_REPLY: "OFPST_QUEUE_DESC reply", St(15, true), from(4), 0, 8;
    OFPST14_FLOW_MONITOR_REQUEST: "OFPST_FLOW_MONITOR request", St(16, false), from(4), 0, 8;
    NXST_FLOW_MONITOR_REQUEST: "NXST_FLOW_MONITOR request", Nxst(2, false), v(0, 0), 0, 8;
    ONFST13_FLOW_MONITOR_REQUEST: "ONFST_FLOW_MONITOR request", Onfst(1870, false), v(3, 3), 0, 8;
    OFPST14_FLOW_MONITOR_REPLY: "OFPST_FLOW_MONITOR reply", St(16, true), from(4), 0, 8;
    NXST_FLOW_MONITOR_REPLY: "NXST_FLOW_MONITOR reply", Nxst(2, true), v(0, 0), 0, 8;
    ONFST13_FLOW_MONITOR_REPLY: "ONFST_FLOW_MONITOR reply", Onfst(1870, true), v(3, 3), 0, 8;
    NXT_SET_FLOW_FORMAT: "NXT_SET_FLOW_FORMAT", Nxt(12), v(0, 0), 4, 0;
    NXT_FLOW_MOD_TABLE_ID: "NXT_FLOW_MOD_TABLE_ID", Nxt(15), from(0), 8, 0;
    NXT_SET_PACKET_IN_FORMAT: "NXT_SET_PACKET_IN_FORMAT", Nxt(16), from(0), 4, 0;
    NXT_FLOW_AGE: "NXT_FLOW_AGE", Nxt(18), from(0), 0, 0;
    NXT_SET_CONTROLLER_ID: "NXT_SET_CONTROLLER_ID", Nxt(20), from(0), 8, 0;
    NXT_FLOW_MONITOR_CANCEL: "NXT_FLOW_MONITOR_CANCEL", Nxt(21), v(0, 2), 4, 0;
    ONFT13_FLOW_MONITOR_CANCEL: "ONFT_FLOW_MONITOR_CANCEL", Onft(1870), v(3, 3), 4, 0;
    NXT_FLOW_MONITOR_PAUSED: "NXT_FLOW_MONITOR_PAUSED", Nxt(22), v(0, 2), 0, 0;
    ONFT13_FLOW_MONITOR_PAUSED: "ONFT_FLOW_MONITOR_PAUSED", Onft(1871), v(3, 3), 0, 0;
    NXT_FLOW_MONITOR_RESUMED: "NXT_FLOW_MONITOR_RESUMED", Nxt(23), v(0, 2), 0, 0;
    ONFT13_FLOW_MONITOR_RESUMED: "ONFT_FLOW_MONITOR_RESUMED", Onft(1872), v(3, 3), 0, 0;
    NXT_TLV_TABLE_MOD: "NXT_TLV_TABLE_MOD", Nxt(24), from(0), 8, 8;
    NXT_TLV_TABLE_REQUEST: "NXT_TLV_TABLE_REQUEST", Nxt(25), from(0), 0, 0;
    NXT_TLV_TABLE_REPLY: "NXT_TLV_TABLE_REPLY", Nxt(26), from(0), 16, 8;
    NXT_RESUME: "NXT_RESUME", Nxt(28), from(0), 0, 8;
    NXT_CT_FLUSH_ZONE: "NXT_CT_FLUSH_ZONE", Nxt(29), from(0), 8, 0;
    NXT_CT_FLUSH: "NXT_CT_FLUSH", Nxt(32), from(0), 8, 8;
    NXST_IPFIX_BRIDGE_REQUEST: "NXST_IPFIX_BRIDGE request", Nxst(3, false), from(0), 0, 0;
    NXST_IPFIX_BRIDGE_REPLY: "NXST_IPFIX_BRIDGE reply", Nxst(3, true), from(0), 88, 0;
    NXST_IPFIX_FLOW_REQUEST: "NXST_IPFIX_FLOW request", Nxst(4, false), from(0), 0, 0;
    NXST_IPFIX_FLOW_REPLY: "NXST_IPFIX_FLOW reply", Nxst(4, true), from(0), 0, 88;
}

impl OfpRaw {
    pub fn info(self) -> &'static RawInfo {
        // RAWS is in declaration order, so the discriminant indexes it.
        &RAWS[self as usize]
    }

    /// The printed name.
    pub fn name(self) -> &'static str {
        self.info().name
    }

    /// The raw with `ident` (upstream's identifier without `OFPRAW_`).
    pub fn from_ident(ident: &str) -> Option<OfpRaw> {
        RAWS.iter().find(|r| r.ident == ident).map(|r| r.raw)
    }

    /// The length of all headers of this raw in `version`.
    pub fn header_len(self, version: u8) -> usize {
        match self.info().class {
            T(_) => 8,
            Nxt(_) | Onft(_) => 16,
            St(..) if version == 1 => 12,
            St(..) => 16,
            Nxst(..) | Onfst(..) => 24,
        }
    }

    /// The message type byte in `version`, and the stats/vendor fields.
    pub fn supports(self, version: u8) -> bool {
        let i = self.info();
        i.min_version <= version && version <= i.max_version
    }
}

/// The decoded headers of one message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    pub version: u8,
    pub type_: u8,
    pub length: u16,
    pub xid: u32,
}

impl Header {
    pub fn parse(b: &[u8]) -> Option<Header> {
        let h = b.get(..8)?;
        Some(Header {
            version: h[0],
            type_: h[1],
            length: u16::from_be_bytes([h[2], h[3]]),
            xid: u32::from_be_bytes([h[4], h[5], h[6], h[7]]),
        })
    }
}

fn be16(b: &[u8], i: usize) -> Option<u16> {
    Some(u16::from_be_bytes(b.get(i..i + 2)?.try_into().ok()?))
}
fn be32(b: &[u8], i: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(i..i + 4)?.try_into().ok()?))
}

fn find(version: u8, pred: impl Fn(Class) -> bool) -> Option<OfpRaw> {
    RAWS.iter()
        .find(|r| r.min_version <= version && version <= r.max_version && pred(r.class))
        .map(|r| r.raw)
}

/// Identifies the raw message from its headers only (upstream's
/// `ofpraw_decode_partial`): no length check. `msg` may be truncated.
pub fn decode_raw_partial(msg: &[u8]) -> Result<OfpRaw, OfpErr> {
    let h = Header::parse(msg).ok_or(OfpErr::OFPBRC_BAD_LEN)?;
    let (version, type_) = (h.version, h.type_);
    let stats = match (version, type_) {
        (1, 16) | (1, 17) => Some(type_ == 17),
        (v, 18) | (v, 19) if v != 1 => Some(type_ == 19),
        _ => None,
    };
    if type_ == 4 {
        let vendor = be32(msg, 8).ok_or(OfpErr::OFPBRC_BAD_LEN)?;
        let subtype = be32(msg, 12).ok_or(OfpErr::OFPBRC_BAD_LEN)?;
        let found = match vendor {
            NX_VENDOR_ID => find(version, |c| c == Nxt(subtype)),
            ONF_VENDOR_ID => find(version, |c| c == Onft(subtype)),
            _ => {
                vlog::warn!(
                    "ofp_msgs",
                    "OpenFlow message has unknown vendor {:#x}",
                    vendor
                );
                return Err(OfpErr::OFPBRC_BAD_VENDOR);
            }
        };
        return found.ok_or_else(|| {
            vlog::warn!(
                "ofp_msgs",
                "unknown OpenFlow message (version {}, type {}, vendor {:#x}, subtype {})",
                version,
                type_,
                vendor,
                subtype
            );
            OfpErr::OFPBRC_BAD_SUBTYPE
        });
    }
    if let Some(reply) = stats {
        let stat = be16(msg, 8).ok_or(OfpErr::OFPBRC_BAD_LEN)?;
        if stat == 0xffff {
            let vofs = if version == 1 { 12 } else { 16 };
            let vendor = be32(msg, vofs).ok_or(OfpErr::OFPBRC_BAD_LEN)?;
            let subtype = be32(msg, vofs + 4).ok_or(OfpErr::OFPBRC_BAD_LEN)?;
            let found = match vendor {
                NX_VENDOR_ID => find(version, |c| c == Nxst(subtype, reply)),
                ONF_VENDOR_ID => find(version, |c| c == Onfst(subtype, reply)),
                _ => {
                    vlog::warn!(
                        "ofp_msgs",
                        "OpenFlow message has unknown vendor {:#x}",
                        vendor
                    );
                    return Err(OfpErr::OFPBRC_BAD_VENDOR);
                }
            };
            return found.ok_or_else(|| {
                vlog::warn!(
                    "ofp_msgs",
                    "unknown OpenFlow message (version {}, type {}, stat {}, vendor {:#x}, subtype {})",
                    version,
                    type_,
                    stat,
                    vendor,
                    subtype
                );
                OfpErr::OFPBRC_BAD_SUBTYPE
            });
        }
        return find(version, |c| c == St(stat, reply)).ok_or_else(|| {
            vlog::warn!(
                "ofp_msgs",
                "unknown OpenFlow message (version {}, type {}, stat {})",
                version,
                type_,
                stat
            );
            OfpErr::OFPBRC_BAD_STAT
        });
    }
    find(version, |c| c == T(type_)).ok_or_else(|| {
        vlog::warn!(
            "ofp_msgs",
            "unknown OpenFlow message (version {}, type {})",
            version,
            type_
        );
        OfpErr::OFPBRC_BAD_TYPE
    })
}

/// Identifies a complete message (upstream's `ofpraw_decode`): `msg` is
/// exactly one message, and its length must suit the raw.
pub fn decode_raw(msg: &[u8]) -> Result<OfpRaw, OfpErr> {
    let raw = decode_raw_partial(msg)?;
    let info = raw.info();
    let len = msg.len();
    let version = msg[0];
    let min_len = raw.header_len(version) + info.min_body;
    let ok = match info.extra_multiple {
        0 => len == min_len,
        1 => len >= min_len,
        m => len >= min_len && (len - min_len).is_multiple_of(m),
    };
    if !ok {
        match info.extra_multiple {
            0 => vlog::warn!(
                "ofp_msgs",
                "received {} with incorrect length {} (expected length {})",
                info.name,
                len,
                min_len
            ),
            1 => vlog::warn!(
                "ofp_msgs",
                "received {} with incorrect length {} (expected length at least {} bytes)",
                info.name,
                len,
                min_len
            ),
            m => vlog::warn!(
                "ofp_msgs",
                "received {} with incorrect length {} (must be exactly {} bytes or longer by an integer multiple of {} bytes)",
                info.name,
                len,
                min_len,
                m
            ),
        }
        return Err(OfpErr::OFPBRC_BAD_LEN);
    }
    Ok(raw)
}

/// Builds the headers of a `raw` message in `version` with `xid`; the
/// caller appends the body and then calls [`finish`].
pub fn start(raw: OfpRaw, version: u8, xid: u32) -> Vec<u8> {
    let mut m = Vec::with_capacity(64);
    let type_ = match raw.info().class {
        T(t) => t,
        Nxt(_) | Onft(_) => 4,
        St(_, reply) | Nxst(_, reply) | Onfst(_, reply) => match (version, reply) {
            (1, false) => 16,
            (1, true) => 17,
            (_, false) => 18,
            (_, true) => 19,
        },
    };
    m.extend_from_slice(&[version, type_, 0, 0]);
    m.extend_from_slice(&xid.to_be_bytes());
    let stats_head = |m: &mut Vec<u8>, stat: u16| {
        m.extend_from_slice(&stat.to_be_bytes());
        m.extend_from_slice(&[0, 0]);
        if version != 1 {
            m.extend_from_slice(&[0; 4]);
        }
    };
    match raw.info().class {
        T(_) => {}
        Nxt(s) => {
            m.extend_from_slice(&NX_VENDOR_ID.to_be_bytes());
            m.extend_from_slice(&s.to_be_bytes());
        }
        Onft(s) => {
            m.extend_from_slice(&ONF_VENDOR_ID.to_be_bytes());
            m.extend_from_slice(&s.to_be_bytes());
        }
        St(stat, _) => stats_head(&mut m, stat),
        Nxst(s, _) | Onfst(s, _) => {
            stats_head(&mut m, 0xffff);
            let vendor = if matches!(raw.info().class, Nxst(..)) {
                NX_VENDOR_ID
            } else {
                ONF_VENDOR_ID
            };
            m.extend_from_slice(&vendor.to_be_bytes());
            m.extend_from_slice(&s.to_be_bytes());
            if version == 1 {
                m.extend_from_slice(&[0; 4]);
            }
        }
    }
    m
}

/// Stores the final length into a message built with [`start`].
pub fn finish(mut m: Vec<u8>) -> Vec<u8> {
    let len = u16::try_from(m.len()).unwrap_or(u16::MAX);
    if m.len() >= 4 {
        m[2..4].copy_from_slice(&len.to_be_bytes());
    }
    m
}

/// Multipart flags of a stats message (the `more` bit is 1).
pub fn stats_flags(msg: &[u8]) -> u16 {
    be16(msg, 10).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_indexed_by_discriminant() {
        for (i, r) in RAWS.iter().enumerate() {
            assert_eq!(r.raw as usize, i);
        }
    }

    #[test]
    fn every_raw_round_trips_through_its_headers() {
        for r in RAWS {
            for version in 1..=6u8 {
                if !r.raw.supports(version) {
                    continue;
                }
                let mut m = start(r.raw, version, 9);
                assert_eq!(m.len(), r.raw.header_len(version), "{}", r.ident);
                m.resize(m.len() + r.min_body, 0);
                let m = finish(m);
                assert_eq!(decode_raw(&m), Ok(r.raw), "{} v{version}", r.ident);
            }
        }
    }

    #[test]
    fn unknown_messages() {
        assert_eq!(
            decode_raw(&[0, 0xbb, 0, 8, 0, 0, 0, 0]),
            Err(OfpErr::OFPBRC_BAD_TYPE)
        );
        assert_eq!(
            decode_raw(&[7, 5, 0, 8, 0, 0, 0, 0]),
            Err(OfpErr::OFPBRC_BAD_TYPE)
        );
        assert_eq!(
            decode_raw(&[1, 1, 0, 8, 0, 0, 0, 0]),
            Err(OfpErr::OFPBRC_BAD_LEN)
        );
    }
}
