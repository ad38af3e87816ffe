//! Prefix fields: which fields may have a prefix trie (`Flow_Table`
//! `prefixes` in ovs-vswitchd.conf.db(5)), where they live in a packed flow
//! and what a packet must be for the field to be meaningful.

use crate::trie::PrefixTrie;
use crate::words::BitField;
use flow::FieldId;

/// The default `prefixes` of a flow table: `ip_dst,ip_src`.
pub const DEFAULT_PREFIX_FIELDS: [FieldId; 2] = [FieldId::Ipv4Dst, FieldId::Ipv4Src];

/// Ethernet type of IPv4.
const ETH_TYPE_IP: u16 = 0x0800;
/// Ethernet type of IPv6.
const ETH_TYPE_IPV6: u16 = 0x86dd;

/// One configured prefix trie.
#[derive(Clone, Debug)]
pub(crate) struct TrieConfig {
    pub field: FieldId,
    pub bits: BitField,
    /// The field's stage (see [`crate::words::stage_of`]).
    pub stage: u8,
    /// Ethernet type the packet must have for the field to apply.
    pub prereq_dl_type: Option<u16>,
    pub trie: PrefixTrie,
}

impl TrieConfig {
    /// An empty trie for `field`, if the field supports prefix tracking.
    pub fn for_field(field: FieldId) -> Option<TrieConfig> {
        let (bits, prereq_dl_type) = prefix_field(field)?;
        Some(TrieConfig {
            field,
            bits,
            stage: bits.stage() as u8,
            prereq_dl_type,
            trie: PrefixTrie::new(),
        })
    }
}

/// Where a prefix-capable field lives, and the Ethernet type it requires.
fn prefix_field(field: FieldId) -> Option<(BitField, Option<u16>)> {
    use FieldId::*;
    Some(match field {
        TunId => (BitField::TUN_ID, None),
        TunSrc => (BitField::TUN_SRC, None),
        TunDst => (BitField::TUN_DST, None),
        TunIpv6Src => (BitField::TUN_IPV6_SRC, None),
        TunIpv6Dst => (BitField::TUN_IPV6_DST, None),
        Ipv4Src => (BitField::NW_SRC, Some(ETH_TYPE_IP)),
        Ipv4Dst => (BitField::NW_DST, Some(ETH_TYPE_IP)),
        Ipv6Src => (BitField::IPV6_SRC, Some(ETH_TYPE_IPV6)),
        Ipv6Dst => (BitField::IPV6_DST, Some(ETH_TYPE_IPV6)),
        _ => return None,
    })
}

/// True if `field` can be given in `Flow_Table` `prefixes`.
pub fn is_prefix_field(field: FieldId) -> bool {
    prefix_field(field).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn supported_fields() {
        for name in [
            "tun_id",
            "tun_src",
            "tun_dst",
            "tun_ipv6_src",
            "tun_ipv6_dst",
            "nw_src",
            "nw_dst",
            "ip_src",
            "ip_dst",
            "ipv6_src",
            "ipv6_dst",
        ] {
            let f = FieldId::from_name(name).unwrap();
            assert!(is_prefix_field(f), "{name}");
        }
        for name in ["tp_src", "eth_src", "in_port", "ct_nw_src", "arp_spa"] {
            let f = FieldId::from_name(name).unwrap();
            assert!(!is_prefix_field(f), "{name}");
        }
        assert_eq!(TrieConfig::for_field(FieldId::Ipv4Dst).unwrap().stage, 2);
        assert_eq!(TrieConfig::for_field(FieldId::TunSrc).unwrap().stage, 0);
    }
}
