//! `consentry bench http`: the one-message-per-request path most merchants' integrations use
//! (`POST /v1/messages`, one recipient, many keep-alive connections) to an SMPP carrier with no
//! rate cap, with concurrent requests sharing commits (`[http] group_commit`, the default),
//! against the same requests each committing alone, and against Debian's Kannel (`sendsms` →
//! smsbox → bearerbox → the same SMSC), all in the same run.
//!
//! With `--cluster N` the group-commit configuration runs once more through N `consentry serve`
//! nodes on PostgreSQL and NATS (a fresh schema, dropped afterwards), the connections spread
//! over the nodes as a load balancer would, so about (N−1)/N of the requests are forwarded to
//! their phone's owner: the issue asks for 2× Kannel "on one node and through a cluster".
//!
//! What each acknowledges differs and the figures say so: consentry answers after the decision
//! is durable (fsync with `durability = "full"`); Kannel's smsbox answers when bearerbox has
//! queued the message in memory (no store configured, as Debian ships it).

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
    /// Also run the group-commit configuration through this many cluster nodes on PostgreSQL
    /// and NATS, the connections spread over them (each node forwards what another owns).
    #[arg(long)]
    cluster: Option<usize>,
    /// PostgreSQL for `--cluster`; the bench makes a schema of its own there and drops it.
    #[arg(long, default_value = "host=127.0.0.1 user=postgres dbname=test")]
    pg: String,
    /// NATS for `--cluster`.
    #[arg(long, default_value = "nats://127.0.0.1:4222")]
    nats: String,
}

/// The HTTP client every configuration sends with: one keep-alive connection per sender task.
fn client(args: &Args) -> Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .pool_max_idle_per_host(args.connections)
        .timeout(Duration::from_secs(30))
        .build()?)
}

/// The carrier every configuration hands off to: the bench's sink SMSC.
fn carrier(smsc: u16) -> String {
    format!(
        "[[carrier]]\nname = \"sink\"\nkind = \"smpp\"\nhost = \"127.0.0.1\"\nport = {smsc}\n\
         system_id = \"consentry\"\npassword = \"bench\"\nmax_tps = 0\nwindow = 100\n"
    )
}

struct Run {
    per_s: f64,
    p50_ms: f64,
    p99_ms: f64,
}

async fn one(args: &Args, group_commit: bool, smsc: u16) -> Result<Run> {
    let dir = tempfile::tempdir()?;
    let cfg = dir.path().join("bench.toml");
    std::fs::write(
        &cfg,
        format!(
            "[http]\ngroup_commit = {group_commit}\n[store]\ndurability = \"{}\"\n{}",
            args.durability,
            carrier(smsc)
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
    let http = client(args)?;
    let v: Value = http
        .post(format!("{base}/v1/senders"))
        .bearer_auth(&admin)
        .json(&json!({"name": "好店", "signature": "【好店】"}))
        .send()
        .await?
        .json()
        .await?;
    let key = v["api_key"].as_str().context("sender key")?.to_string();
    let run = load(args, &http, &[base], &key).await;
    let _ = child.start_kill();
    run
}

/// `args.requests` one-recipient sends over `args.connections` keep-alive connections, the
/// connections spread over `bases` in turn.
async fn load(args: &Args, http: &reqwest::Client, bases: &[String], key: &str) -> Result<Run> {
    let (http, key) = (http.clone(), key.to_string());
    drive(args, bases, move |base, i| {
        Ok(http.post(format!("{base}/v1/messages"))
            .bearer_auth(&key)
            .json(&json!({"to": format!("137{i:08}"), "text": "【好店】您的订单已发货，取件码 1234", "category": "transactional"})))
    })
    .await
}

/// Sends request `i` (0 ≤ i < `args.requests`, each once) as `request(base, i)` makes it, from
/// `args.connections` tasks each on its own base of `bases` in turn; an answer that is not a
/// success stops the run.
async fn drive<F>(args: &Args, bases: &[String], request: F) -> Result<Run>
where
    F: Fn(&str, usize) -> Result<reqwest::RequestBuilder> + Clone + Send + 'static,
{
    let next = Arc::new(AtomicUsize::new(0));
    let t0 = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..args.connections {
        let (base, next, n, request) = (
            bases[c % bases.len()].clone(),
            next.clone(),
            args.requests,
            request.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n {
                    return Ok::<_, anyhow::Error>(lat);
                }
                let t = Instant::now();
                let r = request(&base, i)?.send().await?;
                if !r.status().is_success() {
                    bail!("request {i} to {base}: {}", r.status());
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
    if lat.is_empty() {
        bail!("no request was sent (--requests 0)");
    }
    lat.sort_by(f64::total_cmp);
    let at = |p: f64| lat[((lat.len() - 1) as f64 * p) as usize];
    Ok(Run {
        per_s: lat.len() as f64 / secs,
        p50_ms: at(0.5),
        p99_ms: at(0.99),
    })
}

/// A free loopback port (bound and released; Kannel takes ports only from its configuration).
fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// Waits until something accepts connections on `port`.
async fn listening(port: u16, what: &str) -> Result<()> {
    for _ in 0..200 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    bail!("{what} did not listen on port {port}")
}

/// The same requests through Kannel: `None` when Debian's kannel is not installed
/// (`.ci/setup-smpp-peers.sh` installs it).
async fn kannel(args: &Args, smsc: &super::smsc::Sink) -> Result<Option<Run>> {
    let (bearerbox, smsbox) = ("/usr/sbin/bearerbox", "/usr/sbin/smsbox");
    if !std::path::Path::new(bearerbox).exists() || !std::path::Path::new(smsbox).exists() {
        return Ok(None);
    }
    let dir = tempfile::tempdir()?;
    let (admin, boxes, sendsms) = (free_port()?, free_port()?, free_port()?);
    let logs = dir.path().display().to_string();
    let conf = dir.path().join("kannel.conf");
    std::fs::write(
        &conf,
        format!(
            "group = core\nadmin-port = {admin}\nadmin-password = bench\nsmsbox-port = {boxes}\n\
             log-level = 4\nlog-file = \"{logs}/bearerbox.log\"\nbox-allow-ip = \"127.0.0.1\"\n\
             dlr-storage = internal\n\n\
             group = smsc\nsmsc = smpp\nsmsc-id = sink\nhost = 127.0.0.1\nport = {port}\n\
             transceiver-mode = true\nsmsc-username = \"kannel\"\nsmsc-password = \"bench\"\n\
             system-type = \"\"\nmax-pending-submits = 100\n\n\
             group = smsbox\nbearerbox-host = 127.0.0.1\nsendsms-port = {sendsms}\nlog-level = 4\n\
             log-file = \"{logs}/smsbox.log\"\n\n\
             group = sendsms-user\nusername = bench\npassword = bench\nmax-messages = 1\n",
            port = smsc.port
        ),
    )?;
    let quiet = || Stdio::null();
    let _bearer = Command::new(bearerbox)
        .arg(&conf)
        .stdout(quiet())
        .stderr(quiet())
        .kill_on_drop(true)
        .spawn()
        .context("starting bearerbox")?;
    listening(boxes, "bearerbox").await?;
    let _smsbox = Command::new(smsbox)
        .arg(&conf)
        .stdout(quiet())
        .stderr(quiet())
        .kill_on_drop(true)
        .spawn()
        .context("starting smsbox")?;
    listening(sendsms, "smsbox").await?;
    let http = client(args)?;
    let url = move |i: usize| {
        reqwest::Url::parse_with_params(
            &format!("http://127.0.0.1:{sendsms}/cgi-bin/sendsms"),
            &[
                ("username", "bench"),
                ("password", "bench"),
                ("from", "10690001"),
                ("to", &format!("137{i:08}")),
                ("text", "【好店】您的订单已发货，取件码 1234"),
                ("charset", "UTF-8"),
                ("coding", "2"),
            ],
        )
    };
    // Until the SMSC link is up, smsbox queues; one message through proves the path.
    let before = smsc.accepted.load(Ordering::Relaxed);
    http.get(url(99_999_999)?).send().await?;
    for _ in 0..600 {
        if smsc.accepted.load(Ordering::Relaxed) > before {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    if smsc.accepted.load(Ordering::Relaxed) == before {
        let log = |f: &str| std::fs::read_to_string(dir.path().join(f)).unwrap_or_default();
        let tail = |t: String| t.lines().rev().take(15).collect::<Vec<_>>().join("\n");
        bail!(
            "Kannel did not reach the SMSC.\nbearerbox:\n{}\nsmsbox:\n{}",
            tail(log("bearerbox.log")),
            tail(log("smsbox.log"))
        );
    }
    let run = drive(args, &[String::new()], move |_, i| Ok(http.get(url(i)?))).await?;
    Ok(Some(run))
}

/// The group-commit configuration through `n` cluster nodes on PostgreSQL and NATS, each with
/// the same sink SMSC as its carrier; the connections are spread over the nodes, so a request
/// for a phone another node owns is forwarded to that owner, as behind a load balancer.
async fn cluster(args: &Args, n: usize, smsc: u16) -> Result<Run> {
    let t = super::cluster::Topology::postgres_nodes(&args.pg, &args.nats, 3000, n, &carrier(smsc))
        .await
        .context("bench http --cluster: starting the nodes (PostgreSQL at --pg, NATS at --nats)")?;
    let key = t.sender("好店").await?;
    load(args, &client(args)?, &t.bases(), &key).await
}

pub fn run(args: &Args) -> Result<ExitCode> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let (shared, alone, kannel, cluster) = rt.block_on(async {
        let smsc = super::smsc::Sink::start().await?;
        let alone = one(args, false, smsc.port).await?;
        let shared = one(args, true, smsc.port).await?;
        let kannel = kannel(args, &smsc).await?;
        let cluster = match args.cluster {
            Some(n) => Some((n.max(1), cluster(args, n.max(1), smsc.port).await?)),
            None => None,
        };
        Ok::<_, anyhow::Error>((shared, alone, kannel, cluster))
    })?;
    let figures = |r: &Run| json!({"per_s": r.per_s, "p50_ms": r.p50_ms, "p99_ms": r.p99_ms});
    let out = json!({
        "requests": args.requests,
        "connections": args.connections,
        "durability": args.durability,
        "carrier": "SMPP sink SMSC (no rate cap), the same for every run",
        "group_commit": figures(&shared),
        "baseline_commit_each": figures(&alone),
        "ratio": shared.per_s / alone.per_s,
        "kannel": kannel.as_ref().map(figures),
        "ratio_to_kannel": kannel.as_ref().map(|k| shared.per_s / k.per_s),
        "cluster": cluster.as_ref().map(|(n, r)| json!({
            "nodes": n,
            "store": "postgres",
            "group_commit": figures(r),
            "ratio_to_kannel": kannel.as_ref().map(|k| r.per_s / k.per_s),
            "ratio_to_one_sqlite_node": r.per_s / shared.per_s,
        })),
        "acknowledges": {
            "consentry": "after the decision is durable",
            "kannel": "when bearerbox has queued the message in memory",
        },
    });
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(ExitCode::SUCCESS)
}
