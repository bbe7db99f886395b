//! The tamper-evident audit log: what a regulator can check without trusting the operator.
//!
//! Every record that matters as evidence — consent events, decisions, re-decisions, senders
//! (and, through [`AuditKind`], complaints, verdicts and suspensions) — is digested (SHA-256
//! over a canonical, length-prefixed encoding of its stored fields) when it is written, in the
//! same transaction. The digests of one transaction form a *block*:
//!
//! ```text
//! block.hash = SHA-256(prev_hash ‖ seq ‖ kind ‖ first_ref ‖ count ‖ SHA-256(d₁ ‖ … ‖ dₙ))
//! ```
//!
//! so each record commits to every record before it. Blocks rather than one chain link per
//! record keep the cost on the send path to one hash per record and one extra row per
//! transaction; the block keeps every record's digest, so a verifier still names the exact row
//! that was changed. Publishing the head hash (`GET /v1/audit/head`) elsewhere anchors it: a
//! rewrite of history after that would have to produce the same head.
//!
//! State that decides outcomes is chained or checked against chained rows (issue #14, item 3):
//! a message's current status is its latest chained (re)decision and verify compares the
//! cached columns with it; a blocked message's delivery stays `not_sent`; a sender's current
//! name and signature are its latest chained edit; every live API key, SMPP credential and
//! CMPP account must be what the chained credential changes ([`credentials`]) leave. Delivery
//! progress of allowed messages is the one mutable state outside the chain.

mod anchor;
pub(crate) mod canon;
pub(crate) mod chain;
pub(crate) mod credentials;
pub mod offline;
pub(crate) mod verify;

pub use anchor::{AnchorError, AuditAnchor};

use serde::{Deserialize, Serialize};

/// What kind of record a block holds; each kind lives in one table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum AuditKind {
    /// `consent_events`, by `seq`.
    ConsentEvent,
    /// The first decision of a message (`messages`, by `id`).
    Decision,
    /// A later decision (`redecisions`, by `id`).
    Redecision,
    /// A sender's registration (`senders`, by `id`).
    Sender,
    /// A complaint with its verdict and evidence (`complaints`, by `id`).
    Complaint,
    /// A change to a sender's suspension, with its reason (`suspension_changes`, by `id`).
    SuspensionChange,
    /// An API key issued or revoked, an SMPP password or a CMPP secret set, as hashes only
    /// (`credential_changes`, by `id`).
    Credential,
    /// An edit of a sender's name and signature (`sender_edits`, by `id`).
    SenderEdit,
}

impl AuditKind {
    /// Every kind.
    pub const ALL: [AuditKind; 8] = [
        AuditKind::ConsentEvent,
        AuditKind::Decision,
        AuditKind::Redecision,
        AuditKind::Sender,
        AuditKind::Complaint,
        AuditKind::SuspensionChange,
        AuditKind::Credential,
        AuditKind::SenderEdit,
    ];

    /// Stable name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            AuditKind::ConsentEvent => "consent_event",
            AuditKind::Decision => "decision",
            AuditKind::Redecision => "redecision",
            AuditKind::Sender => "sender",
            AuditKind::Complaint => "complaint",
            AuditKind::SuspensionChange => "suspension_change",
            AuditKind::Credential => "credential",
            AuditKind::SenderEdit => "sender_edit",
        }
    }

    /// The table the records live in.
    #[must_use]
    pub fn table(self) -> &'static str {
        match self {
            AuditKind::ConsentEvent => "consent_events",
            AuditKind::Decision => "messages",
            AuditKind::Redecision => "redecisions",
            AuditKind::Sender => "senders",
            AuditKind::Complaint => "complaints",
            AuditKind::SuspensionChange => "suspension_changes",
            AuditKind::Credential => "credential_changes",
            AuditKind::SenderEdit => "sender_edits",
        }
    }

    pub(crate) fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "consent_event" => AuditKind::ConsentEvent,
            "decision" => AuditKind::Decision,
            "redecision" => AuditKind::Redecision,
            "sender" => AuditKind::Sender,
            "complaint" => AuditKind::Complaint,
            "suspension_change" => AuditKind::SuspensionChange,
            "credential" => AuditKind::Credential,
            "sender_edit" => AuditKind::SenderEdit,
            _ => return None,
        })
    }
}

/// The newest block: anchor this hash somewhere the operator cannot rewrite.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditHead {
    /// Number of blocks.
    pub blocks: u64,
    /// Number of records chained.
    pub records: u64,
    /// Hex SHA-256 of the newest block (64 zeros when empty).
    pub hash: String,
}

/// Where one record sits in the chain, with what a third party needs to check it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditProof {
    /// Kind of record.
    pub kind: AuditKind,
    /// Its row id.
    pub row: i64,
    /// Its digest (hex).
    pub digest: String,
    /// The block holding it.
    pub block: u64,
    /// The block's previous hash (hex).
    pub prev: String,
    /// The block's first row id and number of records.
    pub first_row: i64,
    /// Number of records in the block.
    pub count: u64,
    /// Every digest in the block, in order (hex).
    pub digests: Vec<String>,
    /// The block's hash (hex).
    pub hash: String,
    /// The record's chained columns as stored, in digest order: what its digest is recomputed
    /// from without a database ([`offline::check_proof`]). Integers are JSON numbers, texts
    /// JSON strings, missing values `null`.
    pub record: Vec<RecordField>,
    /// Some of `record` was masked for the reader (a merchant's copy hides the complainant's
    /// number): the digest cannot be recomputed from this copy, only found in its block. The
    /// operator's or the regulator's copy of the same bundle has the record whole.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub redacted: bool,
}

/// One chained column of a record in a proof.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordField {
    /// Column name.
    pub column: String,
    /// Its stored value.
    pub value: serde_json::Value,
}

/// One block after a proof's block, as much of it as a verifier needs to recompute the next
/// hash: the way from a record's block to the head (and to any head anchored on the way).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditLink {
    /// Block number.
    pub block: u64,
    /// Kind of its records.
    pub kind: String,
    /// First row id.
    pub first_row: i64,
    /// Number of records.
    pub count: u64,
    /// SHA-256 of the block's digest list (hex): the digests themselves are not needed to
    /// follow the chain.
    pub digests_hash: String,
    /// The block's hash (hex), as stored: a verifier recomputes it and compares.
    pub hash: String,
}

/// The outcome of `audit verify`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditReport {
    /// Blocks checked.
    pub blocks: u64,
    /// Records checked.
    pub records: u64,
    /// The head hash recomputed from the data (hex).
    pub head: String,
    /// The first problem found, if any.
    pub broken: Option<Broken>,
    /// Anchored heads found in the chain (each proves nothing before it was cut off or
    /// rewritten since it was published).
    pub anchors_matched: u64,
}

/// The first record or block that does not match.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Broken {
    /// Block number.
    pub block: u64,
    /// Kind of record (when a record is at fault).
    pub kind: Option<AuditKind>,
    /// Table and row id (when a record is at fault).
    pub table: Option<&'static str>,
    /// Row id.
    pub row: Option<i64>,
    /// What is wrong.
    pub why: String,
}

impl std::fmt::Display for Broken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.table, self.row) {
            (Some(t), Some(r)) => {
                write!(f, "{t} row {r} (audit block {}): {}", self.block, self.why)
            }
            (Some(t), None) => write!(f, "{t} (audit block {}): {}", self.block, self.why),
            _ => write!(f, "audit block {}: {}", self.block, self.why),
        }
    }
}
