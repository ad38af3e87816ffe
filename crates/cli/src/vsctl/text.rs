//! The value syntax of `ovs-vsctl` arguments: tokens (bare words or
//! JSON-quoted strings), atoms of each type (integers with `A-B` ranges,
//! `@name` row ids for UUIDs), sets and maps in `[...]`/`{k=v, ...}` form,
//! and `COLUMN[:KEY]OP VALUE` arguments, with upstream's error texts.

use ovsdb::datum::{Atom, Datum};
use ovsdb::types::{AtomicType, BaseType, RefType, Type};
use ovsdb::Uuid;
use std::collections::BTreeMap;

/// Characters that end a bare token.
const DELIMITERS: &[char] = &[':', '=', ',', ' ', '[', ']', '{', '}', '!', '<', '>'];

/// Largest number of integers an `A-B` range may expand to.
const MAX_RANGE: i64 = 4096;

/// One `@name` row id of a command line.
#[derive(Clone, Debug)]
pub struct Symbol {
    pub uuid: Uuid,
    /// Declared by `--id=@name` (create, get).
    pub created: bool,
    pub strong_ref: bool,
    pub weak_ref: bool,
    /// The table of the row it names, once created.
    pub table: Option<String>,
}

/// The `@name` row ids of one transaction, in first-use order.
#[derive(Clone, Debug, Default)]
pub struct Symtab {
    pub symbols: BTreeMap<String, Symbol>,
    pub order: Vec<String>,
}

impl Symtab {
    /// The symbol `name`, inventing a UUID on first use.
    pub fn get_or_insert(&mut self, name: &str) -> &mut Symbol {
        if !self.symbols.contains_key(name) {
            self.order.push(name.to_string());
        }
        self.symbols
            .entry(name.to_string())
            .or_insert_with(|| Symbol {
                uuid: Uuid::random(),
                created: false,
                strong_ref: false,
                weak_ref: false,
                table: None,
            })
    }

    pub fn find(&self, name: &str) -> Option<&Symbol> {
        self.symbols.get(name)
    }
}

/// Reads one token from `s`: a double-quoted JSON string (unescaped) or
/// a run of non-delimiter characters. Returns (token, was quoted, rest).
pub fn parse_token(s: &str) -> Result<(String, bool, &str), String> {
    if let Some(body) = s.strip_prefix('"') {
        let mut escaped = false;
        for (i, c) in body.char_indices() {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                let quoted = &s[..i + 2];
                let text = match serde_json::from_str::<String>(quoted) {
                    Ok(t) => t,
                    Err(_) => return Err(format!("{quoted}: syntax error in string")),
                };
                return Ok((text, true, &s[i + 2..]));
            }
        }
        return Err(format!("{s}: quoted string extends past end of argument"));
    }
    let end = s.find(DELIMITERS).unwrap_or(s.len());
    Ok((s[..end].to_string(), false, &s[end..]))
}

fn skip_spaces(s: &str) -> &str {
    s.trim_start_matches(|c: char| c.is_ascii_whitespace())
}

/// C's `strtoll` over the whole text, base 10.
fn parse_integer(s: &str) -> Option<i64> {
    let t = s.trim_start();
    if t.is_empty() || t.starts_with("++") || t.starts_with("+-") {
        return None;
    }
    t.parse::<i64>().ok()
}

/// Atoms for one token: usually one, several for an integer range.
fn atoms_from_token(
    base: &BaseType,
    text: &str,
    quoted: bool,
    symtab: Option<&mut Symtab>,
    allow_range: bool,
) -> Result<Vec<Atom>, String> {
    let atom = match base.atomic {
        AtomicType::Integer => {
            if let Some(i) = parse_integer(text) {
                Atom::Integer(i)
            } else {
                let range = text.get(1..).and_then(|rest| rest.find('-')).map(|i| i + 1);
                let (lo, hi) = match range.map(|i| (&text[..i], &text[i + 1..])) {
                    Some((a, b)) => match (parse_integer(a), parse_integer(b)) {
                        (Some(a), Some(b)) if allow_range => (a, b),
                        _ => return Err(format!("\"{text}\" is not a valid integer or range")),
                    },
                    None => return Err(format!("\"{text}\" is not a valid integer or range")),
                };
                Atom::Integer(lo)
                    .check_constraints(base)
                    .and_then(|()| Atom::Integer(hi).check_constraints(base))
                    .map_err(|e| constraint_text(&e))?;
                if hi < lo {
                    return Err(format!(
                        "\"{text}\" is not a valid range. Range end cannot be before start."
                    ));
                }
                if hi - lo >= MAX_RANGE {
                    return Err(format!(
                        "\"{text}\" is not a valid range. Range size cannot be greater than {MAX_RANGE}."
                    ));
                }
                let atoms: Vec<Atom> = (lo..=hi).map(Atom::Integer).collect();
                for a in &atoms {
                    a.check_constraints(base).map_err(|e| constraint_text(&e))?;
                }
                return Ok(atoms);
            }
        }
        AtomicType::Real => match text.trim_start().parse::<f64>() {
            Ok(r) if !text.trim().is_empty() => Atom::Real(r),
            _ => return Err(format!("\"{text}\" is not a valid real number")),
        },
        AtomicType::Boolean => match text {
            "true" => Atom::Boolean(true),
            "false" => Atom::Boolean(false),
            _ => {
                return Err(format!(
                    "\"{text}\" is not a valid boolean (use \"true\" or \"false\")"
                ))
            }
        },
        AtomicType::String => {
            if text.is_empty() && !quoted {
                return Err(
                    "An empty string is not valid as input; use \"\" to represent the empty string"
                        .into(),
                );
            }
            Atom::String(text.to_string())
        }
        AtomicType::Uuid => {
            if let (Some(st), true) = (symtab, text.starts_with('@')) {
                let sym = st.get_or_insert(text);
                match base.ref_type {
                    RefType::Strong if base.ref_table.is_some() => sym.strong_ref = true,
                    RefType::Weak => sym.weak_ref = true,
                    _ => {}
                }
                Atom::Uuid(sym.uuid)
            } else {
                match Uuid::parse(text) {
                    Some(u) => Atom::Uuid(u),
                    None => return Err(format!("\"{text}\" is not a valid UUID")),
                }
            }
        }
    };
    atom.check_constraints(base)
        .map_err(|e| constraint_text(&e))?;
    Ok(vec![atom])
}

/// `ovsdb::Error` as upstream prints a constraint failure.
pub fn constraint_text(e: &ovsdb::Error) -> String {
    match &e.details {
        Some(d) => format!("{}: {}", e.tag, d),
        None => e.tag.clone(),
    }
}

/// Parses a whole argument as one atom of `base` (a map key or value
/// given as `COLUMN:KEY=VALUE`): a leading `"` means a JSON string.
pub fn atom_from_string(
    base: &BaseType,
    s: &str,
    symtab: Option<&mut Symtab>,
) -> Result<Atom, String> {
    let (text, quoted) = if s.starts_with('"') && base.atomic == AtomicType::String {
        match serde_json::from_str::<String>(s) {
            Ok(t) => (t, true),
            Err(_) => return Err(format!("{s}: syntax error in string")),
        }
    } else {
        (s.to_string(), false)
    };
    let mut atoms = atoms_from_token(base, &text, quoted, symtab, false)?;
    Ok(atoms.remove(0))
}

/// An English name of a type, as upstream's parse errors print it:
/// atomic type names (a reference is a "uuid"), sets by their bounds,
/// maps as pairs.
pub fn type_to_english(t: &Type) -> String {
    let key = t.key.atomic.name();
    if let Some(v) = &t.value {
        return format!("map of ({key}, {}) pairs", v.atomic.name());
    }
    if t.n_min == 1 && t.n_max == 1 {
        return key.to_string();
    }
    match (t.n_min, t.n_max) {
        (0, u32::MAX) => format!("set of {key}s"),
        (n, u32::MAX) => format!("set of {n} or more {key}s"),
        (0, m) => format!("set of up to {m} {key}s"),
        (n, m) => format!("set of {n} to {m} {key}s"),
    }
}

/// Parses a datum of type `t`: a set as `[a, b]` or `a, b` (also
/// space-separated), a map as `{k=v, ...}` or `k=v, ...`.
pub fn datum_from_string(
    t: &Type,
    s: &str,
    mut symtab: Option<&mut Symtab>,
) -> Result<Datum, String> {
    let is_map = t.is_map();
    let (open, close) = if is_map { ('{', '}') } else { ('[', ']') };
    let mut p = skip_spaces(s);
    let opened = p.starts_with(open);
    if opened {
        p = &p[1..];
    }
    let mut keys = Vec::new();
    let mut values = Vec::new();
    loop {
        p = skip_spaces(p);
        if p.is_empty() || (opened && p.starts_with(close)) {
            break;
        }
        let elem_start = p;
        if let Some(c) = p.chars().next().filter(|c| DELIMITERS.contains(c)) {
            return Err(format!(
                "{s}: unexpected \"{c}\" parsing {}",
                type_to_english(t)
            ));
        }
        let (text, quoted, rest) = parse_token(p)?;
        let ks = atoms_from_token(&t.key, &text, quoted, symtab.as_deref_mut(), !is_map)?;
        p = rest;
        if let Some(vt) = &t.value {
            p = skip_spaces(p);
            let Some(after) = p.strip_prefix('=') else {
                // Upstream formats the character with %c: at the end of the
                // text that is a NUL, which ends the message there.
                return Err(match p.chars().next() {
                    Some(c) => format!("{elem_start}: syntax error at \"{c}\" expecting \"=\""),
                    None => format!("{elem_start}: syntax error at \""),
                });
            };
            let (vtext, vquoted, rest) = parse_token(skip_spaces(after))?;
            let v = atoms_from_token(vt, &vtext, vquoted, symtab.as_deref_mut(), false)?;
            p = rest;
            keys.extend(ks);
            values.extend(v);
        } else {
            keys.extend(ks);
        }
        p = skip_spaces(p);
        if let Some(rest) = p.strip_prefix(',') {
            p = rest;
        }
    }
    if opened {
        match p.strip_prefix(close) {
            Some(rest) => p = rest,
            None => return Err(format!("{s}: missing \"{close}\" at end of data")),
        }
        if !skip_spaces(p).is_empty() {
            return Err(format!("{s}: trailing garbage after \"{close}\""));
        }
    }
    // Later duplicates of a key are dropped (first one wins).
    let mut seen = std::collections::BTreeSet::new();
    let mut uk = Vec::new();
    let mut uv = Vec::new();
    for (i, k) in keys.into_iter().enumerate() {
        if seen.insert(k.clone()) {
            if is_map {
                uv.push(values[i].clone());
            }
            uk.push(k);
        }
    }
    let n = uk.len() as u64;
    if n < u64::from(t.n_min) {
        return Err(format!(
            "{s}: {n} value(s) specified but the minimum number is {}",
            t.n_min
        ));
    }
    if n > u64::from(t.n_max) {
        return Err(format!(
            "{s}: {n} value(s) specified but the maximum number is {}",
            t.n_max
        ));
    }
    Datum::sorted(uk, if is_map { Some(uv) } else { None }).map_err(|e| constraint_text(&e))
}

/// The parts of a `COLUMN[:KEY][OP VALUE]` argument.
#[derive(Clone, Debug, PartialEq)]
pub struct ColumnArg {
    pub column: String,
    pub key: Option<String>,
    /// The operator and the value text, when present.
    pub op: Option<(String, String)>,
    /// Why no operator and value could be read (reported after the column
    /// has been looked up, as upstream does).
    pub op_error: Option<String>,
}

/// Splits `arg` into column, key and (for `ops`, longest first) operator
/// and value. `ops` empty: no value expected.
pub fn parse_column_arg(arg: &str, ops: &[&str]) -> Result<ColumnArg, String> {
    let (column, _, mut p) = parse_token(arg)?;
    if column.is_empty() {
        return Err(format!("{arg}: missing column name"));
    }
    let mut key = None;
    if let Some(rest) = p.strip_prefix(':') {
        let (k, quoted, rest) = parse_token(rest)?;
        key = Some(if quoted {
            serde_json::to_string(&k).unwrap_or(k)
        } else {
            k
        });
        p = rest;
    }
    if ops.is_empty() {
        if !p.is_empty() {
            return Err(format!("{arg}: trailing garbage \"{p}\" in argument"));
        }
        return Ok(ColumnArg {
            column,
            key,
            op: None,
            op_error: None,
        });
    }
    let mut best: Option<&str> = None;
    for op in ops {
        if p.starts_with(op) && best.is_none_or(|b| op.len() > b.len()) {
            best = Some(op);
        }
    }
    match best {
        Some(op) if p.len() > op.len() => Ok(ColumnArg {
            column,
            key,
            op: Some((op.to_string(), p[op.len()..].to_string())),
            op_error: None,
        }),
        _ => {
            let list = if ops.len() == 1 {
                format!("\"{}\"", ops[0])
            } else {
                let mut quoted: Vec<String> = ops.iter().map(|o| format!("\"{o}\"")).collect();
                let last = quoted.pop().unwrap_or_default();
                format!("{}, or {last}", quoted.join(", "))
            };
            Ok(ColumnArg {
                column,
                key,
                op: None,
                op_error: Some(format!(
                    "{arg}: argument does not end in {list} followed by a value."
                )),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ty(j: serde_json::Value) -> Type {
        Type::from_json(&j).unwrap()
    }

    #[test]
    fn sets_maps_ranges_and_errors() {
        let trunks = ty(
            json!({"key": {"type": "integer", "minInteger": 0, "maxInteger": 4095}, "min": 0, "max": 4096}),
        );
        let d = datum_from_string(&trunks, "[1, 3-5 2]", None).unwrap();
        assert_eq!(d.to_text(&trunks), "[1, 2, 3, 4, 5]");
        assert_eq!(
            datum_from_string(&trunks, ",1", None).unwrap_err(),
            ",1: unexpected \",\" parsing set of up to 4096 integers"
        );
        assert_eq!(
            datum_from_string(&trunks, "5-3", None).unwrap_err(),
            "\"5-3\" is not a valid range. Range end cannot be before start."
        );
        assert_eq!(
            datum_from_string(&trunks, "[5", None).unwrap_err(),
            "[5: missing \"]\" at end of data"
        );
        let tag = ty(
            json!({"key": {"type": "integer", "minInteger": 0, "maxInteger": 4095}, "min": 0, "max": 1}),
        );
        assert_eq!(
            datum_from_string(&tag, "5,6", None).unwrap_err(),
            "5,6: 2 value(s) specified but the maximum number is 1"
        );
        assert_eq!(
            datum_from_string(&tag, "abc", None).unwrap_err(),
            "\"abc\" is not a valid integer or range"
        );
        assert!(datum_from_string(&tag, "[]", None).unwrap().is_empty());
        let map = ty(json!({"key": "string", "value": "string", "min": 0, "max": "unlimited"}));
        let d = datum_from_string(&map, "{a=b,c=d e=\"x y\"}", None).unwrap();
        assert_eq!(d.to_text(&map), "{a=b, c=d, e=\"x y\"}");
        assert_eq!(
            datum_from_string(&map, "a", None).unwrap_err(),
            "a: syntax error at \""
        );
        assert_eq!(
            datum_from_string(&map, "{a}", None).unwrap_err(),
            "a}: syntax error at \"}\" expecting \"=\""
        );
        assert_eq!(
            datum_from_string(&map, "{a=b}x", None).unwrap_err(),
            "{a=b}x: trailing garbage after \"}\""
        );
    }

    #[test]
    fn column_arguments() {
        let a = parse_column_arg("other_config:k=v=w", &["="]).unwrap();
        assert_eq!(a.column, "other_config");
        assert_eq!(a.key.as_deref(), Some("k"));
        assert_eq!(a.op, Some(("=".into(), "v=w".into())));
        assert_eq!(
            parse_column_arg("name=", &["="]).unwrap().op_error.unwrap(),
            "name=: argument does not end in \"=\" followed by a value."
        );
        assert_eq!(
            parse_column_arg(" =x", &["="]).unwrap_err(),
            " =x: missing column name"
        );
        let f = parse_column_arg("tag{>=}4", &["=", "{>=}", ">="]).unwrap();
        assert_eq!(f.op, Some(("{>=}".into(), "4".into())));
    }

    #[test]
    fn row_ids_are_symbols() {
        let t = ty(json!({"key": {"type": "uuid", "refTable": "QoS"}, "min": 0, "max": 1}));
        let mut st = Symtab::default();
        let d = datum_from_string(&t, "@q", Some(&mut st)).unwrap();
        let sym = st.find("@q").unwrap();
        assert!(sym.strong_ref && !sym.created);
        assert_eq!(d.keys[0], Atom::Uuid(sym.uuid));
        assert_eq!(
            datum_from_string(&t, "xyz", None).unwrap_err(),
            "\"xyz\" is not a valid UUID"
        );
    }
}
