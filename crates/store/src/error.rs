//! Storage errors, the same whichever backend is behind the [`crate::Store`].
//!
//! No variant carries a backend's own error type: callers match on what went wrong (the
//! database is unreachable, a unique value exists, a row cannot be read), never on whether it
//! was SQLite or PostgreSQL that said so. The backend's text is kept for logs only.

/// Something the backend could not do.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The database could not be reached or dropped the connection: nothing was committed by
    /// the failing call (retry later).
    #[error("{backend} unavailable: {message}")]
    Unavailable {
        /// `sqlite` or `postgres`.
        backend: &'static str,
        /// The backend's words, for logs.
        message: String,
    },
    /// The backend refused or failed a statement.
    #[error("{backend}: {message}")]
    Backend {
        /// `sqlite` or `postgres`.
        backend: &'static str,
        /// The backend's words, for logs.
        message: String,
    },
    /// The data directory could not be prepared.
    #[error("data directory {path}: {source}")]
    Dir {
        /// The directory.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// A stored value that this version cannot read (the row is named).
    #[error("corrupt stored value in {table} row {row}: {why}")]
    Corrupt {
        /// Table.
        table: &'static str,
        /// Row id.
        row: i64,
        /// What was wrong.
        why: String,
    },
    /// A unique value (source number, key) already exists.
    #[error("already exists: {0}")]
    Conflict(String),
    /// Every source-number extension of the configured width is taken.
    #[error("all {max} sender numbers are taken")]
    SenderNumbersFull {
        /// Senders the width has room for.
        max: u64,
    },
    /// The database's schema was written by a newer consentry than this one.
    #[error(
        "the database schema is version {found}, newer than this consentry's {supported}: upgrade consentry"
    )]
    SchemaTooNew {
        /// The version in the database.
        found: i64,
        /// The newest this binary knows.
        supported: i64,
    },
    /// The store's configuration is unusable (a malformed URL, say).
    #[error("{0}")]
    Config(String),
    /// A write by a partition owner whose lease has passed to another node (its epoch is
    /// stale): refused, nothing written.
    #[error("partition {partition}: epoch {epoch} is no longer the owner's")]
    Fenced {
        /// The partition.
        partition: u32,
        /// The stale epoch.
        epoch: i64,
    },
}

impl StoreError {
    /// Whether the call may succeed if retried once the database is back (connection lost,
    /// server restarting): such a failure is answered 503, not 500.
    #[must_use]
    pub fn is_unavailable(&self) -> bool {
        matches!(self, StoreError::Unavailable { .. })
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        let busy = matches!(
            &e,
            rusqlite::Error::SqliteFailure(f, _)
                if matches!(f.code, rusqlite::ErrorCode::DatabaseBusy
                    | rusqlite::ErrorCode::DatabaseLocked
                    | rusqlite::ErrorCode::CannotOpen
                    | rusqlite::ErrorCode::DiskFull)
        );
        let message = e.to_string();
        if busy {
            StoreError::Unavailable {
                backend: "sqlite",
                message,
            }
        } else {
            StoreError::Backend {
                backend: "sqlite",
                message,
            }
        }
    }
}
