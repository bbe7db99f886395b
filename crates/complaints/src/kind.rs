//! What a complaint says happened, and what enforcement did about a sender.

use domain::wire_enum;

wire_enum!(
    /// What the consumer complains about.
    ComplaintKind, "complaint kind" {
        /// Marketing the consumer never agreed to.
        UnwantedMarketing => "unwanted_marketing",
        /// Marketing after the consumer refused it.
        AfterOptout => "after_optout",
        /// A scam or phishing message.
        Fraud => "fraud",
        /// Anything else (kept and reported; decided on the stored facts only).
        Other => "other",
    }
);

impl ComplaintKind {
    /// Whether the complaint says "I never agreed" (or "I refused"): only then does an
    /// `asserted` consent count against the sender. A complaint of another kind does not put
    /// the consent in question, so a consent the sender recorded itself is not held against it.
    #[must_use]
    pub fn disputes_consent(self) -> bool {
        matches!(
            self,
            ComplaintKind::UnwantedMarketing | ComplaintKind::AfterOptout
        )
    }
}

wire_enum!(
    /// The outcome of adjudicating a complaint.
    ComplaintVerdict, "verdict" {
        /// The message broke a rule; the grounds say which.
        Violation => "violation",
        /// The message was sent lawfully (e.g. on a confirmed consent); the evidence shows it.
        NoViolation => "no_violation",
        /// No message to this phone matching the complaint went through consentry: recorded and
        /// exported for the authorities, never counted against a sender.
        Unverified => "unverified",
    }
);

wire_enum!(
    /// A change to a sender's suspension.
    SuspensionAction, "suspension action" {
        /// Suspended (automatically by enforcement, or by an admin).
        Suspend => "suspend",
        /// Reinstated by an admin; violations before this no longer count towards the next
        /// automatic suspension.
        Lift => "lift",
        /// An admin reviewed a suspension and upheld it.
        Confirm => "confirm",
    }
);
