//! `message_state` values (SMPP 3.4 §5.2.28), shared by query_sm_resp, the message_state TLV
//! and the `stat:` field of delivery receipts.

use std::fmt;

/// The state of a submitted message as reported by the SMSC.
///
/// `Other` keeps values outside 3.4's table (0 "scheduled" and 9 "skipped" from SMPP 5.0,
/// vendor values) so they can be logged and relayed rather than misreported.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MessageState {
    Enroute,
    Delivered,
    Expired,
    Deleted,
    Undeliverable,
    Accepted,
    Unknown,
    Rejected,
    Other(u8),
}

impl MessageState {
    /// The seven-letter token used in receipt text (`DELIVRD`, `UNDELIV`, …).
    #[must_use]
    pub fn receipt_token(self) -> &'static str {
        match self {
            MessageState::Enroute => "ENROUTE",
            MessageState::Delivered => "DELIVRD",
            MessageState::Expired => "EXPIRED",
            MessageState::Deleted => "DELETED",
            MessageState::Undeliverable => "UNDELIV",
            MessageState::Accepted => "ACCEPTD",
            MessageState::Unknown | MessageState::Other(_) => "UNKNOWN",
            MessageState::Rejected => "REJECTD",
        }
    }

    /// Parses a receipt `stat:` token, case-insensitively, accepting the long spellings some
    /// SMSCs use (`DELIVERED`, `UNDELIVERABLE`, …).
    #[must_use]
    pub fn from_receipt_token(token: &str) -> Option<MessageState> {
        let t = token.trim().to_ascii_uppercase();
        Some(match t.as_str() {
            "ENROUTE" | "EN_ROUTE" => MessageState::Enroute,
            "DELIVRD" | "DELIVERED" => MessageState::Delivered,
            "EXPIRED" => MessageState::Expired,
            "DELETED" => MessageState::Deleted,
            "UNDELIV" | "UNDELIVERABLE" | "UNDELIVERED" => MessageState::Undeliverable,
            "ACCEPTD" | "ACCEPTED" => MessageState::Accepted,
            "UNKNOWN" => MessageState::Unknown,
            "REJECTD" | "REJECTED" => MessageState::Rejected,
            _ => return None,
        })
    }

    /// True when the SMSC will report nothing further about the message.
    #[must_use]
    pub fn is_final(self) -> bool {
        !matches!(self, MessageState::Enroute | MessageState::Accepted)
    }
}

impl From<u8> for MessageState {
    fn from(v: u8) -> Self {
        match v {
            1 => MessageState::Enroute,
            2 => MessageState::Delivered,
            3 => MessageState::Expired,
            4 => MessageState::Deleted,
            5 => MessageState::Undeliverable,
            6 => MessageState::Accepted,
            7 => MessageState::Unknown,
            8 => MessageState::Rejected,
            other => MessageState::Other(other),
        }
    }
}

impl From<MessageState> for u8 {
    fn from(s: MessageState) -> u8 {
        match s {
            MessageState::Enroute => 1,
            MessageState::Delivered => 2,
            MessageState::Expired => 3,
            MessageState::Deleted => 4,
            MessageState::Undeliverable => 5,
            MessageState::Accepted => 6,
            MessageState::Unknown => 7,
            MessageState::Rejected => 8,
            MessageState::Other(v) => v,
        }
    }
}

impl fmt::Display for MessageState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.receipt_token())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_values_and_tokens_round_trip() {
        for v in 0..=255u8 {
            assert_eq!(u8::from(MessageState::from(v)), v);
        }
        for v in 1..=8u8 {
            let s = MessageState::from(v);
            assert_eq!(MessageState::from_receipt_token(s.receipt_token()), Some(s));
        }
        assert_eq!(
            MessageState::from_receipt_token(" delivered "),
            Some(MessageState::Delivered)
        );
        assert!(MessageState::Delivered.is_final());
        assert!(!MessageState::Enroute.is_final());
    }
}
