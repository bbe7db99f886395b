//! The consent ledger: who agreed to what, when, how, with evidence.
//!
//! Consent is never a mutable flag. Every opt-in and opt-out is an immutable [`ConsentEvent`]
//! appended to a log, and "may sender S send marketing to phone P" is a *fold* over P's events:
//! the latest applicable event decides ([`Answer`]). Because the log is never rewritten, the same
//! fold restricted to events before time T answers "was there consent at 10:31?" with the event
//! that decided it ([`answer_at`]).
//!
//! The rules of the fold ([`decide`]):
//! - a `sender`-scoped event applies to that merchant only; a `platform`-scoped event applies to
//!   every merchant's marketing;
//! - a platform-wide opt-out blocks every merchant until something newer says otherwise;
//!   a later opt-in to one merchant re-enables that merchant only;
//! - a platform-wide opt-in only lifts an earlier platform-wide opt-out: it never grants consent
//!   to merchants the consumer did not choose (that would be the "assumed consent" the regulator
//!   found behind most complaints);
//! - on a tie in time, the opt-out wins: ambiguity resolves in the consumer's favour;
//! - a refusal the consumer gave themselves ([`by_consumer`]: a reply, the portal, the one-click
//!   page, the operator recording a call) is lifted only by consent the consumer gives
//!   themselves; a merchant's own opt-in after it never takes effect ([`decide_with_consumer`]).
//!
//! [`ConsentIndex`] holds the same answer for every phone in memory (8 bytes per
//! (phone, target) pair) so the send path never waits on disk; the durable log lives in the store.
//!
//! ```
//! use domain::{ConsentAction, Msisdn, Region, Scope, SenderId, Timestamp};
//! use ledger::{answer_at, Answer, ConsentEvent};
//!
//! let phone = Msisdn::parse("13800138000", Region::CN).unwrap();
//! let shop = SenderId(7);
//! let t = |s: &str| s.parse::<Timestamp>().unwrap();
//! let events = vec![
//!     ConsentEvent::new(1, phone, Scope::Sender, Some(shop), ConsentAction::OptIn, t("2026-11-01T10:00:00Z")),
//!     ConsentEvent::new(2, phone, Scope::Platform, None, ConsentAction::OptOut, t("2026-11-11T10:31:00Z")),
//! ];
//! assert!(matches!(answer_at(&events, shop, t("2026-11-11T10:30:00Z")), Answer::Consented(e) if e.seq == 1));
//! assert!(matches!(answer_at(&events, shop, t("2026-11-11T10:31:00Z")), Answer::OptedOut(e) if e.seq == 2));
//! ```

mod event;
mod fold;
mod index;

pub use event::{ConsentEvent, by_consumer};
pub use fold::{
    Answer, ConsentView, SenderState, answer_at, consumer_refusal, decide, decide_with_consumer,
    view_at,
};
pub use index::{ConsentIndex, IndexAnswer, Mark, Shard, WriteSet};
