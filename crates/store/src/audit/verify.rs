//! `audit verify`: recompute every record digest and block hash from the stored rows and name
//! the first mismatch. The algorithm is the same for every backend; a backend only lists its
//! blocks and rows ([`ChainSource`]).

use sha2::{Digest, Sha256};

use super::canon::{Digest32, Field, block_hash, digest_columns, row_digest};
use super::credentials::{Credential, Derived, LiveCredential};
use super::{AuditAnchor, AuditKind, AuditLink, AuditProof, AuditReport, Broken, RecordField};
use crate::StoreError;

/// A stored block, as read back.
#[derive(Debug, Clone)]
pub(crate) struct StoredBlock {
    pub seq: i64,
    pub kind: String,
    pub first_ref: i64,
    pub count: i64,
    pub digests: Vec<u8>,
    pub prev: Vec<u8>,
    pub hash: Vec<u8>,
}

impl StoredBlock {
    /// What a third party needs to check that `row` (stored as `fields`) is in this block.
    pub fn proof(self, kind: AuditKind, row: i64, fields: &[Field]) -> AuditProof {
        let all: Vec<String> = self.digests.chunks(32).map(hex::encode).collect();
        let i = usize::try_from(row - self.first_ref).unwrap_or(0);
        AuditProof {
            kind,
            row,
            digest: all.get(i).cloned().unwrap_or_default(),
            block: u64::try_from(self.seq).unwrap_or(0),
            prev: hex::encode(self.prev),
            first_row: self.first_ref,
            count: u64::try_from(self.count).unwrap_or(0),
            digests: all,
            hash: hex::encode(self.hash),
            redacted: false,
            record: digest_columns(kind)
                .split(',')
                .map(str::trim)
                .zip(fields)
                .map(|(column, f)| RecordField {
                    column: column.to_string(),
                    value: match f {
                        Field::Null => serde_json::Value::Null,
                        Field::Int(v) => serde_json::Value::from(*v),
                        Field::Text(t) => serde_json::Value::from(t.as_str()),
                    },
                })
                .collect(),
        }
    }

    /// The block as a link on the way to the head.
    pub fn link(&self) -> AuditLink {
        AuditLink {
            block: u64::try_from(self.seq).unwrap_or(0),
            kind: self.kind.clone(),
            first_row: self.first_ref,
            count: u64::try_from(self.count).unwrap_or(0),
            digests_hash: hex::encode(Sha256::digest(&self.digests)),
            hash: hex::encode(&self.hash),
        }
    }
}

/// Called with each row's id and digested fields; returns `false` to stop.
pub(crate) type RowVisitor<'a> = dyn FnMut(i64, &[Field]) -> Result<bool, StoreError> + 'a;

/// Called with a sender's id, its `suspended` column and its latest chained suspension
/// change's action; returns `false` to stop.
pub(crate) type CacheVisitor<'a> =
    dyn FnMut(i64, bool, Option<&str>) -> Result<bool, StoreError> + 'a;

/// A message's cached current decision beside what the chain says it is.
#[derive(Debug, Clone)]
pub(crate) struct MessageState {
    pub id: i64,
    /// The first decision's status (chained).
    pub status: String,
    /// `current_status`, `current_reasons`: the cache of the latest re-decision.
    pub current: (Option<String>, Option<String>),
    /// The latest chained re-decision's status and reasons, if any.
    pub last: Option<(String, String)>,
    pub delivery: String,
}

/// What a backend lists for the verifier. Each callback returns `false` to stop early.
pub(crate) trait ChainSource {
    /// Every block numbered `from` or later, in chain order.
    fn blocks(
        &self,
        from: i64,
        f: &mut dyn FnMut(StoredBlock) -> Result<bool, StoreError>,
    ) -> Result<(), StoreError>;
    /// The rows of `kind` with ids in `first..=last`, ascending, each as its id and its
    /// [`super::canon::digest_columns`] read as fields.
    fn rows(
        &self,
        kind: AuditKind,
        first: i64,
        last: i64,
        f: &mut RowVisitor<'_>,
    ) -> Result<(), StoreError>;
    /// Every sender's `suspended` column (a cache) with the action of its latest chained
    /// suspension change (`None`: never changed), by id.
    fn suspension_cache(&self, f: &mut CacheVisitor<'_>) -> Result<(), StoreError>;
    /// Every credential change, in id (chain) order, as its action and credential.
    fn credential_changes(&self) -> Result<Vec<(String, Credential)>, StoreError>;
    /// Every live credential: API keys not revoked, SMPP credentials, CMPP accounts.
    fn live_credentials(&self) -> Result<Vec<LiveCredential>, StoreError>;
    /// Every message's [`MessageState`], by id; the callback returns `false` to stop.
    fn message_states(
        &self,
        f: &mut dyn FnMut(MessageState) -> Result<bool, StoreError>,
    ) -> Result<(), StoreError>;
    /// The ids of `kind`'s rows from `first` on, ascending.
    fn ids_from(
        &self,
        kind: AuditKind,
        first: i64,
        f: &mut dyn FnMut(i64) -> Result<bool, StoreError>,
    ) -> Result<(), StoreError>;
}

/// The blocks after `after` up to the head, for an evidence bundle's way to the head.
pub(crate) fn path(src: &dyn ChainSource, after: i64) -> Result<Vec<AuditLink>, StoreError> {
    let mut out = Vec::new();
    src.blocks(after + 1, &mut |b| {
        out.push(b.link());
        Ok(true)
    })?;
    Ok(out)
}

/// Recomputes the chain from what `src` stores, and checks that every head in `anchors` (heads
/// published earlier) is still one of its blocks.
pub(crate) fn verify(
    src: &dyn ChainSource,
    anchors: &[AuditAnchor],
) -> Result<AuditReport, StoreError> {
    let mut report = AuditReport {
        blocks: 0,
        records: 0,
        head: hex::encode([0u8; 32]),
        broken: None,
        anchors_matched: 0,
    };
    // The empty chain's head is every chain's start: an anchor of it is always matched.
    let mut found: Vec<bool> = anchors
        .iter()
        .map(|a| a.blocks == Some(0) || (a.blocks.is_none() && a.hash == report.head))
        .collect();
    let mut prev: Digest32 = [0; 32];
    let mut expected_seq = 1;
    // Row ids each kind's blocks cover, to find rows written outside consentry afterwards.
    let mut covered: Vec<(AuditKind, i64, i64, u64)> = Vec::new();
    src.blocks(1, &mut |b| {
        let block = u64::try_from(b.seq).unwrap_or(0);
        let fail = |kind: Option<AuditKind>, row, why: String| Broken {
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
        let mut expected_row = b.first_ref;
        let mut i = 0;
        let mut broken = None;
        src.rows(
            kind,
            b.first_ref,
            b.first_ref + b.count - 1,
            &mut |id, fields| {
                if id != expected_row {
                    broken = Some(fail(
                        Some(kind),
                        Some(expected_row),
                        "row is missing".into(),
                    ));
                    return Ok(false);
                }
                if row_digest(kind, fields)[..] != b.digests[i * 32..(i + 1) * 32] {
                    broken = Some(fail(
                        Some(kind),
                        Some(id),
                        "stored fields differ from what was recorded".into(),
                    ));
                    return Ok(false);
                }
                expected_row += 1;
                i += 1;
                Ok(true)
            },
        )?;
        if broken.is_none() && i != count {
            broken = Some(fail(
                Some(kind),
                Some(expected_row),
                "row is missing".into(),
            ));
        }
        if broken.is_some() {
            report.broken = broken;
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
        let hex_hash = hex::encode(hash);
        for (a, f) in anchors.iter().zip(found.iter_mut()) {
            if a.hash == hex_hash && a.blocks.is_none_or(|n| n == block) {
                *f = true;
            }
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
        report.broken = uncovered_row(src, &covered)?;
    }
    if report.broken.is_none() {
        report.broken = cache_disagrees(src, report.blocks)?;
    }
    if report.broken.is_none() {
        let mut derived = Derived::default();
        for (action, c) in src.credential_changes()? {
            derived.apply(&action, c);
        }
        report.broken = derived.disagreement(src.live_credentials()?, report.blocks);
    }
    if report.broken.is_none() {
        report.broken = message_state_disagrees(src, report.blocks)?;
    }
    report.anchors_matched = found.iter().filter(|f| **f).count() as u64;
    if report.broken.is_none()
        && let Some((a, _)) = anchors.iter().zip(&found).find(|(_, f)| !**f)
    {
        let at = a
            .blocks
            .map_or_else(String::new, |n| format!(" (block {n})"));
        report.broken = Some(Broken {
            block: a.blocks.unwrap_or(report.blocks),
            kind: None,
            table: None,
            row: None,
            why: format!(
                "anchored head {}{at} is not in the chain: blocks were cut off or rewritten \
                 after it was published",
                a.hash
            ),
        });
    }
    Ok(report)
}

/// The first row, in any chained table, that no block covers: a row inserted behind
/// consentry's back (a forged refusal, say), which re-digesting the covered rows alone would
/// never see (session-2 review). Every row is judged, from the table's first: an emptied
/// `audit_blocks` over full tables, or rows left unchained when a restart began a new chain,
/// are broken, not "from before the chain" (issue #14: deleting every block read as intact).
/// Rows written while `[store] audit = false` read the same way, which is what they are.
fn uncovered_row(
    src: &dyn ChainSource,
    covered: &[(AuditKind, i64, i64, u64)],
) -> Result<Option<Broken>, StoreError> {
    for kind in AuditKind::ALL {
        let mut ranges: Vec<(i64, i64, u64)> = covered
            .iter()
            .filter(|(k, ..)| *k == kind)
            .map(|&(_, first, last, block)| (first, last, block))
            .collect();
        ranges.sort_unstable();
        let mut r = 0;
        let mut found = None;
        src.ids_from(kind, i64::MIN, &mut |id| {
            while r < ranges.len() && ranges[r].1 < id {
                r += 1;
            }
            let inside = ranges.get(r).is_some_and(|&(a, b, _)| a <= id && id <= b);
            if inside {
                return Ok(true);
            }
            let block = ranges.get(r.saturating_sub(1)).map_or(0, |&(.., b)| b);
            found = Some(Broken {
                block,
                kind: Some(kind),
                table: Some(kind.table()),
                row: Some(id),
                why:
                    "row is in no audit block (written outside consentry, or its block was deleted)"
                        .into(),
            });
            Ok(false)
        })?;
        if found.is_some() {
            return Ok(found);
        }
    }
    Ok(None)
}

/// The first sender whose `suspended` column disagrees with its chained suspension history.
/// Decisions never read the column (the store derives suspension from the chained changes),
/// but an edited cache means someone wrote to the database behind consentry's back (issue #14,
/// item 3: `UPDATE senders SET suspended = 0` read as intact).
fn cache_disagrees(src: &dyn ChainSource, blocks: u64) -> Result<Option<Broken>, StoreError> {
    let mut found = None;
    src.suspension_cache(&mut |id, column, last| {
        let derived = crate::complaints::suspended_after(last);
        if column == derived {
            return Ok(true);
        }
        found = Some(Broken {
            block: blocks,
            kind: Some(AuditKind::Sender),
            table: Some("senders"),
            row: Some(id),
            why: format!(
                "suspended = {column}, but its chained suspension changes say {derived} \
                 (latest: {})",
                last.unwrap_or("none")
            ),
        });
        Ok(false)
    })?;
    Ok(found)
}

/// The first message whose cached current decision is not its latest chained (re)decision, or
/// whose chained decision blocked it while its delivery says it went out (issue #14, item 3:
/// `current_status` and `delivery` flipped in SQL read as intact).
fn message_state_disagrees(
    src: &dyn ChainSource,
    blocks: u64,
) -> Result<Option<Broken>, StoreError> {
    let mut found = None;
    src.message_states(&mut |m| {
        let why = match (&m.last, &m.current) {
            (None, (None, None)) => None,
            (None, (status, _)) => Some(format!(
                "current_status = {}, but no chained re-decision exists",
                status.as_deref().unwrap_or("NULL")
            )),
            (Some((s, r)), (Some(cs), Some(cr))) if s == cs && r == cr => None,
            (Some((s, _)), (cs, _)) => Some(format!(
                "current_status/current_reasons ({}) differ from its latest chained \
                 re-decision ({s})",
                cs.as_deref().unwrap_or("NULL")
            )),
        };
        let decided = m
            .last
            .as_ref()
            .map_or(m.status.as_str(), |(s, _)| s.as_str());
        let why = why.or_else(|| {
            (decided == "rejected" && m.delivery != "not_sent").then(|| {
                format!(
                    "delivery = {}, but its chained decision rejected it",
                    m.delivery
                )
            })
        });
        let Some(why) = why else {
            return Ok(true);
        };
        found = Some(Broken {
            block: blocks,
            kind: Some(AuditKind::Decision),
            table: Some("messages"),
            row: Some(m.id),
            why,
        });
        Ok(false)
    })?;
    Ok(found)
}
