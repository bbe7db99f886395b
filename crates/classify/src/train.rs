//! Training: one-vs-rest logistic regression fitted with FTRL-Proximal (McMahan et al.,
//! "Ad click prediction: a view from the trenches", KDD 2013).
//!
//! FTRL was chosen over plain SGD/Adagrad because its L1 term drives most of the millions of
//! hashed n-gram weights to exactly zero, which is what lets the committed model stay small;
//! its per-coordinate learning rate is Adagrad's, so rare n-grams still learn quickly.
//!
//! Training is single-threaded and the example order is shuffled with our own seeded
//! splitmix64, so the same data and seed give a bit-identical model on every machine.

use crate::error::Error;
use crate::features::extract;
use crate::model::{MAX_LABELS, Model, sigmoid};
use crate::normalise::{Normalised, Normaliser};

/// One labelled message.
#[derive(Debug, Clone, PartialEq)]
pub struct Example {
    /// The class, e.g. `marketing`.
    pub label: String,
    /// The message text.
    pub text: String,
    /// How much this example counts (1.0 normally; more for scarce hand-written cases).
    pub weight: f32,
}

impl Example {
    /// An example with weight 1.
    pub fn new(label: impl Into<String>, text: impl Into<String>) -> Self {
        Self {
            label: label.into(),
            text: text.into(),
            weight: 1.0,
        }
    }
}

/// Hyper-parameters. The defaults are what the committed model was trained with.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainConfig {
    /// Hash space is `2^bits` buckets (12–24).
    pub bits: u32,
    /// Passes over the data.
    pub epochs: u32,
    /// FTRL learning rate α.
    pub alpha: f32,
    /// FTRL β (smooths the learning rate of rarely seen features).
    pub beta: f32,
    /// L1 strength: larger gives a sparser, smaller model.
    pub l1: f32,
    /// L2 strength.
    pub l2: f32,
    /// Class re-weighting exponent: each class counts `(N / (k·n_c))^balance`; 0 = off.
    pub balance: f32,
    /// Seed for the shuffling order.
    pub seed: u64,
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            bits: 20,
            epochs: 8,
            alpha: 4.0,
            beta: 1.0,
            l1: 0.01,
            l2: 0.1,
            balance: 0.5,
            seed: 42,
        }
    }
}

/// splitmix64: tiny, seedable, and stable across dependency versions.
#[derive(Debug, Clone)]
pub struct SplitMix(pub u64);

impl SplitMix {
    /// The next pseudo-random number.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Fisher–Yates shuffle.
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            #[allow(clippy::cast_possible_truncation)]
            let j = (self.next_u64() % (i as u64 + 1)) as usize;
            items.swap(i, j);
        }
    }
}

/// FTRL state for all coordinates, bucket-major like the model.
struct Ftrl<'c> {
    z: Vec<f32>,
    n: Vec<f32>,
    cfg: &'c TrainConfig,
}

impl Ftrl<'_> {
    #[inline]
    fn weight(&self, i: usize) -> f32 {
        let z = self.z[i];
        if z.abs() <= self.cfg.l1 {
            0.0
        } else {
            -(z - z.signum() * self.cfg.l1)
                / ((self.cfg.beta + self.n[i].sqrt()) / self.cfg.alpha + self.cfg.l2)
        }
    }

    #[inline]
    fn update(&mut self, i: usize, g: f32) {
        let w = self.weight(i);
        let n = self.n[i];
        let sigma = ((n + g * g).sqrt() - n.sqrt()) / self.cfg.alpha;
        self.z[i] += g - sigma * w;
        self.n[i] = n + g * g;
    }
}

/// Trains a model on `examples`. Labels are the sorted distinct labels of the examples.
///
/// # Errors
/// [`Error::NoExamples`], [`Error::LabelCount`] (fewer than 2 or more than 16 labels), or
/// [`Error::Config`] for an out-of-range `bits`.
pub fn train(examples: &[Example], config: &TrainConfig) -> Result<Model, Error> {
    if examples.is_empty() {
        return Err(Error::NoExamples);
    }
    if !(12..=24).contains(&config.bits) {
        return Err(Error::Config(format!(
            "bits must be 12..=24, got {}",
            config.bits
        )));
    }
    let mut labels: Vec<String> = examples.iter().map(|e| e.label.clone()).collect();
    labels.sort();
    labels.dedup();
    let k = labels.len();
    if !(2..=MAX_LABELS).contains(&k) {
        return Err(Error::LabelCount(k));
    }
    // Featurise once: flat ids with offsets, so epochs only touch weights.
    let mut normaliser = Normaliser::new();
    let mut normalised = Normalised::default();
    let mut scratch = Vec::new();
    let mut ids = Vec::new();
    let mut rows = Vec::with_capacity(examples.len()); // (start, end, class)
    let mut counts = vec![0usize; k];
    for e in examples {
        normaliser.normalise_into(&e.text, &mut normalised);
        extract(&normalised, config.bits, &mut scratch);
        let class = labels.binary_search(&e.label).unwrap_or(0);
        counts[class] += 1;
        rows.push((ids.len(), ids.len() + scratch.len(), class, e.weight));
        ids.extend_from_slice(&scratch);
    }
    #[allow(clippy::cast_precision_loss)]
    let class_weight: Vec<f32> = counts
        .iter()
        .map(|&c| ((examples.len() as f32) / (k as f32 * c.max(1) as f32)).powf(config.balance))
        .collect();
    let size = k << config.bits;
    let mut ftrl = Ftrl {
        z: vec![0.0; size],
        n: vec![0.0; size],
        cfg: config,
    };
    let mut bias = vec![0f32; k];
    let mut bias_n = vec![0f32; k];
    let mut rng = SplitMix(config.seed);
    let mut order: Vec<usize> = (0..rows.len()).collect();
    for _ in 0..config.epochs {
        rng.shuffle(&mut order);
        for &r in &order {
            let (start, end, class, weight) = rows[r];
            let feats = &ids[start..end];
            #[allow(clippy::cast_precision_loss)]
            let v = 1.0 / (feats.len().max(1) as f32).sqrt();
            let mut logit = [0f32; MAX_LABELS];
            for &f in feats {
                let base = f as usize * k;
                for (c, l) in logit.iter_mut().enumerate().take(k) {
                    *l += ftrl.weight(base + c);
                }
            }
            let mut grad = [0f32; MAX_LABELS];
            for c in 0..k {
                let y = if c == class { 1.0 } else { 0.0 };
                let p = sigmoid(bias[c] + logit[c] * v);
                let g = (p - y) * weight * class_weight[class];
                // Bias: plain Adagrad, no regularisation.
                bias_n[c] += g * g;
                bias[c] -= config.alpha * g / (config.beta + bias_n[c].sqrt());
                grad[c] = g * v;
            }
            for &f in feats {
                let base = f as usize * k;
                for (c, &g) in grad.iter().enumerate().take(k) {
                    ftrl.update(base + c, g);
                }
            }
        }
    }
    let weights: Vec<f32> = (0..size).map(|i| ftrl.weight(i)).collect();
    Ok(Model::from_weights(labels, config.bits, bias, &weights))
}
