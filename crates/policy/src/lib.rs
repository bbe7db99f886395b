//! The policy engine: may this message go, and if not, why not?
//!
//! [`Policy::decide`] is a pure function of a [`Message`], the [`Context`] the gateway gathered
//! for it (sender facts, the consent answer, recent counts, the clock reading) and the compiled
//! [`PolicyConfig`]. Each rule in [`rules`] only *adds* [`Reason`]s — every rule the message
//! fails, not only the first — and one function orders them into a [`Verdict`]: any hard reason
//! rejects; marketing whose only problem is quiet hours is deferred to the window's end (or
//! rejected, if configured so); no reason accepts. The decision is stored with its reasons, so a
//! complaint months later can be answered with what the gateway knew at send time.
//!
//! ```
//! use domain::{Category, Msisdn, Region, SenderId, Timestamp};
//! use ledger::IndexAnswer;
//! use policy::{Context, Counts, Message, Policy, PolicyConfig, SenderFacts, Verdict};
//!
//! let policy = Policy::new(&PolicyConfig::default()).unwrap();
//! let phone = Msisdn::parse("13800138000", Region::CN).unwrap();
//! let msg = Message { to: Some(phone), text: "【好店】双11全场5折，回T退订", category: Category::Marketing };
//! let ctx = Context {
//!     sender: SenderFacts { id: SenderId(1), signature: "【好店】", suspended: false },
//!     consent: IndexAnswer::NoConsent,
//!     counts: Counts::default(),
//!     duplicate: false,
//!     now: "2026-11-11T03:00:00Z".parse().unwrap(), // 11:00 in Shanghai
//! };
//! let d = policy.decide(&msg, &ctx);
//! assert_eq!(d.verdict, Verdict::Rejected);
//! assert_eq!(d.codes(), vec!["no_consent"]);
//! ```

mod config;
mod decision;
mod engine;
pub mod rules;
mod zones;

pub use config::{ConfigError, PolicyConfig, QuietAction, RateCaps};
pub use decision::{Decision, Reason, ReasonCode, Verdict};
pub use engine::{Context, Counts, Message, Policy, Prepared, SenderFacts};
pub use rules::classified::ContentCheck;
pub use rules::content::{max_text_chars, segments};
pub use zones::{LocalClock, LocalTime};
