//! Three `consentry serve` processes on one PostgreSQL schema and NATS: every promise of the
//! single node, kept across nodes. Each test has a schema and a NATS subject prefix of its own;
//! without PostgreSQL or NATS the tests say SKIPPED (CI requires both).
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use store::testing::{TestSchema, fresh_schema};
use tokio::process::Child;

const LEASE_MS: u64 = 2000;

/// One cluster at a time: three nodes per test already load both cores, and a starved node
/// lets its leases lapse (correctly answering 503, but not what these tests measure).
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn nats_up() -> bool {
    let up = std::net::TcpStream::connect_timeout(
        &"127.0.0.1:4222".parse().unwrap(),
        Duration::from_secs(1),
    )
    .is_ok();
    if !up {
        assert!(
            !store::testing::services_required(),
            "NATS at 127.0.0.1:4222 is required (CONSENTRY_REQUIRE_SERVICES=1)"
        );
        eprintln!("SKIPPED cluster test (no NATS at 127.0.0.1:4222)");
    }
    up
}

struct Node {
    child: Child,
    base: String,
    smpp: String,
    cmpp: String,
    dir: tempfile::TempDir,
    config: PathBuf,
}

struct Cluster {
    _serial: tokio::sync::MutexGuard<'static, ()>,
    schema: TestSchema,
    nodes: Vec<Node>,
    http: Client,
    admin: String,
    prefix: String,
}

fn write_config(
    dir: &Path,
    schema: &TestSchema,
    node: &str,
    (prefix, nats, extra): (&str, &str, &str),
) -> PathBuf {
    let url = schema.url().replace('\\', "\\\\").replace('"', "\\\"");
    let path = dir.join("node.toml");
    // Quiet hours off, unless `extra` brings its own `[policy]`.
    let policy = if extra.contains("[policy]") {
        ""
    } else {
        "[policy]\nquiet_hours_start = \"00:00\"\nquiet_hours_end = \"00:00\"\n"
    };
    std::fs::write(
        &path,
        format!(
            "[store]\nbackend = \"postgres\"\nurl = \"{url}\"\nmax_connections = 6\n{policy}\
             [cluster]\nnats = \"{nats}\"\nnode = \"{node}\"\npartitions = 16\nlease_ms = {LEASE_MS}\n\
             request_timeout_ms = 5000\nprefix = \"{prefix}\"\n{extra}"
        ),
    )
    .unwrap();
    path
}

impl Cluster {
    /// Three nodes, started one after another; the admin key is the first node's.
    async fn start(label: &str) -> Option<Cluster> {
        if !nats_up() {
            return None;
        }
        Self::start_on(label, "nats://127.0.0.1:4222").await
    }

    /// [`Cluster::start`] on the NATS at `nats`.
    async fn start_on(label: &str, nats: &str) -> Option<Cluster> {
        Self::start_with(label, nats, "").await
    }

    /// [`Cluster::start_on`] with `extra` appended to every node's configuration.
    async fn start_with(label: &str, nats: &str, extra: &str) -> Option<Cluster> {
        let serial = SERIAL.lock().await;
        let schema = fresh_schema(label)?;
        // The schema's name is unique per test and process: so is the subject prefix, so
        // clusters of tests running at once never answer each other's requests.
        let prefix = schema.name.clone();
        let mut nodes = Vec::new();
        for name in ["a", "b", "c"] {
            nodes.push(start_node(&schema, name, (&prefix, nats, extra)).await);
        }
        let admin = common::process::token(nodes[0].dir.path(), "admin.token");
        let c = Cluster {
            _serial: serial,
            schema,
            nodes,
            http: Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .unwrap(),
            admin,
            prefix,
        };
        c.wait_owned_by(&["a", "b", "c"]).await;
        Some(c)
    }

    async fn status(&self) -> Value {
        let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_consentry"))
            .args(["cluster", "status", "--config"])
            .arg(&self.nodes[0].config)
            .arg("--data")
            .arg(self.nodes[0].dir.path())
            .output()
            .await
            .unwrap();
        serde_json::from_slice(&out.stdout).unwrap_or(Value::Null)
    }

    /// Waits until the nodes named own every partition between them, each some.
    async fn wait_owned_by(&self, names: &[&str]) -> Duration {
        let t0 = Instant::now();
        loop {
            let s = self.status().await;
            let leases = s["leases"].as_array().cloned().unwrap_or_default();
            let by_them = |l: &Value| {
                l["expires_in_ms"].as_i64().unwrap_or(-1) >= 0
                    && names.iter().any(|n| l["owner"] == *n)
            };
            let each = names
                .iter()
                .all(|n| leases.iter().any(|l| by_them(l) && l["owner"] == *n));
            if !leases.is_empty() && leases.iter().all(by_them) && each {
                return t0.elapsed();
            }
            assert!(t0.elapsed() < Duration::from_secs(30), "not balanced: {s}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn post(&self, node: usize, path: &str, key: &str, body: Value) -> (StatusCode, Value) {
        let r = self
            .http
            .post(format!("{}{path}", self.nodes[node].base))
            .bearer_auth(key)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    async fn sender(&self, node: usize, name: &str) -> String {
        let v =
            common::process::register_sender(&self.http, &self.nodes[node].base, &self.admin, name)
                .await;
        v["api_key"].as_str().unwrap().to_string()
    }
}

async fn start_node(schema: &TestSchema, name: &str, how: (&str, &str, &str)) -> Node {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), schema, name, how);
    let (child, base, smpp, cmpp) =
        common::process::spawn_with_smpp_and_cmpp(dir.path(), Some(&config)).await;
    Node {
        child,
        base,
        smpp,
        cmpp,
        dir,
        config,
    }
}

fn marketing(to: &str) -> Value {
    json!({"to": to, "text": "【好店】双11全场5折，回T退订", "category": "marketing"})
}

fn consent(phone: &str, action: &str) -> Value {
    json!({"phone": phone, "action": action, "scope": "sender", "source": "web", "evidence": "order page"})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_opt_out_through_one_node_is_enforced_by_every_node_before_it_is_acknowledged() {
    let Some(c) = Cluster::start("cl_optout").await else {
        return;
    };
    let key = c.sender(0, "好店").await;
    let mut refused = 0;
    let mut latencies = Vec::new();
    for i in 0..500u32 {
        let phone = format!("139{i:08}");
        let (s, _) = c
            .post(2, "/v1/consents", &key, consent(&phone, "opt_in"))
            .await;
        assert_eq!(s, StatusCode::CREATED);
        let (s, _) = c
            .post(0, "/v1/consents", &key, consent(&phone, "opt_out"))
            .await;
        assert_eq!(s, StatusCode::CREATED, "opt-out acknowledged through a");
        let t = Instant::now();
        let (s, v) = c.post(1, "/v1/messages", &key, marketing(&phone)).await;
        latencies.push(t.elapsed());
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(
            v["status"], "rejected",
            "marketing through b after an opt-out through a: {v}"
        );
        refused += 1;
    }
    // Nothing reached a handset.
    for i in (0..500u32).step_by(25) {
        let phone = format!("139{i:08}");
        let inbox = common::process::get_json(
            &c.http,
            &format!("{}/v1/phones/{phone}/inbox", c.nodes[2].base),
            &c.admin,
        )
        .await;
        assert_eq!(
            inbox["messages"].as_array().map_or(0, Vec::len),
            0,
            "{inbox}"
        );
    }
    // Each node's health names the partitions it serves; together, all of them, once.
    let mut parts = Vec::new();
    for n in &c.nodes {
        let h = common::process::get_json(&c.http, &format!("{}/healthz", n.base), "").await;
        parts.extend(h["partitions"].as_array().cloned().unwrap_or_default());
    }
    parts.sort_by_key(|p| p.as_u64());
    assert_eq!(parts, (0..16u64).map(Value::from).collect::<Vec<_>>());
    latencies.sort_unstable();
    eprintln!(
        "500 probes through another node: {refused} refused; next marketing p50 {:?} p99 {:?}",
        latencies[250], latencies[495]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_suspension_through_one_node_is_honoured_by_the_others_when_the_call_returns() {
    let Some(c) = Cluster::start("cl_suspend").await else {
        return;
    };
    let key = c.sender(0, "坏店").await;
    let phones: Vec<String> = (0..40u32).map(|i| format!("137{i:08}")).collect();
    for p in &phones {
        c.post(1, "/v1/consents", &key, consent(p, "opt_in")).await;
    }
    let r = c
        .http
        .post(format!("{}/v1/senders/1/suspension", c.nodes[0].base))
        .bearer_auth(&c.admin)
        .json(&json!({"action": "suspend", "reason": "complaints"}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{:?}", r.text().await);
    for (i, p) in phones.iter().enumerate() {
        let (s, v) = c.post(1 + i % 2, "/v1/messages", &key, marketing(p)).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(v["status"], "rejected", "{v}");
        assert!(v.to_string().contains("sender_suspended"), "{v}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn caps_are_exact_across_nodes() {
    let Some(c) = Cluster::start("cl_caps").await else {
        return;
    };
    let mut keys = Vec::new();
    for s in 0..6 {
        keys.push(c.sender(s % 3, &format!("店{s}")).await);
    }
    let phones: Vec<String> = (0..120u32).map(|i| format!("136{i:08}")).collect();
    for k in &keys {
        let to: Vec<Value> = phones.iter().map(|p| json!(p)).collect();
        for chunk in to.chunks(40) {
            for p in chunk {
                c.post(0, "/v1/consents", k, consent(p.as_str().unwrap(), "opt_in"))
                    .await;
            }
        }
    }
    // Every sender tries each phone twice, through two different nodes at once.
    let mut tasks = Vec::new();
    for (s, k) in keys.iter().enumerate() {
        for round in 0..2usize {
            let (http, base, k, phones) = (
                c.http.clone(),
                c.nodes[(s + round) % 3].base.clone(),
                k.clone(),
                phones.clone(),
            );
            tasks.push(tokio::spawn(async move {
                // A part whose owner was unreachable (a lease lapsing on a starved machine) is
                // answered 503 with its recipients' results null: resend those, as a client would.
                let mut to = phones;
                for _ in 0..20 {
                    let r = http
                        .post(format!("{base}/v1/messages/batch"))
                        .bearer_auth(&k)
                        .json(&json!({"to": to, "text": format!("【店{s}】双11全场5折，回T退订"), "category": "marketing"}))
                        .send()
                        .await
                        .unwrap();
                    let status = r.status();
                    let v: Value = r.json().await.unwrap();
                    if status == StatusCode::OK {
                        return;
                    }
                    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{v}");
                    let results = v["results"].as_array().cloned().unwrap_or_default();
                    to = to
                        .into_iter()
                        .zip(results)
                        .filter(|(_, r)| r.is_null())
                        .map(|(t, _)| t)
                        .collect();
                    tokio::time::sleep(Duration::from_millis(300)).await;
                }
                panic!("partitions stayed unavailable");
            }));
        }
    }
    for t in tasks {
        t.await.unwrap();
    }
    // Counted in SQL, not by the nodes: at most one per sender and phone per day (default
    // sender cap), at most three per phone per day (the cross-sender cap).
    let pg = store::postgres::PgStore::connect(&c.schema.opts).unwrap();
    let check = |sql: &str| pg.execute_batch(sql);
    check(
        "DO $$ BEGIN IF EXISTS (SELECT 1 FROM messages WHERE status = 'accepted' AND category = 'marketing'
           GROUP BY sender_id, phone HAVING count(*) > 1) THEN RAISE EXCEPTION 'sender cap violated'; END IF;
         IF EXISTS (SELECT 1 FROM messages WHERE status = 'accepted' AND category = 'marketing'
           GROUP BY phone HAVING count(*) > 3) THEN RAISE EXCEPTION 'recipient cap violated'; END IF;
         IF (SELECT count(*) FROM messages WHERE status = 'accepted') <> 360 THEN
           RAISE EXCEPTION 'expected 3 accepted per phone, got %', (SELECT count(*) FROM messages WHERE status = 'accepted');
         END IF; END $$",
    )
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_of_an_owner_moves_its_partitions_within_two_leases_and_loses_nothing() {
    let Some(mut c) = Cluster::start("cl_kill").await else {
        return;
    };
    let key = c.sender(0, "好店").await;
    let phones: Vec<String> = (0..300u32).map(|i| format!("135{i:08}")).collect();
    for p in &phones {
        c.post(1, "/v1/consents", &key, consent(p, "opt_in")).await;
    }
    // Opt-outs through a while c dies.
    let victim = c.nodes.pop().unwrap();
    let optouts = {
        let (http, base, key, phones) = (
            c.http.clone(),
            c.nodes[0].base.clone(),
            key.clone(),
            phones.clone(),
        );
        tokio::spawn(async move {
            let mut acked = Vec::new();
            for p in phones.iter().step_by(2) {
                let r = http
                    .post(format!("{base}/v1/consents"))
                    .bearer_auth(&key)
                    .json(&consent(p, "opt_out"))
                    .send()
                    .await;
                if let Ok(r) = r
                    && r.status() == StatusCode::CREATED
                {
                    acked.push(p.clone());
                }
            }
            acked
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut child = victim.child;
    child.start_kill().unwrap();
    child.wait().await.unwrap();
    let killed = Instant::now();
    c.wait_owned_by(&["a", "b"]).await;
    let takeover = killed.elapsed();
    let acked = optouts.await.unwrap();
    assert!(
        takeover <= Duration::from_millis(2 * LEASE_MS + 1500),
        "takeover took {takeover:?}"
    );
    // Every acknowledged opt-out holds on the survivors; every other phone still gets marketing.
    let mut accepted = 0;
    for p in &phones {
        let (s, v) = c.post(1, "/v1/messages", &key, marketing(p)).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        if acked.contains(p) {
            assert_eq!(
                v["status"], "rejected",
                "after an acknowledged opt-out: {v}"
            );
        } else if v["status"] == "accepted" {
            accepted += 1;
        }
    }
    assert!(accepted > 0);
    eprintln!(
        "{} opt-outs acknowledged around kill -9; partitions served again after {takeover:?}",
        acked.len()
    );
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_consentry"))
        .args(["audit", "verify", "--config"])
        .arg(&c.nodes[0].config)
        .arg("--data")
        .arg(c.nodes[0].dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    drop(victim.dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paused_owner_acts_for_nothing_after_its_lease_and_the_others_take_over() {
    let Some(c) = Cluster::start("cl_pause").await else {
        return;
    };
    let key = c.sender(0, "好店").await;
    let pid = c.nodes[2].child.id().unwrap();
    let stop = |sig: &str| {
        std::process::Command::new("kill")
            .args([sig, &pid.to_string()])
            .status()
            .unwrap();
    };
    stop("-STOP");
    c.wait_owned_by(&["a", "b"]).await;
    let phones: Vec<String> = (0..60u32).map(|i| format!("134{i:08}")).collect();
    for p in &phones {
        let (s, v) = c.post(0, "/v1/consents", &key, consent(p, "opt_in")).await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        let (s, v) = c.post(1, "/v1/consents", &key, consent(p, "opt_out")).await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
    }
    stop("-CONT");
    // The zombie believed it owned a third of the phones. Whatever it answers now, it is
    // either forwarded to the owners or refused: never an acceptance of refused marketing.
    for p in &phones {
        let (s, v) = c.post(2, "/v1/messages", &key, marketing(p)).await;
        if s == StatusCode::OK {
            assert_eq!(v["status"], "rejected", "{v}");
        } else {
            assert_eq!(v["error"]["code"], "partition_unavailable", "{v}");
        }
    }
    c.wait_owned_by(&["a", "b", "c"]).await;
    for p in &phones {
        let (s, v) = c.post(2, "/v1/messages", &key, marketing(p)).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(v["status"], "rejected", "{v}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_node_with_a_live_name_and_an_unreachable_nats_refuse_to_start() {
    let Some(c) = Cluster::start("cl_names").await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(
        dir.path(),
        &c.schema,
        "a",
        (&c.prefix, "nats://127.0.0.1:4222", ""),
    );
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_consentry"))
        .args([
            "serve",
            "--http",
            "127.0.0.1:0",
            "--smpp",
            "127.0.0.1:0",
            "--config",
        ])
        .arg(&cfg)
        .arg("--data")
        .arg(dir.path())
        .output()
        .await
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("node name \"a\" is in use"), "{err}");

    let cfg = write_config(
        dir.path(),
        &c.schema,
        "d",
        (&c.prefix, "nats://127.0.0.1:1", ""),
    );
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_consentry"))
        .args([
            "serve",
            "--http",
            "127.0.0.1:0",
            "--smpp",
            "127.0.0.1:0",
            "--config",
        ])
        .arg(&cfg)
        .arg("--data")
        .arg(dir.path())
        .output()
        .await
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    let line = err
        .lines()
        .find(|l| l.starts_with("error:"))
        .unwrap_or_default();
    assert!(
        line.contains("[cluster] nats") && line.contains("127.0.0.1:1"),
        "{err}"
    );
    // A bulk import past the running owners would be on record but not enforced: refused.
    let csv = dir.path().join("consents.csv");
    std::fs::write(
        &csv,
        "phone,action,scope,sender_id,source,evidence,at\n\
         13800138000,opt_out,platform,,web,form,2026-11-11T10:00:00Z\n",
    )
    .unwrap();
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_consentry"))
        .args(["import", "consents"])
        .arg(&csv)
        .arg("--config")
        .arg(&c.nodes[0].config)
        .arg("--data")
        .arg(dir.path())
        .output()
        .await
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{err}");
    assert!(err.contains("are running"), "{err}");
    let _ = c.nodes.len();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_nats_restart_fails_closed_and_recovers_without_restarting_consentry() {
    if !nats_up() {
        return;
    }
    let server = std::path::Path::new("/usr/sbin/nats-server");
    if !server.exists() {
        assert!(
            !store::testing::services_required(),
            "nats-server is required"
        );
        eprintln!("SKIPPED NATS restart (no /usr/sbin/nats-server)");
        return;
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    /// A private NATS server, stopped (and reaped) when dropped.
    struct Nats(std::process::Child);
    impl Drop for Nats {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let start_nats = || {
        let child = std::process::Command::new(server)
            .args(["-a", "127.0.0.1", "-p", &port.to_string()])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Nats(child)
    };
    let nats = start_nats();
    let Some(c) = Cluster::start_on("cl_nats", &format!("nats://127.0.0.1:{port}")).await else {
        return;
    };
    let key = c.sender(0, "好店").await;
    let (refused, willing) = ("13300000001", "13300000002");
    for p in [refused, willing] {
        let (s, _) = c.post(0, "/v1/consents", &key, consent(p, "opt_in")).await;
        assert_eq!(s, StatusCode::CREATED);
    }
    let (s, _) = c
        .post(1, "/v1/consents", &key, consent(refused, "opt_out"))
        .await;
    assert_eq!(s, StatusCode::CREATED);

    drop(nats);
    // Past two lease times nobody trusts a lease any more: every node answers 503 for every
    // phone, and never accepts marketing to the phone that refused.
    tokio::time::sleep(Duration::from_millis(2 * LEASE_MS + 500)).await;
    for node in 0..3 {
        for p in [refused, willing] {
            let (s, v) = c.post(node, "/v1/messages", &key, marketing(p)).await;
            assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE, "node {node}, {p}: {v}");
            assert_eq!(v["error"]["code"], "partition_unavailable", "{v}");
        }
    }

    let nats = start_nats();
    c.wait_owned_by(&["a", "b", "c"]).await;
    for node in 0..3 {
        let (s, v) = c.post(node, "/v1/messages", &key, marketing(refused)).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(v["status"], "rejected", "{v}");
    }
    let (s, v) = c.post(2, "/v1/messages", &key, marketing(willing)).await;
    assert_eq!(
        (s, v["status"].as_str()),
        (StatusCode::OK, Some("accepted")),
        "{v}"
    );
    drop(c);
    drop(nats);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_one_click_link_works_through_any_node() {
    let Some(c) = Cluster::start("cl_links").await else {
        return;
    };
    let key = c.sender(0, "好店").await;
    // One phone per node that might own it; every link is clicked through every node.
    let phones: Vec<String> = (0..6u32).map(|i| format!("132{i:08}")).collect();
    for (i, p) in phones.iter().enumerate() {
        c.post(i % 3, "/v1/consents", &key, consent(p, "opt_in"))
            .await;
        let (s, v) = c
            .post(
                (i + 1) % 3,
                "/v1/messages",
                &key,
                json!({"to": p, "text": "【好店】双11全场5折 {unsubscribe} 回T退订", "category": "marketing"}),
            )
            .await;
        assert_eq!(
            (s, v["status"].as_str()),
            (StatusCode::OK, Some("accepted")),
            "{v}"
        );
    }
    for (i, p) in phones.iter().enumerate() {
        // The handset's copy carries the link (inbox reads the shared store).
        let inbox = common::process::get_json(
            &c.http,
            &format!("{}/v1/phones/{p}/inbox", c.nodes[0].base),
            &c.admin,
        )
        .await;
        let text = inbox["messages"][0]["text"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let at = text.find("/u/").expect("a link in the text");
        let token = &text[at + 3..at + 3 + 22];
        let via = &c.nodes[(i + 2) % 3].base;
        let page = c.http.get(format!("{via}/u/{token}")).send().await.unwrap();
        assert_eq!(page.status(), StatusCode::OK);
        assert!(
            page.headers()[reqwest::header::CONTENT_TYPE]
                .to_str()
                .unwrap()
                .starts_with("text/html")
        );
        let done = c
            .http
            .post(format!("{via}/u/{token}"))
            .send()
            .await
            .unwrap();
        assert_eq!(done.status(), StatusCode::OK, "{:?}", done.text().await);
        for n in 0..3 {
            let (s, v) = c.post(n, "/v1/messages", &key, marketing(p)).await;
            assert_eq!(
                (s, v["status"].as_str()),
                (StatusCode::OK, Some("rejected")),
                "{v}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_consumer_proves_their_number_and_refuses_through_different_nodes() {
    let Some(c) = Cluster::start("cl_portal").await else {
        return;
    };
    let key = c.sender(0, "好店").await;
    for (i, phone) in ["13100000001", "13100000002", "13100000003"]
        .iter()
        .enumerate()
    {
        c.post(i % 3, "/v1/consents", &key, consent(phone, "opt_in"))
            .await;
        // The code is asked through one node, the session through the next, the choice through
        // the third: each goes to the phone's owner, which holds the code and the session.
        let (s, v) = c
            .post(i % 3, "/v1/portal/code", "", json!({"phone": phone}))
            .await;
        assert_eq!(s, StatusCode::ACCEPTED, "{v}");
        // The owner's dispatcher hands the code to the loopback handset a moment later (under
        // load, more than a moment): wait for it. Read through node 0, which routes the inbox
        // to the owner, whose memory holds the code in clear (the message log masks it).
        let mut text = None;
        for _ in 0..100 {
            let inbox = common::process::get_json(
                &c.http,
                &format!("{}/v1/phones/{phone}/inbox", c.nodes[0].base),
                &c.admin,
            )
            .await;
            text = inbox["messages"]
                .as_array()
                .unwrap()
                .iter()
                .rev()
                .find(|m| m["category"] == "verification")
                .and_then(|m| m["text"].as_str())
                .map(str::to_string);
            if text.is_some() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        let text = text.unwrap_or_else(|| panic!("no verification SMS for {phone}"));
        let code = text
            .split(|ch: char| !ch.is_ascii_digit())
            .find(|w| w.len() == 6)
            .unwrap_or_else(|| panic!("no code in {text:?}"))
            .to_string();
        let (s, v) = c
            .post(
                (i + 1) % 3,
                "/v1/portal/session",
                "",
                json!({"phone": phone, "code": code}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        let token = v["token"].as_str().unwrap().to_string();
        let via = &c.nodes[(i + 2) % 3].base;
        let r = c
            .http
            .get(format!("{via}/v1/portal/consents"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let r = c
            .http
            .post(format!("{via}/v1/portal/consents"))
            .bearer_auth(&token)
            .json(&json!({"action": "opt_out"}))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{:?}", r.text().await);
        for n in 0..3 {
            let (s, v) = c.post(n, "/v1/messages", &key, marketing(phone)).await;
            assert_eq!(
                (s, v["status"].as_str()),
                (StatusCode::OK, Some("rejected")),
                "{v}"
            );
        }
    }
}

/// The newest portal code the loopback handset of `phone` received, read through node 0 (which
/// routes the inbox to the owner, whose memory holds the code in clear).
async fn portal_code(c: &Cluster, phone: &str) -> String {
    for _ in 0..100 {
        let inbox = common::process::get_json(
            &c.http,
            &format!("{}/v1/phones/{phone}/inbox", c.nodes[0].base),
            &c.admin,
        )
        .await;
        let text = inbox["messages"]
            .as_array()
            .unwrap()
            .iter()
            .rev()
            .find(|m| m["category"] == "verification")
            .and_then(|m| m["text"].as_str())
            .map(str::to_string);
        if let Some(code) = text.as_deref().and_then(|t| {
            t.split(|ch: char| !ch.is_ascii_digit())
                .find(|w| w.len() == 6)
                .map(str::to_string)
        }) {
            return code;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("no verification SMS for {phone}");
}

/// One page of the portal as a browser without script gets it: cookies kept by hand.
async fn portal_page(
    c: &Cluster,
    node: usize,
    jar: &mut std::collections::BTreeMap<String, String>,
    path: &str,
    form: Option<&[(&str, &str)]>,
) -> (StatusCode, Option<String>, String) {
    let http = Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let url = format!("{}{path}", c.nodes[node].base);
    let mut req = match form {
        Some(fields) => {
            let body: Vec<String> = fields
                .iter()
                .map(|(k, v)| format!("{k}={}", v.replace('+', "%2B")))
                .collect();
            http.post(url)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body.join("&"))
        }
        None => http.get(url),
    };
    if !jar.is_empty() {
        let cookies: Vec<String> = jar.iter().map(|(k, v)| format!("{k}={v}")).collect();
        req = req.header("cookie", cookies.join("; "));
    }
    let r = req.send().await.unwrap();
    for set in r.headers().get_all("set-cookie") {
        let set = set.to_str().unwrap();
        let (kv, attrs) = set.split_once(';').unwrap_or((set, ""));
        let (k, v) = kv.split_once('=').unwrap();
        if attrs.contains("Max-Age=0") {
            jar.remove(k);
        } else {
            jar.insert(k.to_string(), v.to_string());
        }
    }
    let status = r.status();
    let location = r
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_string());
    (status, location, r.text().await.unwrap())
}

/// The first CSRF token of a page's forms.
fn page_csrf(html: &str) -> String {
    let (_, rest) = html
        .split_once(r#"name="csrf" value=""#)
        .unwrap_or_else(|| panic!("no csrf field in:\n{html}"));
    rest.split('"').next().unwrap().to_string()
}

/// The portal's pages (no script, cookies) through three nodes: the number form on one, the
/// code on the next, the choice on the third. The owner holds the code and the session; the
/// cookies travel to it and its `Set-Cookie` and redirects travel back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_consumer_signs_in_to_the_portal_pages_and_refuses_through_different_nodes() {
    let Some(c) = Cluster::start("cl_portal_pages").await else {
        return;
    };
    let key = c.sender(0, "好店").await;
    for (i, phone) in ["13100000004", "13100000005", "13100000006"]
        .iter()
        .enumerate()
    {
        c.post(i % 3, "/v1/consents", &key, consent(phone, "opt_in"))
            .await;
        let mut jar = std::collections::BTreeMap::new();
        let (s, _, html) = portal_page(&c, i % 3, &mut jar, "/portal", None).await;
        assert_eq!(s, StatusCode::OK);
        let csrf = page_csrf(&html);
        let (s, to, html) = portal_page(
            &c,
            i % 3,
            &mut jar,
            "/portal/code",
            Some(&[("csrf", &csrf), ("phone", phone)]),
        )
        .await;
        assert_eq!(s, StatusCode::SEE_OTHER, "{html}");
        let to = to.expect("a redirect to the code form");
        let code = portal_code(&c, phone).await;
        let next = (i + 1) % 3;
        let (s, _, html) = portal_page(&c, next, &mut jar, &to, None).await;
        assert_eq!(s, StatusCode::OK);
        let csrf = page_csrf(&html);
        let (s, _, html) = portal_page(
            &c,
            next,
            &mut jar,
            "/portal/session",
            Some(&[("csrf", &csrf), ("phone", phone), ("code", &code)]),
        )
        .await;
        assert_eq!(s, StatusCode::SEE_OTHER, "{html}");
        assert!(
            jar.get("cp_session")
                .is_some_and(|t| t.starts_with("cs_consumer_p")),
            "the owner's session cookie came back: {jar:?}"
        );
        let last = (i + 2) % 3;
        let (s, _, html) = portal_page(&c, last, &mut jar, "/portal", None).await;
        assert_eq!(s, StatusCode::OK);
        assert!(html.contains(">已同意<"), "{html}");
        let csrf = page_csrf(&html);
        let (s, to, html) = portal_page(
            &c,
            last,
            &mut jar,
            "/portal/consents",
            Some(&[("csrf", &csrf), ("action", "opt_out")]),
        )
        .await;
        assert_eq!(s, StatusCode::SEE_OTHER, "{html}");
        assert_eq!(to.as_deref(), Some("/portal?done=refused_all"));
        for n in 0..3 {
            let (s, v) = c.post(n, "/v1/messages", &key, marketing(phone)).await;
            assert_eq!(
                (s, v["status"].as_str()),
                (StatusCode::OK, Some("rejected")),
                "{v}"
            );
        }
    }
}

/// Stops or starts the machine's PostgreSQL (CI runs as root on a machine whose services are
/// its own); `false` when this machine has no cluster to control that way.
fn postgres(action: &str) -> bool {
    let Ok(versions) = std::fs::read_dir("/etc/postgresql") else {
        return false;
    };
    let Some(version) = versions
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .next()
    else {
        return false;
    };
    std::process::Command::new("pg_ctlcluster")
        .args([
            "--skip-systemctl-redirect",
            &version,
            "main",
            action,
            "-m",
            "fast",
        ])
        .status()
        .is_ok_and(|s| s.success())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgres_restart_mid_campaign_fails_closed_and_recovers_without_restarting_consentry() {
    let Some(c) = Cluster::start("cl_pgrestart").await else {
        return;
    };
    let key = c.sender(0, "好店").await;
    let (refused, willing) = ("13000000001", "13000000002");
    for p in [refused, willing] {
        c.post(0, "/v1/consents", &key, consent(p, "opt_in")).await;
    }
    let (s, _) = c
        .post(1, "/v1/consents", &key, consent(refused, "opt_out"))
        .await;
    assert_eq!(s, StatusCode::CREATED);
    // A campaign runs through b while the database restarts.
    let campaign = {
        let (http, base, key) = (c.http.clone(), c.nodes[1].base.clone(), key.clone());
        tokio::spawn(async move {
            let (mut ok, mut unavailable) = (0, 0);
            for b in 0..40u64 {
                let to: Vec<String> = (0..50).map(|i| format!("131{:08}", b * 50 + i)).collect();
                let r = http
                    .post(format!("{base}/v1/messages/batch"))
                    .bearer_auth(&key)
                    .json(&json!({"to": to, "text": "【好店】您的订单已发货", "category": "transactional"}))
                    .send()
                    .await;
                match r.map(|r| r.status()) {
                    Ok(StatusCode::OK) => ok += 1,
                    Ok(StatusCode::SERVICE_UNAVAILABLE) => unavailable += 1,
                    other => panic!("neither a decision nor 503: {other:?}"),
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            (ok, unavailable)
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    if !postgres("stop") {
        assert!(
            !store::testing::services_required(),
            "CI must be able to restart PostgreSQL (pg_ctlcluster)"
        );
        eprintln!("SKIPPED PostgreSQL restart (no pg_ctlcluster cluster here)");
        return;
    }
    // While it is down nothing is acknowledged: every node answers 503, for marketing and for
    // an opt-out alike (an opt-out not acknowledged is retried by the carrier).
    let mut down = Vec::new();
    for n in 0..3 {
        let (s, v) = c.post(n, "/v1/messages", &key, marketing(willing)).await;
        down.push((s, v["error"]["code"].clone()));
        let (s, v) = c
            .post(n, "/v1/consents", &key, consent(willing, "opt_out"))
            .await;
        down.push((s, v["error"]["code"].clone()));
    }
    let started = postgres("start");
    assert!(started, "PostgreSQL started again");
    for (s, code) in &down {
        assert_eq!(*s, StatusCode::SERVICE_UNAVAILABLE, "{code}");
        assert!(
            code == "storage_unavailable" || code == "partition_unavailable",
            "{code}"
        );
    }
    let (ok, unavailable) = campaign.await.unwrap();
    eprintln!("during the restart: {ok} batches decided, {unavailable} answered 503");
    // Without restarting any node: leases are claimed again and every promise holds.
    c.wait_owned_by(&["a", "b", "c"]).await;
    let mut answered = false;
    for _ in 0..50 {
        let (s, v) = c.post(2, "/v1/messages", &key, marketing(refused)).await;
        if s == StatusCode::OK {
            assert_eq!(v["status"], "rejected", "{v}");
            answered = true;
            break;
        }
        assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE, "{v}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(answered, "the nodes recovered after the restart");
    for n in 0..3 {
        let (s, v) = c.post(n, "/v1/messages", &key, marketing(refused)).await;
        assert_eq!(
            (s, v["status"].as_str()),
            (StatusCode::OK, Some("rejected")),
            "{v}"
        );
    }
    let (s, v) = c.post(0, "/v1/messages", &key, marketing(willing)).await;
    assert_eq!(
        (s, v["status"].as_str()),
        (StatusCode::OK, Some("accepted")),
        "{v}"
    );
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_consentry"))
        .args(["audit", "verify", "--config"])
        .arg(&c.nodes[0].config)
        .arg("--data")
        .arg(c.nodes[0].dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

/// Reads the next PDU from an SMPP connection.
async fn next_pdu(
    stream: &mut tokio::net::TcpStream,
    decoder: &mut smpp_proto::Decoder,
) -> smpp_proto::Pdu {
    use tokio::io::AsyncReadExt;
    let mut buf = [0u8; 4096];
    loop {
        if let Some(p) = decoder.next_pdu().expect("valid PDU") {
            return p;
        }
        let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buf))
            .await
            .expect("a PDU within 10 s")
            .expect("read");
        assert!(n > 0, "the node closed the SMPP connection");
        decoder.extend(&buf[..n]);
    }
}

/// Registers a merchant on node 1, records consent for the first 20 of 24 phones (prefix
/// `prefix`, one in every partition) on node 2, binds the merchant to node 0 over SMPP and
/// submits marketing to all 24 asking for receipts. Returns the accepted message ids, how
/// many were refused, and the ids of the DELIVRD receipts that reached the bind — it waits
/// until every accepted message has one (the test's timeout says when one never comes).
async fn submit_through_one_bind(c: &Cluster, prefix: &str) -> (Vec<String>, usize, Vec<String>) {
    use smpp_proto::{
        Address, Bind, BindMode, Body, CommandStatus, Pdu, Receipt, ShortMessage, SmResp,
    };
    use tokio::io::AsyncWriteExt;
    let created =
        common::process::register_sender(&c.http, &c.nodes[1].base, &c.admin, "好店").await;
    let key = created["api_key"].as_str().unwrap();
    // Phones in every partition: most are owned by the other two nodes.
    let phones: Vec<String> = (0..24u32).map(|i| format!("{prefix}{i:08}")).collect();
    for p in &phones[..20] {
        let (s, v) = c.post(2, "/v1/consents", key, consent(p, "opt_in")).await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
    }
    let mut stream = tokio::net::TcpStream::connect(&c.nodes[0].smpp)
        .await
        .unwrap();
    let mut decoder = smpp_proto::Decoder::new();
    let bind = Pdu::request(
        1,
        Body::Bind(Bind::new(
            BindMode::Transceiver,
            created["smpp_system_id"].as_str().unwrap(),
            created["smpp_password"].as_str().unwrap(),
        )),
    );
    stream.write_all(&bind.encode().unwrap()).await.unwrap();
    let resp = next_pdu(&mut stream, &mut decoder).await;
    assert_eq!(resp.command_status, CommandStatus::ROK, "{resp:?}");
    let (data_coding, short_message) =
        smpp_proto::text::encode_text("【好店】双11全场5折，回T退订");
    for (i, p) in phones.iter().enumerate() {
        let submit = Pdu::request(
            10 + u32::try_from(i).unwrap(),
            Body::SubmitSm(ShortMessage {
                destination: Address::international(&format!("86{p}")),
                registered_delivery: 1,
                data_coding,
                short_message: short_message.clone(),
                ..ShortMessage::default()
            }),
        );
        stream.write_all(&submit.encode().unwrap()).await.unwrap();
    }
    // Every submit_sm is answered: accepted where there is consent, refused where there is
    // none (decided by the phone's owner either way); every accepted one gets its receipt here,
    // from whichever node delivered it.
    let (mut accepted, mut refused, mut receipts) = (Vec::new(), 0, Vec::new());
    while accepted.len() + refused < phones.len() || receipts.len() < accepted.len() {
        let p = next_pdu(&mut stream, &mut decoder).await;
        match p.body {
            Body::SubmitSmResp(r) if p.command_status == CommandStatus::ROK => {
                accepted.push(r.message_id);
            }
            Body::SubmitSmResp(_) => {
                assert!(
                    p.sequence_number >= 30,
                    "a phone with consent refused: {p:?}"
                );
                refused += 1;
            }
            Body::DeliverSm(sm) => {
                let r = Receipt::from_deliver_sm(&sm).expect("a receipt");
                if r.state == Some(smpp_proto::MessageState::Delivered) {
                    receipts.push(r.id);
                }
                let ack = Pdu::response(
                    p.sequence_number,
                    CommandStatus::ROK,
                    Body::DeliverSmResp(SmResp::default()),
                );
                stream.write_all(&ack.encode().unwrap()).await.unwrap();
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    // The other nodes decided most of them: they are in the shared ledger with their ids.
    for id in &accepted {
        let m = common::process::get_json(
            &c.http,
            &format!("{}/v1/messages/{id}", c.nodes[2].base),
            key,
        )
        .await;
        assert_eq!(m["status"], "accepted", "{m}");
    }
    accepted.sort();
    receipts.sort();
    (accepted, refused, receipts)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_merchant_bound_to_one_node_submits_for_every_phone_and_gets_every_receipt() {
    let Some(c) = Cluster::start("cl_smpp").await else {
        return;
    };
    let (accepted, refused, receipts) = submit_through_one_bind(&c, "137").await;
    assert_eq!((accepted.len(), refused), (20, 4));
    assert_eq!(
        receipts, accepted,
        "one DELIVRD receipt per accepted message"
    );
}

/// #10: a carrier may send a receipt on any of its client's binds. Each node binds to the
/// SMSC; it sends every receipt on the last bind, so most reach a node that neither decided
/// the message nor keeps the merchant's receipt request. Before, that node updated delivery
/// but the merchant's SMPP receipt was lost; now the report goes to the node keeping the
/// request, which sends it to the merchant's bind (on a third node, here node 0).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receipt_a_carrier_sends_on_another_nodes_bind_reaches_the_merchant() {
    if !nats_up() || !common::smsc::npm_smpp_installed() {
        return;
    }
    use tokio::io::AsyncWriteExt;
    let mut smsc = common::smsc::Smsc::start().await;
    smsc.stdin.write_all(b"RECEIPTS LAST\n").await.unwrap();
    let carrier = format!(
        "[[carrier]]\nname = \"npm\"\nkind = \"smpp\"\nhost = \"127.0.0.1\"\nport = {}\n\
         system_id = \"consentry\"\npassword = \"secret\"\nmax_tps = 0\nreconnect_max_secs = 1\n\
         receipt_id_base = \"hex_to_decimal\"\n",
        smsc.port
    );
    let Some(c) = Cluster::start_with("cl_dlr", "nats://127.0.0.1:4222", &carrier).await else {
        return;
    };
    let (accepted, refused, receipts) = submit_through_one_bind(&c, "139").await;
    assert_eq!((accepted.len(), refused), (20, 4));
    assert_eq!(
        receipts, accepted,
        "one DELIVRD receipt per accepted message, whichever node the SMSC sent it to"
    );
}

/// What a merchant's CMPP link was delivered.
#[derive(Default)]
struct CmppInbox {
    reports: parking_lot::Mutex<Vec<cmpp_proto::StatusReport>>,
}

impl cmpp::DeliverHandler for CmppInbox {
    fn on_report(&self, r: &cmpp_proto::StatusReport) -> Result<(), String> {
        self.reports.lock().push(r.clone());
        Ok(())
    }
    fn on_mo(&self, _mo: &cmpp::MobileOriginated) -> Result<(), String> {
        Ok(())
    }
}

/// A CMPP 3.0 link for `created` (a registered sender's answer) to node `node`'s listener,
/// connected, with the inbox its DELIVERs land in.
async fn cmpp_link(
    c: &Cluster,
    node: usize,
    created: &Value,
) -> (cmpp::CmppClient, std::sync::Arc<CmppInbox>) {
    let inbox = std::sync::Arc::new(CmppInbox::default());
    let link = cmpp::CmppClient::start(
        cmpp::ClientConfig {
            addr: c.nodes[node].cmpp.clone(),
            source_addr: created["cmpp_source_addr"].as_str().unwrap().into(),
            shared_secret: created["cmpp_secret"].as_str().unwrap().into(),
            version: cmpp_proto::Version::V30,
            src_id: created["source_number"].as_str().unwrap().into(),
            response_timeout: Duration::from_secs(10),
            ..cmpp::ClientConfig::default()
        },
        inbox.clone(),
    );
    assert!(link.connected(Duration::from_secs(10)).await.is_some());
    (link, inbox)
}

/// How many of the sender's messages (`key`) node `node` lists with `status` (the list's
/// `null` reads as a count no assertion expects).
async fn messages_with_status(c: &Cluster, node: usize, key: &str, status: &str) -> usize {
    let list = common::process::get_json(
        &c.http,
        &format!("{}/v1/messages?status={status}", c.nodes[node].base),
        key,
    )
    .await;
    list["messages"].as_array().map_or(usize::MAX, Vec::len)
}

/// #10/#13: a merchant's CMPP software connected to one node submits for phones in every
/// partition. Each SUBMIT is decided and recorded by its phone's owner (before, the listener
/// answered Result 9 for every phone another node owns), answered with the owner's verdict,
/// and every accepted one gets its DELIVRD report on the merchant's link, from whichever node
/// delivered it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cmpp_merchant_connected_to_one_node_submits_for_every_phone_and_gets_every_report() {
    let Some(c) = Cluster::start("cl_cmpp").await else {
        return;
    };
    let created =
        common::process::register_sender(&c.http, &c.nodes[1].base, &c.admin, "好店").await;
    let key = created["api_key"].as_str().unwrap();
    let phones: Vec<String> = (0..24u32).map(|i| format!("135{i:08}")).collect();
    for p in &phones[..20] {
        let (s, v) = c.post(2, "/v1/consents", key, consent(p, "opt_in")).await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
    }
    let (link, inbox) = cmpp_link(&c, 0, &created).await;
    let answers = futures_util::future::join_all(phones.iter().map(|p| {
        let out = cmpp::Outgoing {
            destination: p.clone(),
            text: "【好店】双11全场5折，回T退订".into(),
            extension: String::new(),
            report: true,
        };
        let link = &link;
        async move { link.submit(&out).await.expect("answered") }
    }))
    .await;
    let mut accepted = Vec::new();
    for (p, parts) in phones.iter().zip(&answers) {
        assert_eq!(parts.len(), 1);
        let with_consent = phones[..20].contains(p);
        assert_eq!(
            parts[0].result,
            if with_consent { 0 } else { 101 },
            "{p}: decided by its owner"
        );
        if with_consent {
            accepted.push(parts[0].msg_id);
        }
    }
    accepted.sort_unstable();
    let mut delivered = Vec::new();
    for _ in 0..200 {
        delivered = inbox
            .reports
            .lock()
            .iter()
            .filter(|r| r.stat == "DELIVRD")
            .map(|r| r.msg_id)
            .collect();
        delivered.sort_unstable();
        if delivered.len() >= accepted.len() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        delivered, accepted,
        "one DELIVRD report per accepted SUBMIT"
    );
    // The owners recorded them: 20 accepted marketing messages in the shared ledger.
    assert_eq!(messages_with_status(&c, 2, key, "accepted").await, 20);
    link.shutdown();
}

/// A held message is withdrawn through any node (issue #13): `POST /v1/messages/{id}/cancel`
/// and a CMPP CANCEL reach the owner of the message's phone, which holds it; nothing is sent
/// at the release, and a second withdrawal is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_held_message_is_withdrawn_through_any_node_over_http_and_cmpp() {
    let quiet = common::cmpp_raw::quiet_now_config();
    let Some(c) = Cluster::start_with("cl_cancel", "nats://127.0.0.1:4222", &quiet).await else {
        return;
    };
    if !nats_up() {
        return;
    }
    let created =
        common::process::register_sender(&c.http, &c.nodes[0].base, &c.admin, "好店").await;
    let key = created["api_key"].as_str().unwrap();
    let phones: Vec<String> = (0..16u32).map(|i| format!("136{i:08}")).collect();
    for p in &phones {
        let (s, v) = c.post(1, "/v1/consents", key, consent(p, "opt_in")).await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
    }
    // Over HTTP through node a, withdrawn through node b (the owners are spread over a, b, c).
    let mut ids = Vec::new();
    for p in &phones[..8] {
        let (s, v) = c.post(0, "/v1/messages", key, marketing(p)).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(v["status"], "deferred", "{v}");
        ids.push(v["id"].as_u64().unwrap());
    }
    for id in &ids {
        let (s, v) = c
            .post(1, &format!("/v1/messages/{id}/cancel"), key, json!({}))
            .await;
        assert_eq!(s, StatusCode::OK, "message {id}: {v}");
        assert_eq!(v["reasons"][0]["code"], "cancelled", "{v}");
        let (s, v) = c
            .post(2, &format!("/v1/messages/{id}/cancel"), key, json!({}))
            .await;
        assert_eq!(s, StatusCode::CONFLICT, "withdrawn once: {v}");
    }
    // Over CMPP through node c, each SUBMIT's Msg_Id cancelled on the same node's listener.
    let secret = created["cmpp_secret"].as_str().unwrap();
    let source_addr = created["cmpp_source_addr"].as_str().unwrap();
    let (link, _inbox) = cmpp_link(&c, 2, &created).await;
    let mut msg_ids = Vec::new();
    for p in &phones[8..] {
        let out = cmpp::Outgoing {
            destination: p.clone(),
            text: "【好店】双11全场5折，回T退订".into(),
            extension: String::new(),
            report: false,
        };
        let parts = link.submit(&out).await.expect("answered");
        assert_eq!(parts[0].result, 0, "{p}: held, not refused");
        msg_ids.push(parts[0].msg_id);
    }
    let mut raw =
        common::cmpp_raw::RawSession::connect(&c.nodes[2].cmpp, source_addr, secret).await;
    for m in &msg_ids {
        assert_eq!(raw.cancel(*m).await, 0, "Msg_Id {m} withdrawn on its owner");
        assert_eq!(raw.cancel(*m).await, 1, "Msg_Id {m} withdrawn once");
    }
    link.shutdown();
    // Every message of the campaign is withdrawn in the shared ledger; none is held.
    assert_eq!(messages_with_status(&c, 0, key, "deferred").await, 0);
    assert_eq!(messages_with_status(&c, 1, key, "rejected").await, 16);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_reaching_any_nodes_carrier_link_is_enforced_by_the_phones_owner() {
    if !nats_up() || !common::smsc::npm_smpp_installed() {
        return;
    }
    use tokio::io::AsyncWriteExt;
    // Every node binds to the one SMSC; it delivers handsets' replies on the last bind, so most
    // of them reach a node that does not own the phone.
    let mut smsc = common::smsc::Smsc::start().await;
    let carrier = format!(
        "[[carrier]]\nname = \"npm\"\nkind = \"smpp\"\nhost = \"127.0.0.1\"\nport = {}\n\
         system_id = \"consentry\"\npassword = \"secret\"\nmax_tps = 0\nreconnect_max_secs = 1\n\
         receipt_id_base = \"hex_to_decimal\"\n",
        smsc.port
    );
    let Some(c) = Cluster::start_with("cl_mo", "nats://127.0.0.1:4222", &carrier).await else {
        return;
    };
    let created =
        common::process::register_sender(&c.http, &c.nodes[0].base, &c.admin, "好店").await;
    let key = created["api_key"].as_str().unwrap();
    let source = created["source_number"].as_str().unwrap();
    let phones: Vec<String> = (0..16u32).map(|i| format!("136{i:08}")).collect();
    for p in &phones {
        let (s, v) = c.post(1, "/v1/consents", key, consent(p, "opt_in")).await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
    }
    for p in &phones {
        smsc.stdin
            .write_all(format!("MO 86{p} {source} TD\n").as_bytes())
            .await
            .unwrap();
    }
    // Every phone, whichever node owns it, ends opted out; marketing through any node is
    // refused afterwards.
    for p in &phones {
        let mut state = Value::Null;
        for _ in 0..200 {
            let v = common::process::get_json(
                &c.http,
                &format!("{}/v1/consents/{p}", c.nodes[2].base),
                key,
            )
            .await;
            state = v["senders"][0]["state"].clone();
            if state == "opted_out" {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(state, "opted_out", "the TD from {p} reached its owner");
        let (s, v) = c.post(0, "/v1/messages", key, marketing(p)).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(v["status"], "rejected", "{v}");
    }
}

/// Posts `body` to `url` until it is answered with something other than 503 (a partition
/// between owners, or a lease that lapsed under load: nothing was done, the caller retries),
/// for at most 8 s (four lease times).
async fn post_settled(http: &Client, url: &str, key: &str, body: &Value) -> (StatusCode, Value) {
    let mut last = Value::Null;
    for _ in 0..80 {
        let r = http
            .post(url)
            .bearer_auth(key)
            .json(body)
            .send()
            .await
            .unwrap();
        let status = r.status();
        let v: Value = r.json().await.unwrap_or(Value::Null);
        if status != StatusCode::SERVICE_UNAVAILABLE {
            return (status, v);
        }
        last = v;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{url}: 503 for 8 s, the last: {last}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_100k_campaign_through_two_nodes_while_opt_outs_go_through_the_third() {
    const PHONES: u32 = 100_000;
    const BATCH: u32 = 1_000;
    let Some(c) = Cluster::start("cl_campaign").await else {
        return;
    };
    let key = c.sender(0, "好店").await;
    let phone = |i: u32| format!("135{i:08}");
    // One recipient in five agreed, through any node; the campaign goes to all of them (the
    // others are refused for want of consent, every decision recorded).
    let t0 = Instant::now();
    let mut set = tokio::task::JoinSet::new();
    let workers = 12u32;
    for w in 0..workers {
        let (http, key) = (c.http.clone(), key.clone());
        let bases: Vec<String> = c.nodes.iter().map(|n| n.base.clone()).collect();
        set.spawn(async move {
            let mut i = w * 5;
            while i < PHONES {
                let url = format!("{}/v1/consents", bases[(i % 3) as usize]);
                let (s, v) = post_settled(&http, &url, &key, &consent(&phone(i), "opt_in")).await;
                assert_eq!(s, StatusCode::CREATED, "{v}");
                i += workers * 5;
            }
        });
    }
    while let Some(r) = set.join_next().await {
        r.unwrap();
    }
    let consents = t0.elapsed();
    // The campaign through b and c; meanwhile every 50th recipient refuses through a.
    let t1 = Instant::now();
    let campaign = {
        let (http, key) = (c.http.clone(), key.clone());
        let bases = [c.nodes[1].base.clone(), c.nodes[2].base.clone()];
        tokio::spawn(async move {
            let mut accepted = 0u64;
            for b in 0..PHONES / BATCH {
                let to: Vec<String> = (b * BATCH..(b + 1) * BATCH).map(phone).collect();
                let url = format!("{}/v1/messages/batch", bases[(b % 2) as usize]);
                let body = json!({"to": to, "text": "【好店】双11全场5折，回T退订", "category": "marketing"});
                let (s, v) = post_settled(&http, &url, &key, &body).await;
                assert_eq!(s, StatusCode::OK, "{v}");
                accepted += v["results"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|r| r["status"] == "accepted")
                    .count() as u64;
            }
            accepted
        })
    };
    let refusals = {
        let (http, key, base) = (c.http.clone(), key.clone(), c.nodes[0].base.clone());
        tokio::spawn(async move {
            let mut n = 0u32;
            for i in (0..PHONES).step_by(50) {
                let url = format!("{base}/v1/consents");
                let (s, v) = post_settled(&http, &url, &key, &consent(&phone(i), "opt_out")).await;
                assert_eq!(s, StatusCode::CREATED, "{v}");
                n += 1;
            }
            n
        })
    };
    let accepted = campaign.await.unwrap();
    let refused = refusals.await.unwrap();
    let campaign_time = t1.elapsed();
    // What the shared ledger says: every decision recorded; no marketing decided or delivered
    // to a phone after its refusal was recorded.
    let pg = store::Store::open_postgres(&c.schema.opts).unwrap();
    let store::Store::Postgres(pg) = &pg else {
        unreachable!()
    };
    let count = |sql: &str| pg.count(sql).unwrap();
    assert_eq!(
        count("SELECT count(*) FROM messages WHERE sender_id <> 0"),
        i64::from(PHONES)
    );
    assert_eq!(
        count(
            "SELECT count(*) FROM messages m JOIN consent_events e
               ON e.phone = m.phone AND e.action = 'opt_out'
             WHERE m.category = 'marketing' AND m.decided_at > e.recorded_at
               AND coalesce(m.current_status, m.status) = 'accepted'"
        ),
        0,
        "marketing accepted after a refusal"
    );
    assert_eq!(
        count(
            "SELECT count(*) FROM messages m JOIN consent_events e
               ON e.phone = m.phone AND e.action = 'opt_out'
             WHERE m.category = 'marketing' AND m.delivery = 'delivered'
               AND m.delivery_at > e.recorded_at"
        ),
        0,
        "marketing delivered after a refusal"
    );
    assert!(
        (u64::from(PHONES / 5 - refused)..=u64::from(PHONES / 5)).contains(&accepted),
        "{accepted} accepted"
    );
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_consentry"))
        .args(["audit", "verify", "--config"])
        .arg(&c.nodes[0].config)
        .arg("--data")
        .arg(c.nodes[0].dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    eprintln!(
        "100k campaign: {} opt-ins in {consents:?}; {accepted} accepted, {refused} refusals \
         racing it, in {campaign_time:?}",
        PHONES / 5
    );
}
