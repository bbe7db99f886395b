//! Single-core throughput of [`IntentParser::parse`] on a mixed set of replies.
//!
//! The set is every corpus text plus variants a carrier really delivers (upper-cased, padded
//! with spaces and punctuation, full-width, and a long multi-part message), parsed round-robin
//! `n` times. It is deliberately small enough to stay in cache: the figure is the parser's cost,
//! not the memory system's. The same run times a naive baseline (trim, upper-case, exact set
//! lookup, as a gateway without this crate would do) so the figure can be read as a ratio that
//! holds across machines. `consentry bench replies` prints these figures.

use std::collections::HashSet;
use std::hint::black_box;
use std::time::{Duration, Instant};

use crate::corpus::{CORPUS_TSV, parse};
use crate::{Intent, IntentParser};

/// What one benchmark run measured.
#[derive(Debug, Clone, PartialEq)]
pub struct BenchFigures {
    /// Replies parsed.
    pub texts: usize,
    /// Distinct texts in the mixed set.
    pub distinct: usize,
    /// Wall time spent parsing.
    pub elapsed: Duration,
    /// Replies parsed per second, one thread.
    pub intents_per_sec: f64,
    /// Replies per second of the naive baseline on the same texts.
    pub baseline_per_sec: f64,
    /// `intents_per_sec / baseline_per_sec`.
    pub ratio_to_baseline: f64,
    /// How many parsed replies came out as each intent, in [`Intent::ALL`] order.
    pub counts: [usize; 4],
}

/// The mixed set: corpus texts and their everyday variants.
#[must_use]
pub fn mixed_set() -> Vec<String> {
    let texts: Vec<&str> = parse(CORPUS_TSV)
        .unwrap_or_default()
        .into_iter()
        .map(|c| c.text)
        .collect();
    let mut set = Vec::with_capacity(texts.len() * 3 + 1);
    for (i, text) in texts.iter().enumerate() {
        set.push((*text).to_string());
        match i % 3 {
            0 => set.push(text.to_uppercase()),
            1 => set.push(format!("  {text} !! ")),
            _ => set.push(text.chars().map(full_width).collect()),
        }
    }
    set.push("这是一条很长的回复，".repeat(60));
    set
}

/// Parses `n` replies from [`mixed_set`] on the calling thread and times it.
#[must_use]
pub fn bench(n: usize) -> BenchFigures {
    let parser = IntentParser::default();
    let set = mixed_set();
    let distinct = set.len();
    let mut counts = [0usize; 4];
    let start = Instant::now();
    for text in set.iter().cycle().take(n) {
        let reading = parser.parse(black_box(text));
        counts[usize::from(reading.intent.rank())] += 1;
        black_box(&reading);
    }
    let elapsed = start.elapsed();
    let baseline = baseline(&set, n);
    let per_sec = |d: Duration| {
        if d.is_zero() {
            0.0
        } else {
            n as f64 / d.as_secs_f64()
        }
    };
    let intents_per_sec = per_sec(elapsed);
    let baseline_per_sec = per_sec(baseline);
    BenchFigures {
        texts: n,
        distinct,
        elapsed,
        intents_per_sec,
        baseline_per_sec,
        ratio_to_baseline: if baseline_per_sec > 0.0 {
            intents_per_sec / baseline_per_sec
        } else {
            0.0
        },
        counts,
    }
}

/// Trim, upper-case, exact lookup: what reply handling looks like without this crate.
fn baseline(set: &[String], n: usize) -> Duration {
    let words: HashSet<&str> = ["T", "TD", "STOP", "UNSUBSCRIBE", "退订", "START", "HELP"].into();
    let start = Instant::now();
    let mut hits = 0usize;
    for text in set.iter().cycle().take(n) {
        hits += usize::from(words.contains(black_box(text).trim().to_uppercase().as_str()));
    }
    black_box(hits);
    start.elapsed()
}

fn full_width(c: char) -> char {
    match c {
        '!'..='~' => char::from_u32(c as u32 + 0xFEE0).unwrap_or(c),
        ' ' => '\u{3000}',
        _ => c,
    }
}

/// The label of `counts[i]` in [`BenchFigures::counts`].
#[must_use]
pub fn count_label(i: usize) -> Intent {
    Intent::ALL.get(i).copied().unwrap_or(Intent::Other)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_run_reports_consistent_figures() {
        let figures = bench(2_000);
        assert_eq!(figures.texts, 2_000);
        assert_eq!(figures.counts.iter().sum::<usize>(), 2_000);
        assert!(figures.distinct > 600);
        assert!(figures.intents_per_sec > 0.0);
        assert!(figures.counts[0] > 0 && figures.counts[3] > 0);
    }
}
