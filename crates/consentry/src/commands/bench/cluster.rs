//! `consentry bench cluster`: the cluster against one node on the embedded store, measured in
//! the same run on this machine.
//!
//! Real `consentry serve` processes (this binary) on one PostgreSQL schema of the bench's own
//! and NATS: recorded submits/s through 1, 2 and 3 nodes against one SQLite node; with three
//! nodes, opt-out acknowledgement through a node that does not own the phone, the time from
//! that acknowledgement to the next marketing refused through another node, marketing probes
//! not refused (must be 0), cap violations counted in SQL (must be 0), and the takeover time
//! after kill -9 of a node.

use std::path::Path;
use std::process::{ExitCode, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};
use store::postgres::{PgOptions, PgStore};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// Options of `bench cluster`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// PostgreSQL for the nodes; the bench makes a schema of its own there and drops it.
    #[arg(long, default_value = "host=127.0.0.1 user=postgres dbname=test")]
    pg: String,
    /// NATS for the nodes.
    #[arg(long, default_value = "nats://127.0.0.1:4222")]
    nats: String,
    /// Messages recorded per configuration.
    #[arg(long, default_value_t = 20_000)]
    messages: usize,
    /// Recipients per batch request.
    #[arg(long, default_value_t = 500)]
    batch: usize,
    /// Concurrent clients.
    #[arg(long, default_value_t = 6)]
    clients: usize,
    /// Opt-out → marketing probes through other nodes.
    #[arg(long, default_value_t = 500)]
    probes: usize,
    /// Senders × phones for the caps run.
    #[arg(long, default_value_t = 20)]
    cap_senders: usize,
    #[arg(long, default_value_t = 500)]
    cap_phones: usize,
    /// Lease time of the nodes, in milliseconds.
    #[arg(long, default_value_t = 3000)]
    lease_ms: u64,
}

struct Node {
    child: Child,
    base: String,
    _dir: tempfile::TempDir,
}

/// Nodes started for one configuration (also `bench http --cluster`).
pub(super) struct Topology {
    nodes: Vec<Node>,
    admin: String,
    http: reqwest::Client,
    store: Option<PgStore>,
    schema: Option<String>,
}

async fn spawn(dir: &Path, config: &Path) -> Result<Node> {
    let exe = std::env::current_exe().context("finding this binary")?;
    let mut child = Command::new(exe)
        .args([
            "serve",
            "--http",
            "127.0.0.1:0",
            "--smpp",
            "127.0.0.1:0",
            "--data",
        ])
        .arg(dir)
        .arg("--config")
        .arg(config)
        .env("RUST_LOG", "error")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .context("starting a node")?;
    let stdout = child.stdout.take().context("node stdout")?;
    let mut lines = BufReader::new(stdout).lines();
    let base = tokio::time::timeout(Duration::from_secs(60), async {
        while let Ok(Some(line)) = lines.next_line().await {
            if let Some(addr) = line.strip_prefix("consentry listening on ") {
                return Some(addr.trim().to_string());
            }
        }
        None
    })
    .await
    .ok()
    .flatten()
    .context("a node did not start")?;
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Ok(Node {
        child,
        base,
        _dir: tempfile::tempdir()?,
    })
}

fn url_with_schema(pg: &str, schema: &str) -> String {
    if pg.contains("://") {
        let sep = if pg.contains('?') { '&' } else { '?' };
        format!("{pg}{sep}options=-c%20search_path%3D{schema}")
    } else {
        format!("{pg} options='-c search_path={schema}'")
    }
}

impl Topology {
    async fn sqlite() -> Result<Topology> {
        let dir = tempfile::tempdir()?;
        let cfg = dir.path().join("node.toml");
        std::fs::write(&cfg, "")?;
        let data = dir.path().join("data");
        let mut node = spawn(&data, &cfg).await?;
        let admin = std::fs::read_to_string(data.join("admin.token"))?
            .trim()
            .to_string();
        node._dir = dir;
        Ok(Topology {
            nodes: vec![node],
            admin,
            http: client()?,
            store: None,
            schema: None,
        })
    }

    async fn postgres(args: &Args, n: usize) -> Result<Topology> {
        Self::postgres_nodes(&args.pg, &args.nats, args.lease_ms, n, "").await
    }

    /// `n` cluster nodes on a fresh schema of `pg` and `nats`, each configured with `extra`
    /// (TOML appended to the cluster's own settings: carriers, `[http]`); returns once the
    /// partitions are owned by them all.
    pub(super) async fn postgres_nodes(
        pg: &str,
        nats: &str,
        lease_ms: u64,
        n: usize,
        extra: &str,
    ) -> Result<Topology> {
        let schema = format!("bench_cluster_{}_{n}", std::process::id());
        let mut opts = PgOptions::new(pg);
        opts.schema = Some(schema.clone());
        let store = PgStore::connect(&opts).context("bench cluster: --pg")?;
        let url = url_with_schema(pg, &schema)
            .replace('\\', "\\\\")
            .replace('"', "\\\"");
        let mut nodes = Vec::new();
        let mut admin = String::new();
        for i in 0..n {
            let dir = tempfile::tempdir()?;
            let cfg = dir.path().join("node.toml");
            std::fs::write(
                &cfg,
                format!(
                    // No quiet hours: the caps run must accept marketing whatever the hour
                    // (at night in Beijing every send was held, and "0 cap violations" said
                    // nothing).
                    "[policy]\nquiet_hours_start = \"00:00\"\nquiet_hours_end = \"00:00\"\n\
                     [store]\nbackend = \"postgres\"\nurl = \"{url}\"\nmax_connections = 8\n\
                     [cluster]\nnats = \"{nats}\"\nnode = \"n{i}\"\npartitions = 64\nlease_ms = {lease_ms}\nprefix = \"{schema}\"\n{extra}",
                ),
            )?;
            let data = dir.path().join("data");
            let mut node = spawn(&data, &cfg).await?;
            if i == 0 {
                admin = std::fs::read_to_string(data.join("admin.token"))?
                    .trim()
                    .to_string();
            }
            node._dir = dir;
            nodes.push(node);
        }
        let t = Topology {
            nodes,
            admin,
            http: client()?,
            store: Some(store),
            schema: Some(schema),
        };
        t.wait_owned(n).await?;
        Ok(t)
    }

    /// Waits until the first `n` nodes own every partition, each some; returns how long.
    async fn wait_owned(&self, n: usize) -> Result<Duration> {
        let t0 = Instant::now();
        let Some(store) = &self.store else {
            return Ok(Duration::ZERO);
        };
        let names: Vec<String> = (0..n).map(|i| format!("n{i}")).collect();
        loop {
            let leases = store.leases()?;
            let ok = !leases.is_empty()
                && leases.iter().all(|l| {
                    l.expires_in_ms >= 0 && l.owner.as_ref().is_some_and(|o| names.contains(o))
                })
                && names
                    .iter()
                    .all(|n| leases.iter().any(|l| l.owner.as_ref() == Some(n)));
            if ok {
                return Ok(t0.elapsed());
            }
            if t0.elapsed() > Duration::from_secs(60) {
                bail!("the partitions were not owned by {names:?} within 60 s");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    async fn post(&self, node: usize, path: &str, key: &str, body: &Value) -> Result<Value> {
        let r = self
            .http
            .post(format!("{}{path}", self.nodes[node].base))
            .bearer_auth(key)
            .json(body)
            .send()
            .await?;
        Ok(r.json().await?)
    }

    /// Every node's HTTP base URL, in node order.
    pub(super) fn bases(&self) -> Vec<String> {
        self.nodes.iter().map(|n| n.base.clone()).collect()
    }

    /// Registers a sender through the first node; returns its API key.
    pub(super) async fn sender(&self, name: &str) -> Result<String> {
        let v = self
            .post(
                0,
                "/v1/senders",
                &self.admin,
                &json!({"name": name, "signature": format!("【{name}】")}),
            )
            .await?;
        v["api_key"]
            .as_str()
            .map(str::to_string)
            .context("registering a sender")
    }

    /// Which partition's owner a phone has, by node index.
    fn owner_of(&self, phone: u64) -> Result<Option<usize>> {
        let Some(store) = &self.store else {
            return Ok(Some(0));
        };
        let part = i32::try_from(phone % 64).unwrap_or(0);
        let leases = store.leases()?;
        Ok(leases
            .iter()
            .find(|l| l.part == part)
            .and_then(|l| l.owner.as_deref())
            .and_then(|o| o.strip_prefix('n'))
            .and_then(|i| i.parse().ok()))
    }

    /// Stops the nodes, then drops the topology's schema. The nodes first: one still running
    /// while its tables go logs an error a second until it is killed.
    fn drop_schema(&mut self) {
        for n in &mut self.nodes {
            let _ = n.child.start_kill();
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        for n in &mut self.nodes {
            while matches!(n.child.try_wait(), Ok(None)) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        if let (Some(store), Some(schema)) = (&self.store, self.schema.take()) {
            let _ = store.execute_batch(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"));
        }
    }
}

/// A run that fails half-way leaves no nodes running and no schema behind either.
impl Drop for Topology {
    fn drop(&mut self) {
        self.drop_schema();
    }
}

fn client() -> Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .pool_max_idle_per_host(32)
        .build()?)
}

/// Recorded submits/s: transactional batches to distinct phones, spread over the nodes.
async fn recorded_rate(t: &Topology, args: &Args, key: &str, offset: u64) -> Result<f64> {
    let batches = args.messages.div_ceil(args.batch);
    let next = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let t0 = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..args.clients {
        let (http, key, next) = (t.http.clone(), key.to_string(), next.clone());
        let bases: Vec<String> = t.nodes.iter().map(|n| n.base.clone()).collect();
        let batch = args.batch;
        tasks.push(tokio::spawn(async move {
            let mut recorded = 0usize;
            loop {
                let b = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if b >= batches {
                    return recorded;
                }
                let to: Vec<String> = (0..batch)
                    .map(|i| format!("138{:08}", offset + (b * batch + i) as u64))
                    .collect();
                let body = json!({"to": to, "text": "【好店】您的订单已发货", "category": "transactional"});
                let base = &bases[(b + c) % bases.len()];
                if let Ok(r) = http
                    .post(format!("{base}/v1/messages/batch"))
                    .bearer_auth(&key)
                    .json(&body)
                    .send()
                    .await
                    && let Ok(v) = r.json::<Value>().await
                {
                    recorded += v["results"].as_array().map_or(0, Vec::len);
                }
            }
        }));
    }
    let mut recorded = 0;
    for task in tasks {
        recorded += task.await?;
    }
    let secs = t0.elapsed().as_secs_f64();
    if recorded < args.messages {
        bail!(
            "only {recorded} of {} messages were recorded",
            args.messages
        );
    }
    Ok(recorded as f64 / secs)
}

fn pct(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    let i = ((v.len() as f64 - 1.0) * p).round() as usize;
    v.get(i).copied().unwrap_or(0.0)
}

/// Opt-outs through a node that does not own the phone, then marketing through a third node.
async fn probes(t: &Topology, args: &Args, key: &str) -> Result<Value> {
    let (mut ack, mut refuse) = (Vec::new(), Vec::new());
    let mut not_refused = 0;
    let mut retried = 0;
    let mut n = 0u64;
    let mut i = 0u64;
    while (n as usize) < args.probes {
        i += 1;
        let phone = 13_900_000_000 + i;
        let Some(owner) = t.owner_of(8_600_000_000_000 + phone)? else {
            continue;
        };
        let via = (owner + 1) % t.nodes.len();
        let then = (owner + 2) % t.nodes.len();
        let p = phone.to_string();
        t.post(owner, "/v1/consents", key, &json!({"phone": p, "action": "opt_in", "scope": "sender", "source": "web", "evidence": "bench"}))
            .await?;
        let a = Instant::now();
        // A 503 (the owner's lease lapsing under load) acknowledged nothing: retry, as a
        // carrier would, and count it.
        let mut v = Value::Null;
        for _ in 0..20 {
            v = t
                .post(via, "/v1/consents", key, &json!({"phone": p, "action": "opt_out", "scope": "sender", "source": "reply", "evidence": "TD"}))
                .await?;
            if !v["event"]["seq"].is_null() {
                break;
            }
            retried += 1;
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        ack.push(a.elapsed().as_secs_f64() * 1000.0);
        if v["event"]["seq"].is_null() {
            bail!("an opt-out was not acknowledged after 20 tries: {v}");
        }
        let r = Instant::now();
        let m = t
            .post(
                then,
                "/v1/messages",
                key,
                &json!({"to": p, "text": "【好店】双11全场5折，回T退订", "category": "marketing"}),
            )
            .await?;
        refuse.push(r.elapsed().as_secs_f64() * 1000.0);
        // Refused by the policy, or (503) not accepted at all: anything accepted is a failure.
        if m["status"] == "accepted" || m["status"] == "deferred" {
            not_refused += 1;
        }
        n += 1;
    }
    Ok(json!({
        "probes": n,
        "probes_not_refused": not_refused,
        "optouts_retried_after_503": retried,
        "optout_ack_via_non_owner_ms": {"p50": pct(&mut ack, 0.5), "p99": pct(&mut ack, 0.99)},
        "ack_to_marketing_refused_elsewhere_ms": {"p50": pct(&mut refuse, 0.5), "p99": pct(&mut refuse, 0.99)},
    }))
}

/// Every sender sends marketing to every phone twice, through two nodes at once; violations of
/// the sender (1/day) and recipient (3/day) caps are counted in SQL.
async fn caps(t: &Topology, args: &Args) -> Result<Value> {
    let phones: Vec<String> = (0..args.cap_phones).map(|i| format!("136{i:08}")).collect();
    let mut keys = Vec::new();
    for s in 0..args.cap_senders {
        let key = t.sender(&format!("店{s}")).await?;
        for p in &phones {
            t.post(s % t.nodes.len(), "/v1/consents", &key, &json!({"phone": p, "action": "opt_in", "scope": "sender", "source": "web", "evidence": "bench"}))
                .await?;
        }
        keys.push(key);
    }
    let mut tasks = Vec::new();
    for (s, key) in keys.iter().enumerate() {
        for round in 0..2 {
            let (http, key, phones) = (t.http.clone(), key.clone(), phones.clone());
            let base = t.nodes[(s + round) % t.nodes.len()].base.clone();
            tasks.push(tokio::spawn(async move {
                http.post(format!("{base}/v1/messages/batch"))
                    .bearer_auth(&key)
                    .json(&json!({"to": phones, "text": format!("【店{s}】双11全场5折，回T退订"), "category": "marketing"}))
                    .send()
                    .await
                    .map(|r| r.status().is_success())
                    .unwrap_or(false)
            }));
        }
    }
    for task in tasks {
        task.await?;
    }
    let store = t.store.as_ref().context("caps need PostgreSQL")?;
    let sender_violations = store.count(
        "SELECT count(*) FROM (SELECT 1 FROM messages WHERE status = 'accepted'
           AND category = 'marketing' GROUP BY sender_id, phone HAVING count(*) > 1) x",
    )?;
    let recipient_violations = store.count(
        "SELECT count(*) FROM (SELECT 1 FROM messages WHERE status = 'accepted'
           AND category = 'marketing' GROUP BY phone HAVING count(*) > 3) x",
    )?;
    let accepted = store.count(
        "SELECT count(*) FROM messages WHERE status = 'accepted' AND category = 'marketing'",
    )?;
    Ok(json!({
        "senders": args.cap_senders,
        "phones": args.cap_phones,
        "marketing_accepted": accepted,
        "cap_violations": sender_violations + recipient_violations,
    }))
}

async fn bench(args: &Args) -> Result<Value> {
    let base = Topology::sqlite().await?;
    let key = base.sender("好店").await?;
    let sqlite = recorded_rate(&base, args, &key, 0).await?;
    drop(base);
    let mut rates = Vec::new();
    let mut three = Value::Null;
    for n in 1..=3 {
        let mut t = Topology::postgres(args, n).await?;
        let key = t.sender("好店").await?;
        let rate = recorded_rate(&t, args, &key, 0).await;
        if n == 3 {
            let probes = probes(&t, args, &key).await?;
            let caps = caps(&t, args).await?;
            let victim = t.nodes.pop().context("three nodes")?;
            let mut child = victim.child;
            child.start_kill()?;
            child.wait().await?;
            let takeover = t.wait_owned(2).await?;
            three = json!({
                "probes": probes,
                "caps": caps,
                "takeover_after_kill_9_s": takeover.as_secs_f64(),
                "takeover_in_lease_times": takeover.as_secs_f64() * 1000.0 / args.lease_ms as f64,
            });
            t.drop_schema();
            rates.push((n, rate?));
        } else {
            t.drop_schema();
            rates.push((n, rate?));
        }
    }
    Ok(json!({
        "machine": {"cores": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0)},
        "messages_per_configuration": args.messages,
        "batch": args.batch,
        "clients": args.clients,
        "lease_ms": args.lease_ms,
        "baseline_sqlite_one_node_recorded_per_s": sqlite,
        "postgres_recorded_per_s": rates.iter().map(|(n, r)| json!({"nodes": n, "recorded_per_s": r, "ratio_to_sqlite": r / sqlite})).collect::<Vec<_>>(),
        "three_nodes": three,
    }))
}

pub fn run(args: &Args) -> Result<ExitCode> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let out = rt.block_on(bench(args))?;
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(ExitCode::SUCCESS)
}
