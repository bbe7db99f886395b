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
        json!(4),
        "sender, two consents, one decision: {head}"
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
