//! Decisions and their reasons.

use std::borrow::Cow;

use domain::{Category, Timestamp};
use serde::{Deserialize, Serialize};

/// What happens to a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// It may go now.
    Accepted,
    /// It may go later (quiet hours): it waits until `release_at` and is decided again then.
    Deferred,
    /// It may not go.
    Rejected,
}

impl Verdict {
    /// The stable wire name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Accepted => "accepted",
            Verdict::Deferred => "deferred",
            Verdict::Rejected => "rejected",
        }
    }
}

/// Stable reason codes. Names are part of the API: never rename one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ReasonCode {
    /// The recipient is not a valid phone number.
    InvalidNumber,
    /// The sender is suspended.
    SenderSuspended,
    /// Marketing without any recorded consent.
    NoConsent,
    /// Marketing after the recipient refused it (for this sender or platform-wide).
    OptedOut,
    /// Marketing inside the recipient's local quiet hours.
    QuietHours,
    /// Marketing over the per-sender per-recipient daily cap.
    CapSenderDaily,
    /// Marketing over the per-recipient daily cap across all senders.
    CapGlobalDaily,
    /// Transactional or verification over its per-sender per-recipient rate caps.
    RateLimited,
    /// The text does not carry the sender's signature.
    MissingSignature,
    /// Marketing without a refusal instruction (回T退订, Reply STOP, ...).
    MissingOptoutText,
    /// The same text went to the same recipient within the duplicate window.
    Duplicate,
    /// Declared transactional/verification, but the classifier reads marketing.
    ReclassifiedMarketing,
    /// The classifier reads fraud.
    FraudSuspected,
    /// Withdrawn by its sender while it was held for quiet hours (HTTP cancel, CMPP CANCEL).
    /// Not a policy refusal: reports count it apart from the reasons a message was blocked.
    Cancelled,
}

impl ReasonCode {
    /// Every code, in declaration order (what a search by reason accepts).
    pub const ALL: &'static [ReasonCode] = &[
        ReasonCode::InvalidNumber,
        ReasonCode::SenderSuspended,
        ReasonCode::NoConsent,
        ReasonCode::OptedOut,
        ReasonCode::QuietHours,
        ReasonCode::CapSenderDaily,
        ReasonCode::CapGlobalDaily,
        ReasonCode::RateLimited,
        ReasonCode::MissingSignature,
        ReasonCode::MissingOptoutText,
        ReasonCode::Duplicate,
        ReasonCode::ReclassifiedMarketing,
        ReasonCode::FraudSuspected,
        ReasonCode::Cancelled,
    ];

    /// The code whose wire name is `s`.
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|c| c.as_str() == s)
    }

    /// The stable wire name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            ReasonCode::InvalidNumber => "invalid_number",
            ReasonCode::SenderSuspended => "sender_suspended",
            ReasonCode::NoConsent => "no_consent",
            ReasonCode::OptedOut => "opted_out",
            ReasonCode::QuietHours => "quiet_hours",
            ReasonCode::CapSenderDaily => "cap_sender_daily",
            ReasonCode::CapGlobalDaily => "cap_global_daily",
            ReasonCode::RateLimited => "rate_limited",
            ReasonCode::MissingSignature => "missing_signature",
            ReasonCode::MissingOptoutText => "missing_optout_text",
            ReasonCode::Duplicate => "duplicate",
            ReasonCode::ReclassifiedMarketing => "reclassified_marketing",
            ReasonCode::FraudSuspected => "fraud_suspected",
            ReasonCode::Cancelled => "cancelled",
        }
    }

    /// Whether the reason only explains the decision and never rejects or defers on its own.
    /// `reclassified_marketing` says why marketing rules were applied to a message declared a
    /// notice; whether it may go is then up to those rules (consent, caps, quiet hours, …).
    #[must_use]
    pub fn is_informational(self) -> bool {
        Self::INFORMATIONAL.contains(&self)
    }

    /// Every informational code ([`ReasonCode::is_informational`]): what a report must not
    /// count as a reason a message was blocked.
    pub const INFORMATIONAL: &'static [ReasonCode] = &[ReasonCode::ReclassifiedMarketing];
}

/// One failed rule, with a sentence for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reason {
    /// Stable code.
    pub code: ReasonCode,
    /// What exactly was wrong, for the sender's support team.
    pub detail: Cow<'static, str>,
}

impl Reason {
    /// A reason with its detail.
    #[must_use]
    pub fn new(code: ReasonCode, detail: impl Into<Cow<'static, str>>) -> Self {
        Reason {
            code,
            detail: detail.into(),
        }
    }
}

/// The outcome for one message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    /// Accepted, deferred or rejected.
    pub verdict: Verdict,
    /// Every rule the message failed, in rule order, plus informational reasons such as
    /// `reclassified_marketing` (which may accompany an accepted message).
    pub reasons: Vec<Reason>,
    /// For deferred messages: when the quiet window ends.
    pub release_at: Option<Timestamp>,
    /// The category the rules applied (the declared one unless reclassified).
    pub category: Category,
    /// The content classifier's reading of the text (JSON `{category, scores}`) when it ran;
    /// shared by every recipient of the text and stored beside the decision.
    #[serde(skip)]
    pub content_scores: Option<std::sync::Arc<str>>,
}

impl Decision {
    /// Orders reasons into a verdict: quiet hours alone defers when `defer_quiet` is set;
    /// anything else rejects. Informational reasons ([`ReasonCode::is_informational`]) are
    /// kept with the decision but do not count: an accepted message may carry them.
    #[must_use]
    pub fn from_reasons(
        reasons: Vec<Reason>,
        release_at: Option<Timestamp>,
        defer_quiet: bool,
        category: Category,
    ) -> Self {
        let mut blocking = reasons.iter().filter(|r| !r.code.is_informational());
        let none_blocking = blocking.clone().next().is_none();
        let only_quiet = !none_blocking && blocking.all(|r| r.code == ReasonCode::QuietHours);
        let verdict = if none_blocking {
            Verdict::Accepted
        } else if only_quiet && defer_quiet && release_at.is_some() {
            Verdict::Deferred
        } else {
            Verdict::Rejected
        };
        Decision {
            verdict,
            release_at: if verdict == Verdict::Deferred {
                release_at
            } else {
                None
            },
            reasons,
            category,
            content_scores: None,
        }
    }

    /// The reason codes, in order.
    #[must_use]
    pub fn codes(&self) -> Vec<&'static str> {
        self.reasons.iter().map(|r| r.code.as_str()).collect()
    }

    /// Whether `code` is among the reasons.
    #[must_use]
    pub fn has(&self, code: ReasonCode) -> bool {
        self.reasons.iter().any(|r| r.code == code)
    }
}
