//! The senders and api_keys tables, and the chained edits of senders' names and signatures.

use domain::{SenderId, Timestamp};

use super::credentials::record_credentials;
use super::{PgStore, from_micros, is_unique_violation, micros, pg_err};
use crate::audit::canon::{sender_digest, sender_edit_digest};
use crate::audit::credentials::{Credential, ISSUED};
use crate::complaints::{LAST_SUSPENSION_ACTION, suspended_after};
use crate::console::SearchValue;
use crate::values::{SENDER_NAME, SENDER_SIGNATURE};
use crate::{
    AuditKind, KeyRing, KeyRole, NewSender, SenderQuery, SenderRecord, SenderRegistry, StoreError,
};

impl SenderRegistry for PgStore {
    fn create_sender(&self, new: &NewSender) -> Result<SenderRecord, StoreError> {
        let now = Timestamp::now();
        self.run(async |c| {
            let tx = c.transaction().await.map_err(pg_err)?;
            // The id comes from the table's sequence, unique across nodes; the number follows
            // from it, so two nodes never hand out one number.
            let rowid: i64 = tx
                .query_one(
                    "SELECT nextval(pg_get_serial_sequence('senders', 'id'))",
                    &[],
                )
                .await
                .map_err(pg_err)?
                .get(0);
            let source_number = new
                .source_number(u64::try_from(rowid).unwrap_or(0))
                .ok_or(StoreError::SenderNumbersFull {
                    max: new.capacity(),
                })?;
            let inserted = tx
                .execute(
                    "INSERT INTO senders (id, name, signature, source_number, created_at)
                     VALUES ($1, $2, $3, $4, $5)",
                    &[&rowid, &new.name, &new.signature, &source_number, &micros(now)],
                )
                .await;
            match inserted {
                Err(e) if is_unique_violation(&e) => {
                    return Err(StoreError::Conflict(format!(
                        "source number {source_number}"
                    )));
                }
                other => other.map_err(pg_err)?,
            };
            tx.execute(
                "INSERT INTO api_keys (hash, role, sender_id, created_at) VALUES ($1, 'sender', $2, $3)",
                &[&new.api_key_hash, &rowid, &micros(now)],
            )
            .await
            .map_err(pg_err)?;
            let id = SenderId(u32::try_from(rowid).unwrap_or(0));
            let key = Credential::api_key(&new.api_key_hash, KeyRole::Sender(id));
            let keys = record_credentials(&tx, &[(ISSUED, key)], now).await?;
            let digest = sender_digest(&new.name, &new.signature, &source_number, micros(now));
            let mut records = vec![(AuditKind::Sender, rowid, digest)];
            records.extend(keys.into_iter().map(|(r, d)| (AuditKind::Credential, r, d)));
            self.chain_in_order(&tx, &records, now).await?;
            tx.commit().await.map_err(pg_err)?;
            Ok(SenderRecord {
                id: SenderId(u32::try_from(rowid).unwrap_or(0)),
                name: new.name.clone(),
                signature: new.signature.clone(),
                source_number,
                suspended: false,
                created_at: now,
            })
        })
    }

    fn senders(&self) -> Result<Vec<SenderRecord>, StoreError> {
        self.sender_rows(None)
    }

    fn sender_page(&self, q: &SenderQuery) -> Result<(Vec<SenderRecord>, u64), StoreError> {
        let (page, count, values) = q.select('$');
        let params: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> = values
            .iter()
            .map(|v| match v {
                SearchValue::Int(i) => i as &(dyn tokio_postgres::types::ToSql + Sync),
                SearchValue::Text(t) => t as &(dyn tokio_postgres::types::ToSql + Sync),
                SearchValue::Owned(t) => t as &(dyn tokio_postgres::types::ToSql + Sync),
            })
            .collect();
        self.run(async |c| {
            let total: i64 = c.query_one(&count, &params).await.map_err(pg_err)?.get(0);
            let rows = c.query(&page, &params).await.map_err(pg_err)?;
            let found = rows
                .iter()
                .map(sender_record)
                .collect::<Result<Vec<_>, _>>()?;
            Ok((found, crate::values::u64_of(total)))
        })
    }

    fn edit_sender(
        &self,
        id: SenderId,
        name: &str,
        signature: &str,
        actor: &str,
    ) -> Result<Option<SenderRecord>, StoreError> {
        let sender = i64::from(id.0);
        let found = self.run(async |c| {
            let tx = c.transaction().await.map_err(pg_err)?;
            // Locks the sender's row: its edits are chained in the order they are made.
            let exists = tx
                .query_opt("SELECT 1 FROM senders WHERE id = $1 FOR UPDATE", &[&sender])
                .await
                .map_err(pg_err)?
                .is_some();
            if !exists {
                return Ok(false);
            }
            let now = Timestamp::now();
            let row: i64 = tx
                .query_one(
                    "INSERT INTO sender_edits (sender_id, name, signature, actor, at)
                     VALUES ($1, $2, $3, $4, $5) RETURNING id",
                    &[&sender, &name, &signature, &actor, &micros(now)],
                )
                .await
                .map_err(pg_err)?
                .get(0);
            let digest = sender_edit_digest(sender, name, signature, actor, micros(now));
            self.chain_records(&tx, AuditKind::SenderEdit, &[(row, digest)], now)
                .await?;
            tx.commit().await.map_err(pg_err)?;
            Ok(true)
        })?;
        if !found {
            return Ok(None);
        }
        Ok(self.sender_rows(Some(sender))?.pop())
    }
}

/// A sender from `id, name, signature, source_number, last suspension action, created_at`.
fn sender_record(r: &tokio_postgres::Row) -> Result<SenderRecord, StoreError> {
    let id: i64 = r.get(0);
    Ok(SenderRecord {
        id: SenderId(u32::try_from(id).map_err(|e| super::corrupt("senders", id, e))?),
        name: r.get(1),
        signature: r.get(2),
        source_number: r.get(3),
        suspended: suspended_after(r.get::<_, Option<&str>>(4)),
        created_at: from_micros("senders", id, r.get(5))?,
    })
}

impl PgStore {
    fn sender_rows(&self, only: Option<i64>) -> Result<Vec<SenderRecord>, StoreError> {
        self.run(async |c| {
            let rows = c
                .query(
                    &format!(
                        "SELECT id, {SENDER_NAME}, {SENDER_SIGNATURE}, source_number,
                                {LAST_SUSPENSION_ACTION}, created_at
                         FROM senders WHERE $1::bigint IS NULL OR id = $1 ORDER BY id"
                    ),
                    &[&only],
                )
                .await
                .map_err(pg_err)?;
            rows.iter().map(sender_record).collect()
        })
    }
}

impl KeyRing for PgStore {
    fn put_key(&self, hash: &str, role: KeyRole) -> Result<(), StoreError> {
        let (name, sender) = match role {
            KeyRole::Admin => ("admin", None),
            KeyRole::Carrier => ("carrier", None),
            KeyRole::Sender(id) => ("sender", Some(i64::from(id.0))),
        };
        self.run(async |c| {
            let tx = c.transaction().await.map_err(pg_err)?;
            let now = Timestamp::now();
            tx.execute(
                "INSERT INTO api_keys (hash, role, sender_id, created_at) VALUES ($1, $2, $3, $4)",
                &[&hash, &name, &sender, &micros(now)],
            )
            .await
            .map_err(pg_err)?;
            let rows =
                record_credentials(&tx, &[(ISSUED, Credential::api_key(hash, role))], now).await?;
            self.chain_records(&tx, AuditKind::Credential, &rows, now)
                .await?;
            tx.commit().await.map_err(pg_err)
        })
    }

    fn keys(&self) -> Result<Vec<(String, KeyRole)>, StoreError> {
        self.run(async |c| {
            let rows = c
                .query(
                    "SELECT id, hash, role, sender_id FROM api_keys WHERE revoked_at IS NULL",
                    &[],
                )
                .await
                .map_err(pg_err)?;
            rows.iter()
                .map(|r| {
                    let id: i64 = r.get(0);
                    let role: &str = r.get(2);
                    let sender: Option<i64> = r.get(3);
                    let role = match (role, sender.and_then(|s| u32::try_from(s).ok())) {
                        ("admin", _) => KeyRole::Admin,
                        ("carrier", _) => KeyRole::Carrier,
                        ("sender", Some(s)) => KeyRole::Sender(SenderId(s)),
                        (other, _) => {
                            return Err(super::corrupt("api_keys", id, format!("role {other:?}")));
                        }
                    };
                    Ok((r.get(1), role))
                })
                .collect()
        })
    }
}
