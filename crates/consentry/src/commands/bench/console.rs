//! `consentry bench console`: server time of the console's heaviest pages over a large store.
//!
//! 1. Builds the synthetic ledger of `bench policy` (default 10M events over 1M phones and 10k
//!    senders) and a month of messages (default 1M: a flagship sender with a fifth of them,
//!    the rest spread; seven in ten accepted, the rest refused for one of six reasons).
//! 2. Opens the gateway on that store and signs an operator in.
//! 3. Requests each page through the whole HTTP app (routing, session lookup, the query,
//!    rendering the HTML, reading the body) in process, without a socket, and reports p50
//!    and p99 per page: a phone's consent timeline, message searches by phone, by sender and
//!    status, by category and day, by reason (a common and a rare one), sorted lists, and a
//!    merchant's consent summary.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use domain::{Clock, ManualClock, Timestamp};
use gateway::{Gateway, GatewayConfig, LoopbackCarrier};
use http_body_util::BodyExt;
use rand::{Rng, SeedableRng};
use rusqlite::params;
use serde_json::json;
use store::{AccountRole, Durability, Store};
use tower::ServiceExt;

use super::policy::{build_ledger, phone};

/// Options of `bench console`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Consent events in the synthetic ledger.
    #[arg(long, default_value_t = 10_000_000)]
    events: u64,
    /// Distinct phones (of the ledger and of the messages).
    #[arg(long, default_value_t = 1_000_000)]
    phones: u64,
    /// Distinct senders.
    #[arg(long, default_value_t = 10_000)]
    senders: u32,
    /// Messages, over the 30 days before the run's "now".
    #[arg(long, default_value_t = 1_000_000)]
    messages: u64,
    /// Requests per page.
    #[arg(long, default_value_t = 200)]
    requests: u32,
    /// Keep the store here instead of a temporary directory; a directory that already holds
    /// a bench store is measured as it is (nothing is built).
    #[arg(long)]
    data: Option<PathBuf>,
}

/// Why a refused message was refused, and how often (per thousand refusals).
const REFUSALS: [(&str, u32); 6] = [
    ("no_consent", 450),
    ("opted_out", 250),
    ("cap_sender_daily", 150),
    ("missing_optout_text", 90),
    ("duplicate", 55),
    ("fraud_suspected", 5),
];

const DAY_US: i64 = 86_400 * 1_000_000;

/// Writes `n` messages in id order over the 30 days before `now` (ids follow time, as they
/// do when messages are submitted), straight into SQLite.
fn build_messages(store: &Store, args: &Args, now: Timestamp) -> Result<()> {
    let Store::Sqlite(s) = store else {
        anyhow::bail!("the bench builds its messages in SQLite");
    };
    let mut rng = rand::rngs::StdRng::seed_from_u64(21);
    let start = now.as_microsecond() - 30 * DAY_US;
    let step = (30 * DAY_US) / i64::try_from(args.messages.max(1)).unwrap_or(1);
    let categories = ["marketing", "transactional", "verification"];
    s.with_writer(|conn| {
        let tx = conn.transaction()?;
        {
            let mut stmt = tx.prepare(
                "INSERT INTO messages (sender_id, recipient, phone, text, category, status, reasons,
                    submitted_at, decided_at, delivery, delivery_at, text_hash)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8, ?9, ?10, ?11)",
            )?;
            for i in 0..i64::try_from(args.messages).unwrap_or(0) {
                let p = phone(rng.random_range(0..args.phones));
                let sender = if rng.random_ratio(1, 5) {
                    1
                } else {
                    rng.random_range(2..=args.senders.max(2))
                };
                let category = categories[rng.random_range(0..categories.len())];
                let at = start + i * step + rng.random_range(0..step.max(1));
                let (status, reasons, delivery) = if rng.random_ratio(7, 10) {
                    ("accepted", "[]".to_string(), "delivered")
                } else {
                    let mut pick = rng.random_range(0..1000);
                    let code = REFUSALS
                        .iter()
                        .find(|(_, w)| {
                            let hit = pick < *w;
                            pick = pick.saturating_sub(*w);
                            hit
                        })
                        .map_or("no_consent", |(c, _)| c);
                    (
                        "rejected",
                        format!(r#"[{{"code":"{code}","detail":"bench"}}]"#),
                        "not_sent",
                    )
                };
                stmt.execute(params![
                    sender,
                    p.to_string(),
                    i64::try_from(p.as_u64()).unwrap_or(0),
                    format!("【店{sender}】第{i}条消息，回T退订"),
                    category,
                    status,
                    reasons,
                    at,
                    delivery,
                    at + 2_000_000,
                    rng.random::<i64>(),
                ])?;
            }
        }
        // The reason index the send path writes with each decision.
        tx.execute_batch(store::sqlite::MESSAGE_REASONS_BACKFILL)?;
        tx.commit()?;
        Ok(())
    })?;
    Ok(())
}

/// Registers the ledger's senders (ids 1..=`senders`) straight into SQLite, so that their
/// pages exist.
fn build_senders(store: &Store, senders: u32, now: Timestamp) -> Result<()> {
    let Store::Sqlite(s) = store else {
        anyhow::bail!("the bench builds its senders in SQLite");
    };
    s.with_writer(|conn| {
        let tx = conn.transaction()?;
        {
            let mut stmt = tx.prepare(
                "INSERT INTO senders (id, name, signature, source_number, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?;
            for id in 1..=senders {
                stmt.execute(params![
                    id,
                    format!("店{id}"),
                    format!("【店{id}】"),
                    format!("106900{id:05}"),
                    now.as_microsecond() - 365 * DAY_US,
                ])?;
            }
        }
        tx.commit()?;
        Ok(())
    })?;
    Ok(())
}

/// p50 and p99 of `samples`, in milliseconds.
fn percentiles(mut samples: Vec<Duration>) -> (f64, f64) {
    samples.sort();
    let at = |q: f64| {
        let i = ((samples.len() as f64 - 1.0) * q).round() as usize;
        samples.get(i).map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    (round(at(0.50)), round(at(0.99)))
}

fn round(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// Requests `path(i)` for i in `0..n` through `app` with the session cookie, each answered
/// 200 in full; the server time of each.
async fn measure(
    app: &axum::Router,
    cookie: &str,
    n: u32,
    mut path: impl FnMut(u32) -> String,
) -> Result<(f64, f64, usize)> {
    let mut samples = Vec::with_capacity(n as usize);
    let mut bytes = 0;
    for i in 0..n {
        let uri = path(i);
        let req = Request::get(&uri)
            .header(header::COOKIE, cookie)
            .body(Body::empty())?;
        let t = Instant::now();
        let resp = app.clone().oneshot(req).await?;
        let status = resp.status();
        let body = resp.into_body().collect().await?.to_bytes();
        samples.push(t.elapsed());
        if status != StatusCode::OK {
            anyhow::bail!(
                "{uri}: {status}: {}",
                String::from_utf8_lossy(&body[..body.len().min(400)])
            );
        }
        bytes += body.len();
    }
    let (p50, p99) = percentiles(samples);
    Ok((p50, p99, bytes / n.max(1) as usize))
}

pub fn run(args: &Args) -> Result<ExitCode> {
    let tmp = tempfile::tempdir()?;
    let dir = args
        .data
        .clone()
        .unwrap_or_else(|| tmp.path().to_path_buf());
    let now: Timestamp = "2026-11-11T03:00:00Z".parse()?;

    let t = Instant::now();
    let store = Store::open_sqlite(&dir, Durability::Normal)?;
    let Store::Sqlite(sqlite) = &store else {
        anyhow::bail!("the bench measures SQLite");
    };
    let built: i64 = sqlite
        .with_reader(|c| Ok(c.query_row("SELECT count(*) FROM messages", [], |r| r.get(0))?))?;
    let (mut ledger_secs, mut messages_secs) = (0.0, 0.0);
    if built > 0 {
        // A `--data` directory from an earlier run: measure the store as it is.
        eprintln!("reusing the store in {} ({built} messages)", dir.display());
    } else {
        build_ledger(&store, args.events, args.phones, args.senders, now)?;
        ledger_secs = t.elapsed().as_secs_f64();
        eprintln!("ledger: {} events in {ledger_secs:.1}s", args.events);
        let t = Instant::now();
        build_senders(&store, args.senders, now)?;
        build_messages(&store, args, now)?;
        messages_secs = t.elapsed().as_secs_f64();
        eprintln!("messages: {} in {messages_secs:.1}s", args.messages);
        // What a long-running store has: the planner's statistics.
        sqlite.with_writer(|c| Ok(c.execute_batch("ANALYZE")?))?;
    }
    drop(store);

    let t = Instant::now();
    let store = Store::open_sqlite(&dir, Durability::Normal)?;
    let clock: Arc<dyn Clock> = Arc::new(ManualClock::new(now));
    let config = GatewayConfig {
        extension_digits: 5,
        ..GatewayConfig::default()
    };
    let policy = policy::Policy::new(&policy::PolicyConfig::default())?;
    let gw = Arc::new(
        Gateway::open(store, config, policy, clock, Arc::new(LoopbackCarrier))
            .context("opening the gateway")?,
    );
    let open_secs = t.elapsed().as_secs_f64();
    eprintln!("gateway open in {open_secs:.1}s");
    match gw.create_account("bench.operator", AccountRole::Operator, "bench password 1") {
        // A reused store has it from the first run.
        Ok(_) | Err(gateway::GatewayError::AccountExists(_)) => {}
        Err(e) => return Err(e.into()),
    }
    let signed = gw.sign_in("bench.operator", "bench password 1", "127.0.0.1")?;
    let cookie = format!("cs_session={}", signed.token);
    let app = api::app(api::AppState::new(Arc::clone(&gw), 1 << 20));

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    let mut rng = rand::rngs::StdRng::seed_from_u64(22);
    let n = args.requests;
    let phones = args.phones;
    let senders = args.senders.max(2);
    let mut phone_of = move || phone(rng.random_range(0..phones)).to_string();
    let day = |i: u32| {
        let d = now
            .saturating_sub(jiff::SignedDuration::from_hours(24 * i64::from(1 + i % 29)))
            .unwrap_or(now);
        d.strftime("%Y-%m-%d").to_string()
    };
    let figures = rt.block_on(async {
        let mut out = serde_json::Map::new();
        let mut put = |name: &str, (p50, p99, bytes): (f64, f64, usize)| {
            eprintln!("{name}: p50 {p50} ms, p99 {p99} ms ({bytes} bytes)");
            out.insert(
                name.into(),
                json!({"p50_ms": p50, "p99_ms": p99, "page_bytes": bytes}),
            );
        };
        put(
            "timeline",
            measure(&app, &cookie, n, |_| {
                format!("/console/consents?phone={}", phone_of().replace('+', "%2B"))
            })
            .await?,
        );
        put(
            "messages_by_phone",
            measure(&app, &cookie, n, |_| {
                format!("/console/messages?phone={}", phone_of().replace('+', "%2B"))
            })
            .await?,
        );
        put(
            "messages_by_flagship_sender_and_status",
            measure(&app, &cookie, n, |i| {
                let status = ["accepted", "rejected"][i as usize % 2];
                format!("/console/messages?sender=1&status={status}")
            })
            .await?,
        );
        put(
            "messages_by_sender_and_status",
            measure(&app, &cookie, n, |i| {
                let s = 2 + (i * 7919) % (senders - 1);
                format!("/console/messages?sender={s}&status=rejected")
            })
            .await?,
        );
        put(
            "messages_by_category_and_day",
            measure(&app, &cookie, n, |i| {
                let c = ["marketing", "transactional", "verification"][i as usize % 3];
                format!(
                    "/console/messages?category={c}&from={}&to={}",
                    day(i + 1),
                    day(i)
                )
            })
            .await?,
        );
        put(
            "messages_by_reason_common",
            measure(&app, &cookie, n, |_| {
                "/console/messages?reason=no_consent".into()
            })
            .await?,
        );
        put(
            "messages_by_reason_rare",
            measure(&app, &cookie, n, |_| {
                "/console/messages?reason=fraud_suspected".into()
            })
            .await?,
        );
        put(
            "messages_by_reason_and_day",
            measure(&app, &cookie, n, |i| {
                format!(
                    "/console/messages?reason=fraud_suspected&from={}&to={}",
                    day(i + 1),
                    day(i)
                )
            })
            .await?,
        );
        put(
            "messages_sorted_by_phone",
            measure(&app, &cookie, n, |i| {
                let dir = ["asc", "desc"][i as usize % 2];
                format!(
                    "/console/messages?sort=phone&dir={dir}&offset={}",
                    (i % 4) * 25
                )
            })
            .await?,
        );
        put(
            "messages_sorted_by_status",
            measure(&app, &cookie, n, |i| {
                let dir = ["asc", "desc"][i as usize % 2];
                format!("/console/messages?sort=status&dir={dir}")
            })
            .await?,
        );
        put(
            "merchant_consents",
            measure(&app, &cookie, n, |i| {
                let s = 2 + (i * 7919) % (senders - 1);
                format!("/console/senders/{s}/consents")
            })
            .await?,
        );
        anyhow::Ok(out)
    })?;
    let (peak, rss) = super::rss_mib();
    let out = json!({
        "bench": "console",
        "events": args.events,
        "phones": args.phones,
        "senders": args.senders,
        "messages": args.messages,
        "requests_per_page": n,
        "ledger_build_secs": round(ledger_secs),
        "messages_build_secs": round(messages_secs),
        "gateway_open_secs": round(open_secs),
        "pages": figures,
        "rss_mib": round(rss),
        "peak_rss_mib": round(peak),
    });
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(ExitCode::SUCCESS)
}
