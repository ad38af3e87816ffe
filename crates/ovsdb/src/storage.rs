//! A standalone database file: replaying its records into a [`Database`],
//! appending each committed transaction as a record (durable before the
//! commit is acknowledged: the file is fsync'd, or, for a served database,
//! the record is also written to the [`crate::journal`] which is synced
//! instead), and compaction (on request, and automatically when the log has
//! grown well past its last snapshot).
//!
//! Records use the diff form (`"_is_diff": true`): an inserted row lists its
//! non-default columns; a modified row lists its changed columns, with
//! set/map columns of more than one element written as the difference from
//! the old value; a deleted row is `null`. Ephemeral columns are never
//! written.

use crate::database::{Changes, Commit, Database, RowChange};
use crate::datum::Datum;
use crate::error::Error;
use crate::journal::Journal;
use crate::log::{encode_record, read_records, MAGIC_CLUSTERED, MAGIC_STANDALONE};
use crate::row::Row;
use crate::schema::{ColumnRef, DatabaseSchema, TableSchema};
use crate::transaction::{ExecOptions, Outcome};
use crate::uuid::Uuid;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// What to do with a bad record at the end of the file when opening.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TailPolicy {
    /// Fail with the record's error (as `ovsdb-tool` does).
    Fail,
    /// Log the error and cut the file there (as a server does after a crash).
    Truncate,
}

/// How to open a database file.
#[derive(Clone, Copy, Debug)]
pub struct OpenOptionsDb {
    /// Open without the write lock and never write.
    pub read_only: bool,
    pub tail: TailPolicy,
}

/// An exclusive `fcntl` lock on `.NAME.~lock~` beside a database file, the
/// same lock upstream's tools and server take.
pub struct LockFile {
    _file: File,
}

/// The lock file name for `path`.
pub fn lock_file_name(path: &str) -> String {
    hidden_sibling(path, "lock")
}

/// `.NAME.~KIND~` beside the file `path` (upstream's lock file naming,
/// also used for the commit journal).
pub fn hidden_sibling(path: &str, kind: &str) -> String {
    let p = std::path::Path::new(path);
    let name = p
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let hidden = format!(".{name}.~{kind}~");
    match p.parent().filter(|d| !d.as_os_str().is_empty()) {
        Some(d) => d.join(hidden).to_string_lossy().into_owned(),
        None => hidden,
    }
}

impl LockFile {
    /// Takes the lock for `path`, failing if another process holds it.
    pub fn lock(path: &str) -> Result<LockFile, Error> {
        let name = lock_file_name(path);
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(&name)
            .map_err(|e| {
                vlog::warn!(
                    "lockfile",
                    "{name}: failed to open lock file: {}",
                    crate::io_error_text(&e)
                );
                vlog::warn!(
                    "lockfile",
                    "{name}: failed to lock file: {}",
                    crate::io_error_text(&e)
                );
                Error::io(format!(
                    "{path}: failed to lock lockfile ({})",
                    crate::io_error_text(&e)
                ))
            })?;
        // SAFETY: flock is a plain C struct; zeroed is a valid initial value.
        let mut fl: libc::flock = unsafe { std::mem::zeroed() };
        fl.l_type = libc::F_WRLCK as _;
        fl.l_whence = libc::SEEK_SET as _;
        use std::os::fd::AsRawFd;
        // SAFETY: valid fd and a properly initialized flock struct.
        let rc = unsafe { libc::fcntl(file.as_raw_fd(), libc::F_SETLK, &fl) };
        if rc < 0 {
            let e = std::io::Error::last_os_error();
            // Name the holder when the kernel tells us who it is.
            // SAFETY: as above; F_GETLK only fills in `probe`.
            let mut probe: libc::flock = unsafe { std::mem::zeroed() };
            probe.l_type = libc::F_WRLCK as _;
            probe.l_whence = libc::SEEK_SET as _;
            // SAFETY: valid fd and flock struct.
            let got = unsafe { libc::fcntl(file.as_raw_fd(), libc::F_GETLK, &mut probe) };
            if got == 0 && probe.l_type != libc::F_UNLCK as libc::c_short && probe.l_pid > 0 {
                vlog::warn!(
                    "lockfile",
                    "{name}: cannot lock file because it is already locked by pid {}",
                    probe.l_pid
                );
            } else {
                vlog::err!(
                    "lockfile",
                    "{name}: cannot lock file because it is already locked by another process"
                );
            }
            return Err(Error::io(format!(
                "{path}: failed to lock lockfile ({})",
                crate::io_error_text(&e)
            )));
        }
        Ok(LockFile { _file: file })
    }
}

/// A database backed by a standalone file.
pub struct Storage {
    pub db: Database,
    path: String,
    file: Option<Arc<File>>,
    /// The commit journal of a served database ([`Storage::open_served`]).
    journal: Option<Journal>,
    _lock: Option<LockFile>,
    /// Size of the file after the last snapshot (compaction or open).
    snapshot_size: u64,
    /// Current size of the file.
    size: u64,
    n_transactions: u64,
    last_compaction: Instant,
    /// The comment written in compaction records.
    pub compact_comment: String,
    /// True when records were written to the database file since its
    /// last fsync.
    unsynced: bool,
    /// Counts the times the file was replaced (a background compaction
    /// started before the latest replacement is void).
    generation: u64,
    /// A background compaction is under way.
    compacting: bool,
    /// Tells this opening of the file from a later one.
    instance: Uuid,
}

/// A compaction done away from the database's owner
/// ([`Storage::begin_compaction`]): the snapshot of the data as it was is
/// written without holding the [`Storage`]; [`Storage::finish_compaction`]
/// then adds the records committed meanwhile and swaps the files.
pub struct CompactionJob {
    db: Database,
    comment: String,
    tmp: String,
    /// Size of the database file when the snapshot was taken.
    base: u64,
    generation: u64,
    instance: Uuid,
}

impl CompactionJob {
    /// Writes (and syncs) the snapshot; its size.
    pub fn write(&self) -> Result<u64, Error> {
        write_snapshot(&self.tmp, &self.db, &self.comment)
    }

    /// Gives up (the database is no longer served): the snapshot goes.
    pub fn discard(self) {
        let _ = std::fs::remove_file(&self.tmp);
    }
}

impl Drop for Storage {
    /// A served database closes cleanly: its file is synced and its journal
    /// is no longer needed.
    fn drop(&mut self) {
        if let (Some(j), Some(f)) = (self.journal.take(), self.file.as_ref()) {
            if f.sync_data().is_ok() {
                j.remove();
            }
        }
    }
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

fn io_err(path: &str, what: &str, e: &std::io::Error) -> Error {
    Error::io(format!(
        "{path}: {what} failed ({})",
        crate::io_error_text(e)
    ))
}

/// Creates a new database file at `path` holding only `schema`. Fails if
/// the file exists.
pub fn create(path: &str, schema: &DatabaseSchema) -> Result<(), Error> {
    let _lock = LockFile::lock(path)?;
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o640)
        .open(path)
        .map_err(|e| io_err(path, "create", &e))?;
    f.write_all(&encode_record(MAGIC_STANDALONE, &schema.to_json()))
        .and_then(|_| f.sync_all())
        .map_err(|e| io_err(path, "write", &e))?;
    Ok(())
}

/// The magic and first record (the schema, for standalone files) of a
/// database file.
pub fn read_header(path: &str) -> Result<(String, Value), Error> {
    let data = std::fs::read(path).map_err(|e| io_err(path, "open", &e))?;
    let recs = read_records(path, &data)?;
    match recs.records.into_iter().next() {
        Some(r) => Ok((recs.magic, r.json)),
        None => Err(recs.error.unwrap_or_else(|| {
            Error::new("ovsdb error", format!("{path}: unexpected file format"))
        })),
    }
}

/// The schema of a standalone database file.
pub fn read_schema(path: &str) -> Result<DatabaseSchema, Error> {
    let (magic, json) = read_header(path)?;
    if magic != MAGIC_STANDALONE {
        return Err(Error::new(
            "ovsdb error",
            format!("{path}: clustered databases are not supported yet"),
        ));
    }
    DatabaseSchema::from_json(&json)
}

/// The JSON of a row in a transaction record, or `None` if nothing to write.
fn row_record(table: &TableSchema, ch: &RowChange) -> Option<Value> {
    row_change_json(table, ch, false)
}

/// A row change in the diff form of log records: `null` for a delete; for
/// an insert, the non-default columns; for a modification, the changed
/// columns, with sets and maps of more than one element as the difference
/// from the old value (the form RFC 7047's `update2` "modify" also uses).
/// `None` when nothing is left to report. Log records leave out ephemeral
/// columns (`include_ephemeral` false); monitors include them.
pub fn row_change_json(
    table: &TableSchema,
    ch: &RowChange,
    include_ephemeral: bool,
) -> Option<Value> {
    let new = match &ch.new {
        None => return Some(Value::Null),
        Some(n) => n,
    };
    let mut m = Map::new();
    for (i, c) in table.columns.iter().enumerate() {
        if c.ephemeral && !include_ephemeral {
            continue;
        }
        let nv = &new.fields[i];
        match &ch.old {
            None => {
                if !nv.is_default(&c.ty) {
                    m.insert(c.name.clone(), nv.to_json(&c.ty));
                }
            }
            Some(old) => {
                let ov = &old.fields[i];
                if !ch.changed.contains(&i) {
                    continue;
                }
                if c.ty.is_composite() {
                    m.insert(c.name.clone(), Datum::diff(ov, nv).to_json(&c.ty.relaxed()));
                } else {
                    m.insert(c.name.clone(), nv.to_json(&c.ty));
                }
            }
        }
    }
    if ch.old.is_some() && m.is_empty() {
        return None;
    }
    Some(Value::Object(m))
}

/// The record for a committed transaction, or `None` if it changes nothing
/// that is written to disk.
pub fn transaction_record(schema: &DatabaseSchema, commit: &Commit, date_ms: i64) -> Option<Value> {
    // Members go in upstream's insertion order (tables, _comment,
    // _is_diff, _date) so that the hash order of the written object
    // matches upstream's.
    let mut m = Map::new();
    let mut any = false;
    let changes = &commit.changes;
    let order = changes.table_order.iter().chain(
        changes
            .tables
            .keys()
            .filter(|t| !changes.table_order.contains(t)),
    );
    for tname in order {
        let Some(rows) = changes.tables.get(tname) else {
            continue;
        };
        let Some(ts) = schema.table(tname) else {
            continue;
        };
        let mut t = Map::new();
        for (u, ch) in rows {
            if let Some(r) = row_record(ts, ch) {
                t.insert(u.to_string(), r);
            }
        }
        if !t.is_empty() {
            any = true;
            m.insert(tname.clone(), Value::Object(t));
        }
    }
    if !any {
        return None;
    }
    if let Some(c) = &commit.comment {
        m.insert("_comment".into(), Value::String(c.clone()));
    }
    m.insert("_is_diff".into(), true.into());
    m.insert("_date".into(), date_ms.into());
    Some(Value::Object(m))
}

/// The snapshot record of a whole database (as compaction writes it).
pub fn snapshot_record(db: &Database, comment: &str, date_ms: i64) -> Value {
    let mut m = Map::new();
    m.insert("_date".into(), date_ms.into());
    for (tname, table) in &db.tables {
        let Some(ts) = db.schema.table(tname) else {
            continue;
        };
        if table.rows.is_empty() {
            continue;
        }
        let mut t = Map::new();
        for (u, row) in &table.rows {
            let ch = RowChange {
                old: None,
                new: Some(row.clone()),
                changed: Vec::new(),
            };
            if let Some(r) = row_record(ts, &ch) {
                t.insert(u.to_string(), r);
            }
        }
        m.insert(tname.clone(), Value::Object(t));
    }
    if !comment.is_empty() {
        m.insert("_comment".into(), Value::String(comment.into()));
    }
    Value::Object(m)
}

/// Turns one transaction record into changes against `db`.
pub fn record_to_changes(db: &Database, json: &Value) -> Result<Changes, Error> {
    record_to_changes_as(db, json, false)
}

/// Like [`record_to_changes`]; with `converting`, tables and columns that
/// `db`'s schema lacks are ignored and values must satisfy its constraints
/// (this is how a log is read under a new schema by `convert`).
pub fn record_to_changes_as(
    db: &Database,
    json: &Value,
    converting: bool,
) -> Result<Changes, Error> {
    let Some(obj) = json.as_object() else {
        return Err(Error::syntax(Some(json), "object expected"));
    };
    let is_diff = obj
        .get("_is_diff")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let mut changes = Changes::default();
    for (tname, tjson) in obj {
        if tname.starts_with('_') {
            continue;
        }
        let Some(ts) = db.schema.table(tname) else {
            if converting {
                continue;
            }
            return Err(Error::syntax(
                Some(json),
                format!("No table named {tname}."),
            ));
        };
        let Some(rows) = tjson.as_object() else {
            return Err(Error::syntax(Some(tjson), "object expected"));
        };
        let mut out = BTreeMap::new();
        for (ustr, rjson) in rows {
            let Some(uuid) = Uuid::parse(ustr) else {
                return Err(Error::syntax(
                    Some(tjson),
                    format!("\"{ustr}\" is not a valid UUID"),
                ));
            };
            let old = db.row(tname, &uuid).cloned();
            if rjson.is_null() {
                if old.is_none() {
                    return Err(Error::new(
                        "syntax error",
                        format!("transaction deletes row {uuid} that does not exist"),
                    ));
                }
                out.insert(
                    uuid,
                    RowChange {
                        old,
                        new: None,
                        changed: Vec::new(),
                    },
                );
                continue;
            }
            let Some(cols) = rjson.as_object() else {
                return Err(Error::syntax(Some(rjson), "object expected"));
            };
            let mut row = match &old {
                Some(o) => (**o).clone(),
                None => Row::new_default(ts, uuid),
            };
            row.version = Uuid::random();
            let mut changed = Vec::new();
            for (cname, cjson) in cols {
                let Some(ColumnRef::Index(i)) = ts.column(cname) else {
                    if converting {
                        continue;
                    }
                    return Err(Error::with_syntax(
                        "unknown column",
                        Some(rjson),
                        format!("No column {cname} in table {tname}."),
                    ));
                };
                changed.push(i);
                let ty = &ts.columns[i].ty;
                let cur = &row.fields[i];
                if is_diff && ty.is_composite() && !cur.is_default(ty) {
                    let diff = Datum::from_json_unchecked(&ty.relaxed(), cjson, None)?;
                    row.fields[i] = cur.apply_diff(&diff);
                    if converting {
                        row.fields[i].check_constraints(ty)?;
                    }
                } else if converting {
                    row.fields[i] = Datum::from_json(ty, cjson, None)?;
                } else {
                    row.fields[i] = Datum::from_json_unchecked(ty, cjson, None)?;
                }
            }
            out.insert(
                uuid,
                RowChange {
                    old,
                    new: Some(Arc::new(row)),
                    changed,
                },
            );
        }
        if !out.is_empty() {
            changes.table_order.push(tname.clone());
            changes.tables.insert(tname.clone(), out);
        }
    }
    Ok(changes)
}

/// Reads the database file at `path` under `schema` instead of its own
/// (the data of `ovsdb-tool convert`).
pub fn read_as_schema(path: &str, schema: DatabaseSchema) -> Result<Database, Error> {
    let data = std::fs::read(path).map_err(|e| io_err(path, "open", &e))?;
    let recs = read_records(path, &data)?;
    if let Some(e) = recs.error {
        return Err(e);
    }
    let mut db = Database::new(schema);
    for r in recs.records.iter().skip(1) {
        let changes = record_to_changes_as(&db, &r.json, true)?;
        db.apply(&changes);
    }
    Ok(db)
}

/// The reply of [`Storage::transact`].
pub enum TransactReply {
    /// Finished: the reply array, and the changes that were committed (empty
    /// if none), for monitors.
    Done { results: Value, changes: Changes },
    /// A `wait` must be retried later (see [`Outcome::Blocked`]).
    Blocked {
        timeout_ms: Option<u64>,
        results: Vec<Value>,
    },
}

impl Storage {
    /// Opens and replays the file at `path`.
    pub fn open(path: &str, opts: OpenOptionsDb) -> Result<Storage, Error> {
        Self::open_with(path, opts, false)
    }

    /// Opens the file at `path` for a server: records its journal holds
    /// and the file lost are written back first, a torn tail is cut, and
    /// commits are journalled from now on (see [`crate::journal`]): the
    /// caller syncs the files [`Storage::take_sync_file`] hands out before
    /// acknowledging commits, and calls [`Storage::checkpoint`] when
    /// [`Storage::needs_checkpoint`].
    pub fn open_served(path: &str) -> Result<Storage, Error> {
        let opts = OpenOptionsDb {
            read_only: false,
            tail: TailPolicy::Truncate,
        };
        Self::open_with(path, opts, true)
    }

    fn open_with(path: &str, opts: OpenOptionsDb, journaled: bool) -> Result<Storage, Error> {
        let lock = if opts.read_only {
            None
        } else {
            Some(LockFile::lock(path)?)
        };
        if journaled {
            crate::journal::recover(path)?;
        }
        let data = std::fs::read(path).map_err(|e| io_err(path, "open", &e))?;
        let recs = read_records(path, &data)?;
        if recs.magic == MAGIC_CLUSTERED {
            return Err(Error::new(
                "ovsdb error",
                format!("{path}: clustered databases are not supported yet"),
            ));
        }
        if recs.magic != MAGIC_STANDALONE {
            return Err(Error::new(
                "ovsdb error",
                format!("{path}: unexpected file format"),
            ));
        }
        let mut it = recs.records.iter();
        let Some(first) = it.next() else {
            return Err(recs.error.unwrap_or_else(|| {
                Error::new("ovsdb error", format!("{path}: unexpected file format"))
            }));
        };
        let schema = DatabaseSchema::from_json(&first.json)?;
        let mut db = Database::new(schema);
        let mut n_transactions = 0;
        for r in it {
            let changes = record_to_changes(&db, &r.json)?;
            db.apply(&changes);
            n_transactions += 1;
        }
        let mut size = data.len() as u64;
        if let Some(e) = recs.error {
            match opts.tail {
                TailPolicy::Fail => return Err(e),
                TailPolicy::Truncate => {
                    // Upstream's server reports the bad record and later
                    // overwrites it with the next commit; we cut it now.
                    vlog::err!("ovsdb_server", "{e}");
                    if !opts.read_only {
                        let f = OpenOptions::new()
                            .write(true)
                            .open(path)
                            .map_err(|e| io_err(path, "open", &e))?;
                        f.set_len(recs.good_end)
                            .and_then(|_| f.sync_all())
                            .map_err(|e| io_err(path, "truncate", &e))?;
                    }
                    size = recs.good_end;
                }
            }
        }
        let file = if opts.read_only {
            None
        } else {
            Some(Arc::new(
                OpenOptions::new()
                    .append(true)
                    .open(path)
                    .map_err(|e| io_err(path, "open", &e))?,
            ))
        };
        let journal = match (&file, journaled) {
            (Some(f), true) => {
                // What a crashed predecessor wrote may still be only in the
                // page cache: on disk it goes before the journal forgets it.
                f.sync_data().map_err(|e| io_err(path, "fsync", &e))?;
                Some(Journal::start(path, f)?)
            }
            _ => None,
        };
        Ok(Storage {
            db,
            path: path.to_string(),
            file,
            journal,
            _lock: lock,
            snapshot_size: size,
            size,
            n_transactions,
            last_compaction: Instant::now(),
            compact_comment: String::new(),
            unsynced: false,
            generation: 0,
            compacting: false,
            instance: Uuid::random(),
        })
    }

    pub fn path(&self) -> &str {
        &self.path
    }

    /// Writes `commit` to the log (fsync'd) and applies it. A commit that
    /// changes nothing on disk is applied without writing.
    pub fn commit(&mut self, commit: &Commit) -> Result<(), Error> {
        self.commit_with(commit, true)
    }

    /// Writes `commit` to the log without waiting for the disk, and applies
    /// it. A server may commit several transactions this way and then call
    /// [`Storage::sync`] once before acknowledging any of them (group commit).
    pub fn commit_unsynced(&mut self, commit: &Commit) -> Result<(), Error> {
        self.commit_with(commit, false)
    }

    /// Waits until every commit written so far is on disk.
    pub fn sync(&mut self) -> Result<(), Error> {
        if let Some(f) = self.take_sync_file() {
            f.sync_data().map_err(|e| io_err(&self.path, "fsync", &e))?;
        }
        Ok(())
    }

    /// The file whose `fdatasync` makes every commit written so far
    /// durable (the journal of a served database, else the database file),
    /// or `None` if nothing was written since the last call. The caller
    /// may sync it without holding `self`.
    pub fn take_sync_file(&mut self) -> Option<crate::journal::Syncer> {
        match self.journal.as_mut() {
            Some(j) => j.take_dirty(),
            None => std::mem::take(&mut self.unsynced)
                .then(|| self.file.clone().map(crate::journal::Syncer::fdatasync))
                .flatten(),
        }
    }

    /// True when the journal has grown enough that the database file
    /// should be synced and the journal started over.
    pub fn needs_checkpoint(&self) -> bool {
        self.journal
            .as_ref()
            .is_some_and(|j| j.used() >= crate::journal::CHECKPOINT_BYTES)
    }

    /// The database file (to sync it ahead of [`Storage::checkpoint`]
    /// without holding `self`, so that the checkpoint's own sync is short).
    pub fn data_file(&self) -> Option<Arc<File>> {
        self.file.clone()
    }

    /// Syncs the database file and starts the journal over.
    pub fn checkpoint(&mut self) -> Result<(), Error> {
        let (Some(f), Some(j)) = (self.file.as_ref(), self.journal.as_mut()) else {
            return Ok(());
        };
        f.sync_data().map_err(|e| io_err(&self.path, "fsync", &e))?;
        self.unsynced = false;
        j.restart(f)
    }

    fn commit_with(&mut self, commit: &Commit, sync: bool) -> Result<(), Error> {
        if let Some(rec) = transaction_record(&self.db.schema, commit, now_ms()) {
            let Some(f) = self.file.as_ref() else {
                return Err(Error::io(format!("{}: database is read-only", self.path)));
            };
            let bytes = encode_record(MAGIC_STANDALONE, &rec);
            let written = (&**f)
                .write_all(&bytes)
                .map_err(|e| io_err(&self.path, "write", &e))
                .and_then(|_| match self.journal.as_mut() {
                    Some(j) => j.append(self.size, &bytes),
                    None => Ok(()),
                });
            if let Err(e) = written {
                // Never leave a partial record for the next one to follow.
                let _ = f.set_len(self.size);
                return Err(e);
            }
            self.size += bytes.len() as u64;
            self.n_transactions += 1;
            self.unsynced = true;
            if sync {
                self.sync()?;
            }
        }
        self.db.apply(&commit.changes);
        // A served database is compacted in the background by its server.
        if self.journal.is_none() && self.should_compact() {
            if let Err(e) = self.compact() {
                vlog::warn!(
                    "ovsdb_file",
                    "{}: compacting database failed ({e})",
                    self.path
                );
            }
        }
        Ok(())
    }

    /// Executes a transaction and commits it (durably) if it succeeded.
    pub fn transact(
        &mut self,
        params: &Value,
        opts: &ExecOptions<'_>,
    ) -> Result<TransactReply, Error> {
        self.transact_with(params, opts, true)
    }

    /// Like [`Storage::transact`], without waiting for the disk: the caller
    /// calls [`Storage::sync`] before acknowledging (group commit).
    pub fn transact_unsynced(
        &mut self,
        params: &Value,
        opts: &ExecOptions<'_>,
    ) -> Result<TransactReply, Error> {
        self.transact_with(params, opts, false)
    }

    fn transact_with(
        &mut self,
        params: &Value,
        opts: &ExecOptions<'_>,
        sync: bool,
    ) -> Result<TransactReply, Error> {
        match self.db.execute(params, opts)? {
            Outcome::Blocked {
                timeout_ms,
                results,
            } => Ok(TransactReply::Blocked {
                timeout_ms,
                results,
            }),
            Outcome::Done { results, commit } => {
                let Some(commit) = commit else {
                    return Ok(TransactReply::Done {
                        results,
                        changes: Changes::default(),
                    });
                };
                if let Err(e) = self.commit_with(&commit, sync) {
                    let mut r = results.as_array().cloned().unwrap_or_default();
                    r.push(e.to_json());
                    return Ok(TransactReply::Done {
                        results: Value::Array(r),
                        changes: Changes::default(),
                    });
                }
                Ok(TransactReply::Done {
                    results,
                    changes: commit.changes,
                })
            }
        }
    }

    /// True when the log has grown enough that compacting is worthwhile:
    /// at least 100 transactions and 10 MB since the last snapshot, four
    /// times the snapshot's size, and ten minutes since the last compaction.
    pub fn should_compact(&self) -> bool {
        self.n_transactions >= 100
            && self.size >= 10 * 1024 * 1024
            && self.size >= 4 * self.snapshot_size
            && self.last_compaction.elapsed().as_secs() >= 600
    }

    /// True when [`Storage::begin_compaction`] would start one now.
    pub fn wants_compaction(&self) -> bool {
        !self.compacting && self.file.is_some() && self.should_compact()
    }

    /// Starts a background compaction if the log has grown enough
    /// ([`Storage::should_compact`]), or anyway with `force`, and none is
    /// under way.
    pub fn begin_compaction(&mut self, force: bool) -> Option<CompactionJob> {
        if self.compacting || self.file.is_none() || !(force || self.should_compact()) {
            return None;
        }
        self.compacting = true;
        Some(CompactionJob {
            db: self.db.clone(),
            comment: self.compact_comment.clone(),
            tmp: format!("{}.compacting", self.path),
            base: self.size,
            generation: self.generation,
            instance: self.instance,
        })
    }

    /// Forgets a compaction that could not run (the next may start).
    pub fn abandon_compaction(&mut self) {
        self.compacting = false;
    }

    /// Completes `job`, whose snapshot `written` says how it went: the
    /// records committed since the snapshot are appended to it, it is
    /// synced, and it replaces the file. Commits wait only for this last
    /// part.
    pub fn finish_compaction(
        &mut self,
        job: CompactionJob,
        written: Result<u64, Error>,
    ) -> Result<(), Error> {
        self.compacting = false;
        let result = self.swap_in(&job, written);
        if result.is_err() {
            let _ = std::fs::remove_file(&job.tmp);
        }
        result
    }

    fn swap_in(&mut self, job: &CompactionJob, written: Result<u64, Error>) -> Result<(), Error> {
        let snapshot_size = written?;
        if job.generation != self.generation || job.instance != self.instance {
            return Err(Error::io(format!(
                "{}: replaced during compaction",
                self.path
            )));
        }
        let mut tail = Vec::new();
        {
            use std::io::{Read, Seek, SeekFrom};
            let mut f = File::open(&self.path).map_err(|e| io_err(&self.path, "open", &e))?;
            f.seek(SeekFrom::Start(job.base))
                .and_then(|_| f.take(self.size - job.base).read_to_end(&mut tail))
                .map_err(|e| io_err(&self.path, "read", &e))?;
        }
        // Counted for the next compaction's threshold.
        let n_tail = crate::log::read_records(&self.path, &tail).map_or(0, |r| r.records.len());
        {
            let _lock = LockFile::lock(&job.tmp)?;
            let mut f = OpenOptions::new()
                .append(true)
                .open(&job.tmp)
                .map_err(|e| io_err(&job.tmp, "open", &e))?;
            f.write_all(&tail)
                .and_then(|_| f.sync_data())
                .map_err(|e| io_err(&job.tmp, "write", &e))?;
        }
        std::fs::rename(&job.tmp, &self.path).map_err(|e| io_err(&self.path, "rename", &e))?;
        sync_parent(&self.path);
        self.reopen()?;
        self.size = snapshot_size + tail.len() as u64;
        self.snapshot_size = snapshot_size;
        self.n_transactions = n_tail as u64;
        self.unsynced = false;
        self.last_compaction = Instant::now();
        Ok(())
    }

    /// Opens the (replaced) file for appending; the journal starts over.
    fn reopen(&mut self) -> Result<(), Error> {
        self.generation += 1;
        if self.file.is_some() {
            let f = Arc::new(
                OpenOptions::new()
                    .append(true)
                    .open(&self.path)
                    .map_err(|e| io_err(&self.path, "open", &e))?,
            );
            // The journal's entries are for the replaced file.
            if let Some(j) = self.journal.as_mut() {
                j.restart(&f)?;
            }
            self.file = Some(f);
        }
        Ok(())
    }

    /// Rewrites the file as a schema record plus one snapshot record,
    /// atomically (temporary file, fsync, rename).
    pub fn compact(&mut self) -> Result<(), Error> {
        let comment = self.compact_comment.clone();
        self.rewrite(None, &comment)
    }

    /// Replaces the database by `db` (the same data under a new schema,
    /// from [`crate::convert::convert`]): the file is rewritten as `db`'s
    /// schema and snapshot, atomically, before `db` is served.
    pub fn replace(&mut self, db: Database, comment: &str) -> Result<(), Error> {
        self.rewrite(Some(db), comment)
    }

    fn rewrite(&mut self, new: Option<Database>, comment: &str) -> Result<(), Error> {
        let tmp = format!("{}.tmp", self.path);
        let size = write_snapshot(&tmp, new.as_ref().unwrap_or(&self.db), comment)?;
        std::fs::rename(&tmp, &self.path).map_err(|e| io_err(&self.path, "rename", &e))?;
        if let Some(db) = new {
            self.db = db;
        }
        sync_parent(&self.path);
        self.reopen()?;
        self.size = size;
        self.snapshot_size = size;
        self.n_transactions = 0;
        // The snapshot was written and fsync'd whole.
        self.unsynced = false;
        self.last_compaction = Instant::now();
        Ok(())
    }
}

/// Writes a file at `path` (replacing any) with `db`'s schema and
/// contents; returns its size.
pub fn write_snapshot(path: &str, db: &Database, comment: &str) -> Result<u64, Error> {
    let _lock = LockFile::lock(path)?;
    let mut f = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o640)
        .open(path)
        .map_err(|e| io_err(path, "create", &e))?;
    let mut bytes = encode_record(MAGIC_STANDALONE, &db.schema.to_json());
    bytes.extend(encode_record(
        MAGIC_STANDALONE,
        &snapshot_record(db, comment, now_ms()),
    ));
    f.write_all(&bytes)
        .and_then(|_| f.sync_all())
        .map_err(|e| io_err(path, "write", &e))?;
    Ok(bytes.len() as u64)
}

pub(crate) fn sync_parent(path: &str) {
    let p = std::path::Path::new(path);
    let dir = match p.parent().filter(|d| !d.as_os_str().is_empty()) {
        Some(d) => d.to_path_buf(),
        None => std::path::PathBuf::from("."),
    };
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema() -> DatabaseSchema {
        DatabaseSchema::from_json(&json!({"name":"T","tables":{
            "A":{"columns":{"i":{"type":"integer"},
                 "m":{"type":{"key":"string","value":"integer","min":0,"max":"unlimited"}},
                 "eph":{"type":"integer","ephemeral":true},
                 "ref":{"type":{"key":{"type":"uuid","refTable":"B"},"min":0,"max":"unlimited"}}},"isRoot":true},
            "B":{"columns":{"name":{"type":"string"}}}}}))
        .unwrap()
    }

    fn tmpdir() -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("ovsdb-storage-{}", Uuid::random()));
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    fn tx(s: &mut Storage, ops: Value) -> Value {
        let mut p = vec![json!("T")];
        p.extend(ops.as_array().unwrap().iter().cloned());
        match s
            .transact(&Value::Array(p), &ExecOptions::default())
            .unwrap()
        {
            TransactReply::Done { results, .. } => results,
            TransactReply::Blocked { .. } => panic!("blocked"),
        }
    }

    const OPEN: OpenOptionsDb = OpenOptionsDb {
        read_only: false,
        tail: TailPolicy::Fail,
    };

    #[test]
    fn commits_survive_reopen_and_compaction() {
        let d = tmpdir();
        let path = d.join("t.db").to_string_lossy().into_owned();
        create(&path, &schema()).unwrap();
        assert!(create(&path, &schema())
            .unwrap_err()
            .to_string()
            .contains("create failed (File exists)"));
        let mut s = Storage::open(&path, OPEN).unwrap();
        let r = tx(
            &mut s,
            json!([
                {"op":"insert","table":"B","row":{"name":"b1"},"uuid-name":"b"},
                {"op":"insert","table":"A","row":{"i":1,"eph":7,"m":["map",[["a",1],["b",2]]],"ref":["named-uuid","b"]}}
            ]),
        );
        assert!(r[1]["uuid"].is_array(), "{r}");
        tx(
            &mut s,
            json!([{"op":"mutate","table":"A","where":[],"mutations":[["m","insert",["map",[["c",3]]]],["m","delete",["set",["a"]]],["i","+=",1]]}]),
        );
        let before: Vec<Row> = s.db.tables["A"]
            .rows
            .values()
            .map(|r| (**r).clone())
            .collect();
        drop(s);
        let s = Storage::open(&path, OPEN).unwrap();
        let after: Vec<Row> = s.db.tables["A"]
            .rows
            .values()
            .map(|r| (**r).clone())
            .collect();
        assert_eq!(before.len(), 1);
        assert_eq!(
            before[0].fields[s.db.schema.tables["A"].by_name["m"]],
            after[0].fields[s.db.schema.tables["A"].by_name["m"]]
        );
        assert_eq!(
            after[0].fields[s.db.schema.tables["A"].by_name["i"]],
            Datum::from_atom(crate::Atom::Integer(2))
        );
        assert_eq!(
            after[0].fields[s.db.schema.tables["A"].by_name["eph"]],
            Datum::from_atom(crate::Atom::Integer(0))
        );
        assert_eq!(
            s.db.strong_refs("B", &s.db.tables["B"].rows.keys().next().copied().unwrap()),
            1
        );
        let mut s = s;
        s.compact().unwrap();
        drop(s);
        let s = Storage::open(&path, OPEN).unwrap();
        assert_eq!(s.db.tables["A"].len(), 1);
        assert_eq!(s.db.tables["B"].len(), 1);
        std::fs::remove_dir_all(d).unwrap();
    }

    #[test]
    fn group_commit_then_sync() {
        let d = tmpdir();
        let path = d.join("t.db").to_string_lossy().into_owned();
        create(&path, &schema()).unwrap();
        let mut s = Storage::open(&path, OPEN).unwrap();
        for i in 0..3 {
            let p = json!(["T", {"op":"insert","table":"A","row":{"i":i}}]);
            let Outcome::Done {
                commit: Some(c), ..
            } = s.db.execute(&p, &ExecOptions::default()).unwrap()
            else {
                panic!("not committed");
            };
            s.commit_unsynced(&c).unwrap();
        }
        s.sync().unwrap();
        drop(s);
        let s = Storage::open(&path, OPEN).unwrap();
        assert_eq!(s.db.tables["A"].len(), 3);
        std::fs::remove_dir_all(d).unwrap();
    }

    #[test]
    fn background_compaction_keeps_commits_made_meanwhile() {
        let d = tmpdir();
        let path = d.join("t.db").to_string_lossy().into_owned();
        create(&path, &schema()).unwrap();
        let mut s = Storage::open_served(&path).unwrap();
        for i in 0..3 {
            tx(&mut s, json!([{"op":"insert","table":"A","row":{"i":i}}]));
        }
        let job = s.begin_compaction(true).unwrap();
        assert!(s.begin_compaction(true).is_none(), "one at a time");
        // Commits go on while the snapshot is written.
        for i in 3..5 {
            tx(&mut s, json!([{"op":"insert","table":"A","row":{"i":i}}]));
        }
        let written = job.write();
        s.finish_compaction(job, written).unwrap();
        tx(&mut s, json!([{"op":"insert","table":"A","row":{"i":5}}]));
        s.sync().unwrap();
        let data = std::fs::read(&path).unwrap();
        // Schema, snapshot, the two commits made meanwhile, the last one.
        assert_eq!(read_records(&path, &data).unwrap().records.len(), 5);
        assert_eq!(s.size, data.len() as u64);
        drop(s);
        let s = Storage::open(&path, OPEN).unwrap();
        assert_eq!(s.db.tables["A"].len(), 6);
        drop(s);
        // A job outlived by a replacement of the file is void.
        let mut s = Storage::open_served(&path).unwrap();
        let job = s.begin_compaction(true).unwrap();
        s.compact().unwrap();
        let written = job.write();
        assert!(s.finish_compaction(job, written).is_err());
        assert!(!std::path::Path::new(&format!("{path}.compacting")).exists());
        assert_eq!(s.db.tables["A"].len(), 6);
        drop(s);
        std::fs::remove_dir_all(d).unwrap();
    }

    #[test]
    fn torn_tail_fails_or_truncates() {
        let d = tmpdir();
        let path = d.join("t.db").to_string_lossy().into_owned();
        create(&path, &schema()).unwrap();
        let mut s = Storage::open(&path, OPEN).unwrap();
        tx(&mut s, json!([{"op":"insert","table":"A","row":{"i":5}}]));
        drop(s);
        let good = std::fs::metadata(&path).unwrap().len();
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(b"OVSDB JSON 50 0000000000000000000000000000000000000000\n{\"_da")
            .unwrap();
        drop(f);
        let e = Storage::open(&path, OPEN).err().unwrap();
        assert!(e.to_string().contains("error reading 50 bytes"), "{e}");
        let s = Storage::open(
            &path,
            OpenOptionsDb {
                read_only: false,
                tail: TailPolicy::Truncate,
            },
        )
        .unwrap();
        assert_eq!(s.db.tables["A"].len(), 1);
        drop(s);
        assert_eq!(std::fs::metadata(&path).unwrap().len(), good);
        std::fs::remove_dir_all(d).unwrap();
    }
}
