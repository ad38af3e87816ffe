//! Offline ovs-ofctl commands that decode and encode raw OpenFlow messages:
//! `ofp-print`, `ofp-parse`, `encode-hello`, `encode-error-reply`,
//! `print-error`. The protocol work is the `openflow` crate's.

use super::options::Options;
use super::{CmdResult, Fatal};
use std::io::{Read, Write};

/// Upstream's `ofpbuf_put_hex`: pairs of hex digits, whitespace allowed
/// between bytes. Returns the bytes and whether text remained unparsed.
fn parse_hex(s: &str) -> (Vec<u8>, bool) {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len() / 2);
    let mut i = 0;
    loop {
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        let hex = |c: u8| (c as char).to_digit(16);
        match (
            b.get(i).and_then(|&c| hex(c)),
            b.get(i + 1).and_then(|&c| hex(c)),
        ) {
            (Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 2;
            }
            _ => return (out, i < b.len()),
        }
    }
}

/// C's `atoi`: optional sign and leading digits, else 0.
pub(super) fn atoi(s: &str) -> u32 {
    let t = s.trim_start();
    let t = t.strip_prefix('+').unwrap_or(t);
    let digits: String = t.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().unwrap_or(0)
}

/// C's `strtol(s, NULL, 0)` truncated to 32 bits.
fn strtol0(s: &str) -> u32 {
    let t = s.trim_start();
    let (radix, body) = if let Some(h) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        (16, h)
    } else if t.len() > 1 && t.starts_with('0') {
        (8, &t[1..])
    } else {
        (10, t)
    };
    let digits: String = body.chars().take_while(|c| c.is_digit(radix)).collect();
    u64::from_str_radix(&digits, radix).unwrap_or(0) as u32
}

fn write_out(s: &str) -> CmdResult {
    let mut out = std::io::stdout().lock();
    out.write_all(s.as_bytes())
        .and_then(|()| out.flush())
        .map_err(|e| Fatal(format!("write failed ({e})")))
}

/// `ofp-print HEX [VERBOSITY]` (or `ofp-print [VERBOSITY] -` reading the
/// hex from stdin).
pub fn ofp_print(_: &Options, args: &[String]) -> CmdResult {
    let mut verbosity = 2;
    let line;
    let buffer: &str = if args.last().map(String::as_str) == Some("-") {
        let mut l = String::new();
        std::io::stdin()
            .read_line(&mut l)
            .map_err(|_| Fatal("Failed to read stdin".into()))?;
        if args.len() > 1 {
            verbosity = atoi(&args[0]);
        }
        line = l.trim_end_matches('\n').to_string();
        &line
    } else {
        if args.len() > 1 {
            verbosity = atoi(&args[1]);
        }
        &args[0]
    };
    let (bytes, garbage) = parse_hex(buffer);
    if garbage {
        return Err(Fatal("trailing garbage following hex bytes".into()));
    }
    write_out(&openflow::print::ofp_to_string(&bytes, verbosity))
}

/// `encode-hello BITMAP`.
pub fn encode_hello(_: &Options, args: &[String]) -> CmdResult {
    let msg = openflow::encode_hello(strtol0(&args[0]));
    let mut s = openflow::wire::hex_dump(&msg, 0, false);
    s.push_str(&openflow::print::ofp_to_string(&msg, 0));
    write_out(&s)
}

/// `encode-error-reply ERROR REQUEST-HEX`.
pub fn encode_error_reply(_: &Options, args: &[String]) -> CmdResult {
    let error = openflow::OfpErr::from_name(&args[0])
        .ok_or_else(|| Fatal(format!("unknown error \"{}\"", args[0])))?;
    let (request, garbage) = parse_hex(&args[1]);
    if garbage {
        return Err(Fatal("Trailing garbage in hex data".into()));
    }
    if request.len() < 8 {
        return Err(Fatal("Request too short".into()));
    }
    if request.len() != usize::from(u16::from_be_bytes([request[2], request[3]])) {
        return Err(Fatal("Request size inconsistent".into()));
    }
    let reply = openflow::encode_error_reply(error, &request);
    write_out(&openflow::wire::hex_dump(&reply, 0, false))
}

/// `print-error ERROR`.
pub fn print_error(_: &Options, args: &[String]) -> CmdResult {
    let error = openflow::OfpErr::from_name(&args[0])
        .ok_or_else(|| Fatal(format!("unknown error \"{}\"", args[0])))?;
    write_out(&openflow::describe_encodings(error))
}

/// `ofp-parse FILE`: prints every message in a file of raw OpenFlow.
pub fn ofp_parse(opts: &Options, args: &[String]) -> CmdResult {
    let name = &args[0];
    let mut data = Vec::new();
    let read = if name == "-" {
        std::io::stdin().read_to_end(&mut data)
    } else {
        std::fs::File::open(name).and_then(|mut f| f.read_to_end(&mut data))
    };
    read.map_err(|e| Fatal(format!("{name}: open failed ({e})")))?;
    let mut rest = &data[..];
    while !rest.is_empty() {
        if rest.len() < 8 {
            return Err(Fatal(format!("{name}: unexpected end of file")));
        }
        let length = usize::from(u16::from_be_bytes([rest[2], rest[3]]));
        if length < 8 {
            return Err(Fatal(format!(
                "{name}: {length}-byte message is too short for OpenFlow"
            )));
        }
        if rest.len() < length {
            return Err(Fatal(format!("{name}: unexpected end of file")));
        }
        let (msg, tail) = rest.split_at(length);
        write_out(&openflow::print::ofp_to_string(msg, opts.verbosity + 2))?;
        rest = tail;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_parsing() {
        assert_eq!(parse_hex("01 02\n03"), (vec![1, 2, 3], false));
        assert_eq!(parse_hex("010"), (vec![1], true));
        assert_eq!(parse_hex(""), (vec![], false));
    }

    #[test]
    fn c_number_parsing() {
        assert_eq!(strtol0("0x1e"), 0x1e);
        assert_eq!(strtol0("010"), 8);
        assert_eq!(strtol0("12"), 12);
        assert_eq!(atoi("3"), 3);
        assert_eq!(atoi("x"), 0);
    }
}
