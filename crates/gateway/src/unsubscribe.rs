//! One-click unsubscribe links: `{public_url}/u/{token}`, one per message.
//!
//! A sender writes [`UNSUBSCRIBE_PLACEHOLDER`] (`{unsubscribe}`) in its text; at submit every
//! recipient's message gets a fresh link in its place. The token is 128 random bits
//! (22 characters of URL-safe base64), so links cannot be guessed or enumerated, and only its
//! SHA-256 is stored: a copy of the database does not hand out working links. The link knows
//! the phone and the sender of its message and nothing else.
//!
//! Opening a link (GET) only shows what it would do; the opt-out needs the POST of that page's
//! button, so mail and chat link scanners, which fetch every URL they see, opt nobody out.
//!
//! Policy decides on the text with a link-shaped stand-in of the real length, so segment counts
//! and length limits hold for the text the handset gets. The links are stored before the
//! messages that carry them, so no message is ever sent with a link that does not resolve.

use domain::{ConsentAction, ConsentSource, Msisdn, Scope, SenderId, Timestamp};
use ledger::IndexAnswer;
use policy::Verdict;
use rand::RngCore;
use serde::Serialize;
use sha2::{Digest, Sha256};
use store::{LinkRecord, NewConsent, UnsubscribeLinks};

use crate::{Gateway, GatewayError};

/// What a sender writes where each message's unsubscribe link goes.
pub const UNSUBSCRIBE_PLACEHOLDER: &str = "{unsubscribe}";
const TOKEN_BYTES: usize = 16;
/// Length of an encoded token: ⌈16 × 8 / 6⌉.
const TOKEN_CHARS: usize = 22;
const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// URL-safe base64 without padding.
fn encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..=chunk.len() {
            out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
        }
    }
    out
}

fn new_token() -> String {
    let mut bytes = [0u8; TOKEN_BYTES];
    rand::rng().fill_bytes(&mut bytes);
    encode(&bytes)
}

fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Whether `token` has the shape of one we issue (checked before touching the store).
fn well_formed(token: &str) -> bool {
    token.len() == TOKEN_CHARS && token.bytes().all(|b| ALPHABET.contains(&b))
}

/// What an unsubscribe page shows.
#[derive(Debug, Clone, Serialize)]
pub struct LinkView {
    /// The sender the link unsubscribes from.
    pub sender_id: SenderId,
    /// Its name.
    pub sender_name: String,
    /// The phone, all but the last four digits hidden (anyone holding the link sees the page).
    pub phone_masked: String,
    /// Whether that phone is opted out of that sender now.
    pub opted_out: bool,
    /// The ledger event this request committed (POST only; `None` if already opted out).
    pub event: Option<u64>,
}

fn mask(phone: Msisdn) -> String {
    let digits = phone.as_u64().to_string();
    let keep = digits.len().saturating_sub(4);
    format!("+{}{}", "*".repeat(keep), &digits[keep..])
}

impl Gateway {
    fn link_base(&self) -> &str {
        self.config.public_url.trim_end_matches('/')
    }

    /// The text policy decides on: the placeholder replaced by a stand-in link of the real
    /// length. `None` when the text has no placeholder.
    pub(crate) fn link_preview(&self, text: &str) -> Option<String> {
        text.contains(UNSUBSCRIBE_PLACEHOLDER).then(|| {
            let stand_in = format!("{}/u/{}", self.link_base(), "x".repeat(TOKEN_CHARS));
            text.replace(UNSUBSCRIBE_PLACEHOLDER, &stand_in)
        })
    }

    /// Each recipient's text with its own link, for the recipients that will get a message;
    /// `None` where the text has no placeholder or the message is refused. Stores the links
    /// (one transaction) before returning, so call it before recording the messages.
    pub(crate) fn link_texts(
        &self,
        sender: SenderId,
        template: &str,
        recipients: impl Iterator<Item = (Option<Msisdn>, Verdict)>,
        now: Timestamp,
    ) -> Result<Vec<Option<String>>, GatewayError> {
        if !template.contains(UNSUBSCRIBE_PLACEHOLDER) {
            return Ok(Vec::new());
        }
        let base = self.link_base();
        let mut links = Vec::new();
        let texts = recipients
            .map(|(phone, verdict)| match (phone, verdict) {
                (Some(phone), Verdict::Accepted | Verdict::Deferred) => {
                    let token = new_token();
                    links.push(LinkRecord {
                        token_hash: token_hash(&token),
                        phone,
                        sender,
                        created_at: now,
                    });
                    Some(template.replace(UNSUBSCRIBE_PLACEHOLDER, &format!("{base}/u/{token}")))
                }
                _ => None,
            })
            .collect();
        self.store.put_links(&links)?;
        Ok(texts)
    }

    fn resolve_link(&self, token: &str) -> Result<LinkRecord, GatewayError> {
        let not_found = || GatewayError::NotFound("unsubscribe link".into());
        if !well_formed(token) {
            return Err(not_found());
        }
        self.store.link(&token_hash(token))?.ok_or_else(not_found)
    }

    fn view(&self, link: &LinkRecord, event: Option<u64>) -> LinkView {
        LinkView {
            sender_id: link.sender,
            sender_name: self
                .access
                .sender(link.sender)
                .map_or_else(|| format!("sender {}", link.sender), |s| s.name),
            phone_masked: mask(link.phone),
            opted_out: matches!(
                self.consent.answer(link.phone, link.sender),
                IndexAnswer::OptedOut { .. }
            ),
            event,
        }
    }

    /// The phone the link `token` was issued to, if it was (cluster mode routes the link's page
    /// to that phone's owner: only it knows whether the phone is opted out now).
    pub fn link_phone(&self, token: &str) -> Option<domain::Msisdn> {
        self.resolve_link(token).ok().map(|l| l.phone)
    }

    /// What the link `token` would do (GET: changes nothing).
    ///
    /// # Errors
    /// [`GatewayError::NotFound`] for a token that was never issued.
    pub fn unsubscribe_link(&self, token: &str) -> Result<LinkView, GatewayError> {
        let link = self.resolve_link(token)?;
        Ok(self.view(&link, None))
    }

    /// Opts the link's phone out of the link's sender (POST). Idempotent: a phone already opted
    /// out of that sender gets no second event.
    ///
    /// # Errors
    /// [`GatewayError::NotFound`] for a token that was never issued; [`GatewayError::Store`].
    pub fn unsubscribe_by_link(&self, token: &str) -> Result<LinkView, GatewayError> {
        let link = self.resolve_link(token)?;
        if matches!(
            self.consent.answer(link.phone, link.sender),
            IndexAnswer::OptedOut {
                platform: false,
                ..
            }
        ) {
            return Ok(self.view(&link, None));
        }
        let now = self.clock.now();
        let events = self.commit_consents(&[NewConsent {
            phone: link.phone,
            scope: Scope::Sender,
            sender: Some(link.sender),
            action: ConsentAction::OptOut,
            source: ConsentSource::Portal,
            evidence: format!(
                "one-click unsubscribe link {}… issued {}",
                &token[..6],
                link.created_at
            ),
            actor: "link".into(),
            at: now,
        }])?;
        Ok(self.view(&link, events.first().map(|e| e.seq)))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_22_url_safe_characters_and_distinct() {
        let a = new_token();
        let b = new_token();
        assert_eq!(a.len(), TOKEN_CHARS);
        assert!(well_formed(&a) && well_formed(&b));
        assert_ne!(a, b);
        assert!(!well_formed("../../etc/passwd"));
        assert!(!well_formed(&format!("{}=", &a[..21])));
    }

    #[test]
    fn encoding_matches_base64url() {
        assert_eq!(encode(b"f"), "Zg");
        assert_eq!(encode(b"fo"), "Zm8");
        assert_eq!(encode(b"foo"), "Zm9v");
        assert_eq!(encode(&[0xfb, 0xff]), "-_8");
    }

    #[test]
    fn masks_all_but_four_digits() {
        let p = Msisdn::parse("13800138000", domain::Region::CN).unwrap();
        assert_eq!(mask(p), "+*********8000");
    }
}
