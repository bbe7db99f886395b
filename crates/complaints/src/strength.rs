//! Consent strength: did the platform see the consumer agree, or does it have the sender's word?
//!
//! The regulator found "assumed consent" — a merchant ticking the box for its customers — behind
//! most Double-11 complaints. Both kinds of consent let a message through at send time (the
//! ledger does not second-guess a recorded opt-in), but when the consumer later says "I never
//! agreed", only a consent the platform itself witnessed stands.

use domain::ConsentSource;
use ledger::ConsentEvent;
use serde::{Deserialize, Serialize};

/// How much a recorded opt-in is worth when the consumer disputes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Strength {
    /// The consumer gave it through a channel the platform controls: a reply to a confirmation
    /// SMS, the consumer portal or one-click page, the platform's app, or the operator recorded
    /// it (having seen the consumer's request).
    Confirmed,
    /// The sender recorded it itself (or it came in a bulk import of merchants' lists): the
    /// platform only has the sender's word for it.
    Asserted,
}

impl Strength {
    /// The stable wire name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Strength::Confirmed => "confirmed",
            Strength::Asserted => "asserted",
        }
    }
}

/// A strength with the sentence that explains it, for evidence bundles.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StrengthOf {
    /// Confirmed or asserted.
    pub strength: Strength,
    /// Why, in words a regulator reads.
    pub why: String,
}

/// The strength of one ledger event, from who recorded it (`actor`) and through what (`source`).
///
/// The actor decides, not the source: `source` is a field the recorder fills in, so a sender
/// that records `source: "reply"` through its own key is still only asserting it. Actors the
/// gateway itself uses for consumer-driven channels (`reply`, `link`) and the operator (`admin`,
/// `platform`) confirm; a sender (`sender:N`), a bulk `import` and any actor this version does not
/// know assert — unknown provenance resolves in the consumer's favour.
#[must_use]
pub fn strength(event: &ConsentEvent) -> StrengthOf {
    let actor = event.actor.as_str();
    let (strength, why) = match actor {
        "reply" => (
            Strength::Confirmed,
            "the consumer replied to an SMS from the platform's number".to_string(),
        ),
        "consumer" => (
            Strength::Confirmed,
            "the consumer proved their number in the platform's portal".to_string(),
        ),
        "link" => (
            Strength::Confirmed,
            "the consumer used the platform's own consent page".to_string(),
        ),
        "admin" | "platform" => (
            Strength::Confirmed,
            format!(
                "recorded by the platform operator (channel: {})",
                channel(event.source)
            ),
        ),
        a if a.starts_with("sender:") => (
            Strength::Asserted,
            format!(
                "recorded by the sender itself ({a}), claiming channel {}; the platform did not witness it",
                channel(event.source)
            ),
        ),
        "import" => (
            Strength::Asserted,
            "bulk-imported list; the platform did not witness the consumer agreeing".to_string(),
        ),
        other => (
            Strength::Asserted,
            format!("recorded by {other:?}, not a channel the platform controls"),
        ),
    };
    StrengthOf { strength, why }
}

fn channel(source: ConsentSource) -> &'static str {
    source.as_str()
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::{ConsentAction, Msisdn, Region, Scope, SenderId};

    fn ev(actor: &str, source: ConsentSource) -> ConsentEvent {
        let phone = Msisdn::parse("13800138000", Region::CN).unwrap();
        let mut e = ConsentEvent::new(
            1,
            phone,
            Scope::Sender,
            Some(SenderId(1)),
            ConsentAction::OptIn,
            "2026-11-01T00:00:00Z".parse().unwrap(),
        );
        e.actor = actor.into();
        e.source = source;
        e
    }

    #[test]
    fn platform_channels_confirm() {
        for (actor, source) in [
            ("reply", ConsentSource::Reply),
            ("link", ConsentSource::Portal),
            ("consumer", ConsentSource::Portal),
            ("admin", ConsentSource::Portal),
            ("admin", ConsentSource::App),
            ("platform", ConsentSource::App),
        ] {
            assert_eq!(
                strength(&ev(actor, source)).strength,
                Strength::Confirmed,
                "{actor} {source}"
            );
        }
    }

    #[test]
    fn a_sender_claiming_a_platform_channel_only_asserts() {
        for source in ConsentSource::ALL {
            let s = strength(&ev("sender:7", *source));
            assert_eq!(s.strength, Strength::Asserted, "{source}");
            assert!(s.why.contains("sender:7"), "{}", s.why);
        }
    }

    #[test]
    fn imports_and_unknown_actors_assert() {
        assert_eq!(
            strength(&ev("import", ConsentSource::Import)).strength,
            Strength::Asserted
        );
        assert_eq!(
            strength(&ev("", ConsentSource::Api)).strength,
            Strength::Asserted
        );
        assert_eq!(
            strength(&ev("carrier", ConsentSource::Reply)).strength,
            Strength::Asserted
        );
    }
}
