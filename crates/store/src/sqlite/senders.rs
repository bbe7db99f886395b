//! The senders table and the chained edits of their names and signatures.

use domain::{SenderId, Timestamp};
use rusqlite::{OptionalExtension, params};

use super::{SqliteStore, from_micros, micros};
use crate::AuditKind;
use crate::audit::canon::{sender_digest, sender_edit_digest};
use crate::audit::credentials::{Credential, ISSUED};
use crate::complaints::{LAST_SUSPENSION_ACTION, suspended_after};
use crate::values::{SENDER_NAME, SENDER_SIGNATURE};
use crate::{KeyRole, NewSender, SenderQuery, SenderRecord, SenderRegistry, StoreError};

impl SqliteStore {
    fn sender_rows(&self, id: Option<SenderId>) -> Result<Vec<SenderRecord>, StoreError> {
        let conn = self.reader.lock();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT id, {SENDER_NAME}, {SENDER_SIGNATURE}, source_number, {LAST_SUSPENSION_ACTION},
                    created_at
             FROM senders WHERE ?1 IS NULL OR id = ?1 ORDER BY id"
        ))?;
        let rows = stmt.query_map([id.map(|s| s.0)], |r| {
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
        let key = Credential::api_key(&new.api_key_hash, KeyRole::Sender(id));
        let keys = super::keys::record_credentials(&tx, &[(ISSUED, key)], now)?;
        let digest = sender_digest(&new.name, &new.signature, &source_number, micros(now));
        let mut records = vec![(AuditKind::Sender, rowid, digest)];
        records.extend(keys.into_iter().map(|(r, d)| (AuditKind::Credential, r, d)));
        let chain = self.chain_in_order(&tx, &records, now)?;
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
        self.sender_rows(None)
    }

    fn sender_page(&self, q: &SenderQuery) -> Result<(Vec<SenderRecord>, u64), StoreError> {
        let (page, count, values) = q.select('?');
        let params = super::search_params(values);
        let conn = self.reader.lock();
        let total: i64 = conn
            .prepare_cached(&count)?
            .query_row(rusqlite::params_from_iter(&params), |r| r.get(0))?;
        let mut stmt = conn.prepare_cached(&page)?;
        let rows = stmt.query_map(rusqlite::params_from_iter(&params), |r| {
            Ok((
                r.get::<_, u32>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                suspended_after(r.get::<_, Option<String>>(4)?.as_deref()),
                r.get::<_, i64>(5)?,
            ))
        })?;
        let found = rows
            .map(|row| {
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
            .collect::<Result<Vec<_>, StoreError>>()?;
        Ok((found, crate::values::u64_of(total)))
    }

    fn edit_sender(
        &self,
        id: SenderId,
        name: &str,
        signature: &str,
        actor: &str,
    ) -> Result<Option<SenderRecord>, StoreError> {
        {
            let mut conn = self.writer.lock();
            let tx = conn.transaction()?;
            let exists = tx
                .query_row("SELECT 1 FROM senders WHERE id = ?1", [id.0], |_| Ok(()))
                .optional()?
                .is_some();
            if !exists {
                return Ok(None);
            }
            let now = Timestamp::now();
            tx.execute(
                "INSERT INTO sender_edits (sender_id, name, signature, actor, at)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![id.0, name, signature, actor, micros(now)],
            )?;
            let digest = sender_edit_digest(i64::from(id.0), name, signature, actor, micros(now));
            let chain = self.chain_records(
                &tx,
                AuditKind::SenderEdit,
                &[(tx.last_insert_rowid(), digest)],
                now,
            )?;
            self.commit(tx)?;
            self.install_chain(chain);
        }
        Ok(self.sender_rows(Some(id))?.pop())
    }
}
