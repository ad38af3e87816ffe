//! JSON text as OVS puts it on the wire: compact, and with each object's
//! members in the order OVS's string hash map (`shash`) iterates them —
//! bucket by bucket, newest first within a bucket, the map growing as OVS
//! grows it — given the members' order in the `Value` as insertion order;
//! strings escaped as OVS escapes them, and numbers in OVS's forms (a whole
//! number in the 64-bit signed range is an integer, anything else a real
//! printed with 15 significant digits, `%.15g`). Peers never depend on
//! member order, but byte-identical output makes differential tests and
//! captures comparable with upstream's.

use serde_json::{Number, Value};

fn mhash_add(hash: u32, data: u32) -> u32 {
    let data = data
        .wrapping_mul(0xcc9e_2d51)
        .rotate_left(15)
        .wrapping_mul(0x1b87_3593);
    (hash ^ data)
        .rotate_left(13)
        .wrapping_mul(5)
        .wrapping_add(0xe654_6b64)
}

fn mhash_finish(mut hash: u32) -> u32 {
    hash ^= hash >> 16;
    hash = hash.wrapping_mul(0x85eb_ca6b);
    hash ^= hash >> 13;
    hash = hash.wrapping_mul(0xc2b2_ae35);
    hash ^ (hash >> 16)
}

/// OVS's `hash_bytes`: Murmur3 steps over little-endian 32-bit words.
pub fn hash_bytes(data: &[u8], basis: u32) -> u32 {
    let mut hash = basis;
    let mut chunks = data.chunks_exact(4);
    for c in &mut chunks {
        hash = mhash_add(hash, u32::from_le_bytes([c[0], c[1], c[2], c[3]]));
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut tail = [0u8; 4];
        tail[..rest.len()].copy_from_slice(rest);
        hash = mhash_add(hash, u32::from_le_bytes(tail));
    }
    mhash_finish(hash ^ data.len() as u32)
}

/// The mask an OVS hash map (`hmap`) picks for `capacity` elements: it
/// grows to this once it holds more than twice its buckets.
pub fn hmap_mask(capacity: usize) -> usize {
    let mut mask = capacity / 2;
    mask |= mask >> 1;
    mask |= mask >> 2;
    mask |= mask >> 4;
    mask |= mask >> 8;
    mask |= mask >> 16;
    mask |= mask >> 32;
    // Round up to at least 2 buckets when there is anything.
    mask | ((mask & 1) << 1)
}

/// Iteration order of an OVS string hash map after inserting `keys` in order.
pub fn shash_order(keys: &[&str]) -> Vec<usize> {
    let mut mask = 0usize;
    let mut buckets: Vec<Vec<usize>> = vec![Vec::new()];
    let hashes: Vec<u32> = keys.iter().map(|k| hash_bytes(k.as_bytes(), 0)).collect();
    for (i, &h) in hashes.iter().enumerate() {
        buckets[h as usize & mask].insert(0, i);
        let n = i + 1;
        if n / 2 > mask {
            let new_mask = hmap_mask(n);
            if new_mask > mask {
                let mut grown: Vec<Vec<usize>> = vec![Vec::new(); new_mask + 1];
                for b in &buckets {
                    for &j in b {
                        grown[hashes[j] as usize & new_mask].insert(0, j);
                    }
                }
                buckets = grown;
                mask = new_mask;
            }
        }
    }
    buckets.into_iter().flatten().collect()
}

/// Compact text with objects in OVS hash order.
pub fn to_string(v: &Value) -> String {
    let mut out = String::new();
    write(&mut out, v);
    out
}

fn write(out: &mut String, v: &Value) {
    match v {
        Value::Array(a) => {
            out.push('[');
            for (i, e) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write(out, e);
            }
            out.push(']');
        }
        Value::Object(o) => {
            let members: Vec<(&String, &Value)> = o.iter().collect();
            let keys: Vec<&str> = members.iter().map(|(k, _)| k.as_str()).collect();
            out.push('{');
            for (n, i) in shash_order(&keys).into_iter().enumerate() {
                if n > 0 {
                    out.push(',');
                }
                write_string(out, members[i].0);
                out.push(':');
                write(out, members[i].1);
            }
            out.push('}');
        }
        Value::Number(n) => write_number(out, n),
        Value::String(s) => write_string(out, s),
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
    }
}

/// Interprets a JSON number as OVS does: `Some(i)` when it is an integer.
pub fn as_integer(n: &Number) -> Option<i64> {
    if let Some(i) = n.as_i64() {
        return Some(i);
    }
    if n.is_u64() {
        return None;
    }
    let f = n.as_f64()?;
    if f.fract() == 0.0 && f >= -9.223_372_036_854_776e18 && f < 9.223_372_036_854_776e18 {
        Some(f as i64)
    } else {
        None
    }
}

/// Writes `n` in OVS's form: an integer, or a real as `%.15g`.
pub fn write_number(out: &mut String, n: &Number) {
    if let Some(i) = as_integer(n) {
        out.push_str(&i.to_string());
    } else {
        out.push_str(&format_g(n.as_f64().unwrap_or(0.0), 15));
    }
}

/// Writes `s` as a JSON string literal the way OVS escapes it.
pub fn write_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// The JSON string literal for `s`.
pub fn quote(s: &str) -> String {
    let mut out = String::new();
    write_string(&mut out, s);
    out
}

/// Formats `x` like C's `printf("%.*g", prec, x)`.
pub fn format_g(x: f64, prec: usize) -> String {
    if x.is_nan() {
        return "nan".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf".into() } else { "-inf".into() };
    }
    if x == 0.0 {
        return if x.is_sign_negative() {
            "-0".into()
        } else {
            "0".into()
        };
    }
    let prec = prec.max(1);
    let sci = format!("{:.*e}", prec - 1, x);
    let (mant, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if exp < -4 || exp >= prec as i32 {
        let mant = strip_zeros(mant);
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{mant}e{sign}{:02}", exp.abs())
    } else {
        let decimals = (prec as i32 - 1 - exp).max(0) as usize;
        strip_zeros(&format!("{x:.decimals$}")).to_string()
    }
}

fn strip_zeros(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reals_like_printf_g() {
        assert_eq!(format_g(1.0, 15), "1");
        assert_eq!(format_g(0.1, 15), "0.1");
        assert_eq!(format_g(1e300, 15), "1e+300");
        assert_eq!(format_g(123456789.123456789, 15), "123456789.123457");
        assert_eq!(format_g(9223372036854775808.0, 15), "9.22337203685478e+18");
        assert_eq!(format_g(0.0001, 15), "0.0001");
        assert_eq!(format_g(0.00001, 15), "1e-05");
        assert_eq!(format_g(-2.5, 15), "-2.5");
    }

    fn order(keys: &[&str]) -> Vec<String> {
        shash_order(keys)
            .into_iter()
            .map(|i| keys[i].to_string())
            .collect()
    }

    #[test]
    fn numbers_and_strings_in_ovs_forms() {
        let v: Value =
            serde_json::from_str(r#"[7, 2.0, 1e20, 0.1, 9223372036854775808, "a\"\n\u0001é"]"#)
                .unwrap();
        assert_eq!(
            to_string(&v),
            r#"[7,2,1e+20,0.1,9.22337203685478e+18,"a\"\n\u0001é"]"#
        );
    }

    #[test]
    fn jsonrpc_member_orders_match_upstream_captures() {
        // Inserted as upstream's jsonrpc_msg_to_json does; printed as captured.
        assert_eq!(
            order(&["method", "params", "id"]),
            ["id", "method", "params"]
        );
        assert_eq!(order(&["result", "error", "id"]), ["id", "result", "error"]);
        assert_eq!(order(&["error", "id"]), ["id", "error"]);
    }

    #[test]
    fn ovsdb_error_object_order() {
        // {"syntax":..,"details":..,"error":..} as ovsdb-server prints errors.
        assert_eq!(
            order(&["error", "details", "syntax"]),
            ["syntax", "details", "error"]
        );
    }
}
