//! Group modifications and group descriptions: buckets with actions, in
//! the OpenFlow 1.1-1.4 layout and the OpenFlow 1.5 layout (which
//! Nicira's `NXT_GROUP_MOD`/`NXST_GROUP_DESC` also use in OpenFlow 1.0),
//! with the Netronome selection-method property.

use crate::actions::{self, OfpAction};
use crate::bits::{port_from_ofp11, port_to_ofp11, port_to_string};
use crate::errors::OfpErr;
use crate::wire::{fixed_str, pad8, Put, Reader};
use flow::{FieldId, MfHeader, MfValue};

const BAD: OfpErr = OfpErr::OFPBRC_BAD_LEN;
/// Netronome's experimenter id, and the older one peers may still send.
const NTR_VENDOR_ID: u32 = 0x0000_154d;
const NTR_COMPAT_VENDOR_ID: u32 = 0x0000_1540;

/// One bucket.
#[derive(Clone, Debug, PartialEq)]
pub struct Bucket {
    pub bucket_id: u32,
    pub weight: u16,
    pub watch_port: u16,
    pub watch_group: u32,
    pub actions: Vec<OfpAction>,
}

/// The selection-method property of select groups.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct GroupProps {
    pub selection_method: String,
    pub selection_method_param: u64,
    /// Hash fields with their masks, in registry order.
    pub fields: Vec<(FieldId, MfValue)>,
}

/// Whether a version uses the OpenFlow 1.5 group layout.
fn is15(version: u8) -> bool {
    version == 1 || version >= 6
}

fn pull_buckets(version: u8, type_: u8, bytes: &[u8]) -> Result<Vec<Bucket>, OfpErr> {
    let mut r = Reader::new(bytes);
    let mut v = Vec::new();
    let mut next_id = 0;
    while !r.is_empty() {
        let mut head = r;
        let len = usize::from(head.u16().ok_or(BAD)?);
        if len < 16 || len > r.remaining() || len % 8 != 0 {
            return Err(OfpErr::OFPGMFC_BAD_BUCKET);
        }
        let mut b = Reader::new(r.bytes(len).ok_or(BAD)?);
        b.skip(2).ok_or(BAD)?;
        if is15(version) {
            let alen = usize::from(b.u16().ok_or(BAD)?);
            let bucket_id = b.u32().ok_or(BAD)?;
            let acts = b.bytes(alen).ok_or(OfpErr::OFPGMFC_BAD_BUCKET)?;
            let actions = actions::decode_actions(acts, version)?;
            let mut bucket = Bucket {
                bucket_id,
                weight: u16::from(type_ == 1),
                watch_port: crate::bits::ofpp::NONE,
                watch_group: 0xffff_ffff,
                actions,
            };
            while !b.is_empty() {
                let (ptype, p) = super::props::pull_property(&mut b)?;
                let mut pv = Reader::new(p);
                let blen = OfpErr::OFPBPC_BAD_LEN;
                match ptype {
                    0 => bucket.weight = pv.u16().ok_or(blen)?,
                    1 => {
                        bucket.watch_port =
                            port_from_ofp11(pv.u32().ok_or(blen)?).ok_or(OfpErr::OFPBRC_BAD_PORT)?
                    }
                    2 => bucket.watch_group = pv.u32().ok_or(blen)?,
                    _ => return Err(OfpErr::OFPBPC_BAD_TYPE),
                }
            }
            v.push(bucket);
        } else {
            let weight = b.u16().ok_or(BAD)?;
            let watch_port = port_from_ofp11(b.u32().ok_or(BAD)?).ok_or(OfpErr::OFPBRC_BAD_PORT)?;
            let watch_group = b.u32().ok_or(BAD)?;
            b.skip(4).ok_or(BAD)?;
            let actions = actions::decode_actions(b.rest(), version)?;
            v.push(Bucket {
                bucket_id: next_id,
                weight,
                watch_port,
                watch_group,
                actions,
            });
            next_id += 1;
        }
    }
    Ok(v)
}

fn put_buckets(version: u8, type_: u8, buckets: &[Bucket], out: &mut Vec<u8>) {
    for b in buckets {
        let acts = actions::encode_actions(&b.actions, version);
        if is15(version) {
            // Upstream sends only the properties that say something: the
            // weight of select groups' buckets, and liveness when watched.
            let mut props = Vec::new();
            if type_ == 1 {
                super::props::put_property(&mut props, 0, &b.weight.to_be_bytes());
            }
            if b.watch_port != crate::bits::ofpp::NONE {
                let port = port_to_ofp11(b.watch_port).to_be_bytes();
                super::props::put_property(&mut props, 1, &port);
            }
            if b.watch_group != 0xffff_ffff {
                super::props::put_property(&mut props, 2, &b.watch_group.to_be_bytes());
            }
            out.put_u16((8 + acts.len() + props.len()) as u16);
            out.put_u16(acts.len() as u16);
            out.put_u32(b.bucket_id);
            out.extend_from_slice(&acts);
            out.extend_from_slice(&props);
        } else {
            out.put_u16((16 + acts.len()) as u16);
            out.put_u16(b.weight);
            out.put_u32(port_to_ofp11(b.watch_port));
            out.put_u32(b.watch_group);
            out.put_zeros(4);
            out.extend_from_slice(&acts);
        }
    }
}

fn pull_group_props(bytes: &[u8]) -> Result<GroupProps, OfpErr> {
    let mut r = Reader::new(bytes);
    let mut props = GroupProps::default();
    while !r.is_empty() {
        let (ptype, p) = super::props::pull_property(&mut r)?;
        let mut v = Reader::new(p);
        let blen = OfpErr::OFPBPC_BAD_LEN;
        let vendor = if ptype == 0xffff {
            v.u32().ok_or(blen)?
        } else {
            0
        };
        if ![NTR_VENDOR_ID, NTR_COMPAT_VENDOR_ID].contains(&vendor) || v.u32().ok_or(blen)? != 1 {
            return Err(OfpErr::OFPBPC_BAD_TYPE);
        }
        v.skip(4).ok_or(blen)?;
        props.selection_method = fixed_str(v.bytes(16).ok_or(blen)?);
        props.selection_method_param = v.u64().ok_or(blen)?;
        let mut fields = Vec::new();
        while v.remaining() >= 4 {
            let Some((h, hlen)) = MfHeader::pull(v.rest()) else {
                break;
            };
            if h.to_u32() == 0 {
                break;
            }
            v.skip(hlen).ok_or(blen)?;
            let field = FieldId::from_nxm_header(&h).ok_or(OfpErr::OFPBMC_BAD_FIELD)?;
            let n = field.def().n_bytes;
            let mask = if h.has_mask || usize::from(h.length) == n && h.length != 0 {
                let bytes = v.bytes(h.value_len()).ok_or(blen)?;
                MfValue::from_bytes(&bytes[..bytes.len().min(n)])
            } else {
                MfValue::ones(n)
            };
            fields.push((field, mask));
        }
        fields.sort_by_key(|(f, _)| *f as usize);
        props.fields = fields;
    }
    Ok(props)
}

fn put_group_props(props: &GroupProps, out: &mut Vec<u8>) {
    if props.selection_method.is_empty() {
        return;
    }
    let mut body = Vec::new();
    body.put_u32(NTR_VENDOR_ID);
    body.put_u32(1);
    body.put_zeros(4);
    body.put_str_fixed(&props.selection_method, 16);
    body.put_u64(props.selection_method_param);
    for (field, mask) in &props.fields {
        if let Some(h) = field.oxm_header(5, false) {
            h.put(&mut body);
            body.extend_from_slice(mask.as_bytes());
        }
    }
    super::props::put_property(out, 0xffff, &body);
}

/// A group-mod.
#[derive(Clone, Debug, PartialEq)]
pub struct GroupMod {
    pub command: u16,
    pub type_: u8,
    pub group_id: u32,
    pub command_bucket_id: u32,
    pub buckets: Vec<Bucket>,
    pub props: GroupProps,
}

impl GroupMod {
    pub fn decode(version: u8, body: &[u8]) -> Result<GroupMod, OfpErr> {
        let mut r = Reader::new(body);
        let command = r.u16().ok_or(BAD)?;
        let type_ = r.u8().ok_or(BAD)?;
        r.skip(1).ok_or(BAD)?;
        let group_id = r.u32().ok_or(BAD)?;
        if type_ > 3 {
            return Err(OfpErr::OFPGMFC_BAD_TYPE);
        }
        // 0 add, 1 modify, 2 delete, 3 insert-bucket and 5 remove-bucket
        // (OpenFlow 1.5), 0x8000 Open vSwitch's add-or-modify.
        let valid = match command {
            0..=2 | 0x8000 => true,
            3 | 5 => is15(version),
            _ => false,
        };
        if !valid {
            return Err(OfpErr::OFPGMFC_BAD_COMMAND);
        }
        let (buckets, props, command_bucket_id);
        if is15(version) {
            let blen = usize::from(r.u16().ok_or(BAD)?);
            r.skip(2).ok_or(BAD)?;
            command_bucket_id = r.u32().ok_or(BAD)?;
            buckets = pull_buckets(
                version,
                type_,
                r.bytes(blen).ok_or(OfpErr::OFPGMFC_BAD_BUCKET)?,
            )?;
            props = pull_group_props(r.rest())?;
        } else {
            command_bucket_id = 0xffff_ffff;
            buckets = pull_buckets(version, type_, r.rest())?;
            props = GroupProps::default();
        }
        let gm = GroupMod {
            command,
            type_,
            group_id,
            command_bucket_id,
            buckets,
            props,
        };
        gm.check(version)?;
        Ok(gm)
    }

    /// Upstream's consistency rules for a decoded group-mod: bucket
    /// counts, weights and liveness per group type, and the command bucket
    /// id each command allows.
    fn check(&self, version: u8) -> Result<(), OfpErr> {
        const BUCKET_MAX: u32 = 0xffff_ff00;
        let (first, last, all) = (0xffff_fffd, 0xffff_fffe, 0xffff_ffff);
        if is15(version) {
            let id = self.command_bucket_id;
            let ok = match self.command {
                5 => id == all || id <= BUCKET_MAX || id == first || id == last,
                3 => id <= BUCKET_MAX || id == first || id == last,
                _ => id == all,
            };
            if !ok {
                return Err(OfpErr::OFPGMFC_BAD_BUCKET);
            }
        } else if version >= 4 && self.command == 2 && !self.buckets.is_empty() {
            return Err(OfpErr::OFPGMFC_INVALID_GROUP);
        }
        if self.type_ == 2 && self.command != 2 && self.buckets.len() != 1 {
            return Err(OfpErr::OFPGMFC_INVALID_GROUP);
        }
        if self.command == 5 && !self.buckets.is_empty() {
            return Err(OfpErr::OFPGMFC_BAD_BUCKET);
        }
        for b in &self.buckets {
            if b.weight != 0 && self.type_ != 1 {
                return Err(OfpErr::OFPGMFC_INVALID_GROUP);
            }
            let live = b.watch_port != crate::bits::ofpp::NONE || b.watch_group != 0xffff_ffff;
            match self.type_ {
                0 | 2 if live => return Err(OfpErr::OFPGMFC_WATCH_UNSUPPORTED),
                3 if !live => return Err(OfpErr::OFPGMFC_INVALID_GROUP),
                _ => {}
            }
        }
        Ok(())
    }

    /// The whole message in `version` (`NXT_GROUP_MOD` in OpenFlow 1.0);
    /// in the OpenFlow 1.5 layout, buckets without an id get one first.
    pub fn encode(&self, version: u8, xid: u32) -> Vec<u8> {
        use crate::raw::{finish, start, OfpRaw};
        let raw = match version {
            1 => OfpRaw::NXT_GROUP_MOD,
            2..=5 => OfpRaw::OFPT11_GROUP_MOD,
            _ => OfpRaw::OFPT15_GROUP_MOD,
        };
        let mut m = start(raw, version, xid);
        if is15(version) && self.buckets.iter().any(|b| b.bucket_id > 0xffff_ff00) {
            let mut gm = self.clone();
            super::group_text::assign_bucket_ids(&mut gm.buckets);
            gm.encode_body(version, &mut m);
        } else {
            self.encode_body(version, &mut m);
        }
        finish(m)
    }

    pub fn encode_body(&self, version: u8, out: &mut Vec<u8>) {
        out.put_u16(self.command);
        out.put_u8(self.type_);
        out.put_zeros(1);
        out.put_u32(self.group_id);
        let mut b = Vec::new();
        put_buckets(version, self.type_, &self.buckets, &mut b);
        if is15(version) {
            out.put_u16(b.len() as u16);
            out.put_zeros(2);
            out.put_u32(self.command_bucket_id);
            out.extend_from_slice(&b);
            put_group_props(&self.props, out);
        } else {
            out.extend_from_slice(&b);
        }
    }

    pub fn format(&self, version: u8, out: &mut String) {
        out.push_str("\n ");
        match self.command {
            0 => out.push_str("ADD"),
            1 => out.push_str("MOD"),
            2 => out.push_str("DEL"),
            0x8000 => out.push_str("ADD_OR_MOD"),
            3 => out.push_str("INSERT_BUCKET"),
            5 => out.push_str("REMOVE_BUCKET"),
            c => out.push_str(&format!("cmd:{c}")),
        }
        out.push(' ');
        let bucket_command = self.command == 3 || self.command == 5;
        if bucket_command {
            bucket_id(out, version, "command_bucket_id:", self.command_bucket_id);
        }
        format_group(
            out,
            version,
            self.group_id,
            self.type_,
            Some(&self.buckets),
            &self.props,
            bucket_command,
        );
    }
}

fn bucket_id(out: &mut String, version: u8, label: &str, id: u32) {
    if !is15(version) {
        return;
    }
    out.push_str(label);
    match id {
        0xffff_fffd => out.push_str("first"),
        0xffff_fffe => out.push_str("last"),
        0xffff_ffff => out.push_str("all"),
        n => out.push_str(&n.to_string()),
    }
    out.push(',');
}

/// Upstream's `ofp_print_group`.
pub fn format_group(
    out: &mut String,
    version: u8,
    group_id: u32,
    type_: u8,
    buckets: Option<&[Bucket]>,
    props: &GroupProps,
    suppress_type: bool,
) {
    out.push_str(&format!("group_id={group_id}"));
    if !suppress_type {
        let t = ["all", "select", "indirect", "ff"]
            .get(usize::from(type_))
            .copied()
            .unwrap_or("unknown");
        out.push_str(&format!(",type={t}"));
    }
    if !props.selection_method.is_empty() {
        out.push_str(&format!(",selection_method={}", props.selection_method));
        if props.selection_method_param != 0 {
            out.push_str(&format!(
                ",selection_method_param={}",
                props.selection_method_param
            ));
        }
        let fields: Vec<String> = props
            .fields
            .iter()
            .map(|(f, mask)| {
                if mask.is_all_ones() {
                    f.name().to_string()
                } else {
                    format!(
                        "{}={}",
                        f.name(),
                        flow::actions::mf::format_value(*f, mask.as_bytes(), None)
                    )
                }
            })
            .collect();
        match fields.len() {
            0 => {}
            1 => out.push_str(&format!(",fields={}", fields[0])),
            _ => out.push_str(&format!(",fields({})", fields.join(","))),
        }
    }
    let Some(buckets) = buckets else {
        return;
    };
    out.push(',');
    for b in buckets {
        out.push_str("bucket=");
        bucket_id(out, version, "bucket_id:", b.bucket_id);
        if b.weight != u16::from(type_ == 1) {
            out.push_str(&format!("weight:{},", b.weight));
        }
        if b.watch_port != crate::bits::ofpp::NONE {
            out.push_str(&format!("watch_port:{},", port_to_string(b.watch_port)));
        }
        if b.watch_group != 0xffff_ffff {
            out.push_str(&format!("watch_group:{},", b.watch_group));
        }
        out.push_str("actions=");
        out.push_str(&actions::format(&b.actions));
        out.push(',');
    }
    if out.ends_with(',') {
        out.pop();
    }
}

/// One group description.
#[derive(Clone, Debug, PartialEq)]
pub struct GroupDesc {
    pub type_: u8,
    pub group_id: u32,
    pub buckets: Vec<Bucket>,
    pub props: GroupProps,
}

impl GroupDesc {
    pub fn decode_all(version: u8, body: &[u8]) -> Result<Vec<GroupDesc>, OfpErr> {
        let mut r = Reader::new(body);
        let mut v = Vec::new();
        while !r.is_empty() {
            let mut head = r;
            let len = usize::from(head.u16().ok_or(BAD)?);
            if len < 8 || len > r.remaining() {
                return Err(BAD);
            }
            let mut e = Reader::new(r.bytes(len).ok_or(BAD)?);
            e.skip(2).ok_or(BAD)?;
            let type_ = e.u8().ok_or(BAD)?;
            e.skip(1).ok_or(BAD)?;
            let group_id = e.u32().ok_or(BAD)?;
            let (buckets, props) = if is15(version) {
                let blen = usize::from(e.u16().ok_or(BAD)?);
                e.skip(6).ok_or(BAD)?;
                let b = pull_buckets(version, type_, e.bytes(blen).ok_or(BAD)?)?;
                (b, pull_group_props(e.rest())?)
            } else {
                (
                    pull_buckets(version, type_, e.rest())?,
                    GroupProps::default(),
                )
            };
            v.push(GroupDesc {
                type_,
                group_id,
                buckets,
                props,
            });
        }
        Ok(v)
    }

    pub fn encode(&self, version: u8, out: &mut Vec<u8>) {
        let mut b = Vec::new();
        put_buckets(version, self.type_, &self.buckets, &mut b);
        let mut p = Vec::new();
        put_group_props(&self.props, &mut p);
        let head = if is15(version) { 16 } else { 8 };
        out.put_u16(pad8(head + b.len() + p.len()) as u16);
        out.put_u8(self.type_);
        out.put_zeros(1);
        out.put_u32(self.group_id);
        if is15(version) {
            out.put_u16(b.len() as u16);
            out.put_zeros(6);
        }
        out.extend_from_slice(&b);
        out.extend_from_slice(&p);
    }

    pub fn format(&self, version: u8, out: &mut String) {
        out.push_str("\n ");
        format_group(
            out,
            version,
            self.group_id,
            self.type_,
            Some(&self.buckets),
            &self.props,
            false,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_mod_round_trips() {
        for version in [1u8, 2, 4, 6] {
            let gm = GroupMod {
                command: 0,
                type_: 1,
                group_id: 5,
                command_bucket_id: 0xffff_ffff,
                buckets: vec![Bucket {
                    bucket_id: 0,
                    weight: 100,
                    watch_port: 1,
                    watch_group: 0xffff_ffff,
                    actions: actions::decode_actions(&[0, 0, 0, 8, 0, 3, 0, 0], 1).unwrap(),
                }],
                props: GroupProps::default(),
            };
            let mut b = Vec::new();
            gm.encode_body(version, &mut b);
            assert_eq!(GroupMod::decode(version, &b), Ok(gm), "version {version}");
        }
    }
}
