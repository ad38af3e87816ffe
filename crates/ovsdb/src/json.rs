//! JSON text exactly as OVS writes it.
//!
//! Values are `serde_json::Value`s (object member order preserved). OVS reads
//! a number without fraction or exponent, or any number whose value is a whole
//! number in the 64-bit signed range, as an integer; other numbers are reals,
//! printed with 15 significant digits (`%.15g`). [`to_string`] prints compact
//! text, optionally with object members sorted by name (as `ovsdb-tool`
//! prints results).

use serde_json::{Number, Value};

/// Serializes `v` compactly; `sort` orders object members by name.
pub fn to_string(v: &Value, sort: bool) -> String {
    let mut out = String::new();
    write_value(&mut out, v, sort);
    out
}

/// Serializes `v` compactly with object members in the order OVS's own
/// hash tables (`shash`) iterate them, given the members' current order as
/// insertion order. Upstream writes database files and prints `show-log`
/// in this order.
pub fn to_string_hash_order(v: &Value) -> String {
    let mut out = String::new();
    write_hashed(&mut out, v);
    out
}

fn write_hashed(out: &mut String, v: &Value) {
    match v {
        Value::Array(a) => {
            out.push('[');
            for (i, e) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_hashed(out, e);
            }
            out.push(']');
        }
        Value::Object(o) => {
            out.push('{');
            let members: Vec<(&String, &Value)> = o.iter().collect();
            let keys: Vec<&str> = members.iter().map(|(k, _)| k.as_str()).collect();
            for (n, i) in shash_order(&keys).into_iter().enumerate() {
                if n > 0 {
                    out.push(',');
                }
                write_string(out, members[i].0);
                out.push(':');
                write_hashed(out, members[i].1);
            }
            out.push('}');
        }
        other => write_value(out, other, false),
    }
}

/// OVS's string hashing and hash-map iteration order live with the
/// JSON-RPC text writer in `rpc`; the database files use the same order.
pub use rpc::json_text::{hash_bytes, shash_order};

/// Parses JSON text; errors read like upstream's
/// (`line 0, column 3, byte 3: unexpected end of input`).
pub fn parse(text: &str) -> Result<Value, String> {
    crate::json_parse::parse(text)
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

/// A JSON number holding a real (non-finite values become 0).
pub fn real(f: f64) -> Value {
    Value::Number(Number::from_f64(if f.is_finite() { f } else { 0.0 }).unwrap_or_else(|| 0.into()))
}

fn write_value(out: &mut String, v: &Value, sort: bool) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => write_number(out, n),
        Value::String(s) => write_string(out, s),
        Value::Array(a) => {
            out.push('[');
            for (i, e) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(out, e, sort);
            }
            out.push(']');
        }
        Value::Object(o) => {
            out.push('{');
            let mut members: Vec<(&String, &Value)> = o.iter().collect();
            if sort {
                members.sort_by(|a, b| a.0.cmp(b.0));
            }
            for (i, (k, e)) in members.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(out, k);
                out.push(':');
                write_value(out, e, sort);
            }
            out.push('}');
        }
    }
}

fn write_number(out: &mut String, n: &Number) {
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
    use serde_json::json;

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

    #[test]
    fn numbers_follow_ovs_integer_rule() {
        let v = parse("[2.0, 1e3, 1.5, 9223372036854775808, -3]").unwrap();
        assert_eq!(to_string(&v, false), "[2,1000,1.5,9.22337203685478e+18,-3]");
    }

    #[test]
    fn strings_and_sorting() {
        let v = json!({"b": "a\"\n\u{1}é", "a": [true, null]});
        assert_eq!(
            to_string(&v, false),
            r#"{"b":"a\"\n\u0001é","a":[true,null]}"#
        );
        assert_eq!(
            to_string(&v, true),
            r#"{"a":[true,null],"b":"a\"\n\u0001é"}"#
        );
    }

    #[test]
    fn hash_order_matches_upstream_show_log() {
        let keys = ["m", "ref", "b", "wref", "k", "i", "r"];
        let order: Vec<&str> = shash_order(&keys).into_iter().map(|i| keys[i]).collect();
        assert_eq!(order, ["m", "b", "ref", "k", "wref", "r", "i"]);
        let keys = ["ref", "s", "i"];
        let order: Vec<&str> = shash_order(&keys).into_iter().map(|i| keys[i]).collect();
        assert_eq!(order, ["ref", "i", "s"]);
    }

    #[test]
    fn parse_errors_name_the_position() {
        let e = parse("[1,").unwrap_err();
        assert_eq!(e, "line 0, column 3, byte 3: unexpected end of input");
    }
}

#[cfg(test)]
mod hash_order_tests {
    #[test]
    fn vswitch_tables() {
        let ft = [
            "Open_vSwitch",
            "Bridge",
            "Port",
            "Interface",
            "Flow_Table",
            "QoS",
            "Queue",
            "Mirror",
            "NetFlow",
            "sFlow",
            "IPFIX",
            "Flow_Sample_Collector_Set",
            "Controller",
            "Manager",
            "Datapath",
            "CT_Zone",
            "CT_Timeout_Policy",
            "SSL",
            "AutoAttach",
        ];
        let o: Vec<&str> = super::shash_order(&ft).into_iter().map(|i| ft[i]).collect();
        // The order upstream's hash map lists them (checked against ovsdb-tool's output).
        assert_eq!(
            o,
            [
                "Controller",
                "Bridge",
                "Queue",
                "Open_vSwitch",
                "NetFlow",
                "IPFIX",
                "CT_Zone",
                "QoS",
                "Datapath",
                "SSL",
                "Port",
                "sFlow",
                "Flow_Sample_Collector_Set",
                "CT_Timeout_Policy",
                "Mirror",
                "Flow_Table",
                "AutoAttach",
                "Interface",
                "Manager"
            ]
        );
    }
}
