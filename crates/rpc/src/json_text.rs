//! JSON text as OVS puts it on the wire: compact, and with each object's
//! members in the order OVS's string hash map (`shash`) iterates them —
//! bucket by bucket, newest first within a bucket, the map growing as OVS
//! grows it — given the members' order in the `Value` as insertion order.
//! Peers never depend on member order, but byte-identical output makes
//! differential tests and captures comparable with upstream's.

use serde_json::Value;

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

/// The mask an OVS hash map picks for `capacity` elements.
fn calc_mask(capacity: usize) -> usize {
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
            let new_mask = calc_mask(n);
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
                out.push_str(&Value::String(members[i].0.clone()).to_string());
                out.push(':');
                write(out, members[i].1);
            }
            out.push('}');
        }
        other => out.push_str(&other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order(keys: &[&str]) -> Vec<String> {
        shash_order(keys)
            .into_iter()
            .map(|i| keys[i].to_string())
            .collect()
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
