//! The messages and redecisions tables.

use domain::{Category, Msisdn, SenderId, Timestamp};
use policy::{Decision, Verdict};

use super::{PgStore, corrupt, from_micros, micros, pg_err};
use crate::audit::canon::{decision_digest, redecision_digest};
use crate::{AuditKind, Delivery, MessageLog, MessageRecord, NewMessage, RecentSend, StoreError};

const T: &str = "messages";
pub(super) use crate::values::MESSAGE_COLUMNS as COLUMNS;
use crate::values::{opt_phone_col as phone_col, reasons_json, verdict};

pub(super) fn id_col(id: u64) -> i64 {
    i64::try_from(id).unwrap_or(-1)
}

/// A row of [`COLUMNS`].
pub(super) fn record(r: &tokio_postgres::Row) -> Result<MessageRecord, StoreError> {
    let id: i64 = r.get(0);
    let opt_time = |v: Option<i64>| v.map(|v| from_micros(T, id, v)).transpose();
    let category: &str = r.get(5);
    let status: &str = r.get(6);
    let reasons: &str = r.get(7);
    let delivery: &str = r.get(11);
    Ok(MessageRecord {
        id: u64::try_from(id).unwrap_or(0),
        sender: SenderId(u32::try_from(r.get::<_, i64>(1)).map_err(|e| corrupt(T, id, e))?),
        to: r.get(2),
        phone: r
            .get::<_, Option<i64>>(3)
            .and_then(|p| u64::try_from(p).ok())
            .map(Msisdn::from_u64),
        text: r.get(4),
        category: category
            .parse::<Category>()
            .map_err(|e| corrupt(T, id, e))?,
        status: verdict(status).ok_or_else(|| corrupt(T, id, format!("status {status:?}")))?,
        reasons: serde_json::from_str(reasons).map_err(|e| corrupt(T, id, e))?,
        submitted_at: from_micros(T, id, r.get(8))?,
        decided_at: from_micros(T, id, r.get(9))?,
        release_at: opt_time(r.get(10))?,
        delivery: Delivery::parse(delivery)
            .ok_or_else(|| corrupt(T, id, format!("delivery {delivery:?}")))?,
        delivery_at: opt_time(r.get(12))?,
        content_scores: r
            .get::<_, Option<&str>>(13)
            .map(serde_json::from_str)
            .transpose()
            .map_err(|e| corrupt(T, id, e))?,
    })
}

/// A batch of new messages as column arrays, for one `INSERT … SELECT FROM unnest(…)`.
struct Columns<'a> {
    sender: Vec<i64>,
    to: Vec<&'a str>,
    phone: Vec<Option<i64>>,
    text: Vec<&'a str>,
    category: Vec<&'static str>,
    status: Vec<&'static str>,
    reasons: Vec<String>,
    decided: Vec<i64>,
    release: Vec<Option<i64>>,
    delivery: Vec<&'static str>,
    text_hash: Vec<i64>,
    scores: Vec<Option<&'a str>>,
}

impl<'a> Columns<'a> {
    fn of(msgs: &'a [NewMessage<'a>]) -> Self {
        Columns {
            sender: msgs.iter().map(|m| i64::from(m.sender.0)).collect(),
            to: msgs.iter().map(|m| m.to).collect(),
            phone: msgs.iter().map(|m| phone_col(m.phone)).collect(),
            text: msgs.iter().map(|m| m.text).collect(),
            category: msgs.iter().map(|m| m.category.as_str()).collect(),
            status: msgs.iter().map(|m| m.verdict.as_str()).collect(),
            reasons: msgs.iter().map(|m| reasons_json(m.reasons)).collect(),
            decided: msgs.iter().map(|m| micros(m.decided_at)).collect(),
            release: msgs.iter().map(|m| m.release_at.map(micros)).collect(),
            delivery: msgs
                .iter()
                .map(|m| match m.verdict {
                    Verdict::Rejected => Delivery::NotSent.as_str(),
                    _ => Delivery::Pending.as_str(),
                })
                .collect(),
            // BIGINT is signed; the hash's bits are kept as they are.
            text_hash: msgs
                .iter()
                .map(|m| i64::from_ne_bytes(m.text_hash.to_ne_bytes()))
                .collect(),
            scores: msgs.iter().map(|m| m.content_scores).collect(),
        }
    }
}

impl PgStore {
    pub(super) fn query_records(
        &self,
        sql: &str,
        params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    ) -> Result<Vec<MessageRecord>, StoreError> {
        self.run(async |c| {
            let rows = c.query(sql, params).await.map_err(pg_err)?;
            rows.iter().map(record).collect()
        })
    }

    /// A new decision for message `id`, under the lease check of `phone`'s partition when
    /// given ([`MessageLog::redecide_pinned`]).
    fn redecide_fenced(
        &self,
        id: u64,
        phone: Option<Msisdn>,
        decision: &Decision,
        at: Timestamp,
        pins: &crate::Pins,
    ) -> Result<(), StoreError> {
        let reasons = reasons_json(&decision.reasons);
        let id = id_col(id);
        let delivery = if decision.verdict == Verdict::Rejected {
            Delivery::NotSent
        } else {
            Delivery::Pending
        };
        self.run(async |c| {
            let tx = c.transaction().await.map_err(pg_err)?;
            if let Some(phone) = phone {
                super::leases::check(self, &tx, std::iter::once(phone_col(Some(phone)).unwrap_or(i64::MAX)), pins).await?;
            }
            tx.execute(
                "UPDATE messages SET current_status = $2, current_reasons = $3, current_decided_at = $4,
                    current_release_at = $5, delivery = $6,
                    delivery_at = CASE WHEN $6 = 'not_sent' THEN $4 ELSE delivery_at END
                 WHERE id = $1",
                &[
                    &id,
                    &decision.verdict.as_str(),
                    &reasons,
                    &micros(at),
                    &decision.release_at.map(micros),
                    &delivery.as_str(),
                ],
            )
            .await
            .map_err(pg_err)?;
            super::reason_codes::replace(&tx, id, &decision.reasons).await?;
            let rid: i64 = tx
                .query_one(
                    "INSERT INTO redecisions (message_id, at, status, reasons) VALUES ($1, $2, $3, $4)
                     RETURNING id",
                    &[&id, &micros(at), &decision.verdict.as_str(), &reasons],
                )
                .await
                .map_err(pg_err)?
                .get(0);
            let digest = redecision_digest(id, micros(at), decision.verdict.as_str(), &reasons);
            self.chain_records(&tx, AuditKind::Redecision, &[(rid, digest)], at)
                .await?;
            tx.commit().await.map_err(pg_err)?;
            Ok(())
        })
    }
}

impl MessageLog for PgStore {
    fn insert_messages(&self, msgs: &[NewMessage<'_>]) -> Result<Vec<u64>, StoreError> {
        self.insert_messages_pinned(msgs, &[])
    }

    fn insert_messages_pinned(
        &self,
        msgs: &[NewMessage<'_>],
        pins: &crate::Pins,
    ) -> Result<Vec<u64>, StoreError> {
        self.run(async |c| {
            let tx = c.transaction().await.map_err(pg_err)?;
            // One round trip for the ids and one for the rows, however many messages: a
            // statement per row would make a campaign batch cost its size in network round trips.
            let n = i64::try_from(msgs.len()).unwrap_or(i64::MAX);
            // Prepared once per connection (as every statement of this transaction): a statement
            // given as text costs a round trip of its own to be parsed, every time.
            let next_ids = tx
                .prepare_cached(
                    "SELECT nextval(pg_get_serial_sequence('messages', 'id'))
                     FROM generate_series(1, $1::bigint)",
                )
                .await
                .map_err(pg_err)?;
            let insert = tx
                .prepare_cached(
                    "INSERT INTO messages (id, sender_id, recipient, phone, text, category, status, reasons,
                        submitted_at, decided_at, release_at, delivery, text_hash, content_scores)
                     SELECT id, sender_id, recipient, phone, text, category, status, reasons,
                        decided_at, decided_at, release_at, delivery, text_hash, content_scores
                     FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::bigint[], $5::text[],
                        $6::text[], $7::text[], $8::text[], $9::bigint[], $10::bigint[], $11::text[],
                        $12::bigint[], $13::text[])
                        AS x(id, sender_id, recipient, phone, text, category, status, reasons,
                             decided_at, release_at, delivery, text_hash, content_scores)",
                )
                .await
                .map_err(pg_err)?;
            // Statements awaited together are pipelined (sent at once, answered in order): the
            // transaction is four round trips after BEGIN, not eight. Accepted messages are queued
            // for hand-off by whoever records them: only the owner of their phones may (the
            // fence); a fenced batch fails here and nothing of it is written.
            let (_, rows) = futures_util::try_join!(
                super::leases::check(
                    self,
                    &tx,
                    msgs.iter()
                        .filter(|m| m.verdict != Verdict::Rejected)
                        .filter_map(|m| phone_col(m.phone)),
                    pins,
                ),
                async { tx.query(&next_ids, &[&n]).await.map_err(pg_err) },
            )?;
            let mut ids: Vec<i64> = rows.iter().map(|r| r.get(0)).collect();
            // Ascending, so a batch's rows form runs of consecutive ids (one audit block each).
            ids.sort_unstable();
            let cols = Columns::of(msgs);
            let reasons: Vec<&[policy::Reason]> = msgs.iter().map(|m| m.reasons).collect();
            let digests: Vec<(i64, crate::audit::canon::Digest32)> = if self.audit {
                ids.iter()
                    .enumerate()
                    .map(|(i, id)| {
                        (
                            *id,
                            decision_digest(
                                cols.sender[i],
                                cols.to[i],
                                cols.phone[i],
                                cols.text[i],
                                cols.category[i],
                                cols.status[i],
                                &cols.reasons[i],
                                cols.decided[i],
                                cols.release[i],
                                cols.text_hash[i],
                                cols.scores[i],
                            ),
                        )
                    })
                    .collect()
            } else {
                Vec::new()
            };
            let at = msgs.first().map_or_else(Timestamp::now, |m| m.decided_at);
            // The rows, their reason codes and the audit head's lock in one round trip; the head
            // is locked after the rows are written, so it is held only for the block, the head's
            // move and the commit.
            futures_util::try_join!(
                async { tx.execute(&insert, &[
                    &ids,
                    &cols.sender,
                    &cols.to,
                    &cols.phone,
                    &cols.text,
                    &cols.category,
                    &cols.status,
                    &cols.reasons,
                    &cols.decided,
                    &cols.release,
                    &cols.delivery,
                    &cols.text_hash,
                    &cols.scores,
                ]).await.map_err(pg_err) },
                super::reason_codes::insert(&tx, &ids, &reasons),
                self.chain_records(&tx, AuditKind::Decision, &digests, at),
            )?;
            let ids: Vec<u64> = ids.iter().map(|i| u64::try_from(*i).unwrap_or(0)).collect();
            tx.commit().await.map_err(pg_err)?;
            Ok(ids)
        })
    }

    fn message(&self, id: u64) -> Result<Option<MessageRecord>, StoreError> {
        Ok(self
            .query_records(
                &format!("SELECT {COLUMNS} FROM messages WHERE id = $1"),
                &[&id_col(id)],
            )?
            .pop())
    }

    fn message_on_record(&self, id: u64) -> Result<Option<MessageRecord>, StoreError> {
        Ok(self
            .query_records(
                "SELECT m.id, m.sender_id, m.recipient, m.phone, m.text, m.category, \
                        coalesce(r.status, m.status), coalesce(r.reasons, m.reasons), \
                        m.submitted_at, coalesce(r.at, m.submitted_at), \
                        CASE WHEN r.status IS NULL THEN m.release_at ELSE m.current_release_at END, \
                        m.delivery, m.delivery_at, m.content_scores \
                 FROM messages m LEFT JOIN \
                     (SELECT message_id, status, reasons, at FROM redecisions \
                      WHERE message_id = $1 ORDER BY id DESC LIMIT 1) r \
                     ON r.message_id = m.id \
                 WHERE m.id = $1",
                &[&id_col(id)],
            )?
            .pop())
    }

    fn redecide(&self, id: u64, decision: &Decision, at: Timestamp) -> Result<(), StoreError> {
        self.redecide_fenced(id, None, decision, at, &[])
    }

    fn redecide_pinned(
        &self,
        id: u64,
        phone: Msisdn,
        decision: &Decision,
        at: Timestamp,
        pins: &crate::Pins,
    ) -> Result<(), StoreError> {
        self.redecide_fenced(id, Some(phone), decision, at, pins)
    }

    fn set_delivery(&self, updates: &[(u64, Delivery, Timestamp)]) -> Result<(), StoreError> {
        if updates.is_empty() {
            return Ok(());
        }
        // One statement for the whole batch: a round trip per update would make receipts
        // cost what they cost on a network, not what the database costs.
        let ids: Vec<i64> = updates.iter().map(|u| id_col(u.0)).collect();
        let states: Vec<&str> = updates.iter().map(|u| u.1.as_str()).collect();
        let ats: Vec<i64> = updates.iter().map(|u| micros(u.2)).collect();
        self.run(async |c| {
            // A blocked message stays `not_sent` whatever a carrier or dispatcher reports (verify
            // checks it). A carrier's receipt can be recorded before the dispatcher records the
            // hand-off that preceded it: `submitted` never replaces a final state, stored or earlier in
            // the batch; otherwise the batch's last update to a message wins (as applying them
            // one by one would).
            let update = c
                .prepare_cached(
                    "UPDATE messages m SET delivery = u.state, delivery_at = u.at
                 FROM (SELECT DISTINCT ON (x.id) x.id, x.state, x.at
                       FROM unnest($1::bigint[], $2::text[], $3::bigint[])
                            WITH ORDINALITY AS x(id, state, at, n)
                       WHERE NOT (x.state = 'submitted' AND EXISTS (
                           SELECT 1 FROM unnest($1::bigint[], $2::text[])
                                WITH ORDINALITY AS y(id, state, n)
                           WHERE y.id = x.id AND y.n < x.n AND y.state IN ('delivered', 'failed')))
                       ORDER BY x.id, x.n DESC) u
                 WHERE m.id = u.id
                   AND NOT (u.state = 'submitted' AND m.delivery IN ('delivered', 'failed'))
                   AND m.delivery <> 'not_sent'",
                )
                .await
                .map_err(pg_err)?;
            c.execute(&update, &[&ids, &states, &ats])
                .await
                .map_err(pg_err)?;
            Ok(())
        })
    }

    fn inbox(&self, phone: Msisdn) -> Result<Vec<MessageRecord>, StoreError> {
        self.query_records(
            &format!(
                "SELECT {COLUMNS} FROM messages WHERE phone = $1 AND delivery IN ('submitted', 'delivered')
                 ORDER BY delivery_at, id"
            ),
            &[&phone_col(Some(phone))],
        )
    }

    fn pending(&self) -> Result<Vec<MessageRecord>, StoreError> {
        self.query_records(
            &format!("SELECT {COLUMNS} FROM messages WHERE delivery = 'pending' ORDER BY id"),
            &[],
        )
    }

    fn recent_sends(&self, since: Timestamp) -> Result<Vec<RecentSend>, StoreError> {
        self.run(async |c| {
            let rows = c
                .query(
                    // A deferred message released later counts on the day of its release (its
            // latest decision), as it did when it was decided.
            "SELECT id, sender_id, phone, category, coalesce(current_decided_at, decided_at),
                    text_hash FROM messages
             WHERE (decided_at >= $1 OR current_decided_at >= $1)
               AND coalesce(current_status, status) = 'accepted'
               AND phone IS NOT NULL ORDER BY id",
                    &[&micros(since)],
                )
                .await
                .map_err(pg_err)?;
            rows.iter()
                .map(|r| {
                    let id: i64 = r.get(0);
                    let category: &str = r.get(3);
                    Ok(RecentSend {
                        sender: SenderId(
                            u32::try_from(r.get::<_, i64>(1)).map_err(|e| corrupt(T, id, e))?,
                        ),
                        phone: Msisdn::from_u64(
                            u64::try_from(r.get::<_, i64>(2)).map_err(|e| corrupt(T, id, e))?,
                        ),
                        category: category.parse().map_err(|e| corrupt(T, id, e))?,
                        at: from_micros(T, id, r.get(4))?,
                        text_hash: u64::from_ne_bytes(r.get::<_, i64>(5).to_ne_bytes()),
                    })
                })
                .collect()
        })
    }
}
