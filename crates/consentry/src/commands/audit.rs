//! `consentry audit verify`: recompute the audit chain from the stored rows.

use std::process::ExitCode;

use anyhow::Result;
use store::AuditLog;

use super::Common;

/// Audit commands.
#[derive(Debug, clap::Subcommand)]
pub enum Audit {
    /// Recomputes every record digest and block hash; names the first record that was changed,
    /// deleted or reordered. Exit status 0 when intact, 2 when broken.
    Verify {
        #[command(flatten)]
        common: Common,
    },
    /// Prints the current head hash (anchor it somewhere the operator cannot rewrite).
    Head {
        #[command(flatten)]
        common: Common,
    },
}

/// Opens the store to check, refusing an embedded store that does not exist: opening would
/// create an empty one, which verifies as intact — a mistyped `--data` or an unmounted volume
/// must not pass as a clean audit.
fn existing_store(common: &Common) -> Result<(crate::config::Config, store::Store)> {
    let config = common.load()?;
    if config.store.backend == crate::config::Backend::Sqlite {
        let db = common.data.join("consentry.db");
        if !db.is_file() {
            anyhow::bail!(
                "no store at {}: is --data right (and its volume mounted)? Nothing was checked",
                db.display()
            );
        }
    }
    let store = common.open_store(&config)?;
    Ok((config, store))
}

pub fn run(what: &Audit) -> Result<ExitCode> {
    match what {
        Audit::Verify { common } => {
            let (_config, store) = existing_store(common)?;
            let report = store.verify_audit()?;
            match &report.broken {
                None => {
                    println!(
                        "audit chain intact: {} blocks, {} records, head {}",
                        report.blocks, report.records, report.head
                    );
                    Ok(ExitCode::SUCCESS)
                }
                Some(broken) => {
                    println!("audit chain BROKEN at {broken}");
                    println!(
                        "{} blocks ({} records) before it verified",
                        report.blocks, report.records
                    );
                    Ok(ExitCode::from(2))
                }
            }
        }
        Audit::Head { common } => {
            let (_config, store) = existing_store(common)?;
            let head = store.audit_head()?;
            println!("{}", serde_json::to_string_pretty(&head)?);
            Ok(ExitCode::SUCCESS)
        }
    }
}
