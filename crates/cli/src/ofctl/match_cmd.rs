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
