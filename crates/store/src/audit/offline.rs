//! Checking audit proofs without a database: what `consentry evidence verify` runs for a
//! regulator who holds an evidence bundle and a head published earlier, and nothing else.
//!
//! Three steps, each recomputed from the bundle alone:
//! 1. each record's digest from its stored columns ([`AuditProof::record`]), found at its place
//!    in its block's digest list, and the block's hash from the list ([`check_proof`]);
//! 2. the blocks after the proofs' blocks, one hash after the other, up to the head the bundle
//!    names ([`follow`]);
//! 3. the anchored head found on that way, at or after every proof's block ([`anchored`]).
//!
//! ```
//! use store::audit::offline;
//! assert!(offline::follow(&[], &[], None).is_err()); // nothing proves nothing
//! ```

use super::canon::{Digest32, Field, block_hash, block_hash_of_inner, digest_columns, row_digest};
use super::{AuditAnchor, AuditHead, AuditKind, AuditLink, AuditProof};

fn digest_of_hex(what: &str, s: &str) -> Result<Digest32, String> {
    let v = hex::decode(s).map_err(|_| format!("{what} is not hexadecimal"))?;
    v.try_into()
        .map_err(|_| format!("{what} is not 32 bytes long"))
}

fn field(v: &serde_json::Value) -> Result<Field, String> {
    match v {
        serde_json::Value::Null => Ok(Field::Null),
        serde_json::Value::String(s) => Ok(Field::Text(s.clone())),
        serde_json::Value::Number(n) => n
            .as_i64()
            .map(Field::Int)
            .ok_or_else(|| format!("{n} is not a stored integer")),
        other => Err(format!("{other} is not a stored value")),
    }
}

/// Checks one proof on its own: the record's digest recomputed from its columns, its place in
/// the block's digest list, and the block's hash recomputed from the list. A proof marked
/// [`AuditProof::redacted`] skips the first step (its record was masked for a merchant): the
/// digest is still found at its place and the block still chained.
pub fn check_proof(p: &AuditProof) -> Result<(), String> {
    let name = format!("{} row {}", p.kind.table(), p.row);
    let columns: Vec<&str> = digest_columns(p.kind).split(',').map(str::trim).collect();
    let given: Vec<&str> = p.record.iter().map(|f| f.column.as_str()).collect();
    // Bundles made before a decision's content scores were chained lack that last column;
    // without it the digest is the same as with it empty (see `canon::row_digest`).
    let before_scores = p.kind == AuditKind::Decision && given[..] == columns[..columns.len() - 1];
    if given != columns && !before_scores {
        return Err(format!(
            "{name}: the record's columns are {given:?}, a {} record has {columns:?}",
            p.kind.as_str()
        ));
    }
    let fields = p
        .record
        .iter()
        .map(|f| field(&f.value).map_err(|e| format!("{name}, column {}: {e}", f.column)))
        .collect::<Result<Vec<_>, _>>()?;
    let digest = row_digest(p.kind, &fields);
    if !p.redacted && hex::encode(digest) != p.digest {
        return Err(format!(
            "{name}: its stored columns do not digest to the digest the chain recorded"
        ));
    }
    if u64::try_from(p.digests.len()).ok() != Some(p.count) {
        return Err(format!(
            "{name}: block {} lists {} digests for {} records",
            p.block,
            p.digests.len(),
            p.count
        ));
    }
    let place = p
        .row
        .checked_sub(p.first_row)
        .and_then(|i| usize::try_from(i).ok());
    if place.and_then(|i| p.digests.get(i)) != Some(&p.digest) {
        return Err(format!(
            "{name}: block {} does not hold its digest at its place",
            p.block
        ));
    }
    let mut blob = Vec::with_capacity(p.digests.len() * 32);
    for d in &p.digests {
        blob.extend_from_slice(&digest_of_hex("a block digest", d)?);
    }
    let prev = digest_of_hex("the previous hash", &p.prev)?;
    let seq = i64::try_from(p.block).map_err(|_| format!("{name}: block number too large"))?;
    let hash = block_hash(&prev, seq, p.kind, p.first_row, p.count, &blob);
    if hex::encode(hash) != p.hash {
        return Err(format!(
            "{name}: block {}'s hash does not match its contents",
            p.block
        ));
    }
    Ok(())
}

/// Follows the chain from the proofs' blocks through `path` (every block after the oldest
/// proof's, in order) and returns each block's hash on the way, `(block, hash)`, ending at the
/// head. Each proof must sit on that way, and the way must end at `head` when one is given.
pub fn follow(
    proofs: &[AuditProof],
    path: &[AuditLink],
    head: Option<&AuditHead>,
) -> Result<Vec<(u64, String)>, String> {
    let Some(first) = proofs.iter().min_by_key(|p| p.block) else {
        return Err("no audit proof: nothing to check".into());
    };
    let mut way = vec![(first.block, first.hash.clone())];
    let mut prev = digest_of_hex("a block hash", &first.hash)?;
    for link in path {
        let (seq, _) = way[way.len() - 1];
        if link.block != seq + 1 {
            return Err(format!(
                "the way to the head jumps from block {seq} to block {}",
                link.block
            ));
        }
        let kind = AuditKind::parse(&link.kind)
            .ok_or_else(|| format!("block {}: unknown kind {:?}", link.block, link.kind))?;
        let inner = digest_of_hex("a digest list hash", &link.digests_hash)?;
        let block = i64::try_from(link.block).map_err(|_| "block number too large".to_string())?;
        let hash = block_hash_of_inner(&prev, block, kind, link.first_row, link.count, &inner);
        if hex::encode(hash) != link.hash {
            return Err(format!(
                "block {}: its hash does not follow from the block before it",
                link.block
            ));
        }
        prev = hash;
        way.push((link.block, link.hash.clone()));
    }
    for p in proofs {
        let on_way = way.iter().any(|(b, h)| *b == p.block && *h == p.hash);
        if !on_way {
            return Err(format!(
                "{} row {}: its block {} is not on the way to the head",
                p.kind.table(),
                p.row,
                p.block
            ));
        }
    }
    if let Some(head) = head {
        let (seq, hash) = &way[way.len() - 1];
        if *seq != head.blocks || *hash != head.hash {
            return Err(format!(
                "the way ends at block {seq} ({hash}), the bundle names head block {} ({})",
                head.blocks, head.hash
            ));
        }
    }
    Ok(way)
}

/// Whether `anchor` (a head the checker trusts) lies on `way` at or after block `newest`
/// (the newest block holding a proven record): then every proven record was in the chain when
/// the anchor was published, and cannot have been rewritten since.
pub fn anchored(way: &[(u64, String)], anchor: &AuditAnchor, newest: u64) -> Result<u64, String> {
    let hit = way
        .iter()
        .find(|(b, h)| *h == anchor.hash && anchor.blocks.is_none_or(|n| n == *b));
    match hit {
        Some((b, _)) if *b >= newest => Ok(*b),
        Some((b, _)) => Err(format!(
            "the anchored head is block {b}, older than block {newest} holding a proven record: \
             check against a head published after the record"
        )),
        None => Err(format!(
            "the anchored head {} is not on the way from the proofs to the bundle's head: the \
             chain was rewritten, or the anchor is from another chain",
            anchor.hash
        )),
    }
}
