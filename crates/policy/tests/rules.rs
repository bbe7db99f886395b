//! One test per rule, through `Policy::decide`.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use domain::{Category, Msisdn, Region, SenderId, Timestamp};
use ledger::IndexAnswer;
use policy::{Context, Counts, Message, Policy, PolicyConfig, QuietAction, SenderFacts, Verdict};

const SIG: &str = "【好店】";
const AD: &str = "【好店】双11全场5折，回T退订";

fn phone() -> Msisdn {
    Msisdn::parse("13800138000", Region::CN).unwrap()
}

/// 11:00 in Shanghai on Double-11.
fn midday() -> Timestamp {
    "2026-11-11T03:00:00Z".parse().unwrap()
}

fn consented() -> IndexAnswer {
    IndexAnswer::Consented("2026-11-01T00:00:00Z".parse().unwrap())
}

fn ctx(consent: IndexAnswer) -> Context<'static> {
    Context {
        sender: SenderFacts {
            id: SenderId(1),
            signature: SIG,
            suspended: false,
        },
        consent,
        counts: Counts::default(),
        duplicate: false,
        now: midday(),
    }
}

fn decide(text: &str, category: Category, ctx: &Context<'_>) -> policy::Decision {
    decide_with(&PolicyConfig::default(), text, category, ctx)
}

fn decide_with(
    cfg: &PolicyConfig,
    text: &str,
    category: Category,
    ctx: &Context<'_>,
) -> policy::Decision {
    let p = Policy::new(cfg).unwrap();
    p.decide(
        &Message {
            to: Some(phone()),
            text,
            category,
        },
        ctx,
    )
}

#[test]
fn consented_marketing_in_daytime_is_accepted() {
    let d = decide(AD, Category::Marketing, &ctx(consented()));
    assert_eq!(d.verdict, Verdict::Accepted, "{:?}", d.reasons);
    assert!(d.reasons.is_empty());
}

#[test]
fn invalid_number_is_rejected() {
    let p = Policy::new(&PolicyConfig::default()).unwrap();
    let d = p.decide(
        &Message {
            to: None,
            text: AD,
            category: Category::Marketing,
        },
        &ctx(consented()),
    );
    assert_eq!(d.codes(), vec!["invalid_number"]);
}

#[test]
fn suspended_sender_is_rejected_for_every_category() {
    let mut c = ctx(consented());
    c.sender.suspended = true;
    for cat in [
        Category::Marketing,
        Category::Transactional,
        Category::Verification,
    ] {
        let d = decide("【好店】您的验证码是 1234，回T退订", cat, &c);
        assert_eq!(d.verdict, Verdict::Rejected);
        assert!(d.codes().contains(&"sender_suspended"));
    }
}

#[test]
fn marketing_without_consent_or_after_opt_out() {
    assert_eq!(
        decide(AD, Category::Marketing, &ctx(IndexAnswer::NoConsent)).codes(),
        vec!["no_consent"]
    );
    let out = IndexAnswer::OptedOut {
        at: midday(),
        platform: true,
    };
    assert_eq!(
        decide(AD, Category::Marketing, &ctx(out)).codes(),
        vec!["opted_out"]
    );
}

#[test]
fn transactional_needs_no_consent() {
    let d = decide(
        "【好店】您的订单已发货",
        Category::Transactional,
        &ctx(IndexAnswer::NoConsent),
    );
    assert_eq!(d.verdict, Verdict::Accepted, "{:?}", d.reasons);
}

#[test]
fn quiet_hours_defer_to_window_end_in_recipients_zone() {
    let mut c = ctx(consented());
    c.now = "2026-11-11T13:00:00Z".parse().unwrap(); // 21:00 Shanghai
    let d = decide(AD, Category::Marketing, &c);
    assert_eq!(d.verdict, Verdict::Deferred);
    assert_eq!(d.codes(), vec!["quiet_hours"]);
    assert_eq!(d.release_at, Some("2026-11-12T00:00:00Z".parse().unwrap()));
    // 19:59 is not quiet; 20:00 is; 07:59 is; 08:00 is not.
    for (utc, quiet) in [("11:59", false), ("12:00", true), ("23:59", true)] {
        c.now = format!("2026-11-11T{utc}:00Z").parse().unwrap();
        assert_eq!(
            decide(AD, Category::Marketing, &c).verdict == Verdict::Deferred,
            quiet,
            "{utc}"
        );
    }
    c.now = "2026-11-12T00:00:00Z".parse().unwrap();
    assert_eq!(
        decide(AD, Category::Marketing, &c).verdict,
        Verdict::Accepted
    );
}

#[test]
fn quiet_hours_can_reject_instead() {
    let cfg = PolicyConfig {
        quiet_hours_action: QuietAction::Reject,
        ..PolicyConfig::default()
    };
    let mut c = ctx(consented());
    c.now = "2026-11-11T13:00:00Z".parse().unwrap();
    let d = decide_with(&cfg, AD, Category::Marketing, &c);
    assert_eq!(d.verdict, Verdict::Rejected);
    assert_eq!(d.release_at, None);
}

#[test]
fn quiet_hours_do_not_hold_verification_codes() {
    let mut c = ctx(IndexAnswer::NoConsent);
    c.now = "2026-11-11T15:00:00Z".parse().unwrap();
    let d = decide(
        "【好店】验证码 482913，5分钟内有效",
        Category::Verification,
        &c,
    );
    assert_eq!(d.verdict, Verdict::Accepted);
}

#[test]
fn quiet_hours_abroad_use_the_recipients_zone() {
    let mut c = ctx(consented());
    // 03:00 UTC is 22:00 in New York (the day before): quiet there, midday in Shanghai.
    c.now = midday();
    let p = Policy::new(&PolicyConfig::default()).unwrap();
    let us = Msisdn::parse("+12125550123", Region::CN).unwrap();
    let d = p.decide(
        &Message {
            to: Some(us),
            text: "【好店】Sale! Reply STOP to opt out",
            category: Category::Marketing,
        },
        &c,
    );
    assert_eq!(d.codes(), vec!["quiet_hours"]);
}

#[test]
fn per_sender_and_global_daily_caps() {
    let mut c = ctx(consented());
    c.counts.sender_marketing_today = 1;
    assert_eq!(
        decide(AD, Category::Marketing, &c).codes(),
        vec!["cap_sender_daily"]
    );
    c.counts = Counts {
        recipient_marketing_today: 3,
        ..Counts::default()
    };
    assert_eq!(
        decide(AD, Category::Marketing, &c).codes(),
        vec!["cap_global_daily"]
    );
    c.counts = Counts {
        sender_marketing_today: 1,
        recipient_marketing_today: 3,
        ..Counts::default()
    };
    assert_eq!(
        decide(AD, Category::Marketing, &c).codes(),
        vec!["cap_sender_daily", "cap_global_daily"]
    );
}

#[test]
fn verification_rate_caps() {
    let mut c = ctx(IndexAnswer::NoConsent);
    let code = "【好店】验证码 482913";
    c.counts = Counts {
        category_last_minute: 1,
        ..Counts::default()
    };
    assert_eq!(
        decide(code, Category::Verification, &c).codes(),
        vec!["rate_limited"]
    );
    c.counts = Counts {
        category_last_hour: 5,
        ..Counts::default()
    };
    assert_eq!(
        decide(code, Category::Verification, &c).codes(),
        vec!["rate_limited"]
    );
    c.counts = Counts {
        category_today: 10,
        ..Counts::default()
    };
    assert_eq!(
        decide(code, Category::Verification, &c).codes(),
        vec!["rate_limited"]
    );
    c.counts = Counts {
        category_last_hour: 4,
        category_today: 9,
        ..Counts::default()
    };
    assert_eq!(
        decide(code, Category::Verification, &c).verdict,
        Verdict::Accepted
    );
}

#[test]
fn signature_and_refusal_instruction_are_required() {
    let c = ctx(consented());
    assert_eq!(
        decide("双11全场5折，回T退订", Category::Marketing, &c).codes(),
        vec!["missing_signature"]
    );
    assert_eq!(
        decide("【好店】双11全场5折", Category::Marketing, &c).codes(),
        vec!["missing_optout_text"]
    );
    assert_eq!(
        decide(
            "【好店】Big sale, reply stop to opt out",
            Category::Marketing,
            &c
        )
        .verdict,
        Verdict::Accepted
    );
    assert_eq!(
        decide("【好店】双11全场5折，退订回 t", Category::Marketing, &c).verdict,
        Verdict::Accepted
    );
    // Someone else's signature does not count.
    assert_eq!(
        decide("【别家】双11全场5折，回T退订", Category::Marketing, &c).codes(),
        vec!["missing_signature"]
    );
}

#[test]
fn duplicate_is_rejected() {
    let mut c = ctx(consented());
    c.duplicate = true;
    assert_eq!(
        decide(AD, Category::Marketing, &c).codes(),
        vec!["duplicate"]
    );
}

#[test]
fn every_failed_rule_is_reported_and_quiet_hours_with_others_rejects() {
    let mut c = ctx(IndexAnswer::NoConsent);
    c.now = "2026-11-11T13:00:00Z".parse().unwrap();
    c.counts = Counts {
        sender_marketing_today: 5,
        recipient_marketing_today: 5,
        ..Counts::default()
    };
    c.duplicate = true;
    let d = decide("sale", Category::Marketing, &c);
    assert_eq!(d.verdict, Verdict::Rejected);
    assert_eq!(
        d.codes(),
        vec![
            "no_consent",
            "quiet_hours",
            "missing_optout_text",
            "missing_signature",
            "duplicate"
        ],
        "caps are left to the release-time decision of a deferrable message"
    );
    let reject = PolicyConfig {
        quiet_hours_action: QuietAction::Reject,
        ..PolicyConfig::default()
    };
    let d = decide_with(&reject, "sale", Category::Marketing, &c);
    assert_eq!(
        d.codes(),
        vec![
            "no_consent",
            "quiet_hours",
            "cap_sender_daily",
            "cap_global_daily",
            "missing_optout_text",
            "missing_signature",
            "duplicate"
        ]
    );
}

#[test]
fn deferral_is_not_blocked_by_todays_caps() {
    let mut c = ctx(consented());
    c.now = "2026-11-11T13:00:00Z".parse().unwrap();
    c.counts = Counts {
        sender_marketing_today: 1,
        recipient_marketing_today: 3,
        ..Counts::default()
    };
    let d = decide(AD, Category::Marketing, &c);
    assert_eq!(d.verdict, Verdict::Deferred, "{:?}", d.reasons);
}

#[test]
fn config_errors_are_clear() {
    let bad = PolicyConfig {
        quiet_hours_start: "25:00".into(),
        ..PolicyConfig::default()
    };
    assert!(
        Policy::new(&bad)
            .unwrap_err()
            .to_string()
            .contains("quiet_hours_start")
    );
    let bad = PolicyConfig {
        default_timezone: "Mars/Olympus".into(),
        ..PolicyConfig::default()
    };
    assert!(
        Policy::new(&bad)
            .unwrap_err()
            .to_string()
            .contains("Mars/Olympus")
    );
}
