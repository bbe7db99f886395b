//! The figures the consent judgement is held to, on held-out generated sets
//! (`corpus/synth/test`, templates never trained on) and public person-to-person rows:
//! messages from people called marketing or fraud (target 0), pure notices called marketing
//! or fraud (target 0), notices with a selling clause caught (target ≥ 95%).
//!
//! Everything goes through [`Model::read_explained`], the reading the send path and triage use, so
//! the figures include the clause search and the `uncertain` band.

use crate::Category;
use crate::model::Model;
use crate::reading::Reading;
use crate::train::Example;
use std::fmt;

/// How one set was read.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SetFigures {
    /// Rows read.
    pub rows: usize,
    /// Read as marketing or fraud.
    pub unwanted: usize,
    /// Read as marketing with a clause named.
    pub clause_named: usize,
    /// Read as `uncertain`.
    pub uncertain: usize,
    /// Up to five texts read as marketing or fraud, for the report.
    pub examples: Vec<(String, String)>,
}

impl SetFigures {
    /// Reads every row with `model`.
    #[must_use]
    pub fn measure(model: &Model, rows: &[Example]) -> Self {
        let mut f = Self::default();
        for r in rows {
            let reading: Reading<'_> = model.read_explained(&r.text);
            f.rows += 1;
            let unwanted = reading
                .category
                .parse::<Category>()
                .is_ok_and(Category::is_unwanted);
            if unwanted {
                f.unwanted += 1;
                if reading.clause.is_some() {
                    f.clause_named += 1;
                }
                if f.examples.len() < 5 {
                    f.examples
                        .push((reading.category.to_owned(), r.text.clone()));
                }
            } else if reading.category == crate::UNCERTAIN {
                f.uncertain += 1;
            }
        }
        f
    }

    /// Fraction read as marketing or fraud.
    #[must_use]
    #[allow(clippy::cast_precision_loss)]
    pub fn unwanted_rate(&self) -> f64 {
        self.unwanted as f64 / self.rows.max(1) as f64
    }
}

/// The judgement figures of one model.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Judgement {
    /// Generated messages from people (held-out templates): target 0 unwanted.
    pub people: SetFigures,
    /// Public person-to-person rows (the UCI `ham` test part), when the data is present.
    pub public_people: Option<SetFigures>,
    /// Pure notices (held-out templates): target 0 unwanted.
    pub notices: SetFigures,
    /// Notices with a selling clause (held-out notices and tails): target ≥ 95% caught.
    pub disguised: SetFigures,
}

impl Judgement {
    /// Reads the three generated test sets (`people`, `notices`, `disguised` rows) and,
    /// if given, public person-to-person rows.
    #[must_use]
    pub fn measure(
        model: &Model,
        people: &[Example],
        notices: &[Example],
        disguised: &[Example],
        public_people: Option<&[Example]>,
    ) -> Self {
        Self {
            people: SetFigures::measure(model, people),
            public_people: public_people.map(|p| SetFigures::measure(model, p)),
            notices: SetFigures::measure(model, notices),
            disguised: SetFigures::measure(model, disguised),
        }
    }

    /// Whether every target holds.
    #[must_use]
    pub fn met(&self) -> bool {
        self.people.unwanted == 0
            && self.notices.unwanted == 0
            && self.disguised.unwanted_rate() >= 0.95
    }
}

impl fmt::Display for Judgement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let line = |f: &mut fmt::Formatter<'_>, name: &str, s: &SetFigures, what: &str| {
            writeln!(
                f,
                "{name:<34} {:>4} rows  {what} {:>4} ({:.1}%)  uncertain {}",
                s.rows,
                s.unwanted,
                100.0 * s.unwanted_rate(),
                s.uncertain
            )?;
            for (c, t) in &s.examples {
                writeln!(f, "    {c}: {t}")?;
            }
            Ok(())
        };
        line(
            f,
            "people (generated, held out)",
            &self.people,
            "marketing/fraud",
        )?;
        if let Some(p) = &self.public_people {
            line(f, "people (UCI ham, test part)", p, "marketing/fraud")?;
        }
        line(
            f,
            "pure notices (held out)",
            &self.notices,
            "marketing/fraud",
        )?;
        writeln!(
            f,
            "{:<34} {:>4} rows  caught {:>4} ({:.1}%)  clause named {}",
            "disguised notices (held out)",
            self.disguised.rows,
            self.disguised.unwanted,
            100.0 * self.disguised.unwanted_rate(),
            self.disguised.clause_named
        )
    }
}

/// The held-out generated sets, `corpus/synth/test/{people,notices,disguised}.tsv`.
///
/// # Errors
/// [`crate::Error::ReadData`] naming a missing file.
pub fn synth_test_sets() -> Result<[Vec<Example>; 3], crate::Error> {
    let dir = crate::datasets::corpus_dir().join("../synth/test");
    let map = crate::io::LabelMap::parse("")?;
    let read = |name: &str| -> Result<Vec<Example>, crate::Error> {
        Ok(crate::io::read_tsv_file(dir.join(format!("{name}.tsv")), &map)?.0)
    };
    Ok([read("people")?, read("notices")?, read("disguised")?])
}
