//! `consentry sim`: runs the seeded fault simulation ([`sim`]) over many seeds and prints the
//! first failing seed with the command that reproduces it. Exit status 0 when every seed held,
//! 2 when one broke an invariant.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;

/// `sim` arguments.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// How many seeds to run: from `--seed` if given, else from 1 (default 100; with `--seed`
    /// alone, that one seed).
    #[arg(long)]
    pub seeds: Option<u64>,
    /// Run this seed only (with `--seeds`, the first of a range).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Steps per seed.
    #[arg(long, default_value_t = 400)]
    pub steps: usize,
    /// Verify the audit chain from its start every N steps (1: after every step); always after
    /// a restart and at the end.
    #[arg(long, default_value_t = 1)]
    pub audit_every: usize,
    /// Where the per-seed data directories go (default: /dev/shm where it exists, else the
    /// system's temporary directory).
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Print one line per seed.
    #[arg(long)]
    pub verbose: bool,
    /// Seeds run at once (default: one per core).
    #[arg(long)]
    pub threads: Option<usize>,
}

pub fn run(args: &Args) -> Result<ExitCode> {
    let mut opts = sim::Options {
        steps: args.steps,
        audit_every: args.audit_every.max(1),
        ..sim::Options::default()
    };
    if args.dir.is_some() {
        opts.dir.clone_from(&args.dir);
    }
    if let Some(t) = args.threads {
        opts.threads = t.max(1);
    }
    let (first, count) = match (args.seed, args.seeds) {
        (Some(s), n) => (s, n.unwrap_or(1)),
        (None, n) => (1, n.unwrap_or(100)),
    };
    let mut err = std::io::stderr();
    let summary = sim::run_many(first, count, &opts, |o| {
        if args.verbose {
            let _ = writeln!(err, "{}", o.report());
        } else if o.seed % 50 == 0 {
            let _ = writeln!(err, "… seed {}", o.seed);
        }
    });
    println!(
        "seeds run: {}  elapsed: {:.1} s  seeds/min: {:.0}  steps/seed: {}  crashes: {}  torn writes: {}  marketing received: {}  in-flight duplicates: {}",
        summary.seeds,
        summary.elapsed.as_secs_f64(),
        summary.per_minute(),
        opts.steps,
        summary.crashes,
        summary.torn,
        summary.marketing_received,
        summary.duplicates
    );
    match &summary.failed {
        Some(o) => {
            println!("first failing {}", o.report());
            Ok(ExitCode::from(2))
        }
        None => {
            println!("no seed broke an invariant");
            Ok(ExitCode::SUCCESS)
        }
    }
}
