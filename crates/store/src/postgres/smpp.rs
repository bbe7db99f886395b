//! The smpp_credentials and carrier_ids tables.

use domain::{Category, Msisdn, SenderId, Timestamp};

use super::credentials::record_credentials;
use super::messages::id_col;
use super::{PgStore, corrupt, micros, pg_err};
use crate::audit::credentials::{Credential, ISSUED};
use crate::{AuditKind, Handoff, SmppRegistry, StoreError};

impl SmppRegistry for PgStore {
    fn put_smpp_credential(
        &self,
        system_id: &str,
        sender: SenderId,
        password_hash: &str,
    ) -> Result<(), StoreError> {
        self.run(async |c| {
            let tx = c.transaction().await.map_err(pg_err)?;
            let now = Timestamp::now();
            tx.execute(
                "DELETE FROM smpp_credentials WHERE sender_id = $1 OR system_id = $2",
                &[&i64::from(sender.0), &system_id],
            )
            .await
            .map_err(pg_err)?;
            tx.execute(
                "INSERT INTO smpp_credentials (system_id, sender_id, password_hash, created_at)
                 VALUES ($1, $2, $3, $4)",
                &[
                    &system_id,
                    &i64::from(sender.0),
                    &password_hash,
                    &micros(now),
                ],
            )
            .await
            .map_err(pg_err)?;
            let change = Credential::smpp(system_id, i64::from(sender.0), password_hash);
            let rows = record_credentials(&tx, &[(ISSUED, change)], now).await?;
            self.chain_records(&tx, AuditKind::Credential, &rows, now)
                .await?;
            tx.commit().await.map_err(pg_err)
        })
    }

    fn smpp_credential(&self, system_id: &str) -> Result<Option<(SenderId, String)>, StoreError> {
        self.run(async |c| {
            let row = c
                .query_opt(
                    "SELECT sender_id, password_hash FROM smpp_credentials WHERE system_id = $1",
                    &[&system_id],
                )
                .await
                .map_err(pg_err)?;
            row.map(|r| {
                let id: i64 = r.get(0);
                Ok((
                    SenderId(u32::try_from(id).map_err(|e| corrupt("smpp_credentials", id, e))?),
                    r.get(1),
                ))
            })
            .transpose()
        })
    }

    fn smpp_system_id(&self, sender: SenderId) -> Result<Option<String>, StoreError> {
        self.run(async |c| {
            let row = c
                .query_opt(
                    "SELECT system_id FROM smpp_credentials WHERE sender_id = $1",
                    &[&i64::from(sender.0)],
                )
                .await
                .map_err(pg_err)?;
            Ok(row.map(|r| r.get(0)))
        })
    }

    fn put_carrier_ids(&self, carrier: &str, ids: &[(String, u64)]) -> Result<(), StoreError> {
        if ids.is_empty() {
            return Ok(());
        }
        let carrier_ids: Vec<String> = ids.iter().map(|i| i.0.to_ascii_lowercase()).collect();
        let messages: Vec<i64> = ids.iter().map(|i| id_col(i.1)).collect();
        self.run(async |c| {
            // DISTINCT ON: a batch naming one carrier id twice keeps its last, as INSERT OR
            // REPLACE one by one would (ON CONFLICT cannot touch a row twice in one statement).
            let insert = c
                .prepare_cached(
                    "INSERT INTO carrier_ids (carrier, carrier_id, message_id)
                     SELECT DISTINCT ON (cid) $1, cid, mid
                     FROM unnest($2::text[], $3::bigint[]) WITH ORDINALITY AS x(cid, mid, n)
                     ORDER BY cid, n DESC
                     ON CONFLICT (carrier, carrier_id) DO UPDATE SET message_id = excluded.message_id",
                )
                .await
                .map_err(pg_err)?;
            c.execute(&insert, &[&carrier, &carrier_ids, &messages])
                .await
                .map_err(pg_err)?;
            Ok(())
        })
    }

    fn message_by_carrier_id(
        &self,
        carrier: &str,
        carrier_id: &str,
    ) -> Result<Option<u64>, StoreError> {
        self.run(async |c| {
            let row = c
                .query_opt(
                    "SELECT message_id FROM carrier_ids WHERE carrier = $1 AND carrier_id = $2",
                    &[&carrier, &carrier_id.to_ascii_lowercase()],
                )
                .await
                .map_err(pg_err)?;
            Ok(row.and_then(|r| u64::try_from(r.get::<_, i64>(0)).ok()))
        })
    }

    fn unacknowledged_handoffs(&self, since: Timestamp) -> Result<Vec<Handoff>, StoreError> {
        self.run(async |c| {
            // No carrier id at all, or (a long text) fewer than it may have segments: a
            // superset (67 UCS-2 characters a segment is the most segments a text can have);
            // the caller counts the segments exactly.
            let rows = c
                .query(
                    "SELECT id, sender_id, phone, text, category, acked FROM (
                         SELECT m.id, m.sender_id, m.phone, m.text, m.category,
                                (SELECT count(*) FROM carrier_ids c WHERE c.message_id = m.id) AS acked
                         FROM messages m
                         WHERE m.decided_at >= $1 AND m.delivery = 'submitted' AND m.phone IS NOT NULL
                     ) h
                     WHERE acked = 0 OR (length(text) > 70 AND acked < (length(text) + 66) / 67)
                     ORDER BY id",
                    &[&micros(since)],
                )
                .await
                .map_err(pg_err)?;
            rows.iter()
                .map(|r| {
                    let id: i64 = r.get(0);
                    let category: &str = r.get(4);
                    let category: Category = category
                        .parse()
                        .map_err(|e| corrupt("messages", id, format!("category: {e}")))?;
                    Ok(Handoff {
                        id: u64::try_from(id).map_err(|e| corrupt("messages", id, e))?,
                        sender: SenderId(
                            u32::try_from(r.get::<_, i64>(1))
                                .map_err(|e| corrupt("messages", id, e))?,
                        ),
                        phone: Msisdn::from_u64(
                            u64::try_from(r.get::<_, i64>(2))
                                .map_err(|e| corrupt("messages", id, e))?,
                        ),
                        text: r.get(3),
                        category,
                        acknowledged_parts: u32::try_from(r.get::<_, i64>(5)).unwrap_or(u32::MAX),
                    })
                })
                .collect()
        })
    }
}
