//! The cascade's second stage: a TF-IDF character n-gram linear SVM asked only where the
//! fast first pass is unsure.
//!
//! Issue #11 measured the first pass (hashed features, FTRL logistic regression) 0.008 F1
//! under a TF-IDF + `LinearSVC` baseline on Chinese, and left a cascade open: keep the fast
//! pass for the bulk of traffic (≥ 500k msg/s a core), and let a stronger learner decide the
//! messages the fast pass is not sure of. This stage is that learner: [`crate::tfidf`] rows
//! (sublinear tf, IDF stored in the model, unit length) and one [`crate::svm`] separator per
//! class, its decision values Platt-calibrated on rows its first fit did not learn.
//!
//! The [`Gate`] decides when it is asked (in [`crate::Model::logits`], so `classify`, `read`,
//! clause reading and `predict` all see the cascade):
//! - only when the first pass's best calibrated probability is under `band`;
//! - only for text with a Chinese character when `han_only`;
//! - **never** when the first pass reads the text as a person's with `p ≥ keep_person`:
//!   the people rule stays in front. An earlier SVM-only attempt ("v3", lost) called 6 of
//!   128 held-out people's messages marketing or fraud; a person's message the first pass
//!   recognises is not handed to a learner that never saw the people rule.
//!
//! Its answer is blended with the first pass's in calibrated log-odds
//! (`(1 − blend)·first + blend·second`) and written back as first-pass logits, so every
//! threshold downstream keeps its meaning.

use crate::calibrate::platt;
use crate::datasets::{Part, part_of};
use crate::error::Error;
use crate::model::{MAX_LABELS, sigmoid};
use crate::normalise::{Normalised, Normaliser, is_ideograph};
use crate::svm::{SparseRow, SvmConfig, train_binary};
use crate::tfidf::{Grams, idf, row};
use crate::train::Example;

/// When the second stage is asked, and how much its answer counts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Gate {
    /// Asked when the first pass's best calibrated probability is below this (≥ 1: always).
    pub band: f32,
    /// Asked only for text holding a Chinese character.
    pub han_only: bool,
    /// Not asked when the first pass's calibrated p(personal) is at least this (> 1: off).
    pub keep_person: f32,
    /// Weight of the second stage in the blended calibrated log-odds (1 = it decides).
    pub blend: f32,
    /// The `fraud` score stays the first pass's: the second stage learns fraud from one
    /// source (the fake-base-station set) and reads a person's "换号了，这是我新号码" as the
    /// scam it opens there.
    pub keep_fraud: bool,
}

impl Default for Gate {
    fn default() -> Self {
        Self {
            band: 0.9,
            han_only: false,
            keep_person: 0.5,
            blend: 1.0,
            keep_fraud: false,
        }
    }
}

/// Training settings of the second stage (`[cascade]` in a recipe).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct CascadeConfig {
    /// The n-grams.
    pub grams: Grams,
    /// The SVM.
    pub svm: SvmConfig,
    /// The gate stored with the model.
    pub gate: Gate,
}

/// A trained second stage (see the module docs).
#[derive(Debug, Clone, PartialEq)]
pub struct Cascade {
    pub(crate) grams: Grams,
    pub(crate) gate: Gate,
    /// IDF per column, quantised: `idf = q × idf_scale`; 0 = never seen in training.
    pub(crate) idf: Vec<u16>,
    pub(crate) idf_scale: f32,
    /// Weights `i16 × scale`, column-major like the first pass (`weights[j·k + c]`).
    pub(crate) weights: Vec<i16>,
    pub(crate) scale: f32,
    pub(crate) bias: Vec<f32>,
    /// Platt `(a, b)` per class on the SVM's decision values.
    pub(crate) calibration: Vec<(f32, f32)>,
}

/// Reusable buffers of [`Cascade::refine`].
#[derive(Debug, Default)]
pub(crate) struct Buffers {
    chars: Vec<char>,
    columns: Vec<u32>,
    row: SparseRow,
}

/// The text's rows as training needs them: normalised, n-grams taken, sorted.
fn columns_of(examples: &[Example], grams: Grams) -> Vec<Vec<u32>> {
    let mut normaliser = Normaliser::new();
    let mut n = Normalised::default();
    let mut chars = Vec::new();
    examples
        .iter()
        .map(|e| {
            normaliser.normalise_into(&e.text, &mut n);
            let mut cols = Vec::new();
            grams.columns(&n, &mut chars, &mut cols);
            cols
        })
        .collect()
}

fn quantise_idf(idf: &[f32]) -> (Vec<u16>, f32) {
    let max = idf.iter().fold(0f32, |m, &x| m.max(x));
    let scale = if max > 0.0 {
        max / f32::from(u16::MAX)
    } else {
        1.0
    };
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let q = idf
        .iter()
        .map(|&x| {
            if x > 0.0 {
                (x / scale).round().clamp(1.0, f32::from(u16::MAX)) as u16
            } else {
                0
            }
        })
        .collect();
    (q, scale)
}

impl Cascade {
    /// Trains the second stage on `examples` (labels sorted as [`crate::train`] sorts them).
    /// With `calibrate`, a first fit learns every row outside the validation part and Platt
    /// parameters are fitted on its decision values there, as [`crate::Recipe::train_on`]
    /// does for the first pass; without, scores are raw sigmoids of the decision values.
    ///
    /// # Errors
    /// [`Error::NoExamples`], [`Error::LabelCount`], [`Error::Config`] for bits outside
    /// 12..=24, n-gram lengths outside 1..=8 or a bad SVM setting.
    pub fn train(
        examples: &[Example],
        config: &CascadeConfig,
        calibrate: bool,
    ) -> Result<Self, Error> {
        let g = config.grams;
        if !(12..=24).contains(&g.bits) {
            return Err(Error::Config(format!(
                "cascade bits must be 12..=24, got {}",
                g.bits
            )));
        }
        if !(1..=8).contains(&g.max_n_han) || !(1..=8).contains(&g.max_n_latin) {
            return Err(Error::Config("cascade n-gram lengths must be 1..=8".into()));
        }
        let cascade = Self::fit(examples, config)?;
        if !calibrate {
            return Ok(cascade);
        }
        let (held, learn): (Vec<Example>, Vec<Example>) = examples
            .iter()
            .cloned()
            .partition(|e| part_of(&e.text) == Part::Validation);
        let first = Self::fit(&learn, config)?;
        let calibration = first.platt_on(&labels_of(examples)?, &held);
        Ok(Self {
            calibration,
            ..cascade
        })
    }

    /// Trains without calibration (raw sigmoids of the decision values); for measuring
    /// settings, with [`Cascade::calibrated_on`] fitted on rows it did not learn.
    ///
    /// # Errors
    /// As [`Cascade::train`].
    pub fn train_uncalibrated(examples: &[Example], config: &CascadeConfig) -> Result<Self, Error> {
        Self::train(examples, config, false)
    }

    /// This stage with Platt parameters fitted on `rows` (which it should not have learnt);
    /// `labels` are the model's, in order.
    #[must_use]
    pub fn calibrated_on(self, labels: &[String], rows: &[Example]) -> Self {
        Self {
            calibration: self.platt_on(labels, rows),
            ..self
        }
    }

    /// Platt `(a, b)` per class of this stage's decision values on `rows`.
    fn platt_on(&self, labels: &[String], rows: &[Example]) -> Vec<(f32, f32)> {
        let k = self.k().min(labels.len());
        let mut buffers = Buffers::default();
        let mut normaliser = Normaliser::new();
        let mut n = Normalised::default();
        let mut values: Vec<[f32; MAX_LABELS]> = Vec::with_capacity(rows.len());
        let mut classes = Vec::with_capacity(rows.len());
        for e in rows {
            let Ok(c) = labels.binary_search(&e.label) else {
                continue;
            };
            normaliser.normalise_into(&e.text, &mut n);
            let mut s = [0f32; MAX_LABELS];
            self.decision(&n, &mut buffers, &mut s);
            values.push(s);
            classes.push(c);
        }
        (0..k)
            .map(|c| {
                let z: Vec<f64> = values.iter().map(|v| f64::from(v[c])).collect();
                let y: Vec<bool> = classes.iter().map(|&x| x == c).collect();
                platt(&z, &y)
            })
            .collect()
    }

    fn fit(examples: &[Example], config: &CascadeConfig) -> Result<Self, Error> {
        let labels = labels_of(examples)?;
        let k = labels.len();
        let g = config.grams;
        let docs = columns_of(examples, g);
        let (idf_q, idf_scale) = quantise_idf(&idf(&docs, g.bits));
        let rows: Vec<SparseRow> = docs
            .iter()
            .map(|d| {
                let mut r = Vec::new();
                row(d, |j| f32::from(idf_q[j as usize]) * idf_scale, &mut r);
                r
            })
            .collect();
        drop(docs);
        let weights_of_rows: Vec<f32> = examples.iter().map(|e| e.weight).collect();
        let dim = 1usize << g.bits;
        let mut dense = vec![0f32; dim * k];
        let mut bias = vec![0f32; k];
        for (c, label) in labels.iter().enumerate() {
            let positive: Vec<bool> = examples.iter().map(|e| e.label == *label).collect();
            let s = train_binary(&rows, &positive, &weights_of_rows, dim, &config.svm)?;
            for (j, w) in s.weights.iter().enumerate() {
                dense[j * k + c] = *w;
            }
            bias[c] = s.bias;
        }
        let max = dense.iter().fold(0f32, |m, w| m.max(w.abs()));
        let scale = if max > 0.0 {
            max / f32::from(i16::MAX)
        } else {
            1.0
        };
        #[allow(clippy::cast_possible_truncation)]
        let weights = dense
            .iter()
            .map(|w| (w / scale).round().clamp(-32767.0, 32767.0) as i16)
            .collect();
        Ok(Self {
            grams: g,
            gate: config.gate,
            idf: idf_q,
            idf_scale,
            weights,
            scale,
            bias,
            calibration: vec![(1.0, 0.0); k],
        })
    }

    /// The gate stored with this stage.
    #[must_use]
    pub fn gate(&self) -> Gate {
        self.gate
    }

    /// Replaces the gate (to measure other settings without retraining).
    #[must_use]
    pub fn with_gate(mut self, gate: Gate) -> Self {
        self.gate = gate;
        self
    }

    fn k(&self) -> usize {
        self.bias.len()
    }

    /// The raw SVM decision values of normalised text, one per class.
    fn decision(&self, n: &Normalised, b: &mut Buffers, out: &mut [f32; MAX_LABELS]) {
        self.grams.columns(n, &mut b.chars, &mut b.columns);
        let (idf, scale) = (&self.idf, self.idf_scale);
        row(
            &b.columns,
            |j| idf.get(j as usize).map_or(0.0, |&q| f32::from(q) * scale),
            &mut b.row,
        );
        let k = self.k();
        let mut acc = [0f32; MAX_LABELS];
        for &(j, v) in &b.row {
            let base = j as usize * k;
            if let Some(w) = self.weights.get(base..base + k) {
                for (a, &x) in acc.iter_mut().zip(w) {
                    *a += v * f32::from(x);
                }
            }
        }
        for c in 0..k {
            out[c] = self.bias[c] + acc[c] * self.scale;
        }
    }

    /// Applies the gate to first-pass logits `z` of normalised text `n`, replacing them by
    /// the blended answer when the second stage is asked. `first` is the first pass's Platt
    /// calibration, `person` and `fraud` the indices of those labels. Returns whether it was
    /// asked.
    pub(crate) fn refine(
        &self,
        n: &Normalised,
        first: &[(f32, f32)],
        (person, fraud): (Option<usize>, Option<usize>),
        b: &mut Buffers,
        z: &mut [f32; MAX_LABELS],
    ) -> bool {
        let k = self.k().min(first.len());
        let gate = self.gate;
        if gate.han_only && !n.text.chars().any(is_ideograph) {
            return false;
        }
        let mut lin = [0f32; MAX_LABELS];
        for c in 0..k {
            lin[c] = first[c].0 * z[c] + first[c].1;
        }
        if gate.band < 1.0 {
            let best = lin[..k].iter().copied().fold(f32::NEG_INFINITY, f32::max);
            if sigmoid(best) >= gate.band {
                return false;
            }
        }
        if let Some(p) = person
            && p < k
            && sigmoid(lin[p]) >= gate.keep_person
        {
            return false;
        }
        let mut s = [0f32; MAX_LABELS];
        self.decision(n, b, &mut s);
        for c in 0..k {
            if gate.keep_fraud && Some(c) == fraud {
                continue;
            }
            let (a2, b2) = self.calibration[c];
            let u = (1.0 - gate.blend) * lin[c] + gate.blend * (a2 * s[c] + b2);
            let (a1, b1) = first[c];
            z[c] = if a1 > 0.0 { (u - b1) / a1 } else { u };
        }
        true
    }
}

fn labels_of(examples: &[Example]) -> Result<Vec<String>, Error> {
    if examples.is_empty() {
        return Err(Error::NoExamples);
    }
    let mut labels: Vec<String> = examples.iter().map(|e| e.label.clone()).collect();
    labels.sort();
    labels.dedup();
    if !(2..=MAX_LABELS).contains(&labels.len()) {
        return Err(Error::LabelCount(labels.len()));
    }
    Ok(labels)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::TrainConfig;

    fn rows() -> Vec<Example> {
        vec![
            Example::new("marketing", "全场5折 点击领取优惠券"),
            Example::new("marketing", "双11大促 满减优惠 速来"),
            Example::new("personal", "晚上一起吃饭吗"),
            Example::new("personal", "我到楼下了 你下来吧"),
        ]
    }

    fn small() -> CascadeConfig {
        CascadeConfig {
            grams: Grams {
                bits: 14,
                ..Grams::default()
            },
            ..CascadeConfig::default()
        }
    }

    #[test]
    fn the_second_stage_decides_only_inside_the_gate() {
        let first = crate::train(
            &rows(),
            &TrainConfig {
                bits: 14,
                ..TrainConfig::default()
            },
        )
        .expect("first pass");
        let second = Cascade::train(&rows(), &small(), false).expect("second");
        let text = "全场5折 点击领取优惠券";
        let mut plain = [0f32; MAX_LABELS];
        first.logits(text, &mut plain);
        // A band of 0 never asks it: the logits are the first pass's.
        let never = first
            .clone()
            .with_cascade(second.clone().with_gate(Gate {
                band: 0.0,
                ..Gate::default()
            }))
            .expect("attach");
        let mut z = [0f32; MAX_LABELS];
        never.logits(text, &mut z);
        assert_eq!(z, plain);
        // Always asked: the second stage's answer, and it learnt the toy data.
        let always = first
            .with_cascade(second.with_gate(Gate {
                band: 1.0,
                keep_person: 2.0,
                ..Gate::default()
            }))
            .expect("attach");
        always.logits(text, &mut z);
        assert_ne!(z, plain);
        assert_eq!(always.classify(text).category, "marketing");
        assert_eq!(always.classify("晚上一起吃饭吗").category, "personal");
    }

    #[test]
    fn keep_fraud_leaves_the_fraud_score_to_the_first_pass() {
        let mut data = rows();
        data.push(Example::new("fraud", "您的账户异常 请点击链接验证身份"));
        data.push(Example::new("fraud", "恭喜中奖 请先缴纳手续费"));
        let first = crate::train(
            &data,
            &TrainConfig {
                bits: 14,
                ..TrainConfig::default()
            },
        )
        .expect("first pass");
        let second = Cascade::train(&data, &small(), false).expect("second");
        let fraud = first
            .labels()
            .iter()
            .position(|l| l == "fraud")
            .expect("fraud");
        let text = "请点击链接验证 全场5折";
        let mut plain = [0f32; MAX_LABELS];
        first.logits(text, &mut plain);
        let gate = Gate {
            band: 1.0,
            keep_person: 2.0,
            keep_fraud: true,
            ..Gate::default()
        };
        let kept = first
            .clone()
            .with_cascade(second.clone().with_gate(gate))
            .expect("attach");
        let mut z = [0f32; MAX_LABELS];
        kept.logits(text, &mut z);
        assert_eq!(z[fraud], plain[fraud]);
        assert_ne!(z, plain, "the other classes are the second stage's");
        let all = first
            .with_cascade(second.with_gate(Gate {
                keep_fraud: false,
                ..gate
            }))
            .expect("attach");
        all.logits(text, &mut z);
        assert_ne!(z[fraud], plain[fraud]);
    }

    #[test]
    fn bad_settings_are_errors() {
        for cfg in [
            CascadeConfig {
                grams: Grams {
                    bits: 30,
                    ..Grams::default()
                },
                ..CascadeConfig::default()
            },
            CascadeConfig {
                grams: Grams {
                    max_n_han: 0,
                    ..small().grams
                },
                ..small()
            },
        ] {
            assert!(matches!(
                Cascade::train(&rows(), &cfg, false),
                Err(Error::Config(_))
            ));
        }
        assert!(matches!(
            Cascade::train(&[], &small(), true),
            Err(Error::NoExamples)
        ));
        let one = vec![Example::new("personal", "hi")];
        assert!(matches!(
            Cascade::train(&one, &small(), false),
            Err(Error::LabelCount(1))
        ));
    }
}
