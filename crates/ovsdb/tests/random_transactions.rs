//! Random transactions against a schema with strong and weak references,
//! indexes and maxRows: nothing panics, every committed state keeps the
//! database invariants, and replaying the on-disk log gives back exactly the
//! in-memory state.

use ovsdb::storage::{self, OpenOptionsDb, Storage, TailPolicy, TransactReply};
use ovsdb::{Atom, DatabaseSchema, ExecOptions, Uuid};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};
use std::collections::HashMap;

const SCHEMA: &str = r#"{"name":"R","tables":{
 "Root":{"isRoot":true,"maxRows":20,"indexes":[["name"]],"columns":{
   "name":{"type":"string"},
   "kids":{"type":{"key":{"type":"uuid","refTable":"Kid"},"min":0,"max":"unlimited"}},
   "fav":{"type":{"key":{"type":"uuid","refTable":"Kid","refType":"weak"},"min":0,"max":1}},
   "tags":{"type":{"key":"string","value":{"type":"uuid","refTable":"Kid"},"min":0,"max":"unlimited"}},
   "n":{"type":{"key":{"type":"integer","minInteger":-50,"maxInteger":50}}}}},
 "Kid":{"columns":{
   "label":{"type":"string"},
   "peer":{"type":{"key":{"type":"uuid","refTable":"Kid","refType":"weak"},"min":0,"max":"unlimited"}},
   "vals":{"type":{"key":"integer","min":0,"max":4}}}}}}"#;

fn name(rng: &mut StdRng) -> String {
    format!("n{}", rng.gen_range(0..12))
}

fn random_op(rng: &mut StdRng, known: &[(String, Uuid)]) -> Value {
    let pick = |rng: &mut StdRng, table: &str| -> Value {
        let of: Vec<&Uuid> = known
            .iter()
            .filter(|(t, _)| t == table)
            .map(|(_, u)| u)
            .collect();
        if of.is_empty() || rng.gen_bool(0.1) {
            json!(["uuid", Uuid::random().to_string()])
        } else {
            json!(["uuid", of[rng.gen_range(0..of.len())].to_string()])
        }
    };
    let kid_ref = |rng: &mut StdRng| -> Value {
        if rng.gen_bool(0.5) {
            json!(["named-uuid", "k"])
        } else {
            pick(rng, "Kid")
        }
    };
    match rng.gen_range(0..9) {
        0 => {
            json!({"op":"insert","table":"Kid","uuid-name":"k","row":{"label":name(rng),"vals":["set",[rng.gen_range(0..3),rng.gen_range(3..6)]]}})
        }
        1 => {
            json!({"op":"insert","table":"Root","row":{"name":name(rng),"kids":["set",[kid_ref(rng)]],"n":rng.gen_range(-60..60)}})
        }
        2 => json!({"op":"mutate","table":"Root","where":[["name","==",name(rng)]],
                    "mutations":[["kids","insert",["set",[kid_ref(rng)]]],["n","+=",rng.gen_range(-5..5)]]}),
        3 => json!({"op":"mutate","table":"Root","where":[],
                    "mutations":[["kids","delete",["set",[pick(rng,"Kid")]]],["tags","insert",["map",[[name(rng), kid_ref(rng)]]]]]}),
        4 => {
            json!({"op":"update","table":"Root","where":[["name","==",name(rng)]],"row":{"fav":kid_ref(rng)}})
        }
        5 => json!({"op":"delete","table":"Kid","where":[["label","==",name(rng)]]}),
        6 => json!({"op":"delete","table":"Root","where":[["n","<",rng.gen_range(-50..-35)]]}),
        7 => {
            json!({"op":"mutate","table":"Kid","where":[],"mutations":[["peer","insert",["set",[pick(rng,"Kid")]]],["vals","delete",rng.gen_range(0..6)]]})
        }
        _ => {
            json!({"op":"update","table":"Root","where":[["_uuid","==",pick(rng,"Root")]],"row":{"name":name(rng),"tags":["map",[]]}})
        }
    }
}

/// Checks references, garbage collection and index invariants.
fn check_invariants(s: &Storage) {
    let db = &s.db;
    let exists = |t: &str, u: &Uuid| db.row(t, u).is_some();
    let mut counts: HashMap<(String, Uuid), u32> = HashMap::new();
    for (tname, table) in &db.tables {
        let ts = db.schema.table(tname).unwrap();
        for row in table.rows.values() {
            ovsdb::database::for_each_ref(ts, row, true, |rt, u| {
                assert!(exists(rt, &u), "dangling strong ref to {rt} {u}");
                *counts.entry((rt.to_string(), u)).or_default() += 1;
            });
            ovsdb::database::for_each_ref(ts, row, false, |rt, u| {
                assert!(exists(rt, &u), "dangling weak ref to {rt} {u}");
            });
            for (i, c) in ts.columns.iter().enumerate() {
                let d = &row.fields[i];
                assert!(d.len() as u64 >= c.ty.n_min as u64 && d.len() as u64 <= c.ty.n_max as u64);
                d.check_constraints(&c.ty).unwrap();
            }
        }
        if let Some(max) = ts.max_rows {
            assert!(table.len() as u64 <= max);
        }
        for index in &ts.indexes {
            let mut keys: Vec<Vec<ovsdb::Datum>> = table
                .rows
                .values()
                .map(|r| index.iter().map(|&c| r.get(c)).collect())
                .collect();
            let n = keys.len();
            keys.sort();
            keys.dedup();
            assert_eq!(keys.len(), n, "index violated in {tname}");
        }
    }
    for (tname, table) in &db.tables {
        for u in table.rows.keys() {
            let n = counts.get(&(tname.clone(), *u)).copied().unwrap_or(0);
            assert_eq!(db.strong_refs(tname, u), n, "refcount of {tname} {u}");
            if !db.schema.is_root(tname) {
                assert!(n > 0, "unreferenced non-root row {tname} {u} survived");
            }
        }
    }
}

#[test]
fn random_transactions_keep_invariants_and_replay() {
    let dir = std::env::temp_dir().join(format!("ovsdb-random-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("r.db").to_string_lossy().into_owned();
    let schema = DatabaseSchema::from_json(&ovsdb::json::parse(SCHEMA).unwrap()).unwrap();
    storage::create(&path, &schema).unwrap();
    let opts = OpenOptionsDb {
        read_only: false,
        tail: TailPolicy::Fail,
    };
    let mut s = Storage::open(&path, opts).unwrap();
    let seed: u64 = std::env::var("OVSDB_RANDOM_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(7);
    let mut rng = StdRng::seed_from_u64(seed);
    let mut committed = 0;
    let mut max_rows = 0;
    for round in 0..600 {
        let known: Vec<(String, Uuid)> =
            s.db.tables
                .iter()
                .flat_map(|(t, tb)| tb.rows.keys().map(move |u| (t.clone(), *u)))
                .collect();
        let mut params = vec![json!("R")];
        for _ in 0..rng.gen_range(1..5) {
            params.push(random_op(&mut rng, &known));
        }
        match s
            .transact(&Value::Array(params), &ExecOptions::default())
            .unwrap()
        {
            TransactReply::Done { results, changes } => {
                let failed = results
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|r| r.get("error").is_some());
                if !failed {
                    committed += 1;
                } else {
                    assert!(changes.is_empty());
                }
            }
            TransactReply::Blocked { .. } => panic!("no wait operations were sent"),
        }
        check_invariants(&s);
        max_rows = max_rows.max(s.db.n_rows());
        if round % 150 == 149 {
            // The log replays to the same state.
            let reopened = Storage::open(
                &path,
                OpenOptionsDb {
                    read_only: true,
                    tail: TailPolicy::Fail,
                },
            )
            .unwrap();
            for (tname, table) in &s.db.tables {
                let other = &reopened.db.tables[tname];
                assert_eq!(table.rows.len(), other.rows.len(), "{tname}");
                // (Column numbering may differ between the two schema copies.)
                let ts = s.db.schema.table(tname).unwrap();
                let ots = reopened.db.schema.table(tname).unwrap();
                for (u, r) in &table.rows {
                    for (i, c) in ts.columns.iter().enumerate() {
                        let j = ots.by_name[&c.name];
                        assert_eq!(
                            r.fields[i], other.rows[u].fields[j],
                            "{tname} {u} {}",
                            c.name
                        );
                    }
                }
            }
        }
        if round == 300 {
            s.compact().unwrap();
        }
    }
    assert!(committed > 50, "only {committed} transactions committed");
    eprintln!("committed {committed}, max rows {max_rows}");
    assert!(max_rows > 10, "the database never grew ({max_rows} rows)");
    let _ = Atom::Integer(0);
    let _ = std::fs::remove_dir_all(&dir);
}
