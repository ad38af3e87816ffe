//! Meters: `OFPT_METER_MOD`, meter config/stats/features multipart bodies.

use crate::bits::{bit_names, duration, meter_id_to_string};
use crate::errors::OfpErr;
use crate::wire::{Put, Reader};

const BAD: OfpErr = OfpErr::OFPBRC_BAD_LEN;

pub const OFPMF_KBPS: u16 = 1 << 0;
pub const OFPMF_PKTPS: u16 = 1 << 1;
pub const OFPMF_BURST: u16 = 1 << 2;
pub const OFPMF_STATS: u16 = 1 << 3;

pub const OFPMBT_DROP: u16 = 1;
pub const OFPMBT_DSCP_REMARK: u16 = 2;

/// One meter band.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MeterBand {
    pub type_: u16,
    pub rate: u32,
    pub burst_size: u32,
    pub prec_level: u8,
}

/// A meter's configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MeterConfig {
    pub meter_id: u32,
    pub flags: u16,
    pub bands: Vec<MeterBand>,
}

fn pull_bands(r: &mut Reader<'_>, mut len: usize) -> Result<Vec<MeterBand>, OfpErr> {
    let mut bands = Vec::new();
    while len >= 16 {
        let b = r.bytes(16).ok_or(BAD)?;
        let mut b = Reader::new(b);
        let type_ = b.u16().ok_or(BAD)?;
        let blen = usize::from(b.u16().ok_or(BAD)?);
        if blen != 16 {
            return Err(BAD);
        }
        if type_ != OFPMBT_DROP && type_ != OFPMBT_DSCP_REMARK {
            return Err(OfpErr::OFPMMFC_BAD_BAND);
        }
        let rate = b.u32().ok_or(BAD)?;
        let burst_size = b.u32().ok_or(BAD)?;
        let prec_level = if type_ == OFPMBT_DSCP_REMARK {
            b.u8().ok_or(BAD)?
        } else {
            0
        };
        bands.push(MeterBand {
            type_,
            rate,
            burst_size,
            prec_level,
        });
        len -= 16;
    }
    if len != 0 {
        return Err(BAD);
    }
    Ok(bands)
}

fn put_bands(out: &mut Vec<u8>, bands: &[MeterBand]) {
    for b in bands {
        out.put_u16(b.type_);
        out.put_u16(16);
        out.put_u32(b.rate);
        out.put_u32(b.burst_size);
        out.put_u8(if b.type_ == OFPMBT_DSCP_REMARK {
            b.prec_level
        } else {
            0
        });
        out.put_zeros(3);
    }
}

impl MeterConfig {
    /// Upstream's `ofp_print_meter_config`.
    pub fn format(&self, out: &mut String) {
        out.push_str(&format!("meter={}", meter_id_to_string(self.meter_id)));
        format_flags(out, self.flags);
        out.push_str("bands=");
        for b in &self.bands {
            out.push_str("\ntype=");
            match b.type_ {
                OFPMBT_DROP => out.push_str("drop"),
                OFPMBT_DSCP_REMARK => out.push_str("dscp_remark"),
                t => out.push_str(&t.to_string()),
            }
            out.push_str(&format!(" rate={}", b.rate));
            if self.flags & OFPMF_BURST != 0 {
                out.push_str(&format!(" burst_size={}", b.burst_size));
            }
            if b.type_ == OFPMBT_DSCP_REMARK {
                out.push_str(&format!(" prec_level={}", b.prec_level));
            }
        }
        out.push('\n');
    }
}

fn format_flags(out: &mut String, flags: u16) {
    for (bit, name) in [
        (OFPMF_KBPS, "kbps"),
        (OFPMF_PKTPS, "pktps"),
        (OFPMF_BURST, "burst"),
        (OFPMF_STATS, "stats"),
    ] {
        if flags & bit != 0 {
            out.push(' ');
            out.push_str(name);
        }
    }
    let rest = flags & !0xf;
    if rest != 0 {
        out.push_str(&format!(" flags:{rest:#x}"));
    }
    out.push(' ');
}

/// `OFPT_METER_MOD`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MeterMod {
    /// 0 add, 1 modify, 2 delete.
    pub command: u16,
    pub meter: MeterConfig,
}

impl MeterMod {
    pub fn decode(body: &[u8]) -> Result<MeterMod, OfpErr> {
        let mut r = Reader::new(body);
        let command = r.u16().ok_or(BAD)?;
        let flags = r.u16().ok_or(BAD)?;
        let meter_id = r.u32().ok_or(BAD)?;
        if command > 2 {
            return Err(OfpErr::OFPMMFC_BAD_COMMAND);
        }
        if command == 2 {
            return Ok(MeterMod {
                command,
                meter: MeterConfig {
                    meter_id,
                    flags: 0,
                    bands: Vec::new(),
                },
            });
        }
        if flags & OFPMF_KBPS != 0 && flags & OFPMF_PKTPS != 0 {
            return Err(OfpErr::OFPMMFC_BAD_FLAGS);
        }
        let n = r.remaining();
        let bands = pull_bands(&mut r, n)?;
        Ok(MeterMod {
            command,
            meter: MeterConfig {
                meter_id,
                flags,
                bands,
            },
        })
    }

    pub fn encode_body(&self, out: &mut Vec<u8>) {
        out.put_u16(self.command);
        out.put_u16(self.meter.flags);
        out.put_u32(self.meter.meter_id);
        put_bands(out, &self.meter.bands);
    }

    pub fn format(&self, out: &mut String) {
        match self.command {
            0 => out.push_str(" ADD "),
            1 => out.push_str(" MOD "),
            2 => out.push_str(" DEL "),
            c => out.push_str(&format!(" cmd:{c} ")),
        }
        self.meter.format(out);
    }
}

/// A meter (or meter-config) stats request's meter id.
pub fn decode_request(body: &[u8]) -> Result<u32, OfpErr> {
    Reader::new(body).u32().ok_or(BAD)
}

/// Decodes a meter-config reply body.
pub fn decode_configs(body: &[u8]) -> Result<Vec<MeterConfig>, OfpErr> {
    let mut r = Reader::new(body);
    let mut v = Vec::new();
    while !r.is_empty() {
        let len = usize::from(r.u16().ok_or(BAD)?);
        let flags = r.u16().ok_or(BAD)?;
        let meter_id = r.u32().ok_or(BAD)?;
        if len < 8 || len - 8 > r.remaining() {
            return Err(BAD);
        }
        let bands = pull_bands(&mut r, len - 8)?;
        v.push(MeterConfig {
            meter_id,
            flags,
            bands,
        });
    }
    Ok(v)
}

pub fn encode_configs(out: &mut Vec<u8>, configs: &[MeterConfig]) {
    for c in configs {
        out.put_u16((8 + 16 * c.bands.len()) as u16);
        out.put_u16(c.flags);
        out.put_u32(c.meter_id);
        put_bands(out, &c.bands);
    }
}

/// One meter's statistics.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MeterStats {
    pub meter_id: u32,
    pub flow_count: u32,
    pub packet_in_count: u64,
    pub byte_in_count: u64,
    pub duration_sec: u32,
    pub duration_nsec: u32,
    /// (packets, bytes) per band.
    pub bands: Vec<(u64, u64)>,
}

pub fn decode_stats(body: &[u8]) -> Result<Vec<MeterStats>, OfpErr> {
    let mut r = Reader::new(body);
    let mut v = Vec::new();
    while !r.is_empty() {
        let meter_id = r.u32().ok_or(BAD)?;
        let len = usize::from(r.u16().ok_or(BAD)?);
        r.skip(6).ok_or(BAD)?;
        let flow_count = r.u32().ok_or(BAD)?;
        let packet_in_count = r.u64().ok_or(BAD)?;
        let byte_in_count = r.u64().ok_or(BAD)?;
        let duration_sec = r.u32().ok_or(BAD)?;
        let duration_nsec = r.u32().ok_or(BAD)?;
        if len < 40 || (len - 40) % 16 != 0 || len - 40 > r.remaining() {
            return Err(BAD);
        }
        let mut bands = Vec::new();
        for _ in 0..(len - 40) / 16 {
            bands.push((r.u64().ok_or(BAD)?, r.u64().ok_or(BAD)?));
        }
        v.push(MeterStats {
            meter_id,
            flow_count,
            packet_in_count,
            byte_in_count,
            duration_sec,
            duration_nsec,
            bands,
        });
    }
    Ok(v)
}

pub fn encode_stats(out: &mut Vec<u8>, stats: &[MeterStats]) {
    for s in stats {
        out.put_u32(s.meter_id);
        out.put_u16((40 + 16 * s.bands.len()) as u16);
        out.put_zeros(6);
        out.put_u32(s.flow_count);
        out.put_u64(s.packet_in_count);
        out.put_u64(s.byte_in_count);
        out.put_u32(s.duration_sec);
        out.put_u32(s.duration_nsec);
        for (p, b) in &s.bands {
            out.put_u64(*p);
            out.put_u64(*b);
        }
    }
}

impl MeterStats {
    pub fn format(&self, out: &mut String) {
        out.push_str(&format!(
            "meter:{} flow_count:{} packet_in_count:{} byte_in_count:{} duration:",
            meter_id_to_string(self.meter_id),
            self.flow_count,
            self.packet_in_count,
            self.byte_in_count
        ));
        duration(out, self.duration_sec, self.duration_nsec);
        out.push_str(" bands:\n");
        for (i, (p, b)) in self.bands.iter().enumerate() {
            out.push_str(&format!("{i}: packet_count:{p} byte_count:{b}\n"));
        }
    }
}

/// `OFPST_METER_FEATURES` reply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MeterFeatures {
    pub max_meters: u32,
    pub band_types: u32,
    pub capabilities: u32,
    pub max_bands: u8,
    pub max_color: u8,
}

impl MeterFeatures {
    pub fn decode(body: &[u8]) -> Result<MeterFeatures, OfpErr> {
        let mut r = Reader::new(body);
        Ok(MeterFeatures {
            max_meters: r.u32().ok_or(BAD)?,
            band_types: r.u32().ok_or(BAD)?,
            capabilities: r.u32().ok_or(BAD)?,
            max_bands: r.u8().ok_or(BAD)?,
            max_color: r.u8().ok_or(BAD)?,
        })
    }

    pub fn encode_body(&self, out: &mut Vec<u8>) {
        out.put_u32(self.max_meters);
        out.put_u32(self.band_types);
        out.put_u32(self.capabilities);
        out.put_u8(self.max_bands);
        out.put_u8(self.max_color);
        out.put_zeros(2);
    }

    pub fn format(&self, out: &mut String) {
        out.push_str(&format!(
            "\nmax_meter:{} max_bands:{} max_color:{}\n",
            self.max_meters, self.max_bands, self.max_color
        ));
        out.push_str("band_types: ");
        bit_names(
            out,
            self.band_types,
            |b| match b {
                2 => Some("drop"),
                4 => Some("dscp_remark"),
                _ => None,
            },
            ' ',
        );
        out.push_str("\ncapabilities: ");
        bit_names(
            out,
            self.capabilities,
            |b| match b {
                1 => Some("kbps"),
                2 => Some("pktps"),
                4 => Some("burst"),
                8 => Some("stats"),
                _ => None,
            },
            ' ',
        );
        out.push('\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meter_mod_round_trip_and_errors() {
        let mm = MeterMod {
            command: 0,
            meter: MeterConfig {
                meter_id: 5,
                flags: OFPMF_KBPS | OFPMF_BURST,
                bands: vec![MeterBand {
                    type_: OFPMBT_DSCP_REMARK,
                    rate: 1024,
                    burst_size: 128,
                    prec_level: 2,
                }],
            },
        };
        let mut b = Vec::new();
        mm.encode_body(&mut b);
        assert_eq!(MeterMod::decode(&b), Ok(mm));
        assert_eq!(
            MeterMod::decode(&[0, 8, 0, 0, 0, 0, 0, 1]),
            Err(OfpErr::OFPMMFC_BAD_COMMAND)
        );
        assert_eq!(
            MeterMod::decode(&[0, 0, 0, 3, 0, 0, 0, 1]),
            Err(OfpErr::OFPMMFC_BAD_FLAGS)
        );
    }

    #[test]
    fn stats_and_configs_round_trip() {
        let s = vec![MeterStats {
            meter_id: 1,
            flow_count: 5,
            packet_in_count: 4096,
            byte_in_count: 1,
            duration_sec: 3,
            duration_nsec: 4,
            bands: vec![(1, 2), (3, 4)],
        }];
        let mut b = Vec::new();
        encode_stats(&mut b, &s);
        assert_eq!(decode_stats(&b), Ok(s));
        let c = vec![MeterConfig {
            meter_id: 2,
            flags: OFPMF_STATS,
            bands: vec![],
        }];
        let mut b = Vec::new();
        encode_configs(&mut b, &c);
        assert_eq!(decode_configs(&b), Ok(c));
    }
}
