//! The embedded backend: SQLite in WAL mode, one file under the data directory.
//!
//! One writer connection behind a mutex (SQLite allows one writer at a time anyway) and a small
//! pool of reader connections, which WAL lets run beside it and beside each other. Writes are
//! batched by the callers (a campaign batch is one transaction), which is what makes
//! `synchronous=FULL` affordable.

pub(crate) mod audit;
mod cmpp;
mod complaints;
mod consents;
mod console;
mod keys;
mod messages;
#[cfg(test)]
mod plans;
mod reason_codes;
mod replies;
mod senders;
mod smpp;
mod traffic;

use std::path::Path;

use parking_lot::Mutex;
use rusqlite::Connection;

use crate::{Durability, StoreError};

const SCHEMA: &str = include_str!("schema.sql");

/// SQLite store.
#[derive(Debug)]
pub struct SqliteStore {
    writer: Mutex<Connection>,
    reader: Readers,
    /// The audit chain's head; locked only while holding `writer`, advanced after commits.
    chain: Mutex<crate::audit::chain::Chain>,
    /// Whether evidence records are chained (`[store] audit`; off only to measure its cost).
    audit: bool,
    /// Whether `consent_events` is clustered by phone (databases created before it was are not:
    /// their scans go in commit order instead).
    clustered: bool,
    /// Injected commit faults (the simulation only; `None` in service).
    faults: Option<std::sync::Arc<dyn crate::faults::CommitFaults>>,
}

pub(crate) use crate::values::{corrupt, from_micros, micros, truncate};

fn configure(conn: &Connection, durability: Durability) -> Result<(), StoreError> {
    conn.pragma_update(None, "journal_mode", "wal")?;
    let sync = match durability {
        Durability::Full => "full",
        Durability::Normal => "normal",
    };
    conn.pragma_update(None, "synchronous", sync)?;
    conn.pragma_update(None, "busy_timeout", 5000)?;
    conn.pragma_update(None, "cache_size", -16_000)?;
    Ok(())
}

/// A console search's bound values (`crate::console::SearchValue`) as SQLite values, in order.
fn search_params(values: Vec<crate::console::SearchValue>) -> Vec<rusqlite::types::Value> {
    use crate::console::SearchValue;
    use rusqlite::types::Value;
    values
        .into_iter()
        .map(|v| match v {
            SearchValue::Int(i) => Value::Integer(i),
            SearchValue::Text(t) => Value::Text(t.to_string()),
            SearchValue::Owned(t) => Value::Text(t),
        })
        .collect()
}

/// Reader connections per store: enough for both cores and the API's blocking threads to read
/// at once without queueing on one connection.
const READERS: usize = 4;

/// A pool of reader connections; [`Readers::lock`] takes a free one, or waits for one.
pub(crate) struct Readers {
    conns: Vec<Mutex<Connection>>,
    next: std::sync::atomic::AtomicUsize,
}

impl std::fmt::Debug for Readers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Readers")
            .field("conns", &self.conns.len())
            .finish()
    }
}

impl Readers {
    fn new(conns: Vec<Connection>) -> Self {
        Readers {
            conns: conns.into_iter().map(Mutex::new).collect(),
            next: std::sync::atomic::AtomicUsize::new(0),
        }
    }

    /// A reader connection: the first free one from a rotating start, else the next in turn.
    pub(crate) fn lock(&self) -> parking_lot::MutexGuard<'_, Connection> {
        let n = self.conns.len();
        let start = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        for i in 0..n {
            if let Some(g) = self.conns[(start + i) % n].try_lock() {
                return g;
            }
        }
        self.conns[start % n].lock()
    }
}

fn clustered(conn: &Connection) -> Result<bool, StoreError> {
    let sql: String = conn.query_row(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'consent_events'",
        [],
        |r| r.get(0),
    )?;
    Ok(sql.to_ascii_uppercase().contains("WITHOUT ROWID"))
}

/// Fills `message_reasons` from the current decision of every message (what a store from
/// before the table needs, and what a bulk load that writes `messages` directly runs after).
pub const MESSAGE_REASONS_BACKFILL: &str =
    "INSERT OR IGNORE INTO message_reasons (code, message_id)
     SELECT json_extract(j.value, '$.code'), m.id
     FROM messages m, json_each(coalesce(m.current_reasons, m.reasons)) j
     WHERE json_extract(j.value, '$.code') IS NOT NULL";

/// Brings a database written by an earlier version up to this schema.
fn migrate(conn: &Connection) -> Result<(), StoreError> {
    let has_current: bool = conn.query_row(
        "SELECT count(*) > 0 FROM pragma_table_info('messages') WHERE name = 'current_status'",
        [],
        |r| r.get(0),
    )?;
    if !has_current {
        conn.execute_batch(
            "ALTER TABLE messages ADD COLUMN current_status TEXT;
             ALTER TABLE messages ADD COLUMN current_reasons TEXT;
             ALTER TABLE messages ADD COLUMN current_decided_at INTEGER;
             ALTER TABLE messages ADD COLUMN current_release_at INTEGER;",
        )?;
    }
    let has_scores: bool = conn.query_row(
        "SELECT count(*) > 0 FROM pragma_table_info('messages') WHERE name = 'content_scores'",
        [],
        |r| r.get(0),
    )?;
    if !has_scores {
        conn.execute_batch("ALTER TABLE messages ADD COLUMN content_scores TEXT;")?;
    }
    let has_disabled: bool = conn.query_row(
        "SELECT count(*) > 0 FROM pragma_table_info('console_accounts') WHERE name = 'disabled'",
        [],
        |r| r.get(0),
    )?;
    if !has_disabled {
        conn.execute_batch(
            "ALTER TABLE console_accounts ADD COLUMN disabled INTEGER NOT NULL DEFAULT 0;",
        )?;
    }
    // Early stores keyed redecisions by their implicit rowid, which VACUUM may renumber and so
    // break the audit chain that names them: give them an explicit key, keeping every number.
    let has_id: bool = conn.query_row(
        "SELECT count(*) > 0 FROM pragma_table_info('redecisions') WHERE name = 'id'",
        [],
        |r| r.get(0),
    )?;
    if !has_id {
        conn.execute_batch(
            "BEGIN IMMEDIATE;
             ALTER TABLE redecisions RENAME TO redecisions_rowid;
             CREATE TABLE redecisions (
                 id         INTEGER PRIMARY KEY,
                 message_id INTEGER NOT NULL,
                 at         INTEGER NOT NULL,
                 status     TEXT    NOT NULL,
                 reasons    TEXT    NOT NULL
             );
             INSERT INTO redecisions (id, message_id, at, status, reasons)
                 SELECT rowid, message_id, at, status, reasons FROM redecisions_rowid;
             DROP TABLE redecisions_rowid;
             COMMIT;",
        )?;
    }
    // Keys are revoked rather than deleted since credentials were chained.
    let has_revoked: bool = conn.query_row(
        "SELECT count(*) > 0 FROM pragma_table_info('api_keys') WHERE name = 'revoked_at'",
        [],
        |r| r.get(0),
    )?;
    if !has_revoked {
        conn.execute_batch("ALTER TABLE api_keys ADD COLUMN revoked_at INTEGER;")?;
    }
    // The reason codes of each message's current decision, for the search by reason (an index
    // range instead of matching the reasons' JSON row by row). A store from before it gets the
    // table filled from the messages it holds, once.
    let has_reasons: bool = conn.query_row(
        "SELECT count(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = 'message_reasons'",
        [],
        |r| r.get(0),
    )?;
    if !has_reasons {
        conn.execute_batch(&format!(
            "BEGIN IMMEDIATE;
             CREATE TABLE message_reasons (
                 code       TEXT    NOT NULL,
                 message_id INTEGER NOT NULL,
                 PRIMARY KEY (code, message_id)
             ) WITHOUT ROWID;
             {MESSAGE_REASONS_BACKFILL};
             COMMIT;"
        ))?;
    }
    // A message's latest chained decision is looked up when a complaint is adjudicated; sends
    // released from deferral are counted by their release when the volume is rebuilt; the
    // console's message list sorts by current status, and searches a day's refusals by reason.
    conn.execute_batch(
        "CREATE INDEX IF NOT EXISTS redecisions_message ON redecisions (message_id, id);
         CREATE INDEX IF NOT EXISTS messages_redecided ON messages (current_decided_at)
             WHERE current_decided_at IS NOT NULL;
         CREATE INDEX IF NOT EXISTS messages_status_id
             ON messages ((coalesce(current_status, status)), id);
         CREATE INDEX IF NOT EXISTS messages_refused_decided ON messages (decided_at)
             WHERE coalesce(current_status, status) <> 'accepted';",
    )?;
    // A phone's messages are found through `messages_phone_id` (phone, id). The older
    // (phone, delivery_at) index cost every send two random page writes — one when the message
    // was recorded and one when its hand-off or receipt moved its delivery time — for queries
    // that read a few of one phone's messages, which the (phone, id) key finds as well.
    conn.execute_batch("DROP INDEX IF EXISTS messages_phone;")?;
    Ok(())
}

/// Sets `path`'s permission bits (Unix; elsewhere nothing).
fn restrict(path: &Path, mode: u32) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
    }
    #[cfg(not(unix))]
    let _ = (path, mode);
    Ok(())
}

impl SqliteStore {
    /// Opens `dir/consentry.db`, creating the directory and schema if needed, with the audit
    /// chain on.
    pub fn open(dir: &Path, durability: Durability) -> Result<Self, StoreError> {
        Self::open_with(dir, durability, true)
    }

    /// Opens `dir/consentry.db`; `audit` says whether evidence records are chained.
    pub fn open_with(dir: &Path, durability: Durability, audit: bool) -> Result<Self, StoreError> {
        let dir_error = |source| StoreError::Dir {
            path: dir.display().to_string(),
            source,
        };
        if !dir.exists() {
            std::fs::create_dir_all(dir).map_err(dir_error)?;
            // The ledger names every shop a person dealt with: a new data directory is the
            // owner's alone (an existing one keeps what its operator chose).
            restrict(dir, 0o700).map_err(dir_error)?;
        }
        let path = dir.join("consentry.db");
        let writer = Connection::open(&path)?;
        configure(&writer, durability)?;
        writer.execute_batch(SCHEMA)?;
        migrate(&writer)?;
        // The database is readable by its owner only, whatever the umask; SQLite creates the
        // WAL and shared-memory files with the database's permissions, and any already there
        // are set too.
        for file in ["consentry.db", "consentry.db-wal", "consentry.db-shm"] {
            let f = dir.join(file);
            if f.exists() {
                restrict(&f, 0o600).map_err(dir_error)?;
            }
        }
        let mut readers = Vec::with_capacity(READERS);
        for _ in 0..READERS {
            let reader = Connection::open(&path)?;
            configure(&reader, durability)?;
            readers.push(reader);
        }
        let store = SqliteStore {
            chain: Mutex::new(audit::load_chain(&writer)?),
            clustered: clustered(&writer)?,
            writer: Mutex::new(writer),
            reader: Readers::new(readers),
            audit,
            faults: None,
        };
        store.adopt_credentials()?;
        Ok(store)
    }

    /// An in-memory database (shared by the writer and reader through one connection).
    pub fn open_in_memory() -> Result<Self, StoreError> {
        // Two connections to one in-memory database need a shared-cache URI; a unique name keeps
        // stores in one process apart.
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let uri = format!(
            "file:consentry-mem-{}-{n}?mode=memory&cache=shared",
            std::process::id()
        );
        let flags = rusqlite::OpenFlags::default() | rusqlite::OpenFlags::SQLITE_OPEN_URI;
        let writer = Connection::open_with_flags(&uri, flags)?;
        writer.execute_batch(SCHEMA)?;
        // Nothing to upgrade, but the indexes made there are wanted here too.
        migrate(&writer)?;
        let reader = Connection::open_with_flags(&uri, flags)?;
        Ok(SqliteStore {
            chain: Mutex::new(audit::load_chain(&writer)?),
            clustered: clustered(&writer)?,
            writer: Mutex::new(writer),
            reader: Readers::new(vec![reader]),
            audit: true,
            faults: None,
        })
    }

    /// Runs `f` on the reader connection. Exposed for benchmarks that measure the raw lookup rate.
    pub fn with_reader<T>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        f(&self.reader.lock())
    }

    /// Runs `f` on the writer connection (bulk loads in benchmarks and imports).
    pub fn with_writer<T>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        f(&mut self.writer.lock())
    }

    /// Lets `faults` decide the fate of every later commit (see [`crate::faults`]).
    pub fn inject_faults(&mut self, faults: std::sync::Arc<dyn crate::faults::CommitFaults>) {
        self.faults = Some(faults);
    }

    /// Commits `tx`, unless an injected fault says otherwise: every write transaction ends
    /// here, so the simulation's storage faults hit the real write path.
    pub(crate) fn commit(&self, tx: rusqlite::Transaction<'_>) -> Result<(), StoreError> {
        use crate::faults::CommitFault;
        let fault = self
            .faults
            .as_ref()
            .map_or(CommitFault::None, |f| f.next_commit());
        let injected = |what: &str| StoreError::Unavailable {
            backend: "sqlite",
            message: format!("injected {what}"),
        };
        match fault {
            CommitFault::None => Ok(tx.commit()?),
            CommitFault::Fail => {
                drop(tx); // rolls back
                Err(injected("write failure"))
            }
            CommitFault::Unsynced => {
                tx.commit()?;
                Err(injected("fsync failure"))
            }
        }
    }
}
