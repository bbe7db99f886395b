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

/// The queue's verdict filter reads at most `PAGE_SCAN` rows a page: past that many rows of
/// another verdict it answers a short page with the cursor where it stopped, and following the
/// cursors finds every match exactly once.
#[test]
fn the_verdict_filter_reads_a_bounded_number_of_rows_and_resumes_where_it_stopped() {
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
    // More unverified complaints after it than one page reads.
    let n = gateway::PAGE_SCAN + 10;
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
    let first = gw
        .complaint_page(admin, None, Some(ComplaintVerdict::Violation), None, 25)
        .unwrap();
    assert!(first.complaints.is_empty(), "the scan stopped first");
    let cursor = first.next_before.expect("where it stopped");
    let second = gw
        .complaint_page(
            admin,
            None,
            Some(ComplaintVerdict::Violation),
            Some(cursor),
            25,
        )
        .unwrap();
    assert_eq!(
        second.complaints.iter().map(|c| c.id).collect::<Vec<_>>(),
        [violation.id]
    );
    assert_eq!(second.next_before, None);
    // A full page of the common verdict stops at the page, not at the scan bound.
    let unverified = gw
        .complaint_page(admin, None, Some(ComplaintVerdict::Unverified), None, 25)
        .unwrap();
    assert_eq!(unverified.complaints.len(), 25);
    assert_eq!(
        unverified.next_before,
        unverified.complaints.last().map(|c| c.id)
    );
    // A sender never sees the unverified ones, and its scan is bounded the same way.
    let own = gw
        .complaint_page(gateway::Principal::Sender(shop), None, None, None, 25)
        .unwrap();
    assert!(own.complaints.is_empty());
    assert!(own.next_before.is_some());
}
