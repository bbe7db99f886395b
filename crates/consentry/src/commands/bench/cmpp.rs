//! `consentry bench cmpp`: SUBMIT → SUBMIT_RESP over loopback through the CMPP listener with
//! the full policy on, beside the same traffic over the SMPP listener in the same run.
//!
//! One gateway (SQLite, `synchronous=FULL` by default, every rule on, accepted messages
//! dispatched to the loopback handset) serves both listeners. For each window the CMPP run and
//! the SMPP run alternate, each with its own phones (so no cap or duplicate window interferes):
//! `cmpp::load` SPs against `smpp::load` ESMEs — both pipelined loaders that do as little as
//! they can, so the client's own work is not counted against the listener on a small machine —
//! the same text, the same category, the same number of connections. Every SUBMIT_RESP is sent only once its
//! decision is committed, through the HTTP API's group commit for CMPP and the SMPP listener's
//! committer for SMPP. The ratio says what CMPP's path costs against SMPP's. A third run per
//! window sends the same CMPP traffic to the same listener code accepting everything at once
//! (no policy, no store): what the protocol path alone costs on this machine, in this run.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use cmpp_proto::Submit;
use domain::{Clock, ManualClock, Msisdn, Timestamp};
use gateway::{Gateway, GatewayConfig, GroupCommit, LoopbackCarrier};
use serde_json::{Value, json};
use smpp::load::submit_load;
use smpp::{Hub, ServerConfig, SmppServer};
use smpp_proto::{Address, ShortMessage, text};
use store::{Durability, Store};

/// Options of `bench cmpp`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// SUBMITs per run (each to a different phone).
    #[arg(long, default_value_t = 100_000)]
    messages: u64,
    /// Connections per run, for each protocol.
    #[arg(long, default_value_t = 4)]
    connections: u64,
    /// Windows to measure.
    #[arg(long, value_delimiter = ',', default_values_t = [16usize, 100])]
    windows: Vec<usize>,
    /// Store durability: full (fsync per commit, the shipped default) or normal.
    #[arg(long, default_value = "full")]
    durability: String,
    /// The CMPP listener's decider threads (default: `[cmpp] decide_threads`).
    #[arg(long)]
    decide_threads: Option<usize>,
}

const SIGNATURE: &str = "【好店旗舰店】";

fn text_for(i: u64) -> String {
    format!("{SIGNATURE}您的订单{i}已发货，请留意查收")
}

fn phone(i: u64) -> Msisdn {
    Msisdn::from_u64(8_613_800_000_000 + i)
}

/// The baseline acceptor: the same CMPP listener code with every SUBMIT accepted at once —
/// no policy, no store — so the figure shows what the protocol path alone costs here.
struct AcceptAll;

impl cmpp::Accounts for AcceptAll {
    fn lookup(&self, source_addr: &str) -> Option<cmpp::Account> {
        (source_addr == "900000").then(|| cmpp::Account {
            id: 1,
            secret: b"baseline".to_vec(),
        })
    }
}

impl cmpp::Submissions for AcceptAll {
    fn submit(&self, _: cmpp::Submission) -> cmpp::Verdict {
        cmpp::Verdict::Accept
    }
}

/// What one run measured.
struct Run {
    ok: u64,
    refused: u64,
    elapsed: Duration,
}

impl Run {
    fn figure(&self) -> Value {
        let secs = self.elapsed.as_secs_f64();
        json!({
            "submits_per_s": ((self.ok + self.refused) as f64 / secs).round(),
            "accepted": self.ok,
            "refused": self.refused,
            "seconds": (secs * 1000.0).round() / 1000.0,
        })
    }

    fn rate(&self) -> f64 {
        (self.ok + self.refused) as f64 / self.elapsed.as_secs_f64()
    }
}

/// `connections` CMPP links, each keeping `window` SUBMITs in flight.
async fn cmpp_run(
    addr: SocketAddr,
    source_addr: &str,
    secret: &str,
    window: usize,
    messages: u64,
    connections: u64,
    offset: u64,
) -> Result<Run> {
    let per = messages / connections.max(1);
    let mut tasks = Vec::new();
    for s in 0..connections.max(1) {
        let (sp, secret) = (source_addr.to_string(), secret.to_string());
        let base = offset + s * per;
        tasks.push(tokio::spawn(async move {
            let msg_src = sp.clone();
            cmpp::load::submit_load(addr, &sp, &secret, window, per, move |i| {
                let (msg_fmt, msg_content) = cmpp_proto::text::encode_text(&text_for(base + i));
                Submit {
                    pk_total: 1,
                    pk_number: 1,
                    service_id: "TXN".into(),
                    msg_fmt,
                    msg_src: msg_src.clone(),
                    dest_terminal_ids: vec![phone(base + i).as_u64().to_string()],
                    msg_content,
                    ..Submit::default()
                }
            })
            .await
        }));
    }
    let mut run = Run {
        ok: 0,
        refused: 0,
        elapsed: Duration::ZERO,
    };
    for t in tasks {
        let r = t.await.context("CMPP load task")??;
        run.ok += r.ok;
        run.refused += r.refused;
        run.elapsed = run.elapsed.max(r.elapsed);
    }
    Ok(run)
}

/// The same traffic over SMPP: `connections` ESMEs at `window`.
async fn smpp_run(
    addr: SocketAddr,
    system_id: &str,
    password: &str,
    window: usize,
    messages: u64,
    connections: u64,
    offset: u64,
) -> Result<Run> {
    let per = messages / connections.max(1);
    let mut tasks = Vec::new();
    for s in 0..connections.max(1) {
        let (id, pw) = (system_id.to_string(), password.to_string());
        let base = offset + s * per;
        tasks.push(tokio::spawn(async move {
            submit_load(addr, &id, &pw, window, per, |i| {
                let (data_coding, short_message) = text::encode_text(&text_for(base + i));
                ShortMessage {
                    service_type: "TXN".into(),
                    source: Address::new(5, 0, "SHOP"),
                    destination: Address::international(&phone(base + i).as_u64().to_string()),
                    data_coding,
                    short_message,
                    ..ShortMessage::default()
                }
            })
            .await
        }));
    }
    let mut run = Run {
        ok: 0,
        refused: 0,
        elapsed: Duration::ZERO,
    };
    for t in tasks {
        let r = t.await.context("SMPP load task")??;
        run.ok += r.ok;
        run.refused += r.refused;
        run.elapsed = run.elapsed.max(r.elapsed);
    }
    Ok(run)
}

pub fn run(args: &Args) -> Result<ExitCode> {
    let durability = match args.durability.as_str() {
        "full" => Durability::Full,
        "normal" => Durability::Normal,
        other => bail!("--durability is full or normal, not {other:?}"),
    };
    let tmp = tempfile::tempdir()?;
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
    let smpp_creds = gw.issue_smpp_credentials(sender.id)?;
    let cmpp_creds = gw.issue_cmpp_credentials(sender.id)?;
    let workers = gw.start();
    let mut listener_config = crate::config::Config::load(None)?.cmpp;
    listener_config.window = args.windows.iter().copied().max().unwrap_or(16).max(16);
    if let Some(n) = args.decide_threads {
        listener_config.decide_threads = n;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let out = runtime.block_on(async {
        let hub = Hub::new(1000);
        let cmpp_addr = crate::cmpp::start_listener(
            &gw,
            &hub,
            GroupCommit::start(Arc::clone(&gw))?,
            &listener_config,
            "127.0.0.1:0".into(),
            std::future::pending(),
        )
        .await?;
        let server = Arc::new(SmppServer::new(
            Arc::clone(&gw),
            hub,
            ServerConfig {
                listen: "127.0.0.1:0".into(),
                ..ServerConfig::default()
            },
        )?);
        let listener = server.bind().await?;
        let smpp_addr = listener.local_addr()?;
        let s = Arc::clone(&server);
        tokio::spawn(async move {
            let _ = s.serve(listener, std::future::pending()).await;
        });
        let baseline = cmpp::CmppServer::new(
            listener_config.server_config("127.0.0.1:0".into())?,
            Arc::new(AcceptAll),
            Arc::new(AcceptAll),
        )?;
        let baseline_listener = baseline.bind().await?;
        let baseline_addr = baseline_listener.local_addr()?;
        tokio::spawn(async move {
            baseline
                .serve(baseline_listener, std::future::pending())
                .await;
        });
        let mut baseline_runs = serde_json::Map::new();
        let mut cmpp_runs = serde_json::Map::new();
        let mut smpp_runs = serde_json::Map::new();
        let mut ratios = serde_json::Map::new();
        for (n, &w) in args.windows.iter().enumerate() {
            let offset = n as u64 * 2 * args.messages;
            let c = cmpp_run(
                cmpp_addr,
                &cmpp_creds.source_addr,
                &cmpp_creds.secret,
                w,
                args.messages,
                args.connections,
                offset,
            )
            .await?;
            eprintln!("CMPP, window {w}: {:.0} SUBMIT/s", c.rate());
            let s = smpp_run(
                smpp_addr,
                &smpp_creds.system_id,
                &smpp_creds.password,
                w,
                args.messages,
                args.connections,
                offset + args.messages,
            )
            .await?;
            eprintln!("SMPP, window {w}: {:.0} submit_sm/s", s.rate());
            let b = cmpp_run(
                baseline_addr,
                "900000",
                "baseline",
                w,
                args.messages,
                args.connections,
                0,
            )
            .await?;
            eprintln!("CMPP accept-all, window {w}: {:.0} SUBMIT/s", b.rate());
            ratios.insert(
                format!("cmpp_over_accept_all_window_{w}"),
                json!((c.rate() / b.rate() * 100.0).round() / 100.0),
            );
            baseline_runs.insert(format!("window_{w}"), b.figure());
            ratios.insert(
                format!("cmpp_over_smpp_window_{w}"),
                json!((c.rate() / s.rate() * 100.0).round() / 100.0),
            );
            cmpp_runs.insert(format!("window_{w}"), c.figure());
            smpp_runs.insert(format!("window_{w}"), s.figure());
        }
        Ok::<Value, anyhow::Error>(json!({
            "bench": "cmpp",
            "what": "SUBMIT -> SUBMIT_RESP over loopback through the CMPP listener, policy on, \
                     every decision committed before its answer; the same traffic over the SMPP \
                     listener in the same run",
            "messages_per_run": args.messages,
            "connections": args.connections,
            "durability": args.durability,
            "cmpp_decide_threads": listener_config.decide_threads,
            "cmpp": cmpp_runs,
            "smpp": smpp_runs,
            "cmpp_accept_all_no_policy_no_store": baseline_runs,
            "ratios": ratios,
            "peak_rss_mib": super::rss_mib().0,
        }))
    })?;
    drop(workers);
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(ExitCode::SUCCESS)
}
