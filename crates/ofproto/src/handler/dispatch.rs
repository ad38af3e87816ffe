//! The request dispatcher: decodes the message type and hands it to the
//! handler of its family.

use crate::handler::ConnState;
use crate::Ofproto;
use openflow::raw::{decode_raw, finish, start, OfpRaw};
use openflow::{encode_error_reply, OfpErr};

/// Handles one message; see [`Ofproto::handle_openflow`].
pub fn handle(ofproto: &mut Ofproto, conn: &mut ConnState, msg: &[u8]) -> Vec<Vec<u8>> {
    let _ = (&ofproto, &conn);
    let raw = match decode_raw(msg) {
        Ok(raw) => raw,
        Err(e) => return vec![encode_error_reply(e, msg)],
    };
    let version = msg[0];
    let xid = u32::from_be_bytes([msg[4], msg[5], msg[6], msg[7]]);
    match raw {
        OfpRaw::OFPT10_BARRIER_REQUEST => {
            vec![finish(start(OfpRaw::OFPT10_BARRIER_REPLY, version, xid))]
        }
        OfpRaw::OFPT11_BARRIER_REQUEST => {
            vec![finish(start(OfpRaw::OFPT11_BARRIER_REPLY, version, xid))]
        }
        _ => vec![encode_error_reply(OfpErr::OFPBRC_BAD_TYPE, msg)],
    }
}
