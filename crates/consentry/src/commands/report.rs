//! `consentry report`: per-sender figures for a period, for the regulator, as CSV or JSON.
//!
//! Reads the store directly (no consent index is built), so it runs beside a live gateway: SQLite
//! in WAL mode lets a reader see the last committed state while the gateway writes.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, anyhow};
use complaints::PeriodReport;
use complaints::report::parse_bound;
use store::ComplaintLog;

use super::Common;

/// Output format.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Format {
    /// One row per sender, a `blocked_<reason>` column per reason seen.
    Csv,
    /// The whole report, pretty-printed.
    Json,
}

/// Options of `report`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Start, inclusive: RFC 3339 or YYYY-MM-DD (midnight UTC).
    #[arg(long)]
    from: String,
    /// End, exclusive: RFC 3339 or YYYY-MM-DD (midnight UTC).
    #[arg(long)]
    to: String,
    /// Output format.
    #[arg(long, value_enum, default_value = "csv")]
    format: Format,
    /// Write here instead of stdout.
    #[arg(long)]
    out: Option<PathBuf>,
    #[command(flatten)]
    common: Common,
}

pub fn run(args: &Args) -> Result<ExitCode> {
    let from = parse_bound(&args.from).map_err(|e| anyhow!("--from: {e}"))?;
    let to = parse_bound(&args.to).map_err(|e| anyhow!("--to: {e}"))?;
    anyhow::ensure!(from < to, "--from must be before --to");
    anyhow::ensure!(
        args.common.data.join("consentry.db").exists(),
        "no store in {} (give --data)",
        args.common.data.display()
    );
    let config = args.common.load()?;
    let store = args.common.open_store(&config)?;
    let (rows, platform) = store
        .period_figures(from, to)
        .context("reading the figures")?;
    let report = PeriodReport::new(from, to, rows, platform);
    let text = match args.format {
        Format::Csv => report.to_csv(),
        Format::Json => serde_json::to_string_pretty(&report)? + "\n",
    };
    match &args.out {
        Some(path) => {
            std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?;
        }
        None => print!("{text}"),
    }
    Ok(ExitCode::SUCCESS)
}
