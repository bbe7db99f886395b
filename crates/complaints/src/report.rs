//! Per-sender figures for a period, in the shape a regulator asks for.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use domain::SenderId;
use jiff::Timestamp;
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
    /// up to more than `blocked`.
    pub blocked_by_reason: BTreeMap<String, u64>,
    /// Sender-scoped opt-outs recorded.
    pub opt_outs: u64,
    /// Complaints about it.
    pub complaints: u64,
    /// Of which adjudicated as violations.
    pub violations: u64,
    /// Suspensions (automatic or by an admin).
    pub suspensions: u64,
    /// Complaints per 10,000 marketing messages.
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
            suspensions: 0,
            complaint_rate_per_10k: None,
            suspended_now: false,
        }
    }
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
}

impl PeriodReport {
    /// Builds the report: fills each row's complaint rate and orders rows by sender id.
    #[must_use]
    pub fn new(
        from: Timestamp,
        to: Timestamp,
        mut senders: Vec<SenderFigures>,
        unverified_complaints: u64,
    ) -> Self {
        for s in &mut senders {
            #[allow(clippy::cast_precision_loss)]
            {
                s.complaint_rate_per_10k = (s.marketing_sent > 0)
                    .then(|| s.complaints as f64 * 10_000.0 / s.marketing_sent as f64);
            }
        }
        senders.sort_by_key(|s| s.sender_id);
        PeriodReport {
            from,
            to,
            senders,
            unverified_complaints,
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
            "sender_id,name,sent,marketing_sent,blocked,opt_outs,complaints,violations,suspensions,complaint_rate_per_10k,suspended_now",
        );
        for c in &codes {
            let _ = write!(out, ",blocked_{c}");
        }
        out.push('\n');
        for s in &self.senders {
            let _ = write!(
                out,
                "{},{},{},{},{},{},{},{},{},{},{}",
                s.sender_id,
                csv_field(&s.name),
                s.sent,
                s.marketing_sent,
                s.blocked,
                s.opt_outs,
                s.complaints,
                s.violations,
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
        a.complaints = 3;
        a.blocked_by_reason.insert("no_consent".into(), 5);
        let b = SenderFigures::empty(SenderId(1), "=HYPERLINK(\"x\")");
        let r = PeriodReport::new(Timestamp::UNIX_EPOCH, Timestamp::UNIX_EPOCH, vec![a, b], 0);
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
}
