//! OVSDB column types (RFC 7047 §3.2 `<type>`, `<base-type>`): atomic types,
//! their constraints, and the min/max of sets and maps.

use crate::datum::Datum;
use crate::error::{Error, Kind, ObjectParser};
use crate::json;
use serde_json::{Map, Value};

/// One of the five atomic types.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AtomicType {
    Integer,
    Real,
    Boolean,
    String,
    Uuid,
}

impl AtomicType {
    pub fn name(self) -> &'static str {
        match self {
            AtomicType::Integer => "integer",
            AtomicType::Real => "real",
            AtomicType::Boolean => "boolean",
            AtomicType::String => "string",
            AtomicType::Uuid => "uuid",
        }
    }

    pub fn from_name(s: &str) -> Option<AtomicType> {
        Some(match s {
            "integer" => AtomicType::Integer,
            "real" => AtomicType::Real,
            "boolean" => AtomicType::Boolean,
            "string" => AtomicType::String,
            "uuid" => AtomicType::Uuid,
            _ => return None,
        })
    }

    fn from_json(json: &Value) -> Result<AtomicType, Error> {
        json.as_str()
            .and_then(AtomicType::from_name)
            .ok_or_else(|| {
                Error::syntax(
                    Some(json),
                    format!("{} is not an atomic-type", json::to_string(json, true)),
                )
            })
    }
}

/// Strength of a reference to another table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RefType {
    Strong,
    Weak,
}

/// A base type: an atomic type with its optional constraints.
#[derive(Clone, Debug, PartialEq)]
pub struct BaseType {
    pub atomic: AtomicType,
    /// Allowed values (a set of atoms of `atomic`), if constrained.
    pub enumeration: Option<Datum>,
    pub min_integer: Option<i64>,
    pub max_integer: Option<i64>,
    pub min_real: Option<f64>,
    pub max_real: Option<f64>,
    pub min_length: Option<u32>,
    pub max_length: Option<u32>,
    /// For uuid: the table referred to.
    pub ref_table: Option<String>,
    pub ref_type: RefType,
}

impl BaseType {
    /// The unconstrained base type of `atomic`.
    pub fn new(atomic: AtomicType) -> BaseType {
        BaseType {
            atomic,
            enumeration: None,
            min_integer: None,
            max_integer: None,
            min_real: None,
            max_real: None,
            min_length: None,
            max_length: None,
            ref_table: None,
            ref_type: RefType::Strong,
        }
    }

    /// True if the type has any constraint.
    pub fn has_constraints(&self) -> bool {
        self.enumeration.is_some()
            || self.min_integer.is_some()
            || self.max_integer.is_some()
            || self.min_real.is_some()
            || self.max_real.is_some()
            || self.min_length.is_some()
            || self.max_length.is_some()
            || self.ref_table.is_some()
    }

    /// The same atomic type without constraints.
    pub fn without_constraints(&self) -> BaseType {
        BaseType::new(self.atomic)
    }

    /// True if this is a strong reference to another table.
    pub fn is_strong_ref(&self) -> bool {
        self.ref_table.is_some() && self.ref_type == RefType::Strong
    }

    /// True if this is a weak reference to another table.
    pub fn is_weak_ref(&self) -> bool {
        self.ref_table.is_some() && self.ref_type == RefType::Weak
    }

    /// Parses a `<base-type>`.
    pub fn from_json(json: &Value) -> Result<BaseType, Error> {
        if json.is_string() {
            return Ok(BaseType::new(AtomicType::from_json(json)?));
        }
        let mut p = ObjectParser::new(json, "ovsdb type");
        let Some(type_json) = p.required("type", Kind::String) else {
            p.finish()?;
            return Err(Error::syntax(Some(json), "Parsing ovsdb type failed"));
        };
        let atomic = AtomicType::from_json(type_json)?;
        let mut base = BaseType::new(atomic);
        let enum_json = p.optional("enum", Kind::Any);
        match atomic {
            AtomicType::Integer => {
                base.min_integer = p.optional("minInteger", Kind::Integer).and_then(int_of);
                base.max_integer = p.optional("maxInteger", Kind::Integer).and_then(int_of);
                if let (Some(a), Some(b)) = (base.min_integer, base.max_integer) {
                    if a > b {
                        p.raise(Error::syntax(Some(json), "minInteger exceeds maxInteger"));
                    }
                }
            }
            AtomicType::Real => {
                base.min_real = p.optional("minReal", Kind::Number).and_then(Value::as_f64);
                base.max_real = p.optional("maxReal", Kind::Number).and_then(Value::as_f64);
                if let (Some(a), Some(b)) = (base.min_real, base.max_real) {
                    if a > b {
                        p.raise(Error::syntax(Some(json), "minReal exceeds maxReal"));
                    }
                }
            }
            AtomicType::String => {
                base.min_length = length(&mut p, "minLength");
                base.max_length = length(&mut p, "maxLength");
                if let (Some(a), Some(b)) = (base.min_length, base.max_length) {
                    if a > b {
                        p.raise(Error::syntax(Some(json), "minLength exceeds maxLength"));
                    }
                }
            }
            AtomicType::Uuid => {
                if let Some(t) = p.optional("refTable", Kind::Id) {
                    base.ref_table = t.as_str().map(str::to_string);
                    if let Some(rt) = p.optional("refType", Kind::String) {
                        match rt.as_str() {
                            Some("strong") => base.ref_type = RefType::Strong,
                            Some("weak") => base.ref_type = RefType::Weak,
                            other => p.raise(Error::syntax(
                                Some(json),
                                format!(
                                    "refType must be \"strong\" or \"weak\" (not \"{}\")",
                                    other.unwrap_or("")
                                ),
                            )),
                        }
                    }
                }
            }
            AtomicType::Boolean => {}
        }
        if let Some(e) = enum_json {
            if !p.has_error() {
                let set_type = Type {
                    key: BaseType::new(atomic),
                    value: None,
                    n_min: 1,
                    n_max: u32::MAX,
                };
                match Datum::from_json(&set_type, e, None) {
                    Ok(d) => base.enumeration = Some(d),
                    Err(err) => p.raise(err),
                }
            }
        }
        p.finish()?;
        Ok(base)
    }

    /// The `<base-type>` JSON.
    pub fn to_json(&self) -> Value {
        if !self.has_constraints() {
            return Value::String(self.atomic.name().into());
        }
        let mut m = Map::new();
        m.insert("type".into(), Value::String(self.atomic.name().into()));
        if let Some(e) = &self.enumeration {
            let set_type = Type {
                key: self.without_constraints(),
                value: None,
                n_min: 0,
                n_max: u32::MAX,
            };
            m.insert("enum".into(), e.to_json(&set_type));
        }
        if let Some(v) = self.min_integer {
            m.insert("minInteger".into(), v.into());
        }
        if let Some(v) = self.max_integer {
            m.insert("maxInteger".into(), v.into());
        }
        if let Some(v) = self.min_real {
            m.insert("minReal".into(), json::real(v));
        }
        if let Some(v) = self.max_real {
            m.insert("maxReal".into(), json::real(v));
        }
        if let Some(v) = self.min_length {
            m.insert("minLength".into(), v.into());
        }
        if let Some(v) = self.max_length {
            m.insert("maxLength".into(), v.into());
        }
        if let Some(t) = &self.ref_table {
            m.insert("refTable".into(), Value::String(t.clone()));
            if self.ref_type == RefType::Weak {
                m.insert("refType".into(), "weak".into());
            }
        }
        Value::Object(m)
    }
}

fn int_of(v: &Value) -> Option<i64> {
    v.as_number().and_then(json::as_integer)
}

fn length(p: &mut ObjectParser<'_>, name: &'static str) -> Option<u32> {
    let v = p.optional(name, Kind::Integer)?;
    let n = int_of(v)?;
    if (0..=u32::MAX as i64).contains(&n) {
        Some(n as u32)
    } else {
        p.raise(Error::syntax(
            Some(v),
            format!("{name} out of valid range 0 to {}", u32::MAX),
        ));
        None
    }
}

/// A column type: a key base type, an optional value base type (for maps),
/// and the allowed number of elements (`n_max == u32::MAX` is "unlimited").
#[derive(Clone, Debug, PartialEq)]
pub struct Type {
    pub key: BaseType,
    pub value: Option<BaseType>,
    pub n_min: u32,
    pub n_max: u32,
}

impl Type {
    /// A single atom of `atomic`.
    pub fn scalar(atomic: AtomicType) -> Type {
        Type {
            key: BaseType::new(atomic),
            value: None,
            n_min: 1,
            n_max: 1,
        }
    }

    pub fn is_map(&self) -> bool {
        self.value.is_some()
    }

    /// Exactly one atom, not a map.
    pub fn is_scalar(&self) -> bool {
        self.n_min == 1 && self.n_max == 1 && self.value.is_none()
    }

    /// Zero or one atom, not a map.
    pub fn is_optional(&self) -> bool {
        self.n_min == 0 && self.n_max == 1 && self.value.is_none()
    }

    /// A set of more than one possible element, or a map.
    pub fn is_composite(&self) -> bool {
        self.n_max > 1
    }

    /// The same type with unlimited size: diffs and mutation arguments use it.
    pub fn relaxed(&self) -> Type {
        Type {
            key: self.key.clone(),
            value: self.value.clone(),
            n_min: 0,
            n_max: u32::MAX,
        }
    }

    /// Parses a `<type>`.
    pub fn from_json(json: &Value) -> Result<Type, Error> {
        if json.is_string() {
            return Ok(Type::scalar(AtomicType::from_json(json)?));
        }
        let mut p = ObjectParser::new(json, "ovsdb type");
        let key_json = p.required("key", Kind::StringOrObject);
        let value_json = p.optional("value", Kind::StringOrObject);
        let min_json = p.optional("min", Kind::Integer);
        let max_json = p.optional("max", Kind::IntegerOrString);
        p.finish()?;
        let key = BaseType::from_json(key_json.unwrap_or(&Value::Null))?;
        let value = match value_json {
            Some(v) => Some(BaseType::from_json(v)?),
            None => None,
        };
        let n_min = match min_json {
            Some(v) => bound(v)?,
            None => 1,
        };
        let n_max = match max_json {
            Some(Value::String(s)) if s == "unlimited" => u32::MAX,
            Some(v) => bound(v)?,
            None => 1,
        };
        let t = Type {
            key,
            value,
            n_min,
            n_max,
        };
        if t.n_min > 1 || t.n_max < 1 || t.n_min > t.n_max {
            return Err(Error::syntax(
                Some(json),
                "ovsdb type fails constraint checks",
            ));
        }
        Ok(t)
    }

    /// The `<type>` JSON, in its shortest form.
    pub fn to_json(&self) -> Value {
        if self.is_scalar() && !self.key.has_constraints() {
            return Value::String(self.key.atomic.name().into());
        }
        let mut m = Map::new();
        m.insert("key".into(), self.key.to_json());
        if let Some(v) = &self.value {
            m.insert("value".into(), v.to_json());
        }
        if self.n_min != 1 {
            m.insert("min".into(), self.n_min.into());
        }
        if self.n_max == u32::MAX {
            m.insert("max".into(), "unlimited".into());
        } else if self.n_max != 1 {
            m.insert("max".into(), self.n_max.into());
        }
        Value::Object(m)
    }
}

fn bound(v: &Value) -> Result<u32, Error> {
    match v.as_number().and_then(json::as_integer) {
        Some(n) if (0..u32::MAX as i64).contains(&n) => Ok(n as u32),
        _ => Err(Error::syntax(Some(v), "bad min or max value")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn err(j: Value) -> String {
        Type::from_json(&j).unwrap_err().to_string()
    }

    #[test]
    fn parses_and_prints() {
        for j in [
            json!("integer"),
            json!({"key":"string","value":"string","min":0,"max":"unlimited"}),
            json!({"key":{"type":"integer","minInteger":100},"min":0}),
            json!({"key":{"type":"string","enum":["set",["a","b"]]}}),
            json!({"key":{"type":"uuid","refTable":"B","refType":"weak"},"min":0,"max":3}),
            json!({"key":{"type":"real","minReal":0.5}}),
        ] {
            let t = Type::from_json(&j).unwrap();
            assert_eq!(
                json::to_string(&t.to_json(), true),
                json::to_string(&j, true)
            );
        }
    }

    #[test]
    fn upstream_messages() {
        assert_eq!(
            err(json!("foo")),
            r#"syntax ""foo"": syntax error: "foo" is not an atomic-type"#
        );
        assert_eq!(
            err(json!({"key":"integer","min":2,"max":1})),
            r#"syntax "{"key":"integer","max":1,"min":2}": syntax error: ovsdb type fails constraint checks"#
        );
        assert_eq!(
            err(json!({"key":"integer","max":"x"})),
            r#"syntax ""x"": syntax error: bad min or max value"#
        );
        assert_eq!(
            err(json!({"key":{"type":"integer","minInteger":5,"maxInteger":1}})),
            r#"syntax "{"maxInteger":1,"minInteger":5,"type":"integer"}": syntax error: minInteger exceeds maxInteger"#
        );
        assert_eq!(
            err(json!({"key":{"type":"string","minInteger":5}})),
            r#"syntax "{"minInteger":5,"type":"string"}": syntax error: Parsing ovsdb type failed: Member 'minInteger' is present but not allowed here."#
        );
        assert_eq!(
            err(json!({"key":{"type":"string","minLength":-1}})),
            r#"syntax "-1": syntax error: minLength out of valid range 0 to 4294967295"#
        );
        assert_eq!(
            err(json!({"key":{"type":"uuid","refTable":"A","refType":"x"}})),
            r#"syntax "{"refTable":"A","refType":"x","type":"uuid"}": syntax error: refType must be "strong" or "weak" (not "x")"#
        );
    }
}
