//! The labelled corpus (`tests/corpus.tsv`) run through the shipped rules.
//!
//! Adding a case is adding a line to the TSV; these tests need no change.

use replies::corpus::{CORPUS_TSV, parse, score};
use replies::{Intent, IntentParser};

/// Every row must be read exactly as labelled, flags included. All failures are listed at
/// once so a rule change shows its whole effect.
#[test]
fn every_corpus_row_reads_as_labelled() {
    let parser = IntentParser::default();
    let cases = match parse(CORPUS_TSV) {
        Ok(cases) => cases,
        Err(e) => panic!("{e}"),
    };
    let mut failures = Vec::new();
    for case in &cases {
        let got = parser.parse(case.text);
        if got.intent != case.intent
            || got.all_senders != case.all_senders
            || got.report != case.report
        {
            failures.push(format!(
                "line {}: {:?} expected {} all={} report={}, got {} all={} report={} by {:?}",
                case.line,
                case.text,
                case.intent,
                case.all_senders,
                case.report,
                got.intent,
                got.all_senders,
                got.report,
                got.matched
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} rows fail:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

/// Prints precision and recall per intent (`cargo test -p replies --test corpus -- --nocapture`)
/// and holds them to a floor, so a drift shows even if a row is relabelled.
#[test]
fn precision_and_recall_per_intent() {
    let parser = IntentParser::default();
    let cases = parse(CORPUS_TSV).unwrap_or_default();
    assert!(cases.len() >= 300, "corpus has {} rows", cases.len());
    println!(
        "{:<8} {:>7} {:>9} {:>7}",
        "intent", "support", "precision", "recall"
    );
    for s in score(&parser, &cases) {
        println!(
            "{:<8} {:>7} {:>9.3} {:>7.3}",
            s.intent.as_str(),
            s.support,
            s.precision,
            s.recall
        );
        assert!(s.support > 0, "no {} cases", s.intent);
        if s.intent == Intent::OptOut {
            assert!(s.precision >= 0.99 && s.recall >= 0.99, "{s:?}");
        } else {
            assert!(s.precision >= 0.95 && s.recall >= 0.95, "{s:?}");
        }
    }
}

/// Each decision names its rule; `other` names none.
#[test]
fn every_decision_is_explained() {
    let parser = IntentParser::default();
    for case in parse(CORPUS_TSV).unwrap_or_default() {
        let reading = parser.parse(case.text);
        assert_eq!(
            reading.matched.is_some(),
            reading.intent != Intent::Other,
            "{:?}",
            case.text
        );
    }
}
