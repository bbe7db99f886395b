//! The consumer portal: a consumer proves their number with a one-time code sent to it, then
//! sees their whole ledger and changes it.
//!
//! Only a phone's owner may read its ledger (it names every shop they dealt with), so the portal
//! answers nothing before the code. Codes and sessions are short-lived and kept in memory: a
//! restart asks the consumer for a new code, which costs them one SMS and loses nothing. Only
//! hashes are kept. Consent given here is recorded with source `portal` and actor `consumer`:
//! the platform saw the consumer prove their number, so it counts as `confirmed` consent.

use domain::{ConsentAction, ConsentSource, Msisdn, Scope, SenderId, Timestamp};
use ledger::ConsentEvent;
use parking_lot::Mutex;
use rand::Rng;
use rustc_hash::FxHashMap;
use serde::Serialize;
use sha2::{Digest, Sha256};
use store::{ComplaintLog, NewConsent};

use crate::access::{hash_key, new_key};
use crate::notices::PLATFORM_SENDER;
use crate::{ConsentsView, Gateway, GatewayError, Principal};

/// How long a code is good for.
const CODE_SECS: i64 = 10 * 60;
/// Wrong guesses before a code is burnt.
const MAX_ATTEMPTS: u32 = 5;
/// At most one code a minute, and this many a day, per phone.
const RESEND_SECS: i64 = 60;
const CODES_PER_DAY: u32 = 5;
/// How long a session lasts.
const SESSION_SECS: i64 = 60 * 60;
/// How far back the portal lists the messages a consumer received (to complain about one).
const RECEIVED_DAYS: i64 = 30;
/// At most this many of them, newest first.
const RECEIVED_MAX: usize = 50;

/// A message the consumer received, as the portal lists it to pick one to complain about.
#[derive(Debug, Clone, Serialize)]
pub struct ReceivedMessage {
    /// The message's id (what a complaint names).
    pub id: u64,
    /// The shop that sent it.
    pub sender_id: u32,
    /// The shop's name.
    pub sender_name: String,
    /// The text as sent.
    pub text: String,
    /// When it was handed to the carrier.
    pub sent_at: Timestamp,
}

struct Pending {
    hash: [u8; 32],
    expires: i64,
    attempts: u32,
}

#[derive(Default)]
struct Sent {
    day: i64,
    today: u32,
    last: i64,
}

/// Codes waiting to be entered and live sessions.
#[derive(Default)]
pub(crate) struct Portal {
    codes: Mutex<FxHashMap<u64, Pending>>,
    sent: Mutex<FxHashMap<u64, Sent>>,
    sessions: Mutex<FxHashMap<String, (Msisdn, i64)>>,
    /// Codes sent in the current minute, in all: (minute, count).
    minute: Mutex<(i64, u32)>,
    /// On the loopback carrier only: the clear text of the newest code messages by message id,
    /// which the simulated handset's inbox shows (the message log holds them masked).
    pub(crate) handset: Mutex<std::collections::VecDeque<(u64, String)>>,
}

/// Code messages the loopback handset remembers in clear.
pub(crate) const HANDSET_TEXTS: usize = 1024;

fn code_hash(phone: Msisdn, code: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(phone.as_u64().to_be_bytes());
    h.update(code.as_bytes());
    h.finalize().into()
}

fn code_text(phone: Msisdn, code: &str) -> String {
    if phone.country_code() == 86 {
        format!(
            "【消费者保护】您的验证码是 {code}，10分钟内有效，用于查看和管理您的营销短信授权。请勿告诉他人。"
        )
    } else {
        format!(
            "Your consentry code is {code}. It expires in 10 minutes and lets you see and change who may send you marketing. Never share it."
        )
    }
}

/// How much the portal holds in memory (for `/metrics`, and to show the tables stay bounded).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub struct PortalTables {
    /// Phones with codes sent today.
    pub phones: usize,
    /// Codes waiting to be entered.
    pub codes: usize,
    /// Live sessions.
    pub sessions: usize,
}

impl Gateway {
    /// Sizes of the portal's in-memory tables.
    #[must_use]
    pub fn portal_tables(&self) -> PortalTables {
        PortalTables {
            phones: self.portal.sent.lock().len(),
            codes: self.portal.codes.lock().len(),
            sessions: self.portal.sessions.lock().len(),
        }
    }

    /// Sends a one-time code to `phone` (at most one a minute and five a day).
    pub fn portal_send_code(&self, phone: &str) -> Result<(), GatewayError> {
        let phone = Msisdn::parse(phone, self.policy.region())?;
        let now = self.clock.now().as_second();
        if !self
            .config
            .portal_country_codes
            .contains(&phone.country_code())
        {
            return Err(GatewayError::Forbidden(format!(
                "the portal sends codes to numbers of country code {} only",
                self.config
                    .portal_country_codes
                    .iter()
                    .map(|c| format!("+{c}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        let day = now.div_euclid(86_400);
        let new_minute = {
            // The phone's entry is read, not created, until a code is really sent: a request
            // refused by the overall cap must leave nothing behind (issue #14, item 6: the
            // table grew by every distinct number asked for, +6.8 MB per 60k numbers). So the
            // table holds at most the codes sent today, which the overall cap bounds.
            let mut sent = self.portal.sent.lock();
            if let Some(s) = sent.get(&phone.as_u64()).filter(|s| s.day == day) {
                if now - s.last < RESEND_SECS {
                    return Err(GatewayError::TooManyRequests(format!(
                        "a code was sent less than {RESEND_SECS} s ago"
                    )));
                }
                if s.today >= CODES_PER_DAY {
                    return Err(GatewayError::TooManyRequests(format!(
                        "at most {CODES_PER_DAY} codes a day"
                    )));
                }
            }
            let mut minute = self.portal.minute.lock();
            let this_minute = now.div_euclid(60);
            let new_minute = minute.0 != this_minute;
            if new_minute {
                *minute = (this_minute, 0);
            }
            if minute.1 >= self.config.portal_codes_per_minute {
                return Err(GatewayError::TooManyRequests(
                    "the portal is sending too many codes; try again in a minute".into(),
                ));
            }
            minute.1 += 1;
            let s = sent.entry(phone.as_u64()).or_default();
            if s.day != day {
                *s = Sent {
                    day,
                    today: 0,
                    last: 0,
                };
            }
            s.today += 1;
            s.last = now;
            new_minute
        };
        // An open form must not grow memory without end: once a minute at most, the per-phone
        // maps drop what no longer matters (other days' counts, expired codes).
        if new_minute {
            self.portal.sent.lock().retain(|_, s| s.day == day);
            self.portal.codes.lock().retain(|_, p| p.expires >= now);
        }
        let code = format!("{:06}", rand::rng().random_range(0..1_000_000u32));
        let mut codes = self.portal.codes.lock();
        codes.insert(
            phone.as_u64(),
            Pending {
                hash: code_hash(phone, &code),
                expires: now + CODE_SECS,
                attempts: 0,
            },
        );
        drop(codes);
        let source = self.config.platform_number.clone();
        self.send_platform_secret(
            phone,
            code_text(phone, &code),
            &code,
            domain::Category::Verification,
            &source,
        )?;
        Ok(())
    }

    /// Exchanges a correct code for a session token (shown once; only its hash is kept).
    pub fn portal_login(&self, phone: &str, code: &str) -> Result<(Msisdn, String), GatewayError> {
        let phone = Msisdn::parse(phone, self.policy.region())?;
        let now = self.clock.now().as_second();
        let wrong = || GatewayError::InvalidCode("the code is wrong or has expired".into());
        {
            let mut codes = self.portal.codes.lock();
            let Some(p) = codes.get_mut(&phone.as_u64()) else {
                return Err(wrong());
            };
            if p.expires < now || p.attempts >= MAX_ATTEMPTS {
                codes.remove(&phone.as_u64());
                return Err(wrong());
            }
            if p.hash != code_hash(phone, code.trim()) {
                p.attempts += 1;
                return Err(wrong());
            }
            codes.remove(&phone.as_u64());
        }
        // In cluster mode the token names the phone's partition, so the node a consumer reaches
        // next sends the session's requests to the owner that holds it.
        let token = new_key(&format!("cs_consumer_{}", self.token_tag(phone)));
        let mut sessions = self.portal.sessions.lock();
        sessions.retain(|_, (_, expires)| *expires > now);
        sessions.insert(hash_key(&token), (phone, now + SESSION_SECS));
        Ok((phone, token))
    }

    /// The phone a live session token belongs to.
    #[must_use]
    pub fn portal_session(&self, token: &str) -> Option<Msisdn> {
        if token.len() > 256 {
            return None;
        }
        let now = self.clock.now().as_second();
        let sessions = self.portal.sessions.lock();
        sessions
            .get(&hash_key(token))
            .filter(|(_, expires)| *expires > now)
            .map(|(phone, _)| *phone)
    }

    /// Ends a session now (the portal's sign-out), so a token left in a shared browser's
    /// history or cookie jar opens nothing afterwards.
    pub fn portal_sign_out(&self, token: &str) {
        if token.len() <= 256 {
            self.portal.sessions.lock().remove(&hash_key(token));
        }
    }

    /// The consumer's whole ledger: every shop, as of `at` (now if absent).
    pub fn portal_consents(
        &self,
        phone: Msisdn,
        at: Option<Timestamp>,
    ) -> Result<ConsentsView, GatewayError> {
        self.consents(Principal::Admin, &phone.to_string(), at)
    }

    /// Records the consumer's own choice: for one shop, or for every shop's marketing.
    pub fn portal_record(
        &self,
        phone: Msisdn,
        action: ConsentAction,
        sender: Option<SenderId>,
    ) -> Result<ConsentEvent, GatewayError> {
        if let Some(id) = sender
            && (id == PLATFORM_SENDER || self.access.sender(id).is_none())
        {
            return Err(GatewayError::UnknownSender(id.0));
        }
        let event = NewConsent {
            phone,
            scope: if sender.is_some() {
                Scope::Sender
            } else {
                Scope::Platform
            },
            sender,
            action,
            source: ConsentSource::Portal,
            evidence: "consumer portal, number proven by one-time code".into(),
            actor: "consumer".into(),
            at: self.clock.now(),
        };
        let mut events = self.commit_consents(&[event])?;
        events
            .pop()
            .ok_or_else(|| GatewayError::InvalidField("no event recorded".into()))
    }

    /// The messages handed to a carrier for `phone` in the last 30 days, newest first (at most
    /// 50): what a consumer may complain about from the portal. Only messages that left
    /// consentry are listed — a refused one never reached the handset.
    pub fn portal_messages(&self, phone: Msisdn) -> Result<Vec<ReceivedMessage>, GatewayError> {
        let now = self.clock.now();
        let since = now
            .saturating_sub(jiff::SignedDuration::from_hours(24 * RECEIVED_DAYS))
            .unwrap_or(now);
        let mut sent = self.store.sent_to(phone, since, now)?;
        sent.retain(|m| m.sender != PLATFORM_SENDER);
        Ok(sent
            .into_iter()
            .rev()
            .take(RECEIVED_MAX)
            .map(|m| ReceivedMessage {
                id: m.id,
                sender_id: m.sender.0,
                sender_name: self
                    .access
                    .sender(m.sender)
                    .map(|s| s.name)
                    .unwrap_or_default(),
                text: m.text,
                sent_at: m.decided_at,
            })
            .collect())
    }
}
