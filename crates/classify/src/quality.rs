//! The quality protocol behind docs/CLASSIFIER.md, as code so that the figures can be
//! re-measured by anyone (`cargo run -p classify --release --example quality`) and asserted
//! by the integration tests.
//!
//! 1. **Within source**: one model trained on the train parts of every source (plus our
//!    corpus), scored on each source's held-out part as "unwanted" (marketing + fraud) vs not.
//! 2. **Fake-base-station groups**: a 3-class model (advertising / fraud / illegal) on that
//!    set alone, macro-F1 on its held-out part.
//! 3. **Across sources**: for each public source, a model trained without it, scored on its
//!    held-out part; the drop from (1) is what a new kind of traffic would cost.
//! 4. **Our corpus**: held-out notices must never be called marketing, and disguised
//!    marketing (`corpus/classify/disguised*.tsv`) must be caught.

use crate::Category;
use crate::datasets::{FBS_GROUPS, Source, corpus_dir, load, load_mapped, split, split_validation};
use crate::error::Error;
use crate::eval::{EvalReport, Prf, eval};
use crate::io::{LabelMap, read_tsv_file};
use crate::model::Model;
use crate::train::{Example, TrainConfig, train};
use std::fmt;
use std::path::Path;

/// Settings of a quality run.
#[derive(Debug, Clone)]
pub struct QualityConfig {
    /// Hyper-parameters for every model trained.
    pub train: TrainConfig,
    /// Weight of our hand-written corpus rows (they are few against ~50k public rows).
    pub corpus_weight: f32,
    /// Keep one public example in `subsample` (1 = all); for quick runs in debug builds.
    pub subsample: usize,
    /// Skip the cross-source models (the slowest part).
    pub cross_source: bool,
    /// Source re-weighting exponent: each public source's rows weigh `(largest source size /
    /// its size)^source_balance`, so the 3.5k English rows are not drowned by 32k Chinese ones.
    pub source_balance: f32,
    /// Tune mode: train on the train part only and score on the validation part, never
    /// looking at the test part. Hyper-parameters are chosen in this mode.
    pub validation: bool,
}

impl Default for QualityConfig {
    fn default() -> Self {
        Self {
            train: TrainConfig::default(),
            corpus_weight: 8.0,
            subsample: 1,
            cross_source: true,
            source_balance: 1.0,
            validation: false,
        }
    }
}

/// Figures of a quality run.
#[derive(Debug, Clone)]
pub struct QualityReport {
    /// Per public source: unwanted-vs-wanted figures on its held-out part (combined model).
    pub within: Vec<(Source, Prf)>,
    /// The 3-group fake-base-station evaluation.
    pub fbs_groups: EvalReport,
    /// Per public source: unwanted figures of a model trained without that source.
    pub cross: Vec<(Source, Prf)>,
    /// The combined model on our corpus's held-out part.
    pub corpus: EvalReport,
    /// Held-out verification/transactional rows predicted as marketing.
    pub notices_as_marketing: u64,
    /// Held-out disguised-marketing rows, and how many were classified marketing or fraud.
    pub disguised: (u64, u64),
    /// Held-out corpus rows the combined model got wrong: (label, predicted, text).
    pub corpus_mistakes: Vec<(String, String, String)>,
    /// The combined model.
    pub model: Model,
}

fn unwanted(report: &EvalReport) -> Prf {
    report.binary(&[Category::Marketing.as_str(), Category::Fraud.as_str()])
}

fn is_disguised(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with("disguised"))
}

/// Our corpus split by [`crate::datasets::part_of`].
#[derive(Debug, Clone, Default)]
pub struct CorpusParts {
    /// Rows to train on.
    pub train: Vec<Example>,
    /// Held-out rows.
    pub test: Vec<Example>,
    /// The held-out rows that come from `disguised*.tsv` (also in `test`).
    pub disguised: Vec<Example>,
}

/// Loads the corpus split into train, test and disguised test rows.
///
/// # Errors
/// [`Error::ReadData`] for an unreadable corpus file.
pub fn corpus_parts() -> Result<CorpusParts, Error> {
    corpus_parts_for(false)
}

fn corpus_parts_for(validation: bool) -> Result<CorpusParts, Error> {
    let files = crate::io::tsv_files(&corpus_dir())?;
    let (mut tr, mut te, mut dis) = (Vec::new(), Vec::new(), Vec::new());
    for f in files {
        let (rows, _) = read_tsv_file(&f, &LabelMap::default())?;
        let (a, b) = if validation {
            split_validation(rows)
        } else {
            split(rows)
        };
        tr.extend(a);
        if is_disguised(&f) {
            dis.extend(b.iter().cloned());
        }
        te.extend(b);
    }
    Ok(CorpusParts {
        train: tr,
        test: te,
        disguised: dis,
    })
}

/// Runs the whole protocol on the shared `sms` directory `data_dir`.
///
/// # Errors
/// Reading or training errors.
pub fn run(data_dir: &Path, cfg: &QualityConfig) -> Result<QualityReport, Error> {
    let publics = [Source::Uci, Source::ZhSpam, Source::Fbs];
    let mut train_parts = Vec::new();
    let mut test_parts = Vec::new();
    for s in publics {
        let rows: Vec<Example> = load(data_dir, s)?
            .into_iter()
            .step_by(cfg.subsample.max(1))
            .collect();
        let (tr, te) = if cfg.validation {
            split_validation(rows)
        } else {
            split(rows)
        };
        train_parts.push(tr);
        test_parts.push(te);
    }
    #[allow(clippy::cast_precision_loss)]
    let largest = train_parts.iter().map(Vec::len).max().unwrap_or(1) as f32;
    for part in &mut train_parts {
        #[allow(clippy::cast_precision_loss)]
        let w = (largest / part.len().max(1) as f32).powf(cfg.source_balance);
        for e in part.iter_mut() {
            e.weight *= w;
        }
    }
    let CorpusParts {
        train: mut corpus_train,
        test: corpus_test,
        disguised,
    } = corpus_parts_for(cfg.validation)?;
    for e in &mut corpus_train {
        e.weight = cfg.corpus_weight;
    }
    let assemble = |skip: Option<usize>| {
        let mut all: Vec<Example> = corpus_train.clone();
        for (i, part) in train_parts.iter().enumerate() {
            if Some(i) != skip {
                all.extend(part.iter().cloned());
            }
        }
        all
    };
    let model = train(&assemble(None), &cfg.train)?;
    let within = publics
        .iter()
        .zip(&test_parts)
        .map(|(&s, te)| (s, unwanted(&eval(&model, te))))
        .collect();
    let mut cross = Vec::new();
    if cfg.cross_source {
        for (i, &s) in publics.iter().enumerate() {
            let m = train(&assemble(Some(i)), &cfg.train)?;
            cross.push((s, unwanted(&eval(&m, &test_parts[i]))));
        }
    }
    let fbs: Vec<Example> = load_mapped(data_dir, Source::Fbs, FBS_GROUPS)?
        .into_iter()
        .step_by(cfg.subsample.max(1))
        .collect();
    let (fbs_train, fbs_test) = if cfg.validation {
        split_validation(fbs)
    } else {
        split(fbs)
    };
    let fbs_groups = eval(&train(&fbs_train, &cfg.train)?, &fbs_test);
    let corpus = eval(&model, &corpus_test);
    let corpus_mistakes = corpus_test
        .iter()
        .filter_map(|e| {
            let got = model.classify(&e.text).category;
            (got != e.label).then(|| (e.label.clone(), got.to_owned(), e.text.clone()))
        })
        .collect();
    let notices_as_marketing =
        corpus.count("verification", "marketing") + corpus.count("transactional", "marketing");
    let caught = disguised
        .iter()
        .filter(|e| {
            model
                .classify(&e.text)
                .category
                .parse::<Category>()
                .is_ok_and(Category::is_unwanted)
        })
        .count() as u64;
    Ok(QualityReport {
        within,
        fbs_groups,
        cross,
        corpus,
        notices_as_marketing,
        disguised: (disguised.len() as u64, caught),
        corpus_mistakes,
        model,
    })
}

impl QualityReport {
    /// Unwanted F1 of the combined model on `source`'s held-out part.
    #[must_use]
    pub fn within_f1(&self, source: Source) -> f64 {
        self.within
            .iter()
            .find(|(s, _)| *s == source)
            .map_or(0.0, |(_, p)| p.f1)
    }

    /// Share of held-out disguised marketing that was caught.
    #[must_use]
    pub fn disguised_recall(&self) -> f64 {
        #[allow(clippy::cast_precision_loss)]
        if self.disguised.0 == 0 {
            0.0
        } else {
            self.disguised.1 as f64 / self.disguised.0 as f64
        }
    }
}

impl fmt::Display for QualityReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "== within source (held-out 20%, unwanted = marketing+fraud)"
        )?;
        writeln!(
            f,
            "{:<8} {:>9} {:>9} {:>9} {:>8}",
            "source", "precision", "recall", "F1", "support"
        )?;
        for (s, p) in &self.within {
            writeln!(
                f,
                "{:<8} {:>9.4} {:>9.4} {:>9.4} {:>8}",
                s.name(),
                p.precision,
                p.recall,
                p.f1,
                p.support
            )?;
        }
        writeln!(
            f,
            "== fake-base-station, 3 groups (own model): macro-F1 {:.4}",
            self.fbs_groups.macro_f1()
        )?;
        write!(f, "{}", self.fbs_groups)?;
        if !self.cross.is_empty() {
            writeln!(f, "== across sources (trained without the source)")?;
            writeln!(
                f,
                "{:<8} {:>9} {:>9} {:>9} {:>9}",
                "source", "recall", "F1", "within", "drop"
            )?;
            for (s, p) in &self.cross {
                let w = self.within_f1(*s);
                writeln!(
                    f,
                    "{:<8} {:>9.4} {:>9.4} {:>9.4} {:>9.4}",
                    s.name(),
                    p.recall,
                    p.f1,
                    w,
                    w - p.f1
                )?;
            }
        }
        writeln!(f, "== own corpus (held-out part)")?;
        write!(f, "{}", self.corpus)?;
        for (label, got, text) in &self.corpus_mistakes {
            writeln!(f, "  {label} -> {got}: {text}")?;
        }
        writeln!(
            f,
            "notices (verification/transactional) classified marketing: {}",
            self.notices_as_marketing
        )?;
        writeln!(
            f,
            "disguised marketing caught: {}/{} ({:.1}%)",
            self.disguised.1,
            self.disguised.0,
            100.0 * self.disguised_recall()
        )
    }
}
