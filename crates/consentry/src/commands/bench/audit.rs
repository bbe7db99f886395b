//! `consentry bench audit`: what the tamper-evident chain costs on the send path.
//!
//! Two fresh stores, identical but for `[store] audit`, take the same recorded campaign
//! (decide, record every decision durably with `synchronous=FULL`, queue for dispatch) in
//! alternating rounds, so that load from elsewhere on the machine falls on both alike.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Result;
use domain::{
    Category, Clock, ConsentAction, ConsentSource, ManualClock, Msisdn, Scope, Timestamp,
};
use gateway::{Gateway, GatewayConfig, LoopbackCarrier, Principal, Submission};
use serde_json::json;
use store::{AuditLog, Durability, Store};

/// Options of `bench audit`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Recipients per round.
    #[arg(long, default_value_t = 50_000)]
    recipients: u64,
    /// Rounds per store (alternating).
    #[arg(long, default_value_t = 3)]
    rounds: u32,
}

struct Side {
    gw: Arc<Gateway>,
    clock: ManualClock,
    sender: store::SenderRecord,
    _workers: gateway::Workers,
    _dir: tempfile::TempDir,
    elapsed: Duration,
    sent: u64,
}

fn side(audit: bool, recipients: u64) -> Result<Side> {
    let dir = tempfile::tempdir()?;
    let store = Store::open_sqlite_with(dir.path(), Durability::Full, audit)?;
    let clock = ManualClock::new("2026-11-11T03:00:00Z".parse::<Timestamp>()?);
    let clock_dyn: Arc<dyn Clock> = Arc::new(clock.clone());
    let config = GatewayConfig {
        dispatch_queue: 1_000_000,
        ..GatewayConfig::default()
    };
    let policy = policy::Policy::new(&policy::PolicyConfig::default())?;
    let gw = Gateway::open(store, config, policy, clock_dyn, Arc::new(LoopbackCarrier))?;
    let (sender, _) = gw.create_sender("Bench Flagship Store", "【好店旗舰店】")?;
    let at: Timestamp = "2026-10-01T00:00:00Z".parse()?;
    let consents: Vec<store::NewConsent> = (0..recipients)
        .step_by(3)
        .map(|i| store::NewConsent {
            phone: Msisdn::from_u64(8_613_800_000_000 + i),
            scope: Scope::Sender,
            sender: Some(sender.id),
            action: ConsentAction::OptIn,
            source: ConsentSource::Web,
            evidence: "bench".into(),
            actor: "bench".into(),
            at,
        })
        .collect();
    gw.commit_consents(&consents)?;
    let workers = gw.start();
    Ok(Side {
        gw,
        clock,
        sender,
        _workers: workers,
        _dir: dir,
        elapsed: Duration::ZERO,
        sent: 0,
    })
}

fn round(side: &mut Side, to: &[String]) -> Result<()> {
    // A new day each round, so the caps of the last round do not refuse everyone.
    side.clock.advance(jiff::SignedDuration::from_hours(24));
    let text = "【好店旗舰店】双11狂欢，全场5折起，回T退订";
    let t = Instant::now();
    for batch in to.chunks(side.gw.config().max_batch) {
        side.gw.submit(
            Principal::Sender(side.sender.id),
            &Submission {
                to: batch,
                text,
                category: Category::Marketing,
            },
        )?;
    }
    side.elapsed += t.elapsed();
    side.sent += to.len() as u64;
    Ok(())
}

pub fn run(args: &Args) -> Result<ExitCode> {
    let to: Vec<String> = (0..args.recipients)
        .map(|i| Msisdn::from_u64(8_613_800_000_000 + i).to_string())
        .collect();
    let mut with = side(true, args.recipients)?;
    let mut without = side(false, args.recipients)?;
    for _ in 0..args.rounds {
        round(&mut with, &to)?;
        round(&mut without, &to)?;
    }
    let rate = |s: &Side| s.sent as f64 / s.elapsed.as_secs_f64();
    let (on, off) = (rate(&with), rate(&without));
    let head = with.gw.store().audit_head()?;
    let report = with.gw.store().verify_audit()?;
    let out = json!({
        "bench": "audit",
        "recipients_per_round": args.recipients,
        "rounds": args.rounds,
        "recorded_decisions_per_sec_without_chain": off.round(),
        "recorded_decisions_per_sec_with_chain": on.round(),
        "slowdown_pct": ((1.0 - on / off) * 1000.0).round() / 10.0,
        "chained_records": head.records,
        "chain_intact": report.broken.is_none(),
    });
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(ExitCode::SUCCESS)
}
