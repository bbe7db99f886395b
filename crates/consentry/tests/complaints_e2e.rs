//! Complaints end to end through HTTP: intake, adjudication against the ledger at send time,
//! automatic suspension and its effect on the next message, evidence bundles, reports, and
//! bad input and access.

#![allow(clippy::unwrap_used)]

mod common;

use common::{Server, codes, start};
use domain::SenderId;
use reqwest::StatusCode;
use serde_json::{Value, json};
use store::KeyRole;

/// 11:00 in Shanghai: outside quiet hours.
const MORNING: &str = "2026-11-11T03:00:00Z";

fn ad(shop: &str) -> String {
    format!("【{shop}】双11狂欢，全场5折起，点击领券，回T退订")
}

struct Shop {
    id: u64,
    key: String,
    number: String,
}

async fn shop(srv: &Server, name: &str) -> Shop {
    let (id, key) = srv.shop(name).await;
    let number = srv
        .gateway
        .sender(SenderId(u32::try_from(id).unwrap()))
        .unwrap()
        .source_number;
    Shop { id, key, number }
}

/// Sends marketing and waits until it is handed to the (loopback) carrier; returns its id.
async fn send_ad(srv: &Server, shop: &Shop, name: &str, to: &str) -> u64 {
    let d = srv.send(&shop.key, to, &ad(name), "marketing").await;
    assert_eq!(d["status"], "accepted", "{d}");
    let inbox = srv.inbox(to).await;
    assert!(inbox.iter().any(|m| m["id"] == d["id"]), "{inbox:?}");
    d["id"].as_u64().unwrap()
}

async fn complain(srv: &Server, key: &str, body: Value) -> (StatusCode, Value) {
    srv.post("/v1/complaints", key, body).await
}

fn grounds(c: &Value) -> Vec<String> {
    c["adjudication"]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["ground"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn a_shop_asserting_consent_itself_is_suspended_after_disputed_complaints() {
    let srv = start(MORNING).await;
    let shop = shop(&srv, "好店").await;
    let phones = ["13800000001", "13800000002", "13800000003", "13800000004"];
    // The shop "has consent": it records it itself, as it does for everyone who ever ordered.
    for p in phones {
        srv.consent(&shop.key, p, "opt_in", "sender").await;
    }
    let mut ids = Vec::new();
    for p in &phones[..3] {
        ids.push(send_ad(&srv, &shop, "好店", p).await);
    }
    srv.clock.advance(jiff::SignedDuration::from_hours(2));

    // 1: with the message id.
    let (s, v) = complain(
        &srv,
        &srv.admin,
        json!({"phone": phones[0], "message_id": ids[0], "kind": "unwanted_marketing",
               "note": "I never agreed to anything"}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let c = &v["complaint"];
    assert_eq!(c["adjudication"]["verdict"], "violation", "{v}");
    assert_eq!(grounds(c), ["asserted_consent_disputed"]);
    assert_eq!(
        c["adjudication"]["consent"]["strength"]["strength"],
        "asserted"
    );
    assert_eq!(
        c["adjudication"]["consent"]["event"]["actor"],
        format!("sender:{}", shop.id)
    );
    assert!(
        v["suspended"].is_null(),
        "one violation does not suspend: {v}"
    );
    let first = c["id"].as_u64().unwrap();

    // 2: no message id — the number it came from and the text the consumer forwarded.
    let (s, v) = complain(
        &srv,
        &srv.admin,
        json!({"phone": phones[1], "source_number": shop.number, "kind": "unwanted_marketing",
               "text": "双11狂欢，全场5折起，点击领券 回T退订"}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["complaint"]["message_id"], ids[1], "{v}");
    assert_eq!(v["complaint"]["matched"]["by"], "text", "{v}");
    assert_eq!(v["complaint"]["adjudication"]["verdict"], "violation");

    // 3: only the sender id — its latest message to the phone. The third violation suspends.
    let (s, v) = complain(
        &srv,
        &srv.admin,
        json!({"phone": phones[2], "sender_id": shop.id, "kind": "unwanted_marketing"}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["complaint"]["message_id"], ids[2], "{v}");
    assert_eq!(v["complaint"]["adjudication"]["verdict"], "violation");
    let reason = v["suspended"].as_str().unwrap();
    assert!(reason.contains("3 violations"), "{reason}");

    // The next message is refused, and the standing says why.
    let d = srv
        .send(&shop.key, phones[3], &ad("好店"), "marketing")
        .await;
    assert_eq!(d["status"], "rejected", "{d}");
    assert!(codes(&d).contains(&"sender_suspended".to_string()), "{d}");
    let (s, standing) = srv
        .get(&format!("/v1/senders/{}/suspension", shop.id), &shop.key)
        .await;
    assert_eq!(s, StatusCode::OK, "{standing}");
    assert_eq!(standing["suspended"], true);
    assert_eq!(standing["activity"]["violations"], 3, "{standing}");
    let history = standing["history"].as_array().unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0]["actor"], "enforcement");
    assert_eq!(history[0]["action"], "suspend");

    // Filing the same complaint again is a duplicate; nothing changes.
    let (s, v) = complain(
        &srv,
        &srv.admin,
        json!({"phone": phones[0], "message_id": ids[0], "kind": "unwanted_marketing"}),
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    assert_eq!(v["error"]["code"], "duplicate_complaint");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains(&first.to_string())
    );

    // The evidence bundle shows the ledger, the decision and the audit chain's head.
    let (s, e) = srv
        .get(&format!("/v1/complaints/{first}/evidence"), &srv.admin)
        .await;
    assert_eq!(s, StatusCode::OK, "{e}");
    assert_eq!(e["format"], "consentry-evidence/2");
    assert_eq!(
        e["complaint"]["adjudication"]["events"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(e["message"]["id"], ids[0]);
    assert_eq!(
        e["audit"]["head"]["hash"].as_str().unwrap().len(),
        64,
        "{e}"
    );
    let proofs = e["audit"]["proofs"].as_array().unwrap();
    assert!(
        proofs
            .iter()
            .any(|p| p["kind"] == "decision" && p["row"] == ids[0]),
        "{e}"
    );
    assert!(proofs.iter().any(|p| p["kind"] == "consent_event"), "{e}");
    assert!(
        proofs
            .iter()
            .any(|p| p["kind"] == "complaint" && p["row"] == first),
        "{e}"
    );
    // The third complaint's bundle carries the suspension it caused.
    let (_, e3) = srv
        .get(
            &format!("/v1/complaints/{}/evidence", first + 2),
            &srv.admin,
        )
        .await;
    assert_eq!(e3["suspensions"].as_array().unwrap().len(), 1, "{e3}");
    let kinds: Vec<&str> = e3["audit"]["proofs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["kind"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"suspension_change"), "{kinds:?}");
    // The whole chain, complaints and suspensions included, still verifies.
    let (_, head) = srv
        .call(reqwest::Method::GET, "/v1/audit/head", None, None)
        .await;
    assert_eq!(head["hash"], e3["audit"]["head"]["hash"], "{head}");

    // The shop reads complaints about itself (without the consumer's note); another shop cannot.
    let (s, own) = srv.get(&format!("/v1/complaints/{first}"), &shop.key).await;
    assert_eq!(s, StatusCode::OK, "{own}");
    assert!(own["note"].is_null(), "{own}");
    let (s, list) = srv.get("/v1/complaints", &shop.key).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(list["complaints"].as_array().unwrap().len(), 3);
    let other = self::shop(&srv, "别家").await;
    let (s, v) = srv
        .get(&format!("/v1/complaints/{first}"), &other.key)
        .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found"))
    );
    let (s, _) = srv
        .get(&format!("/v1/complaints/{first}/evidence"), &other.key)
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (_, v) = srv.get("/v1/complaints", &other.key).await;
    assert_eq!(v["complaints"].as_array().unwrap().len(), 0, "{v}");
    let (s, _) = srv
        .get(&format!("/v1/complaints?sender_id={}", shop.id), &other.key)
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    // Review: the admin lifts it with a reason; the shop may send again.
    let path = format!("/v1/senders/{}/suspension", shop.id);
    let (s, v) = srv
        .post(
            &path,
            &srv.admin,
            json!({"action": "lift", "reason": "shop re-collected consent through the portal"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["suspended"], false);
    assert_eq!(
        v["activity"]["violations"], 0,
        "a lift is a clean slate: {v}"
    );
    assert_eq!(
        v["history"][1]["reason"],
        "shop re-collected consent through the portal"
    );
    srv.clock.advance(jiff::SignedDuration::from_hours(24));
    let d = srv
        .send(&shop.key, phones[3], &ad("好店"), "marketing")
        .await;
    assert_eq!(d["status"], "accepted", "{d}");
    // "sent" counts hand-offs: wait for the dispatcher before reading the report.
    srv.inbox(phones[3]).await;

    // The report has the shop's figures.
    let (s, r) = srv
        .get(
            "/v1/reports/senders?from=2026-11-01&to=2026-12-01",
            &srv.admin,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{r}");
    let row = r["senders"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["sender_id"] == shop.id)
        .unwrap();
    assert_eq!(row["sent"], 4, "{row}");
    assert_eq!(row["complaints"], 3, "{row}");
    assert_eq!(row["violations"], 3, "{row}");
    assert_eq!(row["suspensions"], 1, "{row}");
    assert_eq!(row["blocked_by_reason"]["sender_suspended"], 1, "{row}");
}

#[tokio::test]
async fn a_shop_whose_consent_the_consumer_confirmed_is_cleared_with_the_evidence() {
    let srv = start(MORNING).await;
    let shop = shop(&srv, "良品").await;
    let phone = "13900000001";
    // The consumer agreed on the platform's portal; the operator recorded it.
    let (s, v) = srv
        .post(
            "/v1/consents",
            &srv.admin,
            json!({"phone": phone, "action": "opt_in", "scope": "sender", "sender_id": shop.id,
                   "source": "portal", "evidence": "portal session 8f3a, checkbox 良品"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let event = v["event"]["seq"].as_u64().unwrap();
    let id = send_ad(&srv, &shop, "良品", phone).await;

    let (s, v) = complain(
        &srv,
        &srv.admin,
        json!({"phone": phone, "message_id": id, "kind": "unwanted_marketing"}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let c = &v["complaint"];
    assert_eq!(c["adjudication"]["verdict"], "no_violation", "{v}");
    assert_eq!(grounds(c), ["confirmed_consent"]);
    assert_eq!(c["adjudication"]["consent"]["event"]["seq"], event);
    assert_eq!(
        c["adjudication"]["consent"]["strength"]["strength"],
        "confirmed"
    );
    assert!(v["suspended"].is_null());

    let (s, e) = srv
        .get(&format!("/v1/complaints/{}/evidence", c["id"]), &shop.key)
        .await;
    assert_eq!(s, StatusCode::OK, "{e}");
    let events = e["complaint"]["adjudication"]["events"].as_array().unwrap();
    assert_eq!(events[0]["evidence"], "portal session 8f3a, checkbox 良品");
    assert_eq!(events[0]["actor"], "admin");
    assert!(
        e["complaint"]["adjudication"]["content"]["marketing"]
            .as_f64()
            .unwrap()
            > 0.5,
        "{e}"
    );

    let (_, standing) = srv
        .get(&format!("/v1/senders/{}/suspension", shop.id), &srv.admin)
        .await;
    assert_eq!(standing["suspended"], false);
    assert_eq!(standing["activity"]["complaints"], 1, "{standing}");
    assert_eq!(standing["activity"]["violations"], 0);
}

#[tokio::test]
async fn after_an_optout_the_verdict_names_the_refusal_whoever_recorded_the_consent() {
    let srv = start(MORNING).await;
    let shop = shop(&srv, "好店").await;
    let phone = "13700000001";
    // The shop recorded the refusal itself (its own record, which its own later opt-in may
    // lift; a refusal the consumer gave themselves it could not lift — issue #14, item 4).
    srv.consent(&shop.key, phone, "opt_out", "sender").await;
    srv.clock.advance(jiff::SignedDuration::from_mins(1));
    srv.consent(&shop.key, phone, "opt_in", "sender").await;
    // The shop's later opt-in lets the message through at send time (the ledger's rule) ...
    let id = send_ad(&srv, &shop, "好店", phone).await;
    // ... but the consumer refused everything and disputes the shop's consent.
    let (s, v) = complain(
        &srv,
        &srv.admin,
        json!({"phone": phone, "message_id": id, "kind": "after_optout"}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(grounds(&v["complaint"]), ["asserted_consent_disputed"]);
}

#[tokio::test]
async fn bad_input_floods_and_access_get_clear_errors_and_lose_nothing() {
    let srv = start(MORNING).await;
    let shop = shop(&srv, "好店").await;
    let phone = "13600000001";
    srv.consent(&shop.key, phone, "opt_in", "sender").await;
    let id = send_ad(&srv, &shop, "好店", phone).await;
    let admin = srv.admin.clone();

    let cases = [
        (
            &shop.key,
            json!({"phone": phone, "kind": "other"}),
            StatusCode::FORBIDDEN,
            "forbidden",
        ),
        (
            &admin,
            json!({"phone": "12", "kind": "other"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_number",
        ),
        (
            &admin,
            json!({"phone": phone, "kind": "spam"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        ),
        (
            &admin,
            json!({"phone": phone, "kind": "other", "extra": 1}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        ),
        (
            &admin,
            json!({"phone": phone, "kind": "other", "sender_id": 999}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_sender",
        ),
        (
            &admin,
            json!({"phone": phone, "kind": "other", "source_number": "shop"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
        ),
        (
            &admin,
            json!({"phone": phone, "kind": "other", "source_number": "1".repeat(40)}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
        ),
        (
            &admin,
            json!({"phone": phone, "kind": "other", "message_id": 999}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_message",
        ),
        (
            &admin,
            json!({"phone": "13600000002", "kind": "other", "message_id": id}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_message",
        ),
        (
            &admin,
            json!({"phone": phone, "kind": "other", "text": "x".repeat(1001)}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
        ),
        (
            &admin,
            json!({"phone": phone, "kind": "other", "received_at": "2027-01-01T00:00:00Z"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
        ),
    ];
    for (key, body, status, code) in cases {
        let (s, v) = complain(&srv, key, body.clone()).await;
        assert_eq!(
            (s, v["error"]["code"].as_str()),
            (status, Some(code)),
            "{body} → {v}"
        );
    }
    let (s, v) = srv
        .call(
            reqwest::Method::POST,
            "/v1/complaints",
            None,
            Some(json!({})),
        )
        .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("unauthorized"))
    );

    // A message consentry never sent: recorded as unverified, counted against nobody.
    let (s, v) = complain(
        &srv,
        &admin,
        json!({"phone": phone, "source_number": shop.number, "kind": "fraud",
               "text": "【某银行】您的账户存在风险，请点击 http://bank.example 验证"}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["complaint"]["adjudication"]["verdict"], "unverified");
    assert_eq!(grounds(&v["complaint"]), ["not_sent_through_consentry"]);
    let (_, standing) = srv
        .get(&format!("/v1/senders/{}/suspension", shop.id), &admin)
        .await;
    assert_eq!(standing["activity"]["complaints"], 0, "{standing}");
    // Nor may the shop it names read it: that would hand it a number it never had.
    let unverified = v["complaint"]["id"].as_u64().unwrap();
    let (s, _) = srv
        .get(&format!("/v1/complaints/{unverified}"), &shop.key)
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (_, list) = srv.get("/v1/complaints", &shop.key).await;
    assert!(
        !list.to_string().contains("bank.example"),
        "unverified complaints are not listed to the shop: {list}"
    );
    let (s, _) = srv
        .get(&format!("/v1/complaints/{unverified}"), &admin)
        .await;
    assert_eq!(s, StatusCode::OK, "the operator sees it");

    // The carrier feed (举报 replies) files; it cannot read.
    let dir = tempfile::tempdir().unwrap();
    let carrier = srv
        .gateway
        .ensure_key(
            KeyRole::Carrier,
            "cs_carrier_",
            &dir.path().join("carrier.token"),
        )
        .unwrap()
        .unwrap();
    let (s, v) = complain(
        &srv,
        &carrier,
        json!({"phone": phone, "source_number": shop.number, "kind": "unwanted_marketing", "text": "举报"}),
    )
    .await;
    // "举报" is not the message's text, so it matches nothing; without text the latest message is taken.
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["complaint"]["filed_by"], "carrier");
    let (s, v) = complain(
        &srv,
        &carrier,
        json!({"phone": phone, "source_number": shop.number, "kind": "unwanted_marketing"}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["complaint"]["message_id"], id, "{v}");
    let (s, _) = srv.get("/v1/complaints", &carrier).await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    // A flood from one phone: the 11th complaint in a day is refused; the first ten are kept.
    for i in 0..7 {
        let (s, v) = complain(
            &srv,
            &admin,
            json!({"phone": phone, "kind": "other", "text": format!("不明短信 {i}")}),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED, "{i}: {v}");
    }
    let (s, v) = complain(
        &srv,
        &admin,
        json!({"phone": phone, "kind": "other", "text": "one more"}),
    )
    .await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS, "{v}");
    assert_eq!(v["error"]["code"], "too_many_complaints");
    let (_, list) = srv.get("/v1/complaints?limit=500", &admin).await;
    assert_eq!(list["complaints"].as_array().unwrap().len(), 10);
    srv.clock.advance(jiff::SignedDuration::from_hours(25));
    let (s, _) = complain(
        &srv,
        &admin,
        json!({"phone": phone, "kind": "other", "text": "next day"}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED);

    // Reading: bad ids, other principals.
    for path in [
        "/v1/complaints/abc",
        "/v1/complaints/99999",
        "/v1/complaints/99999/evidence",
    ] {
        let (s, v) = srv.get(path, &admin).await;
        assert_eq!(
            (s, v["error"]["code"].as_str()),
            (StatusCode::NOT_FOUND, Some("not_found")),
            "{path}"
        );
    }

    // Suspension changes need the admin, a reason, and a state they apply to.
    let path = format!("/v1/senders/{}/suspension", shop.id);
    let (s, v) = srv
        .post(
            &path,
            &shop.key,
            json!({"action": "lift", "reason": "please"}),
        )
        .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("forbidden"))
    );
    let (s, v) = srv
        .post(&path, &admin, json!({"action": "suspend", "reason": "  "}))
        .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_field"))
    );
    let (s, v) = srv
        .post(
            &path,
            &admin,
            json!({"action": "lift", "reason": "nothing to lift"}),
        )
        .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("suspension_state"))
    );
    let (s, v) = srv
        .post(
            "/v1/senders/999/suspension",
            &admin,
            json!({"action": "suspend", "reason": "x"}),
        )
        .await;
    // An unknown id in the path is a missing resource (found by schemathesis, #14 item 8).
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found"))
    );
    let (s, v) = srv
        .post(
            &path,
            &admin,
            json!({"action": "suspend", "reason": "manual review of Double-11 campaign"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (s, v) = srv
        .post(
            &path,
            &admin,
            json!({"action": "confirm", "reason": "upheld after review"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["history"].as_array().unwrap().len(), 2);
    assert_eq!(v["suspended"], true);
    let other = self::shop(&srv, "别家").await;
    let (s, _) = srv.get(&path, &other.key).await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    // Reports: a sender reads its own row only (the HTML page is the admin's); bad bounds
    // named; CSV and an HTML page with inline charts.
    let (s, v) = srv
        .get("/v1/reports/senders?from=2026-11-01", &shop.key)
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let rows = v["senders"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "{v}");
    assert_eq!(rows[0]["sender_id"], shop.id);
    assert_eq!(v["unverified_complaints"], 0);
    let (s, _) = srv.get("/reports/senders?from=2026-11-01", &shop.key).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, v) = srv.get("/v1/reports/senders?from=yesterday", &admin).await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_query"))
    );
    let (s, v) = srv
        .get("/v1/reports/senders?from=2026-12-01&to=2026-11-01", &admin)
        .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_field"))
    );
    let (s, csv) = srv
        .get("/v1/reports/senders?format=csv&from=2026-11-01", &admin)
        .await;
    assert_eq!(s, StatusCode::OK);
    let csv = csv.as_str().unwrap();
    assert!(csv.starts_with("sender_id,name,sent,"), "{csv}");
    assert!(
        csv.lines()
            .any(|l| l.starts_with(&format!("{},好店,1,1,", shop.id))),
        "{csv}"
    );
    let (s, html) = srv.get("/reports/senders?from=2026-11-01", &admin).await;
    assert_eq!(s, StatusCode::OK);
    let html = html.as_str().unwrap();
    assert!(html.contains("<svg") && html.contains("好店"), "{html}");
}

/// Marketing dressed as a notice: if the send path caught it, a complaint finds it was never
/// handed off; if it went out, the verdict names the disguise. Either way it is not cleared.
#[tokio::test]
async fn disguised_marketing_declared_as_a_notice_is_never_cleared() {
    let srv = start(MORNING).await;
    let shop = shop(&srv, "好店").await;
    let phone = "13500000001";
    let text = "【好店】双11狂欢，全场5折起，爆款低至9.9元，点击 https://t.cn/x 领券抢购，回T退订";
    let d = srv.send(&shop.key, phone, text, "transactional").await;
    srv.inbox(phone).await;
    let (s, v) = complain(
        &srv,
        &srv.admin,
        json!({"phone": phone, "message_id": d["id"], "kind": "unwanted_marketing"}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let g = grounds(&v["complaint"]);
    if d["status"] == "accepted" {
        assert_eq!(g, ["disguised_marketing", "no_consent"], "{v}");
    } else {
        assert!(
            codes(&d).contains(&"reclassified_marketing".to_string()),
            "{d}"
        );
        assert_eq!(g, ["never_handed_off"], "{v}");
        assert_eq!(v["complaint"]["adjudication"]["verdict"], "unverified");
    }
}

fn evidence_verify(file: &std::path::Path, head: &str) -> (Option<i32>, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_consentry"))
        .args(["evidence", "verify"])
        .arg(file)
        .args(["--head", head])
        .output()
        .unwrap();
    (
        out.status.code(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// Issue #14, "audit anchoring": an evidence bundle could not be checked by a regulator with no
/// database. `consentry evidence verify FILE --head HEAD` recomputes every proven record, the
/// blocks to the head, and finds the anchored head on the way; a bundle edited by hand fails.
#[tokio::test]
async fn an_evidence_bundle_verifies_offline_against_a_published_head_and_an_edit_is_caught() {
    let srv = start(MORNING).await;
    let shop = shop(&srv, "好店").await;
    srv.consent(&shop.key, "13800000001", "opt_in", "sender")
        .await;
    let id = send_ad(&srv, &shop, "好店", "13800000001").await;
    let (s, v) = complain(
        &srv,
        &srv.admin,
        json!({"phone": "13800000001", "message_id": id, "kind": "unwanted_marketing"}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let complaint = v["complaint"]["id"].as_u64().unwrap();
    // The regulator's anchor: the head published right after the complaint.
    let (_, anchor) = srv
        .call(reqwest::Method::GET, "/v1/audit/head", None, None)
        .await;
    // Later traffic moves the head on; the bundle's way to the head passes the anchor.
    srv.consent(&shop.key, "13800000002", "opt_in", "sender")
        .await;
    let (s, bundle) = srv
        .get(&format!("/v1/complaints/{complaint}/evidence"), &srv.admin)
        .await;
    assert_eq!(s, StatusCode::OK, "{bundle}");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("evidence.json");
    std::fs::write(&file, bundle.to_string()).unwrap();

    let (code, out) = evidence_verify(&file, &anchor.to_string());
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("evidence holds"), "{out}");

    // The verdict turned in the file.
    let mut edited = bundle.clone();
    edited["complaint"]["adjudication"]["verdict"] = json!("no_violation");
    std::fs::write(&file, edited.to_string()).unwrap();
    let (code, out) = evidence_verify(&file, &anchor.to_string());
    assert_eq!(code, Some(2), "{out}");
    assert!(out.contains("not the one chained"), "{out}");

    // An event's stored column changed in its proof.
    let mut edited = bundle.clone();
    for p in edited["audit"]["proofs"].as_array_mut().unwrap() {
        if p["kind"] == "consent_event" {
            p["record"][3]["value"] = json!("opt_out");
        }
    }
    std::fs::write(&file, edited.to_string()).unwrap();
    let (code, out) = evidence_verify(&file, &anchor.to_string());
    assert_eq!(code, Some(2), "{out}");
    assert!(out.contains("do not digest"), "{out}");

    // A head that is not on the way (another chain, or one rewritten since).
    std::fs::write(&file, bundle.to_string()).unwrap();
    let (code, out) = evidence_verify(&file, &"ab".repeat(32));
    assert_eq!(code, Some(2), "{out}");
    assert!(out.contains("not on the way"), "{out}");
    // A head published before the complaint was chained proves nothing about it.
    let (code, out) = evidence_verify(&file, &format!("1:{}", "00".repeat(32)));
    assert_eq!(code, Some(2), "{out}");
}

/// Issue #14, item 12: a suspension stopped order notices and codes too, and customers of a
/// suspended shop lost their delivery notices. `[enforcement] suspension_blocks` is
/// `marketing` by default (shown in the suspension's answer); `all` stops everything.
#[tokio::test]
async fn a_suspended_shop_still_sends_order_notices_unless_suspension_blocks_all() {
    let srv = start(MORNING).await;
    let shop = shop(&srv, "好店").await;
    srv.consent(&shop.key, "13800000001", "opt_in", "sender")
        .await;
    let path = format!("/v1/senders/{}/suspension", shop.id);
    let (s, v) = srv
        .post(
            &path,
            &srv.admin,
            json!({"action": "suspend", "reason": "complaints under review"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(
        (&v["suspended"], &v["blocks"]),
        (&json!(true), &json!("marketing")),
        "{v}"
    );

    let notice = "【好店】您的订单已发货，快递单号 SF1234567890";
    let d = srv
        .send(&shop.key, "13800000001", notice, "transactional")
        .await;
    assert_eq!(d["status"], "accepted", "an order notice goes on: {d}");
    let d = srv
        .send(&shop.key, "13800000001", &ad("好店"), "marketing")
        .await;
    assert_eq!(d["status"], "rejected", "{d}");
    assert!(codes(&d).contains(&"sender_suspended".to_string()), "{d}");

    let mut all = srv.gateway.enforcement();
    all.suspension_blocks = complaints::SuspensionBlocks::All;
    srv.gateway.set_enforcement(all).unwrap();
    let (_, v) = srv.get(&path, &srv.admin).await;
    assert_eq!(v["blocks"], "all", "{v}");
    let d = srv
        .send(&shop.key, "13800000002", notice, "transactional")
        .await;
    assert_eq!(d["status"], "rejected", "{d}");
    assert!(codes(&d).contains(&"sender_suspended".to_string()), "{d}");
}
