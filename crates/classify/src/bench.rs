//! Throughput figures for `consentry bench classify`: messages per second on one thread and
//! on all cores, and optionally how long training takes on the same messages.

use crate::model::Model;
use crate::train::{Example, TrainConfig, train};
use std::fmt;
use std::time::{Duration, Instant};

/// Figures measured by [`bench`].
#[derive(Debug, Clone, PartialEq)]
pub struct BenchReport {
    /// Messages in the set.
    pub messages: usize,
    /// Mean characters per message.
    pub mean_chars: f64,
    /// Classifications per second on one thread.
    pub single_per_sec: f64,
    /// Threads used for the parallel run.
    pub threads: usize,
    /// Classifications per second on all threads together.
    pub multi_per_sec: f64,
    /// Training time on the set, if asked for.
    pub train_time: Option<Duration>,
}

#[allow(clippy::cast_precision_loss)]
fn rate(n: usize, d: Duration) -> f64 {
    n as f64 / d.as_secs_f64().max(1e-9)
}

/// Classifies `messages` `rounds` times on one thread, then on every core (split evenly,
/// via `std::thread::scope`); with `train_config` also times training on them.
///
/// Each message goes through [`Model::read`], the call the send path, `consentry classify`
/// and triage make: normalisation, the whole-text scores, and for a message of several
/// clauses that does not read as a person's, each clause again.
#[must_use]
pub fn bench(
    model: &Model,
    messages: &[Example],
    rounds: usize,
    train_config: Option<&TrainConfig>,
) -> BenchReport {
    let rounds = rounds.max(1);
    let run = |slice: &[Example]| {
        let mut sink = 0usize;
        for _ in 0..rounds {
            for m in slice {
                sink = sink.wrapping_add(model.read(&m.text).category.len());
            }
        }
        sink
    };
    run(&messages[..messages.len().min(1000)]); // warm caches and thread-local buffers
    let t = Instant::now();
    std::hint::black_box(run(messages));
    let single_per_sec = rate(messages.len() * rounds, t.elapsed());
    let threads = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let chunk = messages.len().div_ceil(threads).max(1);
    let t = Instant::now();
    std::thread::scope(|s| {
        for part in messages.chunks(chunk) {
            s.spawn(|| std::hint::black_box(run(part)));
        }
    });
    let multi_per_sec = rate(messages.len() * rounds, t.elapsed());
    let train_time = train_config.map(|cfg| {
        let t = Instant::now();
        let _ = train(messages, cfg);
        t.elapsed()
    });
    let chars: usize = messages.iter().map(|m| m.text.chars().count()).sum();
    #[allow(clippy::cast_precision_loss)]
    let mean_chars = chars as f64 / messages.len().max(1) as f64;
    BenchReport {
        messages: messages.len(),
        mean_chars,
        single_per_sec,
        threads,
        multi_per_sec,
        train_time,
    }
}

impl fmt::Display for BenchReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "messages {} (mean {:.1} chars)",
            self.messages, self.mean_chars
        )?;
        writeln!(
            f,
            "classify, 1 thread:   {:>12.0} msg/s",
            self.single_per_sec
        )?;
        writeln!(
            f,
            "classify, {} threads: {:>12.0} msg/s",
            self.threads, self.multi_per_sec
        )?;
        if let Some(t) = self.train_time {
            writeln!(
                f,
                "train on all {}:    {:>9.2} s",
                self.messages,
                t.as_secs_f64()
            )?;
        }
        Ok(())
    }
}
