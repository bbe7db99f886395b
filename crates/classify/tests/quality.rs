//! Quality of the classifier on the public data sets and our corpus.
//!
//! The data in `../shared/data` is not part of the repository: without it these tests print
//! why they skip and pass. The quick test trains on a slice so it stays well under a minute
//! in a debug build; the full protocol is `#[ignore]`d here and run in release by
//! `cargo test -p classify --release -- --ignored` or the `quality` example.

use classify::datasets::shared_data_dir;
use classify::quality::{QualityConfig, QualityReport, run};
use classify::{Category, Model, TrainConfig};

fn data_or_skip(test: &str) -> Option<std::path::PathBuf> {
    let dir = shared_data_dir();
    if dir.is_none() {
        println!(
            "SKIPPED {test}: shared data not found (../shared/data/sms or $CONSENTRY_DATA_DIR)"
        );
    }
    dir
}

fn check(report: &QualityReport, floors: [f64; 4], disguised: f64) {
    use classify::datasets::Source;
    println!("{report}");
    let [uci, zh, fbs, groups] = floors;
    assert!(
        report.within_f1(Source::Uci) >= uci,
        "UCI unwanted F1 below {uci}"
    );
    assert!(
        report.within_f1(Source::ZhSpam) >= zh,
        "zh unwanted F1 below {zh}"
    );
    assert!(
        report.within_f1(Source::Fbs) >= fbs,
        "fbs unwanted F1 below {fbs}"
    );
    assert!(
        report.fbs_groups.macro_f1() >= groups,
        "fbs 3-group macro-F1 below {groups}"
    );
    assert_eq!(
        report.notices_as_marketing, 0,
        "a held-out notice was classified as marketing"
    );
    assert!(
        report.disguised_recall() >= disguised,
        "disguised marketing recall below {disguised}"
    );
}

#[test]
fn training_on_a_slice_learns_every_source() {
    let Some(dir) = data_or_skip("training_on_a_slice_learns_every_source") else {
        return;
    };
    let cfg = QualityConfig {
        train: TrainConfig {
            bits: 18,
            epochs: 4,
            ..TrainConfig::default()
        },
        subsample: 6,
        cross_source: false,
        ..QualityConfig::default()
    };
    let report = run(&dir, &cfg).expect("quality run");
    // Floors for a sixth of the data and half the epochs; the full figures are higher.
    check(&report, [0.75, 0.90, 0.95, 0.90], 0.75);
}

#[test]
#[ignore = "full protocol: about 10 s in release, minutes in debug"]
fn full_protocol_meets_documented_floors() {
    let Some(dir) = data_or_skip("full_protocol_meets_documented_floors") else {
        return;
    };
    let report = run(&dir, &QualityConfig::default()).expect("quality run");
    check(&report, [0.92, 0.97, 0.98, 0.97], 0.90);
    for (source, prf) in &report.cross {
        println!("cross-source {}: F1 {:.4}", source.name(), prf.f1);
    }
}

/// Runs in every clone: the committed model on our own corpus's held-out rows.
#[test]
fn default_model_never_calls_held_out_notices_marketing() {
    let model = Model::default_model().expect("embedded model");
    let parts = classify::quality::corpus_parts().expect("corpus");
    let (test, disguised) = (parts.test, parts.disguised);
    assert!(test.len() > 50, "corpus held-out part unexpectedly small");
    let mut caught = 0;
    let bar = classify::ReadConfig::default().min_confidence;
    for e in &test {
        if e.label != "verification" && e.label != "transactional" {
            continue;
        }
        // What consent decisions use: the reading never calls a notice marketing or fraud.
        let read = model.read(&e.text);
        assert!(
            !matches!(read.category, "marketing" | "fraud"),
            "notice read as {}: {} {read:?}",
            read.category,
            e.text
        );
        // The whole text's arg-max may only lean to marketing where the reading would call
        // it `uncertain` anyway (the cascade's second stage puts two held-out notices there,
        // at p(marketing) 0.09 and 0.21, where v2's arg-max was `transactional` at 0.06 and
        // 0.39).
        let got = model.classify(&e.text);
        let p = got
            .scores
            .iter()
            .find(|(l, _)| *l == "marketing")
            .map_or(0.0, |s| s.1);
        assert!(
            !(got.category == "marketing" && p >= bar),
            "notice classified marketing at {p}: {}",
            e.text
        );
        if got.category == "marketing" {
            println!(
                "notice's arg-max is marketing at {p:.3} (reading uncertain): {}",
                e.text
            );
        }
    }
    for e in &disguised {
        if model
            .classify(&e.text)
            .category
            .parse::<Category>()
            .is_ok_and(Category::is_unwanted)
        {
            caught += 1;
        } else {
            println!("missed disguised marketing: {}", e.text);
        }
    }
    println!("disguised marketing caught {caught}/{}", disguised.len());
    assert!(
        caught * 10 >= disguised.len() * 9,
        "fewer than 90% of disguised marketing caught"
    );
}
