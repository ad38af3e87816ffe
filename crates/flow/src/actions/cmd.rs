//! The `ovs-ofctl parse-actions VERSION` and `parse-instructions VERSION`
//! commands: read hex from input, decode, print, re-encode and print the
//! differences, as upstream does.

use std::io::{BufRead, Write};

use super::format::format_actions;
use super::wire::{
    decode_actions, decode_instructions, encode_actions, encode_instructions, OfpVersion,
};

/// Strips a `#` comment and surrounding white space.
fn preprocess(line: &str) -> &str {
    let line = match line.find('#') {
        Some(i) => &line[..i],
        None => line,
    };
    line.trim()
}

/// Parses hex bytes, allowing white space between bytes.  `None` means
/// "Trailing garbage in hex data".
pub fn parse_hex(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i].is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let hi = (b[i] as char).to_digit(16)?;
        let lo = (*b.get(i + 1)? as char).to_digit(16)?;
        out.push((hi * 16 + lo) as u8);
        i += 2;
    }
    Some(out)
}

/// Upstream's `print_differences`: one line per differing byte.
pub fn format_differences(a: &[u8], b: &[u8]) -> String {
    let mut s = String::new();
    let n = a.len().min(b.len());
    for i in 0..n {
        if a[i] != b[i] {
            s.push_str(&format!("{:2}: {:02x} -> {:02x}\n", i, a[i], b[i]));
        }
    }
    for (i, x) in b.iter().enumerate().skip(a.len()) {
        s.push_str(&format!("{:2}: (none) -> {:02x}\n", i, x));
    }
    for (i, x) in a.iter().enumerate().skip(b.len()) {
        s.push_str(&format!("{:2}: {:02x} -> (none)\n", i, x));
    }
    s
}

/// Runs `parse-actions` (`instructions` false) or `parse-instructions` for
/// `version_name` (default `OpenFlow10`), reading `input` and writing to
/// `out`.  `Err` carries the fatal message (printed as `ovs-ofctl: MSG`).
pub fn run_parse_actions(
    version_name: Option<&str>,
    instructions: bool,
    input: &mut dyn BufRead,
    out: &mut dyn Write,
) -> Result<(), String> {
    let version = match version_name {
        None => OfpVersion::Of10,
        Some(v) => OfpVersion::ALL
            .into_iter()
            .find(|x| x.name() == v)
            .ok_or_else(|| format!("{v}: not a valid OpenFlow version"))?,
    };
    let nature = if instructions {
        "instructions"
    } else {
        "actions"
    };
    let mut line = String::new();
    loop {
        line.clear();
        match input.read_line(&mut line) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) => return Err(format!("read failed: {e}")),
        }
        let text = preprocess(&line);
        if text.is_empty() {
            continue;
        }
        let (table_id, hex) = match text.split_once(',') {
            Some((t, h)) => (Some(t), h),
            None => (None, text),
        };
        let bytes = parse_hex(hex).ok_or("Trailing garbage in hex data")?;
        let decoded = if instructions {
            decode_instructions(&bytes, version).and_then(|mut acts| {
                let table = table_id.map(atoi).unwrap_or(0).min(255) as u8;
                let usable = protocols_of_version(version);
                super::check::check_consistency(
                    &mut acts,
                    &crate::Match::catchall(),
                    super::OfpPort::MAX,
                    table,
                    255,
                    usable,
                )
                .map(|_| acts)
            })
        } else {
            decode_actions(&bytes, version)
        };
        let w =
            |out: &mut dyn Write, s: &str| out.write_all(s.as_bytes()).map_err(|e| e.to_string());
        match decoded {
            Err(e) => w(
                out,
                &format!("bad {} {}: {}\n\n", version.name(), nature, e.name()),
            )?,
            Ok(acts) => {
                w(out, &format!("actions={}\n", format_actions(&acts)))?;
                let again = if instructions {
                    encode_instructions(&acts, version)
                } else {
                    encode_actions(&acts, version)
                };
                w(out, &format_differences(&bytes, &again))?;
                w(out, "\n")?;
            }
        }
        out.flush().map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// The protocols a version implies (`ofputil_protocols_from_ofp_version`).
fn protocols_of_version(v: OfpVersion) -> crate::Protocols {
    use crate::Protocols as P;
    match v {
        OfpVersion::Of10 => P::OF10_ANY,
        OfpVersion::Of11 => P::OF11_STD,
        OfpVersion::Of12 => P::OF12_OXM,
        OfpVersion::Of13 => P::OF13_OXM,
        OfpVersion::Of14 => P::OF14_OXM,
        OfpVersion::Of15 => P::OF15_OXM,
    }
}

/// C's `atoi`: leading white space, optional sign, digits; 0 otherwise.
fn atoi(s: &str) -> u32 {
    let s = s.trim_start();
    let digits: String = s.chars().take_while(|c| c.is_ascii_digit()).collect();
    digits.parse().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_and_differences() {
        assert_eq!(parse_hex("00 01 0a"), Some(vec![0, 1, 10]));
        assert_eq!(parse_hex("0x00"), None);
        assert_eq!(parse_hex("012"), None);
        assert_eq!(
            format_differences(&[1, 2], &[1, 3, 4]),
            " 1: 02 -> 03\n 2: (none) -> 04\n"
        );
    }

    #[test]
    fn command_output() {
        let mut input = std::io::Cursor::new("# c\n00000008fffe04d2\n000000f000000000\n");
        let mut out = Vec::new();
        run_parse_actions(Some("OpenFlow10"), false, &mut input, &mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "actions=LOCAL\n\nbad OpenFlow10 actions: OFPBAC_BAD_LEN\n\n"
        );
    }
}
