//! Online meter commands: `add-meter`, `mod-meter`, `del-meter`,
//! `del-meters`, `dump-meter`, `dump-meters`, `meter-stats`,
//! `meter-features`, with the meter text syntax of ovs-ofctl(8)
//! (`meter=ID,kbps|pktps[,burst][,stats],bands=type=drop,rate=N,...`).

use super::online::{dump_transaction, transact_noreply};
use super::online_flows::open_for_flow_mod;
use super::options::Options;
use super::{CmdResult, Fatal};
use flow::key_value::next_pair;
use flow::Protocols;
use openflow::msgs::meter::{
    MeterBand, MeterConfig, MeterMod, OFPMBT_DROP, OFPMBT_DSCP_REMARK, OFPMF_BURST, OFPMF_KBPS,
    OFPMF_PKTPS, OFPMF_STATS,
};
use openflow::raw::{finish, start, OfpRaw};
use openflow::vconn::alloc_xid;
use openflow::wire::Put;

const OFPM13_MAX: u32 = 0xffff_0000;
const OFPM13_SLOWPATH: u32 = 0xffff_fffd;
const OFPM13_CONTROLLER: u32 = 0xffff_fffe;
const OFPM13_ALL: u32 = 0xffff_ffff;

/// What a meter text is for.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum MeterText {
    Add,
    Modify,
    Delete,
    /// A statistics or configuration request: only `meter=`.
    Request,
}

/// C's `strtoul` with base 0 as upstream's `str_to_u32` uses it.
pub fn str_to_u32(s: &str) -> Result<u32, String> {
    let bad = || format!("invalid numeric format {s}");
    let t = s.trim_start();
    let v = if let Some(h) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        u64::from_str_radix(h, 16).map_err(|_| bad())?
    } else if t.len() > 1 && t.starts_with('0') {
        u64::from_str_radix(&t[1..], 8).map_err(|_| bad())?
    } else {
        t.parse::<u64>().map_err(|_| bad())?
    };
    u32::try_from(v).map_err(|_| bad())
}

fn str_to_u8(s: &str, name: &str) -> Result<u8, String> {
    let v = str_to_u32(s)?;
    u8::try_from(v).map_err(|_| format!("invalid {name} \"{s}\""))
}

/// Parses a meter text (upstream's `parse_ofp_meter_mod_str`).
pub fn parse_meter(text: &str, what: MeterText) -> Result<MeterMod, String> {
    let (want_flags, want_bands) = match what {
        MeterText::Add | MeterText::Modify => (true, true),
        MeterText::Delete | MeterText::Request => (false, false),
    };
    let command = match what {
        MeterText::Add | MeterText::Request => 0,
        MeterText::Modify => 1,
        MeterText::Delete => 2,
    };
    let mut head = text;
    let mut band_text = "";
    if want_bands {
        // `band=` and `bands=` both work: upstream looks for "band".
        let Some(pos) = text.find("band") else {
            return Err("must specify bands".into());
        };
        head = &text[..pos];
        let after = &text[pos + 1..];
        let Some(eq) = after.find('=') else {
            return Err("must specify bands".into());
        };
        band_text = &after[eq + 1..];
    }
    let mut meter_id = 0u32;
    let mut flags = 0u16;
    let mut rest = head;
    while let Some((name, value)) = next_pair(&mut rest) {
        let flag = match name {
            "kbps" => OFPMF_KBPS,
            "pktps" => OFPMF_PKTPS,
            "burst" => OFPMF_BURST,
            "stats" => OFPMF_STATS,
            _ => 0,
        };
        if want_flags && flag != 0 {
            flags |= flag;
            continue;
        }
        if value.is_empty() {
            return Err(format!("field {name} missing value"));
        }
        if name != "meter" {
            return Err(format!("unknown keyword {name}"));
        }
        meter_id = match value {
            "all" => OFPM13_ALL,
            "controller" => OFPM13_CONTROLLER,
            "slowpath" => OFPM13_SLOWPATH,
            v => {
                let id = str_to_u32(v)?;
                if id > OFPM13_MAX {
                    return Err(format!("invalid value for {name}"));
                }
                id
            }
        };
    }
    if meter_id == 0 && what != MeterText::Request {
        return Err("must specify 'meter'".into());
    }
    if want_flags && flags == 0 {
        return Err("meter must specify either 'kbps' or 'pktps'".into());
    }
    let mut bands: Vec<MeterBand> = Vec::new();
    if want_bands {
        let mut rest = band_text;
        while let Some((name, value)) = next_pair(&mut rest) {
            if name == "type" {
                let type_ = match value {
                    "drop" => OFPMBT_DROP,
                    "dscp_remark" => OFPMBT_DSCP_REMARK,
                    _ => return Err(format!("field {name} unknown value {value}")),
                };
                bands.push(MeterBand {
                    type_,
                    rate: 0,
                    burst_size: 0,
                    prec_level: 0,
                });
                continue;
            }
            let Some(band) = bands.last_mut() else {
                return Err("band must start with the 'type' keyword".into());
            };
            match name {
                "rate" => band.rate = str_to_u32(value)?,
                "burst_size" => band.burst_size = str_to_u32(value)?,
                "prec_level" => band.prec_level = str_to_u8(value, name)?,
                _ => return Err(format!("unknown keyword {name}")),
            }
        }
        if bands.is_empty() {
            return Err("meter must have bands".into());
        }
        for b in &bands {
            if b.rate == 0 {
                return Err("band must have 'rate'".into());
            }
            if flags & OFPMF_BURST != 0 && b.burst_size == 0 {
                return Err("band must have 'burst_size' when 'burst' flag is set".into());
            }
        }
    }
    Ok(MeterMod {
        command,
        meter: MeterConfig {
            meter_id,
            flags,
            bands,
        },
    })
}

fn meter_mod(opts: &Options, args: &[String], what: MeterText) -> CmdResult {
    let mm = match args.get(1) {
        Some(text) => parse_meter(text, what).map_err(Fatal)?,
        None => MeterMod {
            command: 2,
            meter: MeterConfig {
                meter_id: OFPM13_ALL,
                flags: 0,
                bands: Vec::new(),
            },
        },
    };
    let (mut v, _) = open_for_flow_mod(opts, &args[0], Protocols::OF13_UP)?;
    let mut m = start(OfpRaw::OFPT13_METER_MOD, v.version(), alloc_xid());
    mm.encode_body(&mut m);
    transact_noreply(opts, &mut v, &[finish(m)])
}

fn meter_request(opts: &Options, args: &[String], raw: OfpRaw, with_id: bool) -> CmdResult {
    let meter_id = match args.get(1).filter(|_| with_id) {
        Some(text) => {
            parse_meter(text, MeterText::Request)
                .map_err(Fatal)?
                .meter
                .meter_id
        }
        None => OFPM13_ALL,
    };
    let (mut v, _) = open_for_flow_mod(opts, &args[0], Protocols::OF13_UP)?;
    let mut m = start(raw, v.version(), alloc_xid());
    if with_id {
        m.put_u32(meter_id);
        m.put_zeros(4);
    }
    dump_transaction(opts, &mut v, &finish(m))
}

/// `add-meter SWITCH METER`
pub fn add_meter(opts: &Options, args: &[String]) -> CmdResult {
    meter_mod(opts, args, MeterText::Add)
}

/// `mod-meter SWITCH METER`
pub fn mod_meter(opts: &Options, args: &[String]) -> CmdResult {
    meter_mod(opts, args, MeterText::Modify)
}

/// `del-meter SWITCH [METER]` and `del-meters SWITCH [METER]`
pub fn del_meters(opts: &Options, args: &[String]) -> CmdResult {
    meter_mod(opts, args, MeterText::Delete)
}

/// `dump-meter SWITCH [METER]` and `dump-meters SWITCH [METER]`
pub fn dump_meters(opts: &Options, args: &[String]) -> CmdResult {
    meter_request(opts, args, OfpRaw::OFPST13_METER_CONFIG_REQUEST, true)
}

/// `meter-stats SWITCH [METER]`
pub fn meter_stats(opts: &Options, args: &[String]) -> CmdResult {
    meter_request(opts, args, OfpRaw::OFPST13_METER_REQUEST, true)
}

/// `meter-features SWITCH`
pub fn meter_features(opts: &Options, args: &[String]) -> CmdResult {
    meter_request(opts, args, OfpRaw::OFPST13_METER_FEATURES_REQUEST, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meter_texts() {
        let mm = parse_meter(
            "meter=3,pktps,burst,bands=type=drop,rate=5,burst_size=2",
            MeterText::Add,
        )
        .unwrap();
        assert_eq!(mm.meter.meter_id, 3);
        assert_eq!(mm.meter.flags, OFPMF_PKTPS | OFPMF_BURST);
        assert_eq!(mm.meter.bands.len(), 1);
        assert_eq!(
            parse_meter("meter=1,kbps", MeterText::Add).unwrap_err(),
            "must specify bands"
        );
        assert_eq!(
            parse_meter("kbps", MeterText::Delete).unwrap_err(),
            "field kbps missing value"
        );
        assert_eq!(
            parse_meter("meter=all", MeterText::Request)
                .unwrap()
                .meter
                .meter_id,
            OFPM13_ALL
        );
    }
}
