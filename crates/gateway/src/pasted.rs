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
//!
//! A shop is named only if it sent to this number: a signature is easy to copy, so a pasted
//! text bearing one does not make a shop that never wrote to the consumer answer for it (a
//! forged "【Shop】" message, or a rival's, would otherwise count against the shop). The
//! complaint is filed about the shop's message — the one that reads like the text, else its
//! latest to the number in the last [`PASTED_LOOKBACK_DAYS`] days — which the adjudication
//! then judges as evidence.

use ::complaints::{Candidate, Claim, ComplaintKind, MatchOutcome, match_message};
use domain::{Msisdn, SenderId};
use jiff::SignedDuration;
use store::ComplaintLog;

use crate::complaints::{ComplaintFiled, ComplaintRequest, MAX_TEXT, sent_message};
use crate::notices::PLATFORM_SENDER;
use crate::{Gateway, GatewayError};

/// How far back a pasted complaint looks for the named shop's messages to the number.
pub const PASTED_LOOKBACK_DAYS: u32 = 90;

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
        let (sender, message) = self.pasted_message(phone, text, kind)?;
        let req = ComplaintRequest {
            phone: phone.to_string(),
            message_id: Some(message),
            sender_id: Some(sender),
            source_number: None,
            text: Some(text.to_string()),
            received_at: None,
            kind,
            note,
        };
        self.file_as("consumer".into(), &req)
    }

    /// The one shop a pasted text names and its message to `phone`; see the module docs.
    fn pasted_message(
        &self,
        phone: Msisdn,
        text: &str,
        kind: ComplaintKind,
    ) -> Result<(SenderId, u64), GatewayError> {
        let unattributed = || GatewayError::UnattributedComplaint {
            days: PASTED_LOOKBACK_DAYS,
        };
        let now = self.clock.now();
        let lookback = SignedDuration::from_hours(24 * i64::from(PASTED_LOOKBACK_DAYS));
        let sent = self
            .store
            .sent_to(phone, now.saturating_sub(lookback).unwrap_or(now), now)?;
        let sent: Vec<_> = sent
            .iter()
            .filter(|m| m.sender != PLATFORM_SENDER)
            .map(sent_message)
            .collect();
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
        let claim = |sender, window| Claim {
            sender,
            text: Some(text),
            received_at: now,
            window,
            about_marketing: kind.disputes_consent(),
        };

        let wanted = signatures_in(text);
        let by_signature: Vec<SenderId> = if wanted.is_empty() {
            Vec::new()
        } else {
            self.access
                .senders
                .read()
                .values()
                .filter(|s| s.id != PLATFORM_SENDER)
                .filter(|s| {
                    let own = normalised(&s.signature);
                    !own.is_empty() && wanted.contains(&own)
                })
                .map(|s| s.id)
                .collect()
        };
        if !by_signature.is_empty() {
            // Of the shops bearing the signature, the one that wrote to this number.
            let mut wrote: Vec<SenderId> = by_signature
                .iter()
                .copied()
                .filter(|s| candidates.iter().any(|c| c.sender == *s))
                .collect();
            wrote.sort_unstable();
            wrote.dedup();
            let [shop] = wrote[..] else {
                return Err(unattributed());
            };
            // Its message that reads like the text, else its latest (candidates are oldest
            // first).
            let message = match match_message(&candidates, &claim(Some(shop), lookback)) {
                MatchOutcome::Matched { message_id, .. } => message_id,
                _ => candidates
                    .iter()
                    .rev()
                    .find(|c| c.sender == shop)
                    .map(|c| c.id)
                    .ok_or_else(unattributed)?,
            };
            return Ok((shop, message));
        }

        let window =
            SignedDuration::from_hours(24 * i64::from(self.enforcement().match_window_days));
        match match_message(&candidates, &claim(None, window)) {
            MatchOutcome::Matched { message_id, .. } => candidates
                .iter()
                .find(|c| c.id == message_id)
                .map(|c| (c.sender, message_id))
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
