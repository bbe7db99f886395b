//! `consentry`: the consent-enforcing SMS gateway in one binary.
//!
//! Thin on purpose: parse the command line, load the configuration, call the domain crates.

mod cmpp;
mod commands;
mod config;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// jemalloc instead of glibc's allocator. The HTTP path allocates and frees a request's buffers
/// on whichever runtime thread runs it, and glibc spent about 12 % of the server's CPU in
/// `malloc`/`free`/`malloc_consolidate` there (`perf`, `bench http`); with jemalloc the group
/// commit served more requests a second in every alternated pair (docs/PERFORMANCE.md).
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// Consent-enforcing SMS gateway: every marketing message needs consent, every refusal is final.
#[derive(Debug, Parser)]
#[command(name = "consentry", version, about)]
struct Cli {
    /// Log lines as `text` (coloured only on a terminal) or `json` (one object per line, for
    /// log collectors). Also `CONSENTRY_LOG_FORMAT`.
    #[arg(long, global = true, value_enum)]
    log_format: Option<LogFormat>,
    #[command(subcommand)]
    command: Command,
}

/// How log lines are written to stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

/// Logs to stderr. Colour codes only when stderr is a terminal and `NO_COLOR` is unset: logs
/// redirected to a file carried ANSI escapes (issue #14, item 10).
fn init_logging(format: Option<LogFormat>, default_level: &str) {
    use std::io::IsTerminal;
    let format = format.unwrap_or_else(|| match std::env::var("CONSENTRY_LOG_FORMAT").as_deref() {
        Ok("json") => LogFormat::Json,
        _ => LogFormat::Text,
    });
    let filter = || {
        tracing_subscriber::EnvFilter::try_from_default_env()
            .unwrap_or_else(|_| default_level.into())
    };
    match format {
        LogFormat::Json => tracing_subscriber::fmt()
            .json()
            .with_env_filter(filter())
            .with_writer(std::io::stderr)
            .init(),
        LogFormat::Text => tracing_subscriber::fmt()
            .with_env_filter(filter())
            .with_ansi(std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none())
            .with_writer(std::io::stderr)
            .init(),
    }
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the gateway (HTTP API, SMPP, dispatcher) on the configured store.
    Serve(commands::serve::Args),
    /// Bulk-load data into the store (run while the gateway is stopped).
    #[command(subcommand)]
    Import(commands::import::Import),
    /// Dry-run a CSV of recipients through the policy and write the decisions as CSV.
    Check(commands::check::Args),
    /// Benchmarks that print JSON figures, each against a baseline measured in the same run.
    #[command(subcommand)]
    Bench(commands::bench::Bench),
    /// Per-sender figures for a period (sent, blocked by reason, opt-outs, complaints,
    /// violations, suspensions) as CSV or JSON.
    Report(commands::report::Args),
    /// Train a content classifier model from labelled TSV files.
    Train(commands::classify::TrainCmd),
    /// Score a model on labelled TSV files: accuracy, per-class P/R/F1, confusion matrix.
    Eval(commands::classify::EvalCmd),
    /// Classify messages read one per line from stdin; one JSON line each on stdout.
    Classify(commands::classify::ClassifyCmd),
    /// Sort an inbox export: the messages not to miss first, then counts of what was set aside.
    Triage(commands::classify::TriageCmd),
    /// Create the configured store's schema or bring it up to date (`serve` does it at start).
    Migrate(commands::Common),
    /// Cluster mode: `cluster status` shows which node owns which partition.
    #[command(subcommand)]
    Cluster(commands::cluster::Cluster),
    /// The tamper-evident audit log.
    #[command(subcommand)]
    Audit(commands::audit::Audit),
    /// Console accounts for platform staff.
    #[command(subcommand)]
    Admin(commands::admin::Admin),
    /// Complaint evidence bundles: `evidence verify FILE --head HEAD` checks one offline.
    #[command(subcommand)]
    Evidence(commands::evidence::Evidence),
    /// The seeded fault simulation: storage faults, torn writes, a faulty carrier and
    /// restarts; prints the first seed that breaks an invariant and how to reproduce it.
    Sim(commands::sim::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // The simulation's gateways log every injected fault: quiet unless RUST_LOG asks.
    let level = if matches!(cli.command, Command::Sim(_)) {
        "off"
    } else {
        "info"
    };
    init_logging(cli.log_format, level);
    let result = match cli.command {
        Command::Serve(args) => commands::serve::run(&args),
        Command::Import(what) => commands::import::run(&what),
        Command::Check(args) => commands::check::run(&args),
        Command::Bench(what) => commands::bench::run(&what),
        Command::Report(args) => commands::report::run(&args),
        Command::Train(args) => commands::classify::train(&args),
        Command::Eval(args) => commands::classify::eval_cmd(&args),
        Command::Classify(args) => commands::classify::classify_cmd(&args),
        Command::Triage(args) => commands::classify::triage(&args),
        Command::Audit(what) => commands::audit::run(&what),
        Command::Admin(what) => commands::admin::run(&what),
        Command::Evidence(what) => commands::evidence::run(&what),
        Command::Migrate(common) => commands::migrate::run(&common),
        Command::Cluster(what) => commands::cluster::run(&what),
        Command::Sim(args) => commands::sim::run(&args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
