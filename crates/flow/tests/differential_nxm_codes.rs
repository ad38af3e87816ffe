//! Every NXM/OXM identity of the field registry, checked against the
//! reference: an NXT_FLOW_MOD whose match holds the field (after entries
//! for its prerequisites) is printed by `ovs-ofctl ofp-print`, which must
//! decode it without error and show a match on the field.  Skips when the
//! reference is not installed.

use flow::field::{MfHeader, Prereq};
use flow::{FieldId, MfValue};
use std::process::Command;

const OFCTL: &str = "/usr/bin/ovs-ofctl";

fn entry(out: &mut Vec<u8>, field: FieldId, value: u128, mask: Option<u128>) {
    let n = field.def().n_bytes;
    let h = field
        .nxm_header(mask.is_some())
        .or_else(|| field.oxm_header(6, mask.is_some()))
        .expect("header");
    h.put(out);
    out.extend_from_slice(MfValue::from_u128(n, value).as_bytes());
    if let Some(m) = mask {
        out.extend_from_slice(MfValue::from_u128(n, m).as_bytes());
    }
}

fn prereq_entries(field: FieldId) -> Vec<u8> {
    use FieldId::*;
    let mut v = Vec::new();
    let et = |v: &mut Vec<u8>, t: u128| entry(v, EthType, t, None);
    match field.def().prereqs {
        Prereq::None | Prereq::Ethernet => {}
        Prereq::Ipv4 | Prereq::IpAny => et(&mut v, 0x0800),
        Prereq::Ipv6 => et(&mut v, 0x86dd),
        Prereq::Arp => et(&mut v, 0x0806),
        Prereq::Mpls => et(&mut v, 0x8847),
        Prereq::Nsh => et(&mut v, 0x894f),
        Prereq::Tcp | Prereq::Udp | Prereq::Sctp | Prereq::Icmpv4 => {
            et(&mut v, 0x0800);
            let p = match field.def().prereqs {
                Prereq::Tcp => 6,
                Prereq::Udp => 17,
                Prereq::Sctp => 132,
                _ => 1,
            };
            entry(&mut v, IpProto, p, None);
        }
        Prereq::Icmpv6 | Prereq::Nd | Prereq::NdSolicit | Prereq::NdAdvert => {
            et(&mut v, 0x86dd);
            entry(&mut v, IpProto, 58, None);
            if field.def().prereqs != Prereq::Icmpv6 {
                let t = if field.def().prereqs == Prereq::NdAdvert {
                    136
                } else {
                    135
                };
                entry(&mut v, Icmpv6Type, t, None);
                entry(&mut v, Icmpv6Code, 0, None);
            }
        }
        Prereq::VlanVid => entry(&mut v, VlanTci, 0x1000, Some(0x1000)),
        Prereq::CtValid => {
            match field {
                CtIpv6Src | CtIpv6Dst => et(&mut v, 0x86dd),
                _ => et(&mut v, 0x0800),
            }
            entry(&mut v, CtState, 0x22, None);
            if matches!(field, CtTpSrc | CtTpDst) {
                entry(&mut v, CtNwProto, 6, None);
            }
        }
    }
    v
}

fn nxt_flow_mod(matchb: &[u8]) -> String {
    let mut body = Vec::new();
    body.extend_from_slice(&0x2320u32.to_be_bytes());
    body.extend_from_slice(&13u32.to_be_bytes());
    body.extend_from_slice(&[0; 8]); // cookie
    body.extend_from_slice(&[0, 0, 0, 0, 0, 0]); // command, idle, hard
    body.extend_from_slice(&0x8000u16.to_be_bytes());
    body.extend_from_slice(&u32::MAX.to_be_bytes());
    body.extend_from_slice(&0xffffu16.to_be_bytes());
    body.extend_from_slice(&[0, 0]);
    body.extend_from_slice(&(matchb.len() as u16).to_be_bytes());
    body.extend_from_slice(&[0; 6]);
    body.extend_from_slice(matchb);
    body.resize(body.len() + (8 - matchb.len() % 8) % 8, 0);
    let mut msg = vec![1, 4];
    msg.extend_from_slice(&((8 + body.len()) as u16).to_be_bytes());
    msg.extend_from_slice(&[0; 4]);
    msg.extend_from_slice(&body);
    msg.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn every_header_decodes_upstream() {
    if !std::path::Path::new(OFCTL).exists() {
        eprintln!("skipping: {OFCTL} not installed");
        return;
    }
    let mut failures = Vec::new();
    let mut checked = 0;
    for field in FieldId::ALL {
        let d = field.def();
        // Tunnel metadata needs a TLV map; ERSPAN index/direction/hwid print
        // only with a matching version; tun_ttl/tun_tos have no identity.
        if field.is_tun_metadata()
            || matches!(
                field,
                FieldId::TunErspanIdx | FieldId::TunErspanDir | FieldId::TunErspanHwid
            )
        {
            continue;
        }
        for h in d.nxm.iter().chain(d.oxm.iter()) {
            let value: u128 = match field {
                FieldId::IpDscp => 4,
                FieldId::TcpFlags => 2,
                FieldId::NshMdtype => 1,
                _ => 1,
            };
            let mut m = prereq_entries(field);
            let hdr = MfHeader::new(h, false, d.n_bytes);
            hdr.put(&mut m);
            m.extend_from_slice(MfValue::from_u128(d.n_bytes, value).as_bytes());
            let out = Command::new(OFCTL)
                .args(["ofp-print", &nxt_flow_mod(&m)])
                .output()
                .expect("ovs-ofctl");
            let text = String::from_utf8_lossy(&out.stdout).into_owned();
            let line = text.lines().next().unwrap_or("").to_string();
            checked += 1;
            let ok = !line.contains("error")
                && !line.ends_with("ADD actions=drop")
                && line.contains("ADD ");
            // Fields whose print depends on others (nsh_c1 needs mdtype 1)
            // are accepted when decoding succeeded.
            let lenient = matches!(
                field,
                FieldId::NshC1 | FieldId::NshC2 | FieldId::NshC3 | FieldId::NshC4
            ) && !line.contains("error");
            if !ok && !lenient {
                failures.push(format!("{} {}: {line}", d.name, h.name));
            }
        }
    }
    eprintln!(
        "{checked} NXM/OXM identities checked, {} rejected",
        failures.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(checked > 100);
}
