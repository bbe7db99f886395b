//! The complaints and suspension_changes tables, and the counts reputation and reports need.

use std::collections::BTreeMap;

use complaints::{Activity, PlatformFigures, SenderFigures, SuspensionAction};
use domain::{Msisdn, SenderId, Timestamp};
use ledger::ConsentEvent;
use rusqlite::{OptionalExtension, Row, Transaction, params};

use super::{SqliteStore, corrupt, from_micros, micros, truncate};
use crate::audit::canon::{ComplaintFields, Digest32, suspension_digest};
use crate::complaints::{
    ComplaintLog, ComplaintRecord, NewComplaint, NewSuspension, SuspensionRecord,
};
use crate::values::phone_col;
use crate::{AuditKind, ComplaintQuery, StoreError};

use crate::values::u64_of;

const T: &str = "complaints";
const S: &str = "suspension_changes";
const COLUMNS: &str = "id, phone, sender_id, message_id, source_number, text, received_at, kind, \
                       note, filed_by, filed_at, matched, adjudication";

fn id_col(id: u64) -> i64 {
    i64::try_from(id).unwrap_or(i64::MAX)
}

fn complaint(r: &Row<'_>) -> Result<ComplaintRecord, StoreError> {
    let id: i64 = r.get(0)?;
    let kind: String = r.get(7)?;
    let matched: String = r.get(11)?;
    let adjudication: String = r.get(12)?;
    Ok(ComplaintRecord {
        id: u64_of(id),
        phone: Msisdn::from_u64(u64::try_from(r.get::<_, i64>(1)?).map_err(|e| corrupt(T, id, e))?),
        sender: r.get::<_, Option<u32>>(2)?.map(SenderId),
        message_id: r.get::<_, Option<i64>>(3)?.map(u64_of),
        source_number: r.get(4)?,
        text: r.get(5)?,
        received_at: from_micros(T, id, r.get(6)?)?,
        kind: kind.parse().map_err(|e| corrupt(T, id, e))?,
        note: r.get(8)?,
        filed_by: r.get(9)?,
        filed_at: from_micros(T, id, r.get(10)?)?,
        matched: serde_json::from_str(&matched).map_err(|e| corrupt(T, id, e))?,
        adjudication: serde_json::from_str(&adjudication).map_err(|e| corrupt(T, id, e))?,
    })
}

fn suspension(r: &Row<'_>) -> Result<SuspensionRecord, StoreError> {
    let id: i64 = r.get(0)?;
    let action: String = r.get(2)?;
    let activity: Option<String> = r.get(7)?;
    Ok(SuspensionRecord {
        id: u64_of(id),
        sender: SenderId(r.get(1)?),
        action: action.parse().map_err(|e| corrupt(S, id, e))?,
        reason: r.get(3)?,
        actor: r.get(4)?,
        at: from_micros(S, id, r.get(5)?)?,
        complaint_id: r.get::<_, Option<i64>>(6)?.map(u64_of),
        activity: activity
            .map(|a| serde_json::from_str(&a))
            .transpose()
            .map_err(|e| corrupt(S, id, e))?,
    })
}

/// Inserts a suspension change and sets the flag; `None` if the sender does not exist. Returns
/// the row id and its audit digest.
fn insert_suspension(
    tx: &Transaction<'_>,
    s: &NewSuspension,
) -> Result<Option<(i64, Digest32)>, StoreError> {
    let suspended = s.action != SuspensionAction::Lift;
    let n = tx.execute(
        "UPDATE senders SET suspended = ?1 WHERE id = ?2",
        params![suspended, s.sender.0],
    )?;
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
    tx.execute(
        "INSERT INTO suspension_changes (sender_id, action, reason, actor, at, complaint_id, activity)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            s.sender.0,
            s.action.as_str(),
            s.reason,
            s.actor,
            at,
            complaint,
            activity
        ],
    )?;
    let digest = suspension_digest(
        i64::from(s.sender.0),
        s.action.as_str(),
        &s.reason,
        &s.actor,
        at,
        complaint,
        activity.as_deref(),
    );
    Ok(Some((tx.last_insert_rowid(), digest)))
}

/// A sender's row, made if it is not registered (any more).
fn row(rows: &mut BTreeMap<u32, SenderFigures>, id: u32) -> &mut SenderFigures {
    rows.entry(id)
        .or_insert_with(|| SenderFigures::empty(SenderId(id), String::new()))
}

/// The messages handed off to a phone whose decision falls in a window (`?2`..`?3`).
pub(super) const SENT_TO_WHERE: &str = "phone = ?1 AND delivery_at >= ?2
       AND delivery IN ('submitted', 'delivered', 'failed')
       AND coalesce(current_decided_at, decided_at) BETWEEN ?2 AND ?3
     ORDER BY delivery_at, id";

/// The marketing handed off to a phone in a window. `+category` keeps the planner off the
/// (category, decided_at) index — a third of the table — and on the phone's own key.
pub(super) const MARKETING_SENT_TO: &str =
    "SELECT id, sender_id, coalesce(current_decided_at, decided_at) FROM messages
     WHERE phone = ?1 AND delivery_at >= ?2 AND +category = 'marketing'
       AND delivery IN ('submitted', 'delivered', 'failed')
       AND coalesce(current_decided_at, decided_at) BETWEEN ?2 AND ?3
     ORDER BY delivery_at, id";

impl ComplaintLog for SqliteStore {
    fn insert_complaint(
        &self,
        c: &NewComplaint,
        suspension: Option<&NewSuspension>,
    ) -> Result<(u64, Option<u64>), StoreError> {
        let matched = serde_json::to_string(&c.matched).map_err(|e| corrupt(T, 0, e))?;
        let adjudication = serde_json::to_string(&c.adjudication).map_err(|e| corrupt(T, 0, e))?;
        let mut conn = self.writer.lock();
        let tx = conn.transaction()?;
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
        let inserted = tx.execute(
            "INSERT INTO complaints (phone, sender_id, message_id, source_number, text, received_at,
                kind, note, filed_by, filed_at, dedup_key, verdict, matched, adjudication)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
            params![
                row.phone,
                row.sender,
                row.message,
                row.source_number,
                row.text,
                row.received_at,
                row.kind,
                row.note,
                row.filed_by,
                row.filed_at,
                row.dedup_key,
                row.verdict,
                row.matched,
                row.adjudication,
            ],
        );
        if let Err(rusqlite::Error::SqliteFailure(e, _)) = &inserted
            && e.code == rusqlite::ErrorCode::ConstraintViolation
        {
            return Err(StoreError::Conflict(format!("complaint {}", c.dedup_key)));
        }
        inserted?;
        let rowid = tx.last_insert_rowid();
        let id = u64_of(rowid);
        let mut chained = vec![(AuditKind::Complaint, rowid, row.digest())];
        let suspension_id = match suspension {
            Some(s) => {
                let s = NewSuspension {
                    complaint_id: Some(id),
                    ..s.clone()
                };
                insert_suspension(&tx, &s)?.map(|(sid, digest)| {
                    chained.push((AuditKind::SuspensionChange, sid, digest));
                    u64_of(sid)
                })
            }
            None => None,
        };
        let chain = self.chain_in_order(&tx, &chained, c.filed_at)?;
        self.commit(tx)?;
        self.install_chain(chain);
        Ok((id, suspension_id))
    }

    fn complaint(&self, id: u64) -> Result<Option<ComplaintRecord>, StoreError> {
        let conn = self.reader.lock();
        let mut stmt =
            conn.prepare_cached(&format!("SELECT {COLUMNS} FROM complaints WHERE id = ?1"))?;
        let mut rows = stmt.query([id_col(id)])?;
        rows.next()?.map(complaint).transpose()
    }

    fn complaint_by_key(&self, key: &str) -> Result<Option<u64>, StoreError> {
        let conn = self.reader.lock();
        Ok(conn
            .query_row(
                "SELECT id FROM complaints WHERE dedup_key = ?1",
                [key],
                |r| r.get::<_, i64>(0),
            )
            .optional()?
            .map(u64_of))
    }

    fn complaints(&self, q: &ComplaintQuery) -> Result<Vec<ComplaintRecord>, StoreError> {
        let (sql, values) = q.select(COLUMNS, '?');
        let params = super::search_params(values);
        let conn = self.reader.lock();
        let mut stmt = conn.prepare_cached(&sql)?;
        let mut rows = stmt.query(rusqlite::params_from_iter(params))?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            out.push(complaint(r)?);
        }
        Ok(out)
    }

    fn consent_events_for(
        &self,
        phone: Msisdn,
        sender: SenderId,
    ) -> Result<Vec<ConsentEvent>, StoreError> {
        const E: &str = "consent_events";
        let conn = self.reader.lock();
        let mut stmt = conn.prepare_cached(
            "SELECT seq, scope, sender_id, action, source, evidence, actor, at, recorded_at
             FROM consent_events WHERE phone = ?1 AND (sender_id = ?2 OR sender_id IS NULL)
             ORDER BY seq",
        )?;
        let mut rows = stmt.query(params![phone_col(phone), sender.0])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            let seq: i64 = r.get(0)?;
            let (scope, action, source): (String, String, String) =
                (r.get(1)?, r.get(3)?, r.get(4)?);
            out.push(ConsentEvent {
                seq: u64_of(seq),
                phone,
                scope: scope.parse().map_err(|e| corrupt(E, seq, e))?,
                sender: r.get::<_, Option<u32>>(2)?.map(SenderId),
                action: action.parse().map_err(|e| corrupt(E, seq, e))?,
                source: source.parse().map_err(|e| corrupt(E, seq, e))?,
                evidence: r.get(5)?,
                actor: r.get(6)?,
                at: from_micros(E, seq, r.get(7)?)?,
                recorded_at: from_micros(E, seq, r.get(8)?)?,
            });
        }
        Ok(out)
    }

    fn sent_to(
        &self,
        phone: Msisdn,
        since: Timestamp,
        until: Timestamp,
    ) -> Result<Vec<crate::MessageRecord>, StoreError> {
        let conn = self.reader.lock();
        // The phone's messages are read through its (phone, id) key. The delivery state changes
        // at or after the decision, so `delivery_at >= since` drops older ones cheaply; the
        // decision time is then checked exactly.
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {} FROM messages WHERE {SENT_TO_WHERE}",
            super::messages::COLUMNS
        ))?;
        let mut rows = stmt.query(params![phone_col(phone), micros(since), micros(until)])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            out.push(super::messages::record(r)?);
        }
        Ok(out)
    }

    fn marketing_sent_to(
        &self,
        phone: Msisdn,
        since: Timestamp,
        until: Timestamp,
    ) -> Result<Vec<(u64, SenderId, Timestamp)>, StoreError> {
        let conn = self.reader.lock();
        let mut stmt = conn.prepare_cached(MARKETING_SENT_TO)?;
        let mut rows = stmt.query(params![phone_col(phone), micros(since), micros(until)])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            let id: i64 = r.get(0)?;
            out.push((
                u64_of(id),
                SenderId(r.get(1)?),
                from_micros("messages", id, r.get(2)?)?,
            ));
        }
        Ok(out)
    }

    fn complaints_from_phone_since(
        &self,
        phone: Msisdn,
        since: Timestamp,
    ) -> Result<u64, StoreError> {
        let conn = self.reader.lock();
        let n: i64 = conn.query_row(
            "SELECT count(*) FROM complaints WHERE phone = ?1 AND filed_at >= ?2",
            params![phone_col(phone), micros(since)],
            |r| r.get(0),
        )?;
        Ok(u64_of(n))
    }

    fn record_suspension(&self, change: &NewSuspension) -> Result<Option<u64>, StoreError> {
        let mut conn = self.writer.lock();
        let tx = conn.transaction()?;
        let Some((id, digest)) = insert_suspension(&tx, change)? else {
            return Ok(None);
        };
        let chain =
            self.chain_in_order(&tx, &[(AuditKind::SuspensionChange, id, digest)], change.at)?;
        self.commit(tx)?;
        self.install_chain(chain);
        Ok(Some(u64_of(id)))
    }

    fn suspensions(&self, sender: SenderId) -> Result<Vec<SuspensionRecord>, StoreError> {
        let conn = self.reader.lock();
        let mut stmt = conn.prepare_cached(
            "SELECT id, sender_id, action, reason, actor, at, complaint_id, activity
             FROM suspension_changes WHERE sender_id = ?1 ORDER BY id",
        )?;
        let mut rows = stmt.query([sender.0])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            out.push(suspension(r)?);
        }
        Ok(out)
    }

    fn sender_activity(&self, sender: SenderId, since: Timestamp) -> Result<Activity, StoreError> {
        let conn = self.reader.lock();
        let marketing_sent: i64 = conn
            .prepare_cached(
                "SELECT count(*) FROM messages WHERE sender_id = ?1 AND decided_at >= ?2
                   AND category = 'marketing' AND delivery IN ('submitted', 'delivered', 'failed')",
            )?
            .query_row(params![sender.0, micros(since)], |r| r.get(0))?;
        let (complaints, violations, upheld_phones): (i64, i64, i64) = conn
            .prepare_cached(
                "SELECT count(*), coalesce(sum(verdict = 'violation'), 0),
                        count(DISTINCT CASE WHEN verdict = 'violation' THEN phone END)
                 FROM complaints
                 WHERE sender_id = ?1 AND filed_at >= ?2 AND verdict != 'unverified'",
            )?
            .query_row(params![sender.0, micros(since)], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })?;
        Ok(Activity {
            marketing_sent: u64_of(marketing_sent),
            opt_outs: 0,
            complaints: u64_of(complaints),
            violations: u64_of(violations),
            upheld_phones: u64_of(upheld_phones),
        })
    }

    fn opt_outs_since(&self, sender: SenderId, since: Timestamp) -> Result<u64, StoreError> {
        let conn = self.reader.lock();
        let n: i64 = conn.query_row(
            "SELECT count(*) FROM consent_events
             WHERE sender_id = ?1 AND action = 'opt_out' AND recorded_at >= ?2",
            params![sender.0, micros(since)],
            |r| r.get(0),
        )?;
        Ok(u64_of(n))
    }

    fn period_figures(
        &self,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<(Vec<SenderFigures>, PlatformFigures), StoreError> {
        let conn = self.reader.lock();
        let (from, to) = (micros(truncate(from)), micros(truncate(to)));
        let mut rows: BTreeMap<u32, SenderFigures> = BTreeMap::new();
        {
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT id, {}, {} FROM senders",
                crate::values::SENDER_NAME,
                crate::complaints::LAST_SUSPENSION_ACTION
            ))?;
            let mut q = stmt.query([])?;
            while let Some(r) = q.next()? {
                let id: u32 = r.get(0)?;
                let mut f = SenderFigures::empty(SenderId(id), r.get::<_, String>(1)?);
                f.suspended_now =
                    crate::complaints::suspended_after(r.get::<_, Option<String>>(2)?.as_deref());
                rows.insert(id, f);
            }
        }
        // Messages decided in the period: handed off, or refused.
        let mut stmt = conn.prepare_cached(
            "SELECT sender_id,
                    sum(delivery IN ('submitted', 'delivered', 'failed')),
                    sum(delivery IN ('submitted', 'delivered', 'failed') AND category = 'marketing'),
                    sum(delivery = 'not_sent')
             FROM messages WHERE decided_at >= ?1 AND decided_at < ?2 GROUP BY sender_id",
        )?;
        let mut q = stmt.query(params![from, to])?;
        while let Some(r) = q.next()? {
            let f = row(&mut rows, r.get(0)?);
            f.sent = u64_of(r.get(1)?);
            f.marketing_sent = u64_of(r.get(2)?);
            f.blocked = u64_of(r.get(3)?);
        }
        drop(q);
        // The current decision's reasons (a cancellation at hand-off has its own).
        let mut stmt = conn.prepare_cached(
            "SELECT m.sender_id, json_extract(j.value, '$.code'), count(*)
             FROM messages m, json_each(coalesce(m.current_reasons, m.reasons)) j
             WHERE m.decided_at >= ?1 AND m.decided_at < ?2 AND m.delivery = 'not_sent'
             GROUP BY 1, 2",
        )?;
        let mut q = stmt.query(params![from, to])?;
        while let Some(r) = q.next()? {
            let code: Option<String> = r.get(1)?;
            let n = u64_of(r.get(2)?);
            row(&mut rows, r.get(0)?)
                .blocked_by_reason
                .insert(code.unwrap_or_else(|| "unknown".into()), n);
        }
        drop(q);
        let mut stmt = conn.prepare_cached(
            "SELECT sender_id, count(*) FROM consent_events
             WHERE action = 'opt_out' AND sender_id IS NOT NULL AND recorded_at >= ?1 AND recorded_at < ?2
             GROUP BY sender_id",
        )?;
        let mut q = stmt.query(params![from, to])?;
        while let Some(r) = q.next()? {
            row(&mut rows, r.get(0)?).opt_outs = u64_of(r.get(1)?);
        }
        drop(q);
        let mut stmt = conn.prepare_cached(
            "SELECT sender_id, count(*), sum(verdict = 'violation'),
                    count(DISTINCT CASE WHEN verdict = 'violation' THEN phone END)
             FROM complaints
             WHERE filed_at >= ?1 AND filed_at < ?2 AND sender_id IS NOT NULL AND verdict != 'unverified'
             GROUP BY sender_id",
        )?;
        let mut q = stmt.query(params![from, to])?;
        while let Some(r) = q.next()? {
            let f = row(&mut rows, r.get(0)?);
            f.complaints = u64_of(r.get(1)?);
            f.violations = u64_of(r.get(2)?);
            f.upheld_phones = u64_of(r.get(3)?);
        }
        drop(q);
        let mut stmt = conn.prepare_cached(
            "SELECT sender_id, count(*) FROM suspension_changes
             WHERE action = 'suspend' AND at >= ?1 AND at < ?2 GROUP BY sender_id",
        )?;
        let mut q = stmt.query(params![from, to])?;
        while let Some(r) = q.next()? {
            row(&mut rows, r.get(0)?).suspensions = u64_of(r.get(1)?);
        }
        drop(q);
        let unverified: i64 = conn.query_row(
            "SELECT count(*) FROM complaints WHERE filed_at >= ?1 AND filed_at < ?2 AND verdict = 'unverified'",
            params![from, to],
            |r| r.get(0),
        )?;
        let platform_opt_outs: i64 = conn.query_row(
            "SELECT count(*) FROM consent_events
             WHERE action = 'opt_out' AND sender_id IS NULL AND recorded_at >= ?1 AND recorded_at < ?2",
            params![from, to],
            |r| r.get(0),
        )?;
        let mut platform = PlatformFigures {
            unverified_complaints: u64_of(unverified),
            opt_outs: u64_of(platform_opt_outs),
            notices_sent: 0,
        };
        let rows = crate::complaints::platform_row_out(rows, &mut platform);
        Ok((rows, platform))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use complaints::ComplaintVerdict;
    use domain::SenderId;

    use crate::{ComplaintColumn, ComplaintQuery, ComplaintSort};

    /// SQLite's plan for `q`: one line per step.
    fn plan(store: &super::SqliteStore, q: &ComplaintQuery) -> String {
        let (sql, values) = q.select("id", '?');
        super::super::plans::plan_of(store, &sql, super::super::search_params(values))
    }

    /// Every filter and order the queue offers walks an index in the order asked for: no sort
    /// of the matches, and a filter is an index search, not a scan that skips rows — so a page
    /// of a rare verdict reads its rows and stops.
    #[test]
    fn every_filter_and_order_of_the_queue_is_served_by_an_index() {
        let store = super::SqliteStore::open_in_memory().unwrap();
        for sender in [None, Some(SenderId(3))] {
            for verdict in [None, Some(ComplaintVerdict::Violation)] {
                for hide_unverified in [false, true] {
                    for column in ComplaintColumn::ALL {
                        for descending in [true, false] {
                            let q = ComplaintQuery {
                                sender,
                                verdict,
                                hide_unverified,
                                sort: ComplaintSort { column, descending },
                                limit: 25,
                                ..ComplaintQuery::default()
                            };
                            let p = plan(&store, &q);
                            assert!(!p.contains("TEMP B-TREE"), "{q:?}: {p}");
                            let filtered = sender.is_some() || verdict.is_some();
                            if filtered {
                                assert!(p.starts_with("SEARCH"), "{q:?}: {p}");
                            }
                            if sender.is_some() && hide_unverified && verdict.is_none() {
                                assert!(p.contains("complaints_visible_"), "{q:?}: {p}");
                            }
                        }
                    }
                }
            }
        }
    }
}
