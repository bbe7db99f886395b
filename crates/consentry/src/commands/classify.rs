//! `consentry train | eval | classify | triage`: the content classifier from the command line.
//!
//! The maths and the file formats live in the `classify` crate; this module parses arguments,
//! picks the model (a file or the compiled-in default) and prints.

use std::io::{BufRead, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

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
    /// e.g. `models/classify-v1.toml`, which rebuilds the default model bit for bit.
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
    /// An inbox export: CSV with a header (the column named text/body/content/message/内容
    /// is read, else the last one) or plain text, one message per line. `-` reads stdin.
    file: PathBuf,
    /// Model file (default: the model compiled into this binary).
    #[arg(long)]
    model: Option<PathBuf>,
    /// How sure the model must be that a message is marketing or fraud to set it aside;
    /// below that it is kept (losing a notice costs more than reading an advert).
    #[arg(long, default_value_t = 0.8)]
    min_confidence: f32,
    /// `csv`, `lines`, or `auto` (CSV when the file name ends in `.csv`).
    #[arg(long, default_value = "auto")]
    format: String,
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

/// One JSON line for one message: `{"category": …, "scores": {label: p, …}}`.
fn json_line(model: &Model, text: &str) -> Value {
    let s = model.classify(text);
    let mut scores = Map::new();
    for (label, p) in &s.scores {
        // Three decimals are what a threshold needs; JSON keeps them short.
        let rounded = (f64::from(*p) * 1000.0).round() / 1000.0;
        scores.insert((*label).to_owned(), json!(rounded));
    }
    json!({ "category": s.category, "scores": scores })
}

/// Classifies each line of `input` (lossy UTF-8; empty lines too, so output lines match input
/// lines one for one) and writes one JSON object per line.
fn classify_lines(model: &Model, mut input: impl BufRead, mut out: impl Write) -> Result<()> {
    let mut buf = Vec::new();
    loop {
        buf.clear();
        if input.read_until(b'\n', &mut buf).context("reading stdin")? == 0 {
            break;
        }
        let line = String::from_utf8_lossy(&buf);
        let text = line.trim_end_matches(['\n', '\r']);
        let v = json_line(model, text);
        serde_json::to_writer(&mut out, &v)?;
        if let Err(e) = out.write_all(b"\n") {
            // A closed pipe (`| head`) is not an error worth a message.
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                return Ok(());
            }
            return Err(e).context("writing stdout");
        }
    }
    match out.flush() {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e).context("writing stdout"),
        _ => Ok(()),
    }
}

pub fn classify_cmd(cmd: &ClassifyCmd) -> Result<ExitCode> {
    let model = load_model(cmd.model.as_deref())?;
    let stdin = std::io::stdin().lock();
    let stdout = BufWriter::new(std::io::stdout().lock());
    classify_lines(&model, stdin, stdout)?;
    Ok(ExitCode::SUCCESS)
}

/// Names a CSV text column may have in an inbox export.
const TEXT_COLUMNS: [&str; 8] = [
    "text",
    "body",
    "content",
    "message",
    "sms",
    "内容",
    "短信内容",
    "正文",
];

/// Messages of a CSV export: the text column by header name, else the last column.
fn csv_messages(bytes: &[u8]) -> Result<Vec<String>> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .has_headers(true)
        .from_reader(bytes);
    let headers = reader
        .byte_headers()
        .context("reading the CSV header")?
        .clone();
    let column = headers
        .iter()
        .position(|h| {
            let h = String::from_utf8_lossy(h).trim().to_lowercase();
            TEXT_COLUMNS.contains(&h.as_str())
        })
        .unwrap_or_else(|| headers.len().saturating_sub(1));
    let mut out = Vec::new();
    for (i, row) in reader.byte_records().enumerate() {
        let row = row.with_context(|| format!("reading CSV record {}", i + 2))?;
        if let Some(field) = row.get(column) {
            out.push(String::from_utf8_lossy(field).into_owned());
        }
    }
    Ok(out)
}

/// Where a kept message goes in the reading order: what a person must not miss first.
fn priority(category: &str) -> u8 {
    match category.parse::<Category>() {
        Ok(Category::Personal) => 0,
        Ok(Category::Transactional) => 1,
        Ok(Category::Verification) => 2,
        // Kept because the model was not sure enough that it is unwanted.
        _ => 3,
    }
}

/// The triage, printed: kept messages by priority (personal, notices, codes, unsure), each
/// group in arrival order, then what was set aside.
fn write_triage(
    model: &Model,
    messages: &[String],
    min_confidence: f32,
    mut out: impl Write,
) -> Result<()> {
    let mut result = classify::triage(model, messages.iter().map(String::as_str), min_confidence);
    result
        .keep
        .sort_by_key(|k| (priority(&k.category), k.index));
    writeln!(
        out,
        "{} of {} messages to read (most important first):",
        result.keep.len(),
        messages.len()
    )?;
    write!(out, "{result}")?;
    out.flush()?;
    Ok(())
}

pub fn triage(cmd: &TriageCmd) -> Result<ExitCode> {
    anyhow::ensure!(
        (0.0..=1.0).contains(&cmd.min_confidence),
        "--min-confidence must be within 0..=1, not {}",
        cmd.min_confidence
    );
    let model = load_model(cmd.model.as_deref())?;
    let bytes = if cmd.file.as_os_str() == "-" {
        let mut b = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin(), &mut b).context("reading stdin")?;
        b
    } else {
        std::fs::read(&cmd.file).with_context(|| format!("reading {}", cmd.file.display()))?
    };
    let is_csv = match cmd.format.as_str() {
        "csv" => true,
        "lines" => false,
        "auto" => cmd
            .file
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("csv")),
        other => anyhow::bail!("--format must be auto, csv or lines, not {other:?}"),
    };
    let messages = if is_csv {
        csv_messages(&bytes).with_context(|| format!("in {}", cmd.file.display()))?
    } else {
        classify::cli::read_lines(bytes.as_slice())?
            .into_iter()
            .filter(|l| !l.trim().is_empty())
            .collect()
    };
    write_triage(
        &model,
        &messages,
        cmd.min_confidence,
        BufWriter::new(std::io::stdout().lock()),
    )?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_text_column_is_found_by_name_or_is_the_last() {
        let named = "time,text,from\n1,晚上吃饭吗,mum\n2,\"Hi, call me\",bob\n";
        assert_eq!(
            csv_messages(named.as_bytes()).unwrap(),
            vec!["晚上吃饭吗", "Hi, call me"]
        );
        let unnamed = "a,b\n1,first\n2,second\n";
        assert_eq!(
            csv_messages(unnamed.as_bytes()).unwrap(),
            vec!["first", "second"]
        );
    }

    #[test]
    fn every_input_line_gets_one_json_line() {
        let model = Model::default_model().unwrap();
        let input = b"hello\n\n\xff\xfe broken\n\xF0\x9F\x98\x80\xF0\x9F\x8E\x89\n".as_slice();
        let mut out = Vec::new();
        classify_lines(&model, input, &mut out).unwrap();
        let lines: Vec<Value> = out
            .split(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
            .map(|l| serde_json::from_slice(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 4);
        for v in lines {
            assert!(
                v["category"]
                    .as_str()
                    .is_some_and(|c| c.parse::<Category>().is_ok())
            );
            assert_eq!(v["scores"].as_object().unwrap().len(), 5);
        }
    }
}
