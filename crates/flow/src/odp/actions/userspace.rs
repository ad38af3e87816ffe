//! The `userspace(...)` datapath action: send the packet to the switch's
//! handler threads with a cookie saying why (`controller(...)`,
//! `slow_path(...)`, sampling) or raw `userdata(hex)`.
//!
//! The cookie's bytes are ours (both ends are ferrovs); what must match
//! upstream is the text, which names the cookie kind and its fields.  Like
//! upstream, userdata shorter than 8 bytes is padded with zeros to 8.

use super::text::{Cursor, PResult};

/// Slow-path reasons, in upstream's bit order and names.
pub const SLOW_PATH_REASONS: [&str; 7] = ["cfm", "bfd", "lacp", "stp", "lldp", "action", "match"];

/// Sampling direction of `flow_sample`.
pub const SAMPLE_DIR_DEFAULT: u8 = 0;
pub const SAMPLE_DIR_INGRESS: u8 = 1;
pub const SAMPLE_DIR_EGRESS: u8 = 2;

/// Why the packet goes to userspace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UserCookie {
    /// `sFlow(vid=…,pcp=…,output=…)`
    Sflow { vlan_tci: u16, output: u32 },
    /// `slow_path(reason,…)` (bits of [`SLOW_PATH_REASONS`]).
    SlowPath { reasons: u32 },
    /// `flow_sample(...)`
    FlowSample {
        probability: u16,
        collector_set_id: u32,
        obs_domain_id: u32,
        obs_point_id: u32,
        output_port: u32,
        direction: u8,
    },
    /// `ipfix(output_port=…)`
    Ipfix { output_port: u32 },
    /// `controller(...)`: a packet-in (or a continuation) from translation.
    Controller {
        reason: u16,
        dont_send: bool,
        continuation: bool,
        recirc_id: u32,
        rule_cookie: u64,
        controller_id: u16,
        max_len: u16,
    },
}

/// What the userspace action carries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Userdata {
    /// A structured cookie; `ofp_in_port` and `ofproto_uuid` travel with it
    /// but are not printed.
    Cookie {
        ofp_in_port: u32,
        ofproto_uuid: [u8; 16],
        cookie: UserCookie,
    },
    /// Opaque bytes (`userdata(0102…)`).
    Raw(Vec<u8>),
}

/// `userspace(pid=…[,cookie][,actions][,tunnel_out_port=…])`
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Userspace {
    pub pid: u32,
    pub userdata: Option<Userdata>,
    /// Include the packet's datapath actions in the upcall.
    pub actions: bool,
    pub tunnel_out_port: Option<u32>,
}

/// Size of upstream's `struct user_action_cookie`.
const USER_ACTION_COOKIE_LEN: usize = 48;

impl Userspace {
    pub fn format(&self, out: &mut String, port: &dyn Fn(u32) -> String) {
        out.push_str(&format!("userspace(pid={}", self.pid));
        match &self.userdata {
            None => {}
            Some(Userdata::Raw(b)) => {
                out.push_str(",userdata(");
                out.push_str(&super::text::hex_bytes(b));
                out.push(')');
            }
            Some(Userdata::Cookie { cookie, .. }) => match cookie {
                UserCookie::Sflow { vlan_tci, output } => out.push_str(&format!(
                    ",sFlow(vid={},pcp={},output={})",
                    vlan_tci & 0xfff,
                    vlan_tci >> 13,
                    output
                )),
                UserCookie::SlowPath { reasons } => {
                    let names: Vec<&str> = SLOW_PATH_REASONS
                        .iter()
                        .enumerate()
                        .filter(|(i, _)| reasons & (1 << i) != 0)
                        .map(|(_, n)| *n)
                        .collect();
                    out.push_str(&format!(",slow_path({})", names.join(",")));
                }
                UserCookie::FlowSample {
                    probability,
                    collector_set_id,
                    obs_domain_id,
                    obs_point_id,
                    output_port,
                    direction,
                } => {
                    out.push_str(&format!(
                        ",flow_sample(probability={probability},collector_set_id={collector_set_id},obs_domain_id={obs_domain_id},obs_point_id={obs_point_id},output_port={}",
                        port(*output_port)
                    ));
                    match *direction {
                        SAMPLE_DIR_INGRESS => out.push_str(",ingress"),
                        SAMPLE_DIR_EGRESS => out.push_str(",egress"),
                        _ => {}
                    }
                    out.push(')');
                }
                UserCookie::Ipfix { output_port } => {
                    out.push_str(&format!(",ipfix(output_port={})", port(*output_port)))
                }
                UserCookie::Controller {
                    reason,
                    dont_send,
                    continuation,
                    recirc_id,
                    rule_cookie,
                    controller_id,
                    max_len,
                } => out.push_str(&format!(
                    ",controller(reason={reason},dont_send={},continuation={},recirc_id={recirc_id},rule_cookie={},controller_id={controller_id},max_len={max_len})",
                    *dont_send as u8,
                    *continuation as u8,
                    super::text::hex0(*rule_cookie as u128)
                )),
            },
        }
        if self.actions {
            out.push_str(",actions");
        }
        if let Some(p) = self.tunnel_out_port {
            out.push_str(&format!(",tunnel_out_port={}", port(p)));
        }
        out.push(')');
    }

    /// Parses what follows `userspace(` up to and including `)`.
    pub fn parse(c: &mut Cursor) -> PResult<Userspace> {
        c.expect("pid=")?;
        let pid = c.u32()?;
        let mut u = Userspace {
            pid,
            userdata: None,
            actions: false,
            tunnel_out_port: None,
        };
        let cookie = |cookie| {
            Some(Userdata::Cookie {
                ofp_in_port: 0xffff,
                ofproto_uuid: [0; 16],
                cookie,
            })
        };
        while c.eat(",") {
            if c.eat("userdata(") {
                let h = c.take_while(|ch| ch.is_ascii_hexdigit());
                if !h.len().is_multiple_of(2) {
                    return c.err("odd userdata length");
                }
                let mut b: Vec<u8> = (0..h.len() / 2)
                    .map(|i| u8::from_str_radix(&h[2 * i..2 * i + 2], 16).unwrap_or(0))
                    .collect();
                if b.len() < 8 {
                    b.resize(8, 0);
                }
                c.expect(")")?;
                u.userdata = Some(Userdata::Raw(b));
            } else if c.eat("sFlow(vid=") {
                let vid = c.u16()?;
                c.expect(",pcp=")?;
                let pcp = c.u8()?;
                c.expect(",output=")?;
                let output = c.u32()?;
                c.expect(")")?;
                u.userdata = cookie(UserCookie::Sflow {
                    vlan_tci: (vid & 0xfff) | ((pcp as u16 & 7) << 13) | 0x1000,
                    output,
                });
            } else if c.eat("slow_path(") {
                let mut reasons = 0;
                while !c.at(")") {
                    let n = c.take_while(|ch| ch.is_ascii_alphabetic());
                    match SLOW_PATH_REASONS.iter().position(|r| *r == n) {
                        Some(i) => reasons |= 1 << i,
                        None => return c.err("unknown slow path reason"),
                    }
                    if !c.eat(",") {
                        break;
                    }
                }
                c.expect(")")?;
                u.userdata = cookie(UserCookie::SlowPath { reasons });
            } else if c.eat("flow_sample(probability=") {
                let probability = c.u16()?;
                c.expect(",collector_set_id=")?;
                let collector_set_id = c.u32()?;
                c.expect(",obs_domain_id=")?;
                let obs_domain_id = c.u32()?;
                c.expect(",obs_point_id=")?;
                let obs_point_id = c.u32()?;
                c.expect(",output_port=")?;
                let output_port = c.u32()?;
                let direction = if c.eat(",ingress") {
                    SAMPLE_DIR_INGRESS
                } else if c.eat(",egress") {
                    SAMPLE_DIR_EGRESS
                } else {
                    SAMPLE_DIR_DEFAULT
                };
                c.expect(")")?;
                u.userdata = cookie(UserCookie::FlowSample {
                    probability,
                    collector_set_id,
                    obs_domain_id,
                    obs_point_id,
                    output_port,
                    direction,
                });
            } else if c.eat("ipfix(output_port=") {
                let output_port = c.u32()?;
                c.expect(")")?;
                u.userdata = cookie(UserCookie::Ipfix { output_port });
            } else if c.eat("controller(reason=") {
                let reason = c.u16()?;
                c.expect(",dont_send=")?;
                let dont_send = c.u8()? != 0;
                c.expect(",continuation=")?;
                let continuation = c.u8()? != 0;
                c.expect(",recirc_id=")?;
                let recirc_id = c.u32()?;
                c.expect(",rule_cookie=")?;
                let rule_cookie = c.u64()?;
                c.expect(",controller_id=")?;
                let controller_id = c.u16()?;
                c.expect(",max_len=")?;
                let max_len = c.u16()?;
                c.expect(")")?;
                u.userdata = cookie(UserCookie::Controller {
                    reason,
                    dont_send,
                    continuation,
                    recirc_id,
                    rule_cookie,
                    controller_id,
                    max_len,
                });
            } else if c.eat("actions") {
                u.actions = true;
            } else if c.eat("tunnel_out_port=") {
                u.tunnel_out_port = Some(c.u32()?);
                // Upstream takes it only as the last option.
                if !c.at(")") {
                    return c.err("tunnel_out_port must come last");
                }
            } else {
                return c.err("unknown userspace option");
            }
        }
        c.expect(")")?;
        // Without userdata upstream still sends its whole (zeroed) cookie.
        if u.userdata.is_none() {
            u.userdata = Some(Userdata::Raw(vec![0; USER_ACTION_COOKIE_LEN]));
        }
        Ok(u)
    }
}
