//! Opt-outs racing a campaign: a 100,000-recipient campaign is submitted and dispatched while
//! recipients reply `T`. Whatever the interleaving, no marketing reaches a (phone, sender) after
//! the gateway acknowledged that phone's opt-out — in process, and across `kill -9` and a
//! restart of the real binary.
//!
//! Both gateways run on the system clock, so hand-off times (`delivery_at`, the loopback
//! handset's `received_at`) and the instant this test saw each acknowledgement are on one clock.
//! The check is "delivered at or before the acknowledgement": a gateway that let a queued
//! message through after committing the opt-out would hand it off later than the answer came
//! back, and fail it.

#![allow(clippy::unwrap_used)]

mod common;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use domain::{Clock, ConsentAction, ConsentSource, Scope, SystemClock, Timestamp};
use gateway::{ConsentRequest, Gateway, GatewayConfig, LoopbackCarrier, Principal};
use policy::{Policy, PolicyConfig};
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use store::{Durability, KeyRole, MessageLog, Store};

const TEXT: &str = "【甲店】双11全场5折，回T退订";

fn phone(i: usize) -> String {
    format!("1380{i:07}")
}

/// Policy with quiet hours off, so the test does not depend on the time of day it runs at.
fn policy() -> PolicyConfig {
    PolicyConfig {
        quiet_hours_start: "00:00".into(),
        quiet_hours_end: "00:00".into(),
        ..PolicyConfig::default()
    }
}

/// Submits `phones` in batches of `batch` while `opt_outs` reply `T`, spaced through the
/// campaign. Returns the acknowledgement instant of each opt-out that was acknowledged, and the
/// campaign's message id per phone for the batches that were acknowledged.
/// Where and as whom the campaign and the replies are posted.
#[derive(Clone)]
struct Endpoint {
    http: Client,
    base: String,
    sender_key: String,
    carrier_key: String,
    source_number: String,
}

async fn campaign_with_opt_outs(
    to: Endpoint,
    phones: Vec<String>,
    batch: usize,
    opt_outs: Vec<String>,
    batches_acked: Arc<AtomicUsize>,
) -> (HashMap<String, Timestamp>, HashMap<String, u64>) {
    let Endpoint {
        http,
        base,
        sender_key,
        carrier_key,
        source_number,
    } = to;
    let campaign = {
        let (http, base, key) = (http.clone(), base.to_string(), sender_key.to_string());
        tokio::spawn(async move {
            let mut ids = HashMap::new();
            for chunk in phones.chunks(batch) {
                let Ok(resp) = http
                    .post(format!("{base}/v1/messages/batch"))
                    .bearer_auth(&key)
                    .json(&json!({"to": chunk, "text": TEXT, "category": "marketing"}))
                    .send()
                    .await
                else {
                    break;
                };
                let Ok(v) = resp.json::<Value>().await else {
                    break;
                };
                for r in v["results"].as_array().unwrap() {
                    ids.insert(
                        r["to"].as_str().unwrap().to_string(),
                        r["id"].as_u64().unwrap(),
                    );
                }
                batches_acked.fetch_add(1, Ordering::SeqCst);
            }
            ids
        })
    };
    let mut acked = HashMap::new();
    for p in opt_outs {
        let resp = http
            .post(format!("{base}/v1/inbound"))
            .bearer_auth(&carrier_key)
            .json(&json!({"from": p, "to": source_number, "text": "T"}))
            .send()
            .await;
        let Ok(resp) = resp else { break };
        let ok = resp.status() == StatusCode::OK;
        let Ok(v) = resp.json::<Value>().await else {
            break;
        };
        // The instant the acknowledgement was in hand.
        let at = Timestamp::now();
        assert!(ok, "{v}");
        assert_eq!(v["effect"], "opted_out", "{v}");
        acked.insert(p, at);
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    (acked, campaign.await.unwrap_or_default())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_marketing_is_delivered_after_an_acknowledged_opt_out() {
    const N: usize = 100_000;
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_sqlite(dir.path(), Durability::Normal).unwrap();
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let gw = Gateway::open(
        store,
        GatewayConfig {
            tick_ms: 20,
            ..GatewayConfig::default()
        },
        Policy::new(&policy()).unwrap(),
        clock,
        Arc::new(LoopbackCarrier),
    )
    .unwrap();
    let (shop, shop_key) = gw.create_sender("甲店", "【甲店】").unwrap();
    let carrier = gw
        .ensure_key(
            KeyRole::Carrier,
            "cs_carrier_",
            &dir.path().join("carrier.token"),
        )
        .unwrap()
        .unwrap();
    let phones: Vec<String> = (0..N).map(phone).collect();
    let consents: Vec<ConsentRequest> = phones
        .iter()
        .map(|p| ConsentRequest {
            phone: p.clone(),
            action: ConsentAction::OptIn,
            scope: Scope::Sender,
            sender: Some(shop.id),
            source: ConsentSource::Web,
            evidence: "checkout checkbox".into(),
            at: None,
        })
        .collect();
    for chunk in consents.chunks(20_000) {
        gw.record_consents(Principal::Admin, chunk).unwrap();
    }
    let workers = gw.start();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(api::serve(
        listener,
        api::AppState::new(Arc::clone(&gw), 4 << 20),
        std::future::pending(),
    ));
    // Opt-outs spread over the whole list, so some land before their message is decided, some
    // while it is queued, some after it was delivered.
    let opt_outs: Vec<String> = (0..400).map(|i| phone((i * 7919 + 13) % N)).collect();
    let to = Endpoint {
        http: Client::new(),
        base,
        sender_key: shop_key,
        carrier_key: carrier,
        source_number: shop.source_number.clone(),
    };
    let (acked, ids) = campaign_with_opt_outs(to, phones, 10_000, opt_outs, Arc::default()).await;
    assert_eq!(ids.len(), N, "every batch was acknowledged");
    assert!(acked.len() >= 100, "{} opt-outs acknowledged", acked.len());
    let g = Arc::clone(&gw);
    assert!(
        tokio::task::spawn_blocking(move || g.drain(Duration::from_secs(120)))
            .await
            .unwrap()
    );

    let (mut delivered_before, mut refused) = (0, 0);
    for (p, ack) in &acked {
        let m = gw.store().message(ids[p]).unwrap().unwrap();
        let msisdn = m.phone.unwrap();
        for got in gw.store().inbox(msisdn).unwrap() {
            if got.sender == shop.id {
                let at = got.delivery_at.unwrap();
                assert!(
                    at <= *ack,
                    "{p}: marketing {} delivered at {at}, after the opt-out was acknowledged at {ack}",
                    got.id
                );
            }
        }
        match m.delivery {
            store::Delivery::Delivered => delivered_before += 1,
            _ => {
                assert_eq!(m.reasons[0].code.as_str(), "opted_out", "{m:?}");
                refused += 1;
            }
        }
    }
    // The race was real: opt-outs landed both before and after their phone's message went out.
    assert!(
        refused > 0 && delivered_before > 0,
        "refused {refused}, delivered before the opt-out {delivered_before}"
    );
    let stats = gw.stats();
    eprintln!(
        "{N} recipients, {} opt-outs: {refused} messages refused (at decision or hand-off, {} at hand-off), {delivered_before} delivered before their opt-out",
        acked.len(),
        stats.cancelled
    );
    drop(workers);
}

/// The same promise across `kill -9`: the real binary is killed mid-campaign while opt-outs
/// arrive; after a restart it resumes the messages it had accepted, and still none reaches a
/// phone whose opt-out it had acknowledged before it died. (40,000 recipients: the binary is a
/// debug build on a 2-core CI machine.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_marketing_after_an_acknowledged_opt_out_across_kill_9() {
    const N: usize = 40_000;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let config = dir.path().join("consentry.toml");
    std::fs::write(
        &config,
        "[store]\ndurability = \"normal\"\n[policy]\nquiet_hours_start = \"00:00\"\nquiet_hours_end = \"00:00\"\n",
    )
    .unwrap();
    let http = Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap();

    // Register the shop, then bulk-import the consents with the gateway stopped.
    let (mut child, base) = common::process::spawn(&data, Some(&config)).await;
    let admin = common::process::token(&data, "admin.token");
    let carrier = common::process::token(&data, "carrier.token");
    let shop = common::process::register_sender(&http, &base, &admin, "甲店").await;
    let shop_key = shop["api_key"].as_str().unwrap().to_string();
    let source_number = shop["source_number"].as_str().unwrap().to_string();
    child.kill().await.unwrap();
    let csv = dir.path().join("consents.csv");
    let mut rows = String::from("phone,action,scope,sender_id,source,evidence,at\n");
    for i in 0..N {
        rows.push_str(&format!(
            "{},opt_in,sender,{},web,checkout,2026-11-01T00:00:00Z\n",
            phone(i),
            shop["id"]
        ));
    }
    std::fs::write(&csv, rows).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_consentry"))
        .args(["import", "consents"])
        .arg(&csv)
        .arg("--data")
        .arg(&data)
        .arg("--config")
        .arg(&config)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // The campaign and the opt-outs race; the gateway is killed while both are under way.
    let (mut child, base) = common::process::spawn(&data, Some(&config)).await;
    let phones: Vec<String> = (0..N).map(phone).collect();
    let opt_outs: Vec<String> = (0..2_000).map(|i| phone((i * 7919 + 13) % N)).collect();
    let batches = Arc::new(AtomicUsize::new(0));
    let race = {
        let batches = Arc::clone(&batches);
        let to = Endpoint {
            http: http.clone(),
            base: base.clone(),
            sender_key: shop_key.clone(),
            carrier_key: carrier.clone(),
            source_number: source_number.clone(),
        };
        tokio::spawn(campaign_with_opt_outs(to, phones, 2_000, opt_outs, batches))
    };
    // Kill once a few batches are in and opt-outs are flowing, mid-batch.
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    while batches.load(Ordering::SeqCst) < 4 {
        assert!(
            std::time::Instant::now() < deadline,
            "the campaign did not start"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(150)).await;
    child.start_kill().unwrap();
    child.wait().await.unwrap();
    let (acked, ids) = race.await.unwrap();
    assert!(
        !acked.is_empty(),
        "some opt-outs were acknowledged before the kill"
    );
    eprintln!(
        "killed after {} acknowledged opt-outs and {} acknowledged messages",
        acked.len(),
        ids.len()
    );

    let (_child, base) = common::process::spawn(&data, Some(&config)).await;
    // Wait for the resumed queue to drain: every acknowledged message leaves `pending`.
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    for id in ids.values() {
        loop {
            let m: Value =
                common::process::get_json(&http, &format!("{base}/v1/messages/{id}"), &shop_key)
                    .await;
            if m["delivery"] != "pending" {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "queue not drained: {m}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    for (p, ack) in &acked {
        let state: Value =
            common::process::get_json(&http, &format!("{base}/v1/consents/{p}"), &admin).await;
        assert_eq!(
            state["senders"][0]["state"], "opted_out",
            "{p}: the acknowledged opt-out survived the kill"
        );
        let inbox: Value =
            common::process::get_json(&http, &format!("{base}/v1/phones/{p}/inbox"), &admin).await;
        for m in inbox["messages"].as_array().unwrap() {
            if m["sender_id"] == shop["id"] {
                let at: Timestamp = m["received_at"].as_str().unwrap().parse().unwrap();
                assert!(
                    at <= *ack,
                    "{p}: marketing {} delivered at {at}, after the opt-out was acknowledged at {ack}",
                    m["id"]
                );
            }
        }
    }
}
