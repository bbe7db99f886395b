//! The chain's head and the blocks appended to it, independent of where they are stored.

use super::AuditKind;
use super::canon::{Digest32, block_hash};
use crate::StoreError;

/// The chain's head: the next block's number, the newest block's hash, records chained.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Chain {
    pub next_seq: i64,
    pub head: Digest32,
    pub records: u64,
}

impl Chain {
    /// The head of an empty chain.
    pub const EMPTY: Chain = Chain {
        next_seq: 1,
        head: [0; 32],
        records: 0,
    };

    /// The head after the newest stored block (`seq`, `hash`) with `records` chained in all.
    pub fn after(seq: i64, hash: Vec<u8>, records: i64) -> Result<Self, StoreError> {
        Ok(Chain {
            next_seq: seq + 1,
            head: hash.try_into().map_err(|_| StoreError::Corrupt {
                table: "audit_blocks",
                row: seq,
                why: "hash is not 32 bytes".into(),
            })?,
            records: u64::try_from(records).unwrap_or(0),
        })
    }

    /// The block that chains `digests` (rows `first_ref..first_ref+n`) after this head.
    pub fn block(&self, kind: AuditKind, first_ref: i64, digests: &[Digest32]) -> Block {
        let blob: Vec<u8> = digests.iter().flatten().copied().collect();
        let hash = block_hash(
            &self.head,
            self.next_seq,
            kind,
            first_ref,
            digests.len() as u64,
            &blob,
        );
        Block {
            seq: self.next_seq,
            kind,
            first_ref,
            count: digests.len() as i64,
            digests: blob,
            prev: self.head,
            hash,
        }
    }

    /// Moves the head past `b` (in a copy, until the transaction that wrote it commits).
    pub fn advance(&mut self, b: &Block) {
        self.next_seq = b.seq + 1;
        self.head = b.hash;
        self.records += u64::try_from(b.count).unwrap_or(0);
    }
}

/// A block to write: what `audit_blocks` stores.
#[derive(Debug, Clone)]
pub(crate) struct Block {
    pub seq: i64,
    pub kind: AuditKind,
    pub first_ref: i64,
    pub count: i64,
    pub digests: Vec<u8>,
    pub prev: Digest32,
    pub hash: Digest32,
}

/// Splits one transaction's `(row id, digest)` pairs into runs of consecutive ids: one block
/// each (a block names its rows by the first id and a count).
pub(crate) fn runs(rows: &[(i64, Digest32)]) -> Vec<(i64, Vec<Digest32>)> {
    let mut out = Vec::new();
    let mut start = 0;
    while start < rows.len() {
        let mut end = start + 1;
        while end < rows.len() && rows[end].0 == rows[end - 1].0 + 1 {
            end += 1;
        }
        out.push((
            rows[start].0,
            rows[start..end].iter().map(|r| r.1).collect(),
        ));
        start = end;
    }
    out
}
