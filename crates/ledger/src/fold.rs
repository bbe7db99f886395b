//! The fold: events → the answer for one (phone, sender), at any point in time.

use std::collections::BTreeMap;

use domain::{ConsentAction, Scope, SenderId, Timestamp};
use serde::Serialize;

use crate::ConsentEvent;

/// Whether a sender may send marketing to a phone, and the event that says so.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", content = "event", rename_all = "snake_case")]
pub enum Answer<'a> {
    /// An opt-in for this sender is the latest applicable event.
    Consented(&'a ConsentEvent),
    /// An opt-out (for this sender or platform-wide) is the latest applicable event.
    OptedOut(&'a ConsentEvent),
    /// Nothing was ever recorded that grants consent.
    NoConsent,
}

impl Answer<'_> {
    /// True only for [`Answer::Consented`].
    #[must_use]
    pub fn allows_marketing(&self) -> bool {
        matches!(self, Answer::Consented(_))
    }
}

/// The rule of the ledger, given the latest sender-scoped and platform-scoped events.
///
/// Kept apart from the event types so that the in-memory index applies exactly the same rule.
pub fn decide<W: PartialOrd, T>(
    sender: Option<(ConsentAction, W, T)>,
    platform: Option<(ConsentAction, W, T)>,
) -> Option<(ConsentAction, T)> {
    match (sender, platform) {
        // A platform opt-out at or after the sender's latest event blocks (ties favour refusal).
        (Some((_, s_at, _)), Some((ConsentAction::OptOut, p_at, p))) if p_at >= s_at => {
            Some((ConsentAction::OptOut, p))
        }
        (None, Some((ConsentAction::OptOut, _, p))) => Some((ConsentAction::OptOut, p)),
        // Otherwise the sender's own latest event decides; a platform opt-in grants nothing.
        (Some((action, _, s)), _) => Some((action, s)),
        (None, _) => None,
    }
}

/// [`decide`] with the consumer's own word on top: `all` is the answer over every event,
/// `consumer` the answer over only the events the consumer gave themselves
/// ([`ConsentEvent::by_consumer`]). When the consumer's own latest word is a refusal, nothing
/// someone else recorded after it (a merchant's opt-in, an imported platform-wide opt-in) lifts
/// it, so the answer is a refusal — issue #14: a merchant posted an opt-in after the consumer
/// replied 全部退订 and its marketing went out. Any consent the consumer gave themselves is older
/// than that refusal, or the consumer's latest word would not be one.
///
/// Kept apart from the event types, like [`decide`], so the index applies the same rule; and
/// order-free (two latest-event folds, not a replay), so an event recorded late still lands
/// where its time puts it.
pub fn decide_with_consumer<T>(
    all: Option<(ConsentAction, T)>,
    consumer: Option<(ConsentAction, T)>,
) -> Option<(ConsentAction, T)> {
    match (all, consumer) {
        (Some((ConsentAction::OptOut, e)), _) => Some((ConsentAction::OptOut, e)),
        (_, Some((ConsentAction::OptOut, refusal))) => Some((ConsentAction::OptOut, refusal)),
        (all, _) => all,
    }
}

/// The latest sender-scoped and platform-scoped events `keep` selects, for `sender` at `at`.
fn latest(
    events: &[ConsentEvent],
    sender: SenderId,
    at: Timestamp,
    keep: impl Fn(&ConsentEvent) -> bool,
) -> Option<(ConsentAction, &ConsentEvent)> {
    let mut latest_sender: Option<&ConsentEvent> = None;
    let mut latest_platform: Option<&ConsentEvent> = None;
    for e in events
        .iter()
        .filter(|e| e.at <= at && e.applies_to(sender) && keep(e))
    {
        let slot = match e.scope {
            Scope::Sender => &mut latest_sender,
            Scope::Platform => &mut latest_platform,
        };
        if slot.is_none_or(|cur| e.order_key() > cur.order_key()) {
            *slot = Some(e);
        }
    }
    let sender_part = latest_sender.map(|e| (e.action, e.at, e));
    let platform_part = latest_platform.map(|e| (e.action, e.at, e));
    decide(sender_part, platform_part)
}

/// The answer for `sender` considering only events that happened at or before `at`.
///
/// `events` may be in any order and may include other phones' events only if the caller has
/// already filtered by phone (this function does not look at `phone`).
#[must_use]
pub fn answer_at(events: &[ConsentEvent], sender: SenderId, at: Timestamp) -> Answer<'_> {
    let all = latest(events, sender, at, |_| true);
    let consumer = latest(events, sender, at, ConsentEvent::by_consumer);
    match decide_with_consumer(all, consumer) {
        Some((ConsentAction::OptIn, e)) => Answer::Consented(e),
        Some((ConsentAction::OptOut, e)) => Answer::OptedOut(e),
        None => Answer::NoConsent,
    }
}

/// The consumer's own refusal standing for `sender` at `at`, if their latest word is one: what
/// a merchant's opt-in recorded now could not lift (answered `409 consumer_refused`).
#[must_use]
pub fn consumer_refusal(
    events: &[ConsentEvent],
    sender: SenderId,
    at: Timestamp,
) -> Option<&ConsentEvent> {
    match latest(events, sender, at, ConsentEvent::by_consumer) {
        Some((ConsentAction::OptOut, e)) => Some(e),
        _ => None,
    }
}

/// One sender's line in a phone's consent view.
#[derive(Debug, Clone, Serialize)]
pub struct SenderState<'a> {
    /// The merchant.
    pub sender: SenderId,
    /// Whether it may send marketing, and why.
    pub answer: Answer<'a>,
}

/// A phone's whole consent state at one instant: the platform-wide state and one line per sender
/// it has events for.
#[derive(Debug, Clone, Serialize)]
pub struct ConsentView<'a> {
    /// When the view was taken.
    pub at: Timestamp,
    /// The latest platform-wide event, if any.
    pub platform: Option<&'a ConsentEvent>,
    /// One line per sender with sender-scoped events, by sender id.
    pub senders: Vec<SenderState<'a>>,
}

/// The view of one phone's `events` at `at`.
#[must_use]
pub fn view_at(events: &[ConsentEvent], at: Timestamp) -> ConsentView<'_> {
    let mut senders: BTreeMap<SenderId, ()> = BTreeMap::new();
    let mut platform: Option<&ConsentEvent> = None;
    for e in events.iter().filter(|e| e.at <= at) {
        match (e.scope, e.sender) {
            (Scope::Sender, Some(s)) => {
                senders.insert(s, ());
            }
            (Scope::Platform, _) if platform.is_none_or(|p| e.order_key() > p.order_key()) => {
                platform = Some(e);
            }
            _ => {}
        }
    }
    ConsentView {
        at,
        platform,
        senders: senders
            .into_keys()
            .map(|sender| SenderState {
                sender,
                answer: answer_at(events, sender, at),
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::{ConsentAction::*, Msisdn, Region};

    fn t(s: &str) -> Timestamp {
        format!("2026-11-11T{s}:00Z").parse().unwrap()
    }

    fn ev(
        seq: u64,
        scope: Scope,
        sender: Option<u32>,
        action: ConsentAction,
        at: &str,
    ) -> ConsentEvent {
        let phone = Msisdn::parse("13800138000", Region::CN).unwrap();
        ConsentEvent::new(seq, phone, scope, sender.map(SenderId), action, t(at))
    }

    const A: SenderId = SenderId(1);
    const B: SenderId = SenderId(2);

    #[test]
    fn nothing_recorded_means_no_consent() {
        assert_eq!(answer_at(&[], A, t("10:00")), Answer::NoConsent);
    }

    #[test]
    fn sender_opt_in_grants_that_sender_only() {
        let events = [ev(1, Scope::Sender, Some(1), OptIn, "09:00")];
        assert!(answer_at(&events, A, t("10:00")).allows_marketing());
        assert_eq!(answer_at(&events, B, t("10:00")), Answer::NoConsent);
    }

    #[test]
    fn platform_opt_out_blocks_every_sender() {
        let events = [
            ev(1, Scope::Sender, Some(1), OptIn, "09:00"),
            ev(2, Scope::Sender, Some(2), OptIn, "09:00"),
            ev(3, Scope::Platform, None, OptOut, "10:00"),
        ];
        for s in [A, B] {
            assert!(matches!(answer_at(&events, s, t("10:00")), Answer::OptedOut(e) if e.seq == 3));
        }
    }

    #[test]
    fn later_sender_opt_in_re_enables_that_sender_only() {
        let events = [
            ev(1, Scope::Sender, Some(1), OptIn, "09:00"),
            ev(2, Scope::Sender, Some(2), OptIn, "09:00"),
            ev(3, Scope::Platform, None, OptOut, "10:00"),
            ev(4, Scope::Sender, Some(1), OptIn, "11:00"),
        ];
        assert!(matches!(answer_at(&events, A, t("11:00")), Answer::Consented(e) if e.seq == 4));
        assert!(matches!(answer_at(&events, B, t("11:00")), Answer::OptedOut(e) if e.seq == 3));
    }

    #[test]
    fn platform_opt_in_lifts_platform_opt_out_but_grants_nothing() {
        let events = [
            ev(1, Scope::Sender, Some(1), OptIn, "09:00"),
            ev(2, Scope::Platform, None, OptOut, "10:00"),
            ev(3, Scope::Platform, None, OptIn, "11:00"),
        ];
        assert!(matches!(answer_at(&events, A, t("11:00")), Answer::Consented(e) if e.seq == 1));
        assert_eq!(answer_at(&events, B, t("11:00")), Answer::NoConsent);
    }

    #[test]
    fn tie_in_time_favours_the_opt_out() {
        let events = [
            ev(2, Scope::Sender, Some(1), OptIn, "10:00"),
            ev(1, Scope::Platform, None, OptOut, "10:00"),
        ];
        assert!(matches!(
            answer_at(&events, A, t("10:00")),
            Answer::OptedOut(_)
        ));
    }

    #[test]
    fn point_in_time_answers_each_moment() {
        let events = [
            ev(1, Scope::Sender, Some(1), OptIn, "09:00"),
            ev(2, Scope::Sender, Some(1), OptOut, "10:31"),
        ];
        assert_eq!(answer_at(&events, A, t("08:59")), Answer::NoConsent);
        assert!(matches!(answer_at(&events, A, t("10:30")), Answer::Consented(e) if e.seq == 1));
        assert!(matches!(answer_at(&events, A, t("10:31")), Answer::OptedOut(e) if e.seq == 2));
    }

    #[test]
    fn late_recorded_event_is_ordered_by_when_it_happened() {
        // An opt-out imported late (seq 2) that happened before the opt-in (seq 1) does not win.
        let events = [
            ev(1, Scope::Sender, Some(1), OptIn, "10:00"),
            ev(2, Scope::Sender, Some(1), OptOut, "09:00"),
        ];
        assert!(answer_at(&events, A, t("12:00")).allows_marketing());
    }

    fn by(mut e: ConsentEvent, actor: &str) -> ConsentEvent {
        e.actor = actor.into();
        e
    }

    /// Issue #14, item 4: the consumer replied 全部退订, the merchant then recorded an opt-in with
    /// its own key, and its marketing was accepted.
    #[test]
    fn a_merchants_opt_in_does_not_lift_the_consumers_own_refusal() {
        for (scope, target) in [(Scope::Platform, None), (Scope::Sender, Some(1))] {
            let events = [
                by(ev(1, Scope::Sender, Some(1), OptIn, "09:00"), "sender:1"),
                by(ev(2, scope, target, OptOut, "10:00"), "reply"),
                by(ev(3, Scope::Sender, Some(1), OptIn, "11:00"), "sender:1"),
            ];
            assert!(
                matches!(answer_at(&events, A, t("12:00")), Answer::OptedOut(e) if e.seq == 2),
                "{scope:?}"
            );
            assert_eq!(
                consumer_refusal(&events, A, t("12:00")).map(|e| e.seq),
                Some(2)
            );
            // Recorded late, dated before the merchant's opt-in: the same.
            let late = [events[0].clone(), events[2].clone(), events[1].clone()];
            assert!(matches!(answer_at(&late, A, t("12:00")), Answer::OptedOut(e) if e.seq == 2));
        }
    }

    #[test]
    fn the_consumers_own_consent_lifts_their_refusal_and_then_the_merchant_counts_again() {
        let events = [
            by(ev(1, Scope::Platform, None, OptOut, "10:00"), "reply"),
            by(ev(2, Scope::Sender, Some(1), OptIn, "10:30"), "consumer"),
            by(ev(3, Scope::Sender, Some(1), OptOut, "11:00"), "sender:1"),
            by(ev(4, Scope::Sender, Some(1), OptIn, "11:30"), "sender:1"),
        ];
        assert!(matches!(answer_at(&events, A, t("10:45")), Answer::Consented(e) if e.seq == 2));
        assert!(matches!(answer_at(&events, A, t("11:15")), Answer::OptedOut(e) if e.seq == 3));
        // The merchant's own refusal is its own to lift.
        assert!(matches!(answer_at(&events, A, t("12:00")), Answer::Consented(e) if e.seq == 4));
        assert!(consumer_refusal(&events, A, t("12:00")).is_none());
        // Another merchant is still refused by the platform-wide refusal.
        assert!(matches!(answer_at(&events, B, t("12:00")), Answer::OptedOut(e) if e.seq == 1));
        // An imported platform-wide opt-in does not lift the consumer's platform-wide refusal.
        let imported = [
            by(ev(1, Scope::Sender, Some(1), OptIn, "09:00"), "consumer"),
            by(ev(2, Scope::Platform, None, OptOut, "10:00"), "reply"),
            by(ev(3, Scope::Platform, None, OptIn, "11:00"), "import"),
        ];
        assert!(matches!(answer_at(&imported, A, t("12:00")), Answer::OptedOut(e) if e.seq == 2));
    }

    #[test]
    fn view_lists_every_sender_with_events() {
        let events = [
            ev(1, Scope::Sender, Some(2), OptIn, "09:00"),
            ev(2, Scope::Sender, Some(1), OptIn, "09:00"),
            ev(3, Scope::Platform, None, OptOut, "10:00"),
        ];
        let v = view_at(&events, t("12:00"));
        assert_eq!(v.senders.len(), 2);
        assert_eq!(v.senders[0].sender, A);
        assert_eq!(v.platform.map(|e| e.seq), Some(3));
        let before = view_at(&events, t("09:30"));
        assert!(before.platform.is_none());
        assert!(before.senders.iter().all(|s| s.answer.allows_marketing()));
    }
}
