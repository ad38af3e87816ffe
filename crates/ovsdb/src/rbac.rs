//! Role-based access control (ovsdb-server(7) §3.2 and §4.1.3): which
//! writes a client may make, decided by its remote's `role` and the
//! database's `RBAC_Role` table.
//!
//! The rules apply only to a database whose schema has a table named
//! `RBAC_Role` and to a client whose remote has a non-empty role. Such a
//! client must have an identity (the common name of its TLS certificate;
//! clients on other streams have none, and every write of theirs is
//! refused). Its role's row in `RBAC_Role` (found by `name`) maps table
//! names (`permissions`) to rows of a permission table, whose columns say
//! which rows the client owns (`authorization`: columns, or `column:key`
//! pairs of string maps, that must hold the client's identity; an empty
//! string authorizes everyone), whether it may insert and delete them
//! (`insert_delete`), and which columns it may update or mutate
//! (`update`). Columns of the wrong type count as absent, as upstream
//! reads them. The transaction engine asks here before each write and
//! fails the operation with a `permission error` when refused.

use crate::datum::{Atom, Datum};
use crate::row::Row;
use crate::schema::{DatabaseSchema, TableSchema};
use crate::types::AtomicType;
use crate::uuid::Uuid;

/// The name of the table that turns the rules on.
pub const ROLE_TABLE: &str = "RBAC_Role";

/// Log module of the rules' messages.
const MODULE: &str = "ovsdb_rbac";

static LOOKUP_RL: vlog::RateLimit = vlog::RateLimit::new(1, 1);
static AUTH_RL: vlog::RateLimit = vlog::RateLimit::new(1, 1);
static UPDATE_RL: vlog::RateLimit = vlog::RateLimit::new(1, 1);

/// Who runs a transaction, as far as the rules care.
#[derive(Clone, Copy, Debug, Default)]
pub struct Access<'a> {
    /// The role of the client's remote; empty: none.
    pub role: &'a str,
    /// The client's identity (its certificate's common name), if any.
    pub id: Option<&'a str>,
}

/// What a transaction sees of the database while it runs (its own writes
/// included).
pub(crate) trait RowSource {
    fn schema(&self) -> &DatabaseSchema;
    /// Every row of `table`.
    fn rows(&self, table: &str) -> Vec<Row>;
    fn row(&self, table: &str, uuid: &Uuid) -> Option<Row>;
}

/// A permission row with the schema of its table.
struct Perms<'s> {
    row: Row,
    table: &'s TableSchema,
}

impl Perms<'_> {
    /// Whether the row lets its owners insert and delete rows.
    fn insert_delete(&self) -> bool {
        bool_column(self.table, &self.row, "insert_delete") == Some(true)
    }
}

/// The datum of column `name` of `row` if its type is exactly the one
/// given (key type, value type, maximum size).
fn typed_datum<'r>(
    table: &TableSchema,
    row: &'r Row,
    name: &str,
    key: AtomicType,
    value: Option<AtomicType>,
    n_max: u32,
) -> Option<&'r Datum> {
    let i = *table.by_name.get(name)?;
    let ty = &table.columns[i].ty;
    if ty.key.atomic != key || ty.value.as_ref().map(|v| v.atomic) != value || ty.n_max != n_max {
        return None;
    }
    row.fields.get(i)
}

/// A single string column's value (absent when empty or of another type).
fn string_column<'r>(table: &TableSchema, row: &'r Row, name: &str) -> Option<&'r str> {
    typed_datum(table, row, name, AtomicType::String, None, 1)?
        .keys
        .first()?
        .as_str()
}

/// The value of `key` in a string-to-string map column.
fn map_string_column<'r>(
    table: &TableSchema,
    row: &'r Row,
    name: &str,
    key: &str,
) -> Option<&'r str> {
    let d = typed_datum(
        table,
        row,
        name,
        AtomicType::String,
        Some(AtomicType::String),
        u32::MAX,
    )?;
    d.get(&Atom::String(key.to_string()))?.as_str()
}

/// A single boolean column's value (absent when empty or of another type).
fn bool_column(table: &TableSchema, row: &Row, name: &str) -> Option<bool> {
    match typed_datum(table, row, name, AtomicType::Boolean, None, 1)?
        .keys
        .first()?
    {
        Atom::Boolean(b) => Some(*b),
        _ => None,
    }
}

/// A set of strings column (`authorization`, `update`).
fn string_set<'r>(table: &TableSchema, row: &'r Row, name: &str) -> Option<&'r Datum> {
    typed_datum(table, row, name, AtomicType::String, None, u32::MAX)
}

/// What the rules grant the client on table `ts`.
enum Grant<'s, 'a> {
    /// The rules do not apply: every write is allowed.
    Everything,
    /// Every write is refused (no identity, or no permission row).
    Nothing,
    /// The permission row decides, for the client of this identity.
    Perms(Perms<'s>, &'a str),
}

/// The client's permissions on `ts`: the rules apply to a database with
/// an `RBAC_Role` table and a client with a role.
fn permissions<'s, 'a>(
    src: &'s dyn RowSource,
    access: &Access<'a>,
    ts: &TableSchema,
) -> Grant<'s, 'a> {
    if access.role.is_empty() || src.schema().table(ROLE_TABLE).is_none() {
        return Grant::Everything;
    }
    let Some(id) = access.id else {
        return Grant::Nothing;
    };
    match lookup_perms(src, access.role, &ts.name) {
        Some(perms) => Grant::Perms(perms, id),
        None => Grant::Nothing,
    }
}

/// The permission row of `role` for table `table`.
fn lookup_perms<'s>(src: &'s dyn RowSource, role: &str, table: &str) -> Option<Perms<'s>> {
    let roles = src.schema().table(ROLE_TABLE)?;
    let role_row = roles.by_name.get("name").and_then(|&i| {
        src.rows(ROLE_TABLE).into_iter().find(|r| {
            r.fields.get(i).is_some_and(|d| {
                d.keys
                    .iter()
                    .any(|k| k.as_str().is_some_and(|s| !s.is_empty() && s == role))
            })
        })
    });
    let Some(role_row) = role_row else {
        vlog::info_rl!(
            &LOOKUP_RL,
            MODULE,
            "rbac: role \"{role}\" not found in rbac roles table"
        );
        return None;
    };
    let Some(&pi) = roles.by_name.get("permissions") else {
        vlog::info_rl!(
            &LOOKUP_RL,
            MODULE,
            "rbac: \"permissions\" column not present in rbac roles table"
        );
        return None;
    };
    let pcol = &roles.columns[pi].ty;
    let vtype = pcol.value.as_ref()?;
    if pcol.key.atomic != AtomicType::String || vtype.atomic != AtomicType::Uuid {
        return None;
    }
    let ref_table = vtype.ref_table.as_deref()?;
    let perm_schema = src.schema().table(ref_table)?;
    let d = role_row.fields.get(pi)?;
    let i = d.keys.iter().position(|k| k.as_str() == Some(table))?;
    let uuid = d.values.as_ref()?.get(i)?.as_uuid()?;
    let row = src.row(ref_table, &uuid)?;
    Some(Perms {
        row,
        table: perm_schema,
    })
}

/// Whether the client `id` owns `row` of table `ts` under `perms`.
fn authorized(perms: &Perms<'_>, id: &str, ts: &TableSchema, row: &Row) -> bool {
    let Some(auth) = string_set(perms.table, &perms.row, "authorization") else {
        vlog::info_rl!(&AUTH_RL, MODULE, "rbac: error reading authorization column");
        return false;
    };
    for name in auth.keys.iter().filter_map(Atom::as_str) {
        if name.is_empty() {
            return true;
        }
        let value = if name.contains(':') {
            let mut parts = name.split(':').filter(|s| !s.is_empty());
            match (parts.next(), parts.next()) {
                (Some(col), Some(key)) => map_string_column(ts, row, col, key),
                _ => None,
            }
        } else {
            string_column(ts, row, name)
        };
        if value == Some(id) {
            return true;
        }
    }
    false
}

/// May the client insert `row` into `ts`?
pub(crate) fn may_insert(
    src: &dyn RowSource,
    access: &Access<'_>,
    ts: &TableSchema,
    row: &Row,
) -> bool {
    match permissions(src, access, ts) {
        Grant::Everything => true,
        Grant::Nothing => false,
        Grant::Perms(perms, id) => authorized(&perms, id, ts, row) && perms.insert_delete(),
    }
}

/// May the client delete `rows` (those its condition selects) of `ts`?
pub(crate) fn may_delete(
    src: &dyn RowSource,
    access: &Access<'_>,
    ts: &TableSchema,
    rows: &[Row],
) -> bool {
    match permissions(src, access, ts) {
        Grant::Everything => true,
        Grant::Nothing => false,
        Grant::Perms(perms, id) => rows
            .iter()
            .all(|r| authorized(&perms, id, ts, r) && perms.insert_delete()),
    }
}

/// Which operation asks to modify columns (for the log line when the
/// permission row cannot say).
#[derive(Clone, Copy)]
pub(crate) enum Modify {
    Update,
    Mutate,
}

/// May the client change `columns` (indexes into `ts.columns`) of `rows`
/// (those its condition selects) by `how`?
pub(crate) fn may_modify(
    src: &dyn RowSource,
    access: &Access<'_>,
    ts: &TableSchema,
    columns: &[usize],
    rows: &[Row],
    how: Modify,
) -> bool {
    let (perms, id) = match permissions(src, access, ts) {
        Grant::Everything => return true,
        Grant::Nothing => return false,
        Grant::Perms(perms, id) => (perms, id),
    };
    let Some(modifiable) = string_set(perms.table, &perms.row, "update") else {
        let op = match how {
            Modify::Update => "ovsdb_rbac_update",
            Modify::Mutate => "ovsdb_rbac_mutate",
        };
        vlog::info_rl!(&UPDATE_RL, MODULE, "{op}: could not read \"update\" column");
        return false;
    };
    let permitted = |c: &usize| {
        modifiable
            .keys
            .iter()
            .any(|k| k.as_str() == Some(ts.columns[*c].name.as_str()))
    };
    rows.iter()
        .all(|r| authorized(&perms, id, ts, r) && columns.iter().all(permitted))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::database::Database;
    use serde_json::json;

    /// A database with rules: role `owner` may insert and delete `Item`s
    /// and update their `note` when `owner` or `tags:owner` names the client;
    /// role `editor` may only update the `note` of the `Item`s it owns.
    fn db() -> Database {
        let schema = crate::schema::DatabaseSchema::from_json(&json!({
            "name": "R", "tables": {
                "RBAC_Role": {"isRoot": true, "columns": {
                    "name": {"type": "string"},
                    "permissions": {"type": {"key": "string",
                        "value": {"type": "uuid", "refTable": "RBAC_Permission"},
                        "min": 0, "max": "unlimited"}}}},
                "RBAC_Permission": {"isRoot": true, "columns": {
                    "table": {"type": "string"},
                    "authorization": {"type": {"key": "string", "min": 0, "max": "unlimited"}},
                    "insert_delete": {"type": "boolean"},
                    "update": {"type": {"key": "string", "min": 0, "max": "unlimited"}}}},
                "Item": {"isRoot": true, "columns": {
                    "owner": {"type": "string"},
                    "note": {"type": "string"},
                    "tags": {"type": {"key": "string", "value": "string",
                                      "min": 0, "max": "unlimited"}}}}}}))
        .unwrap();
        let mut db = Database::new(schema);
        let (r, _) = db.transact(&json!(["R",
            {"op": "insert", "table": "RBAC_Permission", "uuid-name": "p",
             "row": {"table": "Item", "authorization": ["set", ["owner", "tags:owner"]],
                     "insert_delete": true, "update": ["set", ["note"]]}},
            {"op": "insert", "table": "RBAC_Role",
             "row": {"name": "owner", "permissions": ["map", [["Item", ["named-uuid", "p"]]]]}},
            {"op": "insert", "table": "RBAC_Permission", "uuid-name": "e",
             "row": {"table": "Item", "authorization": ["set", ["owner"]],
                     "insert_delete": false, "update": ["set", ["note"]]}},
            {"op": "insert", "table": "RBAC_Role",
             "row": {"name": "editor", "permissions": ["map", [["Item", ["named-uuid", "e"]]]]}},
            {"op": "insert", "table": "Item", "row": {"owner": "alice", "note": "a"}},
            {"op": "insert", "table": "Item",
             "row": {"owner": "x", "tags": ["map", [["owner", "bob"]]]}}]));
        assert!(
            r.as_array()
                .unwrap()
                .iter()
                .all(|v| v.get("error").is_none()),
            "{r}"
        );
        db
    }

    fn run(db: &Database, role: &str, id: Option<&str>, op: serde_json::Value) -> Value {
        let opts = crate::transaction::ExecOptions {
            access: Access { role, id },
            ..Default::default()
        };
        match db.execute(&json!(["R", op]), &opts).unwrap() {
            crate::transaction::Outcome::Done { results, .. } => results[0].clone(),
            _ => panic!("blocked"),
        }
    }
    use serde_json::Value;

    #[test]
    fn owners_may_write_their_rows_only() {
        let db = db();
        let upd = |who: &str| {
            json!({"op": "update", "table": "Item",
                   "where": [["owner", "==", who]], "row": {"note": "z"}})
        };
        assert_eq!(
            run(&db, "owner", Some("alice"), upd("alice")),
            json!({"count": 1})
        );
        let denied = run(&db, "owner", Some("bob"), upd("alice"));
        assert_eq!(denied["error"], "permission error");
        assert_eq!(
            denied["details"],
            "RBAC rules for client \"bob\" role \"owner\" prohibit modification of table \"Item\"."
        );
        // A map key names the owner too.
        assert_eq!(
            run(&db, "owner", Some("bob"), upd("x")),
            json!({"count": 1})
        );
        // Columns outside `update` are refused even to the owner.
        let own = run(
            &db,
            "owner",
            Some("alice"),
            json!({"op": "update", "table": "Item",
            "where": [["owner", "==", "alice"]], "row": {"owner": "alice"}}),
        );
        assert_eq!(own["error"], "permission error");
        let ins = |who: &str| json!({"op": "insert", "table": "Item", "row": {"owner": who}});
        assert!(run(&db, "owner", Some("carol"), ins("carol"))
            .get("uuid")
            .is_some());
        assert_eq!(
            run(&db, "owner", Some("carol"), ins("dave"))["details"],
            "RBAC rules for client \"carol\" role \"owner\" prohibit row insertion into table \"Item\"."
        );
        let del = json!({"op": "delete", "table": "Item", "where": []});
        assert_eq!(
            run(&db, "owner", Some("alice"), del)["details"],
            "RBAC rules for client \"alice\" role \"owner\" prohibit row deletion from table \"Item\"."
        );
        let mutate = json!({"op": "mutate", "table": "Item", "where": [["owner", "==", "alice"]],
                            "mutations": [["tags", "insert", ["map", [["k", "v"]]]]]});
        assert_eq!(
            run(&db, "owner", Some("alice"), mutate)["details"],
            "RBAC rules for client \"alice\" role \"owner\" prohibit mutate operation on table \"Item\"."
        );
    }

    #[test]
    fn editors_may_update_but_neither_insert_nor_delete() {
        let db = db();
        let upd = json!({"op": "update", "table": "Item",
                         "where": [["owner", "==", "alice"]], "row": {"note": "e"}});
        assert_eq!(run(&db, "editor", Some("alice"), upd), json!({"count": 1}));
        let ins = json!({"op": "insert", "table": "Item", "row": {"owner": "alice"}});
        assert_eq!(
            run(&db, "editor", Some("alice"), ins)["details"],
            "RBAC rules for client \"alice\" role \"editor\" prohibit row insertion into table \"Item\"."
        );
        let del = json!({"op": "delete", "table": "Item", "where": [["owner", "==", "alice"]]});
        assert_eq!(
            run(&db, "editor", Some("alice"), del)["details"],
            "RBAC rules for client \"alice\" role \"editor\" prohibit row deletion from table \"Item\"."
        );
    }

    #[test]
    fn no_identity_or_unknown_role_is_refused_and_no_role_is_free() {
        let db = db();
        let ins = json!({"op": "insert", "table": "Item", "row": {"owner": "alice"}});
        assert_eq!(
            run(&db, "owner", None, ins.clone())["details"],
            "RBAC rules for client \"(null)\" role \"owner\" prohibit row insertion into table \"Item\"."
        );
        assert_eq!(
            run(&db, "nobody", Some("alice"), ins.clone())["error"],
            "permission error"
        );
        assert!(run(&db, "", None, ins).get("uuid").is_some());
        // Reads are never refused.
        let sel = json!({"op": "select", "table": "Item", "where": []});
        assert!(run(&db, "owner", None, sel).get("rows").is_some());
    }
}
