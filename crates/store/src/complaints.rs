//! What enforcement needs from storage: complaints with their verdicts, suspension changes with
//! their reasons, and the counts behind reputation and reports.
//!
//! The verdict and its evidence are computed once, when the complaint is filed, and stored with
//! it: what the gateway knew then is what a regulator reads later, even if the sender is since
//! deleted or the policy changed.

use complaints::{
    Activity, Adjudication, ComplaintKind, ComplaintVerdict, MatchOutcome, PlatformFigures,
    SenderFigures, SuspensionAction,
};
use domain::{Msisdn, SenderId, Timestamp};
use serde::Serialize;

use crate::{ComplaintQuery, Store, StoreError};

/// A complaint with its verdict, before the store gives it an id.
#[derive(Debug, Clone)]
pub struct NewComplaint {
    /// The consumer who complains.
    pub phone: Msisdn,
    /// The sender it is about: the matched message's, else the one named.
    pub sender: Option<SenderId>,
    /// The matched message.
    pub message_id: Option<u64>,
    /// The number the message came from, as the complainant gave it.
    pub source_number: Option<String>,
    /// The text as the complainant gave it.
    pub text: Option<String>,
    /// When the consumer received the message.
    pub received_at: Timestamp,
    /// What the complaint says.
    pub kind: ComplaintKind,
    /// Free text from the complainant or the operator.
    pub note: Option<String>,
    /// Who filed it: `admin`, `carrier` (a 举报 reply), `portal`.
    pub filed_by: String,
    /// When it was filed.
    pub filed_at: Timestamp,
    /// One complaint per phone and message (or per phone, sender and text when no message
    /// matched): a second one with this key is a duplicate.
    pub dedup_key: String,
    /// How the message was found.
    pub matched: MatchOutcome,
    /// The verdict and its evidence.
    pub adjudication: Adjudication,
}

/// A stored complaint.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ComplaintRecord {
    /// Id.
    pub id: u64,
    /// The consumer.
    pub phone: Msisdn,
    /// The sender it is about.
    pub sender: Option<SenderId>,
    /// The matched message.
    pub message_id: Option<u64>,
    /// As given.
    pub source_number: Option<String>,
    /// As given.
    pub text: Option<String>,
    /// When received.
    pub received_at: Timestamp,
    /// Kind.
    pub kind: ComplaintKind,
    /// Note.
    pub note: Option<String>,
    /// Who filed it.
    pub filed_by: String,
    /// When filed.
    pub filed_at: Timestamp,
    /// How the message was found.
    pub matched: MatchOutcome,
    /// The verdict and its evidence.
    pub adjudication: Adjudication,
}

impl ComplaintRecord {
    /// The verdict.
    #[must_use]
    pub fn verdict(&self) -> ComplaintVerdict {
        self.adjudication.verdict
    }
}

/// A change to a sender's suspension, before the store gives it an id.
#[derive(Debug, Clone)]
pub struct NewSuspension {
    /// The sender.
    pub sender: SenderId,
    /// Suspend, lift or confirm.
    pub action: SuspensionAction,
    /// Why, in words (required for every change).
    pub reason: String,
    /// Who: `enforcement` (automatic) or `admin`.
    pub actor: String,
    /// When.
    pub at: Timestamp,
    /// The complaint that triggered an automatic suspension.
    pub complaint_id: Option<u64>,
    /// The sender's record at the time.
    pub activity: Option<Activity>,
}

/// A stored suspension change.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SuspensionRecord {
    /// Id.
    pub id: u64,
    /// The sender.
    pub sender: SenderId,
    /// What changed.
    pub action: SuspensionAction,
    /// Why.
    pub reason: String,
    /// Who.
    pub actor: String,
    /// When.
    pub at: Timestamp,
    /// The triggering complaint.
    pub complaint_id: Option<u64>,
    /// The record at the time.
    pub activity: Option<Activity>,
}

/// Complaints, suspensions and the counts behind reputation and reports.
pub trait ComplaintLog {
    /// Records a complaint and, when it triggers one, a suspension (which also marks the
    /// sender suspended), in one transaction. A complaint whose `dedup_key` exists is not
    /// recorded ([`StoreError::Conflict`]). Returns the complaint's id and the suspension's.
    fn insert_complaint(
        &self,
        complaint: &NewComplaint,
        suspension: Option<&NewSuspension>,
    ) -> Result<(u64, Option<u64>), StoreError>;
    /// One complaint.
    fn complaint(&self, id: u64) -> Result<Option<ComplaintRecord>, StoreError>;
    /// The id of the complaint with this dedup key.
    fn complaint_by_key(&self, key: &str) -> Result<Option<u64>, StoreError>;
    /// A page of complaints: those `q` filters for, in its order (see [`ComplaintQuery`]).
    fn complaints(&self, q: &ComplaintQuery) -> Result<Vec<ComplaintRecord>, StoreError>;
    /// The events of `phone`'s ledger that bear on `sender` (its own and platform-wide ones),
    /// in commit order: all an adjudication looks at, without decoding other senders' lines.
    fn consent_events_for(
        &self,
        phone: Msisdn,
        sender: SenderId,
    ) -> Result<Vec<ledger::ConsentEvent>, StoreError>;
    /// Messages handed to a carrier for `phone` whose (last) decision fell in `[since, until]`,
    /// oldest first: the candidates a complaint is matched against and the day's marketing an
    /// adjudication counts, without reading the phone's whole history.
    fn sent_to(
        &self,
        phone: Msisdn,
        since: Timestamp,
        until: Timestamp,
    ) -> Result<Vec<crate::MessageRecord>, StoreError>;
    /// Marketing handed to a carrier for `phone` decided in `[since, until]`: `(message id,
    /// sender, decision time)`, oldest first — the day's count behind a cap finding, without
    /// decoding texts.
    fn marketing_sent_to(
        &self,
        phone: Msisdn,
        since: Timestamp,
        until: Timestamp,
    ) -> Result<Vec<(u64, SenderId, Timestamp)>, StoreError>;
    /// How many complaints `phone` filed since `since` (flood control).
    fn complaints_from_phone_since(
        &self,
        phone: Msisdn,
        since: Timestamp,
    ) -> Result<u64, StoreError>;
    /// Records a suspension change and sets the sender's `suspended` flag to match, in one
    /// transaction; `None` if no such sender.
    fn record_suspension(&self, change: &NewSuspension) -> Result<Option<u64>, StoreError>;
    /// A sender's suspension changes, oldest first.
    fn suspensions(&self, sender: SenderId) -> Result<Vec<SuspensionRecord>, StoreError>;
    /// A sender's marketing sent, complaints (not counting unverified ones) and violations
    /// since `since`. Opt-outs are left at 0: see [`ComplaintLog::opt_outs_since`].
    fn sender_activity(&self, sender: SenderId, since: Timestamp) -> Result<Activity, StoreError>;
    /// Sender-scoped opt-outs from `sender` recorded since `since` (a scan of the ledger:
    /// for reviews and reports, not for every complaint).
    fn opt_outs_since(&self, sender: SenderId, since: Timestamp) -> Result<u64, StoreError>;
    /// Per-sender figures for `[from, to)` (every registered sender, with zeros where idle)
    /// and what belongs to no sender: unverified complaints, platform-wide opt-outs, the
    /// platform's own notices. Complaint rates are left for
    /// [`complaints::PeriodReport::new`] to fill.
    fn period_figures(
        &self,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<(Vec<SenderFigures>, PlatformFigures), StoreError>;
}

impl ComplaintLog for Store {
    fn insert_complaint(
        &self,
        complaint: &NewComplaint,
        suspension: Option<&NewSuspension>,
    ) -> Result<(u64, Option<u64>), StoreError> {
        crate::dispatch!(self, s => s.insert_complaint(complaint, suspension))
    }
    fn complaint(&self, id: u64) -> Result<Option<ComplaintRecord>, StoreError> {
        crate::dispatch!(self, s => s.complaint(id))
    }
    fn complaint_by_key(&self, key: &str) -> Result<Option<u64>, StoreError> {
        crate::dispatch!(self, s => s.complaint_by_key(key))
    }
    fn complaints(&self, q: &ComplaintQuery) -> Result<Vec<ComplaintRecord>, StoreError> {
        crate::dispatch!(self, s => s.complaints(q))
    }
    fn consent_events_for(
        &self,
        phone: Msisdn,
        sender: SenderId,
    ) -> Result<Vec<ledger::ConsentEvent>, StoreError> {
        crate::dispatch!(self, s => s.consent_events_for(phone, sender))
    }
    fn sent_to(
        &self,
        phone: Msisdn,
        since: Timestamp,
        until: Timestamp,
    ) -> Result<Vec<crate::MessageRecord>, StoreError> {
        crate::dispatch!(self, s => s.sent_to(phone, since, until))
    }
    fn marketing_sent_to(
        &self,
        phone: Msisdn,
        since: Timestamp,
        until: Timestamp,
    ) -> Result<Vec<(u64, SenderId, Timestamp)>, StoreError> {
        crate::dispatch!(self, s => s.marketing_sent_to(phone, since, until))
    }
    fn complaints_from_phone_since(
        &self,
        phone: Msisdn,
        since: Timestamp,
    ) -> Result<u64, StoreError> {
        crate::dispatch!(self, s => s.complaints_from_phone_since(phone, since))
    }
    fn record_suspension(&self, change: &NewSuspension) -> Result<Option<u64>, StoreError> {
        crate::dispatch!(self, s => s.record_suspension(change))
    }
    fn suspensions(&self, sender: SenderId) -> Result<Vec<SuspensionRecord>, StoreError> {
        crate::dispatch!(self, s => s.suspensions(sender))
    }
    fn sender_activity(&self, sender: SenderId, since: Timestamp) -> Result<Activity, StoreError> {
        crate::dispatch!(self, s => s.sender_activity(sender, since))
    }
    fn opt_outs_since(&self, sender: SenderId, since: Timestamp) -> Result<u64, StoreError> {
        crate::dispatch!(self, s => s.opt_outs_since(sender, since))
    }
    fn period_figures(
        &self,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<(Vec<SenderFigures>, PlatformFigures), StoreError> {
        crate::dispatch!(self, s => s.period_figures(from, to))
    }
}

/// Takes the row of sender id 0 out of `rows`: the platform's own notices (opt-out
/// confirmations, help answers) are recorded under it, and it is no registered sender
/// (registered ids start at 1), so a report showed it as an unnamed sender `0`.
pub(crate) fn platform_row_out(
    mut rows: std::collections::BTreeMap<u32, SenderFigures>,
    platform: &mut PlatformFigures,
) -> Vec<SenderFigures> {
    if let Some(own) = rows.remove(&0) {
        platform.notices_sent = own.sent;
    }
    rows.into_values().collect()
}

/// The latest chained suspension change's action for `senders.id`, as an SQL expression both
/// backends select: whether a sender is suspended is derived from its chained history
/// ([`suspended_after`]), never read from the `senders.suspended` column, which is only a cache
/// that `audit verify` compares (issue #14, item 3: setting the column to 0 and restarting let
/// a suspended sender's marketing through, and verify said intact).
pub(crate) const LAST_SUSPENSION_ACTION: &str = "(SELECT c.action FROM suspension_changes c \
     WHERE c.sender_id = senders.id ORDER BY c.id DESC LIMIT 1)";

/// Whether a sender whose latest chained suspension change is `last` (`None`: never changed)
/// is suspended: after `suspend` or `confirm`, not after `lift`. An action no version wrote
/// reads as suspended: unknown provenance resolves against sending.
pub(crate) fn suspended_after(last: Option<&str>) -> bool {
    match last {
        None => false,
        Some(a) => !matches!(a.parse::<SuspensionAction>(), Ok(SuspensionAction::Lift)),
    }
}
