//! What a complaint says happened, and what enforcement did about a sender.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::ParseError;

macro_rules! wire_enum {
    ($(#[$meta:meta])* $name:ident, $kind:literal { $($(#[$vmeta:meta])* $variant:ident => $wire:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($(#[$vmeta])* $variant),+ }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            /// The stable wire name.
            #[must_use]
            pub const fn as_str(self) -> &'static str {
                match self { $($name::$variant => $wire),+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { f.write_str(self.as_str()) }
        }

        impl FromStr for $name {
            type Err = ParseError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($wire => Ok($name::$variant),)+
                    _ => Err(ParseError {
                        kind: $kind,
                        value: s.chars().take(64).collect(),
                        expected: concat!($($wire, " "),+),
                    }),
                }
            }
        }
    };
}

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
