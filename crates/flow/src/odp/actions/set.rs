//! The keys a `set(...)` datapath action can change, and their text.
//!
//! A set action carries one flow-key attribute: a plain `set` replaces the
//! whole attribute and prints every field (`set(ipv4(src=…,dst=…,proto=…,
//! tos=…,ttl=…,frag=…))`); a masked set changes only the bits of its mask
//! and prints only the fields whose mask is nonzero, adding `/mask` where a
//! field is partly masked (`set(ipv4(tos=0x8/0xfc))`).  Parsing a `set` whose
//! mask is all ones yields a plain set, otherwise a masked one, as upstream.

use super::text::{chomp, eth, hex0, ip4, ip6, Cursor, PResult};

/// IP fragment kinds of the datapath key (`frag=no|first|later`).
pub const FRAG_NONE: u8 = 0;
pub const FRAG_FIRST: u8 = 1;
pub const FRAG_LATER: u8 = 2;

/// A settable flow-key attribute.  Values are host order; a masked set
/// holds its mask in a second `SetKey` of the same variant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SetKey {
    /// `skb_priority(0x…)`
    Priority(u32),
    /// `skb_mark(0x…)`
    SkbMark(u32),
    /// `eth(src=…,dst=…)`
    Ethernet { src: [u8; 6], dst: [u8; 6] },
    /// `mpls(label=…,tc=…,ttl=…,bos=…)` (one label stack entry each).
    Mpls(Vec<u32>),
    /// `ipv4(src=…,dst=…,proto=…,tos=…,ttl=…,frag=…)`
    Ipv4 {
        src: u32,
        dst: u32,
        proto: u8,
        tos: u8,
        ttl: u8,
        frag: u8,
    },
    /// `ipv6(src=…,dst=…,label=…,proto=…,tclass=…,hlimit=…,frag=…)`
    Ipv6 {
        src: [u8; 16],
        dst: [u8; 16],
        label: u32,
        proto: u8,
        tclass: u8,
        hlimit: u8,
        frag: u8,
    },
    /// `tcp(src=…,dst=…)`
    Tcp { src: u16, dst: u16 },
    /// `udp(src=…,dst=…)`
    Udp { src: u16, dst: u16 },
    /// `sctp(src=…,dst=…)`
    Sctp { src: u16, dst: u16 },
    /// `icmp(type=…,code=…)`
    Icmp { ty: u8, code: u8 },
    /// `icmpv6(type=…,code=…)`
    Icmpv6 { ty: u8, code: u8 },
    /// `arp(sip=…,tip=…,op=…,sha=…,tha=…)`
    Arp {
        sip: u32,
        tip: u32,
        op: u16,
        sha: [u8; 6],
        tha: [u8; 6],
    },
    /// `nd(target=…,sll=…,tll=…)`
    Nd {
        target: [u8; 16],
        sll: [u8; 6],
        tll: [u8; 6],
    },
    /// `nd_ext(nd_reserved=…,nd_options_type=…)`
    NdExt { reserved: u32, options_type: u8 },
    /// `nsh(flags=…,ttl=…,mdtype=…,np=…,spi=…,si=…,c1..c4=…)`
    Nsh(NshKey),
    /// `tunnel(...)` (plain set only).
    Tunnel(super::tunnel::TunnelKey),
}

/// The NSH base and MD1 context fields of the datapath key.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NshKey {
    pub flags: u8,
    pub ttl: u8,
    pub mdtype: u8,
    pub np: u8,
    /// SPI (upper 24 bits) and SI (lower 8 bits).
    pub path_hdr: u32,
    pub context: [u32; 4],
}

/// How a field's value prints.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Ip4,
    Ip6,
    Eth,
    /// Decimal value, `%#x` mask.
    Dec,
    /// `%#x` value and mask.
    Hex,
    /// `no`/`first`/`later`.
    Frag,
}

/// One field: name, kind, width in bits, value (as bytes, network order).
struct Field {
    name: &'static str,
    kind: Kind,
    bits: u32,
    val: u128,
}

fn f(name: &'static str, kind: Kind, bits: u32, val: u128) -> Field {
    Field {
        name,
        kind,
        bits,
        val,
    }
}

fn b6(a: &[u8; 6]) -> u128 {
    let mut x = [0u8; 16];
    x[10..].copy_from_slice(a);
    u128::from_be_bytes(x)
}
fn to6(v: u128) -> [u8; 6] {
    let b = v.to_be_bytes();
    let mut r = [0u8; 6];
    r.copy_from_slice(&b[10..]);
    r
}

impl SetKey {
    /// The attribute name as upstream prints it.
    pub fn name(&self) -> &'static str {
        match self {
            SetKey::Priority(_) => "skb_priority",
            SetKey::SkbMark(_) => "skb_mark",
            SetKey::Ethernet { .. } => "eth",
            SetKey::Mpls(_) => "mpls",
            SetKey::Ipv4 { .. } => "ipv4",
            SetKey::Ipv6 { .. } => "ipv6",
            SetKey::Tcp { .. } => "tcp",
            SetKey::Udp { .. } => "udp",
            SetKey::Sctp { .. } => "sctp",
            SetKey::Icmp { .. } => "icmp",
            SetKey::Icmpv6 { .. } => "icmpv6",
            SetKey::Arp { .. } => "arp",
            SetKey::Nd { .. } => "nd",
            SetKey::NdExt { .. } => "nd_ext",
            SetKey::Nsh(_) => "nsh",
            SetKey::Tunnel(_) => "tunnel",
        }
    }

    fn fields(&self) -> Vec<Field> {
        use Kind::*;
        match self {
            SetKey::Ethernet { src, dst } => {
                vec![f("src", Eth, 48, b6(src)), f("dst", Eth, 48, b6(dst))]
            }
            SetKey::Ipv4 {
                src,
                dst,
                proto,
                tos,
                ttl,
                frag,
            } => vec![
                f("src", Ip4, 32, *src as u128),
                f("dst", Ip4, 32, *dst as u128),
                f("proto", Dec, 8, *proto as u128),
                f("tos", Hex, 8, *tos as u128),
                f("ttl", Dec, 8, *ttl as u128),
                f("frag", Frag, 8, *frag as u128),
            ],
            SetKey::Ipv6 {
                src,
                dst,
                label,
                proto,
                tclass,
                hlimit,
                frag,
            } => vec![
                f("src", Ip6, 128, u128::from_be_bytes(*src)),
                f("dst", Ip6, 128, u128::from_be_bytes(*dst)),
                f("label", Hex, 20, *label as u128),
                f("proto", Dec, 8, *proto as u128),
                f("tclass", Hex, 8, *tclass as u128),
                f("hlimit", Dec, 8, *hlimit as u128),
                f("frag", Frag, 8, *frag as u128),
            ],
            SetKey::Tcp { src, dst } | SetKey::Udp { src, dst } | SetKey::Sctp { src, dst } => {
                vec![
                    f("src", Dec, 16, *src as u128),
                    f("dst", Dec, 16, *dst as u128),
                ]
            }
            SetKey::Icmp { ty, code } | SetKey::Icmpv6 { ty, code } => {
                vec![
                    f("type", Dec, 8, *ty as u128),
                    f("code", Dec, 8, *code as u128),
                ]
            }
            SetKey::Arp {
                sip,
                tip,
                op,
                sha,
                tha,
            } => vec![
                f("sip", Ip4, 32, *sip as u128),
                f("tip", Ip4, 32, *tip as u128),
                f("op", Dec, 16, *op as u128),
                f("sha", Eth, 48, b6(sha)),
                f("tha", Eth, 48, b6(tha)),
            ],
            SetKey::Nd { target, sll, tll } => vec![
                f("target", Ip6, 128, u128::from_be_bytes(*target)),
                f("sll", Eth, 48, b6(sll)),
                f("tll", Eth, 48, b6(tll)),
            ],
            SetKey::NdExt {
                reserved,
                options_type,
            } => vec![
                f("nd_reserved", Hex, 32, *reserved as u128),
                f("nd_options_type", Dec, 8, *options_type as u128),
            ],
            _ => Vec::new(),
        }
    }

    /// Rebuilds a key of the same variant from field values in order.
    fn with_fields(&self, v: &[u128]) -> SetKey {
        let g = |i: usize| v.get(i).copied().unwrap_or(0);
        match self {
            SetKey::Ethernet { .. } => SetKey::Ethernet {
                src: to6(g(0)),
                dst: to6(g(1)),
            },
            SetKey::Ipv4 { .. } => SetKey::Ipv4 {
                src: g(0) as u32,
                dst: g(1) as u32,
                proto: g(2) as u8,
                tos: g(3) as u8,
                ttl: g(4) as u8,
                frag: g(5) as u8,
            },
            SetKey::Ipv6 { .. } => SetKey::Ipv6 {
                src: g(0).to_be_bytes(),
                dst: g(1).to_be_bytes(),
                label: g(2) as u32,
                proto: g(3) as u8,
                tclass: g(4) as u8,
                hlimit: g(5) as u8,
                frag: g(6) as u8,
            },
            SetKey::Tcp { .. } => SetKey::Tcp {
                src: g(0) as u16,
                dst: g(1) as u16,
            },
            SetKey::Udp { .. } => SetKey::Udp {
                src: g(0) as u16,
                dst: g(1) as u16,
            },
            SetKey::Sctp { .. } => SetKey::Sctp {
                src: g(0) as u16,
                dst: g(1) as u16,
            },
            SetKey::Icmp { .. } => SetKey::Icmp {
                ty: g(0) as u8,
                code: g(1) as u8,
            },
            SetKey::Icmpv6 { .. } => SetKey::Icmpv6 {
                ty: g(0) as u8,
                code: g(1) as u8,
            },
            SetKey::Arp { .. } => SetKey::Arp {
                sip: g(0) as u32,
                tip: g(1) as u32,
                op: g(2) as u16,
                sha: to6(g(3)),
                tha: to6(g(4)),
            },
            SetKey::Nd { .. } => SetKey::Nd {
                target: g(0).to_be_bytes(),
                sll: to6(g(1)),
                tll: to6(g(2)),
            },
            SetKey::NdExt { .. } => SetKey::NdExt {
                reserved: g(0) as u32,
                options_type: g(1) as u8,
            },
            other => other.clone(),
        }
    }

    /// An empty key of the attribute called `name` (for parsing).
    fn template(name: &str) -> Option<SetKey> {
        Some(match name {
            "skb_priority" => SetKey::Priority(0),
            "skb_mark" => SetKey::SkbMark(0),
            "eth" => SetKey::Ethernet {
                src: [0; 6],
                dst: [0; 6],
            },
            "mpls" => SetKey::Mpls(Vec::new()),
            "ipv4" => SetKey::Ipv4 {
                src: 0,
                dst: 0,
                proto: 0,
                tos: 0,
                ttl: 0,
                frag: 0,
            },
            "ipv6" => SetKey::Ipv6 {
                src: [0; 16],
                dst: [0; 16],
                label: 0,
                proto: 0,
                tclass: 0,
                hlimit: 0,
                frag: 0,
            },
            "tcp" => SetKey::Tcp { src: 0, dst: 0 },
            "udp" => SetKey::Udp { src: 0, dst: 0 },
            "sctp" => SetKey::Sctp { src: 0, dst: 0 },
            "icmp" => SetKey::Icmp { ty: 0, code: 0 },
            "icmpv6" => SetKey::Icmpv6 { ty: 0, code: 0 },
            "arp" => SetKey::Arp {
                sip: 0,
                tip: 0,
                op: 0,
                sha: [0; 6],
                tha: [0; 6],
            },
            "nd" => SetKey::Nd {
                target: [0; 16],
                sll: [0; 6],
                tll: [0; 6],
            },
            "nd_ext" => SetKey::NdExt {
                reserved: 0,
                options_type: 0,
            },
            "nsh" => SetKey::Nsh(NshKey::default()),
            "tunnel" => SetKey::Tunnel(Default::default()),
            _ => return None,
        })
    }

    /// The all-ones mask of this attribute (what a plain set changes).
    pub fn full_mask(&self) -> SetKey {
        match self {
            SetKey::Priority(_) => SetKey::Priority(u32::MAX),
            SetKey::SkbMark(_) => SetKey::SkbMark(u32::MAX),
            SetKey::Mpls(v) => SetKey::Mpls(vec![u32::MAX; v.len()]),
            SetKey::Nsh(_) => SetKey::Nsh(NshKey {
                flags: 0xff,
                ttl: 0xff,
                mdtype: 0xff,
                np: 0xff,
                path_hdr: u32::MAX,
                context: [u32::MAX; 4],
            }),
            SetKey::Tunnel(t) => SetKey::Tunnel(t.clone()),
            _ => {
                let ones: Vec<u128> = self.fields().iter().map(|x| ones(x.bits)).collect();
                self.with_fields(&ones)
            }
        }
    }

    /// Appends `name(fields)`; `mask` is given for a masked set.
    pub fn format(&self, mask: Option<&SetKey>, out: &mut String) {
        out.push_str(self.name());
        out.push('(');
        let verbose = mask.is_none();
        match (self, mask) {
            (SetKey::Priority(v), m) | (SetKey::SkbMark(v), m) => {
                out.push_str(&hex0(*v as u128));
                let mv = match m {
                    Some(SetKey::Priority(x)) | Some(SetKey::SkbMark(x)) => *x,
                    _ => u32::MAX,
                };
                if mv != u32::MAX {
                    out.push('/');
                    out.push_str(&hex0(mv as u128));
                }
            }
            (SetKey::Mpls(lses), m) => {
                let masks = match m {
                    Some(SetKey::Mpls(ms)) if !ms.iter().all(|x| *x == u32::MAX) => Some(ms),
                    _ => None,
                };
                for (i, lse) in lses.iter().enumerate() {
                    match masks.and_then(|ms| ms.get(i)) {
                        None => out.push_str(&format_mpls_lse(*lse)),
                        Some(mk) => out.push_str(&format!(
                            "label={}/{:#x},tc={}/{:x},ttl={}/{:#x},bos={}/{:x}",
                            lse >> 12,
                            mk >> 12,
                            (lse >> 9) & 7,
                            (mk >> 9) & 7,
                            lse & 0xff,
                            mk & 0xff,
                            (lse >> 8) & 1,
                            (mk >> 8) & 1
                        )),
                    }
                    out.push(',');
                }
                chomp(out, ',');
            }
            (SetKey::Nsh(k), m) => match m {
                Some(SetKey::Nsh(mk)) => format_nsh_masked(k, mk, out),
                _ => format_nsh(k, out),
            },
            (SetKey::Tunnel(t), _) => t.format(out),
            _ => {
                let mfields = mask.map(|m| m.fields());
                for (i, fl) in self.fields().iter().enumerate() {
                    let mval = mfields.as_ref().and_then(|m| m.get(i)).map(|m| m.val);
                    let empty = mval == Some(0);
                    if !verbose && empty {
                        continue;
                    }
                    let full = match mval {
                        None => true,
                        Some(m) => (m & ones(fl.bits)) == ones(fl.bits),
                    };
                    out.push_str(fl.name);
                    out.push('=');
                    out.push_str(&value_text(fl.kind, fl.val));
                    if !full {
                        out.push('/');
                        let m = mval.unwrap_or(0);
                        out.push_str(&match fl.kind {
                            Kind::Ip4 | Kind::Ip6 | Kind::Eth => value_text(fl.kind, m),
                            _ => hex0(m),
                        });
                    }
                    out.push(',');
                }
                chomp(out, ',');
            }
        }
        out.push(')');
    }

    /// Parses `name(fields)` and returns the key and its mask (fields not
    /// mentioned are zero in both; a field without `/mask` is exact).
    pub fn parse(c: &mut Cursor) -> PResult<(SetKey, SetKey)> {
        let name = c.take_while(|ch| ch.is_ascii_alphanumeric() || ch == '_');
        let tmpl = match SetKey::template(name) {
            Some(t) => t,
            None => return c.err("unknown key attribute"),
        };
        c.expect("(")?;
        let r = match tmpl {
            SetKey::Priority(_) | SetKey::SkbMark(_) => {
                let v = c.u32()?;
                let m = if c.eat("/") { c.u32()? } else { u32::MAX };
                if name == "skb_mark" {
                    (SetKey::SkbMark(v), SetKey::SkbMark(m))
                } else {
                    (SetKey::Priority(v), SetKey::Priority(m))
                }
            }
            SetKey::Mpls(_) => {
                let (v, m) = parse_mpls_lse_masked(c)?;
                (SetKey::Mpls(vec![v]), SetKey::Mpls(vec![m]))
            }
            SetKey::Nsh(_) => {
                let (k, m) = parse_nsh(c)?;
                (SetKey::Nsh(k), SetKey::Nsh(m))
            }
            SetKey::Tunnel(_) => {
                let t = super::tunnel::TunnelKey::parse(c)?;
                (SetKey::Tunnel(t.clone()), SetKey::Tunnel(t))
            }
            tmpl => {
                let fields = tmpl.fields();
                let mut vals = vec![0u128; fields.len()];
                let mut masks = vec![0u128; fields.len()];
                while !c.at(")") {
                    let fname = c.take_while(|ch| ch.is_ascii_alphanumeric() || ch == '_');
                    let idx = match fields.iter().position(|x| x.name == fname) {
                        Some(i) => i,
                        None => return c.err("unknown field"),
                    };
                    c.expect("=")?;
                    let fl = &fields[idx];
                    vals[idx] = parse_value(c, fl.kind, fl.bits)?;
                    masks[idx] = if c.eat("/") {
                        parse_value(c, fl.kind, fl.bits)?
                    } else {
                        ones(fl.bits)
                    };
                    if !c.eat(",") {
                        break;
                    }
                }
                (tmpl.with_fields(&vals), tmpl.with_fields(&masks))
            }
        };
        c.expect(")")?;
        Ok(r)
    }
}

fn ones(bits: u32) -> u128 {
    if bits >= 128 {
        u128::MAX
    } else {
        (1u128 << bits) - 1
    }
}

fn value_text(kind: Kind, v: u128) -> String {
    match kind {
        Kind::Ip4 => ip4(v as u32),
        Kind::Ip6 => ip6(&v.to_be_bytes()),
        Kind::Eth => eth(&to6(v)),
        Kind::Dec => v.to_string(),
        Kind::Hex => hex0(v),
        Kind::Frag => match v {
            0 => "no".into(),
            1 => "first".into(),
            2 => "later".into(),
            _ => "<error>".into(),
        },
    }
}

fn parse_value(c: &mut Cursor, kind: Kind, bits: u32) -> PResult<u128> {
    match kind {
        Kind::Ip4 => Ok(c.ip4()? as u128),
        Kind::Ip6 => Ok(u128::from_be_bytes(c.ip6()?)),
        Kind::Eth => Ok(b6(&c.eth()?)),
        Kind::Frag => {
            if c.eat("no") {
                Ok(0)
            } else if c.eat("first") {
                Ok(1)
            } else if c.eat("later") {
                Ok(2)
            } else {
                c.uint(8)
            }
        }
        Kind::Dec | Kind::Hex => c.uint(bits),
    }
}

/// `label=…,tc=…,ttl=…,bos=…` of one MPLS label stack entry.
pub fn format_mpls_lse(lse: u32) -> String {
    format!(
        "label={},tc={},ttl={},bos={}",
        lse >> 12,
        (lse >> 9) & 7,
        lse & 0xff,
        (lse >> 8) & 1
    )
}

/// Parses `label=…,tc=…,ttl=…,bos=…`, each with an optional `/mask`.
pub fn parse_mpls_lse_masked(c: &mut Cursor) -> PResult<(u32, u32)> {
    let mut v = 0u32;
    let mut m = 0u32;
    for (i, (name, shift, bits)) in [
        ("label", 12, 20),
        ("tc", 9, 3),
        ("ttl", 0, 8),
        ("bos", 8, 1),
    ]
    .into_iter()
    .enumerate()
    {
        if i > 0 {
            c.expect(",")?;
        }
        c.expect(name)?;
        c.expect("=")?;
        let x = c.uint(bits)? as u32;
        let mx = if c.eat("/") {
            c.num_auto()? as u32 & ones(bits) as u32
        } else {
            ones(bits) as u32
        };
        v |= x << shift;
        m |= mx << shift;
    }
    Ok((v, m))
}

fn format_nsh(k: &NshKey, out: &mut String) {
    out.push_str(&format!(
        "flags={},ttl={},mdtype={},np={},spi={:#x},si={}",
        k.flags,
        k.ttl,
        k.mdtype,
        k.np,
        k.path_hdr >> 8,
        k.path_hdr & 0xff
    ));
    if k.mdtype == 1 {
        for (i, c) in k.context.iter().enumerate() {
            out.push_str(&format!(",c{}={:#x}", i + 1, c));
        }
    }
}

fn format_nsh_masked(k: &NshKey, m: &NshKey, out: &mut String) {
    let mut parts: Vec<String> = Vec::new();
    let u8m = |parts: &mut Vec<String>, n: &str, v: u8, mk: u8| {
        if mk != 0 {
            parts.push(if mk == 0xff {
                format!("{n}={v}")
            } else {
                format!("{n}=0x{v:02x}/0x{mk:02x}")
            });
        }
    };
    let u32m = |parts: &mut Vec<String>, n: &str, v: u32, mk: u32| {
        if mk != 0 {
            parts.push(if mk == u32::MAX {
                format!("{n}=0x{v:x}")
            } else {
                format!("{n}=0x{v:x}/0x{mk:08x}")
            });
        }
    };
    u8m(&mut parts, "flags", k.flags, m.flags);
    u8m(&mut parts, "ttl", k.ttl, m.ttl);
    u8m(&mut parts, "mdtype", k.mdtype, m.mdtype);
    u8m(&mut parts, "np", k.np, m.np);
    let spi_m = if m.path_hdr >> 8 == 0x00ff_ffff {
        u32::MAX
    } else {
        m.path_hdr >> 8
    };
    u32m(&mut parts, "spi", k.path_hdr >> 8, spi_m);
    u8m(&mut parts, "si", k.path_hdr as u8, m.path_hdr as u8);
    for i in 0..4 {
        let n = format!("c{}", i + 1);
        u32m(&mut parts, &n, k.context[i], m.context[i]);
    }
    out.push_str(&parts.join(","));
}

/// Parses NSH fields (`flags=…,ttl=…,…,c4=…`), each with optional `/mask`.
pub fn parse_nsh(c: &mut Cursor) -> PResult<(NshKey, NshKey)> {
    let mut k = NshKey::default();
    let mut m = NshKey::default();
    while !c.at(")") {
        let name = c.take_while(|ch| ch.is_ascii_alphanumeric());
        c.expect("=")?;
        let (bits, v) = match name {
            "flags" | "ttl" | "mdtype" | "np" | "si" => (8, c.uint(8)?),
            "spi" => (24, c.uint(24)?),
            "c1" | "c2" | "c3" | "c4" => (32, c.uint(32)?),
            _ => return c.err("unknown nsh field"),
        };
        let mk = if c.eat("/") { c.uint(32)? } else { ones(bits) };
        match name {
            "flags" => (k.flags, m.flags) = (v as u8, mk as u8),
            "ttl" => (k.ttl, m.ttl) = (v as u8, mk as u8),
            "mdtype" => (k.mdtype, m.mdtype) = (v as u8, mk as u8),
            "np" => (k.np, m.np) = (v as u8, mk as u8),
            "si" => {
                k.path_hdr = (k.path_hdr & !0xff) | v as u32;
                m.path_hdr = (m.path_hdr & !0xff) | (mk as u32 & 0xff);
            }
            "spi" => {
                k.path_hdr = (k.path_hdr & 0xff) | ((v as u32) << 8);
                m.path_hdr = (m.path_hdr & 0xff) | ((mk as u32 & 0xff_ffff) << 8);
            }
            _ => {
                let i = (name.as_bytes()[1] - b'1') as usize;
                k.context[i] = v as u32;
                m.context[i] = mk as u32;
            }
        }
        if !c.eat(",") {
            break;
        }
    }
    Ok((k, m))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fmt(k: &SetKey, m: Option<&SetKey>) -> String {
        let mut s = String::new();
        k.format(m, &mut s);
        s
    }

    #[test]
    fn masked_ipv4_prints_only_masked_fields() {
        let mut c = Cursor::new("ipv4(src=1.2.3.4/255.255.255.0,tos=0x4/0xfc)");
        let (k, m) = SetKey::parse(&mut c).unwrap();
        assert_eq!(
            fmt(&k, Some(&m)),
            "ipv4(src=1.2.3.4/255.255.255.0,tos=0x4/0xfc)"
        );
    }

    #[test]
    fn plain_ipv4_prints_every_field() {
        let k = SetKey::Ipv4 {
            src: 0x01020304,
            dst: 0x02020202,
            proto: 6,
            tos: 0,
            ttl: 3,
            frag: 0,
        };
        assert_eq!(
            fmt(&k, None),
            "ipv4(src=1.2.3.4,dst=2.2.2.2,proto=6,tos=0,ttl=3,frag=no)"
        );
        assert_eq!(
            k.full_mask(),
            SetKey::parse(&mut Cursor::new(
                "ipv4(src=0.0.0.0,dst=0.0.0.0,proto=0,tos=0,ttl=0,frag=no)"
            ))
            .unwrap()
            .1
        );
    }

    #[test]
    fn mpls_masked_form() {
        let (k, m) = SetKey::parse(&mut Cursor::new(
            "mpls(label=5/0xff,tc=0/0,ttl=3/0xff,bos=1/1)",
        ))
        .unwrap();
        assert_eq!(
            fmt(&k, Some(&m)),
            "mpls(label=5/0xff,tc=0/0,ttl=3/0xff,bos=1/1)"
        );
        assert_eq!(fmt(&k, None), "mpls(label=5,tc=0,ttl=3,bos=1)");
    }

    #[test]
    fn skb_mark_mask() {
        let (k, m) = SetKey::parse(&mut Cursor::new("skb_mark(0x5/0xff)")).unwrap();
        assert_eq!(fmt(&k, Some(&m)), "skb_mark(0x5/0xff)");
    }
}
