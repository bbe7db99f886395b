//! The inbound_replies, reply_notices and unsubscribe_links tables, and the attribution query
//! over messages.

use domain::{Msisdn, SenderId, Timestamp};

use super::consents::phone_col;
use super::{PgStore, corrupt, from_micros, is_unique_violation, micros, pg_err};
use crate::{LinkRecord, NewReply, ReplyLog, StoreError, UnsubscribeLinks};

impl ReplyLog for PgStore {
    fn reply_outcome(&self, key: &str) -> Result<Option<(u64, String)>, StoreError> {
        self.run(async |c| {
            let row = c
                .query_opt(
                    "SELECT id, outcome FROM inbound_replies WHERE replay_key = $1",
                    &[&key],
                )
                .await
                .map_err(pg_err)?;
            Ok(row.map(|r| (u64::try_from(r.get::<_, i64>(0)).unwrap_or(0), r.get(1))))
        })
    }

    fn record_reply(&self, reply: &NewReply<'_>) -> Result<u64, StoreError> {
        self.run(async |c| {
            let inserted = c
                .query_one(
                    "INSERT INTO inbound_replies (replay_key, phone, to_number, text, received_at,
                        intent, outcome, recorded_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
                    &[
                        &reply.key,
                        &phone_col(reply.phone),
                        &reply.to,
                        &reply.text,
                        &micros(reply.received_at),
                        &reply.intent,
                        &reply.outcome,
                        &micros(Timestamp::now()),
                    ],
                )
                .await;
            match inserted {
                Ok(r) => Ok(u64::try_from(r.get::<_, i64>(0)).unwrap_or(0)),
                Err(e) if is_unique_violation(&e) => Err(StoreError::Conflict(format!(
                    "reply {}",
                    reply.key.unwrap_or_default()
                ))),
                Err(e) => Err(pg_err(e)),
            }
        })
    }

    fn claim_notice(
        &self,
        phone: Msisdn,
        target: u32,
        kind: &str,
        day: i32,
    ) -> Result<bool, StoreError> {
        self.run(async |c| {
            let n = c
                .execute(
                    "INSERT INTO reply_notices (phone, target, kind, day) VALUES ($1, $2, $3, $4)
                     ON CONFLICT DO NOTHING",
                    &[
                        &phone_col(phone),
                        &i64::from(target),
                        &kind,
                        &i64::from(day),
                    ],
                )
                .await
                .map_err(pg_err)?;
            Ok(n == 1)
        })
    }

    fn marketing_senders(
        &self,
        phone: Msisdn,
        since: Timestamp,
    ) -> Result<Vec<SenderId>, StoreError> {
        self.run(async |c| {
            let rows = c
                .query(
                    "SELECT DISTINCT sender_id FROM messages
                     WHERE phone = $1 AND category = 'marketing' AND submitted_at >= $2
                       AND status != 'rejected' AND delivery IN ('pending', 'submitted', 'delivered')
                     ORDER BY sender_id",
                    &[&phone_col(phone), &micros(since)],
                )
                .await
                .map_err(pg_err)?;
            rows.iter()
                .map(|r| {
                    let id: i64 = r.get(0);
                    Ok(SenderId(
                        u32::try_from(id).map_err(|e| corrupt("messages", id, e))?,
                    ))
                })
                .collect()
        })
    }
}

impl UnsubscribeLinks for PgStore {
    fn put_links(&self, links: &[LinkRecord]) -> Result<(), StoreError> {
        if links.is_empty() {
            return Ok(());
        }
        let hashes: Vec<&str> = links.iter().map(|l| l.token_hash.as_str()).collect();
        let phones: Vec<i64> = links.iter().map(|l| phone_col(l.phone)).collect();
        let senders: Vec<i64> = links.iter().map(|l| i64::from(l.sender.0)).collect();
        let created: Vec<i64> = links.iter().map(|l| micros(l.created_at)).collect();
        self.run(async |c| {
            c.execute(
                "INSERT INTO unsubscribe_links (token_hash, phone, sender_id, created_at)
                 SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::bigint[])",
                &[&hashes, &phones, &senders, &created],
            )
            .await
            .map_err(pg_err)?;
            Ok(())
        })
    }

    fn link(&self, token_hash: &str) -> Result<Option<LinkRecord>, StoreError> {
        const T: &str = "unsubscribe_links";
        self.run(async |c| {
            let row = c
                .query_opt(
                    "SELECT id, phone, sender_id, created_at FROM unsubscribe_links
                     WHERE token_hash = $1",
                    &[&token_hash],
                )
                .await
                .map_err(pg_err)?;
            row.map(|r| {
                let id: i64 = r.get(0);
                Ok(LinkRecord {
                    token_hash: token_hash.to_string(),
                    phone: Msisdn::from_u64(
                        u64::try_from(r.get::<_, i64>(1)).map_err(|e| corrupt(T, id, e))?,
                    ),
                    sender: SenderId(
                        u32::try_from(r.get::<_, i64>(2)).map_err(|e| corrupt(T, id, e))?,
                    ),
                    created_at: from_micros(T, id, r.get(3))?,
                })
            })
            .transpose()
        })
    }
}
