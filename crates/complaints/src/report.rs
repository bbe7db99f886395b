//! Per-sender figures for a period, in the shape a regulator asks for.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use domain::SenderId;
use jiff::Timestamp;
use policy::ReasonCode;

use crate::Activity;
use serde::{Deserialize, Serialize};

/// One sender's figures for a period. The store counts; this type only shapes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SenderFigures {
    /// The sender.
    pub sender_id: SenderId,
    /// Its display name.
    pub name: String,
    /// Messages handed to a carrier.
    pub sent: u64,
    /// Of which marketing.
    pub marketing_sent: u64,
    /// Messages refused (rejected, or cancelled at hand-off).
    pub blocked: u64,
    /// Refusals by reason code. A refusal with two reasons counts under both, so these can add
    /// up to more than `blocked`. Informational codes (`reclassified_marketing`, which says
    /// why marketing rules applied, never why a message was stopped) are left out.
    pub blocked_by_reason: BTreeMap<String, u64>,
    /// Sender-scoped opt-outs recorded.
    pub opt_outs: u64,
    /// Complaints about it.
    pub complaints: u64,
    /// Of which adjudicated as violations.
    pub violations: u64,
    /// Distinct phones with a complaint adjudicated as a violation: what the complaint rate
    /// counts, as enforcement does (a cleared complaint never counts against the limit, and
    /// one consumer counts once).
    #[serde(default)]
    pub upheld_phones: u64,
    /// Suspensions (automatic or by an admin).
    pub suspensions: u64,
    /// Phones with an upheld complaint per 10,000 marketing messages: the figure
    /// `[enforcement] max_complaint_rate_per_10k` is compared with.
    pub complaint_rate_per_10k: Option<f64>,
    /// Suspended at the time of the report.
    pub suspended_now: bool,
}

impl SenderFigures {
    /// A row of zeros for `sender_id`.
    #[must_use]
    pub fn empty(sender_id: SenderId, name: impl Into<String>) -> Self {
        SenderFigures {
            sender_id,
            name: name.into(),
            sent: 0,
            marketing_sent: 0,
            blocked: 0,
            blocked_by_reason: BTreeMap::new(),
            opt_outs: 0,
            complaints: 0,
            violations: 0,
            upheld_phones: 0,
            suspensions: 0,
            complaint_rate_per_10k: None,
            suspended_now: false,
        }
    }
}

/// What belongs to no sender: complaints that matched none, refusals of every shop, and the
/// platform's own notices (opt-out confirmations, help answers).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlatformFigures {
    /// Complaints in the period that matched no message sent through consentry.
    pub unverified_complaints: u64,
    /// Platform-wide opt-outs recorded (a consumer refusing every shop, by reply, on the
    /// portal or recorded by the admin): they stop every sender, so no sender's row counts them.
    pub opt_outs: u64,
    /// Notices the platform sent in its own name (never a registered sender's row).
    pub notices_sent: u64,
}

/// The whole report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PeriodReport {
    /// Start (inclusive).
    pub from: Timestamp,
    /// End (exclusive).
    pub to: Timestamp,
    /// One row per sender with any activity, or registered, by id.
    pub senders: Vec<SenderFigures>,
    /// Complaints in the period that matched no message sent through consentry.
    pub unverified_complaints: u64,
    /// Platform-wide opt-outs recorded in the period ([`PlatformFigures::opt_outs`]).
    #[serde(default)]
    pub platform_opt_outs: u64,
    /// Notices the platform sent in its own name ([`PlatformFigures::notices_sent`]).
    #[serde(default)]
    pub platform_notices_sent: u64,
}

impl PeriodReport {
    /// Builds the report: fills each row's complaint rate (upheld phones, as enforcement
    /// counts), drops informational reason codes from the block reasons, and orders rows by
    /// sender id.
    #[must_use]
    pub fn new(
        from: Timestamp,
        to: Timestamp,
        mut senders: Vec<SenderFigures>,
        platform: PlatformFigures,
    ) -> Self {
        for s in &mut senders {
            s.complaint_rate_per_10k = Activity {
                marketing_sent: s.marketing_sent,
                upheld_phones: s.upheld_phones,
                ..Activity::default()
            }
            .complaint_rate_per_10k();
            for code in ReasonCode::INFORMATIONAL {
                s.blocked_by_reason.remove(code.as_str());
            }
        }
        senders.sort_by_key(|s| s.sender_id);
        PeriodReport {
            from,
            to,
            senders,
            unverified_complaints: platform.unverified_complaints,
            platform_opt_outs: platform.opt_outs,
            platform_notices_sent: platform.notices_sent,
        }
    }

    /// Every reason code that blocked something in the period, sorted.
    #[must_use]
    pub fn reason_codes(&self) -> Vec<String> {
        let set: BTreeSet<&String> = self
            .senders
            .iter()
            .flat_map(|s| s.blocked_by_reason.keys())
            .collect();
        set.into_iter().cloned().collect()
    }

    /// The report as CSV: one row per sender, one `blocked_<code>` column per reason code seen.
    #[must_use]
    pub fn to_csv(&self) -> String {
        let codes = self.reason_codes();
        let mut out = String::from(
            "sender_id,name,sent,marketing_sent,blocked,opt_outs,complaints,violations,upheld_phones,suspensions,complaint_rate_per_10k,suspended_now",
        );
        for c in &codes {
            let _ = write!(out, ",blocked_{c}");
        }
        out.push('\n');
        for s in &self.senders {
            let _ = write!(
                out,
                "{},{},{},{},{},{},{},{},{},{},{},{}",
                s.sender_id,
                csv_field(&s.name),
                s.sent,
                s.marketing_sent,
                s.blocked,
                s.opt_outs,
                s.complaints,
                s.violations,
                s.upheld_phones,
                s.suspensions,
                s.complaint_rate_per_10k
                    .map(|r| format!("{r:.2}"))
                    .unwrap_or_default(),
                s.suspended_now
            );
            for c in &codes {
                let _ = write!(out, ",{}", s.blocked_by_reason.get(c).copied().unwrap_or(0));
            }
            out.push('\n');
        }
        out
    }
}

/// Reads a period bound: an RFC 3339 instant (`2026-11-11T00:00:00Z`), a date and time without
/// an offset (`2026-11-11T10:31`, what a `datetime-local` field sends; taken as UTC), or a date
/// (`2026-11-11`, meaning its midnight UTC).
pub fn parse_bound(s: &str) -> Result<Timestamp, String> {
    let s = s.trim();
    if let Ok(t) = s.parse::<Timestamp>() {
        return Ok(t);
    }
    let unreadable = || {
        format!(
            "{:?} is neither an RFC 3339 instant, a YYYY-MM-DDTHH:MM date-time (UTC) nor a YYYY-MM-DD date",
            s.chars().take(40).collect::<String>()
        )
    };
    // A civil date-time before a bare date: jiff also reads "2026-11-11T10:31" as a date,
    // dropping the time, which would bound the period at midnight instead.
    if s.contains(['T', 't', ' ']) {
        return s
            .parse::<jiff::civil::DateTime>()
            .ok()
            .and_then(|d| d.in_tz("UTC").ok())
            .map(|z| z.timestamp())
            .ok_or_else(unreadable);
    }
    s.parse::<jiff::civil::Date>()
        .ok()
        .and_then(|d| d.in_tz("UTC").ok())
        .map(|z| z.timestamp())
        .ok_or_else(unreadable)
}

/// Quotes a field when it holds a separator, a quote or a line break; a leading `=`, `+`, `-`
/// or `@` is prefixed with `'` so a spreadsheet does not run a sender-chosen name as a formula.
fn csv_field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@']) {
        format!("'{s}")
    } else {
        s.to_string()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_are_instants_or_utc_dates() {
        assert_eq!(
            parse_bound("2026-11-11").unwrap(),
            "2026-11-11T00:00:00Z".parse::<Timestamp>().unwrap()
        );
        assert_eq!(
            parse_bound("2026-11-11T08:00:00+08:00").unwrap(),
            "2026-11-11T00:00:00Z".parse::<Timestamp>().unwrap()
        );
        assert!(parse_bound("yesterday").unwrap_err().contains("yesterday"));
    }

    /// Regression: `2026-11-11T10:31` (a `datetime-local` value) was read as a bare date and
    /// bounded the period at midnight.
    #[test]
    fn a_date_and_time_without_offset_keeps_its_time() {
        let want = "2026-11-11T10:31:00Z".parse::<Timestamp>().unwrap();
        assert_eq!(parse_bound("2026-11-11T10:31").unwrap(), want);
        assert_eq!(parse_bound("2026-11-11 10:31").unwrap(), want);
        assert_eq!(parse_bound("2026-11-11T10:31:00").unwrap(), want);
        assert!(parse_bound("2026-11-11T25:00").is_err());
    }

    #[test]
    fn csv_has_a_column_per_reason_and_quotes_names() {
        let mut a = SenderFigures::empty(SenderId(2), "Shop, \"Best\"");
        a.marketing_sent = 20_000;
        a.complaints = 5;
        a.upheld_phones = 3;
        a.blocked_by_reason.insert("no_consent".into(), 5);
        let b = SenderFigures::empty(SenderId(1), "=HYPERLINK(\"x\")");
        let r = PeriodReport::new(
            Timestamp::UNIX_EPOCH,
            Timestamp::UNIX_EPOCH,
            vec![a, b],
            PlatformFigures::default(),
        );
        let csv = r.to_csv();
        let lines: Vec<&str> = csv.lines().collect();
        assert!(lines[0].ends_with(",blocked_no_consent"), "{}", lines[0]);
        assert!(
            lines[1].starts_with("1,\"'=HYPERLINK(\"\"x\"\")\","),
            "{}",
            lines[1]
        );
        assert!(
            lines[2].starts_with("2,\"Shop, \"\"Best\"\"\","),
            "{}",
            lines[2]
        );
        assert!(lines[2].contains(",1.50,"), "{}", lines[2]);
        assert!(lines[2].ends_with(",5"), "{}", lines[2]);
    }

    /// Regression (#12): the report's rate counted every complaint, cleared ones included,
    /// against the limit enforcement applies to upheld phones; and `reclassified_marketing`
    /// (why marketing rules applied) stood among the reasons messages were blocked.
    #[test]
    fn the_rate_counts_upheld_phones_and_block_reasons_leave_out_explanations() {
        let mut a = SenderFigures::empty(SenderId(1), "Shop");
        a.marketing_sent = 10_000;
        a.complaints = 4;
        a.violations = 2;
        a.upheld_phones = 1;
        a.blocked_by_reason.insert("no_consent".into(), 2);
        a.blocked_by_reason
            .insert("reclassified_marketing".into(), 2);
        let r = PeriodReport::new(
            Timestamp::UNIX_EPOCH,
            Timestamp::UNIX_EPOCH,
            vec![a],
            PlatformFigures {
                unverified_complaints: 1,
                opt_outs: 3,
                notices_sent: 7,
            },
        );
        let s = &r.senders[0];
        assert_eq!(s.complaint_rate_per_10k, Some(1.0));
        assert_eq!(r.reason_codes(), vec!["no_consent".to_string()]);
        assert_eq!(
            (
                r.unverified_complaints,
                r.platform_opt_outs,
                r.platform_notices_sent
            ),
            (1, 3, 7)
        );
    }
}
