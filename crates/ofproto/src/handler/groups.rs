//! Group requests: group-mod (add, modify, add-or-modify, delete, insert
//! and remove buckets), group statistics, descriptions and features.

use crate::bundle_txn::{RemovalKind, Txn};
use crate::expiry::RemovedReason;
use crate::flow_mod::{outputs_to_group, RuleCriteria, OFPG_ANY, OFPP_ANY, TABLE_ALL};
use crate::group::{Bucket, Group, GT_ALL, GT_FF, GT_INDIRECT, GT_SELECT};
use crate::handler::dispatch::xid_of;
use crate::handler::multipart::{reply, Multipart};
use crate::Ofproto;
use openflow::msgs::group::{self, GroupFeatures, GroupStats};
use openflow::msgs::group_mod::{self as gm, GroupDesc, GroupMod, GroupProps};
use openflow::raw::OfpRaw;
use openflow::OfpErr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Largest group id (`OFPG_MAX`).
pub const OFPG_MAX: u32 = 0xffff_ff00;
/// `OFPG_ALL`.
pub const OFPG_ALL: u32 = 0xffff_fffc;
const BUCKET_FIRST: u32 = 0xffff_fffd;
const BUCKET_LAST: u32 = 0xffff_fffe;
const BUCKET_ALL: u32 = 0xffff_ffff;
/// The highest bucket id a bucket may have (`OFPG15_BUCKET_MAX`).
const BUCKET_MAX: u32 = 0xffff_ff00;

fn has_liveness(b: &gm::Bucket) -> bool {
    b.watch_port != OFPP_ANY || b.watch_group != OFPG_ANY
}

/// Upstream's checks of a decoded group-mod.
fn check_group_mod(m: &GroupMod) -> Result<(), OfpErr> {
    let bucket_cmd = m.command == 3 || m.command == 5;
    if m.type_ == GT_INDIRECT && !bucket_cmd && m.command != 2 && m.buckets.len() != 1 {
        return Err(OfpErr::OFPGMFC_INVALID_GROUP);
    }
    if m.command == 5 && !m.buckets.is_empty() {
        return Err(OfpErr::OFPGMFC_BAD_BUCKET);
    }
    for b in &m.buckets {
        match m.type_ {
            GT_ALL | GT_INDIRECT if has_liveness(b) => {
                return Err(OfpErr::OFPGMFC_WATCH_UNSUPPORTED)
            }
            GT_FF if !has_liveness(b) => return Err(OfpErr::OFPGMFC_INVALID_GROUP),
            _ => {}
        }
    }
    Ok(())
}

fn make_bucket(b: &gm::Bucket) -> Arc<Bucket> {
    Arc::new(Bucket {
        bucket_id: b.bucket_id,
        weight: b.weight,
        watch_port: u32::from(b.watch_port),
        watch_group: b.watch_group,
        actions: b.actions.clone().into(),
        n_packets: AtomicU64::new(0),
        n_bytes: AtomicU64::new(0),
    })
}

fn wire_bucket(b: &Bucket) -> gm::Bucket {
    gm::Bucket {
        bucket_id: b.bucket_id,
        weight: b.weight,
        watch_port: b.watch_port as u16,
        watch_group: b.watch_group,
        actions: b.actions.to_vec(),
    }
}

/// The group table's wire properties of `g`.
fn props_of(g: &Group) -> GroupProps {
    GroupProps {
        selection_method: g.selection_method.clone(),
        selection_method_param: g.selection_method_param,
        fields: g.fields.clone(),
    }
}

impl Ofproto {
    fn new_group(&self, m: &GroupMod, buckets: Vec<Arc<Bucket>>) -> Group {
        Group {
            group_id: m.group_id,
            type_: m.type_,
            buckets,
            selection_method: m.props.selection_method.clone(),
            selection_method_param: m.props.selection_method_param,
            fields: m.props.fields.clone(),
            n_packets: AtomicU64::new(0),
            n_bytes: AtomicU64::new(0),
            created: self.now(),
            method_buckets: None,
        }
    }

    /// Applies one group-mod inside `txn` (the group table is restored if
    /// the transaction rolls back).
    pub(crate) fn group_mod_in(&mut self, txn: &mut Txn, m: &GroupMod) -> Result<(), OfpErr> {
        check_group_mod(m)?;
        if txn.saved_groups.is_none() {
            txn.saved_groups = Some((self.groups.clone(), self.group_order.clone()));
        }
        match m.command {
            0 | 0x8000 | 1 => {
                if m.group_id > OFPG_MAX {
                    return Err(if m.command == 1 {
                        OfpErr::OFPGMFC_UNKNOWN_GROUP
                    } else {
                        OfpErr::OFPGMFC_INVALID_GROUP
                    });
                }
                let exists = self.groups.contains_key(&m.group_id);
                match (m.command, exists) {
                    (0, true) => return Err(OfpErr::OFPGMFC_GROUP_EXISTS),
                    (1, false) => return Err(OfpErr::OFPGMFC_UNKNOWN_GROUP),
                    _ => {}
                }
                let buckets = m.buckets.iter().map(make_bucket).collect();
                let g = self.new_group(m, buckets);
                self.set_group(g);
                Ok(())
            }
            2 => {
                let ids: Vec<u32> = if m.group_id == OFPG_ALL {
                    self.groups.keys().copied().collect()
                } else {
                    vec![m.group_id]
                };
                for id in ids {
                    if self.unset_group(id) {
                        self.delete_flows_for_group(txn, id)?;
                    }
                }
                Ok(())
            }
            3 => {
                let old = self
                    .groups
                    .get(&m.group_id)
                    .cloned()
                    .ok_or(OfpErr::OFPGMFC_UNKNOWN_GROUP)?;
                // The group keeps its type (the message's is not looked at).
                let mut buckets: Vec<Arc<Bucket>> = old.buckets.clone();
                let pos = match m.command_bucket_id {
                    BUCKET_FIRST => 0,
                    BUCKET_LAST => buckets.len(),
                    // Upstream inserts after the named bucket.
                    id if id <= BUCKET_MAX => {
                        buckets
                            .iter()
                            .position(|b| b.bucket_id == id)
                            .ok_or(OfpErr::OFPGMFC_UNKNOWN_BUCKET)?
                            + 1
                    }
                    _ => return Err(OfpErr::OFPGMFC_BAD_COMMAND),
                };
                for nb in &m.buckets {
                    if buckets.iter().any(|b| b.bucket_id == nb.bucket_id) {
                        return Err(OfpErr::OFPGMFC_BUCKET_EXISTS);
                    }
                }
                let new: Vec<Arc<Bucket>> = m.buckets.iter().map(make_bucket).collect();
                buckets.splice(pos..pos, new.iter().cloned());
                let mut g = self.new_group(m, buckets);
                g.method_buckets = Some(new);
                g.type_ = old.type_;
                g.created = old.created;
                if m.props.selection_method.is_empty() {
                    g.selection_method = old.selection_method.clone();
                    g.selection_method_param = old.selection_method_param;
                    g.fields = old.fields.clone();
                }
                self.set_group(g);
                Ok(())
            }
            5 => {
                let old = self
                    .groups
                    .get(&m.group_id)
                    .cloned()
                    .ok_or(OfpErr::OFPGMFC_UNKNOWN_GROUP)?;
                let mut buckets: Vec<Arc<Bucket>> = old.buckets.clone();
                match m.command_bucket_id {
                    BUCKET_FIRST => {
                        if !buckets.is_empty() {
                            buckets.remove(0);
                        }
                    }
                    BUCKET_LAST => {
                        buckets.pop();
                    }
                    BUCKET_ALL => buckets.clear(),
                    id => {
                        let pos = buckets
                            .iter()
                            .position(|b| b.bucket_id == id)
                            .ok_or(OfpErr::OFPGMFC_UNKNOWN_BUCKET)?;
                        buckets.remove(pos);
                    }
                }
                let mut g = self.new_group(m, buckets);
                g.method_buckets = Some(Vec::new());
                g.type_ = old.type_;
                g.created = old.created;
                g.selection_method = old.selection_method.clone();
                g.selection_method_param = old.selection_method_param;
                g.fields = old.fields.clone();
                self.set_group(g);
                Ok(())
            }
            _ => Err(OfpErr::OFPGMFC_BAD_COMMAND),
        }
    }

    fn delete_flows_for_group(&mut self, txn: &mut Txn, group_id: u32) -> Result<(), OfpErr> {
        let c = RuleCriteria {
            table_id: TABLE_ALL,
            match_: flow::Match::catchall(),
            priority: None,
            cookie: 0,
            cookie_mask: 0,
            out_port: OFPP_ANY,
            out_group: group_id,
        };
        for (t, r) in self.collect_rules(&c, txn.version)? {
            self.stage_removal(txn, t, r, RemovalKind::Removed(RemovedReason::GroupDelete));
        }
        Ok(())
    }

    /// Applies one group-mod as its own transaction.
    pub fn handle_group_mod(&mut self, m: &GroupMod) -> Result<(), OfpErr> {
        let mut txn = self.begin_txn();
        match self.group_mod_in(&mut txn, m) {
            Ok(()) => {
                self.commit_txn(txn);
                Ok(())
            }
            Err(e) => {
                self.rollback_txn(txn);
                Err(e)
            }
        }
    }

    /// Rules (visible now) that use group `group_id`.
    pub fn group_ref_count(&self, group_id: u32) -> u32 {
        (0..crate::table::TABLE_INTERNAL)
            .map(|t| {
                self.tables[usize::from(t)]
                    .cls
                    .state()
                    .rules(None, self.version)
                    .filter(|r| outputs_to_group(&r.data().actions, group_id))
                    .count() as u32
            })
            .sum()
    }
}

/// Whether `version` uses the OpenFlow 1.5 group layout (so does the
/// Nicira group-mod of OpenFlow 1.0).
fn is15(version: u8) -> bool {
    version == 1 || version >= 6
}

/// Netronome's experimenter id, under which upstream puts the selection
/// method property (and the id older versions used, also accepted).
const NTR_VENDOR_ID: u32 = 0x0000_154d;
const NTR_COMPAT_VENDOR_ID: u32 = 0x0000_1540;

/// Decodes the group properties (the selection method) of an OpenFlow 1.5
/// group-mod or group description.
fn decode_group_props(bytes: &[u8]) -> Result<GroupProps, OfpErr> {
    use openflow::wire::Reader;
    let mut r = Reader::new(bytes);
    let mut props = GroupProps::default();
    let blen = OfpErr::OFPBPC_BAD_LEN;
    while !r.is_empty() {
        let (ptype, p) = openflow::msgs::props::pull_property(&mut r)?;
        let mut v = Reader::new(p);
        if ptype != 0xffff {
            return Err(OfpErr::OFPBPC_BAD_TYPE);
        }
        let exp = v.u32().ok_or(blen)?;
        let exp_type = v.u32().ok_or(blen)?;
        if (exp != NTR_VENDOR_ID && exp != NTR_COMPAT_VENDOR_ID) || exp_type != 1 {
            return Err(OfpErr::OFPBPC_BAD_EXPERIMENTER);
        }
        v.skip(4).ok_or(blen)?;
        let name = v.bytes(16).ok_or(blen)?;
        let end = name.iter().position(|&c| c == 0).unwrap_or(16);
        props.selection_method = String::from_utf8_lossy(&name[..end]).into_owned();
        if props.selection_method != "hash" && props.selection_method != "dp_hash" {
            return Err(OfpErr::OFPBPC_BAD_VALUE);
        }
        props.selection_method_param = v.u64().ok_or(blen)?;
        let mut fields = Vec::new();
        while v.remaining() >= 4 {
            let Some((h, hlen)) = flow::MfHeader::pull(v.rest()) else {
                break;
            };
            if h.to_u32() == 0 {
                break;
            }
            v.skip(hlen).ok_or(blen)?;
            let field = flow::FieldId::from_nxm_header(&h).ok_or(OfpErr::OFPBMC_BAD_FIELD)?;
            let n = field.def().n_bytes;
            let bytes = v.bytes(h.value_len()).ok_or(blen)?;
            let mask = if h.has_mask {
                flow::MfValue::from_bytes(&bytes[bytes.len() / 2..])
            } else {
                flow::MfValue::from_bytes(&bytes[..bytes.len().min(n)])
            };
            fields.push((field, mask));
        }
        fields.sort_by_key(|(f, _)| *f as usize);
        props.fields = fields;
    }
    Ok(props)
}

/// Encodes the selection method property as upstream does.
fn encode_group_props(props: &GroupProps, version: u8, out: &mut Vec<u8>) {
    use openflow::wire::Put;
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
        if let Some(h) = field.oxm_header(version.max(6), false) {
            h.put(&mut body);
            body.extend_from_slice(mask.as_bytes());
        }
    }
    openflow::msgs::props::put_property(out, 0xffff, &body);
}

/// Decodes a group-mod message.
pub fn decode_group_mod(msg: &[u8]) -> Result<GroupMod, OfpErr> {
    let raw = openflow::decode_raw(msg)?;
    let version = msg[0];
    let body = &msg[raw.header_len(version)..];
    if !is15(version) {
        return GroupMod::decode(version, body);
    }
    // The codec's property parser does not know upstream's experimenter
    // id: decode the group and its buckets without the properties, then
    // the properties here.
    let blen = body
        .get(8..10)
        .map(|b| usize::from(u16::from_be_bytes([b[0], b[1]])))
        .ok_or(OfpErr::OFPBRC_BAD_LEN)?;
    let split = (16 + blen).min(body.len());
    let mut m = GroupMod::decode(version, &body[..split])?;
    m.props = decode_group_props(&body[split..])?;
    Ok(m)
}

/// Encodes one group description (the layout of `version`).
fn encode_group_desc(g: &Group, version: u8, out: &mut Vec<u8>) {
    use openflow::wire::{pad8, Put};
    if !is15(version) {
        let d = GroupDesc {
            type_: g.type_,
            group_id: g.group_id,
            buckets: g.buckets.iter().map(|b| wire_bucket(b)).collect(),
            // Group properties exist from OpenFlow 1.5 on.
            props: GroupProps::default(),
        };
        d.encode(version, out);
        return;
    }
    let mut buckets = Vec::new();
    for b in &g.buckets {
        let acts = openflow::actions::encode_actions(&b.actions, version);
        let mut props = Vec::new();
        if g.type_ == GT_SELECT {
            openflow::msgs::props::put_property(
                &mut props,
                0,
                &[(b.weight >> 8) as u8, b.weight as u8, 0, 0],
            );
        }
        if b.watch_port != u32::from(OFPP_ANY) {
            let p = openflow::bits::port_to_ofp11(b.watch_port as u16);
            openflow::msgs::props::put_property(&mut props, 1, &p.to_be_bytes());
        }
        if b.watch_group != OFPG_ANY {
            openflow::msgs::props::put_property(&mut props, 2, &b.watch_group.to_be_bytes());
        }
        buckets.put_u16((8 + acts.len() + props.len()) as u16);
        buckets.put_u16(acts.len() as u16);
        buckets.put_u32(b.bucket_id);
        buckets.extend_from_slice(&acts);
        buckets.extend_from_slice(&props);
    }
    let mut props = Vec::new();
    encode_group_props(&props_of(g), version, &mut props);
    out.put_u16(pad8(16 + buckets.len() + props.len()) as u16);
    out.put_u8(g.type_);
    out.put_zeros(1);
    out.put_u32(g.group_id);
    out.put_u16(buckets.len() as u16);
    out.put_zeros(6);
    out.extend_from_slice(&buckets);
    out.extend_from_slice(&props);
}

/// Handles a group-mod message.
pub fn handle_group_mod(ofproto: &mut Ofproto, _raw: OfpRaw, msg: &[u8]) -> Result<(), OfpErr> {
    let m = decode_group_mod(msg)?;
    ofproto.handle_group_mod(&m)
}

fn body(raw: OfpRaw, msg: &[u8]) -> &[u8] {
    &msg[raw.header_len(msg[0]).min(msg.len())..]
}

/// Group statistics request.
pub fn group_stats(ofproto: &Ofproto, raw: OfpRaw, msg: &[u8]) -> Result<Vec<Vec<u8>>, OfpErr> {
    let version = msg[0];
    let id = group::decode_request(body(raw, msg))?;
    let reply_raw = match (raw, version) {
        (OfpRaw::NXST_GROUP_REQUEST, _) => OfpRaw::NXST_GROUP_REPLY,
        (_, 2 | 3) => OfpRaw::OFPST11_GROUP_REPLY,
        _ => OfpRaw::OFPST13_GROUP_REPLY,
    };
    let now = ofproto.now();
    let mut mp = Multipart::new(reply_raw, version, xid_of(msg));
    for g in ofproto.groups_in_order() {
        if id != OFPG_ALL && g.group_id != id {
            continue;
        }
        let (sec, nsec) = crate::stats::duration(g.created, now);
        let s = GroupStats {
            group_id: g.group_id,
            ref_count: ofproto.group_ref_count(g.group_id),
            packet_count: g.n_packets.load(Ordering::Relaxed),
            byte_count: g.n_bytes.load(Ordering::Relaxed),
            duration_sec: sec,
            duration_nsec: nsec,
            buckets: g
                .buckets
                .iter()
                .map(|b| {
                    (
                        b.n_packets.load(Ordering::Relaxed),
                        b.n_bytes.load(Ordering::Relaxed),
                    )
                })
                .collect(),
        };
        let mut e = Vec::new();
        group::encode_stats(version, &mut e, std::slice::from_ref(&s));
        mp.push(&e);
    }
    Ok(mp.finish())
}

/// Group description request.
pub fn group_desc(ofproto: &Ofproto, raw: OfpRaw, msg: &[u8]) -> Result<Vec<Vec<u8>>, OfpErr> {
    let version = msg[0];
    let id = if raw == OfpRaw::OFPST11_GROUP_DESC_REQUEST {
        OFPG_ALL
    } else {
        group::decode_request(body(raw, msg))?
    };
    let reply_raw = if raw == OfpRaw::NXST_GROUP_DESC_REQUEST {
        OfpRaw::NXST_GROUP_DESC_REPLY
    } else {
        OfpRaw::OFPST11_GROUP_DESC_REPLY
    };
    let mut mp = Multipart::new(reply_raw, version, xid_of(msg));
    for g in ofproto.groups_in_order() {
        if id != OFPG_ALL && g.group_id != id {
            continue;
        }
        let mut e = Vec::new();
        encode_group_desc(&g, version, &mut e);
        mp.push(&e);
    }
    Ok(mp.finish())
}

/// Group features request.
pub fn group_features(raw: OfpRaw, msg: &[u8]) -> Result<Vec<Vec<u8>>, OfpErr> {
    let version = msg[0];
    let actions = match version {
        1 => 0x0000_0fff,
        2 => 0x01ff_e7ff,
        _ => 0x03ff_8001,
    };
    let f = GroupFeatures {
        types: 0xf,
        capabilities: 0x7,
        max_groups: [OFPG_MAX; 4],
        actions: [actions; 4],
    };
    let mut b = Vec::new();
    f.encode_body(&mut b);
    let reply_raw = if raw == OfpRaw::NXST_GROUP_FEATURES_REQUEST {
        OfpRaw::NXST_GROUP_FEATURES_REPLY
    } else {
        OfpRaw::OFPST12_GROUP_FEATURES_REPLY
    };
    Ok(vec![reply(reply_raw, version, xid_of(msg), &b)])
}
