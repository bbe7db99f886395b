//! [`IntentParser`]: normalise, then keywords, then phrases, in that order.
//!
//! Keywords come first because a whole-reply keyword is the consumer's clearest statement and
//! the cheapest check. Phrases run only when the reply is not a keyword reply. Last, a reply
//! with sentence punctuation is split into clauses and each is tried as a keyword reply, so
//! `I'm not interested, stop` is an opt-out while `can you stop by?` is not (normalisation
//! drops the punctuation, so this looks at the raw text). Clauses ignore `bare_only` keywords
//! and never subscribe: opt-in needs the whole reply (`Start? When?` is a question). Anything that none recognises is [`Intent::Other`]:
//! the parser never guesses.

use std::cell::RefCell;
use std::path::Path;

use crate::config::{ConfigError, RepliesConfig};
use crate::keywords::KeywordSet;
use crate::normalise::{MAX_INPUT_BYTES, MAX_NORMALISED_CHARS, normalise_into, truncate, warm_up};
use crate::phrases::PhraseSet;
use crate::{Intent, Reading};

thread_local! {
    /// One normalisation buffer per thread: `parse` takes `&self` so one parser can be shared,
    /// and still allocates nothing for the text it reads.
    static BUFFER: RefCell<String> = RefCell::new(String::with_capacity(MAX_NORMALISED_CHARS * 4));
}

/// Reads inbound replies as consent intents. Build once, share freely (`Send + Sync`).
#[derive(Debug, Clone)]
pub struct IntentParser {
    keywords: KeywordSet,
    phrases: PhraseSet,
}

impl IntentParser {
    /// Compiles the rules of `config`.
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] when a keyword or phrase is empty after normalisation, a word
    /// is listed under two intents, a `bare_only` word is not a keyword or a phrase rule has
    /// intent `other`; [`ConfigError::Build`] when the matcher cannot be built.
    pub fn new(config: &RepliesConfig) -> Result<Self, ConfigError> {
        warm_up();
        Ok(Self {
            keywords: KeywordSet::new(&config.keywords)?,
            phrases: PhraseSet::new(&config.phrases, &config.guards, config.max_gap)?,
        })
    }

    /// Loads and compiles a config file.
    ///
    /// # Errors
    /// As [`RepliesConfig::load`] and [`IntentParser::new`].
    pub fn from_path(path: &Path) -> Result<Self, ConfigError> {
        Self::new(&RepliesConfig::load(path)?)
    }

    /// Reads one reply. Never panics, whatever the bytes; only the first
    /// [`MAX_NORMALISED_CHARS`](crate::MAX_NORMALISED_CHARS) characters after normalisation
    /// are considered.
    #[must_use]
    pub fn parse(&self, text: &str) -> Reading {
        BUFFER.with(|cell| match cell.try_borrow_mut() {
            Ok(mut buffer) => self.parse_with(text, &mut buffer),
            // Only reachable if parse re-entered itself on this thread; stay correct anyway.
            Err(_) => self.parse_with(text, &mut String::new()),
        })
    }

    /// Reads one reply using `buffer` as scratch space (its contents are replaced).
    #[must_use]
    pub fn parse_with(&self, text: &str, buffer: &mut String) -> Reading {
        normalise_into(text, buffer);
        if buffer.is_empty() {
            return Reading::other();
        }
        if let Some(reading) = self.keywords.read(buffer, true) {
            return reading;
        }
        let phrase = self.phrases.read(buffer);
        if phrase.as_ref().is_some_and(|r| r.intent == Intent::OptOut) {
            return phrase.unwrap_or_else(Reading::other);
        }
        // A weaker phrase reading (help, opt-in) still yields to an opt-out clause:
        // `STOP. Who is this?` is an opt-out.
        match (phrase, self.clauses(text, buffer)) {
            (Some(p), Some(c)) if c.intent.rank() < p.intent.rank() => c,
            (Some(p), _) => p,
            (None, c) => c.unwrap_or_else(Reading::other),
        }
    }

    /// The strongest opt-out or help keyword reading among the clauses of `text`, if any.
    fn clauses(&self, text: &str, buffer: &mut String) -> Option<Reading> {
        let text = truncate(text, MAX_INPUT_BYTES);
        if !text.contains(is_clause_break) {
            return None;
        }
        let mut best: Option<Reading> = None;
        for clause in text.split(is_clause_break).take(MAX_CLAUSES) {
            normalise_into(clause, buffer);
            if let Some(mut reading) = self.keywords.read(buffer, false)
                && reading.intent != Intent::OptIn
                && best
                    .as_ref()
                    .is_none_or(|b| reading.intent.rank() < b.intent.rank())
            {
                reading.matched = reading.matched.map(|m| format!("clause:{m}"));
                best = Some(reading);
            }
        }
        best
    }

    /// Shorthand for `parse(text).intent`.
    #[must_use]
    pub fn intent(&self, text: &str) -> Intent {
        self.parse(text).intent
    }
}

/// Clauses looked at in one reply; a real reply has a handful.
const MAX_CLAUSES: usize = 16;

/// Sentence punctuation, ASCII and full-width, that separates clauses.
fn is_clause_break(c: char) -> bool {
    matches!(
        c,
        ',' | '.'
            | '!'
            | '?'
            | ';'
            | ':'
            | '\n'
            | '，'
            | '。'
            | '！'
            | '？'
            | '；'
            | '：'
            | '、'
            | '…'
    )
}

impl Default for IntentParser {
    /// The parser for the shipped rules.
    fn default() -> Self {
        // The embedded config is compiled by a unit test below; failure here is a build bug.
        #[allow(clippy::expect_used)]
        Self::new(&RepliesConfig::default()).expect("embedded config/replies.toml compiles")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_config_compiles() {
        let parser = IntentParser::new(&RepliesConfig::default());
        assert!(parser.is_ok(), "{parser:?}");
    }

    #[test]
    fn parser_is_shareable() {
        fn check<T: Send + Sync>() {}
        check::<IntentParser>();
    }

    #[test]
    fn custom_config_replaces_the_default() {
        let config = RepliesConfig::from_toml_str(
            "[keywords]\nopt_out = [\"basta\"]\n[[phrase]]\nintent = \"help\"\npatterns = [\"aiuto\"]\n",
        );
        let parser = config.and_then(|c| IntentParser::new(&c));
        let Ok(parser) = parser else {
            panic!("custom config compiles")
        };
        assert_eq!(parser.intent("BASTA!"), Intent::OptOut);
        assert_eq!(parser.intent("aiuto per favore"), Intent::Help);
        assert_eq!(parser.intent("STOP"), Intent::Other);
    }

    #[test]
    fn clauses_find_set_off_keywords_but_never_subscribe() {
        let parser = IntentParser::default();
        let reading = parser.parse("I'm busy, stop");
        assert_eq!(reading.intent, Intent::OptOut);
        assert_eq!(reading.matched.as_deref(), Some("clause:keyword:stop"));
        assert_eq!(parser.intent("STOP. Who is this?"), Intent::OptOut);
        assert_eq!(parser.intent("Start? When?"), Intent::Other);
        assert_eq!(parser.intent("Yes, what time?"), Intent::Other);
        assert_eq!(parser.intent("can you stop by?"), Intent::Other);
    }

    #[test]
    fn empty_and_junk_are_other() {
        let parser = IntentParser::default();
        for text in ["", "   ", "😀🙏", "\u{0}\u{1}\u{2}", "？？？"] {
            assert_eq!(parser.parse(text), Reading::other(), "{text:?}");
        }
    }
}
