//! Recording consent: validate, commit durably, apply to the index — under the phones' shard
//! locks, so no decision or hand-off interleaves with the commit.

use domain::{Category, ConsentAction, ConsentSource, Msisdn, Scope, SenderId, Timestamp};
use ledger::{Answer, ConsentEvent, view_at};
use policy::{Decision, Reason, ReasonCode};
use serde::Serialize;
use store::{ConsentLog, NewConsent};

use crate::{Gateway, GatewayError, Principal};

/// Longest evidence text kept.
const MAX_EVIDENCE: usize = 2000;

/// The earliest date a consent event may carry. Nobody consented to SMS marketing before 2000,
/// and a date from year 0 or 1 (issue #14: accepted, and a refusal dated then did nothing,
/// silently — every later event outranks it) is a client bug to report, not a fact to record.
pub const EARLIEST_EVENT: Timestamp = Timestamp::constant(946_684_800, 0);

/// How far ahead of the gateway's clock an event may be dated (clock skew); it is clamped to
/// the clock at commit.
const SKEW: jiff::SignedDuration = jiff::SignedDuration::from_mins(5);

/// Refuses a consent event's date outside [`EARLIEST_EVENT`] … `now` + 5 minutes.
pub(crate) fn check_event_date(at: Timestamp, now: Timestamp) -> Result<(), GatewayError> {
    let latest = now.saturating_add(SKEW).unwrap_or(now);
    if at < EARLIEST_EVENT || at > latest {
        return Err(GatewayError::DateOutOfRange(format!(
            "`at` {at} is outside {EARLIEST_EVENT} … {latest} (now + 5 minutes)"
        )));
    }
    Ok(())
}

/// What recording an event changed for the send path: its answer before and after, for the
/// event's sender (scope `sender`: `consented`, `opted_out` or `no_consent`) or for the
/// platform-wide refusal (scope `platform`: `opted_out` or `not_opted_out`). `changed: false`
/// says plainly that the event did nothing (an opt-out already in force, an opt-in dated before
/// a later refusal) instead of leaving a caller to believe it did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ConsentEffect {
    /// The send path's answer before the event.
    pub before: &'static str,
    /// And after it.
    pub after: &'static str,
    /// Whether they differ.
    pub changed: bool,
}

/// One consent event to record.
#[derive(Debug, Clone)]
pub struct ConsentRequest {
    /// The consumer's number as given.
    pub phone: String,
    /// Grant or refusal.
    pub action: ConsentAction,
    /// One sender or the platform.
    pub scope: Scope,
    /// The sender, for sender scope (a sender's own key implies itself).
    pub sender: Option<SenderId>,
    /// Channel.
    pub source: ConsentSource,
    /// Evidence text.
    pub evidence: String,
    /// When the consumer acted; now if absent.
    pub at: Option<Timestamp>,
}

/// What one commit of consent events did.
#[derive(Debug, Default)]
pub(crate) struct Committed {
    /// The events as committed.
    pub events: Vec<ConsentEvent>,
    /// What each changed for the send path.
    pub effects: Vec<ConsentEffect>,
    /// Deferred marketing cancelled by the refusals among them.
    pub cancelled: Vec<u64>,
}

/// One sender's current line in a consent view.
#[derive(Debug, Clone, Serialize)]
pub struct SenderLine {
    /// The sender.
    pub sender_id: SenderId,
    /// Its display name (what a consumer recognises).
    pub name: Option<String>,
    /// `consented`, `opted_out` or `no_consent`.
    pub state: &'static str,
    /// The event that decided it.
    pub decided_by: Option<u64>,
    /// When that event happened.
    pub since: Option<Timestamp>,
    /// For the present (no `at`): what the send path does with marketing from this sender to
    /// this phone now, `allowed` or `refused`. It can differ from `state`: the send path works
    /// at one-second resolution and a refusal wins a tie within a second (issue #14, item 11:
    /// a refusal and a consent in the same second read `consented` while every send was
    /// refused).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub send_path: Option<&'static str>,
}

/// A phone's consent state at an instant, with its history.
#[derive(Debug, Clone, Serialize)]
pub struct ConsentsView {
    /// The consumer.
    pub phone: Msisdn,
    /// The instant the state is for.
    pub at: Timestamp,
    /// Whether a platform-wide refusal is in force at `at`.
    pub platform_opted_out: bool,
    /// One line per sender with events (only the caller's own line for a sender).
    pub senders: Vec<SenderLine>,
    /// The events the caller may see, in commit order.
    pub history: Vec<ConsentEvent>,
}

impl Gateway {
    fn check_request(
        &self,
        by: Principal,
        r: &ConsentRequest,
        now: Timestamp,
    ) -> Result<NewConsent, GatewayError> {
        let phone = Msisdn::parse(&r.phone, self.policy.region())?;
        let sender = match (r.scope, by, r.sender) {
            (Scope::Platform, _, Some(_)) => {
                return Err(GatewayError::InvalidField(
                    "a platform-wide event names no sender_id".into(),
                ));
            }
            // One shop must not decide for every other: a platform-wide refusal comes from the
            // consumer (reply STOPALL, the portal) or the operator, never from a competitor
            // that could wipe out everyone else's consent with it.
            (Scope::Platform, Principal::Sender(_), None) => {
                return Err(GatewayError::Forbidden(
                    "a sender records consent and refusals for itself only (scope \"sender\"); \
                     platform-wide events come from the consumer or the operator"
                        .into(),
                ));
            }
            (Scope::Platform, _, None) => None,
            (Scope::Sender, Principal::Sender(own), None) => Some(own),
            (Scope::Sender, Principal::Sender(own), Some(id)) if id == own => Some(own),
            (Scope::Sender, Principal::Sender(_), Some(_)) => {
                return Err(GatewayError::Forbidden(
                    "a sender records consent for itself only".into(),
                ));
            }
            (Scope::Sender, _, None) => {
                return Err(GatewayError::InvalidField(
                    "sender_id is required for scope \"sender\"".into(),
                ));
            }
            (Scope::Sender, _, Some(id)) => Some(id),
        };
        if let Some(id) = sender
            && self.access.sender(id).is_none()
        {
            return Err(GatewayError::UnknownSender(id.0));
        }
        let at = r.at.unwrap_or(now);
        check_event_date(at, now)?;
        if r.evidence.chars().count() > MAX_EVIDENCE {
            return Err(GatewayError::InvalidField(format!(
                "evidence is longer than {MAX_EVIDENCE} characters"
            )));
        }
        Ok(NewConsent {
            phone,
            scope: r.scope,
            sender,
            action: r.action,
            source: r.source,
            evidence: r.evidence.clone(),
            actor: by.actor(),
            at,
        })
    }

    /// Validates every request, then commits them all in one transaction (all or nothing) and
    /// applies them to the index. When this returns, the events are durable and every later
    /// decision sees them.
    pub fn record_consents(
        &self,
        by: Principal,
        reqs: &[ConsentRequest],
    ) -> Result<Vec<ConsentEvent>, GatewayError> {
        Ok(self
            .record_consents_with_effect(by, reqs)?
            .into_iter()
            .map(|(e, _)| e)
            .collect())
    }

    /// [`Gateway::record_consents`], with what each event changed for the send path.
    ///
    /// An opt-in recorded by someone other than the consumer (a sender's key) while the
    /// consumer's own refusal stands is refused with [`GatewayError::ConsumerRefused`] naming
    /// the refusal: it would never take effect (the ledger's fold ignores it too, so an event
    /// stored some other way cannot lift the refusal either).
    pub fn record_consents_with_effect(
        &self,
        by: Principal,
        reqs: &[ConsentRequest],
    ) -> Result<Vec<(ConsentEvent, ConsentEffect)>, GatewayError> {
        if by == Principal::Carrier {
            return Err(GatewayError::Forbidden(
                "the carrier key records replies, not consents".into(),
            ));
        }
        let now = self.clock.now();
        let news = reqs
            .iter()
            .map(|r| self.check_request(by, r, now))
            .collect::<Result<Vec<_>, _>>()?;
        for n in &news {
            self.refuse_over_consumer(n, now)?;
        }
        let c = self.commit_with_effect(&news)?;
        Ok(c.events.into_iter().zip(c.effects).collect())
    }

    /// [`GatewayError::ConsumerRefused`] for an opt-in `n` that someone other than the consumer
    /// records for a sender the consumer refused themselves.
    fn refuse_over_consumer(&self, n: &NewConsent, now: Timestamp) -> Result<(), GatewayError> {
        let (ConsentAction::OptIn, Some(sender)) = (n.action, n.sender) else {
            return Ok(());
        };
        if ledger::by_consumer(&n.actor)
            || !matches!(
                self.consent.answer(n.phone, sender),
                ledger::IndexAnswer::OptedOut { .. }
            )
        {
            return Ok(());
        }
        let history = self.store.consent_history(n.phone)?;
        match ledger::consumer_refusal(&history, sender, now.max(n.at)) {
            Some(r) => Err(GatewayError::ConsumerRefused {
                seq: r.seq,
                at: r.at,
                channel: r.source.as_str(),
            }),
            None => Ok(()),
        }
    }

    /// Commits already-validated events (import, replies, portal, links) and cancels the
    /// deferred marketing each opt-out covers: whichever door a refusal comes through, a
    /// message held for quiet hours is cancelled at once (status `rejected`, `opted_out`),
    /// not left looking deliverable until its release.
    pub fn commit_consents(&self, news: &[NewConsent]) -> Result<Vec<ConsentEvent>, GatewayError> {
        Ok(self.commit_and_cancel(news)?.0)
    }

    /// [`Gateway::commit_consents`], also returning the ids of the deferred messages cancelled.
    pub(crate) fn commit_and_cancel(
        &self,
        news: &[NewConsent],
    ) -> Result<(Vec<ConsentEvent>, Vec<u64>), GatewayError> {
        let c = self.commit_with_effect(news)?;
        Ok((c.events, c.cancelled))
    }

    /// [`Gateway::commit_and_cancel`], also returning each event's [`ConsentEffect`], read from the
    /// index under the same shard locks as the commit (so nothing interleaves between the
    /// before and the after).
    pub(crate) fn commit_with_effect(
        &self,
        news: &[NewConsent],
    ) -> Result<Committed, GatewayError> {
        if news.is_empty() {
            return Ok(Committed::default());
        }
        // No event takes effect after it is recorded (replies and imports may carry a clock a
        // little ahead): the latest event wins, so a future date would outrank what comes next.
        let now = self.clock.now();
        let clamped: Vec<NewConsent>;
        let news = if news.iter().any(|n| n.at > now) {
            clamped = news
                .iter()
                .map(|n| NewConsent {
                    at: n.at.min(now),
                    ..n.clone()
                })
                .collect();
            &clamped[..]
        } else {
            news
        };
        let pins = self.require_owned(news.iter().map(|n| n.phone))?;
        let mut locked = self.consent.write_many(news.iter().map(|n| n.phone));
        let state = |locked: &ledger::WriteSet<'_>, n: &NewConsent| match n.sender {
            Some(s) => match locked.answer(n.phone, s) {
                Some(ledger::IndexAnswer::Consented(_)) => "consented",
                Some(ledger::IndexAnswer::OptedOut { .. }) => "opted_out",
                _ => "no_consent",
            },
            None if locked.platform_refused(n.phone) => "opted_out",
            None => "not_opted_out",
        };
        let before: Vec<&'static str> = news.iter().map(|n| state(&locked, n)).collect();
        let events = self.store.append_consents_pinned(news, now, &pins)?;
        // Acknowledged means all of them, each for the phone it was asked for.
        debug_assert_eq!(events.len(), news.len());
        debug_assert!(events.iter().zip(news).all(|(e, n)| e.phone == n.phone));
        for e in &events {
            locked.apply(e);
        }
        let effects: Vec<ConsentEffect> = news
            .iter()
            .zip(before)
            .map(|(n, before)| {
                let after = state(&locked, n);
                ConsentEffect {
                    before,
                    after,
                    changed: before != after,
                }
            })
            .collect();
        drop(locked);
        self.consent_events
            .fetch_add(events.len() as u64, std::sync::atomic::Ordering::Relaxed);
        let outs = events
            .iter()
            .filter(|e| e.action == ConsentAction::OptOut)
            .count();
        metrics::counter!("consentry_consent_events_total", "action" => "opt_out")
            .increment(outs as u64);
        metrics::counter!("consentry_consent_events_total", "action" => "opt_in")
            .increment((events.len() - outs) as u64);
        let mut cancelled = Vec::new();
        if outs > 0 {
            for e in events.iter().filter(|e| e.action == ConsentAction::OptOut) {
                // A platform-wide refusal (no sender) covers every sender.
                let senders: Vec<SenderId> = e.sender.into_iter().collect();
                cancelled.extend(self.cancel_deferred(e.phone, &senders, e.at)?);
            }
        }
        Ok(Committed {
            events,
            effects,
            cancelled,
        })
    }

    /// Cancels deferred marketing to `phone` from `senders` (every sender when empty), recording
    /// each cancellation with reason `opted_out`. Returns the cancelled message ids.
    pub(crate) fn cancel_deferred(
        &self,
        phone: Msisdn,
        senders: &[SenderId],
        at: Timestamp,
    ) -> Result<Vec<u64>, GatewayError> {
        let taken = self.deferred.lock().take_marketing(phone, senders);
        let now = self.clock.now();
        let mut ids = Vec::with_capacity(taken.len());
        for id in taken {
            let d = Decision::from_reasons(
                vec![Reason::new(
                    ReasonCode::OptedOut,
                    format!("consent withdrawn at {at}, while deferred"),
                )],
                None,
                false,
                Category::Marketing,
            );
            // The opt-out is already committed: a cancellation that cannot be recorded is
            // logged, not reported as the opt-out failing. The message is out of the queue;
            // the store still says deferred, and a restart decides it again (and refuses it).
            match self.record_redecision(id, phone, None, &d, now) {
                Ok(()) => ids.push(id),
                Err(e) => tracing::error!(id, error = %e, "recording a cancellation failed"),
            }
        }
        if !ids.is_empty() {
            self.cancelled
                .fetch_add(ids.len() as u64, std::sync::atomic::Ordering::Relaxed);
        }
        Ok(ids)
    }

    /// `phone`'s consent state at `at` (now if absent) and its history, as `by` may see it.
    pub fn consents(
        &self,
        by: Principal,
        phone: &str,
        at: Option<Timestamp>,
    ) -> Result<ConsentsView, GatewayError> {
        let phone = Msisdn::parse(phone, self.policy.region())?;
        let asked_at = at;
        let at = at.unwrap_or_else(|| self.clock.now());
        let mut history = self.store.consent_history(phone)?;
        if let Principal::Sender(own) = by {
            history.retain(|e| e.scope == Scope::Platform || e.sender == Some(own));
            redact_for_sender(&mut history, own);
        } else if by == Principal::Carrier {
            return Err(GatewayError::Forbidden(
                "the carrier key cannot read the ledger".into(),
            ));
        }
        let view = view_at(&history, at);
        let mut senders: Vec<SenderLine> = view
            .senders
            .iter()
            .map(|s| self.line(s.sender, &s.answer))
            .collect();
        if let Principal::Sender(own) = by
            && senders.is_empty()
        {
            senders.push(self.line(own, &ledger::answer_at(&history, own, at)));
        }
        if asked_at.is_none() {
            for line in &mut senders {
                let allowed = matches!(
                    self.consent.answer(phone, line.sender_id),
                    ledger::IndexAnswer::Consented(_)
                );
                line.send_path = Some(if allowed { "allowed" } else { "refused" });
            }
        }
        let platform_opted_out = view
            .platform
            .is_some_and(|e| e.action == ConsentAction::OptOut);
        Ok(ConsentsView {
            phone,
            at,
            platform_opted_out,
            senders,
            history,
        })
    }
}

/// What a sender may read of platform-wide events it did not record: why the phone refuses it,
/// not who else the consumer dealt with — what another party wrote as evidence, and which shop
/// recorded it (older ledgers hold platform events recorded by senders), are not its to read.
pub(crate) fn redact_for_sender<'a>(
    events: impl IntoIterator<Item = &'a mut ConsentEvent>,
    own: SenderId,
) {
    let mine = Principal::Sender(own).actor();
    for e in events {
        if e.scope == Scope::Platform && e.actor != mine {
            e.evidence.clear();
            if e.actor.starts_with("sender:") {
                e.actor = "another sender".into();
            }
        }
    }
}

impl Gateway {
    fn line(&self, sender: SenderId, answer: &Answer<'_>) -> SenderLine {
        let (state, event) = match answer {
            Answer::Consented(e) => ("consented", Some(*e)),
            Answer::OptedOut(e) => ("opted_out", Some(*e)),
            Answer::NoConsent => ("no_consent", None),
        };
        SenderLine {
            sender_id: sender,
            name: self.access.sender(sender).map(|s| s.name),
            state,
            decided_by: event.map(|e| e.seq),
            since: event.map(|e| e.at),
            send_path: None,
        }
    }
}
