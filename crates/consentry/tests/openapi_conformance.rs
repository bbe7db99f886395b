//! `/openapi.json` says what the server does (issue #14, item 8): schemathesis (PyPI, installed
//! by `.ci/setup-schemathesis.sh`) generates requests from the document for every operation,
//! valid and invalid, sends them to the real `consentry serve`, and checks every answer against
//! the document with `--checks all`: no 5xx, only documented status codes and content types,
//! bodies that match their schemas, schema-valid requests accepted and schema-violating ones
//! refused, auth enforced. It runs once with a sender's key and once with the admin key.
//!
//! The operations that may refuse a schema-valid request, and why, are in
//! `tests/openapi/schemathesis.toml`. Without schemathesis the test is skipped with a message,
//! unless `CI=true` or `CONSENTRY_REQUIRE_SERVICES=1`, where it fails.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

/// Examples per operation and per phase: bounded so both runs take about two minutes on two
/// shared cores; the seed makes a failure reproducible (`st replay` names the case).
const EXAMPLES: &str = "15";
const SEED: &str = "14";

fn schemathesis() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("SCHEMATHESIS") {
        return Some(PathBuf::from(p));
    }
    let cached = std::env::var_os("HOME")
        .map(|h| PathBuf::from(h).join(".cache/consentry/schemathesis/bin/schemathesis"))
        .filter(|p| p.is_file());
    cached.or_else(|| {
        Command::new("schemathesis")
            .arg("--version")
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|_| PathBuf::from("schemathesis"))
    })
}

fn required() -> bool {
    std::env::var("CI").as_deref() == Ok("true")
        || std::env::var("CONSENTRY_REQUIRE_SERVICES").as_deref() == Ok("1")
}

/// One schemathesis run against `base` with `key`; panics with its report on any failure.
fn run(st: &Path, base: &str, key: &str, who: &str, workdir: &Path) {
    let config = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/openapi/schemathesis.toml");
    let out = Command::new(st)
        .arg("--config-file")
        .arg(&config)
        .args(["run", &format!("{base}/openapi.json")])
        .args(["--checks", "all"])
        .args(["--header", &format!("Authorization: Bearer {key}")])
        .args(["--max-examples", EXAMPLES, "--seed", SEED])
        .args(["--workers", "2", "--no-shrink"])
        .args(["--generation-database", "none"])
        // Its reports and caches go to the temporary directory, not the work tree.
        .current_dir(workdir)
        .env("NO_COLOR", "1")
        .output()
        .expect("run schemathesis");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let summary = stdout
        .lines()
        .rev()
        .find(|l| l.contains(" in ") && l.starts_with('='))
        .unwrap_or("(no summary line)");
    eprintln!("schemathesis with the {who} key: {summary}");
    assert!(
        out.status.success(),
        "schemathesis found the server and /openapi.json disagreeing (with the {who} key):\n\
         {stdout}\n{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemathesis_finds_no_difference_between_the_server_and_its_openapi_document() {
    let Some(st) = schemathesis() else {
        let msg = "schemathesis is not installed: run .ci/setup-schemathesis.sh";
        assert!(
            !required(),
            "CI must run the OpenAPI conformance test: {msg}"
        );
        eprintln!("SKIPPED: {msg}");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (_child, base) = common::process::spawn(&data, None).await;
    let admin = common::process::token(&data, "admin.token");
    let http = reqwest::Client::new();
    let shop = common::process::register_sender(&http, &base, &admin, "schema").await;
    let key = shop["api_key"].as_str().unwrap().to_string();
    // Something to find: a consent and a message, so the reads answer with real bodies.
    let consent = http
        .post(format!("{base}/v1/consents"))
        .bearer_auth(&key)
        .json(
            &serde_json::json!({"phone": "+8613800138000", "action": "opt_in",
            "scope": "sender", "source": "web", "evidence": "form 1"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(consent.status(), 201, "{:?}", consent.text().await);
    let sent = http
        .post(format!("{base}/v1/messages"))
        .bearer_auth(&key)
        .json(
            &serde_json::json!({"to": "+8613800138000", "category": "transactional",
            "text": "【schema】您的订单已发货"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(sent.status(), 200, "{:?}", sent.text().await);

    let work = dir.path().to_path_buf();
    // The sender first: the admin's run rotates keys and suspends senders.
    tokio::task::spawn_blocking(move || {
        run(&st, &base, &key, "sender", &work);
        run(&st, &base, &admin, "admin", &work);
    })
    .await
    .unwrap();
}
