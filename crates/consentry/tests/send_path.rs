//! The send path end to end through HTTP: the Double-11 story, every rule's effect, and what
//! each caller may see.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod common;

use common::{codes, start};
use reqwest::StatusCode;
use serde_json::json;
use store::MessageLog;

const PHONE: &str = "13800138000";

fn ad(shop: &str) -> String {
    format!("【{shop}】双11狂欢，全场5折起，回T退订")
}

/// Ten shops send marketing to one consumer on Double-11. Only consented shops get through, at
/// most the global cap per day, nothing in quiet hours; after the consumer refuses platform-wide
/// nothing gets through, and a later opt-in re-enables that one shop only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn double_eleven_story() {
    // 10:00 in Shanghai on 11 November.
    let srv = start("2026-11-11T02:00:00Z").await;
    let mut shops = Vec::new();
    for i in 0..10 {
        shops.push(srv.shop(&format!("店铺{i}")).await);
    }
    // The consumer agreed to shops 0..5 only.
    for (_, key) in &shops[..5] {
        srv.consent(key, PHONE, "opt_in", "sender").await;
    }
    let mut accepted = Vec::new();
    for (i, (_, key)) in shops.iter().enumerate() {
        let d = srv
            .send(key, PHONE, &ad(&format!("店铺{i}")), "marketing")
            .await;
        match i {
            0..=2 => {
                assert_eq!(d["status"], "accepted", "shop {i}: {d}");
                accepted.push(d["id"].as_u64().unwrap());
            }
            3 | 4 => assert_eq!(codes(&d), vec!["cap_global_daily"], "shop {i}"),
            // Every failed rule is reported: no consent, and the cap is reached anyway.
            _ => assert_eq!(
                codes(&d),
                vec!["no_consent", "cap_global_daily"],
                "shop {i}"
            ),
        }
    }
    let inbox = srv.inbox(PHONE).await;
    let got: Vec<u64> = inbox.iter().map(|m| m["id"].as_u64().unwrap()).collect();
    assert_eq!(
        got, accepted,
        "the handset holds exactly the three accepted messages"
    );

    // 21:00: quiet hours. Marketing is deferred to 08:00 the next morning.
    srv.clock.set("2026-11-11T13:00:00Z".parse().unwrap());
    let (_, key0) = &shops[0];
    let late = srv
        .send(key0, PHONE, "【店铺0】今晚最后一波，回T退订", "marketing")
        .await;
    assert_eq!(late["status"], "deferred", "{late}");
    assert_eq!(late["release_at"], "2026-11-12T00:00:00Z");
    // A verification code is not held by quiet hours and needs no consent.
    let code = srv
        .send(
            &shops[7].1,
            PHONE,
            "【店铺7】您的验证码是 482913，5分钟内有效",
            "verification",
        )
        .await;
    assert_eq!(code["status"], "accepted", "{code}");

    // At 22:00 the consumer refuses all shop marketing (through the platform's hotline).
    srv.clock.set("2026-11-11T14:00:00Z".parse().unwrap());
    let (s, v) = srv
        .post("/v1/consents", &srv.admin, json!({"phone": PHONE, "action": "opt_out", "scope": "platform", "source": "hotline", "evidence": "call #8812"}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");

    // 08:00 next day: the deferred message is decided again and refused.
    srv.clock.set("2026-11-12T00:00:00Z".parse().unwrap());
    srv.gateway.tick().unwrap();
    let (_, m) = srv.get(&format!("/v1/messages/{}", late["id"]), key0).await;
    assert_eq!(m["status"], "rejected", "{m}");
    assert_eq!(m["reasons"][0]["code"], "opted_out");

    // Nobody gets through during the day either.
    srv.clock.set("2026-11-12T03:00:00Z".parse().unwrap());
    for (i, (_, key)) in shops.iter().enumerate() {
        let d = srv
            .send(key, PHONE, &ad(&format!("店铺{i}")), "marketing")
            .await;
        assert_eq!(d["status"], "rejected", "shop {i}");
        // The platform-wide refusal is the latest applicable event for every shop.
        assert_eq!(codes(&d), vec!["opted_out"], "shop {i}: {d}");
    }

    // The shop cannot lift the consumer's own refusal with a record of its own (issue #14)…
    srv.clock.set("2026-11-13T03:00:00Z".parse().unwrap());
    let (s, v) = srv
        .post(
            "/v1/consents",
            &shops[1].1,
            json!({"phone": PHONE, "action": "opt_in", "scope": "sender", "source": "web"}),
        )
        .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("consumer_refused")),
        "{v}"
    );
    // …the consumer opts in to shop 1 again themselves (the hotline records it): that shop only.
    let (s, v) = srv
        .post("/v1/consents", &srv.admin, json!({"phone": PHONE, "action": "opt_in", "scope": "sender", "sender_id": shops[1].0, "source": "hotline", "evidence": "call #8813"}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let d1 = srv
        .send(&shops[1].1, PHONE, &ad("店铺1"), "marketing")
        .await;
    assert_eq!(d1["status"], "accepted", "{d1}");
    let d2 = srv
        .send(&shops[2].1, PHONE, &ad("店铺2"), "marketing")
        .await;
    assert_eq!(codes(&d2), vec!["opted_out"]);

    let inbox = srv.inbox(PHONE).await;
    assert_eq!(
        inbox.len(),
        5,
        "three on Double-11, the code, and shop 1's after its new opt-in"
    );
    let marketing_after_optout = inbox
        .iter()
        .filter(|m| {
            m["category"] == "marketing"
                && m["received_at"].as_str().unwrap() > "2026-11-11T14:00:00Z"
        })
        .count();
    assert_eq!(marketing_after_optout, 1, "only the re-enabled shop");

    // Point in time: at 21:59 on the 11th shop 0 had consent; at 22:00 it had not.
    let (_, before) = srv
        .get(
            &format!("/v1/consents/{PHONE}?at=2026-11-11T13:59:00Z"),
            &srv.admin,
        )
        .await;
    let line0 = &before["senders"].as_array().unwrap()[0];
    assert_eq!(
        (line0["sender_id"].as_u64(), line0["state"].as_str()),
        (Some(shops[0].0), Some("consented"))
    );
    let (_, after) = srv
        .get(
            &format!("/v1/consents/{PHONE}?at=2026-11-11T14:00:00Z"),
            &srv.admin,
        )
        .await;
    assert_eq!(after["senders"][0]["state"], "opted_out");
    assert_eq!(after["platform_opted_out"], true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batch_returns_one_decision_per_recipient_with_counts() {
    let srv = start("2026-11-11T02:00:00Z").await;
    let (_, key) = srv.shop("好店").await;
    srv.consent(&key, "13800138001", "opt_in", "sender").await;
    srv.consent(&key, "13800138002", "opt_in", "sender").await;
    let (s, v) = srv
        .post(
            "/v1/messages/batch",
            &key,
            json!({"to": ["13800138001", "13800138002", "13800138003", "12345", "13800138001"], "text": ad("好店"), "category": "marketing"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let r = v["results"].as_array().unwrap();
    assert_eq!(r.len(), 5);
    assert_eq!(r[0]["status"], "accepted");
    assert_eq!(r[1]["status"], "accepted");
    assert_eq!(codes(&r[2]), vec!["no_consent"]);
    assert_eq!(codes(&r[3]), vec!["invalid_number"]);
    assert_eq!(
        codes(&r[4]),
        vec!["cap_sender_daily", "duplicate"],
        "same shop, same text, same day"
    );
    assert_eq!(
        v["counts"],
        json!({"accepted": 2, "deferred": 0, "rejected": 3})
    );
    // Every decision is stored with its reasons, rejected ones too.
    let (_, m) = srv.get(&format!("/v1/messages/{}", r[3]["id"]), &key).await;
    assert_eq!(m["reasons"][0]["code"], "invalid_number");
    assert_eq!(m["delivery"], "not_sent");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn content_rules_and_rate_caps() {
    let srv = start("2026-11-11T02:00:00Z").await;
    let (_, key) = srv.shop("好店").await;
    srv.consent(&key, PHONE, "opt_in", "sender").await;
    let d = srv.send(&key, PHONE, "双11全场5折", "marketing").await;
    assert_eq!(codes(&d), vec!["missing_optout_text", "missing_signature"]);
    let first = srv
        .send(&key, PHONE, "【好店】验证码 111111", "verification")
        .await;
    assert_eq!(first["status"], "accepted");
    let second = srv
        .send(&key, PHONE, "【好店】验证码 222222", "verification")
        .await;
    assert_eq!(codes(&second), vec!["rate_limited"], "one code per minute");
    srv.clock.advance(jiff::SignedDuration::from_secs(61));
    let third = srv
        .send(&key, PHONE, "【好店】验证码 333333", "verification")
        .await;
    assert_eq!(third["status"], "accepted");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sender_sees_and_changes_only_its_own_data() {
    let srv = start("2026-11-11T02:00:00Z").await;
    let (a_id, a) = srv.shop("A店").await;
    let (b_id, b) = srv.shop("B店").await;
    srv.consent(&a, PHONE, "opt_in", "sender").await;
    srv.consent(&b, PHONE, "opt_out", "sender").await;
    let msg = srv.send(&a, PHONE, &ad("A店"), "marketing").await;

    // B cannot read A's message; the id reads as not found.
    let (s, v) = srv.get(&format!("/v1/messages/{}", msg["id"]), &b).await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found"))
    );
    // B cannot record consent for A.
    let (s, v) = srv
        .post("/v1/consents", &b, json!({"phone": PHONE, "action": "opt_in", "scope": "sender", "source": "web", "sender_id": a_id}))
        .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("forbidden"))
    );
    // B cannot grant itself every merchant's marketing.
    let (s, _) = srv
        .post(
            "/v1/consents",
            &b,
            json!({"phone": PHONE, "action": "opt_in", "scope": "platform", "source": "web"}),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    // Nor refuse every merchant's marketing on the consumer's behalf (it would wipe out its
    // competitors' consent): that is the consumer's or the operator's to record.
    let (s, v) = srv
        .post(
            "/v1/consents",
            &b,
            json!({"phone": PHONE, "action": "opt_out", "scope": "platform", "source": "web"}),
        )
        .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("forbidden")),
        "{v}"
    );
    // A platform-wide event the operator recorded tells B why, not what the operator noted.
    let (s, v) = srv
        .post("/v1/consents", &srv.admin, json!({"phone": PHONE, "action": "opt_out", "scope": "platform", "source": "hotline", "evidence": "call #77 about 甲店's VIP order"}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let (_, view) = srv.get(&format!("/v1/consents/{PHONE}"), &b).await;
    let platform = view["history"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["scope"] == "platform")
        .cloned()
        .unwrap();
    assert_eq!(
        (
            &platform["source"],
            &platform["actor"],
            &platform["evidence"]
        ),
        (&json!("hotline"), &json!("admin"), &json!("")),
        "{platform}"
    );
    let (_, full) = srv.get(&format!("/v1/consents/{PHONE}"), &srv.admin).await;
    assert!(
        full.to_string().contains("VIP order"),
        "the operator sees its own note"
    );
    // B sees only its own line and events.
    let (_, view) = srv.get(&format!("/v1/consents/{PHONE}"), &b).await;
    let lines = view["senders"].as_array().unwrap();
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["sender_id"].as_u64(), Some(b_id));
    assert!(
        view["history"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["sender"].as_u64() == Some(b_id) || e["scope"] == "platform")
    );
    // The admin sees both.
    let (_, view) = srv.get(&format!("/v1/consents/{PHONE}"), &srv.admin).await;
    assert_eq!(view["senders"].as_array().unwrap().len(), 2);
    // Senders cannot administer, read inboxes, or use a wrong key.
    let (s, _) = srv.post("/v1/senders", &a, json!({"name": "x"})).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = srv.get(&format!("/v1/phones/{PHONE}/inbox"), &a).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, v) = srv.get("/v1/senders", "cs_live_wrong").await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("unauthorized"))
    );
    let (s, _) = srv
        .call(reqwest::Method::GET, "/v1/senders", None, None)
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    // The admin key cannot send as a merchant.
    let (s, _) = srv
        .post(
            "/v1/messages",
            &srv.admin,
            json!({"to": PHONE, "text": ad("A店"), "category": "marketing"}),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_metrics_and_openapi() {
    let srv = start("2026-11-11T02:00:00Z").await;
    let (s, v) = srv.call(reqwest::Method::GET, "/healthz", None, None).await;
    assert_eq!((s, v["status"].as_str()), (StatusCode::OK, Some("ok")));
    let (s, v) = srv
        .call(reqwest::Method::GET, "/openapi.json", None, None)
        .await;
    assert_eq!(s, StatusCode::OK);
    for path in [
        "/v1/senders",
        "/v1/consents",
        "/v1/messages",
        "/v1/messages/batch",
        "/v1/messages/{id}",
    ] {
        assert!(
            v["paths"].get(path).is_some(),
            "{path} missing from OpenAPI"
        );
    }
    let (_, key) = srv.shop("好店").await;
    srv.send(&key, PHONE, &ad("好店"), "marketing").await;
    let (s, text) = srv.call(reqwest::Method::GET, "/metrics", None, None).await;
    assert_eq!(s, StatusCode::OK);
    let text = text.as_str().unwrap().to_string();
    assert!(text.contains("consentry_decisions_total"), "{text}");
    assert!(text.contains("consentry_phones"), "{text}");
}

/// Many one-message requests at once share commits: each is answered with its own decision,
/// each decision is in the store when answered, and the caps hold across them (one marketing
/// message per sender and phone a day, however many race for it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_one_message_requests_share_commits_and_keep_caps_exact() {
    let srv = std::sync::Arc::new(start("2026-11-11T02:00:00Z").await);
    let (_, key) = srv.shop("好店").await;
    srv.consent(&key, PHONE, "opt_in", "sender").await;
    let mut tasks = Vec::new();
    for i in 0..200u32 {
        let (srv, key) = (std::sync::Arc::clone(&srv), key.clone());
        tasks.push(tokio::spawn(async move {
            if i % 4 == 0 {
                srv.send(&key, PHONE, &ad("好店"), "marketing").await
            } else {
                srv.send(
                    &key,
                    &format!("137{i:08}"),
                    "【好店】您的订单已发货",
                    "transactional",
                )
                .await
            }
        }));
    }
    let mut ids = std::collections::BTreeSet::new();
    let mut marketing_accepted = 0;
    for (i, t) in tasks.into_iter().enumerate() {
        let d = t.await.unwrap();
        let id = d["id"]
            .as_u64()
            .expect("every request answered with its decision");
        assert!(ids.insert(id), "ids are distinct");
        let on_record = srv.gateway.store().message(id).unwrap();
        assert!(on_record.is_some(), "answered only once recorded: {d}");
        if i % 4 == 0 && d["status"] == "accepted" {
            marketing_accepted += 1;
        } else if i % 4 != 0 {
            assert_eq!(d["status"], "accepted", "{d}");
        }
    }
    assert_eq!(
        marketing_accepted, 1,
        "one marketing message per sender and phone a day"
    );
}

/// A shop withdraws its own marketing held for quiet hours (issue #13): it is recorded
/// `rejected` / `cancelled`, the morning's release does not send it, another shop cannot touch
/// it (404), and a message not held cannot be withdrawn (409 `not_cancellable`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sender_withdraws_its_message_held_for_quiet_hours_and_it_is_never_sent() {
    // 21:00 in Shanghai: quiet hours.
    let srv = start("2026-11-11T13:00:00Z").await;
    let (_, key) = srv.shop("好店").await;
    let (_, other) = srv.shop("别家").await;
    srv.consent(&key, PHONE, "opt_in", "sender").await;
    let held = srv.send(&key, PHONE, &ad("好店"), "marketing").await;
    assert_eq!(held["status"], "deferred", "{held}");
    let id = held["id"].as_u64().unwrap();
    let cancel = format!("/v1/messages/{id}/cancel");

    let (s, v) = srv.post(&cancel, &other, json!({})).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "another shop's message: {v}");
    let (s, v) = srv.post(&cancel, &key, json!({})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["status"], "rejected", "{v}");
    assert_eq!(codes(&v), vec!["cancelled"]);
    let (s, v) = srv.post(&cancel, &key, json!({})).await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    assert_eq!(v["error"]["code"], "not_cancellable", "{v}");

    // 08:00: the release sends nothing; the message stays withdrawn.
    srv.clock.set("2026-11-12T00:00:00Z".parse().unwrap());
    srv.gateway.tick().unwrap();
    assert!(
        srv.inbox(PHONE).await.is_empty(),
        "nothing reached the phone"
    );
    let (_, m) = srv.get(&format!("/v1/messages/{id}"), &key).await;
    assert_eq!(codes(&m), vec!["cancelled"], "{m}");

    // A message sent at once is not held: 409; an id never issued: 404.
    let code = srv
        .send(&key, PHONE, "【好店】您的验证码是 482913", "verification")
        .await;
    assert_eq!(code["status"], "accepted", "{code}");
    let (s, v) = srv
        .post(
            &format!("/v1/messages/{}/cancel", code["id"]),
            &key,
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    let (s, _) = srv
        .post("/v1/messages/999999/cancel", &key, json!({}))
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}
