//! Schema conversion (`ovsdb-tool convert`, the server's `convert`
//! method): the data of a database moved under a new schema, with the
//! errors upstream reports for values the new schema rejects.

use crate::database::Database;
use crate::datum::Datum;
use crate::error::Error;
use crate::schema::DatabaseSchema;
use crate::transaction::{ExecOptions, Outcome};
use serde_json::Value;

/// Moves the data of `old` into a new database with `schema`: tables and
/// columns missing from `schema` are dropped, the rest must satisfy it.
pub fn convert(old: &Database, schema: DatabaseSchema) -> Result<Database, Error> {
    let mut new = Database::new(schema.clone());
    let mut params = vec![Value::String(schema.name.clone())];
    for (tname, table) in &old.tables {
        let (Some(old_ts), Some(new_ts)) = (old.schema.table(tname), schema.table(tname)) else {
            continue;
        };
        for (uuid, row) in &table.rows {
            let mut obj = serde_json::Map::new();
            for (i, c) in old_ts.columns.iter().enumerate() {
                if let Some(&j) = new_ts.by_name.get(&c.name) {
                    let value = row.fields[i].to_json(&c.ty);
                    // Report a value the new schema rejects as upstream does.
                    Datum::from_json(&new_ts.columns[j].ty, &value, None)?;
                    obj.insert(c.name.clone(), value);
                }
            }
            params.push(serde_json::json!({
                "op": "insert", "table": tname, "uuid": uuid.to_string(), "row": obj
            }));
        }
    }
    let params = Value::Array(params);
    match new.execute(&params, &ExecOptions::default())? {
        Outcome::Done {
            commit: Some(commit),
            ..
        } => {
            new.apply(&commit.changes);
            Ok(new)
        }
        Outcome::Done { results, .. } => {
            let err = results
                .as_array()
                .and_then(|r| r.iter().find(|v| v.get("error").is_some()))
                .cloned()
                .unwrap_or(Value::Null);
            let tag = err
                .get("error")
                .and_then(Value::as_str)
                .unwrap_or("ovsdb error");
            let details = err.get("details").and_then(Value::as_str).unwrap_or("");
            Err(Error::new(tag, details))
        }
        Outcome::Blocked { .. } => Err(Error::new("ovsdb error", "conversion blocked")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema(cols: Value) -> DatabaseSchema {
        DatabaseSchema::from_json(&json!({"name": "D", "version": "1.0.0",
            "tables": {"T": {"columns": cols, "isRoot": true}}}))
        .unwrap()
    }

    #[test]
    fn keeps_rows_and_drops_removed_columns() {
        let mut db = Database::new(schema(
            json!({"a": {"type": "integer"}, "b": {"type": "string"}}),
        ));
        let p = json!(["D", {"op": "insert", "table": "T", "row": {"a": 5, "b": "x"}}]);
        match db.execute(&p, &ExecOptions::default()).unwrap() {
            Outcome::Done {
                commit: Some(c), ..
            } => db.apply(&c.changes),
            other => panic!("{other:?}"),
        }
        let new = convert(
            &db,
            schema(json!({"a": {"type": "integer"}, "c": {"type": "boolean"}})),
        )
        .unwrap();
        let t = new.table("T").unwrap();
        assert_eq!(t.len(), 1);
        let err = convert(&db, schema(json!({"a": {"type": "boolean"}}))).unwrap_err();
        assert_eq!(err.to_json()["details"], "expected boolean");
    }
}
