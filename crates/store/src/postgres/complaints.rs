//! The complaints and suspension_changes tables, and the counts reputation and reports need.

use std::collections::BTreeMap;

use complaints::{Activity, PlatformFigures, SenderFigures, SuspensionAction};
use domain::{Msisdn, SenderId, Timestamp};
use ledger::ConsentEvent;

use super::consents::{event, phone_col};
use super::messages::{COLUMNS as MESSAGE_COLUMNS, id_col, record};
use super::{PgStore, corrupt, from_micros, is_unique_violation, micros, pg_err, truncate};
use crate::audit::canon::{ComplaintFields, Digest32, suspension_digest};
use crate::complaints::{
    ComplaintLog, ComplaintRecord, NewComplaint, NewSuspension, SuspensionRecord,
};
use crate::console::SearchValue;
use crate::{AuditKind, ComplaintQuery, StoreError};

use crate::values::u64_of;

const T: &str = "complaints";
const S: &str = "suspension_changes";
const COLUMNS: &str = "id, phone, sender_id, message_id, source_number, text, received_at, kind, \
                       note, filed_by, filed_at, matched, adjudication";

fn sender_of(table: &'static str, row: i64, v: i64) -> Result<SenderId, StoreError> {
    u32::try_from(v)
        .map(SenderId)
        .map_err(|e| corrupt(table, row, e))
}

fn complaint(r: &tokio_postgres::Row) -> Result<ComplaintRecord, StoreError> {
    let id: i64 = r.get(0);
    let kind: &str = r.get(7);
    let matched: &str = r.get(11);
    let adjudication: &str = r.get(12);
    Ok(ComplaintRecord {
        id: u64_of(id),
        phone: Msisdn::from_u64(u64::try_from(r.get::<_, i64>(1)).map_err(|e| corrupt(T, id, e))?),
        sender: r
            .get::<_, Option<i64>>(2)
            .map(|s| sender_of(T, id, s))
            .transpose()?,
        message_id: r.get::<_, Option<i64>>(3).map(u64_of),
        source_number: r.get(4),
        text: r.get(5),
        received_at: from_micros(T, id, r.get(6))?,
        kind: kind.parse().map_err(|e| corrupt(T, id, e))?,
        note: r.get(8),
        filed_by: r.get(9),
        filed_at: from_micros(T, id, r.get(10))?,
        matched: serde_json::from_str(matched).map_err(|e| corrupt(T, id, e))?,
        adjudication: serde_json::from_str(adjudication).map_err(|e| corrupt(T, id, e))?,
    })
}

fn suspension(r: &tokio_postgres::Row) -> Result<SuspensionRecord, StoreError> {
    let id: i64 = r.get(0);
    let action: &str = r.get(2);
    let activity: Option<&str> = r.get(7);
    Ok(SuspensionRecord {
        id: u64_of(id),
        sender: sender_of(S, id, r.get(1))?,
        action: action.parse().map_err(|e| corrupt(S, id, e))?,
        reason: r.get(3),
        actor: r.get(4),
        at: from_micros(S, id, r.get(5))?,
        complaint_id: r.get::<_, Option<i64>>(6).map(u64_of),
        activity: activity
            .map(serde_json::from_str)
            .transpose()
            .map_err(|e| corrupt(S, id, e))?,
    })
}

/// Inserts a suspension change and sets the flag; `None` if the sender does not exist. Returns
/// the row id and its audit digest.
async fn insert_suspension(
    tx: &deadpool_postgres::Transaction<'_>,
    s: &NewSuspension,
) -> Result<Option<(i64, Digest32)>, StoreError> {
    let suspended = s.action != SuspensionAction::Lift;
    let sender = i64::from(s.sender.0);
    let n = tx
        .execute(
            "UPDATE senders SET suspended = $1 WHERE id = $2",
            &[&suspended, &sender],
        )
        .await
        .map_err(pg_err)?;
    if n != 1 {
        return Ok(None);
    }
    let activity = s
        .activity
        .map(|a| serde_json::to_string(&a))
        .transpose()
        .map_err(|e| corrupt(S, 0, e))?;
    let at = micros(s.at);
    let complaint = s.complaint_id.map(id_col);
    let id: i64 = tx
        .query_one(
            "INSERT INTO suspension_changes (sender_id, action, reason, actor, at, complaint_id, activity)
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
            &[
                &sender,
                &s.action.as_str(),
                &s.reason,
                &s.actor,
                &at,
                &complaint,
                &activity,
            ],
        )
        .await
        .map_err(pg_err)?
        .get(0);
    let digest = suspension_digest(
        sender,
        s.action.as_str(),
        &s.reason,
        &s.actor,
        at,
        complaint,
        activity.as_deref(),
    );
    Ok(Some((id, digest)))
}

/// A sender's row, made if it is not registered (any more).
fn row(rows: &mut BTreeMap<u32, SenderFigures>, id: i64) -> &mut SenderFigures {
    let id = u32::try_from(id).unwrap_or(0);
    rows.entry(id)
        .or_insert_with(|| SenderFigures::empty(SenderId(id), String::new()))
}

impl ComplaintLog for PgStore {
    fn insert_complaint(
        &self,
        c: &NewComplaint,
        suspension: Option<&NewSuspension>,
    ) -> Result<(u64, Option<u64>), StoreError> {
        let matched = serde_json::to_string(&c.matched).map_err(|e| corrupt(T, 0, e))?;
        let adjudication = serde_json::to_string(&c.adjudication).map_err(|e| corrupt(T, 0, e))?;
        let row = ComplaintFields {
            phone: phone_col(c.phone),
            sender: c.sender.map(|s| i64::from(s.0)),
            message: c.message_id.map(id_col),
            source_number: c.source_number.as_deref(),
            text: c.text.as_deref(),
            received_at: micros(c.received_at),
            kind: c.kind.as_str(),
            note: c.note.as_deref(),
            filed_by: &c.filed_by,
            filed_at: micros(c.filed_at),
            dedup_key: &c.dedup_key,
            verdict: c.adjudication.verdict.as_str(),
            matched: &matched,
            adjudication: &adjudication,
        };
        self.run(async |client| {
            let tx = client.transaction().await.map_err(pg_err)?;
            let inserted = tx
                .query_one(
                    "INSERT INTO complaints (phone, sender_id, message_id, source_number, text, received_at,
                        kind, note, filed_by, filed_at, dedup_key, verdict, matched, adjudication)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING id",
                    &[
                        &row.phone,
                        &row.sender,
                        &row.message,
                        &row.source_number,
                        &row.text,
                        &row.received_at,
                        &row.kind,
                        &row.note,
                        &row.filed_by,
                        &row.filed_at,
                        &row.dedup_key,
                        &row.verdict,
                        &row.matched,
                        &row.adjudication,
                    ],
                )
                .await;
            let rowid: i64 = match inserted {
                Ok(r) => r.get(0),
                Err(e) if is_unique_violation(&e) => {
                    return Err(StoreError::Conflict(format!("complaint {}", c.dedup_key)));
                }
                Err(e) => return Err(pg_err(e)),
            };
            let id = u64_of(rowid);
            let mut chained = vec![(AuditKind::Complaint, rowid, row.digest())];
            let suspension_id = match suspension {
                Some(s) => {
                    let s = NewSuspension {
                        complaint_id: Some(id),
                        ..s.clone()
                    };
                    insert_suspension(&tx, &s).await?.map(|(sid, digest)| {
                        chained.push((AuditKind::SuspensionChange, sid, digest));
                        u64_of(sid)
                    })
                }
                None => None,
            };
            self.chain_in_order(&tx, &chained, c.filed_at).await?;
            tx.commit().await.map_err(pg_err)?;
            Ok((id, suspension_id))
        })
    }

    fn complaint(&self, id: u64) -> Result<Option<ComplaintRecord>, StoreError> {
        self.run(async |c| {
            let r = c
                .query_opt(
                    &format!("SELECT {COLUMNS} FROM complaints WHERE id = $1"),
                    &[&id_col(id)],
                )
                .await
                .map_err(pg_err)?;
            r.as_ref().map(complaint).transpose()
        })
    }

    fn complaint_by_key(&self, key: &str) -> Result<Option<u64>, StoreError> {
        self.run(async |c| {
            let r = c
                .query_opt("SELECT id FROM complaints WHERE dedup_key = $1", &[&key])
                .await
                .map_err(pg_err)?;
            Ok(r.map(|r| u64_of(r.get(0))))
        })
    }

    fn complaints(&self, q: &ComplaintQuery) -> Result<Vec<ComplaintRecord>, StoreError> {
        let (sql, values) = q.select(COLUMNS, '$');
        let params: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> = values
            .iter()
            .map(|v| match v {
                SearchValue::Int(i) => i as &(dyn tokio_postgres::types::ToSql + Sync),
                SearchValue::Text(t) => t as &(dyn tokio_postgres::types::ToSql + Sync),
                SearchValue::Owned(t) => t as &(dyn tokio_postgres::types::ToSql + Sync),
            })
            .collect();
        self.run(async |c| {
            let rows = c.query(&sql, &params).await.map_err(pg_err)?;
            rows.iter().map(complaint).collect()
        })
    }

    fn consent_events_for(
        &self,
        phone: Msisdn,
        sender: SenderId,
    ) -> Result<Vec<ConsentEvent>, StoreError> {
        self.run(async |c| {
            let rows = c
                .query(
                    "SELECT seq, scope, sender_id, action, source, evidence, actor, at, recorded_at
                     FROM consent_events WHERE phone = $1 AND (sender_id = $2 OR sender_id IS NULL)
                     ORDER BY seq",
                    &[&phone_col(phone), &i64::from(sender.0)],
                )
                .await
                .map_err(pg_err)?;
            rows.iter().map(|r| event(phone, r)).collect()
        })
    }

    fn sent_to(
        &self,
        phone: Msisdn,
        since: Timestamp,
        until: Timestamp,
    ) -> Result<Vec<crate::MessageRecord>, StoreError> {
        self.run(async |c| {
            let rows = c
                .query(
                    &format!(
                        "SELECT {MESSAGE_COLUMNS} FROM messages
                         WHERE phone = $1 AND delivery_at >= $2
                           AND delivery IN ('submitted', 'delivered', 'failed')
                           AND coalesce(current_decided_at, decided_at) BETWEEN $2 AND $3
                         ORDER BY delivery_at, id"
                    ),
                    &[&phone_col(phone), &micros(since), &micros(until)],
                )
                .await
                .map_err(pg_err)?;
            rows.iter().map(record).collect()
        })
    }

    fn marketing_sent_to(
        &self,
        phone: Msisdn,
        since: Timestamp,
        until: Timestamp,
    ) -> Result<Vec<(u64, SenderId, Timestamp)>, StoreError> {
        self.run(async |c| {
            let rows = c
                .query(
                    "SELECT id, sender_id, coalesce(current_decided_at, decided_at) FROM messages
                     WHERE phone = $1 AND delivery_at >= $2 AND category = 'marketing'
                       AND delivery IN ('submitted', 'delivered', 'failed')
                       AND coalesce(current_decided_at, decided_at) BETWEEN $2 AND $3
                     ORDER BY delivery_at, id",
                    &[&phone_col(phone), &micros(since), &micros(until)],
                )
                .await
                .map_err(pg_err)?;
            rows.iter()
                .map(|r| {
                    let id: i64 = r.get(0);
                    Ok((
                        u64_of(id),
                        sender_of("messages", id, r.get(1))?,
                        from_micros("messages", id, r.get(2))?,
                    ))
                })
                .collect()
        })
    }

    fn complaints_from_phone_since(
        &self,
        phone: Msisdn,
        since: Timestamp,
    ) -> Result<u64, StoreError> {
        self.run(async |c| {
            let n: i64 = c
                .query_one(
                    "SELECT count(*) FROM complaints WHERE phone = $1 AND filed_at >= $2",
                    &[&phone_col(phone), &micros(since)],
                )
                .await
                .map_err(pg_err)?
                .get(0);
            Ok(u64_of(n))
        })
    }

    fn record_suspension(&self, change: &NewSuspension) -> Result<Option<u64>, StoreError> {
        self.run(async |c| {
            let tx = c.transaction().await.map_err(pg_err)?;
            let Some((id, digest)) = insert_suspension(&tx, change).await? else {
                return Ok(None);
            };
            self.chain_in_order(&tx, &[(AuditKind::SuspensionChange, id, digest)], change.at)
                .await?;
            tx.commit().await.map_err(pg_err)?;
            Ok(Some(u64_of(id)))
        })
    }

    fn suspensions(&self, sender: SenderId) -> Result<Vec<SuspensionRecord>, StoreError> {
        self.run(async |c| {
            let rows = c
                .query(
                    "SELECT id, sender_id, action, reason, actor, at, complaint_id, activity
                     FROM suspension_changes WHERE sender_id = $1 ORDER BY id",
                    &[&i64::from(sender.0)],
                )
                .await
                .map_err(pg_err)?;
            rows.iter().map(suspension).collect()
        })
    }

    fn sender_activity(&self, sender: SenderId, since: Timestamp) -> Result<Activity, StoreError> {
        let (sender, since) = (i64::from(sender.0), micros(since));
        self.run(async |c| {
            let marketing_sent: i64 = c
                .query_one(
                    "SELECT count(*) FROM messages WHERE sender_id = $1 AND decided_at >= $2
                       AND category = 'marketing' AND delivery IN ('submitted', 'delivered', 'failed')",
                    &[&sender, &since],
                )
                .await
                .map_err(pg_err)?
                .get(0);
            let r = c
                .query_one(
                    "SELECT count(*), count(*) FILTER (WHERE verdict = 'violation'),
                            count(DISTINCT phone) FILTER (WHERE verdict = 'violation')
                     FROM complaints
                     WHERE sender_id = $1 AND filed_at >= $2 AND verdict != 'unverified'",
                    &[&sender, &since],
                )
                .await
                .map_err(pg_err)?;
            Ok(Activity {
                marketing_sent: u64_of(marketing_sent),
                opt_outs: 0,
                complaints: u64_of(r.get(0)),
                violations: u64_of(r.get(1)),
                upheld_phones: u64_of(r.get(2)),
            })
        })
    }

    fn opt_outs_since(&self, sender: SenderId, since: Timestamp) -> Result<u64, StoreError> {
        self.run(async |c| {
            let n: i64 = c
                .query_one(
                    "SELECT count(*) FROM consent_events
                     WHERE sender_id = $1 AND action = 'opt_out' AND recorded_at >= $2",
                    &[&i64::from(sender.0), &micros(since)],
                )
                .await
                .map_err(pg_err)?
                .get(0);
            Ok(u64_of(n))
        })
    }

    fn period_figures(
        &self,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<(Vec<SenderFigures>, PlatformFigures), StoreError> {
        let (from, to) = (micros(truncate(from)), micros(truncate(to)));
        self.run(async |c| {
            let mut rows: BTreeMap<u32, SenderFigures> = BTreeMap::new();
            for r in c
                .query(
                    &format!(
                        "SELECT id, {}, {} FROM senders",
                        crate::values::SENDER_NAME,
                        crate::complaints::LAST_SUSPENSION_ACTION
                    ),
                    &[],
                )
                .await
                .map_err(pg_err)?
            {
                let id: i64 = r.get(0);
                let id = u32::try_from(id).unwrap_or(0);
                let mut f = SenderFigures::empty(SenderId(id), r.get::<_, String>(1));
                f.suspended_now =
                    crate::complaints::suspended_after(r.get::<_, Option<&str>>(2));
                rows.insert(id, f);
            }
            // Messages decided in the period: handed off, or refused.
            for r in c
                .query(
                    "SELECT sender_id,
                            count(*) FILTER (WHERE delivery IN ('submitted', 'delivered', 'failed')),
                            count(*) FILTER (WHERE delivery IN ('submitted', 'delivered', 'failed')
                                             AND category = 'marketing'),
                            count(*) FILTER (WHERE delivery = 'not_sent')
                     FROM messages WHERE decided_at >= $1 AND decided_at < $2 GROUP BY sender_id",
                    &[&from, &to],
                )
                .await
                .map_err(pg_err)?
            {
                let f = row(&mut rows, r.get(0));
                f.sent = u64_of(r.get(1));
                f.marketing_sent = u64_of(r.get(2));
                f.blocked = u64_of(r.get(3));
            }
            // The current decision's reasons (a cancellation at hand-off has its own).
            for r in c
                .query(
                    "SELECT m.sender_id, j.value ->> 'code', count(*)
                     FROM messages m,
                          jsonb_array_elements(coalesce(m.current_reasons, m.reasons)::jsonb) j
                     WHERE m.decided_at >= $1 AND m.decided_at < $2 AND m.delivery = 'not_sent'
                     GROUP BY 1, 2",
                    &[&from, &to],
                )
                .await
                .map_err(pg_err)?
            {
                let code: Option<String> = r.get(1);
                let n = u64_of(r.get(2));
                row(&mut rows, r.get(0))
                    .blocked_by_reason
                    .insert(code.unwrap_or_else(|| "unknown".into()), n);
            }
            for r in c
                .query(
                    "SELECT sender_id, count(*) FROM consent_events
                     WHERE action = 'opt_out' AND sender_id IS NOT NULL
                       AND recorded_at >= $1 AND recorded_at < $2
                     GROUP BY sender_id",
                    &[&from, &to],
                )
                .await
                .map_err(pg_err)?
            {
                row(&mut rows, r.get(0)).opt_outs = u64_of(r.get(1));
            }
            for r in c
                .query(
                    "SELECT sender_id, count(*), count(*) FILTER (WHERE verdict = 'violation'),
                            count(DISTINCT phone) FILTER (WHERE verdict = 'violation')
                     FROM complaints
                     WHERE filed_at >= $1 AND filed_at < $2 AND sender_id IS NOT NULL
                       AND verdict != 'unverified'
                     GROUP BY sender_id",
                    &[&from, &to],
                )
                .await
                .map_err(pg_err)?
            {
                let f = row(&mut rows, r.get(0));
                f.complaints = u64_of(r.get(1));
                f.violations = u64_of(r.get(2));
                f.upheld_phones = u64_of(r.get(3));
            }
            for r in c
                .query(
                    "SELECT sender_id, count(*) FROM suspension_changes
                     WHERE action = 'suspend' AND at >= $1 AND at < $2 GROUP BY sender_id",
                    &[&from, &to],
                )
                .await
                .map_err(pg_err)?
            {
                row(&mut rows, r.get(0)).suspensions = u64_of(r.get(1));
            }
            let unverified: i64 = c
                .query_one(
                    "SELECT count(*) FROM complaints
                     WHERE filed_at >= $1 AND filed_at < $2 AND verdict = 'unverified'",
                    &[&from, &to],
                )
                .await
                .map_err(pg_err)?
                .get(0);
            let platform_opt_outs: i64 = c
                .query_one(
                    "SELECT count(*) FROM consent_events
                     WHERE action = 'opt_out' AND sender_id IS NULL
                       AND recorded_at >= $1 AND recorded_at < $2",
                    &[&from, &to],
                )
                .await
                .map_err(pg_err)?
                .get(0);
            let mut platform = PlatformFigures {
                unverified_complaints: u64_of(unverified),
                opt_outs: u64_of(platform_opt_outs),
                notices_sent: 0,
            };
            let rows = crate::complaints::platform_row_out(rows, &mut platform);
            Ok((rows, platform))
        })
    }
}
