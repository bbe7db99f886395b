//! Complaint adjudication without HTTP: where the classifier reading comes from, and messages
//! that are not the complainant's.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use complaints::{ComplaintKind, ComplaintVerdict, Ground};
use domain::{Category, Clock, ManualClock, Msisdn, Region};
use gateway::{Gateway, GatewayConfig, GatewayError, LoopbackCarrier};
use policy::{Policy, PolicyConfig, Verdict};
use store::{Delivery, MessageLog, NewMessage, Store};

const TEXT: &str = "【好店】双11狂欢，全场5折起，点击领券抢购，回T退订";

fn gateway() -> Arc<Gateway> {
    let clock: Arc<dyn Clock> = Arc::new(ManualClock::new("2026-11-11T04:00:00Z".parse().unwrap()));
    Gateway::open(
        Store::open_in_memory().unwrap(),
        GatewayConfig::default(),
        Policy::new(&PolicyConfig::default()).unwrap(),
        clock,
        Arc::new(LoopbackCarrier),
    )
    .unwrap()
}

/// A delivered message recorded as an older version would have: declared a notice, no
/// classifier scores stored with it.
fn delivered(gw: &Gateway, phone: Msisdn, scores: Option<&str>) -> u64 {
    delivered_text(gw, phone, TEXT, scores)
}

fn delivered_text(gw: &Gateway, phone: Msisdn, text: &str, scores: Option<&str>) -> u64 {
    let (shop, _) = gw.create_sender("好店", "【好店】").unwrap();
    let at = "2026-11-11T03:00:00Z".parse().unwrap();
    let to = phone.to_string();
    let id = gw
        .store()
        .insert_messages(&[NewMessage {
            sender: shop.id,
            to: &to,
            phone: Some(phone),
            text,
            category: Category::Transactional,
            verdict: Verdict::Accepted,
            reasons: &[],
            decided_at: at,
            release_at: None,
            text_hash: gateway::text_hash(text),
            content_scores: scores,
        }])
        .unwrap()[0];
    gw.store()
        .set_delivery(&[(id, Delivery::Delivered, at)])
        .unwrap();
    id
}

fn phone(n: &str) -> Msisdn {
    Msisdn::parse(n, Region::CN).unwrap()
}

#[test]
fn a_message_without_stored_scores_is_read_now_and_judged_on_that() {
    let gw = gateway();
    let p = phone("13800000001");
    let id = delivered(&gw, p, None);
    let a = gw
        .adjudicate_message(ComplaintKind::UnwantedMarketing, p, id)
        .unwrap();
    let content = a
        .content
        .as_ref()
        .expect("the classifier read the stored text");
    assert_eq!(content.category, "marketing", "{content:?}");
    assert_eq!(a.verdict, ComplaintVerdict::Violation);
    assert_eq!(a.grounds()[0], Ground::DisguisedMarketing, "{a:?}");
}

#[test]
fn stored_scores_are_what_the_verdict_rests_on() {
    let gw = gateway();
    let p = phone("13800000002");
    // At send time the classifier read a notice; that reading, not today's, is the evidence.
    let scores = r#"{"category":"transactional","scores":{"marketing":0.1,"fraud":0.0,"transactional":0.8}}"#;
    let id = delivered(&gw, p, Some(scores));
    let a = gw
        .adjudicate_message(ComplaintKind::UnwantedMarketing, p, id)
        .unwrap();
    let content = a.content.clone().unwrap();
    assert_eq!(content.category, "transactional");
    assert!((content.marketing - 0.1).abs() < 1e-6);
    assert_eq!(a.verdict, ComplaintVerdict::NoViolation);
    assert_eq!(a.grounds(), [Ground::NotMarketing]);
}

/// The issue's story: a shipping notice with a selling tail, let through at send time (its
/// recorded p(marketing) 0.65 is under the 0.8 block), then complained about. The complaint
/// threshold is lower — the complaint is evidence too — so it is disguised marketing sent
/// without consent, and the finding quotes the clause that sells.
#[test]
fn a_complaint_about_a_notice_that_sells_is_judged_as_marketing_and_names_the_clause() {
    let gw = gateway();
    let p = phone("13800000005");
    let text = "【好店】您的订单已发货，预计明天送达。另外双11全场5折，点击领取优惠券";
    let scores = r#"{"category":"uncertain","scores":{"marketing":0.65,"fraud":0.0,"transactional":0.3},"clause":"另外双11全场5折，点击领取优惠券"}"#;
    let id = delivered_text(&gw, p, text, Some(scores));
    let a = gw
        .adjudicate_message(ComplaintKind::UnwantedMarketing, p, id)
        .unwrap();
    assert_eq!(a.verdict, ComplaintVerdict::Violation, "{a:?}");
    assert_eq!(
        a.grounds(),
        [Ground::DisguisedMarketing, Ground::NoConsent],
        "{a:?}"
    );
    assert!(a.findings[0].detail.contains("«另外双11全场5折"), "{a:?}");
}

#[test]
fn another_phones_message_reads_as_unknown() {
    let gw = gateway();
    let id = delivered(&gw, phone("13800000003"), None);
    let err = gw
        .adjudicate_message(ComplaintKind::Other, phone("13800000004"), id)
        .unwrap_err();
    assert!(
        matches!(err, GatewayError::UnknownMessage(m) if m == id),
        "{err}"
    );
    let err = gw
        .adjudicate_message(ComplaintKind::Other, phone("13800000003"), id + 1)
        .unwrap_err();
    assert_eq!(err.code(), "unknown_message");
}

/// A rare verdict's page is full and exact however many complaints of another verdict were
/// filed after it (the store filters on an index: no bounded scan leaves a short page to
/// follow), other orders page by offset, and a sender never sees the unverified ones.
#[test]
fn a_rare_verdict_is_found_past_thousands_of_others_and_a_sender_never_sees_unverified() {
    let gw = gateway();
    let p = phone("13800000001");
    let id = delivered(&gw, p, None);
    let shop = gw.message(gateway::Principal::Admin, id).unwrap().sender;
    let violation = gw
        .file_complaint(
            gateway::Principal::Admin,
            &gateway::ComplaintRequest {
                phone: p.to_string(),
                message_id: Some(id),
                sender_id: None,
                source_number: None,
                text: None,
                received_at: None,
                kind: ComplaintKind::UnwantedMarketing,
                note: None,
            },
        )
        .unwrap()
        .complaint;
    assert_eq!(violation.verdict(), ComplaintVerdict::Violation);
    // Thousands of unverified complaints after it (more than the old scan bound of 5,000).
    let n = 5_010;
    for i in 0..n {
        let c = gw
            .file_complaint(
                gateway::Principal::Admin,
                &gateway::ComplaintRequest {
                    phone: format!("1390000{i:04}"),
                    message_id: None,
                    sender_id: Some(shop),
                    source_number: None,
                    text: None,
                    received_at: None,
                    kind: ComplaintKind::UnwantedMarketing,
                    note: None,
                },
            )
            .unwrap()
            .complaint;
        assert_eq!(c.verdict(), ComplaintVerdict::Unverified);
    }
    let admin = gateway::Principal::Admin;
    let page = |by, verdict, sort, before, offset| {
        gw.complaint_page(
            by,
            store::ComplaintQuery {
                verdict,
                before,
                sort,
                offset,
                limit: 25,
                ..store::ComplaintQuery::default()
            },
        )
        .unwrap()
    };
    let newest = store::ComplaintSort::default();
    let first = page(admin, Some(ComplaintVerdict::Violation), newest, None, 0);
    assert_eq!(
        first.complaints.iter().map(|c| c.id).collect::<Vec<_>>(),
        [violation.id],
        "found on the first page"
    );
    assert_eq!((first.next_before, first.next_offset), (None, None));
    // A full page of the common verdict, with where the next one starts.
    let unverified = page(admin, Some(ComplaintVerdict::Unverified), newest, None, 0);
    assert_eq!(unverified.complaints.len(), 25);
    assert_eq!(
        unverified.next_before,
        unverified.complaints.last().map(|c| c.id)
    );
    assert_eq!(unverified.next_offset, Some(25));
    // Sorted by verdict, oldest first: `no_violation` < `unverified` < `violation`, so the
    // one violation is last; from the deepest page within reach there is no further offset.
    let by_verdict = store::ComplaintSort {
        column: store::ComplaintColumn::Verdict,
        descending: true,
    };
    let top = page(admin, None, by_verdict, None, 0);
    assert_eq!(
        top.complaints[0].id, violation.id,
        "violation sorts first descending"
    );
    assert_eq!(top.next_before, None, "only newest-first pages go by id");
    assert_eq!(top.next_offset, Some(25));
    let deep = page(admin, None, by_verdict, None, store::MAX_OFFSET);
    assert_eq!(deep.complaints.len(), 0);
    // A sender never sees the unverified ones: its queue is the violation alone, found past
    // thousands of them, with no next page.
    let shop = gateway::Principal::Sender(shop);
    let own = page(shop, None, newest, None, 0);
    assert_eq!(
        own.complaints.iter().map(|c| c.id).collect::<Vec<_>>(),
        [violation.id]
    );
    assert_eq!((own.next_before, own.next_offset), (None, None));
    let asked = page(shop, Some(ComplaintVerdict::Unverified), newest, None, 0);
    assert!(asked.complaints.is_empty());
}
