//! `consentry bench http`: the one-message-per-request path most merchants' integrations use
//! (`POST /v1/messages`, one recipient, many keep-alive connections), with concurrent requests
//! sharing commits (`[http] group_commit`, the default) against the same requests each
//! committing alone, measured in the same run on the same kind of store.
//!
//! The stand-in baseline is the previous behaviour of this gateway, not Kannel: a Kannel
//! comparison needs its bearerbox and an SMSC configured beside it (see docs/PERFORMANCE.md).

use std::process::{ExitCode, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

/// Options of `bench http`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Requests per configuration.
    #[arg(long, default_value_t = 20_000)]
    requests: usize,
    /// Keep-alive connections sending at once.
    #[arg(long, default_value_t = 16)]
    connections: usize,
    /// `full` (fsync every commit) or `normal`.
    #[arg(long, default_value = "full")]
    durability: String,
}

struct Run {
    per_s: f64,
    p50_ms: f64,
    p99_ms: f64,
}

async fn one(args: &Args, group_commit: bool) -> Result<Run> {
    let dir = tempfile::tempdir()?;
    let cfg = dir.path().join("bench.toml");
    std::fs::write(
        &cfg,
        format!(
            "[http]\ngroup_commit = {group_commit}\n[store]\ndurability = \"{}\"\n",
            args.durability
        ),
    )?;
    let data = dir.path().join("data");
    let mut child = Command::new(std::env::current_exe()?)
        .args([
            "serve",
            "--http",
            "127.0.0.1:0",
            "--smpp",
            "127.0.0.1:0",
            "--data",
        ])
        .arg(&data)
        .arg("--config")
        .arg(&cfg)
        .env("RUST_LOG", "error")
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()?;
    let mut lines = BufReader::new(child.stdout.take().context("stdout")?).lines();
    let mut base = None;
    while let Some(line) = lines.next_line().await? {
        if let Some(a) = line.strip_prefix("consentry listening on ") {
            base = Some(a.trim().to_string());
            break;
        }
    }
    let base = base.context("the gateway did not start")?;
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    let admin = std::fs::read_to_string(data.join("admin.token"))?
        .trim()
        .to_string();
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(args.connections)
        .timeout(Duration::from_secs(30))
        .build()?;
    let v: Value = http
        .post(format!("{base}/v1/senders"))
        .bearer_auth(&admin)
        .json(&json!({"name": "好店", "signature": "【好店】"}))
        .send()
        .await?
        .json()
        .await?;
    let key = v["api_key"].as_str().context("sender key")?.to_string();
    let next = Arc::new(AtomicUsize::new(0));
    let t0 = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..args.connections {
        let (http, base, key, next, n) = (
            http.clone(),
            base.clone(),
            key.clone(),
            next.clone(),
            args.requests,
        );
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n {
                    return Ok::<_, anyhow::Error>(lat);
                }
                let t = Instant::now();
                let r = http
                    .post(format!("{base}/v1/messages"))
                    .bearer_auth(&key)
                    .json(&json!({"to": format!("137{i:08}"), "text": "【好店】您的订单已发货，取件码 1234", "category": "transactional"}))
                    .send()
                    .await?;
                if !r.status().is_success() {
                    bail!("request {i}: {}", r.status());
                }
                let _ = r.bytes().await?;
                lat.push(t.elapsed().as_secs_f64() * 1000.0);
            }
        }));
    }
    let mut lat = Vec::with_capacity(args.requests);
    for t in tasks {
        lat.extend(t.await??);
    }
    let secs = t0.elapsed().as_secs_f64();
    lat.sort_by(f64::total_cmp);
    let at = |p: f64| lat[((lat.len() - 1) as f64 * p) as usize];
    let _ = child.start_kill();
    Ok(Run {
        per_s: lat.len() as f64 / secs,
        p50_ms: at(0.5),
        p99_ms: at(0.99),
    })
}

pub fn run(args: &Args) -> Result<ExitCode> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let (shared, alone) = rt.block_on(async {
        let alone = one(args, false).await?;
        let shared = one(args, true).await?;
        Ok::<_, anyhow::Error>((shared, alone))
    })?;
    let out = json!({
        "requests": args.requests,
        "connections": args.connections,
        "durability": args.durability,
        "group_commit": {"per_s": shared.per_s, "p50_ms": shared.p50_ms, "p99_ms": shared.p99_ms},
        "baseline_commit_each": {"per_s": alone.per_s, "p50_ms": alone.p50_ms, "p99_ms": alone.p99_ms},
        "ratio": shared.per_s / alone.per_s,
    });
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(ExitCode::SUCCESS)
}
