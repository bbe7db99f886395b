//! kill -9 the real gateway mid-traffic; after a restart, nothing it acknowledged is lost.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod common;

use std::sync::Arc;
use std::time::Duration;

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

/// What the server acknowledged before it died.
#[derive(Default)]
struct Acked {
    consents: std::sync::Mutex<Vec<(String, u64)>>,
    messages: std::sync::Mutex<Vec<(u64, String)>>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_events_and_decisions_survive_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, base) = common::process::spawn(dir.path(), None).await;
    let admin = common::process::token(dir.path(), "admin.token");
    let http = Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let v = common::process::register_sender(&http, &base, &admin, "好店").await;
    let key = v["api_key"].as_str().unwrap().to_string();
    let acked = Arc::new(Acked::default());

    // Opt-outs, one request at a time, as replies would arrive.
    let consents = {
        let (http, base, key, acked) =
            (http.clone(), base.clone(), key.clone(), Arc::clone(&acked));
        tokio::spawn(async move {
            for i in 0..100_000u64 {
                let phone = format!("139{i:08}");
                let body = json!({"phone": phone, "action": "opt_out", "scope": "sender", "source": "reply", "evidence": "TD"});
                let Ok(resp) = http
                    .post(format!("{base}/v1/consents"))
                    .bearer_auth(&key)
                    .json(&body)
                    .send()
                    .await
                else {
                    return;
                };
                if resp.status() != StatusCode::CREATED {
                    return;
                }
                let Ok(v) = resp.json::<Value>().await else {
                    return;
                };
                acked
                    .consents
                    .lock()
                    .unwrap()
                    .push((phone, v["event"]["seq"].as_u64().unwrap()));
            }
        })
    };
    // Batches of transactional notices.
    let batches = {
        let (http, base, key, acked) =
            (http.clone(), base.clone(), key.clone(), Arc::clone(&acked));
        tokio::spawn(async move {
            for b in 0..10_000u64 {
                let to: Vec<String> = (0..500).map(|i| format!("137{:08}", b * 500 + i)).collect();
                let body = json!({"to": to, "text": format!("【好店】您的订单 {b} 已发货"), "category": "transactional"});
                let Ok(resp) = http
                    .post(format!("{base}/v1/messages/batch"))
                    .bearer_auth(&key)
                    .json(&body)
                    .send()
                    .await
                else {
                    return;
                };
                let Ok(v) = resp.json::<Value>().await else {
                    return;
                };
                let Some(results) = v["results"].as_array() else {
                    return;
                };
                let mut m = acked.messages.lock().unwrap();
                for r in results {
                    m.push((
                        r["id"].as_u64().unwrap(),
                        r["status"].as_str().unwrap().to_string(),
                    ));
                }
            }
        })
    };

    // Long enough for traffic to be acknowledged on a loaded 2-core machine (a new sender's
    // first request takes most of a second in a debug build).
    tokio::time::sleep(Duration::from_millis(3000)).await;
    child.start_kill().unwrap(); // SIGKILL: no shutdown path runs.
    child.wait().await.unwrap();
    let _ = tokio::join!(consents, batches);

    let consents = acked.consents.lock().unwrap().clone();
    let messages = acked.messages.lock().unwrap().clone();
    assert!(
        !consents.is_empty() && !messages.is_empty(),
        "traffic was acknowledged before the kill"
    );

    let (_child, base) = common::process::spawn(dir.path(), None).await;
    for (phone, seq) in &consents {
        let v: Value =
            common::process::get_json(&http, &format!("{base}/v1/consents/{phone}"), &admin).await;
        let seqs: Vec<u64> = v["history"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["seq"].as_u64().unwrap())
            .collect();
        assert!(
            seqs.contains(seq),
            "acknowledged opt-out {seq} for {phone} lost: {v}"
        );
        assert_eq!(v["senders"][0]["state"], "opted_out");
    }
    for (id, status) in messages.iter().step_by(97) {
        let v: Value =
            common::process::get_json(&http, &format!("{base}/v1/messages/{id}"), &admin).await;
        assert_eq!(
            v["status"].as_str(),
            Some(status.as_str()),
            "acknowledged message {id} lost: {v}"
        );
    }
    eprintln!(
        "verified {} opt-outs and {} decisions after kill -9",
        consents.len(),
        messages.len()
    );
}
