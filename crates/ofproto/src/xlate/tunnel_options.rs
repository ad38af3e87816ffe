//! Geneve options of received packets and `tun_metadataN` (upstream's
//! conversions between the datapath's "UDPIF" form and the bridge's
//! tunnel table): a packet the datapath decapsulated carries its options
//! as raw TLVs (`FLOW_TNL_F_UDPIF`); translation sees each option the
//! bridge's TLV map names as its `tun_metadataN` field (options the map
//! does not name, or names with another length, are not seen), and the
//! megaflow installed for the packet masks the raw options by what
//! translation examined.

use packet::tunnel::FLOW_TNL_F_UDPIF;
use packet::wire::geneve::options;
use packet::{Flow, FlowTnl, TunMetadata};

use crate::Ofproto;

/// The `tun_metadata` slot the TLV map gives option `(class, type)` of
/// `len` data bytes.
fn slot_of(br: &Ofproto, class: u16, kind: u8, len: usize) -> Option<usize> {
    br.tlv_map()
        .iter()
        .find(|m| m.option_class == class && m.option_type == kind)
        .filter(|m| usize::from(m.option_len) == len)
        .map(|m| usize::from(m.index))
}

/// A Geneve option header's mask matching its class, type and length.
const HEADER_MASK: [u8; 4] = [0xff, 0xff, 0xff, 0x1f];

/// `tnl` as `br`'s translation sees it: raw options (if it has them raw)
/// turned into the `tun_metadataN` fields of `br`'s TLV map, and those
/// laid out as `br` lays out its flows.
pub fn for_bridge(br: &Ofproto, tnl: &mut FlowTnl) {
    if tnl.flags & FLOW_TNL_F_UDPIF == 0 {
        br.tun_layout().apply(&mut tnl.metadata);
        return;
    }
    let raw = tnl.metadata;
    let mut md = TunMetadata::default();
    br.tun_layout().apply(&mut md);
    for opt in options(raw.geneve_raw()) {
        let Some(i) = slot_of(br, opt.class, opt.kind, opt.data.len()) else {
            continue;
        };
        if let Some(slot) = md.slot_mut(i) {
            if slot.len() == opt.data.len() {
                slot.copy_from_slice(opt.data);
                md.present |= 1 << i;
            }
        }
    }
    tnl.metadata = md;
    tnl.flags &= !FLOW_TNL_F_UDPIF;
}

/// The megaflow mask `wc` (of a translation of datapath key `key`) with
/// its tunnel metadata in the key's raw form: each option of the key whose
/// `tun_metadataN` translation examined is matched on its class, type,
/// length and the examined bits of its data; the others are wildcarded.
/// Keys without raw options give `wc` unchanged.
pub fn raw_options_mask(br: &Ofproto, key: &Flow, wc: &Flow) -> Flow {
    let mut m = *wc;
    if key.tunnel.flags & FLOW_TNL_F_UDPIF == 0 {
        return m;
    }
    let mut md = TunMetadata::default();
    let mut pos = 0;
    let mut any = false;
    for opt in options(key.tunnel.metadata.geneve_raw()) {
        let len = opt.buffer_len();
        let Some(out) = md.opts.get_mut(pos..pos + len) else {
            break;
        };
        match slot_of(br, opt.class, opt.kind, opt.data.len()) {
            Some(i) => {
                let examined = (wc.tunnel.metadata.present & (1 << i) != 0)
                    .then(|| wc.tunnel.metadata.slot(i))
                    .flatten();
                if let Some(data_mask) = examined {
                    out[..4].copy_from_slice(&HEADER_MASK);
                    let k = data_mask.len().min(len - 4);
                    out[len - k..].copy_from_slice(&data_mask[data_mask.len() - k..]);
                    any = true;
                }
            }
            // An option the map does not name is matched on its class,
            // type and length (whether it is there), not its data.
            None => {
                out[..4].copy_from_slice(&HEADER_MASK);
                any = true;
            }
        }
        pos += len;
    }
    // Options matched absent (`tun_metadataN=NP`) cannot be named in the
    // raw form: the options' total length is matched instead.
    if any || wc.tunnel.metadata.present != 0 {
        md.present = u64::from(u8::MAX);
    }
    m.tunnel.metadata = md;
    m
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tlv::{layout_for, TlvMapping};

    fn bridge() -> Ofproto {
        let mut br = Ofproto::new("br0", 1);
        for (class, kind, len, index) in [(0xffff, 0, 4, 0), (0xffff, 1, 8, 3)] {
            br.tlv_map.push(TlvMapping {
                option_class: class,
                option_type: kind,
                option_len: len,
                index,
            });
        }
        br.tun_layout = layout_for(&br.tun_layout, &br.tlv_map).unwrap();
        br
    }

    /// Three options: two mapped, one the map does not name.
    const RAW: [u8; 28] = [
        0xff, 0xff, 0, 1, 0, 0, 0, 0xa, //
        0xff, 0xff, 1, 2, 0, 0, 0, 0, 0, 0, 0x12, 0x34, //
        0, 1, 5, 1, 0, 0, 0, 0x77,
    ];

    fn received() -> Flow {
        let mut f = Flow::default();
        f.tunnel.flags = FLOW_TNL_F_UDPIF;
        f.tunnel.metadata.set_geneve_raw(&RAW);
        f
    }

    #[test]
    fn mapped_options_become_fields() {
        let br = bridge();
        let mut t = received().tunnel;
        for_bridge(&br, &mut t);
        assert_eq!(t.flags & FLOW_TNL_F_UDPIF, 0);
        assert_eq!(t.metadata.present, 1 | 1 << 3);
        let f = Flow {
            tunnel: t,
            ..Flow::default()
        };
        assert_eq!(flow::FieldId::TunMetadata0.get(&f).to_u64(), 0xa);
        assert_eq!(flow::FieldId::TunMetadata3.get(&f).to_u64(), 0x1234);
    }

    #[test]
    fn mask_names_only_examined_options() {
        let br = bridge();
        let key = received();
        let mut wc = Flow::default();
        br.tun_layout().apply(&mut wc.tunnel.metadata);
        let m = raw_options_mask(&br, &key, &wc).tunnel.metadata;
        assert_eq!(&m.opts[..20], &[0; 20], "mapped options not examined");
        assert_eq!(&m.opts[20..28], &[0xff, 0xff, 0xff, 0x1f, 0, 0, 0, 0]);
        wc.tunnel.metadata.present = 1 << 3;
        wc.tunnel.metadata.slot_mut(3).unwrap()[7] = 0x0f;
        let m = raw_options_mask(&br, &key, &wc).tunnel.metadata;
        assert_eq!(m.present, 0xff);
        assert_eq!(&m.opts[..8], &[0; 8]);
        assert_eq!(
            &m.opts[8..20],
            &[0xff, 0xff, 0xff, 0x1f, 0, 0, 0, 0, 0, 0, 0, 0x0f]
        );
        assert_eq!(&m.opts[20..28], &[0xff, 0xff, 0xff, 0x1f, 0, 0, 0, 0]);
    }
}
