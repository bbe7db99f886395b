//! Sender reputation and automatic suspension.
//!
//! A sender's record over a rolling window — marketing sent, opt-outs, complaints, violations —
//! decides whether it may keep sending. Two triggers, each switched off by setting it to 0:
//! a number of adjudicated violations, and a complaint rate per 10,000 marketing messages (the
//! measure carriers and the regulator use), the latter only once the sender has sent enough for
//! a rate to mean something. Violations before an admin lifted a suspension do not count again:
//! lifting is a decision to give the sender a clean slate.

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

/// `[enforcement]` in the configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EnforcementConfig {
    /// Suspend a sender at this many violations within the window (0: never on this count).
    pub suspend_after_violations: u32,
    /// Suspend a sender whose complaints per 10,000 marketing messages in the window exceed
    /// this (0: never on the rate).
    pub max_complaint_rate_per_10k: f64,
    /// The rate is judged only from this many marketing messages in the window on.
    pub min_marketing_for_rate: u64,
    /// The rolling window, in days.
    pub window_days: u32,
    /// Most complaints accepted from one phone in 24 hours (a flood is refused, not recorded).
    pub max_complaints_per_phone_per_day: u32,
    /// How far before `received_at` a complaint without message id looks for the message.
    pub match_window_days: u32,
    /// Classifier marketing probability at or above which a message declared otherwise is
    /// disguised marketing. Lower than `[classify] marketing_threshold` (the send-time
    /// block): the consumer's complaint is itself evidence that the text sold something.
    pub marketing_threshold: f32,
    /// Classifier fraud probability above which a message is fraud.
    pub fraud_threshold: f32,
    /// What a suspension stops: `marketing` (the default: customers of a suspended shop still
    /// get their order notices and login codes) or `all`.
    pub suspension_blocks: SuspensionBlocks,
}

/// What a suspended sender may no longer send (issue #14, item 12: suspension stopped order
/// notices and codes too, and customers of a suspended shop lost their delivery notices).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SuspensionBlocks {
    /// Marketing (declared, or read as marketing by the classifier); notices and codes go on.
    #[default]
    Marketing,
    /// Everything the sender sends.
    All,
}

impl SuspensionBlocks {
    /// Whether a suspension stops a message of `category` (the category it is decided as).
    #[must_use]
    pub fn blocks(self, category: domain::Category) -> bool {
        match self {
            SuspensionBlocks::All => true,
            SuspensionBlocks::Marketing => category == domain::Category::Marketing,
        }
    }
}

impl Default for EnforcementConfig {
    fn default() -> Self {
        EnforcementConfig {
            suspend_after_violations: 3,
            max_complaint_rate_per_10k: 10.0,
            min_marketing_for_rate: 1000,
            window_days: 30,
            max_complaints_per_phone_per_day: 10,
            match_window_days: 7,
            marketing_threshold: 0.6,
            fraud_threshold: 0.95,
            suspension_blocks: SuspensionBlocks::Marketing,
        }
    }
}

/// A configuration value that cannot work.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("[enforcement] {key}: {why}")]
pub struct EnforcementConfigError {
    /// The key.
    pub key: &'static str,
    /// What is wrong.
    pub why: &'static str,
}

impl EnforcementConfig {
    /// Checks the values.
    pub fn validate(&self) -> Result<(), EnforcementConfigError> {
        let bad = |key, why| Err(EnforcementConfigError { key, why });
        if self.window_days == 0 || self.window_days > 366 {
            return bad("window_days", "must be 1–366");
        }
        if self.match_window_days == 0 || self.match_window_days > 366 {
            return bad("match_window_days", "must be 1–366");
        }
        if !self.max_complaint_rate_per_10k.is_finite() || self.max_complaint_rate_per_10k < 0.0 {
            return bad("max_complaint_rate_per_10k", "must be a number ≥ 0");
        }
        for (key, p) in [
            ("marketing_threshold", self.marketing_threshold),
            ("fraud_threshold", self.fraud_threshold),
        ] {
            if !(p > 0.0 && p <= 1.0) {
                return bad(key, "must be a probability in (0, 1]");
            }
        }
        Ok(())
    }

    /// The start of the window ending at `now`.
    #[must_use]
    pub fn window_start(&self, now: Timestamp) -> Timestamp {
        now.saturating_sub(SignedDuration::from_hours(24 * i64::from(self.window_days)))
            .unwrap_or(Timestamp::MIN)
    }
}

/// A sender's record over a period.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Activity {
    /// Marketing messages handed to a carrier.
    pub marketing_sent: u64,
    /// Opt-outs from this sender (sender-scoped refusals).
    pub opt_outs: u64,
    /// Complaints naming this sender (matched to its messages or naming it).
    pub complaints: u64,
    /// Complaints adjudicated as violations.
    pub violations: u64,
    /// Distinct phones with a complaint adjudicated as a violation: what the complaint rate
    /// counts. Complaints the ledger shows unfounded (`no_violation`) never count, and one
    /// consumer counts once however often they complain (session-2 review: a shop with
    /// confirmed consent was suspended by two unfounded complaints).
    #[serde(default)]
    pub upheld_phones: u64,
}

impl Activity {
    /// Phones with an upheld complaint per 10,000 marketing messages; `None` before any
    /// marketing.
    #[must_use]
    pub fn complaint_rate_per_10k(&self) -> Option<f64> {
        #[allow(clippy::cast_precision_loss)]
        (self.marketing_sent > 0)
            .then(|| self.upheld_phones as f64 * 10_000.0 / self.marketing_sent as f64)
    }
}

/// Why a sender is suspended automatically.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "trigger", rename_all = "snake_case")]
pub enum Trigger {
    /// Too many violations.
    Violations {
        /// In the window.
        violations: u64,
        /// The configured limit.
        limit: u32,
    },
    /// Too high a complaint rate.
    ComplaintRate {
        /// Phones with upheld complaints per 10,000 marketing messages.
        rate_per_10k: f64,
        /// The configured limit.
        limit: f64,
        /// Phones with upheld complaints (violations) in the window.
        complaints: u64,
        /// Marketing sent in the window.
        marketing_sent: u64,
    },
}

impl Trigger {
    /// A sentence for the suspension record.
    #[must_use]
    pub fn reason(&self, window_days: u32) -> String {
        match self {
            Trigger::Violations { violations, limit } => {
                format!("automatic: {violations} violations in {window_days} days (limit {limit})")
            }
            Trigger::ComplaintRate {
                rate_per_10k,
                limit,
                complaints,
                marketing_sent,
            } => format!(
                "automatic: {complaints} phones with upheld complaints per {marketing_sent} marketing messages in {window_days} days = {rate_per_10k:.1} per 10,000 (limit {limit})"
            ),
        }
    }
}

/// Whether `activity` (over the configured window, since the last lift) calls for suspension.
#[must_use]
pub fn suspension_due(activity: &Activity, config: &EnforcementConfig) -> Option<Trigger> {
    let limit = config.suspend_after_violations;
    if limit > 0 && activity.violations >= u64::from(limit) {
        return Some(Trigger::Violations {
            violations: activity.violations,
            limit,
        });
    }
    let max = config.max_complaint_rate_per_10k;
    if max > 0.0
        && activity.marketing_sent >= config.min_marketing_for_rate.max(1)
        && let Some(rate) = activity.complaint_rate_per_10k()
        && rate > max
    {
        return Some(Trigger::ComplaintRate {
            rate_per_10k: rate,
            limit: max,
            complaints: activity.upheld_phones,
            marketing_sent: activity.marketing_sent,
        });
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn act(marketing_sent: u64, upheld_phones: u64, violations: u64) -> Activity {
        Activity {
            upheld_phones,
            marketing_sent,
            opt_outs: 0,
            complaints: upheld_phones,
            violations,
        }
    }

    #[test]
    fn the_violation_count_suspends_at_the_limit() {
        let c = EnforcementConfig::default();
        assert_eq!(suspension_due(&act(10, 2, 2), &c), None);
        assert!(matches!(
            suspension_due(&act(10, 3, 3), &c),
            Some(Trigger::Violations {
                violations: 3,
                limit: 3
            })
        ));
    }

    #[test]
    fn the_rate_needs_volume_before_it_counts() {
        let c = EnforcementConfig::default();
        // 5 complaints in 100 messages is 500 per 10k, but 100 messages is too few to judge.
        assert_eq!(suspension_due(&act(100, 5, 0), &c), None);
        // 2 in 1,000 = 20 per 10k > 10.
        let t = suspension_due(&act(1000, 2, 0), &c);
        assert!(
            matches!(t, Some(Trigger::ComplaintRate { complaints: 2, .. })),
            "{t:?}"
        );
        // exactly at the limit is allowed: 1 in 1,000 = 10 per 10k.
        assert_eq!(suspension_due(&act(1000, 1, 0), &c), None);
    }

    #[test]
    fn zero_switches_a_trigger_off() {
        let c = EnforcementConfig {
            suspend_after_violations: 0,
            max_complaint_rate_per_10k: 0.0,
            ..EnforcementConfig::default()
        };
        assert_eq!(suspension_due(&act(1_000_000, 50_000, 1000), &c), None);
    }

    #[test]
    fn bad_values_are_named() {
        let c = EnforcementConfig {
            window_days: 0,
            ..EnforcementConfig::default()
        };
        assert_eq!(c.validate().unwrap_err().key, "window_days");
        let c = EnforcementConfig {
            fraud_threshold: 1.5,
            ..EnforcementConfig::default()
        };
        assert_eq!(c.validate().unwrap_err().key, "fraud_threshold");
        assert!(EnforcementConfig::default().validate().is_ok());
    }
}
