//! The consent_events table.

use domain::{ConsentAction, Msisdn, Scope, SenderId, Timestamp};
use ledger::ConsentEvent;

use super::{PgStore, corrupt, from_micros, micros, pg_err, truncate};
use crate::audit::canon::consent_digest;
use crate::{AuditKind, ConsentLog, NewConsent, StoreError};

const T: &str = "consent_events";

pub(crate) use crate::values::phone_col;

pub(crate) fn event(phone: Msisdn, r: &tokio_postgres::Row) -> Result<ConsentEvent, StoreError> {
    let seq: i64 = r.get(0);
    let scope: String = r.get(1);
    let action: String = r.get(3);
    let source: String = r.get(4);
    Ok(ConsentEvent {
        seq: u64::try_from(seq).unwrap_or(0),
        phone,
        scope: scope.parse().map_err(|e| corrupt(T, seq, e))?,
        sender: r
            .get::<_, Option<i64>>(2)
            .map(|s| u32::try_from(s).map(SenderId))
            .transpose()
            .map_err(|e| corrupt(T, seq, e))?,
        action: action.parse().map_err(|e| corrupt(T, seq, e))?,
        source: source.parse().map_err(|e| corrupt(T, seq, e))?,
        evidence: r.get(5),
        actor: r.get(6),
        at: from_micros(T, seq, r.get(7))?,
        recorded_at: from_micros(T, seq, r.get(8))?,
    })
}

impl ConsentLog for PgStore {
    fn append_consents_at(
        &self,
        events: &[NewConsent],
        recorded_at: Timestamp,
    ) -> Result<Vec<ConsentEvent>, StoreError> {
        self.append_consents_pinned(events, recorded_at, &[])
    }

    fn append_consents_pinned(
        &self,
        events: &[NewConsent],
        recorded_at: Timestamp,
        pins: &crate::Pins,
    ) -> Result<Vec<ConsentEvent>, StoreError> {
        let recorded_at = truncate(recorded_at);
        self.run(async |c| {
            let tx = c.transaction().await.map_err(pg_err)?;
            // One phone's events take their seqs in commit order: lock each phone (in a fixed
            // order, so two batches never wait on each other in a cycle) before allocating.
            let mut phones: Vec<i64> = events.iter().map(|e| phone_col(e.phone)).collect();
            phones.sort_unstable();
            phones.dedup();
            let lock = tx
                .prepare_cached(
                    "SELECT pg_advisory_xact_lock(p) FROM unnest($1::bigint[]) AS p ORDER BY p",
                )
                .await
                .map_err(pg_err)?;
            tx.execute(&lock, &[&phones]).await.map_err(pg_err)?;
            super::leases::check(self, &tx, phones.iter().copied(), pins).await?;
            let insert = tx
                .prepare_cached(
                    "INSERT INTO consent_events (seq, phone, scope, sender_id, action, source, evidence, actor, at, recorded_at)
                     VALUES (nextval('consent_seq'), $1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING seq",
                )
                .await
                .map_err(pg_err)?;
            let mut out = Vec::with_capacity(events.len());
            let mut digests = Vec::with_capacity(events.len());
            for e in events {
                let phone = phone_col(e.phone);
                let sender = e.sender.map(|s| i64::from(s.0));
                let (at, rec) = (micros(e.at), micros(recorded_at));
                let row = tx
                    .query_one(
                        &insert,
                        &[
                            &phone,
                            &e.scope.as_str(),
                            &sender,
                            &e.action.as_str(),
                            &e.source.as_str(),
                            &e.evidence,
                            &e.actor,
                            &at,
                            &rec,
                        ],
                    )
                    .await
                    .map_err(pg_err)?;
                let seq: i64 = row.get(0);
                if self.audit {
                    digests.push((
                        seq,
                        consent_digest(
                            phone,
                            e.scope.as_str(),
                            sender,
                            e.action.as_str(),
                            e.source.as_str(),
                            &e.evidence,
                            &e.actor,
                            at,
                            rec,
                        ),
                    ));
                }
                out.push(ConsentEvent {
                    seq: u64::try_from(seq).unwrap_or(0),
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
            self.chain_records(&tx, AuditKind::ConsentEvent, &digests, recorded_at)
                .await?;
            tx.commit().await.map_err(pg_err)?;
            Ok(out)
        })
    }

    fn consent_history(&self, phone: Msisdn) -> Result<Vec<ConsentEvent>, StoreError> {
        self.run(async |c| {
            let rows = c
                .query(
                    "SELECT seq, scope, sender_id, action, source, evidence, actor, at, recorded_at
                     FROM consent_events WHERE phone = $1 ORDER BY seq",
                    &[&phone_col(phone)],
                )
                .await
                .map_err(pg_err)?;
            rows.iter().map(|r| event(phone, r)).collect()
        })
    }

    fn scan_consents(
        &self,
        f: &mut dyn FnMut(Msisdn, Option<SenderId>, ConsentAction, Timestamp, bool),
    ) -> Result<u64, StoreError> {
        self.scan_consents_where("TRUE", &[], f)
    }

    fn scan_partition(
        &self,
        partitions: u32,
        part: u32,
        f: &mut dyn FnMut(Msisdn, Option<SenderId>, ConsentAction, Timestamp, bool),
    ) -> Result<u64, StoreError> {
        let (n, p) = (i64::from(partitions.max(1)), i64::from(part));
        self.scan_consents_where("phone % $1 = $2", &[&n, &p], f)
    }

    fn consent_counts_by_phone(&self, f: &mut dyn FnMut(Msisdn, u32)) -> Result<(), StoreError> {
        self.run(async |c| {
            let rows = c
                .query(
                    "SELECT phone, count(*) FROM consent_events GROUP BY phone",
                    &[],
                )
                .await
                .map_err(pg_err)?;
            for r in rows {
                let phone: i64 = r.get(0);
                let n: i64 = r.get(1);
                let phone = u64::try_from(phone).map_err(|e| corrupt(T, 0, e))?;
                f(
                    Msisdn::from_u64(phone),
                    u32::try_from(n).unwrap_or(u32::MAX),
                );
            }
            Ok(())
        })
    }

    fn consent_count(&self) -> Result<u64, StoreError> {
        self.run(async |c| {
            let n: i64 = c
                .query_one("SELECT count(*) FROM consent_events", &[])
                .await
                .map_err(pg_err)?
                .get(0);
            Ok(u64::try_from(n).unwrap_or(0))
        })
    }
}

impl PgStore {
    /// Streams the fold-relevant fields of the events matching `filter` (an SQL condition on
    /// `consent_events` with `params`), each phone's in commit order. Streamed, not collected:
    /// a ledger of tens of millions of events is folded without holding it.
    pub(crate) fn scan_consents_where(
        &self,
        filter: &str,
        params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
        f: &mut dyn FnMut(Msisdn, Option<SenderId>, ConsentAction, Timestamp, bool),
    ) -> Result<u64, StoreError> {
        use futures_util::TryStreamExt;
        let sql = format!(
            "SELECT seq, phone, scope, sender_id, action, at, actor FROM consent_events
             WHERE {filter} ORDER BY phone, seq"
        );
        self.run(async |c| {
            let stream = c
                .query_raw(sql.as_str(), params.iter().copied())
                .await
                .map_err(pg_err)?;
            futures_util::pin_mut!(stream);
            let mut n = 0;
            while let Some(r) = stream.try_next().await.map_err(pg_err)? {
                let seq: i64 = r.get(0);
                let phone = Msisdn::from_u64(
                    u64::try_from(r.get::<_, i64>(1)).map_err(|e| corrupt(T, seq, e))?,
                );
                let platform = r.get::<_, &str>(2) == Scope::Platform.as_str();
                let sender = if platform {
                    None
                } else {
                    r.get::<_, Option<i64>>(3)
                        .and_then(|s| u32::try_from(s).ok())
                        .map(SenderId)
                };
                let action = match r.get::<_, &str>(4) {
                    "opt_in" => ConsentAction::OptIn,
                    "opt_out" => ConsentAction::OptOut,
                    other => return Err(corrupt(T, seq, format!("action {other:?}"))),
                };
                let own = ledger::by_consumer(r.get::<_, &str>(6));
                f(phone, sender, action, from_micros(T, seq, r.get(5))?, own);
                n += 1;
            }
            Ok(n)
        })
    }
}
