//! UUIDs as OVSDB uses them: 128-bit values printed in RFC 4122 text form,
//! generated at random (version 4) for new rows.

use std::fmt;

/// A UUID. Ordered by its bytes, which is also the order of its text form.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Uuid(pub [u8; 16]);

impl Uuid {
    /// The all-zeros UUID.
    pub const ZERO: Uuid = Uuid([0; 16]);

    /// A fresh random (version 4, RFC 4122 variant) UUID.
    pub fn random() -> Uuid {
        let mut b: [u8; 16] = rand::random();
        b[6] = (b[6] & 0x0f) | 0x40;
        b[8] = (b[8] & 0x3f) | 0x80;
        Uuid(b)
    }

    /// Parses the 36-character text form (hex digits in either case).
    pub fn parse(s: &str) -> Option<Uuid> {
        let s = s.as_bytes();
        if s.len() != 36 {
            return None;
        }
        let mut out = [0u8; 16];
        let mut n = 0;
        let mut i = 0;
        while i < 36 {
            if i == 8 || i == 13 || i == 18 || i == 23 {
                if s[i] != b'-' {
                    return None;
                }
                i += 1;
                continue;
            }
            let hi = hex(s[i])?;
            let lo = hex(*s.get(i + 1)?)?;
            if i + 1 == 8 || i + 1 == 13 || i + 1 == 18 || i + 1 == 23 {
                return None;
            }
            out[n] = (hi << 4) | lo;
            n += 1;
            i += 2;
        }
        Some(Uuid(out))
    }

    /// True for the all-zeros UUID.
    pub fn is_zero(&self) -> bool {
        self.0 == [0; 16]
    }

    /// The first 8 hex digits, as logs abbreviate UUIDs.
    pub fn short(&self) -> String {
        self.to_string()[..8].to_string()
    }
}

fn hex(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

impl fmt::Display for Uuid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = &self.0;
        for (i, byte) in b.iter().enumerate() {
            if i == 4 || i == 6 || i == 8 || i == 10 {
                f.write_str("-")?;
            }
            write!(f, "{byte:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Uuid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// True if `s` has the syntax of an OVSDB `<id>`: a letter or underscore
/// followed by letters, digits and underscores.
pub fn is_id(s: &str) -> bool {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) if c.is_ascii_alphabetic() || c == '_' => {}
        _ => return false,
    }
    chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let s = "fba858be-1f1a-4972-ab29-58b9fbd44878";
        let u = Uuid::parse(s).unwrap();
        assert_eq!(u.to_string(), s);
        assert_eq!(u.short(), "fba858be");
        assert_eq!(Uuid::parse("FBA858BE-1F1A-4972-AB29-58B9FBD44878"), Some(u));
    }

    #[test]
    fn rejects_bad_text() {
        assert!(Uuid::parse("zz").is_none());
        assert!(Uuid::parse("fba858be-1f1a-4972-ab29-58b9fbd4487").is_none());
        assert!(Uuid::parse("fba858be11f1a-4972-ab29-58b9fbd44878").is_none());
        assert!(Uuid::parse("fba858bg-1f1a-4972-ab29-58b9fbd44878").is_none());
    }

    #[test]
    fn random_is_version_4() {
        let u = Uuid::random();
        assert_eq!(u.0[6] >> 4, 4);
        assert_eq!(u.0[8] >> 6, 2);
        assert_ne!(u, Uuid::random());
    }

    #[test]
    fn ids() {
        assert!(is_id("_a1"));
        assert!(is_id("Bridge"));
        assert!(!is_id("1a"));
        assert!(!is_id(""));
        assert!(!is_id("a-b"));
    }
}
