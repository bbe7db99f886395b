//! The linear model and scoring. Pure maths: no files here (see [`crate::store`]).
//!
//! One-vs-rest logistic regression over hashed features. For class `c` the logit is
//! `bias[c] + (1/√n) · Σ w[f][c]` over the `n` feature ids `f` of the message; the `1/√n`
//! keeps long messages from becoming over-confident just by having more n-grams.
//!
//! Scores are **per-class sigmoids** of those logits: each is the calibrated probability of
//! "this class versus the rest" learnt by its own binary regression, so they need not sum to 1.
//! We chose that over a softmax because a policy wants to ask "how sure that this is
//! marketing?" with a threshold that means the same thing whatever the other classes are.
//! The category is the arg-max.
//!
//! Weights are stored quantised to `i8` with one scale per model, bucket-major
//! (`weights[bucket * k + class]`), so a message costs one cache line per feature and the
//! default model stays a few megabytes in memory.

use crate::cascade::{Buffers, Cascade};
use crate::features::extract;
use crate::normalise::{Normalised, Normaliser};
use std::cell::RefCell;

/// Most classes a model may have (scoring uses a fixed-size stack array).
pub const MAX_LABELS: usize = 16;

/// A trained classifier.
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    pub(crate) labels: Vec<String>,
    pub(crate) bits: u32,
    pub(crate) scale: f32,
    pub(crate) bias: Vec<f32>,
    pub(crate) weights: Vec<i8>,
    /// Platt scaling per class, `(a, b)`: the calibrated probability is `σ(a·z + b)` of the
    /// raw logit `z`. Fitted on held-out rows (see [`crate::calibrate`]); `(1, 0)` = raw.
    pub(crate) calibration: Vec<(f32, f32)>,
    /// The second stage asked where this pass is unsure ([`crate::cascade`]); `None` for a
    /// plain linear model.
    pub(crate) cascade: Option<Box<Cascade>>,
}

/// The result of classifying one message.
#[derive(Debug, Clone, PartialEq)]
pub struct Scores<'m> {
    /// The label with the highest (calibrated) probability.
    pub category: &'m str,
    /// Every label with its one-vs-rest probability (calibrated when the model carries a
    /// calibration), in the model's label order.
    pub scores: Vec<(&'m str, f32)>,
}

impl Scores<'_> {
    /// The probability of the chosen category.
    #[must_use]
    pub fn confidence(&self) -> f32 {
        self.score(self.category).unwrap_or(0.0)
    }

    /// The category as the typed enum, for models trained on the five standard labels.
    #[must_use]
    pub fn as_category(&self) -> Option<crate::Category> {
        self.category.parse().ok()
    }

    /// The probability of `label`, if the model has it.
    #[must_use]
    pub fn score(&self, label: &str) -> Option<f32> {
        self.scores
            .iter()
            .find(|(l, _)| *l == label)
            .map(|&(_, s)| s)
    }
}

#[derive(Default)]
struct Scratch {
    normaliser: Normaliser,
    normalised: Normalised,
    ids: Vec<u32>,
    cascade: Buffers,
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

/// Logistic function.
#[inline]
#[must_use]
pub fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

impl Model {
    /// Builds a model from real-valued weights (bucket-major, `2^bits × labels.len()`),
    /// quantising them to `i8`. Weights too small to survive quantisation become zero,
    /// which is what keeps the stored model sparse.
    ///
    /// # Panics
    /// If `weights.len() != 2^bits × labels.len()` or `bias.len() != labels.len()`
    /// (a programming error in the trainer, not an input error).
    #[must_use]
    pub fn from_weights(labels: Vec<String>, bits: u32, bias: Vec<f32>, weights: &[f32]) -> Self {
        assert_eq!(
            weights.len(),
            labels.len() << bits,
            "weights do not match bits × labels"
        );
        assert_eq!(bias.len(), labels.len(), "one bias per label");
        let max = weights.iter().fold(0f32, |m, w| m.max(w.abs()));
        let scale = if max > 0.0 { max / 127.0 } else { 1.0 };
        #[allow(clippy::cast_possible_truncation)]
        let weights = weights
            .iter()
            .map(|w| (w / scale).round().clamp(-127.0, 127.0) as i8)
            .collect();
        let calibration = vec![(1.0, 0.0); labels.len()];
        Self {
            labels,
            bits,
            scale,
            bias,
            weights,
            calibration,
            cascade: None,
        }
    }

    /// Attaches a second stage ([`crate::cascade`]), trained on the same labels.
    ///
    /// # Errors
    /// [`Error::Config`](crate::Error::Config) when its number of classes differs.
    pub fn with_cascade(mut self, cascade: Cascade) -> Result<Self, crate::Error> {
        if cascade.bias.len() != self.labels.len() {
            return Err(crate::Error::Config(format!(
                "second stage has {} classes, the model {}",
                cascade.bias.len(),
                self.labels.len()
            )));
        }
        self.cascade = Some(Box::new(cascade));
        Ok(self)
    }

    /// The second stage, if this model is a cascade.
    #[must_use]
    pub fn cascade(&self) -> Option<&Cascade> {
        self.cascade.as_deref()
    }

    /// The first pass alone (the cascade's second stage dropped).
    #[must_use]
    pub fn first_pass(&self) -> Self {
        Self {
            cascade: None,
            ..self.clone()
        }
    }

    /// Sets the Platt parameters `(a, b)` per class (see [`crate::calibrate`]).
    ///
    /// # Panics
    /// If `calibration.len()` differs from the number of labels (a programming error).
    #[must_use]
    pub fn with_calibration(mut self, calibration: Vec<(f32, f32)>) -> Self {
        assert_eq!(calibration.len(), self.labels.len(), "one (a, b) per label");
        self.calibration = calibration;
        self
    }

    /// The Platt parameters `(a, b)` per class.
    #[must_use]
    pub fn calibration(&self) -> &[(f32, f32)] {
        &self.calibration
    }

    /// The calibrated probability of class `c` for raw logit `z`.
    #[inline]
    #[must_use]
    pub fn calibrated(&self, c: usize, z: f32) -> f32 {
        let (a, b) = self.calibration.get(c).copied().unwrap_or((1.0, 0.0));
        sigmoid(a * z + b)
    }

    /// The labels, in score order.
    #[must_use]
    pub fn labels(&self) -> &[String] {
        &self.labels
    }

    /// Size of the hashed feature space, as a power of two.
    #[must_use]
    pub fn bits(&self) -> u32 {
        self.bits
    }

    /// Number of hash buckets with at least one non-zero weight.
    #[must_use]
    pub fn non_zero_buckets(&self) -> usize {
        self.weights
            .chunks(self.labels.len())
            .filter(|w| w.iter().any(|&x| x != 0))
            .count()
    }

    /// Classifies one message. Never fails: any text, even empty, gets a category.
    #[must_use]
    pub fn classify(&self, text: &str) -> Scores<'_> {
        let mut logits = [0f32; MAX_LABELS];
        self.logits(text, &mut logits);
        let k = self.labels.len();
        let best = self.best(&logits);
        Scores {
            category: &self.labels[best],
            scores: self
                .labels
                .iter()
                .zip(&logits[..k])
                .enumerate()
                .map(|(c, (l, &z))| (l.as_str(), self.calibrated(c, z)))
                .collect(),
        }
    }

    /// Index of the most probable label (no allocation; used by evaluation and benchmarks).
    #[must_use]
    pub fn predict(&self, text: &str) -> usize {
        let mut logits = [0f32; MAX_LABELS];
        self.logits(text, &mut logits);
        self.best(&logits)
    }

    /// The class with the highest calibrated probability (σ is monotonic, so the arg-max of
    /// `a·z + b` — no `exp` needed).
    #[inline]
    fn best(&self, logits: &[f32; MAX_LABELS]) -> usize {
        let at = |c: usize| {
            let (a, b) = self.calibration.get(c).copied().unwrap_or((1.0, 0.0));
            a * logits[c] + b
        };
        (1..self.labels.len()).fold(0, |best, c| if at(c) > at(best) { c } else { best })
    }

    /// Writes the raw logits of `text` into `out[..labels.len()]`: the first pass's, or,
    /// when a second stage is attached and its gate asks it, the blended answer expressed
    /// in the first pass's logit scale (so its calibration still applies).
    pub fn logits(&self, text: &str, out: &mut [f32; MAX_LABELS]) {
        SCRATCH.with(|s| {
            let mut guard = s.borrow_mut();
            let Scratch {
                normaliser,
                normalised,
                ids,
                cascade,
            } = &mut *guard;
            normaliser.normalise_into(text, normalised);
            extract(normalised, self.bits, ids);
            self.logits_of_ids(ids, out);
            if let Some(second) = &self.cascade {
                let find = |name: &str| self.labels.iter().position(|l| l == name);
                let roles = (find("personal"), find("fraud"));
                second.refine(normalised, &self.calibration, roles, cascade, out);
            }
        });
    }

    /// Logits from already-extracted feature ids.
    pub(crate) fn logits_of_ids(&self, ids: &[u32], out: &mut [f32; MAX_LABELS]) {
        let k = self.labels.len();
        let mut acc = [0i32; MAX_LABELS];
        // A row length known at compile time lets the compiler unroll the row sum and drop
        // the inner loop; the five-label default model is the case that matters.
        match k {
            5 => sum_rows::<5>(&self.weights, ids, &mut acc),
            3 => sum_rows::<3>(&self.weights, ids, &mut acc),
            2 => sum_rows::<2>(&self.weights, ids, &mut acc),
            _ => {
                for &id in ids {
                    let base = id as usize * k;
                    if let Some(row) = self.weights.get(base..base + k) {
                        for (a, &w) in acc.iter_mut().zip(row) {
                            *a += i32::from(w);
                        }
                    }
                }
            }
        }
        #[allow(clippy::cast_precision_loss)]
        let v = self.scale / (ids.len().max(1) as f32).sqrt();
        #[allow(clippy::cast_precision_loss)]
        for c in 0..k {
            out[c] = self.bias[c] + acc[c] as f32 * v;
        }
    }
}

/// Adds the `K` weights of each id's row to `acc` (ids out of range add nothing, as in the
/// general loop).
#[inline]
fn sum_rows<const K: usize>(weights: &[i8], ids: &[u32], acc: &mut [i32; MAX_LABELS]) {
    let mut sum = [0i32; K];
    for &id in ids {
        let base = id as usize * K;
        if let Some(row) = weights.get(base..base + K) {
            let row: &[i8; K] = row.try_into().unwrap_or(&[0; K]);
            for c in 0..K {
                sum[c] += i32::from(row[c]);
            }
        }
    }
    acc[..K].copy_from_slice(&sum);
}
