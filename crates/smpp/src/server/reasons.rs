//! How a policy rejection reads over SMPP: the submit_sm_resp status and the `err:` code of the
//! delivery receipt. docs/SMPP.md carries the same table for merchants.
//!
//! SMPP 3.4 has no status for "refused by policy"; 0x66 (ESME_RX_R_APPN, "rejected by the
//! application") is the one that ESME software treats as final rather than retrying, which is
//! what a consent refusal is. A wrong number gets the status every ESME knows for it. The
//! receipt's three-digit `err:` names the first (deciding) reason, so merchants' software that
//! only stores receipts still learns why.

use policy::{Reason, ReasonCode};
use smpp_proto::CommandStatus;

/// `err:` code and reason name, in the order of docs/SMPP.md.
pub const ERR_CODES: &[(ReasonCode, &str)] = &[
    (ReasonCode::NoConsent, "101"),
    (ReasonCode::OptedOut, "102"),
    (ReasonCode::QuietHours, "103"),
    (ReasonCode::CapSenderDaily, "104"),
    (ReasonCode::CapGlobalDaily, "105"),
    (ReasonCode::RateLimited, "106"),
    (ReasonCode::MissingSignature, "107"),
    (ReasonCode::MissingOptoutText, "108"),
    (ReasonCode::Duplicate, "109"),
    (ReasonCode::ReclassifiedMarketing, "110"),
    (ReasonCode::FraudSuspected, "111"),
    (ReasonCode::SenderSuspended, "112"),
    (ReasonCode::InvalidNumber, "113"),
    (ReasonCode::Cancelled, "114"),
];

/// Any other (future) reason.
pub const ERR_OTHER: &str = "199";

/// The reason that decided a rejection: the first one that can refuse on its own.
/// `reclassified_marketing` only says why the marketing rules applied, so the rule that then
/// refused (say `no_consent`) names the rejection.
fn deciding(reasons: &[Reason]) -> Option<&Reason> {
    reasons
        .iter()
        .find(|r| r.code != ReasonCode::ReclassifiedMarketing)
        .or_else(|| reasons.first())
}

/// The receipt `err:` code for a rejection's reasons.
#[must_use]
pub fn err_code(reasons: &[Reason]) -> &'static str {
    deciding(reasons)
        .and_then(|r| ERR_CODES.iter().find(|(c, _)| *c == r.code))
        .map_or(ERR_OTHER, |(_, e)| *e)
}

/// The submit_sm_resp status for a rejection.
#[must_use]
pub fn rejection_status(reasons: &[Reason]) -> CommandStatus {
    match deciding(reasons).map(|r| r.code) {
        Some(ReasonCode::InvalidNumber) => CommandStatus::RINVDSTADR,
        _ => CommandStatus::POLICY_REJECTED,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_distinct_three_digits() {
        let mut seen = std::collections::HashSet::new();
        for (_, e) in ERR_CODES {
            assert_eq!(e.len(), 3);
            assert!(seen.insert(*e), "{e} twice");
        }
        let r = [Reason::new(ReasonCode::OptedOut, "x")];
        assert_eq!(err_code(&r), "102");
        assert_eq!(rejection_status(&r), CommandStatus::POLICY_REJECTED);
        assert_eq!(err_code(&[]), ERR_OTHER);
        let reclassified = [
            Reason::new(ReasonCode::ReclassifiedMarketing, "reads as marketing"),
            Reason::new(ReasonCode::NoConsent, "x"),
        ];
        assert_eq!(err_code(&reclassified), "101");
    }
}
