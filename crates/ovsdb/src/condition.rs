//! `where` clauses (RFC 7047 §5.1 `<condition>`): parsing against a table
//! schema and evaluation against rows.

use crate::datum::{Datum, Symtab};
use crate::error::Error;
use crate::row::Row;
use crate::schema::{ColumnRef, TableSchema};
use crate::types::{AtomicType, BaseType, Type};
use serde_json::Value;
use std::cmp::Ordering;

/// A comparison function of a condition.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Function {
    Lt,
    Le,
    Eq,
    Ne,
    Ge,
    Gt,
    Includes,
    Excludes,
}

impl Function {
    pub fn from_name(s: &str) -> Option<Function> {
        Some(match s {
            "<" => Function::Lt,
            "<=" => Function::Le,
            "==" => Function::Eq,
            "!=" => Function::Ne,
            ">=" => Function::Ge,
            ">" => Function::Gt,
            "includes" => Function::Includes,
            "excludes" => Function::Excludes,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Function::Lt => "<",
            Function::Le => "<=",
            Function::Eq => "==",
            Function::Ne => "!=",
            Function::Ge => ">=",
            Function::Gt => ">",
            Function::Includes => "includes",
            Function::Excludes => "excludes",
        }
    }
}

/// One clause: a column compared with a value, or a constant.
#[derive(Clone, Debug, PartialEq)]
pub enum Clause {
    Compare {
        column: ColumnRef,
        function: Function,
        arg: Datum,
    },
    Constant(bool),
}

/// A conjunction of clauses.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Condition {
    pub clauses: Vec<Clause>,
}

/// English description of a type, as type-mismatch messages show it.
pub fn type_to_english(t: &Type) -> String {
    let base = |b: &BaseType, plural: bool| -> String {
        let s = match &b.ref_table {
            Some(rt) => format!("reference{} to {rt}", if plural { "s" } else { "" }),
            None => format!("{}{}", b.atomic.name(), if plural { "s" } else { "" }),
        };
        s
    };
    if let Some(v) = &t.value {
        let pair = format!("({}, {})", base(&t.key, false), base(v, false));
        return if t.n_max == u32::MAX {
            if t.n_min == 0 {
                format!("map of {pair} pairs")
            } else {
                format!("map of {} or more {pair} pairs", t.n_min)
            }
        } else if t.n_min == 0 {
            format!("map of up to {} {pair} pairs", t.n_max)
        } else {
            format!("map of {} to {} {pair} pairs", t.n_min, t.n_max)
        };
    }
    if t.is_scalar() {
        return base(&t.key, false);
    }
    if t.is_optional() {
        return format!("optional {}", base(&t.key, false));
    }
    if t.n_max == u32::MAX {
        if t.n_min == 0 {
            format!("set of {}", base(&t.key, true))
        } else {
            format!("set of {} or more {}", t.n_min, base(&t.key, true))
        }
    } else if t.n_min == 0 {
        format!("set of up to {} {}", t.n_max, base(&t.key, true))
    } else {
        format!("set of {} to {} {}", t.n_min, t.n_max, base(&t.key, true))
    }
}

impl Condition {
    /// The condition that every row satisfies.
    pub fn always() -> Condition {
        Condition::default()
    }

    /// Parses a `where` array against `table`.
    pub fn from_json(
        table: &TableSchema,
        json: &Value,
        mut symtab: Option<&mut Symtab>,
    ) -> Result<Condition, Error> {
        let Some(items) = json.as_array() else {
            return Err(Error::syntax(Some(json), "Parse error in condition."));
        };
        let mut clauses = Vec::with_capacity(items.len());
        for item in items {
            if let Some(b) = item.as_bool() {
                clauses.push(Clause::Constant(b));
                continue;
            }
            let Some([Value::String(col), Value::String(func), arg]) =
                item.as_array().map(Vec::as_slice)
            else {
                return Err(Error::syntax(Some(item), "Parse error in condition."));
            };
            let Some(column) = table.column(col) else {
                return Err(Error::with_syntax(
                    "unknown column",
                    Some(item),
                    format!("No column {col} in table {}.", table.name),
                ));
            };
            let Some(function) = Function::from_name(func) else {
                return Err(Error::new(
                    "unknown function",
                    format!("No function named {func}."),
                ));
            };
            let ty = table.column_type(column);
            let arg_type = match function {
                Function::Lt | Function::Le | Function::Ge | Function::Gt => {
                    if !(ty.is_scalar()
                        && matches!(ty.key.atomic, AtomicType::Integer | AtomicType::Real))
                    {
                        return Err(Error::syntax(
                            Some(item),
                            format!(
                                "Type mismatch: \"{func}\" operator may not be applied to column {col} of type {}.",
                                type_to_english(&ty)
                            ),
                        ));
                    }
                    ty.clone()
                }
                Function::Eq | Function::Ne => ty.clone(),
                Function::Includes | Function::Excludes => Type {
                    n_min: 0,
                    ..ty.clone()
                },
            };
            let arg = Datum::from_json(&arg_type, arg, symtab.as_deref_mut())?;
            clauses.push(Clause::Compare {
                column,
                function,
                arg,
            });
        }
        Ok(Condition { clauses })
    }

    /// If the condition pins `_uuid` to one value, that value.
    pub fn uuid_lookup(&self) -> Option<crate::uuid::Uuid> {
        self.clauses.iter().find_map(|c| match c {
            Clause::Compare {
                column: ColumnRef::Uuid,
                function: Function::Eq,
                arg,
            } => arg.keys.first().and_then(|a| a.as_uuid()),
            _ => None,
        })
    }

    /// True if `row` satisfies every clause.
    pub fn evaluate(&self, row: &Row) -> bool {
        self.clauses.iter().all(|c| match c {
            Clause::Constant(b) => *b,
            Clause::Compare {
                column,
                function,
                arg,
            } => {
                let owned;
                let value: &Datum = match row.field(*column) {
                    Some(d) => d,
                    None => {
                        owned = row.get(*column);
                        &owned
                    }
                };
                compare(value, *function, arg)
            }
        })
    }
}

fn compare(value: &Datum, f: Function, arg: &Datum) -> bool {
    match f {
        Function::Eq => value == arg,
        Function::Ne => value != arg,
        Function::Includes => value.includes(arg),
        Function::Excludes => value.excludes(arg),
        Function::Lt | Function::Le | Function::Ge | Function::Gt => {
            let (Some(a), Some(b)) = (value.keys.first(), arg.keys.first()) else {
                return false;
            };
            let o = a.cmp(b);
            match f {
                Function::Lt => o == Ordering::Less,
                Function::Le => o != Ordering::Greater,
                Function::Ge => o != Ordering::Less,
                _ => o == Ordering::Greater,
            }
        }
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
            "e":{"type":{"key":"string","min":0,"max":"unlimited"}},
            "m":{"type":{"key":"string","value":"integer","min":0,"max":"unlimited"}}}}}}))
        .unwrap()
    }

    #[test]
    fn evaluates() {
        let s = schema();
        let t = s.table("A").unwrap();
        let mut row = Row::new_default(t, crate::uuid::Uuid::random());
        row.fields[t.by_name["i"]] = Datum::from_atom(crate::datum::Atom::Integer(5));
        let c = |j: Value| Condition::from_json(t, &j, None).unwrap().evaluate(&row);
        assert!(c(json!([["i", "<", 6], ["i", ">=", 5]])));
        assert!(!c(json!([["i", "!=", 5]])));
        assert!(c(json!([["e", "excludes", "x"], true])));
        assert!(!c(json!([false])));
        assert!(c(json!([["m", "includes", ["map", []]]])));
    }

    #[test]
    fn messages() {
        let s = schema();
        let t = s.table("A").unwrap();
        let e = Condition::from_json(t, &json!([["e", "<", 1]]), None).unwrap_err();
        assert_eq!(
            e.details.unwrap(),
            "Type mismatch: \"<\" operator may not be applied to column e of type set of strings."
        );
        let e = Condition::from_json(t, &json!([["i", "foo", 1]]), None).unwrap_err();
        assert_eq!(
            e.to_json(),
            json!({"error":"unknown function","details":"No function named foo."})
        );
        let e = Condition::from_json(t, &json!([["i", "=="]]), None).unwrap_err();
        assert_eq!(e.details.unwrap(), "Parse error in condition.");
        let m = &t.columns[t.by_name["m"]].ty;
        assert_eq!(type_to_english(m), "map of (string, integer) pairs");
    }
}
