//! Triage: what a person must read, and a count of what was set aside.
//!
//! A message is set aside only when the model is at least `min_confidence` sure it is
//! unwanted (marketing or fraud). In doubt it is kept: losing a delivery notice or a
//! friend's message costs more than reading one advert.

use crate::Category;
use crate::model::Model;
use std::fmt;

/// A message the person should see.
#[derive(Debug, Clone, PartialEq)]
pub struct Kept<'a> {
    /// Position in the input.
    pub index: usize,
    /// The message.
    pub text: &'a str,
    /// Its category label.
    pub category: String,
    /// Probability of that category.
    pub confidence: f32,
}

/// The result of [`triage`].
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Triage<'a> {
    /// Messages to read, in input (arrival) order.
    pub keep: Vec<Kept<'a>>,
    /// Set-aside counts per category, in the model's label order (zero counts omitted).
    pub set_aside: Vec<(String, u64)>,
}

/// Sorts `messages` into those to read and counts of those set aside.
pub fn triage<'a, I>(model: &Model, messages: I, min_confidence: f32) -> Triage<'a>
where
    I: IntoIterator<Item = &'a str>,
{
    let mut counts = vec![0u64; model.labels().len()];
    let mut keep = Vec::new();
    for (index, text) in messages.into_iter().enumerate() {
        let scores = model.classify(text);
        let unwanted = scores
            .category
            .parse::<Category>()
            .is_ok_and(Category::is_unwanted);
        if unwanted && scores.confidence() >= min_confidence {
            if let Some(i) = model.labels().iter().position(|l| l == scores.category) {
                counts[i] += 1;
            }
        } else {
            keep.push(Kept {
                index,
                text,
                category: scores.category.to_owned(),
                confidence: scores.confidence(),
            });
        }
    }
    let set_aside = model
        .labels()
        .iter()
        .zip(counts)
        .filter(|&(_, n)| n > 0)
        .map(|(l, n)| (l.clone(), n))
        .collect();
    Triage { keep, set_aside }
}

impl fmt::Display for Triage<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for k in &self.keep {
            let text: String = k
                .text
                .chars()
                .map(|c| if c.is_control() { ' ' } else { c })
                .collect();
            writeln!(f, "{:<13} {:.2}  {}", k.category, k.confidence, text)?;
        }
        let total: u64 = self.set_aside.iter().map(|(_, n)| n).sum();
        write!(f, "set aside {total}")?;
        for (l, n) in &self.set_aside {
            write!(f, "  {l} {n}")?;
        }
        writeln!(f)
    }
}
