//! Inbound SMS replies (mobile-originated messages) read as consent intents.
//!
//! A consumer who answers a marketing SMS with `T`, `退订`, `STOP` or `不要再给我发广告` has
//! withdrawn consent, and the gateway must honour it. One who asks `T恤还有货吗` (is the
//! T-shirt in stock?) has not. This crate tells the two apart, purely: text in, [`Reading`] out,
//! no I/O beyond reading its rules.
//!
//! - [`normalise`] folds the ways of typing one word into one form (full-width, case,
//!   punctuation, spacing, Traditional → Simplified Chinese).
//! - [`RepliesConfig`] holds the keyword lists and phrase rules as data
//!   (`config/replies.toml`, embedded as the default).
//! - [`IntentParser`] compiles them and [`IntentParser::parse`] returns a [`Reading`]: the
//!   [`Intent`], the platform-wide (`all_senders`) and complaint (`report`) flags, and the
//!   rule that decided, so every consent change can be explained.
//! - [`corpus`] reads the labelled replies in `tests/corpus.tsv` and scores a parser on them;
//!   [`bench`](mod@bench) measures throughput on a mixed set built from that corpus.
//!
//! How a reply is read, first match wins:
//! 1. **Keyword reply**: the normalised text is, start to end, keywords and fillers
//!    (`STOP`, `T退订`, `退订了谢谢您`). Some keywords (`YES`, `Y`, `N`, `R`) count only as
//!    the whole reply.
//! 2. **Phrase rules**: patterns found anywhere, vetoed by guard words
//!    (`不要再*发` but not with `发货`; `拒收` but not with `快递`).
//! 3. **Clauses**: a reply split on sentence punctuation, each clause tried as a keyword
//!    reply for opt-out or help (`I'm not interested, stop`).
//!
//! Opt-out beats help beats opt-in when a reply holds several. Only the first
//! [`MAX_NORMALISED_CHARS`] characters (of the first [`MAX_INPUT_BYTES`] bytes) are read: an
//! SMS reply fits, and a 10 KB essay costs no more than a short one.
//!
//! ```
//! use replies::{Intent, IntentParser};
//!
//! let parser = IntentParser::default();
//!
//! let reading = parser.parse("回复 退訂！");
//! assert_eq!(reading.intent, Intent::OptOut);
//! assert_eq!(reading.matched.as_deref(), Some("keyword:退订"));
//! assert_eq!(parser.intent("回复Ｔ退订"), Intent::OptOut);
//!
//! assert!(parser.parse("全部退订").all_senders);
//! assert_eq!(parser.intent("不要再给我发广告了"), Intent::OptOut);
//! assert_eq!(parser.intent("T恤还有货吗"), Intent::Other);
//! assert_eq!(parser.intent("YES"), Intent::OptIn);
//! assert_eq!(parser.intent("Yes I will come tomorrow"), Intent::Other);
//! ```

pub mod bench;
mod config;
pub mod corpus;
mod keywords;
mod normalise;
mod parser;
mod phrases;
mod reading;

pub use config::{
    ConfigError, DEFAULT_CONFIG_TOML, DEFAULT_MAX_GAP, Keywords, PhraseRule, RepliesConfig,
};
pub use normalise::{MAX_INPUT_BYTES, MAX_NORMALISED_CHARS, normalise, normalise_into};
pub use parser::IntentParser;
pub use reading::{Intent, Reading};
