//! `consentry import consents FILE.csv`: bulk-load consent events, all or nothing.
//!
//! Every row is validated before anything is written; if any row is wrong, the report names each
//! bad row (also written to `FILE.errors.csv`) and nothing is applied. Valid files are committed
//! in one transaction, so a crash mid-import leaves the ledger as it was.

use std::collections::HashSet;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use domain::{ConsentAction, ConsentSource, Msisdn, Scope, SenderId, Timestamp};
use indicatif::{ProgressBar, ProgressStyle};
use policy::Policy;
use serde::Deserialize;
use store::{ConsentLog, NewConsent, SenderRegistry};

use super::{Common, lock_data_dir};

/// What to import.
#[derive(Debug, clap::Subcommand)]
pub enum Import {
    /// Consent events from a UTF-8 CSV with the header
    /// `phone,action,scope,sender_id,source,evidence,at`. Required: `phone`, `action`,
    /// `scope` and `at` (RFC 3339: when the consumer gave or refused consent);
    /// `sender_id` for scope `sender`; `source` defaults to `import`.
    Consents {
        /// The CSV file.
        file: PathBuf,
        #[command(flatten)]
        common: Common,
    },
}

/// The columns of an import file.
const COLUMNS: [&str; 7] = [
    "phone",
    "action",
    "scope",
    "sender_id",
    "source",
    "evidence",
    "at",
];

#[derive(Debug, Deserialize)]
struct Row {
    phone: String,
    action: String,
    scope: String,
    #[serde(default)]
    sender_id: Option<String>,
    #[serde(default)]
    source: Option<String>,
    #[serde(default)]
    evidence: Option<String>,
    #[serde(default)]
    at: Option<String>,
}

fn check_row(
    row: &Row,
    policy: &Policy,
    senders: &HashSet<u32>,
    now: Timestamp,
) -> Result<NewConsent, String> {
    let phone = Msisdn::parse(row.phone.trim(), policy.region()).map_err(|e| e.to_string())?;
    let action: ConsentAction = row
        .action
        .trim()
        .parse()
        .map_err(|e: domain::ParseKindError| e.to_string())?;
    let scope: Scope = row
        .scope
        .trim()
        .parse()
        .map_err(|e: domain::ParseKindError| e.to_string())?;
    let sender_text = row
        .sender_id
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty());
    let sender = match (scope, sender_text) {
        (Scope::Platform, None) => None,
        (Scope::Platform, Some(_)) => return Err("a platform-wide event names no sender_id".into()),
        (Scope::Sender, None) => return Err("sender_id is required for scope sender".into()),
        (Scope::Sender, Some(s)) => {
            let id: u32 = s
                .parse()
                .map_err(|_| format!("sender_id {s:?} is not a number"))?;
            if !senders.contains(&id) {
                return Err(format!("unknown sender {id}"));
            }
            Some(SenderId(id))
        }
    };
    let source = match row
        .source
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        Some(s) => s
            .parse()
            .map_err(|e: domain::ParseKindError| e.to_string())?,
        None => ConsentSource::Import,
    };
    // When the consumer agreed or refused is what a ledger is for: an undated row would be
    // dated by the import and could outrank a refusal given since (session-2 review).
    let at = match row.at.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) => s
            .parse::<Timestamp>()
            .map_err(|e| format!("at {s:?}: {e}"))?,
        None => return Err("at is required: when the consumer gave or refused consent".into()),
    };
    if at > now {
        return Err("at is in the future".into());
    }
    // The same floor as the API (a row dated year 1 would be outranked by everything).
    if at < gateway::EARLIEST_EVENT {
        return Err(format!(
            "at {at} is before {} (date_out_of_range)",
            gateway::EARLIEST_EVENT
        ));
    }
    let evidence = row.evidence.clone().unwrap_or_default();
    if evidence.chars().count() > 2000 {
        return Err("evidence is longer than 2000 characters".into());
    }
    Ok(NewConsent {
        phone,
        scope,
        sender,
        action,
        source,
        evidence,
        actor: "import".into(),
        at,
    })
}

pub fn run(what: &Import) -> Result<ExitCode> {
    let Import::Consents { file, common } = what;
    let config = common.load()?;
    let policy = Policy::new(&config.policy).context("invalid [policy]")?;
    let _lock = lock_data_dir(&common.data, "importing")?;
    let store = common.open_store(&config)?;
    // In cluster mode each phone's consent is applied by its partition's owner, which loads the
    // ledger only when it takes a partition over: events written here past running owners would
    // be on record but not enforced until the next takeover.
    if config.cluster.enabled()
        && let store::Store::Postgres(pg) = &store
    {
        let live = pg
            .live_nodes(config.cluster.lease())
            .context("reading the cluster's live nodes")?;
        if !live.is_empty() {
            anyhow::bail!(
                "nodes {} are running: import consents with the cluster stopped (or send them \
                 through POST /v1/consents), so that every owner loads them",
                live.join(", ")
            );
        }
    }
    let senders: HashSet<u32> = store.senders()?.iter().map(|s| s.id.0).collect();
    let now = Timestamp::now();

    let text = super::text_file::read_utf8(file)?;
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::Headers)
        .flexible(false)
        .from_reader(text.as_bytes());
    let bar = ProgressBar::new_spinner();
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg} {pos} rows ({per_sec})")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar.set_message("validating");
    // A column we do not know (`date` for `at`, say) would be ignored row after row: refuse
    // the file instead, naming it.
    let headers = reader
        .headers()
        .with_context(|| format!("reading the header of {}", file.display()))?
        .clone();
    let unknown: Vec<&str> = headers.iter().filter(|h| !COLUMNS.contains(h)).collect();
    anyhow::ensure!(
        unknown.is_empty(),
        "{}: unknown column(s) {} (the columns are {})",
        file.display(),
        unknown.join(", "),
        COLUMNS.join(",")
    );
    for required in ["phone", "action", "scope", "at"] {
        anyhow::ensure!(
            headers.iter().any(|h| h == required),
            "{}: the column {required} is required",
            file.display()
        );
    }
    let mut events = Vec::new();
    let mut errors: Vec<(u64, String)> = Vec::new();
    for (i, record) in reader.records().enumerate() {
        // The line in the file (a quoted field may span lines), 1-based.
        let line = record
            .as_ref()
            .ok()
            .and_then(|r| r.position())
            .map_or(i as u64 + 2, csv::Position::line);
        bar.inc(1);
        match record
            .map_err(|e| e.to_string())
            .and_then(|r| {
                r.deserialize::<Row>(Some(&headers))
                    .map_err(|e| e.to_string())
            })
            .and_then(|r| check_row(&r, &policy, &senders, now))
        {
            Ok(e) => events.push(e),
            Err(why) => errors.push((line, why)),
        }
    }
    bar.finish_and_clear();
    if !errors.is_empty() {
        let report = file.with_extension("errors.csv");
        let mut w = csv::Writer::from_path(&report)
            .with_context(|| format!("writing {}", report.display()))?;
        w.write_record(["line", "error"])?;
        for (line, why) in &errors {
            w.write_record([line.to_string(), why.clone()])?;
        }
        w.flush()?;
        for (line, why) in errors.iter().take(20) {
            eprintln!("line {line}: {why}");
        }
        eprintln!(
            "{} of {} rows are invalid; nothing was imported. Full report: {}",
            errors.len(),
            errors.len() + events.len(),
            report.display()
        );
        return Ok(ExitCode::from(1));
    }
    let bar = ProgressBar::new(events.len() as u64);
    bar.set_message("committing");
    // One transaction: all rows or none.
    let committed = store.append_consents(&events)?;
    bar.finish_and_clear();
    println!(
        "imported {} consent events from {}",
        committed.len(),
        file.display()
    );
    Ok(ExitCode::SUCCESS)
}
