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

pub fn run(what: &Audit) -> Result<ExitCode> {
    match what {
        Audit::Verify { common } => {
            let config = common.load()?;
            let store = common.open_store(&config)?;
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
            let config = common.load()?;
            let head = common.open_store(&config)?.audit_head()?;
            println!("{}", serde_json::to_string_pretty(&head)?);
            Ok(ExitCode::SUCCESS)
        }
    }
}
