//! Storage errors.

/// Something the backend could not do.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// SQLite said no.
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
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
}
