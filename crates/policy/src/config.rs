//! Policy configuration: typed, with documented defaults (see `config/default.toml`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// What to do with marketing inside quiet hours.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QuietAction {
    /// Hold it until the window ends, then decide again.
    Defer,
    /// Refuse it.
    Reject,
}

/// Rate caps per sender per recipient for one non-marketing category. 0 means no cap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateCaps {
    /// Per rolling minute.
    pub per_minute: u32,
    /// Per rolling hour.
    pub per_hour: u32,
    /// Per local day.
    pub per_day: u32,
}

/// The `[policy]` section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PolicyConfig {
    /// Start of quiet hours, recipient's local time, "HH:MM".
    pub quiet_hours_start: String,
    /// End of quiet hours, "HH:MM" (may be earlier than the start: the window wraps midnight).
    pub quiet_hours_end: String,
    /// `defer` or `reject`.
    pub quiet_hours_action: QuietAction,
    /// Marketing per sender per recipient per local day.
    pub max_marketing_per_sender_per_day: u32,
    /// Marketing per recipient per local day across all senders.
    pub max_marketing_per_recipient_per_day: u32,
    /// Region for numbers written without a country code.
    pub default_region: String,
    /// Time zone for recipients whose country has no entry in `timezones`.
    pub default_timezone: String,
    /// Country calling code → IANA zone, for quiet hours and local days abroad.
    pub timezones: BTreeMap<String, String>,
    /// Which categories must carry the sender's signature: any of
    /// `marketing`, `transactional`, `verification`.
    pub signature_required_for: Vec<String>,
    /// Refusal instructions, one of which marketing must carry; compared case- and
    /// space-insensitively.
    pub optout_phrases: Vec<String>,
    /// Same text to the same recipient within this many minutes is a duplicate (0 disables).
    pub duplicate_window_minutes: u32,
    /// Longest accepted text, in SMS segments.
    pub max_segments: u32,
    /// Caps for verification codes.
    pub verification: RateCaps,
    /// Caps for transactional notices.
    pub transactional: RateCaps,
}

impl Default for PolicyConfig {
    fn default() -> Self {
        PolicyConfig {
            quiet_hours_start: "20:00".into(),
            quiet_hours_end: "08:00".into(),
            quiet_hours_action: QuietAction::Defer,
            max_marketing_per_sender_per_day: 1,
            max_marketing_per_recipient_per_day: 3,
            default_region: "CN".into(),
            default_timezone: "Asia/Shanghai".into(),
            timezones: [
                ("1", "America/New_York"),
                ("44", "Europe/London"),
                ("852", "Asia/Hong_Kong"),
                ("853", "Asia/Macau"),
                ("886", "Asia/Taipei"),
                ("65", "Asia/Singapore"),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
            signature_required_for: vec![
                "marketing".into(),
                "transactional".into(),
                "verification".into(),
            ],
            optout_phrases: [
                "回T退订",
                "退订回T",
                "回TD退订",
                "退订回TD",
                "回复T退订",
                "退订请回复T",
                "回复TD退订",
                "退订回复TD",
                "拒收请回复R",
                "回R拒收",
                "回复R拒收",
                "回N退订",
                "reply STOP",
                "text STOP",
                "STOP to opt out",
                "STOP to unsubscribe",
                "txt STOP",
            ]
            .into_iter()
            .map(String::from)
            .collect(),
            duplicate_window_minutes: 60,
            max_segments: 10,
            verification: RateCaps {
                per_minute: 1,
                per_hour: 5,
                per_day: 10,
            },
            transactional: RateCaps {
                per_minute: 5,
                per_hour: 20,
                per_day: 50,
            },
        }
    }
}

/// A configuration value that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// Not "HH:MM".
    #[error("policy.{key}: {value:?} is not a time of day (HH:MM)")]
    BadTime {
        /// The key.
        key: &'static str,
        /// The value.
        value: String,
    },
    /// Unknown IANA zone name.
    #[error("policy.{key}: unknown time zone {value:?}")]
    BadZone {
        /// The key.
        key: String,
        /// The value.
        value: String,
    },
    /// Unknown region code.
    #[error("policy.default_region: unknown region {0:?} (use ISO 3166 alpha-2, e.g. CN)")]
    BadRegion(String),
    /// Unknown category name.
    #[error("policy.signature_required_for: unknown category {0:?}")]
    BadCategory(String),
    /// A calling code that is not a number.
    #[error("policy.timezones: {0:?} is not a country calling code")]
    BadCallingCode(String),
}
