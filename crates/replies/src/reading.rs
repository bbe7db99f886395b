//! What a reply means: the [`Intent`] and the [`Reading`] that carries it with its evidence.

use serde::{Deserialize, Serialize};

/// What the consumer asked for. Serialized as `"opt_out"`, `"opt_in"`, `"help"`, `"other"`.
///
/// When one reply carries several intents (`STOP START`), the first in this priority order
/// wins: opt-out, help, opt-in. Marketing needs clear consent, so an ambiguous reply is read as
/// the refusal, never as the subscription.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Intent {
    /// Stop marketing from this sender (or from every sender, see [`Reading::all_senders`]).
    OptOut,
    /// Subscribe again after an opt-out.
    OptIn,
    /// Asks who is writing and how to stop; the gateway answers with the help text.
    Help,
    /// Anything else: questions, chat, thanks, junk. Never changes consent.
    Other,
}

impl Intent {
    /// Every intent, in priority order (highest first).
    pub const ALL: [Intent; 4] = [Intent::OptOut, Intent::Help, Intent::OptIn, Intent::Other];

    /// The snake_case name, as serialized and as written in the config and the corpus.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Intent::OptOut => "opt_out",
            Intent::OptIn => "opt_in",
            Intent::Help => "help",
            Intent::Other => "other",
        }
    }

    /// Parses the snake_case name.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Intent> {
        Intent::ALL.into_iter().find(|i| i.as_str() == name)
    }

    /// Lower is stronger; see the type docs for why opt-out comes first.
    pub(crate) fn rank(self) -> u8 {
        match self {
            Intent::OptOut => 0,
            Intent::Help => 1,
            Intent::OptIn => 2,
            Intent::Other => 3,
        }
    }
}

impl std::fmt::Display for Intent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The parser's answer for one reply, with the rule that decided it so the ledger can store
/// why a consent changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reading {
    /// What the consumer asked for.
    pub intent: Intent,
    /// A platform-wide opt-out (`STOPALL`, `全部退订`): stop marketing from every sender, not
    /// only the one replied to. Only ever true with [`Intent::OptOut`].
    pub all_senders: bool,
    /// The reply is a complaint (`举报`, `REPORT`). A consumer who reports a message does not
    /// want more of it, so this always comes with [`Intent::OptOut`].
    pub report: bool,
    /// The rule that decided, e.g. `keyword:退订` or `phrase:不要再*发`; `None` for
    /// [`Intent::Other`].
    pub matched: Option<String>,
}

impl Reading {
    /// A reply that means nothing for consent.
    #[must_use]
    pub fn other() -> Reading {
        Reading {
            intent: Intent::Other,
            all_senders: false,
            report: false,
            matched: None,
        }
    }
}
