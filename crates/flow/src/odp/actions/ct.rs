//! The `ct(...)` datapath action (connection tracking) and its `nat(...)`
//! part, printed as upstream: `ct(commit,zone=5,mark=0x1/0xffffffff,
//! label=…,helper=ftp,timeout=name,nat(src=10.0.0.1-10.0.0.9:80-90,random))`.

use std::net::IpAddr;

use super::text::{hex0, ip6, Cursor, PResult};

/// Which side NAT rewrites.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NatKind {
    Src,
    Dst,
}

/// `nat` (bare: apply the connection's existing NAT) or `nat(src|dst=…)`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CtNat {
    pub kind: Option<NatKind>,
    /// Address range (min, max); max equal to min is not printed.
    pub addrs: Option<(IpAddr, Option<IpAddr>)>,
    /// Port range (min, max).
    pub ports: Option<(u16, Option<u16>)>,
    pub persistent: bool,
    pub hash: bool,
    pub random: bool,
}

/// The conntrack action.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CtAction {
    pub commit: bool,
    pub force_commit: bool,
    pub zone: Option<u16>,
    /// (value, mask)
    pub mark: Option<(u32, u32)>,
    /// (value, mask)
    pub label: Option<(u128, u128)>,
    pub helper: Option<String>,
    pub timeout: Option<String>,
    pub nat: Option<CtNat>,
}

fn addr_text(a: &IpAddr) -> String {
    match a {
        IpAddr::V4(v) => v.to_string(),
        IpAddr::V6(v) => format!("[{}]", ip6(&v.octets())),
    }
}

impl CtNat {
    pub fn format(&self, out: &mut String) {
        out.push_str("nat");
        let kind = match self.kind {
            Some(k) => k,
            None => return,
        };
        out.push('(');
        out.push_str(if kind == NatKind::Src { "src" } else { "dst" });
        if let Some((min, max)) = &self.addrs {
            out.push('=');
            out.push_str(&addr_text(min));
            if let Some(max) = max {
                if max != min {
                    out.push('-');
                    out.push_str(&addr_text(max));
                }
            }
            if let Some((pmin, pmax)) = self.ports {
                out.push_str(&format!(":{pmin}"));
                if let Some(pmax) = pmax {
                    if pmax != pmin {
                        out.push_str(&format!("-{pmax}"));
                    }
                }
            }
        }
        if self.persistent {
            out.push_str(",persistent");
        }
        if self.hash {
            out.push_str(",hash");
        }
        if self.random {
            out.push_str(",random");
        }
        out.push(')');
    }

    fn parse(c: &mut Cursor) -> PResult<CtNat> {
        let mut n = CtNat::default();
        if !c.eat("(") {
            return Ok(n);
        }
        while !c.at(")") {
            if c.eat("src") || {
                let d = c.at("dst");
                if d {
                    c.eat("dst");
                    n.kind = Some(NatKind::Dst);
                }
                d
            } {
                if n.kind.is_none() {
                    n.kind = Some(NatKind::Src);
                }
                if c.eat("=") {
                    let min = parse_addr(c)?;
                    let max = if c.eat("-") {
                        Some(parse_addr(c)?)
                    } else {
                        None
                    };
                    n.addrs = Some((min, max));
                    if c.eat(":") {
                        let pmin = c.u16()?;
                        let pmax = if c.eat("-") { Some(c.u16()?) } else { None };
                        n.ports = Some((pmin, pmax));
                    }
                }
            } else if c.eat("persistent") {
                n.persistent = true;
            } else if c.eat("hash") {
                n.hash = true;
            } else if c.eat("random") {
                n.random = true;
            } else {
                return c.err("unknown nat option");
            }
            if !c.eat(",") {
                break;
            }
        }
        c.expect(")")?;
        Ok(n)
    }
}

fn parse_addr(c: &mut Cursor) -> PResult<IpAddr> {
    if c.eat("[") {
        let a = c.ip6()?;
        c.expect("]")?;
        Ok(IpAddr::V6(a.into()))
    } else {
        Ok(IpAddr::V4(c.ip4()?.into()))
    }
}

impl CtAction {
    pub fn format(&self, out: &mut String) {
        out.push_str("ct");
        let mut parts: Vec<String> = Vec::new();
        if self.commit {
            parts.push("commit".into());
        } else if self.force_commit {
            parts.push("force_commit".into());
        }
        if let Some(z) = self.zone {
            parts.push(format!("zone={z}"));
        }
        if let Some((v, m)) = self.mark {
            parts.push(format!("mark={}/{}", hex0(v as u128), hex0(m as u128)));
        }
        if let Some((v, m)) = self.label {
            let mut s = format!("label={}", hex0(v));
            if m != u128::MAX {
                s.push_str(&format!("/{}", hex0(m)));
            }
            parts.push(s);
        }
        if let Some(h) = &self.helper {
            parts.push(format!("helper={h}"));
        }
        if let Some(t) = &self.timeout {
            parts.push(format!("timeout={t}"));
        }
        if let Some(n) = &self.nat {
            let mut s = String::new();
            n.format(&mut s);
            parts.push(s);
        }
        if !parts.is_empty() {
            out.push('(');
            out.push_str(&parts.join(","));
            out.push(')');
        }
    }

    /// Parses what follows `ct` (nothing, or `(...)`).
    pub fn parse(c: &mut Cursor) -> PResult<CtAction> {
        let mut a = CtAction::default();
        if !c.eat("(") {
            return Ok(a);
        }
        while !c.at(")") {
            if c.eat("commit") {
                a.commit = true;
            } else if c.eat("force_commit") {
                a.force_commit = true;
            } else if c.eat("zone=") {
                a.zone = Some(c.u16()?);
            } else if c.eat("mark=") {
                let v = c.u32()?;
                let m = if c.eat("/") { c.u32()? } else { u32::MAX };
                a.mark = Some((v, m));
            } else if c.eat("label=") {
                let v = c.uint(128)?;
                let m = if c.eat("/") { c.uint(128)? } else { u128::MAX };
                a.label = Some((v, m));
            } else if c.eat("helper=") {
                let h = c.take_while(|ch| ch != ',' && ch != ')');
                a.helper = Some(h.to_string());
            } else if c.eat("timeout=") {
                let h = c.take_while(|ch| ch != ',' && ch != ')');
                a.timeout = Some(h.to_string());
            } else if c.eat("nat") {
                a.nat = Some(CtNat::parse(c)?);
            } else {
                return c.err("unknown ct option");
            }
            if !c.eat(",") {
                break;
            }
        }
        c.expect(")")?;
        Ok(a)
    }
}
