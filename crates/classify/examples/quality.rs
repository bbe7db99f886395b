//! The v1 quality protocol (`classify::quality`, before issue #11; `consentry bench quality`
//! is the current one) in release mode. It says whether its combined model is the first
//! pass of the compiled-in model (it no longer is: the default recipe adds generated rows).
//!
//! `cargo run -p classify --release --example quality -- [--no-cross] [--subsample N]`
//! `[--validation]` scores on the validation part instead (for tuning).
//! `[--calibration]` also prints the reliability of p(marketing) + p(fraud) in ten bins.

use classify::datasets::{Source, load, shared_data_dir, split};
use classify::quality::{QualityConfig, run};
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(dir) = shared_data_dir() else {
        eprintln!(
            "shared data not found (../shared/data/sms or $CONSENTRY_DATA_DIR): nothing to do"
        );
        return Ok(());
    };
    let mut cfg = QualityConfig {
        cross_source: !args.iter().any(|a| a == "--no-cross"),
        validation: args.iter().any(|a| a == "--validation"),
        ..QualityConfig::default()
    };
    if let Some(i) = args.iter().position(|a| a == "--subsample") {
        cfg.subsample = args.get(i + 1).and_then(|s| s.parse().ok()).unwrap_or(1);
    }
    for (flag, slot) in [
        ("--l1", &mut cfg.train.l1),
        ("--l2", &mut cfg.train.l2),
        ("--alpha", &mut cfg.train.alpha),
        ("--balance", &mut cfg.train.balance),
        ("--corpus-weight", &mut cfg.corpus_weight),
        ("--source-balance", &mut cfg.source_balance),
    ] {
        if let Some(i) = args.iter().position(|a| a == flag) {
            *slot = args
                .get(i + 1)
                .and_then(|s| s.parse().ok())
                .unwrap_or(*slot);
        }
    }
    if let Some(i) = args.iter().position(|a| a == "--epochs") {
        cfg.train.epochs = args
            .get(i + 1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(cfg.train.epochs);
    }
    if let Some(i) = args.iter().position(|a| a == "--bits") {
        cfg.train.bits = args
            .get(i + 1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(cfg.train.bits);
    }
    eprintln!("{:?} corpus_weight {}", cfg.train, cfg.corpus_weight);
    let t = Instant::now();
    let report = run(&dir, &cfg)?;
    println!("{report}");
    println!(
        "non-zero buckets {} of 2^{}",
        report.model.non_zero_buckets(),
        report.model.bits()
    );
    println!("model bytes {}", report.model.to_bytes().len());
    eprintln!("quality run took {:.1} s", t.elapsed().as_secs_f64());
    if args.iter().any(|a| a == "--calibration") {
        // Reliability of p(unwanted) = min(1, p(marketing) + p(fraud)) on the held-out parts.
        let mut bins = [(0u64, 0u64); 10];
        for s in [Source::Uci, Source::ZhSpam, Source::Fbs] {
            let (_, test) = split(load(&dir, s)?);
            let test = if cfg.validation {
                classify::datasets::split_validation(load(&dir, s)?).1
            } else {
                test
            };
            for e in &test {
                let sc = report.model.classify(&e.text);
                let p = (sc.score("marketing").unwrap_or(0.0) + sc.score("fraud").unwrap_or(0.0))
                    .min(1.0);
                #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                let b = ((p * 10.0) as usize).min(9);
                bins[b].0 += 1;
                bins[b].1 += u64::from(e.label == "marketing" || e.label == "fraud");
            }
        }
        println!("== calibration of p(marketing)+p(fraud) on the held-out parts");
        for (i, (n, u)) in bins.iter().enumerate() {
            #[allow(clippy::cast_precision_loss)]
            let share = if *n == 0 { 0.0 } else { *u as f64 / *n as f64 };
            println!(
                "{:.1}-{:.1}: {n:>6} messages, {:.1}% unwanted",
                i as f64 / 10.0,
                (i + 1) as f64 / 10.0,
                100.0 * share
            );
        }
    }
    // The default model is built by `consentry train --recipe models/classify-cascade.toml`;
    // compare this run's combined model with its first pass.
    let committed = classify::Model::default_model()?.first_pass();
    let same = committed.to_bytes() == report.model.to_bytes();
    println!(
        "combined model {} the compiled-in model's first pass",
        if same {
            "is bit-identical to"
        } else {
            "differs from"
        }
    );
    Ok(())
}
