//! Small enumerations with stable wire names.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A sender (a merchant or shop) registered with the gateway.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SenderId(pub u32);

impl fmt::Display for SenderId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A wire name that is not one of the known values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} {value:?}; expected one of: {expected}")]
pub struct ParseKindError {
    /// Which enumeration was parsed.
    pub kind: &'static str,
    /// What was given.
    pub value: String,
    /// The accepted names.
    pub expected: &'static str,
}

/// Declares an enumeration with stable snake_case wire names: serde, `Display`, `FromStr` (with a
/// [`ParseKindError`] naming the accepted values) and `ALL`. Exported so that other domain crates
/// declare theirs the same way; the using crate needs `serde` as a dependency.
#[macro_export]
macro_rules! wire_enum {
    ($(#[$meta:meta])* $name:ident, $kind:literal { $($(#[$vmeta:meta])* $variant:ident => $wire:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, ::serde::Serialize, ::serde::Deserialize)]
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

        impl ::core::fmt::Display for $name {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::core::str::FromStr for $name {
            type Err = $crate::ParseKindError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($wire => Ok($name::$variant),)+
                    _ => Err($crate::ParseKindError {
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
    /// What a consent event covers.
    Scope, "scope" {
        /// One merchant.
        Sender => "sender",
        /// Every merchant's marketing on the platform ("refuse all shop marketing").
        Platform => "platform",
    }
);

wire_enum!(
    /// The kind of message, as declared by the sender.
    Category, "category" {
        /// Promotions: needs consent, obeys quiet hours and caps.
        Marketing => "marketing",
        /// Order, delivery, account and bill notices.
        Transactional => "transactional",
        /// One-time codes.
        Verification => "verification",
    }
);

wire_enum!(
    /// Whether a consent event grants or withdraws consent.
    ConsentAction, "action" {
        /// The consumer agreed to receive marketing.
        OptIn => "opt_in",
        /// The consumer refused it.
        OptOut => "opt_out",
    }
);

wire_enum!(
    /// The channel through which a consent event reached the ledger.
    ConsentSource, "source" {
        /// A web form.
        Web => "web",
        /// An SMS reply from the consumer.
        Reply => "reply",
        /// A mobile app.
        App => "app",
        /// A call-centre agent.
        Hotline => "hotline",
        /// A sender's system through the API.
        Api => "api",
        /// A bulk import.
        Import => "import",
        /// The consumer's own portal or one-click link.
        Portal => "portal",
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_names_round_trip() {
        for c in Category::ALL {
            assert_eq!(c.as_str().parse::<Category>().unwrap(), *c);
        }
        let err = "promo".parse::<Category>().unwrap_err();
        assert!(err.to_string().contains("marketing"));
    }
}
