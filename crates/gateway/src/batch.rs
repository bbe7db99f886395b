//! Group commit: many submissions, possibly from different senders, decided one by one and
//! recorded in one store transaction.
//!
//! Every decision is durable before it is acknowledged, and with `synchronous=FULL` each commit
//! costs an fsync. An SMPP session sends one message per submit_sm, so committing each on its own
//! would cap a gateway at the disk's fsync rate; the SMPP server instead collects the submit_sm
//! of all sessions that arrive while the previous commit runs and hands them here together.

use domain::{Msisdn, Timestamp};
use policy::{Decision, Verdict};
use store::{MessageLog, NewMessage, SenderRecord};

use crate::deferred::Held;
use crate::{Gateway, GatewayError, Outbound, Outcome, Principal, Submission};

/// One submission's decisions, waiting for their ids.
struct Planned {
    sender: SenderRecord,
    hash: u64,
    decided: Vec<(Option<Msisdn>, Decision)>,
    /// The text decided on (with a stand-in `{unsubscribe}` link), when it differs.
    preview: Option<String>,
    /// Each recipient's own text (its unsubscribe link), where it has one.
    texts: Vec<Option<String>>,
}

impl Planned {
    fn text_of<'a>(&'a self, i: usize, sub: &'a Submission<'_>) -> &'a str {
        self.texts
            .get(i)
            .and_then(Option::as_deref)
            .or(self.preview.as_deref())
            .unwrap_or(sub.text)
    }
}

impl Gateway {
    /// Decides and records every submission in `items` with one store transaction. The outer
    /// error is a store failure (nothing was recorded); an inner error refuses that submission
    /// alone (unknown sender, empty text, …), exactly as [`Gateway::submit`] would have.
    pub fn submit_many(
        &self,
        items: &[(Principal, Submission<'_>)],
    ) -> Result<Vec<Result<Vec<Outcome>, GatewayError>>, GatewayError> {
        let now = self.clock.now();
        let region = self.policy.region();
        let mut plans: Vec<Result<Planned, GatewayError>> = Vec::with_capacity(items.len());
        for (by, sub) in items {
            plans.push(self.plan(*by, sub, region, now));
        }
        let mut rows = Vec::new();
        for ((_, sub), plan) in items.iter().zip(&plans) {
            let Ok(p) = plan else { continue };
            for (i, (to, (phone, d))) in sub.to.iter().zip(&p.decided).enumerate() {
                rows.push(NewMessage {
                    sender: p.sender.id,
                    to,
                    phone: *phone,
                    text: p.text_of(i, sub),
                    category: d.category,
                    verdict: d.verdict,
                    reasons: &d.reasons,
                    decided_at: now,
                    release_at: d.release_at,
                    text_hash: p.hash,
                });
            }
        }
        let mut ids = self.store.insert_messages(&rows)?.into_iter();
        drop(rows);
        let mut counts = [0u64; 3];
        let mut out = Vec::with_capacity(items.len());
        for ((_, sub), plan) in items.iter().zip(plans) {
            let mut p = match plan {
                Ok(p) => p,
                Err(e) => {
                    out.push(Err(e));
                    continue;
                }
            };
            let decided = std::mem::take(&mut p.decided);
            let mut outcomes = Vec::with_capacity(decided.len());
            for (i, (to, (phone, d))) in sub.to.iter().zip(decided).enumerate() {
                let Some(id) = ids.next() else {
                    return Err(GatewayError::InvalidField(
                        "the store returned fewer ids than messages".into(),
                    ));
                };
                let text = p.text_of(i, sub);
                outcomes.push(self.settle(&p.sender, text, id, to, phone, d, &mut counts));
            }
            out.push(Ok(outcomes));
        }
        for (status, n) in ["accepted", "deferred", "rejected"].into_iter().zip(counts) {
            if n > 0 {
                metrics::counter!("consentry_decisions_total", "status" => status).increment(n);
            }
        }
        Ok(out)
    }

    fn plan(
        &self,
        by: Principal,
        sub: &Submission<'_>,
        region: domain::Region,
        now: Timestamp,
    ) -> Result<Planned, GatewayError> {
        let Principal::Sender(sender_id) = by else {
            return Err(GatewayError::Forbidden(
                "only a sender's key can send messages".into(),
            ));
        };
        // `{unsubscribe}`: decide on a stand-in link of the real length, as `submit` does.
        let preview = self.link_preview(sub.text);
        let text = preview.as_deref().unwrap_or(sub.text);
        self.validate(&Submission {
            text,
            ..sub.clone()
        })?;
        let sender = self
            .access
            .sender(sender_id)
            .ok_or(GatewayError::UnknownSender(sender_id.0))?;
        let hash = Self::hash_of(text);
        let decided: Vec<(Option<Msisdn>, Decision)> = sub
            .to
            .iter()
            .map(|to| {
                let phone = Msisdn::parse(to, region).ok();
                let d = self.decide_one(&sender, phone, text, sub.category, hash, now);
                (phone, d.decision)
            })
            .collect();
        let texts = self.link_texts(
            sender.id,
            sub.text,
            decided.iter().map(|(p, d)| (*p, d.verdict)),
            now,
        )?;
        Ok(Planned {
            sender,
            hash,
            decided,
            preview,
            texts,
        })
    }

    /// Queues or holds one recorded decision and reports it.
    #[allow(clippy::too_many_arguments)]
    fn settle(
        &self,
        sender: &SenderRecord,
        text: &str,
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
                    text: text.to_string(),
                    category: d.category,
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
                            text: text.to_string(),
                            category: d.category,
                        },
                    );
                }
            }
            _ => counts[2] += 1,
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
