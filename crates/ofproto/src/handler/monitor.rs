//! Flow monitors: registering and cancelling monitors, the initial flow
//! updates of a monitor request, and encoding later updates for a
//! connection's monitors (connmgr calls [`encode_updates`]).

use crate::flow_mod::{outputs_to_port, RuleCriteria, OFPG_ANY, OFPP_ANY};
use crate::handler::dispatch::xid_of;
use crate::handler::monitor_state::{FlowUpdate, FlowUpdateEvent, MonitorSpec};
use crate::handler::multipart::Multipart;
use crate::handler::ConnState;
use crate::Ofproto;
use classifier::MiniMatch;
use openflow::msgs::monitor::{nxfmf, MonitorForm, MonitorRequest};
use openflow::nx_match;
use openflow::raw::OfpRaw;
use openflow::wire::{pad8, Put, Reader};
use openflow::OfpErr;

fn form_of(raw: OfpRaw) -> (MonitorForm, OfpRaw) {
    match raw {
        OfpRaw::NXST_FLOW_MONITOR_REQUEST => (MonitorForm::Nx, OfpRaw::NXST_FLOW_MONITOR_REPLY),
        OfpRaw::ONFST13_FLOW_MONITOR_REQUEST => {
            (MonitorForm::Onf, OfpRaw::ONFST13_FLOW_MONITOR_REPLY)
        }
        _ => (MonitorForm::Of14, OfpRaw::OFPST14_FLOW_MONITOR_REPLY),
    }
}

/// The form a connection's monitor updates use.
pub fn conn_form(conn: &ConnState) -> MonitorForm {
    match conn.version {
        1..=3 => MonitorForm::Nx,
        4 => MonitorForm::Onf,
        _ => MonitorForm::Of14,
    }
}

/// Encodes one flow update entry.
pub fn encode_update(
    form: MonitorForm,
    version: u8,
    u: &FlowUpdate,
    with_actions: bool,
) -> Vec<u8> {
    let mut e = Vec::new();
    e.put_u16(0);
    match form {
        MonitorForm::Of14 => {
            e.put_u16(match u.event {
                FlowUpdateEvent::Added => 1,
                FlowUpdateEvent::Deleted => 2,
                FlowUpdateEvent::Modified => 3,
            });
            e.put_u8(u.table_id);
            e.put_u8(u.reason);
            e.put_u16(u.idle_timeout);
            e.put_u16(u.hard_timeout);
            e.put_u16(u.priority);
            e.put_zeros(4);
            e.put_u64(u.cookie);
            e.extend_from_slice(&nx_match::put_oxm(&u.match_, version));
            if with_actions {
                e.extend_from_slice(&openflow::actions::encode_instructions(&u.actions, version));
            }
        }
        _ => {
            e.put_u16(match u.event {
                FlowUpdateEvent::Added => 0,
                FlowUpdateEvent::Deleted => 1,
                FlowUpdateEvent::Modified => 2,
            });
            // The ONF form carries a whole `ofp_match` (type, length,
            // fields, padding); its match length is the `ofp_match`'s.
            let (m, match_len) = if form == MonitorForm::Nx {
                let m = nx_match::put_nxm(&u.match_);
                let n = m.len();
                (m, n)
            } else {
                let full = nx_match::put_oxm(&u.match_, version);
                let n = full
                    .get(2..4)
                    .map_or(4, |b| usize::from(u16::from_be_bytes([b[0], b[1]])));
                (full, n)
            };
            e.put_u16(u16::from(u.reason));
            e.put_u16(u.priority);
            e.put_u16(u.idle_timeout);
            e.put_u16(u.hard_timeout);
            e.put_u16(match_len as u16);
            e.put_u8(u.table_id);
            e.put_zeros(1);
            e.put_u64(u.cookie);
            e.extend_from_slice(&m);
            e.put_zeros(pad8(m.len()) - m.len());
            if with_actions {
                let v = if form == MonitorForm::Nx { 1 } else { version };
                e.extend_from_slice(&openflow::actions::encode_actions(&u.actions, v));
            }
        }
    }
    let len = e.len() as u16;
    e[0..2].copy_from_slice(&len.to_be_bytes());
    e
}

fn wants(spec: &MonitorSpec, u: &FlowUpdate) -> bool {
    let flag = match u.event {
        FlowUpdateEvent::Added => nxfmf::ADD,
        FlowUpdateEvent::Deleted => nxfmf::DELETE,
        FlowUpdateEvent::Modified => nxfmf::MODIFY,
    };
    spec.flags & flag != 0
        && (spec.table_id == 0xff || spec.table_id == u.table_id)
        && MiniMatch::from_match(&u.match_).is_loose_match(&MiniMatch::from_match(&spec.match_))
        && (spec.out_port == OFPP_ANY as u32 || outputs_to_port(&u.actions, spec.out_port as u16))
}

/// The monitor reply messages that tell `conn` about `updates` (empty if
/// none of its monitors wants them).
pub fn encode_updates(conn: &ConnState, updates: &[FlowUpdate]) -> Vec<Vec<u8>> {
    if conn.monitors.is_empty() {
        return Vec::new();
    }
    let form = conn_form(conn);
    let raw = match form {
        MonitorForm::Nx => OfpRaw::NXST_FLOW_MONITOR_REPLY,
        MonitorForm::Onf => OfpRaw::ONFST13_FLOW_MONITOR_REPLY,
        MonitorForm::Of14 => OfpRaw::OFPST14_FLOW_MONITOR_REPLY,
    };
    let mut mp = Multipart::new(raw, conn.version, 0);
    let mut any = false;
    for u in updates {
        if let Some(spec) = conn.monitors.values().find(|s| wants(s, u)) {
            mp.push(&encode_update(
                form,
                conn.version,
                u,
                spec.flags & nxfmf::ACTIONS != 0,
            ));
            any = true;
        }
    }
    if any {
        mp.finish()
    } else {
        Vec::new()
    }
}

/// A flow monitor request: registers the monitors and replies with the
/// initial flows of those that ask for them.
pub fn monitor_request(
    ofproto: &mut Ofproto,
    conn: &mut ConnState,
    raw: OfpRaw,
    msg: &[u8],
) -> Result<Vec<Vec<u8>>, OfpErr> {
    let version = msg[0];
    let (form, reply_raw) = form_of(raw);
    let reqs = MonitorRequest::decode_all(form, &msg[raw.header_len(version)..])?;
    for r in &reqs {
        if conn.monitors.contains_key(&r.id) {
            return Err(OfpErr::OFPMOFC_MONITOR_EXISTS);
        }
        if r.table_id != 0xff && r.table_id >= crate::table::TABLE_INTERNAL {
            return Err(OfpErr::OFPBRC_BAD_TABLE_ID);
        }
    }
    let mut mp = Multipart::new(reply_raw, version, xid_of(msg));
    for r in &reqs {
        if r.flags & nxfmf::INITIAL != 0 {
            let c = RuleCriteria {
                table_id: r.table_id,
                match_: r.flow_match,
                priority: None,
                cookie: 0,
                cookie_mask: 0,
                out_port: r.out_port,
                out_group: OFPG_ANY,
            };
            for (_, rule) in ofproto.collect_rules(&c, ofproto.version)? {
                let d = rule.data();
                let u = FlowUpdate {
                    event: FlowUpdateEvent::Added,
                    reason: 0,
                    table_id: d.table_id,
                    priority: d.priority,
                    idle_timeout: d.idle_timeout(),
                    hard_timeout: d.hard_timeout(),
                    cookie: d.cookie,
                    match_: d.match_,
                    actions: d.actions.to_vec(),
                };
                let mut e = encode_update(form, version, &u, r.flags & nxfmf::ACTIONS != 0);
                if form == MonitorForm::Of14 {
                    // OFPFME_INITIAL.
                    e[2..4].copy_from_slice(&0u16.to_be_bytes());
                }
                mp.push(&e);
            }
        }
        conn.monitors.insert(
            r.id,
            MonitorSpec {
                id: r.id,
                flags: r.flags,
                out_port: u32::from(r.out_port),
                table_id: r.table_id,
                match_: r.flow_match,
            },
        );
    }
    ofproto.monitoring = true;
    Ok(mp.finish())
}

/// `NXT_FLOW_MONITOR_CANCEL`.
pub fn monitor_cancel(
    _ofproto: &mut Ofproto,
    conn: &mut ConnState,
    msg: &[u8],
) -> Result<(), OfpErr> {
    let raw = openflow::decode_raw(msg)?;
    let id = Reader::new(&msg[raw.header_len(msg[0])..])
        .u32()
        .ok_or(OfpErr::OFPBRC_BAD_LEN)?;
    conn.monitors
        .remove(&id)
        .ok_or(OfpErr::OFPMOFC_UNKNOWN_MONITOR)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::handler::monitor_state::MonitorSpec;

    fn update(event: FlowUpdateEvent, table_id: u8) -> FlowUpdate {
        let mut m = flow::Match::catchall();
        m.set_dl_type(0x0806);
        FlowUpdate {
            event,
            reason: if event == FlowUpdateEvent::Deleted {
                2
            } else {
                0
            },
            table_id,
            priority: 4,
            idle_timeout: 0,
            hard_timeout: 0,
            cookie: 9,
            match_: m,
            actions: vec![flow::actions::OfpAction::Exit],
        }
    }

    #[test]
    fn updates_go_to_the_monitors_that_want_them() {
        let mut c = ConnState::new(1, 1);
        assert!(encode_updates(&c, &[update(FlowUpdateEvent::Added, 0)]).is_empty());
        c.monitors.insert(
            3,
            MonitorSpec {
                id: 3,
                flags: nxfmf::ADD | nxfmf::DELETE | nxfmf::ACTIONS,
                out_port: 0xffff,
                table_id: 0,
                match_: flow::Match::catchall(),
            },
        );
        let ups = [
            update(FlowUpdateEvent::Added, 0),
            update(FlowUpdateEvent::Modified, 0),
            update(FlowUpdateEvent::Deleted, 0),
            update(FlowUpdateEvent::Added, 1),
        ];
        let msgs = encode_updates(&c, &ups);
        assert_eq!(msgs.len(), 1);
        let m = &msgs[0];
        assert_eq!(openflow::decode_raw(m), Ok(OfpRaw::NXST_FLOW_MONITOR_REPLY));
        // Two entries: added (event 0) and deleted (event 1, reason 2),
        // each with its NXM match and actions.
        let body = &m[24..];
        let len0 = usize::from(u16::from_be_bytes([body[0], body[1]]));
        assert_eq!(u16::from_be_bytes([body[2], body[3]]), 0);
        let e1 = &body[len0..];
        assert_eq!(u16::from_be_bytes([e1[2], e1[3]]), 1);
        assert_eq!(u16::from_be_bytes([e1[4], e1[5]]), 2);
        let len1 = usize::from(u16::from_be_bytes([e1[0], e1[1]]));
        assert_eq!(len0 + len1, body.len());
        assert_eq!(len0 % 8, 0);
    }
}
