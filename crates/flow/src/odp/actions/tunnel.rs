//! The tunnel key of a `set(tunnel(...))` action: outer addresses, ports,
//! TTL/ToS, flags and per-protocol options, printed in upstream's attribute
//! order (`tun_id`, `src`, `dst`, `ipv6_src`, `ipv6_dst`, `tos`, `ttl`,
//! `tp_src`, `tp_dst`, options, `flags(...)`).  Fields remember whether they
//! are present, because the text shows exactly the attributes present.

use super::text::{chomp, hex0, ip4, ip6, Cursor, PResult};

/// Tunnel flag bits, in the order upstream prints their names.
pub const TNL_F_OAM: u16 = 1 << 0;
pub const TNL_F_DONT_FRAGMENT: u16 = 1 << 1;
pub const TNL_F_CSUM: u16 = 1 << 2;
pub const TNL_F_KEY: u16 = 1 << 3;

const FLAG_NAMES: [(u16, &str); 4] = [
    (TNL_F_OAM, "oam"),
    (TNL_F_DONT_FRAGMENT, "df"),
    (TNL_F_CSUM, "csum"),
    (TNL_F_KEY, "key"),
];

/// One Geneve option.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GeneveOpt {
    pub class: u16,
    pub ty: u8,
    pub data: Vec<u8>,
}

/// ERSPAN options.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Erspan {
    V1 { idx: u32 },
    V2 { dir: u8, hwid: u8 },
}

/// A datapath tunnel key.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TunnelKey {
    pub tun_id: Option<u64>,
    pub ipv4_src: Option<u32>,
    pub ipv4_dst: Option<u32>,
    pub ipv6_src: Option<[u8; 16]>,
    pub ipv6_dst: Option<[u8; 16]>,
    pub tos: Option<u8>,
    pub ttl: Option<u8>,
    pub tp_src: Option<u16>,
    pub tp_dst: Option<u16>,
    /// VXLAN group policy (id, flags).
    pub gbp: Option<(u16, u8)>,
    pub geneve: Option<Vec<GeneveOpt>>,
    pub erspan: Option<Erspan>,
    /// GTP-U (flags, msgtype).
    pub gtpu: Option<(u8, u8)>,
    /// `TNL_F_*` bits (the key bit is implied by `tun_id`).
    pub flags: u16,
}

/// `0x…` hex of bytes without leading zero bytes (`0` if all zero).
fn put_hex(b: &[u8]) -> String {
    let mut s = String::new();
    for &x in b {
        if s.is_empty() {
            if x != 0 {
                s = format!("{x:#x}");
            }
        } else {
            s.push_str(&format!("{x:02x}"));
        }
    }
    if s.is_empty() {
        s.push('0');
    }
    s
}

impl TunnelKey {
    /// Appends the fields (without the `tunnel(` `)` wrapper).
    pub fn format(&self, out: &mut String) {
        if let Some(id) = self.tun_id {
            out.push_str(&format!("tun_id={},", hex0(id as u128)));
        }
        if let Some(a) = self.ipv4_src {
            out.push_str(&format!("src={},", ip4(a)));
        }
        if let Some(a) = self.ipv4_dst {
            out.push_str(&format!("dst={},", ip4(a)));
        }
        if let Some(a) = &self.ipv6_src {
            out.push_str(&format!("ipv6_src={},", ip6(a)));
        }
        if let Some(a) = &self.ipv6_dst {
            out.push_str(&format!("ipv6_dst={},", ip6(a)));
        }
        if let Some(t) = self.tos {
            out.push_str(&format!("tos={},", hex0(t as u128)));
        }
        if let Some(t) = self.ttl {
            out.push_str(&format!("ttl={t},"));
        }
        if let Some(p) = self.tp_src {
            out.push_str(&format!("tp_src={p},"));
        }
        if let Some(p) = self.tp_dst {
            out.push_str(&format!("tp_dst={p},"));
        }
        if let Some((id, fl)) = self.gbp {
            out.push_str(&format!("vxlan(gbp(id={id},flags={})),", hex0(fl as u128)));
        }
        if let Some(opts) = &self.geneve {
            out.push_str("geneve(");
            for o in opts {
                out.push_str(&format!(
                    "{{class={},type={},len={}",
                    hex0(o.class as u128),
                    hex0(o.ty as u128),
                    o.data.len()
                ));
                if !o.data.is_empty() {
                    out.push(',');
                    out.push_str(&put_hex(&o.data));
                }
                out.push('}');
            }
            out.push_str("),");
        }
        match self.erspan {
            Some(Erspan::V1 { idx }) => {
                out.push_str(&format!("erspan(ver=1,idx={}),", hex0(idx as u128)))
            }
            Some(Erspan::V2 { dir, hwid }) => out.push_str(&format!(
                "erspan(ver=2,dir={dir},hwid={}),",
                hex0(hwid as u128)
            )),
            None => {}
        }
        if let Some((fl, mt)) = self.gtpu {
            out.push_str(&format!("gtpu(flags={},msgtype={mt}),", hex0(fl as u128)));
        }
        let flags = self.flags | if self.tun_id.is_some() { TNL_F_KEY } else { 0 };
        if flags != 0 {
            let names: Vec<&str> = FLAG_NAMES
                .iter()
                .filter(|(b, _)| flags & b != 0)
                .map(|(_, n)| *n)
                .collect();
            out.push_str(&format!("flags({}),", names.join("|")));
        }
        chomp(out, ',');
    }

    /// Parses the fields up to (not including) the closing `)`.
    pub fn parse(c: &mut Cursor) -> PResult<TunnelKey> {
        let mut t = TunnelKey::default();
        while !c.at(")") {
            let name = c.take_while(|ch| ch.is_ascii_alphanumeric() || ch == '_');
            match name {
                "tun_id" => {
                    c.expect("=")?;
                    t.tun_id = Some(c.u64()?);
                }
                "src" => {
                    c.expect("=")?;
                    t.ipv4_src = Some(c.ip4()?);
                }
                "dst" => {
                    c.expect("=")?;
                    t.ipv4_dst = Some(c.ip4()?);
                }
                "ipv6_src" => {
                    c.expect("=")?;
                    t.ipv6_src = Some(c.ip6()?);
                }
                "ipv6_dst" => {
                    c.expect("=")?;
                    t.ipv6_dst = Some(c.ip6()?);
                }
                "tos" => {
                    c.expect("=")?;
                    t.tos = Some(c.u8()?);
                }
                "ttl" => {
                    c.expect("=")?;
                    t.ttl = Some(c.u8()?);
                }
                "tp_src" => {
                    c.expect("=")?;
                    t.tp_src = Some(c.u16()?);
                }
                "tp_dst" => {
                    c.expect("=")?;
                    t.tp_dst = Some(c.u16()?);
                }
                "vxlan" => {
                    c.expect("(gbp(id=")?;
                    let id = c.u16()?;
                    c.expect(",flags=")?;
                    let fl = c.u8()?;
                    c.expect("))")?;
                    t.gbp = Some((id, fl));
                }
                "geneve" => {
                    c.expect("(")?;
                    let mut opts = Vec::new();
                    while c.eat("{") {
                        c.expect("class=")?;
                        let class = c.u16()?;
                        c.expect(",type=")?;
                        let ty = c.u8()?;
                        c.expect(",len=")?;
                        let len = c.u8()? as usize;
                        if !len.is_multiple_of(4) || len > 124 {
                            return c.err("bad geneve option length");
                        }
                        let mut data = vec![0u8; len];
                        if c.eat(",") {
                            c.eat("0x");
                            let h = c.take_while(|ch| ch.is_ascii_hexdigit());
                            let digits: Vec<u8> = h
                                .bytes()
                                .map(|d| (d as char).to_digit(16).unwrap_or(0) as u8)
                                .collect();
                            if digits.len() > len * 2 {
                                return c.err("geneve option data too long");
                            }
                            // Right-align the digits in the option data.
                            for (i, d) in digits.iter().rev().enumerate() {
                                let byte = len - 1 - i / 2;
                                data[byte] |= if i % 2 == 0 { *d } else { *d << 4 };
                            }
                        }
                        c.expect("}")?;
                        opts.push(GeneveOpt { class, ty, data });
                        c.eat(",");
                    }
                    c.expect(")")?;
                    t.geneve = Some(opts);
                }
                "erspan" => {
                    c.expect("(ver=")?;
                    let ver = c.u8()?;
                    if ver == 1 {
                        c.expect(",idx=")?;
                        t.erspan = Some(Erspan::V1 { idx: c.u32()? });
                    } else if ver == 2 {
                        c.expect(",dir=")?;
                        let dir = c.u8()?;
                        c.expect(",hwid=")?;
                        let hwid = c.u8()?;
                        t.erspan = Some(Erspan::V2 { dir, hwid });
                    } else {
                        return c.err("bad erspan version");
                    }
                    c.expect(")")?;
                }
                "gtpu" => {
                    c.expect("(flags=")?;
                    let fl = c.u8()?;
                    c.expect(",msgtype=")?;
                    let mt = c.u8()?;
                    c.expect(")")?;
                    t.gtpu = Some((fl, mt));
                }
                "flags" => {
                    c.expect("(")?;
                    loop {
                        let n = c.take_while(|ch| ch.is_ascii_alphabetic());
                        match FLAG_NAMES.iter().find(|(_, fname)| *fname == n) {
                            Some((b, _)) => t.flags |= b,
                            None => return c.err("unknown tunnel flag"),
                        }
                        if !c.eat("|") {
                            break;
                        }
                    }
                    c.expect(")")?;
                }
                _ => return c.err("unknown tunnel field"),
            }
            if !c.eat(",") {
                break;
            }
        }
        if t.tun_id.is_none() {
            t.flags &= !TNL_F_KEY;
        }
        Ok(t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rt(s: &str) -> String {
        let t = TunnelKey::parse(&mut Cursor::new(s)).unwrap();
        let mut o = String::new();
        t.format(&mut o);
        o
    }

    #[test]
    fn round_trips_upstream_text() {
        for s in [
            "tun_id=0x12,dst=1.1.1.1,ttl=64,flags(df|key)",
            "tun_id=0x1,src=1.1.1.1,dst=2.2.2.2,tos=0x4,ttl=64,tp_src=1,tp_dst=2,flags(csum|key)",
            "ipv6_src=::1,ipv6_dst=::2,ttl=64,geneve({class=0xffff,type=0x80,len=4,0xa}),flags(oam)",
            "dst=1.1.1.1,vxlan(gbp(id=10,flags=0x1))",
        ] {
            assert_eq!(rt(s), s);
        }
    }
}
