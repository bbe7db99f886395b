//! `consentry bench quality`: our model against a TF-IDF character n-gram + LinearSVC
//! baseline, both trained on the recipe's rows, both scored on the same held-out rows, for
//! raw and artefact-free text (the protocol is `classify::versus`).
//!
//! The baseline runs as `scripts/quality_baseline.py` (scikit-learn; installed by
//! `.ci/setup-baseline.sh`). Ours is trained by the recipe in-process, so the raw-view model
//! is the committed default model (the command says whether it is bit-identical).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use anyhow::{Context, Result};
use classify::datasets::shared_data_dir;
use classify::judgement::{Judgement, synth_test_sets};
use classify::versus::{HeldOut, artefact_free_rows, held_out_sets, unwanted_prf};
use classify::{Example, Model, Recipe};
use serde_json::{Value, json};

use crate::commands::classify::flat;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The recipe both models learn from (default: models/classify-cascade.toml of this tree, the default model's).
    #[arg(long)]
    recipe: Option<PathBuf>,
    /// The Python interpreter for the baseline.
    #[arg(long, default_value = "python3")]
    python: String,
    /// Only our figures (no Python).
    #[arg(long)]
    no_baseline: bool,
}

/// The baseline's predictions on one set: `(n-gram range, predicted label per row)`.
type SetPredictions = Vec<(String, Vec<String>)>;

/// Writes the training rows and held-out sets, runs the baseline, reads its predictions
/// (one [`SetPredictions`] per set) and its summary line.
fn baseline(
    python: &str,
    train: &[Example],
    sets: &[HeldOut],
) -> Result<(Vec<SetPredictions>, Value)> {
    let dir = tempfile::tempdir().context("temporary directory")?;
    let clean = |t: &str| t.replace(['\t', '\n', '\r'], " ");
    let mut body = String::new();
    for e in train {
        let _ = writeln!(body, "{}\t{}\t{}", e.weight, e.label, clean(&e.text));
    }
    std::fs::write(dir.path().join("train.tsv"), body)?;
    for s in sets {
        let mut body = String::new();
        for e in &s.rows {
            let _ = writeln!(body, "{}\t{}", e.label, clean(&e.text));
        }
        std::fs::write(dir.path().join(format!("{}.tsv", s.name)), body)?;
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/quality_baseline.py");
    let out = Command::new(python)
        .arg(&script)
        .arg(dir.path())
        .env("OMP_NUM_THREADS", "1")
        .output()
        .with_context(|| format!("running {python} {}", script.display()))?;
    anyhow::ensure!(
        out.status.success(),
        "baseline failed ({}): {} (is scikit-learn installed? .ci/setup-baseline.sh)",
        out.status,
        String::from_utf8_lossy(&out.stderr).trim()
    );
    let info: Value = serde_json::from_slice(
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .last()
            .unwrap_or_default()
            .as_bytes(),
    )
    .context("reading the baseline's summary line")?;
    let mut preds = Vec::new();
    for s in sets {
        let mut per = Vec::new();
        for name in ["char13", "char14"] {
            let p = dir.path().join(format!("{}.{name}.pred", s.name));
            let text = std::fs::read_to_string(&p).with_context(|| p.display().to_string())?;
            let labels: Vec<String> = text.lines().map(str::to_owned).collect();
            anyhow::ensure!(labels.len() == s.rows.len(), "{}: wrong count", p.display());
            per.push((name.to_owned(), labels));
        }
        preds.push(per);
    }
    Ok((preds, info))
}

/// Our predictions on a set: arg-max of the calibrated scores, and the reading
/// (`uncertain` counts as not unwanted).
fn ours(model: &Model, rows: &[Example]) -> (Vec<&'static str>, Vec<String>) {
    let labels: Vec<&'static str> = model
        .labels()
        .iter()
        .map(|l| match l.as_str() {
            "marketing" => "marketing",
            "fraud" => "fraud",
            _ => "other",
        })
        .collect();
    let argmax = rows
        .iter()
        .map(|r| labels[model.predict(&r.text)])
        .collect();
    let read = rows
        .iter()
        .map(|r| model.read(&r.text).category.to_owned())
        .collect();
    (argmax, read)
}

/// One view (raw or artefact-free): trains ours, runs the baseline, returns a JSON report
/// and prints the table.
fn view(args: &Args, recipe: &Recipe, name: &str, artefact_free: bool) -> Result<Value> {
    let (mut train, _) = recipe.examples().map_err(flat)?;
    let mut sets = held_out_sets(shared_data_dir().as_deref()).map_err(flat)?;
    if artefact_free {
        train = artefact_free_rows(&train);
        for s in &mut sets {
            s.rows = artefact_free_rows(&s.rows);
        }
    }
    let t = std::time::Instant::now();
    let model = recipe.train_on(&train).map_err(flat)?;
    let train_s = t.elapsed().as_secs_f64();
    let base = if args.no_baseline {
        None
    } else {
        Some(baseline(&args.python, &train, &sets)?)
    };
    println!(
        "== {name} text: {} training rows (ours {train_s:.1} s)",
        train.len()
    );
    println!(
        "{:<14} {:>6}  {:>8} {:>8}  {:>8} {:>8}  {:>7}",
        "set", "rows", "ours", "ours-rd", "svm1-3", "svm1-4", "ours-b"
    );
    let mut out = Vec::new();
    for (i, s) in sets.iter().enumerate() {
        let (argmax, read) = ours(&model, &s.rows);
        let read: Vec<&str> = read.iter().map(String::as_str).collect();
        let o = unwanted_prf(&s.rows, &argmax);
        let r = unwanted_prf(&s.rows, &read);
        let svm: Vec<(String, classify::Prf)> = base.as_ref().map_or_else(Vec::new, |(p, _)| {
            p[i].iter()
                .map(|(n, l)| {
                    let l: Vec<&str> = l.iter().map(String::as_str).collect();
                    (n.clone(), unwanted_prf(&s.rows, &l))
                })
                .collect()
        });
        let best = svm.iter().map(|(_, p)| p.f1).fold(f64::NAN, f64::max);
        let f = |x: f64| {
            if x.is_nan() {
                "-".to_owned()
            } else {
                format!("{x:.4}")
            }
        };
        println!(
            "{:<14} {:>6}  {:>8} {:>8}  {:>8} {:>8}  {:>+7.4}",
            s.name,
            s.rows.len(),
            f(o.f1),
            f(r.f1),
            f(svm.first().map_or(f64::NAN, |p| p.1.f1)),
            f(svm.get(1).map_or(f64::NAN, |p| p.1.f1)),
            o.f1 - best
        );
        out.push(json!({
            "set": s.name, "about": s.about, "rows": s.rows.len(),
            "ours_f1": o.f1, "ours_precision": o.precision, "ours_recall": o.recall,
            "ours_read_f1": r.f1, "ours_read_recall": r.recall,
            "baseline": svm.iter().map(|(n, p)| json!({"ngrams": n, "f1": p.f1, "recall": p.recall})).collect::<Vec<_>>(),
            "ours_minus_best_baseline": o.f1 - best,
        }));
    }
    println!(
        "(ours = arg-max; ours-rd = the reading, uncertain kept; ours-b = ours − the better SVM)"
    );
    let ece = if artefact_free {
        Value::Null
    } else {
        calibration(&model, &sets)
    };
    let same =
        !artefact_free && Model::default_model().is_ok_and(|d| d.to_bytes() == model.to_bytes());
    if !artefact_free {
        println!("ours is the committed default model, bit for bit: {same}");
    }
    Ok(json!({
        "view": name, "train_rows": train.len(), "ours_train_s": train_s,
        "sets": out, "baseline": base.map(|(_, info)| info), "ours_is_default_model": same,
        "calibration": ece,
    }))
}

/// Expected calibration error of each label's score on all held-out rows, calibrated and
/// raw (Platt parameters set to identity), printed with the reliability of p(marketing).
fn calibration(model: &Model, sets: &[HeldOut]) -> Value {
    let rows: Vec<Example> = sets.iter().flat_map(|s| s.rows.iter().cloned()).collect();
    let raw = model
        .clone()
        .with_calibration(vec![(1.0, 0.0); model.labels().len()]);
    let mut out = serde_json::Map::new();
    println!(
        "calibration on {} held-out rows: expected calibration error (10 bins)",
        rows.len()
    );
    for label in model.labels() {
        let cal = classify::calibrate::reliability(model, &rows, label);
        let unc = classify::calibrate::reliability(&raw, &rows, label);
        println!(
            "  p({label:<13}) calibrated {:.4}   raw {:.4}",
            cal.ece, unc.ece
        );
        if label == "marketing" {
            for (i, b) in cal.bins.iter().enumerate().filter(|(_, b)| b.count > 0) {
                println!(
                    "    [{:.1}, {:.1}) {:>6} rows  mean p {:.3}  marketing {:.3}",
                    i as f64 / 10.0,
                    (i + 1) as f64 / 10.0,
                    b.count,
                    b.mean_score,
                    b.positive_rate
                );
            }
        }
        out.insert(
            label.clone(),
            json!({"calibrated": cal.ece, "raw": unc.ece}),
        );
    }
    Value::Object(out)
}

pub fn run(args: &Args) -> Result<ExitCode> {
    let path = args.recipe.clone().unwrap_or_else(|| {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models/classify-cascade.toml")
    });
    let recipe = Recipe::load(&path).map_err(flat)?;
    if shared_data_dir().is_none() {
        eprintln!(
            "shared data not found (../shared/data/sms or $CONSENTRY_DATA_DIR): only our \
             held-out sets are scored, and the recipe's public sources cannot be read"
        );
    }
    let raw = view(args, &recipe, "raw", false)?;
    let clean = view(args, &recipe, "artefact-free", true)?;
    let model = Model::default_model().map_err(flat)?;
    let [people, notices, disguised] = synth_test_sets().map_err(flat)?;
    // Public person-to-person rows: the UCI `ham` test part, when the data is there.
    let ham: Option<Vec<Example>> = match shared_data_dir() {
        Some(d) => Some(
            classify::datasets::split(
                classify::datasets::load(&d, classify::datasets::Source::Uci).map_err(flat)?,
            )
            .1
            .into_iter()
            .filter(|e| e.label == "personal")
            .collect(),
        ),
        None => None,
    };
    let j = Judgement::measure(&model, &people, &notices, &disguised, ham.as_deref());
    println!("== the default model's reading on the held-out generated sets\n{j}");
    let summary = json!({ "raw": raw, "artefact_free": clean, "judgement": {
        "people": j.people.rows, "people_unwanted": j.people.unwanted,
        "notices": j.notices.rows, "notices_unwanted": j.notices.unwanted,
        "disguised": j.disguised.rows, "disguised_caught": j.disguised.unwanted,
        "public_people": j.public_people.as_ref().map(|p| p.rows),
        "public_people_unwanted": j.public_people.as_ref().map(|p| p.unwanted),
    }});
    println!("{summary}");
    Ok(ExitCode::SUCCESS)
}
