//! Errors that decoding, parsing or checking actions can produce: the
//! OpenFlow error codes (`OFPBAC_*`, `OFPBIC_*`, ...) by their upstream names,
//! and the text-parsing error carrying upstream's exact message.

use std::fmt;

/// An OpenFlow error (OVS's `enum ofperr` members reachable from actions).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OfpErr {
    OfpbacBadType,
    OfpbacBadLen,
    OfpbacBadVendor,
    OfpbacBadVendorType,
    OfpbacBadOutPort,
    OfpbacBadArgument,
    OfpbacEperm,
    OfpbacTooMany,
    OfpbacBadQueue,
    OfpbacBadOutGroup,
    OfpbacMatchInconsistent,
    OfpbacUnsupportedOrder,
    OfpbacBadTag,
    OfpbacBadSetType,
    OfpbacBadSetLen,
    OfpbacBadSetArgument,
    OfpbacBadSetMask,
    NxbacMustBeZero,
    NxbacBadConjunction,
    NxbrcMustBeZero,
    OfpbicUnknownInst,
    OfpbicUnsupInst,
    OfpbicBadTableId,
    OfpbicUnsupMetadata,
    OfpbicUnsupMetadataMask,
    OfpbicBadExperimenter,
    OfpbicBadExpType,
    OfpbicBadLen,
    OfpbicEperm,
    OfpbicDupInst,
    OfpbmcBadField,
    OfpbmcBadValue,
    OfpbmcBadPrereq,
    OfpbmcBadWildcards,
    OfpbrcBadLen,
    OfpbrcBadVersion,
    OfpbrcBadTableId,
    OfpbpcBadType,
    OfpbpcBadLen,
    OfpmmfcInvalidMeter,
}

impl OfpErr {
    /// The upstream name, as `ofperr_to_string` prints it.
    pub fn name(self) -> &'static str {
        use OfpErr::*;
        match self {
            OfpbacBadType => "OFPBAC_BAD_TYPE",
            OfpbacBadLen => "OFPBAC_BAD_LEN",
            OfpbacBadVendor => "OFPBAC_BAD_VENDOR",
            OfpbacBadVendorType => "OFPBAC_BAD_VENDOR_TYPE",
            OfpbacBadOutPort => "OFPBAC_BAD_OUT_PORT",
            OfpbacBadArgument => "OFPBAC_BAD_ARGUMENT",
            OfpbacEperm => "OFPBAC_EPERM",
            OfpbacTooMany => "OFPBAC_TOO_MANY",
            OfpbacBadQueue => "OFPBAC_BAD_QUEUE",
            OfpbacBadOutGroup => "OFPBAC_BAD_OUT_GROUP",
            OfpbacMatchInconsistent => "OFPBAC_MATCH_INCONSISTENT",
            OfpbacUnsupportedOrder => "OFPBAC_UNSUPPORTED_ORDER",
            OfpbacBadTag => "OFPBAC_BAD_TAG",
            OfpbacBadSetType => "OFPBAC_BAD_SET_TYPE",
            OfpbacBadSetLen => "OFPBAC_BAD_SET_LEN",
            OfpbacBadSetArgument => "OFPBAC_BAD_SET_ARGUMENT",
            OfpbacBadSetMask => "OFPBAC_BAD_SET_MASK",
            NxbacMustBeZero => "NXBAC_MUST_BE_ZERO",
            NxbacBadConjunction => "NXBAC_BAD_CONJUNCTION",
            NxbrcMustBeZero => "NXBRC_MUST_BE_ZERO",
            OfpbicUnknownInst => "OFPBIC_UNKNOWN_INST",
            OfpbicUnsupInst => "OFPBIC_UNSUP_INST",
            OfpbicBadTableId => "OFPBIC_BAD_TABLE_ID",
            OfpbicUnsupMetadata => "OFPBIC_UNSUP_METADATA",
            OfpbicUnsupMetadataMask => "OFPBIC_UNSUP_METADATA_MASK",
            OfpbicBadExperimenter => "OFPBIC_BAD_EXPERIMENTER",
            OfpbicBadExpType => "OFPBIC_BAD_EXP_TYPE",
            OfpbicBadLen => "OFPBIC_BAD_LEN",
            OfpbicEperm => "OFPBIC_EPERM",
            OfpbicDupInst => "OFPBIC_DUP_INST",
            OfpbmcBadField => "OFPBMC_BAD_FIELD",
            OfpbmcBadValue => "OFPBMC_BAD_VALUE",
            OfpbmcBadPrereq => "OFPBMC_BAD_PREREQ",
            OfpbmcBadWildcards => "OFPBMC_BAD_WILDCARDS",
            OfpbrcBadLen => "OFPBRC_BAD_LEN",
            OfpbrcBadVersion => "OFPBRC_BAD_VERSION",
            OfpbrcBadTableId => "OFPBRC_BAD_TABLE_ID",
            OfpbpcBadType => "OFPBPC_BAD_TYPE",
            OfpbpcBadLen => "OFPBPC_BAD_LEN",
            OfpmmfcInvalidMeter => "OFPMMFC_INVALID_METER",
        }
    }
}

impl fmt::Display for OfpErr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::error::Error for OfpErr {}

/// A text-parsing error: upstream's message, printed after `ovs-ofctl: `.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError(pub String);

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ParseError {}

impl From<String> for ParseError {
    fn from(s: String) -> Self {
        ParseError(s)
    }
}

impl From<&str> for ParseError {
    fn from(s: &str) -> Self {
        ParseError(s.to_string())
    }
}
