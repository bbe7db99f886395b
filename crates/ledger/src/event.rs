//! One consent event.

use domain::{ConsentAction, ConsentSource, Msisdn, Scope, SenderId, Timestamp};
use serde::{Deserialize, Serialize};

/// An immutable fact in the ledger: at `at`, `phone` opted in or out, for one sender or for the
/// whole platform, through `source`, as recorded by `actor`, with `evidence`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentEvent {
    /// Position in the ledger, assigned by the store when the event is committed.
    pub seq: u64,
    /// The consumer.
    pub phone: Msisdn,
    /// One merchant or every merchant.
    pub scope: Scope,
    /// The merchant, for `Scope::Sender`; `None` for `Scope::Platform`.
    pub sender: Option<SenderId>,
    /// Grant or refusal.
    pub action: ConsentAction,
    /// The channel through which the consumer expressed it.
    pub source: ConsentSource,
    /// Free text: form id, reply text, call reference.
    pub evidence: String,
    /// Who recorded it: `admin`, `sender:42`, `reply`, `import`.
    pub actor: String,
    /// When the consumer expressed it (not when it was recorded).
    pub at: Timestamp,
    /// When the gateway committed it.
    pub recorded_at: Timestamp,
}

impl ConsentEvent {
    /// A bare event with API source and no evidence, for tests and examples.
    #[must_use]
    pub fn new(
        seq: u64,
        phone: Msisdn,
        scope: Scope,
        sender: Option<SenderId>,
        action: ConsentAction,
        at: Timestamp,
    ) -> Self {
        ConsentEvent {
            seq,
            phone,
            scope,
            sender,
            action,
            source: ConsentSource::Api,
            evidence: String::new(),
            actor: String::new(),
            at,
            recorded_at: at,
        }
    }

    /// Whether this event bears on marketing from `sender`.
    #[must_use]
    pub fn applies_to(&self, sender: SenderId) -> bool {
        match self.scope {
            Scope::Platform => true,
            Scope::Sender => self.sender == Some(sender),
        }
    }

    /// Whether the consumer gave this event themselves ([`by_consumer`]).
    #[must_use]
    pub fn by_consumer(&self) -> bool {
        by_consumer(&self.actor)
    }

    /// Total order of the ledger: by the time the consumer acted, then by commit order.
    #[must_use]
    pub fn order_key(&self) -> (Timestamp, u64) {
        (self.at, self.seq)
    }
}

/// Whether an event recorded by `actor` is the consumer's own word: a reply to the platform's
/// number (`reply`), the portal after proving the number (`consumer`), the one-click page
/// (`link`), or the operator recording what the consumer asked for (`admin`, `platform`: a
/// call to the hotline). Read from who recorded the event, never from its `source`, which the
/// recorder fills in. A sender's records (`sender:N`), imports and anything unknown are not: a
/// refusal the consumer gave themselves is lifted only by consent they give themselves
/// ([`crate::decide_with_consumer`]).
#[must_use]
pub fn by_consumer(actor: &str) -> bool {
    matches!(actor, "reply" | "consumer" | "link" | "admin" | "platform")
}
