//! Finding the message a complaint is about when the complainant gives no message id.
//!
//! Consumers forward what they saw: a phone, perhaps the number it came from, perhaps the text
//! (often cut, or with the link expanded), and roughly when. The candidates are the messages
//! consentry handed to a carrier for that phone. A complaint is pinned on a message only when
//! the match is unambiguous: blaming the wrong merchant would be worse than leaving the complaint
//! `unverified`.

use std::collections::HashMap;

use domain::{SenderId, Timestamp};
use jiff::SignedDuration;
use serde::{Deserialize, Serialize};

/// Smallest text similarity (Dice coefficient over character bigrams) that counts as the same
/// message: forwarded copies lose a signature or gain an expanded link, but stay far above this.
pub const MIN_SIMILARITY: f32 = 0.6;

/// A message handed to a carrier for the complaining phone.
#[derive(Debug, Clone, Copy)]
pub struct Candidate<'a> {
    /// Message id.
    pub id: u64,
    /// Its sender.
    pub sender: SenderId,
    /// The text as sent.
    pub text: &'a str,
    /// When it was handed to the carrier.
    pub sent_at: Timestamp,
    /// Whether it went out as marketing (declared, or reclassified).
    pub marketing: bool,
}

/// What the complainant told us about the message.
#[derive(Debug, Clone, Copy)]
pub struct Claim<'a> {
    /// The sender, if named (directly or through the number the message came from).
    pub sender: Option<SenderId>,
    /// The text as the consumer saw it.
    pub text: Option<&'a str>,
    /// When the consumer received it.
    pub received_at: Timestamp,
    /// How far back from `received_at` to look.
    pub window: SignedDuration,
    /// Whether the complaint is about marketing: without text, it is then about the latest
    /// marketing message, not a later order notice that would be dismissed as not marketing.
    pub about_marketing: bool,
}

/// How a complaint was tied to a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchedBy {
    /// The complaint named the message id.
    MessageId,
    /// The complaint's text is the message's text (see [`MIN_SIMILARITY`]).
    Text,
    /// No text: the latest message from the one sender that reached the phone in the window.
    Latest,
}

/// The result of matching.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum MatchOutcome {
    /// This message.
    Matched {
        /// Message id.
        message_id: u64,
        /// How.
        by: MatchedBy,
        /// Text similarity, when matched by text.
        similarity: Option<f32>,
    },
    /// Nothing consentry sent fits the complaint.
    NoCandidate,
    /// Several senders' messages fit and nothing tells them apart.
    Ambiguous {
        /// How many fit.
        candidates: usize,
    },
}

/// Another sender's message within this much similarity of the best makes a text match
/// ambiguous.
const AMBIGUITY_MARGIN: f32 = 0.05;

/// Clock skew allowed between the consumer's "received at" and our hand-off time.
const SKEW: SignedDuration = SignedDuration::from_mins(5);

/// Picks the message a complaint is about; see the module docs for when it declines.
#[must_use]
pub fn match_message(candidates: &[Candidate<'_>], claim: &Claim<'_>) -> MatchOutcome {
    let latest = claim
        .received_at
        .saturating_add(SKEW)
        .unwrap_or(claim.received_at);
    let earliest = claim
        .received_at
        .saturating_sub(claim.window)
        .unwrap_or(Timestamp::MIN);
    let fits: Vec<&Candidate<'_>> = candidates
        .iter()
        .filter(|c| c.sent_at <= latest && c.sent_at >= earliest)
        .filter(|c| claim.sender.is_none_or(|s| s == c.sender))
        .collect();
    if fits.is_empty() {
        return MatchOutcome::NoCandidate;
    }
    if let Some(text) = claim.text.filter(|t| !t.trim().is_empty()) {
        let wanted = Bigrams::of(text);
        let scored: Vec<(f32, Timestamp, u64, SenderId)> = fits
            .iter()
            .map(|c| (wanted.dice(&Bigrams::of(c.text)), c.sent_at, c.id, c.sender))
            .filter(|(s, _, _, _)| *s >= MIN_SIMILARITY)
            .collect();
        // Best similarity, then the latest sent among equals.
        let Some(&(best, _, id, sender)) = scored
            .iter()
            .max_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)))
        else {
            return MatchOutcome::NoCandidate;
        };
        // Two shops sending the same campaign text (a forwarded complaint usually loses the
        // 【signature】 that would tell them apart): the text does not say which one it was.
        let rivals = scored
            .iter()
            .filter(|(s, _, _, other)| *other != sender && best - *s <= AMBIGUITY_MARGIN)
            .count();
        if rivals > 0 {
            return MatchOutcome::Ambiguous {
                candidates: rivals + 1,
            };
        }
        return MatchOutcome::Matched {
            message_id: id,
            by: MatchedBy::Text,
            similarity: Some(best),
        };
    }
    let marketing: Vec<&Candidate<'_>> = fits.iter().copied().filter(|c| c.marketing).collect();
    let fits = if claim.about_marketing && !marketing.is_empty() {
        marketing
    } else {
        fits
    };
    let first = fits[0].sender;
    if fits.iter().any(|c| c.sender != first) {
        return MatchOutcome::Ambiguous {
            candidates: fits.len(),
        };
    }
    fits.iter()
        .max_by_key(|c| (c.sent_at, c.id))
        .map_or(MatchOutcome::NoCandidate, |c| MatchOutcome::Matched {
            message_id: c.id,
            by: MatchedBy::Latest,
            similarity: None,
        })
}

/// Character bigrams of a text with whitespace removed and ASCII folded to lower case; works for
/// Chinese, which has no spaces to split words on.
struct Bigrams {
    counts: HashMap<(char, char), u32>,
    total: u32,
}

impl Bigrams {
    fn of(text: &str) -> Self {
        let chars: Vec<char> = text
            .chars()
            .filter(|c| !c.is_whitespace())
            .map(|c| c.to_ascii_lowercase())
            .collect();
        let mut counts = HashMap::new();
        let mut total = 0;
        for w in chars.windows(2) {
            *counts.entry((w[0], w[1])).or_insert(0) += 1;
            total += 1;
        }
        Bigrams { counts, total }
    }

    fn dice(&self, other: &Bigrams) -> f32 {
        if self.total == 0 || other.total == 0 {
            return 0.0;
        }
        let common: u32 = self
            .counts
            .iter()
            .map(|(k, n)| other.counts.get(k).map_or(0, |m| (*n).min(*m)))
            .sum();
        #[allow(clippy::cast_precision_loss)]
        let d = 2.0 * common as f32 / (self.total + other.total) as f32;
        d
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Timestamp {
        format!("2026-11-11T{s}:00Z").parse().unwrap()
    }

    fn claim<'a>(sender: Option<u32>, text: Option<&'a str>, at: &str) -> Claim<'a> {
        Claim {
            sender: sender.map(SenderId),
            text,
            received_at: t(at),
            window: SignedDuration::from_hours(24 * 7),
            about_marketing: false,
        }
    }

    const A: &str = "【好店】双11全场5折，点击 https://t.cn/a 领券，回T退订";
    const B: &str = "【好物】今晚8点直播秒杀，限量100件，回T退订";

    fn cands() -> Vec<Candidate<'static>> {
        vec![
            Candidate {
                id: 1,
                sender: SenderId(1),
                text: A,
                sent_at: t("09:00"),
                marketing: true,
            },
            Candidate {
                id: 2,
                sender: SenderId(2),
                text: B,
                sent_at: t("10:00"),
                marketing: true,
            },
            Candidate {
                id: 3,
                sender: SenderId(1),
                text: A,
                sent_at: t("11:00"),
                marketing: true,
            },
        ]
    }

    #[test]
    fn a_forwarded_copy_matches_by_text_despite_small_changes() {
        let copy = "双11全场5折，点击 https://t.cn/a 领券 回T退订";
        let m = match_message(&cands(), &claim(None, Some(copy), "10:30"));
        assert!(
            matches!(
                m,
                MatchOutcome::Matched {
                    message_id: 1,
                    by: MatchedBy::Text,
                    ..
                }
            ),
            "{m:?}"
        );
    }

    /// "I never agreed to their ads" without the text: the shop's latest marketing message, not
    /// the order notice it sent after (which would be dismissed as not marketing).
    #[test]
    fn without_text_a_marketing_complaint_takes_the_latest_marketing_message() {
        let sent = [
            Candidate {
                id: 1,
                sender: SenderId(1),
                text: A,
                sent_at: t("09:00"),
                marketing: true,
            },
            Candidate {
                id: 2,
                sender: SenderId(1),
                text: "【好店】您的订单已发货",
                sent_at: t("10:00"),
                marketing: false,
            },
        ];
        let about_ads = Claim {
            about_marketing: true,
            ..claim(Some(1), None, "12:00")
        };
        assert!(
            matches!(
                match_message(&sent, &about_ads),
                MatchOutcome::Matched { message_id: 1, .. }
            ),
            "the ad"
        );
        // Another kind of complaint still takes the latest message.
        assert!(matches!(
            match_message(&sent, &claim(Some(1), None, "12:00")),
            MatchOutcome::Matched { message_id: 2, .. }
        ));
    }

    /// Two shops sent the same campaign text; the forwarded copy lost the 【signature】 that
    /// told them apart. The text cannot say which shop it was (session-2 review: it went to
    /// the later one and counted against it).
    #[test]
    fn the_same_text_from_two_senders_is_ambiguous() {
        let same = [
            Candidate {
                id: 7,
                sender: SenderId(1),
                text: "【好店】双11全场5折，点击领券，回T退订",
                sent_at: t("09:00"),
                marketing: true,
            },
            Candidate {
                id: 8,
                sender: SenderId(2),
                text: "【好物】双11全场5折，点击领券，回T退订",
                sent_at: t("10:00"),
                marketing: true,
            },
        ];
        let forwarded = "双11全场5折，点击领券，回T退订";
        let m = match_message(&same, &claim(None, Some(forwarded), "10:30"));
        assert_eq!(m, MatchOutcome::Ambiguous { candidates: 2 });
        // Naming the shop settles it.
        let m = match_message(&same, &claim(Some(1), Some(forwarded), "10:30"));
        assert!(
            matches!(m, MatchOutcome::Matched { message_id: 7, .. }),
            "{m:?}"
        );
    }

    #[test]
    fn a_text_we_never_sent_matches_nothing() {
        let m = match_message(
            &cands(),
            &claim(
                None,
                Some("【某银行】您的账户存在风险，请点击链接"),
                "12:00",
            ),
        );
        assert_eq!(m, MatchOutcome::NoCandidate);
    }

    #[test]
    fn messages_after_the_complaint_or_outside_the_window_do_not_count() {
        let m = match_message(&cands(), &claim(Some(1), None, "08:00"));
        assert_eq!(m, MatchOutcome::NoCandidate);
        let mut late = claim(Some(1), None, "12:00");
        late.window = SignedDuration::from_mins(30);
        assert_eq!(match_message(&cands(), &late), MatchOutcome::NoCandidate);
    }

    #[test]
    fn without_text_the_named_senders_latest_message_is_taken() {
        let m = match_message(&cands(), &claim(Some(1), None, "12:00"));
        assert!(matches!(
            m,
            MatchOutcome::Matched {
                message_id: 3,
                by: MatchedBy::Latest,
                ..
            }
        ));
    }

    #[test]
    fn without_text_or_sender_two_senders_are_ambiguous() {
        let m = match_message(&cands(), &claim(None, None, "12:00"));
        assert_eq!(m, MatchOutcome::Ambiguous { candidates: 3 });
        let one = match_message(&cands(), &claim(None, None, "09:30"));
        assert!(matches!(one, MatchOutcome::Matched { message_id: 1, .. }));
    }
}
