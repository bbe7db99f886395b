//! `consentry bench complaints`: how fast a flood of complaints is adjudicated against a
//! Double-11-sized ledger.
//!
//! 1. Builds the same synthetic ledger as `bench policy` (default 10M events over 1M phones and
//!    10k senders) and records one delivered marketing message per complaint to come (random
//!    phone and sender, one of a few campaign texts, some dressed as notices).
//! 2. Baselines: reading each phone's whole consent history from the store, and only the
//!    events bearing on the message's sender (what an adjudication reads) — the disk reads
//!    every adjudication needs, so the ratio says how much the rest costs.
//! 3. Adjudication through the gateway exactly as a complaint is filed, without recording it
//!    (`Gateway::adjudicate_message`: the message, that day's marketing to the phone, the
//!    sender's ledger lines, the classifier reading stored with the decision, the verdict), on
//!    one thread and on all cores; and the pure verdict alone (`complaints::adjudicate`) over
//!    inputs already in memory.
//! 4. A slice filed for real (`Gateway::file_complaint`: duplicate and flood checks, verdict,
//!    reputation, durable write, automatic suspensions).

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result};
use complaints::{Case, ComplaintKind, ComplaintVerdict, Limits};
use domain::{Category, Clock, ManualClock, SenderId, Timestamp};
use gateway::{ComplaintRequest, Gateway, GatewayConfig, LoopbackCarrier, Principal};
use policy::Verdict;
use rand::{Rng, SeedableRng};
use serde_json::json;
use store::{ComplaintLog, ConsentLog, Delivery, Durability, MessageLog, NewMessage, Store};

use super::policy::{build_ledger, phone};

/// Options of `bench complaints`.
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
    /// Complaints adjudicated (one stored message each).
    #[arg(long, default_value_t = 200_000)]
    complaints: u64,
    /// Complaints filed for real (recorded durably).
    #[arg(long, default_value_t = 5_000)]
    filed: u64,
    /// Threads for the parallel run (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
    /// Keep the store here instead of a temporary directory.
    #[arg(long)]
    data: Option<PathBuf>,
}

/// Campaign texts: marketing, marketing declared as a notice, a real notice.
const TEXTS: [(&str, Category); 4] = [
    (
        "【好店旗舰店】双11狂欢，全场5折起，点击 https://t.cn/x 领券，回T退订",
        Category::Marketing,
    ),
    (
        "【优品】年终大促，满300减50，限时三天，回T退订",
        Category::Marketing,
    ),
    (
        "【好店旗舰店】您的会员积分即将到期，爆款低至9.9元，立即抢购，回T退订",
        Category::Transactional,
    ),
    (
        "【顺丰速运】您的快件已到达小区驿站，取件码 6-2-3051，请及时领取。",
        Category::Transactional,
    ),
];

fn record_messages(store: &Store, args: &Args, now: Timestamp) -> Result<Vec<u64>> {
    // What the send path stores with each decision: the classifier's reading of the text.
    let scores: Vec<String> = TEXTS
        .iter()
        .map(|(t, _)| {
            gateway::read_content(t).map_or_else(String::new, |c| {
                json!({"category": c.category, "scores": {"marketing": c.marketing, "fraud": c.fraud}})
                    .to_string()
            })
        })
        .collect();
    let mut rng = rand::rngs::StdRng::seed_from_u64(21);
    let mut ids = Vec::with_capacity(usize::try_from(args.complaints).unwrap_or(0));
    let picks: Vec<(domain::Msisdn, SenderId, usize)> = (0..args.complaints)
        .map(|_| {
            (
                phone(rng.random_range(0..args.phones)),
                SenderId(rng.random_range(1..=args.senders)),
                rng.random_range(0..TEXTS.len()),
            )
        })
        .collect();
    let tos: Vec<String> = picks.iter().map(|(p, _, _)| p.to_string()).collect();
    for (chunk, to) in picks.chunks(10_000).zip(tos.chunks(10_000)) {
        let msgs: Vec<NewMessage<'_>> = chunk
            .iter()
            .zip(to)
            .map(|((p, s, t), to)| NewMessage {
                sender: *s,
                to,
                phone: Some(*p),
                text: TEXTS[*t].0,
                category: TEXTS[*t].1,
                verdict: Verdict::Accepted,
                reasons: &[],
                decided_at: now,
                release_at: None,
                text_hash: gateway::text_hash(TEXTS[*t].0),
                content_scores: Some(scores[*t].as_str()).filter(|s| !s.is_empty()),
            })
            .collect();
        let new = store.insert_messages(&msgs)?;
        let delivered: Vec<(u64, Delivery, Timestamp)> = new
            .iter()
            .map(|id| (*id, Delivery::Delivered, now))
            .collect();
        store.set_delivery(&delivered)?;
        ids.extend(new);
    }
    Ok(ids)
}

fn kind(i: usize) -> ComplaintKind {
    // Most complaints say "I never agreed"; some are about something else.
    if i % 5 == 4 {
        ComplaintKind::Other
    } else {
        ComplaintKind::UnwantedMarketing
    }
}

#[allow(clippy::too_many_lines)]
pub fn run(args: &Args) -> Result<ExitCode> {
    let tmp = tempfile::tempdir()?;
    let dir = args
        .data
        .clone()
        .unwrap_or_else(|| tmp.path().to_path_buf());
    // Midday in Shanghai.
    let now: Timestamp = "2026-11-11T03:00:00Z".parse()?;
    let threads = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));

    let t = Instant::now();
    let store = Store::open_sqlite(&dir, Durability::Normal)?;
    build_ledger(&store, args.events, args.phones, args.senders, now)?;
    let ids = record_messages(&store, args, now)?;
    eprintln!(
        "ledger: {} events, {} messages in {:.1}s",
        args.events,
        ids.len(),
        t.elapsed().as_secs_f64()
    );
    // Register the senders the synthetic messages name (ids 1..=senders).
    let Store::Sqlite(s) = &store else {
        anyhow::bail!("the bench builds its data in SQLite");
    };
    s.with_writer(|conn| {
        let tx = conn.transaction()?;
        {
            let mut stmt = tx.prepare(
                "INSERT INTO senders (id, name, signature, source_number, created_at) VALUES (?1, ?2, '', ?3, 0)",
            )?;
            for id in 1..=args.senders {
                stmt.execute(rusqlite::params![id, format!("shop {id}"), format!("1069000012345{id:05}")])?;
            }
        }
        tx.commit()?;
        Ok(())
    })?;
    drop(store);

    let clock = ManualClock::new(now.saturating_add(jiff::SignedDuration::from_hours(1))?);
    let clock_dyn: Arc<dyn Clock> = Arc::new(clock.clone());
    let store = Store::open_sqlite(&dir, Durability::Normal)?;
    let policy = policy::Policy::new(&policy::PolicyConfig::default())?;
    let gw = Gateway::open(
        store,
        GatewayConfig::default(),
        policy,
        clock_dyn,
        Arc::new(LoopbackCarrier),
    )
    .context("opening the gateway")?;

    // Baseline: the history read alone.
    let phones: Vec<domain::Msisdn> = ids
        .iter()
        .map(|id| {
            gw.store()
                .message(*id)
                .ok()
                .flatten()
                .and_then(|m| m.phone)
                .context("a bench message without phone")
        })
        .collect::<Result<_>>()?;
    let t = Instant::now();
    let mut events = 0usize;
    for p in &phones {
        events += gw.store().consent_history(*p)?.len();
    }
    let baseline = phones.len() as f64 / t.elapsed().as_secs_f64();
    let senders: Vec<SenderId> = ids
        .iter()
        .map(|id| {
            gw.store()
                .message(*id)
                .ok()
                .flatten()
                .map_or(SenderId(0), |m| m.sender)
        })
        .collect();
    let t = Instant::now();
    for (p, s) in phones.iter().zip(&senders) {
        std::hint::black_box(gw.store().consent_events_for(*p, *s)?);
    }
    let sender_reads = phones.len() as f64 / t.elapsed().as_secs_f64();

    // Warm the classifier (loaded once per process) outside the timing.
    let _ = gateway::read_content("warm up");

    let t = Instant::now();
    let mut verdicts = [0u64; 3];
    for (i, id) in ids.iter().enumerate() {
        let a = gw.adjudicate_message(kind(i), phones[i], *id)?;
        verdicts[verdict_index(a.verdict)] += 1;
    }
    let single = ids.len() as f64 / t.elapsed().as_secs_f64();

    let t = Instant::now();
    std::thread::scope(|scope| -> Result<()> {
        let chunk = ids.len().div_ceil(threads).max(1);
        let handles: Vec<_> = ids
            .chunks(chunk)
            .enumerate()
            .map(|(c, part)| {
                let gw = &gw;
                let phones = &phones;
                scope.spawn(move || -> Result<()> {
                    for (i, id) in part.iter().enumerate() {
                        let n = c * chunk + i;
                        std::hint::black_box(gw.adjudicate_message(kind(n), phones[n], *id)?);
                    }
                    Ok(())
                })
            })
            .collect();
        for h in handles {
            h.join()
                .map_err(|_| anyhow::anyhow!("a bench thread panicked"))??;
        }
        Ok(())
    })?;
    let parallel = ids.len() as f64 / t.elapsed().as_secs_f64();

    // The pure verdict over inputs in memory (first 50k).
    let n = ids.len().min(50_000);
    let mut inputs = Vec::with_capacity(n);
    for (i, id) in ids[..n].iter().enumerate() {
        let m = gw.store().message(*id)?.context("bench message")?;
        let history = gw.store().consent_history(phones[i])?;
        let content = gateway::read_content(&m.text);
        let sent = complaints::SentMessage {
            message_id: m.id,
            sender: m.sender,
            text: m.text,
            category: m.category,
            status: m.status,
            reasons: m.reasons,
            decided_at: m.decided_at,
            sent_at: Some(m.decided_at),
        };
        inputs.push((sent, history, content));
    }
    let t = Instant::now();
    for (i, (m, h, c)) in inputs.iter().enumerate() {
        std::hint::black_box(complaints::adjudicate(&Case {
            kind: kind(i),
            message: Some(m),
            history: h,
            content: c.as_ref(),
            facts: None,
            limits: Limits::default(),
        }));
    }
    let pure = n as f64 / t.elapsed().as_secs_f64();

    // Filed for real: recorded durably, reputation counted, senders suspended.
    let filed_n = usize::try_from(args.filed).unwrap_or(0).min(ids.len());
    let t = Instant::now();
    let mut suspended = 0u64;
    let mut refused = 0u64;
    for (i, id) in ids[..filed_n].iter().enumerate() {
        let req = ComplaintRequest {
            phone: phones[i].to_string(),
            message_id: Some(*id),
            sender_id: None,
            source_number: None,
            text: None,
            received_at: None,
            kind: kind(i),
            note: None,
        };
        match gw.file_complaint(Principal::Admin, &req) {
            Ok(f) => suspended += u64::from(f.suspended.is_some()),
            // A phone drawn twice may reach its daily complaint limit; counted, not fatal.
            Err(gateway::GatewayError::TooManyComplaints { .. }) => refused += 1,
            Err(e) => return Err(e.into()),
        }
    }
    let filed = filed_n as f64 / t.elapsed().as_secs_f64();

    let (peak, _) = super::rss_mib();
    let out = json!({
        "bench": "complaints",
        "events": args.events,
        "phones": args.phones,
        "senders": args.senders,
        "complaints": ids.len(),
        "threads": threads,
        "classifier": gateway::read_content("x").is_some(),
        "baseline_history_reads_per_sec": round(baseline),
        "sender_history_reads_per_sec": round(sender_reads),
        "mean_history_events": round(events as f64 / phones.len().max(1) as f64),
        "adjudications_per_sec": round(parallel),
        "adjudications_per_sec_single_thread": round(single),
        "ratio_single_thread_to_baseline": round(single / baseline),
        "ratio_single_thread_to_sender_history_reads": round(single / sender_reads),
        "pure_adjudications_per_sec": round(pure),
        "verdicts": {"violation": verdicts[0], "no_violation": verdicts[1], "unverified": verdicts[2]},
        "filed_per_sec": round(filed),
        "filed": filed_n,
        "filed_refused_as_flood": refused,
        "suspensions_triggered": suspended,
        "peak_rss_mib": round(peak),
    });
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(ExitCode::SUCCESS)
}

fn verdict_index(v: ComplaintVerdict) -> usize {
    match v {
        ComplaintVerdict::Violation => 0,
        ComplaintVerdict::NoViolation => 1,
        ComplaintVerdict::Unverified => 2,
    }
}

fn round(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}
