//! `mutate` mutations (RFC 7047 §5.1 `<mutation>`): arithmetic on integer and
//! real columns (or the elements of sets of them), and `insert`/`delete` on
//! sets and maps.

use crate::condition::type_to_english;
use crate::datum::{Atom, Datum, Symtab};
use crate::error::Error;
use crate::schema::{ColumnRef, TableSchema};
use crate::types::{AtomicType, Type};
use serde_json::Value;

/// A mutator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mutator {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Insert,
    Delete,
}

impl Mutator {
    pub fn from_name(s: &str) -> Option<Mutator> {
        Some(match s {
            "+=" => Mutator::Add,
            "-=" => Mutator::Sub,
            "*=" => Mutator::Mul,
            "/=" => Mutator::Div,
            "%=" => Mutator::Mod,
            "insert" => Mutator::Insert,
            "delete" => Mutator::Delete,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Mutator::Add => "+=",
            Mutator::Sub => "-=",
            Mutator::Mul => "*=",
            Mutator::Div => "/=",
            Mutator::Mod => "%=",
            Mutator::Insert => "insert",
            Mutator::Delete => "delete",
        }
    }
}

/// One parsed mutation.
#[derive(Clone, Debug, PartialEq)]
pub struct Mutation {
    pub column: usize,
    pub mutator: Mutator,
    pub arg: Datum,
    /// For `delete` on a map: `arg` is a set of keys.
    pub arg_is_keys: bool,
}

impl Mutation {
    /// Parses one `[column, mutator, value]` against `table`.
    pub fn from_json(
        table: &TableSchema,
        json: &Value,
        symtab: Option<&mut Symtab>,
    ) -> Result<Mutation, Error> {
        let Some([Value::String(col), Value::String(m), arg_json]) =
            json.as_array().map(Vec::as_slice)
        else {
            return Err(Error::syntax(Some(json), "Parse error in mutation."));
        };
        let Some(cref) = table.column(col) else {
            return Err(Error::with_syntax(
                "unknown column",
                Some(json),
                format!("No column {col} in table {}.", table.name),
            ));
        };
        let Some(mutator) = Mutator::from_name(m) else {
            return Err(Error::new(
                "unknown mutator",
                format!("No mutator named {m}."),
            ));
        };
        let column = match cref {
            ColumnRef::Index(i) if table.columns[i].mutable => i,
            _ => {
                return Err(Error::with_syntax(
                    "constraint violation",
                    Some(json),
                    format!(
                        "Cannot mutate immutable column {col} in table {}.",
                        table.name
                    ),
                ))
            }
        };
        let ty = &table.columns[column].ty;
        let mismatch = || {
            Error::syntax(
                Some(json),
                format!(
                    "Type mismatch: \"{m}\" operator may not be applied to column {col} of type {}.",
                    type_to_english(ty)
                ),
            )
        };
        match mutator {
            Mutator::Add | Mutator::Sub | Mutator::Mul | Mutator::Div | Mutator::Mod => {
                let numeric = match mutator {
                    Mutator::Mod => ty.key.atomic == AtomicType::Integer,
                    _ => matches!(ty.key.atomic, AtomicType::Integer | AtomicType::Real),
                };
                if ty.is_map() || !numeric {
                    return Err(mismatch());
                }
                let scalar = Type {
                    key: ty.key.without_constraints(),
                    value: None,
                    n_min: 1,
                    n_max: 1,
                };
                let arg = Datum::from_json(&scalar, arg_json, symtab)?;
                if mutator == Mutator::Div || mutator == Mutator::Mod {
                    let zero = match arg.keys.first() {
                        Some(Atom::Integer(0)) => true,
                        Some(Atom::Real(r)) => *r == 0.0,
                        _ => false,
                    };
                    if zero {
                        return Err(Error::new("domain error", "Division by zero."));
                    }
                }
                Ok(Mutation {
                    column,
                    mutator,
                    arg,
                    arg_is_keys: false,
                })
            }
            Mutator::Insert | Mutator::Delete => {
                if ty.is_scalar() {
                    return Err(mismatch());
                }
                let relaxed = Type {
                    n_min: 0,
                    ..ty.clone()
                };
                let keys_only = mutator == Mutator::Delete
                    && ty.is_map()
                    && !matches!(arg_json.as_array().map(Vec::as_slice),
                                 Some([Value::String(s), _]) if s == "map");
                if keys_only {
                    let kt = Type {
                        key: ty.key.clone(),
                        value: None,
                        n_min: 0,
                        n_max: u32::MAX,
                    };
                    let arg = Datum::from_json(&kt, arg_json, symtab)?;
                    return Ok(Mutation {
                        column,
                        mutator,
                        arg,
                        arg_is_keys: true,
                    });
                }
                let arg = if mutator == Mutator::Delete {
                    let t = Type {
                        n_max: u32::MAX,
                        ..relaxed
                    };
                    Datum::from_json_unchecked(&t, arg_json, symtab)?
                } else {
                    Datum::from_json(&relaxed, arg_json, symtab)?
                };
                Ok(Mutation {
                    column,
                    mutator,
                    arg,
                    arg_is_keys: false,
                })
            }
        }
    }

    /// Applies the mutation to `value` (of `table`'s column type), checking
    /// the result's constraints and size.
    pub fn apply(&self, table: &TableSchema, value: &mut Datum) -> Result<(), Error> {
        let ty = &table.columns[self.column].ty;
        match self.mutator {
            Mutator::Insert => value.union(&self.arg),
            Mutator::Delete => value.subtract(&self.arg, self.arg_is_keys),
            _ => {
                let Some(arg) = self.arg.keys.first() else {
                    return Ok(());
                };
                let mut keys = Vec::with_capacity(value.keys.len());
                for a in &value.keys {
                    let r = arith(self.mutator, a, arg).ok_or_else(|| {
                        Error::new(
                            "range error",
                            format!(
                                "Result of \"{}\" operation is out of range.",
                                self.mutator.name()
                            ),
                        )
                    })?;
                    r.check_constraints(&ty.key)?;
                    keys.push(r);
                }
                let n = keys.len();
                let d = Datum::from_set(keys);
                if d.len() != n {
                    return Err(Error::constraint(format!(
                        "Result of \"{}\" operation contains duplicates.",
                        self.mutator.name()
                    )));
                }
                *value = d;
            }
        }
        let n = value.len() as u64;
        if n < ty.n_min as u64 || n > ty.n_max as u64 {
            return Err(Error::constraint(format!(
                "Attempted to store {n} elements in {}.",
                type_to_english(ty)
            )));
        }
        Ok(())
    }
}

fn arith(m: Mutator, a: &Atom, b: &Atom) -> Option<Atom> {
    match (a, b) {
        (Atom::Integer(x), Atom::Integer(y)) => {
            let r = match m {
                Mutator::Add => x.checked_add(*y),
                Mutator::Sub => x.checked_sub(*y),
                Mutator::Mul => x.checked_mul(*y),
                Mutator::Div => x.checked_div(*y),
                Mutator::Mod => x.checked_rem(*y),
                _ => None,
            }?;
            Some(Atom::Integer(r))
        }
        (Atom::Real(x), Atom::Real(y)) => {
            let r = match m {
                Mutator::Add => x + y,
                Mutator::Sub => x - y,
                Mutator::Mul => x * y,
                Mutator::Div => x / y,
                _ => return None,
            };
            r.is_finite().then_some(Atom::Real(r))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::DatabaseSchema;
    use serde_json::json;

    fn schema() -> DatabaseSchema {
        DatabaseSchema::from_json(&json!({"name":"T","tables":{"A":{"columns":{
            "i":{"type":"integer"},
            "k":{"type":"string","mutable":false},
            "n":{"type":{"key":"integer","min":0,"max":3}},
            "m":{"type":{"key":"string","value":"integer","min":0,"max":"unlimited"}}}}}}))
        .unwrap()
    }

    fn run(j: Value, start: Datum) -> Result<Datum, Error> {
        let s = schema();
        let t = s.table("A").unwrap();
        let m = Mutation::from_json(t, &j, None)?;
        let mut d = start;
        m.apply(t, &mut d)?;
        Ok(d)
    }

    #[test]
    fn arithmetic_and_sets() {
        assert_eq!(
            run(json!(["i", "+=", 2]), Datum::from_atom(Atom::Integer(3))).unwrap(),
            Datum::from_atom(Atom::Integer(5))
        );
        assert_eq!(
            run(json!(["i", "/=", 0]), Datum::from_atom(Atom::Integer(3)))
                .unwrap_err()
                .tag,
            "domain error"
        );
        let e = run(
            json!(["i", "+=", i64::MAX]),
            Datum::from_atom(Atom::Integer(3)),
        )
        .unwrap_err();
        assert_eq!(
            e.details.unwrap(),
            "Result of \"+=\" operation is out of range."
        );
        let full = Datum::from_set(vec![Atom::Integer(1), Atom::Integer(2), Atom::Integer(3)]);
        let e = run(json!(["n", "insert", ["set", [5]]]), full.clone()).unwrap_err();
        assert_eq!(
            e.details.unwrap(),
            "Attempted to store 4 elements in set of up to 3 integers."
        );
        let d = run(json!(["n", "delete", 2]), full).unwrap();
        assert_eq!(d.len(), 2);
        let m = Datum::sorted(
            vec![Atom::String("a".into()), Atom::String("b".into())],
            Some(vec![Atom::Integer(1), Atom::Integer(2)]),
        )
        .unwrap();
        assert_eq!(
            run(json!(["m", "delete", ["set", ["a"]]]), m.clone())
                .unwrap()
                .len(),
            1
        );
        assert_eq!(
            run(json!(["m", "delete", ["map", [["a", 5]]]]), m.clone())
                .unwrap()
                .len(),
            2
        );
        assert_eq!(
            run(json!(["m", "insert", ["map", [["a", 5], ["c", 3]]]]), m)
                .unwrap()
                .get(&Atom::String("a".into())),
            Some(&Atom::Integer(1))
        );
    }

    #[test]
    fn messages() {
        let e = run(json!(["k", "+=", 1]), Datum::empty(false)).unwrap_err();
        assert_eq!(
            e.details.unwrap(),
            "Cannot mutate immutable column k in table A."
        );
        let e = run(json!(["i", "insert", 1]), Datum::empty(false)).unwrap_err();
        assert_eq!(
            e.details.unwrap(),
            "Type mismatch: \"insert\" operator may not be applied to column i of type integer."
        );
        let e = run(json!(["i", "xx", 1]), Datum::empty(false)).unwrap_err();
        assert_eq!(
            e.to_json(),
            json!({"error":"unknown mutator","details":"No mutator named xx."})
        );
    }
}
