//! Keyword replies: the normalised text read, start to end, as keywords and fillers.
//!
//! One anchored, leftmost-longest Aho-Corasick automaton holds every keyword and filler. From
//! the start of the text it takes the longest entry that begins there, then continues after it;
//! a position where nothing matches means the reply is not a keyword reply. Longest-first is
//! what keeps `取消订阅` one opt-out instead of `取消` + `订阅` (opt-out + opt-in).
//!
//! A match may end only at a word boundary decided by script, not by regex `\b`: between a
//! Latin letter and a Han character (`回复t退订`) there is one, between two Latin letters
//! (`trend` starting with keyword `t`) there is not.

use std::collections::HashMap;

use aho_corasick::{AhoCorasick, AhoCorasickKind, Anchored, Input, MatchKind, StartKind};

use crate::config::{ConfigError, Keywords};
use crate::normalise::{is_spaced_word, normalise};
use crate::{Intent, Reading};

/// What one automaton entry means. Several lists may name the same word (`stopall` is both an
/// opt-out and an all-senders keyword); their flags merge.
#[derive(Debug, Clone)]
struct Entry {
    /// `None` for a filler.
    intent: Option<Intent>,
    all_senders: bool,
    report: bool,
    bare_only: bool,
    /// `keyword:<normalised word>`, ready to hand out as [`Reading::matched`].
    rule: String,
}

/// The compiled keyword lists.
#[derive(Debug, Clone)]
pub(crate) struct KeywordSet {
    automaton: AhoCorasick,
    entries: Vec<Entry>,
}

impl KeywordSet {
    pub(crate) fn new(keywords: &Keywords) -> Result<Self, ConfigError> {
        let mut index: HashMap<String, usize> = HashMap::new();
        let mut entries: Vec<Entry> = Vec::new();
        let lists: [(&[String], Option<Intent>, bool, bool); 6] = [
            (&keywords.opt_out, Some(Intent::OptOut), false, false),
            (&keywords.all_senders, Some(Intent::OptOut), true, false),
            (&keywords.report, Some(Intent::OptOut), false, true),
            (&keywords.help, Some(Intent::Help), false, false),
            (&keywords.opt_in, Some(Intent::OptIn), false, false),
            (&keywords.fillers, None, false, false),
        ];
        for (words, intent, all_senders, report) in lists {
            for word in words {
                let norm = normalise(word);
                if norm.is_empty() {
                    return Err(ConfigError::Invalid(format!(
                        "keyword {word:?} is empty after normalisation"
                    )));
                }
                match index.get(&norm) {
                    Some(&i) => {
                        let e = &mut entries[i];
                        match (e.intent, intent) {
                            (Some(a), Some(b)) if a != b => {
                                return Err(ConfigError::Invalid(format!(
                                    "keyword {word:?} is listed as both {a} and {b}"
                                )));
                            }
                            (None, Some(_)) => e.intent = intent,
                            _ => {}
                        }
                        e.all_senders |= all_senders;
                        e.report |= report;
                    }
                    None => {
                        index.insert(norm.clone(), entries.len());
                        let rule = format!("keyword:{norm}");
                        entries.push(Entry {
                            intent,
                            all_senders,
                            report,
                            bare_only: false,
                            rule,
                        });
                    }
                }
            }
        }
        for word in &keywords.bare_only {
            match index.get(&normalise(word)) {
                Some(&i) if entries[i].intent.is_some() => entries[i].bare_only = true,
                _ => {
                    return Err(ConfigError::Invalid(format!(
                        "bare_only keyword {word:?} is not in any keyword list"
                    )));
                }
            }
        }
        let mut patterns = vec![String::new(); entries.len()];
        for (word, i) in index {
            patterns[i] = word;
        }
        let automaton = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostLongest)
            .start_kind(StartKind::Anchored)
            .kind(Some(AhoCorasickKind::DFA))
            .build(&patterns)?;
        Ok(Self { automaton, entries })
    }

    /// Reads `text` (already normalised) as a keyword reply, or `None` when it is not one.
    /// With `bare` false, `bare_only` keywords never count (used for one clause of a longer
    /// reply, where `Yes, what time?` must not subscribe).
    pub(crate) fn read(&self, text: &str, bare: bool) -> Option<Reading> {
        let bytes = text.as_bytes();
        let mut at = 0;
        let mut pieces = 0usize;
        // A bare-only keyword counts only when it is the whole reply; among other words it is
        // ignored and the rest decide (`STOP SPAM` refuses; `n thanks` alone is not clear
        // enough). Both readings are kept as the reply is scanned, and the piece count picks one.
        let (mut any, mut strict) = (Tally::default(), Tally::default());
        while at < bytes.len() {
            if bytes[at] == b' ' {
                at += 1;
                continue;
            }
            let input = Input::new(text).range(at..).anchored(Anchored::Yes);
            let m = self.automaton.try_find(input).ok()??;
            if !is_boundary(text, m.end()) {
                return None;
            }
            let entry = &self.entries[m.pattern().as_usize()];
            pieces += 1;
            any.take(entry);
            if !entry.bare_only {
                strict.take(entry);
            }
            at = m.end();
        }
        let Tally {
            decided,
            all_senders,
            report,
        } = if pieces == 1 && bare { any } else { strict };
        let entry = decided?;
        let intent = entry.intent?;
        Some(Reading {
            intent,
            all_senders: all_senders && intent == Intent::OptOut,
            report: report && intent == Intent::OptOut,
            matched: Some(entry.rule.clone()),
        })
    }
}

/// The strongest intent among the keywords read so far, and the flags they carry.
#[derive(Default)]
struct Tally<'a> {
    decided: Option<&'a Entry>,
    all_senders: bool,
    report: bool,
}

impl<'a> Tally<'a> {
    fn take(&mut self, entry: &'a Entry) {
        let Some(intent) = entry.intent else {
            return;
        };
        self.all_senders |= entry.all_senders;
        self.report |= entry.report;
        let stronger = self
            .decided
            .and_then(|d| d.intent)
            .is_none_or(|current| intent.rank() < current.rank());
        if stronger {
            self.decided = Some(entry);
        }
    }
}

/// True when a keyword may end at byte `end` of normalised `text`: at the end, before a space,
/// or anywhere that is not between two letters/digits of a space-delimited script.
pub(crate) fn is_boundary(text: &str, end: usize) -> bool {
    let before = text[..end].chars().next_back();
    let after = text[end..].chars().next();
    match (before, after) {
        (Some(b), Some(a)) => !(is_spaced_word(b) && is_spaced_word(a)),
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set() -> KeywordSet {
        let keywords = Keywords {
            opt_out: vec![
                "T".into(),
                "TD".into(),
                "退订".into(),
                "退".into(),
                "取消订阅".into(),
            ],
            all_senders: vec!["STOPALL".into(), "全部退订".into()],
            opt_in: vec!["订阅".into(), "YES".into()],
            bare_only: vec!["yes".into()],
            fillers: vec!["了".into(), "回复".into(), "please".into()],
            ..Keywords::default()
        };
        KeywordSet::new(&keywords).expect("test keywords compile")
    }

    fn intent(text: &str) -> Option<Intent> {
        set().read(&normalise(text), true).map(|r| r.intent)
    }

    #[test]
    fn sequences_of_keywords_and_fillers() {
        assert_eq!(intent("T退订"), Some(Intent::OptOut));
        assert_eq!(intent("TD退"), Some(Intent::OptOut));
        assert_eq!(intent("回复T退订"), Some(Intent::OptOut));
        assert_eq!(intent("退订了"), Some(Intent::OptOut));
        assert_eq!(intent("取消订阅"), Some(Intent::OptOut));
        assert!(set().read("全部退订", true).is_some_and(|r| r.all_senders));
        assert!(set().read("yes", false).is_none());
    }

    #[test]
    fn no_match_inside_words_or_with_unknown_text() {
        assert_eq!(intent("trend"), None);
        assert_eq!(intent("T恤"), None);
        assert_eq!(intent("了"), None);
        assert_eq!(intent("yes please"), None);
        assert_eq!(intent("yes"), Some(Intent::OptIn));
    }

    #[test]
    fn conflicting_lists_are_rejected() {
        let keywords = Keywords {
            opt_out: vec!["x".into()],
            opt_in: vec!["X".into()],
            ..Keywords::default()
        };
        assert!(matches!(
            KeywordSet::new(&keywords),
            Err(ConfigError::Invalid(_))
        ));
    }
}
