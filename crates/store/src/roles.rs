//! What the gateway needs from storage, one trait per role.

use domain::{ConsentAction, Msisdn, SenderId, Timestamp};
use ledger::ConsentEvent;

use crate::{
    Delivery, KeyRole, MessageRecord, NewConsent, NewMessage, NewSender, RecentSend, SenderRecord,
    StoreError,
};

/// Fencing tokens for a write in cluster mode: `(partition, epoch)`, the lease epoch each
/// decision being written was made under. A node that lost a partition and took it again holds
/// a newer epoch than the one a queued decision was made under, with state that decision never
/// saw; the store refuses the write unless the lease still has the pinned epoch. Partitions not
/// listed are checked against the epoch the node holds when it writes. Backends without leases
/// (one node) ignore them.
pub type Pins = [(u32, i64)];

/// The durable consent ledger.
pub trait ConsentLog {
    /// Appends events in one transaction; when this returns they are durable. All or nothing.
    /// Recorded as of the wall clock.
    fn append_consents(&self, events: &[NewConsent]) -> Result<Vec<ConsentEvent>, StoreError> {
        self.append_consents_at(events, Timestamp::now())
    }
    /// [`ConsentLog::append_consents`], recorded as of `recorded_at`: the gateway's clock, the
    /// one its decisions are timed by, so "was this refusal on record when the message went
    /// out?" compares like with like.
    fn append_consents_at(
        &self,
        events: &[NewConsent],
        recorded_at: Timestamp,
    ) -> Result<Vec<ConsentEvent>, StoreError>;
    /// [`ConsentLog::append_consents_at`] under the fencing tokens `pins` (cluster mode).
    fn append_consents_pinned(
        &self,
        events: &[NewConsent],
        recorded_at: Timestamp,
        _pins: &Pins,
    ) -> Result<Vec<ConsentEvent>, StoreError> {
        self.append_consents_at(events, recorded_at)
    }
    /// Every event for one phone, in commit order.
    fn consent_history(&self, phone: Msisdn) -> Result<Vec<ConsentEvent>, StoreError>;
    /// Streams every event's fold-relevant fields, each phone's events in commit order (phones
    /// may interleave or come one after another): what rebuilding the index needs. The last
    /// field says whether the consumer gave the event themselves ([`ledger::by_consumer`] of
    /// its actor).
    fn scan_consents(
        &self,
        f: &mut dyn FnMut(Msisdn, Option<SenderId>, ConsentAction, Timestamp, bool),
    ) -> Result<u64, StoreError>;
    /// [`ConsentLog::scan_consents`] for the phones of one partition (`phone % partitions ==
    /// part`): what a node loads when it takes a partition over. Backends without an index for
    /// it scan everything and filter.
    fn scan_partition(
        &self,
        partitions: u32,
        part: u32,
        f: &mut dyn FnMut(Msisdn, Option<SenderId>, ConsentAction, Timestamp, bool),
    ) -> Result<u64, StoreError> {
        let n = u64::from(partitions.max(1));
        let mut count = 0;
        self.scan_consents(&mut |phone, sender, action, at, own| {
            if phone.as_u64() % n == u64::from(part) {
                count += 1;
                f(phone, sender, action, at, own);
            }
        })?;
        Ok(count)
    }
    /// Number of events.
    fn consent_count(&self) -> Result<u64, StoreError>;
    /// Number of events per phone (lets the index size each phone's entry once before a scan).
    fn consent_counts_by_phone(&self, f: &mut dyn FnMut(Msisdn, u32)) -> Result<(), StoreError>;
}

/// Registered senders.
pub trait SenderRegistry {
    /// Registers a sender and its key in one transaction.
    fn create_sender(&self, new: &NewSender) -> Result<SenderRecord, StoreError>;
    /// Every sender, by id; `suspended` derived from its chained suspension changes (the
    /// latest is `suspend` or `confirm`), so only a chained record suspends or reinstates.
    fn senders(&self) -> Result<Vec<SenderRecord>, StoreError>;
    /// A page of the senders list ([`crate::SenderQuery`]: search, order, offset) and how many
    /// senders match in all.
    fn sender_page(&self, q: &crate::SenderQuery) -> Result<(Vec<SenderRecord>, u64), StoreError>;
    /// Gives sender `id` a new name and signature, as a chained edit by `actor` (its
    /// registration stays as chained); `None` when there is no such sender.
    fn edit_sender(
        &self,
        id: SenderId,
        name: &str,
        signature: &str,
        actor: &str,
    ) -> Result<Option<SenderRecord>, StoreError>;
}

/// Every message and its decision.
pub trait MessageLog {
    /// Records decided messages in one transaction; returns their ids in order.
    fn insert_messages(&self, msgs: &[NewMessage<'_>]) -> Result<Vec<u64>, StoreError>;
    /// [`MessageLog::insert_messages`] under the fencing tokens `pins` (cluster mode).
    fn insert_messages_pinned(
        &self,
        msgs: &[NewMessage<'_>],
        _pins: &Pins,
    ) -> Result<Vec<u64>, StoreError> {
        self.insert_messages(msgs)
    }
    /// One message.
    fn message(&self, id: u64) -> Result<Option<MessageRecord>, StoreError>;
    /// One message with its decision read from the audit-chained records only (the first
    /// decision's row and the latest chained re-decision), not from the `current_*` cache a
    /// database editor could change unseen: what a verdict must rest on. Delivery progress and
    /// classifier scores are not evidence and come as stored.
    fn message_on_record(&self, id: u64) -> Result<Option<MessageRecord>, StoreError>;
    /// Records a new decision for a message (a deferred one, released or cancelled).
    fn redecide(
        &self,
        id: u64,
        decision: &policy::Decision,
        at: Timestamp,
    ) -> Result<(), StoreError>;
    /// [`MessageLog::redecide`] only while this node holds the lease of `phone`'s partition
    /// under the epoch `pins` name (cluster mode; the current one when `pins` names none):
    /// `Fenced` otherwise. A node that lost a phone — paused past its lease, then woken — must
    /// not rewrite a decision the new owner made (a release, a cancellation, a stale message
    /// decided again). A single node has no leases: the same as `redecide`.
    fn redecide_pinned(
        &self,
        id: u64,
        _phone: Msisdn,
        decision: &policy::Decision,
        at: Timestamp,
        _pins: &Pins,
    ) -> Result<(), StoreError> {
        self.redecide(id, decision, at)
    }
    /// Records delivery state changes in one transaction.
    fn set_delivery(&self, updates: &[(u64, Delivery, Timestamp)]) -> Result<(), StoreError>;
    /// What a handset received (loopback carrier), oldest first.
    fn inbox(&self, phone: Msisdn) -> Result<Vec<MessageRecord>, StoreError>;
    /// Messages accepted or deferred but not yet handed to a carrier (to resume after a restart).
    fn pending(&self) -> Result<Vec<MessageRecord>, StoreError>;
    /// Accepted messages decided since `since`.
    fn recent_sends(&self, since: Timestamp) -> Result<Vec<RecentSend>, StoreError>;
}

/// SMPP: senders' bind credentials and the message ids carriers gave our messages.
pub trait SmppRegistry {
    /// Sets a sender's SMPP credentials, replacing any it had; the password only as a hash.
    fn put_smpp_credential(
        &self,
        system_id: &str,
        sender: SenderId,
        password_hash: &str,
    ) -> Result<(), StoreError>;
    /// The sender and password hash bound to `system_id`.
    fn smpp_credential(&self, system_id: &str) -> Result<Option<(SenderId, String)>, StoreError>;
    /// The system_id `sender` binds with, if it has SMPP credentials.
    fn smpp_system_id(&self, sender: SenderId) -> Result<Option<String>, StoreError>;
    /// Records `(carrier message id, our message id)` pairs in one transaction. Carrier ids are
    /// compared without case, because carriers write hex ids in either case.
    fn put_carrier_ids(&self, carrier: &str, ids: &[(String, u64)]) -> Result<(), StoreError>;
    /// Our message id for a carrier's message id.
    fn message_by_carrier_id(
        &self,
        carrier: &str,
        carrier_id: &str,
    ) -> Result<Option<u64>, StoreError>;
    /// Messages handed to a carrier (`submitted`) and decided since `since` that no carrier has
    /// acknowledged with an id, or (long texts) with fewer ids than they may have segments:
    /// queued or in flight when the gateway stopped. A superset for long texts: the caller
    /// counts their segments. Oldest first.
    fn unacknowledged_handoffs(&self, since: Timestamp) -> Result<Vec<Handoff>, StoreError>;
}

/// CMPP: the SP accounts merchants' CMPP software connects with.
///
/// Unlike an SMPP password, a CMPP secret cannot be stored as a slow hash: CONNECT proves it
/// with `MD5(Source_Addr ‖ 0×9 ‖ secret ‖ timestamp)`, which the acceptor can only check by
/// computing the same digest from the secret itself. So the secret is kept as issued, in
/// the same store and under the same protection as every other credential row (the data
/// directory 0700 and the database 0600 for SQLite; the database's own access control for
/// PostgreSQL), and it is shown to the merchant once and never returned by any read API.
pub trait CmppRegistry {
    /// Sets a sender's CMPP account, replacing any it had (and any other sender's account
    /// with the same `source_addr`).
    fn put_cmpp_account(
        &self,
        source_addr: &str,
        sender: SenderId,
        secret: &str,
    ) -> Result<(), StoreError>;
    /// The sender and secret of the account `source_addr`.
    fn cmpp_account(&self, source_addr: &str) -> Result<Option<(SenderId, String)>, StoreError>;
}

/// A message handed to a carrier, as needed to send it again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handoff {
    pub id: u64,
    pub sender: SenderId,
    pub phone: Msisdn,
    pub text: String,
    pub category: domain::Category,
    /// Carrier ids recorded for it: one per segment the carrier acknowledged.
    pub acknowledged_parts: u32,
}

/// API keys, stored as hashes only.
pub trait KeyRing {
    /// Stores a key hash with its role.
    fn put_key(&self, hash: &str, role: KeyRole) -> Result<(), StoreError>;
    /// Every key hash.
    fn keys(&self) -> Result<Vec<(String, KeyRole)>, StoreError>;
}

/// The tamper-evident audit chain (see [`crate::audit`]).
pub trait AuditLog {
    /// The newest block's hash, to anchor elsewhere.
    fn audit_head(&self) -> Result<crate::AuditHead, StoreError>;
    /// Recomputes every record digest and block hash; names the first mismatch.
    fn verify_audit(&self) -> Result<crate::AuditReport, StoreError> {
        self.verify_audit_against(&[])
    }
    /// [`AuditLog::verify_audit`], and every head in `anchors` (published earlier, outside the
    /// database) must still be a block of the chain: what proves that nothing was cut off the
    /// end or rewritten since, which a chain checked against itself cannot.
    fn verify_audit_against(
        &self,
        anchors: &[crate::AuditAnchor],
    ) -> Result<crate::AuditReport, StoreError>;
    /// The blocks after block `after`, up to the head: an evidence bundle's way from its
    /// records' blocks to the head.
    fn audit_path(&self, after: u64) -> Result<Vec<crate::AuditLink>, StoreError>;
    /// Where a record sits in the chain, for evidence bundles.
    fn audit_proof(
        &self,
        kind: crate::AuditKind,
        row: i64,
    ) -> Result<Option<crate::AuditProof>, StoreError>;
}
