//! Messages the platform itself sends a consumer in answer to a reply: the opt-out
//! confirmation and the help answer.
//!
//! They are transactional, recorded under [`PLATFORM_SENDER`] (so they never count toward a
//! merchant's caps, and a merchant's suspension or the consumer's own opt-out cannot stop them),
//! and go through the dispatcher and the carrier like every other message, so a loopback inbox
//! shows them. At most one of each kind per (phone, target) per local day: a consumer who
//! replies `T` five times gets one confirmation, and nobody can use `HELP` to flood a phone.

use domain::{Category, Msisdn, SenderId};
use policy::Verdict;
use store::{MessageLog, NewMessage, ReplyLog, SenderRecord};

use crate::{Gateway, GatewayError, Outbound, text_hash};

/// The sender id of messages the platform sends in its own name (never a registered sender:
/// registered ids start at 1).
pub const PLATFORM_SENDER: SenderId = SenderId(0);

/// Which notice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Notice {
    /// "You will receive no more marketing from …".
    OptedOut,
    /// Who is writing and how to stop.
    Help,
}

impl Notice {
    fn kind(self) -> &'static str {
        match self {
            Notice::OptedOut => "opt_out",
            Notice::Help => "help",
        }
    }
}

/// Chinese for Chinese numbers, English elsewhere.
fn chinese(phone: Msisdn) -> bool {
    phone.country_code() == 86
}

fn names(senders: &[SenderRecord], sep: &str) -> String {
    senders
        .iter()
        .map(|s| s.name.as_str())
        .collect::<Vec<_>>()
        .join(sep)
}

/// The text of a notice about `senders` (empty: the whole platform).
pub(crate) fn notice_text(
    notice: Notice,
    phone: Msisdn,
    senders: &[SenderRecord],
    platform_number: &str,
) -> String {
    let zh = chinese(phone);
    match (notice, senders, zh) {
        (Notice::OptedOut, [], true) => {
            "【短信平台】您已退订本平台全部商户的营销短信，交易通知不受影响。如需恢复某商户，请回复该商户号码START。".into()
        }
        (Notice::OptedOut, [], false) => {
            "You will get no more marketing texts from any sender on this platform. Order and account notices still arrive. Reply START to a sender's number to resubscribe to it.".into()
        }
        (Notice::OptedOut, s, true) => format!(
            "【短信平台】您已退订{}的营销短信，不会再收到。如需恢复请回复START。",
            names(s, "、")
        ),
        (Notice::OptedOut, s, false) => format!(
            "You will get no more marketing texts from {}. Reply START to resubscribe.",
            names(s, ", ")
        ),
        (Notice::Help, [], true) => format!(
            "【短信平台】本号码{platform_number}代多家商户发送短信。退订某商户回复T，退订全部商户回复全部退订。"
        ),
        (Notice::Help, [], false) => format!(
            "This number ({platform_number}) sends texts for several merchants. Reply STOP to opt out, STOPALL to opt out of all of them."
        ),
        (Notice::Help, [s, ..], true) => format!(
            "{}本短信由{}发送，联系号码{}。退订回复T，退订全部商户回复全部退订。",
            s.signature, s.name, s.source_number
        ),
        (Notice::Help, [s, ..], false) => format!(
            "{}: texts from {}, contact {}. Reply STOP to opt out, STOPALL to opt out of all senders.",
            s.name, s.name, s.source_number
        ),
    }
}

impl Gateway {
    /// Sends `notice` about `targets` (sender ids; empty for the platform) to `phone` from
    /// `source_number`, for the targets not already told today. Returns the message id, or
    /// `None` when every target had its notice today already.
    pub(crate) fn send_notice(
        &self,
        notice: Notice,
        phone: Msisdn,
        targets: &[SenderId],
        source_number: &str,
    ) -> Result<Option<u64>, GatewayError> {
        let now = self.clock.now();
        let day = self.policy.local(phone, now).day;
        let mut fresh = Vec::new();
        if targets.is_empty() {
            if !self
                .store
                .claim_notice(phone, PLATFORM_SENDER.0, notice.kind(), day)?
            {
                return Ok(None);
            }
        } else {
            for &t in targets {
                if self.store.claim_notice(phone, t.0, notice.kind(), day)? {
                    fresh.extend(self.access.sender(t));
                }
            }
            if fresh.is_empty() {
                return Ok(None);
            }
        }
        let text = notice_text(notice, phone, &fresh, &self.config.platform_number);
        self.send_platform_message(phone, text, Category::Transactional, source_number)
            .map(Some)
    }

    /// Records and queues a message the platform sends in its own name (never a merchant's:
    /// no merchant's caps, suspension or the consumer's opt-outs apply to it).
    pub(crate) fn send_platform_message(
        &self,
        phone: Msisdn,
        text: String,
        category: Category,
        source_number: &str,
    ) -> Result<u64, GatewayError> {
        self.send_platform_secret(phone, text, "", category, source_number)
    }

    /// [`Gateway::send_platform_message`] for a text holding `secret` (a one-time code): the
    /// carrier gets the text, the store keeps it with the secret masked, so the database, the
    /// message API and backups never hold a live code. The loopback handset is the exception:
    /// it is a simulation whose inbox is read back from the store, and no real phone is
    /// reached through it.
    pub(crate) fn send_platform_secret(
        &self,
        phone: Msisdn,
        text: String,
        secret: &str,
        category: Category,
        source_number: &str,
    ) -> Result<u64, GatewayError> {
        let now = self.clock.now();
        let to = phone.to_string();
        // The secret never reaches the message log, whatever the carrier (issue #14, item 7:
        // on the loopback carrier codes were stored in clear). The loopback handset's inbox
        // shows the clear text from memory instead.
        let stored = if secret.is_empty() {
            text.clone()
        } else {
            text.replace(secret, &"*".repeat(secret.chars().count()))
        };
        let pins = self.require_owned([phone])?;
        let ids = self.store.insert_messages_pinned(
            &[NewMessage {
                sender: PLATFORM_SENDER,
                to: &to,
                phone: Some(phone),
                text: &stored,
                category,
                verdict: Verdict::Accepted,
                reasons: &[],
                decided_at: now,
                release_at: None,
                text_hash: text_hash(&stored),
                content_scores: None,
            }],
            &pins,
        )?;
        let Some(&id) = ids.first() else {
            return Err(GatewayError::InvalidField(
                "the store returned no id for the platform's message".into(),
            ));
        };
        if !secret.is_empty() && self.on_loopback() {
            let mut handset = self.portal.handset.lock();
            if handset.len() >= crate::portal::HANDSET_TEXTS {
                handset.pop_front();
            }
            handset.push_back((id, text.clone()));
        }
        self.enqueue(Outbound {
            id,
            sender: PLATFORM_SENDER,
            source_number: source_number.to_string(),
            phone,
            text,
            category,
            decided_at: now,
            epoch: self.pinned_epoch(&pins, phone),
        });
        Ok(id)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use domain::{Region, Timestamp};

    fn shop() -> SenderRecord {
        SenderRecord {
            id: SenderId(3),
            name: "优品".into(),
            signature: "【优品】".into(),
            source_number: "10690000123450003".into(),
            suspended: false,
            created_at: Timestamp::UNIX_EPOCH,
        }
    }

    #[test]
    fn notices_name_the_sender_and_speak_the_phones_language() {
        let cn = Msisdn::parse("13800138000", Region::CN).unwrap();
        let us = Msisdn::parse("+12025550123", Region::CN).unwrap();
        let t = notice_text(Notice::OptedOut, cn, &[shop()], "1069000012345");
        assert!(t.contains("优品") && t.contains("退订"), "{t}");
        let t = notice_text(Notice::Help, cn, &[shop()], "1069000012345");
        assert!(
            t.starts_with("【优品】") && t.contains("10690000123450003"),
            "{t}"
        );
        let t = notice_text(Notice::OptedOut, us, &[], "1069000012345");
        assert!(t.contains("any sender"), "{t}");
    }
}
