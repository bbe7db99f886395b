//! Calibration: turning raw one-vs-rest sigmoids into probabilities that mean what they say,
//! and measuring how well they do (expected calibration error, ECE).
//!
//! Why: training re-weights classes and sources (so that 3.5k English rows are not drowned
//! by 32k Chinese ones), which shifts every class's raw probability away from its base rate;
//! a threshold of 0.9 then did not mean "nine in ten are marketing". Platt scaling (Platt
//! 1999; the regularised targets of Lin, Lin & Weng 2007) fits `p = σ(a·z + b)` per class on
//! rows the model never trained on. Two parameters per class cannot over-fit a few thousand
//! rows, keep the ranking (and so every F1) unchanged, and cost one multiply per score.

use crate::model::{MAX_LABELS, Model};
use crate::train::Example;

/// Fits Platt parameters `(a, b)` for every class of `model` on `rows` (one-vs-rest: a row
/// is positive for its own label). Labels the model lacks are skipped.
#[must_use]
pub fn fit(model: &Model, rows: &[Example]) -> Vec<(f32, f32)> {
    let k = model.labels().len();
    let mut logits: Vec<[f32; MAX_LABELS]> = Vec::with_capacity(rows.len());
    let mut classes = Vec::with_capacity(rows.len());
    for r in rows {
        let Some(c) = model.labels().iter().position(|l| *l == r.label) else {
            continue;
        };
        let mut z = [0f32; MAX_LABELS];
        model.logits(&r.text, &mut z);
        logits.push(z);
        classes.push(c);
    }
    (0..k)
        .map(|c| {
            let z: Vec<f64> = logits.iter().map(|l| f64::from(l[c])).collect();
            let y: Vec<bool> = classes.iter().map(|&x| x == c).collect();
            platt(&z, &y)
        })
        .collect()
}

/// Newton's method on the regularised log loss of `σ(a·z + b)` against smoothed targets.
#[allow(clippy::cast_precision_loss, clippy::cast_possible_truncation)]
pub(crate) fn platt(z: &[f64], y: &[bool]) -> (f32, f32) {
    let pos = y.iter().filter(|&&v| v).count() as f64;
    let neg = y.len() as f64 - pos;
    if pos == 0.0 || neg == 0.0 {
        return (1.0, 0.0);
    }
    let hi = (pos + 1.0) / (pos + 2.0);
    let lo = 1.0 / (neg + 2.0);
    let t: Vec<f64> = y.iter().map(|&v| if v { hi } else { lo }).collect();
    let loss = |a: f64, b: f64| -> f64 {
        z.iter()
            .zip(&t)
            .map(|(&zi, &ti)| {
                // log(1 + e^x) computed without overflow.
                let x = a * zi + b;
                let softplus = if x > 0.0 {
                    x + (-x).exp().ln_1p()
                } else {
                    x.exp().ln_1p()
                };
                softplus - ti * x
            })
            .sum()
    };
    let (mut a, mut b) = (1.0f64, 0.0f64);
    let mut current = loss(a, b);
    for _ in 0..100 {
        let (mut ga, mut gb, mut haa, mut hab, mut hbb) = (0.0, 0.0, 1e-12, 0.0, 1e-12);
        for (&zi, &ti) in z.iter().zip(&t) {
            let p = 1.0 / (1.0 + (-(a * zi + b)).exp());
            let d = p - ti;
            let w = p * (1.0 - p);
            ga += d * zi;
            gb += d;
            haa += w * zi * zi;
            hab += w * zi;
            hbb += w;
        }
        let det = haa * hbb - hab * hab;
        if det.abs() < 1e-18 {
            break;
        }
        let da = (hbb * ga - hab * gb) / det;
        let db = (haa * gb - hab * ga) / det;
        // Backtracking: Newton's full step can overshoot where the sigmoids saturate.
        let mut step = 1.0;
        while step > 1e-6 {
            let next = loss(a - step * da, b - step * db);
            if next <= current {
                a -= step * da;
                b -= step * db;
                current = next;
                break;
            }
            step /= 2.0;
        }
        if (step * da).abs() < 1e-7 && (step * db).abs() < 1e-7 {
            break;
        }
    }
    if !(a.is_finite() && b.is_finite()) || a <= 0.0 {
        return (1.0, 0.0);
    }
    (a as f32, b as f32)
}

/// One bin of a reliability table.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Bin {
    /// Scores in the bin.
    pub count: usize,
    /// Their mean predicted probability.
    pub mean_score: f64,
    /// The fraction that were positive.
    pub positive_rate: f64,
}

/// A reliability table of `p(label)` over `rows` (ten equal-width bins) and its expected
/// calibration error: the bins' |mean score − positive rate| weighted by their counts.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Reliability {
    /// Ten bins, `[0, 0.1)` … `[0.9, 1]`.
    pub bins: Vec<Bin>,
    /// Expected calibration error.
    pub ece: f64,
}

/// The reliability of `model`'s calibrated `p(label)` on `rows` (one-vs-rest).
#[must_use]
#[allow(clippy::cast_precision_loss, clippy::cast_possible_truncation)]
#[allow(clippy::cast_sign_loss)]
pub fn reliability(model: &Model, rows: &[Example], label: &str) -> Reliability {
    let Some(c) = model.labels().iter().position(|l| l == label) else {
        return Reliability::default();
    };
    let mut sums = [(0usize, 0f64, 0f64); 10];
    for r in rows {
        let mut z = [0f32; MAX_LABELS];
        model.logits(&r.text, &mut z);
        let p = f64::from(model.calibrated(c, z[c]));
        let bin = ((p * 10.0) as usize).min(9);
        sums[bin].0 += 1;
        sums[bin].1 += p;
        sums[bin].2 += f64::from(u8::from(r.label == label));
    }
    let total: usize = sums.iter().map(|s| s.0).sum();
    let mut ece = 0.0;
    let bins = sums
        .iter()
        .map(|&(n, ps, ys)| {
            if n == 0 {
                return Bin::default();
            }
            let (m, r) = (ps / n as f64, ys / n as f64);
            ece += (m - r).abs() * n as f64 / total.max(1) as f64;
            Bin {
                count: n,
                mean_score: m,
                positive_rate: r,
            }
        })
        .collect();
    Reliability { bins, ece }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn platt_recovers_a_known_scaling() {
        // Logits whose true probability is σ(0.5·z − 1): a deterministic sample.
        let mut z = Vec::new();
        let mut y = Vec::new();
        for i in 0..4000 {
            let zi = f64::from(i % 400) / 20.0 - 10.0;
            let p = 1.0 / (1.0 + (-(0.5 * zi - 1.0)).exp());
            // Positive for the first round(p·10) of every ten repeats of this logit.
            let rank = f64::from((i / 400) % 10);
            z.push(zi);
            y.push(rank < (p * 10.0).round());
        }
        let (a, b) = platt(&z, &y);
        assert!(
            (a - 0.5).abs() < 0.1 && (b + 1.0).abs() < 0.2,
            "a {a} b {b}"
        );
    }

    #[test]
    fn one_sided_rows_leave_the_scores_raw() {
        assert_eq!(platt(&[1.0, 2.0], &[true, true]), (1.0, 0.0));
    }
}
