//! `consentry bench …`: figures as JSON, each against a baseline measured in the same run.

mod audit;
mod classify;
mod cluster;
mod cmpp;
mod complaints;
mod console;
mod http;
mod policy;
mod quality;
mod replies;
mod send;
mod smpp;
mod smsc;

use std::process::ExitCode;

use anyhow::Result;

/// Which benchmark.
#[derive(Debug, clap::Subcommand)]
pub enum Bench {
    /// Policy decisions per second over a synthetic ledger, against raw store point lookups.
    Policy(policy::Args),
    /// Recorded decisions per second with and without the tamper-evident audit chain.
    Audit(audit::Args),
    /// Complaint adjudications per second against the synthetic ledger, against raw history
    /// reads from the store.
    Complaints(complaints::Args),
    /// Server time (p50, p99) of the console's timeline and message-search pages over a
    /// 10M-event ledger and 1M messages.
    Console(console::Args),
    /// Reply parsing (intents/s against a naive baseline) and opt-out-to-enforcement latency
    /// under a concurrent campaign.
    Replies(replies::Args),
    /// submit_sm throughput through our SMPP listener with policy on, against the npm smpp SMSC.
    Smpp(smpp::Args),
    /// SUBMITs/s through the CMPP listener with policy on, beside the same traffic over the
    /// SMPP listener in the same run.
    Cmpp(cmpp::Args),
    /// Content classification messages/s (one thread, all cores) and training time, against
    /// scikit-learn TF-IDF + LinearSVC on the same messages.
    Classify(classify::Args),
    /// Recorded submits/s through 1, 2 and 3 cluster nodes on PostgreSQL against one SQLite
    /// node; opt-out acknowledgement and enforcement across nodes; takeover after kill -9.
    Cluster(cluster::Args),
    /// One-message `POST /v1/messages` over keep-alive connections to an SMPP carrier: shared
    /// commits against each request committing alone and against Kannel's sendsms, in the same
    /// run.
    Http(http::Args),
    /// Classifier quality: our model against a TF-IDF char n-gram + LinearSVC baseline, both
    /// trained on the recipe's rows and scored on the same held-out rows, raw and
    /// artefact-free text; plus the reading's figures on the held-out generated sets.
    Quality(quality::Args),
    /// The content classifier's cost per message on the send path: the same one-recipient
    /// decisions with `[classify]` off and on, in alternating rounds of the same run.
    Send(send::Args),
}

pub fn run(what: &Bench) -> Result<ExitCode> {
    match what {
        Bench::Policy(args) => policy::run(args),
        Bench::Audit(args) => audit::run(args),
        Bench::Complaints(args) => complaints::run(args),
        Bench::Console(args) => console::run(args),
        Bench::Replies(args) => replies::run(args),
        Bench::Smpp(args) => smpp::run(args),
        Bench::Cmpp(args) => cmpp::run(args),
        Bench::Classify(args) => classify::run(args),
        Bench::Cluster(args) => cluster::run(args),
        Bench::Http(args) => http::run(args),
        Bench::Quality(args) => quality::run(args),
        Bench::Send(args) => send::run(args),
    }
}

/// Peak and current resident set size in MiB, from /proc (Linux); zeros elsewhere.
pub fn rss_mib() -> (f64, f64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<f64>().ok())
            .map_or(0.0, |kb| kb / 1024.0)
    };
    (field("VmHWM:"), field("VmRSS:"))
}
