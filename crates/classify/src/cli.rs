//! Ready-made bodies for the `consentry train|eval|classify|triage|bench classify`
//! subcommands, so the binary only parses arguments (clap stays out of this crate) and prints.

use crate::bench::{BenchReport, bench};
use crate::error::Error;
use crate::eval::{EvalReport, eval};
use crate::io::{LabelMap, ReadStats, read_tsv_file};
use crate::model::Model;
use crate::recipe::Recipe;
use crate::train::{Example, TrainConfig, train};
use crate::triage::triage;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// `consentry train --map spam=marketing,ham=personal --out model.bin data.tsv...`
#[derive(Debug, Clone, Default)]
pub struct TrainArgs {
    /// `label<TAB>text` files.
    pub data: Vec<PathBuf>,
    /// Label mapping, see [`LabelMap`] (empty = labels as written).
    pub map: String,
    /// Where to write the model.
    pub out: PathBuf,
    /// Hyper-parameters.
    pub config: TrainConfig,
}

/// What [`run_train`] did.
#[derive(Debug, Clone)]
pub struct TrainOutcome {
    /// The trained model (already saved to `out`).
    pub model: Model,
    /// Examples trained on.
    pub examples: usize,
    /// Reader statistics summed over the files.
    pub stats: ReadStats,
    /// Training time, excluding reading.
    pub elapsed: Duration,
}

impl std::fmt::Display for TrainOutcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "trained on {} examples in {:.2} s; labels {}; {} non-zero buckets of 2^{}",
            self.examples,
            self.elapsed.as_secs_f64(),
            self.model.labels().join(","),
            self.model.non_zero_buckets(),
            self.model.bits()
        )?;
        let s = &self.stats;
        write!(
            f,
            "read {} lines: {} empty, {} malformed, {} dropped by the label map, {} not UTF-8",
            s.lines, s.empty, s.malformed, s.dropped, s.lossy
        )
    }
}

/// `consentry eval [--model FILE] --map ... data.tsv...`
#[derive(Debug, Clone, Default)]
pub struct EvalArgs {
    /// Model file; `None` = the built-in default model.
    pub model: Option<PathBuf>,
    /// `label<TAB>text` files.
    pub data: Vec<PathBuf>,
    /// Label mapping.
    pub map: String,
}

/// `consentry bench classify [--model FILE] [--rounds N] [--train] data.tsv...`
#[derive(Debug, Clone, Default)]
pub struct BenchArgs {
    /// Model file; `None` = the built-in default model.
    pub model: Option<PathBuf>,
    /// Messages to classify (`label<TAB>text`; labels matter only with `train`).
    pub data: Vec<PathBuf>,
    /// Label mapping (for `train`).
    pub map: String,
    /// Passes over the messages.
    pub rounds: usize,
    /// Also time training on the messages.
    pub train: bool,
}

/// The model at `path`, or the built-in one.
///
/// # Errors
/// See [`Model::load`].
pub fn load_model(path: Option<&Path>) -> Result<Model, Error> {
    path.map_or_else(Model::default_model, Model::load)
}

/// Reads and maps several TSV files.
///
/// # Errors
/// [`Error::LabelMap`] or [`Error::ReadData`].
pub fn read_examples(files: &[PathBuf], map: &str) -> Result<(Vec<Example>, ReadStats), Error> {
    let map = LabelMap::parse(map)?;
    let mut all = Vec::new();
    let mut total = ReadStats::default();
    for f in files {
        let (ex, s) = read_tsv_file(f, &map)?;
        all.extend(ex);
        total.add(&s);
    }
    Ok((all, total))
}

/// Trains on the files and saves the model.
///
/// # Errors
/// Reading, training or writing errors, each naming its file where there is one.
pub fn run_train(args: &TrainArgs) -> Result<TrainOutcome, Error> {
    let (examples, stats) = read_examples(&args.data, &args.map)?;
    train_and_save(examples, stats, &args.config, &args.out)
}

/// Trains what `recipe` describes (calibrating it if the recipe says so) and saves the model
/// to `out`. The time includes reading the files.
///
/// # Errors
/// Reading, training or writing errors, each naming its file.
pub fn run_recipe(recipe: &Recipe, out: &Path) -> Result<TrainOutcome, Error> {
    let t = Instant::now();
    let (model, examples, stats) = recipe.train()?;
    let elapsed = t.elapsed();
    model.save(out)?;
    Ok(TrainOutcome {
        model,
        examples,
        stats,
        elapsed,
    })
}

fn train_and_save(
    examples: Vec<Example>,
    stats: ReadStats,
    config: &TrainConfig,
    out: &Path,
) -> Result<TrainOutcome, Error> {
    let t = Instant::now();
    let model = train(&examples, config)?;
    let elapsed = t.elapsed();
    model.save(out)?;
    Ok(TrainOutcome {
        model,
        examples: examples.len(),
        stats,
        elapsed,
    })
}

/// Evaluates a model on the files.
///
/// # Errors
/// Loading or reading errors.
pub fn run_eval(args: &EvalArgs) -> Result<EvalReport, Error> {
    let model = load_model(args.model.as_deref())?;
    let (examples, _) = read_examples(&args.data, &args.map)?;
    Ok(eval(&model, &examples))
}

/// Classifies each input line (plain text, one message per line) and writes
/// `category<TAB>confidence<TAB>text`. Invalid UTF-8 is decoded lossily; empty lines are
/// classified too, so output lines match input lines one for one.
///
/// # Errors
/// I/O errors of `input` or `out`.
pub fn run_classify(
    model: &Model,
    mut input: impl BufRead,
    mut out: impl Write,
) -> std::io::Result<()> {
    let mut buf = Vec::new();
    loop {
        buf.clear();
        if input.read_until(b'\n', &mut buf)? == 0 {
            return out.flush();
        }
        let line = String::from_utf8_lossy(&buf);
        let text = line.trim_end_matches(['\n', '\r']);
        let s = model.classify(text);
        writeln!(out, "{}\t{:.3}\t{}", s.category, s.confidence(), text)?;
    }
}

/// Reads messages (one per line) and writes the [`triage`] of them: messages to read first,
/// then the unsure ones, then the list of what was set aside.
///
/// # Errors
/// I/O errors of `input` or `out`.
pub fn run_triage(
    model: &Model,
    input: impl BufRead,
    mut out: impl Write,
    min_confidence: f32,
) -> std::io::Result<()> {
    let lines = read_lines(input)?;
    let result = triage(model, lines.iter().map(String::as_str), min_confidence);
    write!(out, "{result}")?;
    out.flush()
}

/// Reads lines lossily (invalid UTF-8 replaced), without their line endings.
///
/// # Errors
/// I/O errors of `input`.
pub fn read_lines(mut input: impl BufRead) -> std::io::Result<Vec<String>> {
    let mut lines = Vec::new();
    let mut buf = Vec::new();
    while input.read_until(b'\n', &mut buf)? > 0 {
        lines.push(
            String::from_utf8_lossy(&buf)
                .trim_end_matches(['\n', '\r'])
                .to_owned(),
        );
        buf.clear();
    }
    Ok(lines)
}

/// Benchmarks classification (and optionally training) on the files.
///
/// # Errors
/// Loading or reading errors.
pub fn run_bench(args: &BenchArgs) -> Result<BenchReport, Error> {
    let model = load_model(args.model.as_deref())?;
    let (examples, _) = read_examples(&args.data, &args.map)?;
    let config = TrainConfig::default();
    Ok(bench(
        &model,
        &examples,
        args.rounds,
        args.train.then_some(&config),
    ))
}
