//! One module per subcommand.

pub mod admin;
pub mod audit;
pub mod bench;
pub mod check;
pub mod classify;
pub mod classify_stream;
pub mod cluster;
pub mod evidence;
pub mod import;
pub mod inbox;
pub mod migrate;
pub mod report;
pub mod serve;
pub mod sim;
pub mod smpp_link;
mod text_file;

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result};
use domain::{Clock, SystemClock};
use gateway::{Gateway, LoopbackCarrier};
use policy::Policy;
use store::Store;

use crate::config::{Backend, Config};
use store::PgOptions;

/// `--config` and `--data`, shared by the commands that open the store.
#[derive(Debug, Clone, clap::Args)]
pub struct Common {
    /// Configuration file (TOML), merged over the built-in defaults.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Data directory of the embedded store.
    #[arg(long, default_value = "./consentry-data")]
    pub data: PathBuf,
}

impl Common {
    pub fn load(&self) -> Result<Config> {
        Config::load(self.config.as_deref())
    }

    /// Opens the configured store, bringing its schema up to date.
    pub fn open_store(&self, config: &Config) -> Result<Store> {
        match config.store.backend {
            Backend::Sqlite => {
                Store::open_sqlite_with(&self.data, config.store.durability, config.store.audit)
                    .with_context(|| format!("opening the store in {}", self.data.display()))
            }
            Backend::Postgres => Ok(Store::Postgres(open_postgres(config, true)?)),
        }
    }
}

/// Connects to the configured PostgreSQL; `migrate` applies what the schema lacks (else a
/// database without the current schema is refused).
pub fn open_postgres(config: &Config, migrate: bool) -> Result<store::postgres::PgStore> {
    let store = connect_postgres(config)?;
    if migrate {
        store
            .migrate()
            .map_err(|e| anyhow::anyhow!("[store] url ({}): {e}", store.place()))?;
    } else {
        let found = store
            .schema_version()
            .map_err(|e| anyhow::anyhow!("[store] url ({}): {e}", store.place()))?;
        if found != store::postgres::SCHEMA_VERSION {
            anyhow::bail!(
                "[store] url ({}): schema version {found}, this consentry needs {}: run `consentry migrate`",
                store.place(),
                store::postgres::SCHEMA_VERSION
            );
        }
    }
    Ok(store)
}

/// Connects to the configured PostgreSQL without looking at its schema.
pub fn connect_postgres(config: &Config) -> Result<store::postgres::PgStore> {
    let url = config.store.effective_url();
    if url.trim().is_empty() {
        anyhow::bail!(
            "[store] backend = \"postgres\" needs [store] url (or CONSENTRY_STORE_URL), e.g. postgres://consentry@127.0.0.1:5432/consentry"
        );
    }
    let mut opts = PgOptions::new(&url);
    opts.audit = config.store.audit;
    opts.max_connections = config.store.max_connections;
    let store = store::postgres::PgStore::connect(&opts)
        .map_err(|e| anyhow::anyhow!("[store] url: cannot use PostgreSQL: {e}"))?;
    // Reach the server now, so a wrong address fails here, naming the key and the address.
    store
        .execute_batch("SELECT 1")
        .map_err(|e| anyhow::anyhow!("[store] url ({}): {e}", store.place()))?;
    Ok(store)
}

impl Common {
    /// Opens the gateway on the store with the system clock and the loopback carrier.
    pub fn open_gateway(&self, config: &Config) -> Result<Arc<Gateway>> {
        self.open_gateway_with(config, Arc::new(LoopbackCarrier))
    }

    /// Opens the gateway handing off to `carrier`.
    pub fn open_gateway_with(
        &self,
        config: &Config,
        carrier: Arc<dyn gateway::Carrier>,
    ) -> Result<Arc<Gateway>> {
        let store = self.open_store(config)?;
        let policy = Policy::new(&config.policy).context("invalid [policy]")?;
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        // A cluster node loads each partition when it takes it over, not everything at start.
        let load_all = !config.cluster.enabled();
        let gateway = Gateway::open_with(
            store,
            config.gateway.clone(),
            policy,
            clock,
            carrier,
            load_all,
        )
        .context("opening the gateway")?;
        gateway
            .set_enforcement(config.enforcement.clone())
            .context("invalid [enforcement]")?;
        classify::attach(&gateway, &config.classify)?;
        Ok(gateway)
    }
}

/// Holds `DATA/serve.lock` exclusively while the gateway runs, so that a bulk import cannot
/// write behind the back of a running gateway's in-memory state.
pub fn lock_data_dir(dir: &Path, what: &str) -> Result<File> {
    if !dir.exists() {
        // The ledger names every shop a person dealt with and the tokens sit beside it: a new
        // data directory is its owner's alone.
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::DirBuilderExt;
            builder.mode(0o700);
        }
        builder
            .create(dir)
            .with_context(|| format!("creating {}", dir.display()))?;
    }
    let path = dir.join("serve.lock");
    let f = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .with_context(|| format!("opening {}", path.display()))?;
    match f.try_lock() {
        Ok(()) => Ok(f),
        Err(_) => anyhow::bail!(
            "{} is in use by a running gateway; stop it before {what}",
            dir.display()
        ),
    }
}
