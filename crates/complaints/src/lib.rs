//! Complaints: from "I never agreed to this" to a verdict with its evidence, in milliseconds.
//!
//! Today a complaint travels from the platform to the shop to a hotline to the 12321 centre, and
//! weeks later a number may be banned. consentry recorded the consent ledger and every decision
//! at the moment of sending, so a complaint can be decided at once against what was true then.
//! This crate is the pure part — no storage, no clock, no HTTP:
//!
//! - [`mod@strength`]: a recorded consent is [`Strength::Confirmed`] when the platform witnessed it
//!   (a reply, its own consent page, the operator) and [`Strength::Asserted`] when only the
//!   sender vouches for it — the "assumed consent" behind most Double-11 complaints;
//! - [`matching`]: which sent message a complaint without a message id is about;
//! - [`adjudicate()`]: the verdict — [`ComplaintVerdict::Violation`],
//!   [`ComplaintVerdict::NoViolation`] or [`ComplaintVerdict::Unverified`] — with the findings,
//!   ledger events, decision and classifier scores it rests on;
//! - [`reputation`]: per-sender counts over a window and when they suspend the sender;
//! - [`report`]: per-sender figures for a period, as JSON or CSV.
//!
//! The gateway gathers the inputs (`gateway::Gateway::file_complaint`) and stores the result.
//!
//! ```
//! use complaints::{adjudicate, Case, ComplaintKind, ComplaintVerdict, Ground, Limits, SentMessage};
//! use domain::{Category, ConsentAction, ConsentSource, Msisdn, Region, Scope, SenderId, Timestamp};
//! use ledger::ConsentEvent;
//! use policy::Verdict;
//!
//! let phone = Msisdn::parse("13800138000", Region::CN).unwrap();
//! let shop = SenderId(7);
//! let t = |s: &str| s.parse::<Timestamp>().unwrap();
//! // The shop ticked the box itself.
//! let mut optin = ConsentEvent::new(1, phone, Scope::Sender, Some(shop), ConsentAction::OptIn, t("2026-11-01T10:00:00Z"));
//! optin.actor = "sender:7".into();
//! optin.source = ConsentSource::Web;
//! let message = SentMessage {
//!     message_id: 42, sender: shop, text: "【好店】双11全场5折，回T退订".into(),
//!     category: Category::Marketing, status: Verdict::Accepted, reasons: vec![],
//!     decided_at: t("2026-11-11T02:00:00Z"), sent_at: Some(t("2026-11-11T02:00:01Z")),
//! };
//! let history = [optin];
//! let verdict = adjudicate(&Case {
//!     kind: ComplaintKind::UnwantedMarketing, message: Some(&message), history: &history,
//!     content: None, facts: None, limits: Limits::default(),
//! });
//! assert_eq!(verdict.verdict, ComplaintVerdict::Violation);
//! assert_eq!(verdict.grounds(), vec![Ground::AssertedConsentDisputed]);
//! ```

pub mod adjudicate;
mod kind;
pub mod matching;
pub mod report;
pub mod reputation;
pub mod strength;

pub use adjudicate::{
    Adjudication, Case, ConsentAtSend, ContentView, Finding, Ground, Limits, SendFacts,
    SentMessage, adjudicate,
};
pub use kind::{ComplaintKind, ComplaintVerdict, SuspensionAction};
pub use matching::{Candidate, Claim, MatchOutcome, MatchedBy, match_message};
pub use report::{PeriodReport, PlatformFigures, SenderFigures};
pub use reputation::{
    Activity, EnforcementConfig, EnforcementConfigError, SuspensionBlocks, Trigger, suspension_due,
};
pub use strength::{Strength, StrengthOf, strength};

/// A wire name that is not one of the known values (the domain's error, under this crate's name).
pub use domain::ParseKindError as ParseError;
