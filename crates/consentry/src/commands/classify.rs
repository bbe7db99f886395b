//! `consentry train | eval | classify | triage`: the content classifier from the command line.
//!
//! The maths and the file formats live in the `classify` crate; this module parses arguments,
//! picks the model (a file or the compiled-in default) and prints.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::inbox;
use anyhow::{Context, Result};
use classify::cli::{TrainArgs, read_examples};
use classify::{Category, Model, TrainConfig, eval};
use serde_json::{Map, Value, json};

/// `consentry train`.
#[derive(Debug, clap::Args)]
pub struct TrainCmd {
    /// Labelled messages, `label<TAB>text` per line (several files may be given).
    #[arg(long, num_args = 1.., required_unless_present = "recipe")]
    data: Vec<PathBuf>,
    /// A training recipe (TOML: files, label maps, weights, split parts, hyper-parameters),
    /// e.g. `models/classify-cascade.toml`, which rebuilds the default model bit for bit.
    #[arg(long, conflicts_with_all = ["data", "map"])]
    recipe: Option<PathBuf>,
    /// Where to write the model file.
    #[arg(long)]
    out: PathBuf,
    /// Label mapping, e.g. `spam=marketing,ham=personal,AD:*=marketing,Other=-`
    /// (`*` matches a prefix, `-` drops the line).
    #[arg(long, default_value = "")]
    map: String,
    /// Hash space, as a power of two (12–24).
    #[arg(long)]
    bits: Option<u32>,
    /// Passes over the data.
    #[arg(long)]
    epochs: Option<u32>,
    /// Seed of the shuffling order (same data and seed give the same model).
    #[arg(long)]
    seed: Option<u64>,
}

/// `consentry eval`.
#[derive(Debug, clap::Args)]
pub struct EvalCmd {
    /// Model file (default: the model compiled into this binary).
    #[arg(long)]
    model: Option<PathBuf>,
    /// Labelled messages, `label<TAB>text` per line.
    #[arg(long, required = true, num_args = 1..)]
    data: Vec<PathBuf>,
    /// Label mapping onto the model's labels, e.g. `spam=marketing,ham=personal`.
    #[arg(long, default_value = "")]
    map: String,
    /// Which rows to score: `all`, or by the split the default model was trained with
    /// (a hash of the normalised text): `test` (the held-out 20% it never saw) or `not-test`.
    #[arg(long, default_value = "all")]
    part: classify::datasets::Rows,
}

/// `consentry classify`.
#[derive(Debug, clap::Args)]
pub struct ClassifyCmd {
    /// Model file (default: the model compiled into this binary).
    #[arg(long)]
    model: Option<PathBuf>,
}

/// `consentry triage`.
#[derive(Debug, clap::Args)]
pub struct TriageCmd {
    /// An inbox export: CSV with a header (the column named text/body/content/message/sms/
    /// 内容/短信内容/正文, or `--column`) or plain text, one message per line (empty lines are
    /// skipped and counted). UTF-8; GBK is detected and decoded. `-` reads stdin.
    file: PathBuf,
    /// Model file (default: the model compiled into this binary).
    #[arg(long)]
    model: Option<PathBuf>,
    /// How sure the reading must be that a message is marketing or fraud to set it aside;
    /// below that it is kept in the "unsure" group (losing a notice costs more than reading
    /// an advert).
    #[arg(long, default_value_t = 0.8)]
    min_confidence: f32,
    /// Output: `text` (for a person) or `json` (one object: read, unsure, set_aside).
    #[arg(long, default_value = "text")]
    format: String,
    /// Input: `csv`, `lines`, or `auto` (CSV when the file name ends in `.csv`).
    #[arg(long, default_value = "auto")]
    input: String,
    /// The CSV column holding the message text (default: found by its header name).
    #[arg(long)]
    column: Option<String>,
}

/// A `classify` error as one line: its message already names the file and includes the OS
/// error, so the chain would only repeat it.
pub fn flat(e: classify::Error) -> anyhow::Error {
    anyhow::anyhow!("{e}")
}

pub fn load_model(path: Option<&Path>) -> Result<Model> {
    classify::cli::load_model(path).map_err(flat)
}

/// Puts the `[classify]` content classifier on `gateway`'s send path (nothing when disabled).
///
/// # Errors
/// An unreadable or corrupt model file (named) or a threshold outside 0..=1.
pub fn attach(gateway: &gateway::Gateway, config: &gateway::ClassifyConfig) -> Result<()> {
    let classifier = gateway::ContentClassifier::from_config(config)
        .map_err(|e| anyhow::anyhow!("[classify]: {e}"))?;
    if let Some(c) = classifier {
        gateway.set_classifier(c);
        tracing::info!(
            model = if config.model.is_empty() {
                "built-in"
            } else {
                config.model.as_str()
            },
            marketing_threshold = config.marketing_threshold,
            fraud_threshold = config.fraud_threshold,
            "content classifier on the send path"
        );
    }
    Ok(())
}

pub fn train(cmd: &TrainCmd) -> Result<ExitCode> {
    if let Some(path) = &cmd.recipe {
        let mut recipe = classify::Recipe::load(path).map_err(flat)?;
        let t = &mut recipe.train;
        t.bits = cmd.bits.unwrap_or(t.bits);
        t.epochs = cmd.epochs.unwrap_or(t.epochs);
        t.seed = cmd.seed.unwrap_or(t.seed);
        let outcome = classify::cli::run_recipe(&recipe, &cmd.out).map_err(flat)?;
        println!("{outcome}");
        println!("wrote {}", cmd.out.display());
        return Ok(ExitCode::SUCCESS);
    }
    let defaults = TrainConfig::default();
    let args = TrainArgs {
        data: cmd.data.clone(),
        map: cmd.map.clone(),
        out: cmd.out.clone(),
        config: TrainConfig {
            bits: cmd.bits.unwrap_or(defaults.bits),
            epochs: cmd.epochs.unwrap_or(defaults.epochs),
            seed: cmd.seed.unwrap_or(defaults.seed),
            ..defaults
        },
    };
    let outcome = classify::cli::run_train(&args).map_err(flat)?;
    println!("{outcome}");
    println!("wrote {}", cmd.out.display());
    Ok(ExitCode::SUCCESS)
}

pub fn eval_cmd(cmd: &EvalCmd) -> Result<ExitCode> {
    let model = load_model(cmd.model.as_deref())?;
    let (examples, stats) = read_examples(&cmd.data, &cmd.map).map_err(flat)?;
    let examples = cmd.part.select(examples);
    anyhow::ensure!(
        !examples.is_empty(),
        "no labelled messages in {} ({} lines: {} empty, {} without a tab, {} dropped by --map, \
         then --part {})",
        cmd.data
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", "),
        stats.lines,
        stats.empty,
        stats.malformed,
        stats.dropped,
        cmd.part,
    );
    let report = eval(&model, &examples);
    print!("{report}");
    let unwanted = [Category::Marketing.as_str(), Category::Fraud.as_str()];
    if model
        .labels()
        .iter()
        .any(|l| unwanted.contains(&l.as_str()))
    {
        let p = report.binary(&unwanted);
        println!(
            "unwanted (marketing+fraud): precision {:.4} recall {:.4} F1 {:.4} support {}",
            p.precision, p.recall, p.f1, p.support
        );
    }
    if report.unknown_label > 0 {
        eprintln!(
            "note: {} messages carry a label the model does not have ({}); map them with --map",
            report.unknown_label,
            model.labels().join(",")
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub fn classify_cmd(cmd: &ClassifyCmd) -> Result<ExitCode> {
    let model = load_model(cmd.model.as_deref())?;
    // Unlocked: the reading stage runs on its own thread and reads large blocks.
    let stdin = std::io::stdin();
    let stdout = BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    let threads = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let notes = super::classify_stream::classify_lines(&model, stdin, stdout, threads)?;
    if let Some(w) = notes.warning() {
        eprintln!("{w}");
    }
    Ok(ExitCode::SUCCESS)
}

/// One message of a triage as JSON.
fn kept_json(k: &classify::Kept<'_>) -> Value {
    let mut v = json!({
        "position": k.index + 1,
        "category": k.category,
        "score": (f64::from(k.confidence) * 1000.0).round() / 1000.0,
        "text": k.text,
    });
    if let Some(c) = k.clause {
        v["clause"] = json!(c);
    }
    v
}

/// The triage as one JSON object: `read`, `unsure` and `set_aside` lists, set-aside counts
/// and what reading the input did.
fn triage_json(t: &classify::Triage<'_>, notes: &inbox::InputNotes) -> Value {
    let counts: Map<String, Value> = t
        .set_aside_counts()
        .into_iter()
        .map(|(c, n)| (c.to_owned(), json!(n)))
        .collect();
    json!({
        "read": t.read.iter().map(kept_json).collect::<Vec<_>>(),
        "unsure": t.unsure.iter().map(kept_json).collect::<Vec<_>>(),
        "set_aside": t.set_aside.iter().map(kept_json).collect::<Vec<_>>(),
        "set_aside_counts": counts,
        "input": {
            "messages": t.total(),
            "empty_lines_skipped": notes.empty_skipped,
            "gbk": notes.gbk,
            "lossy": notes.lossy,
        },
    })
}

pub fn triage(cmd: &TriageCmd) -> Result<ExitCode> {
    anyhow::ensure!(
        (0.0..=1.0).contains(&cmd.min_confidence),
        "--min-confidence must be within 0..=1, not {}",
        cmd.min_confidence
    );
    let json_out = match cmd.format.as_str() {
        "text" => false,
        "json" => true,
        other => anyhow::bail!("--format must be text or json, not {other:?}"),
    };
    let model = load_model(cmd.model.as_deref())?;
    let bytes = if cmd.file.as_os_str() == "-" {
        let mut b = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin(), &mut b).context("reading stdin")?;
        b
    } else {
        std::fs::read(&cmd.file).with_context(|| format!("reading {}", cmd.file.display()))?
    };
    let is_csv = match cmd.input.as_str() {
        "csv" => true,
        "lines" => false,
        "auto" => cmd
            .file
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("csv")),
        other => anyhow::bail!("--input must be auto, csv or lines, not {other:?}"),
    };
    let mut notes = inbox::InputNotes::default();
    let messages = if is_csv {
        inbox::csv_messages(&bytes, cmd.column.as_deref(), &mut notes)
            .with_context(|| format!("in {}", cmd.file.display()))?
    } else {
        inbox::line_messages(&bytes, &mut notes)
    };
    let t = classify::triage(
        &model,
        messages.iter().map(String::as_str),
        cmd.min_confidence,
    );
    let mut out = BufWriter::new(std::io::stdout().lock());
    if json_out {
        serde_json::to_writer(&mut out, &triage_json(&t, &notes))?;
        writeln!(out)?;
    } else {
        write!(out, "{t}")?;
        if notes.empty_skipped > 0 {
            writeln!(out, "({} empty lines skipped)", notes.empty_skipped)?;
        }
    }
    out.flush()?;
    if let Some(w) = notes.warning() {
        eprintln!("{w}");
    }
    Ok(ExitCode::SUCCESS)
}
