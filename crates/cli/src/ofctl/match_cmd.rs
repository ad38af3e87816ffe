//! Offline commands that exercise the wire forms of matches:
//! `parse-nx-match` and `parse-oxm VERSION` (text → wire → match → wire →
//! text, one test line of stdin at a time).

use super::options::Options;
use super::protocols::version_from_name;
use super::{CmdResult, Fatal};
use openflow::nx_match::{pull_entries_cookie, pull_oxm, put_nxm_cookie, put_oxm, NxmCookie};
use openflow::nx_match_text::{nxm_from_string, nxm_to_string, oxm_from_string, oxm_to_string};
use openflow::wire::{pad8, Reader};
use std::io::BufRead;

/// Reads the next test line: blank lines and comment lines are echoed to
/// stdout and skipped; a trailing `# comment` is removed.
fn next_test_line(input: &mut dyn BufRead) -> Result<Option<String>, Fatal> {
    loop {
        let mut line = String::new();
        if input
            .read_line(&mut line)
            .map_err(|e| Fatal(format!("read failed: {e}")))?
            == 0
        {
            return Ok(None);
        }
        let line = line.trim_end_matches(['\n', '\r']);
        let code = line.split('#').next().unwrap_or("").trim_end();
        if code.trim_start().is_empty() {
            println!("{line}");
            continue;
        }
        return Ok(Some(code.to_string()));
    }
}

fn run(opts: &Options, oxm_version: Option<u8>) -> CmdResult {
    let stdin = std::io::stdin();
    let mut input = stdin.lock();
    while let Some(line) = next_test_line(&mut input)? {
        let mut cookie = NxmCookie::default();
        let decoded = match oxm_version {
            Some(_) => {
                let bytes = oxm_from_string(&line)?;
                pull_oxm(&mut Reader::new(&bytes), opts.strict)
            }
            None => {
                let bytes = nxm_from_string(&line)?;
                pull_entries_cookie(&bytes, opts.strict, &mut cookie)
            }
        };
        match decoded {
            Ok(m) => {
                let (text, wire) = match oxm_version {
                    Some(v) => {
                        let wire = put_oxm(&m, v);
                        (oxm_to_string(&wire), wire)
                    }
                    None => {
                        let mut wire = put_nxm_cookie(&m, cookie);
                        let text = nxm_to_string(&wire);
                        wire.resize(pad8(wire.len()), 0);
                        (text, wire)
                    }
                };
                println!("{text}");
                if opts.verbosity > 0 {
                    print!("{}", vlog::hex_dump_plain(&wire, 0));
                }
            }
            Err(e) => println!("nx_pull_match() returned error {}", e.name()),
        }
    }
    Ok(())
}

/// `parse-nx-match`: NXM text lines on stdin.
pub fn parse_nx_match(opts: &Options, _: &[String]) -> CmdResult {
    run(opts, None)
}

/// `parse-oxm VERSION`: OXM text lines on stdin.
pub fn parse_oxm(opts: &Options, args: &[String]) -> CmdResult {
    let name = &args[0];
    let v = version_from_name(name)
        .filter(|v| *v >= 3)
        .ok_or_else(|| Fatal(format!("{name}: not a valid version for OXM")))?;
    run(opts, Some(v))
}

fn tci(m: &flow::Match) -> String {
    format!("{:04x}/{:04x}", m.flow.vlans[0].tci, m.wc.vlans[0].tci)
}

/// `check-vlan VLAN_TCI VLAN_TCI_MASK`: one VLAN match through the flow
/// syntax, NXM, OXM, and the OpenFlow 1.0 and 1.1 match structures.
pub fn check_vlan(_: &Options, args: &[String]) -> CmdResult {
    use flow::flow_str::{parse_ofp_str, FlowStrKind};
    use openflow::nx_match::{decode_ofp10_match, decode_ofp11_match, encode_ofp10_match};
    let hex = |s: &str| u16::from_str_radix(s.trim_start_matches("0x"), 16).unwrap_or(0);
    let mut m = flow::Match::catchall();
    m.flow.vlans[0].tci = hex(&args[0]);
    m.wc.vlans[0].tci = hex(&args[1]);

    let text = m.format(0x8000);
    let parsed = parse_ofp_str(&text, FlowStrKind::FlowStats, None).map_err(Fatal)?;
    println!("{text} -> {}", tci(&parsed.match_));

    let nxm = put_nxm_cookie(&m, NxmCookie::default());
    let back = pull_entries_cookie(&nxm, false, &mut NxmCookie::default());
    let result = back.map_or_else(|e| e.name().to_string(), |b| tci(&b));
    println!("NXM: {} -> {result}", nxm_to_string(&nxm));

    let oxm = put_oxm(&m, 3);
    let result = match pull_oxm(&mut Reader::new(&oxm), false) {
        Err(e) => e.name().to_string(),
        Ok(b) => {
            let vid = b.flow.vlans[0].tci & 0x1fff;
            let mask = b.wc.vlans[0].tci & 0x1fff;
            let pcp = if vid != 0 && b.wc.vlans[0].tci >> 13 != 0 {
                format!("{:02}", b.flow.vlans[0].tci >> 13)
            } else {
                "--".to_string()
            };
            format!("{vid:04x}/{mask:04x},{pcp}")
        }
    };
    println!("OXM: {} -> {result}", oxm_to_string(&oxm));

    let mut of10 = Vec::new();
    encode_ofp10_match(&m, &mut of10);
    let wc10 = u32::from_be_bytes([of10[0], of10[1], of10[2], of10[3]]);
    let back10 = decode_ofp10_match(&of10).map_err(|e| Fatal(e.name().to_string()))?;
    println!(
        "OF1.0: {:04x}/{},{:02}/{} -> {}",
        u16::from_be_bytes([of10[18], of10[19]]),
        u8::from(wc10 & (1 << 1) != 0),
        of10[20],
        u8::from(wc10 & (1 << 20) != 0),
        tci(&back10)
    );

    let of11 = put_oxm(&m, 2);
    let wc11 = u32::from_be_bytes([of11[8], of11[9], of11[10], of11[11]]);
    let back11 = decode_ofp11_match(&of11).map_err(|e| Fatal(e.name().to_string()))?;
    println!(
        "OF1.1: {:04x}/{},{:02}/{} -> {}",
        u16::from_be_bytes([of11[36], of11[37]]),
        u8::from(wc11 & 2 != 0),
        of11[38],
        u8::from(wc11 & 4 != 0),
        tci(&back11)
    );
    Ok(())
}

/// Reads stdin as ovs-ofctl's test commands do (`ds_get_preprocessed_line`):
/// comments and blank lines dropped.
fn preprocessed_stdin() -> Result<Vec<String>, Fatal> {
    let mut text = String::new();
    std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)
        .map_err(|e| Fatal(format!("read failed: {e}")))?;
    Ok(flow::flow_str::preprocessed_lines(&text)
        .map(|(_, l)| l.trim().to_string())
        .collect())
}

/// Hex bytes of one test line (whitespace between bytes allowed), or
/// upstream's complaint about text after them.
fn test_line_bytes(line: &str) -> Result<Vec<u8>, Fatal> {
    let mut out = Vec::new();
    let mut digits = line.chars().filter(|c| !c.is_whitespace());
    loop {
        match (digits.next(), digits.next()) {
            (None, _) => return Ok(out),
            (Some(h), Some(l)) if h.is_ascii_hexdigit() && l.is_ascii_hexdigit() => {
                let v = h.to_digit(16).unwrap_or(0) * 16 + l.to_digit(16).unwrap_or(0);
                out.push(v as u8);
            }
            _ => return Err(Fatal("Trailing garbage in hex data".into())),
        }
    }
}

/// Upstream's `print_differences`: one line per differing byte.
fn print_differences(prefix: &str, a: &[u8], b: &[u8]) {
    if a.len() != b.len() {
        println!("{prefix}size {} -> {}", a.len(), b.len());
    }
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        if x != y {
            println!("{prefix}{i:2}: {x:02x} -> {y:02x}");
        }
    }
}

/// `match_print`: the match text at the default priority.
fn print_match(m: &flow::Match) {
    println!("{m}");
}

/// `parse-ofp10-match`: each stdin line is an `ofp10_match` in hex, `x`
/// standing for a don't-care nibble (read as 0). Prints the decoded match,
/// the bytes that change when it is encoded again, and those that change
/// when the match is also normalized.
pub fn parse_ofp10_match(_: &Options, _: &[String]) -> CmdResult {
    use openflow::nx_match::{decode_ofp10_match, encode_ofp10_match};
    for line in preprocessed_stdin()? {
        let bytes = test_line_bytes(&line.replace('x', "0"))?;
        if bytes.len() != 40 {
            return Err(Fatal(format!(
                "Input is {} bytes, expected {}",
                bytes.len(),
                40
            )));
        }
        let mut m = decode_ofp10_match(&bytes).map_err(|e| Fatal(e.name().to_string()))?;
        print_match(&m);
        let mut out = Vec::with_capacity(40);
        encode_ofp10_match(&m, &mut out);
        print_differences("", &bytes, &out);
        if let Some((pre, post)) = m.normalize() {
            super::flow_cmd::log_normalization(&pre, &post);
        }
        let mut normal = Vec::with_capacity(40);
        encode_ofp10_match(&m, &mut normal);
        print_differences("normal: ", &out, &normal);
        println!();
    }
    Ok(())
}

/// `parse-ofp11-match`: each stdin line is an `ofp11_match` (standard
/// match) in hex. Prints the decoded match (or the error upstream would
/// send) and the bytes that change when it is encoded again.
pub fn parse_ofp11_match(_: &Options, _: &[String]) -> CmdResult {
    use openflow::nx_match::{encode_ofp11_match, pull_ofp11_match};
    for line in preprocessed_stdin()? {
        let bytes = test_line_bytes(&line)?;
        if bytes.len() != 88 {
            return Err(Fatal(format!(
                "Input is {} bytes, expected {}",
                bytes.len(),
                88
            )));
        }
        let m = match pull_ofp11_match(&mut Reader::new(&bytes), false) {
            Ok(m) => m,
            Err(e) => {
                println!("bad ofp11_match: {}\n", e.name());
                continue;
            }
        };
        print_match(&m);
        let mut out = Vec::with_capacity(88);
        encode_ofp11_match(&m, &mut out);
        print_differences("", &bytes, &out);
        println!();
    }
    Ok(())
}
