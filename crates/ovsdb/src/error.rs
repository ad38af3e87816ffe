//! OVSDB errors: the `{"error": TAG, "details": ..., "syntax": ...}` objects
//! of RFC 7047 and upstream's wording, and the parser for JSON objects with
//! required and optional members that produces upstream's syntax errors.

use serde_json::{Map, Value};
use std::collections::HashSet;
use std::fmt;

/// An OVSDB error: a tag such as `"syntax error"` or `"constraint violation"`,
/// optional details text, and optionally the JSON that was being parsed.
#[derive(Clone, Debug, PartialEq)]
pub struct Error {
    pub tag: String,
    pub details: Option<String>,
    pub syntax: Option<Value>,
}

impl Error {
    pub fn new(tag: &str, details: impl Into<String>) -> Error {
        Error {
            tag: tag.to_string(),
            details: Some(details.into()),
            syntax: None,
        }
    }

    /// A `"syntax error"` about `json`.
    pub fn syntax(json: Option<&Value>, details: impl Into<String>) -> Error {
        Error {
            tag: "syntax error".into(),
            details: Some(details.into()),
            syntax: json.cloned(),
        }
    }

    /// An error with `tag` about `json`.
    pub fn with_syntax(tag: &str, json: Option<&Value>, details: impl Into<String>) -> Error {
        Error {
            tag: tag.into(),
            details: Some(details.into()),
            syntax: json.cloned(),
        }
    }

    pub fn constraint(details: impl Into<String>) -> Error {
        Error::new("constraint violation", details)
    }

    /// An `"I/O error"` as file operations report it.
    pub fn io(details: impl Into<String>) -> Error {
        Error::new("I/O error", details)
    }

    /// Prefixes the details with `prefix`.
    pub fn context(mut self, prefix: &str) -> Error {
        self.details = Some(match self.details {
            Some(d) => format!("{prefix}: {d}"),
            None => prefix.to_string(),
        });
        self
    }

    /// The JSON error object as transaction results carry it.
    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("error".into(), Value::String(self.tag.clone()));
        if let Some(d) = &self.details {
            m.insert("details".into(), Value::String(d.clone()));
        }
        if let Some(s) = &self.syntax {
            m.insert(
                "syntax".into(),
                Value::String(crate::json::to_string(s, true)),
            );
        }
        Value::Object(m)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(s) = &self.syntax {
            write!(f, "syntax \"{}\": ", crate::json::to_string(s, true))?;
        }
        f.write_str(&self.tag)?;
        if let Some(d) = &self.details {
            write!(f, ": {d}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {}

/// What JSON a member may hold.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Any,
    Boolean,
    Integer,
    /// Integer or real.
    Number,
    String,
    /// A string with `<id>` syntax.
    Id,
    Array,
    Object,
    /// Integer or string.
    IntegerOrString,
    /// String or object.
    StringOrObject,
}

fn kind_matches(kind: Kind, v: &Value) -> bool {
    match kind {
        Kind::Any => true,
        Kind::Boolean => v.is_boolean(),
        Kind::Integer => v.as_number().and_then(crate::json::as_integer).is_some(),
        Kind::Number => v.is_number(),
        Kind::String => v.is_string(),
        Kind::Id => v.as_str().is_some_and(crate::uuid::is_id),
        Kind::Array => v.is_array(),
        Kind::Object => v.is_object(),
        Kind::IntegerOrString => kind_matches(Kind::Integer, v) || v.is_string(),
        Kind::StringOrObject => v.is_string() || v.is_object(),
    }
}

/// Reads members of one JSON object, remembering the first problem and which
/// members were used, so that [`ObjectParser::finish`] can reject extras.
pub struct ObjectParser<'a> {
    json: &'a Value,
    obj: Option<&'a Map<String, Value>>,
    name: String,
    used: HashSet<&'a str>,
    error: Option<Error>,
}

impl<'a> ObjectParser<'a> {
    /// Starts parsing `json`, described in messages as `name`
    /// ("Parsing NAME failed: ...").
    pub fn new(json: &'a Value, name: impl Into<String>) -> ObjectParser<'a> {
        let name = name.into();
        let obj = json.as_object();
        let error = if obj.is_none() {
            Some(Error::syntax(
                None,
                format!("Parsing {name} failed: Object expected."),
            ))
        } else {
            None
        };
        ObjectParser {
            json,
            obj,
            name,
            used: HashSet::new(),
            error,
        }
    }

    /// Records "Parsing NAME failed: MSG" about the whole object.
    pub fn fail(&mut self, msg: String) {
        if self.error.is_none() {
            self.error = Some(Error::syntax(
                Some(self.json),
                format!("Parsing {} failed: {msg}", self.name),
            ));
        }
    }

    /// Records `err` unless an error is already pending.
    pub fn raise(&mut self, err: Error) {
        if self.error.is_none() {
            self.error = Some(err);
        }
    }

    /// True once something went wrong.
    pub fn has_error(&self) -> bool {
        self.error.is_some()
    }

    /// The member `name`, which must exist and match `kind`.
    pub fn required(&mut self, name: &'a str, kind: Kind) -> Option<&'a Value> {
        self.get(name, kind, false)
    }

    /// The member `name` if present; it must match `kind`.
    pub fn optional(&mut self, name: &'a str, kind: Kind) -> Option<&'a Value> {
        self.get(name, kind, true)
    }

    fn get(&mut self, name: &'a str, kind: Kind, optional: bool) -> Option<&'a Value> {
        let obj = self.obj?;
        match obj.get_key_value(name) {
            Some((k, v)) => {
                self.used.insert(k.as_str());
                if kind_matches(kind, v) {
                    Some(v)
                } else {
                    self.fail(format!("Type mismatch for member '{name}'."));
                    None
                }
            }
            None => {
                if !optional {
                    self.fail(format!("Required '{name}' member is missing."));
                }
                None
            }
        }
    }

    /// Finishes parsing: the first error, or an error for an unused member.
    pub fn finish(mut self) -> Result<(), Error> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        if let Some(obj) = self.obj {
            if let Some(extra) = obj.keys().find(|k| !self.used.contains(k.as_str())) {
                let msg = format!("Member '{extra}' is present but not allowed here.");
                self.fail(msg);
                return Err(self
                    .error
                    .take()
                    .unwrap_or_else(|| Error::new("syntax error", "")));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn error_text_and_json() {
        let e = Error::syntax(Some(&json!({"b":1,"a":2})), "bad");
        assert_eq!(
            e.to_string(),
            r#"syntax "{"a":2,"b":1}": syntax error: bad"#
        );
        assert_eq!(
            e.to_json(),
            json!({"error":"syntax error","details":"bad","syntax":"{\"a\":2,\"b\":1}"})
        );
    }

    #[test]
    fn parser_reports_first_problem() {
        let j = json!({"name": 1, "x": 2});
        let mut p = ObjectParser::new(&j, "thing");
        assert!(p.required("name", Kind::String).is_none());
        let e = p.finish().unwrap_err();
        assert_eq!(
            e.details.unwrap(),
            "Parsing thing failed: Type mismatch for member 'name'."
        );

        let mut p = ObjectParser::new(&j, "thing");
        assert!(p.required("name", Kind::Integer).is_some());
        let e = p.finish().unwrap_err();
        assert_eq!(
            e.details.unwrap(),
            "Parsing thing failed: Member 'x' is present but not allowed here."
        );

        let mut p = ObjectParser::new(&j, "thing");
        p.required("missing", Kind::Any);
        let e = p.finish().unwrap_err();
        assert_eq!(
            e.details.unwrap(),
            "Parsing thing failed: Required 'missing' member is missing."
        );
    }
}
