//! What the content classifier read in the text: marketing dressed as a notice is treated as
//! marketing, and fraud is refused.
//!
//! The policy stays pure: the gateway runs the classifier once per submission (the text is
//! the same for every recipient) and passes the two probabilities in with the thresholds of
//! `[classify]`, as a [`ContentCheck`], to [`crate::Policy::prepare_checked`].
//!
//! - Declared `transactional` or `verification` with p(marketing) ≥ `marketing_threshold`:
//!   the message is decided **as marketing** (consent, caps, quiet hours, signature and
//!   refusal-instruction rules) and carries `reclassified_marketing`. That reason is
//!   informational (see [`crate::ReasonCode::is_informational`]): it explains why marketing
//!   rules applied, and never rejects on its own — a shop that has the recipient's consent
//!   and follows the marketing rules may send its advert, whatever it called it.
//! - Any declared category with p(fraud) ≥ `fraud_threshold`: `fraud_suspected`, which
//!   rejects.

use std::sync::Arc;

use domain::Category;

use crate::{Reason, ReasonCode};

/// The classifier's reading of one text and the thresholds to apply to it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ContentCheck {
    /// p(marketing), the classifier's one-vs-rest probability.
    pub marketing: f32,
    /// p(fraud).
    pub fraud: f32,
    /// At or above it, declared transactional/verification is decided as marketing.
    pub marketing_threshold: f32,
    /// At or above it, the message is refused as fraud.
    pub fraud_threshold: f32,
    /// The clause that sells, when the message has several and one of them decided the
    /// reading (quoted in the `reclassified_marketing` detail).
    pub clause: Option<Arc<str>>,
    /// The classifier's whole reading as the gateway stores it (JSON `{category, scores}`).
    /// The rules do not read it; it is handed on to every [`crate::Decision`] of the text.
    pub record: Option<Arc<str>>,
}

/// Adds the classifier's reasons and returns the category the rules apply.
pub fn check(declared: Category, check: &ContentCheck, out: &mut Vec<Reason>) -> Category {
    let mut category = declared;
    if declared != Category::Marketing && check.marketing >= check.marketing_threshold {
        let clause = check
            .clause
            .as_deref()
            .map(|c| format!("; the clause that sells: «{c}»"))
            .unwrap_or_default();
        out.push(Reason::new(
            ReasonCode::ReclassifiedMarketing,
            format!(
                "declared {}, but the text reads as marketing (p = {:.2} ≥ {:.2}): marketing \
                 rules apply{clause}",
                declared.as_str(),
                check.marketing,
                check.marketing_threshold
            ),
        ));
        category = Category::Marketing;
    }
    if check.fraud >= check.fraud_threshold {
        out.push(Reason::new(
            ReasonCode::FraudSuspected,
            format!(
                "the text reads as fraud or an illegal offer (p = {:.2} ≥ {:.2})",
                check.fraud, check.fraud_threshold
            ),
        ));
    }
    category
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scores(marketing: f32, fraud: f32) -> ContentCheck {
        ContentCheck {
            marketing,
            fraud,
            marketing_threshold: 0.8,
            fraud_threshold: 0.9,
            clause: None,
            record: None,
        }
    }

    #[test]
    fn a_notice_that_reads_as_marketing_becomes_marketing() {
        let mut out = Vec::new();
        let c = check(Category::Verification, &scores(0.95, 0.01), &mut out);
        assert_eq!(c, Category::Marketing);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].code, ReasonCode::ReclassifiedMarketing);
    }

    #[test]
    fn the_detail_quotes_the_clause_that_sells() {
        let mut out = Vec::new();
        let mut c = scores(0.95, 0.01);
        c.clause = Some("另外双11全场5折".into());
        check(Category::Transactional, &c, &mut out);
        assert!(
            out[0].detail.contains("«另外双11全场5折»"),
            "{}",
            out[0].detail
        );
    }

    #[test]
    fn below_the_threshold_the_declared_category_stands() {
        let mut out = Vec::new();
        let c = check(Category::Transactional, &scores(0.79, 0.89), &mut out);
        assert_eq!(c, Category::Transactional);
        assert!(out.is_empty());
    }

    #[test]
    fn declared_marketing_is_not_reclassified_but_fraud_is_refused_whatever_declared() {
        let mut out = Vec::new();
        let c = check(Category::Marketing, &scores(0.99, 0.95), &mut out);
        assert_eq!(c, Category::Marketing);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].code, ReasonCode::FraudSuspected);
    }
}
