//! Rendering log lines from patterns, times, and hex dumps.

use crate::Level;
use std::time::{SystemTime, UNIX_EPOCH};

/// Formats the current time with a strftime format, in UTC when `utc`,
/// otherwise local time. `###` in the format becomes milliseconds, as in OVS.
pub fn format_time(fmt: &str, utc: bool) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    format_time_at(fmt, now.as_secs() as i64, now.subsec_millis(), utc)
}

fn format_time_at(fmt: &str, secs: i64, millis: u32, utc: bool) -> String {
    let fmt = fmt.replace("###", &format!("{millis:03}"));
    let Ok(cfmt) = std::ffi::CString::new(fmt) else {
        return String::new();
    };
    let t = secs as libc::time_t;
    // SAFETY: tm is plain old data filled by gmtime_r/localtime_r from a valid
    // time_t; strftime writes at most buf.len() bytes into buf.
    unsafe {
        let mut tm: libc::tm = std::mem::zeroed();
        if utc {
            libc::gmtime_r(&t, &mut tm);
        } else {
            libc::localtime_r(&t, &mut tm);
        }
        let mut buf = [0u8; 256];
        let n = libc::strftime(buf.as_mut_ptr().cast(), buf.len(), cfmt.as_ptr(), &tm);
        String::from_utf8_lossy(&buf[..n]).into_owned()
    }
}

fn thread_name() -> String {
    std::thread::current().name().unwrap_or("main").to_string()
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_default()
}

/// Renders one log line from `pattern`.
pub(crate) fn render(
    pattern: &str,
    program: &str,
    module: &str,
    level: Level,
    seq: u32,
    message: &str,
) -> String {
    let mut out = String::new();
    let mut chars = pattern.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let mut left = false;
        let mut zero = false;
        let mut width = 0usize;
        if chars.peek() == Some(&'-') {
            left = true;
            chars.next();
        }
        if chars.peek() == Some(&'0') {
            zero = true;
            chars.next();
        }
        while let Some(d) = chars.peek().and_then(|c| c.to_digit(10)) {
            width = width * 10 + d as usize;
            chars.next();
        }
        let Some(esc) = chars.next() else { break };
        let mut braced = || -> Option<String> {
            if chars.peek() == Some(&'{') {
                chars.next();
                let mut s = String::new();
                for c in chars.by_ref() {
                    if c == '}' {
                        break;
                    }
                    s.push(c);
                }
                Some(s)
            } else {
                None
            }
        };
        let field = match esc {
            'A' => program.to_string(),
            'B' => (level.syslog_priority() + 8).to_string(),
            'c' => module.to_string(),
            'd' => format_time(&braced().unwrap_or("%Y-%m-%d %H:%M:%S.###".into()), false),
            'D' => format_time(&braced().unwrap_or("%Y-%m-%d %H:%M:%S.###".into()), true),
            'E' => hostname(),
            'm' => message.to_string(),
            'N' => seq.to_string(),
            'n' => "\n".to_string(),
            'p' => level.upper().to_string(),
            'P' => std::process::id().to_string(),
            't' => thread_name(),
            'T' => {
                let t = thread_name();
                if t == "main" {
                    String::new()
                } else {
                    format!("({t})")
                }
            }
            '%' => "%".to_string(),
            other => format!("%{other}"),
        };
        let len = field.chars().count();
        if len >= width {
            out.push_str(&field);
        } else if left {
            out.push_str(&field);
            out.extend(std::iter::repeat(' ').take(width - len));
        } else {
            let pad = if zero { '0' } else { ' ' };
            out.extend(std::iter::repeat(pad).take(width - len));
            out.push_str(&field);
        }
    }
    out
}

/// Dumps `data` 16 bytes a line, as OVS does: an 8-digit hex offset (counting
/// from `ofs`), the bytes in hex with `-` between the two halves, and with
/// `ascii` the printable characters between bars. Every line ends in `\n`.
pub fn hex_dump(data: &[u8], ofs: usize, ascii: bool) -> String {
    const PER_LINE: usize = 16;
    let mut out = String::new();
    let mut ofs = ofs;
    let mut rest = data;
    while !rest.is_empty() {
        let start = ofs % PER_LINE;
        let end = (start + rest.len()).min(PER_LINE);
        let n = end - start;
        let mut line = format!("{:08x}  ", ofs - start);
        for _ in 0..start {
            line.push_str("   ");
        }
        for (i, b) in rest[..n].iter().enumerate() {
            let pos = start + i;
            line.push_str(&format!(
                "{b:02x}{}",
                if pos == PER_LINE / 2 - 1 { '-' } else { ' ' }
            ));
        }
        if ascii {
            for _ in end..PER_LINE {
                line.push_str("   ");
            }
            line.push('|');
            for _ in 0..start {
                line.push(' ');
            }
            for b in &rest[..n] {
                line.push(if (0x20..0x7f).contains(b) {
                    *b as char
                } else {
                    '.'
                });
            }
            for _ in end..PER_LINE {
                line.push(' ');
            }
            line.push('|');
        } else {
            while line.ends_with(' ') {
                line.pop();
            }
        }
        out.push_str(&line);
        out.push('\n');
        ofs += n;
        rest = &rest[n..];
    }
    out
}

/// Dumps `data` as OVS's stdio hex dump does (used by tools writing to a
/// file rather than a log): 16 bytes a line, no ASCII column, separators
/// only between bytes (`-` between the two halves).
pub fn hex_dump_plain(data: &[u8], ofs: usize) -> String {
    let mut out = String::new();
    for (n, chunk) in data.chunks(16).enumerate() {
        out.push_str(&format!("{:08x}  ", ofs + n * 16));
        for (i, b) in chunk.iter().enumerate() {
            if i > 0 {
                out.push(if i == 8 { '-' } else { ' ' });
            }
            out.push_str(&format!("{b:02x}"));
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_dump_matches_upstream() {
        assert_eq!(
            hex_dump(&[0xaa, 0xbb], 0, true),
            "00000000  aa bb                                           |..              |\n"
        );
        let d: Vec<u8> = (0..17).map(|_| 0x41).collect();
        assert_eq!(
            hex_dump(&d, 0, true),
            "00000000  41 41 41 41 41 41 41 41-41 41 41 41 41 41 41 41 |AAAAAAAAAAAAAAAA|\n\
             00000010  41                                              |A               |\n"
        );
        let d = [
            0u8, 0x19, 0, 8, 0x80, 0, 0xfe, 0, 0, 0, 0, 0x10, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0,
        ];
        assert_eq!(
            hex_dump(&d, 0, false),
            "00000000  00 19 00 08 80 00 fe 00-00 00 00 10 00 00 00 01\n\
             00000010  00 00 00 00 00 00 00 00-\n"
        );
    }

    #[test]
    fn plain_hex_dump_matches_upstream() {
        let d: Vec<u8> = (0..24).collect();
        assert_eq!(
            hex_dump_plain(&d, 0),
            "00000000  00 01 02 03 04 05 06 07-08 09 0a 0b 0c 0d 0e 0f\n\
             00000010  10 11 12 13 14 15 16 17\n"
        );
    }

    #[test]
    fn renders_patterns() {
        let line = render("%c|%p|%m", "prog", "ofp_actions", Level::Warn, 7, "hi");
        assert_eq!(line, "ofp_actions|WARN|hi");
        assert_eq!(
            render("%05N|%-6p|", "p", "m", Level::Err, 42, ""),
            "00042|ERR   |"
        );
        assert_eq!(
            format_time_at("%Y-%m-%dT%H:%M:%S.###Z", 0, 5, true),
            "1970-01-01T00:00:00.005Z"
        );
    }
}
