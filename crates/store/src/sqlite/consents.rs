//! The consent_events table.

use domain::{ConsentAction, Msisdn, Scope, SenderId, Timestamp};
use ledger::ConsentEvent;
use rusqlite::params;

use super::{SqliteStore, corrupt, from_micros, micros, truncate};
use crate::AuditKind;
use crate::audit::canon::consent_digest;
use crate::{ConsentLog, NewConsent, StoreError};

const T: &str = "consent_events";

impl ConsentLog for SqliteStore {
    fn append_consents_at(
        &self,
        events: &[NewConsent],
        recorded_at: Timestamp,
    ) -> Result<Vec<ConsentEvent>, StoreError> {
        let mut conn = self.writer.lock();
        let tx = conn.transaction()?;
        let recorded_at = truncate(recorded_at);
        let mut out = Vec::with_capacity(events.len());
        let mut digests = Vec::with_capacity(if self.audit { events.len() } else { 0 });
        {
            // The ledger's commit order; the writer lock makes max+1 safe.
            let first: i64 = tx.query_row(
                "SELECT coalesce(max(seq), 0) + 1 FROM consent_events",
                [],
                |r| r.get(0),
            )?;
            let mut stmt = tx.prepare_cached(
                "INSERT INTO consent_events (phone, seq, scope, sender_id, action, source, evidence, actor, at, recorded_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            )?;
            for (rowid, e) in (first..).zip(events) {
                let phone = i64::try_from(e.phone.as_u64()).unwrap_or(i64::MAX);
                let sender = e.sender.map(|s| i64::from(s.0));
                stmt.execute(params![
                    phone,
                    rowid,
                    e.scope.as_str(),
                    sender,
                    e.action.as_str(),
                    e.source.as_str(),
                    e.evidence,
                    e.actor,
                    micros(e.at),
                    micros(recorded_at),
                ])?;
                if self.audit {
                    digests.push((
                        rowid,
                        consent_digest(
                            phone,
                            e.scope.as_str(),
                            sender,
                            e.action.as_str(),
                            e.source.as_str(),
                            &e.evidence,
                            &e.actor,
                            micros(e.at),
                            micros(recorded_at),
                        ),
                    ));
                }
                let seq = u64::try_from(rowid).unwrap_or(0);
                out.push(ConsentEvent {
                    seq,
                    phone: e.phone,
                    scope: e.scope,
                    sender: e.sender,
                    action: e.action,
                    source: e.source,
                    evidence: e.evidence.clone(),
                    actor: e.actor.clone(),
                    at: truncate(e.at),
                    recorded_at,
                });
            }
        }
        // One event per request, in the ledger's commit order.
        debug_assert_eq!(out.len(), events.len());
        debug_assert!(out.windows(2).all(|w| w[0].seq < w[1].seq));
        let chain = self.chain_records(&tx, AuditKind::ConsentEvent, &digests, recorded_at)?;
        self.commit(tx)?;
        self.install_chain(chain);
        Ok(out)
    }

    fn consent_history(&self, phone: Msisdn) -> Result<Vec<ConsentEvent>, StoreError> {
        let conn = self.reader.lock();
        let mut stmt = conn.prepare_cached(
            "SELECT seq, scope, sender_id, action, source, evidence, actor, at, recorded_at
             FROM consent_events WHERE phone = ?1 ORDER BY seq",
        )?;
        let mut rows = stmt.query([i64::try_from(phone.as_u64()).unwrap_or(i64::MAX)])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            out.push(event(phone, r)?);
        }
        Ok(out)
    }

    fn scan_consents(
        &self,
        f: &mut dyn FnMut(Msisdn, Option<SenderId>, ConsentAction, Timestamp, bool),
    ) -> Result<u64, StoreError> {
        let conn = self.reader.lock();
        // The fold is per phone, so any order that keeps each phone's events in commit order
        // will do: on a clustered table that is its natural order (one sequential pass).
        let order = if self.clustered { "phone, seq" } else { "seq" };
        let mut stmt = conn.prepare(&format!(
            "SELECT seq, phone, scope, sender_id, action, at, actor FROM consent_events ORDER BY {order}"
        ))?;
        let mut rows = stmt.query([])?;
        let mut n = 0;
        while let Some(r) = rows.next()? {
            let seq: i64 = r.get(0)?;
            let phone = Msisdn::from_u64(
                u64::try_from(r.get::<_, i64>(1)?).map_err(|e| corrupt(T, seq, e))?,
            );
            let platform =
                r.get_ref(2)?.as_str().map_err(|e| corrupt(T, seq, e))? == Scope::Platform.as_str();
            let sender = if platform {
                None
            } else {
                r.get::<_, Option<u32>>(3)?.map(SenderId)
            };
            let action = match r.get_ref(4)?.as_str().map_err(|e| corrupt(T, seq, e))? {
                "opt_in" => ConsentAction::OptIn,
                "opt_out" => ConsentAction::OptOut,
                other => return Err(corrupt(T, seq, format!("action {other:?}"))),
            };
            let own = ledger::by_consumer(r.get_ref(6)?.as_str().map_err(|e| corrupt(T, seq, e))?);
            f(phone, sender, action, from_micros(T, seq, r.get(5)?)?, own);
            n += 1;
        }
        Ok(n)
    }

    fn consent_counts_by_phone(&self, f: &mut dyn FnMut(Msisdn, u32)) -> Result<(), StoreError> {
        let conn = self.reader.lock();
        // Walks the (phone, seq) index only; no table rows are read.
        let mut stmt = conn.prepare("SELECT phone, count(*) FROM consent_events GROUP BY phone")?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let phone: i64 = r.get(0)?;
            let n: i64 = r.get(1)?;
            let phone = u64::try_from(phone).map_err(|e| corrupt(T, 0, e))?;
            f(
                Msisdn::from_u64(phone),
                u32::try_from(n).unwrap_or(u32::MAX),
            );
        }
        Ok(())
    }

    fn consent_count(&self) -> Result<u64, StoreError> {
        let conn = self.reader.lock();
        let n: i64 = conn.query_row("SELECT count(*) FROM consent_events", [], |r| r.get(0))?;
        Ok(u64::try_from(n).unwrap_or(0))
    }
}

/// An event from the columns `seq, scope, sender_id, action, source, evidence, actor, at,
/// recorded_at` (in that order) of `phone`'s row.
pub(super) fn event(phone: Msisdn, r: &rusqlite::Row<'_>) -> Result<ConsentEvent, StoreError> {
    let seq: i64 = r.get(0)?;
    let text = |i: usize| -> Result<String, StoreError> { Ok(r.get::<_, String>(i)?) };
    Ok(ConsentEvent {
        seq: u64::try_from(seq).unwrap_or(0),
        phone,
        scope: text(1)?.parse().map_err(|e| corrupt(T, seq, e))?,
        sender: r.get::<_, Option<u32>>(2)?.map(SenderId),
        action: text(3)?.parse().map_err(|e| corrupt(T, seq, e))?,
        source: text(4)?.parse().map_err(|e| corrupt(T, seq, e))?,
        evidence: text(5)?,
        actor: text(6)?,
        at: from_micros(T, seq, r.get(7)?)?,
        recorded_at: from_micros(T, seq, r.get(8)?)?,
    })
}
