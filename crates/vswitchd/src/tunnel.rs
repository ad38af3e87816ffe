//! Tunnel interfaces (`vxlan`, `geneve`, `gre`, `ip6gre`, `erspan`,
//! `ip6erspan`, `stt`, `lisp`, `gtpu`, `bareudp`): their configuration
//! read out of the Interface `options` column and checked with upstream's
//! rules and messages, the datapath port that carries every tunnel of one
//! type and UDP port (`vxlan_sys_4789`, `genev_sys_6081`, `gre_sys`, ...),
//! and the configuration text `dpif/show` prints in parentheses.
//!
//! A tunnel interface is an OpenFlow port of its own; in the datapath all
//! tunnels of one type and destination port share one vport (the
//! `datapath` room's [`datapath::vport::TunnelVport`]), as upstream's
//! backers do.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv6Addr};

/// The tunnel interface types.
pub const TUNNEL_TYPES: &[&str] = &[
    "bareudp",
    "erspan",
    "geneve",
    "gre",
    "gtpu",
    "ip6erspan",
    "ip6gre",
    "lisp",
    "stt",
    "vxlan",
];

/// True if `type_` is a tunnel interface type.
pub fn is_tunnel_type(type_: &str) -> bool {
    TUNNEL_TYPES.contains(&type_)
}

/// The well-known UDP destination port of a UDP-based tunnel type.
pub fn default_dst_port(type_: &str) -> Option<u16> {
    match type_ {
        "geneve" => Some(6081),
        "vxlan" => Some(4789),
        "lisp" => Some(4341),
        "stt" => Some(7471),
        "gtpu" => Some(2152),
        "bareudp" => Some(0),
        _ => None,
    }
}

/// True for the types whose datapath port is per UDP destination port.
fn needs_dst_port(type_: &str) -> bool {
    default_dst_port(type_).is_some()
}

/// The prefix of the datapath port name of a tunnel type.
fn dpif_port_prefix(type_: &str) -> &'static str {
    match type_ {
        "geneve" => "genev_sys",
        "gre" => "gre_sys",
        "vxlan" => "vxlan_sys",
        "lisp" => "lisp_sys",
        "stt" => "stt_sys",
        "erspan" => "erspan_sys",
        "ip6erspan" => "ip6erspan_sys",
        "ip6gre" => "ip6gre_sys",
        "gtpu" => "gtpu_sys",
        _ => "bareudp_sys",
    }
}

/// A tunnel key option (`key`, `in_key`, `out_key`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TunnelKey {
    /// Not given: key 0 on output, only key 0 accepted on input.
    #[default]
    Absent,
    /// `flow`: set by the `tun_id` field.
    Flow,
    Fixed(u64),
}

/// An endpoint address option (`remote_ip`, `local_ip`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TunnelAddr {
    #[default]
    Absent,
    /// `flow`: set by the `tun_dst`/`tun_src` fields.
    Flow,
    Ip(IpAddr),
}

/// How packets are typed on a tunnel (`packet_type`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PacketTypeMode {
    #[default]
    LegacyL2,
    LegacyL3,
    Ptap,
}

/// The configuration of one tunnel interface.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TunnelConfig {
    pub type_: String,
    pub remote_ip: TunnelAddr,
    pub local_ip: TunnelAddr,
    pub in_key: TunnelKey,
    pub out_key: TunnelKey,
    /// IP TOS (DSCP bits only), or `None` for `inherit`.
    pub tos: Option<u8>,
    /// TTL, or `None` for `inherit`.
    pub ttl: Option<u8>,
    /// UDP destination port (UDP-based types).
    pub dst_port: Option<u16>,
    pub csum: bool,
    /// `seq=true` (GRE).
    pub seq: bool,
    pub df_default: bool,
    pub packet_type: PacketTypeMode,
    /// VXLAN extensions: group-based policy.
    pub gbp: bool,
    /// VXLAN extensions: generic protocol extension.
    pub gpe: bool,
    pub egress_pkt_mark: Option<u32>,
    /// ERSPAN version (`None` = `flow`).
    pub erspan_ver: Option<u8>,
    /// ERSPAN index (`None` = `flow`).
    pub erspan_idx: Option<u32>,
    pub erspan_dir: Option<u8>,
    pub erspan_hwid: Option<u8>,
}

/// What parsing found: the configuration, or the error the Interface's
/// `error` column shows; in both cases the warnings upstream logs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Parsed {
    pub result: Result<TunnelConfig, String>,
    /// Logged at WARN by module `netdev_vport` (one multi-line message).
    pub warning: Option<String>,
}

/// The layers a tunnel type carries.
fn layers(type_: &str, gpe: bool) -> (bool, bool) {
    match type_ {
        "lisp" | "gtpu" | "bareudp" => (false, true),
        "gre" => (true, true),
        "vxlan" if gpe => (true, true),
        _ => (true, false),
    }
}

/// C `strtol`/`strtoul`-style prefix parse with base 0 (decimal, `0x`
/// hex, leading-zero octal); returns the value and whether the whole text
/// was consumed.
fn c_strtoul(s: &str, base: u32) -> (u64, bool) {
    let t = s.trim_start();
    let (neg, t) = match t.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let (radix, digits) = if base == 0 {
        if let Some(r) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
            (16, r)
        } else if t.len() > 1 && t.starts_with('0') {
            (8, &t[1..])
        } else {
            (10, t)
        }
    } else if base == 16 {
        (
            16,
            t.strip_prefix("0x")
                .or_else(|| t.strip_prefix("0X"))
                .unwrap_or(t),
        )
    } else {
        (base, t)
    };
    let end = digits
        .find(|c: char| !c.is_digit(radix))
        .unwrap_or(digits.len());
    let mut v: u64 = 0;
    for c in digits[..end].chars() {
        let d = c.to_digit(radix).unwrap_or(0) as u64;
        v = v.saturating_mul(radix as u64).saturating_add(d);
    }
    let v = if neg { v.wrapping_neg() } else { v };
    (v, end == digits.len() && !(end == 0 && radix != 8))
}

/// C `atoi`.
fn atoi(s: &str) -> i64 {
    let t = s.trim_start();
    let (neg, t) = match t.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let end = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let v: i64 = t[..end].chars().fold(0i64, |a, c| {
        a.saturating_mul(10).saturating_add(c as i64 - '0' as i64)
    });
    if neg {
        -v
    } else {
        v
    }
}

/// Why an address option was refused.
enum AddrError {
    Bad,
    Multicast,
}

fn parse_addr(value: &str, accept_mcast: bool) -> Result<TunnelAddr, AddrError> {
    if value == "flow" {
        return Ok(TunnelAddr::Flow);
    }
    let ip: IpAddr = if value.contains(':') {
        let a: Ipv6Addr = value.parse().map_err(|_| AddrError::Bad)?;
        IpAddr::V6(a)
    } else {
        IpAddr::V4(value.parse().map_err(|_| AddrError::Bad)?)
    };
    if !accept_mcast && ip.is_multicast() {
        return Err(AddrError::Multicast);
    }
    Ok(TunnelAddr::Ip(ip))
}

fn parse_key(options: &BTreeMap<String, String>, which: &str) -> TunnelKey {
    let Some(s) = options.get(which).or_else(|| options.get("key")) else {
        return TunnelKey::Absent;
    };
    if s == "flow" {
        TunnelKey::Flow
    } else {
        TunnelKey::Fixed(c_strtoul(s, 0).0)
    }
}

impl TunnelConfig {
    /// Reads the `options` of tunnel interface `name` of `type_`.
    pub fn parse(name: &str, type_: &str, options: &BTreeMap<String, String>) -> Parsed {
        let mut errors: Vec<String> = Vec::new();
        let fatal = |errors: &mut Vec<String>, msg: String| -> Parsed {
            errors.push(msg);
            let text = errors.join("\n");
            Parsed {
                result: Err(text.clone()),
                warning: Some(text),
            }
        };
        let has_csum = type_.contains("gre")
            || type_.contains("geneve")
            || type_.contains("stt")
            || type_.contains("vxlan");
        let has_seq = type_.contains("gre");
        let mut c = TunnelConfig {
            type_: type_.to_string(),
            dst_port: default_dst_port(type_).filter(|p| *p != 0),
            df_default: true,
            ttl: Some(0),
            tos: Some(0),
            erspan_ver: Some(0),
            erspan_idx: Some(0),
            erspan_dir: Some(0),
            erspan_hwid: Some(0),
            ..TunnelConfig::default()
        };
        let (mut dst_v6, mut src_v6) = (None::<bool>, None::<bool>);
        for (key, value) in options {
            match key.as_str() {
                "remote_ip" => match parse_addr(value, false) {
                    Ok(a) => {
                        if let TunnelAddr::Ip(ip) = a {
                            dst_v6 = Some(ip.is_ipv6());
                        }
                        c.remote_ip = a;
                    }
                    Err(AddrError::Bad) => errors.push(format!("{name}: bad {type_} 'remote_ip'")),
                    Err(AddrError::Multicast) => {
                        return fatal(
                            &mut errors,
                            format!("{name}: multicast remote_ip={value} not allowed"),
                        )
                    }
                },
                "local_ip" => match parse_addr(value, true) {
                    Ok(a) => {
                        if let TunnelAddr::Ip(ip) = a {
                            src_v6 = Some(ip.is_ipv6());
                        }
                        c.local_ip = a;
                    }
                    Err(_) => errors.push(format!("{name}: bad {type_} 'local_ip'")),
                },
                "tos" => {
                    if value == "inherit" {
                        c.tos = None;
                    } else {
                        let (v, whole) = c_strtoul(value, 0);
                        if whole && v & !0xfc == 0 {
                            c.tos = Some(v as u8);
                        } else {
                            errors.push(format!("{name}: invalid TOS {value}"));
                        }
                    }
                }
                "ttl" => {
                    c.ttl = if value == "inherit" {
                        None
                    } else {
                        Some(atoi(value) as u8)
                    };
                }
                "dst_port" if needs_dst_port(type_) => {
                    c.dst_port = Some(atoi(value) as u16);
                }
                "csum" if has_csum => c.csum = value == "true",
                "seq" if has_seq => c.seq = value == "true",
                "df_default" => c.df_default = value != "false",
                "key" | "in_key" | "out_key" | "packet_type" => {}
                "exts" if type_ == "vxlan" => {
                    c.gbp = false;
                    c.gpe = false;
                    for ext in value.split(',').filter(|e| !e.is_empty()) {
                        match ext {
                            "gbp" => c.gbp = true,
                            "gpe" => c.gpe = true,
                            _ => errors.push(format!("{name}: unknown extension '{ext}'")),
                        }
                    }
                }
                "egress_pkt_mark" => c.egress_pkt_mark = Some(c_strtoul(value, 10).0 as u32),
                "erspan_idx" => {
                    if value == "flow" {
                        c.erspan_idx = None;
                    } else {
                        let v = c_strtoul(value, 16).0;
                        if v & !0xfffff != 0 {
                            return fatal(
                                &mut errors,
                                format!("{name}: invalid erspan index: {value}"),
                            );
                        }
                        c.erspan_idx = Some(v as u32);
                    }
                }
                "erspan_ver" => {
                    if value == "flow" {
                        c.erspan_ver = None;
                        c.erspan_idx = None;
                        c.erspan_dir = None;
                        c.erspan_hwid = None;
                    } else {
                        let v = atoi(value);
                        if v != 1 && v != 2 {
                            return fatal(
                                &mut errors,
                                format!("{name}: invalid erspan version: {value}"),
                            );
                        }
                        c.erspan_ver = Some(v as u8);
                    }
                }
                "erspan_dir" => {
                    if value == "flow" {
                        c.erspan_dir = None;
                    } else {
                        let v = c_strtoul(value, 16).0;
                        if v & !1 != 0 {
                            return fatal(
                                &mut errors,
                                format!("{name}: invalid erspan direction: {value}"),
                            );
                        }
                        c.erspan_dir = Some(v as u8);
                    }
                }
                "erspan_hwid" => {
                    if value == "flow" {
                        c.erspan_hwid = None;
                    } else {
                        let v = c_strtoul(value, 16).0;
                        if v & !0x3f != 0 {
                            return fatal(
                                &mut errors,
                                format!("{name}: invalid erspan hardware ID: {value}"),
                            );
                        }
                        c.erspan_hwid = Some(v as u8);
                    }
                }
                _ => errors.push(format!("{name}: unknown {type_} argument '{key}'")),
            }
        }
        let (l2, l3) = layers(type_, c.gpe);
        let full_type = if type_ != "vxlan" {
            type_.to_string()
        } else if c.gpe {
            "VXLAN-GPE".to_string()
        } else {
            "VXLAN (without GPE)".to_string()
        };
        c.packet_type = match options.get("packet_type").map(String::as_str) {
            None => {
                if l3 && !l2 {
                    PacketTypeMode::LegacyL3
                } else {
                    PacketTypeMode::LegacyL2
                }
            }
            Some("legacy_l2") => {
                if !l2 {
                    return fatal(
                        &mut errors,
                        format!(
                            "{name}: legacy_l2 configured on {full_type} tunnel that cannot carry L2 traffic"
                        ),
                    );
                }
                PacketTypeMode::LegacyL2
            }
            Some("legacy_l3") => {
                if !l3 {
                    return fatal(
                        &mut errors,
                        format!(
                            "{name}: legacy_l3 configured on {full_type} tunnel that cannot carry L3 traffic"
                        ),
                    );
                }
                PacketTypeMode::LegacyL3
            }
            Some("ptap") => PacketTypeMode::Ptap,
            Some(other) => {
                return fatal(
                    &mut errors,
                    format!("{name}: unknown packet_type '{other}'"),
                )
            }
        };
        if c.remote_ip == TunnelAddr::Absent {
            return fatal(
                &mut errors,
                format!("{name}: {type_} type requires valid 'remote_ip' argument"),
            );
        }
        if c.local_ip == TunnelAddr::Flow && c.remote_ip != TunnelAddr::Flow {
            return fatal(
                &mut errors,
                format!("{name}: {type_} type requires 'remote_ip=flow' with 'local_ip=flow'"),
            );
        }
        if let (Some(a), Some(b)) = (dst_v6, src_v6) {
            if a != b {
                return fatal(
                    &mut errors,
                    format!(
                        "{name}: 'remote_ip' and 'local_ip' has to be of the same address family"
                    ),
                );
            }
        }
        if c.ttl == Some(0) {
            c.ttl = Some(64);
        }
        c.in_key = parse_key(options, "in_key");
        c.out_key = parse_key(options, "out_key");
        Parsed {
            result: Ok(c),
            warning: (!errors.is_empty()).then(|| errors.join("\n")),
        }
    }

    /// The name of the datapath port that carries this tunnel.
    pub fn dpif_port_name(&self) -> String {
        let prefix = dpif_port_prefix(&self.type_);
        if needs_dst_port(&self.type_) {
            format!("{prefix}_{}", self.dst_port.unwrap_or(0))
        } else {
            prefix.to_string()
        }
    }

    /// The configuration as `dpif/show` prints it (upstream's
    /// `netdev_get_config` of a tunnel), sorted by key.
    pub fn show_config(&self) -> Vec<(String, String)> {
        let mut v: Vec<(String, String)> = Vec::new();
        let mut put = |k: &str, val: String| v.push((k.to_string(), val));
        let addr = |a: &TunnelAddr| match a {
            TunnelAddr::Ip(ip) => Some(ip.to_string()),
            TunnelAddr::Flow => Some("flow".to_string()),
            TunnelAddr::Absent => None,
        };
        if let Some(a) = addr(&self.remote_ip) {
            put("remote_ip", a);
        }
        if let Some(a) = addr(&self.local_ip) {
            put("local_ip", a);
        }
        match (self.in_key, self.out_key) {
            (TunnelKey::Flow, TunnelKey::Flow) => put("key", "flow".into()),
            (TunnelKey::Fixed(a), TunnelKey::Fixed(b)) if a == b => put("key", a.to_string()),
            (i, o) => {
                match i {
                    TunnelKey::Flow => put("in_key", "flow".into()),
                    TunnelKey::Fixed(k) => put("in_key", k.to_string()),
                    TunnelKey::Absent => {}
                }
                match o {
                    TunnelKey::Flow => put("out_key", "flow".into()),
                    TunnelKey::Fixed(k) => put("out_key", k.to_string()),
                    TunnelKey::Absent => {}
                }
            }
        }
        match self.ttl {
            None => put("ttl", "inherit".into()),
            Some(t) if t != 64 => put("ttl", t.to_string()),
            _ => {}
        }
        match self.tos {
            None => put("tos", "inherit".into()),
            Some(t) if t != 0 => put("tos", format!("{t:#x}")),
            _ => {}
        }
        if let Some(p) = self.dst_port {
            if default_dst_port(&self.type_).is_some_and(|d| d != p) {
                put("dst_port", p.to_string());
            }
        }
        if self.csum {
            put("csum", "true".into());
        }
        let (l2, l3) = layers(&self.type_, self.gpe);
        let default_pt = if l3 && !l2 {
            PacketTypeMode::LegacyL3
        } else {
            PacketTypeMode::LegacyL2
        };
        if self.packet_type != default_pt {
            put(
                "packet_type",
                match self.packet_type {
                    PacketTypeMode::LegacyL2 => "legacy_l2",
                    PacketTypeMode::LegacyL3 => "legacy_l3",
                    PacketTypeMode::Ptap => "ptap",
                }
                .into(),
            );
        }
        if !self.df_default {
            put("df_default", "false".into());
        }
        if let Some(m) = self.egress_pkt_mark {
            put("egress_pkt_mark", m.to_string());
        }
        if self.type_ == "erspan" || self.type_ == "ip6erspan" {
            match self.erspan_ver {
                None => put("erspan_ver", "flow".into()),
                Some(ver) => put("erspan_ver", ver.to_string()),
            }
            match self.erspan_idx {
                None => put("erspan_idx", "flow".into()),
                Some(i) if self.erspan_ver == Some(1) => put("erspan_idx", format!("{i:#x}")),
                _ => {}
            }
            match self.erspan_dir {
                None => put("erspan_dir", "flow".into()),
                Some(d) if self.erspan_ver == Some(2) => put("erspan_dir", d.to_string()),
                _ => {}
            }
            match self.erspan_hwid {
                None => put("erspan_hwid", "flow".into()),
                Some(h) if self.erspan_ver == Some(2) => put("erspan_hwid", format!("{h:#x}")),
                _ => {}
            }
        }
        v.sort();
        v
    }
}

/// True if two tunnels would receive the same packets: same vport, input
/// key, endpoints and packet type (upstream refuses the second).
pub fn same_identity(a: &TunnelConfig, b: &TunnelConfig) -> bool {
    a.dpif_port_name() == b.dpif_port_name()
        && a.in_key == b.in_key
        && a.remote_ip == b.remote_ip
        && a.local_ip == b.local_ip
        && a.packet_type == b.packet_type
}

/// How upstream's warning names a tunnel:
/// `::->1.1.2.92, key=0x7b, legacy_l2, dp port=4789`.
pub fn identity_text(c: &TunnelConfig, odp_port: u32) -> String {
    let addr = |a: &TunnelAddr| match a {
        TunnelAddr::Absent => "::".to_string(),
        TunnelAddr::Flow => "flow".to_string(),
        TunnelAddr::Ip(ip) => ip.to_string(),
    };
    let key = match c.in_key {
        TunnelKey::Absent => "0x0".to_string(),
        TunnelKey::Flow => "flow".to_string(),
        TunnelKey::Fixed(k) => format!("{k:#x}"),
    };
    let pt = match c.packet_type {
        PacketTypeMode::LegacyL2 => "legacy_l2",
        PacketTypeMode::LegacyL3 => "legacy_l3",
        PacketTypeMode::Ptap => "ptap",
    };
    format!(
        "{}->{}, key={key}, {pt}, dp port={odp_port}",
        addr(&c.local_ip),
        addr(&c.remote_ip)
    )
}

/// The tunnel port as native tunnelling sees it: interface `name`,
/// OpenFlow port `ofp_port` of `bridge`, on vport `odp_port`.
pub fn tnl_port(
    bridge: &str,
    name: &str,
    ofp_port: u32,
    odp_port: u32,
    c: &TunnelConfig,
) -> ofproto::tnl::ports::TnlPort {
    use ofproto::tnl::ports::{TnlAddr, TnlKey};
    let addr = |a: &TunnelAddr| match a {
        TunnelAddr::Absent => TnlAddr::Absent,
        TunnelAddr::Flow => TnlAddr::Flow,
        TunnelAddr::Ip(ip) => TnlAddr::Ip(*ip),
    };
    let key = |k: &TunnelKey| match k {
        TunnelKey::Absent => TnlKey::Absent,
        TunnelKey::Flow => TnlKey::Flow,
        TunnelKey::Fixed(v) => TnlKey::Fixed(*v),
    };
    ofproto::tnl::ports::TnlPort {
        bridge: bridge.to_string(),
        name: name.to_string(),
        ofp_port,
        vport: c.dpif_port_name(),
        odp_port,
        type_: c.type_.clone(),
        remote: addr(&c.remote_ip),
        local: addr(&c.local_ip),
        in_key: key(&c.in_key),
        out_key: key(&c.out_key),
        tos: c.tos,
        ttl: c.ttl,
        dst_port: c.dst_port,
        csum: c.csum,
        df_default: c.df_default,
        seq: c.seq,
        layer3: c.packet_type == PacketTypeMode::LegacyL3,
        egress_pkt_mark: c.egress_pkt_mark,
        gbp: c.gbp,
        egress: None,
        erspan: ofproto::tnl::ports::ErspanCfg {
            ver: c.erspan_ver,
            idx: c.erspan_idx,
            dir: c.erspan_dir,
            hwid: c.erspan_hwid,
        },
    }
}

/// The `status` keys native tunnelling gives tunnel interface `name` of
/// `bridge` (`tunnel_egress_iface`, `tunnel_egress_iface_carrier`).
pub fn egress_status(bridge: &str, name: &str) -> Vec<(String, String)> {
    ofproto::tnl::global().ports().egress_status(bridge, name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(kv: &[(&str, &str)]) -> BTreeMap<String, String> {
        kv.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn shown(c: &TunnelConfig) -> String {
        c.show_config()
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(", ")
    }

    #[test]
    fn vxlan_with_flow_keys_and_default_ttl() {
        let p = TunnelConfig::parse(
            "vtepHost2",
            "vxlan",
            &opts(&[
                ("remote_ip", "10.246.247.90"),
                ("ttl", "64"),
                ("in_key", "flow"),
                ("out_key", "flow"),
            ]),
        );
        let c = p.result.unwrap();
        assert_eq!(p.warning, None);
        assert_eq!(c.dpif_port_name(), "vxlan_sys_4789");
        assert_eq!(shown(&c), "key=flow, remote_ip=10.246.247.90");
    }

    #[test]
    fn shown_like_upstream() {
        let c = TunnelConfig::parse(
            "gre1",
            "gre",
            &opts(&[("remote_ip", "10.0.0.2"), ("key", "5"), ("tos", "inherit")]),
        )
        .result
        .unwrap();
        assert_eq!(c.dpif_port_name(), "gre_sys");
        assert_eq!(shown(&c), "key=5, remote_ip=10.0.0.2, tos=inherit");
        let c = TunnelConfig::parse(
            "vx6",
            "vxlan",
            &opts(&[
                ("remote_ip", "fe80::1"),
                ("dst_port", "4790"),
                ("exts", "gbp"),
            ]),
        )
        .result
        .unwrap();
        assert_eq!(c.dpif_port_name(), "vxlan_sys_4790");
        assert_eq!(shown(&c), "dst_port=4790, remote_ip=fe80::1");
        let c = TunnelConfig::parse(
            "er",
            "erspan",
            &opts(&[
                ("remote_ip", "1.1.1.1"),
                ("erspan_ver", "1"),
                ("erspan_idx", "1"),
            ]),
        )
        .result
        .unwrap();
        assert_eq!(shown(&c), "erspan_idx=0x1, erspan_ver=1, remote_ip=1.1.1.1");
        let c = TunnelConfig::parse(
            "g",
            "geneve",
            &opts(&[("remote_ip", "10.0.0.1"), ("key", "flow"), ("csum", "true")]),
        )
        .result
        .unwrap();
        assert_eq!(c.dpif_port_name(), "genev_sys_6081");
        assert_eq!(shown(&c), "csum=true, key=flow, remote_ip=10.0.0.1");
        let c = TunnelConfig::parse("l", "lisp", &opts(&[("remote_ip", "1.1.1.4")]))
            .result
            .unwrap();
        assert_eq!(c.dpif_port_name(), "lisp_sys_4341");
        assert_eq!(shown(&c), "remote_ip=1.1.1.4");
    }

    #[test]
    fn errors_as_upstream() {
        let p = TunnelConfig::parse("bad1", "vxlan", &BTreeMap::new());
        assert_eq!(
            p.result.unwrap_err(),
            "bad1: vxlan type requires valid 'remote_ip' argument"
        );
        let p = TunnelConfig::parse(
            "vx2",
            "vxlan",
            &opts(&[
                ("remote_ip", "flow"),
                ("local_ip", "1.2.3.4"),
                ("key", "7"),
                ("tos", "5"),
                ("packet_type", "legacy_l3"),
            ]),
        );
        assert_eq!(
            p.result.unwrap_err(),
            "vx2: invalid TOS 5\nvx2: legacy_l3 configured on VXLAN (without GPE) tunnel that cannot carry L3 traffic"
        );
        // A non-fatal problem is only a warning.
        let p = TunnelConfig::parse(
            "v",
            "vxlan",
            &opts(&[("remote_ip", "1.1.1.1"), ("tos", "5"), ("bogus", "1")]),
        );
        assert!(p.result.is_ok());
        assert_eq!(
            p.warning.as_deref(),
            Some("v: unknown vxlan argument 'bogus'\nv: invalid TOS 5")
        );
        let p = TunnelConfig::parse("m", "gre", &opts(&[("remote_ip", "224.0.0.1")]));
        assert_eq!(
            p.result.unwrap_err(),
            "m: multicast remote_ip=224.0.0.1 not allowed"
        );
    }
}
