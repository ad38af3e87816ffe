//! Meter requests: meter-mod (add, modify, delete), meter statistics,
//! configurations and features. Like upstream's userspace datapath, the
//! switch supports drop bands only (a dscp_remark band is refused with
//! `OFPMMFC_BAD_BAND`).

use crate::bundle_txn::{RemovalKind, Txn};
use crate::expiry::RemovedReason;
use crate::handler::dispatch::xid_of;
use crate::handler::multipart::{reply, Multipart};
use crate::meter::Meter;
use crate::Ofproto;
use openflow::msgs::meter::{self, MeterConfig, MeterFeatures, MeterMod, MeterStats, OFPMBT_DROP};
use openflow::raw::OfpRaw;
use openflow::OfpErr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// `OFPM13_MAX`.
pub const OFPM_MAX: u32 = 0xffff_0000;
/// `OFPM13_ALL`.
pub const OFPM_ALL: u32 = 0xffff_ffff;
/// Meters the switch offers (ids below this).
pub const MAX_METERS: u32 = 0x40000;
/// Bands per meter.
pub const MAX_BANDS: u8 = 8;
/// Meter flags the switch supports (kbps, pktps, burst, stats).
const SUPPORTED_FLAGS: u16 = 0xf;

impl Ofproto {
    /// Applies one meter-mod inside `txn`.
    pub(crate) fn meter_mod_in(&mut self, txn: &mut Txn, mm: &MeterMod) -> Result<(), OfpErr> {
        let id = mm.meter.meter_id;
        if mm.command != 2 {
            if id == 0 || id > OFPM_MAX {
                return Err(OfpErr::OFPMMFC_INVALID_METER);
            }
            if mm.meter.bands.len() > usize::from(MAX_BANDS) {
                return Err(OfpErr::OFPMMFC_OUT_OF_BANDS);
            }
        }
        if txn.saved_meters.is_none() {
            txn.saved_meters = Some((self.meters.clone(), self.meter_order.clone()));
        }
        match mm.command {
            0 | 1 => {
                let exists = self.meters.contains_key(&id);
                if mm.command == 0 && exists {
                    return Err(OfpErr::OFPMMFC_METER_EXISTS);
                }
                if mm.command == 1 && !exists {
                    return Err(OfpErr::OFPMMFC_UNKNOWN_METER);
                }
                if mm.meter.flags & !SUPPORTED_FLAGS != 0 {
                    return Err(OfpErr::OFPMMFC_BAD_FLAGS);
                }
                if mm.meter.bands.iter().any(|b| b.type_ != OFPMBT_DROP) {
                    return Err(OfpErr::OFPMMFC_BAD_BAND);
                }
                let created = match self.meters.get(&id) {
                    Some(old) => old.created,
                    None => self.now(),
                };
                let m = Meter {
                    meter_id: id,
                    flags: mm.meter.flags,
                    bands: mm.meter.bands.clone(),
                    n_packets: AtomicU64::new(0),
                    n_bytes: AtomicU64::new(0),
                    band_counters: mm
                        .meter
                        .bands
                        .iter()
                        .map(|_| (AtomicU64::new(0), AtomicU64::new(0)))
                        .collect(),
                    created,
                };
                self.set_meter(m);
                Ok(())
            }
            2 => {
                let ids: Vec<u32> = if id == OFPM_ALL {
                    self.meters.keys().copied().collect()
                } else {
                    vec![id]
                };
                for id in ids {
                    if self.unset_meter(id) {
                        self.delete_flows_for_meter(txn, id);
                    }
                }
                Ok(())
            }
            _ => Err(OfpErr::OFPMMFC_BAD_COMMAND),
        }
    }

    fn delete_flows_for_meter(&mut self, txn: &mut Txn, id: u32) {
        let mut doomed = Vec::new();
        for t in 0..crate::table::TABLE_INTERNAL {
            for r in self.tables[usize::from(t)]
                .cls
                .state()
                .rules(None, txn.version)
            {
                if crate::flow_mod::referenced_meter(&r.data().actions) == Some(id) {
                    doomed.push((t, r.clone()));
                }
            }
        }
        for (t, r) in doomed {
            self.stage_removal(txn, t, r, RemovalKind::Removed(RemovedReason::MeterDelete));
        }
    }

    /// Applies one meter-mod as its own transaction.
    pub fn handle_meter_mod(&mut self, mm: &MeterMod) -> Result<(), OfpErr> {
        let mut txn = self.begin_txn();
        match self.meter_mod_in(&mut txn, mm) {
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

    /// Rules (visible now) that use meter `id`.
    pub fn meter_flow_count(&self, id: u32) -> u32 {
        (0..crate::table::TABLE_INTERNAL)
            .map(|t| {
                self.tables[usize::from(t)]
                    .cls
                    .state()
                    .rules(None, self.version)
                    .filter(|r| crate::flow_mod::referenced_meter(&r.data().actions) == Some(id))
                    .count() as u32
            })
            .sum()
    }
}

/// Decodes a meter-mod message.
pub fn decode_meter_mod(msg: &[u8]) -> Result<MeterMod, OfpErr> {
    let raw = openflow::decode_raw(msg)?;
    MeterMod::decode(&msg[raw.header_len(msg[0])..])
}

/// Handles `OFPT_METER_MOD`.
pub fn handle_meter_mod(ofproto: &mut Ofproto, msg: &[u8]) -> Result<(), OfpErr> {
    let mm = decode_meter_mod(msg)?;
    ofproto.handle_meter_mod(&mm)
}

fn requested_meters(ofproto: &Ofproto, raw: OfpRaw, msg: &[u8]) -> Result<Vec<Arc<Meter>>, OfpErr> {
    let id = meter::decode_request(&msg[raw.header_len(msg[0])..])?;
    if id == OFPM_ALL {
        return Ok(ofproto.meters_in_order());
    }
    Ok(ofproto.meters.get(&id).cloned().into_iter().collect())
}

/// `OFPST_METER` request.
pub fn meter_stats(ofproto: &Ofproto, msg: &[u8]) -> Result<Vec<Vec<u8>>, OfpErr> {
    let version = msg[0];
    let meters = requested_meters(ofproto, OfpRaw::OFPST13_METER_REQUEST, msg)?;
    let now = ofproto.now();
    let mut mp = Multipart::new(OfpRaw::OFPST13_METER_REPLY, version, xid_of(msg));
    for m in meters {
        let (sec, nsec) = crate::stats::duration(m.created, now);
        let s = MeterStats {
            meter_id: m.meter_id,
            flow_count: ofproto.meter_flow_count(m.meter_id),
            packet_in_count: m.n_packets.load(Ordering::Relaxed),
            byte_in_count: m.n_bytes.load(Ordering::Relaxed),
            duration_sec: sec,
            duration_nsec: nsec,
            bands: m
                .band_counters
                .iter()
                .map(|(p, b)| (p.load(Ordering::Relaxed), b.load(Ordering::Relaxed)))
                .collect(),
        };
        let mut e = Vec::new();
        meter::encode_stats(&mut e, std::slice::from_ref(&s));
        mp.push(&e);
    }
    Ok(mp.finish())
}

/// `OFPST_METER_CONFIG` request.
pub fn meter_config(ofproto: &Ofproto, msg: &[u8]) -> Result<Vec<Vec<u8>>, OfpErr> {
    let version = msg[0];
    let meters = requested_meters(ofproto, OfpRaw::OFPST13_METER_CONFIG_REQUEST, msg)?;
    let mut mp = Multipart::new(OfpRaw::OFPST13_METER_CONFIG_REPLY, version, xid_of(msg));
    for m in meters {
        let c = MeterConfig {
            meter_id: m.meter_id,
            flags: m.flags,
            bands: m.bands.clone(),
        };
        let mut e = Vec::new();
        meter::encode_configs(&mut e, std::slice::from_ref(&c));
        mp.push(&e);
    }
    Ok(mp.finish())
}

/// `OFPST_METER_FEATURES` reply.
pub fn meter_features(msg: &[u8]) -> Vec<u8> {
    let f = MeterFeatures {
        max_meters: MAX_METERS,
        band_types: 1 << OFPMBT_DROP,
        capabilities: u32::from(SUPPORTED_FLAGS),
        max_bands: MAX_BANDS,
        max_color: 0,
    };
    let mut b = Vec::new();
    f.encode_body(&mut b);
    reply(
        OfpRaw::OFPST13_METER_FEATURES_REPLY,
        msg[0],
        xid_of(msg),
        &b,
    )
}
