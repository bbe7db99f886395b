//! The content classifier on the send path: `[classify]` settings, the model the gateway owns,
//! and the one call per submission that reads the text.
//!
//! The policy is pure, so the gateway classifies — once per submission, since the text is the
//! same for every recipient — and hands the two probabilities the rules need to
//! [`policy::Policy::prepare_checked`]. The full score vector is stored beside each decision
//! (`messages.content_scores`), so "why was my notice treated as marketing?" has an answer.

use std::path::Path;

use domain::Category;
use policy::{ContentCheck, Prepared, SenderFacts};
use serde::{Deserialize, Serialize};

use crate::Gateway;

/// `[classify]`: the content classifier on the send path.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ClassifyConfig {
    /// Whether submissions are classified at all.
    pub enabled: bool,
    /// Model file; empty means the model compiled into the binary (`models/classify-cascade.bin`).
    pub model: String,
    /// Declared transactional/verification with p(marketing) at or above this is decided as
    /// marketing (`reclassified_marketing`).
    pub marketing_threshold: f32,
    /// Any message with p(fraud) at or above this is rejected (`fraud_suspected`).
    pub fraud_threshold: f32,
}

impl Default for ClassifyConfig {
    fn default() -> Self {
        ClassifyConfig {
            enabled: true,
            model: String::new(),
            marketing_threshold: 0.8,
            fraud_threshold: 0.95,
        }
    }
}

/// A loaded model with the thresholds to apply.
#[derive(Debug, Clone)]
pub struct ContentClassifier {
    model: std::sync::Arc<classify::Model>,
    marketing_threshold: f32,
    fraud_threshold: f32,
}

impl ContentClassifier {
    /// The classifier `config` describes, or `None` when it is disabled.
    ///
    /// # Errors
    /// The model file cannot be read or is corrupt (the error names the file), or a threshold
    /// lies outside 0..=1.
    pub fn from_config(config: &ClassifyConfig) -> Result<Option<Self>, classify::Error> {
        if !config.enabled {
            return Ok(None);
        }
        for (name, t) in [
            ("marketing_threshold", config.marketing_threshold),
            ("fraud_threshold", config.fraud_threshold),
        ] {
            if !(0.0..=1.0).contains(&t) {
                return Err(classify::Error::Config(format!(
                    "[classify] {name} must be within 0..=1, not {t}"
                )));
            }
        }
        let model = if config.model.trim().is_empty() {
            classify::Model::shared_default()?
        } else {
            std::sync::Arc::new(classify::Model::load(Path::new(config.model.trim()))?)
        };
        Ok(Some(Self {
            model,
            marketing_threshold: config.marketing_threshold,
            fraud_threshold: config.fraud_threshold,
        }))
    }

    /// A classifier over `model`.
    #[must_use]
    pub fn new(model: classify::Model, marketing_threshold: f32, fraud_threshold: f32) -> Self {
        Self {
            model: std::sync::Arc::new(model),
            marketing_threshold,
            fraud_threshold,
        }
    }

    /// Reads `text` ([`classify::Model::read_explained`]: the whole text, then its clauses): the two
    /// probabilities the policy needs, the clause that sells (quoted in the
    /// `reclassified_marketing` detail), the thresholds, and the whole reading
    /// `{category, scores: {label: p}, clause}` as stored with each decision.
    #[must_use]
    pub fn read(&self, text: &str) -> ContentCheck {
        let r = self.model.read_explained(text);
        let mut scores = serde_json::Map::new();
        for (label, p) in &r.scores {
            let rounded = (f64::from(*p) * 1000.0).round() / 1000.0;
            scores.insert((*label).to_owned(), serde_json::json!(rounded));
        }
        let clause = r.clause_text(text);
        let mut json = serde_json::json!({ "category": r.category, "scores": scores });
        if let Some(c) = clause {
            json["clause"] = serde_json::json!(c);
        }
        ContentCheck {
            marketing: r.score(Category::Marketing.as_str()).unwrap_or(0.0),
            fraud: r.score("fraud").unwrap_or(0.0),
            marketing_threshold: self.marketing_threshold,
            fraud_threshold: self.fraud_threshold,
            clause: clause.map(Into::into),
            record: Some(json.to_string().into()),
        }
    }
}

impl Gateway {
    /// Puts `classifier` on the send path (once; later calls are ignored and return `false`).
    /// Without one, submissions are decided on their declared category alone.
    pub fn set_classifier(&self, classifier: ContentClassifier) -> bool {
        self.classifier.set(classifier).is_ok()
    }

    /// The text-level part of a decision: the text classified once, then
    /// [`policy::Policy::prepare_checked`]; every decision of it carries the scores.
    pub(crate) fn prepare(
        &self,
        text: &str,
        category: Category,
        sender: &SenderFacts<'_>,
    ) -> Prepared {
        let check = self.classifier.get().map(|c| c.read(text));
        self.policy
            .prepare_checked(text, category, sender, check.as_ref())
    }
}
