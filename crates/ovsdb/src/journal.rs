//! The commit journal of a served database: a side file
//! (`.NAME.~journal~` beside the database file `NAME`) that makes a commit
//! durable with one cheap `fdatasync`, while the database file itself stays
//! exactly upstream's format.
//!
//! Appending to the database file and syncing it costs a file-system
//! journal commit each time (the file's size changes). The journal file is
//! preallocated with zeros, so overwriting it and calling `fdatasync`
//! writes only the data blocks. Every record appended to the database file
//! is also written to the journal with its offset in the database file;
//! the server acknowledges a commit once the journal is synced. The
//! database file is synced now and then ([`CHECKPOINT_BYTES`]), after which
//! the journal starts over (a new epoch at its start; older entries no
//! longer match it and are ignored).
//!
//! After a crash, [`recover`] writes back into the database file every
//! journalled record that is missing there (a power failure may lose the
//! database file's unsynced tail; after a process crash the file already
//! has them). Entries are only replayed into the same file (inode) they
//! were written for, and never over a different valid record (someone else
//! wrote the file meanwhile). Upstream's tools read the database file as
//! usual whatever the journal holds.
//!
//! Syncing: `fdatasync` of the journal also writes its inode whenever a
//! write changed its modification time (every clock tick), a second
//! synchronous write that costs milliseconds on some disks. On ext2/3/4
//! (not `data=journal`), where overwriting allocated blocks changes no
//! metadata, the journal's blocks are all written and synced beforehand
//! (zeros), so a sync writes its dirty pages in place (`sync_file_range`)
//! and then flushes the disk's cache by `fdatasync`ing a file that has
//! nothing to write (`.NAME.~flush~`, empty, whose inode is in another
//! inode-table block than the database file's and the journal's: without
//! a journal, ext4 writes the block holding a synced file's inode if any
//! inode in it changed, and the database file's does at every commit):
//! the entries are then on stable storage, and the inode's new times are
//! not needed to read them ([`Syncer`]).
//!
//! Layout (little-endian): a 64-byte header `MAGIC, epoch u64, inode u64,
//! SHA-1 of the preceding 32 bytes`, then entries `"JENT", epoch u64,
//! offset u64, length u32, SHA-1 of (epoch, offset, length, bytes), bytes`.

use crate::error::Error;
use std::fs::{File, OpenOptions};
use std::os::unix::fs::{FileExt, MetadataExt, OpenOptionsExt};
use std::sync::Arc;

const MAGIC: &[u8; 16] = b"FERROVS-OVSDB-J1";
const HEADER_LEN: u64 = 64;
const ENTRY_TAG: &[u8; 4] = b"JENT";
const ENTRY_HEADER_LEN: usize = 4 + 8 + 8 + 4 + 20;
/// The journal grows by this much zeroed space at a time.
const CHUNK: u64 = 1 << 20;
/// Journal bytes after which the database file is synced and the journal
/// restarted.
pub const CHECKPOINT_BYTES: u64 = 1 << 20;
/// The largest entry [`recover`] accepts (a record bigger than this is
/// never journalled: it is synced into the database file directly).
const MAX_ENTRY: u64 = 1 << 30;

/// The journal file name for database file `path`.
pub fn journal_path(path: &str) -> String {
    crate::storage::hidden_sibling(path, "journal")
}

fn io_err(path: &str, what: &str, e: &std::io::Error) -> Error {
    Error::io(format!(
        "{path}: {what} failed ({})",
        crate::io_error_text(e)
    ))
}

fn sha1(parts: &[&[u8]]) -> [u8; 20] {
    let mut h = sha1_smol::Sha1::new();
    for p in parts {
        h.update(p);
    }
    h.digest().bytes()
}

/// The header of a journal of epoch `epoch` for the database file with
/// inode number `inode` (public for tests and fuzzing).
pub fn header_bytes(epoch: u64, inode: u64) -> [u8; HEADER_LEN as usize] {
    let mut b = [0u8; HEADER_LEN as usize];
    b[..16].copy_from_slice(MAGIC);
    b[16..24].copy_from_slice(&epoch.to_le_bytes());
    b[24..32].copy_from_slice(&inode.to_le_bytes());
    let sum = sha1(&[&b[..32]]);
    b[32..52].copy_from_slice(&sum);
    b
}

fn parse_header(b: &[u8]) -> Option<(u64, u64)> {
    let b = b.get(..HEADER_LEN as usize)?;
    if &b[..16] != MAGIC || sha1(&[&b[..32]])[..] != b[32..52] {
        return None;
    }
    let epoch = u64::from_le_bytes(b[16..24].try_into().ok()?);
    let inode = u64::from_le_bytes(b[24..32].try_into().ok()?);
    Some((epoch, inode))
}

fn random_epoch() -> u64 {
    let u = crate::Uuid::random().to_string().replace('-', "");
    u64::from_str_radix(&u[..16], 16).unwrap_or(1) >> 1
}

/// A journal entry of epoch `epoch`: `data` belongs at `offset` of the
/// database file (public for tests and fuzzing).
pub fn entry_bytes(epoch: u64, offset: u64, data: &[u8]) -> Vec<u8> {
    let len = data.len() as u32;
    let mut e = Vec::with_capacity(ENTRY_HEADER_LEN + data.len());
    e.extend_from_slice(ENTRY_TAG);
    e.extend_from_slice(&epoch.to_le_bytes());
    e.extend_from_slice(&offset.to_le_bytes());
    e.extend_from_slice(&len.to_le_bytes());
    let sum = sha1(&[&e[4..24], data]);
    e.extend_from_slice(&sum);
    e.extend_from_slice(data);
    e
}

/// One entry of a journal: `data` belongs at `offset` in the database file.
#[derive(Debug, PartialEq)]
struct Entry<'a> {
    offset: u64,
    data: &'a [u8],
}

/// The valid entries of journal contents `j` for database file inode
/// `inode`, in order (none if the header is bad or names another file).
fn entries(j: &[u8], inode: u64) -> Vec<Entry<'_>> {
    let mut out = Vec::new();
    let Some((epoch, ino)) = parse_header(j) else {
        return out;
    };
    if ino != inode {
        return out;
    }
    let mut pos = HEADER_LEN as usize;
    while let Some(h) = j.get(pos..pos + ENTRY_HEADER_LEN) {
        let (Ok(e_epoch), Ok(offset), Ok(len)) = (
            h[4..12].try_into().map(u64::from_le_bytes),
            h[12..20].try_into().map(u64::from_le_bytes),
            h[20..24].try_into().map(u32::from_le_bytes),
        ) else {
            break;
        };
        if &h[..4] != ENTRY_TAG || e_epoch != epoch || u64::from(len) > MAX_ENTRY {
            break;
        }
        let start = pos + ENTRY_HEADER_LEN;
        let Some(data) = j.get(start..start + len as usize) else {
            break;
        };
        if sha1(&[&h[4..24], data])[..] != h[24..44] {
            break;
        }
        out.push(Entry { offset, data });
        pos = start + len as usize;
    }
    out
}

/// Writes back into the database file at `db_path` the journalled records
/// it lacks (after a crash), and syncs it. Returns how many were restored.
/// Missing or unrelated journals restore nothing.
pub fn recover(db_path: &str) -> Result<usize, Error> {
    let jpath = journal_path(db_path);
    let j = match std::fs::read(&jpath) {
        Ok(j) => j,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(io_err(&jpath, "read", &e)),
    };
    recover_from(db_path, &j)
}

/// [`recover`] with the journal's contents `j` already read.
pub fn recover_from(db_path: &str, j: &[u8]) -> Result<usize, Error> {
    let db = OpenOptions::new()
        .read(true)
        .write(true)
        .open(db_path)
        .map_err(|e| io_err(db_path, "open", &e))?;
    let meta = db.metadata().map_err(|e| io_err(db_path, "stat", &e))?;
    let mut len = meta.len();
    let mut restored = 0;
    for e in entries(j, meta.ino()) {
        // Each entry was appended where the file ended, and the file
        // keeps at least what was synced before the journal began: an
        // entry beyond the end was never written for this file.
        if e.offset > len {
            vlog::warn!(
                "ovsdb_journal",
                "{db_path}: journal entry for offset {} is beyond the end of the file ({len} bytes): journal not applied",
                e.offset
            );
            break;
        }
        let mut cur = vec![0u8; e.data.len()];
        let have = read_at_most(&db, &mut cur, e.offset);
        if have == e.data.len() && cur == e.data {
            continue;
        }
        if crate::log::record_len(&cur[..have]).is_some() {
            vlog::warn!(
                "ovsdb_journal",
                "{db_path}: another record is at offset {}: journal not applied",
                e.offset
            );
            break;
        }
        db.write_all_at(e.data, e.offset)
            .map_err(|err| io_err(db_path, "write", &err))?;
        len = len.max(e.offset + e.data.len() as u64);
        restored += 1;
    }
    if restored > 0 {
        db.sync_data().map_err(|e| io_err(db_path, "fsync", &e))?;
        vlog::info!(
            "ovsdb_journal",
            "{db_path}: restored {restored} committed record(s) from {}",
            journal_path(db_path)
        );
    }
    Ok(restored)
}

/// The offsets in the database file at `db_path` of the records its
/// journal holds (for tests and diagnostics).
pub fn entry_offsets(db_path: &str) -> Vec<u64> {
    let (Ok(j), Ok(meta)) = (
        std::fs::read(journal_path(db_path)),
        std::fs::metadata(db_path),
    ) else {
        return Vec::new();
    };
    entries(&j, meta.ino()).iter().map(|e| e.offset).collect()
}

fn read_at_most(f: &File, buf: &mut [u8], offset: u64) -> usize {
    let mut got = 0;
    while got < buf.len() {
        match f.read_at(&mut buf[got..], offset + got as u64) {
            Ok(0) | Err(_) => break,
            Ok(n) => got += n,
        }
    }
    got
}

/// What makes the writes to a file durable: its `fdatasync`, or for a
/// journal whose blocks are all allocated and on disk, writing its dirty
/// pages in place and then flushing the disk's cache (see the module
/// documentation).
#[derive(Clone)]
pub struct Syncer {
    file: Arc<File>,
    /// A file with nothing to write, whose `fdatasync` flushes the cache
    /// of the disk `file` is on.
    flush: Option<Arc<File>>,
}

impl Syncer {
    /// Syncs `file` with `fdatasync`.
    pub fn fdatasync(file: Arc<File>) -> Syncer {
        Syncer { file, flush: None }
    }

    /// Makes what was written to the file so far durable.
    pub fn sync_data(&self) -> std::io::Result<()> {
        let Some(flush) = &self.flush else {
            return self.file.sync_data();
        };
        use std::os::fd::AsRawFd;
        let flags = libc::SYNC_FILE_RANGE_WAIT_BEFORE
            | libc::SYNC_FILE_RANGE_WRITE
            | libc::SYNC_FILE_RANGE_WAIT_AFTER;
        // SAFETY: a valid descriptor; offset 0 and length 0 mean the whole
        // file.
        if unsafe { libc::sync_file_range(self.file.as_raw_fd(), 0, 0, flags) } < 0 {
            return Err(std::io::Error::last_os_error());
        }
        flush.sync_data()
    }
}

/// True when the file system holding `file` (at `path`) overwrites the
/// allocated blocks of a file in place without changing its metadata:
/// ext2/3/4, unless it journals data (`data=journal`).
fn overwrites_in_place(file: &File, path: &str) -> bool {
    use std::os::fd::AsRawFd;
    const EXT_SUPER_MAGIC: i64 = 0xEF53;
    // SAFETY: statfs is a plain C struct filled in by the call.
    let mut st: libc::statfs = unsafe { std::mem::zeroed() };
    // SAFETY: a valid descriptor and a properly sized struct.
    if unsafe { libc::fstatfs(file.as_raw_fd(), &mut st) } != 0
        || st.f_type as i64 != EXT_SUPER_MAGIC
    {
        return false;
    }
    let (Ok(mounts), Ok(real)) = (
        std::fs::read_to_string("/proc/self/mounts"),
        std::fs::canonicalize(path),
    ) else {
        return false;
    };
    match mount_options(&mounts, &real) {
        Some(opts) => !opts.split(',').any(|o| o == "data=journal"),
        None => false,
    }
}

/// The name of the flush file of database file `path`.
pub fn flush_path(path: &str) -> String {
    crate::storage::hidden_sibling(path, "flush")
}

/// Two inode numbers whose inodes may share a 4 kB block of the inode
/// table (inodes of 128 bytes or more, groups of a multiple of 32).
fn near(a: u64, b: u64) -> bool {
    a.wrapping_sub(1) / 32 == b.wrapping_sub(1) / 32
}

/// Opens the flush file of database file `db_path` (see the module
/// documentation): the existing one if its inode is not near any of
/// `avoid`, else a new one, picked among files created until one is.
fn flush_file(db_path: &str, avoid: &[u64]) -> Option<File> {
    let path = flush_path(db_path);
    let far = |f: &File| {
        f.metadata()
            .is_ok_and(|m| m.len() == 0 && !avoid.iter().any(|&a| near(a, m.ino())))
    };
    if let Ok(f) = File::open(&path) {
        if far(&f) {
            return Some(f);
        }
    }
    let mut tried = Vec::new();
    let mut found = None;
    for i in 0..64 {
        let candidate = format!("{path}.{i}");
        let Ok(f) = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&candidate)
        else {
            break;
        };
        if far(&f) {
            found = Some(candidate);
            break;
        }
        tried.push(candidate);
    }
    let chosen = found.and_then(|c| {
        let renamed = std::fs::rename(&c, &path);
        if renamed.is_err() {
            tried.push(c);
        }
        renamed.ok()?;
        let f = File::open(&path).ok()?;
        f.sync_all().ok()?;
        crate::storage::sync_parent(&path);
        Some(f)
    });
    for t in tried {
        let _ = std::fs::remove_file(t);
    }
    chosen
}

/// The options of the mount in `mounts` (`/proc/self/mounts` format) that
/// holds `path` (the last of the longest mount points above it).
fn mount_options<'a>(mounts: &'a str, path: &std::path::Path) -> Option<&'a str> {
    let mut best: Option<(usize, &str)> = None;
    for line in mounts.lines() {
        let mut f = line.split(' ');
        let (Some(_), Some(dir), Some(_), Some(opts)) = (f.next(), f.next(), f.next(), f.next())
        else {
            continue;
        };
        let dir = dir
            .replace("\\040", " ")
            .replace("\\011", "\t")
            .replace("\\012", "\n")
            .replace("\\134", "\\");
        let depth = std::path::Path::new(&dir).components().count();
        if path.starts_with(&dir) && best.is_none_or(|(d, _)| depth >= d) {
            best = Some((depth, opts));
        }
    }
    best.map(|(_, o)| o)
}

/// An open journal, written by the committing thread and synced by the
/// server's sync thread.
pub struct Journal {
    db_path: String,
    path: String,
    file: Arc<File>,
    /// Set when syncs write in place and flush through this file.
    flush: Option<Arc<File>>,
    epoch: u64,
    /// Where the next entry goes.
    pos: u64,
    /// Bytes of the file already written (zeros or entries).
    allocated: u64,
    /// Entries written since the last [`Journal::take_dirty`].
    dirty: bool,
}

impl Journal {
    /// Starts an empty journal for the database file `db` (which must be
    /// synced: the journal's old entries are forgotten).
    pub fn start(db_path: &str, db: &File) -> Result<Journal, Error> {
        let path = journal_path(db_path);
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(&path)
            .map_err(|e| io_err(&path, "open", &e))?;
        let allocated = file
            .metadata()
            .map_err(|e| io_err(&path, "stat", &e))?
            .len();
        let flush = if overwrites_in_place(&file, &path) {
            let inodes = [db.metadata().ok(), file.metadata().ok()];
            let avoid: Vec<u64> = inodes.iter().flatten().map(|m| m.ino()).collect();
            flush_file(db_path, &avoid).map(Arc::new)
        } else {
            None
        };
        let mut j = Journal {
            db_path: db_path.to_string(),
            path,
            file: Arc::new(file),
            flush,
            epoch: 0,
            pos: HEADER_LEN,
            allocated,
            dirty: false,
        };
        let old_epoch = {
            let mut h = [0u8; HEADER_LEN as usize];
            let n = read_at_most(&j.file, &mut h, 0);
            // Without a readable header, an epoch no old entry can carry.
            parse_header(&h[..n]).map_or_else(random_epoch, |(e, _)| e)
        };
        j.epoch = old_epoch;
        j.restart(db)?;
        j.file
            .sync_all()
            .map_err(|e| io_err(&j.path, "fsync", &e))?;
        crate::storage::sync_parent(&j.path);
        Ok(j)
    }

    /// Forgets every entry (the database file `db` now holds them all,
    /// synced): a new epoch begins at the start of the file. The new
    /// header reaches the disk with the next sync.
    pub fn restart(&mut self, db: &File) -> Result<(), Error> {
        let inode = db
            .metadata()
            .map_err(|e| io_err(&self.path, "stat", &e))?
            .ino();
        // A new database file (compaction) may have an inode near the
        // flush file's: then another flush file.
        let flush_ino = self
            .flush
            .as_ref()
            .and_then(|f| f.metadata().ok())
            .map(|m| m.ino());
        if flush_ino.is_some_and(|f| near(f, inode)) {
            let own = self.file.metadata().map(|m| m.ino()).unwrap_or(inode);
            self.flush = flush_file(&self.db_path, &[inode, own]).map(Arc::new);
        }
        self.epoch = self.epoch.wrapping_add(1);
        self.file
            .write_all_at(&header_bytes(self.epoch, inode), 0)
            .map_err(|e| io_err(&self.path, "write", &e))?;
        self.pos = HEADER_LEN;
        self.allocated = self.allocated.max(HEADER_LEN);
        self.dirty = true;
        self.ensure_room(CHUNK / 2)
    }

    fn ensure_room(&mut self, need: u64) -> Result<(), Error> {
        if self.pos + need <= self.allocated {
            return Ok(());
        }
        let target = (self.pos + need).div_ceil(CHUNK) * CHUNK;
        let zeros = vec![0u8; (target - self.allocated) as usize];
        // Synced at once, blocks and size: a sync that writes in place
        // writes no metadata.
        self.file
            .write_all_at(&zeros, self.allocated)
            .and_then(|_| self.file.sync_all())
            .map_err(|e| io_err(&self.path, "write", &e))?;
        self.allocated = target;
        Ok(())
    }

    /// Journals `data`, which was just written at `offset` of the database
    /// file. Not durable before the next sync of [`Journal::take_dirty`]'s file.
    pub fn append(&mut self, offset: u64, data: &[u8]) -> Result<(), Error> {
        let e = entry_bytes(self.epoch, offset, data);
        self.ensure_room(e.len() as u64)?;
        self.file
            .write_all_at(&e, self.pos)
            .map_err(|err| io_err(&self.path, "write", &err))?;
        self.pos += e.len() as u64;
        self.dirty = true;
        Ok(())
    }

    /// How to sync the entries written since the last call, if any.
    pub fn take_dirty(&mut self) -> Option<Syncer> {
        std::mem::take(&mut self.dirty).then(|| Syncer {
            file: self.file.clone(),
            flush: self.flush.clone(),
        })
    }

    /// True when syncs write in place and flush the disk's cache (see
    /// [`Syncer`]).
    pub fn syncs_in_place(&self) -> bool {
        self.flush.is_some()
    }

    /// Bytes of entries in the current epoch.
    pub fn used(&self) -> u64 {
        self.pos - HEADER_LEN
    }

    pub fn path(&self) -> &str {
        &self.path
    }

    /// Deletes the journal file and the flush file (the database file is
    /// synced and closing).
    pub fn remove(self) {
        let _ = std::fs::remove_file(&self.path);
        if self.flush.is_some() {
            let _ = std::fs::remove_file(flush_path(&self.db_path));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::encode_record;
    use serde_json::json;

    fn tmpdir() -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("ovsdb-journal-{}", crate::Uuid::random()));
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn path_is_hidden_beside_the_database() {
        assert_eq!(journal_path("/etc/x/conf.db"), "/etc/x/.conf.db.~journal~");
        assert_eq!(journal_path("conf.db"), ".conf.db.~journal~");
    }

    #[test]
    fn lost_tail_is_restored_and_stale_entries_ignored() {
        let d = tmpdir();
        let db_path = d.join("t.db").to_string_lossy().into_owned();
        let r0 = encode_record("JSON", &json!({"schema": 1}));
        std::fs::write(&db_path, &r0).unwrap();
        let db = OpenOptions::new()
            .read(true)
            .append(true)
            .open(&db_path)
            .unwrap();
        let mut j = Journal::start(&db_path, &db).unwrap();
        let r1 = encode_record("JSON", &json!({"a": 1}));
        let r2 = encode_record("JSON", &json!({"b": 2}));
        let o1 = r0.len() as u64;
        let o2 = o1 + r1.len() as u64;
        j.append(o1, &r1).unwrap();
        j.append(o2, &r2).unwrap();
        assert!(j.take_dirty().is_some());
        assert!(j.take_dirty().is_none());
        drop(db);
        // "Power failure": the database file lost both records, and the
        // second is torn.
        let mut lost = r0.clone();
        lost.extend_from_slice(&r1[..5]);
        std::fs::write(&db_path, &lost).unwrap();
        assert_eq!(recover(&db_path).unwrap(), 2);
        let mut want = r0.clone();
        want.extend_from_slice(&r1);
        want.extend_from_slice(&r2);
        assert_eq!(std::fs::read(&db_path).unwrap(), want);
        // Nothing more to do a second time.
        assert_eq!(recover(&db_path).unwrap(), 0);
        // A different valid record where the journal's would go: left alone.
        let other = encode_record("JSON", &json!({"c": 3}));
        let mut f = r0.clone();
        f.extend_from_slice(&other);
        std::fs::write(&db_path, &f).unwrap();
        assert_eq!(recover(&db_path).unwrap(), 0);
        assert_eq!(std::fs::read(&db_path).unwrap(), f);
        // After a restart of the journal, its old entries are forgotten.
        std::fs::write(&db_path, &r0).unwrap();
        let db = File::open(&db_path).unwrap();
        j.restart(&db).unwrap();
        assert_eq!(j.used(), 0);
        assert_eq!(recover(&db_path).unwrap(), 0);
        // A replaced database file (compaction's rename) is another inode.
        let mut j = Journal::start(&db_path, &db).unwrap();
        j.append(o1, &r1).unwrap();
        let tmp = d.join("t.db.tmp");
        std::fs::write(&tmp, &r0).unwrap();
        std::fs::rename(&tmp, &db_path).unwrap();
        assert_eq!(recover(&db_path).unwrap(), 0);
        j.remove();
        assert!(!std::path::Path::new(&journal_path(&db_path)).exists());
        std::fs::remove_dir_all(d).unwrap();
    }

    #[test]
    fn entries_beyond_the_end_are_not_applied() {
        let d = tmpdir();
        let db_path = d.join("t.db").to_string_lossy().into_owned();
        let r0 = encode_record("JSON", &json!({"schema": 1}));
        std::fs::write(&db_path, &r0).unwrap();
        let ino = std::fs::metadata(&db_path).unwrap().ino();
        let r1 = encode_record("JSON", &json!({"a": 1}));
        let mut j = header_bytes(3, ino).to_vec();
        j.extend(entry_bytes(3, r0.len() as u64 + 1, &r1));
        assert_eq!(recover_from(&db_path, &j).unwrap(), 0);
        assert_eq!(std::fs::read(&db_path).unwrap(), r0);
        // Right at the end: appended.
        let mut j = header_bytes(3, ino).to_vec();
        j.extend(entry_bytes(3, r0.len() as u64, &r1));
        j.extend(entry_bytes(3, u64::MAX - 2, b"abc"));
        assert_eq!(recover_from(&db_path, &j).unwrap(), 1);
        assert_eq!(std::fs::read(&db_path).unwrap(), [r0, r1].concat());
        std::fs::remove_dir_all(d).unwrap();
    }

    #[test]
    fn the_mount_holding_a_path_is_the_deepest_above_it() {
        let mounts = "/dev/vda / ext4 rw,relatime 0 0\n\
                      tmpfs /tmp tmpfs rw 0 0\n\
                      /dev/vdb /srv/my\\040db ext4 rw,data=journal 0 0\n\
                      /dev/vdc /srv ext4 rw,data=ordered 0 0\n";
        let opts = |p: &str| mount_options(mounts, std::path::Path::new(p));
        assert_eq!(opts("/etc/openvswitch/conf.db"), Some("rw,relatime"));
        assert_eq!(opts("/tmp/x/conf.db"), Some("rw"));
        assert_eq!(opts("/srv/my db/conf.db"), Some("rw,data=journal"));
        assert_eq!(opts("/srv/my dbx/conf.db"), Some("rw,data=ordered"));
        assert_eq!(mount_options("", std::path::Path::new("/x")), None);
    }

    #[test]
    fn both_ways_of_syncing_sync() {
        let d = tmpdir();
        let db_path = d.join("t.db").to_string_lossy().into_owned();
        std::fs::write(&db_path, encode_record("JSON", &json!({"schema": 1}))).unwrap();
        let _lock = crate::storage::LockFile::lock(&db_path).unwrap();
        let db = File::open(&db_path).unwrap();
        let mut j = Journal::start(&db_path, &db).unwrap();
        // Which way depends on the file system the tests run on.
        let in_place = j.syncs_in_place();
        j.append(100, b"abc").unwrap();
        let s = j.take_dirty().unwrap();
        assert_eq!(s.flush.is_some(), in_place);
        if let Some(f) = &s.flush {
            let ino = f.metadata().unwrap().ino();
            assert!(!near(ino, db.metadata().unwrap().ino()));
            assert!(!near(ino, s.file.metadata().unwrap().ino()));
            assert!(std::path::Path::new(&flush_path(&db_path)).exists());
            assert!(!std::path::Path::new(&format!("{}.0", flush_path(&db_path))).exists());
        }
        s.sync_data().unwrap();
        Syncer::fdatasync(s.file.clone()).sync_data().unwrap();
        // Growing the journal keeps it all allocated and synced.
        let before = std::fs::metadata(journal_path(&db_path)).unwrap().len();
        j.append(200, &vec![7u8; CHUNK as usize]).unwrap();
        assert!(std::fs::metadata(journal_path(&db_path)).unwrap().len() > before);
        j.take_dirty().unwrap().sync_data().unwrap();
        j.remove();
        assert!(!std::path::Path::new(&flush_path(&db_path)).exists());
        std::fs::remove_dir_all(d).unwrap();
    }

    #[test]
    fn corrupt_entries_end_the_journal() {
        let mut j = header_bytes(7, 42).to_vec();
        j.extend(entry_bytes(7, 100, b"abc"));
        j.extend(entry_bytes(6, 103, b"old epoch"));
        assert_eq!(
            entries(&j, 42),
            vec![Entry {
                offset: 100,
                data: b"abc"
            }]
        );
        assert!(entries(&j, 43).is_empty());
        let n = j.len();
        j[n - 1] ^= 1;
        let mut bad = header_bytes(7, 42).to_vec();
        let mut e = entry_bytes(7, 100, b"abc");
        let last = e.len() - 1;
        e[last] ^= 1;
        bad.extend(e);
        assert!(entries(&bad, 42).is_empty());
        let mut short = header_bytes(7, 42).to_vec();
        short.extend(&entry_bytes(7, 100, b"abcdef")[..40]);
        assert!(entries(&short, 42).is_empty());
        assert!(entries(b"garbage", 42).is_empty());
    }
}
