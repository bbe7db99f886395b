//! TF-IDF rows of hashed character n-grams: the representation of the cascade's second stage.
//!
//! The same shape as the scikit-learn baseline's `TfidfVectorizer(analyzer="char",
//! sublinear_tf=True)`, but over our *normalised* text (placeholders for numbers and links,
//! Traditional → Simplified, no spaces between Chinese characters), so the zh set's label
//! artefacts are gone before the n-grams are taken. Character n-grams of 1 to `max_n_han`
//! in text holding an ideograph, 1 to `max_n_latin` otherwise; each hashed into `2^bits`
//! columns. Weight of a column: `(1 + ln tf) × idf`, then the row is scaled to unit length.
//! `idf = ln((1 + N) / (1 + df)) + 1` as scikit-learn's smoothed IDF; a column never seen in
//! training has idf 0, so unknown n-grams neither score nor dilute the norm (as a
//! vocabulary would drop them).

use crate::normalise::{Normalised, is_ideograph};
use crate::svm::SparseRow;

/// Shape of the n-grams.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grams {
    /// Columns are `2^bits`.
    pub bits: u32,
    /// Longest n-gram in text with a Chinese character.
    pub max_n_han: u8,
    /// Longest n-gram in other text.
    pub max_n_latin: u8,
}

impl Default for Grams {
    fn default() -> Self {
        Self {
            bits: 20,
            max_n_han: 4,
            max_n_latin: 3,
        }
    }
}

/// Finaliser of splitmix64: a good 64-bit mix for rolling n-gram hashes.
#[inline]
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Grams {
    /// The hashed n-gram columns of `n`'s text, sorted (a column may repeat: that is tf).
    pub fn columns(&self, n: &Normalised, chars: &mut Vec<char>, out: &mut Vec<u32>) {
        out.clear();
        chars.clear();
        chars.extend(n.text.chars());
        let max_n = if chars.iter().any(|&c| is_ideograph(c)) {
            self.max_n_han
        } else {
            self.max_n_latin
        };
        let shift = 64 - self.bits.clamp(1, 32);
        for start in 0..chars.len() {
            let mut h = 0x6A09_E667_F3BC_C908u64;
            for (len, &c) in chars[start..].iter().take(usize::from(max_n)).enumerate() {
                h = mix(h ^ u64::from(c) ^ ((len as u64) << 40));
                #[allow(clippy::cast_possible_truncation)]
                out.push((h >> shift) as u32);
            }
        }
        out.sort_unstable();
    }
}

/// Term counts from sorted columns: `(column, tf)`.
pub fn counts(sorted: &[u32]) -> impl Iterator<Item = (u32, u32)> + '_ {
    sorted
        .chunk_by(|a, b| a == b)
        .map(|run| (run[0], u32::try_from(run.len()).unwrap_or(u32::MAX)))
}

/// Builds the unit-length TF-IDF row of sorted `columns` given `idf(column)`.
pub fn row(columns: &[u32], idf: impl Fn(u32) -> f32, out: &mut SparseRow) {
    out.clear();
    #[allow(clippy::cast_precision_loss)]
    for (j, tf) in counts(columns) {
        let v = (1.0 + (tf as f32).ln()) * idf(j);
        if v != 0.0 {
            out.push((j, v));
        }
    }
    let norm = out.iter().map(|&(_, v)| v * v).sum::<f32>().sqrt();
    if norm > 0.0 {
        for (_, v) in out.iter_mut() {
            *v /= norm;
        }
    }
}

/// Smoothed IDF per column from the document frequencies of `docs` rows of sorted columns.
#[must_use]
pub fn idf(docs: &[Vec<u32>], bits: u32) -> Vec<f32> {
    let mut df = vec![0u32; 1usize << bits];
    for d in docs {
        for (j, _) in counts(d) {
            if let Some(x) = df.get_mut(j as usize) {
                *x += 1;
            }
        }
    }
    #[allow(clippy::cast_precision_loss)]
    let n = docs.len() as f32;
    df.iter()
        .map(|&d| {
            if d == 0 {
                0.0
            } else {
                #[allow(clippy::cast_precision_loss)]
                let d = d as f32;
                ((1.0 + n) / (1.0 + d)).ln() + 1.0
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::normalise::normalise;

    #[test]
    fn chinese_text_takes_four_grams_and_rows_are_unit_length() {
        let g = Grams {
            bits: 16,
            ..Grams::default()
        };
        let (mut chars, mut cols) = (Vec::new(), Vec::new());
        g.columns(&normalise("双11全场5折"), &mut chars, &mut cols);
        // 双 NUM 全 场 NUM 折 = 6 characters: 6 + 5 + 4 + 3 n-grams of 1..4.
        assert_eq!(cols.len(), 18);
        g.columns(&normalise("abcdef"), &mut chars, &mut cols);
        assert_eq!(cols.len(), 6 + 5 + 4);
        let idf = idf(std::slice::from_ref(&cols), 16);
        let mut r = Vec::new();
        row(&cols, |j| idf[j as usize], &mut r);
        let norm: f32 = r.iter().map(|&(_, v)| v * v).sum();
        assert!((norm - 1.0).abs() < 1e-5);
        // Unseen columns (idf 0) drop out; an empty text is an empty row.
        row(&cols, |_| 0.0, &mut r);
        assert!(r.is_empty());
        g.columns(&normalise(""), &mut chars, &mut cols);
        assert!(cols.is_empty());
    }
}
