//! `consentry bench policy`: a Double-11-sized campaign through the policy engine.
//!
//! 1. Builds a synthetic ledger in a fresh store (default 10M events over 1M phones and 10k
//!    senders).
//! 2. Baseline: random point lookups of a phone's latest event straight from SQLite — what a
//!    gateway that asked the store on every decision would get.
//! 3. Opens the gateway on that store (the consent index is rebuilt from the log, as at start).
//! 4. Runs a marketing campaign to every phone through the real decision path (consent index,
//!    volume counters, every policy rule) on all cores, and a slice of it through the full
//!    submit path that records every decision durably.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result};
use domain::{Category, Clock, ManualClock, Msisdn, SenderId, Timestamp};
use gateway::{Gateway, GatewayConfig, LoopbackCarrier, Principal, Submission};
use rand::{Rng, SeedableRng};
use rusqlite::params;
use serde_json::json;
use store::{Durability, Store};

/// Options of `bench policy`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Consent events in the synthetic ledger.
    #[arg(long, default_value_t = 10_000_000)]
    events: u64,
    /// Distinct phones.
    #[arg(long, default_value_t = 1_000_000)]
    phones: u64,
    /// Distinct senders.
    #[arg(long, default_value_t = 10_000)]
    senders: u32,
    /// Recipients in the campaign (the first N phones).
    #[arg(long, default_value_t = 1_000_000)]
    campaign: u64,
    /// Point lookups for the baseline.
    #[arg(long, default_value_t = 200_000)]
    lookups: u64,
    /// Recipients sent through the full, recording submit path.
    #[arg(long, default_value_t = 100_000)]
    submit: u64,
    /// Threads for the campaign (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
    /// Keep the store here instead of a temporary directory.
    #[arg(long)]
    data: Option<PathBuf>,
}

/// Phone number `i` of the synthetic population: valid Chinese mobiles +86 138 xxxx xxxx.
pub(super) fn phone(i: u64) -> Msisdn {
    Msisdn::from_u64(8_613_800_000_000 + i)
}

/// Writes `events` synthetic consent events (seeded, so every run and every bench gets the same
/// ledger) over `phones` phones and `senders` senders, in the year before `now`: one in 50
/// platform-wide, four in five opt-ins. Shared by `bench policy` and `bench complaints`.
pub(super) fn build_ledger(
    store: &Store,
    events: u64,
    phones: u64,
    senders: u32,
    now: Timestamp,
) -> Result<()> {
    let Store::Sqlite(s) = store else {
        anyhow::bail!("the bench builds its ledger in SQLite");
    };
    let mut rng = rand::rngs::StdRng::seed_from_u64(11);
    let year = 365 * 86_400 * 1_000_000i64;
    let now_us = now.as_microsecond();
    s.with_writer(|conn| {
        let tx = conn.transaction()?;
        {
            let mut stmt = tx.prepare(
                "INSERT INTO consent_events (phone, seq, scope, sender_id, action, source, evidence, actor, at, recorded_at)
                 VALUES (?1, ?6, ?2, ?3, ?4, 'import', '', 'bench', ?5, ?5)",
            )?;
            let first: i64 =
                tx.query_row("SELECT coalesce(max(seq), 0) + 1 FROM consent_events", [], |r| r.get(0))?;
            for seq in first..first + i64::try_from(events).unwrap_or(0) {
                let p = phone(rng.random_range(0..phones)).as_u64();
                let platform = rng.random_ratio(1, 50);
                let sender = (!platform).then(|| rng.random_range(1..=senders));
                let action = if rng.random_ratio(4, 5) { "opt_in" } else { "opt_out" };
                let at = now_us - rng.random_range(0..year);
                stmt.execute(params![
                    i64::try_from(p).unwrap_or(0),
                    if platform { "platform" } else { "sender" },
                    sender,
                    action,
                    at,
                    seq
                ])?;
            }
        }
        tx.commit()?;
        Ok(())
    })?;
    Ok(())
}

fn baseline_lookups(store: &Store, args: &Args) -> Result<f64> {
    let Store::Sqlite(s) = store else {
        anyhow::bail!("the bench measures SQLite");
    };
    let mut rng = rand::rngs::StdRng::seed_from_u64(12);
    let t = Instant::now();
    let mut found = 0u64;
    s.with_reader(|conn| {
        let mut stmt = conn.prepare(
            "SELECT action, at FROM consent_events WHERE phone = ?1 ORDER BY seq DESC LIMIT 1",
        )?;
        for _ in 0..args.lookups {
            let p = i64::try_from(phone(rng.random_range(0..args.phones)).as_u64()).unwrap_or(0);
            let mut rows = stmt.query([p])?;
            if rows.next()?.is_some() {
                found += 1;
            }
        }
        Ok(())
    })?;
    std::hint::black_box(found);
    Ok(args.lookups as f64 / t.elapsed().as_secs_f64())
}

pub fn run(args: &Args) -> Result<ExitCode> {
    let tmp = tempfile::tempdir()?;
    let dir = args
        .data
        .clone()
        .unwrap_or_else(|| tmp.path().to_path_buf());
    // Midday in Shanghai, so quiet hours do not hide the full rule set's cost.
    let now: Timestamp = "2026-11-11T03:00:00Z".parse()?;
    let threads = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));

    let t = Instant::now();
    let store = Store::open_sqlite(&dir, Durability::Normal)?;
    build_ledger(&store, args.events, args.phones, args.senders, now)?;
    let build_secs = t.elapsed().as_secs_f64();
    eprintln!("ledger: {} events in {build_secs:.1}s", args.events);
    let baseline = baseline_lookups(&store, args)?;
    drop(store);

    let t = Instant::now();
    let store = Store::open_sqlite(&dir, Durability::Full)?;
    let clock = ManualClock::new(now);
    let clock_dyn: Arc<dyn Clock> = Arc::new(clock.clone());
    let config = GatewayConfig {
        dispatch_queue: 1_000_000,
        // 10,000 synthetic senders and the flagship: five-digit extensions.
        extension_digits: 5,
        ..GatewayConfig::default()
    };
    let policy = policy::Policy::new(&policy::PolicyConfig::default())?;
    let gw = Gateway::open(store, config, policy, clock_dyn, Arc::new(LoopbackCarrier))
        .context("opening the gateway")?;
    let rebuild_secs = t.elapsed().as_secs_f64();
    let (_, rss_after_rebuild) = super::rss_mib();
    eprintln!(
        "index rebuilt in {rebuild_secs:.1}s ({} phones)",
        gw.stats().phones
    );

    let (sender, _key) = gw.create_sender("Bench Flagship Store", "【好店旗舰店】")?;
    // Give the campaign sender consent from a third of the phones, as a real shop would have.
    let mut record = store_consents_for(&gw, sender.id, args.campaign)?;
    record.shrink_to_fit();
    let text = "【好店旗舰店】双11狂欢，全场5折起，点击 https://t.cn/x 领券，回T退订";
    let phones: Vec<Msisdn> = (0..args.campaign.min(args.phones)).map(phone).collect();

    // Single thread first, on the first half; then all threads over everything again on a
    // fresh day (counters from the first pass would otherwise cap everyone).
    let half = &phones[..phones.len() / 2];
    let t = Instant::now();
    let single = gw.decide_campaign(&sender, half, text, Category::Marketing);
    let single_rate = half.len() as f64 / t.elapsed().as_secs_f64();

    clock.advance(jiff::SignedDuration::from_hours(24));
    let t = Instant::now();
    let mut totals = [0u64; 3];
    std::thread::scope(|scope| {
        let chunk = phones.len().div_ceil(threads).max(1);
        let handles: Vec<_> = phones
            .chunks(chunk)
            .map(|part| {
                let gw = &gw;
                let sender = &sender;
                scope.spawn(move || gw.decide_campaign(sender, part, text, Category::Marketing))
            })
            .collect();
        for h in handles {
            if let Ok(c) = h.join() {
                for i in 0..3 {
                    totals[i] += c[i];
                }
            }
        }
    });
    let rate = phones.len() as f64 / t.elapsed().as_secs_f64();

    // The full path: decide, record every decision durably, queue for dispatch.
    clock.advance(jiff::SignedDuration::from_hours(24));
    let workers = gw.start();
    let submit_n = args.submit.min(phones.len() as u64) as usize;
    let to: Vec<String> = phones[..submit_n].iter().map(ToString::to_string).collect();
    let t = Instant::now();
    for batch in to.chunks(gw.config().max_batch) {
        gw.submit(
            Principal::Sender(sender.id),
            &Submission {
                to: batch,
                text,
                category: Category::Marketing,
            },
        )?;
    }
    let submit_rate = submit_n as f64 / t.elapsed().as_secs_f64();
    drop(workers);

    let (peak, rss) = super::rss_mib();
    let out = json!({
        "bench": "policy",
        "events": args.events,
        "phones": args.phones,
        "senders": args.senders,
        "campaign": phones.len(),
        "threads": threads,
        "ledger_build_secs": round(build_secs),
        "index_rebuild_secs": round(rebuild_secs),
        "baseline_lookups_per_sec": round(baseline),
        "decisions_per_sec": round(rate),
        "decisions_per_sec_single_thread": round(single_rate),
        "ratio": round(rate / baseline),
        "campaign_outcome": {"accepted": totals[0], "deferred": totals[1], "rejected": totals[2]},
        "single_thread_outcome": {"accepted": single[0], "deferred": single[1], "rejected": single[2]},
        "recorded_submit_per_sec": round(submit_rate),
        "recorded_submit_recipients": submit_n,
        "rss_after_rebuild_mib": round(rss_after_rebuild),
        "rss_mib": round(rss),
        "peak_rss_mib": round(peak),
    });
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(ExitCode::SUCCESS)
}

fn store_consents_for(gw: &Gateway, sender: SenderId, campaign: u64) -> Result<Vec<u64>> {
    use domain::{ConsentAction, ConsentSource, Scope};
    let at: Timestamp = "2026-10-01T00:00:00Z".parse()?;
    let news: Vec<store::NewConsent> = (0..campaign)
        .step_by(3)
        .map(|i| store::NewConsent {
            phone: phone(i),
            scope: Scope::Sender,
            sender: Some(sender),
            action: ConsentAction::OptIn,
            source: ConsentSource::Web,
            evidence: "bench".into(),
            actor: "bench".into(),
            at,
        })
        .collect();
    Ok(gw.commit_consents(&news)?.iter().map(|e| e.seq).collect())
}

fn round(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}
