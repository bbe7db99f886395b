//! Group commit: submissions decided wherever they arrive, then many of them, possibly from
//! different senders, recorded with one store transaction.
//!
//! Every decision is durable before it is acknowledged, and with `synchronous=FULL` each commit
//! costs an fsync. An SMPP session sends one message per submit_sm, so committing each on its own
//! would cap a gateway at the disk's fsync rate; the SMPP server instead collects the submit_sm
//! of all sessions that arrive while the previous commit runs and records them together.
//!
//! Deciding ([`Gateway::decide_submission`]) and recording ([`Gateway::record_decided`]) are
//! separate so the CPU work (number parsing, every policy rule) runs on the sessions' threads in
//! parallel while one thread only writes. Between the two the decision already counts toward the
//! caps, exactly as inside [`Gateway::submit`].

use domain::{Category, Msisdn, Timestamp};
use policy::{Decision, Verdict};
use store::{MessageLog, NewMessage, SenderRecord};

use crate::deferred::Held;
use crate::submit::facts;
use crate::{Gateway, GatewayError, Outbound, Outcome, Principal, Submission};

/// A submission decided but not yet recorded: hand it to [`Gateway::record_decided`] soon (its
/// decisions already count toward the caps).
#[derive(Debug)]
pub struct DecidedSubmission {
    sender: SenderRecord,
    to: Vec<String>,
    /// The text as submitted (with `{unsubscribe}` still in it).
    template: String,
    /// The text decided on (with a stand-in `{unsubscribe}` link), when it differs.
    preview: Option<String>,
    hash: u64,
    now: Timestamp,
    decided: Vec<(Option<Msisdn>, Decision)>,
    /// Cluster mode: the `(partition, epoch)` leases the decisions were made under; the
    /// store records them only if those leases still stand (fencing tokens).
    pins: Vec<(u32, i64)>,
}

impl DecidedSubmission {
    /// The verdict of the first recipient (SMPP submissions have exactly one).
    #[must_use]
    pub fn first_verdict(&self) -> Option<Verdict> {
        self.decided.first().map(|(_, d)| d.verdict)
    }
}

impl Gateway {
    /// Decides every recipient of a submission without recording anything yet. The error
    /// refuses the submission before any decision, exactly as [`Gateway::submit`] would.
    pub fn decide_submission(
        &self,
        by: Principal,
        to: Vec<String>,
        text: String,
        category: Category,
    ) -> Result<DecidedSubmission, GatewayError> {
        let Principal::Sender(sender_id) = by else {
            return Err(GatewayError::Forbidden(
                "only a sender's key can send messages".into(),
            ));
        };
        // `{unsubscribe}`: decide on a stand-in link of the real length, as `submit` does.
        let preview = self.link_preview(&text);
        let decided_text = preview.as_deref().unwrap_or(&text);
        self.validate(&Submission {
            to: &to,
            text: decided_text,
            category,
        })?;
        let sender = self
            .access
            .sender(sender_id)
            .ok_or(GatewayError::UnknownSender(sender_id.0))?;
        let region = self.policy.region();
        let pins = self.require_owned(to.iter().filter_map(|t| Msisdn::parse(t, region).ok()))?;
        let now = self.clock.now();
        let hash = Self::hash_of(decided_text);
        // Prepared (and classified) once: the text is the same for every recipient.
        let prepared = self.prepare(decided_text, category, &facts(&sender));
        let decided = to
            .iter()
            .map(|t| {
                let phone = Msisdn::parse(t, region).ok();
                let d = self.decide_prepared(&sender, &prepared, phone, hash, now);
                (phone, d.decision)
            })
            .collect();
        Ok(DecidedSubmission {
            sender,
            to,
            template: text,
            preview,
            hash,
            now,
            decided,
            pins,
        })
    }

    /// Records decided submissions with one store transaction and queues what may go. On error
    /// (storage) nothing was recorded or queued.
    pub fn record_decided(
        &self,
        subs: Vec<DecidedSubmission>,
    ) -> Result<Vec<Vec<Outcome>>, GatewayError> {
        // Each recipient's own text, where its unsubscribe link makes it differ; the links are
        // stored before the messages that carry them.
        let mut texts = Vec::with_capacity(subs.len());
        for s in &subs {
            texts.push(self.link_texts(
                s.sender.id,
                &s.template,
                s.decided.iter().map(|(p, d)| (*p, d.verdict)),
                s.now,
            )?);
        }
        let text_of = |s: &DecidedSubmission, own: &[Option<String>], i: usize| -> String {
            own.get(i)
                .and_then(Option::as_deref)
                .or(s.preview.as_deref())
                .unwrap_or(&s.template)
                .to_string()
        };
        let mut rows = Vec::new();
        for (s, own) in subs.iter().zip(&texts) {
            for (i, (to, (phone, d))) in s.to.iter().zip(&s.decided).enumerate() {
                let text = own
                    .get(i)
                    .and_then(Option::as_deref)
                    .or(s.preview.as_deref())
                    .unwrap_or(&s.template);
                rows.push(NewMessage {
                    sender: s.sender.id,
                    to,
                    phone: *phone,
                    text,
                    category: d.category,
                    verdict: d.verdict,
                    reasons: &d.reasons,
                    decided_at: s.now,
                    release_at: d.release_at,
                    text_hash: s.hash,
                    content_scores: d.content_scores.as_deref(),
                });
            }
        }
        // Every decision is recorded under the epochs it was made under: a batch holding
        // decisions from two ownership periods of one partition is refused whole.
        let mut pins: Vec<(u32, i64)> = subs.iter().flat_map(|s| s.pins.iter().copied()).collect();
        pins.sort_unstable();
        pins.dedup();
        let mut ids = match self.store.insert_messages_pinned(&rows, &pins) {
            Ok(ids) => ids.into_iter(),
            Err(e) => {
                // Nothing was recorded: the sends counted when they were decided are taken back.
                self.uncount(&subs);
                return Err(e.into());
            }
        };
        drop(rows);
        let mut counts = [0u64; 3];
        let mut out = Vec::with_capacity(subs.len());
        for (mut s, own) in subs.into_iter().zip(texts) {
            let decided = std::mem::take(&mut s.decided);
            let mut outcomes = Vec::with_capacity(decided.len());
            for (i, (to, (phone, d))) in s.to.iter().zip(decided).enumerate() {
                let Some(id) = ids.next() else {
                    return Err(GatewayError::InvalidField(
                        "the store returned fewer ids than messages".into(),
                    ));
                };
                let text = text_of(&s, &own, i);
                let epoch = phone.and_then(|p| self.pinned_epoch(&s.pins, p));
                outcomes.push(self.settle(
                    &s.sender,
                    (s.now, epoch),
                    text,
                    id,
                    to,
                    phone,
                    d,
                    &mut counts,
                ));
            }
            out.push(outcomes);
        }
        for (status, n) in ["accepted", "deferred", "rejected"].into_iter().zip(counts) {
            if n > 0 {
                metrics::counter!("consentry_decisions_total", "status" => status).increment(n);
            }
        }
        Ok(out)
    }

    /// Takes back the volume counted for the accepted decisions of `subs` (their recording
    /// failed). Not for a phone whose partition was lost (and perhaps taken again) since the
    /// decision: that count went with the old slice, and the volume loaded since holds only
    /// recorded sends, which taking it back would hide from the caps.
    fn uncount(&self, subs: &[DecidedSubmission]) {
        for s in subs {
            for (phone, d) in &s.decided {
                let Some(phone) = phone else { continue };
                if d.verdict != Verdict::Accepted {
                    continue;
                }
                if !self.still_holds(*phone, self.pinned_epoch(&s.pins, *phone)) {
                    continue;
                }
                let day = self.policy.local(*phone, s.now).day;
                let q = self.volume_query(*phone, s.sender.id, d.category, s.now, day, s.hash);
                self.volume.lock(*phone).unrecord(&q);
            }
        }
    }

    /// Decides and records every submission in `items` with one store transaction. The outer
    /// error is a store failure (nothing was recorded); an inner error refuses that submission
    /// alone (unknown sender, empty text, …), exactly as [`Gateway::submit`] would have.
    pub fn submit_many(
        &self,
        items: &[(Principal, Submission<'_>)],
    ) -> Result<Vec<Result<Vec<Outcome>, GatewayError>>, GatewayError> {
        let mut decided = Vec::with_capacity(items.len());
        let mut refused = Vec::with_capacity(items.len());
        for (by, sub) in items {
            match self.decide_submission(*by, sub.to.to_vec(), sub.text.to_string(), sub.category) {
                Ok(d) => {
                    decided.push(d);
                    refused.push(None);
                }
                Err(e) => refused.push(Some(e)),
            }
        }
        let mut recorded = self.record_decided(decided)?.into_iter();
        Ok(refused
            .into_iter()
            .map(|r| match r {
                Some(e) => Err(e),
                None => recorded.next().ok_or_else(|| {
                    GatewayError::InvalidField("a decided submission was not recorded".into())
                }),
            })
            .collect())
    }

    /// Queues or holds one recorded decision and reports it.
    #[allow(clippy::too_many_arguments)]
    fn settle(
        &self,
        sender: &SenderRecord,
        (now, epoch): (Timestamp, Option<i64>),
        text: String,
        id: u64,
        to: &str,
        phone: Option<Msisdn>,
        d: Decision,
        counts: &mut [u64; 3],
    ) -> Outcome {
        match (d.verdict, phone) {
            (Verdict::Accepted, Some(phone)) => {
                counts[0] += 1;
                self.enqueue(Outbound {
                    id,
                    sender: sender.id,
                    source_number: sender.source_number.clone(),
                    phone,
                    text,
                    category: d.category,
                    decided_at: now,
                    epoch,
                });
            }
            (Verdict::Deferred, Some(phone)) => {
                counts[1] += 1;
                if let Some(at) = d.release_at {
                    self.deferred.lock().hold(
                        at,
                        id,
                        Held {
                            sender: sender.id,
                            phone,
                            text,
                            category: d.category,
                        },
                    );
                }
            }
            _ => counts[2] += 1,
        }
        // Why messages were refused or held, by reason (issue #14, item 10): an accepted
        // message without reasons, the hot path, costs nothing here.
        for r in &d.reasons {
            metrics::counter!("consentry_decision_reasons_total", "reason" => r.code.as_str())
                .increment(1);
        }
        Outcome {
            id,
            to: to.to_string(),
            phone,
            status: d.verdict,
            reasons: d.reasons,
            release_at: d.release_at,
        }
    }
}
