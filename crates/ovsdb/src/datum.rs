//! Atoms and datums: the values stored in OVSDB columns, their JSON forms
//! (RFC 7047 `<atom>`, `<set>`, `<map>`), their text forms (as `ovs-vsctl`
//! and `ovsdb-tool show-log` print them), constraint checks, and the diff
//! form used by the on-disk log.
//!
//! A [`Datum`] is always canonical: keys sorted and unique.

use crate::error::Error;
use crate::json;
use crate::types::{AtomicType, BaseType, Type};
use crate::uuid::{is_id, Uuid};
use serde_json::Value;
use std::cmp::Ordering;
use std::collections::HashMap;

/// One value of an atomic type.
#[derive(Clone, Debug)]
pub enum Atom {
    Integer(i64),
    Real(f64),
    Boolean(bool),
    String(String),
    Uuid(Uuid),
}

impl PartialEq for Atom {
    fn eq(&self, other: &Atom) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Atom {}
impl PartialOrd for Atom {
    fn partial_cmp(&self, other: &Atom) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Atom {
    fn cmp(&self, other: &Atom) -> Ordering {
        use Atom::*;
        match (self, other) {
            (Integer(a), Integer(b)) => a.cmp(b),
            (Real(a), Real(b)) => a.partial_cmp(b).unwrap_or(Ordering::Equal),
            (Boolean(a), Boolean(b)) => a.cmp(b),
            (String(a), String(b)) => a.as_bytes().cmp(b.as_bytes()),
            (Uuid(a), Uuid(b)) => a.cmp(b),
            _ => self.rank().cmp(&other.rank()),
        }
    }
}

/// Named UUIDs of one transaction (`uuid-name` → UUID).
#[derive(Default, Debug)]
pub struct Symtab {
    pub symbols: HashMap<String, Symbol>,
}

/// One named UUID.
#[derive(Debug, Clone)]
pub struct Symbol {
    pub uuid: Uuid,
    /// True once an insert declared it with `uuid-name`.
    pub created: bool,
}

impl Symtab {
    /// The UUID for `name`, inventing one if it was not declared yet.
    pub fn resolve(&mut self, name: &str) -> Uuid {
        self.symbols
            .entry(name.to_string())
            .or_insert_with(|| Symbol {
                uuid: Uuid::random(),
                created: false,
            })
            .uuid
    }
}

impl Atom {
    fn rank(&self) -> u8 {
        match self {
            Atom::Integer(_) => 0,
            Atom::Real(_) => 1,
            Atom::Boolean(_) => 2,
            Atom::String(_) => 3,
            Atom::Uuid(_) => 4,
        }
    }

    /// The default atom of a type: 0, 0.0, false, "" or the all-zeros UUID.
    pub fn default_of(t: AtomicType) -> Atom {
        match t {
            AtomicType::Integer => Atom::Integer(0),
            AtomicType::Real => Atom::Real(0.0),
            AtomicType::Boolean => Atom::Boolean(false),
            AtomicType::String => Atom::String(String::new()),
            AtomicType::Uuid => Atom::Uuid(Uuid::ZERO),
        }
    }

    pub fn atomic_type(&self) -> AtomicType {
        match self {
            Atom::Integer(_) => AtomicType::Integer,
            Atom::Real(_) => AtomicType::Real,
            Atom::Boolean(_) => AtomicType::Boolean,
            Atom::String(_) => AtomicType::String,
            Atom::Uuid(_) => AtomicType::Uuid,
        }
    }

    pub fn as_uuid(&self) -> Option<Uuid> {
        match self {
            Atom::Uuid(u) => Some(*u),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Atom::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_integer(&self) -> Option<i64> {
        match self {
            Atom::Integer(i) => Some(*i),
            _ => None,
        }
    }

    /// Parses an `<atom>` of type `t` (without checking constraints).
    /// `["named-uuid", name]` needs `symtab`.
    pub fn from_json(
        t: AtomicType,
        json: &Value,
        symtab: Option<&mut Symtab>,
    ) -> Result<Atom, Error> {
        let expected = || Error::syntax(Some(json), format!("expected {}", t.name()));
        match t {
            AtomicType::Integer => json
                .as_number()
                .and_then(json::as_integer)
                .map(Atom::Integer)
                .ok_or_else(expected),
            AtomicType::Real => json.as_f64().map(Atom::Real).ok_or_else(expected),
            AtomicType::Boolean => json.as_bool().map(Atom::Boolean).ok_or_else(expected),
            AtomicType::String => json
                .as_str()
                .map(|s| Atom::String(s.to_string()))
                .ok_or_else(expected),
            AtomicType::Uuid => uuid_from_json(json, symtab).map(Atom::Uuid),
        }
    }

    /// The `<atom>` JSON.
    pub fn to_json(&self) -> Value {
        match self {
            Atom::Integer(i) => Value::from(*i),
            Atom::Real(r) => json::real(*r),
            Atom::Boolean(b) => Value::Bool(*b),
            Atom::String(s) => Value::String(s.clone()),
            Atom::Uuid(u) => Value::Array(vec!["uuid".into(), Value::String(u.to_string())]),
        }
    }

    /// The text form (`ovs-vsctl` style): strings are quoted when needed.
    pub fn to_text(&self) -> String {
        match self {
            Atom::Integer(i) => i.to_string(),
            Atom::Real(r) => json::format_g(*r, 15),
            Atom::Boolean(b) => b.to_string(),
            Atom::String(s) => {
                if string_needs_quotes(s) {
                    json::quote(s)
                } else {
                    s.clone()
                }
            }
            Atom::Uuid(u) => u.to_string(),
        }
    }

    /// Checks `base`'s enum and range constraints (not references).
    pub fn check_constraints(&self, base: &BaseType) -> Result<(), Error> {
        if let Some(e) = &base.enumeration {
            if e.keys.binary_search(self).is_err() {
                return Err(Error::constraint(format!(
                    "{} is not one of the allowed values ({})",
                    self.to_text(),
                    e.to_text(&Type {
                        key: base.without_constraints(),
                        value: None,
                        n_min: 0,
                        n_max: u32::MAX
                    })
                )));
            }
            return Ok(());
        }
        match self {
            Atom::Integer(i) => {
                let i = *i;
                match (base.min_integer, base.max_integer) {
                    (Some(lo), Some(hi)) if i < lo || i > hi => {
                        if lo == hi {
                            return Err(Error::constraint(format!(
                                "{i} is not the only allowed value {lo}"
                            )));
                        }
                        return Err(Error::constraint(format!(
                            "{i} is not in the valid range {lo} to {hi} (inclusive)"
                        )));
                    }
                    (Some(lo), None) if i < lo => {
                        return Err(Error::constraint(format!(
                            "{i} is less than minimum allowed value {lo}"
                        )))
                    }
                    (None, Some(hi)) if i > hi => {
                        return Err(Error::constraint(format!(
                            "{i} is greater than maximum allowed value {hi}"
                        )))
                    }
                    _ => {}
                }
            }
            Atom::Real(r) => {
                let r = *r;
                let g = |x: f64| json::format_g(x, 15);
                match (base.min_real, base.max_real) {
                    (Some(lo), Some(hi)) if r < lo || r > hi => {
                        if lo == hi {
                            return Err(Error::constraint(format!(
                                "{} is not the only allowed value {}",
                                g(r),
                                g(lo)
                            )));
                        }
                        return Err(Error::constraint(format!(
                            "{} is not in the valid range {} to {} (inclusive)",
                            g(r),
                            g(lo),
                            g(hi)
                        )));
                    }
                    (Some(lo), None) if r < lo => {
                        return Err(Error::constraint(format!(
                            "{} is less than minimum allowed value {}",
                            g(r),
                            g(lo)
                        )))
                    }
                    (None, Some(hi)) if r > hi => {
                        return Err(Error::constraint(format!(
                            "{} is greater than maximum allowed value {}",
                            g(r),
                            g(hi)
                        )))
                    }
                    _ => {}
                }
            }
            Atom::String(s) => {
                let n = s.chars().count() as u64;
                if let Some(lo) = base.min_length {
                    if n < lo as u64 {
                        return Err(Error::constraint(format!(
                            "{} length {n} is less than minimum allowed length {lo}",
                            json::quote(s)
                        )));
                    }
                }
                if let Some(hi) = base.max_length {
                    if n > hi as u64 {
                        return Err(Error::constraint(format!(
                            "{} length {n} is greater than maximum allowed length {hi}",
                            json::quote(s)
                        )));
                    }
                }
            }
            Atom::Boolean(_) | Atom::Uuid(_) => {}
        }
        Ok(())
    }
}

fn uuid_from_json(json: &Value, symtab: Option<&mut Symtab>) -> Result<Uuid, Error> {
    if let Some([Value::String(kind), Value::String(s)]) = json.as_array().map(Vec::as_slice) {
        if kind == "uuid" {
            return Uuid::parse(s)
                .ok_or_else(|| Error::syntax(Some(json), format!("\"{s}\" is not a valid UUID")));
        }
        if kind == "named-uuid" {
            if !is_id(s) {
                return Err(Error::syntax(
                    Some(json),
                    format!("\"{s}\" is not a valid <id>"),
                ));
            }
            return match symtab {
                Some(st) => Ok(st.resolve(s)),
                None => Err(Error::syntax(
                    Some(json),
                    "unexpected \"named-uuid\" format",
                )),
            };
        }
    }
    Err(Error::syntax(Some(json), "expected [\"uuid\", <string>]"))
}

/// True if `s` must be quoted in text form.
pub fn string_needs_quotes(s: &str) -> bool {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) if c.is_ascii_alphabetic() || c == '_' => {}
        _ => return true,
    }
    if !chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.') {
        return true;
    }
    s == "true" || s == "false" || Uuid::parse(s).is_some()
}

/// A column value: a sorted set of unique keys and, for maps, one value per key.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Datum {
    pub keys: Vec<Atom>,
    /// `Some` for maps (same length as `keys`).
    pub values: Option<Vec<Atom>>,
}

impl Datum {
    /// An empty set (or map if `is_map`).
    pub fn empty(is_map: bool) -> Datum {
        Datum {
            keys: Vec::new(),
            values: if is_map { Some(Vec::new()) } else { None },
        }
    }

    /// A datum holding the single atom `a`.
    pub fn from_atom(a: Atom) -> Datum {
        Datum {
            keys: vec![a],
            values: None,
        }
    }

    /// A set from `keys` (sorted and deduplicated here).
    pub fn from_set(mut keys: Vec<Atom>) -> Datum {
        keys.sort();
        keys.dedup();
        Datum { keys, values: None }
    }

    /// The default value of `t`: empty, or one default atom (pair).
    pub fn default_of(t: &Type) -> Datum {
        if t.n_min == 0 {
            return Datum::empty(t.is_map());
        }
        Datum {
            keys: vec![Atom::default_of(t.key.atomic)],
            values: t.value.as_ref().map(|v| vec![Atom::default_of(v.atomic)]),
        }
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    pub fn is_default(&self, t: &Type) -> bool {
        *self == Datum::default_of(t)
    }

    /// Pairs (key, value) of a map, or (key, None) of a set.
    pub fn iter(&self) -> impl Iterator<Item = (&Atom, Option<&Atom>)> {
        self.keys
            .iter()
            .enumerate()
            .map(move |(i, k)| (k, self.values.as_ref().and_then(|v| v.get(i))))
    }

    /// The value for `key` in a map.
    pub fn get(&self, key: &Atom) -> Option<&Atom> {
        let i = self.keys.binary_search(key).ok()?;
        self.values.as_ref()?.get(i)
    }

    pub fn contains_key(&self, key: &Atom) -> bool {
        self.keys.binary_search(key).is_ok()
    }

    /// Parses a datum of type `t` and checks constraints (not references).
    pub fn from_json(t: &Type, json: &Value, symtab: Option<&mut Symtab>) -> Result<Datum, Error> {
        let d = Datum::from_json_unchecked(t, json, symtab)?;
        d.check_constraints(t)?;
        Ok(d)
    }

    /// Parses a datum of type `t`, checking its size but not its constraints.
    pub fn from_json_unchecked(
        t: &Type,
        json: &Value,
        mut symtab: Option<&mut Symtab>,
    ) -> Result<Datum, Error> {
        let is_set_syntax = matches!(
            json.as_array().map(Vec::as_slice),
            Some([Value::String(s), ..]) if s == "set"
        );
        if !(t.is_map() || is_set_syntax) {
            let key = Atom::from_json(t.key.atomic, json, symtab)?;
            return Ok(Datum::from_atom(key));
        }
        let class = if t.is_map() { "map" } else { "set" };
        let inner = match json.as_array().map(Vec::as_slice) {
            Some([Value::String(s), Value::Array(inner)]) if s == class => inner,
            _ => {
                return Err(Error::syntax(
                    Some(json),
                    format!("expected [\"{class}\", <array>]"),
                ))
            }
        };
        let n = inner.len();
        if (n as u64) < t.n_min as u64 || (n as u64) > t.n_max as u64 {
            let msg = if t.n_min == 1 && t.n_max == 1 {
                format!("{class} must have exactly one member but {n} are present")
            } else if t.n_max == u32::MAX {
                format!(
                    "{class} must have {} to unlimited members but {n} are present",
                    t.n_min
                )
            } else {
                format!(
                    "{class} must have {} to {} members but {n} are present",
                    t.n_min, t.n_max
                )
            };
            return Err(Error::syntax(Some(json), msg));
        }
        let mut keys = Vec::with_capacity(n);
        let mut values = Vec::new();
        for elem in inner {
            if let Some(vt) = &t.value {
                let Some([k, v]) = elem.as_array().map(Vec::as_slice) else {
                    return Err(Error::syntax(Some(elem), "expected 2-element array"));
                };
                keys.push(Atom::from_json(t.key.atomic, k, symtab.as_deref_mut())?);
                values.push(Atom::from_json(vt.atomic, v, symtab.as_deref_mut())?);
            } else {
                keys.push(Atom::from_json(t.key.atomic, elem, symtab.as_deref_mut())?);
            }
        }
        Datum::sorted(keys, if t.is_map() { Some(values) } else { None })
    }

    /// Builds a canonical datum, rejecting duplicate keys.
    pub fn sorted(keys: Vec<Atom>, values: Option<Vec<Atom>>) -> Result<Datum, Error> {
        let is_map = values.is_some();
        let mut pairs: Vec<(Atom, Option<Atom>)> = match values {
            Some(v) => keys.into_iter().zip(v.into_iter().map(Some)).collect(),
            None => keys.into_iter().map(|k| (k, None)).collect(),
        };
        pairs.sort_by(|a, b| a.0.cmp(&b.0));
        if pairs.windows(2).any(|w| w[0].0 == w[1].0) {
            return Err(Error::new(
                "ovsdb error",
                if is_map {
                    "map contains duplicate key"
                } else {
                    "set contains duplicate"
                },
            ));
        }
        let mut d = Datum::empty(is_map);
        for (k, v) in pairs {
            d.keys.push(k);
            if let (Some(vs), Some(v)) = (d.values.as_mut(), v) {
                vs.push(v);
            }
        }
        Ok(d)
    }

    /// Checks every atom against `t`'s base type constraints.
    pub fn check_constraints(&self, t: &Type) -> Result<(), Error> {
        for (k, v) in self.iter() {
            k.check_constraints(&t.key)?;
            if let (Some(v), Some(vt)) = (v, &t.value) {
                v.check_constraints(vt)?;
            }
        }
        Ok(())
    }

    /// The JSON form for a column of type `t`.
    pub fn to_json(&self, t: &Type) -> Value {
        if t.is_map() {
            let pairs = self
                .iter()
                .map(|(k, v)| {
                    Value::Array(vec![
                        k.to_json(),
                        v.map(Atom::to_json).unwrap_or(Value::Null),
                    ])
                })
                .collect();
            return Value::Array(vec!["map".into(), Value::Array(pairs)]);
        }
        if self.keys.len() == 1 {
            return self.keys[0].to_json();
        }
        Value::Array(vec![
            "set".into(),
            Value::Array(self.keys.iter().map(Atom::to_json).collect()),
        ])
    }

    /// The text form (`ovs-vsctl` style): `{k=v, ...}`, `[a, b]` or an atom.
    pub fn to_text(&self, t: &Type) -> String {
        if t.is_map() {
            let items: Vec<String> = self
                .iter()
                .map(|(k, v)| {
                    format!(
                        "{}={}",
                        k.to_text(),
                        v.map(Atom::to_text).unwrap_or_default()
                    )
                })
                .collect();
            return format!("{{{}}}", items.join(", "));
        }
        if t.n_max > 1 || self.keys.len() != 1 {
            let items: Vec<String> = self.keys.iter().map(Atom::to_text).collect();
            return format!("[{}]", items.join(", "));
        }
        self.keys[0].to_text()
    }

    /// The diff that turns `old` into `new` (for composite types; for others
    /// it is just `new`): a set's symmetric difference; for a map, the
    /// removed pairs plus the added or changed pairs with their new values.
    pub fn diff(old: &Datum, new: &Datum) -> Datum {
        let mut keys = Vec::new();
        let mut values = Vec::new();
        let is_map = new.values.is_some();
        let (mut i, mut j) = (0, 0);
        while i < old.keys.len() || j < new.keys.len() {
            let ord = match (old.keys.get(i), new.keys.get(j)) {
                (Some(a), Some(b)) => a.cmp(b),
                (Some(_), None) => Ordering::Less,
                _ => Ordering::Greater,
            };
            match ord {
                Ordering::Less => {
                    keys.push(old.keys[i].clone());
                    if let Some(v) = old.values.as_ref().and_then(|v| v.get(i)) {
                        values.push(v.clone());
                    }
                    i += 1;
                }
                Ordering::Greater => {
                    keys.push(new.keys[j].clone());
                    if let Some(v) = new.values.as_ref().and_then(|v| v.get(j)) {
                        values.push(v.clone());
                    }
                    j += 1;
                }
                Ordering::Equal => {
                    if is_map {
                        let ov = old.values.as_ref().and_then(|v| v.get(i));
                        let nv = new.values.as_ref().and_then(|v| v.get(j));
                        if ov != nv {
                            if let Some(nv) = nv {
                                keys.push(new.keys[j].clone());
                                values.push(nv.clone());
                            }
                        }
                    }
                    i += 1;
                    j += 1;
                }
            }
        }
        Datum {
            keys,
            values: if is_map { Some(values) } else { None },
        }
    }

    /// Applies a diff made by [`Datum::diff`].
    pub fn apply_diff(&self, diff: &Datum) -> Datum {
        let mut out = self.clone();
        for (k, v) in diff.iter() {
            match out.keys.binary_search(k) {
                Ok(i) => {
                    let same = match (&out.values, v) {
                        (Some(vs), Some(v)) => vs[i] == *v,
                        _ => true,
                    };
                    if same {
                        out.keys.remove(i);
                        if let Some(vs) = out.values.as_mut() {
                            vs.remove(i);
                        }
                    } else if let (Some(vs), Some(v)) = (out.values.as_mut(), v) {
                        vs[i] = v.clone();
                    }
                }
                Err(i) => {
                    out.keys.insert(i, k.clone());
                    if let (Some(vs), Some(v)) = (out.values.as_mut(), v) {
                        vs.insert(i, v.clone());
                    }
                }
            }
        }
        out
    }

    /// Adds the elements of `other` not already present (by key).
    pub fn union(&mut self, other: &Datum) {
        for (k, v) in other.iter() {
            if let Err(i) = self.keys.binary_search(k) {
                self.keys.insert(i, k.clone());
                if let (Some(vs), Some(v)) = (self.values.as_mut(), v) {
                    vs.insert(i, v.clone());
                }
            }
        }
    }

    /// Removes elements of `other`: for a map, `other` may be a set of keys
    /// (`other_is_keys`) or a map whose pairs must match exactly.
    pub fn subtract(&mut self, other: &Datum, other_is_keys: bool) {
        for (k, v) in other.iter() {
            if let Ok(i) = self.keys.binary_search(k) {
                let matches = match (&self.values, v, other_is_keys) {
                    (Some(vs), Some(v), false) => vs[i] == *v,
                    _ => true,
                };
                if matches {
                    self.keys.remove(i);
                    if let Some(vs) = self.values.as_mut() {
                        vs.remove(i);
                    }
                }
            }
        }
    }

    /// True if every element of `other` is in `self` (pairs for maps).
    pub fn includes(&self, other: &Datum) -> bool {
        other.iter().all(|(k, v)| match self.keys.binary_search(k) {
            Ok(i) => match (&self.values, v) {
                (Some(vs), Some(v)) => vs[i] == *v,
                _ => true,
            },
            Err(_) => false,
        })
    }

    /// True if no element of `other` is in `self` (pairs for maps).
    pub fn excludes(&self, other: &Datum) -> bool {
        other.iter().all(|(k, v)| match self.keys.binary_search(k) {
            Ok(i) => match (&self.values, v) {
                (Some(vs), Some(v)) => vs[i] != *v,
                _ => false,
            },
            Err(_) => true,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ty(j: Value) -> Type {
        Type::from_json(&j).unwrap()
    }

    #[test]
    fn canonical_json_and_text() {
        let t = ty(json!({"key":"string","value":"integer","min":0,"max":"unlimited"}));
        let d = Datum::from_json(&t, &json!(["map", [["b", 2], ["a", 1]]]), None).unwrap();
        assert_eq!(d.to_json(&t), json!(["map", [["a", 1], ["b", 2]]]));
        assert_eq!(d.to_text(&t), "{a=1, b=2}");
        let s = ty(json!({"key":"integer","min":0,"max":"unlimited"}));
        let d = Datum::from_json(&s, &json!(["set", [3]]), None).unwrap();
        assert_eq!(d.to_json(&s), json!(3));
        assert_eq!(d.to_text(&s), "[3]");
        let opt = ty(json!({"key":"string","min":0,"max":1}));
        assert_eq!(Datum::empty(false).to_text(&opt), "[]");
        assert_eq!(
            Datum::from_atom(Atom::String("x y".into())).to_text(&opt),
            "\"x y\""
        );
    }

    #[test]
    fn quoting_rule() {
        for (s, q) in [
            ("a1", false),
            ("1a", true),
            ("x y", true),
            ("true", true),
            ("x.y-z_", false),
            ("", true),
            ("a:b", true),
        ] {
            assert_eq!(string_needs_quotes(s), q, "{s}");
        }
    }

    #[test]
    fn errors_match_upstream() {
        let t = ty(json!({"key":"string","min":0,"max":1}));
        let e = Datum::from_json(&t, &json!(["set", ["a", "b"]]), None).unwrap_err();
        assert_eq!(
            e.details.unwrap(),
            "set must have 0 to 1 members but 2 are present"
        );
        let e = Datum::from_json(&ty(json!("string")), &json!(["set", []]), None).unwrap_err();
        assert_eq!(
            e.details.unwrap(),
            "set must have exactly one member but 0 are present"
        );
        let e = Datum::from_json(&ty(json!("integer")), &json!("x"), None).unwrap_err();
        assert_eq!(
            e.to_json(),
            json!({"error":"syntax error","details":"expected integer","syntax":"\"x\""})
        );
        let m = ty(
            json!({"key":"string","value":{"type":"integer","minInteger":0,"maxInteger":10},"min":0,"max":"unlimited"}),
        );
        let e = Datum::from_json(&m, &json!(["map", [["a", 11]]]), None).unwrap_err();
        assert_eq!(
            e.details.unwrap(),
            "11 is not in the valid range 0 to 10 (inclusive)"
        );
        let e = Datum::from_json(&m, &json!(["map", [["a", 1], ["a", 2]]]), None).unwrap_err();
        assert_eq!(
            (e.tag.as_str(), e.details.unwrap().as_str()),
            ("ovsdb error", "map contains duplicate key")
        );
        let en =
            ty(json!({"key":{"type":"string","enum":["set",["x","y"]]},"min":0,"max":"unlimited"}));
        let e = Datum::from_json(&en, &json!("z"), None).unwrap_err();
        assert_eq!(
            e.details.unwrap(),
            "z is not one of the allowed values ([x, y])"
        );
        let e = Datum::from_json(&ty(json!("uuid")), &json!(["uuid", "zz"]), None).unwrap_err();
        assert_eq!(e.details.unwrap(), "\"zz\" is not a valid UUID");
    }

    #[test]
    fn diff_round_trips() {
        let t = ty(json!({"key":"string","value":"integer","min":0,"max":"unlimited"}));
        let old =
            Datum::from_json(&t, &json!(["map", [["a", 1], ["b", 2], ["c", 3]]]), None).unwrap();
        let new =
            Datum::from_json(&t, &json!(["map", [["a", 1], ["b", 5], ["d", 4]]]), None).unwrap();
        let d = Datum::diff(&old, &new);
        assert_eq!(
            d.to_json(&t),
            json!(["map", [["b", 5], ["c", 3], ["d", 4]]])
        );
        assert_eq!(old.apply_diff(&d), new);
        let s = ty(json!({"key":"integer","min":0,"max":"unlimited"}));
        let a = Datum::from_set(vec![Atom::Integer(1), Atom::Integer(2)]);
        let b = Datum::from_set(vec![Atom::Integer(2), Atom::Integer(3)]);
        let d = Datum::diff(&a, &b);
        assert_eq!(d.to_json(&s), json!(["set", [1, 3]]));
        assert_eq!(a.apply_diff(&d), b);
    }

    #[test]
    fn set_operations() {
        let mut a = Datum::from_set(vec![Atom::Integer(1), Atom::Integer(2)]);
        let b = Datum::from_set(vec![Atom::Integer(2), Atom::Integer(3)]);
        assert!(!a.includes(&b));
        assert!(!a.excludes(&b));
        a.union(&b);
        assert_eq!(a.len(), 3);
        a.subtract(&b, false);
        assert_eq!(a, Datum::from_atom(Atom::Integer(1)));
    }
}
