//! Database schemas (RFC 7047 §3.2, ovsdb(5)): tables, columns, indexes,
//! `maxRows`, `isRoot`, `mutable`, `ephemeral`, version and checksum, parsed
//! with upstream's validation messages.

use crate::error::{Error, Kind, ObjectParser};
use crate::json;
use crate::types::{AtomicType, Type};
use crate::uuid::is_id;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashMap};

/// One column of a table.
#[derive(Clone, Debug, PartialEq)]
pub struct ColumnSchema {
    pub name: String,
    pub ty: Type,
    pub mutable: bool,
    pub ephemeral: bool,
}

impl ColumnSchema {
    fn from_json(name: &str, json: &Value) -> Result<ColumnSchema, Error> {
        let mut p = ObjectParser::new(json, format!("schema for column {name}"));
        let ty_json = p.required("type", Kind::StringOrObject);
        let mutable = p
            .optional("mutable", Kind::Boolean)
            .and_then(Value::as_bool);
        let ephemeral = p
            .optional("ephemeral", Kind::Boolean)
            .and_then(Value::as_bool);
        p.finish()?;
        let ty = Type::from_json(ty_json.unwrap_or(&Value::Null))?;
        Ok(ColumnSchema {
            name: name.to_string(),
            ty,
            mutable: mutable.unwrap_or(true),
            ephemeral: ephemeral.unwrap_or(false),
        })
    }

    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("type".into(), self.ty.to_json());
        if self.ephemeral {
            m.insert("ephemeral".into(), true.into());
        }
        if !self.mutable {
            m.insert("mutable".into(), false.into());
        }
        Value::Object(m)
    }
}

/// Where a column named in an operation lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColumnRef {
    /// `_uuid`.
    Uuid,
    /// `_version`.
    Version,
    /// An ordinary column, by index into [`TableSchema::columns`].
    Index(usize),
}

/// One table: its columns (numbered as upstream numbers them) and
/// table-level properties.
#[derive(Clone, Debug, PartialEq)]
pub struct TableSchema {
    pub name: String,
    pub columns: Vec<ColumnSchema>,
    pub by_name: HashMap<String, usize>,
    pub max_rows: Option<u64>,
    /// `isRoot` as written in the schema.
    pub is_root: bool,
    /// Each index as the list of its columns.
    pub indexes: Vec<Vec<ColumnRef>>,
}

impl TableSchema {
    fn from_json(name: &str, json: &Value) -> Result<TableSchema, Error> {
        let mut p = ObjectParser::new(json, format!("table schema for table {name}"));
        let columns_json = p.required("columns", Kind::Object);
        let _mutable = p.optional("mutable", Kind::Boolean);
        let max_rows_json = p.optional("maxRows", Kind::Integer);
        let is_root = p.optional("isRoot", Kind::Boolean).and_then(Value::as_bool);
        let indexes_json = p.optional("indexes", Kind::Array);
        p.finish()?;
        let max_rows = match max_rows_json.and_then(|v| v.as_number().and_then(json::as_integer)) {
            Some(n) if n < 1 => {
                return Err(Error::syntax(Some(json), "maxRows must be at least 1"))
            }
            Some(n) => Some(n as u64),
            None => None,
        };
        let columns_obj = columns_json
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        if columns_obj.is_empty() {
            return Err(Error::syntax(
                Some(json),
                "table must have at least one column",
            ));
        }
        // Columns are numbered in the order upstream's hash table lists the
        // schema's members, so that files we write match upstream's.
        let entries: Vec<(&String, &Value)> = columns_obj.iter().collect();
        let keys: Vec<&str> = entries.iter().map(|(k, _)| k.as_str()).collect();
        let mut columns: Vec<ColumnSchema> = Vec::with_capacity(entries.len());
        for (cname, cjson) in json::shash_order(&keys).into_iter().map(|i| entries[i]) {
            if cname.starts_with('_') {
                return Err(Error::syntax(
                    Some(json),
                    "names beginning with \"_\" are reserved",
                ));
            }
            if !is_id(cname) {
                return Err(Error::syntax(
                    Some(json),
                    format!("name \"{cname}\" is not a valid <id>"),
                ));
            }
            columns.push(ColumnSchema::from_json(cname, cjson)?);
        }
        let by_name = columns
            .iter()
            .enumerate()
            .map(|(i, c)| (c.name.clone(), i))
            .collect();
        let mut table = TableSchema {
            name: name.to_string(),
            columns,
            by_name,
            max_rows,
            is_root: is_root.unwrap_or(false),
            indexes: Vec::new(),
        };
        for index_json in indexes_json.and_then(Value::as_array).into_iter().flatten() {
            let Some(names) = index_json.as_array() else {
                return Err(Error::syntax(Some(index_json), "array expected"));
            };
            if names.is_empty() {
                return Err(Error::syntax(
                    Some(json),
                    "index must have at least one column",
                ));
            }
            let mut index = Vec::new();
            for n in names {
                let col = n.as_str().and_then(|s| table.column(s));
                match col {
                    Some(c) => index.push(c),
                    None => {
                        return Err(Error::syntax(
                            Some(index_json),
                            format!("{} is not a valid column name", n.as_str().unwrap_or("")),
                        ))
                    }
                }
            }
            table.indexes.push(index);
        }
        Ok(table)
    }

    /// Finds a column by name, including `_uuid` and `_version`.
    pub fn column(&self, name: &str) -> Option<ColumnRef> {
        match name {
            "_uuid" => Some(ColumnRef::Uuid),
            "_version" => Some(ColumnRef::Version),
            _ => self.by_name.get(name).map(|&i| ColumnRef::Index(i)),
        }
    }

    /// The type of a column reference.
    pub fn column_type(&self, c: ColumnRef) -> Type {
        match c {
            ColumnRef::Uuid | ColumnRef::Version => Type::scalar(AtomicType::Uuid),
            ColumnRef::Index(i) => self.columns[i].ty.clone(),
        }
    }

    /// The name of a column reference.
    pub fn column_name(&self, c: ColumnRef) -> &str {
        match c {
            ColumnRef::Uuid => "_uuid",
            ColumnRef::Version => "_version",
            ColumnRef::Index(i) => &self.columns[i].name,
        }
    }

    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        // Upstream's table keeps `_uuid` and `_version` ahead of the schema's
        // columns in one hash table and lists the columns from it.
        let mut names: Vec<&str> = vec!["_uuid", "_version"];
        names.extend(self.columns.iter().map(|c| c.name.as_str()));
        let cols: Map<String, Value> = json::shash_order(&names)
            .into_iter()
            .filter(|&i| i >= 2)
            .map(|i| {
                (
                    self.columns[i - 2].name.clone(),
                    self.columns[i - 2].to_json(),
                )
            })
            .collect();
        m.insert("columns".into(), Value::Object(cols));
        if self.is_root {
            m.insert("isRoot".into(), true.into());
        }
        if let Some(n) = self.max_rows {
            m.insert("maxRows".into(), n.into());
        }
        if !self.indexes.is_empty() {
            let idx = self
                .indexes
                .iter()
                .map(|i| Value::Array(i.iter().map(|&c| self.column_name(c).into()).collect()))
                .collect();
            m.insert("indexes".into(), Value::Array(idx));
        }
        Value::Object(m)
    }
}

/// Where Open vSwitch packages install the Open_vSwitch schema (the default
/// SCHEMA of `ovsdb-tool`).
pub const VSWITCH_SCHEMA_PATH: &str = "/usr/share/openvswitch/vswitch.ovsschema";

/// The text of the built-in Open_vSwitch schema.
pub const VSWITCH_SCHEMA: &str = include_str!("../schemas/vswitch.ovsschema");

/// A whole database schema.
#[derive(Clone, Debug, PartialEq)]
pub struct DatabaseSchema {
    pub name: String,
    pub version: Option<String>,
    pub cksum: Option<String>,
    pub tables: BTreeMap<String, TableSchema>,
    /// Table names in the order [`DatabaseSchema::to_json`] emits them
    /// (upstream's hash-table order), so written files match upstream's.
    pub table_order: Vec<String>,
}

impl DatabaseSchema {
    /// Parses and validates a `<database-schema>`.
    pub fn from_json(json: &Value) -> Result<DatabaseSchema, Error> {
        let mut p = ObjectParser::new(json, "database schema");
        let name = p
            .required("name", Kind::Id)
            .and_then(Value::as_str)
            .map(str::to_string);
        let version = p
            .optional("version", Kind::String)
            .and_then(Value::as_str)
            .map(str::to_string);
        let cksum = p
            .optional("cksum", Kind::String)
            .and_then(Value::as_str)
            .map(str::to_string);
        let tables_json = p.required("tables", Kind::Object);
        p.finish()?;
        if let Some(v) = &version {
            if parse_version(v).is_none() {
                return Err(Error::syntax(
                    Some(json),
                    format!("schema version \"{v}\" not in format x.y.z"),
                ));
            }
        }
        let mut tables = BTreeMap::new();
        let entries: Vec<(&String, &Value)> = tables_json
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .collect();
        let keys: Vec<&str> = entries.iter().map(|(k, _)| k.as_str()).collect();
        let mut parsed_order: Vec<&str> = Vec::new();
        for (tname, tjson) in json::shash_order(&keys).into_iter().map(|i| entries[i]) {
            parsed_order.push(tname);
            if tname.starts_with('_') {
                return Err(Error::syntax(
                    Some(json),
                    "names beginning with \"_\" are reserved",
                ));
            }
            if !is_id(tname) {
                return Err(Error::syntax(
                    Some(json),
                    format!("name \"{tname}\" is not a valid <id>"),
                ));
            }
            tables.insert(tname.clone(), TableSchema::from_json(tname, tjson)?);
        }
        let table_order = json::shash_order(&parsed_order)
            .into_iter()
            .map(|i| parsed_order[i].to_string())
            .collect();
        let schema = DatabaseSchema {
            name: name.unwrap_or_default(),
            version,
            cksum,
            tables,
            table_order,
        };
        for t in schema.tables.values() {
            for c in &t.columns {
                for (which, base) in [("key", Some(&c.ty.key)), ("value", c.ty.value.as_ref())] {
                    if let Some(rt) = base.and_then(|b| b.ref_table.as_ref()) {
                        if !schema.tables.contains_key(rt) {
                            return Err(Error::new(
                                "syntax error",
                                format!("column {} {which} refers to undefined table {rt}", c.name),
                            ));
                        }
                    }
                }
            }
        }
        Ok(schema)
    }

    /// Reads and parses a schema file, with `ovsdb-tool`'s error wording.
    /// The Open_vSwitch database schema (version 8.3.1, the interface
    /// ovs-vswitchd and its clients of OVS 3.1 expect), built in so that a
    /// host without a packaged schema file still gets a database.
    pub fn vswitch() -> DatabaseSchema {
        let json = json::parse(VSWITCH_SCHEMA).expect("built-in schema is JSON");
        DatabaseSchema::from_json(&json).expect("built-in schema is valid")
    }

    /// Reads the schema in `path`; the packaged Open_vSwitch schema path
    /// ([`VSWITCH_SCHEMA_PATH`]) falls back to the built-in copy when the
    /// file is absent.
    pub fn from_file(path: &str) -> Result<DatabaseSchema, Error> {
        if path == VSWITCH_SCHEMA_PATH && !std::path::Path::new(path).exists() {
            return Ok(DatabaseSchema::vswitch());
        }
        let text = std::fs::read(path).map_err(|e| {
            Error::new(
                "failed to read schema",
                format!(
                    "\"{path}\" could not be read as JSON (error opening \"{path}\": {})",
                    crate::io_error_text(&e)
                ),
            )
        })?;
        let text = String::from_utf8_lossy(&text);
        let json = json::parse(&text).map_err(|e| {
            Error::new(
                "failed to read schema",
                format!("\"{path}\" could not be read as JSON ({e})"),
            )
        })?;
        DatabaseSchema::from_json(&json)
            .map_err(|e| e.context(&format!("failed to parse \"{path}\" as ovsdb schema")))
    }

    pub fn table(&self, name: &str) -> Option<&TableSchema> {
        self.tables.get(name)
    }

    /// True if rows of `table` are roots (never garbage collected). A schema
    /// in which no table says `isRoot` treats every table as a root.
    pub fn is_root(&self, table: &str) -> bool {
        if !self.tables.values().any(|t| t.is_root) {
            return true;
        }
        self.tables.get(table).is_some_and(|t| t.is_root)
    }

    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("name".into(), Value::String(self.name.clone()));
        if let Some(v) = &self.version {
            m.insert("version".into(), Value::String(v.clone()));
        }
        if let Some(c) = &self.cksum {
            m.insert("cksum".into(), Value::String(c.clone()));
        }
        let tables: Map<String, Value> = self
            .table_order
            .iter()
            .filter_map(|n| self.tables.get(n).map(|t| (n.clone(), t.to_json())))
            .collect();
        m.insert("tables".into(), Value::Object(tables));
        Value::Object(m)
    }

    /// Schema equality as `needs-conversion` decides it.
    pub fn same_as(&self, other: &DatabaseSchema) -> bool {
        json::to_string(&self.to_json(), true) == json::to_string(&other.to_json(), true)
    }
}

/// Parses an `x.y.z` version number.
pub fn parse_version(s: &str) -> Option<(u32, u32, u32)> {
    let mut parts = s.split('.');
    let mut num = || -> Option<u32> {
        let p = parts.next()?;
        if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        p.parse().ok()
    };
    let v = (num()?, num()?, num()?);
    if parts.next().is_some() {
        return None;
    }
    Some(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn err(j: Value) -> String {
        DatabaseSchema::from_json(&j).unwrap_err().to_string()
    }

    #[test]
    fn built_in_vswitch_schema_is_the_packaged_one() {
        let s = DatabaseSchema::vswitch();
        assert_eq!(s.name, "Open_vSwitch");
        assert_eq!(s.version.as_deref(), Some("8.3.1"));
        if let Ok(text) = std::fs::read_to_string(VSWITCH_SCHEMA_PATH) {
            let packaged = DatabaseSchema::from_json(&json::parse(&text).unwrap()).unwrap();
            assert!(packaged.same_as(&s));
            assert_eq!(packaged.cksum, s.cksum);
        }
    }

    #[test]
    fn vswitch_schema_parses() {
        let path = "/usr/share/openvswitch/vswitch.ovsschema";
        let Ok(text) = std::fs::read_to_string(path) else {
            eprintln!("skipping: {path} absent");
            return;
        };
        let s = DatabaseSchema::from_json(&json::parse(&text).unwrap()).unwrap();
        assert_eq!(s.name, "Open_vSwitch");
        assert!(s.is_root("Open_vSwitch"));
        assert!(!s.is_root("Port"));
        let again = DatabaseSchema::from_json(&s.to_json()).unwrap();
        assert!(again.same_as(&s));
        assert_eq!(again.tables.len(), s.tables.len());
    }

    #[test]
    fn upstream_messages() {
        assert_eq!(
            err(json!({"name":"T","tables":{"A":{"columns":{"_a":{"type":"integer"}}}}})),
            r#"syntax "{"columns":{"_a":{"type":"integer"}}}": syntax error: names beginning with "_" are reserved"#
        );
        assert_eq!(
            err(json!({"name":"T","tables":{"A":{"columns":{}}}})),
            r#"syntax "{"columns":{}}": syntax error: table must have at least one column"#
        );
        assert_eq!(
            err(
                json!({"name":"T","version":"1.2","tables":{"A":{"columns":{"a":{"type":"integer"}}}}})
            ),
            r#"syntax "{"name":"T","tables":{"A":{"columns":{"a":{"type":"integer"}}}},"version":"1.2"}": syntax error: schema version "1.2" not in format x.y.z"#
        );
        assert_eq!(
            err(json!({"name":"1T","tables":{}})),
            r#"syntax "{"name":"1T","tables":{}}": syntax error: Parsing database schema failed: Type mismatch for member 'name'."#
        );
        assert_eq!(
            err(
                json!({"name":"T","tables":{"A":{"columns":{"a":{"type":"integer"}},"indexes":[["b"]]}}})
            ),
            r#"syntax "["b"]": syntax error: b is not a valid column name"#
        );
        assert_eq!(
            err(
                json!({"name":"T","tables":{"A":{"columns":{"a":{"type":{"key":{"type":"uuid","refTable":"Z"}}}}}}})
            ),
            "syntax error: column a key refers to undefined table Z"
        );
        assert_eq!(
            err(json!({"name":"T","tables":{"A":{"columns":{"a":{"type":"integer","x":1}}}}})),
            r#"syntax "{"type":"integer","x":1}": syntax error: Parsing schema for column a failed: Member 'x' is present but not allowed here."#
        );
    }

    #[test]
    fn versions() {
        assert_eq!(parse_version("8.3.1"), Some((8, 3, 1)));
        assert_eq!(parse_version("1.2"), None);
        assert_eq!(parse_version("1.2.3.4"), None);
        assert_eq!(parse_version("1.a.3"), None);
    }
}
