//! The labelled reply corpus (`tests/corpus.tsv`) and precision/recall over it.
//!
//! The corpus is data so that adding a case is writing a line. Format, one case per line:
//! `intent<TAB>text[<TAB>flags]`, where intent is `opt_out`, `opt_in`, `help` or `other` and
//! flags is a comma-separated list of `all` (platform-wide opt-out) and `report` (complaint).
//! Blank lines and lines starting with `#` are ignored. Texts are written for this project,
//! never taken from public data sets.

use crate::{Intent, IntentParser};

/// The corpus, embedded so benchmarks and tools can use it without the source tree.
pub const CORPUS_TSV: &str = include_str!("../tests/corpus.tsv");

/// One labelled reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Case<'a> {
    /// 1-based line number in the TSV, for error messages.
    pub line: usize,
    /// The expected intent.
    pub intent: Intent,
    /// The reply as a consumer would send it.
    pub text: &'a str,
    /// Expected [`crate::Reading::all_senders`].
    pub all_senders: bool,
    /// Expected [`crate::Reading::report`].
    pub report: bool,
}

/// A corpus line that does not follow the format.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("corpus line {line}: {problem}")]
pub struct CorpusError {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong with it.
    pub problem: String,
}

/// Parses corpus text (see the module docs for the format).
///
/// # Errors
/// [`CorpusError`] for the first malformed line.
pub fn parse(tsv: &str) -> Result<Vec<Case<'_>>, CorpusError> {
    let mut cases = Vec::new();
    for (i, raw) in tsv.lines().enumerate() {
        let line = i + 1;
        if raw.trim().is_empty() || raw.starts_with('#') {
            continue;
        }
        let err = |problem: String| CorpusError { line, problem };
        let mut cols = raw.split('\t');
        let label = cols.next().unwrap_or_default();
        let intent =
            Intent::from_name(label).ok_or_else(|| err(format!("unknown intent {label:?}")))?;
        let text = cols
            .next()
            .ok_or_else(|| err("missing text column".into()))?;
        let (mut all_senders, mut report) = (false, false);
        for flag in cols
            .next()
            .unwrap_or_default()
            .split(',')
            .filter(|f| !f.is_empty())
        {
            match flag.trim() {
                "all" => all_senders = true,
                "report" => report = true,
                other => return Err(err(format!("unknown flag {other:?}"))),
            }
        }
        if cols.next().is_some() {
            return Err(err("more than three columns".into()));
        }
        cases.push(Case {
            line,
            intent,
            text,
            all_senders,
            report,
        });
    }
    Ok(cases)
}

/// Precision and recall for one intent.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Score {
    /// The intent scored.
    pub intent: Intent,
    /// Cases labelled with it.
    pub support: usize,
    /// Labelled with it and read as it.
    pub true_positives: usize,
    /// Read as it, labelled otherwise.
    pub false_positives: usize,
    /// Of the replies read as this intent, the share labelled so (1.0 when none was read so).
    pub precision: f64,
    /// Of the replies labelled with this intent, the share read so (1.0 when none is labelled).
    pub recall: f64,
}

/// Scores `parser` on `cases`, one [`Score`] per intent in [`Intent::ALL`] order.
#[must_use]
pub fn score(parser: &IntentParser, cases: &[Case<'_>]) -> Vec<Score> {
    Intent::ALL
        .into_iter()
        .map(|intent| {
            let (mut tp, mut fp, mut support) = (0usize, 0usize, 0usize);
            for case in cases {
                let got = parser.intent(case.text);
                support += usize::from(case.intent == intent);
                match (case.intent == intent, got == intent) {
                    (true, true) => tp += 1,
                    (false, true) => fp += 1,
                    _ => {}
                }
            }
            let ratio = |num: usize, den: usize| {
                if den == 0 {
                    1.0
                } else {
                    num as f64 / den as f64
                }
            };
            Score {
                intent,
                support,
                true_positives: tp,
                false_positives: fp,
                precision: ratio(tp, tp + fp),
                recall: ratio(tp, support),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format() {
        let cases = parse("# comment\n\nopt_out\tT\nopt_out\t全部退订\tall,report\n");
        let Ok(cases) = cases else {
            panic!("valid corpus: {cases:?}")
        };
        assert_eq!(cases.len(), 2);
        assert_eq!(
            (cases[1].line, cases[1].all_senders, cases[1].report),
            (4, true, true)
        );
        assert!(parse("stop\tSTOP\n").is_err());
        assert!(parse("opt_out\n").is_err());
        assert!(parse("opt_out\tT\tboth\n").is_err());
    }

    #[test]
    fn embedded_corpus_parses() {
        let cases = parse(CORPUS_TSV);
        assert!(cases.is_ok_and(|c| c.len() >= 300));
    }
}
