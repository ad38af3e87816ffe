//! Arbitrary bytes as a commit journal and a database file: recovery
//! (`ovsdb::journal::recover_from`) must restore or refuse, never panic,
//! and the database file it leaves must read back as records or errors.
//!
//! The input is cut into a database file and a journal. Half of the time
//! the journal is taken as it comes (garbage headers and entries); else it
//! is built with a valid header for the database file's inode and entries
//! with valid checksums whose offsets and bytes come from the input, so
//! that recovery gets past the checksums to the writing.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ovsdb::journal::{entry_bytes, header_bytes, recover_from};
use std::os::unix::fs::MetadataExt;
use std::sync::OnceLock;

fn dir() -> &'static std::path::Path {
    static DIR: OnceLock<std::path::PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let d = std::env::temp_dir().join(format!("fuzz-journal-{}", std::process::id()));
        std::fs::create_dir_all(&d).expect("temporary directory");
        d
    })
}

/// Reads a little-endian u16 from the front of `data`.
fn take_u16(data: &mut &[u8]) -> Option<u16> {
    let (b, rest) = data.split_first_chunk::<2>()?;
    *data = rest;
    Some(u16::from_le_bytes(*b))
}

fuzz_target!(|data: &[u8]| {
    // The code under test logs its refusals: keep long runs off the disk.
    vlog::set_level(None, Some(vlog::Destination::Console), vlog::Level::Off);
    let Some((&mode, mut rest)) = data.split_first() else {
        return;
    };
    let Some(db_len) = take_u16(&mut rest) else {
        return;
    };
    let db_len = usize::from(db_len).min(rest.len());
    let (db_bytes, mut rest) = rest.split_at(db_len);
    let db_path = dir().join("f.db");
    let db_path = db_path.to_string_lossy();
    if std::fs::write(&*db_path, db_bytes).is_err() {
        return;
    }
    let Ok(meta) = std::fs::metadata(&*db_path) else {
        return;
    };
    let journal = if mode & 1 == 0 {
        rest.to_vec()
    } else {
        // Entries: offset (u16, or the end of the previous entry when its
        // top bit is set), length (u16), bytes.
        let epoch = u64::from(mode >> 1);
        let mut j = header_bytes(epoch, meta.ino()).to_vec();
        let mut end = db_bytes.len() as u64;
        while let (Some(off), Some(len)) = (take_u16(&mut rest), take_u16(&mut rest)) {
            let offset = if off & 0x8000 != 0 { end } else { u64::from(off) };
            let len = usize::from(len).min(rest.len());
            let (bytes, tail) = rest.split_at(len);
            rest = tail;
            j.extend(entry_bytes(epoch, offset, bytes));
            end = offset + len as u64;
        }
        if mode & 0x80 != 0 {
            // A torn last entry.
            j.truncate(j.len().saturating_sub(7));
        }
        j
    };
    let before = meta.len();
    if let Ok(restored) = recover_from(&db_path, &journal) {
        let after = std::fs::read(&*db_path).unwrap_or_default();
        assert!(restored > 0 || after == db_bytes);
        // Recovery only ever appends to the file or rewrites within it.
        assert!(after.len() as u64 >= before);
        assert!(after.len() <= db_bytes.len() + journal.len());
        let _ = ovsdb::log::read_records("f.db", &after);
    }
});
