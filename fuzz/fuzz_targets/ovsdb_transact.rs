//! Arbitrary bytes as a `transact` request (and as JSON) against a schema
//! with references, indexes and constraints: the engine must answer, never
//! panic, and a successful commit must apply cleanly.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

const SCHEMA: &str = r#"{"name":"F","tables":{
 "R":{"isRoot":true,"maxRows":8,"indexes":[["k"]],"columns":{
   "k":{"type":"string"},
   "c":{"type":{"key":{"type":"uuid","refTable":"C"},"min":0,"max":"unlimited"}},
   "w":{"type":{"key":{"type":"uuid","refTable":"C","refType":"weak"},"min":0,"max":2}},
   "m":{"type":{"key":"string","value":{"type":"real","minReal":-1.5,"maxReal":1e9},"min":0,"max":"unlimited"}},
   "e":{"type":{"key":{"type":"string","enum":["set",["a","b"]]},"min":0,"max":1}},
   "i":{"type":{"key":{"type":"integer","minInteger":0,"maxInteger":9}}},
   "f":{"type":"string","mutable":false}}},
 "C":{"columns":{"n":{"type":{"key":"integer","min":1,"max":3}},"b":{"type":"boolean","ephemeral":true}}}}}"#;

fn base() -> &'static ovsdb::Database {
    static DB: OnceLock<ovsdb::Database> = OnceLock::new();
    DB.get_or_init(|| {
        let schema = ovsdb::DatabaseSchema::from_json(&ovsdb::json::parse(SCHEMA).unwrap()).unwrap();
        let mut db = ovsdb::Database::new(schema);
        db.transact(&ovsdb::json::parse(
            r#"["F",{"op":"insert","table":"C","row":{"n":["set",[1,2]]},"uuid-name":"c"},
                    {"op":"insert","table":"R","row":{"k":"x","c":["named-uuid","c"],"w":["named-uuid","c"]}}]"#,
        ).unwrap());
        db
    })
}

fuzz_target!(|data: &[u8]| {
    // The code under test logs its refusals: keep long runs off the disk.
    vlog::set_level(None, Some(vlog::Destination::Console), vlog::Level::Off);
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(json) = ovsdb::json::parse(text) else { return };
    let _ = ovsdb::json::to_string(&json, true);
    let mut db = base().clone();
    let (reply, commit) = db.transact(&json);
    let _ = ovsdb::json::to_string(&reply, false);
    if let Some(c) = commit {
        let _ = ovsdb::storage::transaction_record(&db.schema, &c, 0);
    }
    let _ = ovsdb::DatabaseSchema::from_json(&json);
});
