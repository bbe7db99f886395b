//! `consentry bench send`: what the content classifier costs each message on the send path.
//!
//! Two gateways, identical but for `[classify]` (one off, one with the default model and
//! thresholds), on fresh SQLite stores with the same sender. Each decides the same one-recipient
//! submissions through [`Gateway::dry_run`] — link preview, text checks, the text read once
//! ([`gateway::ContentClassifier::read`]: whole text, clauses, the stored JSON reading), the
//! consent index, counters and every policy rule, nothing recorded — in alternating rounds, so
//! a load spike on the shared machine hits both sides. The difference per message is the
//! classifier's price; the recorded path adds a durable write on top of the same decision.
//!
//! Texts: our corpus and the held-out generated sets (people, pure notices, notices with a
//! selling clause), declared `transactional`: the worst case, since a declared notice is the
//! message whose clauses are searched.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result};
use domain::{Category, Clock, ManualClock, Timestamp};
use gateway::{
    ClassifyConfig, ContentClassifier, Gateway, GatewayConfig, LoopbackCarrier, Submission,
};
use serde_json::json;
use store::{Durability, SenderRecord, Store};

use super::policy::phone;

/// Options of `bench send`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Alternating rounds (without, with the classifier) over all texts.
    #[arg(long, default_value_t = 5)]
    rounds: usize,
    /// Distinct recipients the submissions cycle through.
    #[arg(long, default_value_t = 1_000)]
    phones: u64,
}

/// A gateway on a fresh store in `dir`, with or without the default classifier.
fn gateway(
    dir: &std::path::Path,
    now: Timestamp,
    classifier: bool,
) -> Result<(Arc<Gateway>, SenderRecord)> {
    let store = Store::open_sqlite(dir, Durability::Normal)?;
    let clock: Arc<dyn Clock> = Arc::new(ManualClock::new(now));
    let policy = policy::Policy::new(&policy::PolicyConfig::default())?;
    let gw = Gateway::open(
        store,
        GatewayConfig::default(),
        policy,
        clock,
        Arc::new(LoopbackCarrier),
    )
    .context("opening the gateway")?;
    if classifier {
        let c = ContentClassifier::from_config(&ClassifyConfig::default())
            .map_err(|e| anyhow::anyhow!("[classify]: {e}"))?
            .context("the default [classify] is enabled")?;
        gw.set_classifier(c);
    }
    let (sender, _key) = gw.create_sender("Bench Store", "【好店旗舰店】")?;
    Ok((gw, sender))
}

/// The texts: corpus rows and the held-out generated sets.
fn texts() -> Result<Vec<String>> {
    use classify::datasets::{Source, corpus_dir, load};
    let mut texts: Vec<String> = load(&corpus_dir(), Source::Corpus)
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .into_iter()
        .map(|e| e.text)
        .collect();
    for set in classify::judgement::synth_test_sets().map_err(|e| anyhow::anyhow!("{e}"))? {
        texts.extend(set.into_iter().map(|e| e.text));
    }
    Ok(texts)
}

/// Seconds to decide every text once, one recipient each; and how many were accepted.
fn round(
    gw: &Gateway,
    sender: &SenderRecord,
    texts: &[String],
    to: &[String],
) -> Result<(f64, usize)> {
    let t = Instant::now();
    let mut accepted = 0;
    for (i, text) in texts.iter().enumerate() {
        let recipient = std::slice::from_ref(&to[i % to.len()]);
        let sub = Submission {
            to: recipient,
            text,
            category: Category::Transactional,
        };
        let out = gw.dry_run(sender, &sub)?;
        accepted += out
            .iter()
            .filter(|(_, d)| d.verdict == policy::Verdict::Accepted)
            .count();
    }
    Ok((t.elapsed().as_secs_f64(), accepted))
}

pub fn run(args: &Args) -> Result<ExitCode> {
    // Midday in Shanghai: no quiet hours.
    let now: Timestamp = "2026-11-11T03:00:00Z".parse()?;
    let (a, b) = (tempfile::tempdir()?, tempfile::tempdir()?);
    let (off, off_sender) = gateway(a.path(), now, false)?;
    let (on, on_sender) = gateway(b.path(), now, true)?;
    let texts = texts()?;
    anyhow::ensure!(!texts.is_empty(), "no texts to send");
    let to: Vec<String> = (0..args.phones.max(1))
        .map(|i| phone(i).to_string())
        .collect();
    eprintln!(
        "send: {} texts × {} rounds, each side, alternating",
        texts.len(),
        args.rounds
    );
    // Warm-up (first touches of the model and the index), not timed.
    round(&off, &off_sender, &texts, &to)?;
    round(&on, &on_sender, &texts, &to)?;
    let (mut best_off, mut best_on) = (f64::INFINITY, f64::INFINITY);
    let (mut accepted_off, mut accepted_on) = (0, 0);
    for _ in 0..args.rounds.max(1) {
        let (s, n) = round(&off, &off_sender, &texts, &to)?;
        best_off = best_off.min(s);
        accepted_off = n;
        let (s, n) = round(&on, &on_sender, &texts, &to)?;
        best_on = best_on.min(s);
        accepted_on = n;
    }
    #[allow(clippy::cast_precision_loss)]
    let n = texts.len() as f64;
    let us = |s: f64| (s / n * 1e6 * 100.0).round() / 100.0;
    let out = json!({
        "bench": "send",
        "texts": texts.len(),
        "rounds": args.rounds,
        "declared": "transactional",
        "decide_us_without_classifier": us(best_off),
        "decide_us_with_classifier": us(best_on),
        "classifier_us_per_message": us(best_on - best_off),
        "decisions_per_sec_without": (n / best_off).round(),
        "decisions_per_sec_with": (n / best_on).round(),
        "slowdown": ((best_on / best_off) * 100.0).round() / 100.0,
        "accepted_without": accepted_off,
        "accepted_with": accepted_on,
    });
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(ExitCode::SUCCESS)
}
