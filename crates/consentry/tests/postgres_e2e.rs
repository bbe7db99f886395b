//! The real `consentry` binary on PostgreSQL: serve, kill -9, restart; migrate; audit verify;
//! start-up errors that name the key and the address. Each test has a schema of its own on the
//! machine's server (`store::testing`); without a server they say SKIPPED, and fail under
//! `CONSENTRY_REQUIRE_SERVICES=1` (CI).
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod common;

use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use store::testing::{TestSchema, fresh_schema};

fn config_for(dir: &Path, schema: &TestSchema) -> std::path::PathBuf {
    let path = dir.join("pg.toml");
    let url = schema.url().replace('\\', "\\\\").replace('"', "\\\"");
    std::fs::write(
        &path,
        format!("[store]\nbackend = \"postgres\"\nurl = \"{url}\"\nmax_connections = 4\n"),
    )
    .unwrap();
    path
}

fn consentry(args: &[&str], config: &Path, data: &Path) -> (Option<i32>, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_consentry"))
        .args(args)
        .arg("--config")
        .arg(config)
        .arg("--data")
        .arg(data)
        .env("RUST_LOG", "warn")
        .env_remove("CONSENTRY_STORE_URL")
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opt_outs_acknowledged_on_postgres_survive_kill_9_and_block_marketing() {
    let Some(schema) = fresh_schema("pg_kill9") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let cfg = config_for(dir.path(), &schema);
    let (mut child, base) = common::process::spawn(dir.path(), Some(&cfg)).await;
    let admin = common::process::token(dir.path(), "admin.token");
    let http = Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let shop = common::process::register_sender(&http, &base, &admin, "好店").await;
    let key = shop["api_key"].as_str().unwrap().to_string();
    assert_eq!(
        shop["source_number"].as_str().map(str::len),
        Some("10690000123450001".len()),
        "{shop}"
    );

    // Consent first, so that marketing is accepted until the refusal.
    let phones: Vec<String> = (0..400u64).map(|i| format!("139{i:08}")).collect();
    for p in &phones {
        let r = http
            .post(format!("{base}/v1/consents"))
            .bearer_auth(&key)
            .json(&json!({"phone": p, "action": "opt_in", "scope": "sender", "source": "web", "evidence": "order page"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::CREATED);
    }
    // Opt-outs as the carrier would post them, while the process is killed.
    let carrier = common::process::token(dir.path(), "carrier.token");
    let number = shop["source_number"].as_str().unwrap().to_string();
    let acked: Arc<Mutex<Vec<String>>> = Arc::default();
    let replies = {
        let (http, base, acked, phones) = (
            http.clone(),
            base.clone(),
            Arc::clone(&acked),
            phones.clone(),
        );
        tokio::spawn(async move {
            for p in phones {
                let body = json!({"from": p, "to": number, "text": "TD"});
                let Ok(r) = http
                    .post(format!("{base}/v1/inbound"))
                    .bearer_auth(&carrier)
                    .json(&body)
                    .send()
                    .await
                else {
                    return;
                };
                if !r.status().is_success() {
                    return;
                }
                acked.lock().unwrap().push(p);
            }
        })
    };
    tokio::time::sleep(Duration::from_millis(700)).await;
    child.start_kill().unwrap();
    child.wait().await.unwrap();
    let _ = replies.await;
    let acked = acked.lock().unwrap().clone();
    assert!(
        !acked.is_empty(),
        "some opt-outs were acknowledged before the kill"
    );

    let (_child, base) = common::process::spawn(dir.path(), Some(&cfg)).await;
    for p in &acked {
        let v = common::process::get_json(&http, &format!("{base}/v1/consents/{p}"), &admin).await;
        assert_eq!(v["senders"][0]["state"], "opted_out", "{p}: {v}");
        let r: Value = http
            .post(format!("{base}/v1/messages"))
            .bearer_auth(&key)
            .json(
                &json!({"to": p, "text": "【好店】双11全场5折，回T退订", "category": "marketing"}),
            )
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(
            r["status"], "rejected",
            "marketing after an acknowledged opt-out: {r}"
        );
    }
    // A phone that never refused still gets marketing: the refusals above are not a blanket.
    if let Some(p) = phones.iter().rev().find(|p| !acked.contains(p)) {
        let r: Value = http
            .post(format!("{base}/v1/messages"))
            .bearer_auth(&key)
            .json(
                &json!({"to": p, "text": "【好店】双11全场5折，回T退订", "category": "marketing"}),
            )
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_ne!(r["status"], "rejected", "{r}");
    }
    eprintln!(
        "{} opt-outs acknowledged before kill -9, all enforced after restart",
        acked.len()
    );

    // The chain written by the process verifies from the CLI.
    let (code, out, err) = consentry(&["audit", "verify"], &cfg, dir.path());
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(out.contains("audit chain intact"), "{out}");
}

#[test]
fn migrate_creates_the_schema_once_and_refuses_a_newer_one() {
    let Some(schema) = fresh_schema("pg_migrate") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let cfg = config_for(dir.path(), &schema);
    let (code, out, err) = consentry(&["migrate"], &cfg, dir.path());
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(out.contains("applied migrations [1, 2, 3]"), "{out}");
    let (code, out, _) = consentry(&["migrate"], &cfg, dir.path());
    assert_eq!(code, Some(0));
    assert!(out.contains("is up to date"), "{out}");

    // A later consentry migrated this database: this one must not write to it.
    let pg = store::postgres::PgStore::connect(&schema.opts).unwrap();
    pg.execute_batch("INSERT INTO schema_migrations (version) VALUES (99)")
        .unwrap();
    let (code, out, err) = consentry(&["audit", "verify"], &cfg, dir.path());
    assert_ne!(code, Some(0), "{out}");
    assert!(
        err.contains("version 99") && err.contains(&format!("{}", store::postgres::SCHEMA_VERSION)),
        "names both versions: {err}"
    );
}

#[test]
fn an_unreachable_database_stops_start_up_naming_the_key_and_the_address() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("bad.toml");
    std::fs::write(
        &cfg,
        "[store]\nbackend = \"postgres\"\nurl = \"postgres://postgres@127.0.0.1:1/nowhere\"\n",
    )
    .unwrap();
    let (code, out, err) = consentry(&["serve", "--http", "127.0.0.1:0"], &cfg, dir.path());
    assert_ne!(code, Some(0), "{out}");
    let first = err
        .lines()
        .find(|l| l.starts_with("error:"))
        .unwrap_or_default();
    assert!(
        first.contains("[store] url") && first.contains("127.0.0.1:1"),
        "one line naming the key and the address: {err}"
    );

    std::fs::write(
        &cfg,
        "[store]\nbackend = \"postgres\"\nurl = \"postgres://[oops\"\n",
    )
    .unwrap();
    let (code, _, err) = consentry(&["migrate"], &cfg, dir.path());
    assert_ne!(code, Some(0));
    assert!(err.contains("[store] url"), "{err}");

    std::fs::write(&cfg, "[store]\nbackend = \"postgres\"\n").unwrap();
    let (code, _, err) = consentry(&["migrate"], &cfg, dir.path());
    assert_ne!(code, Some(0));
    assert!(err.contains("CONSENTRY_STORE_URL"), "{err}");
}
