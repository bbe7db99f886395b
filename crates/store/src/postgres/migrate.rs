//! Schema migrations: ordered SQL files, each applied once, in one transaction, under an
//! advisory lock so that nodes starting together do not race.

use super::{PgStore, pg_err};
use crate::StoreError;

/// `(version, SQL)`, in order. A new schema change is a new file here, never an edit of an
/// applied one.
const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("migrations/0001_init.sql")),
    (2, include_str!("migrations/0002_partitions.sql")),
    (3, include_str!("migrations/0003_redecided_index.sql")),
    (4, include_str!("migrations/0004_console.sql")),
    (5, include_str!("migrations/0005_cmpp.sql")),
    (6, include_str!("migrations/0006_credentials.sql")),
    (7, include_str!("migrations/0007_console_lists.sql")),
    (8, include_str!("migrations/0008_complaint_queue.sql")),
    (9, include_str!("migrations/0009_message_reasons.sql")),
    (10, include_str!("migrations/0010_messages_phone.sql")),
];

/// The newest schema this binary knows.
pub const SCHEMA_VERSION: i64 = MIGRATIONS[MIGRATIONS.len() - 1].0;

impl PgStore {
    /// Applies every migration the database lacks; returns the versions applied. Refuses a
    /// database whose schema is newer than this binary ([`StoreError::SchemaTooNew`]).
    pub fn migrate(&self) -> Result<Vec<i64>, StoreError> {
        self.run(async |c| {
            let tx = c.transaction().await.map_err(pg_err)?;
            tx.batch_execute(
                "SELECT pg_advisory_xact_lock(hashtext(current_schema() || '/consentry-migrate'));
                 CREATE TABLE IF NOT EXISTS schema_migrations (
                     version    BIGINT PRIMARY KEY,
                     applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
                 );",
            )
            .await
            .map_err(pg_err)?;
            let row = tx
                .query_one(
                    "SELECT coalesce(max(version), 0) FROM schema_migrations",
                    &[],
                )
                .await
                .map_err(pg_err)?;
            let found: i64 = row.get(0);
            if found > SCHEMA_VERSION {
                return Err(StoreError::SchemaTooNew {
                    found,
                    supported: SCHEMA_VERSION,
                });
            }
            let mut applied = Vec::new();
            for (version, sql) in MIGRATIONS.iter().filter(|(v, _)| *v > found) {
                tx.batch_execute(sql).await.map_err(pg_err)?;
                tx.execute(
                    "INSERT INTO schema_migrations (version) VALUES ($1)",
                    &[version],
                )
                .await
                .map_err(pg_err)?;
                applied.push(*version);
            }
            tx.commit().await.map_err(pg_err)?;
            Ok(applied)
        })
    }

    /// The schema version in the database (0 when it has none).
    pub fn schema_version(&self) -> Result<i64, StoreError> {
        self.run(async |c| {
            let row = c
                .query_one(
                    "SELECT CASE WHEN to_regclass('schema_migrations') IS NULL THEN 0
                            ELSE (SELECT coalesce(max(version), 0) FROM schema_migrations) END",
                    &[],
                )
                .await
                .map_err(pg_err)?;
            Ok(row.get(0))
        })
    }
}
