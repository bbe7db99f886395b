//! The inbound_replies, reply_notices and unsubscribe_links tables, and the attribution query
//! over messages.

use domain::{Msisdn, SenderId, Timestamp};
use rusqlite::{OptionalExtension, params};

use super::{SqliteStore, corrupt, from_micros, micros};
use crate::values::phone_col;
use crate::{LinkRecord, NewReply, ReplyLog, StoreError, UnsubscribeLinks};

/// The senders whose marketing reached a phone since `?2`. `+category` keeps the planner off
/// the (category, decided_at) index and on the phone's own key.
pub(super) const MARKETING_SENDERS: &str = "SELECT DISTINCT sender_id FROM messages
     WHERE phone = ?1 AND +category = 'marketing' AND submitted_at >= ?2
       AND status != 'rejected' AND delivery IN ('pending', 'submitted', 'delivered')
     ORDER BY sender_id";

impl ReplyLog for SqliteStore {
    fn reply_outcome(&self, key: &str) -> Result<Option<(u64, String)>, StoreError> {
        let conn = self.reader.lock();
        let mut stmt =
            conn.prepare_cached("SELECT id, outcome FROM inbound_replies WHERE replay_key = ?1")?;
        let row = stmt
            .query_row([key], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))
            .optional()?;
        Ok(row.map(|(id, outcome)| (u64::try_from(id).unwrap_or(0), outcome)))
    }

    fn record_reply(&self, reply: &NewReply<'_>) -> Result<u64, StoreError> {
        let conn = self.writer.lock();
        let inserted = conn.execute(
            "INSERT INTO inbound_replies (replay_key, phone, to_number, text, received_at, intent,
                outcome, recorded_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                reply.key,
                phone_col(reply.phone),
                reply.to,
                reply.text,
                micros(reply.received_at),
                reply.intent,
                reply.outcome,
                micros(Timestamp::now()),
            ],
        );
        if let Err(rusqlite::Error::SqliteFailure(e, _)) = &inserted
            && e.code == rusqlite::ErrorCode::ConstraintViolation
        {
            return Err(StoreError::Conflict(format!(
                "reply {}",
                reply.key.unwrap_or_default()
            )));
        }
        inserted?;
        Ok(u64::try_from(conn.last_insert_rowid()).unwrap_or(0))
    }

    fn claim_notice(
        &self,
        phone: Msisdn,
        target: u32,
        kind: &str,
        day: i32,
    ) -> Result<bool, StoreError> {
        let conn = self.writer.lock();
        let n = conn.execute(
            "INSERT OR IGNORE INTO reply_notices (phone, target, kind, day) VALUES (?1, ?2, ?3, ?4)",
            params![phone_col(phone), target, kind, day],
        )?;
        Ok(n == 1)
    }

    fn marketing_senders(
        &self,
        phone: Msisdn,
        since: Timestamp,
    ) -> Result<Vec<SenderId>, StoreError> {
        let conn = self.reader.lock();
        let mut stmt = conn.prepare_cached(MARKETING_SENDERS)?;
        let rows = stmt.query_map(params![phone_col(phone), micros(since)], |r| {
            r.get::<_, u32>(0)
        })?;
        rows.map(|r| Ok(SenderId(r?))).collect()
    }
}

impl UnsubscribeLinks for SqliteStore {
    fn put_links(&self, links: &[LinkRecord]) -> Result<(), StoreError> {
        if links.is_empty() {
            return Ok(());
        }
        let mut conn = self.writer.lock();
        let tx = conn.transaction()?;
        {
            let mut stmt = tx.prepare_cached(
                "INSERT INTO unsubscribe_links (token_hash, phone, sender_id, created_at)
                 VALUES (?1, ?2, ?3, ?4)",
            )?;
            for l in links {
                stmt.execute(params![
                    l.token_hash,
                    phone_col(l.phone),
                    l.sender.0,
                    micros(l.created_at)
                ])?;
            }
        }
        self.commit(tx)?;
        Ok(())
    }

    fn link(&self, token_hash: &str) -> Result<Option<LinkRecord>, StoreError> {
        const T: &str = "unsubscribe_links";
        let conn = self.reader.lock();
        let mut stmt = conn.prepare_cached(
            "SELECT rowid, phone, sender_id, created_at FROM unsubscribe_links WHERE token_hash = ?1",
        )?;
        let row = stmt
            .query_row([token_hash], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, u32>(2)?,
                    r.get::<_, i64>(3)?,
                ))
            })
            .optional()?;
        row.map(|(rowid, phone, sender, created)| {
            Ok(LinkRecord {
                token_hash: token_hash.to_string(),
                phone: Msisdn::from_u64(u64::try_from(phone).map_err(|e| corrupt(T, rowid, e))?),
                sender: SenderId(sender),
                created_at: from_micros(T, rowid, created)?,
            })
        })
        .transpose()
    }
}
