//! The messages table: every decision, and where each accepted message is on its way.

use domain::{Category, Msisdn, SenderId, Timestamp};
use policy::{Decision, Verdict};
use rusqlite::{Row, params};

use super::{SqliteStore, corrupt, from_micros, micros};
use crate::AuditKind;
use crate::audit::canon::{decision_digest, redecision_digest};
use crate::{Delivery, MessageLog, MessageRecord, NewMessage, RecentSend, StoreError};

const T: &str = "messages";
pub(super) use crate::values::MESSAGE_COLUMNS as COLUMNS;
use crate::values::{opt_phone_col as phone_col, reasons_json, verdict};

pub(super) fn record(r: &Row<'_>) -> Result<MessageRecord, StoreError> {
    let id: i64 = r.get(0)?;
    let opt_time = |v: Option<i64>| v.map(|v| from_micros(T, id, v)).transpose();
    let category: String = r.get(5)?;
    let status: String = r.get(6)?;
    let reasons: String = r.get(7)?;
    let delivery: String = r.get(11)?;
    Ok(MessageRecord {
        id: u64::try_from(id).unwrap_or(0),
        sender: SenderId(r.get(1)?),
        to: r.get(2)?,
        phone: r
            .get::<_, Option<i64>>(3)?
            .and_then(|p| u64::try_from(p).ok())
            .map(Msisdn::from_u64),
        text: r.get(4)?,
        category: category
            .parse::<Category>()
            .map_err(|e| corrupt(T, id, e))?,
        status: verdict(&status).ok_or_else(|| corrupt(T, id, format!("status {status:?}")))?,
        reasons: serde_json::from_str(&reasons).map_err(|e| corrupt(T, id, e))?,
        submitted_at: from_micros(T, id, r.get(8)?)?,
        decided_at: from_micros(T, id, r.get(9)?)?,
        release_at: opt_time(r.get(10)?)?,
        delivery: Delivery::parse(&delivery)
            .ok_or_else(|| corrupt(T, id, format!("delivery {delivery:?}")))?,
        delivery_at: opt_time(r.get(12)?)?,
        content_scores: r
            .get::<_, Option<String>>(13)?
            .map(|s| serde_json::from_str(&s))
            .transpose()
            .map_err(|e| corrupt(T, id, e))?,
    })
}

/// A phone's delivered messages, oldest first (the inbox); read through `messages_phone_id`.
pub(super) const INBOX_WHERE: &str =
    "phone = ?1 AND delivery IN ('submitted', 'delivered') ORDER BY delivery_at, id";

impl SqliteStore {
    fn query_records(
        &self,
        sql: &str,
        params: impl rusqlite::Params,
    ) -> Result<Vec<MessageRecord>, StoreError> {
        let conn = self.reader.lock();
        let mut stmt = conn.prepare_cached(sql)?;
        let mut rows = stmt.query(params)?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            out.push(record(r)?);
        }
        Ok(out)
    }
}

impl MessageLog for SqliteStore {
    fn insert_messages(&self, msgs: &[NewMessage<'_>]) -> Result<Vec<u64>, StoreError> {
        let mut conn = self.writer.lock();
        let tx = conn.transaction()?;
        let mut ids = Vec::with_capacity(msgs.len());
        let mut digests = Vec::with_capacity(if self.audit { msgs.len() } else { 0 });
        {
            let mut stmt = tx.prepare_cached(
                "INSERT INTO messages (sender_id, recipient, phone, text, category, status, reasons,
                    submitted_at, decided_at, release_at, delivery, text_hash, content_scores)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8, ?9, ?10, ?11, ?12)",
            )?;
            for m in msgs {
                let delivery = match m.verdict {
                    Verdict::Rejected => Delivery::NotSent,
                    _ => Delivery::Pending,
                };
                let reasons = reasons_json(m.reasons);
                // SQLite integers are signed; the hash's bits are kept as they are.
                let text_hash = i64::from_ne_bytes(m.text_hash.to_ne_bytes());
                stmt.execute(params![
                    m.sender.0,
                    m.to,
                    phone_col(m.phone),
                    m.text,
                    m.category.as_str(),
                    m.verdict.as_str(),
                    reasons,
                    micros(m.decided_at),
                    m.release_at.map(micros),
                    delivery.as_str(),
                    text_hash,
                    m.content_scores,
                ])?;
                let id = tx.last_insert_rowid();
                super::reason_codes::insert(&tx, id, m.reasons)?;
                if self.audit {
                    digests.push((
                        id,
                        decision_digest(
                            i64::from(m.sender.0),
                            m.to,
                            phone_col(m.phone),
                            m.text,
                            m.category.as_str(),
                            m.verdict.as_str(),
                            &reasons,
                            micros(m.decided_at),
                            m.release_at.map(micros),
                            text_hash,
                            m.content_scores,
                        ),
                    ));
                }
                ids.push(u64::try_from(id).unwrap_or(0));
            }
        }
        // One record per decision, ids in the order given (the callers pair them by position).
        debug_assert_eq!(ids.len(), msgs.len());
        debug_assert!(ids.windows(2).all(|w| w[0] < w[1]));
        let at = msgs.first().map_or_else(Timestamp::now, |m| m.decided_at);
        let chain = self.chain_records(&tx, AuditKind::Decision, &digests, at)?;
        self.commit(tx)?;
        self.install_chain(chain);
        Ok(ids)
    }

    fn message(&self, id: u64) -> Result<Option<MessageRecord>, StoreError> {
        let id = i64::try_from(id).unwrap_or(-1);
        Ok(self
            .query_records(
                &format!("SELECT {COLUMNS} FROM messages WHERE id = ?1"),
                [id],
            )?
            .pop())
    }

    fn message_on_record(&self, id: u64) -> Result<Option<MessageRecord>, StoreError> {
        let id = i64::try_from(id).unwrap_or(-1);
        Ok(self
            .query_records(
                "SELECT m.id, m.sender_id, m.recipient, m.phone, m.text, m.category, \
                        coalesce(r.status, m.status), coalesce(r.reasons, m.reasons), \
                        m.submitted_at, coalesce(r.at, m.submitted_at), \
                        CASE WHEN r.status IS NULL THEN m.release_at ELSE m.current_release_at END, \
                        m.delivery, m.delivery_at, m.content_scores \
                 FROM messages m LEFT JOIN \
                     (SELECT message_id, status, reasons, at FROM redecisions \
                      WHERE message_id = ?1 ORDER BY id DESC LIMIT 1) r \
                     ON r.message_id = m.id \
                 WHERE m.id = ?1",
                [id],
            )?
            .pop())
    }

    fn redecide(&self, id: u64, decision: &Decision, at: Timestamp) -> Result<(), StoreError> {
        let mut conn = self.writer.lock();
        let tx = conn.transaction()?;
        let reasons = reasons_json(&decision.reasons);
        let id = i64::try_from(id).unwrap_or(-1);
        let delivery = if decision.verdict == Verdict::Rejected {
            Delivery::NotSent
        } else {
            Delivery::Pending
        };
        tx.execute(
            "UPDATE messages SET current_status = ?2, current_reasons = ?3, current_decided_at = ?4,
                current_release_at = ?5, delivery = ?6,
                delivery_at = CASE WHEN ?6 = 'not_sent' THEN ?4 ELSE delivery_at END
             WHERE id = ?1",
            params![
                id,
                decision.verdict.as_str(),
                reasons,
                micros(at),
                decision.release_at.map(micros),
                delivery.as_str()
            ],
        )?;
        super::reason_codes::replace(&tx, id, &decision.reasons)?;
        tx.execute(
            "INSERT INTO redecisions (message_id, at, status, reasons) VALUES (?1, ?2, ?3, ?4)",
            params![id, micros(at), decision.verdict.as_str(), reasons],
        )?;
        let digest = redecision_digest(id, micros(at), decision.verdict.as_str(), &reasons);
        let chain = self.chain_records(
            &tx,
            AuditKind::Redecision,
            &[(tx.last_insert_rowid(), digest)],
            at,
        )?;
        self.commit(tx)?;
        self.install_chain(chain);
        Ok(())
    }

    fn set_delivery(&self, updates: &[(u64, Delivery, Timestamp)]) -> Result<(), StoreError> {
        let mut conn = self.writer.lock();
        let tx = conn.transaction()?;
        {
            // A carrier's receipt can be recorded before the dispatcher records the hand-off
            // that preceded it; `submitted` never replaces a final state. A blocked message
            // stays `not_sent` whatever is reported for it (verify checks it).
            let mut stmt = tx.prepare_cached(
                "UPDATE messages SET delivery = ?2, delivery_at = ?3 WHERE id = ?1 \
                 AND delivery <> 'not_sent' \
                 AND NOT (?2 = 'submitted' AND delivery IN ('delivered', 'failed'))",
            )?;
            for (id, state, at) in updates {
                stmt.execute(params![
                    i64::try_from(*id).unwrap_or(-1),
                    state.as_str(),
                    micros(*at)
                ])?;
            }
        }
        self.commit(tx)?;
        Ok(())
    }

    fn inbox(&self, phone: Msisdn) -> Result<Vec<MessageRecord>, StoreError> {
        self.query_records(
            &format!("SELECT {COLUMNS} FROM messages WHERE {INBOX_WHERE}"),
            [phone_col(Some(phone))],
        )
    }

    fn pending(&self) -> Result<Vec<MessageRecord>, StoreError> {
        self.query_records(
            &format!("SELECT {COLUMNS} FROM messages WHERE delivery = 'pending' ORDER BY id"),
            [],
        )
    }

    fn recent_sends(&self, since: Timestamp) -> Result<Vec<RecentSend>, StoreError> {
        let conn = self.reader.lock();
        let mut stmt = conn.prepare_cached(
            // A deferred message released later counts on the day of its release (its
            // latest decision), as it did when it was decided.
            "SELECT id, sender_id, phone, category, coalesce(current_decided_at, decided_at),
                    text_hash FROM messages
             WHERE (decided_at >= ?1 OR current_decided_at >= ?1)
               AND coalesce(current_status, status) = 'accepted'
               AND phone IS NOT NULL ORDER BY id",
        )?;
        let mut rows = stmt.query([micros(since)])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            let id: i64 = r.get(0)?;
            let category: String = r.get(3)?;
            out.push(RecentSend {
                sender: SenderId(r.get(1)?),
                phone: Msisdn::from_u64(
                    u64::try_from(r.get::<_, i64>(2)?).map_err(|e| corrupt(T, id, e))?,
                ),
                category: category.parse().map_err(|e| corrupt(T, id, e))?,
                at: from_micros(T, id, r.get(4)?)?,
                text_hash: u64::from_ne_bytes(r.get::<_, i64>(5)?.to_ne_bytes()),
            });
        }
        Ok(out)
    }
}
