//! Training recipes: which files, label maps, weights, split parts and hyper-parameters a
//! model is trained from, written down as a TOML file next to the model.
//!
//! The default model must be rebuilt by anyone with `consentry train --recipe
//! models/classify-cascade.toml --out models/classify-cascade.bin`, bit for bit. A bare list of
//! `--data` files cannot say that 3.5k English rows weigh more than 32k Chinese ones, that
//! our hand-written corpus weighs 8, or that each public set's test part is left out; a
//! recipe can, and it is reviewed like code.
//!
//! ```toml
//! [train]            # TrainConfig fields; any left out keep their defaults
//! seed = 42
//! source_balance = 1.0
//!
//! [[source]]
//! path = "../corpus/classify"     # a file, or a directory of *.tsv (read in name order)
//! weight = 8.0                    # every row weighs 8
//! part = "not-test"               # all | test | not-test (see datasets::part_of)
//!
//! [[source]]
//! path = "../../shared/data/sms/uci_sms_spam.train.tsv"
//! map = "ham=personal,spam=marketing"
//! part = "not-test"               # no weight: balanced against the other balanced sources
//! ```
//!
//! Paths are relative to the recipe file. Sources are concatenated in the order written
//! (training shuffles with the seed, so order is part of what makes a model reproducible).

use crate::cascade::{Cascade, CascadeConfig, Gate};
use crate::datasets::{Part, Rows, part_of};
use crate::error::Error;
use crate::io::{LabelMap, ReadStats, read_tsv_file};
use crate::model::Model;
use crate::svm::SvmConfig;
use crate::tfidf::Grams;
use crate::train::{Example, TrainConfig, train};
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// A parsed recipe, paths resolved against the recipe's directory.
#[derive(Debug, Clone)]
pub struct Recipe {
    /// Where the recipe was read from.
    pub path: PathBuf,
    /// Hyper-parameters.
    pub train: TrainConfig,
    /// Exponent of the balancing of sources without an explicit weight: each of their rows
    /// weighs `(rows of the largest such source / rows of its own)^source_balance`.
    pub source_balance: f32,
    /// Whether scores are calibrated (`[train] calibrate = true`): see [`Recipe::train`].
    pub calibrate: bool,
    /// The data, in order.
    pub sources: Vec<Source>,
    /// A second stage to train and attach (`[cascade]`), see [`crate::cascade`].
    pub cascade: Option<CascadeConfig>,
}

/// One data source of a recipe.
#[derive(Debug, Clone)]
pub struct Source {
    /// A `label<TAB>text` file, or a directory whose `*.tsv` files are read in name order.
    pub path: PathBuf,
    /// Label mapping onto the model's labels.
    pub map: String,
    /// Which rows of the split to use.
    pub rows: Rows,
    /// Weight of every row; `None` = balanced against the other unweighted sources.
    pub weight: Option<f32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRecipe {
    #[serde(default)]
    train: RawTrain,
    #[serde(default, rename = "source")]
    sources: Vec<RawSource>,
    cascade: Option<RawCascade>,
}

/// `[cascade]`: every key optional, defaults of [`CascadeConfig`].
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawCascade {
    bits: Option<u32>,
    max_n_han: Option<u8>,
    max_n_latin: Option<u8>,
    c: Option<f32>,
    max_passes: Option<u32>,
    band: Option<f32>,
    han_only: Option<bool>,
    keep_person: Option<f32>,
    blend: Option<f32>,
    keep_fraud: Option<bool>,
}

impl RawCascade {
    fn config(self, seed: u64) -> Result<CascadeConfig, String> {
        let d = CascadeConfig::default();
        let c = CascadeConfig {
            grams: Grams {
                bits: self.bits.unwrap_or(d.grams.bits),
                max_n_han: self.max_n_han.unwrap_or(d.grams.max_n_han),
                max_n_latin: self.max_n_latin.unwrap_or(d.grams.max_n_latin),
            },
            svm: SvmConfig {
                c: self.c.unwrap_or(d.svm.c),
                max_passes: self.max_passes.unwrap_or(d.svm.max_passes),
                seed,
                ..d.svm
            },
            gate: Gate {
                band: self.band.unwrap_or(d.gate.band),
                han_only: self.han_only.unwrap_or(d.gate.han_only),
                keep_person: self.keep_person.unwrap_or(d.gate.keep_person),
                blend: self.blend.unwrap_or(d.gate.blend),
                keep_fraud: self.keep_fraud.unwrap_or(d.gate.keep_fraud),
            },
        };
        if !(12..=24).contains(&c.grams.bits) {
            return Err("[cascade] bits must be 12..=24".into());
        }
        if !(1..=8).contains(&c.grams.max_n_han) || !(1..=8).contains(&c.grams.max_n_latin) {
            return Err("[cascade] n-gram lengths must be 1..=8".into());
        }
        if !(c.svm.c.is_finite() && c.svm.c > 0.0) {
            return Err("[cascade] c must be > 0".into());
        }
        let g = c.gate;
        if ![g.band, g.keep_person, g.blend]
            .iter()
            .all(|x| x.is_finite())
            || !(0.0..=1.0).contains(&g.blend)
        {
            return Err("[cascade] band and keep_person must be numbers, blend 0..=1".into());
        }
        Ok(c)
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawTrain {
    bits: Option<u32>,
    epochs: Option<u32>,
    alpha: Option<f32>,
    beta: Option<f32>,
    l1: Option<f32>,
    l2: Option<f32>,
    balance: Option<f32>,
    seed: Option<u64>,
    source_balance: Option<f32>,
    calibrate: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSource {
    path: PathBuf,
    #[serde(default)]
    map: String,
    #[serde(default)]
    part: Option<String>,
    weight: Option<f32>,
}

fn bad(path: &Path, reason: impl Into<String>) -> Error {
    Error::Recipe {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

impl Recipe {
    /// Reads and checks the recipe at `path` (label maps parsed, weights positive; data
    /// files are opened only by [`Recipe::examples`]).
    ///
    /// # Errors
    /// [`Error::Recipe`] naming the file for unreadable or invalid recipes.
    pub fn load(path: &Path) -> Result<Self, Error> {
        let text = std::fs::read_to_string(path).map_err(|e| bad(path, e.to_string()))?;
        Self::parse(&text, path)
    }

    /// Parses recipe `text` as if read from `path` (relative source paths resolve against
    /// its directory).
    ///
    /// # Errors
    /// [`Error::Recipe`] for invalid TOML, unknown keys, bad label maps, parts or weights.
    pub fn parse(text: &str, path: &Path) -> Result<Self, Error> {
        let raw: RawRecipe = toml::from_str(text).map_err(|e| bad(path, e.to_string()))?;
        let d = TrainConfig::default();
        let t = raw.train;
        let calibrate = t.calibrate.unwrap_or(false);
        let train = TrainConfig {
            bits: t.bits.unwrap_or(d.bits),
            epochs: t.epochs.unwrap_or(d.epochs),
            alpha: t.alpha.unwrap_or(d.alpha),
            beta: t.beta.unwrap_or(d.beta),
            l1: t.l1.unwrap_or(d.l1),
            l2: t.l2.unwrap_or(d.l2),
            balance: t.balance.unwrap_or(d.balance),
            seed: t.seed.unwrap_or(d.seed),
        };
        let source_balance = t.source_balance.unwrap_or(1.0);
        if !source_balance.is_finite() || source_balance < 0.0 {
            return Err(bad(path, "source_balance must be a number ≥ 0"));
        }
        if raw.sources.is_empty() {
            return Err(bad(path, "no [[source]] given"));
        }
        let cascade = raw
            .cascade
            .map(|c| c.config(train.seed))
            .transpose()
            .map_err(|e| bad(path, e))?;
        let base = path.parent().unwrap_or(Path::new("."));
        let mut sources = Vec::with_capacity(raw.sources.len());
        for (i, s) in raw.sources.into_iter().enumerate() {
            LabelMap::parse(&s.map).map_err(|e| bad(path, format!("source {}: {e}", i + 1)))?;
            let rows = match s.part.as_deref() {
                None => Rows::All,
                Some(p) => p
                    .parse()
                    .map_err(|e: String| bad(path, format!("source {}: {e}", i + 1)))?,
            };
            if let Some(w) = s.weight
                && !(w.is_finite() && w > 0.0)
            {
                return Err(bad(path, format!("source {}: weight must be > 0", i + 1)));
            }
            sources.push(Source {
                path: base.join(&s.path),
                map: s.map,
                rows,
                weight: s.weight,
            });
        }
        Ok(Self {
            path: path.to_path_buf(),
            train,
            source_balance,
            calibrate,
            sources,
            cascade,
        })
    }

    /// Reads every source, keeps the chosen rows and weighs them.
    ///
    /// # Errors
    /// [`Error::ReadData`] naming an unreadable file or directory.
    pub fn examples(&self) -> Result<(Vec<Example>, ReadStats), Error> {
        let mut stats = ReadStats::default();
        let mut parts = Vec::with_capacity(self.sources.len());
        for s in &self.sources {
            let map = LabelMap::parse(&s.map)?;
            let mut rows = Vec::new();
            for f in crate::io::tsv_files(&s.path)? {
                let (ex, st) = read_tsv_file(&f, &map)?;
                stats.add(&st);
                rows.extend(ex);
            }
            parts.push(s.rows.select(rows));
        }
        let largest = self
            .sources
            .iter()
            .zip(&parts)
            .filter(|(s, _)| s.weight.is_none())
            .map(|(_, p)| p.len())
            .max()
            .unwrap_or(1);
        let mut all = Vec::with_capacity(parts.iter().map(Vec::len).sum());
        for (s, mut part) in self.sources.iter().zip(parts) {
            #[allow(clippy::cast_precision_loss)]
            let w = s.weight.unwrap_or_else(|| {
                (largest as f32 / part.len().max(1) as f32).powf(self.source_balance)
            });
            for e in &mut part {
                e.weight = if s.weight.is_some() { w } else { e.weight * w };
            }
            all.extend(part);
        }
        Ok((all, stats))
    }
}

impl Recipe {
    /// Trains the model the recipe describes; returns it with the number of examples and
    /// the reader's statistics.
    ///
    /// With `calibrate`, scores are calibrated on rows the model did not learn from: a first
    /// model learns every row except those whose split part ([`part_of`]) is
    /// `Validation`, Platt parameters are fitted on those validation rows
    /// ([`crate::calibrate::fit`]), and the final model — trained on every row — carries
    /// them. (The final model saw the validation rows, so its own scores on them would look
    /// better calibrated than they are; the first model's did not.) Deterministic like
    /// training itself.
    ///
    /// # Errors
    /// Reading or training errors.
    pub fn train(&self) -> Result<(Model, usize, ReadStats), Error> {
        let (examples, stats) = self.examples()?;
        let model = self.train_on(&examples)?;
        Ok((model, examples.len(), stats))
    }

    /// Trains (and calibrates, if the recipe says so) on `examples` — the recipe's own rows
    /// or a view of them, as `consentry bench quality` does with artefact-free text.
    ///
    /// # Errors
    /// Training errors.
    pub fn train_on(&self, examples: &[Example]) -> Result<Model, Error> {
        let model = self.first_pass(examples)?;
        match &self.cascade {
            None => Ok(model),
            Some(c) => model.with_cascade(Cascade::train(examples, c, self.calibrate)?),
        }
    }

    /// The first pass: the linear model, calibrated if the recipe says so.
    fn first_pass(&self, examples: &[Example]) -> Result<Model, Error> {
        let model = train(examples, &self.train)?;
        if !self.calibrate {
            return Ok(model);
        }
        let (held, learn): (Vec<Example>, Vec<Example>) = examples
            .iter()
            .cloned()
            .partition(|e| part_of(&e.text) == Part::Validation);
        let first = train(&learn, &self.train)?;
        let calibration = crate::calibrate::fit(&first, &held);
        Ok(model.with_calibration(calibration))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn write(dir: &Path, name: &str, body: &str) -> PathBuf {
        let p = dir.join(name);
        let mut f = std::fs::File::create(&p).expect("create");
        f.write_all(body.as_bytes()).expect("write");
        p
    }

    #[test]
    fn weights_balance_and_parts() {
        let dir = tempfile::tempdir().expect("tempdir");
        write(dir.path(), "big.tsv", &"ham\thello there\n".repeat(40));
        write(
            dir.path(),
            "small.tsv",
            &"spam\twin a prize now\n".repeat(10),
        );
        std::fs::create_dir(dir.path().join("corpus")).expect("mkdir");
        write(
            &dir.path().join("corpus"),
            "b.tsv",
            "verification\t验证码1234\n",
        );
        write(&dir.path().join("corpus"), "a.tsv", "personal\t晚上吃饭\n");
        let recipe = write(
            dir.path(),
            "r.toml",
            r#"
[train]
bits = 16
[[source]]
path = "corpus"
weight = 8
[[source]]
path = "big.tsv"
map = "ham=personal"
[[source]]
path = "small.tsv"
map = "spam=marketing"
"#,
        );
        let r = Recipe::load(&recipe).expect("recipe");
        assert_eq!(r.train.bits, 16);
        assert_eq!(r.train.seed, TrainConfig::default().seed);
        let (ex, stats) = r.examples().expect("examples");
        assert_eq!(stats.lines, 52);
        // Directory files in name order, then the sources in recipe order.
        assert_eq!(ex[0].label, "personal");
        assert_eq!(ex[1].label, "verification");
        assert!(
            ex[..2]
                .iter()
                .all(|e| (e.weight - 8.0).abs() < f32::EPSILON)
        );
        assert!(
            ex[2..42]
                .iter()
                .all(|e| (e.weight - 1.0).abs() < f32::EPSILON)
        );
        assert!(
            ex[42..]
                .iter()
                .all(|e| (e.weight - 4.0).abs() < f32::EPSILON)
        );
    }

    #[test]
    fn errors_name_the_recipe() {
        let p = Path::new("/nowhere/r.toml");
        for (text, want) in [
            ("[[source]]\npath = \"a.tsv\"\npart = \"half\"", "half"),
            ("[[source]]\npath = \"a.tsv\"\nweight = 0", "weight"),
            (
                "[[source]]\npath = \"a.tsv\"\nmap = \"nonsense\"",
                "label map",
            ),
            ("[train]\nbitz = 3\n[[source]]\npath = \"a.tsv\"", "bitz"),
            ("[train]\nbits = 20", "no [[source]]"),
            (
                "[cascade]\nbnad = 0.8\n[[source]]\npath = \"a.tsv\"",
                "bnad",
            ),
            (
                "[cascade]\nc = 0\n[[source]]\npath = \"a.tsv\"",
                "c must be > 0",
            ),
            ("[cascade]\nbits = 40\n[[source]]\npath = \"a.tsv\"", "bits"),
            (
                "[cascade]\nblend = 2\n[[source]]\npath = \"a.tsv\"",
                "blend",
            ),
            (
                "[cascade]\nmax_n_han = 0\n[[source]]\npath = \"a.tsv\"",
                "n-gram",
            ),
            ("not toml [", "r.toml"),
        ] {
            let e = Recipe::parse(text, p).expect_err(text).to_string();
            assert!(e.contains("/nowhere/r.toml"), "{e}");
            assert!(e.contains(want), "{text}: {e}");
        }
        let e = Recipe::load(Path::new("/nowhere/missing.toml")).expect_err("missing");
        assert!(e.to_string().contains("/nowhere/missing.toml"), "{e}");
    }
}
