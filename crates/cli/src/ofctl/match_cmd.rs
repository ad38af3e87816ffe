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
