//! The senders table.

use domain::{SenderId, Timestamp};
use rusqlite::params;

use super::{SqliteStore, from_micros, micros};
use crate::AuditKind;
use crate::audit::canon::sender_digest;
use crate::complaints::{LAST_SUSPENSION_ACTION, suspended_after};
use crate::{NewSender, SenderRecord, SenderRegistry, StoreError};

impl SenderRegistry for SqliteStore {
    fn create_sender(&self, new: &NewSender) -> Result<SenderRecord, StoreError> {
        let mut conn = self.writer.lock();
        let tx = conn.transaction()?;
        let now = Timestamp::now();
        // The writer lock makes max+1 safe; the number follows from the id.
        let rowid: i64 = tx.query_row("SELECT coalesce(max(id), 0) + 1 FROM senders", [], |r| {
            r.get(0)
        })?;
        let source_number = new.source_number(u64::try_from(rowid).unwrap_or(0)).ok_or(
            StoreError::SenderNumbersFull {
                max: new.capacity(),
            },
        )?;
        let inserted = tx.execute(
            "INSERT INTO senders (id, name, signature, source_number, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![rowid, new.name, new.signature, source_number, micros(now)],
        );
        if let Err(rusqlite::Error::SqliteFailure(e, _)) = &inserted
            && e.code == rusqlite::ErrorCode::ConstraintViolation
        {
            return Err(StoreError::Conflict(format!(
                "source number {source_number}"
            )));
        }
        inserted?;
        let id = SenderId(u32::try_from(rowid).unwrap_or(0));
        tx.execute(
            "INSERT INTO api_keys (hash, role, sender_id, created_at) VALUES (?1, 'sender', ?2, ?3)",
            params![new.api_key_hash, id.0, micros(now)],
        )?;
        let digest = sender_digest(&new.name, &new.signature, &source_number, micros(now));
        let chain = self.chain_records(&tx, AuditKind::Sender, &[(rowid, digest)], now)?;
        self.commit(tx)?;
        self.install_chain(chain);
        Ok(SenderRecord {
            id,
            name: new.name.clone(),
            signature: new.signature.clone(),
            source_number,
            suspended: false,
            created_at: now,
        })
    }

    fn senders(&self) -> Result<Vec<SenderRecord>, StoreError> {
        let conn = self.reader.lock();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT id, name, signature, source_number, {LAST_SUSPENSION_ACTION}, created_at
             FROM senders ORDER BY id"
        ))?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, u32>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                suspended_after(r.get::<_, Option<String>>(4)?.as_deref()),
                r.get::<_, i64>(5)?,
            ))
        })?;
        rows.map(|row| {
            let (id, name, signature, source_number, suspended, created) = row?;
            Ok(SenderRecord {
                id: SenderId(id),
                name,
                signature,
                source_number,
                suspended,
                created_at: from_micros("senders", i64::from(id), created)?,
            })
        })
        .collect()
    }
}
