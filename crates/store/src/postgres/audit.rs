//! The audit chain on PostgreSQL. The head is a row (`audit_heads`) that the appending
//! transaction locks `FOR UPDATE`, so every node appends to one chain in one order and the head
//! moves only when that transaction commits. Verification is the backend-neutral
//! [`crate::audit::verify`] over rows read here, in pages (the verifier's callbacks nest, and
//! one store call cannot run inside another).

use tokio_postgres::types::Type;

use super::{PgStore, micros, pg_err};
use crate::audit::canon::{Digest32, Field, digest_columns, id_column};
use crate::audit::chain::{Chain, runs};
use crate::audit::credentials::{Credential, LiveCredential};
use crate::audit::verify::{
    CacheVisitor, ChainSource, MessageState, RowVisitor, StoredBlock, path, verify,
};
use crate::audit::{AuditAnchor, AuditHead, AuditKind, AuditLink, AuditProof, AuditReport};
use crate::{AuditLog, StoreError};

/// The one chain every node appends to today.
const CHAIN: i32 = 0;
/// Rows fetched per page while verifying.
const PAGE: i64 = 5_000;

impl PgStore {
    /// Chains `rows` (row id, digest) written in `tx`, one block per run of consecutive ids.
    pub(crate) async fn chain_records(
        &self,
        tx: &deadpool_postgres::Transaction<'_>,
        kind: AuditKind,
        rows: &[(i64, Digest32)],
        at: jiff::Timestamp,
    ) -> Result<(), StoreError> {
        if !self.audit || rows.is_empty() {
            return Ok(());
        }
        let blocks: Vec<(AuditKind, i64, Vec<Digest32>)> = runs(rows)
            .into_iter()
            .map(|(first, d)| (kind, first, d))
            .collect();
        append(tx, &blocks, at).await
    }

    /// Chains the records of one transaction in order, each its own block (a complaint and the
    /// suspension it caused).
    pub(crate) async fn chain_in_order(
        &self,
        tx: &deadpool_postgres::Transaction<'_>,
        records: &[(AuditKind, i64, Digest32)],
        at: jiff::Timestamp,
    ) -> Result<(), StoreError> {
        if !self.audit || records.is_empty() {
            return Ok(());
        }
        let blocks: Vec<(AuditKind, i64, Vec<Digest32>)> = records
            .iter()
            .map(|(kind, row, d)| (*kind, *row, vec![*d]))
            .collect();
        append(tx, &blocks, at).await
    }
}

/// Locks the head, writes `blocks` after it and moves it, all inside `tx`. Called last in a
/// transaction (or awaited together with its last writes, whose statements are then sent
/// before the lock's), so the head stays locked only for the blocks, its move and the commit.
async fn append(
    tx: &deadpool_postgres::Transaction<'_>,
    blocks: &[(AuditKind, i64, Vec<Digest32>)],
    at: jiff::Timestamp,
) -> Result<(), StoreError> {
    let lock = tx
        .prepare_cached(
            "SELECT next_seq, head, records FROM audit_heads WHERE chain = $1 FOR UPDATE",
        )
        .await
        .map_err(pg_err)?;
    let head = tx.query_one(&lock, &[&CHAIN]).await.map_err(pg_err)?;
    let next: i64 = head.get(0);
    let mut chain = Chain::after(next - 1, head.get(1), head.get(2))?;
    let insert = tx
        .prepare_cached(
            "INSERT INTO audit_blocks (chain, seq, kind, first_ref, count, digests, prev, hash, at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .await
        .map_err(pg_err)?;
    let advance = tx
        .prepare_cached(
            "UPDATE audit_heads SET next_seq = $2, head = $3, records = $4 WHERE chain = $1",
        )
        .await
        .map_err(pg_err)?;
    let built: Vec<_> = blocks
        .iter()
        .map(|(kind, first, digests)| {
            let b = chain.block(*kind, *first, digests);
            chain.advance(&b);
            b
        })
        .collect();
    let (at, records) = (micros(at), i64::try_from(chain.records).unwrap_or(i64::MAX));
    // The blocks and the head's move in one round trip (pipelined, applied in order).
    let (insert, at) = (&insert, &at);
    let writes = built.iter().map(|b| async move {
        tx.execute(
            insert,
            &[
                &CHAIN,
                &b.seq,
                &b.kind.as_str(),
                &b.first_ref,
                &b.count,
                &b.digests,
                &b.prev.as_slice(),
                &b.hash.as_slice(),
                at,
            ],
        )
        .await
    });
    let head = chain.head.as_slice();
    let moved: [&(dyn tokio_postgres::types::ToSql + Sync); 4] =
        [&CHAIN, &chain.next_seq, &head, &records];
    futures_util::try_join!(
        futures_util::future::try_join_all(writes),
        tx.execute(&advance, &moved),
    )
    .map_err(pg_err)?;
    Ok(())
}

fn stored_block(r: &tokio_postgres::Row) -> StoredBlock {
    StoredBlock {
        seq: r.get(0),
        kind: r.get(1),
        first_ref: r.get(2),
        count: r.get(3),
        digests: r.get(4),
        prev: r.get(5),
        hash: r.get(6),
    }
}

/// A chained column's value as the canonical form sees it.
fn field(r: &tokio_postgres::Row, i: usize) -> Field {
    let ty = r.columns()[i].type_();
    if *ty == Type::INT8 {
        r.get::<_, Option<i64>>(i).map_or(Field::Null, Field::Int)
    } else if *ty == Type::INT4 {
        r.get::<_, Option<i32>>(i)
            .map_or(Field::Null, |v| Field::Int(i64::from(v)))
    } else {
        match r.try_get::<_, Option<String>>(i) {
            Ok(v) => v.map_or(Field::Null, Field::Text),
            // A column whose type was changed behind consentry's back cannot match a digest.
            Err(_) => Field::Text(format!("unreadable {ty}")),
        }
    }
}

impl ChainSource for PgStore {
    fn blocks(
        &self,
        from: i64,
        f: &mut dyn FnMut(StoredBlock) -> Result<bool, StoreError>,
    ) -> Result<(), StoreError> {
        let mut after = from.saturating_sub(1);
        loop {
            let page = self.run(async |c| {
                let rows = c
                    .query(
                        "SELECT seq, kind, first_ref, count, digests, prev, hash FROM audit_blocks
                         WHERE chain = $1 AND seq > $2 ORDER BY seq LIMIT $3",
                        &[&CHAIN, &after, &PAGE],
                    )
                    .await
                    .map_err(pg_err)?;
                Ok(rows.iter().map(stored_block).collect::<Vec<_>>())
            })?;
            let Some(last) = page.last().map(|b| b.seq) else {
                return Ok(());
            };
            for b in page {
                if !f(b)? {
                    return Ok(());
                }
            }
            after = last;
        }
    }

    fn rows(
        &self,
        kind: AuditKind,
        first: i64,
        last: i64,
        f: &mut RowVisitor<'_>,
    ) -> Result<(), StoreError> {
        let id = id_column(kind);
        let sql = format!(
            "SELECT {id}, {} FROM {} WHERE {id} BETWEEN $1 AND $2 ORDER BY {id}",
            digest_columns(kind),
            kind.table()
        );
        let rows = self.run(async |c| {
            let rows = c.query(&sql, &[&first, &last]).await.map_err(pg_err)?;
            Ok(rows
                .iter()
                .map(|r| {
                    let fields: Vec<Field> = (1..r.len()).map(|i| field(r, i)).collect();
                    (r.get::<_, i64>(0), fields)
                })
                .collect::<Vec<_>>())
        })?;
        for (id, fields) in rows {
            if !f(id, &fields)? {
                break;
            }
        }
        Ok(())
    }

    fn suspension_cache(&self, f: &mut CacheVisitor<'_>) -> Result<(), StoreError> {
        let sql = format!(
            "SELECT id, suspended, {} FROM senders ORDER BY id",
            crate::complaints::LAST_SUSPENSION_ACTION
        );
        let rows: Vec<(i64, bool, Option<String>)> = self.run(async |c| {
            let rows = c.query(&sql, &[]).await.map_err(pg_err)?;
            Ok(rows
                .iter()
                .map(|r| (r.get(0), r.get(1), r.get(2)))
                .collect())
        })?;
        for (id, column, last) in rows {
            if !f(id, column, last.as_deref())? {
                break;
            }
        }
        Ok(())
    }

    fn credential_changes(&self) -> Result<Vec<(String, Credential)>, StoreError> {
        PgStore::credential_changes(self)
    }

    fn live_credentials(&self) -> Result<Vec<LiveCredential>, StoreError> {
        self.live_credential_rows()
    }

    fn message_states(
        &self,
        f: &mut dyn FnMut(MessageState) -> Result<bool, StoreError>,
    ) -> Result<(), StoreError> {
        let mut after = i64::MIN;
        loop {
            let page: Vec<MessageState> = self.run(async |c| {
                let rows = c
                    .query(
                        "SELECT m.id, m.status, m.current_status, m.current_reasons, r.status,
                                r.reasons, m.delivery
                         FROM messages m LEFT JOIN LATERAL
                             (SELECT x.status, x.reasons FROM redecisions x
                              WHERE x.message_id = m.id ORDER BY x.id DESC LIMIT 1) r ON true
                         WHERE m.id > $1 ORDER BY m.id LIMIT $2",
                        &[&after, &PAGE],
                    )
                    .await
                    .map_err(pg_err)?;
                Ok(rows
                    .iter()
                    .map(|r| {
                        let last: (Option<String>, Option<String>) = (r.get(4), r.get(5));
                        MessageState {
                            id: r.get(0),
                            status: r.get(1),
                            current: (r.get(2), r.get(3)),
                            last: last.0.zip(last.1),
                            delivery: r.get(6),
                        }
                    })
                    .collect())
            })?;
            let Some(last) = page.last().map(|m| m.id) else {
                return Ok(());
            };
            for m in page {
                if !f(m)? {
                    return Ok(());
                }
            }
            after = last;
        }
    }

    fn ids_from(
        &self,
        kind: AuditKind,
        first: i64,
        f: &mut dyn FnMut(i64) -> Result<bool, StoreError>,
    ) -> Result<(), StoreError> {
        let id = id_column(kind);
        let sql = format!(
            "SELECT {id} FROM {} WHERE {id} >= $1 ORDER BY {id} LIMIT $2",
            kind.table()
        );
        let mut from = first;
        loop {
            let page: Vec<i64> = self.run(async |c| {
                let rows = c.query(&sql, &[&from, &PAGE]).await.map_err(pg_err)?;
                Ok(rows.iter().map(|r| r.get(0)).collect())
            })?;
            let Some(&last) = page.last() else {
                return Ok(());
            };
            for id in page {
                if !f(id)? {
                    return Ok(());
                }
            }
            from = last + 1;
        }
    }
}

impl AuditLog for PgStore {
    fn audit_head(&self) -> Result<AuditHead, StoreError> {
        self.run(async |c| {
            let r = c
                .query_one(
                    "SELECT next_seq, head, records FROM audit_heads WHERE chain = $1",
                    &[&CHAIN],
                )
                .await
                .map_err(pg_err)?;
            let next: i64 = r.get(0);
            let head: Vec<u8> = r.get(1);
            Ok(AuditHead {
                blocks: u64::try_from(next - 1).unwrap_or(0),
                records: u64::try_from(r.get::<_, i64>(2)).unwrap_or(0),
                hash: hex::encode(head),
            })
        })
    }

    fn verify_audit_against(&self, anchors: &[AuditAnchor]) -> Result<AuditReport, StoreError> {
        verify(self, anchors)
    }

    fn audit_path(&self, after: u64) -> Result<Vec<AuditLink>, StoreError> {
        path(self, i64::try_from(after).unwrap_or(i64::MAX))
    }

    fn audit_proof(&self, kind: AuditKind, row: i64) -> Result<Option<AuditProof>, StoreError> {
        let found = self.run(async |c| {
            let found = c
                .query_opt(
                    "SELECT seq, kind, first_ref, count, digests, prev, hash FROM audit_blocks
                     WHERE chain = $1 AND kind = $2 AND first_ref <= $3 AND first_ref + count > $3",
                    &[&CHAIN, &kind.as_str(), &row],
                )
                .await
                .map_err(pg_err)?;
            Ok(found.map(|r| stored_block(&r)))
        })?;
        let Some(block) = found else {
            return Ok(None);
        };
        let mut fields = Vec::new();
        self.rows(kind, row, row, &mut |_, f| {
            fields = f.to_vec();
            Ok(false)
        })?;
        Ok(Some(block.proof(kind, row, &fields)))
    }
}
