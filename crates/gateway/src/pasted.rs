//! A consumer's complaint about a message they paste into the portal: which shop sent it?
//!
//! A pasted message carries no id, and a consumer rarely knows the number it came from, so the
//! shop is found from what the text itself says. First its signature: Chinese marketing SMS
//! must open or close with the shop's 【signature】, and a signature registered by one shop
//! names it. Several shops may share a signature (under different names); then the one of them
//! that sent to this number is meant. A text without a known signature (forwarded messages
//! often lose it) is compared with the messages sent to the number, as any complaint with text
//! is. When neither names one shop the complaint is refused (`unattributed_complaint`) rather
//! than filed against nobody: the consumer can still pick the message from the list.

use ::complaints::{Candidate, Claim, ComplaintKind, MatchOutcome, match_message};
use domain::{Msisdn, SenderId};
use jiff::SignedDuration;
use store::ComplaintLog;

use crate::complaints::{ComplaintFiled, ComplaintRequest, MAX_TEXT, sent_message};
use crate::notices::PLATFORM_SENDER;
use crate::{Gateway, GatewayError};

/// The bracketed signatures a text carries (`【店名】`, `[Shop]`), as compared: without the
/// brackets, trimmed, lower case.
fn signatures_in(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    for (open, close) in [('【', '】'), ('[', ']')] {
        let mut rest = text;
        while let Some((_, after)) = rest.split_once(open) {
            let Some((inside, tail)) = after.split_once(close) else {
                break;
            };
            let key = normalised(inside);
            if !key.is_empty() {
                found.push(key);
            }
            rest = tail;
        }
    }
    found
}

/// A signature as compared: brackets dropped, trimmed, lower case.
fn normalised(signature: &str) -> String {
    signature
        .trim()
        .trim_start_matches(['【', '['])
        .trim_end_matches(['】', ']'])
        .trim()
        .to_lowercase()
}

impl Gateway {
    /// Files the consumer's own complaint (on `phone`, proven by a portal session) about a
    /// message they pasted: attributed to a shop by its signature or by the messages sent to
    /// the number (see the module docs), then filed like any complaint naming that shop and
    /// the text — matched to the shop's message, adjudicated, recorded as filed by `consumer`.
    ///
    /// # Errors
    /// [`GatewayError::UnattributedComplaint`] when no one shop can be found;
    /// [`GatewayError::InvalidField`] for an empty or too long text; the intake's refusals
    /// (duplicate, the daily limit).
    pub fn portal_pasted_complaint(
        &self,
        phone: Msisdn,
        text: &str,
        kind: ComplaintKind,
        note: Option<String>,
    ) -> Result<ComplaintFiled, GatewayError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(GatewayError::InvalidField(
                "text is empty: paste the message you received".into(),
            ));
        }
        if text.chars().count() > MAX_TEXT {
            return Err(GatewayError::InvalidField(format!(
                "text is longer than {MAX_TEXT} characters"
            )));
        }
        let sender = self.pasted_sender(phone, text, kind)?;
        let req = ComplaintRequest {
            phone: phone.to_string(),
            message_id: None,
            sender_id: Some(sender),
            source_number: None,
            text: Some(text.to_string()),
            received_at: None,
            kind,
            note,
        };
        self.file_as("consumer".into(), &req)
    }

    /// The one shop a pasted text names; see the module docs.
    fn pasted_sender(
        &self,
        phone: Msisdn,
        text: &str,
        kind: ComplaintKind,
    ) -> Result<SenderId, GatewayError> {
        let days = self.enforcement().match_window_days;
        let unattributed = || GatewayError::UnattributedComplaint { days };
        let now = self.clock.now();
        let window = SignedDuration::from_hours(24 * i64::from(days));
        let sent = self
            .store
            .sent_to(phone, now.saturating_sub(window).unwrap_or(now), now)?;
        let sent: Vec<_> = sent
            .iter()
            .filter(|m| m.sender != PLATFORM_SENDER)
            .map(sent_message)
            .collect();

        let wanted = signatures_in(text);
        if !wanted.is_empty() {
            let mut by_signature: Vec<SenderId> = self
                .access
                .senders
                .read()
                .values()
                .filter(|s| s.id != PLATFORM_SENDER)
                .filter(|s| {
                    let own = normalised(&s.signature);
                    !own.is_empty() && wanted.contains(&own)
                })
                .map(|s| s.id)
                .collect();
            by_signature.sort_unstable();
            match by_signature.as_slice() {
                [] => {}
                [one] => return Ok(*one),
                several => {
                    // Shops sharing a signature: the one that wrote to this number.
                    let mut wrote: Vec<SenderId> = several
                        .iter()
                        .copied()
                        .filter(|s| sent.iter().any(|m| m.sender == *s))
                        .collect();
                    wrote.dedup();
                    return match wrote.as_slice() {
                        [one] => Ok(*one),
                        _ => Err(unattributed()),
                    };
                }
            }
        }

        let candidates: Vec<Candidate<'_>> = sent
            .iter()
            .filter_map(|m| {
                Some(Candidate {
                    id: m.message_id,
                    sender: m.sender,
                    text: &m.text,
                    sent_at: m.sent_at?,
                    marketing: m.category == domain::Category::Marketing,
                })
            })
            .collect();
        let outcome = match_message(
            &candidates,
            &Claim {
                sender: None,
                text: Some(text),
                received_at: now,
                window,
                about_marketing: kind.disputes_consent(),
            },
        );
        match outcome {
            MatchOutcome::Matched { message_id, .. } => sent
                .iter()
                .find(|m| m.message_id == message_id)
                .map(|m| m.sender)
                .ok_or_else(unattributed),
            _ => Err(unattributed()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_are_read_from_either_end_and_either_bracket() {
        assert_eq!(signatures_in("【好店】双11全场5折，回T退订"), vec!["好店"]);
        assert_eq!(
            signatures_in("Sale today, reply T to stop [Tea Shop]"),
            vec!["tea shop"]
        );
        assert_eq!(
            signatures_in("【A】 and 【 B 】"),
            vec!["a".to_string(), "b".to_string()]
        );
        assert!(signatures_in("no signature at all").is_empty());
        assert!(signatures_in("【unclosed").is_empty());
        assert!(signatures_in("【】").is_empty());
    }

    #[test]
    fn registered_signatures_compare_without_brackets_or_case() {
        assert_eq!(normalised("【Tea Shop】"), "tea shop");
        assert_eq!(normalised(" [好店] "), "好店");
        assert_eq!(normalised("好店"), "好店");
    }
}
