//! Reading a message for consent purposes: the whole text, then its clauses.
//!
//! [`Model::classify`] scores a text as a whole. [`Model::read`] is what the send path, the
//! CLI and triage use, and adds three judgements the whole-text scores cannot make:
//!
//! 1. **A message is marketing when any clause sells.** A notice (code, shipping, bill,
//!    appointment …) whose clauses include one that reads as marketing with calibrated
//!    `p ≥ clause_threshold` is marketing, and the reading names that clause, so a decision
//!    can quote it ("另外双11全场5折").
//! 2. **People first.** When the whole text reads as a person's message, its clauses are not
//!    searched for adverts: a friend mentioning a sale is not a sale. (The model itself is
//!    trained on people's messages that mention prices, codes and calls back.) And a text
//!    that reads as a person's with `p(personal) ≥ person_confidence` is never marketing or
//!    fraud even when that label scores higher — the scores are independent sigmoids, so both
//!    can be high; such a conflict is [`UNCERTAIN`] (kept by triage, declared on the send path).
//! 3. **Uncertain.** Below `min_confidence` for the best category, the category is
//!    [`UNCERTAIN`]: a reader keeps the message, the send path applies what was declared.

use crate::clauses::clauses;
use crate::model::{MAX_LABELS, Model, Scores};
use std::ops::Range;

/// The category of a message no label fits with enough confidence.
pub const UNCERTAIN: &str = "uncertain";

/// Thresholds of [`Model::read_with`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReadConfig {
    /// Below this calibrated probability of the best label, the category is [`UNCERTAIN`].
    pub min_confidence: f32,
    /// A notice with a clause at or above this calibrated p(marketing) is marketing.
    pub clause_threshold: f32,
    /// Marketing and fraud need at least this (whole text or selling clause), else the
    /// reading is [`UNCERTAIN`]: setting a person's message aside costs more than keeping
    /// an advert, so the bar for "unwanted" is higher than for the other categories.
    pub unwanted_confidence: f32,
    /// A message whose whole text reads as a person's with at least this calibrated
    /// p(personal) is never marketing or fraud, even when another label scores higher: the
    /// scores are one sigmoid per label, so a text can read as a person's *and* as fraud
    /// ("Sir, I need AXIS BANK account no and bank address.": p(fraud) 0.93, p(personal)
    /// 0.64), and such a conflict is [`UNCERTAIN`], not a message set aside.
    pub person_confidence: f32,
}

impl Default for ReadConfig {
    fn default() -> Self {
        Self {
            min_confidence: 0.5,
            clause_threshold: 0.5,
            unwanted_confidence: 0.8,
            person_confidence: 0.5,
        }
    }
}

/// What [`Model::read`] found.
#[derive(Debug, Clone, PartialEq)]
pub struct Reading<'m> {
    /// A label of the model, or [`UNCERTAIN`].
    pub category: &'m str,
    /// Calibrated probabilities of every label for the whole text, except that p(marketing)
    /// is raised to the selling clause's when a clause decided the category.
    pub scores: Vec<(&'m str, f32)>,
    /// The clause that made the message marketing (byte range of the text), when the
    /// message has several clauses and the whole text alone did not read as marketing
    /// with `unwanted_confidence`; also kept when that clause sells but not surely enough,
    /// and the reading is therefore `uncertain`. [`Model::read_explained`] also names it when the whole
    /// text decided.
    pub clause: Option<Range<usize>>,
}

impl Reading<'_> {
    /// The probability of `label`, if the model has it.
    #[must_use]
    pub fn score(&self, label: &str) -> Option<f32> {
        self.scores
            .iter()
            .find(|(l, _)| *l == label)
            .map(|&(_, s)| s)
    }

    /// The highest probability of any label (for [`UNCERTAIN`], the one that fell short).
    #[must_use]
    pub fn confidence(&self) -> f32 {
        self.scores.iter().fold(0f32, |m, &(_, s)| m.max(s))
    }

    /// The deciding clause's text, given the text that was read.
    #[must_use]
    pub fn clause_text<'t>(&self, text: &'t str) -> Option<&'t str> {
        self.clause.clone().and_then(|r| text.get(r))
    }
}

impl Model {
    /// Reads `text` with the default thresholds; see the module docs.
    #[must_use]
    pub fn read(&self, text: &str) -> Reading<'_> {
        self.read_with(text, &ReadConfig::default())
    }

    /// [`Model::read`], and a `marketing` reading always names the clause that sells most
    /// when the message has several (even when the whole text already decided). Costs one
    /// classification per clause of such a message, so it is for callers that show the
    /// reason — a decision, a triage list — not for bulk scoring.
    #[must_use]
    pub fn read_explained(&self, text: &str) -> Reading<'_> {
        let mut r = self.read(text);
        if r.clause.is_none()
            && r.category == "marketing"
            && let Some(m) = self.labels.iter().position(|l| l == "marketing")
        {
            r.clause = self.top_clause(text, m).map(|(_, range)| range);
        }
        r
    }

    /// The clause of `text` with the highest calibrated probability of class `c`, when the
    /// text has more than one clause.
    fn top_clause(&self, text: &str, c: usize) -> Option<(f32, Range<usize>)> {
        let ranges = clauses(text);
        if ranges.len() < 2 {
            return None;
        }
        let mut top: Option<(f32, Range<usize>)> = None;
        for r in ranges {
            let mut z = [0f32; MAX_LABELS];
            self.logits(&text[r.clone()], &mut z);
            let p = self.calibrated(c, z[c]);
            if top.as_ref().is_none_or(|(q, _)| p > *q) {
                top = Some((p, r));
            }
        }
        top
    }

    /// Reads `text` with the given thresholds.
    #[must_use]
    pub fn read_with(&self, text: &str, config: &ReadConfig) -> Reading<'_> {
        let Scores {
            category,
            mut scores,
        } = self.classify(text);
        let label = |name: &str| self.labels.iter().position(|l| l == name);
        let (marketing, fraud) = (label("marketing"), label("fraud"));
        let person = label("personal").map_or(0.0, |p| scores[p].1);
        let best = self.labels.iter().position(|l| l == category);
        let mut category = category;
        let mut clause = None;
        let is_notice = matches!(category, "transactional" | "verification");
        // Clauses are read when they can change the answer: a notice (is an advert tacked
        // on?) or marketing below the bar (is one clause clearly selling?). A person's
        // message is never searched; marketing or fraud that the whole text already decides
        // needs no clause (the whole message is the reason, and this keeps adverts, most of
        // an inbox, at one classification).
        let whole = best.map_or(0.0, |b| scores[b].1);
        let searched = is_notice
            || (best.is_some() && best == marketing && whole < config.unwanted_confidence);
        if searched
            && let Some(m) = marketing
            && let Some((p, r)) = self.top_clause(text, m)
            && p >= config.clause_threshold
        {
            // Any clause that sells makes the message marketing.
            category = &self.labels[m];
            scores[m].1 = scores[m].1.max(p);
            clause = Some(r);
        }
        let chosen = self.labels.iter().position(|l| l == category);
        let confidence = chosen.map_or(0.0, |c| scores[c].1);
        let bar = if chosen.is_some() && (chosen == marketing || chosen == fraud) {
            config.unwanted_confidence.max(config.min_confidence)
        } else {
            config.min_confidence
        };
        let unwanted = chosen.is_some() && (chosen == marketing || chosen == fraud);
        if confidence < bar || (unwanted && person >= config.person_confidence) {
            // The clause stays: a notice whose selling clause fell short of the bar is
            // uncertain, and that clause is what a complaint or a reader should look at.
            category = UNCERTAIN;
        }
        Reading {
            category,
            scores,
            clause,
        }
    }
}
