//! How domain values become stored columns and back, the same for every backend: times as
//! microseconds, phones as their E.164 digits, verdicts and reasons as text. Backends keep only
//! their driver's row access; the conversions and the message columns they select live here,
//! so SQLite and PostgreSQL cannot drift apart (the audit digests depend on the stored values).

use domain::{Msisdn, Timestamp};
use policy::{Reason, Verdict};

use crate::StoreError;

pub(crate) fn micros(t: Timestamp) -> i64 {
    t.as_microsecond()
}

/// Drops what the store cannot keep (below a microsecond), so returned values equal stored ones.
pub(crate) fn truncate(t: Timestamp) -> Timestamp {
    Timestamp::from_microsecond(t.as_microsecond()).unwrap_or(t)
}

pub(crate) fn from_micros(table: &'static str, row: i64, v: i64) -> Result<Timestamp, StoreError> {
    Timestamp::from_microsecond(v).map_err(|e| StoreError::Corrupt {
        table,
        row,
        why: e.to_string(),
    })
}

pub(crate) fn corrupt(table: &'static str, row: i64, why: impl ToString) -> StoreError {
    StoreError::Corrupt {
        table,
        row,
        why: why.to_string(),
    }
}

/// A phone as its column value.
pub(crate) fn phone_col(p: Msisdn) -> i64 {
    i64::try_from(p.as_u64()).unwrap_or(i64::MAX)
}

/// A message's parsed recipient as its column value (`NULL` when the number was invalid).
pub(crate) fn opt_phone_col(p: Option<Msisdn>) -> Option<i64> {
    p.and_then(|p| i64::try_from(p.as_u64()).ok())
}

pub(crate) fn u64_of(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

pub(crate) fn verdict(s: &str) -> Option<Verdict> {
    Some(match s {
        "accepted" => Verdict::Accepted,
        "deferred" => Verdict::Deferred,
        "rejected" => Verdict::Rejected,
        _ => return None,
    })
}

pub(crate) fn reasons_json(reasons: &[Reason]) -> String {
    serde_json::to_string(reasons).unwrap_or_else(|_| "[]".into())
}

/// A message's columns as `MessageRecord` reads them: the current decision is the latest
/// re-decision if any, else the first (which never changes).
pub(crate) const MESSAGE_COLUMNS: &str = "id, sender_id, recipient, phone, text, category, \
    coalesce(current_status, status), coalesce(current_reasons, reasons), submitted_at, \
    coalesce(current_decided_at, decided_at), \
    CASE WHEN current_status IS NULL THEN release_at ELSE current_release_at END, \
    delivery, delivery_at, content_scores";

/// A sender's current name (in a query over `senders`): its latest chained edit's, else the
/// registration's.
pub(crate) const SENDER_NAME: &str = "coalesce((SELECT e.name FROM sender_edits e \
    WHERE e.sender_id = senders.id ORDER BY e.id DESC LIMIT 1), senders.name)";
/// A sender's current signature, as [`SENDER_NAME`].
pub(crate) const SENDER_SIGNATURE: &str = "coalesce((SELECT e.signature FROM sender_edits e \
    WHERE e.sender_id = senders.id ORDER BY e.id DESC LIMIT 1), senders.signature)";

/// Every reason code the policy has, quoted and comma-separated, for `code IN (…)`: the
/// codes are fixed identifiers (`no_consent`, …), never input.
pub(crate) fn every_reason_code() -> String {
    policy::ReasonCode::ALL
        .iter()
        .map(|c| format!("'{}'", c.as_str()))
        .collect::<Vec<_>>()
        .join(", ")
}
