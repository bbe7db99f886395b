//! One module per subcommand.

pub mod audit;
pub mod bench;
pub mod check;
pub mod classify;
pub mod classify_stream;
pub mod import;
pub mod inbox;
pub mod report;
pub mod serve;
pub mod smpp_link;

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result};
use domain::{Clock, SystemClock};
use gateway::{Gateway, LoopbackCarrier};
use policy::Policy;
use store::Store;

use crate::config::Config;

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

    pub fn open_store(&self, config: &Config) -> Result<Store> {
        Store::open_sqlite_with(&self.data, config.store.durability, config.store.audit)
            .with_context(|| format!("opening the store in {}", self.data.display()))
    }

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
        let gateway = Gateway::open(store, config.gateway.clone(), policy, clock, carrier)
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
