//! Finding JSON texts in a byte stream.
//!
//! OVSDB's JSON-RPC (RFC 7047 §4) has no length prefix and no delimiter:
//! messages are JSON objects written back to back, optionally separated by
//! whitespace. [`Framer`] accepts bytes as they arrive, in pieces of any
//! size, scans each byte once to find where a top-level object or array ends
//! (tracking nesting, strings and escapes), and then parses just that text.
//!
//! It is bounded: a text longer than the configured maximum is an error, as
//! is anything at top level that is not `{` or `[`. After an error the framer
//! refuses further input; the caller closes the connection.

use serde_json::Value;

/// The largest message accepted unless configured otherwise. Big enough for
/// any real OVSDB transaction or monitor reply (upstream has no limit), small
/// enough that a hostile peer cannot exhaust memory.
pub const DEFAULT_MAX_MESSAGE: usize = 128 << 20;

/// Why the byte stream cannot be read as JSON texts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    #[error("syntax error at beginning of input")]
    NotObjectOrArray,
    #[error("message exceeds maximum length of {max} bytes")]
    TooLong { max: usize },
    #[error("{0}")]
    Syntax(String),
    #[error("input ended inside a JSON text")]
    Truncated,
}

/// Incremental splitter of a byte stream into JSON values.
#[derive(Debug)]
pub struct Framer {
    buf: Vec<u8>,
    /// Start of the text being scanned (bytes before it are consumed).
    start: usize,
    /// Next byte to scan.
    scan: usize,
    depth: usize,
    in_string: bool,
    escape: bool,
    max: usize,
    failed: Option<FrameError>,
    /// End of the previous text: upstream counts error positions from here.
    origin: usize,
    /// Start of a bare word at top level (`garbage`), reported as an
    /// invalid keyword once it ends, as upstream's lexer does.
    word: Option<usize>,
}

impl Default for Framer {
    fn default() -> Self {
        Framer::new(DEFAULT_MAX_MESSAGE)
    }
}

impl Framer {
    /// A framer that refuses texts longer than `max` bytes.
    pub fn new(max: usize) -> Framer {
        Framer {
            buf: Vec::new(),
            start: 0,
            scan: 0,
            depth: 0,
            in_string: false,
            escape: false,
            max,
            failed: None,
            origin: 0,
            word: None,
        }
    }

    /// Appends received bytes.
    pub fn push(&mut self, bytes: &[u8]) {
        if self.failed.is_some() {
            return;
        }
        if self.start > 0 && self.start >= self.buf.len() / 2 {
            let shift = self.start.min(self.origin);
            self.buf.drain(..shift);
            self.scan -= shift;
            self.start -= shift;
            self.origin -= shift;
            self.word = self.word.map(|w| w - shift);
        }
        self.buf.extend_from_slice(bytes);
    }

    /// True when bytes of an unfinished text (not just whitespace) are held.
    pub fn has_partial(&self) -> bool {
        self.buf[self.start..]
            .iter()
            .any(|b| !b.is_ascii_whitespace())
    }

    /// What to report when the stream ends: `Truncated` if a text was cut
    /// off, nothing if the stream ended between texts.
    pub fn finish(&self) -> Result<(), FrameError> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        if self.has_partial() {
            Err(FrameError::Truncated)
        } else {
            Ok(())
        }
    }

    /// The next complete value, `Ok(None)` if more bytes are needed.
    pub fn next_value(&mut self) -> Result<Option<Value>, FrameError> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        match self.scan_to_end() {
            Ok(Some(end)) => {
                let text = &self.buf[self.start..end];
                let parsed = serde_json::from_slice::<Value>(text);
                self.start = end;
                self.scan = end;
                self.origin = end;
                match parsed {
                    Ok(v) => Ok(Some(v)),
                    Err(e) => Err(self.fail(FrameError::Syntax(e.to_string()))),
                }
            }
            Ok(None) => Ok(None),
            Err(e) => Err(self.fail(e)),
        }
    }

    fn fail(&mut self, e: FrameError) -> FrameError {
        self.failed = Some(e.clone());
        self.buf = Vec::new();
        self.start = 0;
        self.scan = 0;
        e
    }

    /// The error for a bare word at top level spanning `start..end`.
    fn bad_word(&self, start: usize, end: usize) -> FrameError {
        let word = String::from_utf8_lossy(&self.buf[start..end]).into_owned();
        let first = word.as_bytes().first().copied().unwrap_or(b'0');
        if matches!(word.as_str(), "true" | "false" | "null")
            || first.is_ascii_digit()
            || first == b'-'
        {
            return FrameError::NotObjectOrArray;
        }
        let before = &self.buf[self.origin..end];
        let line = before.iter().filter(|&&b| b == b'\n').count();
        let column = before.iter().rev().take_while(|&&b| b != b'\n').count();
        FrameError::Syntax(format!(
            "line {line}, column {column}, byte {}: invalid keyword '{word}'",
            end - self.origin
        ))
    }

    /// Advances the scan; returns the end offset of a complete text.
    fn scan_to_end(&mut self) -> Result<Option<usize>, FrameError> {
        while self.scan < self.buf.len() {
            let b = self.buf[self.scan];
            self.scan += 1;
            if self.depth == 0 {
                let wordish = b.is_ascii_alphanumeric() || matches!(b, b'-' | b'+' | b'.');
                if let Some(w) = self.word {
                    if wordish {
                        continue;
                    }
                    return Err(self.bad_word(w, self.scan - 1));
                }
                if wordish {
                    self.word = Some(self.scan - 1);
                    continue;
                }
                // Between texts: skip whitespace, then expect { or [.
                if b.is_ascii_whitespace() {
                    self.start = self.scan;
                    continue;
                }
                if b != b'{' && b != b'[' {
                    return Err(FrameError::NotObjectOrArray);
                }
                self.depth = 1;
                continue;
            }
            if self.in_string {
                if self.escape {
                    self.escape = false;
                } else if b == b'\\' {
                    self.escape = true;
                } else if b == b'"' {
                    self.in_string = false;
                }
            } else {
                match b {
                    b'"' => self.in_string = true,
                    b'{' | b'[' => self.depth += 1,
                    b'}' | b']' => {
                        self.depth -= 1;
                        if self.depth == 0 {
                            return Ok(Some(self.scan));
                        }
                    }
                    _ => {}
                }
            }
            if self.scan - self.start > self.max {
                return Err(FrameError::TooLong { max: self.max });
            }
        }
        if self.depth > 0 && self.scan - self.start > self.max {
            return Err(FrameError::TooLong { max: self.max });
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn drain(f: &mut Framer) -> Result<Vec<Value>, FrameError> {
        let mut out = Vec::new();
        while let Some(v) = f.next_value()? {
            out.push(v);
        }
        Ok(out)
    }

    #[test]
    fn concatenated_objects() {
        let mut f = Framer::default();
        f.push(br#"{"id":1,"method":"echo","params":[]} {"a":"}"}[1,[2]]"#);
        assert_eq!(
            drain(&mut f).unwrap(),
            vec![
                json!({"id":1,"method":"echo","params":[]}),
                json!({"a":"}"}),
                json!([1, [2]])
            ]
        );
        assert_eq!(f.finish(), Ok(()));
    }

    #[test]
    fn split_at_every_byte() {
        let text = br#"{"s":"a\"b\\","n":[1,{"x":null}]}
{"t":true}"#;
        let mut f = Framer::default();
        let mut got = Vec::new();
        for b in text.iter() {
            f.push(std::slice::from_ref(b));
            got.extend(drain(&mut f).unwrap());
        }
        assert_eq!(
            got,
            vec![json!({"s":"a\"b\\","n":[1,{"x":null}]}), json!({"t":true})]
        );
    }

    #[test]
    fn partial_text_is_truncated_at_end() {
        let mut f = Framer::default();
        f.push(b"{\"a\":");
        assert_eq!(f.next_value(), Ok(None));
        assert_eq!(f.finish(), Err(FrameError::Truncated));
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        for input in [
            &b"garbage "[..],
            b"5 ",
            b"true{}",
            b"\"str\"",
            b"{]",
            b"{\"a\" 1}",
            b"{\"a\":\xff}",
            b"}",
            b"[1,]",
        ] {
            let mut f = Framer::default();
            f.push(input);
            assert!(f.next_value().is_err(), "{input:?} accepted");
            // Stays failed.
            f.push(b"{}");
            assert!(f.next_value().is_err());
        }
    }

    #[test]
    fn bare_words_like_upstream() {
        let mut f = Framer::default();
        f.push(b"garbage");
        assert_eq!(f.next_value(), Ok(None));
        assert_eq!(f.finish(), Err(FrameError::Truncated));
        f.push(b" ");
        assert_eq!(
            f.next_value(),
            Err(FrameError::Syntax(
                "line 0, column 7, byte 7: invalid keyword 'garbage'".into()
            ))
        );
        let mut f = Framer::default();
        f.push(b"{} \n xy{");
        assert!(f.next_value().unwrap().is_some());
        assert_eq!(
            f.next_value(),
            Err(FrameError::Syntax(
                "line 1, column 3, byte 5: invalid keyword 'xy'".into()
            ))
        );
    }

    #[test]
    fn too_long_is_refused() {
        let mut f = Framer::new(16);
        f.push(b"{\"a\":\"0123456789");
        assert_eq!(f.next_value(), Ok(None));
        f.push(b"0123456789\"}");
        assert_eq!(f.next_value(), Err(FrameError::TooLong { max: 16 }));
        // Short messages around the limit pass.
        let mut f = Framer::new(16);
        f.push(b"{\"a\":\"0123456\"}{\"b\":1}");
        assert_eq!(drain(&mut f).unwrap().len(), 2);
    }

    #[test]
    fn deep_nesting_is_an_error() {
        let mut f = Framer::default();
        let mut s = "[".repeat(10_000);
        s.push_str(&"]".repeat(10_000));
        f.push(s.as_bytes());
        assert!(f.next_value().is_err());
    }

    #[test]
    fn buffer_is_compacted() {
        let mut f = Framer::default();
        for _ in 0..10_000 {
            f.push(b"{\"id\":1} ");
            assert!(f.next_value().unwrap().is_some());
        }
        assert!(f.buf.len() < 1000);
    }
}
