//! Arbitrary bytes as a database file: reading records and replaying them
//! must report errors, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The code under test logs its refusals: keep long runs off the disk.
    vlog::set_level(None, Some(vlog::Destination::Console), vlog::Level::Off);
    let Ok(recs) = ovsdb::log::read_records("fuzz.db", data) else { return };
    let Some(first) = recs.records.first() else { return };
    let Ok(schema) = ovsdb::DatabaseSchema::from_json(&first.json) else { return };
    let mut db = ovsdb::Database::new(schema);
    for r in recs.records.iter().skip(1) {
        match ovsdb::storage::record_to_changes(&db, &r.json) {
            Ok(changes) => db.apply(&changes),
            Err(_) => return,
        }
    }
});
