//! What operators see: /metrics with HELP lines and reasons, log lines without colour codes
//! when redirected, and JSON log lines (issue #14, item 10).
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod common;

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};

use reqwest::StatusCode;

/// Issue #14, item 10: /metrics had no HELP lines and no counters per decision reason.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_have_help_lines_and_count_decisions_by_reason() {
    let srv = common::start("2026-11-11T02:00:00Z").await;
    let (_, key) = srv.shop("好店").await;
    let d = srv
        .send(
            &key,
            "13800138000",
            "【好店】双11全场5折，回T退订",
            "marketing",
        )
        .await;
    assert_eq!(d["status"], "rejected", "no consent: {d}");
    let (s, text) = srv.call(reqwest::Method::GET, "/metrics", None, None).await;
    assert_eq!(s, StatusCode::OK);
    let text = text.as_str().unwrap();
    assert!(text.contains("# HELP consentry_decisions_total "), "{text}");
    assert!(
        text.contains("# HELP consentry_decision_reasons_total "),
        "{text}"
    );
    assert!(
        text.contains("consentry_decision_reasons_total{reason=\"no_consent\"}"),
        "{text}"
    );
}

/// Runs `consentry serve` with stderr redirected to a pipe (not a terminal) until it listens;
/// returns what it logged.
fn serve_logs(extra: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_consentry"))
        .args(extra)
        .args([
            "serve",
            "--http",
            "127.0.0.1:0",
            "--smpp",
            "127.0.0.1:0",
            "--data",
        ])
        .arg(dir.path())
        .env("RUST_LOG", "info")
        .env_remove("NO_COLOR")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = BufReader::new(child.stdout.take().unwrap());
    for line in stdout.lines() {
        if line.unwrap().starts_with("consentry listening on") {
            break;
        }
    }
    child.kill().unwrap();
    let _ = child.wait();
    let mut logs = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut logs)
        .unwrap();
    logs
}

/// Issue #14, item 10: logs redirected to a file carried ANSI colour codes; there was no JSON
/// log option.
#[test]
fn logs_have_no_colour_codes_when_redirected_and_json_on_request() {
    let text = serve_logs(&[]);
    assert!(text.contains("ledger loaded"), "{text}");
    assert!(
        !text.contains('\u{1b}'),
        "colour codes in a redirected log: {text:?}"
    );

    let json = serve_logs(&["--log-format", "json"]);
    let lines: Vec<&str> = json.lines().filter(|l| !l.trim().is_empty()).collect();
    assert!(!lines.is_empty(), "{json}");
    for line in lines {
        let v: serde_json::Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("not a JSON log line ({e}): {line}"));
        assert!(
            v["level"].is_string() && v["timestamp"].is_string(),
            "{line}"
        );
    }
    assert!(json.contains("ledger loaded"), "{json}");
}
