//! Submissions: validate, decide each recipient, record every decision, queue what may go.

use domain::{Category, Msisdn, Timestamp};
use policy::{Context, Decision, Prepared, Reason, SenderFacts, Verdict};
use serde::Serialize;
use store::SenderRecord;

use crate::volume::Query;
use crate::{Gateway, GatewayError, Principal};

/// One request: the same text to one or more recipients.
#[derive(Debug, Clone)]
pub struct Submission<'a> {
    /// Recipients as given.
    pub to: &'a [String],
    /// Text.
    pub text: &'a str,
    /// Declared category.
    pub category: Category,
}

/// The decision for one recipient.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct Outcome {
    /// Message id (every decision is recorded, rejected ones too).
    pub id: u64,
    /// Recipient as given.
    pub to: String,
    /// The recipient in E.164, when valid.
    pub phone: Option<Msisdn>,
    /// Verdict.
    pub status: Verdict,
    /// Every rule it failed.
    pub reasons: Vec<Reason>,
    /// For deferred messages.
    pub release_at: Option<Timestamp>,
}

/// Longest recipient accepted as given (E.164 has at most 15 digits; room for `+`, `00`,
/// spaces and dashes).
pub const MAX_RECIPIENT: usize = 32;

pub(crate) struct Decided {
    pub decision: Decision,
}

impl Gateway {
    /// Checks the text: not empty, within the configured number of segments.
    fn validate_text(&self, text: &str) -> Result<(), GatewayError> {
        let max_segments = self.policy.config().max_segments;
        if text.trim().is_empty() {
            return Err(GatewayError::EmptyText);
        }
        // Cheap bound first, so a 10 MB text is refused without counting it (and without
        // claiming it needs u32::MAX segments, as it once did).
        let max_chars = policy::max_text_chars(max_segments);
        if text.len() > max_chars * 4 {
            return Err(GatewayError::TextTooLarge {
                bytes: text.len(),
                max_chars,
                max_segments,
            });
        }
        let segments = policy::segments(text);
        if segments > max_segments {
            return Err(GatewayError::TextTooLong {
                segments,
                max: max_segments,
            });
        }
        Ok(())
    }

    /// Checks the text, the batch size and the recipients' lengths.
    pub(crate) fn validate(&self, sub: &Submission<'_>) -> Result<(), GatewayError> {
        self.validate_text(sub.text)?;
        // A recipient as given is stored and echoed even when it is not a number; a
        // million-character one was (issue #14, item 7).
        // Counted in characters, as the OpenAPI `maxLength` counts them.
        if let Some(long) = sub.to.iter().find(|t| t.chars().count() > MAX_RECIPIENT) {
            return Err(GatewayError::InvalidField(format!(
                "recipient {:?}… is {} characters long; a phone number has at most {MAX_RECIPIENT}",
                long.chars().take(16).collect::<String>(),
                long.chars().count()
            )));
        }
        // An empty recipient is a caller's bug, not a number to decide (the document says
        // `minLength: 1`).
        if sub.to.iter().any(|t| t.is_empty()) {
            return Err(GatewayError::InvalidField("a recipient is empty".into()));
        }
        if sub.to.is_empty() {
            return Err(GatewayError::EmptyBatch);
        }
        if sub.to.len() > self.config.max_batch {
            return Err(GatewayError::BatchTooLarge {
                n: sub.to.len(),
                max: self.config.max_batch,
            });
        }
        Ok(())
    }

    /// Decides one recipient, counting the send if accepted. See [`Gateway::decide_prepared`].
    pub(crate) fn decide_one(
        &self,
        sender: &SenderRecord,
        phone: Option<Msisdn>,
        text: &str,
        category: Category,
        hash: u64,
        now: Timestamp,
    ) -> Decided {
        let prepared = self.prepare(text, category, &facts(sender));
        self.decide_prepared(sender, &prepared, phone, hash, now)
    }

    /// Decides one recipient of a prepared text, counting the send if accepted. Holds the
    /// phone's volume shard from counting to recording so concurrent sends cannot both slip
    /// under a cap. This is the hot path of a campaign: no allocation unless rejected.
    pub(crate) fn decide_prepared(
        &self,
        sender: &SenderRecord,
        prepared: &Prepared,
        phone: Option<Msisdn>,
        hash: u64,
        now: Timestamp,
    ) -> Decided {
        let category = prepared.category();
        let Some(phone) = phone else {
            let ctx = Context {
                sender: self.decision_facts(sender, category),
                consent: ledger::IndexAnswer::NoConsent,
                counts: policy::Counts::default(),
                duplicate: false,
                now,
            };
            return Decided {
                decision: self.policy.decide_prepared(prepared, None, &ctx, None),
            };
        };
        let consent = if Self::is_marketing(category) {
            self.consent.answer(phone, sender.id)
        } else {
            ledger::IndexAnswer::NoConsent
        };
        let local = self.policy.local(phone, now);
        let q = self.volume_query(phone, sender.id, category, now, local.day, hash);
        let mut volume = self.volume.lock(phone);
        let seen = volume.seen(&q);
        let ctx = Context {
            sender: self.decision_facts(sender, category),
            consent,
            counts: seen.counts,
            duplicate: seen.duplicate,
            now,
        };
        let decision = self
            .policy
            .decide_prepared(prepared, Some(phone), &ctx, Some(local));
        if decision.verdict == Verdict::Accepted {
            // Accepted marketing fits under both daily caps, counted before it is recorded.
            debug_assert!(
                !Self::is_marketing(category) || {
                    let c = self.policy.config();
                    seen.counts.sender_marketing_today < c.max_marketing_per_sender_per_day
                        && seen.counts.recipient_marketing_today
                            < c.max_marketing_per_recipient_per_day
                }
            );
            volume.record(&q);
        }
        Decided { decision }
    }

    /// Decides and records a submission from `by` (a sender; the admin may not send).
    /// Every decision is durable when this returns; accepted messages are queued for dispatch.
    /// The same two steps as the SMPP group commit ([`Gateway::decide_submission`], then
    /// [`Gateway::record_decided`]), for one submission.
    pub fn submit(
        &self,
        by: Principal,
        sub: &Submission<'_>,
    ) -> Result<Vec<Outcome>, GatewayError> {
        let decided =
            self.decide_submission(by, sub.to.to_vec(), sub.text.to_string(), sub.category)?;
        self.record_decided(vec![decided])?
            .pop()
            .ok_or_else(|| GatewayError::InvalidField("the submission was not recorded".into()))
    }

    /// Decides recipients for `sender` against the live state without recording or counting
    /// anything outside this call (`consentry check`). Sends accepted earlier in the same call
    /// count toward the caps, as they would in a real campaign.
    pub fn dry_run(
        &self,
        sender: &SenderRecord,
        sub: &Submission<'_>,
    ) -> Result<Vec<(String, Decision)>, GatewayError> {
        // Decided on the text as sent: `{unsubscribe}` as a link of the real length.
        let preview = self.link_preview(sub.text);
        let sub = &Submission {
            text: preview.as_deref().unwrap_or(sub.text),
            ..sub.clone()
        };
        self.validate_text(sub.text)?;
        let now = self.clock.now();
        let region = self.policy.region();
        let scratch = crate::volume::Volume::default();
        let hash = Self::hash_of(sub.text);
        let prepared = self.prepare(sub.text, sub.category, &facts(sender));
        // The category the rules apply: the declared one unless the classifier reclassified it.
        let category = prepared.category();
        let mut out = Vec::with_capacity(sub.to.len());
        for to in sub.to {
            let phone = Msisdn::parse(to, region).ok();
            let decision = match phone {
                None => {
                    self.decide_one(sender, None, sub.text, sub.category, hash, now)
                        .decision
                }
                Some(phone) => {
                    let day = self.policy.local(phone, now).day;
                    let q = self.volume_query(phone, sender.id, category, now, day, hash);
                    let live = self.volume.lock(phone).seen(&q);
                    let mut local = scratch.lock(phone);
                    let extra = local.seen(&q);
                    let mut counts = live.counts;
                    counts.sender_marketing_today += extra.counts.sender_marketing_today;
                    counts.recipient_marketing_today += extra.counts.recipient_marketing_today;
                    counts.category_last_minute += extra.counts.category_last_minute;
                    counts.category_last_hour += extra.counts.category_last_hour;
                    counts.category_today += extra.counts.category_today;
                    let ctx = Context {
                        sender: SenderFacts {
                            id: sender.id,
                            signature: &sender.signature,
                            suspended: sender.suspended,
                        },
                        consent: if Self::is_marketing(category) {
                            self.consent.answer(phone, sender.id)
                        } else {
                            ledger::IndexAnswer::NoConsent
                        },
                        counts,
                        duplicate: live.duplicate || extra.duplicate,
                        now,
                    };
                    let d = self
                        .policy
                        .decide_prepared(&prepared, Some(phone), &ctx, None);
                    if d.verdict == Verdict::Accepted {
                        local.record(&q);
                    }
                    d
                }
            };
            out.push((to.clone(), decision));
        }
        Ok(out)
    }

    /// Decides a whole campaign against the live state as fast as the engine allows, counting
    /// accepted sends but recording nothing (the policy benchmark's measured path).
    pub fn decide_campaign(
        &self,
        sender: &SenderRecord,
        phones: &[Msisdn],
        text: &str,
        category: Category,
    ) -> [u64; 3] {
        let now = self.clock.now();
        let hash = Self::hash_of(text);
        let prepared = self.prepare(text, category, &facts(sender));
        let mut counts = [0u64; 3];
        for &p in phones {
            let d = self
                .decide_prepared(sender, &prepared, Some(p), hash, now)
                .decision;
            counts[match d.verdict {
                Verdict::Accepted => 0,
                Verdict::Deferred => 1,
                Verdict::Rejected => 2,
            }] += 1;
        }
        counts
    }
}

/// What the policy needs to know about a sender.
impl Gateway {
    /// The sender's facts for deciding a message of `category`: suspended only when its
    /// suspension stops that category ([`Gateway::suspension_stops`]).
    pub(crate) fn decision_facts<'a>(
        &self,
        sender: &'a SenderRecord,
        category: Category,
    ) -> SenderFacts<'a> {
        SenderFacts {
            suspended: self.suspension_stops(sender.suspended, category),
            ..facts(sender)
        }
    }
}

pub(crate) fn facts(sender: &SenderRecord) -> SenderFacts<'_> {
    SenderFacts {
        id: sender.id,
        signature: &sender.signature,
        suspended: sender.suspended,
    }
}

impl Gateway {
    /// The volume question for one send: who, to whom, what, when (and on which local day).
    pub(crate) fn volume_query(
        &self,
        phone: Msisdn,
        sender: domain::SenderId,
        category: Category,
        at: Timestamp,
        day: i32,
        hash: u64,
    ) -> Query {
        Query {
            phone,
            sender,
            category,
            now: at.as_second(),
            day,
            hash,
            dup_window: i64::from(self.policy.config().duplicate_window_minutes) * 60,
        }
    }
}
