//! Bad input gets a clear error with a stable code, and nothing is stored half-way.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod common;

use common::start;
use reqwest::StatusCode;
use serde_json::{Value, json};
use store::MessageLog;

async fn raw(srv: &common::Server, path: &str, key: &str, body: &str) -> (StatusCode, Value) {
    let resp = srv
        .http
        .post(format!("{}{path}", srv.base))
        .bearer_auth(key)
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let s = resp.status();
    (s, resp.json().await.unwrap_or(Value::Null))
}

fn code(v: &Value) -> &str {
    v["error"]["code"].as_str().unwrap_or("<none>")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_requests_have_stable_codes() {
    let srv = start("2026-11-11T02:00:00Z").await;
    let (_, key) = srv.shop("好店").await;
    let cases: &[(&str, &str, StatusCode, &str)] = &[
        (
            "/v1/messages",
            "{\"to\": \"13800138000\",",
            StatusCode::BAD_REQUEST,
            "invalid_json",
        ),
        (
            "/v1/messages",
            "[1,2,3]",
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        ),
        (
            "/v1/messages",
            "\u{0}\u{1}\u{2}binary",
            StatusCode::BAD_REQUEST,
            "invalid_json",
        ),
        (
            "/v1/messages",
            r#"{"to":"13800138000","text":"【好店】hi","category":"marketing","priority":9}"#,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        ),
        (
            "/v1/messages",
            r#"{"to":"13800138000","text":"【好店】hi","category":"promo"}"#,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        ),
        (
            "/v1/messages",
            r#"{"to":"13800138000","text":"   ","category":"marketing"}"#,
            StatusCode::UNPROCESSABLE_ENTITY,
            "empty_text",
        ),
        (
            "/v1/messages/batch",
            r#"{"to":[],"text":"【好店】hi","category":"transactional"}"#,
            StatusCode::UNPROCESSABLE_ENTITY,
            "empty_batch",
        ),
        (
            "/v1/consents",
            r#"{"phone":"12345","action":"opt_in","scope":"sender","source":"web"}"#,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_number",
        ),
        (
            "/v1/consents",
            r#"{"phone":"13800138000","action":"maybe","scope":"sender","source":"web"}"#,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        ),
        (
            "/v1/consents",
            r#"{"phone":"13800138000","action":"opt_in","scope":"platform","source":"web","sender_id":1}"#,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
        ),
        (
            "/v1/consents",
            r#"{"phone":"13800138000","action":"opt_in","scope":"sender","source":"web","at":"2099-01-01T00:00:00Z"}"#,
            StatusCode::UNPROCESSABLE_ENTITY,
            "date_out_of_range",
        ),
        // Issue #14, item 7: events dated year 1 or 0 were accepted (and a refusal dated then
        // did nothing, silently).
        (
            "/v1/consents",
            r#"{"phone":"13800138000","action":"opt_out","scope":"sender","source":"web","at":"0001-01-01T00:00:00Z"}"#,
            StatusCode::UNPROCESSABLE_ENTITY,
            "date_out_of_range",
        ),
        (
            "/v1/consents",
            r#"{"phone":"13800138000","action":"opt_out","scope":"sender","source":"web","at":"0000-01-01T00:00:00Z"}"#,
            StatusCode::UNPROCESSABLE_ENTITY,
            "date_out_of_range",
        ),
        (
            "/v1/consents",
            r#"{"phone":"13800138000","action":"opt_out","scope":"sender","source":"web","at":"1999-12-31T23:59:59Z"}"#,
            StatusCode::UNPROCESSABLE_ENTITY,
            "date_out_of_range",
        ),
    ];
    for (path, body, status, expected) in cases {
        let (s, v) = raw(&srv, path, &key, body).await;
        assert_eq!((s, code(&v)), (*status, *expected), "{path} {body}: {v}");
    }
    // Admin recording for an unknown sender.
    let (s, v) = srv
        .post("/v1/consents", &srv.admin, json!({"phone": "13800138000", "action": "opt_in", "scope": "sender", "source": "web", "sender_id": 999}))
        .await;
    assert_eq!(
        (s, code(&v)),
        (StatusCode::UNPROCESSABLE_ENTITY, "unknown_sender")
    );
    // Nothing above reached the ledger or the message log.
    let (_, view) = srv.get("/v1/consents/13800138000", &srv.admin).await;
    assert_eq!(view["history"].as_array().unwrap().len(), 0);
    assert!(
        srv.gateway.store().message(1).unwrap().is_none(),
        "no message row"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_text_batch_and_body_are_refused() {
    let srv = start("2026-11-11T02:00:00Z").await;
    let (_, key) = srv.shop("好店").await;
    let long = format!("【好店】{}", "中".repeat(700));
    let (s, v) = srv
        .post(
            "/v1/messages",
            &key,
            json!({"to": "13800138000", "text": long, "category": "transactional"}),
        )
        .await;
    assert_eq!(
        (s, code(&v)),
        (StatusCode::PAYLOAD_TOO_LARGE, "text_too_long"),
        "{v}"
    );
    let huge = "x".repeat(100_000);
    let (s, v) = srv
        .post(
            "/v1/messages",
            &key,
            json!({"to": "13800138000", "text": huge, "category": "transactional"}),
        )
        .await;
    assert_eq!(
        (s, code(&v)),
        (StatusCode::PAYLOAD_TOO_LARGE, "text_too_long")
    );
    // Issue #14, item 7: a huge text was refused as needing "4294967295 SMS segments".
    let message = v["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("100000 bytes") && !message.contains("4294967295"),
        "{message}"
    );
    // And a 1,000,000-character `to` was stored and echoed.
    let long_to = "1".repeat(1_000_000);
    let (s, v) = srv
        .post(
            "/v1/messages",
            &key,
            json!({"to": long_to, "text": "【好店】hi", "category": "transactional"}),
        )
        .await;
    assert_eq!(
        (s, code(&v)),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid_field"),
        "{}",
        &v.to_string()[..200.min(v.to_string().len())]
    );
    assert!(
        v.to_string().len() < 500,
        "the recipient is not echoed whole"
    );
    assert!(
        srv.gateway.store().message(1).unwrap().is_none(),
        "nothing stored"
    );
    let to: Vec<String> = (0..10_001).map(|i| format!("138{i:08}")).collect();
    let (s, v) = srv
        .post(
            "/v1/messages/batch",
            &key,
            json!({"to": to, "text": "【好店】hi", "category": "transactional"}),
        )
        .await;
    assert_eq!(
        (s, code(&v)),
        (StatusCode::PAYLOAD_TOO_LARGE, "batch_too_large")
    );
    let body = format!(
        r#"{{"to":"1","text":"{}","category":"marketing"}}"#,
        "y".repeat(5 << 20)
    );
    let (s, v) = raw(&srv, "/v1/messages", &key, &body).await;
    assert_eq!(
        (s, code(&v)),
        (StatusCode::PAYLOAD_TOO_LARGE, "body_too_large")
    );
    assert!(
        srv.gateway.store().message(1).unwrap().is_none(),
        "nothing stored"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_routes_and_ids_are_json_404s() {
    let srv = start("2026-11-11T02:00:00Z").await;
    let (s, v) = srv.get("/v2/nothing", &srv.admin).await;
    assert_eq!((s, code(&v)), (StatusCode::NOT_FOUND, "not_found"));
    let (s, v) = srv.get("/v1/messages/abc", &srv.admin).await;
    assert_eq!((s, code(&v)), (StatusCode::NOT_FOUND, "not_found"));
    let (s, v) = srv
        .get("/v1/messages/99999999999999999999999", &srv.admin)
        .await;
    assert_eq!((s, code(&v)), (StatusCode::NOT_FOUND, "not_found"));
    let (s, v) = srv.get("/v1/consents/not-a-number", &srv.admin).await;
    assert_eq!(
        (s, code(&v)),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid_number")
    );
    let (s, v) = srv
        .get("/v1/consents/13800138000?at=yesterday", &srv.admin)
        .await;
    assert_eq!(
        (s, code(&v)),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid_query")
    );
    // A path segment that is not UTF-8 once decoded, and a method a route does not take: the
    // same JSON error shape as everything else.
    for path in [
        "/v1/consents/%FF",
        "/v1/messages/%FF%FE",
        "/v1/complaints/%C3",
    ] {
        let (s, v) = srv.get(path, &srv.admin).await;
        assert_eq!(
            (s, code(&v)),
            (StatusCode::BAD_REQUEST, "invalid_path"),
            "{path}"
        );
    }
    let (s, v) = srv
        .call(
            reqwest::Method::DELETE,
            "/v1/messages/1",
            Some(&srv.admin),
            None,
        )
        .await;
    assert_eq!(
        (s, code(&v)),
        (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed")
    );
}
