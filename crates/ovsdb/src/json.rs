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
pub use rpc::json_text::to_string as to_string_hash_order;

/// OVS's string hashing and hash-map iteration order, and its forms of
/// strings and numbers, live with the JSON-RPC text writer in `rpc`; the
/// database files use the same.
pub use rpc::json_text::{as_integer, format_g, hash_bytes, quote, shash_order, write_string};

/// Parses JSON text; errors read like upstream's
/// (`line 0, column 3, byte 3: unexpected end of input`).
pub fn parse(text: &str) -> Result<Value, String> {
    crate::json_parse::parse(text)
}

/// A JSON number holding a real (non-finite values become 0).
pub fn real(f: f64) -> Value {
    Value::Number(Number::from_f64(if f.is_finite() { f } else { 0.0 }).unwrap_or_else(|| 0.into()))
}

fn write_value(out: &mut String, v: &Value, sort: bool) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => rpc::json_text::write_number(out, n),
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
