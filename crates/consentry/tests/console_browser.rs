//! The web console in a real browser: `tests/browser/console.mjs` drives Debian's Chromium
//! (headless, through npm `playwright-core`) against the real `consentry serve`, with the
//! operator created by `consentry admin create`. Flows: operator (sign in, create a sender,
//! rotate its key, find a message by phone and open its decision, the consent timeline,
//! suspend and lift, audit verify, the language switch — all with JavaScript off), complaint
//! (open one from the queue, download its evidence bundle, the per-sender report and its CSV),
//! merchant
//! (set up with its API key, only its own messages, another's id is 404), a form without its
//! CSRF token (403), ten wrong passwords (429), a consumer in the portal on a 375 px phone with
//! JavaScript off (a code, in Chinese; states in words; refusing one shop and its history;
//! reporting a message it received; the switch to English). Screenshots go to
//! `<target>/tmp/console-screenshots/`.
//!
//! Skips, saying so, when node, Chromium or playwright-core is missing (`.ci/setup-browser.sh`
//! installs them) — unless `CONSENTRY_REQUIRE_SERVICES=1`, as in CI, where it fails instead.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::process;

const PASSWORD: &str = "operator console password";

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// What is missing to run a browser, if anything.
fn missing() -> Option<String> {
    let node = Command::new("node").arg("--version").output();
    if !node.is_ok_and(|o| o.status.success()) {
        return Some("node".into());
    }
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    if !Path::new(&chromium).exists() {
        return Some(format!("chromium ({chromium})"));
    }
    let pw = repo().join("tests/browser/node_modules/playwright-core/package.json");
    if !pw.exists() {
        return Some("npm playwright-core in tests/browser/node_modules".into());
    }
    None
}

fn admin_create(data: &Path, name: &str, role: &str, password: &str) -> std::process::Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_consentry"))
        .args(["admin", "create", name, "--role", role, "--data"])
        .arg(data)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start consentry admin create");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{password}\n").as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_works_in_a_real_browser() {
    if let Some(what) = missing() {
        if std::env::var("CONSENTRY_REQUIRE_SERVICES").is_ok_and(|v| v == "1") {
            panic!("{what} is required for the browser tests (run .ci/setup-browser.sh)");
        }
        eprintln!(
            "SKIPPED the_console_works_in_a_real_browser: {what} is missing (run .ci/setup-browser.sh)"
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");

    // The CLI: an operator, and a refusal of a too-short password and a taken name.
    let out = admin_create(&data, "li.wei", "operator", PASSWORD);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("created operator account"));
    let out = admin_create(&data, "short", "operator", "short");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("10–200 characters"));
    let out = admin_create(&data, "li.wei", "auditor", PASSWORD);
    assert!(!out.status.success(), "a taken name");

    let (mut child, base) = process::spawn(&data, None).await;
    let admin = process::token(&data, "admin.token");
    let http = reqwest::Client::new();
    let beta = process::register_sender(&http, &base, &admin, "Beta").await;
    let gamma = process::register_sender(&http, &base, &admin, "Gamma").await;
    let mut ids = Vec::new();
    for (shop, key) in [("Beta", &beta["api_key"]), ("Gamma", &gamma["api_key"])] {
        let v: serde_json::Value = http
            .post(format!("{base}/v1/messages"))
            .bearer_auth(key.as_str().unwrap())
            .json(&serde_json::json!({"to": "13900139000", "text": format!("【{shop}】您的订单已发货"), "category": "transactional"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        ids.push(v["id"].as_u64().expect("a message id").to_string());
    }

    // The phone the operator will look up refused all marketing earlier: its timeline has an
    // event, and the message's decision a reason that names it.
    let s = http
        .post(format!("{base}/v1/consents"))
        .bearer_auth(&admin)
        .json(
            &serde_json::json!({"phone": "13800138001", "action": "opt_out", "scope": "platform",
            "source": "web", "evidence": "全部退订 (refuse all) on the order page"}),
        )
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(s, reqwest::StatusCode::CREATED);

    // The consumer of the portal flow agreed to Gamma's marketing on its order page.
    let s = http
        .post(format!("{base}/v1/consents"))
        .bearer_auth(gamma["api_key"].as_str().unwrap())
        .json(
            &serde_json::json!({"phone": "13700137000", "action": "opt_in", "scope": "sender",
            "source": "web", "evidence": "order 88 checkbox"}),
        )
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(s, reqwest::StatusCode::CREATED);

    // Gamma's message reaches the portal flow's consumer, who will report it; a complaint
    // about Beta's message waits in the operator's queue. Both must have left consentry.
    let to_consumer: serde_json::Value = http
        .post(format!("{base}/v1/messages"))
        .bearer_auth(gamma["api_key"].as_str().unwrap())
        .json(&serde_json::json!({"to": "13700137000", "text": "【Gamma】您的订单已发货", "category": "transactional"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for (phone, id) in [
        ("13700137000", &to_consumer["id"]),
        (
            "13900139000",
            &serde_json::json!(ids[0].parse::<u64>().unwrap()),
        ),
    ] {
        let mut arrived = false;
        for _ in 0..100 {
            let inbox: serde_json::Value = http
                .get(format!("{base}/v1/phones/{phone}/inbox"))
                .bearer_auth(&admin)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            if inbox["messages"]
                .as_array()
                .is_some_and(|m| m.iter().any(|m| &m["id"] == id))
            {
                arrived = true;
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert!(arrived, "message {id} reached {phone}");
    }
    let complaint: serde_json::Value = http
        .post(format!("{base}/v1/complaints"))
        .bearer_auth(&admin)
        .json(&serde_json::json!({"phone": "13900139000", "message_id": ids[0].parse::<u64>().unwrap(),
            "kind": "unwanted_marketing", "note": "not an order of mine"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let complaint = complaint["complaint"]["id"]
        .as_u64()
        .unwrap_or_else(|| panic!("a complaint id: {complaint}"));

    let shots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("console-screenshots");
    let out = tokio::process::Command::new("node")
        .arg(repo().join("tests/browser/console.mjs"))
        .env("BASE", &base)
        .env("OPERATOR", "li.wei")
        .env("PASSWORD", PASSWORD)
        .env("MERCHANT_KEY", beta["api_key"].as_str().unwrap())
        .env("OWN_MESSAGE", &ids[0])
        .env("FOREIGN_MESSAGE", &ids[1])
        .env("SHOTS", &shots)
        .env("ADMIN", &admin)
        .env("CONSUMER", "13700137000")
        .env("COMPLAINT", complaint.to_string())
        .output()
        .await
        .expect("run node");
    let stdout = String::from_utf8_lossy(&out.stdout);
    println!("{stdout}");
    eprintln!("{}", String::from_utf8_lossy(&out.stderr));
    let _ = child.kill().await;
    assert!(out.status.success(), "browser flows failed:\n{stdout}");
    for flow in [
        "operator",
        "complaint",
        "merchant",
        "csrf",
        "rate-limit",
        "consumer",
    ] {
        assert!(
            stdout.contains(&format!("ok {flow}\n")),
            "{flow} did not pass:\n{stdout}"
        );
    }
    println!("screenshots in {}", shots.display());
}
