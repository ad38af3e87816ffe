//! The record framing of OVSDB files (ovsdb(5)): each record is a header
//! line `OVSDB <magic> <length> <sha1>` followed by `length` bytes of JSON
//! (ending in a new-line) whose SHA-1 is `sha1`.
//!
//! [`read_records`] reads a whole file and stops at the first bad record,
//! reporting it with upstream's wording and the offset where the good
//! prefix ends, so that a caller can either fail (as `ovsdb-tool` does) or
//! truncate a torn tail (as a server does after a crash). [`encode_record`]
//! builds one record for appending.

use crate::error::Error;
use crate::json;
use serde_json::Value;

/// Magic of standalone database files.
pub const MAGIC_STANDALONE: &str = "JSON";
/// Magic of clustered database files.
pub const MAGIC_CLUSTERED: &str = "CLUSTER";

/// One record read from a file.
#[derive(Debug, Clone)]
pub struct Record {
    /// Offset of the header line.
    pub offset: u64,
    pub json: Value,
}

/// The records of a file, and what stopped the reading early, if anything.
#[derive(Debug)]
pub struct Records {
    pub magic: String,
    pub records: Vec<Record>,
    /// Offset just after the last good record.
    pub good_end: u64,
    /// The problem with the record at `good_end`, if the file does not end there.
    pub error: Option<Error>,
}

/// Builds one record with `magic` for `json`.
pub fn encode_record(magic: &str, json: &Value) -> Vec<u8> {
    let mut body = json::to_string_hash_order(json);
    body.push('\n');
    let sha = sha1_smol::Sha1::from(body.as_bytes()).digest().to_string();
    let mut out = format!("OVSDB {magic} {} {sha}\n", body.len()).into_bytes();
    out.extend_from_slice(body.as_bytes());
    out
}

/// Parses `data` (the contents of `path`) into records.
///
/// `Err` is returned only when the first header is not an OVSDB header at
/// all ("unexpected file format").
pub fn read_records(path: &str, data: &[u8]) -> Result<Records, Error> {
    let mut recs = Records {
        magic: String::new(),
        records: Vec::new(),
        good_end: 0,
        error: None,
    };
    let mut pos = 0usize;
    while pos < data.len() {
        let rest = &data[pos..];
        let line_end = rest.iter().position(|&b| b == b'\n');
        let header = match line_end {
            Some(n) => &rest[..n],
            None => rest,
        };
        let parsed = parse_header(header);
        let Some((magic, len, sha)) = parsed else {
            if pos == 0 {
                return Err(Error::new(
                    "ovsdb error",
                    format!("{path}: unexpected file format"),
                ));
            }
            let shown = String::from_utf8_lossy(&header[..header.len().min(64)]).into_owned();
            recs.error = Some(Error::syntax(
                None,
                format!("{path}: parse error at offset {pos} in header line \"{shown}\""),
            ));
            break;
        };
        if pos == 0 {
            recs.magic = magic.clone();
        } else if magic != recs.magic {
            let shown = String::from_utf8_lossy(&header[..header.len().min(64)]).into_owned();
            recs.error = Some(Error::syntax(
                None,
                format!("{path}: parse error at offset {pos} in header line \"{shown}\""),
            ));
            break;
        }
        let Some(n) = line_end else {
            recs.error = Some(Error::io(format!(
                "{path}: error reading {len} bytes starting at offset {} (End of file)",
                pos + header.len()
            )));
            break;
        };
        let body_start = pos + n + 1;
        let Some(body) = data.get(body_start..body_start.saturating_add(len)) else {
            recs.error = Some(Error::io(format!(
                "{path}: error reading {len} bytes starting at offset {body_start} (End of file)"
            )));
            break;
        };
        let actual = sha1_smol::Sha1::from(body).digest().to_string();
        if actual != sha {
            recs.error = Some(Error::syntax(
                None,
                format!(
                    "{path}: {len} bytes starting at offset {body_start} have SHA-1 hash {actual} but should have hash {sha}"
                ),
            ));
            break;
        }
        let text = String::from_utf8_lossy(body);
        match json::parse(&text) {
            Ok(v) if v.is_object() => recs.records.push(Record {
                offset: pos as u64,
                json: v,
            }),
            Ok(_) => {
                recs.error = Some(Error::syntax(
                    None,
                    format!(
                        "{path}: {len} bytes starting at offset {body_start} are not a JSON object"
                    ),
                ));
                break;
            }
            Err(e) => {
                recs.error = Some(Error::syntax(
                    None,
                    format!("{path}: {len} bytes starting at offset {body_start} are not valid JSON ({e})"),
                ));
                break;
            }
        }
        pos = body_start + len;
        recs.good_end = pos as u64;
    }
    Ok(recs)
}

/// The length of the complete, intact record at the start of `data`
/// (header line and body with a matching SHA-1), if there is one.
pub fn record_len(data: &[u8]) -> Option<usize> {
    let n = data.iter().position(|&b| b == b'\n')?;
    let (_, len, sha) = parse_header(&data[..n])?;
    let body = data.get(n + 1..(n + 1).checked_add(len)?)?;
    (sha1_smol::Sha1::from(body).digest().to_string() == sha).then_some(n + 1 + len)
}

fn parse_header(line: &[u8]) -> Option<(String, usize, String)> {
    let s = std::str::from_utf8(line).ok()?;
    let rest = s.strip_prefix("OVSDB ")?;
    let mut parts = rest.split(' ');
    let magic = parts.next()?;
    let len = parts.next()?;
    let sha = parts.next()?;
    if parts.next().is_some()
        || magic.is_empty()
        || !magic
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_')
        || len.is_empty()
        || !len.bytes().all(|b| b.is_ascii_digit())
        || sha.len() != 40
        || !sha.bytes().all(|b| b.is_ascii_hexdigit())
    {
        return None;
    }
    Some((
        magic.to_string(),
        len.parse().ok()?,
        sha.to_ascii_lowercase(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn round_trip_and_known_hash() {
        // The same body upstream wrote for an empty-looking record.
        let r = encode_record("JSON", &json!({"a": 1}));
        let text = String::from_utf8(r.clone()).unwrap();
        assert!(text.starts_with("OVSDB JSON 8 "), "{text}");
        assert!(text.ends_with("{\"a\":1}\n"));
        let mut data = r.clone();
        data.extend_from_slice(&encode_record("JSON", &json!({"b": [true]})));
        let recs = read_records("x", &data).unwrap();
        assert_eq!(recs.records.len(), 2);
        assert!(recs.error.is_none());
        assert_eq!(recs.good_end as usize, data.len());
    }

    #[test]
    fn record_len_needs_a_whole_intact_record() {
        let r = encode_record("JSON", &json!({"a": 1}));
        let mut data = r.clone();
        data.extend_from_slice(b"more");
        assert_eq!(record_len(&data), Some(r.len()));
        assert_eq!(record_len(&r[..r.len() - 1]), None);
        let mut bad = r.clone();
        let last = bad.len() - 2;
        bad[last] = b'2';
        assert_eq!(record_len(&bad), None);
        assert_eq!(record_len(&[0u8; 64]), None);
    }

    #[test]
    fn torn_tail_is_reported_at_good_end() {
        let mut data = encode_record("JSON", &json!({"a": 1}));
        let good = data.len();
        let mut second = encode_record("JSON", &json!({"b": 2}));
        second.truncate(second.len() - 3);
        data.extend_from_slice(&second);
        let recs = read_records("f.db", &data).unwrap();
        assert_eq!(recs.records.len(), 1);
        assert_eq!(recs.good_end as usize, good);
        let e = recs.error.unwrap().to_string();
        assert!(
            e.starts_with("I/O error: f.db: error reading 8 bytes starting at offset"),
            "{e}"
        );
    }

    #[test]
    fn bad_hash_and_bad_magic() {
        let mut data = encode_record("JSON", &json!({"a": 1}));
        data.extend_from_slice(b"OVSDB JSON 3 0000000000000000000000000000000000000000\n{}\n");
        let recs = read_records("d.db", &data).unwrap();
        let e = recs.error.unwrap().to_string();
        assert!(
            e.contains("3 bytes starting at offset 116 have SHA-1 hash"),
            "{e}"
        );
        assert!(e.contains("but should have hash 0000000000000000000000000000000000000000"));
        let e = read_records("s", b"{\"name\":1}\n")
            .unwrap_err()
            .to_string();
        assert_eq!(e, "ovsdb error: s: unexpected file format");
    }
}
