//! What the store keeps, as plain records.

use domain::{Category, ConsentAction, ConsentSource, Msisdn, Scope, SenderId, Timestamp};
use policy::{Reason, Verdict};
use serde::Serialize;

/// A consent event before the store gives it a sequence number.
#[derive(Debug, Clone)]
pub struct NewConsent {
    /// The consumer.
    pub phone: Msisdn,
    /// One merchant or all.
    pub scope: Scope,
    /// The merchant, for sender scope.
    pub sender: Option<SenderId>,
    /// Grant or refusal.
    pub action: ConsentAction,
    /// Channel.
    pub source: ConsentSource,
    /// Evidence text.
    pub evidence: String,
    /// Who recorded it.
    pub actor: String,
    /// When the consumer acted.
    pub at: Timestamp,
}

/// A sender to register.
#[derive(Debug, Clone)]
pub struct NewSender {
    /// Display name.
    pub name: String,
    /// Signature that must appear in its texts.
    pub signature: String,
    /// The platform's base number; the sender's number is this followed by its id, padded to
    /// `extension_digits` (allocated by the store, so ids and numbers are unique across nodes).
    pub number_prefix: String,
    /// Width of the per-sender extension.
    pub extension_digits: u32,
    /// Hash of its API key.
    pub api_key_hash: String,
}

impl NewSender {
    /// The source number of the sender with `id`, or `None` when the id does not fit the
    /// extension width (every number is taken).
    #[must_use]
    pub fn source_number(&self, id: u64) -> Option<String> {
        let max = 10u64.checked_pow(self.extension_digits)?.saturating_sub(1);
        (id >= 1 && id <= max).then(|| {
            let width = self.extension_digits as usize;
            format!("{}{id:0width$}", self.number_prefix)
        })
    }

    /// Senders the extension width has room for.
    #[must_use]
    pub fn capacity(&self) -> u64 {
        10u64
            .checked_pow(self.extension_digits)
            .map_or(u64::MAX, |n| n.saturating_sub(1))
    }
}

/// A registered sender.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SenderRecord {
    /// Id.
    pub id: SenderId,
    /// Display name.
    pub name: String,
    /// Signature.
    pub signature: String,
    /// Reply-attribution number.
    pub source_number: String,
    /// Suspended by enforcement.
    pub suspended: bool,
    /// Registered at.
    pub created_at: Timestamp,
}

/// What a key authenticates as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyRole {
    /// The operator.
    Admin,
    /// The carrier's inbound (mobile-originated) feed.
    Carrier,
    /// One sender.
    Sender(SenderId),
}

/// Where a message is on its way to the handset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Delivery {
    /// Not handed to a carrier (deferred, or queued).
    Pending,
    /// Handed to the carrier.
    Submitted,
    /// The handset has it.
    Delivered,
    /// The carrier gave up.
    Failed,
    /// Never sent: rejected, or cancelled by an opt-out before hand-off.
    NotSent,
}

impl Delivery {
    /// Wire name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Delivery::Pending => "pending",
            Delivery::Submitted => "submitted",
            Delivery::Delivered => "delivered",
            Delivery::Failed => "failed",
            Delivery::NotSent => "not_sent",
        }
    }

    pub(crate) fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "pending" => Delivery::Pending,
            "submitted" => Delivery::Submitted,
            "delivered" => Delivery::Delivered,
            "failed" => Delivery::Failed,
            "not_sent" => Delivery::NotSent,
            _ => return None,
        })
    }
}

/// A decided message to record.
#[derive(Debug, Clone)]
pub struct NewMessage<'a> {
    /// Sender.
    pub sender: SenderId,
    /// The recipient as given.
    pub to: &'a str,
    /// The parsed recipient, if valid.
    pub phone: Option<Msisdn>,
    /// Text.
    pub text: &'a str,
    /// Declared category.
    pub category: Category,
    /// The decision.
    pub verdict: Verdict,
    /// Its reasons.
    pub reasons: &'a [Reason],
    /// When it was decided.
    pub decided_at: Timestamp,
    /// For deferred messages.
    pub release_at: Option<Timestamp>,
    /// Hash of the text, for duplicate detection after a restart.
    pub text_hash: u64,
    /// The content classifier's scores, JSON `{category, scores: {label: p}}`, if it ran.
    pub content_scores: Option<&'a str>,
}

/// A stored message with its current decision and delivery state.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MessageRecord {
    /// Id.
    pub id: u64,
    /// Sender.
    pub sender: SenderId,
    /// Recipient as given.
    pub to: String,
    /// Parsed recipient.
    #[serde(skip)]
    pub phone: Option<Msisdn>,
    /// Text.
    pub text: String,
    /// Declared category.
    pub category: Category,
    /// Current verdict.
    pub status: Verdict,
    /// Reasons of the current verdict.
    pub reasons: Vec<Reason>,
    /// When first decided.
    pub submitted_at: Timestamp,
    /// When the current verdict was reached.
    pub decided_at: Timestamp,
    /// When a deferred message is due.
    pub release_at: Option<Timestamp>,
    /// Delivery state.
    pub delivery: Delivery,
    /// When the delivery state last changed.
    pub delivery_at: Option<Timestamp>,
    /// The content classifier's reading of the text (`{category, scores}`), if it ran.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_scores: Option<serde_json::Value>,
}

/// An accepted message, as needed to rebuild volume counters and duplicate windows at start.
#[derive(Debug, Clone, Copy)]
pub struct RecentSend {
    /// Sender.
    pub sender: SenderId,
    /// Recipient.
    pub phone: Msisdn,
    /// Category applied.
    pub category: Category,
    /// When accepted.
    pub at: Timestamp,
    /// Text hash.
    pub text_hash: u64,
}
