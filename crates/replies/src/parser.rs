//! [`IntentParser`]: normalise, then keywords, then phrases, in that order.
//!
//! Keywords come first because a whole-reply keyword is the consumer's clearest statement and
//! the cheapest check. Phrases run only when the reply is not a keyword reply. Anything that
//! neither recognises is [`Intent::Other`]: the parser never guesses.

use std::cell::RefCell;
use std::path::Path;

use crate::config::{ConfigError, RepliesConfig};
use crate::keywords::KeywordSet;
use crate::normalise::{MAX_NORMALISED_CHARS, normalise_into, warm_up};
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
        self.keywords
            .read(buffer)
            .or_else(|| self.phrases.read(buffer))
            .unwrap_or_else(Reading::other)
    }

    /// Shorthand for `parse(text).intent`.
    #[must_use]
    pub fn intent(&self, text: &str) -> Intent {
        self.parse(text).intent
    }
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
    fn empty_and_junk_are_other() {
        let parser = IntentParser::default();
        for text in ["", "   ", "😀🙏", "\u{0}\u{1}\u{2}", "？？？"] {
            assert_eq!(parser.parse(text), Reading::other(), "{text:?}");
        }
    }
}
