//! A linear support vector machine trained by dual coordinate descent: the learner of the
//! cascade's second stage ([`crate::cascade`]).
//!
//! The algorithm is liblinear's default for `LinearSVC` (Hsieh, Chang, Lin, Keerthi,
//! Sundararajan, "A dual coordinate descent method for large-scale linear SVM", ICML 2008):
//! L2-regularised squared-hinge loss, solved in the dual one example at a time, with the
//! weight vector kept up to date so each step costs one sparse dot product. It converges in
//! a few passes on sparse TF-IDF rows, which is why the scikit-learn baseline uses it.
//!
//! Written here rather than taken from a crate: on crates.io (checked 2026-12-03) `liblinear`
//! is a 2019 binding that builds the C++ library (edition 2015, no release since), and
//! `linfa-svm` / `smartcore` solve the kernel SVM with SMO over dense `ndarray` rows — a 2^20
//! column hashed problem does not fit that shape. The dual solver is ~80 lines, pure and
//! deterministic (our seeded shuffle), and its inputs are our own sparse rows.

use crate::error::Error;
use crate::train::SplitMix;

/// A sparse row: `(column, value)` pairs, columns distinct.
pub type SparseRow = Vec<(u32, f32)>;

/// Hyper-parameters of [`train_binary`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SvmConfig {
    /// Cost of a margin violation (scikit-learn's `C`); a row's cost is `c × its weight`.
    pub c: f32,
    /// Most passes over the rows.
    pub max_passes: u32,
    /// Stop when the projected gradient's spread (max − min) over a pass falls under this
    /// (liblinear's `eps`, 0.1 for the dual solvers).
    pub tolerance: f32,
    /// Seed of the visiting order.
    pub seed: u64,
}

impl Default for SvmConfig {
    fn default() -> Self {
        Self {
            c: 1.0,
            max_passes: 50,
            tolerance: 0.1,
            seed: 42,
        }
    }
}

/// A trained binary separator: `score = w · x + bias`.
#[derive(Debug, Clone, PartialEq)]
pub struct Separator {
    /// One weight per column.
    pub weights: Vec<f32>,
    /// The intercept, learnt as the weight of a constant feature 1 (as liblinear's `-B 1`).
    pub bias: f32,
    /// Passes run.
    pub passes: u32,
}

impl Separator {
    /// The decision value of `row` (columns outside the weights add nothing).
    #[must_use]
    pub fn score(&self, row: &[(u32, f32)]) -> f32 {
        self.bias
            + row
                .iter()
                .map(|&(j, v)| self.weights.get(j as usize).map_or(0.0, |w| w * v))
                .sum::<f32>()
    }
}

/// Trains `w` on `rows` with labels `positive[i]` (true = +1) and per-row weights; `dim`
/// is the number of columns.
///
/// # Errors
/// [`Error::NoExamples`] for no rows; [`Error::Config`] when the lengths differ, a column is
/// `≥ dim`, a value or weight is not finite, a weight is negative, or `c` is not positive.
pub fn train_binary(
    rows: &[SparseRow],
    positive: &[bool],
    weights: &[f32],
    dim: usize,
    config: &SvmConfig,
) -> Result<Separator, Error> {
    if rows.is_empty() {
        return Err(Error::NoExamples);
    }
    if positive.len() != rows.len() || weights.len() != rows.len() {
        return Err(Error::Config(format!(
            "{} rows, {} labels and {} weights",
            rows.len(),
            positive.len(),
            weights.len()
        )));
    }
    if !(config.c.is_finite() && config.c > 0.0) {
        return Err(Error::Config(format!("C must be > 0, got {}", config.c)));
    }
    if let Some(bad) = weights.iter().find(|w| !(w.is_finite() && **w >= 0.0)) {
        return Err(Error::Config(format!("row weight {bad} is not ≥ 0")));
    }
    for row in rows {
        if let Some(&(j, v)) = row
            .iter()
            .find(|&&(j, v)| j as usize >= dim || !v.is_finite())
        {
            return Err(Error::Config(format!(
                "row value ({j}, {v}) outside {dim} columns or not finite"
            )));
        }
    }
    // Squared hinge: the dual has no upper bound on α and adds D_ii = 1/(2 C_i) to Q_ii.
    let diag: Vec<f64> = weights
        .iter()
        .map(|&w| {
            let ci = f64::from(config.c) * f64::from(w);
            if ci > 0.0 { 0.5 / ci } else { f64::INFINITY }
        })
        .collect();
    let qii: Vec<f64> = rows
        .iter()
        .zip(&diag)
        .map(|(r, d)| 1.0 + r.iter().map(|&(_, v)| f64::from(v * v)).sum::<f64>() + d)
        .collect();
    let y: Vec<f64> = positive
        .iter()
        .map(|&p| if p { 1.0 } else { -1.0 })
        .collect();
    let mut w = vec![0f64; dim];
    let mut bias = 0f64;
    let mut alpha = vec![0f64; rows.len()];
    let mut order: Vec<usize> = (0..rows.len()).collect();
    let mut rng = SplitMix(config.seed);
    let mut passes = 0;
    while passes < config.max_passes {
        passes += 1;
        rng.shuffle(&mut order);
        let (mut pg_max, mut pg_min) = (f64::NEG_INFINITY, f64::INFINITY);
        for &i in &order {
            if !diag[i].is_finite() {
                continue; // a row of weight 0 has C_i = 0: α stays 0
            }
            let row = &rows[i];
            let dot = bias
                + row
                    .iter()
                    .map(|&(j, v)| w[j as usize] * f64::from(v))
                    .sum::<f64>();
            let g = y[i] * dot - 1.0 + diag[i] * alpha[i];
            let pg = if alpha[i] == 0.0 { g.min(0.0) } else { g };
            pg_max = pg_max.max(pg);
            pg_min = pg_min.min(pg);
            if pg.abs() > 1e-12 {
                let old = alpha[i];
                alpha[i] = (old - g / qii[i]).max(0.0);
                let step = (alpha[i] - old) * y[i];
                for &(j, v) in row {
                    w[j as usize] += step * f64::from(v);
                }
                bias += step;
            }
        }
        if pg_max - pg_min < f64::from(config.tolerance) {
            break;
        }
    }
    #[allow(clippy::cast_possible_truncation)]
    Ok(Separator {
        weights: w.iter().map(|&x| x as f32).collect(),
        bias: bias as f32,
        passes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toy() -> (Vec<SparseRow>, Vec<bool>) {
        // Column 0 says positive, column 1 negative; column 2 is noise on both sides.
        let mut rows = Vec::new();
        let mut pos = Vec::new();
        for i in 0..40u8 {
            let noise = f32::from(i % 5) / 10.0;
            rows.push(vec![(0, 1.0), (2, noise)]);
            pos.push(true);
            rows.push(vec![(1, 1.0), (2, noise)]);
            pos.push(false);
        }
        (rows, pos)
    }

    #[test]
    fn separable_toy_data_is_learnt() {
        let (rows, pos) = toy();
        let weights = vec![1.0; rows.len()];
        let s = train_binary(&rows, &pos, &weights, 3, &SvmConfig::default()).expect("train");
        for (r, &p) in rows.iter().zip(&pos) {
            assert_eq!(s.score(r) > 0.0, p, "{r:?} scored {}", s.score(r));
        }
        // The margin is met: every row scores beyond ±(1 − slack) with C = 1.
        assert!(s.score(&[(0, 1.0)]) > 0.5 && s.score(&[(1, 1.0)]) < -0.5);
        assert!(s.passes < SvmConfig::default().max_passes, "converged");
    }

    #[test]
    fn a_row_of_weight_zero_is_ignored() {
        let (mut rows, mut pos) = toy();
        // A contradicting row that weighs nothing.
        rows.push(vec![(0, 1.0)]);
        pos.push(false);
        let mut weights = vec![1.0; rows.len()];
        *weights.last_mut().expect("row") = 0.0;
        let s = train_binary(&rows, &pos, &weights, 3, &SvmConfig::default()).expect("train");
        assert!(s.score(&[(0, 1.0)]) > 0.5);
    }

    #[test]
    fn same_data_same_seed_same_separator() {
        let (rows, pos) = toy();
        let weights = vec![1.0; rows.len()];
        let a = train_binary(&rows, &pos, &weights, 3, &SvmConfig::default()).expect("a");
        let b = train_binary(&rows, &pos, &weights, 3, &SvmConfig::default()).expect("b");
        assert_eq!(a, b);
    }

    #[test]
    fn bad_input_is_an_error_not_a_panic() {
        let (rows, pos) = toy();
        let w = vec![1.0; rows.len()];
        let cfg = SvmConfig::default();
        assert!(matches!(
            train_binary(&[], &[], &[], 3, &cfg),
            Err(Error::NoExamples)
        ));
        for (rows, pos, w, dim, cfg) in [
            (rows.clone(), pos[1..].to_vec(), w.clone(), 3, cfg),
            (rows.clone(), pos.clone(), w[1..].to_vec(), 3, cfg),
            (rows.clone(), pos.clone(), w.clone(), 2, cfg),
            (vec![vec![(0, f32::NAN)]], vec![true], vec![1.0], 3, cfg),
            (vec![vec![(0, 1.0)]], vec![true], vec![-1.0], 3, cfg),
            (
                vec![vec![(0, 1.0)]],
                vec![true],
                vec![f32::INFINITY],
                3,
                cfg,
            ),
            (
                rows.clone(),
                pos.clone(),
                w.clone(),
                3,
                SvmConfig { c: 0.0, ..cfg },
            ),
            (
                rows.clone(),
                pos.clone(),
                w.clone(),
                3,
                SvmConfig { c: f32::NAN, ..cfg },
            ),
        ] {
            let e = train_binary(&rows, &pos, &w, dim, &cfg).expect_err("bad input");
            assert!(matches!(e, Error::Config(_)), "{e}");
        }
        // One class only, or zero passes: no panic, a separator.
        let one = train_binary(&rows, &vec![true; rows.len()], &w, 3, &cfg).expect("one class");
        assert!(one.score(&[(1, 1.0)]) > 0.0);
        let none = train_binary(
            &rows,
            &pos,
            &w,
            3,
            &SvmConfig {
                max_passes: 0,
                ..cfg
            },
        )
        .expect("no passes");
        assert!(none.score(&[(0, 1.0)]).abs() < f32::EPSILON);
    }
}
