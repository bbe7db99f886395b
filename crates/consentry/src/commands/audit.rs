//! `consentry audit verify`: recompute the audit chain from the stored rows, and check it
//! against heads published earlier; `consentry audit head`: the head to publish.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use store::{AuditAnchor, AuditLog};

use super::Common;

/// Audit commands.
#[derive(Debug, clap::Subcommand)]
pub enum Audit {
    /// Recomputes every record digest and block hash; names the first record that was changed,
    /// deleted or reordered, and any row no block covers. With `--expect` or `--anchors`, every
    /// head published earlier must still be a block of the chain: that proves nothing was cut
    /// off the end or rewritten since (a chain checked only against itself cannot). Exit status
    /// 0 when intact, 2 when broken.
    Verify {
        #[command(flatten)]
        common: Common,
        /// A head published earlier: its 64-digit hash, `BLOCKS:HASH`, or the JSON `audit head`
        /// prints. Repeatable.
        #[arg(long = "expect", value_name = "HEAD")]
        expect: Vec<String>,
        /// A file of heads published over time: one per line (any `--expect` form, `#`
        /// comments), or a JSON list of heads.
        #[arg(long, value_name = "FILE")]
        anchors: Option<PathBuf>,
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
        Audit::Verify {
            common,
            expect,
            anchors,
        } => {
            let anchors = read_anchors(expect, anchors.as_deref())?;
            let (_config, store) = existing_store(common)?;
            let report = store.verify_audit_against(&anchors)?;
            match &report.broken {
                None => {
                    println!(
                        "audit chain intact: {} blocks, {} records, head {}",
                        report.blocks, report.records, report.head
                    );
                    if !anchors.is_empty() {
                        println!(
                            "{} anchored head(s) found in the chain: nothing before them was cut \
                             off or rewritten",
                            report.anchors_matched
                        );
                    }
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

/// The anchors given on the command line, read before the store is opened so a mistyped one is
/// reported as such and not as a broken chain.
fn read_anchors(expect: &[String], file: Option<&std::path::Path>) -> Result<Vec<AuditAnchor>> {
    let mut out = Vec::new();
    for e in expect {
        out.push(AuditAnchor::parse(e).map_err(|why| anyhow::anyhow!("--expect {e:?}: {why}"))?);
    }
    if let Some(path) = file {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading the anchors in {}", path.display()))?;
        let many = AuditAnchor::parse_many(&text)
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        out.extend(many);
    }
    Ok(out)
}
