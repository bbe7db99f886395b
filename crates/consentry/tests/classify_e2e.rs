//! The content classifier on the send path, end to end through HTTP: marketing dressed as a
//! verification code is decided as marketing, a real code goes through, phishing is refused,
//! and every decision keeps the scores it was made with.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod common;

use common::{Server, codes, start};
use gateway::{ClassifyConfig, ContentClassifier};
use serde_json::{Value, json};

const PHONE: &str = "13800138000";

/// 10:00 in Shanghai on 11 November, with the shipped `[classify]` defaults on.
async fn start_classified() -> Server {
    let srv = start("2026-11-11T02:00:00Z").await;
    let classifier = ContentClassifier::from_config(&ClassifyConfig::default())
        .unwrap()
        .unwrap();
    assert!(srv.gateway.set_classifier(classifier));
    srv
}

async fn stored(srv: &Server, key: &str, d: &Value) -> Value {
    let (s, m) = srv.get(&format!("/v1/messages/{}", d["id"]), key).await;
    assert_eq!(s, reqwest::StatusCode::OK, "{m}");
    m
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_verification_code_hiding_a_sale_is_rejected_as_marketing_without_consent() {
    let srv = start_classified().await;
    let (_, key) = srv.shop("好店").await;
    let d = srv
        .send(
            &key,
            PHONE,
            "【好店】验证码001，双11全场5折，点击领取优惠券",
            "verification",
        )
        .await;
    assert_eq!(d["status"], "rejected", "{d}");
    let codes = codes(&d);
    assert!(codes.contains(&"reclassified_marketing".to_string()), "{d}");
    assert!(codes.contains(&"no_consent".to_string()), "{d}");
    assert!(
        codes.contains(&"missing_optout_text".to_string()),
        "marketing rules apply in full: {d}"
    );
    let m = stored(&srv, &key, &d).await;
    assert_eq!(m["category"], "marketing", "{m}");
    assert_eq!(m["content_scores"]["category"], "marketing", "{m}");
    assert!(
        m["content_scores"]["scores"]["marketing"].as_f64().unwrap() >= 0.8,
        "calibrated, at or above the default threshold: {m}"
    );
    assert_eq!(m["content_scores"]["scores"].as_object().unwrap().len(), 5);
}

/// The story: a shipping notice with a selling tail, declared transactional, was
/// delivered without consent (the whole text read 0.59 marketing). Read clause by clause it
/// is marketing, and the decision quotes the clause that sells.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shipping_notice_with_a_selling_tail_is_marketing_and_the_reason_quotes_the_tail() {
    let srv = start_classified().await;
    let (_, key) = srv.shop("好店旗舰店").await;
    let text = "【好店旗舰店】您的订单已发货，预计明天送达。另外双11全场5折，点击领取优惠券";
    let d = srv.send(&key, PHONE, text, "transactional").await;
    assert_eq!(d["status"], "rejected", "{d}");
    let reasons = d["reasons"].as_array().unwrap();
    let re = reasons
        .iter()
        .find(|r| r["code"] == "reclassified_marketing")
        .unwrap_or_else(|| panic!("no reclassified_marketing: {d}"));
    assert!(
        re["detail"].as_str().unwrap().contains("«另外双11全场5折"),
        "{re}"
    );
    assert!(codes(&d).contains(&"no_consent".to_string()), "{d}");
    let m = stored(&srv, &key, &d).await;
    assert!(
        m["content_scores"]["clause"]
            .as_str()
            .unwrap()
            .starts_with("另外双11"),
        "{m}"
    );
    assert!(srv.inbox(PHONE).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reclassified_marketing_with_consent_and_refusal_text_goes_as_marketing() {
    let srv = start_classified().await;
    let (_, key) = srv.shop("好店").await;
    srv.consent(&key, PHONE, "opt_in", "sender").await;
    let d = srv
        .send(
            &key,
            PHONE,
            "【好店】验证码001，双11全场5折，点击领取优惠券，回T退订",
            "transactional",
        )
        .await;
    assert_eq!(d["status"], "accepted", "{d}");
    assert_eq!(codes(&d), vec!["reclassified_marketing"], "{d}");
    // It counts as marketing: the daily per-sender cap (1) now refuses a second advert.
    let again = srv
        .send(
            &key,
            PHONE,
            "【好店】验证码002，双12全场5折，点击领取优惠券，回T退订",
            "transactional",
        )
        .await;
    assert!(
        codes(&again).contains(&"cap_sender_daily".to_string()),
        "{again}"
    );
    let inbox = srv.inbox(PHONE).await;
    assert_eq!(inbox.len(), 1);
    assert_eq!(inbox[0]["category"], "marketing", "{}", inbox[0]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_verification_code_goes_through_without_consent() {
    let srv = start_classified().await;
    let (_, key) = srv.shop("好店").await;
    let d = srv
        .send(
            &key,
            PHONE,
            "【好店】您的验证码是 482913，5分钟内有效，请勿泄露。",
            "verification",
        )
        .await;
    assert_eq!(d["status"], "accepted", "{d}");
    assert!(codes(&d).is_empty(), "{d}");
    let m = stored(&srv, &key, &d).await;
    assert_eq!(m["category"], "verification");
    assert_eq!(m["content_scores"]["category"], "verification", "{m}");
    let inbox = srv.inbox(PHONE).await;
    assert_eq!(inbox.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn phishing_is_rejected_as_fraud_even_with_consent() {
    let srv = start_classified().await;
    let (_, key) = srv.shop("好店").await;
    srv.consent(&key, PHONE, "opt_in", "sender").await;
    let d = srv
        .send(
            &key,
            PHONE,
            "【好店】您的账户存在异常，请立即登录 http://icbc-verify.top 重新验证身份，否则将被冻结",
            "transactional",
        )
        .await;
    assert_eq!(d["status"], "rejected", "{d}");
    assert!(codes(&d).contains(&"fraud_suspected".to_string()), "{d}");
    assert!(srv.inbox(PHONE).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_is_classified_once_and_every_recipient_keeps_the_scores() {
    let srv = start_classified().await;
    let (_, key) = srv.shop("好店").await;
    let to: Vec<String> = (0..5).map(|i| format!("1380013800{i}")).collect();
    let (s, v) = srv
        .post(
            "/v1/messages/batch",
            &key,
            json!({"to": to, "text": "【好店】验证码001，双11全场5折，点击领取优惠券", "category": "verification"}),
        )
        .await;
    assert_eq!(s, reqwest::StatusCode::OK, "{v}");
    let results = v["results"].as_array().unwrap();
    assert_eq!(results.len(), 5);
    let first = stored(&srv, &key, &results[0]).await;
    for r in results {
        assert!(
            codes(r).contains(&"reclassified_marketing".to_string()),
            "{r}"
        );
        let m = stored(&srv, &key, r).await;
        assert_eq!(m["content_scores"], first["content_scores"]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_classifier_the_declared_category_stands_and_no_scores_are_stored() {
    let srv = start("2026-11-11T02:00:00Z").await;
    let (_, key) = srv.shop("好店").await;
    let d = srv
        .send(
            &key,
            PHONE,
            "【好店】验证码001，双11全场5折，点击领取优惠券",
            "verification",
        )
        .await;
    assert_eq!(d["status"], "accepted", "{d}");
    let m = stored(&srv, &key, &d).await;
    assert!(m.get("content_scores").is_none(), "{m}");
}
