//! Bundles (OpenFlow 1.4 / ONF 1.3 extension): messages collected under a
//! bundle id and committed atomically — every flow-mod of a commit becomes
//! visible in one classifier version, or none does.

/// One open bundle of a connection.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Bundle {
    /// Bundle id.
    pub id: u32,
    /// `OFPBF_*` flags from the open request.
    pub flags: u16,
    /// Whether the bundle was closed (no more adds).
    pub closed: bool,
    /// The messages added, in order (whole OpenFlow messages).
    pub msgs: Vec<Vec<u8>>,
}
