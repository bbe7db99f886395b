//! The audit chain through its real interfaces: the head over HTTP, `consentry audit verify` on
//! the data directory, and a row changed with plain SQL named by the verifier.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod common;

use std::process::Command;

use reqwest::StatusCode;
use serde_json::json;

fn verify(dir: &std::path::Path) -> (Option<i32>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_consentry"))
        .args(["audit", "verify", "--data"])
        .arg(dir)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_names_the_tampered_row_and_the_head_matches_the_api() {
    let srv = common::start("2026-11-11T02:00:00Z").await;
    let (_, key) = srv.shop("好店").await;
    srv.consent(&key, "13800138000", "opt_in", "sender").await;
    srv.consent(&key, "13800138001", "opt_out", "sender").await;
    srv.send(
        &key,
        "13800138000",
        "【好店】双11全场5折，回T退订",
        "marketing",
    )
    .await;
    let (s, head) = srv
        .call(reqwest::Method::GET, "/v1/audit/head", None, None)
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        head["records"],
        json!(8),
        "the admin key; the sender, its key, SMPP and CMPP credentials; two consents; one \
         decision: {head}"
    );
    let hash = head["hash"].as_str().unwrap().to_string();

    let (code, out) = verify(srv.data_dir());
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains(&hash),
        "verify recomputes the head the API published: {out}"
    );

    // The opt-out is quietly rewritten as an opt-in, straight in SQLite.
    let conn = rusqlite::Connection::open(srv.data_dir().join("consentry.db")).unwrap();
    let n = conn
        .execute(
            "UPDATE consent_events SET action = 'opt_in' WHERE action = 'opt_out'",
            [],
        )
        .unwrap();
    assert_eq!(n, 1);
    let (code, out) = verify(srv.data_dir());
    assert_eq!(code, Some(2), "{out}");
    assert!(out.contains("consent_events row 2"), "{out}");
    // Put back, verify is clean again; then a refusal is forged by inserting a row that no
    // block covers (re-digesting the covered rows alone would never see it).
    conn.execute(
        "UPDATE consent_events SET action = 'opt_out' WHERE seq = 2",
        [],
    )
    .unwrap();
    let (code, out) = verify(srv.data_dir());
    assert_eq!(code, Some(0), "{out}");
    conn.execute(
        "INSERT INTO consent_events (phone, seq, scope, sender_id, action, source, evidence, actor, at, recorded_at)
         SELECT phone, 9999, 'platform', NULL, 'opt_out', 'reply', 'T', 'reply', at, recorded_at
         FROM consent_events WHERE seq = 1",
        [],
    )
    .unwrap();
    let (code, out) = verify(srv.data_dir());
    assert_eq!(code, Some(2), "{out}");
    assert!(
        out.contains("consent_events row 9999") && out.contains("in no audit block"),
        "{out}"
    );
}

/// A mistyped `--data` (or an unmounted volume) is an error, not an intact empty chain, and
/// nothing is created there.
#[test]
fn verify_and_head_on_a_directory_without_a_store_fail_and_create_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("not-mounted");
    for what in ["verify", "head"] {
        let out = Command::new(env!("CARGO_BIN_EXE_consentry"))
            .args(["audit", what, "--data"])
            .arg(&missing)
            .output()
            .unwrap();
        assert!(!out.status.success(), "audit {what} passed on nothing");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("no store at"), "{err}");
        assert!(
            !missing.exists(),
            "audit {what} created {}",
            missing.display()
        );
    }
}

fn consentry(args: &[&str], dir: Option<&std::path::Path>) -> (Option<i32>, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_consentry"));
    cmd.args(args);
    if let Some(d) = dir {
        cmd.arg("--data").arg(d);
    }
    let out = cmd.env("RUST_LOG", "warn").output().unwrap();
    (
        out.status.code(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// Issue #14, item 1: after `DELETE FROM audit_blocks` verify said "intact" (an empty chain over
/// full tables), and after a restart and one new event the older, unchained rows went unseen.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_reports_broken_after_audit_blocks_are_deleted_and_after_a_restart_and_new_event() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, base) = common::process::spawn(dir.path(), None).await;
    let http = reqwest::Client::new();
    let admin = common::process::token(dir.path(), "admin.token");
    let shop = common::process::register_sender(&http, &base, &admin, "好店").await;
    let key = shop["api_key"].as_str().unwrap().to_string();
    let post = |body: serde_json::Value| {
        http.post(format!("{base}/v1/consents"))
            .bearer_auth(&key)
            .json(&body)
            .send()
    };
    let r = post(
        json!({"phone": "13800138000", "action": "opt_out", "scope": "sender", "source": "web"}),
    )
    .await
    .unwrap();
    assert!(r.status().is_success(), "{:?}", r.text().await);
    child.kill().await.unwrap();
    let _ = child.wait().await;
    assert_eq!(verify(dir.path()).0, Some(0));

    let conn = rusqlite::Connection::open(dir.path().join("consentry.db")).unwrap();
    conn.execute("DELETE FROM audit_blocks", []).unwrap();
    let (code, out) = verify(dir.path());
    assert_eq!(code, Some(2), "an emptied chain over full tables: {out}");
    assert!(out.contains("in no audit block"), "{out}");

    // A restart begins a new chain; one new event; the older rows are still named.
    let (mut child, base) = common::process::spawn(dir.path(), None).await;
    let r = http
        .post(format!("{base}/v1/consents"))
        .bearer_auth(&key)
        .json(&json!({"phone": "13800138001", "action": "opt_in", "scope": "sender", "source": "web"}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{:?}", r.text().await);
    child.kill().await.unwrap();
    let _ = child.wait().await;
    let (code, out) = verify(dir.path());
    assert_eq!(code, Some(2), "rows left unchained by a new chain: {out}");
    assert!(
        out.contains("senders row 1") || out.contains("consent_events row 1"),
        "{out}"
    );
}

/// Issue #14, "audit anchoring": cutting the end of the chain off together with its rows read as
/// intact; a head published earlier (`--expect`, `--anchors`) now shows it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_with_published_heads_reports_the_end_cut_off() {
    let srv = common::start("2026-11-11T02:00:00Z").await;
    let (_, key) = srv.shop("好店").await;
    srv.consent(&key, "13800138000", "opt_in", "sender").await;
    let (_, early) = srv
        .call(reqwest::Method::GET, "/v1/audit/head", None, None)
        .await;
    srv.consent(&key, "13800138000", "opt_out", "sender").await;
    let (_, late) = srv
        .call(reqwest::Method::GET, "/v1/audit/head", None, None)
        .await;
    let anchors = srv.data_dir().join("anchors.txt");
    std::fs::write(
        &anchors,
        format!(
            "# heads published daily\n{}\n{}:{}\n",
            early,
            late["blocks"],
            late["hash"].as_str().unwrap()
        ),
    )
    .unwrap();
    let (code, out) = consentry(
        &["audit", "verify", "--anchors", anchors.to_str().unwrap()],
        Some(srv.data_dir()),
    );
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("2 anchored head(s)"), "{out}");

    // The opt-out and its block are cut off: the chain is consistent on its own…
    let conn = rusqlite::Connection::open(srv.data_dir().join("consentry.db")).unwrap();
    conn.execute_batch(
        "DELETE FROM consent_events WHERE action = 'opt_out';
         DELETE FROM audit_blocks WHERE seq = (SELECT max(seq) FROM audit_blocks);",
    )
    .unwrap();
    assert_eq!(verify(srv.data_dir()).0, Some(0));
    // …but not what was published.
    let (code, out) = consentry(
        &["audit", "verify", "--anchors", anchors.to_str().unwrap()],
        Some(srv.data_dir()),
    );
    assert_eq!(code, Some(2), "{out}");
    assert!(
        out.contains(late["hash"].as_str().unwrap()) && out.contains("cut off"),
        "{out}"
    );
    let early_hash = early["hash"].as_str().unwrap();
    let (code, out) = consentry(
        &["audit", "verify", "--expect", early_hash],
        Some(srv.data_dir()),
    );
    assert_eq!(code, Some(0), "the earlier head is still there: {out}");
    // A mistyped anchor is an error of its own, not a broken chain.
    let (code, out) = consentry(
        &["audit", "verify", "--expect", "12ab"],
        Some(srv.data_dir()),
    );
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("not a head hash"), "{out}");
}

/// Issue #14, item 3: `senders.suspended` set to 0 in SQLite, then a restart: the suspended
/// sender's marketing was accepted and verify said intact. Suspension is now derived from the
/// chained suspension changes, and the edited column is named by verify.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_suspension_cleared_in_the_database_still_holds_after_a_restart_and_verify_names_it() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, base) = common::process::spawn(dir.path(), None).await;
    let http = reqwest::Client::new();
    let admin = common::process::token(dir.path(), "admin.token");
    let shop = common::process::register_sender(&http, &base, &admin, "好店").await;
    let (id, key) = (
        shop["id"].as_u64().unwrap(),
        shop["api_key"].as_str().unwrap().to_string(),
    );
    let r = http
        .post(format!("{base}/v1/consents"))
        .bearer_auth(&key)
        .json(&json!({"phone": "13800138000", "action": "opt_in", "scope": "sender", "source": "web"}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    let r = http
        .post(format!("{base}/v1/senders/{id}/suspension"))
        .bearer_auth(&admin)
        .json(&json!({"action": "suspend", "reason": "complaints under review"}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{:?}", r.text().await);
    child.kill().await.unwrap();
    let _ = child.wait().await;

    let conn = rusqlite::Connection::open(dir.path().join("consentry.db")).unwrap();
    conn.execute("UPDATE senders SET suspended = 0", [])
        .unwrap();
    let (code, out) = verify(dir.path());
    assert_eq!(code, Some(2), "{out}");
    assert!(out.contains(&format!("senders row {id}")), "{out}");

    let (_child, base) = common::process::spawn(dir.path(), None).await;
    let d: serde_json::Value = http
        .post(format!("{base}/v1/messages"))
        .bearer_auth(&key)
        .json(&json!({"to": "13800138000", "text": "【好店】双11全场5折，回T退订", "category": "marketing"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(d["status"], "rejected", "{d}");
    assert!(d.to_string().contains("sender_suspended"), "{d}");
}
