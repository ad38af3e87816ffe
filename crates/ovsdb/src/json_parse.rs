//! A JSON parser with OVS's number rules and error messages.
//!
//! Errors read like upstream's: `line L, column C, byte B: MESSAGE`, with
//! 0-based positions counted the way OVS's incremental parser counts them.
//! Nesting is limited to 1000 levels, as upstream limits it.

use serde_json::{Map, Number, Value};

const MAX_DEPTH: usize = 1000;

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Begin(u8), // '[' '{'
    End(u8),   // ']' '}'
    Colon,
    Comma,
    Value(Value),
    Str(String),
}

struct Lexer<'a> {
    s: &'a [u8],
    pos: usize,
    line: usize,
    column: usize,
    /// Where the last token was completed, as OVS reports parse errors.
    done_at: (usize, usize, usize),
}

struct Failure {
    byte: usize,
    line: usize,
    column: usize,
    msg: String,
}

impl<'a> Lexer<'a> {
    fn fail<T>(
        &self,
        byte: usize,
        line: usize,
        column: usize,
        msg: impl Into<String>,
    ) -> Result<T, Failure> {
        Err(Failure {
            byte,
            line,
            column,
            msg: msg.into(),
        })
    }

    /// Consumes one byte, tracking line and column.
    fn bump(&mut self) {
        if let Some(&c) = self.s.get(self.pos) {
            if c == b'\n' {
                self.line += 1;
                self.column = 0;
            } else {
                self.column += 1;
            }
        }
        self.pos += 1;
    }

    /// Position of an error noticed at the terminator of a multi-byte token:
    /// at end of input OVS has consumed one virtual byte.
    fn at_terminator(&self) -> (usize, usize, usize) {
        (self.pos, self.line, self.column)
    }

    /// The next token, `None` at end of input. `virtual_end` is set when a
    /// token was finished by the end of input.
    fn next(&mut self, virtual_end: &mut bool) -> Result<Option<Token>, Failure> {
        while let Some(&c) = self.s.get(self.pos) {
            if matches!(c, b' ' | b'\t' | b'\n' | b'\r') {
                self.bump();
            } else {
                break;
            }
        }
        let Some(&c) = self.s.get(self.pos) else {
            return Ok(None);
        };
        self.done_at = (self.pos, self.line, self.column);
        let single = |t: Token, me: &mut Self| {
            me.bump();
            Ok(Some(t))
        };
        match c {
            b'[' | b'{' => single(Token::Begin(c), self),
            b']' | b'}' => single(Token::End(c), self),
            b':' => single(Token::Colon, self),
            b',' => single(Token::Comma, self),
            b'"' => self.string().map(|s| Some(Token::Str(s))),
            b'-' | b'0'..=b'9' => {
                let start = self.pos;
                while let Some(&d) = self.s.get(self.pos) {
                    if d.is_ascii_digit() || matches!(d, b'-' | b'+' | b'.' | b'e' | b'E') {
                        self.bump();
                    } else {
                        break;
                    }
                }
                let end = self.pos >= self.s.len();
                let (b, l, col) = self.at_terminator();
                self.done_at = (b, l, col);
                let text = std::str::from_utf8(&self.s[start..self.pos]).unwrap_or("");
                let v = number(text).or_else(|m| self.fail(b, l, col, m))?;
                if end {
                    *virtual_end = true;
                    self.column += 1;
                    self.pos += 1;
                }
                Ok(Some(Token::Value(v)))
            }
            c if c.is_ascii_alphabetic() => {
                let start = self.pos;
                while self
                    .s
                    .get(self.pos)
                    .is_some_and(|d| d.is_ascii_alphabetic())
                {
                    self.bump();
                }
                let end = self.pos >= self.s.len();
                let (b, l, col) = self.at_terminator();
                self.done_at = (b, l, col);
                let word = String::from_utf8_lossy(&self.s[start..self.pos]).into_owned();
                let v = match word.as_str() {
                    "true" => Value::Bool(true),
                    "false" => Value::Bool(false),
                    "null" => Value::Null,
                    _ => return self.fail(b, l, col, format!("invalid keyword '{word}'")),
                };
                if end {
                    *virtual_end = true;
                    self.column += 1;
                    self.pos += 1;
                }
                Ok(Some(Token::Value(v)))
            }
            c => {
                let (b, l, col) = (self.pos, self.line, self.column);
                if c.is_ascii_graphic() {
                    self.fail(b, l, col, format!("invalid character '{}'", c as char))
                } else {
                    self.fail(b, l, col, format!("invalid character U+{c:04x}"))
                }
            }
        }
    }

    fn string(&mut self) -> Result<String, Failure> {
        self.bump(); // opening quote
        let start = self.pos;
        let mut escaped = false;
        loop {
            let Some(&c) = self.s.get(self.pos) else {
                return self.fail(
                    self.pos,
                    self.line,
                    self.column,
                    "unexpected end of input in quoted string",
                );
            };
            self.done_at = (self.pos, self.line, self.column);
            self.bump();
            if escaped {
                escaped = false;
            } else if c == b'\\' {
                escaped = true;
            } else if c == b'"' {
                break;
            }
        }
        let (b, l, col) = (self.pos, self.line, self.column);
        let raw = &self.s[start..self.pos - 1];
        let Ok(raw) = std::str::from_utf8(raw) else {
            return self.fail(b, l, col, "invalid UTF-8 in quoted string");
        };
        let mut out = String::with_capacity(raw.len());
        let mut chars = raw.chars();
        while let Some(c) = chars.next() {
            if c == '\\' {
                let Some(e) = chars.next() else { break };
                match e {
                    '"' | '\\' | '/' => out.push(e),
                    'b' => out.push('\u{8}'),
                    'f' => out.push('\u{c}'),
                    'n' => out.push('\n'),
                    'r' => out.push('\r'),
                    't' => out.push('\t'),
                    'u' => {
                        let mut code = hex4(&mut chars).ok_or(()).or_else(|_| {
                            self.fail(b, l, col, "quoted string ends within \\u escape")
                        })?;
                        if (0xd800..0xdc00).contains(&code) {
                            let mut look = chars.clone();
                            let lo = if look.next() == Some('\\') && look.next() == Some('u') {
                                hex4(&mut look)
                            } else {
                                None
                            };
                            match lo {
                                Some(lo) if (0xdc00..0xe000).contains(&lo) => {
                                    chars = look;
                                    code = 0x10000 + ((code - 0xd800) << 10) + (lo - 0xdc00);
                                }
                                _ => {
                                    return self.fail(b, l, col, "malformed escaped surrogate pair")
                                }
                            }
                        }
                        if code == 0 {
                            return self.fail(
                                b,
                                l,
                                col,
                                "null bytes not supported in quoted strings",
                            );
                        }
                        match char::from_u32(code) {
                            Some(ch) => out.push(ch),
                            None => return self.fail(b, l, col, "invalid UTF-16 surrogate"),
                        }
                    }
                    other => return self.fail(b, l, col, format!("bad escape \\{other}")),
                }
            } else if (c as u32) < 0x20 {
                return self.fail(
                    b,
                    l,
                    col,
                    format!("U+{:04X} must be escaped in quoted string", c as u32),
                );
            } else {
                out.push(c);
            }
        }
        Ok(out)
    }
}

fn hex4(chars: &mut std::str::Chars<'_>) -> Option<u32> {
    let mut v = 0;
    for _ in 0..4 {
        v = v * 16 + chars.next()?.to_digit(16)?;
    }
    Some(v)
}

/// Converts number text with OVS's rules: whole numbers in the signed
/// 64-bit range are integers, everything else is a real.
fn number(text: &str) -> Result<Value, String> {
    let b = text.as_bytes();
    let mut i = 0;
    let neg = b.first() == Some(&b'-');
    if neg {
        i += 1;
    }
    if !b.get(i).is_some_and(u8::is_ascii_digit) {
        return Err("'-' must be followed by digit".into());
    }
    if b[i] == b'0' && b.get(i + 1).is_some_and(u8::is_ascii_digit) {
        return Err("leading zeros not allowed".into());
    }
    let mut digits = String::new();
    while b.get(i).is_some_and(u8::is_ascii_digit) {
        digits.push(b[i] as char);
        i += 1;
    }
    let mut exp: i64 = 0;
    if b.get(i) == Some(&b'.') {
        i += 1;
        if !b.get(i).is_some_and(u8::is_ascii_digit) {
            return Err("decimal point must be followed by digit".into());
        }
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            digits.push(b[i] as char);
            exp -= 1;
            i += 1;
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        let mut eneg = false;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            eneg = b[i] == b'-';
            i += 1;
        }
        if !b.get(i).is_some_and(u8::is_ascii_digit) {
            return Err("exponent must contain at least one digit".into());
        }
        let mut e: i64 = 0;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            e = (e * 10 + (b[i] - b'0') as i64).min(1 << 40);
            i += 1;
        }
        exp += if eneg { -e } else { e };
    }
    if i != b.len() {
        return Err("syntax error in number".into());
    }
    // Try an exact integer.
    let sig = digits.trim_start_matches('0');
    let (sig, exp) = {
        let trimmed = sig.trim_end_matches('0');
        let zeros = (sig.len() - trimmed.len()) as i64;
        (trimmed, exp + zeros)
    };
    if sig.is_empty() {
        return Ok(Value::Number(0.into()));
    }
    if exp >= 0 && (sig.len() as i64 + exp) <= 19 {
        let mut s = sig.to_string();
        s.extend(std::iter::repeat_n('0', exp as usize));
        if let Ok(u) = s.parse::<u64>() {
            if neg && u <= 1u64 << 63 {
                return Ok(Value::Number(Number::from((u as i64).wrapping_neg())));
            }
            if !neg && u <= i64::MAX as u64 {
                return Ok(Value::Number(Number::from(u as i64)));
            }
        }
    }
    let f: f64 = text
        .parse()
        .map_err(|_| "number outside valid range".to_string())?;
    if !f.is_finite() {
        return Err("number outside valid range".into());
    }
    Ok(crate::json::real(f))
}

/// Parses one JSON value from `text`.
pub fn parse(text: &str) -> Result<Value, String> {
    let mut lx = Lexer {
        s: text.as_bytes(),
        pos: 0,
        line: 0,
        column: 0,
        done_at: (0, 0, 0),
    };
    let mut virtual_end = false;
    let wrap = |f: Failure| {
        format!(
            "line {}, column {}, byte {}: {}",
            f.line, f.column, f.byte, f.msg
        )
    };
    enum Frame {
        Array(Vec<Value>, bool), // items, expecting value (after '[' or ',')
        Object(Map<String, Value>, Option<String>, u8), // state 0: key/'}', 1: ':', 2: value, 3: ','/'}'
    }
    let mut stack: Vec<Frame> = Vec::new();
    let mut result: Option<Value> = None;
    let mut any = false;
    loop {
        let tok = lx.next(&mut virtual_end).map_err(wrap)?;
        let tok_start = lx.done_at;
        let Some(tok) = tok else {
            if result.is_some() && stack.is_empty() {
                return result.ok_or_else(String::new);
            }
            let msg = if any {
                "unexpected end of input"
            } else {
                "empty input stream"
            };
            return Err(format!(
                "line {}, column {}, byte {}: {msg}",
                lx.line, lx.column, lx.pos
            ));
        };
        any = true;
        let err = |m: &str| {
            format!(
                "line {}, column {}, byte {}: {m}",
                tok_start.1, tok_start.2, tok_start.0
            )
        };
        if result.is_some() {
            return Err(err("trailing garbage at end of input"));
        }
        // A complete value produced by this token, if any.
        let mut value: Option<Value> = None;
        match (stack.last_mut(), tok) {
            (Some(Frame::Object(map, key, state)), t) if *state != 2 => match (*state, t) {
                (0, Token::Str(s)) => {
                    *key = Some(s);
                    *state = 1;
                }
                (0, Token::End(b'}')) if map.is_empty() => {
                    if let Some(Frame::Object(m, _, _)) = stack.pop() {
                        value = Some(Value::Object(m));
                    }
                }
                (0, _) => return Err(err("syntax error parsing object expecting string")),
                (1, Token::Colon) => *state = 2,
                (1, _) => return Err(err("syntax error parsing object expecting ':'")),
                (_, Token::Comma) => *state = 0,
                (_, Token::End(b'}')) => {
                    if let Some(Frame::Object(m, _, _)) = stack.pop() {
                        value = Some(Value::Object(m));
                    }
                }
                _ => return Err(err("syntax error expecting '}' or ','")),
            },
            (Some(Frame::Array(items, expecting)), t) if !*expecting => match t {
                Token::Comma => *expecting = true,
                Token::End(b']') => {
                    if let Some(Frame::Array(v, _)) = stack.pop() {
                        value = Some(Value::Array(v));
                    }
                }
                _ => {
                    let _ = items;
                    return Err(err("syntax error expecting ']' or ','"));
                }
            },
            (top, t) => match t {
                Token::Begin(c) => {
                    if stack.len() >= MAX_DEPTH {
                        return Err(err(&format!(
                            "input exceeds maximum nesting depth {MAX_DEPTH}"
                        )));
                    }
                    stack.push(if c == b'[' {
                        Frame::Array(Vec::new(), true)
                    } else {
                        Frame::Object(Map::new(), None, 0)
                    });
                }
                Token::End(b']') if matches!(top, Some(Frame::Array(v, true)) if v.is_empty()) => {
                    stack.pop();
                    value = Some(Value::Array(Vec::new()));
                }
                Token::Value(v) => value = Some(v),
                Token::Str(s) => value = Some(Value::String(s)),
                _ => return Err(err("syntax error expecting value")),
            },
        }
        // Deliver completed values upward.
        while let Some(v) = value.take() {
            match stack.last_mut() {
                None => result = Some(v),
                Some(Frame::Array(items, expecting)) => {
                    items.push(v);
                    *expecting = false;
                }
                Some(Frame::Object(map, key, state)) => {
                    if let Some(k) = key.take() {
                        map.insert(k, v);
                    }
                    *state = 3;
                }
            }
        }
        if virtual_end && result.is_none() {
            return Err(format!(
                "line {}, column {}, byte {}: unexpected end of input",
                lx.line, lx.column, lx.pos
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn e(s: &str) -> String {
        parse(s).unwrap_err()
    }

    #[test]
    fn values() {
        assert_eq!(
            parse(r#" {"a": [1, 2.5, -3, true, null, "x\n\u00e9"]} "#).unwrap(),
            json!({"a": [1, 2.5, -3, true, null, "x\né"]})
        );
        assert_eq!(parse("2.0").unwrap(), json!(2));
        assert_eq!(parse("1e3").unwrap(), json!(1000));
        assert_eq!(parse("-9223372036854775808").unwrap(), json!(i64::MIN));
        assert!(parse("9223372036854775808").unwrap().as_f64().is_some());
        assert_eq!(parse("\"\\ud83d\\ude00\"").unwrap(), json!("😀"));
        assert_eq!(parse("[]").unwrap(), json!([]));
        assert_eq!(parse("{}").unwrap(), json!({}));
    }

    #[test]
    fn upstream_error_messages() {
        assert_eq!(e("[1"), "line 0, column 3, byte 3: unexpected end of input");
        assert_eq!(e("[1]x"), "line 0, column 4, byte 4: invalid keyword 'x'");
        assert_eq!(e(""), "line 0, column 0, byte 0: empty input stream");
        assert_eq!(
            e("\"abc"),
            "line 0, column 4, byte 4: unexpected end of input in quoted string"
        );
        assert_eq!(
            e("[01]"),
            "line 0, column 3, byte 3: leading zeros not allowed"
        );
        assert_eq!(
            e("{\"a\" 1}"),
            "line 0, column 6, byte 6: syntax error parsing object expecting ':'"
        );
        assert_eq!(e("tru"), "line 0, column 3, byte 3: invalid keyword 'tru'");
        assert_eq!(
            e("[1,]"),
            "line 0, column 3, byte 3: syntax error expecting value"
        );
        assert_eq!(
            e("[1\n"),
            "line 1, column 0, byte 3: unexpected end of input"
        );
        assert_eq!(
            e("1e400"),
            "line 0, column 6, byte 6: number outside valid range"
                .replace("column 6, byte 6", "column 5, byte 5")
        );
    }

    #[test]
    fn deep_nesting_is_refused() {
        let s = "[".repeat(5000);
        assert!(e(&s).contains("maximum nesting depth"));
    }
}
