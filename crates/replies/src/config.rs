//! The keyword and phrase rules as typed data: [`RepliesConfig`], read from TOML.
//!
//! Operators add a carrier's keyword or a phrase their customers use without a release, so the
//! rules live in `config/replies.toml`, which is embedded here as the default: the crate works
//! with no file, and a deployment can pass its own. Every key is documented in that file. All
//! strings go through [`crate::normalise`] when the parser is built, so `退訂`, `ＳＴＯＰ` and
//! `Stop` written in the config mean the same as `退订` and `stop`.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::Intent;

/// The shipped rules, `config/replies.toml` at the repository root.
pub const DEFAULT_CONFIG_TOML: &str = include_str!("../../../config/replies.toml");

/// How far apart, in characters, the parts of a phrase pattern `a*b` may be by default.
pub const DEFAULT_MAX_GAP: usize = 8;

/// Everything the parser knows about words, loaded from TOML.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RepliesConfig {
    /// Replies made only of keywords (and fillers).
    pub keywords: Keywords,
    /// Longer replies: rules over phrases found anywhere in the text, `[[phrase]]` tables.
    #[serde(default, rename = "phrase")]
    pub phrases: Vec<PhraseRule>,
    /// Strings that veto every phrase rule when present anywhere in the reply.
    #[serde(default)]
    pub guards: Vec<String>,
    /// Most characters allowed between the parts of a `a*b` phrase pattern.
    #[serde(default = "default_max_gap")]
    pub max_gap: usize,
}

/// Keyword lists. A reply is a keyword reply when its normalised text is, from start to end,
/// a sequence of these words and [`Keywords::fillers`] with at least one keyword
/// (`STOP`, `stop pls`, `T退订`, `回复T退订`, `退订了谢谢您`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Keywords {
    /// Stop marketing from the sender replied to.
    #[serde(default)]
    pub opt_out: Vec<String>,
    /// Stop marketing from every sender (implies opt-out).
    #[serde(default)]
    pub all_senders: Vec<String>,
    /// Subscribe again.
    #[serde(default)]
    pub opt_in: Vec<String>,
    /// Ask for help.
    #[serde(default)]
    pub help: Vec<String>,
    /// Complain about the message (sets `report`, implies opt-out).
    #[serde(default)]
    pub report: Vec<String>,
    /// Keywords that count only when they are the whole reply: `YES` alone subscribes, `Yes I
    /// will come tomorrow` does not. Each must also appear in one of the lists above.
    #[serde(default)]
    pub bare_only: Vec<String>,
    /// Politeness and padding that may surround keywords (`please`, `谢谢`, `了`, `回复`).
    #[serde(default)]
    pub fillers: Vec<String>,
}

/// One phrase rule: any of its patterns found in the reply, and none of its guards, decides.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PhraseRule {
    /// What the rule means (`opt_out`, `opt_in` or `help`; `other` is rejected).
    pub intent: Intent,
    /// Literal strings; `*` inside one allows up to `max_gap` characters in between
    /// (`不要再*发` matches `不要再给我发`). Latin parts match whole words only.
    pub patterns: Vec<String>,
    /// Strings that veto this rule when present anywhere in the reply (`拒收` vs `快递`).
    #[serde(default)]
    pub guards: Vec<String>,
    /// The refusal covers every sender.
    #[serde(default)]
    pub all_senders: bool,
    /// The reply is a complaint.
    #[serde(default)]
    pub report: bool,
}

/// Why a config could not be loaded or compiled.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read replies config {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The text is not valid TOML or does not have the documented keys.
    #[error("invalid replies config: {0}")]
    Parse(#[from] toml::de::Error),
    /// The keys are there but a value makes no sense; the message says which.
    #[error("invalid replies config: {0}")]
    Invalid(String),
    /// The matcher could not be built (too many or too long patterns).
    #[error("cannot build the replies matcher: {0}")]
    Build(#[from] aho_corasick::BuildError),
}

fn default_max_gap() -> usize {
    DEFAULT_MAX_GAP
}

impl RepliesConfig {
    /// Parses a config from TOML text.
    ///
    /// # Errors
    /// [`ConfigError::Parse`] when the text is not a valid config.
    pub fn from_toml_str(text: &str) -> Result<Self, ConfigError> {
        Ok(toml::from_str(text)?)
    }

    /// Reads a config file.
    ///
    /// # Errors
    /// [`ConfigError::Io`] when the file cannot be read, [`ConfigError::Parse`] when it is not
    /// a valid config.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_toml_str(&text)
    }
}

impl Default for RepliesConfig {
    /// The shipped rules ([`DEFAULT_CONFIG_TOML`]).
    fn default() -> Self {
        // The embedded text is fixed at compile time and parsed by a unit test below.
        #[allow(clippy::expect_used)]
        Self::from_toml_str(DEFAULT_CONFIG_TOML).expect("embedded config/replies.toml is valid")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_default_parses() {
        let config = RepliesConfig::from_toml_str(DEFAULT_CONFIG_TOML);
        assert!(config.is_ok(), "{config:?}");
    }

    #[test]
    fn unknown_keys_are_rejected() {
        let err = RepliesConfig::from_toml_str("[keywords]\nopt_outt = [\"x\"]\n");
        assert!(matches!(err, Err(ConfigError::Parse(_))));
    }

    #[test]
    fn minimal_config() {
        let config = RepliesConfig::from_toml_str("[keywords]\nopt_out = [\"stop\"]\n");
        assert!(matches!(config, Ok(c) if c.phrases.is_empty() && c.max_gap == DEFAULT_MAX_GAP));
    }

    #[test]
    fn missing_file_is_an_io_error() {
        let err = RepliesConfig::load(Path::new("/nonexistent/replies.toml"));
        assert!(matches!(err, Err(ConfigError::Io { .. })));
    }
}
