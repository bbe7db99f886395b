//! Evaluation: confusion matrix and the figures derived from it.
//!
//! Besides per-class figures, [`EvalReport::binary`] folds classes into one positive group,
//! because the question a consent gateway asks is usually "unwanted (marketing + fraud) or
//! not", and the public data sets are labelled only at that level.

use crate::model::Model;
use crate::train::Example;
use std::fmt;

/// Precision, recall and F1 of one class or group.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Prf {
    /// Of those predicted positive, the share that were.
    pub precision: f64,
    /// Of the positives, the share found.
    pub recall: f64,
    /// Harmonic mean of the two.
    pub f1: f64,
    /// Number of true members.
    pub support: u64,
}

impl Prf {
    /// Precision, recall and F1 from true positives, false positives and false negatives.
    #[must_use]
    pub fn from_counts(tp: u64, fp: u64, fn_: u64) -> Self {
        #[allow(clippy::cast_precision_loss)]
        let ratio = |a: u64, b: u64| if b == 0 { 0.0 } else { a as f64 / b as f64 };
        let precision = ratio(tp, tp + fp);
        let recall = ratio(tp, tp + fn_);
        let f1 = if precision + recall == 0.0 {
            0.0
        } else {
            2.0 * precision * recall / (precision + recall)
        };
        Self {
            precision,
            recall,
            f1,
            support: tp + fn_,
        }
    }
}

/// The outcome of evaluating a model on labelled examples.
#[derive(Debug, Clone, PartialEq)]
pub struct EvalReport {
    /// The model's labels; rows and columns of `confusion` follow this order.
    pub labels: Vec<String>,
    /// `confusion[actual][predicted]` counts.
    pub confusion: Vec<Vec<u64>>,
    /// Examples whose label the model does not know (not counted anywhere else).
    pub unknown_label: u64,
}

/// Evaluates `model` on `examples`.
#[must_use]
pub fn eval(model: &Model, examples: &[Example]) -> EvalReport {
    let labels = model.labels().to_vec();
    let k = labels.len();
    let mut confusion = vec![vec![0u64; k]; k];
    let mut unknown_label = 0;
    for e in examples {
        match labels.iter().position(|l| *l == e.label) {
            Some(actual) => confusion[actual][model.predict(&e.text)] += 1,
            None => unknown_label += 1,
        }
    }
    EvalReport {
        labels,
        confusion,
        unknown_label,
    }
}

impl EvalReport {
    /// Number of examples counted.
    #[must_use]
    pub fn total(&self) -> u64 {
        self.confusion.iter().flatten().sum()
    }

    /// Share of examples whose predicted label is the true one.
    #[must_use]
    pub fn accuracy(&self) -> f64 {
        let right: u64 = (0..self.labels.len()).map(|i| self.confusion[i][i]).sum();
        #[allow(clippy::cast_precision_loss)]
        if self.total() == 0 {
            0.0
        } else {
            right as f64 / self.total() as f64
        }
    }

    /// Figures for one label (all zero if the model lacks it).
    #[must_use]
    pub fn class(&self, label: &str) -> Prf {
        self.binary(&[label])
    }

    /// Figures for a group of labels taken as one positive class, e.g. `["marketing", "fraud"]`.
    #[must_use]
    pub fn binary(&self, positive: &[&str]) -> Prf {
        let pos: Vec<bool> = self
            .labels
            .iter()
            .map(|l| positive.contains(&l.as_str()))
            .collect();
        let (mut tp, mut fp, mut fn_) = (0, 0, 0);
        for (a, row) in self.confusion.iter().enumerate() {
            for (p, &n) in row.iter().enumerate() {
                match (pos[a], pos[p]) {
                    (true, true) => tp += n,
                    (false, true) => fp += n,
                    (true, false) => fn_ += n,
                    (false, false) => {}
                }
            }
        }
        Prf::from_counts(tp, fp, fn_)
    }

    /// Mean F1 over the labels that occur in the data (labels with no support are skipped).
    #[must_use]
    pub fn macro_f1(&self) -> f64 {
        let present: Vec<f64> = self
            .labels
            .iter()
            .map(|l| self.class(l))
            .filter(|p| p.support > 0)
            .map(|p| p.f1)
            .collect();
        #[allow(clippy::cast_precision_loss)]
        if present.is_empty() {
            0.0
        } else {
            present.iter().sum::<f64>() / present.len() as f64
        }
    }

    /// How many examples labelled `actual` were predicted `predicted`.
    #[must_use]
    pub fn count(&self, actual: &str, predicted: &str) -> u64 {
        let a = self.labels.iter().position(|l| l == actual);
        let p = self.labels.iter().position(|l| l == predicted);
        a.zip(p).map_or(0, |(a, p)| self.confusion[a][p])
    }
}

impl fmt::Display for EvalReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "examples {}  accuracy {:.4}  macro-F1 {:.4}",
            self.total(),
            self.accuracy(),
            self.macro_f1()
        )?;
        if self.unknown_label > 0 {
            writeln!(
                f,
                "skipped {} examples with a label the model does not know",
                self.unknown_label
            )?;
        }
        writeln!(
            f,
            "{:<14} {:>9} {:>9} {:>9} {:>8}",
            "class", "precision", "recall", "F1", "support"
        )?;
        for l in &self.labels {
            let p = self.class(l);
            writeln!(
                f,
                "{l:<14} {:>9.4} {:>9.4} {:>9.4} {:>8}",
                p.precision, p.recall, p.f1, p.support
            )?;
        }
        write!(f, "confusion (rows actual, columns predicted)\n{:<14}", "")?;
        for l in &self.labels {
            write!(f, " {:>8.8}", l)?;
        }
        writeln!(f)?;
        for (l, row) in self.labels.iter().zip(&self.confusion) {
            write!(f, "{l:<14}")?;
            for n in row {
                write!(f, " {n:>8}")?;
            }
            writeln!(f)?;
        }
        Ok(())
    }
}
