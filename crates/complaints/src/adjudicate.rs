//! Adjudication: was the message a complaint is about sent lawfully?
//!
//! A pure function of what consentry itself recorded — the message and the decision stored with
//! it, the phone's ledger as it stood when the message was handed to the carrier, what the
//! classifier reads in the stored text, and the phone's marketing that local day. What the
//! complainant says picks the message (see [`crate::matching`]) and whether the consent is
//! disputed ([`ComplaintKind::disputes_consent`]); it never decides on its own.

use domain::{Category, SenderId, Timestamp};
use ledger::{Answer, ConsentEvent, answer_at};
use policy::{Reason, Verdict};
use serde::{Deserialize, Serialize};

use crate::strength::{Strength, StrengthOf, strength};
use crate::{ComplaintKind, ComplaintVerdict};

/// The stored message and its decision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SentMessage {
    /// Message id.
    pub message_id: u64,
    /// Its sender.
    pub sender: SenderId,
    /// The stored text.
    pub text: String,
    /// The category the sender declared.
    pub category: Category,
    /// The decision recorded with it.
    pub status: Verdict,
    /// The decision's reasons.
    pub reasons: Vec<Reason>,
    /// When it was decided.
    pub decided_at: Timestamp,
    /// When it was handed to the carrier; `None` if it never was (rejected, cancelled, queued).
    pub sent_at: Option<Timestamp>,
}

/// What the content classifier reads in the stored text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContentView {
    /// The most probable category.
    pub category: String,
    /// Probability that it is marketing.
    pub marketing: f32,
    /// Probability that it is fraud.
    pub fraud: f32,
    /// The clause that sells, when the text has several and one was read as marketing
    /// (decisions recorded before clause reading have none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clause: Option<String>,
}

/// Facts about the phone's marketing on the local day of the send, counted from the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendFacts {
    /// Whether the hand-off fell inside the recipient's local quiet hours.
    pub in_quiet_hours: bool,
    /// Marketing from this sender handed off to the phone that local day, up to and including
    /// this message.
    pub sender_marketing_that_day: u32,
    /// Marketing from every sender handed off to the phone that local day, up to and including
    /// this message.
    pub marketing_that_day: u32,
}

/// The thresholds a send is judged against.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Limits {
    /// `[policy] max_marketing_per_sender_per_day`.
    pub max_marketing_per_sender_per_day: u32,
    /// `[policy] max_marketing_per_recipient_per_day`.
    pub max_marketing_per_recipient_per_day: u32,
    /// Classifier marketing probability at or above which a non-marketing declaration is
    /// disguise. Lower than the send-time block: a consumer's complaint is evidence too.
    pub marketing_threshold: f32,
    /// Classifier fraud probability above which the text is fraud.
    pub fraud_threshold: f32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_marketing_per_sender_per_day: 1,
            max_marketing_per_recipient_per_day: 3,
            marketing_threshold: 0.6,
            fraud_threshold: 0.95,
        }
    }
}

/// Everything one adjudication looks at.
#[derive(Debug, Clone, Copy)]
pub struct Case<'a> {
    /// What the consumer complains about.
    pub kind: ComplaintKind,
    /// The matched message, if one was found.
    pub message: Option<&'a SentMessage>,
    /// The phone's whole consent history (any order).
    pub history: &'a [ConsentEvent],
    /// The classifier's reading of the stored text, when a classifier is available.
    pub content: Option<&'a ContentView>,
    /// Day counts and quiet hours at the hand-off.
    pub facts: Option<SendFacts>,
    /// Thresholds.
    pub limits: Limits,
}

/// One reason for the verdict. Codes are stable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Ground {
    /// Marketing with no consent in the ledger at send time.
    NoConsent,
    /// Marketing after an opt-out in force at send time.
    AfterOptout,
    /// Marketing handed off inside the recipient's quiet hours.
    QuietHours,
    /// Marketing over a daily cap.
    OverCap,
    /// Declared transactional or verification, read as marketing.
    DisguisedMarketing,
    /// Marketing on a consent only the sender vouches for, which the consumer disputes.
    AssertedConsentDisputed,
    /// The classifier reads fraud.
    FraudContent,
    /// Marketing on a consent the platform witnessed.
    ConfirmedConsent,
    /// Marketing on a consent the sender recorded, which this complaint does not dispute.
    ConsentNotDisputed,
    /// Not marketing: no consent needed.
    NotMarketing,
    /// No message consentry sent fits the complaint.
    NotSentThroughConsentry,
    /// The message was never handed to a carrier (rejected, cancelled, or still queued).
    NeverHandedOff,
}

impl Ground {
    /// Whether this ground makes the verdict a violation.
    #[must_use]
    pub fn is_violation(self) -> bool {
        matches!(
            self,
            Ground::NoConsent
                | Ground::AfterOptout
                | Ground::QuietHours
                | Ground::OverCap
                | Ground::DisguisedMarketing
                | Ground::AssertedConsentDisputed
                | Ground::FraudContent
        )
    }
}

/// A ground with the sentence that explains it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// Stable code.
    pub ground: Ground,
    /// What exactly, with the facts.
    pub detail: String,
}

/// The consent state at the hand-off, with the event that decided it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConsentAtSend {
    /// The instant judged.
    pub at: Timestamp,
    /// `consented`, `opted_out` or `no_consent`.
    pub state: String,
    /// The deciding event.
    pub event: Option<ConsentEvent>,
    /// For a consent: confirmed or asserted, and why.
    pub strength: Option<StrengthOf>,
}

/// A verdict with everything it rests on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Adjudication {
    /// Violation, no violation, or unverified.
    pub verdict: ComplaintVerdict,
    /// Every ground found, violations first.
    pub findings: Vec<Finding>,
    /// Whether the message was judged as marketing (declared, or read as such).
    pub treated_as_marketing: bool,
    /// The stored message and decision.
    pub message: Option<SentMessage>,
    /// Consent at send time.
    pub consent: Option<ConsentAtSend>,
    /// The phone's ledger events bearing on this sender up to the send, in ledger order.
    pub events: Vec<ConsentEvent>,
    /// The classifier's reading of the stored text.
    pub content: Option<ContentView>,
    /// Day counts and quiet hours at the send.
    pub facts: Option<SendFacts>,
}

impl Adjudication {
    /// The ground codes, in order.
    #[must_use]
    pub fn grounds(&self) -> Vec<Ground> {
        self.findings.iter().map(|f| f.ground).collect()
    }
}

fn unverified(ground: Ground, detail: String, message: Option<SentMessage>) -> Adjudication {
    Adjudication {
        verdict: ComplaintVerdict::Unverified,
        findings: vec![Finding { ground, detail }],
        treated_as_marketing: false,
        message,
        consent: None,
        events: Vec::new(),
        content: None,
        facts: None,
    }
}

/// Decides a complaint; see the module docs.
#[must_use]
pub fn adjudicate(case: &Case<'_>) -> Adjudication {
    let Some(m) = case.message else {
        return unverified(
            Ground::NotSentThroughConsentry,
            "no message consentry handed to a carrier for this phone fits the complaint".into(),
            None,
        );
    };
    let Some(at) = m.sent_at else {
        return unverified(
            Ground::NeverHandedOff,
            format!(
                "message {} was {} and never handed to a carrier; what the consumer received came another way",
                m.message_id,
                m.status.as_str()
            ),
            Some(m.clone()),
        );
    };
    let limits = case.limits;
    let read_marketing = case
        .content
        .is_some_and(|c| c.marketing >= limits.marketing_threshold);
    let marketing = m.category == Category::Marketing || read_marketing;
    let mut found = Vec::new();
    let mut push = |ground, detail: String| found.push(Finding { ground, detail });

    if let Some(c) = case.content.filter(|c| c.fraud >= limits.fraud_threshold) {
        push(
            Ground::FraudContent,
            format!("the classifier reads fraud (p = {:.2})", c.fraud),
        );
    }
    if m.category != Category::Marketing && read_marketing {
        push(
            Ground::DisguisedMarketing,
            format!(
                "declared {} but the classifier reads marketing (p = {:.2} ≥ {:.2}), so no marketing rule was applied{}",
                m.category,
                case.content.map_or(0.0, |c| c.marketing),
                limits.marketing_threshold,
                case.content
                    .and_then(|c| c.clause.as_deref())
                    .map(|c| format!("; the clause that sells: «{c}»"))
                    .unwrap_or_default()
            ),
        );
    }

    // What consentry had recorded when the message went out: an event recorded later (a reply
    // delivered late with an earlier `received_at`, an import of old paper forms) could not
    // have stopped or allowed this message, so it neither blames nor clears the sender
    // (session-2 review).
    let known: Vec<ConsentEvent> = case
        .history
        .iter()
        .filter(|e| e.recorded_at <= at)
        .cloned()
        .collect();
    let answer = answer_at(&known, m.sender, at);
    let consent = consent_at(&answer, at);
    if marketing {
        match &answer {
            Answer::NoConsent => push(
                Ground::NoConsent,
                format!("no consent from this phone to sender {} at {at}", m.sender),
            ),
            Answer::OptedOut(e) => push(
                Ground::AfterOptout,
                format!(
                    "the consumer opted out ({} scope, event {}) at {}, before the send",
                    e.scope, e.seq, e.at
                ),
            ),
            Answer::Consented(e) => {
                if strength(e).strength == Strength::Asserted && case.kind.disputes_consent() {
                    push(
                        Ground::AssertedConsentDisputed,
                        format!(
                            "the only consent (event {}) was recorded by {} and the consumer disputes it",
                            e.seq, e.actor
                        ),
                    );
                }
            }
        }
        if let Some(f) = case.facts {
            if f.in_quiet_hours {
                push(
                    Ground::QuietHours,
                    format!("handed off at {at}, inside the recipient's quiet hours"),
                );
            }
            if f.sender_marketing_that_day > limits.max_marketing_per_sender_per_day
                || f.marketing_that_day > limits.max_marketing_per_recipient_per_day
            {
                push(
                    Ground::OverCap,
                    format!(
                        "{} marketing messages from this sender (cap {}) and {} from all senders (cap {}) that local day",
                        f.sender_marketing_that_day,
                        limits.max_marketing_per_sender_per_day,
                        f.marketing_that_day,
                        limits.max_marketing_per_recipient_per_day
                    ),
                );
            }
        }
    }

    let verdict = if found.iter().any(|f| f.ground.is_violation()) {
        ComplaintVerdict::Violation
    } else {
        match (&answer, marketing) {
            (Answer::Consented(e), true) => {
                let s = strength(e);
                let (ground, detail) = match s.strength {
                    Strength::Confirmed => (
                        Ground::ConfirmedConsent,
                        format!("sent on consent event {} at {}: {}", e.seq, e.at, s.why),
                    ),
                    Strength::Asserted => (
                        Ground::ConsentNotDisputed,
                        format!(
                            "sent on consent event {} ({}); this complaint does not dispute it",
                            e.seq, s.why
                        ),
                    ),
                };
                found.push(Finding { ground, detail });
            }
            _ => found.push(Finding {
                ground: Ground::NotMarketing,
                detail: format!(
                    "declared {}{}; no marketing consent needed",
                    m.category,
                    case.content
                        .map(|c| format!(
                            ", read as {} (marketing p = {:.2})",
                            c.category, c.marketing
                        ))
                        .unwrap_or_default()
                ),
            }),
        }
        ComplaintVerdict::NoViolation
    };

    let mut events: Vec<ConsentEvent> = known
        .iter()
        .filter(|e| e.at <= at && e.applies_to(m.sender))
        .cloned()
        .collect();
    events.sort_by_key(ConsentEvent::order_key);
    Adjudication {
        verdict,
        findings: found,
        treated_as_marketing: marketing,
        message: Some(m.clone()),
        consent: Some(consent),
        events,
        content: case.content.cloned(),
        facts: case.facts,
    }
}

fn consent_at(answer: &Answer<'_>, at: Timestamp) -> ConsentAtSend {
    let (state, event) = match answer {
        Answer::Consented(e) => ("consented", Some(*e)),
        Answer::OptedOut(e) => ("opted_out", Some(*e)),
        Answer::NoConsent => ("no_consent", None),
    };
    ConsentAtSend {
        at,
        state: state.into(),
        event: event.cloned(),
        strength: match answer {
            Answer::Consented(e) => Some(strength(e)),
            _ => None,
        },
    }
}
