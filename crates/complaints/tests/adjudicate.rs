//! Adjudication, one ground at a time.
#![allow(clippy::unwrap_used)]

use complaints::{
    Case, ComplaintKind, ComplaintVerdict, ContentView, Ground, Limits, SendFacts, SentMessage,
    Strength, adjudicate,
};
use domain::{Category, ConsentAction, ConsentSource, Msisdn, Region, Scope, SenderId, Timestamp};
use ledger::ConsentEvent;
use policy::Verdict;

const SHOP: SenderId = SenderId(7);

fn t(s: &str) -> Timestamp {
    format!("2026-11-{s}:00Z").parse().unwrap()
}

fn phone() -> Msisdn {
    Msisdn::parse("13800138000", Region::CN).unwrap()
}

fn event(
    seq: u64,
    scope: Scope,
    action: ConsentAction,
    actor: &str,
    source: ConsentSource,
    at: &str,
) -> ConsentEvent {
    let sender = (scope == Scope::Sender).then_some(SHOP);
    let mut e = ConsentEvent::new(seq, phone(), scope, sender, action, t(at));
    e.actor = actor.into();
    e.source = source;
    e
}

fn message(category: Category, sent: Option<&str>) -> SentMessage {
    SentMessage {
        message_id: 42,
        sender: SHOP,
        text: "【好店】双11全场5折，回T退订".into(),
        category,
        status: if sent.is_some() {
            Verdict::Accepted
        } else {
            Verdict::Rejected
        },
        reasons: Vec::new(),
        decided_at: t("11T02:00"),
        sent_at: sent.map(t),
    }
}

fn case<'a>(kind: ComplaintKind, m: &'a SentMessage, history: &'a [ConsentEvent]) -> Case<'a> {
    Case {
        kind,
        message: Some(m),
        history,
        content: None,
        facts: None,
        limits: Limits::default(),
    }
}

#[test]
fn marketing_without_any_consent_is_a_violation() {
    let m = message(Category::Marketing, Some("11T02:00"));
    let a = adjudicate(&case(ComplaintKind::UnwantedMarketing, &m, &[]));
    assert_eq!(a.verdict, ComplaintVerdict::Violation);
    assert_eq!(a.grounds(), vec![Ground::NoConsent]);
    assert_eq!(a.consent.unwrap().state, "no_consent");
}

#[test]
fn marketing_after_a_platform_optout_is_a_violation_naming_the_event() {
    let h = [
        event(
            1,
            Scope::Sender,
            ConsentAction::OptIn,
            "reply",
            ConsentSource::Reply,
            "01T00:00",
        ),
        event(
            2,
            Scope::Platform,
            ConsentAction::OptOut,
            "reply",
            ConsentSource::Reply,
            "05T00:00",
        ),
    ];
    let m = message(Category::Marketing, Some("11T02:00"));
    let a = adjudicate(&case(ComplaintKind::AfterOptout, &m, &h));
    assert_eq!(a.grounds(), vec![Ground::AfterOptout]);
    assert_eq!(a.consent.as_ref().unwrap().event.as_ref().unwrap().seq, 2);
    assert_eq!(a.events.len(), 2);
}

#[test]
fn an_asserted_consent_the_consumer_disputes_is_a_violation() {
    let h = [event(
        1,
        Scope::Sender,
        ConsentAction::OptIn,
        "sender:7",
        ConsentSource::Portal,
        "01T00:00",
    )];
    let m = message(Category::Marketing, Some("11T02:00"));
    let a = adjudicate(&case(ComplaintKind::UnwantedMarketing, &m, &h));
    assert_eq!(a.verdict, ComplaintVerdict::Violation);
    assert_eq!(a.grounds(), vec![Ground::AssertedConsentDisputed]);
    assert_eq!(
        a.consent.unwrap().strength.unwrap().strength,
        Strength::Asserted
    );
}

#[test]
fn an_asserted_consent_not_disputed_stands() {
    let h = [event(
        1,
        Scope::Sender,
        ConsentAction::OptIn,
        "sender:7",
        ConsentSource::Web,
        "01T00:00",
    )];
    let m = message(Category::Marketing, Some("11T02:00"));
    let a = adjudicate(&case(ComplaintKind::Other, &m, &h));
    assert_eq!(a.verdict, ComplaintVerdict::NoViolation);
    assert_eq!(a.grounds(), vec![Ground::ConsentNotDisputed]);
}

#[test]
fn a_confirmed_consent_clears_the_sender_with_the_event_shown() {
    let h = [event(
        1,
        Scope::Sender,
        ConsentAction::OptIn,
        "admin",
        ConsentSource::Portal,
        "01T00:00",
    )];
    let m = message(Category::Marketing, Some("11T02:00"));
    let a = adjudicate(&case(ComplaintKind::UnwantedMarketing, &m, &h));
    assert_eq!(a.verdict, ComplaintVerdict::NoViolation);
    assert_eq!(a.grounds(), vec![Ground::ConfirmedConsent]);
    let c = a.consent.unwrap();
    assert_eq!(c.event.unwrap().seq, 1);
    assert_eq!(c.strength.unwrap().strength, Strength::Confirmed);
}

/// A refusal dated before the send but recorded after it (a reply the carrier delivered late)
/// could not have stopped the message: it does not make the send a violation, nor is it shown
/// as evidence of what the sender knew.
#[test]
fn a_refusal_recorded_after_the_send_is_not_held_against_it() {
    let mut late = event(
        2,
        Scope::Sender,
        ConsentAction::OptOut,
        "reply",
        ConsentSource::Reply,
        "11T01:00",
    );
    late.recorded_at = t("11T02:05");
    let h = [
        event(
            1,
            Scope::Sender,
            ConsentAction::OptIn,
            "admin",
            ConsentSource::Portal,
            "01T00:00",
        ),
        late,
    ];
    let m = message(Category::Marketing, Some("11T02:00"));
    let a = adjudicate(&case(ComplaintKind::AfterOptout, &m, &h));
    assert_eq!(a.verdict, ComplaintVerdict::NoViolation, "{a:?}");
    assert!(a.events.iter().all(|e| e.seq == 1), "{:?}", a.events);
}

#[test]
fn consent_is_judged_at_hand_off_not_now() {
    // Opted in before the send, opted out after it: the send was lawful.
    let h = [
        event(
            1,
            Scope::Sender,
            ConsentAction::OptIn,
            "reply",
            ConsentSource::Reply,
            "01T00:00",
        ),
        event(
            2,
            Scope::Sender,
            ConsentAction::OptOut,
            "reply",
            ConsentSource::Reply,
            "12T00:00",
        ),
    ];
    let m = message(Category::Marketing, Some("11T02:00"));
    let a = adjudicate(&case(ComplaintKind::AfterOptout, &m, &h));
    assert_eq!(a.verdict, ComplaintVerdict::NoViolation);
    assert!(
        a.events.iter().all(|e| e.seq == 1),
        "later events are not evidence"
    );
}

#[test]
fn disguised_marketing_is_a_violation_and_judged_as_marketing() {
    let m = message(Category::Transactional, Some("11T02:00"));
    let content = ContentView {
        category: "marketing".into(),
        marketing: 0.97,
        fraud: 0.01,
        clause: Some("另外双11全场5折".into()),
    };
    let mut c = case(ComplaintKind::UnwantedMarketing, &m, &[]);
    c.content = Some(&content);
    let a = adjudicate(&c);
    assert_eq!(
        a.grounds(),
        vec![Ground::DisguisedMarketing, Ground::NoConsent]
    );
    assert!(a.treated_as_marketing);
    assert!(
        a.findings[0].detail.contains("«另外双11全场5折»"),
        "{}",
        a.findings[0].detail
    );
}

#[test]
fn a_real_notice_needs_no_consent() {
    let m = message(Category::Transactional, Some("11T02:00"));
    let content = ContentView {
        category: "transactional".into(),
        marketing: 0.05,
        fraud: 0.0,
        clause: None,
    };
    let mut c = case(ComplaintKind::UnwantedMarketing, &m, &[]);
    c.content = Some(&content);
    let a = adjudicate(&c);
    assert_eq!(a.verdict, ComplaintVerdict::NoViolation);
    assert_eq!(a.grounds(), vec![Ground::NotMarketing]);
}

#[test]
fn fraud_content_is_a_violation_whatever_the_consent() {
    let h = [event(
        1,
        Scope::Sender,
        ConsentAction::OptIn,
        "admin",
        ConsentSource::Portal,
        "01T00:00",
    )];
    let m = message(Category::Marketing, Some("11T02:00"));
    let content = ContentView {
        category: "fraud".into(),
        marketing: 0.2,
        fraud: 0.95,
        clause: None,
    };
    let mut c = case(ComplaintKind::Fraud, &m, &h);
    c.content = Some(&content);
    assert_eq!(adjudicate(&c).grounds(), vec![Ground::FraudContent]);
}

#[test]
fn quiet_hours_and_caps_found_at_the_send_are_violations() {
    let h = [event(
        1,
        Scope::Sender,
        ConsentAction::OptIn,
        "admin",
        ConsentSource::Portal,
        "01T00:00",
    )];
    let m = message(Category::Marketing, Some("11T13:00"));
    let mut c = case(ComplaintKind::UnwantedMarketing, &m, &h);
    c.facts = Some(SendFacts {
        in_quiet_hours: true,
        sender_marketing_that_day: 2,
        marketing_that_day: 2,
    });
    assert_eq!(
        adjudicate(&c).grounds(),
        vec![Ground::QuietHours, Ground::OverCap]
    );
    c.facts = Some(SendFacts {
        in_quiet_hours: false,
        sender_marketing_that_day: 1,
        marketing_that_day: 3,
    });
    assert_eq!(adjudicate(&c).verdict, ComplaintVerdict::NoViolation);
}

#[test]
fn no_message_or_one_never_sent_is_unverified() {
    let a = adjudicate(&Case {
        kind: ComplaintKind::UnwantedMarketing,
        message: None,
        history: &[],
        content: None,
        facts: None,
        limits: Limits::default(),
    });
    assert_eq!(a.verdict, ComplaintVerdict::Unverified);
    assert_eq!(a.grounds(), vec![Ground::NotSentThroughConsentry]);
    let m = message(Category::Marketing, None);
    let a = adjudicate(&case(ComplaintKind::UnwantedMarketing, &m, &[]));
    assert_eq!(a.verdict, ComplaintVerdict::Unverified);
    assert_eq!(a.grounds(), vec![Ground::NeverHandedOff]);
}

#[test]
fn the_adjudication_round_trips_through_json() {
    let h = [event(
        1,
        Scope::Sender,
        ConsentAction::OptIn,
        "sender:7",
        ConsentSource::Web,
        "01T00:00",
    )];
    let m = message(Category::Marketing, Some("11T02:00"));
    let a = adjudicate(&case(ComplaintKind::UnwantedMarketing, &m, &h));
    let json = serde_json::to_string(&a).unwrap();
    assert!(json.contains("\"verdict\":\"violation\""), "{json}");
    assert!(json.contains("asserted_consent_disputed"), "{json}");
    let back: complaints::Adjudication = serde_json::from_str(&json).unwrap();
    assert_eq!(back, a);
}
