//! The embedded backend: SQLite in WAL mode, one file under the data directory.
//!
//! One writer connection and one reader connection, each behind a mutex: SQLite allows one
//! writer at a time anyway, and WAL lets the reader run beside it. Writes are batched by the
//! callers (a campaign batch is one transaction), which is what makes `synchronous=FULL`
//! affordable.

pub(crate) mod audit;
mod complaints;
mod consents;
mod keys;
mod messages;
mod replies;
mod senders;
mod smpp;

use std::path::Path;

use domain::Timestamp;
use parking_lot::Mutex;
use rusqlite::Connection;

use crate::{Durability, StoreError};

const SCHEMA: &str = include_str!("schema.sql");

/// SQLite store.
#[derive(Debug)]
pub struct SqliteStore {
    writer: Mutex<Connection>,
    reader: Mutex<Connection>,
    /// The audit chain's head; locked only while holding `writer`, advanced after commits.
    chain: Mutex<audit::Chain>,
    /// Whether evidence records are chained (`[store] audit`; off only to measure its cost).
    audit: bool,
}

pub(crate) fn micros(t: Timestamp) -> i64 {
    t.as_microsecond()
}

/// Drops what the store cannot keep (below a microsecond), so returned values equal stored ones.
pub(crate) fn truncate(t: Timestamp) -> Timestamp {
    Timestamp::from_microsecond(t.as_microsecond()).unwrap_or(t)
}

pub(crate) fn from_micros(table: &'static str, row: i64, v: i64) -> Result<Timestamp, StoreError> {
    Timestamp::from_microsecond(v).map_err(|e| StoreError::Corrupt {
        table,
        row,
        why: e.to_string(),
    })
}

pub(crate) fn corrupt(table: &'static str, row: i64, why: impl ToString) -> StoreError {
    StoreError::Corrupt {
        table,
        row,
        why: why.to_string(),
    }
}

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
        std::fs::create_dir_all(dir).map_err(|source| StoreError::Dir {
            path: dir.display().to_string(),
            source,
        })?;
        let path = dir.join("consentry.db");
        let writer = Connection::open(&path)?;
        configure(&writer, durability)?;
        writer.execute_batch(SCHEMA)?;
        migrate(&writer)?;
        let reader = Connection::open(&path)?;
        configure(&reader, durability)?;
        Ok(SqliteStore {
            chain: Mutex::new(audit::Chain::load(&writer)?),
            writer: Mutex::new(writer),
            reader: Mutex::new(reader),
            audit,
        })
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
        let reader = Connection::open_with_flags(&uri, flags)?;
        Ok(SqliteStore {
            chain: Mutex::new(audit::Chain::load(&writer)?),
            writer: Mutex::new(writer),
            reader: Mutex::new(reader),
            audit: true,
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
}
