//! Durable storage for the gateway.
//!
//! The store is the ledger's durable log and the record of every decision. It is split into
//! *role traits* — [`ConsentLog`], [`SenderRegistry`], [`MessageLog`], [`KeyRing`] — that say what
//! the gateway needs, and one [`Store`] enum that dispatches to a backend. SQLite (WAL, with
//! `synchronous=FULL` by default, so that an acknowledged opt-out survives `kill -9` and power
//! loss) is the embedded default; PostgreSQL ([`postgres`]) is the backend several nodes share.
//! Both have the same file shape (a module per table group), both pass the same conformance
//! suite (`tests/conformance.rs`), and the audit chain's canonical form and verification are
//! one backend-neutral implementation ([`audit`]). Errors name what went wrong, never which
//! backend's type said so ([`StoreError`]).
//!
//! Business rules stay out of SQL: the store appends, reads and updates; the ledger folds and the
//! policy decides.
//!
//! ```
//! use store::{ConsentLog, Store};
//! let store = Store::open_in_memory().unwrap();
//! assert_eq!(store.consent_count().unwrap(), 0);
//! ```

pub mod audit;
mod complaint_list;
mod complaints;
pub mod console;
mod error;
pub mod faults;
pub mod postgres;
mod records;
mod replies;
mod roles;
mod sender_list;
pub mod sqlite;
#[doc(hidden)]
pub mod testing;
mod traffic;
mod values;

pub use audit::{
    AuditAnchor, AuditHead, AuditKind, AuditLink, AuditProof, AuditReport, Broken, RecordField,
};
pub use complaint_list::{ComplaintColumn, ComplaintQuery, ComplaintSort};
pub use complaints::{
    ComplaintLog, ComplaintRecord, NewComplaint, NewSuspension, SuspensionRecord,
};
pub use console::{
    AccountRecord, AccountRole, ConsoleAccounts, MAX_OFFSET, MessageColumn, MessageQuery,
    MessageSort, NewAccount, SessionRecord,
};
pub use error::StoreError;
pub use postgres::PgOptions;
pub use records::{
    Delivery, KeyRole, MessageRecord, NewConsent, NewMessage, NewSender, RecentSend, SenderRecord,
};
pub use replies::{LinkRecord, NewReply, ReplyLog, UnsubscribeLinks};
pub use roles::{
    AuditLog, CmppRegistry, ConsentLog, Handoff, KeyRing, MessageLog, Pins, SenderRegistry,
    SmppRegistry,
};
pub use sender_list::{SenderColumn, SenderQuery};
pub use traffic::{Traffic, TrafficLog};

use std::path::Path;

use domain::{Msisdn, SenderId, Timestamp};
use ledger::ConsentEvent;

/// How hard commits are pushed to disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Durability {
    /// fsync on every commit: an acknowledged event survives power loss.
    #[default]
    Full,
    /// fsync at WAL checkpoints: survives a process crash (`kill -9`), not power loss.
    Normal,
}

/// The one store type the gateway holds; each variant is a backend.
#[derive(Debug)]
#[non_exhaustive]
pub enum Store {
    /// Embedded SQLite.
    Sqlite(sqlite::SqliteStore),
    /// PostgreSQL, shared by several nodes.
    Postgres(postgres::PgStore),
}

impl Store {
    /// Opens (creating if needed) the SQLite store in `dir`.
    pub fn open_sqlite(dir: &Path, durability: Durability) -> Result<Self, StoreError> {
        Ok(Store::Sqlite(sqlite::SqliteStore::open(dir, durability)?))
    }

    /// Opens the SQLite store in `dir`; `audit` says whether evidence records are chained
    /// (off only to measure what the chain costs).
    pub fn open_sqlite_with(
        dir: &Path,
        durability: Durability,
        audit: bool,
    ) -> Result<Self, StoreError> {
        Ok(Store::Sqlite(sqlite::SqliteStore::open_with(
            dir, durability, audit,
        )?))
    }

    /// Connects to PostgreSQL and applies any migrations the database lacks.
    pub fn open_postgres(opts: &PgOptions) -> Result<Self, StoreError> {
        Ok(Store::Postgres(postgres::PgStore::open(opts)?))
    }

    /// Which backend this is: `sqlite` or `postgres`.
    #[must_use]
    pub fn backend(&self) -> &'static str {
        match self {
            Store::Sqlite(_) => "sqlite",
            Store::Postgres(_) => "postgres",
        }
    }

    /// A throw-away in-memory store, for tests and dry runs.
    pub fn open_in_memory() -> Result<Self, StoreError> {
        Ok(Store::Sqlite(sqlite::SqliteStore::open_in_memory()?))
    }
}

/// Calls the same method on whichever backend `self` is.
macro_rules! dispatch {
    ($self:ident, $s:ident => $e:expr) => {
        match $self {
            Store::Sqlite($s) => $e,
            Store::Postgres($s) => $e,
        }
    };
}
pub(crate) use dispatch;

impl ConsentLog for Store {
    fn append_consents_at(
        &self,
        events: &[NewConsent],
        recorded_at: Timestamp,
    ) -> Result<Vec<ConsentEvent>, StoreError> {
        dispatch!(self, s => s.append_consents_at(events, recorded_at))
    }
    fn append_consents_pinned(
        &self,
        events: &[NewConsent],
        recorded_at: Timestamp,
        pins: &Pins,
    ) -> Result<Vec<ConsentEvent>, StoreError> {
        dispatch!(self, s => s.append_consents_pinned(events, recorded_at, pins))
    }
    fn consent_history(&self, phone: Msisdn) -> Result<Vec<ConsentEvent>, StoreError> {
        dispatch!(self, s => s.consent_history(phone))
    }
    fn scan_consents(
        &self,
        f: &mut dyn FnMut(Msisdn, Option<SenderId>, domain::ConsentAction, Timestamp, bool),
    ) -> Result<u64, StoreError> {
        dispatch!(self, s => s.scan_consents(f))
    }
    fn consent_count(&self) -> Result<u64, StoreError> {
        dispatch!(self, s => s.consent_count())
    }
    fn scan_partition(
        &self,
        partitions: u32,
        part: u32,
        f: &mut dyn FnMut(Msisdn, Option<SenderId>, domain::ConsentAction, Timestamp, bool),
    ) -> Result<u64, StoreError> {
        dispatch!(self, s => s.scan_partition(partitions, part, f))
    }
    fn consent_counts_by_phone(&self, f: &mut dyn FnMut(Msisdn, u32)) -> Result<(), StoreError> {
        dispatch!(self, s => s.consent_counts_by_phone(f))
    }
}

impl SenderRegistry for Store {
    fn create_sender(&self, new: &NewSender) -> Result<SenderRecord, StoreError> {
        dispatch!(self, s => s.create_sender(new))
    }
    fn senders(&self) -> Result<Vec<SenderRecord>, StoreError> {
        dispatch!(self, s => s.senders())
    }
    fn sender_page(&self, q: &SenderQuery) -> Result<(Vec<SenderRecord>, u64), StoreError> {
        dispatch!(self, s => s.sender_page(q))
    }
    fn edit_sender(
        &self,
        id: SenderId,
        name: &str,
        signature: &str,
        actor: &str,
    ) -> Result<Option<SenderRecord>, StoreError> {
        dispatch!(self, s => s.edit_sender(id, name, signature, actor))
    }
}

impl MessageLog for Store {
    fn insert_messages(&self, msgs: &[NewMessage<'_>]) -> Result<Vec<u64>, StoreError> {
        dispatch!(self, s => s.insert_messages(msgs))
    }
    fn insert_messages_pinned(
        &self,
        msgs: &[NewMessage<'_>],
        pins: &Pins,
    ) -> Result<Vec<u64>, StoreError> {
        dispatch!(self, s => s.insert_messages_pinned(msgs, pins))
    }
    fn message_on_record(&self, id: u64) -> Result<Option<MessageRecord>, StoreError> {
        dispatch!(self, s => s.message_on_record(id))
    }

    fn message(&self, id: u64) -> Result<Option<MessageRecord>, StoreError> {
        dispatch!(self, s => s.message(id))
    }
    fn redecide(
        &self,
        id: u64,
        decision: &policy::Decision,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        dispatch!(self, s => s.redecide(id, decision, at))
    }
    fn redecide_pinned(
        &self,
        id: u64,
        phone: Msisdn,
        decision: &policy::Decision,
        at: Timestamp,
        pins: &Pins,
    ) -> Result<(), StoreError> {
        dispatch!(self, s => s.redecide_pinned(id, phone, decision, at, pins))
    }
    fn set_delivery(&self, updates: &[(u64, Delivery, Timestamp)]) -> Result<(), StoreError> {
        dispatch!(self, s => s.set_delivery(updates))
    }
    fn inbox(&self, phone: Msisdn) -> Result<Vec<MessageRecord>, StoreError> {
        dispatch!(self, s => s.inbox(phone))
    }
    fn pending(&self) -> Result<Vec<MessageRecord>, StoreError> {
        dispatch!(self, s => s.pending())
    }
    fn recent_sends(&self, since: Timestamp) -> Result<Vec<RecentSend>, StoreError> {
        dispatch!(self, s => s.recent_sends(since))
    }
}

impl SmppRegistry for Store {
    fn put_smpp_credential(
        &self,
        system_id: &str,
        sender: SenderId,
        password_hash: &str,
    ) -> Result<(), StoreError> {
        dispatch!(self, s => s.put_smpp_credential(system_id, sender, password_hash))
    }
    fn smpp_credential(&self, system_id: &str) -> Result<Option<(SenderId, String)>, StoreError> {
        dispatch!(self, s => s.smpp_credential(system_id))
    }
    fn smpp_system_id(&self, sender: SenderId) -> Result<Option<String>, StoreError> {
        dispatch!(self, s => s.smpp_system_id(sender))
    }
    fn put_carrier_ids(&self, carrier: &str, ids: &[(String, u64)]) -> Result<(), StoreError> {
        dispatch!(self, s => s.put_carrier_ids(carrier, ids))
    }
    fn message_by_carrier_id(
        &self,
        carrier: &str,
        carrier_id: &str,
    ) -> Result<Option<u64>, StoreError> {
        dispatch!(self, s => s.message_by_carrier_id(carrier, carrier_id))
    }
    fn unacknowledged_handoffs(&self, since: Timestamp) -> Result<Vec<Handoff>, StoreError> {
        dispatch!(self, s => s.unacknowledged_handoffs(since))
    }
}

impl CmppRegistry for Store {
    fn put_cmpp_account(
        &self,
        source_addr: &str,
        sender: SenderId,
        secret: &str,
    ) -> Result<(), StoreError> {
        dispatch!(self, s => s.put_cmpp_account(source_addr, sender, secret))
    }
    fn cmpp_account(&self, source_addr: &str) -> Result<Option<(SenderId, String)>, StoreError> {
        dispatch!(self, s => s.cmpp_account(source_addr))
    }
}

impl KeyRing for Store {
    fn put_key(&self, hash: &str, role: KeyRole) -> Result<(), StoreError> {
        dispatch!(self, s => s.put_key(hash, role))
    }
    fn keys(&self) -> Result<Vec<(String, KeyRole)>, StoreError> {
        dispatch!(self, s => s.keys())
    }
}

impl ReplyLog for Store {
    fn reply_outcome(&self, key: &str) -> Result<Option<(u64, String)>, StoreError> {
        dispatch!(self, s => s.reply_outcome(key))
    }
    fn record_reply(&self, reply: &NewReply<'_>) -> Result<u64, StoreError> {
        dispatch!(self, s => s.record_reply(reply))
    }
    fn claim_notice(
        &self,
        phone: Msisdn,
        target: u32,
        kind: &str,
        day: i32,
    ) -> Result<bool, StoreError> {
        dispatch!(self, s => s.claim_notice(phone, target, kind, day))
    }
    fn marketing_senders(
        &self,
        phone: Msisdn,
        since: Timestamp,
    ) -> Result<Vec<SenderId>, StoreError> {
        dispatch!(self, s => s.marketing_senders(phone, since))
    }
}

impl UnsubscribeLinks for Store {
    fn put_links(&self, links: &[LinkRecord]) -> Result<(), StoreError> {
        dispatch!(self, s => s.put_links(links))
    }
    fn link(&self, token_hash: &str) -> Result<Option<LinkRecord>, StoreError> {
        dispatch!(self, s => s.link(token_hash))
    }
}

impl AuditLog for Store {
    fn audit_head(&self) -> Result<AuditHead, StoreError> {
        dispatch!(self, s => s.audit_head())
    }
    fn verify_audit_against(&self, anchors: &[AuditAnchor]) -> Result<AuditReport, StoreError> {
        dispatch!(self, s => s.verify_audit_against(anchors))
    }
    fn audit_path(&self, after: u64) -> Result<Vec<AuditLink>, StoreError> {
        dispatch!(self, s => s.audit_path(after))
    }
    fn audit_proof(&self, kind: AuditKind, row: i64) -> Result<Option<AuditProof>, StoreError> {
        dispatch!(self, s => s.audit_proof(kind, row))
    }
}
