//! Complaint intake: validate, find the message, gather what consentry recorded at send time,
//! adjudicate ([`complaints::adjudicate`]), and — when the sender's record calls for it —
//! suspend the sender in the same transaction that records the complaint.
//!
//! Filing is serialised by one lock: the duplicate check, the flood check and the count that
//! decides a suspension must see every earlier complaint. Complaints are rare next to messages
//! (thousands a day against millions), so one at a time costs nothing that matters.

use std::sync::OnceLock;

use ::complaints::{
    Adjudication, Candidate, Case, Claim, ComplaintKind, ComplaintVerdict, ContentView,
    EnforcementConfig, Limits, MatchOutcome, MatchedBy, SendFacts, SentMessage, SuspensionAction,
    adjudicate, match_message, suspension_due,
};
use domain::{Msisdn, SenderId, Timestamp};
use jiff::SignedDuration;
use parking_lot::{Mutex, RwLock};
use serde::Serialize;
use store::{
    ComplaintLog, ComplaintQuery, ComplaintRecord, ComplaintSort, Delivery, MessageLog,
    MessageRecord, NewComplaint, NewSuspension, StoreError,
};

use crate::{Gateway, GatewayError, Principal};

/// Longest complaint text kept (a forwarded SMS of 10 segments is under 700 characters).
pub(crate) const MAX_TEXT: usize = 1000;
/// Longest note kept.
const MAX_NOTE: usize = 2000;

/// The enforcement state the gateway holds.
#[derive(Default)]
pub(crate) struct Enforcement {
    pub(crate) config: RwLock<EnforcementConfig>,
    /// `config.suspension_blocks == All`, read on the send path without the lock.
    pub(crate) blocks_all: std::sync::atomic::AtomicBool,
    /// Serialises filing; see the module docs.
    pub(crate) filing: Mutex<()>,
}

/// A complaint as received.
#[derive(Debug, Clone)]
pub struct ComplaintRequest {
    /// The consumer's number as given.
    pub phone: String,
    /// The message complained about, if the complainant knows it.
    pub message_id: Option<u64>,
    /// The sender, if known by id.
    pub sender_id: Option<SenderId>,
    /// The number the message came from, as the consumer saw it.
    pub source_number: Option<String>,
    /// The text as the consumer saw it.
    pub text: Option<String>,
    /// When the consumer received it; now if absent.
    pub received_at: Option<Timestamp>,
    /// What the complaint says.
    pub kind: ComplaintKind,
    /// Free text.
    pub note: Option<String>,
}

/// The outcome of filing a complaint.
#[derive(Debug, Clone, Serialize)]
pub struct ComplaintFiled {
    /// The stored complaint with its verdict and evidence.
    pub complaint: ComplaintRecord,
    /// The automatic suspension it triggered, with its reason.
    pub suspended: Option<String>,
}

/// The classifier, the process's shared default model (the send path holds the same copy);
/// `None` if the embedded model cannot be read (then adjudication goes on without content
/// scores, and says so by leaving them out).
fn classifier() -> Option<&'static classify::Model> {
    static MODEL: OnceLock<Option<std::sync::Arc<classify::Model>>> = OnceLock::new();
    MODEL
        .get_or_init(|| match classify::Model::shared_default() {
            Ok(m) => Some(m),
            Err(e) => {
                tracing::error!(error = %e, "content classifier unavailable; complaints are adjudicated without it");
                None
            }
        })
        .as_deref()
}

/// What the classifier reads in `text`.
#[must_use]
pub fn read_content(text: &str) -> Option<ContentView> {
    let model = classifier()?;
    let r = model.read_explained(text);
    Some(ContentView {
        category: r.category.to_string(),
        marketing: r.score("marketing").unwrap_or(0.0),
        fraud: r.score("fraud").unwrap_or(0.0),
        clause: r.clause_text(text).map(str::to_owned),
    })
}

/// The classifier reading recorded with a decision: `{category, scores: {label: p}, clause}`.
fn recorded_content(v: &serde_json::Value) -> Option<ContentView> {
    let score = |label: &str| {
        v.get("scores")
            .and_then(|s| s.get(label))
            .and_then(serde_json::Value::as_f64)
    };
    #[allow(clippy::cast_possible_truncation)]
    Some(ContentView {
        category: v.get("category")?.as_str()?.to_string(),
        marketing: score("marketing")? as f32,
        fraud: score("fraud").unwrap_or(0.0) as f32,
        clause: v
            .get("clause")
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned),
    })
}

fn bounded(field: &str, v: Option<&String>, max: usize) -> Result<Option<String>, GatewayError> {
    match v.map(|s| s.trim()).filter(|s| !s.is_empty()) {
        Some(s) if s.chars().count() > max => Err(GatewayError::InvalidField(format!(
            "{field} is longer than {max} characters"
        ))),
        other => Ok(other.map(str::to_string)),
    }
}

/// A complaint as the sender it is about reads it: without the complainant's note, and with
/// the platform-wide consent events in its evidence redacted as in the sender's ledger view.
fn as_seen_by_sender(c: &mut ComplaintRecord, own: SenderId) {
    c.note = None;
    let a = &mut c.adjudication;
    crate::consents::redact_for_sender(a.events.iter_mut(), own);
    if let Some(event) = a.consent.as_mut().and_then(|c| c.event.as_mut()) {
        crate::consents::redact_for_sender(std::iter::once(event), own);
    }
}

/// A message as the adjudication sees it: sent if it was handed to a carrier. Consent is judged
/// at its (last) decision: the dispatcher re-checks consent at hand-off and cancels on any change
/// in between, so the state at the decision is the state at hand-off.
pub(crate) fn sent_message(m: &MessageRecord) -> SentMessage {
    let handed_off = matches!(
        m.delivery,
        Delivery::Submitted | Delivery::Delivered | Delivery::Failed
    );
    SentMessage {
        message_id: m.id,
        sender: m.sender,
        text: m.text.clone(),
        category: m.category,
        status: m.status,
        reasons: m.reasons.clone(),
        decided_at: m.decided_at,
        sent_at: handed_off.then_some(m.decided_at),
    }
}

impl Gateway {
    /// Whether `sender`'s suspension stops a message decided as `category`
    /// (`[enforcement] suspension_blocks`).
    pub(crate) fn suspension_stops(&self, suspended: bool, category: domain::Category) -> bool {
        suspended
            && (self
                .enforcement
                .blocks_all
                .load(std::sync::atomic::Ordering::Relaxed)
                || category == domain::Category::Marketing)
    }

    /// The enforcement settings in force.
    #[must_use]
    pub fn enforcement(&self) -> EnforcementConfig {
        self.enforcement.config.read().clone()
    }

    /// Replaces the enforcement settings (`[enforcement]`), after checking them.
    pub fn set_enforcement(&self, config: EnforcementConfig) -> Result<(), GatewayError> {
        config
            .validate()
            .map_err(|e| GatewayError::InvalidField(e.to_string()))?;
        self.enforcement.blocks_all.store(
            config.suspension_blocks == ::complaints::SuspensionBlocks::All,
            std::sync::atomic::Ordering::Relaxed,
        );
        *self.enforcement.config.write() = config;
        Ok(())
    }

    /// Files a complaint from the admin, or from the carrier feed (a `举报`/`REPORT` reply):
    /// matches it to a sent message, adjudicates it against what was recorded at send time,
    /// stores it with its verdict and evidence, and suspends the sender when its record calls
    /// for it. Senders cannot file complaints.
    ///
    /// A `举报` reply files as [`Principal::Carrier`] with `source_number` = the number replied
    /// to, `received_at` = the carrier's receive time and no `text` (the reply is not the
    /// message): the phone's latest message from that sender is the one complained about. A
    /// repeated report answers [`GatewayError::DuplicateComplaint`] and a flood
    /// [`GatewayError::TooManyComplaints`]; neither should fail the reply itself.
    pub fn file_complaint(
        &self,
        by: Principal,
        req: &ComplaintRequest,
    ) -> Result<ComplaintFiled, GatewayError> {
        if let Principal::Sender(_) = by {
            return Err(GatewayError::Forbidden(
                "complaints are filed by the platform or the carrier feed, not by senders".into(),
            ));
        }
        self.file_as(by.actor(), req)
    }

    /// Files a complaint from the consumer who owns `phone` (proven by a portal session) about
    /// message `message_id`, which must have been sent to that number: the same intake,
    /// matching, adjudication and limits as [`Gateway::file_complaint`], recorded as filed by
    /// `consumer` so a report can tell the consumer's own word from the carrier's and the
    /// platform's.
    pub fn portal_complaint(
        &self,
        phone: Msisdn,
        message_id: u64,
        kind: ComplaintKind,
        note: Option<String>,
    ) -> Result<ComplaintFiled, GatewayError> {
        let req = ComplaintRequest {
            phone: phone.to_string(),
            message_id: Some(message_id),
            sender_id: None,
            source_number: None,
            text: None,
            received_at: None,
            kind,
            note,
        };
        self.file_as("consumer".into(), &req)
    }

    /// Files the complaint a report reply (`举报` to `to`, a number of `sender`) makes: the
    /// consumer's own, on the number the carrier delivered the reply from, about the sender's
    /// last message to it before the reply (the matcher's choice, as for a complaint that names
    /// a sender but no message), with the reply as the note. A complaint already filed about
    /// that message is the answer; any other refusal (the daily limit) is logged and leaves
    /// the reply's refusal standing.
    pub(crate) fn reply_complaint(
        &self,
        phone: Msisdn,
        sender: SenderId,
        to: &str,
        text: &str,
        at: Timestamp,
    ) -> Option<u64> {
        let req = ComplaintRequest {
            phone: phone.to_string(),
            message_id: None,
            sender_id: Some(sender),
            source_number: Some(to.to_string()),
            text: None,
            received_at: Some(at),
            kind: ComplaintKind::UnwantedMarketing,
            note: Some(text.chars().take(MAX_NOTE).collect()),
        };
        match self.file_as("consumer".into(), &req) {
            Ok(filed) => Some(filed.complaint.id),
            Err(GatewayError::DuplicateComplaint(id)) => Some(id),
            Err(e) => {
                tracing::warn!(sender = sender.0, error = %e, "a report reply filed no complaint");
                None
            }
        }
    }

    pub(crate) fn file_as(
        &self,
        actor: String,
        req: &ComplaintRequest,
    ) -> Result<ComplaintFiled, GatewayError> {
        let now = self.clock.now();
        let config = self.enforcement();
        let phone = Msisdn::parse(&req.phone, self.policy.region())?;
        let text = bounded("text", req.text.as_ref(), MAX_TEXT)?;
        let note = bounded("note", req.note.as_ref(), MAX_NOTE)?;
        let received_at = req.received_at.unwrap_or(now);
        if received_at
            > now
                .saturating_add(SignedDuration::from_mins(5))
                .unwrap_or(now)
        {
            return Err(GatewayError::InvalidField(
                "received_at is in the future".into(),
            ));
        }
        let (named, source_number) = self.named_sender(req)?;

        let _one_at_a_time = self.enforcement.filing.lock();
        let day_ago = now
            .saturating_sub(SignedDuration::from_hours(24))
            .unwrap_or(now);
        let recent = self.store.complaints_from_phone_since(phone, day_ago)?;
        if recent >= u64::from(config.max_complaints_per_phone_per_day) {
            return Err(GatewayError::TooManyComplaints {
                limit: config.max_complaints_per_phone_per_day,
            });
        }

        let (matched, message) = match req.message_id {
            Some(id) => {
                let m = self.message_to(phone, id, named)?;
                (
                    MatchOutcome::Matched {
                        message_id: id,
                        by: MatchedBy::MessageId,
                        similarity: None,
                    },
                    Some(m),
                )
            }
            None => {
                let window = SignedDuration::from_hours(24 * i64::from(config.match_window_days));
                let sent_to = self.store.sent_to(
                    phone,
                    received_at.saturating_sub(window).unwrap_or(received_at),
                    received_at
                        .saturating_add(SignedDuration::from_mins(5))
                        .unwrap_or(received_at),
                )?;
                let sent: Vec<SentMessage> = sent_to.iter().map(sent_message).collect();
                let candidates: Vec<Candidate<'_>> = sent
                    .iter()
                    .filter_map(|m| {
                        Some(Candidate {
                            id: m.message_id,
                            sender: m.sender,
                            text: &m.text,
                            sent_at: m.sent_at?,
                            marketing: m.category == domain::Category::Marketing
                                || m.reasons
                                    .iter()
                                    .any(|r| r.code == policy::ReasonCode::ReclassifiedMarketing),
                        })
                    })
                    .collect();
                let outcome = match_message(
                    &candidates,
                    &Claim {
                        sender: named,
                        text: text.as_deref(),
                        received_at,
                        window,
                        about_marketing: req.kind.disputes_consent(),
                    },
                );
                let m = match outcome {
                    MatchOutcome::Matched { message_id, .. } => {
                        sent_to.into_iter().find(|m| m.id == message_id)
                    }
                    _ => None,
                };
                (outcome, m)
            }
        };

        let dedup_key = match &message {
            Some(m) => format!("m:{}", m.id),
            None => format!(
                "u:{}:{}:{}",
                phone.as_u64(),
                named.map_or(0, |s| s.0),
                text.as_deref().map_or_else(
                    || received_at.as_second().to_string(),
                    |t| format!("{:016x}", crate::text_hash(t))
                )
            ),
        };
        if let Some(existing) = self.store.complaint_by_key(&dedup_key)? {
            return Err(GatewayError::DuplicateComplaint(existing));
        }

        let adjudication = self.adjudicate_for(req.kind, phone, message.as_ref(), &config)?;
        let sender = message.as_ref().map(|m| m.sender).or(named);
        let new = NewComplaint {
            phone,
            sender,
            message_id: message.as_ref().map(|m| m.id),
            source_number,
            text,
            received_at,
            kind: req.kind,
            note,
            filed_by: actor,
            filed_at: now,
            dedup_key,
            matched,
            adjudication,
        };
        let suspension = match sender {
            Some(s) if new.adjudication.verdict != ComplaintVerdict::Unverified => {
                self.suspension_after(s, &new.adjudication, now, &config)?
            }
            _ => None,
        };
        let (id, suspension_id) = match self.store.insert_complaint(&new, suspension.as_ref()) {
            Ok(ids) => ids,
            Err(StoreError::Conflict(_)) => {
                let existing = self.store.complaint_by_key(&new.dedup_key)?.unwrap_or(0);
                return Err(GatewayError::DuplicateComplaint(existing));
            }
            Err(e) => return Err(e.into()),
        };
        let suspended = match (suspension, suspension_id) {
            (Some(s), Some(_)) => {
                if let Some(rec) = self.access.senders.write().get_mut(&s.sender) {
                    rec.suspended = true;
                }
                tracing::warn!(sender = s.sender.0, reason = %s.reason, "sender suspended");
                metrics::counter!("consentry_suspensions_total", "actor" => "enforcement")
                    .increment(1);
                Some(s.reason)
            }
            _ => None,
        };
        metrics::counter!("consentry_complaints_total", "verdict" => new.adjudication.verdict.as_str())
            .increment(1);
        let complaint = self
            .store
            .complaint(id)?
            .ok_or_else(|| GatewayError::NotFound(format!("complaint {id}")))?;
        Ok(ComplaintFiled {
            complaint,
            suspended,
        })
    }

    /// Adjudicates a complaint of `kind` from `phone` about message `id` without recording
    /// anything: the same gathering and verdict as [`Gateway::file_complaint`] (for previews
    /// and the `bench complaints` figures).
    pub fn adjudicate_message(
        &self,
        kind: ComplaintKind,
        phone: Msisdn,
        id: u64,
    ) -> Result<Adjudication, GatewayError> {
        let m = self.message_to(phone, id, None)?;
        self.adjudicate_for(kind, phone, Some(&m), &self.enforcement())
    }

    /// Message `id` if it was sent to `phone` (and by `sender`, if named); the same error for a
    /// message that does not exist and one that went to someone else, so nothing leaks.
    fn message_to(
        &self,
        phone: Msisdn,
        id: u64,
        sender: Option<SenderId>,
    ) -> Result<MessageRecord, GatewayError> {
        self.store
            .message(id)?
            .filter(|m| m.phone == Some(phone))
            .filter(|m| sender.is_none_or(|s| s == m.sender))
            .ok_or(GatewayError::UnknownMessage(id))
    }

    /// The sender the complaint names, by id or by the number the message came from, and that
    /// number as digits. A number that is no sender's is kept with the complaint but names
    /// nobody.
    fn named_sender(
        &self,
        req: &ComplaintRequest,
    ) -> Result<(Option<SenderId>, Option<String>), GatewayError> {
        let by_id = match req.sender_id {
            Some(id) if self.access.sender(id).is_none() => {
                return Err(GatewayError::UnknownSender(id.0));
            }
            other => other,
        };
        let digits = match req.source_number.as_deref() {
            Some(n) => Some(crate::inbound::to_digits(n).map_err(|_| {
                GatewayError::InvalidField(
                    "source_number must be a phone number (digits, spaces, dashes)".into(),
                )
            })?),
            None => None,
        };
        let by_number = digits
            .as_deref()
            .and_then(|d| self.attribute(d).1)
            .map(|s| s.id);
        match (by_id, by_number) {
            (Some(a), Some(b)) if a != b => Err(GatewayError::InvalidField(format!(
                "source_number belongs to sender {b}, not sender {a}"
            ))),
            (a, b) => Ok((a.or(b), digits)),
        }
    }

    /// Gathers the stored facts and adjudicates. Nothing here comes from the complainant but
    /// the kind of complaint and which message it is about.
    pub(crate) fn adjudicate_for(
        &self,
        kind: ComplaintKind,
        phone: Msisdn,
        message: Option<&MessageRecord>,
        config: &EnforcementConfig,
    ) -> Result<Adjudication, GatewayError> {
        // The decision as the audit chain holds it, not the editable cache beside it.
        let on_record = match message {
            Some(m) => self.store.message_on_record(m.id)?,
            None => None,
        };
        let message = on_record.as_ref().or(message);
        let sent = message.map(sent_message);
        let history = match &sent {
            Some(m) => self.store.consent_events_for(phone, m.sender)?,
            None => Vec::new(),
        };
        // The scores recorded with the decision are what the gateway knew at send time; a
        // message decided without them is read now, by the send path's model when one is
        // attached (`[classify]`), else by the compiled-in one.
        let content = message.and_then(|m| {
            m.content_scores
                .as_ref()
                .and_then(recorded_content)
                .or_else(|| {
                    self.classifier.get().and_then(|c| {
                        let check = c.read(&m.text);
                        let record: serde_json::Value =
                            serde_json::from_str(check.record.as_deref()?).ok()?;
                        recorded_content(&record)
                    })
                })
                .or_else(|| read_content(&m.text))
        });
        let facts = match &sent {
            Some(m) => match m.sent_at {
                Some(at) => Some(self.send_facts(phone, m.sender, at, m.message_id)?),
                None => None,
            },
            None => None,
        };
        let pc = self.policy.config();
        Ok(adjudicate(&Case {
            kind,
            message: sent.as_ref(),
            history: &history,
            content: content.as_ref(),
            facts,
            limits: Limits {
                max_marketing_per_sender_per_day: pc.max_marketing_per_sender_per_day,
                max_marketing_per_recipient_per_day: pc.max_marketing_per_recipient_per_day,
                marketing_threshold: config.marketing_threshold,
                fraud_threshold: config.fraud_threshold,
            },
        }))
    }

    /// Quiet hours at the send and the phone's marketing that local day, from the store.
    fn send_facts(
        &self,
        phone: Msisdn,
        sender: SenderId,
        at: Timestamp,
        id: u64,
    ) -> Result<SendFacts, GatewayError> {
        let local = self.policy.local(phone, at);
        let mut quiet = Vec::new();
        policy::rules::quiet_hours::check(&self.policy, phone, at, local, &mut quiet);
        // From local midnight (with an hour's margin for a clock change that day) to the send;
        // the local day of each message is then checked exactly.
        let day_start = at
            .saturating_sub(SignedDuration::from_secs(
                i64::from(local.time_of_day) + 3600,
            ))
            .unwrap_or(at);
        let day = self.store.marketing_sent_to(phone, day_start, at)?;
        let (mut mine, mut all) = (0u32, 0u32);
        for &(mid, from, t) in &day {
            if (t, mid) > (at, id) || self.policy.local(phone, t).day != local.day {
                continue;
            }
            all += 1;
            if from == sender {
                mine += 1;
            }
        }
        Ok(SendFacts {
            in_quiet_hours: !quiet.is_empty(),
            sender_marketing_that_day: mine,
            marketing_that_day: all,
        })
    }

    /// The automatic suspension this complaint triggers, if any: the sender's record over the
    /// window (since its last lift), counting this complaint.
    fn suspension_after(
        &self,
        sender: SenderId,
        adjudication: &Adjudication,
        now: Timestamp,
        config: &EnforcementConfig,
    ) -> Result<Option<NewSuspension>, GatewayError> {
        if self.access.sender(sender).is_none_or(|s| s.suspended) {
            return Ok(None);
        }
        let since = self.reputation_since(sender, now, config)?;
        let mut activity = self.store.sender_activity(sender, since)?;
        activity.complaints += 1;
        if adjudication.verdict == ComplaintVerdict::Violation {
            activity.violations += 1;
        }
        Ok(
            suspension_due(&activity, config).map(|trigger| NewSuspension {
                sender,
                action: SuspensionAction::Suspend,
                reason: trigger.reason(config.window_days),
                actor: "enforcement".into(),
                at: now,
                complaint_id: None,
                activity: Some(activity),
            }),
        )
    }

    /// Start of the reputation window: `window_days` ago, or just after the last lift if later
    /// (what was filed up to the lift was reviewed with it).
    pub(crate) fn reputation_since(
        &self,
        sender: SenderId,
        now: Timestamp,
        config: &EnforcementConfig,
    ) -> Result<Timestamp, GatewayError> {
        let window = config.window_start(now);
        let lifted = self
            .store
            .suspensions(sender)?
            .into_iter()
            .filter(|s| s.action == SuspensionAction::Lift)
            .map(|s| {
                s.at.saturating_add(SignedDuration::from_micros(1))
                    .unwrap_or(s.at)
            })
            .max();
        Ok(lifted.map_or(window, |l| l.max(window)))
    }

    /// One complaint, as `by` may see it: the admin sees all; a sender only complaints about
    /// itself (others read as not found), without the complainant's note.
    pub fn complaint(&self, by: Principal, id: u64) -> Result<ComplaintRecord, GatewayError> {
        let not_found = || GatewayError::NotFound(format!("complaint {id}"));
        let mut c = self.store.complaint(id)?.ok_or_else(not_found)?;
        match by {
            Principal::Admin => Ok(c),
            // An unverified complaint names a shop nothing of whose reached the phone: it is
            // for the authorities, and would only hand that shop a number it never had.
            Principal::Sender(own)
                if c.sender == Some(own)
                    && c.adjudication.verdict != complaints::ComplaintVerdict::Unverified =>
            {
                as_seen_by_sender(&mut c, own);
                Ok(c)
            }
            Principal::Sender(_) => Err(not_found()),
            Principal::Carrier => Err(GatewayError::Forbidden(
                "the carrier key files complaints; it cannot read them".into(),
            )),
        }
    }

    /// A page of the complaints queue as `by` may read it: the admin every complaint, a
    /// sender its own only, never the unverified ones, and without the complainant's note.
    ///
    /// `q.sender` is checked against `by` (another sender's is forbidden); `q.hide_unverified`
    /// is set for a sender whatever it says. The filters and the order are the store's, each
    /// served by an index (see [`store::ComplaintQuery`]), so a page reads its rows and no
    /// more however rare its verdict. `next_before` is given on newest-first pages, `next_offset`
    /// on every page that has a next one within [`store::MAX_OFFSET`].
    pub fn complaint_page(
        &self,
        by: Principal,
        mut q: ComplaintQuery,
    ) -> Result<ComplaintPage, GatewayError> {
        q.sender = complaint_scope(by, q.sender)?;
        let limit = q.limit.clamp(1, 500);
        if let Principal::Sender(_) = by {
            if q.verdict == Some(ComplaintVerdict::Unverified) {
                return Ok(ComplaintPage::default());
            }
            q.hide_unverified = true;
        }
        // One row more than the page says whether another page follows.
        q.limit = limit + 1;
        let mut found = self.store.complaints(&q)?;
        let more = found.len() > limit as usize;
        found.truncate(limit as usize);
        if let Principal::Sender(own) = by {
            for c in &mut found {
                as_seen_by_sender(c, own);
            }
        }
        let next_before = match found.last() {
            Some(last) if more && q.sort == ComplaintSort::default() => Some(last.id),
            _ => None,
        };
        let next_offset = more
            .then(|| q.offset.saturating_add(limit))
            .filter(|n| *n <= store::MAX_OFFSET);
        Ok(ComplaintPage {
            complaints: found,
            next_before,
            next_offset,
        })
    }
}

/// A page of the complaints queue.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ComplaintPage {
    /// Complaints, in the order asked for.
    pub complaints: Vec<ComplaintRecord>,
    /// Newest-first pages: pass as `before` for the next page; `None` when there is none.
    pub next_before: Option<u64>,
    /// Pass as `offset` (with the same query) for the next page; `None` when there is none or
    /// it would be deeper than [`store::MAX_OFFSET`].
    pub next_offset: Option<u32>,
}

/// Which sender's complaints `by` may list: the admin any (or all); a sender itself only; the
/// carrier none.
fn complaint_scope(
    by: Principal,
    sender: Option<SenderId>,
) -> Result<Option<SenderId>, GatewayError> {
    match (by, sender) {
        (Principal::Admin, s) => Ok(s),
        (Principal::Sender(own), None) => Ok(Some(own)),
        (Principal::Sender(own), Some(s)) if s == own => Ok(Some(own)),
        (Principal::Sender(_), Some(_)) => Err(GatewayError::Forbidden(
            "a sender reads complaints about itself only".into(),
        )),
        (Principal::Carrier, _) => Err(GatewayError::Forbidden(
            "the carrier key files complaints; it cannot read them".into(),
        )),
    }
}
