//! Evidence bundles: one JSON document a third party can check without access to consentry.
//!
//! The bundle holds the complaint with the verdict and findings computed when it was filed, the
//! ledger events and decision they rest on (as stored), and the audit chain's proofs for those
//! records with the head hash at the time of export. Each proof carries the record's chained
//! columns as stored, and the bundle carries every block from the oldest proof's to the head
//! (`audit.path`), so a regulator who anchored a head can recompute each record's digest,
//! check it against its block's digest list, and follow the block hashes to that head with no
//! database: `consentry evidence verify FILE --head HEAD` (`store::audit::offline`).

use domain::Timestamp;
use serde::Serialize;
use store::{
    AuditHead, AuditKind, AuditLink, AuditLog, AuditProof, ComplaintLog, ComplaintRecord,
    MessageLog, MessageRecord, SuspensionRecord,
};

use crate::{Gateway, GatewayError, Principal};

/// The format name and version of the bundle.
pub const EVIDENCE_FORMAT: &str = "consentry-evidence/2";

/// The sender as it stands at export.
#[derive(Debug, Clone, Serialize)]
pub struct SenderAtExport {
    /// Id.
    pub id: u32,
    /// Name.
    pub name: String,
    /// Its reply number.
    pub source_number: String,
    /// Suspended at export.
    pub suspended: bool,
}

/// Where the evidence sits in the audit chain.
#[derive(Debug, Clone, Serialize)]
pub struct AuditSection {
    /// The chain's head at export: compare with an anchored copy.
    pub head: AuditHead,
    /// A proof per chained record the verdict rests on (the message's decision, each ledger
    /// event, the complaint and its suspension when they are chained).
    pub proofs: Vec<AuditProof>,
    /// Every block after the oldest proof's block, up to `head`: the way a checker follows
    /// from the records to the head (and to any head it anchored on the way).
    pub path: Vec<AuditLink>,
}

/// A self-contained evidence bundle.
#[derive(Debug, Clone, Serialize)]
pub struct EvidenceBundle {
    /// [`EVIDENCE_FORMAT`].
    pub format: &'static str,
    /// When exported.
    pub generated_at: Timestamp,
    /// The complaint, with its verdict, findings, the events, decision and scores it rests on.
    pub complaint: ComplaintRecord,
    /// The message as stored now (delivery may have moved on since the verdict).
    pub message: Option<MessageRecord>,
    /// The sender at export.
    pub sender: Option<SenderAtExport>,
    /// Suspension changes this complaint caused.
    pub suspensions: Vec<SuspensionRecord>,
    /// Audit head and proofs.
    pub audit: AuditSection,
}

impl Gateway {
    /// The evidence bundle of complaint `id`, for whoever may read the complaint.
    pub fn complaint_evidence(
        &self,
        by: Principal,
        id: u64,
    ) -> Result<EvidenceBundle, GatewayError> {
        let complaint = self.complaint(by, id)?;
        let message = match complaint.message_id {
            Some(m) => self.store.message(m)?,
            None => None,
        };
        let sender = complaint
            .sender
            .and_then(|s| self.access.sender(s))
            .map(|s| SenderAtExport {
                id: s.id.0,
                name: s.name,
                source_number: s.source_number,
                suspended: s.suspended,
            });
        let suspensions: Vec<SuspensionRecord> = match complaint.sender {
            Some(s) => self
                .store
                .suspensions(s)?
                .into_iter()
                .filter(|c| c.complaint_id == Some(id))
                .collect(),
            None => Vec::new(),
        };
        let mut wanted: Vec<(AuditKind, i64)> =
            vec![(AuditKind::Complaint, i64::try_from(id).unwrap_or(-1))];
        for s in &suspensions {
            wanted.push((
                AuditKind::SuspensionChange,
                i64::try_from(s.id).unwrap_or(-1),
            ));
        }
        if let Some(m) = complaint.message_id {
            wanted.push((AuditKind::Decision, i64::try_from(m).unwrap_or(-1)));
        }
        for e in &complaint.adjudication.events {
            wanted.push((AuditKind::ConsentEvent, i64::try_from(e.seq).unwrap_or(-1)));
        }
        let head = self.store.audit_head()?;
        let mut proofs = Vec::with_capacity(wanted.len());
        for (kind, row) in wanted {
            if let Some(p) = self.store.audit_proof(kind, row)? {
                proofs.push(p);
            }
        }
        // Blocks appended between reading the head and listing the way are cut off, so the way
        // ends at the head named.
        let mut path = match proofs.iter().map(|p| p.block).min() {
            Some(oldest) => self.store.audit_path(oldest)?,
            None => Vec::new(),
        };
        path.retain(|l| l.block <= head.blocks);
        Ok(EvidenceBundle {
            format: EVIDENCE_FORMAT,
            generated_at: self.clock.now(),
            complaint,
            message,
            sender,
            suspensions,
            audit: AuditSection { head, proofs, path },
        })
    }
}
