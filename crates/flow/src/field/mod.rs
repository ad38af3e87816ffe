//! The field registry: every field of ovs-fields(7) with its names, width,
//! text format, maskability, prerequisites, access and its NXM/OXM identities
//! (the counterpart of OVS's `mf_fields[]`).
//!
//! [`FieldId`] names a field; [`FieldId::def`] gives its static
//! [`FieldDef`].  Lookups by name ([`FieldId::from_name`]) and by NXM/OXM
//! header ([`FieldId::from_nxm_header`]) are here too; reading and writing a
//! field of a flow key is in [`access`].

pub mod access;
mod header;
mod table;

pub use header::MfHeader;
pub use table::{FieldId, N_FIELDS};

use table::FIELDS;

/// How a field's value is written in text (ovs-fields(7) "Format").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MfString {
    Decimal,
    Hexadecimal,
    Ethernet,
    Ipv4,
    Ipv6,
    /// 16-bit OpenFlow 1.0 port number or name.
    OfpPort,
    /// 32-bit OpenFlow 1.1+ port number or name.
    OfpPortOxm,
    /// `ip_frag`: `no`, `yes`, `first`, `later`, `not_later`.
    Frag,
    TunFlags,
    TcpFlags,
    CtState,
    PacketType,
}

/// What a match must already say before a field can be matched
/// (ovs-fields(7) "Prerequisites").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Prereq {
    None,
    /// A valid connection tracking state (`ct_state` with `+trk` and a
    /// state bit or `-inv`).
    CtValid,
    Ethernet,
    /// An 802.1Q header is present (`vlan_tci` with the CFI bit set).
    VlanVid,
    Mpls,
    Ipv4,
    Ipv6,
    IpAny,
    Arp,
    Tcp,
    Udp,
    Sctp,
    Icmpv4,
    Icmpv6,
    Nd,
    NdSolicit,
    NdAdvert,
    Nsh,
}

/// Whether OpenFlow 1.0's fixed match can express a field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Of10Support {
    No,
    Exact,
    /// Exact values and CIDR prefixes.
    Cidr,
}

/// Whether OpenFlow 1.1's fixed match can express a field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Of11Support {
    No,
    Exact,
    Bitwise,
}

/// One NXM or OXM identity of a field, as listed in ovs-fields(7).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MfHeaderDef {
    /// For example `NXM_OF_IN_PORT`, `OXM_OF_IN_PORT`, `ONFOXM_ET_TCP_FLAGS`.
    pub name: &'static str,
    /// OXM class (`0x0000` NXM_OF, `0x0001` NXM_NX, `0x8000` OXM_OF,
    /// `0x8001` packet registers, `0x1000` Ericsson, `0xffff` experimenter).
    pub class: u16,
    /// Field number within the class (7 bits).
    pub field: u8,
    /// Experimenter ID when `class == 0xffff`, otherwise 0: `0x00002320`
    /// (Nicira, NXOXM_ET_*), `0x005ad650` (NXOXM_NSH_*), `0x4f4e4600` (ONF).
    pub experimenter: u32,
    /// First OpenFlow wire version (0x03 = 1.2, 0x04 = 1.3, ...) that
    /// defines this OXM; 0 for NXM (any version, via Nicira extensions).
    pub version: u8,
}

/// The static description of one field.
#[derive(Debug)]
pub struct FieldDef {
    pub id: FieldId,
    /// Preferred name, e.g. `eth_src`.
    pub name: &'static str,
    /// Alias, e.g. `dl_src`.
    pub extra_name: Option<&'static str>,
    /// Width in bytes of the field's value.
    pub n_bytes: usize,
    /// Number of significant (low) bits.
    pub n_bits: usize,
    /// True for tunnel metadata, whose length is chosen per match.
    pub variable_len: bool,
    /// True if arbitrary bitwise masks are allowed.
    pub maskable: bool,
    pub string: MfString,
    pub prereqs: Prereq,
    /// True if actions may modify the field (set_field, load, move).
    pub writable: bool,
    pub of10: Of10Support,
    pub of11: Of11Support,
    /// The NXM identity (may be an experimenter OXM), if any.
    pub nxm: Option<MfHeaderDef>,
    /// Standard and experimenter OXM identities, oldest first.
    pub oxm: &'static [MfHeaderDef],
}

impl FieldId {
    /// The static description of this field.
    pub fn def(self) -> &'static FieldDef {
        &FIELDS[self as usize]
    }

    /// Preferred name (`eth_src`).
    pub fn name(self) -> &'static str {
        self.def().name
    }

    /// Field with this ovs-fields(7) name or alias (exact, case-sensitive),
    /// as accepted in a flow's match (`dl_src=...`).
    pub fn from_field_name(name: &str) -> Option<FieldId> {
        FIELDS
            .iter()
            .find(|f| f.name == name || f.extra_name == Some(name))
            .map(|f| f.id)
    }

    /// Field with this NXM or OXM name (`NXM_OF_IN_PORT`, `OXM_OF_IN_PORT`,
    /// `NXOXM_ET_ERSPAN_VER`), case-insensitively.
    pub fn from_nxm_name(name: &str) -> Option<FieldId> {
        FIELDS
            .iter()
            .find(|f| {
                f.nxm
                    .iter()
                    .chain(f.oxm.iter())
                    .any(|h| h.name.eq_ignore_ascii_case(name))
            })
            .map(|f| f.id)
    }

    /// Field with this name, alias, or NXM/OXM name (as accepted in
    /// subfield syntax such as `NXM_NX_REG0[]` or `reg0[]`).
    pub fn from_name(name: &str) -> Option<FieldId> {
        Self::from_field_name(name).or_else(|| Self::from_nxm_name(name))
    }

    /// Field identified by an NXM/OXM class, field number and (for class
    /// 0xffff) experimenter ID.
    pub fn from_nxm_header(header: &MfHeader) -> Option<FieldId> {
        let exp = if header.class == 0xffff {
            header.experimenter
        } else {
            0
        };
        FIELDS
            .iter()
            .find(|f| {
                f.nxm.iter().chain(f.oxm.iter()).any(|h| {
                    h.class == header.class && h.field == header.field && h.experimenter == exp
                })
            })
            .map(|f| f.id)
    }

    /// The NXM header (32-bit, or 64-bit for experimenter fields) for this
    /// field's value of `len` bytes (normally `n_bytes`).
    pub fn nxm_header(self, has_mask: bool) -> Option<MfHeader> {
        let def = self.def();
        def.nxm.map(|h| MfHeader::new(&h, has_mask, def.n_bytes))
    }

    /// The OXM header to use in OpenFlow wire `version` (0x03 = OF1.2, ...):
    /// the newest standard or experimenter OXM defined in that version,
    /// falling back to the NXM identity (valid in any OXM match), and for a
    /// field whose only OXM is newer than `version`, to that OXM anyway, as
    /// upstream does (it starts from the first identity it knows).
    pub fn oxm_header(self, version: u8, has_mask: bool) -> Option<MfHeader> {
        let def = self.def();
        def.oxm
            .iter()
            .rev()
            .find(|h| h.version <= version)
            .or(def.nxm.as_ref())
            .or(def.oxm.first())
            .map(|h| MfHeader::new(h, has_mask, def.n_bytes))
    }

    /// The header upstream writes for this field in actions (set_field,
    /// load, move) of wire `version`: its OXM or NXM identity, or for the
    /// fields that have none (`dl_vlan`, `dl_vlan_pcp`, `tun_ttl`,
    /// `tun_tos`) class 0 field 0 (the identity of `in_port`) with the
    /// field's own length, which a decoder reads as `in_port` or rejects.
    pub fn wire_header(self, version: u8, has_mask: bool) -> MfHeader {
        self.oxm_header(version, has_mask).unwrap_or_else(|| {
            let def = self.def();
            let mut h = MfHeader {
                class: 0,
                field: 0,
                has_mask,
                length: 0,
                experimenter: 0,
            };
            h.set_value_len(def.n_bytes);
            h
        })
    }

    /// True if this is one of `tun_metadata0`..`tun_metadata63`.
    pub fn is_tun_metadata(self) -> bool {
        self.tun_metadata_index().is_some()
    }

    /// Slot number of a `tun_metadataN` field.
    pub fn tun_metadata_index(self) -> Option<usize> {
        let i = self as usize;
        let first = FieldId::TunMetadata0 as usize;
        (first..first + 64).contains(&i).then(|| i - first)
    }

    /// `regN` for N in 0..16.
    pub fn reg(n: usize) -> Option<FieldId> {
        (n < 16).then(|| FieldId::ALL[FieldId::Reg0 as usize + n])
    }

    /// `xregN` for N in 0..8.
    pub fn xreg(n: usize) -> Option<FieldId> {
        (n < 8).then(|| FieldId::ALL[FieldId::Xreg0 as usize + n])
    }

    /// `xxregN` for N in 0..4.
    pub fn xxreg(n: usize) -> Option<FieldId> {
        (n < 4).then(|| FieldId::ALL[FieldId::Xxreg0 as usize + n])
    }

    /// `tun_metadataN` for N in 0..64.
    pub fn tun_metadata(n: usize) -> Option<FieldId> {
        (n < 64).then(|| FieldId::ALL[FieldId::TunMetadata0 as usize + n])
    }
}

impl std::fmt::Display for FieldId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_in_id_order() {
        for (i, f) in FIELDS.iter().enumerate() {
            assert_eq!(f.id as usize, i, "{}", f.name);
            assert_eq!(FieldId::ALL[i], f.id);
        }
    }

    #[test]
    fn lookup_by_names() {
        assert_eq!(FieldId::from_name("dl_src"), Some(FieldId::EthSrc));
        assert_eq!(FieldId::from_name("eth_src"), Some(FieldId::EthSrc));
        assert_eq!(FieldId::from_name("NXM_OF_ETH_SRC"), Some(FieldId::EthSrc));
        assert_eq!(FieldId::from_name("OXM_OF_ETH_SRC"), Some(FieldId::EthSrc));
        assert_eq!(FieldId::from_name("NXM_NX_REG5"), Some(FieldId::Reg5));
        assert_eq!(
            FieldId::from_name("tun_metadata63"),
            Some(FieldId::TunMetadata63)
        );
        assert_eq!(
            FieldId::from_name("NXM_NX_TUN_METADATA63"),
            Some(FieldId::TunMetadata63)
        );
        assert_eq!(FieldId::from_name("xxreg3"), Some(FieldId::Xxreg3));
        assert_eq!(FieldId::from_name("nw_tos"), Some(FieldId::IpDscp));
        assert_eq!(FieldId::from_name("ip_dscp"), Some(FieldId::IpDscpShifted));
        assert_eq!(FieldId::from_name("tp_src"), Some(FieldId::TcpSrc));
        assert_eq!(FieldId::from_field_name("NXM_OF_ETH_SRC"), None);
        assert_eq!(FieldId::from_name("nonesuch"), None);
    }

    #[test]
    fn widths() {
        let d = FieldId::TunErspanIdx.def();
        assert_eq!((d.n_bytes, d.n_bits), (4, 20));
        let d = FieldId::TunMetadata7.def();
        assert_eq!((d.n_bytes, d.variable_len), (124, true));
        assert_eq!(FieldId::CtLabel.def().n_bytes, 16);
        assert!(!FieldId::EthType.def().maskable);
        assert_eq!(FieldId::TcpSrc.def().prereqs, Prereq::Tcp);
    }

    #[test]
    fn headers() {
        let h = FieldId::InPort.nxm_header(false).unwrap();
        assert_eq!(h.to_u32(), 0x0000_0002);
        let h = FieldId::EthSrc.nxm_header(true).unwrap();
        assert_eq!(h.to_u32(), 0x0000_050c);
        let h = FieldId::Reg1.nxm_header(false).unwrap();
        assert_eq!(h.to_u32(), 0x0001_0204);
        let h = FieldId::InPortOxm.oxm_header(0x04, false).unwrap();
        assert_eq!(h.to_u32(), 0x8000_0004);
        // tcp_flags: ONF experimenter OXM in OF1.3, standard OXM in OF1.5.
        let h = FieldId::TcpFlags.oxm_header(0x04, false).unwrap();
        assert_eq!(
            (h.class, h.field, h.experimenter),
            (0xffff, 42, 0x4f4e_4600)
        );
        assert_eq!(h.to_u64(), 0xffff_5406_4f4e_4600);
        let h = FieldId::TcpFlags.oxm_header(0x06, false).unwrap();
        assert_eq!(h.to_u32(), 0x8000_5402);
        // Fields with only an NXM identity fall back to it in OXM.
        let h = FieldId::Reg0.oxm_header(0x04, false).unwrap();
        assert_eq!(h.to_u32(), 0x0001_0004);
        let h = FieldId::NshSpi.nxm_header(false).unwrap();
        assert_eq!(
            (h.class, h.field, h.experimenter, h.length),
            (0xffff, 4, 0x005a_d650, 8)
        );
        assert_eq!(FieldId::from_nxm_header(&h), Some(FieldId::NshSpi));
        let h = FieldId::Xreg3.oxm_header(0x04, true).unwrap();
        assert_eq!(h.to_u32(), 0x8001_0710);
        assert_eq!(FieldId::from_nxm_header(&h), Some(FieldId::Xreg3));
        assert_eq!(
            FieldId::from_nxm_header(&MfHeader::from_u32(0x8000_0004)),
            Some(FieldId::InPortOxm)
        );
        assert_eq!(
            FieldId::from_nxm_header(&MfHeader::from_u32(0x0000_0002)),
            Some(FieldId::InPort)
        );
    }
}
