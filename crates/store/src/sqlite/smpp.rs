//! The smpp_credentials and carrier_ids tables.

use domain::{Category, Msisdn, SenderId, Timestamp};
use rusqlite::{OptionalExtension, params};

use super::{SqliteStore, corrupt, micros};
use crate::audit::credentials::{Credential, ISSUED};
use crate::{AuditKind, Handoff, SmppRegistry, StoreError};

impl SmppRegistry for SqliteStore {
    fn put_smpp_credential(
        &self,
        system_id: &str,
        sender: SenderId,
        password_hash: &str,
    ) -> Result<(), StoreError> {
        let mut conn = self.writer.lock();
        let tx = conn.transaction()?;
        let now = Timestamp::now();
        tx.execute(
            "DELETE FROM smpp_credentials WHERE sender_id = ?1 OR system_id = ?2",
            params![sender.0, system_id],
        )?;
        tx.execute(
            "INSERT INTO smpp_credentials (system_id, sender_id, password_hash, created_at) \
             VALUES (?1, ?2, ?3, ?4)",
            params![system_id, sender.0, password_hash, micros(now)],
        )?;
        let change = Credential::smpp(system_id, i64::from(sender.0), password_hash);
        let rows = super::keys::record_credentials(&tx, &[(ISSUED, change)], now)?;
        let chain = self.chain_records(&tx, AuditKind::Credential, &rows, now)?;
        self.commit(tx)?;
        self.install_chain(chain);
        Ok(())
    }

    fn smpp_credential(&self, system_id: &str) -> Result<Option<(SenderId, String)>, StoreError> {
        let conn = self.reader.lock();
        let mut stmt = conn.prepare_cached(
            "SELECT sender_id, password_hash FROM smpp_credentials WHERE system_id = ?1",
        )?;
        Ok(stmt
            .query_row([system_id], |r| {
                Ok((SenderId(r.get::<_, u32>(0)?), r.get::<_, String>(1)?))
            })
            .optional()?)
    }

    fn smpp_system_id(&self, sender: SenderId) -> Result<Option<String>, StoreError> {
        let conn = self.reader.lock();
        let mut stmt =
            conn.prepare_cached("SELECT system_id FROM smpp_credentials WHERE sender_id = ?1")?;
        Ok(stmt.query_row([sender.0], |r| r.get(0)).optional()?)
    }

    fn put_carrier_ids(&self, carrier: &str, ids: &[(String, u64)]) -> Result<(), StoreError> {
        if ids.is_empty() {
            return Ok(());
        }
        let mut conn = self.writer.lock();
        let tx = conn.transaction()?;
        {
            let mut stmt = tx.prepare_cached(
                "INSERT OR REPLACE INTO carrier_ids (carrier, carrier_id, message_id) \
                 VALUES (?1, ?2, ?3)",
            )?;
            for (carrier_id, message_id) in ids {
                let id = i64::try_from(*message_id).unwrap_or(i64::MAX);
                stmt.execute(params![carrier, carrier_id.to_ascii_lowercase(), id])?;
            }
        }
        self.commit(tx)?;
        Ok(())
    }

    fn message_by_carrier_id(
        &self,
        carrier: &str,
        carrier_id: &str,
    ) -> Result<Option<u64>, StoreError> {
        let conn = self.reader.lock();
        let mut stmt = conn.prepare_cached(
            "SELECT message_id FROM carrier_ids WHERE carrier = ?1 AND carrier_id = ?2",
        )?;
        let id: Option<i64> = stmt
            .query_row(params![carrier, carrier_id.to_ascii_lowercase()], |r| {
                r.get(0)
            })
            .optional()?;
        Ok(id.and_then(|i| u64::try_from(i).ok()))
    }

    fn unacknowledged_handoffs(&self, since: Timestamp) -> Result<Vec<Handoff>, StoreError> {
        let conn = self.reader.lock();
        let mut stmt = conn.prepare_cached(
            // No carrier id at all, or (a long text) fewer than it may have segments: a
            // superset (67 UCS-2 characters a segment is the most segments a text can have);
            // the caller counts the segments exactly.
            "SELECT m.id, m.sender_id, m.phone, m.text, m.category, \
                    (SELECT COUNT(*) FROM carrier_ids c WHERE c.message_id = m.id) AS acked \
             FROM messages m \
             WHERE m.decided_at >= ?1 AND m.delivery = 'submitted' AND m.phone IS NOT NULL \
             AND (acked = 0 OR (length(m.text) > 70 AND acked < (length(m.text) + 66) / 67)) \
             ORDER BY m.id",
        )?;
        let rows = stmt.query_map([micros(since)], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, u32>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, u32>(5)?,
            ))
        })?;
        rows.map(|row| {
            let (id, sender, phone, text, category, acknowledged_parts) = row?;
            let category: Category = category
                .parse()
                .map_err(|e| corrupt("messages", id, format!("category: {e}")))?;
            let phone = u64::try_from(phone)
                .map(Msisdn::from_u64)
                .map_err(|e| corrupt("messages", id, e))?;
            let id = u64::try_from(id).map_err(|e| corrupt("messages", id, e))?;
            Ok(Handoff {
                id,
                sender: SenderId(sender),
                phone,
                text,
                category,
                acknowledged_parts,
            })
        })
        .collect()
    }
}
