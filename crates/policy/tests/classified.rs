//! The content classifier's hook through `Policy::prepare_checked` + `decide_prepared`:
//! a notice that reads as marketing is decided as marketing, fraud is refused.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use domain::{Category, Msisdn, Region, SenderId, Timestamp};
use ledger::IndexAnswer;
use policy::{
    ContentCheck, Context, Counts, Decision, Policy, PolicyConfig, ReasonCode, SenderFacts, Verdict,
};

const SIG: &str = "【好店】";
const DISGUISED: &str = "【好店】验证码001，双11全场5折，点击领取";
const DISGUISED_WITH_OPTOUT: &str = "【好店】验证码001，双11全场5折，点击领取，回T退订";

fn facts() -> SenderFacts<'static> {
    SenderFacts {
        id: SenderId(1),
        signature: SIG,
        suspended: false,
    }
}

fn ctx(consent: IndexAnswer, now: &str) -> Context<'static> {
    Context {
        sender: facts(),
        consent,
        counts: Counts::default(),
        duplicate: false,
        now: now.parse::<Timestamp>().unwrap(),
    }
}

/// 11:00 and 23:00 in Shanghai.
const MIDDAY: &str = "2026-11-11T03:00:00Z";
const NIGHT: &str = "2026-11-11T15:00:00Z";

fn consented() -> IndexAnswer {
    IndexAnswer::Consented("2026-11-01T00:00:00Z".parse().unwrap())
}

fn check(marketing: f32, fraud: f32) -> ContentCheck {
    ContentCheck {
        marketing,
        fraud,
        marketing_threshold: 0.8,
        fraud_threshold: 0.9,
        clause: None,
        record: Some(r#"{"category":"marketing"}"#.into()),
    }
}

fn decide(text: &str, declared: Category, c: &ContentCheck, ctx: &Context<'_>) -> Decision {
    let p = Policy::new(&PolicyConfig::default()).unwrap();
    let prepared = p.prepare_checked(text, declared, &facts(), Some(c));
    let phone = Msisdn::parse("13800138000", Region::CN).unwrap();
    p.decide_prepared(&prepared, Some(phone), ctx, None)
}

#[test]
fn disguised_marketing_without_consent_is_rejected_as_marketing() {
    let d = decide(
        DISGUISED,
        Category::Verification,
        &check(0.97, 0.01),
        &ctx(IndexAnswer::NoConsent, MIDDAY),
    );
    assert_eq!(d.verdict, Verdict::Rejected);
    assert_eq!(d.category, Category::Marketing);
    assert!(d.has(ReasonCode::ReclassifiedMarketing), "{:?}", d.codes());
    assert!(d.has(ReasonCode::NoConsent), "{:?}", d.codes());
    assert!(d.has(ReasonCode::MissingOptoutText), "{:?}", d.codes());
}

#[test]
fn reclassified_alone_does_not_reject_marketing_that_follows_the_rules() {
    let d = decide(
        DISGUISED_WITH_OPTOUT,
        Category::Transactional,
        &check(0.97, 0.01),
        &ctx(consented(), MIDDAY),
    );
    assert_eq!(d.verdict, Verdict::Accepted, "{:?}", d.codes());
    assert_eq!(d.category, Category::Marketing);
    assert_eq!(d.codes(), vec!["reclassified_marketing"]);
    assert_eq!(
        d.content_scores.as_deref(),
        Some(r#"{"category":"marketing"}"#),
        "the reading goes with the decision"
    );
}

#[test]
fn reclassified_marketing_in_quiet_hours_is_deferred_like_marketing() {
    let d = decide(
        DISGUISED_WITH_OPTOUT,
        Category::Verification,
        &check(0.97, 0.01),
        &ctx(consented(), NIGHT),
    );
    assert_eq!(d.verdict, Verdict::Deferred, "{:?}", d.codes());
    assert!(d.release_at.is_some());
    assert!(d.has(ReasonCode::QuietHours) && d.has(ReasonCode::ReclassifiedMarketing));
}

#[test]
fn a_real_code_below_the_threshold_keeps_its_declared_category() {
    let d = decide(
        "【好店】您的验证码是 482913，5分钟内有效，请勿泄露。",
        Category::Verification,
        &check(0.02, 0.01),
        &ctx(IndexAnswer::NoConsent, NIGHT),
    );
    assert_eq!(d.verdict, Verdict::Accepted, "{:?}", d.codes());
    assert_eq!(d.category, Category::Verification);
    assert!(d.reasons.is_empty());
}

#[test]
fn fraud_is_rejected_whatever_was_declared_and_whatever_the_consent() {
    for declared in [
        Category::Marketing,
        Category::Transactional,
        Category::Verification,
    ] {
        let d = decide(
            "【好店】您的账户异常，请登录 http://icbc-verify.top 验证，回T退订",
            declared,
            &check(0.1, 0.96),
            &ctx(consented(), MIDDAY),
        );
        assert_eq!(d.verdict, Verdict::Rejected);
        assert_eq!(d.codes(), vec!["fraud_suspected"], "{declared:?}");
    }
}
