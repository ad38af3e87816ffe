//! Packet-out: decoded and validated here, executed by the caller (the
//! vswitchd translates the actions and runs them on the datapath).

use crate::handler::{ConnState, PacketOutRequest};
use crate::Ofproto;
use flow::actions::OfpPort;
use openflow::msgs::packet_out::PacketOut;
use openflow::OfpErr;

fn act_err(e: flow::actions::OfpErr) -> OfpErr {
    OfpErr::from_name(e.name()).unwrap_or(OfpErr::OFPBAC_BAD_TYPE)
}

/// Decodes and checks a packet-out; the accepted request is queued on the
/// connection ([`ConnState::take_packet_outs`]).
pub fn packet_out(ofproto: &mut Ofproto, conn: &mut ConnState, msg: &[u8]) -> Result<(), OfpErr> {
    let req = decode_packet_out(ofproto, conn, msg)?;
    conn.packet_outs.push(req);
    Ok(())
}

/// Decodes and checks a packet-out message.
pub fn decode_packet_out(
    ofproto: &Ofproto,
    conn: &ConnState,
    msg: &[u8],
) -> Result<PacketOutRequest, OfpErr> {
    let version = msg[0];
    let raw = openflow::decode_raw(msg)?;
    let po = PacketOut::decode(version, &msg[raw.header_len(version)..])?;
    if po.buffer_id != u32::MAX {
        return Err(OfpErr::OFPBRC_BUFFER_UNKNOWN);
    }
    let mut actions = po.actions;
    // The actions are checked against the packet itself: its headers
    // (extracted) together with the metadata the message gave.
    let md = packet::extract::Metadata {
        in_port: po.metadata.flow.in_port,
        ..Default::default()
    };
    let mut with_packet = po.metadata.clone();
    with_packet.flow = po
        .metadata
        .flow
        .or(&packet::extract::extract(&po.data, &md));
    flow::actions::check_consistency(
        &mut actions,
        &with_packet,
        OfpPort::MAX,
        0,
        255,
        crate::handler::flows::conn_protocol(conn),
    )
    .map_err(act_err)?;
    ofproto.check_action_refs(&actions)?;
    Ok(PacketOutRequest {
        packet: po.data,
        in_port: po.metadata.flow.in_port,
        metadata: po.metadata,
        actions,
    })
}
