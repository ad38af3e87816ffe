//! The `key=value` tokenizer shared by every text syntax of ovs-ofctl(8):
//! flows, actions, groups, meters. `key=value`, `key:value` and `key(value)`
//! pairs separated by commas or white space, with parentheses nesting inside
//! values (OVS's `ofputil_parse_key_value`).

const PAIR_DELIMS: &[u8] = b", \t\r\n";
const KEY_END: &[u8] = b":=(, \t\r\n";

/// Length of the value at the start of `s`: up to a byte in `delims` (or the
/// end) outside parentheses.
fn value_len(s: &[u8], delims: &[u8]) -> usize {
    let mut n = 0;
    loop {
        match s.get(n) {
            None => return n,
            Some(c) if delims.contains(c) => return n,
            Some(b'(') => {
                let mut level = 0i32;
                loop {
                    match s.get(n) {
                        None => return n,
                        Some(b'(') => level += 1,
                        Some(b')') => level -= 1,
                        _ => {}
                    }
                    n += 1;
                    if level <= 0 {
                        break;
                    }
                }
            }
            Some(_) => n += 1,
        }
    }
}

/// Takes the next pair from `*s`, advancing it. Returns `None` at the end.
/// A key without a value yields an empty value.
pub fn next_pair<'a>(s: &mut &'a str) -> Option<(&'a str, &'a str)> {
    let text: &'a str = s;
    let start = text
        .bytes()
        .position(|c| !PAIR_DELIMS.contains(&c))
        .unwrap_or(text.len());
    let rest = &text[start..];
    if rest.is_empty() {
        *s = rest;
        return None;
    }
    let bytes = rest.as_bytes();
    let key_len = bytes
        .iter()
        .position(|c| KEY_END.contains(c))
        .unwrap_or(bytes.len());
    let key = &rest[..key_len];
    let (value_start, delims): (usize, &[u8]) = match bytes.get(key_len) {
        Some(b':') | Some(b'=') => (key_len + 1, PAIR_DELIMS),
        Some(b'(') => (key_len + 1, b")"),
        _ => (key_len, b""),
    };
    let value_text = &rest[value_start..];
    let n = if delims.is_empty() {
        0
    } else {
        value_len(value_text.as_bytes(), delims)
    };
    let value = &value_text[..n];
    // Skip the byte that ended the value (or the key, for a bare key).
    let after = &value_text[n..];
    *s = match after.chars().next() {
        Some(c) => &after[c.len_utf8()..],
        None => after,
    };
    Some((key, value))
}

/// All pairs of `s`, in order.
pub fn pairs(s: &str) -> Vec<(&str, &str)> {
    let mut rest = s;
    let mut out = Vec::new();
    while let Some(p) = next_pair(&mut rest) {
        out.push(p);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn show(s: &str) -> String {
        pairs(s)
            .iter()
            .map(|(k, v)| {
                if v.is_empty() {
                    k.to_string()
                } else {
                    format!("{k}={v}")
                }
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    #[test]
    fn splits_like_upstream() {
        assert_eq!(show("a"), "a");
        assert_eq!(show("a,b"), "a, b");
        assert_eq!(show("a\tb"), "a, b");
        assert_eq!(show("a:b,c=d"), "a=b, c=d");
        assert_eq!(show("a=b c"), "a=b, c");
        assert_eq!(show("a(b),c(d)"), "a=b, c=d");
        assert_eq!(show("a:(b,c)"), "a=(b,c)");
        assert_eq!(show("a:b(c,d)e"), "a=b(c,d)e");
        assert_eq!(show("a(b,c(d,e),f)"), "a=b,c(d,e),f");
        assert_eq!(show(",a  b"), "a, b");
        assert_eq!(show(" a b ,"), "a, b");
        assert_eq!(show("a(b"), "a=b");
        assert_eq!(show("a(b(c)"), "a=b(c)");
        assert_eq!(show("a=b(c"), "a=b(c");
    }
}
