//! # classify: what kind of SMS is this?
//!
//! Consent rules differ by content: a verification code or a delivery notice may be sent
//! without marketing consent, an advert may not, and fraud must not be sent at all. Senders
//! know this, so marketing arrives dressed as a notice ("验证码 0815 … 双11全场5折"). This
//! crate sorts message text into five [`Category`]s: `verification`, `transactional`,
//! `personal`, `marketing`, `fraud`.
//!
//! The pipeline, one module each:
//! - [`normalise`]: NFKC, lowercase, Traditional → Simplified, numbers/links/phones to
//!   placeholders, so that the three public data sets and real traffic look alike;
//! - [`features`]: Chinese character 1–3-grams, English words and bigrams and structure
//!   features, hashed into `2^bits` buckets;
//! - [`model`]: one-vs-rest logistic regression, per-class sigmoid scores;
//! - [`cascade`]: a TF-IDF character n-gram linear SVM asked where that first pass is
//!   unsure (the compiled-in model, `models/classify-cascade.bin`, is such a cascade);
//! - [`mod@train`]: FTRL-Proximal, deterministic for a seed;
//! - [`mod@eval`], [`mod@triage`], [`mod@bench`]: figures and uses of a model;
//! - [`store`] and [`io`]: the only modules that touch bytes or files (model format, TSV).
//!
//! ```
//! use classify::{Model, TrainConfig, Example, train, eval};
//!
//! // The committed model, compiled in:
//! let model = Model::default_model()?;
//! let s = model.classify("【顺丰速运】您的快件已到达小区驿站，取件码 6-2-3051，请及时领取。");
//! assert_eq!(s.category, "transactional");
//!
//! // Training your own is one call:
//! let data = vec![
//!     Example::new("marketing", "全场5折 点击领取优惠券"),
//!     Example::new("personal", "晚上一起吃饭吗"),
//! ];
//! let tiny = train(&data, &TrainConfig { bits: 16, ..TrainConfig::default() })?;
//! println!("{}", eval(&tiny, &data));
//! # Ok::<(), classify::Error>(())
//! ```

pub mod bench;
pub mod calibrate;
pub mod cascade;
pub mod clauses;
pub mod cli;
pub mod datasets;
mod error;
pub mod eval;
pub mod features;
#[cfg(test)]
mod golden;
pub mod io;
pub mod judgement;
mod links;
pub mod model;
pub mod normalise;
pub mod quality;
pub mod reading;
pub mod recipe;
pub mod store;
pub mod svm;
pub mod synth;
pub mod tfidf;
pub mod train;
pub mod triage;
pub mod versus;

pub use bench::{BenchReport, bench};
pub use error::Error;
pub use eval::{EvalReport, Prf, eval};
pub use io::{LabelMap, ReadStats, read_tsv, read_tsv_file};
pub use model::{Model, Scores};
pub use reading::{ReadConfig, Reading, UNCERTAIN};
pub use recipe::Recipe;
pub use train::{Example, TrainConfig, train};
pub use triage::{Kept, Triage, triage};

/// The five categories of the default model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Category {
    /// One-time codes for login, payment, sign-up.
    Verification,
    /// Notices about something the recipient did or owns: orders, deliveries, bills,
    /// bank movements, appointments.
    Transactional,
    /// Person-to-person messages.
    Personal,
    /// Promotion: needs marketing consent, however it is dressed.
    Marketing,
    /// Phishing, scams and illegal offers: never to be delivered.
    Fraud,
}

impl Category {
    /// All categories.
    pub const ALL: [Category; 5] = [
        Category::Verification,
        Category::Transactional,
        Category::Personal,
        Category::Marketing,
        Category::Fraud,
    ];

    /// The label used in models and data files.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Verification => "verification",
            Category::Transactional => "transactional",
            Category::Personal => "personal",
            Category::Marketing => "marketing",
            Category::Fraud => "fraud",
        }
    }

    /// Marketing and fraud: what a person may have set aside.
    #[must_use]
    pub fn is_unwanted(self) -> bool {
        matches!(self, Category::Marketing | Category::Fraud)
    }
}

impl std::fmt::Display for Category {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Category {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Category::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| format!("unknown category {s:?}"))
    }
}
