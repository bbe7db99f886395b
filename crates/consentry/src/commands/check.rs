//! `consentry check`: what would happen if this campaign were sent now? Nothing is recorded.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use domain::{Category, SenderId};
use gateway::Submission;
use policy::Verdict;

use super::Common;

/// Options of `check`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Recipients (UTF-8): a CSV with a `phone` column, or one number per line.
    file: PathBuf,
    /// The sending sender's id.
    #[arg(long)]
    sender: u32,
    /// The text to check.
    #[arg(long)]
    text: String,
    /// `marketing`, `transactional` or `verification`.
    #[arg(long, default_value = "marketing")]
    category: Category,
    /// Where to write the decisions (CSV with the columns `to,status,reasons`: the recipient
    /// as given, `accepted`/`deferred`/`rejected`, reason codes joined by `;`); stdout if
    /// absent.
    #[arg(long)]
    out: Option<PathBuf>,
    #[command(flatten)]
    common: Common,
}

fn recipients(file: &std::path::Path) -> Result<Vec<String>> {
    let text = super::text_file::read_utf8(file)?;
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut rows = rdr.records();
    let mut out = Vec::new();
    let mut column = 0;
    if let Some(first) = rows.next() {
        let first = first?;
        match first
            .iter()
            .position(|h| h.trim().eq_ignore_ascii_case("phone"))
        {
            Some(i) => column = i,
            None => out.push(first.get(0).unwrap_or_default().trim().to_string()),
        }
    }
    for r in rows {
        out.push(r?.get(column).unwrap_or_default().trim().to_string());
    }
    Ok(out)
}

pub fn run(args: &Args) -> Result<ExitCode> {
    let config = args.common.load()?;
    let gateway = args.common.open_gateway(&config)?;
    let sender = gateway
        .sender(SenderId(args.sender))
        .with_context(|| format!("unknown sender {}", args.sender))?;
    let to = recipients(&args.file)?;
    let decisions = gateway.dry_run(
        &sender,
        &Submission {
            to: &to,
            text: &args.text,
            category: args.category,
        },
    )?;
    let sink: Box<dyn std::io::Write> = match &args.out {
        Some(p) => {
            Box::new(std::fs::File::create(p).with_context(|| format!("writing {}", p.display()))?)
        }
        None => Box::new(std::io::stdout()),
    };
    let mut w = csv::Writer::from_writer(sink);
    w.write_record(["to", "status", "reasons"])?;
    let mut counts = [0usize; 3];
    for (to, d) in &decisions {
        counts[match d.verdict {
            Verdict::Accepted => 0,
            Verdict::Deferred => 1,
            Verdict::Rejected => 2,
        }] += 1;
        w.write_record([to.as_str(), d.verdict.as_str(), &d.codes().join(";")])?;
    }
    w.flush()?;
    eprintln!(
        "{} recipients: {} accepted, {} deferred, {} rejected",
        decisions.len(),
        counts[0],
        counts[1],
        counts[2]
    );
    Ok(ExitCode::SUCCESS)
}
