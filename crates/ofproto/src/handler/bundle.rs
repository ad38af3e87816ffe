//! Bundle requests: open, add, close, commit (atomic: every flow-mod and
//! group-mod of the bundle in one transaction) and discard.

use crate::bundle_txn::Bundle;
use crate::handler::dispatch::error_reply;
use crate::handler::dispatch::xid_of;
use crate::handler::multipart::reply;
use crate::handler::{flows, groups, packet_out, ConnState, PacketOutRequest};
use crate::Ofproto;
use openflow::msgs::control::BundleCtrl;
use openflow::raw::OfpRaw;
use openflow::wire::Reader;
use openflow::OfpErr;

const OPEN: u16 = 0;
const CLOSE: u16 = 2;
const COMMIT: u16 = 4;
const DISCARD: u16 = 6;
/// `OFPBF_ATOMIC | OFPBF_ORDERED`.
const FLAGS: u16 = 3;
/// Open bundles per connection.
const MAX_BUNDLES: usize = 256;

fn ctrl_reply(raw: OfpRaw, msg: &[u8], c: &BundleCtrl, type_: u16) -> Vec<u8> {
    let mut b = Vec::new();
    BundleCtrl {
        bundle_id: c.bundle_id,
        type_,
        flags: c.flags,
    }
    .encode_body(&mut b);
    reply(raw, msg[0], xid_of(msg), &b)
}

/// `OFPT_BUNDLE_CONTROL` / `ONFT_BUNDLE_CONTROL`.
pub fn bundle_control(
    ofproto: &mut Ofproto,
    conn: &mut ConnState,
    raw: OfpRaw,
    msg: &[u8],
) -> Result<Vec<Vec<u8>>, OfpErr> {
    let c = BundleCtrl::decode(&msg[raw.header_len(msg[0])..])?;
    if c.flags & !FLAGS != 0 {
        return Err(OfpErr::OFPBFC_BAD_FLAGS);
    }
    match c.type_ {
        OPEN => {
            if conn.bundles.remove(&c.bundle_id).is_some() {
                return Err(OfpErr::OFPBFC_BAD_ID);
            }
            if conn.bundles.len() >= MAX_BUNDLES {
                return Err(OfpErr::OFPBFC_OUT_OF_BUNDLES);
            }
            conn.bundles.insert(
                c.bundle_id,
                Bundle {
                    id: c.bundle_id,
                    flags: c.flags,
                    closed: false,
                    msgs: Vec::new(),
                },
            );
            Ok(vec![ctrl_reply(raw, msg, &c, OPEN + 1)])
        }
        CLOSE => {
            let b = conn
                .bundles
                .get_mut(&c.bundle_id)
                .ok_or(OfpErr::OFPBFC_BAD_ID)?;
            if b.closed {
                conn.bundles.remove(&c.bundle_id);
                return Err(OfpErr::OFPBFC_BUNDLE_CLOSED);
            }
            if b.flags != c.flags {
                conn.bundles.remove(&c.bundle_id);
                return Err(OfpErr::OFPBFC_BAD_FLAGS);
            }
            b.closed = true;
            Ok(vec![ctrl_reply(raw, msg, &c, CLOSE + 1)])
        }
        COMMIT => {
            let b = conn
                .bundles
                .remove(&c.bundle_id)
                .ok_or(OfpErr::OFPBFC_BAD_ID)?;
            if b.flags != c.flags {
                return Err(OfpErr::OFPBFC_BAD_FLAGS);
            }
            match commit(ofproto, conn, &b) {
                Ok(pos) => {
                    conn.packet_outs.extend(pos);
                    Ok(vec![ctrl_reply(raw, msg, &c, COMMIT + 1)])
                }
                Err((inner, e)) => Ok(vec![
                    error_reply(e, &inner),
                    error_reply(OfpErr::OFPBFC_MSG_FAILED, msg),
                ]),
            }
        }
        DISCARD => {
            conn.bundles
                .remove(&c.bundle_id)
                .ok_or(OfpErr::OFPBFC_BAD_ID)?;
            Ok(vec![ctrl_reply(raw, msg, &c, DISCARD + 1)])
        }
        _ => Err(OfpErr::OFPBFC_BAD_TYPE),
    }
}

/// Runs every message of `b` in one transaction.
fn commit(
    ofproto: &mut Ofproto,
    conn: &ConnState,
    b: &Bundle,
) -> Result<Vec<PacketOutRequest>, (Vec<u8>, OfpErr)> {
    let mut txn = ofproto.begin_txn();
    let mut pos = Vec::new();
    for m in &b.msgs {
        let r = (|| -> Result<(), OfpErr> {
            let raw = openflow::decode_raw(m)?;
            match raw {
                OfpRaw::OFPT10_FLOW_MOD | OfpRaw::OFPT11_FLOW_MOD | OfpRaw::NXT_FLOW_MOD => {
                    let fm = flows::decode_flow_mod(conn, raw, m)?;
                    ofproto.flow_mod_in(&mut txn, &fm)
                }
                OfpRaw::NXT_GROUP_MOD | OfpRaw::OFPT11_GROUP_MOD | OfpRaw::OFPT15_GROUP_MOD => {
                    let gm = groups::decode_group_mod(m)?;
                    ofproto.group_mod_in(&mut txn, &gm)
                }
                OfpRaw::OFPT10_PACKET_OUT
                | OfpRaw::OFPT11_PACKET_OUT
                | OfpRaw::OFPT15_PACKET_OUT => {
                    pos.push(packet_out::decode_packet_out(ofproto, conn, m)?);
                    Ok(())
                }
                _ => Err(OfpErr::OFPBFC_MSG_UNSUP),
            }
        })();
        if let Err(e) = r {
            ofproto.rollback_txn(txn);
            return Err((m.clone(), e));
        }
    }
    ofproto.commit_txn(txn);
    Ok(pos)
}

/// `OFPT_BUNDLE_ADD_MESSAGE` / `ONFT_BUNDLE_ADD_MESSAGE`.
pub fn bundle_add(
    ofproto: &mut Ofproto,
    conn: &mut ConnState,
    raw: OfpRaw,
    msg: &[u8],
) -> Result<(), OfpErr> {
    let body = &msg[raw.header_len(msg[0])..];
    let mut r = Reader::new(body);
    let bundle_id = r.u32().ok_or(OfpErr::OFPBRC_BAD_LEN)?;
    r.skip(2).ok_or(OfpErr::OFPBRC_BAD_LEN)?;
    let flags = r.u16().ok_or(OfpErr::OFPBRC_BAD_LEN)?;
    let inner = r.rest();
    let ilen = inner
        .get(2..4)
        .map(|b| usize::from(u16::from_be_bytes([b[0], b[1]])))
        .ok_or(OfpErr::OFPBFC_MSG_BAD_LEN)?;
    if ilen < 8 || ilen > inner.len() {
        return Err(OfpErr::OFPBFC_MSG_BAD_LEN);
    }
    let inner = &inner[..ilen];
    if inner[0] != msg[0] {
        return Err(OfpErr::OFPBFC_BAD_VERSION);
    }
    if xid_of(inner) != xid_of(msg) {
        return Err(OfpErr::OFPBFC_MSG_BAD_XID);
    }
    let iraw = openflow::decode_raw(inner)?;
    // Validate now, as upstream does, so errors come back on the add.
    match iraw {
        OfpRaw::OFPT10_FLOW_MOD | OfpRaw::OFPT11_FLOW_MOD | OfpRaw::NXT_FLOW_MOD => {
            let fm = flows::decode_flow_mod(conn, iraw, inner)?;
            ofproto.check_tlv_fields(&fm.match_, &fm.actions)?;
            ofproto.flow_mod_precheck(&fm)?;
        }
        OfpRaw::NXT_GROUP_MOD | OfpRaw::OFPT11_GROUP_MOD | OfpRaw::OFPT15_GROUP_MOD => {
            groups::decode_group_mod(inner)?;
        }
        OfpRaw::OFPT10_PACKET_OUT | OfpRaw::OFPT11_PACKET_OUT | OfpRaw::OFPT15_PACKET_OUT => {
            packet_out::decode_packet_out(ofproto, conn, inner)?;
        }
        _ => return Err(OfpErr::OFPBFC_MSG_UNSUP),
    }
    if !conn.bundles.contains_key(&bundle_id) {
        if conn.bundles.len() >= MAX_BUNDLES {
            return Err(OfpErr::OFPBFC_OUT_OF_BUNDLES);
        }
        conn.bundles.insert(
            bundle_id,
            Bundle {
                id: bundle_id,
                flags,
                closed: false,
                msgs: Vec::new(),
            },
        );
    }
    let b = conn
        .bundles
        .get_mut(&bundle_id)
        .ok_or(OfpErr::OFPBFC_BAD_ID)?;
    if b.closed {
        conn.bundles.remove(&bundle_id);
        return Err(OfpErr::OFPBFC_BUNDLE_CLOSED);
    }
    if b.flags != flags {
        conn.bundles.remove(&bundle_id);
        return Err(OfpErr::OFPBFC_BAD_FLAGS);
    }
    b.msgs.push(inner.to_vec());
    Ok(())
}
