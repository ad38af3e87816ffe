//! Online commands about the switch as a whole: `show`, `dump-desc`,
//! `dump-tables`, `dump-table-features`, `dump-table-desc`, `mod-table`,
//! `get-frags`, `set-frags`, `probe`, `ping`, `benchmark`,
//! `dump-ipfix-bridge`, `dump-ipfix-flow`, `dump-tlv-map`, `ct-flush-zone`.

use super::online::{
    dump_transaction, dump_trivial, empty_request, io_fatal, open_vconn, print_msg,
    require_version, transact_noreply,
};
use super::options::Options;
use super::{CmdResult, Fatal};
use openflow::msgs::switch::SwitchConfig;
use openflow::raw::{decode_raw, finish, start, OfpRaw};
use openflow::vconn::alloc_xid;
use openflow::wire::Put;
use std::time::Instant;

/// `show SWITCH`
pub fn show(opts: &Options, args: &[String]) -> CmdResult {
    let name = &args[0];
    let mut v = open_vconn(opts, name)?;
    let version = v.version();
    let req = empty_request(OfpRaw::OFPT_FEATURES_REQUEST, version);
    let vname = v.name().to_string();
    let reply = v
        .transact(&req)
        .map_err(|e| io_fatal(&format!("talking to {vname}"), e))?;
    if decode_raw(&reply).is_err() {
        return Err(Fatal(format!("{name}: malformed features reply")));
    }
    // Up to OpenFlow 1.2 the features reply lists the ports.
    let has_ports = version <= 3 && reply.get(1) == Some(&6);
    print_msg(opts, &reply);
    if !has_ports {
        let req = super::online::port_desc_request(version, 0xffff_ffff);
        dump_transaction(opts, &mut v, &req)?;
    }
    drop(v);
    dump_trivial(opts, name, OfpRaw::OFPT_GET_CONFIG_REQUEST)
}

/// `dump-desc SWITCH`
pub fn dump_desc(opts: &Options, args: &[String]) -> CmdResult {
    dump_trivial(opts, &args[0], OfpRaw::OFPST_DESC_REQUEST)
}

/// `dump-tables SWITCH`
pub fn dump_tables(opts: &Options, args: &[String]) -> CmdResult {
    dump_trivial(opts, &args[0], OfpRaw::OFPST_TABLE_REQUEST)
}

/// `dump-table-features SWITCH`: every table of every reply, with runs of
/// identical tables folded into one "ditto" line.
pub fn dump_table_features(opts: &Options, args: &[String]) -> CmdResult {
    use openflow::msgs::table_features::TableFeatures;
    let mut v = open_vconn(opts, &args[0])?;
    require_version(&v, "dump-table-features", 4)?;
    let version = v.version();
    let req = empty_request(OfpRaw::OFPST13_TABLE_FEATURES_REQUEST, version);
    let replies = super::online::collect_transaction(&mut v, &req)?;
    let mut prev: Option<TableFeatures> = None;
    let mut pieces = Vec::new();
    for reply in &replies {
        match decode_raw(reply) {
            Ok(OfpRaw::OFPST13_TABLE_FEATURES_REPLY) => {}
            _ => {
                print_msg(opts, reply);
                continue;
            }
        }
        let body = &reply[OfpRaw::OFPST13_TABLE_FEATURES_REPLY.header_len(version)..];
        let tables = TableFeatures::decode_all(body)
            .map_err(|e| Fatal(format!("decode error: {}", e.name())))?;
        for t in tables {
            let mut piece = String::new();
            t.format(&mut piece, prev.as_ref());
            pieces.push((t.table_id, !t.name.is_empty(), piece));
            prev = Some(t);
        }
    }
    let out = openflow::msgs::table_features::fold_dittos(pieces);
    // Each table starts with a newline; upstream prints them one per
    // paragraph with the leading newline dropped.
    let text = out.strip_prefix('\n').unwrap_or(&out);
    print!("{text}");
    if !text.is_empty() && !text.ends_with('\n') {
        println!();
    }
    Ok(())
}

/// `dump-table-desc SWITCH`
pub fn dump_table_desc(opts: &Options, args: &[String]) -> CmdResult {
    let mut v = open_vconn(opts, &args[0])?;
    require_version(&v, "dump-table-desc", 5)?;
    let req = empty_request(OfpRaw::OFPST14_TABLE_DESC_REQUEST, v.version());
    dump_transaction(opts, &mut v, &req)
}

/// `get-frags SWITCH`
pub fn get_frags(opts: &Options, args: &[String]) -> CmdResult {
    let mut v = open_vconn(opts, &args[0])?;
    let config = fetch_config(&mut v)?;
    println!("{}", FRAG_MODES[usize::from(config.flags & 3)]);
    Ok(())
}

const FRAG_MODES: [&str; 4] = ["normal", "drop", "reassemble", "nx-match"];

fn fetch_config(v: &mut openflow::vconn::Vconn) -> Result<SwitchConfig, Fatal> {
    let req = empty_request(OfpRaw::OFPT_GET_CONFIG_REQUEST, v.version());
    let vname = v.name().to_string();
    let reply = v
        .transact(&req)
        .map_err(|e| io_fatal(&format!("talking to {vname}"), e))?;
    if decode_raw(&reply) != Ok(OfpRaw::OFPT_GET_CONFIG_REPLY) {
        return Err(Fatal(format!(
            "{vname}: bad reply to config request: {}",
            openflow::print::ofp_to_string(&reply, 2).trim_end()
        )));
    }
    SwitchConfig::decode(&reply[8..]).map_err(|e| Fatal(format!("decode error: {}", e.name())))
}

/// `set-frags SWITCH MODE`
pub fn set_frags(opts: &Options, args: &[String]) -> CmdResult {
    let mode = match args[1].as_str() {
        "normal" => 0,
        "drop" => 1,
        "reassemble" => 2,
        "nx-match" => 3,
        other => return Err(Fatal(format!("{other}: unknown fragment handling mode"))),
    };
    let mut v = open_vconn(opts, &args[0])?;
    let mut config = fetch_config(&mut v)?;
    if config.flags & 3 != mode {
        config.flags = (config.flags & !3) | mode;
        let msg = config.encode(OfpRaw::OFPT_SET_CONFIG, v.version(), alloc_xid());
        transact_noreply(opts, &mut v, &[msg])?;
        let now = fetch_config(&mut v)?;
        if now.flags & 3 != mode {
            return Err(Fatal(format!(
                "{}: setting fragment handling mode failed (this switch probably doesn't support mode \"{}\")",
                args[0], args[1]
            )));
        }
    }
    Ok(())
}

/// `probe TARGET`: an echo request and its reply, nothing printed.
pub fn probe(opts: &Options, args: &[String]) -> CmdResult {
    let mut v = open_vconn(opts, &args[0])?;
    let req = finish(start(OfpRaw::OFPT_ECHO_REQUEST, v.version(), 0));
    let reply = v
        .transact(&req)
        .map_err(|e| io_fatal(&format!("talking to {}", args[0]), e))?;
    if reply.len() != 8 {
        return Err(Fatal("reply does not match request".into()));
    }
    Ok(())
}

/// `ping TARGET [N]`: ten echo requests with an N-byte payload.
pub fn ping(opts: &Options, args: &[String]) -> CmdResult {
    let payload: usize = match args.get(1) {
        Some(s) => s.parse().unwrap_or(0),
        None => 64,
    };
    let max = 65535 - 8;
    if payload > max {
        return Err(Fatal(format!("payload must be between 0 and {max} bytes")));
    }
    let mut v = open_vconn(opts, &args[0])?;
    for _ in 0..10 {
        let xid = alloc_xid();
        let mut req = start(OfpRaw::OFPT_ECHO_REQUEST, v.version(), xid);
        let body: Vec<u8> = (0..payload).map(|_| rand_byte()).collect();
        req.extend_from_slice(&body);
        let req = finish(req);
        let t0 = Instant::now();
        let reply = v
            .transact(&req)
            .map_err(|e| io_fatal(&format!("transaction failed"), e))?;
        let ms = t0.elapsed().as_secs_f64() * 1000.0;
        let good = reply.len() == req.len()
            && decode_raw(&reply) == Ok(OfpRaw::OFPT_ECHO_REPLY)
            && reply[8..] == req[8..]
            && reply[4..8] == req[4..8];
        if !good {
            println!("Reply does not match request.  Request:");
            print!(
                "{}",
                openflow::print::ofp_to_string(&req, opts.verbosity + 2)
            );
            println!("Reply:");
            print!(
                "{}",
                openflow::print::ofp_to_string(&reply, opts.verbosity + 2)
            );
        }
        println!(
            "{} bytes from {}: xid={:08x} time={:.1} ms",
            reply.len() - 8,
            args[0],
            xid,
            ms
        );
    }
    Ok(())
}

fn rand_byte() -> u8 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static STATE: AtomicU64 = AtomicU64::new(0x9e37_79b9_7f4a_7c15);
    let mut x = STATE.fetch_add(0x9e37_79b9_7f4a_7c15, Ordering::Relaxed);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    (x >> 56) as u8
}

/// `benchmark TARGET N COUNT`: COUNT echo round trips of N-byte messages.
pub fn benchmark(opts: &Options, args: &[String]) -> CmdResult {
    let size: usize = args[1].parse().unwrap_or(0);
    let max = 65535;
    if size < 8 || size > max {
        return Err(Fatal(format!("payload must be between 8 and {max} bytes")));
    }
    let count: u64 = args[2].parse().unwrap_or(0);
    let payload = size - 8;
    println!(
        "Sending {count} packets * {size} bytes (with header) = {} bytes total",
        count * size as u64
    );
    let mut v = open_vconn(opts, &args[0])?;
    let t0 = Instant::now();
    for _ in 0..count {
        let mut req = start(OfpRaw::OFPT_ECHO_REQUEST, v.version(), alloc_xid());
        req.resize(req.len() + payload, 0);
        let req = finish(req);
        v.transact(&req)
            .map_err(|e| io_fatal("transaction failed", e))?;
    }
    let secs = t0.elapsed().as_secs_f64();
    let ms = secs * 1000.0;
    let (pps, bps) = if secs > 0.0 {
        (count as f64 / secs, (count * size as u64) as f64 / secs)
    } else {
        (0.0, 0.0)
    };
    print!(
        "Finished in {:.1} ms ({:.0} packets/s) ({:.0} bytes/s)\n",
        ms, pps, bps
    );
    Ok(())
}

/// `dump-ipfix-bridge SWITCH`
pub fn dump_ipfix_bridge(opts: &Options, args: &[String]) -> CmdResult {
    dump_trivial(opts, &args[0], OfpRaw::NXST_IPFIX_BRIDGE_REQUEST)
}

/// `dump-ipfix-flow SWITCH`
pub fn dump_ipfix_flow(opts: &Options, args: &[String]) -> CmdResult {
    dump_trivial(opts, &args[0], OfpRaw::NXST_IPFIX_FLOW_REQUEST)
}

/// `dump-tlv-map SWITCH`
pub fn dump_tlv_map(opts: &Options, args: &[String]) -> CmdResult {
    dump_trivial(opts, &args[0], OfpRaw::NXT_TLV_TABLE_REQUEST)
}

/// `ct-flush-zone SWITCH ZONE`
pub fn ct_flush_zone(opts: &Options, args: &[String]) -> CmdResult {
    let zone: u16 =
        parse_u16(&args[1]).ok_or_else(|| Fatal(format!("invalid zone_id \"{}\"", args[1])))?;
    let mut v = open_vconn(opts, &args[0])?;
    let mut m = start(OfpRaw::NXT_CT_FLUSH_ZONE, v.version(), alloc_xid());
    m.put_zeros(6);
    m.put_u16(zone);
    transact_noreply(opts, &mut v, &[finish(m)])
}

fn parse_u16(s: &str) -> Option<u16> {
    let v: u64 = if let Some(h) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        u64::from_str_radix(h, 16).ok()?
    } else {
        s.parse().ok()?
    };
    u16::try_from(v).ok()
}

/// C's `%i` conversion (decimal, `0x` hex or leading-0 octal, optional
/// sign) at the start of `s`: the value and the rest.
fn scan_int(s: &str) -> Option<(i64, &str)> {
    let (neg, t) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let (radix, digits_at) = if t.starts_with("0x") || t.starts_with("0X") {
        (16, 2)
    } else if t.starts_with('0') {
        (8, 0)
    } else {
        (10, 0)
    };
    let body = &t[digits_at..];
    let n = body
        .char_indices()
        .find(|(_, c)| !c.is_digit(radix))
        .map_or(body.len(), |(i, _)| i);
    if n == 0 {
        return None;
    }
    let v = i64::from_str_radix(&body[..n], radix).ok()?;
    Some((if neg { -v } else { v }, &body[n..]))
}

/// Upstream's `parse_ofp_tlv_table_mod_str`: `{class=C,type=T,len=L}->
/// tun_metadataN` mappings separated by commas.
fn parse_tlv_maps(mut s: &str) -> Result<Vec<openflow::msgs::tlv_table::TlvMap>, String> {
    let bad = || "invalid tlv mapping".to_string();
    let mut maps = Vec::new();
    while !s.is_empty() {
        if let Some(r) = s.strip_prefix(',') {
            s = r;
        }
        let r = s.strip_prefix("{class=").ok_or_else(bad)?;
        let (class, r) = scan_int(r).ok_or_else(bad)?;
        let r = r.strip_prefix(",type=").ok_or_else(bad)?;
        let (type_, r) = scan_int(r).ok_or_else(bad)?;
        let r = r.strip_prefix(",len=").ok_or_else(bad)?;
        let (len, r) = scan_int(r).ok_or_else(bad)?;
        let r = r.strip_prefix("}->tun_metadata").ok_or_else(bad)?;
        let (index, r) = scan_int(r).ok_or_else(bad)?;
        maps.push(openflow::msgs::tlv_table::TlvMap {
            option_class: class as u16,
            option_type: type_ as u8,
            option_len: len as u8,
            index: index as u16,
        });
        s = r;
    }
    Ok(maps)
}

fn tlv_mod(opts: &Options, args: &[String], command: u16) -> CmdResult {
    use openflow::msgs::tlv_table::TlvTableMod;
    let maps = parse_tlv_maps(args.get(1).map_or("", String::as_str)).map_err(Fatal)?;
    let (mut v, _) =
        super::online_flows::open_for_flow_mod(opts, &args[0], flow::Protocols::NXM_OXM_ANY)?;
    let mut m = start(OfpRaw::NXT_TLV_TABLE_MOD, v.version(), alloc_xid());
    TlvTableMod { command, maps }.encode_body(&mut m);
    transact_noreply(opts, &mut v, &[finish(m)])
}

/// `add-tlv-map SWITCH MAP`
pub fn add_tlv_map(opts: &Options, args: &[String]) -> CmdResult {
    tlv_mod(opts, args, 0)
}

/// `del-tlv-map SWITCH [MAP]` (without MAP: clear the table)
pub fn del_tlv_map(opts: &Options, args: &[String]) -> CmdResult {
    tlv_mod(opts, args, if args.len() > 1 { 1 } else { 2 })
}

/// Upstream's `ofp_ct_tuple_parse`: one direction's conntrack tuple.
pub(crate) fn parse_ct_tuple(
    s: &str,
    t: &mut openflow::msgs::ct_flush::CtTuple,
    ip_proto: &mut u8,
    l3_type: &mut u8,
) -> Result<(), String> {
    const AF_INET: u8 = 2;
    const AF_INET6: u8 = 10;
    let mut rest = s;
    while let Some((key, value)) = flow::key_value::next_pair(&mut rest) {
        let failed = || format!("failed to parse field {key}");
        if value.is_empty() {
            return Err(format!("field {key} missing value"));
        }
        match key {
            "ct_nw_src" | "ct_nw_dst" => {
                if *l3_type != 0 && *l3_type != AF_INET {
                    return Err(format!("the L3 protocol does not match {value}"));
                }
                let addr = if key == "ct_nw_src" {
                    &mut t.src
                } else {
                    &mut t.dst
                };
                if addr.iter().any(|&b| b != 0) {
                    return Err(format!("{key} is set multiple times"));
                }
                let ip: std::net::Ipv4Addr = value.parse().map_err(|_| failed())?;
                *addr = ip.to_ipv6_mapped().octets();
                *l3_type = AF_INET;
            }
            "ct_ipv6_src" | "ct_ipv6_dst" => {
                if *l3_type != 0 && *l3_type != AF_INET6 {
                    return Err(format!("the L3 protocol does not match {value}"));
                }
                let addr = if key == "ct_ipv6_src" {
                    &mut t.src
                } else {
                    &mut t.dst
                };
                if addr.iter().any(|&b| b != 0) {
                    return Err(format!("{key} is set multiple times"));
                }
                let ip: std::net::Ipv6Addr = value.parse().map_err(|_| failed())?;
                *addr = ip.octets();
                *l3_type = AF_INET6;
            }
            "ct_nw_proto" => {
                *ip_proto = parse_u16(value)
                    .and_then(|v| u8::try_from(v).ok())
                    .ok_or_else(failed)?;
            }
            "ct_tp_src" | "ct_tp_dst" => {
                let port = parse_u16(value).ok_or_else(failed)?;
                if key == "ct_tp_src" {
                    t.src_port = port;
                } else {
                    t.dst_port = port;
                }
            }
            "icmp_type" | "icmp_code" | "icmp_id" => {
                if *ip_proto != 1 && *ip_proto != 58 {
                    return Err("invalid L4 fields".into());
                }
                match key {
                    "icmp_type" => {
                        t.icmp_type = parse_u16(value)
                            .and_then(|v| u8::try_from(v).ok())
                            .ok_or_else(failed)?
                    }
                    "icmp_code" => {
                        t.icmp_code = parse_u16(value)
                            .and_then(|v| u8::try_from(v).ok())
                            .ok_or_else(failed)?
                    }
                    _ => t.icmp_id = parse_u16(value).ok_or_else(failed)?,
                }
            }
            _ => return Err(format!("invalid conntrack tuple field: {key}")),
        }
    }
    Ok(())
}

/// `ct-flush SWITCH [zone=N] [ORIG-TUPLE [REPLY-TUPLE]]`
pub fn ct_flush(opts: &Options, args: &[String]) -> CmdResult {
    use openflow::msgs::ct_flush::{CtFlush, CtTuple};
    let mut rest = &args[1..];
    let mut zone = 0u16;
    if let Some(z) = rest.first().and_then(|a| a.strip_prefix("zone=")) {
        let digits: String = z.chars().take_while(|c| c.is_ascii_digit()).collect();
        let v: u64 = digits
            .parse()
            .map_err(|_| Fatal("Failed to parse zone".into()))?;
        zone = v as u16;
        rest = &rest[1..];
    }
    let mut ip_proto = 0u8;
    let mut l3_type = 0u8;
    let mut tuples = [CtTuple::default(), CtTuple::default()];
    for (i, arg) in rest.iter().take(2).enumerate() {
        if !arg.is_empty() {
            parse_ct_tuple(arg, &mut tuples[i], &mut ip_proto, &mut l3_type)
                .map_err(|e| Fatal(format!("Failed to parse ct-tuple: {e}")))?;
        }
    }
    let [orig, reply] = tuples;
    let mut v = open_vconn(opts, &args[0])?;
    let mut m = start(OfpRaw::NXT_CT_FLUSH, v.version(), alloc_xid());
    CtFlush {
        zone,
        ip_proto,
        l3_type,
        orig,
        reply,
    }
    .encode_body(&mut m);
    transact_noreply(opts, &mut v, &[finish(m)])
}

/// A table's eviction or vacancy-event setting as `mod-table` leaves it:
/// unchanged unless a setting names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Toggle {
    Default,
    On,
    Off,
}

/// OpenFlow 1.1/1.2 table-miss behaviours, by their wire numbers.
const MISS_CONTROLLER: u32 = 0;
const MISS_CONTINUE: u32 = 1;
const MISS_DROP: u32 = 2;

/// Wire version bitmaps of the settings.
const MISS_VERSIONS: u32 = (1 << 2) | (1 << 3);
const OF14_UP_VERSIONS: u32 = (1 << 5) | (1 << 6);

/// All tables (`OFPTT_ALL`) and the number of tables `all` expands to for
/// OpenFlow 1.4+ (`OFPTT_MAX`).
const TABLE_ALL: u8 = 0xff;
const TABLE_MAX: u8 = 0xfe;

/// A `mod-table` request (upstream's `ofputil_table_mod`).
#[derive(Clone, Debug, PartialEq, Eq)]
struct TableModRequest {
    table_id: u8,
    miss: Option<u32>,
    eviction: Toggle,
    eviction_flags: Option<u32>,
    vacancy: Toggle,
    vacancy_down: u8,
    vacancy_up: u8,
}

/// C's `str_to_int(s, 0, ...)`: the whole string as a base-0 number that
/// fits an `int`.
fn c_int(s: &str) -> Option<i64> {
    flow::flow_str::c_number(s)
        .and_then(|v| i32::try_from(v).ok())
        .map(i64::from)
}

/// C's `strtok_r`: the next token of `rest` delimited by `delim`, skipping
/// leading delimiters; `rest` moves past the delimiter that ends it.
fn next_token<'a>(rest: &mut &'a str, delim: char) -> Option<&'a str> {
    let s = rest.trim_start_matches(delim);
    if s.is_empty() {
        *rest = s;
        return None;
    }
    match s.find(delim) {
        Some(i) => {
            *rest = &s[i + 1..];
            Some(&s[..i])
        }
        None => {
            *rest = "";
            Some(s)
        }
    }
}

/// `vacancy:DOWN,UP` thresholds, in percent.
fn parse_vacancy(setting: &str) -> Result<(u8, u8), String> {
    let mut rest = setting;
    let _ = next_token(&mut rest, ':');
    let percent = |s: &str| c_int(s).filter(|v| (0..=100).contains(v)).map(|v| v as u8);
    let down = next_token(&mut rest, ',').ok_or("Vacancy down value missing")?;
    let down = percent(down).ok_or_else(|| format!("Invalid vacancy down value \"{down}\""))?;
    let up = next_token(&mut rest, ',').ok_or("Vacancy up value missing")?;
    let up = percent(up).ok_or_else(|| format!("Invalid vacancy up value \"{up}\""))?;
    if down > up {
        return Err(format!(
            "Invalid vacancy range, vacancy up should be greater than vacancy down ({})",
            openflow::errors::OfpErr::OFPBPC_BAD_VALUE.name()
        ));
    }
    Ok((down, up))
}

/// Parses `mod-table`'s TABLE and SETTING; returns the request and the
/// wire versions able to carry it.
fn parse_table_mod(
    table: &str,
    setting: &str,
    tables: Option<&flow::port::PortMap>,
) -> Result<(TableModRequest, u32), String> {
    let table_id = if table.eq_ignore_ascii_case("all") {
        TABLE_ALL
    } else {
        let mut warnings = Vec::new();
        let t = flow::flow_str::parse_table(table, tables, &mut warnings);
        for w in &warnings {
            vlog::warn!(w.module, "{}", w.text);
        }
        t.ok_or_else(|| format!("unknown table \"{table}\""))?
    };
    let mut tm = TableModRequest {
        table_id,
        miss: None,
        eviction: Toggle::Default,
        eviction_flags: None,
        vacancy: Toggle::Default,
        vacancy_down: 0,
        vacancy_up: 0,
    };
    let head = setting.split(':').next().unwrap_or("");
    let versions = match setting {
        "controller" | "continue" | "drop" => {
            tm.miss = Some(match setting {
                "controller" => MISS_CONTROLLER,
                "continue" => MISS_CONTINUE,
                _ => MISS_DROP,
            });
            MISS_VERSIONS
        }
        "evict" | "noevict" => {
            tm.eviction = if setting == "evict" {
                Toggle::On
            } else {
                Toggle::Off
            };
            OF14_UP_VERSIONS
        }
        // Any prefix of "vacancy" before the colon names it.
        _ if "vacancy".starts_with(head) => {
            tm.vacancy = Toggle::On;
            (tm.vacancy_down, tm.vacancy_up) = parse_vacancy(setting)?;
            OF14_UP_VERSIONS
        }
        "novacancy" => {
            tm.vacancy = Toggle::Off;
            OF14_UP_VERSIONS
        }
        _ => return Err(format!("invalid table_mod setting {setting}")),
    };
    if tm.table_id == TABLE_MAX && tm.miss == Some(MISS_CONTINUE) {
        return Err("last table's flow miss handling can not be continue".into());
    }
    Ok((tm, versions))
}

impl TableModRequest {
    /// Encodes the request as an `OFPT_TABLE_MOD` of `version`.
    fn encode(&self, version: u8) -> Vec<u8> {
        let raw = if version >= 5 {
            OfpRaw::OFPT14_TABLE_MOD
        } else {
            OfpRaw::OFPT11_TABLE_MOD
        };
        let mut m = start(raw, version, alloc_xid());
        m.put_u8(self.table_id);
        m.put_zeros(3);
        let config = match version {
            2 | 3 => self.miss.unwrap_or(0),
            4 => 0,
            _ => {
                u32::from(self.eviction == Toggle::On) << 2
                    | u32::from(self.vacancy == Toggle::On) << 3
            }
        };
        m.put_u32(config);
        if version >= 5 {
            if let Some(flags) = self.eviction_flags {
                openflow::msgs::props::put_property(&mut m, 2, &flags.to_be_bytes());
            }
            if self.vacancy == Toggle::On {
                openflow::msgs::props::put_property(
                    &mut m,
                    3,
                    &[self.vacancy_down, self.vacancy_up, 0, 0],
                );
            }
        }
        finish(m)
    }

    /// Keeps the setting the user did not name as the switch has it
    /// (OpenFlow 1.4+ table mods carry both eviction and vacancy).
    fn keep_current(&mut self, td: &openflow::msgs::table_desc::TableDesc) {
        let on = |b| if b { Toggle::On } else { Toggle::Off };
        if self.eviction != Toggle::Default {
            self.vacancy = on(td.vacancy_events);
            let v = td.vacancy.as_ref();
            self.vacancy_down = v.map_or(0, |v| v.down);
            self.vacancy_up = v.map_or(0, |v| v.up);
        } else if self.vacancy != Toggle::Default {
            self.eviction = on(td.eviction);
            self.eviction_flags = td.eviction_flags;
        }
    }
}

/// The description of `table_id` from a table-desc request (the last one
/// seen, `prev`, when the switch does not describe it).
fn fetch_table_desc(
    v: &mut openflow::vconn::Vconn,
    table_id: u8,
    prev: Option<openflow::msgs::table_desc::TableDesc>,
) -> Result<Option<openflow::msgs::table_desc::TableDesc>, Fatal> {
    require_version(v, "dump-table-desc", 5)?;
    let version = v.version();
    let req = empty_request(OfpRaw::OFPST14_TABLE_DESC_REQUEST, version);
    for reply in super::online::collect_transaction(v, &req)? {
        if decode_raw(&reply) != Ok(OfpRaw::OFPST14_TABLE_DESC_REPLY) {
            return Err(Fatal(format!(
                "received bad reply: {}",
                openflow::print::ofp_to_string(&reply, 2)
            )));
        }
        let body = &reply[OfpRaw::OFPST14_TABLE_DESC_REPLY.header_len(version)..];
        let descs = openflow::msgs::table_desc::decode_all(body).unwrap_or_default();
        if let Some(td) = descs.into_iter().find(|td| td.table_id == table_id) {
            return Ok(Some(td));
        }
    }
    Ok(prev)
}

/// `mod-table SWITCH TABLE SETTING`
pub fn mod_table(opts: &Options, args: &[String]) -> CmdResult {
    let name = &args[0];
    let tables = super::online::tables_to_accept(opts, name)?;
    let (mut tm, usable) = parse_table_mod(&args[1], &args[2], tables.as_ref()).map_err(Fatal)?;
    let allowed = super::protocols::allowed_versions(opts)?;
    if allowed & usable == 0 {
        let names: Vec<&str> = (1..=6u8)
            .filter(|v| usable & (1 << v) != 0)
            .filter_map(flow::version::OfpVersion::from_wire)
            .map(|v| v.name())
            .collect();
        return Err(Fatal(format!(
            "table_mod '{}' requires one of the OpenFlow versions {}",
            args[2],
            names.join(", ")
        )));
    }
    let masked: Vec<&str> = (1..=6u8)
        .filter(|v| allowed & usable & (1 << v) != 0)
        .filter_map(flow::version::OfpVersion::from_wire)
        .map(|v| v.name())
        .collect();
    let session = Options {
        protocols: Some(masked.join(",")),
        ..opts.clone()
    };
    let mut v = open_vconn(&session, name)?;
    let version = v.version();
    if allowed & OF14_UP_VERSIONS == 0 {
        return transact_noreply(opts, &mut v, &[tm.encode(version)]);
    }
    // OpenFlow 1.4+ table mods set eviction and vacancy together: the
    // one not named keeps its current value (carried over from table to
    // table for `all`, as upstream does).
    let ids: Vec<u8> = if tm.table_id == TABLE_ALL {
        (0..TABLE_MAX).collect()
    } else {
        vec![tm.table_id]
    };
    let mut td = None;
    for id in ids {
        tm.table_id = id;
        td = fetch_table_desc(&mut v, id, td)?;
        if let Some(d) = &td {
            tm.keep_current(d);
        }
        transact_noreply(opts, &mut v, &[tm.encode(version)])?;
    }
    Ok(())
}

#[cfg(test)]
mod table_mod_tests {
    use super::*;

    #[test]
    fn settings_and_versions() {
        let (tm, v) = parse_table_mod("3", "drop", None).unwrap();
        assert_eq!(
            (tm.table_id, tm.miss, v),
            (3, Some(MISS_DROP), MISS_VERSIONS)
        );
        let (tm, v) = parse_table_mod("ALL", "evict", None).unwrap();
        assert_eq!(
            (tm.table_id, tm.eviction, v),
            (TABLE_ALL, Toggle::On, OF14_UP_VERSIONS)
        );
        let (tm, _) = parse_table_mod("0", "vacancy:010,0x14", None).unwrap();
        assert_eq!((tm.vacancy_down, tm.vacancy_up), (8, 20));
    }

    #[test]
    fn upstream_errors() {
        let e = |t: &str, s: &str| parse_table_mod(t, s, None).unwrap_err();
        assert_eq!(e("0", "bogus"), "invalid table_mod setting bogus");
        assert_eq!(
            e("0", "vacancyx:1,2"),
            "invalid table_mod setting vacancyx:1,2"
        );
        assert_eq!(e("x", "drop"), "unknown table \"x\"");
        assert_eq!(e("0", "v"), "Vacancy down value missing");
        assert_eq!(e("0", ":1,2"), "Vacancy down value missing");
        assert_eq!(e("0", "vacancy:,20"), "Vacancy up value missing");
        assert_eq!(e("0", "vacancy:x,5"), "Invalid vacancy down value \"x\"");
        assert_eq!(e("0", "vacancy:50,101"), "Invalid vacancy up value \"101\"");
        assert_eq!(
            e("0", "vacancy:50,10"),
            "Invalid vacancy range, vacancy up should be greater than vacancy down (OFPBPC_BAD_VALUE)"
        );
        assert_eq!(
            e("254", "continue"),
            "last table's flow miss handling can not be continue"
        );
    }

    #[test]
    fn encodes_vacancy_property() {
        let (tm, _) = parse_table_mod("1", "vacancy:10,20", None).unwrap();
        let m = tm.encode(5);
        assert_eq!(&m[8..16], &[1, 0, 0, 0, 0, 0, 0, 8]);
        assert_eq!(&m[16..], &[0, 3, 0, 8, 10, 20, 0, 0]);
    }
}
