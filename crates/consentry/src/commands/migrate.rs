//! `consentry migrate`: bring the configured store's schema up to date, and say so.
//!
//! `serve` migrates at start too; this command lets an operator do it before a rolling
//! upgrade, with the nodes still on the old binary (every migration only adds).

use std::process::ExitCode;

use anyhow::Result;

use super::{Common, connect_postgres};
use crate::config::Backend;

pub fn run(common: &Common) -> Result<ExitCode> {
    let config = common.load()?;
    match config.store.backend {
        Backend::Sqlite => {
            let _store = common.open_store(&config)?;
            println!("sqlite store in {} is up to date", common.data.display());
        }
        Backend::Postgres => {
            let store = connect_postgres(&config)?;
            let applied = store
                .migrate()
                .map_err(|e| anyhow::anyhow!("[store] url ({}): {e}", store.place()))?;
            let version = store.schema_version()?;
            if applied.is_empty() {
                println!(
                    "postgres {}: schema version {version} is up to date",
                    store.place()
                );
            } else {
                println!(
                    "postgres {}: applied migrations {applied:?}; schema version {version}",
                    store.place()
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
