//! `Gateway::handle_reply` without HTTP: the ordering promise for messages already queued, and
//! attribution of the numbers carriers really write.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::Duration;

use domain::{Category, Clock, ConsentAction, ConsentSource, ManualClock, Scope};
use gateway::{
    Attribution, ConsentRequest, Effect, Gateway, GatewayConfig, LoopbackCarrier, Principal,
    Submission,
};
use policy::{Policy, PolicyConfig, Verdict};
use store::{Delivery, MessageLog, Store};

const PHONE: &str = "13800138000";

fn gateway() -> Arc<Gateway> {
    let clock: Arc<dyn Clock> = Arc::new(ManualClock::new("2026-11-11T02:00:00Z".parse().unwrap()));
    Gateway::open(
        Store::open_in_memory().unwrap(),
        GatewayConfig::default(),
        Policy::new(&PolicyConfig::default()).unwrap(),
        clock,
        Arc::new(LoopbackCarrier),
    )
    .unwrap()
}

fn opt_in(gw: &Gateway, sender: domain::SenderId) {
    gw.record_consents(
        Principal::Admin,
        &[ConsentRequest {
            phone: PHONE.into(),
            action: ConsentAction::OptIn,
            scope: Scope::Sender,
            sender: Some(sender),
            source: ConsentSource::Web,
            evidence: "form".into(),
            at: None,
        }],
    )
    .unwrap();
}

/// A message accepted and queued before the opt-out, but not yet handed to the carrier, is
/// cancelled at hand-off with reason `opted_out`; the confirmation goes out.
#[test]
fn queued_marketing_is_cancelled_at_hand_off() {
    let gw = gateway();
    let (shop, _) = gw.create_sender("甲店", "【甲店】").unwrap();
    opt_in(&gw, shop.id);
    let to = [PHONE.to_string()];
    let out = gw
        .submit(
            Principal::Sender(shop.id),
            &Submission {
                to: &to,
                text: "【甲店】双11全场5折，回T退订",
                category: Category::Marketing,
            },
        )
        .unwrap();
    assert_eq!(out[0].status, Verdict::Accepted);
    // The dispatcher is not running yet: the message waits in the queue.
    let r = gw
        .handle_reply(PHONE, &shop.source_number, "T", None)
        .unwrap();
    assert_eq!(r.effect, Effect::OptedOut);
    assert!(r.cancelled.is_empty(), "nothing was deferred");
    let workers = gw.start();
    assert!(gw.drain(Duration::from_secs(10)));
    let m = gw.store().message(out[0].id).unwrap().unwrap();
    assert_eq!(
        (m.status, m.delivery),
        (Verdict::Rejected, Delivery::NotSent)
    );
    assert_eq!(m.reasons[0].code.as_str(), "opted_out");
    let inbox = gw.store().inbox(m.phone.unwrap()).unwrap();
    assert_eq!(inbox.len(), 1, "only the confirmation");
    assert_eq!(Some(inbox[0].id), r.notice);
    assert_eq!(gw.stats().cancelled, 1);
    drop(workers);
}

/// Carriers write service numbers with a country prefix, and may append a sub-extension to the
/// number dialled; both still name the sender.
#[test]
fn sender_numbers_are_found_with_prefixes_and_sub_extensions() {
    let gw = gateway();
    let (_a, _) = gw.create_sender("甲店", "【甲店】").unwrap();
    let (b, _) = gw.create_sender("乙店", "【乙店】").unwrap();
    opt_in(&gw, b.id);
    for to in [
        b.source_number.clone(),
        format!("+86{}", b.source_number),
        format!("0086 {}", b.source_number),
        format!("{}77", b.source_number),
    ] {
        let r = gw.handle_reply(PHONE, &to, "帮助", None).unwrap();
        assert_eq!(r.attribution, Attribution::Sender, "{to}");
        assert_eq!(r.senders, vec![b.id], "{to}");
    }
    let base = gw.config().platform_number.clone();
    let r = gw.handle_reply(PHONE, &base, "帮助", None).unwrap();
    assert_eq!(r.attribution, Attribution::PlatformNumber);
    let r = gw.handle_reply(PHONE, "95555", "帮助", None).unwrap();
    assert_eq!(r.attribution, Attribution::Unattributed);
}

/// However a carrier writes the consumer's number, the refusal lands on that phone, and a
/// number that is not valid lands nowhere.
#[test]
fn from_numbers_land_on_the_phone_that_wrote_or_nowhere() {
    let gw = gateway();
    let (a, _) = gw.create_sender("甲店", "【甲店】").unwrap();
    for from in [
        "13800138000",
        "+8613800138000",
        "8613800138000",
        "008613800138000",
        "+86 138-0013-8000",
    ] {
        let r = gw.handle_reply(from, &a.source_number, "T", None).unwrap();
        assert_eq!(r.effect, Effect::OptedOut, "{from}");
        let view = gw
            .consents(Principal::Admin, "+8613800138000", None)
            .unwrap();
        assert_eq!(view.history.last().unwrap().seq, r.events[0], "{from}");
    }
    for from in [
        "1380013800",
        "+861380013800000",
        "138001380001",
        "+0",
        "T",
        "１３８",
    ] {
        assert!(
            gw.handle_reply(from, &a.source_number, "T", None).is_err(),
            "{from}"
        );
    }
}

/// Policy decides on the text as the handset gets it: a link's real length counts toward the
/// segment limit, in `submit` and in the dry run alike.
#[test]
fn the_unsubscribe_link_counts_toward_the_segment_limit() {
    let gw = gateway();
    let (a, _) = gw.create_sender("甲店", "【甲店】").unwrap();
    opt_in(&gw, a.id);
    let max = usize::try_from(PolicyConfig::default().max_segments).unwrap() * 67;
    let tail = "回T退订 {unsubscribe}";
    let head = "【甲店】";
    let fill = max - head.chars().count() - tail.chars().count() - 2;
    let text = format!("{head}{}{tail}", "好".repeat(fill));
    assert!(text.chars().count() <= max, "the template alone fits");
    let to = [PHONE.to_string()];
    let sub = Submission {
        to: &to,
        text: &text,
        category: Category::Marketing,
    };
    let err = gw.submit(Principal::Sender(a.id), &sub).unwrap_err();
    assert_eq!(err.code(), "text_too_long", "{err}");
    let err = gw.dry_run(&a, &sub).unwrap_err();
    assert_eq!(err.code(), "text_too_long", "{err}");
    let short = "【甲店】双11全场5折，回T退订 {unsubscribe}";
    let ok = gw.dry_run(&a, &Submission { text: short, ..sub }).unwrap();
    assert_eq!(ok[0].1.verdict, Verdict::Accepted);
}

/// Extensions have one width, so no sender's number begins another's: with four digits the
/// 10,000th sender is refused (clearly), and with five a reply through a carrier's
/// sub-extension after sender 1234's number is sender 1234's, not sender 12345's (with widths
/// that grew at 10,000 it was; session-2 review).
#[test]
fn sender_numbers_have_one_width_and_a_sub_extension_is_never_another_sender() {
    let gw = gateway();
    for i in 1..=9_999 {
        gw.create_sender(&format!("shop {i}"), "【店】").unwrap();
    }
    let e = gw.create_sender("one too many", "【店】").unwrap_err();
    assert_eq!(e.code(), "sender_numbers_full", "{e}");
    assert!(e.to_string().contains("extension_digits"), "{e}");

    let clock: Arc<dyn Clock> = Arc::new(ManualClock::new("2026-11-11T02:00:00Z".parse().unwrap()));
    let wide = Gateway::open(
        Store::open_in_memory().unwrap(),
        GatewayConfig {
            extension_digits: 5,
            ..GatewayConfig::default()
        },
        Policy::new(&PolicyConfig::default()).unwrap(),
        clock,
        Arc::new(LoopbackCarrier),
    )
    .unwrap();
    let mut ids = Vec::new();
    for i in 1..=12_345 {
        ids.push(
            wide.create_sender(&format!("shop {i}"), "【店】")
                .unwrap()
                .0,
        );
    }
    let (s1234, s12345) = (&ids[1_233], &ids[12_344]);
    assert_eq!(s1234.source_number.len(), s12345.source_number.len());
    for sub_extension in ["5", "56"] {
        let (attribution, found) =
            wide.attribute(&format!("{}{sub_extension}", s1234.source_number));
        assert_eq!(attribution, Attribution::Sender);
        assert_eq!(found.unwrap().id, s1234.id, "sub-extension {sub_extension}");
    }
    let (_, found) = wide.attribute(&format!("86{}", s12345.source_number));
    assert_eq!(found.unwrap().id, s12345.id);
}

/// A reply dated before a consent recorded since (the carrier delivered it late) goes on the
/// ledger but does not win, so the consumer is not told they are unsubscribed; a reply claiming
/// to be days old is refused.
#[test]
fn a_late_reply_that_does_not_win_sends_no_confirmation() {
    let gw = gateway();
    let (shop, _) = gw.create_sender("甲店", "【甲店】").unwrap();
    opt_in(&gw, shop.id); // at 02:00, the gateway's now
    let hour_ago = "2026-11-11T01:00:00Z".parse().unwrap();
    let r = gw
        .handle_reply(PHONE, &shop.source_number, "T", Some(hour_ago))
        .unwrap();
    assert_eq!(r.effect, Effect::None, "{r:?}");
    assert!(r.notice.is_none(), "{r:?}");
    assert_eq!(r.events.len(), 1, "the reply is still on the ledger");
    let view = gw.consents(Principal::Admin, PHONE, None).unwrap();
    assert_eq!(view.senders[0].state, "consented");

    let days_ago = "2026-11-07T02:00:00Z".parse().unwrap();
    let e = gw
        .handle_reply(PHONE, &shop.source_number, "T", Some(days_ago))
        .unwrap_err();
    assert_eq!(e.code(), "invalid_field", "{e}");
}

/// An extension width that cannot number senders is refused at start, naming the key.
#[test]
fn an_impossible_extension_width_is_refused_at_start() {
    for digits in [0, 10] {
        let clock: Arc<dyn Clock> =
            Arc::new(ManualClock::new("2026-11-11T02:00:00Z".parse().unwrap()));
        let e = match Gateway::open(
            Store::open_in_memory().unwrap(),
            GatewayConfig {
                extension_digits: digits,
                ..GatewayConfig::default()
            },
            Policy::new(&PolicyConfig::default()).unwrap(),
            clock,
            Arc::new(LoopbackCarrier),
        ) {
            Ok(_) => panic!("extension_digits = {digits} was accepted"),
            Err(e) => e,
        };
        assert!(e.to_string().contains("extension_digits"), "{e}");
    }
}
