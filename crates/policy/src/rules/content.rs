//! What the text itself must carry: the sender's signature, and for marketing a refusal
//! instruction. Also the segment arithmetic used to bound text length.

use domain::Category;

use crate::engine::category_slot;
use crate::{Policy, Reason, ReasonCode, SenderFacts};

/// Lower-cases and removes whitespace, so "Reply STOP" matches "reply stop" and "回T 退订".
#[must_use]
pub fn squash(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_lowercase)
        .collect()
}

/// Adds `missing_signature` when the category requires the sender's signature and the text
/// lacks it. A sender registered without a signature must still use some 【…】 signature.
pub fn check_signature(
    policy: &Policy,
    text: &str,
    category: Category,
    sender: &SenderFacts<'_>,
    out: &mut Vec<Reason>,
) {
    if !policy.signature_for[category_slot(category)] {
        return;
    }
    let sig = sender.signature.trim();
    let ok = if sig.is_empty() {
        text.find('【').is_some_and(|i| text[i..].contains('】'))
    } else {
        text.contains(sig)
    };
    if !ok {
        out.push(Reason::new(
            ReasonCode::MissingSignature,
            if sig.is_empty() {
                std::borrow::Cow::Borrowed("the text carries no 【signature】")
            } else {
                format!("the text does not carry the sender's signature {sig}").into()
            },
        ));
    }
}

/// Adds `missing_optout_text` when marketing carries none of the configured refusal instructions.
pub fn check_optout_text(policy: &Policy, text: &str, out: &mut Vec<Reason>) {
    let squashed = squash(text);
    if !policy
        .optout_phrases
        .iter()
        .any(|p| squashed.contains(p.as_str()))
    {
        out.push(Reason::new(
            ReasonCode::MissingOptoutText,
            "marketing must tell the recipient how to refuse (e.g. 回T退订 or Reply STOP)",
        ));
    }
}

/// Whether every character fits the GSM 03.38 default alphabet (then a segment holds 160
/// characters, else 70 UCS-2 units).
fn is_gsm7(text: &str) -> bool {
    const EXTRA: &str =
        "@£$¥èéùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ!\"#¤%&'()*+,-./:;<=>?¡ÄÖÑÜ§¿äöñüà^{}\\[~]|€\n\r ";
    text.chars()
        .all(|c| c.is_ascii_alphanumeric() || EXTRA.contains(c))
}

/// How many SMS segments `text` needs (concatenated parts carry a 6-byte header, hence 153
/// and 67).
#[must_use]
pub fn segments(text: &str) -> u32 {
    let (single, part, units) = if is_gsm7(text) {
        let ext = text.chars().filter(|c| "^{}\\[~]|€".contains(*c)).count();
        (160, 153, text.chars().count() + ext)
    } else {
        (70, 67, text.encode_utf16().count())
    };
    let n = if units <= single {
        1
    } else {
        units.div_ceil(part)
    };
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// The most characters a text of `max_segments` segments can hold (UCS-2 worst case is lower;
/// this is the cheap upper bound checked before counting segments precisely).
#[must_use]
pub fn max_text_chars(max_segments: u32) -> usize {
    usize::try_from(max_segments)
        .unwrap_or(usize::MAX)
        .saturating_mul(160)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segment_counts() {
        assert_eq!(segments("hello"), 1);
        assert_eq!(segments(&"a".repeat(160)), 1);
        assert_eq!(segments(&"a".repeat(161)), 2);
        assert_eq!(segments(&"中".repeat(70)), 1);
        assert_eq!(segments(&"中".repeat(71)), 2);
        assert_eq!(segments(&"中".repeat(670)), 10);
        assert_eq!(segments(&"中".repeat(671)), 11);
    }

    #[test]
    fn squash_ignores_case_and_space() {
        assert_eq!(squash("Reply  STOP"), "replystop");
        assert_eq!(squash("回T 退订"), "回t退订");
    }
}
