//! What the web console needs from storage: people's accounts, their sign-in sessions, recent
//! failed sign-ins, and the message search its pages page through.
//!
//! Sessions live here rather than in a signed cookie so that every node of a cluster sees the
//! same sessions (they share the store) and signing out or an idle expiry ends a session at
//! once everywhere: a signed cookie stays valid until it expires, whatever the server thinks.
//! Failed sign-ins are counted here for the same reason: a guesser spreading attempts over
//! several nodes meets one limit, not one per node.

use domain::{Category, Msisdn, SenderId, Timestamp};
use ledger::ConsentEvent;
use policy::{ReasonCode, Verdict};

use crate::{Store, StoreError};

/// What an account may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountRole {
    /// Platform staff: everything.
    Operator,
    /// Read-only: reports, audit, messages (the regulator's seat).
    Auditor,
    /// One merchant: its own data only.
    Merchant(SenderId),
}

impl AccountRole {
    /// Stored name (`operator`, `auditor`, `merchant`).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            AccountRole::Operator => "operator",
            AccountRole::Auditor => "auditor",
            AccountRole::Merchant(_) => "merchant",
        }
    }

    /// The merchant, for merchant accounts.
    #[must_use]
    pub fn sender(self) -> Option<SenderId> {
        match self {
            AccountRole::Merchant(s) => Some(s),
            _ => None,
        }
    }

    /// From the stored columns; `None` for a combination that cannot be.
    #[must_use]
    pub fn from_columns(role: &str, sender: Option<u32>) -> Option<Self> {
        Some(match (role, sender) {
            ("operator", None) => AccountRole::Operator,
            ("auditor", None) => AccountRole::Auditor,
            ("merchant", Some(s)) => AccountRole::Merchant(SenderId(s)),
            _ => return None,
        })
    }
}

/// An account to create.
#[derive(Debug, Clone)]
pub struct NewAccount {
    /// Sign-in name, unique.
    pub name: String,
    /// Role.
    pub role: AccountRole,
    /// PHC string of the password's argon2id hash; never the password.
    pub password_hash: String,
    /// When created.
    pub created_at: Timestamp,
}

/// A stored account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountRecord {
    /// Id.
    pub id: u64,
    /// Sign-in name.
    pub name: String,
    /// Role.
    pub role: AccountRole,
    /// PHC string of the password hash.
    pub password_hash: String,
    /// When created.
    pub created_at: Timestamp,
    /// Disabled by an operator: cannot sign in, and has no sessions.
    pub disabled: bool,
}

/// A signed-in session. The cookie carries a random token; only its SHA-256 is stored, so a
/// copy of the database opens no session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    /// SHA-256 of the cookie's token, hex.
    pub token_hash: String,
    /// Whose.
    pub account: u64,
    /// The token every form of this session must carry (synchroniser token against CSRF).
    pub csrf: String,
    /// When signed in (sessions also have an absolute lifetime).
    pub created_at: Timestamp,
    /// Last request, for the idle expiry.
    pub last_seen: Timestamp,
}

/// What to search messages by; every field present narrows the search. Newest first unless
/// `sort` says otherwise.
#[derive(Debug, Clone, Default)]
pub struct MessageQuery {
    /// Recipient.
    pub phone: Option<Msisdn>,
    /// Sender.
    pub sender: Option<SenderId>,
    /// Current verdict.
    pub status: Option<Verdict>,
    /// One of the current decision's reasons.
    pub reason: Option<ReasonCode>,
    /// Declared category.
    pub category: Option<Category>,
    /// First decided at or after this instant.
    pub from: Option<Timestamp>,
    /// First decided before this instant.
    pub to: Option<Timestamp>,
    /// Only ids below this one (the next page starts below the last id shown).
    pub before: Option<u64>,
    /// The order.
    pub sort: MessageSort,
    /// Rows of the order to skip (pages of a sort other than newest first), capped at
    /// [`MAX_OFFSET`].
    pub offset: u32,
    /// At most this many (capped at 500).
    pub limit: u32,
}

/// Deepest offset a list pages to: an offset page costs every row it skips, so deep pages are
/// refused rather than slow (narrow the search instead).
pub const MAX_OFFSET: u32 = 10_000;

/// A column a message list is ordered by; ties are broken by id in the same direction, so
/// every order is total and a page is stable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MessageColumn {
    /// Id, which is the order of submission.
    #[default]
    Id,
    /// Sender id.
    Sender,
    /// Recipient number.
    Phone,
    /// Current verdict.
    Status,
}

impl MessageColumn {
    /// Every column, for forms and errors.
    pub const ALL: [MessageColumn; 4] = [
        MessageColumn::Id,
        MessageColumn::Sender,
        MessageColumn::Phone,
        MessageColumn::Status,
    ];

    /// The wire name (`id`, `sender`, `phone`, `status`).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            MessageColumn::Id => "id",
            MessageColumn::Sender => "sender",
            MessageColumn::Phone => "phone",
            MessageColumn::Status => "status",
        }
    }

    /// From the wire name.
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// The SQL expression; each has an index `(expression, id)` in both stores.
    fn expr(self) -> &'static str {
        match self {
            MessageColumn::Id => "id",
            MessageColumn::Sender => "sender_id",
            MessageColumn::Phone => "phone",
            MessageColumn::Status => "coalesce(current_status, status)",
        }
    }
}

/// A column and a direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MessageSort {
    /// The column.
    pub column: MessageColumn,
    /// Largest first.
    pub descending: bool,
}

impl Default for MessageSort {
    /// Newest first.
    fn default() -> Self {
        MessageSort {
            column: MessageColumn::Id,
            descending: true,
        }
    }
}

impl MessageSort {
    /// The `ORDER BY` clause (without the keywords).
    pub(crate) fn order_by(self) -> String {
        let dir = if self.descending { "DESC" } else { "ASC" };
        match self.column {
            MessageColumn::Id => format!("id {dir}"),
            c => format!("{} {dir}, id {dir}", c.expr()),
        }
    }
}

impl MessageQuery {
    /// The limit as applied.
    #[must_use]
    pub fn capped_limit(&self) -> i64 {
        i64::from(self.limit.clamp(1, 500))
    }

    /// The offset as applied.
    #[must_use]
    pub fn capped_offset(&self) -> i64 {
        i64::from(self.offset.min(MAX_OFFSET))
    }

    /// The whole search, `columns` of the page's rows matching `clause` (from
    /// [`search_where`]). The page's ids are found first and only then its rows read: the
    /// inner query orders and cuts what an index alone often answers (its entries carry the
    /// id), so a search whose matches must be sorted — a category's day, thousands of rows —
    /// sorts ids and reads 25 rows, not every match. (Measured by `bench console`: the
    /// category-and-day page went from 21 ms at p50 reading every match to the figure in
    /// docs/PERFORMANCE.md.)
    pub(crate) fn select(&self, columns: &str, clause: &str) -> String {
        let order = self.sort.order_by();
        format!(
            "SELECT {columns} FROM messages WHERE id IN \
             (SELECT id FROM messages {clause} ORDER BY {order} LIMIT {} OFFSET {}) \
             ORDER BY {order}",
            self.capped_limit(),
            self.capped_offset()
        )
    }
}

/// Console accounts, sessions and sign-in failures.
pub trait ConsoleAccounts {
    /// Creates an account; [`StoreError::Conflict`] when the name is taken, or the merchant
    /// already has an account.
    fn create_account(&self, new: &NewAccount) -> Result<AccountRecord, StoreError>;
    /// The account named `name`.
    fn account_by_name(&self, name: &str) -> Result<Option<AccountRecord>, StoreError>;
    /// The account with `id`.
    fn account(&self, id: u64) -> Result<Option<AccountRecord>, StoreError>;
    /// Every account, by id.
    fn accounts(&self) -> Result<Vec<AccountRecord>, StoreError>;
    /// Stores a new session.
    fn put_session(&self, session: &SessionRecord) -> Result<(), StoreError>;
    /// The session whose token hashes to `token_hash`.
    fn session(&self, token_hash: &str) -> Result<Option<SessionRecord>, StoreError>;
    /// Marks the session as used at `at`.
    fn touch_session(&self, token_hash: &str, at: Timestamp) -> Result<(), StoreError>;
    /// Ends one session (sign-out).
    fn end_session(&self, token_hash: &str) -> Result<(), StoreError>;
    /// Ends every session last used before `idle_before` or created before `created_before`;
    /// returns how many.
    fn end_stale_sessions(
        &self,
        idle_before: Timestamp,
        created_before: Timestamp,
    ) -> Result<u64, StoreError>;
    /// Records one failed sign-in under each of `subjects` (e.g. the account and the address).
    fn record_signin_failure(&self, subjects: &[&str], at: Timestamp) -> Result<(), StoreError>;
    /// Failed sign-ins under `subject` since `since`.
    fn signin_failures(&self, subject: &str, since: Timestamp) -> Result<u64, StoreError>;
    /// Forgets `subject`'s failures (after a successful sign-in) and every failure older than
    /// `older_than`.
    fn clear_signin_failures(&self, subject: &str, older_than: Timestamp)
    -> Result<(), StoreError>;
    /// Messages matching `q`, newest first.
    fn search_messages(&self, q: &MessageQuery) -> Result<Vec<crate::MessageRecord>, StoreError>;
    /// How many messages first decided in `[from, to)` (of `sender`, if given) stand at each
    /// verdict now: what the dashboard draws.
    fn decision_counts(
        &self,
        from: Timestamp,
        to: Timestamp,
        sender: Option<SenderId>,
    ) -> Result<Vec<(Verdict, u64)>, StoreError>;
    /// Replaces every API key of `sender` with the key hashing to `hash`, in one transaction:
    /// the old keys stop working when this returns.
    fn replace_sender_key(&self, sender: SenderId, hash: &str) -> Result<(), StoreError>;
    /// Disables or enables the account `id`; disabling also ends every session of it, in the
    /// same transaction, so no request is served for it once this returns. `false` when there
    /// is no such account.
    fn set_account_disabled(&self, id: u64, disabled: bool) -> Result<bool, StoreError>;
    /// Every event bearing on `sender` (its own and the platform-wide ones) of every phone
    /// that has an event of `sender`'s, by phone then commit order: what the merchant's
    /// consent summary folds.
    fn sender_consent_events(&self, sender: SenderId) -> Result<Vec<ConsentEvent>, StoreError>;
    /// `sender`'s own latest `limit` events (capped at 500), the last recorded first.
    fn recent_sender_consents(
        &self,
        sender: SenderId,
        limit: u32,
    ) -> Result<Vec<ConsentEvent>, StoreError>;
}

impl ConsoleAccounts for Store {
    fn create_account(&self, new: &NewAccount) -> Result<AccountRecord, StoreError> {
        crate::dispatch!(self, s => s.create_account(new))
    }
    fn account_by_name(&self, name: &str) -> Result<Option<AccountRecord>, StoreError> {
        crate::dispatch!(self, s => s.account_by_name(name))
    }
    fn account(&self, id: u64) -> Result<Option<AccountRecord>, StoreError> {
        crate::dispatch!(self, s => s.account(id))
    }
    fn accounts(&self) -> Result<Vec<AccountRecord>, StoreError> {
        crate::dispatch!(self, s => s.accounts())
    }
    fn put_session(&self, session: &SessionRecord) -> Result<(), StoreError> {
        crate::dispatch!(self, s => s.put_session(session))
    }
    fn session(&self, token_hash: &str) -> Result<Option<SessionRecord>, StoreError> {
        crate::dispatch!(self, s => s.session(token_hash))
    }
    fn touch_session(&self, token_hash: &str, at: Timestamp) -> Result<(), StoreError> {
        crate::dispatch!(self, s => s.touch_session(token_hash, at))
    }
    fn end_session(&self, token_hash: &str) -> Result<(), StoreError> {
        crate::dispatch!(self, s => s.end_session(token_hash))
    }
    fn end_stale_sessions(
        &self,
        idle_before: Timestamp,
        created_before: Timestamp,
    ) -> Result<u64, StoreError> {
        crate::dispatch!(self, s => s.end_stale_sessions(idle_before, created_before))
    }
    fn record_signin_failure(&self, subjects: &[&str], at: Timestamp) -> Result<(), StoreError> {
        crate::dispatch!(self, s => s.record_signin_failure(subjects, at))
    }
    fn signin_failures(&self, subject: &str, since: Timestamp) -> Result<u64, StoreError> {
        crate::dispatch!(self, s => s.signin_failures(subject, since))
    }
    fn clear_signin_failures(
        &self,
        subject: &str,
        older_than: Timestamp,
    ) -> Result<(), StoreError> {
        crate::dispatch!(self, s => s.clear_signin_failures(subject, older_than))
    }
    fn search_messages(&self, q: &MessageQuery) -> Result<Vec<crate::MessageRecord>, StoreError> {
        crate::dispatch!(self, s => s.search_messages(q))
    }
    fn decision_counts(
        &self,
        from: Timestamp,
        to: Timestamp,
        sender: Option<SenderId>,
    ) -> Result<Vec<(Verdict, u64)>, StoreError> {
        crate::dispatch!(self, s => s.decision_counts(from, to, sender))
    }
    fn replace_sender_key(&self, sender: SenderId, hash: &str) -> Result<(), StoreError> {
        crate::dispatch!(self, s => s.replace_sender_key(sender, hash))
    }
    fn set_account_disabled(&self, id: u64, disabled: bool) -> Result<bool, StoreError> {
        crate::dispatch!(self, s => s.set_account_disabled(id, disabled))
    }
    fn sender_consent_events(&self, sender: SenderId) -> Result<Vec<ConsentEvent>, StoreError> {
        crate::dispatch!(self, s => s.sender_consent_events(sender))
    }
    fn recent_sender_consents(
        &self,
        sender: SenderId,
        limit: u32,
    ) -> Result<Vec<ConsentEvent>, StoreError> {
        crate::dispatch!(self, s => s.recent_sender_consents(sender, limit))
    }
}

/// The `WHERE` clause of a message search with numbered placeholders (`?N` for SQLite, `$N`
/// for PostgreSQL), and which values fill them in order: only the conditions asked for, so the
/// planner can use the phone and sender indexes.
pub(crate) fn search_where(
    q: &MessageQuery,
    mark: char,
    sparse_reason: bool,
) -> (String, Vec<SearchValue>) {
    let mut conds = Vec::new();
    let mut values = Vec::new();
    let mut push = |cond: &str, v: SearchValue, conds: &mut Vec<String>| {
        values.push(v);
        conds.push(format!("{cond} {mark}{}", values.len()));
    };
    if let Some(p) = q.phone {
        push(
            "phone =",
            SearchValue::Int(crate::values::phone_col(p)),
            &mut conds,
        );
    }
    if let Some(s) = q.sender {
        push("sender_id =", SearchValue::Int(i64::from(s.0)), &mut conds);
    }
    if let Some(v) = q.status {
        push(
            "coalesce(current_status, status) =",
            SearchValue::Text(v.as_str()),
            &mut conds,
        );
    }
    if let Some(c) = q.category {
        push("category =", SearchValue::Text(c.as_str()), &mut conds);
    }
    if q.reason.is_some_and(|r| !r.is_informational()) && (q.from.is_some() || q.to.is_some()) {
        // Only refused and held messages carry a reason that is not informational: said here,
        // a day's search by reason reads that day's refusals through `messages_refused_decided`
        // (a partial index) instead of every message of the day. Not without a day: newest
        // first by id finds a page sooner then.
        conds.push("coalesce(current_status, status) <> 'accepted'".to_string());
    }
    if let Some(r) = q.reason {
        // `message_reasons` holds the current decision's codes keyed by (code, message). A
        // code with few messages is read whole (at most `SPARSE_REASON` ids) and the page cut
        // from them; a common one is probed per candidate in the page's order, which finds a
        // page within a few dozen rows — gathering it whole would read a tenth of the table.
        let cond = if sparse_reason {
            "id IN (SELECT message_id FROM message_reasons WHERE code ="
        } else {
            "EXISTS (SELECT 1 FROM message_reasons r WHERE r.message_id = messages.id AND r.code ="
        };
        push(cond, SearchValue::Text(r.as_str()), &mut conds);
        if let Some(last) = conds.last_mut() {
            last.push(')');
        }
    }
    if let Some(f) = q.from {
        push(
            "decided_at >=",
            SearchValue::Int(crate::values::micros(f)),
            &mut conds,
        );
    }
    if let Some(t) = q.to {
        push(
            "decided_at <",
            SearchValue::Int(crate::values::micros(t)),
            &mut conds,
        );
    }
    if let Some(b) = q.before {
        push(
            "id <",
            SearchValue::Int(i64::try_from(b).unwrap_or(i64::MAX)),
            &mut conds,
        );
    }
    let clause = if conds.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", conds.join(" AND "))
    };
    (clause, values)
}

/// A reason code with fewer messages than this is searched by gathering them all (see
/// [`search_where`]); [`sparse_reason_probe`] tells.
pub(crate) const SPARSE_REASON: u32 = 5_000;

/// Whether `code` has fewer than [`SPARSE_REASON`] messages: reads at most that many keys.
pub(crate) fn sparse_reason_probe(mark: char) -> String {
    format!(
        "SELECT count(*) < {SPARSE_REASON} FROM \
         (SELECT 1 FROM message_reasons WHERE code = {mark}1 LIMIT {SPARSE_REASON}) c"
    )
}

/// One value of a search's `WHERE` clause.
pub(crate) enum SearchValue {
    Int(i64),
    Text(&'static str),
    Owned(String),
}
