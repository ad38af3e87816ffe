//! `ofp-print`: rendering whole OpenFlow messages as upstream's
//! `ofp_to_string` does, byte for byte, including the texts for empty,
//! short, truncated and undecodable messages.

use crate::errors::{decode_error_body, OfpErr};
use crate::msgs::{control, group, meter, port, queue, stats, switch};
use crate::raw::{decode_raw, decode_raw_partial, stats_flags, OfpRaw};
use crate::version::{version_to_string, OfpVersion};
use crate::wire::{hex_dump, Reader};

/// Upstream's `ofp_to_string`.
pub fn ofp_to_string(msg: &[u8], verbosity: u32) -> String {
    let mut s = String::new();
    if msg.is_empty() {
        s.push_str("OpenFlow message is empty\n");
        return s;
    }
    if msg.len() < 8 {
        s.push_str(&format!(
            "OpenFlow packet too short (only {} bytes):\n",
            msg.len()
        ));
        s.push_str(&hex_dump(msg, 0, true));
        return s;
    }
    let length = usize::from(u16::from_be_bytes([msg[2], msg[3]]));
    if length > msg.len() {
        if let Ok(raw) = decode_raw_partial(msg) {
            header_to_string(&mut s, msg, raw);
            s.push('\n');
        }
        s.push_str(&format!(
            "(***truncated to {} bytes from {}***)\n",
            msg.len(),
            length
        ));
    } else if length < msg.len() {
        s.push_str(&format!(
            "(***only uses {} bytes out of {}***)\n",
            length,
            msg.len()
        ));
    } else {
        let result = decode_raw(msg).and_then(|raw| {
            header_to_string(&mut s, msg, raw);
            body_to_string(&mut s, msg, raw, verbosity)
        });
        match result {
            Ok(()) => {
                if verbosity >= 5 {
                    if !s.ends_with('\n') {
                        s.push('\n');
                    }
                    s.push_str(&hex_dump(msg, 0, true));
                }
                if !s.ends_with('\n') {
                    s.push('\n');
                }
                return s;
            }
            Err(e) => {
                if !s.is_empty() {
                    s.push(' ');
                }
                s.push_str(&format!("***decode error: {}***\n", e.name()));
            }
        }
    }
    s.push_str(&hex_dump(msg, 0, true));
    s
}

/// `NAME (OFx.y) (xid=0x..):`
fn header_to_string(s: &mut String, msg: &[u8], raw: OfpRaw) {
    s.push_str(raw.name());
    if msg[0] != 1 {
        s.push_str(&format!(" ({})", version_to_string(msg[0])));
    }
    let xid = u32::from_be_bytes([msg[4], msg[5], msg[6], msg[7]]);
    s.push_str(&format!(" (xid={xid:#x}):"));
}

/// Stats replies print `flags=[more]` when more parts follow.
fn stats_more(s: &mut String, msg: &[u8]) {
    let flags = stats_flags(msg);
    if flags & 1 != 0 {
        s.push_str(" flags=[more]");
        if flags & !1 != 0 {
            s.push_str(&format!("[***unknown flags 0x{:04x}***]", flags & !1));
        }
    } else if flags != 0 {
        s.push_str(&format!(" ***unknown flags 0x{flags:04x}***"));
    }
}

/// Appends the printed body of a complete, header-valid message.
fn body_to_string(s: &mut String, msg: &[u8], raw: OfpRaw, verbosity: u32) -> Result<(), OfpErr> {
    use OfpRaw::*;
    let version = msg[0];
    let body = &msg[raw.header_len(version)..];
    let info = raw.info();
    if matches!(
        info.class,
        crate::raw::Class::St(_, true)
            | crate::raw::Class::Nxst(_, true)
            | crate::raw::Class::Onfst(_, true)
    ) {
        stats_more(s, msg);
    }
    match raw {
        OFPT_HELLO => switch::Hello::decode(msg).format(msg, s),
        OFPT_ERROR => format_error(s, msg)?,
        OFPT_ECHO_REQUEST | OFPT_ECHO_REPLY => switch::format_echo(body, verbosity, s),
        OFPT_FEATURES_REQUEST
        | OFPT_GET_CONFIG_REQUEST
        | OFPT10_BARRIER_REQUEST
        | OFPT11_BARRIER_REQUEST
        | OFPT10_BARRIER_REPLY
        | OFPT11_BARRIER_REPLY
        | OFPT13_GET_ASYNC_REQUEST
        | OFPT14_GET_ASYNC_REQUEST
        | NXT_FLOW_AGE
        | NXT_FLOW_MONITOR_PAUSED
        | ONFT13_FLOW_MONITOR_PAUSED
        | NXT_FLOW_MONITOR_RESUMED
        | ONFT13_FLOW_MONITOR_RESUMED
        | NXT_TLV_TABLE_REQUEST
        | OFPST_DESC_REQUEST
        | OFPST_TABLE_REQUEST
        | OFPST12_GROUP_FEATURES_REQUEST
        | NXST_GROUP_FEATURES_REQUEST
        | OFPST13_METER_FEATURES_REQUEST
        | OFPST14_TABLE_DESC_REQUEST
        | NXST_IPFIX_BRIDGE_REQUEST
        | NXST_IPFIX_FLOW_REQUEST => {}
        OFPT10_FEATURES_REPLY | OFPT11_FEATURES_REPLY | OFPT13_FEATURES_REPLY => {
            switch::SwitchFeatures::decode(version, body)?.format(version, s)
        }
        OFPT_GET_CONFIG_REPLY | OFPT_SET_CONFIG => {
            switch::SwitchConfig::decode(body)?.format(version, s)
        }
        OFPT10_PORT_STATUS | OFPT11_PORT_STATUS | OFPT14_PORT_STATUS => {
            let mut r = Reader::new(body);
            let reason = r.u8().ok_or(OfpErr::OFPBRC_BAD_LEN)?;
            r.skip(7).ok_or(OfpErr::OFPBRC_BAD_LEN)?;
            let p = port::PhyPort::decode(version, &mut r)?;
            s.push_str(match reason {
                0 => " ADD:",
                1 => " DEL:",
                2 => " MOD:",
                _ => return Err(OfpErr::NXBRC_BAD_REASON),
            });
            p.format(s);
        }
        OFPT10_PORT_MOD | OFPT11_PORT_MOD | OFPT14_PORT_MOD => {
            port::PortMod::decode(version, body)?.format(s)
        }
        OFPT11_TABLE_MOD | OFPT14_TABLE_MOD => control::TableMod::decode(version, body)?.format(s),
        OFPST_DESC_REPLY => stats::DescStats::decode(body)?.format(s),
        OFPST10_PORT_REQUEST | OFPST11_PORT_REQUEST => {
            let p = stats::decode_port_request(version, body)?;
            s.push_str(&format!(" port_no={}", crate::bits::port_to_string(p)));
        }
        OFPST10_PORT_DESC_REQUEST => s.push_str(" port=ANY"),
        OFPST15_PORT_DESC_REQUEST => {
            let p = stats::decode_port_request(version, body)?;
            s.push_str(&format!(" port={}", crate::bits::port_to_string(p)));
        }
        OFPST10_PORT_REPLY | OFPST11_PORT_REPLY | OFPST13_PORT_REPLY | OFPST14_PORT_REPLY => {
            let ports = stats::decode_port_stats(version, body)?;
            s.push_str(&format!(" {} ports\n", ports.len()));
            ports.iter().for_each(|p| p.format(s));
        }
        OFPST10_PORT_DESC_REPLY | OFPST11_PORT_DESC_REPLY | OFPST14_PORT_DESC_REPLY => {
            s.push('\n');
            let ports = port::decode_ports(version, body)?;
            port::format_ports(s, &ports);
        }
        OFPST10_QUEUE_REQUEST | OFPST11_QUEUE_REQUEST => {
            stats::QueueRequest::decode(version, body)?.format(s)
        }
        OFPST10_QUEUE_REPLY | OFPST11_QUEUE_REPLY | OFPST13_QUEUE_REPLY | OFPST14_QUEUE_REPLY => {
            let queues = stats::decode_queue_stats(version, body)?;
            s.push_str(&format!(" {} queues\n", queues.len()));
            queues.iter().for_each(|q| q.format(s));
        }
        OFPST14_TABLE_DESC_REPLY => {
            for td in crate::msgs::table_desc::decode_all(body)? {
                s.push('\n');
                td.format(s);
            }
        }
        OFPT14_TABLE_STATUS => crate::msgs::table_desc::format_status(s, body)?,
        NXT_TLV_TABLE_MOD => crate::msgs::tlv_table::TlvTableMod::decode(body)?.format(s),
        NXT_TLV_TABLE_REPLY => crate::msgs::tlv_table::TlvTableReply::decode(body)?.format(s),
        OFPST11_TABLE_REPLY | OFPST12_TABLE_REPLY => {
            use crate::msgs::table_features::{decode_of11_table_stats, decode_of12_table_stats};
            let all = if raw == OFPST11_TABLE_REPLY {
                decode_of11_table_stats(body)?
            } else {
                decode_of12_table_stats(body)?
            };
            let pieces = all.iter().enumerate().map(|(i, (t, st))| {
                let prev = i.checked_sub(1).map(|p| &all[p]);
                let mut piece = String::new();
                t.format_with_stats(&mut piece, prev.map(|p| &p.0), Some(*st), prev.map(|p| p.1));
                (t.table_id, !t.name.is_empty(), piece)
            });
            s.push_str(&crate::msgs::table_features::fold_dittos(pieces));
        }
        OFPST10_TABLE_REPLY | OFPST13_TABLE_REPLY => {
            let mut r = Reader::new(body);
            let mut tables = Vec::new();
            while !r.is_empty() {
                tables.push(stats::TableStats::decode(version, &mut r)?);
            }
            stats::format_table_stats(s, version, &tables);
        }
        NXST_GROUP_REQUEST
        | OFPST11_GROUP_REQUEST
        | NXST_GROUP_DESC_REQUEST
        | OFPST15_GROUP_DESC_REQUEST => group::format_request(s, group::decode_request(body)?),
        OFPST11_GROUP_DESC_REQUEST => group::format_request(s, 0xffff_fffc),
        NXST_GROUP_REPLY | OFPST11_GROUP_REPLY | OFPST13_GROUP_REPLY => {
            group::decode_stats(version, body)?
                .iter()
                .for_each(|g| g.format(s));
        }
        NXST_GROUP_FEATURES_REPLY | OFPST12_GROUP_FEATURES_REPLY => {
            group::GroupFeatures::decode(body)?.format(version, s)
        }
        OFPT13_METER_MOD => meter::MeterMod::decode(body)?.format(s),
        OFPST13_METER_REQUEST | OFPST13_METER_CONFIG_REQUEST => {
            let id = meter::decode_request(body)?;
            s.push_str(&format!(" meter={}", crate::bits::meter_id_to_string(id)));
        }
        OFPST13_METER_CONFIG_REPLY => {
            for c in meter::decode_configs(body)? {
                s.push('\n');
                c.format(s);
            }
        }
        OFPST13_METER_REPLY => {
            for m in meter::decode_stats(body)? {
                s.push('\n');
                m.format(s);
            }
        }
        OFPST13_METER_FEATURES_REPLY => meter::MeterFeatures::decode(body)?.format(s),
        OFPT10_QUEUE_GET_CONFIG_REQUEST | OFPT11_QUEUE_GET_CONFIG_REQUEST => {
            let (p, _) = queue::decode_request(version, body)?;
            s.push_str(&format!(" port={}", crate::bits::port_to_string(p)));
        }
        OFPST14_QUEUE_DESC_REQUEST => {
            let (p, q) = queue::decode_request(version, body)?;
            s.push_str(&format!(" port={}", crate::bits::port_to_string(p)));
            if q != 0xffff_ffff {
                s.push_str(&format!(" queue={}", crate::bits::queue_to_string(q)));
            }
        }
        OFPT10_QUEUE_GET_CONFIG_REPLY
        | OFPT11_QUEUE_GET_CONFIG_REPLY
        | OFPST14_QUEUE_DESC_REPLY => queue::format_reply(s, &queue::decode_reply(version, body)?),
        OFPT12_ROLE_REQUEST | OFPT12_ROLE_REPLY => {
            control::RoleRequest::decode_of12(body)?.format(s)
        }
        NXT_ROLE_REQUEST | NXT_ROLE_REPLY => control::RoleRequest::decode_nx(body)?.format(s),
        ONFT13_ROLE_STATUS | OFPT14_ROLE_STATUS => control::RoleStatus::decode(body)?.format(s),
        OFPT13_GET_ASYNC_REPLY | OFPT13_SET_ASYNC | NXT_SET_ASYNC_CONFIG => {
            control::AsyncConfig::decode_legacy(version, body)?.format(s)
        }
        OFPT14_GET_ASYNC_REPLY => {
            control::AsyncConfig::decode_props(version, body, true)?.format(s)
        }
        OFPT14_SET_ASYNC | NXT_SET_ASYNC_CONFIG2 => {
            control::AsyncConfig::decode_props(version, body, false)?.format(s)
        }
        OFPT14_BUNDLE_CONTROL | ONFT13_BUNDLE_CONTROL => {
            control::BundleCtrl::decode(body)?.format(s)
        }
        OFPT14_BUNDLE_ADD_MESSAGE | ONFT13_BUNDLE_ADD_MESSAGE => {
            format_bundle_add(s, msg, raw, body, verbosity)?
        }
        NXT_REQUESTFORWARD | ONFT13_REQUESTFORWARD | OFPT14_REQUESTFORWARD => {
            format_requestforward(s, msg, body)?
        }
        NXT_SET_FLOW_FORMAT => control::format_flow_format(s, control::decode_u32(body)?),
        NXT_SET_PACKET_IN_FORMAT => {
            let name = control::packet_in_format_name(control::decode_u32(body)?)?;
            s.push_str(&format!(" format={name}"));
        }
        NXT_SET_CONTROLLER_ID => {
            s.push_str(&format!(" id={}", control::decode_padded_u16(body)?));
        }
        NXT_CT_FLUSH_ZONE => {
            s.push_str(&format!(" zone_id={}", control::decode_padded_u16(body)?));
        }
        NXT_FLOW_MOD_TABLE_ID => {
            let set = body.first().copied().ok_or(OfpErr::OFPBRC_BAD_LEN)?;
            s.push_str(if set != 0 { " enable" } else { " disable" });
        }
        NXT_FLOW_MONITOR_CANCEL | ONFT13_FLOW_MONITOR_CANCEL => {
            s.push_str(&format!(" id={}", control::decode_u32(body)?));
        }
        NXST_IPFIX_BRIDGE_REPLY => {
            let st = stats::IpfixStats::decode(&mut Reader::new(body))?;
            s.push_str("\n  bridge ipfix: ");
            st.format(s, "                ");
        }
        NXST_IPFIX_FLOW_REPLY => {
            let mut r = Reader::new(body);
            let mut all = Vec::new();
            while !r.is_empty() {
                all.push(stats::IpfixStats::decode(&mut r)?);
            }
            s.push_str(&format!(" {} ids\n", all.len()));
            for st in &all {
                s.push_str(&format!("  id {:3}: ", st.collector_set_id));
                st.format(s, "          ");
            }
        }
        OFPT10_FLOW_REMOVED | OFPT11_FLOW_REMOVED | OFPT15_FLOW_REMOVED | NXT_FLOW_REMOVED => {
            use crate::msgs::flow::FlowRemovedForm as F;
            let form = match raw {
                OFPT10_FLOW_REMOVED => F::Of10,
                OFPT15_FLOW_REMOVED => F::Of15,
                NXT_FLOW_REMOVED => F::Nx,
                _ => F::Of11,
            };
            crate::msgs::flow::FlowRemoved::decode(form, body)?.format(s)
        }
        OFPST10_FLOW_REQUEST
        | OFPST11_FLOW_REQUEST
        | NXST_FLOW_REQUEST
        | OFPST10_AGGREGATE_REQUEST
        | OFPST11_AGGREGATE_REQUEST
        | OFPST15_AGGREGATE_REQUEST
        | NXST_AGGREGATE_REQUEST => {
            use crate::msgs::flow::StatsRequestForm as F;
            let form = match raw {
                OFPST10_FLOW_REQUEST | OFPST10_AGGREGATE_REQUEST => F::Of10,
                NXST_FLOW_REQUEST | NXST_AGGREGATE_REQUEST => F::Nx,
                _ => F::Of11,
            };
            crate::msgs::flow::FlowStatsRequest::decode(form, body)?.format(s)
        }
        OFPST_AGGREGATE_REPLY | NXST_AGGREGATE_REPLY | OFPST15_AGGREGATE_REPLY => {
            crate::msgs::flow::AggregateReply::decode(raw == OFPST15_AGGREGATE_REPLY, body)?
                .format(s)
        }
        OFPT10_PACKET_IN | OFPT11_PACKET_IN | OFPT12_PACKET_IN | OFPT13_PACKET_IN
        | NXT_PACKET_IN => {
            use crate::msgs::packet_in::{PacketIn, PacketInForm as F};
            let form = match raw {
                OFPT10_PACKET_IN => F::Of10,
                OFPT11_PACKET_IN => F::Of11,
                OFPT12_PACKET_IN => F::Of12,
                OFPT13_PACKET_IN => F::Of13,
                _ => F::Nx,
            };
            PacketIn::decode(form, body)?.format(s, verbosity)
        }
        NXT_CT_FLUSH => crate::msgs::ct_flush::CtFlush::decode(body)?.format(s),
        NXST_FLOW_MONITOR_REQUEST | ONFST13_FLOW_MONITOR_REQUEST | OFPST14_FLOW_MONITOR_REQUEST => {
            use crate::msgs::monitor::{MonitorForm as F, MonitorRequest};
            let form = match raw {
                NXST_FLOW_MONITOR_REQUEST => F::Nx,
                ONFST13_FLOW_MONITOR_REQUEST => F::Onf,
                _ => F::Of14,
            };
            for rq in MonitorRequest::decode_all(form, body)? {
                rq.format(s);
            }
        }
        NXST_FLOW_MONITOR_REPLY | ONFST13_FLOW_MONITOR_REPLY | OFPST14_FLOW_MONITOR_REPLY => {
            use crate::msgs::monitor::{FlowUpdate, MonitorForm as F};
            let form = match raw {
                NXST_FLOW_MONITOR_REPLY => F::Nx,
                ONFST13_FLOW_MONITOR_REPLY => F::Onf,
                _ => F::Of14,
            };
            for u in FlowUpdate::decode_all(form, version, body)? {
                u.format(s);
            }
        }
        NXT_PACKET_IN2 | NXT_RESUME => {
            crate::msgs::packet_in::PacketIn2::decode(version, body)?.format(s, verbosity)
        }
        OFPT10_FLOW_MOD | OFPT11_FLOW_MOD | NXT_FLOW_MOD => {
            use crate::msgs::flow_mod::{self as fm, FlowMod, FlowModForm as F};
            let form = match raw {
                OFPT10_FLOW_MOD => F::Of10,
                NXT_FLOW_MOD => F::Nx,
                _ => F::Of11,
            };
            let m = FlowMod::decode(form, version, body)?;
            let raw_match = match (form, verbosity >= 3) {
                (F::Of10, true) => Some(fm::ofp10_match_to_string(&body[..40], verbosity)?),
                (F::Nx, true) => {
                    let len = usize::from(u16::from_be_bytes([body[24], body[25]]));
                    Some(crate::nx_match_text::nxm_to_string(
                        body.get(32..32 + len).unwrap_or(&[]),
                    ))
                }
                _ => None,
            };
            m.format(s, version, raw_match);
        }
        OFPST10_FLOW_REPLY | OFPST11_FLOW_REPLY | OFPST13_FLOW_REPLY | OFPST15_FLOW_REPLY
        | NXST_FLOW_REPLY => {
            use crate::msgs::flow_mod::{FlowStats, FlowStatsForm as F};
            let form = match raw {
                OFPST10_FLOW_REPLY => F::Of10,
                NXST_FLOW_REPLY => F::Nx,
                OFPST15_FLOW_REPLY => F::Of15,
                _ => F::Of11,
            };
            for fs in FlowStats::decode_all(form, version, body)? {
                fs.format(s);
            }
        }
        OFPT10_PACKET_OUT | OFPT11_PACKET_OUT | OFPT15_PACKET_OUT => {
            crate::msgs::packet_out::PacketOut::decode(version, body)?.format(s, verbosity)
        }
        OFPT11_GROUP_MOD | OFPT15_GROUP_MOD | NXT_GROUP_MOD => {
            crate::msgs::group_mod::GroupMod::decode(version, body)?.format(version, s)
        }
        OFPST11_GROUP_DESC_REPLY | NXST_GROUP_DESC_REPLY => {
            for g in crate::msgs::group_mod::GroupDesc::decode_all(version, body)? {
                g.format(version, s);
            }
        }
        OFPST13_TABLE_FEATURES_REQUEST if body.is_empty() => {}
        OFPST13_TABLE_FEATURES_REPLY | OFPST13_TABLE_FEATURES_REQUEST => {
            use crate::msgs::table_features::TableFeatures;
            let all = TableFeatures::decode_all_version(version, body)?;
            let pieces = all.iter().enumerate().map(|(i, t)| {
                let mut piece = String::new();
                t.format(&mut piece, i.checked_sub(1).map(|p| &all[p]));
                (t.table_id, !t.name.is_empty(), piece)
            });
            s.push_str(&crate::msgs::table_features::fold_dittos(pieces));
        }
        // Every message of the registry has its printer above; one added
        // to the registry before its printer is reported as undecodable.
        #[allow(unreachable_patterns)]
        _ => return Err(OfpErr::OFPBRC_BAD_TYPE),
    }
    Ok(())
}

/// `OFPT_ERROR`: the error name and the (start of the) offending message.
fn format_error(s: &mut String, msg: &[u8]) -> Result<(), OfpErr> {
    let version = OfpVersion::from_wire(msg[0]).unwrap_or(OfpVersion::Of10);
    let em = decode_error_body(version, &msg[8..]).ok_or(OfpErr::OFPBRC_BAD_LEN)?;
    s.push_str(&format!(" {}\n", em.error.name()));
    if matches!(em.error, OfpErr::OFPHFC_INCOMPATIBLE | OfpErr::OFPHFC_EPERM) {
        for &c in em.payload {
            if (0x20..0x7f).contains(&c) {
                s.push(c as char);
            } else {
                s.push_str(&format!("\\{c:03o}"));
            }
        }
    } else {
        s.push_str(&ofp_to_string(em.payload, 1));
    }
    Ok(())
}

/// Upstream's list of messages allowed inside a bundle.
fn bundlable(raw: OfpRaw) -> bool {
    use OfpRaw::*;
    matches!(
        raw,
        OFPT10_PORT_MOD
            | OFPT11_PORT_MOD
            | OFPT14_PORT_MOD
            | OFPT10_FLOW_MOD
            | OFPT11_FLOW_MOD
            | NXT_FLOW_MOD
            | NXT_GROUP_MOD
            | OFPT11_GROUP_MOD
            | OFPT15_GROUP_MOD
            | OFPT10_PACKET_OUT
            | OFPT11_PACKET_OUT
            | OFPT15_PACKET_OUT
    )
}

/// Validates a bundle-add's inner message as upstream does.
pub fn decode_bundle_inner<'a>(
    msg: &[u8],
    body: &'a [u8],
    raw: OfpRaw,
) -> Result<&'a [u8], OfpErr> {
    let inner = body.get(8..).ok_or(OfpErr::OFPBRC_BAD_LEN)?;
    if inner.first() != Some(&msg[0]) {
        return Err(OfpErr::OFPBFC_BAD_VERSION);
    }
    let ilen = inner
        .get(2..4)
        .map(|b| usize::from(u16::from_be_bytes([b[0], b[1]])))
        .ok_or(OfpErr::OFPBFC_MSG_BAD_LEN)?;
    if ilen < 8 || ilen > inner.len() {
        return Err(OfpErr::OFPBFC_MSG_BAD_LEN);
    }
    if inner[4..8] != msg[4..8] {
        return Err(OfpErr::OFPBFC_MSG_BAD_XID);
    }
    let inner = &inner[..ilen];
    let outer_name = raw.info().ident;
    match decode_raw(inner) {
        Err(e) => {
            vlog::warn!(
                "ofp_bundle",
                "{} contained message is unparsable ({})",
                outer_name,
                e.name()
            );
            Err(OfpErr::OFPBFC_MSG_UNSUP)
        }
        Ok(iraw) if !bundlable(iraw) => {
            vlog::warn!(
                "ofp_bundle",
                "{} message not allowed inside {}",
                iraw.name(),
                outer_name
            );
            Err(OfpErr::OFPBFC_MSG_UNSUP)
        }
        Ok(_) => Ok(inner),
    }
}

fn format_bundle_add(
    s: &mut String,
    msg: &[u8],
    raw: OfpRaw,
    body: &[u8],
    verbosity: u32,
) -> Result<(), OfpErr> {
    let mut r = Reader::new(body);
    let bundle_id = r.u32().ok_or(OfpErr::OFPBRC_BAD_LEN)?;
    r.skip(2).ok_or(OfpErr::OFPBRC_BAD_LEN)?;
    let flags = r.u16().ok_or(OfpErr::OFPBRC_BAD_LEN)?;
    let inner = decode_bundle_inner(msg, body, raw)?;
    s.push_str(&format!(
        "\n bundle_id={} flags=",
        crate::bits::c_alt_hex(bundle_id)
    ));
    control::format_bundle_flags(s, flags);
    s.push('\n');
    s.push_str(&ofp_to_string(inner, verbosity));
    Ok(())
}

fn format_requestforward(s: &mut String, msg: &[u8], body: &[u8]) -> Result<(), OfpErr> {
    let ilen = body
        .get(2..4)
        .map(|b| usize::from(u16::from_be_bytes([b[0], b[1]])))
        .ok_or(OfpErr::OFPBRC_BAD_LEN)?;
    if ilen < 8 || ilen > body.len() || body[0] != msg[0] {
        return Err(OfpErr::OFPBRC_BAD_LEN);
    }
    let inner = &body[..ilen];
    let iraw = decode_raw(inner)?;
    let ibody = &inner[iraw.header_len(inner[0])..];
    match iraw {
        OfpRaw::OFPT13_METER_MOD => {
            let mm = meter::MeterMod::decode(ibody)?;
            s.push_str(" reason=meter_mod");
            mm.format(s);
        }
        OfpRaw::OFPT11_GROUP_MOD | OfpRaw::OFPT15_GROUP_MOD | OfpRaw::NXT_GROUP_MOD => {
            let gm = crate::msgs::group_mod::GroupMod::decode(inner[0], ibody)?;
            s.push_str(" reason=group_mod");
            gm.format(inner[0], s);
        }
        _ => return Err(OfpErr::OFPBRC_BAD_TYPE),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn special_cases() {
        assert_eq!(ofp_to_string(&[], 2), "OpenFlow message is empty\n");
        assert!(ofp_to_string(&[0xaa, 0xbb], 2).starts_with("OpenFlow packet too short"));
        assert!(ofp_to_string(&hex("0110ccddeeff0011"), 2)
            .starts_with("(***truncated to 8 bytes from 52445***)\n"));
    }

    #[test]
    fn hello_and_echo() {
        assert_eq!(
            ofp_to_string(&hex("0100000800000000"), 2),
            "OFPT_HELLO (xid=0x0):\n version bitmap: 0x01\n"
        );
        assert_eq!(
            ofp_to_string(&hex("0102000800000001"), 2),
            "OFPT_ECHO_REQUEST (xid=0x1): 0 bytes of payload\n"
        );
    }

    #[test]
    fn error_with_embedded_message() {
        assert_eq!(
            ofp_to_string(&hex("0301001812345678ffff0a284f4e46000300000812345678"), 2),
            "OFPT_ERROR (OF1.2) (xid=0x12345678): OFPBIC_DUP_INST\nOFPT_HELLO (OF1.2) (xid=0x12345678):\n version bitmap: 0x01, 0x02, 0x03\n"
        );
    }

    #[test]
    fn decode_errors_dump_the_message() {
        let out = ofp_to_string(&hex("041d001028a626520008000000000001"), 2);
        assert!(out.starts_with(
            "OFPT_METER_MOD (OF1.3) (xid=0x28a62652): ***decode error: OFPMMFC_BAD_COMMAND***\n00000000"
        ));
    }
}

#[cfg(test)]
mod never_panics {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// Any well-framed message, whatever its body, prints without
        /// panicking (decoders fail with an `OfpErr` instead).
        #[test]
        fn random_messages_print(version in 1u8..=6, type_ in 0u8..=35, body in proptest::collection::vec(any::<u8>(), 0..300)) {
            let mut m = vec![version, type_, 0, 0, 0, 0, 0, 1];
            m.extend_from_slice(&body);
            let len = m.len() as u16;
            m[2..4].copy_from_slice(&len.to_be_bytes());
            let _ = ofp_to_string(&m, 3);
        }

        /// Vendor and multipart messages with random subtypes and bodies.
        #[test]
        fn random_extension_messages_print(version in 1u8..=6, stat in 0u16..20, sub in 0u32..40, body in proptest::collection::vec(any::<u8>(), 0..200)) {
            let mut m = vec![version, 4, 0, 0, 0, 0, 0, 1, 0, 0, 0x23, 0x20];
            m.extend_from_slice(&sub.to_be_bytes());
            m.extend_from_slice(&body);
            let len = m.len() as u16;
            m[2..4].copy_from_slice(&len.to_be_bytes());
            let _ = ofp_to_string(&m, 3);
            let t = if version == 1 { 17 } else { 19 };
            let mut m = vec![version, t, 0, 0, 0, 0, 0, 1];
            m.extend_from_slice(&stat.to_be_bytes());
            m.extend_from_slice(&[0, 0]);
            if version != 1 {
                m.extend_from_slice(&[0; 4]);
            }
            m.extend_from_slice(&body);
            let len = m.len() as u16;
            m[2..4].copy_from_slice(&len.to_be_bytes());
            let _ = ofp_to_string(&m, 3);
        }
    }
}
