//! The PostgreSQL backend: the same roles as SQLite, for several nodes on one database.
//!
//! The role traits are synchronous (the gateway calls them from its own threads and from
//! `spawn_blocking`), while the PostgreSQL client is async. The synchronous `postgres` crate
//! cannot be used here: it drives its own runtime with `block_on`, which panics on a thread that
//! is inside a tokio runtime (every caller of ours). So the store owns a small tokio runtime
//! that drives the connections (`tokio-postgres` + a `deadpool-postgres` pool, recycled with
//! `Verified` so a connection dropped by a server restart is never handed out), and each call
//! waits for its future with `futures_executor::block_on`, which does not care what runtime the
//! calling thread belongs to.
//!
//! What differs from SQLite, and why:
//! - ids and the ledger's `seq` come from PostgreSQL sequences, unique across nodes;
//! - a phone's consent events are appended under a transaction advisory lock on the phone, so
//!   its events' `seq` order is their commit order (what the fold needs) whichever node wrote;
//! - the audit head is a row locked `FOR UPDATE` by the transaction that appends a block, not
//!   a value in memory: nodes append to one chain in one order;
//! - errors: a lost connection or a server going down is [`StoreError::Unavailable`] (the API
//!   answers 503), never a backend type.

mod audit;
mod cmpp;
mod complaints;
mod consents;
mod console;
mod credentials;
pub mod leases;
mod messages;
mod migrate;
mod reason_codes;
mod replies;
mod senders;
mod smpp;
mod traffic;

use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use tokio_postgres::error::SqlState;

use crate::StoreError;

pub use leases::{Fence, Lease};
pub use migrate::SCHEMA_VERSION;

/// How to reach the database.
#[derive(Debug, Clone)]
pub struct PgOptions {
    /// `postgres://user@host:port/db` (key=value strings work too).
    pub url: String,
    /// A schema to keep every table in (created if missing); `None` is the default
    /// `search_path`. Tests use one schema each so they can share a database.
    pub schema: Option<String>,
    /// Whether evidence records are chained (off only to measure what the chain costs).
    pub audit: bool,
    /// Most connections this node opens.
    pub max_connections: usize,
}

impl PgOptions {
    /// Options for `url` with the defaults.
    #[must_use]
    pub fn new(url: &str) -> Self {
        PgOptions {
            url: url.to_string(),
            schema: None,
            audit: true,
            max_connections: 16,
        }
    }
}

/// PostgreSQL store.
pub struct PgStore {
    /// Drives the connections; shut down in the background on drop (dropping a runtime
    /// normally blocks, which is forbidden inside another runtime).
    rt: Option<tokio::runtime::Runtime>,
    pool: Pool,
    pub(crate) audit: bool,
    /// Cluster mode: the leases writes must hold ([`leases::check`]).
    pub(crate) fence: parking_lot::RwLock<Option<std::sync::Arc<dyn leases::Fence>>>,
    /// Where the database is, without the password, for messages.
    pub(crate) place: String,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore")
            .field("place", &self.place)
            .finish_non_exhaustive()
    }
}

impl Drop for PgStore {
    fn drop(&mut self) {
        if let Some(rt) = self.rt.take() {
            rt.shutdown_background();
        }
    }
}

pub(crate) const BACKEND: &str = "postgres";

/// Maps a client error to a backend-neutral one: a connection that failed or closed, or a
/// server shutting down or read-only (a standby after failover), is `Unavailable`.
pub(crate) fn pg_err(e: tokio_postgres::Error) -> StoreError {
    let message = match e.as_db_error() {
        Some(db) => format!("{} ({})", db.message(), db.code().code()),
        None => e.to_string(),
    };
    // Without a SQLSTATE it is the connection (an I/O error, a closed socket, a timeout) —
    // or our own value that could not be encoded, which is not the database's fault.
    let io = std::error::Error::source(&e).is_some_and(|s| s.is::<std::io::Error>());
    let encoding =
        message.starts_with("error serializing") || message.starts_with("error deserializing");
    let unavailable = match e.code() {
        None => io || !encoding,
        Some(c) => {
            *c == SqlState::ADMIN_SHUTDOWN
                || *c == SqlState::CRASH_SHUTDOWN
                || *c == SqlState::CANNOT_CONNECT_NOW
                || *c == SqlState::READ_ONLY_SQL_TRANSACTION
                || *c == SqlState::TOO_MANY_CONNECTIONS
                || c.code().starts_with("08")
        }
    } || e.is_closed();
    if unavailable {
        StoreError::Unavailable {
            backend: BACKEND,
            message,
        }
    } else {
        StoreError::Backend {
            backend: BACKEND,
            message,
        }
    }
}

/// Whether `e` is a unique-constraint violation (the caller names what conflicted).
pub(crate) fn is_unique_violation(e: &tokio_postgres::Error) -> bool {
    e.code() == Some(&SqlState::UNIQUE_VIOLATION)
}

fn pool_err(e: deadpool_postgres::PoolError) -> StoreError {
    match e {
        deadpool_postgres::PoolError::Backend(e) => pg_err(e),
        other => StoreError::Unavailable {
            backend: BACKEND,
            message: other.to_string(),
        },
    }
}

pub(crate) use crate::values::{corrupt, from_micros, micros, truncate};

/// The address part of a URL, without user or password (for messages and logs).
fn place(cfg: &tokio_postgres::Config) -> String {
    let host = cfg
        .get_hosts()
        .first()
        .map(|h| match h {
            tokio_postgres::config::Host::Tcp(h) => h.clone(),
            tokio_postgres::config::Host::Unix(p) => p.display().to_string(),
        })
        .unwrap_or_else(|| "localhost".into());
    let port = cfg.get_ports().first().copied().unwrap_or(5432);
    let db = cfg.get_dbname().unwrap_or("");
    format!("{host}:{port}/{db}")
}

impl PgStore {
    /// Connects, creates the schema or brings it up to date ([`migrate::migrate`]), and checks
    /// that the database is not newer than this binary.
    pub fn open(opts: &PgOptions) -> Result<Self, StoreError> {
        let store = Self::connect(opts)?;
        store.migrate()?;
        store.adopt_credentials()?;
        Ok(store)
    }

    /// Connects and checks the schema version without changing anything: a database without
    /// the schema, or with an older one, is refused with a message saying to migrate.
    pub fn connect(opts: &PgOptions) -> Result<Self, StoreError> {
        let mut cfg: tokio_postgres::Config = opts
            .url
            .parse()
            .map_err(|e| StoreError::Config(format!("[store] url: {e}")))?;
        if cfg.get_connect_timeout().is_none() {
            cfg.connect_timeout(Duration::from_secs(5));
        }
        // A connection to a server that vanished without a FIN must not hang a request.
        cfg.keepalives_idle(Duration::from_secs(30));
        if cfg.get_application_name().is_none() {
            cfg.application_name("consentry");
        }
        // The send path's statements are prepared once per connection (`prepare_cached`), and
        // after five runs PostgreSQL may switch a prepared statement to a generic plan, which
        // cannot see how long an array parameter is: the delivery update (`FROM unnest($1)`)
        // then joined against a sequential scan of `messages` — 3.2M rows read for 7.7k in
        // one `bench http --cluster 3` run. Planning each execution with its values keeps the
        // index plans; the parse is still saved. Appended to the URL's own options.
        let mut options = format!(
            "{} -c plan_cache_mode=force_custom_plan",
            cfg.get_options().unwrap_or_default()
        );
        if let Some(schema) = &opts.schema {
            if !schema
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_')
            {
                return Err(StoreError::Config(format!(
                    "schema name {schema:?}: letters, digits and _ only"
                )));
            }
            options.push_str(&format!(" -c search_path={schema}"));
        }
        cfg.options(options.trim());
        let place = place(&cfg);
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("consentry-pg")
            .enable_all()
            .build()
            .map_err(|e| StoreError::Config(format!("cannot start the PostgreSQL runtime: {e}")))?;
        let manager = Manager::from_config(
            cfg,
            tokio_postgres::NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Verified,
            },
        );
        let pool = {
            let _in_rt = rt.enter();
            Pool::builder(manager)
                .max_size(opts.max_connections.max(1))
                .runtime(deadpool_postgres::Runtime::Tokio1)
                .wait_timeout(Some(Duration::from_secs(10)))
                .create_timeout(Some(Duration::from_secs(5)))
                .recycle_timeout(Some(Duration::from_secs(5)))
                .build()
                .map_err(|e| StoreError::Config(format!("[store] url: {e}")))?
        };
        let store = PgStore {
            rt: Some(rt),
            pool,
            audit: opts.audit,
            fence: parking_lot::RwLock::new(None),
            place,
        };
        if let Some(schema) = &opts.schema {
            // The schema must exist before a connection whose search_path names it can create
            // tables in it.
            let ddl = format!("CREATE SCHEMA IF NOT EXISTS {schema}");
            store.run(async |c| c.batch_execute(&ddl).await.map_err(pg_err))?;
        }
        Ok(store)
    }

    /// Runs `f` with a pooled connection and waits for it (see the module docs for why this
    /// works from any thread).
    pub(crate) fn run<T>(
        &self,
        f: impl AsyncFnOnce(&mut deadpool_postgres::Client) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let Some(rt) = &self.rt else {
            return Err(StoreError::Unavailable {
                backend: BACKEND,
                message: "store is shut down".into(),
            });
        };
        // The pool creates connections and times out on this runtime's reactor and timers.
        let _in_rt = rt.enter();
        futures_executor::block_on(async {
            let mut client = self.pool.get().await.map_err(pool_err)?;
            f(&mut client).await
        })
    }

    /// Runs statements that return nothing (operations and tests).
    pub fn execute_batch(&self, sql: &str) -> Result<(), StoreError> {
        self.run(async |c| c.batch_execute(sql).await.map_err(pg_err))
    }

    /// Runs a query returning one bigint (operations, benchmarks and tests that count rows).
    pub fn count(&self, sql: &str) -> Result<i64, StoreError> {
        self.run(async |c| Ok(c.query_one(sql, &[]).await.map_err(pg_err)?.get(0)))
    }

    /// Where the database is (host:port/db), for messages.
    #[must_use]
    pub fn place(&self) -> &str {
        &self.place
    }
}
