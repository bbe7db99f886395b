//! `consentry bench replies`: how fast replies are read, and how fast an opt-out is enforced.
//!
//! 1. Parser: intents per second of [`replies::IntentParser`] on one core over a large mixed set
//!    (corpus texts and their everyday variants, see [`replies::bench`]), against a naive
//!    trim/upper-case/exact-lookup baseline timed in the same run.
//! 2. Enforcement: a gateway on a fresh SQLite store (durability as configured: `full` fsyncs
//!    every commit) runs a marketing campaign from one thread, batch after batch, while probe
//!    phones in that campaign reply `T` one after another. For each probe the bench times
//!    - the reply itself (`handle_reply`: parse, attribute, commit durably, apply, confirm);
//!    - from the acknowledgement to the next send to that phone being decided `opted_out`
//!      (`ack_to_rejected`: a decision against the live state, as `submit` makes it);
//!    - from the acknowledgement to that refusal being recorded durably by `submit`
//!      (`ack_to_recorded_rejection`, which waits its turn behind the campaign's commits).
//!
//!    Any probe whose next send is not refused for `opted_out` is counted in `violations`.

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use domain::{Category, Clock, ConsentAction, ConsentSource, Msisdn, Scope, SystemClock};
use gateway::{Effect, Gateway, GatewayConfig, LoopbackCarrier, Principal, Submission};
use policy::{PolicyConfig, ReasonCode};
use serde_json::json;
use store::{Durability, NewConsent, Store};

/// Options of `bench replies`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Replies parsed for the intents/s figure.
    #[arg(long, default_value_t = 5_000_000)]
    texts: usize,
    /// Recipients of the concurrent campaign (all consented).
    #[arg(long, default_value_t = 200_000)]
    recipients: u64,
    /// Recipients per campaign batch.
    #[arg(long, default_value_t = 1_000)]
    batch: usize,
    /// Opt-outs timed while the campaign runs.
    #[arg(long, default_value_t = 500)]
    probes: usize,
    /// Store durability for the enforcement run (`full` fsyncs every commit, as shipped).
    #[arg(long, default_value = "full")]
    durability: String,
}

fn phone(i: u64) -> Msisdn {
    Msisdn::from_u64(8_613_800_000_000 + i)
}

/// (p50, p99, max) in microseconds.
fn percentiles(mut v: Vec<Duration>) -> serde_json::Value {
    if v.is_empty() {
        return json!(null);
    }
    v.sort_unstable();
    let at = |q: usize| v[(v.len() * q / 100).min(v.len() - 1)].as_secs_f64() * 1e6;
    json!({
        "p50_us": at(50).round(),
        "p99_us": at(99).round(),
        "max_us": (v[v.len() - 1].as_secs_f64() * 1e6).round(),
    })
}

pub fn run(args: &Args) -> Result<ExitCode> {
    // 1. The parser, on one core.
    let parse = replies::bench::bench(args.texts);
    eprintln!(
        "parser: {:.0} intents/s, baseline {:.0}/s",
        parse.intents_per_sec, parse.baseline_per_sec
    );

    // 2. Enforcement under a campaign.
    let durability = match args.durability.as_str() {
        "full" => Durability::Full,
        "normal" => Durability::Normal,
        other => anyhow::bail!("--durability must be full or normal, not {other:?}"),
    };
    let dir = tempfile::tempdir().context("temporary directory")?;
    let store = Store::open_sqlite(dir.path(), durability)?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    // Quiet hours off: the figure must not depend on the hour the bench runs at.
    let policy = policy::Policy::new(&PolicyConfig {
        quiet_hours_start: "00:00".into(),
        quiet_hours_end: "00:00".into(),
        ..PolicyConfig::default()
    })?;
    let gw = Gateway::open(
        store,
        GatewayConfig::default(),
        policy,
        clock,
        Arc::new(LoopbackCarrier),
    )
    .context("opening the gateway")?;
    let (shop, _) = gw.create_sender("Bench Flagship Store", "【好店旗舰店】")?;
    let at = domain::Timestamp::now();
    for start in (0..args.recipients).step_by(50_000) {
        let news: Vec<NewConsent> = (start..(start + 50_000).min(args.recipients))
            .map(|i| NewConsent {
                phone: phone(i),
                scope: Scope::Sender,
                sender: Some(shop.id),
                action: ConsentAction::OptIn,
                source: ConsentSource::Web,
                evidence: "bench".into(),
                actor: "bench".into(),
                at,
            })
            .collect();
        gw.commit_consents(&news)?;
    }
    let workers = gw.start();
    let text = "【好店旗舰店】双11狂欢，全场5折起，回T退订";
    let recipients: Vec<String> = (0..args.recipients).map(|i| phone(i).to_string()).collect();

    let done = AtomicBool::new(false);
    let sent = AtomicU64::new(0);
    let batch = args.batch.clamp(1, gw.config().max_batch);
    let mut reply_times = Vec::with_capacity(args.probes);
    let mut to_rejected = Vec::with_capacity(args.probes);
    let mut to_recorded = Vec::with_capacity(args.probes);
    let mut violations = 0u64;
    let campaign_secs = std::thread::scope(|scope| -> Result<f64> {
        let campaign = scope.spawn(|| -> Result<f64> {
            let t = Instant::now();
            // Round after round until the probes are done, so every probe races a live campaign
            // (later rounds meet the daily cap, and are decided and recorded all the same).
            'rounds: loop {
                for chunk in recipients.chunks(batch) {
                    if done.load(Ordering::Relaxed) {
                        break 'rounds;
                    }
                    gw.submit(
                        Principal::Sender(shop.id),
                        &Submission {
                            to: chunk,
                            text,
                            category: Category::Marketing,
                        },
                    )?;
                    sent.fetch_add(chunk.len() as u64, Ordering::Relaxed);
                }
            }
            Ok(t.elapsed().as_secs_f64())
        });
        while sent.load(Ordering::Relaxed) == 0 && !campaign.is_finished() {
            std::thread::sleep(Duration::from_millis(1));
        }
        let n = recipients.len().max(1);
        for i in 0..args.probes {
            let p = &recipients[(i * 7919 + 13) % n];
            let t0 = Instant::now();
            let outcome = gw.handle_reply(p, &shop.source_number, "T", None)?;
            let acked = Instant::now();
            if outcome.effect != Effect::OptedOut {
                violations += 1;
            }
            let to = std::slice::from_ref(p);
            let sub = Submission {
                to,
                text,
                category: Category::Marketing,
            };
            let decided = gw.dry_run(&shop, &sub)?;
            let rejected = Instant::now();
            let recorded = gw.submit(Principal::Sender(shop.id), &sub)?;
            let recorded_at = Instant::now();
            let refused =
                |codes: &[policy::Reason]| codes.iter().any(|r| r.code == ReasonCode::OptedOut);
            if !decided.iter().all(|(_, d)| refused(&d.reasons))
                || !recorded.iter().all(|o| refused(&o.reasons))
            {
                violations += 1;
            }
            reply_times.push(acked - t0);
            to_rejected.push(rejected - acked);
            to_recorded.push(recorded_at - acked);
            std::thread::sleep(Duration::from_millis(2));
        }
        done.store(true, Ordering::Relaxed);
        campaign
            .join()
            .map_err(|_| anyhow::anyhow!("campaign thread panicked"))?
    })?;
    drop(workers);
    let campaign_sent = sent.load(Ordering::Relaxed);

    let out = json!({
        "bench": "replies",
        "parser": {
            "texts": parse.texts,
            "distinct_texts": parse.distinct,
            "intents_per_sec": parse.intents_per_sec.round(),
            "baseline_per_sec": parse.baseline_per_sec.round(),
            "ratio_to_baseline": (parse.ratio_to_baseline * 100.0).round() / 100.0,
            "baseline": "trim + upper-case + exact lookup in 7 keywords",
            "target_intents_per_sec": 2_000_000,
        },
        "enforcement": {
            "durability": args.durability,
            "campaign_recipients": args.recipients,
            "campaign_batch": batch,
            "campaign_messages_during_run": campaign_sent,
            "campaign_messages_per_sec": (campaign_sent as f64 / campaign_secs.max(1e-9)).round(),
            "probes": args.probes,
            "violations": violations,
            "reply_handling": percentiles(reply_times),
            "ack_to_rejected": percentiles(to_rejected),
            "ack_to_recorded_rejection": percentiles(to_recorded),
            "target_p99_us": 5_000,
        },
    });
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(if violations == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
