//! Consumers' replies end to end through HTTP: `POST /v1/inbound` with the carrier key, what it
//! does to the ledger and to later sends, confirmations in the handset's inbox, bad input, and
//! one-click unsubscribe links.

#![allow(clippy::unwrap_used)]

mod common;

use common::{Server, codes, start, start_with};
use domain::SenderId;
use gateway::GatewayConfig;
use policy::PolicyConfig;
use reqwest::StatusCode;
use serde_json::{Value, json};
use store::KeyRole;

/// 10:00 in Shanghai.
const MORNING: &str = "2026-11-11T02:00:00Z";
const PHONE: &str = "13800138000";

fn ad(shop: &str) -> String {
    format!("【{shop}】双11狂欢，全场5折起，回T退订")
}

/// The carrier key, made the way `serve` makes it.
fn carrier_key(srv: &Server, dir: &tempfile::TempDir) -> String {
    srv.gateway
        .ensure_key(
            KeyRole::Carrier,
            "cs_carrier_",
            &dir.path().join("carrier.token"),
        )
        .unwrap()
        .unwrap()
}

struct Shop {
    id: u64,
    key: String,
    number: String,
    name: String,
}

async fn shop(srv: &Server, name: &str) -> Shop {
    let (id, key) = srv.shop(name).await;
    let number = srv
        .gateway
        .sender(SenderId(u32::try_from(id).unwrap()))
        .unwrap()
        .source_number;
    Shop {
        id,
        key,
        number,
        name: name.into(),
    }
}

async fn reply(srv: &Server, carrier: &str, from: &str, to: &str, text: &str) -> Value {
    let (s, v) = srv
        .post(
            "/v1/inbound",
            carrier,
            json!({"from": from, "to": to, "text": text}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{text:?}: {v}");
    v
}

fn ids(v: &Value) -> Vec<u64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap())
        .collect()
}

async fn history(srv: &Server, phone: &str) -> Vec<Value> {
    let (s, v) = srv.get(&format!("/v1/consents/{phone}"), &srv.admin).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v["history"].as_array().unwrap().clone()
}

/// A sample of the labelled corpus through HTTP: every intent the parser gives is what the
/// endpoint reports, and each intent has its effect on the replied-to sender.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corpus_sample_through_inbound() {
    let srv = start(MORNING).await;
    let dir = tempfile::tempdir().unwrap();
    let carrier = carrier_key(&srv, &dir);
    let a = shop(&srv, "甲店").await;
    let cases = replies::corpus::parse(replies::corpus::CORPUS_TSV).unwrap();
    let mut seen = std::collections::HashSet::new();
    let mut n = 0;
    for (i, case) in cases.iter().enumerate().filter(|(i, _)| i % 6 == 0) {
        // A fresh phone per reply, so one reply's effect cannot change another's.
        let phone = format!("1390000{i:04}");
        let v = reply(&srv, &carrier, &phone, &a.number, case.text).await;
        let line = case.line;
        assert_eq!(v["intent"], case.intent.as_str(), "corpus line {line}: {v}");
        assert_eq!(v["all_senders"], case.all_senders, "corpus line {line}");
        let effect = match (case.intent.as_str(), case.all_senders) {
            ("opt_out", true) => "opted_out_platform",
            ("opt_out", false) => "opted_out",
            ("opt_in", _) => "opted_in",
            ("help", _) => "help_sent",
            _ => "none",
        };
        assert_eq!(v["effect"], effect, "corpus line {line}: {v}");
        if effect == "opted_out" || effect == "opted_in" {
            assert_eq!(ids(&v["senders"]), vec![a.id], "corpus line {line}");
        }
        let events = history(&srv, &phone).await;
        assert_eq!(
            events.len(),
            usize::from(effect.starts_with("opted")),
            "line {line}"
        );
        seen.insert(case.intent);
        n += 1;
    }
    assert!(n >= 100, "{n} cases sampled");
    assert_eq!(seen.len(), 4, "every intent is in the sample");
}

/// The story of the issue: a consumer replies T, the opt-out is in the ledger with the reply as
/// evidence before the answer comes back, the next send is refused, one confirmation arrives.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reply_t_stops_marketing_before_the_answer_and_confirms_once() {
    let srv = start(MORNING).await;
    let dir = tempfile::tempdir().unwrap();
    let carrier = carrier_key(&srv, &dir);
    let a = shop(&srv, "甲店").await;
    srv.consent(&a.key, PHONE, "opt_in", "sender").await;
    let first = srv.send(&a.key, PHONE, &ad("甲店"), "marketing").await;
    assert_eq!(first["status"], "accepted");
    // The consumer replies to a message they received: wait for the hand-off first (otherwise
    // the reply may win the race and the message is, rightly, cancelled at hand-off).
    assert_eq!(srv.inbox(PHONE).await.len(), 1);

    let v = reply(&srv, &carrier, PHONE, &a.number, "Ｔ").await;
    assert_eq!(v["intent"], "opt_out");
    assert_eq!(v["attribution"], "sender");
    assert_eq!(v["effect"], "opted_out");
    assert_eq!(ids(&v["senders"]), vec![a.id]);
    let notice = v["notice"].as_u64().expect("a confirmation was queued");

    let events = history(&srv, PHONE).await;
    let last = events.last().unwrap();
    assert_eq!(
        (
            &last["action"],
            &last["source"],
            &last["actor"],
            &last["evidence"]
        ),
        (
            &json!("opt_out"),
            &json!("reply"),
            &json!("reply"),
            &json!("Ｔ")
        )
    );
    // The next day (so the daily cap is not what refuses it), the send is refused for the opt-out.
    srv.clock.set("2026-11-12T02:00:00Z".parse().unwrap());
    let next = srv.send(&a.key, PHONE, &ad("甲店"), "marketing").await;
    assert_eq!(codes(&next), vec!["opted_out"], "{next}");
    srv.clock.set(MORNING.parse().unwrap());

    // Replying again the same day commits again but sends no second confirmation.
    let again = reply(&srv, &carrier, PHONE, &a.number, "退订").await;
    assert_eq!(again["effect"], "opted_out");
    assert!(again["notice"].is_null(), "{again}");

    let inbox = srv.inbox(PHONE).await;
    let got: Vec<u64> = inbox.iter().map(|m| m["id"].as_u64().unwrap()).collect();
    assert_eq!(got, vec![first["id"].as_u64().unwrap(), notice]);
    let confirmation = &inbox[1];
    assert_eq!(confirmation["category"], "transactional");
    assert_eq!(confirmation["sender_id"], 0, "sent in the platform's name");
    let text = confirmation["text"].as_str().unwrap();
    assert!(text.contains("甲店") && text.contains("退订"), "{text}");
}

/// A sender cannot pre-empt a refusal with a consent dated ahead of the clock: the event takes
/// effect when it is recorded, so the consumer's later T wins and nothing more is sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_future_dated_opt_in_cannot_outrank_a_later_opt_out() {
    let srv = start(MORNING).await;
    let dir = tempfile::tempdir().unwrap();
    let carrier = carrier_key(&srv, &dir);
    let a = shop(&srv, "甲店").await;
    let ahead = "2026-11-11T02:04:00Z"; // MORNING + 4 minutes: inside the skew allowance
    assert!(MORNING.starts_with("2026-11-11T02:00"), "{MORNING}");
    let (code, v) = srv
        .post(
            "/v1/consents",
            &a.key,
            json!({"phone": PHONE, "action": "opt_in", "scope": "sender", "source": "web",
                   "evidence": "signup", "at": ahead}),
        )
        .await;
    assert_eq!(code, 201, "{v}");
    assert_eq!(
        v["event"]["at"], MORNING,
        "recorded as of now, not of the future: {v}"
    );
    srv.clock.advance(jiff::SignedDuration::from_mins(1));
    let t = reply(&srv, &carrier, PHONE, &a.number, "T").await;
    assert_eq!(t["effect"], "opted_out", "{t}");
    // Still before the opt-in's claimed time, and after it: refused for the opt-out.
    for minutes in [1, 10] {
        srv.clock.advance(jiff::SignedDuration::from_mins(minutes));
        let d = srv.send(&a.key, PHONE, &ad("甲店"), "marketing").await;
        assert_eq!(codes(&d), vec!["opted_out"], "{d}");
    }
    let (_, view) = srv.get(&format!("/v1/consents/{PHONE}"), &a.key).await;
    assert_eq!(view["senders"][0]["state"], "opted_out", "{view}");
}

/// A reply to the base number (or an extension nobody has) stops every sender that sent this
/// phone marketing in the window, and only those; with none, it stops all of them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn base_number_reply_stops_the_recent_senders() {
    let srv = start(MORNING).await;
    let dir = tempfile::tempdir().unwrap();
    let carrier = carrier_key(&srv, &dir);
    let base = srv.gateway.config().platform_number.clone();
    let a = shop(&srv, "甲店").await;
    let b = shop(&srv, "乙店").await;
    let c = shop(&srv, "丙店").await;
    for s in [&a, &b, &c] {
        srv.consent(&s.key, PHONE, "opt_in", "sender").await;
    }
    for s in [&a, &b] {
        let d = srv.send(&s.key, PHONE, &ad(&s.name), "marketing").await;
        assert_eq!(d["status"], "accepted", "{d}");
    }
    let v = reply(
        &srv,
        &carrier,
        &format!("+86{PHONE}"),
        &base,
        "不要再给我发广告了",
    )
    .await;
    assert_eq!(v["attribution"], "platform_number");
    assert_eq!(v["effect"], "opted_out");
    assert_eq!(ids(&v["senders"]), vec![a.id, b.id]);
    let text = srv.inbox(PHONE).await.last().unwrap()["text"].clone();
    assert!(
        text.as_str().unwrap().contains("甲店、乙店"),
        "one confirmation names both: {text}"
    );
    // 丙店 never wrote, so its consent stands.
    let d = srv.send(&c.key, PHONE, &ad("丙店"), "marketing").await;
    assert_eq!(d["status"], "accepted", "{d}");

    // A carrier's `86` prefix and an unknown extension: unattributed, same rule.
    let other = "13700137000";
    srv.consent(&a.key, other, "opt_in", "sender").await;
    srv.send(&a.key, other, &ad("甲店"), "marketing").await;
    let v = reply(&srv, &carrier, other, &format!("86{base}9999"), "TD").await;
    assert_eq!(v["attribution"], "unattributed");
    assert_eq!(ids(&v["senders"]), vec![a.id]);

    // Nobody sent this phone marketing: the refusal covers every sender.
    let quiet = "13600136000";
    let v = reply(&srv, &carrier, quiet, &base, "T").await;
    assert_eq!(v["effect"], "opted_out_platform", "{v}");
    assert_eq!(history(&srv, quiet).await[0]["scope"], "platform");
}

/// STOPALL is platform-wide; START re-subscribes only the sender replied to, and START to the
/// base number grants nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopall_is_platform_wide_and_start_resubscribes_one_sender() {
    let srv = start(MORNING).await;
    let dir = tempfile::tempdir().unwrap();
    let carrier = carrier_key(&srv, &dir);
    let a = shop(&srv, "甲店").await;
    let b = shop(&srv, "乙店").await;
    for s in [&a, &b] {
        srv.consent(&s.key, PHONE, "opt_in", "sender").await;
    }
    let v = reply(&srv, &carrier, PHONE, &a.number, "全部退订").await;
    assert_eq!(v["effect"], "opted_out_platform");
    assert_eq!(ids(&v["senders"]), Vec::<u64>::new());
    let d = srv.send(&b.key, PHONE, &ad("乙店"), "marketing").await;
    assert_eq!(codes(&d), vec!["opted_out"], "{d}");

    let base = srv.gateway.config().platform_number.clone();
    let v = reply(&srv, &carrier, PHONE, &base, "START").await;
    assert_eq!(
        (&v["intent"], &v["effect"]),
        (&json!("opt_in"), &json!("none"))
    );
    assert!(v["events"].as_array().unwrap().is_empty());

    srv.clock.advance(jiff::SignedDuration::from_secs(5));
    let v = reply(&srv, &carrier, PHONE, &a.number, "START").await;
    assert_eq!(v["effect"], "opted_in");
    assert_eq!(ids(&v["senders"]), vec![a.id]);
    let d = srv.send(&a.key, PHONE, &ad("甲店"), "marketing").await;
    assert_eq!(d["status"], "accepted", "{d}");
    let d = srv.send(&b.key, PHONE, &ad("乙店"), "marketing").await;
    assert_eq!(codes(&d), vec!["opted_out"], "乙店 stays refused: {d}");
}

/// HELP is answered with the sender's name and number, once a day, as a transactional message
/// that does not use up the sender's marketing allowance.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn help_is_answered_once_a_day_and_is_not_marketing() {
    let srv = start(MORNING).await;
    let dir = tempfile::tempdir().unwrap();
    let carrier = carrier_key(&srv, &dir);
    let a = shop(&srv, "甲店").await;
    srv.consent(&a.key, PHONE, "opt_in", "sender").await;
    let v = reply(&srv, &carrier, PHONE, &a.number, "帮助").await;
    assert_eq!(
        (&v["intent"], &v["effect"]),
        (&json!("help"), &json!("help_sent"))
    );
    let again = reply(&srv, &carrier, PHONE, &a.number, "HELP").await;
    assert_eq!(again["effect"], "none");
    assert!(again["notice"].is_null());
    let inbox = srv.inbox(PHONE).await;
    assert_eq!(inbox.len(), 1);
    let text = inbox[0]["text"].as_str().unwrap();
    assert!(text.contains("甲店") && text.contains(&a.number), "{text}");
    assert_eq!(inbox[0]["category"], "transactional");
    // The one marketing message a day this sender may send still goes.
    let d = srv.send(&a.key, PHONE, &ad("甲店"), "marketing").await;
    assert_eq!(d["status"], "accepted", "{d}");
    assert!(
        history(&srv, PHONE).await.len() == 1,
        "help changes no consent"
    );
}

/// Marketing deferred for quiet hours is cancelled when the opt-out arrives, not at release.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deferred_marketing_is_cancelled_by_the_opt_out() {
    // 21:00 in Shanghai: quiet hours.
    let srv = start("2026-11-11T13:00:00Z").await;
    let dir = tempfile::tempdir().unwrap();
    let carrier = carrier_key(&srv, &dir);
    let a = shop(&srv, "甲店").await;
    srv.consent(&a.key, PHONE, "opt_in", "sender").await;
    let d = srv.send(&a.key, PHONE, &ad("甲店"), "marketing").await;
    assert_eq!(d["status"], "deferred", "{d}");
    let id = d["id"].as_u64().unwrap();
    let v = reply(&srv, &carrier, PHONE, &a.number, "stop sending me these").await;
    assert_eq!(ids(&v["cancelled"]), vec![id]);
    let (_, m) = srv.get(&format!("/v1/messages/{id}"), &a.key).await;
    assert_eq!(m["status"], "rejected", "{m}");
    assert_eq!(codes(&m), vec!["opted_out"]);
    assert_eq!(m["delivery"], "not_sent");
    // Morning comes; nothing but the confirmation ever reaches the handset.
    srv.clock.set("2026-11-12T01:00:00Z".parse().unwrap());
    srv.gateway.tick().unwrap();
    let inbox = srv.inbox(PHONE).await;
    assert_eq!(inbox.len(), 1);
    assert_eq!(inbox[0]["sender_id"], 0);
}

/// Whichever door a refusal comes through, held marketing is cancelled when it is recorded:
/// here the sender's own API call, then an operator's platform-wide opt-out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deferred_marketing_is_cancelled_by_an_opt_out_recorded_through_the_api() {
    let srv = start("2026-11-11T13:00:00Z").await; // 21:00 in Shanghai: quiet hours
    let a = shop(&srv, "甲店").await;
    let b = shop(&srv, "乙店").await;
    const OTHER: &str = "+8613900139001";
    for phone in [PHONE, OTHER] {
        for s in [&a, &b] {
            srv.consent(&s.key, phone, "opt_in", "sender").await;
        }
    }
    let mut held = Vec::new();
    for (s, phone) in [(&a, PHONE), (&b, PHONE), (&a, OTHER)] {
        let d = srv.send(&s.key, phone, &ad(&s.name), "marketing").await;
        assert_eq!(d["status"], "deferred", "{d}");
        held.push(d["id"].as_u64().unwrap());
    }
    let status = |id: u64, key: String| {
        let srv = &srv;
        async move {
            let (_, m) = srv.get(&format!("/v1/messages/{id}"), &key).await;
            (m["status"].as_str().unwrap().to_owned(), codes(&m))
        }
    };
    // 甲店 records its customer's refusal: only 甲店's message to that phone is cancelled.
    srv.consent(&a.key, PHONE, "opt_out", "sender").await;
    assert_eq!(
        status(held[0], a.key.clone()).await,
        ("rejected".into(), vec!["opted_out".to_owned()])
    );
    assert_eq!(status(held[1], b.key.clone()).await.0, "deferred");
    assert_eq!(status(held[2], a.key.clone()).await.0, "deferred");
    // The operator records "refuse all shop marketing" for the phone: 乙店's goes too.
    let (code, v) = srv
        .post(
            "/v1/consents",
            &srv.admin,
            serde_json::json!({"phone": PHONE, "action": "opt_out", "scope": "platform",
                               "source": "hotline", "evidence": "refused all shop marketing by phone"}),
        )
        .await;
    assert_eq!(code, 201, "{v}");
    assert_eq!(
        status(held[1], b.key.clone()).await,
        ("rejected".into(), vec!["opted_out".to_owned()])
    );
    // Morning: the other phone's message, untouched, is the only one sent.
    srv.clock.set("2026-11-12T01:00:00Z".parse().unwrap());
    srv.gateway.tick().unwrap();
    assert_eq!(status(held[2], a.key.clone()).await.0, "accepted");
    srv.gateway.dispatch_queued();
    assert!(srv.inbox(PHONE).await.is_empty());
    assert_eq!(srv.inbox(OTHER).await.len(), 1);
}

/// Bad input gets a clear error or `other`, never a panic, never a consent change for a phone
/// that did not write; a replayed request changes nothing the second time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_and_replays() {
    let srv = start(MORNING).await;
    let dir = tempfile::tempdir().unwrap();
    let carrier = carrier_key(&srv, &dir);
    let a = shop(&srv, "甲店").await;
    srv.consent(&a.key, PHONE, "opt_in", "sender").await;
    let post = |body: Value, key: String| {
        let srv = &srv;
        async move { srv.post("/v1/inbound", &key, body).await }
    };
    let c = || carrier.clone();
    // Texts that mean nothing are `other` and change nothing.
    let junk = [
        String::new(),
        "   ".into(),
        "好".repeat(10 * 1024 / 3),
        "\u{0}\u{1}\u{7f}\u{fffd}\u{202e}\u{200b}".into(),
        "\u{feff}%PDF-1.4 \u{1}\u{2}\u{3}".into(),
    ];
    for text in &junk {
        let (s, v) = post(json!({"from": PHONE, "to": a.number, "text": text}), c()).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(
            v["effect"],
            "none",
            "{:?}: {v}",
            text.chars().take(20).collect::<String>()
        );
    }
    // A 10 KB refusal is still read (the start of it).
    let long = format!("退订{}", "。".repeat(10 * 1024 / 3));
    let (s, v) = post(
        json!({"from": "13700137000", "to": a.number, "text": long}),
        c(),
    )
    .await;
    assert_eq!(
        (s, &v["intent"]),
        (StatusCode::OK, &json!("opt_out")),
        "{v}"
    );

    // Numbers that are not numbers are refused and nothing is recorded.
    for (from, to, code) in [
        ("abc", a.number.as_str(), "invalid_number"),
        ("+86123", a.number.as_str(), "invalid_number"),
        ("", a.number.as_str(), "invalid_number"),
        ("138001380001380013800", a.number.as_str(), "invalid_number"),
        (PHONE, "", "invalid_field"),
        (PHONE, "1069abc", "invalid_field"),
        (PHONE, "1".repeat(40).as_str(), "invalid_field"),
    ] {
        let (s, v) = post(json!({"from": from, "to": to, "text": "T"}), c()).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{from:?} {to:?}: {v}");
        assert_eq!(v["error"]["code"], code, "{from:?} {to:?}");
    }
    let (s, v) = post(
        json!({"from": PHONE, "to": a.number, "text": "T", "extra": 1}),
        c(),
    )
    .await;
    assert_eq!(
        (s, &v["error"]["code"]),
        (StatusCode::UNPROCESSABLE_ENTITY, &json!("invalid_body"))
    );
    let (s, _) = post(
        json!({"from": PHONE, "to": a.number, "text": "T"}),
        srv.admin.clone(),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "the admin key is not the carrier");
    let (s, _) = post(
        json!({"from": PHONE, "to": a.number, "text": "T"}),
        a.key.clone(),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "a sender cannot post replies");
    let (s, v) = post(
        json!({"from": PHONE, "to": a.number, "text": "T", "received_at": "2026-11-12T02:00:00Z"}),
        c(),
    )
    .await;
    assert_eq!(
        (s, &v["error"]["code"]),
        (StatusCode::UNPROCESSABLE_ENTITY, &json!("invalid_field"))
    );
    assert!(
        history(&srv, PHONE).await.len() == 1,
        "only the opt-in so far"
    );

    // A replay: the same reply twice is one opt-out and one confirmation. (Sent after the
    // opt-in: a reply dated before it would be outranked by it and confirm nothing.)
    srv.clock.advance(jiff::SignedDuration::from_mins(1));
    let body =
        json!({"from": PHONE, "to": a.number, "text": "T", "received_at": "2026-11-11T02:00:30Z"});
    let (_, first) = post(body.clone(), c()).await;
    let (_, second) = post(body, c()).await;
    assert_eq!(first["effect"], "opted_out");
    assert_eq!(second["replayed"], true);
    assert_eq!(second["reply_id"], first["reply_id"]);
    assert_eq!(second["events"], first["events"]);
    assert_eq!(history(&srv, PHONE).await.len(), 2);
    let confirmations = srv
        .inbox(PHONE)
        .await
        .iter()
        .filter(|m| m["sender_id"] == 0)
        .count();
    assert_eq!(confirmations, 1);
    // The opt-out landed on the phone that wrote, written any way, and no other.
    assert_eq!(history(&srv, "+86 138-0013-8000").await.len(), 2);
    assert!(history(&srv, "13800138001").await.is_empty());
}

fn link_in(text: &str) -> String {
    let at = text.find("/u/").expect("a link in the text");
    text[at + 3..at + 3 + 22].to_string()
}

/// `{unsubscribe}` becomes a per-message link; GET only shows, POST opts out of that sender.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_click_links_are_per_message_and_only_post_opts_out() {
    let srv = start_with(
        MORNING,
        PolicyConfig::default(),
        GatewayConfig {
            tick_ms: 20,
            public_url: "https://c.example/".into(),
            ..GatewayConfig::default()
        },
    )
    .await;
    let a = shop(&srv, "甲店<b>").await;
    let b = shop(&srv, "乙店").await;
    let other = "13700137000";
    for p in [PHONE, other] {
        srv.consent(&a.key, p, "opt_in", "sender").await;
        srv.consent(&b.key, p, "opt_in", "sender").await;
    }
    let text = "【甲店<b>】双11全场5折，回T退订 {unsubscribe}";
    let (s, v) = srv
        .post(
            "/v1/messages/batch",
            &a.key,
            json!({"to": [PHONE, other], "text": text, "category": "marketing"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let mine = srv.inbox(PHONE).await[0]["text"]
        .as_str()
        .unwrap()
        .to_string();
    let theirs = srv.inbox(other).await[0]["text"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        mine.starts_with("【甲店<b>】双11全场5折，回T退订 https://c.example/u/"),
        "{mine}"
    );
    let (token, other_token) = (link_in(&mine), link_in(&theirs));
    assert_ne!(token, other_token, "one link per message");

    let page = |method: reqwest::Method, token: String| {
        let srv = &srv;
        async move {
            let r = srv
                .http
                .request(method, format!("{}/u/{token}", srv.base))
                .send()
                .await
                .unwrap();
            (r.status(), r.text().await.unwrap())
        }
    };
    // A link scanner's GET (twice) changes nothing.
    for _ in 0..2 {
        let (s, html) = page(reqwest::Method::GET, token.clone()).await;
        assert_eq!(s, StatusCode::OK);
        assert!(
            html.contains("甲店&lt;b&gt;") && html.contains("method=\"post\""),
            "{html}"
        );
        assert!(
            !html.contains("<b>】") && !html.contains("http://") && !html.contains("https://"),
            "no external assets: {html}"
        );
    }
    assert!(
        history(&srv, PHONE)
            .await
            .iter()
            .all(|e| e["action"] == "opt_in")
    );

    let (s, html) = page(reqwest::Method::POST, token.clone()).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        html.contains("甲店&lt;b&gt;") && html.contains("已退订"),
        "{html}"
    );
    let events = history(&srv, PHONE).await;
    let last = events.last().unwrap();
    assert_eq!(
        (&last["action"], &last["source"], &last["sender"]),
        (&json!("opt_out"), &json!("portal"), &json!(a.id))
    );
    // A second POST adds nothing; the other phone and the other sender are untouched.
    page(reqwest::Method::POST, token.clone()).await;
    assert_eq!(history(&srv, PHONE).await.len(), events.len());
    assert!(
        history(&srv, other)
            .await
            .iter()
            .all(|e| e["action"] == "opt_in")
    );
    let d = srv.send(&b.key, PHONE, &ad("乙店"), "marketing").await;
    assert_eq!(d["status"], "accepted", "{d}");

    for bad in ["AAAAAAAAAAAAAAAAAAAAAA", "short", "..%2F..%2Fetc"] {
        let (s, _) = page(reqwest::Method::GET, bad.into()).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{bad}");
        let (s, _) = page(reqwest::Method::POST, bad.into()).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{bad}");
    }
}

/// The new routes are described in the OpenAPI document.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inbound_and_unsubscribe_routes_are_in_openapi() {
    let srv = start(MORNING).await;
    let doc: Value = srv
        .http
        .get(format!("{}/openapi.json", srv.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let paths = &doc["paths"];
    assert!(paths["/v1/inbound"]["post"].is_object(), "{paths}");
    assert!(paths["/u/{token}"]["get"].is_object(), "{paths}");
    assert!(paths["/u/{token}"]["post"].is_object(), "{paths}");
}

/// Issue #14, item 4: the consumer replied 全部退订 (acknowledged), the merchant then posted an
/// opt-in with its key and free-text evidence, and its next marketing was accepted. Now the
/// opt-in is refused (409 `consumer_refused`, naming the refusal); an opt-in stored without that
/// check does not lift the refusal either (the fold and the index rebuilt from the store ignore
/// it); the consumer's own consent through the portal lifts it.
#[tokio::test]
async fn a_merchant_cannot_undo_the_consumers_own_refusal() {
    let srv = start(MORNING).await;
    let dir = tempfile::tempdir().unwrap();
    let carrier = carrier_key(&srv, &dir);
    let a = shop(&srv, "好店").await;
    let first = srv.consent(&a.key, PHONE, "opt_in", "sender").await;
    assert_eq!(
        first["effect"],
        json!({"before": "no_consent", "after": "consented", "changed": true}),
        "{first}"
    );
    let v = reply(&srv, &carrier, PHONE, &a.number, "全部退订").await;
    assert_eq!(v["intent"], "opt_out", "{v}");
    let refusal = ids(&v["events"])[0];

    let (s, v) = srv
        .post(
            "/v1/consents",
            &a.key,
            json!({"phone": PHONE, "action": "opt_in", "scope": "sender", "source": "web",
                   "evidence": "the customer agreed on the phone, honest"}),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    assert_eq!(v["error"]["code"], "consumer_refused", "{v}");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains(&format!("ledger event {refusal}")),
        "{v}"
    );
    let d = srv.send(&a.key, PHONE, &ad(&a.name), "marketing").await;
    assert_eq!(d["status"], "rejected", "{d}");
    assert!(codes(&d).contains(&"opted_out".to_string()), "{d}");

    // An opt-in stored without the check (an older gateway, a bulk load): no effect.
    srv.clock.advance(jiff::SignedDuration::from_mins(1));
    let stored = srv
        .gateway
        .commit_consents(&[store::NewConsent {
            phone: domain::Msisdn::parse(PHONE, domain::Region::CN).unwrap(),
            scope: domain::Scope::Sender,
            sender: Some(SenderId(u32::try_from(a.id).unwrap())),
            action: domain::ConsentAction::OptIn,
            source: domain::ConsentSource::Web,
            evidence: "slipped in".into(),
            actor: format!("sender:{}", a.id),
            at: domain::Clock::now(&srv.clock),
        }])
        .unwrap();
    assert_eq!(stored.len(), 1);
    let d = srv.send(&a.key, PHONE, &ad(&a.name), "marketing").await;
    assert_eq!(d["status"], "rejected", "{d}");
    let (_, view) = srv.get(&format!("/v1/consents/{PHONE}"), &a.key).await;
    assert_eq!(view["senders"][0]["state"], "opted_out", "{view}");
    assert_eq!(view["senders"][0]["decided_by"], refusal, "{view}");
    assert_eq!(view["senders"][0]["send_path"], "refused", "{view}");
    // The index rebuilt from the store at start agrees.
    let again = gateway::Gateway::open(
        store::Store::open_sqlite(srv.data_dir(), store::Durability::Normal).unwrap(),
        GatewayConfig::default(),
        policy::Policy::new(&PolicyConfig::default()).unwrap(),
        std::sync::Arc::new(srv.clock.clone()),
        std::sync::Arc::new(gateway::LoopbackCarrier),
    )
    .unwrap();
    let view = again
        .consents(gateway::Principal::Admin, PHONE, None)
        .unwrap();
    assert_eq!(view.senders[0].send_path, Some("refused"), "{view:?}");
    drop(again);

    // The consumer's own word lifts it: START to the shop's number.
    srv.clock.advance(jiff::SignedDuration::from_mins(1));
    let v = reply(&srv, &carrier, PHONE, &a.number, "START").await;
    assert_eq!(v["intent"], "opt_in", "{v}");
    let d = srv.send(&a.key, PHONE, &ad(&a.name), "marketing").await;
    assert_eq!(d["status"], "accepted", "{d}");
    // And an opt-out already in force changes nothing, and says so.
    let (_, v) = srv
        .post(
            "/v1/consents",
            &a.key,
            json!({"phone": "13800138999", "action": "opt_out", "scope": "sender", "source": "web"}),
        )
        .await;
    let (s, v2) = srv
        .post(
            "/v1/consents",
            &a.key,
            json!({"phone": "13800138999", "action": "opt_out", "scope": "sender", "source": "web"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v2}");
    assert_eq!(v["effect"]["changed"], true, "{v}");
    assert_eq!(
        v2["effect"],
        json!({"before": "opted_out", "after": "opted_out", "changed": false}),
        "{v2}"
    );
}

/// Issue #12: a "举报" reply was flagged `report: true` and filed nothing. It now files the
/// consumer's own complaint on the number the reply came from, against the shop whose number
/// was replied to, about its last message there; a second report finds the same complaint.
#[tokio::test]
async fn a_report_reply_files_the_consumers_own_complaint_about_the_shops_last_message() {
    let srv = start(MORNING).await;
    let dir = tempfile::tempdir().unwrap();
    let carrier = carrier_key(&srv, &dir);
    let a = shop(&srv, "甲店").await;
    let b = shop(&srv, "乙店").await;
    srv.consent(&a.key, PHONE, "opt_in", "sender").await;
    srv.consent(&b.key, PHONE, "opt_in", "sender").await;
    let first = srv.send(&a.key, PHONE, &ad("甲店"), "marketing").await;
    // Handed off before the day turns: a marketing message still queued on a new day is
    // decided again (and counted) on that day, which would then cap the next one.
    assert_eq!(srv.inbox(PHONE).await.len(), 1);
    // The next day (one marketing message a shop a day).
    srv.clock.advance(jiff::SignedDuration::from_hours(24));
    let last = srv.send(&a.key, PHONE, &ad("甲店"), "marketing").await;
    let other = srv.send(&b.key, PHONE, &ad("乙店"), "marketing").await;
    for d in [&first, &last, &other] {
        assert_eq!(d["status"], "accepted", "{d}");
    }
    assert_eq!(srv.inbox(PHONE).await.len(), 3);

    let v = reply(&srv, &carrier, PHONE, &a.number, "举报").await;
    assert_eq!(v["report"], true, "{v}");
    assert_eq!(
        v["effect"], "opted_out",
        "a report also refuses the shop: {v}"
    );
    let id = v["complaint"]
        .as_u64()
        .unwrap_or_else(|| panic!("no complaint: {v}"));
    let (s, c) = srv.get(&format!("/v1/complaints/{id}"), &srv.admin).await;
    assert_eq!(s, StatusCode::OK, "{c}");
    assert_eq!(c["filed_by"], "consumer", "{c}");
    assert_eq!(c["phone"], "+8613800138000", "{c}");
    assert_eq!(c["sender"], a.id, "{c}");
    assert_eq!(c["message_id"], last["id"], "the shop's last message: {c}");
    assert_eq!(c["kind"], "unwanted_marketing", "{c}");
    assert_eq!(c["note"], "举报", "{c}");

    // Reporting again files nothing new; a plain refusal files nothing at all.
    let again = reply(&srv, &carrier, PHONE, &a.number, "举报垃圾短信").await;
    assert_eq!(again["complaint"], id, "{again}");
    let plain = reply(&srv, &carrier, PHONE, &b.number, "T").await;
    assert!(plain["complaint"].is_null(), "{plain}");
    let (_, list) = srv.get("/v1/complaints", &srv.admin).await;
    assert_eq!(list["complaints"].as_array().unwrap().len(), 1, "{list}");
}
