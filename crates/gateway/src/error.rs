//! What the send path refuses, with stable codes the API exposes.

use store::StoreError;

/// A request the gateway cannot carry out. Each variant has a stable [`GatewayError::code`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GatewayError {
    /// Empty text.
    #[error("text is empty")]
    EmptyText,
    /// Longer than the configured number of segments.
    #[error("text needs {segments} SMS segments; at most {max} are allowed")]
    TextTooLong {
        /// Needed.
        segments: u32,
        /// Allowed.
        max: u32,
    },
    /// Far longer than any allowed text (refused before counting its segments).
    #[error(
        "text is {bytes} bytes long; at most {max_chars} characters ({max_segments} SMS segments) \
         are allowed"
    )]
    TextTooLarge {
        /// Its length in bytes.
        bytes: usize,
        /// Characters allowed.
        max_chars: usize,
        /// Segments allowed.
        max_segments: u32,
    },
    /// No recipients.
    #[error("no recipients")]
    EmptyBatch,
    /// Too many recipients.
    #[error("{n} recipients in one batch; at most {max} are allowed")]
    BatchTooLarge {
        /// Given.
        n: usize,
        /// Allowed.
        max: usize,
    },
    /// A number that cannot be parsed, where one is required.
    #[error("{0}")]
    InvalidNumber(#[from] domain::InvalidNumber),
    /// A sender id that is not registered.
    #[error("unknown sender {0}")]
    UnknownSender(u32),
    /// A field combination that makes no sense (named).
    #[error("{0}")]
    InvalidField(String),
    /// The caller may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// No such thing (or not the caller's to see).
    #[error("{0} not found")]
    NotFound(String),
    /// Another sender (its id) already has this name and signature: consumers tell shops
    /// apart by them, so a second one would pass as the first (and share its reputation).
    #[error(
        "sender {0} already has this name and signature; choose a name or signature consumers can tell apart"
    )]
    DuplicateSender(u32),
    /// A complaint already filed (its id): one complaint per phone and message.
    #[error("already filed as complaint {0}")]
    DuplicateComplaint(u64),
    /// One phone filed too many complaints in 24 hours.
    #[error("too many complaints from this phone in 24 hours (at most {limit})")]
    TooManyComplaints {
        /// The configured limit.
        limit: u32,
    },
    /// A message id that was not sent to the phone (or from the sender) named.
    #[error("message {0} was not sent to this phone by this sender")]
    UnknownMessage(u64),
    /// A complaint about a pasted message that names no shop that wrote to the number: no
    /// registered signature of a shop that sent to it, and no message sent to it reads like it.
    #[error(
        "the pasted message could not be tied to a shop that sent a message to this number in \
         the last {days} days: pick the message from the list of messages you received"
    )]
    UnattributedComplaint {
        /// How far back messages to the number were compared.
        days: u32,
    },
    /// A suspension change that does not apply to the sender's current state.
    #[error("{0}")]
    SuspensionState(String),
    /// Too many requests of this kind for this phone; retry after the stated time.
    #[error("{0}")]
    TooManyRequests(String),
    /// A portal code or session that is wrong, expired or used up.
    #[error("{0}")]
    InvalidCode(String),
    /// Every extension of the platform number's configured width is taken.
    #[error(
        "the platform number has room for {max} senders with {digits}-digit extensions; a wider \
         `[gateway] extension_digits` is set when a platform is first installed"
    )]
    SenderNumbersFull {
        /// The configured width.
        digits: u32,
        /// Senders it has room for.
        max: u64,
    },
    /// Another node owns this phone's partition and could not be reached, or this node's
    /// lease on it lapsed: nothing was done (cluster mode; retry).
    #[error("the partition of {0} is not served here right now; retry")]
    PartitionUnavailable(String),
    /// A merchant's (or an import's) opt-in after a refusal the consumer gave themselves: only
    /// consent the consumer gives themselves lifts it, so it is not recorded.
    #[error(
        "the consumer refused this themselves (ledger event {seq}, {channel} at {at}); only \
         consent the consumer gives themselves (a reply, the portal) lifts it"
    )]
    ConsumerRefused {
        /// The refusal's ledger sequence number.
        seq: u64,
        /// When the consumer refused.
        at: domain::Timestamp,
        /// Through which channel (the event's `source`).
        channel: &'static str,
    },
    /// A message that can no longer be withdrawn (it is not held for quiet hours).
    #[error("{0}")]
    NotCancellable(String),
    /// A date outside what the gateway accepts (named, with the range).
    #[error("{0}")]
    DateOutOfRange(String),
    /// The dispatch queue is full: the caller should retry later.
    #[error("the dispatch queue is full; retry later")]
    Busy,
    /// A console sign-in with an unknown name or a wrong password (one answer for both, so a
    /// guesser learns nothing about which names exist).
    #[error("wrong name or password")]
    InvalidCredentials,
    /// Too many failed console sign-ins for this account or from this address.
    #[error("too many failed sign-ins; try again in {minutes} minutes")]
    TooManyAttempts { minutes: u32 },
    /// The account name (or the merchant's one account) is taken.
    #[error("{0}")]
    AccountExists(String),
    /// Storage failed; nothing was acknowledged. The backend's words are for logs: the API
    /// answers with a generic message (see `api::error`).
    #[error("storage: {0}")]
    Store(#[from] StoreError),
}

impl GatewayError {
    /// The stable error code.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            GatewayError::EmptyText => "empty_text",
            GatewayError::TextTooLong { .. } | GatewayError::TextTooLarge { .. } => "text_too_long",
            GatewayError::EmptyBatch => "empty_batch",
            GatewayError::BatchTooLarge { .. } => "batch_too_large",
            GatewayError::InvalidNumber(_) => "invalid_number",
            GatewayError::UnknownSender(_) => "unknown_sender",
            GatewayError::InvalidField(_) => "invalid_field",
            GatewayError::Forbidden(_) => "forbidden",
            GatewayError::NotFound(_) => "not_found",
            GatewayError::DuplicateComplaint(_) => "duplicate_complaint",
            GatewayError::DuplicateSender(_) => "duplicate_sender",
            GatewayError::TooManyComplaints { .. } => "too_many_complaints",
            GatewayError::UnknownMessage(_) => "unknown_message",
            GatewayError::UnattributedComplaint { .. } => "unattributed_complaint",
            GatewayError::SuspensionState(_) => "suspension_state",
            GatewayError::TooManyRequests(_) => "too_many_requests",
            GatewayError::InvalidCode(_) => "invalid_code",
            GatewayError::Busy => "busy",
            GatewayError::InvalidCredentials => "invalid_credentials",
            GatewayError::TooManyAttempts { .. } => "too_many_attempts",
            GatewayError::AccountExists(_) => "account_exists",
            GatewayError::ConsumerRefused { .. } => "consumer_refused",
            GatewayError::DateOutOfRange(_) => "date_out_of_range",
            GatewayError::NotCancellable(_) => "not_cancellable",
            GatewayError::PartitionUnavailable(_) => "partition_unavailable",
            GatewayError::SenderNumbersFull { .. } => "sender_numbers_full",
            GatewayError::Store(_) => "storage_unavailable",
        }
    }
}
