//! Inbound replies (mobile-originated messages): read the intent, attribute it to senders,
//! apply it to the ledger — all before the carrier gets its acknowledgement.
//!
//! [`Gateway::handle_reply`] is the one entry point, for `POST /v1/inbound` and for an SMPP
//! `deliver_sm` that is not a receipt alike. The order of its steps is the promise:
//!
//! 1. the `from` number is parsed strictly (a number that does not parse is refused: an opt-out
//!    must never land on a phone the consumer does not own), `to` is reduced to digits;
//! 2. a replay (same from, to, text and `received_at`) answers what the first one answered and
//!    does nothing else;
//! 3. the text is read by [`replies::IntentParser`];
//! 4. attribution: a reply to a sender's source number (or a carrier sub-extension of it) is for
//!    that sender; one to the base number or to no known number is for every sender whose
//!    marketing reached the phone in the last `reply_attribution_days` (ambiguity resolves in
//!    the consumer's favour), and for the whole platform if there is none; `STOPALL`/`全部退订`
//!    is platform-wide. Opt-in (`START`) is only ever for the one sender replied to;
//! 5. the consent events (source `reply`, actor `reply`, the text as evidence) are committed and
//!    applied under the phone's shard locks ([`Gateway::commit_consents`]): from then on no
//!    decision and no hand-off for that phone can miss them;
//! 6. deferred marketing for the phone and those senders is cancelled (`opted_out`); queued
//!    marketing is cancelled by the dispatcher's re-check at hand-off;
//! 7. a confirmation (or the help answer) is queued, at most one per sender per day;
//! 8. the reply and its outcome are recorded, and the outcome returned.

use std::sync::Arc;

use domain::{ConsentAction, ConsentSource, Msisdn, Scope, SenderId, Timestamp};
use parking_lot::Mutex;
use replies::{Intent, IntentParser};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use store::{NewConsent, NewReply, ReplyLog, SenderRecord, StoreError};

use crate::notices::Notice;
use crate::{Gateway, GatewayError};

/// Longest reply text kept as evidence and in the reply log (an SMS reply is far shorter; the
/// parser reads less than this).
const MAX_KEPT_CHARS: usize = 2000;
/// Longest `to` accepted, in digits (E.164 is 15; service numbers with sub-extensions are longer).
const MAX_TO_DIGITS: usize = 24;
const STRIPES: usize = 64;

/// What the replies path keeps in the gateway: the compiled parser and the locks that make a
/// replayed reply wait for the first one instead of racing it.
pub(crate) struct Replies {
    parser: Arc<IntentParser>,
    stripes: Box<[Mutex<()>]>,
}

impl Default for Replies {
    fn default() -> Self {
        Replies {
            parser: Arc::new(IntentParser::default()),
            stripes: (0..STRIPES).map(|_| Mutex::new(())).collect(),
        }
    }
}

/// Whose reply it is, from the number it was sent to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Attribution {
    /// A sender's source number (or a sub-extension of it).
    Sender,
    /// The platform's base number.
    PlatformNumber,
    /// An extension no sender has, or a number that is not ours.
    Unattributed,
}

/// What a reply changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Effect {
    /// Opted out of the listed senders.
    OptedOut,
    /// Opted out of every sender's marketing.
    OptedOutPlatform,
    /// Re-subscribed to the one sender replied to.
    OptedIn,
    /// The help answer was sent.
    HelpSent,
    /// Nothing: `other`, an opt-in to no sender, or help already answered today.
    None,
}

/// The answer to one inbound reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplyOutcome {
    /// Id of the reply in the reply log.
    pub reply_id: u64,
    /// What the consumer asked for.
    pub intent: Intent,
    /// The parser rule that decided (`keyword:T`, `phrase:不要再*发`).
    pub matched: Option<String>,
    /// Whether the reply asked for every sender (`STOPALL`, `全部退订`).
    pub all_senders: bool,
    /// Whether the reply is a complaint (`举报`).
    pub report: bool,
    /// How the number replied to was read.
    pub attribution: Attribution,
    /// The senders the effect applies to (empty when platform-wide or none).
    pub senders: Vec<SenderId>,
    /// What changed.
    pub effect: Effect,
    /// Sequence numbers of the ledger events committed.
    pub events: Vec<u64>,
    /// Deferred marketing cancelled.
    pub cancelled: Vec<u64>,
    /// The confirmation or help message queued, if one was (at most one per sender per day).
    pub notice: Option<u64>,
    /// True when this answers a replay of an earlier request, which changed nothing.
    pub replayed: bool,
    /// The complaint a report (`举报`) to a sender's number filed as the consumer's own (or
    /// the one already filed about that message); `None` for any other reply, or when the
    /// complaint could not be filed (the per-phone daily limit) — the refusal stands anyway.
    #[serde(default)]
    pub complaint: Option<u64>,
}

/// `to` as digits: spaces, dashes, dots and brackets dropped, one leading `+` allowed.
/// Called with `(sender, from, to, text)` for each new reply to a sender's number; see
/// [`Gateway::forward_replies`].
pub type ReplyListener = std::sync::Arc<dyn Fn(SenderId, &str, &str, &str) + Send + Sync>;

impl Gateway {
    /// Forwards every new reply to a sender's number, whichever door it came through (the
    /// carrier's SMPP link or `POST /v1/inbound`), to `listener` — the SMPP listener's hub, so a
    /// merchant bound over SMPP gets its customers' replies (issue #14, item 9: replies posted
    /// over HTTP were not forwarded). Replaces any listener set before. A replayed reply is not
    /// forwarded again.
    pub fn forward_replies(&self, listener: ReplyListener) {
        *self.reply_listener.write() = Some(listener);
    }
}

pub(crate) fn to_digits(to: &str) -> Result<String, GatewayError> {
    let bad = |why: &str| {
        GatewayError::InvalidField(format!(
            "`to` {:?} {why}",
            to.chars().take(32).collect::<String>()
        ))
    };
    let trimmed = to.trim();
    let body = trimmed.strip_prefix('+').unwrap_or(trimmed);
    let mut digits = String::with_capacity(body.len());
    for c in body.chars() {
        match c {
            '0'..='9' => digits.push(c),
            ' ' | '-' | '.' | '(' | ')' => {}
            _ => return Err(bad("is not a phone number")),
        }
        if digits.len() > MAX_TO_DIGITS {
            return Err(bad("is too long"));
        }
    }
    if digits.len() < 3 {
        return Err(bad("is too short"));
    }
    Ok(digits)
}

/// How old a reply's `received_at` may be.
const MAX_REPLY_AGE_HOURS: i64 = 72;

fn keep(text: &str) -> String {
    text.chars().take(MAX_KEPT_CHARS).collect()
}

impl Gateway {
    /// Which sender (if any) a reply to `digits` is for. Country prefixes (`86`, `0086`) are
    /// tried too, because carriers write service numbers either way. The longest source
    /// number that begins the digits wins: a sender's number as it is or with a carrier's
    /// sub-extension appended, never a shorter number that only happens to begin a longer
    /// one (sender 1000's `…1000` begins sender 10000's `…10000`).
    pub fn attribute(&self, digits: &str) -> (Attribution, Option<SenderRecord>) {
        let base = self.config.platform_number.as_str();
        let candidates = [
            Some(digits),
            digits.strip_prefix("0086"),
            digits.strip_prefix("86"),
        ];
        let senders = self.access.senders.read();
        let best = candidates
            .into_iter()
            .flatten()
            .flat_map(|d| {
                senders
                    .values()
                    .filter(move |s| !s.source_number.is_empty() && d.starts_with(&s.source_number))
            })
            .max_by_key(|s| (s.source_number.len(), std::cmp::Reverse(s.id)));
        if let Some(s) = best {
            return (Attribution::Sender, Some(s.clone()));
        }
        if candidates.into_iter().flatten().any(|d| d == base) {
            return (Attribution::PlatformNumber, None);
        }
        (Attribution::Unattributed, None)
    }

    /// Handles one inbound reply from `from` to `to`; see the module docs for the steps. When
    /// this returns `Ok`, every consent change is durable and enforced.
    ///
    /// # Errors
    /// [`GatewayError::InvalidNumber`] for a `from` that is not a valid number,
    /// [`GatewayError::InvalidField`] for a malformed `to` or a `received_at` in the future,
    /// [`GatewayError::Store`] when storage fails (then nothing was acknowledged; a retry with
    /// the same `received_at` is safe).
    pub fn handle_reply(
        &self,
        from: &str,
        to: &str,
        text: &str,
        received_at: Option<Timestamp>,
    ) -> Result<ReplyOutcome, GatewayError> {
        let phone = Msisdn::parse(from, self.policy.region())?;
        let to = to_digits(to)?;
        let now = self.clock.now();
        if let Some(at) = received_at
            && at
                > now
                    .saturating_add(jiff::SignedDuration::from_mins(5))
                    .unwrap_or(now)
        {
            return Err(GatewayError::InvalidField(
                "`received_at` is in the future".into(),
            ));
        }
        // Carriers retry a mobile-originated message for a day or so; a reply claiming to be
        // older than this is a replay of something else or a clock gone wrong.
        if let Some(at) = received_at
            && at
                < now
                    .saturating_sub(jiff::SignedDuration::from_hours(MAX_REPLY_AGE_HOURS))
                    .unwrap_or(Timestamp::UNIX_EPOCH)
        {
            return Err(GatewayError::InvalidField(format!(
                "`received_at` is more than {MAX_REPLY_AGE_HOURS} hours old"
            )));
        }
        let key = received_at.map(|at| {
            let mut h = Sha256::new();
            h.update(phone.as_u64().to_be_bytes());
            h.update(at.as_microsecond().to_be_bytes());
            h.update(to.as_bytes());
            h.update([0]);
            h.update(text.as_bytes());
            hex::encode(h.finalize())
        });
        // Replays of one reply serialise on its stripe, so the second sees the first's record.
        let stripe = key.as_ref().map(|k| {
            let i = usize::from(k.as_bytes()[0]) * 31 + usize::from(k.as_bytes()[1]);
            self.replies.stripes[i % STRIPES].lock()
        });
        if let Some(k) = &key
            && let Some((id, json)) = self.store.reply_outcome(k)?
        {
            let mut outcome: ReplyOutcome = serde_json::from_str(&json).map_err(|e| {
                GatewayError::Store(StoreError::Corrupt {
                    table: "inbound_replies",
                    row: i64::try_from(id).unwrap_or(-1),
                    why: e.to_string(),
                })
            })?;
            outcome.reply_id = id;
            outcome.replayed = true;
            return Ok(outcome);
        }
        let at = received_at.unwrap_or(now);
        let reading = self.replies.parser.parse(text);
        let (attribution, sender) = self.attribute(&to);
        let mut outcome = ReplyOutcome {
            reply_id: 0,
            intent: reading.intent,
            matched: reading.matched.clone(),
            all_senders: reading.all_senders,
            report: reading.report,
            attribution,
            senders: Vec::new(),
            effect: Effect::None,
            events: Vec::new(),
            cancelled: Vec::new(),
            notice: None,
            replayed: false,
            complaint: None,
        };
        let reply_number = sender.as_ref().map_or_else(
            || self.config.platform_number.clone(),
            |s| s.source_number.clone(),
        );
        match reading.intent {
            Intent::OptOut => {
                let targets: Vec<SenderId> = if reading.all_senders {
                    Vec::new()
                } else if let Some(s) = &sender {
                    vec![s.id]
                } else {
                    let days = i64::from(self.config.reply_attribution_days);
                    let since = now
                        .saturating_sub(jiff::SignedDuration::from_hours(24 * days))
                        .unwrap_or(Timestamp::UNIX_EPOCH);
                    self.store.marketing_senders(phone, since)?
                };
                let evidence = keep(text);
                let event = |scope, sender| NewConsent {
                    phone,
                    scope,
                    sender,
                    action: ConsentAction::OptOut,
                    source: ConsentSource::Reply,
                    evidence: evidence.clone(),
                    actor: "reply".into(),
                    at,
                };
                let news: Vec<NewConsent> = if targets.is_empty() {
                    vec![event(Scope::Platform, None)]
                } else {
                    targets
                        .iter()
                        .map(|&s| event(Scope::Sender, Some(s)))
                        .collect()
                };
                let (events, cancelled) = self.commit_and_cancel(&news)?;
                outcome.events = events.iter().map(|e| e.seq).collect();
                outcome.cancelled = cancelled;
                // A reply dated before a consent recorded since (a carrier delivering late) is on
                // the ledger but does not win: say so, and do not tell the consumer they are
                // unsubscribed when they are not (session-2 review).
                // The senders the refusal is in force for now. A platform-wide one always is (a
                // sender's own later consent may outrank it for that sender alone, which its
                // confirmation need not wait for).
                let in_force: Vec<SenderId> = targets
                    .iter()
                    .copied()
                    .filter(|&s| {
                        matches!(
                            self.consent.answer(phone, s),
                            ledger::IndexAnswer::OptedOut { .. }
                        )
                    })
                    .collect();
                if targets.is_empty() || !in_force.is_empty() {
                    outcome.effect = if targets.is_empty() {
                        Effect::OptedOutPlatform
                    } else {
                        Effect::OptedOut
                    };
                    outcome.notice =
                        self.send_notice(Notice::OptedOut, phone, &in_force, &reply_number)?;
                }
                outcome.senders = targets;
            }
            Intent::OptIn => {
                if let Some(s) = &sender {
                    let news = [NewConsent {
                        phone,
                        scope: Scope::Sender,
                        sender: Some(s.id),
                        action: ConsentAction::OptIn,
                        source: ConsentSource::Reply,
                        evidence: keep(text),
                        actor: "reply".into(),
                        at,
                    }];
                    outcome.events = self.commit_consents(&news)?.iter().map(|e| e.seq).collect();
                    outcome.effect = Effect::OptedIn;
                    outcome.senders = vec![s.id];
                }
            }
            Intent::Help => {
                let targets: Vec<SenderId> = sender.iter().map(|s| s.id).collect();
                outcome.notice = self.send_notice(Notice::Help, phone, &targets, &reply_number)?;
                if outcome.notice.is_some() {
                    outcome.effect = Effect::HelpSent;
                }
                outcome.senders = targets;
            }
            Intent::Other => {}
        }
        if reading.report
            && let Some(s) = &sender
        {
            outcome.complaint = self.reply_complaint(phone, s.id, &to, text, at);
        }
        let json = serde_json::to_string(&outcome)
            .map_err(|e| GatewayError::InvalidField(format!("outcome: {e}")))?;
        let kept = keep(text);
        outcome.reply_id = self.store.record_reply(&NewReply {
            key: key.as_deref(),
            phone,
            to: &to,
            text: &kept,
            received_at: at,
            intent: reading.intent.as_str(),
            outcome: &json,
        })?;
        drop(stripe);
        metrics::counter!("consentry_replies_total", "intent" => reading.intent.as_str())
            .increment(1);
        if let (Some(s), Some(listener)) = (&sender, self.reply_listener.read().clone()) {
            let from = phone.to_string();
            listener(s.id, from.trim_start_matches('+'), &to, text);
        }
        Ok(outcome)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn to_numbers_are_digits_or_refused() {
        assert_eq!(
            to_digits(" +86 1069-0000 1234 5 ").unwrap(),
            "861069000012345"
        );
        assert!(to_digits("").is_err());
        assert!(to_digits("12").is_err());
        assert!(to_digits("1069000012345abc").is_err());
        assert!(to_digits(&"1".repeat(30)).is_err());
        assert!(to_digits("\u{0}\u{1}").is_err());
    }
}
