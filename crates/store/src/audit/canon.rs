//! The canonical form of evidence records and the block hash: the part of the audit chain that
//! must be byte-for-byte the same on every backend, so a chain written on SQLite verifies the
//! same way as one written on PostgreSQL, and a regulator's own checker needs no database.

use sha2::{Digest, Sha256};

use super::AuditKind;

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
            None => self.null(),
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
            None => self.null(),
        }
    }
    /// A missing value: the same tag whatever the column's type, so a stored row can be
    /// digested from its values alone ([`Field`]).
    pub fn null(&mut self) -> &mut Self {
        self.0.update([b'n']);
        self
    }
    pub fn field(&mut self, f: &Field) -> &mut Self {
        match f {
            Field::Null => self.null(),
            Field::Int(v) => self.int(*v),
            Field::Text(s) => self.text(s),
        }
    }
    pub fn finish(self) -> Digest32 {
        self.0.finalize().into()
    }
}

/// One stored value as the canonical form sees it. Every chained column is an integer or a
/// text, so a backend reads a row into fields by column type and [`row_digest`] does the rest:
/// the verifier needs no per-kind decoding in backend code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Field {
    Null,
    Int(i64),
    Text(String),
}

/// The digest of a stored row of `kind`, from its chained columns in [`digest_columns`] order.
pub(crate) fn row_digest(kind: AuditKind, fields: &[Field]) -> Digest32 {
    let mut c = Canon::new(kind);
    let fields = match (kind, fields.split_last()) {
        // A decision without content scores digests as decisions did before the scores were
        // chained, so rows written then still verify; a decision with scores commits to them.
        (AuditKind::Decision, Some((Field::Null, head))) => head,
        _ => fields,
    };
    for f in fields {
        c.field(f);
    }
    c.finish()
}

/// The columns each kind's digest covers, in digest order (after the row's id, which is the
/// block's reference and not digested). Both backends select exactly these.
pub(crate) fn digest_columns(kind: AuditKind) -> &'static str {
    match kind {
        AuditKind::ConsentEvent => {
            "phone, scope, sender_id, action, source, evidence, actor, at, recorded_at"
        }
        AuditKind::Decision => {
            "sender_id, recipient, phone, text, category, status, reasons, submitted_at, release_at, \
             text_hash, content_scores"
        }
        AuditKind::Redecision => "message_id, at, status, reasons",
        AuditKind::Sender => "name, signature, source_number, created_at",
        AuditKind::Complaint => {
            "phone, sender_id, message_id, source_number, text, received_at, kind, note, \
             filed_by, filed_at, dedup_key, verdict, matched, adjudication"
        }
        AuditKind::SuspensionChange => {
            "sender_id, action, reason, actor, at, complaint_id, activity"
        }
        AuditKind::Credential => "what, action, subject, role, sender_id, secret_digest, at",
        AuditKind::SenderEdit => "sender_id, name, signature, actor, at",
    }
}

/// The column that numbers a kind's rows (what a block's `first_ref` counts).
pub(crate) fn id_column(kind: AuditKind) -> &'static str {
    match kind {
        AuditKind::ConsentEvent => "seq",
        _ => "id",
    }
}

/// `block.hash = SHA-256(prev ‖ seq ‖ kind ‖ first_ref ‖ count ‖ SHA-256(digests))`.
pub(crate) fn block_hash(
    prev: &Digest32,
    seq: i64,
    kind: AuditKind,
    first_ref: i64,
    count: u64,
    digests: &[u8],
) -> Digest32 {
    let inner: Digest32 = Sha256::digest(digests).into();
    block_hash_of_inner(prev, seq, kind, first_ref, count, &inner)
}

/// [`block_hash`] from the SHA-256 of the digest list rather than the list itself: what a
/// verifier following the chain to its head has ([`super::AuditLink`]).
pub(crate) fn block_hash_of_inner(
    prev: &Digest32,
    seq: i64,
    kind: AuditKind,
    first_ref: i64,
    count: u64,
    inner: &Digest32,
) -> Digest32 {
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
    content_scores: Option<&str>,
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
    // Last, and only when present: see [`row_digest`].
    if let Some(scores) = content_scores {
        c.text(scores);
    }
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

/// Digest of an edit of a sender's name and signature.
pub(crate) fn sender_edit_digest(
    sender: i64,
    name: &str,
    signature: &str,
    actor: &str,
    at: i64,
) -> Digest32 {
    let mut c = Canon::new(AuditKind::SenderEdit);
    c.int(sender).text(name).text(signature).text(actor).int(at);
    c.finish()
}

/// A complaint's stored fields, as bound to its INSERT.
pub(crate) struct ComplaintFields<'a> {
    pub phone: i64,
    pub sender: Option<i64>,
    pub message: Option<i64>,
    pub source_number: Option<&'a str>,
    pub text: Option<&'a str>,
    pub received_at: i64,
    pub kind: &'a str,
    pub note: Option<&'a str>,
    pub filed_by: &'a str,
    pub filed_at: i64,
    pub dedup_key: &'a str,
    pub verdict: &'a str,
    pub matched: &'a str,
    pub adjudication: &'a str,
}

impl ComplaintFields<'_> {
    /// Every field is evidence: the verdict and the findings are what the regulator checks.
    pub fn digest(&self) -> Digest32 {
        let mut c = Canon::new(AuditKind::Complaint);
        c.int(self.phone)
            .opt_int(self.sender)
            .opt_int(self.message)
            .opt_text(self.source_number)
            .opt_text(self.text)
            .int(self.received_at)
            .text(self.kind)
            .opt_text(self.note);
        c.text(self.filed_by)
            .int(self.filed_at)
            .text(self.dedup_key)
            .text(self.verdict)
            .text(self.matched)
            .text(self.adjudication);
        c.finish()
    }
}

/// Digest of a change to a sender's suspension.
#[allow(clippy::too_many_arguments)]
pub(crate) fn suspension_digest(
    sender: i64,
    action: &str,
    reason: &str,
    actor: &str,
    at: i64,
    complaint: Option<i64>,
    activity: Option<&str>,
) -> Digest32 {
    let mut c = Canon::new(AuditKind::SuspensionChange);
    c.int(sender)
        .text(action)
        .text(reason)
        .text(actor)
        .int(at)
        .opt_int(complaint)
        .opt_text(activity);
    c.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_read_back_as_fields_digests_like_the_values_written() {
        let written = consent_digest(
            8613800138000,
            "sender",
            Some(3),
            "opt_out",
            "sms_reply",
            "T",
            "carrier",
            1,
            2,
        );
        let read = row_digest(
            AuditKind::ConsentEvent,
            &[
                Field::Int(8613800138000),
                Field::Text("sender".into()),
                Field::Int(3),
                Field::Text("opt_out".into()),
                Field::Text("sms_reply".into()),
                Field::Text("T".into()),
                Field::Text("carrier".into()),
                Field::Int(1),
                Field::Int(2),
            ],
        );
        assert_eq!(written, read);
        let other = row_digest(AuditKind::ConsentEvent, &[Field::Null]);
        assert_ne!(written, other);
    }

    /// Rows written before content scores were chained carry none: their digest is the one
    /// taken then (no scores field at all), so they still verify; a row with scores commits
    /// to them.
    #[test]
    fn a_decision_without_scores_digests_as_before_and_one_with_scores_commits_to_them() {
        let fields = |scores: Field| {
            vec![
                Field::Int(1),
                Field::Text("13800138000".into()),
                Field::Int(8613800138000),
                Field::Text("t".into()),
                Field::Text("marketing".into()),
                Field::Text("accepted".into()),
                Field::Text("[]".into()),
                Field::Int(5),
                Field::Null,
                Field::Int(7),
                scores,
            ]
        };
        let mut before = Canon::new(AuditKind::Decision);
        for f in &fields(Field::Null)[..10] {
            before.field(f);
        }
        let before = before.finish();
        let written = |scores| {
            decision_digest(
                1,
                "13800138000",
                Some(8613800138000),
                "t",
                "marketing",
                "accepted",
                "[]",
                5,
                None,
                7,
                scores,
            )
        };
        assert_eq!(written(None), before);
        assert_eq!(
            row_digest(AuditKind::Decision, &fields(Field::Null)),
            before
        );
        let scored = row_digest(AuditKind::Decision, &fields(Field::Text("{}".into())));
        assert_eq!(written(Some("{}")), scored);
        assert_ne!(scored, before);
    }
}
