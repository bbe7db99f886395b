//! Limits on what unauthenticated clients can hold, through the real binary: HTTP header, body
//! and idle timeouts and the connection cap (issue #14, item 5).
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod common;

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const CONFIG: &str =
    "[http]\nheader_timeout_secs = 1\nbody_timeout_secs = 1\nmax_connections = 4\n";

async fn start() -> (tempfile::TempDir, tokio::process::Child, String) {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("limits.toml");
    std::fs::write(&config, CONFIG).unwrap();
    let data = dir.path().join("data");
    let (child, base) = common::process::spawn(&data, Some(&config)).await;
    let addr = base.trim_start_matches("http://").to_string();
    (dir, child, addr)
}

/// Reads until the server closes the connection (or 5 s pass); returns what it sent and
/// whether it closed.
async fn until_closed(s: &mut TcpStream) -> (String, bool) {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, s.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return (String::from_utf8_lossy(&out).into(), true),
            Ok(Ok(n)) => out.extend_from_slice(&buf[..n]),
            Err(_) => return (String::from_utf8_lossy(&out).into(), false),
        }
    }
}

/// Issue #14, item 5: silent, half-header, half-body and kept-alive idle connections stayed
/// open forever.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_half_header_half_body_and_idle_connections_are_closed() {
    let (_dir, _child, addr) = start().await;

    let mut silent = TcpStream::connect(&addr).await.unwrap();
    let (_, closed) = until_closed(&mut silent).await;
    assert!(closed, "a silent connection stays open");

    let mut half = TcpStream::connect(&addr).await.unwrap();
    half.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let (_, closed) = until_closed(&mut half).await;
    assert!(closed, "a half-sent header keeps the connection");

    let mut body = TcpStream::connect(&addr).await.unwrap();
    body.write_all(
        b"POST /v1/consents HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"phone\":",
    )
    .await
    .unwrap();
    let (answer, closed) = until_closed(&mut body).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("body_timeout"), "{answer}");
    assert!(closed, "{answer}");

    let mut idle = TcpStream::connect(&addr).await.unwrap();
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let (answer, closed) = until_closed(&mut idle).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(closed, "an idle kept-alive connection stays open: {answer}");
}

/// Issue #14, item 5: 1,100 idle connections exhausted the descriptors. Past `max_connections`
/// the server stops accepting (new connections wait in the backlog) until a slot frees.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_past_the_cap_wait_until_a_slot_frees() {
    let (_dir, _child, addr) = start().await;
    let mut held = Vec::new();
    for _ in 0..4 {
        held.push(TcpStream::connect(&addr).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let began = Instant::now();
    let mut next = TcpStream::connect(&addr).await.unwrap();
    next.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let (answer, _) = until_closed(&mut next).await;
    let waited = began.elapsed();
    assert!(
        answer.starts_with("HTTP/1.1 200"),
        "served once a slot freed: {answer}"
    );
    assert!(
        waited >= Duration::from_millis(600),
        "served at once although 4 connections held every slot ({waited:?})"
    );
}
