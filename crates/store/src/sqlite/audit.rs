//! The audit chain in SQLite: blocks written in the writer's transaction, verification by
//! recomputing every digest from the stored rows. See [`crate::audit`] for the design.

use rusqlite::{Connection, OptionalExtension, Row, Transaction, params};
use sha2::{Digest, Sha256};

use super::{SqliteStore, corrupt, micros};
use crate::audit::{AuditHead, AuditKind, AuditProof, AuditReport, Broken};
use crate::{AuditLog, StoreError};

/// A record digest.
pub(crate) type Digest32 = [u8; 32];

/// Canonical encoding straight into SHA-256: every field is tagged and length-prefixed, so no
/// two different records encode alike (a `|` in evidence text cannot shift fields).
pub(crate) struct Canon(Sha256);

impl Canon {
    pub fn new(kind: AuditKind) -> Self {
        let mut c = Canon(Sha256::new());
        c.text(kind.as_str());
        c
    }
    pub fn int(&mut self, v: i64) -> &mut Self {
        self.0.update([b'i']);
        self.0.update(v.to_be_bytes());
        self
    }
    pub fn opt_int(&mut self, v: Option<i64>) -> &mut Self {
        match v {
            Some(v) => self.int(v),
            None => {
                self.0.update([b'n']);
                self
            }
        }
    }
    pub fn text(&mut self, s: &str) -> &mut Self {
        self.0.update([b's']);
        self.0.update((s.len() as u64).to_be_bytes());
        self.0.update(s.as_bytes());
        self
    }
    pub fn opt_text(&mut self, s: Option<&str>) -> &mut Self {
        match s {
            Some(s) => self.text(s),
            None => {
                self.0.update([b'n']);
                self
            }
        }
    }
    pub fn finish(self) -> Digest32 {
        self.0.finalize().into()
    }
}

/// The chain's head, kept beside the writer connection and advanced only after a commit.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Chain {
    pub next_seq: i64,
    pub head: Digest32,
    pub records: u64,
}

/// A block written in a transaction that has not committed yet.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Pending {
    seq: i64,
    hash: Digest32,
    count: u64,
}

impl Chain {
    pub fn load(conn: &Connection) -> Result<Self, StoreError> {
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
        Ok(match last {
            Some((seq, hash)) => Chain {
                next_seq: seq + 1,
                head: hash
                    .try_into()
                    .map_err(|_| corrupt("audit_blocks", seq, "hash is not 32 bytes"))?,
                records: u64::try_from(records).unwrap_or(0),
            },
            None => Chain {
                next_seq: 1,
                head: [0; 32],
                records: 0,
            },
        })
    }

    /// Writes the block for `digests` (rows `first_ref..first_ref+n`) inside `tx`.
    pub fn append(
        &self,
        tx: &Transaction<'_>,
        kind: AuditKind,
        first_ref: i64,
        digests: &[Digest32],
        at: jiff::Timestamp,
    ) -> Result<Pending, StoreError> {
        let blob: Vec<u8> = digests.iter().flatten().copied().collect();
        let hash = block_hash(
            &self.head,
            self.next_seq,
            kind,
            first_ref,
            digests.len() as u64,
            &blob,
        );
        tx.prepare_cached(
            "INSERT INTO audit_blocks (seq, kind, first_ref, count, digests, prev, hash, at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )?
        .execute(params![
            self.next_seq,
            kind.as_str(),
            first_ref,
            digests.len() as i64,
            blob,
            self.head.as_slice(),
            hash.as_slice(),
            micros(at)
        ])?;
        Ok(Pending {
            seq: self.next_seq,
            hash,
            count: digests.len() as u64,
        })
    }

    /// Moves the head past a block (in a copy, until its transaction commits).
    pub fn advance(&mut self, p: Pending) {
        self.next_seq = p.seq + 1;
        self.head = p.hash;
        self.records += p.count;
    }
}

fn block_hash(
    prev: &Digest32,
    seq: i64,
    kind: AuditKind,
    first_ref: i64,
    count: u64,
    digests: &[u8],
) -> Digest32 {
    let inner: Digest32 = Sha256::digest(digests).into();
    let mut h = Sha256::new();
    h.update(prev);
    h.update(seq.to_be_bytes());
    h.update((kind.as_str().len() as u64).to_be_bytes());
    h.update(kind.as_str().as_bytes());
    h.update(first_ref.to_be_bytes());
    h.update(count.to_be_bytes());
    h.update(inner);
    h.finalize().into()
}

/// The columns each kind's digest covers, in digest order, and how to digest a row of them.
fn row_sql(kind: AuditKind) -> &'static str {
    match kind {
        AuditKind::ConsentEvent => {
            "SELECT seq, phone, scope, sender_id, action, source, evidence, actor, at, recorded_at
             FROM consent_events WHERE seq BETWEEN ?1 AND ?2 ORDER BY seq"
        }
        AuditKind::Decision => {
            "SELECT id, sender_id, recipient, phone, text, category, status, reasons, submitted_at, release_at, text_hash
             FROM messages WHERE id BETWEEN ?1 AND ?2 ORDER BY id"
        }
        AuditKind::Redecision => {
            "SELECT id, message_id, at, status, reasons FROM redecisions WHERE id BETWEEN ?1 AND ?2 ORDER BY id"
        }
        AuditKind::Sender => {
            "SELECT id, name, signature, source_number, created_at FROM senders WHERE id BETWEEN ?1 AND ?2 ORDER BY id"
        }
        AuditKind::Complaint => super::complaints::COMPLAINT_AUDIT_SQL,
        AuditKind::SuspensionChange => super::complaints::SUSPENSION_AUDIT_SQL,
    }
}

/// Digest of a consent event, from the values bound to its INSERT.
#[allow(clippy::too_many_arguments)]
pub(crate) fn consent_digest(
    phone: i64,
    scope: &str,
    sender: Option<i64>,
    action: &str,
    source: &str,
    evidence: &str,
    actor: &str,
    at: i64,
    recorded_at: i64,
) -> Digest32 {
    let mut c = Canon::new(AuditKind::ConsentEvent);
    c.int(phone)
        .text(scope)
        .opt_int(sender)
        .text(action)
        .text(source);
    c.text(evidence).text(actor).int(at).int(recorded_at);
    c.finish()
}

/// Digest of a message's first decision.
#[allow(clippy::too_many_arguments)]
pub(crate) fn decision_digest(
    sender: i64,
    recipient: &str,
    phone: Option<i64>,
    text: &str,
    category: &str,
    status: &str,
    reasons: &str,
    submitted_at: i64,
    release_at: Option<i64>,
    text_hash: i64,
) -> Digest32 {
    let mut c = Canon::new(AuditKind::Decision);
    c.int(sender)
        .text(recipient)
        .opt_int(phone)
        .text(text)
        .text(category);
    c.text(status)
        .text(reasons)
        .int(submitted_at)
        .opt_int(release_at)
        .int(text_hash);
    c.finish()
}

/// Digest of a later decision.
pub(crate) fn redecision_digest(message: i64, at: i64, status: &str, reasons: &str) -> Digest32 {
    let mut c = Canon::new(AuditKind::Redecision);
    c.int(message).int(at).text(status).text(reasons);
    c.finish()
}

/// Digest of a sender's registration.
pub(crate) fn sender_digest(
    name: &str,
    signature: &str,
    source_number: &str,
    created_at: i64,
) -> Digest32 {
    let mut c = Canon::new(AuditKind::Sender);
    c.text(name)
        .text(signature)
        .text(source_number)
        .int(created_at);
    c.finish()
}

fn row_digest(kind: AuditKind, r: &Row<'_>) -> rusqlite::Result<Digest32> {
    let s = |i: usize| r.get::<_, String>(i);
    Ok(match kind {
        AuditKind::ConsentEvent => consent_digest(
            r.get(1)?,
            &s(2)?,
            r.get(3)?,
            &s(4)?,
            &s(5)?,
            &s(6)?,
            &s(7)?,
            r.get(8)?,
            r.get(9)?,
        ),
        AuditKind::Decision => decision_digest(
            r.get(1)?,
            &s(2)?,
            r.get(3)?,
            &s(4)?,
            &s(5)?,
            &s(6)?,
            &s(7)?,
            r.get(8)?,
            r.get(9)?,
            r.get(10)?,
        ),
        AuditKind::Redecision => redecision_digest(r.get(1)?, r.get(2)?, &s(3)?, &s(4)?),
        AuditKind::Sender => sender_digest(&s(1)?, &s(2)?, &s(3)?, r.get(4)?),
        AuditKind::Complaint => super::complaints::complaint_row_digest(r)?,
        AuditKind::SuspensionChange => super::complaints::suspension_row_digest(r)?,
    })
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
        let mut start = 0;
        while start < rows.len() {
            let mut end = start + 1;
            while end < rows.len() && rows[end].0 == rows[end - 1].0 + 1 {
                end += 1;
            }
            let digests: Vec<Digest32> = rows[start..end].iter().map(|r| r.1).collect();
            let p = chain.append(tx, kind, rows[start].0, &digests, at)?;
            chain.advance(p);
            start = end;
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

struct BlockRow {
    seq: i64,
    kind: String,
    first_ref: i64,
    count: i64,
    digests: Vec<u8>,
    prev: Vec<u8>,
    hash: Vec<u8>,
}

fn block_rows(
    conn: &Connection,
    f: &mut dyn FnMut(BlockRow) -> Result<bool, StoreError>,
) -> Result<(), StoreError> {
    let mut stmt = conn.prepare(
        "SELECT seq, kind, first_ref, count, digests, prev, hash FROM audit_blocks ORDER BY seq",
    )?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        let b = BlockRow {
            seq: r.get(0)?,
            kind: r.get(1)?,
            first_ref: r.get(2)?,
            count: r.get(3)?,
            digests: r.get(4)?,
            prev: r.get(5)?,
            hash: r.get(6)?,
        };
        if !f(b)? {
            break;
        }
    }
    Ok(())
}

fn verify(conn: &Connection) -> Result<AuditReport, StoreError> {
    let mut report = AuditReport {
        blocks: 0,
        records: 0,
        head: hex::encode([0u8; 32]),
        broken: None,
    };
    let mut prev: Digest32 = [0; 32];
    let mut expected_seq = 1;
    // Row ids each kind's blocks cover, to find rows written outside consentry afterwards.
    let mut covered: Vec<(AuditKind, i64, i64, u64)> = Vec::new();
    block_rows(conn, &mut |b| {
        let block = u64::try_from(b.seq).unwrap_or(0);
        let fail = |kind, row, why: String| Broken {
            block,
            kind,
            table: kind.map(AuditKind::table),
            row,
            why,
        };
        let Some(kind) = AuditKind::parse(&b.kind) else {
            report.broken = Some(fail(None, None, format!("unknown kind {:?}", b.kind)));
            return Ok(false);
        };
        if b.seq != expected_seq || b.prev != prev {
            report.broken = Some(fail(
                None,
                None,
                "does not follow the previous block (deleted, inserted or reordered)".into(),
            ));
            return Ok(false);
        }
        let count = usize::try_from(b.count).unwrap_or(0);
        if b.digests.len() != count * 32 {
            report.broken = Some(fail(None, None, "digest list has the wrong length".into()));
            return Ok(false);
        }
        // Each stored row is digested again and compared with the digest taken when it was written.
        let mut stmt = conn.prepare_cached(row_sql(kind))?;
        let mut rows = stmt.query([b.first_ref, b.first_ref + b.count - 1])?;
        let mut expected_row = b.first_ref;
        let mut i = 0;
        while let Some(r) = rows.next()? {
            let id: i64 = r.get(0)?;
            if id != expected_row {
                report.broken = Some(fail(
                    Some(kind),
                    Some(expected_row),
                    "row is missing".into(),
                ));
                return Ok(false);
            }
            let d = row_digest(kind, r)?;
            if d[..] != b.digests[i * 32..(i + 1) * 32] {
                report.broken = Some(fail(
                    Some(kind),
                    Some(id),
                    "stored fields differ from what was recorded".into(),
                ));
                return Ok(false);
            }
            expected_row += 1;
            i += 1;
        }
        if i != count {
            report.broken = Some(fail(
                Some(kind),
                Some(expected_row),
                "row is missing".into(),
            ));
            return Ok(false);
        }
        let hash = block_hash(&prev, b.seq, kind, b.first_ref, count as u64, &b.digests);
        if b.hash != hash {
            report.broken = Some(fail(
                None,
                None,
                "block hash does not match its contents".into(),
            ));
            return Ok(false);
        }
        prev = hash;
        expected_seq += 1;
        report.blocks += 1;
        report.records += count as u64;
        if count > 0 {
            covered.push((kind, b.first_ref, b.first_ref + b.count - 1, block));
        }
        Ok(true)
    })?;
    report.head = hex::encode(prev);
    if report.broken.is_none() {
        report.broken = uncovered_row(conn, &covered)?;
    }
    Ok(report)
}

/// The first row, in any chained table, that no block covers although the chain covered that
/// table's rows before it: a row inserted behind consentry's back (a forged refusal, say), which
/// re-digesting the covered rows alone would never see (session-2 review). Rows older than a
/// table's first covered row (a store from before the chain) are not judged.
fn uncovered_row(
    conn: &Connection,
    covered: &[(AuditKind, i64, i64, u64)],
) -> Result<Option<Broken>, StoreError> {
    for kind in AuditKind::ALL {
        let mut ranges: Vec<(i64, i64, u64)> = covered
            .iter()
            .filter(|(k, ..)| *k == kind)
            .map(|&(_, first, last, block)| (first, last, block))
            .collect();
        if ranges.is_empty() {
            continue;
        }
        ranges.sort_unstable();
        let first = ranges[0].0;
        let id = match kind {
            AuditKind::ConsentEvent => "seq",
            _ => "id",
        };
        let mut stmt = conn.prepare(&format!(
            "SELECT {id} FROM {} WHERE {id} >= ?1 ORDER BY {id}",
            kind.table()
        ))?;
        let mut rows = stmt.query([first])?;
        let mut r = 0;
        while let Some(row) = rows.next()? {
            let id: i64 = row.get(0)?;
            while r < ranges.len() && ranges[r].1 < id {
                r += 1;
            }
            let inside = ranges.get(r).is_some_and(|&(a, b, _)| a <= id && id <= b);
            if !inside {
                let block = ranges.get(r.saturating_sub(1)).map_or(0, |&(.., b)| b);
                return Ok(Some(Broken {
                    block,
                    kind: Some(kind),
                    table: Some(kind.table()),
                    row: Some(id),
                    why: "row is in no audit block (written outside consentry)".into(),
                }));
            }
        }
    }
    Ok(None)
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

    fn verify_audit(&self) -> Result<AuditReport, StoreError> {
        verify(&self.reader.lock())
    }

    fn audit_proof(&self, kind: AuditKind, row: i64) -> Result<Option<AuditProof>, StoreError> {
        let conn = self.reader.lock();
        let found: Option<BlockRow> = conn
            .query_row(
                "SELECT seq, kind, first_ref, count, digests, prev, hash FROM audit_blocks
                 WHERE kind = ?1 AND first_ref <= ?2 AND first_ref + count > ?2",
                params![kind.as_str(), row],
                |r| {
                    Ok(BlockRow {
                        seq: r.get(0)?,
                        kind: r.get(1)?,
                        first_ref: r.get(2)?,
                        count: r.get(3)?,
                        digests: r.get(4)?,
                        prev: r.get(5)?,
                        hash: r.get(6)?,
                    })
                },
            )
            .optional()?;
        let Some(BlockRow {
            seq,
            first_ref: first,
            count,
            digests,
            prev,
            hash,
            ..
        }) = found
        else {
            return Ok(None);
        };
        let all: Vec<String> = digests.chunks(32).map(hex::encode).collect();
        let i = usize::try_from(row - first).unwrap_or(0);
        Ok(Some(AuditProof {
            kind,
            row,
            digest: all.get(i).cloned().unwrap_or_default(),
            block: u64::try_from(seq).unwrap_or(0),
            prev: hex::encode(prev),
            first_row: first,
            count: u64::try_from(count).unwrap_or(0),
            digests: all,
            hash: hex::encode(hash),
        }))
    }
}
