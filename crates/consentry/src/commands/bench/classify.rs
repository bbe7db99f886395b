//! `consentry bench classify`: content classification throughput, against scikit-learn.
//!
//! Ours: [`classify::bench`] over a large mixed set (by default every message of the three
//! public sets in `../shared/data/sms` plus our corpus, ~52k Chinese and English texts),
//! `rounds` passes on one thread, then on every core; and the training time on the same set.
//!
//! Baseline, in the same run on the same messages: `scripts/bench_classify_baseline.py
//! --bench FILE`, a TF-IDF (char 1–3-grams) + LinearSVC pipeline fitted on them, timed on
//! batched transform + predict (its best case). Python runs only the baseline; if it or
//! scikit-learn cannot be found or installed, the figure is `null` with the reason.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use anyhow::{Context, Result};
use classify::datasets::{Source, corpus_dir, load, shared_data_dir};
use classify::{Example, TrainConfig};
use serde_json::{Value, json};

use crate::commands::classify::{flat, load_model};

/// Options of `bench classify`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Messages (`label<TAB>text`); default: the public sets in ../shared/data/sms (or
    /// $CONSENTRY_DATA_DIR) plus corpus/classify.
    #[arg(long, num_args = 1..)]
    data: Vec<PathBuf>,
    /// Model file (default: the model compiled into this binary).
    #[arg(long)]
    model: Option<PathBuf>,
    /// Passes over the messages for each figure.
    #[arg(long, default_value_t = 3)]
    rounds: usize,
    /// Lines fed to `consentry classify` as a whole process (the messages repeated).
    #[arg(long, default_value_t = 200_000)]
    process_lines: usize,
    /// Skip the scikit-learn baseline.
    #[arg(long)]
    no_baseline: bool,
    /// The Python interpreter for the baseline.
    #[arg(long, default_value = "python3")]
    python: String,
    /// The baseline script (default: scripts/bench_classify_baseline.py of this source tree).
    #[arg(long)]
    script: Option<PathBuf>,
}

fn messages(args: &Args) -> Result<(Vec<Example>, String)> {
    if !args.data.is_empty() {
        let (ex, _) = classify::cli::read_examples(&args.data, "").map_err(flat)?;
        return Ok((ex, "--data files".into()));
    }
    let mut all = Vec::new();
    let what = if let Some(dir) = shared_data_dir() {
        for s in [Source::Uci, Source::ZhSpam, Source::Fbs] {
            all.extend(load(&dir, s).map_err(flat)?);
        }
        format!("public sets in {} + corpus", dir.display())
    } else {
        eprintln!(
            "shared data not found (../shared/data/sms or $CONSENTRY_DATA_DIR): timing on \
             corpus/classify only, a small set"
        );
        "corpus/classify only".into()
    };
    all.extend(load(&corpus_dir(), Source::Corpus).map_err(flat)?);
    Ok((all, what))
}

/// Runs the Python baseline on `messages`; `Err` carries why there is no figure.
fn baseline(args: &Args, messages: &[Example]) -> Result<Value, String> {
    let script = args.script.clone().unwrap_or_else(|| {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/bench_classify_baseline.py")
    });
    if !script.is_file() {
        return Err(format!("baseline script {} not found", script.display()));
    }
    let mut file = tempfile::NamedTempFile::new().map_err(|e| e.to_string())?;
    {
        let mut w = std::io::BufWriter::new(file.as_file_mut());
        for m in messages {
            let text = m.text.replace(['\t', '\n', '\r'], " ");
            writeln!(w, "{}\t{text}", m.label).map_err(|e| e.to_string())?;
        }
        w.flush().map_err(|e| e.to_string())?;
    }
    eprintln!(
        "baseline: {} {} --bench … (installs scikit-learn with pip if missing)",
        args.python,
        script.display()
    );
    let out = Command::new(&args.python)
        .arg(&script)
        .arg("--bench")
        .arg(file.path())
        .arg("--rounds")
        .arg(args.rounds.to_string())
        // One thread, like our single-thread figure.
        .env("OMP_NUM_THREADS", "1")
        .env("OPENBLAS_NUM_THREADS", "1")
        .output()
        .map_err(|e| format!("cannot run {}: {e}", args.python))?;
    if !out.status.success() {
        return Err(format!(
            "baseline failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    let last = stdout.lines().last().unwrap_or_default();
    serde_json::from_str(last).map_err(|e| format!("baseline printed {last:?}: {e}"))
}

/// `consentry classify` as a whole process (start-up, stdin, JSON out, every core) over the
/// messages, repeated to at least `--process-lines` (200,000) lines; messages per second of the best of
/// `rounds` runs. The in-process figure leaves out what a user of the command pays.
fn process_rate(args: &Args, messages: &[Example]) -> Result<(usize, f64)> {
    let mut file = tempfile::NamedTempFile::new().context("temporary file")?;
    let mut lines = 0usize;
    {
        let mut w = std::io::BufWriter::new(file.as_file_mut());
        while lines < args.process_lines.max(1) {
            for m in messages {
                writeln!(w, "{}", m.text.replace(['\n', '\r'], " "))?;
            }
            lines += messages.len();
        }
        w.flush()?;
    }
    let exe = std::env::current_exe().context("locating this binary")?;
    let mut best = f64::INFINITY;
    for _ in 0..args.rounds.max(1) {
        let mut cmd = Command::new(&exe);
        cmd.arg("classify");
        if let Some(m) = &args.model {
            cmd.arg("--model").arg(m);
        }
        let t = std::time::Instant::now();
        let status = cmd
            .stdin(std::fs::File::open(file.path())?)
            .stdout(std::process::Stdio::null())
            .status()
            .context("running consentry classify")?;
        anyhow::ensure!(status.success(), "consentry classify failed: {status}");
        best = best.min(t.elapsed().as_secs_f64());
    }
    #[allow(clippy::cast_precision_loss)]
    Ok((lines, lines as f64 / best))
}

pub fn run(args: &Args) -> Result<ExitCode> {
    let model = load_model(args.model.as_deref())?;
    let (messages, source) = messages(args)?;
    anyhow::ensure!(!messages.is_empty(), "no messages to time");
    eprintln!(
        "classify: {} messages from {source}, {} rounds",
        messages.len(),
        args.rounds
    );
    let ours = classify::bench(
        &model,
        &messages,
        args.rounds,
        Some(&TrainConfig::default()),
    );
    let (process_lines, process_per_sec) = process_rate(args, &messages)?;
    let base = if args.no_baseline {
        Err("skipped (--no-baseline)".to_string())
    } else {
        baseline(args, &messages)
    };
    if let Err(why) = &base {
        eprintln!("no baseline figure: {why}");
    }
    let train_s = ours.train_time.map(|t| t.as_secs_f64());
    let ratio = |ours: Option<f64>, key: &str, invert: bool| -> Value {
        let b = base.as_ref().ok().and_then(|b| b[key].as_f64());
        match (ours, b) {
            (Some(o), Some(b)) if o > 0.0 && b > 0.0 => {
                json!(((if invert { b / o } else { o / b }) * 10.0).round() / 10.0)
            }
            _ => Value::Null,
        }
    };
    let report = json!({
        "bench": "classify",
        "messages": ours.messages,
        "mean_chars": (ours.mean_chars * 10.0).round() / 10.0,
        "source": source,
        "rounds": args.rounds,
        "ours": {
            "single_thread_per_sec": ours.single_per_sec.round(),
            "threads": ours.threads,
            "all_cores_per_sec": ours.multi_per_sec.round(),
            "train_s": train_s.map(|t| (t * 1000.0).round() / 1000.0),
            "process_lines": process_lines,
            "process_per_sec": process_per_sec.round(),
        },
        "baseline": match &base {
            Ok(v) => v.clone(),
            Err(why) => json!({ "error": why }),
        },
        "ratio_single_thread": ratio(Some(ours.single_per_sec), "predict_per_sec", false),
        "ratio_train_time": ratio(train_s, "train_s", true),
        "ratio_process": ratio(Some(process_per_sec), "predict_per_sec", false),
        "targets": {
            "per_core_per_sec": 500_000,
            "ratio_single_thread": 50,
            "ratio_process": 50,
            "train_s_on_50k": 10,
        },
    });
    println!(
        "{}",
        serde_json::to_string_pretty(&report).context("printing the report")?
    );
    Ok(ExitCode::SUCCESS)
}
