//! Table requests: table statistics (every version's layout), table
//! features, table descriptions, and `mod-table`.

use crate::handler::dispatch::xid_of;
use crate::handler::multipart::Multipart;
use crate::table::{TableMiss, TABLE_INTERNAL};
use crate::Ofproto;
use openflow::msgs::control::TableMod;
use openflow::msgs::stats::TableStats;
use openflow::msgs::table_desc::TableDesc;
use openflow::raw::OfpRaw;
use openflow::wire::Put;
use openflow::OfpErr;
use std::sync::atomic::Ordering;

/// Rules a table may hold as advertised (upstream's default `max_entries`).
pub const MAX_ENTRIES: u32 = 1_000_000;
/// OpenFlow 1.0 wildcards: every field.
const OF10_WILDCARDS: u32 = 0x3f_ffff;
/// OpenFlow 1.1 match/wildcard bits the switch supports.
const OF11_MATCH: u32 = 0xfbff;
/// OpenFlow 1.1+ instructions (goto_table, write_metadata, write/apply/clear actions).
const INSTRUCTIONS: u32 = 0x3e;
/// OpenFlow 1.1 action bitmap.
const OF11_ACTIONS: u32 = 0x01ff_e7ff;
/// OpenFlow 1.2 OXM match and wildcard bitmap.
const OF12_MATCH: u64 = 0x1_01ff_ffff_fffd;
/// OpenFlow 1.2 action bitmap.
const OF12_ACTIONS: u32 = 0x03ff_8001;
/// OpenFlow 1.2 Set-Field bitmap.
const OF12_SETFIELDS: u64 = 0xf_ffff_fbdd;

/// The table-miss config bits table statistics carry: OpenFlow 1.2 uses
/// the `OFPTC11_TABLE_MISS_*` values, while upstream's OpenFlow 1.1 replies
/// carry its internal numbering (default 0, controller 1, continue 2,
/// drop 3).
fn miss_config(m: TableMiss, version: u8) -> u32 {
    match (m, version) {
        (TableMiss::Default, _) => 0,
        (TableMiss::Controller, 2) => 1,
        (TableMiss::Continue, 2) => 2,
        (TableMiss::Drop, 2) => 3,
        (TableMiss::Controller, _) => 0,
        (TableMiss::Continue, _) => 1,
        (TableMiss::Drop, _) => 2,
    }
}

/// `OFPST_TABLE` request: one entry per visible table.
pub fn table_stats(ofproto: &Ofproto, msg: &[u8]) -> Result<Vec<Vec<u8>>, OfpErr> {
    let version = msg[0];
    let reply_raw = match version {
        1 => OfpRaw::OFPST10_TABLE_REPLY,
        2 => OfpRaw::OFPST11_TABLE_REPLY,
        3 => OfpRaw::OFPST12_TABLE_REPLY,
        _ => OfpRaw::OFPST13_TABLE_REPLY,
    };
    let mut mp = Multipart::new(reply_raw, version, xid_of(msg));
    for t in 0..TABLE_INTERNAL {
        let cfg = ofproto.table_config(t).ok_or(OfpErr::OFPBRC_BAD_TABLE_ID)?;
        let active = ofproto.n_flows(t) as u32;
        let lookup = cfg.n_lookup.load(Ordering::Relaxed);
        let matched = cfg.n_matched.load(Ordering::Relaxed);
        let max_entries = cfg.max_flows.min(MAX_ENTRIES);
        let instructions = if t + 1 == TABLE_INTERNAL {
            // The last table has no table to go to.
            INSTRUCTIONS & !2
        } else {
            INSTRUCTIONS
        };
        let mut e = Vec::new();
        match version {
            2 | 3 => {
                e.put_u8(t);
                e.put_zeros(7);
                e.put_str_fixed(&cfg.name, 32);
                if version == 2 {
                    e.put_u32(OF11_MATCH);
                    e.put_u32(OF11_MATCH);
                    e.put_u32(instructions);
                    e.put_u32(OF11_ACTIONS);
                    e.put_u32(OF11_ACTIONS);
                } else {
                    e.put_u64(OF12_MATCH);
                    e.put_u64(OF12_MATCH);
                    e.put_u32(OF12_ACTIONS);
                    e.put_u32(OF12_ACTIONS);
                    e.put_u64(OF12_SETFIELDS);
                    e.put_u64(OF12_SETFIELDS);
                    e.put_u64(u64::MAX);
                    e.put_u64(u64::MAX);
                    e.put_u32(instructions);
                }
                e.put_u32(miss_config(cfg.miss, version));
                e.put_u32(max_entries);
                e.put_u32(active);
                e.put_u64(lookup);
                e.put_u64(matched);
            }
            _ => TableStats {
                table_id: t,
                name: cfg.name.clone(),
                max_entries,
                active_count: active,
                lookup_count: lookup,
                matched_count: matched,
                wildcards: OF10_WILDCARDS,
            }
            .encode(version, &mut e),
        }
        mp.push(&e);
    }
    Ok(mp.finish())
}

/// `OFPST_TABLE_FEATURES` request: a request carrying features (to set
/// them) is refused as upstream does; otherwise every visible table's
/// features.
pub fn table_features(ofproto: &Ofproto, msg: &[u8]) -> Result<Vec<Vec<u8>>, OfpErr> {
    let version = msg[0];
    let raw = OfpRaw::OFPST13_TABLE_FEATURES_REQUEST;
    if msg.len() > raw.header_len(version) {
        return Err(OfpErr::OFPTFFC_EPERM);
    }
    let mut mp = Multipart::new(OfpRaw::OFPST13_TABLE_FEATURES_REPLY, version, xid_of(msg));
    for t in 0..TABLE_INTERNAL {
        let cfg = ofproto.table_config(t).ok_or(OfpErr::OFPBRC_BAD_TABLE_ID)?;
        mp.push(&crate::handler::features::encode_table_features(
            t,
            &cfg.name,
            cfg.max_flows.min(MAX_ENTRIES),
            version,
        ));
    }
    Ok(mp.finish())
}

/// How much of `table_id` is free, in percent.
fn vacancy_percent(ofproto: &Ofproto, table_id: u8) -> u8 {
    let max = ofproto
        .table_config(table_id)
        .map_or(u64::from(u32::MAX), |c| u64::from(c.max_flows));
    let n = ofproto.n_flows(table_id) as u64;
    if max == 0 {
        return 0;
    }
    (max.saturating_sub(n) * 100 / max) as u8
}

/// `OFPST_TABLE_DESC` request.
pub fn table_desc(ofproto: &Ofproto, msg: &[u8]) -> Result<Vec<Vec<u8>>, OfpErr> {
    let version = msg[0];
    let mut mp = Multipart::new(OfpRaw::OFPST14_TABLE_DESC_REPLY, version, xid_of(msg));
    for t in 0..TABLE_INTERNAL {
        let cfg = ofproto.table_config(t).ok_or(OfpErr::OFPBRC_BAD_TABLE_ID)?;
        let mut e = Vec::new();
        TableDesc {
            table_id: t,
            eviction: cfg.evicts(),
            eviction_flags: Some(7),
            vacancy_events: cfg.vacancy.is_some(),
            vacancy: cfg
                .vacancy
                .map(|(down, up)| openflow::msgs::table_desc::Vacancy {
                    down,
                    up,
                    vacancy: vacancy_percent(ofproto, t),
                }),
        }
        .encode(&mut e);
        mp.push(&e);
    }
    Ok(mp.finish())
}

/// `OFPT_TABLE_MOD`.
pub fn table_mod(ofproto: &mut Ofproto, msg: &[u8]) -> Result<(), OfpErr> {
    let version = msg[0];
    let raw = openflow::decode_raw(msg)?;
    let body = &msg[raw.header_len(version)..];
    let tm = TableMod::decode(version, body)?;
    // OpenFlow 1.4 properties: eviction and vacancy thresholds. Upstream
    // reads the eviction property's 32-bit value as the eviction *setting*
    // (its enum: 1 on, 2 off, anything else — such as the flags 7 that
    // ovs-ofctl copies from a table description — leaves eviction alone),
    // so the flags themselves are never checked.
    let mut eviction = tm.eviction;
    let mut vacancy_thresholds = None;
    if version >= 5 {
        let mut r = openflow::wire::Reader::new(body.get(8..).unwrap_or(&[]));
        while !r.is_empty() {
            let (ptype, p) = openflow::msgs::props::pull_property(&mut r)?;
            match ptype {
                2 => {
                    let v: [u8; 4] = p.try_into().map_err(|_| OfpErr::OFPBPC_BAD_LEN)?;
                    eviction = match u32::from_be_bytes(v) {
                        1 => Some(true),
                        2 => Some(false),
                        _ => None,
                    };
                }
                3 => {
                    let (down, up) = match p {
                        [d, u, ..] => (*d, *u),
                        _ => return Err(OfpErr::OFPBPC_BAD_LEN),
                    };
                    if down > up || up > 100 {
                        return Err(OfpErr::OFPBPC_BAD_VALUE);
                    }
                    vacancy_thresholds = Some((down, up));
                }
                _ => return Err(OfpErr::OFPBPC_BAD_TYPE),
            }
        }
    }
    // `all` skips the hidden internal table; naming it is not permitted.
    let tables: Vec<u8> = if tm.table_id == 0xff {
        (0..TABLE_INTERNAL).collect()
    } else if tm.table_id < TABLE_INTERNAL {
        vec![tm.table_id]
    } else {
        return Err(OfpErr::OFPTMFC_EPERM);
    };
    if let Some(3) = tm.miss {
        return Err(OfpErr::OFPTMFC_BAD_CONFIG);
    }
    for t in tables {
        let cfg = ofproto
            .table_config_mut(t)
            .ok_or(OfpErr::OFPTMFC_BAD_TABLE)?;
        if let Some(m) = tm.miss {
            cfg.miss = match m {
                0 => TableMiss::Controller,
                1 => TableMiss::Continue,
                _ => TableMiss::Drop,
            };
        }
        if let Some(e) = eviction {
            cfg.eviction_by_mod = e;
        }
        if let Some(v) = tm.vacancy {
            cfg.vacancy = if v {
                Some(vacancy_thresholds.or(cfg.vacancy).unwrap_or((0, 0)))
            } else {
                None
            };
        }
    }
    Ok(())
}
