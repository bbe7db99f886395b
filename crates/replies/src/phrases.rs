//! Phrase rules: refusals and requests written as sentences (`不要再给我发广告`, `please take
//! me off this list`), found anywhere in a longer reply.
//!
//! Every literal a rule needs (pattern parts and guards) goes into one overlapping
//! Aho-Corasick automaton, so the text is scanned once whatever the number of rules. Hits are
//! then checked per rule: a guard present vetoes the rule (`拒收` next to `快递` is about a
//! parcel), a pattern `a*b` needs its parts in order with at most `max_gap` characters between
//! them. Latin parts must sit on word boundaries decided by script (`stop by` must not match
//! inside `nonstop bye`), never by regex `\b`, which sees no boundary in `回T退订`.

use std::collections::HashMap;

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};

use crate::config::{ConfigError, PhraseRule};
use crate::keywords::is_boundary;
use crate::normalise::{is_spaced_word, normalise};
use crate::{Intent, Reading};

/// Hits kept per reply; a normalised reply is short, so this only bounds pathological input.
const MAX_HITS: usize = 64;

#[derive(Debug, Clone)]
struct Rule {
    intent: Intent,
    all_senders: bool,
    report: bool,
    /// Each pattern as the literal ids of its parts, with its `phrase:<pattern>` name.
    patterns: Vec<(Vec<usize>, String)>,
    guards: Vec<usize>,
}

/// The compiled phrase rules.
#[derive(Debug, Clone)]
pub(crate) struct PhraseSet {
    automaton: AhoCorasick,
    /// Per literal id: must its start (and end) sit on a word boundary?
    bounded: Vec<(bool, bool)>,
    rules: Vec<Rule>,
    /// Per literal id: the (rule, pattern) pairs whose first part it is, so a reply only
    /// costs work for the patterns it can start.
    starts: Vec<Vec<(usize, usize)>>,
    guards: Vec<usize>,
    max_gap: usize,
}

#[derive(Clone, Copy, Default)]
struct Hit {
    id: u32,
    start: u32,
    end: u32,
}

/// Assigns one id per distinct normalised literal.
#[derive(Default)]
struct Literals {
    index: HashMap<String, usize>,
    list: Vec<String>,
}

impl Literals {
    fn id(&mut self, raw: &str, context: &str) -> Result<usize, ConfigError> {
        let norm = normalise(raw);
        if norm.is_empty() {
            return Err(ConfigError::Invalid(format!(
                "{context} {raw:?} is empty after normalisation"
            )));
        }
        if let Some(&id) = self.index.get(&norm) {
            return Ok(id);
        }
        let id = self.list.len();
        self.index.insert(norm.clone(), id);
        self.list.push(norm);
        Ok(id)
    }
}

impl PhraseSet {
    pub(crate) fn new(
        rules: &[PhraseRule],
        guards: &[String],
        max_gap: usize,
    ) -> Result<Self, ConfigError> {
        let mut literals = Literals::default();
        let mut compiled = Vec::with_capacity(rules.len());
        for rule in rules {
            if rule.intent == Intent::Other {
                return Err(ConfigError::Invalid(format!(
                    "phrase rule {:?} has intent other; use a guard to veto instead",
                    rule.patterns
                )));
            }
            let mut patterns = Vec::with_capacity(rule.patterns.len());
            for pattern in &rule.patterns {
                let parts = pattern
                    .split('*')
                    .map(|part| literals.id(part, "phrase part of"))
                    .collect::<Result<Vec<_>, _>>()?;
                patterns.push((parts, format!("phrase:{}", pattern.trim())));
            }
            let guards = rule
                .guards
                .iter()
                .map(|g| literals.id(g, "guard"))
                .collect::<Result<_, _>>()?;
            compiled.push(Rule {
                intent: rule.intent,
                all_senders: rule.all_senders && rule.intent == Intent::OptOut,
                report: rule.report && rule.intent == Intent::OptOut,
                patterns,
                guards,
            });
        }
        // Stronger intents first, config order within one intent: the first rule that matches
        // among the strongest is the one reported.
        compiled.sort_by_key(|r| r.intent.rank());
        let guards = guards
            .iter()
            .map(|g| literals.id(g, "guard"))
            .collect::<Result<_, _>>()?;
        let bounded = literals
            .list
            .iter()
            .map(|l| {
                let first = l.chars().next().is_some_and(is_spaced_word);
                let last = l.chars().next_back().is_some_and(is_spaced_word);
                (first, last)
            })
            .collect();
        let mut starts = vec![Vec::new(); literals.list.len()];
        for (r, rule) in compiled.iter().enumerate() {
            for (p, (parts, _)) in rule.patterns.iter().enumerate() {
                if let Some(&first) = parts.first() {
                    starts[first].push((r, p));
                }
            }
        }
        let automaton = AhoCorasick::builder()
            .match_kind(MatchKind::Standard)
            .kind(Some(AhoCorasickKind::DFA))
            .build(&literals.list)?;
        Ok(Self {
            automaton,
            bounded,
            rules: compiled,
            starts,
            guards,
            max_gap,
        })
    }

    /// Reads `text` (already normalised) by phrase rules, or `None` when no rule matches.
    ///
    /// The first matching rule in priority order (then config order) names the decision; every
    /// matching opt-out rule may add its all-senders or report flag.
    pub(crate) fn read(&self, text: &str) -> Option<Reading> {
        if text.len() > u32::MAX as usize {
            return None;
        }
        let mut hits = [Hit::default(); MAX_HITS];
        let mut n = 0;
        for m in self.automaton.find_overlapping_iter(text) {
            let id = m.pattern().as_usize();
            let (check_start, check_end) = self.bounded[id];
            if (check_start && !is_boundary(text, m.start()))
                || (check_end && !is_boundary(text, m.end()))
            {
                continue;
            }
            // Lengths fit: checked against u32::MAX above; ids are far fewer.
            #[allow(clippy::cast_possible_truncation)]
            let hit = Hit {
                id: id as u32,
                start: m.start() as u32,
                end: m.end() as u32,
            };
            hits[n] = hit;
            n += 1;
            if n == MAX_HITS {
                break;
            }
        }
        let hits = &hits[..n];
        let present = |id: usize| hits.iter().any(|h| h.id as usize == id);
        if n == 0 || self.guards.iter().any(|&g| present(g)) {
            return None;
        }
        let mut best: Option<(usize, usize)> = None;
        let (mut all_senders, mut report) = (false, false);
        for hit in hits {
            for &(r, p) in &self.starts[hit.id as usize] {
                let rule = &self.rules[r];
                let improves = best.is_none_or(|b| (r, p) < b);
                let flags = (rule.all_senders && !all_senders) || (rule.report && !report);
                if !(improves || flags)
                    || rule.guards.iter().any(|&g| present(g))
                    || !self.found_after(text, hits, hit.end, &rule.patterns[p].0[1..])
                {
                    continue;
                }
                all_senders |= rule.all_senders;
                report |= rule.report;
                if improves {
                    best = Some((r, p));
                }
            }
        }
        let (r, p) = best?;
        let rule = &self.rules[r];
        // Flags come only from opt-out rules, which sort first: if any matched, so did the
        // decision's intent.
        Some(Reading {
            intent: rule.intent,
            all_senders: all_senders && rule.intent == Intent::OptOut,
            report: report && rule.intent == Intent::OptOut,
            matched: Some(rule.patterns[p].1.clone()),
        })
    }

    /// True when `rest` parts occur in order after byte `end`, each within `max_gap`
    /// characters of the previous. Taking the earliest next occurrence is optimal: it leaves
    /// the most room for the parts after it.
    fn found_after(&self, text: &str, hits: &[Hit], mut end: u32, rest: &[usize]) -> bool {
        rest.iter().all(|&part| {
            let next = hits
                .iter()
                .filter(|n| n.id as usize == part && n.start >= end)
                .min_by_key(|n| n.start);
            match next {
                Some(n) if text[end as usize..n.start as usize].chars().count() <= self.max_gap => {
                    end = n.end;
                    true
                }
                _ => false,
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(intent: Intent, patterns: &[&str], guards: &[&str]) -> PhraseRule {
        PhraseRule {
            intent,
            patterns: patterns.iter().map(|s| (*s).to_string()).collect(),
            guards: guards.iter().map(|s| (*s).to_string()).collect(),
            all_senders: false,
            report: false,
        }
    }

    fn set() -> PhraseSet {
        let rules = [
            rule(Intent::OptIn, &["重新订阅"], &[]),
            rule(Intent::OptOut, &["不要再*发", "stop sending"], &["发货"]),
            rule(Intent::OptOut, &["拒收"], &["快递"]),
        ];
        PhraseSet::new(&rules, &["不想退订".to_string()], 4).expect("test rules compile")
    }

    fn read(text: &str) -> Option<(Intent, Option<String>)> {
        set().read(&normalise(text)).map(|r| (r.intent, r.matched))
    }

    #[test]
    fn gaps_guards_and_boundaries() {
        assert_eq!(
            read("不要再给我发了"),
            Some((Intent::OptOut, Some("phrase:不要再*发".into())))
        );
        assert_eq!(read("不要再给我们公司的人发了"), None);
        assert_eq!(read("不要再发货了"), None);
        assert_eq!(read("快递拒收了"), None);
        assert_eq!(
            read("Please STOP sending!"),
            Some((Intent::OptOut, Some("phrase:stop sending".into())))
        );
        assert_eq!(read("nonstop sendings"), None);
    }

    #[test]
    fn opt_out_outranks_opt_in() {
        assert_eq!(
            read("拒收，不用重新订阅").map(|r| r.0),
            Some(Intent::OptOut)
        );
        assert_eq!(read("我想重新订阅").map(|r| r.0), Some(Intent::OptIn));
    }
}
