//! The text form of raw NXM/OXM entries, as `ovs-ofctl parse-nx-match` and
//! `parse-oxm` read and print them: `NXM_OF_IN_PORT(0001)`,
//! `NXM_OF_ETH_DST_W(010000000000/010000000000)`, raw headers in hex
//! (`01020304(1111/3333)`, `ffff020800002320(11112222)`), `<any>` for none.
//! (Upstream's nx_match_from_string / nx_match_to_string.)

use crate::nx_match::{NXM_NX_COOKIE_CLASS, NXM_NX_COOKIE_FIELD};
use crate::wire::{pad8, Put};
use flow::{FieldDef, FieldId, MfHeader};

fn fields() -> impl Iterator<Item = &'static FieldDef> {
    FieldId::ALL.iter().map(|f| f.def())
}

/// The NXM/OXM name of the identity with this header, if any.
fn header_name(h: &MfHeader) -> Option<&'static str> {
    if h.class == NXM_NX_COOKIE_CLASS && h.field == NXM_NX_COOKIE_FIELD {
        return Some("NXM_NX_COOKIE");
    }
    let exp = if h.is_experimenter() {
        h.experimenter
    } else {
        0
    };
    fields().find_map(|f| {
        f.nxm
            .iter()
            .chain(f.oxm.iter())
            .find(|d| d.class == h.class && d.field == h.field && d.experimenter == exp)
            .map(|d| d.name)
    })
}

/// The header named `name` (optionally with `_W`), or given as 8 or 16 hex
/// digits.
fn parse_header(name: &str) -> Option<MfHeader> {
    let (base, masked) = match name.strip_suffix("_W") {
        Some(b) => (b, true),
        None => (name, false),
    };
    if base == "NXM_NX_COOKIE" {
        let len = if masked { 16 } else { 8 };
        return Some(MfHeader::from_u32(
            (u32::from(NXM_NX_COOKIE_CLASS) << 16)
                | (u32::from(NXM_NX_COOKIE_FIELD) << 9)
                | (u32::from(masked) << 8)
                | len,
        ));
    }
    for f in fields() {
        if let Some(d) = f.nxm.iter().chain(f.oxm.iter()).find(|d| d.name == base) {
            let len = if f.variable_len { 0 } else { f.n_bytes };
            return Some(MfHeader::new(d, masked, len));
        }
    }
    if name.bytes().all(|c| c.is_ascii_hexdigit()) {
        if name.len() == 8 {
            return u32::from_str_radix(name, 16).ok().map(MfHeader::from_u32);
        }
        if name.len() == 16 {
            return u64::from_str_radix(name, 16).ok().map(MfHeader::from_u64);
        }
    }
    None
}

/// Appends the bytes of the hex digits at the start of `s` (spaces between
/// byte pairs allowed); returns the rest and the number of bytes.
fn put_hex<'a>(out: &mut Vec<u8>, s: &'a str, full: &str) -> Result<(&'a str, usize), String> {
    let mut rest = s;
    let mut n = 0;
    loop {
        rest = rest.trim_start_matches(' ');
        let b = rest.as_bytes();
        if b.len() >= 2 && b[0].is_ascii_hexdigit() && b[1].is_ascii_hexdigit() {
            out.push(u8::from_str_radix(&rest[..2], 16).map_err(|_| full.to_string())?);
            rest = &rest[2..];
            n += 1;
        } else if !b.is_empty() && b[0].is_ascii_hexdigit() {
            return Err(format!("{rest}: hex digits expected"));
        } else {
            return Ok((rest, n));
        }
    }
}

/// Parses NXM entries from text into their wire form (unpadded).
pub fn nxm_from_string(full: &str) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    if full == "<any>" {
        return Ok(out);
    }
    let mut s = full;
    loop {
        s = s.trim_start_matches([',', ' ']);
        if s.is_empty() {
            return Ok(out);
        }
        let name_len = s.find('(').unwrap_or(s.len());
        let name = &s[..name_len];
        let Some(mut header) = parse_header(name) else {
            return Err(format!("{full}: unknown field `{name}'"));
        };
        s = &s[name_len..];
        let Some(body) = s.strip_prefix('(') else {
            return Err(format!("{full}: missing ( at end of nx_match"));
        };
        let named = header_name(&header).is_some() && !name.bytes().all(|c| c.is_ascii_hexdigit());
        let mut payload = Vec::new();
        let (mut rest, n) = put_hex(&mut payload, body, full)?;
        if header.has_mask {
            rest = rest.trim_start_matches(' ');
            let Some(m) = rest.strip_prefix('/') else {
                return Err(format!("{full}: missing / in masked field {name}"));
            };
            rest = put_hex(&mut payload, m, full)?.0;
        }
        if named {
            header.set_value_len(n);
        }
        rest = rest.trim_start_matches(' ');
        let Some(after) = rest.strip_prefix(')') else {
            return Err(format!("{full}: missing ) following field {name}"));
        };
        header.put(&mut out);
        out.extend_from_slice(&payload);
        s = after;
    }
}

/// Parses OXM entries from text into an `ofp11_match` of type OXM, padded.
pub fn oxm_from_string(full: &str) -> Result<Vec<u8>, String> {
    let entries = nxm_from_string(full)?;
    let mut out = Vec::with_capacity(pad8(entries.len() + 4));
    out.put_u16(1);
    out.put_u16((entries.len() + 4) as u16);
    out.extend_from_slice(&entries);
    out.put_zeros(pad8(out.len()) - out.len());
    Ok(out)
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Prints NXM entries (unpadded bytes) as text.
pub fn nxm_to_string(bytes: &[u8]) -> String {
    if bytes.is_empty() {
        return "<any>".to_string();
    }
    let mut s = String::new();
    let mut rest = bytes;
    while let Some((h, hlen)) = MfHeader::pull(rest) {
        let payload = (h.length as usize).saturating_sub(hlen - 4);
        if h.length == 0 || rest.len() < hlen + payload || (h.has_mask && payload % 2 != 0) {
            break;
        }
        let body = &rest[hlen..hlen + payload];
        if !s.is_empty() {
            s.push_str(", ");
        }
        match header_name(&h) {
            Some(name) => {
                s.push_str(name);
                if h.has_mask {
                    s.push_str("_W");
                }
            }
            None => s.push_str(&format!("{}:{}", h.class, h.field)),
        }
        if h.has_mask {
            let w = payload / 2;
            s.push_str(&format!("({}/{})", hex(&body[..w]), hex(&body[w..])));
        } else {
            s.push_str(&format!("({})", hex(body)));
        }
        rest = &rest[hlen + payload..];
    }
    if !rest.is_empty() {
        if !s.is_empty() {
            s.push_str(", ");
        }
        s.push_str(&format!("<{} invalid bytes>", rest.len()));
    }
    s
}

/// Prints the entries of an `ofp11_match` of type OXM as text.
pub fn oxm_to_string(bytes: &[u8]) -> String {
    if bytes.len() < 4 {
        return format!("<{} invalid bytes>", bytes.len());
    }
    let len = usize::from(u16::from_be_bytes([bytes[2], bytes[3]]));
    if len < 4 || len > bytes.len() {
        return format!("<{} invalid bytes>", bytes.len());
    }
    nxm_to_string(&bytes[4..len])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_text() {
        for t in [
            "<any>",
            "NXM_OF_IN_PORT(0001)",
            "NXM_OF_ETH_DST_W(010000000000/010000000000)",
            "NXM_OF_IN_PORT(0012), NXM_OF_ETH_TYPE(0800)",
            "OXM_OF_METADATA(5a5a5a5a5a5a5a5a)",
        ] {
            assert_eq!(nxm_to_string(&nxm_from_string(t).unwrap()), t);
        }
        assert_eq!(
            nxm_from_string("01020304(1111/3333)").unwrap(),
            [1, 2, 3, 4, 0x11, 0x11, 0x33, 0x33]
        );
        assert_eq!(
            nxm_from_string("NXM_BOGUS(00)").unwrap_err(),
            "NXM_BOGUS(00): unknown field `NXM_BOGUS'"
        );
    }
}
