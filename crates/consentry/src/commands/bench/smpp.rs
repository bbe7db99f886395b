//! `consentry bench smpp`: sustained submit_sm → submit_sm_resp over loopback TCP.
//!
//! 1. Our load ESME against our listener with the full policy on: every submit_sm is decided
//!    by every rule, recorded durably (group commit, `synchronous=FULL` by default) and queued
//!    for dispatch to the loopback carrier, at window 10 and 100.
//! 2. The same ESME against the npm `smpp` package's SMSC (installed by
//!    `.ci/setup-smpp-peers.sh`), which only answers each submit_sm with an id: no policy, no
//!    disk. The ratio says what the consent checks and the durable record cost against a bare
//!    protocol implementation measured in the same run.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{ExitCode, Stdio};
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use domain::{Clock, ManualClock, Msisdn, Timestamp};
use gateway::{Gateway, GatewayConfig, LoopbackCarrier};
use serde_json::{Value, json};
use smpp::load::{LoadReport, submit_load};
use smpp::{Hub, ServerConfig, SmppServer};
use smpp_proto::{Address, ShortMessage, text};
use store::{Durability, Store};
use tokio::io::AsyncBufReadExt;

/// Options of `bench smpp`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// submit_sm per run (each to a different phone, so no cap interferes).
    #[arg(long, default_value_t = 200_000)]
    messages: u64,
    /// Concurrent ESME sessions per run.
    #[arg(long, default_value_t = 4)]
    sessions: u64,
    /// Windows to measure.
    #[arg(long, value_delimiter = ',', default_values_t = [10usize, 100])]
    windows: Vec<usize>,
    /// Store durability: full (fsync per commit, the shipped default) or normal.
    #[arg(long, default_value = "full")]
    durability: String,
    /// Where smsc.js and node_modules/smpp are (installed by .ci/setup-smpp-peers.sh).
    #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/interop"))]
    peers: PathBuf,
}

const SIGNATURE: &str = "【好店旗舰店】";

fn submit_for(i: u64) -> ShortMessage {
    let (data_coding, short_message) =
        text::encode_text(&format!("{SIGNATURE}您的订单{i}已发货，请留意查收"));
    ShortMessage {
        service_type: "TXN".into(),
        source: Address::new(5, 0, "SHOP"),
        destination: Address::international(
            &Msisdn::from_u64(8_613_800_000_000 + i).to_string()[1..],
        ),
        data_coding,
        short_message,
        ..ShortMessage::default()
    }
}

/// `sessions` ESMEs submitting `messages` in total; msg/s over the slowest session's time.
async fn run_load(
    addr: SocketAddr,
    system_id: &str,
    password: &str,
    window: usize,
    messages: u64,
    sessions: u64,
    offset: u64,
) -> Result<(f64, LoadReport)> {
    let per = messages / sessions.max(1);
    let mut tasks = Vec::new();
    for s in 0..sessions.max(1) {
        let (id, pw) = (system_id.to_string(), password.to_string());
        let base = offset + s * per;
        tasks.push(tokio::spawn(async move {
            submit_load(addr, &id, &pw, window, per, |i| submit_for(base + i)).await
        }));
    }
    let mut total = LoadReport {
        ok: 0,
        refused: 0,
        elapsed: std::time::Duration::ZERO,
    };
    for t in tasks {
        let r = t.await.context("load task")??;
        total.ok += r.ok;
        total.refused += r.refused;
        total.elapsed = total.elapsed.max(r.elapsed);
    }
    Ok((total.per_second(), total))
}

fn figure(rate: f64, r: &LoadReport) -> Value {
    json!({
        "msg_per_s": rate.round(),
        "accepted": r.ok,
        "refused": r.refused,
        "seconds": (r.elapsed.as_secs_f64() * 1000.0).round() / 1000.0,
    })
}

/// Starts the npm SMSC; `None` with the reason when node or the package is missing.
async fn npm_smsc(peers: &std::path::Path) -> Result<(tokio::process::Child, u16), String> {
    if !peers.join("node_modules/smpp/package.json").exists() {
        return Err(format!(
            "npm smpp not installed in {} (run .ci/setup-smpp-peers.sh)",
            peers.display()
        ));
    }
    let mut child = tokio::process::Command::new("node")
        .arg(peers.join("smsc.js"))
        .args(["bench", "bench", "bench"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("node: {e}"))?;
    let out = child.stdout.take().ok_or("no stdout")?;
    let mut lines = tokio::io::BufReader::new(out).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        if let Some(p) = line.strip_prefix("LISTEN ") {
            return p
                .trim()
                .parse()
                .map(|port| (child, port))
                .map_err(|e: std::num::ParseIntError| e.to_string());
        }
    }
    Err("smsc.js exited before listening".into())
}

/// Median time of one durable commit of a one-row transaction on this disk: what bounds the
/// group commit when few submissions are in flight (throughput ≈ in flight / commit time).
fn commit_latency_ms(dir: &std::path::Path, durability: Durability) -> Result<f64> {
    let store = Store::open_sqlite(&dir.join("probe"), durability)?;
    let Store::Sqlite(s) = &store else {
        bail!("not SQLite")
    };
    let mut times = Vec::new();
    for _ in 0..31 {
        let t = std::time::Instant::now();
        s.with_writer(|c| {
            c.execute_batch(
                "BEGIN; CREATE TABLE IF NOT EXISTS probe (x); INSERT INTO probe VALUES (1); COMMIT;",
            )?;
            Ok(())
        })?;
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    Ok((times[times.len() / 2] * 100.0).round() / 100.0)
}

pub fn run(args: &Args) -> Result<ExitCode> {
    let durability = match args.durability.as_str() {
        "full" => Durability::Full,
        "normal" => Durability::Normal,
        other => bail!("--durability is full or normal, not {other:?}"),
    };
    let tmp = tempfile::tempdir()?;
    let commit_ms = commit_latency_ms(tmp.path(), durability)?;
    eprintln!("one durable commit: {commit_ms} ms (median)");
    let store = Store::open_sqlite(tmp.path(), durability)?;
    let now: Timestamp = "2026-11-11T03:00:00Z".parse()?;
    let clock: Arc<dyn Clock> = Arc::new(ManualClock::new(now));
    let config = GatewayConfig {
        dispatch_queue: 1_000_000,
        ..GatewayConfig::default()
    };
    let policy = policy::Policy::new(&policy::PolicyConfig::default())?;
    let gw = Gateway::open(store, config, policy, clock, Arc::new(LoopbackCarrier))?;
    let (sender, _) = gw.create_sender("Bench Flagship Store", SIGNATURE)?;
    let creds = gw.issue_smpp_credentials(sender.id)?;
    let workers = gw.start();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let out = runtime.block_on(async {
        let server = Arc::new(SmppServer::new(
            Arc::clone(&gw),
            Hub::new(1000),
            ServerConfig {
                listen: "127.0.0.1:0".into(),
                ..ServerConfig::default()
            },
        )?);
        let listener = server.bind().await?;
        let addr = listener.local_addr()?;
        let s = Arc::clone(&server);
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            let _ = s
                .serve(listener, async {
                    let _ = stopped.await;
                })
                .await;
        });
        let mut ours = serde_json::Map::new();
        let mut rates = Vec::new();
        for (n, &w) in args.windows.iter().enumerate() {
            let offset = n as u64 * args.messages;
            let (rate, r) = run_load(
                addr,
                &creds.system_id,
                &creds.password,
                w,
                args.messages,
                args.sessions,
                offset,
            )
            .await?;
            eprintln!("ours, window {w}: {rate:.0} msg/s");
            ours.insert(format!("window_{w}"), figure(rate, &r));
            rates.push(rate);
        }
        let _ = stop.send(());
        let mut npm = serde_json::Map::new();
        let mut ratios = serde_json::Map::new();
        match npm_smsc(&args.peers).await {
            Ok((child, port)) => {
                let addr: SocketAddr = ([127, 0, 0, 1], port).into();
                for (n, &w) in args.windows.iter().enumerate() {
                    let (rate, r) =
                        run_load(addr, "bench", "bench", w, args.messages, args.sessions, 0)
                            .await?;
                    eprintln!("npm smpp SMSC, window {w}: {rate:.0} msg/s");
                    npm.insert(format!("window_{w}"), figure(rate, &r));
                    ratios.insert(
                        format!("ours_over_npm_window_{w}"),
                        json!((rates[n] / rate * 100.0).round() / 100.0),
                    );
                }
                drop(child);
            }
            Err(why) => {
                eprintln!("npm smpp SMSC skipped: {why}");
                npm.insert("skipped".into(), json!(why));
            }
        }
        Ok::<Value, anyhow::Error>(json!({
            "bench": "smpp",
            "what": "submit_sm -> submit_sm_resp over loopback TCP, our load ESME",
            "messages_per_run": args.messages,
            "sessions": args.sessions,
            "ours_policy_on": {
                "durability": args.durability,
                "commit_latency_ms_median": commit_ms,
                "runs": ours,
            },
            "npm_smpp_smsc_no_policy": npm,
            "ratios": ratios,
            "peak_rss_mib": super::rss_mib().0,
        }))
    })?;
    drop(workers);
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(ExitCode::SUCCESS)
}
