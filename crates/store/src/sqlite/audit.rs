//! The audit chain in SQLite: blocks written in the writer's transaction; verification by the
//! backend-neutral [`crate::audit::verify`] over the rows read here. See [`crate::audit`].

use rusqlite::types::ValueRef;
use rusqlite::{Connection, OptionalExtension, Transaction, params};

use super::{SqliteStore, micros};
use crate::audit::canon::{Digest32, Field, digest_columns, id_column};
use crate::audit::chain::{Chain, runs};
use crate::audit::credentials::{Credential, LiveCredential};
use crate::audit::verify::{
    CacheVisitor, ChainSource, MessageState, RowVisitor, StoredBlock, path, verify,
};
use crate::audit::{AuditAnchor, AuditHead, AuditKind, AuditLink, AuditProof, AuditReport};
use crate::{AuditLog, StoreError};

/// Reads the chain's head from the newest block.
pub(crate) fn load_chain(conn: &Connection) -> Result<Chain, StoreError> {
    let last: Option<(i64, Vec<u8>)> = conn
        .query_row(
            "SELECT seq, hash FROM audit_blocks ORDER BY seq DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let records: i64 = conn.query_row(
        "SELECT coalesce(sum(count), 0) FROM audit_blocks",
        [],
        |r| r.get(0),
    )?;
    match last {
        Some((seq, hash)) => Chain::after(seq, hash, records),
        None => Ok(Chain::EMPTY),
    }
}

/// Writes the block chaining `digests` after `chain` inside `tx`, and advances `chain`.
fn append(
    tx: &Transaction<'_>,
    chain: &mut Chain,
    kind: AuditKind,
    first_ref: i64,
    digests: &[Digest32],
    at: jiff::Timestamp,
) -> Result<(), StoreError> {
    let b = chain.block(kind, first_ref, digests);
    tx.prepare_cached(
        "INSERT INTO audit_blocks (seq, kind, first_ref, count, digests, prev, hash, at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![
        b.seq,
        b.kind.as_str(),
        b.first_ref,
        b.count,
        b.digests,
        b.prev.as_slice(),
        b.hash.as_slice(),
        micros(at)
    ])?;
    chain.advance(&b);
    Ok(())
}

impl SqliteStore {
    /// Chains `rows` (row id, digest) written in `tx`, one block per run of consecutive ids.
    /// Returns the chain head to install once `tx` has committed ([`Self::install_chain`]).
    /// Call while holding the writer connection.
    pub(crate) fn chain_records(
        &self,
        tx: &Transaction<'_>,
        kind: AuditKind,
        rows: &[(i64, Digest32)],
        at: jiff::Timestamp,
    ) -> Result<Option<Chain>, StoreError> {
        if !self.audit || rows.is_empty() {
            return Ok(None);
        }
        let mut chain = *self.chain.lock();
        for (first, digests) in runs(rows) {
            append(tx, &mut chain, kind, first, &digests, at)?;
        }
        Ok(Some(chain))
    }

    /// Chains the records of one transaction, in order, each its own block (a complaint and
    /// the suspension it caused go in the same transaction, so the chain is advanced in a copy
    /// across both and installed once the commit succeeded).
    pub(crate) fn chain_in_order(
        &self,
        tx: &Transaction<'_>,
        records: &[(AuditKind, i64, Digest32)],
        at: jiff::Timestamp,
    ) -> Result<Option<Chain>, StoreError> {
        if !self.audit || records.is_empty() {
            return Ok(None);
        }
        let mut chain = *self.chain.lock();
        for (kind, row, digest) in records {
            append(tx, &mut chain, *kind, *row, &[*digest], at)?;
        }
        Ok(Some(chain))
    }

    /// Installs the head returned by [`Self::chain_records`] after the commit succeeded.
    pub(crate) fn install_chain(&self, chain: Option<Chain>) {
        if let Some(c) = chain {
            *self.chain.lock() = c;
        }
    }
}

fn stored_block(r: &rusqlite::Row<'_>) -> rusqlite::Result<StoredBlock> {
    Ok(StoredBlock {
        seq: r.get(0)?,
        kind: r.get(1)?,
        first_ref: r.get(2)?,
        count: r.get(3)?,
        digests: r.get(4)?,
        prev: r.get(5)?,
        hash: r.get(6)?,
    })
}

/// A reader connection as the verifier's [`ChainSource`].
struct Source<'a>(&'a Connection);

impl ChainSource for Source<'_> {
    fn blocks(
        &self,
        from: i64,
        f: &mut dyn FnMut(StoredBlock) -> Result<bool, StoreError>,
    ) -> Result<(), StoreError> {
        let mut stmt = self.0.prepare(
            "SELECT seq, kind, first_ref, count, digests, prev, hash FROM audit_blocks
             WHERE seq >= ?1 ORDER BY seq",
        )?;
        let mut rows = stmt.query([from])?;
        while let Some(r) = rows.next()? {
            if !f(stored_block(r)?)? {
                break;
            }
        }
        Ok(())
    }

    fn rows(
        &self,
        kind: AuditKind,
        first: i64,
        last: i64,
        f: &mut RowVisitor<'_>,
    ) -> Result<(), StoreError> {
        let id = id_column(kind);
        let mut stmt = self.0.prepare_cached(&format!(
            "SELECT {id}, {} FROM {} WHERE {id} BETWEEN ?1 AND ?2 ORDER BY {id}",
            digest_columns(kind),
            kind.table()
        ))?;
        let n = stmt.column_count();
        let mut rows = stmt.query([first, last])?;
        let mut fields = Vec::with_capacity(n);
        while let Some(r) = rows.next()? {
            fields.clear();
            for i in 1..n {
                fields.push(match r.get_ref(i)? {
                    ValueRef::Null => Field::Null,
                    ValueRef::Integer(v) => Field::Int(v),
                    ValueRef::Text(t) => Field::Text(String::from_utf8_lossy(t).into_owned()),
                    // Chained columns are integers and texts; anything else was written behind
                    // consentry's back and cannot match a digest.
                    ValueRef::Real(v) => Field::Text(format!("real {v}")),
                    ValueRef::Blob(b) => Field::Text(format!("blob {}", hex::encode(b))),
                });
            }
            if !f(r.get(0)?, &fields)? {
                break;
            }
        }
        Ok(())
    }

    fn suspension_cache(&self, f: &mut CacheVisitor<'_>) -> Result<(), StoreError> {
        let mut stmt = self.0.prepare(&format!(
            "SELECT id, suspended, {} FROM senders ORDER BY id",
            crate::complaints::LAST_SUSPENSION_ACTION
        ))?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let last: Option<String> = r.get(2)?;
            if !f(r.get(0)?, r.get(1)?, last.as_deref())? {
                break;
            }
        }
        Ok(())
    }

    fn credential_changes(&self) -> Result<Vec<(String, Credential)>, StoreError> {
        super::keys::credential_changes(self.0)
    }

    fn live_credentials(&self) -> Result<Vec<LiveCredential>, StoreError> {
        super::keys::live_credentials(self.0)
    }

    fn message_states(
        &self,
        f: &mut dyn FnMut(MessageState) -> Result<bool, StoreError>,
    ) -> Result<(), StoreError> {
        let mut stmt = self.0.prepare(
            "SELECT m.id, m.status, m.current_status, m.current_reasons, r.status, r.reasons,
                    m.delivery
             FROM messages m LEFT JOIN redecisions r ON r.id =
                 (SELECT max(x.id) FROM redecisions x WHERE x.message_id = m.id)
             ORDER BY m.id",
        )?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let last: (Option<String>, Option<String>) = (r.get(4)?, r.get(5)?);
            let state = MessageState {
                id: r.get(0)?,
                status: r.get(1)?,
                current: (r.get(2)?, r.get(3)?),
                last: last.0.zip(last.1),
                delivery: r.get(6)?,
            };
            if !f(state)? {
                break;
            }
        }
        Ok(())
    }

    fn ids_from(
        &self,
        kind: AuditKind,
        first: i64,
        f: &mut dyn FnMut(i64) -> Result<bool, StoreError>,
    ) -> Result<(), StoreError> {
        let id = id_column(kind);
        let mut stmt = self.0.prepare(&format!(
            "SELECT {id} FROM {} WHERE {id} >= ?1 ORDER BY {id}",
            kind.table()
        ))?;
        let mut rows = stmt.query([first])?;
        while let Some(r) = rows.next()? {
            if !f(r.get(0)?)? {
                break;
            }
        }
        Ok(())
    }
}

impl AuditLog for SqliteStore {
    fn audit_head(&self) -> Result<AuditHead, StoreError> {
        let chain = *self.chain.lock();
        Ok(AuditHead {
            blocks: u64::try_from(chain.next_seq - 1).unwrap_or(0),
            records: chain.records,
            hash: hex::encode(chain.head),
        })
    }

    fn verify_audit_against(&self, anchors: &[AuditAnchor]) -> Result<AuditReport, StoreError> {
        verify(&Source(&self.reader.lock()), anchors)
    }

    fn audit_path(&self, after: u64) -> Result<Vec<AuditLink>, StoreError> {
        path(
            &Source(&self.reader.lock()),
            i64::try_from(after).unwrap_or(i64::MAX),
        )
    }

    fn audit_proof(&self, kind: AuditKind, row: i64) -> Result<Option<AuditProof>, StoreError> {
        let conn = self.reader.lock();
        let found = conn
            .query_row(
                "SELECT seq, kind, first_ref, count, digests, prev, hash FROM audit_blocks
                 WHERE kind = ?1 AND first_ref <= ?2 AND first_ref + count > ?2",
                params![kind.as_str(), row],
                stored_block,
            )
            .optional()?;
        let Some(block) = found else {
            return Ok(None);
        };
        let mut fields = Vec::new();
        Source(&conn).rows(kind, row, row, &mut |_, f| {
            fields = f.to_vec();
            Ok(false)
        })?;
        Ok(Some(block.proof(kind, row, &fields)))
    }
}
